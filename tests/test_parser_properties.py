"""Property-based tests of every parser of what a person types or a file brings (issue 12;
hypothesis, derandomized on CI by the "ci" profile of conftest.py; the settings document has
its own, tests/test_settings_properties.py): the import file, SSH public keys, PEM
certificates and private keys, pins, TIP observables, KUMA command definitions and their
placeholders, host/port/URL fields and every field of every integration, tenant names and
timeouts.

The properties: a parser returns a value or raises ValidationError / XdrconfError with a
message that names the field (never another exception, never a traceback); what it returns
parses again to itself (round trips, where a canonical form exists); a secret's error never
quotes the secret; an import that fails changes nothing."""

from __future__ import annotations

import base64
import copy
import json
import unicodedata
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xdrconf.core import catalog, exchange
from xdrconf.core.appsettings import parse_timeout
from xdrconf.core.errors import ValidationError, XdrconfError
from xdrconf.core.fields import (
    format_fingerprint,
    normalise_fingerprint,
    parse_ca_pem,
    parse_host,
    parse_port,
    parse_ports,
    parse_url,
    split_host_port,
)
from xdrconf.core.integrations.custom.keys import parse_private_key_field, parse_public_key
from xdrconf.core.integrations.kuma.commands import parse_command, placeholder_key
from xdrconf.core.integrations.tip.observables import parse_observable
from xdrconf.core.tenants import validate_name

# Text as people and files bring it: any code point (surrogates excluded: not UTF-8), with
# the characters that parsers care about made likely.
SPECIAL = st.sampled_from(
    [
        *":/[]@.%?#\\-_ \t\n\r\x00\x1b\x7f\x85\u200b\u202e\u2066\ufeff\u3164\u00b2\u2460\u0663\u096d",
        *("..", "%2e", "%2F", "0", "65535", "65536", "::", "https://", "ssh-ed25519 ", "-----BEGIN "),
    ]
)
TEXT = st.lists(st.one_of(st.characters(exclude_categories=["Cs"]), SPECIAL), max_size=40).map("".join)


def mutated(base: str) -> st.SearchStrategy[str]:
    """A valid text with a piece cut out, inserted or replaced, or cut short."""
    pos = st.integers(0, len(base))
    return st.one_of(
        st.just(base),
        st.tuples(pos, pos, TEXT).map(lambda t: base[: min(t[0], t[1])] + t[2] + base[max(t[0], t[1]) :]),
        pos.map(lambda i: base[:i]),
        st.tuples(pos, TEXT).map(lambda t: base[: t[0]] + t[1] + base[t[0] :]),
    )


def names_the_field(exc: XdrconfError, label: str) -> None:
    text = str(exc)
    assert text and "Traceback" not in text
    if isinstance(exc, ValidationError):
        assert str(exc.label) == str(label) or str(label) in str(exc.label), (exc.label, label)
        assert text.startswith(f"{exc.label}: ")


# ---- host, port, URL ----------------------------------------------------------------------------------
HOSTS = st.one_of(
    st.sampled_from(["kuma.example.invalid", "127.0.0.1", "::1", "[::1]", "localhost", "a-b.c0.invalid"]),
    TEXT,
)


@given(TEXT)
def test_port(text):
    try:
        port = parse_port(text)
    except ValidationError as exc:
        names_the_field(exc, "Port")
        return
    assert isinstance(port, int) and 1 <= port <= 65535
    assert text.strip().isascii() and parse_port(str(port)) == port


@given(TEXT)
def test_ports(text):
    try:
        ports = parse_ports(text)
    except ValidationError as exc:
        names_the_field(exc, "Ports")
        return
    assert ports and len(set(ports)) == len(ports)
    assert parse_ports(",".join(map(str, ports))) == ports


@given(st.one_of(HOSTS, st.tuples(HOSTS, TEXT).map(lambda t: f"{t[0]}:{t[1]}")))
def test_host_and_host_port(text):
    try:
        host = parse_host(text)
    except ValidationError as exc:
        names_the_field(exc, "Host")
    else:
        assert host == parse_host(host)  # canonical
        assert host.isascii() and not any(c in host for c in "/ ?#@")
    try:
        host, port, _url = split_host_port(text)
    except ValidationError as exc:
        names_the_field(exc, "Host")
    else:
        assert port is None or 1 <= port <= 65535


@given(st.one_of(TEXT, st.tuples(HOSTS, TEXT).map(lambda t: f"https://{t[0]}{t[1]}")))
def test_url(text):
    try:
        url = parse_url(text)
    except ValidationError as exc:
        names_the_field(exc, "URL")
        return
    assert url.lower().startswith("https://") and parse_url(url) == url


@given(st.one_of(TEXT, st.floats(allow_nan=True), st.integers(), st.booleans(), st.none()))
def test_timeout(value):
    try:
        seconds = parse_timeout(value)
    except ValidationError as exc:
        names_the_field(exc, "timeout")
        return
    assert 0 < seconds <= 600


# ---- every field of every integration ------------------------------------------------------------------
FIELDS = [(spec.kind, f) for spec in catalog.all_specs() if spec.supported for f in spec.fields]


