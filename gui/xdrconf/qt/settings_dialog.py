"""Application settings: the check timeout, the HTTP(S) proxy (none, manual with a
no-proxy list, or the system's proxy variables) and the language. Stored with
ws.set_app(timeout=..., proxy={"mode", "url", "no_proxy"}, language=None|"en"|"ru")."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..core import appsettings, i18n
from ..core.errors import ValidationError
from ..core.i18n import N_, _, pgettext

MODES = (
    ("none", N_("No proxy (connect directly)")),
    ("manual", N_("Manual proxy")),
    ("system", N_("System proxy (HTTPS_PROXY / NO_PROXY variables)")),
)


class SettingsDialog(QDialog):
    def __init__(self, app: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Settings"))
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(1.0, 600.0)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(pgettext("unit after a number", " s"))
        self.timeout.setValue(appsettings.timeout_of(app))
        self.timeout.setToolTip(_("Connect and read timeout of every connection check."))
        form.addRow(_("Check timeout:"), self.timeout)
        proxy = dict(app.get("proxy") or {})
        self.mode = QComboBox(self)
        for value, label in MODES:
            self.mode.addItem(_(label), value)
        modes = [m for m, _label in MODES]
        current = proxy.get("mode", "none")
        self.mode.setCurrentIndex(modes.index(current) if current in modes else 0)
        form.addRow(_("Proxy:"), self.mode)
        self.url = QLineEdit(proxy.get("url", ""), self)
        self.url.setPlaceholderText("http://proxy.example.invalid:3128")
        form.addRow(_("Proxy URL:"), self.url)
        self.no_proxy = QLineEdit(", ".join(proxy.get("no_proxy", [])), self)
        self.no_proxy.setPlaceholderText("localhost, .corp.example.invalid, 127.0.0.5")
        form.addRow(_("No proxy for:"), self.no_proxy)
        self._add_language(form, app)
        lay.addLayout(form)
        self.reason = QLabel(self)
        self.reason.setObjectName("reason")
        self.reason.setStyleSheet("color:#b00020")
        self.reason.setWordWrap(True)
        lay.addWidget(self.reason)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.mode.currentIndexChanged.connect(self._validate)
        self.url.textChanged.connect(self._validate)
        self._validate()

    def _add_language(self, form: QFormLayout, app: dict[str, Any]) -> None:
        self.language = QComboBox(self)
        system = i18n.system_language() or i18n.DEFAULT
        # TRANSLATORS: {language} is the system's language, named in itself (English, Русский).
        self.language.addItem(_("As the system ({language})").format(language=i18n.LANGUAGES[system]), "auto")
        for code, name in i18n.LANGUAGES.items():
            self.language.addItem(name, code)
        index = self.language.findData(app.get("language") or "auto")
        self.language.setCurrentIndex(max(index, 0))
        form.addRow(_("Language:"), self.language)
        notes = [_("The language changes the next time xdrconf starts.")]
        forced = i18n.choose(None).source == i18n.ENV_LANG
        if forced:
            notes.append(
                _("{variable}={value} is set in the environment: it overrides this setting.").format(
                    variable=i18n.ENV_LANG, value=os.environ.get(i18n.ENV_LANG, "")
                )
            )
        self.language_note = QLabel(" ".join(notes), self)
        self.language_note.setObjectName("languageNote")
        self.language_note.setWordWrap(True)
        self.language_note.setStyleSheet("color:#666")
        form.addRow("", self.language_note)

    def _problem(self) -> str:
        try:
            appsettings.validate(self.values())
        except ValidationError as exc:
            return str(exc)
        return ""

    def _validate(self) -> None:
        manual = self.mode.currentData() == "manual"
        self.url.setEnabled(manual)
        self.no_proxy.setEnabled(manual)
        problem = self._problem()
        self.reason.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def values(self) -> dict[str, Any]:
        """Keyword arguments for ws.set_app."""
        no_proxy = [p.strip() for p in self.no_proxy.text().replace(";", ",").split(",") if p.strip()]
        mode = self.mode.currentData()
        language = self.language.currentData()
        return {
            "timeout": round(self.timeout.value(), 1),
            "language": None if language == "auto" else language,
            "proxy": {
                "mode": mode,
                "url": self.url.text().strip() if mode == "manual" else "",
                "no_proxy": no_proxy if mode == "manual" else [],
            },
        }
