"""Helpers for GUI tests: scripted answers to the window's questions, waiting for the
window's background work."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ScriptedPrompts:
    """Stands in for xdrconf.qt.dialogs.Prompts: answers queued per method, questions kept."""

    def __init__(self) -> None:
        self.answers: dict[str, deque[Any]] = {}
        self.asked: list[tuple[str, str, str, list[str]]] = []

    def answer(self, method: str, *values: Any) -> ScriptedPrompts:
        self.answers.setdefault(method, deque()).extend(values)
        return self

    def _next(self, method: str, title: str, text: str, details: list[str] | None = None) -> Any:
        self.asked.append((method, title, text, list(details or [])))
        queue = self.answers.get(method)
        if not queue:
            raise AssertionError(f"unexpected question ({method}): {title}: {text}")
        return queue.popleft()

    def text(self, title: str, label: str, default: str = "") -> str | None:
        return self._next("text", title, label)

    def choose(self, title: str, label: str, items: list[str], current: int = 0) -> str | None:
        return self._next("choose", title, label, items)

    def confirm(self, title: str, text: str, details: list[str] | None = None) -> bool:
        return self._next("confirm", title, text, details)

    def info(self, title: str, text: str, details: list[str] | None = None) -> None:
        self.asked.append(("info", title, text, list(details or [])))

    def open_file(self, title: str, filter_: str = "") -> str | None:
        return self._next("open_file", title, "")

    def save_file(self, title: str, name: str, filter_: str = "") -> str | None:
        return self._next("save_file", title, name)

    def dialog(self, dialog: Any) -> bool:
        fill: Callable[[Any], bool] = self._next("dialog", dialog.windowTitle(), "")
        return fill(dialog)


def wait_idle(qtbot: Any, window: Any = None, timeout: int = 15000) -> None:
    """Until no background task of the window (or any task) is running."""
    from xdrconf.qt import workers

    def idle() -> bool:
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


# ---- fixtures (registered for every test module by tests/conftest.py) ---------------------------
import pytest  # noqa: E402


@pytest.fixture
def prompts() -> ScriptedPrompts:
    return ScriptedPrompts()


@pytest.fixture
def window(qtbot: Any, ws: Any, prompts: ScriptedPrompts) -> Any:
    """The main window on `ws`, shown, answering questions from `prompts`."""
    from xdrconf.qt import workers
    from xdrconf.qt.main_window import MainWindow

    w = MainWindow(ws, prompts)
    qtbot.addWidget(w)
    w.show()
    w.start()
    yield w
    if w.wizard is not None:
        w.wizard.reject()
    if w.check_dialog is not None:
        w.check_dialog.cancel()
    wait_idle(qtbot, w)
    workers.wait_all()
