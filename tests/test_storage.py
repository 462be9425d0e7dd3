"""The settings file: atomic save with backup, private permissions, corrupt and
unknown-version files kept aside, a crash mid-save, and the folder lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from typing import Any

import pytest

from xdrconf.core.errors import ReadOnlyError, SettingsIOError, SettingsLocked, SettingsUnreadable
from xdrconf.core.storage import SettingsFile, new_document
from xdrconf.core.workspace import Workspace


def test_new_folder_starts_with_root_and_shared(config_dir, keyring_backend):
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        assert [t.name for t in ws.tree.walk_all()] == ["Root tenant", "Shared"]
        ws.add_tenant("Acme")
    doc = json.loads((config_dir / "settings.json").read_text())
    assert doc["schema"] == "xdrconf-settings" and doc["version"] == 1
    assert [t["name"] for t in doc["tenants"]] == ["Root tenant", "Acme", "Shared"]


def test_file_is_private_and_backup_kept(ws, config_dir):
    ws.add_tenant("One")
    ws.add_tenant("Two")
    path = config_dir / "settings.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((config_dir / "settings.json.bak").stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    backup = json.loads((config_dir / "settings.json.bak").read_text())
    assert "Two" not in [t["name"] for t in backup["tenants"]]
    assert "One" in [t["name"] for t in backup["tenants"]]
    assert not [p for p in config_dir.iterdir() if p.name.endswith(".tmp")]


def _crash_during_save(config_dir: str) -> None:
    """Child process: start a save and die (SIGKILL) between writing and replacing."""
    import signal

    sf = SettingsFile(__import__("pathlib").Path(config_dir))
    doc = sf.load().document
    doc["tenants"][0]["name"] = "Renamed by a crashing save"
    real_replace = os.replace

    def dying_replace(src: Any, dst: Any, **kw: Any) -> None:
        if str(dst).endswith("settings.json"):
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    os.replace = dying_replace
    sf.save(doc)


def test_crash_between_write_and_replace_leaves_old_settings(ws, config_dir, keyring_backend):
    ws.add_tenant("Kept")
    before = (config_dir / "settings.json").read_bytes()
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_crash_during_save, args=(str(config_dir),))
    proc.start()
    proc.join(30)
    assert proc.exitcode == -9
    assert (config_dir / "settings.json").read_bytes() == before
    ws.close()
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as again:
        assert again.notice is None
        assert "Kept" in [t.name for t in again.tree.walk_all()]


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"{not json", "is not valid JSON"),
        (
            b'{"schema": "xdrconf-settings", "version": 99, "tenants": []}',
            "version: 99 is a schema version this xdrconf (version 1) cannot read",
        ),
        (b'{"schema": "something-else"}', "not an xdrconf settings document"),
        (
            b'{"schema": "xdrconf-settings", "version": 1, "namespace": "x", "tenants": [{"id": "1"}]}',
            "tenants[0].name: is missing",
        ),
    ],
)
def test_corrupt_or_unknown_file_is_kept_aside_and_backup_offered(
    config_dir, keyring_backend, content, reason
):
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        ws.add_tenant("Precious")
        ws.add_tenant("Second")  # the backup now holds "Precious"
    (config_dir / "settings.json").write_bytes(content)
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        assert ws.notice is not None
        assert reason in ws.notice.message
        assert "The last good settings are kept in settings.json.bak" in ws.notice.message
        aside = [p for p in config_dir.iterdir() if p.name.startswith("settings.corrupt-")]
        assert len(aside) == 1 and aside[0].read_bytes() == content
        assert not (config_dir / "settings.json").exists()  # never overwritten
        ws.restore_backup()
        assert "Precious" in [t.name for t in ws.tree.walk_all()]
        assert ws.notice is None


def test_corrupt_file_without_backup(config_dir, keyring_backend):
    (config_dir / "settings.json").write_text("garbage")
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        assert ws.notice is not None and "No backup is available" in ws.notice.message
        ws.add_tenant("Fresh")
    assert [p.name for p in config_dir.iterdir() if p.name.startswith("settings.corrupt-")]


def test_second_instance_is_locked_out_or_read_only(ws, config_dir, keyring_backend):
    with pytest.raises(SettingsLocked, match="open in another xdrconf"):
        Workspace.open(config_dir, keyring_backend=keyring_backend)
    other = Workspace.open(config_dir, keyring_backend=keyring_backend, readonly_if_locked=True)
    assert other.readonly and "another xdrconf" in other.readonly_reason
    with pytest.raises(ReadOnlyError):
        other.add_tenant("Lost")
    ws.add_tenant("Kept")
    assert "Kept" in [t["name"] for t in json.loads((config_dir / "settings.json").read_text())["tenants"]]
    ws.close()
    again = Workspace.open(config_dir, keyring_backend=keyring_backend)  # lock released
    again.close()


def test_failed_save_leaves_previous_config_and_no_new_secret(ws, config_dir, keyring_backend):
    """Make the save itself fail by putting a folder where the temporary file's target is."""
    from xdrconf.core.workspace import IntegrationEdit

    ws.add_tenant("T")
    before = (config_dir / "settings.json").read_bytes()
    (config_dir / "settings.json.bak").unlink(missing_ok=True)
    (config_dir / "settings.json.bak").mkdir()  # writing the backup now fails
    with pytest.raises(
        SettingsIOError, match=r"settings\.json\.bak: a folder stands where the file should be"
    ):
        ws.update_integration(
            "T",
            IntegrationEdit("kuma", values={"host": "k.example.invalid"}, secrets={"token": "never-kept"}),
        )
    assert (config_dir / "settings.json").read_bytes() == before
    assert "kuma" not in ws.tenant("T").integrations
    # the secret written before the failed save was removed again
    found = [item for item in _secret_service_items(keyring_backend, ws.secrets.service)]
    assert found == []


def _secret_service_items(backend, service):
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        return [item.get_label() for item in secretstorage.search_items(conn, {"service": service})]
    finally:
        conn.close()


def test_new_document_ids_differ():
    assert new_document()["namespace"] != new_document()["namespace"]


def test_load_rejects_structures(tmp_path):
    sf = SettingsFile(tmp_path)
    (tmp_path / "settings.json").write_text(
        '{"schema": "xdrconf-settings", "version": 1, "namespace": "", "tenants": []}'
    )
    with pytest.raises(SettingsUnreadable):
        sf.load()
