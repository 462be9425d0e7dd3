"""KATA/KEDR: mutual-TLS connections to Kaspersky Anti Targeted Attack Platform Central
Nodes. Wire facts: shared/INTEGRATIONS.md.

Each connection is one external-system identity: an XDR ID (a UUID we pick), a private key
and a self-signed client certificate, and the KATA server's host and port. The first
request carrying the ID creates a pending request in KATA (External systems) showing the
certificate's SHA-256 fingerprint; until the KATA administrator accepts it, KATA answers
401. A new certificate must be accepted again.

Storage:
- The connections are a structured setting (``settings["connections"]``, a list of dicts
  with id, host, port, key_type, cert_pem, fingerprint, not_before, not_after, created and
  the last status). They hold no secret and are exported as they are.
- Each private key is a secret named ``key:<XDR ID>``, stored through the workspace's
  SecretStore. An RSA key in PEM (1.7 kB for RSA-2048, 2.4 kB for RSA-3072) does not fit
  Windows Credential Manager, which holds at most 2,560 bytes per secret as UTF-16. The
  SecretStore keeps any value longer than 1,000 characters encrypted with AES-256-GCM
  under a fresh random key in ``secrets/<ref>.bin`` and puts only that 44-character key in
  the keyring; a P-256 key (241 characters) goes into the keyring directly. Removing a
  connection or its tenant deletes both parts (tests/test_kata_secrets.py proves this
  against a keyring that enforces the 2,560-byte limit).
- Every change is one workspace transaction (new key stored first, settings saved, the
  replaced key deleted last), so a failure leaves the previous identity in force."""

from __future__ import annotations

import datetime as _dt
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import Flag, IntegrationSpec, Page, ValidationContext
from ..checks import CheckContext, failure
from ..errors import NotFoundError, ValidationError
from ..fields import Field, format_fingerprint, host_for_url, host_port, parse_host, parse_port
from ..net import ClientCert, classify_status, describe_certificate, error_message_of
from ..outcome import Category, CheckResult
from . import kata_certs
from .common import TRUST_FIELDS, trust_page

if TYPE_CHECKING:
    from ..tenants import IntegrationState, Tenant
    from ..workspace import Workspace

KIND = "kata"
DEFAULT_PORT = 443
EXPIRY_WARNING_DAYS = 30
CONNECTIONS = "connections"
HOST_LABEL = "IP address or host name"
PORT_LABEL = "Port"

# The probe's API: KATA's scanner API (documented to answer 401 while a request is
# pending) or the KEDR response API. {id} is the XDR ID.
API_PATHS = {
    "scanner": "/kata/scanner/v1/sensors/{id}/scans/filters",
    "kedr": "/kata/response_api/v1/{id}/sensors",
}

FIELDS = (
    Field(
        "api",
        "API used by the check",
        kind="choice",
        required=True,
        default="scanner",
        choices=(
            ("scanner", "KATA scanner API (…/scans/filters)"),
            ("kedr", "KEDR response API (…/sensors)"),
        ),
        help="Which KATA API 'Check connection' calls. Both need the connection to be "
        "accepted in KATA (Settings → External systems).",
    ),
    *TRUST_FIELDS,
)


def secret_name(xdr_id: str) -> str:
    return f"key:{xdr_id}"


# ---- connections --------------------------------------------------------------------------
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
    known = ", ".join(f"{c['id']} ({target_of(c)})" for c in items) or "none"
    raise NotFoundError(f"No KATA connection '{ref}'; give an XDR ID or HOST:PORT (connections: {known}).")


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
                HOST_LABEL, f"there is already a connection to {host_port(host, port)} (XDR ID {conn['id']})"
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
    ws: Workspace, tenant_ref: str, items: list[dict[str, Any]], secrets: dict[str, str | None]
) -> None:
    from ..workspace import IntegrationEdit

    ws.update_integration(tenant_ref, IntegrationEdit(KIND, structured={CONNECTIONS: items}, secrets=secrets))


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
    ws: Workspace, tenant_ref: str, ref: str, *, host: str | None = None, port: Any = None
) -> dict[str, Any]:
    """Change where a connection goes; its XDR ID, key and certificate stay."""
    tenant, state = _state(ws, tenant_ref)
    items, conn = moved(_with_statuses(state, connections(state)), ref, host, port)
    _save(ws, tenant.id, items, {})
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


