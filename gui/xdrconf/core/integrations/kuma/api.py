"""The KUMA REST API as the SOAR connector uses it (seed 000), as operations of the engine:
the connection check (users/whoami), receive incidents (alerts with their events, every
page, merged into the tenant's incident store), close an incident with a reason, and run
one of the analyst's own commands. Wire facts: shared/INTEGRATIONS.md.

Every request carries the tenant's token from the keyring (checked once by the engine as
safe for a header); the engine removes it from whatever KUMA sends back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from xdrconf.core.i18n import N_, _, ngettext

from ...engine import ParamOffer
from ...errors import ValidationError
from ...fields import host_for_url, host_port
from ...http import HttpSession, Meaning
from ...outcome import Category, Outcome
from .commands import CLOSE_REASONS, commands_of, find_command
from .incidents import IncidentStore, ReceiveResult

if TYPE_CHECKING:
    from ...engine import OpContext

ALERT_STATUSES = ("new", "assigned", "closed", "escalated")
PAGE_SIZE = 250  # KUMA's fixed page size for GET alerts [doc]
MAX_PAGES = 4000  # a million alerts: beyond that KUMA is not answering as documented
MAX_SHOWN_CHARS = 2_000_000  # of a command's response, for display

# KUMA's documented meanings of a refusal; {what} is what was asked.
REFUSED: dict[int, Meaning] = {
    403: (
        Category.AUTH_FAILED,
        N_(
            "KUMA refused to {what} (403 access denied){quote}: the token is unknown or expired, or its "
            "user is disabled or lacks the role for this in the KUMA tenant; check the user in KUMA or "
            "create a new token."
        ),
        "access_denied",
    ),
    400: (
        Category.INVALID_CONFIG,
        N_(
            "KUMA could not {what}: it called the request invalid (400){quote}; check the values sent "
            "and the token's format."
        ),
        "bad_request",
    ),
}


def base_url(settings: dict[str, Any]) -> str:
    return (
        f"https://{host_for_url(settings['host'])}:{settings['port']}/api/{settings.get('api_version', 'v1')}"
    )


def target(settings: dict[str, Any]) -> str:
    return host_port(settings["host"], settings["port"])


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _session(ctx: OpContext) -> tuple[HttpSession, dict[str, str]]:
    token = ctx.require_secret("token", header=True)
    session = ctx.http()
    session.said_prefix = _("KUMA said: ")
    return session, auth_headers(token)


# ---- the check ------------------------------------------------------------------------------------
def check(ctx: OpContext) -> list[Outcome]:
    session, headers = _session(ctx)
    r = session.get(
        f"{base_url(ctx.settings)}/users/whoami",
        headers=headers,
        meaning={
            403: (
                Category.AUTH_FAILED,
                _(
                    "KUMA refused the token (403 access denied): it is unknown, expired, or its user is "
                    "disabled; create a new token in KUMA and replace it here."
                ),
            ),
            400: (
                Category.AUTH_FAILED,
                _(
                    "KUMA could not read the Authorization header (400){quote}; paste the token again "
                    "exactly as KUMA showed it."
                ),
            ),
        },
    )
    try:
        data = r.json()
        login = str(data["login"])
        tenants = [str(t.get("name", t.get("id", "?"))) for t in data.get("tenants") or []]
    except (ValueError, KeyError, TypeError, AttributeError):
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _(
                "{target} answered 200 but not with KUMA's user description (JSON with a "
                "login); check that host and port point to the KUMA REST API."
            ).format(target=session.target),
        )
    reach = ", ".join(tenants) if tenants else _("no tenants")
    return [
        Outcome(
            Category.OK,
            ngettext(
                "Connected: the token belongs to '{login}' and reaches {n} KUMA tenant: {reach}.",
                "Connected: the token belongs to '{login}' and reaches {n} KUMA tenants: {reach}.",
                len(tenants),
            ).format(login=login, n=len(tenants), reach=reach),
            details={"login": login, "name": data.get("name", ""), "tenants": tenants},
        )
    ]


# ---- receive incidents --------------------------------------------------------------------------
def _alerts_url(settings: dict[str, Any], status: str, page: int) -> str:
    # The seed's form: api/<version>/alerts/?withEvents&status=new — withEvents is a bare flag.
    return f"{base_url(settings)}/alerts/?withEvents&status={quote(status)}&page={page}"


def every_page(
    ctx: OpContext,
    fetch: Callable[[int], list[dict[str, Any]]],
    *,
    max_pages: int,
    too_many: str,
    repeated: Callable[[int], str],
) -> tuple[list[dict[str, Any]], int]:
    """KUMA's paging (250 a page from page 1; a short or empty page is the last): the items
    of every page (those seen on an earlier page left out) and the number of pages read;
    progress is (page, items so far). A page of only earlier items, or more than max_pages
    full pages, ends the operation as a protocol error (too_many, repeated(page))."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    page = 0
    while True:
        page += 1
        if page > max_pages:
            ctx.fail(Category.PROTOCOL_ERROR, too_many)
        items = fetch(page)
        fresh = [a for a in items if a["id"] not in seen]
        if items and not fresh:
            ctx.fail(Category.PROTOCOL_ERROR, repeated(page))
        seen.update(a["id"] for a in fresh)
        out.extend(fresh)
        ctx.progress((page, len(out)))
        if len(items) < PAGE_SIZE:
            return out, page


