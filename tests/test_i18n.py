"""The translation mechanism (xdrconf.core.i18n): catalogs that compile and cover the code,
plural forms, the fallback to English, the choice of language, lazy module-level texts,
argparse's texts, Qt's own translations, and the scan for texts that bypass it all."""

from __future__ import annotations

import copy
import gettext
import json
import logging
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import i18n_audit
from support.https_peer import closed_port
from xdrconf.core import i18n
from xdrconf.core.i18n import N_, _, ngettext, pgettext, pN_

REPO = i18n_audit.REPO
RU_PO = i18n_audit.LOCALE / "ru" / "LC_MESSAGES" / "xdrconf.po"


@pytest.fixture
def russian():
    i18n.set_language("ru")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The messages of the code, extracted by packaging/i18n.sh as a developer would."""
    return i18n_audit.extract(tmp_path_factory.mktemp("pot") / "xdrconf.pot")


def compile_po(text: str, folder: Path) -> Path:
    """A catalog written as .po text, compiled with Babel as the build does."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(text.encode()), locale="ru")
    mo = folder / "ru" / "LC_MESSAGES" / "xdrconf.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as fh:
        write_mo(fh, catalog)
    return mo


# ---- the catalogs -----------------------------------------------------------------------------
def test_catalogs_compile_with_russian_plural_forms_and_matching_placeholders(tmp_path):
    from babel.messages.mofile import write_mo

    catalog = i18n_audit.read_catalog("ru")
    assert catalog.num_plurals == 3
    problems = [f"{m.id!r}: {errors}" for m, errors in catalog.check()]
    assert problems == []  # python-format placeholders (%s, %(name)s) agree
    for message in catalog:
        if not message.id or not i18n_audit.is_translated(message):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"\{(\w+)", " ".join(ids)))
        for string in strings:
            # str.format placeholders: the same names, so .format(...) fills every one
            assert set(re.findall(r"\{(\w+)", string)) == wanted, (message.id, string)
    mo = tmp_path / "ru.mo"
    with mo.open("wb") as fh:
        write_mo(fh, catalog)
    with mo.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    assert compiled.gettext("Tenant name") == "Имя тенанта"
    assert compiled.info()["language"] == "ru"


def test_the_compiled_catalog_in_the_tree_is_not_older_than_its_source():
    """bootstrap.sh (packaging/i18n.sh compile) and the editable install keep it fresh."""
    mo = RU_PO.with_suffix(".mo")
    assert mo.exists(), "run: bash packaging/i18n.sh compile"
    assert mo.stat().st_mtime >= RU_PO.stat().st_mtime, "run: bash packaging/i18n.sh compile"


def test_every_message_of_the_translated_modules_has_a_russian_text(template, capsys):
    report = i18n_audit.catalog_report(template, i18n_audit.read_catalog("ru"))
    total = sum(1 for m in template if m.id)
    with capsys.disabled():
        print(
            f"\ni18n: {report.untranslated_total} of {total} messages have no Russian text yet "
            f"({len(report.obsolete)} catalog entries no longer in the code); modules done: "
            f"{len(i18n_audit.TRANSLATED)}"
        )
    assert report.messages["argparse.py"] >= 30  # argparse's texts are in the catalog
    assert report.messages["xdrconf/core/tenants.py"] > 0
    missing = {m: ids for m, ids in report.untranslated.items() if m in i18n_audit.TRANSLATED}
    assert missing == {}, "translate them in " + str(RU_PO.relative_to(REPO))


def test_the_translated_list_names_real_modules():
    for module in i18n_audit.TRANSLATED - {"argparse.py"}:
        assert (i18n_audit.GUI / module).is_file(), module


def test_every_module_of_the_package_is_translated():
    """Every module is held to the rules (every message in Russian, no text bypassing the
    mechanism): a new module joins TRANSLATED when it is written."""
    modules = {str(p.relative_to(i18n_audit.GUI)) for p in i18n_audit.PACKAGE.rglob("*.py")}
    assert modules - i18n_audit.TRANSLATED == set(), "add them to TRANSLATED in tests/support/i18n_audit.py"


