"""The Active Directory check through the real stack (ldap3 over xdrconf's sockets, ssl,
the keyring) against a real Samba AD DC and a real OpenLDAP slapd on loopback: every bind
state, LDAPS, StartTLS and the Global Catalog, Samba's refusal of simple binds without
encryption, a missing base DN, host-name and pin checks, failover, and the rights for the
three response actions. After every check, failed or not, no connection is left open at
the DC (the relays count them)."""

from __future__ import annotations

import threading

import pytest

from support.ad import check, configure, configure_dc, configure_slapd, one
from support.https_peer import SilentPeer, closed_port
from support.samba_dc import WRONG_PASSWORD
from xdrconf.core.engine import run_operation
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit

pytestmark = pytest.mark.slow  # the session's Samba DC (provisioned once, 5-10 s)


# ---- binds ------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["upn", "dn", "nt"])
def test_a_good_account_connects_in_every_name_form(ws, samba_dc, form):
    tid = configure_dc(ws, samba_dc, form=form)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.OK, r.message
    assert r.target == f"localhost:{samba_dc.ports.ldaps}"
    assert f"Connected to dc1.xdrtest.local (localhost:{samba_dc.ports.ldaps}) over LDAPS" in r.message
    assert f"the base DN {samba_dc.base_dn} exists" in r.message
    assert r.details["active_directory"] is True
    assert r.details["tls"].startswith("TLSv1.")


BIND_WORDS = {
    "533": "the account is disabled (data 533); enable it in Active Directory",
    "775": "the account is locked out (data 775)",
    "701": "the account has expired (data 701)",
    "773": "the account must change its password at next logon (data 773)",
    "532": "the account's password has expired (data 532)",
    "530": "the account may not log on at this time (logon hours, data 530)",
    "531": "the account may not log on from this computer (Log On To workstations, data 531)",
}


@pytest.mark.parametrize("who", ["dave", "lena", "eric", "mia", "pete", "hank", "wendy"])
def test_each_account_state_has_its_own_words(ws, samba_dc, who):
    account = samba_dc.users[who]
    tid = configure_dc(ws, samba_dc, who)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.AUTH_FAILED, r.message
    assert f"refused the bind as {account.upn}: {BIND_WORDS[account.bind_data or '']}" in r.message
    assert r.details["step"] == "bind"


@pytest.mark.parametrize("user", ["alice@xdrtest.local", "nobody@xdrtest.local", "XDRTEST\\nobody"])
def test_a_wrong_password_or_unknown_account_is_52e(ws, samba_dc, user):
    password = WRONG_PASSWORD if user.startswith("alice") else samba_dc.users["alice"].password
    tid = configure(
        ws, servers=f"localhost:{samba_dc.ports.ldaps}", user=user, password=password,
        base_dn=samba_dc.base_dn, ca=samba_dc.ca_pem,
    )  # fmt: skip
    r = one(ws, tid, samba_dc)
    assert r.category is Category.AUTH_FAILED
    assert (
        "the password is wrong or the account does not exist (AD does not say which, data 52e)" in r.message
    )
    assert password not in r.message


@pytest.mark.parametrize("kind", ["ldap", "gc"])
def test_plain_ldap_to_a_dc_that_requires_encryption_is_forbidden(ws, samba_dc, kind):
    tid = configure_dc(ws, samba_dc, security="none", kind=kind)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.FORBIDDEN, r.message
    assert r.message.startswith("The domain controller requires encryption: choose LDAPS or StartTLS")
    assert "Transport encryption required" in r.message


# ---- transports ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("security", "kind", "words"),
    [
        ("ldaps", "ldaps", "LDAPS"),
        ("starttls", "ldap", "StartTLS"),
        ("ldaps", "gcs", "LDAPS"),
        ("starttls", "gc", "StartTLS"),
    ],
)
def test_ldaps_starttls_and_the_global_catalog(ws, samba_dc, security, kind, words):
    tid = configure_dc(ws, samba_dc, "helpdesk", security=security, kind=kind, base_dn=samba_dc.staff_ou)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.OK, r.message
    assert f"over {words} as helpdesk@xdrtest.local" in r.message
    assert r.details["rights"] == {"lock": "yes", "reset": "yes", "group": "yes"}


