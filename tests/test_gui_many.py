"""Changes across several tenants in the window, driven as a person does: Ctrl-click several
tenants in the tree, Turn on / Turn off for them (the real confirmation naming them; the
Shared tenant refused; a refusal half-way changes nothing), the actions of one tenant off with
a tooltip saying why, and Configure in the subtree… / for the selected tenants (the real
dialog, pre-filled from the first tenant, secrets never; the changed fields only applied to
each, a secret typed once stored as each tenant's own entry; SecretsWouldFollow answered No
keeps everything, Yes applies).

Screenshots: XDRCONF_SCREENSHOTS=/some/folder keeps the renderings there."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from support.gui import (
    Expected,
    accept,
    click,
    expect_dialog,
    expect_dialogs,
    reject,
    select_data,
    type_into,
    wait_idle,
)
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.many import ConfigureManyDialog

SHOTS = os.environ.get("XDRCONF_SCREENSHOTS")


def shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        for _round in range(3):
            QApplication.processEvents()
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def audit_lines(config_dir: Path) -> list[dict[str, Any]]:
    path = config_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def ctrl_click(window: MainWindow, tid: str) -> None:
    """Ctrl-click the tenant's row in the tree, as a person adds it to the selection."""
    index = window.tree_model.index_of(tid)
    assert index.isValid()
    window.tree_view.scrollTo(index)
    rect = window.tree_view.visualRect(index)
    QTest.mouseClick(
        window.tree_view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        rect.center(),
    )


def setup(ws: Workspace) -> None:
    ws.update_integration("Root", IntegrationEdit("kuma", values={"host": "kuma.invalid"}))
    ws.add_tenant("Acme")
    ws.add_tenant("EU", "Acme")
    ws.add_tenant("Globex")
    ws.update_integration("Acme", IntegrationEdit("kuma", secrets={"token": "many-gui-acme"}))
    ws.update_integration("Globex", IntegrationEdit("kuma", secrets={"token": "many-gui-globex"}))


def choose(window: MainWindow, ws: Workspace, first: str, *others: str) -> None:
    window.refresh()
    window.select_tenant(ws.tenant(first).id)
    window.select_integration("kuma")
    for name in others:
        ctrl_click(window, ws.tree.shared_id if name == "Shared" else ws.tenant(name).id)
    window.select_integration("kuma")  # of the tenant clicked last (the current one)
    assert len(window.selected_tenant_ids()) == 1 + len(others)


