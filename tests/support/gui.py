"""Helpers for GUI tests: answering the real dialogs the window opens, catching what goes
wrong in Qt's event loop, waiting for the window's background work.

A test answers a dialog as a person does: it waits until the dialog is on screen, then
types into it and presses its buttons. Nothing of the product is replaced.

    with expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Ok),
                       name="confirmBox", title="Remove tenant") as remove:
        window.act_remove.trigger()
    assert "Acme" in remove.seen.text

While the `with` block runs, a timer looks every few milliseconds for the dialog: the active
modal widget, or a visible top-level widget of the given class (and object name / title),
so it answers dialogs run with exec() from inside their own event loop, and those opened
with open()/show() too. At the end of the block it waits (up to `timeout` ms) for each
expected dialog that has not appeared yet, then fails, naming what was expected and what
was seen. Any *other* modal dialog that appears meanwhile is closed (so the test cannot
hang) and fails the test, with its class, object name, title and text. An act that raises,
or that leaves a blocking dialog open, fails the test the same way.

Acts: `click(button)`, `accept`, `reject`, `type_text(widget_or_name, text)`,
`pick_file(path)`, `in_order(act, act, ...)`, or any `Callable[[W], object]`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pytest
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

if TYPE_CHECKING:
    from collections.abc import Generator

    from pytestqt.qtbot import QtBot

    from xdrconf.core.workspace import Workspace
    from xdrconf.qt.main_window import MainWindow
    from xdrconf.qt.operations import OperationsPanel

W = TypeVar("W", bound=QWidget)
Act = Callable[[W], object]
AnyButton = QMessageBox.StandardButton | QDialogButtonBox.StandardButton


# ---- what a dialog showed ------------------------------------------------------------------------
@dataclass(frozen=True)
class DialogInfo:
    """What a dialog showed when it was found (kept: the dialog may be deleted later)."""

    cls: str
    name: str
    title: str
    text: str  # a message box's text, an input dialog's label, or the dialog's labels
    details: str  # a message box's informative text

    @classmethod
    def of(cls, widget: QWidget) -> DialogInfo:
        details = ""
        if isinstance(widget, QMessageBox):
            text, details = widget.text(), widget.informativeText()
        elif isinstance(widget, QInputDialog):
            text = widget.labelText()
        else:
            text = "\n".join(label.text() for label in widget.findChildren(QLabel) if label.text())
        return cls(type(widget).__name__, widget.objectName(), widget.windowTitle(), text, details)

    def __str__(self) -> str:
        name = f" '{self.name}'" if self.name else ""
        body = " ".join(f"{self.text} {self.details}".split())
        return f"{self.cls}{name} titled {self.title!r}" + (f": {body[:300]}" if body else "")


def _alive(widget: QObject | None) -> bool:
    return widget is not None and shiboken6.isValid(widget)


def close_dialog(widget: QWidget) -> None:
    """Close a dialog or window as Cancel / the window's close button would; a dialog that
    refuses (e.g. while it saves) is made to go with QDialog.done(Rejected)."""
    if not _alive(widget):
        return
    if isinstance(widget, QDialog):
        widget.reject()
        if _alive(widget) and widget.isVisible():
            QDialog.done(widget, int(QDialog.DialogCode.Rejected.value))
    else:
        widget.close()


# ---- expectations ----------------------------------------------------------------------------------
@dataclass(eq=False)
class Expected(Generic[W]):
    """One dialog a test expects, and what to do with it (None: close it as Cancel would)."""

    kind: type[W]
    act: Act[W] | None = None
    name: str | None = None  # the dialog's objectName, exactly
    title: str | None = None  # part of its window title
    # Filled in when the dialog appeared:
    dialog: W | None = None
    seen: DialogInfo | None = None

    def matches(self, widget: QWidget) -> bool:
        return (
            isinstance(widget, self.kind)
            and (self.name is None or widget.objectName() == self.name)
            and (self.title is None or self.title in widget.windowTitle())
        )

    def describe(self) -> str:
        parts = [self.kind.__name__]
        if self.name is not None:
            parts.append(f"named '{self.name}'")
        if self.title is not None:
            parts.append(f"with {self.title!r} in its title")
        return " ".join(parts)

    @property
    def text(self) -> str:
        """The text the dialog showed (its message and informative text)."""
        assert self.seen is not None, f"{self.describe()} has not appeared"
        return f"{self.seen.text}\n{self.seen.details}".strip()


@dataclass(eq=False)
class _Driver:
    """The timer that finds and answers dialogs while an expect_dialogs block runs."""

    steps: Sequence[Expected[Any]]
    stuck_ms: int
    next_step: int = 0
    body_done: bool = False
    handled: list[tuple[QWidget, float]] = field(default_factory=list)
    unexpected: list[DialogInfo] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.known = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.poll)

    def _candidates(self) -> list[QWidget]:
        found: list[QWidget] = []
        modal = QApplication.activeModalWidget()
        if modal is not None:
            found.append(modal)
        for w in QApplication.topLevelWidgets():
            if w.isVisible() and w not in found:
                found.append(w)
        return found

    def _is_handled(self, widget: QWidget) -> bool:
        return any(w is widget for w, _ in self.handled)

    def poll(self) -> None:
        for widget in self._candidates():
            if (
                not _alive(widget)
                or not widget.isVisible()
                or self._is_handled(widget)
                or id(widget) in self.known
            ):
                continue
            step = self.steps[self.next_step] if self.next_step < len(self.steps) else None
            if step is not None and step.matches(widget):
                self.next_step += 1
                self._answer(step, widget)
                return  # one at a time: the answer may open the next one
            if widget.isModal() or isinstance(widget, QDialog):
                info = DialogInfo.of(widget)
                self.unexpected.append(info)
                self.handled.append((widget, time.monotonic()))
                close_dialog(widget)
                return
        self._check_stuck()

    def _answer(self, step: Expected[Any], widget: QWidget) -> None:
        step.dialog = widget
        step.seen = DialogInfo.of(widget)
        self.handled.append((widget, time.monotonic()))
        if step.act is None:
            close_dialog(widget)
            return
        try:
            step.act(widget)
        except BaseException as exc:  # noqa: BLE001 - reported when the block ends
            self.errors.append(exc)
            close_dialog(widget)

    def _check_stuck(self) -> None:
        """A blocking dialog still open long after its answer would hang the test."""
        if self.body_done:
            return
        modal = QApplication.activeModalWidget()
        for widget, when in self.handled:
            if widget is modal and _alive(widget) and time.monotonic() - when > self.stuck_ms / 1000:
                self.failures.append(
                    f"{DialogInfo.of(widget)} was still open {self.stuck_ms} ms after its answer"
                )
                close_dialog(widget)

    def problems(self) -> list[str]:
        problems = list(self.failures)
        problems += [f"an unexpected dialog appeared: {info}" for info in self.unexpected]
        missing = [s.describe() for s in self.steps[self.next_step :]]
        if missing:
            seen = ", ".join(str(s.seen) for s in self.steps[: self.next_step]) or "none"
            problems.append(f"expected dialog(s) did not appear: {'; '.join(missing)} (answered: {seen})")
        problems += [f"answering a dialog failed: {exc!r}" for exc in self.errors]
        return problems


@contextmanager
def expect_dialogs(
    qtbot: QtBot, *steps: Expected[Any], timeout: int = 10000
) -> Iterator[tuple[Expected[Any], ...]]:
    """The dialogs in `steps` must appear in this order while (or shortly after) the block
    runs; each is answered by its act. No other modal dialog may appear. With no steps at
    all, the block must open no dialog."""
    driver = _Driver(steps, stuck_ms=timeout)
    driver.timer.start()
    try:
        yield steps
    except BaseException as exc:
        driver.timer.stop()
        problems = driver.problems()
        if problems:  # most likely the cause of what failed in the block
            raise AssertionError("\n".join([*problems, f"(then the block failed: {exc!r})"])) from exc
        raise
    try:
        driver.body_done = True
        if driver.next_step < len(steps):
            with contextlib.suppress(Exception):  # the report below says what is missing
                qtbot.waitUntil(
                    lambda: driver.next_step >= len(steps) or bool(driver.unexpected), timeout=timeout
                )
        driver.poll()
    finally:
        driver.timer.stop()
    problems = driver.problems()
    if problems:
        raise AssertionError("\n".join(problems)) from (driver.errors[0] if driver.errors else None)


@contextmanager
def expect_dialog(
    qtbot: QtBot,
    kind: type[W],
    act: Act[W] | None = None,
    *,
    name: str | None = None,
    title: str | None = None,
    timeout: int = 10000,
) -> Iterator[Expected[W]]:
    """One dialog of class `kind` (and objectName `name`, `title` in its title) must appear;
    `act` answers it (None: Cancel). Yields the Expected, whose `seen` / `text` / `dialog`
    say what appeared."""
    step = Expected(kind, act, name, title)
    with expect_dialogs(qtbot, step, timeout=timeout):
        yield step


@contextmanager
def no_dialog(qtbot: QtBot) -> Iterator[None]:
    """The block opens no modal dialog (one that does is closed and fails the test)."""
    with expect_dialogs(qtbot):
        yield


class Dismisser:
    """Closes every dialog or window that opens while it runs, as Cancel / the close button
    would, and records what it saw (for sweeps that trigger actions without answering)."""

    def __init__(self) -> None:
        self.known = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
        self.opened: list[DialogInfo] = []
        self._closed: list[QWidget] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.poll)

    def __enter__(self) -> Dismisser:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.poll()
        self.timer.stop()

    def poll(self) -> None:
        for widget in [QApplication.activeModalWidget(), *QApplication.topLevelWidgets()]:
            if widget is None or not _alive(widget) or not widget.isVisible() or id(widget) in self.known:
                continue
            if widget.windowType() not in (Qt.WindowType.Window, Qt.WindowType.Dialog):
                continue  # menus, tooltips, completion popups
            if not any(w is widget for w in self._closed):
                self.opened.append(DialogInfo.of(widget))
                self._closed.append(widget)
            close_dialog(widget)
            return

    def open_now(self) -> bool:
        """Whether one of the windows it closed is still on screen."""
        return any(_alive(w) and w.isVisible() for w in self._closed)


# ---- acts: what a person does in a dialog ------------------------------------------------------------
def find_button(dialog: QWidget, which: AnyButton) -> QAbstractButton:
    """The dialog's standard button `which` (Ok, Cancel, Save, Open, ...)."""
    button: QAbstractButton | None = None
    if isinstance(dialog, QMessageBox) and isinstance(which, QMessageBox.StandardButton):
        button = dialog.button(which)
    else:
        wanted = QDialogButtonBox.StandardButton(int(which.value))
        for box in dialog.findChildren(QDialogButtonBox):
            button = box.button(wanted)
            if button is not None:
                break
    if button is None:
        raise AssertionError(f"{DialogInfo.of(dialog)} has no {which.name} button")
    return button


