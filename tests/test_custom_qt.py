"""The custom integration's wizard page (pytest-qt, offscreen): live public-key parsing,
secrets entered as on every page (masked, "stored — leave empty to keep", Replace) and never
shown back, the passphrase checked against the key as it is typed, verification off only
knowingly, and Check connection against a real sshd offering "Pin this key"."""

from __future__ import annotations

import getpass
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QLineEdit, QWizard

from support import sshd as sshd_support
from support.gui import accept, as_a, expect_dialog, no_dialog, some
from support.gui import pick_file as choose_file
from support.sshd import Sshd, make_key
from xdrconf.core import catalog
from xdrconf.core.integrations.custom.keys import parse_public_key
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit
from xdrconf.qt import workers
from xdrconf.qt.dialogs import ChooseDialog
from xdrconf.qt.integrations import IntegrationDraft, IntegrationUiContext, wizard_pages
from xdrconf.qt.integrations.custom import CustomIntegrationPage, HostVerificationPanel
from xdrconf.qt.wizard import IntegrationClosingPage

SPEC = catalog.spec_for("custom")


_wizards: list[QWizard] = []  # the wizards of this test, alive until it ends


def make_page(qtbot, ws, tenant="Acme"):
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    t = ws.tenant(tenant)
    stored = t.integrations.get("custom")
    ctx = IntegrationUiContext(ws, t.id, "custom", SPEC, draft=IntegrationDraft.for_state(SPEC, stored))
    [page] = some(wizard_pages(ctx))
    assert isinstance(page, CustomIntegrationPage)
    wizard = QWizard()
    wizard.addPage(page)
    wizard.resize(760, 900)
    qtbot.addWidget(wizard)  # pytest-qt keeps only a weak reference
    _wizards.append(wizard)
    wizard.show()
    return page


@pytest.fixture(autouse=True)
def drain_workers():
    yield
    workers.wait_all(10000)
    _wizards.clear()


def test_public_key_is_parsed_live_with_reason_or_fingerprint(qtbot, ws):
    page = make_page(qtbot, ws)
    pair = make_key("ed25519")
    page.public_key.setPlainText(f"[127.0.0.5]:2222 {pair.public_no_comment}")
    assert "known_hosts" in page.key_info.text() and "✗" in page.key_info.text()
    page.public_key.setPlainText(pair.private_openssh)
    assert "private key" in page.key_info.text()
    page.public_key.setPlainText(pair.public_line)
    info = parse_public_key(pair.public_line)
    assert info.fingerprint in page.key_info.text() and "ED25519" in page.key_info.text()
    assert page.draft.settings()["host_public_key"] == pair.public_no_comment


def test_secrets_are_entered_as_everywhere_and_stored_values_are_never_shown(qtbot, ws):
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "custom",
            values={
                "host": "scripts.acme.invalid",
                "host_public_key": make_key("ed25519").public_line,
                "auth": "password",
                "username": "soar",
            },
            secrets={"password": "Stored-Secret-1"},
        ),
    )
    page = make_page(qtbot, ws)
    password = page.password
    # The same pattern as every other secret: masked, empty, "stored — leave empty to keep".
    assert password.edit.echoMode() == QLineEdit.EchoMode.Password
    assert password.edit.text() == "" and not password.edit.isEnabled()
    assert password.edit.placeholderText() == "stored — leave empty to keep"
    assert page.isComplete()
    qtbot.mouseClick(password.replace_button, Qt.MouseButton.LeftButton)
    assert password.edit.isEnabled() and password.replace_button.text() == "Keep stored"
    qtbot.keyClicks(password.edit, "New-Secret-2")
    assert page.draft.secrets == {"password": "New-Secret-2"}
    assert "Password: will be replaced" in page.draft.summary()
    # Switching to SSH key: its fields show instead, nothing stored for the key yet.
    page.by_key.setChecked(True)
    assert not password.isVisibleTo(page) and page.private_key.isVisibleTo(page)
    assert page.private_key.status.text() == "not stored yet"
    assert page.draft.settings()["auth"] == "key"
    assert not page.isComplete()  # a key is required
    for widget in page.findChildren(QLineEdit):
        assert "Stored-Secret-1" not in widget.text()


