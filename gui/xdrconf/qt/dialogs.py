"""Questions and messages to the user: the real Qt dialogs, behind one small object.

The window and the integration panels ask `Prompts(parent)` instead of calling
QInputDialog/QMessageBox/QFileDialog themselves, so every question has the same look and a
stable object name: "textPrompt" (QInputDialog), "chooseDialog" (ChooseDialog),
"confirmBox" and "infoBox" (QMessageBox), "openFileDialog" and "saveFileDialog" (Qt's own
QFileDialog, never the platform's native one, so it behaves alike everywhere) and "errorBox"
(show_error). Tests answer these real dialogs by finding them (the active modal widget, or by
object name) and pressing their buttons (tests/support/gui.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSortFilterProxyModel, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from xdrconf.core.i18n import N_, _

from ..core.errors import XdrconfError

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox

# The message, input and file dialogs are imported when first used: loading them costs the
# window's start-up about 20 ms.

log = logging.getLogger(__name__)


def error_text(error: BaseException | str) -> str:
    """A user-facing sentence. Core errors are written for users; others get a prefix."""
    if isinstance(error, str):
        return error
    if isinstance(error, XdrconfError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror}{where}."
    return _("Unexpected error ({name}): {error}").format(name=type(error).__name__, error=error)


def show_error(parent: QWidget | None, error: BaseException | str, title: str = "xdrconf") -> QMessageBox:
    """A non-blocking (window-modal) error box; returns it so tests can read and close it."""
    from PySide6.QtWidgets import QMessageBox

    text = error_text(error)
    if isinstance(error, BaseException) and not isinstance(error, XdrconfError):
        log.error("unexpected error: %s", type(error).__name__, exc_info=error)
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()
    return box


class Prompts:
    """Real dialogs. Every method returns None (or False) when the user cancels."""

    def __init__(self, parent: QWidget | None) -> None:
        self.parent = parent

    def text(self, title: str, label: str, default: str = "") -> str | None:
        from PySide6.QtWidgets import QInputDialog

        dialog = QInputDialog(self.parent)
        dialog.setObjectName("textPrompt")
        dialog.setInputMode(QInputDialog.InputMode.TextInput)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(default)
        return dialog.textValue() if dialog.exec() else None

    def choose(self, title: str, label: str, items: list[str], current: int = 0) -> str | None:
        dialog = ChooseDialog(self.parent, title, label, items, current)
        return dialog.chosen() if dialog.exec() else None

    def _question(
        self, icon: Any, title: str, text: str, details: list[str] | None, yes: Any, no: Any
    ) -> bool:
        """A confirmBox with the buttons yes and no, no the default (Enter and Escape)."""
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(icon, title, text, yes | no, self.parent)
        box.setObjectName("confirmBox")
        if details:
            box.setInformativeText("\n".join(f"• {line}" for line in details))
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        return box.exec() == yes

    def confirm(self, title: str, text: str, details: list[str] | None = None) -> bool:
        from PySide6.QtWidgets import QMessageBox

        buttons = QMessageBox.StandardButton
        return self._question(QMessageBox.Icon.Question, title, text, details, buttons.Ok, buttons.Cancel)

    def confirm_change(self, title: str, text: str, details: list[str] | None = None) -> bool:
        """A question before something that changes data on a peer and cannot be taken
        back: Yes or No, No the default (Enter and Escape both say No)."""
        from PySide6.QtWidgets import QMessageBox

        buttons = QMessageBox.StandardButton
        return self._question(QMessageBox.Icon.Warning, title, text, details, buttons.Yes, buttons.No)

    def confirm_follow(self, following: list[Any], *, running: bool = False) -> bool:
        """Whether stored secrets may follow a new target (core.targets), default No: the
        box names each integration's old and new target and the secrets that would go.
        running: for a run of settings typed but not saved (a check of the wizard's draft)."""
        from ..core.targets import describe

        if running:
            text = _(
                "The settings typed point an integration to a new target. Its stored secrets were "
                "given for the old one; send them to the new one for this run?"
            )
            last = _("Cancel sends nothing. To use other secrets there, enter them again.")
        else:
            text = _(
                "The change points an integration to a new target. Its stored secrets were given "
                "for the old one; send them to the new one?"
            )
            last = _("Cancel saves nothing. To use other secrets there, enter them again in the same change.")
        title = _("Send the stored secrets to the new target?")
        return self.confirm(title, text, [*describe(following), last])

    def info(self, title: str, text: str, details: list[str] | None = None) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, self.parent
        )
        box.setObjectName("infoBox")
        if details:
            box.setInformativeText("\n".join(details))
        box.exec()

    def open_file(self, title: str, filter_: str = N_("All files (*)")) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        return self._file_dialog("openFileDialog", title, "", filter_, QFileDialog.AcceptMode.AcceptOpen)

    def save_file(self, title: str, name: str, filter_: str = N_("All files (*)")) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        return self._file_dialog("saveFileDialog", title, name, filter_, QFileDialog.AcceptMode.AcceptSave)

    def _file_dialog(self, object_name: str, title: str, name: str, filter_: str, mode: Any) -> str | None:
        """Qt's own file dialog (the native one differs per desktop and cannot be driven)."""
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self.parent, str(title), "", str(filter_))  # str(): a LazyText in the language
        dialog.setObjectName(object_name)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setAcceptMode(mode)
        if mode == QFileDialog.AcceptMode.AcceptOpen:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        else:
            dialog.setFileMode(QFileDialog.FileMode.AnyFile)
            dialog.selectFile(name)
        if not dialog.exec():
            return None
        files = dialog.selectedFiles()
        return files[0] if files else None

    def dialog(self, dialog: QDialog) -> bool:
        """Run a custom dialog (settings, move); True when accepted."""
        return bool(dialog.exec())


