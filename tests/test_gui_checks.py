"""Check all (tenant and subtree) from the main window: progress, the results table,
Cancel, and the results kept in the settings and shown in the window."""

from __future__ import annotations

import gc

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QTimer
from PySide6.QtTest import QTest

from support.gui import wait_idle
from support.kuma_peer import GOOD_TOKEN, configure, configure_fast_and_slow
from xdrconf.core.workspace import IntegrationEdit
from xdrconf.qt import checks_ui


def table_rows(dialog):
    model = dialog.table.model()
    return [
        [model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())
    ]


def test_check_subtree_and_tenant(window, qtbot, ws, kuma, test_ca):
    acme = configure(ws, kuma.port, tenant="Acme", token=GOOD_TOKEN, ca=test_ca.cert_pem)
    ws.add_tenant("Acme EU", "Acme")  # copies Acme's KUMA settings and token
    ws.update_integration("Acme EU", IntegrationEdit("kuma", secrets={"token": "revoked-token"}))
    configure(ws, kuma.port, tenant="Globex", token=GOOD_TOKEN, ca=test_ca.cert_pem, enabled=False)
    window.refresh()
    window.select_tenant(acme)
    dialog = window.check_subtree()
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    assert dialog.progress.value() == dialog.progress.maximum() == 2
    rows = {r[0]: r for r in table_rows(dialog)}
    assert set(rows) == {"Acme", "Acme/Acme EU"}  # paths below the Root tenant
    assert rows["Acme"][1:4] == ["KUMA REST API", f"127.0.0.1:{kuma.port}", "OK"]
    assert rows["Acme/Acme EU"][3] == "Authentication failed"  # the code is in the tooltip
    assert rows["Acme"][5].endswith(" ms") and rows["Acme"][6]
    assert dialog.summary.text() == "2 of 2 integrations checked, 1 not OK — done"
    failed_row = [r[0] for r in table_rows(dialog)].index("Acme/Acme EU")
    results = dialog.table.model()
    tip = results.data(results.index(failed_row, 3), Qt.ItemDataRole.ToolTipRole)
    assert tip == "Authentication failed (auth_failed)"
    dialog.table.selectRow(failed_row)
    assert "Root tenant/Acme/Acme EU" in dialog.detail.text()
    assert "Authentication failed" in dialog.detail.text() and "403" in dialog.detail.text()
    wait_idle(qtbot, window)
    # Kept in the settings and shown in the window (tree mark, table, details).
    eu = ws.tenant("Acme EU")
    assert eu.integrations["kuma"].results[0]["category"] == "auth_failed"
    assert window.tree_model.data(window.tree_model.index_of(eu.id), window.tree_model.MARK_ROLE) == "error"
    window.select_tenant(eu.id)
    model = window.table_model
    assert model.data(model.index(model.row_of("kuma"), 3)).startswith("Authentication failed · ")
    dialog.close()

    # Check all for one tenant: only that tenant's enabled integrations.
    window.select_tenant(acme)
    dialog = window.check_tenant()
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    assert [r[0] for r in table_rows(dialog)] == ["Acme"]


def test_nothing_to_check_says_so(window, qtbot, ws):
    ws.add_tenant("Empty")
    window.refresh()
    window.select_tenant(ws.tenant("Empty").id)
    assert window.check_subtree() is None
    assert "Nothing to check" in window.last_error


def test_check_all_can_be_cancelled(window, qtbot, ws, kuma, test_ca):
    kuma.api.mode = "hang"
    for name in ("A", "B", "C"):
        configure(ws, kuma.port, tenant=name, token=GOOD_TOKEN, ca=test_ca.cert_pem)
    before = {
        t.name: list(t.integrations.get("kuma").results)
        for t in ws.tree.walk_all()
        if "kuma" in t.integrations
    }
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    dialog = window.check_subtree()
    qtbot.waitUntil(lambda: len(kuma.requests) == 3, timeout=10000)
    assert dialog.running
    with qtbot.waitSignal(dialog.finished_all, timeout=10000):
        dialog.cancel_button.click()
    assert {r[3] for r in table_rows(dialog)} == {"Cancelled"}
    assert "3 of 3 integrations checked" in dialog.summary.text()
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        pass
    # Cancelled checks do not replace what was known before.
    after = {
        t.name: list(t.integrations.get("kuma").results)
        for t in ws.tree.walk_all()
        if "kuma" in t.integrations
    }
    assert after == before


