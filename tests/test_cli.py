"""The command line over the same core: tenants, integrations, secrets in, export/import,
checks and exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support.https_peer import HttpsPeer
from support.kuma_peer import GOOD_TOKEN, KumaApi
from xdrconf.core import catalog


def test_tenant_lifecycle(cli):
    assert cli("tenant", "add", "EU").code == 0
    assert cli("tenant", "add", "Acme", "--parent", "EU").code == 0
    assert cli("tenant", "add", "Beta").code == 0
    r = cli("tenant", "list", "--json")
    paths = [t["path"] for t in json.loads(r.out)]
    assert paths == ["Root tenant", "Root tenant/EU", "Root tenant/EU/Acme", "Root tenant/Beta", "Shared"]
    assert cli("tenant", "rename", "Acme", "Acme Corp").code == 0
    assert cli("tenant", "move", "Acme Corp", "Beta").code == 0
    text = cli("tenant", "list").out
    assert "    Acme Corp" in text.splitlines()[text.splitlines().index("  Beta") + 1]
    r = cli("tenant", "remove", "Beta")
    assert r.code == 2 and "child tenant" in r.err
    r = cli("tenant", "remove", "Acme Corp")
    assert r.code == 2 and "--yes" in r.err  # no terminal: confirmation must be explicit
    assert cli("tenant", "remove", "Acme Corp", "--yes").code == 0
    assert cli("tenant", "remove", "Beta", "--yes").code == 0


@pytest.mark.parametrize(
    "args,needle",
    [
        (("tenant", "add", "  "), "Tenant name: must not be empty"),
        (("tenant", "add", "X", "--parent", "Nope"), "No tenant named 'Nope'"),
        (("tenant", "remove", "Root", "--yes"), "cannot be removed"),
        (("tenant", "move", "Root", "Shared"), "cannot be moved"),
    ],
)
def test_tenant_errors_exit_2_with_one_line(cli, args, needle):
    r = cli(*args)
    assert r.code == 2
    assert needle in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_secret_on_command_line_is_refused(cli):
    cli("tenant", "add", "T")
    r = cli("integration", "set", "T", "kuma", "host=k.example.invalid", "token=abc123")
    assert r.code == 2
    assert "--secret token" in r.err and "abc123" not in r.err
    assert "abc123" not in cli("integration", "show", "T", "kuma", "--json").out


def test_set_with_secret_from_stdin_and_show(cli, config_dir):
    cli("tenant", "add", "T")
    r = cli(
        "integration",
        "set",
        "T",
        "kuma",
        "host=kuma.example.invalid",
        "port=7223",
        "api_version=v2",
        "--secret",
        "token",
        stdin="s3cr3t-token-value\n",
    )
    assert r.code == 0, r
    data = json.loads(cli("integration", "show", "T", "kuma", "--json").out)
    assert data["settings"] == {"host": "kuma.example.invalid", "port": 7223, "api_version": "v2"}
    assert data["secrets"] == {"token": "set"}
    assert cli("integration", "enable", "T", "kuma").code == 0
    listing = json.loads(cli("integration", "list", "T", "--json").out)
    kuma = next(i for i in listing if i["integration"] == "kuma")
    assert kuma["enabled"] and kuma["configured"]
    # Every integration of the product is built: the listing names them all as supported.
    assert {i["integration"] for i in listing} == {s.kind for s in catalog.all_specs()}
    assert all(i["supported"] for i in listing), listing
    for path in config_dir.rglob("*"):
        if path.is_file():
            assert b"s3cr3t-token-value" not in path.read_bytes(), path


@pytest.mark.parametrize(
    "words",
    [
        ("--secret", "token", "host=kuma.example.invalid", "port=7223"),
        ("host=kuma.example.invalid", "--secret", "token", "port=7223"),
        ("host=kuma.example.invalid", "port=7223", "--secret", "token"),
        ("--subtree", "host=kuma.example.invalid", "--secret", "token", "port=7223"),
    ],
    ids=["secret-first", "secret-between", "secret-last", "subtree-first"],
)
def test_set_takes_options_and_fields_in_any_order(cli, words):
    """`integration set T kuma --secret token host=x` is what the help promises as much as
    the fields first: options and FIELD=VALUE words in any order."""
    cli("tenant", "add", "T")
    r = cli("integration", "set", "T", "kuma", *words, stdin="token-in-any-order\n")
    assert r.code == 0, r
    data = json.loads(cli("integration", "show", "T", "kuma", "--json").out)
    assert (data["settings"]["host"], data["settings"]["port"]) == ("kuma.example.invalid", 7223)
    assert data["secrets"] == {"token": "set"}


def test_an_unknown_option_after_the_fields_is_still_refused(cli):
    cli("tenant", "add", "T")
    with pytest.raises(SystemExit) as done:
        cli("integration", "set", "T", "kuma", "host=kuma.example.invalid", "--bogus", "port=1")
    assert done.value.code == 2
    assert "host" not in json.loads(cli("integration", "show", "T", "kuma", "--json").out)["settings"]


def test_field_from_file_and_clear(cli, tmp_path, test_ca):
    cli("tenant", "add", "T")
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    assert cli("integration", "set", "T", "kuma", "host=k.example.invalid", f"tls_ca=@{ca}").code == 0
    data = json.loads(cli("integration", "show", "T", "kuma", "--json").out)
    assert "BEGIN CERTIFICATE" in data["settings"]["tls_ca"]
    assert cli("integration", "set", "T", "kuma", "tls_ca=").code == 0
    assert "tls_ca" not in json.loads(cli("integration", "show", "T", "kuma", "--json").out)["settings"]
    r = cli("integration", "set", "T", "kuma", f"tls_ca=@{tmp_path / 'missing.pem'}")
    assert r.code == 2 and "does not exist" in r.err


@pytest.mark.parametrize(
    "pair,needle",
    [
        ("port=0", "Port: 0 is out of range"),
        ("port=abc", "Port: 'abc' is not a number"),
        ("host=bad_host!", "KUMA Core host: 'bad_host!' is not a valid host name"),
        ("api_version=v9", "API version: 'v9' is not one of"),
        ("tls_pin_sha256=1234", "Pinned SHA-256 fingerprint: expected 64 hexadecimal digits"),
        ("nosuch=1", "'nosuch' is not a field of KUMA REST API"),
    ],
)
def test_bad_values_name_the_field(cli, pair, needle):
    cli("tenant", "add", "T")
    r = cli("integration", "set", "T", "kuma", pair)
    assert r.code == 2 and needle in r.err, r


def test_enable_incomplete_integration_is_refused(cli):
    cli("tenant", "add", "T")
    cli("integration", "set", "T", "kuma", "host=k.example.invalid")
    r = cli("integration", "enable", "T", "kuma")
    assert r.code == 2 and "API token" in r.err


def test_empty_secret_from_stdin_is_refused(cli):
    cli("tenant", "add", "T")
    r = cli("integration", "set", "T", "kuma", "--secret", "token", stdin="")
    assert r.code == 2 and "API token" in r.err


def test_export_has_no_secrets_and_import_lists_them(cli, tmp_path, config_dir):
    cli("tenant", "add", "EU")
    cli("tenant", "add", "Acme", "--parent", "EU")
    cli(
        "integration",
        "set",
        "Acme",
        "kuma",
        "host=k.example.invalid",
        "--secret",
        "token",
        stdin="tok-export-1\n",
    )
    cli("integration", "enable", "Acme", "kuma")
    out = tmp_path / "export.json"
    assert cli("export", "-o", str(out)).code == 0
    text = out.read_text()
    assert "tok-export-1" not in text
    doc = json.loads(text)
    acme = next(t for t in doc["tenants"] if t["path"] == "Root tenant/EU/Acme")
    assert acme["integrations"]["kuma"]["secrets_set"] == ["token"]
    assert all(len(v) < 40 or "BEGIN" in v for v in _strings(doc))  # no keyring references either
    other = tmp_path / "other"
    other.mkdir()
    r = cli("import", str(out), config=other)
    assert r.code == 0, r
    assert "Root tenant/EU/Acme: KUMA REST API — token" in r.out
    data = json.loads(cli("integration", "show", "EU/Acme", "kuma", "--json", config=other).out)
    assert data["settings"]["host"] == "k.example.invalid"
    assert data["enabled"] is False and data["secrets"]["token"] == "not set"
    sub = cli("export", "--tenant", "EU")
    assert [t["path"] for t in json.loads(sub.out)["tenants"]] == ["Root tenant/EU", "Root tenant/EU/Acme"]


def _strings(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k != "exported_at":
                yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def test_import_rejects_bad_files(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    r = cli("import", str(bad))
    assert r.code == 2 and "not valid JSON" in r.err
    bad.write_text('{"schema": "other"}')
    r = cli("import", str(bad))
    assert r.code == 2 and "not an xdrconf export" in r.err


def test_check_json_and_exit_statuses(cli, server_cert, test_ca, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    with HttpsPeer(KumaApi(), cert=server_cert) as peer:
        cli("tenant", "add", "Good")
        cli(
            "integration",
            "set",
            "Good",
            "kuma",
            "host=127.0.0.1",
            f"port={peer.port}",
            f"tls_ca=@{ca}",
            "--secret",
            "token",
            stdin=GOOD_TOKEN + "\n",
        )
        cli("integration", "enable", "Good", "kuma")
        r = cli("check", "Good", "kuma", "--json")
        assert r.code == 0, r
        [item] = json.loads(r.out)
        assert set(item) == {
            "tenant",
            "integration",
            "operation",
            "target",
            "category",
            "ok",
            "message",
            "warnings",
            "verified",
            "latency_ms",
            "checked_at",
        }
        assert item["operation"] == "check" and item["warnings"] == [] and item["verified"] is True
        assert item["category"] == "ok" and item["ok"] is True and item["tenant"] == "Root tenant/Good"
        cli("tenant", "add", "Bad")
        cli(
            "integration",
            "set",
            "Bad",
            "kuma",
            "host=127.0.0.1",
            f"port={peer.port}",
            f"tls_ca=@{ca}",
            "--secret",
            "token",
            stdin="wrong\n",
        )
        cli("integration", "enable", "Bad", "kuma")
        r = cli("check", "--json")
        assert r.code == 1
        cats = {(i["tenant"], i["category"]) for i in json.loads(r.out)}
        assert cats == {("Root tenant/Good", "ok"), ("Root tenant/Bad", "auth_failed")}
        r = cli("check", "Bad")
        assert r.code == 1 and "Authentication failed" in r.out and "wrong" not in r.out  # the window's words
    # the last result is kept and shown
    shown = json.loads(cli("integration", "show", "Good", "kuma", "--json").out)
    assert shown["last_check"]["category"] == "ok"
    assert cli("check", "Nope").code == 2
    assert cli("check", "--timeout", "-1").code == 2


def test_check_nothing_enabled(cli):
    r = cli("check")
    assert r.code == 0 and "Nothing to check" in r.out


def test_config_settings(cli):
    assert (
        cli(
            "config",
            "set",
            "timeout=5",
            "proxy_mode=manual",
            "proxy_url=http://proxy.example.invalid:3128",
            "no_proxy=localhost,.corp",
        ).code
        == 0
    )
    data = json.loads(cli("config", "show", "--json").out)
    assert data["timeout"] == 5 and data["proxy"]["no_proxy"] == ["localhost", ".corp"]
    r = cli("config", "set", "proxy_mode=manual", "proxy_url=")
    assert r.code == 2 and "needs proxy_url" in r.err


def test_corrupt_settings_message_and_restore(cli, config_dir):
    cli("tenant", "add", "One")
    cli("tenant", "add", "Two")
    (config_dir / "settings.json").write_text("{broken")
    r = cli("tenant", "list")
    assert "was kept as settings.corrupt-" in r.err and "restore-backup" in r.err
    assert cli("config", "restore-backup").code == 0
    assert "One" in cli("tenant", "list").out


def test_entry_point_runs_as_module_and_env_config_dir(tmp_path, keyring_backend):
    env = dict(os.environ, XDRCONF_CONFIG_DIR=str(tmp_path / "envcfg"))
    out = subprocess.run(
        [sys.executable, "-m", "xdrconf", "tenant", "add", "ViaEnv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "envcfg" / "settings.json").exists()
    usage = subprocess.run(
        [sys.executable, "-m", "xdrconf", "tenant"], env=env, capture_output=True, text=True, timeout=60
    )
    assert usage.returncode == 2


def test_locked_folder_refuses_changes_but_reads(cli, ws):
    r = cli("tenant", "add", "X")
    assert r.code == 2 and "open in another xdrconf" in r.err
    assert cli("tenant", "list").code == 0


@pytest.mark.parametrize(
    "argv,expected",
    [
        ([], (True, None)),
        (["--config-dir", "/x"], (True, "/x")),
        (["--config-dir=/x"], (True, "/x")),
        (["--version"], (False, None)),
        (["-h"], (False, None)),
        (["--config-dir", "/x", "tenant", "list"], (False, None)),
        (["tenant"], (False, None)),
    ],
)
def test_window_or_command_line(argv, expected):
    from xdrconf.__main__ import _gui_config_dir

    assert _gui_config_dir(argv) == expected


def test_version_and_help_do_not_open_the_window():
    # In a process of its own: main() switches core dumps off for good (core.process), which
    # must not happen to the test run (tests/test_process.py needs to allow them).
    proc = subprocess.run(
        [sys.executable, "-c", "from xdrconf.__main__ import main; main(['--version'])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "xdrconf" in proc.stdout, proc
