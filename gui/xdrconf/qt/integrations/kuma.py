"""KUMA: the Incidents view (the SOAR connector's commands, proven from here) and the
connector commands editor. Widgets only: every request, keyring read and cache write is an
operation of xdrconf.core.integrations.kuma run by the engine on a worker thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from xdrconf.core.i18n import N_, _, ngettext

from ...core.engine import run_operation
from ...core.errors import OperationFailed, ValidationError, XdrconfError
from ...core.integrations.kuma.api import ALERT_STATUSES, CommandResponse, base_url
from ...core.integrations.kuma.commands import (
    CLOSE_REASONS,
    METHODS,
    Command,
    commands_of,
    default_commands,
    parse_command,
    parse_commands,
    placeholder_key,
    save_commands,
)
from ...core.integrations.kuma.incidents import (
    EVENT_COLUMNS,
    IncidentStore,
    MergeSummary,
    alert_row,
    event_row,
    events_of,
)

if TYPE_CHECKING:
    from ...core.workspace import Workspace
    from ..dialogs import Prompts
    from . import IntegrationUiContext

ALERT_COLUMNS = (
    ("id", "ID"),
    ("name", N_("Name")),
    ("severity", N_("Severity")),
    ("status", N_("Status")),
    ("first_seen", N_("First seen")),
    ("last_seen", N_("Last seen")),
    ("events", N_("Events")),
)
log = logging.getLogger(__name__)
_SEVERITY_COLOURS = {"Critical": "#b00020", "High": "#d35400", "Medium": "#9a7d0a", "Low": "#2e7d32"}
_ALERT_ID = "alert id"
CHANGING_METHODS = ("POST", "PUT", "PATCH", "DELETE")  # asked about before they are sent


def store_for(ws: Workspace, tenant_id: str) -> IncidentStore:
    """The session's store of the tenant (reads the cache file the first time: call it in a worker)."""
    return IncidentStore.shared(ws.config_dir, tenant_id)


def _cached_store(ws: Workspace, tenant_id: str) -> IncidentStore | None:
    return IncidentStore.cached(ws.config_dir, tenant_id)


def _run(ws: Workspace, tenant_id: str, op: str, params: dict[str, str], **kw: Any) -> Any:
    """One KUMA operation (in a worker): its outcome, or OperationFailed saying why not."""
    [outcome] = run_operation(ws, tenant_id, "kuma", op, params, **kw)
    if not outcome.ok and (op != "command" or outcome.data is None):
        raise OperationFailed.of(outcome)
    return outcome


