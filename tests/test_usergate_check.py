"""UserGate: the check through the real stack (workspace, secret store, engine, request helper)
against the UserGate XML-RPC peer on loopback (tests/support/usergate_peer.py). After every
check, passed, failed or cancelled, the peer holds no session."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support import usergate_peer as ug
from support.https_peer import HttpsPeer, Reply
from support.peer_common import ManualClock
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.integrations.usergate import rpc
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.workspace import IntegrationEdit, Workspace

CLOSED_PORT = 1


def configure(
    ws: Workspace, peer: Any, *, tenant: str = "Acme", password: str = ug.PASSWORD, **values: Any
) -> str:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {"host": peer.host, "port": str(peer.port), "username": ug.USER, **values}
    ws.update_integration(
        tenant, IntegrationEdit("usergate", values=settings, secrets={"password": password}, enabled=True)
    )
    return ws.tenant(tenant).id


def check(ws: Workspace, tid: str, **kw: Any) -> Outcome:
    [result] = run_operation(ws, tid, "usergate", **kw)
    return result


def wait_until(condition: Callable[[], bool]) -> bool:
    """For what the operation's own thread finishes after a cancelled check (not a timing check)."""
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def left_nothing_open(peer: ug.UserGatePeer) -> None:
    assert peer.open_sessions == 0
    assert peer.logouts == peer.logins


@pytest.fixture
def usergate() -> Iterator[ug.UserGatePeer]:
    with ug.UserGatePeer(ip_lists={"XDR block": ["127.0.0.7"], "XDR block (old)": []}) as peer:
        yield peer


def hold(peer: ug.UserGatePeer, method: str, before: Callable[[], object] | None = None) -> threading.Event:
    """Make the peer's `method` wait until the returned event is set (or run `before` first)."""
    release = threading.Event()
    original = peer._methods[method]

    def held(*params: Any) -> Any:
        if before is not None:
            before()
        else:
            release.wait(20)
        return original(*params)

    peer._methods[method] = held
    return release


# ---- the spec --------------------------------------------------------------------------------
def test_fields_pages_and_the_script_host():
    spec = catalog.spec_for("usergate")
    assert [f.name for f in spec.fields] == ["host", "port", "username", "password", "block_list"]
    assert spec.field("port").default == 4040
    assert [f.name for f in spec.secret_fields] == ["password"]
    assert [s.kind for s in spec.see_also] == ["custom"]
    assert "script-launch host" in spec.pages[0].about
    assert spec.target_fields == ("host", "port")


# ---- passing -----------------------------------------------------------------------------------
def test_ok_logs_in_and_out_and_warns_of_plain_http(ws, usergate):
    tid = configure(ws, usergate)
    result = check(ws, tid)
    assert result.category is Category.OK, result.message
    assert result.message.startswith("Connected: UserGate 7.1.1.12345R (utmcore@ngfw-test) accepted")
    assert "no IP list is named" in result.message
    [warning] = result.warnings
    assert "password crosses the network in clear" in warning and "Network → Zones" in warning
    assert result.level == "warning"
    assert usergate.methods_called() == ["v2.core.node.status", "v2.core.login", "v2.core.logout"]
    login = usergate.calls[1]
    assert login.params[:2] == (ug.USER, ug.PASSWORD) and login.params[2] == {"origin": "xdrconf"}
    left_nothing_open(usergate)
    assert result.target == f"127.0.0.1:{usergate.port}"
    text = json.dumps(result.public()) + json.dumps(result.to_dict())
    assert ug.PASSWORD not in text


def test_the_ip_list_is_compared_by_its_exact_name(ws, usergate):
    tid = configure(ws, usergate, block_list="XDR block")
    result = check(ws, tid)
    assert result.category is Category.OK, result.message
    assert "the IP list 'XDR block' exists" in result.message
    assert result.details["block_list_id"] == 1
    [lists] = [c for c in usergate.calls if c.method == "v2.nlists.list"]
    assert lists.params[1:] == ("network", 0, 100, {"search": "XDR block"})
    left_nothing_open(usergate)

    # The box's search matches names that contain the text, in any case: both are not "the" list.
    for name, similar in (("XDR", "'XDR block', 'XDR block (old)'"), ("xdr block", "'XDR block'")):
        ws.update_integration("Acme", IntegrationEdit("usergate", values={"block_list": name}))
        result = check(ws, tid)
        assert result.category is Category.INVALID_CONFIG, result.message
        assert f"no IP list named exactly '{name}' (similar names: {similar}" in result.message
        assert "(Libraries → IP addresses)" in result.message
        left_nothing_open(usergate)

    ws.update_integration("Acme", IntegrationEdit("usergate", values={"block_list": "Quarantine"}))
    result = check(ws, tid)
    assert result.category is Category.INVALID_CONFIG
    assert result.message.startswith("UserGate has no IP list named 'Quarantine'; create it")
    left_nothing_open(usergate)


