"""The field editors of the window: one editor per kind of `core.fields.Field` (a line, a
number, a choice, a toggle, a PEM text, a list of servers, a secret), and `FieldGrid`,
fields in a grid with each one's hint or what is wrong with its value under it, validated
as the user types.

The tenant wizard's forms (`FieldsForm`, which writes into an integration's draft), the
integrations' own wizard pages and the Operations tab's parameter forms (xdrconf.qt.operations)
are all made of these, so a field looks and behaves alike everywhere."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import ValidationError, XdrconfError
from ..core.fields import Field
from ..core.files import MAX_VALUE_FILE, read_user_file
from ..core.i18n import N_, _, ngettext
from .dialogs import error_text, show_error

if TYPE_CHECKING:
    from ..core.outcome import Outcome
    from . import workers
    from .integrations import IntegrationDraft, IntegrationUiContext

MAX_PEM_FILE = MAX_VALUE_FILE
REASON_STYLE = "color:#b00020"
HELP_STYLE = "color:#666"


def read_text_file(path: str, label: str) -> str:
    """A file chosen with "Load…": a regular text file of at most 1 MiB (core.files)."""
    return read_user_file(label, path, limit=MAX_PEM_FILE)


# ---- field editors ----------------------------------------------------------------------------
class FieldEditor(QWidget):
    """One field's input; `value()` is what Field.parse accepts."""

    changed = Signal()

    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = f
        self.setObjectName(f"field_{f.name}")
        self.lay = QHBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)

    def pick_file(self, title: str) -> str | None:
        from .dialogs import Prompts

        return Prompts(self).open_file(
            title, _("PEM files") + " (*.pem *.crt *.cer *.key);;" + _("All files") + " (*)"
        )

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError


class LineEditor(FieldEditor):
    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(_(f.placeholder) if f.placeholder else "")
        self.edit.textChanged.connect(lambda *_args: self.changed.emit())
        self.lay.addWidget(self.edit)
        if f.kind == "port":
            self.edit.setMaximumWidth(110)
            self.lay.addStretch(1)

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


class SpinEditor(FieldEditor):
    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.spin = QSpinBox(self)
        self.spin.setRange(int(f.minimum or 0), int(f.maximum or 2**31 - 1))
        self.spin.valueChanged.connect(lambda *_args: self.changed.emit())
        self.lay.addWidget(self.spin)
        self.lay.addStretch(1)

    def value(self) -> str:
        return str(self.spin.value())

    def set_value(self, value: Any) -> None:
        if value not in (None, ""):
            self.spin.setValue(int(value))


class ChoiceEditor(FieldEditor):
    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.combo = QComboBox(self)
        if not f.required:
            self.combo.addItem(_("(not set)"), "")
        for value, label in f.choices:
            self.combo.addItem(_(label), value)
        self.combo.currentIndexChanged.connect(lambda *_args: self.changed.emit())
        self.lay.addWidget(self.combo)
        self.lay.addStretch(1)

    def value(self) -> str:
        return str(self.combo.currentData() or "")

    def set_value(self, value: Any) -> None:
        i = self.combo.findData("" if value is None else str(value))
        if i >= 0:
            self.combo.setCurrentIndex(i)


class BoolEditor(FieldEditor):
    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.box = QCheckBox(_(f.extra["text"]) if f.extra.get("text") else "", self)
        self.box.toggled.connect(lambda *_args: self.changed.emit())
        self.lay.addWidget(self.box)
        self.lay.addStretch(1)

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(value in (True, "true", "1", "yes", "on"))


