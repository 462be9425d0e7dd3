"""Redmine's REST API as the integration uses it: whose key it is, the project, its trackers,
the account's role there; creating an issue; the projects a key can see. Wire facts:
shared/INTEGRATIONS.md (Redmine) and what Debian's Redmine 5.0.4 answers (tests/support/redmine.py).

Redmine is stateless for the API (the key goes with every request, in the X-Redmine-API-Key
header only, never in a URL): there is no session to log out of; the engine closes the
connection when the operation ends.

Traps this module works around [observed]:
- With the REST API off, /projects.json and the lists of statuses, trackers and priorities
  answer 200 anonymously and ignore the key; only /users/current.json proves the key (403
  when the REST API is off), so every operation asks it first.
- Redmine never answers 403 to an issue it will not take: an unknown project, a project
  without issue tracking, a role without "Add issues" and a non-member all get the same 422
  "Project / Tracker / Status cannot be blank"; so the check reads the project and the
  role's permissions itself.
- A tracker the project or the role does not allow is silently replaced by the first one
  allowed: the created issue's tracker is compared with the one asked for.
- /users/current.json repeats the API key in its body: that body is never kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...i18n import _, ngettext
from ...outcome import Category, Outcome
from .settings import API_KEY_HEADER, TRACKER_LABEL, is_http, validate

if TYPE_CHECKING:
    import httpx

    from ...engine import OpContext
    from ...http import HttpSession, Meaning

PAGE = 100  # Redmine's largest page of a list
MAX_PAGES = 1000  # a list longer than 100,000 projects is not Redmine's
NO_PROJECT_ERRORS = {"Project cannot be blank", "Tracker cannot be blank", "Status cannot be blank"}


@dataclass
class Account:
    """The user an API key belongs to (never the key itself)."""

    id: int
    login: str
    name: str
    admin: bool
    memberships: list[dict[str, Any]] | None  # None: Redmine did not list them


@dataclass
class Project:
    id: int
    identifier: str
    name: str
    public: bool
    trackers: list[tuple[int, str]]
    modules: list[str] | None  # None: Redmine did not list them

    @property
    def issue_tracking(self) -> bool | None:
        return None if self.modules is None else "issue_tracking" in self.modules


@dataclass
class RoleVerdict:
    """Whether the account may add issues in the project: True, False or None (cannot tell)."""

    may_add: bool | None
    sentence: str
    roles: list[str] = field(default_factory=list)
    warning: str = ""


def listed(value: Any) -> list[dict[str, Any]] | None:
    """The objects of a JSON list, or None when it is not a list."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else None


def http_warning() -> str:
    return _(
        "The URL is http://: the API key and the issues travel unencrypted and can be read on the "
        "network; use https:// if this Redmine can serve it."
    )


