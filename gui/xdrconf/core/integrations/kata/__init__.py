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
from typing import Any

from xdrconf.core.i18n import N_, _, ngettext

from ...catalog import Flag, IntegrationSpec, Page, ValidationContext
from ...engine import OpContext, check_operation
from ...errors import OperationFailed, ValidationError
from ...fields import Field, format_fingerprint, host_port
from ...net import ClientCert
from ...outcome import Category, Outcome
from ..common import TRUST_FIELDS, trust_page
from . import certs as kata_certs
from .connections import (
    CONNECTIONS,
    EXPIRY_WARNING_DAYS,
    HOST_LABEL,
    KIND,
    connections_from_settings,
    expires,
    find_in,
    malformed,
    probe_url,
    secret_name,
    target_of,
    validate_target,
)
from .connections import connections as connections_of

FIELDS = (
    Field(
        "api",
        N_("API used by the check"),
        kind="choice",
        required=True,
        default="scanner",
        choices=(
            ("scanner", N_("KATA scanner API (…/scans/filters)")),
            ("kedr", N_("KEDR response API (…/sensors)")),
        ),
        help=N_(
            "Which KATA API 'Check connection' calls. Both need the connection to be "
            "accepted in KATA (Settings → External systems)."
        ),
    ),
    *TRUST_FIELDS,
)


# ---- check ----------------------------------------------------------------------------------
def _check_one(ctx: OpContext, conn: dict[str, Any]) -> Outcome:
    where = target_of(conn)
    fp = format_fingerprint(conn.get("fingerprint", ""))
    api = ctx.settings.get("api") or "scanner"

    def result(category: Category, message: str, **details: Any) -> Outcome:
        return Outcome(
            category,
            message,
            where,
            connection=conn["id"],
            details={"xdr_id": conn["id"], "fingerprint": conn.get("fingerprint", ""), **details},
        )

    problem = malformed(conn)
    if problem:
        return Outcome(
            Category.INVALID_CONFIG, problem, str(conn.get("host", "")), connection=str(conn.get("id", ""))
        )
    key_pem = ctx.secret(secret_name(conn["id"]))
    if not key_pem:
        return result(
            Category.MISSING_SECRET,
            _(
                "The private key of the KATA connection {where} is not stored here (e.g. "
                "after an import); generate a new certificate and key, then have KATA "
                "accept it."
            ).format(where=where),
        )
    try:
        matches = kata_certs.key_matches(conn["cert_pem"], key_pem)
    except (ValueError, TypeError):
        matches = False
    if not matches:
        return result(
            Category.INVALID_CONFIG,
            _(
                "The private key stored for the KATA connection {where} does not belong "
                "to its certificate (or cannot be read); generate a new certificate and "
                "key, then have KATA accept it."
            ).format(where=where),
        )
    session = ctx.http(conn["host"], client_cert=ClientCert(conn["cert_pem"], key_pem))
    r = session.get(
        probe_url(conn, api),
        headers={"Accept": "application/json"},
        expect=(200, 401),
        meaning={
            404: (
                Category.PROTOCOL_ERROR,
                _(
                    "{where} has no such API path (HTTP 404); check that host and port point "
                    "to the KATA Central Node and that the API chosen for the check exists "
                    "there."
                ).format(where=where),
            )
        },
    )
    latency = session.latency_ms
    if r.status_code == 401:
        out = result(
            Category.PENDING_APPROVAL,
            _(
                "KATA has not accepted this connection (HTTP 401): ask the KATA "
                "administrator to accept the request with fingerprint {fp} (XDR ID {id}) "
                "under External systems; if it was rejected, generate a new certificate "
                "and ask again."
            ).format(fp=fp, id=conn["id"]),
            status=401,
        )
    else:
        out = result(
            Category.OK,
            _("Connected: KATA accepted XDR ID {id} and its certificate ({value} answered 200).").format(
                id=conn["id"], value=_("KEDR response API") if api == "kedr" else _("scanner API")
            ),
            status=200,
        )
    out.latency_ms = latency
    return out


def _one(ctx: OpContext, conn: dict[str, Any]) -> Outcome:
    """A connection's outcome; a failed request keeps the connection's identity details."""
    try:
        return _check_one(ctx, conn)
    except OperationFailed as exc:
        return Outcome(
            exc.category,
            str(exc),
            target_of(conn),
            connection=str(conn.get("id", "")),
            details={
                "xdr_id": conn.get("id", ""),
                "fingerprint": conn.get("fingerprint", ""),
                **({"status": exc.details["http_status"]} if exc.details.get("http_status") else {}),
            },
        )


def check(ctx: OpContext) -> list[Outcome]:
    """One outcome per connection (or the one asked for), all checked at the same time."""
    items = connections_from_settings(ctx.settings)
    only = ctx.params.get("connection")
    if only:
        items = [find_in(items, only)]
    if not items:
        ctx.fail(
            Category.INVALID_CONFIG,
            _("KATA/KEDR has no connection to check; add one (IP address or host name and port)."),
        )
    return ctx.each(
        items,
        lambda conn: _one(ctx, conn),
        target_of=lambda conn: target_of(conn) if conn.get("host") else "",
        connection_of=lambda conn: str(conn.get("id", "")),
    )


