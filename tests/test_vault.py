"""The encrypted vault (core/vault.py) as the secret store where no OS keyring serves: what
xdrconf writes is read back by pykeepass and by KeePassXC's own command line, entries are
grouped by tenant path and titled `<integration> / <field>`, no secret lands in any other
file, every secret operation works as it does with the keyring, and a wrong passphrase
changes nothing."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from keyring.backends import fail

from xdrconf.core.errors import KeyringUnavailable
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.vault import KdfParams, VaultStore, WrongPassphrase, passphrase_strength
from xdrconf.core.workspace import IntegrationEdit, Workspace

PASSPHRASE = "correct horse battery staple 42"
FAST = KdfParams(memory_kib=8 * 1024, iterations=2, parallelism=1)  # a real Argon2id, cheaper
TOKEN = "kuma-token-0123456789abcdef"
KEEPASSXC = shutil.which("keepassxc-cli")


def giving(passphrase: str, asked: list[bool] | None = None):
    """An unlocker (the contract the CLI and the window implement) that gives a passphrase."""

    def unlock(store: VaultStore, creating: bool) -> None:
        if asked is not None:
            asked.append(creating)
        (store.create if creating else store.unlock)(passphrase)

    return unlock


def open_vault_ws(config_dir: Path, passphrase: str = PASSPHRASE, kdf: KdfParams = FAST, asked=None):
    ws = Workspace.open(config_dir, keyring_backend=fail.Keyring(), vault_kdf=kdf)
    ws.secrets.vault.unlocker = giving(passphrase, asked)
    return ws


@pytest.fixture
def vws(config_dir):
    w = open_vault_ws(config_dir)
    yield w
    w.close()


def read_vault(path: Path, passphrase: str = PASSPHRASE):
    from pykeepass import PyKeePass

    return PyKeePass(str(path), password=passphrase)


def entries_by_path(path: Path, passphrase: str = PASSPHRASE) -> dict[str, str]:
    return {"/".join(e.path): e.password for e in read_vault(path, passphrase).entries}


def keepassxc(*args: str, passphrase: str = PASSPHRASE, stdin_extra: str = "") -> str:
    if KEEPASSXC is None:
        pytest.skip("keepassxc-cli is not installed (apt-get install keepassxc)")
    proc = subprocess.run(
        [KEEPASSXC, *args],
        input=passphrase + "\n" + stdin_extra,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_vault_opens_in_pykeepass_and_keepassxc_grouped_by_tenant(config_dir):
    """Default Argon2id parameters; KeePassXC reads every secret under the tenant's path."""
    asked: list[bool] = []
    with open_vault_ws(config_dir, kdf=KdfParams(), asked=asked) as ws:
        ws.add_tenant("EU")
        ws.add_tenant("Acme", "EU")
        ws.update_integration(
            "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": TOKEN})
        )
        conn = kata.add_connection(ws, "Acme", "kata.example.invalid", 443, "rsa2048")
        key_pem = kata.private_key(ws, "Acme", conn["id"])
        assert key_pem is not None
        assert ws.secrets.describe() == "Vault: secrets.kdbx, unlocked"
        assert ws.app["secret_store"] == "vault"
    assert asked == [True]  # created once, then used unlocked
    db = config_dir / "secrets.kdbx"
    assert db.stat().st_mode & 0o777 == 0o600
    kp = read_vault(db)
    assert kp.version == (4, 0) and kp.kdf_algorithm == "argon2id"
    found = entries_by_path(db)
    assert found == {
        "Root tenant/EU/Acme/KUMA REST API / API token": TOKEN,
        f"Root tenant/EU/Acme/KATA/KEDR / private key, XDR ID {conn['id']}": key_pem,
    }
    out = keepassxc("show", "-s", str(db), "Root tenant/EU/Acme/KUMA REST API / API token")
    assert "Title: KUMA REST API / API token" in out
    assert f"Password: {TOKEN}" in out
    pem = keepassxc(
        "show",
        "-q",
        "-s",
        "-a",
        "Password",
        str(db),
        f"Root tenant/EU/Acme/KATA/KEDR / private key, XDR ID {conn['id']}",
    )
    assert pem.strip() == key_pem.strip() and "PRIVATE KEY" in pem
    listing = keepassxc("ls", "-R", "-f", str(db))
    assert "Root tenant/EU/Acme/KUMA REST API / API token" in listing