class PemEditor(FieldEditor):
    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.text = QPlainTextEdit(self)
        self.text.setPlaceholderText(_(f.placeholder) if f.placeholder else "")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFixedHeight(110)
        font = self.text.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.text.setFont(font)
        self.text.textChanged.connect(self.changed.emit)
        self.side = side = QVBoxLayout()
        self.load_button = QPushButton(_("Load from file…"), self)
        self.load_button.clicked.connect(self.load)
        self.clear_button = QPushButton(_("Clear"), self)
        self.clear_button.clicked.connect(self.text.clear)
        side.addWidget(self.load_button)
        side.addWidget(self.clear_button)
        side.addStretch(1)
        self.lay.addWidget(self.text, 1)
        self.lay.addLayout(side)
        self.error = ""

    # Narrower than this beside its buttons, the text gets the whole width and the buttons go
    # under it, side by side (a narrow form: the Operations tab, longer Russian labels).
    NARROW_TEXT = 280

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        side = max(self.load_button.sizeHint().width(), self.clear_button.sizeHint().width())
        below = event.size().width() < side + self.NARROW_TEXT
        self.lay.setDirection(QBoxLayout.Direction.TopToBottom if below else QBoxLayout.Direction.LeftToRight)
        self.side.setDirection(
            QBoxLayout.Direction.LeftToRight if below else QBoxLayout.Direction.TopToBottom
        )

    def load(self) -> None:
        path = self.pick_file(_("Load {label}").format(label=self.field.label))
        if not path:
            return
        try:
            self.text.setPlainText(read_text_file(path, self.field.label))
        except ValidationError as exc:
            show_error(self, exc)

    def value(self) -> str:
        return self.text.toPlainText()

    def set_value(self, value: Any) -> None:
        self.text.setPlainText("" if value is None else str(value))


