"""Kaspersky TIP in the window: the settings page as the product describes it (Proxy for the
Root tenant only, Cache TTL in days or hours, one of the two services with what each
provides, Add token / Replace token). The lookup of an observable is an operation of the
spec, run from the window's Operations tab (its verdict and main facts as facts, the
portal's answer as JSON). The logic lives in xdrconf.core.integrations.tip; this module
arranges widgets."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWizardPage,
)

from ...core.errors import ValidationError
from ...core.i18n import N_, _
from ...core.integrations import tip as tip_spec
from ...core.integrations.tip import lookup as tip_lookup
from . import IntegrationUiContext


def hint(text: str) -> QLabel:
    label = QLabel(str(text))  # str(): a LazyText shows in the current language
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
        self.setTitle(_("Kaspersky TIP"))
        self.setSubTitle(
            _(
                "Reputation of the observables in alerts and incidents from Kaspersky Threat "
                "Intelligence Portal."
            )
        )
        layout = QVBoxLayout(self)

        # Proxy: Root only; children follow Root.
        self.proxy: QCheckBox | None = None  # Root only
        if ctx.tenant.is_root:
            self.proxy = QCheckBox(_("Proxy: use the application-wide proxy server for Kaspersky TIP"))
            self.proxy.setObjectName("proxy")
            self.proxy.setChecked(bool(draft.stored.settings.get("proxy")))
            layout.addWidget(self.proxy)
            layout.addWidget(
                hint(
                    _(
                        "Applies to every tenant: child tenants follow the Root tenant's "
                        "choice. The proxy server itself is set in the application settings."
                    )
                )
            )
        else:
            root = ctx.workspace.tree.root.integrations.get("tip")
            on = bool(root and root.settings.get("proxy"))
            label = hint(
                _(
                    "Proxy: on, as set for the Root tenant (only the Root tenant has "
                    "this toggle; it applies to all tenants)."
                )
                if on
                else _(
                    "Proxy: off, as set for the Root tenant (only the Root tenant has "
                    "this toggle; it applies to all tenants)."
                )
            )
            label.setObjectName("proxyNote")
            layout.addWidget(label)

        layout.addSpacing(8)
        # Cache TTL: a number and its unit; empty means unlimited.
        ttl_row = QHBoxLayout()
        ttl_label = QLabel(_("Cache TTL:"))
        ttl_row.addWidget(ttl_label)
        self.ttl_number = QLineEdit()
        self.ttl_number.setObjectName("ttlNumber")
        self.ttl_number.setPlaceholderText(_("unlimited"))
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
            _(
                "How long lookup results are kept in the local cache: 7 days by "
                "default; leave it empty to keep them without limit."
            ),
        )
        layout.addWidget(self.ttl_reason)
        self.ttl_touched = False

        layout.addSpacing(8)
        # One of the two services.
        box = QGroupBox(_("Integration — turn on one of the services"))
        blay = QVBoxLayout(box)
        self.access = QButtonGroup(self)
        self.access.setExclusive(True)
        current = tip_lookup.access_of(draft.stored.settings)
        self.radios: dict[str, QRadioButton] = {}
        for value, title in tip_lookup.ACCESS_TITLES.items():
            radio = QRadioButton(_(title))
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
        self.ttl_number.textChanged.connect(lambda _unused: self.revalidate())
        self.ttl_unit.currentIndexChanged.connect(lambda _unused: self.revalidate())
        self.access.buttonToggled.connect(lambda *_unused: self.revalidate())
        if self.proxy is not None:
            self.proxy.toggled.connect(lambda _unused: self.revalidate())
        self.form.validity_changed.connect(self.completeChanged.emit)
        self.revalidate()

    def _ttl_typed(self, *_unused: Any) -> None:
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
