"""Check figures (a script, not a test): `.venv/bin/python tests/benchmarks/bench_checks.py`

500 tenants, each with its own KUMA token in the real Secret Service, checked against a
KUMA-like HTTPS peer on loopback (its own processes, asyncio) that answers after 200 ms.
Each round measures, one after the other on the same peer:
(0) the floor: a minimal reference client (asyncio + ssl, all 500 at once) doing the same
    500 TLS handshakes and requests;
(1) throughput: the 500 checks through the core's scheduler as `xdrconf check` runs them,
    and through Check all in the real window (target: <= 2 x the floor of the same round);
(2) responsiveness: the largest gap between ticks of a 5 ms QTimer on the GUI thread while
    the window's Check all runs them, the real CheckAllDialog (target <= 16 ms);
(3) reading the 500 secrets in one batch (SecretStores.get_many; target <= 100 ms): through a
    fresh store, again through it, through a fresh one primed first as the window primes its
    own after start-up; and the same from an unlocked vault. With them, the Secret Service's
    own floor, its GetSecrets for every item (each value names its entry, so a fresh store
    needs no more), and what the items' attribute reads would cost, all written at once:
    values written before they named their entries (or by another program) need them.
Many checks run in worker processes (core/checkproc.py): (1) and (2) measure them so.
The machine's load average is printed with each figure (the machine is shared)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

DELAY = 0.2
PEER = Path(__file__).resolve().parent / "_async_kuma_peer.py"


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def run_loop_until(signal: Any, timeout_s: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def spin(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


# ---- the floor ------------------------------------------------------------------------------------
def floor(port: int, ca_pem: str, token: str, n: int) -> tuple[float, int]:
    """n TLS handshakes and KUMA whoami requests at once (asyncio + ssl, one context):
    the time until every answer is read, and how many were 200 with a login."""
    request = (
        f"GET /api/v1/users/whoami HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    ).encode()

    async def one(context: ssl.SSLContext) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
        try:
            writer.write(request)
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            length = next(int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:"))
            body = await reader.readexactly(length)
            return head[0].split(" ")[1] == "200" and bool(json.loads(body)["login"])
        finally:
            writer.close()

    async def run() -> tuple[float, int]:
        started = time.perf_counter()
        context = ssl.create_default_context(cadata=ca_pem)
        done = await asyncio.gather(*(one(context) for _ in range(n)), return_exceptions=True)
        return time.perf_counter() - started, sum(1 for d in done if d is True)

    return asyncio.run(run())


# ---- the measured runs ----------------------------------------------------------------------------
def through_scheduler(
    ws: Any, pairs: list[tuple[str, str]], concurrency: int | None = None
) -> tuple[float, int]:
    """As `xdrconf check` runs them (the core's scheduler with its defaults, or with
    `concurrency` runs at a time)."""
    from xdrconf.core.checkproc import make
    from xdrconf.core.scheduler import DEFAULT_CONCURRENCY

    started = time.perf_counter()
    results = make(ws, pairs, concurrency=concurrency or DEFAULT_CONCURRENCY).start().wait()
    return time.perf_counter() - started, sum(1 for r in results if r.ok)


def idle_gap(seconds: float = 2.0) -> float:
    """The largest gap of the same 5 ms timer with nothing running: what the machine's load
    alone costs the GUI thread (the figure under (2) cannot be below it)."""
    ticks = _common.TickRecorder()
    ticks.start()
    spin(seconds)
    return max(g for _t, g in ticks.stop_timed())


class GapTracer:
    """Samples what the GUI thread runs every 2 ms (its Python stack: a paint shows as the
    model's data() or as the event loop itself), to say what the largest gaps were made of."""

    def __init__(self) -> None:
        import threading

        self.gui = threading.get_ident()
        self.samples: list[tuple[float, str]] = []
        self.sched: list[tuple[float, dict[int, tuple[int, int]]]] = []
        self.names: dict[int, str] = {}
        self.collections: Collections | None = None  # recorded from start() to report()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _sched() -> dict[int, tuple[int, int]]:
        """Per thread of this process: nanoseconds on a CPU and waiting for one."""
        out: dict[int, tuple[int, int]] = {}
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/schedstat") as f:
                    run, wait, _slices = f.read().split()
            except OSError:
                continue
            out[int(task)] = (int(run), int(wait))
        return out

    def _run(self) -> None:
        import threading

        self.gui_native = threading.main_thread().native_id or 0
        while not self.stop_event.wait(0.002):
            self.sched.append((time.perf_counter(), self._sched()))
            frame = sys._current_frames().get(self.gui)
            where: list[str] = []
            while frame is not None and len(where) < 5:
                code = frame.f_code
                where.append(f"{Path(code.co_filename).stem}:{code.co_name}:{frame.f_lineno}")
                frame = frame.f_back
            self.samples.append((time.perf_counter(), " < ".join(where)))

    def start(self) -> None:
        self.collections = Collections()
        self.thread.start()

    def report(self, gaps: list[tuple[float, float]], started: float, worst: int = 6) -> None:
        import threading

        self.names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError), open(f"/proc/self/task/{task}/comm") as f:
                self.names.setdefault(int(task), f.read().strip())
        self.stop_event.set()
        self.thread.join()
        assert self.collections is not None, "report() after start()"
        self.collections.stop()
        for end, gap in sorted(gaps, key=lambda g: -g[1])[:worst]:
            begin = end - gap / 1000
            seen: dict[str, int] = {}
            for t, where in self.samples:
                if begin <= t <= end:
                    seen[where] = seen.get(where, 0) + 1
            print(f"    gap {gap:.1f} ms at +{(begin - started) * 1000:.0f} ms:")
            for a, b, generation, who in self.collections.seen:
                if a < end and b > begin:
                    took = (b - a) * 1000
                    print(f"        garbage collection of generation {generation} on {who}: {took:.1f} ms")
            inside = [(t, d) for t, d in self.sched if begin - 0.002 <= t <= end + 0.002]
            if len(inside) >= 2:
                first, last = inside[0][1], inside[-1][1]
                used = {
                    tid: ((last[tid][0] - first[tid][0]) / 1e6, (last[tid][1] - first[tid][1]) / 1e6)
                    for tid in last
                    if tid in first
                }
                gui_run, gui_wait = used.get(self.gui_native, (0.0, 0.0))
                span = (inside[-1][0] - inside[0][0]) * 1000
                others = sorted(
                    ((run, tid) for tid, (run, _w) in used.items() if tid != self.gui_native), reverse=True
                )[:3]
                print(
                    f"        GUI thread over {span:.0f} ms: {gui_run:.1f} ms on a CPU, {gui_wait:.1f} ms "
                    f"waiting for one, the rest asleep (the interpreter lock or idle); others on a CPU: "
                    + ", ".join(f"{self.names.get(tid, tid)} {run:.1f} ms" for run, tid in others)
                )
            for where, count in sorted(seen.items(), key=lambda kv: -kv[1])[:4]:
                print(f"        {count:3d} x {where}")


