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
    """Show the main window's frame at once; right after its first paint the window opens
    the settings, builds the tree and the integrations, checks the keyring and shows any
    notice. If the settings cannot be opened at all the user is told why and the event loop
    ends with status 2."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("xdrconf")
    app.setOrganizationName("xdrconf")
    # The language before any text, the window's frame included: XDRCONF_LANG's, else the
    # settings' own choice (read without opening them: they are opened after the first
    # paint), else the system's.
    from ..core import i18n

    setting = i18n.setting_in(config_dir)
    apply_language(setting)

    def opener() -> Any:
        from ..core.workspace import Workspace

        ws = Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend)
        if ws.app.get("language") != setting:  # changed meanwhile by another instance
            apply_language(ws.app.get("language"))
        return ws

    from .main_window import MainWindow

    window = MainWindow(None, deferred=True, opener=opener)
    window.open_failed.connect(lambda: QApplication.exit(2))
    _after_first_paint(window, window.start)
    window.show()
    return window


def run_gui(config_dir: str | None = None, *, keyring_backend: Any | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    window = start_gui(config_dir, keyring_backend=keyring_backend)
    try:
        return QApplication.exec()
    finally:
        from . import workers

        workers.wait_all(5000)
        if window.opened:
            window.ws.close()
