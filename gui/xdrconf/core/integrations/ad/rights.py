"""May the bound account perform XDR's three response actions through this connection —
lock an account, reset a password, add a user to a security group? Read-only: nothing is
tried, only what the domain controller reports.

- Lock (and unlock): write userAccountControl or lockoutTime on user objects. Add to a
  group: write `member` of a security group. AD reports the attributes the bound account
  may write on an object in the constructed attribute allowedAttributesEffective
  [doc: MS-ADTS 3.1.1.4.5.6; observed on Samba 4.17].
- Reset password is an extended right (User-Force-Change-Password), not a property write:
  allowedAttributesEffective never shows it. It is read from the object's DACL
  (nTSecurityDescriptor, DACL only through the SD-flags control 0x4), evaluated for the
  account's token: its own SID, its groups' SIDs (tokenGroups) and the well-known SIDs of an
  authenticated bind (sd.py).
The accounts looked at are the user objects under the base DN (up to USER_SAMPLE), except
the bound account itself, critical system objects (Administrator, Guest, krbtgt) and
accounts protected by AdminSDHolder (adminCount=1), whose rights AD resets on purpose; the
groups, the security groups under the base DN (up to GROUP_SAMPLE) except critical and
protected ones. Where the server reports none of this (not Active Directory), each action
is "could not tell"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...i18n import N_, _
from .directory import Bound, who_filter
from .ldap import Entry
from .names import escape_filter, is_dn, rdn_value, same_dn
from .sd import (
    RESET_PASSWORD,
    USER_CLASS,
    WELL_KNOWN_TOKEN_SIDS,
    BadDescriptor,
    control_access,
    parse_dacl,
    parse_sid,
)

if TYPE_CHECKING:
    from ...engine import OpContext
    from ...outcome import Outcome

USER_SAMPLE = 100
GROUP_SAMPLE = 200
SD_FLAGS_OID = "1.2.840.113556.1.4.801"
DACL_ONLY = 0x4
USERS_FILTER = "(&(objectCategory=person)(objectClass=user)(!(isCriticalSystemObject=TRUE))(!(adminCount=1)))"
SECURITY_GROUPS_FILTER = (
    "(&(objectClass=group)(groupType:1.2.840.113556.1.4.803:=2147483648)"
    "(!(isCriticalSystemObject=TRUE))(!(adminCount=1)))"
)
LOCK_ATTRS = ("useraccountcontrol", "lockouttime")
SPELLED = {"useraccountcontrol": "userAccountControl", "lockouttime": "lockoutTime"}

YES, PARTIAL, NO, UNKNOWN = "yes", "partial", "no", "unknown"
ACTIONS = ("lock", "reset", "group")


@dataclass
class Right:
    action: str  # lock, reset, group
    state: str  # yes, partial, no, unknown
    text: str  # what the result says
    warning: str = ""  # for every state but yes
    examples: list[str] = field(default_factory=list)


def _sd_control() -> Any:
    from ldap3.protocol.microsoft import security_descriptor_control  # type: ignore[import-untyped]

    return security_descriptor_control(sdflags=DACL_ONLY)[0]


def token_of(bound: Bound, username: str) -> tuple[str, list[str]] | None:
    """The bound account's DN and its token's SIDs (own, groups', well-known), or None
    when its entry or tokenGroups cannot be read."""
    session = bound.session
    found = who_filter(username)
    if found is None:
        dn = username
    else:
        base = bound.default_nc
        if not base:
            return None
        result, entries = session.search(
            base, found[1], scope="SUBTREE", size_limit=2, what=_("the search for the bound account")
        )
        if len(entries) != 1:
            return None
        dn = entries[0].dn
    result, entries = session.search(
        dn,
        "(objectClass=*)",
        attributes=["objectSid", "tokenGroups"],
        what=_("the read of the bound account's groups"),
    )
    if result.code or not entries:
        return None
    entry = entries[0]
    try:
        own = [parse_sid(v)[0] for v in entry.raw("objectSid")]
        groups = [parse_sid(v)[0] for v in entry.raw("tokenGroups")]
    except BadDescriptor:
        return None
    if not own:
        return None
    return entry.dn, [*own, *groups, *WELL_KNOWN_TOKEN_SIDS]


def _reset_on(entry: Entry, token: list[str] | None) -> bool | None:
    allowed = {a.decode("utf-8", "replace").lower() for a in entry.raw("allowedAttributesEffective")}
    if "unicodepwd" in allowed:
        return True
    sd = entry.raw("nTSecurityDescriptor")
    if not sd or token is None:
        return None
    try:
        dacl = parse_dacl(sd[0])
    except BadDescriptor:
        return None
    if dacl is None:
        return None
    return control_access(dacl, token, RESET_PASSWORD, USER_CLASS)


def _names(dns: list[str], limit: int = 3) -> str:
    shown = ", ".join(rdn_value(dn) for dn in dns[:limit])
    return shown + (", …" if len(dns) > limit else "")


def read_rights(bound: Bound, base_dn: str, username: str) -> list[Right]:
    if not bound.is_ad:
        why = _("the server does not report effective rights (it is not Active Directory)")
        return [_unknown(a, why) for a in ACTIONS]
    session = bound.session
    who = token_of(bound, username)
    own_dn, token = (who[0], who[1]) if who is not None else ("", None)
    result, users = session.search(
        base_dn,
        USERS_FILTER,
        scope="SUBTREE",
        attributes=["allowedAttributesEffective", "nTSecurityDescriptor"],
        controls=[_sd_control()],
        size_limit=USER_SAMPLE,
        page=USER_SAMPLE,
        what=_("the read of the rights on user accounts"),
    )
    users = [u for u in users if not (own_dn and same_dn(u.dn, own_dn))][:USER_SAMPLE]
    out: list[Right] = []
    if result.code not in (0, 4) or not users:
        why = (
            _("reading the user accounts under the base DN failed ({said})").format(said=result.said)
            if result.code not in (0, 4)
            else _("there is no user account under the base DN to read them on (other than this account)")
        )
        out += [_unknown("lock", why), _unknown("reset", why)]
    else:
        out.append(_lock(users))
        out.append(_reset(users, token, who is None))
    result, groups = session.search(
        base_dn,
        SECURITY_GROUPS_FILTER,
        scope="SUBTREE",
        attributes=["allowedAttributesEffective"],
        size_limit=GROUP_SAMPLE,
        page=GROUP_SAMPLE,
        what=_("the read of the rights on security groups"),
    )
    if result.code not in (0, 4):
        out.append(
            _unknown(
                "group",
                _("reading the security groups under the base DN failed ({said})").format(said=result.said),
            )
        )
    elif not groups:
        out.append(_unknown("group", _("there is no security group under the base DN to read it on")))
    else:
        out.append(_group(groups[:GROUP_SAMPLE]))
    return out


def _allowed(entry: Entry) -> set[str]:
    return {a.decode("utf-8", "replace").lower() for a in entry.raw("allowedAttributesEffective")}


def _lock(users: list[Entry]) -> Right:
    may = [u.dn for u in users if _allowed(u) & set(LOCK_ATTRS)]
    not_ = [u.dn for u in users if u.dn not in may]
    n = len(users)
    if not not_:
        return Right(
            "lock", YES, _("lock accounts: yes (on all {n} accounts read under the base DN)").format(n=n)
        )
    if not may:
        return Right(
            "lock",
            NO,
            _(
                "lock accounts: no (userAccountControl and lockoutTime are not writable on the {n} "
                "accounts read)"
            ).format(n=n),
            _(
                "This account may not lock accounts: it may write neither userAccountControl nor lockoutTime "
                "of the user accounts under the base DN; delegate that right to it in Active Directory."
            ),
            not_[:3],
        )
    return Right(
        "lock",
        PARTIAL,
        _("lock accounts: only on {k} of {n} accounts read under the base DN").format(k=len(may), n=n),
        _(
            "This account may lock only {k} of the {n} user accounts read under the base DN "
            "(not, e.g., {names}); "
            "delegate the right on the whole base DN in Active Directory."
        ).format(k=len(may), n=n, names=_names(not_)),
        not_[:3],
    )


def _reset(users: list[Entry], token: list[str] | None, no_token: bool) -> Right:
    answers = [(u.dn, _reset_on(u, token)) for u in users]
    yes = [dn for dn, a in answers if a is True]
    no = [dn for dn, a in answers if a is False]
    unknown = [dn for dn, a in answers if a is None]
    n = len(users)
    if len(unknown) == n:
        why = (
            _("this account's own entry or its groups (tokenGroups) could not be read")
            if no_token
            else _("the domain controller did not return the accounts' security descriptors")
        )
        return _unknown("reset", why)
    if len(yes) == n:
        return Right(
            "reset",
            YES,
            _("reset passwords: yes (the Reset Password right on all {n} accounts read)").format(n=n),
        )
    if not yes and not unknown:
        return Right(
            "reset",
            NO,
            _("reset passwords: no (no Reset Password right on the {n} accounts read)").format(n=n),
            _(
                "This account may not reset passwords: it does not hold the Reset Password right on the user "
                "accounts under the base DN; delegate it in Active Directory."
            ),
            no[:3],
        )
    return Right(
        "reset",
        PARTIAL,
        _("reset passwords: only on {k} of {n} accounts read under the base DN").format(k=len(yes), n=n),
        _(
            "This account may reset the passwords of only {k} of the {n} user accounts read "
            "under the base DN "
            "(not, e.g., {names}); delegate the Reset Password right on the whole base DN."
        ).format(k=len(yes), n=n, names=_names(no + unknown)),
        (no + unknown)[:3],
    )


def _group(groups: list[Entry]) -> Right:
    may = [g.dn for g in groups if "member" in _allowed(g)]
    n = len(groups)
    if may:
        return Right(
            "group",
            YES,
            _("add users to security groups: yes, to {k} of {n} groups ({names})").format(
                k=len(may), n=n, names=_names(may)
            ),
            examples=may[:3],
        )
    return Right(
        "group",
        NO,
        _(
            "add users to security groups: no (member is not writable on any of the {n} security groups)"
        ).format(n=n),
        _(
            "This account may not add users to any security group under the base DN: it may not write "
            "their member attribute; delegate that on the groups XDR uses (e.g. a quarantine group)."
        ),
    )


def _unknown(action: str, why: str) -> Right:
    words = action_words(action)
    return Right(
        action,
        UNKNOWN,
        _("{action}: could not tell ({why})").format(action=words, why=why),
        _(
            "Could not tell whether this account may {action}: {why}; confirm its rights in Active Directory."
        ).format(action=words, why=why),
    )


# ---- the `rights` operation: may this account act on a given account and group? ------------
GROUP_ATTRS = ["allowedAttributesEffective", "sAMAccountName", "cn", "groupType"]
ANSWER_WORDS = {YES: N_("yes"), PARTIAL: N_("partly"), NO: N_("no"), UNKNOWN: N_("could not tell")}


def action_words(action: str) -> str:
    return {
        "lock": _("lock accounts"),
        "reset": _("reset passwords"),
        "group": _("add users to security groups"),
    }[action]


def _one_entry(
    bound: Bound, base: str, name: str, flt: str, attributes: list[str], what: str
) -> Entry | None:
    """The entry named by a DN (read directly) or found by `flt` under the base DN; None
    when there is none (several matches: refused, naming them)."""
    from ...outcome import Category

    session = bound.session
    controls = [_sd_control()] if "nTSecurityDescriptor" in attributes else None
    if is_dn(name) and "=" in name:
        result, entries = session.search(
            name, "(objectClass=*)", attributes=attributes, controls=controls, what=what
        )
        if result.code == 32:
            return None
    else:
        result, entries = session.search(
            base, flt, scope="SUBTREE", attributes=attributes, controls=controls, size_limit=2, what=what
        )
    if result.code not in (0, 4):
        session.fail(
            Category.PROTOCOL_ERROR,
            _("{target} could not read {name} ({said}).").format(
                target=session.target, name=name, said=result.said
            ),
            "search",
        )
    if len(entries) > 1:
        session.fail(
            Category.INVALID_CONFIG,
            _("'{name}' names more than one object under {base} ({dns}); enter its DN.").format(
                name=name, base=base, dns="; ".join(e.dn for e in entries[:2])
            ),
            "search",
        )
    return entries[0] if entries else None


def rights_on(bound: Bound, base: str, username: str, account: str, group: str) -> list[dict[str, str]]:
    """Rows (action, object, answer, why) for the account and the group typed; for what is
    not typed, the rights read on the objects under the base DN (as the check reads them)."""
    from .users import user_filter

    rows: list[dict[str, str]] = []

    def row(action: str, obj: str, state: str, why: str) -> None:
        rows.append(
            {
                "action": action_words(action),
                "object": obj,
                "answer": _(ANSWER_WORDS[state]),
                "state": state,
                "why": why,
                "key": action,
            }
        )

    if not bound.is_ad:
        why = _("the server does not report effective rights (it is not Active Directory)")
        where = {"lock": account or base, "reset": account or base, "group": group or base}
        for action in ACTIONS:
            row(action, where[action], UNKNOWN, why)
        return rows
    general = {r.action: r for r in read_rights(bound, base, username)} if not (account and group) else {}
    if account:
        entry = _one_entry(
            bound,
            base,
            account,
            user_filter(account, True),
            ["allowedAttributesEffective", "nTSecurityDescriptor", "sAMAccountName"],
            _("the read of the account's rights"),
        )
        if entry is None:
            why = _("there is no account '{name}' under {base}").format(name=account, base=base)
            row("lock", account, UNKNOWN, why)
            row("reset", account, UNKNOWN, why)
        else:
            shown = entry.text("sAMAccountName") or entry.dn
            writable = sorted(a for a in _allowed(entry) if a in LOCK_ATTRS)
            if writable:
                row(
                    "lock",
                    shown,
                    YES,
                    _("may write {attrs}").format(attrs=", ".join(SPELLED[a] for a in writable)),
                )
            else:
                row("lock", shown, NO, _("may write neither userAccountControl nor lockoutTime"))
            who = token_of(bound, username)
            answer = _reset_on(entry, who[1] if who is not None else None)
            if answer is None:
                row(
                    "reset",
                    shown,
                    UNKNOWN,
                    _("the account's security descriptor or this account's groups could not be read"),
                )
            else:
                row(
                    "reset",
                    shown,
                    YES if answer else NO,
                    _("holds the Reset Password right")
                    if answer
                    else _("does not hold the Reset Password right"),
                )
    else:
        for action in ("lock", "reset"):
            r = general[action]
            row(action, _("the accounts under the base DN"), r.state, r.text)
    if group:
        flt = f"(&(objectClass=group)(|(sAMAccountName={escape_filter(group)})(cn={escape_filter(group)})))"
        entry = _one_entry(bound, base, group, flt, GROUP_ATTRS, _("the read of the group's rights"))
        if entry is None:
            row(
                "group",
                group,
                UNKNOWN,
                _("there is no group '{name}' under {base}").format(name=group, base=base),
            )
        else:
            shown = entry.text("sAMAccountName") or entry.text("cn") or entry.dn
            if "member" in _allowed(entry):
                row("group", shown, YES, _("may write its member attribute"))
            else:
                row("group", shown, NO, _("may not write its member attribute"))
            kind = entry.text("groupType")
            if kind.lstrip("-").isdigit() and not int(kind) & 0x80000000:
                rows[-1]["why"] += "; " + _("it is a distribution group, not a security group")
    else:
        r = general["group"]
        row("group", _("the security groups under the base DN"), r.state, r.text)
    return rows


def rights(ctx: OpContext) -> list[Outcome]:
    """The `rights` operation: one outcome, the rows of rights_on, a warning for each action
    this account may not (or may not be known to) perform."""
    from ...outcome import Category, Outcome
    from .directory import first_bound

    s = ctx.settings
    base, username = str(s["base_dn"]), str(s["username"])
    account = str(ctx.params.get("account") or "").strip()
    group = str(ctx.params.get("group") or "").strip()

    def use(bound: Bound, skipped: list[str]) -> Outcome:
        rows = rights_on(bound, base, username, account, group)
        denied = [r for r in rows if r["state"] != YES]
        said = "; ".join(f"{r['action']} ({r['object']}): {r['answer']}" for r in rows)
        message = _("What {user} may do through {target}: {said}.").format(
            user=username, target=bound.session.target, said=said
        )
        warnings = [
            _("{user} may not {action} ({object}): {why}.").format(
                user=username, action=r["action"], object=r["object"], why=r["why"]
            )
            if r["state"] == NO
            else _("Could not tell whether {user} may {action} ({object}): {why}.").format(
                user=username, action=r["action"], object=r["object"], why=r["why"]
            )
            for r in denied
        ]
        return Outcome(
            Category.OK,
            message,
            bound.session.target,
            details={"server": bound.session.target, "rights": {r["key"]: r["state"] for r in rows}},
            data=[{k: v for k, v in r.items() if k != "key"} for r in rows],
            warnings=warnings + [_("Skipped: {reason}").format(reason=x) for x in skipped],
        )

    return [first_bound(ctx, use)]