def _encodings(value: str) -> list[bytes]:
    raw = value.encode()
    out = [raw, value.encode("utf-16-le")]
    for shift in range(3):  # base64 of the value at every alignment, and urlsafe
        chunk = raw[shift:]
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            text = enc(chunk).rstrip(b"=")
            out.append(text[4:-4] if len(text) > 12 else text)
    return out


def test_no_secret_in_any_other_file(vws, config_dir):
    secret = "Very-Secret-Token-Value-987654321"
    vws.add_tenant("Acme")
    vws.update_integration(
        "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": secret})
    )
    conn = kata.add_connection(vws, "Acme", "kata.example.invalid", 443, "p256")
    key_pem = kata.private_key(vws, "Acme", conn["id"])
    assert key_pem is not None
    key_body = "".join(key_pem.splitlines()[1:-1])
    vws.add_tenant("Child", "Acme")  # copies
    vws.rename_tenant("Child", "Renamed")
    files = [p for p in config_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"settings.json", "secrets.kdbx"}
    for path in files:
        data = path.read_bytes()
        for value in (secret, key_body):
            for needle in _encodings(value):
                assert needle not in data, f"{path.name} holds a secret"
    assert not (config_dir / "secrets").exists()  # no blob files: large keys live in the vault


def test_copies_renames_moves_and_removal_follow_in_the_vault(vws, config_dir):
    db = config_dir / "secrets.kdbx"
    vws.add_tenant("Acme")
    vws.update_integration(
        "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": TOKEN})
    )
    vws.add_tenant("EU", "Acme")  # a copy of the token, filed under the child
    child_ref = vws.tenant("EU").integrations["kuma"].secrets["token"]
    assert child_ref != vws.tenant("Acme").integrations["kuma"].secrets["token"]
    assert entries_by_path(db) == {
        "Root tenant/Acme/KUMA REST API / API token": TOKEN,
        "Root tenant/Acme/EU/KUMA REST API / API token": TOKEN,
    }
    before = (config_dir / "settings.json").read_text()
    vws.add_tenant("Globex")
    vws.move_tenant("EU", "Globex")
    vws.rename_tenant("Acme", "Acme Corp")
    assert entries_by_path(db) == {
        "Root tenant/Acme Corp/KUMA REST API / API token": TOKEN,
        "Root tenant/Globex/EU/KUMA REST API / API token": TOKEN,
    }
    assert vws.tenant("EU").integrations["kuma"].secrets["token"] == child_ref  # references stable
    assert child_ref in before
    summary = vws.removal_summary("Globex/EU")
    assert "1 secret deleted from the vault" in summary[1]
    vws.remove_tenant("Globex/EU")
    assert entries_by_path(db) == {"Root tenant/Acme Corp/KUMA REST API / API token": TOKEN}
    assert [g.name for g in read_vault(db).root_group.subgroups] == ["Root tenant"]
    groups = {"/".join(g.path) for g in read_vault(db).groups}
    assert "Root tenant/Globex/EU" not in groups and "Root tenant/Acme" not in groups  # pruned


def test_secret_replaced_and_cleared(vws, config_dir):
    db = config_dir / "secrets.kdbx"
    vws.add_tenant("Acme")
    edit = IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": "first"})
    vws.update_integration("Acme", edit)
    vws.update_integration("Acme", IntegrationEdit("kuma", secrets={"token": "second"}))
    assert list(entries_by_path(db).values()) == ["second"]
    vws.update_integration("Acme", IntegrationEdit("kuma", secrets={"token": None}))
    assert entries_by_path(db) == {}
    assert vws.secret(vws.tenant("Acme"), "kuma", "token") is None


