"""Every dialog the main window can open, opened through the window and accepted once with
valid input, and what it did checked: the file written, the tenant gone with its secrets,
the backup back, the check run. (Add child, Rename, Move, Settings, Export and Import:
test_gui_main.py; KATA's connection dialogs: test_kata_gui.py; KUMA's commands editor:
test_kuma_incidents_gui.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWizard
from pytestqt.qtbot import QtBot

from support import secret_service
from support.gui import (
    Expected,
    accept,
    as_a,
    click,
    close_window,
    expect_dialog,
    expect_dialogs,
    pick_file,
    reject,
    select_data,
    type_into,
    wait_idle,
)
from support.kuma_peer import configure
from support.sshd import make_key
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.checks_ui import CheckAllDialog
from xdrconf.qt.editors import LineEditor, SecretTextEditor
from xdrconf.qt.integrations import kata as kata_ui
from xdrconf.qt.integrations.custom import CustomIntegrationPage
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.wizard import TenantWizard


def confirm(act: Any, title: str) -> Expected[QMessageBox]:
    return Expected(QMessageBox, act, name="confirmBox", title=title)


def test_remove_deletes_the_tenant_and_its_secrets_from_the_keyring(
    window: MainWindow, qtbot: QtBot, ws: Workspace, keyring_backend: Any
) -> None:
    tid = configure(ws, 7223, tenant="Acme", token="remove-me-token-1")
    ref = ws.tree.get(tid).integrations["kuma"].secrets["token"]
    assert secret_service.held(keyring_backend, ws.secrets.service, ref) == "remove-me-token-1"
    window.refresh()
    window.select_tenant(tid)
    with expect_dialogs(qtbot, confirm(accept, "Remove tenant")) as (asked,):
        window.act_remove.trigger()
    wait_idle(qtbot, window)
    assert "KUMA" in asked.text  # the summary names what goes
    assert tid not in ws.tree
    assert [t["name"] for t in json.loads(ws.file.path.read_text())["tenants"]] == ["Root tenant", "Shared"]
    # Gone from the real Secret Service, not only from xdrconf's view of it.
    assert keyring_backend.get_password(ws.secrets.service, ref) is None


def test_restore_backup_brings_back_the_previous_settings(
    window: MainWindow, qtbot: QtBot, ws: Workspace, config_dir: Path
) -> None:
    ws.add_tenant("Acme")
    ws.add_tenant("Globex")  # the backup holds the settings with Acme only
    window.refresh()
    window._update_actions()
    assert window.act_restore.isEnabled()
    with expect_dialogs(qtbot, confirm(reject, "Restore backup")):
        window.act_restore.trigger()
    assert "Globex" in [t.name for t in ws.tree.walk_all()]
    with expect_dialogs(qtbot, confirm(accept, "Restore backup")) as (asked,):
        window.act_restore.trigger()
    wait_idle(qtbot, window)
    assert "kept aside" in asked.text
    names = [t.name for t in ws.tree.walk_all()]
    assert "Acme" in names and "Globex" not in names
    assert window.tree_model.index_of(ws.tenant("Acme").id).isValid()
    assert [p.name for p in config_dir.glob("settings.replaced-*.json")]  # the replaced file kept


def test_about_shows_version_and_folder(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    from xdrconf import __version__

    with expect_dialog(qtbot, QMessageBox, accept, name="infoBox", title="About xdrconf") as about:
        window.act_about.trigger()
    assert about.seen is not None and __version__ in about.seen.title
    assert str(ws.config_dir) in about.text and "keyring" in about.text


def test_tip_check_asks_about_the_quota_first(
    window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: Any
) -> None:
    """TIP checks may consume quota: the window says so and checks only after OK."""
    ws.update_integration(
        "Root",
        IntegrationEdit(
            "tip",
            values={"access": "general", "opentip_url": "https://127.0.0.1:1", "tls_ca": test_ca.cert_pem},
            secrets={"token": "tip-token-0123456789"},
            enabled=True,
        ),
    )
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    window.select_integration("tip")
    with expect_dialogs(qtbot, confirm(reject, "Before the check")) as (asked,):
        window.act_check.trigger()
    assert "quota" in asked.text.lower()
    assert not ws.tree.get(ws.tree.root_id).integrations["tip"].results  # Cancel: nothing ran
    with expect_dialogs(qtbot, confirm(accept, "Before the check")):
        window.act_check.trigger()
    qtbot.waitUntil(lambda: bool(ws.tree.get(ws.tree.root_id).integrations["tip"].results), timeout=20000)
    wait_idle(qtbot, window)
    [result] = ws.tree.get(ws.tree.root_id).integrations["tip"].results
    assert result["category"] == Category.UNREACHABLE.value  # port 1 on loopback answers nothing
    assert window.message_label.full_text().startswith("Kaspersky Threat Intelligence Portal: Unreachable")


def test_check_all_asks_about_the_quota_then_shows_the_results(
    window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: Any
) -> None:
    ws.update_integration(
        "Root",
        IntegrationEdit(
            "tip",
            values={"access": "general", "opentip_url": "https://127.0.0.1:1", "tls_ca": test_ca.cert_pem},
            secrets={"token": "tip-token-0123456789"},
            enabled=True,
        ),
    )
    configure(ws, 1, tenant="Acme")
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    with expect_dialogs(
        qtbot,
        confirm(accept, "Before the check"),
        Expected(CheckAllDialog, lambda _d: None, name="checkAllDialog"),
    ) as (_, check):
        window.act_check_subtree.trigger()
    dialog = check.dialog
    assert isinstance(dialog, CheckAllDialog)
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    wait_idle(qtbot, window)
    assert "Root tenant and below" in dialog.windowTitle()
    for tenant, kind in ((ws.tree.root_id, "tip"), (ws.tenant("Acme").id, "kuma")):
        [result] = ws.tree.get(tenant).integrations[kind].results
        assert result["category"] == Category.UNREACHABLE.value
    dialog.close()


def test_wizard_cancel_saves_nothing(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.select_integration("kuma")
    with expect_dialog(qtbot, TenantWizard, lambda _w: None, name="tenantWizard") as opened:
        window.act_configure.trigger()
    wizard = opened.dialog
    assert isinstance(wizard, TenantWizard)
    field = wizard.currentPage().findChild(LineEditor, "field_host")
    assert field is not None
    type_into(field.edit, "kuma.acme.invalid")
    # Cancel asks before dropping what was typed; Discard drops it.
    discard = click(QMessageBox.StandardButton.Discard)
    with expect_dialog(qtbot, QMessageBox, discard, name="discardChanges", title="Discard the changes?"):
        wizard.button(QWizard.WizardButton.CancelButton).click()
    qtbot.waitUntil(lambda: not wizard.isVisible())
    assert window.wizard is None
    assert "kuma" not in ws.tenant("Acme").integrations


def test_custom_load_from_file_fills_the_key_and_the_host_key(
    window: MainWindow, qtbot: QtBot, ws: Workspace, tmp_path: Path
) -> None:
    """The custom integration's two "Load from file…" buttons, through the wizard the window
    opens: the host's public key on the page, the private key in "Add data"."""
    ws.add_tenant("Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.select_integration("custom")
    with expect_dialog(qtbot, TenantWizard, lambda _w: None, name="tenantWizard") as opened:
        window.act_configure.trigger()
    wizard = opened.dialog
    assert isinstance(wizard, TenantWizard)
    page = wizard.currentPage()
    assert isinstance(page, CustomIntegrationPage)

    host_key = make_key("ed25519")
    pub = tmp_path / "host_ed25519.pub"
    pub.write_text(host_key.public_line + "\n")
    with expect_dialog(qtbot, QFileDialog, pick_file(pub), name="openFileDialog", title="Host public key"):
        page.load_public.click()
    qtbot.waitUntil(lambda: page.public_key.toPlainText().strip() == host_key.public_line)
    assert "ED25519" in page.key_info.text()

    page.by_key.setChecked(True)
    key = as_a(SecretTextEditor, page.private_key)
    client = make_key("ed25519")
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(client.private_openssh)
    with expect_dialog(qtbot, QFileDialog, pick_file(key_file), name="openFileDialog", title="Private key"):
        key.load_button.click()
    assert page.draft.secrets["private_key"] == client.private_openssh
    assert "lines, hidden" in key.status.text()
    # Cancel asks before dropping what was typed; Discard drops it.
    with expect_dialog(
        qtbot, QMessageBox, click(QMessageBox.StandardButton.Discard), name="discardChanges"
    ) as asked:
        wizard.reject()
    assert "Custom integration" in asked.text
    qtbot.waitUntil(lambda: not wizard.isVisible())
    assert "custom" not in ws.tenant("Acme").integrations  # nothing saved before Finish


def test_kata_connection_dialogs_through_the_window(
    window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: Any
) -> None:
    """Add, Edit and Delete connection from the KATA/KEDR tab the window shows."""
    from xdrconf.core.integrations.kata import connections as kata

    ws.add_tenant("Acme")
    ws.update_integration("Acme", IntegrationEdit("kata", values={"tls_ca": test_ca.cert_pem}))
    tid = ws.tenant("Acme").id
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kata")
    panel = window.findChild(kata_ui.KataConnectionsWidget)
    assert panel is not None

    def add(dialog: kata_ui.ConnectionDialog) -> None:
        type_into(dialog.host, "kata.example.invalid")
        select_data(dialog.key_type, "p256")
        accept(dialog)

    with expect_dialog(qtbot, kata_ui.ConnectionDialog, add, name="kataConnectionDialog", title="Add"):
        panel.add_btn.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    [conn] = kata.connections(ws.tenant("Acme").integrations["kata"])
    assert (conn["host"], conn["port"], conn["key_type"]) == ("kata.example.invalid", 443, "p256")
    key_ref = ws.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])]

    def edit(dialog: kata_ui.ConnectionDialog) -> None:
        type_into(dialog.port, "8443")
        accept(dialog)

    # A new port is a new target for the connection's key: the window asks first (default No).
    with expect_dialogs(
        qtbot,
        Expected(kata_ui.ConnectionDialog, edit, name="kataConnectionDialog", title="Edit"),
        confirm(accept, "Send the stored secrets"),
    ):
        panel.edit_btn.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    [conn] = kata.connections(ws.tenant("Acme").integrations["kata"])
    assert conn["port"] == 8443

    with expect_dialogs(qtbot, confirm(accept, "Delete connection")):
        panel.delete_btn.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    assert kata.connections(ws.tenant("Acme").integrations["kata"]) == []
    assert ws.secrets.get(key_ref) is None


