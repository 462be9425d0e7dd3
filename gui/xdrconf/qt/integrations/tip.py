"""Kaspersky TIP in the window: the settings page as the product describes it (Proxy for the
Root tenant only, Cache TTL in days or hours, one of the two services with what each
provides, Add token / Replace token) and the observable lookup panel. The logic lives in
xdrconf.core.integrations.tip; this module arranges widgets."""

from __future__ import annotations

import html
import threading
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
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

from ...core.errors import ValidationError
from ...core.i18n import N_, _
from ...core.integrations import tip as tip_spec
from ...core.integrations.tip import lookup as tip_lookup
from ...core.integrations.tip.observables import recognise
from ...core.outcome import Category, category_words
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


# ---- the settings page ------------------------------------------------------------------------------
TTL_UNITS = (("d", N_("days")), ("h", N_("hours")))


def ttl_problem(number: str, unit: str) -> str:
    """What is wrong with the Cache TTL typed as a number of days or hours, or ''."""
    from ...core.integrations.tip.cache import parse_ttl

    value = number.strip()
    if not value:
        return ""
    if not value.isdigit():
        if unit == "d":
            return _(
                "'{text}' is not a whole number of days; leave it empty to keep results without limit"
            ).format(text=value)
        return _(
            "'{text}' is not a whole number of hours; leave it empty to keep results without limit"
        ).format(text=value)
    try:
        parse_ttl(value + unit)
    except ValidationError as exc:
        return exc.problem
    return ""


class TipServicePage(QWizardPage):
    """Proxy (Root only), Cache TTL, one of the two services and the token: validated as
    the user types, written to the draft at once."""

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__()
        from ..editors import FieldsForm, SecretEditor

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
        ttl_label = QLabel("Cache TTL:")
        ttl_row.addWidget(ttl_label)
        self.ttl_number = QLineEdit()
        self.ttl_number.setObjectName("ttlNumber")
        self.ttl_number.setPlaceholderText("unlimited")
        self.ttl_number.setMaximumWidth(90)
        ttl_label.setBuddy(self.ttl_number)
        self.ttl_unit = QComboBox()
        self.ttl_unit.setObjectName("ttlUnit")
        for value, words in TTL_UNITS:
            self.ttl_unit.addItem(_(words), value)
        stored = draft.stored.settings.get("cache_ttl")
        if stored:
            self.ttl_number.setText(stored[:-1])
            self.ttl_unit.setCurrentIndex(0 if stored[-1] == "d" else 1)
        ttl_row.addWidget(self.ttl_number)
        ttl_row.addWidget(self.ttl_unit)
        ttl_row.addStretch(1)
        layout.addLayout(ttl_row)
        self.ttl_reason = hint("")
        self.ttl_reason.setObjectName("reason_cache_ttl")
        self.ttl_reason.setProperty(
            "help",
            "How long lookup results are kept in the local cache: 7 days by "
            "default; leave it empty to keep them without limit.",
        )
        layout.addWidget(self.ttl_reason)
        self.ttl_touched = False

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
        self.form = FieldsForm(ctx, ("token",), self)
        token = self.form.editors["token"]
        assert isinstance(token, SecretEditor)
        self.token = token
        layout.addWidget(self.form)
        notice = hint("⚠ " + tip_spec.QUOTA_NOTICE)
        notice.setObjectName("quotaNotice")
        layout.addWidget(notice)
        layout.addStretch(1)

        self.ttl_number.textEdited.connect(self._ttl_typed)
        self.ttl_number.textChanged.connect(lambda _: self.revalidate())
        self.ttl_unit.currentIndexChanged.connect(lambda _: self.revalidate())
        self.access.buttonToggled.connect(lambda *_: self.revalidate())
        if self.proxy is not None:
            self.proxy.toggled.connect(lambda _: self.revalidate())
        self.form.validity_changed.connect(self.completeChanged.emit)
        self.revalidate()

    def _ttl_typed(self, *_: Any) -> None:
        self.ttl_touched = True
        self.revalidate()

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

    def problems(self) -> dict[str, str]:
        out = self.form.problems()
        ttl = ttl_problem(self.ttl_number.text(), str(self.ttl_unit.currentData()))
        if ttl:
            out["cache_ttl"] = ttl
        return out

    def revalidate(self) -> None:
        from ..editors import show_reason

        assert self.ctx.draft is not None
        ttl = ttl_problem(self.ttl_number.text(), str(self.ttl_unit.currentData()))
        show_reason(self.ttl_reason, ttl, judged=self.ttl_touched or bool(self.ttl_number.text()))
        values = self.values()
        if "proxy" not in values:
            self.ctx.draft.values.pop("proxy", None)  # back to what is stored: no change
        for name, text in values.items():
            if name != "cache_ttl" or not ttl:
                self.ctx.draft.set_value(name, text)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.problems()

    def validatePage(self) -> bool:
        return not self.problems()


def wizard_pages(ctx: IntegrationUiContext) -> list[QWizardPage]:
    return [TipServicePage(ctx), ctx.form_page(ctx.spec.pages[-1])]


# ---- the lookup panel ---------------------------------------------------------------------------------
LookupFn = tip_lookup.LookupFn


class LookupPanel(QGroupBox):
    """Type a value, see what it is recognised as, look it up in a worker, read the verdict,
    the main facts and whether the answer came from the cache."""

    def __init__(self, ctx: IntegrationUiContext, lookup: LookupFn | None = None) -> None:
        super().__init__("Look up an observable")
        self.setObjectName("tipLookupPanel")
        self.setWindowTitle("Lookup")  # the tab's title
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
            obs = recognise(text)
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
                f"<b style='color:{colour}'>{esc(category_words(r.category))}</b> <span>{esc(what)}</span>"
            )
            self.facts.setText("")
            self.facts.hide()
            self.note.setText(r.message)


def panel(ctx: IntegrationUiContext) -> QWidget:
    return LookupPanel(ctx)
