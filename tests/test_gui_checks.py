"""Check all (tenant and subtree) from the main window: progress, the results table,
Cancel, and the results kept in the settings and shown in the window."""

from __future__ import annotations

from PySide6.QtCore import Qt

from support.gui import wait_idle
from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core.workspace import IntegrationEdit


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
