"""The searchable list the window uses to pick a tenant (Move…), at 10,000 entries."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from xdrconf.qt.dialogs import ChooseDialog


def test_filter_narrows_and_picks(qtbot):
    items = [f"Root tenant/Region {i // 100}/Customer {i:04d}" for i in range(10_000)]
    dialog = ChooseDialog(None, "Move tenant", "New parent of 'X':", items)
    qtbot.addWidget(dialog)
    assert dialog.count.text() == "10000 in all"
    assert dialog.chosen() == items[0]
    qtbot.keyClicks(dialog.filter, "customer 4242")
    assert dialog.proxy.rowCount() == 1
    assert dialog.chosen() == "Root tenant/Region 42/Customer 4242"
    assert dialog.count.text() == "1 of 10000 shown"
    dialog.filter.setText("no such tenant")
    assert dialog.proxy.rowCount() == 0
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
