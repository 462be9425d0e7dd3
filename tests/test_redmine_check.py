"""Redmine: its settings, the check, create-issue and projects through the real stack (the
engine, the secret store of the test session) against a real Redmine 5.0 on loopback
(support/redmine.py), reached through a TCP relay that counts the connections left open."""

from __future__ import annotations

import hashlib
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from support.redmine import Redmine, configure
from support.tcp_relay import TcpRelay
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.errors import ValidationError
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.tenants import IntegrationState
from xdrconf.core.workspace import IntegrationEdit, Workspace

pytestmark = pytest.mark.slow  # the session's first Redmine user pays a Rails boot

SPEC = catalog.spec_for("redmine")
BAD_KEY = "f" * 40


@pytest.fixture
def relay(redmine: Redmine) -> Iterator[TcpRelay]:
    """Redmine's https port behind a relay on 127.0.0.1 (the certificate names it)."""
    with TcpRelay((redmine.host, redmine.ports["https"]), ipv6=False) as r:
        yield r


def url_of(relay: TcpRelay, prefix: str = "") -> str:
    return f"https://127.0.0.1:{relay.port}{prefix}"


def run(ws: Workspace, tid: str, op: str = "check", relay: TcpRelay | None = None, **kw: Any) -> Outcome:
    [outcome] = run_operation(ws, tid, "redmine", op, **kw)
    if relay is not None:
        assert relay.wait_idle(), "a connection to Redmine was left open"
    return outcome


def everything(outcome: Outcome) -> str:
    return json.dumps([outcome.public(), outcome.to_dict()], ensure_ascii=False)


# ---- settings ------------------------------------------------------------------------------
def test_fields_pages_and_operations() -> None:
    assert [f.name for f in SPEC.fields] == [
        "url",
        "allow_http",
        "api_key",
        "project",
        "tracker",
        "tls_ca",
        "tls_pin_sha256",
    ]
    assert [f.name for f in SPEC.secret_fields] == ["api_key"]
    assert [op.name for op in SPEC.operations] == ["check", "create-issue", "projects"]
    assert SPEC.operation("create-issue").changes_peer
    chooser = SPEC.field("project").choices_from
    assert chooser is not None and chooser.operation == "projects" and chooser.value == "identifier"
    assert SPEC.operation("projects").needs_fields == ("url",)
    assert SPEC.target_fields == ("url",)


def test_url_parsing() -> None:
    url = SPEC.field("url")
    assert (
        url.parse(" https://redmine.example.invalid/redmine/ ") == "https://redmine.example.invalid/redmine"
    )
    assert url.parse("http://redmine.example.invalid") == "http://redmine.example.invalid"
    with pytest.raises(ValidationError, match=r"URL: '.*/projects/soc-alerts' is the address of a page"):
        url.parse("https://redmine.example.invalid/redmine/projects/soc-alerts")
    with pytest.raises(ValidationError, match=r"its base URL \(https://redmine.example.invalid/redmine\)"):
        url.parse("https://redmine.example.invalid/redmine/my/account")
    with pytest.raises(ValidationError, match=r"must not contain a query"):
        url.parse("https://redmine.example.invalid/?key=abc")
    with pytest.raises(ValidationError, match="must start with https:// or http://"):
        url.parse("ftp://redmine.example.invalid")


def test_project_and_tracker_parsing() -> None:
    project, tracker = SPEC.field("project"), SPEC.field("tracker")
    assert project.parse("soc-alerts") == "soc-alerts"
    assert project.parse(" 007 ") == "7"
    assert project.parse("https://redmine.example.invalid/projects/soc_alerts-2/issues?x=1") == "soc_alerts-2"
    with pytest.raises(ValidationError, match="Project: 'SOC alerts' is not a project identifier"):
        project.parse("SOC alerts")
    with pytest.raises(ValidationError, match="Project: enter the project's identifier"):
        project.parse("  ")
    with pytest.raises(ValidationError, match="0 is not a project id"):
        project.parse("0")
    assert tracker.parse("") is None
    assert tracker.parse(" Bug ") == "Bug"
    assert tracker.parse("02") == "2"
    with pytest.raises(ValidationError, match="Tracker: a tracker's name is at most 30"):
        tracker.parse("x" * 31)