class HostListEditor(FieldEditor):
    """A list of host[:port] (Field kind "hosts", e.g. domain controllers), one a row, in
    the order they are tried: typed into the line below and added with Add (or Enter; a
    pasted "a, b:636" adds both), removed with Remove (or Delete), reordered with Move up /
    Move down, edited in place by a double click. value() is the rows and then whatever is
    typed but not added yet, comma-separated: Field.parse judges all of it, so the form's
    message under the editor says what is wrong and nothing typed is lost."""

    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.list = QListWidget(self)
        self.list.setObjectName(f"{f.name}List")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        rows = 4
        self.list.setFixedHeight(self.list.fontMetrics().height() * rows + 12)
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.list.installEventFilter(self)
        self.entry = QLineEdit(self)
        self.entry.setObjectName(f"{f.name}Entry")
        self.entry.setPlaceholderText(_(f.placeholder) if f.placeholder else "")
        self.entry.textChanged.connect(lambda _text: self._entry_changed())
        self.entry.installEventFilter(self)  # Enter adds (and does not press the wizard's Next)
        self.add_button = QPushButton(_("Add"), self)
        self.add_button.setObjectName("hostAdd")
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton(_("Remove"), self)
        self.remove_button.setObjectName("hostRemove")
        self.remove_button.clicked.connect(self.remove)
        self.up_button = QPushButton(_("Move up"), self)
        self.up_button.setObjectName("hostUp")
        self.up_button.clicked.connect(lambda: self.shift(-1))
        self.down_button = QPushButton(_("Move down"), self)
        self.down_button.setObjectName("hostDown")
        self.down_button.clicked.connect(lambda: self.shift(1))
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        for b in (self.remove_button, self.up_button, self.down_button):
            side.addWidget(b)
        side.addStretch(1)
        grid.addWidget(self.list, 0, 0)
        grid.addLayout(side, 0, 1)
        grid.addWidget(self.entry, 1, 0)
        grid.addWidget(self.add_button, 1, 1)
        grid.setColumnStretch(0, 1)
        self.lay.addLayout(grid, 1)
        self._update_buttons()

    # ---- the rows ---------------------------------------------------------------------------
    def items(self) -> list[str]:
        return [self.list.item(i).text().strip() for i in range(self.list.count())]

    def _append(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.list.addItem(item)

    @staticmethod
    def _split(text: str) -> list[str]:
        return [p for p in re.split(r"[\s,;]+", text.strip()) if p]

    def add(self) -> None:
        """What is typed becomes rows, when all of it (with the rows) is acceptable; else it
        stays in the line and the form says why."""
        parts = self._split(self.entry.text())
        if not parts:
            return
        try:
            self.field.parse(", ".join([*self.items(), *parts]))
        except ValidationError:
            self.changed.emit()
            return
        self.list.blockSignals(True)
        for part in parts:
            self._append(part)
        self.list.blockSignals(False)
        self.list.setCurrentRow(self.list.count() - 1)
        self.entry.blockSignals(True)
        self.entry.clear()
        self.entry.blockSignals(False)
        self._update_buttons()
        self.changed.emit()

    def remove(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        self.list.takeItem(row)
        self._update_buttons()
        self.changed.emit()

    def shift(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        self.list.blockSignals(True)
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.blockSignals(False)
        self.list.setCurrentRow(target)
        self._update_buttons()
        self.changed.emit()

    def eventFilter(self, watched: QObject, event: Any) -> bool:
        """Enter in the line adds what is typed; Delete on the list removes the current row
        (unless a row is being edited)."""
        if (
            watched is self.entry
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.add()
            return True
        if (
            watched is self.list
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Delete
            and self.list.state() != self.list.State.EditingState
        ):
            self.remove()
            return True
        return super().eventFilter(watched, event)

    def _entry_changed(self) -> None:
        self._update_buttons()
        self.changed.emit()

    def _update_buttons(self) -> None:
        row, n = self.list.currentRow(), self.list.count()
        self.add_button.setEnabled(bool(self.entry.text().strip()))
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < n - 1)

    # ---- FieldEditor --------------------------------------------------------------------------
    def value(self) -> str:
        return ", ".join([*self.items(), *self._split(self.entry.text())])

    def set_value(self, value: Any) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for part in self._split("" if value is None else str(value)):
            self._append(part)
        self.list.blockSignals(False)
        self._update_buttons()


STORED_PLACEHOLDER = N_("stored — leave empty to keep")


class SecretEditor(FieldEditor):
    """The one way to enter a secret: a masked field, never pre-filled. With a stored
    secret it stays empty and disabled ("stored — leave empty to keep", or `stored_text`)
    until Replace; an empty field keeps the stored secret."""

    def __init__(self, f: Field, stored: bool, parent: QWidget | None = None, stored_text: str = "") -> None:
        super().__init__(f, parent)
        self.stored = stored
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"secret_{f.name}")
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText(
            (stored_text or _(STORED_PLACEHOLDER))
            if stored
            else (_(f.placeholder) if f.placeholder else _("not stored yet"))
        )
        self.edit.textChanged.connect(lambda *_args: self.changed.emit())
        self.lay.addWidget(self.edit, 1)
        self.replace_button = QPushButton(_("Replace"), self)
        self.replace_button.setObjectName("replaceButton")
        self.replace_button.setCheckable(True)
        self.replace_button.toggled.connect(self._replace)
        self.replace_button.setVisible(stored)
        self.lay.addWidget(self.replace_button)
        self.edit.setEnabled(not stored)

    def _replace(self, on: bool) -> None:
        self.edit.setEnabled(on)
        self.replace_button.setText(_("Keep stored") if on else _("Replace"))
        if on:
            self.edit.setFocus()
        else:
            self.edit.clear()

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, value: Any) -> None:
        if value:
            raise ValueError("a stored secret is never put back into a widget")
        self.edit.clear()


class SecretTextEditor(FieldEditor):
    """A multi-line secret (a private key), entered the way SecretEditor enters a line:
    loaded from a file or pasted, never shown; with a stored one, "stored — leave empty
    to keep" (or `stored_text`) until Replace."""

    def __init__(self, f: Field, stored: bool, parent: QWidget | None = None, stored_text: str = "") -> None:
        super().__init__(f, parent)
        self.stored = stored
        self.stored_text = stored_text
        self._value = ""
        self.status = QLabel(self)
        self.status.setObjectName(f"secret_{f.name}")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(HELP_STYLE)  # reads like a placeholder, as SecretEditor's
        self.status.setContentsMargins(0, 4, 0, 0)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.status)
        buttons = QHBoxLayout()
        column.addLayout(buttons)
        self.lay.addLayout(column, 1)
        self.load_button = QPushButton(_("Load from file…"), self)
        self.load_button.clicked.connect(self.load)
        self.paste_button = QPushButton(_("Paste"), self)
        self.paste_button.clicked.connect(self.paste)
        self.clear_button = QPushButton(_("Clear"), self)
        self.clear_button.clicked.connect(lambda: self.set_value(""))
        self.replace_button = QPushButton(_("Replace"), self)
        self.replace_button.setObjectName("replaceButton")
        self.replace_button.setCheckable(True)
        self.replace_button.toggled.connect(self._replace)
        self.replace_button.setVisible(stored)
        for b in (self.load_button, self.paste_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.replace_button)
        self._replace(False)

    def _replace(self, on: bool) -> None:
        entering = on or not self.stored
        for b in (self.load_button, self.paste_button, self.clear_button):
            b.setEnabled(entering)
        self.replace_button.setText(_("Keep stored") if on else _("Replace"))
        if not entering:
            self.set_value("")
        self._show()

    def _show(self) -> None:
        if self._value:
            lines = self._value.strip().count("\n") + 1
            self.status.setText(
                ngettext(
                    "new value entered ({n} line, hidden)", "new value entered ({n} lines, hidden)", lines
                ).format(n=lines)
            )
        else:
            stored = self.stored_text or _(STORED_PLACEHOLDER)
            self.status.setText(stored if self.stored else _("not stored yet"))

    def load(self) -> None:
        path = self.pick_file(_("Load {label}").format(label=self.field.label))
        if path:
            try:
                self.set_value(read_text_file(path, self.field.label))
            except ValidationError as exc:
                show_error(self, exc)

    def paste(self) -> None:
        from PySide6.QtGui import QGuiApplication

        self.set_value(QGuiApplication.clipboard().text())

    def value(self) -> str:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = str(value or "")
        self._show()
        self.changed.emit()


