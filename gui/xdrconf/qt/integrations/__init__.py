"""Integration-specific Qt UI: the extension contract.

Every supported integration gets generic UI for free: the wizard builds one form page per
``spec.pages`` entry from ``spec.fields`` (xdrconf.qt.wizard.SpecFormPage), then adds one
closing page per integration with the on/off toggle, the spec's check notice and
"Check connection". The main window lists the integration in the tenant's table, and an
integration with operations besides its check gets the Operations tab (xdrconf.qt.operations:
parameters, Run/Cancel, confirmations and the outcome's data, all from the spec's
``Operation``s — their ``columns`` and ``offer`` say what to show and to offer).

An integration that needs more provides a module ``xdrconf/qt/integrations/<name>.py`` and
names it in its catalog entry (``core.catalog.ENTRIES``: ``Entry(..., qt="<name>")``). It MAY
define any of these three functions; each receives an :class:`IntegrationUiContext`:

``wizard_pages(ctx) -> list[QWizardPage]``
    Replaces the generic form pages of that integration in the tenant wizard (the
    closing on/off + "Check connection" page is still added by the wizard). Pages write
    what the user entered into ``ctx.draft`` (an :class:`IntegrationDraft`) as the user
    edits, or at the latest in ``validatePage()``:

    - ``ctx.draft.set_value(field, text)``   plain fields, as typed (Field.parse input)
    - ``ctx.draft.set_secret(field, value)`` a typed secret; "" keeps the stored one,
      ``None`` deletes it; NEVER pre-fill a widget with a stored secret
    - ``ctx.draft.set_structured(key, obj)`` one of ``spec.structured_keys`` (json-able,
      no secrets; e.g. KATA's connection list)
    - ``ctx.draft.note(key, lines)``         summary lines for the wizard's summary page
      (for structured changes: "KATA connections: 1 added, 2 kept"); values and
      secrets are summarised automatically ("API token: will be replaced").

    Nothing is saved until Finish: the wizard then applies every draft of the tenant with
    one ``Workspace.update_integrations(tenant_id, [draft.edit(), ...])`` in a worker;
    Cancel drops the drafts. A page may reuse the generic pieces:
    ``ctx.form_page(core_page)`` (a spec-generated form page, the wizard's SpecFormPage),
    the field editors of ``xdrconf.qt.editors`` (FieldsForm, SecretEditor …) and
    ``xdrconf.qt.checks_ui.CheckConnectionBox(ctx)`` (button, progress, Cancel, result).

``panel(ctx) -> QWidget``
    Extra widgets shown in a tab beside "Details" under the integrations table of the
    main window while that integration is selected, for what the Operations tab cannot
    serve (the KATA connection list, the KUMA incidents view); the panel's ``windowTitle()`` names the
    tab (default "<title> tools"). ``ctx.draft`` is None here. A panel that changes the settings
    does so through the Workspace in ``ctx.run_in_background`` and then calls
    ``ctx.refresh()`` so the window shows the new state. The panel is shown once the
    integration is configured (a module that sets ``PANEL_BEFORE_CONFIGURED = True`` has it
    shown always: KATA adds its connections there). A panel that shows saved state defines
    ``update_view()``: the window calls it whenever that state may have changed (after a
    check, an edit, a pin). It sits in a scroll area: a wide panel scrolls rather than
    widening the window.

``actions(ctx) -> list[QAction]``
    Extra actions for that integration, added to the Integration menu and to the table's
    context menu while the integration is selected (parent them to ``ctx.parent``).

Rules for UI modules: never touch the network, the keyring (SecretStore, Workspace
methods that write secrets, ``core.engine.run_operation``) or slow files on the GUI thread: use
``ctx.run_in_background(fn, on_done, on_error)``; errors raised by the core carry a
user-facing message (``ctx.show_error(exc)`` shows it). Keep logic in the core module
``xdrconf.core.integrations.<module>``; the Qt module only arranges widgets. Modules are
imported lazily, the first time their integration is shown.
"""

from __future__ import annotations

import copy
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from xdrconf.core.i18n import _

from ...core import catalog
from ...core.catalog import IntegrationSpec, Page
from ...core.errors import ValidationError
from ...core.tenants import IntegrationState
from ...core.workspace import IntegrationEdit

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QWidget, QWizardPage

    from ...core.tenants import Tenant
    from ...core.workspace import Workspace
    from ..workers import Task