def test_http_only_when_chosen_and_then_without_tls_settings(ws: Workspace, redmine: Redmine) -> None:
    ws.add_tenant("Acme")
    edit = IntegrationEdit("redmine", values={"url": redmine.http_url, "project": "soc-alerts"})
    with pytest.raises(ValidationError, match=r"URL: starts with http://, .* tick 'Allow plain HTTP'"):
        ws.update_integration("Acme", edit)
    with pytest.raises(ValidationError, match="CA certificate: has no effect with an http:// URL"):
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "redmine",
                values={
                    "url": redmine.http_url,
                    "allow_http": "true",
                    "project": "soc-alerts",
                    "tls_ca": redmine.ca.cert_pem,
                },
            ),
        )
    assert "redmine" not in ws.tenant("Acme").integrations  # nothing saved
    configure(ws, redmine, redmine.http_url, ca=False, allow_http="true")
    assert ws.tenant("Acme").integrations["redmine"].settings["allow_http"] is True


# ---- the check ---------------------------------------------------------------------------------
def test_member_passes_and_the_key_is_nowhere(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    key = redmine.users["member"].api_key
    tid = configure(ws, redmine, url_of(relay))
    result = run(ws, tid, relay=relay)
    assert result.category is Category.OK, result.message
    assert result.level == "ok" and result.warnings == []
    assert result.message == (
        "Connected to Redmine as 'xdr-member' (Member Xdrconf). Project 'SOC alerts' (soc-alerts) "
        "takes issues; no tracker is set, so they get its first, Bug. Issue statuses (6) and "
        "priorities (5, default Normal) are readable. 'xdr-member' may add issues there: its role "
        "in the project (xdr-reporter) has the permission 'Add issues'."
    )
    assert result.details == {
        "user": "xdr-member",
        "user_id": redmine.users["member"].id,
        "admin": False,
        "project": "soc-alerts",
        "project_id": redmine.projects["alerts"].id,
        "tracker": "Bug",
        "tracker_id": redmine.trackers["Bug"],
        "tracker_defaulted": True,
        "roles": ["xdr-reporter"],
        "may_add_issues": True,
    }
    assert result.target == f"127.0.0.1:{relay.port}"
    # /users/current.json repeats the key in its body; none of it is kept.
    assert key not in everything(result)
    from xdrconf.core.engine import record_check

    record_check(ws, tid, "redmine", [result])
    assert key not in ws.file.path.read_text()


def test_admin_key_may_add_everywhere(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), "admin", project="soc-restricted")
    result = run(ws, tid, relay=relay)
    assert result.category is Category.OK, result.message
    assert result.message.startswith("Connected to Redmine as 'admin' (")
    assert "an administrator." in result.message
    assert "Project 'SOC restricted trackers' (soc-restricted) takes issues" in result.message
    assert "As a Redmine administrator, 'admin' may add issues in every project." in result.message
    assert result.details["admin"] is True and result.details["may_add_issues"] is True
    assert result.details["tracker"] == "Support"


def test_viewer_may_not_add_issues(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), "viewer")
    result = run(ws, tid, relay=relay)
    assert result.category is Category.FORBIDDEN
    assert result.message.startswith(
        "'xdr-viewer' may not add issues in project 'SOC alerts': its role there (xdr-viewer) lacks "
        "the permission 'Add issues'"
    )
    assert "Administration → Roles and permissions → xdr-viewer" in result.message
    assert result.details["may_add_issues"] is False and result.details["roles"] == ["xdr-viewer"]


def test_non_member_private_project_is_hidden(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), "outsider")
    result = run(ws, tid, relay=relay)
    assert result.category is Category.FORBIDDEN
    assert result.message == (
        "Redmine does not show project 'soc-alerts' to 'xdr-outsider' (HTTP 403): it is private and "
        "the user is not a member of it, or it is archived; add the user to the project (the "
        "project → Settings → Members) with a role that may add issues."
    )


