"""What goes with a removed tenant, and what an import asks to enter again."""

from __future__ import annotations

import json

from xdrconf.core import exchange
from xdrconf.core.integrations.tip.cache import CACHE_FILE, CACHE_SCHEMA, TipCache


def test_removed_tenant_leaves_no_cache_behind(ws, config_dir):
    gone = ws.add_tenant("Gone")
    kept = ws.add_tenant("Kept")
    kuma_cache = config_dir / "cache" / "kuma"
    kuma_cache.mkdir(parents=True)
    (kuma_cache / f"{gone.id}.json").write_text("{}")
    (kuma_cache / f"{kept.id}.json").write_text("{}")
    entries = {
        f"{tid}|general|https://opentip.kaspersky.com|domain|good.example.invalid": {
            "stored_at": "2026-01-01T00:00:00+00:00"
        }
        for tid in (gone.id, kept.id)
    }
    (config_dir / CACHE_FILE).write_text(
        json.dumps({"schema": CACHE_SCHEMA, "version": 1, "entries": entries})
    )
    ws.remove_tenant("Gone")
    assert not (kuma_cache / f"{gone.id}.json").exists()
    assert (kuma_cache / f"{kept.id}.json").exists()
    left = TipCache(config_dir)._load()
    assert [k.split("|")[0] for k in left] == [kept.id]


def test_import_says_how_to_enter_each_missing_secret(ws):
    ws.add_tenant("Acme")
    doc = {
        "schema": "xdrconf-export",
        "version": 1,
        "tenants": [
            {
                "path": "Root tenant/Acme",
                "integrations": {
                    "kuma": {
                        "enabled": True,
                        "settings": {"host": "k.example.invalid", "port": 7223},
                        "secrets_set": ["token"],
                    },
                    "kata": {
                        "enabled": False,
                        "settings": {"connections": []},
                        "secrets_set": ["key:1b4e28ba-2fa1-11d2-883f-0016d3cca427"],
                    },
                },
            }
        ],
    }
    needed = exchange.import_document(ws, doc)
    hints = {n.kind: n.hint() for n in needed}
    assert hints["kuma"] == "xdrconf integration set 'Root tenant/Acme' kuma --secret token"
    assert hints["kata"].startswith(
        "xdrconf kata regenerate 'Root tenant/Acme' 1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    )
    assert not ws.tenant("Acme").integrations["kuma"].enabled  # no token yet: imported off


def test_saving_kuma_commands_keeps_the_last_check_result(ws):
    from xdrconf.core.workspace import IntegrationEdit

    ws.add_tenant("T")
    ws.update_integration("T", IntegrationEdit("kuma", values={"host": "k.example.invalid"}))
    tid = ws.tenant("T").id
    ws.record_results(
        {(tid, "kuma"): [{"category": "ok", "message": "fine", "checked_at": "2026-11-22T00:00:00+00:00"}]}
    )
    ws.update_integration("T", IntegrationEdit("kuma", structured={"commands": []}))
    assert ws.tenant("T").integrations["kuma"].results[0]["category"] == "ok"
    ws.update_integration("T", IntegrationEdit("kuma", values={"port": "7000"}))
    assert ws.tenant("T").integrations["kuma"].results == []  # a changed address makes it stale
