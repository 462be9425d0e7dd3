"""The window asks before stored secrets follow a new target (issue 12): the wizard's Finish
shows a real confirmation naming the integration, the old and the new target and the
secrets (default No). No saves nothing and keeps the wizard open with what was typed; Yes
saves, the stored token going with the new host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QMessageBox, QWizard

from support.gui import (
    accept,
    as_a,
    click,
    expect_dialog,
    no_dialog,
    reject,
    select_data,
    some,
    type_into,
    wait_idle,
)
from support.https_peer import HttpsPeer
from support.kuma_peer import KumaApi, configure
from xdrconf.qt.checks_ui import CheckConnectionBox
from xdrconf.qt.editors import LineEditor, SecretEditor

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


# ---- a check of the wizard's draft, and the Operations tab -------------------------------------------
OTHER = "127.0.0.2"
ASKED = "Send the stored secrets"


def saw(peer: HttpsPeer, secret: str) -> bool:
    return any(secret in value for r in peer.requests for value in r.headers.values())


@pytest.fixture
def two_kumas(test_ca) -> Iterator[tuple[HttpsPeer, HttpsPeer]]:
    """KUMA-like peers on 127.0.0.1:P (where the token was given for) and 127.0.0.2:P."""
    cert = test_ca.issue(("localhost", "127.0.0.1", OTHER))
    with HttpsPeer(KumaApi(token=SECRET), cert=cert) as home:
        other = HttpsPeer(KumaApi(token=SECRET), cert=cert, host=OTHER, port=home.port)
        with other:
            yield home, other


def to_check_box(wizard: QWizard) -> CheckConnectionBox:
    """Next until the page with "Check connection" (the closing page)."""
    while wizard.currentPage().findChild(CheckConnectionBox) is None:
        wizard.next()
    return some(wizard.currentPage().findChild(CheckConnectionBox))


def wizard_to_other_host(window, ws, home: HttpsPeer, test_ca) -> QWizard:
    """Acme's KUMA (its token given for `home`) in the wizard, the host typed: 127.0.0.2."""
    tid = configure(ws, home.port, ca=test_ca.cert_pem, tenant="Acme", token=SECRET)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    wizard = window.configure_integration()
    type_into(wizard.currentPage().editors["host"].edit, OTHER)
    return wizard


def test_the_wizards_check_asks_before_the_stored_token_goes_to_the_host_typed(
    window, qtbot, ws, test_ca, two_kumas
):
    home, other = two_kumas
    wizard = wizard_to_other_host(window, ws, home, test_ca)
    box = to_check_box(wizard)

    # No (the default): nothing is sent to either peer, and the box says why.
    with (
        qtbot.waitSignal(box.checked, timeout=30000) as blocker,
        expect_dialog(
            qtbot, QMessageBox, reject, name="confirmBox", title="Send the stored secrets"
        ) as asked,
    ):
        box.button.click()
    assert f"from 127.0.0.1:{home.port} to {OTHER}:{home.port} — API token" in asked.text
    assert "Cancel sends nothing" in asked.text
    dialog = some(asked.dialog)
    assert dialog.defaultButton() is dialog.button(QMessageBox.StandardButton.Cancel)
    [result] = blocker.args[0]
    assert result.category.value == "missing_secret" and "Not sent" in box.outcome.text()
    assert SECRET not in box.outcome.text()
    assert home.requests == [] and other.requests == []

    # Yes: the user sends it there, for this check; nothing is saved.
    with (
        qtbot.waitSignal(box.checked, timeout=30000) as blocker,
        expect_dialog(qtbot, QMessageBox, accept, name="confirmBox", title=ASKED),
    ):
        box.button.click()
    assert blocker.args[0][0].category.value == "ok", blocker.args[0][0].message
    assert saw(other, SECRET) and home.requests == []
    assert ws.tenant("Acme").integrations["kuma"].settings["host"] == "127.0.0.1"

    # The token typed again goes where it is typed for: no question.
    other.route.tokens = {"fresh-token-for-the-new-host": next(iter(other.route.tokens.values()))}
    sent = len(other.requests)
    while wizard.currentPage().findChild(SecretEditor, "field_token") is None:
        wizard.back()
    token = some(wizard.currentPage().findChild(SecretEditor, "field_token"))
    token.replace_button.click()
    type_into(token.edit, "fresh-token-for-the-new-host")
    box = to_check_box(wizard)
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker, no_dialog(qtbot):
        box.button.click()
    assert blocker.args[0][0].category.value == "ok", blocker.args[0][0].message
    assert not any(SECRET in v for r in other.requests[sent:] for v in r.headers.values())
    assert saw(other, "fresh-token-for-the-new-host")
    wizard.reject()
    wait_idle(qtbot, window)


