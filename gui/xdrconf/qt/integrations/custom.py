"""Custom integration in the tenant wizard: the seed's settings section — Remote host
verification (toggle + public key with its live type and SHA256 fingerprint or the reason
it is refused), Remote host connection (host, ports, SSH authentication method, user name
and the password or the private key with its passphrase), and Check connection, which
offers "Pin this key" when verification is off. The "Custom integration" on/off toggle is
the wizard's closing page ("Turn Custom integration on for this tenant"), one toggle for all.

Secrets are entered as everywhere else in the wizard: masked, never shown back; with a
stored one, "stored — leave empty to keep" until Replace. A typed key is decrypted with
its passphrase in a worker (decrypting an OpenSSH key runs bcrypt)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ...core.catalog import ValidationContext
from ...core.errors import ValidationError
from ...core.files import read_user_file
from ...core.i18n import N_, _
from ...core.integrations.custom.keys import (
    PassphraseNeeded,
    PassphraseWrong,
    load_private_key,
    parse_private_key_field,
    parse_public_key,
)
from ...core.outcome import CheckResult
from ..dialogs import Prompts, error_text
from ..icons import colour
from . import IntegrationUiContext

OK_COLOUR = colour("ok").name()
ERROR_COLOUR = colour("error").name()
WARN_COLOUR = "#8a5a00"
COMPARE_HINT = N_(
    "Compare it with the fingerprint the host's administrator reads with "
    "<code>ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub</code>, then pin it."
)


def _mono(widget: QWidget) -> None:
    widget.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))


def _status(label: QLabel, ok: bool | None, text: str) -> None:
    """ok True: green tick; False: red cross; None: neutral hint."""
    if ok is None:
        label.setText(f"<span style='color:#555'>{html.escape(text)}</span>")
    else:
        mark, c = ("✓", OK_COLOUR) if ok else ("✗", ERROR_COLOUR)
        label.setText(f"<span style='color:{c}'>{mark} {html.escape(text)}</span>")


def describe_public_key(text: str) -> tuple[bool | None, str]:
    """(state, sentence) for the live line under the public key box."""
    if not text.strip():
        return None, _("Paste the host's public key or load its .pub file.")
    try:
        info = parse_public_key(text, _("Public key"))
    except ValidationError as exc:
        return False, exc.problem[:1].upper() + exc.problem[1:] + "."
    return True, info.describe()


def _read_text_file(path: str) -> str:
    """A key file: a regular text file of at most 64 KiB (core.files)."""
    return read_user_file(_("Public key"), path, limit=64 * 1024)


class CustomIntegrationPage(QWizardPage):
    """The whole Custom integration section on one wizard page."""

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__(ctx.parent)
        assert ctx.draft is not None, "the custom integration page lives in the wizard"
        from ..checks_ui import CheckConnectionBox

        self.ctx = ctx
        self.draft = ctx.draft
        self.prompts = Prompts(self)
        self.setObjectName("customIntegrationPage")
        self.setTitle(_("Custom integration"))
        self.setSubTitle(
            _(
                "The device on which third-party scripts are launched over SSH when a "
                "playbook responds to an alert or incident."
            )
        )
        outer = QVBoxLayout(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(scroll)
        lay = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll)

        # -- Remote host verification -------------------------------------------------------
        verification = QGroupBox(_("Remote host verification"), body)
        vlay = QVBoxLayout(verification)
        self.verify = QCheckBox(_("Verify the host before connecting"), verification)
        self.verify.setObjectName("verifyHost")
        self.verify.setChecked(self._initial("verify_host") != "false")
        vlay.addWidget(self.verify)
        key_row = QHBoxLayout()
        key_label = QLabel(_("Public key"), verification)
        self.load_public = QPushButton(_("Load from file…"), verification)
        self.load_public.clicked.connect(self._load_public_key)
        self.read_public = QPushButton(_("Read from host…"), verification)
        self.read_public.setObjectName("readHostKeys")
        self.read_public.setToolTip(
            _(
                "Read the keys the host presents over SSH, without logging in "
                "(like ssh-keyscan); compare the fingerprint before using one."
            )
        )
        self.read_public.clicked.connect(self.read_host_keys)
        key_row.addWidget(key_label)
        key_row.addStretch(1)
        key_row.addWidget(self.read_public)
        key_row.addWidget(self.load_public)
        vlay.addLayout(key_row)
        self.public_key = QPlainTextEdit(verification)
        self.public_key.setObjectName("hostPublicKey")
        self.public_key.setPlaceholderText(
            _("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…   (the host's /etc/ssh/ssh_host_ed25519_key.pub)")
        )
        self.public_key.setFixedHeight(64)
        self.public_key.setTabChangesFocus(True)
        _mono(self.public_key)
        self.public_key.setPlainText(self._initial("host_public_key"))
        key_label.setBuddy(self.public_key)
        vlay.addWidget(self.public_key)
        self.key_info = QLabel(verification)
        self.key_info.setObjectName("publicKeyInfo")
        self.key_info.setWordWrap(True)
        self.key_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        vlay.addWidget(self.key_info)
        self.unverified_warning = QLabel(
            _(
                "The host will NOT be verified: anyone on the network path could pose as it and "
                "receive the password or key login."
            ),
            verification,
        )
        self.unverified_warning.setWordWrap(True)
        self.unverified_warning.setStyleSheet(f"color:{ERROR_COLOUR}")
        self.acknowledge = QCheckBox(_("I understand; connect without verifying the host"), verification)
        self.acknowledge.setObjectName("acknowledgeUnverified")
        vlay.addWidget(self.unverified_warning)
        vlay.addWidget(self.acknowledge)
        lay.addWidget(verification)

        # -- Remote host connection ----------------------------------------------------------
        from ..editors import FieldsForm, LineEditor, SecretEditor, SecretTextEditor

        connection = QGroupBox(_("Remote host connection"), body)
        clay = QVBoxLayout(connection)
        method_row = QWidget(connection)
        mlay = QHBoxLayout(method_row)
        mlay.setContentsMargins(0, 0, 0, 0)
        self.by_password = QRadioButton(_("User name and password"), method_row)
        self.by_password.setObjectName("authPassword")
        self.by_key = QRadioButton(_("SSH key"), method_row)
        self.by_key.setObjectName("authKey")
        self.methods = QButtonGroup(connection)
        self.methods.addButton(self.by_password)
        self.methods.addButton(self.by_key)
        (self.by_key if self._initial("auth") == "key" else self.by_password).setChecked(True)
        mlay.addWidget(self.by_password)
        mlay.addWidget(self.by_key)
        mlay.addStretch(1)
        self.draft.set_value("auth", self.method)
        self.form = FieldsForm(
            ctx,
            (
                "host",
                "ports",
                (_("SSH authentication method:"), method_row),
                "username",
                "password",
                "private_key",
                "key_passphrase",
                "test_command",
            ),
            connection,
        )
        clay.addWidget(self.form)
        editors = self.form.editors
        lines = {n: e for n, e in editors.items() if isinstance(e, LineEditor)}
        self.host = lines["host"].edit
        self.ports = lines["ports"].edit
        self.username = lines["username"].edit
        self.test_command = lines["test_command"].edit
        password, key, passphrase = editors["password"], editors["private_key"], editors["key_passphrase"]
        assert isinstance(password, SecretEditor) and isinstance(passphrase, SecretEditor)
        assert isinstance(key, SecretTextEditor)
        self.password, self.private_key, self.key_passphrase = password, key, passphrase
        lay.addWidget(connection)
        self.key_task: Any = None
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(300)
        self._key_timer.timeout.connect(self._verify_key)

        # -- Check connection ------------------------------------------------------------------
        status = QGroupBox(_("Connection status"), body)
        slay = QVBoxLayout(status)
        self.check_box = CheckConnectionBox(ctx, status)
        self.check_box.checked.connect(self._checked)
        slay.addWidget(self.check_box)
        self.pin_text = QLabel(status)
        self.pin_text.setWordWrap(True)
        self.pin_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        slay.addWidget(self.pin_text)
        self.pin_button = QPushButton(_("Pin this key"), status)
        self.pin_button.setObjectName("pinButton")
        self.pin_button.clicked.connect(self.pin_seen_key)
        slay.addWidget(self.pin_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.check_gate = QLabel(status)
        self.check_gate.setWordWrap(True)
        self.check_gate.setStyleSheet(f"color:{WARN_COLOUR}")
        slay.addWidget(self.check_gate)
        self.seen_key: str | None = None
        lay.addWidget(status)

        self.page_error = QLabel(body)
        self.page_error.setObjectName("pageError")
        self.page_error.setWordWrap(True)
        self.page_error.setStyleSheet(f"color:{ERROR_COLOUR}")
        lay.addWidget(self.page_error)
        lay.addStretch(1)

        self.form.edited.connect(self._form_edited)
        self.form.validity_changed.connect(self.completeChanged.emit)
        self.public_key.textChanged.connect(self._public_key_changed)
        self.verify.toggled.connect(self._verify_changed)
        self.acknowledge.toggled.connect(self._gate_check)
        self._public_key_changed()
        self._verify_changed(self.verify.isChecked(), initial=True)
        self._method_changed()
        self.by_password.toggled.connect(self._method_changed)
        self._show_pin(None)
        self._gate_check()

    # ---- draft plumbing --------------------------------------------------------------------
    def _initial(self, name: str) -> str:
        if name in self.draft.values:
            value = self.draft.values[name]
            return "" if value is None else str(value)
        return self.draft.stored_text(name)

    def _set(self, name: str, text: Any) -> None:
        self.draft.set_value(name, text)
        self.page_error.setText("")

    def _public_key_changed(self) -> None:
        text = self.public_key.toPlainText()
        ok, sentence = describe_public_key(text)
        _status(self.key_info, ok, sentence)
        self._set("host_public_key", text)

    def _verify_changed(self, on: bool, initial: bool = False) -> None:
        self._set("verify_host", "true" if on else "false")
        self.public_key.setEnabled(on)
        self.load_public.setEnabled(on)
        self.read_public.setEnabled(on)
        self.unverified_warning.setVisible(not on)
        self.acknowledge.setVisible(not on)
        if not initial:
            self.acknowledge.setChecked(False)
        elif not on:
            self.acknowledge.setChecked(True)  # saved that way knowingly before
        if hasattr(self, "check_box"):
            self._gate_check()

    @property
    def method(self) -> str:
        return "password" if self.by_password.isChecked() else "key"

    def _method_changed(self, *_unused: Any) -> None:
        self._set("auth", self.method)
        self.form.revalidate()  # shows the password, or the key and its passphrase

    def _form_edited(self, name: str) -> None:
        self.page_error.setText("")
        if name in ("private_key", "key_passphrase"):
            self.form.external.pop("key_passphrase", None)
            self._key_timer.start()

    def key_timer_active(self) -> bool:
        """A typed key or passphrase waits to be checked (the check starts after a pause)."""
        return self._key_timer.isActive()

    def _verify_key(self) -> None:
        """A typed private key is decrypted with the typed passphrase in a worker (bcrypt
        is slow); a passphrase that does not open it is shown under the passphrase."""
        key, passphrase = self.private_key.value(), self.key_passphrase.value()
        if not key.strip() or "key_passphrase" in self.form.external:
            return
        try:
            parse_private_key_field(key, _("Private key"))
        except ValidationError:
            return  # the field shows why

        def verify() -> str:
            try:
                load_private_key(key, passphrase or None)
            except PassphraseNeeded:
                return _("the key is encrypted; enter its passphrase")
            except PassphraseWrong:
                return _("does not decrypt this key; enter the right one")
            return ""

        def done(problem: str) -> None:
            self.key_task = None
            if (key, passphrase) != (self.private_key.value(), self.key_passphrase.value()):
                return  # typed on meanwhile; a newer check follows
            if problem:
                self.form.external["key_passphrase"] = problem
            self.form.revalidate()

        self.key_task = self.ctx.run_in_background(verify, done, lambda exc: done(error_text(exc)))

    # ---- actions -------------------------------------------------------------------------------

    def _load_public_key(self) -> None:
        path = self.prompts.open_file(_("Host public key"), _("Public keys (*.pub);;All files (*)"))
        if path:
            self.ctx.run_in_background(lambda: _read_text_file(path), self.public_key.setPlainText)

    def read_host_keys(self) -> Any:
        """Read the host's keys in a worker and let the user choose one to paste."""
        from ...core.fields import parse_host, parse_ports
        from ...core.integrations.custom.ssh import read_host_keys

        try:
            host = parse_host(self.host.text(), _("IP address or host name"))
            ports = parse_ports(self.ports.text(), "Ports")
        except ValidationError as exc:
            _status(self.key_info, False, f"{exc}.")
            return None
        ws = self.ctx.workspace
        self.read_public.setEnabled(False)
        _status(self.key_info, None, _("Reading the host keys of {host}…").format(host=host))

        def done(found: Any) -> None:
            self.read_public.setEnabled(self.verify.isChecked())
            if found.failure is not None and not found.keys:
                _status(self.key_info, False, found.failure.message)
                return
            items = [f"{k.describe()}  —  {k.key_type}" for k in found.keys]
            chosen = self.prompts.choose(
                _("Host keys"),
                _(
                    "Keys presented by {host} on port {port}. They were read over the "
                    "network: compare the fingerprint with the one the host's administrator "
                    "gives you before using a key."
                ).format(host=host, port=found.port),
                items,
            )
            if chosen is None:
                self._public_key_changed()
                return
            self.public_key.setPlainText(found.keys[items.index(chosen)].line)

        def failed(exc: BaseException) -> None:
            self.read_public.setEnabled(self.verify.isChecked())
            _status(self.key_info, False, error_text(exc))

        return self.ctx.run_in_background(lambda: read_host_keys(ws, host, ports), done, failed, checks=True)

    def _show_pin(self, result: CheckResult | None) -> None:
        seen = result.details.get("seen_host_key") if result is not None else None
        offer = result is not None and bool(seen) and not result.details.get("verified", False)
        self.seen_key = seen if offer else None
        self.pin_button.setVisible(offer)
        self.pin_text.setVisible(offer)
        if offer and seen:
            info = parse_public_key(seen)
            self.pin_text.setText(
                _("<span style='color:{warn_colour}'>The host presented {key}. {compare_hint}</span>").format(
                    warn_colour=WARN_COLOUR, key=html.escape(info.describe()), compare_hint=COMPARE_HINT
                )
            )

    def _checked(self, results: list[CheckResult]) -> None:
        self._show_pin(results[0] if results else None)
        self._gate_check()

    def _gate_check(self, *_unused: Any) -> None:
        """With verification off, the check sends credentials to a host nobody verified:
        only after the user has said so knowingly."""
        allowed = self.verify.isChecked() or self.acknowledge.isChecked()
        if not self.check_box.running:
            self.check_box.button.setEnabled(allowed)
        self.check_gate.setVisible(not allowed)
        self.check_gate.setText(
            ""
            if allowed
            else _(
                "Verification is off: tick “I understand …” above to check anyway, or turn verification on."
            )
        )

    def pin_seen_key(self) -> None:
        if not self.seen_key:
            return
        self.verify.setChecked(True)
        self.public_key.setPlainText(self.seen_key)
        self._show_pin(None)

    # ---- QWizardPage ---------------------------------------------------------------------------
    def isComplete(self) -> bool:
        return not self.form.problems()

    def validatePage(self) -> bool:
        if self.form.problems():
            return False
        try:
            if self.draft.edit() is None:
                return True
            settings = self.draft.settings()
            present = {k for k in self.draft.stored.secrets if self.draft.secrets.get(k, "") is not None}
            present |= set(self.draft.typed_secrets())
            validate = self.ctx.spec.validate
            if validate is not None:
                validate(
                    settings, ValidationContext(self.ctx.tenant.is_root, frozenset(present), enabled=True)
                )
        except ValidationError as exc:
            self.page_error.setText(html.escape(f"{exc}."))
            return False
        if not self.verify.isChecked() and not self.acknowledge.isChecked():
            self.page_error.setText(
                _(
                    "Verification is off: tick “I understand; connect without "
                    "verifying the host”, or turn verification on and paste the key."
                )
            )
            return False
        self.page_error.setText("")
        return True


