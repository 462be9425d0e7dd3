"""Export and import of tenants and their integration settings. An export never contains
a secret or a keyring reference: it lists which secrets were set, so that an import can
say which ones must be entered again."""

from __future__ import annotations

import copy
import datetime as _dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import catalog
from .errors import ValidationError, XdrconfError
from .tenants import IntegrationState

if TYPE_CHECKING:
    from .workspace import Workspace

EXPORT_SCHEMA = "xdrconf-export"
EXPORT_VERSION = 1


def export_document(ws: Workspace, tenant_ref: str | None = None) -> dict[str, Any]:
    tree = ws.tree
    if tenant_ref:
        start = tree.find(tenant_ref)
        tenants = list(tree.walk(start.id))
    else:
        tenants = [t for t in tree.walk(tree.root_id)]
    items = []
    for tenant in tenants:
        integrations = {}
        for kind, state in tenant.integrations.items():
            integrations[kind] = {
                "enabled": state.enabled,
                "settings": copy.deepcopy(state.settings),
                "secrets_set": sorted(state.secrets),
            }
        items.append({"path": tree.path(tenant.id), "integrations": integrations})
    return {
        "schema": EXPORT_SCHEMA,
        "version": EXPORT_VERSION,
        "exported_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "tenants": items,
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@dataclass
class NeededSecret:
    tenant_path: str
    kind: str
    name: str

    def line(self) -> str:
        return f"{self.tenant_path}: {catalog.title_of(self.kind)} — {self.name}"

    def hint(self) -> str:
        """The command that enters this secret again."""
        spec = catalog.spec_for(self.kind)
        if spec.reenter_hint is not None:
            return spec.reenter_hint(self.tenant_path, self.name)
        return f"xdrconf integration set '{self.tenant_path}' {self.kind} --secret {self.name}"


def import_document(ws: Workspace, doc: Any) -> list[NeededSecret]:
    """Create missing tenants, replace the integration settings named in the file, keep
    secrets already stored here. Returns the secrets that must be entered again. An
    integration whose secrets are missing is imported turned off."""
    if not isinstance(doc, dict) or doc.get("schema") != EXPORT_SCHEMA:
        raise XdrconfError("The file is not an xdrconf export (schema 'xdrconf-export' expected).")
    if doc.get("version") != EXPORT_VERSION:
        raise XdrconfError(
            f"The export has version {doc.get('version')!r}; this xdrconf reads version {EXPORT_VERSION}."
        )
    items = doc.get("tenants")
    if not isinstance(items, list):
        raise XdrconfError("The export has no list of tenants.")
    needed: list[NeededSecret] = []
    tree = ws.tree
    with ws.transaction():
        for n, item in enumerate(items, 1):
            path = str(item.get("path", "")).strip("/")
            if not path:
                raise XdrconfError(f"Tenant #{n} in the export has no path.")
            parts = path.split("/")
            node = tree.root
            for part in parts[1:]:
                match = [c for c in tree.children(node.id) if c.name == part]
                node = match[0] if match else tree.add(part, node.id, {})
            if node.is_shared:
                continue
            for kind, data in dict(item.get("integrations", {})).items():
                spec = catalog.spec_for(kind)
                if not spec.supported:
                    continue
                settings = dict(data.get("settings", {}))
                known = {f.name for f in spec.plain_fields} | set(spec.structured_keys)
                for key in list(settings):
                    if key not in known:
                        raise XdrconfError(f"{path}: {spec.title} has no setting '{key}'.")
                    if key in spec.structured_keys:
                        continue
                    f = spec.field(key)
                    try:
                        settings[key] = f.parse(f.format(settings[key]))
                    except ValidationError as exc:
                        raise XdrconfError(f"{path}: {spec.title}: {exc}") from None
                old = node.integrations.get(kind)
                state = IntegrationState(kind, False, settings, dict(old.secrets) if old else {}, [])
                for name in data.get("secrets_set", []):
                    if name not in state.secrets:
                        needed.append(NeededSecret(path, kind, str(name)))
                complete = not ws.missing(node, kind, state)
                state.enabled = bool(data.get("enabled")) and complete
                node.integrations[kind] = state
    return needed
