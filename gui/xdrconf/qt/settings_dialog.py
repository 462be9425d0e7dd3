"""Application settings: the check timeout and the HTTP(S) proxy (none, manual with a
no-proxy list, or the system's proxy variables). Stored with ws.set_app(timeout=...,
proxy={"mode", "url", "no_proxy"})."""

from __future__ import annotations

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

from ..core.errors import ValidationError
from ..core.fields import parse_url
from ..core.net import DEFAULT_TIMEOUT

MODES = (
    ("none", "No proxy (connect directly)"),
    ("manual", "Manual proxy"),
    ("system", "System proxy (HTTPS_PROXY / NO_PROXY variables)"),
)


class SettingsDialog(QDialog):
    def __init__(self, app: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(1.0, 600.0)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(float(app.get("timeout", DEFAULT_TIMEOUT)))
        self.timeout.setToolTip("Connect and read timeout of every connection check.")
        form.addRow("Check timeout:", self.timeout)
        proxy = dict(app.get("proxy") or {})
        self.mode = QComboBox(self)
        for value, label in MODES:
            self.mode.addItem(label, value)
        modes = [m for m, _ in MODES]
        current = proxy.get("mode", "none")
        self.mode.setCurrentIndex(modes.index(current) if current in modes else 0)
        form.addRow("Proxy:", self.mode)
        self.url = QLineEdit(proxy.get("url", ""), self)
        self.url.setPlaceholderText("http://proxy.example.com:3128")
        form.addRow("Proxy URL:", self.url)
        self.no_proxy = QLineEdit(", ".join(proxy.get("no_proxy", [])), self)
        self.no_proxy.setPlaceholderText("localhost, .corp.example.com, 10.0.0.5")
        form.addRow("No proxy for:", self.no_proxy)
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

    def _problem(self) -> str:
        mode = self.mode.currentData()
        if mode != "manual":
            return ""
        try:
            parse_url(self.url.text(), "Proxy URL", schemes=("http", "https"))
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
        return {
            "timeout": round(self.timeout.value(), 1),
            "proxy": {
                "mode": mode,
                "url": self.url.text().strip() if mode == "manual" else "",
                "no_proxy": no_proxy if mode == "manual" else [],
            },
        }