def press(button: QAbstractButton) -> None:
    """A mouse click on a visible, enabled button (a disabled one fails the test)."""
    if not button.isEnabled():
        raise AssertionError(f"the button {button.text()!r} is disabled")
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def click(which: AnyButton) -> Act[QWidget]:
    """Press the dialog's standard button `which`."""

    def act(dialog: QWidget) -> None:
        press(find_button(dialog, which))

    return act


def accept(dialog: QWidget) -> None:
    """Press OK (or Open / Save / Yes, whichever the dialog has)."""
    for which in (
        QDialogButtonBox.StandardButton.Ok,
        QDialogButtonBox.StandardButton.Open,
        QDialogButtonBox.StandardButton.Save,
        QDialogButtonBox.StandardButton.Yes,
    ):
        try:
            button = find_button(dialog, which)
        except AssertionError:
            continue
        press(button)
        return
    raise AssertionError(f"{DialogInfo.of(dialog)} has no OK button")


def reject(dialog: QWidget) -> None:
    """Press Cancel (Esc for a box without one)."""
    try:
        press(find_button(dialog, QDialogButtonBox.StandardButton.Cancel))
    except AssertionError:
        QTest.keyClick(dialog, Qt.Key.Key_Escape)


def type_into(widget: QWidget, text: str) -> None:
    """Select all of the field and type `text`, key by key (a line edit, text edit, spin box)."""
    widget.setFocus()
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit | QAbstractSpinBox):
        widget.selectAll()
    else:
        raise AssertionError(f"cannot type into a {type(widget).__name__}")
    if text:
        QTest.keyClicks(widget, text)
    elif isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
        QTest.keyClick(widget, Qt.Key.Key_Delete)


