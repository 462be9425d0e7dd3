"""`xdrconf tip lookup TENANT VALUE`: the reputation of one observable from Kaspersky TIP (the
"lookup" operation, printed as before)."""

from __future__ import annotations

import argparse
from typing import Any

from xdrconf.core.i18n import _
from xdrconf.core.outcome import category_words

from .common import CheckFailed, fail, print_json
from .operations import run_one


def cmd_lookup(args: argparse.Namespace) -> int:
    from ..core.integrations.tip.lookup import ACCESS_TITLES, LookupResult

    [outcome] = run_one(args, "tip", "lookup", args.tenant, {"value": args.value})
    if outcome.refused:
        fail(outcome.message)
    result = LookupResult.of(outcome, args.value.strip())
    if args.json:
        print_json(result.public())
    else:
        obs = result.observable
        title = ACCESS_TITLES.get(result.access, result.access)
        print(f"{obs.value} ({obs.label}) — {title}" if obs is not None else result.input)
        if result.ok:
            # a cached result holds the English words: _() finds them in the catalog
            verdict = _(result.verdict)
            if result.zone:
                print(_("Verdict: {verdict} ({zone} zone)").format(verdict=verdict, zone=result.zone))
            else:
                print(_("Verdict: {verdict}").format(verdict=verdict))
            for label, text in result.facts:
                print(f"  {_(label)}: {text}")
        print(result.message if result.ok else f"FAIL {category_words(result.category)}: {result.message}")
    if not result.ok:
        raise CheckFailed
    return 0


def actions(sub: Any, common: argparse.ArgumentParser, add: Any) -> set[str]:
    p = add(
        sub,
        "lookup",
        cmd_lookup,
        _(
            "look up a domain, URL, IPv4/IPv6 address, MD5 or SHA256 on the tenant's Kaspersky "
            "TIP (may consume quota; repeated lookups within the Cache TTL come from the local cache)"
        ),
    )
    p.add_argument("tenant")
    p.add_argument("value")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", metavar=_("SECONDS"))
    return {"lookup"}
