"""Many checks in worker processes: Check all in the window and `xdrconf check` at scale.

A check spends its time waiting on the network, but its TLS handshake and HTTP parsing run
in Python under the interpreter lock: hundreds of them on threads of one process are bound
to one core, and while they run the window's GUI thread waits for the lock between frames.
So a run of many checks (PROCESS_MIN pairs or more) goes to worker processes, each with an
interpreter of its own running the core's Scheduler over its share:

    sched = ProcessScheduler(ws, pairs, on_batch=deliver).start(); ...; sched.wait()

The same interface as scheduler.Scheduler (start, cancel, wait, done, on_batch from another
thread). What a worker gets, over its standard input (never a command-line argument, never
a file): the settings document, its share of the pairs, and the secrets of that share, read
here in one batch (so a vault unlocked in this process serves them too, and a worker opens
no keyring of its own). It runs the very same engine, whose redaction keeps the secrets out
of every outcome, and answers with lines of JSON on its standard output: batches of
outcomes, then an end line. "cancel" on its input cancels its run; the end of its input
(this process gone) does too.

Nothing is lost: a worker that cannot start, dies or goes silent is killed, and the pairs
it had not answered are run here, on threads, by the in-process Scheduler.

Workers start in about half a second (the interpreter and the integrations' imports); the
window keeps spare ones started ahead (warm()), so that Check all does not wait for that.
XDRCONF_CHECK_PROCESSES sets how many at most (0: never; default: one per CPU, at most 4),
XDRCONF_CHECK_PROCESS_MIN from how many pairs on."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import engine, i18n
from .outcome import Outcome
from .process import freeze_survivors
from .scheduler import DEFAULT_CONCURRENCY, Batch, Pair, RunControl, Scheduler

if TYPE_CHECKING:
    from .workspace import Workspace

log = logging.getLogger(__name__)

WORKER_FLAG = "--xdrconf-check-worker"  # the hidden argument of xdrconf's entry point
PROCESS_MIN = 48  # fewer pairs: threads of this process (a worker costs ~0.5 s to start)
MAX_PROCESSES = 4
# A worker says it is alive every HEARTBEAT_S; one that has said nothing for SILENT_S is
# taken for hung: it is killed and its unanswered pairs run here.
HEARTBEAT_S = 1.0
WORKER_NICENESS = 10
SILENT_S = 10.0


def max_processes() -> int:
    raw = os.environ.get("XDRCONF_CHECK_PROCESSES", "").strip()
    if raw.isdigit():
        return int(raw)
    return min(MAX_PROCESSES, os.cpu_count() or 1)


def process_min() -> int:
    raw = os.environ.get("XDRCONF_CHECK_PROCESS_MIN", "").strip()
    return max(1, int(raw)) if raw.isdigit() else PROCESS_MIN


def processes_for(n_pairs: int) -> int:
    """How many worker processes a run of n_pairs gets (0: it runs on threads here)."""
    most, least = max_processes(), process_min()
    if most <= 0 or n_pairs < least:
        return 0
    return max(1, min(most, n_pairs // least))


def worker_command() -> list[str]:
    """How to start a worker: the frozen application's own binary, or this interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG]
    return [sys.executable, "-m", "xdrconf", WORKER_FLAG]


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        # The package this process runs, found first (a source tree run without installing).
        here = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    return env


# ---- spare workers ----------------------------------------------------------------------------
_spares: list[subprocess.Popen[str]] = []
_spares_lock = threading.Lock()
_generation = [0]


