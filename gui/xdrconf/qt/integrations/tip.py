"""Kaspersky TIP in the window: the settings page as the product describes it (Proxy for the
Root tenant only, Cache TTL in days or hours, one of the two services with what each
provides, Add token / Replace token) and the observable lookup panel. The logic lives in
xdrconf.core.tip_lookup and xdrconf.core.integrations.tip; this module arranges widgets."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ...core import tip_lookup
from ...core.errors import ValidationError
from ...core.integrations import tip as tip_spec
from ...core.outcome import Category
from ..icons import COLOURS
from . import IntegrationUiContext

ZONE_COLOURS = {
    "red": COLOURS["error"],
    "orange": COLOURS["warning"],
    "yellow": "#b8860b",
    "green": COLOURS["ok"],
}


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #555;")
    return label


# ---- the token: Add token / Replace token ----------------------------------------------------------
class TokenDialog(QDialog):
    """The window that opens from Add token / Replace token: one password field."""

    def __init__(self, parent: QWidget | None, title: str, label: str, replace: bool) -> None:
        super().__init__(parent)
        self.setObjectName("tokenDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(label))
        self.field = QLineEdit()
        self.field.setObjectName("tokenField")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setMinimumWidth(380)
        layout.addWidget(self.field)
        layout.addWidget(hint("The token is kept in the OS keyring only, never in the settings file."))
        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton(
            "Replace" if replace else "Add", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.ok.setEnabled(False)
        self.field.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def value(self) -> str:
        return self.field.text().strip()


class TokenRow(QWidget):
    """'Token: stored in the OS keyring' + Add token / Replace token. A typed token goes to
    the draft (on_new is told) and is never shown again."""

    def __init__(
        self, ctx: IntegrationUiContext, name: str, what: str, on_new: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.ctx, self.name, self.what, self.on_new = ctx, name, what, on_new
        self.dialog: TokenDialog | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.status = QLabel()
        self.status.setObjectName("tokenStatus")
        self.button = QPushButton()
        self.button.setObjectName("tokenButton")
        self.button.clicked.connect(self.open_dialog)
        row.addWidget(self.status, 1)
        row.addWidget(self.button)
        self.update_text()

    @property
    def stored(self) -> bool:
        assert self.ctx.draft is not None
        return self.ctx.draft.has_stored_secret(self.name)

    @property
    def typed(self) -> bool:
        assert self.ctx.draft is not None
        return bool(self.ctx.draft.secrets.get(self.name))

    def update_text(self) -> None:
        if self.typed:
            self.status.setText(f"{self.what}: a new one will be stored in the OS keyring on Finish.")
        elif self.stored:
            self.status.setText(f"{self.what}: stored in the OS keyring.")
        else:
            self.status.setText(f"{self.what}: not added yet.")
        has = self.stored or self.typed
        self.button.setText(f"Replace {self.what.lower()}…" if has else f"Add {self.what.lower()}…")

    def open_dialog(self) -> TokenDialog:
        replace = self.stored or self.typed
        verb = "Replace" if replace else "Add"
        self.dialog = TokenDialog(
            self, f"{verb} {self.what.lower()}", f"Enter the {self.what.lower()}:", replace
        )
        self.dialog.accepted.connect(self._accepted)
        self.dialog.open()
        return self.dialog

    def _accepted(self) -> None:
        assert self.ctx.draft is not None and self.dialog is not None
        self.ctx.draft.set_secret(self.name, self.dialog.value())
        self.dialog = None
        self.update_text()
        if self.on_new is not None:
            self.on_new()


# ---- pages ----------------------------------------------------------------------------------------
class FieldErrors:
    """Parses typed values with the spec's fields and shows the first problem."""

    def __init__(self, label: QLabel) -> None:
        self.label = label
        label.setStyleSheet(f"color: {COLOURS['error']};")
        label.setWordWrap(True)
        label.hide()

    def run(self, ctx: IntegrationUiContext, values: dict[str, Any]) -> bool:
        assert ctx.draft is not None
        try:
            for name, text in values.items():
                ctx.spec.field(name).parse(text)
        except ValidationError as exc:
            self.label.setText(str(exc))
            self.label.show()
            return False
        for name, text in values.items():
            ctx.draft.set_value(name, text)
        self.label.hide()
        return True


