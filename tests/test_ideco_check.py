"""Ideco NGFW and Ideco UTM: the check through the real stack (workspace, secret store, engine,
request helper) against the Ideco peer over real TLS on loopback (tests/support/ideco_peer.py),
trusted through the test CA or a pinned self-signed certificate. After every check, passed,
failed or cancelled, the peer holds no session."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from support import ideco_peer as ideco
from support.https_peer import Reply, Request
from support.peer_common import ManualClock
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.integrations.ideco import api
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.workspace import IntegrationEdit, Workspace

KINDS = ("ideco-ngfw", "ideco-utm")
VARIANT = {"ideco-ngfw": "ngfw", "ideco-utm": "utm"}


def configure(
    ws: Workspace,
    kind: str,
    box: ideco.IdecoPeer,
    *,
    tenant: str = "Acme",
    password: str = ideco.PASSWORD,
    **values: Any,
) -> str:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {"host": box.host, "port": str(box.port), "username": ideco.USER, **values}
    ws.update_integration(
        tenant, IntegrationEdit(kind, values=settings, secrets={"password": password}, enabled=True)
    )
    return ws.tenant(tenant).id


def check(ws: Workspace, tid: str, kind: str, **kw: Any) -> Outcome:
    [result] = run_operation(ws, tid, kind, **kw)
    return result


def wait_until(condition: Callable[[], bool]) -> bool:
    """For what the operation's own thread finishes after a cancelled check (not a timing check)."""
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def calls(box: ideco.IdecoPeer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in box.requests]


def left_nothing_open(box: ideco.IdecoPeer) -> None:
    assert box.open_sessions == 0
    assert box.logouts == box.logins


class HeldIdeco(ideco.IdecoPeer):
    """The peer, with GET /firewall/status held until `release` is set (or `before` run)."""

    def __init__(self, *args: Any, before: Callable[[], object] | None = None, **kw: Any) -> None:
        self.release = threading.Event()
        self.before = before
        self.status_asked = threading.Event()
        super().__init__(*args, **kw)

    def _route(self, req: Request) -> Reply:
        if req.path == "/firewall/status":
            self.status_asked.set()
            if self.before is not None:
                self.before()
            else:
                self.release.wait(20)
        return super()._route(req)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def box(kind: str, server_cert: Any) -> Iterator[ideco.IdecoPeer]:
    with ideco.IdecoPeer(server_cert, variant=VARIANT[kind]) as peer:  # type: ignore[arg-type]
        yield peer


# ---- the specs ---------------------------------------------------------------------------------
def test_two_kinds_one_package():
    ngfw, utm = catalog.spec_for("ideco-ngfw"), catalog.spec_for("ideco-utm")
    assert catalog.entry("ideco-ngfw").package == catalog.entry("ideco-utm").package == "ideco"
    for spec in (ngfw, utm):
        assert [f.name for f in spec.fields] == [
            "host",
            "port",
            "username",
            "password",
            "tls_ca",
            "tls_pin_sha256",
        ]
        assert spec.field("port").default == 8443
        assert [s.kind for s in spec.see_also] == ["custom"]
        assert "script-launch host" in spec.pages[0].about
    assert ngfw.title == "Ideco NGFW" and utm.title == "Ideco UTM"


# ---- passing -----------------------------------------------------------------------------------
def test_ok_with_the_test_ca(ws, kind, box, test_ca):
    tid = configure(ws, kind, box, tls_ca=test_ca.cert_pem)
    result = check(ws, tid, kind)
    assert result.category is Category.OK, result.message
    title = catalog.spec_for(kind).title
    assert result.message == (
        f"Connected: {title} accepted '{ideco.USER}' (logged in at /web/auth/login); firewall status: "
        "rules-in-kernel: active, auto-snat: active."
    )
    assert result.warnings == [] and result.level == "ok"
    assert calls(box) == [
        ("POST", "/web/auth/login"),
        ("GET", "/firewall/status"),
        ("DELETE", "/web/auth/login"),
    ]
    expected = {"login": ideco.USER, "password": ideco.PASSWORD, "rest_path": "/"}
    if kind == "ideco-utm":
        expected["recaptcha"] = ""
    assert box.login_bodies == [expected]
    # Both cookies went back on the read and on the log-out.
    for r in box.requests[1:]:
        cookie = r.header("Cookie") or ""
        assert f"{ideco.SESSION_COOKIE}=" in cookie and ideco.SECURE_COOKIE_PREFIX in cookie
    left_nothing_open(box)
    assert result.details["login_path"] == "/web/auth/login"
    assert ideco.PASSWORD not in json.dumps(result.public()) + json.dumps(result.to_dict())


