"""Secret Service reads, writes and deletes through one kept-open connection and session
(core/secrets.py, _SecretServiceLink), against the real gnome-keyring: same answers and the
same items as keyring's own path, and a fall-back when it cannot be used. Many at once
(get_many): one GetSecrets call for all of them, as a D-Bus monitor sees it, with the same
answers keyring gives one by one — missing entries, entries changed or deleted between two
batches, items with the same attributes, a locked collection, a backend other than the
Secret Service."""

from __future__ import annotations

import gc
import warnings

import pytest
import secretstorage
from keyring.backend import KeyringBackend

from support import secret_service
from xdrconf.core import secrets as secrets_module
from xdrconf.core.errors import KeyringUnavailable
from xdrconf.core.secrets import SecretLabel, SecretStore, _SecretServiceLink

LABEL = SecretLabel("Root tenant", "KUMA REST API", "API token")


def link_of(store: SecretStore) -> object:
    return store._link


def as_a_link(store: SecretStore) -> _SecretServiceLink:
    reader = store._link
    assert isinstance(reader, _SecretServiceLink)
    return reader


def test_reads_through_the_kept_open_session(keyring_backend, tmp_path):
    store = SecretStore("reader-test", tmp_path, backend=keyring_backend)
    ref = store.put("tökén ✓ value", LABEL)
    big = store.put("k" * 3000, LABEL)  # a blob: its key is read the same way
    assert store.get(ref) == "tökén ✓ value"
    assert store.get(big) == "k" * 3000
    assert isinstance(store._link, _SecretServiceLink)
    reader = store._link
    assert store.get(ref) == "tökén ✓ value" and store._link is reader  # reused
    # What keyring's own path says is what the reader says (after the line naming the entry).
    assert secret_service.held(keyring_backend, store.service, ref) == "tökén ✓ value"
    assert store.get("no-such-ref") is None
    store.delete(ref)
    assert store.get(ref) is None
    store.delete(big)
    store.close()


def test_a_broken_session_falls_back_to_the_backend(keyring_backend, tmp_path):
    store = SecretStore("reader-test-2", tmp_path, backend=keyring_backend)
    ref = store.put("value-2", LABEL)
    assert store.get(ref) == "value-2"
    as_a_link(store).connection.close()  # the D-Bus connection went away
    assert store.get(ref) == "value-2"  # answered by the backend, reader dropped
    assert link_of(store) is None
    assert store.get(ref) == "value-2" and isinstance(link_of(store), _SecretServiceLink)
    store.delete(ref)
    store.close()


def test_writes_and_deletes_use_the_kept_open_connection(keyring_backend, tmp_path):
    """One connection and one session for everything the store does, as a D-Bus monitor
    sees it: keyring's backend connects, calls and disconnects for each write and delete,
    the cycle that fires gnome-keyring's abort when a client leaves with a read queued."""
    store = SecretStore("link-writes", tmp_path, backend=keyring_backend)
    first = store.put("first", LABEL)  # the connection is opened here
    with secret_service.call_log() as log:
        refs = [store.put(f"w{i} ✓", LABEL) for i in range(12)]
        big = store.put("k" * 3000, LABEL)
        assert [store.get(ref) for ref in refs] == [f"w{i} ✓" for i in range(12)]
        assert store.status().usable
        for ref in [first, *refs[:6], big]:
            store.delete(ref)
        store.delete("never-stored")  # nothing to delete: no error
        senders = log.senders()
        members = [m for _i, m in log.calls()]
    assert len(senders) == 1, senders
    assert "OpenSession" not in members
    assert members.count("CreateItem") == 12 + 1 + 1  # the entries, the blob's key, the probe
    assert members.count("Delete") == 1 + 6 + 1 + 1  # the probe's, the deletes (a blob's key)
    # What was written is what keyring's own path reads, under keyring's own label.
    assert keyring_says(keyring_backend, store.service, [first, *refs]) == {
        first: None,
        **{ref: (None if i < 6 else f"w{i} ✓") for i, ref in enumerate(refs)},
    }
    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        (item,) = collection.search_items({"service": store.service, "username": refs[7]})
        assert item.get_label() == f"Password for '{refs[7]}' on '{store.service}'"
        assert item.get_attributes()["application"] == keyring_backend.appid
    finally:
        conn.close()
    for ref in refs[6:]:
        store.delete(ref)
    assert keyring_says(keyring_backend, store.service, refs) == dict.fromkeys(refs)
    store.close()


