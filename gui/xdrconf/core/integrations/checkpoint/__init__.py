"""Check Point NGFW: the Management API of the Security Management Server (or of a domain of a
Multi-Domain Server) that XDR's response scripts use to block hosts. The check logs in
read-only, asks one read-only question (and whether the block group exists) and always logs
out. Wire facts: shared/INTEGRATIONS.md "Check Point Management API"."""

from __future__ import annotations

from ...catalog import IntegrationSpec, Page
from ...engine import check_operation
from ...fields import Field
from ...i18n import N_
from ..common import PIN_PAGE, SCRIPT_HOST, TRUST_FIELDS
from . import api

DEFAULT_PORT = 443

FIELDS = (
    Field(
        "host",
        N_("Management server"),
        kind="host",
        required=True,
        help=N_(
            "Host name or IP address of the Check Point Security Management Server (with "
            "Multi-Domain: of the Multi-Domain Server), e.g. mgmt.example.invalid."
        ),
        placeholder="mgmt.example.invalid",
    ),
    Field(
        "port",
        N_("Port"),
        kind="port",
        required=True,
        default=DEFAULT_PORT,
        help=N_("Port of the Management API (443 by default, as the Gaia Portal)."),
    ),
    Field(
        "domain",
        N_("Domain (Multi-Domain)"),
        help=N_(
            "Only with a Multi-Domain Server: the name of the domain whose objects the response "
            "scripts change. Leave it empty for a Security Management Server."
        ),
        placeholder=N_("(not Multi-Domain)"),
    ),
    Field(
        "auth",
        N_("Log in with"),
        kind="choice",
        required=True,
        default="api_key",
        choices=(("api_key", N_("API key")), ("password", N_("User name and password"))),
        help=N_(
            "How the API administrator logs in: with an API key (meant for scripts) or a user name "
            "and password."
        ),
    ),
    Field(
        "api_key",
        N_("API key"),
        kind="secret",
        required=True,
        visible_when=("auth", "api_key"),
        help=N_(
            "The administrator's API key (SmartConsole: Manage & Settings → Permissions & "
            "Administrators → Administrators → New → Authentication method: API Key). Kept in the "
            "secret store only."
        ),
    ),
    Field(
        "username",
        N_("User name"),
        required=True,
        visible_when=("auth", "password"),
        help=N_("The API administrator's name."),
    ),
    Field(
        "password",
        N_("Password"),
        kind="secret",
        required=True,
        visible_when=("auth", "password"),
        help=N_("The API administrator's password. Kept in the secret store only."),
    ),
    Field(
        "block_group",
        N_("Block group"),
        help=N_(
            "Optional: the name of the network group the response scripts add blocked hosts to; "
            "the check then confirms that it exists."
        ),
        placeholder="XDR_Blocked",
    ),
    *TRUST_FIELDS,
)

SPEC = IntegrationSpec(
    kind="checkpoint",
    title=N_("Check Point NGFW"),
    description=N_(
        "XDR blocks hosts and IP addresses on Check Point NGFW: its response scripts add them as "
        "host objects to a network group on the management server through the Management API, "
        "publish the change and install the policy. xdrconf keeps the server and the API account "
        "per tenant and checks them read-only."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("Check Point — management server"),
            N_(
                "Where the Management API listens, and the group that the response scripts add "
                "blocked hosts to (then they publish and install the policy)."
            ),
            ("host", "port", "domain", "block_group"),
        ),
        Page(
            N_("Check Point — API administrator"),
            N_(
                "The administrator the response scripts log in as. The check logs in read-only and "
                "always logs out."
            ),
            ("auth", "api_key", "username", "password"),
        ),
        PIN_PAGE,
    ),
    operations=(check_operation(api.check),),
    target_fields=("host", "port"),
    see_also=(SCRIPT_HOST,),
)
