"""Secret Service reads through one kept-open session (core/secrets.py), against the real
gnome-keyring: same answers as keyring's own path, and a fall-back when it cannot be used.
Many at once (get_many): one GetSecrets call for all of them, as a D-Bus monitor sees it,
with the same answers keyring gives one by one — missing entries, entries changed or
deleted between two batches, items with the same attributes, a locked collection, a
backend other than the Secret Service."""

from __future__ import annotations

import gc
import warnings

import pytest
import secretstorage
from keyring.backend import KeyringBackend

from support import secret_service
from xdrconf.core import secrets as secrets_module
from xdrconf.core.errors import KeyringUnavailable
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


def keyring_says(backend, service: str, refs: list[str]) -> dict[str, str | None]:
    return {ref: backend.get_password(service, ref) for ref in refs}


@pytest.mark.parametrize("in_flight", [128, 6])
def test_many_in_one_call_same_answers_as_keyring(keyring_backend, tmp_path, monkeypatch, in_flight):
    # With 6 calls in flight at most, the 42 attribute reads are sent in many refills.
    monkeypatch.setattr(secrets_module, "IN_FLIGHT", in_flight)
    store = SecretStore("batch-test", tmp_path, backend=keyring_backend)
    refs = [store.put(f"value {i} ✓", LABEL) for i in range(40)]
    blob = store.put("b" * 3000, LABEL)  # its key is read in the same batch
    wanted = [*refs, blob, "no-such-ref", refs[0]]
    with secret_service.call_log() as log:
        got = store.get_many(wanted)
        first = log.calls()
        again = store.get_many(wanted)
        second = log.calls()[len(first) :]
    assert (
        got
        == again
        == {**keyring_says(keyring_backend, store.service, refs), blob: "b" * 3000, "no-such-ref": None}
    )
    assert got[refs[7]] == "value 7 ✓"
    members = [m for _i, m in first]
    assert members.count("GetSecrets") == 1 and "GetSecret" not in members
    assert members.count("OpenSession") == 1  # one session for the store, kept open
    # Once the items' attributes are known, a batch is a few calls, whatever its size.
    assert [m for _i, m in second if m != "Get"] == ["SearchItems", "GetSecrets"]
    assert len(second) <= 4
    for ref in [*refs, blob]:
        store.delete(ref)
    store.close()


def test_changes_between_batches_are_seen(keyring_backend, tmp_path):
    store = SecretStore("batch-changes", tmp_path, backend=keyring_backend)
    refs = [store.put(f"v{i}", LABEL) for i in range(6)]
    assert store.get_many(refs) == {ref: f"v{i}" for i, ref in enumerate(refs)}
    store.delete(refs[0])  # through keyring, on another D-Bus connection
    keyring_backend.set_password(store.service, refs[1], "rotated")
    added = store.put("new one", LABEL)
    # Another program changes an item's attributes: it is no longer found under its name.
    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        (item,) = collection.search_items({"service": store.service, "username": refs[2]})
        item.set_attributes({"service": store.service, "username": "renamed-elsewhere"})
        (moved,) = collection.search_items({"service": store.service, "username": refs[3]})
        moved.set_attributes({"service": "another-service", "username": refs[3]})
    finally:
        conn.close()
    got = store.get_many([*refs, added])
    assert got == keyring_says(keyring_backend, store.service, [*refs, added])
    assert got[refs[0]] is None and got[refs[1]] == "rotated" and got[added] == "new one"
    assert got[refs[2]] is None and got[refs[3]] is None and got[refs[4]] == "v4"
    assert store.get_many(["renamed-elsewhere"]) == {"renamed-elsewhere": "v2"}
    for ref in [*refs, added, "renamed-elsewhere"]:
        store.delete(ref)
    keyring_backend.delete_password("another-service", refs[3])
    store.close()


def test_items_with_the_same_attributes_answer_as_keyring_does(keyring_backend, tmp_path):
    store = SecretStore("batch-twins", tmp_path, backend=keyring_backend)
    ref = store.put("the first", LABEL)
    other = store.put("another", LABEL)
    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        for n, extra in enumerate(({}, {"application": "another program"})):
            # Items another program made with the same attributes (replace=False keeps both).
            collection.create_item(
                f"twin {n}",
                {"service": store.service, "username": ref, **extra},
                f"twin {n}".encode(),
                replace=False,
            )
        assert len(list(collection.search_items({"service": store.service, "username": ref}))) == 3
    finally:
        conn.close()
    expected = keyring_says(keyring_backend, store.service, [ref, other])
    assert store.get_many([ref, other]) == expected
    assert store.get(ref) == expected[ref]
    store.delete(ref)  # keyring deletes the first it finds: the others stay
    assert store.get_many([ref]) == keyring_says(keyring_backend, store.service, [ref])
    while keyring_backend.get_password(store.service, ref) is not None:
        keyring_backend.delete_password(store.service, ref)
    store.delete(other)
    store.close()


