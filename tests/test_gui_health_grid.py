"""The health grid (View → Health grid) in the real window: the stored results as cells
(words and glyphs, colours from core.health), the counts per column, the name and level
filters, a click or Enter opening a cell's result, Check what is shown against the test
KUMA peer, the CSV export through the real save dialog, a read-only window, Russian."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from support.gui import (
    expect_dialog,
    open_window,
    pick_file,
    reject,
    select_data,
    some,
    wait_idle,
)
from support.kuma_peer import GOOD_TOKEN, configure
from support.pki import TestCA
from xdrconf.core import health
from xdrconf.core.i18n import set_language
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.workspace import Workspace
from xdrconf.qt.health_grid import HealthGrid, ResultDialog, tint
from xdrconf.qt.main_window import MainWindow

KUMA_TITLE = "KUMA REST API"
OFF = "\u2013 off"  # the glyph is an en dash


def stored(category: Category, message: str, **kw: Any) -> list[dict[str, Any]]:
    return [Outcome(category, message, "127.0.0.1:7223", 12.0, **kw).to_dict()]


def prepare(ws: Workspace, port: int, ca: str) -> dict[str, str]:
    """Six tenants whose KUMA integration is at each level (stored results), one not set up."""
    ids = {}
    for name in ("Acme", "Globex", "Initech", "Hooli", "Umbrella", "Vandelay"):
        ids[name] = configure(ws, port, tenant=name, token=GOOD_TOKEN, ca=ca)
    ws.add_tenant("Stark")  # no KUMA: off
    ids["Stark"] = ws.tenant("Stark").id
    ws.set_enabled(ids["Umbrella"], "kuma", False)  # configured, turned off
    ws.record_results(
        {
            (ids["Acme"], "kuma"): stored(Category.OK, "Connected as soar."),
            (ids["Globex"], "kuma"): stored(Category.AUTH_FAILED, "KUMA refused the token (403)."),
            (ids["Hooli"], "kuma"): stored(Category.OK, "Connected.", warnings=["Rights not confirmed."]),
            (ids["Vandelay"], "kuma"): stored(Category.OK, "Reachable.", verified=False),
        }
    )
    return ids  # Initech: turned on, never checked


def grid_of(window: MainWindow) -> HealthGrid:
    """View → Health grid, as a person chooses it."""
    view_menu = window.view_menu
    assert window.act_grid in view_menu.actions()
    window.act_grid.trigger()
    grid: HealthGrid = some(window.grid)
    assert window.grid_shown and grid.isVisible() and window.act_grid.isChecked()
    return grid


def running(grid: HealthGrid) -> bool:
    return grid.running


def column(grid: HealthGrid, kind: str) -> int:
    return grid.model.kinds.index(kind) + 1


def cells(grid: HealthGrid, kind: str = "kuma") -> dict[str, str]:
    """Tenant (as shown) -> the cell's text, for the rows shown."""
    m, col = grid.model, column(grid, kind)
    return {m.data(m.index(r, 0)): m.data(m.index(r, col)) for r in range(m.rowCount())}


def header(grid: HealthGrid, kind: str = "kuma", role: Any = Qt.ItemDataRole.DisplayRole) -> str:
    return str(grid.model.headerData(column(grid, kind), Qt.Orientation.Horizontal, role))


def index_of(grid: HealthGrid, tenant_id: str, kind: str = "kuma") -> QModelIndex:
    index = grid.model.index_of(tenant_id, kind)
    assert index.isValid()
    return index


