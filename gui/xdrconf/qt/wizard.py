"""The tenant wizard: an opening page (the tenant, which integrations to set up), the
pages of each chosen integration, then a summary of what will change. Finish applies
every change at once (Workspace.update_integrations in a worker); Cancel changes nothing.

Form pages are generated from the integration's spec (SpecFormPage) unless the
integration's Qt module supplies its own (see xdrconf.qt.integrations). Every integration
ends with a closing page: the on/off toggle, the spec's check notice and "Check connection"."""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ..core import catalog
from ..core.catalog import Page, ValidationContext
from ..core.errors import ValidationError, XdrconfError
from ..core.fields import Field
from . import integrations, workers
from .checks_ui import CheckConnectionBox
from .dialogs import error_text, show_error
from .integrations import IntegrationDraft, IntegrationUiContext

if TYPE_CHECKING:
    from ..core.workspace import Workspace

log = logging.getLogger(__name__)
MAX_PEM_FILE = 1_000_000
REASON_STYLE = "color:#b00020"
HELP_STYLE = "color:#666"


def read_text_file(path: str, label: str) -> str:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_PEM_FILE:
            raise ValidationError(label, f"{p.name} is larger than 1 MB; choose the PEM file itself")
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(label, f"{p.name} is not a text (PEM) file") from None
    except OSError as exc:
        raise ValidationError(label, f"{p.name} could not be read ({exc.strerror})") from None


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

        return Prompts(self).open_file(title, "PEM files (*.pem *.crt *.cer *.key);;All files (*)")

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError


class LineEditor(FieldEditor):
    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(f.placeholder)
        self.edit.textChanged.connect(lambda _: self.changed.emit())
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
        self.spin.valueChanged.connect(lambda _: self.changed.emit())
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
            self.combo.addItem("(not set)", "")
        for value, label in f.choices:
            self.combo.addItem(label, value)
        self.combo.currentIndexChanged.connect(lambda _: self.changed.emit())
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
        self.box = QCheckBox(f.extra.get("text", ""), self)
        self.box.toggled.connect(lambda _: self.changed.emit())
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
        self.text.setPlaceholderText(f.placeholder)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFixedHeight(110)
        font = self.text.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.text.setFont(font)
        self.text.textChanged.connect(self.changed.emit)
        side = QVBoxLayout()
        self.load_button = QPushButton("Load from file…", self)
        self.load_button.clicked.connect(self.load)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.clicked.connect(self.text.clear)
        side.addWidget(self.load_button)
        side.addWidget(self.clear_button)
        side.addStretch(1)
        self.lay.addWidget(self.text, 1)
        self.lay.addLayout(side)
        self.error = ""

    def load(self) -> None:
        path = self.pick_file(f"Load {self.field.label}")
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


