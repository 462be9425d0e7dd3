"""The alerts received for a tenant (the "Incidents"), merged by id, and how they are shown
(shared by the command line and the window)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdrconf.core.i18n import N_, _

log = logging.getLogger(__name__)
_shared: dict[tuple[str, str], IncidentStore] = {}
_shared_lock = threading.Lock()


@dataclass
class ReceiveResult:
    status: str
    alerts: list[dict[str, Any]]
    pages: int


# ---- the incident store ------------------------------------------------------------------------
@dataclass
class MergeSummary:
    received: int
    new: int
    changed: int
    unchanged: int
    gone: int
    pages: int
    status: str

    def message(self) -> str:
        gone = (
            _(", {gone} no longer {status}").format(gone=self.gone, status=self.status) if self.gone else ""
        )
        return _(
            "Received {received} alert(s) with status {status} in {pages} page(s): "
            "{new} new, {changed} changed{gone}."
        ).format(
            received=self.received,
            status=self.status,
            pages=self.pages,
            new=self.new,
            changed=self.changed,
            gone=gone,
        )

    def public(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "no_longer_matching": self.gone,
            "pages": self.pages,
            "status": self.status,
        }

    @classmethod
    def from_public(cls, data: dict[str, Any]) -> MergeSummary:
        return cls(
            int(data["received"]),
            int(data["new"]),
            int(data["changed"]),
            int(data["unchanged"]),
            int(data["no_longer_matching"]),
            int(data["pages"]),
            str(data["status"]),
        )


def fingerprint(alert: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(alert, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


class IncidentStore:
    """The alerts received for one tenant, merged by id: receiving again updates instead of
    duplicating. Kept in memory per session; with a cache file (under the settings folder,
    alert ids and fingerprints only, no secrets, no event data) the counts of new and
    changed alerts also hold across sessions, e.g. between two command-line runs."""

    CACHE_SCHEMA = "xdrconf-kuma-incidents"

    def __init__(self, cache_path: Path | None = None) -> None:
        self.cache_path = cache_path
        self.alerts: dict[str, dict[str, Any]] = {}
        self._known: dict[str, dict[str, str]] = {}  # id -> {"fp", "status"}
        self._lock = threading.Lock()
        self._load()

    @classmethod
    def for_tenant(cls, config_dir: Path | str, tenant_id: str) -> IncidentStore:
        """A store of its own, reading the cache file (e.g. for one command-line run)."""
        return cls(Path(config_dir) / "cache" / "kuma" / f"{tenant_id}.json")

    @classmethod
    def shared(cls, config_dir: Path | str, tenant_id: str) -> IncidentStore:
        """The session's store of the tenant: the received alerts stay in memory while the
        process runs (the window rebuilds its panels; receiving merges into this one)."""
        key = (str(config_dir), tenant_id)
        with _shared_lock:
            if key not in _shared:
                _shared[key] = cls.for_tenant(config_dir, tenant_id)
            return _shared[key]

    @classmethod
    def cached(cls, config_dir: Path | str, tenant_id: str) -> IncidentStore | None:
        """The session's store if it was made already (no file read: safe on the GUI thread)."""
        with _shared_lock:
            return _shared.get((str(config_dir), tenant_id))

    @staticmethod
    def forget_all() -> None:
        """Drop the session's stores (tests; a settings folder closed)."""
        with _shared_lock:
            _shared.clear()

    def _load(self) -> None:
        if self.cache_path is None or not self.cache_path.exists():
            return
        try:
            doc = json.loads(self.cache_path.read_text(encoding="utf-8"))
            if doc.get("schema") != self.CACHE_SCHEMA:
                raise ValueError("unknown schema")
            self._known = {
                str(k): {"fp": str(v["fp"]), "status": str(v.get("status", ""))}
                for k, v in dict(doc["alerts"]).items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("the KUMA incident cache %s is unreadable; starting afresh", self.cache_path)
            self._known = {}

    def _save(self) -> None:
        if self.cache_path is None:
            return
        from ...storage import write_private

        doc = {
            "schema": self.CACHE_SCHEMA,
            "version": 1,
            "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "alerts": self._known,
        }
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.cache_path, json.dumps(doc).encode())
        except OSError as exc:
            log.warning("could not write the KUMA incident cache: %s", exc.strerror)

    def merge(self, result: ReceiveResult) -> MergeSummary:
        """Take a complete receive: add new alerts, update changed ones, and drop those that
        had the received status and are no longer in KUMA's answer (closed elsewhere)."""
        with self._lock:
            new = changed = unchanged = 0
            ids = set()
            for alert in result.alerts:
                aid = alert["id"]
                ids.add(aid)
                fp = fingerprint(alert)
                known = self._known.get(aid)
                if known is None:
                    new += 1
                elif known["fp"] != fp:
                    changed += 1
                else:
                    unchanged += 1
                self._known[aid] = {"fp": fp, "status": str(alert.get("status", result.status))}
                self.alerts[aid] = alert
            gone = [aid for aid, k in self._known.items() if aid not in ids and k["status"] == result.status]
            for aid in gone:
                self._known.pop(aid, None)
                self.alerts.pop(aid, None)
            self._save()
            return MergeSummary(
                len(result.alerts), new, changed, unchanged, len(gone), result.pages, result.status
            )

    def mark_closed(self, alert_id: str, reason: str) -> None:
        with self._lock:
            alert = self.alerts.get(alert_id)
            if alert is not None:
                alert["status"] = "closed"
                alert["closingReason"] = reason
            if alert_id in self._known:
                self._known[alert_id]["status"] = "closed"
            self._save()

    def get(self, alert_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.alerts.get(alert_id)

    def visible(self, status: str | None = None) -> list[dict[str, Any]]:
        """Alerts with this status (all with None), most recently seen first. Safe to call
        while a worker merges."""
        with self._lock:
            items = [a for a in self.alerts.values() if status is None or str(a.get("status", "")) == status]
        return sorted(items, key=lambda a: _sort_time(a.get("lastSeen")), reverse=True)


# ---- presentation helpers (shared by the command line and the window) ------------------------------
_SEVERITIES = ((4, "Low"), (8, "Medium"), (12, "High"), (16, "Critical"))


def severity_of(alert: dict[str, Any]) -> str:
    """KUMA gives priority as low|medium|high|critical or as a number from 1 to 16 [doc]."""
    value = alert.get("priority", alert.get("severity"))
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        n = int(value)
        for top, label in _SEVERITIES:
            if n <= top:
                return label
        return "Critical"
    return str(value or "").strip().capitalize()


def _parse_time(value: Any) -> _dt.datetime | None:
    if value in (None, "", 0):
        return None
    try:
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
            n = float(value)
            return _dt.datetime.fromtimestamp(n / 1000 if n > 1e11 else n, _dt.UTC)
        text = str(value).strip().replace("Z", "+00:00")
        t = _dt.datetime.fromisoformat(text)
        return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _sort_time(value: Any) -> float:
    t = _parse_time(value)
    return t.timestamp() if t else 0.0


def display_time(value: Any) -> str:
    t = _parse_time(value)
    if t is None:
        return str(value or "")
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def events_of(alert: dict[str, Any]) -> list[dict[str, Any]]:
    """The normalized events of an alert (KUMA wraps each as {"event": {...}, ...})."""
    out: list[dict[str, Any]] = []
    for item in alert.get("events") or []:
        if isinstance(item, dict):
            ev = item.get("event")
            out.append(ev if isinstance(ev, dict) else item)
    return out


def alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": alert.get("id", ""),
        "name": str(alert.get("name") or alert.get("correlationRuleName") or ""),
        "severity": severity_of(alert),
        "status": str(alert.get("status", "")),
        "first_seen": display_time(alert.get("firstSeen")),
        "last_seen": display_time(alert.get("lastSeen")),
        "events": len(alert.get("events") or []),
    }


EVENT_COLUMNS = (
    ("Timestamp", N_("Time")),
    ("Name", N_("Name")),
    ("SourceAddress", N_("Source")),
    ("DestinationAddress", N_("Destination")),
    ("DeviceProduct", N_("Product")),
    ("ID", N_("Event ID")),
)


def event_row(event: dict[str, Any]) -> dict[str, str]:
    row: dict[str, str] = {}
    for key, label in EVENT_COLUMNS:
        value = event.get(key, "")
        row[label] = display_time(value) if key == "Timestamp" else str(value if value is not None else "")
    return row
