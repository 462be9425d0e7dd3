"""Secrets through the real Secret Service: namespacing, large values, no keyring, a
locked keyring."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import secret_service
from xdrconf.core.errors import KeyringUnavailable
from xdrconf.core.secrets import INLINE_LIMIT, SecretLabel, SecretStore
from xdrconf.core.workspace import IntegrationEdit, Workspace

ROOT = Path(__file__).resolve().parent.parent
LABEL = SecretLabel("Root tenant", "KATA/KEDR", "private key, XDR ID test")


def test_two_config_folders_never_share_secrets(tmp_path, keyring_backend):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        Workspace.open(tmp_path / "a", keyring_backend=keyring_backend) as a,
        Workspace.open(tmp_path / "b", keyring_backend=keyring_backend) as b,
    ):
        assert a.secrets.service != b.secrets.service
        for ws, token in ((a, "token-a"), (b, "token-b")):
            ws.add_tenant("Same name")
            ws.update_integration(
                "Same name",
                IntegrationEdit("kuma", values={"host": "k.example.invalid"}, secrets={"token": token}),
            )
        ref_a = a.tenant("Same name").integrations["kuma"].secrets["token"]
        assert keyring_backend.get_password(b.secrets.service, ref_a) is None
        a.remove_tenant("Same name")
        assert b.secret(b.tenant("Same name"), "kuma", "token") == "token-b"


def test_large_secret_is_encrypted_on_disk_with_key_in_keyring(tmp_path, keyring_backend):
    store = SecretStore("ns-large", tmp_path / "secrets", backend=keyring_backend)
    value = "-----BEGIN PRIVATE KEY-----\n" + ("QUJD" * 700) + "\n-----END PRIVATE KEY-----\n"
    assert len(value) > INLINE_LIMIT
    ref = store.put(value, LABEL)
    assert ref.startswith("blob:")
    name = ref[5:]
    in_keyring = secret_service.held(keyring_backend, store.service, name)
    assert in_keyring is not None and len(in_keyring) == 44  # only the base64 AES-256 key
    on_disk = (tmp_path / "secrets" / f"{name}.bin").read_bytes()
    assert b"QUJD" not in on_disk and b"PRIVATE KEY" not in on_disk
    assert store.get(ref) == value
    store.delete(ref)
    assert not (tmp_path / "secrets" / f"{name}.bin").exists()
    assert keyring_backend.get_password(store.service, name) is None
    store.close()


def test_tampered_blob_is_refused(tmp_path, keyring_backend):
    store = SecretStore("ns-tamper", tmp_path / "secrets", backend=keyring_backend)
    one, two = store.put("x" * 2000, LABEL), store.put("y" * 2000, LABEL)
    f1 = tmp_path / "secrets" / f"{one[5:]}.bin"
    f2 = tmp_path / "secrets" / f"{two[5:]}.bin"
    f1.write_bytes(f2.read_bytes())  # swap in another secret's ciphertext
    with pytest.raises(KeyringUnavailable, match="does not match its key"):
        store.get(one)
    store.delete(one)
    store.delete(two)
    store.close()


def test_no_keyring_means_the_vault_and_a_locked_vault_changes_nothing(config_dir):
    """keyring's fail backend: the vault is the store; with nobody to give its passphrase a
    secret is refused in one sentence and nothing is half-saved."""
    from keyring.backends import fail

    with Workspace.open(config_dir, keyring_backend=fail.Keyring()) as ws:
        ws.add_tenant("Works")  # no secret involved: fine
        status = ws.secrets.status()
        assert status.kind == "vault" and status.usable
        assert status.name == "Vault: secrets.kdbx, not created yet"
        assert "No OS keyring is available" in status.reason
        with pytest.raises(KeyringUnavailable, match="no passphrase was given"):
            ws.update_integration(
                "Works", IntegrationEdit("kuma", values={"host": "k.example.invalid"}, secrets={"token": "t"})
            )
        assert "kuma" not in ws.tenant("Works").integrations  # nothing half-saved
        assert "secret_store" not in ws.app
    with Workspace.open(config_dir, keyring_backend=fail.Keyring()) as ws:
        assert "kuma" not in ws.tenant("Works").integrations
    assert not (config_dir / "secrets.kdbx").exists()


def test_a_chosen_keyring_that_is_gone_fails_clearly(config_dir):
    """secret_store=keyring and no keyring now: a clear refusal, never a switch to the vault."""
    from keyring.backends import fail

    with Workspace.open(config_dir, keyring_backend=fail.Keyring()) as ws:
        ws.set_app(secret_store="keyring")
        ws.add_tenant("T")
        with pytest.raises(KeyringUnavailable, match="No OS keyring is available"):
            ws.update_integration(
                "T", IntegrationEdit("kuma", values={"host": "k.example.invalid"}, secrets={"token": "t"})
            )
        assert not ws.secrets.status().usable
    assert not (config_dir / "secrets.kdbx").exists()


def test_status_of_real_keyring(ws):
    status = ws.secrets.status()
    assert status.usable, status.reason
    assert "SecretService" in status.name or "Secret" in status.name


@pytest.fixture
def locked_keyring_env(request):
    """A second D-Bus session whose gnome-keyring stays locked. Under Xvfb (tests marked
    xvfb) DISPLAY is kept, so the keyring may put up a password prompt."""
    if not shutil.which("dbus-daemon") or not shutil.which("gnome-keyring-daemon"):
        pytest.skip("dbus-daemon and gnome-keyring-daemon are not installed")
    with secret_service.locked_session(request.node.get_closest_marker("xvfb") is not None) as env:
        yield env


def test_locked_keyring_means_the_vault_and_no_hang(locked_keyring_env, tmp_path):
    """A keyring that stays locked is no usable keyring: the vault is chosen. Without a
    terminal or a passphrase file the secret is refused in one sentence, quickly, with
    nothing half-saved."""
    env = dict(locked_keyring_env)
    cfg = tmp_path / "cfg"
    base = [sys.executable, "-m", "xdrconf", "--config-dir", str(cfg)]
    subprocess.run([*base, "tenant", "add", "T"], env=env, check=True, capture_output=True, timeout=60)
    started = time.monotonic()
    proc = subprocess.run(
        [*base, "integration", "set", "T", "kuma", "host=k.example.invalid", "--secret", "token"],
        env=env,
        input="a-token\n",
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal to type a passphrase on
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 2, proc
    assert proc.stderr.count("\n") == 1
    assert "keyring" in proc.stderr.lower() and "XDRCONF_VAULT_PASSPHRASE_FILE" in proc.stderr
    assert "a-token" not in proc.stderr + proc.stdout
    assert elapsed < 30
    show = subprocess.run(
        [*base, "integration", "show", "T", "kuma", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert '"host"' not in show.stdout  # nothing half-saved
    assert not (cfg / "secrets.kdbx").exists()


@pytest.mark.xvfb
def test_locked_keyring_with_a_display_never_hangs(locked_keyring_env, tmp_path):
    """With a display, a locked keyring may open a password prompt that nobody answers; the
    keyring call must still come back within its timeout with a clear message."""
    code = (
        "import sys, time\n"
        "from xdrconf.core.secrets import SecretLabel, SecretStore\n"
        "from xdrconf.core.errors import KeyringUnavailable\n"
        f"store = SecretStore('ns-locked', __import__('pathlib').Path({str(tmp_path)!r}), timeout=2.0)\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    store.put('value', SecretLabel('T', 'KUMA', 'token'))\n"
        "    print('STORED')\n"
        "except KeyringUnavailable as exc:\n"
        "    print('REFUSED', round(time.monotonic() - t, 1), exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=locked_keyring_env, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.startswith("REFUSED"), proc
    # Its 2-s timeout ended the call: far sooner than a prompt left open (the process's own
    # 60 s). The margin is for a loaded machine; the figure itself is not a target.
    assert float(proc.stdout.split()[1]) < 20.0
    assert "keyring" in proc.stdout.lower()