def click(qtbot: QtBot, grid: HealthGrid, index: QModelIndex) -> None:
    grid.view.scrollTo(index)
    rect = grid.view.visualRect(index)
    qtbot.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_grid_shows_the_stored_results_with_counts(
    window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: TestCA
) -> None:
    prepare(ws, 7223, test_ca.cert_pem)
    window.refresh()
    grid = grid_of(window)
    assert cells(grid) == {
        "Root tenant": OFF,
        "Acme": "✓ OK",
        "Globex": "✗ failed",
        "Initech": "? not checked",
        "Hooli": "! warning",
        "Umbrella": OFF,
        "Vandelay": "◐ not verified",
        "Stark": OFF,
    }  # the Shared tenant has no integrations: no row
    assert grid.model.kinds == [k for k in health.grid_kinds()] and "kuma" in grid.model.kinds
    m, col = grid.model, column(grid, "kuma")
    globex = m.index(list(cells(grid)).index("Globex"), col)
    # The colour says it too (never alone): text in the level's colour, a tint behind it.
    assert m.data(globex, Qt.ItemDataRole.BackgroundRole).color() == tint(health.LOOKS["error"].colour)
    assert m.data(globex, m.LEVEL_ROLE) == "error"
    tip = m.data(globex, Qt.ItemDataRole.ToolTipRole)
    assert "Authentication failed" in tip and "KUMA refused the token (403)." in tip
    # Counts per column, in the header (glyphs) and its tooltip (words).
    head = header(grid)
    assert head.startswith(KUMA_TITLE + "\n")
    for glyph, n in (("✓", 1), ("✗", 1), ("?", 1), ("!", 1), ("◐", 1), ("\u2013", 3)):
        assert f"{glyph}\u2009{n}" in head, head
    tooltip = header(grid, role=Qt.ItemDataRole.ToolTipRole)
    assert "failed: 1 tenant" in tooltip and "off: 3 tenants" in tooltip
    assert grid.summary.text() == f"8 of 8 tenants shown · {8 * len(grid.model.kinds)} cells"
    # A tenant added (a change saved elsewhere in the window) appears.
    ws.add_tenant("Wayne")
    window.refresh()
    assert "Wayne" in cells(grid)
    # Back to the tenant view, as it was.
    window.act_grid.trigger()
    assert not window.grid_shown and window.tree_view.isVisible() and not window.act_grid.isChecked()


def test_the_name_and_level_filters(window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: TestCA) -> None:
    prepare(ws, 7223, test_ca.cert_pem)
    window.refresh()
    grid = grid_of(window)
    qtbot.keyClicks(grid.filter_edit, "GLO")
    assert list(cells(grid)) == ["Globex"]
    assert grid.summary.text() == f"1 of 8 tenants shown · {len(grid.model.kinds)} cells"
    assert "✗\u20091" in header(grid) and "✓" not in header(grid)
    grid.filter_edit.clear()
    select_data(grid.level_combo, "error")
    assert list(cells(grid)) == ["Globex"]
    select_data(grid.level_combo, "off")
    assert set(cells(grid)) == {
        "Root tenant",
        "Umbrella",
        "Stark",
        "Acme",
        "Globex",
        "Initech",
        "Hooli",
        "Vandelay",
    }
    # With a level, only that level's cells count as shown: a KUMA cell of another level is
    # greyed, untinted, and left out of the counts and of Check what is shown.
    m = grid.model
    acme = m.index(list(cells(grid)).index("Acme"), column(grid, "kuma"))
    assert m.data(acme, Qt.ItemDataRole.BackgroundRole) is None
    assert header(grid).endswith("\u2013\u20093")
    assert not window.act_grid_check.isEnabled()  # nothing turned on among the "off" cells
    assert "turned on" in window.act_grid_check.toolTip()
    select_data(grid.level_combo, "unchecked")
    assert list(cells(grid)) == ["Initech"]
    assert grid.model.checks() == [(ws.tenant("Initech").id, "kuma")]
    qtbot.keyClicks(grid.filter_edit, "nobody")
    assert cells(grid) == {} and not window.act_grid_export.isEnabled()
    assert grid.summary.text() == "0 of 8 tenants shown · 0 cells"


