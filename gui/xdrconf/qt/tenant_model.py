"""The tenant tree as a Qt item model, built for large trees (10,000 tenants and more).

The model keeps a flat snapshot of the core TenantTree (ids, names in lower case, parent
and child numbers) taken on `reload()`, so painting never walks the core objects and a
filter keystroke is one pass over a precomputed list of lower-case names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QObject, QPersistentModelIndex
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QFrame, QTreeView

from ..core.i18n import _
from ..core.tenants import TenantTree

_NONE = -1  # the invisible root
Index = QModelIndex | QPersistentModelIndex
# Qt.ItemDataRole values as numbers: naming the Qt namespace builds all its enum classes
# (some 30 ms), and the tree is painted before anything else needs them.
DISPLAY, DECORATION, TOOLTIP, FONT, USER = 0, 1, 3, 6, 0x100
HORIZONTAL = 1  # Qt.Orientation.Horizontal
_WORSE = {None: 0, "ok": 0, "unverified": 0, "warning": 1, "error": 2}


class TenantTreeModel(QAbstractItemModel):
    MARK_ROLE = USER + 1  # "ok" / "unverified" / "warning" / "error" / None: the tenant's own
    BELOW_ROLE = USER + 2  # the worst "warning" / "error" of the tenants below it, or None
    ID_ROLE = USER

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids: list[str] = []
        self._names: list[str] = []
        self._lower: list[str] = []
        self._parent: list[int] = []
        self._kids: dict[int, list[int]] = {}
        self._num: dict[str, int] = {}
        self._shared = _NONE
        self._marks: dict[str, str] = {}
        self._below: dict[int, str] = {}
        self._tree: TenantTree | None = None
        self.filter_text = ""
        self.match_count = 0
        # What is visible: children per node and each node's row among them.
        self._vis: dict[int, list[int]] = {}
        self._row: list[int] = []
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)

    # ---- snapshot -------------------------------------------------------------------------
    def reload(self, tree: TenantTree, marks: dict[str, str] | None = None) -> None:
        """Take a new snapshot of the tree (after any change) and re-apply the filter."""
        self.beginResetModel()
        self._tree = tree
        ids: list[str] = []
        names: list[str] = []
        parent: list[int] = []
        num: dict[str, int] = {}
        kids: dict[int, list[int]] = {_NONE: []}
        for tenant in tree.walk_all():  # parents before children, display order
            n = len(ids)
            num[tenant.id] = n
            ids.append(tenant.id)
            names.append(tenant.name)
            p = num[tenant.parent_id] if tenant.parent_id else _NONE
            parent.append(p)
            kids.setdefault(p, []).append(n)
        self._ids, self._names, self._parent, self._num, self._kids = ids, names, parent, num, kids
        self._lower = [name.lower() for name in names]
        self._shared = num[tree.shared_id]
        self._root_num = num[tree.root_id]
        self._marks = dict(marks or {})
        self._roll_up()
        self._apply_filter()
        self.endResetModel()

    def set_marks(self, marks: dict[str, str]) -> None:
        """Per-tenant warning marks (failed check, expiry flag). Only the rows whose mark or
        whose mark from below changed are said to have changed (one dataChanged per parent,
        over the rows from the first to the last changed): the marks change no row's place,
        and a layout change would make the view lay out and ask for every row again. Only
        the first marks (or the last going) change every row."""
        if marks == self._marks:
            return
        old_marks, old_below = self._marks, self._below
        if bool(old_marks) != bool(marks):
            # The first marks, or the last gone: every row gets its icon or loses it (see
            # data), which moves every name.
            self.layoutAboutToBeChanged.emit()
            self._marks = dict(marks)
            self._roll_up()
            self.layoutChanged.emit()
            return
        self._marks = dict(marks)
        self._roll_up()
        changed = {
            self._num[tid]
            for tid in old_marks.keys() | self._marks.keys()
            if tid in self._num and old_marks.get(tid) != self._marks.get(tid)
        }
        below = old_below.keys() | self._below.keys()
        changed.update(n for n in below if old_below.get(n) != self._below.get(n))
        rows: dict[int, list[int]] = {}
        for n in changed:
            r = self._shown_row(n)
            if r is not None:
                rows.setdefault(self._parent[n], []).append(r)
        for p, shown in rows.items():
            parent = QModelIndex() if p == _NONE else self.index_of(self._ids[p])
            if p != _NONE and not parent.isValid():
                continue
            first, last = min(shown), max(shown)
            self.dataChanged.emit(self.index(first, 0, parent), self.index(last, 0, parent))

    def _roll_up(self) -> None:
        """Each tenant's worst warning or error below it, so that a collapsed tenant shows it."""
        below: dict[int, str] = {}
        for tid, mark in self._marks.items():
            if _WORSE.get(mark, 0) == 0 or tid not in self._num:
                continue
            p = self._parent[self._num[tid]]
            while p != _NONE and _WORSE.get(below.get(p), 0) < _WORSE[mark]:
                below[p] = mark
                p = self._parent[p]
        self._below = below

    # ---- filter ---------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        text = text.strip().lower()
        if text == self.filter_text:
            return
        self.beginResetModel()
        self.filter_text = text
        self._apply_filter()
        self.endResetModel()

    def _apply_filter(self) -> None:
        text = self.filter_text
        row = [0] * len(self._ids)
        if not text:
            self._vis = self._kids
            self.match_count = len(self._ids)
        else:
            keep = bytearray(len(self._ids))
            parent = self._parent
            matches = 0
            for n, name in enumerate(self._lower):
                if text in name:
                    matches += 1
                    while n != _NONE and not keep[n]:
                        keep[n] = 1
                        n = parent[n]
            self.match_count = matches
            self._vis = {
                p: [c for c in cs if keep[c]] for p, cs in self._kids.items() if p == _NONE or keep[p]
            }
        for cs in self._vis.values():
            for r, c in enumerate(cs):
                row[c] = r
        self._row = row

    def matches(self, n: int) -> bool:
        return bool(self.filter_text) and self.filter_text in self._lower[n]

    # ---- lookups --------------------------------------------------------------------------
    def _shown_row(self, n: int) -> int | None:
        """The row of node n under its parent, or None when the filter hides it."""
        siblings = self._vis.get(self._parent[n], [])
        r = self._row[n]
        return r if r < len(siblings) and siblings[r] == n else None

    def index_of(self, tenant_id: str) -> QModelIndex:
        n = self._num.get(tenant_id)
        r = None if n is None else self._shown_row(n)
        if n is None or r is None:
            return QModelIndex()  # unknown, or filtered out
        return self.createIndex(r, 0, n)

    def tenant_id(self, index: Index) -> str | None:
        if not index.isValid():
            return None
        return self._ids[index.internalId()]

    def visible_parents(self) -> list[QModelIndex]:
        """Indexes of every visible node that has visible children (to expand them)."""
        out = []
        for p, cs in self._vis.items():
            if p != _NONE and cs:
                out.append(self.createIndex(self._row[p], 0, p))
        return out

    def __len__(self) -> int:
        return len(self._ids)

    # ---- QAbstractItemModel ---------------------------------------------------------------
    def index(self, row: int, column: int = 0, parent: Index = QModelIndex()) -> QModelIndex:
        p = parent.internalId() if parent.isValid() else _NONE
        kids = self._vis.get(p)
        if column != 0 or kids is None or not 0 <= row < len(kids):
            return QModelIndex()
        return self.createIndex(row, 0, kids[row])

    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, index: Index) -> QModelIndex: ...
    def parent(self, index: Index | None = None) -> QModelIndex | QObject | None:
        if index is None:  # QObject.parent(): the model's owner
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        p = self._parent[index.internalId()]
        if p == _NONE:
            return QModelIndex()
        return self.createIndex(self._row[p], 0, p)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.column() > 0:
            return 0
        p = parent.internalId() if parent.isValid() else _NONE
        return len(self._vis.get(p, ()))

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        return self.rowCount(parent) > 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 1

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        n = index.internalId()
        if role == DISPLAY:
            return self._names[n]
        if role == self.ID_ROLE:
            return self._ids[n]
        if role == self.MARK_ROLE:
            return self._marks.get(self._ids[n])
        if role == self.BELOW_ROLE:
            return self._below.get(n)
        if role == FONT:
            if n == self._shared:
                return self._italic
            if self.matches(n):
                return self._bold
            return None
        if role == TOOLTIP and self._tree is not None:
            tid = self._ids[n]
            if tid in self._tree:
                tip = self._tree.path(tid)
                if self._marks.get(tid) == "error":
                    tip += "\n" + _("A connection check failed.")
                elif self._marks.get(tid) == "warning":
                    tip += "\n" + _("A warning is pending (see the integrations).")
                elif self._marks.get(tid) == "unverified":
                    tip += "\n" + _(
                        "The checks passed, but some proved only that the server is reachable: "
                        "their credentials were not verified."
                    )
                below = self._below.get(n)
                if below == "error":
                    tip += "\n" + _("A check failed for a tenant below this one.")
                elif below == "warning":
                    tip += "\n" + _("A tenant below this one has a warning.")
                return tip
        if role == DECORATION and self._marks:
            from .icons import mark_icon

            # Once any tenant has a mark, every row gets an icon (blank when none) so that
            # the names stay aligned. A ring: fine here, but not everything below.
            own = self._marks.get(self._ids[n])
            if _WORSE.get(own, 0) == 0 and n in self._below:
                return mark_icon(self._below[n], ring=True)
            return mark_icon(own or "none")
        return None

    def headerData(self, section: int, orientation: Any, role: int = DISPLAY) -> Any:
        if role == DISPLAY and orientation == HORIZONTAL:
            return _("Tenants")
        return None


