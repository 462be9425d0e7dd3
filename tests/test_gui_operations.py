"""The Operations tab of the main window (qt.operations), driven as a person does, against the
real peers: KUMA's receive, close and connector commands (a KUMA-like HTTPS peer), TIP's
lookup (the portal-like peer), KASAP's learning groups (its peer), the custom integration's
host keys (a real OpenSSH sshd); the notice and the Yes/No confirmation are real dialogs;
Cancel; a check run from the tab is kept; the keyboard; the minimum window size; Russian.

Screenshots: XDRCONF_SCREENSHOTS=/some/folder keeps the tab's renderings there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from support.gui import (
    Expected,
    accept,
    as_a,
    click,
    expect_dialog,
    expect_dialogs,
    no_dialog,
    reject,
    select_data,
    some,
    type_into,
    wait_idle,
)
from support.gui import (
    operations_tab as operations,
)
from support.gui import (
    run_in_tab as run,
)
from support.gui import (
    tab_facts as facts,
)
from support.https_peer import HttpsPeer
from support.kasap_peer import GOOD_TOKEN as KASAP_TOKEN
from support.kasap_peer import KasapApi
from support.kuma_peer import GOOD_TOKEN as KUMA_TOKEN
from support.kuma_peer import configure
from support.pki import TestCA
from support.sshd import Sshd
from support.sshd import available as sshd_available
from support.tip_peer import GOOD_TOKEN as TIP_TOKEN
from support.tip_peer import SHA256_RED, TipPortal
from xdrconf.core.i18n import set_language
from xdrconf.core.integrations.custom.keys import parse_public_key
from xdrconf.core.integrations.kuma.incidents import IncidentStore
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.editors import ChoiceEditor, LineEditor
from xdrconf.qt.main_window import MIN_SIZE, MainWindow
from xdrconf.qt.operations import OperationsPanel

SHOTS = os.environ.get("XDRCONF_SCREENSHOTS")


def shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        for _round in range(3):  # the layouts settle (a form was rebuilt, a table filled)
            QApplication.processEvents()
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture(autouse=True)
def _forget_incidents() -> Iterator[None]:
    yield
    IncidentStore.forget_all()


def tab_texts(window: MainWindow) -> list[str]:
    tabs = window.bottom_tabs
    return [tabs.tabText(i) for i in range(tabs.count())]


def line(panel: OperationsPanel, name: str) -> Any:
    return as_a(LineEditor, some(panel.form).editors[name]).edit


def combo(panel: OperationsPanel, name: str) -> QComboBox:
    return as_a(ChoiceEditor, some(panel.form).editors[name]).combo


def tabs_of_data(panel: OperationsPanel) -> list[str]:
    return [panel.data_tabs.tabText(i) for i in range(panel.data_tabs.count())]


def no_by_default(box: QMessageBox) -> None:
    """The Yes/No question defaults to No: pressing Enter answers No."""
    assert box.standardButton(box.defaultButton()) == QMessageBox.StandardButton.No
    click(QMessageBox.StandardButton.No)(box)


# ---- KUMA ------------------------------------------------------------------------------------
def test_kuma_receive_as_a_table_copied(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    kuma.api.add_alerts(12, events=2)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    assert tab_texts(window) == ["Details", "Incidents", "Operations", "History"]
    panel = operations(window, tid, "kuma")
    assert [panel.picker.itemText(i) for i in range(panel.picker.count())] == [
        "Check connection",
        "Receive incidents",
        "Close incident",
        "Run a connector command",
        "List KUMA tenants",
    ]
    assert panel.operation.name == "receive"  # the first one besides the check
    assert "every page" in panel.description.text()
    assert combo(panel, "status").currentData() == "new"
    [outcome] = run(qtbot, panel)
    assert outcome.ok and "12 new" in outcome.message
    assert "OK" in panel.outcome_label.text() and "12 new" in panel.outcome_label.text()
    assert tabs_of_data(panel) == ["Rows (12)", "JSON"]
    assert panel.rows_model.headers == ["ID", "Status", "Name"]
    assert panel.rows_model.rowCount() == 12
    shot(window, "operations-kuma-receive")
    # Copy: every row as tab-separated text with the header; a selected row alone.
    copied = panel.copy()
    assert copied.splitlines()[0] == "ID\tStatus\tName" and len(copied.splitlines()) == 13
    assert QGuiApplication.clipboard().text() == copied
    panel.rows_view.selectRow(2)
    panel.rows_view.setFocus()
    qtbot.keyClick(panel.rows_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert len(lines) == 2 and lines[1].split("\t")[0] == panel.rows_model.cells[2][0]
    assert KUMA_TOKEN not in panel.json_view.toPlainText()


@pytest.fixture
def one_alert(window: MainWindow, ws: Workspace, kuma: Any, test_ca: TestCA) -> tuple[OperationsPanel, Any]:
    """KUMA's Operations tab of tenant Acme, whose KUMA has one new alert."""
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    [alert] = kuma.api.add_alerts(1)
    window.refresh()
    return operations(window, tid, "kuma"), alert