def test_a_click_or_enter_opens_the_result(
    window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: TestCA
) -> None:
    ids = prepare(ws, 7223, test_ca.cert_pem)
    window.refresh()
    grid = grid_of(window)
    index = index_of(grid, ids["Globex"])
    details: list[str] = []

    def read_and_close(d: Any) -> None:
        assert isinstance(d, ResultDialog)
        details.append(d.details.toPlainText())
        reject(d)

    with expect_dialog(qtbot, ResultDialog, read_and_close, name="gridResult") as seen:
        click(qtbot, grid, index)
    assert some(seen.seen).title == "Root tenant/Globex — KUMA REST API"
    assert "✗ failed" in seen.text
    assert "Authentication failed" in details[0] and "KUMA refused the token (403)." in details[0]
    # Enter on the current cell opens it too; its details are the window's own.
    grid.view.setCurrentIndex(index_of(grid, ids["Vandelay"]))
    assert window.act_grid_open.isEnabled()

    def read_and_go(d: Any) -> None:
        assert isinstance(d, ResultDialog)
        text = d.details.toPlainText()
        assert "KUMA REST API" in text and "Reachable." in text and "Turned on" in text
        assert "not verified" in d.level_label.text()
        d.go_button.click()

    with expect_dialog(qtbot, ResultDialog, read_and_go, name="gridResult"):
        qtbot.keyClick(grid.view, Qt.Key.Key_Return)
    # Show in the tenant view: that tenant and integration selected there.
    assert not window.grid_shown
    assert window.current_tenant_id() == ids["Vandelay"] and window.current_kind() == "kuma"
    assert "Reachable." in window.details.toPlainText()
    # The context menu's Open the result.
    grid = grid_of(window)
    grid.view.setCurrentIndex(index_of(grid, ids["Acme"]))
    with expect_dialog(
        qtbot, ResultDialog, reject, name="gridResult", title="Root tenant/Acme — KUMA REST API"
    ):
        window.act_grid_open.trigger()
    # A tenant's name is no cell: no result to open.
    grid.view.setCurrentIndex(grid.model.index(1, 0))
    assert not window.act_grid_open.isEnabled()