def test_rotated_in_keepassxc_is_what_xdrconf_reads(vws, config_dir):
    """An analyst changes the password in KeePassXC while xdrconf runs: xdrconf reads the new
    value (the entry is found by its UUID), and its next save keeps the change."""
    db = config_dir / "secrets.kdbx"
    vws.add_tenant("Acme")
    vws.update_integration(
        "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": TOKEN})
    )
    keepassxc(
        "edit", "-q", "-p", str(db), "Root tenant/Acme/KUMA REST API / API token", stdin_extra="rotated-1\n"
    )
    assert vws.secret(vws.tenant("Acme"), "kuma", "token") == "rotated-1"
    vws.add_tenant("Beta", "Acme")
    assert vws.secret(vws.tenant("Beta"), "kuma", "token") == "rotated-1"
    assert entries_by_path(db)["Root tenant/Acme/KUMA REST API / API token"] == "rotated-1"


def test_wrong_passphrase_one_sentence_and_nothing_changed(config_dir):
    with open_vault_ws(config_dir) as ws:
        ws.add_tenant("Acme")
        ws.update_integration(
            "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": TOKEN})
        )
    settings = (config_dir / "settings.json").read_bytes()
    vault = (config_dir / "secrets.kdbx").read_bytes()
    with open_vault_ws(config_dir, passphrase="not the passphrase") as ws:
        assert ws.secrets.describe() == "Vault: secrets.kdbx, locked"
        with pytest.raises(WrongPassphrase) as caught:
            ws.update_integration("Acme", IntegrationEdit("kuma", secrets={"token": "other"}))
        message = str(caught.value)
        assert message == "The passphrase does not open the vault secrets.kdbx; nothing was changed."
        with pytest.raises(KeyringUnavailable):
            ws.secret(ws.tenant("Acme"), "kuma", "token")
    assert (config_dir / "settings.json").read_bytes() == settings
    assert (config_dir / "secrets.kdbx").read_bytes() == vault
    with open_vault_ws(config_dir) as ws:
        assert ws.secret(ws.tenant("Acme"), "kuma", "token") == TOKEN


def test_declined_passphrase_asks_once_for_waiting_callers(config_dir):
    """Many checks needing the vault at once: one question; when it is declined, the callers
    that waited for it are refused too instead of asking again."""
    import threading

    with open_vault_ws(config_dir) as ws:
        ws.add_tenant("Acme")
        ws.update_integration(
            "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": TOKEN})
        )
    asked: list[bool] = []
    release = threading.Event()

    def decline(store: VaultStore, creating: bool) -> None:
        asked.append(creating)
        release.wait(5)

    with Workspace.open(config_dir, keyring_backend=fail.Keyring(), vault_kdf=FAST) as ws:
        ws.secrets.vault.unlocker = decline
        errors: list[BaseException] = []

        def read() -> None:
            try:
                ws.secret(ws.tenant("Acme"), "kuma", "token")
            except KeyringUnavailable as exc:
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(5)]
        for t in threads:
            t.start()
        while not asked:
            threading.Event().wait(0.01)
        release.set()
        for t in threads:
            t.join(10)
    assert asked == [False]
    assert len(errors) == 5 and all("no passphrase was given" in str(e) for e in errors)


def test_unlock_and_create_refuse_bad_input(tmp_path):
    store = VaultStore(tmp_path, kdf=FAST)
    with pytest.raises(KeyringUnavailable, match="empty"):
        store.create("")
    store.create(PASSPHRASE)
    with pytest.raises(KeyringUnavailable, match="already exists"):
        store.create(PASSPHRASE)
    store.lock()
    with pytest.raises(WrongPassphrase, match="empty"):
        store.unlock("")
    (tmp_path / "secrets.kdbx").write_bytes(b"not a keepass file")
    with pytest.raises(KeyringUnavailable, match="not a KeePass database"):
        store.unlock(PASSPHRASE)


