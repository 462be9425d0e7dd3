"""How far the translation has come: the catalogs against the code, and the user-visible
string literals that bypass xdrconf.core.i18n. Used by tests/test_i18n.py and by
`bash packaging/i18n.sh status` (which runs this module).

TRANSLATED lists the modules that are done: every message they have has a Russian text, and
no user-visible literal of theirs bypasses the mechanism. The tests fail for those modules
only and report the rest; the list grows module by module until it is every module."""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GUI = REPO / "gui"
PACKAGE = GUI / "xdrconf"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("ru",)

# Modules (paths under gui/, and "argparse.py" for the standard library's texts) that are
# fully translated. Add a module here once `i18n.sh status` shows it at 0 and 0.
TRANSLATED = frozenset(
    {
        "argparse.py",
        "xdrconf/cli/audit.py",
        "xdrconf/cli/common.py",
        "xdrconf/cli/main.py",
        "xdrconf/cli/health.py",
        "xdrconf/cli/mssp.py",
        "xdrconf/core/audit.py",
        "xdrconf/core/document.py",
        "xdrconf/core/drift.py",
        "xdrconf/__init__.py",
        "xdrconf/__main__.py",
        "xdrconf/cli/__init__.py",
        "xdrconf/cli/alerts.py",
        "xdrconf/cli/command.py",
        "xdrconf/cli/custom.py",
        "xdrconf/cli/kasap.py",
        "xdrconf/cli/kata.py",
        "xdrconf/cli/operations.py",
        "xdrconf/cli/tip.py",
        "xdrconf/cli/vault_passphrase.py",
        "xdrconf/core/__init__.py",
        "xdrconf/core/appsettings.py",
        "xdrconf/core/catalog.py",
        "xdrconf/core/checkproc.py",
        "xdrconf/core/engine.py",
        "xdrconf/core/errors.py",
        "xdrconf/core/exchange.py",
        "xdrconf/core/fields.py",
        "xdrconf/core/files.py",
        "xdrconf/core/health.py",
        "xdrconf/core/http.py",
        "xdrconf/core/i18n.py",
        "xdrconf/core/integrations/__init__.py",
        "xdrconf/core/integrations/checkpoint/__init__.py",
        "xdrconf/core/integrations/checkpoint/api.py",
        "xdrconf/core/integrations/common.py",
        "xdrconf/core/integrations/continent/__init__.py",
        "xdrconf/core/integrations/custom/__init__.py",
        "xdrconf/core/integrations/custom/keys.py",
        "xdrconf/core/integrations/custom/ssh.py",
        "xdrconf/core/integrations/ideco/__init__.py",
        "xdrconf/core/integrations/ideco/api.py",
        "xdrconf/core/integrations/ad/__init__.py",
        "xdrconf/core/integrations/ad/certs.py",
        "xdrconf/core/integrations/ad/directory.py",
        "xdrconf/core/integrations/ad/ldap.py",
        "xdrconf/core/integrations/ad/names.py",
        "xdrconf/core/integrations/ad/rights.py",
        "xdrconf/core/integrations/ad/sd.py",
        "xdrconf/core/integrations/ad/users.py",
        "xdrconf/core/integrations/kuma/tenants.py",
        "xdrconf/core/integrations/kasap/__init__.py",
        "xdrconf/core/integrations/kata/__init__.py",
        "xdrconf/core/integrations/kata/certs.py",
        "xdrconf/core/integrations/kata/connections.py",
        "xdrconf/core/integrations/kuma/api.py",
        "xdrconf/core/integrations/kuma/__init__.py",
        "xdrconf/core/integrations/kuma/commands.py",
        "xdrconf/core/integrations/kuma/incidents.py",
        "xdrconf/core/integrations/redmine/__init__.py",
        "xdrconf/core/integrations/redmine/api.py",
        "xdrconf/core/integrations/redmine/settings.py",
        "xdrconf/core/integrations/skdpu/__init__.py",
        "xdrconf/core/integrations/sophos/__init__.py",
        "xdrconf/core/integrations/sophos/api.py",
        "xdrconf/core/integrations/tip/__init__.py",
        "xdrconf/core/integrations/tip/cache.py",
        "xdrconf/core/integrations/tip/lookup.py",
        "xdrconf/core/integrations/tip/observables.py",
        "xdrconf/core/integrations/usergate/__init__.py",
        "xdrconf/core/integrations/usergate/rpc.py",
        "xdrconf/core/jsonread.py",
        "xdrconf/core/net.py",
        "xdrconf/core/outcome.py",
        "xdrconf/core/paths.py",
        "xdrconf/core/process.py",
        "xdrconf/core/scheduler.py",
        "xdrconf/core/secrets.py",
        "xdrconf/core/secret_types.py",
        "xdrconf/core/status.py",
        "xdrconf/core/storage.py",
        "xdrconf/core/targets.py",
        "xdrconf/core/tenants.py",
        "xdrconf/core/vault.py",
        "xdrconf/core/workspace.py",
        "xdrconf/qt/__init__.py",
        "xdrconf/qt/app.py",
        "xdrconf/qt/checks_ui.py",
        "xdrconf/qt/dialogs.py",
        "xdrconf/qt/editors.py",
        "xdrconf/qt/mssp.py",
        "xdrconf/qt/health_grid.py",
        "xdrconf/qt/icons.py",
        "xdrconf/qt/integrations/__init__.py",
        "xdrconf/qt/integrations/custom.py",
        "xdrconf/qt/integrations/kasap.py",
        "xdrconf/qt/integrations/kata.py",
        "xdrconf/qt/integrations/kuma.py",
        "xdrconf/qt/integrations/tip.py",
        "xdrconf/qt/integrations_view.py",
        "xdrconf/qt/main_window.py",
        "xdrconf/qt/many.py",
        "xdrconf/qt/operations.py",
        "xdrconf/qt/settings_dialog.py",
        "xdrconf/qt/tenant_model.py",
        "xdrconf/qt/vault_dialog.py",
        "xdrconf/qt/wizard.py",
        "xdrconf/qt/workers.py",
    }
)

