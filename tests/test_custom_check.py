"""The custom integration's check against a real OpenSSH sshd on loopback: the host key is
verified before any credential leaves, the host-key type is restricted to the pinned one,
password and key authentication, ports tried in order, and one category for each failure."""

from __future__ import annotations

import contextlib
import getpass
import logging
import socket
import threading

import pytest

from support import sshd as sshd_support
from support.https_peer import SilentPeer, closed_port
from support.sshd import Sshd, auth_lines, make_key
from xdrconf.core.engine import run_operation
from xdrconf.core.errors import ValidationError
from xdrconf.core.integrations.custom.keys import parse_public_key
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit

pytestmark = pytest.mark.skipif(sshd_support.available() is not None, reason=str(sshd_support.available()))

PASSWORD = "Corr3ct-Horse-Battery"
PASSPHRASE = "key passphrase 42"
needs_root = pytest.mark.skipif(
    not sshd_support.running_as_root(),
    reason="password authentication needs a local test user; creating one needs root",
)


@pytest.fixture(scope="module")
def client_keys():
    return {
        "plain": make_key("ed25519", comment="plain"),
        "encrypted": make_key("rsa", passphrase=PASSPHRASE, comment="encrypted"),
        "encrypted_pem": make_key("ecdsa", passphrase=PASSPHRASE, pem=True, comment="encrypted-pem"),
        "stranger": make_key("ed25519", comment="not authorized"),
    }


@pytest.fixture(scope="module")
def test_user():
    if not sshd_support.running_as_root():
        yield None
        return
    yield sshd_support.ensure_test_user(PASSWORD)
    sshd_support.remove_test_user()


@pytest.fixture(scope="module")
def server(tmp_path_factory, client_keys, test_user):
    """One sshd with Ed25519, RSA and ECDSA host keys, key and password authentication."""
    authorized = tuple(client_keys[k].public_line for k in ("plain", "encrypted", "encrypted_pem"))
    with Sshd(
        tmp_path_factory.mktemp("sshd"),
        host_keys=("ed25519", "rsa", "ecdsa"),
        authorized=authorized,
        password_auth=True,
    ) as s:
        yield s


def me() -> str:
    return getpass.getuser()


def configure(
    ws,
    ports,
    *,
    pin=None,
    verify=True,
    auth="key",
    username=None,
    password=None,
    key=None,
    passphrase=None,
    command=None,
    host="127.0.0.1",
    tenant="Acme",
):
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    ports = ports if isinstance(ports, (list, tuple)) else [ports]
    values = {
        "host": host,
        "ports": ",".join(str(p) for p in ports),
        "verify_host": "true" if verify else "false",
        "host_public_key": pin,
        "auth": auth,
        "username": username or me(),
        "test_command": command,
    }
    secrets = {}
    if password is not None:
        secrets["password"] = password
    if key is not None:
        secrets["private_key"] = key
    if passphrase is not None:
        secrets["key_passphrase"] = passphrase
    ws.update_integration(tenant, IntegrationEdit("custom", values=values, secrets=secrets, enabled=True))
    return ws.tenant(tenant).id


def check(ws, tid, **kw):
    [result] = run_operation(ws, tid, "custom", **kw)
    return result


@pytest.mark.parametrize("pin_type", ["ed25519", "rsa", "ecdsa"])
def test_correct_pin_of_each_type_is_ok_on_a_server_with_several_host_keys(ws, server, client_keys, pin_type):
    tid = configure(
        ws, server.port, pin=server.public_line(pin_type), key=client_keys["plain"].private_openssh
    )
    mark = server.mark()
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    pinned = parse_public_key(server.public_line(pin_type))
    assert "host key verified" in r.message and pinned.fingerprint in r.message
    assert r.details["seen_host_key"] == pinned.line
    assert r.target == f"127.0.0.1:{server.port}"
    log = server.log_since(mark)
    assert "Accepted publickey for" in log  # the log does show authentication when it happens


def test_wrong_pin_is_host_key_mismatch_and_no_authentication_is_attempted(ws, server, client_keys):
    impostor = make_key("ed25519").public_no_comment
    tid = configure(ws, server.port, pin=impostor, key=client_keys["plain"].private_openssh)
    mark = server.mark()
    r = check(ws, tid)
    assert r.category is Category.HOST_KEY_MISMATCH, r.message
    assert parse_public_key(impostor).fingerprint in r.message
    assert parse_public_key(server.public_line("ed25519")).fingerprint in r.message
    assert "no credential was sent" in r.message
    log = server.log_since(mark)
    assert "KEX done" in log, log  # the connection did reach the server and finish key exchange
    assert auth_lines(log) == [], log


