"""`xdrconf integration set … tip`, `xdrconf check … tip` and `xdrconf tip lookup` end to end."""

from __future__ import annotations

import json

import pytest

from support.https_peer import HttpsPeer
from support.tip_peer import GOOD_TOKEN, SHA256_RED, TipPortal


@pytest.fixture
def portal(server_cert):
    api = TipPortal()
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        yield peer


def setup_tip(cli, portal, test_ca, tmp_path, tenant="Root"):
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    r = cli(
        "integration",
        "set",
        tenant,
        "tip",
        "access=general",
        "cache_ttl=12h",
        f"opentip_url=https://127.0.0.1:{portal.port}",
        f"tls_ca=@{ca}",
        "--secret",
        "token",
        stdin=GOOD_TOKEN + "\n",
    )
    assert r.code == 0, r
    assert cli("integration", "enable", tenant, "tip").code == 0


def test_set_check_and_lookup(cli, portal, test_ca, tmp_path, config_dir):
    setup_tip(cli, portal, test_ca, tmp_path)
    r = cli("check", "Root", "tip")
    assert r.code == 0, r
    assert "quota" in r.err  # the notice before the check
    assert "ok" in r.out and "example.com" in r.out

    r = cli("tip", "lookup", "Root", SHA256_RED)
    assert r.code == 0, r
    assert "Verdict: Dangerous (Red zone)" in r.out
    assert "Detected as: EICAR-Test-File" in r.out
    assert "may have consumed quota" in r.out
    assert len(portal.requests) == 2

    r = cli("tip", "lookup", "Root", SHA256_RED, "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["from_cache"] is True and data["type"] == "sha256" and data["zone"] == "Red"
    assert data["facts"]["File status"] == "Malware"
    assert len(portal.requests) == 2  # answered from the cache: no request
    show = json.loads(cli("integration", "show", "Root", "tip", "--json").out)
    assert show["settings"]["cache_ttl"] == "12h" and show["secrets"]["token"] == "set"
    assert GOOD_TOKEN not in (config_dir / "settings.json").read_text()


def test_refused_value_exits_2_with_reason(cli, portal, test_ca, tmp_path):
    setup_tip(cli, portal, test_ca, tmp_path)
    r = cli("tip", "lookup", "Root", "127.1.1.10")
    assert r.code == 2
    assert "loopback address" in r.err
    r = cli("tip", "lookup", "Root", "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    assert r.code == 2 and "SHA1" in r.err
    assert portal.requests == []


def test_failed_lookup_exits_1(cli, portal, test_ca, tmp_path):
    setup_tip(cli, portal, test_ca, tmp_path)
    portal.api.mode = "quota"
    r = cli("tip", "lookup", "Root", "good.example.invalid", "--json")
    assert r.code == 1
    assert json.loads(r.out)["category"] == "quota_exceeded"
    r = cli("check", "Root", "tip", "--json")
    assert r.code == 1 and json.loads(r.out)[0]["category"] == "quota_exceeded"


def test_proxy_refused_for_child_and_secret_not_on_command_line(cli, portal, test_ca, tmp_path):
    assert cli("tenant", "add", "Acme").code == 0
    r = cli("integration", "set", "Acme", "tip", "proxy=true")
    assert r.code == 2 and "Root tenant only" in r.err
    r = cli("integration", "set", "Root", "tip", f"token={GOOD_TOKEN}")
    assert r.code == 2 and "--secret token" in r.err
    r = cli("integration", "set", "Root", "tip", "cache_ttl=7w")
    assert r.code == 2 and "Cache TTL" in r.err


def test_lookup_on_unconfigured_tenant(cli):
    r = cli("tip", "lookup", "Root", "good.example.invalid")
    assert r.code == 2 and "not configured" in r.err
