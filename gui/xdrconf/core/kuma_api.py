"""The KUMA connector's commands over KUMA's REST API (seed 000): receive incidents (alerts
with their events, every page), close an incident with a reason, and run the analyst's own
commands. Plain Python over the one network layer: the command line calls it directly, the
window from workers. Wire facts: shared/INTEGRATIONS.md.

Every request carries the tenant's token from the keyring; the token never appears in a
message, a result or the incident cache (it is scrubbed from whatever the server sends back).
Failures end in a KumaError carrying one Category: KumaNotReady when the tenant's settings
do not allow a request (nothing was sent), KumaRequestFailed when the request failed or
KUMA refused it."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, unquote

from .errors import KeyringUnavailable, ValidationError, XdrconfError
from .integrations.kuma import auth_headers, base_url, target
from .net import NetConfig, Trust, classify_exception, classify_status, error_message_of, make_client
from .outcome import Category

if TYPE_CHECKING:
    from .workspace import Workspace

log = logging.getLogger(__name__)

KIND = "kuma"
CLOSE_REASONS = ("responded", "incorrect data", "incorrect correlation rule")
ALERT_STATUSES = ("new", "assigned", "closed", "escalated")
PAGE_SIZE = 250  # KUMA's fixed page size for GET alerts [doc]
MAX_PAGES = 4000  # a million alerts: beyond that KUMA is not answering as documented
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_COMMANDS = 100
MAX_BODY_CHARS = 64 * 1024
MAX_SHOWN_CHARS = 2_000_000  # of a command's response, for display
_SCRUBBED = "[token removed]"

T = TypeVar("T")


# ---- errors -------------------------------------------------------------------------------------
class KumaError(XdrconfError):
    """A KUMA operation that did not succeed; `category` is one public outcome category."""

    def __init__(
        self, category: Category, message: str, *, status: int | None = None, code: str = ""
    ) -> None:
        self.category = category
        self.status = status
        self.code = code or category.value
        super().__init__(message)

    def public(self) -> dict[str, Any]:
        return {
            "ok": False,
            "category": self.category.value,
            "code": self.code,
            "http_status": self.status,
            "message": str(self),
        }


class KumaNotReady(KumaError):
    """The tenant's KUMA settings do not allow the request (nothing was sent)."""


class KumaRequestFailed(KumaError):
    """The request was sent (or tried) and failed, or KUMA refused it."""


# ---- connection ---------------------------------------------------------------------------------
@dataclass
class KumaConnection:
    """Everything one request needs: where, how to trust it, and the token (never printed)."""

    tenant_id: str
    tenant_path: str
    settings: dict[str, Any]
    net: NetConfig
    token: str = field(repr=False)

    @property
    def target(self) -> str:
        return target(self.settings)

    @property
    def base(self) -> str:
        return base_url(self.settings)

    @classmethod
    def open(cls, ws: Workspace, tenant_ref: str, *, timeout: float | None = None) -> KumaConnection:
        """The tenant's KUMA connection. Reads the keyring: call it off the GUI thread."""
        tenant = ws.tenant(tenant_ref)
        path = ws.tree.path(tenant.id)
        state = tenant.integrations.get(KIND)
        if state is None or not state.configured or not state.settings.get("host"):
            raise KumaNotReady(
                Category.INVALID_CONFIG,
                f"The KUMA REST API is not set up for tenant '{path}'; set its host and token "
                "first (xdrconf integration set TENANT kuma host=… --secret token).",
            )
        try:
            token = ws.secret(tenant, KIND, "token")
        except KeyringUnavailable as exc:
            raise KumaNotReady(Category.KEYRING_UNAVAILABLE, str(exc)) from None
        if not token:
            raise KumaNotReady(
                Category.MISSING_SECRET,
                f"The API token of the KUMA REST API of tenant '{path}' is not stored; add it "
                "(xdrconf integration set TENANT kuma --secret token) and try again.",
            )
        if not token.isascii() or any(ch in token for ch in "\r\n"):
            raise KumaNotReady(
                Category.INVALID_CONFIG,
                "API token: contains characters that cannot be sent in an HTTP header; paste "
                "the token exactly as KUMA showed it.",
            )
        return cls(tenant.id, path, dict(state.settings), NetConfig.from_app(ws.app, timeout), token)

    def scrub(self, text: str) -> str:
        return text.replace(self.token, _SCRUBBED) if self.token and text else text


