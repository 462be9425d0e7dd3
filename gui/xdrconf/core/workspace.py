"""The workspace: one settings folder opened for use. Every change to tenants, integrations
and their secrets goes through here, as a transaction: new secrets are written first, the
settings document is saved atomically, and only then are replaced secrets deleted. If any
step fails, the settings and the secrets in force stay as they were.

Used by the command line directly and by the GUI from worker threads (keyring calls may
block); a lock serialises changes."""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import functools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import audit, catalog, targets
from .catalog import ValidationContext
from .document import DocumentProblem, check_app_settings
from .errors import (
    KeyringUnavailable,
    ReadOnlyError,
    SettingsIOError,
    SettingsLocked,
    SettingsUnreadable,
    TenantError,
    ValidationError,
)
from .i18n import _, ngettext, pgettext
from .paths import resolve_config_dir
from .secrets import STORE_KINDS, SecretLabel, SecretStores
from .storage import FolderLock, PendingNotice, SettingsFile
from .tenants import IntegrationState, Tenant, TenantTree, validate_kuma_id

log = logging.getLogger(__name__)


@dataclass
class IntegrationEdit:
    """A change to one integration. values: field -> typed text (None clears the field);
    secrets: secret name -> new value, or None to delete it; structured: replaces
    integration-managed keys (e.g. KATA connections) as given. keep_secrets: the user
    confirmed that stored secrets may follow a new target (core.targets); without it such
    an edit is refused with SecretsWouldFollow."""

    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str | None] = field(default_factory=dict)
    enabled: bool | None = None
    structured: dict[str, Any] = field(default_factory=dict)
    keep_secrets: bool = False


@dataclass(frozen=True)
class NewTenant:
    """A tenant to add (Workspace.add_tenants): its name, its parent (a path, name or id;
    None: Root) and optionally the KUMA tenant it stands for."""

    name: str
    parent: str | None = None
    kuma_id: str | None = None


@dataclass(frozen=True)
class MoveReport:
    """What Workspace.move_secrets did: the store now in use, secrets moved, secrets that
    were already missing (they stay missing)."""

    kind: str
    moved: int
    missing: int


@dataclass
class OpenNotice:
    """Something the user must be told when the settings were opened: a settings file was
    kept aside (now, or at an earlier start and not yet restored or dismissed). Until the
    notice is restored or dismissed, saves keep the backup (the last good settings)."""

    message: str
    moved_to: str = ""
    backup: str | None = None
    fresh: bool = True  # the file was kept aside by this start

    @classmethod
    def of_pending(cls, pending: PendingNotice, sfile: SettingsFile) -> OpenNotice:
        latest = pending.latest
        when = pending.since[:16].replace("T", " ") if pending.since else "?"
        if pending.backup:
            offer = _("The last good settings are kept in {backup}.").format(backup=sfile.backup.name)
        else:
            offer = _("No backup is available.")
        return cls(
            _(
                "The settings file could not be used on {when} and was kept as {aside} ({problem}). {offer}"
            ).format(when=when, aside=latest["name"], problem=latest["problem"], offer=offer),
            moved_to=str(sfile.dir / latest["name"]),
            backup=str(sfile.backup) if pending.backup else None,
            fresh=False,
        )