def test_passphrase_strength_words():
    assert passphrase_strength("") == (0, "empty")
    assert passphrase_strength("aaaa")[1] == "weak"
    assert passphrase_strength("correct horse battery staple")[1] in ("good", "strong")
    assert passphrase_strength("Tr0ub4dor&3")[0] > passphrase_strength("troubador")[0]


def test_import_hints_and_check_with_the_vault(vws, config_dir, tmp_path, kuma, test_ca):
    """A check reads the token from the vault; an import into a vault folder lists the
    secrets to enter again, and entering one puts it in the vault."""
    from support.kuma_peer import GOOD_TOKEN, configure
    from xdrconf.core import exchange, scheduler

    configure(vws, kuma.port, ca=test_ca.cert_pem, token=GOOD_TOKEN)
    [result] = scheduler.run_many(vws, scheduler.targets(vws, "Acme", "kuma"))
    assert result.category.value == "ok", result.message
    doc = exchange.export_document(vws, None)
    other_dir = tmp_path / "other"
    with open_vault_ws(other_dir) as other:
        needed = exchange.import_document(other, doc)
        assert [n.name for n in needed] == ["token"]
        assert "--secret token" in needed[0].hint()
        other.update_integration("Acme", IntegrationEdit("kuma", secrets={"token": GOOD_TOKEN}))
        assert entries_by_path(other_dir / "secrets.kdbx") == {
            "Root tenant/Acme/KUMA REST API / API token": GOOD_TOKEN
        }


def test_a_damaged_vault_is_left_as_it_is(vws, config_dir):
    vws.add_tenant("Acme")
    vws.update_integration(
        "Acme", IntegrationEdit("kuma", values={"host": "kuma.example.invalid"}, secrets={"token": TOKEN})
    )
    vws.secrets.vault.lock()
    db = config_dir / "secrets.kdbx"
    damaged = db.read_bytes()[:200]
    db.write_bytes(damaged)
    with pytest.raises(KeyringUnavailable, match="damaged"):
        vws.secret(vws.tenant("Acme"), "kuma", "token")
    assert db.read_bytes() == damaged
    assert os.stat(db).st_size == 200


def test_many_at_once_from_the_vault_without_asking(config_dir):
    """The scheduler's prefetch: an unlocked vault answers many references in one read; a
    locked one answers none (each run then reads its own, which asks once), never asking."""
    asked: list[bool] = []
    with open_vault_ws(config_dir, asked=asked) as ws:
        for name in ("Acme", "Globex", "Initech"):
            ws.add_tenant(name)
            ws.update_integration(
                name,
                IntegrationEdit(
                    "kuma", values={"host": "kuma.example.invalid"}, secrets={"token": f"t-{name}"}
                ),
            )
        refs = {n: ws.tenant(n).integrations["kuma"].secrets["token"] for n in ("Acme", "Globex", "Initech")}
        ws.remove_tenant("Initech")  # its entry is gone (or in the recycle bin): not stored
        got = ws.secrets.get_many([refs["Acme"], refs["Globex"], refs["Initech"], "vault:" + "0" * 32])
        assert got == {
            refs["Acme"]: "t-Acme",
            refs["Globex"]: "t-Globex",
            refs["Initech"]: None,
            "vault:" + "0" * 32: None,
        }
        assert asked == [True]  # created once, never asked again
    with open_vault_ws(config_dir, asked=asked) as ws:
        assert ws.secrets.get_many([refs["Acme"]]) == {}  # locked: left to the run
        assert asked == [True]
        assert ws.secrets.get(refs["Acme"]) == "t-Acme"  # the run's own read asks
        assert asked == [True, False]
        assert ws.secrets.get_many([refs["Acme"], refs["Globex"]]) == {
            refs["Acme"]: "t-Acme",
            refs["Globex"]: "t-Globex",
        }
