"""The integration catalog, the one registry of integrations: every integration named in the
product texts, in the order the product lists them, where its code lives, and the spec of
each one that xdrconf supports.

An integration is one package ``xdrconf.core.integrations.<package>`` exposing ``SPEC``
(fields, pages, operations), or ``SPECS`` ({kind: spec}) when one package serves several
kinds (Ideco NGFW and Ideco UTM: one product, renamed at version 16); it is imported on
first use. A kind whose package is absent is
listed as "not yet supported" and cannot be turned on. Bespoke front-end parts are named
here too (``Entry.qt``: a module of ``xdrconf.qt.integrations``; ``Entry.cli``: modules of
``xdrconf.cli``); the core never imports them, the Qt loader and the command line do.

Integrations installed as distributions of their own (plugins) join the built-in ones:
each entry point of the group ``xdrconf.integrations`` names a module exposing ``SPEC``,
and its name is the kind, e.g. in the plugin's pyproject.toml::

    [project.entry-points."xdrconf.integrations"]
    acme-edr = "acme_xdrconf.edr"

A plugin gets the generated window (wizard pages, check, Operations tab) and command line
(``xdrconf acme-edr --help``) as a built-in integration does; it has no bespoke front-end
parts. Plugins are found once, the first time ``ENTRIES`` or ``KINDS`` is read; one whose
kind is built in or taken, or whose module cannot be imported, is left out (logged)."""

from __future__ import annotations

import datetime as _dt
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from xdrconf.core.i18n import N_, _

from . import targets
from .errors import NotFoundError, ValidationError
from .fields import Field, host_port

if TYPE_CHECKING:
    from .engine import Operation
    from .net import CertInfo
    from .tenants import IntegrationState

    # Read through __getattr__ below: the built-in integrations and the plugins found.
    ENTRIES: tuple[Entry, ...]
    KINDS: tuple[str, ...]

log = logging.getLogger(__name__)
PLUGIN_GROUP = "xdrconf.integrations"


@dataclass(frozen=True)
class Entry:
    """One integration in the catalog: its kind (as typed on the command line), title, the
    package of its core code, and the optional bespoke front-end modules."""

    kind: str
    title: str
    package: str
    qt: str | None = None  # xdrconf.qt.integrations.<qt>
    cli: tuple[str, ...] = ()  # xdrconf.cli.<name>, each with register(sub, common, add)
    module: str = ""  # a plugin's module (its entry point); else xdrconf.core.integrations.<package>

    @property
    def module_name(self) -> str:
        return self.module or f"xdrconf.core.integrations.{self.package}"


@dataclass(frozen=True)
class Page:
    """One wizard page: a title, a line of explanation and the fields it shows.

    about: a paragraph above the fields (what the product does through the integration),
    for what does not fit the subtitle's line or two. The integrations this one relies on
    are the spec's see_also (SeeAlso), shown on its first page."""

    title: str
    subtitle: str
    fields: tuple[str, ...]
    about: str = ""


