"""The window asks before stored secrets follow a new target (issue 12): the wizard's Finish
shows a real confirmation naming the integration, the old and the new target and the
secrets (default No). No saves nothing and keeps the wizard open with what was typed; Yes
saves, the stored token going with the new host."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWizard

from support.gui import accept, expect_dialog, reject, some, type_into, wait_idle
from support.kuma_peer import configure

SECRET = "kuma-target-secret-5e1d"


def test_wizard_finish_asks_before_the_token_follows_a_new_host(window, qtbot, ws):
    tid = configure(ws, 7223, tenant="Acme", token=SECRET)
    ref = ws.tree.get(tid).integrations["kuma"].secrets["token"]
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    wizard = window.configure_integration()
    type_into(wizard.currentPage().editors["host"].edit, "127.0.0.2")
    while wizard.currentId() != wizard.SUMMARY:
        wizard.next()
    before = ws.file.path.read_bytes()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    with expect_dialog(
        qtbot, QMessageBox, reject, name="confirmBox", title="Send the stored secrets"
    ) as asked:
        finish.click()
    wait_idle(qtbot, window)
    assert (
        "KUMA REST API of 'Root tenant/Acme': from 127.0.0.1:7223 to 127.0.0.2:7223 — API token" in asked.text
    )
    box = some(asked.dialog)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert ws.file.path.read_bytes() == before
    assert window.wizard is wizard and "Nothing was saved" in wizard.summary.error.text()
    assert ws.tree.get(tid).integrations["kuma"].settings["host"] == "127.0.0.1"

    with (
        qtbot.waitSignal(wizard.applied, timeout=10000),
        expect_dialog(qtbot, QMessageBox, accept, name="confirmBox", title="Send the stored secrets"),
    ):
        finish.click()
    wait_idle(qtbot, window)
    state = ws.tree.get(tid).integrations["kuma"]
    assert state.settings["host"] == "127.0.0.2" and state.secrets["token"] == ref
    assert ws.secret(ws.tree.get(tid), "kuma", "token") == SECRET


def test_wizard_finish_with_the_token_given_again_asks_nothing(window, qtbot, ws):
    from support.gui import no_dialog

    tid = configure(ws, 7223, tenant="Acme", token=SECRET)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    wizard = window.configure_integration()
    type_into(wizard.currentPage().editors["host"].edit, "127.0.0.2")
    wizard.next()
    token = wizard.currentPage().editors["token"]
    token.replace_button.click()
    type_into(token.edit, "a-new-token-for-the-new-host")
    while wizard.currentId() != wizard.SUMMARY:
        wizard.next()
    with no_dialog(qtbot), qtbot.waitSignal(wizard.applied, timeout=10000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    assert ws.secret(ws.tree.get(tid), "kuma", "token") == "a-new-token-for-the-new-host"
