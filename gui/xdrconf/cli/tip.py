"""`xdrconf tip lookup TENANT VALUE`: the reputation of one observable from Kaspersky TIP."""

from __future__ import annotations

import argparse
from typing import Any

from .main import CheckFailed, fail, open_ws, print_json


def cmd_lookup(args: argparse.Namespace) -> int:
    from ..core import tip_lookup

    if args.timeout is not None and not 0 < args.timeout <= 600:
        fail("--timeout: give seconds between 0 and 600")
    with open_ws(args, write=False) as ws:
        result = tip_lookup.lookup(ws, args.tenant, args.value, timeout=args.timeout)
    if args.json:
        print_json(result.public())
    else:
        obs = result.observable
        assert obs is not None
        print(f"{obs.value} ({obs.label}) — {tip_lookup.ACCESS_TITLES.get(result.access, result.access)}")
        if result.ok:
            zone = f" ({result.zone} zone)" if result.zone else ""
            print(f"Verdict: {result.verdict}{zone}")
            for label, text in result.facts:
                print(f"  {label}: {text}")
        print(result.message if result.ok else f"FAIL {result.category.value}: {result.message}")
    if not result.ok:
        raise CheckFailed
    return 0


def register(sub: Any, common: argparse.ArgumentParser, add: Any) -> None:
    tip = sub.add_parser("tip", help="Kaspersky TIP: look up observables", parents=[common])
    tsub = tip.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add(
        tsub,
        "lookup",
        cmd_lookup,
        "look up a domain, URL, IPv4/IPv6 address, MD5 or SHA256 on the tenant's Kaspersky "
        "TIP (may consume quota; repeated lookups within the Cache TTL come from the local cache)",
    )
    p.add_argument("tenant")
    p.add_argument("value")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", type=float, metavar="SECONDS")
