"""What the Active Directory settings accept, without a server: the list of servers (the
generic `hosts` field), the base DN, the bind name, the ports that go with the security
chosen, LDAP filter escaping; and the security descriptor parser (sd.py) on descriptors
built by hand, ACE by ACE, and on one read from the real Samba DC."""

from __future__ import annotations

import struct
import uuid

import pytest

from xdrconf.core import catalog
from xdrconf.core.catalog import ValidationContext
from xdrconf.core.errors import ValidationError
from xdrconf.core.fields import Field, host_entries
from xdrconf.core.integrations.ad import sd
from xdrconf.core.integrations.ad.names import escape_filter, parse_username, rdn_value, under

SPEC = catalog.spec_for("ad")


def problem(f: Field, text: str) -> str:
    with pytest.raises(ValidationError) as exc:
        f.parse(text)
    return exc.value.problem


# ---- servers ---------------------------------------------------------------------------------------
def test_servers_in_order_with_and_without_ports():
    f = SPEC.field("servers")
    value = f.parse(" dc1.acme.invalid, DC2.acme.invalid:3269;[::1]:636\n127.0.0.1 0:0:0:0:0:0:0:1 ")
    assert value == [
        {"host": "dc1.acme.invalid"},
        {"host": "dc2.acme.invalid", "port": 3269},
        {"host": "::1", "port": 636},
        {"host": "127.0.0.1"},
        {"host": "::1"},
    ]
    assert f.format(value) == "dc1.acme.invalid, dc2.acme.invalid:3269, [::1]:636, 127.0.0.1, [::1]"
    assert host_entries(value)[1] == ("dc2.acme.invalid", 3269)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is required"),
        ("dc1.acme.invalid, dc1.acme.invalid", "dc1.acme.invalid is listed twice"),
        (
            "ldaps://dc1.acme.invalid:636",
            "'ldaps://dc1.acme.invalid:636' is a URL: enter only host or host:port",
        ),
        ("dc1.acme.invalid:99999", "the port 99999 in 'dc1.acme.invalid:99999' is out of range"),
        ("dc_1.acme.invalid", "'dc_1.acme.invalid' is not a valid host name"),
    ],
)
def test_servers_refused(text, words):
    assert words in problem(SPEC.field("servers"), text)


@pytest.mark.parametrize(
    ("security", "servers", "words"),
    [
        ("ldaps", "dc1.acme.invalid:389", "port 389 is plain LDAP: with LDAPS use 636"),
        ("ldaps", "dc1.acme.invalid:3268", "port 3268 is plain LDAP"),
        ("starttls", "dc1.acme.invalid:636", "port 636 is LDAPS (TLS from the first byte)"),
        ("none", "dc1.acme.invalid:3269", "port 3269 is LDAPS"),
    ],
)
def test_a_port_that_does_not_go_with_the_security_is_refused(security, servers, words):
    settings = {"security": security, "servers": SPEC.field("servers").parse(servers)}
    assert SPEC.validate is not None
    with pytest.raises(ValidationError) as exc:
        SPEC.validate(settings, ValidationContext(is_root=False))
    assert words in str(exc.value)
    for fine in ("dc1.acme.invalid", "dc1.acme.invalid:10636"):
        SPEC.validate(
            {**settings, "servers": SPEC.field("servers").parse(fine)}, ValidationContext(is_root=False)
        )


def test_default_ports_and_the_target():
    from xdrconf.core.integrations.ad.directory import servers_of

    servers = SPEC.field("servers").parse("dc1.acme.invalid, [::1], dc2.acme.invalid:3268")
    assert [s.target for s in servers_of({"servers": servers, "security": "ldaps"})] == [
        "dc1.acme.invalid:636",
        "[::1]:636",
        "dc2.acme.invalid:3268",
    ]
    assert [s.port for s in servers_of({"servers": servers, "security": "starttls"})] == [389, 389, 3268]
    assert SPEC.target_of({"servers": servers, "security": "none"}) == "dc1.acme.invalid:389"