def test_a_write_replaces_the_entry_it_names(keyring_backend, tmp_path):
    store = SecretStore("link-replace", tmp_path, backend=keyring_backend)
    ref = store.put("before", LABEL)
    store._set(ref, "after")
    assert store.get(ref) == secret_service.held(keyring_backend, store.service, ref) == "after"
    assert secret_service.entries_of(store.service) == [ref]
    store.delete(ref)
    store.close()


def test_a_lost_connection_costs_no_write(keyring_backend, tmp_path):
    store = SecretStore("link-lost", tmp_path, backend=keyring_backend)
    ref = store.put("kept", LABEL)
    as_a_link(store).connection.close()
    other = store.put("written by the backend", LABEL)  # the link is dropped, keyring writes it
    assert link_of(store) is None
    assert secret_service.held(keyring_backend, store.service, other) == "written by the backend"
    assert store.get(ref) == "kept"
    assert isinstance(link_of(store), _SecretServiceLink)  # a new one
    store.delete(ref)
    store.delete(other)
    assert keyring_says(keyring_backend, store.service, [ref, other]) == {ref: None, other: None}
    store.close()


def test_other_backends_use_their_own_path():
    class Memory:
        def __init__(self):
            self.data = {}

        def get_password(self, service, name):
            return self.data.get((service, name))

    assert _SecretServiceLink.for_backend(Memory()) is None


def log_of_secret_service(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The calls of a D-Bus monitor's log made to the Secret Service (not the bus's own)."""
    return [(i, m) for i, m in calls if i != "org.freedesktop.DBus"]


def keyring_says(backend, service: str, refs: list[str]) -> dict[str, str | None]:
    """What keyring's own path reads for each entry (secret_service.keyring_reads)."""
    return {ref: secret_service.keyring_reads(backend, service, ref) for ref in refs}


@pytest.mark.parametrize("in_flight", [128, 6])
def test_many_in_one_call_same_answers_as_keyring(keyring_backend, tmp_path, monkeypatch, in_flight):
    # With 6 calls in flight at most, the attribute reads of the 8 values another program
    # wrote (below) are sent in more than one write.
    monkeypatch.setattr(secrets_module, "IN_FLIGHT", in_flight)
    store = SecretStore("batch-test", tmp_path, backend=keyring_backend)
    refs = [store.put(f"value {i} ✓", LABEL) for i in range(40)]
    blob = store.put("b" * 3000, LABEL)  # its key is read in the same batch
    wanted = [*refs, blob, "no-such-ref", refs[0]]
    fresh = SecretStore("batch-test", tmp_path, backend=keyring_backend)  # knows no item yet
    assert fresh.prime() == 41  # its connection opened (it reads no item: see below)
    with secret_service.call_log() as log:
        got = fresh.get_many(wanted)
        first = log.calls()
        again = fresh.get_many(wanted)
        second = log.calls()[len(first) :]
        written = store.get_many(wanted)  # the store that wrote them knows no item either
    assert (
        got
        == again
        == written
        == {**keyring_says(keyring_backend, store.service, refs), blob: "b" * 3000, "no-such-ref": None}
    )
    assert got[refs[7]] == "value 7 ✓"
    # Each value names its entry: no item is asked for its attributes (the one Get is the
    # collection's Locked property), and the search and one GetSecrets are the whole batch.
    assert [m for _i, m in log_of_secret_service(first)] == ["Get", "SearchItems", "GetSecrets"]
    assert [m for _i, m in second] == ["Get", "SearchItems", "GetSecrets"]
    # Values another program wrote (as keyring writes them, without the naming line): their
    # items, and only theirs, are asked for their attributes.
    others = [f"other-{i}" for i in range(8)]
    for i, name in enumerate(others):
        keyring_backend.set_password(store.service, name, f"theirs {i}")
    with secret_service.call_log() as log:
        assert fresh.get_many([refs[3], *others]) == {refs[3]: "value 3 ✓"} | {
            name: f"theirs {i}" for i, name in enumerate(others)
        }
        assert log.count("Get") == 1 + len(others) and log.count("GetSecrets") == 1
        assert fresh.get_many(others[:2]) == {others[0]: "theirs 0", others[1]: "theirs 1"}
        assert log.count("Get") == 2 + len(others)  # known now: no attribute is read again
    for ref in [*refs, blob, *others]:
        store.delete(ref)
    store.close()
    fresh.close()


