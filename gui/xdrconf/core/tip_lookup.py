"""Kaspersky TIP observable lookups: what a typed value is (domain, URL, IPv4/IPv6, MD5,
SHA256), the request to the portal (OpenTIP for General access, Kaspersky TIP for Premium
access) through the network layer, the verdict and main facts of the answer, and a local
cache whose lifetime is the tenant's Cache TTL.

Wire facts: shared/INTEGRATIONS.md. No call here is free: a lookup that reaches the
portal may consume quota, which is why repeated lookups within the Cache TTL are answered
from the cache and say so."""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .errors import ValidationError, XdrconfError
from .fields import parse_host
from .net import classify_status, error_message_of
from .outcome import Category, now_utc

if TYPE_CHECKING:
    from .workspace import Workspace

# ---- portal addresses and authentication -------------------------------------------------------
OPENTIP_DEFAULT_URL = "https://opentip.kaspersky.com"
PREMIUM_DEFAULT_URL = "https://tip.kaspersky.com"
OPENTIP_TOKEN_HEADER = "x-api-key"  # [doc] OpenTIP API
# [inferred] Kaspersky TIP (Premium) takes a token too, but no source names its header;
# the OpenTIP header is the best guess. Change it here only.
PREMIUM_TOKEN_HEADER = "x-api-key"

ACCESS_GENERAL = "general"
ACCESS_PREMIUM = "premium"
ACCESS_TITLES = {
    ACCESS_GENERAL: "Kaspersky TIP (General access)",
    ACCESS_PREMIUM: "Kaspersky TIP (Premium access)",
}

# ---- observables ---------------------------------------------------------------------------
KIND_LABELS = {
    "domain": "domain",
    "url": "URL",
    "ipv4": "IPv4 address",
    "ipv6": "IPv6 address",
    "md5": "MD5 hash",
    "sha256": "SHA256 hash",
}
_API_PATH = {"domain": "domain", "url": "url", "ipv4": "ip", "ipv6": "ip", "md5": "hash", "sha256": "hash"}
SUPPORTED = "a domain, a URL, an IPv4 or IPv6 address, an MD5 or a SHA256 hash"
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_OTHER_HASHES = {40: "SHA1", 56: "SHA224", 96: "SHA384", 128: "SHA512"}
LABEL = "Observable"


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
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "the unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, attr):
            return what
    return "not a public address"


def recognise(text: str) -> Observable:
    """The observable a person typed, or ValidationError saying why it is refused."""
    raw = str(text).strip()
    if not raw:
        raise _refuse(f"enter the value to look up: {SUPPORTED}")
    value = _refang(raw)
    if any(c.isspace() for c in value):
        raise _refuse(f"'{raw}' contains spaces; look up one value at a time")
    if _HEX.match(value) and not re.fullmatch(r"[0-9.]+", value):
        if len(value) == 32:
            return Observable("md5", value.lower())
        if len(value) == 64:
            return Observable("sha256", value.lower())
        other = _OTHER_HASHES.get(len(value))
        if other:
            raise _refuse(
                f"'{raw}' looks like a {other} hash; only MD5 (32 hex digits) and "
                "SHA256 (64 hex digits) hashes can be looked up"
            )
        if len(value) > 24 or value.isdigit():
            raise _refuse(
                f"'{raw}' is {len(value)} hexadecimal digits long: an MD5 hash has 32 and a SHA256 hash 64"
            )
    if "/" in value and "://" not in value and re.fullmatch(r"[0-9a-fA-F:.]+/\d{1,3}", value):
        raise _refuse(f"'{raw}' is a network range; look up one address at a time")
    candidate = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        ip = ipaddress.ip_address(candidate)
    except ValueError:
        ip = None
    if ip is not None:
        kind = "ipv4" if ip.version == 4 else "ipv6"
        if not ip.is_global or ip.is_multicast:
            raise _refuse(
                f"'{raw}' is {_ip_reason(ip)}: the portal has no reputation for it, "
                "and a lookup would only spend quota"
            )
        return Observable(kind, str(ip))
    if "://" in value:
        return _url(raw, value)
    if "@" in value:
        raise _refuse(
            f"'{raw}' looks like an e-mail address, which is not among the types the "
            f"portal looks up ({SUPPORTED})"
        )
    if "/" in value or "?" in value:
        host = re.split(r"[/?#]", value, maxsplit=1)[0]
        _host_of_url(raw, host)
        return Observable("url", value)
    if re.fullmatch(r"[0-9.]+", value):
        raise _refuse(f"'{raw}' is not a valid IPv4 address")
    if value.count(":") == 1 and value.rsplit(":", 1)[1].isdigit():
        raise _refuse(
            f"'{raw}' has a port; enter the domain alone, or the whole URL with its scheme (https://…)"
        )
    if ":" in value:
        raise _refuse(f"'{raw}' is not a valid IPv6 address")
    return Observable("domain", _domain(raw, value))