class _Session:
    """One httpx client used by one operation; records when each request started so the
    waiter can enforce a deadline per request, and stops between requests on cancel."""

    def __init__(self, conn: KumaConnection, cancel: threading.Event) -> None:
        self.conn = conn
        self.cancel = cancel
        self.started = time.monotonic()
        self.client: Any = None

    def request(self, method: str, url: str, **kw: Any) -> Any:
        if self.cancel.is_set():
            raise _Cancelled
        self.started = time.monotonic()
        headers = auth_headers(self.conn.token)
        headers.update(kw.pop("headers", None) or {})
        headers["Authorization"] = auth_headers(self.conn.token)["Authorization"]
        return self.client.request(method, url, headers=headers, **kw)


class _Cancelled(Exception):
    pass


def _cancelled() -> KumaRequestFailed:
    return KumaRequestFailed(Category.CANCELLED, "Cancelled; what KUMA answered so far was not used.")


def _run(conn: KumaConnection, operation: Callable[[_Session], T], cancel: threading.Event | None) -> T:
    """Run `operation` on its own daemon thread with one client and wait for it, for a
    cancel, or for a request that outlasts its deadline; an abandoned request's late answer
    is dropped (the connection is closed by the thread when it ends)."""
    cancel = cancel or threading.Event()
    session = _Session(conn, cancel)
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            with make_client(conn.settings["host"], Trust.from_settings(conn.settings), conn.net) as client:
                session.client = client
                box["value"] = operation(session)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, name="xdrconf-kuma", daemon=True)
    thread.start()
    per_request = conn.net.timeout * 3 + 1.0  # connect, send and read each have the timeout
    while not done.wait(0.05):
        if cancel.is_set():
            raise _cancelled()
        if time.monotonic() - session.started > per_request:
            raise KumaRequestFailed(
                Category.TIMEOUT,
                f"{conn.target} did not finish answering within {per_request:g} s; the server "
                "is too slow or the connection stalls; try again or raise the timeout.",
            )
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, _Cancelled) or cancel.is_set():
            raise _cancelled()
        if isinstance(exc, KumaError):
            raise exc
        if isinstance(exc, XdrconfError):
            raise KumaNotReady(Category.INVALID_CONFIG, conn.scrub(str(exc))) from None
        category, message = classify_exception(exc, conn.target, conn.net.timeout)
        raise KumaRequestFailed(category, conn.scrub(message)) from None
    if cancel.is_set():
        raise _cancelled()
    return box["value"]


def _said(conn: KumaConnection, response: Any) -> str:
    return conn.scrub(error_message_of(response))


def _refused(conn: KumaConnection, response: Any, doing: str) -> KumaRequestFailed:
    """The error for an answer that is not success, with KUMA's documented meanings."""
    status = response.status_code
    said = _said(conn, response)
    quoted = f' (KUMA said: "{said}")' if said else ""
    if status == 403:
        return KumaRequestFailed(
            Category.AUTH_FAILED,
            f"KUMA refused to {doing} (403 access denied){quoted}: the token is unknown or "
            "expired, or its user is disabled or lacks the role for this in the KUMA tenant; "
            "check the user in KUMA or create a new token.",
            status=403,
            code="access_denied",
        )
    if status == 400:
        return KumaRequestFailed(
            Category.INVALID_CONFIG,
            f"KUMA could not {doing}: it called the request invalid (400){quoted}; check the "
            "values sent and the token's format.",
            status=400,
            code="bad_request",
        )
    category, message = classify_status(status, conn.target, said)
    return KumaRequestFailed(category, message, status=status, code=f"http_{status}")


# ---- receive incidents -------------------------------------------------------------------------
@dataclass
class ReceiveResult:
    status: str
    alerts: list[dict[str, Any]]
    pages: int


def _alerts_url(conn: KumaConnection, status: str, page: int, with_events: bool) -> str:
    # The seed's form: api/<version>/alerts/?withEvents&status=new — withEvents is a bare flag.
    flags = "withEvents&" if with_events else ""
    return f"{conn.base}/alerts/?{flags}status={quote(status)}&page={page}"


