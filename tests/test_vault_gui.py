"""The vault in the window, driven for real: the passphrase dialog appears when a secret is
first needed (a worker waits for it; the key is derived off the GUI thread), creating the
vault asks twice and shows the strength, a wrong passphrase is said in the dialog, and a
KUMA token stored through the vault is checked against the KUMA peer."""

from __future__ import annotations

import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton

from support.gui import some
from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core.vault import KdfParams
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt import workers
from xdrconf.qt.main_window import MainWindow

PASSPHRASE = "window vault passphrase 9"


def modal(qtbot, name: str = "vaultPassphraseDialog"):
    found = []

    def shown() -> None:
        widget = QApplication.activeModalWidget()
        assert widget is not None and widget.objectName() == name
        found.append(widget)

    qtbot.waitUntil(shown, timeout=15000)
    return found[-1]


def field(dialog, name: str) -> QLineEdit:
    widget = dialog.findChild(QLineEdit, name)
    assert widget is not None, name
    return widget


def press_ok(dialog) -> None:
    button = dialog.findChild(QPushButton, "vaultOk")
    assert button is not None and button.isEnabled()
    button.click()


def message(dialog) -> str:
    label = dialog.findChild(QLabel, "vaultMessage")
    return label.text() if label.isVisible() else ""


def idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: workers.running_tasks() == 0 and window.busy == 0, timeout=20000)


@pytest.fixture
def vault_window(qtbot, config_dir):
    ws = Workspace.open(config_dir, keyring_backend=fail.Keyring(), vault_kdf=KdfParams())
    window = MainWindow(ws)
    qtbot.addWidget(window)
    window.show()
    window.start()
    yield window
    window.close()
    idle(qtbot, window)
    workers.wait_all()
    ws.close()


def test_token_stored_through_the_vault_and_checked(vault_window, qtbot, config_dir, kuma, test_ca):
    window, ws = vault_window, vault_window.ws
    label = some(window.findChild(QLabel, "keyringLabel"))
    qtbot.waitUntil(lambda: label.text() == "Vault: secrets.kdbx, not created yet", timeout=15000)
    assert "No OS keyring is available" in label.toolTip()

    # The first secret: a worker stores it, the dialog asks (twice) on the GUI thread.
    window.run_task(lambda: configure(ws, kuma.port, ca=test_ca.cert_pem, token=GOOD_TOKEN))
    dialog = modal(qtbot)
    assert dialog.windowTitle() == "Create the vault"
    assert "No OS keyring is available" in dialog.findChild(QLabel, "vaultReason").text()
    one, two = field(dialog, "vaultPassphrase"), field(dialog, "vaultPassphraseRepeat")
    assert one.echoMode() == QLineEdit.EchoMode.Password == two.echoMode()
    press_ok(dialog)  # empty
    assert message(dialog) == "The passphrase is empty; type it."
    qtbot.keyClicks(one, "abc")
    assert dialog.findChild(QLabel, "vaultStrength").text().startswith("weak")
    one.clear()
    qtbot.keyClicks(one, PASSPHRASE)
    assert dialog.findChild(QLabel, "vaultStrength").text().startswith(("good", "strong"))
    qtbot.keyClicks(two, PASSPHRASE + "x")
    press_ok(dialog)
    assert message(dialog) == "The two passphrases differ; type the same one twice."
    assert dialog.isVisible() and not (config_dir / "secrets.kdbx").exists()
    qtbot.keyClicks(two, PASSPHRASE)
    left_in_widgets: list[str] = []
    dialog.finished.connect(lambda _r: left_in_widgets.extend([one.text(), two.text()]))
    with qtbot.waitSignal(window.unlocker.asked, timeout=15000):
        press_ok(dialog)
        # Argon2 runs on a thread of its own: the GUI thread keeps painting the dialog meanwhile.
        assert not one.isEnabled() and message(dialog) == "Creating the vault…"
    assert left_in_widgets == ["", ""]  # the passphrase is not kept in the widgets
    idle(qtbot, window)
    assert ws.app["secret_store"] == "vault"
    qtbot.waitUntil(lambda: label.text() == "Vault: secrets.kdbx, unlocked", timeout=5000)

    # Checked through the window's Check action: the token comes from the vault.
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    dialog = window.check_tenant()
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    dialog.close()
    assert ws.tenant("Acme").integrations["kuma"].results[0]["category"] == "ok"


def test_locked_vault_asks_once_wrong_passphrase_said_in_the_dialog(qtbot, config_dir, kuma, test_ca):
    ws = Workspace.open(config_dir, keyring_backend=fail.Keyring(), vault_kdf=KdfParams())
    ws.secrets.vault.unlocker = lambda store, creating: store.create(PASSPHRASE)
    configure(ws, kuma.port, ca=test_ca.cert_pem, token=GOOD_TOKEN)
    ws.add_tenant("Beta")
    ws.update_integration(
        "Beta", IntegrationEdit("kuma", values={"host": "127.0.0.1", "port": str(kuma.port)})
    )
    ws.close()

    ws = Workspace.open(config_dir, keyring_backend=fail.Keyring())
    window = MainWindow(ws)
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        label = some(window.findChild(QLabel, "keyringLabel"))
        qtbot.waitUntil(lambda: label.text() == "Vault: secrets.kdbx, locked", timeout=15000)
        window.select_tenant(ws.tenant("Acme").id)
        check = window.check_tenant()
        dialog = modal(qtbot)
        assert dialog.windowTitle() == "Unlock the vault"
        assert dialog.findChild(QLineEdit, "vaultPassphraseRepeat") is None
        qtbot.keyClicks(field(dialog, "vaultPassphrase"), "not the passphrase")
        press_ok(dialog)
        qtbot.waitUntil(lambda: message(dialog).startswith("The passphrase does not open"), timeout=15000)
        assert message(dialog) == "The passphrase does not open the vault secrets.kdbx; nothing was changed."
        assert dialog.isVisible() and field(dialog, "vaultPassphrase").isEnabled()
        field(dialog, "vaultPassphrase").clear()
        qtbot.keyClicks(field(dialog, "vaultPassphrase"), PASSPHRASE)
        with qtbot.waitSignal(check.saved, timeout=20000):
            press_ok(dialog)
        check.close()
        assert ws.tenant("Acme").integrations["kuma"].results[0]["category"] == "ok"
        qtbot.waitUntil(lambda: label.text() == "Vault: secrets.kdbx, unlocked", timeout=5000)

        # Declined: the work that needed the vault fails in words; nothing is changed.
        ws.secrets.vault.lock()
        settings = (config_dir / "settings.json").read_bytes()
        errors: list[BaseException] = []
        window.run_task(
            lambda: ws.update_integration("Beta", IntegrationEdit("kuma", secrets={"token": "t2"})),
            on_error=errors.append,
        )
        dialog = modal(qtbot)
        dialog.reject()
        idle(qtbot, window)
        assert len(errors) == 1 and "no passphrase was given" in str(errors[0])
        assert (config_dir / "settings.json").read_bytes() == settings
    finally:
        window.close()
        idle(qtbot, window)
        workers.wait_all()
        ws.close()
