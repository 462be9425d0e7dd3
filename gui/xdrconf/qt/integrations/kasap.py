"""KASAP in the window: the OpenAPI URL, Add token / Replace token, the token's issue date
(today when a new token is added, editable) with its expiry, the rights checklist, and a
panel with the expiry and the learning groups. Logic: xdrconf.core.integrations.kasap."""

from __future__ import annotations

import datetime as _dt
import html
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ...core import checks
from ...core.integrations import kasap as core
from ..icons import COLOURS
from . import IntegrationUiContext
from .tip import FieldErrors, TokenRow, hint

NOT_SET = QDate(2000, 1, 1)


def expiry_html(issued: str | None, today: _dt.date) -> str:
    """The expiry line, coloured as the flags are (warning from 30 days before)."""
    if not issued:
        return (
            f"<span style='color:{COLOURS['warning']}'>Issue date not set: the expiry (12 "
            "months after issue) cannot be tracked.</span>"
        )
    text = core.expiry_text({"token_issued": issued}, today)
    expiry = core.expiry_of({"token_issued": issued})
    assert expiry is not None
    left = (expiry - today).days
    level = "error" if left <= 0 else "warning" if left <= core.WARN_DAYS else "ok"
    advice = "" if level == "ok" else " Reissue it in KASAP and replace it here."
    return (
        f"<span style='color:{COLOURS[level]}'>Token issued on {html.escape(issued)}, "
        f"{html.escape(text)}.{advice}</span>"
    )


class KasapPage(QWizardPage):
    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__()
        assert ctx.draft is not None
        self.ctx = ctx
        draft = ctx.draft
        self.setTitle("Kaspersky Automated Security Awareness Platform")
        self.setSubTitle(
            "The OpenAPI URL and the token from KASAP: Dashboard → Import and sync → OpenAPI tab."
        )
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.url = QLineEdit(draft.stored_text("url"))
        self.url.setObjectName("url")
        self.url.setPlaceholderText("https://…  (the OpenAPI URL shown in KASAP)")
        form.addRow("OpenAPI URL:", self.url)
        self.token = TokenRow(ctx, "token", "Token", on_new=self._new_token)
        form.addRow(self.token)

        self.issued = QDateEdit()
        self.issued.setObjectName("tokenIssued")
        self.issued.setCalendarPopup(True)
        self.issued.setDisplayFormat("yyyy-MM-dd")
        self.issued.setMinimumDate(NOT_SET)
        self.issued.setMaximumDate(QDate.currentDate())
        self.issued.setSpecialValueText("not set")
        stored = draft.stored.settings.get("token_issued")
        self.issued.setDate(QDate.fromString(stored, "yyyy-MM-dd") if stored else NOT_SET)
        self.issued_touched = False
        self.issued.dateChanged.connect(self._date_changed)
        clear = QPushButton("Clear")
        clear.setToolTip("The issue date is not known")
        clear.clicked.connect(lambda: self.issued.setDate(NOT_SET))
        row = QHBoxLayout()
        row.addWidget(self.issued)
        row.addWidget(clear)
        row.addStretch(1)
        form.addRow("Token issued on:", row)
        self.expiry = QLabel()
        self.expiry.setObjectName("expiry")
        form.addRow("", self.expiry)
        layout.addLayout(form)

        box = QGroupBox("Token rights — confirm the token was created with all three")
        blay = QVBoxLayout(box)
        confirmed = set(draft.stored.settings.get("rights_confirmed") or [])
        self.rights: dict[str, QCheckBox] = {}
        for name, shown in core.RIGHTS:
            cb = QCheckBox(shown)
            cb.setObjectName(f"right_{name}")
            cb.setChecked(name in confirmed)
            self.rights[name] = cb
            blay.addWidget(cb)
        blay.addWidget(
            hint(
                "A check can only prove the first (it lists the learning groups); "
                "the other two would change data in KASAP."
            )
        )
        layout.addWidget(box)
        layout.addWidget(
            hint(
                "The token is valid for 12 months; from 30 days before it expires "
                "the tenant is flagged in the main window."
            )
        )
        self.error = QLabel()
        self.errors = FieldErrors(self.error)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self._show_expiry()

    def _new_token(self) -> None:
        # a new token was issued today, unless the user already said otherwise
        if not self.issued_touched:
            self.issued.blockSignals(True)
            self.issued.setDate(QDate.currentDate())
            self.issued.blockSignals(False)
            self._show_expiry()

    def _date_changed(self, _date: QDate) -> None:
        self.issued_touched = True
        self._show_expiry()

    def issued_text(self) -> str:
        date = self.issued.date()
        return "" if date == NOT_SET else date.toString("yyyy-MM-dd")

    def _show_expiry(self) -> None:
        self.expiry.setText(expiry_html(self.issued_text() or None, _dt.date.today()))

    def values(self) -> dict[str, Any]:
        return {
            "url": self.url.text(),
            "token_issued": self.issued_text(),
            "rights_confirmed": ",".join(n for n, cb in self.rights.items() if cb.isChecked()),
        }

    def validatePage(self) -> bool:
        return self.errors.run(self.ctx, self.values())


