"""Typed settings fields. One description of a field drives validation in the core, the
wizard's form widgets and the command line's `integration set FIELD=VALUE`.

Every parser takes the text a person typed and returns the canonical value stored in the
settings document, or raises ValidationError naming the field and what is wrong."""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import ValidationError
from .i18n import N_, _

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _parse_address(value: str, text: str, label: str) -> str:
    """A host name, an IPv4 or an IPv6 address (no brackets, no port) in canonical form."""
    if ":" in value:
        try:
            return str(ipaddress.IPv6Address(value))
        except ValueError:
            raise ValidationError(
                label,
                _(
                    "'{text}' is not a valid IPv6 address (write a port after an IPv6 address "
                    "as [::1]:7223, or in the port field)"
                ).format(text=text),
            ) from None
    if re.fullmatch(r"[0-9.]+", value):
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            raise ValidationError(
                label, _("'{text}' is not a valid IPv4 address").format(text=text)
            ) from None
    host = value.rstrip(".")
    if len(host) > 253:
        raise ValidationError(label, _("a host name is at most 253 characters long"))
    labels = host.split(".")
    for part in labels:
        if not _HOST_LABEL.match(part):
            raise ValidationError(
                label,
                _(
                    "'{text}' is not a valid host name (letters, digits and hyphens, labels "
                    "separated by dots)"
                ).format(text=text),
            )
    if labels[-1].isdigit():
        raise ValidationError(label, _("'{text}' is not a valid host name or IPv4 address").format(text=text))
    return host.lower()


def _port_in(port_text: str, text: str, label: str) -> int:
    if not port_text:
        raise ValidationError(
            label, _("'{text}' ends with a colon: remove it, or add the port number").format(text=text)
        )
    if not is_ascii_number(port_text):
        raise ValidationError(
            label,
            _("'{port}' after the colon in '{text}' is not a port number").format(port=port_text, text=text),
        )
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValidationError(
            label,
            _("the port {port} in '{text}' is out of range; enter 1 to 65535").format(port=port, text=text),
        )
    return port


def split_host_port(text: str, label: str = N_("Host")) -> tuple[str, int | None, bool]:
    """What a person typed or pasted into a host field: a host name or an address, perhaps
    with a port or as a URL. Returns (canonical host, port or None, whether it was a URL).

    Accepted: ``kuma.example.invalid``, ``kuma.example.invalid:7223``, ``127.0.0.5:7223``,
    ``::1``, ``[::1]``, ``[::1]:7223``, ``https://kuma.example.invalid:7223/``
    (a URL's path is ignored). An IPv6 address without brackets is an address, never an
    address and a port."""
    value = text.strip()
    if not value:
        raise ValidationError(label, _("enter a host name or an IP address"))
    if "://" in value:
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            raise ValidationError(label, _("the port in '{text}' is not valid").format(text=value)) from None
        if not parts.hostname:
            raise ValidationError(label, _("'{text}' has no host name").format(text=value))
        if parts.username or parts.password:
            raise ValidationError(
                label, _("'{text}' contains a user name or password; enter the host only").format(text=value)
            )
        return _parse_address(parts.hostname, value, label), port, True
    bracketed = re.fullmatch(r"\[([^\]]*)\](?::(.*))?", value)
    if bracketed:
        inner, port_text = bracketed.group(1), bracketed.group(2)
        try:
            host = str(ipaddress.IPv6Address(inner))
        except ValueError:
            raise ValidationError(
                label, _("'{text}' is not a valid IPv6 address").format(text=value)
            ) from None
        return host, None if port_text is None else _port_in(port_text, value, label), False
    if value.count(":") == 1:
        host_text, port_text = value.split(":")
        return _parse_address(host_text, value, label), _port_in(port_text, value, label), False
    return _parse_address(value, value, label), None, False


