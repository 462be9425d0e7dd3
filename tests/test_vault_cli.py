"""Choosing and moving the secret store, and the vault on the command line: secrets moved
between the OS keyring and the vault all or nothing (the second write made to fail for
real), a plaintext keyring never used, a machine with no D-Bus at all, the passphrase from
a private file or typed on a terminal without echo, and `xdrconf` without a display."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import secret_service
from support.kuma_peer import GOOD_TOKEN
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.vault import KdfParams
from xdrconf.core.workspace import IntegrationEdit, Workspace

PASSPHRASE = "move-me-across 7 times"
FAST = KdfParams(memory_kib=8 * 1024, iterations=2, parallelism=1)
TOKEN = "kuma-token-for-moving-42"


def giving(passphrase: str):
    def unlock(store, creating):
        (store.create if creating else store.unlock)(passphrase)

    return unlock


def vault_entries(path: Path, passphrase: str = PASSPHRASE) -> dict[str, str]:
    from pykeepass import PyKeePass

    return {"/".join(e.path): e.password for e in PyKeePass(str(path), password=passphrase).entries}


def break_settings_save(config_dir: Path) -> Path:
    """The settings' save fails for real: its backup's place is taken by a folder that is
    not empty, so replacing it fails (root ignores permission bits; this it cannot)."""
    backup = config_dir / "settings.json.bak"
    backup.unlink(missing_ok=True)
    backup.mkdir()
    (backup / "in-the-way").write_text("x")
    return backup


@pytest.fixture
def kws(config_dir, keyring_backend):
    w = Workspace.open(config_dir, keyring_backend=keyring_backend, vault_kdf=FAST)
    w.secrets.vault.unlocker = giving(PASSPHRASE)
    yield w
    w.close()


def test_move_keyring_to_vault_and_back_all_or_nothing(kws, config_dir, keyring_backend):
    ws = kws
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": TOKEN})
    )
    conn = kata.add_connection(ws, "Acme", "kata.example.invalid", 443, "rsa2048")  # a blob in the keyring
    key_pem = kata.private_key(ws, "Acme", conn["id"])
    assert ws.app["secret_store"] == "keyring"
    keyring_refs = sorted(ws.tenant("Acme").integrations["kuma"].secrets.values())
    kata_ref = ws.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])]
    assert kata_ref.startswith("blob:")
    db = config_dir / "secrets.kdbx"

    # 1. keyring -> vault, the settings' save fails: nothing changes anywhere.
    backup = break_settings_save(config_dir)
    settings = (config_dir / "settings.json").read_bytes()
    with pytest.raises(OSError):
        ws.move_secrets("vault")
    assert (config_dir / "settings.json").read_bytes() == settings
    assert not db.exists()  # the vault created for the move is gone again
    assert ws.app["secret_store"] == "keyring"
    assert ws.secret(ws.tenant("Acme"), "kuma", "token") == TOKEN
    assert kata.private_key(ws, "Acme", conn["id"]) == key_pem
    assert secret_service.held(keyring_backend, ws.secrets.service, keyring_refs[0]) == TOKEN

    # 2. keyring -> vault for real: the keyring entries (and the blob file) are gone.
    shutil.rmtree(backup)
    report = ws.move_secrets("vault")
    assert (report.kind, report.moved, report.missing) == ("vault", 2, 0)
    assert ws.app["secret_store"] == "vault"
    assert keyring_backend.get_password(ws.secrets.service, keyring_refs[0]) is None
    assert secret_service.entries_of(ws.secrets.service) == []
    assert not list((config_dir / "secrets").glob("*.bin"))
    assert vault_entries(db) == {
        "Root tenant/Acme/KUMA REST API / API token": TOKEN,
        f"Root tenant/Acme/KATA/KEDR / private key, XDR ID {conn['id']}": key_pem,
    }
    refs = [r for st in ws.tenant("Acme").integrations.values() for r in st.secrets.values()]
    assert all(r.startswith("vault:") for r in refs)

    # 3. vault -> keyring, the settings' save fails: the vault keeps everything, the keyring
    #    keeps nothing new.
    backup = break_settings_save(config_dir)
    settings = (config_dir / "settings.json").read_bytes()
    with pytest.raises(OSError):
        ws.move_secrets("keyring")
    assert (config_dir / "settings.json").read_bytes() == settings
    assert len(vault_entries(db)) == 2
    assert secret_service.entries_of(ws.secrets.service) == []
    assert not list((config_dir / "secrets").glob("*.bin"))
    assert ws.app["secret_store"] == "vault"

    # 4. vault -> keyring for real.
    shutil.rmtree(backup)
    report = ws.move_secrets("keyring")
    assert (report.kind, report.moved) == ("keyring", 2)
    assert vault_entries(db) == {}
    assert ws.secret(ws.tenant("Acme"), "kuma", "token") == TOKEN
    assert kata.private_key(ws, "Acme", conn["id"]) == key_pem
    assert len(secret_service.entries_of(ws.secrets.service)) == 2


def run_cli(args, env, *, stdin: str = "", cfg: Path, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xdrconf", "--config-dir", str(cfg), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,  # no controlling terminal
    )


def passphrase_file(tmp_path: Path, text: str = PASSPHRASE, mode: int = 0o600) -> Path:
    path = tmp_path / "vault-passphrase"
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def test_move_to_a_locked_keyring_changes_nothing(tmp_path):
    """vault -> keyring when the keyring stays locked: refused in one line, nothing moved."""
    if not shutil.which("gnome-keyring-daemon"):
        pytest.skip("gnome-keyring-daemon is not installed")
    cfg = tmp_path / "cfg"
    with secret_service.locked_session() as env:
        env["XDRCONF_VAULT_PASSPHRASE_FILE"] = str(passphrase_file(tmp_path))
        assert run_cli(["tenant", "add", "T"], env, cfg=cfg).returncode == 0
        proc = run_cli(
            ["integration", "set", "T", "kuma", "host=kuma.example.invalid", "--secret", "token"],
            env,
            cfg=cfg,
            stdin=TOKEN + "\n",
        )
        assert proc.returncode == 0, proc.stderr
        assert "created the vault" in proc.stderr
        settings, vault = (cfg / "settings.json").read_bytes(), (cfg / "secrets.kdbx").read_bytes()
        proc = run_cli(["config", "set", "secret_store=keyring"], env, cfg=cfg)
        assert proc.returncode == 2, proc
        assert proc.stderr.count("\n") == 1 and "locked" in proc.stderr and "Nothing was moved" in proc.stderr
        assert (cfg / "settings.json").read_bytes() == settings
        assert (cfg / "secrets.kdbx").read_bytes() == vault
        show = json.loads(run_cli(["config", "show", "--json"], env, cfg=cfg).stdout)
        assert show["secret_store"] == "vault"
        assert show["secret_store_status"] == "Vault: secrets.kdbx, locked"
    assert vault_entries(cfg / "secrets.kdbx") == {"Root tenant/T/KUMA REST API / API token": TOKEN}


def no_dbus_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_KEYRING_BACKEND", "DISPLAY")}
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-such-bus"
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return env


def test_no_dbus_at_all_uses_the_vault(tmp_path):
    """No D-Bus: keyring has only its fail backend (and keyrings.alt's file keyrings, which
    xdrconf refuses): the vault, said in words, holds the token; no keyring file is made."""
    cfg = tmp_path / "cfg"
    env = no_dbus_env(tmp_path)
    show = run_cli(["config", "show"], env, cfg=cfg)
    assert show.returncode == 0, show.stderr
    assert "Secret store: Vault: secrets.kdbx, not created yet" in show.stdout
    assert "fail" not in show.stdout.lower()
    env["XDRCONF_VAULT_PASSPHRASE_FILE"] = str(passphrase_file(tmp_path))
    assert run_cli(["tenant", "add", "Acme"], env, cfg=cfg).returncode == 0
    proc = run_cli(
        ["integration", "set", "Acme", "kuma", "host=kuma.example.invalid", "--secret", "token"],
        env,
        cfg=cfg,
        stdin=TOKEN + "\n",
    )
    assert proc.returncode == 0, proc.stderr
    show = json.loads(run_cli(["config", "show", "--json"], env, cfg=cfg).stdout)
    assert (show["secret_store"], show["secret_store_status"]) == ("vault", "Vault: secrets.kdbx, locked")
    assert vault_entries(cfg / "secrets.kdbx") == {"Root tenant/Acme/KUMA REST API / API token": TOKEN}
    assert not (tmp_path / "data").exists() or not any(p.is_file() for p in (tmp_path / "data").rglob("*"))


def test_a_plaintext_keyring_is_never_used(tmp_path):
    """PYTHON_KEYRING_BACKEND names keyrings.alt's PlaintextKeyring: xdrconf keeps the secret
    in the vault, and refuses to move secrets to that keyring."""
    cfg = tmp_path / "cfg"
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDRCONF_VAULT_PASSPHRASE_FILE"] = str(passphrase_file(tmp_path))
    assert run_cli(["tenant", "add", "Acme"], env, cfg=cfg).returncode == 0
    proc = run_cli(
        ["integration", "set", "Acme", "kuma", "host=kuma.example.invalid", "--secret", "token"],
        env,
        cfg=cfg,
        stdin=TOKEN + "\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(run_cli(["config", "show", "--json"], env, cfg=cfg).stdout)["secret_store"] == "vault"
    proc = run_cli(["config", "set", "secret_store=keyring"], env, cfg=cfg)
    assert proc.returncode == 2
    assert "PlaintextKeyring" in proc.stderr and "Nothing was moved" in proc.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "secrets.kdbx":
            assert TOKEN.encode() not in path.read_bytes(), path
    assert vault_entries(cfg / "secrets.kdbx") == {"Root tenant/Acme/KUMA REST API / API token": TOKEN}


def test_passphrase_file_readable_by_others_is_refused(tmp_path):
    cfg = tmp_path / "cfg"
    env = no_dbus_env(tmp_path)
    loose = passphrase_file(tmp_path, mode=0o644)
    env["XDRCONF_VAULT_PASSPHRASE_FILE"] = str(loose)
    assert run_cli(["tenant", "add", "Acme"], env, cfg=cfg).returncode == 0
    settings = (cfg / "settings.json").read_bytes()
    proc = run_cli(
        ["integration", "set", "Acme", "kuma", "host=kuma.example.invalid", "--secret", "token"],
        env,
        cfg=cfg,
        stdin=TOKEN + "\n",
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "group or others" in proc.stderr and "mode 0644" in proc.stderr and "chmod 600" in proc.stderr
    assert PASSPHRASE not in proc.stderr + proc.stdout
    assert (cfg / "settings.json").read_bytes() == settings
    assert not (cfg / "secrets.kdbx").exists()


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "en",
            (
                "Vault: secrets.kdbx, not created yet",
                "Vault: secrets.kdbx, locked",
                "xdrconf: The passphrase does not open the vault secrets.kdbx; nothing was changed.\n",
            ),
        ),
        (
            "ru",
            (
                "Хранилище: secrets.kdbx, еще не создано",
                "Хранилище: secrets.kdbx, заблокировано",
                "xdrconf: Парольная фраза не подходит к хранилищу secrets.kdbx; ничего не изменено.\n",
            ),
        ),
    ],
)
def test_wrong_passphrase_from_the_file_one_sentence(tmp_path, lang, said):
    """The vault in words before and after it exists, and a wrong passphrase refused in one
    sentence that changes nothing: in English and, under XDRCONF_LANG=ru, in Russian."""
    cfg = tmp_path / "cfg"
    env = no_dbus_env(tmp_path) | {"XDRCONF_LANG": lang}
    env["XDRCONF_VAULT_PASSPHRASE_FILE"] = str(passphrase_file(tmp_path))
    status = json.loads(run_cli(["config", "show", "--json"], env, cfg=cfg).stdout)["secret_store_status"]
    assert status == said[0]
    run_cli(["tenant", "add", "Acme"], env, cfg=cfg)
    setting = ["integration", "set", "Acme", "kuma", "host=kuma.example.invalid", "--secret", "token"]
    assert run_cli(setting, env, cfg=cfg, stdin=TOKEN + "\n").returncode == 0
    status = json.loads(run_cli(["config", "show", "--json"], env, cfg=cfg).stdout)["secret_store_status"]
    assert status == said[1]
    before = {p.name: p.read_bytes() for p in cfg.iterdir() if p.is_file() and p.name != "xdrconf.lock"}
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    wrong.chmod(0o600)
    env["XDRCONF_VAULT_PASSPHRASE_FILE"] = str(wrong)
    proc = run_cli(setting, env, cfg=cfg, stdin="another-token\n")
    assert (proc.returncode, proc.stderr) == (2, said[2])
    after = {p.name: p.read_bytes() for p in cfg.iterdir() if p.is_file() and p.name != "xdrconf.lock"}
    assert after == before


class Terminal:
    """xdrconf on a real pseudo-terminal (its controlling terminal), as a person types."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.execve(sys.executable, [sys.executable, "-m", "xdrconf", *args], env)
        self.seen = b""
        self.pos = 0  # what expect() matched so far

    def expect(self, text: str, timeout: float = 30) -> None:
        """Wait until `text` is shown after what was matched before."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen[self.pos :]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{text!r} not shown; the screen: {self.seen.decode(errors='replace')!r}"
                )
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"ended before {text!r}: {self.seen.decode(errors='replace')!r}")
                self.seen += chunk
        self.pos = self.seen.index(text.encode(), self.pos) + len(text)

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                self.seen += chunk
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        raise AssertionError("xdrconf did not end")


def test_passphrase_typed_on_the_terminal_without_echo(tmp_path):
    cfg = tmp_path / "cfg"
    env = no_dbus_env(tmp_path)
    run_cli(["tenant", "add", "Acme"], env, cfg=cfg)
    setting = ["--config-dir", str(cfg), "integration", "set", "Acme", "kuma", "host=kuma.example.invalid"]
    term = Terminal([*setting, "--secret", "token"], env)
    term.expect("API token: ")
    term.type(GOOD_TOKEN)
    term.expect("Choose its passphrase.")
    term.expect("New vault passphrase: ")
    term.type("")
    term.expect("the passphrase is empty")
    term.expect("New vault passphrase: ")
    term.type(PASSPHRASE)
    term.expect("strength: ")
    term.expect("The same passphrase again: ")
    term.type("something else")
    term.expect("the two passphrases differ")
    term.expect("New vault passphrase: ")
    term.type(PASSPHRASE)
    term.expect("The same passphrase again: ")
    term.type(PASSPHRASE)
    assert term.wait() == 0, term.seen
    assert PASSPHRASE.encode() not in term.seen and GOOD_TOKEN.encode() not in term.seen  # no echo
    assert vault_entries(cfg / "secrets.kdbx") == {"Root tenant/Acme/KUMA REST API / API token": GOOD_TOKEN}

    # Unlocking: a wrong passphrase is said in one sentence and asked again.
    term = Terminal(
        ["--config-dir", str(cfg), "integration", "set", "Acme", "kuma", "--secret", "token"], env
    )
    term.expect("API token: ")
    term.type("second-token")
    term.expect("Passphrase of the vault")
    term.type("wrong one")
    term.expect("The passphrase does not open the vault secrets.kdbx; nothing was changed.")
    term.expect("Passphrase of the vault")
    term.type(PASSPHRASE)
    assert term.wait() == 0, term.seen
    assert b"wrong one" not in term.seen
    assert list(vault_entries(cfg / "secrets.kdbx").values()) == ["second-token"]


def test_window_without_a_display_says_so_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = run_cli([], env, cfg=tmp_path / "cfg")
    assert proc.returncode == 2, proc
    assert proc.stderr.count("\n") == 1
    assert "no display" in proc.stderr and "xvfb-run" in proc.stderr and "QT_QPA_PLATFORM" in proc.stderr
    env["DISPLAY"] = ":97"  # no X server there
    if not Path("/tmp/.X11-unix/X97").exists():
        proc = run_cli([], env, cfg=tmp_path / "cfg")
        assert proc.returncode == 2, proc
        assert "cannot connect to the X display ':97'" in proc.stderr
    # A command needs no display.
    env.pop("DISPLAY")
    assert run_cli(["tenant", "list"], env, cfg=tmp_path / "cfg").returncode == 0