def receive_alerts(
    conn: KumaConnection,
    status: str = "new",
    *,
    with_events: bool = True,
    cancel: threading.Event | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> ReceiveResult:
    """GET every page of alerts with `status` (250 a page; a short or empty page is the last).
    on_page(page number, alerts so far) is called from the worker thread."""
    if status not in ALERT_STATUSES:
        raise ValidationError("Status", f"'{status}' is not one of {', '.join(ALERT_STATUSES)}")

    def operation(session: _Session) -> ReceiveResult:
        alerts: list[dict[str, Any]] = []
        seen: set[str] = set()
        page = 0
        while True:
            page += 1
            if page > MAX_PAGES:
                raise KumaRequestFailed(
                    Category.PROTOCOL_ERROR,
                    f"KUMA kept returning full pages past page {MAX_PAGES}; narrow the request.",
                )
            response = session.request("GET", _alerts_url(conn, status, page, with_events))
            if response.status_code != 200:
                raise _refused(conn, response, "list the alerts")
            items = _alert_list(conn, response, page)
            fresh = [a for a in items if a["id"] not in seen]
            if items and not fresh:
                raise KumaRequestFailed(
                    Category.PROTOCOL_ERROR,
                    f"KUMA answered page {page} with the alerts of an earlier page; it does not "
                    "page as documented (check the API version).",
                )
            for a in fresh:
                seen.add(a["id"])
            alerts.extend(fresh)
            if on_page is not None:
                on_page(page, len(alerts))
            if len(items) < PAGE_SIZE:
                return ReceiveResult(status, alerts, page)

    return _run(conn, operation, cancel)


def _alert_list(conn: KumaConnection, response: Any, page: int) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if data is None and not response.content.strip():
        return []
    if not isinstance(data, list) or not all(isinstance(a, dict) and a.get("id") for a in data):
        raise KumaRequestFailed(
            Category.PROTOCOL_ERROR,
            f"{conn.target} answered page {page} with something other than KUMA's list of "
            "alerts; check that host, port and API version point to the KUMA REST API.",
        )
    for a in data:
        a["id"] = str(a["id"])
    return data


# ---- close an incident -------------------------------------------------------------------------
def check_alert_id(alert_id: str) -> str:
    value = str(alert_id).strip()
    if not value:
        raise ValidationError("Alert ID", "enter the ID of the alert to close")
    if len(value) > 256 or any(ord(ch) < 32 for ch in value):
        raise ValidationError("Alert ID", "is not an alert ID (too long or with control characters)")
    return value


def check_reason(reason: str) -> str:
    value = str(reason).strip()
    if value not in CLOSE_REASONS:
        raise ValidationError(
            "Reason", f"'{value}' is not a reason KUMA accepts; use one of: " + ", ".join(CLOSE_REASONS)
        )
    return value


def close_alert(
    conn: KumaConnection, alert_id: str, reason: str, *, cancel: threading.Event | None = None
) -> str:
    """POST alerts/close {"id", "reason"}; returns the message to show on success (204)."""
    alert_id = check_alert_id(alert_id)
    reason = check_reason(reason)

    def operation(session: _Session) -> str:
        response = session.request(
            "POST", f"{conn.base}/alerts/close", json={"id": alert_id, "reason": reason}
        )
        status = response.status_code
        said = _said(conn, response)
        quoted = f' (KUMA said: "{said}")' if said else ""
        if status in (200, 204):
            return f"Alert {alert_id} was closed in KUMA with the reason '{reason}'."
        if status == 400:
            raise KumaRequestFailed(
                Category.INVALID_CONFIG,
                f"KUMA did not close alert {alert_id}: it needs an alert ID and one of the reasons "
                f"{', '.join(CLOSE_REASONS)} (400){quoted}.",
                status=400,
                code="bad_request",
            )
        if status == 404:
            raise KumaRequestFailed(
                Category.INVALID_CONFIG,
                f"KUMA has no alert {alert_id} (404 alert not found){quoted}; check the ID, or "
                "receive the incidents again: it may have been deleted.",
                status=404,
                code="alert_not_found",
            )
        if status == 406:
            raise KumaRequestFailed(
                Category.INVALID_CONFIG,
                f"KUMA did not close alert {alert_id} (406){quoted}: the alert is already closed, "
                "or its tenant is disabled in KUMA; receive the incidents again to see its status.",
                status=406,
                code="not_acceptable",
            )
        raise _refused(conn, response, f"close alert {alert_id}")

    return _run(conn, operation, cancel)


# ---- custom commands -----------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"<([A-Za-z][A-Za-z0-9 _.\-]{0,63})>")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_PATH_CHARS = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$")
_RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade"}
_CREDENTIAL_HEADER = re.compile(
    r"authori[sz]ation|token|secret|passw|api[-_]?key|cookie|credential", re.IGNORECASE
)


def placeholder_key(name: str) -> str:
    """How parameters match placeholders: case, spaces, '_' and '-' do not matter."""
    return " ".join(re.split(r"[\s_\-]+", name.strip().lower())).strip()


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


@dataclass(frozen=True)
class Command:
    """One connector command. `path` is below https://host:port/api/<version>/ (the API
    version comes from the integration's setting); `body` is JSON text whose strings may
    hold placeholders such as <Alert ID>. Holds no secrets: the token is added when sent."""

    name: str
    method: str = "GET"
    path: str = ""
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "query": [list(p) for p in self.query],
            "headers": [list(p) for p in self.headers],
            "body": self.body,
        }

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Placeholder names in order of first use (path, query, headers, body)."""
        texts = [self.path, *(v for _, v in self.query), *(v for _, v in self.headers), self.body]
        out: dict[str, str] = {}
        for text in texts:
            for m in _PLACEHOLDER.finditer(text):
                out.setdefault(placeholder_key(m.group(1)), m.group(1))
        return tuple(out.values())

    def display_path(self) -> str:
        if not self.query:
            return self.path
        return self.path + "?" + _query_string(self.query, readable=True)

    def render(self, params: dict[str, str]) -> RenderedRequest:
        """Substitute the placeholders; refuses parameters the command has no placeholder
        for and placeholders left without a value."""
        names = {placeholder_key(p): p for p in self.placeholders}
        values: dict[str, str] = {}
        for key, value in params.items():
            norm = placeholder_key(key)
            if norm not in names:
                have = ", ".join(f"<{p}>" for p in self.placeholders) or "none"
                raise ValidationError(
                    "Parameter",
                    f"'{key}' is not a placeholder of command '{self.name}' (its placeholders: {have})",
                    field=key,
                )
            value = str(value)
            if _has_control(value):
                raise ValidationError(
                    "Parameter",
                    f"the value of <{names[norm]}> contains control characters (such as a line break)",
                    field=key,
                )
            values[norm] = value
        missing = [f"<{p}>" for k, p in names.items() if k not in values]
        if missing:
            raise ValidationError(
                "Parameter", f"command '{self.name}' needs a value for {', '.join(missing)}"
            )

        def fill(text: str, encode: Callable[[str], str] = lambda v: v) -> str:
            return _PLACEHOLDER.sub(lambda m: encode(values[placeholder_key(m.group(1))]), text)

        path = fill(self.path, lambda v: quote(v, safe=""))
        query = tuple((k, fill(v)) for k, v in self.query)
        headers = tuple((k, fill(v)) for k, v in self.headers)
        body: Any = None
        if self.body:
            body = _fill_json(json.loads(self.body), fill)
        return RenderedRequest(self.method, path, query, headers, body)


@dataclass(frozen=True)
class RenderedRequest:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    json_body: Any

    def url(self, base: str) -> str:
        qs = _query_string(self.query)
        return f"{base}/{self.path}" + (f"?{qs}" if qs else "")


def _fill_json(value: Any, fill: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fill(value)
    if isinstance(value, list):
        return [_fill_json(v, fill) for v in value]
    if isinstance(value, dict):
        return {fill(k): _fill_json(v, fill) for k, v in value.items()}
    return value


def _query_string(pairs: Iterable[tuple[str, str]], *, readable: bool = False) -> str:
    # A pair with an empty value is a bare flag (KUMA's withEvents). `readable` keeps
    # placeholders such as <Alert ID> as typed, for display only.
    safe = "<> " if readable else ""
    return "&".join(quote(k, safe=safe) + (f"={quote(v, safe=safe)}" if v != "" else "") for k, v in pairs)


def _pairs(raw: Any, what: str, label: str) -> list[tuple[str, str]]:
    if raw in (None, ""):
        return []
    if isinstance(raw, dict):
        raw = list(raw.items())
    if not isinstance(raw, (list, tuple)):
        raise ValidationError(label, f"the {what} must be a list of name/value pairs")
    out = []
    for item in raw:
        if isinstance(item, str) and "=" in item:
            item = item.split("=", 1)
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValidationError(label, f"each {what} entry must be a name and a value")
        out.append((str(item[0]).strip(), "" if item[1] is None else str(item[1])))
    return out


def parse_command(data: Any) -> Command:
    """A validated Command from its stored or typed form; raises ValidationError naming the
    command and the field."""
    if not isinstance(data, dict):
        raise ValidationError("Command", "must be an object with name, method and path")
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        raise ValidationError("Command name", "enter a name, e.g. 'Receive incidents'", field="name")
    if len(name) > 80:
        raise ValidationError("Command name", "is at most 80 characters long", field="name")

    def bad(label: str, problem: str, fld: str) -> ValidationError:
        return ValidationError(f"{label} of command '{name}'", problem, field=fld)

    method = str(data.get("method") or "").strip().upper()
    if method not in METHODS:
        raise bad("Method", f"'{data.get('method') or ''}' is not one of {', '.join(METHODS)}", "method")

    path = str(data.get("path") or "").strip()
    if "://" in path or path.startswith("//"):
        raise bad(
            "Path",
            "give the path below https://host:port/api/<version>/ (e.g. alerts/close), not a full address",
            "path",
        )
    query = _pairs(data.get("query"), "query", f"Query of command '{name}'")
    if "#" in path:
        raise bad("Path", "must not contain '#'", "path")
    if "?" in path:
        path, qs = path.split("?", 1)
        query = [
            (unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in qs.split("&") if p)
        ] + query
    path = path.lstrip("/")
    m = re.match(r"^api/(v[0-9][0-9.]*)(/|$)", path)
    if m:
        # The seed writes api/v1/…: the version comes from the integration's API version setting.
        path = path[m.end() :]
    if not path:
        raise bad("Path", "enter the API path, e.g. alerts/close", "path")
    bare = _PLACEHOLDER.sub("x", path)
    if not _PATH_CHARS.match(bare) or "<" in bare or ">" in bare:
        raise bad(
            "Path",
            "may contain letters, digits, / - . _ ~ and placeholders such as <Alert ID> only (no spaces)",
            "path",
        )
    if any(seg in (".", "..") for seg in path.split("/")):
        raise bad("Path", "must not contain '.' or '..' segments", "path")

    for k, v in query:
        if not k:
            raise bad("Query", "a query parameter has no name", "query")
        if _has_control(k) or _has_control(v):
            raise bad("Query", f"'{k}' contains control characters", "query")
        if _PLACEHOLDER.search(k):
            raise bad("Query", f"placeholders go in values, not in the name '{k}'", "query")

    headers = _pairs(data.get("headers"), "header", f"Headers of command '{name}'")
    seen: set[str] = set()
    for k, v in headers:
        low = k.lower()
        if not _HEADER_NAME.match(k):
            raise bad("Header", f"'{k}' is not a valid header name", "headers")
        if low in ("authorization", "proxy-authorization"):
            raise bad(
                "Header",
                f"'{k}' is added by xdrconf from the token in the OS keyring; remove it from the command",
                "headers",
            )
        if low in _RESERVED_HEADERS:
            raise bad("Header", f"'{k}' is set by the HTTP layer and cannot be given", "headers")
        if _CREDENTIAL_HEADER.search(k):
            raise bad(
                "Header",
                f"'{k}' looks like it carries credentials, which must not be kept in the settings file",
                "headers",
            )
        if low in seen:
            raise bad("Header", f"'{k}' is given twice", "headers")
        seen.add(low)
        if _has_control(v) or not v.isascii():
            raise bad("Header", f"the value of '{k}' must be plain ASCII on one line", "headers")
        if re.match(r"^\s*(bearer|basic|digest|negotiate)\s", v, re.IGNORECASE):
            raise bad(
                "Header",
                f"the value of '{k}' looks like credentials, which must not be kept in the settings file",
                "headers",
            )

    body = data.get("body")
    if body in (None, ""):
        body = ""
    elif not isinstance(body, str):
        body = json.dumps(body, ensure_ascii=False)
    body = body.strip()
    if body:
        if len(body) > MAX_BODY_CHARS:
            raise bad("Body", f"is longer than {MAX_BODY_CHARS // 1024} KiB", "body")
        if method == "GET":
            raise bad(
                "Body", "a GET request carries no body; use POST, PUT or PATCH, or clear the body", "body"
            )
        try:
            json.loads(body)
        except json.JSONDecodeError as exc:
            raise bad(
                "Body",
                f"is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                f"{exc.colno}); placeholders go inside strings: "
                '{"id": "<Alert ID>"}',
                "body",
            ) from None
    return Command(name, method, path, tuple(query), tuple(headers), body)


def default_commands() -> list[Command]:
    """The commands the seed describes: receive incidents, and one close command per reason."""
    out = [Command("Receive incidents", "GET", "alerts/", (("withEvents", ""), ("status", "new")))]
    for reason in CLOSE_REASONS:
        out.append(
            Command(
                f"Close incident ({reason})",
                "POST",
                "alerts/close",
                body=json.dumps({"id": "<Alert ID>", "reason": reason}),
            )
        )
    return out


def parse_commands(raw: Any) -> list[Command]:
    """A whole list: each command valid, names unique (ignoring case), at most MAX_COMMANDS."""
    if not isinstance(raw, list):
        raise ValidationError("Commands", "must be a list of commands")
    if len(raw) > MAX_COMMANDS:
        raise ValidationError("Commands", f"at most {MAX_COMMANDS} commands can be kept")
    out: list[Command] = []
    names: set[str] = set()
    for item in raw:
        cmd = parse_command(item.to_dict() if isinstance(item, Command) else item)
        if cmd.name.lower() in names:
            raise ValidationError(
                "Command name", f"'{cmd.name}' is used twice; names must differ", field="name"
            )
        names.add(cmd.name.lower())
        out.append(cmd)
    return out


def commands_of(settings: dict[str, Any]) -> list[Command]:
    """The tenant's commands: what was saved, or the seed's defaults when nothing was."""
    if "commands" not in settings:
        return default_commands()
    return parse_commands(settings["commands"])


def find_command(commands: list[Command], name: str) -> Command:
    for cmd in commands:
        if cmd.name.lower() == " ".join(name.split()).lower():
            return cmd
    have = ", ".join(f"'{c.name}'" for c in commands) or "none"
    raise ValidationError("Command", f"there is no command '{name}' (commands: {have})")


def refuse_token(commands: list[Command], token: str | None) -> None:
    """Refuse commands that contain the tenant's token anywhere (it would land in the
    settings file): xdrconf adds the token itself."""
    if not token:
        return
    for cmd in commands:
        texts = [cmd.name, cmd.path, cmd.body, *(x for pair in cmd.query + cmd.headers for x in pair)]
        if any(token in text for text in texts):
            raise ValidationError(
                f"Command '{cmd.name}'",
                "contains the KUMA API token; remove it: xdrconf adds "
                "the token from the OS keyring to every request",
            )


def save_commands(
    ws: Workspace, tenant_ref: str, commands: Sequence[Command | dict[str, Any]]
) -> list[Command]:
    """Validate and store the tenant's commands in one transaction (reads the keyring to make
    sure no command holds the token: call it off the GUI thread)."""
    from .workspace import IntegrationEdit

    parsed = parse_commands(list(commands))
    tenant = ws.tenant(tenant_ref)
    try:
        token = ws.secret(tenant, KIND, "token")
    except KeyringUnavailable:
        token = None
    refuse_token(parsed, token)
    ws.update_integration(
        tenant.id, IntegrationEdit(KIND, structured={"commands": [c.to_dict() for c in parsed]})
    )
    return parsed


@dataclass
class CommandResponse:
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

    def pretty_body(self) -> str:
        if self.data is not None:
            return json.dumps(self.data, indent=2, ensure_ascii=False)
        return self.text


def run_command(
    conn: KumaConnection,
    command: Command,
    params: dict[str, str] | None = None,
    *,
    cancel: threading.Event | None = None,
) -> CommandResponse:
    """Send one command; any HTTP answer is returned (ok is False for non-2xx, with a
    message); a request that could not be made raises KumaRequestFailed."""
    rendered = command.render(dict(params or {}))
    url = rendered.url(conn.base)

    def operation(session: _Session) -> CommandResponse:
        kw: dict[str, Any] = {"headers": dict(rendered.headers)}
        if rendered.json_body is not None:
            kw["json"] = rendered.json_body
        started = time.monotonic()
        response = session.request(rendered.method, url, **kw)
        elapsed = (time.monotonic() - started) * 1000
        text = conn.scrub(response.text)
        truncated = len(text) > MAX_SHOWN_CHARS
        data = None
        if "json" in response.headers.get("content-type", "").lower() and not truncated:
            try:
                data = json.loads(text) if text.strip() else None
            except ValueError:
                data = None
        result = CommandResponse(
            command.name,
            rendered.method,
            url,
            response.status_code,
            response.reason_phrase,
            response.headers.get("content-type", ""),
            text[:MAX_SHOWN_CHARS],
            data,
            elapsed,
            truncated,
        )
        if result.ok:
            result.message = f"KUMA answered {response.status_code} {response.reason_phrase}."
        else:
            result.message = str(_refused(conn, response, f"run '{command.name}'"))
        return result

    return _run(conn, operation, cancel)


# ---- the incident store ------------------------------------------------------------------------
@dataclass
class MergeSummary:
    received: int
    new: int
    changed: int
    unchanged: int
    gone: int
    pages: int
    status: str

    def message(self) -> str:
        gone = f", {self.gone} no longer {self.status}" if self.gone else ""
        return (
            f"Received {self.received} alert(s) with status {self.status} in {self.pages} "
            f"page(s): {self.new} new, {self.changed} changed{gone}."
        )

    def public(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "no_longer_matching": self.gone,
            "pages": self.pages,
            "status": self.status,
        }


def fingerprint(alert: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(alert, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


class IncidentStore:
    """The alerts received for one tenant, merged by id: receiving again updates instead of
    duplicating. Kept in memory per session; with a cache file (under the settings folder,
    alert ids and fingerprints only, no secrets, no event data) the counts of new and
    changed alerts also hold across sessions, e.g. between two command-line runs."""

    CACHE_SCHEMA = "xdrconf-kuma-incidents"

    def __init__(self, cache_path: Path | None = None) -> None:
        self.cache_path = cache_path
        self.alerts: dict[str, dict[str, Any]] = {}
        self._known: dict[str, dict[str, str]] = {}  # id -> {"fp", "status"}
        self._lock = threading.Lock()
        self._load()

    @classmethod
    def for_tenant(cls, ws: Workspace, tenant_id: str) -> IncidentStore:
        return cls(Path(ws.config_dir) / "cache" / "kuma" / f"{tenant_id}.json")

    def _load(self) -> None:
        if self.cache_path is None or not self.cache_path.exists():
            return
        try:
            doc = json.loads(self.cache_path.read_text(encoding="utf-8"))
            if doc.get("schema") != self.CACHE_SCHEMA:
                raise ValueError("unknown schema")
            self._known = {
                str(k): {"fp": str(v["fp"]), "status": str(v.get("status", ""))}
                for k, v in dict(doc["alerts"]).items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("the KUMA incident cache %s is unreadable; starting afresh", self.cache_path)
            self._known = {}

    def _save(self) -> None:
        if self.cache_path is None:
            return
        from .storage import write_private

        doc = {
            "schema": self.CACHE_SCHEMA,
            "version": 1,
            "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "alerts": self._known,
        }
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.cache_path, json.dumps(doc).encode())
        except OSError as exc:
            log.warning("could not write the KUMA incident cache: %s", exc.strerror)

    def merge(self, result: ReceiveResult) -> MergeSummary:
        """Take a complete receive: add new alerts, update changed ones, and drop those that
        had the received status and are no longer in KUMA's answer (closed elsewhere)."""
        with self._lock:
            new = changed = unchanged = 0
            ids = set()
            for alert in result.alerts:
                aid = alert["id"]
                ids.add(aid)
                fp = fingerprint(alert)
                known = self._known.get(aid)
                if known is None:
                    new += 1
                elif known["fp"] != fp:
                    changed += 1
                else:
                    unchanged += 1
                self._known[aid] = {"fp": fp, "status": str(alert.get("status", result.status))}
                self.alerts[aid] = alert
            gone = [aid for aid, k in self._known.items() if aid not in ids and k["status"] == result.status]
            for aid in gone:
                self._known.pop(aid, None)
                self.alerts.pop(aid, None)
            self._save()
            return MergeSummary(
                len(result.alerts), new, changed, unchanged, len(gone), result.pages, result.status
            )

    def mark_closed(self, alert_id: str, reason: str) -> None:
        with self._lock:
            alert = self.alerts.get(alert_id)
            if alert is not None:
                alert["status"] = "closed"
                alert["closingReason"] = reason
            if alert_id in self._known:
                self._known[alert_id]["status"] = "closed"
            self._save()

    def get(self, alert_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.alerts.get(alert_id)

    def visible(self, status: str | None = None) -> list[dict[str, Any]]:
        """Alerts with this status (all with None), most recently seen first. Safe to call
        while a worker merges."""
        with self._lock:
            items = [a for a in self.alerts.values() if status is None or str(a.get("status", "")) == status]
        return sorted(items, key=lambda a: _sort_time(a.get("lastSeen")), reverse=True)


# ---- presentation helpers (shared by the command line and the window) ------------------------------
_SEVERITIES = ((4, "Low"), (8, "Medium"), (12, "High"), (16, "Critical"))


def severity_of(alert: dict[str, Any]) -> str:
    """KUMA gives priority as low|medium|high|critical or as a number from 1 to 16 [doc]."""
    value = alert.get("priority", alert.get("severity"))
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        n = int(value)
        for top, label in _SEVERITIES:
            if n <= top:
                return label
        return "Critical"
    return str(value or "").strip().capitalize()


def _parse_time(value: Any) -> _dt.datetime | None:
    if value in (None, "", 0):
        return None
    try:
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
            n = float(value)
            return _dt.datetime.fromtimestamp(n / 1000 if n > 1e11 else n, _dt.UTC)
        text = str(value).strip().replace("Z", "+00:00")
        t = _dt.datetime.fromisoformat(text)
        return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _sort_time(value: Any) -> float:
    t = _parse_time(value)
    return t.timestamp() if t else 0.0


def display_time(value: Any) -> str:
    t = _parse_time(value)
    if t is None:
        return str(value or "")
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def events_of(alert: dict[str, Any]) -> list[dict[str, Any]]:
    """The normalized events of an alert (KUMA wraps each as {"event": {...}, ...})."""
    out: list[dict[str, Any]] = []
    for item in alert.get("events") or []:
        if isinstance(item, dict):
            ev = item.get("event")
            out.append(ev if isinstance(ev, dict) else item)
    return out


def alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": alert.get("id", ""),
        "name": str(alert.get("name") or alert.get("correlationRuleName") or ""),
        "severity": severity_of(alert),
        "status": str(alert.get("status", "")),
        "first_seen": display_time(alert.get("firstSeen")),
        "last_seen": display_time(alert.get("lastSeen")),
        "events": len(alert.get("events") or []),
    }


EVENT_COLUMNS = (
    ("Timestamp", "Time"),
    ("Name", "Name"),
    ("SourceAddress", "Source"),
    ("DestinationAddress", "Destination"),
    ("DeviceProduct", "Product"),
    ("ID", "Event ID"),
)


def event_row(event: dict[str, Any]) -> dict[str, str]:
    row = {}
    for key, label in EVENT_COLUMNS:
        value = event.get(key, "")
        row[label] = display_time(value) if key == "Timestamp" else str(value if value is not None else "")
    return row
