"""Renders the README's picture of the main window (a script, not a test; pytest does not
collect it): `.venv/bin/python tests/benchmarks/readme_screenshot.py [--lang ru] [OUT.png]`

The window runs as a user starts it, with the settings in the default folder of a fresh
home folder (so the status bar reads "~/.config/xdrconf", not a temporary path), a real
Secret Service, and KUMA checks run for real against a KUMA-like HTTPS peer on loopback
(one tenant's token refused). Writes resources/screenshot-main-window.png by default, and
with --lang ru the Russian window (the checks' messages too) to
resources/screenshot-main-window-ru.png."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

# A fresh home folder before anything looks at it: xdrconf's default settings folder is
# then ~/.config/xdrconf inside it.
_home = Path(tempfile.mkdtemp(prefix="xdrconf-readme-")) / "home"
_home.mkdir()
os.environ["HOME"] = str(_home)
for name in ("XDG_CONFIG_HOME", "XDRCONF_CONFIG_DIR"):
    os.environ.pop(name, None)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

SIZE = (1240, 720)
TENANTS = (  # (name, parent, KUMA token: good, refused or none)
    ("Acme Corporation", None, "good"),
    ("Acme EU", "Acme Corporation", "good"),
    ("Acme Berlin", "Acme EU", "good"),
    ("Acme Paris", "Acme EU", None),
    ("Acme US", "Acme Corporation", "good"),
    ("Acme Research", "Acme Corporation", "refused"),
    ("Globex", None, None),
    ("Initech", None, None),
    ("Umbrella Health", None, None),
    ("Stark Industries", None, None),
)


def main() -> int:
    args = sys.argv[1:]
    lang = "en"
    if args[:1] == ["--lang"] and len(args) > 1:
        lang, args = args[1], args[2:]
    name = "screenshot-main-window.png" if lang == "en" else f"screenshot-main-window-{lang}.png"
    out = Path(args[0]) if args else _common.ROOT / "resources" / name
    os.environ["XDRCONF_LANG"] = lang  # beats the machine's locale, as for a user
    _common.start_keyring()
    try:
        return render(out)
    finally:
        _common.stop_keyring()


def render(out: Path) -> int:
    from PySide6.QtWidgets import QApplication

    from support.https_peer import HttpsPeer
    from support.kuma_peer import GOOD_TOKEN, KumaApi, configure
    from support.pki import TestCA
    from xdrconf.core.engine import run_operation
    from xdrconf.core.paths import default_config_dir
    from xdrconf.core.workspace import Workspace
    from xdrconf.qt import workers
    from xdrconf.qt.app import apply_language
    from xdrconf.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_language()  # XDRCONF_LANG, and Qt's own texts in that language
    ca = TestCA(_home.parent / "pki")
    api = KumaApi()
    with HttpsPeer(api, cert=ca.issue()) as kuma:
        ws = Workspace.open(None)
        assert ws.config_dir == default_config_dir() == _home / ".config" / "xdrconf", ws.config_dir
        for name, parent, token in TENANTS:
            ws.add_tenant(name, parent)
            if token is not None:
                configure(
                    ws,
                    kuma.port,
                    ca=ca.cert_pem,
                    tenant=name,
                    token=GOOD_TOKEN if token == "good" else "revoked",
                )
        results = {}
        for tenant in ws.tree.walk_all():
            if "kuma" in tenant.integrations:
                results[(tenant.id, "kuma")] = [r.to_dict() for r in run_operation(ws, tenant.id, "kuma")]
        ws.record_results(results)

        window = MainWindow(ws)
        window.resize(*SIZE)
        window.show()
        window.start()
        acme = ws.tenant("Acme Corporation").id
        window.select_tenant(acme)
        window.tree_view.expandAll()
        window.select_integration("kuma")
        deadline = time.monotonic() + 10
        while (workers.running_tasks() or window.keyring_status is None) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        for _ in range(20):
            app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            print(f"could not write {out}", file=sys.stderr)
            return 1
        print(f"wrote {out} ({SIZE[0]}x{SIZE[1]}); settings folder shown: {window.folder_label.text()}")
        window.close()
        workers.wait_all(5000)
        ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
