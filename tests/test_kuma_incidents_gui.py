"""The Incidents view (pytest-qt, offscreen): receive incidents from a KUMA-like HTTPS peer,
look at an alert's events, close it with a reason, run a command, edit the commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from support.gui import (
    accept,
    as_a,
    click,
    expect_dialog,
    no_dialog,
    open_window,
    reject,
    wait_idle,
)
from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core import catalog
from xdrconf.core.integrations.kuma.commands import commands_of
from xdrconf.core.integrations.kuma.incidents import IncidentStore
from xdrconf.qt.integrations import IntegrationUiContext
from xdrconf.qt.integrations import kuma as kuma_ui


@pytest.fixture
def panel(qtbot, ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    host = QWidget()  # the panel's parent (the main window in the application)
    qtbot.addWidget(host)
    ctx = IntegrationUiContext(ws, tid, "kuma", catalog.spec_for("kuma"), parent=host)
    view = kuma_ui.panel(ctx)
    qtbot.addWidget(view)
    view.resize(1100, 640)
    view.show()
    yield view
    IncidentStore.forget_all()


def receive(qtbot, view):
    with qtbot.waitSignal(view.received, timeout=15000) as blocker:
        view.receive_button.click()
    return blocker.args[0]


def test_receive_select_close(qtbot, panel, kuma, tmp_path):
    made = kuma.api.add_alerts(260, events=3)
    kuma.api.alerts[0]["priority"] = "critical"
    summary = receive(qtbot, panel)
    assert (summary.new, summary.changed, summary.pages) == (260, 0, 2)
    assert panel.alerts_model.rowCount() == 260
    assert "260 new, 0 changed" in panel.info.text()

    kuma.api.alerts[5]["lastSeen"] = "2026-11-22T07:00:00Z"
    kuma.api.add_alerts(1, start=900)
    summary = receive(qtbot, panel)
    assert (summary.new, summary.changed) == (1, 1)
    assert "1 new, 1 changed" in panel.info.text()
    assert panel.alerts_model.rowCount() == 261  # updated, not duplicated

    target = made[5]["id"]  # now the most recently seen: first row
    panel.alerts_view.selectRow(0)
    assert panel.selected_alert()["id"] == target
    assert panel.events_model.rowCount() == 3
    assert "Logon failure" in panel.events_model.data(panel.events_model.index(0, 1))
    shot = os.environ.get("XDRCONF_SCREENSHOTS")
    if shot:
        panel.grab().save(str(Path(shot) / "kuma-incidents.png"))

    panel.reason_combo.setCurrentText("incorrect data")
    sent = len(kuma.requests)
    with expect_dialog(qtbot, QMessageBox, reject, name="confirmBox", title="Close incident") as asked:
        panel.close_button.click()  # "Close alert …?" — Cancel: nothing is sent
    assert len(kuma.requests) == sent and "with the reason 'incorrect data'" in asked.text
    with (
        qtbot.waitSignal(panel.closed, timeout=15000) as blocker,
        expect_dialog(qtbot, QMessageBox, accept, name="confirmBox", title="Close incident"),
    ):
        panel.close_button.click()
    assert blocker.args == [target]
    assert kuma.requests[-1].json() == {"id": target, "reason": "incorrect data"}
    assert f"Alert {target} was closed" in panel.info.text()
    assert target not in [a["id"] for a in panel.alerts_model.payload]  # it left the "new" list
    assert panel.alerts_model.rowCount() == 260
    panel.status_combo.setCurrentText("closed")
    assert [a["id"] for a in panel.alerts_model.payload] == [target]


def test_close_error_is_shown(qtbot, panel, kuma):
    kuma.api.add_alerts(1)
    receive(qtbot, panel)
    kuma.api.alerts[0]["status"] = "closed"  # closed in KUMA meanwhile
    panel.alerts_view.selectRow(0)
    # Said once, in the panel: no error box on top of it (expect_dialog fails on any other).
    with expect_dialog(qtbot, QMessageBox, accept, name="confirmBox", title="Close incident"):
        panel.close_button.click()
        qtbot.waitUntil(lambda: panel.task is None, timeout=15000)
    assert "already closed" in panel.info.text() and "406" in panel.info.text()


def test_run_command_with_the_selected_alert(qtbot, panel, kuma):
    kuma.api.add_alerts(2)
    receive(qtbot, panel)
    panel.alerts_view.selectRow(1)
    alert_id = panel.selected_alert()["id"]
    panel.command_combo.setCurrentText("Close incident (incorrect correlation rule)")
    sent = len(kuma.requests)
    # A POST changes data in KUMA: a Yes/No question first, No by default; No sends nothing.
    with expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.No), name="confirmBox") as asked:
        panel.run_button.click()
    box = as_a(QMessageBox, asked.dialog)
    assert box.standardButton(box.defaultButton()) == QMessageBox.StandardButton.No
    assert "Close incident (incorrect correlation rule)" in asked.text and "POST" in asked.text
    assert "'Root tenant/Acme'" in asked.text and f"Alert ID: {alert_id}" in asked.text
    assert len(kuma.requests) == sent and "was not sent" in panel.info.text()
    with (
        qtbot.waitSignal(panel.command_done, timeout=15000) as blocker,
        expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Yes), name="confirmBox"),
    ):
        panel.run_button.click()
    assert blocker.args[0].status == 204
    assert "→ 204 No Content" in panel.response.toPlainText()
    assert kuma.requests[-1].json() == {"id": alert_id, "reason": "incorrect correlation rule"}
    assert GOOD_TOKEN not in panel.response.toPlainText()
    # A GET reads: sent at once, without a question.
    panel.command_combo.setCurrentText("Receive incidents")
    with no_dialog(qtbot), qtbot.waitSignal(panel.command_done, timeout=15000) as blocker:
        panel.run_button.click()
    assert blocker.args[0].status == 200 and kuma.requests[-1].method == "GET"


def test_cancel_a_receive(qtbot, panel, kuma):
    kuma.api.mode = "hang"
    with no_dialog(qtbot):  # said in the panel only
        panel.receive_button.click()
        assert panel.cancel_button.isEnabled()
        panel.cancel_button.click()
        qtbot.waitUntil(lambda: panel.task is None, timeout=15000)
    assert "cancel" in panel.info.text().lower()
    assert panel.receive_button.isEnabled()


def test_commands_editor_validates_and_saves(qtbot, panel, ws):
    dialog = kuma_ui.CommandsDialog(panel.ctx, panel.commands, panel)
    qtbot.addWidget(dialog)
    dialog.new_command()
    dialog.name.setText("With auth")
    dialog.method.setCurrentText("GET")
    dialog.path.setText("alerts")
    dialog.headers.setPlainText("Authorization: Bearer abc")
    assert not dialog.apply()
    assert "added by xdrconf" in dialog.error.text()
    shot = os.environ.get("XDRCONF_SCREENSHOTS")
    if shot:
        dialog.show()
        dialog.grab().save(str(Path(shot) / "kuma-commands.png"))
    dialog.headers.setPlainText("X-Source: xdrconf")
    dialog.query.setPlainText("id=<Alert ID>")
    assert dialog.apply(), dialog.error.text()
    assert dialog.items[-1].query == (("id", "<Alert ID>"),)
    dialog.list.setCurrentRow(0)
    dialog.delete_command()
    with qtbot.waitSignal(dialog.saved, timeout=15000):
        dialog.save()
    names = [c.name for c in commands_of(ws.integration(ws.tenant("Acme"), "kuma").settings)]
    assert names[0] == "Close incident (responded)" and names[-1] == "With auth"
    panel.reload_commands()
    assert panel.command_combo.count() == 4


def test_menu_action_opens_the_editor_and_the_panel_follows(qtbot, panel, ws):
    [action] = kuma_ui.actions(panel.ctx)
    assert action.isEnabled()
    action.trigger()
    dialog = panel.ctx.parent.findChild(kuma_ui.CommandsDialog)
    assert dialog is not None and dialog.list.count() == 4
    dialog.use_defaults()
    dialog.list.setCurrentRow(1)
    dialog.delete_command()
    with qtbot.waitSignal(dialog.saved, timeout=15000):
        dialog.save()
    assert [panel.command_combo.itemText(i) for i in range(panel.command_combo.count())] == [
        "Receive incidents",
        "Close incident (incorrect data)",
        "Close incident (incorrect correlation rule)",
    ]


def test_the_panel_in_the_main_window(qtbot, ws, kuma, test_ca, tmp_path):
    from xdrconf.qt import workers

    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    kuma.api.add_alerts(12, events=2)
    kuma.api.alerts[3]["priority"] = "critical"
    kuma.api.alerts[7]["priority"] = "low"
    window = open_window(qtbot, ws)
    window.resize(1280, 860)
    wait_idle(qtbot, window)
    window.select_tenant(tid)
    window.select_integration("kuma")
    view = window.findChild(kuma_ui.IncidentsPanel)
    assert view is not None and view.ctx.tenant_id == tid
    tabs = window.bottom_tabs
    assert tabs.tabText(tabs.indexOf(window.panel_scroll)) == "Incidents"
    tabs.setCurrentWidget(window.panel_scroll)
    assert view.isVisible()
    with qtbot.waitSignal(view.received, timeout=15000):
        view.receive_button.click()
    assert view.alerts_model.rowCount() == 12
    view.alerts_view.selectRow(0)
    shot = os.environ.get("XDRCONF_SCREENSHOTS")
    if shot:
        window.grab().save(str(Path(shot) / "kuma-main-window.png"))
    wait_idle(qtbot, window)
    workers.wait_all()
    IncidentStore.forget_all()
