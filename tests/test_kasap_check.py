"""KASAP: settings, token issue date and expiry flags, and the check through the real stack
against a KASAP OpenAPI-like HTTPS peer on loopback."""

from __future__ import annotations

import datetime as _dt

import pytest

from support.https_peer import HttpsPeer
from support.kasap_peer import GOOD_TOKEN, KasapApi
from xdrconf.core import catalog
from xdrconf.core.engine import run_operation
from xdrconf.core.errors import ValidationError
from xdrconf.core.integrations.kasap import add_months, expiry_of
from xdrconf.core.outcome import Category
from xdrconf.core.tenants import IntegrationState
from xdrconf.core.workspace import IntegrationEdit


def configure(ws, peer, test_ca, *, tenant="Acme", token=GOOD_TOKEN, prefix="", **values):
    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings = {"url": f"https://127.0.0.1:{peer.port}{prefix}", "tls_ca": test_ca.cert_pem, **values}
    ws.update_integration(
        tenant,
        IntegrationEdit(
            "kasap", values=settings, secrets={"token": token} if token else {}, enabled=bool(token)
        ),
    )
    return ws.tenant(tenant).id


def check(ws, tid, **kw):
    [result] = run_operation(ws, tid, "kasap", **kw)
    return result


@pytest.fixture
def kasap(server_cert):
    api = KasapApi(prefix="/company/42")
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        yield peer


# ---- settings ------------------------------------------------------------------------------
def test_fields():
    spec = catalog.spec_for("kasap")
    assert [f.name for f in spec.fields] == [
        "url",
        "token",
        "token_issued",
        "rights_confirmed",
        "tls_ca",
        "tls_pin_sha256",
    ]
    assert [shown for _, shown in spec.field("rights_confirmed").extra["rights"]] == [
        "GET /openapi/v1/groups",
        "POST /openapi/v1/report",
        "PATCH /openapi/v1/user/:userid",
    ]


def test_issue_date_set_to_today_when_token_stored(ws, kasap, test_ca):
    configure(ws, kasap, test_ca)
    state = ws.tenant("Acme").integrations["kasap"]
    assert state.settings["token_issued"] == _dt.date.today().isoformat()
    # editable
    ws.update_integration("Acme", IntegrationEdit("kasap", values={"token_issued": "2026-03-01"}))
    assert ws.tenant("Acme").integrations["kasap"].settings["token_issued"] == "2026-03-01"
    # other edits keep it
    ws.update_integration("Acme", IntegrationEdit("kasap", values={"rights_confirmed": "all"}))
    assert ws.tenant("Acme").integrations["kasap"].settings["token_issued"] == "2026-03-01"
    # a new token resets it to today, unless a date comes with it
    ws.update_integration("Acme", IntegrationEdit("kasap", secrets={"token": "new-token"}))
    assert ws.tenant("Acme").integrations["kasap"].settings["token_issued"] == _dt.date.today().isoformat()
    ws.update_integration(
        "Acme",
        IntegrationEdit("kasap", secrets={"token": "newer-token"}, values={"token_issued": "2026-01-15"}),
    )
    assert ws.tenant("Acme").integrations["kasap"].settings["token_issued"] == "2026-01-15"


def test_issue_date_validation(ws, kasap, test_ca):
    configure(ws, kasap, test_ca)
    future = (_dt.date.today() + _dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError, match=r"Token issued on: .* is in the future"):
        ws.update_integration("Acme", IntegrationEdit("kasap", values={"token_issued": future}))
    with pytest.raises(ValidationError, match="Token issued on: '2026-13-01' is not a date"):
        ws.update_integration("Acme", IntegrationEdit("kasap", values={"token_issued": "2026-13-01"}))


def test_url_and_rights_parsing(ws, kasap, test_ca):
    configure(
        ws, kasap, test_ca, prefix="/company/42/openapi/v1/", rights_confirmed="GET /openapi/v1/groups, user"
    )
    s = ws.tenant("Acme").integrations["kasap"].settings
    assert s["url"] == f"https://127.0.0.1:{kasap.port}/company/42"
    assert s["rights_confirmed"] == ["groups", "user"]
    with pytest.raises(ValidationError, match="Token rights confirmed: 'delete' is not one"):
        ws.update_integration("Acme", IntegrationEdit("kasap", values={"rights_confirmed": "delete"}))
    with pytest.raises(ValidationError, match="OpenAPI URL: must start with https://"):
        ws.update_integration(
            "Acme", IntegrationEdit("kasap", values={"url": "http://kasap.example.invalid"})
        )