def test_the_build_compiles_the_catalogs_into_the_package(tmp_path):
    """setup.py's build_py step, as `pip install .` and wheel builds run it."""
    out = tmp_path / "lib"
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    mo = out / "xdrconf" / "locale" / "ru" / "LC_MESSAGES" / "xdrconf.mo"
    with mo.open("rb") as fh:
        assert gettext.GNUTranslations(fh).gettext("must not be empty") == "не может быть пустым"
    assert (out / "xdrconf" / "core" / "i18n.py").exists()


# ---- looking texts up ---------------------------------------------------------------------------
def test_russian_plural_forms_of_child_tenants(russian):
    from xdrconf.core.errors import TenantError
    from xdrconf.core.tenants import TenantTree

    expected = {
        1: "1 дочерний тенант",
        2: "2 дочерних тенанта",
        4: "4 дочерних тенанта",
        5: "5 дочерних тенантов",
        11: "11 дочерних тенантов",
        12: "12 дочерних тенантов",
        21: "21 дочерний тенант",
        22: "22 дочерних тенанта",
        25: "25 дочерних тенантов",
        111: "111 дочерних тенантов",
    }
    for n, words in expected.items():
        tree = TenantTree.new()
        parent = tree.add("Acme", tree.root_id, {})
        for i in range(n):
            tree.add(f"Child {i}", parent.id, {})
        with pytest.raises(TenantError) as caught:
            tree.check_removable(parent.id)
        assert f"У «Acme» {words} (Child 0" in str(caught.value)
        assert ("переместите его." if n % 10 == 1 and n % 100 != 11 else "переместите их.") in str(
            caught.value
        )
    i18n.set_language("en")
    assert ngettext("{n} child tenant", "{n} child tenants", 1) == "{n} child tenant"
    assert ngettext("{n} child tenant", "{n} child tenants", 21) == "{n} child tenants"


def test_an_unknown_message_falls_back_to_english(russian):
    assert _("Tenant name") == "Имя тенанта"
    assert _("A sentence no catalog has.") == "A sentence no catalog has."
    assert pgettext("nowhere", "A sentence no catalog has.") == "A sentence no catalog has."
    assert ngettext("{n} thing nobody has", "{n} things nobody has", 5) == "{n} things nobody has"
    assert ngettext("{n} thing nobody has", "{n} things nobody has", 1) == "{n} thing nobody has"
    assert pgettext("unit after a number", " s") == " с"


def test_empty_and_fuzzy_entries_fall_back_to_english_never_to_an_empty_string(tmp_path):
    """Babel compiles a plural entry with empty forms as it is; the lookup still says English."""
    compile_po(
        r"""
msgid ""
msgstr ""
"Language: ru\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : "
"n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

msgid "Ready."
msgstr "Готово."

msgid "Not translated yet."
msgstr ""

#, fuzzy
msgid "Only a guess."
msgstr "Догадка."

msgid "{n} file"
msgid_plural "{n} files"
msgstr[0] ""
msgstr[1] ""
msgstr[2] ""

msgctxt "state"
msgid "on"
msgstr ""
""",
        tmp_path,
    )
    try:
        i18n.set_language("ru", tmp_path)
        assert _("Ready.") == "Готово."
        assert _("Not translated yet.") == "Not translated yet."
        assert _("Only a guess.") == "Only a guess."
        assert ngettext("{n} file", "{n} files", 1) == "{n} file"
        assert ngettext("{n} file", "{n} files", 3) == "{n} files"
        assert pgettext("state", "on") == "on"
    finally:
        i18n.set_language("en")


def test_a_catalog_that_was_never_compiled_shows_english_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="xdrconf.core.i18n"):
        try:
            i18n.set_language("ru", tmp_path)
            assert _("Tenant name") == "Tenant name"
        finally:
            i18n.set_language("en")
    assert "i18n.sh compile" in caplog.text


