"""What an operation does with a domain controller once connected: the bind and what AD's
answer means, the rootDSE, the base DN; and the way to the first server that answers
(failover in the order of the setting `servers`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import OperationFailed
from ...fields import format_host_entry, host_entries, host_port
from ...i18n import _
from ...net import Trust
from ...outcome import Category
from .ldap import FAILOVER_STEPS, Entry, Result, Session
from .names import DEFAULT_PORT, GC_PORTS, username_form

if TYPE_CHECKING:
    from ...engine import OpContext

AD_CAPABILITY = "1.2.840.113556.1.4.800"  # LDAP_CAP_ACTIVE_DIRECTORY_OID [doc: MS-ADTS 3.1.1.3.4.3]
ROOT_DSE_ATTRS = [
    "defaultNamingContext",
    "rootDomainNamingContext",
    "namingContexts",
    "dnsHostName",
    "supportedCapabilities",
    "isGlobalCatalogReady",
    "vendorName",
]

# AD's reason for a refused simple bind: "…AcceptSecurityContext error, data 52e, v1db1"
# [doc: public AD references; observed on Samba 4.17, except 525: Samba says 52e].
_DATA = re.compile(r"\bdata ([0-9a-fA-F]{2,8})\b")


def ad_codes() -> dict[str, str]:
    """The analyst's words for each `data` code of a refused bind."""
    return {
        "52e": _(
            "the password is wrong or the account does not exist (AD does not say which, data 52e); "
            "check the user name and enter the password again"
        ),
        "525": _("the account does not exist (data 525); check the user name"),
        "530": _(
            "the account may not log on at this time (logon hours, data 530); allow its logon hours in "
            "Active Directory"
        ),
        "531": _(
            "the account may not log on from this computer (Log On To workstations, data 531); allow it "
            "in Active Directory"
        ),
        "532": _(
            "the account's password has expired (data 532); set a new password in Active Directory "
            "(for a service account also 'Password never expires') and enter it here"
        ),
        "533": _("the account is disabled (data 533); enable it in Active Directory"),
        "701": _("the account has expired (data 701); extend its expiry date in Active Directory"),
        "773": _(
            "the account must change its password at next logon (data 773); set a password for it in "
            "Active Directory without 'must change' and enter it here"
        ),
        "775": _(
            "the account is locked out (data 775), after too many wrong passwords; unlock it in Active "
            "Directory (or wait for the lockout to end) and find what still uses an old password"
        ),
    }


@dataclass(frozen=True)
class Server:
    host: str
    port: int

    @property
    def target(self) -> str:
        return host_port(self.host, self.port)

    @property
    def global_catalog(self) -> bool:
        return self.port in GC_PORTS


def servers_of(settings: dict[str, Any]) -> list[Server]:
    security = str(settings.get("security") or "ldaps")
    default = DEFAULT_PORT.get(security, 636)
    return [Server(h, p or default) for h, p in host_entries(settings.get("servers"))]


def target_of(settings: dict[str, Any]) -> str:
    found = servers_of(settings)
    return found[0].target if found else ""


def timeout_of(ctx: OpContext) -> float:
    value = ctx.settings.get("timeout")
    return float(value) if value else ctx.timeout


def bind_failure(result: Result, target: str, username: str) -> tuple[Category, str] | None:
    """The category and words for a bind that did not succeed, or None when it did."""
    if result.code == 0:
        return None
    if result.code == 49:
        m = _DATA.search(result.message)
        code = m.group(1).lower() if m else ""
        words = ad_codes().get(code)
        if words:
            return Category.AUTH_FAILED, _("{target} refused the bind as {user}: {words}.").format(
                target=target, user=username, words=words
            )
        if code:
            return Category.AUTH_FAILED, _(
                "{target} refused the bind as {user} (invalid credentials, data {code}); check the user "
                "name and the password."
            ).format(target=target, user=username, code=code)
        return Category.AUTH_FAILED, _(
            "{target} refused the bind as {user} (invalid credentials): the password is wrong or no "
            "such account exists; check both."
        ).format(target=target, user=username)
    if result.code in (8, 13):
        return Category.FORBIDDEN, _(
            "The domain controller requires encryption: choose LDAPS or StartTLS ({target} refused a "
            "simple bind without TLS: {said})."
        ).format(target=target, said=result.said)
    if result.code == 34:
        return Category.INVALID_CONFIG, _(
            "{target} does not accept '{user}' as a bind name (invalidDNSyntax): this directory is not "
            "Active Directory; give the account's full DN (e.g. uid=svc-xdr,ou=people,dc=acme,dc=invalid)."
        ).format(target=target, user=username)
    if result.code == 53:
        return Category.AUTH_FAILED, _("{target} is unwilling to accept the bind as {user} ({said}).").format(
            target=target, user=username, said=result.said
        )
    if result.code == 50:
        return Category.FORBIDDEN, _("{target} refused the bind as {user} ({said}).").format(
            target=target, user=username, said=result.said
        )
    if result.code in (51, 52, 80):
        return Category.SERVER_ERROR, _(
            "{target} could not process the bind ({said}); try again later."
        ).format(target=target, said=result.said)
    return Category.PROTOCOL_ERROR, _(
        "{target} answered the bind with {said}, which was not expected."
    ).format(target=target, said=result.said)