class TipServicePage(QWizardPage):
    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__()
        assert ctx.draft is not None
        self.ctx = ctx
        draft = ctx.draft
        self.setTitle("Kaspersky TIP")
        self.setSubTitle(
            "Reputation of the observables in alerts and incidents from Kaspersky Threat Intelligence Portal."
        )
        layout = QVBoxLayout(self)

        # Proxy: Root only; children follow Root.
        self.proxy: QCheckBox | None = None  # Root only
        if ctx.tenant.is_root:
            self.proxy = QCheckBox("Proxy: use the application-wide proxy server for Kaspersky TIP")
            self.proxy.setObjectName("proxy")
            self.proxy.setChecked(bool(draft.stored.settings.get("proxy")))
            layout.addWidget(self.proxy)
            layout.addWidget(
                hint(
                    "Applies to every tenant: child tenants follow the Root tenant's "
                    "choice. The proxy server itself is set in the application settings."
                )
            )
        else:
            root = ctx.workspace.tree.root.integrations.get("tip")
            on = bool(root and root.settings.get("proxy"))
            label = hint(
                f"Proxy: {'on' if on else 'off'}, as set for the Root tenant (only the "
                "Root tenant has this toggle; it applies to all tenants)."
            )
            label.setObjectName("proxyNote")
            layout.addWidget(label)

        layout.addSpacing(8)
        # Cache TTL: a number and its unit; empty means unlimited.
        ttl_row = QHBoxLayout()
        ttl_row.addWidget(QLabel("Cache TTL:"))
        self.ttl_number = QLineEdit()
        self.ttl_number.setObjectName("ttlNumber")
        self.ttl_number.setPlaceholderText("unlimited")
        self.ttl_number.setMaximumWidth(90)
        self.ttl_unit = QComboBox()
        self.ttl_unit.setObjectName("ttlUnit")
        self.ttl_unit.addItem("days", "d")
        self.ttl_unit.addItem("hours", "h")
        stored = draft.stored.settings.get("cache_ttl")
        if stored:
            self.ttl_number.setText(stored[:-1])
            self.ttl_unit.setCurrentIndex(0 if stored[-1] == "d" else 1)
        ttl_row.addWidget(self.ttl_number)
        ttl_row.addWidget(self.ttl_unit)
        ttl_row.addStretch(1)
        layout.addLayout(ttl_row)
        layout.addWidget(
            hint(
                "How long lookup results are kept in the local cache: 7 days by "
                "default; leave it empty to keep them without limit."
            )
        )

        layout.addSpacing(8)
        # One of the two services.
        box = QGroupBox("Integration — turn on one of the services")
        blay = QVBoxLayout(box)
        self.access = QButtonGroup(self)
        self.access.setExclusive(True)
        current = tip_lookup.access_of(draft.stored.settings)
        self.radios: dict[str, QRadioButton] = {}
        for value, title in tip_lookup.ACCESS_TITLES.items():
            radio = QRadioButton(title)
            radio.setObjectName(f"access_{value}")
            radio.setChecked(value == current)
            self.access.addButton(radio)
            self.radios[value] = radio
            blay.addWidget(radio)
            desc = hint(tip_spec.ACCESS_HELP[value])
            desc.setContentsMargins(22, 0, 0, 6)
            blay.addWidget(desc)
        layout.addWidget(box)

        layout.addSpacing(4)
        self.token = TokenRow(ctx, "token", "Token")
        layout.addWidget(self.token)
        notice = hint("⚠ " + tip_spec.QUOTA_NOTICE)
        notice.setObjectName("quotaNotice")
        layout.addWidget(notice)
        self.error = QLabel()
        self.errors = FieldErrors(self.error)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def chosen_access(self) -> str:
        for value, radio in self.radios.items():
            if radio.isChecked():
                return value
        return tip_lookup.ACCESS_GENERAL

    def values(self) -> dict[str, Any]:
        number = self.ttl_number.text().strip()
        values: dict[str, Any] = {
            "access": self.chosen_access(),
            "cache_ttl": f"{number}{self.ttl_unit.currentData()}" if number else "",
        }
        assert self.ctx.draft is not None
        if self.proxy is not None and self.proxy.isChecked() != bool(
            self.ctx.draft.stored.settings.get("proxy")
        ):
            values["proxy"] = self.proxy.isChecked()
        return values

    def validatePage(self) -> bool:
        values = self.values()
        assert self.ctx.draft is not None
        if "proxy" not in values:
            self.ctx.draft.values.pop("proxy", None)  # back to what is stored: no change
        return self.errors.run(self.ctx, values)


def wizard_pages(ctx: IntegrationUiContext) -> list[QWizardPage]:
    from ..wizard import SpecFormPage

    return [TipServicePage(ctx), SpecFormPage(ctx, ctx.spec.pages[-1])]


# ---- the lookup panel ---------------------------------------------------------------------------------
LookupFn = Callable[[str, threading.Event], tip_lookup.LookupResult]