def type_text(target: str | None, text: str) -> Act[QWidget]:
    """Type into the dialog's field named `target` (objectName), or its first line edit."""

    def act(dialog: QWidget) -> None:
        widget = dialog.findChild(QLineEdit) if target is None else dialog.findChild(QWidget, target)
        if widget is None:
            raise AssertionError(f"{DialogInfo.of(dialog)} has no field {target or 'to type into'}")
        type_into(widget, text)

    return act


def paste_into(widget: QLineEdit, text: str, *, check: bool = True) -> None:
    """Select all of the line edit and paste `text` (through the real clipboard)."""
    from PySide6.QtGui import QGuiApplication, QKeySequence

    QGuiApplication.clipboard().setText(text)
    widget.setFocus()
    widget.selectAll()
    QTest.keySequence(widget, QKeySequence(QKeySequence.StandardKey.Paste))
    if check and widget.text() != text:
        raise AssertionError(f"pasting {text!r} left {widget.text()!r}")


def select_data(combo: QComboBox, value: object) -> None:
    """Pick the combo box entry whose data is `value` with the arrow keys."""
    index = combo.findData(value)
    if index < 0:
        raise AssertionError(f"{value!r} is not offered in {combo.objectName() or 'the combo box'}")
    combo.setFocus()
    while combo.currentIndex() != index:
        key = Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up
        QTest.keyClick(combo, key)


