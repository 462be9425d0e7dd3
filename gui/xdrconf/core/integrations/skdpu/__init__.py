"""SKDPU NT (IT-Bastion's privileged access management): XDR responds through it with response
scripts; no public API is documented, so the check proves only what a TLS handshake can
(common.reachability_check) and says that the account was not checked. Wire facts:
shared/INTEGRATIONS.md "Continent 4, SKDPU NT"."""

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
        N_("SKDPU NT server"),
        kind="host",
        required=True,
        help=N_("Host name or IP address of the SKDPU NT server the response scripts connect to."),
        placeholder="skdpu.example.invalid",
    ),
    Field(
        "port",
        N_("Port"),
        kind="port",
        required=True,
        default=443,
        help=N_("The TLS port the response scripts connect to (443 for the web interface)."),
    ),
    *SCRIPT_ACCOUNT_FIELDS,
    *TRUST_FIELDS,
)

SPEC = IntegrationSpec(
    kind="skdpu",
    title=N_("SKDPU NT"),
    description=N_(
        "XDR responds to alerts through SKDPU NT, the privileged access management system, with "
        "response scripts. SKDPU NT has no public API, so xdrconf keeps the server and the account per "
        "tenant and checks only that the server is reachable over TLS with a trusted certificate; the "
        "account is not checked."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("SKDPU NT — server and account"),
            N_(
                "XDR responds to alerts through SKDPU NT with response scripts. The check proves the "
                "name, the port, TLS and the certificate only: not the account."
            ),
            ("host", "port", "username", "password"),
        ),
        PIN_PAGE,
    ),
    operations=(check_operation(reachability_check, needs=()),),
    target_fields=("host", "port"),
    see_also=(SCRIPT_HOST,),
)
