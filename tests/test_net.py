"""The network layer: certificate fetching, proxy rules, redirects, timeouts — through real
sockets, a real CONNECT proxy and real TLS."""

from __future__ import annotations

import errno
import gc
import socket
import ssl
import struct
import time
import warnings

import pytest

from support.connect_proxy import ConnectProxy
from support.https_peer import HttpsPeer, Reply
from support.kuma_peer import GOOD_TOKEN, KumaApi, configure
from xdrconf.core.engine import run_operation
from xdrconf.core.net import NetConfig, ProxyConfig, TlsContext, Trust, fetch_certificate, make_client
from xdrconf.core.outcome import Category


def test_fetch_certificate_reads_without_sending(server_cert):
    with HttpsPeer(KumaApi(), cert=server_cert) as peer:
        info = fetch_certificate("127.0.0.1", peer.port, timeout=5)
    assert info.sha256 == server_cert.sha256
    assert "CN=localhost" in info.subject and "xdrconf Test CA" in info.issuer
    assert not info.self_signed and not info.expired
    assert info.fingerprint_display.count(":") == 31
    assert peer.requests == []


def test_fetch_certificate_of_expired_self_signed(test_ca):
    own = test_ca.issue(("old.example.invalid",), self_signed=True, expired=True)
    with HttpsPeer(KumaApi(), cert=own) as peer:
        info = fetch_certificate("127.0.0.1", peer.port, timeout=5)
    assert info.self_signed and info.expired
    assert any("EXPIRED" in line for line in info.lines())


def _kuma(ws, peer, test_ca):
    return configure(ws, peer.port, host="localhost", ca=test_ca.cert_pem, tenant="T")


def test_manual_proxy_is_used(ws, server_cert, test_ca):
    with HttpsPeer(KumaApi(), cert=server_cert) as peer, ConnectProxy() as proxy:
        tid = _kuma(ws, peer, test_ca)
        ws.set_app(proxy={"mode": "manual", "url": proxy.url, "no_proxy": []})
        [r] = run_operation(ws, tid, "kuma")
    assert r.ok, r.message
    assert proxy.requests == [f"CONNECT localhost:{peer.port} HTTP/1.1"]


def test_no_proxy_list_bypasses_proxy(ws, server_cert, test_ca):
    with HttpsPeer(KumaApi(), cert=server_cert) as peer, ConnectProxy() as proxy:
        tid = _kuma(ws, peer, test_ca)
        ws.set_app(proxy={"mode": "manual", "url": proxy.url, "no_proxy": ["localhost"]})
        [r] = run_operation(ws, tid, "kuma")
    assert r.ok, r.message
    assert proxy.requests == []


def test_system_proxy_variables_only_when_chosen(ws, server_cert, test_ca, monkeypatch):
    with HttpsPeer(KumaApi(), cert=server_cert) as peer, ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        tid = _kuma(ws, peer, test_ca)
        [r] = run_operation(ws, tid, "kuma")  # mode none: the variable is ignored
        assert r.ok and proxy.requests == []
        ws.set_app(proxy={"mode": "system"})
        [r] = run_operation(ws, tid, "kuma")
        assert r.ok, r.message
        assert len(proxy.requests) == 1


def test_dead_proxy_is_reported(ws, server_cert, test_ca):
    from support.https_peer import closed_port

    with HttpsPeer(KumaApi(), cert=server_cert) as peer:
        tid = _kuma(ws, peer, test_ca)
        ws.set_app(proxy={"mode": "manual", "url": f"http://127.0.0.1:{closed_port()}", "no_proxy": []})
        [r] = run_operation(ws, tid, "kuma")
    assert r.category is Category.UNREACHABLE


def test_redirect_to_other_host_is_not_followed(server_cert, test_ca):
    other_hits = []

    def other(req):
        other_hits.append(req)
        return Reply(200, {"login": "x"})

    with HttpsPeer(other, cert=server_cert) as target:

        def redirect(req):
            return Reply(302, b"", {"Location": f"https://127.0.0.1:{target.port}/steal"})

        with (
            HttpsPeer(redirect, cert=server_cert) as peer,
            make_client("localhost", Trust(ca_pem=test_ca.cert_pem), NetConfig(5.0)) as client,
        ):
            resp = client.get(f"https://localhost:{peer.port}/", headers={"X-API-KEY": "k"})
    assert resp.status_code == 302
    assert other_hits == []


