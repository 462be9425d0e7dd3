"""GUI figures (a script, not a test): `.venv/bin/python tests/benchmarks/bench_gui.py`

(a) start-up to the first painted main window with a 1,000-tenant config, as a ratio to a
    bare PySide6 QMainWindow started the same way in the same run (subprocesses,
    alternating, median of --runs; target <= 1.5);
(b) load and show 10,000 tenants (target <= 1 s) and the peak memory of that process
    (resource.getrusage; target <= 200 MB);
(c) a filter keystroke on 10,000 tenants, typed with real key events (target <= 50 ms).

Runs offscreen unless QT_QPA_PLATFORM says otherwise; starts its own Secret Service."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

FIRST_PAINT = r"""
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
painted = []
tree = []
want_tree = sys.argv[-1:] == ["--tree"]  # go on until the tenant tree itself is painted

def tree_painted():
    print(f"TREE-PAINTED {time.time():.6f}", flush=True)
    app.quit()

def finish():
    print(f"PAINTED {time.time():.6f}", flush=True)
    import PySide6.QtCore
    # What had been done before the first paint (see "start-up" in the README).
    print("BEFORE-PAINT " + json.dumps({
        "qt_namespace": "Qt" in PySide6.QtCore.__dict__,
        "settings_opened": "xdrconf.core.workspace" in sys.modules,
        "modules": len(sys.modules),
    }), flush=True)
    if not want_tree:
        app.quit()

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            if not painted:
                painted.append(obj)
                QTimer.singleShot(0, finish)  # after this paint has been done
            elif want_tree and not tree:
                parent = obj.parent()
                if parent is not None and parent.metaObject().className() == "QTreeView":
                    tree.append(obj)  # the tree view's viewport
                    QTimer.singleShot(0, tree_painted)
        return False

probe = FirstPaint()
app.installEventFilter(probe)
"""

BARE = (
    FIRST_PAINT
    + r"""
from PySide6.QtWidgets import QMainWindow
w = QMainWindow()
w.setWindowTitle("bare")
w.resize(1180, 720)
w.show()
app.exec()
"""
)

XDRCONF = (
    FIRST_PAINT
    + r"""
from xdrconf.__main__ import main  # the real entry point: `xdrconf --config-dir DIR`
sys.exit(main(["--config-dir", sys.argv[1]]))
"""
)

LARGE = r"""
import json, resource, sys, time
t_import = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
import xdrconf.qt
from xdrconf.core.workspace import Workspace
from xdrconf.qt.main_window import MainWindow
imports = time.perf_counter() - t_import
app = QApplication(sys.argv[:1])
painted = []

class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            painted.append(obj)
        return False

probe = Painted()
app.installEventFilter(probe)
t0 = time.perf_counter()
ws = Workspace.open(sys.argv[1], readonly_if_locked=True)
w = MainWindow(ws)
w.show()
while not painted:
    app.processEvents()
app.processEvents()
load = time.perf_counter() - t0
tenants = len(w.tree_model)

def keystroke(action):
    t = time.perf_counter()
    action()
    app.processEvents()  # the repaint of the tree
    return (time.perf_counter() - t) * 1000

w.filter_edit.setFocus()
times = {}
for word in sys.argv[2:]:
    per_key = [keystroke(lambda ch=ch: QTest.keyClick(w.filter_edit, ch)) for ch in word]
    matches = w.tree_model.match_count
    per_key += [keystroke(lambda: QTest.keyClick(w.filter_edit, Qt.Key.Key_Backspace)) for _ in word]
    times[word] = {"keys_ms": [round(x, 2) for x in per_key], "matches": matches}
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"imports_s": imports, "load_s": load, "tenants": tenants, "filter": times,
                  "peak_rss_mb": rss_mb}))