@needs_root
def test_wrong_pin_with_password_auth_sends_no_password(ws, server, test_user):
    impostor = make_key("rsa").public_no_comment
    tid = configure(ws, server.port, pin=impostor, auth="password", username=test_user, password=PASSWORD)
    mark = server.mark()
    r = check(ws, tid)
    assert r.category is Category.HOST_KEY_MISMATCH, r.message
    log = server.log_since(mark)
    assert "KEX done" in log
    assert auth_lines(log) == [], log


def test_server_without_a_key_of_the_pinned_type_is_a_mismatch(ws, tmp_path, client_keys):
    with Sshd(
        tmp_path / "ed-only", host_keys=("ed25519",), authorized=(client_keys["plain"].public_line,)
    ) as only_ed:
        tid = configure(
            ws, only_ed.port, pin=make_key("rsa").public_no_comment, key=client_keys["plain"].private_openssh
        )
        mark = only_ed.mark()
        r = check(ws, tid)
        log = only_ed.log_since(mark, until="Connection closed", timeout=2)
    assert r.category is Category.HOST_KEY_MISMATCH, r.message
    assert "offers no ssh-rsa host key" in r.message
    assert auth_lines(log) == [], log


def test_verification_off_reports_the_seen_key_and_says_not_verified(ws, server, client_keys):
    tid = configure(ws, server.port, verify=False, key=client_keys["plain"].private_openssh)
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert "NOT verified" in r.message
    seen = parse_public_key(r.details["seen_host_key"])
    assert seen.line in {server.public_line(k) for k in ("ed25519", "rsa", "ecdsa")}
    assert seen.fingerprint in r.message
    assert r.details["verified"] is False
    # The seen key can be pinned as it is.
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "custom", values={"verify_host": "true", "host_public_key": r.details["seen_host_key"]}
        ),
    )
    again = check(ws, tid)
    assert again.ok and "host key verified" in again.message


@needs_root
def test_password_right_runs_test_command(ws, server, test_user):
    tid = configure(
        ws,
        server.port,
        pin=server.public_line("ed25519"),
        auth="password",
        username=test_user,
        password=PASSWORD,
        command="true",
    )
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert "exit status 0" in r.message and test_user in r.message
    assert r.details["exit_status"] == 0


@needs_root
def test_password_wrong_is_auth_failed(ws, server, test_user):
    tid = configure(
        ws,
        server.port,
        pin=server.public_line("ed25519"),
        auth="password",
        username=test_user,
        password="Wrong-Password-1",
    )
    mark = server.mark()
    r = check(ws, tid)
    assert r.category is Category.AUTH_FAILED, r.message
    assert "Wrong-Password-1" not in r.message
    assert "Failed password for" in server.log_since(mark)


@needs_root
def test_no_secret_in_logs(ws, server, test_user, client_keys, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="paramiko")  # whatever another test left it at
    tid = configure(
        ws,
        server.port,
        pin=server.public_line("ed25519"),
        auth="password",
        username=test_user,
        password=PASSWORD,
    )
    assert check(ws, tid).ok
    configure(
        ws,
        server.port,
        pin=server.public_line("ed25519"),
        key=client_keys["encrypted"].private_openssh,
        passphrase=PASSPHRASE,
    )
    assert check(ws, tid).ok
    assert "paramiko" in caplog.text  # paramiko did log at DEBUG ...
    assert PASSWORD not in caplog.text  # ... but never a secret
    assert PASSPHRASE not in caplog.text
    assert client_keys["encrypted"].private_openssh.splitlines()[2] not in caplog.text


@pytest.mark.parametrize("which", ["encrypted", "encrypted_pem"])
def test_encrypted_key_with_right_passphrase_is_ok(ws, server, client_keys, which):
    tid = configure(
        ws,
        server.port,
        pin=server.public_line("rsa"),
        key=client_keys[which].private_openssh,
        passphrase=PASSPHRASE,
        command="true",
    )
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert "exit status 0" in r.message


def test_encrypted_key_with_wrong_passphrase_is_invalid_config_and_nothing_connects(ws, server, client_keys):
    tid = configure(
        ws,
        server.port,
        pin=server.public_line("ed25519"),
        key=client_keys["encrypted"].private_openssh,
        passphrase="not the passphrase",
    )
    mark = server.mark()
    r = check(ws, tid)
    assert r.category is Category.INVALID_CONFIG, r.message
    assert r.message.startswith("Key passphrase:")
    assert "not the passphrase" not in r.message
    assert "Connection from" not in server.log_since(mark, until="never", timeout=0.3)


