"""The tenant tree's rules, and the workspace operations that carry secrets along."""

from __future__ import annotations

import pytest

from xdrconf.core.errors import TenantError, ValidationError
from xdrconf.core.tenants import TenantTree, validate_name
from xdrconf.core.workspace import IntegrationEdit


def kuma_edit(token: str | None = "tok-parent", host: str = "kuma.example.invalid") -> IntegrationEdit:
    return IntegrationEdit(
        "kuma",
        values={"host": host, "port": "7223"},
        secrets={"token": token} if token else {},
        enabled=bool(token),
    )


def test_new_tree_has_root_and_shared():
    tree = TenantTree.new()
    assert tree.root.is_root and tree.shared.is_shared
    assert [t.name for t in tree.walk_all()] == ["Root tenant", "Shared"]


@pytest.mark.parametrize("raw,expected", [("  Acme  ", "Acme"), ("A  b", "A b"), ("Ü-Tenant", "Ü-Tenant")])
def test_names_are_trimmed(raw, expected):
    assert validate_name(raw) == expected


@pytest.mark.parametrize(
    "raw,problem",
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a/b", "must not contain '/'"),
        ("x" * 129, "at most 128"),
    ],
)
def test_bad_names_are_refused_with_reason(raw, problem):
    with pytest.raises(ValidationError) as err:
        validate_name(raw)
    assert "Tenant name" in str(err.value) and problem in str(err.value)


def test_sibling_names_unique_case_insensitively():
    tree = TenantTree.new()
    eu = tree.add("EU", tree.root_id, {})
    tree.add("Acme", eu.id, {})
    with pytest.raises(TenantError, match="already exists"):
        tree.add("acme", eu.id, {})
    tree.add("Acme", tree.root_id, {})  # same name elsewhere is fine


def test_root_and_shared_rules():
    tree = TenantTree.new()
    with pytest.raises(TenantError):
        tree.remove(tree.root_id)
    with pytest.raises(TenantError):
        tree.remove(tree.shared_id)
    with pytest.raises(TenantError):
        tree.move(tree.root_id, tree.root_id)
    with pytest.raises(TenantError):
        tree.add("X", tree.shared_id, {})
    with pytest.raises(TenantError):
        tree.rename(tree.shared_id, "Other")


def test_move_rules():
    tree = TenantTree.new()
    a = tree.add("A", tree.root_id, {})
    b = tree.add("B", a.id, {})
    c = tree.add("C", tree.root_id, {})
    with pytest.raises(TenantError, match="under itself"):
        tree.move(a.id, b.id)
    tree.move(b.id, c.id)
    assert tree.path(b.id) == "Root tenant/C/B"
    tree.add("B", a.id, {})
    with pytest.raises(TenantError, match="already exists"):
        tree.move(b.id, a.id)


def test_parent_with_children_cannot_be_removed():
    tree = TenantTree.new()
    a = tree.add("A", tree.root_id, {})
    tree.add("B", a.id, {})
    with pytest.raises(TenantError, match=r"has 1 child tenant \(B\); remove or move it first"):
        tree.remove(a.id)


def test_find_by_path_name_and_ambiguity():
    tree = TenantTree.new()
    eu = tree.add("EU", tree.root_id, {})
    us = tree.add("US", tree.root_id, {})
    tree.add("Acme", eu.id, {})
    tree.add("Acme", us.id, {})
    assert tree.path(tree.find("Root tenant/EU/Acme").id) == "Root tenant/EU/Acme"
    assert tree.find("EU/Acme").parent_id == eu.id
    assert tree.find("Root").is_root and tree.find("shared").is_shared
    with pytest.raises(Exception, match="several tenants"):
        tree.find("Acme")


def test_round_trip_and_corrupt_structures():
    tree = TenantTree.new()
    a = tree.add("A", tree.root_id, {})
    tree.add("B", a.id, {})
    again = TenantTree.from_list(tree.to_list())
    assert [t.name for t in again.walk_all()] == ["Root tenant", "A", "B", "Shared"]
    items = tree.to_list()
    items[1]["parent"] = items[2]["id"]  # A under B under A: a cycle
    with pytest.raises(ValueError):
        TenantTree.from_list(items)


def test_child_gets_copy_of_parent_settings_and_secrets(ws):
    ws.add_tenant("Parent")
    ws.update_integration("Parent", kuma_edit())
    child = ws.add_tenant("Child", "Parent")
    parent = ws.tenant("Parent")
    assert child.integrations["kuma"].settings == parent.integrations["kuma"].settings
    assert child.integrations["kuma"].enabled
    # A secret copied as a new keyring entry, not shared.
    assert child.integrations["kuma"].secrets["token"] != parent.integrations["kuma"].secrets["token"]
    assert ws.secret(child, "kuma", "token") == "tok-parent"


def test_child_and_parent_are_independent_afterwards(ws):
    ws.add_tenant("Parent")
    ws.update_integration("Parent", kuma_edit())
    ws.add_tenant("Child", "Parent")
    ws.update_integration(
        "Child",
        IntegrationEdit("kuma", values={"host": "child.example.invalid"}, secrets={"token": "tok-child"}),
    )
    parent = ws.tenant("Parent")
    assert parent.integrations["kuma"].settings["host"] == "kuma.example.invalid"
    assert ws.secret(parent, "kuma", "token") == "tok-parent"
    ws.update_integration(
        "Parent", IntegrationEdit("kuma", values={"port": "9000"}, secrets={"token": "tok-p2"})
    )
    assert ws.tenant("Child").integrations["kuma"].settings["port"] == 7223
    assert ws.secret(ws.tenant("Child"), "kuma", "token") == "tok-child"


def test_remove_deletes_integrations_and_their_secrets(ws, keyring_backend):
    ws.add_tenant("Gone")
    ws.update_integration("Gone", kuma_edit("tok-gone"))
    tenant = ws.tenant("Gone")
    ref = tenant.integrations["kuma"].secrets["token"]
    summary = ws.removal_summary("Gone")
    assert any("KUMA REST API" in line and "1 secret" in line for line in summary)
    ws.remove_tenant("Gone")
    assert keyring_backend.get_password(ws.secrets.service, ref) is None
    assert "Gone" not in [t.name for t in ws.tree.walk_all()]


def test_replacing_a_secret_deletes_the_old_entry(ws, keyring_backend):
    ws.add_tenant("T")
    ws.update_integration("T", kuma_edit("first"))
    old = ws.tenant("T").integrations["kuma"].secrets["token"]
    ws.update_integration("T", IntegrationEdit("kuma", secrets={"token": "second"}))
    assert keyring_backend.get_password(ws.secrets.service, old) is None
    assert ws.secret(ws.tenant("T"), "kuma", "token") == "second"


def test_shared_tenant_takes_no_integration_settings(ws):
    with pytest.raises(TenantError, match="needs no integration settings"):
        ws.update_integration("Shared", kuma_edit())


def test_enabling_requires_complete_settings(ws):
    ws.add_tenant("T")
    with pytest.raises(ValidationError, match="API token"):
        ws.update_integration(
            "T", IntegrationEdit("kuma", values={"host": "k.example.invalid"}, enabled=True)
        )
    assert "kuma" not in ws.tenant("T").integrations  # nothing half-saved


def test_any_integration_can_be_turned_off(ws):
    ws.add_tenant("T")
    ws.update_integration("T", kuma_edit())
    ws.set_enabled("T", "kuma", False)
    assert not ws.tenant("T").integrations["kuma"].enabled
    assert ws.secret(ws.tenant("T"), "kuma", "token") == "tok-parent"  # nothing else changes
