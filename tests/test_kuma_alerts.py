"""Receive incidents and close them, through the real stack: httpx, ssl, the keyring and a
KUMA-like HTTPS peer on loopback."""

from __future__ import annotations

import threading

import pytest

from support.https_peer import SilentPeer
from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core import kuma_api
from xdrconf.core.errors import ValidationError
from xdrconf.core.kuma_api import (
    IncidentStore,
    KumaConnection,
    KumaNotReady,
    KumaRequestFailed,
    close_alert,
    receive_alerts,
)
from xdrconf.core.outcome import Category
from xdrconf.core.workspace import IntegrationEdit


@pytest.fixture
def conn(ws, kuma, test_ca):
    tid = configure(ws, kuma.port, ca=test_ca.cert_pem)
    return KumaConnection.open(ws, tid)


def test_all_pages_are_followed_with_events(kuma, conn):
    kuma.api.add_alerts(600, events=3)
    pages = []
    result = receive_alerts(conn, on_page=lambda page, total: pages.append((page, total)))
    assert len(result.alerts) == 600 and result.pages == 3
    assert pages == [(1, 250), (2, 500), (3, 600)]
    assert len({a["id"] for a in result.alerts}) == 600
    assert all(len(a["events"]) == 3 for a in result.alerts)
    gets = [r for r in kuma.requests if r.method == "GET"]
    assert [r.query["page"] for r in gets] == [["1"], ["2"], ["3"]]
    for r in gets:
        assert r.path == "/api/v1/alerts/"
        assert r.query["withEvents"] == [""] and r.query["status"] == ["new"]
        assert r.headers["Authorization"] == f"Bearer {GOOD_TOKEN}"


def test_exact_multiple_of_page_size_stops_on_empty_page(kuma, conn):
    kuma.api.add_alerts(500, events=0)
    result = receive_alerts(conn)
    assert len(result.alerts) == 500 and result.pages == 3
    assert len(kuma.requests) == 3


def test_status_filter_and_api_version(ws, kuma, conn):
    kuma.api.add_alerts(3)
    kuma.api.add_alerts(2, start=10, status="assigned")
    ws.update_integration("Acme", IntegrationEdit("kuma", values={"api_version": "v2.1"}))
    conn = KumaConnection.open(ws, "Acme")
    result = receive_alerts(conn, "assigned")
    assert {a["status"] for a in result.alerts} == {"assigned"} and len(result.alerts) == 2
    assert kuma.requests[-1].path == "/api/v2.1/alerts/"
    with pytest.raises(ValidationError, match="Status"):
        receive_alerts(conn, "open")


def test_receive_twice_updates_instead_of_duplicating(kuma, conn, ws):
    kuma.api.add_alerts(300)
    store = IncidentStore.for_tenant(ws, conn.tenant_id)
    first = store.merge(receive_alerts(conn))
    assert (first.new, first.changed, first.received) == (300, 0, 300)
    kuma.api.alerts[42]["lastSeen"] = "2026-11-22T06:00:00Z"  # one alert changed ...
    kuma.api.alerts[42]["events"].append({"event": {"ID": "late", "Name": "Late event"}})
    kuma.api.add_alerts(1, start=1000)  # ... and one added
    second = store.merge(receive_alerts(conn))
    assert (second.new, second.changed, second.unchanged) == (1, 1, 299)
    assert "1 new, 1 changed" in second.message()
    assert len(store.visible("new")) == 301
    assert len((store.get(kuma.api.alerts[42]["id"]) or {})["events"]) == 3


def test_counts_survive_a_new_session_through_the_cache(kuma, conn, ws):
    kuma.api.add_alerts(5)
    IncidentStore.for_tenant(ws, conn.tenant_id).merge(receive_alerts(conn))
    kuma.api.alerts[0]["priority"] = "critical"
    again = IncidentStore.for_tenant(ws, conn.tenant_id).merge(receive_alerts(conn))
    assert (again.new, again.changed) == (0, 1)
    cache = (ws.config_dir / "cache" / "kuma" / f"{conn.tenant_id}.json").read_text()
    assert GOOD_TOKEN not in cache and "Logon failure" not in cache  # ids and fingerprints only


def test_close_then_the_alert_leaves_the_new_list(kuma, conn, ws):
    made = kuma.api.add_alerts(3)
    store = IncidentStore.for_tenant(ws, conn.tenant_id)
    store.merge(receive_alerts(conn))
    target = made[1]["id"]
    message = close_alert(conn, target, "incorrect data")
    assert message == f"Alert {target} was closed in KUMA with the reason 'incorrect data'."
    assert kuma.requests[-1].method == "POST" and kuma.requests[-1].path == "/api/v1/alerts/close"
    assert kuma.requests[-1].json() == {"id": target, "reason": "incorrect data"}
    store.mark_closed(target, "incorrect data")
    assert target not in [a["id"] for a in store.visible("new")]
    summary = store.merge(receive_alerts(conn))  # KUMA no longer lists it as new either
    assert summary.received == 2 and target not in [a["id"] for a in store.visible("new")]
    assert kuma.api.alert(target)["closingReason"] == "incorrect data"


