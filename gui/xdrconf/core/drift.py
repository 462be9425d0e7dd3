"""What a child tenant changed from its parent (drift), and copying a tenant's settings to
the tenants below it (push). `xdrconf drift` / `xdrconf push` and the window's Drift and
Push dialogs use this module alike.

Drift: for each integration of a tenant (and of each tenant of a subtree), each field is
*inherited* (the same as its parent's) or *overridden* (another value, set here only, or
set in the parent only). Secrets are compared by whether they are the same value: both are
read from the secret store (off the GUI thread, in one batch), compared in memory, and
forgotten; a value is never returned. Structured settings (KATA's connections, KUMA's
commands) are compared per item when they are lists of named items, else as wholes.

Push: the named fields of a tenant's integration are copied to chosen tenants below it,
with a preview of what changes where; a secret is copied as a new entry of the secret
store for each tenant (labelled with that tenant's path). One transaction: all or none,
through the workspace's one edit path, so every rule of an edit applies to each tenant."""

from __future__ import annotations

import copy
import hmac
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from . import catalog
from .errors import KeyringUnavailable, TenantError, ValidationError
from .i18n import N_, _, ngettext

if TYPE_CHECKING:
    from .tenants import IntegrationState, Tenant
    from .workspace import IntegrationEdit, Workspace

INHERITED = "inherited"
OVERRIDDEN = "overridden"
ENABLED = "enabled"  # the on/off state, compared as a field
_VOLATILE = frozenset(("status",))  # what checks write into a structured item


@dataclass
class FieldDrift:
    """One field of one integration of one tenant against its parent. value/parent_value
    are for display (None for secrets: never shown)."""

    tenant: str
    tenant_id: str
    parent: str
    kind: str
    field: str
    label: str
    status: str  # inherited | overridden
    detail: str  # what a person reads: "the same value", "set here only" …
    value: Any = None
    parent_value: Any = None
    secret: bool = False
    item: str = ""  # the item of a structured setting (a KATA connection, a KUMA command)

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    tenant: str
    subtree: bool
    items: list[FieldDrift] = field(default_factory=list)
    compared: list[str] = field(default_factory=list)  # tenants compared with their parent
    secrets_problem: str = ""  # why secrets could not be compared ("" when they were)

    def overridden(self) -> list[FieldDrift]:
        return [i for i in self.items if i.status == OVERRIDDEN]

    def public(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "subtree": self.subtree,
            "compared": self.compared,
            "secrets_problem": self.secrets_problem,
            "fields": [i.public() for i in self.items],
        }


# ---- reading secrets for comparison ------------------------------------------------------------------
class SecretComparer:
    """Reads the secrets of some states in one batch and answers whether two references
    hold the same value; the values stay inside (never returned) and are dropped by
    forget()."""

    def __init__(self, ws: Workspace, states: Iterable[IntegrationState]) -> None:
        refs = sorted({ref for st in states for ref in st.secrets.values()})
        self.problem = ""
        self._values: dict[str, str | None] = {}
        if refs:
            try:
                self._values = ws.secrets.get_many(refs)
            except KeyringUnavailable as exc:
                self.problem = str(exc)

    def same(self, a: str, b: str) -> bool | None:
        """True / False; None when one of them could not be read."""
        if self.problem:
            return None
        if a == b:
            return True
        va, vb = self._values.get(a), self._values.get(b)
        if va is None or vb is None:
            return None
        return hmac.compare_digest(va.encode(), vb.encode())

    def value(self, ref: str) -> str | None:
        """A value to copy (push); None when it could not be read."""
        return None if self.problem else self._values.get(ref)

    def forget(self) -> None:
        self._values = {}


# ---- drift ------------------------------------------------------------------------------------------------
def _label(spec: catalog.IntegrationSpec, name: str) -> str:
    if name == ENABLED:
        return _("Turned on")
    try:
        return str(spec.field(name).label)
    except ValidationError:
        if spec.secret_label is not None:
            return str(spec.secret_label(name))
        return name


