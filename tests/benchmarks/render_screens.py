"""Renders every screen of the window to PNG files in a language, for a person to look at for
English left on screen and for clipped or overlapping text (a script, not a test; pytest does
not collect it), and lists each text on them that holds a Latin word which is not a product or
technical name (the English left over when the language is Russian):

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/render_screens.py \
        [--lang ru] OUTDIR [SCREEN...]

SCREEN (all by default): main (the tree, the integrations table, the details pane, the status
bar; also at the minimum size and for the Shared tenant), tabs (each bottom tab of two
integrations), ops (the Operations tab, each operation, its form scrolled to the end),
grid (the health grid and a cell's result), checkall, settings, vault, many (the
several-tenants Configure dialog), boxes (questions, messages, the file dialogs, the
choosers, About), drift, wizard (every page of every integration, as render_pages.py).
The settings live in a fresh temporary folder (three tenants, KUMA and Redmine configured,
a last check of each); a real Secret Service runs for the secrets. Also prints the Qt texts
that neither Qt's catalog nor xdrconf's QT_TEXTS translate."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

from support import i18n_audit

SCREENS = ("main", "tabs", "ops", "grid", "checkall", "settings", "vault", "many", "boxes", "drift", "wizard")
# Latin words that stay as they are in Russian: product names, protocol and format names,
# and the names of the tenants rendered.
KEEP = i18n_audit.PRODUCT_WORDS | {
    "Anti",
    "API",
    "Attack",
    "CA",
    "Central",
    "CSV",
    "Detection",
    "DN",
    "DNS",
    "Domain",
    "Endpoint",
    "HTTP",
    "HTTPS",
    "ID",
    "IP",
    "IPv6",
    "JSON",
    "KASAP",
    "KATA",
    "KEDR",
    "KeePass",
    "KeePassXC",
    "KUMA",
    "LDAP",
    "LDAPS",
    "Management",
    "Multi",
    "NGFW",
    "Node",
    "OpenAPI",
    "OpenSSH",
    "OpenTIP",
    "OU",
    "PEM",
    "Response",
    "REST",
    "RPC",
    "Samba",
    "Secret",
    "Server",
    "Service",
    "SFOS",
    "SHA",
    "SIEM",
    "SKDPU",
    "SmartConsole",
    "SOAR",
    "SSH",
    "StartTLS",
    "STARTTLS",
    "Targeted",
    "TIP",
    "TLS",
    "UPN",
    "URL",
    "UTM",
    "xdrconf",
    "XML",
    "Acme",
    "Corporation",
    "Globex",
    "EU",
}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
NOT_WORDS = re.compile(
    r"<[^>]+>|&[a-z]+;|\S+\.(invalid|com|pub|kdbx|md|py|toml)\S*|https?://\S+|\S*/\S*|\{\w+\}"
)


def latin_words(text: str) -> list[str]:
    return [w for w in WORD.findall(NOT_WORDS.sub(" ", text)) if w.strip("'-") not in KEEP]


def texts_of(root: Any) -> list[str]:
    """What the widget and its visible children show: titles, labels, buttons, tooltips,
    placeholders, combo entries, tabs, wizard headers and the cells of item views."""
    from PySide6.QtCore import QModelIndex, Qt
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QPlainTextEdit,
        QTabWidget,
        QTextEdit,
        QWidget,
        QWizardPage,
    )

    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        if w is not root and not w.isVisibleTo(root):
            continue
        out += [w.windowTitle() if w.isWindow() else "", w.toolTip()]
        if isinstance(w, (QLabel, QAbstractButton)):
            out.append(w.text())
        elif isinstance(w, QGroupBox):
            out.append(w.title())
        elif isinstance(w, (QLineEdit, QPlainTextEdit)):
            out.append(w.placeholderText())
        elif isinstance(w, QTextEdit):
            out.append(w.toPlainText())
        elif isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QTabWidget):
            out += [w.tabText(i) for i in range(w.count())]
        elif isinstance(w, QWizardPage):
            out += [w.title(), w.subTitle()]
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            model = w.model()
            try:
                columns = model.columnCount(QModelIndex())
            except TypeError:  # a list model's columnCount is not callable from Python
                columns = 1
            out += [str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(columns)]

            out += cell_texts(model, QModelIndex(), columns)
    return [t for t in out if t]


def cell_texts(model: Any, parent: Any, columns: int, depth: int = 0) -> list[str]:
    """The display and tooltip texts of an item model's first 40 rows, 4 levels deep."""
    from PySide6.QtCore import Qt

    out = []
    for row in range(min(model.rowCount(parent), 40)):
        for column in range(columns):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                value = model.data(model.index(row, column, parent), role)
                if isinstance(value, str):
                    out.append(value)
        if depth < 4:
            out += cell_texts(model, model.index(row, 0, parent), columns, depth + 1)
    return out