def test_kuma_close_is_refused_without_confirmation_and_runs_after_it(
    window: MainWindow, qtbot: QtBot, kuma: Any, one_alert: tuple[OperationsPanel, Any]
) -> None:
    panel, alert = one_alert
    select_data(panel.picker, "close")
    assert "Changes data on the peer" in panel.notice.text()
    # The alert ID is required: Run says so and sends nothing.
    with no_dialog(qtbot):
        panel.run_button.click()
    assert "Alert ID: enter the ID" in panel.state_label.text() and not panel.running
    type_into(line(panel, "id"), str(alert["id"]))
    select_data(combo(panel, "reason"), "incorrect data")
    sent = len(kuma.requests)
    asked = Expected(QMessageBox, no_by_default, name="confirmBox")
    with expect_dialogs(qtbot, asked):
        panel.run_button.click()
    # The question names the operation, the tenant and the target; No sends nothing.
    assert "'Close incident'" in asked.text and "'Root tenant/Acme'" in asked.text
    assert f"127.0.0.1:{kuma.port}" in asked.text and "Reason: incorrect data" in asked.text
    assert len(kuma.requests) == sent and not panel.running
    assert "was not run" in panel.state_label.text()
    shot(window, "operations-kuma-close-refused")
    [outcome] = run(
        qtbot, panel, Expected(QMessageBox, click(QMessageBox.StandardButton.Yes), name="confirmBox")
    )
    assert outcome.ok and f"Alert {alert['id']} was closed" in outcome.message
    assert kuma.requests[-1].json() == {"id": alert["id"], "reason": "incorrect data"}
    assert facts(panel) == {"id": str(alert["id"]), "reason": "incorrect data"}  # a dict: its items


def test_kuma_command_offers_the_commands_and_their_placeholders(
    window: MainWindow, qtbot: QtBot, kuma: Any, one_alert: tuple[OperationsPanel, Any]
) -> None:
    panel, alert = one_alert
    select_data(panel.picker, "command")
    names = combo(panel, "name")
    assert [names.itemText(i) for i in range(names.count())][:2] == [
        "Receive incidents",
        "Close incident (responded)",
    ]
    assert list(some(panel.form).editors) == ["name"]  # "Receive incidents" has no placeholder
    select_data(names, "Close incident (responded)")
    # The command picked has <Alert ID>: a field for it; the focus stays on the command.
    assert list(some(panel.form).editors) == ["name", "Alert ID"]
    assert QApplication.focusWidget() is combo(panel, "name")
    type_into(line(panel, "Alert ID"), str(alert["id"]))
    shot(window, "operations-kuma-command")
    asked = Expected(QMessageBox, click(QMessageBox.StandardButton.Yes), name="confirmBox")
    [outcome] = run(qtbot, panel, asked)
    assert "Command: Close incident (responded)" in asked.text and f"Alert ID: {alert['id']}" in asked.text
    assert outcome.ok and kuma.requests[-1].json() == {"id": alert["id"], "reason": "responded"}
    shown = facts(panel)
    assert shown["Method"] == "POST" and shown["HTTP status"] == str(outcome.data["http_status"])
    assert shown["URL"].endswith("/alerts/close")
    assert tabs_of_data(panel) == ["Facts", "JSON"]


