"""Translations: every word a person reads, in Russian or English (issue 16). No Qt here:
the core, the command line and the Qt layer all use this one mechanism.

Developer guide
===============

Wrapping a string
-----------------
Import the functions and wrap the literal itself, whole sentences, with named placeholders
filled in *after* translating::

    from xdrconf.core.i18n import _, ngettext, pgettext, N_

    raise ValidationError(_("Tenant name"), _("must be at most {limit} characters").format(limit=128))
    print(_("Removed '{path}'.").format(path=path))

- The msgid is the English text, a plain string literal (implicit concatenation of literals
  is fine). Never ``_(f"...")``, ``_("a" + b)`` or ``_("..." % x)``: the formatted text is
  never in the catalog (the scanner test flags these). Placeholders are named (``{path}``)
  so a translator can move them; keep ``%`` formats only where a library demands them.
- One sentence per msgid; never glue translated fragments into a sentence, since word order
  differs in Russian. Short words that mean different things in different places get a
  context: ``pgettext("integration state", "on")``.
- A comment starting with ``TRANSLATORS:`` on the line(s) just above the call goes into the
  catalog for the translator (what a placeholder holds, where the text appears).
- What a program reads stays English and unwrapped: outcome category codes, field names,
  ``--json`` keys and values, log records, settings keys, exit statuses.
- A module that imports ``_`` must not use ``_`` as a throwaway name at module level
  (``for _ in ...``) — that would rebind the function (the scanner test checks it).

Plurals
-------
::

    ngettext("{n} child tenant", "{n} child tenants", n).format(n=n)

Give ``n`` to both the choice and the text. A count that may run into thousands is
written with ``format_int(n)`` (``"1,001"``, in Russian ``"1 001"``) and the msgid takes the
formatted text: ``ngettext("{n} tenant", "{n} tenants", n).format(n=format_int(n))``.
Russian has three forms (1 тенант, 2 тенанта, 5 тенантов; the catalog's Plural-Forms
header picks the form), so write the number into every form, never "one child tenant" in
the singular: form 0 is used for 21, 31 … too.

Module-level constants: ``N_``
------------------------------
Spec titles, field labels and help, page titles, combo entries are created when a module is
imported — before the language is chosen. Mark them with ``N_`` (or ``pN_(context, text)``)::

    SPEC = IntegrationSpec(title=N_("Custom integration"), fields=(Field("host", N_("Host")),))

``N_`` returns a ``LazyText``: a ``str`` subclass (so every ``str`` annotation accepts it and
mypy is content) that holds the English msgid and translates *each time it is displayed*:
``str(x)``, ``f"{x}"``, ``"%s" % x``, ``"{}".format(x)``, ``x.format(...)``, ``x % ...``,
``x + "…"``, ``"…" + x`` and ``print(x)`` all give the current language. Everything else
sees the English msgid, on purpose: ``==``, hashing and dict keys stay stable, ``json.dumps``
writes English (what a program reads). Code written in C reads the msgid too — and that
includes Qt: ``QLabel(x)``, ``setText(x)``, ``setToolTip(x)`` and ``", ".join(xs)`` show
English. Hand them ``_(x)`` (or ``str(x)``), which translates a LazyText like a literal::

    label.setToolTip(_(field.help))
    form.addRow(_(field.label) + ":", editor)      # + already translates; _() is harmless

Never compose lazy texts at module level (``N_("a") + "b"`` is translated at import, once).

Language
--------
Chosen once at start, before any text is produced (the CLI's run(), the window's start):
``XDRCONF_LANG=ru|en`` beats the app setting ``language`` (auto|en|ru, Settings or
``xdrconf config set language=ru``), which beats the system's language (LANGUAGE, LC_ALL,
LC_MESSAGES, LANG; on Windows the user's UI language, on macOS AppleLanguages), which beats
English. ``setup(setting)`` applies that order; ``set_language(code)`` forces one. Anything
without a translation — a missing, empty or fuzzy entry, or a catalog that was never
compiled — shows the English msgid, never an empty string.

Catalogs and tools
------------------
``gui/xdrconf/locale/<lang>/LC_MESSAGES/xdrconf.po`` are the sources (committed; the Russian
one opens with the glossary of terms). ``.mo`` files are build outputs (git-ignored): the
package build compiles them (setup.py's build_py, also for the editable install), and so does
``packaging/bootstrap.sh`` on every run. After adding or changing strings::

    bash packaging/i18n.sh update     # extract the .pot from the code, merge it into each .po
    # translate the new entries in gui/xdrconf/locale/ru/LC_MESSAGES/xdrconf.po
    bash packaging/i18n.sh compile    # .po -> .mo (bootstrap.sh does this too)
    bash packaging/i18n.sh status     # untranslated entries and unwrapped strings per module

argparse's own texts ("usage:", "positional arguments", its errors) are in the same catalog
(extracted from the interpreter's argparse.py) and routed to it by ``route_argparse()``.
tests/test_i18n.py checks the catalogs; the modules listed there as translated must have a
Russian text for every message and no unwrapped user-visible literal.
"""

