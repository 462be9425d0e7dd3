"""The KATA connections widget (main-window panel and wizard page) with pytest-qt,
against the real keyring and a real mutual-TLS peer."""

from __future__ import annotations

import os

import pytest
from cryptography import x509
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from support.gui import (
    Expected,
    accept,
    as_a,
    expect_dialog,
    expect_dialogs,
    open_window,
    pick_file,
    reject,
    select_data,
    some,
    type_into,
)
from support.kata_peer import KataPeer
from xdrconf.core import catalog
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.integrations.kata import certs as kata_certs
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.workspace import IntegrationEdit
from xdrconf.qt.integrations import IntegrationDraft, IntegrationUiContext, panel
from xdrconf.qt.integrations import kata as kata_ui


def fill(host: str | None = None, port: int | None = None, key: str | None = None):
    """A user typing into the Add / Edit connection dialog and pressing Save."""

    def answer(dlg: kata_ui.ConnectionDialog) -> None:
        if host is not None:
            type_into(dlg.host, host)
        if port is not None:
            type_into(dlg.port, str(port))
        if key is not None:
            select_data(dlg.key_type, key)
        accept(dlg)
        assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()

    return answer


def connection_dialog(qtbot, act, title: str = "Add connection"):
    return expect_dialog(qtbot, kata_ui.ConnectionDialog, act, name="kataConnectionDialog", title=title)


def confirm(qtbot, act, title: str):
    return expect_dialog(qtbot, QMessageBox, act, name="confirmBox", title=title)


def wait(qtbot, widget, timeout=20000):
    qtbot.waitUntil(lambda: not widget.busy, timeout=timeout)


@pytest.fixture
def acme(ws, test_ca):
    ws.add_tenant("Acme")
    ws.update_integration("Acme", IntegrationEdit("kata", values={"tls_ca": test_ca.cert_pem}))
    return ws.tenant("Acme").id


def make_panel(qtbot, ws, tid):
    ctx = IntegrationUiContext(ws, tid, "kata", catalog.spec_for("kata"))
    w = as_a(kata_ui.KataConnectionsWidget, panel(ctx))
    qtbot.addWidget(w)
    w.resize(1100, 440)
    w.show()
    return w


def test_panel_add_reveal_generate_export_check_delete(qtbot, ws, acme, server_cert, tmp_path):
    w = make_panel(qtbot, ws, acme)
    assert w.tree.topLevelItemCount() == 0 and not w.check_all_btn.isEnabled()
    with KataPeer(server_cert, host="::1") as peer:
        with connection_dialog(qtbot, fill(host="::1", port=peer.port)):  # RSA-2048 by default
            w.add_btn.click()
        assert w.busy  # the key is generated in a worker; the window stays responsive
        wait(qtbot, w)
        [conn] = kata.connections(ws.tenant(acme).integrations["kata"])
        assert conn["key_type"] == "rsa2048"
        assert w.tree.topLevelItem(0).text(0) == f"[::1]:{peer.port}"
        assert w.xdr_id.text() == conn["id"]
        assert w.fingerprint.toolTip() == format_fingerprint(conn["fingerprint"])
        assert w.pem.toPlainText() == conn["cert_pem"]
        assert conn["id"] in w.subject.text()
        assert conn["id"] in w.message.text()
        # The key is masked; Reveal reads it from the keyring in a worker.
        key = kata.private_key(ws, acme, conn["id"])
        assert w.key_mask.text() == kata_ui.MASK and not w.key_text.isVisibleTo(w)
        with confirm(qtbot, reject, "Show the private key"):  # revealing asks first
            w.reveal_btn.click()
        assert not w.key_text.isVisibleTo(w)  # Cancel shows nothing
        with confirm(qtbot, accept, "Show the private key"):
            w.reveal_btn.click()
        wait(qtbot, w)
        assert w.key_text.toPlainText() == key and w.key_text.isVisibleTo(w)
        w.reveal_btn.click()
        assert w.key_text.toPlainText() == "" and not w.key_text.isVisibleTo(w)

        # Check: pending until the KATA administrator accepts the fingerprint.
        peer.trust(conn["cert_pem"])
        w.check_btn.click()
        wait(qtbot, w)
        assert w.tree.topLevelItem(0).text(3) == "Waiting for approval"
        assert format_fingerprint(conn["fingerprint"]) in w.conn_status.text().replace("\u200b", "")
        peer.api.approve(conn["id"], conn["fingerprint"])
        w.check_all_btn.click()
        wait(qtbot, w)
        assert w.tree.topLevelItem(0).text(3) == "OK"
        assert some(kata.status_of(ws.tenant(acme).integrations["kata"], conn)).category == "ok"

        # Generate asks first (the administrator must approve again), then replaces key and cert.
        with confirm(qtbot, reject, "Generate a new certificate"):
            w.generate_btn.click()
        assert kata.connections(ws.tenant(acme).integrations["kata"])[0]["fingerprint"] == conn["fingerprint"]
        with confirm(qtbot, accept, "Generate a new certificate") as asked:
            w.generate_btn.click()
        wait(qtbot, w)
        assert "must accept the connection again" in asked.text
        [new] = kata.connections(ws.tenant(acme).integrations["kata"])
        assert new["fingerprint"] != conn["fingerprint"]
        assert w.fingerprint.toolTip() == format_fingerprint(new["fingerprint"])
        assert w.tree.topLevelItem(0).text(3) == "not checked"

    # Export PEM and DER; copy the fingerprint.
    for name in ("c.pem", "c.der"):
        with expect_dialog(qtbot, QFileDialog, pick_file(tmp_path / name), name="saveFileDialog"):
            w.export_btn.click()
        wait(qtbot, w)
    a = x509.load_pem_x509_certificate((tmp_path / "c.pem").read_bytes())
    assert x509.load_der_x509_certificate((tmp_path / "c.der").read_bytes()) == a
    w.copy_btn.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == format_fingerprint(new["fingerprint"])

    # Delete asks, then removes the connection and its key.
    ref = ws.tenant(acme).integrations["kata"].secrets[kata.secret_name(new["id"])]
    with confirm(qtbot, accept, "Delete connection") as asked:
        w.delete_btn.click()
    assert "deleted from the OS keyring" in asked.text
    wait(qtbot, w)
    assert w.tree.topLevelItemCount() == 0
    assert ws.secrets.get(ref) is None


