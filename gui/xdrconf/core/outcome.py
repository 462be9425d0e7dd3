"""The one outcome of a connection check. Category names are a public contract: the
command line prints them and scripts match on them."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
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
    (e.g. from a newer version's stored result) is returned as it is."""
    try:
        return _(_WORDS[Category(category)])
    except ValueError:
        return str(category)


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@dataclass
class CheckResult:
    category: Category
    message: str
    target: str = ""
    latency_ms: float | None = None
    checked_at: str = field(default_factory=lambda: now_utc().isoformat(timespec="seconds"))
    details: dict[str, Any] = field(default_factory=dict)
    # Set by the runner: which tenant and integration the result belongs to.
    tenant: str = ""
    integration: str = ""
    connection: str = ""  # a connection id when an integration has several (KATA)

    @property
    def ok(self) -> bool:
        return self.category is Category.OK

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["category"] = self.category.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        data = dict(data)
        try:
            category = Category(data.pop("category"))
        except ValueError:
            category = Category.PROTOCOL_ERROR
        known = {f for f in cls.__dataclass_fields__}
        return cls(category=category, **{k: v for k, v in data.items() if k in known})

    def public(self) -> dict[str, Any]:
        """The command line's JSON form (a public contract)."""
        return {
            "tenant": self.tenant,
            "integration": self.integration,
            "target": self.target,
            "category": self.category.value,
            "ok": self.ok,
            "message": self.message,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "checked_at": self.checked_at,
        }