log = logging.getLogger(__name__)

__all__ = [
    "IntegrationDraft",
    "IntegrationUiContext",
    "actions",
    "panel",
    "ui_module",
    "wizard_pages",
]


@dataclass
class IntegrationDraft:
    """What the wizard will change in one integration of one tenant. Filled by the pages;
    turned into one IntegrationEdit at Finish."""

    kind: str
    spec: IntegrationSpec
    stored: IntegrationState  # a copy of the saved state (or a new one with the defaults)
    values: dict[str, Any] = field(default_factory=dict)  # field -> typed text
    secrets: dict[str, str | None] = field(default_factory=dict)  # field -> new value / None
    structured: dict[str, Any] = field(default_factory=dict)
    enabled: bool | None = None
    notes: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def for_state(cls, spec: IntegrationSpec, state: IntegrationState | None) -> IntegrationDraft:
        if state is None:
            state = IntegrationState(spec.kind, settings=spec.defaults())
        return cls(spec.kind, spec, IntegrationState.from_dict(spec.kind, state.to_dict()))

    # ---- written by pages -------------------------------------------------------------
    def set_value(self, name: str, text: Any) -> None:
        self.values[name] = text

    def set_secret(self, name: str, value: str | None) -> None:
        if value == "":
            self.secrets.pop(name, None)  # empty means: keep what is stored
        else:
            self.secrets[name] = value

    def set_structured(self, key: str, value: Any) -> None:
        self.structured[key] = copy.deepcopy(value)

    def note(self, key: str, lines: list[str]) -> None:
        if lines:
            self.notes[key] = list(lines)
        else:
            self.notes.pop(key, None)

    # ---- read by the wizard ---------------------------------------------------------------
    def stored_text(self, name: str) -> str:
        """The saved value of a plain field as the form shows it."""
        return self.spec.field(name).format(self.stored.settings.get(name))

    def has_stored_secret(self, name: str) -> bool:
        return name in self.stored.secrets

    def changed_values(self) -> dict[str, Any]:
        """Fields whose typed text parses to something other than the saved value.
        Raises ValidationError for text that does not parse."""
        out: dict[str, Any] = {}
        for name, text in self.values.items():
            f = self.spec.field(name)
            value = f.parse(text)
            old = self.stored.settings.get(name)
            if (value in (None, "") and old in (None, "")) or value == old:
                continue
            out[name] = None if value in (None, "") else text
        return out

    def settings(self) -> dict[str, Any]:
        """The saved settings with the typed values applied (parsed)."""
        merged = copy.deepcopy(self.stored.settings)
        for name, text in self.values.items():
            value = self.spec.field(name).parse(text)
            if value in (None, ""):
                merged.pop(name, None)
            else:
                merged[name] = value
        merged.update(copy.deepcopy(self.structured))
        return merged

    def draft_state(self) -> IntegrationState:
        """An IntegrationState for `run_operation(draft=...)`: typed settings, stored secret
        references (minus deleted ones); typed secrets go in `typed_secrets()`."""
        secrets = {k: v for k, v in self.stored.secrets.items() if self.secrets.get(k, v) is not None}
        enabled = self.stored.enabled if self.enabled is None else self.enabled
        return IntegrationState(self.kind, enabled, self.settings(), secrets, [])

    def typed_secrets(self) -> dict[str, str]:
        return {k: v for k, v in self.secrets.items() if v}

    def edit(self) -> IntegrationEdit | None:
        """The change to apply at Finish, or None when nothing changes."""
        values = self.changed_values()
        enabled = None if self.enabled is None or self.enabled == self.stored.enabled else self.enabled
        structured = {k: v for k, v in self.structured.items() if self.stored.settings.get(k) != v}
        if not values and not self.secrets and not structured and enabled is None:
            return None
        return IntegrationEdit(
            self.kind, values=values, secrets=dict(self.secrets), enabled=enabled, structured=structured
        )

    def summary(self, *, in_vault: bool = False) -> list[str]:
        """What will change, one line each; never a secret value."""
        lines: list[str] = []
        try:
            values = self.changed_values()
        except ValidationError as exc:
            return [_("Not valid: {exc}").format(exc=exc)]
        for name in values:
            f = self.spec.field(name)
            new = f.format(self.spec.field(name).parse(values[name])) if values[name] is not None else ""
            old = self.stored_text(name)
            if f.kind == "pem":
                new = _("a certificate") if new else _("none")
                old = _("a certificate") if old else _("none")
            if not new:
                lines.append(_("{label}: will be cleared (was {old})").format(label=f.label, old=old))
            elif old:
                lines.append(f"{f.label}: {new} (was {old})")
            else:
                lines.append(f"{f.label}: {new}")
        for name, value in self.secrets.items():
            try:
                label = self.spec.field(name).label
            except ValidationError:
                label = name
            if value is None:
                gone = (
                    _("{label}: will be deleted from the vault")
                    if in_vault
                    else _("{label}: will be deleted from the OS keyring")
                )
                lines.append(gone.format(label=label))
            elif self.has_stored_secret(name):
                lines.append(_("{label}: will be replaced").format(label=label))
            else:
                kept = (
                    _("{label}: will be stored in the vault")
                    if in_vault
                    else _("{label}: will be stored in the OS keyring")
                )
                lines.append(kept.format(label=label))
        for key in self.structured:
            if self.stored.settings.get(key) != self.structured[key] and key not in self.notes:
                lines.append(_("{setting}: changed").format(setting=key.replace("_", " ").capitalize()))
        for note in self.notes.values():
            lines.extend(note)
        if self.enabled is not None and self.enabled != self.stored.enabled:
            lines.append(_("Will be turned on") if self.enabled else _("Will be turned off"))
        return lines


