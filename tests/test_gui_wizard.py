"""The tenant wizard end to end for KUMA: validation as you type, secrets (keyring only,
never in a file or a log, never pre-filled), the summary, Finish and Cancel, and
"Check connection" / "Fetch certificate" against a real HTTPS peer."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from support.gui import files_containing, wait_idle
from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core.fields import format_fingerprint
from xdrconf.qt.wizard import IntegrationClosingPage, SpecFormPage, SummaryPage

SECRET = "kuma-wizard-secret-7f3a9c1e"


def next_enabled(wizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def editor(page, name):
    return page.editors[name]


def open_setup(window, ws, tenant="Acme"):
    ws.add_tenant(tenant)
    window.refresh()
    window.select_tenant(ws.tenant(tenant).id)
    window.act_setup.trigger()
    return window.wizard


def test_kuma_end_to_end_with_validation(window, qtbot, ws, caplog, test_ca):
    caplog.set_level(logging.DEBUG)
    wizard = open_setup(window, ws)
    opening = wizard.currentPage()
    assert not next_enabled(wizard)  # nothing chosen yet
    assert all(box.isEnabled() for box in opening.boxes.values())  # every integration is built
    opening.boxes["kuma"].setChecked(True)
    assert next_enabled(wizard)
    wizard.next()

    page = wizard.currentPage()
    assert isinstance(page, SpecFormPage) and page.title() == "KUMA REST API — connection"
    assert not next_enabled(wizard)  # host is required
    # Until the user types, the hint stays under the field (never "is required").
    assert page.reasons["host"].text().startswith("Host name or IP address of the KUMA")
    qtbot.keyClicks(editor(page, "host").edit, "kuma.acme.invalid")
    assert next_enabled(wizard)
    port = editor(page, "port").edit
    assert port.text() == "7223"  # the default
    port.clear()
    qtbot.keyClicks(port, "99999")
    assert not next_enabled(wizard)
    assert page.reasons["port"].text() == "99999 is out of range; enter 1 to 65535"
    port.clear()
    qtbot.keyClicks(port, "7443")
    assert next_enabled(wizard) and page.reasons["port"].text().startswith("Port of the KUMA")
    editor(page, "api_version").set_value("v2.1")
    wizard.next()

    page = wizard.currentPage()
    token = editor(page, "token")
    assert token.edit.echoMode() == token.edit.EchoMode.Password
    assert token.edit.text() == "" and not token.replace_button.isVisibleTo(page)
    assert not next_enabled(wizard)
    qtbot.keyClicks(token.edit, SECRET)
    assert next_enabled(wizard)
    wizard.next()

    page = wizard.currentPage()
    assert page.title() == "Server certificate"
    qtbot.keyClicks(editor(page, "tls_pin_sha256").edit, "12:34")
    assert not next_enabled(wizard) and "64 hexadecimal" in page.reasons["tls_pin_sha256"].text()
    editor(page, "tls_pin_sha256").edit.clear()
    editor(page, "tls_ca").set_value(test_ca.cert_pem)
    assert next_enabled(wizard)
    wizard.next()

    closing = wizard.currentPage()
    assert isinstance(closing, IntegrationClosingPage)
    assert closing.toggle.isChecked()
    wizard.next()

    summary = wizard.currentPage()
    assert isinstance(summary, SummaryPage)
    lines = summary.lines["kuma"]
    assert "KUMA Core host: kuma.acme.invalid" in lines
    assert "Port: 7443 (was 7223)" in lines
    assert "API version: v2.1 (was v1)" in lines
    assert "CA certificate: a certificate (was none)" in lines
    assert "API token: will be stored in the OS keyring" in lines
    assert "Will be turned on" in lines
    assert SECRET not in summary.text.text()
    assert ws.tenant("Acme").integrations == {}  # nothing saved before Finish

    with qtbot.waitSignal(wizard.applied, timeout=10000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    wait_idle(qtbot, window)
    state = ws.tenant("Acme").integrations["kuma"]
    assert state.enabled
    assert state.settings["host"] == "kuma.acme.invalid" and state.settings["port"] == 7443
    assert state.settings["api_version"] == "v2.1"
    assert ws.secret(ws.tenant("Acme"), "kuma", "token") == SECRET
    assert files_containing(ws.config_dir, SECRET) == []
    assert SECRET not in caplog.text
    row = window.current_row()
    assert row is None or row.kind != "kuma" or row.enabled
    assert window.wizard is None


def test_cancel_changes_nothing(window, qtbot, ws):
    wizard = open_setup(window, ws)
    before = ws.file.path.read_bytes()
    wizard.currentPage().boxes["kuma"].setChecked(True)
    wizard.next()
    qtbot.keyClicks(editor(wizard.currentPage(), "host").edit, "kuma.example.invalid")
    wizard.next()
    qtbot.keyClicks(editor(wizard.currentPage(), "token").edit, SECRET)
    wizard.button(QWizard.WizardButton.CancelButton).click()
    wait_idle(qtbot, window)
    assert ws.file.path.read_bytes() == before
    assert ws.tenant("Acme").integrations == {}
    assert files_containing(ws.config_dir, SECRET) == []


def test_configure_starts_at_the_integration_and_keeps_stored_secret(window, qtbot, ws):
    tid = configure(ws, 7223, tenant="Acme", token=SECRET)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    window.act_configure.trigger()
    wizard = window.wizard
    page = wizard.currentPage()
    assert page.title() == "KUMA REST API — connection"
    assert editor(page, "host").edit.text() == "127.0.0.1"
    wizard.next()
    token = editor(wizard.currentPage(), "token")
    assert token.edit.text() == "" and token.edit.placeholderText() == "stored — leave empty to keep"
    assert token.replace_button.isVisibleTo(wizard.currentPage())
    assert not token.edit.isEnabled() and next_enabled(wizard)
    token.replace_button.click()
    assert token.edit.isEnabled()
    qtbot.keyClicks(token.edit, "replacement-token")
    token.replace_button.click()  # "Keep stored": back to keeping the stored one
    assert token.edit.text() == ""
    wizard.next()
    wizard.next()
    wizard.next()
    assert wizard.currentPage().lines["kuma"] == []
    old_ref = ws.tree.get(tid).integrations["kuma"].secrets["token"]
    wizard.button(QWizard.WizardButton.FinishButton).click()
    wait_idle(qtbot, window)
    assert ws.tree.get(tid).integrations["kuma"].secrets["token"] == old_ref
    assert ws.secret(ws.tree.get(tid), "kuma", "token") == SECRET


def test_replacing_a_secret_says_so_and_stores_the_new_one(window, qtbot, ws):
    tid = configure(ws, 7223, tenant="Acme", token=SECRET)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    wizard = window.configure_integration()
    wizard.next()
    token = editor(wizard.currentPage(), "token")
    token.replace_button.click()
    qtbot.keyClicks(token.edit, "new-token-value-42")
    wizard.next()
    wizard.next()
    wizard.next()
    assert wizard.currentPage().lines["kuma"] == ["API token: will be replaced"]
    with qtbot.waitSignal(wizard.applied, timeout=10000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    assert ws.secret(ws.tree.get(tid), "kuma", "token") == "new-token-value-42"


def test_turning_on_without_a_token_is_refused_on_the_closing_page(window, qtbot, ws):
    wizard = open_setup(window, ws)
    wizard.currentPage().boxes["kuma"].setChecked(True)
    wizard.next()
    qtbot.keyClicks(editor(wizard.currentPage(), "host").edit, "kuma.example.invalid")
    wizard.next()
    # The token page is invalid without a token: Next is disabled there; the hint stays
    # until something is typed and erased again.
    assert not next_enabled(wizard)
    token = editor(wizard.currentPage(), "token").edit
    assert wizard.currentPage().reasons["token"].text().startswith("The token created in KUMA")
    qtbot.keyClicks(token, "x")
    token.clear()
    assert not next_enabled(wizard)
    assert wizard.currentPage().reasons["token"].text() == "is required"


def drive_to_closing(wizard, qtbot, port, token, ca=None):
    page = wizard.currentPage()
    editor(page, "host").edit.setText("127.0.0.1")
    editor(page, "port").edit.setText(str(port))
    wizard.next()
    qtbot.keyClicks(editor(wizard.currentPage(), "token").edit, token)
    wizard.next()
    if ca:
        editor(wizard.currentPage(), "tls_ca").set_value(ca)
    trust = wizard.currentPage()
    wizard.next()
    return trust, wizard.currentPage()


def test_check_connection_in_the_wizard(window, qtbot, ws, kuma, test_ca):
    wizard = open_setup(window, ws)
    wizard.currentPage().boxes["kuma"].setChecked(True)
    wizard.next()
    _, closing = drive_to_closing(wizard, qtbot, kuma.port, GOOD_TOKEN, test_ca.cert_pem)
    box = closing.check_box
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        box.button.click()
        assert box.progress.isVisible() and box.cancel_button.isVisible()
    [result] = blocker.args[0]
    assert result.category.value == "ok", result.message
    assert "soar" in box.outcome.text() and "ok" in box.outcome.text()
    assert kuma.requests[-1].headers["Authorization"] == f"Bearer {GOOD_TOKEN}"
    assert ws.tenant("Acme").integrations == {}  # checked, not saved

    wizard.back()
    wizard.back()
    token = editor(wizard.currentPage(), "token").edit
    token.clear()
    qtbot.keyClicks(token, "wrong-token")
    wizard.next()
    wizard.next()
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        box.button.click()
    assert blocker.args[0][0].category.value == "auth_failed"
    assert "wrong-token" not in box.outcome.text()


def test_check_in_the_wizard_can_be_cancelled(window, qtbot, ws, kuma, test_ca):
    kuma.api.mode = "hang"
    wizard = open_setup(window, ws)
    wizard.currentPage().boxes["kuma"].setChecked(True)
    wizard.next()
    _, closing = drive_to_closing(wizard, qtbot, kuma.port, GOOD_TOKEN, test_ca.cert_pem)
    box = closing.check_box
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        box.button.click()
        qtbot.waitUntil(lambda: len(kuma.requests) == 1, timeout=10000)
        box.cancel_button.click()
    assert blocker.args[0][0].category.value == "cancelled"
    assert "cancelled" in box.outcome.text()


def test_fetch_certificate_and_pin_it(window, qtbot, ws, kuma, server_cert):
    wizard = open_setup(window, ws)
    wizard.currentPage().boxes["kuma"].setChecked(True)
    wizard.next()
    page = wizard.currentPage()
    editor(page, "host").edit.setText("127.0.0.1")
    editor(page, "port").edit.setText(str(kuma.port))
    wizard.next()
    qtbot.keyClicks(editor(wizard.currentPage(), "token").edit, GOOD_TOKEN)
    wizard.next()
    trust = wizard.currentPage()
    fetch = trust.fetch_box
    fetch.button.click()
    qtbot.waitUntil(lambda: fetch.info is not None, timeout=10000)
    shown = fetch.label.text()
    expected = format_fingerprint(
        server_cert.sha256 if isinstance(server_cert.sha256, str) else server_cert.sha256()
    )
    assert "Subject:" in shown and "Issuer:" in shown and "Valid:" in shown
    assert expected in shown.replace("<br>", "")
    assert kuma.requests == []  # handshake only: nothing was sent
    fetch.pin_button.click()
    assert editor(trust, "tls_pin_sha256").edit.text() == expected
    assert next_enabled(wizard)
    wizard.next()
    box = wizard.currentPage().check_box
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        box.button.click()
    assert blocker.args[0][0].category.value == "ok", blocker.args[0][0].message


def test_check_in_main_window_records_the_result(window, qtbot, ws, kuma, test_ca):
    tid = configure(ws, kuma.port, tenant="Acme", token=GOOD_TOKEN, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    assert window.act_check.isEnabled()
    window.act_check.trigger()
    assert window.current_row().running
    qtbot.waitUntil(lambda: bool(ws.tree.get(tid).integrations["kuma"].results), timeout=15000)
    wait_idle(qtbot, window)
    [saved] = ws.tree.get(tid).integrations["kuma"].results
    assert saved["category"] == "ok"
    model = window.table_model
    cell = model.data(model.index(model.row_of("kuma"), 3))
    assert cell.startswith("OK · ")  # the words; the message is in the tooltip and the details
    assert "soar" in model.data(model.index(model.row_of("kuma"), 3), Qt.ItemDataRole.ToolTipRole)
    assert "OK" in window.details.toPlainText() and "soar" in window.details.toPlainText()
    assert '"category": "ok"' in ws.file.path.read_text()


def test_fetch_certificate_reads_the_portal_of_tip(window, qtbot, ws, server_cert, test_ca):
    """Integrations without host/port fields (TIP's portal URLs) say where "Fetch
    certificate" connects through their spec."""
    from support.https_peer import HttpsPeer, Reply
    from xdrconf.core.workspace import IntegrationEdit

    with HttpsPeer(lambda req: Reply(404, {}), cert=server_cert) as portal:
        ws.add_tenant("Acme")
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "tip",
                values={"access": "general", "opentip_url": f"https://localhost:{portal.port}"},
                secrets={"token": "tip-token-123"},
            ),
        )
        window.refresh()
        window.select_tenant(ws.tenant("Acme").id)
        window.select_integration("tip")
        window.act_configure.trigger()
        wizard = window.wizard
        for _ in range(6):
            if hasattr(wizard.currentPage(), "fetch_box"):
                break
            wizard.next()
        fetch = wizard.currentPage().fetch_box
        fetch.button.click()
        qtbot.waitUntil(lambda: fetch.info is not None, timeout=10000)
        assert format_fingerprint(server_cert.sha256) in fetch.label.text().replace("<br>", "")
        assert portal.requests == []
        wizard.reject()