class Collections:
    """The garbage collections of this process (any thread's: each holds the interpreter
    lock, so the GUI thread waits for it) while it is recorded."""

    def __init__(self) -> None:
        import gc

        self.seen: list[tuple[float, float, int, str]] = []  # start, end, generation, thread
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        import threading

        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seen.append(
                (
                    self._began,
                    time.perf_counter(),
                    int(info.get("generation", -1)),
                    threading.current_thread().name,
                )
            )

    def stop(self) -> None:
        import gc

        gc.callbacks.remove(self._callback)

    def during(self, begin: float, end: float) -> str:
        """'; garbage collections: generation 2 on xdrconf-… 41 ms, …' for those in (begin, end)."""
        inside = [(b - a, g, who) for a, b, g, who in self.seen if a < end and b > begin and b - a > 0.0005]
        if not inside:
            return ""
        return "; garbage collections: " + ", ".join(
            f"generation {g} on {who} {took * 1000:.1f} ms" for took, g, who in inside
        )


def through_window(window: Any, n: int, trace: bool = False) -> dict[str, Any]:
    """Check subtree on the Root tenant in the real window: the real CheckAllDialog."""
    tracer = GapTracer() if trace else None
    if tracer is not None:
        tracer.start()
    ticks = _common.TickRecorder()
    collections = Collections()
    ticks.start()
    ran, waited = cpu_times()
    started = time.perf_counter()
    window.act_check_subtree.trigger()
    dialog = window.check_dialog
    assert dialog is not None and len(dialog.pairs) == n, "the window did not open its Check dialog"
    run_loop_until(dialog.finished_all, 600)
    finished = time.perf_counter()
    ran, waited = (a - b for a, b in zip(cpu_times(), (ran, waited), strict=True))
    run_loop_until(dialog.saved, 60)
    saved = time.perf_counter()
    spin(0.2)  # the window refreshes after the save
    gaps = ticks.stop_timed()
    collections.stop()
    worst = sorted((i for i, (t, _g) in enumerate(gaps) if t <= finished), key=lambda i: -gaps[i][1])[:5]
    split = ", ".join(
        f"{gaps[i][1]:.0f} at +{(gaps[i][0] - started) * 1000:.0f} ({ticks.split(i)[0]:.0f} on a CPU, "
        f"{ticks.split(i)[1]:.0f} waiting, {ticks.stolen(i):.0f} stolen"
        f"{collections.during(gaps[i][0] - gaps[i][1] / 1000, gaps[i][0])})"
        for i in worst
    )
    after = max((i for i, (t, _g) in enumerate(gaps) if t > finished), key=lambda i: gaps[i][1], default=None)
    after_split = ""
    if after is not None:
        t, g = gaps[after]
        after_split = (
            f" ({ticks.split(after)[0]:.0f} on a CPU, {ticks.split(after)[1]:.0f} waiting, "
            f"{ticks.stolen(after):.0f} stolen{collections.during(t - g / 1000, t)})"
        )
    results = [r for rs in dialog.by_pair.values() for r in rs]
    during = [g for t, g in gaps if t <= finished]
    unstolen = [g for i, (t, g) in enumerate(gaps) if t <= finished and not ticks.stolen(i)]
    dialog.close()
    if tracer is not None:
        tracer.report([(t, g) for t, g in gaps if t <= finished], started)
    return {
        "total": finished - started,
        "ok": sum(1 for r in results if r.ok),
        "gap": max(during),
        "gap_all": max(g for _t, g in gaps),
        "after_split": after_split,  # the largest gap after the run, split as the others
        "p99": sorted(during)[int(len(during) * 0.99) - 1],
        "ticks": len(during),
        "save": saved - finished,
        "latency": statistics.median(r.latency_ms or 0 for r in results),
        "waited": waited,
        "ran": ran,
        "split": split,
        "unstolen": max(unstolen, default=0.0),
    }


