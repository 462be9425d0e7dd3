"""Frozen vs. Python start-up (a script, not a test): `.venv/bin/python tests/benchmarks/bench_frozen.py`

The cold start of the frozen application (packaging/build.sh's package, unpacked with
dpkg-deb -x, run with an environment that reaches no Python of this machine) to its first
painted main window, against `python -m xdrconf` from this source tree, in the same run:
each a fresh process on the same 1,000-tenant settings folder, alternating, median of
--runs, after one warm-up of each; time from before the process starts to the end of the
window's first paint. Also the very first start of each (the frozen folder just unpacked).

The first paint is seen the same way for both: Qt's qt.widgets.painting log line of the first
flush of the top-level window (the end of the paint bench_gui.py's event filter waits for,
which a frozen program lets no one inject). Builds the package if it is out of date
(build.sh --if-changed, about a minute). Runs offscreen unless QT_QPA_PLATFORM says
otherwise; starts its own Secret Service."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

from support import frozen


def first_paint(command: list[str], env: dict[str, str]) -> float:
    with frozen.FirstPaint(command, env, cwd=_common.ROOT) as window:
        return window.wait(120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="start-ups of each kind (default 9)")
    args = parser.parse_args()
    platform = os.environ["QT_QPA_PLATFORM"]
    print("building the package if it is out of date (packaging/build.sh --if-changed)...", flush=True)
    deb = frozen.build()
    _common.start_keyring()
    try:
        with tempfile.TemporaryDirectory(prefix="xdrconf-bench-frozen-") as tmp:
            package = frozen.Package.unpack(deb, Path(tmp) / "deb")
            config = _common.make_config(Path(tmp) / "t1000", 1000)
            home = Path(tmp) / "home"
            home.mkdir()
            frozen_cmd = [str(package.executable), "--config-dir", str(config)]
            frozen_env = package.env(home, QT_QPA_PLATFORM=platform)
            python_cmd = [sys.executable, "-m", "xdrconf", "--config-dir", str(config)]
            python_env = _common.child_env()
            size = sum(
                f.stat().st_size for f in package.folder.rglob("*") if f.is_file() and not f.is_symlink()
            )
            print(
                f"platform: {platform}; python {sys.version.split()[0]}; {deb.name} "
                f"{deb.stat().st_size / 2**20:.0f} MB, folder {size / 2**20:.0f} MB"
            )
            first_frozen = first_paint(frozen_cmd, frozen_env)
            first_python = first_paint(python_cmd, python_env)
            ours, theirs = [], []
            for _ in range(args.runs):
                ours.append(first_paint(frozen_cmd, frozen_env))
                theirs.append(first_paint(python_cmd, python_env))
            f, p = _common.median(ours), _common.median(theirs)
            print(
                f"start-up to the first painted window, 1,000 tenants: frozen {f * 1000:.0f} ms, "
                f"python -m xdrconf {p * 1000:.0f} ms (medians of {args.runs}); frozen / python {f / p:.2f}"
            )
            print(
                f"    very first start: frozen {first_frozen * 1000:.0f} ms (just unpacked), "
                f"python {first_python * 1000:.0f} ms"
            )
            print(f"    runs frozen: {[round(x * 1000) for x in ours]}")
            print(f"    runs python: {[round(x * 1000) for x in theirs]}")
    finally:
        _common.stop_keyring()
    return 0


if __name__ == "__main__":
    sys.exit(main())
