"""The health grid of the main window (View → Health grid): tenants by integrations, each
cell the level of the integration's last stored check (core.health builds it: words, glyph
and colour of each level come from core.health.LOOKS), with counts per column in the header,
a filter (tenant name, level), a click (or Enter) on a cell opening that check's result,
Check what is shown (the core's scheduler in a worker; cells change as the results come)
and Export as CSV.

One QAbstractTableModel over the rows and a QTableView: nothing here makes a widget per
cell, so 1,000 tenants cost what the rows on screen cost."""

from __future__ import annotations

import threading
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core import catalog, health
from ..core.health import Cell, GridFilter, GridRow
from ..core.i18n import _, format_int, ngettext
from ..core.outcome import category_words
from ..core.status import IntegrationStatus
from . import workers
from .integrations_view import SHORT_TITLES, Row, details_html, format_time
from .tenant_model import QuietActivation

if TYPE_CHECKING:
    from ..core.scheduler import Batch
    from .main_window import MainWindow

Index = QModelIndex | QPersistentModelIndex
Pair = tuple[str, str]
TINT = 0.18  # how much of a level's colour a cell's background gets
DISPLAY = int(Qt.ItemDataRole.DisplayRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
LEVEL = int(Qt.ItemDataRole.UserRole)


def tint(colour: str) -> QColor:
    """The level's colour, mostly white: the background of a cell (its text keeps the full
    colour)."""
    c = QColor(colour)
    return QColor(
        round(255 + (c.red() - 255) * TINT),
        round(255 + (c.green() - 255) * TINT),
        round(255 + (c.blue() - 255) * TINT),
    )


def cell_text(cell: Cell, running: bool) -> str:
    if running:
        return "⟳ " + _("checking…")
    shown = health.look(cell.level)
    return f"{shown.glyph} {_(shown.words)}"


def cell_tooltip(row: GridRow, kind: str, cell: Cell) -> str:
    lines = [f"{row.path} — {_(catalog.spec_for(kind).title)}", health.level_words(cell.level)]
    for r in cell.status.results:
        where = r.get("connection") or r.get("target") or ""
        head = category_words(str(r.get("category", "")))
        when = format_time(str(r.get("checked_at", "")))
        lines.append(" · ".join(p for p in (head, where, when) if p))
        lines.append(str(r.get("message", "")))
    return "\n".join(lines)


class HealthModel(QAbstractTableModel):
    """Column 0 the tenant, then one column per supported integration; only the rows the
    filter lets through (counted per column in the header)."""

    LEVEL_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.kinds: list[str] = []
        self.all_rows: list[GridRow] = []
        self.rows: list[GridRow] = []
        self.filter = GridFilter()
        self.running: set[Pair] = set()
        self._where: dict[str, int] = {}  # tenant id -> index in self.rows
        self._counts: list[dict[str, int]] = []
        self._column: dict[str, int] = {}
        self._styles: dict[tuple[str, bool, bool], dict[int, Any]] = {}
        self.checkable = 0  # shown cells that Check what is shown would check

    # ---- contents ----------------------------------------------------------------------------
    def load(self, kinds: list[str], rows: list[GridRow]) -> None:
        self.beginResetModel()
        self._styles = {}
        self.kinds = kinds
        self._column = {k: i for i, k in enumerate(kinds)}
        self.all_rows = rows
        self._apply_filter()
        self.endResetModel()

    def set_filter(self, flt: GridFilter) -> None:
        if flt == self.filter:
            return
        self.beginResetModel()
        self.filter = flt
        self._apply_filter()
        self.endResetModel()

    def _apply_filter(self) -> None:
        self.rows = [r for r in self.all_rows if self.filter.row_shown(r)]
        self._where = {r.tenant_id: i for i, r in enumerate(self.rows)}
        self._recount()

    def _recount(self) -> None:
        self._counts = [dict(health.column_counts(self.rows, c, self.filter)) for c in range(len(self.kinds))]
        shown = self.filter.cell_shown
        self.checkable = sum(1 for r in self.rows for c in r.cells if c.checkable and shown(c))

    def shown_cells(self) -> int:
        return sum(sum(c.values()) for c in self._counts)

    def counts(self, column: int) -> dict[str, int]:
        """Levels of the shown cells of an integration column (0-based over the kinds)."""
        return self._counts[column]

    def checks(self) -> list[Pair]:
        return health.checks_of(self.rows, self.kinds, self.filter)

    def set_running(self, pairs: list[Pair], running: bool) -> None:
        for pair in pairs:
            (self.running.add if running else self.running.discard)(pair)
        self._changed_all(pairs)

    def _changed_all(self, pairs: list[Pair]) -> None:
        if len(pairs) > 64:  # one signal for the lot rather than thousands
            if self.rows:
                self.dataChanged.emit(self.index(0, 1), self.index(len(self.rows) - 1, len(self.kinds)))
            return
        for pair in pairs:
            self._changed(pair)

    def update(self, items: list[tuple[Pair, list[dict[str, Any]] | None]]) -> None:
        """New checks' results (None: cancelled, what was known stays); counted once."""
        if not items:
            return
        rows = {r.tenant_id: r for r in self.all_rows}
        for pair, results in items:
            self.running.discard(pair)
            row, col = rows.get(pair[0]), self._column.get(pair[1])
            if row is not None and col is not None and results is not None:
                row.cells[col] = row.cells[col].with_results(results)
        self._recount()
        self._changed_all([pair for pair, _results in items])
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.kinds))

    def _changed(self, pair: Pair) -> None:
        i, col = self._where.get(pair[0]), self._column.get(pair[1])
        if i is not None and col is not None:
            index = self.index(i, col + 1)
            self.dataChanged.emit(index, index)

    def cell_at(self, index: Index) -> tuple[GridRow, str, Cell] | None:
        if not index.isValid() or index.column() == 0 or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        return row, self.kinds[index.column() - 1], row.cells[index.column() - 1]

    def index_of(self, tenant_id: str, kind: str) -> QModelIndex:
        i, col = self._where.get(tenant_id), self._column.get(kind)
        if i is None or col is None:
            return QModelIndex()
        return self.index(i, col + 1)

    # ---- Qt ----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.kinds) + 1

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self.kinds) + 1:
            return None
        if section == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return (
                    _("Tenant")
                    + "\n"
                    + ngettext("{n} shown", "{n} shown", len(self.rows)).format(n=format_int(len(self.rows)))
                )
            return None
        kind = self.kinds[section - 1]
        counts = self._counts[section - 1] if self._counts else {}
        if role == Qt.ItemDataRole.DisplayRole:
            title = SHORT_TITLES.get(kind) or _(catalog.spec_for(kind).title)
            levels = [lv for lv in health.LOOKS if counts.get(lv)] + [
                lv for lv in counts if lv not in health.LOOKS
            ]
            summary = " ".join(f"{health.look(lv).glyph}\u2009{format_int(counts[lv])}" for lv in levels)
            return f"{title}\n{summary or '—'}"
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [_(catalog.spec_for(kind).title)]
            for lv, n in counts.items():
                # TRANSLATORS: a line of a column's tooltip in the health grid: "failed: 3 tenants".
                lines.append(
                    ngettext("{words}: {n} tenant", "{words}: {n} tenants", n).format(
                        words=health.level_words(lv), n=format_int(n)
                    )
                )
            return "\n".join(lines)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled

    def _style(self, level: str, running: bool, shown: bool) -> dict[int, Any]:
        """What a cell of that level shows, by role (made once: painting 1,000 rows while
        scrolling asks for these thousands of times)."""
        key = (level, running, shown)
        style = self._styles.get(key)
        if style is None:
            look = health.look(level)
            style = {
                DISPLAY: cell_text(Cell(_EMPTY, level), running),
                LEVEL: "running" if running else level,
                ALIGN: Qt.AlignmentFlag.AlignCenter,
                FOREGROUND: QBrush(QColor(look.colour if shown else health.LOOKS["off"].colour).darker(115)),
            }
            if shown and not running:
                style[BACKGROUND] = QBrush(tint(look.colour))
            self._styles[key] = style
        return style

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        if r < 0 or r >= len(self.rows):
            return None
        row = self.rows[r]
        if c == 0:
            if role == DISPLAY:
                return row.shown_path
            if role == TOOLTIP:
                return row.path
            return None
        kind = self.kinds[c - 1]
        cell = row.cells[c - 1]
        if role == TOOLTIP:
            return cell_tooltip(row, kind, cell)
        running = bool(self.running) and (row.tenant_id, kind) in self.running
        return self._style(cell.level, running, self.filter.cell_shown(cell)).get(int(role))