class SecretEditor(FieldEditor):
    """Masked, never pre-filled. With a stored secret the field stays empty ("stored —
    leave empty to keep") until Replace; an empty field keeps the stored secret."""

    def __init__(self, f: Field, stored: bool, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.stored = stored
        self.edit = QLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText(
            "stored — leave empty to keep" if stored else (f.placeholder or "not stored yet")
        )
        self.edit.textChanged.connect(lambda _: self.changed.emit())
        self.lay.addWidget(self.edit, 1)
        self.replace_button = QPushButton("Replace", self)
        self.replace_button.setObjectName("replaceButton")
        self.replace_button.setCheckable(True)
        self.replace_button.toggled.connect(self._replace)
        self.replace_button.setVisible(stored)
        self.lay.addWidget(self.replace_button)
        self.edit.setEnabled(not stored)

    def _replace(self, on: bool) -> None:
        self.edit.setEnabled(on)
        self.replace_button.setText("Keep stored" if on else "Replace")
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
    """A multi-line secret (a private key): loaded from a file or pasted, never shown."""

    def __init__(self, f: Field, stored: bool, parent: QWidget | None = None) -> None:
        super().__init__(f, parent)
        self.stored = stored
        self._value = ""
        self.status = QLabel(self)
        self.lay.addWidget(self.status, 1)
        self.load_button = QPushButton("Load from file…", self)
        self.load_button.clicked.connect(self.load)
        self.paste_button = QPushButton("Paste", self)
        self.paste_button.clicked.connect(self.paste)
        self.clear_button = QPushButton("Keep stored" if stored else "Clear", self)
        self.clear_button.clicked.connect(lambda: self.set_value(""))
        for b in (self.load_button, self.paste_button, self.clear_button):
            self.lay.addWidget(b)
        self._show()

    def _show(self) -> None:
        if self._value:
            lines = self._value.strip().count("\n") + 1
            self.status.setText(f"new value entered ({lines} lines, hidden)")
        else:
            self.status.setText("stored — leave as is to keep" if self.stored else "not stored yet")

    def load(self) -> None:
        path = self.pick_file(f"Load {self.field.label}")
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


def make_editor(f: Field, draft: IntegrationDraft) -> FieldEditor:
    if f.kind == "secret":
        return SecretEditor(f, draft.has_stored_secret(f.name))
    if f.kind == "secret_text":
        return SecretTextEditor(f, draft.has_stored_secret(f.name))
    if f.kind == "choice":
        return ChoiceEditor(f)
    if f.kind == "bool":
        return BoolEditor(f)
    if f.kind == "pem" or f.multiline:
        return PemEditor(f)
    if f.kind == "int" and f.minimum is not None and f.maximum is not None and f.default is not None:
        return SpinEditor(f)
    return LineEditor(f)


# ---- pages -------------------------------------------------------------------------------------
class SpecFormPage(QWizardPage):
    """A form page generated from one core Page of an integration's spec."""

    def __init__(self, ctx: IntegrationUiContext, page: Page, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert ctx.draft is not None
        self.ctx = ctx
        self.draft = ctx.draft
        self.core_page = page
        self.setTitle(page.title)
        self.setSubTitle(page.subtitle)
        self.editors: dict[str, FieldEditor] = {}
        self.reasons: dict[str, QLabel] = {}
        self._labels: dict[str, QLabel] = {}
        self._problems: dict[str, str] = {}
        outer = QVBoxLayout(self)
        self.form = QGridLayout()
        self.form.setColumnStretch(1, 1)
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(2)
        tenant_is_root = ctx.tenant.is_root
        row = 0
        for name in page.fields:
            f = ctx.spec.field(name)
            editor = make_editor(f, self.draft)
            label = QLabel(f.label + (" *" if f.required else "") + ":", self)
            label.setBuddy(editor)
            label.setToolTip(f.help)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            label.setContentsMargins(0, 4, 0, 0)
            reason = QLabel(self)
            reason.setObjectName(f"reason_{name}")
            reason.setWordWrap(True)
            reason.setTextFormat(Qt.TextFormat.PlainText)
            editor.setToolTip(f.help)
            if not f.secret:
                editor.set_value(self.draft.values.get(name, self.draft.stored_text(name)))
            if name in ctx.spec.root_only and not tenant_is_root:
                editor.setEnabled(False)
                f_help = "Set for the Root tenant only."
                reason.setProperty("help", f_help)
            else:
                reason.setProperty("help", f.help)
                editor.changed.connect(lambda name=name: self._changed(name))
            self.form.addWidget(label, row, 0)
            self.form.addWidget(editor, row, 1)
            self.form.addWidget(reason, row + 1, 1)
            self.form.setRowMinimumHeight(row + 2, 8)
            row += 3
            self.editors[name] = editor
            self.reasons[name] = reason
            self._labels[name] = label
        if "tls_pin_sha256" in page.fields:
            self.fetch_box = FetchCertificateBox(ctx, self.editors["tls_pin_sha256"], self)
            self.form.addWidget(self.fetch_box, row, 1)
        outer.addLayout(self.form)
        outer.addStretch(1)
        for name in self.editors:
            self._store(name)
        self._revalidate()

    def _store(self, name: str) -> None:
        f = self.ctx.spec.field(name)
        if name in self.ctx.spec.root_only and not self.ctx.tenant.is_root:
            return
        value = self.editors[name].value()
        if f.secret:
            self.draft.set_secret(name, value)
        else:
            self.draft.set_value(name, value)

    def _changed(self, name: str) -> None:
        self._store(name)
        self._revalidate()

    def _current_values(self) -> dict[str, Any]:
        values = dict(self.draft.stored.settings)
        for name, text in self.draft.values.items():
            with contextlib.suppress(ValidationError):
                values[name] = self.ctx.spec.field(name).parse(text)
        return values

    def problems(self) -> dict[str, str]:
        """Field name -> why its value is not acceptable (visible fields only)."""
        return dict(self._problems)

    def _revalidate(self) -> None:
        values = self._current_values()
        problems: dict[str, str] = {}
        for name, editor in self.editors.items():
            f = editor.field
            visible = f.visible(values)
            for w in (editor, self._labels[name], self.reasons[name]):
                w.setVisible(visible)
            if not visible or (not editor.isEnabled() and not f.secret):
                continue
            problem = ""
            raw = editor.value()
            if f.secret:
                if not raw:
                    if f.required and not self.draft.has_stored_secret(name):
                        problem = "is required"
                else:
                    try:
                        f.parse(raw)
                    except ValidationError as exc:
                        problem = exc.problem
            else:
                try:
                    f.parse(raw)
                except ValidationError as exc:
                    problem = exc.problem
            if problem:
                problems[name] = problem
            reason = self.reasons[name]
            if problem:
                reason.setText(problem)
                reason.setStyleSheet(REASON_STYLE)
            else:
                reason.setText(str(reason.property("help") or ""))
                reason.setStyleSheet(HELP_STYLE)
        self._problems = problems
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self._problems

    def validatePage(self) -> bool:
        # QWizard.next() called from code does not look at isComplete(): refuse here too.
        return not self._problems


class FetchCertificateBox(QWidget):
    """'Fetch certificate': a handshake-only connection to the host and port typed so far,
    showing subject, issuer, validity and SHA-256, with 'Pin this certificate'."""

    def __init__(
        self, ctx: IntegrationUiContext, pin_editor: FieldEditor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.pin_editor = pin_editor
        self.info: Any = None
        self.task: workers.Task | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 8, 0, 0)
        row = QHBoxLayout()
        self.button = QPushButton("Fetch certificate", self)
        self.button.setObjectName("fetchButton")
        self.button.clicked.connect(self.fetch)
        self.pin_button = QPushButton("Pin this certificate", self)
        self.pin_button.setObjectName("pinButton")
        self.pin_button.clicked.connect(self.pin)
        self.pin_button.setEnabled(False)
        row.addWidget(self.button)
        row.addWidget(self.pin_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.label = QLabel("Reads the server's certificate (TLS handshake only; nothing is sent).", self)
        self.label.setObjectName("certInfo")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet(HELP_STYLE)
        lay.addWidget(self.label)

    def _where(self) -> tuple[str, int]:
        assert self.ctx.draft is not None
        settings = self.ctx.draft.settings()
        if self.ctx.spec.cert_target is not None:
            found = self.ctx.spec.cert_target(settings)
            if found is None:
                raise ValidationError("Address", "enter the server's address on the earlier page first")
            return found
        host, port = settings.get("host"), settings.get("port")
        if not host and settings.get("url"):
            from urllib.parse import urlsplit

            parts = urlsplit(settings["url"])
            host, port = parts.hostname, parts.port or 443
        if not host or not port:
            raise ValidationError("Host", "enter the host and port on the earlier page first")
        return str(host), int(port)

    def fetch(self) -> None:
        from ..core.fields import host_port
        from ..core.net import NetConfig, classify_exception, fetch_certificate

        try:
            host, port = self._where()
        except XdrconfError as exc:
            self._say(str(exc), error=True)
            return
        timeout = NetConfig.from_app(self.ctx.workspace.app).timeout
        target = host_port(host, port)
        self.button.setEnabled(False)
        self.pin_button.setEnabled(False)
        self._say(f"Connecting to {target}…")

        def failed(exc: BaseException) -> None:
            self.button.setEnabled(True)
            try:
                category, message = classify_exception(exc, target, timeout)
                self._say(f"{category.value}: {message}", error=True)
            except Exception:  # noqa: BLE001
                self._say(error_text(exc), error=True)

        def done(info: Any) -> None:
            self.button.setEnabled(True)
            self.info = info
            self.pin_button.setEnabled(True)
            self.label.setStyleSheet("")
            lines = [html.escape(line) for line in info.lines() if not line.startswith("SHA-256:")]
            fp = info.fingerprint_display
            half = len(fp) // 2 + 1  # two lines of 16 bytes: a fingerprint has no break points
            lines.append(f"SHA-256: <tt>{fp[:half]}<br>{fp[half:]}</tt>")
            self.label.setText(
                "<br>".join(lines) + "<br><i>Compare the fingerprint with the one "
                "the server's administrator gives you before pinning it.</i>"
            )

        self.task = self.ctx.run_in_background(
            lambda: fetch_certificate(host, port, timeout), done, failed, checks=True
        )

    def pin(self) -> None:
        if self.info is not None:
            self.pin_editor.set_value(self.info.fingerprint_display)
            edit = getattr(self.pin_editor, "edit", None)
            if edit is not None:
                edit.setCursorPosition(0)

    def _say(self, text: str, error: bool = False) -> None:
        self.label.setStyleSheet(REASON_STYLE if error else HELP_STYLE)
        self.label.setText(html.escape(text))


class IntegrationClosingPage(QWizardPage):
    """The last page of an integration: on/off, what is still missing, Check connection."""

    def __init__(self, ctx: IntegrationUiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert ctx.draft is not None
        self.ctx = ctx
        self.draft = ctx.draft
        spec = ctx.spec
        self.setTitle(f"{spec.title} — turn on and check")
        self.setSubTitle(
            "Nothing is saved until you press Finish. The check uses what you "
            "entered, including secrets typed but not stored yet."
        )
        lay = QVBoxLayout(self)
        self.toggle = QCheckBox(f"Turn {spec.title} on for this tenant", self)
        self.toggle.setObjectName("enableToggle")
        saved = ctx.tenant.integrations.get(spec.kind)
        # A first set-up is turned on by default; otherwise it stays as it was.
        self.toggle.setChecked(saved.enabled if saved is not None and saved.configured else True)
        self.toggle.toggled.connect(self._toggled)
        lay.addWidget(self.toggle)
        self.reason = QLabel(self)
        self.reason.setObjectName("closingReason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet(REASON_STYLE)
        lay.addWidget(self.reason)
        lay.addSpacing(12)
        self.check_box = CheckConnectionBox(ctx, self)
        lay.addWidget(self.check_box, 1)

    def initializePage(self) -> None:
        self._toggled(self.toggle.isChecked())

    def _toggled(self, on: bool) -> None:
        self.draft.enabled = on
        self.reason.setText(self.problem())
        self.completeChanged.emit()

    def problem(self) -> str:
        """Why Finish would fail for this integration, or ''."""
        ws, tenant, spec = self.ctx.workspace, self.ctx.tenant, self.ctx.spec
        try:
            state = self.draft.draft_state()
        except XdrconfError as exc:
            return str(exc)
        for name in self.draft.typed_secrets():
            state.secrets.setdefault(name, "(typed)")
        if spec.validate is not None:
            try:
                spec.validate(state.settings, ValidationContext(tenant.is_root, frozenset(state.secrets)))
            except XdrconfError as exc:
                return str(exc)
        if self.toggle.isChecked():
            missing = ws.missing(tenant, spec.kind, state)
            if missing:
                return (
                    f"{spec.title} cannot be turned on until these are set: "
                    f"{', '.join(missing)}. Go Back to enter them, or leave it off."
                )
        return ""

    def isComplete(self) -> bool:
        return not self.problem()


class OpeningPage(QWizardPage):
    def __init__(self, wizard: TenantWizard) -> None:
        super().__init__(wizard)
        self.wiz = wizard
        ws, tid = wizard.ws, wizard.tenant_id
        self.setTitle(f"Tenant: {ws.tree.path(tid)}")
        self.setSubTitle(
            "Choose the integrations to set up for this tenant. Each one gets its "
            "own pages; a summary comes before anything is saved."
        )
        outer = QVBoxLayout(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        inner = QWidget(scroll)
        grid = QFormLayout(inner)
        grid.setVerticalSpacing(6)
        self.boxes: dict[str, QCheckBox] = {}
        tenant = ws.tree.get(tid)
        for spec in catalog.all_specs():
            box = QCheckBox(spec.title, inner)
            box.setObjectName(f"choose_{spec.kind}")
            if spec.supported:
                state = tenant.integrations.get(spec.kind)
                if state is None or not state.configured:
                    status = "not configured"
                else:
                    status = ("on" if state.enabled else "off") + ", configured"
                box.setToolTip(spec.description)
                box.toggled.connect(lambda on, kind=spec.kind: self._toggled(kind, on))
            else:
                box.setEnabled(False)
                status = "not yet supported"
            note = QLabel(status, inner)
            note.setStyleSheet(HELP_STYLE)
            grid.addRow(box, note)
            self.boxes[spec.kind] = box
        scroll.setWidget(inner)
        outer.addWidget(scroll)

    def _toggled(self, kind: str, on: bool) -> None:
        if on:
            try:
                self.wiz.ensure_pages(kind)
            except Exception as exc:
                log.exception("building the %s pages failed", kind)
                self.boxes[kind].setChecked(False)
                show_error(self, exc)
                return
        self.completeChanged.emit()

    def chosen(self) -> list[str]:
        return [k for k, box in self.boxes.items() if box.isChecked()]

    def isComplete(self) -> bool:
        return bool(self.chosen())


class SummaryPage(QWizardPage):
    def __init__(self, wizard: TenantWizard) -> None:
        super().__init__(wizard)
        self.wiz = wizard
        self.setTitle("Summary")
        self.setSubTitle("What Finish will change. Secret values are never shown.")
        lay = QVBoxLayout(self)
        self.text = QLabel(self)
        self.text.setObjectName("summaryText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.text)
        lay.addWidget(scroll, 1)
        self.error = QLabel(self)
        self.error.setObjectName("applyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(REASON_STYLE)
        lay.addWidget(self.error)
        self.lines: dict[str, list[str]] = {}

    def initializePage(self) -> None:
        self.error.setText("")
        self.lines = {kind: self.wiz.drafts[kind].summary() for kind in self.wiz.chosen()}
        parts = []
        for kind, lines in self.lines.items():
            title = html.escape(catalog.title_of(kind))
            if lines:
                items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
                parts.append(f"<p><b>{title}</b></p><ul style='margin-top:0'>{items}</ul>")
            else:
                parts.append(f"<p><b>{title}</b>: no changes.</p>")
        if not any(self.lines.values()):
            parts.append("<p>Nothing will change.</p>")
        self.text.setText("".join(parts))


class TenantWizard(QWizard):
    """Set up integrations of one tenant. `applied` is emitted after Finish saved."""

    applied = Signal()
    OPENING = 0
    SUMMARY = 1

    def __init__(
        self,
        ws: Workspace,
        tenant_id: str,
        *,
        start_kind: str | None = None,
        parent: QWidget | None = None,
        runner: Callable[..., workers.Task] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ws = ws
        self.tenant_id = tenant_id
        self.runner = runner
        self.drafts: dict[str, IntegrationDraft] = {}
        self.contexts: dict[str, IntegrationUiContext] = {}
        self.kind_pages: dict[str, list[int]] = {}
        self._next_id = 10
        self.applying = False
        self.setObjectName("tenantWizard")
        self.setWindowTitle(f"Set up integrations — {ws.tree.get(tenant_id).name}")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, False)
        self.resize(760, 600)
        self.opening = OpeningPage(self)
        self.summary = SummaryPage(self)
        self.setPage(self.OPENING, self.opening)
        self.setPage(self.SUMMARY, self.summary)
        if start_kind is not None:
            spec = catalog.spec_for(start_kind)
            if not spec.supported:
                raise ValidationError(spec.title, "is not yet supported and cannot be configured")
            self.opening.boxes[start_kind].setChecked(True)
            self.setStartId(self.kind_pages[start_kind][0])

    # ---- pages of the integrations --------------------------------------------------------
    def ensure_pages(self, kind: str) -> list[int]:
        if kind in self.kind_pages:
            return self.kind_pages[kind]
        spec = catalog.spec_for(kind)
        tenant = self.ws.tree.get(self.tenant_id)
        draft = IntegrationDraft.for_state(spec, tenant.integrations.get(kind))
        ctx = IntegrationUiContext(
            self.ws, self.tenant_id, kind, spec, parent=self, draft=draft, runner=self._runner
        )
        pages = integrations.wizard_pages(ctx)
        if pages is None:
            pages = [SpecFormPage(ctx, page) for page in spec.pages]
        pages.append(IntegrationClosingPage(ctx))
        ids = []
        for page in pages:
            self.setPage(self._next_id, page)
            ids.append(self._next_id)
            self._next_id += 1
        self.drafts[kind], self.contexts[kind], self.kind_pages[kind] = draft, ctx, ids
        return ids

    def _runner(
        self, fn: Callable[..., Any], on_done: Any = None, on_error: Any = None, **kw: Any
    ) -> workers.Task:
        if self.runner is not None:
            return self.runner(fn, on_done, on_error, **kw)
        checks = kw.pop("checks", False)
        pool = workers.check_pool() if checks else workers.general_pool()
        return workers.run_in_background(fn, on_done, on_error, pool=pool, owner=self, **kw)

    def chosen(self) -> list[str]:
        return self.opening.chosen()

    def sequence(self) -> list[int]:
        ids = [self.OPENING]
        for kind in self.chosen():
            ids.extend(self.ensure_pages(kind))
        ids.append(self.SUMMARY)
        return ids

    def nextId(self) -> int:
        seq = self.sequence()
        current = self.currentId()
        if current not in seq:
            return -1
        i = seq.index(current)
        return seq[i + 1] if i + 1 < len(seq) else -1

    def page_of(self, kind: str, n: int = 0) -> QWizardPage:
        return self.page(self.ensure_pages(kind)[n])

    # ---- finish ----------------------------------------------------------------------------
    def edits(self) -> list[Any]:
        out = []
        for kind in self.chosen():
            edit = self.drafts[kind].edit()
            if edit is not None:
                out.append(edit)
        return out

    def accept(self) -> None:
        if self.applying:
            return
        try:
            edits = self.edits()
        except XdrconfError as exc:
            self.summary.error.setText(str(exc))
            return
        if not edits:
            super().accept()
            return
        self.applying = True
        self._set_buttons(False)
        self.summary.error.setText("Saving…")
        tid = self.tenant_id

        def done(_: Any) -> None:
            self.applying = False
            self._set_buttons(True)
            self.applied.emit()
            QWizard.accept(self)

        def failed(exc: BaseException) -> None:
            self.applying = False
            self._set_buttons(True)
            self.summary.error.setText(f"Nothing was saved: {error_text(exc)}")

        self._runner(lambda: self.ws.update_integrations(tid, edits), done, failed)

    def _set_buttons(self, on: bool) -> None:
        for which in (
            QWizard.WizardButton.BackButton,
            QWizard.WizardButton.FinishButton,
            QWizard.WizardButton.CancelButton,
        ):
            self.button(which).setEnabled(on)

    def reject(self) -> None:
        if self.applying:
            return  # the save is under way; it either completes or changes nothing
        super().reject()
