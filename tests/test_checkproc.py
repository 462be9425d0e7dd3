"""Many checks in worker processes (core/checkproc.py): the same outcomes as on threads, in
the order asked; the secrets reach a worker only over its standard input; a worker that dies
costs no result; Cancel ends the workers' runs; spare workers. Real worker processes (the
interpreter running `python -m xdrconf --xdrconf-check-worker`) against the real KUMA-like
HTTPS peer, the real Secret Service."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core import checkproc
from xdrconf.core.outcome import Category, Outcome
from xdrconf.core.scheduler import Scheduler, by_pair, targets

pytestmark = pytest.mark.usefixtures("check_workers_from_two")


def tenants(ws, kuma, test_ca, n):
    return [(configure(ws, kuma.port, ca=test_ca.cert_pem, tenant=f"T{i:02d}"), "kuma") for i in range(n)]


def wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def test_many_checks_run_in_worker_processes_with_the_same_outcomes(ws, kuma, test_ca):
    pairs = tenants(ws, kuma, test_ca, 8)
    batches: list = []
    sched = checkproc.make(ws, pairs, on_batch=batches.append)
    assert isinstance(sched, checkproc.ProcessScheduler) and sched.processes == 2
    results = sched.start().wait(120)
    assert sched.done
    assert len(sched.worker_pids) == 2 and os.getpid() not in sched.worker_pids
    assert sched.fallback == []  # every outcome came from a worker
    assert [r.tenant for r in results] == [f"Root tenant/T{i:02d}" for i in range(8)]
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    assert {r.integration for r in results} == {"kuma"} and all(r.latency_ms for r in results)
    # Delivered in batches as they came, every pair once.
    assert sorted(p for b in batches for p, _ in b) == sorted(pairs)
    assert len(kuma.requests) == 8
    # The token went to the peer it was given for, in the header, and nowhere else.
    assert all(r.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}" for r in kuma.requests)
    assert not any(GOOD_TOKEN in json.dumps(checkproc.to_wire(r)) for r in results)


def test_few_checks_stay_on_threads(ws, kuma, test_ca, monkeypatch):
    monkeypatch.setenv("XDRCONF_CHECK_PROCESS_MIN", "48")
    pairs = tenants(ws, kuma, test_ca, 3)
    assert isinstance(checkproc.make(ws, pairs), Scheduler)
    monkeypatch.setenv("XDRCONF_CHECK_PROCESS_MIN", "2")
    monkeypatch.setenv("XDRCONF_CHECK_PROCESSES", "0")  # never
    assert isinstance(checkproc.make(ws, pairs), Scheduler)


def test_a_worker_gets_no_secret_on_its_command_line_and_keeps_none_on_disk(ws, kuma, test_ca):
    kuma.api.mode = "hang"
    pairs = tenants(ws, kuma, test_ca, 4)
    sched = checkproc.ProcessScheduler(ws, pairs, timeout=30).start()
    try:
        assert wait_for(lambda: len(kuma.requests) == 4)
        pids = sched.worker_pids
        assert len(pids) == 2
        for pid in pids:
            assert GOOD_TOKEN.encode() not in cmdline(pid)
            assert b"--xdrconf-check-worker" in cmdline(pid)
            env = Path(f"/proc/{pid}/environ").read_bytes()
            assert GOOD_TOKEN.encode() not in env
    finally:
        sched.cancel()
        results = sched.wait(30)
    assert [r.category for r in results] == [Category.CANCELLED] * 4
    settings = ws.file.path.read_text(encoding="utf-8")
    assert GOOD_TOKEN not in settings


def test_cancel_ends_the_workers_runs(ws, kuma, test_ca):
    kuma.api.mode = "hang"
    pairs = tenants(ws, kuma, test_ca, 6)
    cancel = threading.Event()
    batches: list = []
    sched = checkproc.ProcessScheduler(
        ws, pairs, concurrency=2, cancel=cancel, on_batch=batches.append
    ).start()
    assert wait_for(lambda: len(kuma.requests) == 4)  # two at a time in each of two workers
    started = time.monotonic()
    cancel.set()
    results = sched.wait(30)
    assert sched.done and time.monotonic() - started < 20, "Cancel did not end the workers' runs"
    assert [r.category for r in results] == [Category.CANCELLED] * 6
    assert sorted(r.message for r in results).count("The check was cancelled before it started.") == 2
    assert len(kuma.requests) == 4
    assert by_pair([p for b in batches for p in b]) == {}  # nothing replaces what was known
    for pid in sched.worker_pids:
        assert wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists() or b"zombie" in status(pid))


def status(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/status").read_bytes().lower()
    except OSError:
        return b"zombie"


def test_a_worker_that_dies_costs_no_result(ws, kuma, test_ca):
    """A worker killed in the middle of its runs: the pairs it had not answered run here, on
    threads; every pair gets its one outcome."""
    kuma.api.mode = "hang"
    pairs = tenants(ws, kuma, test_ca, 6)
    sched = checkproc.ProcessScheduler(ws, pairs, timeout=3).start()
    assert wait_for(lambda: len(kuma.requests) == 6)
    os.kill(sched.worker_pids[0], signal.SIGKILL)  # the worker of pairs 0, 2 and 4
    kuma.api.mode = "normal"  # the peer answers from now on
    results = sched.wait(120)
    assert sched.done and len(results) == 6
    assert sorted(sched.fallback) == [0, 2, 4], sched.fallback
    assert [results[i].category for i in (0, 2, 4)] == [Category.OK] * 3, [r.message for r in results]
    # The other worker's runs were waiting on the hung peer: they end at their deadline.
    assert [results[i].category for i in (1, 3, 5)] == [Category.TIMEOUT] * 3


@pytest.mark.parametrize("program", ["/nonexistent.invalid/python", "/bin/false"])
def test_a_worker_that_cannot_start_or_ends_at_once_costs_no_result(ws, kuma, test_ca, monkeypatch, program):
    """No worker process at all (the program is missing), or one that ends before taking its
    job: the checks run here."""
    monkeypatch.setattr("sys.executable", program)
    pairs = tenants(ws, kuma, test_ca, 3)
    sched = checkproc.ProcessScheduler(ws, pairs).start()
    results = sched.wait(120)
    assert len(results) == 3 and all(r.ok for r in results), [r.message for r in results]
    assert sorted(sched.fallback) == [0, 1, 2]


def test_spare_workers_are_used_by_the_next_run(ws, kuma, test_ca):
    assert checkproc.warm(2) == 2
    spare_pids = sorted(p.pid for p in checkproc._spares)
    pairs = tenants(ws, kuma, test_ca, 4)
    sched = checkproc.ProcessScheduler(ws, pairs).start()
    results = sched.wait(120)
    assert all(r.ok for r in results)
    assert sorted(sched.worker_pids) == spare_pids
    assert checkproc.spares() == 0


def test_an_unused_spare_ends_when_discarded(ws):
    checkproc.warm(1)
    proc = checkproc._spares[0]
    checkproc.discard_spares()
    assert proc.wait(20) == 0


def test_the_wire_keeps_what_the_front_ends_show():
    o = Outcome(
        Category.OK,
        "Connected.",
        "kuma.invalid:7223",
        12.5,
        tenant="Root tenant/A",
        integration="kuma",
        operation="check",
        data={"rows": [1, 2]},
        warnings=["w"],
        verified=False,
        refused=True,
    )
    back = checkproc.from_wire(json.loads(json.dumps(checkproc.to_wire(o))))
    assert back == o


def test_the_command_line_checks_many_in_workers(cli, ws, kuma, test_ca):
    tenants(ws, kuma, test_ca, 5)
    ws.close()
    r = cli("check", "--json")
    assert r.code == 0, r
    found = json.loads(r.out)
    assert [f["tenant"] for f in found] == [f"Root tenant/T{i:02d}" for i in range(5)]
    assert all(f["ok"] for f in found)
    assert len(kuma.requests) == 5


def test_targets_of_a_large_run(ws, kuma, test_ca):
    pairs = tenants(ws, kuma, test_ca, 3)
    assert checkproc.processes_for(len(targets(ws))) == 1  # 3 pairs, 2 a process at least
    assert checkproc.processes_for(len(pairs) + 1) == 2


def test_a_locked_vaults_secrets_reach_the_workers(config_dir, kuma, test_ca):
    """Where no keyring serves, the secrets are in the vault: the run unlocks it once (its
    unlocker asks, as for a single check), reads every secret in one batch and hands them
    to the workers; none of the checks runs here."""
    from keyring.backends import fail

    from xdrconf.core.vault import KdfParams
    from xdrconf.core.workspace import Workspace

    passphrase = "correct horse battery staple 42"
    asked: list[bool] = []

    def unlock(store, creating):
        asked.append(creating)
        (store.create if creating else store.unlock)(passphrase)

    with Workspace.open(
        config_dir, keyring_backend=fail.Keyring(), vault_kdf=KdfParams(memory_kib=8 * 1024, iterations=2)
    ) as vws:
        vws.secrets.vault.unlocker = unlock
        pairs = tenants(vws, kuma, test_ca, 4)
        assert all(
            r.startswith("vault:")
            for t, _k in pairs
            for r in vws.tenant(t).integrations["kuma"].secrets.values()
        )
        vws.secrets.vault.lock()
        asked.clear()
        sched = checkproc.ProcessScheduler(vws, pairs).start()
        results = sched.wait(120)
    assert [r.category for r in results] == [Category.OK] * 4, [r.message for r in results]
    assert asked == [False] and sched.fallback == [] and len(sched.worker_pids) == 2
    assert all(r.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}" for r in kuma.requests)


def test_a_worker_loads_no_command_line_of_httpx():
    """httpx imports its own command line (rich, click, pygments: ~70 ms of a worker's
    start) whenever those are installed, as they are here (a test tool brings them): a
    worker that has loaded everything its checks need has not loaded them."""
    import importlib.util
    import subprocess
    import sys

    assert importlib.util.find_spec("rich") is not None  # installed: the refusal is tested
    probe = (
        "import sys\n"
        "from xdrconf.core import checkproc\n"
        "checkproc._preload()\n"
        "import httpx\n"
        "print(sorted(m for m in ('rich', 'click', 'pygments') if m in sys.modules), callable(httpx.main))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["[]", "True"]


def test_the_document_a_worker_gets_is_the_workspaces_as_json(ws, kuma, test_ca):
    """Made a tenant at a time (the interpreter lock is not held for the whole document),
    it is the same JSON as json.dumps makes of the document, odd names and all."""
    tenants(ws, kuma, test_ca, 3)
    ws.add_tenant('Кавычки "и" \\ слэш ✓')
    doc = ws.document()
    assert json.loads(checkproc.document_json(doc)) == doc == json.loads(json.dumps(doc))
    assert checkproc.document_json(doc) == json.dumps(doc, ensure_ascii=False)
    others: list[dict[str, Any]] = [
        {"tenants": []},
        {},
        {"a": [1, {"b": None}], "tenants": [{"c": "ё"}], "z": 1.5},
    ]
    for other in others:
        assert checkproc.document_json(other) == json.dumps(other, ensure_ascii=False)
