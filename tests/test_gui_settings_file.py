"""The window and the settings file (issue 12): the banner of a file kept aside (Restore /
Dismiss, shown at every start until then), and the offer to reload when another program
changed the file — the real dialog, its buttons pressed — keeping the open wizard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox, QPushButton, QWizard
from pytestqt.qtbot import QtBot

from support.gui import (
    Expected,
    as_a,
    click,
    close_window,
    expect_dialog,
    expect_dialogs,
    files_containing,
    no_dialog,
    open_window,
    press,
    some,
    type_into,
    wait_idle,
)
from test_gui_main import enter_name, visible_names
from xdrconf.core.workspace import Workspace
from xdrconf.qt.dialogs import NameDialog
from xdrconf.qt.editors import LineEditor, SecretEditor
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.wizard import OpeningPage, SpecFormPage, TenantWizard

SECRET = "reload-wizard-secret-51c0"


def kuma_wizard_at_summary(qtbot: QtBot, window: MainWindow, ws: Workspace) -> TenantWizard:
    window.select_tenant(ws.tenant("Acme").id)
    window.act_setup.trigger()
    wizard: TenantWizard = some(window.wizard)
    opening = wizard.currentPage()
    assert isinstance(opening, OpeningPage)
    opening.boxes["kuma"].setChecked(True)
    wizard.next()
    page = wizard.currentPage()
    assert isinstance(page, SpecFormPage)
    type_into(as_a(LineEditor, page.editors["host"]).edit, "kuma.acme.invalid")
    wizard.next()
    page = wizard.currentPage()
    assert isinstance(page, SpecFormPage)
    type_into(as_a(SecretEditor, page.editors["token"]).edit, SECRET)
    while wizard.currentId() != wizard.SUMMARY:
        wizard.next()
    return wizard


def reload_box(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: window.reload_box is not None and window.reload_box.isVisible(), timeout=10000)
    wait_idle(qtbot, window)
    return some(window.reload_box)


def button(box: QMessageBox, name: str) -> QPushButton:
    found = box.findChild(QPushButton, name)
    assert found is not None, name
    return found


def test_another_programs_edit_offers_reload_and_keeps_the_wizard(
    window: MainWindow, qtbot: QtBot, ws: Workspace
) -> None:
    """Today: another program's edit between load and save was silently overwritten."""
    ws.add_tenant("Acme")
    ws.add_tenant("Globex")
    window.refresh()
    wizard = kuma_wizard_at_summary(qtbot, window, ws)
    path = ws.file.path
    theirs = path.read_text().replace('"Globex"', '"Globex (edited elsewhere)"')
    path.write_text(theirs)

    press(wizard.button(QWizard.WizardButton.FinishButton))
    box = reload_box(qtbot, window)
    assert box.objectName() == "reloadBox"
    assert "was changed by another program after xdrconf read it" in box.text()
    assert "open wizard" in box.informativeText()
    # The change that failed was not applied, the other program's file is untouched, the
    # secret written for it is gone again, and the wizard is still open with what was typed.
    assert path.read_text() == theirs
    assert ws.tenant("Acme").integrations == {}
    assert files_containing(ws.config_dir, SECRET) == []
    assert wizard.isVisible() and "Nothing was saved" in wizard.summary.error.text()
    assert some(wizard.drafts["kuma"].edit()).values["host"] == "kuma.acme.invalid"

    press(button(box, "reloadButton"))
    wait_idle(qtbot, window)
    assert window.reload_box is None
    assert "Globex (edited elsewhere)" in visible_names(window)
    assert wizard.isVisible()
    with qtbot.waitSignal(wizard.applied, timeout=10000):
        press(wizard.button(QWizard.WizardButton.FinishButton))
    wait_idle(qtbot, window)
    saved = json.loads(path.read_text())
    assert "Globex (edited elsewhere)" in [t["name"] for t in saved["tenants"]]
    acme = next(t for t in saved["tenants"] if t["name"] == "Acme")
    assert acme["integrations"]["kuma"]["settings"]["host"] == "kuma.acme.invalid"
    assert ws.secret(ws.tenant("Acme"), "kuma", "token") == SECRET


