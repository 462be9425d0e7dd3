"""Active Directory integrations configured for tests against the Samba DC and slapd
(support/samba_dc.py, slapd.py), and the check run with the proof that it left no
connection open at the DC."""

from __future__ import annotations

from typing import Any

from xdrconf.core.engine import run_operation
from xdrconf.core.outcome import Outcome
from xdrconf.core.workspace import IntegrationEdit, Workspace

from .samba_dc import SambaDC

PORT_OF = {"ldaps": "ldaps", "starttls": "ldap", "none": "ldap"}


def configure(
    ws: Workspace,
    *,
    servers: str,
    user: str,
    password: str,
    base_dn: str,
    security: str = "ldaps",
    tenant: str = "Acme",
    ca: str | None = None,
    **values: str,
) -> str:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {"servers": servers, "security": security, "username": user, "base_dn": base_dn, **values}
    if ca is not None:
        settings["tls_ca"] = ca
    ws.update_integration(
        tenant, IntegrationEdit("ad", values=settings, secrets={"password": password}, enabled=True)
    )
    return ws.tenant(tenant).id


def configure_dc(
    ws: Workspace,
    dc: SambaDC,
    who: str = "alice",
    *,
    security: str = "ldaps",
    kind: str | None = None,
    form: str = "upn",
    password: str | None = None,
    base_dn: str | None = None,
    servers: str | None = None,
    pin: bool = False,
    **values: str,
) -> str:
    account = dc.admin if who == "Administrator" else dc.users[who]
    user = {"upn": account.upn, "dn": account.dn, "nt": account.nt_name}[form]
    port = getattr(dc.ports, kind or PORT_OF[security])
    if pin:
        values["tls_pin_sha256"] = dc.cert.sha256
    return configure(
        ws,
        servers=servers or f"localhost:{port}",
        user=user,
        password=password or account.password,
        base_dn=base_dn or dc.base_dn,
        security=security,
        ca=None if pin else dc.ca_pem,
        **values,
    )


def check(ws: Workspace, tid: str, dc: SambaDC | None = None) -> list[Outcome]:
    outcomes = run_operation(ws, tid, "ad")
    if dc is not None:
        for kind in ("ldap", "ldaps", "gc", "gcs"):
            assert dc.relay(kind).wait_idle(), f"a connection to {kind} was left open"
    return outcomes


def one(ws: Workspace, tid: str, dc: SambaDC | None = None) -> Outcome:
    [outcome] = check(ws, tid, dc)
    return outcome


def configure_slapd(ws: Workspace, slapd: Any, who: str = "jdoe") -> str:
    """The slapd directory over plain LDAP, bound by the user's DN."""
    user = slapd.users[who]
    return configure(
        ws,
        servers=f"127.0.0.1:{slapd.ldap_port}",
        user=user.dn,
        password=user.password,
        base_dn=slapd.base_dn,
        security="none",
    )
