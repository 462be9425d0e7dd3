"""Secrets in the OS keyring, through `keyring`, and nowhere else in plain text.

Design:
- Every entry is filed under the service ``xdrconf/<namespace>`` where the namespace is the
  random id of one settings folder, with a fresh random reference as the user name. Entries
  are never updated in place: a new value gets a new reference, the settings document is
  saved pointing at it, and only then the old entry is deleted. A failure at any step
  leaves the previous secret and settings in force. The value written starts with a line
  that names its entry (``xdrconf-ref:<ref>``, see `marked`): a value that names another
  entry is never read as this one's.
- Values longer than INLINE_LIMIT characters (an RSA private key in PEM, for instance)
  do not fit some keyrings: Windows Credential Manager holds at most 2,560 bytes per
  secret as UTF-16. Such a value is encrypted with AES-256-GCM under a fresh random key;
  the ciphertext goes to ``secrets/<ref>.bin`` in the config folder and only the 32-byte
  key (base64, 44 characters) goes into the keyring. The reference is the GCM associated
  data, so a ciphertext file cannot be swapped for another. Deleting the secret deletes
  both parts.
- Every keyring call runs on one background thread, one at a time, and is abandoned after
  a timeout, so a keyring that waits on a password prompt can never hang the caller.
- A keyring backend that keeps secrets readable on disk, or that is no OS keyring at all
  (keyring's fail and null backends, keyrings.alt's file keyrings, ...: UNSAFE_BACKENDS) is
  never used for a secret, whatever PYTHON_KEYRING_BACKEND says: xdrconf then has no usable
  OS keyring (it does not look for another backend behind the user's choice). keyring's
  chainer is never used either (it falls through to the next backend when one refuses): its
  first safe backend is used directly.

Where no usable OS keyring exists, the secrets go into an encrypted KeePass vault instead
(core/vault.py). `SecretStores` is what the rest of xdrconf calls: it chooses the store,
writes new secrets there and sends each reference to the store that holds it."""

from __future__ import annotations

import base64
import collections
import contextlib
import os
import queue
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from .errors import KeyringUnavailable
from .i18n import N_, _
from .secret_types import STORE_KINDS, SecretLabel, StoreStatus

INLINE_LIMIT = 1000  # characters kept directly in the keyring (with the naming line: 1,045 at most)
VAULT_PREFIX = "vault:"  # references of secrets kept in the vault (core/vault.py)
BLOB_PREFIX = "blob:"
DEFAULT_TIMEOUT = 10.0
T = TypeVar("T")


KeyringStatus = StoreStatus  # the name used before the vault existed

# Backends that are no OS keyring, by module (prefix) or module.class. keyrings.alt's
# backends keep secrets in files (PlaintextKeyring readable by anyone who can read the
# file; EncryptedKeyring asks for its own password on the terminal) or elsewhere outside
# the OS's protection; keyrings.cryptfile likewise.
NO_KEYRING = N_("no OS keyring was found")
OWN_FILE = N_("it keeps secrets in a file of its own, not in an OS keyring")
UNSAFE_BACKENDS: dict[str, str] = {
    "keyring.backends.fail": NO_KEYRING,
    "keyring.backends.null": N_("it stores nothing"),
    "keyrings.alt": OWN_FILE,
    "keyrings.cryptfile": OWN_FILE,
}
NO_BACKENDS = ("keyring.backends.fail", "keyring.backends.null")  # keyring's "there is none"
# The keyrings by the names their systems give them (Secret Service and KWallet are names).
FRIENDLY_NAMES: dict[str, str] = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service (libsecret)",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": N_("macOS Keychain"),
    "keyring.backends.Windows": N_("Windows Credential Manager"),
}
CHAINER = "keyring.backends.chainer"


def unsafe_reason(backend: Any) -> str | None:
    """Why this keyring backend must not hold a secret, or None when it may."""
    cls = type(backend)
    module = cls.__module__
    qualified = f"{module}.{cls.__name__}"
    for prefix, why in UNSAFE_BACKENDS.items():
        if qualified == prefix or module == prefix or module.startswith(prefix + "."):
            return why
    if "plaintext" in cls.__name__.lower() or hasattr(backend, "file_path"):
        return OWN_FILE
    return None


def safe_backend(backend: Any) -> tuple[Any | None, str]:
    """(the backend to use, "") or (None, why none may be used). A chainer gives its first
    safe backend."""
    chosen, why, _missing = _judge(backend)
    return chosen, why


