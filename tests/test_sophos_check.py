"""Sophos Firewall: the check through the real stack against the XML API peer on loopback (TLS
with the test CA or a pin): the login in `reqxml` in the body of a POST, never in a URL, the
values XML-escaped; the IP host group; API access off (532) and a caller outside the allow
list (534), each in its own words with both places the setting lives."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from support import sophos_peer as sophos
from support.pki import Issued, TestCA
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.workspace import IntegrationEdit, Workspace


def configure(
    ws: Workspace,
    peer: sophos.SophosPeer,
    *,
    tenant: str = "Acme",
    password: str = sophos.PASSWORD,
    trust: dict[str, str] | None = None,
    **values: str,
) -> str:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {
        "host": "127.0.0.1",
        "port": str(peer.port),
        "username": sophos.USER,
        **(trust or {}),
        **values,
    }
    ws.update_integration(
        tenant, IntegrationEdit("sophos", values=settings, secrets={"password": password}, enabled=True)
    )
    return ws.tenant(tenant).id


def check(ws: Workspace, tid: str, **kw: Any) -> Outcome:
    [result] = run_operation(ws, tid, "sophos", **kw)
    return result


@pytest.fixture
def fw(server_cert: Issued) -> Iterator[sophos.SophosPeer]:
    with sophos.SophosPeer(
        server_cert, groups={"XDR_Blocked": ["evil-1"]}, hosts={"evil-1": "127.0.0.9"}
    ) as peer:
        yield peer


def ca(test_ca: TestCA) -> dict[str, str]:
    return {"tls_ca": test_ca.cert_pem}


def test_fields_and_pages():
    spec = catalog.spec_for("sophos")
    assert [f.name for f in spec.fields] == [
        "host",
        "port",
        "username",
        "password",
        "block_group",
        "tls_ca",
        "tls_pin_sha256",
    ]
    assert spec.defaults() == {"port": 4444}
    assert [s.kind for s in spec.see_also] == ["custom"]
    assert {n for p in spec.pages for n in p.fields} == {f.name for f in spec.fields}


def test_login_in_the_body_of_a_post_with_the_values_escaped(ws, fw, test_ca):
    tid = configure(ws, fw, trust=ca(test_ca))
    result = check(ws, tid)
    assert result.category is Category.OK, result.message
    assert result.verified and result.level == "ok"
    assert (
        f"Sophos Firewall at 127.0.0.1:{fw.port} (API 2000.1) accepted the login of 'xdr-api'"
        in result.message
    )
    assert "nothing to log out of" in result.message
    [req] = fw.requests
    assert req.method == "POST" and req.path == sophos.PATH and req.query == {}
    assert sophos.PASSWORD not in req.path
    form = parse_qs(req.body.decode())
    assert list(form) == ["reqxml"]
    [sent] = fw.xml_requests
    assert sent.findtext("Login/Password") == sophos.PASSWORD  # &<>"' arrived intact: escaped
    assert fw.reqxml_in_url == [] and fw.writes == [] and fw.logins == 1
    assert sophos.PASSWORD not in json.dumps(result.to_dict())


def test_the_block_group(ws, fw, server_cert):
    pin = {"tls_pin_sha256": format_fingerprint(server_cert.sha256)}
    tid = configure(ws, fw, trust=pin, block_group="XDR_Blocked")
    result = check(ws, tid)
    assert result.category is Category.OK, result.message
    assert "The IP host group 'XDR_Blocked' exists (1 host)." in result.message
    [sent] = fw.xml_requests
    key = sent.find("Get/IPHostGroup/Filter/key")
    assert key is not None and key.attrib == {"name": "Name", "criteria": "="} and key.text == "XDR_Blocked"
    ws.update_integration("Acme", IntegrationEdit("sophos", values={"block_group": "XDR_Block"}))
    result = check(ws, tid)
    assert result.category is Category.INVALID_CONFIG
    assert "the IP host group 'XDR_Block' that the response scripts fill does not exist" in result.message
    assert "System → Hosts and services → IP host group" in result.message


def test_a_group_name_is_escaped_too(ws, server_cert, test_ca):
    with sophos.SophosPeer(server_cert, groups={"Blocked <&> hosts": []}) as fw:
        tid = configure(ws, fw, trust=ca(test_ca), block_group="Blocked <&> hosts")
        result = check(ws, tid)
        assert result.category is Category.OK, result.message
        assert "(0 hosts)" in result.message


def test_wrong_password(ws, fw, test_ca):
    tid = configure(ws, fw, trust=ca(test_ca), password="not-this-one")
    result = check(ws, tid)
    assert result.category is Category.AUTH_FAILED
    assert (
        "did not accept the user name 'xdr-api' and the password (\"Authentication Failure\")"
        in result.message
    )
    assert fw.failed_logins == 1 and fw.logins == 0


def test_api_access_off(ws, server_cert, test_ca):
    with sophos.SophosPeer(server_cert, api_enabled=False) as fw:
        result = check(ws, configure(ws, fw, trust=ca(test_ca)))
    assert result.category is Category.FORBIDDEN
    assert "API access is off (code 532" in result.message
    assert "System → Backup & firmware → API" in result.message
    assert "since SFOS 22 the API settings are in the Administration menu" in result.message
    assert result.details["code"] == "532"


def test_caller_outside_the_allow_list(ws, fw, test_ca):
    """The kernel sends from 127.0.0.1 to any 127.x address: an allow list of 127.0.0.5 alone
    leaves this computer out; a network that holds 127.0.0.1 lets it in."""
    fw.set_allowed_clients(["127.0.0.5"])
    tid = configure(ws, fw, trust=ca(test_ca))
    result = check(ws, tid)
    assert result.category is Category.FORBIDDEN
    assert "this computer's address is not in the API allow list (code 534" in result.message
    assert "the script-launch host's address" in result.message
    assert "System → Backup & firmware → API" in result.message and "Administration menu" in result.message
    assert fw.xml_requests == []  # refused before the XML was read
    fw.set_allowed_clients(["127.0.0.0/30"])
    assert check(ws, tid).category is Category.OK


def test_not_a_sophos_firewall(ws, server_cert, test_ca):
    from support.https_peer import HttpsPeer, Reply

    with HttpsPeer(lambda req: Reply(200, "<html><body>Welcome</body></html>"), cert=server_cert) as web:
        ws.add_tenant("Acme")
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "sophos",
                values={"host": "127.0.0.1", "port": str(web.port), "username": "u", **ca(test_ca)},
                secrets={"password": "pw-1234"},
            ),
        )
        result = check(ws, ws.tenant("Acme").id)
    assert result.category is Category.PROTOCOL_ERROR
    assert "not as the Sophos Firewall XML API does" in result.message


def test_untrusted_and_pinned_wrong_send_nothing(ws, fw):
    tid = configure(ws, fw)
    assert check(ws, tid).category is Category.TLS_UNTRUSTED
    ws.update_integration("Acme", IntegrationEdit("sophos", values={"tls_pin_sha256": "cd" * 32}))
    assert check(ws, tid).category is Category.TLS_PIN_MISMATCH
    assert fw.requests == []


def test_request_xml_is_well_formed_for_any_password():
    from xdrconf.core.errors import ValidationError
    from xdrconf.core.integrations.sophos.api import request_xml

    root = ET.fromstring(request_xml("a&b", "<p>\"'&amp;", "g<1>"))
    assert root.findtext("Login/Username") == "a&b" and root.findtext("Login/Password") == "<p>\"'&amp;"
    with pytest.raises(ValidationError, match="Password: contains control characters"):
        request_xml("u", "bad\x01")


def test_cli_json(cli, fw, test_ca):
    assert cli("tenant", "add", "Acme").code == 0
    args = ["integration", "set", "Acme", "sophos", "host=127.0.0.1", f"port={fw.port}", "username=xdr-api"]
    r = cli(*args, f"tls_ca=@{test_ca.cert_path}", "--secret", "password", stdin=sophos.PASSWORD + "\n")
    assert r.code == 0, r
    r = cli("sophos", "check", "Acme", "--json")
    assert r.code == 0, r
    [out] = json.loads(r.out)
    assert out["category"] == "ok" and out["verified"] is True
    fw.set_allowed_clients(["127.0.0.5"])
    r = cli("sophos", "check", "Acme")
    assert r.code == 1 and r.out.startswith("FAIL") and "Access denied" in r.out  # the window's words
