"""Secrets in the OS keyring, through `keyring`, and nowhere else in plain text.

Design:
- Every entry is filed under the service ``xdrconf/<namespace>`` where the namespace is the
  random id of one settings folder, with a fresh random reference as the user name. Entries
  are never updated in place: a new value gets a new reference, the settings document is
  saved pointing at it, and only then the old entry is deleted. A failure at any step
  leaves the previous secret and settings in force.
- Values longer than INLINE_LIMIT characters (an RSA private key in PEM, for instance)
  do not fit some keyrings: Windows Credential Manager holds at most 2,560 bytes per
  secret as UTF-16. Such a value is encrypted with AES-256-GCM under a fresh random key;
  the ciphertext goes to ``secrets/<ref>.bin`` in the config folder and only the 32-byte
  key (base64, 44 characters) goes into the keyring. The reference is the GCM associated
  data, so a ciphertext file cannot be swapped for another. Deleting the secret deletes
  both parts.
- Every keyring call runs on one background thread, one at a time, and is abandoned after
  a timeout, so a keyring that waits on a password prompt can never hang the caller."""

from __future__ import annotations

import base64
import contextlib
import os
import queue
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from .errors import KeyringUnavailable

INLINE_LIMIT = 1000  # characters kept directly in the keyring
BLOB_PREFIX = "blob:"
DEFAULT_TIMEOUT = 10.0
T = TypeVar("T")


@dataclass(frozen=True)
class KeyringStatus:
    name: str
    usable: bool
    reason: str = ""


def _describe_backend(backend: Any) -> str:
    name = getattr(backend, "name", None) or type(backend).__name__
    return str(name)


def explain_keyring_error(exc: BaseException, backend_name: str) -> str:
    """One sentence naming the cause; never includes a secret (keyring messages do not)."""
    from keyring import errors as kerr

    cls = type(exc).__name__
    text = str(exc).strip()
    if isinstance(exc, kerr.NoKeyringError) or "fail.Keyring" in backend_name:
        return (
            "No OS keyring is available (no Secret Service, Keychain or Credential Manager was "
            "found), so secrets cannot be stored; install and start one, e.g. gnome-keyring."
        )
    if isinstance(exc, kerr.KeyringLocked) or "locked" in text.lower() or "dismissed" in text.lower():
        return (
            f"The OS keyring ({backend_name}) is locked and was not unlocked; unlock it "
            "(e.g. log in to the desktop session) and try again."
        )
    detail = f": {text}" if text else ""
    return f"The OS keyring ({backend_name}) refused the request ({cls}{detail})."


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
    """Secrets of one settings folder."""

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
        self._backend = backend
        self._thread: _KeyringThread | None = None
        self._thread_lock = threading.Lock()
        self._closed = False
        self._hung = False
        self._reader: _SecretServiceReader | Literal[False] | None = None  # False: not usable

    def close(self) -> None:
        """Stop the keyring thread and close the kept-open session. A call made after
        (by work that was already under way) still works, on a thread of its own that ends
        with it."""
        with self._thread_lock:
            self._closed = True
            worker, hung, self._thread = self._thread, self._hung, None
            reader, self._reader = self._reader, None
        if worker is not None:
            worker.stop(0 if hung else 1.0)
        if reader:
            reader.close()

    # ---- backend ------------------------------------------------------------------
    def _run(self, fn: Callable[[], T]) -> T:
        with self._thread_lock:
            if self._closed:
                worker = _KeyringThread()
            else:
                if self._thread is None or self._hung:
                    self._thread = _KeyringThread()
                    self._hung = False
                worker = self._thread
            once = self._closed
        try:
            return worker.call(fn, self.timeout)
        except TimeoutError:
            # That thread is stuck (e.g. behind a password prompt): use a new one next time.
            self._hung = True
            raise KeyringUnavailable(
                f"The OS keyring ({self.backend_name}) did not answer within "
                f"{self.timeout:g} seconds; it may be locked and waiting for a password."
            ) from None
        finally:
            if once:
                worker.stop(0)

    @property
    def backend(self) -> Any:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    @property
    def backend_name(self) -> str:
        try:
            return _describe_backend(self.backend)
        except Exception:  # noqa: BLE001
            return "unknown keyring"

    def _wrap(self, exc: BaseException) -> KeyringUnavailable:
        return KeyringUnavailable(explain_keyring_error(exc, self.backend_name))

    def status(self) -> KeyringStatus:
        """Whether secrets can be stored now: a write, a read and a delete of a probe entry."""
        name = self.backend_name
        probe = "probe-" + os.urandom(6).hex()
        try:
            self._run(lambda: self.backend.set_password(self.service, probe, "probe"))
            self._run(lambda: self.backend.delete_password(self.service, probe))
        except KeyringUnavailable as exc:
            return KeyringStatus(name, False, str(exc))
        except Exception as exc:  # noqa: BLE001
            return KeyringStatus(name, False, explain_keyring_error(exc, name))
        return KeyringStatus(name, True)

    # ---- raw entries ------------------------------------------------------------------
    def _set(self, ref: str, value: str) -> None:
        try:
            self._run(lambda: self.backend.set_password(self.service, ref, value))
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

    def _read(self, ref: str) -> str | None:
        """On the keyring thread: through the kept-open Secret Service session when the
        backend is Secret Service, else (or on any trouble) the backend's own path."""
        reader = self._reader
        if reader is None:
            reader = self._reader = _SecretServiceReader.for_backend(self.backend) or False
        elif reader and reader.thread != threading.get_ident():
            reader.close()  # the previous keyring thread was abandoned: start afresh
            reader = self._reader = _SecretServiceReader.for_backend(self.backend) or False
        if reader:
            try:
                return reader.get(self.service, ref)
            except Exception:  # noqa: BLE001 - locked, session gone: the backend says why
                reader.close()
                self._reader = None
        return self.backend.get_password(self.service, ref)

    def _delete(self, ref: str) -> None:
        from keyring.errors import PasswordDeleteError

        def delete() -> None:
            with contextlib.suppress(PasswordDeleteError):  # already gone: the goal is reached
                self.backend.delete_password(self.service, ref)

        try:
            self._run(delete)
        except KeyringUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None

    # ---- public API -------------------------------------------------------------------
    def put(self, value: str) -> str:
        """Store a new secret; returns its reference."""
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

    def delete(self, ref: str) -> None:
        if ref.startswith(BLOB_PREFIX):
            name = ref[len(BLOB_PREFIX) :]
            self._delete(name)
            with contextlib.suppress(FileNotFoundError):
                (self.blob_dir / f"{name}.bin").unlink()
            return
        self._delete(ref)

    def copy(self, ref: str) -> str | None:
        value = self.get(ref)
        if value is None:
            return None
        return self.put(value)

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
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        name = ref[len(BLOB_PREFIX) :]
        key_text = self._get(name)
        if key_text is None:
            return None
        try:
            sealed = (self.blob_dir / f"{name}.bin").read_bytes()
        except FileNotFoundError:
            return None
        try:
            plain = AESGCM(base64.b64decode(key_text)).decrypt(sealed[:12], sealed[12:], name.encode())
        except (InvalidTag, ValueError):
            raise KeyringUnavailable(
                f"The encrypted secret file {name}.bin does not match its key in the keyring "
                "(it was altered or replaced); enter the secret again."
            ) from None
        return plain.decode()


