"""A stored secret follows a new target only when the user says so (issue 12), through the
command line against real peers on two loopback addresses: the integration's peer on
127.0.0.1 and an attacker's on 127.0.0.2 (same port), both recording every request. A
change of host, port or URL that leaves a stored secret in place is refused (exit 2,
naming the old and new target and the secret; nothing saved) unless the secret is given
again or --keep-secrets says so; the 127.0.0.2 peer never receives the canary unasked.
The same for a child copied from its parent and re-pointed, an import, TIP and KASAP URLs,
TIP's access (which portal the token goes to), a KATA connection's host and the custom
integration's host."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from support.echo import CANARY
from support.https_peer import HttpsPeer, closed_port
from support.kasap_peer import KasapApi
from support.kata_peer import KataPeer
from support.kuma_peer import KumaApi
from support.tip_peer import TipPortal
from xdrconf.core.integrations.kata import connections as kata

OTHER = "127.0.0.2"


@pytest.fixture(scope="module")
def two_cert(test_ca):
    return test_ca.issue(("localhost", "127.0.0.1", OTHER))


def saw(peer: HttpsPeer, secret: str = CANARY) -> bool:
    """Whether any request that reached the peer carried the secret (in any header)."""
    return any(secret in value for r in peer.requests for value in r.headers.values())


class Pair:
    def __init__(self, home: HttpsPeer, other: HttpsPeer) -> None:
        self.home, self.other = home, other
        self.port = home.port


@pytest.fixture
def pair(two_cert) -> Iterator[Any]:
    """pair(api_home, api_other): HTTPS peers on 127.0.0.1:P and 127.0.0.2:P."""
    started: list[HttpsPeer] = []

    def make(home_api: Any, other_api: Any) -> Pair:
        home = HttpsPeer(home_api, cert=two_cert).__enter__()
        started.append(home)
        other = HttpsPeer(other_api, cert=two_cert, host=OTHER, port=home.port).__enter__()
        started.append(other)
        return Pair(home, other)

    yield make
    for peer in started:
        peer.stop()


def ca_file(tmp_path, test_ca) -> str:
    path = tmp_path / "ca.pem"
    path.write_text(test_ca.cert_pem)
    return str(path)


def set_up(cli, kind: str, tenant: str, values: dict[str, Any], tmp_path, test_ca, token: str = CANARY):
    if tenant != "Root":
        assert cli("tenant", "add", tenant).code == 0
    r = cli(
        "integration",
        "set",
        tenant,
        kind,
        *[f"{k}={v}" for k, v in values.items()],
        f"tls_ca=@{ca_file(tmp_path, test_ca)}",
        "--secret",
        "token",
        stdin=token + "\n",
    )
    assert r.code == 0, r
    assert cli("integration", "enable", tenant, kind).code == 0


def refused_unchanged(cli, config_dir, *args: str, stdin: str = ""):
    """Run a change that must be refused: exit 2, one message, the settings file untouched."""
    before = (config_dir / "settings.json").read_bytes()
    r = cli(*args, stdin=stdin)
    assert r.code == 2, r
    assert (config_dir / "settings.json").read_bytes() == before
    assert "Nothing was saved" in r.err and CANARY not in r.err + r.out
    return r


# ---- KUMA ------------------------------------------------------------------------------------------
@pytest.fixture
def kuma_pair(pair, cli, tmp_path, test_ca):
    p = pair(KumaApi(token=CANARY), KumaApi(token=CANARY))
    set_up(cli, "kuma", "Acme", {"host": "127.0.0.1", "port": p.port}, tmp_path, test_ca)
    return p


def test_kuma_host_change_is_refused_unless_kept_explicitly(cli, kuma_pair, config_dir):
    p = kuma_pair
    r = refused_unchanged(cli, config_dir, "integration", "set", "Acme", "kuma", f"host={OTHER}")
    assert f"from 127.0.0.1:{p.port} to {OTHER}:{p.port}" in r.err
    assert "API token" in r.err and "--secret token" in r.err and "--keep-secrets" in r.err
    check = cli("check", "Acme", "kuma", "--json")
    assert check.code == 0 and json.loads(check.out)[0]["target"] == f"127.0.0.1:{p.port}"
    assert saw(p.home) and p.other.requests == []  # the token went where it was given for only

    # A port change is a new target as well; the API version is not.
    refused_unchanged(cli, config_dir, "integration", "set", "Acme", "kuma", f"port={closed_port()}")
    assert cli("integration", "set", "Acme", "kuma", "api_version=v2").code == 0

    kept = cli("integration", "set", "Acme", "kuma", f"host={OTHER}", "--keep-secrets")
    assert kept.code == 0, kept
    assert cli("check", "Acme", "kuma").code == 0
    assert saw(p.other)  # explicitly sent there


def test_kuma_host_change_with_the_token_given_again(cli, kuma_pair):
    p = kuma_pair
    p.other.route.tokens = {"fresh-token-for-the-new-host": next(iter(p.other.route.tokens.values()))}
    r = cli(
        "integration",
        "set",
        "Acme",
        "kuma",
        f"host={OTHER}",
        "--secret",
        "token",
        stdin="fresh-token-for-the-new-host\n",
    )
    assert r.code == 0, r
    assert cli("check", "Acme", "kuma").code == 0
    assert saw(p.other, "fresh-token-for-the-new-host") and not saw(p.other)


def test_a_child_copied_from_its_parent_and_re_pointed(cli, kuma_pair, config_dir):
    p = kuma_pair
    assert cli("tenant", "add", "Branch", "--parent", "Acme").code == 0  # gets a copy of the token
    r = refused_unchanged(cli, config_dir, "integration", "set", "Acme/Branch", "kuma", f"host={OTHER}")
    assert "'Root tenant/Acme/Branch'" in r.err
    assert cli("check", "Acme/Branch", "kuma").code == 0
    assert p.other.requests == []


def test_import_of_an_export_whose_target_changed_keeps_no_secret(cli, kuma_pair, config_dir, tmp_path):
    p = kuma_pair
    export = json.loads(cli("export").out)
    acme = next(t for t in export["tenants"] if t["path"].endswith("/Acme"))
    acme["integrations"]["kuma"]["settings"]["host"] = OTHER
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(export))
    r = cli("import", str(path))
    assert r.code == 0, r
    assert "Root tenant/Acme: KUMA REST API — token" in r.out
    assert f"127.0.0.1:{p.port} → {OTHER}:{p.port}" in r.out
    shown = json.loads(cli("integration", "show", "Acme", "kuma", "--json").out)
    assert shown["settings"]["host"] == OTHER and shown["secrets"]["token"] == "not set"
    assert not shown["enabled"]  # its secret is missing: imported turned off
    check = cli("check", "Acme", "kuma", "--json")
    assert check.code == 1 and json.loads(check.out)[0]["category"] == "missing_secret"
    assert p.other.requests == []
    # An import that leaves the target as it is keeps the secret.
    assert cli("integration", "set", "Acme", "kuma", "--secret", "token", stdin=CANARY + "\n").code == 0
    same = json.loads(cli("export").out)
    path.write_text(json.dumps(same))
    assert "token" not in cli("import", str(path)).out
    assert json.loads(cli("integration", "show", "Acme", "kuma", "--json").out)["secrets"]["token"] == "set"


# ---- TIP and KASAP ----------------------------------------------------------------------------------
def test_tip_portal_url_and_access(cli, pair, config_dir, tmp_path, test_ca):
    p = pair(TipPortal(token=CANARY), TipPortal(token=CANARY, premium=True))
    set_up(cli, "tip", "Root", {"opentip_url": f"https://127.0.0.1:{p.port}"}, tmp_path, test_ca)
    r = refused_unchanged(
        cli, config_dir, "integration", "set", "Root", "tip", f"opentip_url=https://{OTHER}:{p.port}"
    )
    assert f"https://127.0.0.1:{p.port}" in r.err and f"https://{OTHER}:{p.port}" in r.err
    # The Premium address may change while the token goes to OpenTIP only ...
    assert cli("integration", "set", "Root", "tip", f"premium_url=https://{OTHER}:{p.port}").code == 0
    # ... but switching the access sends the token to it: refused.
    r = refused_unchanged(cli, config_dir, "integration", "set", "Root", "tip", "access=premium")
    assert f"https://{OTHER}:{p.port}" in r.err
    assert cli("tip", "lookup", "Root", "good.example.invalid").code == 0
    assert cli("check", "Root", "tip").code == 0
    assert saw(p.home) and p.other.requests == []
    assert cli("integration", "set", "Root", "tip", "access=premium", "--keep-secrets").code == 0
    assert cli("check", "Root", "tip").code == 0 and saw(p.other)


def test_kasap_url(cli, pair, config_dir, tmp_path, test_ca):
    p = pair(KasapApi(token=CANARY), KasapApi(token=CANARY))
    set_up(cli, "kasap", "Acme", {"url": f"https://127.0.0.1:{p.port}"}, tmp_path, test_ca)
    r = refused_unchanged(
        cli, config_dir, "integration", "set", "Acme", "kasap", f"url=https://{OTHER}:{p.port}"
    )
    assert "Token" in r.err
    # The same host and port under another path is still another URL: said with the URLs.
    r = refused_unchanged(
        cli, config_dir, "integration", "set", "Acme", "kasap", f"url=https://127.0.0.1:{p.port}/other"
    )
    assert f"https://127.0.0.1:{p.port}/other" in r.err
    assert cli("kasap", "groups", "Acme").code == 0
    assert saw(p.home) and p.other.requests == []
    assert (
        cli("integration", "set", "Acme", "kasap", f"url=https://{OTHER}:{p.port}", "--keep-secrets").code
        == 0
    )
    assert cli("kasap", "groups", "Acme").code == 0 and saw(p.other)


# ---- KATA --------------------------------------------------------------------------------------------
def test_kata_connection_host(cli, two_cert, config_dir, tmp_path, test_ca):
    with KataPeer(two_cert) as home, KataPeer(two_cert, host=OTHER, port=home.port) as other:
        assert cli("tenant", "add", "Acme").code == 0
        ca = ca_file(tmp_path, test_ca)
        assert cli("integration", "set", "Acme", "kata", f"tls_ca=@{ca}").code == 0
        assert cli("kata", "add", "Acme", "127.0.0.1", "--port", str(home.port), "--key", "p256").code == 0
        [conn] = json.loads(cli("kata", "list", "Acme", "--json").out)
        home.trust(conn_pem := _cert(cli, conn["id"]))
        other.trust(conn_pem)
        r = refused_unchanged(cli, config_dir, "kata", "edit", "Acme", conn["id"], "--host", OTHER)
        assert f"127.0.0.1:{home.port}" in r.err and f"{OTHER}:{home.port}" in r.err
        assert "private key" in r.err and "--keep-secrets" in r.err
        cli("check", "Acme", "kata")
        assert home.requests and other.requests == [] and other.handshake_errors == []

        # An import that moves the connection drops its key and lists it.
        export = json.loads(cli("export").out)
        acme = next(t for t in export["tenants"] if t["path"].endswith("/Acme"))
        acme["integrations"]["kata"]["settings"]["connections"][0]["host"] = OTHER
        path = tmp_path / "moved.json"
        path.write_text(json.dumps(export))
        before = json.loads(cli("integration", "show", "Acme", "kata", "--json").out)["secrets"]
        moved = cli("import", str(path))
        assert moved.code == 0 and "kata regenerate" in moved.out, moved
        after = json.loads(cli("integration", "show", "Acme", "kata", "--json").out)["secrets"]
        assert list(before) == [kata.secret_name(conn["id"])] and after == {}
        cli("check", "Acme", "kata")
        assert other.requests == [] and other.handshake_errors == []


def kata_connection(cli, home: KataPeer, other: KataPeer, tmp_path, test_ca) -> dict[str, Any]:
    """Tenant Acme with one KATA connection to `home`; `other` trusts its certificate too."""
    assert cli("tenant", "add", "Acme").code == 0
    assert cli("integration", "set", "Acme", "kata", f"tls_ca=@{ca_file(tmp_path, test_ca)}").code == 0
    assert cli("kata", "add", "Acme", "127.0.0.1", "--port", str(home.port), "--key", "p256").code == 0
    [conn] = json.loads(cli("kata", "list", "Acme", "--json").out)
    other.trust(_cert(cli, conn["id"]))
    return dict(conn)


def test_kata_edit_with_keep_secrets_presents_the_key_there(cli, two_cert, tmp_path, test_ca):
    with KataPeer(two_cert) as home, KataPeer(two_cert, host=OTHER, port=home.port) as other:
        conn = kata_connection(cli, home, other, tmp_path, test_ca)
        r = cli("kata", "edit", "Acme", conn["id"], "--host", OTHER, "--keep-secrets")
        assert r.code == 0 and f"{OTHER}:{home.port}" in r.out, r
        cli("check", "Acme", "kata")
        assert [req.client_cert_sha256 for req in other.requests] == [conn["fingerprint_sha256"]]


def _cert(cli, xdr_id: str) -> str:
    return cli("kata", "export-cert", "Acme", xdr_id).out


# ---- the custom integration ---------------------------------------------------------------------------
class Listener:
    """A TCP listener on 127.0.0.2 that counts the connections it gets."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.bind((OTHER, port))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def test_custom_host(cli, config_dir):
    port = closed_port()
    listener = Listener(port)
    try:
        assert cli("tenant", "add", "Acme").code == 0
        r = cli(
            "integration",
            "set",
            "Acme",
            "custom",
            "host=127.0.0.1",
            f"ports={port}",
            "verify_host=false",
            "username=scripts",
            "--secret",
            "password",
            stdin=CANARY + "\n",
        )
        assert r.code == 0, r
        assert cli("integration", "enable", "Acme", "custom").code == 0
        r = refused_unchanged(cli, config_dir, "integration", "set", "Acme", "custom", f"host={OTHER}")
        assert "Password" in r.err and f"{OTHER}:{port}" in r.err
        refused_unchanged(cli, config_dir, "integration", "set", "Acme", "custom", f"ports={port},2222")
        cli("check", "Acme", "custom", "--timeout", "2")
        assert listener.accepted == 0
        # The user name or the test command are not where the password goes.
        assert cli("integration", "set", "Acme", "custom", "username=other", "test_command=true").code == 0
        assert cli("integration", "set", "Acme", "custom", f"host={OTHER}", "--keep-secrets").code == 0
        cli("check", "Acme", "custom", "--timeout", "2")
        assert listener.accepted >= 1
    finally:
        listener.close()


