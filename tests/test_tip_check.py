"""Kaspersky TIP: settings, the check and lookups through the real stack (httpx, ssl) against a
portal-like HTTPS peer on loopback; the Root-only proxy rule through a real CONNECT proxy."""

from __future__ import annotations

import datetime as _dt
import json

import pytest

from support.connect_proxy import ConnectProxy
from support.https_peer import HttpsPeer, SilentPeer
from support.tip_peer import GOOD_TOKEN, MD5_GREEN, SHA256_RED, TipPortal
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.errors import ValidationError
from xdrconf.core.integrations.tip.cache import CACHE_FILE
from xdrconf.core.integrations.tip.lookup import lookup
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit


def configure(ws, peer, test_ca, *, tenant="Root", access="general", token=GOOD_TOKEN, **values):
    if tenant != "Root" and tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    base = f"https://127.0.0.1:{peer.port}" if peer is not None else "https://127.0.0.1:1"
    settings = {
        "access": access,
        "tls_ca": test_ca.cert_pem,
        "opentip_url" if access == "general" else "premium_url": base,
        **values,
    }
    ws.update_integration(
        tenant,
        IntegrationEdit(
            "tip", values=settings, secrets={"token": token} if token else {}, enabled=bool(token)
        ),
    )
    return ws.tenant(tenant).id


def check(ws, tid, **kw):
    [result] = run_operation(ws, tid, "tip", **kw)
    return result


class Clock:
    def __init__(self) -> None:
        self.now = _dt.datetime(2026, 11, 22, 8, 0, tzinfo=_dt.UTC)

    def __call__(self) -> _dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += _dt.timedelta(**delta)


@pytest.fixture
def portal(server_cert):
    api = TipPortal()
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        yield peer


@pytest.fixture
def premium(server_cert):
    api = TipPortal(premium=True)
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        yield peer


# ---- settings ------------------------------------------------------------------------------
def test_spec_fields_and_notice():
    spec = catalog.spec_for("tip")
    assert [f.name for f in spec.fields] == [
        "access",
        "proxy",
        "cache_ttl",
        "token",
        "opentip_url",
        "premium_url",
        "tls_ca",
        "tls_pin_sha256",
    ]
    access = spec.field("access")
    assert dict(access.choices) == {
        "general": "Kaspersky TIP (General access)",
        "premium": "Kaspersky TIP (Premium access)",
    }
    assert (
        "no quota" in access.extra["choice_help"]["premium"]
        and "quota" in access.extra["choice_help"]["premium"]
    )
    for kind in ("domain", "URL", "IP", "MD5", "SHA256"):
        assert kind in access.extra["choice_help"]["general"]
    assert spec.check_op is not None
    assert "quota" in spec.check_op.notice and spec.operation("lookup").notice == spec.check_op.notice
    assert spec.root_only == ("proxy",)
    assert spec.defaults()["cache_ttl"] == "7d"
    assert spec.defaults()["opentip_url"] == "https://opentip.kaspersky.com"
    assert spec.defaults()["premium_url"] == "https://tip.kaspersky.com"


def test_defaults_and_ttl_stored(ws):
    ws.update_integration("Root", IntegrationEdit("tip", values={"access": "premium"}))
    s = ws.tenant("Root").integrations["tip"].settings
    assert s["cache_ttl"] == "7d" and s["access"] == "premium"
    ws.update_integration("Root", IntegrationEdit("tip", values={"cache_ttl": "12 hours"}))
    assert ws.tenant("Root").integrations["tip"].settings["cache_ttl"] == "12h"
    ws.update_integration("Root", IntegrationEdit("tip", values={"cache_ttl": None}))
    assert "cache_ttl" not in ws.tenant("Root").integrations["tip"].settings  # unlimited
    with pytest.raises(ValidationError, match="Cache TTL: '7' has no unit"):
        ws.update_integration("Root", IntegrationEdit("tip", values={"cache_ttl": "7"}))
    with pytest.raises(ValidationError, match="Integration: 'both' is not one of"):
        ws.update_integration("Root", IntegrationEdit("tip", values={"access": "both"}))


