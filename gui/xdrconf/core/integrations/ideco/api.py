"""Ideco's web API (HTTPS, port 8443, JSON, session cookies): the login, one read-only call
and the log-out, shared by both kinds (Ideco UTM up to version 15, Ideco NGFW from 16).

Wire facts (shared/INTEGRATIONS.md "Ideco NGFW / Ideco UTM"): [doc] POST <login path> with
{"login", "password", "rest_path"} (UTM also "recaptcha": ""), 200 with two cookies that go
back on every call, DELETE <login path> logs out, GET /firewall/status → [{name, status,
msg}], 401 for a failed login, 542 for a body the box refuses, the login path
/web/admin/auth/login in the 2024 documentation; [inferred] that the other path answers 404
(so the paths are tried in LOGIN_PATHS order on 404), the bodies of the failures, and that
too many sessions of one account give 400 naming sessions (TOO_MANY_SESSIONS_*)."""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

from ...fields import host_port
from ...i18n import _
from ...outcome import Category, Outcome
from ..common import signed_in

if TYPE_CHECKING:
    import httpx

    from ...engine import OpContext
    from ...http import HttpSession

# [doc] the current path first, then the one the documentation named for a while in 2024.
LOGIN_PATHS = ("/web/auth/login", "/web/admin/auth/login")
STATUS_PATH = "/firewall/status"
SESSION_COOKIE = "insecure-ideco-session"  # [doc]
SECURE_COOKIE_PREFIX = "__Secure-ideco-"  # [doc]
VALIDATION_STATUS = 542  # [doc] the body was refused
# [inferred] Ideco documents no limit of sessions: a 400 whose message names sessions.
TOO_MANY_SESSIONS_STATUS = 400
TOO_MANY_SESSIONS_WORD = "session"


@dataclass(frozen=True)
class Variant:
    """What differs between the two kinds."""

    kind: str
    title: str
    login_extra: tuple[tuple[str, str], ...]  # fields the login body adds
    other_title: str  # the kind to choose when the box wants the other login form


def base_url(settings: dict[str, Any]) -> str:
    return f"https://{host_port(str(settings['host']), int(settings['port']))}"


def _cookies(response: httpx.Response) -> dict[str, str]:
    """name -> value of the cookies a response sets (an expired one is dropped)."""
    out: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        for name, morsel in jar.items():
            if morsel["max-age"] != "0":
                out[name] = morsel.value
    return out


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def _login(
    ctx: OpContext, http: HttpSession, variant: Variant, user: str, password: str
) -> tuple[str, dict[str, str]]:
    """Log in at the first login path that exists: (the path, the session cookies)."""
    body: dict[str, str] = {
        "login": user,
        "password": password,
        "rest_path": "/",
        **dict(variant.login_extra),
    }
    refused = (
        Category.AUTH_FAILED,
        _(
            "{title} refused the login of '{user}' (HTTP 401){quote}: the user name or the password "
            "is wrong (an Active Directory or RADIUS administrator logs in as name@domain or "
            "name@radius). Correct them and check again."
        ).format(title=variant.title, user=user, quote="{quote}"),
    )
    form = (
        Category.INVALID_CONFIG,
        _(
            "The box refused the login form of {title} (HTTP {status}){quote}: it may be another "
            "version of the product; choose the integration {other} instead and check again."
        ).format(title=variant.title, other=variant.other_title, status="{status}", quote="{quote}"),
    )
    http.said_prefix = _("Ideco said: ")
    for path in LOGIN_PATHS:
        r = http.post(
            base_url(ctx.settings) + path,
            json=body,
            headers={"Accept": "application/json"},
            expect=(200, 404, TOO_MANY_SESSIONS_STATUS),
            meaning={401: refused, VALIDATION_STATUS: form},
        )
        if r.status_code == 404:
            ctx.progress()
            continue
        if r.status_code == TOO_MANY_SESSIONS_STATUS:
            said = http.said(r)
            if TOO_MANY_SESSIONS_WORD in said.lower():
                ctx.fail(
                    Category.FORBIDDEN,
                    _(
                        "{title} refused a new session for '{user}': the account has too many sessions "
                        'open ("{said}"). Log out of the other sessions (the web interface, scripts) or '
                        "wait until they expire, then check again."
                    ).format(title=variant.title, user=user, said=said),
                    code="too_many_sessions",
                )
            raise http.refusal(r)
        cookies = _cookies(r)
        if SESSION_COOKIE not in cookies or not any(k.startswith(SECURE_COOKIE_PREFIX) for k in cookies):
            ctx.fail(
                Category.PROTOCOL_ERROR,
                _(
                    "{target} accepted the login at {path} but set no Ideco session cookies; check that "
                    "the host and port are the Ideco web interface (8443)."
                ).format(target=http.target, path=path),
            )
        for value in cookies.values():
            ctx.redactor.add(value)  # the cookies are as good as the password until logged out
        return path, cookies
    ctx.fail(
        Category.PROTOCOL_ERROR,
        _(
            "{target} has neither {first} nor {second} (HTTP 404 for both); check that the host and "
            "port are the Ideco web interface (8443)."
        ).format(target=http.target, first=LOGIN_PATHS[0], second=LOGIN_PATHS[1]),
    )