def test_turn_on_and_off_for_the_selected_tenants(
    window: MainWindow, ws: Workspace, qtbot: QtBot, config_dir: Path
) -> None:
    setup(ws)
    choose(window, ws, "Acme", "Globex")
    assert [ws.tree.path(t) for t in window.selected_tenant_ids()] == [
        "Root tenant/Acme",
        "Root tenant/Globex",
    ]
    assert window.act_subtree_on.text() == "Turn on for the &selected tenants…"
    for act in (
        window.act_rename,
        window.act_remove,
        window.act_configure,
        window.act_setup,
        window.act_drift,
    ):
        assert not act.isEnabled()
        assert "several are selected" in act.toolTip()
    assert window.act_subtree_on.isEnabled() and window.act_subtree_configure.isEnabled()
    shot(window, "many-selected")

    # EU has no token: turning on for Acme, EU and Globex is refused half-way, nothing changes.
    ctrl_click(window, ws.tenant("EU").id)
    before = (config_dir / "settings.json").read_bytes()
    lines_before = len(audit_lines(config_dir))

    def names_three(box: QMessageBox) -> None:
        assert "Turn KUMA REST API on for these 3 tenants" in box.text()
        assert (
            "Root tenant/Acme/EU" in box.informativeText() and "Root tenant/Globex" in box.informativeText()
        )
        assert box.windowTitle() == "Turn on for the selected tenants"
        click(QMessageBox.StandardButton.Ok)(box)

    refused = Expected(QMessageBox, accept, "errorBox")
    with expect_dialogs(qtbot, Expected(QMessageBox, names_three, "confirmBox"), refused, timeout=20000):
        window.act_subtree_on.trigger()
    assert "Root tenant/Acme/EU" in refused.text and "nothing was changed in any tenant" in refused.text
    wait_idle(qtbot, window)
    assert (config_dir / "settings.json").read_bytes() == before
    assert len(audit_lines(config_dir)) == lines_before

    # Acme and Globex only: both on, Root and EU not; the audit trail names the window action.
    choose(window, ws, "Acme", "Globex")
    with expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Ok), name="confirmBox"):
        window.act_subtree_on.trigger()
    qtbot.waitUntil(lambda: all(ws.tenant(n).integrations["kuma"].enabled for n in ("Acme", "Globex")))
    wait_idle(qtbot, window)
    assert not ws.tree.root.integrations["kuma"].enabled
    assert not ws.tenant("EU").integrations["kuma"].enabled
    new = audit_lines(config_dir)[lines_before:]
    assert [e["tenant"] for e in new] == ["Root tenant/Acme", "Root tenant/Globex"]
    assert {(e["change"], e["action"]) for e in new} == {
        ("integration_on", "window: Turn on for the selected tenants")
    }

    # Cancel turns nothing off; the Shared tenant in the selection is refused, naming it.
    choose(window, ws, "Acme", "Globex")
    with expect_dialog(qtbot, QMessageBox, reject, name="confirmBox"):
        window.act_subtree_off.trigger()
    wait_idle(qtbot, window)
    assert ws.tenant("Globex").integrations["kuma"].enabled
    choose(window, ws, "Globex", "Shared", "Acme")  # the Shared tenant in the selection, Acme current
    with expect_dialog(qtbot, QMessageBox, accept, name="errorBox") as box:
        window.act_subtree_off.trigger()
    assert "Shared tenant" in box.text
    assert ws.tenant("Acme").integrations["kuma"].enabled

    # One tenant selected again: the subtree wording and the single actions come back.
    window.select_tenant(ws.tenant("Globex").id)
    window.select_integration("kuma")
    assert window.act_subtree_off.text() == "Turn off in the s&ubtree…"
    assert window.act_rename.isEnabled() and "several" not in window.act_rename.toolTip()


def many_dialog(window: MainWindow, qtbot: QtBot) -> ConfigureManyDialog:
    window.act_subtree_configure.trigger()
    qtbot.waitUntil(lambda: getattr(window, "many_dialog", None) is not None)
    dialog = window.many_dialog
    assert isinstance(dialog, ConfigureManyDialog)
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def ok_button(dialog: ConfigureManyDialog) -> QPushButton:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert button is not None
    return button


def field(dialog: QWidget, name: str) -> QLineEdit:
    editor = dialog.findChild(QWidget, f"field_{name}")
    assert editor is not None
    edit = editor.findChild(QLineEdit)
    assert isinstance(edit, QLineEdit)
    return edit


