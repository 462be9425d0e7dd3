"""The demo plugin (tests/plugins/xdrconf_demo) end to end in the window, run by
tests/test_plugin_integration.py in a Python that has the plugin installed (this folder on
its path, as an installed wheel puts the package and its .dist-info): not collected by the
suite itself.

Nothing of the demo is in xdrconf: no module of qt/ or cli/ names it, no catalog line; the
wizard's pages, the check, the Operations tab and the command line come from its SPEC."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from support.gui import as_a, some, type_into, wait_idle
from support.https_peer import HttpsPeer, Reply, Request
from support.pki import TestCA
from xdrconf.core import catalog
from xdrconf.core.workspace import Workspace
from xdrconf.qt import integrations
from xdrconf.qt.editors import LineEditor, SecretEditor
from xdrconf.qt.main_window import MainWindow
from xdrconf.qt.operations import OperationsPanel
from xdrconf.qt.wizard import IntegrationClosingPage, SpecFormPage, TenantWizard

KEY = "demo-api-key-5d1e0c"


class DemoApi:
    def __call__(self, req: Request) -> Reply:
        if req.header("X-Token") != KEY:
            return Reply(403, {"error": "bad key"})
        if req.path == "/api/whoami":
            return Reply(200, {"name": "analyst"})
        if req.path == "/api/projects":
            return Reply(200, [{"id": 1, "name": "SOC"}, {"id": 2, "name": "Forensics"}])
        return Reply(404, {"error": "no such path"})


@pytest.fixture
def demo(server_cert: Any) -> Iterator[HttpsPeer]:
    with HttpsPeer(DemoApi(), cert=server_cert) as peer:
        yield peer


def next_page(qtbot: QtBot, wizard: TenantWizard) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    assert button.isEnabled(), wizard.currentPage().title()
    button.click()


def test_the_plugin_in_the_window(
    window: MainWindow, qtbot: QtBot, ws: Workspace, demo: HttpsPeer, test_ca: TestCA
) -> None:
    # Found through its entry point, after the built-in ones; nothing bespoke anywhere.
    assert catalog.KINDS[-1] == "demo" and catalog.spec_for("demo").title == "Demo tracker"
    entry = catalog.entry("demo")
    assert entry.qt is None and entry.cli == () and entry.module == "xdrconf_demo"
    assert integrations.ui_module("demo") is None

    ws.add_tenant("Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.act_setup.trigger()
    wizard = as_a(TenantWizard, window.wizard)
    wizard.opening.boxes["demo"].setChecked(True)
    next_page(qtbot, wizard)
    # The pages the spec names, generated.
    page = as_a(SpecFormPage, wizard.currentPage())
    assert page.title() == "Demo tracker" and list(page.editors) == ["url", "token"]
    type_into(as_a(LineEditor, page.editors["url"]).edit, f"https://127.0.0.1:{demo.port}")
    type_into(as_a(SecretEditor, page.editors["token"]).edit, KEY)
    next_page(qtbot, wizard)
    page = as_a(SpecFormPage, wizard.currentPage())
    assert "tls_ca" in page.editors
    page.editors["tls_ca"].set_value(test_ca.cert_pem)
    next_page(qtbot, wizard)
    closing = as_a(IntegrationClosingPage, wizard.currentPage())
    # The check of the draft (nothing saved yet), from the spec's check operation.
    with qtbot.waitSignal(closing.check_box.checked, timeout=20000) as checked:
        closing.check_box.button.click()
    [result] = checked.args[0]
    assert result.ok and result.message == "Connected as 'analyst'."
    next_page(qtbot, wizard)
    with qtbot.waitSignal(wizard.applied, timeout=20000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    wait_idle(qtbot, window)
    state = ws.tenant("Acme").integrations["demo"]
    assert state.enabled and state.configured and "token" in state.secrets

    # Check (the window's action) keeps the result; the Operations tab lists the projects.
    window.select_integration("demo")
    window.act_check.trigger()
    qtbot.waitUntil(lambda: bool(ws.tenant("Acme").integrations["demo"].results), timeout=20000)
    wait_idle(qtbot, window)
    assert ws.tenant("Acme").integrations["demo"].results[0]["category"] == "ok"
    window.act_operations.trigger()
    panel = as_a(OperationsPanel, window.operations)
    assert panel.operation.name == "projects"
    with qtbot.waitSignal(panel.ran, timeout=20000):
        panel.run_button.click()
    assert panel.rows_model.headers == ["ID", "Name"]
    assert panel.rows_model.cells == [["1", "SOC"], ["2", "Forensics"]]
    assert KEY not in some(panel.json_view).toPlainText()


def test_the_plugin_on_the_command_line(
    cli: Any, capsys: Any, demo: HttpsPeer, test_ca: TestCA, tmp_path: Any
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "integration",
        "set",
        "Acme",
        "demo",
        f"url=https://127.0.0.1:{demo.port}",
        f"tls_ca=@{ca}",
        "--secret",
        "token",
        stdin=KEY + "\n",
    )
    assert r.code == 0, r
    from xdrconf.cli.main import run

    with pytest.raises(SystemExit) as done:
        run(["demo", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert done.value.code == 0
    assert "List projects: The projects the API key can see." in help_text
    assert "xdrconf demo projects TENANT" in help_text
    r = cli("demo", "projects", "Acme")
    assert r.code == 0 and "SOC" in r.out and "Forensics" in r.out, r