def test_the_wizards_check_with_the_old_target_asks_nothing(window, qtbot, ws, test_ca, two_kumas):
    home, other = two_kumas
    wizard = wizard_to_other_host(window, ws, home, test_ca)
    host = some(wizard.currentPage().findChild(LineEditor, "field_host"))
    type_into(host.edit, "127.0.0.1")  # typed back: the same target
    box = to_check_box(wizard)
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker, no_dialog(qtbot):
        box.button.click()
    assert blocker.args[0][0].category.value == "ok", blocker.args[0][0].message
    assert saw(home, SECRET) and other.requests == []
    wizard.reject()
    wait_idle(qtbot, window)


def test_the_operations_tab_sends_the_token_to_the_saved_target_only(window, qtbot, ws, test_ca, two_kumas):
    """The tab runs on the saved settings: a wizard's draft left with another host sends nothing
    there, and a placeholder value cannot make the request's path go elsewhere."""
    from xdrconf.core.integrations.kuma.commands import parse_command, save_commands
    from xdrconf.qt.editors import ChoiceEditor
    from xdrconf.qt.operations import OperationsPanel

    home, other = two_kumas
    wizard = wizard_to_other_host(window, ws, home, test_ca)
    wizard.reject()  # the draft with the other host is left, not saved
    wait_idle(qtbot, window)
    tid = ws.tenant("Acme").id
    command = {"name": "Get alert", "method": "GET", "path": "alerts/<Alert ID>/events"}
    save_commands(ws, tid, [parse_command(command)])
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    window.act_operations.trigger()
    panel = as_a(OperationsPanel, window.operations)
    select_data(panel.picker, "command")
    form = some(panel.form)
    # The only command is picked, and its placeholder asked for at once.
    assert as_a(ChoiceEditor, form.editors["name"]).combo.currentData() == "Get alert"
    assert list(form.editors) == ["name", "Alert ID"]
    for value in ("..", "%2e%2e", "..%2F..%2F@127.0.0.2"):
        type_into(as_a(LineEditor, form.editors["Alert ID"]).edit, value)
        with (
            qtbot.waitSignal(panel.ran, timeout=20000) as blocker,
            expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Yes), name="confirmBox"),
        ):
            panel.run_button.click()
        [outcome] = blocker.args[0]
        assert outcome.refused and "would change the request's path" in outcome.message, outcome.message
    assert home.requests == [] and other.requests == []

    type_into(as_a(LineEditor, form.editors["Alert ID"]).edit, "42")
    with (
        qtbot.waitSignal(panel.ran, timeout=20000) as blocker,
        expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Yes), name="confirmBox"),
    ):
        panel.run_button.click()
    assert home.requests[-1].path.endswith("/alerts/42/events") and saw(home, SECRET)
    assert other.requests == []


def test_an_import_through_the_window_that_moves_the_target_keeps_no_secret(
    window, qtbot, ws, test_ca, two_kumas, tmp_path
):
    """Import… of an export whose host was edited: the token is dropped and the window lists
    it with the old and the new target; a check then sends nothing to the new host."""
    import json

    from PySide6.QtWidgets import QFileDialog

    from support.gui import Expected, expect_dialogs, pick_file
    from xdrconf.core import exchange

    home, other = two_kumas
    tid = configure(ws, home.port, ca=test_ca.cert_pem, tenant="Acme", token=SECRET)
    doc = exchange.export_document(ws)
    acme = next(t for t in doc["tenants"] if t["path"].endswith("/Acme"))
    acme["integrations"]["kuma"]["settings"]["host"] = OTHER
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    window.refresh()
    listed = Expected(QMessageBox, accept, name="infoBox", title="Imported")
    with expect_dialogs(qtbot, Expected(QFileDialog, pick_file(str(edited)), name="openFileDialog"), listed):
        window.act_import.trigger()
    wait_idle(qtbot, window)
    assert "KUMA REST API — token" in listed.text
    assert f"127.0.0.1:{home.port} → {OTHER}:{home.port}" in listed.text and SECRET not in listed.text
    state = ws.tree.get(tid).integrations["kuma"]
    assert state.settings["host"] == OTHER and "token" not in state.secrets and not state.enabled
    window.select_tenant(tid)
    window.select_integration("kuma")
    assert not window.act_check.isEnabled()  # turned off, its token to be entered again
    assert other.requests == [] and home.requests == []
