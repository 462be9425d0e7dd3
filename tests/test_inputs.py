"""Inputs that cannot hurt (issue 12), through the command line: numbers are ASCII digits
only (never a traceback, never '٣٣' read as 33); FIELD=@path reads regular files only, up to
1 MiB, and its errors name the file and the problem, never its content; tenant names hold no
control or format characters and are not blank once invisible ones are set aside, while
right-to-left text stays allowed; a KUMA command's placeholder value cannot change the
request's path (a real KUMA peer records what arrives)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support.kuma_peer import GOOD_TOKEN

# superscript, circled, Arabic-Indic, fullwidth, Devanagari
NOT_ASCII_NUMBERS = ["²", "①", "٣٣", "\uff13\uff13", "७"]


@pytest.fixture
def acme(cli):
    assert cli("tenant", "add", "Acme").code == 0
    return "Acme"


def refused(r, *words: str) -> None:
    assert r.code == 2, r
    assert "Traceback" not in r.err and r.out == ""
    for w in words:
        assert w in r.err, r.err


@pytest.mark.parametrize("digits", NOT_ASCII_NUMBERS)
def test_numbers_are_ascii_digits_only(cli, acme, config_dir, digits):
    refused(cli("integration", "set", "Acme", "kuma", "host=127.0.0.1", f"port={digits}"), "Port:", digits)
    refused(cli("integration", "set", "Acme", "custom", f"ports=22,{digits}"), "Ports:")
    refused(cli("integration", "set", "Root", "tip", f"cache_ttl={digits}d"), "Cache TTL:")
    refused(cli("kata", "add", "Acme", "127.0.0.1", "--port", digits), "Port:")
    refused(cli("config", "set", f"timeout={digits}"), "timeout:")
    refused(cli("check", "--timeout", digits), "--timeout:")
    shown = json.loads(cli("integration", "show", "Acme", "kuma", "--json").out)
    assert "port" not in shown["settings"] or shown["settings"]["port"] == 7223  # never 33


def test_ascii_numbers_still_work(cli, acme):
    assert cli("integration", "set", "Acme", "kuma", "host=127.0.0.1", "port=7443").code == 0
    shown = json.loads(cli("integration", "show", "Acme", "kuma", "--json").out)
    assert shown["settings"]["port"] == 7443


# ---- FIELD=@path --------------------------------------------------------------------------------------
def test_a_device_is_refused_before_anything_is_read(cli, acme):
    refused(
        cli("integration", "set", "Acme", "kuma", "host=@/dev/zero"),
        "KUMA Core host:",
        "/dev/zero",
        "not a regular file",
    )
    refused(
        cli("integration", "set", "Acme", "kuma", "tls_ca=@/dev/urandom", "--secret", "token"), "/dev/urandom"
    )


def test_a_fifo_is_refused_without_waiting_for_a_writer(cli, acme, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(cli("integration", "set", "Acme", "kuma", f"host=@{fifo}"), str(fifo), "not a regular file")


def test_proc_and_sys_files_are_refused(cli, acme):
    refused(cli("integration", "set", "Acme", "kuma", "host=@/proc/self/environ"), "system file")
    refused(cli("integration", "set", "Acme", "kuma", "tls_ca=@/sys/kernel/uevent_seqnum"), "system file")


def test_a_folder_a_missing_file_and_a_large_file(cli, acme, tmp_path):
    refused(cli("integration", "set", "Acme", "kuma", f"host=@{tmp_path}"), "is a folder")
    refused(cli("integration", "set", "Acme", "kuma", f"host=@{tmp_path / 'nope'}"), "does not exist")
    big = tmp_path / "big.pem"
    with big.open("wb") as fh:
        fh.truncate(1024 * 1024 + 1)
    refused(cli("integration", "set", "Acme", "kuma", f"tls_ca=@{big}"), "larger than 1 MiB")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    refused(cli("integration", "set", "Acme", "kuma", f"host=@{binary}"), "is not UTF-8 text")


SHADOW_LIKE = (
    "root:$6$Kq0PZcanarySALT$9aXbYcanaryHASHvalue0123456789abcdefghijklmnopqrstuvwxyzABCD.:19800:0:99999:7:::\n"
    "daemon:*:19800:0:99999:7:::\n"
)


def test_an_error_about_a_file_never_holds_its_content(cli, acme, tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW_LIKE)
    for field in ("host", "port", "tls_pin_sha256", "tls_ca", "api_version"):
        r = cli("integration", "set", "Acme", "kuma", f"{field}=@{shadow}")
        refused(r, str(shadow))
        for line in SHADOW_LIKE.splitlines():
            assert line not in r.err and "canary" not in r.err, r.err
    one_line = tmp_path / "host.txt"
    one_line.write_text("not a host!\n")
    r = cli("integration", "set", "Acme", "kuma", f"host=@{one_line}")
    refused(r, "KUMA Core host:", str(one_line), "does not hold a valid value")
    assert "not a host!" not in r.err


@pytest.mark.skipif(not Path("/etc/shadow").is_file(), reason="no /etc/shadow here")
def test_the_real_etc_shadow(cli, acme):
    r = cli("integration", "set", "Acme", "kuma", "host=@/etc/shadow")
    refused(r, "/etc/shadow")
    try:
        lines = [line for line in Path("/etc/shadow").read_text().splitlines() if len(line) >= 4]
    except PermissionError:
        lines = []
    for line in lines:
        assert line not in r.err


def test_a_file_value_that_is_good_is_read(cli, acme, tmp_path, test_ca):
    host = tmp_path / "host.txt"
    host.write_text("kuma.example.invalid\n")
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    assert cli("integration", "set", "Acme", "kuma", f"host=@{host}", f"tls_ca=@{ca}").code == 0
    assert json.loads(cli("integration", "show", "Acme", "kuma", "--json").out)["settings"]["host"] == (
        "kuma.example.invalid"
    )


def test_an_import_file_that_is_a_device_or_nested_too_deeply(cli, tmp_path):
    refused(cli("import", "/dev/zero"), "Import file", "not a regular file")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    refused(cli("import", str(deep)), "nested too deeply")
    nan = tmp_path / "nan.json"
    nan.write_text('{"schema": "xdrconf-export", "version": NaN, "tenants": []}')
    refused(cli("import", str(nan)), "NaN is not a JSON number")


# ---- tenant names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "\u200b\u200b",  # zero-width spaces only
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "Acme\u202egpj.exe",  # a bidi override hiding what the name says
        "\u2066Acme\u2069",  # isolates
        "\x1b[31mRed",  # a terminal escape
        "A\x00B",
        "A\x9b31mB",  # a C1 control (CSI)
        "\ufeffAcme",  # BOM / zero-width no-break space
        "\u3164",  # Hangul filler: a "letter" that shows nothing
        "\u2800\u2800",  # Braille blank
        "\u0301",  # a combining mark alone
    ],
)
def test_invisible_or_control_characters_in_tenant_names_are_refused(cli, config_dir, name):
    refused(cli("tenant", "add", name), "Tenant name:")
    assert cli("tenant", "add", "Acme").code == 0
    refused(cli("tenant", "rename", "Acme", name), "Tenant name:")
    names = [t["name"] for t in json.loads(cli("tenant", "list", "--json").out)]
    assert names == ["Root tenant", "Acme", "Shared"]


@pytest.mark.parametrize("name", ["شركة الأمن", "חברת אבטחה", "Acme (فرع دبي)", "Ünïcödé Кириллица"])
def test_right_to_left_and_other_scripts_stay_allowed(cli, name):
    r = cli("tenant", "add", name)
    assert r.code == 0, r
    assert name in [t["name"] for t in json.loads(cli("tenant", "list", "--json").out)]


def test_an_import_cannot_bring_such_a_name(cli, tmp_path):
    doc = {
        "schema": "xdrconf-export",
        "version": 1,
        "tenants": [{"path": "Root tenant/\u202eevil", "integrations": {}}],
    }
    path = tmp_path / "names.json"
    path.write_text(json.dumps(doc))
    refused(cli("import", str(path)), "Tenant name:")


# ---- KUMA command placeholders ---------------------------------------------------------------------------
@pytest.fixture
def get_alert(cli, kuma_cli):
    r = cli("command", "add", "Acme", "Get alert", "--method", "GET", "--path", "alerts/<Alert ID>/events")
    assert r.code == 0, r
    return kuma_cli


@pytest.mark.parametrize(
    "value",
    [
        "..",
        ".",
        "%2e%2e",
        "%2E%2E",
        ".%2e",
        "%252e%252e",
        "../users",
        "a/b",
        "a%2Fb",
        "a%252Fb",
        "a?b",
        "a#b",
        "a\\b",
        "",
    ],
)
def test_a_placeholder_value_cannot_change_the_path(cli, get_alert, value):
    before = len(get_alert.requests)
    r = cli("command", "run", "Acme", "Get alert", "--param", f"Alert ID={value}")
    refused(r, "<Alert ID>", "would change the request's path")
    assert len(get_alert.requests) == before  # nothing was sent


def test_a_placeholder_value_stays_one_path_segment_and_one_query_value(cli, get_alert):
    r = cli("command", "run", "Acme", "Get alert", "--param", "Alert ID=a b+c&d=e")
    assert r.code == 1, r  # the peer has no such route: 404, but the request went as one segment
    sent = get_alert.requests[-1]
    assert sent.path == "/api/v1/alerts/a%20b%2Bc%26d%3De/events"
    assert sent.headers["Authorization"] == f"Bearer {GOOD_TOKEN}"
    r = cli(
        "command", "add", "Acme", "Find", "--method", "GET", "--path", "alerts", "--query", "id=<Alert ID>"
    )
    assert r.code == 0, r
    r = cli("command", "run", "Acme", "Find", "--param", "Alert ID=x&status=closed#y")
    assert r.code == 0, r
    assert get_alert.requests[-1].query == {"id": ["x&status=closed#y"]}
