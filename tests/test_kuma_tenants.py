"""KUMA's tenants as xdrconf tenants: `xdrconf tenant import-from-kuma` end to end against a
KUMA-like HTTPS peer on loopback (every page of GET tenants), the plan's rules, idempotence
and the KUMA tenant id recorded (and validated) in the settings file."""

from __future__ import annotations

import json

import pytest

from support.kuma_peer import GOOD_TOKEN, make_tenant
from xdrconf.core.integrations.kuma import tenants as kuma_tenants
from xdrconf.core.storage import SettingsFile


@pytest.fixture
def acme(kuma_cli):
    return kuma_cli


def _paths(cli) -> list[str]:
    return [t["path"] for t in json.loads(cli("tenant", "list", "--json").out)]


def test_every_page_is_read_and_the_missing_ones_are_added_once(cli, acme, config_dir):
    # With Main and Shared, 252 tenants: two pages, 250 and 2. (Each new child copies Acme's
    # KUMA token as its own keyring entry, some 80 ms each here: a third page would cost the
    # suite another 20 s for nothing new.)
    acme.api.add_tenants(250)
    r = cli("tenant", "import-from-kuma", "Acme")
    assert r.code == 0, r
    assert acme.api.tenant_pages == [1, 2]
    assert "KUMA lists 252 tenants (2 pages read)." in r.out
    assert "Added 250 tenants under 'Root tenant/Acme':" in r.out
    assert "KUMA's main tenant 'Main' is the tenant 'Root tenant'" in r.out
    assert "KUMA's shared tenant 'Shared' is the tenant 'Shared'" in r.out
    assert GOOD_TOKEN not in r.out + r.err
    paths = _paths(cli)
    assert "Root tenant/Acme/Customer 0002" in paths and "Root tenant/Acme/Customer 0251" in paths
    assert len(paths) == 2 + 1 + 250
    # The KUMA ids are in the settings file, on the tenants that stand for them.
    doc = json.loads((config_dir / "settings.json").read_text())
    by_name = {t["name"]: t for t in doc["tenants"]}
    assert by_name["Customer 0251"]["kuma_tenant_id"] == make_tenant(251)["id"]
    assert by_name["Root tenant"]["kuma_tenant_id"] == make_tenant(0)["id"]
    assert by_name["Shared"]["kuma_tenant_id"] == make_tenant(1)["id"]
    # Each child has its own copy of the token, stored for its own path.
    tokens = {
        t["integrations"]["kuma"]["secrets"]["token"] for t in doc["tenants"] if "kuma" in t["integrations"]
    }
    assert len(tokens) == 251
    # Again: nothing new; everything already there.
    acme.api.tenant_pages.clear()
    r = cli("tenant", "import-from-kuma", "Acme", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["added"] == [] and len(data["already"]) == 250 and len(data["mapped"]) == 2
    assert acme.api.tenant_pages == [1, 2]
    assert len(_paths(cli)) == 253


def test_a_new_kuma_tenant_is_added_the_next_time(cli, acme):
    acme.api.add_tenants(3)
    assert cli("tenant", "import-from-kuma", "Acme").code == 0
    acme.api.add_tenants(1, start=40)
    r = cli("tenant", "import-from-kuma", "Acme", "--json")
    data = json.loads(r.out)
    assert [a["path"] for a in data["added"]] == ["Root tenant/Acme/Customer 0040"]
    assert len(data["already"]) == 3


def test_dry_run_adds_nothing(cli, acme, config_dir):
    acme.api.add_tenants(2)
    before = (config_dir / "settings.json").read_bytes()
    r = cli("tenant", "import-from-kuma", "Acme", "--dry-run")
    assert r.code == 0, r
    assert "Would add 2 tenants under 'Root tenant/Acme':" in r.out
    assert "  + Root tenant/Acme/Customer 0002" in r.out
    assert (config_dir / "settings.json").read_bytes() == before


def test_skipped_with_their_reasons_and_existing_children_linked(cli, acme):
    assert cli("tenant", "add", "customer 0003", "--parent", "Acme").code == 0  # same name, other case
    assert cli("tenant", "add", "Linked", "--parent", "Acme").code == 0
    acme.api.add_tenants(2)  # Customer 0002, Customer 0003
    acme.api.tenants += [
        make_tenant(50, name="EU/West"),  # '/' separates tenants in a path
        make_tenant(51, name="   "),
        {**make_tenant(2), "name": "Customer 0002 again"},  # the same id twice
        make_tenant(52, name="CUSTOMER 0002"),  # a second tenant of the same name
        make_tenant(53, name="x" * 200),
        {**make_tenant(54), "id": "bad id with spaces"},
    ]
    r = cli("tenant", "import-from-kuma", "Acme", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert [a["path"] for a in data["added"]] == ["Root tenant/Acme/Customer 0002"]
    assert [(a["path"], a["name"]) for a in data["already"]] == [
        ("Root tenant/Acme/customer 0003", "Customer 0003")
    ]
    reasons = {s["name"]: s["reason"] for s in data["skipped"]}
    assert "must not contain '/'" in reasons["EU/West"]
    assert "must not be empty" in reasons["   "]
    assert reasons["Customer 0002 again"] == "KUMA listed this tenant twice"
    assert reasons["CUSTOMER 0002"] == "another KUMA tenant of the same name is added"
    assert "at most 128 characters" in reasons["x" * 200]
    assert "is not a KUMA tenant id" in reasons["Customer 0054"]
    # The child of the same name now records the KUMA id: the next run calls it already there.
    again = json.loads(cli("tenant", "import-from-kuma", "Acme", "--json").out)
    assert again["added"] == [] and len(again["already"]) == 2
    # A child of that name standing for another KUMA tenant is not taken over.
    acme.api.tenants = [make_tenant(0, name="Main", main=True), make_tenant(99, name="Customer 0002")]
    third = json.loads(cli("tenant", "import-from-kuma", "Acme", "--json").out)
    assert third["added"] == []
    assert "already stands for another KUMA tenant" in third["skipped"][0]["reason"]


def test_refusals_and_peer_failures_name_the_cause(cli, acme):
    r = cli("tenant", "import-from-kuma", "Root")
    assert r.code == 2 and "KUMA REST API is not configured for tenant 'Root tenant'" in r.out + r.err
    acme.api.mode = "error500"
    r = cli("tenant", "import-from-kuma", "Acme")
    assert r.code == 1 and "Server error" in r.out  # the category in words
    acme.api.mode = "ignore_page"
    acme.api.add_tenants(300)
    r = cli("tenant", "import-from-kuma", "Acme")
    assert r.code == 1 and "with the tenants of an earlier page" in r.out
    assert len(_paths(cli)) == 3  # nothing was added


def test_the_operation_from_the_generated_command_line(cli, acme):
    acme.api.add_tenants(1)
    r = cli("kuma", "tenants", "Acme", "--json")
    assert r.code == 0, r
    rows = json.loads(r.out)[0]["data"]["rows"]
    assert [t["name"] for t in rows] == ["Main", "Shared", "Customer 0002"]
    assert set(rows[0]) == {"id", "name", "main", "shared", "description"}


def test_plan_against_the_tree_without_a_peer(ws):
    ws.add_tenant("Parent")
    rows = [make_tenant(5), make_tenant(6, name="Parent"), make_tenant(0, name="Main", main=True)]
    result = kuma_tenants.plan(ws, "Parent", rows)
    assert [(i.name, i.status) for i in result.items] == [
        ("Customer 0005", kuma_tenants.ADD),
        ("Parent", kuma_tenants.ADD),  # a child named like its parent is fine
        ("Main", kuma_tenants.MAPPED),
    ]
    done = kuma_tenants.apply(ws, "Parent", rows, chosen={make_tenant(6)["id"]})
    assert [(i.name, i.status) for i in done.items] == [
        ("Customer 0005", kuma_tenants.SKIPPED),
        ("Parent", kuma_tenants.ADDED),
        ("Main", kuma_tenants.MAPPED),
    ]
    assert ws.tree.root.kuma_id == make_tenant(0)["id"]
    with pytest.raises(Exception, match="Shared tenant cannot have child tenants"):
        kuma_tenants.plan(ws, "Shared", rows)


@pytest.mark.parametrize(
    "value,problem",
    [
        ("has space", "is not a KUMA tenant id"),
        ("", "is not a KUMA tenant id"),
        (7, "must be text, not a number"),
    ],
)
def test_a_bad_kuma_id_in_the_settings_file_is_named_by_its_path(ws, config_dir, value, problem):
    ws.add_tenant("A")
    doc = json.loads((config_dir / "settings.json").read_text())
    doc["tenants"][1]["kuma_tenant_id"] = value
    from xdrconf.core.document import DocumentProblem

    with pytest.raises(DocumentProblem, match=r"tenants\[1\]\.kuma_tenant_id: .*" + problem):
        SettingsFile.check(json.dumps(doc).encode())


def test_the_same_kuma_id_on_two_tenants_is_refused_in_the_file(ws, config_dir):
    from xdrconf.core.document import DocumentProblem

    ws.add_tenant("A")
    ws.add_tenant("B")
    doc = json.loads((config_dir / "settings.json").read_text())
    doc["tenants"][1]["kuma_tenant_id"] = doc["tenants"][2]["kuma_tenant_id"] = "t-1"
    with pytest.raises(
        DocumentProblem, match=r"tenants\[2\]\.kuma_tenant_id: 't-1' is also the KUMA tenant of tenants\[1\]"
    ):
        SettingsFile.check(json.dumps(doc).encode())
