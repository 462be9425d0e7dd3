"""Secrets in an encrypted KeePass vault, for machines where no OS keyring serves.

The vault is `secrets.kdbx` in the config folder: a KeePass database (KDBX 4, AES-256,
Argon2id) that KeePassXC opens with the same passphrase. Entries are grouped by tenant
path (`Root tenant` / `EU` / `Acme`) and titled `<integration> / <field>`
(`KUMA REST API / API token`), so an analyst can find, read or rotate a secret with the
tools they already trust; xdrconf finds an entry by its UUID, so a password changed or an
entry moved in KeePassXC is still the one xdrconf reads. A reference is `vault:<uuid hex>`.

Holding the passphrase: it is used once, to derive the database key with Argon2id, and
dropped right after (`unlock` / `create` keep no reference to it; pykeepass's copy is
cleared). What stays in memory while the vault is unlocked, until `lock()` or the end of
the process: the decrypted database, the derived 32-byte key, and KeePass's 32-byte
composite key (SHA-256 of SHA-256 of the passphrase), which KeePassXC's saves need: they
draw a new KDF salt, and the composite key derives the key for it without asking again.
Neither reveals the passphrase itself. Python strings cannot be wiped, so the passphrase's
characters may linger in freed memory until it is reused. Nothing here logs a passphrase
or a secret.

Saving: the whole database is encrypted anew in memory (fresh master seed and IVs, the same
derived key) and written atomically, readable by its owner only (storage.write_private).
A file changed on disk since it was read (KeePassXC saved it) is read again before any
use, with the derived key; if that key no longer opens it, the vault is locked again."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import KeyringUnavailable
from .i18n import _, pN_

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .secret_types import SecretLabel, StoreStatus

VAULT_FILE = "secrets.kdbx"
REF_PREFIX = "vault:"
ROOT_GROUP = "xdrconf"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters of a new vault. The default takes about 0.45 s on one core of
    the 2-core test machine (64 MiB, 8 passes, 2 lanes; KeePassXC's default is 64 MiB
    tuned to 1 s). Existing vaults keep whatever parameters they were written with."""

    memory_kib: int = 64 * 1024
    iterations: int = 8
    parallelism: int = 2


DEFAULT_KDF = KdfParams()


class VaultLocked(KeyringUnavailable):
    """The vault is needed but not unlocked (no passphrase was given)."""


class WrongPassphrase(VaultLocked):
    """The passphrase does not open the vault."""


class VaultError(KeyringUnavailable):
    """The vault file cannot be used (damaged, not a KeePass file, cannot be written)."""


# passphrase_strength's words: compared and looked up as the English word, shown translated.
STRENGTH_WORDS = {
    "empty": pN_("passphrase strength", "empty"),
    "weak": pN_("passphrase strength", "weak"),
    "fair": pN_("passphrase strength", "fair"),
    "good": pN_("passphrase strength", "good"),
    "strong": pN_("passphrase strength", "strong"),
}

_UNKNOWN: Any = object()  # an argument not given (None means "there is none")

# An unlocker opens a locked vault on demand: called with the store and whether the vault
# must be created first; it calls store.unlock(passphrase) or store.create(passphrase) (or
# does nothing, when the user declined).
Unlocker = Callable[["VaultStore", bool], None]


def passphrase_strength(text: str) -> tuple[int, str]:
    """A rough entropy estimate in bits and a word for it: the character classes used give
    the alphabet size, each character adds log2 of it, repeated characters add half. The
    word is one of STRENGTH_WORDS (a LazyText: equal to the English word, shown translated)."""
    if not text:
        return 0, STRENGTH_WORDS["empty"]
    pool = 0
    if any(c.islower() for c in text):
        pool += 26
    if any(c.isupper() for c in text):
        pool += 26
    if any(c.isdigit() for c in text):
        pool += 10
    if any(not c.isalnum() and c.isascii() for c in text):
        pool += 33
    if any(not c.isascii() for c in text):
        pool += 100
    per_char = math.log2(max(pool, 2))
    bits = 0.0
    seen: set[str] = set()
    for c in text:
        bits += per_char / 2 if c in seen else per_char
        seen.add(c)
    value = int(bits)
    if value < 40:
        word = "weak"
    elif value < 60:
        word = "fair"
    elif value < 80:
        word = "good"
    else:
        word = "strong"
    return value, STRENGTH_WORDS[word]


