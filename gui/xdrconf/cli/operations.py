"""The generic command line of the integrations, generated from their specs:

    xdrconf KIND --help                 the kind's fields (allowed values, defaults) and operations
    xdrconf KIND OPERATION TENANT [PARAM=VALUE ...] [--json] [--timeout S] [--yes]

A bare VALUE fills the operation's required parameters in order (`xdrconf tip lookup
Root example.invalid`). Exit status (core.engine.exit_status): 0 every outcome ok, 1 an
outcome is not ok, 2 a usage or configuration error before anything ran."""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from ..core import catalog
from ..core.engine import Operation, exit_status, record_check, rows_of, run_operation
from ..core.fields import Field
from ..core.i18n import _, pgettext, pN_
from ..core.outcome import Outcome, category_words, outcome_short
from .common import CheckFailed, fail, open_ws, print_json, timeout_of

Add = Callable[..., argparse.ArgumentParser]
WIDTH = 100


# ---- help texts -------------------------------------------------------------------------------------
# The kind of a field's value, as `xdrconf KIND --help` names it (the English word is the kind).
_KIND_WORDS = {
    "text": pN_("kind of a field's value", "text"),
    "host": pN_("kind of a field's value", "host"),
    "hosts": pN_("kind of a field's value", "hosts"),
    "port": pN_("kind of a field's value", "port"),
    "ports": pN_("kind of a field's value", "ports"),
    "int": pN_("kind of a field's value", "int"),
    "bool": pN_("kind of a field's value", "bool"),
    "choice": pN_("kind of a field's value", "choice"),
    "pem": pN_("kind of a field's value", "pem"),
    "fingerprint": pN_("kind of a field's value", "fingerprint"),
    "url": pN_("kind of a field's value", "url"),
    "date": pN_("kind of a field's value", "date"),
    "secret": pN_("kind of a field's value", "secret"),
    "secret_text": pN_("kind of a field's value", "secret_text"),
}


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def describe_field(spec: catalog.IntegrationSpec, f: Field, *, param: bool = False) -> list[str]:
    kind = _KIND_WORDS.get(f.kind)
    facts = [str(kind) if kind is not None else f.kind]
    if f.required:
        facts.append(_("required"))
    if f.choices:
        facts.append(_("one of: {values}").format(values=", ".join(value for value, _label in f.choices)))
    if f.default not in (None, "", []):
        facts.append(_("default: {value}").format(value=f.format(f.default)))
    if f.visible_when is not None:
        facts.append(
            _("when {field}={value}").format(field=f.visible_when[0], value=_typed(f.visible_when[1]))
        )
    if f.choices_from is not None:
        facts.append(
            _("to choose from: xdrconf {kind} {operation} TENANT").format(
                kind=spec.kind, operation=f.choices_from.operation
            )
        )
    if not param and f.name in spec.root_only:
        facts.append(_("Root tenant only"))
    if f.secret:
        facts.append(_("secret: --secret {name} or {name}=@FILE").format(name=f.name))
    lines = [f"  {f.name} — {_(f.label)} ({'; '.join(facts)})"]
    if f.help:
        lines.extend(_wrap(_(f.help), "      "))
    return lines


def _typed(value: Any) -> str:
    """A value as it is typed after FIELD= (true, not the language's word for it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def usage_of(kind: str, op: Operation) -> str:
    tenant = "" if op.standalone else " " + _("TENANT")
    params = " ".join(f"{f.name}=…" if f.required else f"[{f.name}=…]" for f in op.params)
    extra = " [" + _("NAME=VALUE") + " …]" if op.extra_params else ""
    yes = " --yes" if op.changes_peer else ""
    return f"xdrconf {kind} {op.name}{tenant} {params}{extra}".rstrip() + f" [--json] [--timeout S]{yes}"


def describe_kind(spec: catalog.IntegrationSpec) -> str:
    lines = [*_wrap(_(spec.description), "")]
    for see in spec.see_also:
        lines.extend(_wrap(_(see.text).format(title=_(catalog.spec_for(see.kind).title)), ""))
    lines += ["", _("Fields (xdrconf integration set TENANT {kind} FIELD=VALUE …):").format(kind=spec.kind)]
    for f in spec.fields:
        lines.extend(describe_field(spec, f))
    lines += ["", _("Operations:")]
    for op in spec.operations:
        lines.append(f"  {usage_of(spec.kind, op)}")
        lines.extend(_wrap(f"{_(op.title)}: {_(op.description)}".rstrip(": "), "      "))
        if op.notice:
            lines.extend(_wrap(_("Note: {notice}").format(notice=_(op.notice)), "      "))
        if op.changes_peer:
            lines.extend(_wrap(_("Changes data on the peer: needs --yes."), "      "))
        for f in op.params:
            lines.extend("    " + line for line in describe_field(spec, f, param=True))
        if op.extra_params:
            lines.extend(_wrap(f"NAME=VALUE: {_(op.extra_params)}", "      "))
    lines += [
        "",
        _(
            "Exit status: 0 every outcome ok; 1 an outcome is not ok (a problem found by running); "
            "2 a usage or configuration error before anything ran."
        ),
    ]
    return "\n".join(lines)


# ---- running one operation ---------------------------------------------------------------------------
def split_words(op: Operation, words: list[str]) -> dict[str, str]:
    """NAME=VALUE words (NAME a parameter, or any name where the operation takes others),
    and bare words for the required parameters in order."""
    names = {f.name for f in op.params}
    params: dict[str, str] = {}
    bare: list[str] = []
    for word in words:
        name, sep, value = word.partition("=")
        name = name.strip()
        if sep and name and (name in names or op.extra_params):
            params[name] = value
        else:
            bare.append(word)
    for f in op.params:
        if not bare:
            break
        if f.name not in params and f.required:
            params[f.name] = bare.pop(0)
    if bare:
        known = ", ".join(f.name for f in op.params) or pgettext("no parameters", "none")
        fail(
            _("'{word}' is not PARAMETER=VALUE for '{title}' (parameters: {known})").format(
                word=bare[0], title=op.title, known=known
            )
        )
    return params


def run_one(
    args: argparse.Namespace,
    kind: str,
    op_name: str,
    tenant: str | None,
    params: dict[str, str],
    *,
    confirmed: bool = False,
    on_progress: Callable[[Any], None] | None = None,
) -> list[Outcome]:
    """Run one operation for the command line (the settings opened read-only unless free);
    a check's outcomes are kept as the last results."""
    timeout = timeout_of(args)
    with open_ws(args, write=False) as ws:
        outcomes = run_operation(
            ws, tenant, kind, op_name, params, timeout=timeout, confirmed=confirmed, on_progress=on_progress
        )
        op = catalog.spec_for(kind).operation(op_name) if catalog.spec_for(kind).supported else None
        if op is not None and op.is_check and tenant is not None and not ws.readonly:
            record_check(ws, tenant, kind, outcomes)
    return outcomes