def test_proxy_only_for_root(ws):
    ws.update_integration("Root", IntegrationEdit("tip", values={"proxy": "true"}))
    assert ws.tenant("Root").integrations["tip"].settings["proxy"] is True
    ws.add_tenant("Acme")
    with pytest.raises(ValidationError, match="Proxy: can be set for the Root tenant only"):
        ws.update_integration("Acme", IntegrationEdit("tip", values={"proxy": "false"}))
    # The child's copy of Root's toggle is dropped at its first edit: it follows Root's.
    ws.update_integration("Acme", IntegrationEdit("tip", values={"cache_ttl": "1d"}))
    assert "proxy" not in ws.tenant("Acme").integrations["tip"].settings


# ---- the check -------------------------------------------------------------------------------
def test_check_ok(ws, portal, test_ca):
    tid = configure(ws, portal, test_ca)
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert "example.com" in r.message and "quota" in r.message
    req = portal.requests[-1]
    assert req.path == "/api/v1/search/domain" and req.query == {"request": ["example.com"]}
    assert req.headers["x-api-key"] == GOOD_TOKEN
    assert len(portal.requests) == 1


def test_check_404_no_data_is_ok(ws, portal, test_ca):
    portal.api.token = "other-token"
    tid = configure(ws, portal, test_ca, token="other-token")
    from support import tip_peer

    saved = tip_peer.KNOWN.pop(("domain", "example.com"))
    try:
        r = check(ws, tid)
    finally:
        tip_peer.KNOWN[("domain", "example.com")] = saved
    assert r.category is Category.OK, r.message
    assert "no data" in r.message and "proves the token works" in r.message


def test_check_premium_path_and_header(ws, premium, test_ca):
    tid = configure(ws, premium, test_ca, access="premium")
    r = check(ws, tid)
    assert r.ok, r.message
    assert "Premium access" in r.message
    assert premium.requests[-1].path == "/api/domain/example.com"


@pytest.mark.parametrize(
    ("mode", "category", "words"),
    [
        ("quota", Category.QUOTA_EXCEEDED, "quota"),
        ("forbidden", Category.FORBIDDEN, "403"),
        ("ratelimit", Category.RATE_LIMITED, "429"),
        ("badrequest", Category.PROTOCOL_ERROR, "400"),
        ("error500", Category.SERVER_ERROR, "500"),
    ],
)
def test_check_failures(ws, portal, test_ca, mode, category, words):
    portal.api.mode = mode
    tid = configure(ws, portal, test_ca)
    r = check(ws, tid)
    assert r.category is category, r.message
    assert words in r.message
    assert GOOD_TOKEN not in r.message


def test_check_bad_token_is_auth_failed(ws, portal, test_ca):
    tid = configure(ws, portal, test_ca, token="not-the-token")
    r = check(ws, tid)
    assert r.category is Category.AUTH_FAILED, r.message
    assert "401" in r.message and "not-the-token" not in r.message


def test_premium_token_on_opentip_is_auth_failed(ws, premium, test_ca):
    # a premium peer expects its header at /api/<type>/…; General access asks /api/v1/search
    tid = configure(ws, premium, test_ca, access="general")
    premium.api.premium = False
    premium.api.token = "another"
    assert check(ws, tid).category is Category.AUTH_FAILED


def test_check_slow_portal_times_out(ws, portal, test_ca):
    portal.api.mode = "hang"
    tid = configure(ws, portal, test_ca)
    r = check(ws, tid, timeout=0.5)
    assert r.category is Category.TIMEOUT, r.message


def test_check_silent_port_times_out(ws, test_ca):
    with SilentPeer() as silent:
        silent.port = silent.port
        tid = configure(ws, silent, test_ca)
        r = check(ws, tid, timeout=0.5)
    assert r.category is Category.TIMEOUT, r.message


def test_check_untrusted_without_ca(ws, portal, test_ca):
    tid = configure(ws, portal, test_ca)
    ws.update_integration("Root", IntegrationEdit("tip", values={"tls_ca": None}))
    assert check(ws, tid).category is Category.TLS_UNTRUSTED


def test_missing_token(ws, portal, test_ca):
    tid = configure(ws, portal, test_ca, token=None)
    assert check(ws, tid).category is Category.MISSING_SECRET