class HostPasteSplitter(QObject):
    """A host field that takes what people paste: 'kuma.example.invalid:7223', '[::1]:7223' or
    'https://kuma.example.invalid:7223/' leave the host in the field and the port in the port
    field (set_port). Done when text is pasted or the field is left, not while a port is
    being typed by hand; an IPv6 address without brackets stays an address."""

    def __init__(self, edit: QLineEdit, set_port: Callable[[int], None] | None) -> None:
        super().__init__(edit)
        self.edit = edit
        self.set_port = set_port
        self._last = edit.text()
        edit.textEdited.connect(self._edited)
        edit.editingFinished.connect(self.split)

    @staticmethod
    def _typed(before: str, after: str) -> bool:
        """One character typed, or characters deleted (not a paste)."""
        if len(after) == len(before) + 1:
            return any(after[:i] + after[i + 1 :] == before for i in range(len(after)))
        if len(after) < len(before):
            cut = len(before) - len(after)
            return any(before[:i] + before[i + cut :] == after for i in range(len(after) + 1))
        return False

    def _edited(self, text: str) -> None:
        typed = self._typed(self._last, text)
        self._last = text
        if not typed:
            self.split()

    def split(self) -> None:
        from ..core.fields import split_host_port

        text = self.edit.text()
        try:
            host, port, url = split_host_port(text)
        except ValidationError:
            return  # the field's message says what is wrong
        if port is not None:
            if self.set_port is None:
                return  # the field's message says what to change
            self.set_port(port)
        elif not url:
            return
        self._last = host
        self.edit.setText(host)