def wizard_pages(ctx: IntegrationUiContext) -> list[QWizardPage]:
    from ..wizard import SpecFormPage

    return [KasapPage(ctx), SpecFormPage(ctx, ctx.spec.pages[-1])]


class KasapPanel(QGroupBox):
    """The token's expiry and confirmed rights, and the learning groups on request."""

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__("KASAP token and learning groups")
        self.setObjectName("kasapPanel")
        self.ctx = ctx
        self.task: Any = None
        settings = ctx.state.settings
        layout = QVBoxLayout(self)
        self.expiry = QLabel(expiry_html(settings.get("token_issued"), _dt.date.today()))
        self.expiry.setObjectName("expiry")
        self.expiry.setWordWrap(True)
        layout.addWidget(self.expiry)
        confirmed = set(settings.get("rights_confirmed") or [])
        missing = [shown for name, shown in core.RIGHTS if name not in confirmed]
        rights = QLabel(
            "Token rights: all three confirmed."
            if not missing
            else f"<span style='color:{COLOURS['warning']}'>Token rights not confirmed: "
            f"{html.escape('; '.join(missing))}.</span>"
        )
        rights.setObjectName("rights")
        rights.setWordWrap(True)
        layout.addWidget(rights)
        row = QHBoxLayout()
        self.button = QPushButton("List learning groups")
        self.button.setObjectName("groupsButton")
        self.button.clicked.connect(self.load_groups)
        self.button.setEnabled("token" in ctx.state.secrets and bool(settings.get("url")))
        row.addWidget(self.button)
        row.addStretch(1)
        layout.addLayout(row)
        self.groups = QLabel()
        self.groups.setObjectName("groups")
        self.groups.setWordWrap(True)
        layout.addWidget(self.groups)
        layout.addStretch(1)

    def load_groups(self) -> None:
        if self.task is not None:
            return
        ws, tenant_id = self.ctx.workspace, self.ctx.tenant_id

        def fetch() -> tuple[Any, list[dict[str, Any]]]:
            tenant = ws.tree.get(tenant_id)
            return core.fetch_groups(checks.context_for(ws, tenant, "kasap"))

        self.button.setEnabled(False)
        self.groups.setText("Asking KASAP…")
        self.task = self.ctx.run_in_background(fetch, self._done, self._failed, checks=True)

    def _done(self, value: tuple[Any, list[dict[str, Any]]]) -> None:
        self.task = None
        self.button.setEnabled(True)
        result, groups = value
        if not result.ok:
            self.groups.setText(
                f"<span style='color:{COLOURS['error']}'><b>"
                f"{html.escape(result.category.value)}</b>: "
                f"{html.escape(result.message)}</span>"
            )
            return
        items = "".join(
            f"<li>{html.escape(g['name'])} <span style='color:#777'>({html.escape(g['id'])})</span></li>"
            for g in groups
        )
        self.groups.setText(
            f"{len(groups)} learning group{'s' if len(groups) != 1 else ''}"
            + (f"<ul style='margin-top:2px'>{items}</ul>" if items else ".")
        )

    def _failed(self, exc: BaseException) -> None:
        from ..dialogs import error_text

        self.task = None
        self.button.setEnabled(True)
        self.groups.setText(html.escape(error_text(exc)))


def panel(ctx: IntegrationUiContext) -> QWidget:
    return KasapPanel(ctx)
