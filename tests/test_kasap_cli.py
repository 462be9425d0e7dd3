"""`xdrconf integration set … kasap`, `xdrconf check … kasap` and `xdrconf kasap groups` end to end."""

from __future__ import annotations

import datetime as _dt
import json

import pytest

from support.https_peer import HttpsPeer
from support.kasap_peer import GOOD_TOKEN, KasapApi


@pytest.fixture
def kasap(server_cert):
    api = KasapApi()
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        yield peer


def setup_kasap(cli, kasap, test_ca, tmp_path, *extra):
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "integration",
        "set",
        "Acme",
        "kasap",
        f"url=https://127.0.0.1:{kasap.port}",
        f"tls_ca=@{ca}",
        *extra,
        "--secret",
        "token",
        stdin=GOOD_TOKEN + "\n",
    )
    assert r.code == 0, r
    assert cli("integration", "enable", "Acme", "kasap").code == 0


def test_groups_and_check(cli, kasap, test_ca, tmp_path):
    setup_kasap(cli, kasap, test_ca, tmp_path, "rights_confirmed=all")
    r = cli("kasap", "groups", "Acme")
    assert r.code == 0, r
    assert "3 learning groups:" in r.out and "g-2  Sales" in r.out
    r = cli("kasap", "groups", "Acme", "--json")
    assert json.loads(r.out) == [
        {"id": "g-1", "name": "Accounting"},
        {"id": "g-2", "name": "Sales"},
        {"id": "g-3", "name": "IT department"},
    ]
    r = cli("check", "Acme", "kasap")
    assert r.code == 0 and "3 learning groups" in r.out
    show = json.loads(cli("integration", "show", "Acme", "kasap", "--json").out)
    assert show["settings"]["token_issued"] == _dt.date.today().isoformat()
    assert show["settings"]["rights_confirmed"] == ["groups", "report", "user"]
    assert show["flags"] == []


def test_groups_auth_failure_exits_1(cli, kasap, test_ca, tmp_path):
    setup_kasap(cli, kasap, test_ca, tmp_path)
    kasap.api.token = "rotated"
    r = cli("kasap", "groups", "Acme")
    assert r.code == 1 and "FAIL Authentication failed" in r.err and GOOD_TOKEN not in r.err + r.out


def test_old_token_flags_tenant(cli, kasap, test_ca, tmp_path):
    issued = (_dt.date.today() - _dt.timedelta(days=340)).isoformat()
    setup_kasap(cli, kasap, test_ca, tmp_path, f"token_issued={issued}")
    r = cli("tenant", "list", "--json")
    [acme] = [t for t in json.loads(r.out) if t["name"] == "Acme"]
    assert len(acme["flags"]) == 1 and "kasap: The KASAP token expires on" in acme["flags"][0]
    assert "(!)" in cli("tenant", "list").out


def test_groups_unconfigured(cli):
    assert cli("tenant", "add", "Acme").code == 0
    r = cli("kasap", "groups", "Acme")
    assert r.code == 2 and "not configured" in r.err