@pytest.mark.parametrize(("kind", "f"), FIELDS, ids=[f"{k}.{f.name}" for k, f in FIELDS])
@settings(max_examples=60)
@given(text=TEXT)
def test_every_field(kind, f, text):
    try:
        value = f.parse(text)
    except ValidationError as exc:
        names_the_field(exc, f.label)
        if f.secret and len(text.strip()) >= 4:
            assert text.strip() not in str(exc)  # a secret is never quoted back
        return
    if value is None:
        return
    if f.secret:
        if f.header:
            assert value.isascii() and value.isprintable()
        assert "\x00" not in value
        return
    assert f.parse(f.format(value)) == value  # what is stored reads back as itself


# ---- pins -----------------------------------------------------------------------------------------------
@given(st.one_of(TEXT, st.binary(min_size=32, max_size=32).map(lambda b: format_fingerprint(b.hex()))))
def test_pin(text):
    try:
        pin = normalise_fingerprint(text)
    except ValidationError as exc:
        names_the_field(exc, "Pinned SHA-256 fingerprint")
        return
    assert len(pin) == 64 and normalise_fingerprint(format_fingerprint(pin)) == pin


# ---- SSH public keys, PEM certificates and private keys -----------------------------------------------
def _openssh_line(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


KEYS: dict[str, Any] = {
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
    "ecdsa": ec.generate_private_key(ec.SECP256R1()),
    "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
}
PUBLIC_LINES = [_openssh_line(k) for k in KEYS.values()]
PRIVATE_PEMS = [
    k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    for k in KEYS.values()
]


@given(st.one_of(*(mutated(line + " host@example.invalid") for line in PUBLIC_LINES), TEXT))
def test_ssh_public_key(text):
    try:
        info = parse_public_key(text, "Public key")
    except ValidationError as exc:
        names_the_field(exc, "Public key")
        return
    again = parse_public_key(info.line, "Public key")
    assert (again.key_type, again.blob, again.line) == (info.key_type, info.blob, info.line)
    assert info.fingerprint.startswith("SHA256:")


@settings(max_examples=100)
@given(st.one_of(*(mutated(pem) for pem in PRIVATE_PEMS)))
def test_ssh_private_key(text):
    try:
        value = parse_private_key_field(text, "Private key")
    except ValidationError as exc:
        names_the_field(exc, "Private key")
        assert "PRIVATE KEY-----\n" not in str(exc) and "\n" not in str(exc).strip()
        return
    assert parse_private_key_field(value, "Private key") == value


@pytest.fixture(scope="module")
def ca_pem(test_ca) -> str:
    return test_ca.cert_pem


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_pem_certificates(ca_pem, data):
    b64 = "".join(ca_pem.strip().splitlines()[1:-1])
    text = data.draw(
        st.one_of(
            mutated(ca_pem),
            mutated(ca_pem + ca_pem),
            st.integers(0, len(b64) - 1).map(
                lambda i: ca_pem.replace(b64[i], "A" if b64[i] != "A" else "B", 1)
            ),
            TEXT.map(lambda t: f"-----BEGIN CERTIFICATE-----\n{t}\n-----END CERTIFICATE-----\n"),
            mutated(PRIVATE_PEMS[0]),
        )
    )
    try:
        value = parse_ca_pem(text, "CA certificate")
    except ValidationError as exc:
        names_the_field(exc, "CA certificate")
        assert "PRIVATE" not in str(exc)[len("CA certificate: ") + 40 :]
        return
    assert value == "" or parse_ca_pem(value, "CA certificate") == value


# ---- TIP observables ----------------------------------------------------------------------------------
OBSERVABLES = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "good.example.invalid",
            "hxxps://bad[.]example[.]invalid/x?y=1",
            "8.8.8.8",
            "2001:4860:4860::8888",
            "d41d8cd98f00b204e9800998ecf8427e",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "https://example.invalid/path",
        ]
    ).flatmap(mutated),
)


@given(OBSERVABLES)
def test_tip_observable(text):
    try:
        obs = parse_observable(text)
    except ValidationError as exc:
        names_the_field(exc, exc.label)
        return
    assert obs.kind in ("domain", "url", "ipv4", "ipv6", "md5", "sha256")
    assert parse_observable(obs.value) == obs  # the canonical value is looked up as itself


# ---- KUMA command definitions -------------------------------------------------------------------------
PAIRS = st.lists(st.tuples(TEXT, TEXT), max_size=3)
COMMANDS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(TEXT, st.just("Get alert")),
        "method": st.one_of(st.sampled_from(["GET", "post", "PUT", "PATCH", "delete", "HEAD"]), TEXT),
        "path": st.one_of(
            st.sampled_from(["alerts/<Alert ID>", "api/v1/alerts/close", "alerts/<A><B>/x", "a/../b"]), TEXT
        ),
        "query": st.one_of(PAIRS, st.lists(TEXT, max_size=2), st.dictionaries(TEXT, TEXT, max_size=2), TEXT),
        "headers": st.one_of(PAIRS, st.dictionaries(TEXT, TEXT, max_size=2)),
        "body": st.one_of(TEXT, st.just('{"id": "<Alert ID>"}'), st.dictionaries(TEXT, TEXT, max_size=2)),
    },
)