# ---- a run of settings not saved yet (the wizard's check, KATA's connection dialog) ----------------
def draft_of(ws: Any, tenant: str, kind: str, **settings: Any) -> Any:
    """The saved state with some settings typed over it, as the window's draft_state() gives it."""
    import copy

    from xdrconf.core.tenants import IntegrationState

    saved = ws.tenant(tenant).integrations[kind]
    merged = {**copy.deepcopy(saved.settings), **settings}
    return IntegrationState(kind, saved.enabled, merged, dict(saved.secrets), [])


@pytest.fixture
def opened(config_dir, keyring_backend) -> Iterator[Any]:
    """open(): the workspace of config_dir as the window opens it (after the CLI set it up)."""
    from xdrconf.core.workspace import Workspace

    opened: list[Any] = []

    def open_() -> Any:
        opened.append(Workspace.open(config_dir, keyring_backend=keyring_backend))
        return opened[-1]

    yield open_
    for w in opened:
        w.close()


def test_a_draft_sends_no_stored_token_to_a_new_portal_unless_confirmed(cli, pair, opened, tmp_path, test_ca):
    from xdrconf.core.engine import draft_followers, run_operation

    p = pair(TipPortal(token=CANARY), TipPortal(token=CANARY, premium=True))
    set_up(cli, "tip", "Root", {"opentip_url": f"https://127.0.0.1:{p.port}"}, tmp_path, test_ca)
    assert cli("integration", "set", "Root", "tip", f"premium_url=https://{OTHER}:{p.port}").code == 0
    ws = opened()
    draft = draft_of(ws, "Root", "tip", access="premium")
    [moving] = draft_followers(ws, "Root", "tip", draft)
    assert (moving.name, moving.old, moving.new) == (
        "token",
        f"https://127.0.0.1:{p.port}",
        f"https://{OTHER}:{p.port}",
    )
    for op, params in (("check", None), ("lookup", {"value": "good.example.invalid"})):
        [refused] = run_operation(ws, "Root", "tip", op, params, draft=draft)
        assert refused.refused and refused.category.value == "missing_secret", refused
        assert "Not sent" in refused.message and f"https://{OTHER}:{p.port}" in refused.message
        assert CANARY not in refused.message
    assert p.home.requests == [] and p.other.requests == []
    # A token typed for the new portal goes there, and the stored one does not.
    run_operation(ws, "Root", "tip", draft=draft, draft_secrets={"token": "typed-for-premium"})
    assert saw(p.other, "typed-for-premium") and not saw(p.other)
    # The same draft's settings pointing back where the token was given: nothing to ask.
    general = ws.tenant("Root").integrations["tip"].settings["access"]
    same = draft_of(ws, "Root", "tip", access=general)
    assert draft_followers(ws, "Root", "tip", same) == []
    [ok] = run_operation(ws, "Root", "tip", draft=same)
    assert ok.ok, ok.message
    assert saw(p.home)
    # Confirmed: sent there.
    run_operation(ws, "Root", "tip", draft=draft, keep_secrets=True)
    assert saw(p.other)


