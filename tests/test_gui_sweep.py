"""The action sweep: every QAction a person can reach in the main window (its menus, its
toolbar, the context menus of the tenant tree, of the integrations table and of the health
grid, and the integrations' own actions, which appear there while one is selected) is
triggered in every state the window can be in, against the real dialogs, each of which is
closed as Cancel would close it.

The states: nothing selected, the Root tenant, a child tenant, the Shared tenant, an
integration that is not yet supported, every supported integration not configured and
configured (from the catalog, so a new integration is swept as soon as it is supported),
the health grid shown with a configured integration's cell current,
and the same window read-only (a second Workspace on a folder another one holds).

An action fails the sweep when, triggered while enabled, it
- raises (an exception reaching Qt's event loop, caught through sys.excepthook),
- logs an ERROR (logging; no message is tolerated today),
- or has no visible effect. A visible effect is one of: a dialog or window opened; a
  status bar message shown; the text of a label, an action or a tab of the window changed;
  the tenant tree, the selection, the integrations table or the settings (the document
  the Workspace saves) changed; the clipboard changed; the window closed (Quit).
Every action found must also be enabled in at least one state (an action that can never
be used is dead). Nothing here names an action: one added later is swept as it is.
Qt warnings fail it too (qt_log_level_fail in pyproject.toml).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QTabWidget, QToolBar
from pytestqt.qtbot import QtBot

from support.gui import DialogInfo, Dismisser, ErrorLog, as_a, close_window, open_window, wait_idle
from support.kuma_peer import configure as configure_kuma
from support.pki import TestCA
from support.sshd import make_key
from xdrconf.core import catalog
from xdrconf.core.workspace import IntegrationEdit, Workspace
from xdrconf.qt import workers
from xdrconf.qt.main_window import MainWindow

CLOSED_PORT = 1  # on loopback nothing listens there: a check ends at once in "unreachable"
LOOPBACK = "127.0.0.1"


# ---- a configured integration of each supported kind -----------------------------------------------
def _kuma(ws: Workspace, tenant: str, ca: TestCA) -> None:
    configure_kuma(ws, CLOSED_PORT, tenant=tenant, token="sweep-kuma-token", ca=ca.cert_pem)


def _tip(ws: Workspace, tenant: str, ca: TestCA) -> None:
    url = f"https://{LOOPBACK}:{CLOSED_PORT}"
    values = {"access": "general", "opentip_url": url, "tls_ca": ca.cert_pem}
    ws.update_integration(
        tenant, IntegrationEdit("tip", values=values, secrets={"token": "sweep-tip"}, enabled=True)
    )


def _kasap(ws: Workspace, tenant: str, ca: TestCA) -> None:
    values = {"url": f"https://{LOOPBACK}:{CLOSED_PORT}", "tls_ca": ca.cert_pem, "token_issued": "2026-01-15"}
    edit = IntegrationEdit("kasap", values=values, secrets={"token": "sweep-kasap"}, enabled=True)
    ws.update_integration(tenant, edit)


def _custom(ws: Workspace, tenant: str, ca: TestCA) -> None:
    values = {
        "host": LOOPBACK,
        "ports": str(CLOSED_PORT),
        "host_public_key": make_key("ed25519").public_line,
        "auth": "password",
        "username": "soar",
    }
    edit = IntegrationEdit("custom", values=values, secrets={"password": "sweep-password"}, enabled=True)
    ws.update_integration(tenant, edit)


def _kata(ws: Workspace, tenant: str, ca: TestCA) -> None:
    from xdrconf.core.integrations.kata import connections as kata

    ws.update_integration(tenant, IntegrationEdit("kata", values={"tls_ca": ca.cert_pem}))
    kata.add_connection(ws, tenant, LOOPBACK, CLOSED_PORT, "p256")
    ws.set_enabled(ws.tenant(tenant).id, "kata", True)


def _redmine(ws: Workspace, tenant: str, ca: TestCA) -> None:
    values = {
        "url": f"https://{LOOPBACK}:{CLOSED_PORT}/redmine",
        "project": "soc-alerts",
        "tls_ca": ca.cert_pem,
    }
    edit = IntegrationEdit("redmine", values=values, secrets={"api_key": "sweep-redmine-key"}, enabled=True)
    ws.update_integration(tenant, edit)


def _usergate(ws: Workspace, tenant: str, ca: TestCA) -> None:
    values = {"host": LOOPBACK, "port": str(CLOSED_PORT), "username": "xdr-api", "block_list": "XDR block"}
    edit = IntegrationEdit("usergate", values=values, secrets={"password": "sweep-usergate"}, enabled=True)
    ws.update_integration(tenant, edit)


def _ideco(kind: str) -> Callable[[Workspace, str, TestCA], None]:
    def recipe(ws: Workspace, tenant: str, ca: TestCA) -> None:
        values = {"host": LOOPBACK, "port": str(CLOSED_PORT), "username": "xdr-api", "tls_ca": ca.cert_pem}
        edit = IntegrationEdit(kind, values=values, secrets={"password": f"sweep-{kind}"}, enabled=True)
        ws.update_integration(tenant, edit)

    return recipe


def _firewall(kind: str, **values: str) -> Callable[[Workspace, str, TestCA], None]:
    """Check Point, Sophos, Continent 4, SKDPU NT: a host on loopback, an account, the test CA."""

    def recipe(ws: Workspace, tenant: str, ca: TestCA) -> None:
        settings = {"host": LOOPBACK, "port": str(CLOSED_PORT), "tls_ca": ca.cert_pem, **values}
        secret = "api_key" if values.get("auth") == "api_key" else "password"
        edit = IntegrationEdit(kind, values=settings, secrets={secret: f"sweep-{kind}"}, enabled=True)
        ws.update_integration(tenant, edit)

    return recipe


def _ad(ws: Workspace, tenant: str, ca: TestCA) -> None:
    values = {
        "servers": f"{LOOPBACK}:{CLOSED_PORT}, dc2.sweep.invalid",
        "security": "ldaps",
        "username": "svc-xdr@sweep.invalid",
        "base_dn": "DC=sweep,DC=invalid",
        "tls_ca": ca.cert_pem,
    }
    edit = IntegrationEdit("ad", values=values, secrets={"password": "sweep-ad"}, enabled=True)
    ws.update_integration(tenant, edit)


CONFIGURED: dict[str, Callable[[Workspace, str, TestCA], None]] = {
    "kuma": _kuma,
    "tip": _tip,
    "kasap": _kasap,
    "custom": _custom,
    "kata": _kata,
    "redmine": _redmine,
    "usergate": _usergate,
    "ideco-ngfw": _ideco("ideco-ngfw"),
    "ideco-utm": _ideco("ideco-utm"),
    "checkpoint": _firewall("checkpoint", auth="api_key", domain="SOC", block_group="XDR_Blocked"),
    "sophos": _firewall("sophos", username="xdr-api", block_group="XDR_Blocked"),
    "continent": _firewall("continent", username="xdr-scripts"),
    "skdpu": _firewall("skdpu", username="xdr-scripts"),
    "ad": _ad,
}


def supported_kinds() -> list[str]:
    return [s.kind for s in catalog.all_specs() if s.supported]


# ---- states ----------------------------------------------------------------------------------------
@dataclass
class State:
    name: str
    tenant: str | None  # the tenant to select (None: nothing selected)
    kind: str | None = None  # the integration to select
    readonly: bool = False
    prepare: Callable[[Workspace, TestCA], None] | None = None
    grid: bool = False  # the health grid shown, the tenant's cell of `kind` current
    also: tuple[str, ...] = ()  # tenants selected besides (Ctrl-click), `tenant` staying current


def base(ws: Workspace) -> None:
    """Two child tenants (so Move has somewhere to go), one with a child; a backup exists."""
    ws.add_tenant("Acme")
    ws.add_tenant("Acme EU", "Acme")
    ws.add_tenant("Globex")


def on_tenant(
    recipe: Callable[[Workspace, str, TestCA], None], tenant: str
) -> Callable[[Workspace, TestCA], None]:
    return lambda ws, ca: recipe(ws, tenant, ca)


def states() -> list[State]:
    out = [
        State("nothing selected", None),
        State("Root tenant", "Root tenant"),
        State("child tenant", "Globex"),
        State("Shared tenant", "Shared"),
    ]
    for kind in supported_kinds():
        out.append(State(f"{kind} not configured", "Globex", kind))
        recipe = CONFIGURED.get(kind)
        out.append(
            State(
                f"{kind} configured",
                "Acme EU",
                kind,
                prepare=on_tenant(recipe, "Acme EU") if recipe else None,
            )
        )
    # The health grid: a configured integration's cell current (its actions need one).
    out.append(
        State("health grid", "Acme EU", "kuma", prepare=on_tenant(CONFIGURED["kuma"], "Acme EU"), grid=True)
    )
    # Several tenants selected (the subtree actions act on them), one of them the Shared tenant.
    kuma = on_tenant(CONFIGURED["kuma"], "Acme EU")
    out.append(State("several tenants", "Acme EU", "kuma", prepare=kuma, also=("Globex",)))
    out.append(
        State("several tenants and Shared", "Acme EU", "kuma", prepare=kuma, also=("Shared", "Globex"))
    )
    # Read-only: each tenant kind, and each integration with something to look at and check.
    for s in list(out):
        if s.tenant is not None and (s.kind is None or s.prepare is not None):
            out.append(
                State(
                    f"read-only, {s.name}",
                    s.tenant,
                    s.kind,
                    readonly=True,
                    prepare=s.prepare,
                    grid=s.grid,
                    also=s.also,
                )
            )
    return out


# ---- what a person can reach -----------------------------------------------------------------------
def _menu_actions(menu: QMenu) -> Iterator[QAction]:
    for act in menu.actions():
        if act.isSeparator():
            continue
        if act.menu() is not None:
            yield from _menu_actions(as_a(QMenu, act.menu()))
        else:
            yield act


def _context_menu(qtbot: QtBot, window: MainWindow, view: Any) -> list[QAction]:
    """Open the view's context menu as a right click does, read it, close it."""
    if view is None or not view.isVisible():
        return []
    before = set(map(id, window.findChildren(QMenu)))
    view.customContextMenuRequested.emit(QPoint(5, 5))
    menus = [m for m in window.findChildren(QMenu) if id(m) not in before]
    assert menus, f"no context menu opened on {type(view).__name__}"
    acts: list[QAction] = []
    for menu in menus:
        acts.extend(_menu_actions(menu))
        menu.close()
        menu.deleteLater()
    return acts


