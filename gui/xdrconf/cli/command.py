"""`xdrconf command`: the KUMA connector's commands of a tenant (seed 000): the defaults
(Receive incidents, one Close incident per reason) and the analyst's own API requests.

    xdrconf command list TENANT [--json]
    xdrconf command run TENANT NAME [--param KEY=VALUE ...] [--json]
    xdrconf command add TENANT NAME --method M --path PATH [--query K=V ...] [--header K=V ...]
                        [--body JSON|@FILE] [--replace]
    xdrconf command remove TENANT NAME

PATH is below https://host:port/api/<version>/ (the version is the integration's setting);
placeholders such as <Alert ID> are filled with --param "Alert ID=…" (or alert_id=…).
Commands hold no secrets: the token is added from the OS keyring when a command runs.
Exit status: 0 success (for run: KUMA answered 2xx); 1 the request failed or KUMA answered
with an error status; 2 usage or configuration error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xdrconf.core.i18n import _

from ..core import catalog
from ..core.integrations.kuma.api import CommandResponse
from ..core.integrations.kuma.commands import (
    METHODS,
    Command,
    commands_of,
    find_command,
    parse_command,
    save_commands,
)
from .alerts import EXIT_CODES, error_json
from .common import CheckFailed, fail, open_ws, print_json, read_value_file
from .operations import run_one

if TYPE_CHECKING:
    from ..core.tenants import Tenant
    from ..core.workspace import Workspace


def _stored(ws: Workspace, tenant_ref: str) -> tuple[Tenant, list[Command], bool]:
    tenant = ws.tenant(tenant_ref)
    state = ws.integration(tenant, "kuma")
    return tenant, commands_of(state.settings), "commands" not in state.settings


def _describe(cmd: Command) -> dict[str, Any]:
    return {**cmd.to_dict(), "placeholders": list(cmd.placeholders)}


def cmd_list(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        tenant, commands, defaults = _stored(ws, args.tenant)
        path = ws.tree.path(tenant.id)
    if args.json:
        print_json({"tenant": path, "defaults": defaults, "commands": [_describe(c) for c in commands]})
        return 0
    note = _(" (the defaults; none saved yet)") if defaults else ""
    print(_("KUMA connector commands of '{path}'{note}:").format(path=path, note=note))
    for c in commands:
        params = (
            _("  needs: {placeholders}").format(placeholders=", ".join(f"<{p}>" for p in c.placeholders))
            if c.placeholders
            else ""
        )
        print(f"  {c.name}: {c.method} {c.display_path()}{params}")
        if c.body:
            print(_("      body: {body}").format(body=c.body))
    return 0


def _params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            fail(_("--param '{pair}': give KEY=VALUE, e.g. --param 'Alert ID=…'").format(pair=pair))
        key, value = pair.split("=", 1)
        if not key.strip():
            fail(_("--param '{pair}': the KEY is empty").format(pair=pair))
        out[key.strip()] = value
    return out


def cmd_run(args: argparse.Namespace) -> int:
    params = _params(args.param or [])
    # The command itself is the explicit request to send it: no --yes as well.
    [outcome] = run_one(args, "kuma", "command", args.tenant, {**params, "name": args.name}, confirmed=True)
    if outcome.refused:
        fail(outcome.message)
    if outcome.data is None:  # the request could not be made
        if args.json:
            print_json(error_json(outcome))
        print(f"xdrconf: {outcome.message}", file=sys.stderr)
        raise CheckFailed
    response = CommandResponse.from_payload(outcome.data)
    if args.json:
        print_json(response.public())
    else:
        print(
            _("{method} {url} → {status} {reason} ({elapsed_ms:.0f} ms)").format(
                method=response.method,
                url=response.url,
                status=response.status,
                reason=response.reason,
                elapsed_ms=response.elapsed_ms,
            )
        )
        body = response.pretty_body()
        if body:
            print(body)
        if response.truncated:
            print(_("(the response was cut short for display)"))
    if not response.ok:
        print(f"xdrconf: {response.message}", file=sys.stderr)
        raise CheckFailed
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    body = args.body or ""
    if body.startswith("@"):
        body = read_value_file(_("Body"), body[1:])
    data = {
        "name": args.name,
        "method": args.method,
        "path": args.path,
        "query": [_split(q, "--query") for q in args.query or []],
        "headers": [_split(h, "--header") for h in args.header or []],
        "body": body,
    }
    new = parse_command(data)
    with open_ws(args, write=True) as ws:
        tenant, commands, _unused = _stored(ws, args.tenant)
        kept = [c for c in commands if c.name.lower() != new.name.lower()]
        if len(kept) != len(commands) and not args.replace:
            fail(_("a command '{name}' exists already; add --replace to overwrite it").format(name=new.name))
        index = next((i for i, c in enumerate(commands) if c.name.lower() == new.name.lower()), len(kept))
        kept.insert(index, new)
        save_commands(ws, tenant.id, kept)
        print(
            _("Saved command '{name}' of '{path}': {method} {display_path}.").format(
                name=new.name,
                path=ws.tree.path(tenant.id),
                method=new.method,
                display_path=new.display_path(),
            )
        )
    return 0


def _split(pair: str, option: str) -> list[str]:
    if "=" not in pair:
        fail(_("{option} '{pair}': give NAME=VALUE").format(option=option, pair=pair))
    name, value = pair.split("=", 1)
    return [name.strip(), value]


def cmd_remove(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant, commands, _unused = _stored(ws, args.tenant)
        gone = find_command(commands, args.name)
        save_commands(ws, tenant.id, [c for c in commands if c is not gone])
        print(_("Removed command '{name}' of '{path}'.").format(name=gone.name, path=ws.tree.path(tenant.id)))
    return 0


def register(sub: Any, common: argparse.ArgumentParser, add: Callable[..., argparse.ArgumentParser]) -> None:
    title = catalog.title_of("kuma")
    group = sub.add_parser(
        "command",
        parents=[common],
        help=_("the {title} connector commands of a tenant: list, run, add, remove").format(title=title),
        epilog=EXIT_CODES + ".",
    )
    csub = group.add_subparsers(dest="action", metavar=_("ACTION"), required=True)
    p = add(csub, "list", cmd_list, _("list the tenant's KUMA connector commands"))
    p.add_argument("tenant")
    p.add_argument("--json", action="store_true")
    p = add(csub, "run", cmd_run, _("run one command and show KUMA's answer"))
    p.add_argument("tenant")
    p.add_argument("name", help=_("the command's name (quote names with spaces)"))
    p.add_argument(
        "--param",
        action="append",
        metavar=_("KEY=VALUE"),
        help=_("a value for a placeholder, e.g. --param 'Alert ID=…' (repeatable)"),
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", metavar=_("SECONDS"))
    p.epilog = EXIT_CODES + _("; run exits 1 when KUMA answers with an error status.")
    p = add(csub, "add", cmd_add, _("add (or with --replace, change) a command"))
    p.add_argument("tenant")
    p.add_argument("name")
    p.add_argument("--method", required=True, type=str.upper, choices=METHODS)
    p.add_argument(
        "--path",
        required=True,
        help=_(
            "below https://host:port/api/<version>/, e.g. alerts/close; "
            "placeholders such as <Alert ID> allowed"
        ),
    )
    p.add_argument(
        "--query", action="append", metavar=_("NAME=VALUE"), help=_("a query parameter (repeatable)")
    )
    p.add_argument(
        "--header",
        action="append",
        metavar=_("NAME=VALUE"),
        help=_("a request header (repeatable; never Authorization: the token is added by xdrconf)"),
    )
    p.add_argument(
        "--body", metavar=_("JSON|@FILE"), help=_('JSON body template, e.g. \'{"id": "<Alert ID>"}\'')
    )
    p.add_argument("--replace", action="store_true", help=_("overwrite a command of the same name"))
    p = add(csub, "remove", cmd_remove, _("remove a command"))
    p.add_argument("tenant")
    p.add_argument("name")
