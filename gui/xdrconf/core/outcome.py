"""The one outcome of an operation on a peer (the connection check is one of them).
Category names are a public contract: the command line prints them and scripts match on
them."""

from __future__ import annotations

import copy
import datetime as _dt
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from .i18n import N_, _


class Category(StrEnum):
    OK = "ok"
    INVALID_CONFIG = "invalid_config"
    MISSING_SECRET = "missing_secret"
    KEYRING_UNAVAILABLE = "keyring_unavailable"
    DNS = "dns"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS_UNTRUSTED = "tls_untrusted"
    TLS_HOSTNAME = "tls_hostname"
    TLS_EXPIRED = "tls_expired"
    TLS_PIN_MISMATCH = "tls_pin_mismatch"
    CLIENT_CERT_REJECTED = "client_cert_rejected"
    AUTH_FAILED = "auth_failed"
    FORBIDDEN = "forbidden"
    PENDING_APPROVAL = "pending_approval"
    HOST_KEY_MISMATCH = "host_key_mismatch"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    SERVER_ERROR = "server_error"
    PROTOCOL_ERROR = "protocol_error"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


# What a person reads for each category (the window, the command line's human output); the
# code itself stays in tooltips and in --json.
_WORDS = {
    Category.OK: N_("OK"),
    Category.INVALID_CONFIG: N_("Settings not valid"),
    Category.MISSING_SECRET: N_("Secret missing"),
    Category.KEYRING_UNAVAILABLE: N_("Secret store unavailable"),
    Category.DNS: N_("Host name not found"),
    Category.UNREACHABLE: N_("Unreachable"),
    Category.TIMEOUT: N_("Timed out"),
    Category.TLS_UNTRUSTED: N_("Certificate not trusted"),
    Category.TLS_HOSTNAME: N_("Certificate name mismatch"),
    Category.TLS_EXPIRED: N_("Certificate expired"),
    Category.TLS_PIN_MISMATCH: N_("Not the pinned certificate"),
    Category.CLIENT_CERT_REJECTED: N_("Client certificate rejected"),
    Category.AUTH_FAILED: N_("Authentication failed"),
    Category.FORBIDDEN: N_("Access denied"),
    Category.PENDING_APPROVAL: N_("Waiting for approval"),
    Category.HOST_KEY_MISMATCH: N_("Not the pinned host key"),
    Category.RATE_LIMITED: N_("Too many requests"),
    Category.QUOTA_EXCEEDED: N_("Quota exceeded"),
    Category.SERVER_ERROR: N_("Server error"),
    Category.PROTOCOL_ERROR: N_("Unexpected answer"),
    Category.CANCELLED: N_("Cancelled"),
}


def category_words(category: Category | str) -> str:
    """The category as words ("auth_failed" -> "Authentication failed"); an unknown code
    (e.g. from a newer version's stored result) is returned as it is. For an outcome, use
    outcome_words: an ok one with warnings or not verified has words of its own."""
    try:
        return _(_WORDS[Category(category)])
    except ValueError:
        return str(category)


# The levels of an ok outcome that is not simply ok (Outcome.level): warning (ok, with
# warnings) and unverified (only reachability proven: Continent 4, SKDPU NT). The window
# says them in words, never the green "OK"; the command line in its short words.
_LEVEL_WORDS = {
    "warning": N_("OK, with warnings"),
    "unverified": N_("Reachable, not verified"),
}
_LEVEL_SHORT = {
    "warning": N_("ok, with warnings"),
    "unverified": N_("ok, not verified"),
}


def level_words(level: str) -> str:
    """The words of an ok outcome's level other than plain ok (warning, unverified)."""
    return _(_LEVEL_WORDS[level])


def _outcome(outcome: Outcome | dict[str, Any]) -> Outcome:
    return Outcome.from_dict(outcome) if isinstance(outcome, dict) else outcome


def outcome_words(outcome: Outcome | dict[str, Any]) -> str:
    """What a person reads for an outcome (or its stored form) in the window: its category's
    words, or for an ok one with warnings or not verified, words that say so."""
    o = _outcome(outcome)
    words = _LEVEL_WORDS.get(o.level)
    return _(words) if words is not None else category_words(o.category)


def outcome_short(outcome: Outcome | dict[str, Any]) -> str:
    """The same in the command line's short words: 'ok', 'ok, with warnings', 'ok, not
    verified', or the category's code ('auth_failed')."""
    o = _outcome(outcome)
    words = _LEVEL_SHORT.get(o.level)
    return _(words) if words is not None else o.category.value


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


# Not kept with a stored result: the payload can be large (alerts, groups), and `refused`
# only tells the front end how the run ended.
_NOT_STORED = ("data", "refused")


@dataclass
class Outcome:
    """One target's (or connection's) result of one operation.

    data: the operation's payload (rows, a dict), json-able, never stored with a check.
    warnings: an ok outcome can carry warnings (rights not confirmed, host not verified).
    verified: False when only reachability or TLS could be proven, not the credentials.
    refused: set by the engine when nothing was attempted because the configuration or the
    parameters do not allow it (not configured, a missing secret, a bad parameter); the
    command line turns that into exit status 2 for a single operation."""

    category: Category
    message: str
    target: str = ""
    latency_ms: float | None = None
    checked_at: str = field(default_factory=lambda: now_utc().isoformat(timespec="seconds"))
    details: dict[str, Any] = field(default_factory=dict)
    # Stamped by the engine: which tenant, integration and operation the outcome belongs to.
    tenant: str = ""
    integration: str = ""
    connection: str = ""  # a connection id when an integration has several (KATA)
    operation: str = ""
    data: Any = None
    warnings: list[str] = field(default_factory=list)
    verified: bool = True
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.category is Category.OK

    @property
    def level(self) -> str:
        """ok, warning (ok with warnings), unverified (ok, credentials not proven) or failed."""
        if not self.ok:
            return "failed"
        if self.warnings:
            return "warning"
        return "ok" if self.verified else "unverified"

    def to_dict(self) -> dict[str, Any]:
        """The stored form (the last check result of an integration); no payload."""
        out = {
            f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name not in _NOT_STORED
        }
        out["category"] = self.category.value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        data = dict(data)
        try:
            category = Category(data.pop("category"))
        except ValueError:
            category = Category.PROTOCOL_ERROR
        known = {f.name for f in fields(cls)} - set(_NOT_STORED)
        return cls(category=category, **{k: v for k, v in data.items() if k in known})

    def public(self) -> dict[str, Any]:
        """The command line's JSON form (a public contract)."""
        out: dict[str, Any] = {
            "tenant": self.tenant,
            "integration": self.integration,
            "operation": self.operation,
            "target": self.target,
            "category": self.category.value,
            "ok": self.ok,
            "message": self.message,
            "warnings": list(self.warnings),
            "verified": self.verified,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "checked_at": self.checked_at,
        }
        if self.connection:
            out["connection"] = self.connection
        if self.data is not None:
            out["data"] = self.data
        return out


# The stored results of checks were called check results; one class serves both.
CheckResult = Outcome
