"""The main window through its real actions: tree and filter, tenant changes, the Shared
tenant, unsupported integrations, read-only mode, the corrupt-file notice, settings."""

from __future__ import annotations

import json

from support.gui import wait_idle
from support.kuma_peer import configure
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.main_window import MainWindow


def open_window(qtbot, ws, prompts):
    window = MainWindow(ws, prompts)
    qtbot.addWidget(window)
    window.show()
    window.start()
    return window


def visible_names(window, parent=None):
    from PySide6.QtCore import QModelIndex

    model = window.tree_model
    parent = parent or QModelIndex()
    out = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        out.append(model.data(index))
        out.extend(visible_names(window, index))
    return out


def test_tree_and_filter(qtbot, ws, prompts):
    ws.add_tenant("Acme")
    ws.add_tenant("Acme EU", "Acme")
    ws.add_tenant("Globex")
    window = open_window(qtbot, ws, prompts)
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


def test_keyring_status_and_folder_in_status_bar(window, qtbot, ws):
    qtbot.waitUntil(lambda: window.keyring_status is not None)
    assert window.keyring_status.usable
    assert window.keyring_label.text().endswith("ready")
    assert str(ws.config_dir) in window.folder_label.text()
    assert not window.readonly_label.isVisible()
    assert not window.readonly_banner.isVisible()


def test_add_rename_move_remove_through_actions(window, qtbot, ws, prompts):
    prompts.answer("text", "Acme")
    window.act_add.trigger()
    wait_idle(qtbot, window)
    acme = ws.tenant("Acme")
    assert window.current_tenant_id() == acme.id
    assert "Acme" in visible_names(window)

    window.select_tenant(ws.tree.root_id)
    prompts.answer("text", "Globex")
    window.act_add.trigger()
    wait_idle(qtbot, window)

    window.select_tenant(acme.id)
    prompts.answer("text", "Acme Corp")
    window.act_rename.trigger()
    wait_idle(qtbot, window)
    assert ws.tree.get(acme.id).name == "Acme Corp"
    assert "Acme Corp" in visible_names(window)

    prompts.answer("choose", "Root tenant/Globex")
    window.act_move.trigger()
    wait_idle(qtbot, window)
    assert ws.tree.path(acme.id) == "Root tenant/Globex/Acme Corp"
    method, _, _, items = prompts.asked[-1]
    assert method == "choose" and "Root tenant/Globex" in items and "Root tenant" not in items

    # Removing asks first and lists what goes; Cancel keeps the tenant.
    prompts.answer("confirm", False)
    window.act_remove.trigger()
    wait_idle(qtbot, window)
    assert acme.id in ws.tree
    _, _, text, details = prompts.asked[-1]
    assert "Root tenant/Globex/Acme Corp" in text
    assert details == ws.removal_summary(acme.id)
    prompts.answer("confirm", True)
    window.act_remove.trigger()
    wait_idle(qtbot, window)
    assert acme.id not in ws.tree
    assert "Acme Corp" not in visible_names(window)
    assert window.current_tenant_id() == ws.tenant("Globex").id
    # Saved for real: a new Workspace on the folder sees the same tree.
    assert json.loads(ws.file.path.read_text())["tenants"][1]["name"] == "Globex"


def test_errors_are_shown(window, qtbot, ws, prompts):
    ws.add_tenant("Acme")
    window.refresh()
    prompts.answer("text", "acme")
    window.act_add.trigger()
    wait_idle(qtbot, window)
    assert "already exists" in window.last_error
    assert [t.name for t in ws.tree.walk_all()].count("acme") == 0
    # A tenant with children cannot be removed: the reason, no question.
    ws.add_tenant("Child", "Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.act_remove.trigger()
    assert "has 1 child tenant (Child); remove or move it first" in window.last_error


def test_shared_tenant_needs_no_settings(window, qtbot, ws):
    window.select_tenant(ws.tree.shared_id)
    assert "needs no integration settings" in window.note_label.text()
    assert window.table.isHidden()
    assert "needs no integration settings" in window.details.toPlainText()
    for act in (window.act_add, window.act_configure, window.act_setup, window.act_remove):
        assert not act.isEnabled()


def test_unsupported_integration_is_shown_and_cannot_be_turned_on(window, qtbot, ws):
    window.select_tenant(ws.tree.root_id)
    window.select_integration("ad")
    row = window.current_row()
    assert row.kind == "ad" and not row.supported
    model = window.table_model
    assert model.data(model.index(model.row_of("ad"), 1)) == "not yet supported"
    assert not window.act_toggle.isEnabled() and not window.act_configure.isEnabled()
    assert "not yet supported" in window.details.toPlainText().lower()
    window.select_integration("kuma")
    assert window.act_configure.isEnabled()


def test_integration_row_shows_state_missing_and_flags(window, qtbot, ws):
    ws.add_tenant("Acme")
    ws.update_integration("Acme", IntegrationEdit("kuma", values={"host": "kuma.example.com"}))
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    model = window.table_model
    r = model.row_of("kuma")
    assert model.data(model.index(r, 1)) == "off"
    assert model.data(model.index(r, 2)) == "missing: API token"
    assert model.data(model.index(r, 3)) == "not checked"


def test_toggle_through_action(window, qtbot, ws):
    tid = configure(ws, 7223, tenant="Acme", token="secret-token-1", enabled=False)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    assert window.act_toggle.text() == "Turn &on"
    window.act_toggle.trigger()
    wait_idle(qtbot, window)
    assert ws.tree.get(tid).integrations["kuma"].enabled
    assert window.current_row().enabled and window.act_toggle.text() == "Turn &off"


def test_read_only_when_the_folder_is_locked(qtbot, ws, config_dir, keyring_backend, prompts):
    ws.add_tenant("Acme")
    second = Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend)
    try:
        assert second.readonly
        window = open_window(qtbot, second, prompts)
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
        assert window.act_check_tenant.isEnabled()
        wait_idle(qtbot, window)
    finally:
        second.close()


