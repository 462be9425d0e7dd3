"""The import layers hold: the core imports neither the window, the command line nor Qt; the
command line does not import the window; no integration imports another; there are no
import cycles. The contracts live in pyproject.toml ([tool.importlinter]); import-linter
checks them against the real import graph of the installed package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_import_contracts_are_kept():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout, proc.stdout


def test_the_contracts_cover_every_layer():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["type"]: c for c in config["contracts"]}
    assert config["root_packages"] == ["xdrconf"]
    forbidden = [c for c in config["contracts"] if c["type"] == "forbidden"]
    assert {"xdrconf.qt", "xdrconf.cli", "PySide6"} <= set(
        next(c for c in forbidden if c["source_modules"] == ["xdrconf.core"])["forbidden_modules"]
    )
    assert contracts["independence"]["modules"] == ["xdrconf.core.integrations.*"]
    assert contracts["acyclic_siblings"]["ancestors"] == ["xdrconf"]
    # No import cycle is tolerated: the window's one (integration Qt modules importing the
    # wizard for its editors) went with the editors' own module, qt/editors.py.
    assert "ignore_imports" not in contracts["acyclic_siblings"]


def test_a_broken_layer_is_caught(tmp_path):
    """The same contracts over a copy of the package with the core importing the window and
    one integration importing another: import-linter reports both (the check can fail)."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(ROOT / "gui" / "xdrconf", copy / "xdrconf", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "xdrconf" / "core" / "broken.py").write_text("from xdrconf.qt import workers\n")
    (copy / "xdrconf" / "core" / "integrations" / "tip" / "broken.py").write_text(
        "from xdrconf.core.integrations.kuma import commands\n"
    )
    proc = lint_imports(tmp_path, {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = " ".join(proc.stdout.split())
    assert "xdrconf.core.broken -> xdrconf.qt.workers" in report, report
    assert "xdrconf.core.integrations.tip.broken -> xdrconf.core.integrations.kuma.commands" in report
    assert "Contracts: 1 kept, 3 broken." in report  # the cycle core <-> qt breaks the third