def pick_file(path: str | Path) -> Act[QFileDialog]:
    """In Qt's file dialog: paste the full path into "File name" and press Open / Save.
    (Typed key by key, each '/' makes the dialog's completion select a folder.)"""

    def act(dialog: QFileDialog) -> None:
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        if edit is None:
            raise AssertionError(f"{DialogInfo.of(dialog)} is not Qt's own file dialog (no file name field)")
        paste_into(edit, str(path), check=False)  # the dialog may go to the folder, keeping the name
        completer = edit.completer()
        popup = completer.popup() if completer is not None else None
        if popup is not None and popup.isVisible():
            popup.hide()  # the list of completions a person would ignore
        accept(dialog)
        if dialog.isVisible():
            raise AssertionError(f"the file dialog stayed open on {edit.text()!r}")

    return act


def in_order(*acts: Act[Any]) -> Act[Any]:
    """Several acts on the same dialog, one after the other."""

    def act(dialog: QWidget) -> None:
        for a in acts:
            a(dialog)

    return act


# ---- waiting -----------------------------------------------------------------------------------------
def wait_idle(qtbot: QtBot, window: MainWindow | None = None, timeout: int = 15000) -> None:
    """Until no background task of the window (or any task) is running."""
    from xdrconf.qt import workers

    def idle() -> None:
        assert workers.running_tasks() == 0
        if window is not None:
            assert window.busy == 0

    qtbot.waitUntil(idle, timeout=timeout)


