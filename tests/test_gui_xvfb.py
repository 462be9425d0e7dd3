"""The window on a real X server (Xvfb, the xcb platform): shown, exposed, painted, driven
with real key events, and captured from the screen. packaging/run-tests.sh runs these in
a second pytest process under xvfb-run with QT_QPA_PLATFORM=xcb."""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWizard

from support.gui import wait_idle
from support.kuma_peer import GOOD_TOKEN, configure

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"),
        reason="needs an X server (run under xvfb-run with QT_QPA_PLATFORM=xcb)",
    ),
]


def screen_shot(path) -> QImage:
    pixmap = QApplication.primaryScreen().grabWindow(0)
    assert pixmap.save(str(path))
    return QImage(str(path))


def distinct_colours(image: QImage, rect) -> int:
    seen = set()
    for x in range(rect.left(), rect.right(), 7):
        for y in range(rect.top(), rect.bottom(), 7):
            seen.add(image.pixel(x, y))
    return len(seen)


def test_main_window_on_screen(window, qtbot, ws, kuma, test_ca, tmp_path):
    tid = configure(ws, kuma.port, tenant="Acme", token=GOOD_TOKEN, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(tid)
    window.select_integration("kuma")
    window.move(0, 0)
    qtbot.waitExposed(window)
    window.act_check.trigger()
    qtbot.waitUntil(lambda: bool(ws.tree.get(tid).integrations["kuma"].results), timeout=15000)
    wait_idle(qtbot, window)
    qtbot.wait(100)
    image = screen_shot(tmp_path / "screen.png")
    assert image.width() >= window.width() and image.height() >= window.height()
    frame = window.frameGeometry()
    assert distinct_colours(image, frame.intersected(image.rect())) > 10  # painted, not blank
    model = window.table_model
    assert model.data(model.index(model.row_of("kuma"), 3)).startswith("OK · ")


def test_wizard_with_real_key_events(window, qtbot, ws, tmp_path):
    ws.add_tenant("Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    window.act_setup.trigger()
    wizard = window.wizard
    qtbot.waitExposed(wizard)
    wizard.currentPage().boxes["kuma"].setChecked(True)
    wizard.next()
    page = wizard.currentPage()
    host = page.editors["host"].edit
    host.setFocus()
    qtbot.keyClicks(host, "kuma.example.invalid")
    port = page.editors["port"].edit
    port.selectAll()
    qtbot.keyClicks(port, "70000")
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "out of range" in page.reasons["port"].text()
    qtbot.wait(50)
    image = screen_shot(tmp_path / "wizard.png")
    assert distinct_colours(image, wizard.frameGeometry().intersected(image.rect())) > 5
    wizard.reject()