def test_check_what_is_shown_against_the_kuma_peer(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    acme = configure(ws, kuma.port, tenant="Acme", token=GOOD_TOKEN, ca=test_ca.cert_pem)
    globex = configure(ws, kuma.port, tenant="Globex", token="revoked-token", ca=test_ca.cert_pem)
    initech = configure(ws, kuma.port, tenant="Initech", token=GOOD_TOKEN, ca=test_ca.cert_pem, enabled=False)
    window.refresh()
    grid = grid_of(window)
    assert cells(grid) == {
        "Root tenant": OFF,
        "Acme": "? not checked",
        "Globex": "? not checked",
        "Initech": OFF,
    }
    # Only what is shown: the filter leaves Acme.
    qtbot.keyClicks(grid.filter_edit, "acme")
    seen: list[str] = []
    acme_index = index_of(grid, acme)
    grid.model.dataChanged.connect(
        lambda top, _bottom, _roles=(): (
            seen.append(grid.model.data(top))
            if top.row() == acme_index.row() and top.column() == acme_index.column()
            else None
        )
    )
    assert window.act_grid_check.isEnabled()
    window.act_grid_check.trigger()
    assert running(grid) and grid.cancel_button.isVisible() and not window.act_grid_check.isEnabled()
    wait_idle(qtbot, window, timeout=30000)
    assert not running(grid) and not grid.cancel_button.isVisible()
    assert seen[0] == "⟳ checking…" and seen[-1] == "✓ OK"  # the cell changed as the result came
    assert cells(grid) == {"Acme": "✓ OK"}
    assert ws.tenant("Acme").integrations["kuma"].results[0]["category"] == "ok"
    assert ws.tenant("Globex").integrations["kuma"].results == []  # not shown: not checked
    assert "1 of 1 integration checked, 0 not OK" in window.message_label.full_text()
    # Everything shown: the turned-off one is not checked.
    grid.filter_edit.clear()
    window.act_grid_check.trigger()
    wait_idle(qtbot, window, timeout=30000)
    assert cells(grid) == {"Root tenant": OFF, "Acme": "✓ OK", "Globex": "✗ failed", "Initech": OFF}
    assert ws.tenant("Globex").integrations["kuma"].results[0]["category"] == "auth_failed"
    assert ws.tenant("Initech").integrations["kuma"].results == []
    saved = json.loads(ws.file.path.read_text())
    assert "revoked-token" not in json.dumps(saved) and GOOD_TOKEN not in json.dumps(saved)
    # The tenant view shows the same (saved, then the window refreshed).
    window.act_grid.trigger()
    assert window.tree_model.data(window.tree_model.index_of(globex), window.tree_model.MARK_ROLE) == "error"
    assert initech in ws.tree


def test_cancel_keeps_what_was_known(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    """Cancel checks: the checks that did not end keep their stored result."""
    ids = [
        configure(ws, kuma.port, tenant=f"T{i:02d}", token=GOOD_TOKEN, ca=test_ca.cert_pem) for i in range(3)
    ]
    ws.record_results({(t, "kuma"): stored(Category.AUTH_FAILED, "Old result.") for t in ids})
    kuma.api.mode = "hang"  # the peer never answers
    window.refresh()
    grid = grid_of(window)
    window.act_grid_check.trigger()
    assert running(grid) and cells(grid)["T00"] == "⟳ checking…"
    grid.cancel_button.click()
    wait_idle(qtbot, window, timeout=30000)
    assert not running(grid)
    assert set(cells(grid).values()) == {OFF, "✗ failed"}
    for t in ids:
        assert ws.tenant(t).integrations["kuma"].results[0]["message"] == "Old result."
    assert "0 of 3 integrations checked" in window.message_label.full_text()


def test_export_as_csv_through_the_save_dialog(
    window: MainWindow, qtbot: QtBot, ws: Workspace, tmp_path: Path, test_ca: TestCA
) -> None:
    prepare(ws, 7223, test_ca.cert_pem)
    ws.add_tenant("=HYPERLINK(1)")  # a spreadsheet must not read it as a formula
    window.refresh()
    grid = grid_of(window)
    out = tmp_path / "health.csv"
    with expect_dialog(
        qtbot, QFileDialog, pick_file(out), name="saveFileDialog", title="Export the health grid"
    ):
        window.act_grid_export.trigger()
    wait_idle(qtbot, window)
    assert window.message_label.full_text() == f"Exported 9 tenants to {out}."
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: spreadsheets read it as such
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0][:2] == ["Tenant", KUMA_TITLE] and len(lines[0]) == len(grid.model.kinds) + 1
    rows = {line[0]: line for line in lines[1:]}
    assert len(rows) == 9 and all(len(line) == len(lines[0]) for line in lines)
    assert rows["Root tenant/Acme"][1] == "OK"
    assert rows["Root tenant/Globex"][1] == "failed"
    assert rows["Root tenant/Initech"][1] == "not checked"
    assert rows["Root tenant/Vandelay"][1] == "not verified"
    assert rows["Root tenant/Umbrella"][1] == "off"
    assert "'Root tenant/=HYPERLINK(1)" not in rows  # the path starts with the Root tenant
    assert GOOD_TOKEN not in raw.decode("utf-8-sig") and "127.0.0.1" not in raw.decode("utf-8-sig")
    # What is shown, only: the filter applies to the export.
    qtbot.keyClicks(grid.filter_edit, "glo")
    shown = tmp_path / "shown.csv"
    with expect_dialog(qtbot, QFileDialog, pick_file(shown), name="saveFileDialog"):
        window.act_grid_export.trigger()
    wait_idle(qtbot, window)
    lines = list(csv.reader(shown.read_text(encoding="utf-8-sig").splitlines()))
    assert [line[0] for line in lines[1:]] == ["Root tenant/Globex"]
    # Cancel writes nothing.
    shown.unlink()
    with expect_dialog(qtbot, QFileDialog, reject, name="saveFileDialog"):
        window.act_grid_export.trigger()
    wait_idle(qtbot, window)
    assert not shown.exists()


def test_csv_cells_that_look_like_formulas_are_quoted() -> None:
    from xdrconf.core.health import Cell, GridRow
    from xdrconf.core.status import IntegrationStatus

    off = Cell(IntegrationStatus("kuma", "KUMA REST API", True), "off")
    text = health.csv_text(["kuma"], [GridRow("t1", "=SUM(A1)", "=SUM(A1)", [off])])
    assert text.splitlines()[1] == "'=SUM(A1),off"


def test_a_read_only_window_checks_but_saves_nothing(
    qtbot: QtBot, config_dir: Path, keyring_backend: Any, kuma: Any, test_ca: TestCA, tmp_path: Path
) -> None:
    first = Workspace.open(config_dir, keyring_backend=keyring_backend)
    try:
        configure(first, kuma.port, tenant="Acme", token=GOOD_TOKEN, ca=test_ca.cert_pem)
        before = first.file.path.read_text()
        second = Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend)
        try:
            assert second.readonly
            window = open_window(qtbot, second)
            wait_idle(qtbot, window)
            grid = grid_of(window)
            assert cells(grid)["Acme"] == "? not checked"
            window.act_grid_check.trigger()
            wait_idle(qtbot, window, timeout=30000)
            assert cells(grid)["Acme"] == "✓ OK"  # checks run; their results stay in memory
            assert first.file.path.read_text() == before
            out = tmp_path / "ro.csv"
            with expect_dialog(qtbot, QFileDialog, pick_file(out), name="saveFileDialog"):
                window.act_grid_export.trigger()
            wait_idle(qtbot, window)
            assert "Root tenant/Acme,OK" in out.read_text(encoding="utf-8-sig")
            window.close()
        finally:
            second.close()
    finally:
        first.close()


