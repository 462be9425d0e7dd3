"""The window on a real X server (Xvfb, the xcb platform): shown, exposed, painted, driven
with real key events, and captured from the screen. packaging/run-tests.sh runs these in
a second pytest process under xvfb-run with QT_QPA_PLATFORM=xcb."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWizard

from support.gui import wait_idle
from support.kuma_peer import GOOD_TOKEN, configure, configure_fast_and_slow

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


def test_check_all_filled_step_by_step_shows_what_a_whole_repaint_shows(
    window, qtbot, ws, kuma, test_ca, tmp_path
):
    """Check all fills its table a few rows at a time and each step paints only its new
    rows: on the X server's screen the table then looks exactly as a whole repaint of it
    makes it look (no row left blank, cut or painted twice)."""
    configure_fast_and_slow(ws, kuma, test_ca.cert_pem, "S", slow_delay=2.0)
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    window.move(0, 0)
    dialog = window.check_subtree()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 20, timeout=20000)
    assert dialog.running and dialog.table.partial_layouts > 0
    qtbot.wait(300)  # the last paint reaches the screen; the slow ones are still running
    viewport = dialog.table.viewport()
    where = QRect(viewport.mapToGlobal(QPoint(0, 0)), viewport.size())
    on_screen = (
        screen_shot(tmp_path / "check-all.png").copy(where).convertToFormat(QImage.Format.Format_RGB32)
    )
    repainted = viewport.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert on_screen.size() == repainted.size()
    assert distinct_colours(repainted, repainted.rect()) > 5  # rows with text and marks
    assert on_screen == repainted
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    dialog.close()


def test_the_tree_shows_the_marks_of_a_finished_check_all(window, qtbot, ws, kuma, test_ca, tmp_path):
    """After Check all the tree repaints only the rows whose marks changed (no new layout of
    the whole tree): on the X server's screen it then looks exactly as a whole repaint of it,
    the failed tenant and the tenant above it marked."""
    for name in ("Alpha", "Bravo", "Charlie"):
        configure(ws, kuma.port, tenant=name, ca=test_ca.cert_pem)
    ws.add_tenant("Depot", "Bravo")
    configure(ws, kuma.port, tenant="Depot", token="wrong-token", ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    window.move(0, 0)
    qtbot.waitExposed(window)
    view = window.tree_view
    view.collapse(window.tree_model.index_of(ws.tenant("Bravo").id))
    qtbot.wait(100)
    before = view.viewport().grab().toImage()
    dialog = window.check_subtree()
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    dialog.close()
    wait_idle(qtbot, window)
    qtbot.wait(300)  # the last paint reaches the screen
    viewport = view.viewport()
    where = QRect(viewport.mapToGlobal(QPoint(0, 0)), viewport.size())
    on_screen = screen_shot(tmp_path / "tree.png").copy(where).convertToFormat(QImage.Format.Format_RGB32)
    repainted = viewport.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert repainted != before.convertToFormat(QImage.Format.Format_RGB32)  # the marks are new
    assert on_screen == repainted
