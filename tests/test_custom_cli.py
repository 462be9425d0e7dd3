"""The custom integration end to end through the command line, against a real sshd."""

from __future__ import annotations

import getpass
import json

import pytest

from support import sshd as sshd_support
from support.https_peer import closed_port
from support.sshd import Sshd, make_key

pytestmark = pytest.mark.skipif(sshd_support.available() is not None, reason=str(sshd_support.available()))

PASSPHRASE = "cli passphrase 7"


@pytest.fixture
def setup(tmp_path):
    client = make_key("rsa", passphrase=PASSPHRASE)
    with Sshd(tmp_path / "sshd", host_keys=("ed25519", "rsa"), authorized=(client.public_line,)) as server:
        key_file = tmp_path / "id_rsa"
        key_file.write_text(client.private_openssh)
        pub_file = tmp_path / "host.pub"
        pub_file.write_text(server.host_keys["ed25519"].public_line + "\n")
        yield server, key_file, pub_file


def test_set_and_check_with_encrypted_key_over_two_ports(cli, setup):
    server, key_file, pub_file = setup
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "integration",
        "set",
        "Acme",
        "custom",
        "host=127.0.0.1",
        f"ports={closed_port()},{server.port}",
        "verify_host=true",
        f"host_public_key=@{pub_file}",
        "auth=key",
        f"username={getpass.getuser()}",
        f"private_key=@{key_file}",
        "test_command=true",
        "--secret",
        "key_passphrase",
        stdin=PASSPHRASE + "\n",
    )
    assert r.code == 0, r
    assert cli("integration", "enable", "Acme", "custom").code == 0
    shown = cli("integration", "show", "Acme", "custom", "--json")
    data = json.loads(shown.out)
    assert data["secrets"] == {"password": "not set", "private_key": "set", "key_passphrase": "set"}
    assert data["settings"]["host_public_key"] == server.public_line("ed25519")
    assert PASSPHRASE not in shown.out and "PRIVATE KEY" not in shown.out
    r = cli("check", "Acme", "custom", "--json")
    assert r.code == 0, r
    [result] = json.loads(r.out)
    assert result["category"] == "ok"
    assert "exit status 0" in result["message"] and "host key verified" in result["message"]
    assert result["target"] == f"127.0.0.1:{server.port}"


def test_wrong_pin_fails_the_check_with_exit_1(cli, setup):
    server, key_file, pub_file = setup
    pub_file.write_text(make_key("ed25519").public_line)
    cli("tenant", "add", "Acme")
    r = cli(
        "integration",
        "set",
        "Acme",
        "custom",
        "host=127.0.0.1",
        f"ports={server.port}",
        f"host_public_key=@{pub_file}",
        "auth=key",
        f"username={getpass.getuser()}",
        f"private_key=@{key_file}",
        "--secret",
        "key_passphrase",
        stdin=PASSPHRASE + "\n",
    )
    assert r.code == 0, r
    cli("integration", "enable", "Acme", "custom")
    r = cli("check", "Acme", "custom")
    assert r.code == 1
    assert "Not the pinned host key" in r.out  # the category in the window's words


def test_known_hosts_line_is_refused_with_its_reason(cli, setup):
    server, key_file, pub_file = setup
    pub_file.write_text(f"[127.0.0.1]:{server.port} {server.public_line('ed25519')}\n")
    cli("tenant", "add", "Acme")
    r = cli(
        "integration",
        "set",
        "Acme",
        "custom",
        "host=127.0.0.1",
        f"host_public_key=@{pub_file}",
        "auth=key",
        "username=soar",
        f"private_key=@{key_file}",
    )
    assert r.code != 0
    assert "Public key" in r.err and "known_hosts" in r.err


def test_password_on_the_command_line_is_refused(cli):
    cli("tenant", "add", "Acme")
    r = cli("integration", "set", "Acme", "custom", "password=hunter2")
    assert r.code == 2
    assert "--secret password" in r.err


def test_key_info_prints_like_ssh_keygen(cli, setup, tmp_path):
    _server, key_file, pub_file = setup
    import shutil
    import subprocess

    r = cli("custom", "key-info", str(pub_file))
    assert r.code == 0, r
    if shutil.which("ssh-keygen"):
        want = subprocess.run(["ssh-keygen", "-lf", str(pub_file)], capture_output=True, text=True).stdout
        assert r.out.strip() == want.strip()
    r = cli("custom", "key-info", str(key_file))
    assert r.code == 2 and "private key" in r.err


def test_verification_off_then_pin_the_seen_key(cli, setup):
    server, key_file, _pub_file = setup
    cli("tenant", "add", "Acme")
    r = cli(
        "integration",
        "set",
        "Acme",
        "custom",
        "host=127.0.0.1",
        f"ports={server.port}",
        "verify_host=false",
        "auth=key",
        f"username={getpass.getuser()}",
        f"private_key=@{key_file}",
        "--secret",
        "key_passphrase",
        stdin=PASSPHRASE + "\n",
    )
    assert r.code == 0, r
    cli("integration", "enable", "Acme", "custom")
    r = cli("check", "Acme", "custom")
    assert r.code == 0, r
    assert "NOT verified" in r.out
    r = cli("custom", "pin", "Acme")
    assert r.code == 2 and "--yes" in r.err and "SHA256:" in r.out
    r = cli("custom", "pin", "Acme", "--yes")
    assert r.code == 0, r
    data = json.loads(cli("integration", "show", "Acme", "custom", "--json").out)
    assert data["settings"]["verify_host"] is True
    assert data["settings"]["host_public_key"] in {server.public_line("ed25519"), server.public_line("rsa")}
    r = cli("check", "Acme", "custom")
    assert r.code == 0 and "host key verified" in r.out


def test_host_keys_reads_without_logging_in(cli, setup):
    server, _key_file, _pub_file = setup
    r = cli("custom", "host-keys", "127.0.0.1", "--ports", f"{closed_port()},{server.port}", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["port"] == server.port and data["error"] is None
    assert sorted(k["line"] for k in data["keys"]) == sorted(
        server.public_line(t) for t in ("ed25519", "rsa")
    )
    r = cli("custom", "host-keys", "127.0.0.1", "--ports", str(closed_port()))
    assert r.code == 1 and "FAIL Unreachable" in r.err
    r = cli("custom", "host-keys", "127.0.0.1", "--ports", "99999")
    assert r.code == 2 and "Ports" in r.err
