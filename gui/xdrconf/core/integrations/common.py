"""Pieces shared by the HTTP integrations: the trust fields and the trust page."""

from __future__ import annotations

from ..catalog import Page
from ..fields import Field

TLS_CA = Field(
    "tls_ca",
    "CA certificate",
    kind="pem",
    multiline=True,
    help="PEM certificate of the CA that issued the server's certificate (e.g. KUMA's own CA). "
    "Leave empty to use the system's trusted CAs.",
    placeholder="-----BEGIN CERTIFICATE-----",
)
TLS_PIN = Field(
    "tls_pin_sha256",
    "Pinned SHA-256 fingerprint",
    kind="fingerprint",
    help="Trust exactly this server certificate. Use 'Fetch certificate' to read it from the "
    "server and compare it with what the server's administrator tells you.",
    placeholder="AB:CD:…  (64 hex digits)",
)
TRUST_FIELDS = (TLS_CA, TLS_PIN)


def trust_page(what: str) -> Page:
    return Page(
        "Server certificate",
        f"How xdrconf trusts the TLS certificate of {what}: the system's CAs by default, a CA "
        "certificate you supply, and/or a pinned fingerprint. Verification is never switched off.",
        ("tls_ca", "tls_pin_sha256"),
    )
