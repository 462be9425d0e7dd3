"""A stored secret is sent only to the target it was given for (issue 12): it follows a new
target only when the user says so.

How an integration declares where its secrets go (``IntegrationSpec``):

- ``target_fields``: the fields, or structured keys, whose values say where the secrets are
  sent: ``("host", "port")``, ``("url",)``, KATA's ``("connections",)``. Nothing else: an
  API version, a user name or a trust setting is not a target.
- ``secret_target`` (optional): ``(settings, secret name) -> str | None``, where one secret
  goes as a person reads it, when that is more precise than "any change of a target field"
  (TIP: the portal of the chosen access; KATA: the host and port of the key's own
  connection). None: the settings send that secret nowhere (its connection is gone).
  Without it, any change of a target field moves every stored secret, and the target is
  shown as ``spec.target_of(settings)`` (or the target fields' values when that is the same).

The rule, applied by ``Workspace._apply_edit`` (every change of an integration: the command
line, the wizard's Finish, KATA's connection dialog, a child re-pointed after it was copied
from its parent) and by ``exchange.import_document``, both through ``following()``:
a secret that stays stored (it is neither given again nor removed by the same edit) and
whose target changes "follows". An edit with followers is refused (SecretsWouldFollow,
nothing is saved) unless it is confirmed (``IntegrationEdit.keep_secrets``: the command
line's ``--keep-secrets``, the window's confirmation, default No). An import never lets a
secret follow: it is dropped and listed to be entered again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import SecretsWouldFollow
from .i18n import _

if TYPE_CHECKING:
    from .catalog import IntegrationSpec


@dataclass(frozen=True)
class Following:
    """One stored secret that an edit would send to a new target."""

    tenant: str  # the tenant's path
    kind: str
    title: str  # the integration's title
    name: str  # the secret's name
    label: str  # the secret as a person reads it ("API token")
    old: str
    new: str


def undeclared(spec: IntegrationSpec) -> str | None:
    """Why `spec` cannot be held to the rule, or None: an integration that stores secrets
    must say where they go (target_fields naming its fields or structured keys). A plugin
    without it is left out (core.catalog); the built-in ones are tested."""
    if not spec.secret_fields and spec.secret_label is None:
        return None
    if not spec.target_fields:
        return "it stores secrets but declares no target_fields (where they are sent)"
    names = {f.name for f in spec.fields} | set(spec.structured_keys)
    unknown = [name for name in spec.target_fields if name not in names]
    if unknown:
        return f"its target_fields name no field or structured key: {', '.join(unknown)}"
    return None


def _fields_text(spec: IntegrationSpec, settings: dict[str, Any]) -> str:
    parts = []
    for name in spec.target_fields:
        value = settings.get(name)
        try:
            f = spec.field(name)
        except Exception:  # noqa: BLE001 - a structured key: its value as it is
            parts.append(f"{name}={value}")
            continue
        parts.append(f"{f.label} {f.format(value) if value is not None else '-'}")
    return ", ".join(parts)


def moved(
    spec: IntegrationSpec, before: dict[str, Any], after: dict[str, Any], name: str
) -> tuple[str, str] | None:
    """(old target, new target) when the settings `after` send the secret `name` somewhere
    else than `before`; None when it goes where it went (or nowhere now)."""
    if spec.secret_target is not None:
        old, new = spec.secret_target(before, name), spec.secret_target(after, name)
        if new is None or old == new:
            return None
        return old or "-", new
    if all(before.get(f) == after.get(f) for f in spec.target_fields):
        return None
    old_text, new_text = spec.target_of(before), spec.target_of(after)
    if old_text == new_text:
        old_text, new_text = _fields_text(spec, before), _fields_text(spec, after)
    return old_text or "-", new_text or "-"


def following(
    spec: IntegrationSpec,
    before: dict[str, Any],
    after: dict[str, Any],
    kept: Iterable[str],
    *,
    tenant: str,
    label_of: Any,
) -> list[Following]:
    """The secrets of `kept` (stored, and left as they are by the edit) that the change of
    settings from `before` to `after` sends to a new target. label_of(name) names a secret."""
    out = []
    for name in kept:
        change = moved(spec, before, after, name)
        if change is not None:
            out.append(Following(tenant, spec.kind, str(spec.title), name, str(label_of(name)), *change))
    return out


def describe(items: Sequence[Following]) -> list[str]:
    """One line per integration and change of target: what would be sent where."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for item in items:
        groups.setdefault((item.tenant, item.title, item.old, item.new), []).append(item.label)
    return [
        _("{title} of '{tenant}': from {old} to {new} — {secrets}").format(
            title=title, tenant=tenant, old=old, new=new, secrets=", ".join(labels)
        )
        for (tenant, title, old, new), labels in groups.items()
    ]


def refusal(items: Sequence[Following]) -> SecretsWouldFollow:
    """The error of an edit whose stored secrets would follow a new target unconfirmed."""
    lines = "; ".join(describe(items))
    return SecretsWouldFollow(
        _(
            "The target changes and stored secrets would be sent there ({changes}). Enter them "
            "again in the same change, or confirm that they may go to the new target. Nothing "
            "was saved."
        ).format(changes=lines),
        list(items),
    )