def reachable_actions(qtbot: QtBot, window: MainWindow) -> dict[str, QAction]:
    """Every action of the menus, the toolbars and both context menus, by a readable key."""
    found: list[QAction] = []
    for top in window.menuBar().actions():
        if top.menu() is not None:
            found.extend(_menu_actions(as_a(QMenu, top.menu())))
    for bar in window.findChildren(QToolBar):
        found.extend(a for a in bar.actions() if not a.isSeparator())
    found.extend(_context_menu(qtbot, window, window.tree_view))
    found.extend(_context_menu(qtbot, window, window.table))
    found.extend(_context_menu(qtbot, window, window.grid.view if window.grid_shown else None))
    out: dict[str, QAction] = {}
    for act in found:
        out.setdefault(action_key(act), act)
    return out


def action_key(act: QAction) -> str:
    """A name that stays when the text follows the state ("Turn on" / "Turn off")."""
    return act.statusTip() or act.text().replace("&", "")


# ---- visible effect --------------------------------------------------------------------------------
def _rows(model: Any, parent: QModelIndex | None = None) -> list[Any]:
    parent = parent or QModelIndex()
    out: list[Any] = []
    for r in range(model.rowCount(parent)):
        for c in range(max(1, model.columnCount(parent))):
            out.append(model.data(model.index(r, c, parent)))
        if model.rowCount(model.index(r, 0, parent)) > 0:
            out.append(_rows(model, model.index(r, 0, parent)))
    return out