def cpu_times() -> tuple[float, float]:
    """ms the calling thread has spent on a CPU, and runnable but waiting for one."""
    run, wait = _common.schedstat()
    return run / 1e6, wait / 1e6


def read_primed(ws: Any, refs: list[str]) -> tuple[float, float]:
    """SecretStores.get_many of every ref through a fresh store that was primed first (the
    window primes its store after start-up when it holds many integrations): the priming's
    milliseconds and the batch's."""
    from xdrconf.core.secrets import SecretStore

    own = ws.secrets.keyring
    fresh = SecretStore(own.service.split("/", 1)[1], own.blob_dir, backend=own.backend)
    try:
        started = time.perf_counter()
        fresh.prime()
        primed = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        fresh.get_many(refs)
        return primed, (time.perf_counter() - started) * 1000
    finally:
        fresh.close()


def read_secrets(ws: Any, refs: list[str]) -> tuple[float, float, int]:
    """SecretStores.get_many of every ref through a fresh store of the same keyring entries
    (as right after start-up: its connection and session opened first), then again through
    it. Milliseconds. (The workspace's own store stays open: a closed
    store would serve each later call on a thread and session of its own.)"""
    from xdrconf.core.secrets import SecretStore

    own = ws.secrets.keyring
    fresh = SecretStore(own.service.split("/", 1)[1], own.blob_dir, backend=own.backend)
    try:
        started = time.perf_counter()
        got = fresh.get_many(refs)
        cold = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        got = fresh.get_many(refs)
        warm = (time.perf_counter() - started) * 1000
    finally:
        fresh.close()
    return cold, warm, sum(1 for r in refs if got.get(r))