def test_redirect_gives_protocol_error_in_check(ws, server_cert, test_ca):
    def redirect(req):
        return Reply(301, b"", {"Location": "https://elsewhere.example.invalid/"})

    with HttpsPeer(redirect, cert=server_cert) as peer:
        tid = _kuma(ws, peer, test_ca)
        [r] = run_operation(ws, tid, "kuma")
    assert r.category is Category.PROTOCOL_ERROR and "redirect" in r.message


@pytest.mark.parametrize(
    "host,no_proxy,bypass",
    [
        ("kuma.corp.invalid", [".corp.invalid"], True),
        ("corp.invalid", [".corp.invalid"], True),
        ("kuma.corp.invalid", ["corp.invalid"], True),
        ("kuma.example.invalid", [".corp.invalid"], False),
        ("127.0.0.2", ["127.0.0.2"], True),
        ("any", ["*"], True),
    ],
)
def test_no_proxy_matching(host, no_proxy, bypass):
    cfg = ProxyConfig("manual", "http://p:3128", tuple(no_proxy))
    assert (cfg.for_host(host) is None) is bypass


def test_one_tls_context_per_trust_and_each_trusts_only_its_own(tmp_path, test_ca, server_cert):
    """Checks share the TLS context of the same trust (made once); another CA's context
    is another one, and it does not trust this peer."""
    from support.pki import TestCA
    from xdrconf.core.net import make_ssl_context

    other = TestCA(tmp_path / "other-ca", name="Another Test CA")
    mine = make_ssl_context(Trust(ca_pem=test_ca.cert_pem))
    assert make_ssl_context(Trust(ca_pem=test_ca.cert_pem)) is mine
    theirs = make_ssl_context(Trust(ca_pem=other.cert_pem))
    assert theirs is not mine
    net = NetConfig(timeout=5)
    with HttpsPeer(KumaApi(), cert=server_cert) as peer:
        url = f"https://localhost:{peer.port}/api/v1/users/whoami"
        with make_client("localhost", Trust(ca_pem=test_ca.cert_pem), net) as client:
            assert client.get(url, headers={"Authorization": f"Bearer {GOOD_TOKEN}"}).status_code == 200
        with (
            make_client("localhost", Trust(ca_pem=other.cert_pem), net) as client,
            pytest.raises(Exception) as caught,
        ):
            client.get(url)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def _reset_connection() -> socket.socket:
    """A client TCP socket whose peer reset the connection and which this side shut down
    (as the watchdog does on Cancel) before any TLS was spoken."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname(), timeout=5)
        accepted, _ = server.accept()
    client.shutdown(socket.SHUT_RDWR)
    accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    accepted.close()  # linger 0: a reset
    for _ in range(100):  # the reset has arrived when the socket is no longer connected
        try:
            client.getpeername()
        except OSError:
            break
        time.sleep(0.01)
    return client


@pytest.mark.parametrize("kind", ["ca", "pin", "system", "look", "server"])
def test_a_failed_tls_wrap_leaves_no_socket_open(kind, test_ca):
    """CPython's wrap_socket raises without closing the TLS socket it made when the TCP
    connection is gone (reset by the peer, shut down by a Cancel); every context xdrconf makes
    closes it, so no descriptor stays open until a garbage collection finds it."""
    from xdrconf.core.net import client_context, make_ssl_context

    contexts = {
        "ca": lambda: make_ssl_context(Trust(ca_pem=test_ca.cert_pem)),
        "pin": lambda: make_ssl_context(Trust(pin_sha256="ab" * 32)),
        "system": lambda: make_ssl_context(Trust()),
        "look": lambda: client_context(verify=False),
        "server": lambda: TlsContext(ssl.PROTOCOL_TLS_SERVER),
    }
    ctx = contexts[kind]()
    raw = _reset_connection()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(OSError) as failed:
            if kind == "server":
                ctx.wrap_socket(raw, server_side=True)
            else:
                ctx.wrap_socket(raw, server_hostname="localhost")
        assert failed.value.errno in (errno.ECONNRESET, errno.ENOTCONN)
        del failed  # its traceback held the TLS socket
        raw.close()
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