def test_lazy_texts_translate_when_displayed_not_when_created():
    i18n.set_language("en")
    label = N_("Tenant name")  # as a module-level constant is made: before the language
    unit = pN_("unit after a number", " s")
    proxy = N_("Proxy URL")
    i18n.set_language("ru")
    try:
        assert str(label) == "Имя тенанта"
        assert f"{label}" == "Имя тенанта" and f"{label:>13}" == "  Имя тенанта"
        assert f"[{label!s}]" == "[Имя тенанта]"
        assert "%s:" % label == "Имя тенанта:"  # noqa: UP031 - %-formatting is what is tested
        assert "{}: {x}".format(label, x=proxy) == "Имя тенанта: URL прокси-сервера"  # noqa: UP032
        assert label + ":" == "Имя тенанта:" and "* " + label == "* Имя тенанта"
        assert "10" + unit == "10 с"
        assert _(label) == "Имя тенанта" and _(unit) == " с"
        assert type(_(label)) is str and type(str(label)) is str
        # What programs read stays the msgid: equality, hashing, JSON.
        by_text: dict[object, int] = {label: 1}
        assert label == "Tenant name" and by_text["Tenant name"] == 1
        assert json.dumps({"title": label}) == '{"title": "Tenant name"}'
        assert label.msgid == "Tenant name" and unit.context == "unit after a number"
        assert repr(unit) == "N_('unit after a number', ' s')"
        for copied in (copy.deepcopy(unit), pickle.loads(pickle.dumps(unit))):
            assert copied.context == "unit after a number" and str(copied) == " с"
        form = N_("must be at most {limit} characters")
        assert form.format(limit=5) == "must be at most 5 characters"  # no Russian entry: English
        from xdrconf.core.errors import ValidationError

        assert str(ValidationError(label, _("must not be empty"))) == "Имя тенанта: не может быть пустым"
    finally:
        i18n.set_language("en")
    assert str(label) == "Tenant name" and f"{label}" == "Tenant name"


def test_a_filled_lazy_text_translates_its_template_and_its_lazy_values_when_displayed():
    from xdrconf.core.integrations.common import trust_page

    page = trust_page(N_("the KUMA Core server (KUMA signs it with its own CA)"))
    subtitle = page.subtitle
    assert subtitle.startswith("How xdrconf trusts the TLS certificate of the KUMA Core server")
    assert "Verification is never switched off" in subtitle  # equality and C code see English
    copied = pickle.loads(pickle.dumps(subtitle))
    i18n.set_language("ru")
    try:
        assert str(subtitle).startswith("Как xdrconf доверяет TLS-сертификату")
        assert str(copied) == str(subtitle) and str(page.title) == "Сертификат сервера"
    finally:
        i18n.set_language("en")
    assert str(subtitle) == subtitle


def test_lazy_texts_print_in_the_current_language(capsys, russian):
    print(N_("Settings"))
    assert capsys.readouterr().out == "Параметры\n"


