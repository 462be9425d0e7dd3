"""Ideco NGFW and Ideco UTM: one product (called Ideco UTM up to version 15, Ideco NGFW from
16), so one package serves both kinds (SPECS); they differ in the login form only (UTM also
sends "recaptcha"). The response scripts on the script-launch host log in to the box's web
API and block addresses; the check, read-only, logs in, reads the firewall status and logs
out — always, also when a step fails or the check is cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...catalog import IntegrationSpec, Page
from ...engine import check_operation
from ...fields import Field
from ...i18n import N_
from ..common import SCRIPT_HOST, TRUST_FIELDS
from . import api
from .api import Variant

if TYPE_CHECKING:
    from ...engine import OpContext
    from ...outcome import Outcome

DEFAULT_PORT = 8443

FIELDS = (
    Field(
        "host",
        N_("Ideco host"),
        kind="host",
        required=True,
        help=N_("Host name or IP address of the Ideco box's web interface, e.g. ideco.example.invalid."),
        placeholder="ideco.example.invalid",
    ),
    Field(
        "port",
        N_("Port"),
        kind="port",
        required=True,
        default=DEFAULT_PORT,
        help=N_("Port of the web interface and its API (8443 by default)."),
    ),
    Field(
        "username",
        N_("Login"),
        required=True,
        help=N_(
            "The administrator the response scripts log in as: admin, or name@domain for an Active "
            "Directory administrator, name@radius for a RADIUS one."
        ),
    ),
    Field(
        "password",
        N_("Password"),
        kind="secret",
        required=True,
        help=N_("The administrator's password. Kept in the secret store only."),
    ),
    *TRUST_FIELDS,
)

NGFW = Variant("ideco-ngfw", "Ideco NGFW", (), "Ideco UTM")
UTM = Variant("ideco-utm", "Ideco UTM", (("recaptcha", ""),), "Ideco NGFW")


def check_ngfw(ctx: OpContext) -> list[Outcome]:
    return api.check(ctx, NGFW)


def check_utm(ctx: OpContext) -> list[Outcome]:
    return api.check(ctx, UTM)


CHECK = N_("Log in, read the firewall status and log out again (read-only).")
WHERE = N_("Where the box's web interface and its API listen (HTTPS, port 8443).")
ACCOUNT = N_("The administrator the scripts log in as; the password is kept in the secret store.")
TRUST = N_("How xdrconf trusts the box's TLS certificate; verification is never off.")
CERTIFICATE = N_(
    "Ideco makes a self-signed certificate at its first start: pin its SHA-256 fingerprint (Fetch "
    "certificate, then compare it with the web interface's), or give the CA that issued the "
    "certificate installed since."
)


def _spec(
    variant: Variant,
    check: Callable[[OpContext], list[Outcome]],
    description: str,
    titles: tuple[str, str, str],
    about: str,
) -> IntegrationSpec:
    """One kind's spec; the texts are whole sentences of their own (for the translators)."""
    return IntegrationSpec(
        kind=variant.kind,
        title=variant.title,
        description=description,
        fields=FIELDS,
        see_also=(SCRIPT_HOST,),
        pages=(
            Page(titles[0], WHERE, ("host", "port"), about=about),
            Page(titles[1], ACCOUNT, ("username", "password")),
            Page(titles[2], TRUST, ("tls_ca", "tls_pin_sha256"), about=CERTIFICATE),
        ),
        operations=(check_operation(check, description=CHECK),),
        target_fields=("host", "port"),
    )


SPECS = {
    NGFW.kind: _spec(
        NGFW,
        check_ngfw,
        N_(
            "Ideco NGFW (version 16 and later): Kaspersky Next XDR Expert blocks IP addresses, hosts "
            "and URLs on it through response scripts that run on the script-launch host (the custom "
            "integration) and log in to its web API with this account."
        ),
        (N_("Ideco NGFW — web API"), N_("Ideco NGFW — API account"), N_("Ideco NGFW — server certificate")),
        N_(
            "Kaspersky Next XDR Expert blocks IP addresses, hosts and URLs on Ideco NGFW through "
            "response scripts that run on the script-launch host (the tenant's custom integration): "
            "they log in to the box's web API and add addresses to its lists and rules. The check "
            "logs in, reads the firewall status and logs out again; it changes nothing. Up to "
            "version 15 the product is Ideco UTM."
        ),
    ),
    UTM.kind: _spec(
        UTM,
        check_utm,
        N_(
            "Ideco UTM (up to version 15): Kaspersky Next XDR Expert blocks IP addresses, hosts and "
            "URLs on it through response scripts that run on the script-launch host (the custom "
            "integration) and log in to its web API with this account."
        ),
        (N_("Ideco UTM — web API"), N_("Ideco UTM — API account"), N_("Ideco UTM — server certificate")),
        N_(
            "Kaspersky Next XDR Expert blocks IP addresses, hosts and URLs on Ideco UTM through "
            "response scripts that run on the script-launch host (the tenant's custom integration): "
            "they log in to the box's web API and add addresses to its lists and rules. The check "
            "logs in, reads the firewall status and logs out again; it changes nothing. From "
            "version 16 the product is Ideco NGFW."
        ),
    ),
}
