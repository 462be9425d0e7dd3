"""KASAP in the window: the OpenAPI URL, Add token / Replace token, the token's issue date
(today when a new token is added, editable) with its expiry, the rights checklist, and a
panel with the expiry and the rights (the learning groups are listed by the "groups"
operation in the Operations tab). Logic: xdrconf.core.integrations.kasap."""

from __future__ import annotations

import datetime as _dt
import html

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from xdrconf.core.i18n import _

from ...core.integrations import kasap as core
from ..icons import COLOURS
from . import IntegrationUiContext
from .tip import hint

NOT_SET = QDate(2000, 1, 1)


def expiry_html(issued: str | None, today: _dt.date) -> str:
    """The expiry line, coloured as the flags are (warning from 30 days before)."""
    if not issued:
        return _(
            "<span style='color:{warning}'>Issue date not set: the expiry (12 months "
            "after issue) cannot be tracked.</span>"
        ).format(warning=COLOURS["warning"])
    text = core.expiry_text({"token_issued": issued}, today)
    expiry = core.expiry_of({"token_issued": issued})
    assert expiry is not None
    left = (expiry - today).days
    level = "error" if left <= 0 else "warning" if left <= core.WARN_DAYS else "ok"
    advice = "" if level == "ok" else _(" Reissue it in KASAP and replace it here.")
    # TRANSLATORS: {expiry} is "expires on 2027-03-01 (in 99 days)" or "expired on …"
    return _("<span style='color:{colour}'>Token issued on {issued}, {expiry}.{advice}</span>").format(
        colour=COLOURS[level], issued=html.escape(issued), expiry=html.escape(text), advice=advice
    )


class KasapPage(QWizardPage):
    """The OpenAPI URL and the token (validated as the user types), the token's issue date
    with its expiry, and the rights checklist; all written to the draft at once."""

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__()
        from ..editors import FieldsForm, LineEditor, SecretEditor

        assert ctx.draft is not None
        self.ctx = ctx
        draft = ctx.draft
        self.setTitle(_("Kaspersky Automated Security Awareness Platform"))
        self.setSubTitle(
            _("The OpenAPI URL and the token from KASAP: Dashboard → Import and sync → OpenAPI tab.")
        )
        layout = QVBoxLayout(self)
        self.form = FieldsForm(ctx, ("url", "token"), self)
        url, token = self.form.editors["url"], self.form.editors["token"]
        assert isinstance(url, LineEditor) and isinstance(token, SecretEditor)
        self.url, self.token = url, token

        self.issued = QDateEdit()
        self.issued.setObjectName("tokenIssued")
        self.issued.setCalendarPopup(True)
        self.issued.setDisplayFormat("yyyy-MM-dd")
        self.issued.setMinimumDate(NOT_SET)
        self.issued.setMaximumDate(QDate.currentDate())
        self.issued.setSpecialValueText(_("not set"))
        stored = draft.stored.settings.get("token_issued")
        self.issued.setDate(QDate.fromString(stored, "yyyy-MM-dd") if stored else NOT_SET)
        self.issued_touched = False
        self.issued.dateChanged.connect(self._date_changed)
        clear = QPushButton(_("Clear"))
        clear.setToolTip(_("The issue date is not known"))
        clear.clicked.connect(lambda: self.issued.setDate(NOT_SET))
        row = QHBoxLayout()
        row.addWidget(self.issued)
        row.addWidget(clear)
        row.addStretch(1)
        self.form.add_widget(row, _("Token issued on:"))
        self.expiry = QLabel()
        self.expiry.setObjectName("expiry")
        self.expiry.setWordWrap(True)
        self.form.add_widget(self.expiry)
        layout.addWidget(self.form)
        layout.addSpacing(8)

        box = QGroupBox(_("Token rights — confirm the token was created with all three"))
        blay = QVBoxLayout(box)
        confirmed = set(draft.stored.settings.get("rights_confirmed") or [])
        self.rights: dict[str, QCheckBox] = {}
        for name, shown in core.RIGHTS:
            cb = QCheckBox(shown)
            cb.setObjectName(f"right_{name}")
            cb.setChecked(name in confirmed)
            cb.toggled.connect(lambda _unused: self._store())
            self.rights[name] = cb
            blay.addWidget(cb)
        blay.addWidget(
            hint(
                _(
                    "A check can only prove the first (it lists the learning groups); "
                    "the other two would change data in KASAP."
                )
            )
        )
        layout.addWidget(box)
        layout.addWidget(
            hint(
                _(
                    "The token is valid for 12 months; from 30 days before it expires "
                    "the tenant is flagged in the main window."
                )
            )
        )
        layout.addStretch(1)
        self.form.edited.connect(self._edited)
        self.form.validity_changed.connect(self.completeChanged.emit)
        self._show_expiry()
        self._store()

    def _edited(self, name: str) -> None:
        if name == "token" and self.token.value():
            self._new_token()

    def _new_token(self) -> None:
        # a new token was issued today, unless the user already said otherwise
        if not self.issued_touched:
            self.issued.blockSignals(True)
            self.issued.setDate(QDate.currentDate())
            self.issued.blockSignals(False)
            self._show_expiry()
            self._store()

    def _date_changed(self, _date: QDate) -> None:
        self.issued_touched = True
        self._show_expiry()
        self._store()

    def issued_text(self) -> str:
        date = self.issued.date()
        return "" if date == NOT_SET else date.toString("yyyy-MM-dd")

    def _show_expiry(self) -> None:
        self.expiry.setText(expiry_html(self.issued_text() or None, _dt.date.today()))

    def _store(self) -> None:
        assert self.ctx.draft is not None
        self.ctx.draft.set_value("token_issued", self.issued_text())
        self.ctx.draft.set_value(
            "rights_confirmed", ",".join(n for n, cb in self.rights.items() if cb.isChecked())
        )

    def problems(self) -> dict[str, str]:
        return self.form.problems()

    def isComplete(self) -> bool:
        return not self.form.problems()

    def validatePage(self) -> bool:
        return not self.form.problems()