def receive(ctx: OpContext) -> list[Outcome]:
    """GET every page of alerts with the status asked (250 a page; a short or empty page is
    the last), merged into the tenant's incident store; progress is (page, alerts so far)."""
    status = ctx.params["status"]
    session, headers = _session(ctx)

    def fetch(page: int) -> list[dict[str, Any]]:
        r = session.get(
            _alerts_url(ctx.settings, status, page),
            headers=headers,
            meaning=REFUSED,
            what=_("list the alerts"),
        )
        return _alert_list(ctx, session, r, page)

    alerts, page = every_page(
        ctx,
        fetch,
        max_pages=MAX_PAGES,
        too_many=_("KUMA kept returning full pages past page {max_pages}; narrow the request.").format(
            max_pages=MAX_PAGES
        ),
        repeated=lambda page: _(
            "KUMA answered page {page} with the alerts of an earlier page; it does "
            "not page as documented (check the API version)."
        ).format(page=page),
    )
    alerts = ctx.redactor(alerts)  # the store keeps them for the window: never a token echoed back
    summary = IncidentStore.shared(ctx.config_dir, ctx.tenant_id).merge(ReceiveResult(status, alerts, page))
    return [Outcome(Category.OK, summary.message(), data={"summary": summary.public(), "rows": alerts})]


def _alert_list(ctx: OpContext, session: HttpSession, response: Any, page: int) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if data is None and not response.content.strip():
        return []
    if not isinstance(data, list) or not all(isinstance(a, dict) and a.get("id") for a in data):
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _(
                "{target} answered page {page} with something other than KUMA's list of "
                "alerts; check that host, port and API version point to the KUMA REST "
                "API."
            ).format(target=session.target, page=page),
        )
    for a in data:
        a["id"] = str(a["id"])
    return data


# ---- close an incident -------------------------------------------------------------------------
def parse_alert_id(text: str, label: str = N_("Alert ID")) -> str:
    value = str(text).strip()
    if not value:
        raise ValidationError(label, _("enter the ID of the alert to close"), field="id")
    if len(value) > 256 or any(ord(ch) < 32 for ch in value):
        raise ValidationError(
            label, _("is not an alert ID (too long or with control characters)"), field="id"
        )
    return value


def parse_reason(text: str, label: str = "Reason") -> str:
    value = str(text).strip()
    if value not in CLOSE_REASONS:
        raise ValidationError(
            label,
            _("'{value}' is not a reason KUMA accepts; use one of: {reasons}").format(
                value=value, reasons=", ".join(CLOSE_REASONS)
            ),
            field="reason",
        )
    return value


def close(ctx: OpContext) -> list[Outcome]:
    """POST alerts/close {"id", "reason"}; the alert is marked closed in the incident store."""
    alert_id, reason = ctx.params["id"], ctx.params["reason"]
    session, headers = _session(ctx)
    session.post(
        f"{base_url(ctx.settings)}/alerts/close",
        headers=headers,
        json={"id": alert_id, "reason": reason},
        expect=(200, 204),
        what=_("close alert {alert_id}").format(alert_id=alert_id),
        meaning={
            **REFUSED,
            400: (
                Category.INVALID_CONFIG,
                _(
                    "KUMA did not close alert {alert_id}: it needs an alert ID and one of "
                    "the reasons {items} (400){{quote}}."
                ).format(alert_id=alert_id, items=", ".join(CLOSE_REASONS)),
                "bad_request",
            ),
            404: (
                Category.INVALID_CONFIG,
                _(
                    "KUMA has no alert {alert_id} (404 alert not found){{quote}}; check the "
                    "ID, or receive the incidents again: it may have been deleted."
                ).format(alert_id=alert_id),
                "alert_not_found",
            ),
            406: (
                Category.INVALID_CONFIG,
                _(
                    "KUMA did not close alert {alert_id} (406){{quote}}: the alert is "
                    "already closed, or its tenant is disabled in KUMA; receive the "
                    "incidents again to see its status."
                ).format(alert_id=alert_id),
                "not_acceptable",
            ),
        },
    )
    IncidentStore.shared(ctx.config_dir, ctx.tenant_id).mark_closed(alert_id, reason)
    return [
        Outcome(
            Category.OK,
            _("Alert {alert_id} was closed in KUMA with the reason '{reason}'.").format(
                alert_id=alert_id, reason=reason
            ),
            data={"id": alert_id, "reason": reason},
        )
    ]


