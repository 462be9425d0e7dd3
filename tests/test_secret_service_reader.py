"""Secret Service reads through one kept-open session (core/secrets.py), against the real
gnome-keyring: same answers as keyring's own path, and a fall-back when it cannot be used."""

from __future__ import annotations

from xdrconf.core.secrets import SecretLabel, SecretStore, _SecretServiceReader

LABEL = SecretLabel("Root tenant", "KUMA REST API", "API token")


def reader_of(store: SecretStore) -> object:
    return store._reader


def as_a_reader(store: SecretStore) -> _SecretServiceReader:
    reader = store._reader
    assert isinstance(reader, _SecretServiceReader)
    return reader


def test_reads_through_the_kept_open_session(keyring_backend, tmp_path):
    store = SecretStore("reader-test", tmp_path, backend=keyring_backend)
    ref = store.put("tökén ✓ value", LABEL)
    big = store.put("k" * 3000, LABEL)  # a blob: its key is read the same way
    assert store.get(ref) == "tökén ✓ value"
    assert store.get(big) == "k" * 3000
    assert isinstance(store._reader, _SecretServiceReader)
    reader = store._reader
    assert store.get(ref) == "tökén ✓ value" and store._reader is reader  # reused
    # What keyring's own path says is what the reader says.
    assert keyring_backend.get_password(store.service, ref) == "tökén ✓ value"
    assert store.get("no-such-ref") is None
    store.delete(ref)
    assert store.get(ref) is None
    store.delete(big)
    store.close()


def test_a_broken_session_falls_back_to_the_backend(keyring_backend, tmp_path):
    store = SecretStore("reader-test-2", tmp_path, backend=keyring_backend)
    ref = store.put("value-2", LABEL)
    assert store.get(ref) == "value-2"
    as_a_reader(store).connection.close()  # the D-Bus connection went away
    assert store.get(ref) == "value-2"  # answered by the backend, reader dropped
    assert reader_of(store) is None
    assert store.get(ref) == "value-2" and isinstance(reader_of(store), _SecretServiceReader)
    store.delete(ref)
    store.close()


def test_other_backends_use_their_own_path():
    class Memory:
        def __init__(self):
            self.data = {}

        def get_password(self, service, name):
            return self.data.get((service, name))

    assert _SecretServiceReader.for_backend(Memory()) is None
