"""Pieces shared by the integrations: the trust fields and the trust page, and the kind of the
script-launch host that the firewalls' pages refer to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog import Page
from ..fields import Field
from ..i18n import N_, _

if TYPE_CHECKING:
    from ..engine import Cleanup

TLS_CA = Field(
    "tls_ca",
    N_("CA certificate"),
    kind="pem",
    multiline=True,
    help=N_(
        "PEM certificate of the CA that issued the server's certificate (e.g. KUMA's own CA). "
        "Leave empty to use the system's trusted CAs."
    ),
    placeholder="-----BEGIN CERTIFICATE-----",
)
TLS_PIN = Field(
    "tls_pin_sha256",
    N_("Pinned SHA-256 fingerprint"),
    kind="fingerprint",
    help=N_(
        "Trust exactly this server certificate. Use 'Fetch certificate' to read it from the "
        "server and compare it with what the server's administrator tells you."
    ),
    placeholder="AB:CD:…  (64 hex digits)",
)
TRUST_FIELDS = (TLS_CA, TLS_PIN)

# The integrations whose peers are driven by response scripts (the firewalls) name the
# integration of the host those scripts run on: Page(..., see_also=SCRIPT_HOST_KINDS).
SCRIPT_HOST_KINDS = ("custom",)


def trust_page(what: str) -> Page:
    return Page(
        "Server certificate",
        f"How xdrconf trusts the TLS certificate of {what}: the system's CAs by default, a CA "
        "certificate you supply, and/or a pinned fingerprint. Verification is never switched off.",
        ("tls_ca", "tls_pin_sha256"),
    )


def log_out(logout: Cleanup, title: str) -> list[str]:
    """End a peer's session now, the normal way (`logout` from OpContext.always, which runs it
    anyway if the operation fails or is cancelled first): [] when that worked, else the
    warning for the outcome — the check passed, but a session stays open on the peer."""
    try:
        logout.now()
    except Exception as exc:  # noqa: BLE001 - the operation's answer stands; the failure is said
        return [
            _(
                "Logging out of {title} failed ({error}); the session stays open until its idle "
                "timeout ends it."
            ).format(title=title, error=exc)
        ]
    return []
