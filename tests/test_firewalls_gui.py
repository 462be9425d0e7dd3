"""Check Point, Sophos, Continent 4 and SKDPU NT in the real window: the generated wizard pages
(typed into, the login method switching fields, the pointer to the tenant's custom
integration), the check from the closing page against the real peers (a logout after it),
and a check that proved only reachability shown with its own mark — in the integrations
table, the tree, the details, the wizard's outcome and Check tenant — never as a green OK.
With XDRCONF_SCREENSHOTS set, every page and result is saved as PNG, in English and Russian."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QLabel, QWidget, QWizard
from pytestqt.qtbot import QtBot

from support import checkpoint_peer as cp
from support import sophos_peer as sophos
from support.gui import as_a, select_data, some, wait_idle
from support.pki import Issued, TestCA
from support.tls_peer import TlsPeer
from test_gui_screens import line, open_wizard
from xdrconf.core import catalog
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.checks_ui import CheckAllDialog
from xdrconf.qt.editors import ChoiceEditor, SecretEditor
from xdrconf.qt.icons import COLOURS, mark_icon
from xdrconf.qt.tenant_model import TenantTreeModel
from xdrconf.qt.wizard import MIN_WIZARD_SIZE, IntegrationClosingPage, SpecFormPage, TenantWizard

UNVERIFIED = COLOURS["unverified"]


def shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("XDRCONF_SCREENSHOTS")
    if folder:
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()  # the layout after the last change
        widget.grab().save(str(Path(folder) / f"{name}.png"))


@pytest.fixture
def russian(monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[None]:
    from xdrconf.qt.app import apply_language

    monkeypatch.setenv("XDRCONF_LANG", "ru")
    apply_language()
    yield
    monkeypatch.setenv("XDRCONF_LANG", "en")
    apply_language()


def secret(page: SpecFormPage, name: str) -> Any:
    return as_a(SecretEditor, page.editors[name]).edit


def type_into(qtbot: QtBot, edit: Any, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def next_enabled(wizard: TenantWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def check_on_closing_page(qtbot: QtBot, wizard: TenantWizard) -> Outcome:
    closing = as_a(IntegrationClosingPage, wizard.currentPage())
    box = closing.check_box
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        box.button.click()
    [result] = blocker.args[0]
    assert isinstance(result, Outcome)
    return result


@pytest.fixture
def mgmt(server_cert: Issued) -> Iterator[cp.CheckPointPeer]:
    with cp.CheckPointPeer(server_cert, groups={"XDR_Blocked": ["evil-1"]}) as peer:
        yield peer


# ---- Check Point -----------------------------------------------------------------------------------
def test_check_point_pages_check_and_finish(window, qtbot, ws, mgmt, test_ca):
    wizard = open_wizard(window, qtbot, "checkpoint")
    page = as_a(SpecFormPage, wizard.currentPage())
    assert page.title() == "Check Point — management server"
    assert "the group that the response scripts add blocked hosts to" in page.subTitle()
    # The pointer to the script-launch host, on the first page, with the tenant's state.
    link = some(page.related)
    assert "<a href='integration:custom'>Custom integration</a>" in link.text()
    assert "This tenant's Custom integration: not configured." in link.text()
    assert line(page, "port").text() == "443" and not next_enabled(wizard)
    type_into(qtbot, line(page, "host"), f"127.0.0.1:{mgmt.port}")  # pasted host:port is split
    line(page, "host").editingFinished.emit()
    assert line(page, "port").text() == str(mgmt.port)
    type_into(qtbot, line(page, "block_group"), "XDR_Blocked")
    shot(wizard, "checkpoint-1-server")
    assert next_enabled(wizard)
    wizard.next()

    page = as_a(SpecFormPage, wizard.currentPage())
    assert page.title() == "Check Point — API administrator"
    assert page.editors["api_key"].isVisibleTo(page) and not page.editors["username"].isVisibleTo(page)
    select_data(as_a(ChoiceEditor, page.editors["auth"]).combo, "password")
    assert not page.editors["api_key"].isVisibleTo(page)
    assert page.editors["username"].isVisibleTo(page) and page.editors["password"].isVisibleTo(page)
    assert not next_enabled(wizard)
    type_into(qtbot, line(page, "username"), cp.USER)
    qtbot.keyClicks(secret(page, "password"), cp.PASSWORD)
    shot(wizard, "checkpoint-2-administrator")
    assert next_enabled(wizard)
    wizard.next()

    page = as_a(SpecFormPage, wizard.currentPage())
    page.editors["tls_ca"].set_value(test_ca.cert_pem)
    shot(wizard, "checkpoint-3-certificate")
    wizard.next()

    result = check_on_closing_page(qtbot, wizard)
    assert result.category is Category.OK, result.message
    assert "The network group 'XDR_Blocked' exists (1 member)." in result.message
    assert mgmt.open_sessions == 0 and mgmt.logins == mgmt.logouts == 1
    assert ws.tenant("Acme").integrations == {}  # checked, nothing saved yet
    shot(wizard, "checkpoint-4-checked")
    wizard.next()
    with qtbot.waitSignal(wizard.applied, timeout=10000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    wait_idle(qtbot, window)
    state = ws.tenant("Acme").integrations["checkpoint"]
    assert state.settings["auth"] == "password" and state.settings["block_group"] == "XDR_Blocked"
    assert ws.secret(ws.tenant("Acme"), "checkpoint", "password") == cp.PASSWORD


def test_the_link_adds_the_custom_integration_to_the_wizard(window, qtbot, ws):
    wizard = open_wizard(window, qtbot, "sophos")
    page = as_a(SpecFormPage, wizard.currentPage())
    link = some(page.related)
    assert not wizard.opening.boxes["custom"].isChecked()
    link.linkActivated.emit("integration:custom")
    assert wizard.opening.boxes["custom"].isChecked()
    assert "Custom integration: its pages follow those of Sophos Firewall in this wizard." in link.text()
    assert wizard.chosen() == ["sophos", "custom"]
    assert wizard.kind_pages["custom"][0] in wizard.sequence()


# ---- Sophos ---------------------------------------------------------------------------------------------
def test_sophos_page_and_check_from_the_wizard(window, qtbot, ws, server_cert, test_ca):
    with sophos.SophosPeer(server_cert, groups={"XDR_Blocked": []}) as fw:
        wizard = open_wizard(window, qtbot, "sophos")
        page = as_a(SpecFormPage, wizard.currentPage())
        assert "IP host group they fill" in page.subTitle()
        port_help = page.reasons["port"].text()
        assert "System → Backup & firmware → API (since SFOS 22: in the Administration menu)" in port_help
        assert line(page, "port").text() == "4444"
        type_into(qtbot, line(page, "host"), "127.0.0.1")
        type_into(qtbot, line(page, "port"), str(fw.port))
        type_into(qtbot, line(page, "username"), sophos.USER)
        qtbot.keyClicks(secret(page, "password"), sophos.PASSWORD)
        type_into(qtbot, line(page, "block_group"), "XDR_Blocked")
        shot(wizard, "sophos-1-api")
        wizard.next()
        as_a(SpecFormPage, wizard.currentPage()).editors["tls_ca"].set_value(test_ca.cert_pem)
        wizard.next()
        fw.set_allowed_clients(["127.0.0.5"])
        result = check_on_closing_page(qtbot, wizard)
        assert result.category is Category.FORBIDDEN and "code 534" in result.message
        closing = as_a(IntegrationClosingPage, wizard.currentPage())
        assert "Access denied" in closing.check_box.outcome.text()
        shot(wizard, "sophos-2-not-allowed")
        fw.set_allowed_clients(["127.0.0.1"])
        result = check_on_closing_page(qtbot, wizard)
        assert result.category is Category.OK, result.message
        assert fw.reqxml_in_url == []
        shot(wizard, "sophos-3-checked")


# ---- Continent 4 / SKDPU NT: ok, but not verified ---------------------------------------------------
@pytest.mark.parametrize("kind", ["continent", "skdpu"])
def test_unverified_check_in_the_wizard_has_its_own_mark(window, qtbot, ws, server_cert, test_ca, kind):
    with TlsPeer(server_cert) as peer:
        wizard = open_wizard(window, qtbot, kind)
        page = as_a(SpecFormPage, wizard.currentPage())
        assert "only: not the account" in page.subTitle()
        type_into(qtbot, line(page, "host"), "localhost")
        type_into(qtbot, line(page, "port"), str(peer.port))
        type_into(qtbot, line(page, "username"), "xdr-scripts")
        qtbot.keyClicks(secret(page, "password"), "never-sent-1")
        shot(wizard, f"{kind}-1-server")
        wizard.next()
        as_a(SpecFormPage, wizard.currentPage()).editors["tls_ca"].set_value(test_ca.cert_pem)
        wizard.next()
        result = check_on_closing_page(qtbot, wizard)
        assert result.category is Category.OK and not result.verified
        outcome = as_a(IntegrationClosingPage, wizard.currentPage()).check_box.outcome.text()
        assert f"<span style='color:{UNVERIFIED}'><b>Reachable, not verified</b></span>" in outcome
        assert COLOURS["ok"] not in outcome
        shot(wizard, f"{kind}-2-unverified")
    assert peer.received == b""


def record(ws: Workspace, tenant: str, kind: str, outcome: Outcome) -> None:
    ws.record_results({(ws.tenant(tenant).id, kind): [outcome.to_dict()]})


def configure(ws: Workspace, tenant: str, kind: str, port: int, ca: TestCA, **values: str) -> None:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {"host": "localhost", "port": str(port), "username": "xdr", "tls_ca": ca.cert_pem, **values}
    secrets: dict[str, str | None] = {"password": "pw-never-sent"}
    ws.update_integration(tenant, IntegrationEdit(kind, values=settings, secrets=secrets, enabled=True))


def saved(ws: Workspace, tenant: str, kind: str) -> bool:
    return bool(ws.tenant(tenant).integrations[kind].results)


def test_main_window_shows_unverified_apart(window, qtbot, ws, server_cert, test_ca):
    """Check tenant: Continent 4 reachable (not verified) and SKDPU NT down; the table, the tree,
    the details and the dialog each show the unverified result with its own mark."""
    from support.https_peer import closed_port

    with TlsPeer(server_cert) as peer:
        configure(ws, "Acme", "continent", peer.port, test_ca)
        configure(ws, "Acme", "skdpu", closed_port(), test_ca)
        configure(ws, "Globex", "continent", peer.port, test_ca)
        window.refresh()
        window.select_tenant(ws.tenant("Acme").id)
        window.act_check_tenant.trigger()
        dialog = as_a(CheckAllDialog, window.check_dialog)
        qtbot.waitUntil(lambda: not dialog.running and saved(ws, "Acme", "continent"), timeout=30000)
        model = dialog.model
        rows = {r.integration: i for i, r in enumerate(model.results)}
        cell = model.index(rows["continent"], 3)
        assert model.data(cell) == "Reachable, not verified"
        assert model.data(cell, Qt.ItemDataRole.ForegroundRole).color().name() == UNVERIFIED
        icon = model.data(cell, Qt.ItemDataRole.DecorationRole)
        assert icon.cacheKey() == mark_icon("unverified").cacheKey() != mark_icon("ok").cacheKey()
        assert model.data(model.index(rows["skdpu"], 3)) == "Unreachable"
        dialog.table.selectRow(dialog.sorted.mapFromSource(cell).row())
        shot(dialog, "check-tenant-unverified")
        dialog.close()
        # Globex: only the reachable one; its tree mark is the unverified one.
        window.select_tenant(ws.tenant("Globex").id)
        window.act_check_tenant.trigger()
        second = as_a(CheckAllDialog, window.check_dialog)
        qtbot.waitUntil(lambda: not second.running and saved(ws, "Globex", "continent"), timeout=30000)
        second.close()
    wait_idle(qtbot, window)
    tree = window.tree_model
    assert tree.data(tree.index_of(ws.tenant("Globex").id), TenantTreeModel.MARK_ROLE) == "unverified"
    assert tree.data(tree.index_of(ws.tenant("Acme").id), TenantTreeModel.MARK_ROLE) == "error"
    tip = tree.data(tree.index_of(ws.tenant("Globex").id), Qt.ItemDataRole.ToolTipRole)
    assert "credentials were not verified" in tip

    window.select_tenant(ws.tenant("Acme").id)
    window.select_integration("continent")
    table = window.table_model
    row = table.row_of("continent")
    assert some(table.data(table.index(row, 3))).startswith("Reachable, not verified · ")
    assert table.data(table.index(row, 3), Qt.ItemDataRole.ForegroundRole).color().name() == UNVERIFIED
    assert table.data(table.index(row, 0), Qt.ItemDataRole.DecorationRole).cacheKey() == (
        mark_icon("unverified").cacheKey()
    )
    details = window.details.toHtml()
    assert "Reachable, not verified" in window.details.toPlainText()
    assert "NOT checked" in window.details.toPlainText()
    assert 'href="integration:custom"' in details
    shot(window, "main-window-unverified")
    window.details.anchorClicked.emit(QUrl("integration:custom"))  # sets it up
    wizard = as_a(TenantWizard, window.wizard)
    assert wizard.chosen() == ["custom"] and wizard.startId() == wizard.kind_pages["custom"][0]
    wizard.reject()


def test_pages_render_in_russian(window, qtbot, ws, test_ca, russian):
    """The generated pages in Russian: titles, labels, help, the login choice, the link; each
    page of each integration is shown (the settings stored first, so Next goes on)."""
    ws.add_tenant("Acme")
    for kind, values, secret_name in [
        ("checkpoint", {"auth": "api_key", "block_group": "XDR_Blocked"}, "api_key"),
        ("sophos", {"username": "xdr-api", "block_group": "XDR_Blocked"}, "password"),
        ("continent", {"username": "xdr-scripts"}, "password"),
        ("skdpu", {"username": "xdr-scripts"}, "password"),
    ]:
        settings = {"host": f"{kind}.acme.invalid", "port": "8443", "tls_ca": test_ca.cert_pem, **values}
        ws.update_integration("Acme", IntegrationEdit(kind, values=settings, secrets={secret_name: "s-1234"}))
    titles = {
        "checkpoint": "Check Point — сервер управления",
        "sophos": "Sophos Firewall — XML API",
        "continent": "Континент 4 — сервер и учетная запись",
        "skdpu": "СКДПУ НТ — сервер и учетная запись",
    }
    for kind, title in titles.items():
        wizard = open_wizard(window, qtbot, kind)
        page = as_a(SpecFormPage, wizard.currentPage())
        assert page.title() == title
        link = some(page.related)
        assert "скрипт" in link.text() and "integration:custom" in link.text()
        n = 0
        while isinstance(wizard.currentPage(), SpecFormPage):
            page = as_a(SpecFormPage, wizard.currentPage())
            labels = [
                w.text() for w in page.findChildren(QLabel) if w.buddy() is not None and w.isVisibleTo(page)
            ]
            assert labels and not any(
                t.startswith(("Host", "Port", "User", "Password", "CA")) for t in labels
            )
            n += 1
            shot(wizard, f"{kind}-ru-{n}")
            if n == 1:  # the smallest the wizard gets: nothing may be cut off
                size = wizard.size()
                wizard.resize(*MIN_WIZARD_SIZE)
                qtbot.wait(20)
                shot(wizard, f"{kind}-ru-{n}-min")
                wizard.resize(size)
            assert next_enabled(wizard), page.problems()
            wizard.next()
        assert n == len(catalog.spec_for(kind).pages)
        wizard.reject()
        qtbot.waitUntil(lambda: window.wizard is None, timeout=5000)
    spec = catalog.spec_for("checkpoint")
    assert str(spec.field("auth").choices[1][1]) == "Имя пользователя и пароль"


def test_an_unverified_result_in_russian(window, qtbot, ws, server_cert, test_ca, russian):
    with TlsPeer(server_cert) as peer:
        configure(ws, "Acme", "continent", peer.port, test_ca)
        wizard = open_wizard(window, qtbot, "continent")
        wizard.next()
        wizard.next()
        result = check_on_closing_page(qtbot, wizard)
        assert result.category is Category.OK and not result.verified
        outcome = as_a(IntegrationClosingPage, wizard.currentPage()).check_box.outcome.text()
        assert "Доступен, вход не проверен" in outcome and "НЕ проверены" in outcome
        shot(wizard, "continent-ru-checked")
        wizard.reject()
        qtbot.waitUntil(lambda: window.wizard is None, timeout=5000)
        record(ws, "Acme", "continent", result)
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.select_integration("continent")
    table = window.table_model
    assert some(table.data(table.index(table.row_of("continent"), 3))).startswith(
        "Доступен, вход не проверен"
    )
    assert "хосте запуска скриптов" in window.details.toPlainText()
    shot(window, "main-window-ru-unverified")


# ---- the Operations tab ---------------------------------------------------------------------------
FIREWALLS = ("usergate", "ideco-ngfw", "ideco-utm", "checkpoint", "sophos", "continent", "skdpu")


def test_the_firewalls_have_their_check_only_so_no_operations_tab(window, ws, test_ca):
    """Every operation beyond a check runs from the Operations tab; the seven firewalls have
    their (read-only) check only, which the Check button runs, so the window offers no tab
    with nothing in it, configured or not."""
    from test_gui_operations import tab_texts
    from test_gui_sweep import CONFIGURED

    ws.add_tenant("Acme")
    for kind in FIREWALLS:
        spec = catalog.spec_for(kind)
        assert [op.is_check for op in spec.operations] == [True], kind
        CONFIGURED[kind](ws, "Acme", test_ca)
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    for kind in FIREWALLS:
        window.select_integration(kind)
        assert some(window.current_row()).kind == kind
        assert "Operations" not in tab_texts(window), kind
        assert not window.act_operations.isEnabled(), kind
        assert window.act_check.isEnabled(), kind
