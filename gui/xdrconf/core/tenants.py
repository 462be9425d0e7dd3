"""The tenant tree and each tenant's integration states. Pure data and the tree's rules;
secrets are only referenced here (by keyring reference), never held."""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import NotFoundError, TenantError, ValidationError
from .i18n import _, ngettext

ROOT = "root"
SHARED = "shared"
TENANT = "tenant"
MAX_NAME = 128
KUMA_ID = "kuma_tenant_id"  # the tenant's key in the settings document


def _new_id() -> str:
    import uuid  # imported on first use: it costs the window's start-up ~9 ms

    return str(uuid.uuid4())


@dataclass
class IntegrationState:
    """One integration of one tenant as stored in the settings document.

    settings: plain values (never secrets). secrets: secret name -> keyring reference.
    results: the last check results (one per connection), as dictionaries."""

    kind: str
    enabled: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "settings": copy.deepcopy(self.settings),
            "secrets": dict(self.secrets),
            "results": copy.deepcopy(self.results),
        }

    @classmethod
    def from_dict(cls, kind: str, data: dict[str, Any]) -> IntegrationState:
        return cls(
            kind=kind,
            enabled=bool(data.get("enabled", False)),
            settings=dict(data.get("settings", {})),
            secrets={str(k): str(v) for k, v in dict(data.get("secrets", {})).items()},
            results=list(data.get("results", [])),
        )

    def clone_without_secrets(self) -> IntegrationState:
        return IntegrationState(self.kind, self.enabled, copy.deepcopy(self.settings), {}, [])

    @property
    def configured(self) -> bool:
        return bool(self.settings) or bool(self.secrets)


@dataclass
class Tenant:
    id: str
    name: str
    parent_id: str | None
    role: str = TENANT
    children: list[str] = field(default_factory=list)
    integrations: dict[str, IntegrationState] = field(default_factory=dict)
    # The id of the KUMA tenant this tenant stands for (`tenant import-from-kuma`), or None.
    kuma_id: str | None = None

    @property
    def is_root(self) -> bool:
        return self.role == ROOT

    @property
    def is_shared(self) -> bool:
        return self.role == SHARED


# Characters that show nothing although they are not spaces: Hangul fillers, the Braille
# blank, variation selectors and the combining grapheme joiner (Unicode's default-ignorable
# letters and marks, which the general categories do not single out).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5") | frozenset(
    chr(c) for c in (*range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))
)


def _visible(ch: str) -> bool:
    """A character that shows something by itself: a letter, digit, punctuation or symbol."""
    return ch not in _INVISIBLE and unicodedata.category(ch)[0] in "LNPS"


def validate_name(raw: str, *, stored: bool = False) -> str:
    """A tenant name as typed: spaces collapsed; no control or format characters (C0/C1
    controls, zero-width characters, bidirectional overrides and isolates, which can make a
    name look like another or hide it); not blank once invisible characters are set aside.
    Right-to-left text (Arabic, Hebrew letters) is a name like any other. stored=True: a
    name read from the settings file, which older versions let through: only the rules
    that the tree itself needs (not empty, no '/', the length)."""
    name = " ".join(str(raw).split())
    if not name:
        raise ValidationError(_("Tenant name"), _("must not be empty"))
    if not stored:
        for ch in name:
            category = unicodedata.category(ch)
            if category in ("Cc", "Cf", "Cs", "Cn", "Zl", "Zp"):
                raise ValidationError(
                    _("Tenant name"),
                    _(
                        "must not contain control or invisible formatting characters (U+{code:04X} "
                        "is one); type the name again"
                    ).format(code=ord(ch)),
                )
        if not any(_visible(ch) for ch in name):
            raise ValidationError(_("Tenant name"), _("must contain a visible letter, digit or sign"))
    if "/" in name:
        raise ValidationError(_("Tenant name"), _("must not contain '/' (it separates tenants in a path)"))
    if len(name) > MAX_NAME:
        raise ValidationError(
            _("Tenant name"),
            ngettext(
                "must be at most {limit} character", "must be at most {limit} characters", MAX_NAME
            ).format(limit=MAX_NAME),
        )
    return name


_KUMA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def validate_kuma_id(raw: Any) -> str:
    """A KUMA tenant id as xdrconf records it: 1-128 letters, digits, '.', '_', ':' or '-'
    (KUMA's ids are UUIDs)."""
    text = str(raw).strip() if isinstance(raw, str) else ""
    if not _KUMA_ID.fullmatch(text):
        raise ValidationError(
            _("KUMA tenant id"),
            _("{value} is not a KUMA tenant id (1-128 letters, digits, '.', '_', ':' or '-')").format(
                value=repr(str(raw)[:60])
            ),
        )
    return text


