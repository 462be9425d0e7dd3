"""Nothing secret in what xdrconf prints or stores (issue 12): a secret that travels in an HTTP
header (the KUMA, TIP and KASAP tokens) is refused when it is entered if it holds a control
character or anything but plain ASCII, naming the field and never the value (--secret,
FIELD=@file, the wizard); a trailing newline from @file is dropped; a token with NUL stored
by an older version is refused by the check as invalid_config naming the field, without
sending it and without printing or storing it (httpx's "Illegal header value b'Bearer …'"
is never reached). Real peers, the real Secret Service."""

from __future__ import annotations

import json

import pytest

from support.echo import CANARY, leaks
from support.gui import paste_into
from support.https_peer import HttpsPeer
from support.kasap_peer import KasapApi
from support.kuma_peer import KumaApi
from support.tip_peer import TipPortal

HEADER_TOKENS = [("kuma", "API token"), ("tip", "API token"), ("kasap", "Token")]
BAD = [
    ("\x00", "U+0000"),  # NUL
    ("\x1b", "U+001B"),  # ESC: a terminal escape
    ("\r", "U+000D"),
    ("\x7f", "U+007F"),
    ("\x85", "U+0085"),  # a C1 control
    ("\u00e9", "U+00E9"),  # not ASCII: httpx cannot encode it into a header
]


def values_of(kind: str, port: int = 7223) -> list[str]:
    return {
        "kuma": ["host=127.0.0.1", f"port={port}"],
        "tip": [f"opentip_url=https://127.0.0.1:{port}"],
        "kasap": [f"url=https://127.0.0.1:{port}"],
    }[kind]


def tenant_of(kind: str) -> str:
    return "Root" if kind == "tip" else "Acme"


def no_leak(*texts: str) -> None:
    for text in texts:
        assert leaks(text) == [], text


@pytest.mark.parametrize(("kind", "label"), HEADER_TOKENS)
@pytest.mark.parametrize(("char", "code"), BAD)
def test_a_header_token_with_a_control_character_is_refused_at_entry(
    cli, config_dir, tmp_path, kind, label, char, code
):
    tenant = tenant_of(kind)
    if tenant != "Root":
        assert cli("tenant", "add", tenant).code == 0
    settings = config_dir / "settings.json"
    before = settings.read_bytes() if settings.exists() else None
    token = CANARY[:10] + char + CANARY[10:]
    secret_file = tmp_path / "token.txt"
    secret_file.write_text(token + "\n", encoding="utf-8")
    by_file = cli("integration", "set", tenant, kind, *values_of(kind), f"token=@{secret_file}")
    by_stdin = cli(
        "integration", "set", tenant, kind, *values_of(kind), "--secret", "token", stdin=token + "\n"
    )
    for r in (by_file, by_stdin):
        assert r.code == 2, r
        assert r.err.startswith(f"xdrconf: {label}: contains ") and code in r.err
        no_leak(r.out, r.err)
    assert (settings.read_bytes() if settings.exists() else None) == before
    no_leak(settings.read_text() if settings.exists() else "")


def test_a_trailing_newline_from_a_file_is_dropped(cli, ws_of, tmp_path):
    assert cli("tenant", "add", "Acme").code == 0
    for ending in ("\n", "\r\n"):
        path = tmp_path / "token.txt"
        path.write_bytes((CANARY + ending).encode())
        r = cli("integration", "set", "Acme", "kuma", "host=127.0.0.1", f"token=@{path}")
        assert r.code == 0, r
        with ws_of() as ws:
            assert ws.secret(ws.tenant("Acme"), "kuma", "token") == CANARY


def test_a_file_with_nul_is_refused_for_any_secret(cli, tmp_path):
    assert cli("tenant", "add", "Acme").code == 0
    path = tmp_path / "password.txt"
    path.write_bytes(b"pass\x00word\n")
    r = cli("integration", "set", "Acme", "custom", "host=127.0.0.1", f"password=@{path}")
    assert r.code == 2 and "Password: contains the NUL character" in r.err, r
    assert "pass" not in r.err


@pytest.fixture
def ws_of(config_dir, keyring_backend):
    from xdrconf.core.workspace import Workspace

    return lambda: Workspace.open(config_dir, keyring_backend=keyring_backend)


def store_as_an_older_version_did(ws, tenant: str, kind: str, value: str) -> None:
    """Put a token straight into the secret store and point the settings at it, as a version
    that checked nothing at entry did (the value never passes today's field parser)."""
    ref = ws.secrets.put(value, ws.secret_label(ws.tree.path(ws.tenant(tenant).id), kind, "token"))
    with ws.transaction():
        ws.tenant(tenant).integrations[kind].secrets["token"] = ref


@pytest.mark.parametrize(("kind", "label"), HEADER_TOKENS)
def test_a_stored_token_with_nul_is_refused_by_the_check_without_its_value(
    cli, ws_of, config_dir, server_cert, test_ca, tmp_path, kind, label, caplog
):
    api = {"kuma": KumaApi, "tip": TipPortal, "kasap": KasapApi}[kind](token=CANARY)
    tenant = tenant_of(kind)
    with HttpsPeer(api, cert=server_cert) as peer:
        ca = tmp_path / "ca.pem"
        ca.write_text(test_ca.cert_pem)
        if tenant != "Root":
            assert cli("tenant", "add", tenant).code == 0
        r = cli(
            "integration",
            "set",
            tenant,
            kind,
            *values_of(kind, peer.port),
            f"tls_ca=@{ca}",
            "--secret",
            "token",
            stdin=CANARY + "\n",
        )
        assert r.code == 0, r
        assert cli("integration", "enable", tenant, kind).code == 0
        with ws_of() as ws:
            store_as_an_older_version_did(ws, tenant, kind, CANARY + "\x00" + CANARY)
        check = cli("check", tenant, kind, "--json")
        text = cli("check", tenant, kind)
        [item] = json.loads(check.out)
        assert item["category"] == "invalid_config" and item["message"].startswith(f"{label}: contains")
        assert "U+0000" in item["message"] and "Illegal header" not in item["message"]
        assert peer.requests == []  # nothing was sent
        extra = []
        if kind == "tip":
            lookup = cli("tip", "lookup", tenant, "good.example.invalid", "--json")
            assert lookup.code == 2 and "API token: contains a control character (U+0000" in lookup.err
            extra = [lookup.out, lookup.err]
        no_leak(check.out, check.err, text.out, text.err, *extra, caplog.text)
        no_leak((config_dir / "settings.json").read_text())
        assert peer.requests == []


def test_the_wizard_refuses_a_header_token_with_a_control_character(window, qtbot, ws):
    from support.kuma_peer import configure

    tid = configure(ws, 7223, tenant="Acme", token="stored-token-value")
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    wizard = window.configure_integration()
    wizard.next()
    page = wizard.currentPage()
    token = page.editors["token"]
    token.replace_button.click()
    for value, code in (("tok\u00e9n-value", "U+00E9"), ("tok\tvalue-2", "U+0009")):
        paste_into(token.edit, value)
        reason = page.reasons["token"].text()
        assert "cannot be sent in an HTTP header" in reason and code in reason, reason
        assert "tok" not in reason
        assert not page.isComplete()