class Redmine:
    """One Redmine as an operation talks to it: its base URL, the key's header and the
    engine's request helper. Made before anything is sent: http without "Allow plain HTTP"
    is refused here, so the key never travels in clear unless that was chosen."""

    def __init__(self, ctx: OpContext) -> None:
        self.ctx = ctx
        settings = ctx.settings
        validate(settings)  # also for a wizard's draft, which is not validated on its own
        self.base = str(settings["url"]).rstrip("/")
        key = ctx.require_secret("api_key", header=True)
        self.headers = {API_KEY_HEADER: key, "Accept": "application/json"}
        self._key = key
        self.http: HttpSession = ctx.http()
        self.warnings = [http_warning()] if is_http(settings) else []

    # ---- requests ----------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        expect: tuple[int, ...] = (200,),
        meaning: dict[int, Meaning] | None = None,
    ) -> httpx.Response:
        refused_key: Meaning = (
            Category.AUTH_FAILED,
            _(
                "Redmine refused the API key (HTTP 401): it is wrong, or its user is locked. Copy it "
                "again in Redmine (My account → API access key → Show) and replace it here."
            ),
        )
        return self.http.request(
            method,
            self.base + path,
            headers=self.headers,
            params=params,
            json=body,
            expect=expect,
            meaning={401: refused_key, **(meaning or {})},
        )

    def json_of(self, response: httpx.Response, key: str) -> Any:
        """The member `key` of a JSON object answer; anything else is not Redmine's API."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or key not in data:
            self.ctx.fail(
                Category.PROTOCOL_ERROR,
                _(
                    "{target} answered {path} with something that is not Redmine's REST API; check the "
                    "URL, including a path prefix such as /redmine."
                ).format(target=self.http.target, path=response.request.url.path),
            )
        return data[key]

    # ---- whose key -----------------------------------------------------------------------
    def whoami(self) -> Account:
        """GET /users/current.json (with the memberships): the only answer that proves the
        key, since with the REST API off other lists answer anonymously."""
        r = self.request(
            "GET",
            "/users/current.json",
            params={"include": "memberships"},
            meaning={
                403: (
                    Category.FORBIDDEN,
                    _(
                        "Redmine answered HTTP 403 whatever the key: the REST API is off in Redmine: "
                        "Administration → Settings → API → tick 'Enable REST web service' (or a proxy "
                        "in front of Redmine refuses the request)."
                    ),
                ),
                404: (
                    Category.PROTOCOL_ERROR,
                    _(
                        "{target} has no Redmine REST API at this URL (HTTP 404 for /users/current.json); "
                        "check the URL, including a path prefix such as https://example.invalid/redmine."
                    ),
                ),
            },
        )
        user = self.json_of(r, "user")
        if not isinstance(user, dict):
            user = {}
        uid, login = user.get("id"), user.get("login")
        echoed = user.get("api_key")
        if not isinstance(uid, int) or not isinstance(login, str) or not login:
            self.ctx.fail(
                Category.PROTOCOL_ERROR,
                _(
                    "{target} answered /users/current.json without naming a user (an anonymous "
                    "answer), which does not prove the API key; check that the URL is Redmine's and "
                    "that no proxy drops the X-Redmine-API-Key header."
                ).format(target=self.http.target),
            )
        if isinstance(echoed, str) and echoed and echoed != self._key:
            self.ctx.fail(
                Category.PROTOCOL_ERROR,
                _(
                    "{target} answered /users/current.json for another API key than the one sent; "
                    "check that no proxy or cache stands between xdrconf and Redmine."
                ).format(target=self.http.target),
            )
        name = " ".join(str(user.get(k) or "") for k in ("firstname", "lastname")).strip()
        memberships = user.get("memberships")
        return Account(
            id=uid,
            login=login,
            name=name or login,
            admin=user.get("admin") is True,
            memberships=listed(memberships),
        )

    # ---- the project ---------------------------------------------------------------------
    def project(self, account: Account) -> Project:
        """The configured project with its trackers and modules; unknown, hidden or without
        issue tracking ends the operation saying so."""
        wanted = str(self.ctx.settings.get("project") or "")
        r = self.request(
            "GET",
            f"/projects/{quote(wanted, safe='')}.json",
            params={"include": "trackers,enabled_modules"},
            meaning={
                404: (
                    Category.INVALID_CONFIG,
                    _(
                        "Redmine has no project '{project}' (HTTP 404); enter the project's identifier, "
                        "as in its URL (…/projects/soc-alerts), or its numeric id: the operation "
                        "'List projects' (Choose… beside the field) shows the projects this key can see."
                    ).format(project=wanted),
                ),
                403: (
                    Category.FORBIDDEN,
                    _(
                        "Redmine does not show project '{project}' to '{login}' (HTTP 403): it is private "
                        "and the user is not a member of it, or it is archived; add the user to the "
                        "project (the project → Settings → Members) with a role that may add issues."
                    ).format(project=wanted, login=account.login),
                ),
            },
        )
        data = self.json_of(r, "project")
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            self.ctx.fail(
                Category.PROTOCOL_ERROR,
                _("{target} answered for project '{project}' without the project's id.").format(
                    target=self.http.target, project=wanted
                ),
            )
        trackers = [
            (t["id"], str(t.get("name") or t["id"]))
            for t in data.get("trackers") or []
            if isinstance(t, dict) and isinstance(t.get("id"), int)
        ]
        modules = data.get("enabled_modules")
        project = Project(
            id=data["id"],
            identifier=str(data.get("identifier") or wanted),
            name=str(data.get("name") or wanted),
            public=data.get("is_public") is True,
            trackers=trackers,
            modules=[str(m.get("name")) for m in modules if isinstance(m, dict)]
            if isinstance(modules, list)
            else None,
        )
        if project.issue_tracking is False:
            self.ctx.fail(
                Category.INVALID_CONFIG,
                _(
                    "Project '{name}' ({identifier}) has issue tracking turned off, so Redmine takes no "
                    "issues in it; turn it on in Redmine (the project → Settings → Project → Modules → "
                    "Issue tracking) or choose another project."
                ).format(name=project.name, identifier=project.identifier),
                project=project.identifier,
            )
        if not project.trackers:
            self.ctx.fail(
                Category.INVALID_CONFIG,
                _(
                    "Redmine shows no tracker of project '{name}' ({identifier}) to '{login}': the "
                    "project has none (the project → Settings → Issue tracking → Trackers), or the "
                    "user's role may not view its issues; no issue can be created there."
                ).format(name=project.name, identifier=project.identifier, login=account.login),
                project=project.identifier,
            )
        return project

    def tracker(self, project: Project) -> tuple[tuple[int, str], bool]:
        """The configured tracker of the project, or its first when none is configured
        (then True: Redmine picks it). A tracker the project does not have ends the
        operation naming the project's trackers."""
        wanted = self.ctx.settings.get("tracker")
        if not wanted:
            return project.trackers[0], True
        wanted = str(wanted)
        for tid, name in project.trackers:
            if (wanted.isdigit() and tid == int(wanted)) or name.casefold() == wanted.casefold():
                return (tid, name), False
        listed = ", ".join(f"{name} ({tid})" for tid, name in project.trackers)
        message = _(
            "Project '{name}' ({identifier}) has no tracker '{tracker}'; its trackers: {trackers}. "
            "Enter one of them as {label}, or leave it empty for the project's first ({first})."
        ).format(
            name=project.name,
            identifier=project.identifier,
            tracker=wanted,
            trackers=listed,
            label=TRACKER_LABEL,
            first=project.trackers[0][1],
        )
        elsewhere = self._tracker_elsewhere(wanted)
        if elsewhere:
            message += " " + _(
                "Redmine has a tracker {tracker}, but not in this project: add it there (the project → "
                "Settings → Issue tracking → Trackers)."
            ).format(tracker=elsewhere)
        self.ctx.fail(Category.INVALID_CONFIG, message, project=project.identifier, tracker=wanted)

    def _tracker_elsewhere(self, wanted: str) -> str:
        """The name of Redmine's tracker `wanted` when it exists outside the project."""
        r = self.request("GET", "/trackers.json", expect=(200, 401, 403, 404))
        if r.status_code != 200:
            return ""
        try:
            trackers = r.json().get("trackers")
        except (ValueError, AttributeError):
            return ""
        for t in trackers if isinstance(trackers, list) else []:
            if not isinstance(t, dict):
                continue
            tid, name = t.get("id"), str(t.get("name") or "")
            if (wanted.isdigit() and tid == int(wanted)) or name.casefold() == wanted.casefold():
                return name
        return ""

    # ---- statuses and priorities ----------------------------------------------------------
    def statuses_and_priorities(self) -> tuple[int, int, str]:
        """How many issue statuses and priorities Redmine lists, and the default priority."""
        statuses = self.json_of(self.request("GET", "/issue_statuses.json"), "issue_statuses")
        priorities = self.json_of(
            self.request("GET", "/enumerations/issue_priorities.json"), "issue_priorities"
        )
        if not isinstance(statuses, list) or not isinstance(priorities, list):
            self.ctx.fail(
                Category.PROTOCOL_ERROR,
                _("{target} did not list the issue statuses and priorities as Redmine does.").format(
                    target=self.http.target
                ),
            )
        defaults = [str(p.get("name")) for p in listed(priorities) or [] if p.get("is_default") is True]
        default = defaults[0] if defaults else ""
        return len(statuses), len(priorities), default

    # ---- the account's role --------------------------------------------------------------
    def role_verdict(self, account: Account, project: Project) -> RoleVerdict:
        """Whether the account may add issues in the project, from what Redmine shows: an
        administrator may; a member's roles' permissions (/roles/<id>.json) say; a
        non-member of a public project gets the built-in Non member role, whose
        permissions the API does not show."""
        login, pname = account.login, project.name
        if account.admin:
            text = _("As a Redmine administrator, '{login}' may add issues in every project.")
            return RoleVerdict(True, text.format(login=login))
        if account.memberships is None:
            return RoleVerdict(
                None,
                _("Whether '{login}' may add issues there could not be told.").format(login=login),
                warning=_(
                    "Redmine did not list the memberships of '{login}', so whether it may add issues "
                    "in '{project}' could not be told; check its role in the project → Settings → "
                    "Members."
                ).format(login=login, project=pname),
            )
        roles: list[tuple[int, str]] = []
        for m in account.memberships:
            where = m.get("project")
            if isinstance(where, dict) and where.get("id") == project.id:
                roles += [
                    (r["id"], str(r.get("name") or r["id"]))
                    for r in m.get("roles") or []
                    if isinstance(r, dict) and isinstance(r.get("id"), int)
                ]
        if not roles:
            if project.public:
                warning = _(
                    "'{login}' is not a member of the public project '{project}': Redmine gives it the "
                    "built-in Non member role, whose permissions its API does not show. Check in "
                    "Redmine that Administration → Roles and permissions → Non member has 'Add "
                    "issues', or add the user to the project with a role that has it."
                ).format(login=login, project=pname)
            else:
                warning = _(
                    "'{login}' is not listed as a member of '{project}', so whether it may add issues "
                    "there could not be told; check the project → Settings → Members."
                ).format(login=login, project=pname)
            return RoleVerdict(
                None,
                _("Whether '{login}' may add issues there could not be told.").format(login=login),
                warning=warning,
            )
        allowing: list[str] = []
        unread: list[str] = []
        for rid, rname in dict.fromkeys(roles):
            self.ctx.check_stop()
            r = self.request("GET", f"/roles/{rid}.json", expect=(200, 403, 404))
            role = None
            if r.status_code == 200:
                try:
                    role = r.json().get("role")
                except (ValueError, AttributeError):
                    role = None
            permissions = role.get("permissions") if isinstance(role, dict) else None
            if not isinstance(permissions, list):
                unread.append(rname)
            elif "add_issues" in permissions:
                allowing.append(rname)
        names = [name for _rid, name in dict.fromkeys(roles)]
        if allowing:
            return RoleVerdict(
                True,
                _(
                    "'{login}' may add issues there: its role in the project ({roles}) has the "
                    "permission 'Add issues'."
                ).format(login=login, roles=", ".join(allowing)),
                roles=names,
            )
        if unread:
            return RoleVerdict(
                None,
                _("Whether '{login}' may add issues there could not be told.").format(login=login),
                roles=names,
                warning=_(
                    "Redmine did not show the permissions of the role {roles} of '{login}' in "
                    "'{project}', so whether it may add issues there could not be told; check "
                    "Administration → Roles and permissions."
                ).format(roles=", ".join(unread), login=login, project=pname),
            )
        count = len(names)
        self.ctx.fail(
            Category.FORBIDDEN,
            ngettext(
                "'{login}' may not add issues in project '{project}': its role there ({roles}) lacks "
                "the permission 'Add issues' (Redmine would refuse every issue with 'Project cannot be "
                "blank'). Tick Add issues in Administration → Roles and permissions → {roles}, or give "
                "the user a role that has it (the project → Settings → Members).",
                "'{login}' may not add issues in project '{project}': none of its roles there ({roles}) "
                "has the permission 'Add issues' (Redmine would refuse every issue with 'Project cannot "
                "be blank'). Tick Add issues for one of them in Administration → Roles and permissions, "
                "or give the user a role that has it (the project → Settings → Members).",
                count,
            ).format(login=login, project=pname, roles=", ".join(names)),
            user=login,
            project=project.identifier,
            roles=names,
            may_add_issues=False,
        )