def test_alert_closed_elsewhere_is_reported_as_no_longer_new(kuma, conn, ws):
    made = kuma.api.add_alerts(3)
    store = IncidentStore.for_tenant(ws, conn.tenant_id)
    store.merge(receive_alerts(conn))
    kuma.api.alert(made[0]["id"])["status"] = "assigned"
    summary = store.merge(receive_alerts(conn))
    assert summary.gone == 1 and "1 no longer new" in summary.message()
    assert made[0]["id"] not in [a["id"] for a in store.visible("new")]


@pytest.mark.parametrize(
    "setup, alert, reason, status, category, words",
    [
        (None, "missing", "responded", 404, Category.INVALID_CONFIG, "no alert missing (404 alert not found"),
        ("closed", 0, "responded", 406, Category.INVALID_CONFIG, "already closed"),
        ("disabled", 0, "responded", 406, Category.INVALID_CONFIG, "tenant disabled"),
        ("readonly", 0, "responded", 403, Category.AUTH_FAILED, "403 access denied"),
    ],
)
def test_each_close_error_has_its_own_message(kuma, conn, setup, alert, reason, status, category, words):
    made = kuma.api.add_alerts(1)
    alert_id = made[0]["id"] if alert == 0 else alert
    if setup == "closed":
        made[0]["status"] = "closed"
    elif setup == "disabled":
        kuma.api.disabled_tenants.add("t-1")
    elif setup == "readonly":
        kuma.api.can_close = False
    with pytest.raises(KumaRequestFailed) as info:
        close_alert(conn, alert_id, reason)
    err = info.value
    assert err.status == status and err.category is category
    assert words in str(err), str(err)
    assert GOOD_TOKEN not in str(err)


def test_close_400_from_kuma(kuma, conn):
    # A KUMA that does not accept a reason answers 400 "invalid reason" [doc].
    kuma.api.add_alerts(1)
    kuma.api.close_reasons = ("responded",)
    with pytest.raises(KumaRequestFailed) as info:
        close_alert(conn, kuma.api.alerts[0]["id"], "incorrect correlation rule")
    assert info.value.status == 400 and info.value.code == "bad_request"
    assert info.value.category is Category.INVALID_CONFIG
    assert '(400) (KUMA said: "invalid reason")' in str(info.value)


def test_reason_and_id_are_checked_before_sending(kuma, conn):
    with pytest.raises(ValidationError, match="Reason: 'fixed' is not a reason KUMA accepts"):
        close_alert(conn, "a-1", "fixed")
    with pytest.raises(ValidationError, match="Alert ID"):
        close_alert(conn, "  ", "responded")
    assert kuma.requests == []


def test_unknown_token_is_refused_without_leaking_it(ws, kuma, test_ca):
    configure(ws, kuma.port, ca=test_ca.cert_pem, token="not-the-token-123")
    conn = KumaConnection.open(ws, "Acme")
    with pytest.raises(KumaRequestFailed) as info:
        receive_alerts(conn)
    assert info.value.category is Category.AUTH_FAILED and info.value.status == 403
    assert "not-the-token-123" not in str(info.value)


def test_a_peer_that_ignores_paging_is_caught(kuma, conn):
    kuma.api.add_alerts(300)
    kuma.api.mode = "ignore_page"
    with pytest.raises(KumaRequestFailed, match="does not page as documented") as info:
        receive_alerts(conn)
    assert info.value.category is Category.PROTOCOL_ERROR


def test_untrusted_certificate(ws, kuma):
    ws.add_tenant("Acme")
    ws.update_integration(
        "Acme",
        IntegrationEdit(
            "kuma", values={"host": "127.0.0.1", "port": str(kuma.port)}, secrets={"token": GOOD_TOKEN}
        ),
    )
    conn = KumaConnection.open(ws, "Acme")
    with pytest.raises(KumaRequestFailed) as info:
        receive_alerts(conn)
    assert info.value.category is Category.TLS_UNTRUSTED
    assert kuma.requests == []


def test_not_configured_and_missing_token(ws, kuma, test_ca):
    ws.add_tenant("Empty")
    with pytest.raises(KumaNotReady) as info:
        KumaConnection.open(ws, "Empty")
    assert info.value.category is Category.INVALID_CONFIG
    configure(ws, kuma.port, ca=test_ca.cert_pem, token=None, tenant="NoToken")
    with pytest.raises(KumaNotReady) as info:
        KumaConnection.open(ws, "NoToken")
    assert info.value.category is Category.MISSING_SECRET


def test_cancel_and_timeout(ws, test_ca, server_cert):
    with SilentPeer() as silent:
        ws.app["timeout"] = 0.5
        configure(ws, silent.port, ca=test_ca.cert_pem, tenant="Slow")
        conn = KumaConnection.open(ws, "Slow")
        with pytest.raises(KumaRequestFailed) as info:
            receive_alerts(conn)
        assert info.value.category is Category.TIMEOUT
        cancel = threading.Event()
        threading.Timer(0.2, cancel.set).start()
        ws.app["timeout"] = 30
        conn = KumaConnection.open(ws, "Slow")
        with pytest.raises(KumaRequestFailed) as info:
            receive_alerts(conn, cancel=cancel)
        assert info.value.category is Category.CANCELLED


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
