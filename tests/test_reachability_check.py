"""Continent 4 and SKDPU NT have no public API: their check proves the name, TCP, the TLS
handshake and the certificate (trusted by the test CA or a pin), against a bare TLS peer on
loopback, and passes as "not verified" — in words, in --json ("verified": false) and in the
status model. Nothing but the handshake is sent: the peer receives no byte after it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from support.https_peer import SilentPeer, closed_port
from support.pki import Issued
from support.tls_peer import TlsPeer
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.status import integration_status, tenant_level
from xdrconf.core.workspace import IntegrationEdit, Workspace

KINDS = ("continent", "skdpu")
PASSWORD = "Cont-pa55-Not-Sent"


def configure(ws: Workspace, kind: str, host: str, port: int, *, tenant: str = "Acme", **values: str) -> str:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {"host": host, "port": str(port), "username": "xdr-scripts", **values}
    ws.update_integration(
        tenant, IntegrationEdit(kind, values=settings, secrets={"password": PASSWORD}, enabled=True)
    )
    return ws.tenant(tenant).id


def check(ws: Workspace, tid: str, kind: str, **kw: Any) -> Outcome:
    [result] = run_operation(ws, tid, kind, **kw)
    return result


def closed(peer: TlsPeer) -> None:
    """Wait until the peer has served every connection to its end (the client closed), so
    that what it received is final."""
    import threading

    def serving() -> bool:
        return any(getattr(t, "_target", None) == peer._serve and t.is_alive() for t in threading.enumerate())

    deadline = time.monotonic() + 10
    while (serving() or not (peer.handshakes or peer.handshake_errors)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not serving()


@pytest.fixture
def peer(server_cert: Issued) -> Iterator[TlsPeer]:
    with TlsPeer(server_cert, idle=2.0) as p:
        yield p


def test_fields():
    for kind in KINDS:
        spec = catalog.spec_for(kind)
        assert [f.name for f in spec.fields] == [
            "host",
            "port",
            "username",
            "password",
            "tls_ca",
            "tls_pin_sha256",
        ]
        assert spec.check_op is not None and spec.check_op.needs == ()  # the password is not read
        assert [s.kind for s in spec.see_also] == ["custom"]
    assert catalog.spec_for("skdpu").defaults() == {"port": 443}
    assert catalog.spec_for("continent").defaults() == {}


@pytest.mark.parametrize("kind", KINDS)
def test_reachable_and_trusted_is_ok_but_not_verified(ws, peer, test_ca, kind):
    tid = configure(ws, kind, "localhost", peer.port, tls_ca=test_ca.cert_pem)
    result = check(ws, tid, kind)
    assert result.category is Category.OK, result.message
    assert result.verified is False and result.level == "unverified" and not result.warnings
    title = str(catalog.spec_for(kind).title)
    assert (
        f"{title} at localhost:{peer.port} is reachable: the TLS handshake completed (TLSv1.3)"
        in result.message
    )
    assert "trusted through the CA certificate of the settings" in result.message
    assert "subject CN=localhost" in result.message and "valid until" in result.message
    assert "The user name and password were NOT checked" in result.message
    assert result.details["credentials_checked"] is False and result.details["address"] in (
        "127.0.0.1",
        "::1",
    )
    closed(peer)
    [shake] = peer.handshakes
    assert shake.server_name == "localhost" and shake.received == b""  # the handshake, nothing more
    assert peer.received == b"" and PASSWORD not in json.dumps(result.to_dict())
    # The status model keeps it apart from a verified check.
    ws.record_results({(tid, kind): [result.to_dict()]})
    tenant = ws.tenant("Acme")
    assert integration_status(ws, tenant, kind).level == "unverified"
    assert tenant_level(ws, tenant) == "unverified"


def test_pinned_certificate_by_address(ws, peer, server_cert):
    tid = configure(
        ws, "continent", "127.0.0.1", peer.port, tls_pin_sha256=format_fingerprint(server_cert.sha256)
    )
    result = check(ws, tid, "continent")
    assert result.category is Category.OK, result.message
    assert "trusted through the pinned SHA-256 fingerprint" in result.message
    closed(peer)
    assert [h.server_name for h in peer.handshakes] == [None]  # no SNI for an address
    assert peer.received == b""


def test_a_wrong_pin(ws, peer):
    tid = configure(ws, "skdpu", "127.0.0.1", peer.port, tls_pin_sha256="ef" * 32)
    result = check(ws, tid, "skdpu")
    assert result.category is Category.TLS_PIN_MISMATCH and "nothing was sent" in result.message
    closed(peer)
    assert peer.received == b""


def test_an_untrusted_certificate(ws, peer):
    tid = configure(ws, "continent", "127.0.0.1", peer.port)  # the system's CAs do not know the test CA
    result = check(ws, tid, "continent")
    assert result.category is Category.TLS_UNTRUSTED, result.message
    assert peer.received == b""


def test_a_certificate_for_another_name(ws, test_ca):
    other = test_ca.issue(("gateway.acme.invalid",))
    with TlsPeer(other) as p:
        tid = configure(ws, "continent", "127.0.0.1", p.port, tls_ca=test_ca.cert_pem)
        result = check(ws, tid, "continent")
    assert result.category is Category.TLS_HOSTNAME, result.message


def test_an_expired_pinned_certificate(ws, test_ca):
    old = test_ca.issue(expired=True)
    with TlsPeer(old) as p:
        tid = configure(ws, "skdpu", "127.0.0.1", p.port, tls_pin_sha256=format_fingerprint(old.sha256))
        result = check(ws, tid, "skdpu")
    assert result.category is Category.TLS_EXPIRED and "pinned certificate" in result.message


def test_a_name_that_does_not_resolve(ws):
    tid = configure(ws, "skdpu", "skdpu.acme.invalid", 443)
    result = check(ws, tid, "skdpu")
    assert result.category is Category.DNS
    assert result.message.startswith("The host name skdpu.acme.invalid could not be resolved")


def test_nothing_listens(ws):
    port = closed_port()
    tid = configure(ws, "continent", "127.0.0.1", port)
    result = check(ws, tid, "continent")
    assert result.category is Category.UNREACHABLE
    assert result.message.startswith(f"127.0.0.1:{port} refused the connection")


def test_no_tls_handshake_times_out(ws):
    with SilentPeer() as silent:
        tid = configure(ws, "skdpu", "127.0.0.1", silent.port)
        result = check(ws, tid, "skdpu", timeout=0.5)
    assert result.category is Category.TIMEOUT
    assert "accepted the connection but did not complete a TLS handshake within 0.5 s" in result.message


def test_cancelled_while_waiting_for_the_handshake(ws):
    import threading

    with SilentPeer() as silent:
        tid = configure(ws, "continent", "127.0.0.1", silent.port)
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        started = time.monotonic()
        result = check(ws, tid, "continent", cancel=cancel, timeout=20)
        assert result.category is Category.CANCELLED
        assert time.monotonic() - started < 10  # not the 20 s of the timeout


@pytest.mark.parametrize("kind", KINDS)
def test_cli_says_not_verified(cli, peer, test_ca, kind):
    assert cli("tenant", "add", "Acme").code == 0
    args = ["integration", "set", "Acme", kind, "host=localhost", f"port={peer.port}", "username=xdr"]
    r = cli(*args, f"tls_ca=@{test_ca.cert_path}", "--secret", "password", stdin=PASSWORD + "\n")
    assert r.code == 0, r
    r = cli(kind, "check", "Acme", "--json")
    assert r.code == 0, r
    [out] = json.loads(r.out)
    assert out["category"] == "ok" and out["ok"] is True and out["verified"] is False
    r = cli(kind, "check", "Acme")
    assert r.code == 0 and r.out.startswith("ok, not verified Root tenant/Acme / "), r
    assert cli("integration", "enable", "Acme", kind).code == 0
    r = cli("check", "Acme")
    assert r.code == 0 and r.out.startswith("ok, not verified "), r
    r = cli("integration", "show", "Acme", kind, "--json")
    assert json.loads(r.out)["level"] == "unverified"
    closed(peer)
    assert peer.received == b""
