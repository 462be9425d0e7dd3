"""Many tenants at once: `xdrconf drift` (each field inherited or overridden, secrets compared
by value and never shown), `xdrconf push` (preview, --dry-run, --yes, secrets as new entries
of the store, one transaction) and the subtree edits (`tenant add NAME...`,
`integration set|enable|disable --subtree`): all or nothing, a half-way refusal changes
nothing and writes no audit line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xdrconf.core.workspace import IntegrationEdit, Workspace

TOKEN = "drift-kuma-token-0123456789"
OTHER = "drift-kuma-token-other-98765"


def doc(config_dir: Path) -> dict[str, Any]:
    return json.loads((config_dir / "settings.json").read_text())


def state(config_dir: Path, name: str, kind: str = "kuma") -> dict[str, Any]:
    tenant = next(t for t in doc(config_dir)["tenants"] if t["name"] == name)
    return tenant["integrations"].get(kind, {})


def audit_lines(config_dir: Path) -> list[dict[str, Any]]:
    path = config_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def family(cli, config_dir):
    """Acme (KUMA set up) with children EU and US (copies of it), and Globex (no KUMA)."""
    r = cli(
        "integration",
        "set",
        "Root",
        "kuma",
        "host=kuma.invalid",
        "port=7223",
        "--secret",
        "token",
        stdin=TOKEN + "\n",
    )
    assert r.code == 0, r
    assert cli("tenant", "add", "Acme").code == 0
    assert cli("tenant", "add", "EU", "US", "--parent", "Acme").code == 0
    return cli


def test_several_tenants_are_added_in_one_change(cli, config_dir):
    r = cli("tenant", "add", "A", "B", "C")
    assert r.code == 0, r
    assert "Added 'Root tenant/A'." in r.out and "Added 'Root tenant/C'." in r.out
    assert len({e["txn"] for e in audit_lines(config_dir)}) == 1
    before = (config_dir / "settings.json").read_bytes()
    r = cli("tenant", "add", "D", "B", "E")  # B is there: none of them is added
    assert r.code == 2 and "B" in r.err
    assert (config_dir / "settings.json").read_bytes() == before
    assert len(audit_lines(config_dir)) == 3


def test_drift_names_each_field_inherited_or_overridden(family, config_dir):
    cli = family
    r = cli("drift", "EU", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    fields = {(f["field"], f["status"]) for f in data["fields"]}
    assert ("host", "inherited") in fields and ("token", "inherited") in fields
    assert cli("integration", "set", "EU", "kuma", "host=eu.kuma.invalid", "--keep-secrets").code == 0
    assert cli("integration", "set", "US", "kuma", "--secret", "token", stdin=OTHER + "\n").code == 0
    r = cli("drift", "Acme", "--subtree")
    assert r.code == 0, r
    assert TOKEN not in r.out and OTHER not in r.out  # secrets are compared, never shown
    assert "Root tenant/Acme/EU (against Root tenant/Acme):" in r.out
    assert "overridden  KUMA Core host: eu.kuma.invalid (parent: kuma.invalid)" in r.out
    assert "overridden  API token: another value" in r.out
    assert "inherited   API token: the same value" in r.out
    data = json.loads(cli("drift", "Acme", "--subtree", "--json").out)
    assert data["compared"] == ["Root tenant/Acme", "Root tenant/Acme/EU", "Root tenant/Acme/US"]
    over = {(f["tenant"], f["field"]) for f in data["fields"] if f["status"] == "overridden"}
    assert over == {("Root tenant/Acme/EU", "host"), ("Root tenant/Acme/US", "token")}
    secret = next(f for f in data["fields"] if f["field"] == "token")
    assert secret["value"] is None and secret["parent_value"] is None
    r = cli("drift", "Root")
    assert r.code == 2 and "no parent to compare with" in r.err


def test_push_previews_then_copies_in_one_change(family, config_dir, keyring_backend):
    cli = family
    assert (
        cli(
            "integration", "set", "Acme", "kuma", "host=acme.kuma.invalid", "port=7224", "--keep-secrets"
        ).code
        == 0
    )
    assert cli("integration", "set", "Acme", "kuma", "--secret", "token", stdin=OTHER + "\n").code == 0
    before = (config_dir / "settings.json").read_bytes()
    r = cli("push", "Acme", "kuma", "host", "token", "--subtree", "--dry-run")
    assert r.code == 0, r
    assert "Root tenant/Acme/EU:" in r.out
    assert "KUMA Core host: kuma.invalid → acme.kuma.invalid" in r.out
    assert "API token: a copy of the value of 'Root tenant/Acme' (a new entry of the secret store)" in r.out
    assert "4 changes in 2 tenants." in r.out and "Nothing was changed (--dry-run)." in r.out
    assert OTHER not in r.out
    assert (config_dir / "settings.json").read_bytes() == before
    r = cli("push", "Acme", "kuma", "host", "token", "--subtree")  # not a terminal, no --yes
    assert r.code == 2 and "--yes" in r.err
    assert (config_dir / "settings.json").read_bytes() == before
    lines_before = len(audit_lines(config_dir))
    r = cli("push", "Acme", "kuma", "host", "token", "--subtree", "--yes")
    assert r.code == 0, r
    assert "Pushed, in one change: 4 changes in 2 tenants." in r.out
    acme, eu, us = (state(config_dir, n) for n in ("Acme", "EU", "US"))
    assert eu["settings"]["host"] == us["settings"]["host"] == "acme.kuma.invalid"
    assert eu["settings"]["port"] == 7223  # not named: not pushed
    refs = {acme["secrets"]["token"], eu["secrets"]["token"], us["secrets"]["token"]}
    assert len(refs) == 3  # each tenant has its own entry ...
    with Workspace.open(config_dir, readonly=True, keyring_backend=keyring_backend) as ws:
        assert {ws.secrets.get(ref) for ref in refs} == {OTHER}  # ... of the same value
    new = audit_lines(config_dir)[lines_before:]
    assert len({e["txn"] for e in new}) == 1
    assert {(e["tenant"], e["field"], e["new"]) for e in new if e["change"] == "secret"} == {
        ("Root tenant/Acme/EU", "token", "replaced"),
        ("Root tenant/Acme/US", "token", "replaced"),
    }
    r = cli("push", "Acme", "kuma", "host", "token", "--to", "EU", "--yes")
    assert r.code == 0 and "Nothing to change" in r.out
    r = cli("push", "EU", "kuma", "host", "--to", "US", "--yes")
    assert r.code == 2 and "is not below 'Root tenant/Acme/EU'" in r.err
    r = cli("push", "Acme", "kuma", "hots", "--subtree", "--yes")
    assert r.code == 2 and "'hots' is not a field of KUMA REST API" in r.err


def test_push_that_cannot_be_saved_changes_nothing(family, config_dir):
    cli = family
    assert cli("integration", "set", "Acme", "kuma", "host=acme.kuma.invalid", "--keep-secrets").code == 0
    before = (config_dir / "settings.json").read_bytes()
    lines_before = len(audit_lines(config_dir))
    (config_dir / "settings.json.bak").unlink()
    (config_dir / "settings.json.bak").mkdir()  # the save fails after every tenant was edited
    r = cli("push", "Acme", "kuma", "host", "token", "--subtree", "--yes")
    assert r.code != 0
    assert (config_dir / "settings.json").read_bytes() == before
    assert len(audit_lines(config_dir)) == lines_before


def test_a_subtree_edit_refused_half_way_changes_nothing(family, config_dir, keyring_backend):
    cli = family
    assert cli("tenant", "add", "Late", "--parent", "Acme").code == 0
    # Late's token is removed: turning KUMA on cannot work for Late, the last of the subtree.
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        ws.update_integration("Late", IntegrationEdit("kuma", secrets={"token": None}))
    before = (config_dir / "settings.json").read_bytes()
    lines_before = len(audit_lines(config_dir))
    r = cli("integration", "enable", "--subtree", "Acme", "kuma")
    assert r.code == 2
    assert "Tenant 'Root tenant/Acme/Late'" in r.err and "nothing was changed in any tenant" in r.err
    assert (config_dir / "settings.json").read_bytes() == before
    assert len(audit_lines(config_dir)) == lines_before
    r = cli("integration", "set", "--subtree", "Acme", "kuma", "host=all.kuma.invalid", "--keep-secrets")
    assert r.code == 0, r
    assert "set host — 4 tenants, in one change" in r.out
    assert {state(config_dir, n)["settings"]["host"] for n in ("Acme", "EU", "US", "Late")} == {
        "all.kuma.invalid"
    }
    assert state(config_dir, "Root tenant")["settings"]["host"] == "kuma.invalid"  # above the subtree
    r = cli("integration", "set", "--subtree", "Acme", "kuma", "--secret", "token", stdin=OTHER + "\n")
    assert r.code == 0, r
    refs = {state(config_dir, n)["secrets"]["token"] for n in ("Acme", "EU", "US", "Late")}
    assert len(refs) == 4  # a secret given once, stored as each tenant's own entry
    assert cli("integration", "enable", "--subtree", "Acme", "kuma").code == 0
    assert all(state(config_dir, n)["enabled"] for n in ("Acme", "EU", "US", "Late"))
    assert cli("integration", "disable", "--subtree", "Acme", "kuma").code == 0
    assert not any(state(config_dir, n)["enabled"] for n in ("Acme", "EU", "US", "Late"))