class ChooseFromOperation(QPushButton):
    """ "Choose…" beside a field whose value can be picked from the rows of one of the
    integration's operations (core.fields.ChoicesFrom, e.g. Redmine's projects).

    How an integration uses it: give the Field `choices_from=ChoicesFrom(operation, value,
    shown)` — `operation` names an Operation of the spec whose outcome has rows
    (engine.rows_of), `value` the row key that goes into the field, `shown` the keys shown
    beside it in the list — and let that operation declare what it needs (`needs` secrets,
    `needs_fields` plain fields) so it can run before this field is set. Nothing in qt/ is
    needed: every FieldGrid given the integration's context (`chooser=ctx`) puts this button
    beside a line field that has choices_from — the wizard's forms (FieldsForm: the operation
    runs on what was typed so far, nothing saved) and the Operations tab's parameters (on the
    saved settings). It runs the operation in a worker and offers its rows in the searchable
    list (Prompts.choose); the row picked fills the field. What went wrong is said under the
    field without blocking it: the value can always be typed."""

    def __init__(
        self,
        ctx: IntegrationUiContext,
        editor: LineEditor,
        parent: QWidget | None = None,
        *,
        draft: IntegrationDraft | None = None,
    ) -> None:
        super().__init__(_("Choose…"), parent)
        assert editor.field.choices_from is not None
        self.ctx = ctx
        self.draft = draft
        self.editor = editor
        self.chooser = editor.field.choices_from
        self.operation = ctx.spec.operation(self.chooser.operation)
        self.setObjectName(f"choose_{editor.field.name}")
        op = self.operation
        self.setToolTip(_(op.description) if op.description else _(op.title))
        self.clicked.connect(self.start)
        editor.lay.addWidget(self)
        self.status = QLabel(parent)
        self.status.setObjectName(f"chooseStatus_{editor.field.name}")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setContentsMargins(0, 0, 0, 8)
        self.status.setVisible(False)
        self.task: workers.Task | None = None
        self.rows: list[dict[str, Any]] = []

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(REASON_STYLE if error else HELP_STYLE)
        self.status.setVisible(bool(text) and not self.editor.isHidden())

    def item_text(self, row: dict[str, Any]) -> str:
        shown = [str(row[k]) for k in self.chooser.shown if row.get(k) not in (None, "")]
        value = str(row.get(self.chooser.value, ""))
        return f"{value} — {' · '.join(shown)}" if shown else value

    def start(self) -> workers.Task | None:
        from ..core.engine import draft_followers, run_operation
        from .dialogs import Prompts

        if self.task is not None:
            return None
        ctx, draft = self.ctx, self.draft
        state, typed = None, None
        if draft is not None:
            try:
                state = draft.draft_state()
            except XdrconfError as exc:
                self._say(str(exc), error=True)
                return None
            typed = draft.typed_secrets()
        ws, tid, kind, op = ctx.workspace, ctx.tenant_id, ctx.kind, self.operation.name
        # A stored secret goes to the draft's new target only if the user says so (default
        # No: the run is refused and nothing is sent; core.targets).
        moving = draft_followers(ws, tid, kind, state, typed) if state is not None else []
        keep = bool(moving) and Prompts(self).confirm_follow(moving, running=True)
        cancel = threading.Event()
        self.setEnabled(False)
        self._say(_("Running '{title}'…").format(title=_(self.operation.title)))

        def work() -> list[Outcome]:
            return run_operation(
                ws, tid, kind, op, cancel=cancel, draft=state, draft_secrets=typed, keep_secrets=keep
            )

        self.task = ctx.run_in_background(work, self._done, self._failed, cancel=cancel, checks=True)
        return self.task

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.setEnabled(True)
        self._say(error_text(exc), error=True)

    def _done(self, outcomes: list[Outcome]) -> None:
        from ..core.engine import rows_of
        from ..core.outcome import category_words
        from .dialogs import Prompts

        self.task = None
        self.setEnabled(True)
        outcome = outcomes[0]
        if not outcome.ok:
            self._say(f"{category_words(outcome.category)}: {outcome.message}", error=True)
            return
        self.rows = [r for r in rows_of(outcome) if r.get(self.chooser.value) not in (None, "")]
        if not self.rows:
            self._say(
                _("{message} There is nothing to choose from.").format(message=outcome.message), error=True
            )
            return
        self._say("")
        items = [self.item_text(r) for r in self.rows]
        values = [str(r[self.chooser.value]) for r in self.rows]
        current = self.editor.value().strip()
        picked = Prompts(self).choose(
            _("Choose: {field}").format(field=_(self.editor.field.label)),
            outcome.message,
            items,
            values.index(current) if current in values else 0,
        )
        if picked is not None:
            self.editor.set_value(values[items.index(picked)])