def test_many_lists_are_read_page_by_page(ws):
    lists: dict[str, list[str]] = {f"XDR block {n:03}": [] for n in range(250)}
    lists["XDR block"] = []  # the last one the search finds
    with ug.UserGatePeer(ip_lists=lists) as peer:
        tid = configure(ws, peer, block_list="XDR block")
        result = check(ws, tid)
        assert result.category is Category.OK, result.message
        starts = [c.params[2] for c in peer.calls if c.method == "v2.nlists.list"]
        assert starts == [0, 100, 200]
        left_nothing_open(peer)


def test_ipv6(ws):
    with ug.UserGatePeer(host="::1") as peer:
        tid = configure(ws, peer)
        result = check(ws, tid)
        assert result.category is Category.OK, result.message
        assert result.target == f"[::1]:{peer.port}"
        left_nothing_open(peer)


# ---- faults ------------------------------------------------------------------------------------
def test_wrong_password(ws, usergate):
    tid = configure(ws, usergate, password="not-the-password")
    result = check(ws, tid)
    assert result.category is Category.AUTH_FAILED
    code, text = ug.WRONG_PASSWORD_FAULT
    assert code in rpc.WRONG_PASSWORD_FAULTS  # the one inferred constant, as the peer infers it
    assert result.message.startswith(f"UserGate refused the login of '{ug.USER}' (Fault {code} \"{text}\")")
    assert "not-the-password" not in json.dumps(result.public())
    assert usergate.logins == 0 and usergate.open_sessions == 0


@pytest.mark.parametrize("code", [5, 102])
def test_no_right_on_named_lists(ws, code):
    with ug.UserGatePeer(
        ip_lists={"XDR block": []}, permissions={ug.USER: {"core"}}, no_permission_code=code
    ) as peer:
        tid = configure(ws, peer, block_list="XDR block")
        result = check(ws, tid)
        assert result.category is Category.FORBIDDEN
        assert f"(Fault {code} " in result.message and "named lists (nlists)" in result.message
        assert result.details == {"fault": code, "method": "v2.nlists.list", "code": "forbidden"} or (
            result.details["fault"] == code
        )
        assert peer.methods_called()[-1] == "v2.core.logout"
        left_nothing_open(peer)


def test_a_session_that_times_out_at_once(ws):
    clock = ManualClock()
    with ug.UserGatePeer(ip_lists={"XDR block": []}, clock=clock, session_timeout=60) as peer:
        hold(peer, "v2.nlists.list", before=lambda: clock.advance(61))
        tid = configure(ws, peer, block_list="XDR block")
        result = check(ws, tid)
        assert result.category is Category.AUTH_FAILED
        assert result.message.startswith('UserGate ended the session at once (Fault 104 "Session timed out"')
        assert peer.methods_called()[-1] == "v2.core.logout"  # tried, although the box ended it
        assert peer.open_sessions == 0 and peer.logouts == 0


def test_a_node_that_does_not_work(ws):
    with ug.UserGatePeer(node_status="init") as peer:
        tid = configure(ws, peer)
        result = check(ws, tid)
        assert result.category is Category.SERVER_ERROR
        assert "its node is 'init', not 'work'" in result.message
        assert peer.methods_called() == ["v2.core.node.status"]


def test_not_a_usergate(ws, server_cert):
    from support.ideco_peer import IdecoPeer

    with IdecoPeer(server_cert) as box:  # HTTPS, not XML-RPC over plain HTTP
        tid = configure(ws, box)
        result = check(ws, tid)
        # A TLS server resets plain HTTP as a zone that does not allow the caller does.
        assert result.category is Category.UNREACHABLE, result.message
        assert "A port that is not the XML-RPC API's (4040 by default)" in result.message
        assert box.open_sessions == 0


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(404, "Not Found"), "has no XML-RPC API at /rpc (HTTP 404)"),
        (Reply(200, "<html><body>UserGate</body></html>"), "did not answer v2.core.node.status in XML-RPC"),
    ],
)
def test_a_web_server_that_is_not_the_api(ws, reply, words):
    with HttpsPeer(lambda request: reply, cert=None) as web:  # plain HTTP
        result = check(ws, configure(ws, web))
        assert result.category is Category.PROTOCOL_ERROR
        assert words in result.message


def test_nothing_listening(ws, usergate):
    tid = configure(ws, usergate)
    ws.update_integration(
        "Acme", IntegrationEdit("usergate", values={"port": str(CLOSED_PORT)}, keep_secrets=True)
    )
    result = check(ws, tid)
    assert result.category is Category.UNREACHABLE
    assert "refused the connection" in result.message


