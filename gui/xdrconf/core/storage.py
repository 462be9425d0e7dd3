"""The settings document on disk: where it lives, atomic saving with a backup, keeping a
corrupt file aside, and the lock that keeps two instances from losing each other's work.

Format: resources/settings-format.md. The document never holds a secret."""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tenants import TenantTree

import contextlib

from .errors import SettingsLocked, SettingsUnreadable
from .paths import SETTINGS_FILE

SCHEMA = "xdrconf-settings"
VERSION = 1
BACKUP_FILE = "settings.json.bak"
LOCK_FILE = "xdrconf.lock"


def new_document() -> dict[str, Any]:
    from .tenants import TenantTree

    return {
        "schema": SCHEMA,
        "version": VERSION,
        # Keyring entries of this folder are filed under this id, so two config
        # folders never read or overwrite each other's secrets.
        "namespace": os.urandom(8).hex(),
        "app": {},
        "tenants": TenantTree.new().to_list(),
    }


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, via a temporary file and an atomic replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if sys.platform != "win32":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@dataclass
class LoadOutcome:
    document: dict[str, Any]
    created: bool
    tree: TenantTree  # built once, while the document was checked


class SettingsFile:
    def __init__(self, config_dir: Path) -> None:
        self.dir = config_dir
        self.path = config_dir / SETTINGS_FILE
        self.backup = config_dir / BACKUP_FILE

    def ensure_dir(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if sys.platform != "win32":
            os.chmod(self.dir, 0o700)

    def load(self) -> LoadOutcome:
        """The document, or a new one when there is no file. A file that cannot be used is
        moved aside (never overwritten) and SettingsUnreadable says where it went."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            from .tenants import TenantTree

            document = new_document()
            return LoadOutcome(document, True, TenantTree.from_list(document["tenants"]))
        document, tree, problem = self._read(raw)
        if problem is None:
            return LoadOutcome(document, False, tree)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.dir / f"settings.corrupt-{stamp}.json"
        n = 1
        while aside.exists():
            n += 1
            aside = self.dir / f"settings.corrupt-{stamp}-{n}.json"
        os.replace(self.path, aside)
        _fsync_dir(self.dir)
        backup = str(self.backup) if self.backup.exists() else None
        offer = " A backup is available." if backup else " No backup is available."
        raise SettingsUnreadable(
            f"The settings file {problem}; it was kept as {aside.name} and xdrconf started "
            f"with empty settings.{offer}",
            moved_to=str(aside),
            backup=backup,
        )

    @staticmethod
    def _read(raw: bytes) -> tuple[Any, Any, str | None]:
        """(document, tenant tree, None), or (…, …, what is wrong with the file)."""
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, None, f"is not valid JSON ({exc.__class__.__name__} at {getattr(exc, 'pos', '?')})"
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            return doc, None, "is not an xdrconf settings document"
        version = doc.get("version")
        if version != VERSION:
            return (
                doc,
                None,
                f"has schema version {version!r}, which this xdrconf (version {VERSION}) cannot read",
            )
        try:
            from .tenants import TenantTree

            tree = TenantTree.from_list(doc["tenants"])
            if not isinstance(doc.get("namespace"), str) or not doc["namespace"]:
                raise ValueError("namespace missing")
            if not isinstance(doc.get("app", {}), dict):
                raise ValueError("app settings are not an object")
        except Exception as exc:  # noqa: BLE001 - any structural fault means "corrupt"
            return doc, None, f"is damaged ({exc})"
        return doc, tree, None

    def save(self, document: dict[str, Any]) -> None:
        """Atomic: temp file in the same folder, fsync, replace, fsync of the folder. The
        file being replaced is kept as the backup first."""
        self.ensure_dir()
        data = json.dumps(document, indent=1, ensure_ascii=False).encode() + b"\n"
        if self.path.exists():
            write_private(self.backup, self.path.read_bytes())
        write_private(self.path, data)

    def restore_backup(self) -> None:
        if not self.backup.exists():
            raise FileNotFoundError("There is no backup of the settings to restore.")
        raw = self.backup.read_bytes()
        problem = self._read(raw)[2]
        if problem:
            raise SettingsUnreadable(f"The backup {problem}; it was left as it is.", moved_to="", backup=None)
        if self.path.exists():
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            os.replace(self.path, self.dir / f"settings.replaced-{stamp}.json")
        write_private(self.path, raw)


class FolderLock:
    """An exclusive, advisory lock on the config folder, held while settings are open
    for writing. Released when the process ends, even if it crashes."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / LOCK_FILE
        self._fh: Any = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held open: the handle is the lock until release()
        try:
            if sys.platform == "win32":
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise SettingsLocked(
                f"The settings in {self.path.parent} are open in another xdrconf ({holder}); "
                "close it first, or changes here could overwrite its work."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, since {_dt.datetime.now():%Y-%m-%d %H:%M:%S}")
        fh.flush()
        self._fh = fh

    @property
    def held(self) -> bool:
        return self._fh is not None

    def release(self) -> None:
        if self._fh is not None:
            try:
                self._fh.seek(0)
                self._fh.truncate()
            finally:
                self._fh.close()
                self._fh = None
