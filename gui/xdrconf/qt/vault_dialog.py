"""The vault's passphrase in the window.

`VaultPassphraseDialog` asks for the passphrase (masked); when the vault is created it asks
twice, shows the passphrase's strength and refuses an empty or mismatched one. On OK the key
is derived (Argon2, about half a second) on a thread of its own while the dialog stays
responsive; a wrong passphrase is said in the dialog, which stays open for another try.

`GuiUnlocker` is the vault's unlocker (core.vault.Unlocker) for the window: the core calls
it from whichever worker first needs a secret; it shows the dialog on the GUI thread and
makes that worker wait for the answer. The passphrase lives in the line edits until the
dialog closes (they are cleared then) and in the deriving thread until the key is made."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import XdrconfError
from ..core.i18n import _
from ..core.vault import VaultStore, passphrase_strength


class _Derivation(QObject):
    finished = Signal(object)  # None on success, else the exception


class VaultPassphraseDialog(QDialog):
    def __init__(
        self, store: VaultStore, creating: bool, parent: QWidget | None = None, reason: str = ""
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.creating = creating
        self.setObjectName("vaultPassphraseDialog")
        self.setWindowTitle(_("Create the vault") if creating else _("Unlock the vault"))
        self.setModal(True)
        self._thread: threading.Thread | None = None
        self._signals = _Derivation(self)
        self._signals.finished.connect(self._derived, Qt.ConnectionType.QueuedConnection)

        layout = QVBoxLayout(self)
        if creating:
            text = _(
                "No usable OS keyring was found, so xdrconf keeps secrets in an "
                "encrypted KeePass vault, <b>{name}</b>, in the settings folder. "
                "KeePassXC opens it with the same passphrase. Choose the passphrase; it "
                "cannot be recovered if you forget it."
            ).format(name=store.path.name)
        else:
            text = _("The secrets are kept in the vault <b>{name}</b>. Enter its passphrase.").format(
                name=store.path.name
            )
        intro = QLabel(text, self)
        intro.setWordWrap(True)
        intro.setObjectName("vaultIntro")
        layout.addWidget(intro)
        if reason:
            why = QLabel(reason, self)
            why.setWordWrap(True)
            why.setObjectName("vaultReason")
            why.setStyleSheet("color:#555")
            layout.addWidget(why)
        form = QFormLayout()
        self.passphrase = QLineEdit(self)
        self.passphrase.setObjectName("vaultPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(_("&Passphrase:"), self.passphrase)
        self.repeat: QLineEdit | None = None
        self.strength: QLabel | None = None
        if creating:
            self.repeat = QLineEdit(self)
            self.repeat.setObjectName("vaultPassphraseRepeat")
            self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
            form.addRow(_("&Again:"), self.repeat)
            self.strength = QLabel(self)
            self.strength.setObjectName("vaultStrength")
            form.addRow(_("Strength:"), self.strength)
            self.passphrase.textChanged.connect(self._update_strength)
            self._update_strength("")
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setObjectName("vaultMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color:#b00020")
        self.message.setVisible(False)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_("Create") if creating else _("Unlock"))
        ok.setObjectName("vaultOk")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        self.passphrase.setFocus()

    def _update_strength(self, text: str) -> None:
        assert self.strength is not None
        bits, word = passphrase_strength(text)
        # word: core.vault's LazyText, equal to the English word and shown translated
        self.strength.setText(
            _("{word} (about {bits} bits)").format(word=str(word), bits=bits) if text else "—"
        )
        colour = {"weak": "#b00020", "fair": "#a05a00"}.get(word, "#1b5e20")
        self.strength.setStyleSheet(f"color:{colour}" if text else "")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _submit(self) -> None:
        if self._thread is not None:
            return
        passphrase = self.passphrase.text()
        if not passphrase:
            self._say(_("The passphrase is empty; type it."))
            return
        if self.repeat is not None and self.repeat.text() != passphrase:
            self._say(_("The two passphrases differ; type the same one twice."))
            self.repeat.clear()
            self.repeat.setFocus()
            return
        self._say("")
        self._set_working(True)
        store, creating, signals = self.store, self.creating, self._signals

        def derive() -> None:
            try:
                (store.create if creating else store.unlock)(passphrase)
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
                signals.finished.emit(exc)
            else:
                signals.finished.emit(None)

        self._thread = threading.Thread(target=derive, name="xdrconf-vault-key", daemon=True)
        self._thread.start()

    def _set_working(self, working: bool) -> None:
        for w in (self.passphrase, self.repeat, self.buttons):
            if w is not None:
                w.setEnabled(not working)
        if working:
            self.message.setStyleSheet("color:#555")
            self.message.setText(_("Deriving the key…") if not self.creating else _("Creating the vault…"))
            self.message.setVisible(True)
        else:
            self.message.setStyleSheet("color:#b00020")

    def _derived(self, error: BaseException | None) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._set_working(False)
        if error is None:
            self._say("")
            self.accept()
            return
        self._say(
            str(error)
            if isinstance(error, XdrconfError)
            else _("The vault could not be opened ({error}).").format(error=error)
        )
        self.passphrase.selectAll()
        self.passphrase.setFocus()

    def reject(self) -> None:
        if self._thread is not None:
            return  # the key is being derived: the answer comes in a moment
        super().reject()

    def done(self, result: int) -> None:
        self.passphrase.clear()
        if self.repeat is not None:
            self.repeat.clear()
        super().done(result)


class GuiUnlocker(QObject):
    """Shows VaultPassphraseDialog on the GUI thread for a worker that needs the vault."""

    _ask = Signal(object)
    asked = Signal()  # after a dialog closed (tests and the status bar)

    def __init__(self, parent: QWidget, reason: Any = None) -> None:
        super().__init__(parent)
        self._window = parent
        self._reason = reason  # callable giving why the vault is used, shown when it is created
        self._closing = threading.Event()
        self._ask.connect(self._on_ask, Qt.ConnectionType.QueuedConnection)
        self.dialog: VaultPassphraseDialog | None = None

    def close(self) -> None:
        """Workers waiting for an answer stop waiting (the vault stays locked)."""
        self._closing.set()
        if self.dialog is not None:
            self.dialog.reject()

    def __call__(self, store: VaultStore, creating: bool) -> None:
        if self._closing.is_set():
            return
        if QThread.currentThread() is self.thread():
            self._show(store, creating)
            return
        done = threading.Event()
        self._ask.emit((store, creating, done))
        while not done.wait(0.1):
            if self._closing.is_set():
                return

    def _on_ask(self, request: tuple[VaultStore, bool, threading.Event]) -> None:
        """On the GUI thread: open the dialog (no nested event loop); the worker is released
        when it closes."""
        store, creating, done = request
        if self._closing.is_set() or store.unlocked or self.dialog is not None:
            done.set()
            return
        dialog = self._dialog(store, creating)
        dialog.finished.connect(lambda _result: self._closed(dialog, done))
        dialog.open()

    def _closed(self, dialog: VaultPassphraseDialog, done: threading.Event) -> None:
        self.dialog = None
        dialog.deleteLater()
        done.set()
        self.asked.emit()

    def _dialog(self, store: VaultStore, creating: bool) -> VaultPassphraseDialog:
        reason = ""
        if creating and self._reason is not None:
            reason = str(self._reason() or "")
        self.dialog = VaultPassphraseDialog(store, creating, self._window, reason)
        return self.dialog

    def _show(self, store: VaultStore, creating: bool) -> None:
        """Called on the GUI thread itself (no worker to wait): a modal exec()."""
        if store.unlocked:
            return
        dialog = self._dialog(store, creating)
        try:
            dialog.exec()
        finally:
            self.dialog = None
            dialog.deleteLater()
            self.asked.emit()
