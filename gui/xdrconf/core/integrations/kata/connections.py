"""KATA/KEDR connections: each one an external-system identity (an XDR ID, a private key
and a self-signed client certificate) and where the KATA server listens. Pure steps on a
list of connections (the wizard applies them to its draft) and the same steps saved at
once through the workspace (command line, main window)."""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdrconf.core.i18n import N_, _

from ...engine import record_check
from ...errors import NotFoundError, ValidationError
from ...fields import host_for_url, host_port, parse_host, parse_port
from ...net import describe_certificate
from ...outcome import Category, Outcome
from . import certs as kata_certs

if TYPE_CHECKING:
    from ...tenants import IntegrationState, Tenant
    from ...workspace import Workspace

KIND = "kata"
DEFAULT_PORT = 443
EXPIRY_WARNING_DAYS = 30
CONNECTIONS = "connections"
HOST_LABEL = N_("IP address or host name")
PORT_LABEL = "Port"

# The probe's API: KATA's scanner API (documented to answer 401 while a request is
# pending) or the KEDR response API. {id} is the XDR ID.
API_PATHS = {
    "scanner": "/kata/scanner/v1/sensors/{id}/scans/filters",
    "kedr": "/kata/response_api/v1/{id}/sensors",
}


def secret_name(xdr_id: str) -> str:
    return f"key:{xdr_id}"


def connections(state: Any) -> list[dict[str, Any]]:
    """The stored connections (copies) of an IntegrationState, or [] when there is none."""
    return [] if state is None else connections_from_settings(state.settings)


def connections_from_settings(settings: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(c) for c in settings.get(CONNECTIONS) or [] if isinstance(c, dict)]


def target_of(conn: dict[str, Any]) -> str:
    return host_port(str(conn.get("host", "")), int(conn.get("port") or DEFAULT_PORT))


def probe_url(conn: dict[str, Any], api: str = "scanner") -> str:
    path = API_PATHS.get(api, API_PATHS["scanner"]).format(id=conn["id"])
    return f"https://{host_for_url(conn['host'])}:{conn['port']}{path}"


def expires(conn: dict[str, Any]) -> _dt.datetime | None:
    text = conn.get("not_after")
    if not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def find(state: Any, ref: str) -> dict[str, Any]:
    """A connection by XDR ID or HOST:PORT (IPv6 as [addr]:port)."""
    return find_in(connections(state), ref)