def _judge(backend: Any) -> tuple[Any | None, str, tuple[str, ...] | None]:
    """safe_backend's answer and, when no OS keyring was found at all, the backends that
    were there and refused (else None)."""
    if type(backend).__module__ == CHAINER:
        refused = []
        for child in getattr(backend, "backends", []):
            if unsafe_reason(child) is None:
                return child, "", None
            if type(child).__module__ not in NO_BACKENDS:
                refused.append(f"{type(child).__module__}.{type(child).__name__}")
        if not refused:
            return None, _(NO_KEYRING), ()
        listed = _("no OS keyring was found; {backends}: not used, no OS keyring").format(
            backends=", ".join(refused)
        )
        return None, listed, tuple(refused)
    reason = unsafe_reason(backend)
    if reason is None:
        return backend, "", None
    if type(backend).__module__ in NO_BACKENDS:
        return None, _(reason), () if reason == NO_KEYRING else None
    cls = type(backend)
    return None, f"{cls.__module__}.{cls.__name__}: {_(reason)}", None


def _describe_backend(backend: Any) -> str:
    module = type(backend).__module__
    if module in FRIENDLY_NAMES:
        return _(FRIENDLY_NAMES[module])
    name = getattr(backend, "name", None) or type(backend).__name__
    return str(name)


def explain_keyring_error(exc: BaseException, backend_name: str) -> str:
    """One sentence naming the cause; never includes a secret (keyring messages do not)."""
    from keyring import errors as kerr

    cls = type(exc).__name__
    text = str(exc).strip()
    if isinstance(exc, kerr.NoKeyringError) or "fail.Keyring" in backend_name:
        return _(
            "No OS keyring is available (no Secret Service, Keychain or Credential Manager was "
            "found), so secrets cannot be stored; install and start one, e.g. gnome-keyring."
        )
    if isinstance(exc, kerr.KeyringLocked) or "locked" in text.lower() or "dismissed" in text.lower():
        return _(
            "The OS keyring ({name}) is locked and was not unlocked; unlock it "
            "(e.g. log in to the desktop session) and try again."
        ).format(name=backend_name)
    # The keyring's own words (untranslated: they come from the backend) after its error's class.
    detail = f"{cls}: {text}" if text else cls
    return _("The OS keyring ({name}) refused the request ({detail}).").format(
        name=backend_name, detail=detail
    )


NAME_MARK = "xdrconf-ref:"  # the first line of every value xdrconf writes: its entry's name


def marked(ref: str, value: str) -> str:
    """What xdrconf writes into a keyring entry: a first line that names the entry, then the
    secret. The name travels with the secret (a Secret Service batch tells its items apart
    by their values alone, with no call per item), and a value found under another entry's
    name (its attributes changed by another program) is never taken for that entry's."""
    return f"{NAME_MARK}{ref}\n{value}"


def unmarked(stored: str) -> tuple[str | None, str]:
    """(the entry the value names, the secret), or (None, the value as it is) for a value
    without that first line: written before, or by another program (still read as the
    entry's own)."""
    if stored.startswith(NAME_MARK):
        name, newline, value = stored[len(NAME_MARK) :].partition("\n")
        if newline:
            return name, value
    return None, stored


