"""Application settings (the network timeout, the HTTP(S) proxy, the language), parsed and
validated in one place: the settings dialog, `xdrconf config set` and every `--timeout`
option go through here, and Workspace.set_app validates what it stores."""

from __future__ import annotations

import re
from typing import Any

from . import i18n
from .errors import ValidationError
from .fields import parse_url
from .i18n import _

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 600.0
PROXY_MODES = ("none", "manual", "system")
# The keys `xdrconf config set KEY=VALUE` accepts.
KEYS = ("timeout", "proxy_mode", "proxy_url", "no_proxy", "language", "secret_store")


def parse_timeout(value: Any, label: str = "timeout") -> float:
    """Seconds, more than 0 and at most 600."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, (int, float)):
            seconds = float(value)
        else:
            text = str(value).strip()
            # float() also reads '٣' (Arabic-Indic 3), '1_0' and 'nan': ASCII decimals only.
            if not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", text):
                raise ValueError(text)
            seconds = float(text)
    except ValueError:
        raise ValidationError(label, _("'{value}' is not a number of seconds").format(value=value)) from None
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses NaN and infinity
        raise ValidationError(label, _("give seconds between 0 and {limit:g}").format(limit=MAX_TIMEOUT))
    return seconds


def parse_no_proxy(text: str | list[str]) -> list[str]:
    items = text if isinstance(text, list) else str(text).replace(";", ",").split(",")
    return [h.strip() for h in items if str(h).strip()]


def parse_proxy(proxy: dict[str, Any]) -> dict[str, Any]:
    """The canonical proxy settings: mode, url (manual only) and the no-proxy list."""
    mode = str(proxy.get("mode") or "none")
    if mode not in PROXY_MODES:
        raise ValidationError(
            "proxy_mode", _("'{mode}' is not one of {modes}").format(mode=mode, modes=", ".join(PROXY_MODES))
        )
    url = str(proxy.get("url") or "").strip()
    if url:
        url = parse_url(url, _("Proxy URL"), schemes=("http", "https"))
    if mode == "manual" and not url:
        raise ValidationError(_("Proxy URL"), _("proxy_mode=manual needs proxy_url (http://host:port)"))
    return {"mode": mode, "url": url, "no_proxy": parse_no_proxy(proxy.get("no_proxy") or [])}


def validate(values: dict[str, Any]) -> dict[str, Any]:
    """The app settings as they are stored, checked: raises ValidationError naming the
    setting. Keys it does not know (kept by other parts) pass unchanged."""
    out = dict(values)
    if out.get("timeout") is not None:
        out["timeout"] = parse_timeout(out["timeout"])
    if out.get("proxy") is not None:
        out["proxy"] = parse_proxy(dict(out["proxy"]))
    if out.get("language") is not None:
        # auto is the default: stored as no value at all (None removes the key).
        language = i18n.parse_setting(str(out["language"]), "language")
        out["language"] = None if language == "auto" else language
    return out


def apply_assignments(app: dict[str, Any], pairs: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` texts applied to the current app settings; returns the changes for
    Workspace.set_app (validated)."""
    changes: dict[str, Any] = {}
    proxy = dict(app.get("proxy") or {"mode": "none"})
    for pair in pairs:
        if "=" not in pair:
            raise ValidationError(_("Setting"), _("'{pair}' is not KEY=VALUE").format(pair=pair))
        key, value = (p.strip() for p in pair.split("=", 1))
        if key == "timeout":
            changes["timeout"] = parse_timeout(value)
        elif key == "proxy_mode":
            proxy["mode"] = value
        elif key == "proxy_url":
            proxy["url"] = value
        elif key == "no_proxy":
            proxy["no_proxy"] = parse_no_proxy(value)
        elif key == "language":
            changes["language"] = value
        else:
            raise ValidationError(
                _("Setting"), _("unknown setting '{key}' ({keys})").format(key=key, keys=", ".join(KEYS))
            )
    if any(p.split("=", 1)[0].strip() in ("proxy_mode", "proxy_url", "no_proxy") for p in pairs):
        changes["proxy"] = proxy  # only when asked: the audit trail records no change that was not made
    return validate(changes)


def timeout_of(app: dict[str, Any]) -> float:
    try:
        return parse_timeout(app.get("timeout", DEFAULT_TIMEOUT))
    except ValidationError:
        return DEFAULT_TIMEOUT