def test_non_member_public_project_cannot_be_told(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), "outsider", project=str(redmine.projects["public"].id))
    result = run(ws, tid, relay=relay)
    assert result.category is Category.OK and result.level == "warning", result.message
    assert "Whether 'xdr-outsider' may add issues there could not be told." in result.message
    [warning] = result.warnings
    assert "not a member of the public project 'SOC public board'" in warning
    assert "Non member has 'Add issues'" in warning
    assert result.details["may_add_issues"] is None


def test_project_without_issue_tracking(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), project="soc-notrack")
    result = run(ws, tid, relay=relay)
    assert result.category is Category.INVALID_CONFIG
    assert result.message.startswith(
        "Project 'SOC no issue tracking' (soc-notrack) has issue tracking turned off"
    )
    assert "Settings → Project → Modules → Issue tracking" in result.message


@pytest.mark.parametrize("who", ["member", "admin"])
def test_unknown_project_is_named(ws: Workspace, redmine: Redmine, relay: TcpRelay, who: str) -> None:
    tid = configure(ws, redmine, url_of(relay), who, project="soc-nothing")
    result = run(ws, tid, relay=relay)
    assert result.category is Category.INVALID_CONFIG
    assert result.message.startswith("Redmine has no project 'soc-nothing' (HTTP 404)")
    assert "'List projects'" in result.message


def test_wrong_tracker_names_the_project_trackers(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    bug, feature = redmine.trackers["Bug"], redmine.trackers["Feature"]
    tid = configure(ws, redmine, url_of(relay), tracker="Support")
    result = run(ws, tid, relay=relay)
    assert result.category is Category.INVALID_CONFIG
    assert result.message == (
        f"Project 'SOC alerts' (soc-alerts) has no tracker 'Support'; its trackers: Bug ({bug}), "
        f"Feature ({feature}). Enter one of them as Tracker, or leave it empty for the project's "
        "first (Bug). Redmine has a tracker Support, but not in this project: add it there (the "
        "project → Settings → Issue tracking → Trackers)."
    )
    ws.update_integration("Acme", IntegrationEdit("redmine", values={"tracker": "999"}))
    result = run(ws, tid, relay=relay)
    assert result.category is Category.INVALID_CONFIG
    assert "has no tracker '999'" in result.message and "Redmine has a tracker" not in result.message
    for given in ("feature", str(feature)):
        ws.update_integration("Acme", IntegrationEdit("redmine", values={"tracker": given}))
        result = run(ws, tid, relay=relay)
        assert result.category is Category.OK, result.message
        assert "takes issues with tracker Feature." in result.message
        assert result.details["tracker_id"] == feature and result.details["tracker_defaulted"] is False


def test_a_wrong_key_is_auth_failed(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), key=BAD_KEY)
    result = run(ws, tid, relay=relay)
    assert result.category is Category.AUTH_FAILED
    assert result.message.startswith("Redmine refused the API key (HTTP 401)")
    assert "My account → API access key → Show" in result.message
    assert BAD_KEY not in everything(result)


def test_rest_api_off_is_forbidden_for_every_key(
    ws: Workspace, redmine_rest_off: Redmine, relay: TcpRelay
) -> None:
    redmine = redmine_rest_off
    for who in ("admin", "member"):
        tid = configure(ws, redmine, url_of(relay), who)
        for op, params in (("check", None), ("projects", None), ("create-issue", {"subject": "REST off"})):
            result = run(ws, tid, op, relay=relay, params=params, confirmed=True)
            assert result.category is Category.FORBIDDEN, (who, op, result.message)
            assert "the REST API is off in Redmine: Administration → Settings → API" in result.message


def test_path_prefix(ws: Workspace, redmine: Redmine) -> None:
    tid = configure(ws, redmine, redmine.prefix_url)
    result = run(ws, tid)
    assert result.category is Category.OK, result.message
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "redmine", values={"url": redmine.prefix_url.removesuffix("/redmine")}, keep_secrets=True
        ),
    )
    result = run(ws, tid)
    assert result.category is Category.PROTOCOL_ERROR
    assert "has no Redmine REST API at this URL (HTTP 404 for /users/current.json)" in result.message
    assert "a path prefix such as https://example.invalid/redmine" in result.message


