"""The KUMA check through the real stack: httpx, ssl and a real HTTPS peer on loopback."""

from __future__ import annotations

import threading
import time

from support.https_peer import HttpsPeer, SilentPeer, closed_port
from support.kuma_peer import GOOD_TOKEN, KumaApi, configure
from xdrconf.core.engine import run_operation
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit


def check(ws, tid, **kw):
    [result] = run_operation(ws, tid, "kuma", **kw)
    return result


def test_ok_shows_login_and_tenants(ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert "soar" in r.message and "Main" in r.message and "Branch" in r.message
    assert r.details["login"] == "soar"
    assert r.target == f"127.0.0.1:{kuma.port}"
    assert kuma.requests[-1].path == "/api/v1/users/whoami"
    assert kuma.requests[-1].headers["Authorization"] == f"Bearer {GOOD_TOKEN}"


def test_api_version_is_used_in_path(ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    ws.update_integration("Acme", IntegrationEdit("kuma", values={"api_version": "v2.1"}))
    assert check(ws, tid).ok
    assert kuma.requests[-1].path == "/api/v2.1/users/whoami"


def test_ipv6_loopback(ws, server_cert, test_ca):
    with HttpsPeer(KumaApi(), cert=server_cert, host="::1") as peer:
        tid = configure(ws, peer.port, host="::1", ca=test_ca.cert_pem)
        r = check(ws, tid)
    assert r.ok, r.message
    assert r.target == f"[::1]:{peer.port}"


def test_unknown_token_is_auth_failed(ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem, token="wrong-token")
    r = check(ws, tid)
    assert r.category is Category.AUTH_FAILED
    assert "403" in r.message and "wrong-token" not in r.message


def test_missing_secret(ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem, token=None)
    assert check(ws, tid).category is Category.MISSING_SECRET


def test_dns_failure(ws, test_ca):
    tid = configure(ws, 7223, host="kuma.does-not-exist.invalid", ca=test_ca.cert_pem)
    r = check(ws, tid)
    assert r.category is Category.DNS, r.message


def test_closed_port_is_unreachable(ws, test_ca):
    tid = configure(ws, closed_port(), ca=test_ca.cert_pem)
    assert check(ws, tid).category is Category.UNREACHABLE


def test_silent_server_times_out_within_timeout(ws, test_ca):
    with SilentPeer() as silent:
        tid = configure(ws, silent.port, ca=test_ca.cert_pem)
        started = time.monotonic()
        r = check(ws, tid, timeout=0.5)
        elapsed = time.monotonic() - started
    assert r.category is Category.TIMEOUT, r.message
    assert elapsed < 2.5


def test_hanging_http_answer_times_out(ws, kuma, test_ca):
    kuma.api.mode = "hang"
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    r = check(ws, tid, timeout=0.5)
    assert r.category is Category.TIMEOUT, r.message


def test_untrusted_without_ca(ws, kuma):
    tid = configure(ws, kuma.port)
    r = check(ws, tid)
    assert r.category is Category.TLS_UNTRUSTED, r.message


def test_hostname_mismatch(ws, test_ca):
    other = test_ca.issue(("other.example.invalid",))
    with HttpsPeer(KumaApi(), cert=other) as peer:
        tid = configure(ws, peer.port, ca=test_ca.cert_pem)
        r = check(ws, tid)
    assert r.category is Category.TLS_HOSTNAME, r.message


def test_expired_certificate(ws, test_ca):
    expired = test_ca.issue(expired=True)
    with HttpsPeer(KumaApi(), cert=expired) as peer:
        tid = configure(ws, peer.port, ca=test_ca.cert_pem)
        r = check(ws, tid)
    assert r.category is Category.TLS_EXPIRED, r.message


def test_pin_of_self_signed_server_is_ok(ws, test_ca):
    own = test_ca.issue(("kuma.example.invalid",), self_signed=True)
    with HttpsPeer(KumaApi(), cert=own) as peer:
        tid = configure(ws, peer.port, pin=own.sha256)
        r = check(ws, tid)
    assert r.ok, r.message


def test_pin_mismatch_sends_no_token(ws, kuma, test_ca):
    tid = configure(ws, kuma.port, pin="ab" * 32)
    r = check(ws, tid)
    assert r.category is Category.TLS_PIN_MISMATCH, r.message
    assert kuma.requests == []  # not a single request line, let alone the token


def test_pin_with_ca_both_must_hold(ws, kuma, test_ca, server_cert):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem, pin=server_cert.sha256)
    assert check(ws, tid).ok
    configure(ws, kuma.port, ca=test_ca.cert_pem, pin="cd" * 32)
    assert check(ws, tid).category is Category.TLS_PIN_MISMATCH


def test_server_error(ws, kuma, test_ca):
    kuma.api.mode = "error500"
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    assert check(ws, tid).category is Category.SERVER_ERROR


def test_not_json_is_protocol_error(ws, kuma, test_ca):
    kuma.api.mode = "notjson"
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    assert check(ws, tid).category is Category.PROTOCOL_ERROR


def test_cancel_ends_check_at_once(ws, kuma, test_ca):
    kuma.api.mode = "hang"
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    r = check(ws, tid, timeout=20, cancel=cancel)
    assert r.category is Category.CANCELLED
    assert time.monotonic() - started < 2


def test_plain_http_port_is_protocol_error(ws, test_ca):
    with HttpsPeer(KumaApi(), cert=None) as plain:
        tid = configure(ws, plain.port, ca=test_ca.cert_pem)
        r = check(ws, tid)
    assert r.category is Category.PROTOCOL_ERROR, r.message


def test_no_keyring_at_check_time_is_keyring_unavailable(config_dir, keyring_backend, kuma, test_ca):
    """Settings made with a keyring, checked where none is usable: one clear category."""
    from keyring.backends import fail

    from xdrconf.core.workspace import Workspace

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    with Workspace.open(config_dir, keyring_backend=fail.Keyring()) as ws:
        r = check(ws, tid)
    assert r.category is Category.KEYRING_UNAVAILABLE, r.message
    assert "No OS keyring is available" in r.message
    assert kuma.requests == []


def test_cli_check_without_keyring_backend(config_dir, keyring_backend, kuma, test_ca):
    import json
    import os
    import subprocess
    import sys

    from xdrconf.core.workspace import Workspace

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        configure(ws, kuma.port, ca=test_ca.cert_pem)
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    proc = subprocess.run(
        [sys.executable, "-m", "xdrconf", "--config-dir", str(config_dir), "check", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    [item] = json.loads(proc.stdout)
    assert item["category"] == "keyring_unavailable" and item["ok"] is False
