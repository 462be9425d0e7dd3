"""The screens as a new user meets them, driven through the real window, wizard and dialogs
(keys typed, buttons pressed, modal dialogs answered from a timer; nothing of xdrconf is
replaced): validation as you type, pasted host:port, the integrations table and the tree at
the default and the minimum window size, keyboard navigation, the name dialogs, Cancel in the
wizard, the one way secrets are entered, outcome words, the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget, QWizard

from support.gui import wait_idle
from support.kuma_peer import configure
from support.sshd import available as sshd_available
from support.sshd import make_key
from xdrconf.core import catalog
from xdrconf.core.outcome import Category, CheckResult, category_words
from xdrconf.core.sshkeys import parse_public_key
from xdrconf.core.workspace import IntegrationEdit
from xdrconf.qt import workers
from xdrconf.qt.main_window import MIN_SIZE, MainWindow
from xdrconf.qt.wizard import MIN_WIZARD_SIZE, SecretEditor, SecretTextEditor, SpecFormPage


@pytest.fixture
def win(qtbot, ws):
    """The main window with its own (real) dialogs, shown at its default size."""
    w = MainWindow(ws)
    qtbot.addWidget(w)
    w.show()
    w.start()
    wait_idle(qtbot, w)
    yield w
    if w.wizard is not None:
        QWizard.reject(w.wizard)
    wait_idle(qtbot, w)
    workers.wait_all()


def answer_modal(qtbot: Any, trigger: Callable[[], Any], respond: Callable[[QWidget], None]) -> list[QWidget]:
    """Run `trigger`, which opens a modal dialog with exec(); answer it with `respond(dialog)`
    from a timer, as a user would. Returns the dialogs answered."""
    seen: list[QWidget] = []

    def poll() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None or modal in seen:
            QTimer.singleShot(20, poll)
            return
        seen.append(modal)
        respond(modal)

    QTimer.singleShot(0, poll)
    trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    return seen


def press(box: QWidget, text: str) -> None:
    """Click the button with this text (after removing '&') in a dialog."""
    for button in box.findChildren(QPushButton):
        if button.text().replace("&", "") == text and button.isVisible():
            button.click()
            return
    raise AssertionError(f"no button {text!r} in {box.windowTitle()!r}")


def with_results(ws, tenant: str, kind: str, category: Category, message: str) -> str:
    values = {
        "kuma": {"host": "kuma.acme.invalid", "port": "7223"},
        "kasap": {"url": "https://kasap.acme.invalid/api", "token_issued": "2020-01-01"},
    }[kind]
    ws.update_integration(
        tenant, IntegrationEdit(kind, values=values, secrets={"token": "t-1"}, enabled=True)
    )
    tid = ws.tenant(tenant).id
    result = CheckResult(category, message, "kuma.acme.invalid:7223", 40.0)
    ws.record_results({(tid, kind): [result.to_dict()]})
    return tid


def open_wizard(win, qtbot, kind: str, tenant: str = "Acme"):
    if tenant not in [t.name for t in win.ws.tree.walk_all()]:
        win.ws.add_tenant(tenant)
    win.refresh()
    win.select_tenant(win.ws.tenant(tenant).id)
    wizard = win.open_wizard(kind)
    qtbot.waitExposed(wizard)
    return wizard


# ---- validation as you type; pasted host:port -------------------------------------------------
def test_hints_stay_until_typed_and_a_pasted_url_fills_host_and_port(win, qtbot):
    wizard = open_wizard(win, qtbot, "kuma")
    page = wizard.currentPage()
    host, port = page.editors["host"].edit, page.editors["port"].edit
    hint = page.reasons["host"].text()
    assert (
        hint.startswith("Host name or IP address")
        and not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    )

    host.setFocus()
    QGuiApplication.clipboard().setText("https://kuma.acme.invalid:7443/")
    qtbot.keyClick(host, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert (host.text(), port.text()) == ("kuma.acme.invalid", "7443")
    assert page.reasons["host"].text() == hint and page.isComplete()

    host.selectAll()
    QGuiApplication.clipboard().setText("[::1]:7223")
    qtbot.keyClick(host, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert (host.text(), port.text()) == ("::1", "7223")
    host.clear()
    qtbot.keyClicks(host, "2001:db8::5")  # IPv6 without brackets is an address, no port
    assert (host.text(), port.text()) == ("2001:db8::5", "7223") and page.isComplete()

    # Typed by hand, the port stays until the field is left, and the line says what to do.
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    host.setFocus()
    host.clear()
    qtbot.keyClicks(host, "kuma.acme.invalid:8443")
    assert host.text() == "kuma.acme.invalid:8443" and not page.isComplete()
    assert "includes the port 8443: enter only kuma.acme.invalid here" in page.reasons["host"].text()
    assert "IPv6" not in page.reasons["host"].text()
    qtbot.keyClick(host, Qt.Key.Key_Tab)
    assert (host.text(), port.text()) == ("kuma.acme.invalid", "8443") and page.isComplete()


def test_kata_connection_dialog_splits_a_pasted_host_port(win, qtbot, ws):
    ws.add_tenant("Acme")
    wizard = open_wizard(win, qtbot, "kata")
    widget = wizard.currentPage().widget

    def fill(dialog: QWidget) -> None:
        dialog.host.setFocus()
        QGuiApplication.clipboard().setText("kata.acme.invalid:8443")
        qtbot.keyClick(dialog.host, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        seen.append((dialog.host.text(), dialog.port.value()))
        dialog.reject()

    seen: list[tuple[str, int]] = []
    answer_modal(qtbot, widget.add_btn.click, fill)
    assert seen == [("kata.acme.invalid", 8443)]


# ---- the integrations table and the tree -------------------------------------------------------
def cell_fits(table, row: int, column: int) -> bool:
    text = table.model().data(table.model().index(row, column))
    return table.fontMetrics().horizontalAdvance(text) + 12 <= table.columnWidth(column)


@pytest.mark.parametrize("size", ["default", "minimum"])
def test_last_check_and_flags_are_readable_without_widening(win, qtbot, ws, size):
    ws.add_tenant("Acme")
    tid = with_results(ws, "Acme", "kuma", Category.AUTH_FAILED, "KUMA refused the token (403).")
    with_results(ws, "Acme", "kasap", Category.OK, "Connected.")
    win.refresh()
    win.select_tenant(tid)
    if size == "minimum":
        win.resize(*MIN_SIZE)
    qtbot.waitUntil(lambda: win.table.viewport().width() > 0)
    qtbot.wait(20)
    table, model = win.table, win.table_model
    kuma = model.row_of("kuma")
    assert model.data(model.index(kuma, 3)).startswith("Authentication failed · ")
    assert cell_fits(table, kuma, 3)  # words and time, not cut
    head = table.horizontalHeader()
    widths = [head.sectionSize(c) for c in range(5)]
    assert widths[0] < widths[3] + widths[4]  # the Integration column no longer takes most
    assert widths[4] >= table.fontMetrics().horizontalAdvance("The KASAP token") + 12
    for row in range(model.rowCount()):
        assert cell_fits(table, row, 0), model.data(model.index(row, 0))
    assert sum(widths) <= table.viewport().width() + 1  # no horizontal scrolling


def test_a_collapsed_tenant_shows_a_failure_below_it(win, qtbot, ws):
    ws.add_tenant("Acme")
    ws.add_tenant("Branch", "Acme")
    ws.add_tenant("Shop", "Branch")
    with_results(ws, "Shop", "kuma", Category.TIMEOUT, "No answer within 10 s.")
    win.refresh()
    model, view = win.tree_model, win.tree_view
    acme = model.index_of(ws.tenant("Acme").id)
    view.collapse(acme)
    assert model.data(acme, model.MARK_ROLE) is None  # nothing wrong with Acme itself
    assert model.data(acme, model.BELOW_ROLE) == "error"
    assert "A check failed for a tenant below this one." in model.data(acme, Qt.ItemDataRole.ToolTipRole)
    icon = model.data(acme, Qt.ItemDataRole.DecorationRole)
    assert icon is not None and not icon.pixmap(14, 14).toImage().isNull()
    blank = model.data(model.index_of(ws.tree.shared_id), Qt.ItemDataRole.DecorationRole)
    assert icon.pixmap(14, 14).toImage() != blank.pixmap(14, 14).toImage()
    assert model.data(model.index_of(ws.tree.root_id), model.BELOW_ROLE) == "error"
    # Fixed below: the mark goes from the ancestors too.
    ws.record_results({(ws.tenant("Shop").id, "kuma"): [CheckResult(Category.OK, "Connected.").to_dict()]})
    win.refresh()
    assert model.data(model.index_of(ws.tenant("Acme").id), model.BELOW_ROLE) is None


def test_the_tree_keeps_its_width_and_every_pane_stays_usable(win, qtbot, ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    ws.rename_tenant(tid, "Acme Corporation Northwest Regional Security Operations Centre")
    with_results(ws, ws.tree.get(tid).name, "kasap", Category.OK, "Connected.")
    win.refresh()
    win.select_tenant(tid)
    for size in ((1180, 720), MIN_SIZE):
        win.resize(*size)
        qtbot.wait(20)
        tree_width = win.tree_view.width()
        for kind in ("kuma", "kasap", "kata", "custom", "tip", "ad", "kuma"):
            win.select_integration(kind)
            qtbot.wait(10)
            assert win.tree_view.width() == tree_width, kind
            assert win.width() == size[0]
        win.select_tenant(ws.tree.root_id)
        win.select_tenant(tid)
        assert win.tree_view.width() == tree_width
    assert (win.minimumWidth(), win.minimumHeight()) == MIN_SIZE
    # At the minimum size: the tree, the table, the tabs and the status bar all have room.
    assert win.tree_view.width() >= 200 and win.tree_view.height() >= 200
    assert win.table.viewport().height() >= 4 * win.table.verticalHeader().defaultSectionSize()
    assert win.bottom_tabs.height() >= 150 and win.details.width() >= 500
    keyring = win.keyring_label
    keyring.setText("Vault: secrets.kdbx, unlocked — the store in words, however long")
    qtbot.wait(20)
    assert keyring.width() >= keyring.sizeHint().width()  # the store's name is never cut
    assert not keyring.geometry().intersects(win.folder_label.geometry())


def test_tab_moves_out_of_the_table_to_details_and_incidents(win, qtbot, ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    win.refresh()
    win.select_tenant(tid)
    win.select_integration("kuma")
    win.activateWindow()
    win.table.setFocus()
    focused = []
    for _ in range(6):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused.append(QApplication.focusWidget())
        if focused[-1] is win.bottom_tabs.tabBar():
            break
    assert win.table.currentIndex().row() == win.table_model.row_of("kuma")  # Tab did not move in it
    assert win.bottom_tabs.tabBar() in focused
    qtbot.keyClick(win.bottom_tabs.tabBar(), Qt.Key.Key_Right)
    assert win.bottom_tabs.tabText(win.bottom_tabs.currentIndex()) == "Incidents"
    qtbot.keyClick(win.bottom_tabs.tabBar(), Qt.Key.Key_Tab)
    assert win.panel_scroll.isAncestorOf(QApplication.focusWidget())


def test_incidents_only_for_a_tenant_with_kuma(win, qtbot, ws, kuma, test_ca):
    ws.add_tenant("Globex")
    win.refresh()
    win.select_tenant(ws.tenant("Globex").id)
    win.select_integration("kuma")
    assert [win.bottom_tabs.tabText(i) for i in range(win.bottom_tabs.count())] == ["Details"]
    configure(ws, kuma.port, ca=test_ca.cert_pem, tenant="Globex")
    win.refresh()
    assert [win.bottom_tabs.tabText(i) for i in range(win.bottom_tabs.count())] == ["Details", "Incidents"]


def test_receive_error_is_shown_once(win, qtbot, ws, test_ca):
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tid = configure(ws, port, ca=test_ca.cert_pem)
    win.refresh()
    win.select_tenant(tid)
    win.select_integration("kuma")
    panel = win._panel
    panel.receive_button.click()
    qtbot.waitUntil(lambda: panel.task is None, timeout=15000)
    wait_idle(qtbot, win)
    boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
    shown = [b.text() for b in boxes] + [panel.info.text()]
    assert sum("refused" in t.lower() or "unreachable" in t.lower() for t in shown) == 1, shown
    for box in boxes:
        box.close()


# ---- the name dialogs -------------------------------------------------------------------------
def test_add_child_and_rename_keep_the_input_after_an_error(win, qtbot, ws):
    ws.add_tenant("Acme")
    ws.add_tenant("Globex")
    win.refresh()
    win.select_tenant(ws.tree.root_id)
    win.act_add.trigger()
    dialog = win.name_dialog
    assert dialog.windowTitle() == "Add child tenant"
    title_width = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title_width + 160  # room for the whole title in the title bar
    qtbot.keyClicks(dialog.edit, "acme")
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    assert "already exists" in dialog.error.text() and dialog.isVisible()
    assert dialog.edit.text() == "acme"  # kept, to correct
    qtbot.keyClicks(dialog.edit, " EU")
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.name_dialog is None, timeout=5000)
    assert ws.tenant("acme EU").parent_id == ws.tree.root_id

    win.select_tenant(ws.tenant("acme EU").id)
    win.act_rename.trigger()
    dialog = win.name_dialog
    assert dialog.edit.text() == "acme EU"
    dialog.edit.selectAll()
    qtbot.keyClicks(dialog.edit, "Globex")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    assert dialog.isVisible() and dialog.edit.text() == "Globex"
    dialog.edit.setText("Acme Europe")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.name_dialog is None, timeout=5000)
    assert "Acme Europe" in [t.name for t in ws.tree.walk_all()]


# ---- the wizard: Cancel, secrets, the CA hint -------------------------------------------------
def test_wizard_cancel_asks_before_dropping_typed_changes(win, qtbot, ws):
    wizard = open_wizard(win, qtbot, "kuma")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()  # nothing typed: closes at once
    wizard = open_wizard(win, qtbot, "kuma")
    qtbot.keyClicks(wizard.currentPage().editors["host"].edit, "kuma.acme.invalid")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    box = wizard.discard_box
    assert box is not None and box.isVisible() and "KUMA REST API" in box.text()
    press(box, "Keep editing")
    assert wizard.isVisible() and wizard.currentPage().editors["host"].edit.text() == "kuma.acme.invalid"
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # Esc asks too
    box = wizard.discard_box
    assert box is not None and box.isVisible()
    press(box, "Discard")
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=3000)
    assert "kuma" not in ws.tenant("Acme").integrations


def stored_everything(ws, tenant: str) -> None:
    ws.update_integration(
        tenant,
        IntegrationEdit("kuma", values={"host": "kuma.acme.invalid", "port": "7223"}, secrets={"token": "k"}),
    )
    ws.update_integration(tenant, IntegrationEdit("tip", secrets={"token": "t"}))
    ws.update_integration(
        tenant, IntegrationEdit("kasap", values={"url": "https://kasap.acme.invalid"}, secrets={"token": "a"})
    )
    ws.update_integration(
        tenant,
        IntegrationEdit(
            "custom",
            values={"host": "ssh.acme.invalid", "auth": "key", "username": "soar", "verify_host": "false"},
            secrets={"private_key": make_key("ed25519").private_openssh, "key_passphrase": "p"},
        ),
    )


def test_one_way_to_enter_a_secret_on_every_page(win, qtbot, ws):
    ws.add_tenant("Acme")
    stored_everything(ws, "Acme")
    for kind in ("kuma", "tip", "kasap", "custom"):
        wizard = open_wizard(win, qtbot, kind)
        editors = [
            e
            for page_id in wizard.kind_pages[kind]
            for e in wizard.page(page_id).findChildren(QWidget)
            if isinstance(e, SecretEditor | SecretTextEditor)
        ]
        names = {e.field.name for e in editors}
        assert names == {f.name for f in catalog.spec_for(kind).fields if f.secret}, kind
        for e in editors:
            shown = e.edit.placeholderText() if isinstance(e, SecretEditor) else e.status.text()
            if e.stored:
                assert shown == "stored — leave empty to keep", (kind, e.field.name)
                assert e.replace_button.text() == "Replace" and not e.replace_button.isHidden()
            else:  # custom's password: its key is stored instead
                assert (kind, e.field.name, shown) == ("custom", "password", "not stored yet")
                assert e.replace_button.isHidden()
            assert e.value() == ""  # never pre-filled
        QWizard.reject(wizard)


def test_the_ca_hint_names_the_right_peer(win, qtbot, ws):
    for kind in ("kuma", "tip", "kasap", "kata"):
        wizard = open_wizard(win, qtbot, kind)
        pages = [wizard.page(i) for i in wizard.kind_pages[kind]]
        [trust] = [p for p in pages if isinstance(p, SpecFormPage) and "tls_ca" in p.editors]
        hint = trust.reasons["tls_ca"].text()
        assert catalog.spec_for(kind).title in hint, hint
        assert ("KUMA" in hint) == (kind == "kuma"), hint
        QWizard.reject(wizard)


def test_the_wizard_is_usable_at_its_minimum_size(win, qtbot, ws):
    wizard = open_wizard(win, qtbot, "custom")
    wizard.resize(1, 1)
    assert (wizard.width(), wizard.height()) == MIN_WIZARD_SIZE
    page = wizard.currentPage()
    assert page.host.isVisibleTo(page) and page.host.width() >= 250


# ---- words, the status bar ---------------------------------------------------------------------
def test_every_category_has_words():
    words = {c: category_words(c) for c in Category}
    assert words[Category.AUTH_FAILED] == "Authentication failed"
    assert all(w and w != c.value and "_" not in w for c, w in words.items())
    assert len(set(words.values())) == len(words)
    assert category_words("from_a_newer_version") == "from_a_newer_version"


def test_long_status_messages_are_not_cut(win, qtbot):
    win.resize(*MIN_SIZE)
    qtbot.wait(20)
    message = "Kaspersky Threat Intelligence Portal: " + "a long explanation of what happened " * 6
    win.say(message)
    label = win.message_label
    assert label.toolTip() == message and label.text().endswith("…")
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    right = label.mapTo(win, QPoint(label.width(), 0)).x()
    assert right <= win.keyring_label.mapTo(win, QPoint(0, 0)).x()


# ---- KATA: fetch certificate, reveal, Check all ------------------------------------------------
def add_kata_connection(qtbot, widget, port: int) -> None:
    """Add connection… in the real dialog: type the address, keep the key type, Save."""

    def fill(dialog: QWidget) -> None:
        qtbot.keyClicks(dialog.host, "127.0.0.1")
        dialog.port.setValue(port)
        dialog.key_type.setCurrentIndex(dialog.key_type.findData("p256"))
        press(dialog, "Save")

    answer_modal(qtbot, widget.add_btn.click, fill)
    qtbot.waitUntil(lambda: not widget.busy, timeout=20000)


def test_kata_fetch_certificate_uses_the_connections_entered(win, qtbot, ws, server_cert):
    from support.https_peer import HttpsPeer, Reply
    from xdrconf.core.fields import format_fingerprint

    with (
        HttpsPeer(lambda req: Reply(404, {}), cert=server_cert) as one,
        HttpsPeer(lambda req: Reply(404, {}), cert=server_cert) as two,
    ):
        wizard = open_wizard(win, qtbot, "kata")
        widget = wizard.currentPage().widget
        add_kata_connection(qtbot, widget, one.port)
        for _ in range(4):
            if hasattr(wizard.currentPage(), "fetch_box"):
                break
            qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
        fetch = wizard.currentPage().fetch_box
        assert not fetch.target_combo.isVisible()  # one connection: no choice to make
        qtbot.mouseClick(fetch.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: fetch.info is not None, timeout=10000)
        assert format_fingerprint(server_cert.sha256) in fetch.label.text().replace("<br>", "")
        qtbot.mouseClick(fetch.pin_button, Qt.MouseButton.LeftButton)
        assert wizard.currentPage().problems() == {}
        # With two connections the user picks which server to read.
        wizard.back()
        wizard.back()
        add_kata_connection(qtbot, widget, two.port)
        wizard.next()
        wizard.next()
        assert fetch.target_combo.isVisible()
        assert [fetch.target_combo.itemText(i) for i in range(2)] == [
            f"127.0.0.1:{one.port}",
            f"127.0.0.1:{two.port}",
        ]
        assert one.requests == [] and two.requests == []  # a handshake only
        QWizard.reject(wizard)


def test_revealing_a_private_key_asks_first(win, qtbot, ws):
    from xdrconf.core.integrations import kata
    from xdrconf.qt.integrations.kata import MASK

    ws.add_tenant("Acme")
    tid = ws.tenant("Acme").id
    kata.add_connection(ws, tid, "127.0.0.1", 7443, "p256")
    win.refresh()
    win.select_tenant(tid)
    win.select_integration("kata")
    panel = win._panel
    questions: list[str] = []

    def refuse(box: QWidget) -> None:
        questions.append(box.text())
        press(box, "Cancel")

    answer_modal(qtbot, panel.reveal_btn.click, refuse)
    assert "Show the private key" in questions[0] and "127.0.0.1:7443" in questions[0]
    assert panel.key_mask.text() == MASK and not panel.key_text.isVisibleTo(panel)
    answer_modal(qtbot, panel.reveal_btn.click, lambda box: press(box, "OK"))
    qtbot.waitUntil(lambda: panel.key_text.isVisibleTo(panel), timeout=10000)
    assert "PRIVATE KEY" in panel.key_text.toPlainText()
    panel.reveal_btn.click()  # Hide: no question
    assert not panel.key_text.isVisibleTo(panel) and panel.key_text.toPlainText() == ""


def test_check_all_counts_integrations_and_names_kata_targets(win, qtbot, ws, server_cert, test_ca):
    from support.kata_peer import KataPeer
    from xdrconf.core.integrations import kata

    ws.add_tenant("Acme")
    tid = ws.tenant("Acme").id
    ws.update_integration("Acme", IntegrationEdit("kata", values={"tls_ca": test_ca.cert_pem}))
    with KataPeer(server_cert) as peer:
        good = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        kata.add_connection(ws, tid, "localhost", peer.port, "p256")  # not accepted by KATA
        peer.trust(good["cert_pem"])
        peer.api.approve(good["id"], good["fingerprint"])
        ws.set_enabled(tid, "kata", True)
        win.refresh()
        win.select_tenant(tid)
        dialog = win.check_tenant()
        with qtbot.waitSignal(dialog.saved, timeout=30000):
            pass
        model = dialog.table.model()
        rows = [[model.data(model.index(r, c)) for c in range(7)] for r in range(model.rowCount())]
        assert len(rows) == 2  # one row per connection …
        assert {r[2] for r in rows} == {f"127.0.0.1:{peer.port}", f"localhost:{peer.port}"}  # … as host:port
        words = {r[2]: r[3] for r in rows}
        assert words[f"127.0.0.1:{peer.port}"] == "OK" and words[f"localhost:{peer.port}"] != "OK"
        # … but counted per integration, as the progress is: one integration, not OK.
        assert dialog.progress.maximum() == 1
        assert dialog.summary.text() == "1 of 1 integration checked, 1 not OK — done"
        dialog.close()
        wait_idle(qtbot, win)


@pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))
def test_ssh_host_verification_tab_follows_the_check_and_the_pin(win, qtbot, ws, tmp_path):
    import getpass

    from support.sshd import Sshd

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
        win.refresh()
        win.select_tenant(tid)
        win.select_integration("custom")
        panel = win._panel
        assert win.bottom_tabs.tabText(win.bottom_tabs.indexOf(win.panel_scroll)) == "SSH host verification"
        assert "verification is off" in panel.state_label.text() and not panel.pin_button.isVisibleTo(panel)
        win.act_check.trigger()
        qtbot.waitUntil(lambda: bool(ws.tenant("Acme").integrations["custom"].results), timeout=20000)
        wait_idle(qtbot, win)
        # The tab follows the check at once: the key the host presented, and Pin.
        assert win._panel is panel and panel.pin_button.isVisibleTo(panel)
        fingerprint = parse_public_key(server.public_line("ed25519")).fingerprint
        assert fingerprint in panel.state_label.text()
        qtbot.mouseClick(panel.pin_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.task is None, timeout=10000)
        wait_idle(qtbot, win)
        assert "Host verified against the pinned key" in win._panel.state_label.text()
        assert not win._panel.pin_button.isVisibleTo(win._panel)
        assert ws.tenant("Acme").integrations["custom"].settings["verify_host"] is True
