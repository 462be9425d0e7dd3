"""One status model of an integration of a tenant, used by the window (the integrations
table, the tenant tree's marks) and the command line (`integration list|show`, `tenant
list`) alike: turned on, configured or what is missing, the last check results, the flags,
and one level (off, ok, unverified, warning, error)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import catalog
from .outcome import Outcome

if TYPE_CHECKING:
    from .tenants import Tenant
    from .workspace import Workspace

# From best to worst. unverified: the check passed but proved only that the peer is
# reachable (TLS and its certificate), not that the credentials work (Continent 4, SKDPU NT).
LEVELS = ("off", "ok", "unverified", "warning", "error")


def result_level(result: dict[str, Any]) -> str:
    """ok, unverified (ok, only reachability proven), warning (ok with warnings) or error,
    of one stored result."""
    level = Outcome.from_dict(result).level
    return level if level in ("ok", "unverified", "warning") else "error"


def shown_level(outcome: Outcome | dict[str, Any]) -> str:
    """The level an outcome (or its stored form) is shown with, its colour and mark in the
    window: result_level's, except off for a cancelled one (nothing was proven either way)."""
    if isinstance(outcome, Outcome):  # read as it is (its stored form would be a deep copy)
        if outcome.category.value == "cancelled":
            return "off"
        level = outcome.level
        return level if level in ("ok", "unverified", "warning") else "error"
    return "off" if outcome.get("category") == "cancelled" else result_level(outcome)


@dataclass
class IntegrationStatus:
    kind: str
    title: str
    supported: bool
    enabled: bool = False
    started: bool = False  # some setting or secret was given (IntegrationState.configured)
    missing: list[str] = field(default_factory=list)  # labels of required fields not set
    results: list[dict[str, Any]] = field(default_factory=list)  # the last check, stored form
    flags: list[tuple[str, str]] = field(default_factory=list)  # (level, message)

    @property
    def configured(self) -> bool:
        return self.supported and self.started and not self.missing

    @property
    def last_check(self) -> dict[str, Any] | None:
        return self.results[-1] if self.results else None

    @property
    def check_level(self) -> str:
        """The worst level of the last check's results; off when never checked."""
        if not self.results:
            return "off"
        return max((result_level(r) for r in self.results), key=LEVELS.index)

    @property
    def level(self) -> str:
        """off (not supported, turned off, or on but never checked), error (a result failed
        or an error flag), warning (a warning flag or a result with warnings), unverified
        (every result passed, some proving only reachability), ok."""
        if not self.supported or not self.enabled:
            return "off"
        flag = "error" if any(lv == "error" for lv, _ in self.flags) else ("warning" if self.flags else "off")
        worst = max((self.check_level, flag), key=LEVELS.index)
        if worst == "off" and not self.results:
            return "off"
        return worst


def integration_status(
    ws: Workspace, tenant: Tenant, kind: str, now: _dt.datetime | None = None
) -> IntegrationStatus:
    spec = catalog.spec_for(kind)
    if not spec.supported:
        return IntegrationStatus(kind, spec.title, False)
    state = ws.integration(tenant, kind)
    flags = []
    if state.enabled and spec.flags is not None:
        flags = [(f.level, f.message) for f in spec.flags(state, now or _dt.datetime.now(_dt.UTC))]
    return IntegrationStatus(
        kind,
        spec.title,
        True,
        enabled=state.enabled,
        started=state.configured,
        missing=ws.missing(tenant, kind, state),
        results=list(state.results),
        flags=flags,
    )


def tenant_statuses(
    ws: Workspace, tenant: Tenant, now: _dt.datetime | None = None
) -> list[IntegrationStatus]:
    """Every integration of the product for the tenant, in the product's order (none for
    the Shared tenant)."""
    if tenant.is_shared:
        return []
    return [integration_status(ws, tenant, kind, now) for kind in catalog.KINDS]


def tenant_level(ws: Workspace, tenant: Tenant, now: _dt.datetime | None = None) -> str | None:
    """The tenant's mark: error when an enabled integration's last check failed or an error
    flag is raised, warning for other flags or warnings, ok when every enabled integration's
    last check passed (unverified when some of them proved only reachability), else None."""
    enabled = [k for k, s in tenant.integrations.items() if s.enabled]
    if not enabled:
        return None
    statuses = [integration_status(ws, tenant, k, now) for k in enabled if catalog.spec_for(k).supported]
    levels = {s.level for s in statuses}
    if "error" in levels:
        return "error"
    if "warning" in levels:
        return "warning"
    if statuses and all(s.results for s in statuses):
        return "unverified" if "unverified" in levels else "ok"
    return None