def test_corrupt_file_notice_offers_the_backup(qtbot, config_dir, keyring_backend, prompts):
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.add_tenant("Acme")
        first.add_tenant("Globex")  # the backup now holds Acme
    (config_dir / "settings.json").write_text("{ not json")
    ws = Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend)
    try:
        assert ws.notice is not None
        message = ws.notice.message
        prompts.answer("confirm", True)
        window = open_window(qtbot, ws, prompts)
        qtbot.waitUntil(lambda: any(a[0] == "confirm" for a in prompts.asked))
        wait_idle(qtbot, window)
        _method, title, text, details = prompts.asked[0]
        assert text == message and "could not be read" in title
        assert "kept as" in text and any("backup" in d for d in details)
        assert "Acme" in visible_names(window)
        assert ws.notice is None
    finally:
        ws.close()


def test_settings_dialog_stores_timeout_and_proxy(window, qtbot, ws, prompts):
    from PySide6.QtWidgets import QDialogButtonBox

    def fill(dialog):
        dialog.timeout.setValue(7.5)
        dialog.mode.setCurrentIndex(dialog.mode.findData("manual"))
        dialog.url.setText("ftp://proxy")
        assert "http://" in dialog.reason.text()
        assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
        dialog.url.setText("http://proxy.example.com:3128")
        dialog.no_proxy.setText("localhost, .corp.example.com")
        assert dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
        return True

    prompts.answer("dialog", fill)
    window.act_settings.trigger()
    wait_idle(qtbot, window)
    assert ws.app["timeout"] == 7.5
    assert ws.app["proxy"] == {
        "mode": "manual",
        "url": "http://proxy.example.com:3128",
        "no_proxy": ["localhost", ".corp.example.com"],
    }


def test_export_and_import_through_the_menu(window, qtbot, ws, prompts, tmp_path):
    configure(ws, 7223, tenant="Acme", token="do-not-export-me")
    out = tmp_path / "export.json"
    prompts.answer("save_file", str(out))
    window.act_export.trigger()
    wait_idle(qtbot, window)
    text = out.read_text()
    assert "Acme" in text and "do-not-export-me" not in text
    doc = json.loads(text)
    doc["tenants"].append(
        {
            "path": "Root tenant/Imported",
            "integrations": {
                "kuma": {
                    "enabled": True,
                    "settings": {"host": "k.example.com", "port": 7223},
                    "secrets_set": ["token"],
                }
            },
        }
    )
    out.write_text(json.dumps(doc))
    prompts.answer("open_file", str(out))
    window.act_import.trigger()
    wait_idle(qtbot, window)
    assert "Imported" in visible_names(window)
    info = [a for a in prompts.asked if a[0] == "info"][-1]
    assert any("Imported" in line and "token" in line for line in info[3])


def test_start_gui_shows_the_tree_then_fills_in_after_the_first_paint(qtbot, config_dir, keyring_backend):
    """The start-up path of `xdrconf` (run_gui without its event loop: app.exec() would
    leave Qt's quit flag set for the rest of the test session)."""
    from xdrconf.qt.app import start_gui

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.add_tenant("Acme")
    window = start_gui(str(config_dir), keyring_backend=keyring_backend)
    qtbot.addWidget(window)
    try:
        assert visible_names(window) == ["Root tenant", "Acme", "Shared"]
        assert window.table is None  # deferred until painted
        qtbot.waitUntil(lambda: window.keyring_status is not None, timeout=10000)
        assert window.table is not None and window.table_model.rowCount() > 0
        assert window.keyring_label.text().endswith("ready")
        assert not window.ws.readonly
        wait_idle(qtbot, window)
    finally:
        window.ws.close()


def test_expiry_flags_are_shown_on_the_row_and_the_tree(window, qtbot, ws):
    """Flags come from the integration's spec (here KASAP's token expiry) via ws.flags."""
    from xdrconf.core.tenants import IntegrationState

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