def secret_service_alone(service: str) -> tuple[float, float, float, int]:
    """The Secret Service's own floors for the service's items, on one connection and a
    plain session opened beforehand (jeepney, as secretstorage uses it): its GetSecrets for
    every item in one call; its item attribute reads, which a store needs for values that do
    not name their entry (no call returns many items' attributes), all written at once until
    every reply is read; and, to
    compare, as many Peer.Ping calls, which the daemon answers without looking at an item.
    Milliseconds of each, and how many secrets came back."""
    from jeepney import DBusAddress, Properties, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    name, path = "org.freedesktop.secrets", "/org/freedesktop/secrets"
    service_address = DBusAddress(path, name, "org.freedesktop.Secret.Service")
    peer = DBusAddress(path, name, "org.freedesktop.DBus.Peer")
    with open_dbus_connection("SESSION") as conn:
        _algorithm, session = conn.send_and_get_reply(
            new_method_call(service_address, "OpenSession", "sv", ("plain", ("s", "")))
        ).body
        unlocked, _locked = conn.send_and_get_reply(
            new_method_call(service_address, "SearchItems", "a{ss}", ({"service": service},))
        ).body
        started = time.perf_counter()
        (secrets,) = conn.send_and_get_reply(
            new_method_call(service_address, "GetSecrets", "aoo", (unlocked, session)), timeout=60
        ).body
        get_secrets = (time.perf_counter() - started) * 1000

        def all_at_once(calls: list[Any]) -> float:
            started = time.perf_counter()
            conn.sock.sendall(b"".join(c.serialise(serial=next(conn.outgoing_serial)) for c in calls))
            for _ in calls:
                conn.receive(timeout=60)
            return (time.perf_counter() - started) * 1000

        item = "org.freedesktop.Secret.Item"
        attributes = all_at_once([Properties(DBusAddress(p, name, item)).get("Attributes") for p in unlocked])
        pings = all_at_once([new_method_call(peer, "Ping") for _ in unlocked])
        return get_secrets, attributes, pings, len(secrets)


def vault_read(folder: Path, n: int) -> tuple[float, int]:
    """n secrets of an unlocked vault (cheap Argon2 parameters: only the read is timed)."""
    from keyring.backends import fail

    from xdrconf.core.vault import KdfParams
    from xdrconf.core.workspace import IntegrationEdit, Workspace

    passphrase = "correct horse battery staple 42"
    with Workspace.open(
        folder, keyring_backend=fail.Keyring(), vault_kdf=KdfParams(memory_kib=8 * 1024, iterations=2)
    ) as ws:

        def unlock(store: Any, creating: bool) -> None:
            (store.create if creating else store.unlock)(passphrase)

        ws.secrets.vault.unlocker = unlock
        with ws.secrets.batch():
            ws.update_integration(
                "Root",
                IntegrationEdit(
                    "kuma", values={"host": "127.0.0.1", "port": "7223"}, secrets={"token": "t" * 27}
                ),
            )
            for i in range(n):
                ws.add_tenant(f"V{i:03d}")
        refs = [t.integrations["kuma"].secrets["token"] for t in ws.tree.children(ws.tree.root_id)]
        started = time.perf_counter()
        got = ws.secrets.get_many(refs)
        took = (time.perf_counter() - started) * 1000
        return took, sum(1 for r in refs if got.get(r))


# ---- the run ----------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of floor, scheduler, window")
    parser.add_argument("--peer-procs", type=int, default=2, help="processes of the peer")
    parser.add_argument("--no-window", action="store_true", help="the scheduler only")
    parser.add_argument(
        "--peer-nice",
        type=int,
        default=0,
        help="run the peer's processes at this niceness (e.g. 10: as if the peer were another "
        "machine, its CPU not taken from the window's)",
    )
    parser.add_argument(
        "--window-concurrency",
        default="",
        help="comma-separated runs at a time for Check all in the window, one window run each "
        "(as XDRCONF_CHECK_CONCURRENCY would set it; default: the window's own)",
    )
    parser.add_argument(
        "--concurrency",
        default="",
        help="comma-separated numbers of runs at a time to try the scheduler with too (e.g. 16,64,128)",
    )
    parser.add_argument(
        "--trace-gaps",
        action="store_true",
        help="say what the GUI thread ran during the largest gaps (sampled every 2 ms)",
    )
    parser.add_argument(
        "--default-slice",
        action="store_true",
        help="give the window's thread the kernel's default time slice back (the window asks for "
        "short ones: core/process.short_slices), to compare",
    )
    args = parser.parse_args()
    _common.start_keyring()
    try:
        return run(args)
    finally:
        _common.stop_keyring()


