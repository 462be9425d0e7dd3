"""Running connection checks. Plain functions: the GUI moves them onto a QThreadPool, the
command line onto a thread pool, tests call them directly.

A check always ends: the probe runs on its own daemon thread and the caller waits for it,
for a cancellation, or for the hard deadline, whichever comes first; a cancelled or
overdue probe is abandoned and its late answer ignored."""

from __future__ import annotations

import concurrent.futures
import datetime as _dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import catalog
from .errors import KeyringUnavailable, ValidationError, XdrconfError
from .net import ClientCert, NetConfig, Trust, classify_exception, make_client
from .outcome import Category, CheckResult
from .tenants import Tenant

if TYPE_CHECKING:
    from .workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class CheckContext:
    """What a probe may use. It reads secrets through `secret()` (keyring, off the GUI
    thread) and makes HTTP clients through `client()` (the network layer)."""

    tenant: str
    is_root: bool
    kind: str
    settings: dict[str, Any]
    net: NetConfig
    secret_getter: Callable[[str], str | None]
    cancel: threading.Event = field(default_factory=threading.Event)
    secret_names: frozenset[str] = frozenset()
    now: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.UTC)
    extra: dict[str, Any] = field(default_factory=dict)
    # The Root tenant's settings of the same integration, for settings only Root may set
    # (spec.root_only) that apply to every tenant, e.g. Kaspersky TIP's Proxy toggle.
    root_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def timeout(self) -> float:
        return self.net.timeout

    def secret(self, name: str) -> str | None:
        return self.secret_getter(name)

    def client(
        self,
        host: str,
        trust: Trust | None = None,
        *,
        client_cert: ClientCert | None = None,
        use_proxy: bool = True,
    ) -> Any:
        trust = trust if trust is not None else Trust.from_settings(self.settings)
        return make_client(host, trust, self.net, client_cert=client_cert, use_proxy=use_proxy)

    def cancelled(self) -> bool:
        return self.cancel.is_set()


def missing_secret_result(label: str, title: str) -> CheckResult:
    return CheckResult(
        Category.MISSING_SECRET,
        f"The {label} of {title} is not stored; add it (Add data / Replace) and check again.",
    )


def failure(exc: BaseException, target: str, ctx: CheckContext, *, client_cert: bool = False) -> CheckResult:
    """A result for an exception raised while talking to a peer."""
    if isinstance(exc, KeyringUnavailable):
        return CheckResult(Category.KEYRING_UNAVAILABLE, str(exc), target)
    if isinstance(exc, ValidationError):
        return CheckResult(Category.INVALID_CONFIG, f"{exc}.", target)
    category, message = classify_exception(exc, target, ctx.timeout, client_cert=client_cert)
    return CheckResult(category, message, target)


def _precheck(
    ws: Workspace, tenant: Tenant, kind: str, typed: frozenset[str] = frozenset()
) -> CheckResult | None:
    spec = catalog.spec_for(kind)
    if not spec.supported or spec.check is None:
        return CheckResult(Category.INVALID_CONFIG, f"{spec.title} has no connection check yet.")
    state = tenant.integrations.get(kind)
    if state is None or not state.configured:
        return CheckResult(Category.INVALID_CONFIG, f"{spec.title} is not configured for this tenant.")
    missing_plain = []
    for f in spec.fields:
        if not f.required or not f.visible(state.settings):
            continue
        if f.secret:
            if f.name not in state.secrets and f.name not in typed:
                return missing_secret_result(f.label, spec.title)
        elif state.settings.get(f.name) in (None, "", []):
            missing_plain.append(f.label)
    if missing_plain:
        return CheckResult(
            Category.INVALID_CONFIG,
            f"{spec.title} is missing: {', '.join(missing_plain)}; set it and check again.",
        )
    return None


