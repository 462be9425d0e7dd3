"""The real Redmine peer (support/redmine.py) behaves as the Redmine integration will rely on.

Plain httpx, no xdrconf code: these tests pin down what Debian's Redmine 5.0 answers, so the
integration's tests can trust the peer and its data."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.redmine import Redmine

pytestmark = pytest.mark.slow  # the session's first Redmine user pays a Rails boot (~5 s)

BAD_KEY = "0" * 40


@pytest.fixture
def client(redmine: Redmine) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=redmine.https_url, verify=redmine.ssl_context(), timeout=30) as c:
        yield c


def key_of(redmine: Redmine, who: str) -> dict[str, str]:
    return {"X-Redmine-API-Key": redmine.users[who].api_key}


BAD = {"X-Redmine-API-Key": BAD_KEY}


def get(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return client.get(path, headers=headers or {})


def create_issue(client: httpx.Client, headers: dict[str, str], **issue: Any) -> httpx.Response:
    return client.post("/issues.json", headers=headers, json={"issue": issue})


# -- transport -------------------------------------------------------------------------------


def test_https_is_verified_with_the_test_ca_and_untrusted_without_it(redmine: Redmine) -> None:
    r = httpx.get(
        f"{redmine.https_url}/users/current.json",
        verify=redmine.ssl_context(),
        headers=key_of(redmine, "member"),
    )
    assert r.status_code == 200
    with pytest.raises(httpx.ConnectError) as exc:
        httpx.get(f"{redmine.https_url}/users/current.json", verify=ssl.create_default_context())
    chain: list[BaseException] = []
    err: BaseException | None = exc.value
    while err is not None:
        chain.append(err)
        err = err.__cause__ or err.__context__
    assert any(isinstance(e, ssl.SSLCertVerificationError) for e in chain), chain


def test_plain_http_serves_the_same_redmine(redmine: Redmine) -> None:
    assert redmine.http_url.startswith("http://127.0.0.1:")
    r = httpx.get(f"{redmine.http_url}/users/current.json", headers=key_of(redmine, "member"))
    assert r.status_code == 200
    assert r.json()["user"]["login"] == "xdr-member"


def test_path_prefix_variant_answers_only_under_the_prefix(redmine: Redmine) -> None:
    assert redmine.prefix_url.endswith(f":{redmine.ports['prefix']}/redmine")
    with httpx.Client(verify=redmine.ssl_context(), timeout=30) as c:
        r = c.get(f"{redmine.prefix_url}/users/current.json", headers=key_of(redmine, "member"))
        assert r.status_code == 200
        assert r.json()["user"]["id"] == redmine.users["member"].id
        root = redmine.prefix_url.removesuffix("/redmine")
        assert c.get(f"{root}/users/current.json", headers=key_of(redmine, "member")).status_code == 404


# -- whose key is it --------------------------------------------------------------------------


def test_current_user_names_the_key_owner_and_admin_flag(redmine: Redmine, client: httpx.Client) -> None:
    admin = get(client, "/users/current.json", key_of(redmine, "admin"))
    assert admin.status_code == 200
    assert admin.json()["user"]["login"] == "admin"
    assert admin.json()["user"]["admin"] is True
    member = get(client, "/users/current.json", key_of(redmine, "member")).json()["user"]
    assert (member["id"], member["login"], member["admin"]) == (
        redmine.users["member"].id,
        "xdr-member",
        False,
    )
    # Redmine echoes the key itself in the answer: whoever stores this body stores the secret.
    assert member["api_key"] == redmine.users["member"].api_key


@pytest.mark.parametrize("headers", [BAD, {}], ids=["bad-key", "no-key"])
def test_bad_or_missing_key_is_401_with_an_empty_body(client: httpx.Client, headers: dict[str, str]) -> None:
    r = get(client, "/users/current.json", headers)
    assert r.status_code == 401
    assert r.content == b""
    assert r.headers["www-authenticate"] == 'Basic realm="Redmine API"'


# -- REST API off ----------------------------------------------------------------------------


def test_rest_api_off_is_403_for_every_key_and_on_again_after(redmine: Redmine, client: httpx.Client) -> None:
    with redmine.rest_api_off():
        for headers in (key_of(redmine, "admin"), key_of(redmine, "member"), BAD, {}):
            r = get(client, "/users/current.json", headers)
            assert r.status_code == 403, headers
            assert r.content == b""
        r = create_issue(
            client, key_of(redmine, "member"), project_id=redmine.projects["alerts"].id, subject="REST is off"
        )
        assert r.status_code == 403
    assert get(client, "/users/current.json", key_of(redmine, "member")).status_code == 200


def test_rest_api_off_trap_anonymous_answers_ignore_the_key(
    redmine_rest_off: Redmine, client: httpx.Client
) -> None:
    redmine = redmine_rest_off
    public = redmine.projects["public"].identifier
    with_admin = get(client, "/projects.json", key_of(redmine, "admin"))
    with_bad = get(client, "/projects.json", BAD)
    assert with_admin.status_code == with_bad.status_code == 200
    # Only what anonymous may see: the public project, not the admin's view of all four.
    assert [p["identifier"] for p in with_admin.json()["projects"]] == [public]
    assert with_admin.json() == with_bad.json()
    # Lists that need no login answer too, key or no key.
    assert get(client, "/issue_statuses.json", BAD).status_code == 200
    assert get(client, "/trackers.json", BAD).status_code == 200
    assert get(client, "/enumerations/issue_priorities.json", BAD).status_code == 200
    # A private project is out of anonymous reach even with the admin key.
    alerts = redmine.projects["alerts"].identifier
    assert get(client, f"/projects/{alerts}.json", key_of(redmine, "admin")).status_code == 403


def test_settings_channel_reports_errors_and_keeps_working(redmine: Redmine) -> None:
    with pytest.raises(RuntimeError, match="unknown setting"):
        redmine.setting("no_such_setting", "1")
    assert redmine.setting("rest_api_enabled", "1") == "1"


# -- the project -----------------------------------------------------------------------------


def project(client: httpx.Client, ident: str | int, headers: dict[str, str]) -> httpx.Response:
    return get(client, f"/projects/{ident}.json?include=trackers,enabled_modules", headers)


def test_project_with_issue_tracking_lists_its_trackers_and_modules(
    redmine: Redmine, client: httpx.Client
) -> None:
    alerts = redmine.projects["alerts"]
    for ident in (alerts.identifier, alerts.id):
        r = project(client, ident, key_of(redmine, "member"))
        assert r.status_code == 200
        p = r.json()["project"]
        assert (p["id"], p["identifier"], p["is_public"]) == (alerts.id, "soc-alerts", False)
        assert p["trackers"] == [
            {"id": redmine.trackers["Bug"], "name": "Bug"},
            {"id": redmine.trackers["Feature"], "name": "Feature"},
        ]
        assert "issue_tracking" in [m["name"] for m in p["enabled_modules"]]


def test_project_without_issue_tracking_shows_no_trackers(redmine: Redmine, client: httpx.Client) -> None:
    p = project(client, "soc-notrack", key_of(redmine, "member")).json()["project"]
    assert "issue_tracking" not in [m["name"] for m in p["enabled_modules"]]
    assert p["trackers"] == []  # Redmine hides them although Bug and Feature are assigned


def test_project_with_restricted_trackers(redmine: Redmine, client: httpx.Client) -> None:
    p = project(client, "soc-restricted", key_of(redmine, "member")).json()["project"]
    assert [t["name"] for t in p["trackers"]] == ["Support"]


def test_unknown_hidden_and_public_projects(redmine: Redmine, client: httpx.Client) -> None:
    for who in ("member", "admin"):
        r = project(client, "no-such-project", key_of(redmine, who))
        assert r.status_code == 404 and r.content == b""
    alerts = redmine.projects["alerts"]
    assert project(client, alerts.identifier, key_of(redmine, "outsider")).status_code == 403
    assert project(client, alerts.id, key_of(redmine, "outsider")).status_code == 403
    assert project(client, alerts.identifier, {}).status_code == 401
    assert project(client, "soc-public", key_of(redmine, "outsider")).status_code == 200


def test_project_list_is_what_the_key_may_see(redmine: Redmine, client: httpx.Client) -> None:
    def idents(headers: dict[str, str]) -> list[str]:
        r = get(client, "/projects.json", headers)
        assert r.status_code == 200
        return sorted(p["identifier"] for p in r.json()["projects"])

    assert idents(key_of(redmine, "member")) == ["soc-alerts", "soc-notrack", "soc-public", "soc-restricted"]
    assert idents(key_of(redmine, "viewer")) == ["soc-alerts", "soc-public"]
    assert idents(key_of(redmine, "outsider")) == ["soc-public"]
    assert idents({}) == ["soc-public"]


# -- the account's role ----------------------------------------------------------------------


def memberships(client: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = get(client, "/users/current.json?include=memberships", headers)
    assert r.status_code == 200
    result: list[dict[str, Any]] = r.json()["user"]["memberships"]
    return result


def test_memberships_name_projects_and_roles_but_no_permissions(
    redmine: Redmine, client: httpx.Client
) -> None:
    mine = memberships(client, key_of(redmine, "member"))
    assert {m["project"]["id"] for m in mine} == {
        redmine.projects[k].id for k in ("alerts", "notrack", "restricted")
    }
    reporter = {"id": redmine.roles["reporter"], "name": "xdr-reporter"}
    for m in mine:
        assert set(m) == {"id", "project", "roles"}
        assert set(m["project"]) == {"id", "name"}  # no identifier: match on the id
        assert m["roles"] == [reporter]
    viewer = memberships(client, key_of(redmine, "viewer"))
    assert [(m["project"]["id"], m["roles"]) for m in viewer] == [
        (redmine.projects["alerts"].id, [{"id": redmine.roles["viewer"], "name": "xdr-viewer"}])
    ]
    assert memberships(client, key_of(redmine, "outsider")) == []
    assert memberships(client, key_of(redmine, "admin")) == []  # admin: allowed everywhere


def test_role_permissions_are_readable_with_any_key(redmine: Redmine, client: httpx.Client) -> None:
    for headers in (key_of(redmine, "member"), key_of(redmine, "outsider"), {}):
        r = get(client, f"/roles/{redmine.roles['reporter']}.json", headers)
        assert r.status_code == 200
        assert r.json()["role"]["permissions"] == ["view_issues", "add_issues", "add_issue_notes"]
    viewer = get(client, f"/roles/{redmine.roles['viewer']}.json", key_of(redmine, "viewer"))
    assert viewer.json()["role"]["permissions"] == ["view_issues"]
    names = [r["name"] for r in get(client, "/roles.json", key_of(redmine, "member")).json()["roles"]]
    assert {"xdr-reporter", "xdr-viewer"} <= set(names)
    assert "Non member" not in names and "Anonymous" not in names  # built-in roles unlisted


# -- statuses, priorities, trackers ----------------------------------------------------------


def test_statuses_priorities_and_trackers(redmine: Redmine, client: httpx.Client) -> None:
    member = key_of(redmine, "member")
    statuses = get(client, "/issue_statuses.json", member).json()["issue_statuses"]
    assert [s["name"] for s in statuses] == [
        "New",
        "In Progress",
        "Resolved",
        "Feedback",
        "Closed",
        "Rejected",
    ]
    assert {s["name"] for s in statuses if s["is_closed"]} == {"Closed", "Rejected"}
    priorities = get(client, "/enumerations/issue_priorities.json", member).json()["issue_priorities"]
    assert [p["name"] for p in priorities] == ["Low", "Normal", "High", "Urgent", "Immediate"]
    assert [p["name"] for p in priorities if p["is_default"]] == ["Normal"]
    trackers = get(client, "/trackers.json", member).json()["trackers"]
    assert {t["name"]: t["id"] for t in trackers} == redmine.trackers
    assert all(t["default_status"]["name"] == "New" for t in trackers)


# -- creating issues -------------------------------------------------------------------------


def test_created_issue_is_201_and_reads_back(redmine: Redmine, client: httpx.Client) -> None:
    member = key_of(redmine, "member")
    alerts = redmine.projects["alerts"]
    r = create_issue(
        client,
        member,
        project_id=alerts.identifier,
        subject="Alert: brute force",
        description="From KUMA",
        tracker_id=redmine.trackers["Feature"],
    )
    assert r.status_code == 201
    issue = r.json()["issue"]
    assert issue["project"] == {"id": alerts.id, "name": alerts.name}
    assert issue["tracker"]["name"] == "Feature"
    assert issue["status"]["name"] == "New" and issue["priority"]["name"] == "Normal"
    assert issue["author"]["id"] == redmine.users["member"].id
    back = get(client, f"/issues/{issue['id']}.json", member)
    assert back.status_code == 200
    assert (back.json()["issue"]["subject"], back.json()["issue"]["description"]) == (
        "Alert: brute force",
        "From KUMA",
    )


def test_blank_subject_is_422_with_errors(redmine: Redmine, client: httpx.Client) -> None:
    r = create_issue(client, key_of(redmine, "member"), project_id=redmine.projects["alerts"].id, subject="")
    assert r.status_code == 422
    assert r.json() == {"errors": ["Subject cannot be blank"]}


NO_PROJECT = {"errors": ["Project cannot be blank", "Tracker cannot be blank", "Status cannot be blank"]}


@pytest.mark.parametrize(
    ("who", "project_key"),
    [("member", None), ("member", "notrack"), ("viewer", "alerts"), ("outsider", "alerts")],
    ids=["unknown-project", "no-issue-tracking", "role-without-add-issues", "non-member"],
)
def test_issue_where_it_may_not_be_added_is_the_same_422(
    redmine: Redmine, client: httpx.Client, who: str, project_key: str | None
) -> None:
    """Redmine does not say 403 here: an unknown project, a project without issue tracking,
    a role without add_issues and a non-member all get the same 422."""
    project_id: int | str = redmine.projects[project_key].id if project_key else "no-such-project"
    r = create_issue(client, key_of(redmine, who), project_id=project_id, subject=f"by {who}")
    assert r.status_code == 422
    assert r.json() == NO_PROJECT


@pytest.mark.parametrize(
    ("project_key", "tracker", "expected"),
    [("alerts", 999, "Bug"), ("alerts", "Support", "Bug"), ("restricted", "Bug", "Support")],
    ids=["no-such-tracker", "tracker-not-in-project", "restricted-project"],
)
def test_tracker_outside_the_project_is_silently_replaced(
    redmine: Redmine, client: httpx.Client, project_key: str, tracker: int | str, expected: str
) -> None:
    tracker_id = tracker if isinstance(tracker, int) else redmine.trackers[tracker]
    r = create_issue(
        client,
        key_of(redmine, "member"),
        project_id=redmine.projects[project_key].id,
        subject=f"tracker {tracker}",
        tracker_id=tracker_id,
    )
    assert r.status_code == 201
    assert r.json()["issue"]["tracker"]["name"] == expected


def test_non_member_may_add_to_a_public_project_anonymous_may_not(
    redmine: Redmine, client: httpx.Client
) -> None:
    public = redmine.projects["public"]
    r = create_issue(client, key_of(redmine, "outsider"), project_id=public.id, subject="outsider")
    assert r.status_code == 201  # the built-in Non member role has add_issues
    assert r.json()["issue"]["author"]["id"] == redmine.users["outsider"].id
    assert create_issue(client, {}, project_id=public.id, subject="anonymous").status_code == 401
    assert create_issue(client, BAD, project_id=public.id, subject="bad key").status_code == 401


def test_add_issues_for_some_trackers_only_is_not_shown_and_replaces_the_tracker(
    redmine: Redmine, client: httpx.Client
) -> None:
    """xdr-bug-reporter may add issues of Bug only: /roles/<id>.json lists add_issues all the
    same, and an issue asked for as Feature is created as Bug."""
    limited = key_of(redmine, "limited")
    role = get(client, f"/roles/{redmine.roles['bug_reporter']}.json", limited).json()["role"]
    assert role["permissions"] == ["view_issues", "add_issues"]
    r = create_issue(
        client,
        limited,
        project_id=redmine.projects["alerts"].id,
        subject="limited to Bug",
        tracker_id=redmine.trackers["Feature"],
    )
    assert r.status_code == 201
    assert r.json()["issue"]["tracker"]["name"] == "Bug"