@dataclass(frozen=True)
class SeeAlso:
    """A pointer from an integration to another one of the same tenant that it depends on
    (the firewalls' response scripts run on the custom integration's script-launch host).
    The window shows `text` on the integration's pages and in its details, with a link that
    opens the other integration; the command line's help prints it. In `text`, {title} is
    replaced by the other integration's title."""

    kind: str
    text: str


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
    # Where the secrets go (core.targets has the rule): the fields, or structured keys, that
    # say where they are sent (host, port, URL, KATA's connections), never other settings. A
    # change of one while secrets stay stored needs them given again or a confirmation.
    target_fields: tuple[str, ...] = ()
    # Where one secret goes, as a person reads it, when more precise than "any change of a
    # target field" (TIP: the chosen portal; KATA: its connection's host:port); None: the
    # settings send that secret nowhere.
    secret_target: Callable[[dict[str, Any], str], str | None] | None = None
    # "host:port" an outcome is about, from the settings; by default the fields host and
    # port, or the host and port of the field url.
    target: Callable[[dict[str, Any]], str] | None = None
    supported: bool = True
    # Drops what the integration keeps outside the settings for a removed tenant (e.g.
    # cached lookups): called with the config folder and the tenant's id.
    forget_tenant: Callable[[Path, str], object] | None = None  # its result is not used
    # The (host, port) whose certificate "Fetch certificate" reads, from the settings typed
    # so far (a list: one to choose from for each server); by default the fields host and
    # port, or the host of the field url.
    cert_target: Callable[[dict[str, Any]], tuple[str, int] | list[tuple[str, int]] | None] | None = None
    # How "Fetch certificate" reads it: (settings, host, port, timeout) -> core.net.CertInfo;
    # by default a TLS handshake (core.net.fetch_certificate). AD: StartTLS first on a plain
    # LDAP port. Raises OperationFailed, or what the handshake raised.
    fetch_certificate: Callable[[dict[str, Any], str, int, float], CertInfo] | None = None
    # How to enter again a secret an import could not bring (default: integration set).
    reenter_hint: Callable[[str, str], str] | None = None
    # How the secret store names a secret the integration names itself (KATA's keys), in
    # the vault's entry titles; declared secret fields use their label.
    secret_label: Callable[[str], str] | None = None
    # Other integrations of the tenant this one depends on, with why (see SeeAlso).
    see_also: tuple[SeeAlso, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        known = ", ".join(f.name for f in self.fields) or _("none")
        raise ValidationError(
            _("Field"),
            _("'{name}' is not a field of {title} (fields: {known})").format(
                name=name, title=self.title, known=known
            ),
            field=name,
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
        known = ", ".join(op.name for op in self.operations) or _("none")
        raise NotFoundError(
            _("{title} has no operation '{name}' (operations: {known}).").format(
                title=self.title, name=name, known=known
            )
        )

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
BUILT_IN: tuple[Entry, ...] = (
    Entry("kuma", N_("KUMA REST API"), "kuma", qt="kuma", cli=("alerts", "command")),
    Entry("kasap", "Kaspersky Automated Security Awareness Platform", "kasap", qt="kasap", cli=("kasap",)),
    Entry("tip", N_("Kaspersky Threat Intelligence Portal"), "tip", qt="tip", cli=("tip",)),
    Entry("kata", "KATA/KEDR", "kata", qt="kata", cli=("kata",)),
    Entry("custom", N_("Custom integration"), "custom", qt="custom", cli=("custom",)),
    Entry("ad", N_("Active Directory"), "ad"),
    Entry("usergate", "UserGate", "usergate"),
    Entry("ideco-ngfw", "Ideco NGFW", "ideco"),
    Entry("ideco-utm", "Ideco UTM", "ideco"),
    Entry("redmine", N_("Redmine"), "redmine"),
    Entry("checkpoint", N_("Check Point NGFW"), "checkpoint"),
    Entry("sophos", N_("Sophos Firewall"), "sophos"),
    Entry("continent", N_("Continent 4"), "continent"),
    Entry("skdpu", N_("SKDPU NT"), "skdpu"),
)

_entries: tuple[Entry, ...] | None = None
_by_kind: dict[str, Entry] = {}
_cache: dict[str, IntegrationSpec] = {}
_found = threading.RLock()
_finding = False


def _plugins(taken: set[str]) -> list[tuple[Entry, IntegrationSpec]]:
    """The integrations installed as plugins (entry points of PLUGIN_GROUP), by name."""
    from importlib.metadata import entry_points

    out: list[tuple[Entry, IntegrationSpec]] = []
    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        if ep.name in taken:
            log.warning("integration plugin %s (%s) left out: the kind is taken", ep.name, ep.value)
            continue
        try:
            found = ep.load()  # "package.module" (exposing SPEC) or "package.module:SPEC"
        except Exception:  # a broken plugin must not stop xdrconf
            log.warning(
                "integration plugin %s (%s) left out: it cannot be loaded", ep.name, ep.value, exc_info=True
            )
            continue
        spec = found if isinstance(found, IntegrationSpec) else getattr(found, "SPEC", None)
        if not isinstance(spec, IntegrationSpec) or spec.kind != ep.name:
            log.warning(
                "integration plugin %s (%s) left out: it has no SPEC of kind %s", ep.name, ep.value, ep.name
            )
            continue
        problem = targets.undeclared(spec)
        if problem is not None:  # its stored secrets could not be kept to their target
            log.warning("integration plugin %s (%s) left out: %s", ep.name, ep.value, problem)
            continue
        taken.add(ep.name)
        out.append((Entry(ep.name, spec.title, ep.module.rsplit(".", 1)[-1], module=ep.module), spec))
    return out


def _all_entries() -> tuple[Entry, ...]:
    global _entries, _finding
    if _entries is None:
        with _found:
            if _finding:  # a plugin's module asks while it is imported: the built-in ones
                return BUILT_IN
            if _entries is None:
                _finding = True
                try:
                    found = _plugins({e.kind for e in BUILT_IN})
                finally:
                    _finding = False
                for e, spec in found:
                    _cache[e.kind] = spec
                entries = BUILT_IN + tuple(e for e, _spec in found)
                _by_kind.update({e.kind: e for e in entries})
                _entries = entries
    return _entries


def __getattr__(name: str) -> tuple[Any, ...]:
    if name == "ENTRIES":
        return _all_entries()
    if name == "KINDS":
        return tuple(e.kind for e in _all_entries())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def entry(kind: str) -> Entry:
    _all_entries()
    try:
        return _by_kind[kind]
    except KeyError:
        known = ", ".join(e.kind for e in _all_entries())
        raise NotFoundError(
            _("Unknown integration kind '{kind}'; known kinds: {known}.").format(kind=kind, known=known)
        ) from None


def _load(kind: str) -> IntegrationSpec:
    e = entry(kind)
    name = e.module_name
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return IntegrationSpec(
            kind=kind,
            title=e.title,
            description=_("{title} is not yet supported by this version of xdrconf.").format(title=e.title),
            supported=False,
        )
    specs: dict[str, IntegrationSpec] | None = getattr(mod, "SPECS", None)
    spec: IntegrationSpec = specs[kind] if specs is not None else mod.SPEC
    assert spec.kind == kind, f"{e.package} declares kind {spec.kind}, expected {kind}"
    return spec


def spec_for(kind: str) -> IntegrationSpec:
    if kind not in _cache:
        _cache[kind] = _load(kind)
    return _cache[kind]


def all_specs() -> list[IntegrationSpec]:
    return [spec_for(e.kind) for e in _all_entries()]


def title_of(kind: str) -> str:
    _all_entries()
    e = _by_kind.get(kind)
    return e.title if e is not None else kind
