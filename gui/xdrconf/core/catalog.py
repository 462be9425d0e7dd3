"""The integration catalog: every integration named in the product texts, in the order the
product lists them, and the spec of each one that xdrconf supports.

A supported integration lives in its own module under ``xdrconf.core.integrations`` and
exposes ``SPEC``; the module is imported on first use. A kind whose module is absent is
listed as "not yet supported" and cannot be turned on."""

from __future__ import annotations

import datetime as _dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import NotFoundError, ValidationError
from .fields import Field

if TYPE_CHECKING:
    from .checks import CheckContext
    from .outcome import CheckResult
    from .tenants import IntegrationState


@dataclass(frozen=True)
class Page:
    """One wizard page: a title, a line of explanation and the fields it shows."""

    title: str
    subtitle: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    """A warning attached to an integration and, through it, to its tenant (e.g. expiry)."""

    level: str  # "warning" or "error"
    message: str


@dataclass
class IntegrationSpec:
    kind: str
    title: str
    description: str
    fields: tuple[Field, ...] = ()
    pages: tuple[Page, ...] = ()
    # Probe: returns one result per connection (most integrations have one).
    check: Callable[[CheckContext], list[CheckResult]] | None = None
    # Cross-field validation of parsed settings; raises ValidationError.
    validate: Callable[[dict[str, Any], ValidationContext], None] | None = None
    # Said to the user before a check runs (e.g. "may consume quota").
    check_notice: str = ""
    # Settings the integration fills in itself after an edit and before validation
    # (e.g. KASAP's token issue date when a new token is stored); changes settings in place.
    adjust: Callable[[dict[str, Any], ValidationContext], None] | None = None
    # Flags computed from the stored state (token or certificate expiry).
    flags: Callable[[IntegrationState, _dt.datetime], list[Flag]] | None = None
    # Field names that only the Root tenant may set.
    root_only: tuple[str, ...] = ()
    # Settings keys managed by the integration's own code (e.g. KATA connections), kept
    # as they are by generic edits and exported as they are (they hold no secrets).
    structured_keys: tuple[str, ...] = ()
    # Whether a change of those structured settings makes the last check result stale
    # (KATA connections: yes; KUMA's saved commands: no, the check does not use them).
    structured_resets_check: bool = True
    supported: bool = True
    # Drops what the integration keeps outside the settings for a removed tenant (e.g.
    # cached lookups): called with the config folder and the tenant's id.
    forget_tenant: Callable[[Path, str], object] | None = None  # its result is not used
    # The (host, port) whose certificate "Fetch certificate" reads, from the settings typed
    # so far; by default the fields host and port, or the host of the field url.
    cert_target: Callable[[dict[str, Any]], tuple[str, int] | None] | None = None
    # How to enter again a secret an import could not bring (default: integration set).
    reenter_hint: Callable[[str, str], str] | None = None
    # How the secret store names a secret the integration names itself (KATA's keys), in
    # the vault's entry titles; declared secret fields use their label.
    secret_label: Callable[[str], str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        known = ", ".join(f.name for f in self.fields) or "none"
        raise ValidationError(
            "Field", f"'{name}' is not a field of {self.title} (fields: {known})", field=name
        )

    @property
    def secret_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)

    @property
    def plain_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.secret)

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.plain_fields if f.default is not None}


@dataclass(frozen=True)
class ValidationContext:
    """What cross-field validation may need to know about where the settings go."""

    is_root: bool
    secrets_present: frozenset[str] = frozenset()
    # What the edit being applied gives: plain fields and secrets with new values.
    values_set: frozenset[str] = frozenset()
    secrets_set: frozenset[str] = frozenset()
    today: _dt.date | None = None
    # Whether the integration is (or is being turned) on: completeness rules (a credential
    # that must go with a chosen method) apply then; while it is off, partial settings may
    # be saved step by step.
    enabled: bool = False


# kind -> (title, module name or None). Order is the product's order.
_CATALOG: tuple[tuple[str, str, str], ...] = (
    ("kuma", "KUMA REST API", "kuma"),
    ("kasap", "Kaspersky Automated Security Awareness Platform", "kasap"),
    ("tip", "Kaspersky Threat Intelligence Portal", "tip"),
    ("kata", "KATA/KEDR", "kata"),
    ("custom", "Custom integration", "custom"),
    ("ad", "Active Directory", "ad"),
    ("usergate", "UserGate", "usergate"),
    ("ideco-ngfw", "Ideco NGFW", "ideco_ngfw"),
    ("ideco-utm", "Ideco UTM", "ideco_utm"),
    ("redmine", "Redmine", "redmine"),
    ("checkpoint", "Check Point NGFW", "checkpoint"),
    ("sophos", "Sophos Firewall", "sophos"),
    ("continent", "Continent 4", "continent"),
    ("skdpu", "SKDPU NT", "skdpu"),
)

KINDS: tuple[str, ...] = tuple(k for k, _, _ in _CATALOG)
_cache: dict[str, IntegrationSpec] = {}


def _load(kind: str) -> IntegrationSpec:
    for k, title, module in _CATALOG:
        if k != kind:
            continue
        try:
            mod = importlib.import_module(f"xdrconf.core.integrations.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"xdrconf.core.integrations.{module}":
                raise
            return IntegrationSpec(
                kind=kind,
                title=title,
                description=f"{title} is not yet supported by this version of xdrconf.",
                supported=False,
            )
        spec: IntegrationSpec = mod.SPEC
        assert spec.kind == kind, f"{module} declares kind {spec.kind}, expected {kind}"
        return spec
    raise NotFoundError(f"Unknown integration kind '{kind}'; known kinds: {', '.join(KINDS)}.")


def spec_for(kind: str) -> IntegrationSpec:
    if kind not in _cache:
        _cache[kind] = _load(kind)
    return _cache[kind]


def all_specs() -> list[IntegrationSpec]:
    return [spec_for(k) for k in KINDS]


def title_of(kind: str) -> str:
    for k, title, _ in _CATALOG:
        if k == kind:
            return title
    return kind