def _domain(raw: str, value: str) -> str:
    host = value.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refuse(f"'{raw}' is not a valid internationalised domain name") from None
    try:
        host = parse_host(host, LABEL)
    except ValidationError:
        raise _refuse(f"'{raw}' is not {SUPPORTED}") from None
    labels = host.split(".")
    if len(labels) < 2:
        raise _refuse(
            f"'{raw}' is a single name, not a fully qualified domain (e.g. "
            "example.com); the portal knows public domains only"
        )
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")):
        raise _refuse(f"'{raw}' does not end in a top-level domain such as .com")
    return host


def _host_of_url(raw: str, host: str) -> None:
    try:
        parts = urlsplit(f"//{host}")
        name = parts.hostname or ""
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:
        raise _refuse(f"'{raw}' has an invalid host or port") from None
    if not name:
        raise _refuse(f"'{raw}' has no host name")
    try:
        ipaddress.ip_address(name)
        return
    except ValueError:
        pass
    _domain(raw, name)


def _url(raw: str, value: str) -> Observable:
    scheme, _, rest = value.partition("://")
    if scheme.lower() not in ("http", "https", "ftp"):
        raise _refuse(f"'{raw}' is a {scheme}: link; only http, https and ftp URLs can be looked up")
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in host:
        raise _refuse(f"'{raw}' contains a user name or password; remove it before looking the URL up")
    _host_of_url(raw, host)
    return Observable("url", f"{scheme.lower()}://{rest}")


# ---- cache lifetime ---------------------------------------------------------------------------
_TTL = re.compile(r"^(\d+)\s*(d|days?|h|hours?)$")
MAX_TTL_HOURS = 3650 * 24


def parse_ttl(text: str, label: str = "Cache TTL") -> str | None:
    """'7d', '12h', '7 days' → canonical '7d' / '12h'; empty → None (unlimited)."""
    value = str(text).strip().lower()
    if not value or value == "unlimited":
        return None
    m = _TTL.match(value)
    if not m:
        if value.isdigit():
            raise ValidationError(
                label,
                f"'{text.strip()}' has no unit: add d (days) or h (hours), "
                "e.g. 7d or 12h; leave empty to keep results without limit",
                field="cache_ttl",
            )
        raise ValidationError(
            label,
            f"'{text.strip()}' is not a period: write a whole number of "
            "days or hours, e.g. 7d or 12h; leave empty to keep results without "
            "limit",
            field="cache_ttl",
        )
    number, unit = int(m.group(1)), m.group(2)[0]
    if number == 0:
        raise ValidationError(
            label, "must be at least 1h; leave it empty to keep results without limit", field="cache_ttl"
        )
    if number * (24 if unit == "d" else 1) > MAX_TTL_HOURS:
        raise ValidationError(
            label,
            "must be at most 3650 days (10 years); leave it empty to keep results without limit",
            field="cache_ttl",
        )
    return f"{number}{unit}"


def ttl_seconds(stored: str | None) -> float | None:
    """Seconds of a stored Cache TTL, None for unlimited."""
    if not stored:
        return None
    number, unit = int(stored[:-1]), stored[-1]
    return number * (86400 if unit == "d" else 3600)


def describe_ttl(stored: str | None) -> str:
    if not stored:
        return "without limit"
    number, unit = int(stored[:-1]), stored[-1]
    word = "day" if unit == "d" else "hour"
    return f"for {number} {word}{'s' if number != 1 else ''}"


# ---- results ----------------------------------------------------------------------------------
ZONES = {
    "red": "Dangerous",
    "orange": "Not trusted",
    "yellow": "Adware and other",
    "green": "Good",
    "grey": "Not categorized",
    "gray": "Not categorized",
}

