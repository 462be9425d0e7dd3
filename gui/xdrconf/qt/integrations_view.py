"""The right-hand side of the main window: one tenant's integrations as a table, and the
details of the selected integration (its last check results, what is missing, flags)."""

from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QScrollArea, QTableView, QWidget

from ..core import catalog
from ..core.catalog import SeeAlso
from ..core.i18n import N_, _, ngettext, pgettext, pN_
from ..core.outcome import category_words, outcome_words
from ..core.status import IntegrationStatus, shown_level, tenant_level, tenant_statuses
from ..core.tenants import Tenant
from .icons import colour, mark_icon
from .tenant_model import QuietActivation

if TYPE_CHECKING:
    from ..core.workspace import Workspace

Index = QModelIndex | QPersistentModelIndex
COLUMNS = (
    N_("Integration"),
    pN_("integrations table column", "On"),
    N_("Configured"),
    N_("Last check"),
    N_("Flags"),
)
# In the table, the names the product's own texts use for the long ones (the full title is
# in the tooltip and the details).
SHORT_TITLES = {"kasap": "KASAP", "tip": "Kaspersky TIP"}


def _local(iso: str) -> tuple[_dt.datetime, bool] | None:
    """A stored check time in local time, and whether it is today."""
    try:
        when = _dt.datetime.fromisoformat(iso).astimezone()
    except (TypeError, ValueError):
        return None
    return when, when.date() == _dt.datetime.now().astimezone().date()


def short_time(iso: str) -> str:
    """For the table: 'HH:MM' today, else the date (the details have the whole time)."""
    found = _local(iso)
    if found is None:
        return iso or ""
    return found[0].strftime("%H:%M" if found[1] else "%Y-%m-%d")


def format_time(iso: str) -> str:
    """A check time in local time: 'HH:MM:SS' today, else 'YYYY-MM-DD HH:MM'."""
    found = _local(iso)
    if found is None:
        return iso or ""
    return found[0].strftime("%H:%M:%S" if found[1] else "%Y-%m-%d %H:%M")


@dataclass
class Row(IntegrationStatus):
    """What the table shows for one integration of one tenant (a snapshot of its status)."""

    running: bool = False

    def status_text(self) -> str:
        if not self.supported:
            return "—"
        return pgettext("integration state", "on") if self.enabled else pgettext("integration state", "off")

    def configured_text(self) -> str:
        if not self.supported:
            return "—"
        if self.configured:
            return pgettext("integration configured", "yes")
        if not self.missing and not self.configured:
            return pgettext("integration configured", "no")
        return _("missing: {fields}").format(fields=", ".join(str(m) for m in self.missing))

    def check_text(self) -> str:
        """Words and time; the message is in the tooltip and the details."""
        if self.running:
            return _("checking…")
        if not self.supported:
            return _("not yet supported")
        if not self.results:
            return _("not checked")
        when = short_time(max(r.get("checked_at", "") for r in self.results))
        if len(self.results) == 1:
            return f"{outcome_words(self.results[0])} · {when}"
        bad = [r for r in self.results if r.get("category") != "ok"]
        if not bad:
            n = len(self.results)
            return ngettext("OK ({n} connection) · {when}", "OK ({n} connections) · {when}", n).format(
                n=n, when=when
            )
        words = ", ".join(sorted({category_words(str(r.get("category"))) for r in bad}))
        return _("{bad} of {n} failed: {words} · {when}").format(
            bad=len(bad), n=len(self.results), words=words, when=when
        )

    def check_tooltip(self) -> str:
        return "\n\n".join(
            f"{outcome_words(r)} ({r.get('category')}) — "
            f"{r.get('connection') or r.get('target', '')}\n{r.get('message', '')}"
            for r in self.results
        )

    def flags_text(self) -> str:
        return "; ".join(str(message) for _level, message in self.flags)


def state_words(status: IntegrationStatus) -> str:
    """An integration's state in a few words: 'not configured', 'configured, turned off',
    'turned on, last check: OK' (for the integrations another one relies on)."""
    if not status.configured:
        return _("not configured")
    if not status.enabled:
        return _("configured, turned off")
    if not status.results:
        return _("turned on, not checked yet")
    words = ", ".join(sorted({outcome_words(r) for r in status.results}))
    return _("turned on, last check: {words}").format(words=words)


def warnings_html(warnings: list[str]) -> str:
    """An outcome's warnings, one line each, in the warning colour (HTML to append).

    How an integration uses it: nothing in qt/ — return `Outcome(..., warnings=[...])` from an
    operation (each warning a translated sentence the analyst can act on; the outcome's level
    becomes "warning"). The check's result in the wizard and in Check all (checks_ui.
    result_html) and the stored results in the Details tab (details_html) show them through
    this; the Operations tab shows them with the outcome."""
    c = colour("warning").name()
    return "".join(f"<br><span style='color:{c}'>⚠ {html.escape(str(w))}</span>" for w in warnings)


