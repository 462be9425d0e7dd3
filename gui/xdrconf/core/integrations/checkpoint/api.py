"""The Check Point Management API as the check uses it: JSON commands at
`POST https://<server>:<port>/web_api/<command>`, a read-only login whose `sid` goes back as
`X-chkp-sid`, and errors decided by their `code` (the HTTP status of most codes is not
documented). Wire facts: shared/INTEGRATIONS.md "Check Point Management API"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import OperationFailed
from ...fields import host_port
from ...i18n import _, ngettext
from ...net import classify_status
from ...outcome import Category, Outcome
from ..common import signed_in

if TYPE_CHECKING:
    import httpx

    from ...engine import OpContext
    from ...http import HttpSession

# Seconds a check's session may stay unused before the server ends it (login's
# `session-timeout`, 10-3600 [doc]): should the logout fail, the session goes soon.
SESSION_TIMEOUT = 60
ANY_STATUS = tuple(range(100, 600))  # errors are decided by the body's code, not the status

# Error codes [doc: the public API schema; the SDK; public clients].
LOGIN_FAILED = "err_login_failed"  # and err_login_failed_… variants
MORE_THAN_ONE_SESSION = "err_login_failed_more_than_one_opened_session"
NO_PERMISSIONS = "generic_err_no_permissions"
TOO_MANY_REQUESTS = "err_too_many_requests"
NOT_FOUND = "generic_err_object_not_found"
SESSION_GONE = (
    "generic_err_missing_session_id",
    "generic_err_wrong_session_id",
    "generic_err_session_expired",
)
UNKNOWN_COMMAND = ("generic_err_command_not_found", "err_unknown_api_version")


def base_url(settings: dict[str, Any]) -> str:
    return f"https://{host_port(str(settings['host']), int(settings['port']))}/web_api"


class Api:
    """One check's conversation with the management server (a lasting request helper: the
    session it opens is logged out even when the check is cancelled)."""

    def __init__(self, ctx: OpContext) -> None:
        self.ctx = ctx
        self.http: HttpSession = ctx.http(lasting=True)
        self.base = base_url(ctx.settings)

    @property
    def target(self) -> str:
        return self.http.target or self.ctx.target

    def call(self, command: str, body: dict[str, Any], sid: str | None = None, *, final: bool = False) -> Any:
        headers = {"Accept": "application/json"}
        if sid is not None:
            headers["X-chkp-sid"] = sid
        r = self.http.post(
            f"{self.base}/{command}", json=body, headers=headers, expect=ANY_STATUS, final=final
        )
        data = _json(r)
        if r.status_code == 200 and isinstance(data, dict):
            return data
        raise self.failure(command, r, data)

    def failure(self, command: str, r: httpx.Response, data: Any) -> OperationFailed:
        """What an answer that is not success means, by its code."""
        target, status = self.target, r.status_code
        code = str(data.get("code") or "") if isinstance(data, dict) else ""
        said = self.ctx.redactor.text(str(data.get("message") or "")[:300]) if isinstance(data, dict) else ""
        quote = f'{code}: "{said}"' if said else code
        details = {"http_status": status, "code": code or f"http_{status}"}
        settings = self.ctx.settings
        if not code:
            return OperationFailed(*self._without_code(status), details=details)
        if code == MORE_THAN_ONE_SESSION:
            advice = _(
                "End that session (SmartConsole: Manage & Settings → Sessions → View Sessions → "
                "Disconnect) or wait until its idle timeout ends it, or give the response scripts an "
                "administrator of their own; then check again."
            )
            if settings.get("auth") == "password":
                message = _(
                    "The management server refused the login because the administrator '{user}' already "
                    "has an open session ({quote})."
                ).format(user=settings.get("username"), quote=quote)
            else:
                message = _(
                    "The management server refused the login because the administrator of this API key "
                    "already has an open session ({quote})."
                ).format(quote=quote)
            return OperationFailed(Category.QUOTA_EXCEEDED, f"{message} {advice}", details=details)
        if code.startswith(LOGIN_FAILED):
            credential = (
                _("the user name or password") if settings.get("auth") == "password" else _("the API key")
            )
            if settings.get("domain"):
                message = _(
                    "The management server refused the login ({quote}). Either it did not accept "
                    "{credential}, or the domain '{domain}' does not exist on this Multi-Domain Server "
                    "or the administrator may not use it — Check Point answers both the same way. Check "
                    "the administrator in SmartConsole (Manage & Settings → Permissions & "
                    "Administrators → Administrators) and the domain's exact name."
                ).format(quote=quote, credential=credential, domain=settings["domain"])
            else:
                message = _(
                    "The management server refused the login ({quote}): it did not accept {credential}, "
                    "or the administrator is locked or expired. Check the administrator in SmartConsole "
                    "(Manage & Settings → Permissions & Administrators → Administrators) and enter "
                    "{credential} again."
                ).format(quote=quote, credential=credential)
            return OperationFailed(Category.AUTH_FAILED, message, details=details)
        if code == NO_PERMISSIONS:
            if command == "login":
                message = _(
                    "The administrator may not use the Management API ({quote}); allow Management API "
                    "Login in its permission profile (SmartConsole: Manage & Settings → Permissions & "
                    "Administrators → Permission Profiles → Management)."
                ).format(quote=quote)
            else:
                message = _(
                    "The administrator may not run '{command}' ({quote}); its permission profile "
                    "(SmartConsole: Manage & Settings → Permissions & Administrators → Permission "
                    "Profiles) must allow reading network objects, which the response scripts also need."
                ).format(command=command, quote=quote)
            return OperationFailed(Category.FORBIDDEN, message, details=details)
        if code == TOO_MANY_REQUESTS:
            message = _(
                "The management server is limiting the rate of API requests ({quote}); wait a minute "
                "and check again."
            ).format(quote=quote)
            return OperationFailed(Category.RATE_LIMITED, message, details=details)
        if code in SESSION_GONE:
            message = _(
                "The management server no longer accepted the session it had just opened when asked "
                "'{command}' ({quote}); another administrator or a restart may have ended it. Check again."
            ).format(command=command, quote=quote)
            return OperationFailed(Category.PROTOCOL_ERROR, message, details=details)
        if code in UNKNOWN_COMMAND:
            message = _(
                "{target} does not know the Management API command '{command}' ({quote}); check that "
                "this is a Check Point Security Management Server R80 or later."
            ).format(target=target, command=command, quote=quote)
            return OperationFailed(Category.PROTOCOL_ERROR, message, details=details)
        category = Category.SERVER_ERROR if status >= 500 else Category.PROTOCOL_ERROR
        message = _("The management server refused '{command}' ({quote}, HTTP {status}).").format(
            command=command, quote=quote, status=status
        )
        return OperationFailed(category, message, details=details)

    def _without_code(self, status: int) -> tuple[Category, str]:
        """An answer that is not the API's JSON: the status is all there is."""
        target = self.target
        if status == 200:
            return Category.PROTOCOL_ERROR, _(
                "{target} answered, but not as the Check Point Management API does; check the host "
                "and port (the management server's, 443 by default)."
            ).format(target=target)
        if status == 404:
            return Category.PROTOCOL_ERROR, _(
                "{target} has no Check Point Management API at /web_api (HTTP 404); check the host and "
                "port (the management server's, 443 by default)."
            ).format(target=target)
        if status == 403:
            return Category.FORBIDDEN, _(
                "{target} refused the API request (HTTP 403) without a Management API answer: the API "
                "may accept calls only from the management server itself. Allow this computer's "
                "address in SmartConsole: Manage & Settings → Blades → Management API → Advanced "
                "Settings (then run 'api restart' on the server)."
            ).format(target=target)
        return classify_status(status, target)


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


