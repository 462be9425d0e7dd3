"""The command-line twin of the window, over the same core.

Exit status: 0 success, 1 a requested check did not pass, 2 a usage or configuration
error (one line on stderr), 141 (READER_GONE) the reader of standard output stopped reading
(`xdrconf … | head -1`; nothing on stderr). Secrets never come from the command line itself: only from
`FIELD=@file` or `--secret FIELD` (standard input, or a prompt without echo)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..core import appsettings, catalog, i18n
from ..core.errors import SecretsWouldFollow, ValidationError, XdrconfError
from ..core.fields import Field
from ..core.i18n import _, ngettext, pgettext
from ..core.outcome import outcome_words
from ..core.status import integration_status
from ..core.tenants import Tenant
from ..core.workspace import IntegrationEdit, Workspace
from .common import CheckFailed, SecretReader, fail, open_ws, print_json, read_value_file, timeout_of


def parse_assignments(
    spec: catalog.IntegrationSpec, pairs: list[str], secret_names: list[str], reader: SecretReader
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """FIELD=VALUE / FIELD=@file / FIELD= (clear) plus --secret FIELD into an edit."""
    values: dict[str, Any] = {}
    secrets: dict[str, str | None] = {}
    for pair in pairs:
        if "=" not in pair:
            fail(_("'{pair}' is not FIELD=VALUE").format(pair=pair))
        name, raw = pair.split("=", 1)
        name = name.strip()
        f = spec.field(name)
        if raw.startswith("@"):
            source = raw[1:]
            raw = read_value_file(f.label, source)
            if f.kind == "secret":
                raw = raw.removesuffix("\n").removesuffix("\r")  # the line end an editor adds
            elif not f.secret:
                check_file_value(f, raw, source)
        elif f.secret and raw:
            fail(
                _(
                    "{label}: a secret on the command line would land in the process list and the "
                    "shell history; use --secret {name} (standard input or a prompt) or {name}=@FILE"
                ).format(label=f.label, name=name)
            )
        if f.secret:
            secrets[name] = raw if raw else None
        else:
            values[name] = raw if raw != "" else None
    for name in secret_names:
        f = spec.field(name)
        if not f.secret:
            fail(_("{label}: is not a secret; set it as {name}=VALUE").format(label=f.label, name=name))
        if name in secrets:
            fail(_("{label}: given twice").format(label=f.label))
        secrets[name] = reader.read(f.label)
    return values, secrets


def check_file_value(f: Field, text: str, source: str) -> None:
    """A value read from a file, parsed now so that an error says what is wrong without
    quoting the file's content (a parser quotes what it was given; a file may hold anything,
    e.g. /etc/shadow when named by mistake)."""
    try:
        f.parse(text)
    except ValidationError as exc:
        problem = exc.problem
        for form in sorted({text, text.strip()}, key=len, reverse=True):
            if form:
                problem = problem.replace(form, _("…"))
        lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= 4]
        if any(line in problem for line in lines):
            problem = _("it is not a valid value for this field")
        raise ValidationError(
            f.label,
            _("the file '{file}' does not hold a valid value ({problem})").format(
                file=source, problem=problem
            ),
            field=f.name,
        ) from None


# ---- tenant commands ---------------------------------------------------------------------
def cmd_tenant_list(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        rows = []
        for tenant in ws.tree.walk_all():
            enabled = [
                k for k in catalog.KINDS if k in tenant.integrations and tenant.integrations[k].enabled
            ]
            rows.append(
                {
                    "id": tenant.id,
                    "name": tenant.name,
                    "path": ws.tree.path(tenant.id),
                    "parent": tenant.parent_id,
                    "role": tenant.role,
                    "enabled_integrations": enabled,
                    "flags": [f"{k}: {fl.message}" for k, fl in ws.flags(tenant)],
                }
            )
        if args.json:
            print_json(rows)
            return 0
        for row, tenant in zip(rows, ws.tree.walk_all(), strict=True):
            indent = "  " * ws.tree.depth(tenant.id)
            extra = f"  [{', '.join(row['enabled_integrations'])}]" if row["enabled_integrations"] else ""
            warn = "  (!)" if row["flags"] else ""
            print(f"{indent}{tenant.name}{extra}{warn}")
    return 0


def cmd_tenant_add(args: argparse.Namespace) -> int:
    from ..core.workspace import NewTenant

    with open_ws(args, write=True) as ws:
        added = ws.add_tenants([NewTenant(name, args.parent) for name in args.name])
        for tenant in added:
            copied = [k for k in tenant.integrations]
            if copied:
                print(
                    _("Added '{path}'; copied from its parent: {kinds}.").format(
                        path=ws.tree.path(tenant.id), kinds=", ".join(copied)
                    )
                )
            else:
                print(_("Added '{path}'.").format(path=ws.tree.path(tenant.id)))
    return 0


def cmd_tenant_rename(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.name)
        ws.rename_tenant(tenant.id, args.new_name)
        print(_("Renamed to '{path}'.").format(path=ws.tree.path(tenant.id)))
    return 0


def cmd_tenant_move(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.name)
        ws.move_tenant(tenant.id, args.new_parent)
        print(_("Moved to '{path}'.").format(path=ws.tree.path(tenant.id)))
    return 0


def cmd_tenant_remove(args: argparse.Namespace) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.name)
        lines = ws.removal_summary(tenant.id)
        if not args.yes:
            if not sys.stdin.isatty():
                fail(
                    _("removing a tenant needs confirmation: add --yes (it removes: {what})").format(
                        what="; ".join(str(line) for line in lines)
                    )
                )
            print(_("This removes:"))
            for line in lines:
                print(f"  - {line}")
            answer = input(_("Remove? [y/N] ")).strip().lower()
            if answer not in ("y", "yes", _("y")):
                print(_("Nothing was removed."))
                return 0
        ws.remove_tenant(tenant.id)
        print(_("Removed: {what}.").format(what="; ".join(str(line) for line in lines)))
    return 0


# ---- integration commands ------------------------------------------------------------------
def describe_state(ws: Workspace, tenant: Tenant, kind: str) -> dict[str, Any]:
    spec = catalog.spec_for(kind)
    state = ws.integration(tenant, kind)
    status = integration_status(ws, tenant, kind)
    settings = {}
    for f in spec.plain_fields:
        if f.name in state.settings:
            settings[f.name] = state.settings[f.name]
    secrets = {f.name: ("set" if f.name in state.secrets else "not set") for f in spec.secret_fields}
    extra_secrets = {k: "set" for k in state.secrets if k not in secrets}
    return {
        "tenant": ws.tree.path(tenant.id),
        "integration": kind,
        "title": spec.title,
        "supported": spec.supported,
        "enabled": status.enabled,
        "configured": status.configured,
        "missing": status.missing,
        "settings": settings,
        "secrets": {**secrets, **extra_secrets},
        "managed": {k: state.settings[k] for k in spec.structured_keys if k in state.settings},
        "last_check": status.last_check,
        "level": status.level,
        "flags": [message for _kind, message in status.flags],
    }


def cmd_integration_list(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        tenant = ws.tenant(args.tenant)
        rows = [describe_state(ws, tenant, k) for k in catalog.KINDS]
        if args.json:
            print_json(
                [
                    {
                        k: r[k]
                        for k in (
                            "integration",
                            "title",
                            "supported",
                            "enabled",
                            "configured",
                            "last_check",
                            "flags",
                        )
                    }
                    for r in rows
                ]
            )
            return 0
        if tenant.is_shared:
            print(_("The Shared tenant needs no integration settings."))
            return 0
        for r in rows:
            last = r["last_check"]
            check = (
                _("  last check: {outcome} ({when})").format(
                    outcome=outcome_words(last), when=last["checked_at"]
                )
                if last
                else ""
            )
            print(f"{r['integration']:<11} {r['title']:<50} {_state_words(r)}{check}")
    return 0


def _state_words(row: dict[str, Any]) -> str:
    if not row["supported"]:
        return _("not yet supported")
    if row["enabled"]:
        return _("on, configured") if row["configured"] else _("on, not configured")
    return _("off, configured") if row["configured"] else _("off, not configured")


def cmd_integration_show(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        tenant = ws.tenant(args.tenant)
        data = describe_state(ws, tenant, args.kind)
        if args.json:
            print_json(data)
            return 0
        spec = catalog.spec_for(args.kind)
        print(f"{data['title']} — {data['tenant']}")
        if not spec.supported:
            print("  " + _("not yet supported"))
            return 0
        print(_("  enabled: {answer}").format(answer=_("yes") if data["enabled"] else _("no")))
        for f in spec.fields:
            if f.secret:
                value = (
                    pgettext("a secret's state", "set")
                    if data["secrets"][f.name] == "set"
                    else pgettext("a secret's state", "not set")
                )
            else:
                value = f.format(data["settings"].get(f.name))
                if f.kind == "pem" and value:
                    n = value.count("BEGIN CERTIFICATE")
                    value = ngettext("({n} certificate)", "({n} certificates)", n).format(n=n)
            print(f"  {f.name}: {value}")
        if data["missing"]:
            print(_("  missing: {fields}").format(fields=", ".join(str(label) for label in data["missing"])))
        if data["last_check"]:
            lc = data["last_check"]
            print(
                _("  last check: {outcome} at {when}: {message}").format(
                    outcome=outcome_words(lc), when=lc["checked_at"], message=lc["message"]
                )
            )
        for flag in data["flags"]:
            print(_("  warning: {text}").format(text=flag))
    return 0


def cmd_integration_set(args: argparse.Namespace) -> int:
    spec = catalog.spec_for(args.kind)
    if not spec.supported:
        fail(_("{title} is not yet supported").format(title=spec.title))
    values, secrets = parse_assignments(spec, args.assignments, args.secret or [], SecretReader())
    if not values and not secrets:
        fail(_("nothing to set: give FIELD=VALUE pairs or --secret FIELD"))
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        changed = sorted(list(values) + list(secrets))
        keep = args.keep_secrets
        try:
            if args.subtree:
                ids = ws.subtree_ids(tenant.id)
                ws.update_many(
                    [
                        (tid, IntegrationEdit(args.kind, values=values, secrets=secrets, keep_secrets=keep))
                        for tid in ids
                    ]
                )
                done = _("{title}: set {fields}").format(title=spec.title, fields=", ".join(changed))
                print(_subtree_done(ws, ids, done))
                return 0
            ws.update_integration(
                tenant.id, IntegrationEdit(args.kind, values=values, secrets=secrets, keep_secrets=keep)
            )
        except SecretsWouldFollow as exc:
            names = sorted({item.name for item in exc.following})
            fail(
                str(exc)
                + " "
                + _(
                    "Give them again in this command ({options}), or add --keep-secrets to send the "
                    "stored ones to the new target."
                ).format(options=", ".join(f"--secret {n}" for n in names))
            )
        print(
            _("{title} of '{path}': set {fields}.").format(
                title=spec.title, path=ws.tree.path(tenant.id), fields=", ".join(changed)
            )
        )
    return 0


def _subtree_done(ws: Workspace, ids: list[str], what: str) -> str:
    paths = [ws.tree.path(tid) for tid in ids]
    quoted = pgettext("a tenant's path in a list", "'{path}'")
    shown = ", ".join(quoted.format(path=p) for p in paths[:10]) + (" …" if len(paths) > 10 else "")
    return ngettext(
        "{what} — {n} tenant, in one change: {tenants}.",
        "{what} — {n} tenants, in one change: {tenants}.",
        len(paths),
    ).format(what=what, n=len(paths), tenants=shown)


def _set_enabled(args: argparse.Namespace, enabled: bool) -> int:
    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        if args.subtree:
            ids = ws.subtree_ids(tenant.id)
            ws.update_many([(tid, IntegrationEdit(args.kind, enabled=enabled)) for tid in ids])
            title = catalog.title_of(args.kind)
            what = _("{title} turned on") if enabled else _("{title} turned off")
            print(_subtree_done(ws, ids, what.format(title=title)))
            return 0
        ws.set_enabled(tenant.id, args.kind, enabled)
        done = _("{title} of '{path}' is turned on.") if enabled else _("{title} of '{path}' is turned off.")
        print(done.format(title=catalog.title_of(args.kind), path=ws.tree.path(tenant.id)))
    return 0


# ---- export / import -------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from ..core import exchange

    with open_ws(args, write=False) as ws:
        text = exchange.dumps(exchange.export_document(ws, args.tenant))
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
        print(_("Exported to {file} (no secrets included).").format(file=args.output), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..core import exchange

    text = read_value_file(_("Import file"), args.file, limit=exchange.MAX_IMPORT)
    doc = exchange.loads(text)
    with open_ws(args, write=True) as ws:
        needed = exchange.import_document(ws, doc)
    print(_("Imported."))
    if needed:
        print(
            _(
                "These secrets were not in the file (exports never hold secrets); enter them again, "
                "then turn the integration on:"
            )
        )
        for item in needed:
            print(f"  - {item.line()}\n      {item.hint()}")
    return 0


# ---- checks ----------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    from ..core.checkproc import run_and_keep
    from ..core.engine import exit_status
    from ..core.scheduler import targets
    from .operations import print_outcomes

    timeout = timeout_of(args)
    if args.kind is not None and args.tenant is None:
        fail(_("KIND needs a TENANT"))
    with open_ws(args, write=False) as ws:
        if args.kind is not None:
            spec = catalog.spec_for(args.kind)
            notice = spec.check_op.notice if spec.check_op is not None else ""
            if notice and not args.json:
                print(_("Note: {notice}").format(notice=_(notice)), file=sys.stderr)
        found = run_and_keep(ws, targets(ws, args.tenant, args.kind), timeout=timeout)
    if args.json:
        print_json([r.public() for r in found])
    else:
        if not found:
            print(_("Nothing to check: no integration is turned on."))
        print_outcomes(found)
    status = exit_status(found, refusal_is_usage=False)
    if status:
        raise CheckFailed(status)
    return 0


# ---- application settings ------------------------------------------------------------------
def cmd_config_show(args: argparse.Namespace) -> int:
    with open_ws(args, write=False) as ws:
        status = ws.secrets.status()
        data = {
            "config_dir": str(ws.config_dir),
            "settings_file": str(ws.file.path),
            "secret_store": status.kind,
            "secret_store_status": status.name + ("" if status.usable else " — not usable"),
            "timeout": appsettings.timeout_of(ws.app),
            "proxy": ws.app.get("proxy", {"mode": "none"}),
            "language": ws.app.get("language", "auto"),
            "language_in_use": i18n.language(),
            "read_only": ws.readonly_reason or None,
        }
    if not status.usable:
        data["secret_store_problem"] = status.reason
    if args.json:
        print_json(data)
        return 0
    store = status.name if status.usable else _("{store} — not usable").format(store=status.name)
    proxy = data["proxy"]
    language = i18n.language()
    lines = [
        (_("Settings folder"), data["config_dir"]),
        (_("Settings file"), data["settings_file"]),
        (_("Secret store"), store),
        (_("Problem of the secret store"), data.get("secret_store_problem")),
        (_("Timeout (timeout)"), _("{seconds:g} s").format(seconds=data["timeout"])),
        (_("Proxy (proxy_mode)"), proxy.get("mode", "none")),
        (_("Proxy URL (proxy_url)"), proxy.get("url")),
        (_("Without proxy (no_proxy)"), ", ".join(proxy.get("no_proxy") or [])),
        (
            _("Language (language)"),
            _("{setting}; in use: {language}").format(setting=data["language"], language=language),
        ),
        (_("Read-only"), data["read_only"]),
    ]
    for label, value in lines:
        if value:
            print(f"{label}: {value}")
    return 0


def cmd_config_set(args: argparse.Namespace) -> int:
    # secret_store moves every secret (Workspace.move_secrets); the others are app settings.
    stores = [
        p.split("=", 1)[1].strip() for p in args.assignments if p.split("=", 1)[0].strip() == "secret_store"
    ]
    pairs = [p for p in args.assignments if p.split("=", 1)[0].strip() != "secret_store"]
    for store in stores:
        if store not in ("keyring", "vault"):
            fail(_("secret_store: one of keyring, vault"))
    with open_ws(args, write=True) as ws:
        changes = appsettings.apply_assignments(ws.app, pairs) if pairs else {}
        for store in stores[-1:]:
            report = ws.move_secrets(store)
            if store == "vault":
                where = _("Secrets are kept in the vault {path}.").format(path=ws.secrets.vault.path)
            else:
                where = _("Secrets are kept in the OS keyring ({backend}).").format(
                    backend=ws.secrets.keyring.backend_name
                )
            moved = ngettext("{n} secret moved.", "{n} secrets moved.", report.moved).format(n=report.moved)
            gone = (
                " "
                + ngettext(
                    "{n} was already missing and stays missing.",
                    "{n} were already missing and stay missing.",
                    report.missing,
                ).format(n=report.missing)
                if report.missing
                else ""
            )
            print(f"{where} {moved}{gone}")
        if changes:
            ws.set_app(**changes)
    print(_("Saved."))
    return 0


def cmd_config_restore(args: argparse.Namespace) -> int:
    with open_ws(args, write=True, notice=False) as ws:
        ws.restore_backup()
    print(_("The backup of the settings is in use again."))
    return 0


def cmd_config_dismiss(args: argparse.Namespace) -> int:
    with open_ws(args, write=True, notice=False) as ws:
        if ws.notice is None:
            print(_("There is no notice to dismiss."))
            return 0
        kept = ws.notice.moved_to
        ws.dismiss_notice()
    print(
        _(
            "Dismissed: the current settings stay in use, and saves keep a backup again. The file "
            "kept aside stays as {file}."
        ).format(file=kept)
    )
    return 0


# ---- parser ------------------------------------------------------------------------------------
def SUBTREE_HELP() -> str:
    return _("apply it to the tenant and every tenant below it, all or none in one change")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config-dir",
        metavar=_("DIR"),
        default=argparse.SUPPRESS,
        help=_("settings folder (default: XDRCONF_CONFIG_DIR or the user's config folder)"),
    )
    parser = argparse.ArgumentParser(
        prog="xdrconf",
        description=_(
            "Configure and verify Kaspersky Next XDR Expert and KUMA integrations per tenant. "
            "Without a command, the window opens."
        ),
        parents=[common],
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"xdrconf {__version__}",
        help=_("show program's version number and exit"),
    )
    sub = parser.add_subparsers(dest="command", metavar=_("COMMAND"))

    def add(
        parent: Any, name: str, func: Callable[[argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_, parents=[common], description=help_)
        p.set_defaults(func=func)
        return p

    text = _("list and change tenants")
    tenant = sub.add_parser("tenant", help=text, description=text, parents=[common])
    tsub = tenant.add_subparsers(dest="action", metavar=_("ACTION"), required=True)
    p = add(tsub, "list", cmd_tenant_list, _("list tenants as a tree"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = add(
        tsub,
        "add",
        cmd_tenant_add,
        _("add child tenants, all or none in one change (each gets a copy of its parent's integrations)"),
    )
    p.add_argument("name", nargs="+", metavar=_("NAME"))
    p.add_argument("--parent", metavar=_("PARENT"), help=_("parent tenant (default: Root)"))
    p = add(tsub, "rename", cmd_tenant_rename, _("rename a tenant"))
    p.add_argument("name", metavar=_("NAME"))
    p.add_argument("new_name", metavar=_("NEW_NAME"))
    p = add(tsub, "move", cmd_tenant_move, _("move a tenant under another parent"))
    p.add_argument("name", metavar=_("NAME"))
    p.add_argument("new_parent", metavar=_("NEW_PARENT"))
    p = add(tsub, "remove", cmd_tenant_remove, _("remove a tenant, its integrations and their secrets"))
    p.add_argument("name", metavar=_("NAME"))
    p.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))

    text = _("show and change a tenant's integrations")
    integ = sub.add_parser("integration", help=text, description=text, parents=[common])
    isub = integ.add_subparsers(dest="action", metavar=_("ACTION"), required=True)
    kinds = list(catalog.KINDS)
    p = add(isub, "list", cmd_integration_list, _("list a tenant's integrations"))
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = add(isub, "show", cmd_integration_show, _("show one integration (secrets only as set / not set)"))
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument("kind", choices=kinds, metavar=_("KIND"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = add(
        isub,
        "set",
        cmd_integration_set,
        _("set fields: FIELD=VALUE, FIELD=@FILE, FIELD= to clear; secrets with --secret FIELD"),
    )
    p.epilog = _(
        "The fields of each integration, with their allowed values and defaults, and its "
        "operations: xdrconf KIND --help (kinds: {kinds})."
    ).format(kinds=", ".join(k for k in kinds if catalog.spec_for(k).supported))
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument("kind", choices=kinds, metavar=_("KIND"))
    p.add_argument("assignments", nargs="*", metavar=_("FIELD=VALUE"))
    p.set_defaults(spill="assignments")  # FIELD=VALUE after an option too (see parse)
    p.add_argument("--subtree", action="store_true", help=SUBTREE_HELP())
    p.add_argument(
        "--secret",
        action="append",
        metavar=_("FIELD"),
        help=_("read this secret from standard input (one line each) or a prompt"),
    )
    p.add_argument(
        "--keep-secrets",
        action="store_true",
        help=_(
            "when the change points the integration to a new target (host, port, URL), send the "
            "secrets stored for the old one there too (without it such a change is refused "
            "unless the secrets are given again)"
        ),
    )
    p = add(isub, "enable", lambda a: _set_enabled(a, True), _("turn an integration on"))
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument("kind", choices=kinds, metavar=_("KIND"))
    p.add_argument("--subtree", action="store_true", help=SUBTREE_HELP())
    p = add(isub, "disable", lambda a: _set_enabled(a, False), _("turn an integration off"))
    p.add_argument("tenant", metavar=_("TENANT"))
    p.add_argument("kind", choices=kinds, metavar=_("KIND"))
    p.add_argument("--subtree", action="store_true", help=SUBTREE_HELP())

    p = add(sub, "check", cmd_check, _("check connections (all enabled integrations by default)"))
    p.add_argument("tenant", nargs="?", metavar=_("TENANT"))
    p.add_argument("kind", nargs="?", choices=kinds, metavar=_("KIND"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--timeout", metavar=_("SECONDS"), help=_("per step (default: the app's)"))

    p = add(sub, "export", cmd_export, _("export tenants and settings (never secrets)"))
    p.add_argument("--tenant", metavar=_("TENANT"), help=_("export this tenant and its subtree only"))
    p.add_argument("-o", "--output", metavar=_("FILE"), help=_("file to write (default: standard output)"))
    p = add(sub, "import", cmd_import, _("import an export; lists the secrets to enter again"))
    p.add_argument("file", metavar=_("FILE"))

    text = _("application settings: timeout, proxy, language, secret store")
    config = sub.add_parser("config", help=text, description=text, parents=[common])
    csub = config.add_subparsers(dest="action", metavar=_("ACTION"), required=True)
    p = add(csub, "show", cmd_config_show, _("show application settings, the keyring and the config folder"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = add(
        csub,
        "set",
        cmd_config_set,
        _(
            "set timeout=SECONDS, proxy_mode=none|manual|system, proxy_url=URL, no_proxy=HOSTS, "
            "language=auto|en|ru (from the next start; XDRCONF_LANG overrides it), "
            "secret_store=keyring|vault (moves every secret across, all or nothing)"
        ),
    )
    p.add_argument("assignments", nargs="+", metavar=_("KEY=VALUE"))
    add(
        csub, "restore-backup", cmd_config_restore, _("use the backup of the settings (after a corrupt file)")
    )
    add(
        csub,
        "dismiss-notice",
        cmd_config_dismiss,
        _("keep the current settings after a file was kept aside (saves then replace the backup again)"),
    )

    from . import audit, health, mssp, operations

    audit.register(sub, common, add)
    health.register(sub, common, add)
    mssp.register(sub, tsub, common, add)
    operations.register(sub, common, add)
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """argv parsed; the words of a command that takes FIELD=VALUE (or PARAM=VALUE) words
    may stand before, between and after its options. argparse gives a list positional its
    words once: those after an option (`set T kuma --secret token host=x`) come back as
    unrecognized, and go to the command's list named by its `spill` default."""
    args, extra = parser.parse_known_args(argv)
    spill = getattr(args, "spill", None)
    if extra and spill and not any(word.startswith("-") for word in extra):
        setattr(args, spill, [*(getattr(args, spill) or []), *extra])
    elif extra:
        parser.error(_("unrecognized arguments: %s") % " ".join(extra))
    return args


