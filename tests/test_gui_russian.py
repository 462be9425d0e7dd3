"""The window in Russian, as a user who starts it so sees it: Qt's own texts (the standard
buttons of every kind of dialog the window opens, the file dialog's labels) come in Russian
too, counts are written the Russian way, and the wizard's, the details' and Check all's own
texts are translated. Each test turns Russian on the way the application does
(qt.app.apply_language under XDRCONF_LANG=ru) before the dialogs are made."""

from __future__ import annotations

import re
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QDialog, QFileDialog, QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from support.gui import click, expect_dialog, reject
from xdrconf.core.i18n import format_int
from xdrconf.core.outcome import Category, CheckResult
from xdrconf.core.workspace import IntegrationEdit, NewTenant, Workspace
from xdrconf.qt.dialogs import Prompts
from xdrconf.qt.main_window import MainWindow

LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture
def russian(monkeypatch: pytest.MonkeyPatch) -> None:
    from xdrconf.qt.app import apply_language

    monkeypatch.setenv("XDRCONF_LANG", "ru")
    assert apply_language(None) == "ru"  # conftest's _english_again turns English back on


def buttons_of(dialog: QWidget) -> list[str]:
    return [b.text() for b in dialog.findChildren(QAbstractButton) if b.isVisible() and b.text()]


def no_latin(texts: list[str]) -> list[str]:
    """The texts that hold a Latin letter (English left on screen)."""
    return [t for t in texts if LATIN.search(t)]


def test_standard_buttons_of_the_windows_dialogs_are_russian(
    window: MainWindow, ws: Workspace, qtbot: QtBot, russian: None
) -> None:
    ws.add_tenant("Acme")
    window.refresh()
    window.select_tenant(ws.tenant("Acme").id)
    seen: dict[str, list[str]] = {}

    def read(name: str, then: Any) -> Any:
        def act(dialog: QWidget) -> None:
            seen[name] = buttons_of(dialog)
            then(dialog)

        return act

    # Remove…: a question with OK and Cancel (Cancel answers it: nothing is removed).
    with expect_dialog(qtbot, QMessageBox, read("remove", reject), name="confirmBox"):
        window.act_remove.trigger()
    assert set(seen["remove"]) == {"ОК", "Отмена"}
    # A question before a change on a peer: Yes and No.
    prompts = Prompts(window)
    with expect_dialog(qtbot, QMessageBox, read("change", click(QMessageBox.StandardButton.No))):
        assert not prompts.confirm_change("Заголовок", "Изменить?")
    assert set(seen["change"]) == {"&Да", "&Нет"}
    # An error box: OK.
    with expect_dialog(
        qtbot, QMessageBox, read("error", click(QMessageBox.StandardButton.Ok)), name="errorBox"
    ):
        window.show_error("Пример.")
    assert seen["error"] == ["ОК"]
    # Settings…: a dialog with a button box.
    with expect_dialog(qtbot, QDialog, read("settings", reject), name="settingsDialog"):
        window.act_settings.trigger()
    assert set(seen["settings"]) == {"ОК", "Отмена"}
    # Qt's own file dialog: its labels and buttons (the qtbase catalog lacks some of them).
    labels: list[str] = []

    def file_dialog(dialog: QWidget) -> None:
        labels.extend(w.text() for w in dialog.findChildren(QLabel) if w.isVisible() and w.text())
        seen["file"] = buttons_of(dialog)
        reject(dialog)

    with expect_dialog(qtbot, QFileDialog, file_dialog, name="openFileDialog"):
        assert prompts.open_file("Открыть файл") is None
    assert "&Перейти к:" in labels and "&Типы файлов:" in labels and "&Имя файла:" in labels
    assert {"&Открыть", "Отмена"} <= set(seen["file"])
    assert no_latin(labels) == []
    assert no_latin([t for texts in seen.values() for t in texts]) == []


