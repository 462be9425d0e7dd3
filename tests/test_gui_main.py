"""The main window through its real actions and real dialogs: tree and filter, tenant
changes, the Shared tenant, unsupported integrations, read-only mode, settings, export and
import. (Every dialog accepted once: test_gui_dialogs.py; every action in every state:
test_gui_sweep.py.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from support.gui import (
    accept,
    as_a,
    expect_dialog,
    in_order,
    open_window,
    pick_file,
    reject,
    type_into,
    type_text,
    wait_idle,
)
from support.kuma_peer import configure
from xdrconf.core import catalog
from xdrconf.core.tenants import IntegrationState
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.dialogs import ChooseDialog, NameDialog
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.settings_dialog import SettingsDialog


def visible_names(window: MainWindow, parent: QModelIndex | None = None) -> list[str]:
    model = window.tree_model
    parent = parent or QModelIndex()
    out: list[str] = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        out.append(model.data(index))
        out.extend(visible_names(window, index))
    return out


def built(window: MainWindow) -> bool:
    """Whether the integrations area was built (deferred until the first paint)."""
    return window.table is not None


def enter_name(name: str) -> Callable[[QWidget], Any]:
    """Type `name` into the text prompt and press OK."""
    return in_order(type_text(None, name), accept)


def test_tree_and_filter(qtbot: QtBot, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    ws.add_tenant("Acme EU", "Acme")
    ws.add_tenant("Globex")
    window = open_window(qtbot, ws)
    assert visible_names(window) == ["Root tenant", "Acme", "Acme EU", "Globex", "Shared"]
    assert window.count_label.text() == "5 tenants"
    assert window.current_tenant_id() == ws.tree.root_id
    qtbot.keyClicks(window.filter_edit, "eu")
    assert visible_names(window) == ["Root tenant", "Acme", "Acme EU"]
    assert window.count_label.text() == "1 of 5 tenants match"
    assert window.tree_view.isExpanded(window.tree_model.index_of(ws.tenant("Acme").id))
    window.filter_edit.clear()
    assert "Globex" in visible_names(window)
    wait_idle(qtbot, window)


def test_keyring_status_and_folder_in_status_bar(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    qtbot.waitUntil(lambda: window.keyring_status is not None)
    assert window.keyring_status.usable
    assert window.keyring_label.text() == "OS keyring: Secret Service"  # the store in words
    assert str(ws.config_dir) in window.folder_label.toolTip()  # the label may elide the middle
    assert not window.readonly_label.isVisible()
    assert not window.readonly_banner.isVisible()


def test_add_rename_move_remove_through_actions(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    with expect_dialog(qtbot, NameDialog, enter_name("Acme"), name="nameDialog", title="Add child") as add:
        window.act_add.trigger()
    assert "under 'Root tenant'" in add.text
    wait_idle(qtbot, window)
    acme = ws.tenant("Acme")
    assert window.current_tenant_id() == acme.id
    assert "Acme" in visible_names(window)

    window.select_tenant(ws.tree.root_id)
    with expect_dialog(qtbot, NameDialog, enter_name("Globex"), name="nameDialog"):
        window.act_add.trigger()
    wait_idle(qtbot, window)

    window.select_tenant(acme.id)
    with expect_dialog(qtbot, NameDialog, enter_name("Acme Corp"), title="Rename") as rename:
        window.act_rename.trigger()
    assert "New name for 'Acme'" in rename.text
    wait_idle(qtbot, window)
    assert ws.tree.get(acme.id).name == "Acme Corp"
    assert "Acme Corp" in visible_names(window)

    offered: list[str] = []

    def choose_globex(dialog: ChooseDialog) -> None:
        offered.extend(dialog.source.stringList())
        type_text("chooseFilter", "globex")(dialog)
        assert dialog.chosen() == "Root tenant/Globex"
        accept(dialog)

    with expect_dialog(qtbot, ChooseDialog, choose_globex, name="chooseDialog", title="Move tenant"):
        window.act_move.trigger()
    wait_idle(qtbot, window)
    assert ws.tree.path(acme.id) == "Root tenant/Globex/Acme Corp"
    assert "Root tenant/Globex" in offered and "Root tenant" not in offered  # not the current parent

    # Removing asks first and lists what goes; Cancel keeps the tenant.
    with expect_dialog(qtbot, QMessageBox, reject, name="confirmBox", title="Remove tenant") as asked:
        window.act_remove.trigger()
    wait_idle(qtbot, window)
    assert acme.id in ws.tree
    assert asked.seen is not None and "Root tenant/Globex/Acme Corp" in asked.seen.text
    assert all(line in asked.seen.details for line in ws.removal_summary(acme.id))
    with expect_dialog(qtbot, QMessageBox, accept, name="confirmBox", title="Remove tenant"):
        window.act_remove.trigger()
    wait_idle(qtbot, window)
    assert acme.id not in ws.tree
    assert "Acme Corp" not in visible_names(window)
    assert window.current_tenant_id() == ws.tenant("Globex").id
    # Saved for real: a new Workspace on the folder sees the same tree.
    assert json.loads(ws.file.path.read_text())["tenants"][1]["name"] == "Globex"


def test_errors_are_shown(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    window.refresh()
    # The core refuses the name in the worker; the reason is shown in the dialog, which stays
    # open with the name kept for correcting.
    with expect_dialog(qtbot, NameDialog, enter_name("acme"), name="nameDialog") as add:
        window.act_add.trigger()
    wait_idle(qtbot, window)
    dialog = as_a(NameDialog, add.dialog)
    assert dialog.isVisible() and "already exists" in dialog.error.text()
    assert dialog.edit.text() == "acme"
    assert [t.name for t in ws.tree.walk_all()].count("acme") == 0
    reject(dialog)
    # A tenant with children cannot be removed: the reason, no question.
    ws.add_tenant("Child", "Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    with expect_dialog(qtbot, QMessageBox, accept, name="errorBox") as error:
        window.act_remove.trigger()
    assert "has 1 child tenant (Child); remove or move it first" in error.text


def test_shared_tenant_needs_no_settings(window: MainWindow, ws: Workspace) -> None:
    window.select_tenant(ws.tree.shared_id)
    assert "needs no integration settings" in window.note_label.text()
    assert window.table.isHidden()
    assert "needs no integration settings" in window.details.toPlainText()
    for act in (window.act_add, window.act_configure, window.act_setup, window.act_remove):
        assert not act.isEnabled()


def test_every_integration_of_the_product_can_be_configured(window: MainWindow, ws: Workspace) -> None:
    window.select_tenant(ws.tree.root_id)
    model = window.table_model
    for spec in catalog.all_specs():
        window.select_integration(spec.kind)
        row = window.current_row()
        assert row.kind == spec.kind and row.supported, spec.kind
        assert model.data(model.index(model.row_of(spec.kind), 3)) != "not yet supported"
        assert window.act_configure.isEnabled(), spec.kind
        assert "not yet supported" not in window.details.toPlainText().lower()


def test_integration_row_shows_state_missing_and_flags(window: MainWindow, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    ws.update_integration("Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}))
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    model = window.table_model
    r = model.row_of("kuma")
    assert model.data(model.index(r, 1)) == "off"
    assert model.data(model.index(r, 2)) == "missing: API token"
    assert model.data(model.index(r, 3)) == "not checked"


def test_toggle_through_action(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    tid = configure(ws, 7223, tenant="Acme", token="secret-token-1", enabled=False)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    assert window.act_toggle.text() == "Turn &on"
    window.act_toggle.trigger()
    wait_idle(qtbot, window)
    assert ws.tree.get(tid).integrations["kuma"].enabled
    assert window.current_row().enabled and window.act_toggle.text() == "Turn &off"


def test_read_only_when_the_folder_is_locked(
    qtbot: QtBot, ws: Workspace, config_dir: Path, keyring_backend: Any
) -> None:
    configure(ws, 7223, tenant="Acme")  # KUMA turned on: there is something to check
    second = Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend)
    try:
        assert second.readonly
        window = open_window(qtbot, second)
        assert window.readonly_label.isVisible()
        assert window.readonly_label.text() == "read-only"
        assert second.readonly_reason in window.readonly_label.toolTip()
        assert window.readonly_banner.isVisible()
        assert second.readonly_reason in window.readonly_banner.text()
        assert "Acme" in visible_names(window)
        for act in (
            window.act_add,
            window.act_rename,
            window.act_remove,
            window.act_setup,
            window.act_import,
            window.act_settings,
        ):
            assert not act.isEnabled()
        assert window.act_check_subtree.isEnabled()  # checks still run (results kept in memory)
        wait_idle(qtbot, window)
    finally:
        second.close()


def test_settings_dialog_stores_timeout_and_proxy(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    def fill(dialog: SettingsDialog) -> None:
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        type_into(dialog.timeout, "7.5")
        dialog.mode.setCurrentIndex(dialog.mode.findData("manual"))
        type_into(dialog.url, "ftp://proxy")
        assert "http://" in dialog.reason.text() and not ok.isEnabled()
        type_into(dialog.url, "http://proxy.example.invalid:3128")
        type_into(dialog.no_proxy, "localhost, .corp.example.invalid")
        assert ok.isEnabled() and not dialog.reason.text()
        accept(dialog)

    with expect_dialog(qtbot, SettingsDialog, fill, name="settingsDialog"):
        window.act_settings.trigger()
    wait_idle(qtbot, window)
    assert window.message_label.full_text() == "Settings saved."
    proxy = {
        "mode": "manual",
        "url": "http://proxy.example.invalid:3128",
        "no_proxy": ["localhost", ".corp.example.invalid"],
    }
    assert ws.app["timeout"] == 7.5 and ws.app["proxy"] == proxy
    saved = json.loads(ws.file.path.read_text())["app"]
    assert saved["timeout"] == 7.5 and saved["proxy"] == proxy
    # Cancel changes nothing.
    with expect_dialog(qtbot, SettingsDialog, in_order(type_text(None, "7"), reject), name="settingsDialog"):
        window.act_settings.trigger()
    wait_idle(qtbot, window)
    assert ws.app["timeout"] == 7.5


def test_export_and_import_through_the_menu(
    window: MainWindow, qtbot: QtBot, ws: Workspace, tmp_path: Path
) -> None:
    configure(ws, 7223, tenant="Acme", token="do-not-export-me")
    out = tmp_path / "export.json"
    with expect_dialog(qtbot, QFileDialog, pick_file(out), name="saveFileDialog", title="Export"):
        window.act_export.trigger()
    wait_idle(qtbot, window)
    assert f"Exported to {out}" in window.message_label.full_text()
    text = out.read_text()
    assert "Acme" in text and "do-not-export-me" not in text
    doc = json.loads(text)
    doc["tenants"].append(
        {
            "path": "Root tenant/Imported",
            "integrations": {
                "kuma": {
                    "enabled": True,
                    "settings": {"host": "k.example.invalid", "port": 7223},
                    "secrets_set": ["token"],
                }
            },
        }
    )
    out.write_text(json.dumps(doc))
    with expect_dialog(qtbot, QFileDialog, pick_file(out), name="openFileDialog", title="Import"):
        window.act_import.trigger()
    with expect_dialog(qtbot, QMessageBox, accept, name="infoBox", title="Imported") as info:
        wait_idle(qtbot, window)
    assert "Imported" in visible_names(window)
    assert info.seen is not None and "Imported" in info.seen.details and "token" in info.seen.details


def test_start_gui_paints_the_frame_then_opens_and_fills_in(
    qtbot: QtBot, config_dir: Path, keyring_backend: Any
) -> None:
    """The start-up path of `xdrconf` (run_gui without its event loop: app.exec() would
    leave Qt's quit flag set for the rest of the test session): the frame is painted first,
    then the settings are opened and the tree and the integrations built."""
    from xdrconf.qt.app import start_gui

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.add_tenant("Acme")
    window = start_gui(str(config_dir), keyring_backend=keyring_backend)
    qtbot.addWidget(window)
    try:
        opened_at_once, table_at_once = window.opened, window.table
        assert not opened_at_once and table_at_once is None  # deferred until painted
        assert window.note_label.text() == "Loading…"
        qtbot.waitUntil(lambda: window.keyring_status is not None, timeout=10000)
        assert window.opened
        assert visible_names(window) == ["Root tenant", "Acme", "Shared"]
        assert (
            window.title_label.text() == "Root tenant"
            and window.current_tenant_id() == window.ws.tree.root_id
        )
        assert window.table is not None and window.table_model.rowCount() > 0
        assert window.keyring_label.text() == "OS keyring: Secret Service"  # the store in words
        assert not window.ws.readonly
        wait_idle(qtbot, window)
    finally:
        if window.opened:
            window.ws.close()


def test_settings_that_cannot_be_opened_are_said_and_close_the_window(qtbot: QtBot, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "settings"
    not_a_folder.write_text("a file where the settings folder should be")

    def opener() -> Workspace:
        return Workspace.open(not_a_folder, readonly_if_locked=True)

    window = MainWindow(None, deferred=True, opener=opener)
    qtbot.addWidget(window)
    window.show()
    with (
        qtbot.waitSignal(window.open_failed, timeout=5000),
        expect_dialog(qtbot, QMessageBox, accept, title="xdrconf") as said,
    ):
        window.start()
    assert "The settings cannot be opened" in said.text and str(not_a_folder) in said.text
    assert not window.isVisible() and not window.opened


def test_expiry_flags_are_shown_on_the_row_and_the_tree(window: MainWindow, ws: Workspace) -> None:
    """Flags come from the integration's spec (here KASAP's token expiry) via ws.flags."""
    ws.add_tenant("Acme")
    acme = ws.tenant("Acme")
    acme.integrations["kasap"] = IntegrationState(
        "kasap", True, {"token_issued": "2020-01-01"}, {"token": "not-a-real-ref"}
    )
    window.refresh()
    window.select_tenant(acme.id)
    model = window.table_model
    r = model.row_of("kasap")
    flags = [f.message for k, f in ws.flags(acme) if k == "kasap"]
    assert flags and model.data(model.index(r, 4)) == "; ".join(flags)
    assert "expired" in model.data(model.index(r, 4))
    assert model.rows[r].level == "error"
    assert window.tree_model.data(window.tree_model.index_of(acme.id), window.tree_model.MARK_ROLE) == "error"
    window.select_integration("kasap")
    assert "expired" in window.details.toPlainText()