# ---- the zone's access control --------------------------------------------------------------
def test_a_caller_the_zone_does_not_allow_is_reset(ws):
    # Connections to 127.x come from 127.0.0.1: an allow list of 127.0.0.5 keeps this computer out.
    with ug.UserGatePeer(allowed_clients=["127.0.0.5"]) as peer:
        tid = configure(ws, peer)
        result = check(ws, tid)
        assert result.category is Category.UNREACHABLE
        # A reset that lands before the client has read anything is usually seen as a reset;
        # now and then (kernel timing under load) the TLS layer reports it as the connection
        # closed without an answer. Both name the zone's access control.
        reset = result.details["code"] == "connection_reset"
        assert reset or result.details["code"] == "connection_closed", result.details
        shown = "resets the connection" if reset else "closes the connection without an answer"
        assert result.message.startswith(
            f"127.0.0.1:{peer.port} {shown}: XML-RPC management may not be allowed from "
            "this computer's address in the zone's access control."
        )
        assert "Network → Zones" in result.message
        assert peer.denied_connections == ["127.0.0.1"] and peer.calls == []


def test_a_caller_the_zone_does_not_allow_is_closed(ws):
    with ug.UserGatePeer(allowed_clients=["127.0.0.5"], denied_as="close") as peer:
        tid = configure(ws, peer)
        result = check(ws, tid)
        assert result.category is Category.UNREACHABLE
        assert "closes the connection without an answer: XML-RPC management may not be allowed" in (
            result.message
        )
        assert result.details["code"] == "connection_closed"


def test_a_caller_the_zone_allows(ws):
    with ug.UserGatePeer(allowed_clients=["127.0.0.1", "::1"]) as peer:
        result = check(ws, configure(ws, peer))
        assert result.category is Category.OK, result.message
        assert peer.denied_connections == []
        left_nothing_open(peer)


# ---- always logs out ---------------------------------------------------------------------------
def test_a_cancelled_check_still_logs_out(ws):
    with ug.UserGatePeer(ip_lists={"XDR block": []}) as peer:
        release = hold(peer, "v2.nlists.list")
        tid = configure(ws, peer, block_list="XDR block")
        cancel = threading.Event()
        results: list[Outcome] = []
        runner = threading.Thread(
            target=lambda: results.extend(run_operation(ws, tid, "usergate", cancel=cancel))
        )
        runner.start()
        assert wait_until(lambda: "v2.nlists.list" in peer.methods_called())
        cancel.set()
        runner.join(10)
        [result] = results
        assert result.category is Category.CANCELLED  # said at once, the list still unanswered
        assert peer.logouts == 0
        # The call under way is left to finish (signed_in: within the timeout), then the session
        # is logged out.
        release.set()
        assert wait_until(lambda: peer.open_sessions == 0)
        assert peer.methods_called()[-1] == "v2.core.logout" and peer.logouts == 1


def test_a_check_that_times_out_still_logs_out(ws):
    with ug.UserGatePeer(ip_lists={"XDR block": []}) as peer:
        release = hold(peer, "v2.nlists.list")
        tid = configure(ws, peer, block_list="XDR block")
        result = check(ws, tid, timeout=0.5)
        assert result.category is Category.TIMEOUT
        assert wait_until(lambda: peer.open_sessions == 0)
        assert peer.logouts == 1
        release.set()


def test_a_failed_logout_is_a_warning(ws):
    with ug.UserGatePeer() as peer:

        def refuse(token: Any) -> bool:
            raise ug.xmlrpc.client.Fault(500, "Internal error")

        peer._methods["v2.core.logout"] = refuse
        result = check(ws, configure(ws, peer))
        assert result.category is Category.OK
        assert result.warnings[-1].startswith("The check could not log out ("), result.warnings
        assert "Internal error" in result.warnings[-1] and "its idle timeout" in result.warnings[-1]


# ---- the command line --------------------------------------------------------------------------
def test_cli_check_json(cli, usergate):
    assert cli("tenant", "add", "Acme").code == 0
    set_ = cli(
        "integration",
        "set",
        "Acme",
        "usergate",
        "host=127.0.0.1",
        f"port={usergate.port}",
        f"username={ug.USER}",
        "block_list=XDR block",
        "--secret",
        "password",
        stdin=ug.PASSWORD + "\n",
    )
    assert set_.code == 0, set_.err
    assert cli("integration", "enable", "Acme", "usergate").code == 0
    out = cli("usergate", "check", "Acme", "--json")
    assert out.code == 0, out.err
    [data] = json.loads(out.out)
    assert data["category"] == "ok" and data["verified"] is True
    assert "in clear" in data["warnings"][0]
    assert ug.PASSWORD not in out.out + out.err
    left_nothing_open(usergate)
