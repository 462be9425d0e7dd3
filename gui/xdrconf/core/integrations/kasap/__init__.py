"""Kaspersky Automated Security Awareness Platform (KASAP) OpenAPI: the URL and token from
KASAP (Dashboard → Import and sync → OpenAPI), the token's issue date and the rights it
was created with. The token is valid for 12 months: from 30 days before its expiry the
integration and its tenant are flagged. Wire facts: shared/INTEGRATIONS.md."""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING, Any

from xdrconf.core.i18n import N_, _, ngettext

from ...catalog import Flag, IntegrationSpec, Page, ValidationContext
from ...engine import Operation, check_operation
from ...errors import ValidationError
from ...fields import Field, parse_url
from ...outcome import Category, Outcome
from ..common import TRUST_FIELDS, trust_page

if TYPE_CHECKING:
    from ...engine import OpContext
    from ...tenants import IntegrationState

TITLE = "Kaspersky Automated Security Awareness Platform"
GROUPS_PATH = "/openapi/v1/groups"
VALID_MONTHS = 12
WARN_DAYS = 30

# The rights chosen when the token is created in KASAP: (short name, as KASAP shows it).
RIGHTS: tuple[tuple[str, str], ...] = (
    ("groups", "GET /openapi/v1/groups"),
    ("report", "POST /openapi/v1/report"),
    ("user", "PATCH /openapi/v1/user/:userid"),
)
_RIGHT_NAMES = {name for name, _shown in RIGHTS}


def parse_openapi_url(text: str, label: str) -> str:
    """The OpenAPI URL as KASAP shows it; a pasted '/openapi/v1' suffix is dropped because
    requests add it themselves."""
    value = parse_url(text, label)
    return re.sub(r"/openapi(/v1)?/*$", "", value, flags=re.IGNORECASE)


def parse_rights(text: str, label: str) -> list[str] | None:
    """Confirmed rights: 'all', or a comma-separated list of groups, report, user (or the
    rights as KASAP writes them, e.g. 'GET /openapi/v1/groups'). Empty: none confirmed."""
    value = str(text).strip()
    if not value or value.lower() == "none":
        return None
    if value.lower() == "all":
        return [name for name, _shown in RIGHTS]
    chosen: set[str] = set()
    for part in value.split(","):
        item = " ".join(part.split()).lower()
        if not item:
            continue
        match = [name for name, shown in RIGHTS if item in (name, shown.lower())]
        if not match:
            known = ", ".join(name for name, _shown in RIGHTS)
            raise ValidationError(
                label,
                _("'{value}' is not one of the token's rights ({known}, or all)").format(
                    value=part.strip(), known=known
                ),
                field="rights_confirmed",
            )
        chosen.add(match[0])
    return [name for name, _shown in RIGHTS if name in chosen] or None


def _format_rights(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value or "")


FIELDS = (
    Field(
        "url",
        N_("OpenAPI URL"),
        kind="url",
        required=True,
        parser=parse_openapi_url,
        help=N_("The OpenAPI URL shown in KASAP under Dashboard → Import and sync → OpenAPI."),
        placeholder="https://…",
    ),
    Field(
        "token",
        N_("Token"),
        kind="secret",
        header=True,
        required=True,
        help=N_(
            "The token generated in KASAP (New token / Reissue token on the OpenAPI tab). "
            "KASAP shows it once; it is kept here only in the OS keyring or the encrypted vault "
            "(whichever the settings use)."
        ),
    ),
    Field(
        "token_issued",
        N_("Token issued on"),
        kind="date",
        help=N_(
            "The day the token was generated (YYYY-MM-DD). Set to today when a new token is "
            "stored; correct it if the token is older. The token is valid for 12 months."
        ),
    ),
    Field(
        "rights_confirmed",
        N_("Token rights confirmed"),
        kind="text",
        parser=parse_rights,
        help=N_(
            "The rights selected when the token was created; all three are needed: {rights}. "
            "Only the first can be verified by a check."
        ).fill(rights="; ".join(shown for _n, shown in RIGHTS)),
        extra={"format": _format_rights, "rights": RIGHTS},
    ),
    *TRUST_FIELDS,
)