def test_ok_with_a_pinned_self_signed_certificate(ws, kind, test_ca):
    cert = test_ca.issue(("ideco.acme.invalid",), self_signed=True)  # the box's own, at first start
    with ideco.IdecoPeer(cert, variant=VARIANT[kind]) as box:  # type: ignore[arg-type]
        tid = configure(ws, kind, box, tls_pin_sha256=cert.sha256)
        result = check(ws, tid, kind)
        assert result.category is Category.OK, result.message
        left_nothing_open(box)

        # Without the pin the certificate is not trusted; a wrong pin stops before a byte is sent.
        ws.update_integration("Acme", IntegrationEdit(kind, values={"tls_pin_sha256": ""}))
        assert check(ws, tid, kind).category is Category.TLS_UNTRUSTED
        ws.update_integration("Acme", IntegrationEdit(kind, values={"tls_pin_sha256": "ab" * 32}))
        result = check(ws, tid, kind)
        assert result.category is Category.TLS_PIN_MISMATCH
        assert format_fingerprint(cert.sha256) in result.message
        assert len(box.requests) == 3  # only those of the first check
        left_nothing_open(box)


def test_the_2024_login_path(ws, kind, server_cert, test_ca):
    with ideco.IdecoPeer(
        server_cert,
        variant=VARIANT[kind],  # type: ignore[arg-type]
        login_path=ideco.LOGIN_PATH_2024,
    ) as box:
        result = check(ws, configure(ws, kind, box, tls_ca=test_ca.cert_pem), kind)
        assert result.category is Category.OK, result.message
        assert (
            "(logged in at /web/admin/auth/login (/web/auth/login answered 404: the path of the 2024 "
            "versions))" in result.message
        )
        assert result.details["login_path"] == "/web/admin/auth/login"
        assert calls(box) == [
            ("POST", "/web/auth/login"),
            ("POST", "/web/admin/auth/login"),
            ("GET", "/firewall/status"),
            ("DELETE", "/web/admin/auth/login"),
        ]
        left_nothing_open(box)


def test_ipv6(ws, server_cert, test_ca):
    with ideco.IdecoPeer(server_cert, host="::1") as box:
        result = check(ws, configure(ws, "ideco-ngfw", box, tls_ca=test_ca.cert_pem), "ideco-ngfw")
        assert result.category is Category.OK, result.message
        assert result.target == f"[::1]:{box.port}"
        left_nothing_open(box)


# ---- failures ------------------------------------------------------------------------------------
def test_wrong_password(ws, kind, box, test_ca):
    result = check(ws, configure(ws, kind, box, tls_ca=test_ca.cert_pem, password="wrong-pass"), kind)
    assert result.category is Category.AUTH_FAILED
    title = catalog.spec_for(kind).title
    assert result.message.startswith(
        f"{title} refused the login of '{ideco.USER}' (HTTP 401) (Ideco said: \"Invalid login or "
        'password"): the user name or the password is wrong'
    )
    assert calls(box) == [("POST", "/web/auth/login")]  # a 401 is not a reason to try the other path
    assert box.logins == 0


def test_the_other_kinds_login_form(ws, server_cert, test_ca):
    with ideco.IdecoPeer(server_cert, variant="utm") as box:
        result = check(ws, configure(ws, "ideco-ngfw", box, tls_ca=test_ca.cert_pem), "ideco-ngfw")
        assert result.category is Category.INVALID_CONFIG
        assert result.message.startswith(
            'The box refused the login form of Ideco NGFW (HTTP 542) (Ideco said: "Missing fields: '
            'recaptcha"): it may be another version of the product; choose the integration Ideco UTM'
        )
        assert box.logins == 0