def run(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QApplication

    import xdrconf.qt  # noqa: F401 - before any Qt use (see xdrconf/qt/__init__.py)
    from support import secret_service
    from support.kuma_peer import GOOD_TOKEN
    from support.pki import TestCA
    from xdrconf.core.workspace import IntegrationEdit, Workspace

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="xdrconf-bench-checks-"))
    ca = TestCA(tmp / "pki")
    cert = ca.issue()
    peer = subprocess.Popen(
        [
            sys.executable,
            str(PEER),
            str(_common.TESTS),
            str(cert.cert_path),
            str(cert.key_path),
            str(DELAY),
            str(args.peer_procs),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.nice(args.peer_nice)) if args.peer_nice else None,
    )
    try:
        assert peer.stdout is not None and peer.stdin is not None
        port = int(peer.stdout.readline())
        with Workspace.open(tmp / "config", keyring_backend=secret_service.backend()) as ws:
            started = time.perf_counter()
            ws.update_integration(
                "Root",
                IntegrationEdit(
                    "kuma",
                    values={"host": "127.0.0.1", "port": str(port), "tls_ca": ca.cert_pem},
                    secrets={"token": GOOD_TOKEN},
                    enabled=True,
                ),
            )
            for i in range(args.checks):
                ws.add_tenant(f"Tenant {i:03d}")  # each copies Root's token: its own keyring entry
            # Root's own check is not one of the 500 (Check subtree on Root checks what is on).
            ws.update_integration("Root", IntegrationEdit("kuma", enabled=False))
            pairs = [(t.id, "kuma") for t in ws.tree.children(ws.tree.root_id)]
            print(
                f"set-up: {len(pairs)} tenants with their own KUMA token in {ws.secrets.describe()}, "
                f"{time.perf_counter() - started:.1f} s; the peer ({args.peer_procs} asyncio processes"
                f"{f', niceness {args.peer_nice}' if args.peer_nice else ''}) "
                f"answers after {DELAY * 1000:.0f} ms; {os.cpu_count()} CPUs"
            )
            return measure(app, ws, port, ca, pairs, tmp, args, GOOD_TOKEN)
    finally:
        if peer.stdin is not None:
            peer.stdin.close()
        peer.wait(10)


def measure_window(
    window: Any, n: int, rnd: int, row: dict[str, float], size: int, trace: bool = False
) -> None:
    """One Check subtree in the window, its figures printed and kept in row."""
    from xdrconf.core import checkproc
    from xdrconf.core.process import time_slice
    from xdrconf.core.scheduler import DEFAULT_CONCURRENCY

    # As a user's click finds it: the window active (the dialog opening then deactivates it).
    window.activateWindow()
    spin(0.3)
    row["idle"] = idle_gap()
    w = through_window(window, n, trace=trace)
    row["window"], row["gap"] = w["total"], w["gap"]
    procs = checkproc.processes_for(n)
    how = f"{procs} worker processes, {DEFAULT_CONCURRENCY} at a time each" if procs else f"{size} at a time"
    print(
        f"round {rnd}: (1) Check all in the window ({how}): {n} checks ({w['ok']} ok) in "
        f"{w['total']:.2f} s = {w['total'] / row['floor']:.2f} x floor; median latency "
        f"{w['latency']:.0f} ms [{load()}]"
    )
    print(
        f"round {rnd}: (2) largest GUI gap meanwhile {w['gap']:.1f} ms (target <= 16 ms; "
        f"with nothing running, just before: {row['idle']:.1f} ms); p99 "
        f"{w['p99']:.1f} ms, {w['ticks']} ticks; saving the results {w['save'] * 1000:.0f} ms, "
        f"largest gap including the save and the window's refresh {w['gap_all']:.1f} ms "
        f"(the largest after the run{w['after_split']}); "
        f"the GUI thread ran {w['ran']:.0f} ms and waited {w['waited']:.0f} ms for a CPU (time slice "
        f"{(time_slice() or 0) / 1000:.0f} µs)"
    )
    print(
        f"    the largest gaps, ms: {w['split']}; the largest of those with no CPU time stolen by "
        f"the hypervisor meanwhile: {w['unstolen']:.1f} ms"
    )
    row["unstolen"] = w["unstolen"]