def test_not_now_keeps_the_window_as_it_is_and_asks_again(
    window: MainWindow, qtbot: QtBot, ws: Workspace
) -> None:
    ws.add_tenant("Acme")
    window.refresh()
    path = ws.file.path
    theirs = path.read_text().replace('"Acme"', '"Acme (theirs)"')
    path.write_text(theirs)
    window.select_tenant(ws.tenant("Acme").id)

    def add_globex_then(answer: str) -> None:
        # The reload box may open while the name dialog's block is still running (the save
        # is right after the name is given): both are expected, in order.
        with expect_dialogs(
            qtbot,
            Expected(NameDialog, enter_name("Globex"), name="nameDialog"),
            Expected(QMessageBox, lambda box: press(button(box, answer)), name="reloadBox"),
        ):
            window.act_add.trigger()

    add_globex_then("notNowButton")
    qtbot.waitUntil(lambda: window.reload_box is None)
    assert "Acme" in visible_names(window) and "Globex" not in visible_names(window)
    assert path.read_text() == theirs
    add_globex_then("reloadButton")
    wait_idle(qtbot, window)
    assert visible_names(window) == ["Root tenant", "Acme (theirs)", "Shared"]


def test_the_banner_stays_at_every_start_until_dismissed(
    qtbot: QtBot, config_dir: Path, keyring_backend: Any
) -> None:
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.add_tenant("Precious")
        first.add_tenant("Second")
    good_backup = (config_dir / "settings.json.bak").read_bytes()
    bad = '{"schema": "xdrconf-settings", "version": 1, "namespace": 5, "tenants": []}'
    (config_dir / "settings.json").write_text(bad)
    for start in range(2):
        ws = Workspace.open(config_dir, keyring_backend=keyring_backend)
        try:
            if start == 0:  # the start that kept the file aside also asks, once
                with expect_dialog(
                    qtbot, QMessageBox, click(QMessageBox.StandardButton.Cancel), name="confirmBox"
                ) as asked:
                    window = open_window(qtbot, ws)
                assert "namespace: must be text, not a number" in asked.text
            else:
                with no_dialog(qtbot):
                    window = open_window(qtbot, ws)
                    wait_idle(qtbot, window)
            assert some(window.notice_banner).isVisible(), start
            assert "namespace: must be text, not a number" in window.notice_label.text()
            assert window.notice_restore.isVisible() and window.notice_dismiss.isEnabled()
            if start == 0:
                window.select_tenant(ws.tree.root_id)
                with expect_dialog(qtbot, NameDialog, enter_name("Meanwhile"), name="nameDialog"):
                    window.act_add.trigger()  # an ordinary save while the notice is pending
                wait_idle(qtbot, window)
                assert (config_dir / "settings.json.bak").read_bytes() == good_backup
            else:
                press(window.notice_dismiss)
                wait_idle(qtbot, window)
                assert not some(window.notice_banner).isVisible()
            close_window(qtbot, window)
        finally:
            ws.close()
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws, no_dialog(qtbot):
        window = open_window(qtbot, ws)
        assert not some(window.notice_banner).isVisible()
        assert "Meanwhile" in visible_names(window)
        close_window(qtbot, window)


def test_the_banner_restores_the_backup(qtbot: QtBot, config_dir: Path, keyring_backend: Any) -> None:
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.add_tenant("Acme")
        first.add_tenant("Globex")  # the backup now holds Acme
    (config_dir / "settings.json").write_text("{ not json")
    with Workspace.open(config_dir, keyring_backend=keyring_backend):
        pass  # this start kept the file aside
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws, no_dialog(qtbot):
        window = open_window(qtbot, ws)
        assert some(window.notice_banner).isVisible()
        assert "kept as settings.corrupt-" in window.notice_label.text()
        assert "line 1, column 3: is not valid JSON" in window.notice_label.text()
        press(window.notice_restore)
        wait_idle(qtbot, window)
        assert "Acme" in visible_names(window) and "Globex" not in visible_names(window)
        assert ws.notice is None and not some(window.notice_banner).isVisible()
        assert not (config_dir / "quarantine.json").exists()
        close_window(qtbot, window)


def test_a_read_only_window_shows_the_banner_without_its_buttons(
    qtbot: QtBot, config_dir: Path, keyring_backend: Any
) -> None:
    (config_dir / "settings.json").write_text("{")
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as holder:
        assert holder.notice is not None
        other = Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend)
        try:
            with no_dialog(qtbot):
                window = open_window(qtbot, other)
                wait_idle(qtbot, window)
            assert some(window.notice_banner).isVisible() and "read-only" in window.notice_label.text()
            assert not window.notice_dismiss.isEnabled()
            close_window(qtbot, window)
        finally:
            other.close()