ws.close()
"""


BEFORE_PAINT: dict[str, str] = {}  # kind of run -> what it had done before its first paint


def first_paint(code: str, *args: str) -> float:
    return paints(code, *args)[0]


def paints(code: str, *args: str) -> tuple[float, float | None]:
    """Seconds from before Popen to the end of the first paint, and (with --tree) to the end
    of the first paint of the tenant tree."""
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=_common.ROOT,
        env=_common.child_env(),
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BEFORE-PAINT "):
            BEFORE_PAINT["xdrconf" if args else "bare"] = line.split(" ", 1)[1]
    found = {
        line.split()[0]: float(line.split()[1]) - started
        for line in proc.stdout.splitlines()
        if line.startswith(("PAINTED ", "TREE-PAINTED "))
    }
    if "PAINTED" in found:
        return found["PAINTED"], found.get("TREE-PAINTED")
    raise RuntimeError(f"no first paint reported: {proc.stdout}\n{proc.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="start-up runs of each kind (default 9)")
    args = parser.parse_args()
    _common.start_keyring()
    try:
        with tempfile.TemporaryDirectory(prefix="xdrconf-bench-") as tmp:
            small = _common.make_config(Path(tmp) / "t1000", 1000)
            large = _common.make_config(Path(tmp) / "t10000", 10000)
            print(f"platform: {os.environ.get('QT_QPA_PLATFORM')}, python {sys.version.split()[0]}")

            # (a) start-up ratio
            first_paint(BARE)  # warm the file cache for both
            first_paint(XDRCONF, str(small))
            bare, ours, trees = [], [], []
            for _ in range(args.runs):
                bare.append(first_paint(BARE))
                frame, tree = paints(XDRCONF, str(small), "--tree")
                ours.append(frame)
                if tree is not None:
                    trees.append(tree)
            b, o = _common.median(bare), _common.median(ours)
            print(
                f"(a) start-up to first paint, 1,000 tenants: xdrconf {o * 1000:.0f} ms, bare "
                f"QMainWindow {b * 1000:.0f} ms (medians of {args.runs}); ratio {o / b:.2f} "
                f"(target <= 1.5)"
            )
            if trees:
                t = _common.median(trees)
                print(
                    f"    the tenant tree painted: {t * 1000:.0f} ms (median), {t / b:.2f} x the bare "
                    f"window's first paint; runs {[round(x * 1000) for x in trees]}"
                )
            print(f"    runs xdrconf: {[round(x * 1000) for x in ours]}")
            print(f"    runs bare:    {[round(x * 1000) for x in bare]}")
            print(f"    before the first paint: xdrconf {BEFORE_PAINT.get('xdrconf')}")
            print(f"                            bare    {BEFORE_PAINT.get('bare')}")
            load = os.getloadavg()
            cpus = os.cpu_count()
            print(f"    load average after the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {cpus} CPUs")

            # (b) + (c) in one fresh process
            proc = subprocess.run(
                [sys.executable, "-c", LARGE, str(large), "customer 0424", "omega", "a", "zzz"],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=_common.ROOT,
                env=_common.child_env(),
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            data = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"(b) load and show {data['tenants']:,} tenants: {data['load_s'] * 1000:.0f} ms "
                f"(target <= 1000 ms; imports before that {data['imports_s'] * 1000:.0f} ms); "
                f"peak RSS {data['peak_rss_mb']:.0f} MB (target <= 200 MB)"
            )
            worst = 0.0
            for word, info in data["filter"].items():
                keys = info["keys_ms"]
                worst = max(worst, *keys)
                print(
                    f"(c) typing {word!r} then erasing it ({info['matches']:,} matches): "
                    f"per keystroke max {max(keys):.1f} ms, median {_common.median(keys):.1f} ms"
                )
            print(
                f"(c) worst filter keystroke on {data['tenants']:,} tenants: {worst:.1f} ms (target <= 50 ms)"
            )
    finally:
        _common.stop_keyring()
    return 0


if __name__ == "__main__":
    sys.exit(main())
