"""Active Directory: the tenant's LDAP connection to its domain controllers, as KUMA has it
(Settings → LDAP server; wire facts in shared/INTEGRATIONS.md), checked per server, with the
rights XDR's response actions need (lock an account, reset a password, add a user to a
security group), and `find-user` to look an account up before acting on it.

- names.py: DNs, bind names, default ports, filter escaping (no network);
- ldap.py: one connection (TCP, TLS, bind, searches) on sockets of xdrconf's own;
- directory.py: the bind's meaning, the rootDSE, failover to the next server;
- rights.py and sd.py: effective rights and security descriptors;
- users.py: find-user."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ...catalog import IntegrationSpec, Page, ValidationContext
from ...engine import Operation, check_operation
from ...errors import OperationFailed, ValidationError
from ...fields import Field, host_entries
from ...i18n import N_, _
from ...outcome import Category, Outcome
from ..common import TRUST_FIELDS
from .names import DEFAULT_PORT, parse_dn, parse_username

if TYPE_CHECKING:
    from ...engine import OpContext
    from ...net import CertInfo

KIND = "ad"
TITLE = N_("Active Directory")
# Each server: connect, TLS, bind, rootDSE, base DN, own account (2), users, groups.
STEPS = 9

FIELDS = (
    Field(
        "servers",
        N_("Domain controllers"),
        kind="hosts",
        required=True,
        help=N_(
            "One or more host or host:port of the domain's controllers, tried in this order (KUMA's URL "
            "field). IPv6 in brackets: [::1]:636. Without a port: 636 for LDAPS, 389 for StartTLS "
            "and plain LDAP; the Global Catalog answers on 3269 (LDAPS) and 3268."
        ),
        placeholder="dc1.acme.invalid",
    ),
    Field(
        "security",
        N_("Connection security"),
        kind="choice",
        required=True,
        default="ldaps",
        choices=(
            ("ldaps", N_("LDAPS (TLS from the first byte; port 636)")),
            ("starttls", N_("StartTLS (port 389; dropped if STARTTLS fails)")),
            ("none", N_("None: plain LDAP, not encrypted (not recommended)")),
        ),
        help=N_(
            "How the connection is encrypted. Without encryption the password crosses the network in "
            "clear text, and domain controllers refuse such binds by default."
        ),
    ),
    Field(
        "base_dn",
        N_("Base DN"),
        required=True,
        parser=parse_dn,
        help=N_(
            "Where XDR looks for accounts and groups, e.g. DC=acme,DC=invalid or an OU under it. The "
            "check offers the domain's own when this one does not exist."
        ),
        placeholder="DC=acme,DC=invalid",
    ),
    Field(
        "username",
        N_("Account"),
        required=True,
        parser=parse_username,
        help=N_(
            "The account XDR binds as: user@domain (UPN), DOMAIN\\user, or its DN. It needs the rights to "
            "lock accounts, reset passwords and change the membership of the groups XDR uses."
        ),
        placeholder="svc-xdr@acme.invalid",
    ),
    Field(
        "password",
        N_("Password"),
        kind="secret",
        required=True,
        help=N_("The account's password; kept in the OS keyring (or the vault) only."),
    ),
    Field(
        "timeout",
        N_("Timeout per server"),
        kind="int",
        minimum=1,
        maximum=120,
        help=N_(
            "Seconds to wait for each server at each step before the next server is tried; empty: the "
            "application's timeout."
        ),
        placeholder=N_("the application's timeout"),
    ),
    *TRUST_FIELDS,
)


def validate(settings: dict[str, Any], vctx: ValidationContext) -> None:
    from .ldap import port_hint

    security = settings.get("security") or "ldaps"
    for host, port in host_entries(settings.get("servers")):
        hint = port_hint(security, port or DEFAULT_PORT[security])
        if hint:
            raise ValidationError(_("Domain controllers"), f"{host}: {hint}", field="servers")


# ---- the check --------------------------------------------------------------------------------
def check_server(ctx: OpContext, server: Any) -> Outcome:
    from .directory import bound_to, security_words
    from .rights import YES, read_rights

    s = ctx.settings
    base = str(s["base_dn"])
    username = str(s["username"])
    security = str(s.get("security") or "ldaps")
    with bound_to(ctx, server) as bound:
        session = bound.session
        result, entries = session.search(
            base,
            "(objectClass=*)",
            attributes=["objectClass"],
            size_limit=1,
            what=_("the search of the base DN"),
        )
        offered = bound.default_nc or next(iter(bound.root.texts("namingContexts")), "")
        if result.code == 32:
            offer = (
                _(
                    " The domain's naming context (defaultNamingContext) is {dn}: use it, or an OU under it."
                ).format(dn=offered)
                if offered
                else ""
            )
            session.fail(
                Category.INVALID_CONFIG,
                _("The base DN {base} does not exist on {target}.").format(base=base, target=server.target)
                + offer,
                "base_dn",
                default_naming_context=offered,
            )
        if result.code == 10:
            session.fail(
                Category.INVALID_CONFIG,
                _(
                    "The base DN {base} is not in the domain of {target} (it refers to {referral}); use a "
                    "domain controller of that domain, or the Global Catalog port (3269 or 3268)."
                ).format(
                    base=base, target=server.target, referral=", ".join(result.referrals) or result.matched
                ),
                "base_dn",
            )
        if result.code or not entries:
            session.fail(
                Category.FORBIDDEN if result.code in (0, 50) else Category.PROTOCOL_ERROR,
                _("{target} did not let {user} read the base DN {base} ({said}).").format(
                    target=server.target, user=username, base=base, said=result.said
                ),
                "base_dn",
            )
        rights = read_rights(bound, base, username)
        name = bound.dns_host_name or server.target
        where = name if name == server.target else f"{name} ({server.target})"
        message = _(
            "Connected to {where} over {security} as {user}; the base DN {base} exists. "
            "Response actions: {rights}."
        ).format(
            where=where,
            security=security_words(security, server.port),
            user=username,
            base=base,
            rights="; ".join(r.text for r in rights),
        )
        warnings = [r.warning for r in rights if r.state != YES and r.warning]
        if security == "none":
            warnings.insert(
                0,
                _(
                    "The connection is not encrypted: the password and the directory's answers cross the "
                    "network in clear text. Choose LDAPS or StartTLS."
                ),
            )
        return Outcome(
            Category.OK,
            message,
            server.target,
            details={
                "server": server.target,
                "security": security,
                "tls": session.tls_version,
                "dns_host_name": bound.dns_host_name,
                "global_catalog": server.global_catalog,
                "active_directory": bound.is_ad,
                "rights": {r.action: r.state for r in rights},
            },
            warnings=warnings,
        )


def _one(ctx: OpContext, server: Any) -> Outcome:
    """The outcome of one server, with the time its check took."""
    started = time.monotonic()
    try:
        outcome = check_server(ctx, server)
    except OperationFailed as exc:
        keep = {k: v for k, v in exc.details.items() if k in ("step", "default_naming_context")}
        outcome = Outcome(exc.category, str(exc), server.target, details={"server": server.target, **keep})
    outcome.latency_ms = (time.monotonic() - started) * 1000
    return outcome


def check(ctx: OpContext) -> list[Outcome]:
    """One outcome per server, in the order of the setting, checked at the same time."""
    from .directory import servers_of, timeout_of

    servers = servers_of(ctx.settings)
    _allow_per_server_timeout(ctx, timeout_of(ctx))
    return ctx.each(servers, lambda server: _one(ctx, server), target_of=lambda server: server.target)


def find_user(ctx: OpContext) -> list[Outcome]:
    from .directory import servers_of, timeout_of
    from .users import find_user as run

    _allow_per_server_timeout(ctx, timeout_of(ctx) * max(1, len(servers_of(ctx.settings))))
    return run(ctx)


def rights(ctx: OpContext) -> list[Outcome]:
    from .directory import servers_of, timeout_of
    from .rights import rights as run

    _allow_per_server_timeout(ctx, timeout_of(ctx) * max(1, len(servers_of(ctx.settings))))
    return run(ctx)


def _allow_per_server_timeout(ctx: OpContext, seconds: float) -> None:
    """The watchdog's budget covers one step of the integration's own timeout per server
    (it may be longer than the application's); every step renews it."""
    ctx.budget = max(ctx.budget, seconds * 2 + 1.0)
    ctx.renew()


def target_of(settings: dict[str, Any]) -> str:
    from .directory import target_of as first

    return first(settings)


def cert_targets(settings: dict[str, Any]) -> list[tuple[str, int]]:
    from .directory import servers_of

    return [(s.host, s.port) for s in servers_of(settings)]


def fetch_certificate(settings: dict[str, Any], host: str, port: int, timeout: float) -> CertInfo:
    from .certs import fetch_certificate as fetch

    return fetch(settings, host, port, timeout)


SPEC = IntegrationSpec(
    kind=KIND,
    title=TITLE,
    description=N_(
        "The tenant's LDAP connection to its Active Directory (in KUMA: Settings → LDAP server): XDR reads "
        "accounts through it and uses it for response actions — lock an account, reset a password, add a "
        "user to a security group."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("Active Directory — domain controllers"),
            N_(
                "XDR reads accounts through this connection and uses it to lock accounts, reset passwords "
                "and add users to security groups. Enter the domain's controllers in the order to try them."
            ),
            ("servers", "security", "timeout"),
        ),
        Page(
            N_("Active Directory — account and base DN"),
            N_(
                "The account XDR binds as and where it looks for accounts. The check says which of the three "
                "response actions this account may perform; nothing is changed by it."
            ),
            ("username", "password", "base_dn"),
        ),
        Page(
            N_("Server certificate"),
            N_(
                "How xdrconf trusts the TLS certificates of the domain controllers (usually issued by the "
                "domain's own CA): the system's CAs by default, a CA certificate you supply, and/or a pinned "
                "fingerprint. Verification is never switched off."
            ),
            ("tls_ca", "tls_pin_sha256"),
        ),
    ),
    operations=(
        check_operation(check, timeout_steps=STEPS),
        Operation(
            "find-user",
            N_("Find a user"),
            find_user,
            params=(
                Field(
                    "name",
                    N_("Account"),
                    required=True,
                    help=N_("sAMAccountName, user@domain (UPN), DOMAIN\\name or the account's DN."),
                    placeholder="alice@acme.invalid",
                ),
            ),
            description=N_(
                "Look an account up under the base DN: its DN, display name, state (enabled, locked out, "
                "password expired or to be changed, account expiry) and groups."
            ),
            timeout_steps=STEPS,
            columns=(
                ("account", N_("Account")),
                ("name", N_("Display name")),
                ("state", N_("State")),
                ("groups", N_("Groups")),
                ("dn", N_("DN")),
            ),
        ),
        Operation(
            "rights",
            N_("Rights for the response actions"),
            rights,
            params=(
                Field(
                    "account",
                    N_("On the account"),
                    help=N_(
                        "The account to lock or whose password to reset (sAMAccountName, user@domain or DN); "
                        "empty: the accounts under the base DN."
                    ),
                    placeholder="alice@acme.invalid",
                ),
                Field(
                    "group",
                    N_("To the group"),
                    help=N_(
                        "The security group to add users to (its name or DN), e.g. a quarantine group; "
                        "empty: the security groups under the base DN."
                    ),
                    placeholder=N_("Quarantine"),
                ),
            ),
            description=N_(
                "May this connection's account lock the account, reset its password and add users to the "
                "group? Read from what the domain controller reports (effective rights, the Reset Password "
                "right in the account's DACL); nothing is changed."
            ),
            timeout_steps=STEPS,
            columns=(
                ("action", N_("Response action")),
                ("object", N_("Account or group")),
                ("answer", N_("Allowed")),
                ("why", N_("Why")),
            ),
        ),
    ),
    target=target_of,
    # Where the password goes: the servers, and whether it is encrypted on the way.
    target_fields=("servers", "security"),
    validate=validate,
    cert_target=cert_targets,
    fetch_certificate=fetch_certificate,
)