def test_check_all_starts_after_the_dialogs_first_paint_and_closing_it_first_runs_nothing(
    window, qtbot, ws, kuma, test_ca
):
    """The checks start once the dialog is on the screen. Closed (or cancelled) before
    that, it asks the peer nothing and keeps what was known; a later Check all runs."""
    for name in ("A", "B"):
        configure(ws, kuma.port, tenant=name, token=GOOD_TOKEN, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    dialog = window.check_subtree()
    assert dialog.scheduler is None and dialog.running  # not started yet, but counted as running
    # Two to check: the scroll bar comes only if the rows need it.
    assert dialog.table.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded
    assert dialog.summary.text() == "0 of 2 integrations checked"
    with qtbot.waitSignal(dialog.finished_all, timeout=10000):
        dialog.close()
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        pass
    assert dialog.scheduler is None and not dialog.running and kuma.requests == []
    assert all(not ws.tenant(n).integrations["kuma"].results for n in ("A", "B"))

    dialog = window.check_subtree()
    qtbot.waitUntil(lambda: dialog.scheduler is not None, timeout=5000)  # painted, then started
    # While it runs, the objects alive at its start are out of the full collections' reach;
    # given back once its results are saved.
    assert gc.get_freeze_count() > 0
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    assert gc.get_freeze_count() == 0
    assert len(kuma.requests) == 2 and dialog.summary.text() == "2 of 2 integrations checked — done"
    assert ws.tenant("A").integrations["kuma"].results[0]["category"] == "ok"
    dialog.close()

    dialog = window.check_subtree()
    dialog.cancel_button.click()  # before it started
    with qtbot.waitSignal(dialog.finished_all, timeout=10000):
        pass
    assert dialog.scheduler is None and len(kuma.requests) == 2 and not dialog.cancel_button.isEnabled()
    dialog.close()


def test_rows_arriving_below_a_full_table_update_its_scroll_bar_and_can_be_scrolled_to(
    window, qtbot, ws, kuma, test_ca
):
    """While the table is full and unsorted, later results are appended below what can be
    seen: the view updates its scroll bar without laying out and repainting the rows it
    shows, and every row can be scrolled to."""
    configure_fast_and_slow(ws, kuma, test_ca.cert_pem, "T")
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    dialog = window.check_subtree()
    view = dialog.table
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 20, timeout=20000)
    assert dialog.running
    last_seen = view.rowAt(view.viewport().height() - 1)
    assert 0 <= last_seen < 19  # full: some of the 20 are below what can be seen
    skipped = view.skipped_layouts
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    assert view.skipped_layouts > skipped and dialog.model.rowCount() == 30
    bar = view.verticalScrollBar()
    # 30 to check: the scroll bar was there from the start (the columns did not move).
    assert view.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOn and bar.isVisible()
    view.scrollToBottom()
    qtbot.waitUntil(lambda: view.rowAt(view.viewport().height() - 1) == 29, timeout=5000)
    assert bar.value() == bar.maximum() > 0
    assert {r[0] for r in table_rows(dialog)[20:]} == {f"T{i:02d}" for i in range(20, 30)}
    dialog.close()

    # Sorted while it runs, the new rows land anywhere: the whole table is laid out again.
    dialog = window.check_subtree()
    view = dialog.table
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 20, timeout=20000)
    click_header(dialog, 0)  # Tenant, A to Z
    view.scrollToBottom()
    skipped = view.skipped_layouts
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    assert view.skipped_layouts == skipped
    assert [r[0] for r in table_rows(dialog)] == [f"T{i:02d}" for i in range(30)]
    dialog.close()


class Paints(QObject):
    """Each paint of a widget, as Qt sends it: (rows of the model then, the painted area)."""

    def __init__(self, widget, model) -> None:
        super().__init__()
        self.model = model
        self.seen: list[tuple[int, QRect]] = []
        widget.installEventFilter(self)

    def eventFilter(self, _obj, event):
        if event.type() == QEvent.Type.Paint:
            self.seen.append((self.model.rowCount(), event.region().boundingRect()))
        return False


