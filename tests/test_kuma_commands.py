"""KUMA connector commands: validation, placeholders, storage with the tenant's settings,
running them against a KUMA-like HTTPS peer, and the `xdrconf command` group."""

from __future__ import annotations

import json

import pytest

from support.https_peer import Reply
from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core.engine import run_operation
from xdrconf.core.errors import ValidationError
from xdrconf.core.integrations.kuma import commands as kuma_api
from xdrconf.core.integrations.kuma.api import CommandResponse
from xdrconf.core.integrations.kuma.commands import (
    commands_of,
    default_commands,
    find_command,
    parse_command,
    save_commands,
)
from xdrconf.core.workspace import IntegrationEdit

CLOSE = {
    "name": "Close",
    "method": "post",
    "path": "alerts/close",
    "body": '{"id": "<Alert ID>", "reason": "<Reason>"}',
}


def bad(data, words):
    with pytest.raises(ValidationError) as info:
        parse_command({"name": "X", "method": "GET", "path": "alerts", **data})
    assert words in str(info.value), str(info.value)
    return info.value


# ---- validation ----------------------------------------------------------------------------------
def test_seed_paths_are_normalised_to_the_api_version_setting():
    cmd = parse_command({"name": "Receive", "method": "get", "path": "api/v1/alerts/?withEvents&status=new"})
    assert cmd.method == "GET" and cmd.path == "alerts/"
    assert cmd.query == (("withEvents", ""), ("status", "new"))
    assert cmd.display_path() == "alerts/?withEvents&status=new"
    assert parse_command({**CLOSE, "path": "/api/v2.1/alerts/close"}).path == "alerts/close"


@pytest.mark.parametrize(
    "data, words",
    [
        ({"method": "FETCH"}, "Method of command 'X': 'FETCH' is not one of GET, POST"),
        ({"path": ""}, "Path of command 'X': enter the API path"),
        ({"path": "https://kuma:7223/api/v1/alerts"}, "not a full address"),
        ({"path": "alerts/<Alert ID>/../users"}, "'..' segments"),
        ({"path": "alerts list"}, "no spaces"),
        ({"method": "POST", "body": '{"id": <Alert ID>}'}, "Body of command 'X': is not valid JSON"),
        ({"body": '{"id": "1"}'}, "a GET request carries no body"),
        ({"headers": [["Authorization", "Bearer abc"]]}, "'Authorization' is added by xdrconf"),
        ({"headers": [["authorization", "x"]]}, "added by xdrconf from the token"),
        ({"headers": [["X-Api-Key", "abc"]]}, "looks like it carries credentials"),
        ({"headers": [["X-Forwarded-For", "Bearer abc"]]}, "looks like credentials"),
        ({"headers": [["Bad Header", "1"]]}, "'Bad Header' is not a valid header name"),
        ({"headers": [["Content-Length", "1"]]}, "set by the HTTP layer"),
        ({"headers": [["X-A", "1"], ["x-a", "2"]]}, "given twice"),
        ({"headers": [["X-A", "a\r\nInjected: 1"]]}, "plain ASCII on one line"),
        ({"query": [["", "1"]]}, "has no name"),
        ({"name": ""}, "Command name: enter a name"),
    ],
)
def test_validation_errors_name_the_command_and_field(data, words):
    bad(data, words)


def test_names_must_be_unique_and_token_must_not_be_stored(ws):
    with pytest.raises(ValidationError, match="used twice"):
        kuma_api.parse_commands([CLOSE, {**CLOSE, "name": "close"}])
    cmd = parse_command({"name": "Peek", "method": "GET", "path": "alerts", "query": [["t", GOOD_TOKEN]]})
    with pytest.raises(ValidationError, match="contains the KUMA API token"):
        kuma_api.refuse_token([cmd], GOOD_TOKEN)


# ---- placeholders ----------------------------------------------------------------------------------
def test_placeholder_substitution_everywhere():
    cmd = parse_command(
        {
            "name": "All",
            "method": "POST",
            "path": "things/<Alert ID>/x",
            "query": [["tenant", "<Tenant ID>"]],
            "headers": [["X-Case", "<Case>"]],
            "body": '{"id": "<Alert ID>", "note": "case <Case>", "n": 1, "list": ["<Case>"]}',
        }
    )
    assert cmd.placeholders == ("Alert ID", "Tenant ID", "Case")
    req = cmd.render({"alert_id": 'a b "c"', "Tenant ID": "t 1", "case": "42"})
    assert req.path == "things/a%20b%20%22c%22/x"  # a value stays one path segment
    assert req.json_body == {"id": 'a b "c"', "note": "case 42", "n": 1, "list": ["42"]}
    assert req.headers == (("X-Case", "42"),)
    assert req.url("https://k:7223/api/v1") == "https://k:7223/api/v1/things/a%20b%20%22c%22/x?tenant=t%201"
    with pytest.raises(ValidationError, match="would change the request's path"):
        cmd.render({"alert_id": "a/b", "Tenant ID": "t", "case": "1"})