@pytest.mark.parametrize(("security", "port"), [("ldaps", 3269), ("starttls", 3268)])
def test_the_global_catalog_ports_are_named(ws, samba_dc, security, port):
    tid = configure_dc(ws, samba_dc, security=security, servers=f"{samba_dc.direct_ip}:{port}", pin=True)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.OK, r.message
    words = "LDAPS" if security == "ldaps" else "StartTLS"
    assert f"over {words} (Global Catalog) as alice@xdrtest.local" in r.message
    assert r.details["global_catalog"] is True


def test_a_dc_reached_by_its_address_fails_the_host_name_check_unless_pinned(ws, samba_dc):
    servers = f"{samba_dc.direct_ip}:636"
    tid = configure_dc(ws, samba_dc, servers=servers)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.TLS_HOSTNAME, r.message
    assert f"The certificate of {samba_dc.direct_ip}:636 is not issued for {samba_dc.direct_ip}" in r.message
    assert "reached by its IP address fails this check unless its certificate names that address" in r.message
    tid = configure_dc(ws, samba_dc, servers=servers, pin=True, tenant="Pinned")
    r = one(ws, tid, samba_dc)
    assert r.category is Category.OK, r.message


def test_a_wrong_pin_stops_before_anything_is_sent(ws, samba_dc):
    tid = configure_dc(ws, samba_dc, tls_pin_sha256="ab" * 32)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.TLS_PIN_MISMATCH, r.message
    assert "nothing was sent" in r.message


def test_a_certificate_from_another_ca_is_untrusted(ws, samba_dc, tmp_path):
    from support.pki import TestCA

    other = TestCA(tmp_path / "other", name="Some Other CA")
    for security in ("ldaps", "starttls"):
        tid = configure_dc(ws, samba_dc, security=security, tenant=f"Other {security}")
        ws.update_integration(tid, IntegrationEdit("ad", values={"tls_ca": other.cert_pem}))
        r = one(ws, tid, samba_dc)
        assert r.category is Category.TLS_UNTRUSTED, r.message
        assert "usually the domain's own CA" in r.message


def test_ldaps_on_the_plain_port_says_which_port(ws, samba_dc):
    tid = configure(
        ws, servers=f"localhost:{samba_dc.ports.ldap}", user=samba_dc.users["alice"].upn,
        password=samba_dc.users["alice"].password, base_dn=samba_dc.base_dn, ca=samba_dc.ca_pem,
    )  # fmt: skip
    r = one(ws, tid, samba_dc)
    assert r.category in (Category.PROTOCOL_ERROR, Category.UNREACHABLE, Category.TIMEOUT), r.message
    assert "LDAPS (636, or 3269 for the Global Catalog); on 389 or 3268 choose StartTLS" in r.message


# ---- the base DN ----------------------------------------------------------------------------------
def test_a_missing_base_dn_is_named_and_the_domains_offered(ws, samba_dc):
    missing = f"OU=Nowhere,{samba_dc.base_dn}"
    tid = configure_dc(ws, samba_dc, base_dn=missing)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.INVALID_CONFIG, r.message
    assert f"The base DN {missing} does not exist on localhost:{samba_dc.ports.ldaps}." in r.message
    assert f"(defaultNamingContext) is {samba_dc.base_dn}: use it" in r.message
    assert r.details["default_naming_context"] == samba_dc.base_dn