from __future__ import annotations

import gettext as _gettext
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOMAIN = "xdrconf"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# Code -> the language's name in that language (what a language menu shows).
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский"}
DEFAULT = "en"
ENV_LANG = "XDRCONF_LANG"
SETTING_VALUES = ("auto", *LANGUAGES)
SYSTEM_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

log = logging.getLogger(__name__)

_language = DEFAULT
_active: _gettext.NullTranslations = _gettext.NullTranslations()
_loaded: dict[tuple[str, Path], _gettext.NullTranslations] = {}


# ---- looking texts up -------------------------------------------------------------------------
def _(message: str) -> str:
    """The translation of `message` (its English text when there is none)."""
    if isinstance(message, LazyText):
        return message.translated()
    return _active.gettext(message) or str.__str__(message)


def pgettext(context: str, message: str) -> str:
    """Like _(), for a message whose meaning depends on a context (short, ambiguous words)."""
    return _active.pgettext(context, message) or str.__str__(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of the message for the number n (Russian has three)."""
    return _active.ngettext(singular, plural, n) or (singular if n == 1 else plural)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _active.npgettext(context, singular, plural, n) or (singular if n == 1 else plural)


class LazyText(str):
    """An English msgid that translates whenever it is displayed; see "Module-level
    constants" above. Equality, hashing and C code see the msgid."""

    _context: str | None

    def __new__(cls, message: str, context: str | None = None) -> LazyText:
        self = super().__new__(cls, message)
        self._context = context
        return self

    @property
    def msgid(self) -> str:
        return str.__str__(self)

    @property
    def context(self) -> str | None:
        return self._context

    def translated(self) -> str:
        msgid = str.__str__(self)
        return pgettext(self._context, msgid) if self._context is not None else _(msgid)

    def __str__(self) -> str:
        return self.translated()

    def __format__(self, format_spec: str) -> str:
        return format(self.translated(), format_spec)

    def __add__(self, other: str) -> str:
        return self.translated() + other

    def __radd__(self, other: str) -> str:
        return other + self.translated()

    def __mod__(self, value: Any) -> str:
        return self.translated() % value

    def format(self, *args: object, **kwargs: object) -> str:
        return self.translated().format(*args, **kwargs)

    def format_map(self, mapping: Any) -> str:
        return self.translated().format_map(mapping)

    def __repr__(self) -> str:
        context = "" if self._context is None else f"{self._context!r}, "
        return f"N_({context}{str.__repr__(self)})"

    def fill(self, **values: object) -> LazyText:
        """This text with its placeholders filled, still translated when displayed: for a
        module-level text with a part that varies (``N_("… of {what}").fill(what=N_("…"))``);
        values that are LazyText translate too. Equality sees the English text."""
        return _Filled(self, values)


class _Filled(LazyText):
    _template: LazyText
    _values: dict[str, object]

    def __new__(cls, template: LazyText, values: dict[str, object]) -> _Filled:
        english = {k: str.__str__(v) if isinstance(v, str) else v for k, v in values.items()}
        self = str.__new__(cls, str.__str__(template).format(**english))
        self._context = template.context
        self._template = template
        self._values = values
        return self

    def translated(self) -> str:
        return self._template.translated().format(**self._values)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Filled, (self._template, self._values))

    def __repr__(self) -> str:
        return f"{self._template!r}.fill(**{self._values!r})"


def N_(message: str) -> LazyText:
    """Mark a module-level text for translation; it translates when displayed."""
    return LazyText(message)


def pN_(context: str, message: str) -> LazyText:
    """N_ with a context (see pgettext)."""
    return LazyText(message, context)


# ---- choosing the language --------------------------------------------------------------------
def normalise(tag: str | None) -> str | None:
    """'ru_RU.UTF-8', 'ru-RU', 'RU', 'ru@latin' -> 'ru'; 'C' and 'POSIX' -> 'en'; a language
    xdrconf has no catalog for (or nothing) -> None."""
    if not tag:
        return None
    value = tag.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if value.upper() in ("C", "POSIX"):
        return "en"
    code = value.split("_", 1)[0].lower()
    return code if code in LANGUAGES else None


def _windows_language() -> str | None:
    try:
        import ctypes
        import locale

        langid = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]
        return locale.windows_locale.get(int(langid))
    except Exception:  # noqa: BLE001 - no answer means "not known", never a failure
        return None


