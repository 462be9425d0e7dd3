"""Connection checks in the window: the "Check connection" box of the wizard (a draft
configuration with typed secrets; `core.engine.run_operation` on the check pool) and the
"Check all" results dialog (the core's scheduler; its batches of results reach the GUI
thread through a queued signal). Cancelling sets their cancel event."""

from __future__ import annotations

import html
import threading
import time
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core import catalog, checkproc
from ..core.errors import XdrconfError
from ..core.i18n import N_, _, ngettext
from ..core.outcome import Category, CheckResult, category_words, level_words, outcome_words
from ..core.scheduler import Batch, RunControl, by_pair
from ..core.status import shown_level
from . import workers
from .icons import colour, mark_icon
from .integrations_view import SHORT_TITLES, format_time, warnings_html

if TYPE_CHECKING:
    from ..core.workspace import Workspace

Index = QModelIndex | QPersistentModelIndex


def result_html(result: CheckResult) -> str:
    c = colour(shown_level(result)).name()
    latency = " · " + _("{ms:.0f} ms").format(ms=result.latency_ms) if result.latency_ms is not None else ""
    where = result.target or result.connection
    target = f" · {html.escape(where)}" if where else ""
    return (
        f"<span style='color:{c}'><b>{html.escape(outcome_words(result))}</b></span>"
        f"{target}{latency}<br>{html.escape(result.message)}{warnings_html(result.warnings)}"
    )


