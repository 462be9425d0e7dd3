"""The KATA check through the real stack: httpx, ssl, the keyring and a mutual-TLS peer on
loopback that behaves like KATA's External systems approval."""

from __future__ import annotations

import pytest

from support.gui import some
from support.https_peer import HttpsPeer, Reply, SilentPeer, closed_port
from support.kata_peer import KataPeer
from xdrconf.core.engine import run_operation
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit


def setup_tenant(ws, test_ca, *, tenant="Acme", api="scanner", pin=None):
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    values = {"api": api}
    if pin:
        values["tls_pin_sha256"] = pin
    else:
        values["tls_ca"] = test_ca.cert_pem
    ws.update_integration(tenant, IntegrationEdit("kata", values=values, enabled=True))
    return ws.tenant(tenant).id


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_pending_until_approved_then_ok(ws, server_cert, test_ca, host):
    tid = setup_tenant(ws, test_ca)
    with KataPeer(server_cert, host=host) as peer:
        conn = kata.add_connection(ws, tid, host, peer.port, "p256")
        peer.trust(conn["cert_pem"])
        [r] = run_operation(ws, tid, "kata")
        assert r.category is Category.PENDING_APPROVAL, r.message
        assert format_fingerprint(conn["fingerprint"]) in r.message
        assert "ask the KATA administrator to accept the request with fingerprint" in r.message
        assert r.connection == conn["id"]
        assert r.target == (f"[::1]:{peer.port}" if host == "::1" else f"127.0.0.1:{peer.port}")
        # KATA's pending request shows what the administrator approves: this ID and fingerprint.
        assert peer.api.pending == {conn["id"]: conn["fingerprint"]}
        assert peer.requests[-1].path == f"/kata/scanner/v1/sensors/{conn['id']}/scans/filters"
        peer.api.approve(conn["id"], conn["fingerprint"])
        [r] = run_operation(ws, tid, "kata")
    assert r.category is Category.OK, r.message
    assert r.details["xdr_id"] == conn["id"]


def test_kedr_response_api_path(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca, api="kedr")
    with KataPeer(server_cert) as peer:
        conn = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        peer.trust(conn["cert_pem"])
        peer.api.approve(conn["id"], conn["fingerprint"])
        [r] = run_operation(ws, tid, "kata")
    assert r.ok, r.message
    assert peer.requests[-1].path == f"/kata/response_api/v1/{conn['id']}/sensors"


def test_rsa_key_through_keyring_blob_and_mutual_tls(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca)
    with KataPeer(server_cert) as peer:
        conn = kata.add_connection(ws, tid, "localhost", peer.port)  # RSA-2048 default
        peer.trust(conn["cert_pem"])
        peer.api.approve(conn["id"], conn["fingerprint"])
        [r] = run_operation(ws, tid, "kata")
    assert conn["key_type"] == "rsa2048"
    assert r.ok, r.message
    assert peer.requests[-1].client_cert_sha256 == conn["fingerprint"]


def test_regenerated_certificate_must_be_approved_again(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca)
    with KataPeer(server_cert) as peer:
        conn = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        peer.trust(conn["cert_pem"])
        peer.api.approve(conn["id"], conn["fingerprint"])
        assert run_operation(ws, tid, "kata")[0].ok
        new = kata.regenerate(ws, tid, conn["id"])
        peer.trust(new["cert_pem"])
        [r] = run_operation(ws, tid, "kata")
    assert new["id"] == conn["id"] and new["fingerprint"] != conn["fingerprint"]
    assert r.category is Category.PENDING_APPROVAL
    assert format_fingerprint(new["fingerprint"]) in r.message


@pytest.mark.parametrize("tls13", [True, False], ids=["tls1.3", "tls1.2"])
def test_client_certificate_rejected_in_handshake(ws, server_cert, test_ca, tls13):
    """A server that only accepts client certificates of another CA sends a TLS alert:
    after the handshake under TLS 1.3 (httpx ReadError), during it under TLS 1.2."""
    tid = setup_tenant(ws, test_ca)
    with HttpsPeer(
        lambda req: Reply(200, {}),
        cert=server_cert,
        client_ca=test_ca.cert_pem,
        require_client_cert=True,
        tls13=tls13,
    ) as peer:
        kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        for _ in range(3):  # the alert races the request under TLS 1.3: it must always win
            [r] = run_operation(ws, tid, "kata")
            assert r.category is Category.CLIENT_CERT_REJECTED, r.message
        assert peer.requests == []
        assert peer.handshake_errors


def test_server_certificate_untrusted(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca)
    ws.update_integration(tid, IntegrationEdit("kata", values={"tls_ca": None}))
    with KataPeer(server_cert) as peer:
        conn = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        peer.trust(conn["cert_pem"])
        [r] = run_operation(ws, tid, "kata")
    assert r.category is Category.TLS_UNTRUSTED, r.message
    assert peer.requests == []