def _macos_languages() -> list[str]:
    import subprocess

    try:
        out = subprocess.run(
            ["defaults", "read", "-g", "AppleLanguages"],
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    # A property list array: ( "ru-RU", en ) — one entry a line.
    entries = (line.strip().strip(",").strip('"') for line in out.splitlines())
    return [e for e in entries if e and e not in ("(", ")")]


def system_language(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """The user's language as the system says it, if xdrconf has it: the first of LANGUAGE,
    LC_ALL, LC_MESSAGES and LANG that is set decides (LANGUAGE may list several, e.g.
    'de:ru', the first known one wins); with none set, Windows' UI language or macOS's
    AppleLanguages."""
    env = os.environ if environ is None else environ
    for name in SYSTEM_VARIABLES:
        value = env.get(name, "")
        if value:
            for item in value.split(":"):
                code = normalise(item)
                if code:
                    return code
            return None
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        return normalise(_windows_language())
    if platform == "darwin":
        for item in _macos_languages():
            code = normalise(item)
            if code:
                return code
    return None


@dataclass(frozen=True)
class Choice:
    code: str
    source: str  # "XDRCONF_LANG", "setting", "system" or "default"


def choose(setting: str | None = None, environ: Mapping[str, str] | None = None) -> Choice:
    """XDRCONF_LANG, then the app setting (unless auto), then the system, then English."""
    env = os.environ if environ is None else environ
    forced = env.get(ENV_LANG, "").strip()
    if forced and forced.lower() != "auto":
        code = normalise(forced)
        if code:
            return Choice(code, ENV_LANG)
        log.warning(
            "%s=%s is not a language xdrconf has (%s); ignored", ENV_LANG, forced, ", ".join(LANGUAGES)
        )
    if setting and setting != "auto":
        code = normalise(setting)
        if code:
            return Choice(code, "setting")
    code = system_language(env)
    if code:
        return Choice(code, "system")
    return Choice(DEFAULT, "default")


def _translations(code: str, localedir: Path) -> _gettext.NullTranslations:
    key = (code, localedir)
    if key not in _loaded:
        mo = localedir / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
        try:
            with open(mo, "rb") as fh:
                _loaded[key] = _gettext.GNUTranslations(fh)
        except FileNotFoundError:
            log.warning(
                "xdrconf: the %s message catalog %s is missing (run 'bash packaging/i18n.sh compile'); "
                "texts are shown in English",
                LANGUAGES[code],
                mo,
            )
            _loaded[key] = _gettext.NullTranslations()
    return _loaded[key]


def set_language(code: str, localedir: Path | None = None) -> None:
    """Use this language from now on (English needs no catalog: the msgids are English)."""
    global _language, _active
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}")
    _active = _gettext.NullTranslations() if code == DEFAULT else _translations(code, localedir or LOCALE_DIR)
    _language = code
    if "argparse" in sys.modules:
        route_argparse()


def language() -> str:
    """The code of the language in use."""
    return _language


# How each language groups the digits of a number by thousands: "1,001" in English, "1 001"
# (a no-break space, so a count never breaks across lines) in Russian.
THOUSANDS_SEPARATORS: dict[str, str] = {"en": ",", "ru": "\u00a0"}


def format_int(n: int) -> str:
    """An integer as the language in use writes it, its thousands grouped: for a count in a
    text, whose msgid takes the formatted number (the plural form is chosen on n itself)::

        ngettext("{n} tenant", "{n} tenants", n).format(n=format_int(n))
    """
    return f"{n:,}".replace(",", THOUSANDS_SEPARATORS.get(_language, ","))


def setup(setting: str | None = None, environ: Mapping[str, str] | None = None) -> Choice:
    """Choose the language (see choose()) and use it. Call once at start, before any text."""
    choice = choose(setting, environ)
    set_language(choice.code)
    return choice


def route_argparse() -> None:
    """argparse looks its texts up through its module-level `_` and `ngettext` (gettext's
    global domain); point them at this catalog, so usage, help and errors follow the language."""
    import argparse

    vars(argparse).update(_=_, ngettext=ngettext)


def parse_setting(text: str, label: str = "language") -> str:
    """The app setting `language`: auto, en or ru."""
    from .errors import ValidationError

    value = text.strip().lower()
    if value not in SETTING_VALUES:
        raise ValidationError(label, _("one of: {values}").format(values=", ".join(SETTING_VALUES)))
    return value


def setting_in(config_dir: str | os.PathLike[str] | None) -> str | None:
    """The `language` app setting of a settings folder, read without opening it (the
    language must be known before the settings are opened and can report anything). None
    when there is no file, or it cannot be read: opening it properly will say why."""
    from .jsonread import peek
    from .paths import SETTINGS_FILE, resolve_config_dir

    # Read with the settings' own bounds (size, nesting, numbers): a file that cannot be
    # used is reported, and kept aside, when the settings are opened.
    document = peek(resolve_config_dir(config_dir) / SETTINGS_FILE)
    try:
        value = document["app"]["language"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) and value in SETTING_VALUES else None
