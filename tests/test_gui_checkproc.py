"""Check all in the real window with its checks in worker processes (core/checkproc.py):
spare workers started ahead after the window is up and used by Check all, the results table
and the saved results as on threads, Cancel through the dialog's button, spares again
after the run and none left when the window closes."""

from __future__ import annotations

import pytest

from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core import checkproc
from xdrconf.core.workspace import IntegrationEdit

pytestmark = pytest.mark.usefixtures("check_workers_from_two")


def table_rows(dialog):
    model = dialog.table.model()
    return [
        [model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())
    ]


def test_check_all_runs_in_spare_workers(window, qtbot, ws, kuma, test_ca):
    for name in ("A", "B", "C", "D"):
        configure(ws, kuma.port, tenant=name, token=GOOD_TOKEN, ca=test_ca.cert_pem)
    ws.update_integration("D", IntegrationEdit("kuma", secrets={"token": "revoked-token"}))
    window.refresh()
    task = window.warm_checks()
    assert task is not None
    qtbot.waitUntil(lambda: checkproc.spares() == 2, timeout=20000)
    spare_pids = sorted(p.pid for p in checkproc._spares)
    window.select_tenant(ws.tree.root_id)
    window.act_check_subtree.trigger()
    dialog = window.check_dialog
    qtbot.waitUntil(lambda: dialog.scheduler is not None, timeout=5000)  # after its first paint
    assert isinstance(dialog.scheduler, checkproc.ProcessScheduler)
    with qtbot.waitSignal(dialog.saved, timeout=60000):
        pass
    assert sorted(dialog.scheduler.worker_pids) == spare_pids and dialog.scheduler.fallback == []
    rows = {r[0]: r for r in table_rows(dialog)}
    assert set(rows) == {"A", "B", "C", "D"}
    assert [rows[n][3] for n in "ABC"] == ["OK"] * 3 and rows["D"][3] == "Authentication failed"
    assert dialog.summary.text() == "4 of 4 integrations checked, 1 not OK — done"
    assert ws.tenant("D").integrations["kuma"].results[0]["category"] == "auth_failed"
    assert ws.tenant("A").integrations["kuma"].results[0]["category"] == "ok"
    # Spares again for the next Check all; gone when the window closes.
    qtbot.waitUntil(lambda: checkproc.spares() == 2, timeout=20000)
    spares = list(checkproc._spares)
    dialog.close()
    window.close()
    assert checkproc.spares() == 0
    for proc in spares:
        assert proc.wait(20) == 0


def test_check_all_in_workers_can_be_cancelled(window, qtbot, ws, kuma, test_ca):
    kuma.api.mode = "hang"
    for name in ("A", "B", "C"):
        configure(ws, kuma.port, tenant=name, token=GOOD_TOKEN, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    window.act_check_subtree.trigger()
    dialog = window.check_dialog
    qtbot.waitUntil(lambda: dialog.scheduler is not None, timeout=5000)  # after its first paint
    assert isinstance(dialog.scheduler, checkproc.ProcessScheduler)
    qtbot.waitUntil(lambda: len(kuma.requests) == 3, timeout=30000)
    with qtbot.waitSignal(dialog.finished_all, timeout=20000):
        dialog.cancel_button.click()
    assert {r[3] for r in table_rows(dialog)} == {"Cancelled"}
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        pass
    assert all(not ws.tenant(n).integrations["kuma"].results for n in ("A", "B", "C"))
    dialog.close()


def sched_slice(pid: int | str = "self") -> int | None:
    """The time slice (ns) Linux gives the main thread of pid, None on a kernel without them."""
    with open(f"/proc/{pid}/sched") as f:
        for line in f:
            if line.startswith("se.slice"):
                return int(line.split(":")[1])
    return None


def test_the_windows_thread_asks_for_short_time_slices_and_its_workers_do_not(
    window, qtbot, ws, kuma, test_ca
):
    """The GUI thread asks Linux for short time slices (it gets onto a CPU as soon as it
    wakes); the check workers it starts, which inherit them, give them back."""
    from xdrconf.core.process import FRAME_SLICE_NS, time_slice

    if sched_slice() is None:
        pytest.skip("this kernel has no per-thread time slices (Linux 6.12 and later have them)")
    assert time_slice() == FRAME_SLICE_NS == sched_slice()  # this test's thread runs the window
    for name in ("A", "B"):
        configure(ws, kuma.port, tenant=name, token=GOOD_TOKEN, ca=test_ca.cert_pem)
    window.refresh()
    assert window.warm_checks() is not None
    qtbot.waitUntil(lambda: checkproc.spares() == 1, timeout=20000)  # two checks: one worker
    pids = [p.pid for p in checkproc._spares]
    qtbot.waitUntil(lambda: all((sched_slice(pid) or 0) > FRAME_SLICE_NS for pid in pids), timeout=20000)
    window.close()


def test_check_all_opens_a_dialog_made_ahead_with_what_this_run_checks(window, qtbot, ws, kuma, test_ca):
    """The window makes the next Check dialog at an idle moment (with its spare workers);
    a click then shows that one, set to what it checks, and another is made for the next."""
    import shiboken6
    from PySide6.QtCore import Qt

    from xdrconf.qt import checks_ui

    def spare_now():  # this window's (an earlier test's may have been deleted with its window)
        spare = checks_ui._spare
        mine = spare is not None and shiboken6.isValid(spare) and spare.parentWidget() == window
        return spare if mine else None

    for name in ("A", "B", "C"):
        configure(ws, kuma.port, tenant=name, token=GOOD_TOKEN, ca=test_ca.cert_pem)
    window.refresh()
    assert window.warm_checks() is not None
    qtbot.waitUntil(lambda: spare_now() is not None, timeout=5000)  # at an idle moment after
    spare = spare_now()
    assert spare is not None and spare.parentWidget() == window and not spare.isVisible()
    window.select_tenant(ws.tree.root_id)
    window.act_check_subtree.trigger()
    dialog = window.check_dialog
    assert dialog is spare and dialog.isVisible() and spare_now() is None
    assert dialog.windowTitle() == "Check — Root tenant and below"
    assert dialog.summary.text() == "0 of 3 integrations checked"
    assert dialog.progress.maximum() == 3
    assert dialog.table.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded
    with qtbot.waitSignal(dialog.saved, timeout=60000):
        pass
    assert dialog.summary.text() == "3 of 3 integrations checked — done"
    assert sorted(r[0] for r in table_rows(dialog)) == ["A", "B", "C"]
    qtbot.waitUntil(lambda: spare_now() is not None, timeout=5000)  # made again after the run
    second = spare_now()
    assert second is not None and second is not dialog and not second.isVisible()
    dialog.close()

    window.select_tenant(ws.tenant("B").id)
    window.act_check_tenant.trigger()
    dialog = window.check_dialog
    assert dialog is second and dialog.windowTitle() == "Check — Root tenant/B"
    with qtbot.waitSignal(dialog.saved, timeout=60000):
        pass
    assert [r[0] for r in table_rows(dialog)] == ["B"] and dialog.progress.maximum() == 1
    assert dialog.summary.text() == "1 of 1 integration checked — done"
    dialog.close()
