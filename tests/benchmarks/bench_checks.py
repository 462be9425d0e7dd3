"""Check figures (a script, not a test): `.venv/bin/python tests/benchmarks/bench_checks.py`

500 KUMA checks (500 tenants, each with its own token in the real Secret Service) against
a loopback HTTPS peer that answers after 200 ms:
(1) responsiveness: the largest gap between ticks of a 5 ms QTimer on the GUI thread while
    the checks run through the window's worker pool and the Check-all dialog
    (target <= 50 ms);
(2) throughput: all 500 finish within 1.2 x ceil(500 / concurrency) x 0.2 s;
(3) the same 500 checked one at a time, for comparison (--sequential N to change N)."""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

DELAY = 0.2

# The KUMA peer runs in its own process, as a real server would: its TLS handshakes and
# request handling must not compete with the measured process for the GIL.
PEER = r"""
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from support.https_peer import HttpsPeer
from support.kuma_peer import KumaApi
from support.pki import Issued

cert = Issued(Path(sys.argv[2]).read_text(), Path(sys.argv[3]).read_text(), Path(sys.argv[2]),
              Path(sys.argv[3]), b"")
api = KumaApi()
delay = float(sys.argv[4])

def slow(request):
    reply = api(request)
    reply.delay = delay
    return reply

with HttpsPeer(slow, cert=cert) as peer:
    print(peer.port, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
"""


def run_loop_until(signal, timeout_s: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument(
        "--sequential", type=int, default=500, help="how many to check one at a time (default: all 500)"
    )
    parser.add_argument(
        "--hidden",
        action="store_true",
        help="do not show the Check-all dialog (to see what painting it costs)",
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
    from support.pki import TestCA
    from xdrconf.core.workspace import Workspace

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="xdrconf-bench-checks-"))
    ca = TestCA(tmp / "pki")
    cert = ca.issue()
    peer = subprocess.Popen(
        [sys.executable, "-c", PEER, str(_common.TESTS), str(cert.cert_path), str(cert.key_path), str(DELAY)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None and peer.stdin is not None
        port = int(peer.stdout.readline())
        with Workspace.open(tmp / "config", keyring_backend=secret_service.backend()) as ws:
            return measure(app, ws, port, ca, args)
    finally:
        if peer.stdin is not None:
            peer.stdin.close()
        peer.wait(10)


def measure(app, ws, port, ca, args) -> int:
    from support.kuma_peer import GOOD_TOKEN
    from xdrconf.core.engine import run_operation
    from xdrconf.core.workspace import IntegrationEdit
    from xdrconf.qt import workers
    from xdrconf.qt.checks_ui import CheckAllDialog

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
    pairs = [(t.id, "kuma") for t in ws.tree.children(ws.tree.root_id)]
    print(
        f"set-up: {len(pairs)} tenants with their own KUMA token in {ws.secrets.backend_name}, "
        f"{time.perf_counter() - started:.1f} s; peer answers after {DELAY * 1000:.0f} ms"
    )

    # (1) + (2): through the worker pool and the Check-all dialog, timer ticking.
    concurrency = workers.check_pool().maxThreadCount()
    ticks = _common.TickRecorder()
    ticks.start()
    t0 = time.perf_counter()
    dialog = CheckAllDialog(ws, pairs, title="bench")
    if not args.hidden:
        dialog.show()
    dialog.start()
    run_loop_until(dialog.finished_all, 600)
    total = time.perf_counter() - t0
    run_loop_until(dialog.saved, 60)
    gaps = ticks.stop()
    results = [r for rs in dialog.by_pair.values() for r in rs]
    ok = sum(1 for r in results if r.ok)
    ideal = math.ceil(len(pairs) / concurrency) * DELAY
    gaps_sorted = sorted(gaps)
    p99 = gaps_sorted[int(len(gaps_sorted) * 0.99) - 1]
    print(
        f"(1) GUI responsiveness while {len(pairs)} checks ran: largest gap between 5 ms "
        f"timer ticks {max(gaps):.1f} ms (target <= 50 ms); p99 {p99:.1f} ms, median "
        f"{statistics.median(gaps):.1f} ms, {len(gaps)} ticks"
    )
    print(
        f"(2) throughput: {len(pairs)} checks ({ok} ok) in {total:.2f} s with {concurrency} at "
        f"once; ideal ceil({len(pairs)}/{concurrency}) x {DELAY} s = {ideal:.2f} s, limit 1.2 x "
        f"ideal = {1.2 * ideal:.2f} s -> {total / ideal:.2f} x ideal"
    )
    latencies = sorted(r.latency_ms or 0 for r in results)
    print(f"    per check: median {statistics.median(latencies):.0f} ms, max {latencies[-1]:.0f} ms")
    dialog.close()

    # (3) one at a time (still off the GUI thread: one worker runs them in a row).
    n = min(args.sequential, len(pairs))
    if n:
        box: dict[str, float] = {}

        def in_a_row() -> int:
            start = time.perf_counter()
            good = sum(1 for tid, kind in pairs[:n] for r in run_operation(ws, tid, kind) if r.ok)
            box["s"] = time.perf_counter() - start
            return good

        ticks.start()
        task = workers.run_in_background(in_a_row)
        run_loop_until(task.done, 3600)
        gaps = ticks.stop()
        print(
            f"(3) one at a time: {n} checks ({task.result} ok) in {box['s']:.1f} s "
            f"({box['s'] / n * 1000:.0f} ms each; concurrent was {box['s'] / total:.0f}x "
            f"faster for {n} checks); largest GUI gap meanwhile {max(gaps):.1f} ms"
        )
    workers.wait_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