def test_russian(window: MainWindow, qtbot: QtBot, ws: Workspace, test_ca: TestCA) -> None:
    set_language("ru")
    prepare(ws, 7223, test_ca.cert_pem)
    window.refresh()
    grid = grid_of(window)
    texts = cells(grid)
    assert texts["Acme"] == "✓ ОК" and texts["Globex"].startswith("✗ ") and texts["Globex"] != "✗ failed"
    assert grid.filter_edit.placeholderText() != "Filter by tenant name…"
    assert "тенант" in grid.summary.text()
    tooltip = header(grid, role=Qt.ItemDataRole.ToolTipRole)
    assert "тенант" in tooltip


def test_the_tenant_actions_act_on_the_grids_current_tenant(
    window: MainWindow, qtbot: QtBot, ws: Workspace, kuma: Any, test_ca: TestCA
) -> None:
    """With the grid shown, Check tenant (and every tenant action) takes the tenant of the
    grid's current cell, moved to by the keyboard as by the mouse."""
    ids = prepare(ws, kuma.port, test_ca.cert_pem)
    window.refresh()
    window.select_tenant(ids["Acme"])
    grid = grid_of(window)
    grid.view.setFocus()
    click(qtbot, grid, index_of(grid, ids["Globex"]))
    some(grid.result_dialog).close()
    assert window.current_tenant_id() == ids["Globex"]
    row = grid.view.currentIndex().row()
    below = grid.model.rows[row + 1].tenant_id
    qtbot.keyClick(grid.view, Qt.Key.Key_Down)  # the next row
    assert grid.view.currentIndex().row() == row + 1
    assert window.current_tenant_id() == below != ids["Globex"]
    window.select_tenant(ids["Acme"])  # the hidden tree elsewhere: the grid's current cell wins
    click(qtbot, grid, index_of(grid, ids["Hooli"]))
    some(grid.result_dialog).close()
    window.act_check_tenant.trigger()
    dialog = window.check_dialog
    assert dialog.pairs == [(ids["Hooli"], "kuma")]
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    dialog.close()