def ca_hint(spec_title: str) -> str:
    return _(
        "PEM certificate of the CA that issued the TLS certificate of {peer}. "
        "Leave empty to use the system's trusted CAs."
    ).format(peer=spec_title)


def make_editor(f: Field, stored: bool = False, stored_text: str = "") -> FieldEditor:
    """The editor of a field; `stored`: a secret of that field is stored already
    (`stored_text`: what its empty editor says instead of "stored — leave empty to keep")."""
    if f.kind == "secret":
        return SecretEditor(f, stored, stored_text=stored_text)
    if f.kind == "secret_text":
        return SecretTextEditor(f, stored, stored_text=stored_text)
    if f.kind == "choice":
        return ChoiceEditor(f)
    if f.kind == "hosts":
        return HostListEditor(f)
    if f.kind == "bool":
        return BoolEditor(f)
    if f.kind == "pem" or f.multiline:
        return PemEditor(f)
    if f.kind == "int" and f.minimum is not None and f.maximum is not None and f.default is not None:
        return SpinEditor(f)
    return LineEditor(f)


# ---- forms ---------------------------------------------------------------------------------
def show_reason(reason: QLabel, problem: str, *, judged: bool) -> None:
    """Under a field: its hint (the label's "help" property) until there is something to
    judge (the user typed, or the field holds a value), then why the value is refused."""
    if problem and judged:
        reason.setText(problem)
        reason.setStyleSheet(REASON_STYLE)
    else:
        reason.setText(str(reason.property("help") or ""))
        reason.setStyleSheet(HELP_STYLE)