class LookupPanel(QGroupBox):
    """Type a value, see what it is recognised as, look it up in a worker, read the verdict,
    the main facts and whether the answer came from the cache."""

    def __init__(self, ctx: IntegrationUiContext, lookup: LookupFn | None = None) -> None:
        super().__init__("Look up an observable")
        self.setObjectName("tipLookupPanel")
        self.ctx = ctx
        self._lookup = lookup or (
            lambda value, cancel: tip_lookup.lookup(ctx.workspace, ctx.tenant_id, value, cancel=cancel)
        )
        self.task: Any = None
        self.shown_for = ""
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setObjectName("observable")
        self.input.setPlaceholderText("Domain, URL, IPv4/IPv6 address, MD5 or SHA256")
        self.input.textChanged.connect(self._typed)
        self.input.returnPressed.connect(self.start)
        self.button = QPushButton("Look up")
        self.button.setObjectName("lookupButton")
        self.button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelLookup")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        row.addWidget(self.input, 1)
        row.addWidget(self.button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.kind = hint("")
        self.kind.setObjectName("observableKind")
        layout.addWidget(self.kind)

        self.result = QFrame()
        self.result.setObjectName("lookupResult")
        self.result.setFrameShape(QFrame.Shape.StyledPanel)
        rlay = QVBoxLayout(self.result)
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        rlay.addWidget(self.verdict)
        self.facts = QLabel()
        self.facts.setObjectName("facts")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setWordWrap(True)
        rlay.addWidget(self.facts)
        self.note = hint("")
        self.note.setObjectName("lookupNote")
        rlay.addWidget(self.note)
        self.result.hide()
        layout.addWidget(self.result)
        layout.addWidget(
            hint(
                "A lookup that reaches the portal may consume the token's quota; "
                "repeating it within the Cache TTL costs nothing."
            )
        )
        self._typed("")

    def _typed(self, text: str) -> None:
        if self.task is None and text != self.shown_for:
            self.result.hide()  # the result on screen belongs to another value
        if not text.strip():
            self.kind.setText("")
            self.button.setEnabled(False)
            return
        try:
            obs = tip_lookup.recognise(text)
        except ValidationError as exc:
            self.kind.setText(f"<span style='color:{COLOURS['error']}'>{html.escape(exc.problem)}.</span>")
            self.button.setEnabled(False)
            return
        same = obs.value == text.strip()
        self.kind.setText(
            f"Recognised as {'an' if obs.label[0] in 'AEIM' else 'a'} {obs.label}"
            + ("." if same else f": {html.escape(obs.value)}")
        )
        self.button.setEnabled(self.task is None)

    def start(self) -> None:
        value = self.input.text()
        if self.task is not None or not value.strip() or not self.button.isEnabled():
            return
        cancel = threading.Event()
        self.shown_for = value
        self.button.setEnabled(False)
        self.cancel_button.show()
        self.note.setText("Looking up…")
        self.result.show()
        self.verdict.setText("")
        self.facts.setText("")
        self.task = self.ctx.run_in_background(
            lambda: self._lookup(value, cancel), self._done, self._failed, cancel=cancel, checks=True
        )

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _finish(self) -> None:
        self.task = None
        self.cancel_button.hide()
        self._typed(self.input.text())

    def _done(self, r: tip_lookup.LookupResult) -> None:
        self._finish()
        self.show_result(r)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.result.show()
        self.verdict.setText(f"<b style='color:{COLOURS['error']}'>Lookup failed</b>")
        self.facts.setText("")
        from ..dialogs import error_text

        self.note.setText(error_text(exc))

    def show_result(self, r: tip_lookup.LookupResult) -> None:
        self.result.show()
        esc = html.escape
        obs = r.observable
        what = f"{obs.label} {obs.value}" if obs else r.input
        if r.ok:
            colour = ZONE_COLOURS.get(r.zone.lower(), COLOURS["off"])
            zone = f" — {esc(r.zone)} zone" if r.zone else ""
            self.verdict.setText(
                f"<b style='color:{colour}; font-size:14pt'>{esc(r.verdict)}</b>"
                f"{zone}<br><span>{esc(what)}</span>"
            )
            rows = "".join(
                f"<tr><td style='padding-right:12px'><b>{esc(k)}</b></td><td>{esc(v)}</td></tr>"
                for k, v in r.facts
            )
            self.facts.setText(f"<table>{rows}</table>" if rows else "")
            self.facts.setVisible(bool(rows))
            if r.from_cache:
                self.note.setText(
                    "From the local cache — no request was sent, no quota used. "
                    f"Looked up {r.fetched_at.replace('T', ' ')[:16]} UTC."
                )
            else:
                self.note.setText("Answered by the portal just now; the request may have consumed quota.")
        else:
            colour = (
                COLOURS["warning"]
                if r.category in (Category.QUOTA_EXCEEDED, Category.RATE_LIMITED)
                else COLOURS["error"]
            )
            self.verdict.setText(
                f"<b style='color:{colour}'>{esc(r.category.value)}</b> <span>{esc(what)}</span>"
            )
            self.facts.setText("")
            self.facts.hide()
            self.note.setText(r.message)


def panel(ctx: IntegrationUiContext) -> QWidget:
    return LookupPanel(ctx)