# ---- failover ---------------------------------------------------------------------------------------
def test_each_server_has_its_result_in_order(ws, samba_dc):
    refused = closed_port()
    with SilentPeer() as silent:
        servers = f"127.0.0.1:{refused}, 127.0.0.1:{silent.port}, localhost:{samba_dc.ports.ldaps}"
        tid = configure_dc(ws, samba_dc, servers=servers, timeout="1")
        results = check(ws, tid, samba_dc)
    assert [r.target for r in results] == [
        f"127.0.0.1:{refused}",
        f"127.0.0.1:{silent.port}",
        f"localhost:{samba_dc.ports.ldaps}",
    ]
    assert [r.category for r in results] == [Category.UNREACHABLE, Category.TIMEOUT, Category.OK]
    assert f"refused the connection: nothing listens on port {refused}" in results[0].message
    assert "did not complete the TLS handshake within 1 s" in results[1].message


# ---- rights ------------------------------------------------------------------------------------------
RIGHTS = {
    "helpdesk": {"lock": "yes", "reset": "yes", "group": "yes"},
    "pwreset": {"lock": "no", "reset": "yes", "group": "no"},
    "reader": {"lock": "no", "reset": "no", "group": "no"},
    "Administrator": {"lock": "yes", "reset": "yes", "group": "yes"},
}


@pytest.mark.parametrize("who", list(RIGHTS))
def test_rights_for_the_response_actions(ws, samba_dc, who):
    tid = configure_dc(ws, samba_dc, who, base_dn=samba_dc.staff_ou)
    r = one(ws, tid, samba_dc)
    assert r.category is Category.OK, r.message
    assert r.details["rights"] == RIGHTS[who]
    expected_warnings = [a for a, state in RIGHTS[who].items() if state != "yes"]
    assert len(r.warnings) == len(expected_warnings), r.warnings
    if who == "helpdesk":
        assert "add users to security groups: yes, to 1 of 2 groups (Quarantine)" in r.message
    if who == "pwreset":
        assert "reset passwords: yes" in r.message
        assert any(w.startswith("This account may not lock accounts") for w in r.warnings)


def test_a_check_modifies_nothing(ws, samba_dc):
    alice = samba_dc.users["alice"]
    before = samba_dc.read(alice.dn, ["userAccountControl", "pwdLastSet", "memberOf", "whenChanged"])
    tid = configure_dc(ws, samba_dc, "Administrator", base_dn=samba_dc.staff_ou)
    assert one(ws, tid, samba_dc).ok
    assert samba_dc.read(alice.dn, ["userAccountControl", "pwdLastSet", "memberOf", "whenChanged"]) == before


# ---- slapd: a plain LDAP directory ---------------------------------------------------------------
def test_slapd_plain_ldap_bound_by_dn_is_ok_with_a_warning(ws, slapd):
    tid = configure_slapd(ws, slapd)
    r = one(ws, tid)
    assert r.category is Category.OK, r.message
    assert "over plain LDAP, not encrypted" in r.message
    assert r.warnings[0].startswith("The connection is not encrypted")
    assert r.details["active_directory"] is False
    assert r.details["rights"] == {"lock": "unknown", "reset": "unknown", "group": "unknown"}
    assert (
        "could not tell (the server does not report effective rights (it is not Active Directory))"
        in r.message
    )


@pytest.mark.parametrize("security", ["ldaps", "starttls"])
def test_a_cancelled_check_leaves_no_connection_open(ws, samba_dc, security):
    with SilentPeer() as silent:
        tid = configure_dc(ws, samba_dc, security=security, servers=f"127.0.0.1:{silent.port}", timeout="30")
        cancel = threading.Event()
        timer = threading.Timer(0.5, cancel.set)
        timer.start()
        [r] = run_operation(ws, tid, "ad", cancel=cancel)
        timer.join()
        assert r.category is Category.CANCELLED
        [held] = silent.held
        held.settimeout(20)  # well before the check's own 30-s timeout would close it
        while held.recv(65536):  # what the client sent (a ClientHello, a StartTLS request) …
            pass  # … then the end: a timeout here would mean the connection was left open
