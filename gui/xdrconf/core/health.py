"""The health grid (issue 17): every tenant against every supported integration, each cell
the level of that integration's last stored check, with counts per column, a filter and a
CSV export. Plain Python: the window's grid (qt/health_grid.py) shows what this builds.

The levels of a cell, and how each one is shown (its words, a glyph so that colour is never
the only sign, and its colour), are in LOOKS, the one place a new level is added:

- off: the integration is not turned on for the tenant (or not supported);
- unchecked: turned on, never checked (or its results were cleared by an edit);
- ok, unverified, warning, error: the worst level of the last check's results, as
  core.outcome's Outcome.level names it (ok, unverified: only reachability proven,
  warning: ok with warnings, failed), which core.status folds into its own levels.

A level that LOOKS does not know yet (a newer stored result, a level added elsewhere) is
shown by its code in grey rather than failing."""

from __future__ import annotations

import csv
import functools
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import catalog
from .i18n import N_, _
from .outcome import Category, Outcome
from .status import IntegrationStatus, integration_status

if TYPE_CHECKING:
    from .tenants import Tenant
    from .workspace import Workspace


@dataclass(frozen=True)
class Look:
    words: str  # N_(...): translated where it is shown
    glyph: str
    colour: str  # "#rrggbb" (the core names no Qt colour)


# The results' levels from best to worst, then the cells without a result. The filter offers
# them in this order.
LOOKS: dict[str, Look] = {
    "ok": Look(N_("OK"), "✓", "#2e7d32"),
    "unverified": Look(N_("not verified"), "◐", "#546e7a"),
    "warning": Look(N_("warning"), "!", "#ef8f00"),
    "error": Look(N_("failed"), "✗", "#c62828"),
    "unchecked": Look(N_("not checked"), "?", "#5e35b1"),
    "off": Look(N_("off"), "\u2013", "#9e9e9e"),
}
RESULT_LEVELS = ("ok", "unverified", "warning", "error")  # best to worst
_FROM_OUTCOME = {"ok": "ok", "unverified": "unverified", "warning": "warning", "failed": "error"}


def look(level: str) -> Look:
    """How a level is shown; an unknown one by its code, in grey."""
    return LOOKS.get(level) or Look(level, "•", LOOKS["off"].colour)


def level_words(level: str) -> str:
    return _(look(level).words)


@functools.cache
def _level_of(category: str, warned: bool, verified: bool) -> str:
    probe = {"category": category, "message": "", "warnings": ["-"] if warned else [], "verified": verified}
    return _FROM_OUTCOME.get(Outcome.from_dict(probe).level, "error")


def result_level(result: dict[str, Any]) -> str:
    """ok, unverified, warning or error, of one stored result (Outcome.level says which;
    asked once per kind of result, since a grid has thousands)."""
    return _level_of(
        str(result.get("category")), bool(result.get("warnings")), bool(result.get("verified", True))
    )


def cell_level(status: IntegrationStatus) -> str:
    if not status.supported or not status.enabled:
        return "off"
    if not status.results:
        return "unchecked"
    return max((result_level(r) for r in status.results), key=RESULT_LEVELS.index)


@dataclass
class Cell:
    status: IntegrationStatus
    level: str

    @classmethod
    def of(cls, status: IntegrationStatus) -> Cell:
        return cls(status, cell_level(status))

    @property
    def checkable(self) -> bool:
        """Whether Check runs for it (an integration turned on)."""
        return self.status.supported and self.status.enabled

    def with_results(self, results: list[dict[str, Any]]) -> Cell:
        return Cell.of(replace(self.status, results=list(results)))


@dataclass
class GridRow:
    tenant_id: str
    name: str
    path: str
    cells: list[Cell]

    @property
    def shown_path(self) -> str:
        """The path below the Root tenant (the Root tenant itself by its name)."""
        return self.path.split("/", 1)[1] if "/" in self.path else self.path


def grid_kinds() -> list[str]:
    """The columns: the supported integrations, in the product's order."""
    return [k for k in catalog.KINDS if catalog.spec_for(k).supported]


