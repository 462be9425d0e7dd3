"""Connection checks in the window: the "Check connection" box of the wizard (a draft
configuration with typed secrets; `core.engine.run_operation` on the check pool) and the
"Check all" results dialog (the core's scheduler; its batches of results reach the GUI
thread through a queued signal). Cancelling sets their cancel event."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QStandardItem, QStandardItemModel
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
from ..core.process import keep_collections_short
from ..core.scheduler import Batch, RunControl, by_pair
from ..core.status import shown_level
from . import workers
from .icons import COLOURS, colour, mark_icon
from .integrations_view import SHORT_TITLES, format_time, warnings_html
from .tenant_model import QuietActivation

if TYPE_CHECKING:
    from ..core.workspace import Workspace


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


_SORT = Qt.ItemDataRole.UserRole
_CATEGORY_COLUMN = 3
# Results reach the table at most this often (a few rows per turn of the event loop).
DELIVERY_INTERVAL_MS = 250
# The results the table shows at the dialog's first size (1100 x 520).
ROWS_SHOWN = 12
FILL_STEP = 4  # rows shown per turn of the event loop while the results table has room
APPEND_STEP = 50  # and once it is full
_RELAYOUT_CHANGES = (
    QEvent.Type.FontChange,
    QEvent.Type.StyleChange,
    QEvent.Type.LayoutDirectionChange,
    QEvent.Type.ApplicationFontChange,
)
# start_when_shown starts the checks after the dialog's first paint, or after this long.
START_AT_MOST_MS = 200


class RowMaker:
    """Makes the results table's cells of each result. Made on the GUI thread (the marks are
    pixmaps), used from any: the check runner's thread makes the rows of a batch, so that
    the GUI thread only appends them (building a row's items costs ~60 µs of Python)."""

    def __init__(self) -> None:
        self.brushes = {level: QBrush(colour(level)) for level in COLOURS}
        self.icons = {level: mark_icon(level) for level in COLOURS}

    def rows(self, results: list[CheckResult]) -> list[list[QStandardItem]]:
        return [self.row(r) for r in results]

    def row(self, r: CheckResult) -> list[QStandardItem]:
        latency = "" if r.latency_ms is None else _("{ms:.0f} ms").format(ms=r.latency_ms)
        words = outcome_words(r)
        checked = format_time(r.checked_at)
        display = (
            r.tenant.split("/", 1)[1] if "/" in r.tenant else r.tenant,
            str(SHORT_TITLES.get(r.integration) or catalog.title_of(r.integration)),
            r.target or r.connection,
            words,
            r.message,
            latency,
            checked,
        )
        where = r.connection
        if r.connection and r.target:
            where = _("{target} (XDR ID {xdr_id})").format(target=r.target, xdr_id=r.connection)
        tooltips = (
            r.tenant,
            str(catalog.title_of(r.integration)),
            where or display[2],
            f"{words} ({r.category.value})",
            r.message,
            None,
            checked,
        )
        sort: tuple[Any, ...] = (*display[:5], r.latency_ms or 0.0, checked)
        row = []
        for text, tip, key in zip(display, tooltips, sort, strict=True):
            item = QStandardItem(text)
            if tip is not None:
                item.setToolTip(tip)
            item.setData(key, _SORT)
            row.append(item)
        level = shown_level(r)
        level = level if level in self.brushes else "off"
        row[_CATEGORY_COLUMN].setForeground(self.brushes[level])
        row[_CATEGORY_COLUMN].setIcon(self.icons[level])
        return row


_row_maker: RowMaker | None = None


def row_maker() -> RowMaker:
    """The process's one RowMaker: its marks and brushes are made once (the first use of
    their Qt types costs ~10 ms; the window makes it ahead, with the spare check workers)."""
    global _row_maker
    if _row_maker is None:
        _row_maker = RowMaker()
    return _row_maker


_spare: CheckAllDialog | None = None


def keep_spare(ws: Workspace, parent: QWidget) -> None:
    """Make a Check dialog ahead, at an idle moment, for the next Check all of this window
    to use (take_spare): made at the click, its widgets cost ~5 ms of the GUI thread and
    their first showing ~2 ms more, on top of the first paint. The first one made in a
    process also takes Qt's first use of its parts (~4 ms more for the results model
    alone, the first time a Python subclass of a Qt class is made). Painted once into a
    pixmap, so that its styles and layout are worked out too; never shown until taken."""
    global _spare
    if _spare is not None and shiboken6.isValid(_spare):
        if _made_for(_spare, ws, parent):
            return
        _spare.deleteLater()  # another window's or workspace's
    _spare = CheckAllDialog(ws, [], parent=parent)
    _spare.grab()


def take_spare(ws: Workspace, parent: QWidget) -> CheckAllDialog | None:
    """The dialog keep_spare made for this window and workspace, if there is one (once)."""
    global _spare
    spare, _spare = _spare, None
    if spare is None or not shiboken6.isValid(spare):
        return None
    if _made_for(spare, ws, parent):
        return spare
    spare.deleteLater()  # another window's or workspace's
    return None


def _made_for(dialog: CheckAllDialog, ws: Workspace, parent: QWidget) -> bool:
    return dialog.ws is ws and dialog.parent() is parent


class ResultsModel(QStandardItemModel):
    """The results table. Its cells are held by Qt, worked out once per result: a repaint
    (a few times a second while results come in) reads them without calling Python — a
    Python model's data() was called seven times for each visible cell, most of a repaint's
    cost. The view edits nothing (its edit triggers are off)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(0, len(RESULT_COLUMNS), parent)
        self.setHorizontalHeaderLabels([_(c) for c in RESULT_COLUMNS])
        self.setSortRole(_SORT)
        self.results: list[CheckResult] = []
        self.maker = row_maker()

    def add(self, results: list[CheckResult], rows: list[list[QStandardItem]] | None = None) -> None:
        """Appends the results; rows: their cells, made by self.maker, if made already."""
        for r, row in zip(results, self.maker.rows(results) if rows is None else rows, strict=True):
            self.results.append(r)
            self.appendRow(row)


class ResultsView(QuietActivation, QTableView):
    """The results table's view. Qt lays out and repaints the whole visible table after any
    rows are inserted, also when they are appended below what can be seen, as they are while
    a run goes on and the table is not sorted. Rows appended to an unsorted table get less:
    below what can be seen, only the scroll bar is updated and nothing is painted (a batch
    of 50 then costs the GUI thread ~3 ms here instead of ~6.7 ms, with the progress bar
    and the summary); into the empty space under the last rows, only that space is painted
    (painting a row costs ~0.7 ms here: a full table repainted for a few new rows was most
    of a batch's cost while the table filled).
    Any other change since the last layout (a sort, removed or inserted rows elsewhere, a
    reset, a style, font or direction change) gets Qt's whole layout and repaint. The
    dialog's activation repaints nothing where nothing looks different (QuietActivation)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._appended_from: int | None = None  # the first row appended since the last layout
        self._whole = False  # something else changed since the last layout
        self.skipped_layouts = 0  # (for the tests) layouts that only updated the scroll bar
        self.partial_layouts = 0  # (for the tests) layouts that painted the new rows only

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        self._whole = True
        if model is not None:
            for signal in (
                model.layoutChanged,
                model.modelReset,
                model.rowsRemoved,
                model.rowsMoved,
                model.columnsInserted,
                model.columnsRemoved,
            ):
                signal.connect(self._changed_otherwise)

    def _changed_otherwise(self, *_args: Any) -> None:
        self._whole = True

    def changeEvent(self, event: Any) -> None:
        if event.type() in _RELAYOUT_CHANGES:  # the rows' sizes or places may change
            self._whole = True
        super().changeEvent(event)

    def rowsInserted(self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int) -> None:
        if not parent.isValid():
            model = self.model()
            if model is not None and end == model.rowCount() - 1:  # appended after the last row
                if self._appended_from is None:
                    self._appended_from = start
            else:
                self._whole = True
        super().rowsInserted(parent, start, end)

    def has_room(self) -> bool:
        """Whether rows added now would be seen: the last row ends above the view's bottom."""
        model = self.model()
        rows = 0 if model is None else model.rowCount()
        return (
            rows == 0
            or self.rowViewportPosition(rows - 1) + self.rowHeight(rows - 1) < self.viewport().height()
        )

    def doItemsLayout(self) -> None:
        appended, whole = self._appended_from, self._whole
        self._appended_from, self._whole = None, False
        model = self.model()
        unsorted = not isinstance(model, QSortFilterProxyModel) or model.sortColumn() < 0
        if appended is not None and appended > 0 and not whole and unsorted:
            viewport = self.viewport()
            top = self.rowViewportPosition(appended)
            if top >= viewport.height():  # the view is full and the new rows are below it
                self.skipped_layouts += 1
                self.updateGeometries()  # the scroll bar's range
                return
            if top > 0:  # the rows above are as they were painted: only the space below them
                self.partial_layouts += 1
                self.updateGeometries()
                viewport.update(0, top, viewport.width(), viewport.height() - top)
                return
        super().doItemsLayout()


class CheckAllDialog(QDialog):
    """Runs many checks through the core's scheduler with a progress bar, a results table
    and Cancel; saves the results (except cancelled ones) with ws.record_results when all
    are done."""

    finished_all = Signal()  # every check has reported, and its results are shown
    saved = Signal()  # the results were recorded
    # (batch, its results' rows): emitted by the scheduler's thread; delivered on the GUI thread
    _batch = Signal(object, object)

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
        self._all_reported = False  # every check has reported
        self._finished = False  # and every result is shown: finished_all was emitted
        self._saved_early = False  # saved before every result was shown
        self._started = time.monotonic()
        self.scheduler: RunControl | None = None
        self._release_collections: Callable[[], None] = lambda: None  # set when the run starts
        # Results reach the table in the scheduler's batches, a few times a second:
        # repainting the table for each of hundreds of results would keep the GUI thread busy.
        self._batch.connect(self._deliver)
        self._unshown: list[CheckResult] = []
        self._unshown_rows: list[list[QStandardItem]] = []
        self._shown_at = 0.0
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_delivered)
        self.setObjectName("checkAllDialog")
        self.resize(1100, 520)
        lay = QVBoxLayout(self)
        self.summary = QLabel(self)
        lay.addWidget(self.summary)
        self.progress = QProgressBar(self)
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.model = ResultsModel(self)
        self._maker = self.model.maker  # the scheduler's thread reads no attribute of the model
        self.sorted = QSortFilterProxyModel(self)
        self.sorted.setSourceModel(self.model)
        self.sorted.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = ResultsView(self)
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
        self.bind(pairs, title)

    def bind(self, pairs: list[tuple[str, str]], title: str = "") -> None:
        """What is checked (before the run starts): a dialog made ahead (keep_spare) gets it
        when it is taken."""
        assert self.scheduler is None and not self.done_count, "bound while it runs"
        self.pairs = list(pairs)
        self.setWindowTitle(title or _("Check"))
        self.progress.setRange(0, max(1, len(self.pairs)))
        # Its scroll bar from the start, not when the rows reach the bottom: the columns do
        # not move then, and the first results are laid out and painted once, not twice
        # (~7 ms of the GUI thread's time, as the checks run).
        self.table.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOn
            if len(self.pairs) > ROWS_SHOWN
            else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
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

    def start_when_shown(self) -> None:
        """Start the checks once the dialog is on the screen: its first paint does not then
        wait for a CPU behind the reading of the secrets and the workers' first handshakes
        (the dialog counts as running meanwhile: closing it cancels)."""
        self.pending = len(self.pairs)
        self._update_summary()
        workers.after_first_paint(self, self.start, at_most_ms=START_AT_MOST_MS)

    def start(self) -> None:
        """Start the checks on the core's scheduler (as many at once as the check pool runs)."""
        if self.scheduler is not None:
            return
        if self.cancel_event.is_set():  # cancelled or closed before it started: none ran
            self.pending = 0
            self._update_summary()
            self._maybe_finish()
            return
        self._started = time.monotonic()
        self.pending = len(self.pairs)
        # Until the results are saved: no full garbage collection of the whole process
        # (its ~0.1 s with the interpreter lock held would stop the window mid-run).
        release = self._release_collections = keep_collections_short()
        self.destroyed.connect(lambda *_args: release())  # deleted before its save ended
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
            rows = self._maker.rows([r for _key, results in batch for r in results])
            self._batch.emit(batch, rows)

    @property
    def running(self) -> bool:
        return self.pending > 0

    def cancel(self) -> None:
        self.cancel_event.set()
        self.cancel_button.setEnabled(False)
        self._update_summary()

    def _deliver(self, batch: Batch, rows: list[list[QStandardItem]]) -> None:
        self._unshown_rows.extend(rows)
        for key, results in batch:
            self.by_pair[key] = results
            self.pending -= 1
            self.done_count += 1
            # Counted per integration of a tenant, as the progress is; an integration with
            # several connections (KATA) is not OK when one of them is not.
            self.failed_count += 1 if any(not r.ok for r in results) else 0
            self._unshown.extend(results)
        # Each worker sends its batch several times a second and each showing repaints the
        # table: they are shown together, at most every DELIVERY_INTERVAL_MS, the last at once
        # (a few rows per turn of the event loop, see _show_delivered).
        if self.pending == 0:
            self._show_delivered()
        elif not self._show_timer.isActive():
            wait = DELIVERY_INTERVAL_MS - (time.monotonic() - self._shown_at) * 1000
            self._show_timer.start(max(0, int(wait)))
        self._maybe_finish()

    def _show_delivered(self) -> None:
        self._show_timer.stop()
        self._shown_at = time.monotonic()
        shown, self._unshown = self._unshown, []
        rows, self._unshown_rows = self._unshown_rows, []
        # A few rows per turn of the event loop, so that the window's other work (and its
        # frames) come between: while the table has room, FILL_STEP, each step painted alone
        # (~0.7 ms a row here; a screenful at once took ~10 ms); once it is full, APPEND_STEP
        # (appending a row costs ~30 µs: a worker's 250 at once, ~8 ms).
        step = FILL_STEP if self.table.has_room() else APPEND_STEP
        if len(rows) > step:
            shown, self._unshown = shown[:step], shown[step:]
            rows, self._unshown_rows = rows[:step], rows[step:]
            self._show_timer.start(0)
        self.model.add(shown, rows)
        self.table.executeDelayedItemsLayout()  # painted before the next rows come
        # QProgressBar repaints at once when its value changes, and with it whatever the
        # new rows made dirty: held back, it is painted once with the table, by the event loop.
        self.progress.setUpdatesEnabled(False)
        self.progress.setValue(self.done_count)
        self.progress.setUpdatesEnabled(True)
        self._update_summary()
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        """Once every check has reported, the results are saved (in the background); once
        they are all shown too, finished_all, and saved after it."""
        if self.pending == 0 and not self._all_reported:
            self._all_reported = True
            self.elapsed = time.monotonic() - self._started
            self.cancel_button.setEnabled(False)
            self._save()
        if self._all_reported and not self._unshown_rows and not self._finished:
            self._finished = True
            self.finished_all.emit()
            if self._saved_early:
                self.saved.emit()

    def _emit_saved(self) -> None:
        if self._finished:
            self.saved.emit()
        else:
            self._saved_early = True  # emitted after finished_all

    def _save(self) -> None:
        # The stored forms are made in the worker too: hundreds of results are a deep copy each.
        results = list(self.by_pair.items())
        ws = self.ws

        def save() -> None:
            keep = by_pair(results)
            if keep:
                ws.record_results(keep)

        def done(_result: object) -> None:
            self._release_collections()
            self._emit_saved()

        workers.run_in_background(save, done, self._save_failed, owner=self)

    def _save_failed(self, exc: BaseException) -> None:
        from .dialogs import error_text

        self._release_collections()
        self.summary.setText(
            _("{summary} — the results could not be saved: {error}").format(
                summary=self.summary.text(), error=error_text(exc)
            )
        )
        self._emit_saved()

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
