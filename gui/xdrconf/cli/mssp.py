"""Many tenants at once on the command line:

    xdrconf tenant import-from-kuma TENANT [--dry-run] [--json] [--timeout S]

(`tenant add NAME...` and `integration set|enable|disable --subtree` are in cli.main.)"""

from __future__ import annotations

import argparse
from typing import Any

from ..core.engine import exit_status, rows_of, run_operation
from ..core.i18n import _, ngettext
from ..core.integrations.kuma import tenants as kuma_tenants
from .common import CheckFailed, open_ws, print_json, timeout_of


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
    p.add_argument("tenant", metavar="TENANT")
    p.add_argument("--dry-run", action="store_true", help=_("only say what would be added"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--timeout", metavar="SECONDS", help=_("per step (default: the app's)"))
