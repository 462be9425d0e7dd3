"""The one scheduler (Check all in the window, `xdrconf check`): the secrets of every pair read
in one batch, results delivered in batches and returned in the order asked, an overdue run
abandoned while the others go on, and Cancel. Against real KUMA-like HTTPS peers."""

from __future__ import annotations

import threading

from support.kuma_peer import GOOD_TOKEN, configure
from support.trickle_peer import TricklePeer
from xdrconf.core import engine
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.outcome import Category
from xdrconf.core.scheduler import Scheduler, by_pair, run_many, targets


def tenants(ws, kuma, test_ca, n):
    return [(configure(ws, kuma.port, ca=test_ca.cert_pem, tenant=f"T{i:02d}"), "kuma") for i in range(n)]


def test_results_come_in_batches_and_in_order(ws, kuma, test_ca):
    pairs = tenants(ws, kuma, test_ca, 12)
    batches: list = []
    sched = Scheduler(ws, pairs, concurrency=3, on_batch=batches.append, batch_interval=60)
    results = sched.start().wait(60)
    assert sched.done
    assert [r.tenant for r in results] == [f"Root tenant/T{i:02d}" for i in range(12)]
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    # Nothing was delivered one by one: one batch at the end holds all twelve.
    assert len(batches) == 1 and sorted(p for p, _ in batches[0]) == sorted(pairs)
    assert by_pair(batches[0]) == {p: [o.to_dict() for o in outs] for p, outs in batches[0]}
    assert len(kuma.requests) == 12


def test_batches_arrive_while_the_checks_run(ws, kuma, test_ca):
    pairs = tenants(ws, kuma, test_ca, 6)
    batches: list = []
    results = run_many(ws, pairs, concurrency=1, on_batch=batches.append)
    assert len(results) == 6 and sum(len(b) for b in batches) == 6
    assert {p for b in batches for p, _ in b} == set(pairs)


def test_an_overdue_run_is_abandoned_and_the_others_go_on(ws, kuma, server_cert, test_ca):
    with TricklePeer(cert=server_cert) as slow:
        stuck = configure(ws, slow.port, ca=test_ca.cert_pem, tenant="Stuck")
        fine = tenants(ws, kuma, test_ca, 2)
        # One worker: only a fresh worker in place of the stuck one can run the others.
        results = run_many(ws, [(stuck, "kuma"), *fine], concurrency=1, timeout=1.5)
    assert [r.category for r in results] == [Category.TIMEOUT, Category.OK, Category.OK], [
        (r.category, r.message, r.details) for r in results
    ]
    assert "did not finish within its time limit" in results[0].message


def test_cancel_ends_running_and_queued_runs(ws, kuma, test_ca):
    kuma.api.mode = "hang"
    pairs = tenants(ws, kuma, test_ca, 5)
    cancel = threading.Event()
    batches: list = []
    sched = Scheduler(ws, pairs, concurrency=2, cancel=cancel, on_batch=batches.append).start()
    for _ in range(200):
        if len(kuma.requests) == 2:
            break
        threading.Event().wait(0.05)
    assert len(kuma.requests) == 2
    sched.cancel()
    results = sched.wait(10)
    assert [r.category for r in results] == [Category.CANCELLED] * 5
    messages = sorted(r.message for r in results)
    assert messages.count("The check was cancelled before it started.") == 3
    assert len(kuma.requests) == 2
    assert by_pair([p for b in batches for p in b]) == {}  # cancelled: nothing replaces what was known


def test_secrets_are_read_in_one_batch(ws, kuma, test_ca):
    pairs = tenants(ws, kuma, test_ca, 3)
    acme = ws.add_tenant("Acme")
    conn = kata.add_connection(ws, acme.id, "127.0.0.1", 443, "rsa2048")  # a key too long for the keyring
    got = engine.prefetch(ws, [*pairs, (acme.id, "kata")])
    refs = [ws.tenant(t).integrations["kuma"].secrets["token"] for t, _ in pairs]
    assert [got[r] for r in refs] == [GOOD_TOKEN] * 3
    key_ref = ws.tenant(acme.id).integrations["kata"].secrets[kata.secret_name(conn["id"])]
    assert key_ref.startswith("blob:") and got[key_ref] == kata.private_key(ws, acme.id, conn["id"])


def test_targets_are_the_enabled_integrations(ws, kuma, test_ca):
    pairs = tenants(ws, kuma, test_ca, 2)
    configure(ws, kuma.port, ca=test_ca.cert_pem, tenant="Off", enabled=False)
    assert targets(ws) == pairs
    assert targets(ws, "T01") == [pairs[1]]
    assert targets(ws, "Off", "kuma") == [(ws.tenant("Off").id, "kuma")]


def test_cancel_at_any_moment_ends_the_scheduler(ws, kuma, test_ca):
    """Cancelled right after the start (a run may be taken but not started yet): every pair
    still gets its one outcome and the scheduler's threads end."""
    kuma.api.mode = "hang"
    pairs = tenants(ws, kuma, test_ca, 3)
    for moment in range(30):
        sched = Scheduler(ws, pairs, concurrency=3).start()
        threading.Event().wait(moment / 1000)  # 0 to 29 ms: before, while and after runs start
        sched.cancel()
        results = sched.wait(10)
        assert sched.done, "the scheduler did not end after Cancel"
        assert len(results) == 3
        assert [r.category for r in results] == [Category.CANCELLED] * 3
