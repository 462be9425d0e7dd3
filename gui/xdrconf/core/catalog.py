"""The integration catalog, the one registry of integrations: every integration named in the
product texts, in the order the product lists them, where its code lives, and the spec of
each one that xdrconf supports.

An integration is one package ``xdrconf.core.integrations.<package>`` exposing ``SPEC``
(fields, pages, operations); it is imported on first use. A kind whose package is absent is
listed as "not yet supported" and cannot be turned on. Bespoke front-end parts are named
here too (``Entry.qt``: a module of ``xdrconf.qt.integrations``; ``Entry.cli``: modules of
``xdrconf.cli``); the core never imports them, the Qt loader and the command line do."""

from __future__ import annotations

import datetime as _dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import NotFoundError, ValidationError
from .fields import Field, host_port

if TYPE_CHECKING:
    from .engine import Operation
    from .tenants import IntegrationState


@dataclass(frozen=True)
class Entry:
    """One integration in the catalog: its kind (as typed on the command line), title, the
    package of its core code, and the optional bespoke front-end modules."""

    kind: str
    title: str
    package: str
    qt: str | None = None  # xdrconf.qt.integrations.<qt>
    cli: tuple[str, ...] = ()  # xdrconf.cli.<name>, each with register(sub, common, add)


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
    # What can be done on the peer, the connection check included (is_check=True); run by
    # xdrconf.core.engine.run_operation.
    operations: tuple[Operation, ...] = ()
    # Cross-field validation of parsed settings; raises ValidationError.
    validate: Callable[[dict[str, Any], ValidationContext], None] | None = None
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
    # The fields that say where the secrets are sent (host, port, URL): a change of one of
    # them means a stored secret would go somewhere new.
    target_fields: tuple[str, ...] = ()
    # "host:port" an outcome is about, from the settings; by default the fields host and
    # port, or the host and port of the field url.
    target: Callable[[dict[str, Any]], str] | None = None
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

    # ---- operations ---------------------------------------------------------------------------
    @property
    def check_op(self) -> Operation | None:
        """The connection check, or None when the integration has none."""
        return next((op for op in self.operations if op.is_check), None)

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        known = ", ".join(op.name for op in self.operations) or "none"
        raise NotFoundError(f"{self.title} has no operation '{name}' (operations: {known}).")

    def target_of(self, settings: dict[str, Any]) -> str:
        if self.target is not None:
            return self.target(settings)
        host, port = settings.get("host"), settings.get("port")
        if host and port:
            return host_port(str(host), int(port))
        url = settings.get("url")
        return urlsplit(str(url)).netloc if url else str(host or "")


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


# The product's order.
ENTRIES: tuple[Entry, ...] = (
    Entry("kuma", "KUMA REST API", "kuma", qt="kuma", cli=("alerts", "command")),
    Entry("kasap", "Kaspersky Automated Security Awareness Platform", "kasap", qt="kasap", cli=("kasap",)),
    Entry("tip", "Kaspersky Threat Intelligence Portal", "tip", qt="tip", cli=("tip",)),
    Entry("kata", "KATA/KEDR", "kata", qt="kata", cli=("kata",)),
    Entry("custom", "Custom integration", "custom", qt="custom", cli=("custom",)),
    Entry("ad", "Active Directory", "ad"),
    Entry("usergate", "UserGate", "usergate"),
    Entry("ideco-ngfw", "Ideco NGFW", "ideco_ngfw"),
    Entry("ideco-utm", "Ideco UTM", "ideco_utm"),
    Entry("redmine", "Redmine", "redmine"),
    Entry("checkpoint", "Check Point NGFW", "checkpoint"),
    Entry("sophos", "Sophos Firewall", "sophos"),
    Entry("continent", "Continent 4", "continent"),
    Entry("skdpu", "SKDPU NT", "skdpu"),
)

KINDS: tuple[str, ...] = tuple(e.kind for e in ENTRIES)
_BY_KIND = {e.kind: e for e in ENTRIES}
_cache: dict[str, IntegrationSpec] = {}


def entry(kind: str) -> Entry:
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise NotFoundError(f"Unknown integration kind '{kind}'; known kinds: {', '.join(KINDS)}.") from None


def _load(kind: str) -> IntegrationSpec:
    e = entry(kind)
    name = f"xdrconf.core.integrations.{e.package}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return IntegrationSpec(
            kind=kind,
            title=e.title,
            description=f"{e.title} is not yet supported by this version of xdrconf.",
            supported=False,
        )
    spec: IntegrationSpec = mod.SPEC
    assert spec.kind == kind, f"{e.package} declares kind {spec.kind}, expected {kind}"
    return spec


def spec_for(kind: str) -> IntegrationSpec:
    if kind not in _cache:
        _cache[kind] = _load(kind)
    return _cache[kind]


def all_specs() -> list[IntegrationSpec]:
    return [spec_for(k) for k in KINDS]


def title_of(kind: str) -> str:
    e = _BY_KIND.get(kind)
    return e.title if e is not None else kind
