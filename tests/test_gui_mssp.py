"""The window's views for many tenants (qt.mssp), driven as a person does: the History tab of
a tenant and of an integration, Import tenants from KUMA… (read from a KUMA-like HTTPS peer
with two pages of tenants, the preview to tick, Add), Drift from the parent… (a tenant and
its subtree, secrets never shown), Turn on / off in the subtree (the real confirmation; a
refusal half-way changes nothing).

Screenshots: XDRCONF_SCREENSHOTS=/some/folder keeps the renderings there."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QTreeWidget, QWidget
from pytestqt.qtbot import QtBot

from support.gui import Expected, accept, click, expect_dialog, expect_dialogs, reject, wait_idle
from support.kuma_peer import GOOD_TOKEN, configure
from support.pki import TestCA
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.mssp import DriftDialog, KumaImportDialog

SHOTS = os.environ.get("XDRCONF_SCREENSHOTS")


def shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        for _round in range(3):
            QApplication.processEvents()
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def rows(view: QTreeWidget) -> list[list[str]]:
    out = []
    for i in range(view.topLevelItemCount()):
        item = view.topLevelItem(i)
        assert item is not None
        out.append([item.text(c) for c in range(view.columnCount())])
    return out


def audit_lines(config_dir: Path) -> list[dict[str, Any]]:
    path = config_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_history_tab_of_a_tenant_and_of_an_integration(
    window: MainWindow, ws: Workspace, qtbot: QtBot
) -> None:
    ws.add_tenant("Acme")
    ws.update_integration("Acme", IntegrationEdit("kuma", values={"host": "kuma.invalid"}))
    ws.update_integration("Acme", IntegrationEdit("tip", values={"access": "general"}))
    window.refresh()
    tid = ws.tenant("Acme").id
    window.select_tenant(tid)
    tabs = window.bottom_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())][-1] == "History" and tabs.tabText(0) == "Details"
    tabs.setCurrentWidget(window.history)
    history = window.history
    read(qtbot, history)
    shown = rows(history.list)
    assert shown[-1][3] == "tenant added"  # newest first
    assert any(r[2] == "KUMA REST API" and "KUMA Core host: (none) → 'kuma.invalid'" in r[3] for r in shown)
    assert any(r[2] == "Kaspersky Threat Intelligence Portal" for r in shown)
    shot(window, "history-tab")
    window.select_integration("kuma")
    assert history.only_integration.isEnabled() and "KUMA REST API" in history.only_integration.text()
    history.only_integration.click()
    read(qtbot, history)
    assert {r[2] for r in rows(history.list)} == {"KUMA REST API"}
    assert history.summary.text() == "3 changes recorded"  # api_version, host, port
    window.select_tenant(ws.tree.shared.id)
    read(qtbot, history)
    assert rows(history.list) == [] and history.summary.text() == "No changes recorded."


def test_the_history_is_read_off_the_gui_thread_and_a_later_choice_wins(
    window: MainWindow, ws: Workspace, qtbot: QtBot
) -> None:
    """The audit trail is read in a worker ("Reading the history…" meanwhile); choosing
    another tenant before the answer came shows that tenant's lines, never the first's."""
    for name in ("Acme", "Globex"):
        ws.add_tenant(name)
    ws.update_integration("Acme", IntegrationEdit("kuma", values={"host": "kuma.invalid"}))
    window.refresh()
    window.bottom_tabs.setCurrentWidget(window.history)
    history = window.history
    window.select_tenant(ws.tenant("Acme").id)
    assert history.reading and history.summary.text() == "Reading the history…"
    window.select_tenant(ws.tenant("Globex").id)  # before Acme's answer was shown
    read(qtbot, history)
    assert [r[3] for r in rows(history.list)] == ["tenant added"]
    assert history.summary.text() == "1 change recorded"
    unreadable = ws.config_dir / "audit.jsonl"
    unreadable.chmod(0)
    try:
        if os.access(unreadable, os.R_OK):  # root reads it anyway: a folder in its place then
            unreadable.chmod(0o600)
            unreadable.rename(ws.config_dir / "audit.jsonl.kept")
            unreadable.mkdir()
        window.select_tenant(ws.tenant("Acme").id)
        read(qtbot, history)
        assert rows(history.list) == []
        assert history.summary.text().startswith("The history could not be read: ")
    finally:
        if unreadable.is_dir():
            unreadable.rmdir()
            (ws.config_dir / "audit.jsonl.kept").rename(unreadable)
        unreadable.chmod(0o600)


def read(qtbot: QtBot, history: Any) -> None:
    """Wait for the History tab to show what it read."""
    qtbot.waitUntil(lambda: not history.reading, timeout=10000)


def test_import_tenants_from_kuma_with_the_preview(
    window: MainWindow, ws: Workspace, qtbot: QtBot, kuma: Any, test_ca: TestCA, config_dir: Path
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    kuma.api.add_tenants(251)  # with Main and Shared, 253: two pages
    window.refresh()
    window.select_tenant(tid)
    assert window.act_import_kuma.isEnabled()

    def untick_two(dialog: KumaImportDialog) -> None:
        view = dialog.list
        texts = rows(view)
        assert len(texts) == 253
        assert texts[0][2] == "is Root tenant" and texts[1][2] == "is Shared"
        assert texts[2][2] == "to add: Root tenant/Acme/Customer 0002"
        for n in (2, 3):
            item = view.topLevelItem(n)
            assert item is not None and item.checkState(0) == Qt.CheckState.Checked
            item.setCheckState(0, Qt.CheckState.Unchecked)
        shot(dialog, "kuma-import-preview")
        main = view.topLevelItem(0)
        assert main is not None and not (main.flags() & Qt.ItemFlag.ItemIsEnabled)
        accept(dialog)

    with qtbot.waitSignal(window.refreshed, timeout=60000):
        with expect_dialog(qtbot, KumaImportDialog, untick_two, name="kumaImportDialog", timeout=60000):
            window.act_import_kuma.trigger()
        qtbot.waitUntil(lambda: any(t.name == "Customer 0252" for t in ws.tree.walk_all()), timeout=60000)
    wait_idle(qtbot, window)
    assert kuma.api.tenant_pages == [1, 2]
    names = {t.name for t in ws.tree.children(tid)}
    assert len(names) == 249 and "Customer 0002" not in names and "Customer 0004" in names
    assert GOOD_TOKEN not in (config_dir / "audit.jsonl").read_text()
    added = [e for e in audit_lines(config_dir) if e["change"] == "tenant_added"]
    assert {e["action"] for e in added[-249:]} == {"window: Import tenants from KUMA"}
    # Again: the two left out are offered, the others are there; Cancel adds nothing.
    before = (config_dir / "settings.json").read_bytes()

    def two_left(dialog: KumaImportDialog) -> None:
        offered = [r for r in rows(dialog.list) if r[2].startswith("to add:")]
        assert [r[0] for r in offered] == ["Customer 0002", "Customer 0003"]
        reject(dialog)

    with expect_dialog(qtbot, KumaImportDialog, two_left, name="kumaImportDialog", timeout=60000):
        window.act_import_kuma.trigger()
    wait_idle(qtbot, window)
    assert (config_dir / "settings.json").read_bytes() == before


def test_import_from_a_kuma_that_fails_says_why(
    window: MainWindow, ws: Workspace, qtbot: QtBot, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    kuma.api.mode = "error500"
    window.refresh()
    window.select_tenant(tid)
    with expect_dialog(qtbot, QMessageBox, accept, name="errorBox", timeout=30000) as seen:
        window.act_import_kuma.trigger()
    assert "500" in seen.text or "server" in seen.text.lower()
    assert len(ws.tree.children(tid)) == 0


def test_drift_of_a_tenant_and_its_subtree(window: MainWindow, ws: Workspace, qtbot: QtBot) -> None:
    ws.update_integration(
        "Root",
        IntegrationEdit("kuma", values={"host": "kuma.invalid"}, secrets={"token": "drift-gui-token-1"}),
    )
    ws.add_tenant("Acme")
    ws.add_tenant("EU", "Acme")
    ws.update_integration(
        "EU", IntegrationEdit("kuma", values={"host": "eu.kuma.invalid"}, keep_secrets=True)
    )
    ws.update_integration("EU", IntegrationEdit("kuma", secrets={"token": "drift-gui-token-2"}))
    window.refresh()
    window.select_tenant(ws.tenant("EU").id)

    def look(dialog: DriftDialog) -> None:
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=20000)
        shown = rows(dialog.list)
        assert shown[1][:4] == ["Root tenant/Acme/EU", "KUMA REST API", "KUMA Core host", "overridden"]
        assert shown[1][4] == "eu.kuma.invalid (parent: kuma.invalid)"
        token = next(r for r in shown if r[2] == "API token")
        assert token[3:] == ["overridden", "another value"]
        assert not any("drift-gui-token" in c for r in shown for c in r)
        assert "2 fields overridden" in dialog.status.text()
        shot(dialog, "drift-dialog")
        dialog.only_overridden.click()
        assert {r[3] for r in rows(dialog.list)} == {"overridden"}
        reject(dialog)

    with expect_dialog(qtbot, DriftDialog, look, name="driftDialog", timeout=30000):
        window.act_drift.trigger()
    wait_idle(qtbot, window)
    window.select_tenant(ws.tenant("Acme").id)

    def subtree(dialog: DriftDialog) -> None:
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=20000)
        assert not dialog.subtree.isChecked()
        dialog.report = None
        dialog.subtree.click()
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=20000)
        assert {r[0] for r in rows(dialog.list)} == {"Root tenant/Acme", "Root tenant/Acme/EU"}
        reject(dialog)

    with expect_dialog(qtbot, DriftDialog, subtree, name="driftDialog", timeout=30000):
        window.act_drift.trigger()
    wait_idle(qtbot, window)


def test_turn_on_and_off_in_the_subtree(
    window: MainWindow, ws: Workspace, qtbot: QtBot, config_dir: Path
) -> None:
    values = {"host": "kuma.invalid"}
    ws.update_integration("Root", IntegrationEdit("kuma", values=values, secrets={"token": "subtree-gui-1"}))
    ws.add_tenant("Acme")
    ws.add_tenant("EU", "Acme")
    ws.add_tenant("Late", "Acme")
    ws.update_integration("Late", IntegrationEdit("kuma", secrets={"token": None}))  # cannot be turned on
    window.refresh()
    acme = ws.tenant("Acme").id
    window.select_tenant(acme)
    window.select_integration("kuma")
    assert window.act_subtree_on.isEnabled()
    before = (config_dir / "settings.json").read_bytes()
    lines_before = len(audit_lines(config_dir))

    def names_three(box: QMessageBox) -> None:
        assert "Turn KUMA REST API on for these 3 tenants" in box.text()
        assert "Root tenant/Acme/Late" in box.informativeText()
        click(QMessageBox.StandardButton.Ok)(box)

    refused = Expected(QMessageBox, accept, "errorBox")
    with expect_dialogs(qtbot, Expected(QMessageBox, names_three, "confirmBox"), refused, timeout=20000):
        window.act_subtree_on.trigger()
    assert "Root tenant/Acme/Late" in refused.text and "nothing was changed in any tenant" in refused.text
    wait_idle(qtbot, window)
    assert (config_dir / "settings.json").read_bytes() == before
    assert len(audit_lines(config_dir)) == lines_before
    ws.update_integration("Late", IntegrationEdit("kuma", secrets={"token": "subtree-gui-2"}))
    window.refresh()
    window.select_tenant(acme)
    window.select_integration("kuma")
    lines_before = len(audit_lines(config_dir))
    with expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Ok), name="confirmBox"):
        window.act_subtree_on.trigger()
    qtbot.waitUntil(lambda: all(ws.tenant(n).integrations["kuma"].enabled for n in ("Acme", "EU", "Late")))
    wait_idle(qtbot, window)
    assert not ws.tree.root.integrations["kuma"].enabled  # above the subtree
    new = audit_lines(config_dir)[lines_before:]
    assert [e["tenant"] for e in new] == ["Root tenant/Acme", "Root tenant/Acme/EU", "Root tenant/Acme/Late"]
    assert {(e["change"], e["action"]) for e in new} == {("integration_on", "window: Turn on in the subtree")}
    window.select_tenant(acme)
    window.select_integration("kuma")
    with expect_dialog(qtbot, QMessageBox, reject, name="confirmBox"):  # Cancel: nothing
        window.act_subtree_off.trigger()
    wait_idle(qtbot, window)
    assert ws.tenant("EU").integrations["kuma"].enabled


def test_drift_shows_a_toggle_in_words(
    window: MainWindow, ws: Workspace, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A toggle of the form (the custom integration's "Verify the host before connecting")
    turned off in a child: the drift view says off / on, as it says the on/off state, in
    Russian too — never the stored true / false."""
    from xdrconf.qt.app import apply_language

    ws.update_integration("Root", IntegrationEdit("custom", values={"host": "ssh.invalid", "username": "u"}))
    ws.add_tenant("Acme")
    ws.update_integration("Acme", IntegrationEdit("custom", values={"verify_host": False}))
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    seen: dict[str, list[str]] = {}

    def look(lang: str, label: str) -> Any:
        def act(dialog: DriftDialog) -> None:
            qtbot.waitUntil(lambda: dialog.report is not None, timeout=20000)
            seen[lang] = next(r for r in rows(dialog.list) if r[2] == label)[3:]
            reject(dialog)

        return act

    with expect_dialog(
        qtbot, DriftDialog, look("en", "Verify the host before connecting"), name="driftDialog", timeout=30000
    ):
        window.act_drift.trigger()
    wait_idle(qtbot, window)
    assert seen["en"] == ["overridden", "off (parent: on)"]

    monkeypatch.setenv("XDRCONF_LANG", "ru")
    assert apply_language(None) == "ru"
    with expect_dialog(
        qtbot, DriftDialog, look("ru", "Проверять хост перед подключением"), name="driftDialog", timeout=30000
    ):
        window.act_drift.trigger()
    wait_idle(qtbot, window)
    assert seen["ru"] == ["переопределено", "выкл. (в родительском: вкл.)"]