def activation_unseen(view: QAbstractItemView, event: QEvent) -> bool:
    """Whether event is the activation or deactivation of the view's window (a dialog
    opening or closing over it) and changes nothing that can be seen. Qt's item views repaint
    themselves whole on both, for selection colours that differ between an active and an
    inactive window; with a palette whose active and inactive colours are the same (Fusion's
    are) nothing would change, and the repaint of a view with a Python model costs ~10 ms
    (most of the GUI thread's time when Check all opens). QuietActivation hands these events
    to QFrame.event (the view) and to the viewport's own QWidget.event, below the item view's
    handling; QWidget's still runs (it repaints when the palette does differ, and tells the
    children)."""
    from PySide6.QtGui import QPalette

    return event.type() in (
        QEvent.Type.WindowActivate,
        QEvent.Type.WindowDeactivate,
    ) and view.palette().isEqual(QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)


if TYPE_CHECKING:
    _ItemView = QAbstractItemView
else:
    _ItemView = object  # a plain mixin at run time: the view's own Qt class comes after it


class QuietActivation(_ItemView):
    """For an item view class (first among its bases): no whole repaint when its window is
    activated or deactivated and nothing would look different (see activation_unseen)."""

    def event(self, event: QEvent) -> bool:
        if activation_unseen(self, event):
            return QFrame.event(self, event)
        return super().event(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if activation_unseen(self, event):
            return False  # the viewport's own QWidget.event handles it
        return super().viewportEvent(event)


class TenantTreeView(QuietActivation, QTreeView):
    """The tenant tree's view."""
