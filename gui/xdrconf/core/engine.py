"""The operation engine: every operation on a peer (the connection check included) is
declared in its integration's spec as an `Operation` and run here by `run_operation`.

One run: resolve the tenant (and a wizard's draft), precheck what the operation needs
(configured, required fields, stored secrets, its parameters, a confirmation), build the
`OpContext` (secrets read on demand, trust, proxy, timeout, cancel, clock), run the
operation on its own daemon thread under one watchdog (deadline and cancel), classify
whatever went wrong into one outcome category, stamp tenant, integration, operation, target
and latency, and redact every secret value the operation read or was given from the
outcomes, in every encoding, even when a peer echoes it back. While an operation runs its
secrets are also known to a process-wide redactor behind a logging record factory, so no
log line (ours, httpx's, paramiko's) can carry them.

Front ends never talk to peers themselves: the window runs operations in workers, the
command line in its own thread, the scheduler (core.scheduler) many at once."""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import quote, quote_plus

from . import catalog, targets
from .errors import (
    KeyringUnavailable,
    NotFoundError,
    OperationFailed,
    Stopped,
    ValidationError,
    XdrconfError,
)
from .fields import Field, header_problem
from .i18n import N_, _
from .net import ClientCert, NetConfig, Trust, classify_exception
from .outcome import Category, Outcome, now_utc

if TYPE_CHECKING:
    from .http import HttpSession
    from .tenants import IntegrationState, Tenant
    from .workspace import Workspace

log = logging.getLogger(__name__)
T = TypeVar("T")

MASK = "[secret removed]"
MIN_SECRET = 4  # shorter values are not searched for (they would mask ordinary words)
MIN_LINE = 16  # lines of a multi-line secret (a PEM key) that are searched for on their own


