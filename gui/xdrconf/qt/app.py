"""Starting the window: `xdrconf` with no command, or `python -m xdrconf`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from ..core.i18n import pN_

log = logging.getLogger(__name__)


_translators: list[Any] = []

# Qt's own texts that the qtbase catalog PySide6 ships leaves in English in Russian (it lags
# behind Qt: these source texts changed or came later), and "OK", which it keeps in Latin
# letters: answered from xdrconf's catalog instead. (Qt's context, Qt's text) -> the text;
# the catalog's context is "Qt " + Qt's context.
QT_TEXTS = {
    ("QPlatformTheme", "OK"): pN_("Qt QPlatformTheme", "OK"),
    ("QGnomeTheme", "&OK"): pN_("Qt QGnomeTheme", "&OK"),
    ("QFileDialog", "&Look in:"): pN_("Qt QFileDialog", "&Look in:"),
    ("QFileDialog", "Files of &type:"): pN_("Qt QFileDialog", "Files of &type:"),
    ("QAbstractFileIconProvider", "Folder"): pN_("Qt QAbstractFileIconProvider", "Folder"),
    ("QAbstractFileIconProvider", "Drive"): pN_("Qt QAbstractFileIconProvider", "Drive"),
}


def qt_translations_folders() -> list[str]:
    """Where Qt's .qm catalogs may be: Qt's own idea (QLibraryInfo), then PySide6's package
    folder (the same in a virtual environment; the place the frozen build keeps them)."""
    import PySide6
    from PySide6.QtCore import QLibraryInfo

    folders = [
        QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath),
        str(Path(PySide6.__file__).resolve().parent / "Qt" / "translations"),
    ]
    return list(dict.fromkeys(f for f in folders if f))


def _gap_translator(parent: Any) -> Any:
    """A QTranslator that answers QT_TEXTS (and nothing else: Qt then asks qtbase's)."""
    from PySide6.QtCore import QTranslator

    class QtGaps(QTranslator):
        def translate(
            self, context: str, source: str, disambiguation: str | None = None, n: int = -1
        ) -> str | None:
            text = QT_TEXTS.get((context, source))
            # None is Qt's null string, "not here" (an empty string would be the translation).
            return str(text) if text is not None else None

        def isEmpty(self) -> bool:
            return False

    return QtGaps(parent)


def apply_language(setting: str | None = None) -> str:
    """Choose the language (xdrconf.core.i18n.setup: XDRCONF_LANG, the setting, the system)
    and install Qt's own translations of it (standard buttons, file dialogs: the qtbase
    catalog that PySide6 ships, and QT_TEXTS where it has none) on the application, and
    Qt's locale (file dialogs' sizes, dates and file types); English needs no catalog.
    Returns the code. The application's own texts go through xdrconf.core.i18n, not Qt's
    tr(). Call it before any widget is made: a widget keeps the texts it was made with."""
    from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

    from ..core import i18n

    code = i18n.setup(setting).code
    app = QCoreApplication.instance()
    if app is None:
        return code
    while _translators:
        app.removeTranslator(_translators.pop())
    if code == i18n.DEFAULT:
        QLocale.setDefault(QLocale.system())
        return code
    QLocale.setDefault(QLocale(code))
    translator = QTranslator(app)
    for folder in qt_translations_folders():
        if translator.load(f"qtbase_{code}", folder):
            app.installTranslator(translator)
            _translators.append(translator)
            break
    else:
        log.warning(
            "Qt's own texts stay in English: qtbase_%s.qm is in none of %s", code, qt_translations_folders()
        )
    gaps = _gap_translator(app)
    app.installTranslator(gaps)  # installed last, asked first
    _translators.append(gaps)
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
    from .workers import after_first_paint

    after_first_paint(window, window.start)
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
