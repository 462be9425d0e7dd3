"""The command line in Russian, end to end: the installed `xdrconf` in a new process under
LANG=ru_RU.UTF-8 (or XDRCONF_LANG=ru), its help, its errors and its plain output read back.
What a program reads (--json keys and values, exit statuses) stays English."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import i18n_audit
from xdrconf.core import catalog, i18n

KIND_WORDS = {part for kind in catalog.KINDS for part in kind.split("-")}


def xdrconf(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("XDRCONF_LANG", *i18n.SYSTEM_VARIABLES)}
    script = Path(sys.executable).with_name("xdrconf")  # the installed command
    command = [str(script)] if script.exists() else [sys.executable, "-m", "xdrconf"]
    return subprocess.run(
        [*command, *args],
        env={**base, "XDRCONF_CONFIG_DIR": str(tmp_path / "config"), "LANG": "ru_RU.UTF-8", **env},
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def english_words(text: str) -> list[str]:
    """The English words of a help text, leaving out what is typed as it is: options,
    KEY=VALUE and a|b forms, commands, subcommand names, quoted choices, file names."""
    text = re.sub(r"--?[\w-]+", " ", text)
    text = re.sub(r"\S*[=|]\S*", " ", text)
    text = re.sub(r"\w+\.\w+", " ", text)
    text = re.sub(r"xdrconf( [\w-]+)*", " ", text)
    text = re.sub(r"^ {2,6}[\w-]+", " ", text, flags=re.M)
    text = re.sub(r"'[^']*'", " ", text)
    words = set(re.findall(r"\b[A-Za-z][a-z]+\b", text))
    return sorted(words - i18n_audit.PRODUCT_WORDS - KIND_WORDS)


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("tenant", "--help"),
        ("tenant", "add", "--help"),
        ("integration", "--help"),
        ("integration", "set", "--help"),
        ("integration", "show", "--help"),
        ("check", "--help"),
        ("export", "--help"),
        ("config", "--help"),
        ("config", "set", "--help"),
        ("kuma", "receive", "--help"),
    ],
)
def test_the_help_of_the_command_line_is_russian(tmp_path, args):
    r = xdrconf(tmp_path, *args)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("использование: xdrconf")
    assert english_words(r.stdout) == [], r.stdout


def test_the_main_help_and_integration_set_read_in_russian(tmp_path):
    out = xdrconf(tmp_path, "--help").stdout
    assert "Настройка и проверка интеграций Kaspersky Next XDR Expert и KUMA" in out
    assert re.search(r"tenant +просмотр и изменение тенантов", out)
    assert "папка параметров (по умолчанию — XDRCONF_CONFIG_DIR" in out
    assert "показать эту справку и выйти" in out  # argparse's own words, from the catalog
    out = xdrconf(tmp_path, "integration", "set", "--help").stdout
    # The placeholders are in the words of the messages (ТЕНАНТ, ПОЛЕ=ЗНАЧЕНИЕ), as GNU tools
    # translate theirs; what is typed as it stands (options, kinds, field names) stays.
    assert "ТЕНАНТ ТИП [ПОЛЕ=ЗНАЧЕНИЕ ...]" in out and "[--secret ПОЛЕ]" in out
    assert "позиционные аргументы:" in out and "прочитать этот секрет со стандартного ввода" in out
    assert "xdrconf ТИП --help (типы: kuma, kasap, tip," in " ".join(out.split())


def test_the_placeholders_of_usages_are_those_of_the_messages(tmp_path):
    """Usage lines name what to type in the words the Russian messages use for it."""
    out = xdrconf(tmp_path, "alerts", "--help").stdout
    assert "xdrconf alerts close ТЕНАНТ ИД_АЛЕРТА --reason ПРИЧИНА [--json]" in out
    assert "xdrconf alerts ТЕНАНТ [--status {new,assigned,closed,escalated}] [--json]" in out
    assert "ПРИЧИНА — одно из значений:" in " ".join(out.split())
    assert "[--timeout СЕКУНДЫ]" in xdrconf(tmp_path, "check", "--help").stdout
    r = xdrconf(tmp_path, "alerts", "close", "Root tenant")
    assert r.returncode == 2 and "ТЕНАНТ" in r.stderr and "TENANT" not in r.stderr


def test_a_kinds_help_names_the_kinds_of_values_in_russian(tmp_path):
    out = xdrconf(tmp_path, "custom", "--help").stdout
    assert "  ports — Порты (порты; обязательно; по умолчанию: 22)" in out
    assert "(да/нет; по умолчанию: true)" in out
    # the condition is what is typed: verify_host=true, not the Russian word for it
    assert "когда verify_host=true" in out


def test_errors_of_the_command_line_are_russian(tmp_path):
    r = xdrconf(tmp_path, "integration", "set", "Root tenant", "tip", "cache_ttl")
    assert (r.returncode, r.stderr) == (2, "xdrconf: «cache_ttl» — не ПОЛЕ=ЗНАЧЕНИЕ\n")
    r = xdrconf(tmp_path, "integration", "set", "Root tenant", "tip", XDRCONF_LANG="ru", LANG="en_US.UTF-8")
    assert (r.returncode, r.stderr) == (
        2,
        "xdrconf: нечего задавать: укажите пары ПОЛЕ=ЗНАЧЕНИЕ или --secret ПОЛЕ\n",
    )
    r = xdrconf(tmp_path, "check", "", "tip")
    assert r.returncode == 2 and r.stderr.startswith("Примечание: Проверка запрашивает на портале"), r.stderr
    assert r.stderr.splitlines()[-1] == "xdrconf: Нет тенанта с именем «» (см. 'xdrconf tenant list')."
    r = xdrconf(tmp_path, "config", "set", "secret_store=usb")
    assert (r.returncode, r.stderr) == (2, "xdrconf: secret_store: одно из значений keyring, vault\n")
    r = xdrconf(tmp_path, "tenant", "rename", "Root tenant")
    assert r.returncode == 2
    assert (
        r.stderr.splitlines()[-1] == "xdrconf tenant rename: ошибка: необходимо указать аргументы: НОВОЕ_ИМЯ"
    )


def test_settings_open_elsewhere_are_said_in_russian(tmp_path, keyring_backend):
    """The lock file holds the holder's English line ("pid N, since …", as every version
    writes it); the one locked out says it in Russian from its fields."""
    from xdrconf.core.workspace import Workspace

    config = tmp_path / "config"
    with Workspace.open(config, keyring_backend=keyring_backend):
        written = (config / "xdrconf.lock").read_text()
        assert re.fullmatch(rf"pid {os.getpid()}, since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d", written)
        since = written.split("since ", 1)[1]
        r = xdrconf(tmp_path, "tenant", "add", "Acme", XDRCONF_LANG="ru")
        assert r.returncode == 2
        assert r.stderr == (
            f"xdrconf: Параметры в {config} открыты в другом xdrconf (процесс {os.getpid()}, "
            f"с {since}); сначала закройте его, иначе изменения здесь могут перезаписать его работу.\n"
        )
        (config / "xdrconf.lock").write_text("held by something else")  # not what xdrconf writes
        r = xdrconf(tmp_path, "tenant", "add", "Acme", XDRCONF_LANG="ru")
        assert r.returncode == 2 and "(другой процесс)" in r.stderr, r.stderr


def test_a_broken_import_file_is_said_in_russian(tmp_path):
    """The JSON parser's and the system's own words are English: both said in Russian."""
    (tmp_path / "broken.json").write_text('{"a" 1}', encoding="utf-8")
    r = xdrconf(tmp_path, "import", str(tmp_path / "broken.json"))
    assert (r.returncode, r.stderr) == (
        2,
        "xdrconf: Файл импорта: недопустимый JSON (ожидалось «:», строка 1).\n",
    )
    r = xdrconf(tmp_path, "import", str(tmp_path / "broken.json" / "x"))
    assert r.returncode == 2 and r.stderr.endswith("(часть пути не является папкой)\n"), r.stderr


def test_plain_output_is_russian_and_json_stays_english(tmp_path):
    assert xdrconf(tmp_path, "tenant", "add", "Acme").returncode == 0
    r = xdrconf(tmp_path, "tenant", "rename", "Acme", "Acme 2")
    assert (r.returncode, r.stdout) == (0, "Тенант переименован: «Root tenant/Acme 2».\n")
    r = xdrconf(tmp_path, "integration", "set", "Acme 2", "tip", "cache_ttl=2h")
    assert r.stdout == (
        "Kaspersky Threat Intelligence Portal тенанта «Root tenant/Acme 2»: заданы cache_ttl.\n"
    ), r.stderr
    r = xdrconf(tmp_path, "integration", "set", "Root tenant", "tip", "cache_ttl=3h", "--subtree")
    assert r.stdout == (
        "Kaspersky Threat Intelligence Portal: заданы cache_ttl — 2 тенанта, одним изменением: "
        "«Root tenant», «Root tenant/Acme 2».\n"
    ), r.stderr
    r = xdrconf(tmp_path, "integration", "set", "Acme 2", "tip", "cache_ttl=2h")
    out = xdrconf(tmp_path, "integration", "show", "Acme 2", "tip").stdout
    assert "  включена: нет\n" in out and "  token: не задан\n" in out and "  не задано: " in out
    out = xdrconf(tmp_path, "integration", "list", "Acme 2").stdout
    assert re.search(r"^tip +Kaspersky Threat Intelligence Portal +выключена, не настроена$", out, re.M)
    data = json.loads(xdrconf(tmp_path, "integration", "show", "Acme 2", "tip", "--json").stdout)
    assert data["secrets"]["token"] == "not set" and data["enabled"] is False
    out = xdrconf(tmp_path, "config", "show").stdout
    assert f"Папка параметров: {tmp_path / 'config'}\n" in out
    assert "Тайм-аут (timeout): 10 с\n" in out and "Язык (language): auto; используется: ru\n" in out
    data = json.loads(xdrconf(tmp_path, "config", "show", "--json").stdout)
    assert data["config_dir"] == str(tmp_path / "config") and data["language_in_use"] == "ru"
    r = xdrconf(tmp_path, "tenant", "remove", "Acme 2")  # no terminal: needs --yes
    assert r.returncode == 2 and r.stderr.startswith(
        "xdrconf: удаление тенанта нужно подтвердить: добавьте --yes"
    )
    r = xdrconf(tmp_path, "check")
    assert (r.returncode, r.stdout) == (0, "Проверять нечего: ни одна интеграция не включена.\n")


def test_the_scanner_reads_parser_texts_set_after_the_parser_was_made():
    source = 'p.epilog = "Exit status: 0 success."\np.description = _("Wrapped.")\np.usage = "xdrconf x"\n'
    found = [(f.line, f.what) for f in i18n_audit.scan_source("xdrconf/cli/example.py", source)]
    assert found == [(1, "parser text")]


def test_a_certificate_is_described_in_russian(test_ca):
    """What `xdrconf kata add` and the window's fetched certificate show, line by line."""
    from xdrconf.core.net import describe_certificate

    own = test_ca.issue(("old.invalid",), self_signed=True, expired=True)
    i18n.set_language("ru")
    try:
        lines = describe_certificate(own.der).lines()
    finally:
        i18n.set_language("en")
    assert lines[0].startswith("Субъект: CN=old.invalid")
    assert lines[1].startswith("Издатель: CN=old.invalid") and lines[1].endswith(" (самоподписанный)")
    assert lines[2].startswith("Действителен: с ") and lines[2].endswith(" — СРОК ИСТЕК")
    assert lines[3].startswith("SHA-256: ")  # the window leaves this line out by its start
    english = describe_certificate(own.der).lines()
    assert english[1].endswith(" (self-signed)") and english[2].endswith(" — EXPIRED")


def test_drift_names_kata_connections_in_russian(tmp_path):
    (tmp_path / "pass").write_text("correct horse battery staple 42\n", encoding="utf-8")
    (tmp_path / "pass").chmod(0o600)
    env = {"XDRCONF_VAULT_PASSPHRASE_FILE": str(tmp_path / "pass")}
    assert xdrconf(tmp_path, "config", "set", "secret_store=vault", **env).returncode == 0
    assert xdrconf(tmp_path, "tenant", "add", "Acme", **env).returncode == 0
    r = xdrconf(tmp_path, "kata", "add", "Acme", "127.0.0.1", **env)
    assert r.returncode == 0, r.stderr
    assert "\n  Подключение: 127.0.0.1:443\n" in r.stdout and "\n  Субъект: " in r.stdout
    out = xdrconf(tmp_path, "drift", "Acme", **env).stdout
    assert re.search(r"^    переопределено Подключения «[0-9a-f-]{36}»: задано только здесь$", out, re.M), out
