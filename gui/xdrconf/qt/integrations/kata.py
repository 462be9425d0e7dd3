"""KATA/KEDR in the window: the list of connections with Add / Edit / Delete, and for the
selected one its XDR ID, certificate (PEM, subject, validity, SHA-256 fingerprint), the
private key masked until an explicit Reveal, Generate, Export certificate, Copy
fingerprint and Check connection with the status of each connection.

The same widget serves the tenant wizard (changes go into the wizard's draft and are
saved at Finish; new keys wait in the draft's typed secrets) and the main window's panel
(changes are saved at once through the core). Key generation, keyring reads, saving and
checks run in workers; the logic is in xdrconf.core.integrations.kata."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ...core.engine import draft_followers, run_operation
from ...core.errors import SecretsWouldFollow, ValidationError
from ...core.fields import format_fingerprint
from ...core.i18n import _, ngettext, pgettext
from ...core.integrations.kata import certs as kata_certs
from ...core.integrations.kata import connections as kata
from ...core.outcome import CheckResult, category_words
from ..dialogs import Prompts, error_text
from ..icons import colour, mark_icon
from . import IntegrationUiContext

MASK = "●" * 24
NOTE_KEY = "kata-connections"
# The main window's panel is where connections are added: shown before KATA is configured.
PANEL_BEFORE_CONFIGURED = True


def _level(category: str | None) -> str:
    if category is None:
        return "off"
    return "ok" if category == "ok" else ("warning" if category == "pending_approval" else "error")


def _breakable(text: str) -> str:
    """Lets a label wrap inside a long colon-separated fingerprint (display only)."""
    return re.sub(r"(?<=[0-9A-F]{2}):(?=[0-9A-F]{2})", ":\u200b", text)


def _monospace() -> Any:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class ConnectionDialog(QDialog):
    """Add or edit a connection: "IP address or host name", Port (default 443) and, for a
    new connection, the key type. Input is checked on OK; the dialog stays open and names
    the field while it is wrong."""

    def __init__(
        self,
        parent: QWidget | None,
        items: list[dict[str, Any]],
        conn: dict[str, Any] | None = None,
        *,
        in_vault: bool = False,
    ) -> None:
        super().__init__(parent)
        self.items = items
        self.conn = conn
        self.setWindowTitle(_("Edit connection") if conn else _("Add connection"))
        self.setObjectName("kataConnectionDialog")
        form = QFormLayout()
        self.host = QLineEdit(conn["host"] if conn else "", self)
        self.host.setObjectName("host")
        self.host.setPlaceholderText(_("kata.example.invalid, 127.0.0.5 or ::1"))
        self.port = QSpinBox(self)
        self.port.setObjectName("port")
        self.port.setRange(1, 65535)
        self.port.setValue(int(conn["port"]) if conn else kata.DEFAULT_PORT)
        self.port.setMaximumWidth(110)
        form.addRow(kata.HOST_LABEL, self.host)
        form.addRow(kata.PORT_LABEL, self.port)
        from ..editors import HostPasteSplitter

        HostPasteSplitter(self.host, self.port.setValue)
        self.key_type = QComboBox(self)
        self.key_type.setObjectName("keyType")
        for value, label in kata_certs.KEY_TYPES:
            self.key_type.addItem(label, value)
        if conn is None:
            form.addRow(_("Key type"), self.key_type)
            note = QLabel(
                _(
                    "Saving generates an XDR ID, a private key (kept in the vault) and a "
                    "self-signed client certificate valid for 365 days."
                )
                if in_vault
                else _(
                    "Saving generates an XDR ID, a private key (kept in the OS keyring) and a "
                    "self-signed client certificate valid for 365 days."
                ),
                self,
            )
        else:
            self.key_type.setVisible(False)
            note = QLabel(_("The XDR ID, key and certificate stay the same."), self)
        note.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setStyleSheet(f"color: {colour('error').name()}")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.result_values: tuple[str, int, str] | None = None

    def accept(self) -> None:
        try:
            host, port = kata.validate_target(
                self.items,
                self.host.text(),
                str(self.port.value()),
                skip=self.conn["id"] if self.conn else "",
            )
        except ValidationError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            self.adjustSize()  # room for the message without squeezing the fields
            self.host.setFocus()
            return
        self.result_values = (host, port, str(self.key_type.currentData()))
        super().accept()


class KataConnectionsWidget(QWidget):
    def __init__(self, ctx: IntegrationUiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kataConnections")
        self.setWindowTitle(_("KATA/KEDR connections"))
        self.ctx = ctx
        self.draft = ctx.draft
        self.prompts = Prompts(self)
        self.busy = False
        self.local_status: dict[str, kata.Status] = {}  # checks of the wizard's unsaved draft
        self.revealed_for = ""
        self._build()
        self.reload()

    # ---- state ----------------------------------------------------------------------------
    def items(self) -> list[dict[str, Any]]:
        if self.draft is not None:
            if kata.CONNECTIONS in self.draft.structured:
                return [dict(c) for c in self.draft.structured[kata.CONNECTIONS]]
            return kata.connections(self.draft.stored)
        return kata.connections(self.ctx.workspace.tenant(self.ctx.tenant_id).integrations.get(kata.KIND))

    def _stored_state(self) -> Any:
        if self.draft is not None:
            return self.draft.stored
        return self.ctx.workspace.tenant(self.ctx.tenant_id).integrations.get(kata.KIND)

    def status(self, conn: dict[str, Any]) -> kata.Status | None:
        if self.draft is not None:
            if conn["id"] in self.local_status:
                return self.local_status[conn["id"]]
            saved = next((c for c in kata.connections(self.draft.stored) if c["id"] == conn["id"]), None)
            same = ("fingerprint", "host", "port")
            if saved is None or any(saved.get(k) != conn.get(k) for k in same):
                return None  # new, moved or renewed in this draft: the saved status no longer applies
        return kata.status_of(self._stored_state(), conn)

    @property
    def _in_vault(self) -> bool:
        """Whether the keys are kept in the vault (the texts that name the place say so)."""
        return bool(self.ctx.workspace.secrets.in_vault)

    def selected(self) -> dict[str, Any] | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        wanted = item.data(0, Qt.ItemDataRole.UserRole)
        return next((c for c in self.items() if c["id"] == wanted), None)

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.toggle: QCheckBox | None = None  # in the main window; the wizard has its own
        if self.draft is None:
            self.toggle = QCheckBox(_("KATA integration"), self)
            self.toggle.setObjectName("kataToggle")
            self.toggle.setToolTip(_("Turn the KATA/KEDR integration of this tenant on or off"))
            self.toggle.clicked.connect(self.set_enabled)
            outer.addWidget(self.toggle)
        # The wizard is narrow: list above details there; side by side in the main window.
        vertical = self.draft is not None
        body = QBoxLayout(QBoxLayout.Direction.TopToBottom if vertical else QBoxLayout.Direction.LeftToRight)
        outer.addLayout(body, 1)

        left = QVBoxLayout()
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("connections")
        self.tree.setHeaderLabels([_("Connection"), _("Key"), _("Expires"), _("Connection status")])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(lambda *_unused: self._show_selected())
        self.tree.itemDoubleClicked.connect(lambda *_unused: self.edit())
        left.addWidget(self.tree, 1)
        if vertical:
            self.tree.setMaximumHeight(120)
        # Changing and checking on two rows: the list keeps to its share of the width.
        row = QHBoxLayout()
        self.add_btn = self._button(_("Add connection…"), self.add, row, "addButton")
        self.edit_btn = self._button(_("Edit…"), self.edit, row, "editButton")
        self.delete_btn = self._button(_("Delete"), self.delete, row, "deleteButton")
        row.addStretch(1)
        left.addLayout(row)
        row = QHBoxLayout()
        self.check_btn = self._button(
            _("Check connection"), lambda: self.check(only_selected=True), row, "checkButton"
        )
        self.check_all_btn = self._button(
            _("Check all"), lambda: self.check(only_selected=False), row, "checkAllButton"
        )
        row.addStretch(1)
        left.addLayout(row)
        self.message = self._label("message")
        left.addWidget(self.message)
        body.addLayout(left, 2)

        self.details = QGroupBox(_("Selected connection"), self)
        self.details.setObjectName("details")
        details_lay = QVBoxLayout(self.details)
        form = QFormLayout()
        details_lay.addLayout(form)
        details_lay.addStretch(1)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.xdr_id = self._readonly("xdrId")
        form.addRow("XDR ID", self.xdr_id)
        self.subject = self._label("subject")
        form.addRow(pgettext("certificate field", "Subject"), self.subject)
        self.validity = QLabel(self.details)
        self.validity.setObjectName("validity")
        form.addRow(_("Valid"), self.validity)
        fp_row = QHBoxLayout()
        self.fingerprint = self._label("fingerprint")
        self.fingerprint.setFont(_monospace())
        fp_row.addWidget(self.fingerprint, 1)
        self.copy_btn = self._button(_("Copy"), self.copy_fingerprint, fp_row, "copyFingerprint")
        self.copy_btn.setToolTip(_("Copy the SHA-256 fingerprint for the KATA administrator"))
        form.addRow("SHA-256", fp_row)
        self.pem = self._text_box("certificatePem", 96)
        form.addRow(_("Certificate"), self.pem)
        key_row = QHBoxLayout()
        self.key_mask = QLineEdit(MASK, self.details)
        self.key_mask.setObjectName("keyMask")
        self.key_mask.setReadOnly(True)
        self.key_mask.setToolTip(
            _("The private key is kept in the vault")
            if self._in_vault
            else _("The private key is kept in the OS keyring")
        )
        key_row.addWidget(self.key_mask, 1)
        self.reveal_btn = self._button(_("Reveal"), self.toggle_reveal, key_row, "revealButton")
        form.addRow(_("Private key"), key_row)
        self.key_text = self._text_box("keyText", 86)
        self.key_text.setVisible(False)
        form.addRow("", self.key_text)
        self.conn_status = self._label("connectionStatus")
        form.addRow(_("Status"), self.conn_status)
        for label in (self.subject, self.validity, self.conn_status, self.message):
            # long wrapped texts must not widen the window; they wrap to the width there is
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setWordWrap(True)
        actions = QHBoxLayout()
        self.generate_btn = self._button(_("Generate…"), self.regenerate, actions, "generateButton")
        self.generate_btn.setToolTip(
            _("A new private key and certificate; the KATA administrator must approve again")
        )
        self.export_btn = self._button(_("Export certificate…"), self.export, actions, "exportButton")
        actions.addStretch(1)
        form.addRow("", actions)
        scroll = QScrollArea(self)
        scroll.setObjectName("detailsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.details)
        body.addWidget(scroll, 4 if vertical else 3)

    def _button(self, text: str, slot: Callable[[], None], layout: Any, name: str) -> QPushButton:
        btn = QPushButton(text, self)
        btn.setObjectName(name)
        btn.clicked.connect(lambda: slot())
        layout.addWidget(btn)
        return btn

    def _label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _text_box(self, name: str, height: int) -> QPlainTextEdit:
        box = QPlainTextEdit(self)
        box.setObjectName(name)
        box.setReadOnly(True)
        box.setFont(_monospace())
        box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        box.setFixedHeight(height)
        return box

    def _readonly(self, name: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setReadOnly(True)
        edit.setFont(_monospace())
        return edit

    # ---- showing -------------------------------------------------------------------------
    def update_view(self) -> None:
        """The main window calls this after the saved settings changed."""
        if not self.busy:
            self.reload()

    def reload(self, select: str | None = None) -> None:
        current = select or (self.selected() or {}).get("id")
        self.tree.clear()
        now = _dt.datetime.now(_dt.UTC)
        for conn in self.items():
            st = self.status(conn)
            until = kata.expires(conn)
            item = QTreeWidgetItem(
                [
                    kata.target_of(conn),
                    conn.get("key_type", ""),
                    until.strftime("%Y-%m-%d") if until else "",
                    category_words(st.category) if st else _("not checked"),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, conn["id"])
            item.setToolTip(0, f"XDR ID {conn['id']}")
            item.setIcon(3, mark_icon(_level(st.category if st else None)))
            if st:
                item.setToolTip(3, f"{st.category}: {st.message}")
            if until and until - now <= _dt.timedelta(days=kata.EXPIRY_WARNING_DAYS):
                item.setForeground(2, colour("error" if until <= now else "warning"))
            self.tree.addTopLevelItem(item)
            if conn["id"] == current:
                self.tree.setCurrentItem(item)
        first = self.tree.topLevelItem(0)
        if self.tree.currentItem() is None and first is not None:
            self.tree.setCurrentItem(first)
        if self.toggle is not None:
            state = self._stored_state()
            self.toggle.setChecked(bool(state and state.enabled))
        self._show_selected()

    def showEvent(self, event: Any) -> None:
        # the window may have checked or changed the integration meanwhile
        if not self.busy:
            self.reload()
        super().showEvent(event)

    def _show_selected(self) -> None:
        conn = self.selected()
        if conn is None or conn["id"] != self.revealed_for:
            self._hide_key()
        has = conn is not None
        # A read-only main window (another instance holds the folder) can look and check only.
        writable = self.draft is not None or not self.ctx.workspace.readonly
        for w in (self.check_btn, self.export_btn, self.copy_btn, self.reveal_btn):
            w.setEnabled(has and not self.busy)
        for w in (self.edit_btn, self.delete_btn, self.generate_btn):
            w.setEnabled(has and writable and not self.busy)
        self.check_all_btn.setEnabled(bool(self.items()) and not self.busy)
        self.add_btn.setEnabled(writable and not self.busy)
        if self.toggle is not None:
            self.toggle.setEnabled(writable and not self.busy)
        self.details.setEnabled(has)
        if conn is None:
            self.xdr_id.clear()
            self.fingerprint.clear()
            self.pem.clear()
            self.subject.setText("")
            self.validity.setText("")
            self.conn_status.setText(_("Add a connection to generate its XDR ID, key and certificate."))
            return
        self.xdr_id.setText(conn["id"])
        self.xdr_id.setCursorPosition(0)
        fp = format_fingerprint(conn.get("fingerprint", ""))
        self.fingerprint.setText(f"{fp[:48]}\n{fp[48:]}")  # 16 bytes per line
        self.fingerprint.setToolTip(fp)
        self.pem.setPlainText(conn.get("cert_pem", ""))
        info = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in kata.certificate_lines(conn)}
        self.subject.setText(info.get("Subject", ""))
        until = kata.expires(conn)
        text = info.get("Valid", "")
        style = ""
        if until is not None:
            left = until - _dt.datetime.now(_dt.UTC)
            if left.total_seconds() <= 0:
                text += _(" — expired: generate a new certificate")
                style = f"color: {colour('error').name()}"
            elif left <= _dt.timedelta(days=kata.EXPIRY_WARNING_DAYS):
                text += ngettext(" — expires in {n} day", " — expires in {n} days", left.days).format(
                    n=left.days
                )
                style = f"color: {colour('warning').name()}"
        self.validity.setText(text)
        self.validity.setStyleSheet(style)
        st = self.status(conn)
        if st is None:
            self.conn_status.setText(_("Not checked yet."))
            self.conn_status.setStyleSheet("")
        else:
            self.conn_status.setText(_breakable(f"{category_words(st.category)}: {st.message}"))
            self.conn_status.setStyleSheet(f"color: {colour(_level(st.category)).name()}")

    def _say(self, text: str, level: str = "ok") -> None:
        self.message.setText(_breakable(text))
        self.message.setStyleSheet(f"color: {colour(level).name()}" if level != "ok" else "")

    def _hide_key(self) -> None:
        self.revealed_for = ""
        self.key_text.clear()
        self.key_text.setVisible(False)
        self.key_mask.setText(MASK)
        self.reveal_btn.setText(_("Reveal"))

    # ---- background work -------------------------------------------------------------------
    def _run(
        self,
        what: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        *,
        checks: bool = False,
        on_error: Callable[[BaseException], bool] | None = None,
    ) -> None:
        """fn in a worker; on_error(exc) may handle a failure itself (returns True then)."""
        self.busy = True
        self._say(what, "running")
        self._show_selected()

        def done(value: Any) -> None:
            self.busy = False
            on_done(value)
            self._show_selected()

        def failed(exc: BaseException) -> None:
            self.busy = False
            if on_error is not None and on_error(exc):
                return
            self.reload()
            self._say(error_text(exc), "error")

        self.task = self.ctx.run_in_background(fn, done, failed, checks=checks)

    def _saved(self, select: str | None, message: str) -> None:
        self.reload(select)
        self._say(message)
        self.ctx.refresh()

    def _put_draft(self, items: list[dict[str, Any]], select: str | None, message: str) -> None:
        assert self.draft is not None
        self.draft.set_structured(kata.CONNECTIONS, items)
        self.draft.note(NOTE_KEY, self._draft_summary(items))
        self.reload(select)
        self._say(message)

    def _draft_summary(self, items: list[dict[str, Any]]) -> list[str]:
        assert self.draft is not None
        before = {c["id"]: c for c in kata.connections(self.draft.stored)}
        after = {c["id"]: c for c in items}
        added = [i for i in after if i not in before]
        removed = [i for i in before if i not in after]
        renewed = [i for i in after if i in before and after[i]["fingerprint"] != before[i]["fingerprint"]]
        moved = [
            i
            for i in after
            if i in before and (after[i]["host"], after[i]["port"]) != (before[i]["host"], before[i]["port"])
        ]
        parts = [
            f"{len(x)} {word}"
            for x, word in (
                (added, "added"),
                (removed, "removed"),
                (renewed, _("new certificate(s)")),
                (moved, "moved"),
            )
            if x
        ]
        return [_("KATA connections: {items}").format(items=", ".join(parts))] if parts else []

    # ---- actions --------------------------------------------------------------------------
    def add(self) -> None:
        items = self.items()
        dlg = ConnectionDialog(self, items, in_vault=self._in_vault)
        if not self.prompts.dialog(dlg) or dlg.result_values is None:
            return
        host, port, key_type = dlg.result_values
        what = _("Generating the {key_type} key and certificate for {host}…").format(
            key_type=key_type, host=host
        )
        if self.draft is None:
            ws, tid = self.ctx.workspace, self.ctx.tenant_id
            self._run(
                what,
                lambda: kata.add_connection(ws, tid, host, port, key_type),
                lambda conn: self._saved(conn["id"], self._added_text(conn)),
            )
            return

        def made(result: tuple[dict[str, Any], str]) -> None:
            conn, key_pem = result
            assert self.draft is not None
            self.draft.set_secret(kata.secret_name(conn["id"]), key_pem)
            self._put_draft(
                [*self.items(), conn],
                conn["id"],
                self._added_text(conn) + _(" It is saved when you finish the wizard."),
            )

        self._run(what, lambda: kata.new_connection(items, host, port, key_type), made)

    @staticmethod
    def _added_text(conn: dict[str, Any]) -> str:
        return _(
            "Connection to {target} added with XDR ID {id}. Check the connection, "
            "then ask the KATA administrator to accept the request with fingerprint "
            "{fingerprint}."
        ).format(
            target=kata.target_of(conn),
            id=conn["id"],
            fingerprint=format_fingerprint(conn["fingerprint"]),
        )

    def edit(self) -> None:
        conn = self.selected()
        if conn is None:
            return
        dlg = ConnectionDialog(self, self.items(), conn, in_vault=self._in_vault)
        if not self.prompts.dialog(dlg) or dlg.result_values is None:
            return
        host, port, _key = dlg.result_values
        if self.draft is None:
            ws, tid = self.ctx.workspace, self.ctx.tenant_id

            def save(keep: bool) -> None:
                self._run(
                    _("Saving…"),
                    lambda: kata.edit_connection(
                        ws, tid, conn["id"], host=host, port=port, keep_secrets=keep
                    ),
                    lambda c: self._saved(
                        c["id"],
                        _("The connection now goes to {target}.").format(target=kata.target_of(c)),
                    ),
                    on_error=None if keep else refused,
                )

            def refused(exc: BaseException) -> bool:
                # Its private key would be presented to the new target: only if the user says so.
                if not isinstance(exc, SecretsWouldFollow):
                    return False
                if self.prompts.confirm_follow(exc.following):
                    save(True)
                else:
                    self.reload(conn["id"])
                    self._say(
                        _("Nothing was saved: the connection still goes to {target}.").format(
                            target=kata.target_of(conn)
                        ),
                        "error",
                    )
                return True

            save(False)
            return
        items, moved = kata.moved(self.items(), conn["id"], host, port)
        self.local_status.pop(conn["id"], None)
        self._put_draft(
            items,
            moved["id"],
            _("The connection now goes to {target}.").format(target=kata.target_of(moved)),
        )

    def delete(self) -> None:
        conn = self.selected()
        if conn is None:
            return
        if not self.prompts.confirm(
            _("Delete connection"),
            _("Delete the KATA connection to {target}?").format(target=kata.target_of(conn)),
            [
                f"XDR ID {conn['id']}",
                _(
                    "Its private key is deleted from the vault; KATA will no "
                    "longer accept requests from this XDR ID unless the key is restored."
                )
                if self._in_vault
                else _(
                    "Its private key is deleted from the OS keyring; KATA will no "
                    "longer accept requests from this XDR ID unless the key is restored."
                ),
            ],
        ):
            return
        name = kata.secret_name(conn["id"])
        if self.draft is None:
            ws, tid = self.ctx.workspace, self.ctx.tenant_id
            self._run(
                _("Deleting…"),
                lambda: kata.remove_connection(ws, tid, conn["id"]),
                lambda c: self._saved(
                    None,
                    _("Deleted the connection to {target} and its key.").format(target=kata.target_of(c)),
                ),
            )
            return
        if self.draft.has_stored_secret(name):
            self.draft.set_secret(name, None)
        else:
            self.draft.secrets.pop(name, None)
        self.local_status.pop(conn["id"], None)
        self._put_draft(
            [c for c in self.items() if c["id"] != conn["id"]],
            None,
            _("The connection to {target} will be deleted when you finish the wizard.").format(
                target=kata.target_of(conn)
            ),
        )

    def regenerate(self) -> None:
        conn = self.selected()
        if conn is None:
            return
        if not self.prompts.confirm(
            _("Generate a new certificate"),
            _("Generate a new private key and certificate for this connection?"),
            [
                _(
                    "The current key is deleted and the KATA administrator must accept the connection "
                    "again (the fingerprint changes)."
                ),
                _("XDR ID {id} stays the same.").format(id=conn["id"]),
            ],
        ):
            return
        what = _("Generating a new key and certificate…")
        if self.draft is None:
            ws, tid = self.ctx.workspace, self.ctx.tenant_id
            self._run(
                what,
                lambda: kata.regenerate(ws, tid, conn["id"]),
                lambda c: self._saved(c["id"], self._renewed_text(c)),
            )
            return
        items = self.items()

        def made(result: tuple[list[dict[str, Any]], dict[str, Any], str]) -> None:
            new_items, new, key_pem = result
            assert self.draft is not None
            self.draft.set_secret(kata.secret_name(new["id"]), key_pem)
            self.local_status.pop(new["id"], None)
            self._put_draft(new_items, new["id"], self._renewed_text(new))

        self._run(what, lambda: kata.regenerated(items, conn["id"]), made)

    @staticmethod
    def _renewed_text(conn: dict[str, Any]) -> str:
        return _(
            "New key and certificate generated; ask the KATA administrator to accept "
            "the request with fingerprint {fingerprint}."
        ).format(fingerprint=format_fingerprint(conn["fingerprint"]))

    def toggle_reveal(self) -> None:
        conn = self.selected()
        if conn is None:
            return
        if self.revealed_for == conn["id"]:
            self._hide_key()
            return
        if not self.prompts.confirm(
            _("Show the private key"),
            _("Show the private key of the connection to {target} on screen?").format(
                target=kata.target_of(conn)
            ),
            [
                _(
                    "Anyone who can see the screen, or a screenshot of it, can use the key to "
                    "act as this XDR ID towards KATA."
                ),
                _("Hide it again when you are done."),
            ],
        ):
            return
        name = kata.secret_name(conn["id"])
        typed = self.draft.secrets.get(name) if self.draft is not None else None
        if typed:
            self._show_key(conn["id"], typed)
            return
        ws, tid = self.ctx.workspace, self.ctx.tenant_id
        if self.draft is not None and not self.draft.has_stored_secret(name):
            self._say(_("This connection has no private key stored; generate a new one."), "error")
            return
        self._run(
            _("Reading the private key from the vault…")
            if self._in_vault
            else _("Reading the private key from the OS keyring…"),
            lambda: kata.private_key(ws, tid, conn["id"]),
            lambda key: self._show_key(conn["id"], key),
        )

    def _show_key(self, xdr_id: str, key_pem: str | None) -> None:
        if not key_pem:
            self._say(
                _("The private key is not in the vault (e.g. after an import); generate a new one.")
                if self._in_vault
                else _(
                    "The private key is not in the OS keyring (e.g. after an import); generate a new one."
                ),
                "error",
            )
            return
        current = self.selected()
        if current is None or current["id"] != xdr_id:
            return
        self.revealed_for = xdr_id
        self.key_text.setPlainText(key_pem)
        self.key_text.setVisible(True)
        self.key_mask.setText(_("shown below — hide it when you are done"))
        self.reveal_btn.setText(_("Hide"))
        self._say(_("The private key is shown; hide it when you are done."), "warning")

    def copy_fingerprint(self) -> None:
        conn = self.selected()
        if conn is not None:
            QGuiApplication.clipboard().setText(format_fingerprint(conn["fingerprint"]))
            self._say(_("SHA-256 fingerprint copied to the clipboard."))

    def export(self) -> None:
        conn = self.selected()
        if conn is None:
            return
        path = self.prompts.save_file(
            _("Export certificate"),
            f"xdr-{conn['id']}.pem",
            _("PEM certificate (*.pem *.crt);;DER certificate (*.der *.cer)"),
        )
        if not path:
            return
        der = Path(path).suffix.lower() in (".der", ".cer")
        data = kata.export_certificate(conn, der=der)

        def write() -> str:
            Path(path).write_bytes(data)
            return path

        self._run(
            _("Writing the certificate…"),
            write,
            lambda p: self._say(
                _("Certificate written to {path} ({format}).").format(path=p, format="DER" if der else "PEM")
            ),
        )

    def set_enabled(self, on: bool) -> None:
        ws, tid = self.ctx.workspace, self.ctx.tenant_id
        self._run(
            _("Saving…"),
            lambda: ws.set_enabled(tid, kata.KIND, on),
            lambda _unused: self._saved(
                None, _("KATA integration turned on.") if on else _("KATA integration turned off.")
            ),
        )

    def check(self, *, only_selected: bool) -> None:
        conn = self.selected() if only_selected else None
        if only_selected and conn is None:
            return
        params = {"connection": conn["id"]} if conn else {}
        ws, tid = self.ctx.workspace, self.ctx.tenant_id
        draft = self.draft
        if draft is not None:
            state, typed = draft.draft_state(), draft.typed_secrets()
            # A connection's key goes to its own connection's target only, unless the user says so.
            moving = draft_followers(ws, tid, kata.KIND, state, typed)
            keep = bool(moving) and self.prompts.confirm_follow(moving, running=True)

            def probe() -> list[CheckResult]:
                return run_operation(
                    ws, tid, kata.KIND, params=params, draft=state, draft_secrets=typed, keep_secrets=keep
                )
        else:

            def probe() -> list[CheckResult]:
                results = run_operation(ws, tid, kata.KIND, params=params)
                if not ws.readonly:
                    kata.record_results(ws, tid, results)
                return results

        self._run(_("Checking…"), probe, self._checked, checks=True)

    def _checked(self, results: list[CheckResult]) -> None:
        if self.draft is not None:  # a check of unsaved settings is shown, not kept
            for r in results:
                if r.connection:
                    self.local_status[r.connection] = kata.Status(r.category.value, r.message, r.checked_at)
        self.reload()
        bad = [r for r in results if not r.ok]
        if not results:
            return
        if len(results) == 1:
            self._say(
                f"{category_words(results[0].category)}: {results[0].message}",
                _level(results[0].category.value),
            )
        else:
            self._say(
                ngettext(
                    "{good} of {n} connection ok.", "{good} of {n} connections ok.", len(results)
                ).format(good=len(results) - len(bad), n=len(results)),
                "error" if bad else "ok",
            )
        if self.draft is None:
            self.ctx.refresh()


class KataConnectionsPage(QWizardPage):
    """The wizard page: the connection list of the draft."""

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__()
        self.setTitle(_("KATA/KEDR — connections"))
        self.setSubTitle(
            _(
                "Add a connection for each KATA Central Node. Each gets an XDR ID, a private key and "
                "a client certificate; the KATA administrator accepts it by its SHA-256 fingerprint."
            )
        )
        self.widget = KataConnectionsWidget(ctx, self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.widget)


def wizard_pages(ctx: IntegrationUiContext) -> list[QWizardPage]:
    return [KataConnectionsPage(ctx)] + [ctx.form_page(page) for page in ctx.spec.pages]


def panel(ctx: IntegrationUiContext) -> QWidget:
    return KataConnectionsWidget(ctx, ctx.parent)
