"""`ad find-user` against the real Samba DC: each account state, every name form, the
Global Catalog, a name that matches nothing, failover past servers that do not answer, and
the command line (`xdrconf ad find-user`, `xdrconf ad check`, `xdrconf ad --help`)."""

from __future__ import annotations

import json

import pytest

from support.ad import configure_dc
from support.https_peer import SilentPeer, closed_port
from xdrconf.core.engine import run_operation
from xdrconf.core.outcome import Category, Outcome

pytestmark = pytest.mark.slow


def find(ws, tid, name: str, dc=None) -> Outcome:
    [outcome] = run_operation(ws, tid, "ad", "find-user", {"name": name})
    if dc is not None:
        for kind in ("ldap", "ldaps", "gc", "gcs"):
            assert dc.relay(kind).wait_idle(), f"a connection to {kind} was left open"
    return outcome


STATES = {
    "alice": ("enabled", "no", "valid", "never"),
    "dave": ("disabled", "no", "valid", "never"),
    "lena": ("enabled, locked out", "yes", "valid", "never"),
    "mia": ("enabled, must change password at next logon", "no", "must change at next logon", "never"),
    "pete": ("enabled, password expired", "no", "expired", "never"),
    "hank": ("enabled", "no", "valid", "never"),
}


@pytest.mark.parametrize("sam", list(STATES))
def test_each_state(ws, samba_dc, sam):
    account = samba_dc.users[sam]
    tid = configure_dc(ws, samba_dc, "reader")
    r = find(ws, tid, sam, samba_dc)
    assert r.category is Category.OK, r.message
    [row] = r.data
    state, locked, password, expires = STATES[sam]
    assert (row["account"], row["name"], row["dn"], row["upn"]) == (sam, account.cn, account.dn, account.upn)
    assert (row["state"], row["locked"], row["password"], row["expires"]) == (
        state,
        locked,
        password,
        expires,
    )
    assert row["enabled"] == ("no" if sam == "dave" else "yes")
    groups = [g.cn for g in samba_dc.groups.values() if sam in g.members]
    assert row["groups"] == ", ".join([*groups, "Domain Users"])
    assert r.message.startswith(f"{sam} ({account.cn}): {state}; groups: ")
    assert r.message.endswith(f"DN: {account.dn}")
    assert r.warnings == []


def test_an_expired_account_says_when(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "reader")
    r = find(ws, tid, "eric", samba_dc)
    [row] = r.data
    assert row["expires"].startswith("expired on ")
    assert row["state"].startswith("enabled, account expired on ")
    assert row["groups"] == "Finance, Domain Users"


@pytest.mark.parametrize("form", ["upn", "dn", "nt"])
def test_every_name_form_finds_the_account(ws, samba_dc, form):
    alice = samba_dc.users["alice"]
    name = {"upn": alice.upn, "dn": alice.dn, "nt": alice.nt_name}[form]
    tid = configure_dc(ws, samba_dc, "helpdesk", form="nt")
    r = find(ws, tid, name, samba_dc)
    assert [row["dn"] for row in r.data] == [alice.dn], r.message


def test_the_global_catalog_finds_it_too(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "reader", kind="gcs")
    r = find(ws, tid, "alice@xdrtest.local", samba_dc)
    assert [row["account"] for row in r.data] == ["alice"], r.message


def test_no_such_account(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, "reader", base_dn=samba_dc.staff_ou)
    for name in ("nobody", f"CN=Nobody,{samba_dc.staff_ou}", "al*"):
        r = find(ws, tid, name, samba_dc)
        assert r.category is Category.OK, r.message
        assert r.data == []
        assert (
            r.message == f"No account '{name}' under {samba_dc.staff_ou} on localhost:{samba_dc.ports.ldaps}."
        )


def test_failover_to_the_first_server_that_answers(ws, samba_dc):
    refused = closed_port()
    with SilentPeer() as silent:
        servers = f"127.0.0.1:{refused}, 127.0.0.1:{silent.port}, localhost:{samba_dc.ports.ldaps}"
        tid = configure_dc(ws, samba_dc, "reader", servers=servers, timeout="1")
        r = find(ws, tid, "dave", samba_dc)
    assert r.category is Category.OK, r.message
    assert r.target == f"localhost:{samba_dc.ports.ldaps}"
    assert [row["account"] for row in r.data] == ["dave"]
    assert len(r.warnings) == 2
    assert r.warnings[0].startswith(f"Skipped: 127.0.0.1:{refused} refused the connection")
    assert r.warnings[1].startswith(f"Skipped: 127.0.0.1:{silent.port} accepted the connection")


def test_a_refused_bind_is_not_failed_over(ws, samba_dc):
    servers = f"localhost:{samba_dc.ports.ldaps}, 127.0.0.1:{samba_dc.ports.ldaps}"
    tid = configure_dc(ws, samba_dc, "dave", servers=servers)
    r = find(ws, tid, "alice", samba_dc)
    assert r.category is Category.AUTH_FAILED
    assert r.message.startswith(f"localhost:{samba_dc.ports.ldaps} refused the bind as dave@xdrtest.local")
    assert samba_dc.relay("ldaps").wait_idle()


def test_no_server_answers(ws, samba_dc):
    a, b = closed_port(), closed_port()
    tid = configure_dc(ws, samba_dc, "reader", servers=f"127.0.0.1:{a}, 127.0.0.1:{b}")
    r = find(ws, tid, "alice")
    assert r.category is Category.UNREACHABLE
    assert r.message.startswith(f"No server of 127.0.0.1:{a}, 127.0.0.1:{b} could be used: ")


# ---- the command line ---------------------------------------------------------------------------
def test_help_lists_the_fields_and_find_user(capsys):
    from xdrconf.cli.main import run

    with pytest.raises(SystemExit) as done:
        run(["ad", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "servers — Domain controllers (hosts; required)" in text
    assert (
        "security — Connection security (choice; required; one of: ldaps, starttls, none; default: ldaps)"
        in text
    )
    assert "password — Password (secret; required; secret: --secret password or password=@FILE)" in text
    assert "xdrconf ad find-user TENANT name=… [--json] [--timeout S]" in text


def test_command_line(cli, samba_dc, tmp_path):
    reader = samba_dc.users["reader"]
    ca = tmp_path / "ca.pem"
    ca.write_text(samba_dc.ca_pem)
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "integration", "set", "Acme", "ad", f"servers=localhost:{samba_dc.ports.ldaps}", "security=ldaps",
        f"username={reader.upn}", f"base_dn={samba_dc.base_dn}", f"tls_ca=@{ca}", "--secret", "password",
        stdin=reader.password + "\n",
    )  # fmt: skip
    assert r.code == 0, r
    assert cli("integration", "enable", "Acme", "ad").code == 0
    r = cli("ad", "find-user", "Acme", "lena")
    assert r.code == 0, r
    assert "lena (Lena Locked): enabled, locked out; groups: Domain Users." in r.out
    assert "ACCOUNT  DISPLAY NAME  STATE" in r.out
    r = cli("ad", "find-user", "Acme", "name=dave", "--json")
    [out] = json.loads(r.out)
    assert out["data"][0]["state"] == "disabled"
    assert out["operation"] == "find-user"
    r = cli("ad", "check", "Acme")
    assert r.code == 0, r  # ok with warnings: the reader may do none of the three actions
    assert r.out.count("  warning: This account may not") == 3
    assert reader.password not in r.out + r.err
    r = cli("ad", "find-user", "Acme")
    assert r.code == 2
    assert samba_dc.relay("ldaps").wait_idle()
