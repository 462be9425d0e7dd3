"""A new check-only integration costs one module and no file in qt/ or cli/: the demo
integration (tests/plugins/xdrconf_demo), installed as a plugin through the entry points of
``xdrconf.integrations`` (catalog.PLUGIN_GROUP), gets the wizard's pages, the check, the
Operations tab and the command line from its spec alone. Driven in a Python of its own with
the plugin on its path, as an installed distribution is (tests/plugins/e2e_demo.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "tests" / "plugins"


def test_nothing_of_the_demo_is_in_xdrconf() -> None:
    word = re.compile(r"\bdemo\b", re.IGNORECASE)
    named = [
        p for p in (ROOT / "gui" / "xdrconf").rglob("*.py") if word.search(p.read_text(encoding="utf-8"))
    ]
    assert named == []


def test_a_plugin_integration_in_the_window_and_on_the_command_line() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGINS), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGINS / "e2e_demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "2 passed" in proc.stdout, proc.stdout[-2000:]


def test_without_the_plugin_there_is_no_demo() -> None:
    from xdrconf.core import catalog

    assert "demo" not in catalog.KINDS


def test_a_plugin_that_takes_a_kind_or_cannot_load_is_left_out(tmp_path: Path) -> None:
    """Installed beside the demo: one claiming KUMA's kind, one whose module is missing, one
    whose SPEC is of another kind. xdrconf starts with the demo, says why for the others."""
    info = tmp_path / "xdrconf_bad-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xdrconf-bad\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[xdrconf.integrations]\n"
        "kuma = xdrconf_demo\nmissing = xdrconf_no_such_module\nother = xdrconf_demo\n"
    )
    script = (
        "import logging; logging.basicConfig(level=logging.WARNING, format='%(message)s')\n"
        "from xdrconf.core import catalog\n"
        "print('KINDS', ' '.join(catalog.KINDS))\n"
        "print('KUMA', catalog.spec_for('kuma').title)\n"
    )
    paths = os.pathsep.join([str(PLUGINS), str(tmp_path), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": paths},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    kinds = next(line for line in proc.stdout.splitlines() if line.startswith("KINDS")).split()[1:]
    assert kinds[-1] == "demo" and kinds.count("kuma") == 1
    assert "missing" not in kinds and "other" not in kinds
    assert "KUMA KUMA REST API" in proc.stdout  # the built-in one, not the plugin's
    assert "plugin kuma (xdrconf_demo) left out: the kind is taken" in proc.stderr
    assert "plugin missing (xdrconf_no_such_module) left out: it cannot be loaded" in proc.stderr
    assert "plugin other (xdrconf_demo) left out: it has no SPEC of kind other" in proc.stderr