# ---- declaring operations ----------------------------------------------------------------------
@dataclass(frozen=True)
class ParamOffer:
    """What the window offers for an operation's parameters: values to pick from for some
    of them ({parameter: ((value, label), …)}, e.g. the tenant's KUMA commands), and the
    names of the extra parameters to ask for one by one (e.g. the placeholders of the
    command chosen). The command line accepts any value; the operation judges it."""

    choices: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One thing an integration does on its peer. `run` returns one outcome per target
    (per connection); it raises OperationFailed (or ctx.fail) to end with one category.

    name: the command-line word (check, receive, close, lookup, groups, host-keys …).
    params: parsed with Field.parse into ctx.params (missing optional ones get their default).
    notice: said before it runs (e.g. "may consume quota").
    changes_peer: asks for confirmation first (window: a dialog; command line: --yes).
    needs: the secret fields it needs; None: the spec's required (visible) secrets.
    needs_fields: the plain fields it needs; None: the spec's required (visible) fields (an
    operation that helps to fill in a required field, e.g. lists the projects to pick one
    from, runs before that field is set).
    timeout_steps: the watchdog's budget is timeout x steps + 1 s, renewed by each request
    and by ctx.progress().
    columns: (data key, label): the columns of the table the rows of an outcome's data are
    shown in (rows_of); for a dict payload without rows, the keys shown as facts, each a
    line "label: value" (facts_of). Without columns the window and the command line show
    every key the data holds.
    is_check: the connection check; its outcomes are kept as the last check results.
    standalone: runs on its parameters alone (no tenant settings, no secrets, no tenant needed).
    extra_params: when set, NAME=VALUE parameters other than `params` are accepted (as text);
    the text says what they are (KUMA commands: their placeholders).
    offer: what the window's parameter form offers, from the tenant's settings and the
    parameters entered so far (see ParamOffer); called on the GUI thread, so it only reads
    the settings it is given (no network, no secrets)."""

    name: str
    title: str
    run: Callable[[OpContext], list[Outcome]]
    params: tuple[Field, ...] = ()
    description: str = ""
    notice: str = ""
    changes_peer: bool = False
    needs: tuple[str, ...] | None = None
    needs_fields: tuple[str, ...] | None = None
    timeout_steps: int = 2
    columns: tuple[tuple[str, str], ...] = ()
    is_check: bool = False
    standalone: bool = False
    extra_params: str = ""
    offer: Callable[[dict[str, Any], dict[str, str]], ParamOffer] | None = None

    def __post_init__(self) -> None:
        for f in self.params:
            # A parameter is typed on a command line and shown in forms: never a secret.
            assert not f.secret, f"parameter {f.name} of {self.name} is a secret"

    def param(self, name: str) -> Field:
        for f in self.params:
            if f.name == name:
                return f
        raise NotFoundError(_("'{title}' has no parameter '{name}'.").format(title=self.title, name=name))


def check_operation(run: Callable[[OpContext], list[Outcome]], **kw: Any) -> Operation:
    """The connection check of an integration."""
    kw.setdefault("description", N_("Prove that the connection and the credentials work (read-only)."))
    return Operation("check", N_("Check connection"), run, is_check=True, **kw)


# ---- redaction ----------------------------------------------------------------------------------
def variants(secret: str, context: Iterable[str] = ()) -> set[str]:
    """The forms in which a secret can appear in text: as it is, percent-encoded, JSON-,
    XML- and repr-escaped, base64 (also of "<user>:<secret>" for each context string, as HTTP basic
    authentication sends it), and each long line of a multi-line secret."""
    if len(secret) < MIN_SECRET:
        return set()
    out = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        html.escape(secret, quote=False),  # in XML (an XML-RPC body) and HTML
        html.escape(secret, quote=True),
    }
    for prefix in ("", *context):
        joined = f"{prefix}:{secret}" if prefix else secret
        encoded = base64.b64encode(joined.encode()).decode()
        out |= {encoded, encoded.rstrip("="), base64.urlsafe_b64encode(joined.encode()).decode().rstrip("=")}
    stripped = secret.strip()
    if "\n" in stripped:
        out |= {line.strip() for line in stripped.splitlines() if len(line.strip()) >= MIN_LINE}
    return {v for v in out if len(v) >= MIN_SECRET}


class Redactor:
    """Replaces known secret values (in all their forms) in text and in nested data."""

    def __init__(self) -> None:
        self._needles: list[str] = []
        self._lock = threading.Lock()

    def add(self, secret: str | None, context: Iterable[str] = ()) -> None:
        if not secret:
            return
        found = variants(secret, context)
        with self._lock:
            fresh = found - set(self._needles)
            if fresh:
                self._needles = sorted({*self._needles, *fresh}, key=len, reverse=True)

    @property
    def needles(self) -> tuple[str, ...]:
        return tuple(self._needles)

    def __bool__(self) -> bool:
        return bool(self._needles)

    def text(self, value: str) -> str:
        for needle in self._needles:
            if needle in value:
                value = value.replace(needle, MASK)
        return value

    def __call__(self, value: Any) -> Any:
        if not self._needles:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        return value

    def outcome(self, o: Outcome) -> Outcome:
        o.message = self.text(o.message)
        o.target = self.text(o.target)
        o.details = self(o.details)
        o.warnings = self(o.warnings)
        o.data = self(o.data)
        return o


class _ActiveSecrets:
    """The secret forms of every operation running now, for the logging record factory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._needles: tuple[str, ...] = ()

    def add(self, needles: Iterable[str]) -> None:
        with self._lock:
            for n in needles:
                self._counts[n] = self._counts.get(n, 0) + 1
            self._needles = tuple(sorted(self._counts, key=len, reverse=True))

    def remove(self, needles: Iterable[str]) -> None:
        with self._lock:
            for n in needles:
                left = self._counts.get(n, 0) - 1
                if left > 0:
                    self._counts[n] = left
                else:
                    self._counts.pop(n, None)
            self._needles = tuple(sorted(self._counts, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._needles)


ACTIVE = _ActiveSecrets()


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "xdrconf_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if ACTIVE:
            _scrub(record)
        return record

    factory.xdrconf_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record: redact its parts as they are
        message = f"{record.msg} {record.args!r}"
    clean = ACTIVE.redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        clean = ACTIVE.redact(text)
        if clean != text:
            record.exc_text = clean
            record.exc_info = None
    if record.stack_info:
        record.stack_info = ACTIVE.redact(record.stack_info)


_install_record_factory()


# ---- the context -----------------------------------------------------------------------------------
class OpContext:
    """What an operation may use. Secrets are read on demand (off the GUI thread); every
    value read is registered with the redactor of this run."""

    def __init__(
        self,
        *,
        ws: Workspace,
        spec: catalog.IntegrationSpec,
        op: Operation,
        tenant: Tenant | None,
        path: str,
        state: IntegrationState | None,
        root_settings: dict[str, Any],
        params: dict[str, Any],
        net: NetConfig,
        cancel: threading.Event,
        clock: Callable[[], _dt.datetime] | None,
        typed: dict[str, str],
        cache: dict[str, str | None],
        on_progress: Callable[[Any], None] | None,
    ) -> None:
        self.ws = ws
        self.spec = spec
        self.kind = spec.kind
        self.operation = op
        self.tenant = path
        self.tenant_id = tenant.id if tenant is not None else ""
        self.is_root = bool(tenant is not None and tenant.is_root)
        self.settings: dict[str, Any] = dict(state.settings) if state is not None else {}
        self.root_settings = dict(root_settings)
        self.params = params
        self.net = net
        self.cancel = cancel
        self.config_dir = Path(ws.config_dir)
        self._clock = clock
        self._refs: dict[str, str] = dict(state.secrets) if state is not None else {}
        self._typed = dict(typed)
        self._cache = cache
        self._on_progress = on_progress
        self.redactor = Redactor()
        self._registered: list[str] = []
        self._lock = threading.Lock()
        self._closers: list[Any] = []
        self._sessions: list[HttpSession] = []
        self.abandoned = False
        self.budget = net.timeout * op.timeout_steps + 1.0
        self.deadline = time.monotonic() + self.budget
        self.started = time.monotonic()
        self.last_latency_ms: float | None = None
        # ctx.each: finished outcomes and the targets still pending, by position.
        self._partial: dict[int, Outcome] = {}
        self._pending: dict[int, tuple[str, str]] = {}
        for value in self._typed.values():
            self._register(value)

    # ---- plain values --------------------------------------------------------------------------
    @property
    def timeout(self) -> float:
        return self.net.timeout

    @property
    def target(self) -> str:
        """Where this operation goes, as outcomes name it (host:port)."""
        return self.spec.target_of(self.settings) if self.settings else ""

    def now(self) -> _dt.datetime:
        return self._clock() if self._clock is not None else now_utc()

    def cancelled(self) -> bool:
        return self.cancel.is_set() or self.abandoned

    def check_stop(self) -> None:
        """Raise (quietly ending the operation's thread) when it was cancelled or abandoned."""
        if self.cancelled():
            raise Stopped

    def remaining(self) -> float:
        """Seconds left before the watchdog gives up on this operation."""
        return max(0.05, self.deadline - time.monotonic())

    def renew(self) -> None:
        """A new step has started (a request, a page): the watchdog's budget starts again."""
        self.deadline = max(self.deadline, time.monotonic() + self.budget)

    def progress(self, value: Any = None) -> None:
        """Report progress (e.g. (page, alerts so far)); renews the watchdog's budget."""
        self.check_stop()
        self.renew()
        if value is not None and self._on_progress is not None:
            self._on_progress(value)

    def fail(self, category: Category, message: str, **details: Any) -> NoReturn:
        raise OperationFailed(category, message, details=details)

    # ---- secrets -----------------------------------------------------------------------------------
    def _label(self, name: str) -> str:
        try:
            return self.spec.field(name).label
        except ValidationError:
            return name

    def _register(self, value: str) -> None:
        context = [str(v) for v in (*self.settings.values(), *self.params.values()) if isinstance(v, str)]
        before = set(self.redactor.needles)
        self.redactor.add(value, context)
        fresh = [n for n in self.redactor.needles if n not in before]
        if fresh:
            ACTIVE.add(fresh)
            with self._lock:
                self._registered.extend(fresh)

    def secret(self, name: str, *, header: bool = False) -> str | None:
        """The secret `name` (a typed draft value wins over the stored one), or None when
        it is not stored. header=True: it goes into an HTTP header, so control characters
        and non-ASCII are refused (invalid_config naming the field) before anything is sent."""
        if name in self._typed:
            value: str | None = self._typed[name]
        else:
            ref = self._refs.get(name)
            if ref is None:
                return None
            value = self._cache[ref] if ref in self._cache else self.ws.secrets.get(ref)
        if value is None:
            return None
        self._register(value)
        problem = header_problem(value) if header else None
        if problem is not None:  # stored by a version that did not check it at entry
            raise ValidationError(self._label(name), problem, field=name)
        return value

    def require_secret(self, name: str, *, header: bool = False) -> str:
        value = self.secret(name, header=header)
        if not value:
            raise OperationFailed(
                Category.MISSING_SECRET, missing_secret_message(self.spec, name, self.operation), refused=True
            )
        return value

    # ---- the network -----------------------------------------------------------------------------------
    def http(
        self,
        host: str | None = None,
        *,
        trust: Trust | None = None,
        client_cert: ClientCert | None = None,
        use_proxy: bool = True,
        lasting: bool = False,
    ) -> HttpSession:
        """A request helper for one peer (one httpx client, closed when the operation ends).
        host: the peer's host; default the setting host, else the host of the first URL
        requested. The trust (pin) and client certificate apply to that host only.

        lasting=True for a peer that keeps a session between requests (a login that must be
        logged out): when the operation is cancelled or overruns, a request under way is left
        to finish (within the timeout) instead of being cut off, no new request is sent
        except one marked `final` (the logout), and the client is closed when the operation's
        thread ends. See integrations.common.signed_in."""
        from .http import HttpSession

        session = HttpSession(
            self,
            host or str(self.settings.get("host") or ""),
            trust if trust is not None else Trust.from_settings(self.settings),
            client_cert=client_cert,
            use_proxy=use_proxy,
            lasting=lasting,
        )
        with self._lock:
            self._sessions.append(session)
            stopped = self.abandoned
        if stopped:
            session.close()
            raise Stopped
        return session

    def guard(self, closer: T) -> T:
        """Have `closer.close()` called when the operation ends or is abandoned (a socket, an
        SSH transport): no blocking call outlives its operation."""
        with self._lock:
            self._closers.append(closer)
            stopped = self.abandoned
        if stopped:
            _close(closer)
        return closer

    def interrupt_all(self) -> None:
        """From another thread (the watchdog): wake every blocking call of the operation by
        shutting its sockets down, without closing them. Closing from here would free the
        descriptors while the operation's thread still reads or writes them through TLS; a
        fresh connection of another run could get the same descriptor and see those bytes.
        The operation's own thread closes everything when it unwinds (close_all). Lasting
        sessions are left alone: their request under way ends by itself (within the timeout)
        and their logout still goes out (OpContext.http, integrations.common.signed_in)."""
        with self._lock:
            sessions = [s for s in self._sessions if not s.lasting]
            closers = list(self._closers)
        for s in sessions:
            s.interrupt()
        for c in closers:
            _interrupt(c)

    def close_all(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
            closers, self._closers = self._closers, []
        for s in sessions:
            s.close()
        for c in closers:
            _close(c)

    # ---- several targets at once ------------------------------------------------------------------
    def each(
        self,
        items: Sequence[T],
        run: Callable[[T], Outcome],
        *,
        target_of: Callable[[T], str],
        connection_of: Callable[[T], str] = lambda _item: "",
    ) -> list[Outcome]:
        """run(item) for every item at the same time, one outcome each (a failure becomes
        that item's outcome). Should the watchdog give up, the items done keep their outcomes
        and the others end as timed out or cancelled."""
        results: dict[int, Outcome] = {}
        threads = []
        for i, item in enumerate(items):
            where, conn = target_of(item), connection_of(item)
            with self._lock:
                self._pending[i] = (where, conn)

            def work(i: int = i, item: T = item, where: str = where, conn: str = conn) -> None:
                try:
                    outcome = run(item)
                except Stopped:
                    return
                except BaseException as exc:  # noqa: BLE001 - every failure becomes an outcome
                    outcome = classify(exc, where, self.timeout)
                outcome.target = outcome.target or where
                outcome.connection = outcome.connection or conn
                with self._lock:
                    results[i] = outcome
                    self._partial[i] = outcome
                    self._pending.pop(i, None)

            t = threading.Thread(target=work, name=f"xdrconf-{self.kind}-{i}", daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            while t.is_alive():
                self.check_stop()
                t.join(0.05)
        return [results[i] for i in range(len(items)) if i in results]

    def _ended_early(self, category: Category, message: str) -> list[Outcome]:
        with self._lock:
            done = [self._partial[i] for i in sorted(self._partial)]
            pending = [self._pending[i] for i in sorted(self._pending)]
        if not pending:
            return done + ([] if done else [Outcome(category, message, self.target)])
        return done + [Outcome(category, message, where, connection=conn) for where, conn in pending]


def _interrupt(closer: Any) -> None:
    """Wake a blocking call on `closer`: a socket is shut down (its descriptor stays the
    operation's until its own thread closes it); anything else (an SSH transport, which
    stops its own thread) is closed."""
    shutdown = getattr(closer, "shutdown", None)
    if isinstance(closer, socket.socket) and shutdown is not None:
        with contextlib.suppress(OSError):  # not connected, or shut down already
            shutdown(socket.SHUT_RDWR)
        return
    _close(closer)


def _close(closer: Any) -> None:
    with contextlib.suppress(Exception):  # closing a dead connection may fail; nothing to do
        closer.close()


def missing_secret_message(spec: catalog.IntegrationSpec, name: str, op: Operation | None = None) -> str:
    try:
        label = spec.field(name).label
    except ValidationError:
        label = name
    if op is None or op.is_check:
        return _("The {label} of {title} is not stored; add it (Add data / Replace) and check again.").format(
            label=label, title=spec.title
        )
    return _("The {label} of {title} is not stored; add it (Add data / Replace) and try again.").format(
        label=label, title=spec.title
    )


def rows_of(outcome: Outcome) -> list[dict[str, Any]]:
    """The rows an outcome's data holds for a table: the data itself when it is a list,
    else its "rows"."""
    data = outcome.data
    rows = data if isinstance(data, list) else data.get("rows") if isinstance(data, dict) else None
    return [r for r in rows or [] if isinstance(r, dict)]


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def cell_text(value: Any) -> str:
    """A value of an outcome's data as a table shows it: yes/no, a list of plain values
    joined with commas, anything nested as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)) and all(_scalar(v) and not isinstance(v, bool) for v in value):
        return ", ".join("" if v is None else str(v) for v in value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return str(value)


def columns_of(op: Operation | None, rows: Sequence[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The columns of a table of rows: the operation's (those the rows hold), else every
    key the rows hold, in the order they first appear, named as they are."""
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    declared = tuple((k, label) for k, label in (op.columns if op is not None else ()) if k in keys)
    return declared or tuple((k, k) for k in keys)


def facts_of(outcome: Outcome, op: Operation | None = None) -> list[tuple[str, str]]:
    """(label, text) pairs of an outcome's dict payload, for a two-column table: the keys the
    operation's columns name (when its data has no rows: those columns are the rows'), then
    the data's own "facts" (a dict or (label, text) pairs, e.g. TIP's main facts); with
    neither, every plain value the dict holds. Not a dict: none."""
    data = outcome.data
    if not isinstance(data, dict):
        return []
    out: list[tuple[str, str]] = []
    if not rows_of(outcome):
        for key, label in op.columns if op is not None else ():
            if data.get(key) not in (None, "", []):
                out.append((label, cell_text(data[key])))
    facts = data.get("facts")
    if isinstance(facts, dict):
        out.extend((str(k), cell_text(v)) for k, v in facts.items())
    elif isinstance(facts, (list, tuple)):
        out.extend(
            (str(p[0]), cell_text(p[1])) for p in facts if isinstance(p, (list, tuple)) and len(p) == 2
        )
    if out or "rows" in data:
        return out
    return [(str(k), cell_text(v)) for k, v in data.items() if _scalar(v) and v not in (None, "")]


# ---- classification ---------------------------------------------------------------------------------
def classify(exc: BaseException, target: str, timeout: float) -> Outcome:
    """One outcome for an exception raised while an operation ran."""
    if isinstance(exc, OperationFailed):
        return Outcome(exc.category, str(exc), details=dict(exc.details), refused=exc.refused)
    if isinstance(exc, KeyringUnavailable):
        return Outcome(Category.KEYRING_UNAVAILABLE, str(exc), target, refused=True)
    if isinstance(exc, XdrconfError):
        text = str(exc)
        return Outcome(
            Category.INVALID_CONFIG,
            text if text.endswith((".", "!", "?")) else text + ".",
            target,
            refused=True,
        )
    log.warning("an operation failed unexpectedly", exc_info=exc)
    category, message = classify_exception(exc, target, timeout)
    return Outcome(category, message, target)


# ---- one run -----------------------------------------------------------------------------------
class Job:
    """A prepared run: the context, and the one result, decided by whichever comes first:
    the operation's own answer or the watchdog (cancel, deadline)."""

    def __init__(self, ctx: OpContext) -> None:
        self.ctx = ctx
        self.op = ctx.operation
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] | None = None
        self.replaced = False  # a scheduler put a fresh worker in place of the one running it

    @property
    def deadline(self) -> float:
        return self.ctx.deadline

    def execute(self) -> None:
        """Run the operation in the calling thread (the engine's or a scheduler worker)."""
        ctx = self.ctx
        outcomes: list[Outcome] | None
        try:
            ctx.check_stop()
            outcomes = list(self.op.run(ctx))
            if not outcomes:
                outcomes = [
                    Outcome(
                        Category.INVALID_CONFIG, _("{title} had nothing to do.").format(title=ctx.spec.title)
                    )
                ]
        except Stopped:
            outcomes = None
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an outcome
            outcomes = [classify(exc, ctx.target, ctx.timeout)]
        finally:
            ctx.close_all()
        if outcomes is not None:
            self.resolve(outcomes)
        with ctx._lock:
            registered, ctx._registered = ctx._registered, []
        ACTIVE.remove(registered)

    def resolve(self, outcomes: list[Outcome]) -> bool:
        """Decide the result (the first call wins); returns whether this call decided it."""
        with self._lock:
            if self._outcomes is not None:
                return False
            self._outcomes = finish(self.ctx, outcomes)
        self.done.set()
        return True

    def abandon(self, category: Category) -> None:
        """Give up on the operation: its late answer is dropped and its connections closed."""
        ctx = self.ctx
        if category is Category.CANCELLED and self.op.is_check:
            message = _("The check was cancelled; nothing was concluded.")
        elif category is Category.CANCELLED:
            message = _("'{title}' was cancelled; nothing was concluded.").format(title=self.op.title)
        elif self.op.is_check:
            message = _(
                "The check did not finish within its time limit ({timeout:g} s per step); "
                "the peer is too slow or unreachable."
            ).format(timeout=ctx.timeout)
        else:
            message = _(
                "'{title}' did not finish within its time limit ({timeout:g} s per step); "
                "the peer is too slow or unreachable."
            ).format(title=self.op.title, timeout=ctx.timeout)
        self.resolve(ctx._ended_early(category, message))
        with ctx._lock:
            ctx.abandoned = True
        ctx.interrupt_all()

    def outcomes(self) -> list[Outcome]:
        assert self._outcomes is not None
        return self._outcomes

    def watch(self) -> list[Outcome]:
        """Run on a daemon thread and wait for the answer, a cancel or the deadline."""
        thread = threading.Thread(
            target=self.execute, name=f"xdrconf-{self.ctx.kind}-{self.op.name}", daemon=True
        )
        thread.start()
        cancel = self.ctx.cancel
        while not self.done.wait(0.05):
            if cancel.is_set():
                self.abandon(Category.CANCELLED)
            elif time.monotonic() >= self.ctx.deadline:
                self.abandon(Category.TIMEOUT)
        return self.outcomes()


def finish(ctx: OpContext, outcomes: list[Outcome]) -> list[Outcome]:
    """Stamp and redact the outcomes of a run."""
    elapsed = (time.monotonic() - ctx.started) * 1000
    default_target = ctx.target
    for o in outcomes:
        o.tenant, o.integration, o.operation = ctx.tenant, ctx.kind, ctx.operation.name
        if not o.target and not o.connection:
            o.target = default_target
        if o.latency_ms is None:
            o.latency_ms = ctx.last_latency_ms if ctx.last_latency_ms is not None else elapsed
        ctx.redactor.outcome(o)
    return outcomes


def _refused(
    category: Category, message: str, *, path: str = "", kind: str = "", op: str = "", target: str = ""
) -> list[Outcome]:
    return [
        Outcome(
            category,
            message,
            target,
            tenant=path,
            integration=kind,
            operation=op,
            latency_ms=0.0,
            refused=True,
        )
    ]


def parse_params(op: Operation, raw: dict[str, str] | None) -> dict[str, Any]:
    """The operation's parameters parsed with their fields (ValidationError names the one
    that is wrong); missing optional parameters get their default."""
    raw = dict(raw or {})
    out: dict[str, Any] = {}
    for f in op.params:
        if f.name in raw:
            value = f.parse(raw.pop(f.name))
            if value in (None, "") and f.required:
                raise ValidationError(f.label, _("is required"), field=f.name)
            out[f.name] = f.default if value in (None, "") else value
        elif f.required:
            raise ValidationError(f.label, _("is required"), field=f.name)
        else:
            out[f.name] = f.default
    if raw:
        if not op.extra_params:
            known = ", ".join(f.name for f in op.params) or _("none")
            name = next(iter(raw))
            raise ValidationError(
                _("Parameter"),
                _("'{name}' is not a parameter of '{title}' (parameters: {known})").format(
                    name=name, title=op.title, known=known
                ),
                field=name,
            )
        out.update({str(k): str(v) for k, v in raw.items()})
    return out


def prepare(
    ws: Workspace,
    tenant_ref: str | None,
    kind: str,
    op_name: str = "check",
    params: dict[str, str] | None = None,
    *,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    draft: IntegrationState | None = None,
    draft_secrets: dict[str, str] | None = None,
    clock: Callable[[], _dt.datetime] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    confirmed: bool = False,
    secrets_cache: dict[str, str | None] | None = None,
    keep_secrets: bool = False,
) -> Job | list[Outcome]:
    """Precheck and build the context of a run: a Job, or the refused outcome when the run
    cannot start (nothing is sent then). A draft whose settings send stored secrets to a new
    target is refused unless keep_secrets (the user confirmed it; core.targets)."""
    try:
        spec = catalog.spec_for(kind)
    except NotFoundError as exc:
        return _refused(Category.INVALID_CONFIG, str(exc), kind=kind, op=op_name)
    if not spec.supported:
        return _refused(
            Category.INVALID_CONFIG,
            _("{title} is not yet supported by this version of xdrconf.").format(title=spec.title),
            kind=kind,
        )
    try:
        op = spec.operation(op_name)
    except NotFoundError as exc:
        return _refused(Category.INVALID_CONFIG, str(exc), kind=kind, op=op_name)
    tenant: Tenant | None = None
    path = ""
    if tenant_ref is not None:
        try:
            tenant = ws.tenant(tenant_ref)
        except NotFoundError as exc:
            return _refused(Category.INVALID_CONFIG, str(exc), kind=kind, op=op_name)
        path = ws.tree.path(tenant.id)
    elif not op.standalone:
        return _refused(
            Category.INVALID_CONFIG,
            _("'{title}' needs a tenant.").format(title=op.title),
            kind=kind,
            op=op_name,
        )

    def refuse(category: Category, message: str) -> list[Outcome]:
        target = spec.target_of(state.settings) if state is not None and state.settings else ""
        return _refused(category, message, path=path, kind=kind, op=op.name, target=target)

    state = draft if draft is not None else (tenant.integrations.get(kind) if tenant is not None else None)
    if tenant is not None and tenant.is_shared:
        return refuse(Category.INVALID_CONFIG, _("The Shared tenant needs no integration settings."))
    typed = {k: v for k, v in (draft_secrets or {}).items() if v}
    if draft is not None and tenant is not None and not keep_secrets and not op.standalone:
        moving = draft_followers(ws, tenant.id, kind, draft, typed)
        if moving:
            return refuse(
                Category.MISSING_SECRET,
                _(
                    "Not sent: the stored secrets were given for another target than the one typed "
                    "({changes}). Enter them again to use them there, or confirm that they may go to "
                    "the new target."
                ).format(changes="; ".join(targets.describe(moving))),
            )
    if not op.standalone:
        if state is None or not state.configured:
            return refuse(
                Category.INVALID_CONFIG,
                _(
                    "{title} is not configured for tenant '{path}' (its settings are not set up); "
                    "set them first."
                ).format(title=spec.title, path=path),
            )
        missing_plain = []
        for f in spec.fields:
            if f.secret or not f.visible(state.settings):
                continue
            if not (f.required if op.needs_fields is None else f.name in op.needs_fields):
                continue
            if state.settings.get(f.name) in (None, "", []):
                missing_plain.append(f.label)
        if missing_plain:
            missing = ", ".join(str(label) for label in missing_plain)
            if op.is_check:
                text = _("{title} is missing: {fields}; set it and check again.")
            else:
                text = _("{title} is missing: {fields}; set it and try again.")
            return refuse(Category.INVALID_CONFIG, text.format(title=spec.title, fields=missing))
        needs = op.needs
        if needs is None:
            needs = tuple(f.name for f in spec.secret_fields if f.required and f.visible(state.settings))
        for name in needs:
            if name not in state.secrets and name not in typed:
                return refuse(Category.MISSING_SECRET, missing_secret_message(spec, name, op))
    try:
        parsed = parse_params(op, params)
    except ValidationError as exc:
        return refuse(Category.INVALID_CONFIG, f"{exc}.")
    if op.changes_peer and not confirmed:
        return refuse(
            Category.INVALID_CONFIG,
            _(
                "'{title}' changes data on the peer and needs confirmation (on the command line: --yes)."
            ).format(title=op.title),
        )
    root_state = ws.tree.root.integrations.get(kind)
    if tenant is not None and tenant.is_root and state is not None:
        root_settings = state.settings
    else:
        root_settings = root_state.settings if root_state is not None else {}
    ctx = OpContext(
        ws=ws,
        spec=spec,
        op=op,
        tenant=tenant,
        path=path,
        state=None if op.standalone else state,
        root_settings=root_settings,
        params=parsed,
        net=NetConfig.from_app(ws.app, timeout),
        cancel=cancel or threading.Event(),
        clock=clock,
        typed=typed,
        cache=secrets_cache if secrets_cache is not None else {},
        on_progress=on_progress,
    )
    return Job(ctx)


def run_operation(
    ws: Workspace,
    tenant_ref: str | None,
    kind: str,
    op_name: str = "check",
    params: dict[str, str] | None = None,
    *,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    draft: IntegrationState | None = None,
    draft_secrets: dict[str, str] | None = None,
    clock: Callable[[], _dt.datetime] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    confirmed: bool = False,
    keep_secrets: bool = False,
) -> list[Outcome]:
    """Run one operation of one integration of one tenant; one outcome per target. Always
    ends within the operation's budget; never raises for what a peer or the settings do.

    draft: an IntegrationState not saved yet (the wizard's check); draft_secrets: secret
    values typed but not stored yet, used instead of the keyring's; keep_secrets: the user
    confirmed that the stored secrets may go to the draft's new target (draft_followers).
    Blocking: call it off the GUI thread."""
    job = prepare(
        ws,
        tenant_ref,
        kind,
        op_name,
        params,
        timeout=timeout,
        cancel=cancel,
        draft=draft,
        draft_secrets=draft_secrets,
        clock=clock,
        on_progress=on_progress,
        confirmed=confirmed,
        keep_secrets=keep_secrets,
    )
    if isinstance(job, list):
        return job
    return job.watch()


def draft_followers(
    ws: Workspace,
    tenant_ref: str,
    kind: str,
    draft: IntegrationState,
    draft_secrets: dict[str, str] | None = None,
) -> list[targets.Following]:
    """The stored secrets that a run of `draft` (settings typed, not saved) would send to
    another target than the one they were given for: the draft's settings against the saved
    ones, as an edit is judged (core.targets). A secret typed again goes where it is typed
    for. Reads no keyring: the window asks this on its own thread before it runs a draft."""
    try:
        spec = catalog.spec_for(kind)
        tenant = ws.tenant(tenant_ref)
    except NotFoundError:
        return []
    saved = tenant.integrations.get(kind)
    if saved is None:
        return []
    typed = {k for k, v in (draft_secrets or {}).items() if v}
    kept = [n for n in draft.secrets if n not in typed]
    path = ws.tree.path(tenant.id)
    return targets.following(
        spec,
        saved.settings,
        draft.settings,
        kept,
        tenant=path,
        label_of=lambda n: ws.secret_label(path, kind, n).field,
    )


def secret_refs(ws: Workspace, pairs: Iterable[tuple[str, str]]) -> list[str]:
    """The references of the stored secrets of (tenant id, kind) pairs, in their order."""
    refs: list[str] = []
    for tid, kind in pairs:
        if tid not in ws.tree:
            continue
        state = ws.tree.get(tid).integrations.get(kind)
        if state is not None:
            refs.extend(state.secrets.values())
    return refs


def prefetch(ws: Workspace, pairs: Iterable[tuple[str, str]]) -> dict[str, str | None]:
    """The secrets of many (tenant id, kind) at once, in one batched keyring read where the
    store allows it; {} when the keyring cannot be read (each run then says why)."""
    refs = secret_refs(ws, pairs)
    if not refs:
        return {}
    try:
        return ws.secrets.get_many(refs)
    except KeyringUnavailable:
        return {}


def record_check(ws: Workspace, tenant_ref: str, kind: str, outcomes: Sequence[Outcome]) -> None:
    """Keep a check's outcomes as the integration's last results. A check of some
    connections (each outcome naming one) keeps the stored results of the others; a
    cancelled or refused-before-resolving check keeps what was known."""
    if not outcomes or any(o.category is Category.CANCELLED for o in outcomes):
        return
    try:
        tenant = ws.tenant(tenant_ref)
    except NotFoundError:
        return
    state = tenant.integrations.get(kind)
    if state is None:
        return
    fresh = [o.to_dict() for o in outcomes]
    checked = {o.connection for o in outcomes}
    if all(checked):
        fresh = [
            r for r in state.results if r.get("connection") and r.get("connection") not in checked
        ] + fresh
    ws.record_results({(tenant.id, kind): fresh})


# ---- exit status -----------------------------------------------------------------------------------
def exit_status(
    outcomes: Sequence[Outcome], *, usage_error: bool = False, refusal_is_usage: bool = True
) -> int:
    """The one map from outcomes to the command line's exit status: 0 every outcome ok;
    1 an outcome is not ok (a problem found by running); 2 a usage or configuration error
    before anything ran (bad arguments or parameters, an unknown tenant or kind, a missing
    secret, a needed confirmation). `xdrconf check` reports refusals as checks that did not
    pass (refusal_is_usage=False)."""
    if usage_error:
        return 2
    if refusal_is_usage and any(o.refused for o in outcomes):
        return 2
    return 0 if all(o.ok for o in outcomes) else 1