# The products' and the integrations' own names: Latin words that stay as they are in
# Russian texts (the Russian tests and render_screens.py leave them out).
PRODUCT_WORDS = frozenset(
    {
        "Kaspersky",
        "Next",
        "XDR",
        "Expert",
        "Automated",
        "Security",
        "Awareness",
        "Platform",
        "Threat",
        "Intelligence",
        "Portal",
        "Active",
        "Directory",
        "UserGate",
        "Ideco",
        "Redmine",
        "Check",
        "Point",
        "Sophos",
        "Firewall",
    }
)

MARKERS = {"_", "N_", "pN_", "ngettext", "pgettext", "npgettext"}
# Where the msgid is, per marker (the other arguments are contexts and numbers).
MSGID_ARGS = {"_": (0,), "N_": (0,), "pN_": (1,), "ngettext": (0, 1), "pgettext": (1,), "npgettext": (1, 2)}


# ---- the catalogs ------------------------------------------------------------------------------
def extract(pot: Path) -> Any:
    """The messages of the code as packaging/i18n.sh extracts them (the real tool)."""
    from babel.messages.pofile import read_po

    subprocess.run(
        ["bash", str(REPO / "packaging" / "i18n.sh"), "extract", str(pot)],
        check=True,
        env={"XDRCONF_PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return read_po(fh)


def read_catalog(lang: str) -> Any:
    from babel.messages.pofile import read_po

    path = LOCALE / lang / "LC_MESSAGES" / "xdrconf.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def module_of(location: str) -> str:
    """'gui/xdrconf/core/tenants.py' -> 'xdrconf/core/tenants.py'."""
    return location[len("gui/") :] if location.startswith("gui/") else location


def is_translated(message: Any) -> bool:
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(strings)


@dataclass
class CatalogReport:
    messages: Counter[str]  # module -> messages
    untranslated: dict[str, list[str]]  # module -> msgids without a (usable) translation
    obsolete: list[str]  # msgids of the .po that the code no longer has

    @property
    def untranslated_total(self) -> int:
        return len({m for ms in self.untranslated.values() for m in ms})


def catalog_report(template: Any, catalog: Any) -> CatalogReport:
    messages: Counter[str] = Counter()
    untranslated: dict[str, list[str]] = {}
    for msg in template:
        if not msg.id:
            continue
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        done = is_translated(catalog.get(key, context=msg.context))
        for module in sorted({module_of(loc) for loc, _line in msg.locations}):
            messages[module] += 1
            if not done:
                untranslated.setdefault(module, []).append(key)
    known = {((m.id[0] if isinstance(m.id, tuple) else m.id), m.context) for m in template if m.id}
    obsolete = [
        m.id[0] if isinstance(m.id, tuple) else m.id
        for m in catalog
        if m.id and ((m.id[0] if isinstance(m.id, tuple) else m.id), m.context) not in known
    ]
    return CatalogReport(messages, untranslated, obsolete)


# ---- the scanner ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    what: str  # the sink, or the rule
    text: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}: {self.text}"


ALL = "*"
# Calls whose arguments a person reads: name -> (positional indexes or ALL, keyword names).
SINKS: dict[str, tuple[tuple[int, ...] | str, tuple[str, ...]]] = {
    # what the core says
    "ValidationError": ((0, 1), ("label", "problem")),
    "CheckResult": ((1,), ("message",)),
    "Outcome": ((1,), ("message",)),
    "Flag": ((1,), ("message",)),
    "Field": ((1,), ("label", "help", "placeholder")),
    "Page": ((0, 1), ("title", "subtitle")),
    "IntegrationSpec": ((1, 2), ("title", "description")),
    "Operation": ((1,), ("title", "description", "notice", "extra_params")),
    "OperationFailed": ((1,), ("message",)),
    # widgets
    "QLabel": ((0,), ("text",)),
    "QPushButton": (ALL, ("text",)),
    "QToolButton": (ALL, ("text",)),
    "QCheckBox": (ALL, ("text",)),
    "QRadioButton": (ALL, ("text",)),
    "QGroupBox": (ALL, ("title",)),
    "QAction": (ALL, ("text",)),
    "QMenu": (ALL, ("title",)),
    "QMessageBox": (ALL, ("text", "informativeText")),
    "setText": ((0,), ()),
    "setToolTip": ((0,), ()),
    "setStatusTip": ((0,), ()),
    "setWhatsThis": ((0,), ()),
    "setWindowTitle": ((0,), ()),
    "setPlaceholderText": ((0,), ()),
    "setTitle": ((0,), ()),
    "setSubTitle": ((0,), ()),
    "setSuffix": ((0,), ()),
    "setPrefix": ((0,), ()),
    "setSpecialValueText": ((0,), ()),
    "setLabelText": ((0,), ()),
    "setInformativeText": ((0,), ()),
    "setDetailedText": ((0,), ()),
    "setButtonText": ((1,), ()),
    "setTabText": ((1,), ()),
    "setHtml": ((0,), ()),
    "addTab": ((1,), ()),
    "insertTab": ((2,), ()),
    "addItem": ((0,), ()),
    "addRow": ((0,), ()),
    "addAction": (ALL, ()),
    "addMenu": (ALL, ()),
    "showMessage": ((0,), ()),
    "setHeaderLabels": ((0,), ()),
    "setHorizontalHeaderLabels": ((0,), ()),
    "setVerticalHeaderLabels": ((0,), ()),
    "getText": ((1, 2), ()),
    "getItem": ((1, 2), ()),
    "getOpenFileName": ((1,), ()),
    "getSaveFileName": ((1,), ()),
    "getExistingDirectory": ((1,), ()),
    # the window's own message lines and its worker's "what is running" text
    "say": ((0,), ()),
    "_say": ((0,), ()),
    "run_task": ((), ()),  # its what= (a keyword of any call: see scan_source)
    "hint": ((0,), ()),  # qt.integrations.tip.hint(text): a grey explanation line
    "add_widget": ((1,), ("label",)),  # qt.editors.FieldsForm.add_widget(widget, label)
    "_button": ((0,), ()),  # a panel's button helper: _button(text, slot, layout, name)
    # the command line
    "print": (ALL, ()),
    "fail": ((0, 1), ()),  # the command line's fail(message), an operation's ctx.fail(category, message)
    "add_argument": ((), ("help",)),
    "add_parser": ((), ("help", "description", "epilog")),
    "add_subparsers": ((), ("title", "description", "help")),
    "add_argument_group": ((0, 1), ("title", "description")),
    "ArgumentParser": ((), ("description", "epilog")),
}
# Sinks that count only on a given receiver: QMessageBox.critical(...), self.prompts.info(...).
RECEIVER_SINKS = {
    "QMessageBox": {"critical", "warning", "information", "question", "about"},
    "prompts": {"info", "confirm", "text", "choose", "open_file", "save_file"},
}
# Sinks that count only in the command line's modules: its add(parent, name, func, help).
CLI_SINKS = {"add": ((3,), ("help_",))}

# Words that are never translated (product and host names).
NAMES = {"xdrconf", "localhost", "KUMA", "KATA", "KEDR", "KASAP", "TIP", "OpenTIP"}
_TECHNICAL = re.compile(r"[0-9:/.@=_<>{}\[\]\\|*]|^-|^[A-Z]{2,}$")
_LETTER = re.compile(r"[^\W\d_]")
_PRAGMA = "i18n: ignore"
_PARSER_TEXTS = {"epilog", "description"}


def is_prose(text: str) -> bool:
    """Whether a literal holds words a person reads: letters, in at least one token that is
    neither a product name nor technical (a URL, a host, a path, a placeholder, KEY=VALUE)."""
    if not _LETTER.search(text):
        return False
    tokens = [t.strip(".,;:!?'\"«»…") for t in re.split(r"[\s,;()]+", text)]
    return any(t not in NAMES and not _TECHNICAL.search(t) and _LETTER.search(t) for t in tokens if t)


def _call_name(func: ast.expr) -> tuple[str | None, str | None]:
    """(receiver's last name, called name) of f(...), a.f(...), self.prompts.f(...)."""
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        value = func.value
        receiver = (
            value.id
            if isinstance(value, ast.Name)
            else value.attr
            if isinstance(value, ast.Attribute)
            else None
        )
        return receiver, func.attr
    return None, None


def _bare_texts(node: ast.expr) -> Iterator[tuple[ast.expr, str]]:
    """Literal text in an argument that did not go through a marker."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if is_prose(node.value):
            yield node, node.value
    elif isinstance(node, ast.JoinedStr):
        parts = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        if is_prose(parts):
            yield node, ast.unparse(node)
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                yield from _bare_texts(v.value)
    elif isinstance(node, ast.BinOp):
        yield from _bare_texts(node.left)
        if isinstance(node.op, ast.Add):
            yield from _bare_texts(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _bare_texts(node.body)
        yield from _bare_texts(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            yield from _bare_texts(v)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for v in node.elts:
            yield from _bare_texts(v)
    elif isinstance(node, ast.Call):
        receiver, name = _call_name(node.func)
        if name in MARKERS and receiver is None:
            return
        if name in ("format", "join") and isinstance(node.func, ast.Attribute):
            yield from _bare_texts(node.func.value)  # "...".format(x) / "; ".join(...)


# Functions whose returned text is displayed: Qt models' data() and headerData(), helpers
# named *_text, *_html, *_label, *_title, *_message, *_hint, *_words, line(), lines(), hint(),
# describe() (a store, a key, a certificate in words).
_DISPLAY_FUNCTION = re.compile(
    r"^(data|headerData|line|lines|hint|describe)$|_(text|html|label|title|message|hint|words)$"
)


def _is_category(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Category"
    )


def _error_classes(trees: dict[str, ast.Module]) -> set[str]:
    """XdrconfError and every class of the package that derives from it."""
    found = {"XdrconfError"}
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in found:
                    bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                    if bases & found:
                        found.add(node.name)
                        grew = True
    return found


def _imports_marker(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and (node.module or "").endswith("i18n")
        and any(a.name == "_" and a.asname is None for a in node.names)
        for node in ast.walk(tree)
    )


def _binds_underscore(tree: ast.Module) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        name = (
            node.id
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
            else node.arg
            if isinstance(node, ast.arg)
            else node.name
            if isinstance(node, ast.ExceptHandler)
            else None
        )
        if name == "_":
            yield node


def scan_source(module: str, source: str, error_classes: set[str] | None = None) -> list[Finding]:
    """The findings of one module's source."""
    tree = ast.parse(source)
    lines = source.splitlines()
    errors = (
        error_classes if error_classes is not None else _error_classes({**_package_trees(), module: tree})
    )
    cli = module.startswith("xdrconf/cli/")
    findings: list[Finding] = []

    def ignored(node: ast.AST) -> bool:
        first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0) or 0
        return any(_PRAGMA in lines[i - 1] for i in range(first, last + 1) if 0 < i <= len(lines))

    def report(node: ast.AST, what: str, text: str) -> None:
        if not ignored(node):
            findings.append(Finding(module, getattr(node, "lineno", 0), what, text))

    for node in ast.walk(tree):
        # (Category.X, "what happened"): an outcome and its message, as net.classify_* return them.
        if isinstance(node, ast.Tuple) and len(node.elts) == 2 and _is_category(node.elts[0]):
            for text_node, text in _bare_texts(node.elts[1]):
                report(text_node, "outcome message", text[:80])
        # An argparse parser's texts set after it was made: p.epilog = "…", p.description = "…".
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr in _PARSER_TEXTS for t in node.targets
        ):
            for text_node, text in _bare_texts(node.value):
                report(text_node, "parser text", text[:80])
        # What a model's data() or a *_text() helper returns is shown as it is.
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _DISPLAY_FUNCTION.search(node.name):
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    for text_node, text in _bare_texts(ret.value):
                        report(text_node, f"{node.name}() returns", text[:80])
        if not isinstance(node, ast.Call):
            continue
        receiver, name = _call_name(node.func)
        if name is None:
            continue
        # A marker's msgid must be a literal: a formatted one is never in the catalog.
        if name in MARKERS and receiver is None:
            for index in MSGID_ARGS[name]:
                if index < len(node.args):
                    arg = node.args[index]
                    # A literal, or a name passing a text through (_(spec.title) displays a
                    # LazyText); never a text formatted before the lookup.
                    if isinstance(arg, (ast.JoinedStr, ast.BinOp, ast.Call)):
                        report(arg, f"{name}() of a formatted text", ast.unparse(arg)[:80])
            continue
        # what=...: the action a message names ("KUMA refused to {what}", the worker's task)
        for k in node.keywords:
            if k.arg == "what":
                for text_node, text in _bare_texts(k.value):
                    report(text_node, f"{name}(what=)", text[:80])
        spec = SINKS.get(name)
        if spec is None and name in errors:
            spec = ((0,), ("message",))
        if spec is None and cli and name in CLI_SINKS:
            spec = CLI_SINKS[name]
        if spec is None and receiver in RECEIVER_SINKS and name in RECEIVER_SINKS[receiver]:
            spec = (ALL, ())
        if spec is None:
            continue
        positions, keywords = spec
        args = [
            a
            for i, a in enumerate(node.args)
            if positions == ALL or (isinstance(positions, tuple) and i in positions)
        ]
        args += [k.value for k in node.keywords if k.arg in keywords]
        # Field(choices=((value, label), ...)), Operation(columns=((key, label), ...)): the labels
        pairs = {"Field": "choices", "Operation": "columns"}.get(name)
        for k in node.keywords:
            if k.arg == pairs and isinstance(k.value, (ast.Tuple, ast.List)):
                args += [e.elts[1] for e in k.value.elts if isinstance(e, ast.Tuple) and len(e.elts) == 2]
        for arg in args:
            for text_node, text in _bare_texts(arg):
                report(text_node, name, text[:80])
    if _imports_marker(tree):
        for node in _binds_underscore(tree):
            report(node, "'_' rebound", "this module imports _ from xdrconf.core.i18n")
    return findings