def test_counts_are_grouped_the_russian_way(
    window: MainWindow, ws: Workspace, qtbot: QtBot, russian: None
) -> None:
    ws.add_tenants([NewTenant(f"Клиент {i:04d}", None) for i in range(1001)])
    window.refresh()
    total = len(window.tree_model)
    assert total > 1000
    # 1 001 .. 1 003: the form is chosen on the number (1 001 тенант, 1 002 тенанта).
    form = {1: "тенант", 2: "тенанта", 3: "тенанта"}[total % 10]
    assert window.count_label.text() == f"{format_int(total)} {form}"
    assert "\u00a0" in window.count_label.text() and "," not in window.count_label.text()
    window.show_grid(True)
    grid = window.grid
    assert grid is not None
    rows = len(grid.model.all_rows)
    assert rows > 1000
    assert f"из {format_int(rows)} тенант" in grid.summary.text() and "," not in grid.summary.text()


def test_the_wizard_details_and_check_all_speak_russian(
    window: MainWindow, ws: Workspace, qtbot: QtBot, russian: None
) -> None:
    from xdrconf.qt.checks_ui import CheckAllDialog
    from xdrconf.qt.wizard import FetchCertificateBox, SpecFormPage, TenantWizard

    ws.add_tenant("Acme")
    acme = ws.tenant("Acme").id
    ws.update_integration(
        "Acme", IntegrationEdit("redmine", values={"url": "https://redmine.invalid", "project": "soc"})
    )
    result = CheckResult(Category.OK, "Подключено.", "redmine.invalid:443", 1001.0)
    ws.record_results({(acme, "redmine"): [result.to_dict()]})
    window.refresh()
    window.select_tenant(acme)
    window.select_integration("redmine")
    model = window.table.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Интеграция", "Вкл.", "Настроена", "Последняя проверка", "Флаги"]
    details = window.details.toPlainText()
    assert "Выключена" in details and "Последняя проверка" in details and "1001 мс" in details

    wizard = TenantWizard(ws, acme, start_kind="redmine", parent=window)
    qtbot.addWidget(wizard)
    opening = wizard.page(TenantWizard.OPENING)
    assert opening.title().startswith("Тенант: ") and opening.title().endswith("/Acme")
    assert no_latin([opening.subTitle(), wizard.windowTitle().split(" — ")[0]]) == []
    pages = [wizard.page(i) for i in wizard.ensure_pages("redmine")]
    fetch = [p.fetch_box for p in pages if isinstance(p, SpecFormPage) and hasattr(p, "fetch_box")]
    assert fetch and isinstance(fetch[0], FetchCertificateBox)
    assert fetch[0].button.text() == "Получить сертификат"
    assert fetch[0].pin_button.text() == "Закрепить этот сертификат"
    assert (
        fetch[0].label.text() == "Читает сертификат сервера (только TLS-рукопожатие; ничего не отправляется)."
    )
    summary = wizard.page(TenantWizard.SUMMARY)
    assert summary.title() == "Сводка" and "«Завершить»" in summary.subTitle()

    dialog = CheckAllDialog(ws, [(acme, "redmine")], parent=window)
    qtbot.addWidget(dialog)
    dialog.model.add(
        [
            CheckResult(
                Category.OK, "Подключено.", "redmine.invalid:443", 12.0, tenant="Acme", integration="redmine"
            )
        ]
    )
    names = [dialog.model.headerData(c, Qt.Orientation.Horizontal) for c in range(dialog.model.columnCount())]
    assert names == ["Тенант", "Интеграция", "Цель", "Категория", "Сообщение", "Задержка", "Время"]
    assert dialog.windowTitle() == "Проверка" and dialog.cancel_button.text() == "Отменить проверки"
    assert dialog.model.data(dialog.model.index(0, 5)) == "12 мс"
    head = dialog.table.horizontalHeader()
    for col, name in enumerate(names):  # every header readable whole ("Задержка" is longer than 70 px)
        assert dialog.table.columnWidth(col) > head.fontMetrics().horizontalAdvance(name), name
    assert no_latin([dialog.detail.text()]) == []