def test_http_warns_and_sends_the_key_in_the_header_only(ws: Workspace, redmine: Redmine) -> None:
    key = redmine.users["member"].api_key
    with TcpRelay((redmine.host, redmine.ports["http"]), ipv6=False, record=True) as plain:
        tid = configure(ws, redmine, f"http://127.0.0.1:{plain.port}", ca=False, allow_http="true")
        result = run(ws, tid, relay=plain)
        sent = bytes(plain.sent).decode("latin-1")
    assert result.category is Category.OK and result.level == "warning", result.message
    assert result.warnings == [
        "The URL is http://: the API key and the issues travel unencrypted and can be read on the "
        "network; use https:// if this Redmine can serve it."
    ]
    requests = [block.split("\r\n") for block in sent.split("\r\n\r\n") if block.startswith(("GET", "POST"))]
    assert len(requests) >= 5
    for lines in requests:
        assert key not in lines[0]  # never in a URL
        assert f"X-Redmine-API-Key: {key}" in lines or f"x-redmine-api-key: {key}" in lines
        assert sum(key in line for line in lines) == 1


def test_http_not_chosen_sends_nothing(ws: Workspace, redmine: Redmine) -> None:
    """A draft (the wizard's check) is not validated on saving: the check refuses itself."""
    ws.add_tenant("Acme")
    with TcpRelay((redmine.host, redmine.ports["http"]), ipv6=False, record=True) as plain:
        draft = IntegrationState(
            "redmine", True, {"url": f"http://127.0.0.1:{plain.port}", "project": "soc-alerts"}, {}, []
        )
        [result] = run_operation(
            ws, "Acme", "redmine", draft=draft, draft_secrets={"api_key": redmine.users["member"].api_key}
        )
        assert plain.accepted == 0 and plain.sent == b""
    assert result.category is Category.INVALID_CONFIG
    assert result.message.startswith("URL: starts with http://, which sends the API key unencrypted")


def server_sha256(redmine: Redmine) -> str:
    pem = ssl.get_server_certificate((redmine.host, redmine.ports["https"]))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_pin_and_ca(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), ca=False)
    result = run(ws, tid, relay=relay)
    assert result.category is Category.TLS_UNTRUSTED, result.message
    ws.update_integration(
        "Acme", IntegrationEdit("redmine", values={"tls_pin_sha256": server_sha256(redmine)})
    )
    result = run(ws, tid, relay=relay)
    assert result.category is Category.OK, result.message
    ws.update_integration("Acme", IntegrationEdit("redmine", values={"tls_pin_sha256": "ab" * 32}))
    result = run(ws, tid, relay=relay)
    assert result.category is Category.TLS_PIN_MISMATCH, result.message
    ws.update_integration(
        "Acme", IntegrationEdit("redmine", values={"tls_pin_sha256": None, "tls_ca": redmine.ca.cert_pem})
    )
    assert run(ws, tid, relay=relay).category is Category.OK


# ---- create-issue -----------------------------------------------------------------------------
def test_created_issue_reads_back(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), tracker="Feature")
    before = redmine.issues_in("soc-alerts")
    params = {"subject": "XDR: brute force on host-7", "description": "Alert 42\nfrom KUMA"}
    refused = run(ws, tid, "create-issue", relay=relay, params=params)
    assert refused.category is Category.INVALID_CONFIG and refused.refused
    assert "needs confirmation" in refused.message
    assert redmine.issues_in("soc-alerts") == before  # nothing was created
    assert relay.accepted == 0  # nor sent
    result = run(ws, tid, "create-issue", relay=relay, params=params, confirmed=True)
    assert result.category is Category.OK and result.warnings == [], result.message
    number = result.data["id"]
    url = f"{url_of(relay)}/issues/{number}"
    assert result.message == f"Created issue #{number} in project 'SOC alerts' with tracker Feature: {url}"
    assert result.data == {
        "id": number,
        "url": url,
        "project": "soc-alerts",
        "tracker": "Feature",
        "status": "New",
        "priority": "Normal",
        "subject": "XDR: brute force on host-7",
    }
    assert redmine.issues_in("soc-alerts") == before + 1
    issue = redmine.read_issue(number)
    assert issue["subject"] == "XDR: brute force on host-7"
    assert issue["description"] == "Alert 42\r\nfrom KUMA"  # Redmine keeps lines as \r\n
    assert issue["tracker"]["name"] == "Feature" and issue["author"]["id"] == redmine.users["member"].id
    assert redmine.users["member"].api_key not in everything(result)


