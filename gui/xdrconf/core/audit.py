"""The audit trail: every change xdrconf makes to the settings, one JSON line each, in
``audit.jsonl`` in the config folder.

A line says when (UTC), who (the OS user and host), what did it (the command line or the
window's action), and what changed: a tenant added, renamed, moved or removed, a field of
an integration from its old to its new value, a secret stored, replaced or deleted (never
its value: only the word), an integration turned on or off, an application setting, a
backup restored. Lines are made by comparing the settings before and after a transaction
(``diff``), so no change can bypass them; the last check results are not changes and make
no line.

Each line carries ``seq`` (its number, from 1) and ``prev``, the SHA-256 of the bytes of
the line before it (64 zeros for the first). The settings document carries the trail's
head, ``{"head": SHA-256 of the last line, "seq": its number}``, saved with the change
itself. ``verify`` therefore finds an edited line (the next one records another hash for
it), a removed or reordered line (its neighbours' numbers and hashes), and removed or
edited last lines (the head in the settings file).

Written in the same transaction as the settings (Workspace.transaction):

1. the lines are made and written to ``audit.pending.json`` (atomically, with the head
   the trail had before them): a disk that refuses fails the transaction, nothing saved;
2. the settings are saved, carrying the new head: if this fails, the pending file is
   removed and no line was written;
3. the lines are appended to ``audit.jsonl`` (fsync), then the pending file is removed.

When the folder is next opened for changes, ``reconcile`` finishes what a crash left:
pending lines whose head is the one the saved settings carry belong to a change that was
saved, and are appended (those already there are not appended twice); pending lines whose
head the settings do not carry belong to a change that never happened, and are dropped.
A line cut short by a crash while it was appended is removed before that. So a change that
did not happen never has a line, and a saved change always gets its line.

When a transaction finds the trail not ending where the settings say (lines removed from
its end, the file replaced), its first line records it (``gap``): the chain goes on from
the file's real last line, and ``verify`` keeps reporting the gap.

Not a defence against someone who rewrites the whole file and the head in the settings:
the hashes are not keyed. No Qt here."""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import hashlib
import json
import logging
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .i18n import _, ngettext

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
PENDING_FILE = "audit.pending.json"
PENDING_SCHEMA = "xdrconf-audit-pending"
GENESIS = "0" * 64
MAX_LINE = 1024 * 1024  # bytes of one line: far more than any change writes
MAX_SHOWN = 200  # characters of a value kept as it is; longer ones as a digest
_TAIL = 64 * 1024

# What a line says happened (its "change"); a person reads describe().
TENANT_ADDED = "tenant_added"
TENANT_REMOVED = "tenant_removed"
TENANT_RENAMED = "tenant_renamed"
TENANT_MOVED = "tenant_moved"
TENANT_ATTRIBUTE = "tenant_attribute"  # e.g. the KUMA tenant id
INTEGRATION_ON = "integration_on"
INTEGRATION_OFF = "integration_off"
FIELD = "field"  # a plain or structured setting: old -> new
SECRET = "secret"  # new: stored | replaced | deleted | moved
APP = "app_setting"
RESTORED = "backup_restored"
CHANGES = (
    TENANT_ADDED,
    TENANT_REMOVED,
    TENANT_RENAMED,
    TENANT_MOVED,
    TENANT_ATTRIBUTE,
    INTEGRATION_ON,
    INTEGRATION_OFF,
    FIELD,
    SECRET,
    APP,
    RESTORED,
)


@dataclass(frozen=True)
class Head:
    """Where the trail ends: the SHA-256 of its last line and that line's number."""

    sha256: str = GENESIS
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"head": self.sha256, "seq": self.seq}

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Head | None:
        if not data:
            return None
        return cls(str(data["head"]), int(data["seq"]))


def digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


@dataclass
class Change:
    """One change, as a line records it. old/new are what a person may read: plain values
    (long ones as a digest), never a secret (for secrets, new is a word)."""

    change: str
    tenant: str = ""  # the tenant's path (before a removal, after any other change)
    tenant_id: str = ""
    integration: str = ""
    field: str = ""
    old: Any = None
    new: Any = None