# (section, key, label): the main facts shown for each type, first match wins per label.
_FACTS: tuple[tuple[str, str, str], ...] = (
    ("FileGeneralInfo", "FileStatus", "File status"),
    ("FileGeneralInfo", "Type", "File type"),
    ("FileGeneralInfo", "Size", "Size (bytes)"),
    ("FileGeneralInfo", "FirstSeen", "First seen"),
    ("FileGeneralInfo", "LastSeen", "Last seen"),
    ("FileGeneralInfo", "HitsCount", "Hits"),
    ("IpGeneralInfo", "Status", "Status"),
    ("IpGeneralInfo", "CountryCode", "Country"),
    ("IpGeneralInfo", "FirstSeen", "First seen"),
    ("IpGeneralInfo", "HitsCount", "Hits"),
    ("IpGeneralInfo", "Categories", "Categories"),
    ("DomainGeneralInfo", "Categories", "Categories"),
    ("DomainGeneralInfo", "HitsCount", "Hits"),
    ("DomainGeneralInfo", "Ipv4Count", "IPv4 addresses"),
    ("DomainGeneralInfo", "FilesCount", "Files"),
    ("DomainGeneralInfo", "UrlsCount", "URLs"),
    ("UrlGeneralInfo", "Host", "Host"),
    ("UrlGeneralInfo", "Categories", "Categories"),
    ("UrlGeneralInfo", "Ipv4Count", "IPv4 addresses"),
    ("UrlGeneralInfo", "FilesCount", "Files"),
)


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, dict):
                item = item.get("Name") or item.get("name") or ""
            if item:
                items.append(str(item))
        return ", ".join(items)
    if isinstance(value, dict):
        return ""
    return "" if value is None else str(value)


def main_facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    seen: set[str] = set()
    for section, key, label in _FACTS:
        part = data.get(section)
        if not isinstance(part, dict) or label in seen:
            continue
        value = part.get(key)
        if key == "Categories" and not value:
            value = part.get("CategoriesWithZone")
        text = _text_of(value)
        if text:
            facts.append((label, text[:300]))
            seen.add(label)
    detections = data.get("DetectionsInfo")
    if isinstance(detections, list):
        names = [
            str(d.get("DetectionName")) for d in detections if isinstance(d, dict) and d.get("DetectionName")
        ]
        if names:
            more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
            facts.append(("Detected as", ", ".join(names[:3]) + more))
    return facts


@dataclass
class LookupResult:
    """The outcome of one lookup. category OK covers both a verdict and "no data"."""

    input: str
    observable: Observable | None
    category: Category
    message: str
    access: str = ""
    found: bool = False
    zone: str = ""
    verdict: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    from_cache: bool = False
    fetched_at: str = ""
    target: str = ""
    status: int | None = None
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.category is Category.OK

    def public(self) -> dict[str, Any]:
        """The command line's JSON form."""
        obs = self.observable
        return {
            "input": self.input,
            "type": obs.kind if obs else None,
            "value": obs.value if obs else None,
            "access": self.access,
            "category": self.category.value,
            "ok": self.ok,
            "found": self.found,
            "zone": self.zone or None,
            "verdict": self.verdict or None,
            "facts": {label: text for label, text in self.facts},
            "from_cache": self.from_cache,
            "fetched_at": self.fetched_at or None,
            "message": self.message,
            "data": self.data,
        }


# ---- the request ------------------------------------------------------------------------------
def access_of(settings: dict[str, Any]) -> str:
    return settings.get("access") or ACCESS_GENERAL


def base_url(settings: dict[str, Any]) -> str:
    if access_of(settings) == ACCESS_PREMIUM:
        return (settings.get("premium_url") or PREMIUM_DEFAULT_URL).rstrip("/")
    return (settings.get("opentip_url") or OPENTIP_DEFAULT_URL).rstrip("/")


def target_of(settings: dict[str, Any]) -> str:
    return urlsplit(base_url(settings)).netloc


def uses_proxy(ctx: Any) -> bool:
    """Only the Root tenant has the Proxy toggle; every tenant follows Root's choice."""
    return bool(ctx.root_settings.get("proxy"))


def request_of(
    settings: dict[str, Any], obs: Observable, token: str
) -> tuple[str, dict[str, str], dict[str, str]]:
    """URL, query parameters and headers of the lookup."""
    base = base_url(settings)
    if access_of(settings) == ACCESS_PREMIUM:
        url = f"{base}/api/{obs.api}/{quote(obs.value, safe='')}"
        return url, {}, {PREMIUM_TOKEN_HEADER: token, "Accept": "application/json"}
    return (
        f"{base}/api/v1/search/{obs.api}",
        {"request": obs.value},
        {OPENTIP_TOKEN_HEADER: token, "Accept": "application/json"},
    )