class HostVerificationPanel(QWidget):
    """Main window: how the SSH host is verified, and "Pin this key" for the key an
    unverified check saw (compare its fingerprint first)."""

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__(ctx.parent)
        self.ctx = ctx
        self.task: Any = None
        self.setObjectName("customPanel")
        self.setWindowTitle(_("SSH host verification"))
        lay = QVBoxLayout(self)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("verificationState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.state_label)
        self.pin_button = QPushButton(_("Pin this key"), self)
        self.pin_button.setObjectName("panelPinButton")
        self.pin_button.clicked.connect(self.pin)
        lay.addWidget(self.pin_button, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addStretch(1)
        self.update_view()

    def update_view(self) -> None:
        from ...core.integrations.custom import seen_host_key

        state = self.ctx.state
        settings = state.settings
        seen = seen_host_key(state) if settings.get("verify_host", True) is False else None
        if settings.get("verify_host", True) is False:
            text = _(
                "<span style='color:{error_colour}'><b>Host verification is off.</b> The "
                "host is not verified before the password or key login is sent.</span>"
            ).format(error_colour=ERROR_COLOUR)
            if seen:
                text += _("<br>The last check saw {key}. {compare_hint}").format(
                    key=html.escape(parse_public_key(seen).describe()), compare_hint=COMPARE_HINT
                )
            else:
                text += _("<br>Run Check connection to see the host's key, or set the key in the wizard.")
        elif settings.get("host_public_key"):
            info = parse_public_key(settings["host_public_key"])
            text = _(
                "<span style='color:{ok_colour}'>✓ Host verified against the pinned key</span> {key}."
            ).format(ok_colour=OK_COLOUR, key=html.escape(info.describe()))
        else:
            text = _("No host key is pinned yet; set it in the wizard.")
        self.state_label.setText(text)
        self.seen = seen
        self.pin_button.setVisible(bool(seen))
        self.pin_button.setEnabled(not self.ctx.workspace.readonly)

    def pin(self) -> Any:
        from ...core.workspace import IntegrationEdit

        if not self.seen or self.task is not None:
            return None
        line, ws, tid = self.seen, self.ctx.workspace, self.ctx.tenant_id
        self.pin_button.setEnabled(False)

        def work() -> None:
            ws.update_integration(
                tid, IntegrationEdit("custom", values={"verify_host": "true", "host_public_key": line})
            )

        def done(_unused: Any) -> None:
            self.task = None
            self.update_view()
            self.ctx.refresh()

        def failed(exc: BaseException) -> None:
            self.task = None
            self.update_view()
            self.ctx.show_error(exc)

        self.task = self.ctx.run_in_background(work, done, failed)
        return self.task


def wizard_pages(ctx: IntegrationUiContext) -> list[QWizardPage]:
    return [CustomIntegrationPage(ctx)]


def panel(ctx: IntegrationUiContext) -> QWidget:
    return HostVerificationPanel(ctx)