def parse_host(text: str, label: str = N_("Host")) -> str:
    """A DNS host name, an IPv4 or an IPv6 address (brackets allowed around IPv6). Text
    with a port or a URL is refused with what to enter instead (see split_host_port)."""
    host, port, url = split_host_port(text, label)
    value = text.strip()
    if port is not None:
        raise ValidationError(
            label,
            _(
                "'{text}' includes the port {port}: enter only {host} here and {port} in the port field"
            ).format(text=value, port=port, host=host),
        )
    if url:
        raise ValidationError(
            label, _("'{text}' is a URL: enter only the host name {host}").format(text=value, host=host)
        )
    return host


def host_for_url(host: str) -> str:
    """Host as written inside a URL: IPv6 addresses in brackets."""
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            return f"[{host}]"
    except ValueError:
        pass
    return host


def host_port(host: str, port: int) -> str:
    return f"{host_for_url(host)}:{port}"


def is_ascii_number(text: str) -> bool:
    """Digits 0-9 only: str.isdigit() and int() also take '²', '①' or '٣٣' (Arabic-Indic 33)."""
    return bool(text) and text.isascii() and text.isdigit()


def header_problem(value: str) -> str | None:
    """Why a secret cannot travel in an HTTP header (a control character, NUL included, or
    a character other than plain ASCII), naming the position and never the value; None when
    it can."""
    for i, ch in enumerate(value, 1):
        if not ch.isascii() or not ch.isprintable():
            what = (
                _("a control character")
                if unicodedata.category(ch) == "Cc"
                else _("a character other than plain ASCII")
            )
            return _(
                "contains {what} (U+{code:04X}, character {position}), which cannot be sent in an HTTP "
                "header; enter the value exactly as it was shown"
            ).format(what=what, code=ord(ch), position=i)
    return None


def parse_port(text: str, label: str = N_("Port")) -> int:
    value = str(text).strip()
    if not value:
        raise ValidationError(label, _("enter a port number from 1 to 65535"))
    if not is_ascii_number(value):
        raise ValidationError(label, _("'{value}' is not a number; enter 1 to 65535").format(value=value))
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValidationError(label, _("{port} is out of range; enter 1 to 65535").format(port=port))
    return port


def parse_ports(text: str, label: str = N_("Ports")) -> list[int]:
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise ValidationError(label, _("enter at least one port, e.g. 22 or 22,2222"))
    ports: list[int] = []
    for part in parts:
        port = parse_port(part, label)
        if port in ports:
            raise ValidationError(label, _("port {port} is listed twice").format(port=port))
        ports.append(port)
    return ports


def parse_host_list(text: str, label: str = "Servers") -> list[dict[str, Any]]:
    """One or more `host[:port]`, separated by commas, semicolons or white space, in order
    (e.g. the domain controllers of one domain): ``dc1.acme.invalid, dc2.acme.invalid:3269,
    [::1]:636``. Stored as ``[{"host": ...}, {"host": ..., "port": ...}]``: a port only
    where one was given (the integration's default applies to the others). A URL is
    refused (its scheme would say more than host and port), so is a server listed twice."""
    parts = [p for p in re.split(r"[\s,;]+", str(text).strip()) if p]
    if not parts:
        raise ValidationError(label, _("enter at least one server as host or host:port"))
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int | None]] = set()
    for part in parts:
        host, port, url = split_host_port(part, label)
        if url:
            shown = host_port(host, port) if port else host_for_url(host)
            raise ValidationError(
                label,
                _("'{text}' is a URL: enter only host or host:port ({shown})").format(text=part, shown=shown),
            )
        if (host, port) in seen:
            raise ValidationError(
                label, _("{server} is listed twice").format(server=format_host_entry(host, port))
            )
        seen.add((host, port))
        out.append({"host": host} if port is None else {"host": host, "port": port})
    return out


def format_host_entry(host: str, port: int | None) -> str:
    return host_port(host, port) if port else host_for_url(host)