def wizard_pages(ctx: IntegrationUiContext) -> list[QWizardPage]:
    return [KasapPage(ctx), ctx.form_page(ctx.spec.pages[-1])]


class KasapPanel(QGroupBox):
    """The token's expiry and its confirmed rights (the learning groups are an operation:
    the Operations tab lists them)."""

    def __init__(self, ctx: IntegrationUiContext) -> None:
        super().__init__(_("KASAP token"))
        self.setObjectName("kasapPanel")
        self.setWindowTitle(_("KASAP token"))  # the tab's title
        self.ctx = ctx
        layout = QVBoxLayout(self)
        self.expiry = QLabel()
        self.expiry.setObjectName("expiry")
        self.expiry.setWordWrap(True)
        layout.addWidget(self.expiry)
        self.rights = QLabel()
        self.rights.setObjectName("rights")
        self.rights.setWordWrap(True)
        layout.addWidget(self.rights)
        layout.addStretch(1)
        self.update_view()

    def update_view(self) -> None:
        """From the saved settings (the main window calls this after they changed)."""
        settings = self.ctx.state.settings
        self.expiry.setText(expiry_html(settings.get("token_issued"), _dt.date.today()))
        confirmed = set(settings.get("rights_confirmed") or [])
        missing = [shown for name, shown in core.RIGHTS if name not in confirmed]
        self.rights.setText(
            _("Token rights: all three confirmed.")
            if not missing
            else _("<span style='color:{warning}'>Token rights not confirmed: {rights}.</span>").format(
                warning=COLOURS["warning"], rights=html.escape("; ".join(missing))
            )
        )


def panel(ctx: IntegrationUiContext) -> QWidget:
    return KasapPanel(ctx)
