"""The operation engine through real peers: one watchdog (a peer that answers but never
finishes ends as timeout within the budget; cancel ends at once, and the abandoned
connection is closed), the prechecks and classification of every way a run can end,
stamping, the exit-status map and the forms of a secret that are redacted."""

from __future__ import annotations

import base64
import threading
import time

import pytest

from support.kuma_peer import GOOD_TOKEN, configure
from support.trickle_peer import TricklePeer
from xdrconf.core import catalog
from xdrconf.core.engine import (
    MASK,
    Operation,
    Redactor,
    exit_status,
    parse_params,
    run_operation,
    variants,
)
from xdrconf.core.fields import Field
from xdrconf.core.outcome import Category, Outcome


def wait_until(predicate, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ---- the watchdog ------------------------------------------------------------------------------------
def test_a_peer_that_never_finishes_times_out_within_the_budget(ws, server_cert, test_ca):
    with TricklePeer(cert=server_cert) as peer:
        configure(ws, peer.port, ca=test_ca.cert_pem)
        started = time.monotonic()
        [r] = run_operation(ws, "Acme", "kuma", "receive", timeout=0.5)
        elapsed = time.monotonic() - started
        assert r.category is Category.TIMEOUT, r.message
        assert "'Receive incidents' did not finish within its time limit (0.5 s per step)" in r.message
        # budget: 0.5 s x 2 steps + 1 s from the request's start; never the socket's timeout
        assert 1.5 < elapsed < 4.0
        assert r.tenant == "Root tenant/Acme" and r.operation == "receive" and r.integration == "kuma"
        assert r.target == f"127.0.0.1:{peer.port}"
        assert wait_until(lambda: peer.closed == 1)  # its connection was closed, not left open


def test_cancel_ends_a_run_at_once_and_closes_its_connection(ws, server_cert, test_ca):
    with TricklePeer(cert=server_cert) as peer:
        configure(ws, peer.port, ca=test_ca.cert_pem)
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        started = time.monotonic()
        [r] = run_operation(ws, "Acme", "kuma", "check", timeout=30, cancel=cancel)
        assert r.category is Category.CANCELLED and "The check was cancelled" in r.message
        assert time.monotonic() - started < 3
        assert wait_until(lambda: peer.closed == 1)


def test_progress_reaches_the_caller(ws, kuma, test_ca):
    configure(ws, kuma.port, ca=test_ca.cert_pem)
    kuma.api.add_alerts(260)
    seen: list = []
    [r] = run_operation(ws, "Acme", "kuma", "receive", on_progress=seen.append)
    assert r.ok and seen == [(1, 250), (2, 260)]


# ---- prechecks: nothing is sent ----------------------------------------------------------------------
def test_prechecks_refuse_before_anything_is_sent(ws, kuma, test_ca):
    configure(ws, kuma.port, ca=test_ca.cert_pem)
    ws.add_tenant("Bare")
    configure(ws, kuma.port, ca=test_ca.cert_pem, token=None, tenant="NoToken")
    cases = [
        (("Nobody", "kuma", "check"), Category.INVALID_CONFIG, "No tenant named 'Nobody'"),
        (("Acme", "nope", "check"), Category.INVALID_CONFIG, "Unknown integration kind 'nope'"),
        (("Acme", "kuma", "purge"), Category.INVALID_CONFIG, "has no operation 'purge'"),
        (("Shared", "kuma", "check"), Category.INVALID_CONFIG, "Shared tenant needs no integration"),
        (
            ("Bare", "kuma", "check"),
            Category.INVALID_CONFIG,
            "is not configured for tenant 'Root tenant/Bare'",
        ),
        (
            ("NoToken", "kuma", "receive"),
            Category.MISSING_SECRET,
            "The API token of KUMA REST API is not stored",
        ),
        (("Acme", "kuma", "close"), Category.INVALID_CONFIG, "Alert ID: is required"),
    ]
    for (tenant, kind, op), category, words in cases:
        [r] = run_operation(ws, tenant, kind, op)
        assert r.refused and r.category is category, (tenant, kind, op, r.message)
        assert words in r.message, r.message
    [r] = run_operation(ws, "Acme", "kuma", "receive", {"status": "new", "colour": "red"})
    assert r.refused and "'colour' is not a parameter of 'Receive incidents'" in r.message
    [r] = run_operation(ws, "Acme", "kuma", "close", {"id": "a-1", "reason": "responded"})
    assert r.refused and "needs confirmation" in r.message
    assert kuma.requests == []


def test_a_token_that_cannot_go_into_a_header_is_refused_naming_the_field(ws, kuma, test_ca):
    configure(ws, kuma.port, ca=test_ca.cert_pem)
    # Stored by a version that did not refuse it at entry (tests/test_secret_entry.py).
    ref = ws.secrets.put("tok\u00e9n-with-accent", ws.secret_label("Root tenant/Acme", "kuma", "token"))
    with ws.transaction():
        ws.tenant("Acme").integrations["kuma"].secrets["token"] = ref
    for op in ("check", "receive"):
        [r] = run_operation(ws, "Acme", "kuma", op)
        assert r.refused and r.category is Category.INVALID_CONFIG
        assert r.message.startswith("API token: contains a character other than plain ASCII (U+00E9")
        assert "cannot be sent in an HTTP header" in r.message and "with-accent" not in r.message
    assert kuma.requests == []


def test_no_keyring_is_one_category_for_every_operation(config_dir, keyring_backend, kuma, test_ca):
    from keyring.backends import fail

    from xdrconf.core.workspace import Workspace

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        configure(ws, kuma.port, ca=test_ca.cert_pem)
    with Workspace.open(config_dir, keyring_backend=fail.Keyring()) as ws:
        for op in ("check", "receive"):
            [r] = run_operation(ws, "Acme", "kuma", op)
            assert r.category is Category.KEYRING_UNAVAILABLE and r.refused, r.message
    assert kuma.requests == []


def test_a_draft_with_typed_secrets_is_checked_and_nothing_is_saved(ws, kuma, test_ca):
    from xdrconf.core.tenants import IntegrationState

    ws.add_tenant("Acme")
    settings = {"host": "127.0.0.1", "port": kuma.port, "api_version": "v1", "tls_ca": test_ca.cert_pem}
    draft = IntegrationState("kuma", False, settings, {}, [])
    [r] = run_operation(ws, "Acme", "kuma", draft=draft, draft_secrets={"token": GOOD_TOKEN})
    assert r.ok, r.message
    assert "kuma" not in ws.tenant("Acme").integrations
    [r] = run_operation(ws, "Acme", "kuma", draft=draft, draft_secrets={"token": "typed-but-wrong"})
    assert r.category is Category.AUTH_FAILED and "typed-but-wrong" not in r.message


# ---- classification and stamping --------------------------------------------------------------------
@pytest.mark.parametrize(
    "mode, category",
    [("error500", Category.SERVER_ERROR), ("notjson", Category.PROTOCOL_ERROR), ("normal", Category.OK)],
)
def test_outcomes_are_classified_and_stamped(ws, kuma, test_ca, mode, category):
    kuma.api.mode = mode
    configure(ws, kuma.port, ca=test_ca.cert_pem)
    [r] = run_operation(ws, "Acme", "kuma")
    assert r.category is category, r.message
    assert (r.tenant, r.integration, r.operation) == ("Root tenant/Acme", "kuma", "check")
    assert r.target == f"127.0.0.1:{kuma.port}" and r.latency_ms is not None and r.latency_ms > 0
    assert r.checked_at and not r.refused
    if mode == "error500":
        assert r.details == {"http_status": 500, "code": "http_500"}
        assert 'The server said: "internal error"' in r.message


def test_stored_form_keeps_no_payload():
    o = Outcome(Category.OK, "Done.", "h:1", data={"rows": [1]}, warnings=["w"], verified=False, refused=True)
    stored = o.to_dict()
    assert "data" not in stored and "refused" not in stored
    back = Outcome.from_dict(stored)
    assert back.warnings == ["w"] and back.verified is False and back.level == "warning"
    assert Outcome(Category.OK, "x", verified=False).level == "unverified"
    assert Outcome(Category.TIMEOUT, "x").level == "failed"
    assert (
        Outcome.from_dict({"category": "no-such-category", "message": "m"}).category
        is Category.PROTOCOL_ERROR
    )


def test_parameters_are_parsed_by_their_fields():
    op = Operation(
        "x",
        "X",
        lambda ctx: [],
        params=(
            Field("port", "Port", kind="port", required=True),
            Field("mode", "Mode", kind="choice", default="a", choices=(("a", "A"), ("b", "B"))),
        ),
    )
    assert parse_params(op, {"port": "443"}) == {"port": 443, "mode": "a"}
    with pytest.raises(Exception, match="Port: 99999 is out of range"):
        parse_params(op, {"port": "99999"})
    with pytest.raises(Exception, match="Mode: 'c' is not one of: a, b"):
        parse_params(op, {"port": "1", "mode": "c"})
    with pytest.raises(AssertionError):
        Operation("y", "Y", lambda ctx: [], params=(Field("token", "Token", kind="secret"),))


def test_every_supported_integration_declares_one_check():
    for spec in catalog.all_specs():
        if spec.supported:
            assert spec.check_op is not None and spec.check_op.name == "check", spec.kind
            assert [op.name for op in spec.operations].count("check") == 1
            assert len({op.name for op in spec.operations}) == len(spec.operations)


# ---- exit status and redaction ---------------------------------------------------------------------
def test_exit_status_map():
    ok = Outcome(Category.OK, "ok")
    failed = Outcome(Category.AUTH_FAILED, "no")
    refused = Outcome(Category.MISSING_SECRET, "no secret", refused=True)
    assert exit_status([]) == 0
    assert exit_status([ok, ok]) == 0
    assert exit_status([ok, failed]) == 1
    assert exit_status([refused]) == 2
    assert exit_status([ok], usage_error=True) == 2
    assert exit_status([ok, refused], refusal_is_usage=False) == 1  # xdrconf check


def test_every_form_of_a_secret_is_redacted():
    secret = 'pa ss/wörd+"\\1'
    user = "analyst"
    r = Redactor()
    r.add(secret, context=[user])
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    text = " ".join(sorted(variants(secret, [user])))
    assert secret in text and basic in text
    data = {"a": [secret, {"k": f"Basic {basic}"}], secret: (1, f"x{secret}x")}
    clean = r(data)
    assert MASK in clean["a"][0] and clean["a"][1]["k"] == f"Basic {MASK}"
    assert secret not in repr(clean) and basic not in repr(clean)
    key = "-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n-----END KEY-----\n"
    r.add(key)
    assert r.text("line QUJDREVGR0hJSktMTU5PUFFSU1RVVldY leaked") == f"line {MASK} leaked"
    assert variants("abc") == set()  # too short to search for without masking ordinary words


def test_a_check_result_is_stored_redacted(ws, kuma, test_ca, config_dir):
    secret = "kuma-token-echoed-4711"
    kuma.api.tokens = {secret: next(iter(kuma.api.tokens.values()))}
    kuma.api.mode = "echo200"
    configure(ws, kuma.port, ca=test_ca.cert_pem, token=secret)
    [r] = run_operation(ws, "Acme", "kuma")
    ws.record_results({(ws.tenant("Acme").id, "kuma"): [r.to_dict()]})
    assert r.ok and MASK in r.message
    assert secret not in (config_dir / "settings.json").read_text()
