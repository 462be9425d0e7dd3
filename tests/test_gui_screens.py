"""The screens as a new user meets them, driven through the real window, wizard and dialogs
(keys typed and pasted, buttons pressed, dialogs answered as support.gui does; nothing of
xdrconf is replaced): validation as you type, pasted host:port, the integrations table and
the tree at the default and the minimum window size, keyboard navigation, the name dialogs,
Cancel in the wizard, the one way secrets are entered, outcome words, the status bar."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget, QWizard
from pytestqt.qtbot import QtBot

from support.gui import accept, as_a, click, expect_dialog, no_dialog, paste_into, reject, some, wait_idle
from support.https_peer import HttpsPeer, Reply
from support.kata_peer import KataPeer
from support.kuma_peer import configure
from support.pki import TestCA
from support.sshd import Sshd, make_key
from support.sshd import available as sshd_available
from xdrconf.core import catalog
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.integrations.custom.keys import parse_public_key
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.outcome import Category, CheckResult, category_words
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.checks_ui import CheckAllDialog
from xdrconf.qt.dialogs import NameDialog
from xdrconf.qt.editors import LineEditor, SecretEditor, SecretTextEditor
from xdrconf.qt.integrations import custom as custom_ui
from xdrconf.qt.integrations import kata as kata_ui
from xdrconf.qt.integrations import kuma as kuma_ui
from xdrconf.qt.main_window import MIN_SIZE, MainWindow
from xdrconf.qt.wizard import MIN_WIZARD_SIZE, SpecFormPage, TenantWizard


def with_results(ws: Workspace, tenant: str, kind: str, category: Category, message: str) -> str:
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


def open_wizard(window: MainWindow, qtbot: QtBot, kind: str, tenant: str = "Acme") -> TenantWizard:
    if tenant not in [t.name for t in window.ws.tree.walk_all()]:
        window.ws.add_tenant(tenant)
    window.refresh()
    window.select_tenant(window.ws.tenant(tenant).id)
    wizard = as_a(TenantWizard, window.open_wizard(kind))
    qtbot.waitExposed(wizard)
    return wizard


def line(page: SpecFormPage, name: str) -> Any:
    return as_a(LineEditor, page.editors[name]).edit


def discard_box(wizard: TenantWizard) -> QMessageBox:
    return as_a(QMessageBox, wizard.discard_box)


# ---- validation as you type; pasted host:port -------------------------------------------------
def test_hints_stay_until_typed_and_a_pasted_url_fills_host_and_port(
    window: MainWindow, qtbot: QtBot
) -> None:
    wizard = open_wizard(window, qtbot, "kuma")
    page = as_a(SpecFormPage, wizard.currentPage())
    host, port = line(page, "host"), line(page, "port")
    hint = page.reasons["host"].text()
    assert hint.startswith("Host name or IP address")  # not "is required" before anything is typed
    assert not some(wizard.button(QWizard.WizardButton.NextButton)).isEnabled()

    paste_into(host, "https://kuma.acme.invalid:7443/", check=False)
    assert (host.text(), port.text()) == ("kuma.acme.invalid", "7443")
    assert page.reasons["host"].text() == hint and page.isComplete()
    paste_into(host, "[::1]:7223", check=False)
    assert (host.text(), port.text()) == ("::1", "7223")
    host.clear()
    qtbot.keyClicks(host, "::1")  # IPv6 without brackets is an address, no port
    assert (host.text(), port.text()) == ("::1", "7223") and page.isComplete()

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


def test_kata_connection_dialog_splits_a_pasted_host_port(window: MainWindow, qtbot: QtBot) -> None:
    wizard = open_wizard(window, qtbot, "kata")
    widget = as_a(kata_ui.KataConnectionsPage, wizard.currentPage()).widget
    seen: list[tuple[str, int]] = []

    def paste(dialog: kata_ui.ConnectionDialog) -> None:
        paste_into(dialog.host, "kata.acme.invalid:8443", check=False)
        seen.append((dialog.host.text(), dialog.port.value()))
        reject(dialog)

    with expect_dialog(qtbot, kata_ui.ConnectionDialog, paste, name="kataConnectionDialog"):
        widget.add_btn.click()
    assert seen == [("kata.acme.invalid", 8443)]


# ---- the integrations table and the tree -------------------------------------------------------
def cell_fits(table: Any, row: int, column: int) -> bool:
    text = table.model().data(table.model().index(row, column))
    return bool(table.fontMetrics().horizontalAdvance(text) + 12 <= table.columnWidth(column))


@pytest.mark.parametrize("size", ["default", "minimum"])
def test_last_check_and_flags_are_readable_without_widening(
    window: MainWindow, qtbot: QtBot, ws: Workspace, size: str
) -> None:
    ws.add_tenant("Acme")
    tid = with_results(ws, "Acme", "kuma", Category.AUTH_FAILED, "KUMA refused the token (403).")
    with_results(ws, "Acme", "kasap", Category.OK, "Connected.")
    window.refresh()
    window.select_tenant(tid)
    if size == "minimum":
        window.resize(*MIN_SIZE)
    qtbot.wait(20)
    table, model = window.table, window.table_model
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


def test_a_collapsed_tenant_shows_a_failure_below_it(window: MainWindow, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    ws.add_tenant("Branch", "Acme")
    ws.add_tenant("Shop", "Branch")
    with_results(ws, "Shop", "kuma", Category.TIMEOUT, "No answer within 10 s.")
    window.refresh()
    model, view = window.tree_model, window.tree_view
    acme = model.index_of(ws.tenant("Acme").id)
    view.collapse(acme)
    assert model.data(acme, model.MARK_ROLE) is None  # nothing wrong with Acme itself
    assert model.data(acme, model.BELOW_ROLE) == "error"
    assert "A check failed for a tenant below this one." in model.data(acme, Qt.ItemDataRole.ToolTipRole)
    icon = model.data(acme, Qt.ItemDataRole.DecorationRole)
    blank = model.data(model.index_of(ws.tree.shared_id), Qt.ItemDataRole.DecorationRole)
    assert icon.pixmap(14, 14).toImage() != blank.pixmap(14, 14).toImage()
    assert model.data(model.index_of(ws.tree.root_id), model.BELOW_ROLE) == "error"
    # Fixed below: the mark goes from the ancestors too.
    ws.record_results({(ws.tenant("Shop").id, "kuma"): [CheckResult(Category.OK, "Connected.").to_dict()]})
    window.refresh()
    assert model.data(model.index_of(ws.tenant("Acme").id), model.BELOW_ROLE) is None


def test_new_marks_repaint_only_their_rows_and_the_rows_above(window: MainWindow, ws: Workspace) -> None:
    """A refresh after checks says which rows' marks changed (dataChanged, per parent), not
    that the whole tree changed: with 500 tenants a layout change made the view ask every
    row again in one turn of the event loop."""
    for i in range(30):
        ws.add_tenant(f"T{i:02d}")
    ws.add_tenant("Shop", "T07")
    window.refresh()
    model = window.tree_model
    layouts: list[int] = []
    changes: list[tuple[str | None, int, int]] = []
    model.layoutChanged.connect(lambda *_a: layouts.append(1))
    model.dataChanged.connect(
        lambda first, last, *_a: changes.append((model.tenant_id(first.parent()), first.row(), last.row()))
    )
    # The first mark gives every row an icon (blank where there is none): every name moves.
    assert model.data(model.index_of(ws.tenant("T00").id), Qt.ItemDataRole.DecorationRole) is None
    with_results(ws, "T29", "kuma", Category.OK, "Connected.")
    window.refresh()
    assert layouts == [1] and changes == []
    assert model.data(model.index_of(ws.tenant("T00").id), Qt.ItemDataRole.DecorationRole) is not None
    layouts.clear()
    with_results(ws, "T03", "kuma", Category.OK, "Connected.")
    with_results(ws, "Shop", "kuma", Category.TIMEOUT, "No answer within 10 s.")
    with_results(ws, "T21", "kuma", Category.AUTH_FAILED, "The token was refused.")
    window.refresh()
    root, t07 = ws.tree.root_id, ws.tenant("T07").id
    row = {t.id: model.index_of(t.id).row() for t in ws.tree.walk_all()}
    assert layouts == []
    # Root's children from T03 to T21 (T07 has a failure below it now), Shop under T07, and
    # the Root tenant itself (a failure below it).
    assert sorted(changes, key=str) == sorted(
        [
            (root, row[ws.tenant("T03").id], row[ws.tenant("T21").id]),
            (t07, 0, 0),
            (None, row[root], row[root]),
        ],
        key=str,
    )
    assert model.data(model.index_of(t07), model.BELOW_ROLE) == "error"
    changes.clear()
    window.refresh()  # nothing new: nothing said
    assert changes == [] and layouts == []


def test_the_tree_keeps_its_width_and_every_pane_stays_usable(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    ws.rename_tenant(tid, "Acme Corporation Northwest Regional Security Operations Centre")
    with_results(ws, ws.tree.get(tid).name, "kasap", Category.OK, "Connected.")
    window.refresh()
    window.select_tenant(tid)
    for size in ((1180, 720), MIN_SIZE):
        window.resize(*size)
        qtbot.wait(20)
        tree_width = window.tree_view.width()
        for kind in ("kuma", "kasap", "kata", "custom", "tip", "ad", "kuma"):
            window.select_integration(kind)
            qtbot.wait(10)
            assert window.tree_view.width() == tree_width, kind
            assert window.width() == size[0]
        window.select_tenant(ws.tree.root_id)
        window.select_tenant(tid)
        assert window.tree_view.width() == tree_width
    assert (window.minimumWidth(), window.minimumHeight()) == MIN_SIZE
    # Nothing left over covers the filter box (the tree's place holder before the paint).
    corner = window.filter_edit.mapTo(window, QPoint(8, 8))
    assert window.childAt(corner) is window.filter_edit
    # At the minimum size: the tree, the table, the tabs and the status bar all have room.
    assert window.tree_view.width() >= 200 and window.tree_view.height() >= 200
    assert window.table.viewport().height() >= 4 * window.table.verticalHeader().defaultSectionSize()
    assert window.bottom_tabs.height() >= 150 and window.details.width() >= 500
    keyring = window.keyring_label
    keyring.setText("Vault: secrets.kdbx, unlocked — the store in words, however long")
    qtbot.wait(20)
    assert keyring.width() >= keyring.sizeHint().width()  # the store's name is never cut
    assert not keyring.geometry().intersects(window.folder_label.geometry())


def test_tab_moves_out_of_the_table_to_details_and_incidents(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.table.setFocus()
    tab_bar = window.bottom_tabs.tabBar()
    focused: list[QWidget] = []
    for _ in range(6):
        qtbot.keyClick(some(QApplication.focusWidget()), Qt.Key.Key_Tab)
        focused.append(some(QApplication.focusWidget()))
        if focused[-1] is tab_bar:
            break
    assert window.table.currentIndex().row() == window.table_model.row_of("kuma")  # Tab did not move in it
    assert tab_bar in focused
    qtbot.keyClick(tab_bar, Qt.Key.Key_Right)
    assert window.bottom_tabs.tabText(window.bottom_tabs.currentIndex()) == "Incidents"
    qtbot.keyClick(tab_bar, Qt.Key.Key_Tab)
    assert window.panel_scroll.isAncestorOf(some(QApplication.focusWidget()))


def test_incidents_only_for_a_tenant_with_kuma(
    window: MainWindow, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    ws.add_tenant("Globex")
    window.refresh()
    window.select_tenant(ws.tenant("Globex").id)
    window.select_integration("kuma")
    tabs = window.bottom_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Details", "History"]
    configure(ws, kuma.port, ca=test_ca.cert_pem, tenant="Globex")
    window.refresh()
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Details", "Incidents", "Operations", "History"]


def test_receive_error_is_shown_once(
    window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: TestCA
) -> None:
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tid = configure(ws, port, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    panel = as_a(kuma_ui.IncidentsPanel, window._panel)
    with no_dialog(qtbot):  # in the panel, not again in a message box
        panel.receive_button.click()
        qtbot.waitUntil(lambda: panel.task is None, timeout=15000)
        wait_idle(qtbot, window)
    assert "refused the connection" in panel.info.text()


# ---- the name dialogs -------------------------------------------------------------------------
def enter(text: str) -> Any:
    def act(dialog: NameDialog) -> None:
        dialog.edit.selectAll()
        QTest.keyClicks(dialog.edit, text)
        accept(dialog)

    return act


def test_add_child_and_rename_keep_the_input_after_an_error(
    window: MainWindow, qtbot: QtBot, ws: Workspace
) -> None:
    ws.add_tenant("Acme")
    ws.add_tenant("Globex")
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    with expect_dialog(qtbot, NameDialog, enter("acme"), name="nameDialog", title="Add child tenant") as add:
        window.act_add.trigger()
    dialog = as_a(NameDialog, add.dialog)
    title_width = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title_width + 160  # room for the whole title in the title bar
    qtbot.waitUntil(dialog.error.isVisible, timeout=5000)
    assert "already exists" in dialog.error.text() and dialog.isVisible()
    assert dialog.edit.text() == "acme"  # kept, to correct
    qtbot.keyClicks(dialog.edit, " EU")
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.name_dialog is None, timeout=5000)
    assert ws.tenant("acme EU").parent_id == ws.tree.root_id

    window.select_tenant(ws.tenant("acme EU").id)
    with expect_dialog(qtbot, NameDialog, enter("Globex"), title="Rename tenant") as rename:
        window.act_rename.trigger()
    dialog = as_a(NameDialog, rename.dialog)
    qtbot.waitUntil(dialog.error.isVisible, timeout=5000)
    assert dialog.isVisible() and dialog.edit.text() == "Globex"
    enter("Acme Europe")(dialog)
    qtbot.waitUntil(lambda: window.name_dialog is None, timeout=5000)
    assert "Acme Europe" in [t.name for t in ws.tree.walk_all()]


# ---- the wizard: Cancel, secrets, the CA hint -------------------------------------------------
def test_wizard_cancel_asks_before_dropping_typed_changes(
    window: MainWindow, qtbot: QtBot, ws: Workspace
) -> None:
    wizard = open_wizard(window, qtbot, "kuma")
    with no_dialog(qtbot):  # nothing typed: closes at once
        qtbot.mouseClick(some(wizard.button(QWizard.WizardButton.CancelButton)), Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()
    wizard = open_wizard(window, qtbot, "kuma")
    host = line(as_a(SpecFormPage, wizard.currentPage()), "host")
    qtbot.keyClicks(host, "kuma.acme.invalid")
    keep = click(QMessageBox.StandardButton.Cancel)  # "Keep editing"
    with expect_dialog(qtbot, QMessageBox, keep, name="discardChanges", title="Discard") as asked:
        qtbot.mouseClick(some(wizard.button(QWizard.WizardButton.CancelButton)), Qt.MouseButton.LeftButton)
    assert "KUMA REST API" in asked.text
    assert wizard.isVisible() and host.text() == "kuma.acme.invalid"
    discard = click(QMessageBox.StandardButton.Discard)
    with expect_dialog(qtbot, QMessageBox, discard, name="discardChanges"):
        qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # Esc asks too
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=3000)
    assert "kuma" not in ws.tenant("Acme").integrations


def stored_everything(ws: Workspace, tenant: str) -> None:
    kuma = {"host": "kuma.acme.invalid", "port": "7223"}
    ws.update_integration(tenant, IntegrationEdit("kuma", values=kuma, secrets={"token": "k"}))
    ws.update_integration(tenant, IntegrationEdit("tip", secrets={"token": "t"}))
    kasap = {"url": "https://kasap.acme.invalid"}
    ws.update_integration(tenant, IntegrationEdit("kasap", values=kasap, secrets={"token": "a"}))
    custom = {"host": "ssh.acme.invalid", "auth": "key", "username": "soar", "verify_host": "false"}
    key = make_key("ed25519").private_openssh
    secrets: dict[str, str | None] = {"private_key": key, "key_passphrase": "p"}
    ws.update_integration(tenant, IntegrationEdit("custom", values=custom, secrets=secrets))


def test_one_way_to_enter_a_secret_on_every_page(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    stored_everything(ws, "Acme")
    for kind in ("kuma", "tip", "kasap", "custom"):
        wizard = open_wizard(window, qtbot, kind)
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


def test_the_ca_hint_names_the_right_peer(window: MainWindow, qtbot: QtBot) -> None:
    for kind in ("kuma", "tip", "kasap", "kata"):
        wizard = open_wizard(window, qtbot, kind)
        pages = [wizard.page(i) for i in wizard.kind_pages[kind]]
        [trust] = [p for p in pages if isinstance(p, SpecFormPage) and "tls_ca" in p.editors]
        hint = trust.reasons["tls_ca"].text()
        assert catalog.spec_for(kind).title in hint, hint
        assert ("KUMA" in hint) == (kind == "kuma"), hint
        QWizard.reject(wizard)


def test_the_wizard_is_usable_at_its_minimum_size(window: MainWindow, qtbot: QtBot) -> None:
    wizard = open_wizard(window, qtbot, "custom")
    wizard.resize(1, 1)
    assert (wizard.width(), wizard.height()) == MIN_WIZARD_SIZE
    page = as_a(custom_ui.CustomIntegrationPage, wizard.currentPage())
    assert page.host.isVisibleTo(page) and page.host.width() >= 250


# ---- words, the status bar ---------------------------------------------------------------------
def test_every_category_has_words() -> None:
    words = {c: category_words(c) for c in Category}
    assert words[Category.AUTH_FAILED] == "Authentication failed"
    assert all(w and w != c.value and "_" not in w for c, w in words.items())
    assert len(set(words.values())) == len(words)
    assert category_words("from_a_newer_version") == "from_a_newer_version"


def test_long_status_messages_are_not_cut(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(*MIN_SIZE)
    qtbot.wait(20)
    message = "Kaspersky Threat Intelligence Portal: " + "a long explanation of what happened " * 6
    window.say(message)
    label = window.message_label
    assert label.toolTip() == message and label.text().endswith("…")
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    right = label.mapTo(window, QPoint(label.width(), 0)).x()
    assert right <= window.keyring_label.mapTo(window, QPoint(0, 0)).x()


# ---- KATA: fetch certificate, reveal, Check all ------------------------------------------------
def add_kata_connection(qtbot: QtBot, widget: kata_ui.KataConnectionsWidget, port: int) -> None:
    """Add connection… in the real dialog: type the address and the port, a P-256 key, Save."""

    def fill(dialog: kata_ui.ConnectionDialog) -> None:
        QTest.keyClicks(dialog.host, "127.0.0.1")
        dialog.port.setValue(port)
        dialog.key_type.setCurrentIndex(dialog.key_type.findData("p256"))
        accept(dialog)

    with expect_dialog(qtbot, kata_ui.ConnectionDialog, fill, name="kataConnectionDialog"):
        widget.add_btn.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=20000)


def to_trust_page(qtbot: QtBot, wizard: TenantWizard) -> SpecFormPage:
    for _ in range(4):
        page = wizard.currentPage()
        if isinstance(page, SpecFormPage) and hasattr(page, "fetch_box"):
            return page
        qtbot.mouseClick(some(wizard.button(QWizard.WizardButton.NextButton)), Qt.MouseButton.LeftButton)
    raise AssertionError("no page with Fetch certificate")


def test_kata_fetch_certificate_uses_the_connections_entered(
    window: MainWindow, qtbot: QtBot, server_cert: Any
) -> None:
    with (
        HttpsPeer(lambda req: Reply(404, {}), cert=server_cert) as one,
        HttpsPeer(lambda req: Reply(404, {}), cert=server_cert) as two,
    ):
        wizard = open_wizard(window, qtbot, "kata")
        widget = as_a(kata_ui.KataConnectionsPage, wizard.currentPage()).widget
        add_kata_connection(qtbot, widget, one.port)
        trust = to_trust_page(qtbot, wizard)
        fetch = trust.fetch_box
        assert not fetch.target_combo.isVisible()  # one connection: no choice to make
        qtbot.mouseClick(fetch.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: fetch.info is not None, timeout=10000)
        assert format_fingerprint(server_cert.sha256) in fetch.label.text().replace("<br>", "")
        qtbot.mouseClick(fetch.pin_button, Qt.MouseButton.LeftButton)
        assert trust.problems() == {}
        # With two connections the user picks which server to read.
        while wizard.currentPage() is not wizard.page(wizard.kind_pages["kata"][0]):
            wizard.back()
        add_kata_connection(qtbot, widget, two.port)
        assert to_trust_page(qtbot, wizard) is trust
        assert fetch.target_combo.isVisible()
        assert [fetch.target_combo.itemText(i) for i in range(2)] == [
            f"127.0.0.1:{one.port}",
            f"127.0.0.1:{two.port}",
        ]
        assert one.requests == [] and two.requests == []  # a handshake only
        QWizard.reject(wizard)


def test_revealing_a_private_key_asks_first(window: MainWindow, qtbot: QtBot, ws: Workspace) -> None:
    ws.add_tenant("Acme")
    tid = ws.tenant("Acme").id
    kata.add_connection(ws, tid, "127.0.0.1", 7443, "p256")
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kata")
    panel = as_a(kata_ui.KataConnectionsWidget, window._panel)
    show = "Show the private key"
    with expect_dialog(qtbot, QMessageBox, reject, name="confirmBox", title=show) as asked:
        panel.reveal_btn.click()
    assert "127.0.0.1:7443" in asked.text
    assert panel.key_mask.text() == kata_ui.MASK and not panel.key_text.isVisibleTo(panel)
    with expect_dialog(qtbot, QMessageBox, accept, name="confirmBox", title=show):
        panel.reveal_btn.click()
    qtbot.waitUntil(lambda: panel.key_text.isVisibleTo(panel), timeout=10000)
    assert "PRIVATE KEY" in panel.key_text.toPlainText()
    with no_dialog(qtbot):
        panel.reveal_btn.click()  # Hide: no question
    assert not panel.key_text.isVisibleTo(panel) and panel.key_text.toPlainText() == ""


def test_check_all_counts_integrations_and_names_kata_targets(
    window: MainWindow, qtbot: QtBot, ws: Workspace, server_cert: Any, test_ca: TestCA
) -> None:
    ws.add_tenant("Acme")
    tid = ws.tenant("Acme").id
    ws.update_integration("Acme", IntegrationEdit("kata", values={"tls_ca": test_ca.cert_pem}))
    with KataPeer(server_cert) as peer:
        good = kata.add_connection(ws, tid, "127.0.0.1", peer.port, "p256")
        kata.add_connection(ws, tid, "localhost", peer.port, "p256")  # not accepted by KATA
        peer.trust(good["cert_pem"])
        peer.api.approve(good["id"], good["fingerprint"])
        ws.set_enabled(tid, "kata", True)
        window.refresh()
        window.select_tenant(tid)
        dialog = as_a(CheckAllDialog, window.check_tenant())
        with qtbot.waitSignal(dialog.saved, timeout=30000):
            pass
        model = dialog.table.model()
        rows = [[model.data(model.index(r, c)) for c in range(7)] for r in range(model.rowCount())]
        assert len(rows) == 2  # one row per connection …
        words = {r[2]: r[3] for r in rows}  # … named host:port
        assert set(words) == {f"127.0.0.1:{peer.port}", f"localhost:{peer.port}"}
        assert words[f"127.0.0.1:{peer.port}"] == "OK" and words[f"localhost:{peer.port}"] != "OK"
        # … but counted per integration, as the progress is: one integration, not OK.
        assert dialog.progress.maximum() == 1
        assert dialog.summary.text() == "1 of 1 integration checked, 1 not OK — done"
        dialog.close()
        wait_idle(qtbot, window)


@pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))
def test_ssh_host_verification_tab_follows_the_check_and_the_pin(
    window: MainWindow, qtbot: QtBot, ws: Workspace, tmp_path: Path
) -> None:
    client = make_key("ed25519")
    with Sshd(tmp_path / "sshd", host_keys=("ed25519",), authorized=(client.public_line,)) as server:
        ws.add_tenant("Acme")
        values = {
            "host": "127.0.0.1",
            "ports": str(server.port),
            "verify_host": "false",
            "auth": "key",
            "username": getpass.getuser(),
        }
        secrets: dict[str, str | None] = {"private_key": client.private_openssh}
        ws.update_integration("Acme", IntegrationEdit("custom", values=values, secrets=secrets, enabled=True))
        tid = ws.tenant("Acme").id
        window.refresh()
        window.select_tenant(tid)
        window.select_integration("custom")
        panel = as_a(custom_ui.HostVerificationPanel, window._panel)
        tabs = window.bottom_tabs
        assert tabs.tabText(tabs.indexOf(window.panel_scroll)) == "SSH host verification"
        assert "verification is off" in panel.state_label.text() and not panel.pin_button.isVisibleTo(panel)
        window.act_check.trigger()
        qtbot.waitUntil(lambda: bool(ws.tenant("Acme").integrations["custom"].results), timeout=20000)
        wait_idle(qtbot, window)
        # The tab follows the check at once: the key the host presented, and Pin.
        assert window._panel is panel and panel.pin_button.isVisibleTo(panel)
        fingerprint = parse_public_key(server.public_line("ed25519")).fingerprint
        assert fingerprint in panel.state_label.text()
        qtbot.mouseClick(panel.pin_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.task is None, timeout=10000)
        wait_idle(qtbot, window)
        assert "Host verified against the pinned key" in panel.state_label.text()
        assert not panel.pin_button.isVisibleTo(panel)
        assert ws.tenant("Acme").integrations["custom"].settings["verify_host"] is True