# ---- the operations --------------------------------------------------------------------------
def check(ctx: OpContext) -> list[Outcome]:
    """Whose key → the project (exists, issue tracking, the tracker) → statuses and
    priorities → the account's role there. Read-only."""
    rm = Redmine(ctx)
    account = rm.whoami()
    project = rm.project(account)
    (tracker_id, tracker), defaulted = rm.tracker(project)
    statuses, priorities, default_priority = rm.statuses_and_priorities()
    verdict = rm.role_verdict(account, project)
    if account.admin:
        who = _("Connected to Redmine as '{login}' ({name}), an administrator.")
    else:
        who = _("Connected to Redmine as '{login}' ({name}).")
    if defaulted:
        where = _(
            "Project '{project}' ({identifier}) takes issues; no tracker is set, so they get its "
            "first, {tracker}."
        )
    else:
        where = _("Project '{project}' ({identifier}) takes issues with tracker {tracker}.")
    if default_priority:
        lists = _(
            "Issue statuses ({statuses}) and priorities ({priorities}, default {default}) are readable."
        )
    else:
        lists = _("Issue statuses ({statuses}) and priorities ({priorities}) are readable.")
    sentences = [
        who.format(login=account.login, name=account.name),
        where.format(project=project.name, identifier=project.identifier, tracker=tracker),
        lists.format(statuses=statuses, priorities=priorities, default=default_priority),
        verdict.sentence,
    ]
    warnings = [*rm.warnings, *([verdict.warning] if verdict.warning else [])]
    return [
        Outcome(
            Category.OK,
            " ".join(sentences),
            details={
                "user": account.login,
                "user_id": account.id,
                "admin": account.admin,
                "project": project.identifier,
                "project_id": project.id,
                "tracker": tracker,
                "tracker_id": tracker_id,
                "tracker_defaulted": defaulted,
                "roles": verdict.roles,
                "may_add_issues": verdict.may_add,
            },
            warnings=warnings,
        )
    ]


