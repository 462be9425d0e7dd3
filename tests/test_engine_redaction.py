"""Redaction by the engine, through real peers that echo the credential back (KUMA, TIP, KASAP):
the canary secret never appears, in any encoding, on the command line's standard output or
error (check, alerts, tip lookup, kasap groups), in settings.json's stored results, in the
TIP cache, in logs, or in the text of the exception a window shows."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from support.echo import CANARY, leaks
from support.https_peer import HttpsPeer
from support.kasap_peer import KasapApi
from support.kuma_peer import KumaApi
from support.tip_peer import TipPortal
from support.trickle_peer import TricklePeer
from xdrconf.core.engine import ACTIVE, MASK, OperationFailed, run_operation
from xdrconf.core.outcome import Category


def set_up(cli, kind, tenant, values, tmp_path, test_ca):
    ca = tmp_path / "ca.pem"
    ca.write_text(test_ca.cert_pem)
    if tenant != "Root":
        assert cli("tenant", "add", tenant).code == 0
    r = cli(
        "integration",
        "set",
        tenant,
        kind,
        *[f"{k}={v}" for k, v in values.items()],
        f"tls_ca=@{ca}",
        "--secret",
        "token",
        stdin=CANARY + "\n",
    )
    assert r.code == 0, r
    assert cli("integration", "enable", tenant, kind).code == 0


def no_leak(*texts: str) -> None:
    for text in texts:
        assert leaks(text) == [], text


@pytest.fixture
def kuma_echo(server_cert, cli, tmp_path, test_ca):
    api = KumaApi(token=CANARY)
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        set_up(cli, "kuma", "Acme", {"host": "127.0.0.1", "port": peer.port}, tmp_path, test_ca)
        yield peer


def test_kuma_check_answer_carrying_the_token(cli, kuma_echo, config_dir, caplog):
    caplog.set_level(logging.DEBUG)
    kuma_echo.api.mode = "echo200"
    r = cli("check", "Acme", "kuma", "--json")
    assert r.code == 0, r
    [item] = json.loads(r.out)
    assert item["category"] == "ok" and MASK in item["message"]
    shown = cli("integration", "show", "Acme", "kuma", "--json")
    assert json.loads(shown.out)["last_check"]["details"]["tenants"] == [MASK]
    no_leak(r.out, r.err, shown.out, (config_dir / "settings.json").read_text(), caplog.text)
    assert kuma_echo.requests[-1].headers["Authorization"] == f"Bearer {CANARY}"  # it was sent


def test_kuma_refusal_echoing_the_token(cli, kuma_echo, config_dir, caplog):
    caplog.set_level(logging.DEBUG)
    kuma_echo.api.mode = "echo"
    r = cli("alerts", "Acme", "--json")
    assert r.code == 1 and "403 access denied" in r.err and MASK in r.err
    check = cli("check", "--json")
    assert check.code == 1
    gen = cli("kuma", "receive", "Acme", "--json")
    assert gen.code == 1 and json.loads(gen.out)[0]["category"] == "auth_failed"
    no_leak(r.out, r.err, check.out, check.err, gen.out, gen.err, caplog.text)
    no_leak((config_dir / "settings.json").read_text())


def test_kuma_refusal_in_the_window_s_exception_text(ws, kuma, test_ca):
    from support.kuma_peer import configure

    kuma.api.tokens = {CANARY: next(iter(kuma.api.tokens.values()))}
    kuma.api.mode = "echo"
    configure(ws, kuma.port, ca=test_ca.cert_pem, token=CANARY)
    [outcome] = run_operation(ws, "Acme", "kuma", "receive")
    assert outcome.category is Category.AUTH_FAILED
    error = OperationFailed.of(outcome)
    no_leak(str(error), repr(error), repr(outcome), json.dumps(outcome.public()))


@pytest.fixture
def tip_echo(server_cert, cli, tmp_path, test_ca):
    api = TipPortal(token=CANARY)
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        set_up(cli, "tip", "Root", {"opentip_url": f"https://127.0.0.1:{peer.port}"}, tmp_path, test_ca)
        yield peer


@pytest.mark.parametrize("mode", ["echo", "echo200"])
def test_tip_lookup_and_check(cli, tip_echo, config_dir, caplog, mode):
    caplog.set_level(logging.DEBUG)
    tip_echo.api.mode = mode
    lookup = cli("tip", "lookup", "Root", "good.example.invalid", "--json")
    plain = cli("tip", "lookup", "Root", "bad.example.invalid")
    check = cli("check", "Root", "tip", "--json")
    if mode == "echo":
        assert lookup.code == 1 and json.loads(lookup.out)["category"] == "auth_failed"
        assert check.code == 1
    else:
        assert lookup.code == 0 and MASK in json.dumps(json.loads(lookup.out)["data"])
        assert plain.code == 0 and check.code == 0
    cache = config_dir / "tip-cache.json"
    stored = cache.read_text() if cache.exists() else ""
    no_leak(lookup.out, lookup.err, plain.out, plain.err, check.out, check.err, stored, caplog.text)
    no_leak((config_dir / "settings.json").read_text())


@pytest.fixture
def kasap_echo(server_cert, cli, tmp_path, test_ca):
    api = KasapApi(token=CANARY)
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        set_up(cli, "kasap", "Acme", {"url": f"https://127.0.0.1:{peer.port}"}, tmp_path, test_ca)
        yield peer


@pytest.mark.parametrize("mode", ["echo", "echo200"])
def test_kasap_groups_and_check(cli, kasap_echo, config_dir, caplog, mode):
    caplog.set_level(logging.DEBUG)
    kasap_echo.api.mode = mode
    groups = cli("kasap", "groups", "Acme", "--json")
    text = cli("kasap", "groups", "Acme")
    check = cli("check", "Acme", "kasap", "--json")
    if mode == "echo":
        assert groups.code == 1 and "auth_failed" in groups.out and MASK in groups.out
    else:
        assert groups.code == 0 and any(g["id"] == MASK for g in json.loads(groups.out))
        assert check.code == 0
    no_leak(groups.out, groups.err, text.out, text.err, check.out, check.err, caplog.text)
    no_leak((config_dir / "settings.json").read_text())


# ---- the log record factory ------------------------------------------------------------------------
def test_no_log_record_carries_a_running_operation_s_secret(ws, server_cert, test_ca, caplog):
    """While an operation runs, any log line (from any logger, any thread), its arguments
    and its traceback are cleaned of the operation's secrets; afterwards they are no longer
    looked for."""
    from support.kuma_peer import configure

    caplog.set_level(logging.DEBUG)
    other = logging.getLogger("some.library")
    with TricklePeer(cert=server_cert) as peer:
        configure(ws, peer.port, ca=test_ca.cert_pem, token=CANARY)
        cancel = threading.Event()
        done: list = []
        runner = threading.Thread(
            target=lambda: done.extend(run_operation(ws, "Acme", "kuma", "receive", cancel=cancel))
        )
        runner.start()
        try:
            for _ in range(200):
                if peer.requests:
                    break
                runner.join(0.05)
            assert peer.requests and ACTIVE
            other.warning("header was %r", f"Bearer {CANARY}")
            try:
                raise RuntimeError(f"could not send {CANARY}")
            except RuntimeError:
                other.exception("a library failed")
        finally:
            cancel.set()
            runner.join(10)
    assert done[0].category is Category.CANCELLED
    assert MASK in caplog.text
    no_leak(caplog.text)
    for _ in range(100):  # the abandoned thread ends once its connection is closed
        if not ACTIVE:
            break
        threading.Event().wait(0.05)
    assert not ACTIVE  # the run is over: nothing is looked for any more
