"""The slapd test peer (support/slapd.py) behaves as its docstring says, seen through ldap3;
and the failover helpers (a refused port, a silent peer) fail as a dead server does."""

from __future__ import annotations

import ssl

import ldap3  # type: ignore[import-untyped]
import pytest
from ldap3.core.exceptions import (  # type: ignore[import-untyped]
    LDAPSocketOpenError,
    LDAPSocketReceiveError,
    LDAPStartTLSError,
)

from support.https_peer import SilentPeer, closed_port
from support.ldap_client import bind_result, discard, open_error
from support.pki import TestCA


@pytest.mark.parametrize("mode", ["plain", "starttls", "ldaps"])
def test_users_bind_by_dn_over_plain_starttls_and_ldaps(slapd, mode):
    user = slapd.users["jdoe"]
    server = slapd.server(ldaps=mode == "ldaps")
    r = bind_result(server, user.dn, user.password, starttls=mode == "starttls")
    assert (r["result"], r["description"]) == (0, "success")


def test_admin_binds_and_sees_every_entry(slapd):
    c = ldap3.Connection(slapd.server(), slapd.admin_dn, slapd.admin_password, auto_bind=True)
    c.search(slapd.base_dn, "(objectClass=*)", attributes=["cn"])
    dns = {e.entry_dn for e in c.entries}
    c.unbind()
    assert {u.dn for u in slapd.users.values()} | {slapd.group_dn, slapd.base_dn} <= dns


def test_wrong_password_and_unknown_dn_give_49_without_ad_data(slapd):
    user = slapd.users["jdoe"]
    wrong = bind_result(slapd.server(), user.dn, "Not-The-Passw0rd!")
    unknown = bind_result(slapd.server(), f"uid=nobody,ou=people,{slapd.base_dn}", user.password)
    for r in (wrong, unknown):
        assert (r["result"], r["description"]) == (49, "invalidCredentials")
        assert "data " not in r["message"]


def test_upn_is_not_a_dn_here(slapd):
    r = bind_result(slapd.server(), "jdoe@example.invalid", slapd.users["jdoe"].password)
    assert (r["result"], r["description"]) == (34, "invalidDNSyntax")


def test_missing_base_dn_gives_32_and_root_dse_names_the_context(slapd):
    user = slapd.users["jdoe"]
    c = ldap3.Connection(slapd.server(), user.dn, user.password, auto_bind=True)
    assert c.search("", "(objectClass=*)", ldap3.BASE, attributes=["namingContexts"])
    assert c.entries[0].namingContexts.values == [slapd.base_dn]
    assert c.search(slapd.base_dn, "(objectClass=*)", size_limit=1)
    assert not c.search(f"ou=nowhere,{slapd.base_dn}", "(objectClass=*)", size_limit=1)
    assert (c.result["result"], c.result["description"]) == (32, "noSuchObject")
    c.unbind()


def test_anonymous_reads_the_root_dse_but_nothing_under_the_base(slapd):
    c = ldap3.Connection(slapd.server(), auto_bind=True)
    assert c.search("", "(objectClass=*)", ldap3.BASE, attributes=["namingContexts"])
    c.search(slapd.base_dn, "(objectClass=*)")
    assert c.entries == []
    c.unbind()


def test_users_read_entries_but_not_passwords(slapd):
    user = slapd.users["jdoe"]
    c = ldap3.Connection(slapd.server(), user.dn, user.password, auto_bind=True)
    c.search(slapd.users["asmith"].dn, "(objectClass=*)", ldap3.BASE, attributes=["cn", "userPassword"])
    attributes = c.response[0]["attributes"]
    assert attributes["cn"] == ["Ann Smith"]
    assert attributes["userPassword"] == []  # asked for, not given
    c.search(slapd.group_dn, "(objectClass=*)", ldap3.BASE, attributes=["member"])
    assert c.entries[0].member.values == [user.dn]
    c.unbind()


@pytest.mark.parametrize("ldaps", [False, True])
def test_tls_is_verified_with_the_test_ca_only(slapd, tmp_path, ldaps):
    other = TestCA(tmp_path / "other", name="Some Other CA")
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(other.cert_path))
    server = ldap3.Server(
        slapd.host,
        port=slapd.ldaps_port if ldaps else slapd.ldap_port,
        use_ssl=ldaps,
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=5,
    )
    exc = open_error(server, starttls=not ldaps)
    assert isinstance(exc, LDAPSocketOpenError if ldaps else LDAPStartTLSError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc)


def test_certificate_names_localhost(slapd):
    user = slapd.users["jdoe"]
    r = bind_result(slapd.server(ldaps=True, host="localhost"), user.dn, user.password)
    assert r["result"] == 0


def test_closed_port_refuses_at_once():
    server = ldap3.Server("127.0.0.1", port=closed_port(), get_info=ldap3.NONE, connect_timeout=5)
    exc = open_error(server)
    assert isinstance(exc, LDAPSocketOpenError)
    assert "refused" in str(exc).lower()


def test_silent_peer_accepts_and_never_answers():
    with SilentPeer() as peer:
        server = ldap3.Server("127.0.0.1", port=peer.port, get_info=ldap3.NONE, connect_timeout=5)
        c = ldap3.Connection(server, "cn=x", "y", receive_timeout=1)  # whole seconds only
        c.open()  # TCP connects...
        try:
            with pytest.raises(LDAPSocketReceiveError):
                c.bind()  # ...and the bind answer never comes
        finally:
            discard(c)