class FieldGrid(QWidget):
    """Fields in a grid: label, editor, and under the editor the field's hint or what is
    wrong with its value, validated as the user types (a field shown only for some values
    of another, Field.visible_when, comes and goes with them). A host field splits a pasted
    'host:port' or URL into the grid's port field. Call revalidate() once it is built.

    items: the fields in order; a (label, widget) pair puts a widget of the caller's own
    between them (e.g. radio buttons), aligned with the fields. values: the text each
    editor starts with; stored_secrets: secrets that are stored (an empty editor keeps
    them); stored_texts: what the empty editor of such a secret says instead of "stored —
    leave empty to keep"; optional: fields never required (an empty one changes nothing);
    hints: a hint instead of the field's help; locked: fields shown but not
    editable, with the reason as their hint; require: an empty required field is a problem
    (the wizard's forms leave that to the closing page: settings may be saved step by step).
    chooser: the integration's context; a line field with `choices_from` then gets
    "Choose…" (ChooseFromOperation), which runs on `draft` (what the wizard holds) or, without
    one, on the tenant's saved settings."""

    validity_changed = Signal()
    edited = Signal(str)  # the name of a field the user changed

    def __init__(
        self,
        items: Sequence[Field | tuple[str, QWidget]],
        parent: QWidget | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        stored_secrets: Collection[str] = (),
        stored_texts: Mapping[str, str] | None = None,
        optional: Collection[str] = (),
        hints: Mapping[str, str] | None = None,
        locked: Mapping[str, str] | None = None,
        require: bool = False,
        chooser: IntegrationUiContext | None = None,
        draft: IntegrationDraft | None = None,
    ) -> None:
        super().__init__(parent)
        values, hints, locked = values or {}, hints or {}, locked or {}
        self.choosers: dict[str, ChooseFromOperation] = {}
        self.require = require
        self.stored_secrets = frozenset(stored_secrets)
        self.optional = frozenset(optional)
        stored_texts = stored_texts or {}
        self.editors: dict[str, FieldEditor] = {}
        self.reasons: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        self._problems: dict[str, str] = {}
        self._touched: set[str] = set()
        # Problems found outside the field's own parser (e.g. in a worker): name -> problem.
        self.external: dict[str, str] = {}
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(1, 1)
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(2)
        self.rows = 0
        for item in items:
            if isinstance(item, tuple):
                self.add_widget(item[1], item[0])
                continue
            f, name = item, item.name
            editor = make_editor(f, name in self.stored_secrets, stored_texts.get(name, ""))
            label = QLabel(_(f.label) + (" *" if f.required else "") + ":", self)
            label.setBuddy(editor)
            label.setToolTip(_(f.help) if f.help else "")
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            label.setContentsMargins(0, 4, 0, 0)
            reason = QLabel(self)
            reason.setObjectName(f"reason_{name}")
            reason.setWordWrap(True)
            reason.setTextFormat(Qt.TextFormat.PlainText)
            hint = hints[name] if name in hints else (_(f.help) if f.help else "")
            editor.setToolTip(hint)
            if not f.secret and name in values:
                editor.set_value(values[name])
            if name in locked:
                editor.setEnabled(False)
                reason.setProperty("help", locked[name])
            else:
                reason.setProperty("help", hint)
                editor.changed.connect(lambda name=name: self._changed(name))
            reason.setContentsMargins(0, 0, 0, 8)  # the space before the next field
            row = self.rows
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(editor, row, 1)
            self.grid.addWidget(reason, row + 1, 1)
            self.rows += 2
            self.editors[name] = editor
            self.reasons[name] = reason
            self.labels[name] = label
            choosable = f.choices_from is not None and isinstance(editor, LineEditor) and name not in locked
            if chooser is not None and choosable:
                assert isinstance(editor, LineEditor)
                self.choosers[name] = choose = ChooseFromOperation(chooser, editor, self, draft=draft)
                self.grid.addWidget(choose.status, self.rows, 1)
                self.rows += 1
        self._split_pasted_hosts()

    def _split_pasted_hosts(self) -> None:
        ports = [
            e
            for e in self.editors.values()
            if e.field.kind in ("port", "ports") and isinstance(e, LineEditor)
        ]
        set_port: Callable[[int], None] | None = None
        if ports:
            port_edit = ports[0].edit

            def set_port(port: int) -> None:
                port_edit.setText(str(port))

        for editor in self.editors.values():
            if editor.field.kind == "host" and isinstance(editor, LineEditor):
                HostPasteSplitter(editor.edit, set_port)

    def add_widget(self, widget: QWidget | QHBoxLayout, label: str = "") -> None:
        """A widget (or a row of them) under the fields, in the editors' column."""
        if label:
            text = QLabel(label, self)
            text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(text, self.rows, 0)
        if isinstance(widget, QWidget):
            self.grid.addWidget(widget, self.rows, 1)
        else:
            self.grid.addLayout(widget, self.rows, 1)
        self.rows += 1

    def values(self) -> dict[str, Any]:
        """What each editor holds (as Field.parse takes it), visible fields only."""
        return {name: e.value() for name, e in self.editors.items() if not e.isHidden()}

    def _store(self, name: str) -> None:
        """A field the user changed (FieldsForm writes it into the draft)."""

    def _changed(self, name: str) -> None:
        self._touched.add(name)
        self._store(name)
        self.revalidate()
        self.edited.emit(name)

    def _current_values(self) -> dict[str, Any]:
        """The parsed values that decide which fields are shown."""
        values: dict[str, Any] = {}
        for name, editor in self.editors.items():
            with contextlib.suppress(ValidationError):
                values[name] = editor.field.parse(editor.value())
        return values

    def problems(self) -> dict[str, str]:
        """Field name -> why its value is not acceptable (visible fields only)."""
        return dict(self._problems)

    def problem_of(self, editor: FieldEditor) -> str:
        f, name = editor.field, editor.field.name
        if self.external.get(name):
            return self.external[name]
        raw = editor.value()
        if f.secret and not raw:
            needed = f.required and name not in self.stored_secrets and name not in self.optional
            return _("is required") if needed else ""
        try:
            value = f.parse(raw)
        except ValidationError as exc:
            return exc.problem
        if self.require and f.required and value in (None, "", []):
            return _("is required")
        return ""

    def revalidate(self) -> None:
        values = self._current_values()
        problems: dict[str, str] = {}
        for name, editor in self.editors.items():
            f = editor.field
            visible = f.visible(values)
            for w in (editor, self.labels[name], self.reasons[name]):
                w.setVisible(visible)
            if name in self.choosers:
                self.choosers[name].status.setVisible(visible and bool(self.choosers[name].status.text()))
            if not visible or (not editor.isEnabled() and not f.secret):
                continue
            problem = self.problem_of(editor)
            if problem:
                problems[name] = problem
            raw = editor.value()
            judged = name in self._touched or (raw not in ("", None, False) and not f.secret)
            show_reason(self.reasons[name], problem, judged=judged)
        self._problems = problems
        self.validity_changed.emit()