def test_changes_between_batches_are_seen(keyring_backend, tmp_path):
    store = SecretStore("batch-changes", tmp_path, backend=keyring_backend)
    refs = [store.put(f"v{i}", LABEL) for i in range(6)]
    assert store.get_many(refs) == {ref: f"v{i}" for i, ref in enumerate(refs)}
    keyring_backend.delete_password(store.service, refs[0])  # through keyring, on another D-Bus connection
    store.delete(refs[5])  # through the store's own connection
    keyring_backend.set_password(store.service, refs[1], "rotated")
    added = store.put("new one", LABEL)
    # Another program changes an item's attributes: its value still names its entry, so it
    # is still that entry's (nothing is lost) and never the entry its attributes now name.
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
    says = keyring_says(keyring_backend, store.service, [*refs, added])
    assert {r: v for r, v in got.items() if r != refs[2]} == {r: v for r, v in says.items() if r != refs[2]}
    assert got[refs[0]] is None and got[refs[1]] == "rotated" and got[added] == "new one"
    assert got[refs[2]] == "v2" and got[refs[3]] is None and got[refs[4]] == "v4" and got[refs[5]] is None
    assert says[refs[2]] is None  # keyring's path no longer finds it under its name
    assert store.get(refs[2]) == "v2"  # one by one too
    fresh = SecretStore("batch-changes", tmp_path, backend=keyring_backend)
    assert fresh.get(refs[2]) == "v2" and fresh.get("renamed-elsewhere") is None
    assert store.get_many(["renamed-elsewhere"]) == {"renamed-elsewhere": None}
    fresh.close()
    for ref in [*refs, added, "renamed-elsewhere"]:
        store.delete(ref)
    keyring_backend.delete_password("another-service", refs[3])
    store.close()


def test_items_whose_attributes_were_swapped_keep_their_own_secrets(keyring_backend, tmp_path):
    """Another program swaps the attributes of two entries' items: each value still names
    its own entry, so neither tenant's secret is ever read as the other's, one by one or
    in a batch, by a store that knew the items before or by a fresh one. keyring's own path
    (another backend) finds the other entry's value under the name: it gives nothing."""
    store = SecretStore("link-swapped", tmp_path, backend=keyring_backend)
    a, b = store.put("token of tenant A", LABEL), store.put("token of tenant B", LABEL)
    assert store.get_many([a, b]) == {a: "token of tenant A", b: "token of tenant B"}
    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        (item_a,) = collection.search_items({"service": store.service, "username": a})
        (item_b,) = collection.search_items({"service": store.service, "username": b})
        item_a.set_attributes({"service": store.service, "username": b})
        item_b.set_attributes({"service": store.service, "username": a})
    finally:
        conn.close()
    assert keyring_backend.get_password(store.service, a) == f"xdrconf-ref:{b}\ntoken of tenant B"
    fresh = SecretStore("link-swapped", tmp_path, backend=keyring_backend)
    for reader in (store, fresh):
        assert reader.get_many([a, b]) == {a: "token of tenant A", b: "token of tenant B"}
        assert reader.get(a) == "token of tenant A" and reader.get(b) == "token of tenant B"
    other = SecretStore("link-swapped", tmp_path, backend=OtherBackend(keyring_backend))
    assert other.get(a) is None and other.get(b) is None
    assert other.get_many([a, b]) == {a: None, b: None}
    other.close()
    store.delete(a)  # tenant A's item goes (under B's name), tenant B's stays
    assert secret_service.entries_of(store.service) == [a]
    assert fresh.get(b) == "token of tenant B" and fresh.get(a) is None
    store.delete(b)
    assert secret_service.entries_of(store.service) == []
    store.close()
    fresh.close()


