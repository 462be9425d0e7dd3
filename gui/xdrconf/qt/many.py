"""Configure an integration for several tenants at once (the window's "Configure in the
subtree…" / "Configure for the selected tenants…"): the integration's fields, pre-filled
with the first tenant's saved values (secrets never), of which only the fields the user
changes are applied to every tenant, in one change (Workspace.update_many)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core import catalog
from ..core.fields import Field
from ..core.i18n import _, ngettext
from ..core.workspace import IntegrationEdit
from .editors import REASON_STYLE, FieldGrid

if TYPE_CHECKING:
    from ..core.workspace import Workspace

SHOWN = 10  # tenants named in the dialog; the rest are counted


def secrets_held(ws: Workspace, kind: str, ids: list[str]) -> dict[str, int]:
    """Each secret field of the integration: how many of the tenants hold a stored one."""
    states = [ws.tree.get(t).integrations.get(kind) for t in ids]
    return {
        f.name: sum(1 for s in states if s is not None and f.name in s.secrets)
        for f in catalog.spec_for(kind).fields
        if f.secret
    }


def held_text(n: int, total: int) -> str:
    """What the empty editor of a secret stored for some of the tenants only says."""
    return ngettext("stored for {n} of {total} tenant", "stored for {n} of {total} tenants", total).format(
        n=n, total=total
    )


def held_hint(f: Field) -> str:
    """The hint under a secret stored for some of the tenants only: what leaving it empty does."""
    what = _(
        "Left empty, the tenants that hold one keep theirs and the others stay without one; a "
        "value typed after Replace is stored for each of them."
    )
    return f"{what} {_(f.help)}" if f.help else what


class ConfigureManyDialog(QDialog):
    """The fields of one integration for several tenants. OK emits `submitted` with the
    edit (the window applies it in a worker and calls finish() or refused())."""

    submitted = Signal(object)

    def __init__(self, parent: QWidget | None, ws: Workspace, kind: str, ids: list[str]) -> None:
        super().__init__(parent)
        self.setObjectName("configureManyDialog")
        self.kind, self.ids = kind, list(ids)
        spec = catalog.spec_for(kind)
        self.setWindowTitle(
            _("Configure {integration} for {n} tenants").format(integration=spec.title, n=len(ids))
        )
        first = ws.tree.get(ids[0])
        state = first.integrations.get(kind)
        settings = state.settings if state is not None else spec.defaults()
        fields = list(spec.fields)
        self.initial = {f.name: f.format(settings.get(f.name)) for f in fields if not f.secret}
        all_root = all(ws.tree.get(t).is_root for t in ids)
        locked = {
            f.name: _("Set for the Root tenant only.")
            for f in fields
            if f.name in spec.root_only and not all_root
        }
        lay = QVBoxLayout(self)
        paths = [ws.tree.path(t) for t in ids]
        names = paths[:SHOWN] + (
            [_("… and {n} more").format(n=len(paths) - SHOWN)] if len(paths) > SHOWN else []
        )
        intro = QLabel(
            _(
                "The values of {tenant} are shown. Only the fields you change are set, for each of "
                "these tenants; a secret left empty keeps each tenant's own, a secret typed is stored "
                "for each of them."
            ).format(tenant=paths[0])
            + "\n"
            + "\n".join("• " + p for p in names),
            self,
        )
        intro.setObjectName("configureManyIntro")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(intro)
        held = secrets_held(ws, kind, ids)
        some = {name: n for name, n in held.items() if 0 < n < len(ids)}  # stored for some only
        self.grid = FieldGrid(
            fields,
            None,
            values=self.initial,
            stored_secrets={name for name, n in held.items() if n},
            stored_texts={name: held_text(n, len(ids)) for name, n in some.items()},
            hints={name: held_hint(spec.field(name)) for name in some},
            optional=held,  # a secret left empty changes nothing
            locked=locked,
        )
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid)
        lay.addWidget(scroll, 1)
        self.error = QLabel(self)
        self.error.setObjectName("configureManyError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet(REASON_STYLE)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.grid.validity_changed.connect(self._update_ok)
        self.grid.revalidate()
        self.resize(640, 560)

    def edit(self, keep_secrets: bool = False) -> IntegrationEdit:
        """The changed fields only: plain fields whose text differs from the first tenant's,
        the secrets typed."""
        values: dict[str, Any] = {}
        secrets: dict[str, str | None] = {}
        for name, value in self.grid.values().items():
            editor = self.grid.editors[name]
            if not editor.isEnabled():
                continue
            if editor.field.secret:
                if value:
                    secrets[name] = str(value)
            elif str(value) != self.initial.get(name, ""):
                values[name] = value
        return IntegrationEdit(self.kind, values=values, secrets=secrets, keep_secrets=keep_secrets)

    def _update_ok(self) -> None:
        edit = self.edit()
        ok = not self.grid.problems() and bool(edit.values or edit.secrets)
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        button.setEnabled(ok)
        button.setToolTip("" if ok else _("Change a field first (and correct those marked)."))

    def _submit(self) -> None:
        self.error.clear()
        self.buttons.setEnabled(False)
        self.submitted.emit(self.edit())

    def finish(self) -> None:
        self.accept()

    def refused(self, why: str) -> None:
        """Nothing was changed: why, the typed values kept."""
        self.buttons.setEnabled(True)
        self.error.setText(why)