class FieldsForm(FieldGrid):
    """Some fields of an integration's spec in the tenant wizard: what is typed goes into
    the integration's draft at once. The saved values fill the editors (secrets never: a
    stored one shows as "stored — leave empty to keep"); Root-only fields are locked for
    the other tenants."""

    def __init__(
        self,
        ctx: IntegrationUiContext,
        names: tuple[str | tuple[str, QWidget], ...],
        parent: QWidget | None = None,
    ) -> None:
        """names: the fields, in order; a (label, widget) pair puts a widget of the page's
        own between them (e.g. radio buttons), aligned with the fields."""
        assert ctx.draft is not None
        draft = ctx.draft
        spec = ctx.spec
        items = [name if isinstance(name, tuple) else spec.field(name) for name in names]
        fields = [f for f in items if isinstance(f, Field)]
        super().__init__(
            items,
            parent,
            values={
                f.name: draft.values.get(f.name, draft.stored_text(f.name)) for f in fields if not f.secret
            },
            stored_secrets={f.name for f in fields if draft.has_stored_secret(f.name)},
            hints={"tls_ca": ca_hint(spec.title)},
            locked={
                f.name: _("Set for the Root tenant only.")
                for f in fields
                if f.name in spec.root_only and not ctx.tenant.is_root
            },
            chooser=ctx,
            draft=draft,
        )
        self.ctx = ctx
        self.draft = draft
        for name, editor in self.editors.items():
            # Into the draft only what differs from the saved settings (e.g. a choice's
            # first item for a field not set yet); the rest when the user edits it.
            if not editor.field.secret and str(editor.value()) != self.draft.stored_text(name):
                self._store(name)
        self.revalidate()

    def _store(self, name: str) -> None:
        f = self.ctx.spec.field(name)
        if name in self.ctx.spec.root_only and not self.ctx.tenant.is_root:
            return
        value = self.editors[name].value()
        if f.secret:
            self.draft.set_secret(name, value)
        else:
            self.draft.set_value(name, value)

    def _current_values(self) -> dict[str, Any]:
        values = dict(self.draft.stored.settings)
        for name, text in self.draft.values.items():
            with contextlib.suppress(ValidationError):
                values[name] = self.ctx.spec.field(name).parse(text)
        return values