@dataclass
class IntegrationUiContext:
    """What an integration's Qt code may use. One per (tenant, integration) on screen."""

    workspace: Workspace
    tenant_id: str
    kind: str
    spec: IntegrationSpec
    parent: QWidget | None = None
    draft: IntegrationDraft | None = None  # set in the wizard only
    refresh: Callable[[], None] = lambda: None  # the main window reloads its views
    # The main window shows a busy state while tasks run; it passes its own runner.
    runner: Callable[..., Task] | None = None
    # In the wizard: makes the generic form page of one of the spec's pages.
    form_page: Callable[[Page], QWizardPage] = field(default=lambda page: _no_wizard(page))

    @property
    def tenant(self) -> Tenant:
        return self.workspace.tree.get(self.tenant_id)

    @property
    def state(self) -> IntegrationState:
        """The saved state (do not modify; go through the Workspace)."""
        return self.workspace.integration(self.tenant, self.kind)

    def run_in_background(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        on_progress: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
        checks: bool = False,
    ) -> Task:
        """Run `fn` on a worker thread; callbacks run on the GUI thread. Without on_error
        the error is shown to the user. With on_progress, fn receives `report(value)`.
        checks=True uses the connection-check pool. `task.cancel()` sets `cancel`."""
        from .. import workers

        if on_error is None:
            on_error = self.show_error
        if self.runner is not None:
            return self.runner(fn, on_done, on_error, on_progress=on_progress, cancel=cancel, checks=checks)
        pool = workers.check_pool() if checks else workers.general_pool()
        return workers.run_in_background(
            fn, on_done, on_error, on_progress=on_progress, cancel=cancel, pool=pool, owner=self.parent
        )

    def show_error(self, error: BaseException | str) -> None:
        from ..dialogs import show_error

        show_error(self.parent, error)


def _no_wizard(page: Page) -> QWizardPage:
    raise RuntimeError(f"form page '{page.title}' asked for outside the wizard")


# ---- loader ---------------------------------------------------------------------------------
_modules: dict[str, ModuleType | None] = {}


def ui_module(kind: str) -> ModuleType | None:
    """The integration's Qt module named by its catalog entry, or None (generic UI only)."""
    if kind not in _modules:
        name = catalog.entry(kind).qt
        _modules[kind] = importlib.import_module(f"{__name__}.{name}") if name else None
    return _modules[kind]


def wizard_pages(ctx: IntegrationUiContext) -> list[QWizardPage] | None:
    """The module's pages, or None for the generic, spec-generated pages."""
    mod = ui_module(ctx.kind)
    fn = getattr(mod, "wizard_pages", None)
    return list(fn(ctx)) if fn is not None else None


def panel(ctx: IntegrationUiContext) -> QWidget | None:
    mod = ui_module(ctx.kind)
    fn = getattr(mod, "panel", None)
    return fn(ctx) if fn is not None else None


def actions(ctx: IntegrationUiContext) -> list[QAction]:
    mod = ui_module(ctx.kind)
    fn = getattr(mod, "actions", None)
    return list(fn(ctx)) if fn is not None else []
