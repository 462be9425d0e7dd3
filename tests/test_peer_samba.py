"""The Samba AD DC test peer (support/samba_dc.py) behaves as its docstring says, seen
through ldap3 alone: bind results per account state, TLS on every port, strong auth, base
DN, the accounts' attributes, effective rights, and the delegated rights really working."""

from __future__ import annotations

import hashlib
import re
import ssl
import uuid
import warnings

import ldap3  # type: ignore[import-untyped]
import pytest
from ldap3.core.exceptions import (  # type: ignore[import-untyped]
    LDAPInsufficientAccessRightsResult,
    LDAPSocketOpenError,
    LDAPStartTLSError,
)
from ldap3.protocol.microsoft import security_descriptor_control  # type: ignore[import-untyped]

from support.ldap_client import bind_result, discard, open_error, root_dse_ok
from support.pki import TestCA
from support.samba_dc import (
    BASE_DN,
    RESET_PASSWORD_RIGHT,
    STANDARD_PORTS,
    USERS,
    WRONG_PASSWORD,
    claim_address,
    start_dc,
)

pytestmark = pytest.mark.slow  # the session's DC: provisioning takes 4-10 s

AD_DIAGNOSTIC = re.compile(
    r"^80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data (\w+), v1db1$"
)
REFUSED = [a for a in USERS.values() if a.bind_data]


def data_code(result: dict) -> str | None:
    m = AD_DIAGNOSTIC.match(result["message"])
    return m.group(1) if m else None


def test_good_account_binds_by_upn_dn_and_domain_name(samba_dc):
    alice = samba_dc.users["alice"]
    assert alice.dn == f"CN=Alice Good,OU=Staff,{BASE_DN}"
    for name in (alice.upn, alice.dn, alice.nt_name):
        r = samba_dc.bind_result(name, alice.password)
        assert (r["result"], r["message"]) == (0, ""), name


@pytest.mark.parametrize("account", REFUSED, ids=lambda a: f"{a.sam}-{a.state}")
def test_each_account_state_gives_its_ad_diagnostic(samba_dc, account):
    r = samba_dc.bind_result(account.upn, account.password)
    assert (r["result"], r["description"]) == (49, "invalidCredentials")
    assert data_code(r) == account.bind_data


def test_wrong_password_unknown_account_and_bare_name_all_say_52e(samba_dc):
    alice = samba_dc.users["alice"]
    for user, password in [
        (alice.upn, WRONG_PASSWORD),
        (f"nobody@{samba_dc.dns_domain}", alice.password),
        (f"{samba_dc.domain}\\nobody", alice.password),
        ("alice", alice.password),
    ]:
        r = samba_dc.bind_result(user, password)
        assert (r["result"], data_code(r)) == (49, "52e"), user


def test_a_locked_account_says_775_whatever_the_password(samba_dc):
    lena = samba_dc.users["lena"]
    assert data_code(samba_dc.bind_result(lena.upn, WRONG_PASSWORD)) == "775"
    assert data_code(samba_dc.bind_result(lena.upn, lena.password)) == "775"


def test_other_states_check_the_password_first(samba_dc):
    for account in REFUSED:
        if account.state != "locked":
            assert data_code(samba_dc.bind_result(account.upn, WRONG_PASSWORD)) == "52e"


def test_wrong_passwords_never_lock_anyone_but_lena(samba_dc):
    t = samba_dc.new_user("t-nolock")
    for _ in range(6):
        assert data_code(samba_dc.bind_result(t.upn, WRONG_PASSWORD)) == "52e"
    assert samba_dc.bind_result(t.upn, t.password)["result"] == 0


@pytest.mark.parametrize("kind", ["ldap", "gc"])
def test_simple_bind_without_encryption_is_refused_with_8(samba_dc, kind):
    alice = samba_dc.users["alice"]
    for password in (alice.password, WRONG_PASSWORD):
        r = samba_dc.bind_result(alice.upn, password, kind)
        assert (r["result"], r["description"], r["message"]) == (
            8,
            "strongerAuthRequired",
            "BindSimple: Transport encryption required.",
        )


