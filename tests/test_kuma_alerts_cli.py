"""`xdrconf alerts` end to end: the CLI in-process, the real keyring, a KUMA-like HTTPS peer."""

from __future__ import annotations

import json

import pytest

from support.kuma_peer import GOOD_TOKEN


@pytest.fixture
def acme(kuma_cli):
    return kuma_cli


def test_receive_all_pages_then_only_changes(cli, acme):
    acme.api.add_alerts(600, events=2)
    r = cli("alerts", "Acme")
    assert r.code == 0, r
    assert "Received 600 alert(s) with status new in 3 page(s): 600 new, 0 changed." in r.out
    assert "Brute force on host-599" in r.out and "SEVERITY" in r.out
    assert GOOD_TOKEN not in r.out + r.err
    acme.api.alerts[10]["priority"] = "critical"
    acme.api.add_alerts(1, start=5000)
    r = cli("alerts", "Acme", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["summary"]["new"] == 1 and data["summary"]["changed"] == 1
    assert len(data["alerts"]) == 601 and len(data["alerts"][0]["events"]) == 2


def test_status_option(cli, acme):
    acme.api.add_alerts(2)
    acme.api.add_alerts(3, start=10, status="escalated")
    r = cli("alerts", "Acme", "--status", "escalated", "--json")
    assert r.code == 0, r
    assert {a["status"] for a in json.loads(r.out)["alerts"]} == {"escalated"}
    assert acme.requests[-1].query["status"] == ["escalated"]
    with pytest.raises(SystemExit) as info:  # argparse's own refusal
        cli("alerts", "Acme", "--status", "open")
    assert info.value.code == 2


def test_close_and_it_leaves_the_new_list(cli, acme):
    made = acme.api.add_alerts(2)
    target = made[0]["id"]
    r = cli("alerts", "close", "Acme", target, "--reason", "incorrect correlation rule")
    assert r.code == 0, r
    assert f"Alert {target} was closed in KUMA with the reason 'incorrect correlation rule'." in r.out
    assert acme.requests[-1].json() == {"id": target, "reason": "incorrect correlation rule"}
    r = cli("alerts", "Acme", "--json")
    assert [a["id"] for a in json.loads(r.out)["alerts"]] == [made[1]["id"]]
    r = cli("alerts", "close", "Acme", target, "--reason", "responded")
    assert r.code == 1
    assert "already closed" in r.err and "406" in r.err


def test_close_errors_exit_1_with_json(cli, acme):
    r = cli("alerts", "close", "Acme", "no-such-alert", "--reason", "responded", "--json")
    assert r.code == 1
    data = json.loads(r.out)
    assert data == {
        "ok": False,
        "category": "invalid_config",
        "code": "alert_not_found",
        "http_status": 404,
        "message": data["message"],
    }
    assert "404 alert not found" in data["message"]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["alerts", "close", "Acme", "x"], "--reason is required"),
        (["alerts", "close", "Acme"], "give TENANT and ALERT_ID"),
        (["alerts", "Acme", "--reason", "responded"], "--reason belongs to"),
        (["alerts", "close", "Acme", "x", "--reason", "responded", "--status", "new"], "--status belongs to"),
        (["alerts", "Acme", "Other"], "give one TENANT"),
        (["alerts", "Nobody"], "Nobody"),
    ],
)
def test_usage_errors_exit_2(cli, acme, argv, words):
    r = cli(*argv)
    assert r.code == 2, r
    assert words in r.err
    assert acme.requests == []


def test_bad_reason_is_a_usage_error(cli, acme, capsys):
    with pytest.raises(SystemExit) as info:
        cli("alerts", "close", "Acme", "x", "--reason", "fixed")
    assert info.value.code == 2
    assert acme.requests == []


def test_not_configured_is_exit_2_and_refused_token_exit_1(cli, kuma, test_ca, tmp_path):
    assert cli("tenant", "add", "Bare").code == 0
    r = cli("alerts", "Bare")
    assert r.code == 2 and "not set up" in r.err
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    assert (
        cli(
            "integration",
            "set",
            "Bare",
            "kuma",
            "host=127.0.0.1",
            f"port={kuma.port}",
            f"tls_ca=@{ca}",
            "--secret",
            "token",
            stdin="revoked-token\n",
        ).code
        == 0
    )
    r = cli("alerts", "Bare")
    assert r.code == 1 and "403 access denied" in r.err and "revoked-token" not in r.err


def test_a_tenant_called_close_still_lists(cli, kuma, test_ca, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    assert cli("tenant", "add", "close").code == 0
    assert (
        cli(
            "integration",
            "set",
            "close",
            "kuma",
            "host=127.0.0.1",
            f"port={kuma.port}",
            f"tls_ca=@{ca}",
            "--secret",
            "token",
            stdin=GOOD_TOKEN + "\n",
        ).code
        == 0
    )
    kuma.api.add_alerts(1)
    r = cli("alerts", "close")
    assert r.code == 0 and "1 new" in r.out


def test_help_shows_both_forms(cli, capsys):
    from xdrconf.cli.main import run

    with pytest.raises(SystemExit) as info:
        run(["alerts", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert info.value.code == 0
    assert "xdrconf alerts TENANT" in text and "xdrconf alerts close TENANT ALERT_ID" in text
    assert '"incorrect correlation rule"' in text and "2 usage or configuration error" in text