def test_the_entrys_own_item_answers_before_others_with_its_attributes(keyring_backend, tmp_path):
    """Another program made items with an entry's attributes: the item whose value names
    the entry answers for it, whatever order the search gives; without it, the first of
    the others, as keyring's own path answers."""
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
    fresh = SecretStore("batch-twins", tmp_path, backend=keyring_backend)
    for reader in (store, fresh):
        assert reader.get_many([ref, other]) == {ref: "the first", other: "another"}
        assert reader.get(ref) == "the first"
    fresh.close()
    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        for item in collection.search_items({"service": store.service, "username": ref}):
            if item.get_label().startswith("Password for"):
                item.delete()  # the entry's own item, deleted by another program
    finally:
        conn.close()
    expected = keyring_says(keyring_backend, store.service, [ref, other])
    assert expected[ref] in ("twin 0", "twin 1")
    fresh = SecretStore("batch-twins", tmp_path, backend=keyring_backend)
    for reader in (store, fresh):
        assert reader.get_many([ref, other]) == expected
        assert reader.get(ref) == expected[ref]
    fresh.close()
    store.delete(ref)  # every item of the entry: no twin is left to answer for it later
    assert store.get_many([ref]) == keyring_says(keyring_backend, store.service, [ref]) == {ref: None}
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
        link = as_a_link(store)
        # Writes and deletes while locked: keyring's own path says why, nothing is lost, and
        # the kept connection stays for when the collection is unlocked.
        for attempt in (lambda: store.put("while locked", LABEL), lambda: store.delete(refs[0])):
            with pytest.raises(KeyringUnavailable) as caught:
                attempt()
            assert "locked" in str(caught.value).lower() and "while locked" not in str(caught.value)
            del caught
        assert link_of(store) is link
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        own.unlock()
        with secret_service.call_log() as log:
            assert store.get_many(refs) == {ref: f"locked {i}" for i, ref in enumerate(refs)}
            assert log.count("GetSecrets") == 1 and log.count("GetSecret") == 0
            added = store.put("after unlocking", LABEL)
            store.delete(refs[0])
            assert len(log.senders()) == 1 and log.count("OpenSession") == 0
        assert store.get_many([refs[0], added]) == {refs[0]: None, added: "after unlocking"}
        assert link_of(store) is link
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
    assert store._link is False
    for ref in refs:
        store.delete(ref)
    store.close()


def test_priming_reads_no_secret_and_makes_the_first_batch_quick(keyring_backend, tmp_path):
    """What the window does ahead of a large Check all: the connection and session opened
    and the items found (no secret crosses D-Bus, no item is read); the first batch
    afterwards is two calls and the Locked property, whatever its size."""
    writer = SecretStore("prime-test", tmp_path, backend=keyring_backend)
    refs = [writer.put(f"value {i} ✓", LABEL) for i in range(30)]
    writer.close()
    store = SecretStore("prime-test", tmp_path, backend=keyring_backend)
    with secret_service.call_log() as log:
        assert store.prime() == 30
        primed = log.calls()
        got = store.get_many(refs)
        batch = [m for _i, m in log.calls()[len(primed) :]]
    # Opening: the default collection's Label, the session, the Locked property; then the
    # search. No secret and no item's attributes.
    assert [m for _i, m in log_of_secret_service(primed)] == ["Get", "OpenSession", "Get", "SearchItems"]
    assert got == keyring_says(keyring_backend, store.service, refs)
    assert batch == ["Get", "SearchItems", "GetSecrets"]
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
