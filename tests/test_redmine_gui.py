"""Redmine in the window, against the real Redmine (support/redmine.py): the wizard's pages
driven by typing into the real widgets, Choose… beside the project (the projects operation
in a worker, picked in the real list dialog), the check's result with its warnings, Finish,
and the check from the main window; in English and in Russian. With XDRCONF_SCREENSHOTS set
to a folder, each page and result is saved there as PNG."""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget, QWizard

from support.gui import (
    Expected,
    accept,
    as_a,
    click,
    close_window,
    expect_dialog,
    expect_dialogs,
    files_containing,
    in_order,
    no_dialog,
    open_window,
    operations_tab,
    run_in_tab,
    select_data,
    some,
    tab_facts,
    type_into,
    type_text,
    wait_idle,
)
from support.redmine import Redmine, configure
from support.tcp_relay import TcpRelay
from xdrconf.core.fields import ChoicesFrom, Field
from xdrconf.core.workspace import Workspace
from xdrconf.qt.dialogs import ChooseDialog
from xdrconf.qt.editors import FieldGrid, LineEditor
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.operations import OperationsPanel
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


# ---- the Operations tab --------------------------------------------------------------------
def open_tab(window: MainWindow, tid: str) -> OperationsPanel:
    window.refresh()
    return operations_tab(window, tid, "redmine")


def yes() -> Expected[Any]:
    return Expected(QMessageBox, click(QMessageBox.StandardButton.Yes), name="confirmBox")


def test_operations_tab_creates_an_issue_and_lists_projects(
    window: MainWindow, qtbot: Any, ws: Workspace, redmine: Redmine, relay: TcpRelay
) -> None:
    url = f"https://127.0.0.1:{relay.port}"
    key = redmine.users["member"].api_key
    tid = configure(ws, redmine, url, tracker="Feature")
    panel = open_tab(window, tid)
    pickable = [panel.picker.itemData(i) for i in range(panel.picker.count())]
    assert pickable == ["check", "create-issue", "projects"]
    assert panel.operation.name == "create-issue"  # the first one besides the check
    assert "Changes data on the peer" in panel.notice.text()
    form = some(panel.form)
    assert set(form.editors) == {"subject", "description"}

    # The subject is required: Run says so and sends nothing.
    with no_dialog(qtbot):
        panel.run_button.click()
    assert "Subject" in panel.state_label.text() and not panel.running
    assert relay.accepted == 0
    type_into(as_a(LineEditor, form.editors["subject"]).edit, "XDR: brute force on host-7")
    form.editors["description"].set_value("Alert 42\nfrom KUMA")
    before = redmine.issues_in("soc-alerts")

    # No (the default) creates nothing; Yes creates the issue, read back from Redmine.
    asked = Expected(QMessageBox, click(QMessageBox.StandardButton.No), name="confirmBox")
    with expect_dialogs(qtbot, asked):
        panel.run_button.click()
    assert "'Create issue'" in asked.text and "'Root tenant/Acme'" in asked.text
    assert f"on 127.0.0.1:{relay.port}?" in asked.text
    assert redmine.issues_in("soc-alerts") == before and relay.accepted == 0
    [outcome] = run_in_tab(qtbot, panel, yes())
    assert outcome.ok, outcome.message
    number = outcome.data["id"]
    created = f"Created issue #{number} in project 'SOC alerts' with tracker Feature"
    assert html.escape(created) in panel.outcome_label.text()
    assert tab_facts(panel)["url"] == f"{url}/issues/{number}"
    assert redmine.issues_in("soc-alerts") == before + 1
    issue = redmine.read_issue(number)
    assert issue["subject"] == "XDR: brute force on host-7" and issue["tracker"]["name"] == "Feature"
    assert relay.wait_idle()
    shot(window, "en_6_operations_create_issue")

    # The projects, as a table.
    select_data(panel.picker, "projects")
    assert some(panel.form).isHidden()  # no parameters
    [listed] = run_in_tab(qtbot, panel)
    assert listed.ok and "'xdr-member' can see 4 projects" in listed.message
    assert panel.rows_model.headers == ["Identifier", "Name", "ID", "Note"]
    assert sorted(row[0] for row in panel.rows_model.cells) == [
        "soc-alerts",
        "soc-notrack",
        "soc-public",
        "soc-restricted",
    ]
    assert relay.wait_idle()
    shot(window, "en_7_operations_projects")
    for text in (panel.outcome_label.text(), panel.json_view.toPlainText(), panel.copy()):
        assert key not in text
    assert files_containing(ws.config_dir, key) == []
    assert ws.tenant("Acme").integrations["redmine"].results == []  # only a check is kept


def test_choose_beside_an_operation_parameter_runs_on_the_saved_settings(
    window: MainWindow, qtbot: Any, ws: Workspace, redmine: Redmine, relay: TcpRelay
) -> None:
    """The Operations tab's parameter form (FieldGrid with the integration's context) puts
    Choose… beside a parameter with choices_from; with no draft it runs on the saved settings."""
    tid = configure(ws, redmine, f"https://127.0.0.1:{relay.port}", "viewer")
    panel = open_tab(window, tid)
    param = Field("target", "Target project", choices_from=ChoicesFrom("projects", "identifier", ("name",)))
    grid = FieldGrid([param], panel, chooser=panel.ctx, require=True)
    chooser = grid.choosers["target"]
    assert chooser.draft is None and chooser.text() == "Choose…"

    def pick(dialog: ChooseDialog) -> None:
        shown = [dialog.proxy.index(i, 0).data() for i in range(dialog.proxy.rowCount())]
        # The viewer is a member of soc-alerts; soc-public is public.
        assert shown == ["soc-alerts — SOC alerts", "soc-public — SOC public board"]
        in_order(type_text("chooseFilter", "public"), accept)(dialog)

    with expect_dialog(qtbot, ChooseDialog, pick, name="chooseDialog"):
        chooser.click()
    assert grid.editors["target"].value() == "soc-public"
    assert relay.wait_idle()
    grid.deleteLater()


def test_operations_tab_in_russian(
    qtbot: Any, ws: Workspace, redmine: Redmine, relay: TcpRelay, monkeypatch: Any
) -> None:
    """XDRCONF_LANG=ru before the window opens: all of it in Russian."""
    from xdrconf.qt.app import apply_language

    monkeypatch.setenv("XDRCONF_LANG", "ru")
    assert apply_language(None) == "ru"
    tid = configure(ws, redmine, f"https://127.0.0.1:{relay.port}")
    window = open_window(qtbot, ws)
    try:
        panel = open_tab(window, tid)
        assert window.bottom_tabs.tabText(window.bottom_tabs.currentIndex()) == "Операции"
        texts = [panel.picker.itemText(i) for i in range(panel.picker.count())]
        assert texts == ["Проверить подключение", "Создать задачу", "Список проектов"]
        assert [some(panel.form).labels[n].text() for n in ("subject", "description")] == [
            "Тема *:",
            "Описание:",
        ]
        shot(window, "ru_6_operations_create_issue")
        select_data(panel.picker, "projects")
        [listed] = run_in_tab(qtbot, panel)
        assert listed.ok
        assert "видит в Redmine 4 проекта" in panel.outcome_label.text(), panel.outcome_label.text()
        assert panel.rows_model.headers == ["Идентификатор", "Название", "ID", "Примечание"]
        assert relay.wait_idle()
        shot(window, "ru_7_operations_projects")
    finally:
        close_window(qtbot, window)