def test_unknown_and_missing_placeholders_are_refused():
    cmd = parse_command(CLOSE)
    with pytest.raises(
        ValidationError,
        match=r"'Alert' is not a placeholder of command 'Close' "
        r"\(its placeholders: <Alert ID>, <Reason>\)",
    ):
        cmd.render({"Alert": "1", "Reason": "responded"})
    with pytest.raises(ValidationError, match=r"needs a value for <Reason>"):
        cmd.render({"Alert ID": "1"})
    with pytest.raises(ValidationError, match="control characters"):
        cmd.render({"Alert ID": "1\n2", "Reason": "x"})
    plain = parse_command({"name": "Plain", "method": "GET", "path": "alerts"})
    with pytest.raises(ValidationError, match=r"its placeholders: none"):
        plain.render({"x": "1"})


def test_defaults_follow_the_seed():
    names = [c.name for c in default_commands()]
    assert names == [
        "Receive incidents",
        "Close incident (responded)",
        "Close incident (incorrect data)",
        "Close incident (incorrect correlation rule)",
    ]
    close = find_command(default_commands(), "close incident (incorrect data)")
    assert close.render({"Alert ID": "A1"}).json_body == {"id": "A1", "reason": "incorrect data"}
    assert commands_of({}) == default_commands()


# ---- storage -------------------------------------------------------------------------------------------
def test_saved_with_the_tenant_settings_transactionally(ws, config_dir):
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "kuma", values={"host": "kuma.example.invalid"}, secrets={"token": GOOD_TOKEN}, enabled=True
        ),
    )
    saved = save_commands(ws, "Acme", [*default_commands(), CLOSE])
    assert [c.name for c in saved][-1] == "Close"
    state = ws.integration(ws.tenant("Acme"), "kuma")
    assert state.settings["commands"][-1]["body"] == CLOSE["body"]
    assert state.enabled and state.settings["host"] == "kuma.example.invalid"
    before = (config_dir / "settings.json").read_text() if (config_dir / "settings.json").exists() else None
    with pytest.raises(ValidationError, match="Method of command 'Broken'"):
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "kuma", structured={"commands": [{"name": "Broken", "method": "HEAD", "path": "x"}]}
            ),
        )
    assert commands_of(ws.integration(ws.tenant("Acme"), "kuma").settings)[-1].name == "Close"
    if before is not None:
        assert (config_dir / "settings.json").read_text() == before
    with pytest.raises(ValidationError, match="contains the KUMA API token"):
        save_commands(
            ws,
            "Acme",
            [
                {
                    "name": "Leak",
                    "method": "POST",
                    "path": "alerts/close",
                    "body": json.dumps({"token": GOOD_TOKEN}),
                }
            ],
        )
    settings_text = "".join(p.read_text() for p in config_dir.glob("*.json"))
    assert GOOD_TOKEN not in settings_text


# ---- running ---------------------------------------------------------------------------------------
@pytest.fixture
def conn(ws, kuma, test_ca):
    configure(ws, kuma.port, ca=test_ca.cert_pem)
    return ws


def run_command(ws, command, params=None):
    """The "command" operation for a command (saved with the tenant's first, if new)."""
    saved = commands_of(ws.integration(ws.tenant("Acme"), "kuma").settings)
    if command not in saved:
        save_commands(ws, "Acme", [*saved, command])
    [outcome] = run_operation(
        ws, "Acme", "kuma", "command", {"name": command.name, **(params or {})}, confirmed=True
    )
    assert outcome.data is not None, outcome.message
    response = CommandResponse.from_payload(outcome.data)
    assert outcome.ok is response.ok and outcome.message == response.message
    return response


def test_run_receive_and_close_commands(kuma, conn):
    made = kuma.api.add_alerts(2, events=1)
    receive = find_command(default_commands(), "Receive incidents")
    r = run_command(conn, receive)
    assert r.ok and r.status == 200 and len(r.data) == 2 and len(r.data[0]["events"]) == 1
    sent = kuma.requests[-1]
    assert sent.path == "/api/v1/alerts/" and sent.query == {"withEvents": [""], "status": ["new"]}
    close = find_command(default_commands(), "Close incident (responded)")
    r = run_command(conn, close, {"Alert ID": made[0]["id"]})
    assert r.ok and r.status == 204 and r.message == "KUMA answered 204 No Content."
    assert kuma.requests[-1].json() == {"id": made[0]["id"], "reason": "responded"}
    r = run_command(conn, close, {"Alert ID": made[0]["id"]})
    assert not r.ok and r.status == 406 and "alert already closed" in r.message


def test_custom_headers_and_query_are_sent_token_added(kuma, conn):
    kuma.api.add_alerts(3)
    cmd = parse_command(
        {
            "name": "One alert",
            "method": "GET",
            "path": "alerts",
            "query": [["id", "<Alert ID>"], ["withEvents", ""]],
            "headers": [["X-Request-Source", "xdrconf <Who>"], ["Accept", "application/json"]],
        }
    )
    target = kuma.api.alerts[1]["id"]
    r = run_command(conn, cmd, {"Alert ID": target, "who": "soc"})
    assert r.ok and [a["id"] for a in r.data] == [target]
    sent = kuma.requests[-1]
    assert sent.headers["X-Request-Source"] == "xdrconf soc"
    assert sent.headers["Authorization"] == f"Bearer {GOOD_TOKEN}"
    assert sent.query["id"] == [target]


