"""UserGate and Ideco in the window: the wizard's generated pages driven by typing into the real
widgets, the link to the tenant's custom integration (the script-launch host), the check
against the real peers with its result (warnings included), the main window's details and
their link, each rendered in English and in Russian. With XDRCONF_SCREENSHOTS=DIR the
renderings are saved there to be looked at (never committed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QLabel, QWidget, QWizard
from pytestqt.qtbot import QtBot

from support import ideco_peer as ideco
from support import usergate_peer as ug
from support.gui import as_a, wait_idle
from xdrconf.core.fields import format_fingerprint
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.wizard import IntegrationClosingPage, RelatedBox, SpecFormPage, TenantWizard


@pytest.fixture(params=["en", "ru"])
def lang(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[str]:
    """The language the window is built in (the suite's conftest sets English back after)."""
    from xdrconf.qt.app import apply_language

    monkeypatch.setenv("XDRCONF_LANG", request.param)
    apply_language()
    yield str(request.param)


def shot(widget: QWidget, name: str, lang: str) -> None:
    image = widget.grab()
    assert not image.isNull() and image.width() > 0
    folder = os.environ.get("XDRCONF_SCREENSHOTS")
    if folder:
        image.save(os.path.join(folder, f"{name}_{lang}.png"))


def open_setup(window: MainWindow, ws: Workspace, kind: str, tenant: str = "Acme") -> TenantWizard:
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    window.refresh()
    window.select_tenant(ws.tenant(tenant).id)
    window.act_setup.trigger()
    wizard = as_a(TenantWizard, window.wizard)
    wizard.opening.boxes[kind].setChecked(True)
    wizard.next()
    return wizard


def type_in(qtbot: QtBot, page: SpecFormPage, name: str, text: str) -> None:
    edit = page.editors[name].edit  # type: ignore[attr-defined]
    edit.clear()
    qtbot.keyClicks(edit, text)


def run_check(qtbot: QtBot, closing: IntegrationClosingPage) -> Any:
    box = closing.check_box
    with qtbot.waitSignal(box.checked, timeout=30000) as blocker:
        box.button.click()
    [result] = blocker.args[0]
    return result


def test_usergate_wizard_check_and_the_script_host(
    window: MainWindow, qtbot: QtBot, ws: Workspace, lang: str
) -> None:
    with ug.UserGatePeer(ip_lists={"XDR block": []}) as peer:
        wizard = open_setup(window, ws, "usergate")
        wizard.resize(760, 600)
        page = as_a(SpecFormPage, wizard.currentPage())
        related = as_a(RelatedBox, page.related)
        assert "integration:custom" in related.text()
        if lang == "en":
            assert page.title() == "UserGate — management API"
            assert "script-launch host" in as_a(QLabel, page.about).text()
            assert "Custom integration" in related.text() and "not configured" in related.text()
        else:
            assert page.title() == "UserGate — API управления"
            assert "хосте запуска скриптов" in as_a(QLabel, page.about).text()
            assert "не настроена" in related.text()
        assert page.editors["port"].value() == "4040"
        type_in(qtbot, page, "host", "127.0.0.1")
        type_in(qtbot, page, "port", str(peer.port))
        type_in(qtbot, page, "block_list", "XDR block")
        shot(wizard, "usergate_api", lang)

        # The link adds the custom integration to this wizard, its pages after UserGate's.
        related.linkActivated.emit("integration:custom")
        assert wizard.chosen() == ["usergate", "custom"]
        assert wizard.opening.boxes["custom"].isChecked()
        wizard.next()
        account = as_a(SpecFormPage, wizard.currentPage())
        type_in(qtbot, account, "username", ug.USER)
        type_in(qtbot, account, "password", ug.PASSWORD)
        shot(wizard, "usergate_account", lang)
        wizard.next()
        closing = as_a(IntegrationClosingPage, wizard.currentPage())
        result = run_check(qtbot, closing)
        assert result.category.value == "ok", result.message
        text = closing.check_box.outcome.text()
        assert "XDR block" in text and "⚠" in text
        assert ug.PASSWORD not in text
        if lang == "en":
            assert "OK, with warnings" in text and "in clear" in text
        else:
            assert "в открытом виде" in text
        shot(wizard, "usergate_checked", lang)
        assert peer.open_sessions == 0 and peer.logouts == 1
        wizard.next()
        assert wizard.currentId() == wizard.kind_pages["custom"][0]  # the script-launch host next
        wizard.reject()


@pytest.mark.parametrize("kind", ["ideco-ngfw", "ideco-utm"])
def test_ideco_wizard_pins_the_self_signed_certificate(
    window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: Any, lang: str, kind: str
) -> None:
    cert = test_ca.issue(("ideco.acme.invalid",), self_signed=True)
    variant = "utm" if kind == "ideco-utm" else "ngfw"
    with ideco.IdecoPeer(cert, variant=variant) as box:  # type: ignore[arg-type]
        wizard = open_setup(window, ws, kind)
        wizard.resize(760, 600)
        page = as_a(SpecFormPage, wizard.currentPage())
        assert page.editors["port"].value() == "8443"
        type_in(qtbot, page, "host", "127.0.0.1")
        type_in(qtbot, page, "port", str(box.port))
        shot(wizard, f"{kind}_api", lang)
        wizard.next()
        account = as_a(SpecFormPage, wizard.currentPage())
        type_in(qtbot, account, "username", ideco.USER)
        type_in(qtbot, account, "password", ideco.PASSWORD)
        wizard.next()
        trust = as_a(SpecFormPage, wizard.currentPage())
        fetch = trust.fetch_box
        fetch.button.click()
        qtbot.waitUntil(lambda: fetch.info is not None, timeout=10000)
        assert box.requests == []  # a handshake only
        fetch.pin_button.click()
        assert trust.editors["tls_pin_sha256"].value() == format_fingerprint(cert.sha256)
        shot(wizard, f"{kind}_certificate", lang)
        wizard.next()
        closing = as_a(IntegrationClosingPage, wizard.currentPage())
        result = run_check(qtbot, closing)
        assert result.category.value == "ok", result.message
        assert "/web/auth/login" in closing.check_box.outcome.text()
        shot(wizard, f"{kind}_checked", lang)
        assert box.open_sessions == 0 and box.logouts == 1
        assert [r.path for r in box.requests] == ["/web/auth/login", "/firewall/status", "/web/auth/login"]

        # A wrong password: its own words, and still no session left.
        wizard.back()
        wizard.back()
        type_in(qtbot, as_a(SpecFormPage, wizard.currentPage()), "password", "not-it")
        wizard.next()
        wizard.next()
        result = run_check(qtbot, as_a(IntegrationClosingPage, wizard.currentPage()))
        assert result.category.value == "auth_failed"
        shot(wizard, f"{kind}_refused", lang)
        assert box.open_sessions == 0
        with qtbot.waitSignal(wizard.finished, timeout=5000):
            wizard.done(QWizard.DialogCode.Rejected)


def test_details_link_to_the_custom_integration(
    window: MainWindow, qtbot: QtBot, ws: Workspace, lang: str
) -> None:
    with ug.UserGatePeer() as peer:
        ws.add_tenant("Acme")
        values = {"host": "127.0.0.1", "port": str(peer.port), "username": ug.USER}
        ws.update_integration(
            "Acme",
            IntegrationEdit("usergate", values=values, secrets={"password": ug.PASSWORD}, enabled=True),
        )
        tid = ws.tenant("Acme").id
        window.refresh()
        window.select_tenant(tid)
        window.select_integration("usergate")
        window.act_check.trigger()
        qtbot.waitUntil(lambda: bool(ws.tree.get(tid).integrations["usergate"].results), timeout=15000)
        wait_idle(qtbot, window)
        assert peer.open_sessions == 0
        details = window.details.toHtml()
        assert "integration:custom" in details and "⚠" in window.details.toPlainText()
        model = window.table_model
        cell = model.data(model.index(model.row_of("usergate"), 3))
        if lang == "en":
            assert cell.startswith("OK, with warnings · ")
            assert "This tenant's Custom integration: not configured." in (window.details.toPlainText())
        assert window.current_row().level == "warning"
        window.resize(1100, 720)
        shot(window, "usergate_details", lang)
        window.details.anchorClicked.emit(QUrl("integration:custom"))
        wizard = as_a(TenantWizard, window.wizard)
        assert wizard.chosen() == ["custom"] and wizard.startId() == wizard.kind_pages["custom"][0]
        wizard.reject()
