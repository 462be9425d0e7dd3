"""Renders the main window and every page of the tenant wizard (the opening page, each
supported integration's pages and its closing page, the summary) to PNG files, in a language,
so that a person can look at them for clipped or overlapping text (a script, not a test;
pytest does not collect it):

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/render_pages.py [--lang ru] OUTDIR

The settings live in a fresh temporary folder with one tenant; a real Secret Service runs for
the secret fields. Prints the files written."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common


def main() -> int:
    _lang, args = _common.language_option(sys.argv[1:])
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    _common.start_keyring()
    try:
        return render(out)
    finally:
        _common.stop_keyring()


def settle(app: object) -> None:
    from PySide6.QtWidgets import QApplication

    for _i in range(10):
        QApplication.processEvents()


def render(out: Path) -> int:
    from PySide6.QtWidgets import QApplication

    from xdrconf.core import catalog
    from xdrconf.core.workspace import Workspace
    from xdrconf.qt import workers
    from xdrconf.qt.app import apply_language
    from xdrconf.qt.main_window import MIN_SIZE, MainWindow
    from xdrconf.qt.wizard import TenantWizard

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_language()
    ws = Workspace.open(tempfile.mkdtemp(prefix="xdrconf-pages-"))
    ws.add_tenant("Acme Corporation")
    acme = ws.tenant("Acme Corporation").id
    written = []

    window = MainWindow(ws)
    window.show()
    window.start()
    window.select_tenant(acme)
    for size, name in (((1240, 720), "main-window.png"), (MIN_SIZE, "main-window-min.png")):
        window.resize(*size)
        settle(app)
        window.grab().save(str(out / name))
        written.append(name)
    window.close()

    kinds = [e.kind for e in catalog.ENTRIES if catalog.spec_for(e.kind).supported]
    wizard = TenantWizard(ws, acme)
    wizard.show()
    for kind in kinds:
        wizard.opening.boxes[kind].setChecked(True)
    ids = [TenantWizard.OPENING] + [pid for kind in kinds for pid in wizard.ensure_pages(kind)]
    ids.append(TenantWizard.SUMMARY)
    for n, pid in enumerate(ids):
        wizard.setStartId(pid)
        wizard.restart()
        settle(app)
        name = f"wizard-{n:02d}-{type(wizard.currentPage()).__name__}.png"
        wizard.grab().save(str(out / name))
        written.append(name)
    wizard.close()
    workers.wait_all(5000)
    ws.close()
    for name in written:
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