def print_outcomes(outcomes: list[Outcome], columns: tuple[tuple[str, str], ...] = ()) -> None:
    for o in outcomes:
        # An ok outcome with warnings, or that proved only reachability (Continent 4,
        # SKDPU NT), says so first.
        mark = "FAIL" if not o.ok else ("ok " if o.level == "ok" else outcome_short(o))
        latency = " " + _("{ms:.0f} ms").format(ms=o.latency_ms) if o.latency_ms is not None else ""
        where = o.connection or o.target
        # the window's words for the category (the code is in --json)
        words = category_words(o.category)
        print(f"{mark} {o.tenant} / {o.integration} [{where}] {words}{latency}: {o.message}")
        for w in o.warnings:
            print(_("  warning: {text}").format(text=w))
        rows = rows_of(o)
        if rows:
            print_table(rows, columns or tuple((k, k.upper()) for k in rows[0]))


def print_table(rows: list[dict[str, Any]], cols: tuple[tuple[str, str], ...]) -> None:
    # A column's title in the current language (a spec's LazyText or a plain English word);
    # str.upper() of a LazyText would see the English msgid.
    heads = {k: (_(title) if title else title).upper() for k, title in cols}
    widths = {k: max(len(heads[k]), *(len(str(r.get(k, ""))) for r in rows)) for k, _title in cols}
    print("  ".join(heads[k].ljust(widths[k]) for k, _title in cols).rstrip())
    for r in rows:
        print("  ".join(str(r.get(k, "")).ljust(widths[k]) for k, _unused in cols).rstrip())


def cmd_operation(args: argparse.Namespace) -> int:
    spec = catalog.spec_for(args.kind)
    op = spec.operation(args.operation)
    words = list(args.words)
    tenant: str | None = None
    if not op.standalone:
        if not words:
            fail(_("{usage}: give the TENANT").format(usage=usage_of(spec.kind, op)))
        tenant = words.pop(0)
    params = split_words(op, words)
    if op.notice and not args.json:
        print(_("Note: {notice}").format(notice=_(op.notice)), file=sys.stderr)
    outcomes = run_one(args, spec.kind, op.name, tenant, params, confirmed=args.yes)
    if args.json:
        print_json([o.public() for o in outcomes])
    elif not any(o.refused for o in outcomes):
        print_outcomes(outcomes, op.columns)
    status = exit_status(outcomes)
    if status == 2:
        for o in outcomes:
            print(f"xdrconf: {o.message}", file=sys.stderr)
    if status:
        raise CheckFailed(status)
    return 0


# ---- the parsers ---------------------------------------------------------------------------------
def _module(name: str) -> Any:
    full = f"xdrconf.cli.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name == full:
            return None
        raise


def register(sub: Any, common: argparse.ArgumentParser, add: Add) -> None:
    """`xdrconf KIND …` for every supported integration (its bespoke actions from the
    catalog's cli modules first, then its operations), and the modules' own commands."""
    for entry in catalog.ENTRIES:
        modules = [m for m in (_module(name) for name in entry.cli) if m is not None]
        for module in modules:
            if hasattr(module, "register"):
                module.register(sub, common, add)
        spec = catalog.spec_for(entry.kind)
        if not spec.supported:
            continue
        group = sub.add_parser(
            entry.kind,
            help=_("{title}: fields and operations (xdrconf {kind} --help)").format(
                title=spec.title, kind=entry.kind
            ),
            description=describe_kind(spec),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        gsub = group.add_subparsers(dest="operation", metavar=_("OPERATION"), required=True)
        taken: set[str] = set()
        for module in modules:
            if hasattr(module, "actions"):
                taken |= set(module.actions(gsub, common, add))
        for op in spec.operations:
            if op.name in taken:
                continue
            text = f"{_(op.title)}: {_(op.description)}" if op.description else _(op.title)
            p = add(gsub, op.name, cmd_operation, text)
            p.usage = usage_of(entry.kind, op)
            p.set_defaults(kind=entry.kind, spill="words")  # words after an option too (main.parse)
            p.add_argument("words", nargs="*", metavar=_("TENANT PARAM=VALUE"))
            p.add_argument("--json", action="store_true", help=_("print the outcomes as JSON"))
            p.add_argument("--timeout", metavar=_("SECONDS"), help=_("per step (default: the app's)"))
            p.add_argument(
                "--yes", action="store_true", help=_("confirm an operation that changes data on the peer")
            )
