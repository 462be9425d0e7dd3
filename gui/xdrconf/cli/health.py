"""The health grid on the command line (core.health), the twin of the window's View → Health
grid: every tenant's integrations at their last check's level.

    xdrconf health [--name TEXT] [--level LEVEL] [--all] [--json | --csv FILE]
    xdrconf health --check [--name TEXT] [--level LEVEL] [--timeout S] [--json]

--check checks what is shown (the integrations turned on among the shown cells), keeps the
results and prints the grid as it is then; its exit status is that of `xdrconf check`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core import catalog, health
from ..core.i18n import _, ngettext
from .common import CheckFailed, fail, open_ws, print_json, timeout_of

LEVELS = tuple(health.LOOKS)  # ok, unverified, warning, error, unchecked, off


def _filter(args: argparse.Namespace) -> health.GridFilter:
    return health.GridFilter(text=(args.name or "").strip(), level=args.level)


def _shown(args: argparse.Namespace, ws: Any) -> tuple[list[str], list[health.GridRow], health.GridFilter]:
    kinds, rows = health.build_grid(ws)
    flt = _filter(args)
    return kinds, [r for r in rows if flt.row_shown(r)], flt


def _cell_text(kind: str, cell: health.Cell) -> str:
    look = health.look(cell.level)
    return f"{catalog.spec_for(kind).title} {look.glyph} {health.level_words(cell.level)}"


def print_grid(
    kinds: list[str], rows: list[health.GridRow], flt: health.GridFilter, everything: bool
) -> None:
    """One line per tenant: its path, then each shown cell (the integrations turned off or
    not set up only with --all)."""
    if not rows:
        print(_("No tenant matches."))
        return
    width = min(48, max(len(r.path) for r in rows))
    for row in rows:
        cells = [
            _cell_text(kinds[i], cell)
            for i, cell in enumerate(row.cells)
            if flt.cell_shown(cell) and (everything or cell.level != "off")
        ]
        print(f"{row.path:<{width}}  {' · '.join(cells) if cells else health.level_words('off')}")
    counts = sum((health.column_counts(rows, i, flt) for i in range(len(kinds))), start=health.Counter())
    summary = ", ".join(
        f"{health.look(level).glyph} {counts[level]} {health.level_words(level)}"
        for level in LEVELS
        if counts[level] and (everything or level != "off")
    )
    print(
        ngettext("{n} tenant: {summary}", "{n} tenants: {summary}", len(rows)).format(
            n=len(rows), summary=summary or health.level_words("off")
        )
    )


def cmd_health(args: argparse.Namespace) -> int:
    if args.check and args.csv:
        fail(_("--check and --csv cannot be used together; export after the check"))
    status = 0
    with open_ws(args, write=False) as ws:
        kinds, rows, flt = _shown(args, ws)
        if args.check:
            status = _check(args, ws, kinds, rows, flt)
            kinds, rows, flt = _shown(args, ws)
        if args.csv:
            if args.csv == "-":
                sys.stdout.write(health.csv_text(kinds, rows))
            else:
                try:
                    n = health.write_csv(args.csv, kinds, rows)
                except OSError as exc:
                    fail(
                        _("cannot write {path}: {problem}").format(path=args.csv, problem=exc.strerror or exc)
                    )
                print(
                    ngettext("{n} tenant written to {path}.", "{n} tenants written to {path}.", n).format(
                        n=n, path=args.csv
                    ),
                    file=sys.stderr,
                )
        elif args.json:
            print_json(
                [
                    {
                        "tenant": row.path,
                        "tenant_id": row.tenant_id,
                        "cells": {
                            kinds[i]: cell.level for i, cell in enumerate(row.cells) if flt.cell_shown(cell)
                        },
                    }
                    for row in rows
                ]
            )
        else:
            print_grid(kinds, rows, flt, args.all)
    if status:
        raise CheckFailed(status)
    return 0


def _check(args: argparse.Namespace, ws: Any, kinds: list[str], rows: list[health.GridRow], flt: Any) -> int:
    """Check the shown cells that are turned on (as the grid's Check does); keep the
    results; the exit status of `xdrconf check`."""
    from ..core.checkproc import run_and_keep
    from ..core.engine import exit_status

    pairs = health.checks_of(rows, kinds, flt)
    if not pairs:
        print(_("Nothing to check: no integration shown is turned on."), file=sys.stderr)
        return 0
    ops = [catalog.spec_for(k).check_op for k in {k for _t, k in pairs}]
    notices = {op.notice for op in ops if op is not None}
    for notice in sorted(n for n in notices if n):
        print(_("Note: {notice}").format(notice=notice), file=sys.stderr)
    found = run_and_keep(ws, pairs, timeout=timeout_of(args))
    if ws.readonly:
        print(
            _("xdrconf: the results are not kept: {reason}").format(reason=ws.readonly_reason),
            file=sys.stderr,
        )
    return exit_status(found, refusal_is_usage=False)


def register(sub: Any, common: argparse.ArgumentParser, add: Any) -> None:
    p = add(
        sub,
        "health",
        cmd_health,
        _("every tenant's integrations at their last check's level (the window's health grid)"),
    )
    p.add_argument("--name", metavar=_("TEXT"), help=_("only the tenants whose name holds TEXT (any case)"))
    p.add_argument(
        "--level",
        choices=LEVELS,
        help=_("only the tenants with an integration at this level, and only those integrations"),
    )
    p.add_argument("--all", action="store_true", help=_("also the integrations turned off or not set up"))
    p.add_argument(
        "--check",
        action="store_true",
        help=_("check the integrations shown that are turned on first, and keep the results"),
    )
    p.add_argument("--timeout", metavar=_("SECONDS"), help=_("seconds for each check (with --check)"))
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help=_("print JSON (levels by their codes)"))
    out.add_argument(
        "--csv",
        metavar=_("FILE"),
        help=_("write the grid as CSV (UTF-8, as the window exports it) to FILE, or '-' for standard output"),
    )
