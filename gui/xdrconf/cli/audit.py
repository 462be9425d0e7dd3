"""The audit trail on the command line (core.audit):

    xdrconf audit [--tenant T] [--integration KIND] [--since DATE] [--json]
    xdrconf audit verify [--json]

`audit verify` exits 0 when every line fits, 1 naming the first line that does not."""

from __future__ import annotations

import argparse
from typing import Any

from ..core import audit, catalog
from ..core.errors import NotFoundError
from ..core.i18n import _, ngettext
from .common import CheckFailed, open_ws, print_json


def _when(entry: dict[str, Any]) -> str:
    at = str(entry.get("at", ""))
    return at[:19].replace("T", " ") + ("Z" if at.endswith("Z") else "")


def line_of(entry: dict[str, Any]) -> str:
    """One change as the listing prints it."""
    kind = str(entry.get("integration") or "")
    where = str(entry.get("tenant") or _("(application)"))
    if kind:
        where = f"{where} · {catalog.title_of(kind)}"
    who = f"{entry.get('user', '?')}@{entry.get('host', '?')}"
    return _("{when}  {who}  {where}: {what}  [{action}]").format(
        when=_when(entry), who=who, where=where, what=audit.describe(entry), action=entry.get("action", "")
    )


def cmd_audit(args: argparse.Namespace) -> int:
    since = audit.parse_since(args.since) if args.since else None
    if args.integration is not None:
        catalog.entry(args.integration)
    with open_ws(args, write=False) as ws:
        everything = ws.audit.entries()
        ids: set[str | None] = {None}
        path = None
        if args.tenant is not None:
            try:
                tenant = ws.tenant(args.tenant)
                ids, path = {tenant.id}, ws.tree.path(tenant.id)
            except NotFoundError:
                path = args.tenant.strip().strip("/")  # a tenant removed since: by its path
                ids = {None, *audit.ids_at_path(everything, path)}
        entries = [
            e
            for e in everything
            if any(
                audit.matches(e, tenant_id=tid, tenant_path=path, kind=args.integration, since=since)
                for tid in ids
            )
        ]
    if args.json:
        print_json([{**e, "text": audit.describe(e)} for e in entries])
        return 0
    if not entries:
        print(_("No changes recorded."))
        return 0
    for entry in entries:
        print(line_of(entry))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        verdict = ws.audit.verify(ws.audit_head)
        path = ws.audit.path
    if args.json:
        print_json(
            {
                "ok": verdict.ok,
                "lines": verdict.lines,
                "line": verdict.line,
                "problem": verdict.problem,
                "note": verdict.note,
                "file": str(path),
            }
        )
    elif verdict.ok:
        print(
            ngettext(
                "The audit trail {file} is intact: {n} line, each fitting the one before it.",
                "The audit trail {file} is intact: {n} lines, each fitting the one before it.",
                verdict.lines,
            ).format(file=path, n=verdict.lines)
        )
        if verdict.note:
            print(_("Note: {note}.").format(note=verdict.note))
    else:
        print(_("xdrconf: the audit trail {file}: {problem}.").format(file=path, problem=verdict.problem))
    if not verdict.ok:
        raise CheckFailed(1)
    return 0


def register(sub: Any, common: argparse.ArgumentParser, add: Any) -> None:
    p = add(
        sub,
        "audit",
        cmd_audit,
        _("list the changes xdrconf made (the audit trail, audit.jsonl in the settings folder)"),
    )
    p.add_argument("--tenant", metavar=_("TENANT"), help=_("only the changes of this tenant"))
    p.add_argument(
        "--integration", metavar=_("KIND"), help=_("only the changes of this integration (e.g. kuma)")
    )
    p.add_argument(
        "--since",
        metavar=_("DATE"),
        help=_("only changes from this date (YYYY-MM-DD, UTC) or time (ISO 8601)"),
    )
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    asub = p.add_subparsers(dest="audit_action", metavar=_("ACTION"))
    v = add(
        asub,
        "verify",
        cmd_verify,
        _(
            "check that no line of the audit trail was changed, removed or reordered "
            "(exit status 1 names the first line that does not fit)"
        ),
    )
    v.add_argument("--json", action="store_true", help=_("print JSON"))