# ---- who and when -------------------------------------------------------------------------------
def who() -> tuple[str, str]:
    """The OS user and the host name of this process."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in the environment: the numeric id
        user = str(os.getuid()) if hasattr(os, "getuid") else "?"
    try:
        host = socket.gethostname()
    except OSError:
        host = "?"
    return user, host


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- what changed ---------------------------------------------------------------------------------
def shown(value: Any) -> Any:
    """A value as a line keeps it: as it is when short, else its size and SHA-256."""
    if isinstance(value, list):
        data = json.dumps(value, sort_keys=True, ensure_ascii=False)
        if len(data) <= MAX_SHOWN:
            return value
        return {"items": len(value), "sha256": hashlib.sha256(data.encode()).hexdigest()}
    if isinstance(value, dict):
        data = json.dumps(value, sort_keys=True, ensure_ascii=False)
        if len(data) <= MAX_SHOWN:
            return value
        return {"keys": len(value), "sha256": hashlib.sha256(data.encode()).hexdigest()}
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        return {"chars": len(value), "sha256": hashlib.sha256(value.encode()).hexdigest()}
    return value


def _comparable(value: Any) -> Any:
    """A structured setting without what checks write into it (KATA keeps each connection's
    last status inside it): only what a person set is compared."""
    if isinstance(value, list):
        return [
            {k: v for k, v in item.items() if k != "status"} if isinstance(item, dict) else item
            for item in value
        ]
    return value


def _paths(items: list[dict[str, Any]]) -> dict[str, str]:
    by_id = {t["id"]: t for t in items}
    out: dict[str, str] = {}

    def path(tid: str) -> str:
        if tid in out:
            return out[tid]
        t = by_id[tid]
        parent = t.get("parent")
        out[tid] = f"{path(parent)}/{t['name']}" if parent and parent in by_id else t["name"]
        return out[tid]

    for t in items:  # parents come before children: no deep recursion
        path(t["id"])
    return out


def diff(
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    app_before: dict[str, Any],
    app_after: dict[str, Any],
    *,
    secrets_moved: bool = False,
) -> list[Change]:
    """What changed between two tenant lists (TenantTree.to_list) and application settings,
    in the order of the tenants. Check results are not changes. secrets_moved: references
    that changed were moved to another store, not replaced."""
    old = {t["id"]: t for t in before}
    new = {t["id"]: t for t in after}
    old_paths, new_paths = _paths(before), _paths(after)
    out: list[Change] = []
    for t in after:
        tid = t["id"]
        path = new_paths[tid]
        was = old.get(tid)
        if was is None:
            out.append(
                Change(
                    TENANT_ADDED,
                    path,
                    tid,
                    new=path,
                    old={"copied": sorted(t.get("integrations", {}))} if t.get("integrations") else None,
                )
            )
            if t.get("kuma_tenant_id") is not None:
                kuma_id = t["kuma_tenant_id"]
                out.append(Change(TENANT_ATTRIBUTE, path, tid, field="kuma_tenant_id", new=kuma_id))
            continue
        if was["name"] != t["name"]:
            out.append(Change(TENANT_RENAMED, path, tid, old=was["name"], new=t["name"]))
        if was.get("parent") != t.get("parent"):
            out.append(
                Change(
                    TENANT_MOVED,
                    path,
                    tid,
                    old=old_paths.get(was.get("parent") or "", ""),
                    new=new_paths.get(t.get("parent") or "", ""),
                )
            )
        if was.get("kuma_tenant_id") != t.get("kuma_tenant_id"):
            out.append(
                Change(
                    TENANT_ATTRIBUTE,
                    path,
                    tid,
                    field="kuma_tenant_id",
                    old=was.get("kuma_tenant_id"),
                    new=t.get("kuma_tenant_id"),
                )
            )
        for kind in sorted(set(was.get("integrations", {})) | set(t.get("integrations", {}))):
            out.extend(
                _integration(
                    path,
                    tid,
                    kind,
                    was.get("integrations", {}).get(kind),
                    t.get("integrations", {}).get(kind),
                    secrets_moved=secrets_moved,
                )
            )
    for t in before:
        if t["id"] not in new:
            secrets = sum(len(s.get("secrets", {})) for s in t.get("integrations", {}).values())
            out.append(
                Change(
                    TENANT_REMOVED,
                    old_paths[t["id"]],
                    t["id"],
                    old=old_paths[t["id"]],
                    new={"integrations": sorted(t.get("integrations", {})), "secrets_deleted": secrets},
                )
            )
    for key in sorted(set(app_before) | set(app_after)):
        if app_before.get(key) != app_after.get(key):
            out.append(Change(APP, field=key, old=shown(app_before.get(key)), new=shown(app_after.get(key))))
    return out


def _integration(
    path: str,
    tid: str,
    kind: str,
    was: dict[str, Any] | None,
    now_: dict[str, Any] | None,
    *,
    secrets_moved: bool,
) -> list[Change]:
    was = was or {}
    now_ = now_ or {}
    out: list[Change] = []
    old_settings, new_settings = was.get("settings", {}), now_.get("settings", {})
    for key in sorted(set(old_settings) | set(new_settings)):
        a, b = old_settings.get(key), new_settings.get(key)
        if _comparable(a) != _comparable(b):
            out.append(Change(FIELD, path, tid, kind, key, shown(_comparable(a)), shown(_comparable(b))))
    old_secrets, new_secrets = was.get("secrets", {}), now_.get("secrets", {})
    for name in sorted(set(old_secrets) | set(new_secrets)):
        a, b = old_secrets.get(name), new_secrets.get(name)
        if a == b:
            continue
        if a is None:
            word = "stored"
        elif b is None:
            word = "deleted"
        else:
            word = "moved" if secrets_moved else "replaced"
        out.append(Change(SECRET, path, tid, kind, name, "set" if a is not None else None, word))
    if bool(was.get("enabled")) != bool(now_.get("enabled")):
        on = bool(now_.get("enabled"))
        out.append(Change(INTEGRATION_ON if on else INTEGRATION_OFF, path, tid, kind, old=not on, new=on))
    return out


# ---- lines ----------------------------------------------------------------------------------------
@dataclass
class Pending:
    """The lines of one transaction, not appended yet: base is where the trail ended
    before them, head where it ends after them."""

    base: Head
    head: Head
    lines: list[bytes] = field(default_factory=list)

    def heads(self) -> list[Head]:
        """The trail's head after each line."""
        out = []
        for line in self.lines:
            entry = json.loads(line)
            out.append(Head(digest(line), int(entry["seq"])))
        return out