def _item_key(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in ("id", "name"):
            if isinstance(item.get(key), str) and item[key]:
                return item[key]
    return None


def _clean(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if k not in _VOLATILE}
    return item


def _shown(spec: catalog.IntegrationSpec, name: str, value: Any) -> Any:
    """A plain value as a person reads it (a certificate as its count). A toggle stays a
    bool, as the on/off state does: value_text says it in words ("on" / "off")."""
    if value is None:
        return None
    try:
        f = spec.field(name)
    except ValidationError:
        return value
    if f.kind == "bool":
        return bool(value)
    if f.kind == "pem":
        n = str(value).count("BEGIN CERTIFICATE")
        return ngettext("{n} certificate", "{n} certificates", n).format(n=n)
    return f.format(value)


def compare(ws: Workspace, tenant: Tenant, parent: Tenant, secrets: SecretComparer) -> list[FieldDrift]:
    """Each field of each integration of `tenant` against `parent`."""
    tree = ws.tree
    path, parent_path = tree.path(tenant.id), tree.path(parent.id)
    out: list[FieldDrift] = []
    for kind in catalog.KINDS:
        spec = catalog.spec_for(kind)
        here, there = tenant.integrations.get(kind), parent.integrations.get(kind)
        if not spec.supported or (here is None and there is None):
            continue
        if not (here is not None and here.configured) and not (there is not None and there.configured):
            continue

        def add(
            name: str,
            status: str,
            detail: str,
            value: Any = None,
            pvalue: Any = None,
            *,
            spec: catalog.IntegrationSpec = spec,
            secret: bool = False,
        ) -> None:
            out.append(
                FieldDrift(
                    path,
                    tenant.id,
                    parent_path,
                    spec.kind,
                    name,
                    _label(spec, name),
                    status,
                    detail,
                    value,
                    pvalue,
                    secret=secret,
                )
            )

        mine = here.settings if here is not None else {}
        theirs = there.settings if there is not None else {}
        on, pon = bool(here and here.enabled), bool(there and there.enabled)
        add(ENABLED, INHERITED if on == pon else OVERRIDDEN, _words(on == pon, True, True), on, pon)
        names = [f.name for f in spec.plain_fields]
        names += [
            k for k in sorted(set(mine) | set(theirs)) if k not in names and k not in spec.structured_keys
        ]
        for name in names:
            a, b = mine.get(name), theirs.get(name)
            if a in (None, "") and b in (None, ""):
                continue
            equal = a == b
            add(
                name,
                INHERITED if equal else OVERRIDDEN,
                _words(equal, a not in (None, ""), b not in (None, "")),
                _shown(spec, name, a),
                _shown(spec, name, b),
            )
        for key in spec.structured_keys:
            out.extend(_structured(path, tenant.id, parent_path, spec, key, mine.get(key), theirs.get(key)))
        secret_names = [f.name for f in spec.secret_fields]
        held = set(here.secrets if here is not None else {}) | set(there.secrets if there is not None else {})
        secret_names += sorted(n for n in held if n not in secret_names)
        for name in secret_names:
            ra = here.secrets.get(name) if here is not None else None
            rb = there.secrets.get(name) if there is not None else None
            if ra is None and rb is None:
                continue
            if ra is None or rb is None:
                add(name, OVERRIDDEN, _words(False, ra is not None, rb is not None), secret=True)
                continue
            same = secrets.same(ra, rb)
            if same is None:
                detail = (
                    _("not compared: the secret store could not be read")
                    if secrets.problem
                    else _("not compared: a value is missing from the secret store")
                )
                add(name, OVERRIDDEN, detail, secret=True)
            elif same:
                add(name, INHERITED, _("the same value"), secret=True)
            else:
                add(name, OVERRIDDEN, _("another value"), secret=True)
    return out


def _words(equal: bool, here: bool, there: bool) -> str:
    if equal:
        return _("the same value")
    if here and not there:
        return _("set here only")
    if there and not here:
        return _("set in the parent only")
    return _("another value")


# The structured settings' names as a person reads them (KATA's connections, KUMA's commands).
_STRUCTURED_LABELS = {"connections": N_("Connections"), "commands": N_("Commands")}


def _structured(
    path: str, tid: str, parent_path: str, spec: catalog.IntegrationSpec, key: str, mine: Any, theirs: Any
) -> list[FieldDrift]:
    if mine in (None, []) and theirs in (None, []):
        return []
    known = _STRUCTURED_LABELS.get(key)
    label = str(known) if known is not None else key.replace("_", " ").capitalize()

    def one(status: str, detail: str, item: str = "") -> FieldDrift:
        return FieldDrift(path, tid, parent_path, spec.kind, key, label, status, detail, item=item)

    lists = isinstance(mine or [], list) and isinstance(theirs or [], list)
    keyed_a = {_item_key(i): _clean(i) for i in mine or []} if lists else {}
    keyed_b = {_item_key(i): _clean(i) for i in theirs or []} if lists else {}
    if not lists or None in keyed_a or None in keyed_b:
        equal = mine == theirs
        return [one(INHERITED if equal else OVERRIDDEN, _words(equal, mine is not None, theirs is not None))]
    out = []
    for name in [*keyed_a, *(k for k in keyed_b if k not in keyed_a)]:
        a, b = keyed_a.get(name), keyed_b.get(name)
        equal = a == b
        out.append(
            one(INHERITED if equal else OVERRIDDEN, _words(equal, a is not None, b is not None), str(name))
        )
    return out


def drift(ws: Workspace, tenant_ref: str, *, subtree: bool = False) -> DriftReport:
    """The drift of a tenant from its parent, or of every tenant of its subtree from its own
    parent (the Root tenant, which has none, is not compared). Reads secrets: off the GUI
    thread."""
    tree = ws.tree
    start = tree.find(tenant_ref)
    if start.is_shared:
        raise TenantError(_("The Shared tenant needs no integration settings."))
    tenants = list(tree.walk(start.id)) if subtree else [start]
    pairs = [(t, tree.get(t.parent_id)) for t in tenants if t.parent_id]
    if not pairs:
        raise TenantError(
            _("The Root tenant has no parent to compare with; compare a tenant below it, or the subtree.")
        )
    states = [s for t, p in pairs for s in (*t.integrations.values(), *p.integrations.values())]
    secrets = SecretComparer(ws, states)
    try:
        report = DriftReport(tree.path(start.id), subtree, secrets_problem=secrets.problem)
        for tenant, parent in pairs:
            report.compared.append(tree.path(tenant.id))
            report.items.extend(compare(ws, tenant, parent, secrets))
        return report
    finally:
        secrets.forget()


def value_text(value: Any) -> str:
    """A plain value as the drift and push previews show it."""
    if value is None or value == "":
        return _("(not set)")
    if isinstance(value, bool):
        return _("on") if value else _("off")
    return str(value)


def detail(item: FieldDrift) -> str:
    """How a field compares with the parent's, in words (a secret: never its value)."""
    if item.secret or item.field in catalog.spec_for(item.kind).structured_keys:
        return item.detail
    value, parent = value_text(item.value), value_text(item.parent_value)
    if item.status == INHERITED:
        return value
    return _("{value} (parent: {parent})").format(value=value, parent=parent)


def describe(item: FieldDrift) -> str:
    """The field and how it compares, as `xdrconf drift` prints it."""
    what = item.label + (f" «{item.item}»" if item.item else "")
    return f"{what}: {detail(item)}"


# ---- push ------------------------------------------------------------------------------------------
SAME = "unchanged"
SET = "set"
CLEARED = "cleared"
COPIED = "copied"  # a secret: a new entry with the source's value
DELETED = "deleted"


@dataclass
class PushChange:
    """What a push does to one field of one tenant (value / old are for display; secrets
    are never shown)."""

    tenant: str
    tenant_id: str
    field: str
    label: str
    action: str  # unchanged | set | cleared | copied | deleted
    old: Any = None
    new: Any = None
    secret: bool = False

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PushPlan:
    source: str
    source_id: str
    kind: str
    fields: list[str]
    targets: list[str]  # tenant ids
    changes: list[PushChange] = field(default_factory=list)

    def effective(self) -> list[PushChange]:
        return [c for c in self.changes if c.action != SAME]

    def public(self) -> dict[str, Any]:
        return {
            "tenant": self.source,
            "integration": self.kind,
            "fields": self.fields,
            "changes": [c.public() for c in self.effective()],
            "unchanged": [c.public() for c in self.changes if c.action == SAME],
        }


def push_fields(spec: catalog.IntegrationSpec, names: Iterable[str]) -> list[str]:
    """The fields a push may copy: fields of the spec (plain or secret) and its structured
    settings; ValidationError naming the first that is not."""
    out = []
    known = {f.name for f in spec.fields} | set(spec.structured_keys)
    for name in names:
        name = name.strip()
        if name not in known:
            raise ValidationError(
                _("Field"),
                _("'{name}' is not a field of {title} (fields: {known})").format(
                    name=name, title=spec.title, known=", ".join(sorted(known))
                ),
                field=name,
            )
        if name not in out:
            out.append(name)
    if not out:
        raise ValidationError(_("Field"), _("name at least one field to push"))
    return out


def push_targets(ws: Workspace, source: Tenant, to: Iterable[str] | None, *, subtree: bool) -> list[str]:
    """The tenants a push goes to: those named (each must be below the source) or, with
    subtree, every tenant below it."""
    tree = ws.tree
    if subtree:
        ids = [t.id for t in tree.walk(source.id) if t.id != source.id]
    else:
        ids = []
        for ref in to or []:
            t = tree.find(ref)
            if not tree.is_ancestor(source.id, t.id):
                raise TenantError(
                    _("'{target}' is not below '{source}': a push goes to tenants below it.").format(
                        target=tree.path(t.id), source=tree.path(source.id)
                    )
                )
            if t.id not in ids:
                ids.append(t.id)
    if not ids:
        raise TenantError(
            _("'{source}' has no tenant below it to push to.").format(source=tree.path(source.id))
            if subtree
            else _("Name the tenants to push to (--to), or push to the whole subtree (--subtree).")
        )
    return ids


def _extra_secrets(spec: catalog.IntegrationSpec, state: IntegrationState | None) -> list[str]:
    """The secrets an integration names itself (KATA's keys): they go with its structured
    settings."""
    declared = {f.name for f in spec.secret_fields}
    return sorted(n for n in (state.secrets if state is not None else {}) if n not in declared)


def plan_push(
    ws: Workspace,
    source_ref: str,
    kind: str,
    names: Iterable[str],
    *,
    to: Iterable[str] | None = None,
    subtree: bool = False,
) -> PushPlan:
    """What pushing the fields `names` of the source's integration `kind` changes in each
    target. Reads secrets to compare them: off the GUI thread."""
    tree = ws.tree
    source = tree.find(source_ref)
    if source.is_shared:
        raise TenantError(_("The Shared tenant needs no integration settings."))
    spec = catalog.spec_for(kind)
    if not spec.supported:
        raise ValidationError(spec.title, _("is not yet supported and cannot be configured"))
    fields = push_fields(spec, names)
    targets = push_targets(ws, source, to, subtree=subtree)
    src = source.integrations.get(kind)
    if src is None or not src.configured:
        raise TenantError(
            _("{title} is not configured for tenant '{path}': there is nothing to push.").format(
                title=spec.title, path=tree.path(source.id)
            )
        )
    secret_names = [n for n in fields if n not in spec.structured_keys and spec.field(n).secret]
    if any(n in spec.structured_keys for n in fields):
        secret_names += _extra_secrets(spec, src) + [
            n for t in targets for n in _extra_secrets(spec, tree.get(t).integrations.get(kind))
        ]
    states = [src, *(s for t in targets if (s := tree.get(t).integrations.get(kind)) is not None)]
    secrets = SecretComparer(ws, states) if secret_names else None
    result = PushPlan(tree.path(source.id), source.id, kind, fields, targets)
    try:
        for tid in targets:
            target = tree.get(tid)
            dst = target.integrations.get(kind)
            result.changes.extend(_changes(ws, spec, src, dst, target, fields, secrets))
    finally:
        if secrets is not None:
            secrets.forget()
    return result


def _changes(
    ws: Workspace,
    spec: catalog.IntegrationSpec,
    src: IntegrationState,
    dst: IntegrationState | None,
    target: Tenant,
    fields: list[str],
    secrets: SecretComparer | None,
) -> list[PushChange]:
    path = ws.tree.path(target.id)
    defaults = spec.defaults()
    have = dst.settings if dst is not None else defaults
    out: list[PushChange] = []
    names = list(fields)
    if any(n in spec.structured_keys for n in fields):
        names += [n for n in _extra_secrets(spec, src) + _extra_secrets(spec, dst) if n not in names]
    for name in names:
        label = _label(spec, name)
        secret = name not in spec.structured_keys and (name not in {f.name for f in spec.plain_fields})
        if not secret:
            a, b = src.settings.get(name), have.get(name)
            if _clean_value(a) == _clean_value(b) or (a in (None, "") and b in (None, "")):
                action = SAME
            else:
                action = CLEARED if a in (None, "") else SET
            shown_a = _shown(spec, name, a) if name not in spec.structured_keys else _count(a)
            shown_b = _shown(spec, name, b) if name not in spec.structured_keys else _count(b)
            out.append(PushChange(path, target.id, name, label, action, shown_b, shown_a))
            continue
        ra = src.secrets.get(name)
        rb = dst.secrets.get(name) if dst is not None else None
        if ra is None:
            action = SAME if rb is None else DELETED
        elif rb is not None and secrets is not None and secrets.same(ra, rb):
            action = SAME
        else:
            action = COPIED
        out.append(PushChange(path, target.id, name, label, action, secret=True))
    return out


def _clean_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_clean(i) for i in value]
    return value


