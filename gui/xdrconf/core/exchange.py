"""Export and import of tenants and their integration settings. An export never contains
a secret or a keyring reference: it lists which secrets were set, so that an import can
say which ones must be entered again."""

from __future__ import annotations

import copy
import datetime as _dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import catalog, targets
from .catalog import ValidationContext
from .document import json_reason
from .errors import ValidationError, XdrconfError
from .i18n import _
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
    # Why it must be entered again when it was stored here: the import changed its target
    # ("old -> new"); "" when the export simply holds no secret.
    moved: str = ""

    def line(self) -> str:
        line = f"{self.tenant_path}: {catalog.title_of(self.kind)} — {self.name}"
        if self.moved:
            line += " " + _("(the import changed its target: {change}; it was not kept)").format(
                change=self.moved
            )
        return line

    def hint(self) -> str:
        """The command that enters this secret again."""
        spec = catalog.spec_for(self.kind)
        if spec.reenter_hint is not None:
            return spec.reenter_hint(self.tenant_path, self.name)
        return _("xdrconf integration set '{tenant_path}' {kind} --secret {name}").format(
            tenant_path=self.tenant_path, kind=self.kind, name=self.name
        )


MAX_IMPORT = 64 * 1024 * 1024  # characters of an import file (10,000 tenants take about 15 MB)


def loads(text: str) -> Any:
    """The JSON of an import file; XdrconfError (never a traceback) when it is not JSON,
    nests too deeply, is too large or holds NaN/Infinity."""

    def constant(name: str) -> Any:
        raise XdrconfError(_("Import file: {value} is not a JSON number.").format(value=name))

    if len(text) > MAX_IMPORT:
        raise XdrconfError(_("Import file: larger than {size} MiB.").format(size=MAX_IMPORT // 2**20))
    try:
        return json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise XdrconfError(
            _("Import file: not valid JSON ({reason} at line {line}).").format(
                reason=json_reason(exc), line=exc.lineno
            )
        ) from None
    except RecursionError:
        raise XdrconfError(_("Import file: nested too deeply to be an xdrconf export.")) from None


def _setting(path: str, spec: catalog.IntegrationSpec, key: str, value: Any) -> Any:
    """An exported setting read as if typed (the field's own parser)."""
    f = spec.field(key)
    if isinstance(value, (dict, list)) and f.kind not in ("ports",) and "format" not in f.extra:
        raise XdrconfError(
            _("{path}: {title}: {field} must be a single value.").format(
                path=path, title=spec.title, field=f.label
            )
        )
    try:
        return f.parse(value if f.kind == "bool" and isinstance(value, bool) else f.format(value))
    except ValidationError as exc:
        raise XdrconfError(f"{path}: {spec.title}: {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError):
        raise XdrconfError(
            _("{path}: {title}: {field} has a value of the wrong type.").format(
                path=path, title=spec.title, field=f.label
            )
        ) from None


def import_document(ws: Workspace, doc: Any) -> list[NeededSecret]:
    """Create missing tenants, replace the integration settings named in the file, keep
    secrets already stored here unless the file points them somewhere else (core.targets:
    an import never lets a secret follow a new target; it is dropped and listed). Returns
    the secrets that must be entered again. An integration whose secrets are missing is
    imported turned off. Anything malformed is an XdrconfError naming where; nothing is
    changed then."""
    if not isinstance(doc, dict) or doc.get("schema") != EXPORT_SCHEMA:
        raise XdrconfError(_("The file is not an xdrconf export (schema 'xdrconf-export' expected)."))
    if doc.get("version") != EXPORT_VERSION:
        raise XdrconfError(
            _("The export has version {found}; this xdrconf reads version {version}.").format(
                found=repr(str(doc.get("version"))[:20]), version=EXPORT_VERSION
            )
        )
    items = doc.get("tenants")
    if not isinstance(items, list):
        raise XdrconfError(_("The export has no list of tenants."))
    needed: list[NeededSecret] = []
    tree = ws.tree
    with ws.transaction() as txn:
        for n, item in enumerate(items, 1):
            raw_path = item.get("path") if isinstance(item, dict) else None
            if not isinstance(raw_path, str) or not raw_path.strip("/"):
                raise XdrconfError(_("Tenant #{n} in the export has no path.").format(n=n))
            path = raw_path.strip("/")
            parts = path.split("/")
            node = tree.root
            for part in parts[1:]:
                match = [c for c in tree.children(node.id) if c.name == part]
                node = match[0] if match else tree.add(part, node.id, {})
            if node.is_shared:
                continue
            integrations = item.get("integrations", {})
            if not isinstance(integrations, dict):
                raise XdrconfError(_("{path}: 'integrations' must be an object.").format(path=path))
            for kind, data in integrations.items():
                spec = catalog.spec_for(kind)
                if not spec.supported:
                    continue
                if not isinstance(data, dict):
                    raise XdrconfError(
                        _("{path}: {title} must be an object.").format(path=path, title=spec.title)
                    )
                settings = data.get("settings", {})
                secrets_set = data.get("secrets_set", [])
                if not isinstance(settings, dict) or not isinstance(secrets_set, list):
                    raise XdrconfError(
                        _("{path}: {title}: 'settings' or 'secrets_set' has the wrong type.").format(
                            path=path, title=spec.title
                        )
                    )
                settings = copy.deepcopy(settings)
                known = {f.name for f in spec.plain_fields} | set(spec.structured_keys)
                for key in list(settings):
                    if key not in known:
                        raise XdrconfError(
                            _("{path}: {title} has no setting '{key}'.").format(
                                path=path, title=spec.title, key=key
                            )
                        )
                    if key in spec.structured_keys:
                        if not isinstance(settings[key], list):
                            raise XdrconfError(
                                _("{path}: {title}: '{key}' must be a list.").format(
                                    path=path, title=spec.title, key=key
                                )
                            )
                        continue
                    settings[key] = _setting(path, spec, key, settings[key])
                old = node.integrations.get(kind)
                kept = dict(old.secrets) if old else {}
                if old is not None:
                    tenant_path = tree.path(node.id)
                    for item_ in targets.following(
                        spec,
                        old.settings,
                        settings,
                        list(kept),
                        tenant=tenant_path,
                        label_of=lambda name, k=kind, p=tenant_path: ws.secret_label(p, k, name).field,
                    ):
                        txn.obsolete.append(kept.pop(item_.name))
                        needed.append(NeededSecret(path, kind, item_.name, f"{item_.old} → {item_.new}"))
                if spec.validate is not None:
                    vctx = ValidationContext(node.is_root, frozenset(kept), today=_dt.date.today())
                    try:
                        spec.validate(settings, vctx)
                    except ValidationError as exc:
                        raise XdrconfError(f"{path}: {spec.title}: {exc}") from None
                state = IntegrationState(kind, False, settings, kept, [])
                for name in secrets_set:
                    if str(name) not in state.secrets and not any(
                        x.tenant_path == path and x.kind == kind and x.name == str(name) for x in needed
                    ):
                        needed.append(NeededSecret(path, kind, str(name)))
                complete = not ws.missing(node, kind, state)
                state.enabled = data.get("enabled") is True and complete
                node.integrations[kind] = state
    return needed
