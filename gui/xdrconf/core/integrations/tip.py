"""Kaspersky Threat Intelligence Portal: reputation of observables through OpenTIP (General
access) or Kaspersky TIP (Premium access). Lookups and the cache: xdrconf.core.tip_lookup.
Wire facts: shared/INTEGRATIONS.md."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..catalog import IntegrationSpec, Page, ValidationContext
from ..checks import CheckContext
from ..fields import Field, parse_url, url_host_port
from ..outcome import Category, CheckResult
from ..tip_lookup import (
    ACCESS_GENERAL,
    ACCESS_PREMIUM,
    ACCESS_TITLES,
    OPENTIP_DEFAULT_URL,
    PREMIUM_DEFAULT_URL,
    TipCache,
    access_of,
    base_url,
    parse_ttl,
    query,
    recognise,
    uses_proxy,
)
from .common import TRUST_FIELDS

# A lookup of a fixed, harmless value proves the token; IANA reserves this domain.
CHECK_VALUE = "example.com"

ACCESS_HELP = {
    ACCESS_GENERAL: "Reputation of the observables in alerts and incidents — domain, URL, IP, "
    "MD5, SHA256 — in the Enrichment column. Every request consumes quota.",
    ACCESS_PREMIUM: "The same enrichment (domain, URL, IP, MD5, SHA256; consumes quota), plus "
    "status updates of these observables in the Status update column, which consume no quota.",
}

QUOTA_NOTICE = (
    f"A check looks up one fixed harmless value ({CHECK_VALUE}) on the portal, and a lookup "
    "asks the portal about the value you enter: each request may consume the token's quota. "
    "Repeated lookups within the Cache TTL are answered from the local cache at no cost."
)

PROXY_HELP = (
    "Root tenant only: send the requests to Kaspersky TIP through the application-wide proxy "
    "(Settings → Proxy). Child tenants have no toggle of their own and follow the Root tenant's "
    "choice, as the proxy itself is set once for the whole application."
)


def _portal_url(default: str) -> Any:
    def parse(text: str, label: str) -> str:
        value = text.strip()
        return parse_url(value, label) if value else default

    return parse


FIELDS = (
    Field(
        "access",
        "Integration",
        kind="choice",
        required=True,
        default=ACCESS_GENERAL,
        choices=tuple((k, v) for k, v in ACCESS_TITLES.items()),
        help="Turn on one of the two services. "
        + " ".join(f"{ACCESS_TITLES[k]}: {ACCESS_HELP[k]}" for k in (ACCESS_GENERAL, ACCESS_PREMIUM)),
        extra={"choice_help": ACCESS_HELP},
    ),
    Field("proxy", "Proxy", kind="bool", help=PROXY_HELP),
    Field(
        "cache_ttl",
        "Cache TTL",
        kind="text",
        default="7d",
        parser=parse_ttl,
        help="How long lookup results are kept in the local cache, in days or hours: 7d "
        "(the default) or 12h. Leave empty to keep them without limit.",
        placeholder="7d  (empty: unlimited)",
    ),
    Field(
        "token",
        "API token",
        kind="secret",
        required=True,
        help="The authorization token for API requests, created on Kaspersky TIP or "
        "Kaspersky OpenTIP. It is kept in the OS keyring only; Replace it when it expires.",
    ),
    Field(
        "opentip_url",
        "OpenTIP address",
        kind="url",
        default=OPENTIP_DEFAULT_URL,
        parser=_portal_url(OPENTIP_DEFAULT_URL),
        help=f"Base address of Kaspersky OpenTIP (General access); {OPENTIP_DEFAULT_URL} "
        "unless told otherwise.",
    ),
    Field(
        "premium_url",
        "Kaspersky TIP address",
        kind="url",
        default=PREMIUM_DEFAULT_URL,
        parser=_portal_url(PREMIUM_DEFAULT_URL),
        help=f"Base address of Kaspersky TIP (Premium access); {PREMIUM_DEFAULT_URL} unless told otherwise.",
    ),
    *TRUST_FIELDS,
)


def adjust(settings: dict[str, Any], vctx: ValidationContext) -> None:
    # A child's copy of Root's toggle (tenants are created as copies) means nothing: drop it.
    if not vctx.is_root:
        settings.pop("proxy", None)


def check(ctx: CheckContext) -> list[CheckResult]:
    obs = recognise(CHECK_VALUE)
    r = query(ctx, obs, for_check=True)
    title = ACCESS_TITLES[access_of(ctx.settings)]
    note = ""
    host = urlsplit(base_url(ctx.settings)).hostname or ""
    if uses_proxy(ctx) and ctx.net.proxy.for_host(host) is None:
        note = (
            " The Proxy toggle is on, but no application-wide proxy applies to this "
            "address, so the portal was reached directly."
        )
    elif uses_proxy(ctx):
        note = " The request went through the application-wide proxy."
    if r.ok:
        if r.found:
            message = (
                f"Connected: {title} accepted the token and answered a lookup of "
                f"{CHECK_VALUE} ({r.verdict}). The lookup may have consumed quota."
            )
        else:
            message = (
                f"Connected: {title} accepted the token and has no data on {CHECK_VALUE} "
                "(HTTP 404) — a valid answer that proves the token works. The lookup may "
                "have consumed quota."
            )
        return [
            CheckResult(
                Category.OK,
                message + note,
                r.target,
                details={"access": r.access, "status": r.status, "proxy": uses_proxy(ctx)},
            )
        ]
    return [CheckResult(r.category, r.message + (note if r.status is not None else ""), r.target)]


SPEC = IntegrationSpec(
    kind="tip",
    title="Kaspersky Threat Intelligence Portal",
    description="Reputation of observables (domain, URL, IP, MD5, SHA256) from Kaspersky "
    "OpenTIP (General access) or Kaspersky TIP (Premium access), with a local cache.",
    fields=FIELDS,
    pages=(
        Page(
            "Kaspersky TIP — service",
            "Turn on one of the two services; what each provides is shown beside it. " + QUOTA_NOTICE,
            ("access", "proxy", "cache_ttl"),
        ),
        Page(
            "Kaspersky TIP — token",
            "The authorization token for API requests, kept in the OS keyring only.",
            ("token",),
        ),
        Page(
            "Kaspersky TIP — portal and certificate",
            "The public portal addresses are filled in; change them only if told to. The "
            "system's CAs trust the public portals; a CA file or a pinned fingerprint is for "
            "a portal with its own certificate.",
            ("opentip_url", "premium_url", "tls_ca", "tls_pin_sha256"),
        ),
    ),
    check=check,
    check_notice=QUOTA_NOTICE,
    adjust=adjust,
    root_only=("proxy",),
    forget_tenant=lambda config_dir, tenant_id: TipCache(config_dir).forget_tenant(tenant_id),
    cert_target=lambda settings: url_host_port(base_url(settings)),
)
