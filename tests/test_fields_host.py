"""Host fields take what people paste (core.fields.split_host_port / parse_host): a port or a
URL is split off or named precisely, IPv6 with and without brackets stays an address."""

from __future__ import annotations

import pytest

from xdrconf.core.errors import ValidationError
from xdrconf.core.fields import parse_host, split_host_port


@pytest.mark.parametrize(
    "text,host,port,url",
    [
        ("kuma.acme.invalid", "kuma.acme.invalid", None, False),
        ("kuma.acme.invalid:7223", "kuma.acme.invalid", 7223, False),
        ("https://kuma.acme.invalid:7223/", "kuma.acme.invalid", 7223, True),
        ("https://kuma.acme.invalid/api/v1", "kuma.acme.invalid", None, True),
        ("127.0.0.1:7223", "127.0.0.1", 7223, False),
        ("::1", "::1", None, False),
        ("[::1]", "::1", None, False),
        ("[::1]:7223", "::1", 7223, False),
        ("https://[::1]:7223/", "::1", 7223, True),
        ("0:0:0:0:0:0:0:1", "::1", None, False),  # an address, never address and port
        ("  KUMA.Acme.Invalid.  ", "kuma.acme.invalid", None, False),
    ],
)
def test_split(text, host, port, url):
    assert split_host_port(text, "KUMA Core host") == (host, port, url)


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "kuma.acme.invalid:7223",
            "'kuma.acme.invalid:7223' includes the port 7223: enter only kuma.acme.invalid here "
            "and 7223 in the port field",
        ),
        (
            "https://kuma.acme.invalid:7223/",
            "'https://kuma.acme.invalid:7223/' includes the port 7223: enter only "
            "kuma.acme.invalid here and 7223 in the port field",
        ),
        (
            "https://kuma.acme.invalid/",
            "'https://kuma.acme.invalid/' is a URL: enter only the host name kuma.acme.invalid",
        ),
        ("[::1]:7223", "'[::1]:7223' includes the port 7223: enter only ::1 here and 7223 in the port field"),
        ("kuma.acme.invalid:", "'kuma.acme.invalid:' ends with a colon: remove it, or add the port number"),
        (
            "kuma.acme.invalid:https",
            "'https' after the colon in 'kuma.acme.invalid:https' is not a port number",
        ),
        (
            "kuma.acme.invalid:70000",
            "the port 70000 in 'kuma.acme.invalid:70000' is out of range; enter 1 to 65535",
        ),
        ("[::zz]:7223", "'[::zz]:7223' is not a valid IPv6 address"),
        ("", "enter a host name or an IP address"),
    ],
)
def test_parse_host_says_what_to_change(text, message):
    with pytest.raises(ValidationError) as err:
        parse_host(text, "KUMA Core host")
    assert err.value.problem == message
    assert "not a valid IPv6 address" not in message or "[" in text


def test_plain_hosts_and_addresses_still_parse():
    assert parse_host("::1") == "::1"
    assert parse_host("[::1]") == "::1"
    assert parse_host("127.0.0.1") == "127.0.0.1"
    assert parse_host("Kuma.Acme.Invalid") == "kuma.acme.invalid"
    with pytest.raises(ValidationError, match="not a valid IPv6 address"):
        parse_host("::zz")
