"""The Operations tab of the main window: every operation an integration declares in its
spec (core.engine.Operation), run from one generated form, so an integration needs no Qt
code for its operations.

The tab shows a picker of the operations (title and description), the parameters as the
wizard's field editors (qt.editors.FieldGrid, made from the operation's Fields; a
parameter named like one of the integration's settings starts with the tenant's value;
the operation's `offer` hook adds values to pick from and extra parameters), Run and
Cancel with progress, and the outcome: its category in words, the message, the warnings
and the data, as a table of rows (the operation's columns), a table of facts (a dict) and
the JSON itself, each copyable. Before a run the operation's notice is shown (a
confirmation), and one that changes data on the peer asks Yes/No, No by default, naming
the operation, the tenant and the target. A check run from here is kept as the last check,
as any check is. The operation runs in a worker through core.engine.run_operation."""

from __future__ import annotations

import dataclasses
import html
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.engine import (
    Operation,
    ParamOffer,
    cell_text,
    columns_of,
    facts_of,
    parse_params,
    record_check,
    rows_of,
)
from ..core.errors import XdrconfError
from ..core.fields import Field
from ..core.i18n import _
from ..core.outcome import Category, Outcome, outcome_words
from ..core.status import integration_status, shown_level
from .dialogs import Prompts, error_text
from .editors import HELP_STYLE, REASON_STYLE, ChoiceEditor, FieldGrid, LineEditor
from .icons import COLOURS
from .integrations_view import format_time

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent

    from . import workers
    from .integrations import IntegrationUiContext

Index = QModelIndex | QPersistentModelIndex
NOTICE_STYLE = "color:#8a5a00"
MAX_COLUMN = 360  # a column wider than this (a public key) is cut; the whole text is in its tooltip
OTHER_PARAMS = "__other__"  # the editor of NAME=VALUE lines (extra_params without an offer)


def operations_of(ctx: IntegrationUiContext) -> list[Operation]:
    """The operations the tab offers: all of them, when there is one besides the check."""
    ops = list(ctx.spec.operations)
    return ops if any(not op.is_check for op in ops) else []


def has_tab(ctx: IntegrationUiContext, configured: bool) -> bool:
    """Whether the integration gets an Operations tab: it has operations besides the check,
    and is configured or has one that needs no settings (standalone)."""
    ops = operations_of(ctx)
    return bool(ops) and (configured or any(op.standalone for op in ops))


def level_colour(outcome: Outcome) -> str:
    return COLOURS[shown_level(outcome)]


def outcome_html(outcome: Outcome) -> str:
    """An outcome as the tab shows it: its category in words (the code in brackets), where,
    how long and when, then the message and the warnings."""
    esc = html.escape
    where = outcome.connection or outcome.target
    facts = [where] if where else []
    if outcome.latency_ms is not None:
        facts.append(_("{ms:.0f} ms").format(ms=outcome.latency_ms))
    if outcome.checked_at:
        facts.append(format_time(outcome.checked_at))
    head = (
        f"<span style='color:{level_colour(outcome)}'><b>{esc(outcome_words(outcome))}</b></span>"
        f" <span style='color:#666'>({esc(outcome.category.value)})</span>"
    )
    if facts:
        head += " · " + esc(" · ".join(facts))
    parts = [head, esc(outcome.message)]
    parts += [f"<span style='{NOTICE_STYLE}'>⚠ {esc(w)}</span>" for w in outcome.warnings]
    return "<br>".join(p for p in parts if p)


def param_value(f: Field, value: Any) -> str:
    """What an editor holds as the text the engine parses (a toggle's bool as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# ---- tables ---------------------------------------------------------------------------------
class TextTable(QAbstractTableModel):
    """Read-only rows of text under named columns."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headers: list[str] = []
        self.cells: list[list[str]] = []

    def set_table(self, headers: list[str], cells: list[list[str]]) -> None:
        self.beginResetModel()
        self.headers, self.cells = headers, cells
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.cells)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cells[index.row()][index.column()]
        return None

    def tsv(self, rows: list[int] | None = None) -> str:
        """The table (or some of its rows) as tab-separated text with its header line."""
        chosen = range(len(self.cells)) if not rows else sorted(rows)
        lines = ["\t".join(self.headers)]
        lines += ["\t".join(c.replace("\t", " ").replace("\n", " ") for c in self.cells[r]) for r in chosen]
        return "\n".join(lines)


