"""Check Point NGFW: the check through the real stack (engine, keyring, TLS with the test CA or a
pin) against the Management API peer on loopback: a read-only login, show-session, show-group,
and a logout after every check — passed, failed, timed out or cancelled (the peer counts the
sessions still open)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from support import checkpoint_peer as cp
from support.https_peer import Reply, Request
from support.peer_common import ManualClock
from support.pki import Issued, TestCA
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.integrations.checkpoint.api import SESSION_TIMEOUT
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.workspace import IntegrationEdit, Workspace


def configure(
    ws: Workspace,
    peer: cp.CheckPointPeer,
    *,
    tenant: str = "Acme",
    trust: dict[str, str] | None = None,
    secrets: dict[str, str | None] | None = None,
    **values: str,
) -> str:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {"host": "127.0.0.1", "port": str(peer.port), **(trust or {}), **values}
    given: dict[str, str | None] = secrets if secrets is not None else {"api_key": cp.API_KEY}
    ws.update_integration(tenant, IntegrationEdit("checkpoint", values=settings, secrets=given, enabled=True))
    return ws.tenant(tenant).id


def check(ws: Workspace, tid: str, **kw: Any) -> Outcome:
    [result] = run_operation(ws, tid, "checkpoint", **kw)
    return result


@pytest.fixture
def mgmt(server_cert: Issued) -> Iterator[cp.CheckPointPeer]:
    with cp.CheckPointPeer(
        server_cert, groups={"XDR_Blocked": ["evil-1", "evil-2"]}, hosts={"evil-1": "127.0.0.9"}
    ) as peer:
        yield peer


def ca(test_ca: TestCA) -> dict[str, str]:
    return {"tls_ca": test_ca.cert_pem}


def commands(peer: cp.CheckPointPeer) -> list[str]:
    return [c for c, _sid in peer.commands]


# ---- settings ---------------------------------------------------------------------------------
def test_fields_and_pages():
    spec = catalog.spec_for("checkpoint")
    assert [f.name for f in spec.fields] == [
        "host",
        "port",
        "domain",
        "auth",
        "api_key",
        "username",
        "password",
        "block_group",
        "tls_ca",
        "tls_pin_sha256",
    ]
    assert spec.defaults() == {"port": 443, "auth": "api_key"}
    assert spec.target_fields == ("host", "port")
    assert [s.kind for s in spec.see_also] == ["custom"]
    shown = {name for page in spec.pages for name in page.fields}
    assert shown == {f.name for f in spec.fields}
    assert "add them as host objects to a network group" in str(spec.description)


def test_the_chosen_login_decides_what_is_missing(ws):
    ws.add_tenant("Acme")
    ws.update_integration("Acme", IntegrationEdit("checkpoint", values={"host": "mgmt.acme.invalid"}))
    assert ws.missing(ws.tenant("Acme"), "checkpoint") == ["API key"]
    ws.update_integration("Acme", IntegrationEdit("checkpoint", values={"auth": "password"}))
    assert ws.missing(ws.tenant("Acme"), "checkpoint") == ["User name", "Password"]


# ---- the check ---------------------------------------------------------------------------------
def test_api_key_read_only_login_then_logout(ws, mgmt, test_ca):
    tid = configure(ws, mgmt, trust=ca(test_ca))
    result = check(ws, tid)
    assert result.category is Category.OK, result.message
    assert result.verified and not result.warnings and result.level == "ok"
    assert f"Connected: 127.0.0.1:{mgmt.port} (Management API 1.9)" in result.message
    assert f"read-only login as '{cp.USER}'" in result.message and "Logged out." in result.message
    assert commands(mgmt) == ["login", "show-session", "logout"]
    assert mgmt.read_only_requested == [True]
    [body] = mgmt.login_bodies
    assert body == {"api-key": cp.API_KEY, "read-only": True, "session-timeout": SESSION_TIMEOUT}
    sids = {sid for c, sid in mgmt.commands if c != "login"}
    assert len(sids) == 1 and None not in sids  # the login's sid, as X-chkp-sid
    assert mgmt.open_sessions == 0 and mgmt.logins == mgmt.logouts == 1
    assert cp.API_KEY not in json.dumps(result.to_dict())


def test_password_login_with_a_pin_and_the_block_group(ws, mgmt, server_cert):
    pin = {"tls_pin_sha256": format_fingerprint(server_cert.sha256)}
    tid = configure(
        ws,
        mgmt,
        trust=pin,
        secrets={"password": cp.PASSWORD},
        auth="password",
        username=cp.USER,
        block_group="XDR_Blocked",
    )
    result = check(ws, tid)
    assert result.category is Category.OK, result.message
    assert "The network group 'XDR_Blocked' exists (2 members)." in result.message
    assert result.details["group_members"] == 2
    assert commands(mgmt) == ["login", "show-session", "show-group", "logout"]
    assert mgmt.login_bodies[0]["user"] == cp.USER and mgmt.login_bodies[0]["password"] == cp.PASSWORD
    assert mgmt.open_sessions == 0


def test_a_missing_block_group_is_said_and_logged_out(ws, mgmt, test_ca):
    tid = configure(ws, mgmt, trust=ca(test_ca), block_group="XDR_Blocklist")
    result = check(ws, tid)
    assert result.category is Category.INVALID_CONFIG
    assert "the network group 'XDR_Blocklist' that the response scripts fill does not exist" in result.message
    assert commands(mgmt)[-1] == "logout" and mgmt.open_sessions == 0


@pytest.mark.parametrize("code", ["err_login_failed", "err_login_failed_wrong_username_or_password"])
def test_wrong_password(ws, server_cert, test_ca, code):
    with cp.CheckPointPeer(server_cert, wrong_password_code=code) as mgmt:
        tid = configure(
            ws,
            mgmt,
            trust=ca(test_ca),
            secrets={"password": "not-this-one"},
            auth="password",
            username=cp.USER,
        )
        result = check(ws, tid)
        assert result.category is Category.AUTH_FAILED
        assert f'({code}: "Authentication to server failed.")' in result.message
        assert "did not accept the user name or password" in result.message
        assert "Multi-Domain" not in result.message
        assert commands(mgmt) == ["login"] and mgmt.open_sessions == 0 and mgmt.logins == 0


def test_wrong_api_key(ws, mgmt, test_ca):
    tid = configure(ws, mgmt, trust=ca(test_ca), secrets={"api_key": "not-the-key"})
    result = check(ws, tid)
    assert result.category is Category.AUTH_FAILED and "did not accept the API key" in result.message
    assert "not-the-key" not in result.message and mgmt.open_sessions == 0


def test_multi_domain(ws, server_cert, test_ca):
    with cp.CheckPointPeer(server_cert, domains=["SOC-Domain"], groups={"XDR_Blocked": []}) as mgmt:
        tid = configure(ws, mgmt, trust=ca(test_ca), domain="SOC-Domain", block_group="XDR_Blocked")
        result = check(ws, tid)
        assert result.category is Category.OK, result.message
        assert "The session is in the domain 'SOC-Domain'." in result.message
        assert mgmt.login_bodies[-1]["domain"] == "SOC-Domain"
        assert result.details["domain"] == "SOC-Domain"
        # A wrong domain looks exactly like a wrong key: the message names both.
        ws.update_integration("Acme", IntegrationEdit("checkpoint", values={"domain": "SOC"}))
        result = check(ws, tid)
        assert result.category is Category.AUTH_FAILED
        assert "did not accept the API key, or the domain 'SOC' does not exist" in result.message
        assert "Check Point answers both the same way" in result.message
        assert mgmt.open_sessions == 0 and mgmt.logins == mgmt.logouts == 1


def test_no_permission_for_the_read_only_call(ws, server_cert, test_ca):
    with cp.CheckPointPeer(server_cert, no_permission=["show-session"]) as mgmt:
        tid = configure(ws, mgmt, trust=ca(test_ca))
        result = check(ws, tid)
        assert result.category is Category.FORBIDDEN
        assert "may not run 'show-session' (generic_err_no_permissions" in result.message
        assert commands(mgmt) == ["login", "show-session", "logout"] and mgmt.open_sessions == 0


def test_too_many_sessions_has_its_own_words(ws, server_cert, test_ca):
    with cp.CheckPointPeer(server_cert, max_sessions=1) as mgmt:
        theirs = mgmt.sessions.open(cp.USER)  # the response scripts' session, still open
        tid = configure(ws, mgmt, trust=ca(test_ca))
        result = check(ws, tid)
        assert result.category is Category.QUOTA_EXCEEDED
        assert "the administrator of this API key already has an open session" in result.message
        assert "err_login_failed_more_than_one_opened_session" in result.message
        assert "Sessions → View Sessions" in result.message
        assert mgmt.open_sessions == 1  # only theirs: the check opened none
        mgmt.sessions.close(theirs.token)
        assert check(ws, tid).category is Category.OK and mgmt.open_sessions == 0


def test_rate_limited_at_the_login(ws, server_cert, test_ca):
    with cp.CheckPointPeer(server_cert, rate_limit=(0, 60)) as mgmt:
        tid = configure(ws, mgmt, trust=ca(test_ca))
        result = check(ws, tid)
        assert result.category is Category.RATE_LIMITED
        assert "limiting the rate of API requests (err_too_many_requests" in result.message
        assert mgmt.open_sessions == 0 and mgmt.logins == 0


def test_rate_limited_after_the_login_says_the_session_is_left_to_expire(ws, server_cert, test_ca):
    """The limit also refuses the logout: the message says so, and the short session-timeout
    the check asked for ends the session (a clock moved by hand)."""
    clock = ManualClock()
    with cp.CheckPointPeer(server_cert, rate_limit=(1, 60), clock=clock) as mgmt:
        tid = configure(ws, mgmt, trust=ca(test_ca))
        result = check(ws, tid)
        assert result.category is Category.RATE_LIMITED
        assert "The check could not log out" in result.message
        assert commands(mgmt) == ["login"]  # the others were refused before they were recorded
        assert mgmt.open_sessions == 1
        clock.advance(SESSION_TIMEOUT + 1)
        assert mgmt.open_sessions == 0


def test_untrusted_certificate_and_wrong_pin_send_nothing(ws, mgmt):
    tid = configure(ws, mgmt)
    result = check(ws, tid)
    assert result.category is Category.TLS_UNTRUSTED
    ws.update_integration("Acme", IntegrationEdit("checkpoint", values={"tls_pin_sha256": "ab" * 32}))
    result = check(ws, tid)
    assert result.category is Category.TLS_PIN_MISMATCH
    assert mgmt.requests == [] and mgmt.open_sessions == 0


def test_not_a_management_server(ws, server_cert, test_ca):
    from support.https_peer import HttpsPeer

    with HttpsPeer(
        lambda req: Reply(404, "<html>Not Found</html>", {"Content-Type": "text/html"}), cert=server_cert
    ) as web:
        ws.add_tenant("Acme")
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "checkpoint",
                values={"host": "127.0.0.1", "port": str(web.port), "tls_ca": test_ca.cert_pem},
                secrets={"api_key": cp.API_KEY},
            ),
        )
        result = check(ws, ws.tenant("Acme").id)
    assert result.category is Category.PROTOCOL_ERROR
    assert "has no Check Point Management API at /web_api (HTTP 404)" in result.message


# ---- a check that ends early still logs out -----------------------------------------------------
class Slow:
    """Delays the answer to one command (the peer's route, wrapped) and says when it arrived."""

    def __init__(self, peer: cp.CheckPointPeer, delay: float, command: str = "show-session") -> None:
        self.route, self.delay, self.command = peer.route, delay, command
        self.arrived = threading.Event()
        peer.route = self

    def __call__(self, req: Request) -> Reply | object:
        reply = self.route(req)
        if req.path.endswith(f"/{self.command}") and isinstance(reply, Reply):
            self.arrived.set()
            reply.delay = self.delay
        return reply


def wait_for(condition: Any, seconds: float = 10.0) -> bool:
    done = threading.Event()
    for _tick in range(int(seconds / 0.02)):
        if condition():
            return True
        done.wait(0.02)
    return bool(condition())


@pytest.mark.parametrize("during", ["login", "show-session"])
def test_a_cancelled_check_logs_out(ws, mgmt, test_ca, during):
    """Cancelled while the login or the read-only call is under way: the answer is awaited
    (cutting it off would leave the peer's session unknown to us) and the session ended."""
    slow = Slow(mgmt, delay=1.0, command=during)
    tid = configure(ws, mgmt, trust=ca(test_ca))
    cancel = threading.Event()

    def cancel_when_asked() -> None:
        slow.arrived.wait(10)
        cancel.set()

    threading.Thread(target=cancel_when_asked, daemon=True).start()
    result = check(ws, tid, cancel=cancel)
    assert result.category is Category.CANCELLED  # said at once; the session ends next
    assert wait_for(lambda: mgmt.logouts == 1)
    assert mgmt.open_sessions == 0 and mgmt.logins == 1
    expected = ["login", "logout"] if during == "login" else ["login", "show-session", "logout"]
    assert commands(mgmt) == expected


def test_a_check_that_times_out_logs_out(ws, mgmt, test_ca):
    Slow(mgmt, delay=2.0)
    tid = configure(ws, mgmt, trust=ca(test_ca))
    result = check(ws, tid, timeout=0.5)
    assert result.category is Category.TIMEOUT
    assert wait_for(lambda: mgmt.open_sessions == 0)
    assert commands(mgmt)[-1] == "logout"


# ---- the command line ------------------------------------------------------------------------------
def test_cli_check_json(cli, mgmt, test_ca):
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "integration",
        "set",
        "Acme",
        "checkpoint",
        "host=127.0.0.1",
        f"port={mgmt.port}",
        f"tls_ca=@{test_ca.cert_path}",
        "--secret",
        "api_key",
        stdin=cp.API_KEY + "\n",
    )
    assert r.code == 0, r
    assert cli("integration", "enable", "Acme", "checkpoint").code == 0
    r = cli("checkpoint", "check", "Acme", "--json")
    assert r.code == 0, r
    [out] = json.loads(r.out)
    assert out["category"] == "ok" and out["verified"] is True and out["integration"] == "checkpoint"
    assert mgmt.open_sessions == 0
    r = cli("check", "Acme")
    assert r.code == 0 and r.out.startswith("ok  Root tenant/Acme / checkpoint [127.0.0.1:"), r


def test_cli_help_names_the_script_launch_host(capsys):
    from xdrconf.cli.main import run

    with pytest.raises(SystemExit) as done:
        run(["checkpoint", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "auth — Log in with (choice; required; one of: api_key, password; default: api_key)" in text
    assert "api_key — API key (secret; required; when auth=api_key" in text
    assert "run on the script-launch host, which XDR reaches through this tenant's Custom integration" in text