# ---- lookups ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "kind", "path", "verdict"),
    [
        ("good.example.invalid", "domain", "/api/v1/search/domain", "Good"),
        ("https://bad.example.invalid/login.php", "url", "/api/v1/search/url", "Dangerous"),
        ("8.8.8.8", "ipv4", "/api/v1/search/ip", "Good"),
        ("2001:4860:4860::8888", "ipv6", "/api/v1/search/ip", "Good"),
        (MD5_GREEN.upper(), "md5", "/api/v1/search/hash", "Good"),
        (SHA256_RED, "sha256", "/api/v1/search/hash", "Dangerous"),
    ],
)
def test_lookup_every_type(ws, portal, test_ca, value, kind, path, verdict):
    configure(ws, portal, test_ca)
    r = lookup(ws, "Root", value, clock=Clock())
    assert r.ok and r.found, r.message
    assert r.observable is not None and r.observable.kind == kind and r.verdict == verdict
    assert not r.from_cache
    assert portal.requests[-1].path == path
    assert portal.requests[-1].query["request"] == [r.observable.value if r.observable else None]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("https://bad.example.invalid/login.php", "/api/url/https%3A%2F%2Fbad.example.invalid%2Flogin.php"),
        ("2001:4860:4860::8888", "/api/ip/2001%3A4860%3A4860%3A%3A8888"),
        (SHA256_RED, f"/api/hash/{SHA256_RED}"),
    ],
)
def test_lookup_premium_paths(ws, premium, test_ca, value, path):
    configure(ws, premium, test_ca, access="premium")
    r = lookup(ws, "Root", value, clock=Clock())
    assert r.ok and r.found, r.message
    assert premium.requests[-1].path == path


def test_lookup_main_facts(ws, portal, test_ca):
    configure(ws, portal, test_ca)
    r = lookup(ws, "Root", SHA256_RED, clock=Clock())
    facts = dict(r.facts)
    assert facts["File status"] == "Malware" and facts["Detected as"] == "EICAR-Test-File"
    r = lookup(ws, "Root", "bad.example.invalid", clock=Clock())
    assert dict(r.facts)["Categories"] == "Phishing" and r.zone == "Red"
    r = lookup(ws, "Root", "8.8.8.8", clock=Clock())
    assert dict(r.facts)["Country"] == "US"


def test_lookup_no_data(ws, portal, test_ca):
    configure(ws, portal, test_ca)
    r = lookup(ws, "Root", "unknown-site.example.invalid", clock=Clock())
    assert r.ok and not r.found and r.verdict == "No data"
    assert "no data" in r.message


def test_refused_values_send_nothing(ws, portal, test_ca):
    configure(ws, portal, test_ca)
    for value in ("127.0.0.2", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "someone@example.invalid", ""):
        r = lookup(ws, "Root", value, clock=Clock())
        assert r.refused and r.category is Category.INVALID_CONFIG, r.message
        assert r.message.startswith("Observable: ")
    assert portal.requests == []


@pytest.mark.parametrize(
    ("mode", "category"),
    [
        ("quota", Category.QUOTA_EXCEEDED),
        ("ratelimit", Category.RATE_LIMITED),
        ("badrequest", Category.INVALID_CONFIG),
    ],
)
def test_lookup_failures_are_not_cached(ws, portal, test_ca, mode, category):
    configure(ws, portal, test_ca)
    portal.api.mode = mode
    clock = Clock()
    assert lookup(ws, "Root", "good.example.invalid", clock=clock).category is category
    portal.api.mode = "normal"
    r = lookup(ws, "Root", "good.example.invalid", clock=clock)
    assert r.ok and not r.from_cache
    assert len(portal.requests) == 2


def test_lookup_slow_times_out(ws, portal, test_ca):
    configure(ws, portal, test_ca)
    portal.api.mode = "slow"
    r = lookup(ws, "Root", "good.example.invalid", clock=Clock(), timeout=0.5)
    assert r.category is Category.TIMEOUT, r.message


# ---- cache -----------------------------------------------------------------------------------
def test_cache_hit_within_ttl_and_miss_after(ws, portal, test_ca):
    configure(ws, portal, test_ca, cache_ttl="12h")
    clock = Clock()
    first = lookup(ws, "Root", "good.example.invalid", clock=clock)
    assert first.ok and not first.from_cache and len(portal.requests) == 1
    clock.advance(hours=11, minutes=59)
    again = lookup(ws, "Root", " Good.Example.INVALID. ", clock=clock)
    assert again.from_cache and again.ok and len(portal.requests) == 1
    assert "no request was sent" in again.message and "for 12 hours" in again.message
    assert again.verdict == first.verdict and again.facts == first.facts
    clock.advance(minutes=1)  # exactly 12 h old: expired
    later = lookup(ws, "Root", "good.example.invalid", clock=clock)
    assert not later.from_cache and len(portal.requests) == 2


