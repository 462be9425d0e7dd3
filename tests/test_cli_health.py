"""`xdrconf health`, the command-line twin of the window's health grid (core.health): the
levels of every tenant's integrations from their stored results, the name and level
filters, JSON and CSV (the window's export format), and --check of what is shown against
the real KUMA-like HTTPS peer, its results kept."""

from __future__ import annotations

import csv
import json

import pytest

from support.kuma_peer import GOOD_TOKEN, configure
from xdrconf.core.workspace import IntegrationEdit


def three(ws, kuma, test_ca):
    """Acme (good token), Globex (a token KUMA refuses), Initech (KUMA set up, turned off)."""
    configure(ws, kuma.port, tenant="Acme", token=GOOD_TOKEN, ca=test_ca.cert_pem)
    configure(ws, kuma.port, tenant="Globex", token="revoked-token", ca=test_ca.cert_pem)
    configure(ws, kuma.port, tenant="Initech", token=GOOD_TOKEN, ca=test_ca.cert_pem, enabled=False)
    ws.update_integration("Acme", IntegrationEdit("tip", values={"access": "general"}))


def lines(out: str) -> list[str]:
    return [line.rstrip() for line in out.splitlines()]


def test_health_before_and_after_checking_what_is_shown(cli, ws, kuma, test_ca):
    three(ws, kuma, test_ca)
    ws.close()
    r = cli("health")
    assert r.code == 0, r
    shown = lines(r.out)
    assert any(
        line.startswith("Root tenant/Acme ") and "KUMA REST API ? not checked" in line for line in shown
    )
    assert any(line.startswith("Root tenant/Initech ") and line.endswith(" off") for line in shown)
    assert shown[-1] == "4 tenants: ? 2 not checked"  # Root, Acme, Globex, Initech (Shared is no row)
    # Check what is shown: the two KUMA integrations turned on; Globex's token is refused.
    r = cli("health", "--check")
    assert r.code == 1, r
    assert len(kuma.requests) == 2
    shown = lines(r.out)
    assert any(line.startswith("Root tenant/Acme ") and "KUMA REST API ✓ OK" in line for line in shown)
    assert any(line.startswith("Root tenant/Globex ") and "KUMA REST API ✗ failed" in line for line in shown)
    assert shown[-1] == "4 tenants: ✓ 1 OK, ✗ 1 failed"
    # Kept: the next listing (no check) shows the same, and so does the window's grid.
    again = cli("health", "--level", "error", "--json")
    assert again.code == 0 and len(kuma.requests) == 2
    assert [(t["tenant"], t["cells"]) for t in json.loads(again.out)] == [
        ("Root tenant/Globex", {"kuma": "error"})
    ]


def test_filters_json_and_csv(cli, ws, kuma, test_ca, tmp_path):
    three(ws, kuma, test_ca)
    ws.close()
    data = json.loads(cli("health", "--name", "ACM", "--json").out)
    assert [t["tenant"] for t in data] == ["Root tenant/Acme"]
    assert data[0]["cells"]["kuma"] == "unchecked" and data[0]["cells"]["tip"] == "off"
    assert cli("health", "--name", "nobody").out.strip() == "No tenant matches."
    every = lines(cli("health", "--name", "Initech", "--all").out)
    off = "\u2013 off"  # the grid's dash for "off"
    assert f"KUMA REST API {off}" in every[0] and f"SKDPU NT {off}" in every[0]
    path = tmp_path / "grid.csv"
    r = cli("health", "--csv", str(path))
    assert r.code == 0 and "4 tenants written to" in r.err
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, as the window writes it
    table = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert table[0][:2] == ["Tenant", "KUMA REST API"]
    assert table[3][:2] == ["Root tenant/Globex", "not checked"]
    assert GOOD_TOKEN not in raw.decode("utf-8-sig")
    stdout = cli("health", "--csv", "-", "--level", "unchecked")
    assert stdout.code == 0 and stdout.out.splitlines()[1].startswith("Root tenant/Acme,not checked")


def test_refusals(cli, ws, tmp_path, capsys):
    from xdrconf.cli.main import run

    ws.close()
    r = cli("health", "--check", "--csv", str(tmp_path / "x.csv"))
    assert r.code == 2 and "--check and --csv cannot be used together" in r.err
    with pytest.raises(SystemExit) as done:
        run(["--config-dir", str(ws.config_dir), "health", "--level", "purple"])
    assert done.value.code == 2 and "invalid choice: 'purple'" in capsys.readouterr().err
    r = cli("health", "--csv", str(tmp_path / "no-such-folder" / "x.csv"))
    assert r.code == 2 and "cannot write" in r.err and "No such file or directory" in r.err
    r = cli("health", "--check")
    assert r.code == 0 and "Nothing to check" in r.err