def test_dialog_names_the_wrong_field(qtbot, ws, acme):
    w = make_panel(qtbot, ws, acme)
    dlg = kata_ui.ConnectionDialog(w, [])
    qtbot.addWidget(dlg)
    assert dlg.port.value() == 443
    dlg.host.setText("kata_server")
    dlg.accept()
    assert dlg.result() != dlg.DialogCode.Accepted
    assert dlg.error.text().startswith("IP address or host name:")
    dlg.host.setText("::1")
    dlg.accept()
    assert dlg.result_values == ("::1", 443, "rsa2048")
    # A second connection to the same place is refused by the same dialog.
    kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    dlg = kata_ui.ConnectionDialog(w, kata.connections(ws.tenant(acme).integrations["kata"]))
    qtbot.addWidget(dlg)
    dlg.host.setText("KATA.example.invalid")
    dlg.accept()
    assert "already a connection" in dlg.error.text() and dlg.result_values is None


def test_edit_and_toggle(qtbot, ws, acme):
    kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    w = make_panel(qtbot, ws, acme)
    before = ws.file.path.read_bytes()
    # The connection's private key would be presented to the new target: asked, default No.
    with expect_dialogs(
        qtbot,
        Expected(
            kata_ui.ConnectionDialog, fill(host="kata2.invalid", port=8443), name="kataConnectionDialog"
        ),
        Expected(QMessageBox, reject, name="confirmBox", title="Send the stored secrets"),
    ) as (_edit, asked):
        w.edit_btn.click()
    wait(qtbot, w)
    assert "from kata.example.invalid:443 to kata2.invalid:8443" in asked.text
    assert "private key" in asked.text
    assert some(asked.dialog).defaultButton() is some(asked.dialog).button(QMessageBox.StandardButton.Cancel)
    assert ws.file.path.read_bytes() == before and "Nothing was saved" in w.message.text()
    assert w.tree.topLevelItem(0).text(0) == "kata.example.invalid:443"
    with expect_dialogs(
        qtbot,
        Expected(
            kata_ui.ConnectionDialog, fill(host="kata3.invalid", port=8443), name="kataConnectionDialog"
        ),
        Expected(QMessageBox, accept, name="confirmBox", title="Send the stored secrets"),
    ):
        w.edit_btn.click()
    wait(qtbot, w)
    [conn] = kata.connections(ws.tenant(acme).integrations["kata"])
    assert (conn["host"], conn["port"]) == ("kata3.invalid", 8443)
    assert w.tree.topLevelItem(0).text(0) == "kata3.invalid:8443"
    assert not w.toggle.isChecked()
    w.toggle.click()
    wait(qtbot, w)
    assert ws.tenant(acme).integrations["kata"].enabled and w.toggle.isChecked()