def test_a_check_run_from_the_tab_is_kept(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    window.refresh()
    panel = operations(window, tid, "kuma")
    select_data(panel.picker, "check")
    assert some(panel.form).isHidden()  # no parameters
    [outcome] = run(qtbot, panel)
    assert outcome.ok
    wait_idle(qtbot, window)
    [stored] = ws.tenant("Acme").integrations["kuma"].results
    assert stored["category"] == "ok" and stored["operation"] == "check"
    row = window.table_model.rows[window.table_model.row_of("kuma")]
    assert row.check_text().startswith("OK")
    assert window.operations is panel  # the tab stays, with its outcome


def test_cancel_a_running_operation(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    window.refresh()
    panel = operations(window, tid, "kuma")
    kuma.api.mode = "hang"
    with qtbot.waitSignal(panel.ran, timeout=20000) as blocker, no_dialog(qtbot):
        panel.run_button.click()
        assert panel.running and panel.cancel_button.isVisible() and not panel.run_button.isEnabled()
        assert QApplication.focusWidget() is panel.cancel_button
        qtbot.keyClick(panel.cancel_button, Qt.Key.Key_Space)
    [outcome] = blocker.args[0]
    assert outcome.category is Category.CANCELLED
    assert "Cancelled" in panel.outcome_label.text()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isVisible()
    assert ws.tenant("Acme").integrations["kuma"].results == []  # nothing was kept


# ---- TIP --------------------------------------------------------------------------------------
@pytest.fixture
def portal(server_cert: Any) -> Iterator[Any]:
    api = TipPortal()
    with HttpsPeer(api, cert=server_cert) as peer:
        yield peer


def set_up_tip(ws: Workspace, portal: Any, test_ca: TestCA) -> str:
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "tip",
            values={"opentip_url": f"https://127.0.0.1:{portal.port}", "tls_ca": test_ca.cert_pem},
            secrets={"token": TIP_TOKEN},
            enabled=True,
        ),
    )
    return ws.tenant("Acme").id


def test_tip_lookup_shows_the_verdict_and_facts_and_says_the_cache(
    window: MainWindow, qtbot: QtBot, ws: Workspace, portal: Any, test_ca: TestCA
) -> None:
    tid = set_up_tip(ws, portal, test_ca)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("tip")
    assert tab_texts(window) == ["Details", "Operations", "History"]  # the lookup panel is gone
    panel = operations(window, tid, "tip")
    assert panel.operation.name == "lookup" and "quota" in panel.notice.text()
    # A value that is not an observable is refused as typed: nothing is sent, nothing asked.
    type_into(line(panel, "value"), "127.0.0.5")
    assert "loopback" in panel.form.reasons["value"].text() if panel.form else False
    with no_dialog(qtbot):
        panel.run_button.click()
    assert portal.requests == [] and "Observable" in panel.state_label.text()
    type_into(line(panel, "value"), SHA256_RED)
    # The notice first (the lookup may consume quota): Cancel does not look up.
    with expect_dialog(qtbot, QMessageBox, reject, name="confirmBox") as asked:
        panel.run_button.click()
    assert "quota" in asked.text and portal.requests == []
    [outcome] = run(qtbot, panel, Expected(QMessageBox, accept, name="confirmBox"))
    assert outcome.ok and len(portal.requests) == 1
    shown = facts(panel)
    assert shown["Verdict"] == "Dangerous" and shown["Zone"] == "Red"
    assert shown["Observable"] == SHA256_RED and shown["From the local cache"] == "no"
    assert "EICAR-Test-File" in shown["Detected as"] and "Malware" in " ".join(shown.values())
    assert tabs_of_data(panel) == ["Facts", "JSON"]
    assert "may have consumed quota" in panel.outcome_label.text()
    shot(window, "operations-tip-lookup")
    # Again (Enter in the field): from the cache, no request.
    with (
        qtbot.waitSignal(panel.ran, timeout=20000),
        expect_dialog(qtbot, QMessageBox, accept, name="confirmBox"),
    ):
        qtbot.keyClick(line(panel, "value"), Qt.Key.Key_Return)
    assert facts(panel)["From the local cache"] == "yes" and len(portal.requests) == 1
    assert TIP_TOKEN not in panel.json_view.toPlainText()


def test_tip_lookup_failure_is_said(
    window: MainWindow, qtbot: QtBot, ws: Workspace, portal: Any, test_ca: TestCA
) -> None:
    tid = set_up_tip(ws, portal, test_ca)
    portal.route.mode = "quota"
    window.refresh()
    panel = operations(window, tid, "tip")
    type_into(line(panel, "value"), "good.example.invalid")
    [outcome] = run(qtbot, panel, Expected(QMessageBox, accept, name="confirmBox"))
    assert outcome.category is Category.QUOTA_EXCEEDED
    assert "Quota exceeded" in panel.outcome_label.text() and "quota_exceeded" in panel.outcome_label.text()
    # The lookup's data still says what was asked.
    assert facts(panel)["Observable"] == "good.example.invalid"