def test_configure_for_the_selected_tenants(
    window: MainWindow, ws: Workspace, qtbot: QtBot, config_dir: Path
) -> None:
    setup(ws)
    ws.update_integration("Globex", IntegrationEdit("kuma", values={"api_version": "v2"}))
    choose(window, ws, "Acme", "Globex")
    dialog = many_dialog(window, qtbot)
    assert dialog.windowTitle() == "Configure KUMA REST API for 2 tenants"
    intro = dialog.findChild(QLabel, "configureManyIntro")
    assert intro is not None and "Root tenant/Globex" in intro.text()
    assert field(dialog, "host").text() == "kuma.invalid"  # the first tenant's values
    assert field(dialog, "port").text() == "7223"
    token = dialog.findChild(QLineEdit, "secret_token")
    assert token is not None and token.text() == ""  # secrets never pre-filled
    assert not ok_button(dialog).isEnabled()  # nothing changed yet
    type_into(field(dialog, "port"), "abc")
    assert not ok_button(dialog).isEnabled()  # a bad value
    type_into(field(dialog, "port"), "7223")
    assert not ok_button(dialog).isEnabled()  # back to the first tenant's value: no change
    combo = dialog.findChild(QWidget, "field_api_version").findChild(QComboBox)  # type: ignore[union-attr]
    assert isinstance(combo, QComboBox) and combo.currentData() == "v1"  # Acme's, not Globex's v2
    select_data(combo, "v3")
    assert ok_button(dialog).isEnabled()
    shot(dialog, "many-configure")
    lines_before = len(audit_lines(config_dir))
    QTest.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.many_dialog is None, timeout=20000)
    wait_idle(qtbot, window)
    assert ws.tenant("Acme").integrations["kuma"].settings["api_version"] == "v3"
    assert ws.tenant("Globex").integrations["kuma"].settings["api_version"] == "v3"
    assert ws.tenant("Globex").integrations["kuma"].settings["host"] == "kuma.invalid"  # unchanged
    assert ws.tenant("EU").integrations["kuma"].settings["api_version"] == "v1"
    new = audit_lines(config_dir)[lines_before:]
    assert [e["tenant"] for e in new] == ["Root tenant/Acme", "Root tenant/Globex"]
    assert {e["action"] for e in new} == {"window: Configure for the selected tenants"}
    assert "many-gui" not in (config_dir / "settings.json").read_text()

    # A new host with the stored tokens: the Yes/No names them; No keeps everything.
    choose(window, ws, "Acme", "Globex")
    dialog = many_dialog(window, qtbot)
    type_into(field(dialog, "host"), "kuma2.invalid")
    before = (config_dir / "settings.json").read_bytes()

    def names_follow(box: QMessageBox) -> None:
        assert "kuma2.invalid" in box.text() + box.informativeText() + box.detailedText()
        click(QMessageBox.StandardButton.Cancel)(box)

    with expect_dialog(qtbot, QMessageBox, names_follow, timeout=20000):
        QTest.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    error = dialog.findChild(QLabel, "configureManyError")
    assert error is not None
    qtbot.waitUntil(lambda: "Nothing was saved" in error.text())
    wait_idle(qtbot, window)
    assert (config_dir / "settings.json").read_bytes() == before
    assert field(dialog, "host").text() == "kuma2.invalid"  # the typed value kept

    # Now with a token typed once (Replace): stored for each tenant as its own entry.
    replace = dialog.findChild(QPushButton, "replaceButton")
    assert replace is not None
    QTest.mouseClick(replace, Qt.MouseButton.LeftButton)
    type_into(token_edit := dialog.findChild(QLineEdit, "secret_token"), "many-gui-new")  # type: ignore[arg-type]
    assert token_edit is not None
    QTest.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.many_dialog is None, timeout=20000)
    wait_idle(qtbot, window)
    acme, globex = ws.tenant("Acme").integrations["kuma"], ws.tenant("Globex").integrations["kuma"]
    assert acme.settings["host"] == globex.settings["host"] == "kuma2.invalid"
    assert acme.secrets["token"] != globex.secrets["token"]  # each its own entry
    assert ws.secrets.get(acme.secrets["token"]) == ws.secrets.get(globex.secrets["token"]) == "many-gui-new"


def test_configure_in_the_subtree_refused_half_way_then_confirmed(
    window: MainWindow, ws: Workspace, qtbot: QtBot, config_dir: Path
) -> None:
    """Acme's subtree: Acme has no token of its own here, EU has one; a new host would take
    EU's token to it: No keeps Acme unchanged too; Yes applies to both."""
    ws.update_integration("Root", IntegrationEdit("kuma", values={"host": "kuma.invalid"}))
    ws.add_tenant("Acme")
    ws.add_tenant("EU", "Acme")
    ws.update_integration("EU", IntegrationEdit("kuma", secrets={"token": "many-gui-eu"}))
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.select_integration("kuma")
    assert window.act_subtree_configure.text() == "Configure in the su&btree…"
    dialog = many_dialog(window, qtbot)
    assert dialog.windowTitle() == "Configure KUMA REST API for 2 tenants"
    type_into(field(dialog, "host"), "kuma3.invalid")
    before = (config_dir / "settings.json").read_bytes()
    lines_before = len(audit_lines(config_dir))

    def names_eu(box: QMessageBox) -> None:
        assert "Root tenant/Acme/EU" in box.text() + box.informativeText() + box.detailedText()
        click(QMessageBox.StandardButton.Cancel)(box)

    with expect_dialog(qtbot, QMessageBox, names_eu, timeout=20000):
        QTest.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert (config_dir / "settings.json").read_bytes() == before
    assert len(audit_lines(config_dir)) == lines_before
    with expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Ok), timeout=20000):
        QTest.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.many_dialog is None, timeout=20000)
    wait_idle(qtbot, window)
    assert ws.tenant("Acme").integrations["kuma"].settings["host"] == "kuma3.invalid"
    assert ws.tenant("EU").integrations["kuma"].settings["host"] == "kuma3.invalid"
    assert ws.tree.root.integrations["kuma"].settings["host"] == "kuma.invalid"
    new = audit_lines(config_dir)[lines_before:]
    assert {e["action"] for e in new} == {"window: Configure in the subtree"}


