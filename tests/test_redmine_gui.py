"""Redmine in the window, against the real Redmine (support/redmine.py): the wizard's pages
driven by typing into the real widgets, Choose… beside the project (the projects operation
in a worker, picked in the real list dialog), the check's result with its warnings, Finish,
and the check from the main window; in English and in Russian. With XDRCONF_SCREENSHOTS set
to a folder, each page and result is saved there as PNG."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget, QWizard

from support.gui import accept, expect_dialog, files_containing, in_order, no_dialog, type_text, wait_idle
from support.redmine import Redmine
from support.tcp_relay import TcpRelay
from xdrconf.core.workspace import Workspace
from xdrconf.qt.dialogs import ChooseDialog
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.wizard import IntegrationClosingPage, SpecFormPage, TenantWizard

pytestmark = pytest.mark.slow


@pytest.fixture
def relay(redmine: Redmine) -> Iterator[TcpRelay]:
    with TcpRelay((redmine.host, redmine.ports["https"]), ipv6=False) as r:
        yield r


def shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("XDRCONF_SCREENSHOTS")
    if folder:
        widget.window().grab().save(os.path.join(folder, f"redmine_{name}.png"))


def open_wizard(window: MainWindow, ws: Workspace) -> TenantWizard:
    ws.add_tenant("Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.act_setup.trigger()
    wizard = window.wizard
    assert wizard is not None
    wizard.currentPage().boxes["redmine"].setChecked(True)
    wizard.next()
    return wizard


def form(wizard: TenantWizard) -> SpecFormPage:
    page = wizard.currentPage()
    assert isinstance(page, SpecFormPage), type(page)
    return page


def type_field(qtbot: Any, page: SpecFormPage, name: str, text: str) -> None:
    editor: Any = page.editors[name]
    edit = editor.edit
    edit.clear()
    qtbot.keyClicks(edit, text)


def next_enabled(wizard: TenantWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def drive_to_project(
    qtbot: Any, wizard: TenantWizard, redmine: Redmine, url: str, key: str, lang: str
) -> None:
    page = form(wizard)
    shot(page, f"{lang}_1_server_empty")
    type_field(qtbot, page, "url", url)
    type_field(qtbot, page, "api_key", key)
    assert next_enabled(wizard)
    shot(page, f"{lang}_1_server")
    wizard.next()
    trust = form(wizard)
    trust.editors["tls_ca"].set_value(redmine.ca.cert_pem)
    shot(trust, f"{lang}_2_certificate")
    wizard.next()


def check(qtbot: Any, closing: IntegrationClosingPage) -> list[Any]:
    box = closing.check_box
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        box.button.click()
    results: list[Any] = blocker.args[0]
    return results


def test_wizard_choose_check_finish_and_check_again(
    window: MainWindow, qtbot: Any, ws: Workspace, redmine: Redmine, relay: TcpRelay
) -> None:
    key = redmine.users["member"].api_key
    url = f"https://127.0.0.1:{relay.port}"
    wizard = open_wizard(window, ws)
    assert form(wizard).title() == "Redmine — server and API key"
    drive_to_project(qtbot, wizard, redmine, url, key, "en")

    page = form(wizard)
    assert page.title() == "Redmine — project"
    assert not next_enabled(wizard)  # the project is required
    chooser = page.form.choosers["project"]
    assert chooser.text() == "Choose…"
    shot(page, "en_3_project_empty")

    def pick_alerts(dialog: ChooseDialog) -> None:
        assert dialog.count.text() == "4 in all"
        shown = [dialog.proxy.index(i, 0).data() for i in range(dialog.proxy.rowCount())]
        assert "soc-notrack — SOC no issue tracking · no issue tracking" in shown
        assert "soc-alerts — SOC alerts" in shown
        shot(dialog, "en_3_choose")
        in_order(type_text("chooseFilter", "alerts"), accept)(dialog)

    with expect_dialog(qtbot, ChooseDialog, pick_alerts, name="chooseDialog") as seen:
        chooser.click()
    assert "'xdr-member' can see 4 projects in Redmine." in seen.text
    assert page.editors["project"].value() == "soc-alerts"
    assert not chooser.status.isVisible()
    type_field(qtbot, page, "tracker", "Feature")
    assert next_enabled(wizard)
    assert relay.wait_idle()
    shot(page, "en_3_project")
    wizard.next()

    closing = wizard.currentPage()
    assert isinstance(closing, IntegrationClosingPage)
    [result] = check(qtbot, closing)
    assert result.category.value == "ok", result.message
    text = closing.check_box.outcome.text()
    assert "takes issues with tracker Feature" in text and "xdr-reporter" in text
    assert key not in text
    assert relay.wait_idle()
    shot(closing, "en_4_checked")
    assert ws.tenant("Acme").integrations == {}  # checked, not saved
    wizard.next()
    with qtbot.waitSignal(wizard.applied, timeout=10000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    wait_idle(qtbot, window)
    state = ws.tenant("Acme").integrations["redmine"]
    assert (
        state.enabled and state.settings["project"] == "soc-alerts" and state.settings["tracker"] == "Feature"
    )
    assert ws.secret(ws.tenant("Acme"), "redmine", "api_key") == key
    assert files_containing(ws.config_dir, key) == []

    # The check from the main window: its result kept and shown.
    assert state.results == []  # the wizard's check was not kept
    window.select_integration("redmine")
    window.act_check.trigger()
    tid = ws.tenant("Acme").id
    qtbot.waitUntil(lambda: bool(ws.tree.get(tid).integrations["redmine"].results), timeout=15000)
    wait_idle(qtbot, window)
    assert "Connected to Redmine as 'xdr-member'" in window.details.toPlainText()
    model = window.table_model
    assert model.data(model.index(model.row_of("redmine"), 3)).startswith("OK · ")
    shot(window, "en_5_window")
    assert files_containing(ws.config_dir, key) == []


def test_choose_says_what_went_wrong_and_the_field_stays_typeable(
    window: MainWindow, qtbot: Any, ws: Workspace, redmine: Redmine, relay: TcpRelay
) -> None:
    wizard = open_wizard(window, ws)
    drive_to_project(qtbot, wizard, redmine, f"https://127.0.0.1:{relay.port}", "f" * 40, "en")
    page = form(wizard)
    chooser = page.form.choosers["project"]
    with no_dialog(qtbot):
        chooser.click()
        qtbot.waitUntil(lambda: chooser.task is None, timeout=15000)
    assert chooser.status.isVisible()
    assert chooser.status.text().startswith("Authentication failed: Redmine refused the API key (HTTP 401)")
    shot(page, "en_3_choose_failed")
    type_field(qtbot, page, "project", "soc-alerts")
    assert next_enabled(wizard)


def test_http_is_refused_until_chosen_and_then_warned(
    window: MainWindow, qtbot: Any, ws: Workspace, redmine: Redmine
) -> None:
    wizard = open_wizard(window, ws)
    page = form(wizard)
    type_field(qtbot, page, "url", redmine.http_url)
    type_field(qtbot, page, "api_key", redmine.users["member"].api_key)
    wizard.next()
    wizard.next()  # no CA: there is no TLS
    type_field(qtbot, form(wizard), "project", "soc-alerts")
    wizard.next()
    closing = wizard.currentPage()
    assert isinstance(closing, IntegrationClosingPage)
    assert "tick 'Allow plain HTTP'" in closing.reason.text()
    assert not closing.isComplete()
    [refused] = check(qtbot, closing)
    assert refused.category.value == "invalid_config"  # nothing was sent in clear
    wizard.back()
    wizard.back()
    wizard.back()
    box = form(wizard).editors["allow_http"].box  # type: ignore[attr-defined]
    assert box.text() == "Send the API key over plain HTTP (unencrypted)"
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().center())
    assert box.isChecked()
    for _step in range(3):
        wizard.next()
    assert closing.reason.text() == "" and closing.isComplete()
    [result] = check(qtbot, closing)
    assert result.level == "warning", result.message
    assert (
        "⚠ The URL is http://: the API key and the issues travel unencrypted"
        in closing.check_box.outcome.text()
    )
    shot(closing, "en_4_http_warning")


def test_the_wizard_in_russian(
    window: MainWindow, qtbot: Any, ws: Workspace, redmine: Redmine, relay: TcpRelay, monkeypatch: Any
) -> None:
    from xdrconf.core import i18n
    from xdrconf.qt.app import apply_language

    monkeypatch.setenv("XDRCONF_LANG", "ru")
    assert apply_language(None) == "ru"
    assert i18n.language() == "ru"
    wizard = open_wizard(window, ws)
    assert form(wizard).title() == "Redmine — сервер и ключ API"
    drive_to_project(
        qtbot, wizard, redmine, f"https://127.0.0.1:{relay.port}", redmine.users["outsider"].api_key, "ru"
    )
    page = form(wizard)
    assert page.title() == "Redmine — проект"
    chooser = page.form.choosers["project"]
    assert chooser.text() == "Выбрать…"

    def pick_public(dialog: ChooseDialog) -> None:
        shot(dialog, "ru_3_choose")
        accept(dialog)

    with expect_dialog(qtbot, ChooseDialog, pick_public):
        chooser.click()
    assert page.editors["project"].value() == "soc-public"
    shot(page, "ru_3_project")
    wizard.next()
    closing = wizard.currentPage()
    assert isinstance(closing, IntegrationClosingPage)
    [result] = check(qtbot, closing)
    assert result.level == "warning", result.message
    text = closing.check_box.outcome.text()
    assert "Подключено к Redmine как «xdr-outsider»" in text
    assert "не участник общедоступного проекта" in text
    shot(closing, "ru_4_checked")