class _KeyringThread:
    """One daemon thread that performs keyring calls in order."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="xdrconf-keyring", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:  # stop(): the store was closed
                return
            fn, reply = job
            try:
                reply.put((True, fn()))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                reply.put((False, exc))

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        reply: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._jobs.put((fn, reply))
        try:
            ok, value = reply.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if ok:
            return value
        raise value

    def stop(self, wait: float) -> None:
        """End the thread once the calls already queued are done (a hung one stays: daemon)."""
        self._jobs.put(None)
        self._thread.join(wait)


class SecretStore:
    """Secrets of one settings folder in the OS keyring."""

    kind = "keyring"

    def __init__(
        self,
        namespace: str,
        blob_dir: Path,
        backend: Any | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.service = f"xdrconf/{namespace}"
        self.blob_dir = blob_dir
        self.timeout = timeout
        self._given = backend
        self._backend: Any = None
        self.refusal = ""  # why no keyring backend may be used ("" when one may)
        self._missing: tuple[str, ...] | None = None  # no OS keyring at all: the backends refused
        self._thread: _KeyringThread | None = None
        self._thread_lock = threading.Lock()
        self._closed = False
        self._hung = False
        self._link: _SecretServiceLink | Literal[False] | None = None  # False: not usable

    def close(self) -> None:
        """Stop the keyring thread and close the kept-open session. A call made after
        (by work that was already under way) still works, on a thread of its own that ends
        with it."""
        with self._thread_lock:
            self._closed = True
            worker, hung, self._thread = self._thread, self._hung, None
            link, self._link = self._link, None
        if worker is not None:
            worker.stop(0 if hung else 1.0)
        if link:
            link.close()

    # ---- backend ------------------------------------------------------------------
    def _run(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        self._resolve()
        if self.refusal:
            raise KeyringUnavailable(self.refusal_message())
        with self._thread_lock:
            if self._closed:
                worker = _KeyringThread()
            else:
                if self._thread is None or self._hung:
                    self._thread = _KeyringThread()
                    self._hung = False
                worker = self._thread
            once = self._closed
        timeout = self.timeout if timeout is None else timeout
        try:
            return worker.call(fn, timeout)
        except TimeoutError:
            # That thread is stuck (e.g. behind a password prompt): use a new one next time.
            self._hung = True
            raise KeyringUnavailable(
                _(
                    "The OS keyring ({name}) did not answer within {seconds} s; it may be locked "
                    "and waiting for a password."
                ).format(name=self.backend_name, seconds=f"{timeout:g}")
            ) from None
        finally:
            if once:
                worker.stop(0)

    def _resolve(self) -> None:
        if self._backend is not None or self.refusal:
            return
        chosen = self._given
        if chosen is None:
            import keyring

            chosen = keyring.get_keyring()
        backend, why, missing = _judge(chosen)
        if backend is None:
            self.refusal, self._missing = why, missing
            self._backend = chosen
        else:
            self._backend = backend

    def refusal_message(self) -> str:
        if self._missing is not None and not self._missing:
            return _(
                "No OS keyring is available (no Secret Service, Keychain or Credential Manager was found)."
            )
        if self._missing:
            return _(
                "No OS keyring is available (no Secret Service, Keychain or Credential Manager was "
                "found; {backends}: not used, no OS keyring)."
            ).format(backends=", ".join(self._missing))
        return _("The OS keyring cannot be used for secrets ({reason}).").format(reason=self.refusal)

    @property
    def backend(self) -> Any:
        self._resolve()
        return self._backend

    @property
    def backend_name(self) -> str:
        try:
            return _describe_backend(self.backend)
        except Exception:  # noqa: BLE001
            return _("unknown keyring")

    def describe(self) -> str:
        # TRANSLATORS: the status bar's secret store; {name} is e.g. "Secret Service"
        return _("OS keyring: {name}").format(name=self.backend_name)

    def _wrap(self, exc: BaseException) -> KeyringUnavailable:
        return KeyringUnavailable(explain_keyring_error(exc, self.backend_name))

    def status(self) -> StoreStatus:
        """Whether secrets can be stored now: a write, a read and a delete of a probe entry."""
        name = self.describe()
        probe = "probe-" + os.urandom(6).hex()
        try:
            self._run(lambda: self._write(probe, "probe"))
            self._run(lambda: self._remove(probe))
        except KeyringUnavailable as exc:
            return StoreStatus("keyring", name, False, str(exc))
        except Exception as exc:  # noqa: BLE001
            return StoreStatus("keyring", name, False, explain_keyring_error(exc, self.backend_name))
        return StoreStatus("keyring", name, True)

    # ---- raw entries ------------------------------------------------------------------
    def _set(self, ref: str, value: str) -> None:
        try:
            self._run(lambda: self._write(ref, value))
        except KeyringUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None

    def _get(self, ref: str) -> str | None:
        try:
            return self._run(lambda: self._read(ref))
        except KeyringUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None

    def _link_here(self) -> _SecretServiceLink | Literal[False]:
        """On the keyring thread: the kept-open Secret Service connection, or False."""
        link = self._link
        if link is None:
            link = self._link = _SecretServiceLink.for_backend(self.backend) or False
        elif link and link.thread != threading.get_ident():
            link.close()  # the previous keyring thread was abandoned: start afresh
            link = self._link = _SecretServiceLink.for_backend(self.backend) or False
        return link

    def _drop_link(self, link: _SecretServiceLink) -> None:
        link.close()
        if self._link is link:
            self._link = None

    def _read(self, ref: str) -> str | None:
        """On the keyring thread: through the kept-open Secret Service connection when the
        backend is Secret Service, else (locked, any trouble) the backend's own path."""
        link = self._link_here()
        if link:
            try:
                return link.get(self.service, ref)
            except _Locked:
                pass  # the backend asks to unlock, or says why it cannot
            except Exception:  # noqa: BLE001 - connection gone: the backend says why, a new link next time
                self._drop_link(link)
        stored = self.backend.get_password(self.service, ref)
        if stored is None:
            return None
        owner, value = unmarked(stored)
        return value if owner in (None, ref) else None  # another entry's value: not this one's

    def _read_many(self, names: list[str]) -> dict[str, str | None]:
        """On the keyring thread: many entries in one batch through the kept-open connection
        (Secret Service: one search, one GetSecrets); what it cannot read (a locked item,
        any trouble) is read one by one as _read does."""
        out: dict[str, str | None] = {}
        link = self._link_here()
        if link:
            try:
                out = link.get_many(self.service, names)
            except _Locked:
                pass
            except Exception:  # noqa: BLE001 - connection gone: one by one, the backend says why
                self._drop_link(link)
        return out | {name: self._read(name) for name in names if name not in out}

    def _write(self, ref: str, value: str) -> None:
        """On the keyring thread: store (or replace) an entry, through the kept-open Secret
        Service connection when there is one, else (locked, any trouble) the backend's way."""
        stored = marked(ref, value)
        link = self._link_here()
        if link:
            try:
                link.write(self.service, ref, stored)
                return
            except _Locked:
                pass  # the backend asks to unlock, or says why it cannot
            except Exception:  # noqa: BLE001 - connection gone: the backend's way, a new link next time
                self._drop_link(link)
        self.backend.set_password(self.service, ref, stored)

    def _remove(self, ref: str) -> None:
        """On the keyring thread: delete an entry (one that is already gone is no error),
        the kept-open connection first as _write does."""
        from keyring.errors import PasswordDeleteError

        link = self._link_here()
        if link:
            try:
                link.delete(self.service, ref)
                return
            except _Locked:
                pass
            except Exception:  # noqa: BLE001
                self._drop_link(link)
        with contextlib.suppress(PasswordDeleteError):  # already gone: the goal is reached
            self.backend.delete_password(self.service, ref)

    def _delete(self, ref: str) -> None:
        try:
            self._run(lambda: self._remove(ref))
        except KeyringUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None

    # ---- public API -------------------------------------------------------------------
    def put(self, value: str, label: SecretLabel) -> str:
        """Store a new secret; returns its reference. (The label is for the vault; keyring
        entries are named by their reference only.)"""
        if len(value) <= INLINE_LIMIT:
            ref = os.urandom(16).hex()
            self._set(ref, value)
            return ref
        return self._put_blob(value)

    def get(self, ref: str) -> str | None:
        """The secret, or None when the keyring no longer has it."""
        if ref.startswith(BLOB_PREFIX):
            return self._get_blob(ref)
        return self._get(ref)

    def prime(self) -> int:
        """Get ready for a large batch ahead of it (the window does it after start-up when it
        holds many integrations): the Secret Service connection and session opened and the
        items found, on the keyring thread; no secret is read. Returns how many items there
        are; 0 where there is nothing to prepare (another backend, a locked collection) or on
        any trouble (a read says why)."""

        def prime() -> int:
            link = self._link_here()
            if not link:
                return 0
            try:
                return link.prime(self.service)
            except Exception:  # noqa: BLE001 - nothing is lost: get_many reads them itself
                self._drop_link(link)
                return 0

        try:
            return int(self._run(prime, self.timeout + 10.0))
        except Exception:  # noqa: BLE001 - the keyring cannot be used now: the reads will say so
            return 0

    def get_many(self, refs: Iterable[str]) -> dict[str, str | None]:
        """Many secrets at once (a scheduler's prefetch): the keyring reads run as one job
        on the keyring thread, blobs are decrypted afterwards. Raises KeyringUnavailable as
        get() does; a value the keyring no longer has is None."""
        wanted = list(dict.fromkeys(refs))
        names = {ref: ref[len(BLOB_PREFIX) :] if ref.startswith(BLOB_PREFIX) else ref for ref in wanted}
        try:
            raw = self._run(lambda: self._read_many(list(names.values())), self.timeout + 0.05 * len(names))
        except KeyringUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None
        out: dict[str, str | None] = {}
        for ref, name in names.items():
            value = raw.get(name)
            out[ref] = self._open_blob(name, value) if ref.startswith(BLOB_PREFIX) and value else value
        return out

    def delete(self, ref: str) -> None:
        if ref.startswith(BLOB_PREFIX):
            name = ref[len(BLOB_PREFIX) :]
            self._delete(name)
            with contextlib.suppress(FileNotFoundError):
                (self.blob_dir / f"{name}.bin").unlink()
            return
        self._delete(ref)

    def copy(self, ref: str, label: SecretLabel) -> str | None:
        value = self.get(ref)
        if value is None:
            return None
        return self.put(value, label)

    def relabel(self, ref: str, label: SecretLabel) -> None:
        """Nothing to do: keyring entries carry no tenant path."""

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        yield

    # ---- large values -----------------------------------------------------------------
    def _put_blob(self, value: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        name = os.urandom(16).hex()
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(key).encrypt(nonce, value.encode(), name.encode())
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        if sys.platform != "win32":
            os.chmod(self.blob_dir, 0o700)
        path = self.blob_dir / f"{name}.bin"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(sealed)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            self._set(name, base64.b64encode(key).decode())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return BLOB_PREFIX + name

    def _get_blob(self, ref: str) -> str | None:
        name = ref[len(BLOB_PREFIX) :]
        key_text = self._get(name)
        if key_text is None:
            return None
        return self._open_blob(name, key_text)

    def _open_blob(self, name: str, key_text: str) -> str | None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            sealed = (self.blob_dir / f"{name}.bin").read_bytes()
        except FileNotFoundError:
            return None
        try:
            plain = AESGCM(base64.b64decode(key_text)).decrypt(sealed[:12], sealed[12:], name.encode())
        except (InvalidTag, ValueError):
            raise KeyringUnavailable(
                _(
                    "The encrypted secret file {file} does not match its key in the keyring "
                    "(it was altered or replaced); enter the secret again."
                ).format(file=f"{name}.bin")
            ) from None
        return plain.decode()


SS_BUS_NAME = "org.freedesktop.secrets"
SS_SERVICE_PATH = "/org/freedesktop/secrets"
SS_SERVICE = "org.freedesktop.Secret.Service"
SS_COLLECTION = "org.freedesktop.Secret.Collection"
SS_ITEM = "org.freedesktop.Secret.Item"
IN_FLIGHT = 128  # D-Bus calls sent ahead of their replies (pipelined) at most
READ_TIMEOUT = 10.0  # seconds for one batch of D-Bus replies


class _Locked(RuntimeError):
    """The collection or item is locked: the backend's own path must ask to unlock it."""


class _SecretServiceLink:
    """Every Secret Service call of one store, through one D-Bus connection and one
    encrypted session kept open on the keyring thread.

    keyring's SecretService backend opens a connection and a Diffie-Hellman session for
    every call and closes it afterwards: about 14 ms and two 1024-bit modular
    exponentiations holding the GIL (this path takes about 2 ms), and a connect, call,
    disconnect cycle that fires a race in gnome-keyring: a client that disconnects while
    its property read is still queued makes the daemon abort (GLib's
    invoke_get_property_in_idle_cb assertion), which cuts every application's connection
    to it. So reads, writes and deletes all go this way; only what needs a prompt (a
    locked collection or item: _Locked) and a lost connection go the backend's way, which
    unlocks or explains.

    Many entries at once (get_many): one SearchItems for the service's items and one
    GetSecrets for those that may hold a wanted entry; each value names its entry
    (`marked`), so no item is asked for its attributes unless its value names none. Which
    item holds which entry is kept: the Secret Service announces every item created,
    changed or deleted with a signal, which reaches this connection before the reply to
    any later call (D-Bus keeps one sender's messages in order), and each such signal drops
    what was kept of its item. So a second batch reads only the items it wants."""

    def __init__(self, backend: Any) -> None:
        import secretstorage
        from jeepney import MatchRule, message_bus
        from jeepney.io.blocking import Proxy
        from secretstorage.util import open_session

        self.thread = threading.get_ident()
        self.query = backend._query
        self.appid = str(backend.appid)
        self.connection = secretstorage.dbus_init()
        # Closed with the reader, or at exit: never left for the garbage collector to warn about.
        self._closer = weakref.finalize(self, self.connection.close)
        self._owners: dict[str, str] = {}  # item path -> the entry it holds, as read
        self._listed: set[str] = set()  # the items of _owners known by their attributes alone
        self._changes: collections.deque[Any] = collections.deque()  # item signals not yet seen
        try:
            if hasattr(backend, "preferred_collection"):
                self.collection = secretstorage.Collection(self.connection, backend.preferred_collection)
            else:
                self.collection = secretstorage.get_default_collection(self.connection)
            # Subscribed before anything is read, so that no change is missed.
            self._change_rule = MatchRule(type="signal", interface=SS_COLLECTION)
            self.connection.filter(self._change_rule, queue=self._changes)
            Proxy(message_bus, self.connection).AddMatch(
                MatchRule(type="signal", sender=SS_BUS_NAME, interface=SS_COLLECTION)
            )
            self.session = open_session(self.connection)
        except BaseException:
            self._closer()
            raise

    @classmethod
    def for_backend(cls, backend: Any) -> _SecretServiceLink | None:
        if type(backend).__module__ != "keyring.backends.SecretService" or not hasattr(backend, "_query"):
            return None
        try:
            return cls(backend)
        except Exception:  # noqa: BLE001 - no fast path; the backend will report problems
            return None

    def _unlocked(self) -> None:
        if self.collection.is_locked():
            raise _Locked("collection locked")

    def _items(self, service: str, username: str) -> list[Any]:
        self._unlocked()
        items = list(self.collection.search_items(self.query(service, username)))
        for item in items:
            if item.is_locked():
                raise _Locked("item locked")
            item.session = self.session
        return items

    def get(self, service: str, username: str) -> str | None:
        """The entry's value: of the items found under its attributes, the first whose
        value names it, else the first whose value names no entry (written by another
        program). When none does, the item whose value names it wherever it is (get_many):
        its attributes may have been changed."""
        unnamed: list[str] = []
        for item in self._items(service, username):
            owner, value = unmarked(item.get_secret().decode("utf-8"))
            if owner == username:
                return value
            if owner is None:
                unnamed.append(value)
        if unnamed:
            return unnamed[0]
        return self.get_many(service, [username]).get(username)

    def write(self, service: str, username: str, value: str) -> None:
        """Store the entry as keyring's backend does (the same attributes and label, an
        item with the same attributes replaced)."""
        self._unlocked()
        self.collection.session = self.session
        attributes = self.query(service, username, application=self.appid)
        self.collection.create_item(
            f"Password for '{username}' on '{service}'", attributes, value.encode("utf-8"), replace=True
        )

    def delete(self, service: str, username: str) -> None:
        """Delete every item of the entry (none: nothing to do): those found under its
        attributes, unless their value names another entry (that one's is kept); and when
        none of them names it, the items whose value names it wherever they are (their
        attributes changed)."""
        import secretstorage

        own = False
        for item in self._items(service, username):
            owner = unmarked(item.get_secret().decode("utf-8"))[0]
            if owner in (None, username):
                item.delete()
                own = own or owner == username
        if own:
            return
        paths, _opened = self._survey(service, {})
        for path in paths:
            if self._owners.get(path) == username and path not in self._listed:
                secretstorage.Item(self.connection, path, self.session).delete()

    def prime(self, service: str) -> int:
        """Open the connection and the session ahead of a large batch and find the
        service's items (no secret, no item read). Returns how many items there are."""
        if self.collection.is_locked():
            return 0
        return len(self._search(service))

    def _search(self, service: str) -> list[str]:
        from jeepney import DBusAddress

        collection = DBusAddress(self.collection.collection_path, SS_BUS_NAME, SS_COLLECTION)
        ((paths,),) = self._calls(
            [("", _method(collection, "SearchItems", "a{ss}", self.query(service)))]
        ).values()
        return list(paths)

    def get_many(self, service: str, usernames: list[str]) -> dict[str, str | None]:
        """The entries of `usernames` (None: not stored). Names left out of the answer
        could not be read this way (a locked item, an item that changed meanwhile): the
        caller reads those one by one.

        One SearchItems for the service's items and one GetSecrets for those that may hold
        a wanted entry: each value names its entry (`marked`), so the items need not be
        asked for their attributes. Only values without that name (written by another
        program) are identified by their attributes, read for those items alone; an item
        whose value names the entry answers for it before those. Whichever way an item was
        identified is kept until a signal says it changed."""
        self._unlocked()
        wanted = dict.fromkeys(usernames)
        paths, opened = self._survey(service, wanted)
        # Each wanted name's items in the search's order: those whose value names it, then
        # those found by their attributes alone (the first answers, as keyring's search).
        named: dict[str, list[str]] = {name: [] for name in wanted}
        listed: dict[str, list[str]] = {name: [] for name in wanted}
        unknown = False  # an item not identified (changed meanwhile): it may be anyone's
        for path in paths:
            owner = self._owners.get(path)
            if owner is None:
                unknown = True
            elif owner in wanted:
                (listed if path in self._listed else named)[owner].append(path)
        out: dict[str, str | None] = {}
        for name in wanted:
            first = named[name][:1] or ([] if unknown else listed[name][:1])
            if first and first[0] in opened:
                out[name] = opened[first[0]]
            elif not first and not unknown:
                out[name] = None  # no item holds it
        return out

    def _survey(self, service: str, wanted: dict[str, None]) -> tuple[list[str], dict[str, str]]:
        """The service's items (in the search's order), and the values of those not
        identified yet or holding a wanted entry (_open), by path."""
        paths = self._search(service)
        self._forget_changed()
        ask = [p for p in paths if p not in self._owners or self._owners[p] in wanted]
        return paths, self._open(service, ask)

    def _open(self, service: str, paths: list[str]) -> dict[str, str]:
        """One GetSecrets for the items: their values by path, and whose each is kept in
        _owners (the name in the value; else the item's attributes, read the first time).
        An item that is locked or changed meanwhile is left out."""
        from jeepney import DBusAddress, Properties

        if not paths:
            return {}
        service_address = DBusAddress(SS_SERVICE_PATH, SS_BUS_NAME, SS_SERVICE)
        ((secrets,),) = self._calls(
            [("", _method(service_address, "GetSecrets", "aoo", paths, self.session.object_path))]
        ).values()
        changed = self._forget_changed()
        opened: dict[str, str] = {}
        unnamed: dict[str, str] = {}
        for path in paths:
            secret = secrets.get(path)
            if secret is None or path in changed:  # locked, or changed meanwhile
                continue
            owner, value = unmarked(self._decrypt(secret).decode("utf-8"))
            if owner is not None:
                self._owners[path] = owner
                self._listed.discard(path)
            elif path not in self._owners:  # known by its attributes already, else read them
                unnamed[path] = value
                continue
            opened[path] = value
        if unnamed:
            service_key = next(iter(self.query(service)))
            name_key = next(k for k in self.query(service, "") if k != service_key)
            read = self._calls(
                [(p, Properties(DBusAddress(p, SS_BUS_NAME, SS_ITEM)).get("Attributes")) for p in unnamed]
            )
            for path, ((_signature, attributes),) in read.items():
                ours = attributes.get(service_key) == service and name_key in attributes
                self._owners[path] = attributes[name_key] if ours else ""  # "": no entry's
                self._listed.add(path)
                if ours:
                    opened[path] = unnamed[path]
            for path in self._forget_changed():  # changed while being read: not trusted
                opened.pop(path, None)
        return opened

    def _decrypt(self, secret: tuple[str, bytes, bytes, str]) -> bytes:
        """A secret as the session sent it (as secretstorage's Item.get_secret decrypts)."""
        if not self.session.encrypted:
            return bytes(secret[2])
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        assert self.session.aes_key is not None
        decryptor = Cipher(algorithms.AES(self.session.aes_key), modes.CBC(bytes(secret[1]))).decryptor()
        padded = decryptor.update(bytes(secret[2])) + decryptor.finalize()
        return padded[: -padded[-1]]

    def _forget_changed(self) -> set[str]:
        """Drop what is kept of the items the signals received so far name; returns them."""
        changed: set[str] = set()
        while self._changes:
            body = self._changes.popleft().body
            if body and isinstance(body[0], str):
                changed.add(body[0])
                self._owners.pop(body[0], None)
                self._listed.discard(body[0])
        return changed

    def _calls(self, calls: list[tuple[str, Any]]) -> dict[str, Any]:
        """Send the method calls (key, message) ahead of their replies, at most IN_FLIGHT
        at a time; the reply bodies by key. An error reply raises."""
        from jeepney import DBusErrorResponse, HeaderFields, MessageType

        conn = self.connection
        deadline = time.monotonic() + READ_TIMEOUT
        todo = iter(calls)
        pending: dict[int, str] = {}
        out: dict[str, Any] = {}
        while True:
            # Refilled by halves, in one write each: a write per call cost half the time.
            chunk: list[bytes] = []
            room = IN_FLIGHT - len(pending) if len(pending) <= IN_FLIGHT // 2 else 0
            while len(chunk) < room:
                call = next(todo, None)
                if call is None:
                    break
                serial = next(conn.outgoing_serial)
                chunk.append(call[1].serialise(serial=serial))
                pending[serial] = call[0]
            if chunk:
                conn.sock.sendall(b"".join(chunk))
            if not pending:
                return out
            msg = conn.receive(timeout=max(0.0, deadline - time.monotonic()))
            key = pending.pop(msg.header.fields.get(HeaderFields.reply_serial, -1), None)
            if key is None:
                if self._change_rule.matches(msg):
                    self._changes.append(msg)
                continue
            if msg.header.message_type == MessageType.error:
                raise DBusErrorResponse(msg)
            out[key] = msg.body

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self._closer()


def _method(address: Any, method: str, signature: str, *body: Any) -> Any:
    from jeepney import new_method_call

    return new_method_call(address, method, signature, body)


# ---- the store in use -----------------------------------------------------------------------


class SecretStores:
    """The secret store of one config folder, as the rest of xdrconf sees it.

    Which store new secrets go to: the app setting `secret_store` (keyring | vault) when it
    is set; otherwise the OS keyring when one is usable (a safe backend that stores and
    deletes a probe entry within the timeout), else the vault. Settings written before the
    vault existed hold keyring references only: they stay with the keyring. The Workspace
    records the choice in the settings with the first secret it stores, so secrets never
    change store unless `Workspace.move_secrets` moves them.

    Reads, deletes and relabels go to the store that holds the reference (`vault:` ones to
    the vault, all others to the keyring), whatever the current choice."""

    def __init__(
        self,
        namespace: str,
        config_dir: Path,
        *,
        setting: Callable[[], Any],
        refs: Callable[[], list[str]],
        keyring_backend: Any | None = None,
        keyring_timeout: float | None = None,
        vault_kdf: Any = None,
    ) -> None:
        from .vault import DEFAULT_KDF, VaultStore

        kwargs: dict[str, Any] = {}
        if keyring_timeout is not None:
            kwargs["timeout"] = keyring_timeout
        self.keyring = SecretStore(namespace, config_dir / "secrets", backend=keyring_backend, **kwargs)
        self.vault = VaultStore(config_dir, kdf=vault_kdf or DEFAULT_KDF)
        self._setting = setting
        self._refs = refs
        self._auto: str | None = None
        self._auto_lock = threading.Lock()
        self.auto_reason = ""  # why the vault was chosen, when it was chosen automatically

    # ---- choosing ---------------------------------------------------------------------
    def known_kind(self) -> str | None:
        """The store new secrets go to, if that is known without asking the keyring."""
        value = self._setting()
        if value in STORE_KINDS:
            return str(value)
        if self._auto is not None:
            return self._auto
        refs = self._refs()
        if refs:
            return "vault" if all(r.startswith(VAULT_PREFIX) for r in refs) else "keyring"
        if self.vault.exists():
            return "vault"
        return None

    def chosen_kind(self) -> str:
        """The store new secrets go to; may probe the keyring (up to its timeout)."""
        known = self.known_kind()
        if known is not None:
            return known
        with self._auto_lock:
            if self._auto is None:
                status = self.keyring.status()
                self._auto = "keyring" if status.usable else "vault"
                self.auto_reason = "" if status.usable else status.reason
            return self._auto

    def store(self, kind: str) -> SecretStore | Any:
        if kind == "vault":
            return self.vault
        if kind == "keyring":
            return self.keyring
        raise ValueError(kind)

    def current(self) -> SecretStore | Any:
        return self.store(self.chosen_kind())

    def holder(self, ref: str) -> SecretStore | Any:
        return self.vault if ref.startswith(VAULT_PREFIX) else self.keyring

    @property
    def kind(self) -> str:
        return self.chosen_kind()

    @property
    def service(self) -> str:
        """The keyring service name of this config folder's entries."""
        return self.keyring.service

    # ---- the store interface (what the rest of xdrconf calls) ------------------------------
    def put(self, value: str, label: SecretLabel) -> str:
        """Store a new secret in the current store; returns its reference."""
        return self.current().put(value, label)

    def get(self, ref: str) -> str | None:
        return self.holder(ref).get(ref)

    def prime(self) -> int:
        """SecretStore.prime for the keyring's entries, when the keyring holds any (the
        vault needs none: one read of the unlocked database serves a batch)."""
        if not any(not ref.startswith(VAULT_PREFIX) for ref in self._refs()):
            return 0
        return self.keyring.prime()

    def get_many(self, refs: Iterable[str]) -> dict[str, str | None]:
        """Many secrets at once (a scheduler's prefetch): the keyring's in one batch, the
        vault's in one read of the unlocked database. A locked vault's are left out: they
        are read when used, as the vault may have to ask for its passphrase."""
        wanted = list(dict.fromkeys(refs))
        in_vault = [r for r in wanted if r.startswith(VAULT_PREFIX)]
        in_keyring = [r for r in wanted if not r.startswith(VAULT_PREFIX)]
        out = self.vault.get_many(in_vault) if in_vault else {}
        if in_keyring:
            out.update(self.keyring.get_many(in_keyring))
        return out

    def delete(self, ref: str) -> None:
        self.holder(ref).delete(ref)

    def copy(self, ref: str, label: SecretLabel) -> str | None:
        """A new entry (in the current store) with the value of ref, or None if it is gone."""
        value = self.get(ref)
        if value is None:
            return None
        return self.put(value, label)

    def relabel(self, ref: str, label: SecretLabel) -> None:
        self.holder(ref).relabel(ref, label)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Vault changes inside are saved once, at the end."""
        with self.vault.batch():
            yield

    def status(self) -> StoreStatus:
        """The current store's status (chooses the store first; never asks for a passphrase)."""
        status = self.current().status()
        if status.kind == "vault" and self.auto_reason and not self.vault.exists():
            # Two sentences: why the vault was chosen, then what happens next.
            return StoreStatus(status.kind, status.name, status.usable, f"{self.auto_reason} {status.reason}")
        return status

    def describe(self) -> str:
        """The store in words, without probing ("OS keyring: Secret Service", "Vault: …")."""
        kind = self.known_kind()
        if kind is None:
            return _("Secret store: not chosen yet")
        return self.store(kind).describe()

    def close(self) -> None:
        """Stop the keyring's thread and forget the vault's key (the Workspace closes)."""
        self.keyring.close()
        if self.vault.unlocked:
            self.vault.lock()

    @property
    def in_vault(self) -> bool:
        """Whether secrets go to (and come from) the vault; else the OS keyring. Messages
        that name the place say the whole sentence for each (Russian declines the noun)."""
        return self.known_kind() == "vault"