_TEXT_KEYS = ("id", "host", "cert_pem", "key_type", "fingerprint", "created")
_TIME_KEYS = ("not_before", "not_after")


def _shape(conn: Any) -> str:
    """What is wrong with the types of a stored connection (as a settings file may hold
    anything), or ''."""
    if not isinstance(conn, dict):
        return _("A KATA connection is not an object of its settings; remove it and add it again.")
    for key in _TEXT_KEYS:
        if conn.get(key) is not None and not isinstance(conn[key], str):
            return _("A KATA connection's '{key}' is not text; remove it and add it again.").format(key=key)
    port = conn.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        return _("A KATA connection's 'port' is not a number; remove it and add it again.")
    for key in _TIME_KEYS:
        value = conn.get(key)
        if value is None:
            continue
        try:
            when = _dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            return _("A KATA connection's '{key}' is not a date and time with a time zone.").format(key=key)
    if conn.get("status") is not None and not isinstance(conn["status"], dict):
        return _("A KATA connection's 'status' is not an object; remove it and add it again.")
    return ""


def key_target(settings: dict[str, Any], name: str) -> str | None:
    """Where the key `name` (key:<XDR ID>) is presented: its connection's host:port, or
    None when no connection has that XDR ID."""
    xdr_id = name.split(":", 1)[-1]
    for conn in connections_from_settings(settings):
        if conn.get("id") == xdr_id and conn.get("host"):
            return target_of(conn)
    return None


def validate(settings: dict[str, Any], vctx: ValidationContext) -> None:
    seen: set[tuple[str, int]] = set()
    ids: set[str] = set()
    raw = settings.get(CONNECTIONS)
    if raw is not None and not isinstance(raw, list):
        raise ValidationError(_("KATA connections"), _("must be a list of connections"), field=CONNECTIONS)
    for conn in raw or []:
        problem = _shape(conn)
        if problem:
            raise ValidationError(_("KATA connection"), problem, field=CONNECTIONS)
    for conn in connections_from_settings(settings):
        problem = malformed(conn)
        if problem:
            raise ValidationError(_("KATA connection"), problem)
        host, port = validate_target([], conn["host"], conn["port"])
        if (host, port) in seen:
            raise ValidationError(
                HOST_LABEL,
                _("there are two connections to {host_port}").format(host_port=host_port(host, port)),
            )
        if conn["id"] in ids:
            raise ValidationError("XDR ID", _("{id} is used by two connections").format(id=conn["id"]))
        seen.add((host, port))
        ids.add(conn["id"])


def flags(state: Any, now: _dt.datetime) -> list[Flag]:
    out = []
    for conn in connections_of(state):
        until = expires(conn)
        if until is None:
            continue
        left = until - now
        where = target_of(conn)
        if left.total_seconds() <= 0:
            out.append(
                Flag(
                    "error",
                    _(
                        "the client certificate of the KATA connection {where} expired on "
                        "{until:%Y-%m-%d}; generate a new one and have KATA accept it"
                    ).format(where=where, until=until),
                )
            )
        elif left <= _dt.timedelta(days=EXPIRY_WARNING_DAYS):
            out.append(
                Flag(
                    "warning",
                    ngettext(
                        "the client certificate of the KATA connection {where} expires on "
                        "{until:%Y-%m-%d} (in {n} day); generate a new one and have KATA accept it",
                        "the client certificate of the KATA connection {where} expires on "
                        "{until:%Y-%m-%d} (in {n} days); generate a new one and have KATA accept it",
                        left.days,
                    ).format(where=where, until=until, n=left.days),
                )
            )
    return out


SPEC = IntegrationSpec(
    kind=KIND,
    title="KATA/KEDR",
    description=N_(
        "Kaspersky Anti Targeted Attack Platform / Kaspersky Endpoint Detection and "
        "Response: threat response actions on assets through the KEDR server, over mutual TLS "
        "with a client certificate that the KATA administrator accepts."
    ),
    fields=FIELDS,
    pages=(
        Page(
            "KATA/KEDR — API",
            N_(
                "Each connection has its own XDR ID, private key and client certificate; the KATA "
                "administrator accepts it by the certificate's SHA-256 fingerprint. Choose the API "
                "that 'Check connection' calls."
            ),
            ("api",),
        ),
        trust_page(N_("the KATA Central Node (self-signed by default)")),
    ),
    operations=(
        check_operation(
            check,
            params=(
                Field(
                    "connection",
                    N_("Connection"),
                    help=N_("Check this connection only: its XDR ID or HOST:PORT (default: every one)."),
                ),
            ),
            timeout_steps=3,
        ),
    ),
    target=lambda settings: "",
    target_fields=(CONNECTIONS,),
    # Each private key goes to its own connection only.
    secret_target=key_target,
    validate=validate,
    flags=flags,
    structured_keys=(CONNECTIONS,),
    reenter_hint=lambda tenant_path, name: _(
        "xdrconf kata regenerate '{tenant_path}' {value}  (a new key and "
        "certificate; the KATA administrator approves the connection again)"
    ).format(tenant_path=tenant_path, value=name.split(":", 1)[-1]),
    secret_label=lambda name: _("private key, XDR ID {value}").format(value=name.split(":", 1)[-1]),
)