def test_the_table_fills_a_few_rows_at_a_time_each_painted_alone(
    window, qtbot, ws, kuma, test_ca, monkeypatch
):
    """Results that come together are shown a few rows per turn of the event loop: while
    the table has room, FILL_STEP, and each paint covers only the rows new since the last
    one (the rows above it are not painted again); once it is full, APPEND_STEP (3 here).
    finished_all comes when every result is shown, saved after it."""
    monkeypatch.setattr(checks_ui, "APPEND_STEP", 3)
    configure_fast_and_slow(ws, kuma, test_ca.cert_pem, "F")
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    dialog = window.check_subtree()
    view = dialog.table
    paints = Paints(view.viewport(), view.model())
    turns = QTimer()  # counts the turns of the event loop
    turns.setInterval(0)
    turn = [0]
    turns.timeout.connect(lambda: turn.__setitem__(0, turn[0] + 1))
    turns.start()
    shown_in_turn: dict[int, int] = {}
    dialog.model.rowsInserted.connect(
        lambda _parent, first, last: shown_in_turn.__setitem__(
            turn[0], shown_in_turn.get(turn[0], 0) + last - first + 1
        )
    )
    signals: list[tuple[str, int]] = []
    dialog.finished_all.connect(lambda: signals.append(("finished_all", view.model().rowCount())))
    dialog.saved.connect(lambda: signals.append(("saved", view.model().rowCount())))
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    turns.stop()
    assert signals == [("finished_all", 30), ("saved", 30)]  # all shown, then saved
    assert sum(shown_in_turn.values()) == 30 and max(shown_in_turn.values()) <= checks_ui.FILL_STEP
    wait_idle(qtbot)
    row_height = view.rowHeight(0)
    fits = -(-view.viewport().height() // row_height)  # rows until the view is full (the last cut)
    # The paints while the table had room: each one's rows came while the last had fewer than fit.
    painted = [rows for rows, _area in paints.seen]
    filling = [
        (rows, area)
        for n, (rows, area) in enumerate(paints.seen)
        if rows and max(painted[:n], default=0) < fits
    ]
    assert view.partial_layouts >= 2 and len(filling) >= 3, paints.seen
    # The first rows are painted with the whole (empty) view, and Qt paints the view once
    # more after its first rows; from then on only what is new, from its first row down.
    partial = [i for i, (_rows, area) in enumerate(filling) if area.top() > 0]
    assert len(partial) >= 2 and partial == list(range(partial[0], len(filling))), paints.seen
    before = 0
    for i, (rows, area) in enumerate(filling):
        assert rows - before <= checks_ui.FILL_STEP, paints.seen  # a few rows at a time
        if i in partial:
            assert area.top() == view.rowViewportPosition(before), paints.seen
            assert area.bottom() == view.viewport().height() - 1
        before = rows
    # Once the table was full: 3 rows a turn at most.
    later = [
        n
        for t, n in sorted(shown_in_turn.items())
        if sum(m for u, m in shown_in_turn.items() if u < t) >= fits
    ]
    assert later and max(later) <= 3, shown_in_turn
    assert {r[0] for r in table_rows(dialog)} == {f"F{i:02d}" for i in range(30)}
    dialog.close()


def test_opening_check_all_does_not_repaint_the_windows_tree_and_table(window, qtbot, ws, kuma, test_ca):
    """A dialog opening over the window deactivates it. Qt's item views repaint themselves
    whole for that (~10 ms each with their Python models), for colours that only differ when
    the palette's active and inactive colours do: with the same colours they are not
    repainted; with different ones they still are."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    class Paints(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    for name in ("A", "B"):
        configure(ws, kuma.port, tenant=name, token=GOOD_TOKEN, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    paints = Paints()
    views = (window.tree_view.viewport(), window.table.viewport())
    for viewport in views:
        viewport.installEventFilter(paints)

    def check_all_over_the_active_window():
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
        wait_idle(qtbot, window)
        paints.count = 0
        dialog = window.check_subtree()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5000)
        with qtbot.waitSignal(dialog.saved, timeout=20000):
            pass
        seen = paints.count
        dialog.close()
        return seen

    assert window.palette().isEqual(QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)
    assert check_all_over_the_active_window() == 0
    palette = window.palette()
    palette.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight, QColor("#909090"))
    window.setPalette(palette)
    assert check_all_over_the_active_window() >= 2  # each view shows its inactive colours
    for viewport in views:
        viewport.removeEventFilter(paints)


def click_header(dialog, column):
    head = dialog.table.horizontalHeader()
    where = QPoint(head.sectionViewportPosition(column) + head.sectionSize(column) // 2, head.height() // 2)
    QTest.mouseClick(head.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)


def test_results_come_in_as_they_arrive_and_sort_by_the_clicked_column(window, qtbot, ws, kuma, test_ca):
    """Results that arrive close together are shown together, soon, while the run goes on;
    a click on a column's header sorts by it, the latency by its milliseconds (as text,
    "1523 ms" would come before "9 ms")."""
    for name, token, delay in (
        ("Slow", "token-slow", 1.5),
        ("Fast", GOOD_TOKEN, 0.0),
        ("Medium", "token-medium", 0.15),
    ):
        kuma.api.tokens[token] = kuma.api.tokens[GOOD_TOKEN]
        kuma.api.delays[token] = delay
        configure(ws, kuma.port, tenant=name, token=token, ca=test_ca.cert_pem)
    window.refresh()
    window.select_tenant(ws.tree.root_id)
    dialog = window.check_subtree()
    # Medium answers ~150 ms after Fast: it is shown with the next showing, while Slow
    # (1.5 s) still runs.
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=10000)
    assert dialog.running and [r.tenant for r in dialog.model.results] == [
        "Root tenant/Fast",
        "Root tenant/Medium",
    ]
    assert dialog.progress.value() == 2 and dialog.summary.text() == "2 of 3 integrations checked"
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        pass
    assert [r[0] for r in table_rows(dialog)] == ["Fast", "Medium", "Slow"]  # in the order they came
    click_header(dialog, 0)  # Tenant
    assert [r[0] for r in table_rows(dialog)] == ["Fast", "Medium", "Slow"]
    click_header(dialog, 0)
    assert [r[0] for r in table_rows(dialog)] == ["Slow", "Medium", "Fast"]
    click_header(dialog, 5)  # Latency
    rows = table_rows(dialog)
    assert [r[0] for r in rows] == ["Fast", "Medium", "Slow"], [r[5] for r in rows]
    assert int(rows[2][5].removesuffix(" ms")) >= 1500
    click_header(dialog, 5)
    assert [r[0] for r in table_rows(dialog)] == ["Slow", "Medium", "Fast"]
    # The detail follows the row chosen in the sorted table.
    dialog.table.selectRow(0)
    assert "Root tenant/Slow" in dialog.detail.text()
    dialog.close()