def find_in(items: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    wanted = ref.strip()
    for conn in items:
        if conn.get("id", "").lower() == wanted.lower():
            return conn
    for conn in items:
        if target_of(conn) == wanted or target_of(conn) == _normalise_target(wanted):
            return conn
    known = ", ".join(f"{c['id']} ({target_of(c)})" for c in items) or _("none")
    raise NotFoundError(
        _("No KATA connection '{ref}'; give an XDR ID or HOST:PORT (connections: {known}).").format(
            ref=ref, known=known
        )
    )


def _normalise_target(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep:
        return text
    try:
        return host_port(parse_host(host), parse_port(port))
    except ValidationError:
        return text


@dataclass(frozen=True)
class Status:
    category: str
    message: str
    checked_at: str

    @property
    def ok(self) -> bool:
        return self.category == Category.OK.value


def status_of(state: Any, conn: dict[str, Any]) -> Status | None:
    """The last check result of a connection: the newer of the workspace's last results
    and the status kept inside the connection (which survives edits of other connections)."""
    best: dict[str, Any] | None = conn.get("status") if isinstance(conn.get("status"), dict) else None
    for r in state.results if state is not None else []:
        if r.get("connection") == conn.get("id") and (
            best is None or str(r.get("checked_at", "")) >= str(best.get("checked_at", ""))
        ):
            best = r
    if not best:
        return None
    return Status(
        str(best.get("category", "")), str(best.get("message", "")), str(best.get("checked_at", ""))
    )


def _with_statuses(state: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for conn in items:
        st = status_of(state, conn)
        if st is not None:
            conn["status"] = {"category": st.category, "message": st.message, "checked_at": st.checked_at}
    return items


def _validate_target(host: str, port: Any) -> tuple[str, int]:
    return parse_host(str(host), HOST_LABEL), parse_port(
        str(port if port not in (None, "") else DEFAULT_PORT), PORT_LABEL
    )


def _refuse_duplicate(items: list[dict[str, Any]], host: str, port: int, skip: str = "") -> None:
    for conn in items:
        if conn["id"] != skip and conn.get("host") == host and int(conn.get("port", 0)) == port:
            raise ValidationError(
                HOST_LABEL,
                _("there is already a connection to {host_port} (XDR ID {id})").format(
                    host_port=host_port(host, port), id=conn["id"]
                ),
            )


def validate_target(items: list[dict[str, Any]], host: str, port: Any, skip: str = "") -> tuple[str, int]:
    """The canonical host and port typed for a connection, or ValidationError naming the
    field (bad host, bad port, or a second connection to the same place)."""
    host_v, port_v = _validate_target(host, port)
    _refuse_duplicate(items, host_v, port_v, skip)
    return host_v, port_v


def _identity_fields(ident: kata_certs.Identity) -> dict[str, Any]:
    return {
        "key_type": ident.key_type,
        "cert_pem": ident.cert_pem,
        "fingerprint": ident.sha256,
        "not_before": ident.not_before.isoformat(),
        "not_after": ident.not_after.isoformat(),
    }


def _save(
    ws: Workspace,
    tenant_ref: str,
    items: list[dict[str, Any]],
    secrets: dict[str, str | None],
    *,
    keep_secrets: bool = False,
) -> None:
    from ...workspace import IntegrationEdit

    ws.update_integration(
        tenant_ref,
        IntegrationEdit(KIND, structured={CONNECTIONS: items}, secrets=secrets, keep_secrets=keep_secrets),
    )


def _state(ws: Workspace, tenant_ref: str) -> tuple[Tenant, IntegrationState | None]:
    tenant = ws.tenant(tenant_ref)
    return tenant, tenant.integrations.get(KIND)


# Pure steps on a list of connections: the wizard applies them to its draft (saved at
# Finish), the functions below them save at once (command line, main window).
def new_connection(
    items: list[dict[str, Any]],
    host: str,
    port: Any = DEFAULT_PORT,
    key_type: str = kata_certs.DEFAULT_KEY_TYPE,
    *,
    days: int = kata_certs.DEFAULT_DAYS,
) -> tuple[dict[str, Any], str]:
    """Validate the address, generate an XDR ID, a key and a certificate. Returns the
    connection and the private key PEM (a secret). Slow for RSA: not on the GUI thread."""
    host_v, port_v = validate_target(items, host, port)
    key_type = kata_certs.parse_key_type(key_type)
    xdr_id = str(uuid.uuid4())
    ident = kata_certs.generate(xdr_id, key_type, days=days)
    conn = {
        "id": xdr_id,
        "host": host_v,
        "port": port_v,
        **_identity_fields(ident),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "status": None,
    }
    return conn, ident.key_pem


def moved(
    items: list[dict[str, Any]], ref: str, host: str | None = None, port: Any = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The list with one connection pointed at another host or port (same identity)."""
    conn = find_in(items, ref)
    host_v, port_v = validate_target(
        items,
        host if host is not None else conn["host"],
        port if port not in (None, "") else conn["port"],
        skip=conn["id"],
    )
    out = [dict(c) for c in items]
    for item in out:
        if item["id"] == conn["id"]:
            if (item["host"], item["port"]) != (host_v, port_v):
                item["status"] = None
            item["host"], item["port"] = host_v, port_v
            conn = item
    return out, conn


def regenerated(
    items: list[dict[str, Any]], ref: str, key_type: str | None = None, *, days: int = kata_certs.DEFAULT_DAYS
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """The list with a new key and certificate for one connection (same XDR ID), and
    that key's PEM. Slow for RSA: not on the GUI thread."""
    conn = find_in(items, ref)
    ident = kata_certs.generate(
        conn["id"], key_type or conn.get("key_type") or kata_certs.DEFAULT_KEY_TYPE, days=days
    )
    out = [dict(c) for c in items]
    for item in out:
        if item["id"] == conn["id"]:
            item.update(_identity_fields(ident))
            item["status"] = None
            conn = item
    return out, conn, ident.key_pem


def add_connection(
    ws: Workspace,
    tenant_ref: str,
    host: str,
    port: Any = DEFAULT_PORT,
    key_type: str = kata_certs.DEFAULT_KEY_TYPE,
    *,
    days: int = kata_certs.DEFAULT_DAYS,
) -> dict[str, Any]:
    """new_connection, saved: the key goes to the keyring in the same transaction."""
    tenant, state = _state(ws, tenant_ref)
    items = _with_statuses(state, connections(state))
    conn, key_pem = new_connection(items, host, port, key_type, days=days)
    _save(ws, tenant.id, [*items, conn], {secret_name(conn["id"]): key_pem})
    return conn


def edit_connection(
    ws: Workspace,
    tenant_ref: str,
    ref: str,
    *,
    host: str | None = None,
    port: Any = None,
    keep_secrets: bool = False,
) -> dict[str, Any]:
    """Change where a connection goes; its XDR ID, key and certificate stay. Its private key
    goes to the new place only when keep_secrets says the user confirmed it (otherwise
    SecretsWouldFollow, nothing saved; core.targets)."""
    tenant, state = _state(ws, tenant_ref)
    items, conn = moved(_with_statuses(state, connections(state)), ref, host, port)
    _save(ws, tenant.id, items, {}, keep_secrets=keep_secrets)
    return conn


def remove_connection(ws: Workspace, tenant_ref: str, ref: str) -> dict[str, Any]:
    """Remove a connection and delete its key (both parts) after the settings are saved."""
    tenant, state = _state(ws, tenant_ref)
    conn = find(state, ref)
    items = [c for c in _with_statuses(state, connections(state)) if c["id"] != conn["id"]]
    _save(ws, tenant.id, items, {secret_name(conn["id"]): None})
    return conn


def regenerate(
    ws: Workspace,
    tenant_ref: str,
    ref: str,
    key_type: str | None = None,
    *,
    days: int = kata_certs.DEFAULT_DAYS,
) -> dict[str, Any]:
    """A new key and certificate for the same XDR ID; the old key is deleted. The KATA
    administrator has to accept the connection again."""
    tenant, state = _state(ws, tenant_ref)
    items, conn, key_pem = regenerated(_with_statuses(state, connections(state)), ref, key_type, days=days)
    _save(ws, tenant.id, items, {secret_name(conn["id"]): key_pem})
    return conn


def private_key(ws: Workspace, tenant_ref: str, ref: str) -> str | None:
    """The connection's private key from the keyring (for an explicit Reveal only)."""
    tenant, state = _state(ws, tenant_ref)
    conn = find(state, ref)
    return ws.secret(tenant, KIND, secret_name(conn["id"]))


def export_certificate(conn: dict[str, Any], *, der: bool = False) -> bytes:
    if der:
        return kata_certs.certificate_der(conn["cert_pem"])
    return conn["cert_pem"].encode()


def certificate_lines(conn: dict[str, Any]) -> list[str]:
    """Subject, issuer, validity and fingerprint, as shown to the user."""
    return describe_certificate(kata_certs.certificate_der(conn["cert_pem"])).lines()


def record_results(ws: Workspace, tenant_ref: str, results: list[Outcome]) -> None:
    """Keep the results of a check of some connections without losing the others'."""
    record_check(ws, tenant_ref, KIND, results)


def malformed(conn: dict[str, Any]) -> str:
    for key in ("id", "host", "port", "cert_pem"):
        if not conn.get(key):
            return _("A KATA connection lacks its '{key}'; remove it and add it again.").format(key=key)
    return ""
