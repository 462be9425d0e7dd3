"""`xdrconf integration set … redmine`, `xdrconf redmine check|create-issue|projects` and
`xdrconf redmine --help` end to end, against the real Redmine (support/redmine.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.gui import files_containing
from support.redmine import Redmine

pytestmark = pytest.mark.slow


def setup_redmine(cli, redmine: Redmine, tmp_path: Path, who: str = "member", *extra: str) -> str:
    ca = tmp_path / "ca.pem"
    ca.write_text(redmine.ca.cert_pem)
    key = redmine.users[who].api_key
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "integration",
        "set",
        "Acme",
        "redmine",
        f"url={redmine.https_url}",
        f"tls_ca=@{ca}",
        *extra,
        "--secret",
        "api_key",
        stdin=key + "\n",
    )
    assert r.code == 0, r
    return key


def test_projects_then_check_then_create_issue(cli, redmine: Redmine, tmp_path: Path) -> None:
    key = setup_redmine(cli, redmine, tmp_path)
    # Without a project yet: list the projects to pick one.
    r = cli("redmine", "projects", "Acme")
    assert r.code == 0, r
    assert "'xdr-member' can see 4 projects in Redmine." in r.out
    lines = r.out.splitlines()
    assert lines[1].split() == ["IDENTIFIER", "NAME", "ID", "NOTE"]
    assert any(line.startswith("soc-notrack") and line.endswith("no issue tracking") for line in lines)
    r = cli("check", "Acme", "redmine")
    assert r.code == 1 and "missing: Project" in r.out, r

    assert cli("integration", "set", "Acme", "redmine", "project=soc-alerts", "tracker=Feature").code == 0
    assert cli("integration", "enable", "Acme", "redmine").code == 0
    r = cli("redmine", "check", "Acme", "--json")
    assert r.code == 0, r
    [outcome] = json.loads(r.out)
    assert outcome["category"] == "ok" and outcome["operation"] == "check"
    assert "takes issues with tracker Feature" in outcome["message"]

    before = redmine.issues_in("soc-alerts")
    r = cli("redmine", "create-issue", "Acme", "subject=From the command line")
    assert r.code == 2 and "needs confirmation (on the command line: --yes)" in r.err, r
    assert redmine.issues_in("soc-alerts") == before
    r = cli("redmine", "create-issue", "Acme", "subject=From the command line", "description=Line 1", "--yes")
    assert r.code == 0, r
    assert redmine.issues_in("soc-alerts") == before + 1
    assert "Created issue #" in r.out and f"{redmine.https_url}/issues/" in r.out
    r = cli("redmine", "create-issue", "Acme", "From JSON", "--yes", "--json")
    assert r.code == 0, r
    [outcome] = json.loads(r.out)
    data = outcome["data"]
    assert data["url"] == f"{redmine.https_url}/issues/{data['id']}" and data["tracker"] == "Feature"
    assert data["subject"] == "From JSON"
    assert key not in r.out + r.err
    assert files_containing(tmp_path / "config", key) == []


def test_refusals_exit_statuses(cli, redmine: Redmine, tmp_path: Path) -> None:
    setup_redmine(cli, redmine, tmp_path, "viewer", "project=soc-alerts")
    assert cli("integration", "enable", "Acme", "redmine").code == 0
    r = cli("redmine", "check", "Acme")
    assert r.code == 1 and "Access denied" in r.out and "lacks the permission 'Add issues'" in r.out, r
    r = cli("redmine", "create-issue", "Acme", "subject=" + "x" * 256, "--yes")
    assert r.code == 2 and "Redmine takes at most 255" in r.err, r
    r = cli("redmine", "create-issue", "Acme", "subject=by a viewer", "--yes")
    assert r.code == 1 and "Redmine refused the issue (HTTP 422)" in r.out, r
    r = cli("integration", "set", "Acme", "redmine", f"url={redmine.http_url}")
    assert r.code == 2 and "tick 'Allow plain HTTP'" in r.err, r


def test_help_lists_fields_and_operations(capsys) -> None:
    from xdrconf.cli.main import run

    with pytest.raises(SystemExit) as done:
        run(["redmine", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for part in (
        "url — URL (url; required)",
        "allow_http — Allow plain HTTP (bool; default: false)",
        "api_key — API key (secret; required; secret: --secret api_key or api_key=@FILE)",
        "project — Project (text; required; to choose from: xdrconf redmine projects TENANT)",
        "xdrconf redmine create-issue TENANT subject=… [description=…] [--json] [--timeout S] --yes",
        "xdrconf redmine projects TENANT [--json] [--timeout S]",
        "Changes data on the peer: needs --yes.",
    ):
        assert part in text, part