def _encode(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Verdict:
    """What verify found: ok, how many lines, and the first line that does not fit."""

    ok: bool
    lines: int
    line: int | None = None  # the first line that does not fit (1-based)
    problem: str = ""
    note: str = ""


class AuditTrail:
    """audit.jsonl of one config folder, and its pending file."""

    def __init__(self, config_dir: Path) -> None:
        self.dir = Path(config_dir)
        self.path = self.dir / AUDIT_FILE
        self.pending_path = self.dir / PENDING_FILE
        self._tail: tuple[tuple[int, int, int], Head] | None = None  # (stat key, head)
        self._entries: tuple[tuple[int, int, int], list[dict[str, Any]]] | None = None

    # ---- reading -----------------------------------------------------------------------------------
    def _stat_key(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ino)

    def head(self) -> Head:
        """Where the file ends: its last complete line (a partial one, cut by a crash, is
        not counted)."""
        key = self._stat_key()
        if key is None:
            return Head()
        if self._tail is not None and self._tail[0] == key:
            return self._tail[1]
        last = self._last_line()
        head = Head() if last is None else Head(digest(last), _seq_of(last))
        self._tail = (key, head)
        return head

    def _last_line(self) -> bytes | None:
        with open(self.path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            chunk = _TAIL
            while True:
                start = max(0, size - chunk)
                fh.seek(start)
                data = fh.read(size - start)
                end = data.rfind(b"\n")
                if end < 0:
                    if start == 0:
                        return None
                    chunk *= 2
                    continue
                begin = data.rfind(b"\n", 0, end)
                if begin < 0 and start > 0:
                    chunk *= 2
                    continue
                return data[begin + 1 : end]

    def lines(self) -> Iterator[tuple[int, bytes, bool]]:
        """(number, bytes without the line end, complete) of every line."""
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return
        with fh:
            for n, raw in enumerate(fh, 1):
                complete = raw.endswith(b"\n")
                yield n, raw[:-1] if complete else raw, complete

    def entries(self) -> list[dict[str, Any]]:
        """Every complete line that is a JSON object (for listing), oldest first; cached
        while the file is unchanged."""
        key = self._stat_key()
        if key is None:
            return []
        if self._entries is not None and self._entries[0] == key:
            return self._entries[1]
        out: list[dict[str, Any]] = []
        for _n, raw, complete in self.lines():
            if not complete or len(raw) > MAX_LINE:
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
        self._entries = (key, out)
        return out

    # ---- writing -----------------------------------------------------------------------------------
    def prepare(
        self,
        changes: list[Change],
        *,
        action: str,
        expected: Head | None,
        when: str | None = None,
    ) -> Pending:
        """The lines of a transaction's changes, chained to the file's last line. expected:
        where the saved settings say the trail ends (None: a folder whose settings never
        carried a head); when the file ends elsewhere, the first line records the gap."""
        base = self.head()
        user, host = who()
        at = when or now()
        txn = uuid.uuid4().hex[:12]
        prev, seq = base.sha256, base.seq
        lines = []
        for i, change in enumerate(changes):
            seq += 1
            entry: dict[str, Any] = {
                "seq": seq,
                "prev": prev,
                "txn": txn,
                "at": at,
                "user": user,
                "host": host,
                "action": action,
                "change": change.change,
                "tenant": change.tenant,
                "tenant_id": change.tenant_id,
                "integration": change.integration,
                "field": change.field,
                "old": change.old,
                "new": change.new,
            }
            if i == 0 and expected is not None and expected != base:
                entry["gap"] = {"expected_seq": expected.seq, "expected_head": expected.sha256}
            line = _encode(entry)
            lines.append(line)
            prev = digest(line)
        return Pending(base, Head(prev, seq), lines)

    def write_pending(self, pending: Pending) -> None:
        """Step 1: the lines, kept aside until the settings are saved."""
        from .storage import write_private

        data = {
            "schema": PENDING_SCHEMA,
            "base": pending.base.to_dict(),
            "head": pending.head.to_dict(),
            "lines": [line.decode() for line in pending.lines],
        }
        write_private(self.pending_path, json.dumps(data, ensure_ascii=False).encode() + b"\n")

    def discard_pending(self) -> None:
        """Remove the pending file. One that cannot be removed is harmless: the next
        opening for changes drops it unless the saved settings carry its head (reconcile)."""
        try:
            os.unlink(self.pending_path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove %s: %s", self.pending_path, exc)

    def commit(self, pending: Pending, *, skip: int = 0) -> None:
        """Step 3: append the lines (after the first `skip`, already there), fsync, and
        remove the pending file."""
        data = b"".join(line + b"\n" for line in pending.lines[skip:])
        if data:
            self._append(data)
        self.discard_pending()
        self._tail = None

    def _append(self, data: bytes) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        fd = os.open(self.path, flags, 0o600)
        try:
            start = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)  # no half line left behind
                raise
        finally:
            os.close(fd)
        if sys.platform != "win32":
            from .storage import _fsync_dir

            with contextlib.suppress(OSError):
                _fsync_dir(self.dir)

    def read_pending(self) -> Pending | None:
        try:
            raw = self.pending_path.read_bytes()
        except FileNotFoundError:
            return None
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("schema") != PENDING_SCHEMA:
            raise ValueError("not a pending audit file")
        base, head = Head.of(data["base"]), Head.of(data["head"])
        lines = [str(line).encode() for line in data["lines"]]
        assert base is not None and head is not None
        return Pending(base, head, lines)

    # ---- after a crash --------------------------------------------------------------------------------
    def _drop_partial_line(self) -> bool:
        """Remove a last line cut short by a crash while it was appended."""
        try:
            fd = os.open(self.path, os.O_RDWR | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return False
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                return False
            os.lseek(fd, size - 1, os.SEEK_SET)
            if os.read(fd, 1) == b"\n":
                return False
            keep = 0
            pos = size
            while pos > 0:
                step = min(_TAIL, pos)
                os.lseek(fd, pos - step, os.SEEK_SET)
                chunk = os.read(fd, step)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    keep = pos - step + i + 1
                    break
                pos -= step
            os.ftruncate(fd, keep)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._tail = None
        return True

    def reconcile(self, saved: Head | None) -> str:
        """Finish what a crash left (call it holding the folder's lock, before any change):
        returns what was done, for the log ("" when nothing)."""
        done = []
        if self._drop_partial_line():
            done.append("removed a line cut short by an interrupted write")
        try:
            pending = self.read_pending()
        except (OSError, ValueError, KeyError, TypeError, AssertionError):
            self.discard_pending()
            return "; ".join([*done, "removed an unreadable pending audit file"])
        if pending is None:
            return "; ".join(done)
        if saved != pending.head:
            # The settings were not saved with these lines: their change did not happen.
            self.discard_pending()
            done.append(f"dropped {len(pending.lines)} audit line(s) of a change that was not saved")
            return "; ".join(done)
        head = self.head()
        heads = pending.heads()
        if head == pending.head:
            skip = len(pending.lines)
        elif head in heads:
            skip = heads.index(head) + 1
        else:
            skip = 0
        self.commit(pending, skip=skip)
        done.append(f"appended {len(pending.lines) - skip} audit line(s) of a saved change")
        return "; ".join(done)

    # ---- verification --------------------------------------------------------------------------------
    def verify(self, saved: Head | None) -> Verdict:
        """Check every line against the one before it, and the last against the head the
        settings file carries (saved; None when it carries none)."""
        prev_digest, expected_seq = GENESIS, 1
        count = 0
        last = Head()
        for n, raw, complete in self.lines():
            count = n
            if not complete:
                return Verdict(
                    False, n, n, _("line {n} is incomplete (its writing was interrupted)").format(n=n)
                )
            entry = _object(raw)
            if entry is None:
                return Verdict(
                    False,
                    n,
                    n,
                    _("line {n} is not a line of the audit trail (not a JSON object with a number)").format(
                        n=n
                    ),
                )
            seq = entry.get("seq")
            if seq != expected_seq:
                return Verdict(
                    False,
                    n,
                    n,
                    _(
                        "line {n} does not fit: it says it is line {seq} of the trail, so lines before it "
                        "were removed, added or reordered"
                    ).format(n=n, seq=seq),
                )
            if entry.get("prev") != prev_digest:
                if n == 1:
                    problem = _(
                        "line 1 does not fit: it does not start the trail (lines before it were removed)"
                    )
                    return Verdict(False, n, 1, problem)
                return Verdict(
                    False,
                    n,
                    n - 1,
                    _(
                        "line {m} does not fit: it was changed after it was written (line {n} records "
                        "another SHA-256 for the line before it)"
                    ).format(m=n - 1, n=n),
                )
            gap = entry.get("gap")
            if isinstance(gap, dict):
                return Verdict(
                    False,
                    n,
                    n,
                    _(
                        "line {n} does not fit: when it was written, the trail did not end where the "
                        "settings said (at line {seq}); lines were removed from its end, or the file was "
                        "replaced, before it"
                    ).format(n=n, seq=gap.get("expected_seq")),
                )
            prev_digest = digest(raw)
            last = Head(prev_digest, n)
            expected_seq += 1
        if saved is not None and saved != last:
            try:
                pending = self.read_pending()
            except (OSError, ValueError, KeyError, TypeError, AssertionError):
                pending = None
            if pending is not None and pending.head == saved and pending.base == last:
                # Another xdrconf holds the folder and has not finished (or a crash left it):
                # the opening for changes appends them (reconcile).
                return Verdict(
                    True,
                    count,
                    note=ngettext(
                        "the last change's {n} line is still to be appended; xdrconf appends it when it "
                        "next opens the folder for changes",
                        "the last change's {n} lines are still to be appended; xdrconf appends them when "
                        "it next opens the folder for changes",
                        len(pending.lines),
                    ).format(n=len(pending.lines)),
                )
            if saved.seq > last.seq:
                return Verdict(
                    False,
                    count,
                    last.seq + 1,
                    _(
                        "line {n} is missing: the settings file says the trail has {seq} lines, "
                        "it has {count}"
                    ).format(n=last.seq + 1, seq=saved.seq, count=last.seq),
                )
            if saved.seq == last.seq:
                return Verdict(
                    False,
                    count,
                    last.seq,
                    _(
                        "line {n} does not fit: it was changed after it was written (the settings file "
                        "records another SHA-256 for the last line)"
                    ).format(n=last.seq),
                )
            return Verdict(
                False,
                count,
                saved.seq + 1,
                _(
                    "line {n} does not fit: the settings file says the trail ends at line {seq}, so the "
                    "lines from {n} on were added afterwards"
                ).format(n=saved.seq + 1, seq=saved.seq),
            )
        return Verdict(True, count)


def _seq_of(line: bytes) -> int:
    entry = _object(line)
    seq = entry.get("seq") if entry is not None else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def _object(raw: bytes) -> dict[str, Any] | None:
    if len(raw) > MAX_LINE:
        return None
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


# ---- reading for people -------------------------------------------------------------------------
def _value(value: Any) -> str:
    if value is None:
        return _("(none)")
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, dict) and "sha256" in value:
        if "chars" in value:
            n = int(value["chars"])
            return ngettext(
                "{n} character, SHA-256 {digest}…", "{n} characters, SHA-256 {digest}…", n
            ).format(n=n, digest=value["sha256"][:12])
        if "items" in value:
            n = int(value["items"])
            return ngettext("{n} item, SHA-256 {digest}…", "{n} items, SHA-256 {digest}…", n).format(
                n=n, digest=value["sha256"][:12]
            )
        return _("SHA-256 {digest}…").format(digest=value["sha256"][:12])
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def field_label(kind: str, name: str) -> str:
    if not kind:
        return name
    from . import catalog

    try:
        return str(catalog.spec_for(kind).field(name).label)
    except Exception:  # noqa: BLE001 - a structured setting or a secret the integration names
        return name


def describe(entry: dict[str, Any]) -> str:
    """What a line says changed, as a person reads it (never a secret: lines hold none)."""
    change = entry.get("change")
    kind = str(entry.get("integration") or "")
    name = str(entry.get("field") or "")
    old, new = entry.get("old"), entry.get("new")
    if change == TENANT_ADDED:
        copied = old.get("copied") if isinstance(old, dict) else None
        if copied:
            kinds = ", ".join(map(str, copied))
            return _("tenant added (copied from its parent: {kinds})").format(kinds=kinds)
        return _("tenant added")
    if change == TENANT_REMOVED:
        n = int(new.get("secrets_deleted", 0)) if isinstance(new, dict) else 0
        if not n:
            return _("tenant removed")
        return ngettext(
            "tenant removed ({n} secret deleted)", "tenant removed ({n} secrets deleted)", n
        ).format(n=n)
    if change == TENANT_RENAMED:
        return _("renamed: {old} → {new}").format(old=_value(old), new=_value(new))
    if change == TENANT_MOVED:
        return _("moved: from {old} to {new}").format(old=_value(old), new=_value(new))
    if change == TENANT_ATTRIBUTE:
        return _("{field}: {old} → {new}").format(field=_("KUMA tenant id"), old=_value(old), new=_value(new))
    if change == INTEGRATION_ON:
        return _("turned on")
    if change == INTEGRATION_OFF:
        return _("turned off")
    if change == FIELD:
        return _("{field}: {old} → {new}").format(
            field=field_label(kind, name), old=_value(old), new=_value(new)
        )
    if change == SECRET:
        words = {
            "stored": _("stored"),
            "replaced": _("replaced"),
            "deleted": _("deleted"),
            "moved": _("moved to another secret store"),
        }
        return _("{field}: {what}").format(field=field_label(kind, name), what=words.get(str(new), str(new)))
    if change == APP:
        return _("application setting {field}: {old} → {new}").format(
            field=name, old=_value(old), new=_value(new)
        )
    if change == RESTORED:
        return _("the backup of the settings was restored")
    return str(change)


def matches(
    entry: dict[str, Any],
    *,
    tenant_id: str | None = None,
    tenant_path: str | None = None,
    kind: str | None = None,
    since: _dt.datetime | None = None,
) -> bool:
    """Whether a line is about the tenant (by id, or by path for a tenant since removed:
    see ids_at_path), the integration, and not older than `since`."""
    if tenant_id is not None or tenant_path is not None:
        by_id = tenant_id is not None and entry.get("tenant_id") == tenant_id
        by_path = tenant_path is not None and entry.get("tenant") == tenant_path
        if not (by_id or by_path):
            return False
    if kind is not None and entry.get("integration") != kind:
        return False
    if since is not None:
        try:
            at = _dt.datetime.fromisoformat(str(entry.get("at", "")).replace("Z", "+00:00"))
        except ValueError:
            return False
        if at.tzinfo is None:
            at = at.replace(tzinfo=_dt.UTC)
        if at < since:
            return False
    return True


def ids_at_path(entries: list[dict[str, Any]], path: str) -> set[str]:
    """The ids of the tenants lines name at `path` (a tenant since removed, found by its
    last path: its earlier lines, under other paths, are found by these ids)."""
    return {str(e["tenant_id"]) for e in entries if e.get("tenant") == path and e.get("tenant_id")}


def parse_since(text: str) -> _dt.datetime:
    """--since: a date (YYYY-MM-DD, from its start in UTC) or an ISO 8601 date and time."""
    from .errors import ValidationError

    value = text.strip()
    try:
        if len(value) == 10:
            when = _dt.datetime.combine(_dt.date.fromisoformat(value), _dt.time(), _dt.UTC)
        else:
            when = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            "--since",
            _("{value} is not a date (YYYY-MM-DD) or a date and time (ISO 8601)").format(value=repr(value)),
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)