def test_a_draft_of_a_kata_connection_presents_no_key_to_a_new_host(cli, two_cert, opened, tmp_path, test_ca):
    from xdrconf.core.engine import draft_followers, run_operation

    with KataPeer(two_cert) as home, KataPeer(two_cert, host=OTHER, port=home.port) as other:
        conn = kata_connection(cli, home, other, tmp_path, test_ca)
        ws = opened()
        saved = ws.tenant("Acme").integrations["kata"].settings["connections"]
        draft = draft_of(ws, "Acme", "kata", connections=[{**saved[0], "host": OTHER}])
        [moving] = draft_followers(ws, "Acme", "kata", draft)
        assert moving.old == f"127.0.0.1:{home.port}" and moving.new == f"{OTHER}:{home.port}"
        [refused] = run_operation(ws, "Acme", "kata", draft=draft)
        assert refused.refused and "Not sent" in refused.message, refused
        assert other.requests == [] and other.handshake_errors == [] and home.requests == []
        run_operation(ws, "Acme", "kata", draft=draft, keep_secrets=True)
        assert [r.client_cert_sha256 for r in other.requests] == [conn["fingerprint_sha256"]]


# ---- every integration says where its secrets go ---------------------------------------------------
def test_every_integration_that_stores_secrets_declares_its_target_fields():
    from xdrconf.core import catalog, targets

    specs = [catalog.spec_for(kind) for kind in catalog.KINDS]
    holding = [s.kind for s in specs if s.supported and (s.secret_fields or s.secret_label is not None)]
    assert {"kuma", "tip", "kasap", "kata", "custom"} <= set(holding)
    assert {s.kind: targets.undeclared(s) for s in specs if s.kind in holding} == dict.fromkeys(holding)