@pytest.mark.parametrize(
    ("kind", "starttls"), [("ldaps", False), ("gcs", False), ("ldap", True), ("gc", True)]
)
def test_tls_on_every_port_is_verified_with_the_test_ca(samba_dc, kind, starttls):
    alice = samba_dc.users["alice"]
    r = samba_dc.bind_result(alice.upn, alice.password, kind, starttls=starttls)
    assert r["result"] == 0


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_the_certificate_names_localhost_and_both_loopback_addresses(samba_dc, host):
    if host == "::1" and not samba_dc.ipv6:
        pytest.skip("no ::1 on this machine")
    alice = samba_dc.users["alice"]
    assert samba_dc.bind_result(alice.upn, alice.password, host=host)["result"] == 0


def test_the_direct_address_fails_hostname_verification_and_matches_the_pin(samba_dc):
    with warnings.catch_warnings():
        # ldap3 2.9.1 checks the host name after the handshake and drops the TLS socket
        # unclosed when it fails (core/tls.py wrap_socket): its ResourceWarning is ldap3's.
        warnings.simplefilter("ignore", ResourceWarning)
        exc = open_error(samba_dc.server("ldaps", direct=True))
    assert isinstance(exc, LDAPSocketOpenError)
    assert "hostname" in str(exc).lower() or "match" in str(exc).lower()
    unverified = ldap3.Tls(validate=ssl.CERT_NONE)
    c = ldap3.Connection(samba_dc.server("ldaps", direct=True, tls=unverified), receive_timeout=5)
    try:
        c.open()
        der = c.socket.getpeercert(binary_form=True)
    finally:
        discard(c)
    assert hashlib.sha256(der).hexdigest() == samba_dc.cert.sha256
    assert STANDARD_PORTS.ldaps == 636


@pytest.mark.parametrize("kind", ["ldaps", "ldap"])
def test_a_certificate_from_another_ca_is_untrusted(samba_dc, tmp_path, kind):
    other = TestCA(tmp_path / "other", name="Some Other CA")
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(other.cert_path))
    exc = open_error(samba_dc.server(kind, tls=tls), starttls=kind == "ldap")
    assert isinstance(exc, LDAPStartTLSError if kind == "ldap" else LDAPSocketOpenError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc)


def test_root_dse_names_the_domain_and_a_missing_base_dn_gives_32(samba_dc):
    with samba_dc.connection(samba_dc.users["reader"], typed=False) as c:
        c.search(
            "",
            "(objectClass=*)",
            ldap3.BASE,
            attributes=["defaultNamingContext", "dnsHostName", "isGlobalCatalogReady"],
        )
        root = c.response[0]["attributes"]
        assert root["defaultNamingContext"] == [BASE_DN]
        assert root["dnsHostName"] == [samba_dc.dns_host_name] == ["dc1.xdrtest.local"]
        assert root["isGlobalCatalogReady"] == ["TRUE"]
        assert c.search(BASE_DN, "(objectClass=*)", size_limit=1)
        c.raise_exceptions = False
        assert not c.search(f"OU=Nowhere,{BASE_DN}", "(objectClass=*)", size_limit=1)
        assert (c.result["result"], c.result["description"]) == (32, "noSuchObject")


def test_the_global_catalog_finds_an_account_by_upn(samba_dc):
    alice = samba_dc.users["alice"]
    c = ldap3.Connection(samba_dc.server("gcs"), alice.upn, alice.password, auto_bind=True)
    c.search("", f"(userPrincipalName={alice.upn})", attributes=["sAMAccountName"])
    assert [(e.entry_dn, e.sAMAccountName.value) for e in c.entries] == [(alice.dn, "alice")]
    discard(c)