def record_results(ws: Workspace, tenant_ref: str, results: list[CheckResult]) -> None:
    """Keep the results of a check of some connections without losing the others'."""
    tenant, state = _state(ws, tenant_ref)
    if state is None:
        return
    checked = {r.connection for r in results}
    kept = [r for r in state.results if r.get("connection") and r.get("connection") not in checked]
    ws.record_results({(tenant.id, KIND): kept + [r.to_dict() for r in results]})


# ---- check ----------------------------------------------------------------------------------
def _check_one(ctx: CheckContext, conn: dict[str, Any]) -> CheckResult:
    where = target_of(conn)
    fp = format_fingerprint(conn.get("fingerprint", ""))
    api = ctx.settings.get("api") or "scanner"

    def result(category: Category, message: str, latency: float | None = None, **details: Any) -> CheckResult:
        return CheckResult(
            category,
            message,
            where,
            latency,
            connection=conn["id"],
            details={"xdr_id": conn["id"], "fingerprint": conn.get("fingerprint", ""), **details},
        )

    key_pem = ctx.secret(secret_name(conn["id"]))
    if not key_pem:
        return result(
            Category.MISSING_SECRET,
            f"The private key of the KATA connection {where} is not stored here (e.g. after an "
            "import); generate a new certificate and key, then have KATA accept it.",
        )
    try:
        matches = kata_certs.key_matches(conn["cert_pem"], key_pem)
    except (ValueError, TypeError):
        matches = False
    if not matches:
        return result(
            Category.INVALID_CONFIG,
            f"The private key stored for the KATA connection {where} does not belong to its "
            "certificate (or cannot be read); generate a new certificate and key, then have "
            "KATA accept it.",
        )
    started = time.monotonic()
    try:
        client_cert = ClientCert(conn["cert_pem"], key_pem)
        with ctx.client(conn["host"], client_cert=client_cert) as client:
            response = client.get(probe_url(conn, api), headers={"Accept": "application/json"})
    except Exception as exc:  # noqa: BLE001 - classified into one category
        r = failure(exc, where, ctx, client_cert=True)
        return result(r.category, r.message)
    latency = (time.monotonic() - started) * 1000
    status = response.status_code
    if status == 200:
        return result(
            Category.OK,
            f"Connected: KATA accepted XDR ID {conn['id']} and its certificate "
            f"({'KEDR response API' if api == 'kedr' else 'scanner API'} answered 200).",
            latency,
            status=200,
        )
    if status == 401:
        return result(
            Category.PENDING_APPROVAL,
            f"KATA has not accepted this connection (HTTP 401): ask the KATA administrator to "
            f"accept the request with fingerprint {fp} (XDR ID {conn['id']}) under External "
            "systems; if it was rejected, generate a new certificate and ask again.",
            latency,
            status=401,
        )
    category, message = classify_status(status, where, error_message_of(response))
    if status == 404:
        message = (
            f"{where} has no such API path (HTTP 404); check that host and port point to the "
            "KATA Central Node and that the API chosen for the check exists there."
        )
    return result(category, message, latency, status=status)