def test_the_russian_create_issue_form_fits_the_operations_tab(
    window: MainWindow, ws: Workspace, qtbot: QtBot, russian: None
) -> None:
    """At 1180x760 the Operations tab's column is narrow: the description's editor takes the
    column's width and its "Load from file…" and "Clear" go under it, inside the column."""
    from PySide6.QtWidgets import QApplication

    from support.gui import operations_tab
    from xdrconf.qt.editors import PemEditor

    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "redmine",
            values={"url": "https://redmine.invalid", "project": "soc"},
            secrets={"api_key": "russian-form-" + "k" * 27},
            enabled=True,
        ),
    )
    window.resize(1180, 760)
    window.refresh()
    panel = operations_tab(window, ws.tenant("Acme").id, "redmine")
    panel.picker.setCurrentIndex(panel.picker.findData("create-issue"))
    for _round in range(5):
        QApplication.processEvents()
    assert panel.form is not None
    editor = panel.form.editors["description"]
    assert isinstance(editor, PemEditor)
    view = panel.form_scroll.viewport()
    for button in (editor.load_button, editor.clear_button):
        assert button.text() in ("Загрузить из файла…", "Очистить")
        right = button.mapTo(view, button.rect().topRight()).x()
        assert right < view.width(), button.text()
    assert editor.text.width() >= 200
    assert editor.load_button.y() > editor.text.y()  # under the text, not beside it
    # Wide enough (a wizard's page), the buttons stay beside the text; narrow, they go under it.
    alone = PemEditor(editor.field)
    qtbot.addWidget(alone)
    alone.show()
    for width, beside in ((700, True), (300, False), (700, True)):
        alone.resize(width, 200)
        for _round in range(3):
            QApplication.processEvents()
        right_of_text = alone.load_button.x() >= alone.text.x() + alone.text.width()
        assert right_of_text is beside, width


def test_a_long_russian_subtitle_is_shown_whole_in_the_wizards_header(
    ws: Workspace, qtbot: QtBot, russian: None
) -> None:
    """Qt's header keeps two lines of a subtitle; the TLS page's Russian one takes three."""
    from PySide6.QtWidgets import QApplication

    from xdrconf.qt.wizard import TenantWizard

    ws.add_tenant("Acme")
    wizard = TenantWizard(ws, ws.tenant("Acme").id, start_kind="kata")
    qtbot.addWidget(wizard)
    wizard.show()
    heights = {}
    for pid in [*wizard.kind_pages["kata"], *wizard.kind_pages["kata"][:1]]:
        wizard.setStartId(pid)
        wizard.restart()
        for _round in range(5):
            QApplication.processEvents()
        text = wizard.currentPage().subTitle()
        [label] = [
            w
            for w in wizard.findChildren(QLabel)
            if w.isVisible() and w.text() == text and not wizard.currentPage().isAncestorOf(w)
        ]
        assert label.height() >= label.heightForWidth(label.width()), text
        heights[pid] = label.height()
    assert len(set(heights.values())) > 1  # the header grows for a long one and shrinks back


def test_the_russian_toolbar_and_integrations_fit_the_window(
    russian: None, qtbot: QtBot, ws: Workspace
) -> None:
    """At 1180x760 every button of the main toolbar shows (none behind its »» button; the
    toolbar uses shorter words than the menus for two of them), and the integrations'
    names are whole."""
    from support.gui import close_window, open_window

    window = open_window(qtbot, ws)
    try:
        window.resize(1180, 760)
        qtbot.waitUntil(lambda: window.toolbar.width() <= 1180)
        actions = [a for a in window.toolbar.actions() if not a.isSeparator()]
        hidden = [a.iconText() for a in actions if not window.toolbar.widgetForAction(a).isVisible()]
        assert hidden == []
        words = {a.iconText() for a in actions}
        assert {"Добавить", "Проверить тенант", "Таблица состояния"} <= words
        assert window.act_check_tenant.text() == "Проверить &все у тенанта"  # the menu's
        # The integrations' names are whole ("Пользовательская интеграция").
        table = window.table
        assert table.columnWidth(0) >= table.sizeHintForColumn(0)
    finally:
        close_window(qtbot, window)