@given(COMMANDS, st.dictionaries(TEXT, TEXT, max_size=3), st.lists(TEXT, max_size=3))
def test_kuma_command(data, params, values):
    try:
        cmd = parse_command(data)
    except ValidationError as exc:
        names_the_field(exc, exc.label)
        return
    assert parse_command(cmd.to_dict()) == cmd
    # Values for its own placeholders too, not only random names.
    params = {**params, **{p: v for p, v in zip(cmd.placeholders, values, strict=False)}}
    try:
        req = cmd.render(params)
    except ValidationError as exc:
        names_the_field(exc, "Parameter")
        return
    template = cmd.path.split("/")
    rendered = req.path.split("/")
    assert len(rendered) == len(template)  # a value never adds or removes a segment
    for segment in rendered:
        plain = segment
        for _round in range(8):
            from urllib.parse import unquote

            plain = unquote(plain)
        assert plain not in (".", "..")
        assert not any(c in segment for c in "?#")
    assert all(placeholder_key(p) in {placeholder_key(k) for k in params} for p in cmd.placeholders)


# ---- tenant names ----------------------------------------------------------------------------------------
@given(st.one_of(TEXT, st.text(alphabet=st.characters(categories=["Lo", "Mn", "Cf", "Zs"]), max_size=12)))
def test_tenant_name(text):
    try:
        name = validate_name(text)
    except ValidationError as exc:
        names_the_field(exc, "Tenant name")
        return
    assert validate_name(name) == name
    assert name == name.strip() and "/" not in name and len(name) <= 128
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in name)
    assert any(unicodedata.category(c)[0] in "LNPS" for c in name)


# ---- the import file -------------------------------------------------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@pytest.fixture(scope="module")
def export(tmp_path_factory, keyring_backend) -> dict[str, Any]:
    """An export of every integration, made by the product (no secret needed for it)."""
    from xdrconf.core.integrations.kata import connections as kata
    from xdrconf.core.integrations.kuma import commands as kuma_commands
    from xdrconf.core.workspace import IntegrationEdit, Workspace

    with Workspace.open(tmp_path_factory.mktemp("export") / "config", keyring_backend=keyring_backend) as ws:
        acme = ws.add_tenant("Acme")
        branch = ws.add_tenant("Branch فرع", acme.id)
        ws.update_integrations(
            acme.id,
            [
                IntegrationEdit(
                    "kuma",
                    values={"host": "127.0.0.1", "port": "9", "tls_pin_sha256": "ab" * 32},
                    structured={"commands": [c.to_dict() for c in kuma_commands.default_commands()]},
                ),
                IntegrationEdit("kasap", values={"url": "https://127.0.0.1:9/x", "rights_confirmed": "all"}),
            ],
        )
        ws.update_integration(ws.tree.root_id, IntegrationEdit("tip", values={"access": "premium"}))
        ws.update_integration(
            branch.id,
            IntegrationEdit("custom", values={"host": "::1", "ports": "9,10", "verify_host": "false"}),
        )
        conn, _key = kata.new_connection([], "127.0.0.1", 9, "p256")
        ws.update_integration(branch.id, IntegrationEdit("kata", structured={kata.CONNECTIONS: [conn]}))
        return exchange.export_document(ws)


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(data=st.data())
def test_import_file(export, ws, data):
    """A mutated export: imported, or refused with one XdrconfError and nothing changed."""
    doc = copy.deepcopy(export)
    for _round in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        where = data.draw(st.sampled_from(paths))
        doc = _set(doc, where, data.draw(JSON))
    before = json.dumps(ws.document(), sort_keys=True)
    try:
        needed = exchange.import_document(ws, doc)
    except XdrconfError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        assert json.dumps(ws.document(), sort_keys=True) == before
        return
    assert isinstance(needed, list)
    # What was imported exports again and imports again to the same settings.
    again = exchange.export_document(ws)
    exchange.import_document(ws, again)
    assert _settings_of(exchange.export_document(ws)) == _settings_of(again)


@settings(max_examples=100)
@given(st.one_of(TEXT, JSON.map(json.dumps), st.just("[" * 5000 + "]" * 5000), st.just('{"a": NaN}')))
def test_import_file_text(text):
    try:
        exchange.loads(text)
    except XdrconfError as exc:
        assert str(exc).startswith("Import file: ")


def test_export_import_round_trip(export, ws):
    exchange.import_document(ws, copy.deepcopy(export))
    assert _settings_of(exchange.export_document(ws)) == _settings_of(export)


def _settings_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {t["path"]: {k: v["settings"] for k, v in t["integrations"].items()} for t in doc["tenants"]}


def test_a_b64_key_blob_is_what_the_line_says():
    """The canonical line of a parsed key holds its blob (the round trip above relies on it)."""
    info = parse_public_key(PUBLIC_LINES[0], "Public key")
    assert base64.b64decode(info.line.split()[1]) == info.blob