# ---- KASAP ------------------------------------------------------------------------------------
@pytest.fixture
def kasap(server_cert: Any) -> Iterator[Any]:
    with HttpsPeer(KasapApi(), cert=server_cert) as peer:
        yield peer


def test_kasap_groups(window: MainWindow, qtbot: QtBot, ws: Workspace, kasap: Any, test_ca: TestCA) -> None:
    ws.add_tenant("Acme")
    values = {"url": f"https://127.0.0.1:{kasap.port}", "tls_ca": test_ca.cert_pem, "rights_confirmed": "all"}
    ws.update_integration(
        "Acme", IntegrationEdit("kasap", values=values, secrets={"token": KASAP_TOKEN}, enabled=True)
    )
    window.refresh()
    panel = operations(window, ws.tenant("Acme").id, "kasap")
    assert panel.operation.name == "groups"
    [outcome] = run(qtbot, panel)
    assert outcome.ok and "3 learning groups" in panel.outcome_label.text()
    assert panel.rows_model.headers == ["ID", "Name"]
    assert panel.rows_model.cells == [["g-1", "Accounting"], ["g-2", "Sales"], ["g-3", "IT department"]]
    shot(window, "operations-kasap-groups")
    kasap.route.token = "rotated"
    [outcome] = run(qtbot, panel)
    assert outcome.category is Category.AUTH_FAILED and "Authentication failed" in panel.outcome_label.text()
    assert not panel.data_tabs.isVisible()  # no data: no table left over from before


