"""The settings document on disk: where it lives, bounded reading with every value checked
(xdrconf.core.document), atomic saving with a backup, keeping an unusable file aside, the
pending notice that protects the last good backup, the check that the file was not changed
by another program since it was read, and the lock that keeps two instances from losing
each other's work.

Format: resources/settings-format.md. The document never holds a secret."""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import document as _doc
from . import jsonread
from .document import DocumentProblem
from .errors import SettingsChanged, SettingsIOError, SettingsLocked, SettingsUnreadable
from .i18n import _
from .jsonread import MAX_FILE_BYTES
from .paths import SETTINGS_FILE

if TYPE_CHECKING:
    from .tenants import TenantTree

log = logging.getLogger(__name__)

SCHEMA = "xdrconf-settings"
VERSION = 1
BACKUP_FILE = "settings.json.bak"
LOCK_FILE = "xdrconf.lock"
NOTICE_FILE = "quarantine.json"
NOTICE_SCHEMA = "xdrconf-quarantine"
# Temporary files of write_private (tempfile.mkstemp: 8 characters of [a-z0-9_]) for the
# files of this module; one left by an interrupted save is removed when the folder is next
# opened for writing.
_LEFTOVER = re.compile(
    r"\.(?:settings\.json(?:\.bak)?|quarantine\.json|audit\.pending\.json)\.[a-z0-9_]{8}\.tmp"
)


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


# ---- application settings ------------------------------------------------------------------------
# ---- files -------------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Identity:
    """Which version of a file was read: its stat (mtime_ns, size, inode) and a SHA-256 of
    its bytes, compared before every save."""

    mtime_ns: int
    size: int
    inode: int
    sha256: str

    @classmethod
    def of(cls, st: os.stat_result, data: bytes) -> Identity:
        return cls(st.st_mtime_ns, st.st_size, st.st_ino, hashlib.sha256(data).hexdigest())

    def same_stat(self, st: os.stat_result) -> bool:
        return (self.mtime_ns, self.size, self.inode) == (st.st_mtime_ns, st.st_size, st.st_ino)


