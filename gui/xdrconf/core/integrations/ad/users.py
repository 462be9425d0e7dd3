"""`find-user`: an account looked up by sAMAccountName, UPN or DN under the base DN, with
what an analyst needs before a response action: DN, display name, state (enabled or
disabled, locked out, password expired or to be changed, account expiry) and groups."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from ...i18n import _, ngettext
from ...outcome import Category, Outcome
from .directory import Bound, first_bound
from .ldap import Entry
from .names import escape_filter, is_dn, rdn_value
from .sd import BadDescriptor, parse_sid, sid_bytes

if TYPE_CHECKING:
    from ...engine import OpContext

MAX_MATCHES = 20
USER_ATTRS = [
    "displayName",
    "cn",
    "sAMAccountName",
    "userPrincipalName",
    "uid",
    "userAccountControl",
    "msDS-User-Account-Control-Computed",
    "lockoutTime",
    "pwdLastSet",
    "accountExpires",
    "memberOf",
    "primaryGroupID",
    "objectSid",
]
# userAccountControl and msDS-User-Account-Control-Computed bits [doc: MS-ADTS 2.2.16].
UF_ACCOUNTDISABLE = 0x2
UF_LOCKOUT = 0x10
UF_DONT_EXPIRE_PASSWD = 0x10000
UF_PASSWORD_EXPIRED = 0x800000
NEVER = (0, 0x7FFFFFFFFFFFFFFF)
_EPOCH_1601 = _dt.datetime(1601, 1, 1, tzinfo=_dt.UTC)


def filetime(value: int | None) -> _dt.datetime | None:
    """AD's 100-ns intervals since 1601 as a time; None for 'never' (0 or the largest value)."""
    if value is None or value in NEVER or value < 0:
        return None
    try:
        return _EPOCH_1601 + _dt.timedelta(microseconds=value // 10)
    except OverflowError:
        return None


def user_filter(name: str, is_ad: bool) -> str:
    """The filter for a name typed as sAMAccountName, DOMAIN\\name or UPN."""
    if "\\" in name:
        name = name.partition("\\")[2]
    value = escape_filter(name)
    if is_ad:
        return (
            "(&(objectCategory=person)(objectClass=user)"
            f"(|(sAMAccountName={value})(userPrincipalName={value})))"
        )
    return f"(&(objectClass=person)(|(uid={value})(cn={value})(mail={value})))"


def state_of(entry: Entry, now: _dt.datetime, is_ad: bool) -> dict[str, str]:
    """enabled, locked, password, expires (words) and `state`, all of them in one line."""
    if not is_ad:
        unknown = _("not reported (not Active Directory)")
        return {
            "enabled": unknown,
            "locked": unknown,
            "password": unknown,
            "expires": unknown,
            "state": unknown,
        }
    uac = entry.number("userAccountControl") or 0
    computed = entry.number("msDS-User-Account-Control-Computed")
    if computed is None:  # not returned: the stored lockout time says it was locked once
        computed = UF_LOCKOUT if (entry.number("lockoutTime") or 0) > 0 else 0
    disabled = bool(uac & UF_ACCOUNTDISABLE)
    locked = bool(computed & UF_LOCKOUT)
    pwd_last_set = entry.number("pwdLastSet")
    if pwd_last_set == 0:
        password = _("must change at next logon")
    elif computed & UF_PASSWORD_EXPIRED:
        password = _("expired")
    elif uac & UF_DONT_EXPIRE_PASSWD:
        password = _("never expires")
    else:
        password = _("valid")
    until = filetime(entry.number("accountExpires"))
    if until is None:
        expires = _("never")
    elif until <= now:
        expires = _("expired on {date}").format(date=f"{until:%Y-%m-%d %H:%M} UTC")
    else:
        expires = _("on {date}").format(date=f"{until:%Y-%m-%d %H:%M} UTC")
    words = [_("disabled") if disabled else _("enabled")]
    if locked:
        words.append(_("locked out"))
    if pwd_last_set == 0:
        words.append(_("must change password at next logon"))
    elif computed & UF_PASSWORD_EXPIRED:
        words.append(_("password expired"))
    if until is not None:
        words.append(
            (_("account expired on {date}") if until <= now else _("account expires on {date}")).format(
                date=f"{until:%Y-%m-%d}"
            )
        )
    return {
        "enabled": _("no") if disabled else _("yes"),
        "locked": _("yes") if locked else _("no"),
        "password": password,
        "expires": expires,
        "state": ", ".join(words),
    }


def primary_group(bound: Bound, entry: Entry) -> str:
    """The name of the account's primary group (e.g. Domain Users), which memberOf never lists."""
    rid = entry.number("primaryGroupID")
    sids = entry.raw("objectSid")
    if rid is None or not sids or not bound.default_nc:
        return ""
    try:
        own = parse_sid(sids[0])[0]
    except BadDescriptor:
        return ""
    group_sid = own.rsplit("-", 1)[0] + f"-{rid}"
    value = "".join(f"\\{b:02x}" for b in sid_bytes(group_sid))
    _result, found = bound.session.search(
        bound.default_nc, f"(objectSid={value})", scope="SUBTREE", attributes=["cn"], size_limit=1,
        what=_("the read of the primary group"),
    )  # fmt: skip
    return found[0].text("cn") if found else ""


def row_of(bound: Bound, entry: Entry, now: _dt.datetime) -> dict[str, Any]:
    groups = sorted({rdn_value(dn) for dn in entry.texts("memberOf")}, key=str.lower)
    primary = primary_group(bound, entry) if bound.is_ad else ""
    if primary and primary not in groups:
        groups.append(primary)
    account = entry.text("sAMAccountName") or entry.text("uid")
    return {
        "account": account,
        "name": entry.text("displayName") or entry.text("cn"),
        "upn": entry.text("userPrincipalName"),
        "dn": entry.dn,
        **state_of(entry, now, bound.is_ad),
        "groups": ", ".join(groups),
        "group_dns": entry.texts("memberOf"),
    }


def find_user(ctx: OpContext) -> list[Outcome]:
    name = str(ctx.params["name"]).strip()
    base = str(ctx.settings["base_dn"])

    def use(bound: Bound, skipped: list[str]) -> Outcome:
        session = bound.session
        if is_dn(name) and "=" in name:
            result, entries = session.search(
                name, "(objectClass=*)", attributes=USER_ATTRS, what=_("the read of the account")
            )
            if result.code == 32:
                entries = []
            elif result.code:
                session.fail(
                    Category.PROTOCOL_ERROR,
                    _("{target} could not read {dn} ({said}).").format(
                        target=session.target, dn=name, said=result.said
                    ),
                    "search",
                )
        else:
            result, entries = session.search(
                base,
                user_filter(name, bound.is_ad),
                scope="SUBTREE",
                attributes=USER_ATTRS,
                size_limit=MAX_MATCHES,
                what=_("the search for the account"),
            )
            if result.code == 32:
                session.fail(
                    Category.INVALID_CONFIG,
                    _("The base DN {base} does not exist on {target}; correct it in the settings.").format(
                        base=base, target=session.target
                    ),
                    "search",
                )
            if result.code not in (0, 4):
                session.fail(
                    Category.PROTOCOL_ERROR,
                    _("{target} could not search for the account ({said}).").format(
                        target=session.target, said=result.said
                    ),
                    "search",
                )
        now = ctx.now()
        rows = [row_of(bound, e, now) for e in entries[:MAX_MATCHES]]
        if not rows:
            message = _("No account '{name}' under {base} on {target}.").format(
                name=name, base=base, target=session.target
            )
        elif len(rows) == 1:
            r = rows[0]
            message = _("{account} ({display}): {state}; groups: {groups}. DN: {dn}").format(
                account=r["account"] or r["dn"],
                display=r["name"] or "—",
                state=r["state"],
                groups=r["groups"] or _("none"),
                dn=r["dn"],
            )
        else:
            message = ngettext(
                "{n} account matches '{name}': {accounts}.",
                "{n} accounts match '{name}': {accounts}.",
                len(rows),
            ).format(
                n=len(rows), name=name, accounts="; ".join(f"{r['account']} ({r['state']})" for r in rows)
            )
        return Outcome(
            Category.OK,
            message,
            session.target,
            details={"server": session.target, "matches": len(rows)},
            data=rows,
            warnings=[_("Skipped: {reason}").format(reason=s) for s in skipped],
        )

    return [first_bound(ctx, use)]