def test_the_accounts_have_the_documented_attributes(samba_dc):
    attrs = [
        "sAMAccountName",
        "userPrincipalName",
        "memberOf",
        "userAccountControl",
        "msDS-User-Account-Control-Computed",
        "pwdLastSet",
        "lockoutTime",
    ]
    with samba_dc.connection(samba_dc.users["reader"]) as c:
        c.search(BASE_DN, "(&(objectClass=user)(objectCategory=person))", attributes=attrs)
        found = {e["attributes"]["sAMAccountName"]: e for e in c.response if "dn" in e}
    for a in samba_dc.users.values():
        entry = found[a.sam]
        assert (entry["dn"], entry["attributes"]["userPrincipalName"]) == (a.dn, a.upn)
        groups = {g.dn for g in samba_dc.groups.values() if a.sam in g.members}
        assert set(entry["attributes"]["memberOf"]) == groups
    uac = {s: found[s]["attributes"]["userAccountControl"] for s in found}
    computed = {s: found[s]["attributes"]["msDS-User-Account-Control-Computed"] for s in found}
    assert uac["dave"] & 0x2 and not uac["alice"] & 0x2  # ACCOUNTDISABLE
    assert computed["lena"] & 0x10 and not computed["alice"] & 0x10  # LOCKOUT
    assert computed["pete"] & 0x800000  # PASSWORD_EXPIRED
    assert computed["mia"] & 0x800000  # pwdLastSet 0 counts as expired too
    assert found["mia"]["attributes"]["pwdLastSet"].year == 1601


# allowedAttributesEffective, as observed (and recorded in the docstring).
RIGHTS_TO_LOOK_AT = {"userAccountControl", "lockoutTime", "pwdLastSet", "unicodePwd", "member"}
EFFECTIVE = [
    ("helpdesk", "alice", {"userAccountControl", "lockoutTime", "pwdLastSet"}, 3),
    ("helpdesk", "Quarantine", {"member"}, 1),
    ("helpdesk", "Finance", set(), 0),
    ("pwreset", "alice", set(), 0),
    ("pwreset", "Quarantine", set(), 0),
    ("reader", "alice", set(), 0),
    ("reader", "Quarantine", set(), 0),
    ("alice", "alice", set(), 71),
    ("Administrator", "alice", {"userAccountControl", "lockoutTime", "pwdLastSet", "unicodePwd"}, 279),
    ("Administrator", "Quarantine", {"member"}, 78),
]


@pytest.mark.parametrize(
    ("who", "target", "rights", "count"), EFFECTIVE, ids=[f"{w}-on-{t}" for w, t, _, _ in EFFECTIVE]
)
def test_samba_reports_effective_write_rights(samba_dc, who, target, rights, count):
    account = samba_dc.admin if who == "Administrator" else samba_dc.users[who]
    dn = samba_dc.groups[target].dn if target in samba_dc.groups else samba_dc.users[target].dn
    with samba_dc.connection(account) as c:
        c.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["allowedAttributesEffective"])
        allowed = set(c.response[0]["attributes"].get("allowedAttributesEffective") or [])
    assert allowed & RIGHTS_TO_LOOK_AT == rights
    assert len(allowed) == count


def test_the_reset_password_right_shows_only_in_the_security_descriptor(samba_dc):
    alice = samba_dc.users["alice"]
    sids = {}
    with samba_dc.connection(samba_dc.admin) as c:
        for sam in ("helpdesk", "pwreset", "reader"):
            c.search(samba_dc.users[sam].dn, "(objectClass=*)", ldap3.BASE, attributes=["objectSid"])
            sids[sam] = c.response[0]["raw_attributes"]["objectSid"][0]
    right = uuid.UUID(RESET_PASSWORD_RIGHT).bytes_le
    for sam in ("helpdesk", "pwreset", "reader"):
        with samba_dc.connection(samba_dc.users[sam]) as c:
            c.search(
                alice.dn,
                "(objectClass=*)",
                ldap3.BASE,
                attributes=["nTSecurityDescriptor"],
                controls=security_descriptor_control(sdflags=0x04),
            )  # the DACL only
            sd = c.response[0]["raw_attributes"]["nTSecurityDescriptor"][0]
        assert right in sd  # every account can read the DACL...
        assert sids["helpdesk"] in sd and sids["pwreset"] in sd  # ...and who holds the right
        assert sids["reader"] not in sd