@functools.cache
def _package_trees() -> dict[str, ast.Module]:
    return {
        str(p.relative_to(PACKAGE.parent)): ast.parse(p.read_text(encoding="utf-8"))
        for p in PACKAGE.rglob("*.py")
    }


def scan(package: Path = PACKAGE) -> dict[str, list[Finding]]:
    """module -> findings, for every module of the package."""
    sources = {
        str(path.relative_to(package.parent)): path.read_text(encoding="utf-8")
        for path in sorted(package.rglob("*.py"))
    }
    trees = {module: ast.parse(text) for module, text in sources.items()}
    errors = _error_classes(trees)
    return {module: scan_source(module, text, errors) for module, text in sources.items()}


# ---- the report ---------------------------------------------------------------------------------
def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        template = extract(Path(tmp) / "xdrconf.pot")
    findings = scan()
    for lang in LANGUAGES:
        report = catalog_report(template, read_catalog(lang))
        total = sum(1 for m in template if m.id)
        print(f"{lang}: {total - report.untranslated_total} of {total} messages translated")
        modules = sorted(set(report.messages) | set(findings))
        print(f"{'module':<44} {'messages':>8} {'untransl.':>9} {'unwrapped':>9}")
        for module in modules:
            mark = "  translated" if module in TRANSLATED else ""
            print(
                f"{module:<44} {report.messages[module]:>8} {len(report.untranslated.get(module, [])):>9} "
                f"{len(findings.get(module, [])):>9}{mark}"
            )
        if report.obsolete:
            print(f"{len(report.obsolete)} entries of the {lang} catalog are no longer in the code")
    print(f"unwrapped user-visible literals: {sum(len(f) for f in findings.values())}")
    if "-v" in sys.argv[1:]:
        for module_findings in findings.values():
            for finding in module_findings:
                print(finding)
    return 0


if __name__ == "__main__":
    sys.exit(main())