def test_wrong_passphrase_is_refused_under_the_field(qtbot, ws, tmp_path):
    page = make_page(qtbot, ws)
    page.by_key.setChecked(True)
    enc = make_key("ed25519", passphrase="right passphrase")
    key, passphrase = page.private_key, page.key_passphrase
    reasons = page.form.reasons
    assert reasons["private_key"].text().startswith("OpenSSH or PEM format")  # the hint
    # A public key pasted by mistake is refused at once.
    path = tmp_path / "id.pub"
    path.write_text(enc.public_line)
    with expect_dialog(qtbot, QFileDialog, choose_file(path), name="openFileDialog", title="Private key"):
        qtbot.mouseClick(key.load_button, Qt.MouseButton.LeftButton)
    assert "public key" in reasons["private_key"].text()
    path = tmp_path / "id_ed25519"
    path.write_text(enc.private_openssh)
    with expect_dialog(qtbot, QFileDialog, choose_file(path), name="openFileDialog", title="Private key"):
        qtbot.mouseClick(key.load_button, Qt.MouseButton.LeftButton)
    assert "lines, hidden" in key.status.text()
    assert reasons["private_key"].text().startswith("OpenSSH or PEM format")
    # Encrypted, no passphrase: said under the passphrase once the key was decrypted.
    qtbot.waitUntil(lambda: "encrypted" in reasons["key_passphrase"].text(), timeout=10000)
    assert not page.isComplete()
    qtbot.keyClicks(passphrase.edit, "wrong passphrase")
    qtbot.waitUntil(lambda: "does not decrypt" in reasons["key_passphrase"].text(), timeout=10000)
    assert not page.isComplete()
    passphrase.edit.clear()
    qtbot.keyClicks(passphrase.edit, "right passphrase")
    qtbot.waitUntil(lambda: page.key_task is None and not page.key_timer_active(), timeout=10000)
    assert page.form.external == {} and "key_passphrase" not in page.form.problems()
    assert page.draft.secrets["key_passphrase"] == "right passphrase"
    assert page.draft.secrets["private_key"] == enc.private_openssh


def test_verification_off_needs_acknowledgement(qtbot, ws):
    page = make_page(qtbot, ws)
    qtbot.keyClicks(page.host, "scripts.acme.invalid")
    qtbot.keyClicks(page.username, "soar")
    qtbot.keyClicks(page.password.edit, "pw-123456")
    page.verify.setChecked(False)
    assert page.unverified_warning.isVisibleTo(page)
    assert not page.validatePage()
    assert "I understand" in page.page_error.text()
    page.acknowledge.setChecked(True)
    assert page.validatePage(), page.page_error.text()
    page.verify.setChecked(True)
    assert not page.validatePage()
    assert "Public key" in page.page_error.text()


@pytest.mark.skipif(sshd_support.available() is not None, reason=str(sshd_support.available()))
def test_check_with_verification_off_offers_pin_then_verifies(qtbot, ws, tmp_path):
    client = make_key("ed25519")
    with Sshd(tmp_path / "sshd", host_keys=("ed25519",), authorized=(client.public_line,)) as server:
        page = make_page(qtbot, ws)
        page.host.setText("127.0.0.1")
        page.ports.setText(str(server.port))
        page.by_key.setChecked(True)
        page.username.setText(getpass.getuser())
        page.private_key.set_value(client.private_openssh)
        page.verify.setChecked(False)
        assert not page.pin_button.isVisibleTo(page)
        assert not page.check_box.button.isEnabled()  # not before the user says so knowingly
        assert page.check_gate.isVisibleTo(page)
        page.acknowledge.setChecked(True)
        assert page.check_box.button.isEnabled()
        page.check_box.button.click()
        qtbot.waitUntil(lambda: bool(page.check_box.results), timeout=15000)
        [result] = page.check_box.results
        assert result.category is Category.OK, result.message
        assert "NOT verified" in page.check_box.outcome.text()
        assert page.pin_button.isVisibleTo(page)
        fingerprint = parse_public_key(server.public_line("ed25519")).fingerprint
        assert fingerprint in page.pin_text.text()
        if os.environ.get("XDRCONF_SCREENSHOTS"):
            qtbot.wait(50)
            page.window().grab().save(
                os.path.join(os.environ["XDRCONF_SCREENSHOTS"], "custom_unverified.png")
            )
        page.pin_button.click()
        assert page.verify.isChecked() and not page.pin_button.isVisibleTo(page)
        assert page.draft.settings()["host_public_key"] == server.public_line("ed25519")
        page.check_box.results = []
        page.check_box.button.click()
        qtbot.waitUntil(lambda: bool(page.check_box.results), timeout=15000)
        assert page.check_box.results[0].ok
        assert "host key verified" in page.check_box.outcome.text()
        if os.environ.get("XDRCONF_SCREENSHOTS"):
            qtbot.wait(50)
            page.window().grab().save(os.path.join(os.environ["XDRCONF_SCREENSHOTS"], "custom_verified.png"))


def test_page_renders(qtbot, ws, tmp_path):
    page = make_page(qtbot, ws)
    image = page.window().grab()
    assert not image.isNull() and image.width() >= 700
    if os.environ.get("XDRCONF_SCREENSHOTS"):
        page.public_key.setPlainText("example.invalid " + make_key("ed25519").public_no_comment)
        qtbot.wait(50)  # let the layout take the new label height
        page.window().grab().save(os.path.join(os.environ["XDRCONF_SCREENSHOTS"], "custom_rejected.png"))


