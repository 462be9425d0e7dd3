"""Kaspersky TIP lookups as operations of the engine: the request to the portal (OpenTIP
for General access, Kaspersky TIP for Premium access), the verdict and main facts of the
answer, the local cache (tip.cache), and the connection check (a lookup of a fixed,
harmless value). Wire facts: shared/INTEGRATIONS.md.

No call here is free: a lookup that reaches the portal may consume quota, which is why
repeated lookups within the Cache TTL are answered from the cache and say so."""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ...engine import run_operation
from ...errors import OperationFailed, ValidationError
from ...http import HttpSession
from ...i18n import N_, _
from ...outcome import Category, Outcome
from .cache import Clock, TipCache, describe_ttl, ttl_seconds
from .observables import Observable, recognise

if TYPE_CHECKING:
    import httpx

    from ...engine import OpContext
    from ...workspace import Workspace

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
    ACCESS_GENERAL: N_("Kaspersky TIP (General access)"),
    ACCESS_PREMIUM: N_("Kaspersky TIP (Premium access)"),
}


# ---- results ----------------------------------------------------------------------------------
ZONES = {
    "red": N_("Dangerous"),
    "orange": N_("Not trusted"),
    "yellow": N_("Adware and other"),
    "green": N_("Good"),
    "grey": N_("Not categorized"),
    "gray": N_("Not categorized"),
}

