"""The generic command line, generated from the specs: `xdrconf KIND --help` lists the fields
(allowed values, defaults) and the operations with their parameters; `xdrconf KIND
OPERATION TENANT [PARAM=VALUE ...] [--json] [--timeout S] [--yes]` runs one, with the one
exit-status map. Against a KUMA-like HTTPS peer; the CLI in-process."""

from __future__ import annotations

import json

import pytest

from support.kuma_peer import GOOD_TOKEN


def help_text(capsys, *argv):
    from xdrconf.cli.main import run

    with pytest.raises(SystemExit) as done:
        run([*argv, "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_kind_help_lists_fields_and_operations(capsys):
    text = help_text(capsys, "kuma")
    assert "api_version — API version (choice; required; one of: v1, v2, v2.1, v3; default: v1)" in text
    assert "port — Port (port; required; default: 7223)" in text
    assert "token — API token (secret; required; secret: --secret token or token=@FILE)" in text
    assert "xdrconf kuma receive TENANT [status=…] [--json] [--timeout S]" in text
    assert "status — Status (choice; one of: new, assigned, closed, escalated; default: new)" in text
    assert "xdrconf kuma close TENANT id=… reason=… [--json] [--timeout S] --yes" in text
    assert "Changes data on the peer: needs --yes." in text
    assert "2 a usage or configuration error before anything ran" in text
    tip = help_text(capsys, "tip")
    assert "proxy — Proxy (bool; Root tenant only)" in tip and "Note: A check looks up" in tip
    assert "xdrconf tip lookup" in tip
    custom = help_text(capsys, "custom")
    assert "xdrconf custom host-keys host=… [ports=…]" in custom  # needs no tenant
    assert "password — Password (secret; required; when auth=password" in custom
    kata = help_text(capsys, "kata")
    assert "xdrconf kata check TENANT [connection=…]" in kata and "regenerate" in kata


def test_integration_set_help_points_to_the_kinds(capsys):
    text = help_text(capsys, "integration", "set")
    assert "xdrconf KIND --help" in text and "kuma, kasap, tip, kata, custom" in text


def test_receive_close_and_command_through_the_generic_form(cli, kuma_cli):
    kuma = kuma_cli
    made = kuma.api.add_alerts(3, events=1)
    r = cli("kuma", "receive", "Acme")
    assert r.code == 0, r
    assert "ok  Root tenant/Acme / kuma" in r.out and "receive" not in r.err
    assert "Received 3 alert(s) with status new in 1 page(s): 3 new, 0 changed." in r.out
    assert made[0]["id"] in r.out and "STATUS" in r.out  # the rows as a table
    r = cli("kuma", "receive", "Acme", "status=new", "--json")
    [item] = json.loads(r.out)
    assert item["operation"] == "receive" and item["data"]["summary"]["unchanged"] == 3
    assert len(item["data"]["rows"]) == 3

    sent = len(kuma.requests)
    r = cli("kuma", "close", "Acme", f"id={made[0]['id']}", "reason=responded")
    assert r.code == 2 and "needs confirmation" in r.err and len(kuma.requests) == sent
    r = cli("kuma", "close", "Acme", f"id={made[0]['id']}", "reason=responded", "--yes")
    assert r.code == 0, r
    assert kuma.requests[-1].json() == {"id": made[0]["id"], "reason": "responded"}
    r = cli("kuma", "close", "Acme", made[0]["id"], "responded", "--yes")  # bare words, in order
    assert r.code == 1 and "already closed" in r.out

    r = cli(
        "kuma", "command", "Acme", "Close incident (incorrect data)", f"Alert ID={made[1]['id']}", "--yes"
    )
    assert r.code == 0, r
    assert kuma.requests[-1].json() == {"id": made[1]["id"], "reason": "incorrect data"}
    assert GOOD_TOKEN not in r.out + r.err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["kuma", "receive", "Acme", "status=open"], "Status: 'open' is not one of"),
        (["kuma", "receive", "Nobody"], "No tenant named 'Nobody'"),
        (["kuma", "receive"], "give the TENANT"),
        (["kuma", "receive", "Acme", "colour"], "'colour' is not PARAMETER=VALUE"),
        (["kuma", "receive", "Acme", "--timeout", "0"], "--timeout: give seconds between 0 and 600"),
        (["kuma", "command", "Acme", "No such command", "--yes"], "there is no command 'No such command'"),
    ],
)
def test_usage_and_configuration_errors_exit_2_and_send_nothing(cli, kuma_cli, argv, words):
    r = cli(*argv)
    assert r.code == 2, r
    assert words in r.err
    assert kuma_cli.requests == []


def test_not_configured_and_failed_requests(cli, kuma_cli):
    assert cli("tenant", "add", "Bare").code == 0
    r = cli("kuma", "check", "Bare", "--json")
    assert r.code == 2 and json.loads(r.out)[0]["category"] == "invalid_config"
    kuma_cli.api.mode = "error500"
    r = cli("kuma", "receive", "Acme")
    assert r.code == 1 and "FAIL Root tenant/Acme / kuma" in r.out and "Server error" in r.out


def test_a_generic_check_is_kept_as_the_last_result(cli, kuma_cli):
    assert cli("integration", "enable", "Acme", "kuma").code == 0
    r = cli("kuma", "check", "Acme")
    assert r.code == 0 and "Connected: the token belongs to 'soar'" in r.out
    shown = json.loads(cli("integration", "show", "Acme", "kuma", "--json").out)
    assert shown["last_check"]["category"] == "ok" and shown["last_check"]["operation"] == "check"
    assert shown["level"] == "ok"