class Renderer:
    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.found: dict[str, set[str]] = {}
        self.written: list[Path] = []

    def settle(self) -> None:
        from PySide6.QtWidgets import QApplication

        for _round in range(8):
            QApplication.processEvents()

    def save(self, name: str, widget: Any) -> None:
        self.settle()
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        self.written.append(path)
        for text in texts_of(widget):
            if latin_words(text):
                self.found.setdefault(text.replace("\n", " ⏎ ")[:300], set()).add(name)

    def modal(self, name: str) -> None:
        """Save the modal dialog that is about to open, then close it."""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QDialog

        def look() -> None:
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, QDialog):
                QTimer.singleShot(50, look)
                return
            self.save(name, dialog)
            dialog.done(0)

        QTimer.singleShot(50, look)


def main() -> int:
    _lang, args = _common.language_option(sys.argv[1:])
    screens = set(args[1:]) or set(SCREENS)
    if not args or not screens <= set(SCREENS):
        print(__doc__, file=sys.stderr)
        return 2
    renderer = Renderer(Path(args[0]))
    _common.start_keyring()
    try:
        missed = render(renderer, screens)
    finally:
        _common.stop_keyring()
    for path in renderer.written:
        print(path)
    print(f"\n{len(renderer.found)} texts with Latin words (screens in brackets):")
    for text, where in sorted(renderer.found.items()):
        print(f"[{','.join(sorted(where))}] {text}")
    print(f"\n{len(missed)} Qt texts without a translation:")
    for context, source in sorted(missed):
        print(f"{context}: {source!r}")
    return 0


