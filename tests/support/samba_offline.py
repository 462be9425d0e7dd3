"""Fills a freshly provisioned Samba AD database with the test accounts, offline.

Run by tests/support/samba_dc.py with the interpreter that ships Samba's Python bindings
(the one samba-tool runs on, /usr/bin/python3), never imported by the tests:

    /usr/bin/python3 samba_offline.py <smb.conf> < spec.json

The spec (JSON, built by samba_dc.py, which documents what each account is for):
    {"ou": "Staff",
    {"admin_password": "...",
     "ou": "Staff",
     "users": [{"sam", "given", "sn", "password", "ou": bool, "must_change": bool,
                "disabled": bool, "expired": bool, "no_logon_hours": bool,
                "workstations": str | null, "password_age_days": int}],
     "groups": [{"name", "members": [sam, ...]}],
     "psos": [{"name", "precedence", "lockout_threshold", "applies_to": [sam]}],
     "aces": [{"dn": "<DN with {base}>", "sddl": "<ACE with {sid:<sam>}>"}]}
Accounts with "ou": false go to CN=Users (the service accounts), the others to OU=<ou>.
"password_age_days" > 0 back-dates pwdLastSet (AD allows only 0 or -1 over LDAP; offline the
password_hash module is bypassed for that one change). Prints one JSON line:
{"base": ..., "sids": {sam: sid}, "dns": {sam: dn}}.
"""

from __future__ import annotations

import json
import re
import sys
import time

import ldb  # type: ignore[import-not-found]
from samba import dsdb  # type: ignore[import-not-found]
from samba.auth import system_session  # type: ignore[import-not-found]
from samba.param import LoadParm  # type: ignore[import-not-found]
from samba.samdb import SamDB  # type: ignore[import-not-found]
from samba.sd_utils import SDUtils  # type: ignore[import-not-found]

TICKS = 10_000_000  # AD intervals are in 100 ns units
NT_EPOCH_OFFSET = 11_644_473_600  # seconds from 1601-01-01 to 1970-01-01


def main() -> None:
    lp = LoadParm()
    lp.load(sys.argv[1])
    spec = json.load(sys.stdin)
    db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
    base = str(db.domain_dn())
    db.setpassword("(sAMAccountName=Administrator)", spec["admin_password"])
    ou_rdn = f"OU={spec['ou']}"
    db.add({"dn": f"{ou_rdn},{base}", "objectClass": "organizationalUnit"})
    sids: dict[str, str] = {}
    dns: dict[str, str] = {}

    def add_user(u: dict) -> None:
        db.newuser(
            u["sam"],
            u["password"],
            givenname=u["given"],
            surname=u["sn"],
            userou=ou_rdn if u["ou"] else None,
            useusernameascn=None,  # the CN is the display name: "Alice Good"
            force_password_change_at_next_login_req=u["must_change"],
        )
        res = db.search(base, ldb.SCOPE_SUBTREE, f"(sAMAccountName={u['sam']})", ["objectSid"])
        dns[u["sam"]] = str(res[0].dn)
        sids[u["sam"]] = str(db.schema_format_value("objectSid", res[0]["objectSid"][0]), "ascii")

    def fill(template: str) -> str:
        return re.sub(r"\{sid:([^}]+)\}", lambda m: sids[m.group(1)], template).replace("{base}", base)

    # Service accounts first: the delegated rights on the OU name them, and the OU's
    # inheritable entries are then in place before the target accounts are created.
    users = sorted(spec["users"], key=lambda u: u["ou"])
    for u in users:
        if not u["ou"]:
            add_user(u)
    sd = SDUtils(db)
    pending = list(spec["aces"])

    def apply_aces() -> None:
        """Adds each pending access entry whose object exists by now."""
        for ace in list(pending):
            target = fill(ace["dn"])
            if db.search(base, ldb.SCOPE_SUBTREE, f"(distinguishedName={target})", ["dn"]):
                sd.dacl_add_ace(target, fill(ace["sddl"]))
                pending.remove(ace)

    apply_aces()
    for u in users:
        if u["ou"]:
            add_user(u)
    for g in spec["groups"]:
        db.newgroup(g["name"], groupou=ou_rdn)
        if g["members"]:
            db.add_remove_group_members(g["name"], g["members"], add_members_operation=True)
    for u in spec["users"]:
        m = ldb.Message(ldb.Dn(db, dns[u["sam"]]))
        if u["disabled"]:
            db.disable_account(f"(sAMAccountName={u['sam']})")
        if u["expired"]:
            past = (int(time.time()) - 86400 + NT_EPOCH_OFFSET) * TICKS
            m["accountExpires"] = ldb.MessageElement(str(past), ldb.FLAG_MOD_REPLACE, "accountExpires")
        if u["no_logon_hours"]:
            m["logonHours"] = ldb.MessageElement(bytes(21), ldb.FLAG_MOD_REPLACE, "logonHours")
        if u["workstations"]:
            m["userWorkstations"] = ldb.MessageElement(
                u["workstations"], ldb.FLAG_MOD_REPLACE, "userWorkstations"
            )
        if len(m) > 0:
            db.modify(m)
        if u["password_age_days"]:
            set_at = int(time.time()) - u["password_age_days"] * 86400
            m = ldb.Message(ldb.Dn(db, dns[u["sam"]]))
            m["pwdLastSet"] = ldb.MessageElement(
                str((set_at + NT_EPOCH_OFFSET) * TICKS), ldb.FLAG_MOD_REPLACE, "pwdLastSet"
            )
            db.modify(m, controls=[f"local_oid:{dsdb.DSDB_CONTROL_BYPASS_PASSWORD_HASH_OID}:0"])
    container = f"CN=Password Settings Container,CN=System,{base}"
    for p in spec["psos"]:
        window = str(-2 * 3600 * TICKS)
        db.add(
            {
                "dn": f"CN={p['name']},{container}",
                "objectClass": "msDS-PasswordSettings",
                "msDS-PasswordSettingsPrecedence": str(p["precedence"]),
                "msDS-PasswordReversibleEncryptionEnabled": "FALSE",
                "msDS-PasswordHistoryLength": "0",
                "msDS-PasswordComplexityEnabled": "TRUE",
                "msDS-MinimumPasswordLength": "7",
                "msDS-MinimumPasswordAge": "0",
                "msDS-MaximumPasswordAge": str(-42 * 86400 * TICKS),
                "msDS-LockoutThreshold": str(p["lockout_threshold"]),
                "msDS-LockoutObservationWindow": window,
                "msDS-LockoutDuration": window,
                "msDS-PSOAppliesTo": [dns[s] for s in p["applies_to"]],
            }
        )
    apply_aces()
    if pending:
        raise SystemExit(f"no object for these access entries: {pending}")
    print(json.dumps({"base": base, "sids": sids, "dns": dns}))


if __name__ == "__main__":
    main()