def _status_summary(data: Any) -> str | None:
    """'rules-in-kernel: active, auto-snat: active' from GET /firewall/status, or None."""
    if not isinstance(data, list):
        return None
    parts = []
    for item in data:
        if not isinstance(item, dict) or "name" not in item:
            return None
        parts.append(f"{item.get('name')}: {item.get('status', '?')}")
    return ", ".join(parts)


def check(ctx: OpContext, variant: Variant) -> list[Outcome]:
    user = str(ctx.settings["username"])
    password = ctx.require_secret("password")
    # lasting: a login's answer is read and its session logged out even after a cancel.
    http = ctx.http(lasting=True)
    url = base_url(ctx.settings)

    def login() -> tuple[str, dict[str, str]]:
        return _login(ctx, http, variant, user, password)

    def logout(session: tuple[str, dict[str, str]]) -> None:
        path, cookies = session
        headers = {"Cookie": _cookie_header(cookies), "Accept": "application/json"}
        http.delete(url + path, headers=headers, expect=(200, 204), final=True)

    with signed_in(ctx, login, logout) as held:
        path, cookies = held.token
        headers = {"Cookie": _cookie_header(cookies), "Accept": "application/json"}
        r = http.get(
            url + STATUS_PATH,
            headers=headers,
            meaning={
                401: (
                    Category.PROTOCOL_ERROR,
                    _(
                        "{title} did not accept the session it had just opened (HTTP 401 for {path}); "
                        "check that nothing between here and the box drops cookies."
                    ).format(title=variant.title, path=STATUS_PATH),
                ),
                403: (
                    Category.FORBIDDEN,
                    _(
                        "{title} let '{user}' in but refused the firewall status (HTTP 403){quote}: give "
                        "the administrator a role that may read and change the firewall."
                    ).format(title=variant.title, user=user, quote="{quote}"),
                ),
            },
        )
        try:
            summary = _status_summary(r.json())
        except ValueError:
            summary = None
        if summary is None:
            ctx.fail(
                Category.PROTOCOL_ERROR,
                _("{target} answered {path} with something other than the firewall's status.").format(
                    target=http.target, path=STATUS_PATH
                ),
            )
    left_open = held.left_open()
    warnings = [left_open] if left_open else []
    if path == LOGIN_PATHS[0]:
        where = _("logged in at {path}").format(path=path)
    else:
        where = _("logged in at {path} ({first} answered 404: the path of the 2024 versions)").format(
            path=path, first=LOGIN_PATHS[0]
        )
    message = _("Connected: {title} accepted '{user}' ({where}); firewall status: {summary}.").format(
        title=variant.title, user=user, where=where, summary=summary or _("empty")
    )
    return [Outcome(Category.OK, message, details={"login_path": path}, warnings=warnings)]