def create_issue(ctx: OpContext) -> list[Outcome]:
    """POST /issues.json in the configured project and tracker; the issue's id and URL.
    The tracker Redmine gave the issue is compared with the one asked for."""
    rm = Redmine(ctx)
    account = rm.whoami()
    project = rm.project(account)
    (tracker_id, tracker), defaulted = rm.tracker(project)
    issue: dict[str, Any] = {"project_id": project.id, "subject": ctx.params["subject"]}
    if ctx.params.get("description"):
        issue["description"] = ctx.params["description"]
    if not defaulted:
        issue["tracker_id"] = tracker_id
    r = rm.request(
        "POST",
        "/issues.json",
        body={"issue": issue},
        expect=(201, 422),
        meaning={
            403: (
                Category.FORBIDDEN,
                _(
                    "Redmine refused to create the issue (HTTP 403): the REST API is off in Redmine: "
                    "Administration → Settings → API, or the user may not add issues there."
                ),
            )
        },
    )
    if r.status_code == 422:
        try:
            errors = r.json().get("errors")
        except (ValueError, AttributeError):
            errors = None
        said = [str(e) for e in errors] if isinstance(errors, list) else []
        message = _("Redmine refused the issue (HTTP 422): {errors}.").format(
            errors="; ".join(said) or _("no reason given")
        )
        if NO_PROJECT_ERRORS & set(said):
            message += " " + _(
                "Redmine says this when '{login}' may not add issues in the project (no role with "
                "'Add issues') or the project takes no issues; Check connection says which."
            ).format(login=account.login)
        ctx.fail(Category.INVALID_CONFIG, message, errors=said)
    created = rm.json_of(r, "issue")
    if not isinstance(created, dict) or not isinstance(created.get("id"), int):
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _("{target} answered the new issue without its id; look for it in Redmine.").format(
                target=rm.http.target
            ),
        )
    number = created["id"]
    url = f"{rm.base}/issues/{number}"

    def name_of(key: str) -> str:
        value = created.get(key)
        return str(value.get("name") or "") if isinstance(value, dict) else ""

    got = created.get("tracker")
    got_id = got.get("id") if isinstance(got, dict) else None
    got_name = name_of("tracker")
    warnings = list(rm.warnings)
    if not defaulted and got_id != tracker_id:
        warnings.append(
            _(
                "Redmine created the issue with tracker {got}, not {wanted} as configured: it silently "
                "takes another tracker when the user's role may add issues of some trackers only "
                "(Administration → Roles and permissions → the role → Add issues, per tracker). Change "
                "{label} in the settings or the role."
            ).format(got=got_name or "?", wanted=tracker, label=TRACKER_LABEL)
        )
    return [
        Outcome(
            Category.OK,
            _("Created issue #{id} in project '{project}' with tracker {tracker}: {url}").format(
                id=number, project=project.name, tracker=got_name or tracker, url=url
            ),
            details={"issue": number, "url": url, "project": project.identifier, "tracker": got_name},
            data={
                "id": number,
                "url": url,
                "project": project.identifier,
                "tracker": got_name,
                "status": name_of("status"),
                "priority": name_of("priority"),
                "subject": str(created.get("subject") or ""),
            },
            warnings=warnings,
        )
    ]


