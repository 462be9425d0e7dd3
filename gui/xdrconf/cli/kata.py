"""`xdrconf kata …`: the KATA/KEDR connections of a tenant (XDR ID, key, certificate).

The trust settings of the KATA server are generic (`xdrconf integration set TENANT kata
tls_ca=@FILE`), and so is the check (`xdrconf check TENANT kata`, one line per connection;
`xdrconf kata check TENANT connection=XDR_ID` for one)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xdrconf.core.i18n import _, pgettext
from xdrconf.core.outcome import category_words

from ..core.errors import SecretsWouldFollow
from ..core.fields import format_fingerprint
from ..core.integrations.kata import certs as kata_certs
from ..core.integrations.kata import connections as kata
from .common import fail, open_ws, print_json


def _row(state: Any, conn: dict[str, Any]) -> dict[str, Any]:
    status = kata.status_of(state, conn)
    return {
        "id": conn["id"],
        "host": conn["host"],
        "port": conn["port"],
        "target": kata.target_of(conn),
        "key_type": conn.get("key_type", ""),
        "fingerprint_sha256": conn.get("fingerprint", ""),
        "not_before": conn.get("not_before", ""),
        "not_after": conn.get("not_after", ""),
        "created": conn.get("created", ""),
        "status": None
        if status is None
        else {"category": status.category, "message": status.message, "checked_at": status.checked_at},
    }


def _describe(conn: dict[str, Any]) -> list[str]:
    return [
        f"  XDR ID:      {conn['id']}",
        _("  Connection:  {target}").format(target=kata.target_of(conn)),
        _("  Key type:    {key_type}").format(key_type=conn.get("key_type", "")),
        *(f"  {line}" for line in kata.certificate_lines(conn)),
    ]


def _print_identity(headline: str, tenant_path: str, conn: dict[str, Any]) -> None:
    print(headline)
    print("\n".join(_describe(conn)))
    print(
        _(
            "Run 'xdrconf check \"{tenant_path}\" kata': the first request creates a "
            "pending request in KATA (External systems); ask the KATA administrator "
            "to accept the one with fingerprint {fingerprint}."
        ).format(tenant_path=tenant_path, fingerprint=format_fingerprint(conn["fingerprint"]))
    )


def cmd_list(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        tenant = ws.tenant(args.tenant)
        state = tenant.integrations.get(kata.KIND)
        rows = [_row(state, c) for c in kata.connections(state)]
        if args.json:
            print_json(rows)
            return 0
        path = ws.tree.path(tenant.id)
        if not rows:
            print(
                _("'{path}' has no KATA connection; add one with 'xdrconf kata add \"{path}\" HOST'.").format(
                    path=path
                )
            )
            return 0
        enabled = bool(state and state.enabled)
        print(
            _("KATA/KEDR of '{path}' ({value}):").format(
                path=path,
                value=pgettext("integration state", "on")
                if enabled
                else pgettext("integration state", "off"),
            )
        )
        for r in rows:
            status = category_words(r["status"]["category"]) if r["status"] else _("not checked")
            print(
                _("{id}  {target:<28} {key_type:<8} expires {until}  {status}  SHA-256 {fingerprint}").format(
                    id=r["id"],
                    target=r["target"],
                    key_type=r["key_type"],
                    until=r["not_after"][:10],
                    status=status,
                    fingerprint=format_fingerprint(r["fingerprint_sha256"]),
                )
            )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        conn = kata.add_connection(ws, tenant.id, args.host, args.port, args.key)
        path = ws.tree.path(tenant.id)
        _print_identity(_("Added a KATA connection to '{path}':").format(path=path), path, conn)
        state = ws.tenant(tenant.id).integrations[kata.KIND]
        if not state.enabled:
            print(
                _(
                    "The KATA integration is off; turn it on with 'xdrconf integration "
                    'enable "{path}" kata\'.'
                ).format(path=path)
            )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        conn = kata.remove_connection(ws, tenant.id, args.connection)
        print(
            _(
                "Removed the KATA connection {id} ({target}) from '{path}'; its private key was deleted."
            ).format(id=conn["id"], target=kata.target_of(conn), path=ws.tree.path(tenant.id))
        )
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        try:
            conn = kata.edit_connection(
                ws, tenant.id, args.connection, host=args.host, port=args.port, keep_secrets=args.keep_secrets
            )
        except SecretsWouldFollow as exc:
            fail(
                str(exc)
                + " "
                + _(
                    "Add --keep-secrets to present the connection's key to the new target, or add a "
                    "new connection there (its own key and certificate)."
                )
            )
        print(
            _("The KATA connection {id} of '{tenant}' now goes to {target}.").format(
                id=conn["id"], tenant=ws.tree.path(tenant.id), target=kata.target_of(conn)
            )
        )
    return 0


def cmd_regenerate(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        conn = kata.regenerate(ws, tenant.id, args.connection)
        _print_identity(
            _(
                "Generated a new private key and certificate for the KATA connection "
                "{id}; the old key was deleted. The KATA administrator must accept the "
                "connection again."
            ).format(id=conn["id"]),
            ws.tree.path(tenant.id),
            conn,
        )
    return 0


def cmd_export_cert(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        tenant = ws.tenant(args.tenant)
        conn = kata.find(tenant.integrations.get(kata.KIND), args.connection)
    data = kata.export_certificate(conn, der=args.der)
    if not args.output or args.output == "-":
        if args.der:
            fail(_("--der: DER is binary; give -o FILE"))
        sys.stdout.write(data.decode())
        return 0
    out = Path(args.output).expanduser()
    try:
        out.write_bytes(data)
    except OSError as exc:
        fail(_("-o: cannot write '{out}' ({strerror})").format(out=out, strerror=exc.strerror))
    print(
        _("Wrote the certificate of {id} ({format}) to {out}; SHA-256 {fingerprint}.").format(
            id=conn["id"],
            format="DER" if args.der else "PEM",
            out=out,
            fingerprint=format_fingerprint(conn["fingerprint"]),
        ),
        file=sys.stderr,
    )
    return 0


def actions(
    ksub: Any, common: argparse.ArgumentParser, add: Callable[..., argparse.ArgumentParser]
) -> set[str]:
    conn_help = _("XDR ID or HOST:PORT (IPv6 as [ADDRESS]:PORT)")
    p = add(ksub, "list", cmd_list, _("list a tenant's KATA connections"))
    p.add_argument("tenant")
    p.add_argument("--json", action="store_true")
    p = add(
        ksub,
        "add",
        cmd_add,
        _(
            "add a connection: generates an XDR ID, a private key (kept in the keyring) and a "
            "self-signed client certificate"
        ),
    )
    p.add_argument("tenant")
    p.add_argument("host", help=_("IP address or host name of the KATA Central Node"))
    p.add_argument(
        "--port",
        default=str(kata.DEFAULT_PORT),
        help=_("1-65535 (default {default_port})").format(default_port=kata.DEFAULT_PORT),
    )
    p.add_argument(
        "--key",
        default=kata_certs.DEFAULT_KEY_TYPE,
        choices=[k for k, _unused in kata_certs.KEY_TYPES],
        help=_("key type (default rsa2048)"),
    )
    p = add(
        ksub,
        "edit",
        cmd_edit,
        _("point a connection to another host or port (same XDR ID, key and certificate)"),
    )
    p.add_argument("tenant")
    p.add_argument("connection", help=conn_help)
    p.add_argument("--host", help=_("new IP address or host name"))
    p.add_argument("--port", help=_("new port, 1-65535"))
    p.add_argument(
        "--keep-secrets",
        action="store_true",
        help=_("confirm that the connection's private key may be presented to the new target"),
    )
    p = add(ksub, "remove", cmd_remove, _("remove a connection and delete its private key"))
    p.add_argument("tenant")
    p.add_argument("connection", help=conn_help)
    p = add(
        ksub,
        "regenerate",
        cmd_regenerate,
        _("new private key and certificate (same XDR ID); KATA must accept the connection again"),
    )
    p.add_argument("tenant")
    p.add_argument("connection", help=conn_help)
    p = add(
        ksub,
        "export-cert",
        cmd_export_cert,
        _("write the client certificate (PEM by default) for the KATA administrator"),
    )
    p.add_argument("tenant")
    p.add_argument("connection", help=conn_help)
    p.add_argument(
        "-o", "--output", metavar=_("FILE"), help=_("file to write (default: PEM on standard output)")
    )
    p.add_argument("--der", action="store_true", help=_("DER instead of PEM (needs -o)"))
    return {"list", "add", "edit", "remove", "regenerate", "export-cert"}
