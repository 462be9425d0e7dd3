"""One scheduler for many operations at once: Check all / Check subtree in the window and
`xdrconf check` on the command line (a run of many pairs runs it in worker processes, each
over a share of the pairs: core/checkproc.py).

    sched = Scheduler(ws, pairs, on_batch=deliver)   # pairs: (tenant id, kind)
    sched.start(); ...; sched.cancel(); results = sched.wait()

The secrets are read ahead of the runs in two batches (engine.prefetch: one keyring job,
one Secret Service GetSecrets call each): the first `concurrency` pairs', then the rest's
while the first runs wait on the network.
Workers run the operations' bodies directly; one monitor thread keeps every running
operation's deadline and the cancel, resolves an overdue or cancelled one (its late answer
is dropped, its connections closed) and puts a fresh worker in place of the one still
stuck in it. Results are delivered in batches (on_batch, from the monitor thread, at most
every `batch_interval` seconds and once at the end), so a window repaints a few times a
second rather than once per result."""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import catalog, engine
from .i18n import _
from .outcome import Category, Outcome

if TYPE_CHECKING:
    from .tenants import Tenant
    from .workspace import Workspace

log = logging.getLogger(__name__)
Pair = tuple[str, str]  # (tenant id, kind)
Batch = list[tuple[Pair, list[Outcome]]]
DEFAULT_CONCURRENCY = 64  # runs at a time: checks wait on the network, not the CPU (see bench_checks.py)


def targets(
    ws: Workspace, tenant_ref: str | None = None, kind: str | None = None, *, subtree: bool = True
) -> list[Pair]:
    """(tenant id, kind) pairs to check: enabled integrations, or the one asked for."""
    if tenant_ref is None:
        tenants: Iterable[Tenant] = ws.tree.walk_all()
    else:
        start = ws.tree.find(tenant_ref)
        tenants = ws.tree.walk(start.id) if (subtree and kind is None and not start.is_shared) else [start]
    out: list[Pair] = []
    order = {k: n for n, k in enumerate(catalog.KINDS)}  # the catalog's order, within a tenant
    for tenant in tenants:
        if kind is not None:
            catalog.spec_for(kind)
            out.append((tenant.id, kind))
            continue
        # A tenant's own few integrations, not every kind of the catalog (500 tenants: 1 ms, not 5)
        on = [k for k, state in tenant.integrations.items() if state.enabled and k in order]
        on.sort(key=order.__getitem__)
        out.extend((tenant.id, k) for k in on)
    return out


class RunControl(abc.ABC):
    """What a front end holds of a run of many operations (the Scheduler here, or
    checkproc.ProcessScheduler): cancel it, wait for its outcomes, see whether it is done."""

    def __init__(
        self,
        ws: Workspace,
        pairs: list[Pair],
        *,
        op: str = "check",
        timeout: float | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_batch: Callable[[Batch], None] | None = None,
        batch_interval: float = 0.15,
        cancel: threading.Event | None = None,
    ) -> None:
        self.ws = ws
        self.pairs = list(pairs)
        self.op = op
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.on_batch = on_batch
        self.batch_interval = batch_interval
        self.cancel_event = cancel or threading.Event()
        self.results: list[list[Outcome] | None] = [None] * len(self.pairs)
        self._lock = threading.Lock()
        self._finished = threading.Event()

    @abc.abstractmethod
    def start(self) -> RunControl:
        """Start the run (its threads, or its worker processes); returns self."""

    def cancel(self) -> None:
        """Running operations end as cancelled, queued ones without starting."""
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """Every outcome, in the order of the pairs (after the last batch was delivered)."""
        self._finished.wait(timeout)
        return [o for group in self.results if group for o in group]

    @property
    def done(self) -> bool:
        return self._finished.is_set()