def test_helpdesk_may_lock_reset_and_add_to_quarantine_not_to_finance(samba_dc):
    t = samba_dc.new_user("t-helpdesk")
    new_password = "Brand-New-Passw0rd!"
    with samba_dc.connection(samba_dc.users["helpdesk"]) as c:
        assert c.extend.microsoft.modify_password(t.dn, new_password)
        assert samba_dc.bind_result(t.upn, new_password)["result"] == 0
        # The previous password still binds for an hour after a reset (Samba's "old
        # password allowed period", 60 min, as Windows allows for network logons).
        assert samba_dc.bind_result(t.upn, t.password)["result"] == 0
        assert data_code(samba_dc.bind_result(t.upn, "Some-Other-Passw0rd!")) == "52e"
        assert c.modify(t.dn, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [514])]})
        assert data_code(samba_dc.bind_result(t.upn, new_password)) == "533"
        assert c.modify(samba_dc.groups["Quarantine"].dn, {"member": [(ldap3.MODIFY_ADD, [t.dn])]})
        with pytest.raises(LDAPInsufficientAccessRightsResult) as exc:
            c.modify(samba_dc.groups["Finance"].dn, {"member": [(ldap3.MODIFY_ADD, [t.dn])]})
        assert exc.value.result == 50
    assert t.dn in samba_dc.read(samba_dc.groups["Quarantine"].dn, ["member"])["member"]


@pytest.mark.parametrize("who", ["reader", "pwreset"])
def test_others_get_50_for_what_they_may_not_do(samba_dc, who):
    t = samba_dc.new_user(f"t-{who}")
    attempts = {
        "lock": lambda c: c.modify(t.dn, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [514])]}),
        "reset": lambda c: c.extend.microsoft.modify_password(t.dn, "Other-New-Passw0rd!"),
        "add": lambda c: c.modify(samba_dc.groups["Quarantine"].dn, {"member": [(ldap3.MODIFY_ADD, [t.dn])]}),
    }
    allowed = {"reader": set(), "pwreset": {"reset"}}[who]
    with samba_dc.connection(samba_dc.users[who]) as c:
        for action, attempt in attempts.items():
            if action in allowed:
                assert attempt(c)
            else:
                with pytest.raises(LDAPInsufficientAccessRightsResult) as exc:
                    attempt(c)
                assert exc.value.result == 50, action
    assert samba_dc.read(t.dn, ["userAccountControl"])["userAccountControl"] == 512


def test_the_relay_shows_when_a_connection_is_left_open(samba_dc):
    relay = samba_dc.relay("ldaps")
    assert relay.wait_idle()
    alice = samba_dc.users["alice"]
    c = ldap3.Connection(samba_dc.server("ldaps"), alice.upn, alice.password, auto_bind=True)
    assert relay.open_connections == 1
    c.unbind()
    assert relay.wait_idle()


def test_plain_ldap_works_on_the_dc_without_strong_auth(samba_dc_plain):
    dc = samba_dc_plain
    alice, dave = dc.users["alice"], dc.users["dave"]
    for kind in ("ldap", "gc"):
        assert dc.bind_result(alice.upn, alice.password, kind)["result"] == 0
        assert data_code(dc.bind_result(alice.upn, WRONG_PASSWORD, kind)) == "52e"
        assert data_code(dc.bind_result(dave.upn, dave.password, kind)) == "533"
    assert dc.bind_result(alice.upn, alice.password, "ldap", starttls=True)["result"] == 0
    assert data_code(dc.bind_result(dc.users["lena"].upn, WRONG_PASSWORD)) == "775"


def test_each_dc_and_each_session_has_an_address_of_its_own(samba_dc, samba_dc_plain):
    assert samba_dc.direct_ip != samba_dc_plain.direct_ip
    assert samba_dc.ports != samba_dc_plain.ports
    ip, lock = claim_address()  # what another test session would get now
    try:
        assert ip not in (samba_dc.direct_ip, samba_dc_plain.direct_ip)
    finally:
        lock.close()
    r = bind_result(samba_dc.server("ldap", direct=True), None, None)
    assert r["result"] == 0  # anonymous bind on the standard port at the direct address


def test_a_stopped_dc_is_gone_and_gives_its_address_back(samba_template, test_ca, tmp_path):
    dc = start_dc(tmp_path / "dc", samba_template.path, test_ca, strong_auth=True)
    assert dc.proc is not None
    proc, ip = dc.proc, dc.direct_ip
    assert 40_000 < dc.rss_kb() < 200_000
    lock = dc._lock
    assert lock is not None
    dc.stop()
    assert proc.poll() is not None  # interactive samba ended when its stdin closed
    assert root_dse_ok(ip, 389) is False
    assert lock.closed  # the flock on the address is gone with the file