def test_the_dialog_in_russian(
    window: MainWindow, ws: Workspace, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xdrconf.qt.app import apply_language

    setup(ws)
    monkeypatch.setenv("XDRCONF_LANG", "ru")
    assert apply_language(None) == "ru"  # and Qt's own texts (conftest turns English back on)
    choose(window, ws, "Acme", "Globex")
    assert window.act_subtree_on.text() != "Turn on for the &selected tenants…"
    assert "several are selected" not in window.act_rename.toolTip()
    dialog = many_dialog(window, qtbot)
    assert "Configure" not in dialog.windowTitle()
    texts = [b.text() for b in dialog.buttons.buttons()]
    assert set(texts) == {"ОК", "Отмена"}
    shot(dialog, "many-configure-ru")
    shot(window, "many-selected-ru")
    dialog.reject()


def test_a_secret_says_for_how_many_of_the_tenants_it_is_stored(
    window: MainWindow, ws: Workspace, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acme and Globex hold a KUMA token, EU and Initech none: the token field says what is
    true of the tenants chosen — stored for all (as for one tenant), for some (how many of
    how many; the others stay without), or for none (no such hint, nothing required)."""
    setup(ws)
    ws.add_tenant("Initech")

    def token_of(dialog: ConfigureManyDialog) -> tuple[QLineEdit, QPushButton]:
        edit = dialog.findChild(QLineEdit, "secret_token")
        replace = dialog.findChild(QPushButton, "replaceButton")
        assert edit is not None and replace is not None
        return edit, replace

    choose(window, ws, "Acme", "Globex")
    dialog = many_dialog(window, qtbot)
    edit, replace = token_of(dialog)
    assert edit.placeholderText() == "stored — leave empty to keep"
    assert not edit.isEnabled() and replace.isVisible()
    dialog.reject()
    qtbot.waitUntil(lambda: window.many_dialog is None)

    choose(window, ws, "Acme", "EU", "Globex", "Initech")
    dialog = many_dialog(window, qtbot)
    edit, replace = token_of(dialog)
    assert edit.placeholderText() == "stored for 2 of 4 tenants"
    assert not edit.isEnabled() and replace.isVisible()  # Replace types one for all four
    hint = dialog.findChild(QLabel, "reason_token")
    assert hint is not None and hint.text().startswith(
        "Left empty, the tenants that hold one keep theirs and the others stay without one;"
    )
    assert "The token created in KUMA" in hint.text()  # and the field's own help after it
    shot(dialog, "many-configure-some-hold")
    dialog.reject()
    qtbot.waitUntil(lambda: window.many_dialog is None)

    choose(window, ws, "EU", "Initech")
    dialog = many_dialog(window, qtbot)
    edit, replace = token_of(dialog)
    assert "leave empty to keep" not in edit.placeholderText()  # "not stored yet"
    assert edit.isEnabled() and not replace.isVisible()
    type_into(field(dialog, "port"), "7224")
    assert ok_button(dialog).isEnabled()  # the token left empty is no problem: it changes nothing
    reason = dialog.findChild(QLabel, "reason_token")
    assert reason is not None and "required" not in reason.text()
    dialog.reject()
    qtbot.waitUntil(lambda: window.many_dialog is None)

    from xdrconf.qt.app import apply_language

    monkeypatch.setenv("XDRCONF_LANG", "ru")
    assert apply_language(None) == "ru"
    choose(window, ws, "Acme", "EU", "Globex", "Initech")
    dialog = many_dialog(window, qtbot)
    edit, _replace = token_of(dialog)
    assert edit.placeholderText() == "сохранено для 2 из 4 тенантов", edit.placeholderText()
    dialog.reject()