def build_rows(ws: Workspace, tenant: Tenant) -> list[Row]:
    rows = []
    for status in tenant_statuses(ws, tenant):
        row = Row(**{f.name: getattr(status, f.name) for f in fields(IntegrationStatus)})
        if not row.started:
            row.missing = []  # never set up: "no", not the list of everything
        rows.append(row)
    return rows


def tenant_mark(ws: Workspace, tenant: Tenant) -> str | None:
    """'error' when an enabled integration's last check failed, 'warning' for flags, 'ok'
    when every enabled integration's last check passed, else None."""
    return tenant_level(ws, tenant)


class IntegrationsModel(QAbstractTableModel):
    KIND_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []

    def set_rows(self, rows: list[Row]) -> None:
        running = {r.kind for r in self.rows if r.running}
        self.beginResetModel()
        self.rows = rows
        for r in rows:
            r.running = r.kind in running
        self.endResetModel()

    def set_running(self, kind: str, running: bool) -> None:
        for i, r in enumerate(self.rows):
            if r.kind == kind:
                r.running = running
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def row_of(self, kind: str) -> int:
        for i, r in enumerate(self.rows):
            if r.kind == kind:
                return i
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == self.KIND_ROLE:
            return row.kind
        if role == Qt.ItemDataRole.DisplayRole:
            title = str(SHORT_TITLES.get(row.kind, row.title))
            return (title, row.status_text(), row.configured_text(), row.check_text(), row.flags_text())[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 3 and row.results:
                return row.check_tooltip()
            if col == 4 and row.flags:
                return "\n".join(str(m) for _level, m in row.flags)
            if col == 0:  # the title may be elided in the column
                return f"{row.title}\n{_(catalog.spec_for(row.kind).description)}"
            if col == 2 and row.missing:
                return _("Not set yet: {fields}").format(fields=", ".join(str(m) for m in row.missing))
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            if col == 0:
                return mark_icon("running" if row.running else row.level)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if not row.supported:
                return QBrush(colour("off"))
            if col == 3 and row.results and row.check_level in ("error", "unverified", "warning"):
                return QBrush(colour(row.check_level))
            if col == 4 and row.flags:
                return QBrush(colour("error" if row.level == "error" else "warning"))
            return None
        return None


def details_html(ws: Workspace, tenant: Tenant, row: Row | None) -> str:
    """The details of the selected integration as simple rich text."""
    if tenant.is_shared:
        # TRANSLATORS: {shared} is the Shared tenant's name, in bold.
        text = _(
            "The {shared} tenant holds resources common to all tenants and needs no integration settings."
        )
        return (
            "<p>" + html.escape(text).replace("{shared}", "<b>" + html.escape(tenant.name) + "</b>") + "</p>"
        )
    if row is None:
        return "<p style='color:#666'>" + html.escape(_("Select an integration to see its details.")) + "</p>"
    spec = catalog.spec_for(row.kind)
    esc = html.escape
    about = _(spec.description) if spec.description else ""  # LazyTexts: translated here
    parts = [f"<p><b>{esc(_(spec.title))}</b> — {esc(about)}</p>"]
    if not row.supported:
        parts.append(
            "<p>"
            + html.escape(_("Not yet supported by this version of xdrconf; it cannot be turned on."))
            + "</p>"
        )
        return "".join(parts)
    if row.configured:
        conf = _("configured")
    elif not row.missing:
        conf = _("not configured")
    else:
        conf = _("missing: {fields}").format(fields=", ".join(str(m) for m in row.missing))
    # TRANSLATORS: {configured} is "configured", "not configured" or "missing: <fields>".
    on = _("Turned <b>on</b>, {configured}.") if row.enabled else _("Turned <b>off</b>, {configured}.")
    parts.append(f"<p>{on.format(configured=esc(conf))}</p>")
    parts.extend(f"<p>{see_also_html(ws, tenant, see, link=not ws.readonly)}</p>" for see in spec.see_also)
    for level, message in row.flags:
        c = colour(level).name()
        parts.append(f"<p style='color:{c}'>⚠ {esc(str(message))}</p>")
    if row.results:
        parts.append("<p><b>" + esc(_("Last check")) + "</b></p><ul style='margin-top:0'>")
        for r in row.results:
            c = colour(shown_level(r)).name()
            latency = r.get("latency_ms")
            lat = ", " + _("{ms:.0f} ms").format(ms=latency) if isinstance(latency, (int, float)) else ""
            target = r.get("connection") or r.get("target") or ""
            parts.append(
                f"<li><span style='color:{c}'><b>{esc(outcome_words(r))}</b></span> "
                f"{esc(target)} · {esc(format_time(r.get('checked_at', '')))}{esc(lat)}<br>"
                f"{esc(str(r.get('message', '')))}{warnings_html(list(r.get('warnings') or []))}</li>"
            )
        parts.append("</ul>")
    elif row.enabled or row.configured:
        parts.append("<p style='color:#666'>" + esc(_("Not checked yet: use Check.")) + "</p>")
    return "".join(parts)


SEE_ALSO_SCHEME = "integration"  # <a href="integration:custom">: sets that integration up


def see_also_link(href: str) -> str | None:
    """The kind a SeeAlso link names (integration:<kind>), or None for another link."""
    prefix = f"{SEE_ALSO_SCHEME}:"
    return href[len(prefix) :] if href.startswith(prefix) else None


def see_also_html(ws: Workspace, tenant: Tenant, see: SeeAlso, *, link: bool) -> str:
    """A SeeAlso (core.catalog) as rich text, in the wizard's page (RelatedBox) and in the
    details alike: its sentence with the other integration's title — a link that sets it up
    (integration:<kind>) when link=True — and that integration's state for the tenant."""
    from ..core.status import integration_status

    status = integration_status(ws, tenant, see.kind)
    title = html.escape(_(catalog.spec_for(see.kind).title))
    name = f"<a href='{SEE_ALSO_SCHEME}:{see.kind}'>{title}</a>" if link else f"<b>{title}</b>"
    text = html.escape(_(see.text)).replace("{title}", name)
    state = _("This tenant's {integration}: {state}.").format(
        integration=title, state=html.escape(state_words(status))
    )
    return f"{text} {state}"


class IntegrationsTable(QuietActivation, QTableView):
    """The integrations table. On and Configured fit their text; Integration, Last check
    and Flags share the rest (3 : 4 : 3), so each is readable without widening the window,
    until the user drags a column. Tab leaves the table (to the details)."""

    def __init__(self, model: IntegrationsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fitting = False
        self.user_sized = False
        self.setModel(model)
        self.setTabKeyNavigation(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        head = self.horizontalHeader()
        head.setMinimumSectionSize(40)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        head.sectionResized.connect(self._resized)
        model.modelReset.connect(self.fit_columns)

    def _resized(self, column: int, _old: int, _new: int) -> None:
        if not self._fitting and column != 3:
            self.user_sized = True

    def fit_columns(self) -> None:
        if self.user_sized:
            return
        self._fitting = True
        try:
            fm = self.fontMetrics()
            pad = 20
            off = pgettext("integration state", "off")
            on = max(fm.horizontalAdvance(_(COLUMNS[1])), fm.horizontalAdvance(off)) + pad
            conf = max(fm.horizontalAdvance(_(COLUMNS[2])) + pad, self.sizeHintForColumn(2))
            conf = min(
                conf, fm.horizontalAdvance(_("missing: {fields}").format(fields="API token, CA")) + pad
            )
            self.setColumnWidth(1, on)
            self.setColumnWidth(2, conf)
            rest = max(0, self.viewport().width() - on - conf)
            # Last check (the Stretch column) keeps about 40 %; the integration's name is
            # whole where the room allows (the Russian "Пользовательская интеграция").
            name = min(self.sizeHintForColumn(0) + 8, int(rest * 0.4))
            self.setColumnWidth(0, max(120, int(rest * 0.3), name))
            self.setColumnWidth(4, max(100, int(rest * 0.3)))
        finally:
            self._fitting = False

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit_columns()


class PanelScroll(QScrollArea):
    """Holds an integration's panel in its tab. The panel fills the tab and keeps at least its
    minimum size: when the tab is smaller it scrolls, instead of forcing the window (and so
    the tree) to change. The tab asks the splitter above for the panel's minimum height."""

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)
        self.fit()
        self.updateGeometry()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return False

    def fit(self) -> None:
        inner = self.widget()
        if inner is None:
            return
        least = inner.minimumSizeHint().expandedTo(inner.minimumSize())
        view = self.viewport().size()
        inner.resize(max(view.width(), least.width()), max(view.height(), least.height()))

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:  # also when a scroll bar comes or goes
            self.fit()
        return super().viewportEvent(event)

    def minimumSizeHint(self) -> Any:
        hint = super().minimumSizeHint()
        inner = self.widget()
        if inner is not None:
            bar = self.horizontalScrollBar().sizeHint().height()
            hint.setHeight(max(hint.height(), inner.minimumSizeHint().height() + bar))
        return hint