def test_pinned_server_certificate(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca, pin=server_cert.sha256)
    with KataPeer(server_cert) as peer:
        conn = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        peer.trust(conn["cert_pem"])
        peer.api.approve(conn["id"], conn["fingerprint"])
        assert run_operation(ws, tid, "kata")[0].ok
        ws.update_integration(tid, IntegrationEdit("kata", values={"tls_pin_sha256": "ab" * 32}))
        [r] = run_operation(ws, tid, "kata")
    assert r.category is Category.TLS_PIN_MISMATCH
    assert len(peer.requests) == 1


def test_one_result_per_connection(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca)
    with KataPeer(server_cert) as a, KataPeer(server_cert, host="::1") as b, SilentPeer() as silent:
        ca = kata.add_connection(ws, tid, "127.0.0.1", a.port, "p256")
        cb = kata.add_connection(ws, tid, "::1", b.port, "p256")
        cc = kata.add_connection(ws, tid, "127.0.0.1", closed_port(), "p256")
        cd = kata.add_connection(ws, tid, "127.0.0.1", silent.port, "p256")
        a.trust(ca["cert_pem"])
        b.trust(cb["cert_pem"])
        a.api.approve(ca["id"], ca["fingerprint"])
        results = run_operation(ws, tid, "kata", timeout=1.0)
    by_id = {r.connection: r for r in results}
    assert [r.connection for r in results] == [ca["id"], cb["id"], cc["id"], cd["id"]]
    assert by_id[ca["id"]].category is Category.OK
    assert by_id[cb["id"]].category is Category.PENDING_APPROVAL
    assert by_id[cc["id"]].category is Category.UNREACHABLE
    assert by_id[cd["id"]].category is Category.TIMEOUT
    assert all(r.integration == "kata" for r in results)


def test_check_one_connection_keeps_the_others_status(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca)
    with KataPeer(server_cert) as peer:
        c1 = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        c2 = kata.add_connection(ws, tid, "localhost", peer.port, "p256")
        for c in (c1, c2):
            peer.trust(c["cert_pem"])
        peer.api.approve(c1["id"], c1["fingerprint"])
        results = run_operation(ws, tid, "kata")
        kata.record_results(ws, tid, results)
        only = run_operation(ws, tid, "kata", params={"connection": c2["id"]})
        assert [r.connection for r in only] == [c2["id"]]
        kata.record_results(ws, tid, only)
    state = ws.tenant(tid).integrations["kata"]
    assert some(kata.status_of(state, c1)).category == "ok"
    assert some(kata.status_of(state, c2)).category == "pending_approval"
    # An edit of one connection keeps the status of the other (kept inside the connection).
    kata.edit_connection(ws, tid, c2["id"], port="8443", keep_secrets=True)  # the user confirmed
    state = ws.tenant(tid).integrations["kata"]
    assert state.results == []
    c1_now, c2_now = kata.connections(state)
    assert some(kata.status_of(state, c1_now)).category == "ok"
    assert kata.status_of(state, c2_now) is None  # moved: its old status no longer applies


def test_server_error_and_wrong_path(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca)
    with KataPeer(server_cert) as peer:
        conn = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        peer.trust(conn["cert_pem"])
        peer.api.status_override = 500
        [r] = run_operation(ws, tid, "kata")
        assert r.category is Category.SERVER_ERROR
        peer.api.status_override = 404
        [r] = run_operation(ws, tid, "kata")
    assert r.category is Category.PROTOCOL_ERROR and "404" in r.message


def test_no_connection_and_lost_key(ws, server_cert, test_ca):
    tid = setup_tenant(ws, test_ca)
    [r] = run_operation(ws, tid, "kata")
    assert r.category is Category.INVALID_CONFIG and "no connection" in r.message
    conn = kata.add_connection(ws, tid, "127.0.0.1", 443, "p256")
    state = ws.tenant(tid).integrations["kata"]
    ws.secrets.delete(state.secrets[kata.secret_name(conn["id"])])  # e.g. the keyring was reset
    [r] = run_operation(ws, tid, "kata")
    assert r.category is Category.MISSING_SECRET and r.connection == conn["id"]


def test_key_that_does_not_belong_to_the_certificate(ws, server_cert, test_ca):
    from xdrconf.core.integrations.kata import certs as kata_certs

    tid = setup_tenant(ws, test_ca)
    conn = kata.add_connection(ws, tid, "127.0.0.1", 443, "p256")
    other = kata_certs.generate(conn["id"], "p256").key_pem
    ws.update_integration(tid, IntegrationEdit("kata", secrets={kata.secret_name(conn["id"]): other}))
    [r] = run_operation(ws, tid, "kata")
    assert r.category is Category.INVALID_CONFIG and "does not belong to its certificate" in r.message
    assert other.splitlines()[1] not in r.message
