"""Continent 4 (Security Code): XDR's response scripts block hosts on it; no public API is
documented, so the check proves only what a TLS handshake can (common.reachability_check) and
says that the account was not checked. Wire facts: shared/INTEGRATIONS.md "Continent 4, SKDPU
NT"."""

from __future__ import annotations

from ...catalog import IntegrationSpec, Page
from ...engine import check_operation
from ...fields import Field
from ...i18n import N_
from ..common import (
    PIN_PAGE,
    SCRIPT_ACCOUNT_FIELDS,
    SCRIPT_HOST,
    TRUST_FIELDS,
    reachability_check,
)

FIELDS = (
    Field(
        "host",
        N_("Management server"),
        kind="host",
        required=True,
        help=N_(
            "Host name or IP address of the Continent 4 management server the response scripts connect to."
        ),
        placeholder="continent.example.invalid",
    ),
    Field(
        "port",
        N_("Port"),
        kind="port",
        required=True,
        help=N_("The TLS port the response scripts connect to, as the Continent 4 administrator gives it."),
    ),
    *SCRIPT_ACCOUNT_FIELDS,
    *TRUST_FIELDS,
)

SPEC = IntegrationSpec(
    kind="continent",
    title=N_("Continent 4"),
    description=N_(
        "XDR blocks hosts and IP addresses on Continent 4 (documented for Continent 4.1.7) through "
        "response scripts. Continent 4 has no public API, so xdrconf keeps the server and the account "
        "per tenant and checks only that the server is reachable over TLS with a trusted certificate; "
        "the account is not checked."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("Continent 4 — server and account"),
            N_(
                "XDR blocks hosts on Continent 4 through response scripts. The check proves the name, "
                "the port, TLS and the certificate only: not the account."
            ),
            ("host", "port", "username", "password"),
        ),
        PIN_PAGE,
    ),
    operations=(check_operation(reachability_check, needs=()),),
    target_fields=("host", "port"),
    see_also=(SCRIPT_HOST,),
)
