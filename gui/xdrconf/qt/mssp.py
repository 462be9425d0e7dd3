"""The window's views for many tenants, over the same core as `xdrconf audit`, `drift` and
`tenant import-from-kuma`:

- HistoryView: the History tab, the audit trail of the selected tenant, or of its selected
  integration only (core.audit);
- DriftDialog: each field of each integration against the parent, for the tenant or its
  whole subtree (core.drift; secrets are compared in a worker, never shown);
- KumaImportDialog: the preview of an import of KUMA's tenants, the ones to add ticked,
  what is already there, mapped or skipped said with the reason (kuma.tenants.plan); Add
  applies the ticked ones in one change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core import audit, catalog, drift
from ..core.i18n import _, ngettext
from ..core.integrations.kuma import tenants as kuma_tenants
from . import workers

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .main_window import MainWindow

MAX_HISTORY = 2000  # lines shown in the History tab (the newest); `xdrconf audit` lists all


def _when(entry: dict[str, Any]) -> str:
    at = str(entry.get("at", ""))
    return at[:19].replace("T", " ")


def _tree(parent: QWidget, name: str, headers: list[str]) -> QTreeWidget:
    view = QTreeWidget(parent)
    view.setObjectName(name)
    view.setRootIsDecorated(False)
    view.setUniformRowHeights(True)
    view.setAlternatingRowColors(True)
    view.setHeaderLabels(headers)
    return view


# ---- History ----------------------------------------------------------------------------------------
class HistoryView(QWidget):
    """The changes recorded for a tenant (newest first), or for one of its integrations."""

    loaded = Signal()  # the list shows what was read

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._asked = 0
        self._reading: workers.Task | None = None
        self.setObjectName("historyView")
        self.setWindowTitle(_("History"))
        self.setToolTip(_("The changes recorded in the audit trail for this tenant"))
        self.ws: Workspace | None = None
        self.tenant_id: str | None = None
        self.kind: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.only_integration = QCheckBox(_("Only the selected integration"), self)
        self.only_integration.setObjectName("historyOnlyIntegration")
        self.only_integration.toggled.connect(lambda _on: self.refresh())
        self.summary = QLabel(self)
        self.summary.setObjectName("historySummary")
        top.addWidget(self.only_integration)
        top.addStretch(1)
        top.addWidget(self.summary)
        layout.addLayout(top)
        self.list = _tree(
            self, "historyList", [_("When (UTC)"), _("Who"), _("Integration"), _("Change"), _("Done by")]
        )
        layout.addWidget(self.list, 1)

    def show_for(self, ws: Workspace, tenant_id: str | None, kind: str | None) -> None:
        self.ws, self.tenant_id, self.kind = ws, tenant_id, kind
        title = catalog.title_of(kind) if kind else ""
        self.only_integration.setEnabled(kind is not None)
        self.only_integration.setText(
            _("Only {integration}").format(integration=title) if kind else _("Only the selected integration")
        )
        self.refresh()

    @property
    def reading(self) -> bool:
        """The audit trail is being read (off the GUI thread) for what is to be shown."""
        return self._reading is not None

    def refresh(self) -> None:
        """Read the tenant's (or the integration's) lines of the audit trail in a worker (the
        file grows with every change and is read whole) and show them, newest first. A
        refresh asked for meanwhile wins: an older answer is dropped."""
        self._asked += 1
        asked = self._asked
        ws, tid = self.ws, self.tenant_id
        if ws is None or tid is None or tid not in ws.tree:
            self._reading = None
            self._show([])
            return
        kind = self.kind if self.only_integration.isChecked() else None
        trail = ws.audit

        def read() -> list[dict[str, Any]]:
            found = [e for e in trail.entries() if audit.matches(e, tenant_id=tid, kind=kind)]
            return list(reversed(found))

        def done(found: list[dict[str, Any]]) -> None:
            if asked == self._asked:
                self._reading = None
                self._show(found)

        def failed(exc: BaseException) -> None:
            if asked == self._asked:
                self._reading = None
                self._show([])
                self.summary.setText(_("The history could not be read: {error}").format(error=exc))

        self.summary.setText(_("Reading the history…"))
        self._reading = workers.run_in_background(read, done, failed, owner=self)

    def _show(self, found: list[dict[str, Any]]) -> None:
        self.list.clear()
        items = []
        for entry in found[:MAX_HISTORY]:
            kind = str(entry.get("integration") or "")
            items.append(
                QTreeWidgetItem(
                    [
                        _when(entry),
                        f"{entry.get('user', '?')}@{entry.get('host', '?')}",
                        str(catalog.title_of(kind)) if kind else "",  # str(): Qt reads a LazyText's msgid
                        audit.describe(entry),
                        str(entry.get("action", "")),
                    ]
                )
            )
        self.list.addTopLevelItems(items)
        for column in range(self.list.columnCount() - 1):
            self.list.resizeColumnToContents(column)
        self.summary.setText(
            ngettext("{n} change recorded", "{n} changes recorded", len(found)).format(n=len(found))
            if found
            else _("No changes recorded.")
        )
        self.loaded.emit()


# ---- Drift ------------------------------------------------------------------------------------------
class DriftDialog(QDialog):
    """What a tenant (or each tenant of its subtree) changed from its parent."""

    def __init__(self, window: MainWindow, tenant_id: str) -> None:
        super().__init__(window)
        self.setObjectName("driftDialog")
        self.window_ = window
        self.tenant_id = tenant_id
        self.report: drift.DriftReport | None = None
        ws = window.ws
        self.setWindowTitle(_("Drift from the parent: {tenant}").format(tenant=ws.tree.path(tenant_id)))
        self.resize(860, 520)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.subtree = QCheckBox(_("The whole subtree, each tenant against its parent"), self)
        self.subtree.setObjectName("driftSubtree")
        self.subtree.setChecked(ws.tree.get(tenant_id).is_root)
        self.only_overridden = QCheckBox(_("Only overridden fields"), self)
        self.only_overridden.setObjectName("driftOnlyOverridden")
        top.addWidget(self.subtree)
        top.addWidget(self.only_overridden)
        top.addStretch(1)
        layout.addLayout(top)
        self.list = _tree(
            self,
            "driftList",
            [_("Tenant"), _("Integration"), _("Field"), _("State"), _("Compared with the parent")],
        )
        layout.addWidget(self.list, 1)
        self.status = QLabel(self)
        self.status.setObjectName("driftStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.subtree.toggled.connect(lambda _on: self.load())
        self.only_overridden.toggled.connect(lambda _on: self._fill())
        self.closed = False  # a comparison that ends after the dialog was closed is dropped
        self.finished.connect(lambda _code: setattr(self, "closed", True))
        self.load()

    def load(self) -> None:
        """Compare in a worker (the secrets are read from the store)."""
        ws, tid, subtree = self.window_.ws, self.tenant_id, self.subtree.isChecked()
        self.status.setText(_("Comparing…"))
        self.list.clear()
        self.window_.runner(lambda: drift.drift(ws, tid, subtree=subtree), self._done, self._failed)

    def _done(self, report: drift.DriftReport) -> None:
        if self.closed:
            return
        self.report = report
        self._fill()

    def _failed(self, exc: BaseException) -> None:
        from .dialogs import error_text

        if self.closed:
            return
        self.report = None
        self.list.clear()
        self.status.setText(error_text(exc))

    def _fill(self) -> None:
        report = self.report
        if report is None:
            return
        self.list.clear()
        shown = report.overridden() if self.only_overridden.isChecked() else report.items
        items = []
        for f in shown:
            item = QTreeWidgetItem(
                [
                    f.tenant,
                    str(catalog.title_of(f.kind)),
                    f.label + (f" «{f.item}»" if f.item else ""),
                    _("inherited") if f.status == drift.INHERITED else _("overridden"),
                    drift.detail(f),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, f.status)
            items.append(item)
        self.list.addTopLevelItems(items)
        for column in range(self.list.columnCount() - 1):
            self.list.resizeColumnToContents(column)
        n = len(report.overridden())
        text = ngettext(
            "{n} field overridden, {m} inherited.", "{n} fields overridden, {m} inherited.", n
        ).format(n=n, m=len(report.items) - n)
        if not report.items:
            text = _("Nothing to compare: no integration is set up here or in the parent.")
        if report.secrets_problem:
            text += " " + _("Secrets were not compared: {problem}").format(problem=report.secrets_problem)
        self.status.setText(text)


# ---- Import tenants from KUMA -----------------------------------------------------------------------
class KumaImportDialog(QDialog):
    """The preview of an import: the KUMA tenants to add (ticked; untick to leave one out),
    and those already there, mapped onto Root/Shared or skipped, with the reason."""

    def __init__(self, window: MainWindow, tenant_id: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(window)
        self.setObjectName("kumaImportDialog")
        ws = window.ws
        self.rows = rows
        self.plan = kuma_tenants.plan(ws, tenant_id, rows)
        self.setWindowTitle(_("Import tenants from KUMA into {tenant}").format(tenant=self.plan.parent))
        self.resize(760, 520)
        layout = QVBoxLayout(self)
        adding = self.plan.of(kuma_tenants.ADD)
        head = QLabel(
            ngettext(
                "KUMA lists {n} tenant. Tick those to add under '{parent}':",
                "KUMA lists {n} tenants. Tick those to add under '{parent}':",
                len(rows),
            ).format(n=len(rows), parent=self.plan.parent),
            self,
        )
        head.setWordWrap(True)
        layout.addWidget(head)
        self.list = _tree(self, "kumaImportList", [_("KUMA tenant"), _("KUMA tenant id"), _("In xdrconf")])
        words = {
            kuma_tenants.ALREADY: _("already there: {path}"),
            kuma_tenants.MAPPED: _("is {path}"),
        }
        items = []
        for entry in self.plan.items:
            if entry.status == kuma_tenants.ADD:
                where = _("to add: {path}").format(path=entry.path)
            elif entry.status == kuma_tenants.SKIPPED:
                where = _("skipped: {reason}").format(reason=entry.reason)
            else:
                where = words[entry.status].format(path=entry.path)
            item = QTreeWidgetItem([entry.name, entry.id, where])
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            if entry.status == kuma_tenants.ADD:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked)
            else:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            items.append(item)
        self.list.addTopLevelItems(items)
        for column in range(self.list.columnCount() - 1):
            self.list.resizeColumnToContents(column)
        layout.addWidget(self.list, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_("Add the ticked tenants"))
        ok.setEnabled(bool(adding) or any(i.link for i in self.plan.items))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if not adding:
            note = QLabel(_("Nothing new to add under '{parent}'.").format(parent=self.plan.parent), self)
            note.setObjectName("kumaImportNothing")
            layout.insertWidget(1, note)

    def chosen(self) -> set[str]:
        """The KUMA ids of the ticked tenants."""
        out = set()
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item is not None and item.checkState(0) == Qt.CheckState.Checked:
                out.add(str(item.data(0, Qt.ItemDataRole.UserRole)))
        return out


def import_summary(result: kuma_tenants.Plan) -> str:
    added = len(result.of(kuma_tenants.ADDED))
    return ngettext(
        "Added {n} tenant from KUMA under '{parent}'.", "Added {n} tenants from KUMA under '{parent}'.", added
    ).format(n=added, parent=result.parent)