# ---- the check -------------------------------------------------------------------------------------
def login_body(ctx: OpContext) -> dict[str, Any]:
    """A read-only login with the key or the user and password, in the domain if one is set."""
    s = ctx.settings
    body: dict[str, Any] = {"read-only": True, "session-timeout": SESSION_TIMEOUT}
    if s.get("auth") == "password":
        body["user"] = str(s.get("username") or "")
        body["password"] = ctx.require_secret("password")
    else:
        body["api-key"] = ctx.require_secret("api_key")
    if s.get("domain"):
        body["domain"] = s["domain"]
    return body


def check(ctx: OpContext) -> list[Outcome]:
    """login (read-only) → show-session → show-group (when a block group is set) → logout,
    the logout always."""
    s = ctx.settings
    api = Api(ctx)
    body = login_body(ctx)

    def login() -> dict[str, Any]:
        data: dict[str, Any] = api.call("login", body)
        if not isinstance(data.get("sid"), str) or not data["sid"]:
            ctx.fail(
                Category.PROTOCOL_ERROR,
                _(
                    "{target} accepted the login but sent no session id; is this a Check Point management "
                    "server?"
                ).format(target=api.target),
            )
        return data

    def logout(session: dict[str, Any]) -> None:
        api.call("logout", {}, session["sid"], final=True)

    group = str(s.get("block_group") or "")
    members: int | None = None
    with signed_in(ctx, login, logout) as held:
        sid = held.token["sid"]
        who = api.call("show-session", {}, sid)
        if group:
            try:
                found = api.call("show-group", {"name": group}, sid)
            except OperationFailed as exc:
                if exc.details.get("code") != NOT_FOUND:
                    raise
                missing = _(
                    "The login works, but the network group '{group}' that the response scripts fill "
                    "does not exist on the management server; create it (SmartConsole: Objects → New "
                    "Network Group) and publish, or correct the name in the settings."
                ).format(group=group)
                if s.get("domain"):
                    missing += " " + _(
                        "It was looked for in the domain '{domain}' only (the domain of the settings)."
                    ).format(domain=s["domain"])
                ctx.fail(Category.INVALID_CONFIG, missing)
            members = len(found.get("members") or [])
    version = str(held.token.get("api-server-version") or "")
    user = str(who.get("user-name") or s.get("username") or "")
    parts = [
        _("Connected: {target} (Management API {version}) accepted a read-only login as '{user}'.").format(
            target=api.target, version=version or "?", user=user
        )
    ]
    if s.get("domain"):
        parts.append(_("The session is in the domain '{domain}'.").format(domain=s["domain"]))
    if group:
        parts.append(
            ngettext(
                "The network group '{group}' exists ({n} member).",
                "The network group '{group}' exists ({n} members).",
                members or 0,
            ).format(group=group, n=members)
        )
    warnings = []
    if held.token.get("read-only") is not True:
        warnings.append(_("The management server did not confirm that the session was read-only."))
    if held.logout_error:
        warnings.append(held.left_open())
    else:
        parts.append(_("Logged out."))
    details: dict[str, Any] = {"api_version": version, "user": user}
    if s.get("domain"):
        details["domain"] = s["domain"]
    if group:
        details["group_members"] = members
    return [Outcome(Category.OK, " ".join(parts + warnings), details=details, warnings=warnings)]