def run_check(
    ws: Workspace,
    tenant_id: str,
    kind: str,
    *,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    extra: dict[str, Any] | None = None,
    draft: Any | None = None,
    draft_secrets: dict[str, str] | None = None,
) -> list[CheckResult]:
    """Check one integration of one tenant; one result per connection.

    draft: an IntegrationState with settings not saved yet (the wizard's "Check connection");
    draft_secrets: secret values typed but not stored yet, used instead of the keyring's."""
    tenant = ws.tree.get(tenant_id)
    if draft is not None:
        import copy as _copy

        tenant = _copy.copy(tenant)
        tenant.integrations = {**tenant.integrations, kind: draft}
    spec = catalog.spec_for(kind)
    path = ws.tree.path(tenant_id)
    cancel = cancel or threading.Event()
    started = time.monotonic()

    def stamp(results: list[CheckResult]) -> list[CheckResult]:
        elapsed = (time.monotonic() - started) * 1000
        for r in results:
            r.tenant, r.integration = path, kind
            if r.latency_ms is None:
                r.latency_ms = elapsed
        return results

    pre = _precheck(ws, tenant, kind, frozenset(draft_secrets or {}))
    if pre is not None:
        return stamp([pre])
    state = tenant.integrations[kind]
    ctx = context_for(
        ws, tenant, kind, state, timeout=timeout, cancel=cancel, extra=extra, draft_secrets=draft_secrets
    )
    net = ctx.net
    check = spec.check
    assert check is not None  # _precheck answered for an integration without a check
    box: dict[str, Any] = {}
    done = threading.Event()

    def probe() -> None:
        try:
            box["results"] = check(ctx)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a result
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=probe, name=f"xdrconf-check-{kind}", daemon=True)
    thread.start()
    deadline = started + net.timeout * spec.extra.get("timeout_steps", 2) + 1.0
    while not done.is_set():
        if cancel.is_set():
            return stamp(
                [
                    CheckResult(
                        Category.CANCELLED,
                        "The check was cancelled; nothing was concluded.",
                        _target_of(state.settings),
                    )
                ]
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return stamp(
                [
                    CheckResult(
                        Category.TIMEOUT,
                        f"The check did not finish within its time limit ({net.timeout:g} s per step); "
                        "the peer is too slow or unreachable.",
                        _target_of(state.settings),
                    )
                ]
            )
        done.wait(min(0.05, remaining))
    if cancel.is_set():
        return stamp(
            [
                CheckResult(
                    Category.CANCELLED,
                    "The check was cancelled; nothing was concluded.",
                    _target_of(state.settings),
                )
            ]
        )
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, KeyringUnavailable):
            return stamp([CheckResult(Category.KEYRING_UNAVAILABLE, str(exc), _target_of(state.settings))])
        if isinstance(exc, XdrconfError):
            return stamp([CheckResult(Category.INVALID_CONFIG, str(exc), _target_of(state.settings))])
        log.exception("check of %s failed unexpectedly", kind, exc_info=exc)
        return stamp([failure(exc, _target_of(state.settings), ctx)])
    results: list[CheckResult] = box.get("results") or []
    if not results:
        results = [CheckResult(Category.INVALID_CONFIG, f"{spec.title} has nothing to check.")]
    return stamp(results)


def context_for(
    ws: Workspace,
    tenant: Tenant,
    kind: str,
    state: Any | None = None,
    *,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    extra: dict[str, Any] | None = None,
    draft_secrets: dict[str, str] | None = None,
) -> CheckContext:
    """The context a probe (or another request of an integration, e.g. a TIP lookup)
    runs with: the tenant's settings, its secrets read on demand, the network settings."""
    state = state if state is not None else tenant.integrations[kind]
    secrets = dict(state.secrets)
    typed = dict(draft_secrets or {})

    def get_secret(name: str) -> str | None:
        if name in typed:
            return typed[name]
        return ws.secrets.get(secrets[name]) if name in secrets else None

    root_state = ws.tree.root.integrations.get(kind)
    root_settings = state.settings if tenant.is_root else (root_state.settings if root_state else {})
    return CheckContext(
        tenant=ws.tree.path(tenant.id),
        is_root=tenant.is_root,
        kind=kind,
        settings=dict(state.settings),
        net=NetConfig.from_app(ws.app, timeout),
        secret_getter=get_secret,
        cancel=cancel or threading.Event(),
        secret_names=frozenset(secrets) | frozenset(typed),
        extra=dict(extra or {}),
        root_settings=dict(root_settings),
    )


def _target_of(settings: dict[str, Any]) -> str:
    from .fields import host_port

    host = settings.get("host")
    port = settings.get("port")
    if host and port:
        return host_port(host, port)
    return str(host or settings.get("url") or "")


def targets(
    ws: Workspace, tenant_ref: str | None = None, kind: str | None = None, *, subtree: bool = True
) -> list[tuple[str, str]]:
    """(tenant id, kind) pairs to check: enabled integrations, or the one asked for."""
    if tenant_ref is None:
        tenants: Iterable[Tenant] = ws.tree.walk_all()
    else:
        start = ws.tree.find(tenant_ref)
        tenants = ws.tree.walk(start.id) if (subtree and kind is None and not start.is_shared) else [start]
    out = []
    for tenant in tenants:
        if kind is not None:
            catalog.spec_for(kind)
            out.append((tenant.id, kind))
            continue
        for k in catalog.KINDS:
            state = tenant.integrations.get(k)
            if state is not None and state.enabled:
                out.append((tenant.id, k))
    return out


def run_many(
    ws: Workspace,
    pairs: list[tuple[str, str]],
    *,
    timeout: float | None = None,
    concurrency: int = 16,
    cancel: threading.Event | None = None,
    on_result: Callable[[str, str, list[CheckResult]], None] | None = None,
) -> list[CheckResult]:
    """Check many integrations concurrently; results in the order of `pairs`."""
    cancel = cancel or threading.Event()
    ordered: list[list[CheckResult]] = [[] for _ in pairs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {
            pool.submit(run_check, ws, tid, kind, timeout=timeout, cancel=cancel): i
            for i, (tid, kind) in enumerate(pairs)
        }
        for fut in concurrent.futures.as_completed(futures):
            i = futures[fut]
            ordered[i] = fut.result()
            if on_result is not None:
                tid, kind = pairs[i]
                on_result(tid, kind, ordered[i])
    return [r for group in ordered for r in group]