# (section, key, label): the main facts shown for each type, first match wins per label.
_FACTS: tuple[tuple[str, str, str], ...] = (
    ("FileGeneralInfo", "FileStatus", N_("File status")),
    ("FileGeneralInfo", "Type", N_("File type")),
    ("FileGeneralInfo", "Size", N_("Size (bytes)")),
    ("FileGeneralInfo", "FirstSeen", N_("First seen")),
    ("FileGeneralInfo", "LastSeen", N_("Last seen")),
    ("FileGeneralInfo", "HitsCount", N_("Hits")),
    ("IpGeneralInfo", "Status", N_("Status")),
    ("IpGeneralInfo", "CountryCode", N_("Country")),
    ("IpGeneralInfo", "FirstSeen", N_("First seen")),
    ("IpGeneralInfo", "HitsCount", N_("Hits")),
    ("IpGeneralInfo", "Categories", N_("Categories")),
    ("DomainGeneralInfo", "Categories", N_("Categories")),
    ("DomainGeneralInfo", "HitsCount", N_("Hits")),
    ("DomainGeneralInfo", "Ipv4Count", N_("IPv4 addresses")),
    ("DomainGeneralInfo", "FilesCount", N_("Files")),
    ("DomainGeneralInfo", "UrlsCount", N_("URLs")),
    ("UrlGeneralInfo", "Host", N_("Host")),
    ("UrlGeneralInfo", "Categories", N_("Categories")),
    ("UrlGeneralInfo", "Ipv4Count", N_("IPv4 addresses")),
    ("UrlGeneralInfo", "FilesCount", N_("Files")),
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
            more = _(" (+{n} more)").format(n=len(names) - 3) if len(names) > 3 else ""
            facts.append((_("Detected as"), ", ".join(names[:3]) + more))
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
    refused: bool = False

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

    def answer(self) -> dict[str, Any]:
        """What the cache keeps of a lookup."""
        return {
            "found": self.found,
            "zone": self.zone,
            "verdict": self.verdict,
            "facts": self.facts,
            "message": self.message,
            "data": self.data,
        }

    def outcome(self) -> Outcome:
        return Outcome(self.category, self.message, self.target, data=self.public())

    @classmethod
    def of(cls, outcome: Outcome, text: str = "") -> LookupResult:
        """The lookup an outcome of the "lookup" operation describes."""
        d = outcome.data if isinstance(outcome.data, dict) else {}
        obs = Observable(d["type"], d["value"]) if d.get("type") else None
        return cls(
            str(d.get("input", text)),
            obs,
            outcome.category,
            outcome.message,
            access=str(d.get("access") or ""),
            found=bool(d.get("found")),
            zone=str(d.get("zone") or ""),
            verdict=str(d.get("verdict") or ""),
            facts=[(str(k), str(v)) for k, v in dict(d.get("facts") or {}).items()],
            from_cache=bool(d.get("from_cache")),
            fetched_at=str(d.get("fetched_at") or ""),
            target=outcome.target,
            data=d.get("data"),
            refused=outcome.refused,
        )


# ---- the request ------------------------------------------------------------------------------
def access_of(settings: dict[str, Any]) -> str:
    return settings.get("access") or ACCESS_GENERAL


def base_url(settings: dict[str, Any]) -> str:
    if access_of(settings) == ACCESS_PREMIUM:
        return (settings.get("premium_url") or PREMIUM_DEFAULT_URL).rstrip("/")
    return (settings.get("opentip_url") or OPENTIP_DEFAULT_URL).rstrip("/")


def target_of(settings: dict[str, Any]) -> str:
    return urlsplit(base_url(settings)).netloc


def uses_proxy(ctx: OpContext) -> bool:
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


def query(ctx: OpContext, obs: Observable, *, for_check: bool = False) -> LookupResult:
    """One request to the portal; what it answered (a failure too) is the result."""
    settings = ctx.settings
    access = access_of(settings)
    title = ACCESS_TITLES[access]
    result = LookupResult(obs.value, obs, Category.OK, "", access=access, target=target_of(settings))
    token = ctx.require_secret("token", header=True)
    url, params, headers = request_of(settings, obs, token)
    session = ctx.http(urlsplit(url).hostname or "", use_proxy=uses_proxy(ctx))
    try:
        response = session.get(url, params=params, headers=headers, expect=(200, 400, 401, 403, 404))
    except OperationFailed as exc:
        if exc.refused:
            raise
        result.category, result.message = exc.category, str(exc)
        return result
    result.status = response.status_code
    result.fetched_at = ctx.now().isoformat(timespec="seconds")
    return interpret(result, response, session, title, for_check=for_check)


def interpret(
    result: LookupResult, response: httpx.Response, session: HttpSession, title: str, *, for_check: bool
) -> LookupResult:
    status = response.status_code
    where = result.target
    obs = result.observable
    assert obs is not None
    said = session.said(response) or session.ctx.redactor.text(response.text.strip()[:200])
    quote_ = f' ("{said}")' if said else ""
    if status == 200:
        try:
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            result.category = Category.PROTOCOL_ERROR
            result.message = _(
                "{where} answered 200 but not with the portal's JSON; check the portal URL of {title}."
            ).format(where=where, title=title)
            return result
        zone = str(data.get("Zone") or "")
        result.found = True
        result.zone = zone
        result.verdict = ZONES.get(zone.lower(), zone or _("No verdict"))
        result.facts = main_facts(data)
        result.data = data
        if zone:
            # TRANSLATORS: "Domain example.invalid: Green zone, Good."
            result.message = _("{kind} {value}: {zone} zone, {verdict}.").format(
                kind=obs.label, value=obs.value, zone=zone, verdict=result.verdict
            )
        else:
            result.message = _("{kind} {value}: {verdict}.").format(
                kind=obs.label, value=obs.value, verdict=result.verdict
            )
    elif status == 404:
        # "No data" is a valid answer: the portal accepted the token and knows nothing.
        result.found = False
        result.verdict = _("No data")
        # TRANSLATORS: {kind} is the type of the observable (domain, URL …)
        result.message = _("The portal has no data on the {kind} {value}.").format(
            kind=obs.label, value=obs.value
        )
    elif status == 401:
        result.category = Category.AUTH_FAILED
        result.message = _(
            "{title} rejected the API token (HTTP 401){quote}: it is wrong or has "
            "expired (tokens are valid up to a year); create a new one on the portal "
            "and Replace token."
        ).format(title=title, quote=quote_)
    elif status == 403 and _QUOTA_TEXT.search(said):
        result.category = Category.QUOTA_EXCEEDED
        result.message = _(
            "{title} says the token's quota or request limit is used up "
            "(HTTP 403{quote}); wait until the quota renews, or use a token "
            "with a larger quota."
        ).format(title=title, quote=quote_)
    elif status == 403:
        result.category = Category.FORBIDDEN
        result.message = _(
            "{title} refused this request (HTTP 403){quote}; check that the "
            "token is meant for this access level and portal."
        ).format(title=title, quote=quote_)
    elif for_check:
        result.category = Category.PROTOCOL_ERROR
        result.message = _(
            "{where} did not understand the test lookup (HTTP 400){quote}; "
            "check that the portal URL of {title} is right."
        ).format(where=where, quote=quote_, title=title)
    else:
        result.category = Category.INVALID_CONFIG
        result.message = _(
            "The portal refused the {kind} {value} as a bad request (HTTP 400){quote}."
        ).format(kind=obs.label, value=obs.value, quote=quote_)
    return result


# ---- the operations ---------------------------------------------------------------------------
# A lookup of a fixed, harmless value proves the token; IANA reserves this domain.
CHECK_VALUE = "example.com"


def check(ctx: OpContext) -> list[Outcome]:
    r = query(ctx, recognise(CHECK_VALUE), for_check=True)
    title = ACCESS_TITLES[access_of(ctx.settings)]
    note = ""
    host = urlsplit(base_url(ctx.settings)).hostname or ""
    if uses_proxy(ctx) and ctx.net.proxy.for_host(host) is None:
        note = _(
            " The Proxy toggle is on, but no application-wide proxy applies to this "
            "address, so the portal was reached directly."
        )
    elif uses_proxy(ctx):
        note = _(" The request went through the application-wide proxy.")
    if not r.ok:
        return [Outcome(r.category, r.message + (note if r.status is not None else ""), r.target)]
    if r.found:
        message = _(
            "Connected: {title} accepted the token and answered a lookup of "
            "{value} ({verdict}). The lookup may have consumed quota."
        ).format(title=title, value=CHECK_VALUE, verdict=r.verdict)
    else:
        message = _(
            "Connected: {title} accepted the token and has no data on {value} "
            "(HTTP 404) — a valid answer that proves the token works. The lookup may "
            "have consumed quota."
        ).format(title=title, value=CHECK_VALUE)
    return [
        Outcome(
            Category.OK,
            message + note,
            r.target,
            details={"access": r.access, "status": r.status, "proxy": uses_proxy(ctx)},
        )
    ]


def lookup_op(ctx: OpContext) -> list[Outcome]:
    """Look a value up: from the cache within the Cache TTL (no request, no quota), else
    from the portal (a verdict or "no data" is kept in the cache)."""
    obs: Observable = ctx.params["value"]
    settings = ctx.settings
    access, where = access_of(settings), target_of(settings)
    cache = TipCache(ctx.config_dir, ctx.now)
    key = TipCache.key(ctx.tenant_id, access, base_url(settings), obs.kind, obs.value)
    ttl_text = settings.get("cache_ttl")
    entry = cache.get(key, ttl_seconds(ttl_text))
    if entry is not None:
        stored = entry.get("stored_at", "")
        when = stored.replace("T", " ")[:16] + " UTC" if stored else _("earlier")
        cached = LookupResult(
            obs.value,
            obs,
            Category.OK,
            _(
                "{message} From the local cache (looked up {when}, kept {ttl}): no request was "
                "sent and no quota was used."
            ).format(message=entry.get("message", ""), when=when, ttl=describe_ttl(ttl_text)),
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
        return [cached.outcome()]
    result = query(ctx, obs)
    ctx.check_stop()
    if result.ok:
        cache.put(key, ctx.redactor(result.answer()))
        result.message += _(" The request went to the portal and may have consumed quota.")
    return [result.outcome()]


def lookup(
    ws: Workspace,
    tenant_ref: str,
    text: str,
    *,
    clock: Clock | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> LookupResult:
    """The "lookup" operation for a tenant, as a LookupResult (a refused value has
    category invalid_config and `refused` set; nothing was sent then)."""
    [outcome] = run_operation(
        ws, tenant_ref, "tip", "lookup", {"value": text}, clock=clock, timeout=timeout, cancel=cancel
    )
    result = LookupResult.of(outcome, str(text).strip())
    if result.observable is None and not result.refused:
        with contextlib.suppress(ValidationError):
            result.observable = recognise(text)
    return result