# ---- expiry --------------------------------------------------------------------------------
def test_add_months():
    assert add_months(_dt.date(2025, 3, 10), 12) == _dt.date(2026, 3, 10)
    assert add_months(_dt.date(2024, 2, 29), 12) == _dt.date(2025, 2, 28)
    assert add_months(_dt.date(2025, 11, 30), 3) == _dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("day", "level", "words"),
    [
        (0, None, None),
        (334, None, None),  # 31 days left
        (335, "warning", "in 30 days"),  # 30 days before expiry: flagged from here
        (336, "warning", "in 29 days"),
        (364, "warning", "in 1 day)"),
        (365, "error", "expired on 2026-03-10"),  # the expiry day itself
        (400, "error", "expired on 2026-03-10"),
    ],
)
def test_expiry_flags_around_the_30_day_boundary(day, level, words):
    spec = catalog.spec_for("kasap")
    issued = _dt.date(2025, 3, 10)  # 2025-03-10 + 12 months = 2026-03-10, 365 days later
    state = IntegrationState(
        "kasap",
        True,
        {"url": "https://k.example.invalid", "token_issued": issued.isoformat()},
        {"token": "ref"},
    )
    assert expiry_of(state.settings) == _dt.date(2026, 3, 10)
    now = _dt.datetime.combine(issued + _dt.timedelta(days=day), _dt.time(12), _dt.UTC)
    assert spec.flags is not None
    flags = spec.flags(state, now)
    if level is None:
        assert flags == []
    else:
        [flag] = flags
        assert flag.level == level and words in flag.message


def test_tenant_flagged_through_workspace(ws, kasap, test_ca):
    configure(ws, kasap, test_ca, token_issued="2025-03-10")
    tenant = ws.tenant("Acme")
    now = _dt.datetime(2026, 2, 20, tzinfo=_dt.UTC)
    assert [(k, f.level) for k, f in ws.flags(tenant, now)] == [("kasap", "warning")]
    assert ws.flags(tenant, _dt.datetime(2026, 2, 1, tzinfo=_dt.UTC)) == []
    ws.set_enabled("Acme", "kasap", False)
    assert ws.flags(tenant, now) == []  # only enabled integrations flag their tenant


def test_unknown_issue_date_is_flagged():
    spec = catalog.spec_for("kasap")
    state = IntegrationState("kasap", True, {"url": "https://k.example.invalid"}, {"token": "ref"})
    assert spec.flags is not None
    [flag] = spec.flags(state, _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC))
    assert flag.level == "warning" and "issue date" in flag.message


# ---- the check -------------------------------------------------------------------------------
def test_check_ok_counts_groups(ws, kasap, test_ca):
    tid = configure(ws, kasap, test_ca, prefix="/company/42", rights_confirmed="all")
    r = check(ws, tid)
    assert r.category is Category.OK, r.message
    assert "3 learning groups" in r.message and "Accounting" in r.message
    assert "Warning" not in r.message and "expires on" in r.message
    req = kasap.requests[-1]
    assert req.method == "GET" and req.path == "/company/42/openapi/v1/groups"
    assert req.headers["Authorization"] == f"Bearer {GOOD_TOKEN}"


def test_check_warns_when_rights_not_confirmed(ws, kasap, test_ca):
    tid = configure(ws, kasap, test_ca, prefix="/company/42", rights_confirmed="groups")
    r = check(ws, tid)
    assert r.ok
    assert "Warning" in r.message and "POST /openapi/v1/report" in r.message
    assert "PATCH /openapi/v1/user/:userid" in r.message
    assert "GET /openapi/v1/groups;" not in r.message


def test_check_groups_wrapped_in_object(ws, kasap, test_ca):
    kasap.api.groups = {"items": [{"id": 7, "name": "Everyone"}]}
    tid = configure(ws, kasap, test_ca, prefix="/company/42")
    r = check(ws, tid)
    assert r.ok and "1 learning group exists: Everyone" in r.message


@pytest.mark.parametrize(
    ("token", "mode", "category", "words"),
    [
        ("wrong-token", "normal", Category.AUTH_FAILED, "401"),
        (GOOD_TOKEN, "expired", Category.AUTH_FAILED, "403"),
        (GOOD_TOKEN, "ratelimit", Category.RATE_LIMITED, "10 requests per second"),
        (GOOD_TOKEN, "notjson", Category.PROTOCOL_ERROR, "learning groups"),
    ],
)
def test_check_failures(ws, kasap, test_ca, token, mode, category, words):
    kasap.api.mode = mode
    tid = configure(ws, kasap, test_ca, prefix="/company/42", token=token)
    r = check(ws, tid)
    assert r.category is category, r.message
    assert words in r.message and token not in r.message


def test_expired_token_message_names_expiry(ws, kasap, test_ca):
    kasap.api.mode = "expired"
    tid = configure(ws, kasap, test_ca, prefix="/company/42", token_issued="2024-01-05")
    r = check(ws, tid)
    assert r.category is Category.AUTH_FAILED and "expired on 2025-01-05" in r.message


def test_wrong_url_path(ws, kasap, test_ca):
    tid = configure(ws, kasap, test_ca, prefix="/company/99")
    r = check(ws, tid)
    assert r.category is Category.PROTOCOL_ERROR and "OpenAPI URL" in r.message


def test_slow_peer_times_out(ws, kasap, test_ca):
    kasap.api.mode = "hang"
    tid = configure(ws, kasap, test_ca, prefix="/company/42")
    assert check(ws, tid, timeout=0.5).category is Category.TIMEOUT


def test_pin_mismatch_sends_no_token(ws, kasap, test_ca):
    tid = configure(ws, kasap, test_ca, prefix="/company/42", tls_pin_sha256="ab" * 32)
    assert check(ws, tid).category is Category.TLS_PIN_MISMATCH
    assert kasap.requests == []