def _count(value: Any) -> Any:
    if isinstance(value, list):
        return ngettext("{n} item", "{n} items", len(value)).format(n=len(value))
    return value


def push(ws: Workspace, result: PushPlan) -> PushPlan:
    """Apply a plan in one transaction (all targets or none). The plan is made again first,
    so that what changed since the preview is what is applied; secrets are read from the
    store and stored anew for each tenant."""
    from .workspace import IntegrationEdit

    fresh = plan_push(ws, result.source_id, result.kind, result.fields, to=result.targets)
    spec = catalog.spec_for(fresh.kind)
    source = ws.tree.get(fresh.source_id)
    src = source.integrations[fresh.kind]
    effective = fresh.effective()
    if not effective:
        return fresh
    needed = {c.field for c in effective if c.secret and c.action == COPIED}
    secrets = SecretComparer(ws, [src]) if needed else None
    try:
        if secrets is not None and secrets.problem:
            raise KeyringUnavailable(secrets.problem)
        edits: dict[str, IntegrationEdit] = {}
        for change in effective:
            edit = edits.setdefault(change.tenant_id, IntegrationEdit(fresh.kind))
            name = change.field
            if change.secret:
                if change.action == DELETED:
                    edit.secrets[name] = None
                    continue
                assert secrets is not None
                value = secrets.value(src.secrets[name])
                if value is None:
                    raise ValidationError(
                        _label(spec, name),
                        _("is missing from the secret store of '{path}'; nothing was pushed").format(
                            path=fresh.source
                        ),
                        field=name,
                    )
                edit.secrets[name] = value
            elif name in spec.structured_keys:
                edit.structured[name] = copy.deepcopy(src.settings.get(name, []))
            else:
                value = src.settings.get(name)
                edit.values[name] = None if value in (None, "") else spec.field(name).format(value)
        ws.update_many(list(edits.items()))
    finally:
        if secrets is not None:
            secrets.forget()
    return fresh