def write_private(path: Path, data: bytes) -> os.stat_result:
    """Write a file readable by its owner only, via a temporary file and an atomic replace.
    Returns the new file's stat."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if sys.platform != "win32":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            st = os.fstat(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return st


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> tuple[bytes, os.stat_result]:
    """A regular file's bytes (at most limit + 1 are read) and its stat; OSError as raised,
    DocumentProblem when it is not a regular file."""
    try:
        return jsonread.read_bounded(path, limit)
    except jsonread.NotARegularFile:
        raise DocumentProblem("", _("is not a regular file")) from None


def cause_of(exc: OSError) -> str:
    """What an OSError means for a person, in a few words."""
    causes = {
        errno.ENOSPC: _("the disk is full"),
        errno.EROFS: _("the folder is on a read-only file system"),
        errno.EACCES: _("permission denied"),
        errno.EPERM: _("the operation is not permitted"),
        errno.ENOENT: _("the folder does not exist"),
        errno.ENOTDIR: _("a part of the path is not a folder"),
        errno.EISDIR: _("a folder stands where the file should be"),
        errno.ELOOP: _("the file is a symbolic link"),
    }
    if getattr(errno, "EDQUOT", None) is not None:
        causes[errno.EDQUOT] = _("the disk quota is exhausted")
    if exc.errno in causes:
        return causes[exc.errno]
    return exc.strerror or type(exc).__name__


def save_failed(path: Path, exc: OSError) -> SettingsIOError:
    return SettingsIOError(
        _(
            "Could not save the settings to {file}: {cause}. Nothing was changed: the previous "
            "settings are in force."
        ).format(file=path, cause=cause_of(exc)),
        exc.errno,
    )


def read_failed(path: Path, exc: OSError) -> SettingsIOError:
    return SettingsIOError(
        _("Cannot read the settings file {file}: {cause}.").format(file=path, cause=cause_of(exc)), exc.errno
    )


@dataclass
class LoadOutcome:
    document: dict[str, Any]
    created: bool
    tree: TenantTree  # built once, while the document was checked


@dataclass
class PendingNotice:
    """A file was kept aside and the notice is not dismissed yet (quarantine.json)."""

    since: str
    files: list[dict[str, str]]  # {"name": file kept aside, "problem": why}
    backup: bool  # a usable backup was there when it happened, and is kept until then

    @property
    def latest(self) -> dict[str, str]:
        return self.files[-1] if self.files else {"name": "?", "problem": "?"}


class SettingsFile:
    def __init__(self, config_dir: Path) -> None:
        self.dir = config_dir
        self.path = config_dir / SETTINGS_FILE
        self.backup = config_dir / BACKUP_FILE
        self.notice_path = config_dir / NOTICE_FILE
        # The version of settings.json this process read or wrote last (None: there was no
        # file); a save refuses when the file on disk is another one.
        self.identity: Identity | None = None
        self._pending_here = False  # a notice this process could not write to disk

    def ensure_dir(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsIOError(
                _("Cannot create the settings folder {folder}: {cause}.").format(
                    folder=self.dir, cause=cause_of(exc)
                ),
                exc.errno,
            ) from None
        if sys.platform != "win32":
            # Best effort: a folder on a read-only file system or of another owner stays as it is.
            with contextlib.suppress(OSError):
                if self.dir.stat().st_mode & 0o777 != 0o700:
                    os.chmod(self.dir, 0o700)

    def remove_leftovers(self) -> list[str]:
        """Delete temporary files of interrupted saves (ours only, by name; call it while
        holding the folder's lock). Returns their names."""
        removed = []
        with contextlib.suppress(OSError), os.scandir(self.dir) as entries:
            for entry in entries:
                if _LEFTOVER.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        removed.append(entry.name)
        return removed

    # ---- reading --------------------------------------------------------------------------
    def load(self, *, keep_aside: bool = True) -> LoadOutcome:
        """The document, or a new one when there is no file. A file that cannot be used is
        moved aside (never overwritten; only with keep_aside, i.e. while holding the lock),
        the pending notice is written, and SettingsUnreadable says where the file went."""
        from .tenants import TenantTree

        problem: DocumentProblem
        try:
            raw, st = read_bounded(self.path)
            document, tree = self.check(raw)
        except FileNotFoundError:
            self.identity = None
            document = new_document()
            return LoadOutcome(document, True, TenantTree.from_list(document["tenants"]))
        except DocumentProblem as exc:
            problem = exc
        except OSError as exc:
            raise read_failed(self.path, exc) from None
        else:
            self.identity = Identity.of(st, raw)
            return LoadOutcome(document, False, tree)
        if not keep_aside:
            raise SettingsUnreadable(
                _(
                    "The settings file {file} cannot be used: {problem}. It was left as it is, "
                    "since another xdrconf has the folder open."
                ).format(file=self.path, problem=problem),
                moved_to="",
                backup=None,
            )
        return self._keep_aside(problem)

    @staticmethod
    def check(raw: bytes) -> tuple[dict[str, Any], TenantTree]:
        """The canonical document of a file's bytes and its tree, or DocumentProblem."""
        try:
            return _doc.check_document(_doc.parse_bytes(raw), schema=SCHEMA, version=VERSION)
        except DocumentProblem:
            raise
        except Exception as exc:  # a gap in the checks: still no traceback for the user (logged)
            log.exception("the settings document could not be checked")
            raise DocumentProblem(
                "", _("could not be checked ({error}); it is kept aside").format(error=type(exc).__name__)
            ) from None

    def _usable_backup(self) -> tuple[bool, str]:
        try:
            raw, _st = read_bounded(self.backup)
            self.check(raw)
        except FileNotFoundError:
            return False, ""
        except (OSError, DocumentProblem) as exc:
            return False, str(exc)
        return True, ""

    def _keep_aside(self, problem: DocumentProblem) -> LoadOutcome:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.dir / f"settings.corrupt-{stamp}.json"
        n = 1
        while aside.exists():
            n += 1
            aside = self.dir / f"settings.corrupt-{stamp}-{n}.json"
        pending = self.pending()
        backup_ok, backup_problem = (pending.backup, "") if pending else self._usable_backup()
        files = [*(pending.files if pending else []), {"name": aside.name, "problem": str(problem)}]
        since = pending.since if pending else _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            self._write_notice(PendingNotice(since, files, backup_ok))
        except OSError:
            self._pending_here = True  # the disk refused it: this process still keeps the backup
        try:
            os.replace(self.path, aside)
            _fsync_dir(self.dir)
        except OSError as exc:
            raise read_failed(self.path, exc) from None
        self.identity = None
        if backup_ok:
            offer = _("The last good settings are kept in {backup}.").format(backup=self.backup.name)
        elif backup_problem:
            offer = _("The backup cannot be used either ({problem}).").format(problem=backup_problem)
        else:
            offer = _("No backup is available.")
        raise SettingsUnreadable(
            _(
                "The settings file {file} cannot be used: {problem}. It was kept as {aside} and "
                "xdrconf started with empty settings. {offer}"
            ).format(file=self.path, problem=problem, aside=aside.name, offer=offer),
            moved_to=str(aside),
            backup=str(self.backup) if backup_ok else None,
        )

    # ---- the pending notice -------------------------------------------------------------------
    def pending(self) -> PendingNotice | None:
        """The notice of a file kept aside that was neither restored nor dismissed. While it
        is pending, saves keep settings.json.bak as it is."""
        try:
            raw, _st = read_bounded(self.notice_path, 1 << 20)
        except FileNotFoundError:
            return PendingNotice("", [], self.backup.exists()) if self._pending_here else None
        except (OSError, DocumentProblem):
            return PendingNotice("", [], self.backup.exists())  # unreadable: stay on the safe side
        data = peek_bytes(raw)
        if not isinstance(data, dict) or data.get("schema") != NOTICE_SCHEMA:
            return PendingNotice("", [], self.backup.exists())
        files = [
            {
                "name": _doc.escape_controls(str(f.get("name", ""))[:200]),
                "problem": _doc.escape_controls(str(f.get("problem", ""))[:1000]),
            }
            for f in data.get("files", [])
            if isinstance(f, dict)
        ][-20:]
        return PendingNotice(
            _doc.escape_controls(str(data.get("since", ""))[:64]),
            files,
            bool(data.get("backup")) and self.backup.exists(),
        )

    def _write_notice(self, notice: PendingNotice) -> None:
        data = {
            "schema": NOTICE_SCHEMA,
            "since": notice.since,
            "files": notice.files,
            "backup": notice.backup,
        }
        write_private(self.notice_path, json.dumps(data, indent=1, ensure_ascii=False).encode() + b"\n")

    def dismiss_notice(self) -> None:
        """The user chose to keep the current settings: saves rotate the backup again."""
        self._pending_here = False
        try:
            self.notice_path.unlink(missing_ok=True)
        except OSError as exc:
            raise save_failed(self.notice_path, exc) from None

    # ---- writing --------------------------------------------------------------------------
    def _current(self) -> tuple[bytes | None, os.stat_result | None]:
        try:
            raw, st = read_bounded(self.path)
        except FileNotFoundError:
            return None, None
        except DocumentProblem:
            return b"", None  # not a regular file any more: another program replaced it
        except OSError as exc:
            raise read_failed(self.path, exc) from None
        return raw, st

    def _unchanged(self, raw: bytes | None, st: os.stat_result | None) -> bool:
        known = self.identity
        if raw is None:
            return True  # removed meanwhile: nothing of the other program's is overwritten
        if known is None or st is None:
            return False  # a file appeared (or another kind of file) since it was read
        return known.same_stat(st) or hashlib.sha256(raw).hexdigest() == known.sha256

    def save(self, document: dict[str, Any], *, before_write: Callable[[], None] | None = None) -> None:
        """Atomic: temp file in the same folder, fsync, replace, fsync of the folder. The
        file being replaced is kept as the backup first, except while a notice is pending
        (the backup then is the last good settings). Refuses (SettingsChanged) when the file
        on disk is not the version this process read or wrote last. before_write: called
        once the backup is kept, before the file is written (the audit trail's pending
        lines); what it raises stops the save."""
        self.ensure_dir()
        data = json.dumps(document, indent=1, ensure_ascii=False).encode() + b"\n"
        current, st = self._current()
        if not self._unchanged(current, st):
            raise SettingsChanged(
                _(
                    "The settings file {file} was changed by another program after xdrconf read "
                    "it; nothing was saved and the other program's version was left as it is."
                ).format(file=self.path)
            )
        try:
            if current and self.pending() is None:
                write_private(self.backup, current)
        except OSError as exc:
            raise save_failed(self.backup, exc) from None
        if before_write is not None:
            before_write()
        try:
            new = write_private(self.path, data)
        except OSError as exc:
            raise save_failed(self.path, exc) from None
        self.identity = Identity.of(new, data)

    def restore_backup(self, prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        """Use the backup again: the current file is kept as settings.replaced-<time>.json,
        the pending notice is cleared. prepare(document) -> document: what is written
        instead of the backup's bytes (the workspace adds the audit trail's new head)."""
        try:
            raw, _st = read_bounded(self.backup)
            checked, _tree = self.check(raw)
        except FileNotFoundError:
            raise SettingsIOError(_("There is no backup of the settings to restore."), errno.ENOENT) from None
        except OSError as exc:
            raise read_failed(self.backup, exc) from None
        except DocumentProblem as exc:
            raise SettingsUnreadable(
                _("The backup {file} cannot be used: {problem}. It was left as it is.").format(
                    file=self.backup, problem=exc
                ),
                moved_to="",
                backup=None,
            ) from None
        if prepare is not None:
            raw = json.dumps(prepare(checked), indent=1, ensure_ascii=False).encode() + b"\n"
        try:
            if self.path.exists():
                stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                os.replace(self.path, self.dir / f"settings.replaced-{stamp}.json")
            new = write_private(self.path, raw)
        except OSError as exc:
            raise save_failed(self.path, exc) from None
        self.identity = Identity.of(new, raw)
        self.dismiss_notice()


def peek_bytes(raw: bytes) -> Any:
    try:
        return _doc.parse_bytes(raw)
    except DocumentProblem:
        return None


# What the lock's holder writes into the lock file, for the one locked out to read: every
# version writes (and reads) this English line; it is said in the reader's language from
# its fields (holder_text).
_HOLDER_TEXT = "pid {pid}, since {since}"
_HOLDER_FORMAT = "%Y-%m-%d %H:%M:%S"
_HOLDER = re.compile(r"pid ([0-9]+), since ([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})")


def holder_text(text: str) -> str:
    """Who holds the settings' lock, in the current language, from the lock file's text."""
    found = _HOLDER.fullmatch(text.strip())
    if found is None:  # empty (the holder could not write it) or not what xdrconf writes
        return _("another process")
    # TRANSLATORS: who holds the settings open: its process number and since when (local time).
    return _("process {pid}, since {since}").format(pid=found[1], since=found[2])


class FolderLock:
    """An exclusive, advisory lock on the config folder, held while settings are open
    for writing. Released when the process ends, even if it crashes."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / LOCK_FILE
        self._fh: Any = None

    def acquire(self) -> None:
        """SettingsLocked when another instance holds it; SettingsIOError when the folder
        cannot be written (a read-only file system, no permission)."""
        try:
            # Unbuffered: the holder's text goes out at once or not at all (a full disk
            # must not fail the lock, nor its release later).
            fh = open(self.path, "a+b", buffering=0)  # noqa: SIM115 - held open: the handle is the lock
        except OSError as exc:
            raise SettingsIOError(
                _("The settings in {folder} cannot be changed: {cause}.").format(
                    folder=self.path.parent, cause=cause_of(exc)
                ),
                exc.errno,
            ) from None
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
            holder = holder_text(fh.read(200).decode("utf-8", "replace"))
            fh.close()
            raise SettingsLocked(
                _(
                    "The settings in {folder} are open in another xdrconf ({holder}); close it "
                    "first, or changes here could overwrite its work."
                ).format(folder=self.path.parent, holder=holder)
            ) from None
        with contextlib.suppress(OSError):  # the text only informs; the lock is the flock
            fh.seek(0)
            fh.truncate()
            since = _dt.datetime.now().strftime(_HOLDER_FORMAT)
            fh.write(_HOLDER_TEXT.format(pid=os.getpid(), since=since).encode())
        self._fh = fh

    @property
    def held(self) -> bool:
        return self._fh is not None

    def release(self) -> None:
        if self._fh is not None:
            try:
                with contextlib.suppress(OSError):
                    self._fh.seek(0)
                    self._fh.truncate()
            finally:
                self._fh.close()
                self._fh = None