def _without_results(value: Any) -> Any:
    """The document without the last check results (a check changes nothing else)."""
    if isinstance(value, dict):
        return {k: _without_results(v) for k, v in value.items() if k != "results"}
    if isinstance(value, list):
        return [_without_results(v) for v in value]
    return value


def snapshot(window: MainWindow) -> dict[str, Any]:
    """What a person sees of the window, and what would be saved."""
    if not shiboken6.isValid(window):
        return {"window": "gone"}
    tabs = window.findChildren(QTabWidget)
    return {
        "visible": window.isVisible(),
        "labels": sorted(label.text() for label in window.findChildren(QLabel) if label.isVisible()),
        "actions": sorted(a.text() for a in window.findChildren(QAction)),
        "tabs": [(t.objectName(), [t.tabText(i) for i in range(t.count())], t.currentIndex()) for t in tabs],
        "tree": _rows(window.tree_model),
        "current": window.current_tenant_id(),
        "table": _rows(window.table_model) if window.table_model is not None else None,
        "view": window.grid_shown,
        "grid": _rows(window.grid.model) if window.grid is not None else None,
        "document": json.dumps(window.ws.document(), sort_keys=True, default=str),
        "settings": json.dumps(_without_results(window.ws.document()), sort_keys=True, default=str),
        "clipboard": QGuiApplication.clipboard().text(),
    }