# ---- the analyst's own commands -------------------------------------------------------------------
@dataclass
class CommandResponse:
    """KUMA's answer to a command, as shown (the body cut at MAX_SHOWN_CHARS)."""

    command: str
    method: str
    url: str
    status: int
    reason: str
    content_type: str
    text: str
    data: Any
    elapsed_ms: float
    truncated: bool = False
    message: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def public(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "command": self.command,
            "method": self.method,
            "url": self.url,
            "http_status": self.status,
            "message": self.message,
            "content_type": self.content_type,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "body": self.data if self.data is not None else self.text,
            "truncated": self.truncated,
        }

    def payload(self) -> dict[str, Any]:
        """The outcome's data: the public form, with what a display needs besides."""
        return {**self.public(), "reason": self.reason, "json": self.data is not None}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> CommandResponse:
        is_json = bool(data.get("json"))
        body = data.get("body")
        return cls(
            str(data["command"]),
            str(data["method"]),
            str(data["url"]),
            int(data["http_status"]),
            str(data.get("reason", "")),
            str(data.get("content_type", "")),
            "" if is_json else str(body or ""),
            body if is_json else None,
            float(data.get("elapsed_ms") or 0.0),
            bool(data.get("truncated")),
            str(data.get("message", "")),
        )

    def pretty_body(self) -> str:
        if self.data is not None:
            return json.dumps(self.data, indent=2, ensure_ascii=False)
        return self.text


def command_offer(settings: dict[str, Any], params: dict[str, str]) -> ParamOffer:
    """The window's form for "command": the tenant's commands to pick from, and a field for
    each placeholder of the one picked."""
    try:
        commands = commands_of(settings)
    except ValidationError:
        commands = []
    try:
        chosen: tuple[str, ...] = find_command(commands, params.get("name") or "").placeholders
    except ValidationError:
        chosen = ()
    return ParamOffer(choices={"name": tuple((c.name, c.name) for c in commands)}, extra=chosen)


def run_command(ctx: OpContext) -> list[Outcome]:
    """Send one of the tenant's commands with its placeholders filled; any HTTP answer is
    the outcome's data (not ok for non-2xx, with KUMA's meaning of the status)."""
    values = {k: v for k, v in ctx.params.items() if k != "name"}
    command = find_command(commands_of(ctx.settings), ctx.params["name"])
    rendered = command.render(values)  # unknown or missing placeholders: before the keyring is read
    session, headers = _session(ctx)
    url = rendered.url(base_url(ctx.settings))
    r = session.request(
        rendered.method,
        url,
        headers={**dict(rendered.headers), **headers},
        json=rendered.json_body,
        expect=tuple(range(100, 600)),
    )
    text = r.text
    truncated = len(text) > MAX_SHOWN_CHARS
    data = None
    if "json" in r.headers.get("content-type", "").lower() and not truncated:
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            data = None
    response = CommandResponse(
        command.name,
        rendered.method,
        url,
        r.status_code,
        r.reason_phrase,
        r.headers.get("content-type", ""),
        text[:MAX_SHOWN_CHARS],
        data,
        session.latency_ms or 0.0,
        truncated,
    )
    if response.ok:
        response.message = _("KUMA answered {status_code} {reason_phrase}.").format(
            status_code=r.status_code, reason_phrase=r.reason_phrase
        )
        category = Category.OK
    else:
        failed = session.refusal(r, REFUSED, _("run '{name}'").format(name=command.name))
        response.message, category = str(failed), failed.category
    return [
        Outcome(
            category,
            response.message,
            details={"http_status": r.status_code, "code": "ok" if response.ok else f"http_{r.status_code}"},
            data=response.payload(),
        )
    ]