def test_a_tracker_redmine_replaces_is_said(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    """xdr-limited may add issues of Bug only; /roles shows add_issues, so the check passes,
    and Redmine silently gives the issue the tracker Bug."""
    tid = configure(ws, redmine, url_of(relay), "limited", tracker="Feature")
    assert run(ws, tid, relay=relay).category is Category.OK
    result = run(ws, tid, "create-issue", relay=relay, params={"subject": "limited"}, confirmed=True)
    assert result.category is Category.OK and result.level == "warning", result.message
    assert "with tracker Bug:" in result.message
    [warning] = result.warnings
    assert warning.startswith("Redmine created the issue with tracker Bug, not Feature as configured")
    assert redmine.read_issue(result.data["id"])["tracker"]["name"] == "Bug"


def test_wrong_tracker_creates_nothing(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), tracker="999")
    before = redmine.issues_in("soc-alerts")
    result = run(ws, tid, "create-issue", relay=relay, params={"subject": "x"}, confirmed=True)
    assert result.category is Category.INVALID_CONFIG and "has no tracker '999'" in result.message
    assert redmine.issues_in("soc-alerts") == before


def test_refused_issue_says_redmine_errors(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay), "viewer")
    before = redmine.issues_in("soc-alerts")
    result = run(ws, tid, "create-issue", relay=relay, params={"subject": "by a viewer"}, confirmed=True)
    assert result.category is Category.INVALID_CONFIG
    assert result.message.startswith(
        "Redmine refused the issue (HTTP 422): Project cannot be blank; Tracker cannot be blank; "
        "Status cannot be blank. Redmine says this when 'xdr-viewer' may not add issues"
    )
    assert result.details["errors"] == [
        "Project cannot be blank",
        "Tracker cannot be blank",
        "Status cannot be blank",
    ]
    assert redmine.issues_in("soc-alerts") == before


def test_subject_is_checked_before_anything_is_sent(ws: Workspace, redmine: Redmine, relay: TcpRelay) -> None:
    tid = configure(ws, redmine, url_of(relay))
    for subject, problem in (
        ("", "Subject: enter the issue's subject"),
        ("x" * 256, "is 256 characters long; Redmine takes at most 255"),
    ):
        result = run(ws, tid, "create-issue", params={"subject": subject}, confirmed=True)
        assert result.category is Category.INVALID_CONFIG and result.refused
        assert problem in result.message
    assert relay.accepted == 0


# ---- projects ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("member", ["soc-alerts", "soc-notrack", "soc-public", "soc-restricted"]),
        ("viewer", ["soc-alerts", "soc-public"]),
        ("outsider", ["soc-public"]),
    ],
)
def test_projects_the_key_can_see(
    ws: Workspace, redmine: Redmine, relay: TcpRelay, who: str, expected: list[str]
) -> None:
    ws.add_tenant("Acme")
    # Before the project is set: the listing is what helps to choose it.
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "redmine",
            values={"url": url_of(relay), "tls_ca": redmine.ca.cert_pem},
            secrets={"api_key": redmine.users[who].api_key},
        ),
    )
    result = run(ws, "Acme", "projects", relay=relay)
    assert result.category is Category.OK, result.message
    rows = result.data
    assert sorted(r["identifier"] for r in rows) == expected
    n = len(expected)
    assert result.message.startswith(f"'xdr-{who}' can see {n} project")
    notrack = [r for r in rows if r["identifier"] == "soc-notrack"]
    if notrack:
        assert notrack[0]["issue_tracking"] is False and notrack[0]["note"] == "no issue tracking"
        assert "1 of them has issue tracking turned off." in result.message
    public = next(r for r in rows if r["identifier"] == "soc-public")
    assert public == {
        "id": redmine.projects["public"].id,
        "identifier": "soc-public",
        "name": "SOC public board",
        "public": True,
        "issue_tracking": True,
        "note": "",
    }
    # The check still needs the project.
    check = run(ws, "Acme", "check")
    assert check.category is Category.INVALID_CONFIG and "missing: Project" in check.message
