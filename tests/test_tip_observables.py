"""Recognising what a typed value is, and refusing with a reason what the portal cannot look up."""

from __future__ import annotations

import pytest

from xdrconf.core.errors import ValidationError
from xdrconf.core.integrations.tip.cache import describe_ttl, parse_ttl, ttl_seconds
from xdrconf.core.integrations.tip.observables import recognise


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("example.invalid", "domain", "example.invalid"),
        ("  Example.INVALID. ", "domain", "example.invalid"),
        ("bad[.]example[.]invalid", "domain", "bad.example.invalid"),
        ("bücher.invalid", "domain", "xn--bcher-kva.invalid"),
        ("https://bad.example.invalid/login.php", "url", "https://bad.example.invalid/login.php"),
        ("HTTP://example.invalid/a?b=c", "url", "http://example.invalid/a?b=c"),
        ("hxxps://bad[.]example[.]invalid/x", "url", "https://bad.example.invalid/x"),
        ("example.invalid/download/setup.exe", "url", "example.invalid/download/setup.exe"),
        ("http://127.0.0.2:8080/x", "url", "http://127.0.0.2:8080/x"),
        ("http://[::1]/x", "url", "http://[::1]/x"),
        ("8.8.8.8", "ipv4", "8.8.8.8"),
        ("2001:4860:4860:0:0:0:0:8888", "ipv6", "2001:4860:4860::8888"),
        ("[2001:4860:4860::8888]", "ipv6", "2001:4860:4860::8888"),
        ("44D88612FEA8A8F36DE82E1278ABB02F", "md5", "44d88612fea8a8f36de82e1278abb02f"),
        (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    ],
)
def test_recognised(text, kind, value):
    obs = recognise(text)
    assert (obs.kind, obs.value) == (kind, value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "enter the value"),
        ("   ", "enter the value"),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "SHA1"),
        (
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            "SHA512",
        ),
        ("0123456789abcdef0123456789", "26 hexadecimal digits"),
        ("127.1.2.3", "loopback"),
        ("127.255.255.254", "loopback"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("999.1.1.1", "not a valid IPv4"),
        ("127.0.0.0/8", "network range"),
        ("analyst@example.invalid", "e-mail"),
        ("mailto:analyst@example.invalid", "e-mail"),
        ("file:///etc/passwd", "only http, https and ftp"),
        ("localhost", "fully qualified"),
        ("example.invalid:8443", "has a port"),
        ("two words.invalid", "spaces"),
        ("example.123", "is not a domain"),
        ("https://user:pw@example.invalid/", "user name or password"),
        ("-bad-.example.invalid", "is not a domain"),
        ("2001:db8::zz", "not a valid IPv6"),
    ],
)
def test_refused_with_reason(text, reason):
    with pytest.raises(ValidationError) as info:
        recognise(text)
    assert info.value.label == "Observable"
    assert reason.lower() in str(info.value).lower(), str(info.value)


@pytest.mark.parametrize(
    ("text", "stored", "seconds"),
    [
        ("7d", "7d", 7 * 86400),
        ("12h", "12h", 12 * 3600),
        (" 30 days ", "30d", 30 * 86400),
        ("1 hour", "1h", 3600),
        ("2H", "2h", 7200),
        ("", None, None),
        ("unlimited", None, None),
    ],
)
def test_cache_ttl_parsing(text, stored, seconds):
    assert parse_ttl(text) == stored
    assert ttl_seconds(stored) == seconds


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("7", "no unit"),
        ("7w", "not a period"),
        ("-1d", "not a period"),
        ("0h", "at least 1h"),
        ("3651d", "at most 3650 days"),
        ("1.5d", "not a period"),
    ],
)
def test_cache_ttl_errors_name_the_field(text, problem):
    with pytest.raises(ValidationError) as info:
        parse_ttl(text)
    assert str(info.value).startswith("Cache TTL: ")
    assert problem in str(info.value)


def test_describe_ttl():
    assert describe_ttl("7d") == "for 7 days"
    assert describe_ttl("1h") == "for 1 hour"
    assert describe_ttl(None) == "without limit"