# ---- base DN and account ----------------------------------------------------------------------------
def test_dns():
    f = SPEC.field("base_dn")
    assert f.parse(" DC=acme , DC=invalid ") == "DC=acme,DC=invalid"
    assert f.parse("OU=Sales\\, EU+L=Riga,DC=acme,DC=invalid") == "OU=Sales\\, EU+L=Riga,DC=acme,DC=invalid"
    assert f.parse("1.2.3=x,dc=acme") == "1.2.3=x,dc=acme"
    assert f.parse("CN=a\\2Cb,DC=acme") == "CN=a\\2Cb,DC=acme"
    assert rdn_value("CN=Sales\\, EU,DC=acme") == "Sales, EU"
    assert rdn_value("CN=a\\2Cb,DC=acme") == "a,b"
    assert under("cn=x,OU=Staff, DC=Acme", "ou=staff,dc=acme") and not under(
        "OU=Staff2,DC=acme", "OU=Staff,DC=acme"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("acme.invalid", "'acme.invalid' has no '=': each part of a DN is TYPE=value"),
        ("OU=,DC=acme", "'OU=' has no value after '='"),
        ("DC=acme,,DC=invalid", "has an empty part"),
        ("DC=acme,", "has an empty part"),
        ("O U=x,DC=acme", "'O U' in 'O U=x' is not an attribute type"),
        ("CN=a\\", "ends with a lone backslash"),
        ("CN=a\\q", "'\\q' in 'CN=a\\q' is not an escape"),
        ('CN="a",DC=acme', "has a quote mark"),
        ("OU=Staff DC=acme", "'OU=Staff DC=acme' has a second '=': a comma missing?"),
    ],
)
def test_dns_refused(text, words):
    assert words in problem(SPEC.field("base_dn"), text)


def test_bind_names():
    f = SPEC.field("username")
    assert f.parse(" svc-xdr@acme.invalid ") == "svc-xdr@acme.invalid"
    assert f.parse("ACME\\svc-xdr") == "ACME\\svc-xdr"
    assert f.parse("CN=Svc XDR, OU=Service,DC=acme") == "CN=Svc XDR,OU=Service,DC=acme"
    assert (
        parse_username("uid=jdoe,ou=people,dc=example,dc=org", "x") == "uid=jdoe,ou=people,dc=example,dc=org"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "svc-xdr",
            "'svc-xdr' is a bare account name, which Active Directory answers with 'invalid credentials' "
            "(52e) on a simple bind: write it as svc-xdr@your.domain (UPN), DOMAIN\\svc-xdr or as the "
            "account's DN",
        ),
        ("ACME\\", "'' after the backslash is not an account name"),
        ("ACME\\a\\b", "'a\\b' after the backslash is not an account name"),
        ("A CME\\svc", "'A CME' before the backslash is not a NetBIOS domain name"),
        ("@acme.invalid", "is not a user principal name"),
        ("svc xdr@acme.invalid", "is not a user principal name"),
    ],
)
def test_bind_names_refused(text, words):
    assert words in problem(SPEC.field("username"), text)


def test_filter_values_are_escaped():
    assert escape_filter("a*b(c)\\d\0") == "a\\2ab\\28c\\29\\5cd\\00"


# ---- security descriptors ------------------------------------------------------------------------
HELPDESK = "S-1-5-21-1-2-3-1105"
GROUP = "S-1-5-21-1-2-3-1200"
OTHER = "S-1-5-21-1-2-3-1300"
OTHER_RIGHT = uuid.UUID("ab721a53-1e2f-11d0-9819-00aa0040529b")  # User-Change-Password


def ace(
    kind: int, sid: str, mask: int = sd.CONTROL_ACCESS, *, flags: int = 0, obj=None, inherited=None
) -> bytes:
    body = struct.pack("<I", mask)
    if kind in (sd.ACCESS_ALLOWED_OBJECT, sd.ACCESS_DENIED_OBJECT, sd.ACCESS_ALLOWED_CALLBACK_OBJECT):
        present = (sd.OBJECT_TYPE_PRESENT if obj else 0) | (
            sd.INHERITED_OBJECT_TYPE_PRESENT if inherited else 0
        )
        body += struct.pack("<I", present)
        body += obj.bytes_le if obj else b""
        body += inherited.bytes_le if inherited else b""
    body += sd.sid_bytes(sid)
    return struct.pack("<BBH", kind, flags, 4 + len(body)) + body


def descriptor(*aces: bytes, dacl: bool = True, null: bool = False) -> bytes:
    acl = b"".join(aces)
    acl = struct.pack("<BBHHH", 4, 0, 8 + len(acl), len(aces), 0) + acl
    control = sd.SE_SELF_RELATIVE | (sd.SE_DACL_PRESENT if dacl else 0)
    return struct.pack("<BBHIIII", 1, 0, control, 0, 0, 0, 0 if null or not dacl else 20) + (
        acl if dacl else b""
    )


def grants(data: bytes, token=(HELPDESK, *sd.WELL_KNOWN_TOKEN_SIDS)) -> bool | None:
    dacl = sd.parse_dacl(data)
    assert dacl is not None
    return sd.control_access(dacl, set(token), sd.RESET_PASSWORD, sd.USER_CLASS)


RESET = sd.RESET_PASSWORD


def test_sids_round_trip():
    for sid in ("S-1-1-0", "S-1-5-11", HELPDESK, "S-1-5-32-544"):
        assert sd.parse_sid(sd.sid_bytes(sid)) == (sid, len(sd.sid_bytes(sid)))