def host_entries(value: Any) -> list[tuple[str, int | None]]:
    """The (host, port or None) pairs of a stored host list (see parse_host_list)."""
    out: list[tuple[str, int | None]] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and item.get("host"):
            port = item.get("port")
            out.append((str(item["host"]), int(port) if port else None))
    return out


def normalise_fingerprint(text: str, label: str = N_("Pinned SHA-256 fingerprint")) -> str:
    value = re.sub(r"[\s:]", "", text.strip()).lower()
    if value.startswith("sha256"):
        value = value[6:].lstrip("=")
    if not _HEX64.match(value):
        raise ValidationError(
            label,
            _("expected 64 hexadecimal digits (colons allowed), e.g. as shown by 'Fetch certificate'"),
        )
    return value


def format_fingerprint(hex_digest: str) -> str:
    return ":".join(hex_digest[i : i + 2] for i in range(0, len(hex_digest), 2)).upper()


def parse_ca_pem(text: str, label: str = N_("CA certificate")) -> str:
    """One or more PEM certificates; private keys are refused so they never land in a file."""
    from cryptography import x509

    value = text.strip()
    if not value:
        return ""
    if "PRIVATE KEY" in value:
        raise ValidationError(
            label, _("this is a private key, not a certificate; paste the CA certificate (PEM)")
        )
    if "-----BEGIN CERTIFICATE-----" not in value:
        raise ValidationError(
            label, _("expected a PEM certificate starting with -----BEGIN CERTIFICATE-----")
        )
    try:
        certs = x509.load_pem_x509_certificates(value.encode())
    except ValueError as exc:
        raise ValidationError(
            label, _("the PEM text could not be read as certificates ({exc})").format(exc=exc)
        ) from None
    if not certs:
        raise ValidationError(label, _("no certificate found in the PEM text"))
    return value + "\n"


def parse_url(text: str, label: str = N_("URL"), *, schemes: tuple[str, ...] = ("https",)) -> str:
    value = text.strip()
    if not value:
        raise ValidationError(label, _("enter a URL"))
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed '[' of an IPv6 address
        raise ValidationError(label, _("'{text}' is not a valid URL").format(text=value)) from None
    if parts.scheme.lower() not in schemes:
        want = " or ".join(f"{s}://" for s in schemes)
        raise ValidationError(label, _("must start with {want}").format(want=want))
    if not parts.hostname:
        raise ValidationError(label, _("the URL has no host name"))
    parse_host(parts.hostname, label)
    try:
        _port = parts.port  # urllib checks the port only when it is read
    except ValueError:
        raise ValidationError(label, _("the port in the URL is not valid")) from None
    if parts.username or parts.password:
        raise ValidationError(label, _("must not contain a user name or password"))
    return value.rstrip("/")


def url_host_port(url: str) -> tuple[str, int] | None:
    """Host and port of an http(s) URL (default ports filled in), or None without a host."""
    try:
        parts = urlsplit(url)
        if not parts.hostname:
            return None
        port = parts.port
    except ValueError:
        return None
    return parts.hostname, port or (80 if parts.scheme == "http" else 443)


def parse_bool(text: Any, label: str) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValidationError(label, _("'{text}' is not true or false").format(text=text))


def parse_date(text: str, label: str) -> str:
    value = text.strip()
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationError(
            label, _("'{value}' is not a date in the form YYYY-MM-DD").format(value=value)
        ) from None


FieldParser = Callable[[str, str], Any]