def _spawn() -> subprocess.Popen[str]:
    return subprocess.Popen(
        worker_command(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,  # a worker's own failure (a traceback holds no values) goes where ours goes
        text=True,
        encoding="utf-8",
        env=_worker_env(),
        close_fds=True,
    )


def generation() -> int:
    """Changes with every discard_spares(): a warm() asked for before it does nothing."""
    return _generation[0]


def warm(n: int | None = None, *, since: int | None = None) -> int:
    """Start spare workers ahead (up to n, by default as many as a large run takes), so that
    a later run does not wait for them to start. Returns how many are spare now. With
    since (a generation()), nothing is started once the spares were discarded after it."""
    want = max_processes() if n is None else min(n, max_processes())
    with _spares_lock:
        if since is not None and since != _generation[0]:
            return 0
        _spares[:] = [p for p in _spares if p.poll() is None]
        while len(_spares) < want:
            try:
                _spares.append(_spawn())
            except OSError as exc:
                log.warning("a check worker could not be started: %s", exc)
                break
        return len(_spares)


def spares() -> int:
    with _spares_lock:
        return sum(1 for p in _spares if p.poll() is None)


def discard_spares(*, wait: bool = True) -> None:
    """End the spare workers (they would end by themselves when this process does). Without
    wait, their ends are awaited on a thread of their own (a window closing does not wait)."""
    with _spares_lock:
        _generation[0] += 1
        taken, _spares[:] = list(_spares), []
    if not taken:
        return

    def end_all() -> None:
        for proc in taken:  # every one told first (the end of its input), then each awaited
            _close_pipes(proc)
        for proc in taken:
            _close(proc)

    if wait:
        end_all()
    else:
        threading.Thread(target=end_all, name="xdrconf-check-spares-end", daemon=True).start()


def _take() -> subprocess.Popen[str]:
    with _spares_lock:
        while _spares:
            proc = _spares.pop(0)
            if proc.poll() is None:
                return proc
    return _spawn()


def _close_pipes(proc: subprocess.Popen[str]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()


def _close(proc: subprocess.Popen[str], wait: float = 2.0) -> None:
    """End a worker: the end of its input, then its exit awaited (killed if it does not)."""
    _close_pipes(proc)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)


# ---- the wire ---------------------------------------------------------------------------------
def to_wire(outcome: Outcome) -> dict[str, Any]:
    out = outcome.to_dict()
    out["data"] = outcome.data
    out["refused"] = outcome.refused
    return out


def from_wire(data: dict[str, Any]) -> Outcome:
    outcome = Outcome.from_dict(data)
    outcome.data = data.get("data")
    outcome.refused = bool(data.get("refused"))
    return outcome


# ---- this side ---------------------------------------------------------------------------------
class _Share:
    """One worker and the pairs (indices into the run's pairs) it was given."""

    def __init__(self, proc: subprocess.Popen[str], indices: list[int]) -> None:
        self.proc = proc
        self.indices = indices
        self.answered: set[int] = set()
        self.last_heard = time.monotonic()
        self.reader: threading.Thread | None = None


class ProcessScheduler(RunControl):
    """Runs one operation for many pairs in worker processes (see the module docstring);
    concurrency is the runs at a time in each worker."""

    def __init__(
        self,
        ws: Workspace,
        pairs: list[Pair],
        *,
        processes: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(ws, pairs, **options)
        self.processes = processes if processes is not None else processes_for(len(self.pairs))
        self.fallback: list[int] = []  # pairs run here because a worker did not answer them
        self._deliver_lock = threading.Lock()
        self._shares: list[_Share] = []

    # ---- control ---------------------------------------------------------------------------------
    def start(self) -> ProcessScheduler:
        threading.Thread(target=self._run, name="xdrconf-check-processes", daemon=True).start()
        return self

    @property
    def worker_pids(self) -> list[int]:
        return [s.proc.pid for s in self._shares]

    # ---- the run ------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._run_workers()
        except Exception:
            log.exception("the check workers failed; the remaining checks run in this process")
        try:
            self._run_here([i for i, r in enumerate(self.results) if r is None])
        finally:
            self._finished.set()

    def _run_workers(self) -> None:
        n = min(self.processes, len(self.pairs))
        if n <= 0 or self.cancel_event.is_set():
            return
        # Started first: their start-up overlaps the secrets' read below.
        procs: list[subprocess.Popen[str]] = []
        for _n in range(n):
            try:
                procs.append(_take())
            except OSError as exc:
                log.warning("a check worker could not be started: %s", exc)
                break
        if not procs:
            return
        try:
            secrets = self._read_secrets()
            if secrets is None:  # the keyring cannot be read: every run here says why, quickly
                for proc in procs:
                    _close(proc, 0.5)
                return
            document = document_json(self.ws.document())
            shares = [
                _Share(proc, list(range(k, len(self.pairs), len(procs)))) for k, proc in enumerate(procs)
            ]
            for share in shares:
                self._send_job(share, document, secrets)
        except BaseException:
            for proc in procs:
                _close(proc, 0.5)
            raise
        self._shares = shares
        for share in shares:
            share.reader = threading.Thread(
                target=self._read, args=(share,), name="xdrconf-check-worker-reader", daemon=True
            )
            share.reader.start()
        self._watch(shares)

    def _read_secrets(self) -> dict[str, str | None] | None:
        refs = engine.secret_refs(self.ws, self.pairs)
        if not refs:
            return {}
        got = engine.prefetch(self.ws, self.pairs)
        missing = [r for r in dict.fromkeys(refs) if r not in got]
        if missing:
            # A locked vault leaves its secrets out of a batch: the first one read unlocks it
            # (asking for its passphrase as a run would), then the rest come in one batch.
            # If even that fails, the runs here say why, each for its own.
            try:
                got[missing[0]] = self.ws.secrets.get(missing[0])
                if len(missing) > 1:
                    got.update(self.ws.secrets.get_many(missing[1:]))
            except Exception as exc:  # noqa: BLE001 - the runs here report it in their words
                log.info("the secrets of a run could not be read ahead: %s", type(exc).__name__)
                return None
            if any(r not in got for r in missing):
                return None
        return got

    def _send_job(self, share: _Share, document: str, secrets: dict[str, str | None]) -> None:
        pairs = [self.pairs[i] for i in share.indices]
        wanted = engine.secret_refs(self.ws, pairs)
        job = {
            "config_dir": str(self.ws.config_dir),
            "pairs": pairs,
            "secrets": {ref: secrets.get(ref) for ref in wanted},
            "op": self.op,
            "timeout": self.timeout,
            "concurrency": self.concurrency,
            "batch_interval": self.batch_interval,
            "language": i18n.language(),
        }
        head = json.dumps(job, ensure_ascii=False)
        assert share.proc.stdin is not None
        try:
            # The document is written as it is (already JSON), in the same object.
            share.proc.stdin.write(head[:-1] + ', "document": ' + document + "}\n")
            share.proc.stdin.flush()
        except OSError as exc:
            log.warning("a check worker did not take its job: %s", exc)  # its reader sees it end

    def _read(self, share: _Share) -> None:
        stdout = share.proc.stdout
        assert stdout is not None
        try:
            for line in stdout:
                share.last_heard = time.monotonic()
                try:
                    message = json.loads(line)
                except ValueError:
                    log.warning("a check worker said something that is not JSON; it is stopped")
                    break
                if message.get("alive"):
                    continue
                if message.get("end"):
                    break
                batch: Batch = []
                for local, wire in message.get("batch", []):
                    i = share.indices[local]
                    outcomes = [from_wire(w) for w in wire]
                    if self._record(i, outcomes):
                        share.answered.add(i)
                        batch.append((self.pairs[i], outcomes))
                self._deliver(batch)
                freeze_survivors()  # the batch's objects stay out of later collections' way
        except (OSError, ValueError) as exc:
            log.warning("reading a check worker failed: %s", exc)

    def _watch(self, shares: list[_Share]) -> None:
        told_cancel = False
        while True:
            alive = [s for s in shares if s.reader is not None and s.reader.is_alive()]
            if not alive:
                break
            if self.cancel_event.is_set() and not told_cancel:
                told_cancel = True
                for s in alive:
                    self._tell(s, "cancel")
            now = time.monotonic()
            for s in alive:
                silent = now - s.last_heard
                if silent > SILENT_S:
                    log.warning("a check worker went silent for %.0f s; it is stopped", silent)
                    s.proc.kill()
            for s in alive:
                if s.reader is not None:
                    s.reader.join(0.05)
        for s in shares:
            _close(s.proc, 1.0)
            if s.proc.returncode not in (0, None) and len(s.answered) < len(s.indices):
                log.warning(
                    "a check worker ended with status %s before answering %d of its %d checks; "
                    "those run in this process",
                    s.proc.returncode,
                    len(s.indices) - len(s.answered),
                    len(s.indices),
                )

    def _tell(self, share: _Share, word: str) -> None:
        if share.proc.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):
            share.proc.stdin.write(word + "\n")
            share.proc.stdin.flush()

    def _run_here(self, left: list[int]) -> None:
        if not left:
            return
        self.fallback = list(left)
        mapping = {self.pairs[i]: i for i in left}

        def deliver(batch: Batch) -> None:
            kept: Batch = []
            for pair, outcomes in batch:
                i = mapping[pair]
                if self._record(i, outcomes):
                    kept.append((pair, outcomes))
            self._deliver(kept)

        Scheduler(
            self.ws,
            [self.pairs[i] for i in left],
            op=self.op,
            timeout=self.timeout,
            concurrency=self.concurrency,
            on_batch=deliver,
            batch_interval=self.batch_interval,
            cancel=self.cancel_event,
        ).start().wait()

    def _record(self, i: int, outcomes: list[Outcome]) -> bool:
        with self._lock:
            if self.results[i] is not None:
                return False
            self.results[i] = outcomes
            return True

    def _deliver(self, batch: Batch) -> None:
        if not batch or self.on_batch is None:
            return
        with self._deliver_lock:  # one batch at a time, as the in-process Scheduler delivers
            try:
                self.on_batch(batch)
            except Exception:
                log.exception("delivering a batch of results failed")


# ---- the worker's side ---------------------------------------------------------------------------
def _preload() -> None:
    """What the checks of any job need, loaded before the job comes: while the parent reads
    the secrets (or while a spare waits) rather than after (~250 ms here: the integrations'
    specs, httpx)."""
    from . import catalog

    for kind in catalog.KINDS:
        with contextlib.suppress(Exception):  # a plugin that fails says so when it is used
            catalog.spec_for(kind)
    import httpx  # noqa: F401 - the HTTP integrations' client


def document_json(doc: dict[str, Any]) -> str:
    """The settings document as JSON (as json.dumps makes it), made a tenant at a time. One
    json.dumps of a large document holds the interpreter lock from start to end: 8-18 ms
    for 500 tenants here, during which the window's thread cannot run (a stall at the start
    of every Check all); a tenant's takes some 30 µs."""
    parts = []
    for key, value in doc.items():
        if key == "tenants":
            text = "[" + ", ".join(json.dumps(tenant, ensure_ascii=False) for tenant in value) + "]"
        else:
            text = json.dumps(value, ensure_ascii=False)
        parts.append(f"{json.dumps(key, ensure_ascii=False)}: {text}")
    return "{" + ", ".join(parts) + "}"


def worker_main(stdin: IO[str] | None = None) -> int:
    """A worker process: one job from standard input, its outcomes as JSON lines on standard
    output. Standard output is kept for those lines alone (anything else printed goes to
    standard error)."""
    from .process import harden
    from .workspace import Workspace

    harden()  # it holds secrets: no core dump (core/process.py)
    if hasattr(os, "nice"):
        # Below the window in the CPU's queue: its checks wait on the network anyway, and
        # when the machine is busy the window's frames come first.
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICENESS)
    # A worker started by the window's thread inherits its short time slices: the default
    # serves a worker's bursts of TLS and JSON better (fewer switches).
    from .process import short_slices

    short_slices(0)
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    source = stdin if stdin is not None else sys.stdin
    _preload()
    line = source.readline()
    if not line.strip():
        return 0  # a spare that was never used: its parent ended or discarded it
    job = json.loads(line)
    with contextlib.suppress(ValueError):
        i18n.set_language(job.get("language") or i18n.DEFAULT)
    ws = Workspace(
        Path(job["config_dir"]),
        job["document"],
        lock=None,
        readonly_reason="a check worker",  # i18n: ignore - never shown; it only keeps the worker from saving
    )
    write_lock = threading.Lock()

    def emit(message: dict[str, Any]) -> None:
        text = json.dumps(message, ensure_ascii=False, default=str)
        with write_lock:
            out.write(text + "\n")
            out.flush()

    pairs = [(str(t), str(k)) for t, k in job["pairs"]]
    index = {pair: n for n, pair in enumerate(pairs)}
    cancel = threading.Event()

    def deliver(batch: Batch) -> None:
        emit({"batch": [[index[pair], [to_wire(o) for o in outcomes]] for pair, outcomes in batch]})

    def listen() -> None:
        for word in source:
            if word.strip() == "cancel":
                break
        cancel.set()  # "cancel", or the end of the input: the parent is gone

    threading.Thread(target=listen, name="xdrconf-check-worker-input", daemon=True).start()
    finished = threading.Event()

    def heartbeat() -> None:
        while not finished.wait(HEARTBEAT_S):
            emit({"alive": True})

    threading.Thread(target=heartbeat, name="xdrconf-check-worker-heartbeat", daemon=True).start()
    sched = Scheduler(
        ws,
        pairs,
        op=str(job.get("op") or "check"),
        timeout=job.get("timeout"),
        concurrency=int(job.get("concurrency") or DEFAULT_CONCURRENCY),
        on_batch=deliver,
        batch_interval=float(job.get("batch_interval") or 0.15),
        cancel=cancel,
        secrets=dict(job.get("secrets") or {}),
    )
    sched.start().wait()
    finished.set()
    emit({"end": True})
    out.close()
    ws.secrets.close()
    return 0