# ---- choosing the language ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "env", "expected"),
    [
        (None, {}, ("en", "default")),
        (None, {"LANG": "ru_RU.UTF-8"}, ("ru", "system")),
        (None, {"LANG": "C.UTF-8"}, ("en", "system")),
        (None, {"LANG": "de_DE.UTF-8"}, ("en", "default")),
        (None, {"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, ("ru", "system")),
        (None, {"LC_MESSAGES": "en_GB", "LANG": "ru_RU"}, ("en", "system")),
        (None, {"LANGUAGE": "de:ru", "LANG": "en_US"}, ("ru", "system")),
        (None, {"LANGUAGE": "de", "LANG": "ru_RU"}, ("en", "default")),
        ("en", {"LANG": "ru_RU.UTF-8"}, ("en", "setting")),
        ("ru", {"LANG": "en_US.UTF-8"}, ("ru", "setting")),
        ("auto", {"LANG": "ru_RU.UTF-8"}, ("ru", "system")),
        ("ru", {"XDRCONF_LANG": "en", "LANG": "ru_RU.UTF-8"}, ("en", "XDRCONF_LANG")),
        (None, {"XDRCONF_LANG": "ru", "LANG": "en_US.UTF-8"}, ("ru", "XDRCONF_LANG")),
        (None, {"XDRCONF_LANG": "ru_RU.UTF-8"}, ("ru", "XDRCONF_LANG")),
        ("ru", {"XDRCONF_LANG": "auto"}, ("ru", "setting")),
        (None, {"XDRCONF_LANG": "de", "LANG": "ru_RU"}, ("ru", "system")),
    ],
)
def test_xdrconf_lang_beats_the_setting_beats_the_system_beats_english(setting, env, expected):
    choice = i18n.choose(setting, env)
    assert (choice.code, choice.source) == expected


def test_the_windows_and_macos_lookups_are_guarded():
    """On this machine neither API exists: the lookups say "not known", they do not fail."""
    assert i18n.system_language({}, platform="win32") is None
    assert i18n.system_language({}, platform="darwin") is None
    assert i18n.system_language({"LANG": "ru_RU"}, platform="win32") == "ru"


def test_the_language_setting_is_read_from_the_settings_folder(cli, config_dir):
    assert i18n.setting_in(config_dir) is None
    assert cli("config", "set", "language=ru").code == 0
    assert i18n.setting_in(config_dir) == "ru"
    assert json.loads(cli("config", "show", "--json").out)["language"] == "ru"
    r = cli("config", "set", "language=de")
    assert r.code == 2 and "language: one of: auto, en, ru" in r.err
    assert cli("config", "set", "language=auto").code == 0
    assert i18n.setting_in(config_dir) is None
    (config_dir / "settings.json").write_text("{not json")
    assert i18n.setting_in(config_dir) is None


def test_the_setting_turns_the_command_line_russian_and_xdrconf_lang_overrides_it(cli, monkeypatch):
    assert cli("config", "set", "language=ru").code == 0
    monkeypatch.delenv("XDRCONF_LANG")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    r = cli("tenant", "remove", "Root", "--yes")
    assert (r.code, r.err) == (2, "xdrconf: Корневой тенант нельзя удалить.\n")
    assert json.loads(cli("config", "show", "--json").out)["language_in_use"] == "ru"
    monkeypatch.setenv("XDRCONF_LANG", "en")
    r = cli("tenant", "remove", "Root", "--yes")
    assert (r.code, r.err) == (2, "xdrconf: The Root tenant cannot be removed.\n")


# ---- the command line ---------------------------------------------------------------------------
def run_xdrconf(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("XDRCONF_LANG", *i18n.SYSTEM_VARIABLES)}
    script = Path(sys.executable).with_name("xdrconf")  # the installed command
    command = [str(script)] if script.exists() else [sys.executable, "-m", "xdrconf"]
    return subprocess.run(
        [*command, *args],
        env={**base, "XDRCONF_CONFIG_DIR": str(tmp_path / "config"), **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_lang_ru_gives_a_russian_error_on_the_command_line(tmp_path):
    """`LANG=ru_RU.UTF-8 xdrconf tenant add ''`: the tenant name's message and the
    program's error line, end to end in a new process."""
    r = run_xdrconf(["tenant", "add", ""], {"LANG": "ru_RU.UTF-8"}, tmp_path)
    assert (r.returncode, r.stderr) == (2, "xdrconf: Имя тенанта: не может быть пустым\n")
    r = run_xdrconf(["tenant", "add", ""], {"LANG": "ru_RU.UTF-8", "XDRCONF_LANG": "en"}, tmp_path)
    assert (r.returncode, r.stderr) == (2, "xdrconf: Tenant name: must not be empty\n")
    r = run_xdrconf(["tenant", "add", ""], {}, tmp_path)
    assert r.stderr == "xdrconf: Tenant name: must not be empty\n"


def test_lang_ru_gives_russian_field_errors_and_outcome_words_on_the_command_line(tmp_path):
    """Under LANG=ru_RU.UTF-8 (whether or not the machine generated that locale: xdrconf reads
    the variable, it does not need setlocale) an integration's field error and a failed
    outcome are Russian, the outcome's category in the window's words; --json keeps the code."""
    r = run_xdrconf(
        ["integration", "set", "Root tenant", "tip", "cache_ttl=5"], {"LANG": "ru_RU.UTF-8"}, tmp_path
    )
    assert r.returncode == 2
    assert r.stderr.startswith(
        "xdrconf: Срок хранения в кеше: у «5» нет единицы: добавьте d (дни) или h (часы)"
    )
    port = str(closed_port())
    r = run_xdrconf(["custom", "host-keys", "127.0.0.1", "--ports", port], {"LANG": "ru_RU.UTF-8"}, tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith("FAIL Недоступен: Не удалось связаться с SSH-сервером на 127.0.0.1"), r.stderr
    r = run_xdrconf(
        ["custom", "host-keys", "127.0.0.1", "--ports", port, "--json"], {"LANG": "ru_RU.UTF-8"}, tmp_path
    )
    assert json.loads(r.stdout)["error"]["category"] == "unreachable"  # what a program reads


def parse(*args: str) -> tuple[int, str, str]:
    """`xdrconf ARGS` in this process up to argparse's exit: (status, stdout, stderr)."""
    import contextlib
    import io

    from xdrconf.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as caught,
    ):
        run(list(args))
    return int(caught.value.code or 0), out.getvalue(), err.getvalue()


def test_argparse_speaks_russian_too(monkeypatch, config_dir):
    monkeypatch.setenv("XDRCONF_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("XDRCONF_LANG", "ru")
    code, out, _err = parse("tenant", "--help")
    assert code == 0 and out.startswith("использование: xdrconf tenant")
    assert "позиционные аргументы:" in out and "\nпараметры:" in out
    assert re.search(r"-h, --help +показать эту справку и выйти", out)
    assert "--config-dir ПАПКА" in out  # the placeholders as the Russian messages name them
    code, _out, err = parse("tenant", "add")
    assert code == 2
    assert err.splitlines()[-1] == "xdrconf tenant add: ошибка: необходимо указать аргументы: ИМЯ"
    err = parse("integration", "show", "Root", "nope")[2]
    assert "аргумент ТИП: недопустимый вариант: 'nope' (выберите из 'kuma', 'kasap'," in err
    assert "показать номер версии программы и выйти" in parse("--help")[1]
    monkeypatch.setenv("XDRCONF_LANG", "en")
    err = parse("tenant", "add")[2]
    assert err.splitlines()[-1] == "xdrconf tenant add: error: the following arguments are required: NAME"


def test_counts_are_grouped_by_thousands_as_the_language_writes_them(russian):
    assert i18n.format_int(1001) == "1\u00a0001" and i18n.format_int(5) == "5"
    assert i18n.format_int(-1234567) == "-1\u00a0234\u00a0567"
    # The plural form is chosen on the number, the text takes it formatted: 1 001 тенант.
    for n, form in ((1001, "тенант"), (1002, "тенанта"), (1005, "тенантов"), (1011, "тенантов")):
        text = ngettext("{total} tenant", "{total} tenants", n).format(total=i18n.format_int(n))
        assert text == f"{i18n.format_int(n)} {form}"
    i18n.set_language("en")
    assert i18n.format_int(1001) == "1,001" and i18n.format_int(1234567) == "1,234,567"
    assert ngettext("{total} tenant", "{total} tenants", 1001).format(total=i18n.format_int(1001)) == (
        "1,001 tenants"
    )


# ---- Qt -------------------------------------------------------------------------------------------
def test_qt_standard_buttons_in_russian_and_the_language_in_settings(qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QDialogButtonBox

    from xdrconf.qt.app import apply_language
    from xdrconf.qt.settings_dialog import SettingsDialog

    monkeypatch.setenv("XDRCONF_LANG", "ru")
    assert apply_language(None) == "ru"
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    assert box.button(QDialogButtonBox.StandardButton.Cancel).text() == "Отмена"
    dialog = SettingsDialog({"timeout": 5.0, "language": "ru"})
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Параметры"
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "Отмена"
    assert dialog.language.currentData() == "ru" and dialog.language.currentText() == "Русский"
    note = dialog.language_note.text()
    assert "при следующем запуске" in note and "XDRCONF_LANG=ru" in note
    assert dialog.mode.itemText(0) == "Без прокси-сервера (прямое подключение)"
    dialog.language.setCurrentIndex(dialog.language.findData("auto"))
    assert dialog.values()["language"] is None
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    assert dialog.values()["language"] == "en"
    dialog.show()
    dialog.grab().save(str(tmp_path / "settings-ru.png"))

    monkeypatch.delenv("XDRCONF_LANG")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert apply_language(None) == "en"
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    assert box.button(QDialogButtonBox.StandardButton.Cancel).text() == "Cancel"
    dialog = SettingsDialog({})
    qtbot.addWidget(dialog)
    assert dialog.language.currentData() == "auto" and "XDRCONF_LANG" not in dialog.language_note.text()


def test_the_window_starts_in_the_language_of_the_settings(qtbot, monkeypatch, config_dir, keyring_backend):
    from PySide6.QtWidgets import QDialogButtonBox

    from xdrconf.core.workspace import Workspace
    from xdrconf.qt.app import start_gui
    from xdrconf.qt.settings_dialog import SettingsDialog

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as first:
        first.set_app(language="ru")
    monkeypatch.delenv("XDRCONF_LANG")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    window = start_gui(str(config_dir), keyring_backend=keyring_backend)
    qtbot.addWidget(window)
    try:
        assert i18n.language() == "ru"  # before the frame is painted (the settings opened after)
        qtbot.waitUntil(lambda: window.opened, timeout=10000)
        dialog = SettingsDialog(window.ws.app, window)
        assert dialog.language.currentData() == "ru"
        assert dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "Отмена"
        dialog.language.setCurrentIndex(dialog.language.findData("auto"))
        window.ws.set_app(**dialog.values())
        assert "language" not in window.ws.app
        dialog.reject()
    finally:
        if window.opened:
            window.ws.close()
    assert i18n.setting_in(config_dir) is None


# ---- the scanner ----------------------------------------------------------------------------------
def test_no_user_visible_literal_bypasses_the_mechanism_in_translated_modules(capsys):
    findings = i18n_audit.scan()
    total = sum(len(f) for f in findings.values())
    with capsys.disabled():
        print(
            f"\ni18n: {total} user-visible literals bypass the mechanism (bash packaging/i18n.sh status -v)"
        )
    bad = [str(f) for module in i18n_audit.TRANSLATED for f in findings.get(module, [])]
    assert bad == []


def test_the_scanner_finds_what_bypasses_and_passes_what_is_wrapped():
    source = """
from xdrconf.core.i18n import _, N_, ngettext
TITLE = N_("Fine: lazy")
def f(label, n, path):
    raise ValidationError("Host", "enter a host name")
    raise ValidationError(_("Host"), _("enter a host name"))
    raise TenantError(f"No tenant {path}.")
    QLabel("Plain English", parent)
    QLabel(_("Wrapped"), parent)
    w.setToolTip("Connect timeout" + label)
    w.setPlaceholderText("http://proxy.example.invalid:3128")
    w.setText(":")
    w.setText(_(f"Formatted {path} first"))
    w.setText(_("Then {path}").format(path=path))
    w.setWindowTitle("xdrconf")
    Field("host", "Host name", help=_("The server."), choices=(("a", "Choice A"),))
    print("Done.")  # i18n: ignore
    return Category.DNS, f"The host {path} is unknown."
def status_text():
    return "not checked"
for _ in range(3):
    pass
class OwnError(XdrconfError):
    pass
raise OwnError("Something broke.")
"""
    found = {(f.line, f.what) for f in i18n_audit.scan_source("xdrconf/qt/example.py", source)}
    assert found == {
        (5, "ValidationError"),
        (7, "TenantError"),
        (8, "QLabel"),
        (10, "setToolTip"),
        (13, "_() of a formatted text"),
        (16, "Field"),  # "Host name"
        (18, "outcome message"),
        (20, "status_text() returns"),
        (21, "'_' rebound"),
        (25, "OwnError"),
    }
    lines = [f.line for f in i18n_audit.scan_source("xdrconf/qt/example.py", source)]
    assert lines.count(16) == 2  # the label and the choice's label
    assert i18n_audit.scan_source("xdrconf/cli/example.py", 'print("Saved.")\n')