@pytest.mark.parametrize(
    ("aces", "expected"),
    [
        ([], False),
        ([ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET)], True),
        ([ace(sd.ACCESS_ALLOWED_OBJECT, OTHER, obj=RESET)], False),  # someone else's
        ([ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=OTHER_RIGHT)], False),  # another right
        ([ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK)], True),  # every extended right
        ([ace(sd.ACCESS_ALLOWED, HELPDESK, 0xF01FF)], True),  # full control
        ([ace(sd.ACCESS_ALLOWED, HELPDESK, sd.GENERIC_ALL)], True),
        ([ace(sd.ACCESS_ALLOWED, HELPDESK, 0x20094)], False),  # read only
        ([ace(sd.ACCESS_ALLOWED_OBJECT, "S-1-5-11", obj=RESET)], True),  # Authenticated Users
        ([ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET, flags=sd.INHERIT_ONLY)], False),
        (
            [ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET, flags=sd.INHERITED, inherited=sd.USER_CLASS)],
            True,
        ),
        (
            [ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET, inherited=uuid.uuid4())],
            False,
        ),  # another class
        (
            [
                ace(sd.ACCESS_DENIED_OBJECT, HELPDESK, obj=RESET),
                ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET),
            ],
            False,
        ),
        (
            [
                ace(sd.ACCESS_DENIED_OBJECT, OTHER, obj=RESET),
                ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET),
            ],
            True,
        ),
        ([ace(sd.ACCESS_DENIED, HELPDESK, 0x20), ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET)], True),
        ([ace(sd.ACCESS_ALLOWED_CALLBACK_OBJECT, HELPDESK, obj=RESET)], None),  # conditional
        ([ace(0x07, HELPDESK, obj=RESET)], False),  # an audit ACE (not about access)
    ],
)
def test_reset_password_right(aces, expected):
    assert grants(descriptor(*aces)) is expected


def test_through_a_group_and_a_null_dacl():
    data = descriptor(ace(sd.ACCESS_ALLOWED_OBJECT, GROUP, obj=RESET))
    assert grants(data) is False
    assert grants(data, (HELPDESK, GROUP)) is True
    assert grants(descriptor(null=True)) is True
    assert sd.parse_dacl(descriptor(dacl=False)) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02" + b"\0" * 19,  # revision 2
        struct.pack("<BBHIIII", 1, 0, sd.SE_DACL_PRESENT, 0, 0, 0, 20),  # not self-relative
        descriptor(ace(sd.ACCESS_ALLOWED_OBJECT, HELPDESK, obj=RESET))[:-3],  # cut short
    ],
)
def test_broken_descriptors_are_refused(data):
    with pytest.raises(sd.BadDescriptor):
        sd.parse_dacl(data)


@pytest.mark.slow
def test_the_descriptor_samba_returns(samba_dc):
    """Read as the unprivileged reader, with the SD-flags control (DACL only): helpdesk and
    pwreset hold the right on alice through the ACE inherited from OU=Staff; reader does not;
    the domain's administrators do through their full control."""
    import ldap3  # type: ignore[import-untyped]
    from ldap3.protocol.microsoft import security_descriptor_control  # type: ignore[import-untyped]

    sids = {}
    with samba_dc.connection(samba_dc.users["reader"]) as c:
        for sam in ("helpdesk", "pwreset", "reader"):
            c.search(
                samba_dc.users[sam].dn, "(objectClass=*)", ldap3.BASE, attributes=["objectSid", "tokenGroups"]
            )
            raw = c.response[0]["raw_attributes"]
            sids[sam] = [sd.parse_sid(v)[0] for v in raw["objectSid"] + raw["tokenGroups"]]
        c.search(
            samba_dc.users["alice"].dn,
            "(objectClass=*)",
            ldap3.BASE,
            attributes=["nTSecurityDescriptor"],
            controls=security_descriptor_control(sdflags=0x04),
        )
        data = c.response[0]["raw_attributes"]["nTSecurityDescriptor"][0]
    dacl = sd.parse_dacl(data)
    assert dacl is not None and dacl.aces
    for sam, expected in (("helpdesk", True), ("pwreset", True), ("reader", False)):
        token = {*sids[sam], *sd.WELL_KNOWN_TOKEN_SIDS}
        assert sd.control_access(dacl, token, sd.RESET_PASSWORD, sd.USER_CLASS) is expected, sam
    domain = sids["reader"][0].rsplit("-", 1)[0]
    assert (
        sd.control_access(dacl, {f"{domain}-512"}, sd.RESET_PASSWORD, sd.USER_CLASS) is True
    )  # Domain Admins
