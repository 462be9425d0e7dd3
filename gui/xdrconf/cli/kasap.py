"""`xdrconf kasap groups TENANT`: the learning groups KASAP's OpenAPI lists for the token."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .main import CheckFailed, fail, open_ws, print_json


def cmd_groups(args: argparse.Namespace) -> int:
    from ..core import checks
    from ..core.integrations import kasap

    if args.timeout is not None and not 0 < args.timeout <= 600:
        fail("--timeout: give seconds between 0 and 600")
    with open_ws(args, write=False) as ws:
        tenant = ws.tenant(args.tenant)
        state = tenant.integrations.get("kasap")
        if state is None or not state.settings.get("url"):
            fail(f"KASAP is not configured for '{ws.tree.path(tenant.id)}'; set url and --secret token first")
        ctx = checks.context_for(ws, tenant, "kasap", state, timeout=args.timeout)
        result, groups = kasap.fetch_groups(ctx)
    if not result.ok:
        if args.json:
            print_json({"ok": False, "category": result.category.value, "message": result.message})
        else:
            print(f"FAIL {result.category.value}: {result.message}", file=sys.stderr)
        raise CheckFailed
    if args.json:
        print_json(groups)
        return 0
    print(f"{len(groups)} learning group{'s' if len(groups) != 1 else ''}:")
    width = max((len(g["id"]) for g in groups), default=0)
    for g in groups:
        print(f"  {g['id']:<{width}}  {g['name']}")
    return 0


def register(sub: Any, common: argparse.ArgumentParser, add: Any) -> None:
    kasap = sub.add_parser("kasap", help="KASAP: list learning groups", parents=[common])
    ksub = kasap.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add(ksub, "groups", cmd_groups, "list the learning groups KASAP returns for the tenant's token")
    p.add_argument("tenant")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", type=float, metavar="SECONDS")