class GridView(QuietActivation, QTableView):
    """The grid's table: a click or Enter on a cell asks for its result."""

    open_requested = Signal(QModelIndex)

    def __init__(self, model: HealthModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setObjectName("healthGrid")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideLeft)  # a long path keeps the tenant's name
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        head.setMinimumSectionSize(60)
        head.setStretchLastSection(True)
        self.clicked.connect(self._clicked)
        model.modelReset.connect(self.fit_columns)
        self._fitted = False

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() > 0:
            self.open_requested.emit(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().column() > 0:
            self.open_requested.emit(self.currentIndex())
            return
        super().keyPressEvent(event)

    def fit_columns(self) -> None:
        """The tenant column wide enough for a path, the cells for the longest words (set
        once: afterwards the user's widths stay)."""
        if self._fitted or self.model().columnCount() <= 1:
            return
        self._fitted = True
        fm = self.fontMetrics()
        words = max(fm.horizontalAdvance(cell_text(Cell(_EMPTY, lv), False)) for lv in health.LOOKS)
        words = max(words, fm.horizontalAdvance(cell_text(Cell(_EMPTY, "off"), True)))
        self.setColumnWidth(0, max(280, fm.horizontalAdvance("M") * 24))
        for col in range(1, self.model().columnCount()):
            self.setColumnWidth(col, max(words + 24, self.horizontalHeader().sectionSizeHint(col)))


_EMPTY = IntegrationStatus("", "", False)


def row_of(status: IntegrationStatus) -> Row:
    """The integrations table's Row of a status, for details_html (as build_rows makes it)."""
    row = Row(**{f.name: getattr(status, f.name) for f in fields(IntegrationStatus)})
    if not row.started:
        row.missing = []
    return row


class ResultDialog(QDialog):
    """One cell's last check: the same details the window shows under the integrations
    table, and a button to go to that integration in the tenant view."""

    def __init__(self, window: MainWindow, row: GridRow, kind: str, cell: Cell) -> None:
        super().__init__(window)
        self.setObjectName("gridResult")
        self.tenant_id = row.tenant_id
        self.kind = kind
        title = _(catalog.spec_for(kind).title)
        self.setWindowTitle(_("{tenant} — {integration}").format(tenant=row.path, integration=title))
        self.resize(620, 360)
        lay = QVBoxLayout(self)
        self.level_label = QLabel(self)
        self.level_label.setObjectName("gridResultLevel")
        shown = health.look(cell.level)
        self.level_label.setText(f"<b style='color:{shown.colour}'>{shown.glyph} {_(shown.words)}</b>")
        lay.addWidget(self.level_label)
        self.details = QTextBrowser(self)
        self.details.setObjectName("gridResultDetails")
        self.details.setOpenLinks(False)
        tenant = window.ws.tree.get(row.tenant_id)
        status = health.full_status(window.ws, row.tenant_id, kind, cell)
        self.details.setHtml(details_html(window.ws, tenant, row_of(status)))
        lay.addWidget(self.details, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.go_button = buttons.addButton(
            _("Show in the tenant view"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.go_button.setObjectName("gridGoTo")
        self.go_button.clicked.connect(lambda: self._go(window))
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

    def _go(self, window: MainWindow) -> None:
        self.accept()
        window.show_in_tenant_view(self.tenant_id, self.kind)


class HealthGrid(QWidget):
    """The grid page: filter row, the grid, the summary and the checks' progress."""

    changed = Signal()  # what is shown or running changed (the window updates its actions)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setObjectName("healthGridPage")
        self.task: workers.Task | None = None
        self.pending: dict[Pair, list[dict[str, Any]]] = {}  # results not saved yet
        self._total = 0
        self._done = 0
        self._dirty = True
        self.result_dialog: ResultDialog | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("gridFilter")
        self.filter_edit.setPlaceholderText(_("Filter by tenant name…"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        top.addWidget(self.filter_edit, 1)
        self.level_combo = QComboBox(self)
        self.level_combo.setObjectName("gridLevel")
        self.level_combo.addItem(_("Every level"), None)
        for level, shown in health.LOOKS.items():
            self.level_combo.addItem(f"{shown.glyph} {_(shown.words)}", level)
        self.level_combo.setToolTip(_("Only the tenants with a cell of this level, and only those cells"))
        self.level_combo.currentIndexChanged.connect(self._filter_changed)
        top.addWidget(self.level_combo)
        for act in (window.act_grid_check, window.act_grid_export):
            button = QToolButton(self)
            button.setDefaultAction(act)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            top.addWidget(button)
        self.cancel_button = QPushButton(_("Cancel checks"), self)
        self.cancel_button.setObjectName("gridCancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        top.addWidget(self.cancel_button)
        lay.addLayout(top)
        self.model = HealthModel(self)
        self.view = GridView(self.model, self)
        self.view.open_requested.connect(self.open_result)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.selectionModel().currentChanged.connect(lambda *_a: self.changed.emit())
        lay.addWidget(self.view, 1)
        self.summary = QLabel(self)
        self.summary.setObjectName("gridSummary")
        lay.addWidget(self.summary)

    @property
    def ws(self) -> Any:
        return self.window_.ws

    @property
    def running(self) -> bool:
        return self.task is not None

    # ---- contents --------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the stored results again (the checks not saved yet stay as they came)."""
        kinds, rows = health.build_grid(self.ws)
        self.model.load(kinds, rows)
        self.model.update(list(self.pending.items()))
        self._dirty = False
        self._update_summary()

    def settings_changed(self) -> None:
        """The window re-read the workspace: shown now, or when the grid is next shown."""
        if self.isVisible():
            self.reload()
        else:
            self._dirty = True

    def showEvent(self, event: Any) -> None:
        if self._dirty:
            self.reload()
        super().showEvent(event)

    def _filter_changed(self, *_args: Any) -> None:
        self.model.set_filter(GridFilter(self.filter_edit.text().strip(), self.level_combo.currentData()))
        self._update_summary()

    def set_filter(self, text: str, level: str | None) -> None:
        self.filter_edit.setText(text)
        self.level_combo.setCurrentIndex(max(0, self.level_combo.findData(level)))

    def _update_summary(self) -> None:
        shown, total = len(self.model.rows), len(self.model.all_rows)
        parts = [
            ngettext("{shown} of {total} tenant shown", "{shown} of {total} tenants shown", total).format(
                shown=format_int(shown), total=format_int(total)
            ),
            ngettext("{n} cell", "{n} cells", self.model.shown_cells()).format(
                n=format_int(self.model.shown_cells())
            ),
        ]
        if self.running:
            parts.append(
                ngettext(
                    "checking: {done} of {total} done", "checking: {done} of {total} done", self._total
                ).format(done=format_int(self._done), total=format_int(self._total))
            )
        self.summary.setText(" · ".join(parts))
        self.changed.emit()

    # ---- a cell's result -----------------------------------------------------------------------
    def current_cell(self) -> tuple[GridRow, str, Cell] | None:
        return self.model.cell_at(self.view.currentIndex())

    def open_result(self, index: QModelIndex | None = None) -> ResultDialog | None:
        found = self.model.cell_at(index if index is not None else self.view.currentIndex())
        if found is None:
            return None
        if self.result_dialog is not None:
            self.result_dialog.close()
        dialog = ResultDialog(self.window_, *found)
        dialog.destroyed.connect(lambda *_a: self._dialog_gone(dialog))
        self.result_dialog = dialog
        dialog.show()
        return dialog

    def _dialog_gone(self, dialog: ResultDialog) -> None:
        if self.result_dialog is dialog:
            self.result_dialog = None

    def _menu(self, pos: Any) -> None:
        from PySide6.QtWidgets import QMenu

        w = self.window_
        menu = QMenu(self)
        menu.addActions([w.act_grid_open, w.act_grid_goto])
        menu.addSeparator()
        menu.addActions([w.act_grid_check, w.act_grid_export])
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # ---- checks -----------------------------------------------------------------------------------
    def check_shown(self) -> workers.Task | None:
        """Check every shown cell whose integration is turned on, through the core's
        scheduler in a worker; each cell changes as its result comes, and the results are
        kept (saved when all are in) like Check all's."""
        from ..core import checkproc

        if self.running:
            return None
        pairs = self.model.checks()
        w = self.window_
        if not pairs:
            w.say(_("Nothing to check: no integration shown is turned on."), 10000)
            return None
        if not w.confirm_notices({k for _t, k in pairs}):
            return None
        cancel = threading.Event()
        ws = self.ws
        self.pending = {}
        self._total, self._done = len(pairs), 0
        self.model.set_running(pairs, True)

        def work(report: Any) -> None:
            sched = checkproc.make(
                ws, pairs, thread_concurrency=workers.CHECK_CONCURRENCY, on_batch=report, cancel=cancel
            )
            sched.start().wait()

        self.task = workers.run_in_background(
            work,
            lambda _none: self._finished(pairs),
            self._failed,
            on_progress=self._deliver,
            cancel=cancel,
            pool=workers.check_pool(),
            owner=self,
        )
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        w.say(
            ngettext("Checking {n} integration…", "Checking {n} integrations…", len(pairs)).format(
                n=len(pairs)
            )
        )
        self._update_summary()
        return self.task

    def _deliver(self, batch: Batch) -> None:
        items = [(pair, health.kept_results(outcomes)) for pair, outcomes in batch]
        for pair, kept in items:
            if kept is not None:
                self.pending[pair] = kept
        self.model.update(items)
        self._done += len(items)
        self._update_summary()

    def _finished(self, pairs: list[Pair]) -> None:
        self.task = None
        self.model.set_running(pairs, False)  # any left (the worker stopped early)
        self.cancel_button.setVisible(False)
        results, self.pending = self.pending, {}
        failed = sum(1 for r in results.values() if any(x.get("category") != "ok" for x in r))
        self.window_.say(
            ngettext(
                "{done} of {total} integration checked, {failed} not OK",
                "{done} of {total} integrations checked, {failed} not OK",
                self._total,
            ).format(done=len(results), total=self._total, failed=failed),
            30000,
        )
        self._update_summary()
        if results:
            self.window_.save_results(results)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.model.set_running(list(self.model.running), False)
        self.cancel_button.setVisible(False)
        self.pending = {}
        self._update_summary()
        self.window_.show_error(exc)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.window_.say(_("Cancelling the checks…"))

    # ---- export ------------------------------------------------------------------------------------
    def export_csv(self) -> None:
        """The rows shown, through the save dialog: a header, one line per tenant, each
        cell's level in words (nothing else of the settings, never a secret)."""
        w = self.window_
        path = w.prompts.save_file(
            _("Export the health grid as CSV"), "xdrconf-health.csv", _("CSV files (*.csv);;All files (*)")
        )
        if not path:
            return
        kinds, rows = (
            self.model.kinds,
            [GridRow(r.tenant_id, r.name, r.path, list(r.cells)) for r in self.model.rows],
        )

        def work() -> int:
            return health.write_csv(path, kinds, rows)

        def done(n: int) -> None:
            w.say(
                ngettext("Exported {n} tenant to {path}.", "Exported {n} tenants to {path}.", n).format(
                    n=format_int(n), path=path
                ),
                15000,
            )

        w.run_task(work, done, what=_("Exporting…"))