def test_expiring_certificate_is_shown(qtbot, ws, acme):
    kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256", days=12)
    w = make_panel(qtbot, ws, acme)
    assert "expires in 11 days" in w.validity.text() or "expires in 12 days" in w.validity.text()


def test_wizard_draft_saves_nothing_until_finish(qtbot, ws, acme, server_cert):
    spec = catalog.spec_for("kata")
    draft = IntegrationDraft.for_state(spec, ws.tenant(acme).integrations.get("kata"))
    ctx = IntegrationUiContext(ws, acme, "kata", spec, draft=draft)
    page = kata_ui.KataConnectionsPage(ctx)
    qtbot.addWidget(page)
    w = page.widget
    assert w.toggle is None  # the wizard's closing page has the on/off switch
    with KataPeer(server_cert) as peer:
        with connection_dialog(qtbot, fill(host="127.0.0.1", port=peer.port, key="p256")):
            w.add_btn.click()
        wait(qtbot, w)
        assert kata.connections(ws.tenant(acme).integrations["kata"]) == []  # nothing saved yet
        [conn] = draft.structured["connections"]
        assert draft.typed_secrets() == {
            kata.secret_name(conn["id"]): draft.secrets[kata.secret_name(conn["id"])]
        }
        assert "KATA connections: 1 added" in draft.summary()
        assert not any("PRIVATE" in line for line in draft.summary())
        # Reveal shows the unsaved key; Check uses it through the draft.
        with confirm(qtbot, accept, "Show the private key"):
            w.reveal_btn.click()
        assert kata_certs.key_matches(conn["cert_pem"], w.key_text.toPlainText())
        peer.trust(conn["cert_pem"])
        peer.api.approve(conn["id"], conn["fingerprint"])
        w.check_btn.click()
        wait(qtbot, w)
        assert some(w.tree.topLevelItem(0)).text(3) == "OK", w.conn_status.text()
    ws.update_integrations(acme, [draft.edit()])  # what the wizard does at Finish
    [saved] = kata.connections(ws.tenant(acme).integrations["kata"])
    assert saved["id"] == conn["id"]
    assert kata_certs.key_matches(saved["cert_pem"], some(kata.private_key(ws, acme, conn["id"])))


def test_a_draft_check_asks_before_a_stored_key_goes_to_the_host_typed(qtbot, ws, acme, test_ca):
    """The wizard's draft moves a stored connection to 127.0.0.2: Check asks first (default
    No: the key is presented to no one); Yes presents it there, for this check only."""
    other_host = "127.0.0.2"
    cert = test_ca.issue(("localhost", "127.0.0.1", other_host))
    with KataPeer(cert) as home, KataPeer(cert, host=other_host, port=home.port) as other:
        stored = kata.add_connection(ws, acme, "127.0.0.1", home.port, "p256")
        other.trust(stored["cert_pem"])
        spec = catalog.spec_for("kata")
        draft = IntegrationDraft.for_state(spec, ws.tenant(acme).integrations["kata"])
        page = kata_ui.KataConnectionsPage(IntegrationUiContext(ws, acme, "kata", spec, draft=draft))
        qtbot.addWidget(page)
        w = page.widget
        w.tree.setCurrentItem(some(w.tree.topLevelItem(0)))
        with connection_dialog(qtbot, fill(host=other_host), title="Edit"):
            w.edit_btn.click()
        wait(qtbot, w)
        assert ws.tenant(acme).integrations["kata"].settings["connections"][0]["host"] == "127.0.0.1"
        with confirm(qtbot, reject, "Send the stored secrets") as asked:
            w.check_btn.click()
        wait(qtbot, w)
        assert f"from 127.0.0.1:{home.port} to {other_host}:{home.port}" in asked.text
        assert "Not sent" in w.message.text()
        assert other.requests == [] and other.handshake_errors == [] and home.requests == []
        with confirm(qtbot, accept, "Send the stored secrets"):
            w.check_btn.click()
        wait(qtbot, w)
        assert [r.client_cert_sha256 for r in other.requests] == [stored["fingerprint"]]
        assert home.requests == []


