"""The integration UI contract (drafts, loader) and the worker machinery."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from xdrconf.core import catalog
from xdrconf.core.errors import ValidationError
from xdrconf.qt import workers
from xdrconf.qt.integrations import IntegrationDraft, IntegrationUiContext, ui_module, wizard_pages


def test_draft_edit_and_summary_never_show_secrets(ws):
    spec = catalog.spec_for("kuma")
    draft = IntegrationDraft.for_state(spec, None)
    assert draft.edit() is None
    draft.set_value("host", "kuma.example.invalid")
    draft.set_value("port", "7223")  # the default: not a change
    draft.set_secret("token", "s3cret-value")
    draft.enabled = True
    edit = draft.edit()
    assert edit is not None and edit.values == {"host": "kuma.example.invalid"}
    assert edit.secrets == {"token": "s3cret-value"} and edit.enabled is True
    lines = draft.summary()
    assert "KUMA Core host: kuma.example.invalid" in lines
    assert "API token: will be stored in the OS keyring" in lines
    assert "API token: will be stored in the vault" in draft.summary(in_vault=True)
    assert "Will be turned on" in lines
    assert not any("s3cret" in line for line in lines)
    ws.add_tenant("Acme")
    ws.update_integrations("Acme", [edit])
    stored = ws.integration(ws.tenant("Acme"), "kuma")
    again = IntegrationDraft.for_state(spec, stored)
    again.set_secret("token", "")  # empty keeps the stored secret
    assert again.edit() is None
    again.set_secret("token", "other")
    assert "API token: will be replaced" in again.summary()
    again.set_value("port", "99999")
    with pytest.raises(ValidationError, match="Port"):
        again.edit()
    assert again.summary()[0].startswith("Not valid: Port")


def test_draft_state_for_a_check(ws):
    spec = catalog.spec_for("kuma")
    draft = IntegrationDraft.for_state(spec, None)
    draft.set_value("host", "::1")
    draft.set_secret("token", "abc")
    state = draft.draft_state()
    assert state.settings["host"] == "::1" and state.settings["port"] == 7223
    assert state.secrets == {} and draft.typed_secrets() == {"token": "abc"}


def test_loader_generic_when_no_module(ws):
    assert ui_module("ad") is None
    ctx = IntegrationUiContext(ws, ws.tree.root_id, "ad", catalog.spec_for("ad"))
    assert wizard_pages(ctx) is None


def test_worker_delivers_result_error_progress_on_gui_thread(qtbot):
    gui = threading.get_ident()
    seen: list = []

    def work(report):
        report(("thread", threading.get_ident() != gui))
        return 42

    task = workers.run_in_background(
        work, lambda v: seen.append(("done", v, threading.get_ident() == gui)), on_progress=seen.append
    )
    with qtbot.waitSignal(task.done, timeout=5000):
        pass
    assert ("thread", True) in seen and ("done", 42, True) in seen

    errors: list = []
    task = workers.run_in_background(lambda: 1 / 0, seen.append, errors.append)
    with qtbot.waitSignal(task.done, timeout=5000):
        pass
    assert isinstance(errors[0], ZeroDivisionError)
    assert workers.running_tasks() == 0


def test_worker_cancel_event_reaches_function(qtbot):
    started = threading.Event()
    results: list = []

    def work():
        started.set()
        return task.cancel_event.wait(5)

    task = workers.Task(work, results.append)
    task.start(workers.check_pool())
    assert started.wait(5)
    task.cancel()
    with qtbot.waitSignal(task.done, timeout=5000):
        pass
    assert results == [True]


def test_many_slot_calls_and_emits_do_not_exhaust_none(qtbot):
    """PySide6 6.12 on Python 3.11 drops a reference to None per slot returning None and
    to True per emit(); xdrconf.qt pins them, so a long session cannot abort."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLineEdit

    class Emitter(QObject):
        ping = Signal(object)

    edit = QLineEdit()
    qtbot.addWidget(edit)
    seen: list[Any] = []
    edit.textChanged.connect(lambda text: None)
    e = Emitter()
    e.ping.connect(seen.append)
    for i in range(30000):
        edit.setText(str(i))
        e.ping.emit(None)
    assert len(seen) == 30000