def test_a_locked_collection_is_read_as_keyring_reads_it(keyring_backend, tmp_path):
    """Locked: the batch is not used and keyring's own path says why (it cannot unlock
    without a prompt here); unlocked again: one batch again."""
    with secret_service.own_collection("xdrconf batch test") as own:
        backend = secret_service.backend()
        backend.preferred_collection = own.path
        store = SecretStore("batch-locked", tmp_path, backend=backend, timeout=5.0)
        refs = [store.put(f"locked {i}", LABEL) for i in range(5)]
        assert store.get_many(refs) == {ref: f"locked {i}" for i, ref in enumerate(refs)}
        own.lock()
        with pytest.raises(KeyringUnavailable) as caught:
            store.get_many(refs)
        assert "locked" in str(caught.value).lower()
        assert not any(f"locked {i}" in str(caught.value) for i in range(5))
        del caught
        # keyring's backend leaves its D-Bus connection to the garbage collector when it
        # cannot unlock a collection (get_preferred_collection raises before closing it).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        own.unlock()
        with secret_service.call_log() as log:
            assert store.get_many(refs) == {ref: f"locked {i}" for i, ref in enumerate(refs)}
            assert log.count("GetSecrets") == 1 and log.count("GetSecret") == 0
        store.close()


class OtherBackend(KeyringBackend):
    """A keyring backend that is not keyring's SecretService one (it keeps its entries
    in the Secret Service through it, one call per entry)."""

    priority = 1

    def __init__(self, inner: KeyringBackend) -> None:
        super().__init__()
        self.inner = inner

    def get_password(self, service: str, username: str) -> str | None:
        return self.inner.get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.inner.set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self.inner.delete_password(service, username)


def test_other_backends_are_read_one_by_one(keyring_backend, tmp_path):
    store = SecretStore("batch-other", tmp_path, backend=OtherBackend(keyring_backend))
    refs = [store.put(f"o{i}", LABEL) for i in range(4)]
    with secret_service.call_log() as log:
        assert store.get_many([*refs, "missing"]) == {
            **{r: f"o{i}" for i, r in enumerate(refs)},
            "missing": None,
        }
        assert log.count("GetSecrets") == 0 and log.count("GetSecret") == 4
    assert store._reader is False
    for ref in refs:
        store.delete(ref)
    store.close()


def test_priming_reads_no_secret_and_makes_the_first_batch_quick(keyring_backend, tmp_path):
    """What the window does ahead of a large Check all: the items' attributes only (no
    secret crosses D-Bus); the first batch afterwards is a few calls, whatever its size."""
    writer = SecretStore("prime-test", tmp_path, backend=keyring_backend)
    refs = [writer.put(f"value {i} ✓", LABEL) for i in range(30)]
    writer.close()
    store = SecretStore("prime-test", tmp_path, backend=keyring_backend)
    with secret_service.call_log() as log:
        assert store.prime() == 30
        primed = [m for _i, m in log.calls()]
        got = store.get_many(refs)
        batch = [m for _i, m in log.calls()][len(primed) :]
    assert "GetSecrets" not in primed and "GetSecret" not in primed
    assert primed.count("SearchItems") == 1 and primed.count("Get") >= 30
    assert got == keyring_says(keyring_backend, store.service, refs)
    assert [m for m in batch if m != "Get"] == ["SearchItems", "GetSecrets"] and len(batch) <= 4
    for ref in refs:
        store.delete(ref)
    store.close()


def test_priming_another_backend_does_nothing(keyring_backend, tmp_path):
    store = SecretStore("prime-other", tmp_path, backend=OtherBackend(keyring_backend))
    ref = store.put("o", LABEL)
    with secret_service.call_log() as log:
        assert store.prime() == 0
        assert log.count("SearchItems") == 0 and log.count("Get") == 0
    assert store.get_many([ref]) == {ref: "o"}
    store.delete(ref)
    store.close()
