"""Receive incidents and close them, through the real stack: httpx, ssl, the keyring and a
KUMA-like HTTPS peer on loopback."""

from __future__ import annotations

import threading

import pytest

from support.https_peer import SilentPeer
from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core.engine import run_operation
from xdrconf.core.integrations.kuma import incidents as kuma_api
from xdrconf.core.integrations.kuma.incidents import IncidentStore, MergeSummary
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit


@pytest.fixture(autouse=True)
def fresh_session():
    """Each test is a session of its own: no incident store kept from another one."""
    IncidentStore.forget_all()
    yield
    IncidentStore.forget_all()


@pytest.fixture
def conn(ws, kuma, test_ca):
    return configure(ws, kuma.port, ca=test_ca.cert_pem)


def receive(ws, tenant, status="new", **kw):
    [outcome] = run_operation(ws, tenant, "kuma", "receive", {"status": status}, **kw)
    return outcome


def received(ws, tenant, status="new", **kw):
    """A receive that must succeed: its summary and the alerts KUMA listed."""
    outcome = receive(ws, tenant, status, **kw)
    assert outcome.ok, outcome.message
    return MergeSummary.from_public(outcome.data["summary"]), outcome.data["rows"]


def close(ws, tenant, alert_id, reason, **kw):
    [outcome] = run_operation(
        ws, tenant, "kuma", "close", {"id": alert_id, "reason": reason}, confirmed=True, **kw
    )
    return outcome


def test_all_pages_are_followed_with_events(ws, kuma, conn):
    kuma.api.add_alerts(600, events=3)
    pages: list[tuple[int, int]] = []
    summary, alerts = received(ws, conn, on_progress=pages.append)
    assert len(alerts) == 600 and summary.pages == 3
    assert pages == [(1, 250), (2, 500), (3, 600)]
    assert len({a["id"] for a in alerts}) == 600
    assert all(len(a["events"]) == 3 for a in alerts)
    gets = [r for r in kuma.requests if r.method == "GET"]
    assert [r.query["page"] for r in gets] == [["1"], ["2"], ["3"]]
    for r in gets:
        assert r.path == "/api/v1/alerts/"
        assert r.query["withEvents"] == [""] and r.query["status"] == ["new"]
        assert r.headers["Authorization"] == f"Bearer {GOOD_TOKEN}"


def test_exact_multiple_of_page_size_stops_on_empty_page(ws, kuma, conn):
    kuma.api.add_alerts(500, events=0)
    summary, alerts = received(ws, conn)
    assert len(alerts) == 500 and summary.pages == 3
    assert len(kuma.requests) == 3


def test_status_filter_and_api_version(ws, kuma, conn):
    kuma.api.add_alerts(3)
    kuma.api.add_alerts(2, start=10, status="assigned")
    ws.update_integration("Acme", IntegrationEdit("kuma", values={"api_version": "v2.1"}))
    _, alerts = received(ws, "Acme", "assigned")
    assert {a["status"] for a in alerts} == {"assigned"} and len(alerts) == 2
    assert kuma.requests[-1].path == "/api/v2.1/alerts/"
    refused = receive(ws, "Acme", "open")
    assert refused.refused and refused.category is Category.INVALID_CONFIG
    assert refused.message.startswith("Status:")


def test_receive_twice_updates_instead_of_duplicating(kuma, conn, ws):
    kuma.api.add_alerts(300)
    first, _ = received(ws, conn)
    assert (first.new, first.changed, first.received) == (300, 0, 300)
    kuma.api.alerts[42]["lastSeen"] = "2026-11-22T06:00:00Z"  # one alert changed ...
    kuma.api.alerts[42]["events"].append({"event": {"ID": "late", "Name": "Late event"}})
    kuma.api.add_alerts(1, start=1000)  # ... and one added
    second, _ = received(ws, conn)
    assert (second.new, second.changed, second.unchanged) == (1, 1, 299)
    assert "1 new, 1 changed" in second.message()
    store = IncidentStore.shared(ws.config_dir, conn)
    assert len(store.visible("new")) == 301
    assert len((store.get(kuma.api.alerts[42]["id"]) or {})["events"]) == 3


def test_counts_survive_a_new_session_through_the_cache(kuma, conn, ws):
    kuma.api.add_alerts(5)
    received(ws, conn)
    IncidentStore.forget_all()  # a new session: only the cache file is left
    kuma.api.alerts[0]["priority"] = "critical"
    again, _ = received(ws, conn)
    assert (again.new, again.changed) == (0, 1)
    cache = (ws.config_dir / "cache" / "kuma" / f"{conn}.json").read_text()
    assert GOOD_TOKEN not in cache and "Logon failure" not in cache  # ids and fingerprints only


def test_close_then_the_alert_leaves_the_new_list(kuma, conn, ws):
    made = kuma.api.add_alerts(3)
    received(ws, conn)
    store = IncidentStore.shared(ws.config_dir, conn)
    target = made[1]["id"]
    outcome = close(ws, conn, target, "incorrect data")
    assert outcome.ok
    assert outcome.message == f"Alert {target} was closed in KUMA with the reason 'incorrect data'."
    assert kuma.requests[-1].method == "POST" and kuma.requests[-1].path == "/api/v1/alerts/close"
    assert kuma.requests[-1].json() == {"id": target, "reason": "incorrect data"}
    assert target not in [a["id"] for a in store.visible("new")]
    summary, _ = received(ws, conn)  # KUMA no longer lists it as new either
    assert summary.received == 2 and target not in [a["id"] for a in store.visible("new")]
    assert kuma.api.alert(target)["closingReason"] == "incorrect data"


