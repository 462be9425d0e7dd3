"""Starting the window: `xdrconf` with no command, or `python -m xdrconf`."""

from __future__ import annotations

import sys
from typing import Any


def _after_first_paint(widget: Any, then: Any) -> None:
    """Call `then` once the window has been painted for the first time."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, obj: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint:
                widget.removeEventFilter(self)
                QTimer.singleShot(0, then)
            return False

    probe = FirstPaint(widget)
    widget.installEventFilter(probe)


_translators: list[Any] = []


def apply_language(setting: str | None = None) -> str:
    """Choose the language (xdrconf.core.i18n.setup: XDRCONF_LANG, the setting, the system)
    and install Qt's own translations of it (standard buttons, file dialogs: the qtbase
    catalog that PySide6 ships) on the application; English needs none. Returns the code.
    The application's own texts go through xdrconf.core.i18n, not Qt's tr()."""
    from PySide6.QtCore import QCoreApplication, QLibraryInfo, QTranslator

    from ..core import i18n

    code = i18n.setup(setting).code
    app = QCoreApplication.instance()
    if app is None:
        return code
    while _translators:
        app.removeTranslator(_translators.pop())
    if code != i18n.DEFAULT:
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        translator = QTranslator(app)
        if translator.load(f"qtbase_{code}", folder):
            app.installTranslator(translator)
            _translators.append(translator)
    return code


def start_gui(config_dir: str | None = None, *, keyring_backend: Any | None = None) -> Any:
    """Open the settings and show the main window (the tree first; the integrations, the
    keyring status and any notice right after the first paint). None if the settings
    cannot be opened at all (the user was told why)."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    from ..core.errors import XdrconfError
    from ..core.workspace import Workspace

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("xdrconf")
    app.setOrganizationName("xdrconf")
    # The language before any text: XDRCONF_LANG's or the system's for an error opening the
    # settings, then the settings' own choice (read with them, not twice) for the window.
    apply_language(None)
    try:
        ws = Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend)
    except XdrconfError as exc:
        QMessageBox.critical(None, "xdrconf", str(exc))
        return None
    if ws.app.get("language"):
        apply_language(ws.app["language"])
    from .main_window import MainWindow

    window = MainWindow(ws, deferred=True)
    _after_first_paint(window, window.start)
    window.show()
    return window


def run_gui(config_dir: str | None = None, *, keyring_backend: Any | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    window = start_gui(config_dir, keyring_backend=keyring_backend)
    if window is None:
        return 2
    try:
        return QApplication.exec()
    finally:
        from . import workers

        workers.wait_all(5000)
        window.ws.close()