class TenantTree:
    """Root at the top, the Shared tenant beside it, child tenants at any depth below Root."""

    def __init__(self) -> None:
        self._by_id: dict[str, Tenant] = {}
        self.root_id = ""
        self.shared_id = ""

    # ---- construction -------------------------------------------------------------
    @classmethod
    def new(cls) -> TenantTree:
        tree = cls()
        root = Tenant(id=_new_id(), name="Root tenant", parent_id=None, role=ROOT)
        shared = Tenant(id=_new_id(), name="Shared", parent_id=None, role=SHARED)
        tree._by_id = {root.id: root, shared.id: shared}
        tree.root_id, tree.shared_id = root.id, shared.id
        return tree

    @classmethod
    def from_list(cls, items: list[dict[str, Any]]) -> TenantTree:
        tree = cls()
        for item in items:
            tid = str(item["id"])
            if tid in tree._by_id:
                raise ValueError(_("duplicate tenant id {id}").format(id=tid))
            role = item.get("role", TENANT)
            if role not in (ROOT, SHARED, TENANT):
                raise ValueError(_("tenant {id} has unknown role {role!r}").format(id=tid, role=role))
            tenant = Tenant(
                id=tid,
                name=validate_name(item["name"], stored=True),
                parent_id=item.get("parent"),
                role=role,
                integrations={
                    k: IntegrationState.from_dict(k, v) for k, v in dict(item.get("integrations", {})).items()
                },
                kuma_id=item.get(KUMA_ID),
            )
            tree._by_id[tid] = tenant
            if role == ROOT:
                if tree.root_id:
                    raise ValueError(_("more than one Root tenant"))
                tree.root_id = tid
            elif role == SHARED:
                if tree.shared_id:
                    raise ValueError(_("more than one Shared tenant"))
                tree.shared_id = tid
        if not tree.root_id or not tree.shared_id:
            raise ValueError(_("the Root or the Shared tenant is missing"))
        for tenant in tree._by_id.values():
            if tenant.role != TENANT:
                if tenant.parent_id is not None:
                    raise ValueError(_("{name} must not have a parent").format(name=tenant.name))
                continue
            parent = tree._by_id.get(tenant.parent_id or "")
            if parent is None or parent.is_shared:
                raise ValueError(_("tenant {name} has no valid parent").format(name=tenant.name))
            parent.children.append(tenant.id)
        # Every tenant must reach Root: no cycles.
        seen = {tree.root_id}
        stack = [tree.root_id]
        while stack:
            for child in tree._by_id[stack.pop()].children:
                seen.add(child)
                stack.append(child)
        if len(seen) + 1 != len(tree._by_id):
            raise ValueError(_("the tenant tree contains a cycle"))
        return tree

    def to_list(self) -> list[dict[str, Any]]:
        out = []
        for tenant in self.walk_all():
            item: dict[str, Any] = {
                "id": tenant.id,
                "name": tenant.name,
                "parent": tenant.parent_id,
                "role": tenant.role,
                "integrations": {k: v.to_dict() for k, v in tenant.integrations.items()},
            }
            if tenant.kuma_id is not None:
                item[KUMA_ID] = tenant.kuma_id
            out.append(item)
        return out

    # ---- queries ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, tenant_id: str) -> bool:
        return tenant_id in self._by_id

    def get(self, tenant_id: str) -> Tenant:
        try:
            return self._by_id[tenant_id]
        except KeyError:
            raise NotFoundError(_("No tenant with id {id}.").format(id=tenant_id)) from None

    @property
    def root(self) -> Tenant:
        return self._by_id[self.root_id]

    @property
    def shared(self) -> Tenant:
        return self._by_id[self.shared_id]

    def top_level(self) -> list[Tenant]:
        return [self.root, self.shared]

    def children(self, tenant_id: str) -> list[Tenant]:
        return [self._by_id[c] for c in self._by_id[tenant_id].children]

    def walk(self, tenant_id: str) -> Iterator[Tenant]:
        """The tenant and its whole subtree, parents before children, in display order."""
        stack = [tenant_id]
        while stack:
            tenant = self._by_id[stack.pop()]
            yield tenant
            stack.extend(reversed(tenant.children))

    def walk_all(self) -> Iterator[Tenant]:
        yield from self.walk(self.root_id)
        yield self.shared

    def path(self, tenant_id: str) -> str:
        parts = []
        tenant: Tenant | None = self._by_id[tenant_id]
        while tenant is not None:
            parts.append(tenant.name)
            tenant = self._by_id.get(tenant.parent_id) if tenant.parent_id else None
        return "/".join(reversed(parts))

    def depth(self, tenant_id: str) -> int:
        depth = 0
        tenant = self._by_id[tenant_id]
        while tenant.parent_id:
            depth += 1
            tenant = self._by_id[tenant.parent_id]
        return depth

    def find(self, ref: str) -> Tenant:
        """A tenant by path ('Root tenant/EU/Acme'), by a name unique in the tree, or by id.
        The Root tenant is also found as 'Root' and the Shared tenant as 'Shared'."""
        ref = ref.strip()
        if ref in self._by_id:
            return self._by_id[ref]
        lowered = ref.lower()
        if lowered in ("root", self.root.name.lower()):
            return self.root
        if lowered == "shared" or lowered == self.shared.name.lower():
            return self.shared
        if "/" in ref:
            parts = [p for p in ref.split("/") if p]
            if parts and parts[0].lower() in ("root", self.root.name.lower()):
                parts = parts[1:]
            node = self.root
            for part in parts:
                match = [c for c in self.children(node.id) if c.name == part]
                if not match:
                    raise NotFoundError(
                        _("No tenant '{name}' under '{parent}'.").format(name=part, parent=self.path(node.id))
                    )
                node = match[0]
            return node
        matches = [t for t in self._by_id.values() if t.name == ref]
        if not matches:
            matches = [t for t in self._by_id.values() if t.name.lower() == lowered]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFoundError(_("No tenant named '{name}' (see 'xdrconf tenant list').").format(name=ref))
        paths = ", ".join(sorted(self.path(t.id) for t in matches))
        raise NotFoundError(
            _("'{name}' names several tenants; give the path: {paths}.").format(name=ref, paths=paths)
        )

    def by_kuma_id(self, kuma_id: str) -> Tenant | None:
        """The tenant that stands for the KUMA tenant `kuma_id`, or None."""
        return next((t for t in self._by_id.values() if t.kuma_id == kuma_id), None)

    def is_ancestor(self, ancestor_id: str, tenant_id: str) -> bool:
        tenant = self._by_id[tenant_id]
        while tenant.parent_id:
            if tenant.parent_id == ancestor_id:
                return True
            tenant = self._by_id[tenant.parent_id]
        return False

    # ---- changes (no secrets here: the workspace handles them) --------------------
    def _check_sibling_name(self, parent_id: str, name: str, exclude: str | None = None) -> None:
        for sibling in self.children(parent_id):
            if sibling.id != exclude and sibling.name.lower() == name.lower():
                raise TenantError(
                    _(
                        "A tenant named '{name}' already exists under '{parent}'; "
                        "sibling names must be unique."
                    ).format(name=sibling.name, parent=self._by_id[parent_id].name)
                )

    def add(self, name: str, parent_id: str, integrations: dict[str, IntegrationState]) -> Tenant:
        name = validate_name(name)
        parent = self.get(parent_id)
        if parent.is_shared:
            raise TenantError(_("The Shared tenant cannot have child tenants."))
        self._check_sibling_name(parent_id, name)
        tenant = Tenant(id=_new_id(), name=name, parent_id=parent_id, integrations=integrations)
        self._by_id[tenant.id] = tenant
        parent.children.append(tenant.id)
        return tenant

    def rename(self, tenant_id: str, new_name: str) -> None:
        tenant = self.get(tenant_id)
        new_name = validate_name(new_name)
        if tenant.is_shared:
            raise TenantError(_("The Shared tenant cannot be renamed."))
        if tenant.parent_id:
            self._check_sibling_name(tenant.parent_id, new_name, exclude=tenant_id)
        tenant.name = new_name

    def move(self, tenant_id: str, new_parent_id: str) -> None:
        tenant = self.get(tenant_id)
        new_parent = self.get(new_parent_id)
        if tenant.is_root or tenant.is_shared:
            raise TenantError(
                _("The Root tenant cannot be moved.")
                if tenant.is_root
                else _("The Shared tenant cannot be moved.")
            )
        if new_parent.is_shared:
            raise TenantError(_("The Shared tenant cannot have child tenants."))
        if new_parent_id == tenant_id or self.is_ancestor(tenant_id, new_parent_id):
            raise TenantError(
                _("'{name}' cannot be moved under itself or its own subtree.").format(name=tenant.name)
            )
        if tenant.parent_id == new_parent_id:
            return
        self._check_sibling_name(new_parent_id, tenant.name, exclude=tenant_id)
        old_parent = self._by_id[tenant.parent_id or ""]
        old_parent.children.remove(tenant_id)
        new_parent.children.append(tenant_id)
        tenant.parent_id = new_parent_id

    def check_removable(self, tenant_id: str) -> Tenant:
        tenant = self.get(tenant_id)
        if tenant.is_root or tenant.is_shared:
            raise TenantError(
                _("The Root tenant cannot be removed.")
                if tenant.is_root
                else _("The Shared tenant cannot be removed.")
            )
        if tenant.children:
            names = ", ".join(c.name for c in self.children(tenant_id)[:5])
            n = len(tenant.children)
            raise TenantError(
                # TRANSLATORS: {names} lists up to five of the child tenants' names.
                ngettext(
                    "'{name}' has {n} child tenant ({names}); remove or move it first.",
                    "'{name}' has {n} child tenants ({names}); remove or move them first.",
                    n,
                ).format(name=tenant.name, n=n, names=names)
            )
        return tenant

    def remove(self, tenant_id: str) -> Tenant:
        tenant = self.check_removable(tenant_id)
        self._by_id[tenant.parent_id or ""].children.remove(tenant_id)
        del self._by_id[tenant_id]
        return tenant
