"""Active Directory in the window, driven for real against the Samba DC: the wizard's pages
(the list of domain controllers added, refused, reordered and removed with the mouse and
the keyboard; the account with its checks as you type; Fetch certificate after StartTLS),
the check's result per server in the wizard and, once saved, in the main window's details,
with the warnings about the rights. In English and Russian; with XDRCONF_SCREENSHOTS set,
every page and result is saved there as PNG to look at."""

from __future__ import annotations

import os
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget, QWizard

from support.ad import configure_dc
from support.gui import as_a, no_dialog, paste_into, select_data, some, type_into, wait_idle
from support.https_peer import closed_port
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.integrations.ad.rights import ACTIONS
from xdrconf.qt.editors import ChoiceEditor, FieldsForm, HostListEditor, LineEditor, PemEditor, SecretEditor
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.operations import OperationsPanel
from xdrconf.qt.wizard import IntegrationClosingPage, SpecFormPage, TenantWizard

pytestmark = pytest.mark.slow


def shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("XDRCONF_SCREENSHOTS")
    if folder:
        for _round in range(3):  # the layouts settle
            QApplication.processEvents()
        widget.grab().save(os.path.join(folder, f"{name}.png"))


@pytest.fixture(params=["en", "ru"])
def lang(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    from xdrconf.core import i18n
    from xdrconf.qt.app import apply_language

    monkeypatch.setenv("XDRCONF_LANG", request.param)  # as a person starting xdrconf in Russian
    assert apply_language() == request.param  # the fixture _english_again sets English back
    assert i18n.language() == request.param
    return str(request.param)


def open_wizard(window: MainWindow, qtbot: Any, tenant: str = "Acme") -> TenantWizard:
    window.ws.add_tenant(tenant)
    window.refresh()
    window.select_tenant(window.ws.tenant(tenant).id)
    wizard = as_a(TenantWizard, window.open_wizard("ad"))
    qtbot.waitExposed(wizard)
    return wizard


def next_enabled(wizard: QWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def click_row(hosts: HostListEditor, row: int) -> None:
    item = hosts.list.item(row)
    QTest.mouseClick(
        hosts.list.viewport(), Qt.MouseButton.LeftButton, pos=hosts.list.visualItemRect(item).center()
    )


def form_of(page: SpecFormPage) -> FieldsForm:
    return page.form


def test_wizard_server_list_check_per_server_and_details(lang, window, qtbot, ws, samba_dc):
    dc = samba_dc
    reader = dc.users["reader"]
    wizard = open_wizard(window, qtbot)
    wizard.resize(760, 600)
    page = as_a(SpecFormPage, wizard.currentPage())
    hosts = as_a(HostListEditor, page.editors["servers"])
    reason = page.reasons["servers"]
    refused = closed_port()
    assert not next_enabled(wizard)  # no server yet
    shot(wizard, f"ad_{lang}_1_servers_empty")

    # Add with the button, then with Enter; a pasted list adds each.
    qtbot.keyClicks(hosts.entry, f"localhost:{dc.ports.ldaps}")
    QTest.mouseClick(hosts.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(hosts.entry, f"127.0.0.1:{refused}")
    QTest.keyClick(hosts.entry, Qt.Key.Key_Return)
    paste_into(hosts.entry, "dc8.xdrtest.invalid, dc9.xdrtest.invalid:636")
    QTest.keyClick(hosts.entry, Qt.Key.Key_Return)
    assert hosts.items() == [
        f"localhost:{dc.ports.ldaps}",
        f"127.0.0.1:{refused}",
        "dc8.xdrtest.invalid",
        "dc9.xdrtest.invalid:636",
    ]
    assert hosts.entry.text() == ""
    # What cannot be a server stays in the line, the form says why, Next waits.
    for bad, words in (
        ("dc_1.xdrtest.invalid", "is not a valid host name"),
        ("dc8.xdrtest.invalid", "dc8.xdrtest.invalid is listed twice"),
        ("ldaps://dc7.xdrtest.invalid", "is a URL: enter only host or host:port"),
    ):
        type_into(hosts.entry, bad)
        QTest.mouseClick(hosts.add_button, Qt.MouseButton.LeftButton)
        assert hosts.entry.text() == bad and hosts.list.count() == 4
        assert not next_enabled(wizard)
        if lang == "en":
            assert words in reason.text()
    shot(wizard, f"ad_{lang}_2_servers_refused")
    type_into(hosts.entry, "")
    # Reorder with the mouse and Move up / Move down; remove with Remove and with Delete.
    click_row(hosts, 1)
    assert hosts.up_button.isEnabled() and hosts.down_button.isEnabled()
    QTest.mouseClick(hosts.up_button, Qt.MouseButton.LeftButton)
    assert hosts.items()[:2] == [f"127.0.0.1:{refused}", f"localhost:{dc.ports.ldaps}"]
    assert hosts.list.currentRow() == 0 and not hosts.up_button.isEnabled()
    click_row(hosts, 2)
    QTest.mouseClick(hosts.down_button, Qt.MouseButton.LeftButton)
    assert hosts.items()[2:] == ["dc9.xdrtest.invalid:636", "dc8.xdrtest.invalid"]
    assert not hosts.down_button.isEnabled()
    QTest.mouseClick(hosts.remove_button, Qt.MouseButton.LeftButton)  # dc8, the current row
    click_row(hosts, 2)
    QTest.keyClick(hosts.list, Qt.Key.Key_Delete)
    assert hosts.items() == [f"127.0.0.1:{refused}", f"localhost:{dc.ports.ldaps}"]
    # A port that does not go with LDAPS is said on the closing page; the default is LDAPS.
    security = as_a(ChoiceEditor, page.editors["security"])
    assert security.combo.currentData() == "ldaps"
    select_data(security.combo, "starttls")
    select_data(security.combo, "ldaps")
    type_into(as_a(LineEditor, page.editors["timeout"]).edit, "2")
    assert next_enabled(wizard), page.problems()
    shot(wizard, f"ad_{lang}_3_servers")
    wizard.next()

    page = as_a(SpecFormPage, wizard.currentPage())
    user = as_a(LineEditor, page.editors["username"]).edit
    qtbot.keyClicks(user, "reader")
    assert not next_enabled(wizard)
    if lang == "en":
        assert "'reader' is a bare account name" in page.reasons["username"].text()
    shot(wizard, f"ad_{lang}_4_account_bare")
    qtbot.keyClicks(user, "@xdrtest.local")
    qtbot.keyClicks(as_a(SecretEditor, page.editors["password"]).edit, reader.password)
    base = as_a(LineEditor, page.editors["base_dn"]).edit
    qtbot.keyClicks(base, "OU=Staff DC=xdrtest")
    assert not next_enabled(wizard)
    type_into(base, dc.staff_ou)
    assert next_enabled(wizard)
    shot(wizard, f"ad_{lang}_5_account")
    wizard.next()

    page = as_a(SpecFormPage, wizard.currentPage())
    pem = as_a(PemEditor, page.editors["tls_ca"])
    pem.text.setFocus()
    from PySide6.QtGui import QGuiApplication, QKeySequence

    QGuiApplication.clipboard().setText(dc.ca_pem)
    QTest.keySequence(pem.text, QKeySequence(QKeySequence.StandardKey.Paste))
    fetch = page.fetch_box
    fetch.update_targets()
    assert [fetch.target_combo.itemText(i) for i in range(fetch.target_combo.count())] == [
        f"127.0.0.1:{refused}",
        f"localhost:{dc.ports.ldaps}",
    ]
    fetch.target_combo.setFocus()
    QTest.keyClick(fetch.target_combo, Qt.Key.Key_Down)  # the second server, the DC
    assert fetch.target_combo.currentText() == f"localhost:{dc.ports.ldaps}"
    QTest.mouseClick(fetch.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fetch.info is not None, timeout=10000)
    assert fetch.info.sha256 == dc.cert.sha256
    assert format_fingerprint(dc.cert.sha256)[:20] in fetch.label.text()
    shot(wizard, f"ad_{lang}_6_certificate")
    assert dc.relay("ldaps").wait_idle()
    wizard.next()

    closing = as_a(IntegrationClosingPage, wizard.currentPage())
    box = closing.check_box
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        QTest.mouseClick(box.button, Qt.MouseButton.LeftButton)
    first, second = blocker.args[0]
    assert (first.target, first.category.value) == (f"127.0.0.1:{refused}", "unreachable")
    assert (second.target, second.category.value) == (f"localhost:{dc.ports.ldaps}", "ok"), second.message
    assert second.details["rights"] == dict.fromkeys(ACTIONS, "no")
    shown = box.outcome.text()
    assert shown.index(f"127.0.0.1:{refused}") < shown.index(f"localhost:{dc.ports.ldaps}")
    assert shown.count("⚠") == 3  # may not lock, reset, add to a group
    if lang == "en":
        assert "This account may not reset passwords" in shown
    shot(wizard, f"ad_{lang}_7_checked")
    assert dc.relay("ldaps").wait_idle()
    assert ws.tenant("Acme").integrations == {}  # checked, not saved

    wizard.next()  # the summary
    shot(wizard, f"ad_{lang}_8_summary")
    wizard.accept()
    qtbot.waitUntil(lambda: "ad" in ws.tenant("Acme").integrations, timeout=10000)
    wait_idle(qtbot, window)
    state = ws.tenant("Acme").integrations["ad"]
    assert state.settings["servers"] == [
        {"host": "127.0.0.1", "port": refused},
        {"host": "localhost", "port": dc.ports.ldaps},
    ]
    assert (state.settings["username"], state.settings["base_dn"], state.settings["timeout"]) == (
        reader.upn,
        dc.staff_ou,
        2,
    )
    assert reader.password not in ws.file.path.read_text()

    # The check from the main window: the results of both servers in the details.
    window.select_integration("ad")
    window.act_check.trigger()
    qtbot.waitUntil(lambda: bool(ws.tenant("Acme").integrations["ad"].results), timeout=30000)
    wait_idle(qtbot, window)
    details = window.details.toPlainText()
    assert f"127.0.0.1:{refused}" in details and f"localhost:{dc.ports.ldaps}" in details
    assert details.count("⚠") == 3
    model = window.table_model
    if lang == "en":
        assert model.data(model.index(model.row_of("ad"), 3)).startswith("1 of 2 failed: Unreachable")
    window.resize(1180, 720)
    shot(window, f"ad_{lang}_9_main_window")
    assert dc.relay("ldaps").wait_idle()


# ---- the Operations tab ---------------------------------------------------------------------
def operations_tab(window: MainWindow, tid: str) -> OperationsPanel:
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("ad")
    assert window.act_operations.isEnabled()
    window.act_operations.trigger()
    return as_a(OperationsPanel, window.operations)


def run_op(qtbot: Any, panel: OperationsPanel) -> list[Any]:
    with qtbot.waitSignal(panel.ran, timeout=30000) as blocker, no_dialog(qtbot):
        QTest.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    return list(blocker.args[0])


def op_line(panel: OperationsPanel, name: str) -> Any:
    return as_a(LineEditor, some(panel.form).editors[name]).edit


def test_operations_tab_find_user_rights_and_check(lang, window, qtbot, ws, samba_dc):
    dc = samba_dc
    tid = configure_dc(ws, dc, "helpdesk")
    panel = operations_tab(window, tid)
    window.resize(1180, 760)
    assert [panel.picker.itemData(i) for i in range(panel.picker.count())] == ["check", "find-user", "rights"]
    assert panel.operation.name == "find-user"  # the first one besides the check
    # find-user: typed into the tab's field, run, the account's state in the table.
    qtbot.keyClicks(op_line(panel, "name"), "lena")
    [found] = run_op(qtbot, panel)
    assert found.ok, found.message
    assert panel.rows_model.rowCount() == 1
    row = dict(zip(panel.rows_model.headers, panel.rows_model.cells[0], strict=True))
    if lang == "en":
        assert panel.rows_model.headers == ["Account", "Display name", "State", "Groups", "DN"]
        assert row["Account"] == "lena" and "locked out" in row["State"]
    assert dc.users["lena"].dn in panel.rows_model.cells[0]
    shot(window, f"ad_{lang}_10_operations_find_user")
    assert dc.relay("ldaps").wait_idle()

    # rights: picked, the account and the group typed; helpdesk may do all three.
    panel.picker.setFocus()
    select_data(panel.picker, "rights")
    assert panel.operation.name == "rights"
    qtbot.keyClicks(op_line(panel, "account"), "alice")
    qtbot.keyClicks(op_line(panel, "group"), "Finance")
    [outcome] = run_op(qtbot, panel)
    assert outcome.details["rights"] == {"lock": "yes", "reset": "yes", "group": "no"}
    assert [cells[1] for cells in panel.rows_model.cells] == ["alice", "alice", "Finance"]
    assert panel.outcome_label.text().count("⚠") == 1
    if lang == "en":
        assert [cells[2] for cells in panel.rows_model.cells] == ["yes", "yes", "no"]
        assert "may not add users to security groups (Finance)" in panel.outcome_label.text()
    shot(window, f"ad_{lang}_11_operations_rights")
    assert dc.relay("ldaps").wait_idle()

    # The check from the tab: one result per server, kept as the last check.
    select_data(panel.picker, "check")
    [checked] = run_op(qtbot, panel)
    assert checked.ok and checked.details["rights"]["reset"] in ("yes", "partial")
    qtbot.waitUntil(lambda: bool(ws.tenant("Acme").integrations["ad"].results), timeout=10000)
    wait_idle(qtbot, window)
    shot(window, f"ad_{lang}_12_operations_check")
    assert dc.relay("ldaps").wait_idle()