def measure(app: Any, ws: Any, port: int, ca: Any, pairs: list, tmp: Path, args: Any, token: str) -> int:
    from xdrconf.core import checkproc
    from xdrconf.qt import workers

    n = len(pairs)
    refs = [ws.tenant(tid).integrations["kuma"].secrets["token"] for tid, _k in pairs]
    cold, warm, found = read_secrets(ws, refs)
    print(
        f"(3) reading the {n} secrets (one batch, {ws.secrets.describe()}): {cold:.0f} ms with a "
        f"fresh session, {warm:.0f} ms again ({found} found; target <= 100 ms) [{load()}]"
    )
    primed, batch = read_primed(ws, refs)
    print(
        f"    the same through a fresh store primed first (as the window is after start-up): "
        f"{batch:.0f} ms (the priming, ahead: {primed:.0f} ms) [{load()}]"
    )
    alone, attributes, pings, found = secret_service_alone(ws.secrets.keyring.service)
    print(f"    the Secret Service's GetSecrets alone for those {found} items: {alone:.0f} ms [{load()}]")
    print(
        f"    what their attribute reads would add (values that name no entry), all written at once: "
        f"{attributes:.0f} ms (as many D-Bus pings: {pings:.0f} ms) [{load()}]"
    )
    took, found = vault_read(tmp / "vault-config", n)
    print(f"    the same from an unlocked vault: {took:.1f} ms ({found} found) [{load()}]")

    window = None
    if not args.no_window:
        from xdrconf.qt.main_window import MainWindow

        window = MainWindow(ws)
        if args.default_slice:
            from xdrconf.core.process import short_slices

            short_slices(0)
        window.show()
        window.start()
        spin(1.0)
        assert window.current_tenant_id() == ws.tree.root_id
    rows: list[dict[str, float]] = []
    for rnd in range(1, args.rounds + 1):
        row: dict[str, float] = {}
        row["floor"], good = floor(port, ca.cert_pem, token, n)
        print(f"round {rnd}: (0) floor: {n} requests ({good} ok) in {row['floor']:.2f} s [{load()}]")
        # `xdrconf check` starts its workers afresh: none of the window's spares serve it.
        checkproc.discard_spares()
        row["sched"], good = through_scheduler(ws, pairs)
        print(
            f"round {rnd}: (1) scheduler (as `xdrconf check`, {checkproc.processes_for(n)} worker "
            f"processes started afresh): {n} checks ({good} ok) in "
            f"{row['sched']:.2f} s = {row['sched'] / row['floor']:.2f} x floor [{load()}]"
        )
        if window is not None:
            from xdrconf.qt import workers as window_workers

            # The window a while after start-up (or after its last Check all): its spare
            # workers started and its keyring store primed.
            window.warm_checks()
            deadline = time.monotonic() + 30
            while checkproc.spares() < checkproc.processes_for(n) and time.monotonic() < deadline:
                spin(0.1)
            spin(0.5)
            sizes = [int(c) for c in args.window_concurrency.split(",") if c.strip()] or [0]
            for size in sizes:
                own = window_workers.CHECK_CONCURRENCY
                if size:
                    window_workers.CHECK_CONCURRENCY = size  # what XDRCONF_CHECK_CONCURRENCY sets
                try:
                    measure_window(window, n, rnd, row, size or own, args.trace_gaps)
                finally:
                    window_workers.CHECK_CONCURRENCY = own
        for c in [int(c) for c in args.concurrency.split(",") if c.strip()]:
            took, good = through_scheduler(ws, pairs, c)
            print(
                f"round {rnd}:     scheduler with {c} at a time: {n} checks ({good} ok) in {took:.2f} s "
                f"= {took / row['floor']:.2f} x floor [{load()}]"
            )
        rows.append(row)
    print(f"summary of {len(rows)} rounds (medians; ratios are per round, against that round's floor):")
    print(f"    floor {statistics.median(r['floor'] for r in rows):.2f} s")
    print(
        f"    scheduler {statistics.median(r['sched'] for r in rows):.2f} s, "
        f"{statistics.median(r['sched'] / r['floor'] for r in rows):.2f} x floor (target <= 2)"
    )
    if window is not None:
        print(
            f"    window {statistics.median(r['window'] for r in rows):.2f} s, "
            f"{statistics.median(r['window'] / r['floor'] for r in rows):.2f} x floor; largest GUI gap "
            f"{statistics.median(r['gap'] for r in rows):.1f} ms "
            f"(worst {max(r['gap'] for r in rows):.1f} ms; "
            f"with nothing running {statistics.median(r['idle'] for r in rows):.1f} ms; without "
            f"stolen time {statistics.median(r['unstolen'] for r in rows):.1f} ms)"
        )
        window.close()
    checkproc.discard_spares()
    workers.wait_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
