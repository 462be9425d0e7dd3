"""The Kaspersky TIP settings page (pytest-qt, offscreen), driven like a user. The lookup is an
operation of the Operations tab: tests/test_gui_operations.py."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit

from support.gui import some
from support.tip_peer import GOOD_TOKEN
from xdrconf.core import catalog
from xdrconf.core.workspace import IntegrationEdit
from xdrconf.qt.integrations import IntegrationDraft, IntegrationUiContext, wizard_pages
from xdrconf.qt.integrations.tip import TipServicePage
from xdrconf.qt.wizard import SpecFormPage

SPEC = catalog.spec_for("tip")


def wizard_ctx(ws, tenant="Root"):
    t = ws.tenant(tenant)
    draft = IntegrationDraft.for_state(SPEC, t.integrations.get("tip"))
    ctx = IntegrationUiContext(ws, t.id, "tip", SPEC, draft=draft)
    ctx.form_page = lambda page: SpecFormPage(ctx, page)  # as the wizard does
    return ctx


def add_token(qtbot, page, value):
    token = page.token
    if token.replace_button.isVisible():
        token.replace_button.click()
    qtbot.keyClicks(token.edit, value)


def test_root_page_writes_draft_and_saves(qtbot, ws):
    ctx = wizard_ctx(ws)
    pages = some(wizard_pages(ctx))
    for p in pages:
        qtbot.addWidget(p)
    page = pages[0]
    page.show()
    assert isinstance(page, TipServicePage) and page.proxy is not None
    assert page.ttl_number.text() == "7" and page.ttl_unit.currentData() == "d"
    assert page.radios["general"].isChecked()
    notice = some(page.findChild(QLabel, "quotaNotice"))
    assert "quota" in notice.text()
    assert "no quota" in " ".join(lbl.text() for lbl in page.findChildren(QLabel))
    # The token is entered as on every page: masked, never pre-filled; required to go on.
    token = page.token
    assert token.edit.echoMode() == QLineEdit.EchoMode.Password and token.edit.text() == ""
    assert token.edit.placeholderText() == "not stored yet" and not token.replace_button.isVisible()
    assert not page.isComplete()

    page.radios["premium"].setChecked(True)
    assert not page.radios["general"].isChecked()  # exactly one service
    page.ttl_number.setText("12")
    page.ttl_unit.setCurrentIndex(1)
    some(page.proxy).setChecked(True)
    add_token(qtbot, page, GOOD_TOKEN)
    assert page.isComplete() and page.validatePage()
    assert pages[1].isComplete()
    edit = ctx.draft.edit()
    assert edit.values["access"] == "premium" and edit.values["cache_ttl"] == "12h"
    assert edit.secrets == {"token": GOOD_TOKEN}
    assert not any(GOOD_TOKEN in line for line in ctx.draft.summary())
    ws.update_integrations(ws.tree.root_id, [edit])
    s = ws.tenant("Root").integrations["tip"].settings
    assert s["access"] == "premium" and s["cache_ttl"] == "12h" and s["proxy"] is True

    again = TipServicePage(wizard_ctx(ws))
    qtbot.addWidget(again)
    again.show()
    assert again.radios["premium"].isChecked() and again.ttl_number.text() == "12"
    stored = again.token
    assert stored.edit.text() == "" and not stored.edit.isEnabled()
    assert stored.edit.placeholderText() == "stored — leave empty to keep"
    assert stored.replace_button.isVisible() and again.isComplete()


def test_untouched_proxy_is_no_change(qtbot, ws):
    page = TipServicePage(wizard_ctx(ws))
    qtbot.addWidget(page)
    add_token(qtbot, page, GOOD_TOKEN)
    some(page.proxy).setChecked(True)
    assert page.validatePage() and some(page.ctx.draft).values["proxy"] is True
    some(page.proxy).setChecked(False)
    assert page.validatePage() and "proxy" not in some(page.ctx.draft).values
    assert not any("Proxy" in line for line in some(page.ctx.draft).summary())


def test_bad_ttl_is_refused_as_you_type(qtbot, ws):
    page = TipServicePage(wizard_ctx(ws))
    qtbot.addWidget(page)
    add_token(qtbot, page, GOOD_TOKEN)
    assert page.isComplete()
    reason = page.ttl_reason
    assert reason.text().startswith("How long lookup results are kept")  # the hint
    page.ttl_number.selectAll()
    qtbot.keyClicks(page.ttl_number, "abc")
    # Refused at once, quoting exactly what was typed (not 'abcd' with the unit).
    assert reason.text() == (
        "'abc' is not a whole number of days; leave it empty to keep results without limit"
    )
    assert not page.isComplete() and not page.validatePage()
    page.ttl_number.clear()
    qtbot.keyClicks(page.ttl_number, "1.5")
    assert reason.text().startswith("'1.5' is not a whole number of days")
    page.ttl_unit.setCurrentIndex(1)
    assert reason.text().startswith("'1.5' is not a whole number of hours")
    page.ttl_number.clear()
    qtbot.keyClicks(page.ttl_number, "0")
    assert reason.text().startswith("must be at least 1h")
    page.ttl_number.clear()  # unlimited
    assert page.isComplete() and page.validatePage()
    assert reason.text().startswith("How long lookup results are kept")
    assert some(some(page.ctx.draft).edit()).values["cache_ttl"] is None


def test_child_page_has_no_proxy_toggle(qtbot, ws):
    ws.update_integration("Root", IntegrationEdit("tip", values={"proxy": "true"}))
    ws.add_tenant("Acme")
    page = TipServicePage(wizard_ctx(ws, "Acme"))
    qtbot.addWidget(page)
    assert page.proxy is None and page.findChild(QCheckBox, "proxy") is None
    assert "on, as set for the Root tenant" in some(page.findChild(QLabel, "proxyNote")).text()
    assert not page.validatePage()  # no token yet
    add_token(qtbot, page, GOOD_TOKEN)
    assert page.validatePage()
    assert "proxy" not in some(page.ctx.draft).values and some(some(page.ctx.draft).edit()).values == {}