def test_encrypted_key_without_passphrase_is_invalid_config(ws, server, client_keys):
    tid = configure(
        ws, server.port, pin=server.public_line("ed25519"), key=client_keys["encrypted"].private_openssh
    )
    r = check(ws, tid)
    assert r.category is Category.INVALID_CONFIG
    assert "Key passphrase" in r.message and "no passphrase is stored" in r.message


def test_key_not_authorized_is_auth_failed(ws, server, client_keys):
    tid = configure(
        ws, server.port, pin=server.public_line("ed25519"), key=client_keys["stranger"].private_openssh
    )
    r = check(ws, tid)
    assert r.category is Category.AUTH_FAILED, r.message
    assert "authorized_keys" in r.message


def test_failing_test_command_reports_its_exit_status(ws, server, client_keys):
    tid = configure(
        ws,
        server.port,
        pin=server.public_line("ed25519"),
        key=client_keys["plain"].private_openssh,
        command="echo broken-script >&2; exit 3",
    )
    r = check(ws, tid)
    assert r.category is Category.SERVER_ERROR, r.message
    assert "exit status 3" in r.message and "broken-script" in r.message
    assert r.details["exit_status"] == 3


def test_slow_test_command_times_out(ws, server, client_keys):
    tid = configure(
        ws,
        server.port,
        pin=server.public_line("ed25519"),
        key=client_keys["plain"].private_openssh,
        command="sleep 30",
    )
    r = check(ws, tid, timeout=1.0)
    assert r.category is Category.TIMEOUT, r.message
    assert "test command" in r.message


def test_closed_port_is_unreachable(ws, client_keys):
    a, b = closed_port(), closed_port()
    tid = configure(
        ws, [a, b], pin=make_key("ed25519").public_no_comment, key=client_keys["plain"].private_openssh
    )
    r = check(ws, tid)
    assert r.category is Category.UNREACHABLE, r.message
    assert str(a) in r.message and str(b) in r.message


def test_first_port_closed_second_is_used(ws, server, client_keys):
    closed = closed_port()
    tid = configure(
        ws, [closed, server.port], pin=server.public_line("ed25519"), key=client_keys["plain"].private_openssh
    )
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert r.target == f"127.0.0.1:{server.port}"
    assert r.details["port"] == server.port


def test_dns_failure(ws, client_keys):
    tid = configure(
        ws,
        22,
        host="scripts.does-not-exist.invalid",
        pin=make_key("ed25519").public_no_comment,
        key=client_keys["plain"].private_openssh,
    )
    assert check(ws, tid).category is Category.DNS


def test_silent_port_times_out(ws, client_keys):
    with SilentPeer() as silent:
        tid = configure(
            ws,
            silent.port,
            pin=make_key("ed25519").public_no_comment,
            key=client_keys["plain"].private_openssh,
        )
        r = check(ws, tid, timeout=0.5)
    assert r.category is Category.TIMEOUT, r.message