class _SecretServiceReader:
    """Reads Secret Service entries through one D-Bus connection and one encrypted session
    kept open on the keyring thread. keyring's SecretService backend opens a connection
    and a Diffie-Hellman session for every call (about 14 ms and two 1024-bit modular
    exponentiations holding the GIL), which is what checking 500 tenants at once spends
    its time on; this path takes about 2 ms. Writes and deletes stay with the backend.
    Anything unusual (a locked collection or item, a lost connection) raises, and the
    caller falls back to the backend, which unlocks or explains."""

    def __init__(self, backend: Any) -> None:
        import secretstorage
        from secretstorage.util import open_session

        self.thread = threading.get_ident()
        self.query = backend._query
        self.connection = secretstorage.dbus_init()
        # Closed with the reader, or at exit: never left for the garbage collector to warn about.
        self._closer = weakref.finalize(self, self.connection.close)
        try:
            if hasattr(backend, "preferred_collection"):
                self.collection = secretstorage.Collection(self.connection, backend.preferred_collection)
            else:
                self.collection = secretstorage.get_default_collection(self.connection)
            self.session = open_session(self.connection)
        except BaseException:
            self._closer()
            raise

    @classmethod
    def for_backend(cls, backend: Any) -> _SecretServiceReader | None:
        if type(backend).__module__ != "keyring.backends.SecretService" or not hasattr(backend, "_query"):
            return None
        try:
            return cls(backend)
        except Exception:  # noqa: BLE001 - no fast path; the backend will report problems
            return None

    def get(self, service: str, username: str) -> str | None:
        if self.collection.is_locked():
            raise RuntimeError("collection locked")
        for item in self.collection.search_items(self.query(service, username)):
            if item.is_locked():
                raise RuntimeError("item locked")
            item.session = self.session
            return item.get_secret().decode("utf-8")
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self._closer()