def test_close_needs_confirmation(kuma, conn, ws):
    made = kuma.api.add_alerts(1)
    [outcome] = run_operation(ws, conn, "kuma", "close", {"id": made[0]["id"], "reason": "responded"})
    assert outcome.refused and "needs confirmation" in outcome.message
    assert kuma.requests == []


def test_alert_closed_elsewhere_is_reported_as_no_longer_new(kuma, conn, ws):
    made = kuma.api.add_alerts(3)
    received(ws, conn)
    kuma.api.alert(made[0]["id"])["status"] = "assigned"
    summary, _ = received(ws, conn)
    assert summary.gone == 1 and "1 no longer new" in summary.message()
    assert made[0]["id"] not in [a["id"] for a in IncidentStore.shared(ws.config_dir, conn).visible("new")]


@pytest.mark.parametrize(
    "setup, alert, reason, status, category, words",
    [
        (None, "missing", "responded", 404, Category.INVALID_CONFIG, "no alert missing (404 alert not found"),
        ("closed", 0, "responded", 406, Category.INVALID_CONFIG, "already closed"),
        ("disabled", 0, "responded", 406, Category.INVALID_CONFIG, "tenant disabled"),
        ("readonly", 0, "responded", 403, Category.AUTH_FAILED, "403 access denied"),
    ],
)
def test_each_close_error_has_its_own_message(ws, kuma, conn, setup, alert, reason, status, category, words):
    made = kuma.api.add_alerts(1)
    alert_id = made[0]["id"] if alert == 0 else alert
    if setup == "closed":
        made[0]["status"] = "closed"
    elif setup == "disabled":
        kuma.api.disabled_tenants.add("t-1")
    elif setup == "readonly":
        kuma.api.can_close = False
    err = close(ws, conn, alert_id, reason)
    assert not err.ok and not err.refused
    assert err.details["http_status"] == status and err.category is category
    assert words in err.message, err.message
    assert GOOD_TOKEN not in err.message


def test_close_400_from_kuma(ws, kuma, conn):
    # A KUMA that does not accept a reason answers 400 "invalid reason" [doc].
    kuma.api.add_alerts(1)
    kuma.api.close_reasons = ("responded",)
    err = close(ws, conn, kuma.api.alerts[0]["id"], "incorrect correlation rule")
    assert err.details["http_status"] == 400 and err.details["code"] == "bad_request"
    assert err.category is Category.INVALID_CONFIG
    assert '(400) (KUMA said: "invalid reason")' in err.message


def test_reason_and_id_are_checked_before_sending(ws, kuma, conn):
    err = close(ws, conn, "a-1", "fixed")
    assert err.refused and "Reason: 'fixed' is not a reason KUMA accepts" in err.message
    err = close(ws, conn, "  ", "responded")
    assert err.refused and err.message.startswith("Alert ID")
    assert kuma.requests == []


def test_unknown_token_is_refused_without_leaking_it(ws, kuma, test_ca):
    configure(ws, kuma.port, ca=test_ca.cert_pem, token="not-the-token-123")
    err = receive(ws, "Acme")
    assert err.category is Category.AUTH_FAILED and err.details["http_status"] == 403
    assert "not-the-token-123" not in err.message


def test_a_peer_that_ignores_paging_is_caught(ws, kuma, conn):
    kuma.api.add_alerts(300)
    kuma.api.mode = "ignore_page"
    err = receive(ws, conn)
    assert "does not page as documented" in err.message
    assert err.category is Category.PROTOCOL_ERROR


def test_untrusted_certificate(ws, kuma):
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "kuma", values={"host": "127.0.0.1", "port": str(kuma.port)}, secrets={"token": GOOD_TOKEN}
        ),
    )
    err = receive(ws, "Acme")
    assert err.category is Category.TLS_UNTRUSTED
    assert kuma.requests == []


def test_not_configured_and_missing_token(ws, kuma, test_ca):
    ws.add_tenant("Empty")
    err = receive(ws, "Empty")
    assert err.refused and err.category is Category.INVALID_CONFIG
    configure(ws, kuma.port, ca=test_ca.cert_pem, token=None, tenant="NoToken")
    err = receive(ws, "NoToken")
    assert err.refused and err.category is Category.MISSING_SECRET


def test_cancel_and_timeout(ws, test_ca, server_cert):
    with SilentPeer() as silent:
        ws.app["timeout"] = 0.5
        configure(ws, silent.port, ca=test_ca.cert_pem, tenant="Slow")
        assert receive(ws, "Slow").category is Category.TIMEOUT
        cancel = threading.Event()
        threading.Timer(0.2, cancel.set).start()
        ws.app["timeout"] = 30
        assert receive(ws, "Slow", cancel=cancel).category is Category.CANCELLED


def test_display_helpers():
    alert = {
        "id": "a",
        "priority": 14,
        "firstSeen": 1763625600000,
        "lastSeen": "2026-11-20T08:05:00Z",
        "events": [{"event": {"Timestamp": 1763625600000, "Name": "x"}}],
        "status": "new",
    }
    row = kuma_api.alert_row(alert)
    assert row["severity"] == "Critical" and row["events"] == 1
    assert row["last_seen"] == "2026-11-20 08:05:00 UTC"
    assert row["first_seen"].endswith("UTC")
    assert kuma_api.event_row(kuma_api.events_of(alert)[0])["Name"] == "x"
    assert kuma_api.severity_of({"priority": "medium"}) == "Medium"
