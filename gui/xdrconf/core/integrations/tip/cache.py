"""The local cache of Kaspersky TIP lookups and its lifetime (the tenant's Cache TTL):
repeated lookups within it are answered here at no quota cost. One JSON file in the
settings folder, never holding a secret."""

from __future__ import annotations

import datetime as _dt
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xdrconf.core.i18n import N_, _, ngettext

from ...errors import ValidationError
from ...outcome import now_utc

_TTL = re.compile(r"^([0-9]+)\s*(d|days?|h|hours?)$")
MAX_TTL_HOURS = 3650 * 24


def parse_ttl(text: str, label: str = N_("Cache TTL")) -> str | None:
    """'7d', '12h', '7 days' → canonical '7d' / '12h'; empty → None (unlimited)."""
    value = str(text).strip().lower()
    if not value or value == "unlimited":
        return None
    m = _TTL.match(value)
    if not m:
        if value.isdigit():
            raise ValidationError(
                label,
                _(
                    "'{value}' has no unit: add d (days) or h (hours), e.g. 7d or 12h; leave "
                    "empty to keep results without limit"
                ).format(value=text.strip()),
                field="cache_ttl",
            )
        raise ValidationError(
            label,
            _(
                "'{value}' is not a period: write a whole number of days or hours, e.g. "
                "7d or 12h; leave empty to keep results without limit"
            ).format(value=text.strip()),
            field="cache_ttl",
        )
    number, unit = int(m.group(1)), m.group(2)[0]
    if number == 0:
        raise ValidationError(
            label, _("must be at least 1h; leave it empty to keep results without limit"), field="cache_ttl"
        )
    if number * (24 if unit == "d" else 1) > MAX_TTL_HOURS:
        raise ValidationError(
            label,
            _("must be at most 3650 days (10 years); leave it empty to keep results without limit"),
            field="cache_ttl",
        )
    return f"{number}{unit}"


def ttl_seconds(stored: str | None) -> float | None:
    """Seconds of a stored Cache TTL, None for unlimited."""
    if not stored:
        return None
    number, unit = int(stored[:-1]), stored[-1]
    return number * (86400 if unit == "d" else 3600)


def describe_ttl(stored: str | None) -> str:
    if not stored:
        # TRANSLATORS: how long a cached lookup is kept ("kept without limit")
        return _("without limit")
    number, unit = int(stored[:-1]), stored[-1]
    if unit == "d":
        return ngettext("for {n} day", "for {n} days", number).format(n=number)
    return ngettext("for {n} hour", "for {n} hours", number).format(n=number)


CACHE_FILE = "tip-cache.json"
CACHE_SCHEMA = "xdrconf-tip-cache"
CACHE_MAX_ENTRIES = 5000
_cache_lock = threading.Lock()

Clock = Callable[[], _dt.datetime]


class TipCache:
    """Lookup results (never secrets) in one JSON file in the settings folder, keyed by
    tenant, access level, portal and observable. An entry is fresh while its age is below
    the Cache TTL of the tenant asking."""

    def __init__(self, config_dir: Path, clock: Clock | None = None) -> None:
        self.path = Path(config_dir) / CACHE_FILE
        self.clock = clock or now_utc

    @staticmethod
    def key(tenant_id: str, access: str, portal: str, kind: str, value: str) -> str:
        return "|".join((tenant_id, access, portal, kind, value))

    def _load(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict) or doc.get("schema") != CACHE_SCHEMA:
            return {}
        entries = doc.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, key: str, ttl: float | None) -> dict[str, Any] | None:
        entry = self._load().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            stored = _dt.datetime.fromisoformat(entry["stored_at"])
        except (KeyError, TypeError, ValueError):
            return None
        age = (self.clock() - stored).total_seconds()
        if age < 0 or (ttl is not None and age >= ttl):
            return None
        return entry

    def put(self, key: str, answer: dict[str, Any]) -> None:
        """Keep a lookup's answer (found, zone, verdict, facts, message, data)."""
        from ...storage import write_private

        data = answer.get("data")
        entry = {
            "stored_at": self.clock().isoformat(timespec="seconds"),
            **{k: answer.get(k) for k in ("found", "zone", "verdict", "message")},
            "facts": [list(f) for f in answer.get("facts") or []],
            "data": data if len(json.dumps(data or {})) < 100_000 else None,
        }
        with _cache_lock:
            entries = self._load()
            entries[key] = entry
            if len(entries) > CACHE_MAX_ENTRIES:
                oldest = sorted(entries, key=lambda k: str(entries[k].get("stored_at", "")))
                for k in oldest[: len(entries) - CACHE_MAX_ENTRIES]:
                    del entries[k]
            doc = {"schema": CACHE_SCHEMA, "version": 1, "entries": entries}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.path, json.dumps(doc, ensure_ascii=False, indent=1).encode())

    def forget_tenant(self, tenant_id: str) -> int:
        from ...storage import write_private

        with _cache_lock:
            entries = self._load()
            gone = [k for k in entries if k.split("|", 1)[0] == tenant_id]
            for k in gone:
                del entries[k]
            if gone:
                doc = {"schema": CACHE_SCHEMA, "version": 1, "entries": entries}
                write_private(self.path, json.dumps(doc, ensure_ascii=False, indent=1).encode())
            return len(gone)