def render(r: Renderer, screens: set[str]) -> set[tuple[str, str]]:
    from PySide6.QtCore import QTranslator
    from PySide6.QtWidgets import QApplication, QMenu

    from xdrconf.core import catalog
    from xdrconf.core.i18n import _
    from xdrconf.core.outcome import Category, CheckResult
    from xdrconf.core.workspace import IntegrationEdit, Workspace
    from xdrconf.qt import workers
    from xdrconf.qt.app import apply_language
    from xdrconf.qt.main_window import MIN_SIZE, MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    missed: set[tuple[str, str]] = set()

    class Unanswered(QTranslator):
        """Installed first, so asked last: what no other translator answered."""

        def translate(self, context: str, source: str, disambiguation: Any = None, n: int = -1) -> Any:
            missed.add((context, source))
            return None  # Qt's null string: not translated here either

    app.installTranslator(Unanswered(app))
    apply_language()
    ws = Workspace.open(Path(tempfile.mkdtemp(prefix="xdrconf-screens-")))
    ws.update_integration("Root", IntegrationEdit("kuma", values={"host": "kuma.invalid"}))
    ws.add_tenant("Acme Corporation")
    ws.add_tenant("Acme EU", "Acme Corporation")
    ws.add_tenant("Globex")
    acme = ws.tenant("Acme Corporation").id
    ws.update_integration(
        "Acme Corporation", IntegrationEdit("kuma", secrets={"token": "screens-" + "t" * 32})
    )
    redmine = {"url": "https://redmine.invalid", "project": "soc"}
    ws.update_integration(
        "Acme Corporation",
        IntegrationEdit("redmine", values=redmine, secrets={"api_key": "screens-" + "k" * 32}, enabled=True),
    )
    # The messages the checks give (in the language shown), as if they had just run.
    refused = CheckResult(
        Category.AUTH_FAILED,
        _(
            "KUMA refused the token (403 access denied): it is unknown, expired, or "
            "its user is disabled; create a new token in KUMA and replace it here."
        ),
        "kuma.invalid:7223",
        41.0,
    )
    passed = CheckResult(
        Category.OK,
        _("Connected to Redmine as '{login}' ({name}).").format(login="soc-bot", name="SOC Bot"),
        "redmine.invalid:443",
        1001.0,
    )
    ws.record_results({(acme, "kuma"): [refused.to_dict()], (acme, "redmine"): [passed.to_dict()]})

    window = MainWindow(ws)
    window.show()
    window.start()
    workers.wait_all(5000)
    window.select_tenant(acme)
    window.select_integration("kuma")
    window.resize(1180, 760)
    if "main" in screens:
        r.save("main", window)
        window.resize(*MIN_SIZE)
        r.save("main-min", window)
        window.resize(1180, 760)
        window.select_tenant(ws.tree.shared_id)
        r.save("main-shared", window)
        window.select_tenant(acme)
        window.select_integration("kuma")
        for menu in window.menuBar().findChildren(QMenu):
            for action in menu.actions():
                for text in (action.text(), action.toolTip(), action.statusTip()):
                    if latin_words(text):
                        r.found.setdefault(text, set()).add("menus")
    tabs = window.bottom_tabs
    if "tabs" in screens:
        for kind in ("kuma", "redmine"):
            window.select_integration(kind)
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
                r.save(f"tab-{kind}-{i}", window)
    if "ops" in screens:
        for kind in ("kuma", "redmine"):
            window.select_integration(kind)
            window.show_operations()
            r.settle()
            panel = window.operations
            for i in range(panel.picker.count()):
                panel.picker.setCurrentIndex(i)
                r.save(f"ops-{kind}-{i}", window)
                bar = panel.form_scroll.verticalScrollBar()
                bar.setValue(bar.maximum())
                r.save(f"ops-{kind}-{i}-end", panel)
    if "grid" in screens:
        grid = window.show_grid(True)
        r.save("grid", window)
        grid.view.setCurrentIndex(grid.model.index(1, 1))
        result = window.open_grid_result()
        if result is not None:
            r.save("grid-result", result)
            result.close()
        window.show_grid(False)
    if "checkall" in screens:
        from xdrconf.qt.checks_ui import CheckAllDialog

        pairs = [(acme, "kuma"), (acme, "redmine")]
        dialog = CheckAllDialog(ws, pairs, parent=window)
        path = ws.tree.path(acme)
        dialog.show()
        # The two results come as a run's batch does (counted, shown, the run finished);
        # nothing is sent anywhere.
        dialog.pending = len(pairs)
        dialog._emit_batch(
            [
                (
                    (tid, kind),
                    [
                        CheckResult(
                            c.category, c.message, c.target, c.latency_ms, tenant=path, integration=kind
                        )
                    ],
                )
                for c, (tid, kind) in zip((refused, passed), pairs, strict=True)
            ]
        )
        r.settle()
        dialog.table.selectRow(0)
        r.save("checkall", dialog)
        dialog.close()
    if "settings" in screens:
        r.modal("settings")
        window.act_settings.trigger()
    if "vault" in screens:
        from xdrconf.core.vault import VaultStore
        from xdrconf.qt.vault_dialog import VaultPassphraseDialog

        store = VaultStore(Path(tempfile.mkdtemp(prefix="xdrconf-screens-vault-")))
        for creating, name in ((True, "vault-create"), (False, "vault-unlock")):
            vault = VaultPassphraseDialog(store, creating, window)
            vault.show()
            vault.passphrase.setText("abc")
            r.save(name, vault)
            vault.close()
    if "many" in screens:
        from xdrconf.qt.many import ConfigureManyDialog

        for kind in ("kuma", "redmine"):
            many = ConfigureManyDialog(window, ws, kind, [acme, ws.tenant("Globex").id])
            many.show()
            r.save(f"many-{kind}", many)
            many.close()
    if "boxes" in screens:
        from xdrconf.qt.dialogs import ChooseDialog, NameDialog, Prompts, show_error

        box = show_error(window, "—")
        r.save("box-error", box)
        box.close()
        prompts = Prompts(window)
        for name, ask in (
            ("box-confirm", lambda: prompts.confirm("—", "—", ["—"])),
            ("box-confirm-change", lambda: prompts.confirm_change("—", "—", ["—"])),
            ("box-info", lambda: prompts.info("—", "—")),
            ("box-text", lambda: prompts.text("—", "—")),
            ("box-open-file", lambda: prompts.open_file("—")),
            ("box-save-file", lambda: prompts.save_file("—", "settings.json")),
            ("box-remove", window.act_remove.trigger),
            ("box-about", window.about),
        ):
            r.modal(name)
            ask()
        for name, chooser in (
            ("box-choose", ChooseDialog(window, "—", "—", [ws.tree.path(t.id) for t in ws.tree.walk_all()])),
            ("box-name", NameDialog(window, "—", "—")),
        ):
            chooser.show()
            r.save(name, chooser)
            chooser.close()
    if "drift" in screens:
        ws.update_integration(
            "Acme Corporation", IntegrationEdit("kuma", values={"host": "kuma2.invalid"}, keep_secrets=True)
        )
        window.refresh()
        window.select_tenant(acme)
        drift = window.show_drift()
        for _round in range(20):
            r.settle()
            workers.wait_all(100)
        r.save("drift", drift)
        drift.close()
    if "wizard" in screens:
        from xdrconf.qt.wizard import TenantWizard

        kinds = [e.kind for e in catalog.ENTRIES if catalog.spec_for(e.kind).supported]
        wizard = TenantWizard(ws, acme)
        wizard.show()
        for kind in kinds:
            wizard.opening.boxes[kind].setChecked(True)
        ids = [TenantWizard.OPENING, *(pid for kind in kinds for pid in wizard.ensure_pages(kind))]
        for n, pid in enumerate([*ids, TenantWizard.SUMMARY]):
            wizard.setStartId(pid)
            wizard.restart()
            r.save(f"wizard-{n:02d}-{type(wizard.currentPage()).__name__}", wizard)
        wizard.close()
    window.close()
    workers.wait_all(5000)
    ws.close()
    return missed


if __name__ == "__main__":
    sys.exit(main())