class CheckConnectionBox(QWidget):
    """Button, progress, Cancel and the outcome of checking one integration. In the wizard
    it checks the draft (typed settings and secrets, nothing saved); elsewhere the saved
    configuration."""

    checked = Signal(list)  # list[CheckResult]

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: workers.Task | None = None
        self.results: list[CheckResult] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        check = ctx.spec.check_op
        notice = check.notice if check is not None else ""
        self.notice_label = QLabel(
            _("Note before checking: {notice}").format(notice=notice) if notice else "", self
        )
        self.notice_label.setWordWrap(True)
        self.notice_label.setVisible(bool(notice))
        self.notice_label.setStyleSheet("color:#8a5a00")
        lay.addWidget(self.notice_label)
        row = QHBoxLayout()
        self.button = QPushButton(_("Check connection"), self)
        self.button.setObjectName("checkButton")
        self.button.clicked.connect(self.start)
        self.cancel_button = QPushButton(_("Cancel check"), self)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        self.elapsed = QLabel(self)
        row.addWidget(self.button)
        row.addWidget(self.progress)
        row.addWidget(self.elapsed)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.outcome = QLabel(self)
        self.outcome.setObjectName("checkOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.outcome, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)
        self._started = 0.0
        self._running = False

    @property
    def running(self) -> bool:
        # Our own flag, not task.running: the worker's `finished` may arrive after the
        # result was shown, and a new check must be possible as soon as it is.
        return self._running

    def start(self) -> workers.Task | None:
        from ..core.engine import draft_followers, run_operation
        from .dialogs import Prompts

        if self.running:
            return None
        ctx = self.ctx
        ws, tid, kind = ctx.workspace, ctx.tenant_id, ctx.kind
        draft_state = typed = None
        if ctx.draft is not None:
            try:
                draft_state = ctx.draft.draft_state()
            except XdrconfError as exc:
                self._show(
                    [
                        CheckResult(
                            Category.INVALID_CONFIG,
                            _("{problem}; correct it and check again.").format(problem=exc),
                        )
                    ]
                )
                return None
            typed = ctx.draft.typed_secrets()
        # A stored secret goes only where it was given for: the draft's new target only if the
        # user says so (default No: the run is then refused, nothing is sent).
        moving = draft_followers(ws, tid, kind, draft_state, typed) if draft_state is not None else []
        keep = bool(moving) and Prompts(self).confirm_follow(moving, running=True)
        cancel = threading.Event()
        self._running = True
        self.results = []
        self.outcome.setText(_("Checking…"))
        self.button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.progress.setVisible(True)
        self._started = time.monotonic()
        self._timer.start()

        def work() -> list[CheckResult]:
            return run_operation(
                ws, tid, kind, cancel=cancel, draft=draft_state, draft_secrets=typed, keep_secrets=keep
            )

        self.task = ctx.run_in_background(work, self._show, self._failed, cancel=cancel, checks=True)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.outcome.setText(_("Cancelling…"))

    def _tick(self) -> None:
        self.elapsed.setText(_("{seconds:.1f} s").format(seconds=time.monotonic() - self._started))

    def _stop(self) -> None:
        self._running = False
        self._timer.stop()
        self.button.setEnabled(True)
        self.cancel_button.setVisible(False)
        self.progress.setVisible(False)
        self.elapsed.setText("")

    def _show(self, results: list[CheckResult]) -> None:
        self._stop()
        self.results = list(results)
        self.outcome.setText("<br><br>".join(result_html(r) for r in results))
        self.checked.emit(self.results)

    def _failed(self, exc: BaseException) -> None:
        from .dialogs import error_text

        self._show([CheckResult(Category.INVALID_CONFIG, error_text(exc))])


# ---- check all ---------------------------------------------------------------------------
RESULT_COLUMNS = (
    N_("Tenant"),
    N_("Integration"),
    N_("Target"),
    N_("Category"),
    N_("Message"),
    N_("Latency"),
    N_("Time"),
)


_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_SORT = Qt.ItemDataRole.UserRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_CATEGORY_COLUMN = 3


class _RowCells:
    """What the table shows of one result, worked out once: a repaint asks for every
    visible cell in several roles, a few times a second while results come in."""

    __slots__ = ("display", "level", "sort", "tooltip")

    def __init__(self, r: CheckResult) -> None:
        latency = "" if r.latency_ms is None else _("{ms:.0f} ms").format(ms=r.latency_ms)
        self.display = (
            r.tenant.split("/", 1)[1] if "/" in r.tenant else r.tenant,
            str(SHORT_TITLES.get(r.integration) or catalog.title_of(r.integration)),
            r.target or r.connection,
            outcome_words(r),
            r.message,
            latency,
            format_time(r.checked_at),
        )
        where = r.connection
        if r.connection and r.target:
            where = _("{target} (XDR ID {xdr_id})").format(target=r.target, xdr_id=r.connection)
        self.tooltip = (
            r.tenant,
            str(catalog.title_of(r.integration)),
            where or self.display[2],
            f"{outcome_words(r)} ({r.category.value})",
            r.message,
            None,
            self.display[6],
        )
        self.sort = (*self.display[:5], r.latency_ms or 0.0, self.display[6])
        self.level = shown_level(r)


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.results: list[CheckResult] = []
        self._rows: list[_RowCells] = []
        self._brushes: dict[str, QBrush] = {}
        self._icons: dict[str, Any] = {}

    def add(self, results: list[CheckResult]) -> None:
        if not results:
            return
        n = len(self.results)
        self.beginInsertRows(QModelIndex(), n, n + len(results) - 1)
        self.results.extend(results)
        self._rows.extend(_RowCells(r) for r in results)
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.results)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(RESULT_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(RESULT_COLUMNS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or row >= len(self._rows):
            return None
        cells, col = self._rows[row], index.column()
        if role == _DISPLAY:
            return cells.display[col]
        if role == _TOOLTIP:
            return cells.tooltip[col]
        if role == _SORT:
            return cells.sort[col]
        if col == _CATEGORY_COLUMN:
            if role == _FOREGROUND:
                brush = self._brushes.get(cells.level)
                if brush is None:
                    brush = self._brushes[cells.level] = QBrush(colour(cells.level))
                return brush
            if role == _DECORATION:
                icon = self._icons.get(cells.level)
                if icon is None:
                    icon = self._icons[cells.level] = mark_icon(cells.level)
                return icon
        return None


class CheckAllDialog(QDialog):
    """Runs many checks through the core's scheduler with a progress bar, a results table
    and Cancel; saves the results (except cancelled ones) with ws.record_results when all
    are done."""

    finished_all = Signal()  # every check has reported
    saved = Signal()  # the results were recorded
    _batch = Signal(object)  # emitted by the scheduler's thread; delivered on the GUI thread

    def __init__(
        self,
        ws: Workspace,
        pairs: list[tuple[str, str]],
        *,
        title: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ws = ws
        self.pairs = list(pairs)
        self.cancel_event = threading.Event()
        self.pending = 0
        self.done_count = 0
        self.failed_count = 0
        self.by_pair: dict[tuple[str, str], list[CheckResult]] = {}
        self._all_reported = False
        self._started = time.monotonic()
        self.scheduler: RunControl | None = None
        # Results reach the table in the scheduler's batches, a few times a second:
        # repainting the table for each of hundreds of results would keep the GUI thread busy.
        self._batch.connect(self._deliver)
        self.setObjectName("checkAllDialog")
        self.setWindowTitle(title or _("Check"))
        self.resize(1100, 520)
        lay = QVBoxLayout(self)
        self.summary = QLabel(self)
        lay.addWidget(self.summary)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, max(1, len(self.pairs)))
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.model = ResultsModel(self)
        self.sorted = QSortFilterProxyModel(self)
        self.sorted.setSourceModel(self.model)
        self.sorted.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView(self)
        self.table.setModel(self.sorted)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        head = self.table.horizontalHeader()
        # The Category column fits the longest words (the code is in the tooltip).
        texts = [category_words(c) for c in Category] + [level_words(lv) for lv in ("warning", "unverified")]
        words = max(self.fontMetrics().horizontalAdvance(t) for t in texts) + 36
        header_font = head.fontMetrics()
        for col, width in enumerate((200, 150, 150, words, 300, 70, 70)):
            # at least the header's text (Russian ones are longer: "Задержка")
            needed = header_font.horizontalAdvance(_(RESULT_COLUMNS[col])) + 24
            self.table.setColumnWidth(col, max(width, needed))
        head.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        self.detail = QLabel(_("Select a result to read its whole message."), self)
        self.detail.setObjectName("resultDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # A long message (a certificate's subject and validity) scrolls instead of being cut.
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.detail)
        scroll.setMinimumHeight(self.fontMetrics().height() * 5 + 6)
        lay.addWidget(scroll)
        self.table.selectionModel().currentRowChanged.connect(self._show_detail)
        buttons = QDialogButtonBox(self)
        self.cancel_button = buttons.addButton(_("Cancel checks"), QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.close)
        lay.addWidget(buttons)
        self._update_summary()

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        source = self.sorted.mapToSource(current)
        r = self.model.results[source.row()]
        self.detail.setText(
            f"<b>{html.escape(r.tenant)}</b> — {html.escape(str(catalog.title_of(r.integration)))}"
            f"<br>{result_html(r)}"
        )

    def start(self) -> None:
        """Start the checks on the core's scheduler (as many at once as the check pool runs)."""
        self._started = time.monotonic()
        self.pending = len(self.pairs)
        workers.check_pool()  # sets the interpreter's switch interval for many checking threads
        # Many checks run in worker processes, out of this process's interpreter lock, so
        # that the window stays smooth; a few on the check pool's threads (core/checkproc.py).
        self.scheduler = checkproc.make(
            self.ws,
            self.pairs,
            thread_concurrency=workers.CHECK_CONCURRENCY,
            on_batch=self._emit_batch,
            cancel=self.cancel_event,
        ).start()
        self._update_summary()

    def _emit_batch(self, batch: Batch) -> None:
        # On the scheduler's thread: the dialog may have been closed and deleted meanwhile.
        if shiboken6.isValid(self):
            self._batch.emit(batch)

    @property
    def running(self) -> bool:
        return self.pending > 0

    def cancel(self) -> None:
        self.cancel_event.set()
        self.cancel_button.setEnabled(False)
        self._update_summary()

    def _deliver(self, batch: Batch) -> None:
        shown: list[CheckResult] = []
        for key, results in batch:
            self.by_pair[key] = results
            self.pending -= 1
            self.done_count += 1
            # Counted per integration of a tenant, as the progress is; an integration with
            # several connections (KATA) is not OK when one of them is not.
            self.failed_count += 1 if any(not r.ok for r in results) else 0
            shown.extend(results)
        self.model.add(shown)
        # QProgressBar repaints at once when its value changes, and with it whatever the
        # new rows made dirty: held back, it is painted once with the table, by the event loop.
        self.progress.setUpdatesEnabled(False)
        self.progress.setValue(self.done_count)
        self.progress.setUpdatesEnabled(True)
        self._update_summary()
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self.pending == 0 and not self._all_reported:
            self._all_reported = True
            self.elapsed = time.monotonic() - self._started
            self.cancel_button.setEnabled(False)
            self.finished_all.emit()
            self._save()

    def _save(self) -> None:
        # The stored forms are made in the worker too: hundreds of results are a deep copy each.
        results = list(self.by_pair.items())
        ws = self.ws

        def save() -> None:
            keep = by_pair(results)
            if keep:
                ws.record_results(keep)

        workers.run_in_background(save, lambda _result: self.saved.emit(), self._save_failed, owner=self)

    def _save_failed(self, exc: BaseException) -> None:
        from .dialogs import error_text

        self.summary.setText(
            _("{summary} — the results could not be saved: {error}").format(
                summary=self.summary.text(), error=error_text(exc)
            )
        )
        self.saved.emit()

    def _update_summary(self) -> None:
        total, done, failed = len(self.pairs), self.done_count, self.failed_count
        if failed:
            text = ngettext(
                "{done} of {total} integration checked, {failed} not OK",
                "{done} of {total} integrations checked, {failed} not OK",
                total,
            ).format(done=done, total=total, failed=failed)
        else:
            text = ngettext(
                "{done} of {total} integration checked", "{done} of {total} integrations checked", total
            ).format(done=done, total=total)
        if self.pending and self.cancel_event.is_set():
            text = _("{summary} — cancelling…").format(summary=text)
        elif not self.pending and done:
            text = _("{summary} — done").format(summary=text)
        self.summary.setText(text)

    def closeEvent(self, event: Any) -> None:
        if self.pending:
            self.cancel()
        super().closeEvent(event)
