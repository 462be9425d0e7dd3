"""Shared pieces of the benchmark scripts (not a test module)."""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(ROOT / "gui"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def language_option(args: list[str]) -> tuple[str, list[str]]:
    """A script's `--lang CODE` in front of its arguments: (the code, the other arguments);
    English without it. Sets XDRCONF_LANG, as a user would."""
    lang = "en"
    if args[:1] == ["--lang"] and len(args) > 1:
        lang, args = args[1], args[2:]
    os.environ["XDRCONF_LANG"] = lang
    return lang, args


def start_keyring() -> None:
    """A real Secret Service (gnome-keyring in a private D-Bus session), as the tests use."""
    from support import secret_service

    secret_service.ensure_session()


def stop_keyring() -> None:
    from support import secret_service

    secret_service.stop()


def make_config(folder: Path, tenants: int, *, with_results: int = 50) -> Path:
    """A settings folder with `tenants` tenants (a few levels deep); the first
    `with_results` carry a KUMA integration (no secrets) with a last check result."""
    from xdrconf.core.outcome import Category, CheckResult
    from xdrconf.core.tenants import IntegrationState
    from xdrconf.core.workspace import Workspace

    folder.mkdir(parents=True, exist_ok=True)
    with Workspace.open(folder) as ws, ws.transaction():
        tree = ws.tree
        level1: list[Any] = []
        for i in range(tenants):
            if i < max(1, tenants // 100):
                parent = tree.root_id
            elif i < tenants // 10:
                parent = level1[i % len(level1)]
            else:
                parent = level1[(i * 7) % len(level1)]
            name = f"Customer {i:05d} {('Alpha', 'Beta', 'Gamma', 'Delta', 'Omega')[i % 5]}"
            integrations = {}
            if i < with_results:
                r = CheckResult(
                    Category.OK if i % 4 else Category.AUTH_FAILED,
                    "Connected." if i % 4 else "KUMA refused the token (403).",
                    f"kuma{i}.example.invalid:7223",
                    42.0,
                )
                integrations["kuma"] = IntegrationState(
                    "kuma",
                    True,
                    {"host": f"kuma{i}.example.invalid", "port": 7223, "api_version": "v1"},
                    {},
                    [r.to_dict()],
                )
            tenant = tree.add(name, parent, integrations)
            if i < tenants // 10:
                level1.append(tenant.id)
    return folder


def child_env() -> dict[str, str]:
    """The environment of a `python` subprocess that runs xdrconf from this source tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "gui"), env.get("PYTHONPATH", "")])
    # As installed: byte-code cached (in a scratch folder, not in the source tree).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "xdrconf-bench-pycache")
    return env


def median(values: list[float]) -> float:
    return statistics.median(values)


def schedstat() -> tuple[int, int]:
    """ns the calling thread has spent on a CPU, and runnable but waiting for one (Linux
    schedstat; 0, 0 where it cannot be read)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            run, wait, _slices = f.read().split()
            return int(run), int(wait)
    except OSError:
        return 0, 0


class TickRecorder:
    """Records the time of each tick of a 5 ms timer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.ticks: list[float] = []
        self.sched: list[tuple[int, int]] = []  # the GUI thread's ns on a CPU and waiting, per tick
        self.steals: list[int] = []  # the machine's stolen jiffies, per tick
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    @staticmethod
    def _steal() -> int:
        """Jiffies (10 ms) of all CPUs that the hypervisor gave to other machines."""
        try:
            with open("/proc/stat") as f:
                return int(f.readline().split()[8])
        except (OSError, IndexError, ValueError):
            return 0

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())
        self.sched.append(schedstat())
        self.steals.append(self._steal())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.sched = [schedstat()]
        self.steals = [self._steal()]
        self.timer.start()

    def split(self, index: int) -> tuple[float, float]:
        """For the gap before tick index (of stop_timed's list): ms the GUI thread spent on a
        CPU and waiting for one (the rest it slept: idle, or waiting for the interpreter lock)."""
        (r0, w0), (r1, w1) = self.sched[index], self.sched[index + 1]
        return (r1 - r0) / 1e6, (w1 - w0) / 1e6

    def stolen(self, index: int) -> float:
        """ms of CPU time (all CPUs together; 10 ms steps) that the hypervisor gave to other
        machines around the gap before tick index: a gap the GUI thread spent neither on a CPU
        nor waiting for one, with time stolen, was the machine's, not the program's."""
        return (self.steals[index + 1] - self.steals[index]) * 10.0

    def stop(self) -> list[float]:
        """The gaps between ticks, in ms."""
        return [gap for _when, gap in self.stop_timed()]

    def stop_timed(self) -> list[tuple[float, float]]:
        """(time of the tick, gap before it in ms)."""
        self.timer.stop()
        self.ticks.append(time.perf_counter())
        self.sched.append(schedstat())
        self.steals.append(self._steal())
        return [(b, (b - a) * 1000) for a, b in itertools.pairwise(self.ticks)]