# ---- custom: host keys from a real sshd -------------------------------------------------------------
@pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))
def test_custom_host_keys_need_no_settings(
    window: MainWindow, qtbot: QtBot, ws: Workspace, tmp_path: Path
) -> None:
    ws.add_tenant("Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.select_integration("custom")
    # Not configured, but "Read the host's keys" needs no settings: the tab is there.
    assert tab_texts(window) == ["Details", "Operations", "History"]
    panel = operations(window, ws.tenant("Acme").id, "custom")
    assert panel.operation.name == "host-keys" and line(panel, "ports").text() == "22"
    select_data(panel.picker, "check")
    assert not panel.run_button.isEnabled() and "not configured" in panel.state_label.text()
    select_data(panel.picker, "host-keys")
    with Sshd(tmp_path / "sshd", host_keys=("ed25519", "rsa")) as server:
        type_into(line(panel, "host"), "127.0.0.1")
        type_into(line(panel, "ports"), str(server.port))
        [outcome] = run(qtbot, panel)
    assert outcome.ok, outcome.message
    assert panel.rows_model.headers == ["Type", "SHA256 fingerprint", "Public key"]
    by_type = {r[0]: r for r in panel.rows_model.cells}
    for kind, key_type in (("ed25519", "ssh-ed25519"), ("rsa", "ssh-rsa")):
        line_ = server.public_line(kind)
        assert by_type[key_type][1] == parse_public_key(line_).fingerprint
        assert by_type[key_type][2].split()[1] == line_.split()[1]
    shot(window, "operations-custom-host-keys")


@pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))
def test_custom_host_keys_start_with_the_tenants_host(window: MainWindow, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    values = {"host": "ssh.acme.invalid", "ports": "2222,22", "auth": "password", "username": "soar"}
    ws.update_integration("Acme", IntegrationEdit("custom", values=values, secrets={"password": "pw-1234"}))
    window.refresh()
    panel = operations(window, ws.tenant("Acme").id, "custom")
    assert line(panel, "host").text() == "ssh.acme.invalid" and line(panel, "ports").text() == "2222,22"


# ---- the window around the tab --------------------------------------------------------------------
def test_no_tab_where_there_is_nothing_to_run(
    window: MainWindow, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    ws.add_tenant("Globex")
    window.refresh()
    window.select_tenant(ws.tenant("Globex").id)
    for kind in ("kuma", "tip", "kasap", "kata", "ad"):  # not configured / only a check / not supported
        window.select_integration(kind)
        assert "Operations" not in tab_texts(window), kind
        assert not window.act_operations.isEnabled()
    window.select_tenant(ws.tree.shared_id)
    assert "Operations" not in tab_texts(window)


def test_the_tab_stays_chosen_from_one_integration_to_the_next(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    window.refresh()
    operations(window, tid, "kuma")
    window.select_integration("custom")  # has Operations too (host keys)
    assert window.bottom_tabs.currentWidget() is window.operations_scroll
    assert some(window.operations).ctx.kind == "custom"


def test_keyboard_only(window: MainWindow, qtbot: QtBot, ws: Workspace, kasap: Any, test_ca: TestCA) -> None:
    ws.add_tenant("Acme")
    values = {"url": f"https://127.0.0.1:{kasap.port}", "tls_ca": test_ca.cert_pem}
    ws.update_integration(
        "Acme", IntegrationEdit("kasap", values=values, secrets={"token": KASAP_TOKEN}, enabled=True)
    )
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.select_integration("kasap")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Run an operation…
    panel = as_a(OperationsPanel, window.operations)
    assert QApplication.focusWidget() is panel.picker
    assert "press Run" in window.message_label.full_text()
    # Tab reaches Run; Space presses it.
    for _step in range(4):
        if QApplication.focusWidget() is panel.run_button:
            break
        qtbot.keyClick(some(QApplication.focusWidget()), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is panel.run_button
    with qtbot.waitSignal(panel.ran, timeout=20000):
        qtbot.keyClick(panel.run_button, Qt.Key.Key_Space)
    assert panel.rows_model.rowCount() == 3
    assert QApplication.focusWidget() is panel.run_button  # back where it was, not lost


def test_at_the_minimum_window_size(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    kuma.api.add_alerts(30)
    window.resize(*MIN_SIZE)
    window.refresh()
    panel = operations(window, tid, "kuma")
    qtbot.wait(50)
    run(qtbot, panel)
    qtbot.wait(50)
    scroll = window.operations_scroll
    # The tab scrolls inside itself: the window keeps its size and the tree its width.
    assert (window.width(), window.height()) == MIN_SIZE
    assert window.tree_view.width() >= 200
    # Picker, Run and the start of the outcome are in view without scrolling; nothing is cut
    # sideways (the panel is as wide as the tab).
    view = scroll.viewport().rect()
    for widget in (panel.picker, panel.run_button, panel.outcome_label):
        top_left = widget.mapTo(scroll.viewport(), widget.rect().topLeft())
        assert view.contains(top_left), widget.objectName()
    assert panel.width() <= scroll.viewport().width()
    assert panel.rows_view.height() >= 4 * panel.rows_view.verticalHeader().defaultSectionSize()
    shot(window, "operations-minimum-size")


def test_russian(window: MainWindow, qtbot: QtBot, ws: Workspace, kasap: Any, test_ca: TestCA) -> None:
    set_language("ru")
    ws.add_tenant("Acme")
    values = {"url": f"https://127.0.0.1:{kasap.port}", "tls_ca": test_ca.cert_pem}
    ws.update_integration(
        "Acme", IntegrationEdit("kasap", values=values, secrets={"token": KASAP_TOKEN}, enabled=True)
    )
    window.refresh()
    panel = operations(window, ws.tenant("Acme").id, "kasap")
    assert tab_texts(window)[-2:] == ["Операции", "История"]
    assert panel.run_button.text() == "&Выполнить"
    run(qtbot, panel)
    assert "Успешно" in panel.outcome_label.text() or "ОК" in panel.outcome_label.text()
    assert tabs_of_data(panel)[0].startswith("Строки")
    shot(window, "operations-ru")


# ---- Check all / Check subtree --------------------------------------------------------------------
def test_check_all_waits_for_an_integration_turned_on(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    ws.add_tenant("Acme")
    ws.add_tenant("Acme EU", "Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    for act in (window.act_check_tenant, window.act_check_subtree):
        assert not act.isEnabled()
    assert "No integration is turned on for this tenant" in window.act_check_tenant.toolTip()
    assert "or below it" in window.act_check_subtree.toolTip()
    configure(ws, kuma.port, ca=test_ca.cert_pem, tenant="Acme EU")
    window.refresh()
    assert window.act_check_subtree.isEnabled() and not window.act_check_tenant.isEnabled()
    assert window.act_check_subtree.toolTip() == window.act_check_subtree.statusTip()
    window.select_tenant(ws.tenant("Acme EU").id)
    assert window.act_check_tenant.isEnabled() and window.act_check_subtree.isEnabled()
    ws.set_enabled(ws.tenant("Acme EU").id, "kuma", False)
    window.refresh()
    assert not window.act_check_tenant.isEnabled()