def test_a_plugin_that_stores_secrets_without_saying_where_they_go_is_left_out(tmp_path):
    """Installed as a plugin: a spec with an API key but no target_fields. Its edits could not
    be held to the rule, so xdrconf leaves it out and says why."""
    import os
    import subprocess
    import sys

    (tmp_path / "xdrconf_blind.py").write_text(
        "from xdrconf.core.catalog import IntegrationSpec, Page\n"
        "from xdrconf.core.fields import Field\n"
        "SPEC = IntegrationSpec(kind='blind', title='Blind', description='No target.',\n"
        "    fields=(Field('url', 'URL', kind='url'), Field('token', 'API key', kind='secret')),\n"
        "    pages=(Page('Blind', '', ('url', 'token')),))\n"
    )
    info = tmp_path / "xdrconf_blind-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xdrconf-blind\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[xdrconf.integrations]\nblind = xdrconf_blind\n")
    script = (
        "import logging; logging.basicConfig(level=logging.WARNING, format='%(message)s')\n"
        "from xdrconf.core import catalog\n"
        "print('KINDS', ' '.join(catalog.KINDS))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "blind" not in proc.stdout.split() and "kuma" in proc.stdout.split()
    assert (
        "plugin blind (xdrconf_blind) left out: it stores secrets but declares no target_fields"
        in proc.stderr
    )