@dataclass
class Bound:
    """A session bound as the integration's account, and what the rootDSE says."""

    session: Session
    server: Server
    root: Entry

    @property
    def is_ad(self) -> bool:
        return AD_CAPABILITY in self.root.texts("supportedCapabilities")

    @property
    def default_nc(self) -> str:
        return self.root.text("defaultNamingContext")

    @property
    def dns_host_name(self) -> str:
        return self.root.text("dnsHostName")


def security_words(security: str, port: int) -> str:
    gc = _(" (Global Catalog)") if port in GC_PORTS else ""
    words = {"ldaps": _("LDAPS"), "starttls": _("StartTLS"), "none": _("plain LDAP, not encrypted")}
    return words.get(security, security) + gc


def open_bound(ctx: OpContext, server: Server) -> Bound:
    """Connect, TLS, bind, read the rootDSE; raises OperationFailed. The caller closes the
    returned session (bound.session.close()), also when this raises (see `bound_to`)."""
    s = ctx.settings
    username = str(s.get("username") or "")
    password = ctx.require_secret("password")
    session = Session(
        ctx,
        server.host,
        server.port,
        str(s.get("security") or "ldaps"),
        Trust.from_settings(s),
        timeout_of(ctx),
    )
    ctx.check_stop()
    try:
        session.open()
        failure = bind_failure(session.bind(username, password), server.target, username)
        if failure is not None:
            session.fail(failure[0], failure[1], "bind")
        result, entries = session.search(
            "", "(objectClass=*)", attributes=ROOT_DSE_ATTRS, what=_("the rootDSE read")
        )
        if result.code or not entries:
            session.fail(
                Category.PROTOCOL_ERROR,
                _("{target} did not return its rootDSE ({said}); check that it is an LDAP directory.").format(
                    target=server.target, said=result.said
                ),
                "rootdse",
            )
    except BaseException:
        session.close()
        raise
    return Bound(session, server, entries[0])


@contextmanager
def bound_to(ctx: OpContext, server: Server) -> Iterator[Bound]:
    bound = open_bound(ctx, server)
    try:
        yield bound
    finally:
        bound.session.close()


def first_bound(ctx: OpContext, use: Callable[[Bound, list[str]], Any]) -> Any:
    """use(bound, skipped) on the first server that connects, in the order of `servers`;
    a server that cannot be reached or whose TLS fails is skipped (said in `skipped`),
    the next one tried. A bind refused, or any later answer, is the domain's answer: no
    other server is tried then."""
    servers = servers_of(ctx.settings)
    skipped: list[str] = []
    last: OperationFailed | None = None
    for server in servers:
        try:
            bound = open_bound(ctx, server)
        except OperationFailed as exc:
            if exc.details.get("step") not in FAILOVER_STEPS:
                raise
            last = exc
            skipped.append(str(exc))
            continue
        try:
            return use(bound, skipped)
        finally:
            bound.session.close()
    assert last is not None
    if len(servers) > 1:
        raise OperationFailed(
            last.category,
            _("No server of {servers} could be used: {reasons}").format(
                servers=", ".join(format_host_entry(x.host, x.port) for x in servers),
                reasons=" ".join(skipped),
            ),
            details=dict(last.details),
        )
    raise last


def who_filter(username: str) -> tuple[str, str] | None:
    """How to find the bound account's own entry: (base DN or '' for the search base, filter);
    None for a DN (read directly)."""
    from .names import escape_filter

    form = username_form(username)
    if form == "dn":
        return None
    if form == "nt":
        return "", f"(&(objectClass=user)(sAMAccountName={escape_filter(username.partition(chr(92))[2])}))"
    return "", f"(&(objectClass=user)(userPrincipalName={escape_filter(username)}))"
