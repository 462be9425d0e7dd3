"""The KUMA connector's commands (seed 000): the defaults (Receive incidents, one Close
incident per reason) and the analyst's own API requests with placeholders such as
<Alert ID>. The model, its rules and the rendering of a request; they are sent by the
"command" operation (kuma.api). Commands hold no secrets: the token is added when sent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from xdrconf.core.i18n import _

from ...document import json_reason
from ...errors import KeyringUnavailable, ValidationError

if TYPE_CHECKING:
    from ...workspace import Workspace

KIND = "kuma"
CLOSE_REASONS = ("responded", "incorrect data", "incorrect correlation rule")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_COMMANDS = 100
MAX_BODY_CHARS = 64 * 1024

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
        texts = [self.path, *(v for _k, v in self.query), *(v for _k, v in self.headers), self.body]
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
                have = ", ".join(f"<{p}>" for p in self.placeholders) or _("none")
                raise ValidationError(
                    _("Parameter"),
                    _("'{key}' is not a placeholder of command '{name}' (its placeholders: {have})").format(
                        key=key, name=self.name, have=have
                    ),
                    field=key,
                )
            value = str(value)
            if _has_control(value):
                raise ValidationError(
                    _("Parameter"),
                    _("the value of <{value}> contains control characters (such as a line break)").format(
                        value=names[norm]
                    ),
                    field=key,
                )
            values[norm] = value
        missing = [f"<{p}>" for k, p in names.items() if k not in values]
        if missing:
            raise ValidationError(
                _("Parameter"),
                _("command '{name}' needs a value for {items}").format(
                    name=self.name, items=", ".join(missing)
                ),
            )

        def fill(text: str, encode: Callable[[str], str] = lambda v: v) -> str:
            return _PLACEHOLDER.sub(lambda m: encode(values[placeholder_key(m.group(1))]), text)

        for template in self.path.split("/"):
            used = [m.group(1) for m in _PLACEHOLDER.finditer(template)]
            if not used:
                continue
            for name in used:
                if _breaks_segment(values[placeholder_key(name)]):
                    raise ValidationError(
                        _("Parameter"),
                        _(
                            "the value of <{name}> would change the request's path (it is empty, '.' "
                            "or '..', or holds '/', '\\', '?' or '#', also percent-encoded); give the "
                            "value alone"
                        ).format(name=name),
                        field=name,
                    )
            if _breaks_segment(fill(template)):
                joined = ", ".join(f"<{n}>" for n in used)
                raise ValidationError(
                    _("Parameter"),
                    _(
                        "the values of {names} together would change the request's path (a '.' or '..' "
                        "segment); give other values"
                    ).format(names=joined),
                    field=used[0],
                )
        path = fill(self.path, lambda v: quote(v, safe=""))
        query = tuple((k, fill(v)) for k, v in self.query)
        headers = tuple((k, fill(v)) for k, v in self.headers)
        body: Any = None
        if self.body:
            body = _fill_json(json.loads(self.body), fill)
        return RenderedRequest(self.method, path, query, headers, body)


def _decoded(text: str) -> str:
    """Percent-decoded until nothing changes (a peer or a proxy may decode more than once)."""
    for _round in range(8):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def _breaks_segment(value: str) -> bool:
    """Whether a value filled into a path segment could make it more or other than one
    segment: empty, a dot segment, or a separator ('/', '\\', '?', '#'), as typed or
    percent-encoded (any number of times)."""
    plain = _decoded(value)
    return plain.strip() in ("", ".", "..") or any(c in plain for c in "/\\?#")


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
        raise ValidationError(label, _("the {what} must be a list of name/value pairs").format(what=what))
    out = []
    for item in raw:
        if isinstance(item, str) and "=" in item:
            item = item.split("=", 1)
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValidationError(label, _("each {what} entry must be a name and a value").format(what=what))
        out.append((str(item[0]).strip(), "" if item[1] is None else str(item[1])))
    return out


def parse_command(data: Any) -> Command:
    """A validated Command from its stored or typed form; raises ValidationError naming the
    command and the field."""
    if not isinstance(data, dict):
        raise ValidationError(_("Command"), _("must be an object with name, method and path"))
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        raise ValidationError(_("Command name"), _("enter a name, e.g. 'Receive incidents'"), field="name")
    if len(name) > 80:
        raise ValidationError(_("Command name"), _("is at most 80 characters long"), field="name")

    def bad(label: str, problem: str, fld: str) -> ValidationError:
        return ValidationError(
            _("{label} of command '{name}'").format(label=label, name=name), problem, field=fld
        )

    method = str(data.get("method") or "").strip().upper()
    if method not in METHODS:
        raise bad(
            _("Method"),
            _("'{value}' is not one of {items}").format(
                value=data.get("method") or "", items=", ".join(METHODS)
            ),
            "method",
        )

    path = str(data.get("path") or "").strip()
    if "://" in path or path.startswith("//"):
        raise bad(
            _("Path"),
            _("give the path below https://host:port/api/<version>/ (e.g. alerts/close), not a full address"),
            "path",
        )
    query = _pairs(data.get("query"), "query", _("Query of command '{name}'").format(name=name))
    if "#" in path:
        raise bad(_("Path"), _("must not contain '#'"), "path")
    if "?" in path:
        path, qs = path.split("?", 1)
        query = [
            (unquote(k), unquote(v)) for k, _sep, v in (p.partition("=") for p in qs.split("&") if p)
        ] + query
    path = path.lstrip("/")
    m = re.match(r"^api/(v[0-9][0-9.]*)(/|$)", path)
    if m:
        # The seed writes api/v1/…: the version comes from the integration's API version setting.
        path = path[m.end() :]
    if not path:
        raise bad(_("Path"), _("enter the API path, e.g. alerts/close"), "path")
    bare = _PLACEHOLDER.sub("x", path)
    if not _PATH_CHARS.match(bare) or "<" in bare or ">" in bare:
        raise bad(
            _("Path"),
            _("may contain letters, digits, / - . _ ~ and placeholders such as <Alert ID> only (no spaces)"),
            "path",
        )
    if any(seg in (".", "..") for seg in path.split("/")):
        raise bad(_("Path"), _("must not contain '.' or '..' segments"), "path")

    for k, v in query:
        if not k:
            raise bad(_("Query"), _("a query parameter has no name"), "query")
        if _has_control(k) or _has_control(v):
            raise bad(_("Query"), _("'{k}' contains control characters").format(k=k), "query")
        if _PLACEHOLDER.search(k):
            raise bad(_("Query"), _("placeholders go in values, not in the name '{k}'").format(k=k), "query")

    headers = _pairs(data.get("headers"), "header", _("Headers of command '{name}'").format(name=name))
    seen: set[str] = set()
    for k, v in headers:
        low = k.lower()
        if not _HEADER_NAME.match(k):
            raise bad(_("Header"), _("'{k}' is not a valid header name").format(k=k), "headers")
        if low in ("authorization", "proxy-authorization"):
            raise bad(
                _("Header"),
                _(
                    "'{k}' is added by xdrconf from the token kept in the OS keyring or the encrypted "
                    "vault; remove it from the command"
                ).format(k=k),
                "headers",
            )
        if low in _RESERVED_HEADERS:
            raise bad(
                "Header", _("'{k}' is set by the HTTP layer and cannot be given").format(k=k), "headers"
            )
        if _CREDENTIAL_HEADER.search(k):
            raise bad(
                _("Header"),
                _(
                    "'{k}' looks like it carries credentials, which must not be kept in the settings file"
                ).format(k=k),
                "headers",
            )
        if low in seen:
            raise bad(_("Header"), _("'{k}' is given twice").format(k=k), "headers")
        seen.add(low)
        if _has_control(v) or not v.isascii():
            raise bad(
                "Header", _("the value of '{k}' must be plain ASCII on one line").format(k=k), "headers"
            )
        if re.match(r"^\s*(bearer|basic|digest|negotiate)\s", v, re.IGNORECASE):
            raise bad(
                _("Header"),
                _(
                    "the value of '{k}' looks like credentials, which must not be kept in the settings file"
                ).format(k=k),
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
            raise bad(_("Body"), _("is longer than {value} KiB").format(value=MAX_BODY_CHARS // 1024), "body")
        if method == "GET":
            raise bad(
                "Body", _("a GET request carries no body; use POST, PUT or PATCH, or clear the body"), "body"
            )
        try:
            json.loads(body)
        except json.JSONDecodeError as exc:
            raise bad(
                _("Body"),
                _(
                    "is not valid JSON ({msg} at line {lineno}, column {colno}); "
                    'placeholders go inside strings: {{"id": "<Alert ID>"}}'
                ).format(msg=json_reason(exc), lineno=exc.lineno, colno=exc.colno),
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
        raise ValidationError(_("Commands"), _("must be a list of commands"))
    if len(raw) > MAX_COMMANDS:
        raise ValidationError(
            _("Commands"), _("at most {max_commands} commands can be kept").format(max_commands=MAX_COMMANDS)
        )
    out: list[Command] = []
    names: set[str] = set()
    for item in raw:
        cmd = parse_command(item.to_dict() if isinstance(item, Command) else item)
        if cmd.name.lower() in names:
            raise ValidationError(
                _("Command name"),
                _("'{name}' is used twice; names must differ").format(name=cmd.name),
                field="name",
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
    have = ", ".join(f"'{c.name}'" for c in commands) or _("none")
    raise ValidationError(
        _("Command"), _("there is no command '{name}' (commands: {have})").format(name=name, have=have)
    )


def refuse_token(commands: list[Command], token: str | None) -> None:
    """Refuse commands that contain the tenant's token anywhere (it would land in the
    settings file): xdrconf adds the token itself."""
    if not token:
        return
    for cmd in commands:
        texts = [cmd.name, cmd.path, cmd.body, *(x for pair in cmd.query + cmd.headers for x in pair)]
        if any(token in text for text in texts):
            raise ValidationError(
                _("Command '{name}'").format(name=cmd.name),
                _(
                    "contains the KUMA API token; remove it: xdrconf adds "
                    "the token from the OS keyring or the encrypted vault to every request"
                ),
            )


def save_commands(
    ws: Workspace, tenant_ref: str, commands: Sequence[Command | dict[str, Any]]
) -> list[Command]:
    """Validate and store the tenant's commands in one transaction (reads the keyring to make
    sure no command holds the token: call it off the GUI thread)."""
    from ...workspace import IntegrationEdit

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
