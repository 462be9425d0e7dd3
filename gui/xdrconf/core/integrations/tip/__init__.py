"""Kaspersky Threat Intelligence Portal: reputation of observables through OpenTIP (General
access) or Kaspersky TIP (Premium access). Lookups: tip.lookup; the cache: tip.cache.
Wire facts: shared/INTEGRATIONS.md."""

from __future__ import annotations

from typing import Any

from xdrconf.core.i18n import N_

from ...catalog import IntegrationSpec, Page, ValidationContext
from ...engine import Operation, check_operation
from ...fields import Field, parse_url, url_host_port
from ..common import TRUST_FIELDS
from . import lookup
from .cache import TipCache, parse_ttl
from .lookup import (
    ACCESS_GENERAL,
    ACCESS_PREMIUM,
    ACCESS_TITLES,
    CHECK_VALUE,
    OPENTIP_DEFAULT_URL,
    PREMIUM_DEFAULT_URL,
    base_url,
    target_of,
)
from .observables import SUPPORTED, parse_observable

ACCESS_HELP = {
    ACCESS_GENERAL: N_(
        "Reputation of the observables in alerts and incidents — domain, URL, IP, "
        "MD5, SHA256 — in the Enrichment column. Every request consumes quota."
    ),
    ACCESS_PREMIUM: N_(
        "The same enrichment (domain, URL, IP, MD5, SHA256; consumes quota), plus "
        "status updates of these observables in the Status update column, which consume no quota."
    ),
}

QUOTA_NOTICE = N_(
    "A check looks up one fixed harmless value ({value}) on the portal, and a lookup "
    "asks the portal about the value you enter: each request may consume the token's quota. "
    "Repeated lookups within the Cache TTL are answered from the local cache at no cost."
).fill(value=CHECK_VALUE)

PROXY_HELP = N_(
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
        N_("Integration"),
        kind="choice",
        required=True,
        default=ACCESS_GENERAL,
        choices=tuple((k, v) for k, v in ACCESS_TITLES.items()),
        help=N_("Turn on one of the two services. {general}: {general_help} {premium}: {premium_help}").fill(
            general=ACCESS_TITLES[ACCESS_GENERAL],
            general_help=ACCESS_HELP[ACCESS_GENERAL],
            premium=ACCESS_TITLES[ACCESS_PREMIUM],
            premium_help=ACCESS_HELP[ACCESS_PREMIUM],
        ),
        extra={"choice_help": ACCESS_HELP},
    ),
    Field("proxy", N_("Proxy"), kind="bool", help=PROXY_HELP),
    Field(
        "cache_ttl",
        N_("Cache TTL"),
        kind="text",
        default="7d",
        parser=parse_ttl,
        help=N_(
            "How long lookup results are kept in the local cache, in days or hours: 7d "
            "(the default) or 12h. Leave empty to keep them without limit."
        ),
        placeholder=N_("7d  (empty: unlimited)"),
    ),
    Field(
        "token",
        N_("API token"),
        kind="secret",
        header=True,
        required=True,
        help=N_(
            "The authorization token for API requests, created on Kaspersky TIP or "
            "Kaspersky OpenTIP. It is kept only in the OS keyring or the encrypted vault (whichever the "
            "settings use); Replace it when it expires."
        ),
    ),
    Field(
        "opentip_url",
        N_("OpenTIP address"),
        kind="url",
        default=OPENTIP_DEFAULT_URL,
        parser=_portal_url(OPENTIP_DEFAULT_URL),
        help=N_("Base address of Kaspersky OpenTIP (General access); {url} unless told otherwise.").fill(
            url=OPENTIP_DEFAULT_URL
        ),
    ),
    Field(
        "premium_url",
        N_("Kaspersky TIP address"),
        kind="url",
        default=PREMIUM_DEFAULT_URL,
        parser=_portal_url(PREMIUM_DEFAULT_URL),
        help=N_("Base address of Kaspersky TIP (Premium access); {url} unless told otherwise.").fill(
            url=PREMIUM_DEFAULT_URL
        ),
    ),
    *TRUST_FIELDS,
)


def adjust(settings: dict[str, Any], vctx: ValidationContext) -> None:
    # A child's copy of Root's toggle (tenants are created as copies) means nothing: drop it.
    if not vctx.is_root:
        settings.pop("proxy", None)


SPEC = IntegrationSpec(
    kind="tip",
    title=N_("Kaspersky Threat Intelligence Portal"),
    description=N_(
        "Reputation of observables (domain, URL, IP, MD5, SHA256) from Kaspersky "
        "OpenTIP (General access) or Kaspersky TIP (Premium access), with a local cache."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("Kaspersky TIP — service"),
            N_("Turn on one of the two services; what each provides is shown beside it. {notice}").fill(
                notice=QUOTA_NOTICE
            ),
            ("access", "proxy", "cache_ttl"),
        ),
        Page(
            N_("Kaspersky TIP — token"),
            N_(
                "The authorization token for API requests, kept only in the OS keyring or the "
                "encrypted vault (whichever the settings use)."
            ),
            ("token",),
        ),
        Page(
            N_("Kaspersky TIP — portal and certificate"),
            N_(
                "The public portal addresses are filled in; change them only if told to. The "
                "system's CAs trust the public portals; a CA file or a pinned fingerprint is for "
                "a portal with its own certificate."
            ),
            ("opentip_url", "premium_url", "tls_ca", "tls_pin_sha256"),
        ),
    ),
    operations=(
        check_operation(lookup.check, notice=QUOTA_NOTICE),
        Operation(
            "lookup",
            N_("Look up an observable"),
            lookup.lookup_op,
            params=(
                Field(
                    "value",
                    N_("Observable"),
                    required=True,
                    parser=parse_observable,
                    help=N_("The value to look up: {supported}.").fill(supported=SUPPORTED),
                    placeholder=N_("Domain, URL, IPv4/IPv6 address, MD5 or SHA256"),
                ),
            ),
            description=N_("The reputation of one observable: its zone, verdict and main facts."),
            notice=QUOTA_NOTICE,
            # The verdict first, then the portal's main facts (the data's "facts").
            columns=(
                ("verdict", N_("Verdict")),
                ("zone", N_("Zone")),
                ("value", N_("Observable")),
                ("type", N_("Type")),
                ("from_cache", N_("From the local cache")),
                ("fetched_at", N_("Looked up (UTC)")),
            ),
        ),
    ),
    adjust=adjust,
    target=target_of,
    target_fields=("access", "opentip_url", "premium_url"),
    # The token goes to the portal of the chosen access only.
    secret_target=lambda settings, _name: base_url(settings),
    root_only=("proxy",),
    forget_tenant=lambda config_dir, tenant_id: TipCache(config_dir).forget_tenant(tenant_id),
    cert_target=lambda settings: url_host_port(base_url(settings)),
)