def make(
    ws: Workspace,
    pairs: list[Pair],
    *,
    op: str = "check",
    timeout: float | None = None,
    concurrency: int | None = None,
    thread_concurrency: int | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    cancel: threading.Event | None = None,
) -> RunControl:
    """The scheduler for a run: worker processes for many pairs, threads here for a few.
    concurrency: runs at a time per process; thread_concurrency: when they run here."""
    processes = processes_for(len(pairs))
    if processes > 0:
        return ProcessScheduler(
            ws,
            pairs,
            processes=processes,
            op=op,
            timeout=timeout,
            concurrency=concurrency or DEFAULT_CONCURRENCY,
            on_batch=on_batch,
            cancel=cancel,
        )
    return Scheduler(
        ws,
        pairs,
        op=op,
        timeout=timeout,
        concurrency=thread_concurrency or concurrency or DEFAULT_CONCURRENCY,
        on_batch=on_batch,
        cancel=cancel,
    )


def run_and_keep(ws: Workspace, pairs: list[Pair], *, timeout: float | None = None) -> list[Outcome]:
    """Check every pair (make's scheduler) and keep the results as the integrations' last
    ones (cancelled ones left out), unless the settings are open read-only; the outcomes in
    the order of the pairs. The command line's `check` and `health --check`."""
    from .scheduler import by_pair

    results: dict[Pair, list[dict[str, Any]]] = {}
    found = (
        make(ws, pairs, timeout=timeout, on_batch=lambda batch: results.update(by_pair(batch))).start().wait()
    )
    if not ws.readonly:
        ws.record_results(results)
    return found