def test_through_the_tenant_wizard_to_the_keyring(qtbot, ws):
    from xdrconf.qt.wizard import TenantWizard

    ws.add_tenant("Acme")
    tid = ws.tenant("Acme").id
    wizard = TenantWizard(ws, tid, start_kind="custom")
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.page_of("custom", 0)
    assert isinstance(page, CustomIntegrationPage)
    host_key = make_key("ecdsa")
    page.public_key.setPlainText(host_key.public_line)
    qtbot.keyClicks(page.host, "scripts.acme.invalid")
    page.ports.setText("22, 2222")
    qtbot.keyClicks(page.username, "soar")
    page.by_key.setChecked(True)
    client = make_key("rsa")
    QGuiApplication.clipboard().setText(client.private_openssh)
    qtbot.mouseClick(page.private_key.paste_button, Qt.MouseButton.LeftButton)
    assert page.draft.secrets["private_key"] == client.private_openssh
    qtbot.waitUntil(lambda: page.key_task is None, timeout=10000)
    assert page.validatePage()
    wizard.next()
    closing = as_a(IntegrationClosingPage, wizard.currentPage())
    assert closing is wizard.page_of("custom", 1)
    closing.toggle.setChecked(True)  # the seed's "Custom integration" toggle
    assert closing.isComplete(), closing.problem()
    wizard.next()  # summary
    with qtbot.waitSignal(wizard.applied, timeout=10000):
        wizard.accept()
    state = ws.integration(ws.tenant("Acme"), "custom")
    assert state.enabled
    assert state.settings["ports"] == [22, 2222]
    assert state.settings["host_public_key"] == host_key.public_no_comment
    assert state.settings["auth"] == "key"
    assert ws.secret(ws.tenant("Acme"), "custom", "private_key") == client.private_openssh
    assert "key_passphrase" not in state.secrets


@pytest.mark.skipif(sshd_support.available() is not None, reason=str(sshd_support.available()))
def test_read_from_host_lists_the_keys_and_pastes_the_chosen_one(qtbot, ws, tmp_path):
    with Sshd(tmp_path / "sshd", host_keys=("ed25519", "rsa")) as server:
        page = make_page(qtbot, ws)
        page.ports.setText(str(server.port))
        with no_dialog(qtbot):
            page.read_public.click()
        assert "IP address or host name" in page.key_info.text()  # no host yet: said, nothing read
        page.host.setText("127.0.0.1")
        items: list[str] = []

        def choose_last(dialog: ChooseDialog) -> None:
            items.extend(dialog.source.stringList())
            dialog.view.setFocus()
            QTest.keyClick(dialog.view, Qt.Key.Key_End)
            accept(dialog)

        with expect_dialog(qtbot, ChooseDialog, choose_last, name="chooseDialog", title="Host keys") as asked:
            page.read_public.click()
        assert "compare the fingerprint" in asked.text
        assert len(items) == 2
        qtbot.waitUntil(lambda: bool(page.public_key.toPlainText()))
        chosen = page.public_key.toPlainText()
        assert chosen in {server.public_line("ed25519"), server.public_line("rsa")}
        assert parse_public_key(chosen).fingerprint in items[-1]


@pytest.mark.skipif(sshd_support.available() is not None, reason=str(sshd_support.available()))
def test_panel_offers_to_pin_the_key_an_unverified_check_saw(qtbot, ws, tmp_path):
    from xdrconf.core.engine import run_operation
    from xdrconf.qt.integrations import panel

    client = make_key("ed25519")
    with Sshd(tmp_path / "sshd", host_keys=("ed25519",), authorized=(client.public_line,)) as server:
        ws.add_tenant("Acme")
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "custom",
                values={
                    "host": "127.0.0.1",
                    "ports": str(server.port),
                    "verify_host": "false",
                    "auth": "key",
                    "username": getpass.getuser(),
                },
                secrets={"private_key": client.private_openssh},
                enabled=True,
            ),
        )
        tid = ws.tenant("Acme").id
        results = run_operation(ws, tid, "custom")
        ws.record_results({(tid, "custom"): [r.to_dict() for r in results]})
        refreshed = []
        ctx = IntegrationUiContext(ws, tid, "custom", SPEC, refresh=lambda: refreshed.append(1))
        widget = as_a(HostVerificationPanel, panel(ctx))
        qtbot.addWidget(widget)
        widget.show()
        fingerprint = parse_public_key(server.public_line("ed25519")).fingerprint
        assert "verification is off" in widget.state_label.text()
        assert fingerprint in widget.state_label.text()
        assert widget.pin_button.isVisible()
        if os.environ.get("XDRCONF_SCREENSHOTS"):
            qtbot.wait(50)
            widget.grab().save(os.path.join(os.environ["XDRCONF_SCREENSHOTS"], "custom_panel.png"))
        widget.pin()
        qtbot.waitUntil(lambda: bool(refreshed), timeout=10000)
        state = ws.integration(ws.tenant("Acme"), "custom")
        assert state.settings["verify_host"] is True
        assert state.settings["host_public_key"] == server.public_line("ed25519")
        assert "Host verified" in widget.state_label.text() and not widget.pin_button.isVisible()
        assert run_operation(ws, tid, "custom")[0].ok