_QUOTA_TEXT = re.compile(r"quota|limit", re.IGNORECASE)


def query(ctx: Any, obs: Observable, *, for_check: bool = False) -> LookupResult:
    """One request to the portal. Network failures become a result as well."""
    from .checks import failure

    settings = ctx.settings
    access = access_of(settings)
    where = target_of(settings)
    title = ACCESS_TITLES[access]
    result = LookupResult(obs.value, obs, Category.OK, "", access=access, target=where)
    token = ctx.secret("token")
    if not token:
        result.category = Category.MISSING_SECRET
        result.message = f"The API token of {title} is not stored; add it (Add token) and try again."
        return result
    if not token.isascii() or any(c in token for c in "\r\n"):
        result.category = Category.INVALID_CONFIG
        result.message = (
            "API token: contains characters that cannot be sent in an HTTP header; "
            "paste the token exactly as the portal showed it."
        )
        return result
    url, params, headers = request_of(settings, obs, token)
    host = urlsplit(url).hostname or ""
    try:
        with ctx.client(host, use_proxy=uses_proxy(ctx)) as client:
            response = client.get(url, params=params, headers=headers)
    except Exception as exc:  # noqa: BLE001 - classified into one category
        failed = failure(exc, where, ctx)
        result.category, result.message = failed.category, failed.message
        return result
    result.status = response.status_code
    result.fetched_at = now_utc().isoformat(timespec="seconds")
    return interpret(result, response, title, for_check=for_check)


def interpret(result: LookupResult, response: Any, title: str, *, for_check: bool) -> LookupResult:
    status = response.status_code
    where = result.target
    obs = result.observable
    assert obs is not None
    said_json = error_message_of(response)
    said = said_json or response.text.strip()[:200]
    quote_ = f' ("{said}")' if said else ""
    if status == 200:
        try:
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            result.category = Category.PROTOCOL_ERROR
            result.message = (
                f"{where} answered 200 but not with the portal's JSON; check the portal URL of {title}."
            )
            return result
        zone = str(data.get("Zone") or "")
        result.found = True
        result.zone = zone
        result.verdict = ZONES.get(zone.lower(), zone or "No verdict")
        result.facts = main_facts(data)
        result.data = data
        zone_text = f"{zone} zone, {result.verdict}" if zone else result.verdict
        result.message = f"{obs.label} {obs.value}: {zone_text}."
        return result
    if status == 404:
        # "No data" is a valid answer: the portal accepted the token and knows nothing.
        result.found = False
        result.verdict = "No data"
        result.message = f"The portal has no data on the {obs.label} {obs.value}."
        return result
    if status == 401:
        result.category = Category.AUTH_FAILED
        result.message = (
            f"{title} rejected the API token (HTTP 401){quote_}: it is wrong or has "
            "expired (tokens are valid up to a year); create a new one on the portal "
            "and Replace token."
        )
        return result
    if status == 403:
        if _QUOTA_TEXT.search(said):
            result.category = Category.QUOTA_EXCEEDED
            result.message = (
                f"{title} says the token's quota or request limit is used up "
                f"(HTTP 403{quote_}); wait until the quota renews, or use a token "
                "with a larger quota."
            )
        else:
            result.category = Category.FORBIDDEN
            result.message = (
                f"{title} refused this request (HTTP 403){quote_}; check that the "
                "token is meant for this access level and portal."
            )
        return result
    if status == 400:
        if for_check:
            result.category = Category.PROTOCOL_ERROR
            result.message = (
                f"{where} did not understand the test lookup (HTTP 400){quote_}; "
                f"check that the portal URL of {title} is right."
            )
        else:
            result.category = Category.INVALID_CONFIG
            result.message = (
                f"The portal refused the {obs.label} {obs.value} as a bad request (HTTP 400){quote_}."
            )
        return result
    category, message = classify_status(status, where, said_json)
    result.category, result.message = category, message
    return result


# ---- cache ------------------------------------------------------------------------------------
CACHE_FILE = "tip-cache.json"
CACHE_SCHEMA = "xdrconf-tip-cache"
CACHE_MAX_ENTRIES = 5000
_cache_lock = threading.Lock()

Clock = Callable[[], _dt.datetime]