@dataclass(frozen=True)
class ChoicesFrom:
    """Where the value of a field can be picked from: the rows one of the integration's
    operations returns (e.g. the projects an API key can see). The window puts "Choose…"
    beside the field (qt.editors.ChooseFromOperation) and runs that operation in a worker:
    in the wizard with what was typed so far (the operation declares the fields it needs
    with `needs_fields`, so it runs before this field is set), beside an operation's
    parameter on the saved settings; the command line's help names the operation.

    value: the key of a row whose value goes into the field; shown: keys of a row shown
    beside the value in the list."""

    operation: str
    value: str
    shown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    """A setting of an integration.

    kind: text, host, hosts (a list of host[:port], see parse_host_list), port, ports,
    choice, bool, secret, secret_text (multi-line secret), pem, fingerprint, url, int, date,
    or custom (parser given)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    default: Any = None
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    parser: FieldParser | None = None
    placeholder: str = ""
    minimum: int | None = None
    maximum: int | None = None
    visible_when: tuple[str, Any] | None = None  # (other field, value)
    multiline: bool = False
    choices_from: ChoicesFrom | None = None  # pick the value from an operation's rows
    # A secret sent in an HTTP header (a token, an API key): control characters and
    # non-ASCII are refused when it is entered (they cannot be sent, and an HTTP library's
    # error would quote the header).
    header: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def secret(self) -> bool:
        return self.kind in ("secret", "secret_text")

    def visible(self, values: dict[str, Any]) -> bool:
        if self.visible_when is None:
            return True
        other, wanted = self.visible_when
        return values.get(other) == wanted

    def parse(self, raw: Any) -> Any:
        """Text (or a bool for toggles) to the stored value. Empty optional text → None."""
        label = self.label
        if self.kind == "bool":
            return parse_bool(raw, label)
        text = "" if raw is None else str(raw)
        if self.secret and not self.header and "\x00" in text:
            raise ValidationError(
                label, _("contains the NUL character, which no secret can hold"), field=self.name
            )
        if self.parser is not None:
            return self.parser(text, label)
        if not text.strip():
            if self.required:
                raise ValidationError(label, _("is required"), field=self.name)
            return None if self.kind not in ("pem",) else ""
        match self.kind:
            case "text":
                value = text.strip()
                if "\n" in value and not self.multiline:
                    raise ValidationError(label, _("must be a single line"), field=self.name)
                return value
            case "host":
                return parse_host(text, label)
            case "hosts":
                return parse_host_list(text, label)
            case "port":
                return parse_port(text, label)
            case "ports":
                return parse_ports(text, label)
            case "int":
                value = text.strip()
                if not re.fullmatch(r"-?[0-9]+", value):
                    raise ValidationError(
                        label, _("'{value}' is not a whole number").format(value=value), field=self.name
                    )
                number = int(value)
                if self.minimum is not None and number < self.minimum:
                    raise ValidationError(
                        label, _("must be at least {minimum}").format(minimum=self.minimum), field=self.name
                    )
                if self.maximum is not None and number > self.maximum:
                    raise ValidationError(
                        label, _("must be at most {maximum}").format(maximum=self.maximum), field=self.name
                    )
                return number
            case "choice":
                value = text.strip()
                allowed = [c[0] for c in self.choices]
                if value not in allowed:
                    raise ValidationError(
                        label,
                        _("'{value}' is not one of: {items}").format(value=value, items=", ".join(allowed)),
                        field=self.name,
                    )
                return value
            case "pem":
                return parse_ca_pem(text, label)
            case "fingerprint":
                return normalise_fingerprint(text, label)
            case "url":
                return parse_url(text, label)
            case "date":
                return parse_date(text, label)
            case "secret":
                value = text.strip()
                if "\n" in value:
                    raise ValidationError(label, _("must be a single line"), field=self.name)
                problem = header_problem(value) if self.header else None
                if problem is not None:
                    raise ValidationError(label, problem, field=self.name)
                return value
            case "secret_text":
                return text.strip() + "\n"
        raise ValueError(f"unknown field kind {self.kind}")

    def format(self, value: Any) -> str:
        """Stored value to the text shown in a form or by `integration show`."""
        if value is None:
            return ""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "ports":
            return ",".join(str(p) for p in value)
        if self.kind == "hosts":
            return ", ".join(format_host_entry(h, p) for h, p in host_entries(value))
        if self.kind == "fingerprint":
            return format_fingerprint(value)
        if "format" in self.extra:
            return self.extra["format"](value)
        return str(value)
