"""`xdrconf kasap groups TENANT`: the learning groups KASAP's OpenAPI lists for the token (the
"groups" operation, printed as before)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xdrconf.core.i18n import _, ngettext
from xdrconf.core.outcome import category_words

from .common import CheckFailed, fail, print_json
from .operations import run_one


def cmd_groups(args: argparse.Namespace) -> int:
    [outcome] = run_one(args, "kasap", "groups", args.tenant, {})
    if outcome.refused:
        fail(outcome.message)
    if not outcome.ok:
        if args.json:
            print_json({"ok": False, "category": outcome.category.value, "message": outcome.message})
        else:
            print(f"FAIL {category_words(outcome.category)}: {outcome.message}", file=sys.stderr)
        raise CheckFailed
    groups = outcome.data
    if args.json:
        print_json(groups)
        return 0
    print(ngettext("{n} learning group:", "{n} learning groups:", len(groups)).format(n=len(groups)))
    width = max((len(g["id"]) for g in groups), default=0)
    for g in groups:
        print(f"  {g['id']:<{width}}  {g['name']}")
    return 0


def actions(sub: Any, common: argparse.ArgumentParser, add: Any) -> set[str]:
    p = add(sub, "groups", cmd_groups, _("list the learning groups KASAP returns for the tenant's token"))
    p.add_argument("tenant")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", metavar=_("SECONDS"))
    return {"groups"}