def projects(ctx: OpContext) -> list[Outcome]:
    """The projects this key can see (GET /projects.json, every page), after proving the
    key: with the REST API off the list would be the anonymous one."""
    rm = Redmine(ctx)
    account = rm.whoami()
    rows: list[dict[str, Any]] = []
    offset = 0
    for _page in range(MAX_PAGES):
        r = rm.request(
            "GET", "/projects.json", params={"limit": PAGE, "offset": offset, "include": "enabled_modules"}
        )
        page = rm.json_of(r, "projects")
        if not isinstance(page, list):
            page = []
        for p in page:
            if not isinstance(p, dict) or not isinstance(p.get("id"), int):
                continue
            modules = p.get("enabled_modules")
            tracking = (
                any(isinstance(m, dict) and m.get("name") == "issue_tracking" for m in modules)
                if isinstance(modules, list)
                else None
            )
            rows.append(
                {
                    "id": p["id"],
                    "identifier": str(p.get("identifier") or p["id"]),
                    "name": str(p.get("name") or ""),
                    "public": p.get("is_public") is True,
                    "issue_tracking": tracking,
                    "note": _("no issue tracking") if tracking is False else "",
                }
            )
        try:
            total = int(r.json().get("total_count", 0))
        except (TypeError, ValueError, AttributeError):
            total = 0
        offset += len(page)
        ctx.progress((len(rows), total))
        if not page or offset >= total:
            break
    n = len(rows)
    message = ngettext(
        "'{login}' can see {n} project in Redmine.", "'{login}' can see {n} projects in Redmine.", n
    ).format(login=account.login, n=n)
    without = sum(1 for row in rows if row["issue_tracking"] is False)
    if without:
        message += " " + ngettext(
            "{n} of them has issue tracking turned off.",
            "{n} of them have issue tracking turned off.",
            without,
        ).format(n=without)
    return [Outcome(Category.OK, message, details={"projects": n}, data=rows, warnings=list(rm.warnings))]
