"""Sophos Firewall: the XML API (`/webconsole/APIController`) that XDR's response scripts use to
block hosts. The check sends one request that logs in and, when a block group is set, reads
that IP host group; the API keeps no session. Wire facts: shared/INTEGRATIONS.md "Sophos
Firewall"."""

from __future__ import annotations

from ...catalog import IntegrationSpec, Page
from ...engine import check_operation
from ...fields import Field
from ...i18n import N_
from ..common import PIN_PAGE, SCRIPT_HOST, TRUST_FIELDS
from . import api

DEFAULT_PORT = 4444

FIELDS = (
    Field(
        "host",
        N_("Firewall"),
        kind="host",
        required=True,
        help=N_("Host name or IP address of the Sophos Firewall, e.g. fw.example.invalid."),
        placeholder="fw.example.invalid",
    ),
    Field(
        "port",
        N_("Port"),
        kind="port",
        required=True,
        default=DEFAULT_PORT,
        help=N_(
            "Port of the web admin console, where the XML API listens (4444 by default). API access "
            "must be on and allow this computer and the script-launch host: System → Backup & "
            "firmware → API (since SFOS 22: in the Administration menu)."
        ),
    ),
    Field(
        "username",
        N_("User name"),
        required=True,
        help=N_("An administrator of the firewall whose profile allows what the response scripts do."),
    ),
    Field(
        "password",
        N_("Password"),
        kind="secret",
        required=True,
        help=N_(
            "The administrator's password. Kept in the secret store only; sent in the body of the "
            "request, never in a URL."
        ),
    ),
    Field(
        "block_group",
        N_("Block group"),
        help=N_(
            "Optional: the name of the IP host group the response scripts add blocked addresses to; "
            "the check then confirms that it exists."
        ),
        placeholder="XDR_Blocked",
    ),
    *TRUST_FIELDS,
)

SPEC = IntegrationSpec(
    kind="sophos",
    title=N_("Sophos Firewall"),
    description=N_(
        "XDR blocks IP addresses on Sophos Firewall: its response scripts add them as IP host "
        "objects to an IP host group through the firewall's XML API. The API must be turned on and "
        "allow the script-launch host's address. xdrconf keeps the firewall and the API account per "
        "tenant and checks them read-only."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("Sophos Firewall — XML API"),
            N_(
                "The firewall's XML API, the administrator the response scripts log in as, and the "
                "IP host group they fill."
            ),
            ("host", "port", "username", "password", "block_group"),
        ),
        PIN_PAGE,
    ),
    operations=(check_operation(api.check),),
    target_fields=("host", "port"),
    see_also=(SCRIPT_HOST,),
)