def check(ctx: CheckContext) -> list[CheckResult]:
    """One result per connection; connections are checked at the same time, each within
    two network timeouts."""
    items = connections_from_settings(ctx.settings)
    only = ctx.extra.get("connection")
    if only:
        items = [c for c in items if c.get("id") == only]
    if not items:
        return [
            CheckResult(
                Category.INVALID_CONFIG,
                "KATA/KEDR has no connection to check; add one (IP address or host name and port).",
            )
        ]
    results: dict[int, CheckResult] = {}
    threads = []
    for i, conn in enumerate(items):
        problem = _malformed(conn)
        if problem:
            results[i] = CheckResult(
                Category.INVALID_CONFIG,
                problem,
                str(conn.get("host", "")),
                connection=str(conn.get("id", "")),
            )
            continue

        def run(i: int = i, conn: dict[str, Any] = conn) -> None:
            try:
                results[i] = _check_one(ctx, conn)
            except Exception as exc:  # noqa: BLE001
                r = failure(exc, target_of(conn), ctx, client_cert=True)
                r.connection = conn["id"]
                results[i] = r

        t = threading.Thread(target=run, name=f"xdrconf-kata-{i}", daemon=True)
        t.start()
        threads.append((i, t))
    deadline = time.monotonic() + ctx.timeout * 2 + 0.5
    for _, t in threads:
        while t.is_alive() and not ctx.cancelled() and time.monotonic() < deadline:
            t.join(0.05)
    out = []
    for i, conn in enumerate(items):
        if i in results:
            out.append(results[i])
        else:
            out.append(
                CheckResult(
                    Category.TIMEOUT,
                    f"{target_of(conn)} did not complete the exchange within {ctx.timeout * 2:g} s; "
                    "check that KATA runs and that no firewall drops the traffic.",
                    target_of(conn),
                    connection=conn["id"],
                )
            )
    return out


def _malformed(conn: dict[str, Any]) -> str:
    for key in ("id", "host", "port", "cert_pem"):
        if not conn.get(key):
            return f"A KATA connection lacks its '{key}'; remove it and add it again."
    return ""


def validate(settings: dict[str, Any], vctx: ValidationContext) -> None:
    seen: set[tuple[str, int]] = set()
    ids: set[str] = set()
    for conn in connections_from_settings(settings):
        problem = _malformed(conn)
        if problem:
            raise ValidationError("KATA connection", problem)
        host, port = _validate_target(conn["host"], conn["port"])
        if (host, port) in seen:
            raise ValidationError(HOST_LABEL, f"there are two connections to {host_port(host, port)}")
        if conn["id"] in ids:
            raise ValidationError("XDR ID", f"{conn['id']} is used by two connections")
        seen.add((host, port))
        ids.add(conn["id"])


def flags(state: Any, now: _dt.datetime) -> list[Flag]:
    out = []
    for conn in connections(state):
        until = expires(conn)
        if until is None:
            continue
        left = until - now
        where = target_of(conn)
        if left.total_seconds() <= 0:
            out.append(
                Flag(
                    "error",
                    f"the client certificate of the KATA connection {where} expired on "
                    f"{until:%Y-%m-%d}; generate a new one and have KATA accept it",
                )
            )
        elif left <= _dt.timedelta(days=EXPIRY_WARNING_DAYS):
            out.append(
                Flag(
                    "warning",
                    f"the client certificate of the KATA connection {where} expires on "
                    f"{until:%Y-%m-%d} (in {left.days} day(s)); generate a new one and "
                    "have KATA accept it",
                )
            )
    return out


SPEC = IntegrationSpec(
    kind=KIND,
    title="KATA/KEDR",
    description="Kaspersky Anti Targeted Attack Platform / Kaspersky Endpoint Detection and "
    "Response: threat response actions on assets through the KEDR server, over mutual TLS "
    "with a client certificate that the KATA administrator accepts.",
    fields=FIELDS,
    pages=(
        Page(
            "KATA/KEDR — API",
            "Each connection has its own XDR ID, private key and client certificate; the KATA "
            "administrator accepts it by the certificate's SHA-256 fingerprint. Choose the API "
            "that 'Check connection' calls.",
            ("api",),
        ),
        trust_page("the KATA Central Node (self-signed by default)"),
    ),
    check=check,
    validate=validate,
    flags=flags,
    structured_keys=(CONNECTIONS,),
    reenter_hint=lambda tenant_path, name: (
        f"xdrconf kata regenerate '{tenant_path}' {name.split(':', 1)[-1]}  "
        "(a new key and certificate; the KATA administrator approves the connection again)"
    ),
    secret_label=lambda name: f"private key, XDR ID {name.split(':', 1)[-1]}",
    extra={"timeout_steps": 3},
)