class CopyTableView(QTableView):
    """A table whose Copy (Ctrl+C) puts the selected rows, or all of them, on the clipboard."""

    def __init__(self, model: TextTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text_model = model
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)  # Tab leaves the table
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.setMinimumHeight(self.verticalHeader().defaultSectionSize() * 4)

    def copy(self) -> str:
        rows = [i.row() for i in self.selectionModel().selectedRows()]
        text = self.text_model.tsv(rows)
        QGuiApplication.clipboard().setText(text)
        return text

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        super().keyPressEvent(event)

    def fit(self) -> None:
        self.resizeColumnsToContents()
        head = self.horizontalHeader()
        for col in range(self.text_model.columnCount()):
            if head.sectionSize(col) > MAX_COLUMN:
                head.resizeSection(col, MAX_COLUMN)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


# ---- the tab ----------------------------------------------------------------------------------
class OperationsPanel(QWidget):
    """The Operations tab of one integration of one tenant (see the module's docstring)."""

    ran = Signal(list)  # list[Outcome], when an operation has ended (after a check was kept)

    def __init__(self, ctx: IntegrationUiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.prompts = Prompts(self)
        self.operations = operations_of(ctx)
        self.task: workers.Task | None = None
        self.cancel_event: threading.Event | None = None
        self.outcomes: list[Outcome] = []
        self.shown_op: Operation | None = None  # the operation whose outcome is shown
        self._offer: ParamOffer | None = None
        self._started = 0.0
        self.setObjectName("operationsPanel")
        self.setWindowTitle(_("Operations"))
        self.setToolTip(_("Run what {title} can do, with its parameters").format(title=ctx.spec.title))
        # The operation and its parameters on the left, its outcome on the right: the data
        # table gets the tab's whole height (the user can move the border).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.setObjectName("operationsSplit")
        self.split.setChildrenCollapsible(False)
        outer.addWidget(self.split)
        # Left: the picker, the form (scrolling on its own when the tab is low, so its wrapped
        # texts are never squeezed), Run and what it says; right: the outcome.
        column = QWidget(self.split)
        column.setMinimumWidth(240)
        clay = QVBoxLayout(column)
        clay.setContentsMargins(0, 0, 6, 0)
        top = QHBoxLayout()
        picker_label = QLabel(_("&Operation:"), column)
        top.addWidget(picker_label)
        self.picker = QComboBox(column)
        self.picker.setObjectName("operationPicker")
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(12)
        for op in self.operations:
            self.picker.addItem(_(op.title), op.name)
            self.picker.setItemData(self.picker.count() - 1, _(op.description), Qt.ItemDataRole.ToolTipRole)
        picker_label.setBuddy(self.picker)
        top.addWidget(self.picker, 1)
        clay.addLayout(top)
        self.form_scroll = QScrollArea(column)
        self.form_scroll.setObjectName("operationForm")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left = QWidget(self.form_scroll)
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 4, 0)
        self.description = QLabel(left)
        self.description.setObjectName("operationDescription")
        self.description.setWordWrap(True)
        self.description.setStyleSheet(HELP_STYLE)
        lay.addWidget(self.description)
        self.notice = QLabel(left)
        self.notice.setObjectName("operationNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        lay.addWidget(self.notice)
        lay.addSpacing(4)
        self.form_slot = QVBoxLayout()
        lay.addLayout(self.form_slot)
        self.form: FieldGrid | None = None
        lay.addStretch(1)
        self.form_scroll.setWidget(left)
        clay.addWidget(self.form_scroll, 1)
        buttons = QHBoxLayout()
        self.run_button = QPushButton(_("&Run"), column)
        self.run_button.setObjectName("runOperation")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        buttons.addWidget(self.run_button)
        self.cancel_button = QPushButton(_("Cancel"), column)
        self.cancel_button.setObjectName("cancelOperation")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        buttons.addWidget(self.cancel_button)
        self.progress = QProgressBar(column)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(80)
        self.progress.setVisible(False)
        buttons.addWidget(self.progress)
        self.elapsed = QLabel(column)
        buttons.addWidget(self.elapsed)
        buttons.addStretch(1)
        clay.addLayout(buttons)
        self.state_label = QLabel(column)
        self.state_label.setObjectName("operationState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        clay.addWidget(self.state_label)

        right = QWidget(self.split)
        right.setMinimumWidth(280)
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(6, 0, 0, 0)
        self.outcome_label = QLabel(_("The outcome appears here."), right)
        self.outcome_label.setObjectName("operationOutcome")
        self.outcome_label.setStyleSheet(HELP_STYLE)
        self.outcome_label.setWordWrap(True)
        self.outcome_label.setTextFormat(Qt.TextFormat.RichText)
        self.outcome_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.outcome_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        rlay.addWidget(self.outcome_label)
        self.data_tabs = QTabWidget(right)
        self.data_tabs.setObjectName("operationData")
        self.data_tabs.setDocumentMode(True)
        # The pages live in data_tabs while an outcome has such data; hidden until then.
        self.rows_model = TextTable(self)
        self.rows_view = CopyTableView(self.rows_model, right)
        self.rows_view.setObjectName("operationRows")
        self.facts_model = TextTable(self)
        self.facts_view = CopyTableView(self.facts_model, right)
        self.facts_view.setObjectName("operationFacts")
        self.json_view = QPlainTextEdit(right)
        self.json_view.setObjectName("operationJson")
        self.json_view.setReadOnly(True)
        self.json_view.setTabChangesFocus(True)
        self.json_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.json_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.json_view.setMinimumHeight(self.rows_view.minimumHeight())
        for page in (self.rows_view, self.facts_view, self.json_view):
            page.setVisible(False)
        self.data_tabs.setVisible(False)
        rlay.addWidget(self.data_tabs, 1)
        bottom = QHBoxLayout()
        self.copy_button = QPushButton(_("&Copy"), right)
        self.copy_button.setObjectName("copyOperationData")
        self.copy_button.setToolTip(_("Copy the table shown (or its selected rows), or the JSON"))
        self.copy_button.clicked.connect(self.copy)
        self.copy_button.setVisible(False)
        bottom.addWidget(self.copy_button)
        bottom.addStretch(1)
        rlay.addLayout(bottom)
        # When no data is shown, the room below the outcome stays empty (at the bottom).
        self._tail = rlay.count()
        rlay.addStretch(1)
        self._right_layout = rlay
        self.split.addWidget(column)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 3)
        self._sized = False

        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)
        self.picker.currentIndexChanged.connect(lambda *_args: self._picked())
        first = next((i for i, op in enumerate(self.operations) if not op.is_check), 0)
        self.picker.setCurrentIndex(first)
        self._picked()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._sized and self.split.width() > 0:
            # Two fifths for the form, the rest for the outcome (then as the user drags it).
            self._sized = True
            width = self.split.width()
            self.split.setSizes([width * 2 // 5, width - width * 2 // 5])

    # ---- the operation and its parameters ----------------------------------------------------
    @property
    def operation(self) -> Operation:
        return self.operations[max(0, self.picker.currentIndex())]

    def select(self, name: str) -> None:
        """Pick the operation `name` (as a person does in the picker)."""
        i = self.picker.findData(name)
        if i < 0:
            raise KeyError(name)
        self.picker.setCurrentIndex(i)

    @property
    def running(self) -> bool:
        return self.task is not None

    def _settings(self) -> dict[str, Any]:
        tenant = self.ctx.tenant
        state = tenant.integrations.get(self.ctx.kind)
        return dict(state.settings) if state is not None else {}

    def _initial(self, f: Field) -> str:
        """A parameter starts with the tenant's setting of the same name, else its default."""
        settings = self._settings()
        try:
            setting = self.ctx.spec.field(f.name)
        except XdrconfError:
            setting = None
        if setting is not None and not setting.secret and settings.get(f.name) not in (None, "", []):
            return setting.format(settings[f.name])
        return f.format(f.default)

    def _fields(self, offer: ParamOffer | None) -> list[Field]:
        op = self.operation
        fields: list[Field] = []
        for f in op.params:
            choices = offer.choices.get(f.name) if offer is not None else None
            if choices:
                f = dataclasses.replace(f, kind="choice", choices=choices, parser=None)
            fields.append(f)
        if offer is not None:
            for name in offer.extra:
                help_text = _("The value for <{name}>.").format(name=name)
                fields.append(Field(name, name, required=True, help=help_text))
        elif op.extra_params:
            help_text = _("{what}: NAME=VALUE, one per line.").format(what=_(op.extra_params))
            fields.append(Field(OTHER_PARAMS, _("Other parameters"), multiline=True, help=help_text))
        return fields

    def _offer_now(self, values: dict[str, str]) -> ParamOffer | None:
        op = self.operation
        if op.offer is None:
            return None
        try:
            return op.offer(self._settings(), values)
        except XdrconfError:
            return ParamOffer()

    def _build_form(self, values: dict[str, str] | None = None, focus: str | None = None) -> None:
        """The parameter editors of the operation picked (again when its offer changed),
        keeping what was typed."""
        old = self.form
        typed = dict(values or {})
        self._offer = self._offer_now(typed)
        if self._offer is not None:
            # A required choice starts at its first value: offer what that one needs (the
            # placeholders of the only command, or of the first).
            first = {
                f.name: self._offer.choices[f.name][0][0]
                for f in self.operation.params
                if f.required and self._offer.choices.get(f.name) and not typed.get(f.name)
            }
            if first:
                typed.update(first)
                self._offer = self._offer_now(typed)
        fields = self._fields(self._offer)
        initial = {f.name: typed.get(f.name, self._initial(f)) for f in fields}
        form = FieldGrid(fields, self, values=initial, require=True, chooser=self.ctx)
        form.setObjectName("operationParams")
        if old is not None:
            self.form_slot.replaceWidget(old, form)
            old.hide()
            old.deleteLater()
        else:
            self.form_slot.addWidget(form)
        self.form = form
        form.revalidate()
        form.edited.connect(self._edited)
        for editor in form.editors.values():
            if isinstance(editor, LineEditor):
                editor.edit.returnPressed.connect(self.run)
            elif isinstance(editor, ChoiceEditor):
                # A long choice (a KUMA command's name) must not widen the form past its column.
                editor.combo.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                )
                editor.combo.setMinimumContentsLength(10)
                editor.combo.setMinimumWidth(editor.fontMetrics().averageCharWidth() * 14)
                tail = editor.lay.itemAt(editor.lay.count() - 1)
                if tail is not None and tail.spacerItem() is not None:
                    editor.lay.removeItem(tail)  # the combo takes the column's width
        form.setVisible(bool(fields))
        if focus is not None and focus in form.editors:
            # The editor is new: the focus goes to its input (a combo box, a line), as before.
            editor = form.editors[focus]
            inner = editor.findChild(QComboBox) or editor.findChild(QLineEdit)
            (inner or editor).setFocus()
        self._update_state()

    def _edited(self, name: str) -> None:
        if self.operation.offer is None or self.form is None:
            return
        values = self.texts()
        offer = self._offer_now(values)
        if offer != self._offer:
            self._build_form(values, focus=name)

    def _picked(self) -> None:
        op = self.operation
        self.description.setText(_(op.description) if op.description else "")
        self.description.setVisible(bool(op.description))
        lines = []
        if op.notice:
            lines.append("⚠ " + _(op.notice))
        if op.changes_peer:
            lines.append(_("Changes data on the peer: you are asked to confirm before it runs."))
        self.notice.setText("\n".join(lines))
        self.notice.setVisible(bool(lines))
        self._build_form()

    def texts(self) -> dict[str, str]:
        """What the parameter editors hold, as text (visible ones only)."""
        if self.form is None:
            return {}
        return {
            name: param_value(self.form.editors[name].field, value)
            for name, value in self.form.values().items()
        }

    def params(self) -> dict[str, str]:
        """The parameters for the engine: NAME=VALUE lines split, empty optional ones left out
        (the operation's default applies)."""
        out: dict[str, str] = {}
        for name, text in self.texts().items():
            if name == OTHER_PARAMS:
                for line in text.splitlines():
                    key, sep, value = line.partition("=")
                    if sep and key.strip():
                        out[key.strip()] = value.strip()
            elif text != "":
                out[name] = text
        return out

    def blocked(self) -> str:
        """Why the operation picked cannot run now, or ''."""
        op, ctx = self.operation, self.ctx
        if op.standalone:
            return ""
        status = integration_status(ctx.workspace, ctx.tenant, ctx.kind)
        if status.configured:
            return ""
        if status.started and status.missing:
            return _("{title} is missing: {fields}; set it (Configure…) to run '{operation}'.").format(
                title=ctx.spec.title, fields=", ".join(status.missing), operation=_(op.title)
            )
        return _(
            "{title} is not configured for this tenant; set it up (Configure…) to run '{operation}'."
        ).format(title=ctx.spec.title, operation=_(op.title))

    def _update_state(self) -> None:
        reason = self.blocked()
        self.run_button.setEnabled(not self.running and not reason)
        self.picker.setEnabled(not self.running)
        if self.form is not None:
            self.form.setEnabled(not self.running)
        if not self.running:
            self.state_label.setText(reason)
            self.state_label.setStyleSheet(REASON_STYLE if reason else HELP_STYLE)

    def update_view(self) -> None:
        """The saved settings may have changed (the main window calls this): what can run, and
        what the operation offers."""
        if self.running:
            return
        values = self.texts()
        if self._offer_now(values) != self._offer:
            self._build_form(values)
        else:
            self._update_state()

    # ---- running ----------------------------------------------------------------------------------
    def _confirmed(self, op: Operation, params: dict[str, str]) -> bool:
        """The notice, and for a change on the peer a Yes/No question (No by default)."""
        ctx = self.ctx
        tenant = ctx.workspace.tree.path(ctx.tenant_id)
        try:
            # Where it goes: the tenant's peer, or (needing no settings) the one its parameters name.
            where = parse_params(op, params) if op.standalone else self._settings()
            target = ctx.spec.target_of(where) if where else ""
        except (XdrconfError, TypeError, ValueError):
            target = ""
        editors = self.form.editors if self.form is not None else {}
        labels = {name: _(e.field.label) for name, e in editors.items()}
        details = [f"{labels.get(k, k)}: {v}" for k, v in params.items()]
        if op.notice:
            details.append(_(op.notice))
        if op.changes_peer:
            if target:
                text = _(
                    "Run '{operation}' for tenant '{tenant}' on {target}? It changes data there."
                ).format(operation=_(op.title), tenant=tenant, target=target)
            else:
                text = _("Run '{operation}' for tenant '{tenant}'? It changes data on the peer.").format(
                    operation=_(op.title), tenant=tenant
                )
            return self.prompts.confirm_change(_(op.title), text, details)
        if op.notice:
            return self.prompts.confirm(
                _("Before '{operation}' runs").format(operation=_(op.title)),
                _("Please note before it runs:"),
                [_(op.notice)],
            )
        return True

    def run(self) -> workers.Task | None:
        """Run the operation picked with the parameters entered (after its confirmations)."""
        from ..core.engine import run_operation

        if self.running or not self.run_button.isEnabled() or self.form is None:
            return None
        op = self.operation
        problems = self.form.problems()
        if problems:
            name = next(iter(problems))
            label = _(self.form.editors[name].field.label)
            self._say(_("{label}: {problem}.").format(label=label, problem=problems[name]), error=True)
            self.form.editors[name].setFocus()
            return None
        params = self.params()
        if not self._confirmed(op, params):
            self._say(_("'{operation}' was not run.").format(operation=_(op.title)))
            return None
        ws, tid, kind = self.ctx.workspace, self.ctx.tenant_id, self.ctx.kind
        cancel = threading.Event()
        self.cancel_event = cancel

        def work(report: Any) -> list[Outcome]:
            outcomes = run_operation(
                ws, tid, kind, op.name, params, cancel=cancel, on_progress=report, confirmed=op.changes_peer
            )
            if op.is_check:
                record_check(ws, tid, kind, outcomes)  # kept as any check is
            return outcomes

        self._started = time.monotonic()
        self._timer.start()
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self._say(_("Running '{operation}'…").format(operation=_(op.title)))
        self.task = self.ctx.run_in_background(
            work,
            lambda outcomes: self._done(op, outcomes),
            lambda exc: self._done(op, [Outcome(Category.INVALID_CONFIG, error_text(exc))]),
            on_progress=self._progress,
            cancel=cancel,
            checks=True,
        )
        self._update_state()
        self.cancel_button.setFocus()
        return self.task

    def cancel(self) -> None:
        if self.cancel_event is not None and self.running:
            self.cancel_event.set()
            self._say(_("Cancelling…"))

    def _progress(self, value: Any) -> None:
        if isinstance(value, str) and value:
            self._say(value)

    def _tick(self) -> None:
        self.elapsed.setText(_("{seconds:.1f} s").format(seconds=time.monotonic() - self._started))

    def _say(self, text: str, *, error: bool = False) -> None:
        self.state_label.setText(text)
        self.state_label.setStyleSheet(REASON_STYLE if error else "")

    def _done(self, op: Operation, outcomes: list[Outcome]) -> None:
        if not shiboken6.isValid(self):
            return
        self.task = None
        self.cancel_event = None
        self._timer.stop()
        self.elapsed.setText("")
        self.progress.setVisible(False)
        had_focus = self.cancel_button.hasFocus()
        self.cancel_button.setVisible(False)
        self._update_state()
        self.state_label.setText(self.blocked())
        self.show_outcomes(op, outcomes)
        if had_focus:
            self.run_button.setFocus()
        if op.is_check:
            self.ctx.refresh()
        self.ran.emit(outcomes)

    # ---- the outcome --------------------------------------------------------------------------------
    def show_outcomes(self, op: Operation, outcomes: list[Outcome]) -> None:
        self.outcomes = list(outcomes)
        self.shown_op = op
        title = html.escape(_(op.title))
        self.outcome_label.setStyleSheet("")
        self.outcome_label.setText(f"<b>{title}</b><br>" + "<br><br>".join(outcome_html(o) for o in outcomes))
        with_data = next((o for o in outcomes if o.data is not None), None)
        while self.data_tabs.count():
            self.data_tabs.removeTab(0)
        if with_data is not None:
            rows = rows_of(with_data)
            if rows:
                cols = columns_of(op, rows)
                self.rows_model.set_table(
                    [_(label) for _key, label in cols],
                    [[cell_text(r.get(k)) for k, _label in cols] for r in rows],
                )
                self.data_tabs.addTab(self.rows_view, _("Rows ({n})").format(n=len(rows)))
                self.rows_view.fit()
            facts = facts_of(with_data, op)
            if facts:
                self.facts_model.set_table([_("Fact"), _("Value")], [[_(k), v] for k, v in facts])
                self.data_tabs.addTab(self.facts_view, _("Facts"))
                self.facts_view.fit()
            self.json_view.setPlainText(json.dumps(with_data.data, indent=2, ensure_ascii=False, default=str))
            self.data_tabs.addTab(self.json_view, _("JSON"))
            self.data_tabs.setCurrentIndex(0)
        shown = self.data_tabs.count() > 0
        self.data_tabs.setVisible(shown)
        self._right_layout.setStretch(self._tail, 0 if shown else 1)
        self.copy_button.setVisible(shown)

    def copy(self) -> str:
        """Copy what the data tab shows: a table as tab-separated text, or the JSON."""
        current = self.data_tabs.currentWidget()
        if isinstance(current, CopyTableView):
            return current.copy()
        text = self.json_view.toPlainText()
        QGuiApplication.clipboard().setText(text)
        return text