def config_dir_arg(argv: list[str]) -> str | None:
    """The --config-dir DIR of argv, found before the parser exists (the parser's texts
    need the language, and the language setting lives in that folder)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--config-dir" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--config-dir="):
            return arg.split("=", 1)[1]
    return None


# 128 + SIGPIPE, what a shell reports for a tool that the signal ended (Python ignores SIGPIPE).
READER_GONE = 141


def run(argv: list[str]) -> int:
    """The command's exit status. A reader of standard output that stopped reading (a pipe
    into `head`) ends the command quietly with READER_GONE: standard output is flushed
    here, inside the guard, and then pointed at os.devnull, so that the interpreter's last
    flush of what was buffered has nowhere to fail."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # also when argparse exits (--help, --version, a usage error)
    except BrokenPipeError:
        _stdout_to_devnull()
        return READER_GONE


def _stdout_to_devnull() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (io.StringIO): nothing to flush later
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _run(argv: list[str]) -> int:
    i18n.setup(i18n.setting_in(config_dir_arg(argv)))
    from .common import ACTION, action_of

    ACTION["text"] = action_of(argv)
    parser = build_parser()
    args = parse(parser, argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CheckFailed as done:
        return done.code
    except XdrconfError as exc:
        # TRANSLATORS: the one line of a failed command on standard error; keep "xdrconf:".
        print(_("xdrconf: {error}").format(error=exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("xdrconf: interrupted; nothing more was changed."), file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # the reader is gone: run() ends quietly
    except OSError as exc:
        # The last resort for a file outside the settings (an export, a @file value): its name
        # and the cause, never a traceback. The settings' own errors say more above.
        from ..core.storage import cause_of

        print(
            _("xdrconf: {file}: {cause}.").format(file=exc.filename or "?", cause=cause_of(exc)),
            file=sys.stderr,
        )
        return 2