# ---- expiry ------------------------------------------------------------------------------------
def add_months(day: _dt.date, months: int) -> _dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return _dt.date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def expiry_of(settings: dict[str, Any]) -> _dt.date | None:
    issued = settings.get("token_issued")
    if not issued:
        return None
    return add_months(_dt.date.fromisoformat(issued), VALID_MONTHS)


def expiry_text(settings: dict[str, Any], today: _dt.date) -> str:
    """'expires on 2027-03-01 (in 99 days)' / 'expired on …' / '' when the date is unknown."""
    expiry = expiry_of(settings)
    if expiry is None:
        return ""
    left = (expiry - today).days
    if left <= 0:
        # TRANSLATORS: completes "The token …" ("expired on 2027-03-01")
        return _("expired on {date}").format(date=expiry.isoformat())
    # TRANSLATORS: completes "The token …"
    return ngettext("expires on {date} (in {n} day)", "expires on {date} (in {n} days)", left).format(
        date=expiry.isoformat(), n=left
    )


def flags(state: IntegrationState, now: _dt.datetime) -> list[Flag]:
    if "token" not in state.secrets:
        return []
    expiry = expiry_of(state.settings)
    if expiry is None:
        return [
            Flag(
                "warning",
                _(
                    "The KASAP token's issue date is not known, so its expiry (12 "
                    "months after issue) cannot be tracked; enter the date it was generated."
                ),
            )
        ]
    left = (expiry - now.date()).days
    if left <= 0:
        return [
            Flag(
                "error",
                _(
                    "The KASAP token expired on {date}; reissue it in KASAP (Import and "
                    "sync → OpenAPI) and replace it here."
                ).format(date=expiry.isoformat()),
            )
        ]
    if left <= WARN_DAYS:
        return [
            Flag(
                "warning",
                ngettext(
                    "The KASAP token expires on {date} (in {n} day); reissue it in KASAP and "
                    "replace it here before then.",
                    "The KASAP token expires on {date} (in {n} days); reissue it in KASAP and "
                    "replace it here before then.",
                    left,
                ).format(date=expiry.isoformat(), n=left),
            )
        ]
    return []


def adjust(settings: dict[str, Any], vctx: ValidationContext) -> None:
    if "token" in vctx.secrets_set and "token_issued" not in vctx.values_set and vctx.today:
        settings["token_issued"] = vctx.today.isoformat()


def validate(settings: dict[str, Any], vctx: ValidationContext) -> None:
    issued = settings.get("token_issued")
    today = vctx.today or _dt.date.today()
    if issued and _dt.date.fromisoformat(issued) > today:
        raise ValidationError(
            _("Token issued on"), _("{issued} is in the future").format(issued=issued), field="token_issued"
        )


# ---- requests ------------------------------------------------------------------------------------
def _groups_of(data: Any) -> list[dict[str, Any]] | None:
    items = data
    if isinstance(data, dict):
        for key in ("groups", "items", "data", "result", "results"):
            if isinstance(data.get(key), list):
                items = data[key]
                break
    if not isinstance(items, list):
        return None
    groups = []
    for item in items:
        if isinstance(item, dict):
            gid = item.get("id", item.get("groupId", ""))
            name = item.get("name", item.get("title", ""))
            groups.append({"id": "" if gid is None else str(gid), "name": str(name or gid or "")})
        elif isinstance(item, (str, int)):
            groups.append({"id": str(item), "name": str(item)})
        else:
            return None
    return groups


