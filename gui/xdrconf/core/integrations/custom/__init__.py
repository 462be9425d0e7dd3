"""Custom integration: the host that launches third-party scripts, reached over SSH.

The host's key is checked against the pinned public key before any credential leaves this
computer, and the negotiated host-key type is restricted to the pinned key's type so a
server that also has keys of other types is never reported as "wrong"."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from xdrconf.core.i18n import N_, _

from ...catalog import Flag, IntegrationSpec, Page, ValidationContext
from ...engine import Operation, check_operation
from ...errors import ValidationError
from ...fields import Field
from . import ssh
from .keys import parse_private_key_field, parse_public_key_field
from .ssh import DEFAULT_PORT, targets_text

if TYPE_CHECKING:
    from ...tenants import IntegrationState

TITLE = N_("Custom integration")

FIELDS = (
    Field(
        "host",
        N_("IP address or host name"),
        kind="host",
        required=True,
        help=N_("The device on which the third-party scripts are launched."),
        placeholder="scripts.example.invalid",
    ),
    Field(
        "ports",
        N_("Ports"),
        kind="ports",
        required=True,
        default=[DEFAULT_PORT],
        help=N_("SSH port(s), comma-separated; tried in order, the first that accepts is used."),
        placeholder="22",
    ),
    Field(
        "verify_host",
        N_("Verify the host before connecting"),
        kind="bool",
        default=True,
        help=N_(
            "Compare the host's key with the public key below before sending any "
            "credential. Turning this off lets anyone on the network path impersonate the host."
        ),
    ),
    Field(
        "host_public_key",
        N_("Public key"),
        parser=parse_public_key_field,
        required=True,
        visible_when=("verify_host", True),
        multiline=True,
        help=N_(
            "The host's OpenSSH public key line, e.g. the contents of "
            "/etc/ssh/ssh_host_ed25519_key.pub or one line of 'ssh-keyscan HOST' without the "
            "host name."
        ),
        placeholder="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…",
        extra={"format": lambda v: v},
    ),
    Field(
        "auth",
        N_("Authentication method"),
        kind="choice",
        required=True,
        default="password",
        choices=(("password", N_("User name and password")), ("key", N_("SSH key"))),
        help=N_("How xdrconf logs in to the host."),
    ),
    Field(
        "username", N_("User name"), kind="text", required=True, help=N_("The account the scripts run as.")
    ),
    Field(
        "password",
        N_("Password"),
        kind="secret",
        required=True,
        visible_when=("auth", "password"),
        help=N_("Kept only in the OS keyring or the encrypted vault (whichever the settings use)."),
    ),
    Field(
        "private_key",
        N_("Private key"),
        kind="secret_text",
        required=True,
        parser=parse_private_key_field,
        visible_when=("auth", "key"),
        multiline=True,
        help=N_(
            "OpenSSH or PEM format; RSA, ECDSA or Ed25519. Kept only in the OS keyring or the "
            "encrypted vault (whichever the settings use); in the OS keyring, a key longer than it "
            "allows is encrypted to a file whose key stays in the keyring."
        ),
    ),
    Field(
        "key_passphrase",
        N_("Key passphrase"),
        kind="secret",
        visible_when=("auth", "key"),
        help=N_("Only if the private key is encrypted."),
    ),
    Field(
        "test_command",
        N_("Test command"),
        kind="text",
        help=N_(
            "Optional harmless command run after logging in (e.g. 'true'); its exit status "
            "is reported. Leave empty to only log in."
        ),
        placeholder=N_("true"),
    ),
)


def flags(state: IntegrationState, now: _dt.datetime) -> list[Flag]:
    """Verification off is allowed, knowingly; it stays visible on the tenant."""
    if state.settings.get("verify_host", True) is False:
        return [
            Flag(
                "warning",
                _(
                    "Custom integration: the SSH host is not verified (verification "
                    "is off); read or ask for its public key and pin it."
                ),
            )
        ]
    return []


def seen_host_key(state: IntegrationState) -> str | None:
    """The host key an unverified check saw last (to offer pinning it), or None."""
    for result in reversed(state.results):
        details = result.get("details") or {}
        if details.get("seen_host_key") and not details.get("verified", False):
            return str(details["seen_host_key"])
    return None


def validate(settings: dict[str, Any], vctx: ValidationContext) -> None:
    """Completeness of what turning the integration on needs; while it is off, settings can
    be given step by step (e.g. the host first, the credentials in a later command)."""
    if not vctx.enabled:
        return
    if settings.get("verify_host", True) and not settings.get("host_public_key"):
        raise ValidationError(
            _("Public key"),
            _(
                "is required while 'Verify the host before connecting' is on; paste the host's "
                "public key, or turn verification off knowingly (verify_host=false)"
            ),
            field="host_public_key",
        )
    auth = settings.get("auth")
    if auth is None:
        return
    if not settings.get("username"):
        raise ValidationError(_("User name"), _("is required to log in to the host"), field="username")
    if auth == "password" and "password" not in vctx.secrets_present:
        raise ValidationError(
            _("Password"),
            _("is required for 'User name and password' authentication; add it"),
            field="password",
        )
    if auth == "key" and "private_key" not in vctx.secrets_present:
        raise ValidationError(
            _("Private key"), _("is required for 'SSH key' authentication; add it"), field="private_key"
        )


SPEC = IntegrationSpec(
    kind="custom",
    title=TITLE,
    description=N_(
        "The script-launch host: Kaspersky Next XDR Expert runs third-party scripts "
        "on it over SSH when a playbook responds to an alert or incident."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("Remote host verification"),
            N_(
                "The host's public key is compared with the key the host presents before any "
                "credential is sent."
            ),
            ("verify_host", "host_public_key"),
        ),
        Page(
            N_("Remote host connection"),
            N_("Where the script-launch host listens for SSH."),
            ("host", "ports"),
        ),
        Page(
            N_("Authentication"),
            N_(
                "Password, private key and passphrase are kept only in the OS keyring or the "
                "encrypted vault (whichever the settings use)."
            ),
            ("auth", "username", "password", "private_key", "key_passphrase", "test_command"),
        ),
    ),
    operations=(
        check_operation(ssh.check, timeout_steps=5),
        Operation(
            "host-keys",
            N_("Read the host's keys"),
            ssh.host_keys,
            params=(
                Field(
                    "host",
                    N_("Host"),
                    kind="host",
                    required=True,
                    help=N_("The SSH host to read the keys of."),
                ),
                Field(
                    "ports",
                    N_("Ports"),
                    kind="ports",
                    default=[DEFAULT_PORT],
                    help=N_("SSH port(s), comma-separated, tried in order (default 22)."),
                ),
            ),
            description=N_(
                "The host's SSH public keys, one per type, read without logging in (like "
                "ssh-keyscan); compare a fingerprint with the host's administrator before pinning it."
            ),
            columns=(
                ("type", N_("Type")),
                ("fingerprint", N_("SHA256 fingerprint")),
                ("line", N_("Public key")),
            ),
            standalone=True,
            timeout_steps=6,
        ),
    ),
    target=lambda settings: targets_text(
        str(settings.get("host") or ""), list(settings.get("ports") or [DEFAULT_PORT])
    ),
    target_fields=("host", "ports"),
    validate=validate,
    flags=flags,
)