class Scheduler(RunControl):
    """Runs one operation (the check by default) for many (tenant, kind) pairs on threads of
    this process (options: those of RunControl)."""

    def __init__(
        self,
        ws: Workspace,
        pairs: list[Pair],
        *,
        secrets: dict[str, str | None] | None = None,
        **options: Any,
    ) -> None:
        """secrets: the pairs' secrets read already (a check worker process gets them from
        the process that started it); then nothing is read ahead here."""
        super().__init__(ws, pairs, **options)
        self._next = 0
        self._running: dict[int, engine.Job] = {}
        self._unsent: Batch = []
        self._left = len(self.pairs)
        self._secrets: dict[str, str | None] = dict(secrets) if secrets is not None else {}
        self._given = secrets is not None
        # The secrets are read ahead in two batches: the first runs' (so that they start at
        # once), then all the others' while those wait on the network. A batch costs a few
        # keyring calls whatever its size (one GetSecrets for the Secret Service), so more
        # batches would only cost more. A run waits for its batch.
        self._chunk = max(8, self.concurrency)
        self._ready = [threading.Event() for _n in range(2 if len(self.pairs) > self._chunk else 1)]
        self._monitor: threading.Thread | None = None
        self._wake = threading.Event()  # a result came in: the monitor looks at once

    # ---- control ---------------------------------------------------------------------------------
    def start(self) -> Scheduler:
        self._monitor = threading.Thread(target=self._run, name="xdrconf-scheduler", daemon=True)
        self._monitor.start()
        return self

    # ---- the monitor -------------------------------------------------------------------------
    def _prefetch(self) -> None:
        for n, ready in enumerate(self._ready):
            if self._given:
                break
            if self.cancel_event.is_set():
                break
            chunk = self.pairs[: self._chunk] if n == 0 else self.pairs[self._chunk :]
            self._secrets.update(engine.prefetch(self.ws, chunk))
            ready.set()
        for ready in self._ready:  # cancelled or done: nobody waits any longer
            ready.set()

    def _run(self) -> None:
        threading.Thread(target=self._prefetch, name="xdrconf-scheduler-secrets", daemon=True).start()
        for _worker in range(min(self.concurrency, len(self.pairs))):
            self._spawn()
        last_flush = time.monotonic()
        while True:
            with self._lock:
                left = self._left
                running = list(self._running.items())
            if left == 0:
                break
            now = time.monotonic()
            cancelled = self.cancel_event.is_set()
            for i, job in running:
                if cancelled:
                    self._abandon(i, job, Category.CANCELLED)
                elif now >= job.deadline:
                    self._abandon(i, job, Category.TIMEOUT)
            if cancelled:
                self._cancel_queued()
            if now - last_flush >= self.batch_interval:
                self._flush()
                last_flush = now
            self._wake.wait(0.02)
            self._wake.clear()
        self._flush()
        self._finished.set()

    def _spawn(self) -> None:
        threading.Thread(target=self._work, name="xdrconf-scheduler-worker", daemon=True).start()

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= len(self.pairs) or self.cancel_event.is_set():
                return None
            i = self._next
            self._next += 1
            return i

    def _work(self) -> None:
        while True:
            i = self._take()
            if i is None:
                return
            tid, kind = self.pairs[i]
            self._ready[0 if i < self._chunk else 1].wait()
            try:
                job = engine.prepare(
                    self.ws,
                    tid,
                    kind,
                    self.op,
                    timeout=self.timeout,
                    cancel=self.cancel_event,
                    secrets_cache=self._secrets,
                )
            except Exception as exc:  # noqa: BLE001 - a defect must not stop the others
                job = [Outcome(Category.INVALID_CONFIG, f"{exc}.", tenant=tid, integration=kind)]
            if isinstance(job, list):
                self._record(i, job)
                continue
            with self._lock:
                self._running[i] = job
            job.execute()
            with self._lock:
                self._running.pop(i, None)
                replaced = job.replaced
            if not job.done.is_set():
                # It stopped before the monitor saw it run (cancelled meanwhile): it still
                # needs its one outcome, or the scheduler would wait for it for ever.
                job.abandon(Category.CANCELLED if self.cancel_event.is_set() else Category.TIMEOUT)
            self._record(i, job.outcomes())
            if replaced:
                return  # a fresh worker took this one's place while it was stuck

    def _abandon(self, i: int, job: engine.Job, category: Category) -> None:
        job.abandon(category)
        with self._lock:
            if self._running.pop(i, None) is None:
                return
            job.replaced = True
        self._record(i, job.outcomes())
        self._spawn()

    def _cancel_queued(self) -> None:
        with self._lock:
            queued = list(range(self._next, len(self.pairs)))
            self._next = len(self.pairs)
        for i in queued:
            tid, kind = self.pairs[i]
            path = self.ws.tree.path(tid) if tid in self.ws.tree else tid
            self._record(
                i,
                [
                    Outcome(
                        Category.CANCELLED,
                        _("The check was cancelled before it started."),
                        tenant=path,
                        integration=kind,
                        operation=self.op,
                    )
                ],
            )

    def _record(self, i: int, outcomes: list[Outcome]) -> None:
        with self._lock:
            if self.results[i] is not None:
                return
            self.results[i] = outcomes
            self._unsent.append((self.pairs[i], outcomes))
            self._left -= 1
        self._wake.set()

    def _flush(self) -> None:
        with self._lock:
            batch, self._unsent = self._unsent, []
        if batch and self.on_batch is not None:
            try:
                self.on_batch(batch)
            except Exception:  # a receiver's defect must not stop the checks
                log.exception("delivering a batch of results failed")


def run_many(
    ws: Workspace,
    pairs: list[Pair],
    *,
    op: str = "check",
    timeout: float | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    cancel: threading.Event | None = None,
    on_batch: Callable[[Batch], None] | None = None,
) -> list[Outcome]:
    """Run the operation for every pair and wait; outcomes in the order of `pairs`."""
    sched = Scheduler(
        ws, pairs, op=op, timeout=timeout, concurrency=concurrency, cancel=cancel, on_batch=on_batch
    )
    return sched.start().wait()


def by_pair(batch: Batch) -> dict[Pair, list[dict[str, Any]]]:
    """A batch as Workspace.record_results takes it (stored forms; cancelled ones left out,
    so that they do not replace what was known before)."""
    return {
        pair: [o.to_dict() for o in outcomes]
        for pair, outcomes in batch
        if not any(o.category is Category.CANCELLED for o in outcomes)
    }