@dataclass
class Outcome:
    opened: list[DialogInfo] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def visible(self) -> bool:
        return bool(self.opened or self.messages or self.changed)

    def effect(self) -> str:
        if self.opened:
            return "opened " + ", ".join(i.name or i.cls for i in self.opened)
        if self.messages:
            return f"status: {self.messages[-1][:60]}"
        return "changed " + ", ".join(self.changed)


def settle(qtbot: QtBot, window: MainWindow, dismisser: Dismisser, timeout_ms: int = 20000) -> None:
    """Until no background work runs and no dialog is open (closing those that open)."""

    def quiet() -> bool:
        dismisser.poll()  # a box opened by a task's answer is found before the task counts as done
        busy = shiboken6.isValid(window) and window.busy > 0
        return workers.running_tasks() == 0 and not busy and not dismisser.open_now()

    qtbot.waitUntil(quiet, timeout=timeout_ms)


def trigger(qtbot: QtBot, window: MainWindow, act: QAction, log: ErrorLog) -> Outcome:
    out = Outcome()
    before = snapshot(window)
    status = window.statusBar()
    status.messageChanged.connect(out.messages.append)
    try:
        with qtbot.captureExceptions() as caught, Dismisser() as dismisser:
            act.trigger()
            settle(qtbot, window, dismisser)
        out.opened = dismisser.opened
    finally:
        if shiboken6.isValid(status):
            status.messageChanged.disconnect(out.messages.append)
    out.messages = [m for m in out.messages if m]
    after = snapshot(window)
    out.changed = [k for k in before if before[k] != after.get(k)]
    out.exceptions = [f"{t.__name__}: {v}" for t, v, _tb in caught]
    out.errors = log.take()
    return out


# ---- the sweep -------------------------------------------------------------------------------------
@contextmanager
def window_in(
    qtbot: QtBot, state: State, tmp: Path, keyring_backend: Any, ca: TestCA
) -> Iterator[MainWindow]:
    """A fresh settings folder prepared for `state`, and the window on it (read-only: a
    second Workspace on the folder while the first holds it)."""
    folder = tmp / f"s{len(list(tmp.iterdir()))}"
    folder.mkdir()
    first = Workspace.open(folder, keyring_backend=keyring_backend)
    base(first)
    if state.prepare is not None:
        state.prepare(first, ca)
    ws = first
    if state.readonly:
        ws = Workspace.open(folder, readonly_if_locked=True, keyring_backend=keyring_backend)
        assert ws.readonly
    window = open_window(qtbot, ws)
    try:
        wait_idle(qtbot, window)
        select(window, state)
        yield window
    finally:
        close_window(qtbot, window)
        window.close()
        ws.close()
        first.close()


def select(window: MainWindow, state: State) -> None:
    if not window.isVisible():
        window.show()
    if window.grid_shown != state.grid:
        window.show_grid(state.grid)
    if state.tenant is None:
        window.tree_view.selectionModel().clearCurrentIndex()
        window.tree_view.clearSelection()
        assert window.current_tenant_id() is None
        return
    tid = {t.name: t.id for t in window.ws.tree.walk_all()}[state.tenant]
    assert window.select_tenant(tid)
    if state.kind is not None:
        window.select_integration(state.kind)
        assert window.current_kind() == state.kind, state.name
    for name in state.also:
        index = window.tree_model.index_of({t.name: t.id for t in window.ws.tree.walk_all()}[name])
        window.tree_view.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select)
    assert len(window.selected_tenant_ids()) == 1 + len(state.also), state.name
    if state.grid:
        grid = window.grid
        grid.set_filter("", None)
        index = grid.model.index_of(tid, state.kind or "kuma")
        grid.view.setCurrentIndex(index)
        assert grid.current_cell() is not None, state.name


@dataclass
class Sweep:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    enabled_somewhere: dict[str, list[str]] = field(default_factory=dict)
    triggered: int = 0