def _composite(passphrase: str) -> bytes:
    """KeePass's composite key of a passphrase-only database: SHA-256(SHA-256(passphrase))."""
    from pykeepass.kdbx_parsing.common import compute_key_composite

    return bytes(compute_key_composite(password=passphrase, keyfile=None))


def _transform(params: Any, composite: bytes) -> bytes:
    """The derived key for a KDBX 4 header's KDF parameters."""
    from argon2.low_level import Type, hash_secret_raw
    from pykeepass.kdbx_parsing.common import aes_kdf
    from pykeepass.kdbx_parsing.kdbx4 import kdf_uuids

    kdf = params["$UUID"].value
    if kdf in (kdf_uuids["argon2"], kdf_uuids["argon2id"]):
        return hash_secret_raw(
            secret=composite,
            salt=params["S"].value,
            time_cost=params["I"].value,
            memory_cost=params["M"].value // 1024,
            parallelism=params["P"].value,
            hash_len=32,
            type=Type.ID if kdf == kdf_uuids["argon2id"] else Type.D,
            version=params["V"].value,
        )
    if kdf == kdf_uuids["aeskdf"]:
        return bytes(aes_kdf(params["S"].value, params["R"].value, composite))
    raise ValueError("unknown key derivation")


def _no_passphrase_message(path: Path) -> str:
    return _(
        "The vault {name} is locked and no passphrase was given, so secrets cannot be "
        "read or stored; nothing was changed."
    ).format(name=path.name)


