"""The KASAP settings page (token, issue date, expiry, rights checklist) and its panel
(expiry, rights, learning groups fetched in a worker from a real KASAP-like HTTPS peer)."""

from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import QDate

from support.gui import as_a, some
from support.kasap_peer import GOOD_TOKEN
from xdrconf.core import catalog
from xdrconf.core.workspace import IntegrationEdit
from xdrconf.qt.integrations import IntegrationDraft, IntegrationUiContext, panel, wizard_pages
from xdrconf.qt.integrations.kasap import KasapPage, KasapPanel, expiry_html
from xdrconf.qt.wizard import SpecFormPage

SPEC = catalog.spec_for("kasap")


def wizard_ctx(ws, tenant="Acme"):
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    t = ws.tenant(tenant)
    ctx = IntegrationUiContext(
        ws, t.id, "kasap", SPEC, draft=IntegrationDraft.for_state(SPEC, t.integrations.get("kasap"))
    )
    ctx.form_page = lambda page: SpecFormPage(ctx, page)  # as the wizard does
    return ctx


def type_token(qtbot, page, value):
    qtbot.keyClicks(page.token.edit, value)


def test_page_new_token_sets_today_and_saves(qtbot, ws, test_ca):
    ctx = wizard_ctx(ws)
    pages = some(wizard_pages(ctx))
    for p in pages:
        qtbot.addWidget(p)
    page = pages[0]
    assert isinstance(page, KasapPage)
    assert page.issued_text() == "" and "cannot be tracked" in page.expiry.text()
    assert [cb.text() for cb in page.rights.values()] == [
        "GET /openapi/v1/groups",
        "POST /openapi/v1/report",
        "PATCH /openapi/v1/user/:userid",
    ]
    qtbot.keyClicks(page.url.edit, "https://kasap.acme.invalid/openapi/v1")
    type_token(qtbot, page, GOOD_TOKEN)
    today = _dt.date.today()
    assert page.issued_text() == today.isoformat()
    assert "expires on" in page.expiry.text() and "in 36" in page.expiry.text()
    for cb in page.rights.values():
        cb.setChecked(True)
    as_a(SpecFormPage, pages[1]).editors["tls_ca"].set_value(test_ca.cert_pem)
    assert page.validatePage() and pages[1].isComplete()
    ws.update_integrations(ctx.tenant_id, [ctx.draft.edit()])
    s = ws.tenant("Acme").integrations["kasap"].settings
    assert s["url"] == "https://kasap.acme.invalid"
    assert s["token_issued"] == today.isoformat()
    assert s["rights_confirmed"] == ["groups", "report", "user"]
    assert s["tls_ca"].startswith("-----BEGIN CERTIFICATE-----")


def test_user_date_wins_over_today(qtbot, ws):
    ctx = wizard_ctx(ws)
    page = KasapPage(ctx)
    qtbot.addWidget(page)
    qtbot.keyClicks(page.url.edit, "https://kasap.acme.invalid")
    page.issued.setDate(QDate(2026, 1, 10))
    type_token(qtbot, page, "t")
    assert page.issued_text() == "2026-01-10"
    assert page.validatePage()
    ws.update_integrations(ctx.tenant_id, [ctx.draft.edit()])
    assert ws.tenant("Acme").integrations["kasap"].settings["token_issued"] == "2026-01-10"


def test_bad_url_refused_as_you_type(qtbot, ws):
    page = KasapPage(wizard_ctx(ws))
    qtbot.addWidget(page)
    type_token(qtbot, page, "t")
    reason = page.form.reasons["url"]
    assert reason.text().startswith("The OpenAPI URL shown in KASAP")  # the hint, not "is required"
    qtbot.keyClicks(page.url.edit, "kasap.acme.invalid")
    assert reason.text() == "must start with https://"  # at once, not after Next
    assert not page.isComplete() and not page.validatePage()
    page.url.edit.clear()
    assert reason.text() == "enter a URL"
    qtbot.keyClicks(page.url.edit, "https://kasap.acme.invalid")
    assert page.isComplete() and reason.text().startswith("The OpenAPI URL shown in KASAP")


def test_expiry_colours_follow_the_flags():
    issued = "2025-03-10"
    assert "#2e7d32" in expiry_html(issued, _dt.date(2026, 2, 7))  # 31 days left
    assert "#ef8f00" in expiry_html(issued, _dt.date(2026, 2, 8))  # 30 days left
    assert "#c62828" in expiry_html(issued, _dt.date(2026, 3, 10))  # expiry day
    assert "expired on 2026-03-10" in expiry_html(issued, _dt.date(2026, 4, 1))


def test_panel_shows_the_expiry_and_the_rights(qtbot, ws, test_ca):
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "kasap",
            values={
                "url": "https://kasap.acme.invalid",
                "tls_ca": test_ca.cert_pem,
                "rights_confirmed": "groups",
            },
            secrets={"token": GOOD_TOKEN},
            enabled=True,
        ),
    )
    ctx = IntegrationUiContext(ws, ws.tenant("Acme").id, "kasap", SPEC)
    widget = panel(ctx)
    qtbot.addWidget(widget)
    assert isinstance(widget, KasapPanel)
    assert "expires on" in widget.expiry.text()
    assert "POST /openapi/v1/report" in widget.rights.text()
    ws.update_integration("Acme", IntegrationEdit("kasap", values={"rights_confirmed": "all"}))
    widget.update_view()
    assert widget.rights.text() == "Token rights: all three confirmed."