class Workspace:
    def __init__(
        self,
        config_dir: Path,
        document: dict[str, Any],
        *,
        lock: FolderLock | None,
        readonly_reason: str = "",
        notice: OpenNotice | None = None,
        keyring_backend: Any | None = None,
        keyring_timeout: float | None = None,
        tree: TenantTree | None = None,
        vault_kdf: Any = None,
        file: SettingsFile | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.file = file if file is not None else SettingsFile(config_dir)
        self._lock = lock
        self.readonly_reason = readonly_reason
        self.notice = notice
        self.namespace: str = document["namespace"]
        self.app: dict[str, Any] = dict(document.get("app", {}))
        self.tree = tree if tree is not None else TenantTree.from_list(document["tenants"])
        self._keyring_args = (keyring_backend, keyring_timeout, vault_kdf)
        self.secrets = self._new_stores()
        self._mutex = threading.RLock()
        self._saved_once = False
        # The audit trail (core.audit): where it ended when these settings were saved, and
        # what is doing the changes (the command line, or the window's action).
        self.audit = audit.AuditTrail(config_dir)
        self.audit_head = audit.Head.of(document.get("audit"))
        self.action = ""
        self._acting = threading.local()

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        config_dir: str | Path | None = None,
        *,
        readonly_if_locked: bool = False,
        readonly: bool = False,
        keyring_backend: Any | None = None,
        keyring_timeout: float | None = None,
        vault_kdf: Any = None,
    ) -> Workspace:
        """Open a settings folder. With readonly_if_locked, a folder locked by another
        instance opens read-only (readonly_reason says why); otherwise SettingsLocked."""
        path = resolve_config_dir(config_dir)
        sfile = SettingsFile(path)
        sfile.ensure_dir()
        lock: FolderLock | None = None
        reason = ""
        if readonly:
            reason = _("opened read-only")
        else:
            lock = FolderLock(path)
            try:
                lock.acquire()
            except (SettingsLocked, SettingsIOError) as exc:
                if not readonly_if_locked:
                    raise
                lock = None
                reason = str(exc)
        notice = None
        tree = None
        try:
            if lock is not None:
                sfile.remove_leftovers()
            loaded = sfile.load(keep_aside=lock is not None)
            document, tree = loaded.document, loaded.tree
        except SettingsUnreadable as exc:
            if lock is None:
                raise
            notice = OpenNotice(str(exc), exc.moved_to, exc.backup)
            from .storage import new_document

            document = new_document()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        if notice is None:
            pending = sfile.pending()
            if pending is not None:
                notice = OpenNotice.of_pending(pending, sfile)
        if lock is not None:
            _reconcile_audit(path, document)
        return cls(
            path,
            document,
            lock=lock,
            readonly_reason=reason,
            notice=notice,
            keyring_backend=keyring_backend,
            keyring_timeout=keyring_timeout,
            tree=tree,
            vault_kdf=vault_kdf,
            file=sfile,
        )

    def close(self) -> None:
        self.secrets.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def readonly(self) -> bool:
        return self._lock is None

    def restore_backup(self) -> None:
        """Replace the current settings with the backup and reload (after a corrupt file).
        The audit trail records the restore and what it changed, in the same steps as a
        transaction (core.audit)."""
        self._require_writable()
        with self._mutex:
            pending: audit.Pending | None = None

            def with_audit(doc: dict[str, Any]) -> dict[str, Any]:
                nonlocal pending
                changes = [
                    audit.Change(audit.RESTORED),
                    *audit.diff(self.tree.to_list(), doc["tenants"], self.app, doc.get("app", {})),
                ]
                pending = self.audit.prepare(changes, action=self.current_action(), expected=self.audit_head)
                self._write_pending(pending)
                return {**doc, "audit": pending.head.to_dict()}

            try:
                self.file.restore_backup(with_audit)
            except BaseException:
                if pending is not None:
                    self.audit.discard_pending()
                raise
            if pending is not None:
                self._append_audit(pending)
            self._reload()

    def dismiss_notice(self) -> None:
        """Keep the current settings after a file was kept aside: the notice stops and saves
        rotate the backup again (the file kept aside stays where it is)."""
        self._require_writable()
        with self._mutex:
            self.file.dismiss_notice()
            self.notice = None

    def reload(self) -> None:
        """Read the settings file again (after another program changed it): what this
        process had in memory is replaced by the file's version."""
        self._require_writable()
        with self._mutex:
            self._reload()

    def _reload(self) -> None:
        try:
            loaded = self.file.load()
            document, tree = loaded.document, loaded.tree
            pending = self.file.pending()
            self.notice = OpenNotice.of_pending(pending, self.file) if pending is not None else None
        except SettingsUnreadable as exc:
            from .storage import new_document

            self.notice = OpenNotice(str(exc), exc.moved_to, exc.backup)
            document = new_document()
            tree = TenantTree.from_list(document["tenants"])
        changed_namespace = document["namespace"] != self.namespace
        self.namespace = document["namespace"]
        self.app = dict(document.get("app", {}))
        self.tree = tree
        self.audit_head = audit.Head.of(document.get("audit"))
        if changed_namespace:
            old = self.secrets
            old.close()
            self.secrets = self._new_stores()
            self.secrets.vault.unlocker = old.vault.unlocker
            self.secrets.vault.listeners = old.vault.listeners

    # ---- the secret store -----------------------------------------------------------------
    def _new_stores(self) -> SecretStores:
        backend, timeout, kdf = self._keyring_args
        stores = SecretStores(
            self.namespace,
            self.config_dir,
            setting=lambda: self.app.get("secret_store"),
            refs=self._all_refs,
            keyring_backend=backend,
            keyring_timeout=timeout,
            vault_kdf=kdf,
        )
        if not self.readonly:

            def file_anew() -> None:
                stores.vault.relabel_many(self.secret_labels())

            stores.vault.after_unlock = file_anew
        return stores

    def _all_refs(self) -> list[str]:
        return [
            ref for t in self.tree.walk_all() for st in t.integrations.values() for ref in st.secrets.values()
        ]

    def secret_label(self, tenant_path: str, kind: str, name: str) -> SecretLabel:
        """How the store describes a secret: the tenant's path, the integration's title and
        the secret's label (the vault files and titles its entry by them)."""
        spec = catalog.spec_for(kind)
        label = next((f.label for f in spec.secret_fields if f.name == name), None)
        if label is None:
            label = spec.secret_label(name) if spec.secret_label is not None else name
        return SecretLabel(tenant_path, spec.title, label)

    def secret_labels(self, tenant_id: str | None = None) -> dict[str, SecretLabel]:
        """Every stored secret's reference and label (of one tenant and its subtree)."""
        tenants = self.tree.walk_all() if tenant_id is None else self.tree.walk(tenant_id)
        out: dict[str, SecretLabel] = {}
        for tenant in list(tenants):
            path = self.tree.path(tenant.id)
            for kind, state in list(tenant.integrations.items()):
                for name, ref in list(state.secrets.items()):
                    out[ref] = self.secret_label(path, kind, name)
        return out

    def _relabel(self, tenant_id: str) -> None:
        """After a rename or a move: vault entries follow the tenant's new path. When the vault
        is locked this waits for the next unlock (which files every entry anew)."""
        try:
            self.secrets.vault.relabel_many(self.secret_labels(tenant_id))
        except Exception:  # noqa: BLE001 - the entries keep their old group until the next unlock
            log.warning("could not file the vault's entries under the tenant's new path")

    def move_secrets(self, kind: str) -> MoveReport:
        """Move every secret to the store `kind` (keyring | vault), all or nothing: every
        value is written to the new store, the settings are saved pointing at the new
        references (and naming the new store) in one save, and only then are the old
        entries deleted. A failure before that leaves settings and both stores as they were."""
        if kind not in STORE_KINDS:
            raise ValidationError("secret_store", _("is one of keyring, vault"))
        self._require_writable()
        with self._mutex:
            target = self.secrets.store(kind)
            plan = [
                (tenant.id, k, name, ref)
                for tenant in self.tree.walk_all()
                for k, state in tenant.integrations.items()
                for name, ref in state.secrets.items()
                if self.secrets.holder(ref) is not target
            ]
            if self.app.get("secret_store") == kind and not plan:
                return MoveReport(kind, 0, 0)
            if kind == "keyring":
                status = target.status()
                if not status.usable:
                    raise KeyringUnavailable(_("{reason} Nothing was moved.").format(reason=status.reason))
            created_vault = kind == "vault" and not self.secrets.vault.exists()
            if kind == "vault":
                self.secrets.vault.ensure_open()
            created: list[str] = []
            new_refs: dict[tuple[str, str, str], str] = {}
            missing = 0
            try:
                with target.batch():
                    for tid, k, name, ref in plan:
                        value = self.secrets.get(ref)
                        if value is None:
                            missing += 1
                            continue
                        label = self.secret_label(self.tree.path(tid), k, name)
                        new = target.put(value, label)
                        created.append(new)
                        new_refs[(tid, k, name)] = new
                with self.transaction() as txn:
                    txn.secrets_moved = True
                    for (tid, k, name), new in new_refs.items():
                        self.tree.get(tid).integrations[k].secrets[name] = new
                    self.app["secret_store"] = kind
            except BaseException:
                with target.batch():
                    for ref in created:
                        try:
                            target.delete(ref)
                        except Exception:  # noqa: BLE001 - best effort; the entry is unused
                            log.warning("could not delete a copied secret after a failed move")
                if created_vault:
                    self.secrets.vault.forget_file()
                raise
            old = [ref for tid, k, name, ref in plan if (tid, k, name) in new_refs]
            with self.secrets.batch():
                for ref in old:
                    try:
                        self.secrets.delete(ref)
                    except Exception:  # noqa: BLE001
                        log.warning("could not delete a moved secret from the old store; it is left unused")
            return MoveReport(kind, len(new_refs), missing)

    # ---- persistence --------------------------------------------------------------------
    def document(self, tenants: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        from .storage import SCHEMA, VERSION

        doc = {
            "schema": SCHEMA,
            "version": VERSION,
            "namespace": self.namespace,
            "app": copy.deepcopy(self.app),
            "tenants": self.tree.to_list() if tenants is None else tenants,
        }
        if self.audit_head is not None:
            doc["audit"] = self.audit_head.to_dict()
        return doc

    # ---- the audit trail ------------------------------------------------------------------------
    @contextlib.contextmanager
    def acting(self, action: str) -> Iterator[None]:
        """Changes made in this thread inside the block are recorded as done by `action`
        (the window's action, e.g. "window: Add child")."""
        before = getattr(self._acting, "action", None)
        self._acting.action = action
        try:
            yield
        finally:
            self._acting.action = before

    def current_action(self) -> str:
        return getattr(self._acting, "action", None) or self.action or "xdrconf"

    def _write_pending(self, pending: audit.Pending) -> None:
        """Step 1 of a transaction's audit lines (just before the settings are written)."""
        from .storage import save_failed

        try:
            self.audit.write_pending(pending)
        except OSError as exc:
            raise save_failed(self.audit.pending_path, exc) from None

    def _append_audit(self, pending: audit.Pending) -> None:
        """Step 3 of a transaction: the settings are saved; append their audit lines. Should
        the disk refuse now, the pending file stays and the next opening appends them."""
        try:
            self.audit.commit(pending)
        except OSError:
            log.warning("could not append to the audit trail; its lines are appended at the next start")

    def _require_writable(self) -> None:
        if self.readonly:
            raise ReadOnlyError(
                _("The settings are read-only here ({reason}); nothing was changed.").format(
                    reason=self.readonly_reason
                )
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Txn]:
        """Run changes; on success save once and drop replaced secrets, on failure restore
        the previous tree and app settings and delete the secrets written meanwhile."""
        self._require_writable()
        with self._mutex:
            before_tree = self.tree.to_list()
            before_app = copy.deepcopy(self.app)
            before_head = self.audit_head
            txn = _Txn(self)
            pending: audit.Pending | None = None
            try:
                with self.secrets.batch():
                    yield txn
                if txn.created and self.app.get("secret_store") not in STORE_KINDS:
                    # The first secret: the store chosen now is the store from now on.
                    self.app["secret_store"] = self.secrets.chosen_kind()
                after_tree = self.tree.to_list()
                changes = audit.diff(
                    before_tree, after_tree, before_app, self.app, secrets_moved=txn.secrets_moved
                )
                if changes:
                    pending = self.audit.prepare(changes, action=self.current_action(), expected=before_head)
                    self.audit_head = pending.head
                self.file.save(
                    self.document(after_tree),
                    before_write=None if pending is None else functools.partial(self._write_pending, pending),
                )
            except BaseException:
                self.tree = TenantTree.from_list(before_tree)
                self.app = before_app
                self.audit_head = before_head
                if pending is not None:
                    self.audit.discard_pending()
                with self.secrets.batch():
                    for ref in txn.created:
                        try:
                            self.secrets.delete(ref)
                        except Exception:  # noqa: BLE001 - best effort clean-up
                            log.warning("could not delete an unused secret after a failed save")
                raise
            if pending is not None:
                self._append_audit(pending)
            with self.secrets.batch():
                for ref in txn.obsolete:
                    try:
                        self.secrets.delete(ref)
                    except Exception:  # noqa: BLE001
                        log.warning("could not delete a replaced secret; it is left unused")

    def save(self) -> None:
        with self.transaction():
            pass

    # ---- tenants ------------------------------------------------------------------------
    def tenant(self, ref: str) -> Tenant:
        return self.tree.find(ref)

    def add_tenant(self, name: str, parent: str | None = None) -> Tenant:
        """A new child tenant with a copy of its parent's integration settings, secrets
        included as new keyring entries."""
        return self.add_tenants([NewTenant(name, parent)])[0]

    def add_tenants(self, items: list[NewTenant], *, link: dict[str, str] | None = None) -> list[Tenant]:
        """Several new tenants in one transaction (all or none), each with a copy of its
        parent's integration settings, secrets included as new entries of the store.
        link: existing tenant id -> the KUMA tenant id to record for it."""
        with self.transaction() as txn:
            added = []
            for item in items:
                parent_t = self.tree.find(item.parent) if item.parent else self.tree.root
                kuma_id = None if item.kuma_id is None else self._free_kuma_id(item.kuma_id)
                child_path = f"{self.tree.path(parent_t.id)}/{' '.join(item.name.split())}"
                copies: dict[str, IntegrationState] = {}
                for kind, state in parent_t.integrations.items():
                    clone = state.clone_without_secrets()
                    for name_, ref in state.secrets.items():
                        new_ref = self.secrets.copy(ref, self.secret_label(child_path, kind, name_))
                        if new_ref is not None:
                            txn.created.append(new_ref)
                            clone.secrets[name_] = new_ref
                    copies[kind] = clone
                tenant = self.tree.add(item.name, parent_t.id, copies)
                tenant.kuma_id = kuma_id
                added.append(tenant)
            for tid, kuma_id in (link or {}).items():
                tenant = self.tree.get(tid)
                if tenant.kuma_id != kuma_id:
                    value = self._free_kuma_id(kuma_id)
                    tenant.kuma_id = value
            return added

    def _free_kuma_id(self, kuma_id: str) -> str:
        value = validate_kuma_id(kuma_id)
        holder = self.tree.by_kuma_id(value)
        if holder is not None:
            raise TenantError(
                _("The KUMA tenant {id} is already the tenant '{path}'.").format(
                    id=value, path=self.tree.path(holder.id)
                )
            )
        return value

    def rename_tenant(self, ref: str, new_name: str) -> None:
        tenant = self.tree.find(ref)
        with self.transaction():
            self.tree.rename(tenant.id, new_name)
        self._relabel(tenant.id)

    def move_tenant(self, ref: str, new_parent: str) -> None:
        tenant = self.tree.find(ref)
        parent = self.tree.find(new_parent)
        with self.transaction():
            self.tree.move(tenant.id, parent.id)
        self._relabel(tenant.id)

    def removal_summary(self, ref: str) -> list[str]:
        """What removing the tenant takes away, one line each (for the confirmation)."""
        tenant = self.tree.check_removable(self.tree.find(ref).id)
        lines = [_("Tenant '{path}'").format(path=self.tree.path(tenant.id))]
        for kind, state in tenant.integrations.items():
            n = len(state.secrets)
            in_vault = all(self.secrets.holder(ref) is self.secrets.vault for ref in state.secrets.values())
            status = (
                pgettext("integration state", "on") if state.enabled else pgettext("integration state", "off")
            )
            # TRANSLATORS: a line of what removing a tenant takes away; {state} is "on" or "off"
            line = _("{integration} integration ({state})").format(
                integration=catalog.title_of(kind), state=status
            )
            if n and in_vault:
                line = ngettext(
                    "{line}, {n} secret deleted from the vault",
                    "{line}, {n} secrets deleted from the vault",
                    n,
                ).format(line=line, n=n)
            elif n:
                line = ngettext(
                    "{line}, {n} secret deleted from the OS keyring",
                    "{line}, {n} secrets deleted from the OS keyring",
                    n,
                ).format(line=line, n=n)
            lines.append(line)
        return lines

    def remove_tenant(self, ref: str) -> None:
        tenant = self.tree.check_removable(self.tree.find(ref).id)
        with self.transaction() as txn:
            for state in tenant.integrations.values():
                txn.obsolete.extend(state.secrets.values())
            self.tree.remove(tenant.id)
        self._forget_tenant(tenant.id)

    def _forget_tenant(self, tenant_id: str) -> None:
        """Drop what integrations keep beside the settings for a removed tenant: per-tenant
        files under cache/ and whatever a spec's forget_tenant hook names."""
        for path in (self.config_dir / "cache").glob(f"*/{tenant_id}.json"):
            path.unlink(missing_ok=True)
        for kind in catalog.KINDS:
            spec = catalog.spec_for(kind)
            if spec.forget_tenant is None:
                continue
            try:
                spec.forget_tenant(self.config_dir, tenant_id)
            except Exception:  # noqa: BLE001 - the tenant is gone; a stale cache entry is harmless
                log.warning("could not drop the %s cache of a removed tenant", kind)

    # ---- integrations ---------------------------------------------------------------------
    def integration(self, tenant: Tenant, kind: str) -> IntegrationState:
        catalog.spec_for(kind)
        return tenant.integrations.get(kind) or IntegrationState(kind)

    def missing(self, tenant: Tenant, kind: str, state: IntegrationState | None = None) -> list[str]:
        """Labels of required fields and secrets not set yet."""
        spec = catalog.spec_for(kind)
        state = state or self.integration(tenant, kind)
        out = []
        for f in spec.fields:
            if not f.required or not f.visible(state.settings):
                continue
            present = (
                f.name in state.secrets if f.secret else state.settings.get(f.name) not in (None, "", [])
            )
            if not present:
                out.append(f.label)
        return out

    def update_integrations(self, tenant_ref: str, edits: list[IntegrationEdit]) -> None:
        """Apply several integration edits to one tenant at once (the wizard's Finish)."""
        self.update_many([(tenant_ref, edit) for edit in edits])

    def update_many(self, changes: list[tuple[str, IntegrationEdit]]) -> None:
        """Apply edits to several tenants in one transaction: all of them or none (a
        subtree edit, a push). Each goes through the one edit path (_apply_edit), so every
        rule of an edit applies to each tenant; a secret given once is stored as each
        tenant's own entry. A refusal names the tenant it is about."""
        tenants = []
        for ref, _edit in changes:
            tenant = self.tree.find(ref)
            if tenant.is_shared:
                raise TenantError(_("The Shared tenant needs no integration settings."))
            tenants.append(tenant)
        several = len({t.id for t in tenants}) > 1
        with self.transaction() as txn:
            for tenant, (_ref, edit) in zip(tenants, changes, strict=True):
                try:
                    self._apply_edit(self.tree.get(tenant.id), edit, txn)
                except (ValidationError, TenantError) as exc:
                    if not several:
                        raise
                    raise TenantEditRefused(self.tree.path(tenant.id), exc) from None

    def subtree_ids(self, tenant_ref: str) -> list[str]:
        """The tenant and every tenant below it (parents first)."""
        start = self.tree.find(tenant_ref)
        if start.is_shared:
            raise TenantError(_("The Shared tenant needs no integration settings."))
        return [t.id for t in self.tree.walk(start.id)]

    def update_integration(self, tenant_ref: str, edit: IntegrationEdit) -> None:
        self.update_integrations(tenant_ref, [edit])

    def set_enabled(self, tenant_ref: str, kind: str, enabled: bool) -> None:
        self.update_integration(tenant_ref, IntegrationEdit(kind, enabled=enabled))

    def _apply_edit(self, tenant: Tenant, edit: IntegrationEdit, txn: _Txn) -> None:
        spec = catalog.spec_for(edit.kind)
        if not spec.supported:
            raise ValidationError(spec.title, _("is not yet supported and cannot be configured"))
        state = tenant.integrations.get(edit.kind) or IntegrationState(edit.kind, settings=spec.defaults())
        state = IntegrationState.from_dict(edit.kind, state.to_dict())
        before = copy.deepcopy(state.settings)
        for name, raw in edit.values.items():
            f = spec.field(name)
            if f.secret:
                raise ValidationError(
                    f.label, _("is a secret and goes in through the secret store"), field=name
                )
            if name in spec.root_only and not tenant.is_root:
                raise ValidationError(f.label, _("can be set for the Root tenant only"), field=name)
            value = None if raw is None else f.parse(raw)
            if value is None or value == "":
                state.settings.pop(name, None)
            else:
                state.settings[name] = value
        for key, value in edit.structured.items():
            if key not in spec.structured_keys:
                raise ValidationError(spec.title, _("'{key}' is not a managed setting").format(key=key))
            state.settings[key] = copy.deepcopy(value)
        # The secrets are parsed first and stored only once the edit is known to be valid.
        secret_fields = {f.name: f for f in spec.secret_fields}
        given: dict[str, str | None] = {}
        for name, secret in edit.secrets.items():
            secret_field = secret_fields.get(name)  # None: a secret the integration names itself (KATA keys)
            if secret_field is not None and secret is not None:
                secret = secret_field.parse(secret)
                if not secret or not str(secret).strip():
                    raise ValidationError(
                        secret_field.label, _("is empty; enter the value or leave it unchanged"), field=name
                    )
            given[name] = secret
        present = {n for n in state.secrets if n not in given} | {
            n for n, v in given.items() if v is not None
        }
        if given or edit.values or (edit.structured and spec.structured_resets_check):
            state.results = []  # new settings or a new secret make the last check result stale
        if edit.enabled is not None:
            state.enabled = edit.enabled
        vctx = ValidationContext(
            tenant.is_root,
            frozenset(present),
            values_set=frozenset(n for n, v in edit.values.items() if v not in (None, "")),
            secrets_set=frozenset(n for n, v in given.items() if v is not None),
            today=_dt.date.today(),
            enabled=state.enabled,
        )
        if spec.adjust is not None:
            spec.adjust(state.settings, vctx)
        if spec.validate is not None:
            spec.validate(state.settings, vctx)
        # A stored secret that this edit leaves as it is must not follow a new target unasked.
        path = self.tree.path(tenant.id)
        moving = targets.following(
            spec,
            before,
            state.settings,
            [n for n in state.secrets if n not in given],
            tenant=path,
            label_of=lambda n: self.secret_label(path, edit.kind, n).field,
        )
        if moving and not edit.keep_secrets:
            raise targets.refusal(moving)
        if moving:
            log.info(
                "stored secrets follow a new target, as confirmed (%s)", "; ".join(targets.describe(moving))
            )
        for name, secret in given.items():
            old = state.secrets.get(name)
            if secret is None:
                state.secrets.pop(name, None)
            else:
                ref = self.secrets.put(secret, self.secret_label(path, edit.kind, name))
                txn.created.append(ref)
                state.secrets[name] = ref
            if old:
                txn.obsolete.append(old)
        if state.enabled:
            missing = self.missing(tenant, edit.kind, state)
            if missing:
                raise ValidationError(
                    spec.title,
                    _("cannot be turned on until these are set: {fields}").format(
                        fields=", ".join(_(m) for m in missing)
                    ),
                )
        tenant.integrations[edit.kind] = state

    def secret(self, tenant: Tenant, kind: str, name: str) -> str | None:
        ref = self.integration(tenant, kind).secrets.get(name)
        if ref is None:
            return None
        return self.secrets.get(ref)

    def record_results(self, results: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
        """Keep the last check results of each (tenant id, kind), saved at once. Read-only
        workspaces keep them in memory only."""
        with self._mutex:

            def put() -> None:
                for (tenant_id, kind), items in results.items():
                    if tenant_id not in self.tree:
                        continue
                    state = self.tree.get(tenant_id).integrations.get(kind)
                    if state is not None:
                        state.results = items

            if self.readonly:
                put()
                return
            with self.transaction():
                put()

    # ---- application settings --------------------------------------------------------------
    def set_app(self, **values: Any) -> None:
        """Change application settings (timeout, proxy …; None removes one), validated by
        core.appsettings (ValidationError names the setting; nothing is changed then) and
        checked as the loader checks them (document.check_app_settings), so nothing is saved
        that could not be read."""
        from .appsettings import validate

        values = validate(values)
        with self.transaction():
            for key, value in values.items():
                if value is None:
                    self.app.pop(key, None)
                else:
                    self.app[key] = value
            try:
                self.app = check_app_settings(self.app)
            except DocumentProblem as exc:
                raise ValidationError(exc.where, exc.problem) from None

    def flags(self, tenant: Tenant, now: _dt.datetime | None = None) -> list[tuple[str, catalog.Flag]]:
        """Warnings of the tenant's enabled integrations: (kind, flag)."""
        now = now or _dt.datetime.now(_dt.UTC)
        out: list[tuple[str, catalog.Flag]] = []
        for kind, state in tenant.integrations.items():
            spec = catalog.spec_for(kind)
            if state.enabled and spec.flags is not None:
                out.extend((kind, flag) for flag in spec.flags(state, now))
        return out


class TenantEditRefused(ValidationError):
    """An edit of several tenants was refused for one of them; nothing was changed."""

    def __init__(self, tenant: str, cause: ValidationError | TenantError) -> None:
        self.tenant = tenant
        self.cause = cause
        label = cause.label if isinstance(cause, ValidationError) else _("Tenant")
        problem = cause.problem if isinstance(cause, ValidationError) else str(cause)
        super().__init__(
            _("Tenant '{tenant}': {label}").format(tenant=tenant, label=label),
            _("{problem}; nothing was changed in any tenant").format(problem=problem.rstrip(".")),
            field=getattr(cause, "field", None),
        )


def _reconcile_audit(config_dir: Path, document: dict[str, Any]) -> None:
    """At opening, with the lock: what an interrupted transaction left of the audit trail
    (core.audit.AuditTrail.reconcile)."""
    try:
        done = audit.AuditTrail(config_dir).reconcile(audit.Head.of(document.get("audit")))
    except OSError as exc:
        log.warning("the audit trail could not be checked at opening: %s", exc)
        return
    if done:
        log.warning("audit trail: %s", done)


class _Txn:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.created: list[str] = []
        self.obsolete: list[str] = []
        self.secrets_moved = False  # references changed because secrets moved to another store
