"""Many tenants at once on the command line:

    xdrconf tenant import-from-kuma TENANT [--dry-run] [--json] [--timeout S]
    xdrconf drift TENANT [--subtree] [--json]
    xdrconf push TENANT KIND FIELD... [--to DESCENDANT ... | --subtree] [--dry-run] [--yes] [--json]

(`tenant add NAME...` and `integration set|enable|disable --subtree` are in cli.main.)"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core import catalog, drift
from ..core.engine import exit_status, rows_of, run_operation
from ..core.i18n import _, ngettext
from ..core.integrations.kuma import tenants as kuma_tenants
from .common import CheckFailed, fail, open_ws, print_json, timeout_of


# ---- import from KUMA -----------------------------------------------------------------------------------
def cmd_import_from_kuma(args: argparse.Namespace) -> int:
    from .operations import print_outcomes

    timeout = timeout_of(args)
    with open_ws(args, write=not args.dry_run) as ws:
        tenant = ws.tenant(args.tenant)
        outcomes = run_operation(ws, tenant.id, "kuma", "tenants", timeout=timeout)
        if not outcomes or not all(o.ok for o in outcomes):
            if args.json:
                print_json([o.public() for o in outcomes])
            else:
                print_outcomes(outcomes)
            raise CheckFailed(exit_status(outcomes))
        rows = rows_of(outcomes[0])
        if args.dry_run:
            result = kuma_tenants.plan(ws, tenant.id, rows)
            result.dry_run = True
        else:
            result = kuma_tenants.apply(ws, tenant.id, rows)
    if args.json:
        print_json({**result.public(), "read": outcomes[0].message})
        return 0
    print(outcomes[0].message)
    print_plan(result)
    return 0


def print_plan(result: kuma_tenants.Plan) -> None:
    adding = result.of(kuma_tenants.ADDED) + result.of(kuma_tenants.ADD)
    n = len(adding)
    if result.dry_run:
        head = ngettext(
            "Would add {n} tenant under '{parent}':", "Would add {n} tenants under '{parent}':", n
        )
    else:
        head = ngettext("Added {n} tenant under '{parent}':", "Added {n} tenants under '{parent}':", n)
    print(
        head.format(n=n, parent=result.parent)
        if n
        else _("Nothing new to add under '{parent}'.").format(parent=result.parent)
    )
    for item in adding:
        print(_("  + {path}  (KUMA tenant {id})").format(path=item.path, id=item.id))
    already = result.of(kuma_tenants.ALREADY)
    if already:
        print(
            ngettext("Already there: {n} tenant", "Already there: {n} tenants", len(already)).format(
                n=len(already)
            )
        )
        for item in already:
            print(
                _("  = {path}  (KUMA tenant {id} '{name}')").format(
                    path=item.path, id=item.id, name=item.name
                )
            )
    for item in result.of(kuma_tenants.MAPPED):
        which = _("KUMA's main tenant") if item.main else _("KUMA's shared tenant")
        print(
            _("  {which} '{name}' is the tenant '{path}'").format(which=which, name=item.name, path=item.path)
        )
    skipped = result.of(kuma_tenants.SKIPPED)
    if skipped:
        print(ngettext("Skipped: {n} tenant", "Skipped: {n} tenants", len(skipped)).format(n=len(skipped)))
        for item in skipped:
            print(_("  - '{name}' ({id}): {reason}").format(name=item.name, id=item.id, reason=item.reason))


# ---- drift ----------------------------------------------------------------------------------------------
def cmd_drift(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        report = drift.drift(ws, args.tenant, subtree=args.subtree)
    if args.json:
        print_json(report.public())
        return 0
    if report.secrets_problem:
        print(_("Note: secrets were not compared: {problem}").format(problem=report.secrets_problem))
    shown: set[tuple[str, str]] = set()
    for item in report.items:
        key = (item.tenant, item.kind)
        if item.tenant not in {k[0] for k in shown}:
            print(_("{tenant} (against {parent}):").format(tenant=item.tenant, parent=item.parent))
        if key not in shown:
            print(f"  {catalog.title_of(item.kind)}")
            shown.add(key)
        print(f"    {_words(item.status):<11} {drift.describe(item)}")
    if not report.items:
        print(_("Nothing to compare: no integration is set up here or in the parent."))
    n = len(report.overridden())
    print(
        ngettext("{n} field overridden, {m} inherited.", "{n} fields overridden, {m} inherited.", n).format(
            n=n, m=len(report.items) - n
        )
    )
    return 0


def _words(status: str) -> str:
    return _("inherited") if status == drift.INHERITED else _("overridden")


# ---- push -----------------------------------------------------------------------------------------------
def describe_change(change: drift.PushChange, source: str) -> str:
    if change.secret:
        if change.action == drift.COPIED:
            return _("{label}: a copy of the value of '{source}' (a new entry of the secret store)").format(
                label=change.label, source=source
            )
        if change.action == drift.DELETED:
            return _("{label}: deleted (not set in '{source}')").format(label=change.label, source=source)
        return _("{label}: the same value already").format(label=change.label)
    if change.action == drift.SAME:
        return _("{label}: already {value}").format(label=change.label, value=drift.value_text(change.new))
    return _("{label}: {old} → {new}").format(
        label=change.label, old=drift.value_text(change.old), new=drift.value_text(change.new)
    )


def print_push(result: drift.PushPlan) -> None:
    effective = result.effective()
    current = None
    for change in effective:
        if change.tenant != current:
            print(f"{change.tenant}:")
            current = change.tenant
        print(f"  {describe_change(change, result.source)}")
    tenants = len({c.tenant_id for c in effective})
    if effective:
        print(
            ngettext("{n} change in {m} tenant.", "{n} changes in {m} tenants.", len(effective)).format(
                n=len(effective), m=tenants
            )
        )


def cmd_push(args: argparse.Namespace) -> int:
    spec = catalog.spec_for(args.kind)
    if args.to and args.subtree:
        fail(_("give --to DESCENDANT … or --subtree, not both"))
    with open_ws(args, write=not args.dry_run) as ws:
        result = drift.plan_push(ws, args.tenant, spec.kind, args.fields, to=args.to, subtree=args.subtree)
        if args.json and (args.dry_run or not result.effective()):
            print_json({**result.public(), "applied": False})
            return 0
        if not args.json:
            print(
                _("Push {fields} of {title} from '{source}':").format(
                    fields=", ".join(result.fields), title=spec.title, source=result.source
                )
            )
            print_push(result)
        if not result.effective():
            if not args.json:
                print(_("Nothing to change: the tenants have these values already."))
            return 0
        if args.dry_run:
            print(_("Nothing was changed (--dry-run)."))
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                fail(
                    _(
                        "pushing changes the tenants above: add --yes to confirm (or --dry-run to only "
                        "see them)"
                    )
                )
            answer = input(_("Push? [y/N] ")).strip().lower()
            if answer not in ("y", "yes", _("y")):
                print(_("Nothing was changed."))
                return 0
        done = drift.push(ws, result)
    if args.json:
        print_json({**done.public(), "applied": True})
        return 0
    effective = done.effective()
    print(
        ngettext(
            "Pushed, in one change: {n} change in {m} tenant.",
            "Pushed, in one change: {n} changes in {m} tenants.",
            len(effective),
        ).format(n=len(effective), m=len({c.tenant_id for c in effective}))
    )
    return 0


# ---- the parsers ---------------------------------------------------------------------------------------
def register(sub: Any, tsub: Any, common: argparse.ArgumentParser, add: Any) -> None:
    p = add(
        tsub,
        "import-from-kuma",
        cmd_import_from_kuma,
        _(
            "add KUMA's tenants (read with TENANT's KUMA connection, every page) as children of "
            "TENANT; KUMA's main and shared tenants are the Root and the Shared tenant"
        ),
    )
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument("--dry-run", action="store_true", help=_("only say what would be added"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--timeout", metavar=_("SECONDS"), help=_("per step (default: the app's)"))

    p = add(
        sub,
        "drift",
        cmd_drift,
        _(
            "what a tenant changed from its parent: each field of each integration, inherited or "
            "overridden (secrets compared by value, never shown)"
        ),
    )
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument(
        "--subtree", action="store_true", help=_("every tenant of the subtree, each against its parent")
    )
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    kinds = [k for k in catalog.KINDS if catalog.spec_for(k).supported]
    p = add(
        sub,
        "push",
        cmd_push,
        _(
            "copy fields of TENANT's integration to tenants below it, all or none in one change "
            "(secrets as new entries for each tenant)"
        ),
    )
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument("kind", choices=kinds, metavar=_("KIND"))
    p.add_argument("fields", nargs="+", metavar=_("FIELD"))
    p.add_argument(
        "--to",
        nargs="+",
        action="extend",
        metavar=_("DESCENDANT"),
        help=_("the tenants below TENANT to push to"),
    )
    p.add_argument("--subtree", action="store_true", help=_("push to every tenant below TENANT"))
    p.add_argument("--dry-run", action="store_true", help=_("only show what would change where"))
    p.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
