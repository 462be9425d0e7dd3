"""What an Active Directory connection is told in words: distinguished names (RFC 4514),
the account it binds as, the servers' default ports, and LDAP filter values (RFC 4515).
Plain text only: nothing here talks to a server."""

from __future__ import annotations

import re

from ...errors import ValidationError
from ...i18n import _

# Default ports by the setting `security` [doc: KUMA's LDAP server form, 264935].
DEFAULT_PORT = {"ldaps": 636, "starttls": 389, "none": 389}
GC_PORTS = {3268: "none", 3269: "ldaps"}  # Global Catalog: plain/StartTLS, LDAPS
PLAIN_PORTS = (389, 3268)
TLS_PORTS = (636, 3269)

_ATTR_TYPE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$")
_SPECIAL = ' "#+,;<=>\\'
_HEX = "0123456789abcdefABCDEF"
# sAMAccountName may not contain these [doc: MS-ADTS, sAMAccountName].
_SAM_FORBIDDEN = set('"/\\[]:;|=,+*?<>@')
_NETBIOS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,14}$")


def split_dn(text: str, label: str) -> list[list[tuple[str, str]]]:
    """The RDNs of a DN, each a list of (attribute type, value as written). Spaces around
    the separators are dropped (AD accepts 'DC=acme, DC=invalid'); escapes are kept."""
    value = text.strip()
    if not value:
        raise ValidationError(label, _("enter a DN such as DC=acme,DC=invalid"))
    rdns: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    part = ""
    i = 0

    def finish_pair(raw: str, end: str) -> None:
        name, sep, val = raw.partition("=")
        name, val = name.strip(), val.strip()
        shown = raw.strip()
        if not sep:
            if not shown:
                raise ValidationError(
                    label, _("'{text}' has an empty part (two separators in a row)").format(text=value)
                )
            raise ValidationError(
                label,
                _("'{part}' has no '=': each part of a DN is TYPE=value, e.g. OU=Staff or DC=acme").format(
                    part=shown
                ),
            )
        if not _ATTR_TYPE.match(name):
            raise ValidationError(
                label, _("'{name}' in '{part}' is not an attribute type").format(name=name, part=shown)
            )
        if not val:
            raise ValidationError(label, _("'{part}' has no value after '='").format(part=shown))
        current.append((name, val))
        if end != "+":
            rdns.append(list(current))
            current.clear()

    while i < len(value):
        ch = value[i]
        if ch == "\\":
            nxt = value[i + 1 : i + 2]
            if not nxt:
                raise ValidationError(label, _("'{text}' ends with a lone backslash").format(text=value))
            if nxt in _SPECIAL:
                part += value[i : i + 2]
                i += 2
                continue
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in _HEX for c in pair):
                part += value[i : i + 3]
                i += 3
                continue
            raise ValidationError(
                label,
                _("'\\{char}' in '{text}' is not an escape (write \\, as \\\\, or a byte as \\2C)").format(
                    char=nxt, text=value
                ),
            )
        if ch == '"':
            raise ValidationError(
                label, _("'{text}' has a quote mark: inside a value write it as \\\"").format(text=value)
            )
        if ch in ",;+":
            finish_pair(part, ch)
            part = ""
            i += 1
            continue
        if ch == "=" and "=" in part:
            # Active Directory wants = escaped in a value; unescaped it is mostly a comma missing.
            shown = (part + value[i:]).split(",")[0].strip()
            raise ValidationError(
                label,
                _("'{part}' has a second '=': a comma missing? (Inside a value write = as \\=.)").format(
                    part=shown
                ),
            )
        part += ch
        i += 1
    finish_pair(part, ",")
    return rdns


def parse_dn(text: str, label: str) -> str:
    """A DN in the form stored and sent: its parts as written, without spaces around the
    separators."""
    rdns = split_dn(text, label)
    return ",".join("+".join(f"{name}={val}" for name, val in rdn) for rdn in rdns)


def is_dn(text: str) -> bool:
    try:
        split_dn(text, "")
    except ValidationError:
        return False
    return True


def parse_username(text: str, label: str) -> str:
    """The account a simple bind names: a UPN (user@domain), DOMAIN\\user or a DN. A bare
    sAMAccountName is refused: AD answers a simple bind with one with 'invalid credentials'."""
    value = text.strip()
    if not value:
        raise ValidationError(label, _("is required"))
    if "=" in value:
        return parse_dn(value, label)
    if "\\" in value:
        domain, _sep, user = value.partition("\\")
        if not _NETBIOS.match(domain):
            raise ValidationError(
                label,
                _(
                    "'{domain}' before the backslash is not a NetBIOS domain name (up to 15 letters, "
                    "digits, dots or hyphens, e.g. ACME\\svc-xdr)"
                ).format(domain=domain),
            )
        if not user or set(user) & _SAM_FORBIDDEN or user != user.strip():
            raise ValidationError(
                label, _("'{user}' after the backslash is not an account name").format(user=user)
            )
        return f"{domain}\\{user}"
    if "@" in value:
        user, _sep, domain = value.rpartition("@")
        if not user or not domain or " " in value or "@" in user:
            raise ValidationError(
                label,
                _("'{text}' is not a user principal name such as svc-xdr@acme.invalid").format(text=value),
            )
        return value
    raise ValidationError(
        label,
        _(
            "'{name}' is a bare account name, which Active Directory answers with "
            "'invalid credentials' (52e) on a simple bind: write it as {name}@your.domain (UPN), "
            "DOMAIN\\{name} or as the account's DN"
        ).format(name=value),
    )


def username_form(username: str) -> str:
    """upn, nt (DOMAIN\\user) or dn."""
    if "=" in username:
        return "dn"
    return "nt" if "\\" in username else "upn"


def escape_filter(value: str) -> str:
    """A value inside an LDAP filter (RFC 4515)."""
    out = []
    for ch in value:
        if ch in "*()\\\0":
            out.append(f"\\{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def rdn_value(dn: str) -> str:
    """The value of the first RDN, unescaped for reading ('CN=Quarantine,OU=…' → 'Quarantine')."""
    try:
        rdns = split_dn(dn, "")
    except ValidationError:
        return dn
    raw = rdns[0][0][1]
    return re.sub(
        r"\\([0-9a-fA-F]{2}|.)",
        lambda m: chr(int(m.group(1), 16)) if len(m.group(1)) == 2 else m.group(1),
        raw,
    )


def same_dn(a: str, b: str) -> bool:
    """Case- and spacing-insensitive comparison of two DNs (enough for AD's DNs)."""
    try:
        return parse_dn(a, "").lower() == parse_dn(b, "").lower()
    except ValidationError:
        return a.strip().lower() == b.strip().lower()


def under(dn: str, base: str) -> bool:
    """Whether `dn` is `base` or below it."""
    try:
        d, b = parse_dn(dn, "").lower(), parse_dn(base, "").lower()
    except ValidationError:
        return False
    return d == b or d.endswith("," + b)