def test_too_many_sessions(ws, kind, server_cert, test_ca):
    with ideco.IdecoPeer(server_cert, variant=VARIANT[kind], max_sessions=1) as box:  # type: ignore[arg-type]
        body = {"login": ideco.USER, "password": ideco.PASSWORD, "rest_path": "/", "recaptcha": ""}
        # Someone else (the web interface) holds the account's one session.
        with httpx.Client(verify=ssl.create_default_context(cadata=test_ca.cert_pem)) as other:
            assert other.post(f"https://127.0.0.1:{box.port}/web/auth/login", json=body).status_code == 200
        result = check(ws, configure(ws, kind, box, tls_ca=test_ca.cert_pem), kind)
        assert result.category is Category.FORBIDDEN
        assert (
            "too many sessions open" in result.message and "Log out of the other sessions" in result.message
        )
        assert result.details["code"] == "too_many_sessions"
        assert box.open_sessions == 1 and box.logins == 1  # the other one's; the check opened none


def test_not_an_ideco(ws, server_cert, test_ca):
    with ideco.IdecoPeer(server_cert, login_path="/somewhere/else") as box:  # both paths: 404
        result = check(ws, configure(ws, "ideco-ngfw", box, tls_ca=test_ca.cert_pem), "ideco-ngfw")
        assert result.category is Category.PROTOCOL_ERROR
        assert "has neither /web/auth/login nor /web/admin/auth/login (HTTP 404 for both)" in result.message


def test_the_session_ends_before_the_read(ws, server_cert, test_ca):
    clock = ManualClock()
    with HeldIdeco(server_cert, clock=clock, session_timeout=60, before=lambda: clock.advance(61)) as box:
        result = check(ws, configure(ws, "ideco-ngfw", box, tls_ca=test_ca.cert_pem), "ideco-ngfw")
        assert result.category is Category.PROTOCOL_ERROR
        assert "did not accept the session it had just opened (HTTP 401 for /firewall/status)" in (
            result.message
        )
        assert calls(box)[-1] == ("DELETE", "/web/auth/login")  # tried anyway
        assert box.open_sessions == 0


def test_nothing_listening(ws, box, kind, test_ca):
    tid = configure(ws, kind, box, tls_ca=test_ca.cert_pem)
    ws.update_integration("Acme", IntegrationEdit(kind, values={"port": "1"}, keep_secrets=True))
    assert check(ws, tid, kind).category is Category.UNREACHABLE


# ---- always logs out ---------------------------------------------------------------------------
def test_a_cancelled_check_still_logs_out(ws, kind, server_cert, test_ca):
    with HeldIdeco(server_cert, variant=VARIANT[kind]) as box:
        tid = configure(ws, kind, box, tls_ca=test_ca.cert_pem)
        cancel = threading.Event()
        results: list[Outcome] = []
        runner = threading.Thread(target=lambda: results.extend(run_operation(ws, tid, kind, cancel=cancel)))
        runner.start()
        assert box.status_asked.wait(10)
        cancel.set()
        runner.join(10)
        [result] = results
        assert result.category is Category.CANCELLED  # said at once, the status still unanswered
        assert box.logouts == 0
        # The request under way is left to finish (signed_in: within the timeout), then the
        # session is logged out.
        box.release.set()
        assert wait_until(lambda: box.open_sessions == 0)
        assert box.logouts == 1 and calls(box)[-1] == ("DELETE", "/web/auth/login")


def test_a_failed_logout_is_a_warning(ws, server_cert, test_ca):
    class NoLogout(ideco.IdecoPeer):
        def _route(self, req: Request) -> Reply:
            if req.method == "DELETE":
                return Reply(502, {"message": "Bad Gateway"})
            return super()._route(req)

    with NoLogout(server_cert) as box:
        result = check(ws, configure(ws, "ideco-ngfw", box, tls_ca=test_ca.cert_pem), "ideco-ngfw")
        assert result.category is Category.OK
        [warning] = result.warnings
        assert warning.startswith("The check could not log out (") and "HTTP 502" in warning
        assert result.level == "warning"


def test_the_paths_are_tried_in_a_fixed_order():
    assert api.LOGIN_PATHS == (ideco.LOGIN_PATH, ideco.LOGIN_PATH_2024)
