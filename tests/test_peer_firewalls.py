"""The firewall test peers behave as the vendors document them (shared/INTEGRATIONS.md), so the
integrations can be tested against them. Driven only with httpx, xmlrpc.client and ssl — no
xdrconf code — over real sockets on loopback, TLS verified with the tests' own CA."""

from __future__ import annotations

import errno
import hashlib
import http.client
import socket
import ssl
import time
import xml.etree.ElementTree as ET
import xmlrpc.client
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest

from support import checkpoint_peer as cp
from support import ideco_peer as ideco
from support import sophos_peer as sophos
from support import usergate_peer as ug
from support.peer_common import ManualClock
from support.tls_peer import TlsPeer


def base(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def ca_context(test_ca: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=test_ca.cert_pem)


def served_cert_sha256(host: str, port: int) -> str:
    """The SHA-256 of the certificate a server presents, read without trusting it (a pin)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return hashlib.sha256(der).hexdigest()


def wait_until(condition: Any) -> None:
    """For what a peer's own thread records after the client is done (not a timing check)."""
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def https(test_ca: Any, peer: Any, **kw: Any) -> httpx.Client:
    return httpx.Client(
        base_url=base("https", peer.host, peer.port), verify=ca_context(test_ca), timeout=10, **kw
    )


# ---- UserGate ------------------------------------------------------------------------------------
class _Transport(xmlrpc.client.Transport):
    """xmlrpc.client with a timeout and, optionally, a chosen source address."""

    def __init__(self, source: str | None = None) -> None:
        super().__init__()
        self.source = source

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(
            host, timeout=10, source_address=(self.source, 0) if self.source else None
        )
        self._connection = host, conn  # so that close() (also on errors) closes it
        return conn


def rpc(peer: ug.UserGatePeer, source: str | None = None) -> Any:
    return xmlrpc.client.ServerProxy(peer.url, transport=_Transport(source), allow_none=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_usergate_status_login_list_logout(host):
    with ug.UserGatePeer(ip_lists={"XDR blocked": ["127.0.0.7"]}, host=host) as box:
        api = rpc(box)
        assert api.v2.core.node.status()["status"] == "work"
        assert box.open_sessions == 0
        login = api.v2.core.login(ug.USER, ug.PASSWORD, {"origin": "xdrconf"})
        assert set(login) == {"auth_token", "node", "version"}
        assert len(login["version"].split(".")) == 4
        assert box.open_sessions == 1
        token = login["auth_token"]
        assert api.v2.core.session.ping(token) is True
        lists = api.v2.nlists.list(token, "network", 0, 100, {"search": "XDR blocked"})
        assert [x["name"] for x in lists["items"]] == ["XDR blocked"]
        [entry] = api.v2.nlists.list.list(token, lists["items"][0]["id"], 0, 100, {})["items"]
        assert entry["value"] == "127.0.0.7"
        assert api.v2.core.logout(token) is True
        assert box.open_sessions == 0 and box.logins == 1 and box.logouts == 1
        assert box.methods_called() == [
            "v2.core.node.status",
            "v2.core.login",
            "v2.core.session.ping",
            "v2.nlists.list",
            "v2.nlists.list.list",
            "v2.core.logout",
        ]
        assert box.calls[1].params[2] == {"origin": "xdrconf"}
        assert box.calls[1].client == host


def test_usergate_search_matches_part_of_a_name():
    with ug.UserGatePeer(ip_lists={"XDR": [], "XDR old": [], "Other": []}) as box:
        api = rpc(box)
        token = api.v2.core.login(ug.USER, ug.PASSWORD, {"origin": "t"})["auth_token"]
        found = api.v2.nlists.list(token, "network", 0, 100, {"search": "xdr"})
        assert sorted(x["name"] for x in found["items"]) == ["XDR", "XDR old"]
        assert found["count"] == 2
        assert api.v2.nlists.list(token, "network", 0, 100, {"search": "absent"})["items"] == []
        assert api.v2.nlists.list(token, "url", 0, 100, {})["count"] == 0
        api.v2.core.logout(token)


def test_usergate_idle_session_times_out_with_fault_104():
    clock = ManualClock()
    with ug.UserGatePeer(session_timeout=60, clock=clock) as box:
        api = rpc(box)
        token = api.v2.core.login(ug.USER, ug.PASSWORD, {"origin": "t"})["auth_token"]
        clock.advance(50)
        assert api.v2.core.session.ping(token) is True  # use restarts the idle timer
        clock.advance(50)
        assert api.v2.core.session.ping(token) is True
        clock.advance(61)
        assert box.open_sessions == 0
        with pytest.raises(xmlrpc.client.Fault) as err:
            api.v2.core.session.ping(token)
        assert err.value.faultCode == 104


def test_usergate_faults():
    with ug.UserGatePeer(
        users={"ro": "pw", ug.USER: ug.PASSWORD}, permissions={"ro": {"core"}}, ip_lists={"L": []}
    ) as box:
        api = rpc(box)
        with pytest.raises(xmlrpc.client.Fault) as err:
            api.v2.core.login(ug.USER, "wrong", {"origin": "t"})
        assert err.value.faultCode == ug.WRONG_PASSWORD_FAULT[0]
        assert box.open_sessions == 0
        ro = api.v2.core.login("ro", "pw", {"origin": "t"})["auth_token"]
        with pytest.raises(xmlrpc.client.Fault) as err:
            api.v2.nlists.list(ro, "network", 0, 10, {})
        assert err.value.faultCode == ug.NO_PERMISSION_CODE == 5
        token = api.v2.core.login(ug.USER, ug.PASSWORD, {"origin": "t"})["auth_token"]
        with pytest.raises(xmlrpc.client.Fault) as err:
            api.v2.nlists.list.list(token, 999, 0, 10, {})
        assert err.value.faultCode == 404
        with pytest.raises(xmlrpc.client.Fault) as err:
            api.v2.core.session.ping("never-issued")
        assert err.value.faultCode == ug.BAD_TOKEN_FAULT[0]
        for t in (ro, token):
            api.v2.core.logout(t)
        with pytest.raises(xmlrpc.client.Fault):
            api.v2.core.logout(token)  # twice
        assert box.open_sessions == 0 and box.logouts == 2
    with ug.UserGatePeer(permissions={ug.USER: {"core"}}, no_permission_code=102) as box:
        api = rpc(box)
        token = api.v2.core.login(ug.USER, ug.PASSWORD, {"origin": "t"})["auth_token"]
        with pytest.raises(xmlrpc.client.Fault) as err:
            api.v2.nlists.list(token, "network", 0, 10, {})
        assert err.value.faultCode == 102


def test_usergate_answers_only_at_rpc():
    with ug.UserGatePeer() as box:
        other = xmlrpc.client.ServerProxy(box.url.replace("/rpc", "/xmlrpc"), transport=_Transport())
        with pytest.raises(xmlrpc.client.ProtocolError) as err:
            other.v2.core.node.status()
        assert err.value.errcode == 404


def test_usergate_zone_not_allowing_the_caller_resets_the_connection():
    # Any 127.x.y.z is reached from 127.0.0.1 unless the client binds another source.
    with ug.UserGatePeer(allowed_clients=["127.0.0.5"]) as box:
        with pytest.raises(OSError) as err:  # RST before the request is written: EPIPE
            rpc(box).v2.core.node.status()
        assert err.value.errno in (errno.ECONNRESET, errno.EPIPE)
        assert box.denied_connections and set(box.denied_connections) == {"127.0.0.1"}
        assert box.calls == []
        assert rpc(box, source="127.0.0.5").v2.core.node.status()["status"] == "work"
    with ug.UserGatePeer(allowed_clients=["127.0.0.5"], denied_as="close") as box:
        with pytest.raises(OSError):  # closed unanswered: RemoteDisconnected, or EPIPE on retry
            rpc(box).v2.core.node.status()
        assert box.denied_connections and box.calls == []


# ---- Ideco -------------------------------------------------------------------------------------
def login_body(variant: str, password: str = ideco.PASSWORD, rest_path: str = "/") -> dict:
    body = {"login": ideco.USER, "password": password, "rest_path": rest_path}
    return body | ({"recaptcha": ""} if variant == "utm" else {})


@pytest.mark.parametrize(("variant", "host"), [("ngfw", "127.0.0.1"), ("utm", "::1")])
def test_ideco_login_status_logout(server_cert, test_ca, variant, host):
    with ideco.IdecoPeer(server_cert, variant=variant, host=host) as box, https(test_ca, box) as client:
        r = client.post(ideco.LOGIN_PATH, json=login_body(variant))
        assert r.status_code == 200, r.text
        names = set(client.cookies.keys())
        assert ideco.SESSION_COOKIE in names
        assert any(n.startswith(ideco.SECURE_COOKIE_PREFIX) for n in names)
        secure = next(v for n, v in client.cookies.items() if n.startswith("__Secure-ideco-"))
        assert secure.count(":") == 1 and secure.rsplit(":", 1)[1].isdigit()
        assert box.open_sessions == 1
        r = client.get("/firewall/status")
        assert r.status_code == 200
        assert {x["name"] for x in r.json()} == {"rules-in-kernel", "auto-snat"}
        assert all(set(x) == {"name", "status", "msg"} for x in r.json())
        r = client.delete(ideco.LOGIN_PATH)
        assert r.status_code == 200
        assert all("Max-Age=0" in c for c in r.headers.get_list("set-cookie"))
        assert box.open_sessions == 0 and box.logouts == 1
        assert client.get("/firewall/status").status_code == 401
        assert box.login_bodies == [login_body(variant)]


def test_ideco_utm_requires_recaptcha_ngfw_does_not(server_cert, test_ca):
    with ideco.IdecoPeer(server_cert, variant="utm") as box, https(test_ca, box) as client:
        r = client.post(ideco.LOGIN_PATH, json=login_body("ngfw"))
        assert r.status_code == ideco.MISSING_FIELD_STATUS
        assert box.open_sessions == 0
    with ideco.IdecoPeer(server_cert, variant="ngfw") as box, https(test_ca, box) as client:
        assert client.post(ideco.LOGIN_PATH, json=login_body("ngfw")).status_code == 200
        client.delete(ideco.LOGIN_PATH)
        assert box.open_sessions == 0


def test_ideco_wrong_password_and_missing_cookies_answer_401(server_cert, test_ca):
    with ideco.IdecoPeer(server_cert) as box, https(test_ca, box) as client:
        r = client.post(ideco.LOGIN_PATH, json=login_body("ngfw", password="wrong"))
        assert (r.status_code, r.json()) == (401, ideco.WRONG_PASSWORD_BODY)
        assert client.get("/firewall/status").status_code == 401
        assert client.post(ideco.LOGIN_PATH, json=login_body("ngfw")).status_code == 200
        only_one = {ideco.SESSION_COOKIE: client.cookies[ideco.SESSION_COOKIE]}
        with https(test_ca, box, cookies=only_one) as half:
            assert half.get("/firewall/status").status_code == 401
        assert client.get("/firewall/status").status_code == 200
        client.delete(ideco.LOGIN_PATH)
        assert box.open_sessions == 0


def test_ideco_2024_login_path(server_cert, test_ca):
    with ideco.IdecoPeer(server_cert, login_path=ideco.LOGIN_PATH_2024) as box, https(test_ca, box) as client:
        assert client.post(ideco.LOGIN_PATH, json=login_body("ngfw")).status_code == 404
        assert box.open_sessions == 0
        assert client.post(ideco.LOGIN_PATH_2024, json=login_body("ngfw")).status_code == 200
        assert client.get("/firewall/status").status_code == 200
        assert client.delete(ideco.LOGIN_PATH_2024).status_code == 200
        assert box.open_sessions == 0
    with ideco.IdecoPeer(server_cert) as box, https(test_ca, box) as client:
        assert client.post(ideco.LOGIN_PATH_2024, json=login_body("ngfw")).status_code == 404


def test_ideco_cookie_path_is_rest_path(server_cert, test_ca):
    with ideco.IdecoPeer(server_cert) as box, https(test_ca, box) as client:
        r = client.post(ideco.LOGIN_PATH, json=login_body("ngfw", rest_path="/firewall"))
        [session] = [c for c in r.headers.get_list("set-cookie") if c.startswith(ideco.SESSION_COOKIE)]
        assert "Path=/firewall" in session
        assert client.get("/firewall/status").status_code == 200
        client.delete(ideco.LOGIN_PATH)


def test_ideco_session_limit_and_idle_timeout(server_cert, test_ca):
    clock = ManualClock()
    with (
        ideco.IdecoPeer(server_cert, max_sessions=1, session_timeout=300, clock=clock) as box,
        https(test_ca, box) as first,
        https(test_ca, box) as second,
    ):
        assert first.post(ideco.LOGIN_PATH, json=login_body("ngfw")).status_code == 200
        r = second.post(ideco.LOGIN_PATH, json=login_body("ngfw"))
        assert r.status_code == ideco.TOO_MANY_SESSIONS.status
        first.delete(ideco.LOGIN_PATH)
        assert second.post(ideco.LOGIN_PATH, json=login_body("ngfw")).status_code == 200
        clock.advance(301)
        assert second.get("/firewall/status").status_code == 401
        assert box.open_sessions == 0 and box.logins == 2 and box.logouts == 1


def test_ideco_self_signed_certificate_is_usable_with_a_pin(test_ca):
    own = test_ca.issue(self_signed=True)
    with ideco.IdecoPeer(own) as box:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            https(test_ca, box).post(ideco.LOGIN_PATH, json=login_body("ngfw"))
        assert box.requests == []
        assert served_cert_sha256(box.host, box.port) == own.sha256


# ---- Check Point -------------------------------------------------------------------------------
def cp_login(client: httpx.Client, path: str = "/web_api/login", /, **body: Any) -> httpx.Response:
    return client.post(path, json=body or {"user": cp.USER, "password": cp.PASSWORD, "read-only": True})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_checkpoint_read_only_session(server_cert, test_ca, host):
    with (
        cp.CheckPointPeer(
            server_cert, host=host, groups={"XDR block": ["h1"]}, hosts={"h1": "127.0.0.7"}
        ) as mgmt,
        https(test_ca, mgmt) as client,
    ):
        r = cp_login(client)
        assert r.status_code == 200, r.text
        login = r.json()
        assert {"sid", "url", "session-timeout", "api-server-version", "read-only"} <= set(login)
        assert login["read-only"] is True and login["session-timeout"] == 600
        assert mgmt.read_only_requested == [True]
        sid = {"X-chkp-sid": login["sid"]}
        assert mgmt.open_sessions == 1
        session = client.post("/web_api/show-session", json={}, headers=sid).json()
        assert session["read-only"] is True and session["user-name"] == cp.USER
        hosts = client.post("/web_api/show-hosts", json={}, headers=sid).json()
        assert hosts["total"] == 1 and hosts["objects"][0]["ipv4-address"] == "127.0.0.7"
        group = client.post("/web_api/show-group", json={"name": "XDR block"}, headers=sid)
        assert group.status_code == 200 and group.json()["members"][0]["name"] == "h1"
        r = client.post("/web_api/show-group", json={"name": "absent"}, headers=sid)
        assert (r.status_code, r.json()["code"]) == (404, "generic_err_object_not_found")
        r = client.post("/web_api/logout", json={}, headers=sid)
        assert r.json() == {"message": "OK"}
        assert mgmt.open_sessions == 0 and mgmt.logouts == 1
        r = client.post("/web_api/show-session", json={}, headers=sid)
        assert (r.status_code, r.json()["code"]) == (401, "generic_err_wrong_session_id")
        assert [c for c, _ in mgmt.commands] == [
            "login",
            "show-session",
            "show-hosts",
            "show-group",
            "show-group",
            "logout",
            "show-session",
        ]


def test_checkpoint_versioned_paths_and_api_key(server_cert, test_ca):
    with cp.CheckPointPeer(server_cert) as mgmt, https(test_ca, mgmt) as client:
        r = cp_login(client, "/web_api/v1.5/login", **{"api-key": cp.API_KEY})
        assert r.status_code == 200, r.text
        assert mgmt.read_only_requested == [None]
        sid = {"X-chkp-sid": r.json()["sid"]}
        assert client.post("/web_api/v1.5/show-session", json={}, headers=sid).status_code == 200
        r = client.post("/web_api/v9.9/show-session", json={}, headers=sid)
        assert r.json()["code"] == "err_unknown_api_version"
        client.post("/web_api/v1.5/logout", json={}, headers=sid)
        r = cp_login(client, **{"api-key": "not-a-key"})
        assert (r.status_code, r.json()) == (400, {"code": "err_login_failed", "message": cp.LOGIN_FAILED})
        assert mgmt.open_sessions == 0


def test_checkpoint_login_failures(server_cert, test_ca):
    with (
        cp.CheckPointPeer(server_cert, domains={"Branch"}, max_sessions=1) as mgmt,
        https(test_ca, mgmt) as client,
    ):
        wrong = cp_login(client, user=cp.USER, password="wrong")
        assert (wrong.status_code, wrong.json()["code"]) == (400, "err_login_failed")
        bad_domain = cp_login(client, user=cp.USER, password=cp.PASSWORD, domain="Nope")
        assert (bad_domain.status_code, bad_domain.json()) == (wrong.status_code, wrong.json())
        r = cp_login(client, user=cp.USER, password=cp.PASSWORD, domain="Branch")
        assert r.status_code == 200
        sid = {"X-chkp-sid": r.json()["sid"]}
        shown = client.post("/web_api/show-session", json={}, headers=sid).json()
        assert shown["domain"]["name"] == "Branch"
        r = cp_login(client, user=cp.USER, password=cp.PASSWORD)
        assert r.json()["code"] == "err_login_failed_more_than_one_opened_session"
        client.post("/web_api/logout", json={}, headers=sid)
        assert mgmt.open_sessions == 0
        r = cp_login(client, user=cp.USER, password=cp.PASSWORD, **{"session-timeout": 5})
        assert r.json()["code"] == "generic_err_invalid_parameter"
    with (
        cp.CheckPointPeer(
            server_cert, wrong_password_code="err_login_failed_wrong_username_or_password"
        ) as mgmt,
        https(test_ca, mgmt) as client,
    ):
        r = cp_login(client, user=cp.USER, password="wrong")
        assert r.json()["code"] == "err_login_failed_wrong_username_or_password"


def test_checkpoint_session_errors(server_cert, test_ca):
    clock = ManualClock()
    with (
        cp.CheckPointPeer(server_cert, clock=clock, no_permission={"show-hosts"}) as mgmt,
        https(test_ca, mgmt) as client,
    ):
        r = client.post("/web_api/show-session", json={})
        assert (r.status_code, r.json()["code"]) == (401, "generic_err_missing_session_id")
        r = cp_login(client, user=cp.USER, password=cp.PASSWORD, **{"session-timeout": 30})
        assert r.json()["session-timeout"] == 30
        sid = {"X-chkp-sid": r.json()["sid"]}
        r = client.post("/web_api/show-hosts", json={}, headers=sid)
        assert (r.status_code, r.json()["code"]) == (403, "generic_err_no_permissions")
        clock.advance(31)
        r = client.post("/web_api/show-session", json={}, headers=sid)
        assert (r.status_code, r.json()["code"]) == (401, cp.EXPIRED_SESSION_CODE)
        assert mgmt.open_sessions == 0 and mgmt.logouts == 0


def test_checkpoint_rate_limit(server_cert, test_ca):
    clock = ManualClock()
    with (
        cp.CheckPointPeer(server_cert, rate_limit=(2, 60.0), clock=clock) as mgmt,
        https(test_ca, mgmt) as client,
    ):
        sid = {"X-chkp-sid": cp_login(client).json()["sid"]}
        assert client.post("/web_api/show-session", json={}, headers=sid).status_code == 200
        r = client.post("/web_api/show-session", json={}, headers=sid)
        assert (r.status_code, r.json()["code"]) == (429, "err_too_many_requests")
        clock.advance(61)
        assert client.post("/web_api/logout", json={}, headers=sid).status_code == 200
        assert mgmt.open_sessions == 0


# ---- Sophos ------------------------------------------------------------------------------------
def reqxml(password: str = sophos.PASSWORD, get: str = "", user: str = sophos.USER) -> str:
    return (
        f"<Request><Login><Username>{escape(user)}</Username>"
        f"<Password>{escape(password)}</Password></Login>{get}</Request>"
    )


def group_filter(name: str, criteria: str = "=") -> str:
    return (
        f'<Get><IPHostGroup><Filter><key name="Name" criteria="{criteria}">{escape(name)}'
        "</key></Filter></IPHostGroup></Get>"
    )


def api(client: httpx.Client, xml: str) -> ET.Element:
    r = client.post(sophos.PATH, data={"reqxml": xml})
    assert r.status_code == 200, r.text
    return ET.fromstring(r.text)


def status(resp: ET.Element, where: str = "Status") -> tuple[str | None, str | None]:
    """The code and text of a <Status> element (top-level by default)."""
    found = resp.find(where)
    assert found is not None, ET.tostring(resp)
    return found.get("code"), found.text


def test_sophos_login_and_group_lookup(server_cert, test_ca):
    with (
        sophos.SophosPeer(server_cert, groups={"XDR <blocked> & co": ["h1", "h2"]}) as fw,
        https(test_ca, fw) as client,
    ):
        resp = api(client, reqxml(get=group_filter("XDR <blocked> & co")))
        assert resp.tag == "Response" and resp.get("APIVersion")
        assert resp.findtext("Login/status") == "Authentication Successful"
        [group] = resp.findall("IPHostGroup")
        assert group.findtext("Name") == "XDR <blocked> & co"
        assert [h.text for h in group.findall("HostList/Host")] == ["h1", "h2"]
        resp = api(client, reqxml(get=group_filter("absent")))
        assert resp.findtext("IPHostGroup/Status") == "Number of records Zero."
        resp = api(client, reqxml(get=group_filter("blocked", "like")))
        assert len(resp.findall("IPHostGroup")) == 1
        assert fw.logins == 3
        [first, *_] = fw.xml_requests
        assert first.findtext("Login/Password") == sophos.PASSWORD
        key = first.find("Get/IPHostGroup/Filter/key")
        assert key is not None and key.get("criteria") == "="
        assert fw.reqxml_in_url == [] and fw.writes == []


def test_sophos_authentication_failure_and_malformed_xml(server_cert, test_ca):
    with sophos.SophosPeer(server_cert, groups={"G": []}) as fw, https(test_ca, fw) as client:
        resp = api(client, reqxml(password="wrong", get=group_filter("G")))
        assert resp.findtext("Login/status") == "Authentication Failure"
        assert resp.find("IPHostGroup") is None
        raw = (
            f"<Request><Login><Username>{sophos.USER}</Username>"
            f"<Password>{sophos.PASSWORD}</Password></Login></Request>"
        )  # not escaped
        resp = api(client, raw)
        assert status(resp) == sophos.MALFORMED_STATUS
        assert fw.logins == 0 and fw.failed_logins == 1


def test_sophos_refuses_reqxml_in_a_url_and_records_it(server_cert, test_ca):
    with sophos.SophosPeer(server_cert) as fw, https(test_ca, fw) as client:
        assert client.get(sophos.PATH, params={"reqxml": reqxml()}).status_code == 405
        r = client.post(sophos.PATH, params={"reqxml": reqxml()}, data={})
        assert r.status_code == 405
        assert len(fw.reqxml_in_url) == 2 and escape(sophos.PASSWORD) in fw.reqxml_in_url[0]
        assert fw.logins == 0


def test_sophos_api_off_and_allow_list(server_cert, test_ca):
    with sophos.SophosPeer(server_cert, api_enabled=False) as fw, https(test_ca, fw) as client:
        assert status(api(client, reqxml())) == sophos.NOT_ENABLED
    with sophos.SophosPeer(server_cert, allowed_clients=["127.0.0.5"]) as fw, https(test_ca, fw) as client:
        resp = api(client, reqxml())
        assert status(resp) == sophos.NOT_ALLOWED
        assert resp.find("Login") is None and fw.logins == 0
        bound = httpx.HTTPTransport(local_address="127.0.0.5", verify=ca_context(test_ca))
        with https(test_ca, fw, transport=bound) as allowed:
            assert api(allowed, reqxml()).findtext("Login/status") == "Authentication Successful"
        fw.set_allowed_clients(["127.0.0.0/29"])
        assert api(client, reqxml()).findtext("Login/status") == "Authentication Successful"


def test_loopback_source_address_is_127_0_0_1_whatever_the_destination(test_ca):
    """The finding the allow-list tests rest on: the kernel picks 127.0.0.1 as the source of a
    connection to any 127.x.y.z (route `local 127.0.0.0/8 … src 127.0.0.1`)."""
    cert = test_ca.issue(("127.0.0.2",))
    with (
        sophos.SophosPeer(cert, host="127.0.0.2", allowed_clients=["127.0.0.2"]) as fw,
        https(test_ca, fw) as client,
    ):
        assert status(api(client, reqxml()))[0] == "534"
        assert fw.requests[-1].client == "127.0.0.1"
        fw.set_allowed_clients(["127.0.0.1"])
        assert api(client, reqxml()).findtext("Login/status") == "Authentication Successful"


def test_sophos_writes_change_nothing(server_cert, test_ca):
    with sophos.SophosPeer(server_cert, groups={"G": []}) as fw, https(test_ca, fw) as client:
        resp = api(client, reqxml(get='<Set operation="add"><IPHost><Name>x</Name></IPHost></Set>'))
        assert status(resp, "IPHost/Status") == sophos.WRITE_REFUSED
        assert [w.tag for w in fw.writes] == ["IPHost"] and fw.hosts == {}


# ---- Continent 4, SKDPU NT: a bare TLS service -------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_tls_peer_handshake_verified_with_test_ca(server_cert, test_ca, host):
    with TlsPeer(server_cert, host=host) as peer:
        with (
            socket.create_connection((host, peer.port), timeout=10) as raw,
            ca_context(test_ca).wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.version() == "TLSv1.3"
        wait_until(lambda: peer.handshakes)
        [shake] = peer.handshakes
        assert shake.server_name == "localhost" and shake.client == host
        assert peer.received == b""


def test_tls_peer_untrusted_and_pinned(test_ca):
    own = test_ca.issue(self_signed=True)
    with TlsPeer(own, close_after_handshake=True) as peer:
        with (
            socket.create_connection(("127.0.0.1", peer.port), timeout=10) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            ca_context(test_ca).wrap_socket(raw, server_hostname="localhost")
        assert served_cert_sha256("127.0.0.1", peer.port) == own.sha256
        wait_until(lambda: peer.handshake_errors and peer.handshakes)
        assert len(peer.handshake_errors) == 1 and len(peer.handshakes) == 1