def fetch_groups(ctx: OpContext) -> Outcome:
    """GET <url>/openapi/v1/groups: ok with the learning groups as data."""
    s = ctx.settings
    token = ctx.require_secret("token", header=True)
    expiry = expiry_text(s, ctx.now().date())
    known = _(" By its issue date the token {expiry}.").format(expiry=expiry) if expiry else ""
    refused = (
        Category.AUTH_FAILED,
        _(
            "KASAP refused the token (HTTP {{status}}){{quote}}: it is wrong, "
            "expired (valid 12 months), revoked after 6 months unused, or lacks the "
            "right GET {groups_path}.{known} Reissue it in KASAP (Import and sync → "
            "OpenAPI) and replace it here."
        ).format(groups_path=GROUPS_PATH, known=known),
    )
    session = ctx.http()
    r = session.get(
        s["url"] + GROUPS_PATH,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        meaning={
            401: refused,
            403: refused,
            429: (
                Category.RATE_LIMITED,
                _(
                    "KASAP is limiting the request rate (HTTP 429; it allows 10 requests per second "
                    "per method); try again in a moment."
                ),
            ),
            404: (
                Category.PROTOCOL_ERROR,
                _(
                    "{{target}} has no {groups_path} (HTTP 404); check that the OpenAPI URL "
                    "is the one KASAP shows."
                ).format(groups_path=GROUPS_PATH),
            ),
        },
    )
    try:
        groups = _groups_of(r.json())
    except ValueError:
        groups = None
    if groups is None:
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _(
                "{target} answered 200 but not with a list of learning groups; check that the "
                "OpenAPI URL is the one KASAP shows."
            ).format(target=session.target),
        )
    names = ", ".join(g["name"] for g in groups[:5]) + (", …" if len(groups) > 5 else "")
    if groups:
        message = ngettext(
            "Connected: KASAP accepted the token; {n} learning group exists: {names}.",
            "Connected: KASAP accepted the token; {n} learning groups exist: {names}.",
            len(groups),
        ).format(n=len(groups), names=names)
    else:
        message = _("Connected: KASAP accepted the token; 0 learning groups exist.")
    return Outcome(Category.OK, message, details={"groups": len(groups)}, data=groups)


def check(ctx: OpContext) -> list[Outcome]:
    result = fetch_groups(ctx)
    result.data = None
    notes = []
    confirmed = set(ctx.settings.get("rights_confirmed") or [])
    missing = [shown for name, shown in RIGHTS if name not in confirmed]
    if missing:
        warning = _(
            "Warning: confirm in the settings that the token has these rights too, "
            "which a check cannot test without side effects: {rights}."
        ).format(rights="; ".join(missing))
        notes.append(warning)
        result.warnings.append(warning)
    expiry = expiry_text(ctx.settings, ctx.now().date())
    if expiry:
        notes.append(_("The token {expiry}.").format(expiry=expiry))
    else:
        notes.append(_("Enter the token's issue date so its expiry can be tracked."))
    result.message = " ".join([result.message, *notes])
    result.details["rights_missing"] = missing
    return [result]


def groups(ctx: OpContext) -> list[Outcome]:
    return [fetch_groups(ctx)]


SPEC = IntegrationSpec(
    kind="kasap",
    title=TITLE,
    description=N_(
        "KASAP's OpenAPI: assign learning courses to users of alerts and incidents, "
        "change their learning groups, and see their courses and certificates."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("KASAP — OpenAPI"),
            N_("The OpenAPI URL and token from KASAP: Dashboard → Import and sync → OpenAPI tab."),
            ("url", "token", "token_issued"),
        ),
        Page(
            N_("KASAP — token rights"),
            N_("Confirm that the token was created with the three rights the integration needs."),
            ("rights_confirmed",),
        ),
        trust_page("KASAP"),
    ),
    operations=(
        check_operation(check),
        Operation(
            "groups",
            N_("List learning groups"),
            groups,
            description=N_("The learning groups KASAP returns for the tenant's token."),
            columns=(("id", N_("ID")), ("name", N_("Name"))),
        ),
    ),
    target_fields=("url",),
    adjust=adjust,
    validate=validate,
    flags=flags,
)