def test_wizard_delete_and_regenerate_in_draft(qtbot, ws, acme):
    stored = kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    old_ref = ws.tenant(acme).integrations["kata"].secrets[kata.secret_name(stored["id"])]
    spec = catalog.spec_for("kata")
    draft = IntegrationDraft.for_state(spec, ws.tenant(acme).integrations["kata"])
    w = kata_ui.KataConnectionsWidget(IntegrationUiContext(ws, acme, "kata", spec, draft=draft))
    qtbot.addWidget(w)
    with confirm(qtbot, accept, "Generate a new certificate"):
        w.generate_btn.click()
    wait(qtbot, w)
    assert "KATA connections: 1 new certificate(s)" in draft.summary()
    assert ws.secrets.get(old_ref) is not None  # still in force until Finish
    with confirm(qtbot, accept, "Delete connection"):
        w.delete_btn.click()
    assert draft.secrets == {kata.secret_name(stored["id"]): None}
    assert "KATA connections: 1 removed" in draft.summary()
    ws.update_integrations(acme, [draft.edit()])
    assert kata.connections(ws.tenant(acme).integrations["kata"]) == []
    assert ws.secrets.get(old_ref) is None


def test_in_the_tenant_wizard(qtbot, ws, acme, tmp_path):
    """The real wizard: the KATA page replaces the generic form pages; Finish saves the
    connection and its key in one transaction."""
    from xdrconf.qt.wizard import SpecFormPage, TenantWizard

    wiz = TenantWizard(ws, acme, start_kind="kata")
    qtbot.addWidget(wiz)
    pages = [wiz.page(i) for i in wiz.ensure_pages("kata")]
    assert isinstance(pages[0], kata_ui.KataConnectionsPage)
    assert [p.core_page.title for p in pages[1:-1] if isinstance(p, SpecFormPage)] == [
        p.title for p in catalog.spec_for("kata").pages
    ]
    w = pages[0].widget
    with connection_dialog(qtbot, fill(host="kata.example.invalid", key="rsa3072")):
        w.add_btn.click()
    wait(qtbot, w)
    wiz.drafts["kata"].enabled = True
    [edit] = wiz.edits()
    assert edit.kind == "kata" and len(edit.structured["connections"]) == 1
    assert kata.connections(ws.tenant(acme).integrations["kata"]) == []
    wiz.show()
    qtbot.waitExposed(wiz)
    if os.environ.get("XDRCONF_SCREENSHOTS"):
        wiz.setCurrentId(wiz.ensure_pages("kata")[0])
        qtbot.wait(50)
        wiz.grab().save(os.path.join(os.environ["XDRCONF_SCREENSHOTS"], "kata_wizard.png"))
    with qtbot.waitSignal(wiz.applied, timeout=20000):
        wiz.accept()
    state = ws.tenant(acme).integrations["kata"]
    [conn] = kata.connections(state)
    assert state.enabled and conn["key_type"] == "rsa3072"
    assert kata_certs.key_matches(conn["cert_pem"], some(kata.private_key(ws, acme, conn["id"])))


def test_render_panel(qtbot, ws, acme, tmp_path):
    """Renders the panel (to XDRCONF_SCREENSHOTS if set, for a person to look at); revealing
    the key must not change the layout's width."""
    from xdrconf.core.outcome import Category, CheckResult

    shots = os.environ.get("XDRCONF_SCREENSHOTS") or str(tmp_path)

    first = kata.add_connection(ws, acme, "kata.example.invalid", 443)
    second = kata.add_connection(ws, acme, "::1", 8443, "p256", days=20)
    kata.record_results(
        ws,
        acme,
        [
            CheckResult(Category.OK, "Connected.", kata.target_of(first), connection=first["id"]),
            CheckResult(
                Category.PENDING_APPROVAL,
                "KATA has not accepted this connection (HTTP 401): ask the "
                "KATA administrator to accept the request with fingerprint "
                f"{format_fingerprint(second['fingerprint'])}.",
                kata.target_of(second),
                connection=second["id"],
            ),
        ],
    )
    w = make_panel(qtbot, ws, acme)
    w.tree.setCurrentItem(w.tree.topLevelItem(1))
    qtbot.wait(50)
    w.grab().save(os.path.join(shots, "kata_panel.png"))
    with confirm(qtbot, accept, "Show the private key"):
        w.reveal_btn.click()
    wait(qtbot, w)
    qtbot.wait(50)
    assert w.width() == 1100  # revealing must not widen the window
    w.grab().save(os.path.join(shots, "kata_panel_revealed.png"))
    dlg = kata_ui.ConnectionDialog(w, [])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.host.setText("kata_server")
    dlg.accept()
    dlg.grab().save(os.path.join(shots, "kata_dialog.png"))


