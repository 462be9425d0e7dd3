"""`ad rights` against the real Samba DC and slapd: may the connection's account lock a
given account, reset its password and add users to a given group — read from what the DC
reports (allowedAttributesEffective, the Reset Password right in the DACL), nothing
changed; an account or group not there; a directory that is not AD; the command line."""

from __future__ import annotations

import json
from typing import Any

from support.ad import configure_dc, configure_slapd
from xdrconf.core.engine import run_operation
from xdrconf.core.outcome import Category, Outcome


def rights(ws: Any, tid: str, dc: Any = None, **params: str) -> Outcome:
    [outcome] = run_operation(ws, tid, "ad", "rights", params)
    if dc is not None:
        assert dc.relay("ldaps").wait_idle(), "a connection was left open"
    return outcome


def answers(outcome: Outcome) -> dict[str, tuple[str, str]]:
    return {str(r["action"]): (str(r["object"]), str(r["state"])) for r in outcome.data}


def test_helpdesk_may_do_all_three_on_alice_and_quarantine(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "helpdesk")
    r = rights(ws, tid, samba_dc, account="alice", group="Quarantine")
    assert r.category is Category.OK, r.message
    assert answers(r) == {
        "lock accounts": ("alice", "yes"),
        "reset passwords": ("alice", "yes"),
        "add users to security groups": ("Quarantine", "yes"),
    }
    assert r.warnings == []
    assert r.details["rights"] == {"lock": "yes", "reset": "yes", "group": "yes"}
    assert (
        r.data[0]["why"] == "may write lockoutTime, userAccountControl"
        and r.data[1]["why"] == "holds the Reset Password right"
    )


def test_helpdesk_may_not_add_to_finance(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "helpdesk")
    r = rights(ws, tid, samba_dc, group="CN=Finance," + samba_dc.staff_ou)
    assert r.details["rights"]["group"] == "no"
    # The accounts under the base DN (the domain): the delegation is on OU=Staff only.
    assert r.details["rights"]["lock"] == "partial"
    assert answers(r)["lock accounts"] == ("the accounts under the base DN", "partial")
    assert r.data[0]["answer"] == "partly"
    assert r.warnings[2].startswith(
        f"{samba_dc.users['helpdesk'].upn} may not add users to security groups (Finance)"
    )


def test_pwreset_may_only_reset(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "pwreset")
    r = rights(ws, tid, samba_dc, account=samba_dc.users["alice"].dn, group="Quarantine")
    assert r.details["rights"] == {"lock": "no", "reset": "yes", "group": "no"}
    assert len(r.warnings) == 2
    assert "may write neither userAccountControl nor lockoutTime" in r.warnings[0]


def test_reader_may_do_nothing_under_the_base_dn(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "reader")
    r = rights(ws, tid, samba_dc)
    assert r.details["rights"] == {"lock": "no", "reset": "no", "group": "no"}
    assert len(r.warnings) == 3
    assert r.message.startswith(f"What {samba_dc.users['reader'].upn} may do through localhost:")


def test_an_account_or_group_not_there_is_said(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "helpdesk")
    r = rights(ws, tid, samba_dc, account="nobody", group="Nogroup")
    assert r.details["rights"] == {"lock": "unknown", "reset": "unknown", "group": "unknown"}
    assert f"there is no account 'nobody' under {samba_dc.base_dn}" in r.warnings[0]
    assert "there is no group 'Nogroup'" in r.warnings[2]


def test_slapd_could_not_tell(ws, slapd):
    tid = configure_slapd(ws, slapd)
    r = rights(ws, tid, account="jdoe")
    assert r.category is Category.OK
    assert set(r.details["rights"].values()) == {"unknown"}
    assert "it is not Active Directory" in r.warnings[0]  # the account is not even looked up


def test_command_line(cli, ws, samba_dc):
    configure_dc(ws, samba_dc, "pwreset")
    r = cli("ad", "rights", "Acme", "account=alice", "group=Quarantine", "--json")
    assert r.code == 0, r
    [out] = json.loads(r.out)
    assert out["operation"] == "rights"
    assert [row["state"] for row in out["data"]] == ["no", "yes", "no"]
    r = cli("ad", "rights", "Acme", "account=alice")
    assert "RESPONSE ACTION" in r.out and "reset passwords" in r.out
    assert samba_dc.users["pwreset"].password not in r.out + r.err
