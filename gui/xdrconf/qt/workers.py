"""Background work for the window: plain functions run on a QThreadPool and report back
through queued signals, so the GUI thread never waits on the network or the keyring.

    task = run_in_background(lambda: ws.add_tenant("Acme"), on_done, on_error)

`fn` runs on a pool thread. `on_done(result)`, `on_error(exc)` and `on_progress(value)`
run on the GUI thread. With `on_progress`, `fn` is called with one argument, `report`,
which it may call from the pool thread as often as it likes. Cancellation is
cooperative: `task.cancel()` sets `task.cancel_event` (a threading.Event), which the
function passes on, e.g. to `core.engine.run_operation(cancel=...)`.

Two pools: `general_pool()` for keyring and settings work (few threads; the keyring is
serialised in the core anyway) and `check_pool()` for connection checks (12 per CPU core,
at most 32, at once).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

# Checks are mostly waiting, but TLS and HTTP parsing run in Python under the GIL: past
# about 12 threads per core they only queue for it and the GUI thread waits behind them.
# Measured with tests/benchmarks/bench_checks.py on 2 cores, 500 checks of 200 ms each:
# 16 threads 7.0 s, 24 threads 4.9 s (GUI stalls <= 43 ms), 32 threads 3.9 s (stalls
# ~51 ms). The environment variable overrides it.
CHECK_CONCURRENCY = int(os.environ.get("XDRCONF_CHECK_CONCURRENCY", "0")) or min(
    32, 12 * (os.cpu_count() or 2)
)
SWITCH_INTERVAL = float(os.environ.get("XDRCONF_SWITCH_INTERVAL", "0.001"))

_general: QThreadPool | None = None
_checks: QThreadPool | None = None
_live: set[Task] = set()  # keeps running tasks (and their callbacks) alive


def general_pool() -> QThreadPool:
    global _general
    if _general is None:
        _general = QThreadPool()
        _general.setObjectName("xdrconf-general")
        _general.setMaxThreadCount(4)
    return _general


def check_pool() -> QThreadPool:
    global _checks
    if _checks is None:
        # Dozens of threads parse TLS and HTTP in Python at once; with the default 5 ms
        # switch interval the GUI thread can wait for the GIL behind each of them in turn.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        _checks = QThreadPool()
        _checks.setObjectName("xdrconf-checks")
        _checks.setMaxThreadCount(CHECK_CONCURRENCY)
    return _checks


class WorkerSignals(QObject):
    """Emitted from the pool thread; the receivers live on the GUI thread (queued)."""

    started = Signal()
    result = Signal(object)
    error = Signal(object)
    progress = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """A QRunnable that calls a plain function and reports through `signals`."""

    def __init__(self, fn: Callable[..., Any], *, with_progress: bool = False) -> None:
        super().__init__()
        self.fn = fn
        self.with_progress = with_progress
        self.signals = WorkerSignals()
        self.setAutoDelete(False)  # the Task owns it until `finished` was delivered

    def run(self) -> None:
        signals = self.signals
        signals.started.emit()
        try:
            value = self.fn(signals.progress.emit) if self.with_progress else self.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
            signals.error.emit(exc)
        else:
            signals.result.emit(value)
        finally:
            signals.finished.emit()


class Task(QObject):
    """One background call: owns its Worker, delivers callbacks on the GUI thread."""

    done = Signal()  # after on_done / on_error ran

    def __init__(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        on_progress: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
        owner: QObject | None = None,
    ) -> None:
        super().__init__()
        self.cancel_event = cancel or threading.Event()
        self._orphaned = False
        if owner is not None:
            # The widget that asked may be closed before the answer comes: then the answer
            # is dropped (and a running check is told to stop).
            owner.destroyed.connect(self._owner_gone)
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress
        self.worker = Worker(fn, with_progress=on_progress is not None)
        s = self.worker.signals
        s.result.connect(self._result)
        s.error.connect(self._error)
        s.progress.connect(self._progress)
        s.finished.connect(self._finished)
        self.running = False
        self.result: Any = None
        self.exception: BaseException | None = None

    def start(self, pool: QThreadPool | None = None) -> Task:
        self.running = True
        _live.add(self)
        (pool or general_pool()).start(self.worker)
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    @Slot()
    def _owner_gone(self) -> None:
        self._orphaned = True
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @Slot(object)
    def _result(self, value: Any) -> None:
        self.running = False  # the answer is in; `finished` may come a moment later
        self.result = value
        if self._on_done is not None:
            self._call(self._on_done, value)

    @Slot(object)
    def _error(self, exc: BaseException) -> None:
        self.running = False
        self.exception = exc
        if self._on_error is not None:
            self._call(self._on_error, exc)
        elif not self._orphaned:
            log.error("background task failed: %s", exc, exc_info=exc)

    @Slot(object)
    def _progress(self, value: Any) -> None:
        if self._on_progress is not None:
            self._call(self._on_progress, value)

    @Slot()
    def _finished(self) -> None:
        self.running = False
        _live.discard(self)
        self.done.emit()

    def _call(self, fn: Callable[[Any], None], value: Any) -> None:
        if self._orphaned:
            return
        try:
            fn(value)
        except Exception:
            log.exception("a background task's callback failed")


def run_in_background(
    fn: Callable[..., Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    *,
    on_progress: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
    pool: QThreadPool | None = None,
    owner: QObject | None = None,
) -> Task:
    """Run `fn` off the GUI thread; see the module docstring. With `owner` (a widget), the
    callbacks are dropped if the owner is destroyed first."""
    return Task(fn, on_done, on_error, on_progress=on_progress, cancel=cancel, owner=owner).start(pool)


def running_tasks() -> int:
    return len(_live)


def wait_all(timeout_ms: int = 30000) -> bool:
    """Wait for both pools to drain (tests and shutdown); callbacks still need the event loop."""
    ok = True
    for pool in (_general, _checks):
        if pool is not None:
            ok = pool.waitForDone(timeout_ms) and ok
    return ok


class _FirstPaint(QObject):
    """Calls `then` (once) on the GUI thread after the first paint of the object it filters."""

    def __init__(self, widget: Any, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._then = then

    def eventFilter(self, obj: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent, QTimer

        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, obj, self._then)
        return False


def after_first_paint(widget: Any, then: Callable[[], Any], *, at_most_ms: int | None = None) -> None:
    """Call `then` on the GUI thread once `widget` has been painted for the first time (the
    work it starts then does not compete with that paint for the CPU), or after at_most_ms
    if it has not been painted by then (a window that is not exposed), once either way."""
    from PySide6.QtCore import QTimer

    called = False

    def once() -> None:
        nonlocal called
        if not called:
            called = True
            then()

    widget.installEventFilter(_FirstPaint(widget, once))
    if at_most_ms is not None:
        QTimer.singleShot(at_most_ms, widget, once)
