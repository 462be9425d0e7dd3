"""The main window: the tenant tree (with a filter) on the left, the selected tenant's
integrations on the right, menus and a toolbar for the tenant and integration actions.

Every change goes through the Workspace in a worker (it may write secrets to the keyring);
while one runs the window shows a busy state and the changing actions are disabled."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProxyStyle,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import NotFoundError, SettingsChanged
from ..core.i18n import _, format_int, ngettext, pgettext
from . import workers

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .dialogs import NameDialog, Prompts
    from .tenant_model import TenantTreeModel
    from .vault_dialog import GuiUnlocker

# Before the first paint (MainWindow(deferred=True) until start()) nothing here names the Qt
# namespace (PySide6.QtCore.Qt): loading it builds all its enum classes, which costs the
# start-up some 30 ms. What needs it is set up in _finish_setup(), after the paint; so are
# the tree (a scroll area), the settings themselves when the window opens them (opener) and
# the core modules that read them.

log = logging.getLogger(__name__)
EXPAND_LIMIT = 300  # with a filter, open the tree down to the matches when at most this many
MIN_SIZE = (960, 600)  # every pane stays usable down to this window size
WARM_CHECKS_AFTER_MS = 1000  # spare check workers start this long after the window is up
SPARE_DIALOG_AFTER_MS = 300  # and the next Check dialog is made this long after them


def home_relative(path: Path) -> str:
    """A path as people write it: ~/.config/xdrconf for a folder in the home folder."""
    try:
        return str(Path("~") / Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)


class FixedLayoutStyle(QProxyStyle):
    """The application's style, without the geometry animations QMainWindow's layout runs
    for its toolbar and central widget (there are no docks to animate). Those animations
    would create the first objects of an unwrapped Qt class (QAnimationTimer), which costs
    a window watched by Python code some 30 ms before its first paint."""

    def styleHint(self, hint: Any, option: Any = None, widget: Any = None, data: Any = None) -> int:
        if hint == QStyle.StyleHint.SH_Widget_Animation_Duration:
            return 0
        return super().styleHint(hint, option, widget, data)


class ElidedLabel(QLabel):
    """A one-line label that never widens its window: text that does not fit ends in "…"
    (or loses its middle), and the whole text is in the tooltip."""

    def __init__(self, parent: QWidget | None = None, *, middle: bool = False) -> None:
        super().__init__(parent)
        self._full = ""
        self._middle = middle
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str, tooltip: str | None = None) -> None:
        self._full = text
        self.setToolTip(text if tooltip is None else tooltip)
        if self.isVisible():
            self._elide()
        else:
            super().setText(text)  # elided when laid out (resizeEvent)

    def full_text(self) -> str:
        return self._full

    def _elide(self) -> None:
        fm, width = self.fontMetrics(), max(0, self.width() - 4)
        if fm.horizontalAdvance(self._full) <= width:
            super().setText(self._full)
            return
        from PySide6.QtCore import Qt  # only when something is cut (see the note above)

        mode = Qt.TextElideMode.ElideMiddle if self._middle else Qt.TextElideMode.ElideRight
        super().setText(fm.elidedText(self._full, mode, width))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self) -> Any:
        hint = super().minimumSizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance("…") * 4)
        return hint


class MainWindow(QMainWindow):
    refreshed = Signal()  # after the views were rebuilt from the workspace
    busy_changed = Signal(bool)
    store_changed = Signal()  # the vault was unlocked, locked or created (from any thread)
    open_failed = Signal()  # start() could not open the settings (the user was told why)

    def __init__(
        self,
        ws: Workspace | None,
        *,
        deferred: bool = False,
        opener: Callable[[], Workspace] | None = None,
    ) -> None:
        """deferred: show the window's frame first and build the rest (the tree, the
        integrations, which import every integration's module) in start(), after the window
        was painted. Without ws, start() opens the settings with opener (deferred only)."""
        super().__init__()
        assert ws is not None or (deferred and opener is not None)
        from ..core.process import short_slices

        # The GUI thread onto a CPU as soon as it wakes, ahead of a busy process's slice
        # (the spare check workers, which must not inherit it, give it back: checkproc).
        short_slices()
        self._populated = not deferred
        self._finished = False
        self._ws = ws
        self._opener = opener
        self._prompts: Prompts | None = None
        self._shortcuts: list[tuple[QAction, str]] = []
        self._status_filled = False
        self.name_dialog: NameDialog | None = None
        self.busy = 0
        self.keyring_status: Any = None
        self.last_error = ""
        self.wizard: Any = None
        self.check_dialog: Any = None
        self._closed = False
        self.drift_dialog: Any = None
        self.kuma_import_dialog: Any = None
        self._check_tasks: dict[tuple[str, str], workers.Task] = {}
        self._panel: QWidget | None = None
        self._panel_actions: list[QAction] = []
        self._structure: list[tuple[str, str, str | None]] | None = None  # the tree last shown
        self.reload_box: QMessageBox | None = None  # the offer to reload after another program's edit
        self.notice_banner: QFrame | None = None  # built by _build_notice_banner (after the paint)
        self.setWindowTitle(_("xdrconf — XDR and KUMA integrations"))
        self.setAnimated(False)  # no docks, a fixed toolbar: nothing to animate
        self.setMinimumSize(MIN_SIZE[0], MIN_SIZE[1])
        self.resize(1180, 720)
        self.unlocker: GuiUnlocker | None = None  # set by _attach_store
        self._build_actions()
        self._build_menus()
        self._build_central()
        self._build_status()
        if deferred:
            self.note_label.setText(_("Loading…"))
            # As they will be with the Root tenant selected (so the toolbar does not flicker).
            for act in (self.act_move, self.act_remove, self.act_configure, self.act_toggle, self.act_check):
                act.setEnabled(False)
        else:
            self._attach_store()
            self._finish_setup()
            self.reload_tree(select=self.ws.tree.root_id)
            self._update_actions()

    def _attach_store(self) -> None:
        """The vault asks for its passphrase (on the GUI thread) when a worker first needs it;
        its state changes show in the status bar."""
        from PySide6.QtCore import Qt

        from .vault_dialog import GuiUnlocker

        self.unlocker = GuiUnlocker(self, reason=lambda: self.ws.secrets.auto_reason)
        if not self.ws.action:
            self.ws.action = "xdrconf window"  # what the audit trail says made a change
        self.ws.secrets.vault.unlocker = self.unlocker
        self.ws.secrets.vault.listeners.append(self.store_changed.emit)
        self.store_changed.connect(self._show_store, Qt.ConnectionType.QueuedConnection)

    @property
    def ws(self) -> Workspace:
        assert self._ws is not None, "the settings are opened in start()"
        return self._ws

    @property
    def opened(self) -> bool:
        """Whether the window has its settings (False before start() or when they could not
        be opened)."""
        return self._ws is not None

    def _open(self) -> bool:
        """Open the settings (start() of a window given an opener); False if they cannot be
        opened at all: the user was told why, the window closes and says open_failed."""
        from ..core.errors import XdrconfError

        if self._ws is not None:
            return True
        assert self._opener is not None
        try:
            self._ws = self._opener()
        except (XdrconfError, OSError) as exc:  # e.g. a file where the folder should be
            from PySide6.QtWidgets import QMessageBox

            from .dialogs import error_text

            QMessageBox.critical(
                self, "xdrconf", _("The settings cannot be opened: {reason}").format(reason=error_text(exc))
            )
            self.close()
            self.open_failed.emit()
            return False
        self._attach_store()
        return True

    @property
    def prompts(self) -> Prompts:
        """The questions to the user (real dialogs; created when first needed)."""
        if self._prompts is None:
            from .dialogs import Prompts

            self._prompts = Prompts(self)
        return self._prompts

    @prompts.setter
    def prompts(self, value: Prompts) -> None:
        self._prompts = value

    # ---- construction ---------------------------------------------------------------------
    def _action(
        self, text: str, slot: Callable[[], Any], shortcut: str | None = None, tip: str = ""
    ) -> QAction:
        act = QAction(text, self)
        if shortcut:  # set in _finish_setup: setShortcut() loads the Qt namespace
            self._shortcuts.append((act, shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        # Until start() has opened the settings and built the window, an action does nothing.
        act.triggered.connect(lambda checked=False: slot() if self._finished else None)
        return act

    def _build_actions(self) -> None:
        a = self._action
        self.act_add = a(_("&Add child…"), self.add_child, "Ctrl+N", _("Add a tenant under the selected one"))
        self.act_rename = a(_("&Rename…"), self.rename_tenant, "F2", _("Rename the selected tenant"))
        self.act_move = a(
            _("&Move…"), self.move_tenant, None, _("Move the selected tenant under another parent")
        )
        self.act_remove = a(_("Re&move…"), self.remove_tenant, "Del", _("Remove the selected tenant"))
        self.act_setup = a(
            _("&Set up integrations…"),
            self.open_wizard,
            "Ctrl+I",
            _("Open the tenant wizard: choose and configure integrations"),
        )
        self.act_configure = a(
            _("&Configure…"), self.configure_integration, "Ctrl+E", _("Configure the selected integration")
        )
        self.act_toggle = a(
            _("Turn &on"), self.toggle_integration, None, _("Turn the selected integration on or off")
        )
        self.act_check = a(
            _("C&heck"), self.check_selected, "Ctrl+K", _("Check the selected integration's connection")
        )
        self.act_operations = a(
            _("Run an &operation…"),
            self.show_operations,
            "Ctrl+R",
            _("Show the selected integration's operations (the Operations tab)"),
        )
        self.act_check_tenant = a(
            _("Check &all for the tenant"),
            self.check_tenant,
            None,
            _("Check every enabled integration of the selected tenant"),
        )
        # The toolbar's shorter words (with the Russian ones the toolbar overflowed at
        # 1180 px; the menus keep the whole ones).
        self.act_add.setIconText(pgettext("toolbar", "Add child"))
        self.act_check_tenant.setIconText(_("Check tenant"))
        self.act_check_subtree = a(
            _("Check &subtree"),
            self.check_subtree,
            None,
            _("Check every enabled integration of the tenant and all tenants below it"),
        )
        self.act_import_kuma = a(
            _("Import tenants from &KUMA…"),
            self.import_from_kuma,
            None,
            _("Read KUMA's tenants with this tenant's KUMA connection and add those you tick as children"),
        )
        self.act_drift = a(
            _("&Drift from the parent…"),
            self.show_drift,
            None,
            _("Each field of each integration: inherited from the parent or overridden here"),
        )
        self.act_subtree_on = a(
            _("Turn on in the &subtree…"),
            lambda: self.set_subtree_enabled(True),
            None,
            _("Turn the selected integration on for the tenant and every tenant below it, in one change"),
        )
        self.act_subtree_off = a(
            _("Turn off in the s&ubtree…"),
            lambda: self.set_subtree_enabled(False),
            None,
            _("Turn the selected integration off for the tenant and every tenant below it, in one change"),
        )
        self.act_subtree_configure = a(
            _("Configure in the su&btree…"),
            self.configure_many,
            None,
            _("Set fields of the selected integration for the tenant and every tenant below it, at once"),
        )
        self.act_export = a(
            _("&Export…"),
            self.export_settings,
            "Ctrl+Shift+E",
            _("Export tenants and settings (never secrets)"),
        )
        self.act_import = a(
            _("&Import…"), self.import_settings, None, _("Import tenants and settings from an export")
        )
        self.act_settings = a(_("&Settings…"), self.edit_settings, None, _("Check timeout and proxy"))
        self.act_restore = a(
            _("Restore &backup…"),
            self.offer_restore,
            None,
            _("Replace the settings with the previous version"),
        )
        self.act_grid = a(
            _("Health &grid"),
            self.toggle_grid,
            "Ctrl+G",
            _("Show every tenant's integrations with their last checks in a grid"),
        )
        self.act_grid.setCheckable(True)
        self.act_grid_check = a(
            _("Check what is &shown"),
            self.check_grid,
            None,
            _("Check the integrations turned on in the cells the health grid shows"),
        )
        self.act_grid_export = a(
            _("Export the grid as &CSV…"),
            self.export_grid,
            None,
            _("Save the tenants the health grid shows, with each cell's level, as a CSV file"),
        )
        self.act_grid_open = a(
            _("&Open the result"), self.open_grid_result, None, _("Show the last check of the selected cell")
        )
        self.act_grid_goto = a(
            _("Show in the &tenant view"),
            self.grid_to_tenant_view,
            None,
            _("Select the cell's tenant and integration in the tenant view"),
        )
        self.act_quit = a(_("&Quit"), self.close, "Ctrl+Q")
        self.act_about = a(_("&About xdrconf"), self.about)
        self.mutating = [
            self.act_add,
            self.act_rename,
            self.act_move,
            self.act_remove,
            self.act_setup,
            self.act_configure,
            self.act_toggle,
            self.act_import_kuma,
            self.act_subtree_on,
            self.act_subtree_off,
            self.act_subtree_configure,
            self.act_import,
            self.act_settings,
            self.act_restore,
        ]

    def _build_menus(self) -> None:
        """The menu titles and the toolbar (what the first paint shows); the menus are
        filled in _fill_menus."""
        bar = self.menuBar()
        self.file_menu = bar.addMenu(_("&File"))
        self.tenant_menu = bar.addMenu(_("&Tenant"))
        self.integration_menu = bar.addMenu(_("&Integration"))
        self.view_menu = bar.addMenu(_("&View"))
        self.help_menu = bar.addMenu(_("&Help"))
        tb = QToolBar(_("Main"), self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)  # the actions have no icons: the buttons show their text
        tb.addActions([self.act_add, self.act_rename, self.act_remove])
        tb.addSeparator()
        tb.addActions([self.act_setup, self.act_configure, self.act_toggle])
        tb.addSeparator()
        tb.addActions([self.act_check, self.act_check_tenant, self.act_check_subtree])
        tb.addSeparator()
        tb.addAction(self.act_grid)
        self.addToolBar(tb)
        self.toolbar = tb

    def _fill_menus(self) -> None:
        m = self.file_menu
        m.addActions([self.act_export, self.act_import])
        m.addSeparator()
        m.addActions([self.act_settings, self.act_restore])
        m.addSeparator()
        m.addAction(self.act_quit)
        m = self.tenant_menu
        m.addActions([self.act_add, self.act_rename, self.act_move, self.act_remove])
        m.addSeparator()
        m.addAction(self.act_setup)
        m.addSeparator()
        m.addActions([self.act_import_kuma, self.act_drift])
        m = self.integration_menu
        m.addActions(
            [
                self.act_configure,
                self.act_toggle,
                self.act_subtree_configure,
                self.act_subtree_on,
                self.act_subtree_off,
            ]
        )
        m.addSeparator()
        m.addActions([self.act_check, self.act_operations, self.act_check_tenant, self.act_check_subtree])
        self._menu_tail = m.addSeparator()
        m = self.view_menu
        m.addAction(self.act_grid)
        m.addSeparator()
        m.addActions([self.act_grid_check, self.act_grid_export])
        self.help_menu.addAction(self.act_about)

    def _build_central(self) -> None:
        split = QSplitter(parent=self)  # horizontal; QSplitter(self) would load the Qt namespace
        split.setChildrenCollapsible(False)
        self.split = split
        left = QWidget(split)
        left.setMinimumWidth(200)
        lay = QVBoxLayout(left)
        lay.setContentsMargins(6, 6, 0, 6)
        self.filter_edit = QLineEdit(left)
        self.filter_edit.setPlaceholderText(_("Filter tenants by name…"))
        self.filter_edit.textChanged.connect(self.apply_filter)
        lay.addWidget(self.filter_edit)
        self._left_layout = lay
        self.tree_model: TenantTreeModel  # both built by _build_tree
        self.tree_view: QTreeView
        # Until the first paint an empty box holds the tree's place: the first scroll area
        # shown costs some 30 ms more (its scroll bars load the Qt namespace).
        self._tree_slot: QWidget | None = QWidget(left)
        self._tree_slot.setAutoFillBackground(True)
        self._tree_slot.setBackgroundRole(QPalette.ColorRole.Base)
        lay.addWidget(self._tree_slot, 1)
        self.count_label = QLabel(left)
        self.count_label.setObjectName("countLabel")
        # Its text changes on every filter keystroke: keep that from relaying out the window.
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.count_label)

        right = QWidget(split)
        right.setMinimumWidth(560)
        self._right = right
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(6, 6, 6, 6)
        self.title_label = QLabel(right)
        self.title_label.setObjectName("tenantTitle")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setWordWrap(True)  # a long path must not push the tree narrower
        rlay.addWidget(self.title_label)
        self.note_label = QLabel(right)
        self.note_label.setObjectName("tenantNote")
        self.note_label.setWordWrap(True)
        rlay.addWidget(self.note_label)
        self._right_layout = rlay
        self.readonly_banner: QLabel  # built by _build_banner (before the paint when read-only)
        self._banner_built = False
        if self._ws is not None and self._ws.readonly:
            self._build_banner()
        rlay.addStretch(1)  # where the integrations go (after the first paint when deferred)
        self.table: Any = None
        self.table_model: Any = None
        self.grid: Any = None  # the health grid (qt.health_grid), built when first shown
        self._stack: Any = None  # the tenant view and the grid, once the grid was shown
        self.details: Any = None
        self.bottom_tabs: Any = None
        self._panel_tab_wanted: set[str] = set()
        self.operations: Any = None  # the Operations tab's panel (qt.operations) on show
        self._operations_wanted = False  # the Operations tab was the one shown
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 880])
        self.setCentralWidget(split)
        self._layout_style = FixedLayoutStyle()
        for placed in (split, self.toolbar):
            placed.setStyle(self._layout_style)

    def _build_tree(self) -> None:
        from PySide6.QtCore import Qt

        from .tenant_model import TenantTreeModel, TenantTreeView

        self.tree_model = TenantTreeModel(self)
        view = TenantTreeView(self._tree_slot.parentWidget() if self._tree_slot is not None else None)
        view.setHeaderHidden(True)
        view.setUniformRowHeights(True)
        view.setModel(self.tree_model)
        view.setSelectionMode(QTreeView.SelectionMode.ExtendedSelection)  # Ctrl/Shift-click: several
        view.selectionModel().currentChanged.connect(lambda *_unused: self._tenant_changed())
        view.selectionModel().selectionChanged.connect(lambda *_unused: self._update_actions())
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._tree_menu)
        self.tree_view = view
        if self._tree_slot is not None:
            self._left_layout.replaceWidget(self._tree_slot, view)
            self._tree_slot.hide()  # now: a deferred delete waits for the event loop
            self._tree_slot.deleteLater()
            self._tree_slot = None
            view.show()  # at once, not when the layout gets round to it

    def _build_banner(self) -> None:
        """Read-only (another xdrconf holds the folder): said where it cannot be missed."""
        banner = QLabel(self._right)
        banner.setObjectName("readonlyBanner")
        banner.setWordWrap(True)
        banner.setStyleSheet(
            "background:#fdecea; color:#8a1c1c; border:1px solid #f1b0ab; border-radius:3px; padding:6px"
        )
        if self.ws.readonly:
            banner.setText(
                _(
                    "<b>Read-only.</b> {readonly_reason} Changes are turned off in this "
                    "window; checks still run, but their results are not saved."
                ).format(readonly_reason=self.ws.readonly_reason)
            )
        banner.setVisible(self.ws.readonly)
        self._right_layout.insertWidget(2, banner)
        self.readonly_banner = banner
        self._banner_built = True

    def _finish_setup(self) -> None:
        """What needs the Qt namespace (after the first paint when deferred)."""
        from PySide6.QtCore import Qt

        if self._finished:
            return
        self._finished = True
        for act, shortcut in self._shortcuts:
            act.setShortcut(QKeySequence(shortcut))
        if self._tree_slot is not None:
            self._build_tree()
        # After the paint too: the clear button's fade-in animation costs the first paint ~30 ms.
        self.filter_edit.setClearButtonEnabled(True)
        self._fill_menus()
        self._fill_status()
        if not self._banner_built:
            self._build_banner()
        self._build_notice_banner()
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build_integrations_area()

    def _build_notice_banner(self) -> None:
        """A settings file was kept aside: said at every start until the backup is restored
        or the notice dismissed (while it shows, saves keep the backup as it is)."""
        from PySide6.QtCore import Qt

        banner = QFrame(self._right)
        self.notice_banner = banner
        banner.setObjectName("noticeBanner")
        banner.setStyleSheet(
            "#noticeBanner { background:#fff4e5; border:1px solid #f0c36d; border-radius:3px }"
        )
        row = QHBoxLayout(banner)
        row.setContentsMargins(8, 6, 8, 6)
        self.notice_label = QLabel(banner)
        self.notice_label.setObjectName("noticeLabel")
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.notice_label, 1)
        self.notice_restore = QPushButton(_("Restore the backup"), banner)
        self.notice_restore.setObjectName("noticeRestore")
        self.notice_restore.clicked.connect(lambda: self._restore())
        self.notice_dismiss = QPushButton(_("Dismiss"), banner)
        self.notice_dismiss.setObjectName("noticeDismiss")
        self.notice_dismiss.clicked.connect(lambda: self.dismiss_notice())
        row.addWidget(self.notice_restore, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.notice_dismiss, 0, Qt.AlignmentFlag.AlignTop)
        # Under the title, the note and the read-only banner.
        self._right_layout.insertWidget(3, banner)
        self._update_notice()

    def _update_notice(self) -> None:
        if self.notice_banner is None or not self.opened:
            return
        notice = self.ws.notice
        self.notice_banner.setVisible(notice is not None)
        if notice is None:
            return
        if notice.backup:
            hint = _("Restore the backup brings the last good settings back; Dismiss keeps the current ones.")
        else:
            hint = _("Dismiss stops this notice.")
        text = f"{notice.message} {hint}"
        if self.ws.readonly:
            text += " " + _("This window is read-only: the xdrconf that holds the folder can do either.")
        if self.notice_label.text() != text:
            self.notice_label.setText(text)
        writable = not self.ws.readonly and self.busy == 0
        self.notice_restore.setVisible(bool(notice.backup))
        self.notice_restore.setEnabled(writable and bool(notice.backup))
        self.notice_dismiss.setEnabled(writable)

    def dismiss_notice(self) -> workers.Task:
        return self.run_task(
            self.ws.dismiss_notice,
            lambda _result: self.statusBar().showMessage(_("The current settings stay in use."), 10000),
            what=_("Dismissing the notice…"),
        )

    # ---- another program changed the settings file ---------------------------------------------
    def offer_reload(self, error: BaseException) -> QMessageBox:
        """A save was refused because the file changed on disk: offer to read it again. The
        change that failed was not applied; an open wizard stays open with what was typed, so
        it can be applied again after the reload. Non-blocking (tests press its buttons)."""
        if self.reload_box is not None:
            return self.reload_box
        host: QWidget = self.wizard if self.wizard is not None and self.wizard.isVisible() else self
        from PySide6.QtCore import Qt

        box = QMessageBox(QMessageBox.Icon.Warning, _("Settings changed on disk"), str(error), parent=host)
        box.setObjectName("reloadBox")
        box.setInformativeText(
            _(
                "Reload reads the file again and shows its settings; what you have not saved yet "
                "(an open wizard) stays open, so you can apply it again. Until then nothing can be "
                "saved from this window."
            )
        )
        reload_button = box.addButton(_("Reload"), QMessageBox.ButtonRole.AcceptRole)
        reload_button.setObjectName("reloadButton")
        later = box.addButton(_("Not now"), QMessageBox.ButtonRole.RejectRole)
        later.setObjectName("notNowButton")
        box.setDefaultButton(reload_button)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def finished(_code: int) -> None:
            self.reload_box = None
            if box.clickedButton() is reload_button:
                self.reload_settings()

        box.finished.connect(finished)
        self.reload_box = box
        box.open()
        return box

    def reload_settings(self) -> workers.Task:
        keep = self.current_tenant_id()

        def done(_result: Any) -> None:
            self._after_structure(keep or self.ws.tree.root_id)
            self.statusBar().showMessage(_("The settings were read again from the file."), 10000)

        return self.run_task(self.ws.reload, done, what=_("Reading the settings again…"))

    def _failed(self, exc: BaseException, on_error: Callable[[BaseException], None] | None) -> None:
        """Where a failed change is reported: its own handler or an error box, and for a
        file changed on disk the offer to reload."""
        changed = isinstance(exc, SettingsChanged)
        if on_error is not None:
            on_error(exc)
        elif not changed:
            self.show_error(exc)
        if changed:
            self.offer_reload(exc)

    def _build_integrations_area(self) -> None:
        """The integrations table and the details/panel tabs (built after the first paint
        when deferred: they are not needed to show the tree)."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QScrollArea, QTabWidget, QTextBrowser

        from .integrations_view import IntegrationsModel, IntegrationsTable, PanelScroll

        self.table_model = IntegrationsModel(self)
        self.table = IntegrationsTable(self.table_model, self._right)
        self.table.setObjectName("integrations")
        self.table.doubleClicked.connect(lambda *_unused: self.configure_integration())
        self.table.selectionModel().currentRowChanged.connect(lambda *_unused: self._integration_changed())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)
        self.details = QTextBrowser(self._right)
        self.details.setObjectName("details")
        self.details.setOpenLinks(False)
        self.details.setMinimumHeight(110)
        self.details.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.details.anchorClicked.connect(self._details_link)
        self.bottom_tabs = QTabWidget(self._right)
        self.bottom_tabs.setObjectName("bottomTabs")
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(self.details, _("Details"))
        from .mssp import HistoryView

        self.history = HistoryView(self._right)  # the last tab: an integration's own come before it
        index = self.bottom_tabs.addTab(self.history, self.history.windowTitle())
        self.bottom_tabs.setTabToolTip(index, self.history.toolTip())

        # A panel scrolls in its tab rather than forcing the window (and the tree) narrower.
        self.panel_scroll = PanelScroll(self._right)
        self.panel_scroll.setObjectName("panelScroll")
        self.panel_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.operations_scroll = PanelScroll(self._right)
        self.operations_scroll.setObjectName("operationsScroll")
        self.operations_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # Shown by the tabs once they hold them; until then not on screen (an empty scroll
        # area at the top left of the pane covered the tenant's title).
        self.panel_scroll.setVisible(False)
        self.operations_scroll.setVisible(False)
        self.detail_split = QSplitter(Qt.Orientation.Vertical, self._right)
        self.detail_split.setChildrenCollapsible(False)
        self.detail_split.addWidget(self.table)
        self.detail_split.addWidget(self.bottom_tabs)
        self.detail_split.setStretchFactor(0, 1)
        self.detail_split.setStretchFactor(1, 1)
        self.detail_split.setSizes([330, 290])
        stretch = self._right_layout.takeAt(self._right_layout.count() - 1)
        del stretch
        self._right_layout.addWidget(self.detail_split, 1)

    def _build_status(self) -> None:
        self.statusBar()  # its room, before the first paint; the labels in _fill_status

    def _fill_status(self) -> None:
        if self._status_filled:
            return
        self._status_filled = True
        sb = self.statusBar()
        self.busy_bar: Any = None  # created on first use
        self.busy_label = QLabel(self)
        sb.addWidget(self.busy_label)
        # Messages go here, not to QStatusBar.showMessage: a long one ends in "…" with the
        # whole text in the tooltip instead of being cut off by the labels on the right.
        self.message_label = ElidedLabel(self)
        self.message_label.setObjectName("statusMessage")
        sb.addWidget(self.message_label, 1)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self.message_label.set_full_text(""))
        self.readonly_label = QLabel(self)
        self.readonly_label.setObjectName("readonlyLabel")
        self.readonly_label.setStyleSheet("color:#b00020; font-weight:bold")
        if self.ws.readonly:
            self.readonly_label.setText(_("read-only"))
            self.readonly_label.setToolTip(self.ws.readonly_reason)
        self.readonly_label.setVisible(self.ws.readonly)
        self.keyring_label = QLabel(_("Secret store: checking…"), self)
        self.keyring_label.setObjectName("keyringLabel")
        # The store's name is never cut (it says whether secrets can be kept); the folder
        # loses its middle when the window is narrow.
        self.keyring_label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.folder_label = ElidedLabel(self, middle=True)
        self.folder_label.setObjectName("folderLabel")
        self.folder_label.set_full_text(
            _("Settings: {folder}").format(folder=home_relative(self.ws.config_dir)),
            _("Settings folder: {folder}").format(folder=self.ws.config_dir),
        )
        self.folder_label.setMinimumWidth(160)
        self.folder_label.setMaximumWidth(
            self.fontMetrics().horizontalAdvance(self.folder_label.full_text()) + 8
        )
        for w in (self.readonly_label, self.keyring_label):
            sb.addPermanentWidget(w)
        sb.addPermanentWidget(self.folder_label, 1)

    def say(self, text: str, msecs: int = 0) -> None:
        """A message in the status bar (for msecs, or until the next one)."""
        self.message_label.set_full_text(text)
        self._message_timer.stop()
        if msecs:
            self._message_timer.start(msecs)

    # ---- start ----------------------------------------------------------------------------
    def start(self) -> None:
        """Things that may be slow, done after the window is on screen. A deferred window
        opens its settings and shows the tree first (painted as soon as this returns), then
        builds the rest."""
        if not self._open():
            return
        if not self._populated:
            self._build_tree()
            self._fill_status()
            self.reload_tree(select=self.ws.tree.root_id)
            self.repaint()  # the tree now, before the rest is built (a timer would come first)
            QTimer.singleShot(0, self._start_rest)
            return
        self._started()

    def _start_rest(self) -> None:
        self._populated = True
        self._finish_setup()
        self.reload_tree()
        self._update_actions()
        self._started()

    def _started(self) -> None:
        self.probe_keyring()
        QTimer.singleShot(WARM_CHECKS_AFTER_MS, self.warm_checks)
        if self.ws.notice is not None and self.ws.notice.fresh:
            QTimer.singleShot(0, self.show_open_notice)

    def warm_checks(self) -> workers.Task | None:
        """When the settings have enough integrations turned on for Check all to run them in
        worker processes (core/checkproc.py), start those ahead, off the GUI thread, so that
        Check all does not wait half a second for them, and get the keyring ready for the
        run's one batch of secrets. Again after each Check all."""
        from ..core import checkproc
        from ..core.scheduler import targets

        if self._closed:
            return None
        n = checkproc.processes_for(len(targets(self.ws)))
        if n <= 0:
            return None
        from . import checks_ui

        checks_ui.row_maker()  # made ahead with its module: the first Check all opens ~80 ms sooner
        # And the dialog itself (Check all then opens ~7 ms sooner), in a turn of the event
        # loop of its own: after a Check all, this runs with the window's refresh.
        QTimer.singleShot(SPARE_DIALOG_AFTER_MS, self, self._keep_spare_dialog)

        since = checkproc.generation()  # closed meanwhile (the spares discarded): none started
        secrets = self.ws.secrets

        def ahead() -> None:
            checkproc.warm(n, since=since)
            secrets.prime()  # the keyring's connection and session opened, its items found

        return workers.run_in_background(ahead, owner=self)

    def _keep_spare_dialog(self) -> None:
        from . import checks_ui

        if not self._closed:
            checks_ui.keep_spare(self.ws, self)

    def probe_keyring(self) -> workers.Task:
        """Name the secret store in the status bar ("OS keyring: Secret Service", "Vault:
        secrets.kdbx, locked"); choosing it may probe the keyring, so in a worker."""

        def failed(exc: BaseException) -> None:
            self.keyring_label.setText(_("Secret store: not usable"))
            self.keyring_label.setToolTip(str(exc))
            self.keyring_label.setStyleSheet("color:#b00020")

        if self.ws.readonly:
            # A read-only window stores nothing: name the store without a write probe.
            return workers.run_in_background(
                self.ws.secrets.describe, self.keyring_label.setText, failed, owner=self
            )
        return workers.run_in_background(self.ws.secrets.status, self._store_status, failed, owner=self)

    def _store_status(self, status: Any) -> None:
        self.keyring_status = status
        if status.usable:
            self.keyring_label.setText(status.name)
            tip = _("Secrets are kept in this OS keyring.") if status.kind == "keyring" else status.reason
            if status.kind == "vault":
                tip = _("Secrets are kept in {path} (KeePass, KeePassXC opens it). {tip}").format(
                    path=self.ws.secrets.vault.path, tip=tip
                )
            self.keyring_label.setToolTip(tip.strip())
            self.keyring_label.setStyleSheet("")
        else:
            self.keyring_label.setText(_("{name} — not usable").format(name=status.name))
            self.keyring_label.setToolTip(status.reason)
            self.keyring_label.setStyleSheet("color:#b00020")

    def _show_store(self) -> None:
        """After the vault was unlocked, locked or created: its state in the status bar."""
        if self.ws.secrets.known_kind() == "vault":
            self._store_status(self.ws.secrets.vault.status())

    def show_open_notice(self) -> None:
        """The start at which a settings file was kept aside: said in a dialog once (the
        banner says it at every start until the backup is restored or the notice dismissed)."""
        notice = self.ws.notice
        if notice is None:
            return
        if notice.backup and not self.ws.readonly:
            if self.prompts.confirm(
                _("Settings file could not be read"),
                notice.message,
                [
                    _("OK restores the previous version (the backup)."),
                    _(
                        "Cancel keeps the empty settings; the unreadable file stays where it was moved, "
                        "and the backup is kept until you restore it or dismiss the notice."
                    ),
                ],
            ):
                self._restore()
        else:
            self.prompts.info(_("Settings file could not be read"), notice.message)

    def offer_restore(self) -> None:
        if self.prompts.confirm(
            _("Restore backup"),
            _("Replace the current settings with the previous version (the backup)?"),
            [_("The current settings are kept aside, not deleted.")],
        ):
            self._restore()

    def _restore(self) -> None:
        self.run_task(
            self.ws.restore_backup,
            lambda _unused: self.reload_tree(select=self.ws.tree.root_id),
            what=_("Restoring the backup…"),
        )

    # ---- busy state and background work ----------------------------------------------------
    def run_task(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        what: str = "Working…",
    ) -> workers.Task:
        """Run a workspace change in a worker with the busy state shown."""
        self._set_busy(+1, what)

        def done(value: Any) -> None:
            self._set_busy(-1)
            if on_done is not None:
                on_done(value)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._set_busy(-1)
            self.refresh()
            self._failed(exc, on_error)

        return workers.run_in_background(fn, done, failed, owner=self)

    def runner(
        self,
        fn: Callable[..., Any],
        on_done: Any = None,
        on_error: Any = None,
        *,
        on_progress: Any = None,
        cancel: threading.Event | None = None,
        checks: bool = False,
    ) -> workers.Task:
        """The runner handed to integration UI modules (IntegrationUiContext.runner)."""
        if checks:
            return workers.run_in_background(
                fn,
                on_done,
                on_error or self.show_error,
                on_progress=on_progress,
                cancel=cancel,
                pool=workers.check_pool(),
                owner=self,
            )
        self._set_busy(+1, "Working…")

        def done(value: Any) -> None:
            self._set_busy(-1)
            if on_done is not None:
                on_done(value)

        def failed(exc: BaseException) -> None:
            self._set_busy(-1)
            self._failed(exc, on_error)

        return workers.run_in_background(fn, done, failed, on_progress=on_progress, cancel=cancel, owner=self)

    def _set_busy(self, delta: int, what: str = "") -> None:
        was = self.busy > 0
        self.busy = max(0, self.busy + delta)
        now = self.busy > 0
        if delta > 0 and what:
            self.busy_label.setText(what)
        if self.busy_bar is None and now:
            from PySide6.QtWidgets import QProgressBar

            self.busy_bar = QProgressBar(self)
            self.busy_bar.setRange(0, 0)
            self.busy_bar.setMaximumWidth(120)
            self.statusBar().addWidget(self.busy_bar)
        if self.busy_bar is not None:
            self.busy_bar.setVisible(now)
        if not now:
            self.busy_label.setText("")
        self._update_actions()
        if was != now:
            self.busy_changed.emit(now)

    def show_error(self, error: BaseException | str) -> None:
        from .dialogs import error_text

        self.last_error = error_text(error)
        self.say(self.last_error, 15000)
        from .dialogs import show_error

        show_error(self, error)

    # ---- selection ------------------------------------------------------------------------------
    def current_tenant_id(self) -> str | None:
        if self._tree_slot is not None:  # before the first paint
            return None
        tid = self.tree_model.tenant_id(self.tree_view.currentIndex())
        return tid if tid is not None and tid in self.ws.tree else None

    def selected_tenant_ids(self) -> list[str]:
        """The tenants selected in the tree (Ctrl/Shift-click), in the tree's order."""
        if self._tree_slot is not None:
            return []
        chosen = {self.tree_model.tenant_id(i) for i in self.tree_view.selectionModel().selectedIndexes()}
        return [t.id for t in self.ws.tree.walk(self.ws.tree.root_id) if t.id in chosen] + (
            [self.ws.tree.shared_id] if self.ws.tree.shared_id in chosen else []
        )

    def _several(self) -> list[str]:
        """The selected tenants when more than one is selected, else []."""
        ids = self.selected_tenant_ids()
        return ids if len(ids) > 1 else []

    def current_kind(self) -> str | None:
        if self.table is None:
            return None
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.table_model.rows[index.row()].kind

    def current_row(self) -> Any:
        if self.table is None:
            return None
        index = self.table.currentIndex()
        return self.table_model.rows[index.row()] if index.isValid() else None

    def select_tenant(self, tenant_id: str) -> bool:
        index = self.tree_model.index_of(tenant_id)
        if not index.isValid():
            return False
        parent = index.parent()
        while parent.isValid():
            self.tree_view.expand(parent)
            parent = parent.parent()
        self.tree_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.tree_view.scrollTo(index)
        return True

    def select_integration(self, kind: str) -> None:
        if self.table_model is None:
            return
        row = self.table_model.row_of(kind)
        if row >= 0:
            self.table.selectRow(row)

    # ---- views ------------------------------------------------------------------------------------
    def _expanded_ids(self) -> set[str]:
        out = set()
        for index in self.tree_model.visible_parents():
            if self.tree_view.isExpanded(index):
                tid = self.tree_model.tenant_id(index)
                if tid:
                    out.add(tid)
        return out

    def reload_tree(self, select: str | None = None) -> None:
        """Rebuild the tree from the workspace (after tenants changed), keeping what was
        expanded and selected."""
        keep = select or self.current_tenant_id()
        expanded = self._expanded_ids() if len(self.tree_model) else {self.ws.tree.root_id}
        marks = {}
        if self._populated:
            from .integrations_view import tenant_mark  # once: each import statement costs
        for tenant in self.ws.tree.walk_all() if self._populated else ():
            if tenant.integrations:
                mark = tenant_mark(self.ws, tenant)
                if mark:
                    marks[tenant.id] = mark
        self.tree_model.reload(self.ws.tree, marks)
        if self.tree_model.filter_text:
            self._expand_matches()
        else:
            for tid in expanded:
                index = self.tree_model.index_of(tid)
                if index.isValid():
                    self.tree_view.expand(index)
        if keep and keep in self.ws.tree and self.select_tenant(keep):
            pass
        else:
            self._tenant_changed()
        self._update_count()

    def refresh(self) -> None:
        """Re-read the workspace into the views."""
        from .integrations_view import tenant_mark

        structure = [(t.id, t.name, t.parent_id) for t in self.ws.tree.walk_all()]
        if structure != self._structure:
            self._structure = structure
            self.reload_tree()
        else:
            marks = {
                t.id: m
                for t in self.ws.tree.walk_all()
                if t.integrations
                for m in [tenant_mark(self.ws, t)]
                if m
            }
            self.tree_model.set_marks(marks)
            self._tenant_changed()
        if self.grid is not None:
            self.grid.settings_changed()
        self.refreshed.emit()

    def apply_filter(self, text: str) -> None:
        keep = self.current_tenant_id()
        self.tree_model.set_filter(text)
        if self.tree_model.filter_text:
            self._expand_matches()
        else:
            root = self.tree_model.index_of(self.ws.tree.root_id)
            self.tree_view.expand(root)
        if keep and self.tree_model.index_of(keep).isValid():
            self.select_tenant(keep)
        self._update_count()

    def _expand_matches(self) -> None:
        if self.tree_model.match_count <= EXPAND_LIMIT:
            view = self.tree_view
            for index in self.tree_model.visible_parents():
                view.expand(index)
        else:  # too many to show opened: the first level, until the filter narrows
            self.tree_view.expand(self.tree_model.index_of(self.ws.tree.root_id))

    def _update_count(self) -> None:
        total = len(self.tree_model)
        if self.tree_model.filter_text:
            n = self.tree_model.match_count
            self.count_label.setText(
                ngettext("{n} of {total} tenant match", "{n} of {total} tenants match", total).format(
                    n=format_int(n), total=format_int(total)
                )
            )
        else:
            self.count_label.setText(
                ngettext("{total} tenant", "{total} tenants", total).format(total=format_int(total))
            )

    def _tenant_changed(self) -> None:
        tid = self.current_tenant_id()
        kind = self.current_kind()
        if not self._populated:
            self.title_label.setText(self.ws.tree.path(tid) if tid else "")
            self.note_label.setText(_("Loading…"))
            return
        from .integrations_view import build_rows

        if tid is None:
            self.title_label.setText(_("No tenant selected"))
            self.note_label.setText("")
            self.table_model.set_rows([])
            self.details.setHtml("")
        else:
            tenant = self.ws.tree.get(tid)
            self.title_label.setText(self.ws.tree.path(tid))
            if tenant.is_shared:
                self.note_label.setText(
                    _(
                        "The Shared tenant needs no integration settings: it holds resources "
                        "common to all tenants."
                    )
                )
            else:
                n = len(tenant.children)
                self.note_label.setText(
                    (_("Root tenant · ") if tenant.is_root else "")
                    + ngettext(
                        "{n} child tenant · double-click an integration to configure it",
                        "{n} child tenants · double-click an integration to configure it",
                        n,
                    ).format(n=n)
                )
            self.table_model.set_rows(build_rows(self.ws, tenant))
            self.table.setVisible(not tenant.is_shared)
            if kind and self.table_model.row_of(kind) >= 0:
                self.select_integration(kind)
        self._integration_changed()

    def _integration_changed(self) -> None:
        if not self._populated:
            return
        from .integrations_view import details_html

        tid = self.current_tenant_id()
        if tid is not None:
            self.details.setHtml(details_html(self.ws, self.ws.tree.get(tid), self.current_row()))
        self.history.show_for(self.ws, tid, self.current_kind())
        self.bottom_tabs.setTabText(
            self.bottom_tabs.indexOf(self.history), _("History")
        )  # in today's language
        self._show_panel()
        self._update_actions()

    def _ui_context(self, tid: str, kind: str) -> Any:
        from ..core import catalog
        from .integrations import IntegrationUiContext

        return IntegrationUiContext(
            self.ws, tid, kind, catalog.spec_for(kind), parent=self, refresh=self.refresh, runner=self.runner
        )

    def _show_panel(self) -> None:
        """The selected integration's panel in a tab beside Details (once it is configured,
        unless its module says the panel is where it gets configured), kept up to date."""
        from ..core import catalog
        from . import integrations

        row = self.current_row()
        key = (self.current_tenant_id(), self.current_kind(), bool(row is not None and row.configured))
        if getattr(self, "_panel_key", None) == key:
            update = getattr(self._panel, "update_view", None)
            if callable(update):
                update()  # the saved state may have changed (a check, a pinned key)
            if self.operations is not None:
                self.operations.update_view()
            return
        self._panel_key = key
        self._drop_operations()
        if self._panel is not None:
            old_kind = getattr(self, "_panel_kind", None)
            if old_kind is not None:
                if self.bottom_tabs.currentWidget() is self.panel_scroll:
                    self._panel_tab_wanted.add(old_kind)
                else:
                    self._panel_tab_wanted.discard(old_kind)
            self.bottom_tabs.removeTab(self.bottom_tabs.indexOf(self.panel_scroll))
            old = self.panel_scroll.takeWidget()
            if old is not None:
                old.deleteLater()
            self._panel = None
        for act in self._panel_actions:
            self.integration_menu.removeAction(act)
        self._panel_actions = []
        tid, kind, configured = key
        if tid is not None and tid not in self.ws.tree:
            self._panel_key = (None, None, False)  # replaced meanwhile (see below)
            return
        if tid is None or kind is None or self.ws.tree.get(tid).is_shared:
            return
        if not catalog.spec_for(kind).supported:
            return
        try:
            ctx = self._ui_context(tid, kind)
            if configured or getattr(integrations.ui_module(kind), "PANEL_BEFORE_CONFIGURED", False):
                self._panel = integrations.panel(ctx)
            self._panel_actions = integrations.actions(ctx)
        except NotFoundError:
            # The settings were replaced meanwhile (a restore or a reload in a worker): the
            # views are rebuilt from the new ones when it is done.
            self._panel_key = (None, None, False)
            return
        except Exception as exc:
            log.exception("the %s panel failed", kind)
            self.show_error(exc)
            return
        self._panel_kind = kind
        if self._panel is not None:
            title = self._panel.windowTitle() or f"{catalog.title_of(kind)} tools"
            self.panel_scroll.setWidget(self._panel)
            index = self.bottom_tabs.insertTab(
                self.bottom_tabs.indexOf(self.history), self.panel_scroll, title
            )
            self.bottom_tabs.setTabToolTip(index, self._panel.toolTip() or title)
            if kind in self._panel_tab_wanted:
                self.bottom_tabs.setCurrentIndex(index)
        self._show_operations_tab(ctx, configured)
        self.integration_menu.addActions(self._panel_actions)

    def _drop_operations(self) -> None:
        if self.operations is None:
            return
        self._operations_wanted = self.bottom_tabs.currentWidget() is self.operations_scroll
        self.bottom_tabs.removeTab(self.bottom_tabs.indexOf(self.operations_scroll))
        old = self.operations_scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self.operations = None

    def _show_operations_tab(self, ctx: Any, configured: bool) -> None:
        """The Operations tab (after Details and the integration's own panel) of an
        integration with operations besides the check (qt.operations)."""
        from .operations import OperationsPanel, has_tab

        if not has_tab(ctx, configured):
            return
        panel = OperationsPanel(ctx)
        self.operations_scroll.setWidget(panel)
        index = self.bottom_tabs.insertTab(
            self.bottom_tabs.indexOf(self.history), self.operations_scroll, panel.windowTitle()
        )
        self.bottom_tabs.setTabToolTip(index, panel.toolTip())
        self.operations = panel
        if self._operations_wanted:
            self.bottom_tabs.setCurrentIndex(index)

    def show_operations(self) -> None:
        """Run an operation…: the Operations tab, its picker focused."""
        panel = self.operations
        if panel is None:
            return
        self.bottom_tabs.setCurrentWidget(self.operations_scroll)
        panel.picker.setFocus()
        self.say(
            _("{title}: choose an operation, fill in its parameters and press Run.").format(
                title=panel.ctx.spec.title
            ),
            15000,
        )

    def _enable_check_many(self, tenant: Any) -> None:
        """Check all / Check subtree only when an integration is turned on there (the
        tooltip says why not)."""
        from ..core import catalog

        def on(tenants: Any) -> bool:
            kinds = set(catalog.KINDS)
            return any(s.enabled and k in kinds for t in tenants for k, s in t.integrations.items())

        here = tenant is not None and on([tenant])
        below = tenant is not None and (here or on(self.ws.tree.walk(tenant.id)))
        for act, ok, why in (
            (self.act_check_tenant, here, _("No integration is turned on for this tenant.")),
            (self.act_check_subtree, below, _("No integration is turned on in this tenant or below it.")),
        ):
            act.setEnabled(ok)
            act.setToolTip(act.statusTip() if ok or tenant is None else why)

    def _update_actions(self) -> None:
        tid = self.current_tenant_id()
        tenant = self.ws.tree.get(tid) if tid else None
        row = self.current_row()
        writable = not self.ws.readonly and self.busy == 0
        normal = tenant is not None and not tenant.is_shared
        self.act_add.setEnabled(writable and normal)
        self.act_rename.setEnabled(writable and normal)
        movable = tenant is not None and not tenant.is_shared and not tenant.is_root
        self.act_move.setEnabled(writable and movable)
        self.act_remove.setEnabled(writable and movable)
        self.act_setup.setEnabled(writable and normal)
        supported = normal and row is not None and row.supported
        self.act_configure.setEnabled(writable and supported)
        self.act_toggle.setEnabled(writable and supported and (row.enabled or row.configured))
        self.act_toggle.setText(_("Turn &off") if row is not None and row.enabled else _("Turn &on"))
        self.act_check.setEnabled(bool(supported and (row.configured or row.enabled) and not row.running))
        self.act_operations.setEnabled(self.operations is not None)
        has_children = tenant is not None and bool(tenant.children)
        self.act_subtree_on.setEnabled(writable and supported)
        self.act_subtree_off.setEnabled(writable and supported)
        kuma = tenant.integrations.get("kuma") if normal and tenant is not None else None
        self.act_import_kuma.setEnabled(writable and kuma is not None and kuma.configured)
        self.act_drift.setEnabled(normal and tenant is not None and (not tenant.is_root or has_children))
        self._enable_check_many(tenant if normal else None)
        self._update_grid_actions()
        self._update_several(writable and row is not None and row.supported)
        self.act_import.setEnabled(writable)
        self.act_settings.setEnabled(writable)
        self.act_restore.setEnabled(writable and self.ws.file.backup.exists())
        self._update_notice()

    def _update_several(self, supported: bool) -> None:
        """With several tenants selected the subtree actions act on them; the actions of
        one tenant are off, their tooltip says why."""
        several = bool(self._several())
        if several:
            self.act_subtree_on.setText(_("Turn on for the &selected tenants…"))
            self.act_subtree_off.setText(_("Turn off for the s&elected tenants…"))
            self.act_subtree_configure.setText(_("Configure for the selected &tenants…"))
        else:
            self.act_subtree_on.setText(_("Turn on in the &subtree…"))
            self.act_subtree_off.setText(_("Turn off in the s&ubtree…"))
            self.act_subtree_configure.setText(_("Configure in the su&btree…"))
        self.act_subtree_configure.setEnabled(supported)
        single = [
            self.act_add,
            self.act_rename,
            self.act_move,
            self.act_remove,
            self.act_setup,
            self.act_configure,
            self.act_toggle,
            self.act_check_tenant,
            self.act_check_subtree,
            self.act_import_kuma,
            self.act_drift,
        ]
        for act in single:
            if several:
                act.setEnabled(False)
                act.setToolTip(_("Acts on one tenant: several are selected. Select just one."))
            elif act not in (self.act_check_tenant, self.act_check_subtree):  # their own tooltip
                act.setToolTip(act.statusTip())

    def _tree_menu(self, pos: Any) -> None:
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        menu.addActions([self.act_add, self.act_rename, self.act_move, self.act_remove])
        menu.addSeparator()
        menu.addActions([self.act_setup, self.act_check_tenant, self.act_check_subtree])
        menu.addSeparator()
        menu.addActions([self.act_import_kuma, self.act_drift])
        menu.popup(self.tree_view.viewport().mapToGlobal(pos))

    def _table_menu(self, pos: Any) -> None:
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        menu.addActions([self.act_configure, self.act_toggle, self.act_check, self.act_operations])
        if self._panel_actions:
            menu.addSeparator()
            menu.addActions(self._panel_actions)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # ---- tenant actions -------------------------------------------------------------------------
    def _ask_name(self, title: str, label: str, text: str, change: Callable[[str], str]) -> NameDialog:
        """A name dialog whose OK runs `change(name)` (which returns the tenant to select) in
        a worker; a refusal is shown in the dialog, which keeps the typed name."""
        from PySide6.QtCore import Qt

        from .dialogs import NameDialog, error_text

        dialog = NameDialog(self, title, label, text)

        def submit(name: str) -> None:
            if name == text:
                dialog.finish()
                return

            def done(select: str) -> None:
                dialog.finish()
                self._after_structure(select)

            self.run_task(
                lambda: change(name), done, lambda exc: dialog.refused(error_text(exc)), what=f"{title}…"
            )

        dialog.submitted.connect(submit)
        dialog.finished.connect(lambda _unused=0: setattr(self, "name_dialog", None))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.name_dialog = dialog
        dialog.open()
        return dialog

    def add_child(self) -> NameDialog | None:
        parent = self.current_tenant_id()
        if parent is None:
            return None
        return self._ask_name(
            _("Add child tenant"),
            _(
                "Name of the new tenant under '{path}' (it receives a copy of this "
                "tenant's integration settings):"
            ).format(path=self.ws.tree.path(parent)),
            "",
            lambda name: self.ws.add_tenant(name, parent).id,
        )

    def _after_structure(self, select: str) -> None:
        self._structure = None
        self.reload_tree(select=select)

    def rename_tenant(self) -> NameDialog | None:
        tid = self.current_tenant_id()
        if tid is None:
            return None
        old = self.ws.tree.get(tid).name

        def rename(name: str) -> str:
            self.ws.rename_tenant(tid, name)
            return tid

        return self._ask_name(_("Rename tenant"), _("New name for '{old}':").format(old=old), old, rename)

    def move_tenant(self) -> None:
        tid = self.current_tenant_id()
        if tid is None:
            return
        tree = self.ws.tree
        tenant = tree.get(tid)
        choices: dict[str, str] = {}
        for t in tree.walk(tree.root_id):
            if t.id == tid or t.id == tenant.parent_id or tree.is_ancestor(tid, t.id):
                continue
            choices[tree.path(t.id)] = t.id
        if not choices:
            self.show_error(_("There is no other tenant to move '{name}' under.").format(name=tenant.name))
            return
        target = self.prompts.choose(
            _("Move tenant"), _("New parent of '{name}':").format(name=tenant.name), list(choices)
        )
        if target is None:
            return
        new_parent = choices[target]
        self.run_task(
            lambda: self.ws.move_tenant(tid, new_parent),
            lambda _unused: self._after_structure(tid),
            what=_("Moving…"),
        )

    def remove_tenant(self) -> None:
        tid = self.current_tenant_id()
        if tid is None:
            return
        try:
            summary = self.ws.removal_summary(tid)
        except Exception as exc:  # noqa: BLE001 - TenantError says why not
            self.show_error(exc)
            return
        path = self.ws.tree.path(tid)
        if not self.prompts.confirm(
            _("Remove tenant"), _("Remove '{path}'? This removes:").format(path=path), summary
        ):
            return
        parent = self.ws.tree.get(tid).parent_id
        self.run_task(
            lambda: self.ws.remove_tenant(tid),
            lambda _unused: self._after_structure(parent or self.ws.tree.root_id),
            what=_("Removing…"),
        )

    # ---- integration actions ------------------------------------------------------------------------
    def open_wizard(self, kind: str | None = None) -> Any:
        from .wizard import TenantWizard

        tid = self.current_tenant_id()
        if tid is None or self.ws.tree.get(tid).is_shared:
            return None
        wizard = TenantWizard(self.ws, tid, start_kind=kind, parent=self, runner=self.runner)

        def applied() -> None:
            self.refresh()
            self.say(_("Saved."), 5000)

        wizard.applied.connect(applied)
        wizard.finished.connect(lambda _unused=0: setattr(self, "wizard", None))
        self.wizard = wizard
        wizard.open()
        return wizard

    def _details_link(self, url: Any) -> None:
        """A link of the details: a SeeAlso (integration:<kind>) sets that integration of the
        tenant up, in the wizard."""
        from ..core import catalog
        from .integrations_view import see_also_link

        kind = see_also_link(url.toString())
        if kind is None or self.ws.readonly or self.busy:
            return
        if kind in catalog.KINDS and catalog.spec_for(kind).supported:
            self.open_wizard(kind)

    def configure_integration(self) -> Any:
        row = self.current_row()
        if row is None or not row.supported or self.ws.readonly or self.busy:
            return None
        return self.open_wizard(row.kind)

    def toggle_integration(self) -> None:
        tid, row = self.current_tenant_id(), self.current_row()
        if tid is None or row is None or not row.supported:
            return
        want = not row.enabled
        self.run_task(
            lambda: self.ws.set_enabled(tid, row.kind, want),
            what=_("Turning on…") if want else _("Turning off…"),
        )

    def set_subtree_enabled(self, on: bool) -> None:
        """Turn the selected integration on or off for the tenant and every tenant below it:
        one change, all or none (a tenant that refuses is named, nothing is changed)."""
        from ..core import catalog
        from ..core.workspace import IntegrationEdit

        row = self.current_row()
        ids = self._many_targets()
        if ids is None or row is None or not row.supported:
            return
        kind = row.kind
        several = bool(self._several())
        title = catalog.title_of(kind)
        paths = [self.ws.tree.path(t) for t in ids]
        question = (
            _("Turn {integration} on for these {n} tenants, in one change?")
            if on
            else _("Turn {integration} off for these {n} tenants, in one change?")
        ).format(integration=title, n=len(ids))
        shown = paths[:15] + ([_("… and {n} more").format(n=len(paths) - 15)] if len(paths) > 15 else [])
        if several:
            heading = _("Turn on for the selected tenants") if on else _("Turn off for the selected tenants")
        else:
            heading = _("Turn on in the subtree") if on else _("Turn off in the subtree")
        if not self.prompts.confirm(heading, question, shown):
            return
        if several:
            action = (
                _("window: Turn on for the selected tenants")
                if on
                else _("window: Turn off for the selected tenants")
            )
        else:
            action = _("window: Turn on in the subtree") if on else _("window: Turn off in the subtree")

        def work() -> None:
            with self.ws.acting(action):
                self.ws.update_many([(t, IntegrationEdit(kind, enabled=on)) for t in ids])

        self.run_task(
            work,
            lambda _r: self.say(
                (
                    _("{integration} is on in {n} tenants.")
                    if on
                    else _("{integration} is off in {n} tenants.")
                ).format(integration=title, n=len(ids)),
                8000,
            ),
            what=_("Turning on…") if on else _("Turning off…"),
        )

    def _many_targets(self) -> list[str] | None:
        """The tenants a subtree action acts on: those selected when several are, else the
        tenant and every tenant below it; None (the user was told) when the Shared tenant is
        among them."""
        several = self._several()
        if several:
            if self.ws.tree.shared_id in several:
                self.show_error(
                    _("The Shared tenant has no integrations: leave it out of the selection and try again.")
                )
                return None
            return several
        tid = self.current_tenant_id()
        if tid is None or self.ws.tree.get(tid).is_shared:
            return None
        return self.ws.subtree_ids(tid)

    def configure_many(self) -> Any:
        """Configure in the subtree… / for the selected tenants: the integration's fields,
        pre-filled from the first tenant (secrets never); the fields changed are applied to
        every tenant in one change, all or none."""
        import dataclasses

        from PySide6.QtCore import Qt

        from ..core import catalog
        from ..core.errors import SecretsWouldFollow
        from ..core.workspace import IntegrationEdit
        from .dialogs import Prompts, error_text
        from .many import ConfigureManyDialog

        row = self.current_row()
        if row is None or not row.supported or self.ws.readonly or self.busy:
            return None
        ids = self._many_targets()
        if ids is None:
            return None
        several = bool(self._several())
        action = (
            _("window: Configure for the selected tenants")
            if several
            else _("window: Configure in the subtree")
        )
        dialog = ConfigureManyDialog(self, self.ws, row.kind, ids)
        title = catalog.title_of(row.kind)

        def apply(edit: IntegrationEdit) -> None:
            def work() -> None:
                with self.ws.acting(action):
                    self.ws.update_many([(t, edit) for t in ids])

            def done(_r: Any) -> None:
                dialog.finish()
                self.refresh()
                self.say(
                    _("{integration} is set in {n} tenants.").format(integration=title, n=len(ids)), 8000
                )

            def failed(exc: BaseException) -> None:
                if isinstance(exc, SecretsWouldFollow) and not edit.keep_secrets:
                    if Prompts(dialog).confirm_follow(exc.following):
                        apply(dataclasses.replace(edit, keep_secrets=True))
                        return
                    dialog.refused(
                        _(
                            "Nothing was saved: the stored secrets stay with their target. Enter them again "
                            "to use them at the new one, or press OK again and confirm."
                        )
                    )
                    return
                dialog.refused(error_text(exc))

            self.run_task(work, done, failed, what=_("Saving…"))

        dialog.submitted.connect(apply)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.finished.connect(lambda _unused=0: setattr(self, "many_dialog", None))
        self.many_dialog = dialog
        dialog.open()
        return dialog

    def show_drift(self) -> Any:
        """Drift from the parent…: the tenant's (or subtree's) fields against the parent."""
        from PySide6.QtCore import Qt

        from .mssp import DriftDialog

        tid = self.current_tenant_id()
        if tid is None or self.ws.tree.get(tid).is_shared:
            return None
        dialog = DriftDialog(self, tid)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.finished.connect(lambda _code=0: setattr(self, "drift_dialog", None))
        self.drift_dialog = dialog
        dialog.open()
        return dialog

    def import_from_kuma(self) -> workers.Task | None:
        """Import tenants from KUMA…: read KUMA's tenants (a worker), then the preview to
        tick; Add applies the ticked ones in one change."""
        from ..core.appsettings import timeout_of
        from ..core.engine import rows_of, run_operation

        tid = self.current_tenant_id()
        if tid is None:
            return None
        ws = self.ws
        timeout = timeout_of(ws.app)

        def read() -> Any:
            return run_operation(ws, tid, "kuma", "tenants", timeout=timeout)

        def done(outcomes: Any) -> None:
            if not outcomes or not all(o.ok for o in outcomes):
                self.show_error(
                    "; ".join(o.message for o in outcomes) or _("KUMA's tenants could not be read.")
                )
                return
            self._offer_kuma_import(tid, rows_of(outcomes[0]))

        return self.runner(read, done)

    def _offer_kuma_import(self, tid: str, rows: list[dict[str, Any]]) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QDialog

        from ..core.integrations.kuma import tenants as kuma_tenants
        from .mssp import KumaImportDialog, import_summary

        if tid not in self.ws.tree:
            return
        dialog = KumaImportDialog(self, tid, rows)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.kuma_import_dialog = dialog

        def finished(code: int) -> None:
            self.kuma_import_dialog = None
            if code != QDialog.DialogCode.Accepted:
                return
            chosen = dialog.chosen()

            def work() -> Any:
                with self.ws.acting(_("window: Import tenants from KUMA")):
                    return kuma_tenants.apply(self.ws, tid, rows, chosen)

            def added(result: Any) -> None:
                self.reload_tree(select=tid)
                self.say(import_summary(result), 8000)

            self.run_task(work, added, what=_("Adding tenants…"))

        dialog.finished.connect(finished)
        dialog.open()

    def confirm_notices(self, kinds: set[str]) -> bool:
        from ..core import catalog

        checks = {k: catalog.spec_for(k).check_op for k in sorted(kinds)}
        notices = [
            f"{catalog.title_of(k)}: {op.notice}" for k, op in checks.items() if op is not None and op.notice
        ]
        if not notices:
            return True
        return self.prompts.confirm(_("Before the check"), _("Please note before the check runs:"), notices)

    def check_selected(self) -> workers.Task | None:
        tid, row = self.current_tenant_id(), self.current_row()
        if tid is None or row is None or not row.supported or row.running:
            return None
        kind = row.kind
        if not self.confirm_notices({kind}):
            return None
        from ..core import catalog
        from ..core.engine import run_operation
        from ..core.outcome import outcome_words

        self.table_model.set_running(kind, True)
        self.say(_("Checking {title}…").format(title=row.title))
        cancel = threading.Event()

        def done(results: list[Any]) -> None:
            self._check_tasks.pop((tid, kind), None)
            self.table_model.set_running(kind, False)
            if results:
                first = results[0]
                self.say(f"{catalog.title_of(kind)}: {outcome_words(first)} — {first.message}", 30000)
            self.save_results({(tid, kind): [r.to_dict() for r in results]})

        def failed(exc: BaseException) -> None:
            self._check_tasks.pop((tid, kind), None)
            self.table_model.set_running(kind, False)
            self.show_error(exc)

        task = workers.run_in_background(
            lambda: run_operation(self.ws, tid, kind, cancel=cancel),
            done,
            failed,
            cancel=cancel,
            pool=workers.check_pool(),
            owner=self,
        )
        self._check_tasks[(tid, kind)] = task
        self._update_actions()
        return task

    def save_results(self, results: dict[tuple[str, str], list[dict[str, Any]]]) -> workers.Task:
        """Keep the last results (saved in a worker; in memory only when read-only)."""
        return workers.run_in_background(
            lambda: self.ws.record_results(results),
            lambda _result: self.refresh(),
            lambda exc: self._failed(exc, None),
            owner=self,
        )

    def check_tenant(self) -> Any:
        return self._check_many(subtree=False)

    def check_subtree(self) -> Any:
        return self._check_many(subtree=True)

    def _check_many(self, subtree: bool) -> Any:
        from ..core.scheduler import targets
        from .checks_ui import CheckAllDialog, take_spare

        tid = self.current_tenant_id()
        if tid is None:
            return None
        pairs = targets(self.ws, tid, subtree=subtree)
        if not pairs:
            self.show_error(
                _("Nothing to check: no integration is turned on in this subtree.")
                if subtree
                else _("Nothing to check: no integration is turned on for this tenant.")
            )
            return None
        if not self.confirm_notices({k for _unused, k in pairs}):
            return None
        scope = self.ws.tree.path(tid) + (_(" and below") if subtree else "")
        title = _("Check — {scope}").format(scope=scope)
        dialog = take_spare(self.ws, self)
        if dialog is None:
            dialog = CheckAllDialog(self.ws, pairs, title=title, parent=self)
        else:
            dialog.bind(pairs, title)
        dialog.saved.connect(self.refresh)
        dialog.saved.connect(self.warm_checks)
        self.check_dialog = dialog
        dialog.show()
        dialog.start_when_shown()
        return dialog

    # ---- the health grid ------------------------------------------------------------------------
    @property
    def grid_shown(self) -> bool:
        return self.grid is not None and self._stack.currentWidget() is self.grid

    def show_grid(self, on: bool = True) -> Any:
        """The health grid in place of the tenant view (or back); built when first shown."""
        from PySide6.QtWidgets import QStackedWidget

        from .health_grid import HealthGrid

        if on and self.grid is None:
            self._stack = QStackedWidget(self)
            self._stack.setObjectName("views")
            self._stack.addWidget(self.takeCentralWidget())
            self.grid = HealthGrid(self)
            self.grid.changed.connect(self._update_grid_actions)
            self._stack.addWidget(self.grid)
            self.setCentralWidget(self._stack)
            self._stack.show()  # the window is on screen already
        if self.grid is not None:
            self._stack.setCurrentWidget(self.grid if on else self.split)
        self.act_grid.setChecked(on)
        if on:
            self.grid.view.setFocus()
            self.say(_("Health grid: click a cell (or press Enter) to read its last check."), 10000)
        else:
            self.tree_view.setFocus()
        self._update_grid_actions()
        return self.grid

    def toggle_grid(self) -> None:
        self.show_grid(self.act_grid.isChecked())

    def _update_grid_actions(self) -> None:
        shown = self.grid_shown
        grid = self.grid
        if shown:
            # The tenant actions (Check tenant, Rename, Remove…) act on the tenant whose row
            # is current in the grid, the one the user sees, not on the hidden tree's.
            index = grid.view.currentIndex()
            if index.isValid() and index.row() < len(grid.model.rows):
                tid = grid.model.rows[index.row()].tenant_id
                if tid in self.ws.tree and tid != self.current_tenant_id():
                    self.select_tenant(tid)
        can_check = shown and not grid.running and grid.model.checkable > 0
        self.act_grid_check.setEnabled(can_check)
        if shown and not can_check:
            why = (
                _("The grid's checks are running.")
                if grid.running
                else _("No integration shown in the grid is turned on.")
            )
            self.act_grid_check.setToolTip(why)
        else:
            self.act_grid_check.setToolTip(self.act_grid_check.statusTip())
        self.act_grid_export.setEnabled(shown and bool(grid.model.rows))
        cell = grid.current_cell() if shown else None
        self.act_grid_open.setEnabled(cell is not None)
        self.act_grid_goto.setEnabled(cell is not None)

    def check_grid(self) -> Any:
        if not self.grid_shown:
            return None
        return self.grid.check_shown()

    def export_grid(self) -> None:
        if self.grid_shown:
            self.grid.export_csv()

    def open_grid_result(self) -> Any:
        return self.grid.open_result() if self.grid_shown else None

    def grid_to_tenant_view(self) -> None:
        cell = self.grid.current_cell() if self.grid_shown else None
        if cell is not None:
            self.show_in_tenant_view(cell[0].tenant_id, cell[1])

    def show_in_tenant_view(self, tenant_id: str, kind: str) -> None:
        """Back to the tenant view with that tenant and integration selected."""
        self.show_grid(False)
        if tenant_id in self.ws.tree and self.select_tenant(tenant_id):
            self.select_integration(kind)
            self.table.setFocus()

    # ---- file actions -------------------------------------------------------------------------
    def export_settings(self) -> None:
        from ..core import exchange

        path = self.prompts.save_file(
            _("Export settings (no secrets)"), "xdrconf-export.json", _("JSON files (*.json)")
        )
        if not path:
            return

        def work() -> str:
            Path(path).write_text(exchange.dumps(exchange.export_document(self.ws)), encoding="utf-8")
            return path

        self.run_task(
            work,
            lambda p: self.say(_("Exported to {path} (no secrets included).").format(path=p), 15000),
            what=_("Exporting…"),
        )

    def import_settings(self) -> None:
        from ..core import exchange

        path = self.prompts.open_file(_("Import settings"), _("JSON files (*.json);;All files (*)"))
        if not path:
            return

        def work() -> list[Any]:
            from ..core.files import read_user_file

            text = read_user_file(_("Import file"), path, limit=exchange.MAX_IMPORT)
            return exchange.import_document(self.ws, exchange.loads(text))

        def done(needed: list[Any]) -> None:
            self._structure = None
            if needed:
                self.prompts.info(
                    _("Imported"),
                    _(
                        "Imported. Exports never hold secrets: enter these again "
                        "(Configure…), then turn the integrations on:"
                    ),
                    [n.line() for n in needed],
                )
            else:
                self.say(_("Imported."), 10000)

        self.run_task(work, done, what=_("Importing…"))

    def edit_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ws.app, self)
        dialog.setObjectName("settingsDialog")
        if not self.prompts.dialog(dialog):
            return
        values = dialog.values()
        self.run_task(
            lambda: self.ws.set_app(**values),
            lambda _unused: self.say(_("Settings saved."), 5000),
            what=_("Saving settings…"),
        )

    def about(self) -> None:
        from .. import __version__

        self.prompts.info(
            _("About xdrconf {version}").format(version=__version__),
            _(
                "xdrconf configures, per tenant, the integrations of Kaspersky Next XDR Expert and "
                "KUMA, keeps their secrets in the OS keyring and checks that each connection works."
            ),
            [_("Settings folder: {config_dir}").format(config_dir=self.ws.config_dir)],
        )

    # ---- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: Any) -> None:
        from ..core import checkproc

        self._closed = True
        checkproc.discard_spares(wait=False)
        if self.unlocker is not None:
            self.unlocker.close()
        for task in list(self._check_tasks.values()):
            task.cancel()
        if self.check_dialog is not None:
            self.check_dialog.cancel()
        if self.grid is not None:
            self.grid.cancel()
        super().closeEvent(event)