def run_state(
    qtbot: QtBot, state: State, sweep: Sweep, tmp: Path, keyring_backend: Any, ca: TestCA, log: ErrorLog
) -> None:
    done: set[str] = set()
    while True:  # a fresh window after any action that changed the settings
        with window_in(qtbot, state, tmp, keyring_backend, ca) as window:
            acts = reachable_actions(qtbot, window)
            for key in acts:
                sweep.enabled_somewhere.setdefault(key, [])
            todo = [k for k in acts if k not in done]
            if not todo:
                return
            restart = False
            for key in todo:
                done.add(key)
                select(window, state)
                act = reachable_actions(qtbot, window).get(key)
                if act is None or not act.isEnabled():
                    continue
                sweep.enabled_somewhere[key].append(state.name)
                sweep.triggered += 1
                out = trigger(qtbot, window, act, log)
                where = f"{state.name} / {key}"
                changed = f" [changed {', '.join(out.changed)}]" if out.changed else ""
                sweep.lines.append(f"{where}: {out.effect() if out.visible() else 'NOTHING'}{changed}")
                if out.exceptions:
                    sweep.failures.append(f"{where}: raised {out.exceptions}")
                if out.errors:
                    sweep.failures.append(f"{where}: logged {out.errors}")
                if not out.visible():
                    sweep.failures.append(f"{where}: enabled but nothing visible happened")
                if "settings" in out.changed or not shiboken6.isValid(window):
                    restart = True
                    break
                if not window.isVisible():  # Quit closed it: open it again, as starting xdrconf would
                    window.show()
            if not restart:
                return


def sweep_all(qtbot: QtBot, tmp_path: Path, keyring_backend: Any, test_ca: TestCA) -> Sweep:
    sweep = Sweep()
    log = ErrorLog()
    root = logging.getLogger()
    root.addHandler(log)
    try:
        for state in states():
            run_state(qtbot, state, sweep, tmp_path, keyring_backend, test_ca, log)
    finally:
        root.removeHandler(log)
    report = os.environ.get("XDRCONF_SWEEP_REPORT")
    if report:
        Path(report).write_text("\n".join(sweep.lines) + "\n")
    dead = [k for k, where in sweep.enabled_somewhere.items() if not where]
    problems = sweep.failures + [f"{k}: never enabled in any state" for k in dead]
    assert not problems, "\n".join(problems)
    return sweep


def test_every_action_in_every_state(
    qtbot: QtBot, tmp_path: Path, keyring_backend: Any, test_ca: TestCA
) -> None:
    sweep = sweep_all(qtbot, tmp_path, keyring_backend, test_ca)
    # What the sweep went through (a sweep that found nothing would prove nothing).
    assert len(sweep.enabled_somewhere) >= 15 and sweep.triggered >= 100, sweep.lines


@pytest.mark.xvfb
@pytest.mark.skipif(
    os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"),
    reason="needs an X server (run under xvfb-run with QT_QPA_PLATFORM=xcb)",
)
def test_every_action_in_every_state_on_xvfb(
    qtbot: QtBot, tmp_path: Path, keyring_backend: Any, test_ca: TestCA
) -> None:
    assert QApplication.platformName() == "xcb"
    sweep = sweep_all(qtbot, tmp_path, keyring_backend, test_ca)
    assert len(sweep.enabled_somewhere) >= 15 and sweep.triggered >= 100, sweep.lines


def test_the_sweep_sees_an_action_that_does_nothing_and_one_that_raises(
    qtbot: QtBot, tmp_path: Path, keyring_backend: Any, test_ca: TestCA
) -> None:
    """The sweep's own checks can fail: an action added to the Help menu that does nothing,
    one that raises, one that logs an error."""
    with window_in(qtbot, State("Root tenant", "Root tenant"), tmp_path, keyring_backend, test_ca) as window:
        help_menu = as_a(QMenu, window.menuBar().actions()[-1].menu())
        silent = help_menu.addAction("Does nothing")
        silent.triggered.connect(lambda: None)
        loud = help_menu.addAction("Raises")

        def fail() -> None:
            raise RuntimeError("broken action")

        loud.triggered.connect(fail)
        noisy = help_menu.addAction("Logs an error")
        noisy.triggered.connect(lambda: logging.getLogger("xdrconf.test").error("went wrong"))
        acts = reachable_actions(qtbot, window)
        assert {"Does nothing", "Raises", "Logs an error"} <= set(acts)
        log = ErrorLog()
        logging.getLogger().addHandler(log)
        try:
            assert not trigger(qtbot, window, acts["Does nothing"], log).visible()
            assert trigger(qtbot, window, acts["Raises"], log).exceptions == ["RuntimeError: broken action"]
            assert trigger(qtbot, window, acts["Logs an error"], log).errors == ["xdrconf.test: went wrong"]
        finally:
            logging.getLogger().removeHandler(log)