def files_containing(folder: Path, needle: str) -> list[Path]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(path)
    return hits


# ---- errors that must fail a test ---------------------------------------------------------------------
class ErrorLog(logging.Handler):
    """Collects log records at ERROR and above (from any logger)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.allowed: list[tuple[str, str]] = []  # (logger name, part of the message)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not any(record.name.startswith(n) and part in message for n, part in self.allowed):
            self.records.append(record)

    def allow(self, logger: str, part: str) -> None:
        """Tolerate one known error message (say why where you call it)."""
        self.allowed.append((logger, part))

    def take(self) -> list[str]:
        out = [f"{r.name}: {r.getMessage()}" for r in self.records]
        self.records.clear()
        return out


# ---- fixtures (registered for every test module by tests/conftest.py) ---------------------------------
@pytest.fixture
def error_log() -> Generator[ErrorLog]:
    """Fails the test if anything logs an ERROR (use error_log.allow for a known one)."""
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    left = handler.take()
    assert not left, "errors were logged:\n" + "\n".join(left)


def open_window(qtbot: QtBot, ws: Workspace) -> MainWindow:
    """The real main window on `ws`, shown and started."""
    from xdrconf.qt.main_window import MainWindow

    w = MainWindow(ws)
    qtbot.addWidget(w)
    w.show()
    w.start()
    return w


def close_window(qtbot: QtBot, w: MainWindow) -> None:
    """Stop what the window started and wait for its workers."""
    from xdrconf.qt import workers

    if not shiboken6.isValid(w):
        return
    if w.wizard is not None:
        close_dialog(w.wizard)
    if w.check_dialog is not None and shiboken6.isValid(w.check_dialog):
        w.check_dialog.cancel()
    wait_idle(qtbot, w)
    workers.wait_all()


@pytest.fixture
def window(qtbot: QtBot, ws: Workspace) -> Generator[MainWindow]:
    """The main window on `ws`, shown and started (real dialogs)."""
    w = open_window(qtbot, ws)
    yield w
    close_window(qtbot, w)


T = TypeVar("T")


def some(value: T | None) -> T:
    """`value`, which must not be None (narrows Optional results for the type checker)."""
    assert value is not None
    return value


def as_a(kind: type[W], widget: object) -> W:
    """`widget`, which must be a `kind` (e.g. the panel an integration's module made)."""
    assert isinstance(widget, kind), f"{type(widget).__name__} is not a {kind.__name__}"
    return widget


# ---- the Operations tab ------------------------------------------------------------------------
def operations_tab(window: MainWindow, tid: str, kind: str) -> OperationsPanel:
    """Select the tenant and the integration, then open the Operations tab (Ctrl+R's action)."""
    from xdrconf.qt.operations import OperationsPanel

    window.select_tenant(tid)
    window.select_integration(kind)
    assert window.act_operations.isEnabled()
    window.act_operations.trigger()
    panel = as_a(OperationsPanel, window.operations)
    assert window.bottom_tabs.currentWidget() is window.operations_scroll and panel.isVisible()
    return panel


def run_in_tab(
    qtbot: QtBot, panel: OperationsPanel, *dialogs: Expected[Any], timeout: int = 20000
) -> list[Any]:
    """Press the tab's Run, answer the dialogs it asks (none: no dialog may appear), wait for
    the outcomes."""
    with qtbot.waitSignal(panel.ran, timeout=timeout) as blocker:
        if dialogs:
            with expect_dialogs(qtbot, *dialogs):
                panel.run_button.click()
        else:
            with no_dialog(qtbot):
                panel.run_button.click()
    return list(blocker.args[0])


def tab_facts(panel: OperationsPanel) -> dict[str, str]:
    """The outcome's facts as the tab shows them: fact -> value."""
    return {row[0]: row[1] for row in panel.facts_model.cells}