def test_cache_default_seven_days(ws, portal, test_ca):
    configure(ws, portal, test_ca)
    clock = Clock()
    lookup(ws, "Root", "good.example.invalid", clock=clock)
    clock.advance(days=6, hours=23)
    assert lookup(ws, "Root", "good.example.invalid", clock=clock).from_cache
    clock.advance(hours=1)
    assert not lookup(ws, "Root", "good.example.invalid", clock=clock).from_cache


def test_cache_unlimited_when_empty(ws, portal, test_ca):
    configure(ws, portal, test_ca)
    ws.update_integration("Root", IntegrationEdit("tip", values={"cache_ttl": None}))
    clock = Clock()
    lookup(ws, "Root", "good.example.invalid", clock=clock)
    clock.advance(days=3000)
    r = lookup(ws, "Root", "good.example.invalid", clock=clock)
    assert r.from_cache and "without limit" in r.message
    assert len(portal.requests) == 1


def test_no_data_is_cached_too(ws, portal, test_ca):
    configure(ws, portal, test_ca)
    clock = Clock()
    lookup(ws, "Root", "unknown-site.example.invalid", clock=clock)
    r = lookup(ws, "Root", "unknown-site.example.invalid", clock=clock)
    assert r.from_cache and not r.found and r.verdict == "No data"


def test_cache_file_holds_no_secret_and_is_per_tenant(ws, portal, test_ca, config_dir):
    configure(ws, portal, test_ca)
    configure(ws, portal, test_ca, tenant="Acme")
    clock = Clock()
    lookup(ws, "Root", "good.example.invalid", clock=clock)
    r = lookup(ws, "Acme", "good.example.invalid", clock=clock)
    assert not r.from_cache  # each tenant's token pays for its own lookups
    text = (config_dir / CACHE_FILE).read_text()
    assert GOOD_TOKEN not in text
    assert len(json.loads(text)["entries"]) == 2
    assert (config_dir / CACHE_FILE).stat().st_mode & 0o077 == 0


def test_changing_access_level_does_not_reuse_cache(ws, portal, premium, test_ca):
    configure(ws, portal, test_ca)
    clock = Clock()
    lookup(ws, "Root", "good.example.invalid", clock=clock)
    configure(ws, premium, test_ca, access="premium")
    r = lookup(ws, "Root", "good.example.invalid", clock=clock)
    assert not r.from_cache and len(premium.requests) == 1


def test_corrupt_cache_file_is_ignored(ws, portal, test_ca, config_dir):
    configure(ws, portal, test_ca)
    (config_dir / CACHE_FILE).write_text("{not json")
    clock = Clock()
    assert lookup(ws, "Root", "good.example.invalid", clock=clock).ok
    assert lookup(ws, "Root", "good.example.invalid", clock=clock).from_cache


# ---- the Root-only proxy rule, proved with a real CONNECT proxy ------------------------------------
@pytest.mark.parametrize("root_proxy", [True, False])
def test_children_follow_roots_proxy_toggle(ws, portal, test_ca, root_proxy):
    with ConnectProxy() as proxy:
        ws.set_app(proxy={"mode": "manual", "url": proxy.url, "no_proxy": []})
        root = configure(ws, portal, test_ca, proxy=str(root_proxy).lower())
        child = configure(ws, portal, test_ca, tenant="Acme")
        assert check(ws, root).ok
        assert check(ws, child).ok
        assert lookup(ws, "Acme", "good.example.invalid", clock=Clock()).ok
        expected = [f"CONNECT 127.0.0.1:{portal.port} HTTP/1.1"] * 3 if root_proxy else []
        assert proxy.requests == expected
    assert len(portal.requests) == 3


def test_proxy_on_without_application_proxy_says_so(ws, portal, test_ca):
    tid = configure(ws, portal, test_ca, proxy="true")
    r = check(ws, tid)
    assert r.ok and "no application-wide proxy applies" in r.message