class ChooseDialog(QDialog):
    """A searchable list to pick one item from, usable with 10,000 tenant paths: a filter
    box (any part of the text, any case), the matches, and OK on a selected match."""

    def __init__(
        self, parent: QWidget | None, title: str, label: str, items: list[str], current: int = 0
    ) -> None:
        super().__init__(parent)
        self._total = len(items)
        self.setObjectName("chooseDialog")
        self.setWindowTitle(title)
        self.resize(560, 460)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(label, self))
        self.filter = QLineEdit(self)
        self.filter.setObjectName("chooseFilter")
        self.filter.setPlaceholderText(_("Type part of a name to narrow the list…"))
        self.filter.setClearButtonEnabled(True)
        lay.addWidget(self.filter)
        self.source = QStringListModel(items, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = QListView(self)
        self.view.setObjectName("chooseList")
        self.view.setUniformItemSizes(True)
        self.view.setModel(self.proxy)
        self.view.doubleClicked.connect(lambda *_unused: self.accept())
        lay.addWidget(self.view, 1)
        self.count = QLabel(self)
        lay.addWidget(self.count)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.filter.textChanged.connect(self._filtered)
        self.view.selectionModel().currentChanged.connect(lambda *_unused: self._update())
        if items:
            self.view.setCurrentIndex(self.proxy.index(min(current, len(items) - 1), 0))
        self._update()

    def _filtered(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        if self.proxy.rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self._update()

    def _update(self) -> None:
        shown = self.proxy.rowCount()
        self.count.setText(
            _("{shown} of {total} shown").format(shown=shown, total=self._total)
            if shown != self._total
            else _("{shown} in all").format(shown=shown)
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.view.currentIndex().isValid())

    def chosen(self) -> str | None:
        index = self.view.currentIndex()
        return str(index.data()) if index.isValid() else None


class NameDialog(QDialog):
    """Asks for a name and stays open until the change made with it is done: a refused
    name (taken, not allowed) is shown in the dialog with the text kept for correcting.
    `submitted` carries the name; the caller answers with `finish()` or `refused(reason)`."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None, title: str, label: str, text: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("nameDialog")
        self.setWindowTitle(title)
        # Wide enough for the whole title in the title bar, and for a long name.
        self.setMinimumWidth(max(440, self.fontMetrics().horizontalAdvance(title) * 2 + 160))
        lay = QVBoxLayout(self)
        prompt = QLabel(label, self)
        prompt.setWordWrap(True)
        lay.addWidget(prompt)
        self.edit = QLineEdit(text, self)
        self.edit.setObjectName("nameEdit")
        self.edit.selectAll()
        prompt.setBuddy(self.edit)
        lay.addWidget(self.edit)
        self.error = QLabel(self)
        self.error.setObjectName("nameError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#b00020")
        self.error.setVisible(False)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.edit.textChanged.connect(self._typed)
        self._typed(text)

    def _typed(self, text: str) -> None:
        self.ok_button.setEnabled(bool(text.strip()))

    def name(self) -> str:
        return self.edit.text().strip()

    def accept(self) -> None:
        if not self.name() or not self.buttons.isEnabled():
            return
        self.buttons.setEnabled(False)  # until the change is done or refused
        self.error.setVisible(False)
        self.submitted.emit(self.name())

    def refused(self, reason: str) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(reason)
        self.error.setVisible(True)
        self.adjustSize()  # room for the whole reason, the typed name kept
        self.edit.setFocus()

    def finish(self) -> None:
        QDialog.accept(self)