class _RowsModel(QAbstractTableModel):
    """A read-only table of dict rows."""

    def __init__(self, columns: tuple[tuple[str, str], ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[dict[str, Any]] = []
        self.payload: list[Any] = []

    def set_rows(self, rows: list[dict[str, Any]], payload: list[Any] | None = None) -> None:
        self.beginResetModel()
        self.rows = rows
        self.payload = payload if payload is not None else rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(self.columns[section][1])
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = self.columns[index.column()][0]
        value = row.get(key, "")
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole and key == "severity" and value in _SEVERITY_COLOURS:
            return QColor(_SEVERITY_COLOURS[value])
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "events":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _table(model: QAbstractTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


class IncidentsPanel(QWidget):
    """Receive incidents, look at their events, close them with a reason, run commands."""

    received = Signal(object)  # MergeSummary, after a receive was merged
    closed = Signal(str)  # the alert id, after KUMA closed it
    command_done = Signal(object)  # CommandResponse

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__(ctx.parent)
        self.setObjectName("kumaIncidents")
        self.ctx = ctx
        self.task: Any = None
        self._cancel: threading.Event | None = None

        self.setWindowTitle(_("Incidents"))  # the window's tab title
        self.setToolTip(_("KUMA alerts received the way the SOAR connector receives them"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        top = QHBoxLayout()
        top.addWidget(QLabel(_("Status:")))
        self.status_combo = QComboBox()
        self.status_combo.addItems(list(ALERT_STATUSES))
        self.status_combo.setToolTip(_("Which alerts to receive and show (the connector receives 'new')."))
        top.addWidget(self.status_combo)
        self.receive_button = QPushButton(_("Receive incidents"))
        self.receive_button.setToolTip(_("GET api/<version>/alerts/?withEvents&status=… — every page"))
        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.setEnabled(False)
        top.addWidget(self.receive_button)
        top.addWidget(self.cancel_button)
        self.info = QLabel(_("Nothing received yet in this session."))
        self.info.setObjectName("kumaInfo")
        self.info.setWordWrap(True)
        top.addWidget(self.info, 1)
        lay.addLayout(top)

        self.alerts_model = _RowsModel(ALERT_COLUMNS, self)
        self.alerts_view = _table(self.alerts_model)
        self.events_model = _RowsModel(tuple((label, label) for _unused, label in EVENT_COLUMNS), self)
        self.events_view = _table(self.events_model)
        self.events_view.horizontalHeader().setStretchLastSection(True)
        self.events_view.setMinimumHeight(self.events_view.verticalHeader().defaultSectionSize() * 3)
        self.response = QPlainTextEdit()
        self.response.setObjectName("kumaResponse")
        self.response.setReadOnly(True)
        self.response.setPlaceholderText(_("The answer of the last command run appears here."))
        self.response.setFont(QFont("monospace"))
        # Events and command answers share the lower half: the alerts keep the room.
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.addTab(self.events_view, _("Events"))
        self.lower_tabs.addTab(self.response, _("Command response"))
        self.alerts_view.setMinimumHeight(self.alerts_view.verticalHeader().defaultSectionSize() * 4)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.alerts_view)
        split.addWidget(self.lower_tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay.addWidget(split, 1)

        # Two rows, so that the panel fits the window's right-hand side.
        actions = QHBoxLayout()
        actions.addWidget(QLabel(_("Close with reason:")))
        self.reason_combo = QComboBox()
        self.reason_combo.addItems(list(CLOSE_REASONS))
        actions.addWidget(self.reason_combo)
        self.close_button = QPushButton(_("Close incident"))
        self.close_button.setToolTip(_('POST api/<version>/alerts/close {"id": …, "reason": …}'))
        actions.addWidget(self.close_button)
        actions.addStretch(1)
        lay.addLayout(actions)
        actions = QHBoxLayout()
        actions.addWidget(QLabel(_("Command:")))
        self.command_combo = QComboBox()
        self.command_combo.setMinimumContentsLength(22)
        self.command_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        actions.addWidget(self.command_combo, 1)
        self.run_button = QPushButton(_("Run"))
        actions.addWidget(self.run_button)
        self.edit_button = QPushButton(_("Edit commands…"))
        actions.addWidget(self.edit_button)
        lay.addLayout(actions)

        self.receive_button.clicked.connect(self.receive)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close_selected)
        self.run_button.clicked.connect(self.run_selected_command)
        self.edit_button.clicked.connect(self.edit_commands)
        self.status_combo.currentTextChanged.connect(lambda _unused: self.show_alerts())
        self.alerts_view.selectionModel().selectionChanged.connect(lambda *_unused: self._selection_changed())
        self.reload_commands()
        self.show_alerts()

    # ---- state ------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self.status_combo.currentText()

    def selected_alert(self) -> dict[str, Any] | None:
        rows = self.alerts_view.selectionModel().selectedRows()
        if not rows:
            return None
        return self.alerts_model.payload[rows[0].row()]

    def _prompts(self) -> Prompts:
        from ..dialogs import Prompts

        return Prompts(self)

    def _busy(self, busy: bool) -> None:
        self.receive_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.run_button.setEnabled(not busy and self.command_combo.count() > 0)
        self.close_button.setEnabled(not busy and self.selected_alert() is not None)
        self.edit_button.setEnabled(not busy and not self.ctx.workspace.readonly)

    def _selection_changed(self) -> None:
        alert = self.selected_alert()
        if alert is None:
            self.events_model.set_rows([])
            self.lower_tabs.setTabText(0, _("Events"))
        else:
            events = events_of(alert)
            self.events_model.set_rows([event_row(e) for e in events], events)
            self.lower_tabs.setTabText(0, _("Events of the selected alert ({n})").format(n=len(events)))
            self.events_view.resizeColumnsToContents()
        self._busy(self.task is not None)

    def show_alerts(self, keep: str | None = None) -> None:
        store = _cached_store(self.ctx.workspace, self.ctx.tenant_id)
        alerts = store.visible(self.status) if store is not None else []
        current = keep or (self.selected_alert() or {}).get("id")
        self.alerts_model.set_rows([alert_row(a) for a in alerts], alerts)
        self.alerts_view.resizeColumnsToContents()
        self.alerts_view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for i, a in enumerate(alerts):
            if a.get("id") == current:
                self.alerts_view.selectRow(i)
                break
        self._selection_changed()

    def reload_commands(self) -> None:
        self.command_combo.clear()
        try:
            self.commands = commands_of(self.ctx.state.settings)
        except ValidationError as exc:
            self.commands = []
            self._say(_("The saved commands are not valid: {exc}. Edit them.").format(exc=exc))
        for c in self.commands:
            self.command_combo.addItem(c.name)
        self._busy(self.task is not None)

    # ---- work ----------------------------------------------------------------------------------
    def _start(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        cancel: threading.Event,
        *,
        progress: Callable[[Any], None] | None = None,
    ) -> None:
        self._cancel = cancel

        def finished_ok(value: Any) -> None:
            if not shiboken6.isValid(self):  # the panel was replaced while the work ran
                return
            self.task = None
            self._busy(False)
            on_done(value)

        def failed(exc: BaseException) -> None:
            from ..dialogs import error_text

            if not shiboken6.isValid(self):
                return
            self.task = None
            self._busy(False)
            # Said once, where the user looked: in the panel (no message box on top).
            if not isinstance(exc, XdrconfError):
                log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
            self._say(error_text(exc), error=True)

        self.task = self.ctx.run_in_background(
            fn, finished_ok, failed, on_progress=progress, cancel=cancel, checks=True
        )
        self._busy(True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.info.setText(text)
        self.info.setStyleSheet("color:#b00020" if error else "")

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._say(_("Cancelling…"))

    def receive(self) -> None:
        status, ws, tid = self.status, self.ctx.workspace, self.ctx.tenant_id
        cancel = threading.Event()

        def work(report: Callable[[Any], None]) -> Any:
            outcome = _run(ws, tid, "receive", {"status": status}, cancel=cancel, on_progress=report)
            return MergeSummary.from_public(outcome.data["summary"])

        def progress(value: Any) -> None:
            page, total = value
            self._say(
                ngettext(
                    "Receiving… page {page}, {n} alert so far.",
                    "Receiving… page {page}, {n} alerts so far.",
                    total,
                ).format(page=page, n=total)
            )

        def done(summary: Any) -> None:
            self._say(summary.message())
            self.show_alerts()
            self.received.emit(summary)

        self._say(_("Receiving…"))
        self._start(work, done, cancel, progress=progress)

    def close_selected(self) -> None:
        alert = self.selected_alert()
        if alert is None:
            self._say(_("Select the alert to close first."))
            return
        alert_id, reason = str(alert["id"]), self.reason_combo.currentText()
        if not self._prompts().confirm(
            _("Close incident"),
            _("Close alert {alert_id} in KUMA with the reason '{reason}'?").format(
                alert_id=alert_id, reason=reason
            ),
            [
                f"Name: {alert_row(alert)['name']}",
                _("KUMA closes the alert for everyone; it leaves the list of new alerts."),
            ],
        ):
            return
        ws, tid = self.ctx.workspace, self.ctx.tenant_id
        cancel = threading.Event()

        def work() -> str:
            # Confirmed above; the operation marks the alert closed in the session's store.
            params = {"id": alert_id, "reason": reason}
            return str(_run(ws, tid, "close", params, cancel=cancel, confirmed=True).message)

        def done(message: str) -> None:
            self._say(message)
            self.show_alerts()
            self.closed.emit(alert_id)

        self._say(_("Closing alert {alert_id}…").format(alert_id=alert_id))
        self._start(work, done, cancel)

    def run_selected_command(self) -> None:
        index = self.command_combo.currentIndex()
        if index < 0 or index >= len(self.commands):
            return
        command = self.commands[index]
        params: dict[str, str] = {}
        alert = self.selected_alert()
        for name in command.placeholders:
            if placeholder_key(name) == _ALERT_ID and alert is not None:
                params[name] = str(alert["id"])
        if len(params) < len(command.placeholders):
            asked = self.ask_params(command, params)
            if asked is None:
                return
            params = asked
        try:
            rendered = command.render(params)
        except ValidationError as exc:
            self._say(str(exc))
            return
        if command.method in CHANGING_METHODS and not self._prompts().confirm_change(
            command.name,
            _(
                "Send '{name}' ({method}) to KUMA for tenant '{path}'? A {method} "
                "request can change data in KUMA."
            ).format(
                name=command.name,
                method=rendered.method,
                path=self.ctx.workspace.tree.path(self.ctx.tenant_id),
            ),
            [f"{rendered.method} {rendered.url(base_url(self.ctx.state.settings))}"]
            + [f"{name}: {value}" for name, value in params.items()],
        ):
            self._say(_("'{name}' was not sent.").format(name=command.name))
            return
        cancel = threading.Event()

        ws, tid = self.ctx.workspace, self.ctx.tenant_id

        def work() -> Any:
            # Run pressed (and, for a method that changes data, Yes answered): confirmed.
            outcome = _run(
                ws, tid, "command", {**params, "name": command.name}, cancel=cancel, confirmed=True
            )
            return CommandResponse.from_payload(outcome.data)

        def done(response: Any) -> None:
            self._say(f"{command.name}: {response.message}")
            head = (
                f"{response.method} {response.url}\n"
                f"→ {response.status} {response.reason} ({response.elapsed_ms:.0f} ms)"
            )
            body = response.pretty_body()
            self.response.setPlainText(head + ("\n\n" + body if body else ""))
            self.lower_tabs.setCurrentWidget(self.response)
            self.command_done.emit(response)

        self._say(_("Running '{name}'…").format(name=command.name))
        self._start(work, done, cancel)

    def ask_params(self, command: Command, known: dict[str, str]) -> dict[str, str] | None:
        dialog = QDialog(self)
        dialog.setObjectName("kumaCommandParams")
        dialog.setWindowTitle(_("Run '{name}'").format(name=command.name))
        form = QFormLayout(dialog)
        edits: dict[str, QLineEdit] = {}
        for name in command.placeholders:
            edit = QLineEdit(known.get(name, ""))
            form.addRow(f"<{name}>:", edit)
            edits[name] = edit
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return {name: edit.text() for name, edit in edits.items()}

    def edit_commands(self) -> None:
        dialog = CommandsDialog(self.ctx, self.commands, self)

        def saved() -> None:
            self.reload_commands()
            _commands_saved(self.ctx)

        dialog.saved.connect(saved)
        dialog.open()


# ---- the commands editor -----------------------------------------------------------------------
def _pairs_text(pairs: tuple[tuple[str, str], ...], sep: str) -> str:
    return "\n".join(f"{k}{sep}{v}" for k, v in pairs)


def _text_pairs(text: str, sep: str, what: str) -> list[list[str]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if sep.strip() not in line:
            raise ValidationError(what, _("line {n} is not NAME{sep}VALUE").format(n=n, sep=sep))
        k, v = line.split(sep.strip(), 1)
        out.append([k.strip(), v.strip() if sep.strip() == ":" else v])
    return out


class CommandsDialog(QDialog):
    """Add, change and delete the tenant's connector commands; each is validated when
    applied, the whole list once more when saved (in one transaction, in a worker)."""

    saved = Signal()

    def __init__(
        self, ctx: IntegrationUiContext, commands: list[Command], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kumaCommands")
        self.setWindowTitle(
            _("KUMA connector commands — {path}").format(path=ctx.workspace.tree.path(ctx.tenant_id))
        )
        self.ctx = ctx
        self.items: list[Command] = list(commands)
        self.resize(820, 520)

        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        self.list = QListWidget()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.new_button = QPushButton(_("New"))
        self.delete_button = QPushButton(_("Delete"))
        self.defaults_button = QPushButton(_("Defaults"))
        self.defaults_button.setToolTip(
            _("Replace the list with the seed's commands: receive, and close per reason")
        )
        for b in (self.new_button, self.delete_button, self.defaults_button):
            row.addWidget(b)
        left.addLayout(row)
        lay.addLayout(left, 1)

        right = QVBoxLayout()
        hint = QLabel(
            _(
                "Placeholders such as <Alert ID> are filled in when the command runs (the "
                "selected alert's ID for <Alert ID>). Commands are kept with the tenant's "
                "settings and hold no secrets: xdrconf adds the API token itself."
            )
        )
        hint.setWordWrap(True)
        right.addWidget(hint)
        form = QFormLayout()
        self.name = QLineEdit()
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        settings = ctx.state.settings
        base = (
            base_url(settings)
            if settings.get("host")
            else f"https://host:7223/api/{settings.get('api_version', 'v1')}"
        ) + "/"
        self.path = QLineEdit()
        self.path.setPlaceholderText(_("alerts/close   (placeholders such as <Alert ID> allowed)"))
        path_row = QHBoxLayout()
        prefix = QLabel(base)
        prefix.setStyleSheet("color: palette(mid);")
        path_row.addWidget(prefix)
        path_row.addWidget(self.path, 1)
        self.query = QPlainTextEdit()
        self.query.setPlaceholderText(_("one per line: name=value   (withEvents= for a bare flag)"))
        self.query.setMaximumHeight(70)
        self.headers = QPlainTextEdit()
        self.headers.setPlaceholderText(
            _("one per line: Name: value   (no Authorization: the token is added by xdrconf)")
        )
        self.headers.setMaximumHeight(70)
        self.body = QPlainTextEdit()
        self.body.setFont(QFont("monospace"))
        self.body.setPlaceholderText(_('{"id": "<Alert ID>", "reason": "responded"}'))
        form.addRow(_("Name:"), self.name)
        form.addRow(_("Method:"), self.method)
        form.addRow(_("Path:"), path_row)
        form.addRow(_("Query:"), self.query)
        form.addRow(_("Headers:"), self.headers)
        form.addRow(_("JSON body:"), self.body)
        right.addLayout(form, 1)
        self.error = QLabel("")
        self.error.setObjectName("commandError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        right.addWidget(self.error)
        self.apply_button = QPushButton(_("Apply to the list"))
        right.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignRight)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        right.addWidget(self.buttons)
        lay.addLayout(right, 2)

        self.list.currentRowChanged.connect(self._load)
        self.new_button.clicked.connect(self.new_command)
        self.delete_button.clicked.connect(self.delete_command)
        self.defaults_button.clicked.connect(self.use_defaults)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self._fill()

    def _fill(self, select: int = 0) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for c in self.items:
            self.list.addItem(c.name)
            self.list.item(self.list.count() - 1).setToolTip(f"{c.method} {c.display_path()}")
        self.list.blockSignals(False)
        if self.items:
            self.list.setCurrentRow(min(max(select, 0), len(self.items) - 1))
            self._load(self.list.currentRow())
        else:
            self._load(-1)

    def _load(self, index: int) -> None:
        self.error.setText("")
        c = self.items[index] if 0 <= index < len(self.items) else Command("", "GET", "")
        self.name.setText(c.name)
        self.method.setCurrentText(c.method)
        self.path.setText(c.path)
        self.query.setPlainText(_pairs_text(c.query, "="))
        self.headers.setPlainText(_pairs_text(c.headers, ": "))
        self.body.setPlainText(c.body)

    def form_command(self) -> Command:
        return parse_command(
            {
                "name": self.name.text(),
                "method": self.method.currentText(),
                "path": self.path.text(),
                "query": _text_pairs(self.query.toPlainText(), "=", "Query"),
                "headers": _text_pairs(self.headers.toPlainText(), ": ", "Headers"),
                "body": self.body.toPlainText(),
            }
        )

    def apply(self) -> bool:
        """Validate the form and put it into the list (replacing the selected command)."""
        try:
            cmd = self.form_command()
            index = self.list.currentRow()
            items = list(self.items)
            if 0 <= index < len(items) and self.list.currentItem() is not None and not self._adding:
                items[index] = cmd
            else:
                items.append(cmd)
                index = len(items) - 1
            parse_commands(items)
        except ValidationError as exc:
            self.error.setText(str(exc))
            return False
        self.items = items
        self._adding = False
        self._fill(index)
        return True

    _adding = False

    def new_command(self) -> None:
        self._adding = True
        self.list.clearSelection()
        self._load(-1)
        self.name.setFocus()

    def delete_command(self) -> None:
        index = self.list.currentRow()
        if 0 <= index < len(self.items):
            del self.items[index]
            self._fill(index)

    def use_defaults(self) -> None:
        self.items = default_commands()
        self._fill()

    def save(self) -> None:
        if self.name.text().strip() and self._form_differs() and not self.apply():
            return
        ws, tid, items = self.ctx.workspace, self.ctx.tenant_id, list(self.items)

        def done(_unused: Any) -> None:
            self.saved.emit()
            self.accept()

        def failed(exc: BaseException) -> None:
            self.error.setText(str(exc))
            self.buttons.setEnabled(True)

        self.buttons.setEnabled(False)
        self.ctx.run_in_background(lambda: save_commands(ws, tid, items), done, failed)

    def _form_differs(self) -> bool:
        index = self.list.currentRow()
        if self._adding or not 0 <= index < len(self.items):
            return True
        try:
            return self.form_command() != self.items[index]
        except ValidationError:
            return True


# ---- the extension contract -------------------------------------------------------------------
def _commands_saved(ctx: IntegrationUiContext) -> None:
    if ctx.parent is not None:
        for view in ctx.parent.findChildren(IncidentsPanel):
            if view.ctx.tenant_id == ctx.tenant_id:
                view.reload_commands()
    ctx.refresh()


def panel(ctx: IntegrationUiContext) -> QWidget:
    return IncidentsPanel(ctx)


def actions(ctx: IntegrationUiContext) -> list[QAction]:
    act = QAction(_("KUMA connector &commands…"), ctx.parent)
    act.setEnabled(not ctx.workspace.readonly)

    def open_editor() -> None:
        try:
            commands = commands_of(ctx.state.settings)
        except ValidationError:
            commands = default_commands()
        dialog = CommandsDialog(ctx, commands, ctx.parent)
        dialog.saved.connect(lambda: _commands_saved(ctx))
        dialog.open()

    act.triggered.connect(open_editor)
    return [act]