def test_response_echoing_the_token_is_scrubbed(ws, kuma, conn):
    kuma.api.other = lambda req, parts: Reply(200, {"seen": req.headers.get("Authorization")})
    cmd = parse_command({"name": "Echo", "method": "GET", "path": "echo"})
    r = run_command(conn, cmd)
    assert GOOD_TOKEN not in r.text and GOOD_TOKEN not in json.dumps(r.public())


# ---- command line ------------------------------------------------------------------------------------
@pytest.fixture
def acme(kuma_cli):
    return kuma_cli


def test_cli_list_add_run_remove(cli, acme, tmp_path):
    r = cli("command", "list", "Acme")
    assert r.code == 0 and "(the defaults; none saved yet)" in r.out
    assert "Receive incidents: GET alerts/?withEvents&status=new" in r.out
    body = tmp_path / "body.json"
    body.write_text('{"id": "<Alert ID>", "reason": "incorrect data"}')
    r = cli(
        "command",
        "add",
        "Acme",
        "Close as noise",
        "--method",
        "post",
        "--path",
        "api/v1/alerts/close",
        "--header",
        "X-Source=xdrconf",
        "--body",
        f"@{body}",
    )
    assert r.code == 0, r
    r = cli("command", "list", "Acme", "--json")
    data = json.loads(r.out)
    assert data["defaults"] is False and len(data["commands"]) == 5
    assert data["commands"][-1]["placeholders"] == ["Alert ID"]
    made = acme.api.add_alerts(1)
    r = cli("command", "run", "Acme", "close as noise", "--param", f"alert_id={made[0]['id']}")
    assert r.code == 0, r
    assert "→ 204 No Content" in r.out
    assert acme.requests[-1].json() == {"id": made[0]["id"], "reason": "incorrect data"}
    assert acme.requests[-1].headers["X-Source"] == "xdrconf"
    r = cli("command", "run", "Acme", "Close as noise", "--param", f"Alert ID={made[0]['id']}", "--json")
    assert r.code == 1
    assert json.loads(r.out)["http_status"] == 406 and "406" in r.err
    r = cli("command", "run", "Acme", "Receive incidents", "--json")
    assert r.code == 0 and json.loads(r.out)["body"] == []
    assert cli("command", "remove", "Acme", "Close as noise").code == 0
    assert "Close as noise" not in cli("command", "list", "Acme").out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["command", "run", "Acme", "Nope"], "there is no command 'Nope'"),
        (["command", "run", "Acme", "Close incident (responded)"], "needs a value for <Alert ID>"),
        (
            [
                "command",
                "run",
                "Acme",
                "Close incident (responded)",
                "--param",
                "Alert ID=1",
                "--param",
                "x=2",
            ],
            "'x' is not a placeholder",
        ),
        (["command", "run", "Acme", "Receive incidents", "--param", "novalue"], "give KEY=VALUE"),
        (
            ["command", "add", "Acme", "Receive incidents", "--method", "GET", "--path", "alerts"],
            "exists already; add --replace",
        ),
        (
            [
                "command",
                "add",
                "Acme",
                "Bad",
                "--method",
                "POST",
                "--path",
                "alerts/close",
                "--body",
                "{id: 1}",
            ],
            "is not valid JSON",
        ),
        (
            [
                "command",
                "add",
                "Acme",
                "Auth",
                "--method",
                "GET",
                "--path",
                "alerts",
                "--header",
                "Authorization=Bearer x",
            ],
            "added by xdrconf",
        ),
        (["command", "remove", "Acme", "Nope"], "there is no command 'Nope'"),
    ],
)
def test_cli_usage_errors_exit_2_and_send_nothing(cli, acme, argv, words):
    r = cli(*argv)
    assert r.code == 2, r
    assert words in r.err
    assert acme.requests == []


def test_cli_replace(cli, acme):
    r = cli(
        "command",
        "add",
        "Acme",
        "Receive incidents",
        "--method",
        "GET",
        "--path",
        "alerts/",
        "--query",
        "withEvents=",
        "--query",
        "status=assigned",
        "--replace",
    )
    assert r.code == 0, r
    data = json.loads(cli("command", "list", "Acme", "--json").out)
    assert data["commands"][0]["name"] == "Receive incidents"
    assert data["commands"][0]["query"] == [["withEvents", ""], ["status", "assigned"]]
    assert len(data["commands"]) == 4


def test_query_values_are_encoded_when_sent_but_shown_as_typed():
    cmd = parse_command(
        {"name": "Q", "method": "GET", "path": "alerts", "query": [["name", "<Name>"], ["withEvents", ""]]}
    )
    assert cmd.display_path() == "alerts?name=<Name>&withEvents"
    url = cmd.render({"name": "a<b>&c=d #1"}).url("https://k/api/v1")
    assert url == "https://k/api/v1/alerts?name=a%3Cb%3E%26c%3Dd%20%231&withEvents"
