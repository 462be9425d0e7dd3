"""Shared fixtures: real Secret Service, a settings folder, the test PKI, the CLI; and a
check after every test that it left no thread running."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The tests read English, whatever the machine's locale (LANG=ru_RU... would otherwise turn
# every message Russian); tests/test_i18n.py sets the language it tests.
os.environ["XDRCONF_LANG"] = "en"

import pytest
from hypothesis import HealthCheck, settings

from support import secret_service
from support.pki import TestCA

# Support modules that define fixtures, registered once for every test module.
pytest_plugins = [
    "support.gui",
    "support.kuma_peer",
    "support.redmine",
    "support.samba_dc",
    "support.slapd",
]

THREAD_GRACE_S = 3.0  # a worker that is finishing its last callback gets this long


def _tolerated(thread: threading.Thread) -> bool:
    """paramiko arms a threading.Timer for its handshake timeout and cancels it only when a
    handshake completes: after a failed one (a peer that is no SSH server, no common host
    key type) it sleeps out the timeout and ends, having nothing left to do."""
    function = getattr(thread, "function", None)
    return isinstance(thread, threading.Timer) and getattr(function, "__module__", "").startswith("paramiko.")


def _running_threads() -> dict[int, threading.Thread]:
    """Python threads that run code of their own (not the main thread, not the dummy
    entries Python keeps for Qt's pool threads that once logged or used threading)."""
    return {
        t.ident: t
        for t in threading.enumerate()
        if t.ident is not None
        and t is not threading.main_thread()
        and not isinstance(t, threading._DummyThread)
        and not _tolerated(t)
        and t.is_alive()
    }


def _busy_pools() -> dict[str, int]:
    """Qt thread pools with work still running: xdrconf's two and Qt's global one."""
    if "PySide6.QtCore" not in sys.modules:
        return {}
    from PySide6.QtCore import QThreadPool

    from xdrconf.qt import workers

    pools = {"global": QThreadPool.globalInstance(), "general": workers._general, "checks": workers._checks}
    return {
        name: pool.activeThreadCount() for name, pool in pools.items() if pool and pool.activeThreadCount()
    }


def _describe(thread: threading.Thread) -> str:
    target = getattr(thread, "_target", None)
    if target is None and type(thread) is not threading.Thread:
        target = type(thread)  # a Thread subclass (e.g. paramiko's Transport)
    where = (
        f" running {getattr(target, '__module__', '')}.{getattr(target, '__qualname__', target)}"
        if target
        else ""
    )
    return f"{thread.name}{where}"


@pytest.fixture(autouse=True)
def no_thread_left_running() -> Iterator[None]:
    """Fails the test (in its teardown, after its other fixtures ended) if it leaves a
    thread or a Qt pool worker running, naming it."""
    before = set(_running_threads())
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    while True:
        leaked = [t for ident, t in _running_threads().items() if ident not in before]
        pools = _busy_pools()
        if not leaked and not pools:
            return
        if time.monotonic() > deadline:
            break
        if "PySide6.QtCore" in sys.modules:
            from PySide6.QtCore import QCoreApplication

            if QCoreApplication.instance() is not None:
                QCoreApplication.processEvents()  # queued answers let finished workers go
        time.sleep(0.02)
    names = [_describe(t) for t in leaked] + [f"{n} pool: {c} worker(s) busy" for n, c in pools.items()]
    pytest.fail(f"the test left running: {'; '.join(names)}", pytrace=False)


MODAL_LEFT_S = 60.0  # far beyond any dialog a test answers (expect_dialog waits 10 s)


@pytest.fixture(autouse=True)
def no_modal_left_waiting() -> Iterator[None]:
    """A modal dialog that nobody answers would hang the suite (its exec() never returns).
    One left open for a minute is closed (rejected) and fails the test, naming it."""
    if "PySide6.QtWidgets" not in sys.modules:
        yield
        return
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        yield
        return
    seen: dict[str, Any] = {"widget": None, "since": 0.0}
    left: list[str] = []

    def poll() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None or modal is not seen["widget"]:
            seen["widget"], seen["since"] = modal, time.monotonic()
            return
        if time.monotonic() - seen["since"] > MODAL_LEFT_S:
            left.append(f"{type(modal).__name__} '{modal.objectName()}' titled {modal.windowTitle()!r}")
            seen["widget"] = None
            modal.close()
            reject = getattr(modal, "reject", None)
            if callable(reject):
                reject()

    timer = QTimer()
    timer.setInterval(1000)
    timer.timeout.connect(poll)
    timer.start()
    try:
        yield
    finally:
        timer.stop()
    if left:
        pytest.fail(f"a modal dialog was left open {MODAL_LEFT_S:g} s with nobody answering: {left}")


# Property-based tests: the same examples on every CI run (derandomized, no example
# database), random ones on a developer's machine; HYPOTHESIS_PROFILE=ci|dev|long chooses
# explicitly (long: 3,000 examples, for a search before a release).
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _english_again():
    """A test that switched the language (and Qt's translations) leaves English behind."""
    yield
    from xdrconf.core import i18n

    if i18n.language() != i18n.DEFAULT:
        if "xdrconf.qt.app" in sys.modules:
            sys.modules["xdrconf.qt.app"].apply_language(i18n.DEFAULT)
        i18n.set_language(i18n.DEFAULT)


@pytest.fixture(scope="session")
def keyring_backend():
    """The real Secret Service backend (gnome-keyring, unlocked)."""
    secret_service.ensure_session()
    yield secret_service.backend()
    secret_service.stop()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    return d


@pytest.fixture
def ws(config_dir, keyring_backend):
    from xdrconf.core.workspace import Workspace

    w = Workspace.open(config_dir, keyring_backend=keyring_backend)
    yield w
    w.close()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def server_cert(test_ca):
    return test_ca.issue()


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def cli(config_dir, keyring_backend, monkeypatch):
    """Run `xdrconf ARGS` in this process against config_dir; stdin feeds --secret values."""
    from xdrconf.cli.main import run

    def invoke(*args: str, stdin: str = "", config: Path | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        argv = ["--config-dir", str(config or config_dir), *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(argv)
        return CliResult(code, out.getvalue(), err.getvalue())

    return invoke


@pytest.fixture
def check_workers_from_two(monkeypatch):
    """Many checks in worker processes (core/checkproc.py) from 2 pairs on (the default is
    from 48), at most 2 of them; the spare workers ended afterwards."""
    from xdrconf.core import checkproc

    monkeypatch.setenv("XDRCONF_CHECK_PROCESS_MIN", "2")
    monkeypatch.setenv("XDRCONF_CHECK_PROCESSES", "2")
    yield
    checkproc.discard_spares()
