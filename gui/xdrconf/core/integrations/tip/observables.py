"""Kaspersky TIP observables: what a typed value is (domain, URL, IPv4/IPv6, MD5, SHA256),
normalised the way it is sent and cached, or why it is refused (with the reason a person
can act on: a private address, a SHA1 hash, a network range …)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from xdrconf.core.i18n import N_, _

from ...errors import ValidationError
from ...fields import parse_host

KIND_LABELS = {
    "domain": N_("domain"),
    "url": N_("URL"),
    "ipv4": N_("IPv4 address"),
    "ipv6": N_("IPv6 address"),
    "md5": N_("MD5 hash"),
    "sha256": N_("SHA256 hash"),
}
_API_PATH = {"domain": "domain", "url": "url", "ipv4": "ip", "ipv6": "ip", "md5": "hash", "sha256": "hash"}
SUPPORTED = N_("a domain, a URL, an IPv4 or IPv6 address, an MD5 or a SHA256 hash")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_OTHER_HASHES = {40: "SHA1", 56: "SHA224", 96: "SHA384", 128: "SHA512"}
LABEL = N_("Observable")


@dataclass(frozen=True)
class Observable:
    kind: str  # domain url ipv4 ipv6 md5 sha256
    value: str  # normalised: what is sent and what the cache is keyed by

    @property
    def api(self) -> str:
        """The portal's name for the type: hash, ip, domain or url."""
        return _API_PATH[self.kind]

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def _refuse(problem: str) -> ValidationError:
    return ValidationError(LABEL, problem, field="value")


def _refang(text: str) -> str:
    """Undo the usual defanging of indicators in reports: hxxp://, [.] and (.)."""
    value = re.sub(r"^hxxp(s?)://", r"http\1://", text, flags=re.IGNORECASE)
    value = re.sub(r"^fxp://", "ftp://", value, flags=re.IGNORECASE)
    for dot in ("[.]", "(.)", "{.}", "[dot]"):
        value = value.replace(dot, ".")
    return value.replace("[:]", ":").replace("[://]", "://")


def _ip_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    for attr, what in (
        ("is_loopback", _("a loopback address")),
        ("is_unspecified", _("the unspecified address")),
        ("is_link_local", _("a link-local address")),
        ("is_multicast", _("a multicast address")),
        ("is_private", _("a private address")),
        ("is_reserved", _("a reserved address")),
    ):
        if getattr(ip, attr):
            return what
    return _("not a public address")


def recognise(text: str) -> Observable:
    """The observable a person typed, or ValidationError saying why it is refused."""
    raw = str(text).strip()
    if not raw:
        raise _refuse(_("enter the value to look up: {supported}").format(supported=SUPPORTED))
    value = _refang(raw)
    if any(c.isspace() for c in value):
        raise _refuse(_("'{raw}' contains spaces; look up one value at a time").format(raw=raw))
    if _HEX.match(value) and not re.fullmatch(r"[0-9.]+", value):
        if len(value) == 32:
            return Observable("md5", value.lower())
        if len(value) == 64:
            return Observable("sha256", value.lower())
        other = _OTHER_HASHES.get(len(value))
        if other:
            raise _refuse(
                _(
                    "'{raw}' looks like a {other} hash; only MD5 (32 hex digits) and SHA256 "
                    "(64 hex digits) hashes can be looked up"
                ).format(raw=raw, other=other)
            )
        if len(value) > 24 or value.isdigit():
            raise _refuse(
                _("'{raw}' is {n} hexadecimal digits long: an MD5 hash has 32 and a SHA256 hash 64").format(
                    raw=raw, n=len(value)
                )
            )
    if "/" in value and "://" not in value and re.fullmatch(r"[0-9a-fA-F:.]+/\d{1,3}", value):
        raise _refuse(_("'{raw}' is a network range; look up one address at a time").format(raw=raw))
    candidate = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        ip = ipaddress.ip_address(candidate)
    except ValueError:
        ip = None
    if ip is not None:
        kind = "ipv4" if ip.version == 4 else "ipv6"
        if not ip.is_global or ip.is_multicast:
            raise _refuse(
                _(
                    "'{raw}' is {ip_reason}: the portal has no reputation for it, and a "
                    "lookup would only spend quota"
                ).format(raw=raw, ip_reason=_ip_reason(ip))
            )
        return Observable(kind, str(ip))
    if "://" in value:
        return _url(raw, value)
    if "@" in value:
        raise _refuse(
            _(
                "'{raw}' looks like an e-mail address, which is not among the types the "
                "portal looks up ({supported})"
            ).format(raw=raw, supported=SUPPORTED)
        )
    if "/" in value or "?" in value:
        host = re.split(r"[/?#]", value, maxsplit=1)[0]
        _host_of_url(raw, host)
        return Observable("url", value)
    if re.fullmatch(r"[0-9.]+", value):
        raise _refuse(_("'{raw}' is not a valid IPv4 address").format(raw=raw))
    if value.count(":") == 1 and value.rsplit(":", 1)[1].isdigit():
        raise _refuse(
            _(
                "'{raw}' has a port; enter the domain alone, or the whole URL with its scheme (https://…)"
            ).format(raw=raw)
        )
    if ":" in value:
        raise _refuse(_("'{raw}' is not a valid IPv6 address").format(raw=raw))
    return Observable("domain", _domain(raw, value))


def _domain(raw: str, value: str) -> str:
    host = value.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refuse(_("'{raw}' is not a valid internationalised domain name").format(raw=raw)) from None
    try:
        host = parse_host(host, LABEL)
    except ValidationError:
        raise _refuse(_("'{raw}' is not {supported}").format(raw=raw, supported=SUPPORTED)) from None
    labels = host.split(".")
    if len(labels) < 2:
        raise _refuse(
            _(
                "'{raw}' is a single name, not a fully qualified domain (e.g. "
                "example.invalid); the portal knows public domains only"
            ).format(raw=raw)
        )
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")):
        raise _refuse(_("'{raw}' does not end in a top-level domain such as .org").format(raw=raw))
    return host


def _host_of_url(raw: str, host: str) -> None:
    try:
        parts = urlsplit(f"//{host}")
        name = parts.hostname or ""
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:
        raise _refuse(_("'{raw}' has an invalid host or port").format(raw=raw)) from None
    if not name:
        raise _refuse(_("'{raw}' has no host name").format(raw=raw))
    try:
        ipaddress.ip_address(name)
        return
    except ValueError:
        pass
    _domain(raw, name)


def _url(raw: str, value: str) -> Observable:
    scheme, _sep, rest = value.partition("://")
    if scheme.lower() not in ("http", "https", "ftp"):
        raise _refuse(
            _("'{raw}' is a {scheme}: link; only http, https and ftp URLs can be looked up").format(
                raw=raw, scheme=scheme
            )
        )
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in host:
        raise _refuse(
            _("'{raw}' contains a user name or password; remove it before looking the URL up").format(raw=raw)
        )
    _host_of_url(raw, host)
    return Observable("url", f"{scheme.lower()}://{rest}")


def parse_observable(text: str, label: str = LABEL) -> Observable:
    """The Field parser of the lookup's value parameter."""
    return recognise(text)