def cell_status(tenant: Tenant, kind: str) -> IntegrationStatus:
    """What a cell's level needs of core.status's IntegrationStatus: turned on, configured,
    the last results (what is missing and the flags: full_status, when a cell is opened)."""
    spec = catalog.spec_for(kind)
    state = tenant.integrations.get(kind)
    if state is None or not spec.supported:
        return IntegrationStatus(kind, spec.title, spec.supported)
    return IntegrationStatus(
        kind, spec.title, True, enabled=state.enabled, started=state.configured, results=list(state.results)
    )


def full_status(ws: Workspace, tenant_id: str, kind: str, cell: Cell) -> IntegrationStatus:
    """The whole status of a cell's integration (core.status), with the cell's results (a
    check that came in may not be saved yet)."""
    status = integration_status(ws, ws.tree.get(tenant_id), kind)
    return replace(status, results=list(cell.status.results))


def grid_row(ws: Workspace, tenant: Tenant, kinds: list[str]) -> GridRow:
    cells = [Cell.of(cell_status(tenant, kind)) for kind in kinds]
    return GridRow(tenant.id, tenant.name, ws.tree.path(tenant.id), cells)


def build_grid(ws: Workspace, kinds: list[str] | None = None) -> tuple[list[str], list[GridRow]]:
    """The columns and one row per tenant (tree order; not the Shared tenant, which has no
    integrations)."""
    kinds = grid_kinds() if kinds is None else kinds
    rows = [grid_row(ws, t, kinds) for t in ws.tree.walk_all() if not t.is_shared]
    return kinds, rows


@dataclass(frozen=True)
class GridFilter:
    """Tenants whose name holds `text` (any case); with a level, the tenants with a cell of
    that level, and of those only the cells of that level count as shown."""

    text: str = ""
    level: str | None = None

    def row_shown(self, row: GridRow) -> bool:
        if self.text and self.text.casefold() not in row.name.casefold():
            return False
        return self.level is None or any(c.level == self.level for c in row.cells)

    def cell_shown(self, cell: Cell) -> bool:
        return self.level is None or cell.level == self.level


def column_counts(rows: Iterable[GridRow], column: int, flt: GridFilter | None = None) -> Counter[str]:
    """How many of the rows' cells in `column` are at each level (the shown cells only)."""
    flt = flt or GridFilter()
    return Counter(r.cells[column].level for r in rows if flt.cell_shown(r.cells[column]))


def checks_of(rows: Iterable[GridRow], kinds: list[str], flt: GridFilter) -> list[tuple[str, str]]:
    """(tenant id, kind) of every shown cell that can be checked, row by row."""
    return [
        (row.tenant_id, kinds[i])
        for row in rows
        for i, cell in enumerate(row.cells)
        if cell.checkable and flt.cell_shown(cell)
    ]


def kept_results(outcomes: list[Outcome]) -> list[dict[str, Any]] | None:
    """The stored form of a new check's outcomes, or None when it was cancelled (what was
    known before stays, as in scheduler.by_pair)."""
    if any(o.category is Category.CANCELLED for o in outcomes):
        return None
    return [o.to_dict() for o in outcomes]


# ---- CSV ------------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    """A spreadsheet must not read a tenant's name as a formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(kinds: list[str], rows: Iterable[GridRow]) -> Iterator[list[str]]:
    """The header (Tenant, then each integration's title) and one line per tenant: its path
    and each cell's level in words. Nothing else of the settings, and never a secret."""
    yield [_("Tenant")] + [_(catalog.spec_for(k).title) for k in kinds]
    for row in rows:
        yield [_safe(row.path)] + [level_words(c.level) for c in row.cells]


def csv_text(kinds: list[str], rows: Iterable[GridRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(csv_lines(kinds, rows))
    return out.getvalue()


def write_csv(path: str, kinds: list[str], rows: Iterable[GridRow]) -> int:
    """Write the grid to `path` as UTF-8 with a byte-order mark (so that spreadsheets read
    Cyrillic names right); the number of tenant rows written."""
    rows = list(rows)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(csv_text(kinds, rows))
    return len(rows)
