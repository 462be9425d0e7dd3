"""The health grid with 1,000 tenants (a script, not a test):
`.venv/bin/python tests/benchmarks/bench_grid.py [--tenants N] [--png FILE]`

(a) the time from View → Health grid to the grid painted (building every tenant's cells
    from the stored results included), and the same when shown again;
(b) the largest gap between ticks of a 5 ms timer on the GUI thread while the grid is
    scrolled from the first row to the last and back, a quarter page per step, each step
    painted (also the slowest single step and the median), and one whole repaint of the
    grid (what a resize or a filter costs);
(c) a filter keystroke and the level filter on the 1,000 rows.

Every tenant has the five built-in integrations with a stored last check of each level
(ok, not verified, warning, failed), some never checked, some turned off. Prints the
figures; no targets are asserted. With --png, the grid is also rendered to that file
(XDRCONF_LANG=ru for the Russian texts). Runs offscreen; starts its own Secret Service."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

KINDS = ("kuma", "kasap", "tip", "kata", "custom")


def make_grid_config(folder: Path, tenants: int) -> Path:
    """`tenants` tenants, a few levels deep, each with the built-in integrations and a
    stored result of every level in turn (no secrets: nothing is checked here)."""
    from xdrconf.core.outcome import Category, Outcome
    from xdrconf.core.tenants import IntegrationState
    from xdrconf.core.workspace import Workspace

    folder.mkdir(parents=True, exist_ok=True)
    with Workspace.open(folder) as ws, ws.transaction():
        tree = ws.tree
        level1: list[str] = []
        for i in range(tenants):
            parent = tree.root_id if i < max(1, tenants // 50) else level1[i % len(level1)]
            name = f"Customer {i:04d} {('Alpha', 'Beta', 'Gamma', 'Delta', 'Omega')[i % 5]}"
            integrations = {}
            for k, kind in enumerate(KINDS):
                pick = (i * 7 + k * 3 + i // 20 + (i * k) % 7) % 20
                if pick == 0:
                    continue  # never set up: off
                results: list[dict[str, Any]] = []
                if pick > 2:
                    o = Outcome(Category.OK, "Connected.", f"{kind}{i}.example.invalid:443", 40.0 + pick)
                    if pick in (3, 4):
                        o = Outcome(Category.AUTH_FAILED, "The peer refused the token (401).", o.target, 30.0)
                    elif pick == 5:
                        o = Outcome(Category.TIMEOUT, "No answer within 10 s.", o.target)
                    elif pick == 6:
                        o.warnings = ["The token's rights could not be confirmed."]
                    elif pick == 7:
                        o.verified = False
                    results = [o.to_dict()]
                integrations[kind] = IntegrationState(kind, pick != 1, {}, {}, results)
            tenant = tree.add(name, parent, integrations)
            if i < max(1, tenants // 50):
                level1.append(tenant.id)
    return folder


def painted(app: Any, widget: Any, timeout_s: float = 20.0) -> None:
    """Process events until `widget` has been painted once more."""
    from PySide6.QtCore import QEvent, QObject

    seen: list[bool] = []

    class Probe(QObject):
        def eventFilter(self, obj: Any, event: Any) -> bool:
            if obj is widget and event.type() == QEvent.Type.Paint:
                seen.append(True)
            return False

    probe = Probe()
    widget.installEventFilter(probe)
    deadline = time.monotonic() + timeout_s
    while not seen and time.monotonic() < deadline:
        app.processEvents()
    widget.removeEventFilter(probe)


def scroll_through(app: Any, view: Any) -> tuple[list[float], list[float]]:
    """Scroll top to bottom and back, a quarter page per step as a wheel turn does, each
    step painted (the event loop's paint of what scrolled in) before the next one comes;
    the GUI gaps and each step's time."""
    from PySide6.QtCore import QEventLoop, QTimer

    bar = view.verticalScrollBar()
    step = max(1, bar.pageStep() // 4)
    values = [*range(0, bar.maximum() + 1, step), bar.maximum()]
    values += values[::-1]
    steps: list[float] = []
    loop = QEventLoop()
    ticks = _common.TickRecorder()
    todo = iter(values)

    def next_step() -> None:
        value = next(todo, None)
        if value is None:
            loop.quit()
            return
        t0 = time.perf_counter()
        bar.setValue(value)  # the view moves what it has and paints the rows that came in
        app.processEvents()
        steps.append((time.perf_counter() - t0) * 1000)
        QTimer.singleShot(8, next_step)

    ticks.start()
    QTimer.singleShot(0, next_step)
    loop.exec()
    return ticks.stop(), steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--png", help="also render the grid to this PNG file")
    args = parser.parse_args()
    _common.start_keyring()
    try:
        from PySide6.QtWidgets import QApplication

        from xdrconf.core import i18n
        from xdrconf.core.workspace import Workspace
        from xdrconf.qt.main_window import MainWindow

        i18n.setup()
        app = QApplication.instance() or QApplication(sys.argv[:1])
        with tempfile.TemporaryDirectory() as tmp:
            folder = make_grid_config(Path(tmp) / "cfg", args.tenants)
            ws = Workspace.open(folder)
            window = MainWindow(ws)
            window.resize(1400, 860)
            window.show()
            window.start()
            painted(app, window)
            t0 = time.perf_counter()
            window.act_grid.trigger()
            grid = window.grid
            painted(app, grid.view.viewport())
            first = (time.perf_counter() - t0) * 1000
            cells = sum(len(r.cells) for r in grid.model.all_rows)
            print(
                f"(a) show the health grid, {len(grid.model.all_rows):,} tenants x {len(grid.model.kinds)} "
                f"integrations ({cells:,} cells): {first:.0f} ms to the first paint"
            )
            window.act_grid.trigger()  # back to the tenants
            app.processEvents()
            t0 = time.perf_counter()
            window.act_grid.trigger()
            painted(app, grid.view.viewport())
            print(f"    shown again: {(time.perf_counter() - t0) * 1000:.0f} ms")
            gaps, steps = scroll_through(app, grid.view)
            print(
                f"(b) scrolling end to end and back ({len(steps)} steps of a quarter page, each painted): "
                f"largest GUI gap {max(gaps):.1f} ms; slowest step {max(steps):.1f} ms, "
                f"median step {statistics.median(steps):.1f} ms"
            )
            t0 = time.perf_counter()
            for _n in range(10):
                grid.view.viewport().repaint()
            print(f"    one whole repaint of the grid: {(time.perf_counter() - t0) * 100:.1f} ms")
            times = []
            for text in ("Omega", "Customer 09", "nothing like this", ""):
                t0 = time.perf_counter()
                grid.filter_edit.setText(text)
                grid.view.viewport().repaint()
                times.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            grid.level_combo.setCurrentIndex(grid.level_combo.findData("error"))
            grid.view.viewport().repaint()
            level = (time.perf_counter() - t0) * 1000
            failed = len(grid.model.rows)
            grid.level_combo.setCurrentIndex(0)
            print(
                f"(c) the name filter on {args.tenants:,} tenants: at most {max(times):.1f} ms a change "
                f"(repaint included); the level filter 'failed' ({failed:,} tenants): {level:.1f} ms"
            )
            if args.png:
                grid.view.scrollToTop()
                app.processEvents()
                window.grab().save(args.png)
                print(f"rendered to {args.png}")
            window.close()
            ws.close()
    finally:
        _common.stop_keyring()
    return 0


if __name__ == "__main__":
    sys.exit(main())