class GarbagePeer:
    """Answers every connection with an HTTP error page and closes: not an SSH server."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    def __enter__(self) -> GarbagePeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone may not)
        self.sock.close()
        self._thread.join(2)


def test_non_ssh_service_is_protocol_error(ws, client_keys):
    with GarbagePeer() as peer:
        tid = configure(
            ws, peer.port, pin=make_key("ed25519").public_no_comment, key=client_keys["plain"].private_openssh
        )
        r = check(ws, tid, timeout=2)
    assert r.category is Category.PROTOCOL_ERROR, r.message


def test_cancel_during_handshake(ws, client_keys):
    with SilentPeer() as silent:
        tid = configure(
            ws,
            silent.port,
            pin=make_key("ed25519").public_no_comment,
            key=client_keys["plain"].private_openssh,
        )
        cancel = threading.Event()
        threading.Timer(0.2, cancel.set).start()
        r = check(ws, tid, timeout=30, cancel=cancel)
    assert r.category is Category.CANCELLED


# ---- settings validation ---------------------------------------------------------------------------
def test_verification_on_requires_a_public_key(ws, client_keys):
    ws.add_tenant("Acme")
    with pytest.raises(ValidationError) as info:
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "custom",
                values={"host": "scripts.example.invalid", "auth": "key", "username": "soar"},
                secrets={"private_key": client_keys["plain"].private_openssh},
                enabled=True,
            ),
        )
    assert info.value.field == "host_public_key"


def test_auth_method_requires_its_secret(ws, client_keys):
    ws.add_tenant("Acme")
    pin = make_key("ed25519").public_no_comment
    with pytest.raises(ValidationError) as info:
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "custom",
                values={
                    "host": "h.example.invalid",
                    "host_public_key": pin,
                    "auth": "password",
                    "username": "soar",
                },
                enabled=True,
            ),
        )
    assert info.value.field == "password"
    with pytest.raises(ValidationError) as info:
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "custom",
                values={
                    "host": "h.example.invalid",
                    "host_public_key": pin,
                    "auth": "key",
                    "username": "soar",
                },
                secrets={"password": "x"},
                enabled=True,
            ),
        )
    assert info.value.field == "private_key"
    with pytest.raises(ValidationError) as info:
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "custom",
                values={"host": "h.example.invalid", "host_public_key": pin, "auth": "key"},
                secrets={"private_key": client_keys["plain"].private_openssh},
                enabled=True,
            ),
        )
    assert info.value.field == "username"


def test_partial_settings_can_be_saved_while_off(ws):
    """Step by step (host now, credentials later) works while the integration is off; turning
    it on then needs the rest."""
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme", IntegrationEdit("custom", values={"host": "h.example.invalid", "auth": "password"})
    )
    assert ws.tenant("Acme").integrations["custom"].settings["host"] == "h.example.invalid"
    with pytest.raises(ValidationError):
        ws.set_enabled("Acme", "custom", True)
    assert not ws.tenant("Acme").integrations["custom"].enabled


def test_bad_public_key_is_refused_at_save_naming_the_field(ws, client_keys):
    ws.add_tenant("Acme")
    with pytest.raises(ValidationError) as info:
        ws.update_integration(
            "Acme",
            IntegrationEdit(
                "custom",
                values={
                    "host": "h.example.invalid",
                    "host_public_key": "example.invalid " + make_key("ed25519").public_no_comment,
                    "auth": "key",
                    "username": "soar",
                },
                secrets={"private_key": client_keys["plain"].private_openssh},
            ),
        )
    assert info.value.label == "Public key" and "known_hosts" in str(info.value)


def test_private_key_is_stored_in_the_keyring_not_the_settings(ws, client_keys, config_dir):
    big = make_key("rsa", passphrase=PASSPHRASE)  # > 1000 characters: AES-GCM file + key in keyring
    assert len(big.private_openssh) > 1000
    tid = configure(
        ws, 22, pin=make_key("ed25519").public_no_comment, key=big.private_openssh, passphrase=PASSPHRASE
    )
    assert ws.secret(ws.tree.get(tid), "custom", "private_key") == big.private_openssh
    for path in config_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert big.private_openssh.splitlines()[1].encode() not in data
            assert PASSPHRASE.encode() not in data


# ---- reading the host's keys (ssh-keyscan) ------------------------------------------------------
def test_read_host_keys_returns_every_type_and_never_authenticates(ws, server):
    from xdrconf.core.integrations.custom.ssh import read_host_keys

    mark = server.mark()
    found = read_host_keys(ws, "127.0.0.1", [closed_port(), server.port], timeout=5)
    assert found.failure is None
    assert found.port == server.port
    assert sorted(k.line for k in found.keys) == sorted(
        server.public_line(k) for k in ("ed25519", "rsa", "ecdsa")
    )
    log = server.log_when(
        mark, lambda text: [ln.strip() for ln in text.splitlines()].count("debug1: do_cleanup") >= 5
    )
    assert log.count("KEX done") == 3
    assert auth_lines(log) == [], log


def test_read_host_keys_of_nothing_is_unreachable(ws):
    from xdrconf.core.integrations.custom.ssh import read_host_keys

    found = read_host_keys(ws, "127.0.0.1", [closed_port()], timeout=2)
    assert found.keys == [] and found.failure is not None
    assert found.failure.category is Category.UNREACHABLE


def test_ipv6_loopback(ws, tmp_path, client_keys):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("::1 is not configured")
    with Sshd(
        tmp_path / "v6", host_keys=("ecdsa",), authorized=(client_keys["plain"].public_line,), listen="::1"
    ) as v6:
        tid = configure(
            ws, v6.port, host="::1", pin=v6.public_line("ecdsa"), key=client_keys["plain"].private_openssh
        )
        r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert r.target == f"[::1]:{v6.port}"


def test_verification_off_is_flagged_on_the_tenant(ws, client_keys):
    tid = configure(ws, 22, verify=False, key=client_keys["plain"].private_openssh)
    flags = ws.flags(ws.tree.get(tid))
    assert [(k, f.level) for k, f in flags] == [("custom", "warning")]
    assert "not verified" in flags[0][1].message
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "custom", values={"verify_host": "true", "host_public_key": make_key("ed25519").public_line}
        ),
    )
    assert ws.flags(ws.tree.get(tid)) == []