class TipCache:
    """Lookup results (never secrets) in one JSON file in the settings folder, keyed by
    tenant, access level, portal and observable. An entry is fresh while its age is below
    the Cache TTL of the tenant asking."""

    def __init__(self, config_dir: Path, clock: Clock | None = None) -> None:
        self.path = Path(config_dir) / CACHE_FILE
        self.clock = clock or now_utc

    @staticmethod
    def key(tenant_id: str, settings: dict[str, Any], obs: Observable) -> str:
        return "|".join((tenant_id, access_of(settings), base_url(settings), obs.kind, obs.value))

    def _load(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict) or doc.get("schema") != CACHE_SCHEMA:
            return {}
        entries = doc.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, key: str, ttl: float | None) -> dict[str, Any] | None:
        entry = self._load().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            stored = _dt.datetime.fromisoformat(entry["stored_at"])
        except (KeyError, TypeError, ValueError):
            return None
        age = (self.clock() - stored).total_seconds()
        if age < 0 or (ttl is not None and age >= ttl):
            return None
        return entry

    def put(self, key: str, result: LookupResult) -> None:
        from .storage import write_private

        entry = {
            "stored_at": self.clock().isoformat(timespec="seconds"),
            "found": result.found,
            "zone": result.zone,
            "verdict": result.verdict,
            "facts": [list(f) for f in result.facts],
            "message": result.message,
            "data": result.data if len(json.dumps(result.data or {})) < 100_000 else None,
        }
        with _cache_lock:
            entries = self._load()
            entries[key] = entry
            if len(entries) > CACHE_MAX_ENTRIES:
                oldest = sorted(entries, key=lambda k: str(entries[k].get("stored_at", "")))
                for k in oldest[: len(entries) - CACHE_MAX_ENTRIES]:
                    del entries[k]
            doc = {"schema": CACHE_SCHEMA, "version": 1, "entries": entries}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.path, json.dumps(doc, ensure_ascii=False, indent=1).encode())

    def forget_tenant(self, tenant_id: str) -> int:
        from .storage import write_private

        with _cache_lock:
            entries = self._load()
            gone = [k for k in entries if k.split("|", 1)[0] == tenant_id]
            for k in gone:
                del entries[k]
            if gone:
                doc = {"schema": CACHE_SCHEMA, "version": 1, "entries": entries}
                write_private(self.path, json.dumps(doc, ensure_ascii=False, indent=1).encode())
            return len(gone)


def _from_cache(
    text: str, obs: Observable, access: str, where: str, entry: dict[str, Any], ttl_text: str | None
) -> LookupResult:
    stored = entry.get("stored_at", "")
    when = stored.replace("T", " ")[:16] + " UTC" if stored else "earlier"
    return LookupResult(
        text,
        obs,
        Category.OK,
        f"{entry.get('message', '')} From the local cache (looked up {when}, kept "
        f"{describe_ttl(ttl_text)}): no request was sent and no quota was used.",
        access=access,
        found=bool(entry.get("found")),
        zone=str(entry.get("zone") or ""),
        verdict=str(entry.get("verdict") or ""),
        facts=[(str(a), str(b)) for a, b in entry.get("facts") or []],
        from_cache=True,
        fetched_at=stored,
        target=where,
        data=entry.get("data"),
    )


def lookup(
    ws: Workspace,
    tenant_ref: str,
    text: str,
    *,
    clock: Clock | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> LookupResult:
    """Look a value up for a tenant: refused values raise ValidationError; everything else
    (cache hit, verdict, no data, a failure) is a LookupResult."""
    from . import checks

    obs = recognise(text)
    tenant = ws.tenant(tenant_ref)
    state = tenant.integrations.get("tip")
    if state is None or not state.configured:
        raise XdrconfError(
            f"Kaspersky TIP is not configured for '{ws.tree.path(tenant.id)}'; "
            "set it up first (access level and token)."
        )
    settings = state.settings
    access, where = access_of(settings), target_of(settings)
    cache = TipCache(ws.config_dir, clock)
    key = TipCache.key(tenant.id, settings, obs)
    ttl_text = settings.get("cache_ttl")
    entry = cache.get(key, ttl_seconds(ttl_text))
    if entry is not None:
        return _from_cache(str(text).strip(), obs, access, where, entry, ttl_text)
    ctx = checks.context_for(ws, tenant, "tip", state, timeout=timeout, cancel=cancel)
    result = query(ctx, obs)
    result.input = str(text).strip()
    if cancel is not None and cancel.is_set():
        result.category, result.message = Category.CANCELLED, "The lookup was cancelled."
        return result
    if result.ok:
        cache.put(key, result)
        result.message += " The request went to the portal and may have consumed quota."
    return result
