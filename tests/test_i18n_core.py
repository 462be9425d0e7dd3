"""The core's own texts in Russian, through the real paths a person meets them on: KUMA's
fields and operations in `xdrconf kuma --help`, the keyring in words (`config show`) and
what removing a tenant takes away (issue 16). The vault's texts in Russian:
tests/test_vault_cli.py."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from xdrconf.core import i18n

TOKEN = "kuma-token-for-the-i18n-test"


def test_kuma_fields_and_operations_in_russian_on_the_command_line(cli, monkeypatch):
    """`xdrconf kuma --help` under XDRCONF_LANG=ru: the spec's module-level texts (N_) are
    Russian when shown, a field error names the Russian label, the store is said in Russian."""
    monkeypatch.setenv("XDRCONF_LANG", "ru")
    from xdrconf.cli.main import run

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit) as done:
        run(["kuma", "--help"])
    out = shown.getvalue()
    assert done.value.code == 0
    assert "REST API KUMA, через который коннектор SOAR получает новые алерты" in out
    assert "Хост Ядра KUMA" in out and "Версия API" in out
    assert "Получить инциденты: Получить алерты с их событиями" in out
    assert "Выполнить команду коннектора" in out
    assert "значение для каждой подстановки команды" in out
    assert "Receive incidents" not in out and "KUMA Core host" not in out
    assert cli("tenant", "add", "Acme").code == 0
    r = cli("integration", "set", "Acme", "kuma", "host=bad_host!")
    assert r.code == 2 and r.err.startswith("xdrconf: Хост Ядра KUMA: "), r.err
    show = json.loads(cli("config", "show", "--json").out)
    assert show["secret_store_status"] == "Связка ключей ОС: Secret Service"


def test_removal_summary_in_russian_names_the_store_and_counts(ws, monkeypatch):
    """What removing a tenant takes away, one sentence per integration, the number in the
    right Russian form (1 секрет) and the store named."""
    from xdrconf.core.workspace import IntegrationEdit

    ws.add_tenant("Acme")
    edit = IntegrationEdit(
        "kuma", values={"host": "kuma.acme.invalid"}, secrets={"token": TOKEN}, enabled=True
    )
    ws.update_integration("Acme", edit)
    i18n.set_language("ru")
    assert ws.removal_summary("Acme") == [
        "Тенант «Root tenant/Acme»",
        "Интеграция «REST API KUMA» (включена); из связки ключей ОС будет удален 1 секрет",
    ]
    i18n.set_language("en")
    assert (
        ws.removal_summary("Acme")[1]
        == "KUMA REST API integration (on), 1 secret deleted from the OS keyring"
    )