def test_panel_in_the_main_window(qtbot, ws, acme, config_dir, keyring_backend):
    """Selecting KATA/KEDR in the main window shows the connections panel; a read-only
    window (another instance holds the folder) can look and check but not change."""
    from xdrconf.core.workspace import Workspace

    conn = kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    window = open_window(qtbot, ws)
    window.select_tenant(acme)
    window.select_integration("kata")
    qtbot.waitUntil(lambda: isinstance(window._panel, kata_ui.KataConnectionsWidget))
    w = as_a(kata_ui.KataConnectionsWidget, window._panel)
    assert (
        window.bottom_tabs.tabText(window.bottom_tabs.indexOf(window.panel_scroll)) == "KATA/KEDR connections"
    )
    assert some(w.tree.topLevelItem(0)).text(0) == "kata.example.invalid:443" and w.add_btn.isEnabled()
    assert w.xdr_id.text() == conn["id"]
    with Workspace.open(config_dir, readonly=True, keyring_backend=keyring_backend) as ro:
        ctx = IntegrationUiContext(ro, acme, "kata", catalog.spec_for("kata"))
        view = as_a(kata_ui.KataConnectionsWidget, panel(ctx))
        qtbot.addWidget(view)
        assert view.tree.topLevelItemCount() == 1
        assert not view.add_btn.isEnabled() and not view.delete_btn.isEnabled()
        assert not view.generate_btn.isEnabled() and not some(view.toggle).isEnabled()
        assert view.export_btn.isEnabled() and view.reveal_btn.isEnabled() and view.check_btn.isEnabled()


def test_panel_names_the_vault_when_the_keys_are_kept_there(qtbot, tmp_path, test_ca):
    """Secrets in the encrypted vault (no OS keyring here): the panel says the private keys
    are kept in the vault and deleted from it, not from the OS keyring."""
    from keyring.backends import fail

    from xdrconf.core.vault import KdfParams
    from xdrconf.core.workspace import Workspace

    ws = Workspace.open(
        tmp_path / "config",
        keyring_backend=fail.Keyring(),
        vault_kdf=KdfParams(memory_kib=8 * 1024, iterations=2, parallelism=1),
    )
    vault = ws.secrets.vault
    ws.secrets.vault.unlocker = lambda store, creating: (store.create if creating else store.unlock)(
        "kata vault passphrase 7"
    )
    try:
        ws.add_tenant("Acme")
        ws.update_integration("Acme", IntegrationEdit("kata", values={"tls_ca": test_ca.cert_pem}))
        conn = kata.add_connection(ws, "Acme", "kata.example.invalid", 443, "p256")
        assert ws.secrets.in_vault and vault.unlocked
        w = make_panel(qtbot, ws, ws.tenant("Acme").id)
        assert w.key_mask.toolTip() == "The private key is kept in the vault"
        notes: list[str] = []

        def read_then_cancel(dlg: kata_ui.ConnectionDialog) -> None:
            notes.extend(label.text() for label in dlg.findChildren(QLabel))
            reject(dlg)

        with connection_dialog(qtbot, read_then_cancel):
            w.add_btn.click()
        assert any("a private key (kept in the vault)" in text for text in notes), notes
        with confirm(qtbot, accept, "Delete connection") as asked:
            w.delete_btn.click()
        assert "deleted from the vault" in asked.text and "OS keyring" not in asked.text
        wait(qtbot, w)
        assert kata.connections(ws.tenant("Acme").integrations["kata"]) == []
        assert conn["id"] not in str(ws.document())
    finally:
        ws.close()
