"""KATA private keys and the Windows Credential Manager limit (2,560 bytes per secret,
stored as UTF-16): tested against a real keyring backend that enforces that limit."""

from __future__ import annotations

import pytest
from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordSetError

from support.gui import some
from xdrconf.core.errors import KeyringUnavailable
from xdrconf.core.integrations.kata import certs as kata_certs
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.secrets import BLOB_PREFIX
from xdrconf.core.workspace import Workspace

WINDOWS_LIMIT = 2560  # bytes, CRED_MAX_CREDENTIAL_BLOB_SIZE


class WindowsSizedKeyring(KeyringBackend):
    """The real Secret Service underneath, refusing what Credential Manager refuses: a
    secret whose UTF-16 encoding is longer than 2,560 bytes."""

    @properties.classproperty
    def priority(cls) -> float:  # not viable: never picked by keyring.get_keyring()
        raise RuntimeError("a test backend, passed to the Workspace explicitly")

    def __init__(self, inner: KeyringBackend) -> None:
        super().__init__()
        self.inner = inner
        self.refused = 0
        self.largest = 0

    def set_password(self, service: str, username: str, password: str) -> None:
        size = len(password.encode("utf-16-le"))
        if size > WINDOWS_LIMIT:
            self.refused += 1
            raise PasswordSetError(f"credential blob of {size} bytes exceeds {WINDOWS_LIMIT}")
        self.largest = max(self.largest, size)
        self.inner.set_password(service, username, password)

    def get_password(self, service: str, username: str) -> str | None:
        return self.inner.get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        self.inner.delete_password(service, username)


@pytest.fixture
def small_ws(config_dir, keyring_backend):
    backend = WindowsSizedKeyring(keyring_backend)
    w = Workspace.open(config_dir, keyring_backend=backend)
    w.add_tenant("Acme")
    yield w, backend
    w.close()


def test_the_test_backend_is_never_chosen_by_keyring():
    import keyring.backend

    assert not WindowsSizedKeyring.viable
    assert not any(isinstance(k, WindowsSizedKeyring) for k in keyring.backend.get_all_keyring())


def test_the_limit_bites_an_rsa_key(small_ws):
    """Without the SecretStore's design, an RSA key could not be stored at all."""
    w, backend = small_ws
    key_pem = kata_certs.generate("x", "rsa2048").key_pem
    assert len(key_pem.encode("utf-16-le")) > WINDOWS_LIMIT
    with pytest.raises(PasswordSetError):
        backend.set_password(w.secrets.service, "direct", key_pem)


@pytest.mark.parametrize("key_type", ["rsa2048", "rsa3072", "p256"])
def test_keys_round_trip_under_the_limit(small_ws, key_type):
    w, backend = small_ws
    conn = kata.add_connection(w, "Acme", "kata.example.invalid", 443, key_type)
    key = kata.private_key(w, "Acme", conn["id"])
    assert kata_certs.key_matches(conn["cert_pem"], some(key))
    assert backend.refused == 0 and backend.largest <= WINDOWS_LIMIT
    ref = w.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])]
    assert ref.startswith(BLOB_PREFIX) == key_type.startswith("rsa")


def _parts(w, ref):
    name = ref[len(BLOB_PREFIX) :]
    return name, w.config_dir / "secrets" / f"{name}.bin"


def test_removing_a_connection_deletes_both_parts(small_ws, keyring_backend):
    w, _ = small_ws
    conn = kata.add_connection(w, "Acme", "kata.example.invalid", 443, "rsa2048")
    ref = w.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])]
    name, blob = _parts(w, ref)
    assert blob.exists() and keyring_backend.get_password(w.secrets.service, name)
    kata.remove_connection(w, "Acme", conn["id"])
    assert not blob.exists()
    assert keyring_backend.get_password(w.secrets.service, name) is None


def test_regenerating_deletes_both_parts_of_the_old_key(small_ws, keyring_backend):
    w, _ = small_ws
    conn = kata.add_connection(w, "Acme", "kata.example.invalid", 443, "rsa2048")
    ref = w.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])]
    name, blob = _parts(w, ref)
    kata.regenerate(w, "Acme", conn["id"])
    assert not blob.exists()
    assert keyring_backend.get_password(w.secrets.service, name) is None
    new_ref = w.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])]
    assert new_ref != ref and _parts(w, new_ref)[1].exists()


def test_removing_the_tenant_deletes_both_parts(small_ws, keyring_backend):
    w, _ = small_ws
    refs = []
    for port in (443, 8443):
        conn = kata.add_connection(w, "Acme", "kata.example.invalid", port, "rsa2048")
        refs.append(w.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])])
    w.remove_tenant("Acme")
    for ref in refs:
        name, blob = _parts(w, ref)
        assert not blob.exists()
        assert keyring_backend.get_password(w.secrets.service, name) is None
    assert list((w.config_dir / "secrets").glob("*.bin")) == []


def test_a_tampered_key_file_is_detected(small_ws):
    w, _ = small_ws
    conn = kata.add_connection(w, "Acme", "kata.example.invalid", 443, "rsa2048")
    ref = w.tenant("Acme").integrations["kata"].secrets[kata.secret_name(conn["id"])]
    _, blob = _parts(w, ref)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(KeyringUnavailable, match="does not match its key"):
        kata.private_key(w, "Acme", conn["id"])