def test_corrupt_settings_at_start_offers_the_backup_and_restores_it(
    qtbot: QtBot, config_dir: Path, keyring_backend: Any
) -> None:
    """Start as `xdrconf` does (start_gui) with a real corrupt settings.json and its .bak."""
    from xdrconf.qt.app import start_gui

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.add_tenant("Acme")
        first.add_tenant("Globex")  # the backup now holds Acme
    (config_dir / "settings.json").write_text("{ not json")
    with expect_dialog(
        qtbot, QMessageBox, click(QMessageBox.StandardButton.Ok), name="confirmBox", title="could not be read"
    ) as notice:
        window = start_gui(str(config_dir), keyring_backend=keyring_backend)
        assert window is not None
        qtbot.addWidget(window)
    try:
        assert "kept as settings.corrupt-" in notice.text and "backup" in notice.text
        qtbot.waitUntil(lambda: "Acme" in [t.name for t in window.ws.tree.walk_all()], timeout=10000)
        wait_idle(qtbot, window)
        assert window.ws.notice is None
        assert window.tree_model.index_of(window.ws.tenant("Acme").id).isValid()
        assert json.loads((config_dir / "settings.json").read_text())["tenants"][1]["name"] == "Acme"
        [aside] = config_dir.glob("settings.corrupt-*.json")
        assert aside.read_text() == "{ not json"
    finally:
        close_window(qtbot, window)
        window.ws.close()


def test_corrupt_settings_at_start_declined_keeps_empty_settings_and_the_file_aside(
    qtbot: QtBot, config_dir: Path, keyring_backend: Any
) -> None:
    from xdrconf.qt.app import start_gui

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.add_tenant("Acme")
        first.add_tenant("Globex")
    (config_dir / "settings.json").write_text('{"schema": "something else"}')
    with expect_dialog(
        qtbot,
        QMessageBox,
        click(QMessageBox.StandardButton.Cancel),
        name="confirmBox",
        title="could not be read",
    ):
        window = start_gui(str(config_dir), keyring_backend=keyring_backend)
        assert window is not None
        qtbot.addWidget(window)
    try:
        wait_idle(qtbot, window)
        assert [t.name for t in window.ws.tree.walk_all()] == ["Root tenant", "Shared"]
        [aside] = config_dir.glob("settings.corrupt-*.json")
        assert aside.read_text() == '{"schema": "something else"}'
        assert (config_dir / "settings.json.bak").exists()  # still there to restore later
        window._update_actions()
        assert window.act_restore.isEnabled()
    finally:
        close_window(qtbot, window)
        window.ws.close()