class VaultStore:
    """The secrets of one config folder in `secrets.kdbx`. Thread-safe; every method that
    needs the secrets unlocks the vault first through `unlocker` (which may ask a person)."""

    kind = "vault"

    def __init__(
        self,
        config_dir: Path,
        *,
        unlocker: Unlocker | None = None,
        kdf: KdfParams = DEFAULT_KDF,
    ) -> None:
        self.path = config_dir / VAULT_FILE
        self.unlocker = unlocker
        self.kdf = kdf
        self._lock = threading.RLock()  # guards the database in memory and the file
        self._asking = threading.Lock()  # one passphrase question at a time
        self._declined = 0  # counts questions that ended without an unlocked vault
        self._kp: Any = None
        self._key: bytes | None = None  # the derived (transformed) key of the file as read
        self._composite: bytes | None = None  # SHA-256 of SHA-256 of the passphrase (see above)
        self._signature: tuple[int, int, int] | None = None
        self._entries: dict[str, Any] = {}
        self._batch = 0
        self._dirty = False
        self.listeners: list[Callable[[], None]] = []  # told when locked / unlocked / created
        # Called (on the unlocking thread) right after an unlock: the Workspace files entries
        # under their tenants' current paths (renames made while the vault was locked).
        self.after_unlock: Callable[[], None] | None = None

    # ---- state --------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    @property
    def unlocked(self) -> bool:
        return self._kp is not None

    def _is_open(self) -> bool:  # a call, so that type checkers do not narrow it
        return self._kp is not None

    def state_words(self) -> str:
        if self.unlocked:
            return _("unlocked")
        return _("locked") if self.exists() else _("not created yet")

    def describe(self) -> str:
        # TRANSLATORS: the status bar's secret store; {state} is "unlocked", "locked" or "not created yet"
        return _("Vault: {name}, {state}").format(name=self.path.name, state=self.state_words())

    def status(self) -> StoreStatus:
        """Never asks for the passphrase: a locked vault is usable (it is unlocked when a
        secret is needed)."""
        from .secret_types import StoreStatus

        reason = ""
        if not self.unlocked:
            reason = (
                _("xdrconf asks for the vault's passphrase when a secret is first needed.")
                if self.exists()
                else _("The vault is created, with a passphrase you choose, when the first secret is stored.")
            )
        return StoreStatus("vault", self.describe(), True, reason)

    def _notify(self) -> None:
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):  # a closed window must not break the store
                listener()

    # ---- opening ------------------------------------------------------------------------
    def unlock(self, passphrase: str) -> None:
        """Derive the key (Argon2, slow: call it off the GUI thread) and read the vault.
        WrongPassphrase when it does not open it; nothing is changed either way."""
        from pykeepass import PyKeePass
        from pykeepass.exceptions import CredentialsError

        if not passphrase:
            raise WrongPassphrase(
                _("The passphrase is empty; {name} was not opened.").format(name=self.path.name)
            )
        data, signature = self._read_file()
        try:
            kp = PyKeePass(io.BytesIO(data), password=passphrase)
        except CredentialsError:
            raise WrongPassphrase(
                _("The passphrase does not open the vault {name}; nothing was changed.").format(
                    name=self.path.name
                )
            ) from None
        except Exception as exc:  # noqa: BLE001 - pykeepass/construct raise many kinds
            raise self._unreadable(exc) from None
        kp.password = None  # pykeepass keeps its own copy otherwise
        with self._lock:
            self._composite = _composite(passphrase)
            self._install(kp, kp.transformed_key, signature)
        if self.after_unlock is not None:
            try:
                self.after_unlock()
            except Exception:  # noqa: BLE001 - filing entries anew is a courtesy, never a failure
                log.warning("could not file the vault's entries under their tenants' current paths")
        self._notify()

    def create(self, passphrase: str) -> None:
        """A new, empty vault (refuses to replace an existing one)."""
        from pykeepass.kdbx_parsing.kdbx4 import kdf_uuids

        if not passphrase:
            raise VaultError(_("The vault passphrase is empty; choose one to create the vault."))
        kp = self._blank()
        header = kp.kdbx.header.value.dynamic_header
        params = header.kdf_parameters.data.dict
        salt = os.urandom(32)
        params["$UUID"].value = kdf_uuids["argon2id"]
        params["S"].value = salt
        params["I"].value = self.kdf.iterations
        params["M"].value = self.kdf.memory_kib * 1024
        params["P"].value = self.kdf.parallelism
        params["V"].value = 0x13
        composite = _composite(passphrase)
        key = _transform(params, composite)
        kp.password = None
        # What KeePassXC shows of the database (written once, in the language of its creation).
        kp.database_name = _("xdrconf secrets")
        kp.database_description = _("Secrets of the xdrconf settings in {folder}").format(
            folder=self.path.parent
        )
        root = kp.root_group
        root.name = ROOT_GROUP
        root.uuid = uuid.uuid4()
        with self._lock:
            if self.exists():
                raise VaultError(
                    _("The vault {name} already exists; it was left as it is.").format(name=self.path.name)
                )
            self._kp, self._key, self._composite = kp, key, composite
            self._entries = {}
            try:
                self._write()
            except BaseException:
                self._kp = self._key = self._composite = None
                raise
        self._notify()

    def lock(self) -> None:
        """Forget the key and the decrypted secrets."""
        with self._lock:
            self._kp = self._key = self._composite = None
            self._entries = {}
            self._signature = None
        self._notify()

    @staticmethod
    def _blank() -> Any:
        """pykeepass's empty database template. It is protected by the public password
        'password' with 14 Argon2d passes (0.8 s here); its derived key is known, which
        saves that time, and the password is the fallback should the template change."""
        from pykeepass import PyKeePass
        from pykeepass.exceptions import CredentialsError
        from pykeepass.pykeepass import BLANK_DATABASE_LOCATION, BLANK_DATABASE_PASSWORD

        known = bytes.fromhex("0962cbeeed2e51b1417f31f21ef90cca3b205fe9bd987232ae23136a83be0cf7")
        try:
            return PyKeePass(BLANK_DATABASE_LOCATION, transformed_key=known)
        except CredentialsError:
            return PyKeePass(BLANK_DATABASE_LOCATION, BLANK_DATABASE_PASSWORD)

    def _read_file(self) -> tuple[bytes, tuple[int, int, int]]:
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                data = fh.read()
        except FileNotFoundError:
            raise VaultLocked(
                _("The vault {name} does not exist (yet); nothing was changed.").format(name=self.path.name)
            ) from None
        except OSError as exc:
            raise VaultError(
                _("The vault {path} cannot be read ({reason}).").format(path=self.path, reason=exc.strerror)
            ) from None
        return data, (st.st_ino, st.st_size, st.st_mtime_ns)

    def _unreadable(self, exc: BaseException) -> VaultError:
        return VaultError(
            _(
                "The vault {path} is not a KeePass database xdrconf can read, or it is damaged "
                "({error}); it was left as it is."
            ).format(path=self.path, error=type(exc).__name__)
        )

    def _install(self, kp: Any, key: bytes, signature: tuple[int, int, int]) -> None:
        self._kp, self._key, self._signature = kp, key, signature
        self._entries = {e.uuid.hex: e for e in kp.entries}

    def _refresh(self) -> None:
        """Under self._lock: read the file again if something else wrote it."""
        if self._kp is None or self._key is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._kp = self._key = None
            self._entries = {}
            raise VaultError(
                _("The vault {name} was removed while xdrconf used it; its secrets are gone.").format(
                    name=self.path.name
                )
            ) from None
        if (st.st_ino, st.st_size, st.st_mtime_ns) == self._signature or self._dirty:
            return  # unchanged, or changes of a batch not saved yet (they are saved over it)
        from pykeepass import PyKeePass
        from pykeepass.exceptions import CredentialsError

        data, signature = self._read_file()
        key = self._key
        try:
            try:
                kp = PyKeePass(io.BytesIO(data), transformed_key=key)
            except CredentialsError:
                # KeePassXC draws a new KDF salt when it saves: derive the key for it.
                key = self._derive(data)
                kp = PyKeePass(io.BytesIO(data), transformed_key=key)
        except CredentialsError:
            self._kp = self._key = self._composite = None
            self._entries = {}
            raise VaultLocked(
                _(
                    "The vault {name} was changed outside xdrconf and its passphrase is no "
                    "longer the one given; unlock it again."
                ).format(name=self.path.name)
            ) from None
        except Exception as exc:  # noqa: BLE001
            raise self._unreadable(exc) from None
        self._install(kp, key, signature)

    def _derive(self, data: bytes) -> bytes:
        """The key of the file's KDF parameters from the kept composite key (Argon2: slow)."""
        from pykeepass import PyKeePass
        from pykeepass.exceptions import CredentialsError

        if self._composite is None:
            raise CredentialsError("no composite key")
        header = PyKeePass(io.BytesIO(data), decrypt=False).kdbx.header.value
        if header.major_version < 4:
            raise CredentialsError("KDBX 3")
        return _transform(header.dynamic_header.kdf_parameters.data.dict, self._composite)

    def ensure_open(self) -> None:
        """Unlock (or create) the vault through the unlocker unless it is open already."""
        with self._lock:
            if self._is_open():
                with contextlib.suppress(VaultLocked):  # changed with another passphrase: ask
                    self._refresh()
                if self._is_open():
                    return
            declined = self._declined
        with self._asking:
            if self._is_open():
                return
            if self._declined != declined:
                # Asked (and not answered) while this caller waited: do not ask again at once.
                raise VaultLocked(_no_passphrase_message(self.path))
            if self.unlocker is not None:
                try:
                    self.unlocker(self, not self.exists())
                finally:
                    if not self._is_open():
                        self._declined += 1
        if not self._is_open():
            raise VaultLocked(_no_passphrase_message(self.path))

    # ---- saving ---------------------------------------------------------------------------
    def _write(self) -> None:
        """Under self._lock: encrypt the database and replace the file atomically."""
        from .storage import write_private

        buffer = io.BytesIO()
        try:
            self._kp.save(buffer, transformed_key=self._key)
        except Exception as exc:  # noqa: BLE001 - e.g. a value XML cannot hold
            raise VaultError(
                _("The vault {name} could not be written ({error}); nothing was changed.").format(
                    name=self.path.name, error=type(exc).__name__
                )
            ) from None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_private(self.path, buffer.getvalue())
        except OSError as exc:
            raise VaultError(
                _("The vault {path} could not be saved ({reason}); nothing was changed.").format(
                    path=self.path, reason=exc.strerror
                )
            ) from None
        st = os.stat(self.path)
        self._signature = (st.st_ino, st.st_size, st.st_mtime_ns)
        self._dirty = False

    def _changed(self) -> None:
        """Under self._lock, after a change in memory: save now, or at the end of the batch.
        A failed save puts the database in memory back to what the file holds."""
        if self._batch:
            self._dirty = True
            return
        self._write_or_revert()

    def _write_or_revert(self) -> None:
        try:
            self._write()
        except BaseException:
            self._revert()
            raise

    def _revert(self) -> None:
        """Under self._lock: the database as last saved (the file is unchanged by a failed
        atomic write)."""
        self._dirty = False
        self._signature = None
        try:
            self._refresh()
        except Exception:  # noqa: BLE001 - the vault is then locked and unlocked again when needed
            self._kp = self._key = None
            self._entries = {}

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Changes inside are saved once, at the end (also when the block fails: what was
        done up to then is saved, so references handed out stay valid). The lock is not held
        in between, so the vault can be unlocked from another thread meanwhile."""
        with self._lock:
            self._batch += 1
        try:
            yield
        finally:
            with self._lock:
                self._batch -= 1
                if self._batch == 0 and self._dirty and self._kp is not None:
                    self._write_or_revert()

    # ---- groups -------------------------------------------------------------------------
    def _group_for(self, label: SecretLabel) -> Any:
        group = self._kp.root_group
        for name in [p for p in label.tenant.split("/") if p]:
            found = next((g for g in group.subgroups if g.name == name), None)
            if found is None:
                found = self._kp.add_group(group, name)
                found.uuid = uuid.uuid4()
            group = found
        return group

    def _prune(self, group: Any) -> None:
        """Remove groups left empty by xdrconf, up to (not including) the root group."""
        root = self._kp.root_group
        while group is not None and group != root and not group.entries and not group.subgroups:
            parent = group.parentgroup
            self._kp.delete_group(group)
            group = parent

    def _recycle_bin(self) -> Any:
        """The recycle bin's group, or None (a search of the whole database: look it up
        once for many entries)."""
        try:
            return self._kp.recyclebin_group
        except Exception:  # noqa: BLE001 - no recycle bin yet
            return None

    def _in_recycle_bin(self, entry: Any, bin_group: Any = _UNKNOWN) -> bool:
        if bin_group is _UNKNOWN:
            bin_group = self._recycle_bin()
        if bin_group is None:
            return False
        group = entry.parentgroup
        while group is not None:
            if group == bin_group:
                return True
            group = group.parentgroup
        return False

    @staticmethod
    def _title(label: SecretLabel) -> str:
        return f"{label.integration} / {label.field}"

    def _notes(self, label: SecretLabel) -> str:
        # What KeePassXC shows of an entry; filed anew (relabel_many) when it reads otherwise.
        return _(
            "Kept by xdrconf for tenant '{tenant}' (settings in {folder}). "
            "Change the password here to rotate the secret; xdrconf finds this entry by its UUID."
        ).format(tenant=label.tenant, folder=self.path.parent)

    # ---- the store interface --------------------------------------------------------------
    def _check_open(self) -> None:
        """Under self._lock."""
        self._refresh()
        if self._kp is None:
            raise VaultLocked(_no_passphrase_message(self.path))

    def put(self, value: str, label: SecretLabel) -> str:
        self.ensure_open()
        with self._lock:
            self._check_open()
            group = self._group_for(label)
            entry = self._kp.add_entry(
                group, self._title(label), "", value, notes=self._notes(label), force_creation=True
            )
            entry.uuid = uuid.uuid4()  # pykeepass makes time-and-host based ones
            ref = entry.uuid.hex
            self._entries[ref] = entry
            self._changed()
        return REF_PREFIX + ref

    def _entry(self, ref: str, bin_group: Any = _UNKNOWN) -> Any:
        if not ref.startswith(REF_PREFIX):
            return None
        entry = self._entries.get(ref[len(REF_PREFIX) :])
        if entry is None or self._in_recycle_bin(entry, bin_group):
            return None
        return entry

    def get(self, ref: str) -> str | None:
        """The secret, or None when the vault has no such entry (or it is in the recycle bin)."""
        self.ensure_open()
        with self._lock:
            self._check_open()
            entry = self._entry(ref)
            return None if entry is None else (entry.password or "")

    def get_many(self, refs: Iterable[str]) -> dict[str, str | None]:
        """Many secrets in one read of the database in memory (a scheduler's prefetch),
        only when the vault is unlocked already: this never asks for the passphrase ({}
        when locked; each run then reads its secret itself, which asks once)."""
        with self._lock:
            if self._kp is None:
                return {}
            try:
                self._check_open()  # read the file again first if something else wrote it
            except VaultLocked:
                return {}
            out: dict[str, str | None] = {}
            bin_group = self._recycle_bin()
            for ref in refs:
                entry = self._entry(ref, bin_group)
                out[ref] = None if entry is None else (entry.password or "")
            return out

    def delete(self, ref: str) -> None:
        if not self.exists():
            return  # nothing was ever stored
        self.ensure_open()
        with self._lock:
            self._check_open()
            entry = self._entry(ref)
            if entry is None:
                return
            group = entry.parentgroup
            self._entries.pop(entry.uuid.hex, None)
            self._kp.delete_entry(entry)
            self._prune(group)
            self._changed()

    def copy(self, ref: str, label: SecretLabel) -> str | None:
        value = self.get(ref)
        if value is None:
            return None
        return self.put(value, label)

    def relabel(self, ref: str, label: SecretLabel) -> None:
        """File the entry under the tenant's current path and title (after a rename or a
        move). The reference does not change."""
        if not self.exists():
            return
        self.ensure_open()
        with self._lock:
            self._check_open()
            entry = self._entry(ref)
            if entry is None:
                return
            old_group = entry.parentgroup
            title, notes = self._title(label), self._notes(label)
            group = self._group_for(label)
            if group == old_group and entry.title == title and entry.notes == notes:
                return
            entry.title, entry.notes = title, notes
            if group != old_group:
                self._kp.move_entry(entry, group)
                self._prune(old_group)
            self._changed()

    def relabel_many(self, labels: dict[str, SecretLabel]) -> int:
        """File every entry of `labels` as relabel() does, with one save; only when the vault
        is unlocked already (never asks). Returns how many entries changed."""
        with self._lock:
            if self._kp is None:
                return 0
            self._check_open()
            changed = 0
            for ref, label in labels.items():
                entry = self._entry(ref)
                if entry is None:
                    continue
                title, notes = self._title(label), self._notes(label)
                old_group = entry.parentgroup
                path = [p for p in label.tenant.split("/") if p]
                if entry.title == title and entry.notes == notes and self._path_of(old_group) == path:
                    continue
                group = self._group_for(label)
                entry.title, entry.notes = title, notes
                if group != old_group:
                    self._kp.move_entry(entry, group)
                    self._prune(old_group)
                changed += 1
            if changed:
                self._changed()
            return changed

    def _path_of(self, group: Any) -> list[str]:
        names = []
        root = self._kp.root_group
        while group is not None and group != root:
            names.append(group.name)
            group = group.parentgroup
        return names[::-1]

    def refs(self) -> set[str]:
        """Every entry's reference (for clean-up and tests); needs the vault unlocked."""
        self.ensure_open()
        with self._lock:
            self._check_open()
            return {REF_PREFIX + k for k, e in self._entries.items() if not self._in_recycle_bin(e)}

    def forget_file(self) -> None:
        """Remove an empty vault this process created (a failed move of the secrets)."""
        with self._lock:
            if self._kp is not None and not self._entries:
                self.path.unlink(missing_ok=True)
                self._kp = self._key = None
                self._signature = None
        self._notify()
