"""The audit trail (audit.jsonl): what each change records, the hash chain that `xdrconf
audit verify` checks (an edited, a removed and a reordered line are found), the listing,
and that it is written in the same transaction as the settings: a failed save writes no
line, and a crash (SIGKILL between any two steps) never leaves a line for a change that
did not happen, nor a saved change without its line."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from xdrconf.core import audit
from xdrconf.core.errors import SettingsIOError
from xdrconf.core.workspace import IntegrationEdit, Workspace

TOKEN = "audit-kuma-token-0123456789"
NEW_TOKEN = "audit-kuma-token-replaced-987"


def lines(config_dir: Path) -> list[dict[str, Any]]:
    path = config_dir / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def raw_lines(config_dir: Path) -> list[str]:
    return (config_dir / "audit.jsonl").read_text().splitlines(keepends=True)


def write_lines(config_dir: Path, text: list[str]) -> None:
    (config_dir / "audit.jsonl").write_text("".join(text))


def settings_head(config_dir: Path) -> dict[str, Any] | None:
    return json.loads((config_dir / "settings.json").read_text()).get("audit")


# ---- what is recorded ---------------------------------------------------------------------------
def test_every_kind_of_change_is_recorded_with_who_when_and_what_did_it(cli, config_dir):
    assert cli("tenant", "add", "Acme", "Globex").code == 0
    assert cli("tenant", "add", "EU", "--parent", "Acme").code == 0
    r = cli(
        "integration",
        "set",
        "Acme",
        "kuma",
        "host=kuma.invalid",
        "port=7223",
        "--secret",
        "token",
        stdin=TOKEN + "\n",
    )
    assert r.code == 0, r
    assert cli("integration", "set", "Acme", "kuma", "host=kuma2.invalid", "--keep-secrets").code == 0
    assert cli("integration", "set", "Acme", "kuma", "--secret", "token", stdin=NEW_TOKEN + "\n").code == 0
    assert cli("integration", "enable", "Acme", "kuma").code == 0
    assert cli("integration", "disable", "Acme", "kuma").code == 0
    assert cli("tenant", "rename", "Globex", "Globex Corp").code == 0
    assert cli("tenant", "move", "EU", "Globex Corp").code == 0
    assert cli("tenant", "remove", "EU", "--yes").code == 0
    assert cli("config", "set", "timeout=7").code == 0
    found = lines(config_dir)
    text = (config_dir / "audit.jsonl").read_text()
    assert TOKEN not in text and NEW_TOKEN not in text  # never a secret
    user, host = audit.who()
    assert {(e["user"], e["host"]) for e in found} == {(user, host)}
    assert all(e["at"].endswith("Z") for e in found)
    summary = [(e["change"], e["tenant"], e["integration"], e["field"], e["old"], e["new"]) for e in found]
    assert summary == [
        ("tenant_added", "Root tenant/Acme", "", "", None, "Root tenant/Acme"),
        ("tenant_added", "Root tenant/Globex", "", "", None, "Root tenant/Globex"),
        ("tenant_added", "Root tenant/Acme/EU", "", "", None, "Root tenant/Acme/EU"),
        ("field", "Root tenant/Acme", "kuma", "api_version", None, "v1"),
        ("field", "Root tenant/Acme", "kuma", "host", None, "kuma.invalid"),
        ("field", "Root tenant/Acme", "kuma", "port", None, 7223),
        ("secret", "Root tenant/Acme", "kuma", "token", None, "stored"),
        ("app_setting", "", "", "secret_store", None, "keyring"),  # the first secret chose the store
        ("field", "Root tenant/Acme", "kuma", "host", "kuma.invalid", "kuma2.invalid"),
        ("secret", "Root tenant/Acme", "kuma", "token", "set", "replaced"),
        ("integration_on", "Root tenant/Acme", "kuma", "", False, True),
        ("integration_off", "Root tenant/Acme", "kuma", "", True, False),
        ("tenant_renamed", "Root tenant/Globex Corp", "", "", "Globex", "Globex Corp"),
        ("tenant_moved", "Root tenant/Globex Corp/EU", "", "", "Root tenant/Acme", "Root tenant/Globex Corp"),
        (
            "tenant_removed",
            "Root tenant/Globex Corp/EU",
            "",
            "",
            "Root tenant/Globex Corp/EU",
            {"integrations": [], "secrets_deleted": 0},
        ),
        ("app_setting", "", "", "timeout", None, 7.0),
    ]
    actions = [e["action"] for e in found]
    assert actions[0] == actions[1] == "xdrconf tenant add Acme Globex"
    assert found[0]["txn"] == found[1]["txn"] != found[2]["txn"]  # one transaction, one txn id
    assert "xdrconf integration set Acme kuma host=kuma.invalid port=7223 --secret token" in actions
    assert actions[-1] == "xdrconf config set timeout=7"
    assert all("--config-dir" not in a for a in actions)
    assert settings_head(config_dir) == {
        "head": audit.digest(raw_lines(config_dir)[-1].rstrip("\n").encode()),
        "seq": 16,
    }
    # Checks are not changes: their results write no line.
    r = cli("check", "Acme", "kuma")
    assert len(lines(config_dir)) == 16
    # The listing, as people and scripts read it.
    r = cli("audit", "--tenant", "Acme", "--integration", "kuma")
    assert r.code == 0, r
    assert "Root tenant/Acme · KUMA REST API: KUMA Core host: 'kuma.invalid' → 'kuma2.invalid'" in r.out
    replaced = "Root tenant/Acme · KUMA REST API: API token: replaced"
    assert f"{replaced}  [xdrconf integration set Acme kuma --secret token]" in r.out
    assert f"{user}@{host}" in r.out
    r = cli("audit", "--tenant", "Root tenant/Globex Corp/EU", "--json")  # removed since: by its path
    data = json.loads(r.out)
    assert [e["change"] for e in data] == ["tenant_added", "tenant_moved", "tenant_removed"]
    assert data[-1]["text"] == "tenant removed"
    r = cli("audit", "--tenant", "Globex Corp")  # found by id: its lines from before the rename too
    assert "tenant added" in r.out and "renamed: 'Globex' → 'Globex Corp'" in r.out
    assert cli("audit", "--since", "2999-01-01").out.strip() == "No changes recorded."
    assert len(json.loads(cli("audit", "--since", "2000-01-01T00:00:00Z", "--json").out)) == 16
    r = cli("audit", "--since", "yesterday")
    assert r.code == 2 and "--since: 'yesterday' is not a date" in r.err


def test_restores_imports_and_subtree_edits_are_recorded(cli, config_dir, tmp_path):
    assert cli("tenant", "add", "A").code == 0
    assert cli("tenant", "add", "B").code == 0  # the backup holds A only
    assert cli("config", "restore-backup").code == 0
    found = lines(config_dir)
    assert [e["change"] for e in found[-2:]] == ["backup_restored", "tenant_removed"]
    assert found[-1]["tenant"] == "Root tenant/B" and found[-1]["action"] == "xdrconf config restore-backup"
    assert cli("audit", "verify").code == 0  # the restored settings carry the new head
    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(
            {
                "schema": "xdrconf-export",
                "version": 1,
                "tenants": [{"path": "Root tenant/Imported", "integrations": {}}],
            }
        )
    )
    assert cli("import", str(export)).code == 0
    assert lines(config_dir)[-1]["change"] == "tenant_added" and lines(config_dir)[-1]["action"].startswith(
        "xdrconf import "
    )
    assert (
        cli("integration", "set", "--subtree", "Root", "kuma", "host=k.invalid", "--keep-secrets").code == 0
    )
    subtree = [e for e in lines(config_dir) if e["field"] == "host"]
    assert [e["tenant"] for e in subtree] == ["Root tenant", "Root tenant/A", "Root tenant/Imported"]
    assert len({e["txn"] for e in subtree}) == 1


def test_a_failed_save_writes_no_line(ws, config_dir):
    ws.add_tenant("T")
    ws.add_tenant("U")  # the second save keeps the first as the backup
    before = raw_lines(config_dir)
    (config_dir / "settings.json.bak").unlink()
    (config_dir / "settings.json.bak").mkdir()  # writing the backup now fails
    with pytest.raises(SettingsIOError):
        ws.add_tenant("Never")
    assert raw_lines(config_dir) == before
    assert not (config_dir / "audit.pending.json").exists()
    (config_dir / "settings.json.bak").rmdir()
    ws.add_tenant("Later")  # the trail goes on where it was
    assert ws.audit.verify(ws.audit_head).ok
    assert [e["tenant"] for e in lines(config_dir)] == ["Root tenant/T", "Root tenant/U", "Root tenant/Later"]


def test_the_pending_file_refused_by_the_disk_fails_the_change(ws, config_dir):
    ws.add_tenant("T")
    (config_dir / "audit.pending.json").mkdir()  # a folder where the pending file goes
    with pytest.raises(
        SettingsIOError, match=r"audit\.pending\.json: a folder stands where the file should be"
    ):
        ws.add_tenant("Never")
    assert "Never" not in (config_dir / "settings.json").read_text()
    assert len(lines(config_dir)) == 1


# ---- verification -----------------------------------------------------------------------------------
@pytest.fixture
def six(cli, config_dir) -> list[str]:
    for name in ("One", "Two", "Three", "Four", "Five", "Six"):
        assert cli("tenant", "add", name).code == 0
    r = cli("audit", "verify")
    assert r.code == 0 and "is intact: 6 lines" in r.out, r
    return raw_lines(config_dir)


def test_an_edited_line_is_found(cli, config_dir, six):
    edited = list(six)
    edited[2] = edited[2].replace("Root tenant/Three", "Root tenant/Thr33")
    write_lines(config_dir, edited)
    r = cli("audit", "verify")
    assert r.code == 1
    assert "line 3 does not fit: it was changed after it was written" in r.out


def test_an_edited_last_line_is_found_by_the_head_in_the_settings(cli, config_dir, six):
    edited = list(six)
    edited[5] = edited[5].replace('"user":"', '"user":"x')
    write_lines(config_dir, edited)
    r = cli("audit", "verify", "--json")
    assert r.code == 1
    data = json.loads(r.out)
    assert data["ok"] is False and data["line"] == 6
    assert "the settings file records another SHA-256 for the last line" in data["problem"]


def test_a_removed_line_is_found(cli, config_dir, six):
    write_lines(config_dir, six[:3] + six[4:])
    r = cli("audit", "verify")
    assert r.code == 1
    assert "line 4 does not fit: it says it is line 5 of the trail" in r.out


def test_removed_last_lines_are_found(cli, config_dir, six):
    write_lines(config_dir, six[:4])
    r = cli("audit", "verify")
    assert r.code == 1
    assert "line 5 is missing: the settings file says the trail has 6 lines, it has 4" in r.out
    # A change made now goes on from line 4 and keeps the gap on record.
    assert cli("tenant", "add", "Seven").code == 0
    r = cli("audit", "verify")
    assert r.code == 1
    assert (
        "line 5 does not fit: when it was written, the trail did not end where the settings said (at line 6)"
        in r.out
    )


def test_reordered_lines_are_found(cli, config_dir, six):
    write_lines(config_dir, [six[0], six[2], six[1], *six[3:]])
    r = cli("audit", "verify")
    assert r.code == 1
    assert "line 2 does not fit: it says it is line 3 of the trail" in r.out


def test_a_line_that_is_not_json_and_an_added_line_are_found(cli, config_dir, six):
    write_lines(config_dir, [*six[:2], "garbage\n", *six[3:]])
    assert "line 3 is not a line of the audit trail" in cli("audit", "verify").out
    forged = json.loads(six[5])
    forged.update(seq=7, prev=audit.digest(six[5].rstrip("\n").encode()), tenant="Root tenant/Forged")
    write_lines(config_dir, [*six, json.dumps(forged) + "\n"])
    r = cli("audit", "verify")
    assert r.code == 1 and "line 7 does not fit: the settings file says the trail ends at line 6" in r.out


# ---- crashes between the steps ------------------------------------------------------------------------
def _crash_at(config_dir: str, step: str, keyring_backend: Any) -> None:
    """Child process: add a tenant and die (SIGKILL) at `step` of its transaction."""
    import signal

    folder = Path(config_dir)
    real_replace, real_open, real_write, real_unlink = os.replace, os.open, os.write, os.unlink

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        if step == "before-settings" and str(dst).endswith("settings.json"):
            die()
        real_replace(src, dst, **kw)

    def open_(path: Any, flags: int, *a: Any, **kw: Any) -> int:
        if step == "before-append" and str(path).endswith("audit.jsonl") and flags & os.O_APPEND:
            die()
        return real_open(path, flags, *a, **kw)

    def write(fd: int, data: Any) -> int:
        if step == "mid-append" and os.fstat(fd).st_ino == os.stat(folder / "audit.jsonl").st_ino:
            real_write(fd, bytes(data)[: len(data) // 2])
            os.fsync(fd)
            die()
        return real_write(fd, data)

    def unlink(path: Any, *a: Any, **kw: Any) -> None:
        if step == "before-unlink" and str(path).endswith("audit.pending.json"):
            die()
        real_unlink(path, *a, **kw)

    os.replace, os.open, os.write, os.unlink = replace, open_, write, unlink
    ws = Workspace.open(folder, keyring_backend=keyring_backend)
    from xdrconf.core.workspace import NewTenant

    ws.add_tenants([NewTenant("Crash A"), NewTenant("Crash B")])


@pytest.mark.parametrize(
    "step,saved",
    [
        ("before-settings", False),  # the lines are pending, the settings not written
        ("before-append", True),  # the settings written, nothing appended
        ("mid-append", True),  # the settings written, half a line appended
        ("before-unlink", True),  # all appended, the pending file still there
    ],
)
def test_a_crash_between_the_steps(config_dir, keyring_backend, step, saved):
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        ws.add_tenant("Kept")
    before_settings = (config_dir / "settings.json").read_bytes()
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_crash_at, args=(str(config_dir), step, keyring_backend))
    proc.start()
    proc.join(60)
    assert proc.exitcode == -9, f"the child did not die at {step}"
    assert (config_dir / "audit.pending.json").exists()  # what the crash left
    changed = (config_dir / "settings.json").read_bytes() != before_settings
    assert changed is saved
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        names = [t.name for t in ws.tree.walk_all()]
        found = lines(config_dir)
        assert not (config_dir / "audit.pending.json").exists()
        verdict = ws.audit.verify(ws.audit_head)
        assert verdict.ok, verdict
        if saved:
            assert "Crash A" in names and "Crash B" in names
            assert [e["tenant"] for e in found] == [
                "Root tenant/Kept",
                "Root tenant/Crash A",
                "Root tenant/Crash B",
            ]
        else:
            assert "Crash A" not in names
            assert [e["tenant"] for e in found] == ["Root tenant/Kept"]  # no line for what did not happen
        assert (config_dir / "audit.jsonl").read_bytes().endswith(b"\n")
        ws.add_tenant("After")  # the chain goes on
        assert ws.audit.verify(ws.audit_head).ok


def test_verify_counts_a_pending_change_of_another_instance_as_not_yet_appended(config_dir, keyring_backend):
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        ws.add_tenant("Kept")
    proc = multiprocessing.get_context("fork").Process(
        target=_crash_at, args=(str(config_dir), "before-append", keyring_backend)
    )
    proc.start()
    proc.join(60)
    ro = Workspace.open(config_dir, readonly=True, keyring_backend=keyring_backend)
    try:
        verdict = ro.audit.verify(ro.audit_head)
        assert verdict.ok and "still to be appended" in verdict.note
    finally:
        ro.close()


# ---- the window's path: an action names what did it ------------------------------------------------------
def test_the_action_of_a_thread_is_recorded(ws, config_dir):
    with ws.acting("window: Add child"):
        ws.add_tenant("By the window")
    ws.update_integration("By the window", IntegrationEdit("kuma", values={"host": "k.invalid"}))
    found = lines(config_dir)
    assert found[0]["action"] == "window: Add child"
    assert found[1]["action"] == "xdrconf"  # nothing said who: the program's name


def test_xdrconf_killed_from_outside_at_spread_moments_never_leaves_a_line_that_did_not_happen(
    config_dir, keyring_backend
):
    """Real `xdrconf tenant add` processes, SIGKILLed from outside at moments spread over a
    whole run (the last ones after it ended): after each, opening the folder for changes
    leaves a trail that verifies and names exactly the tenants the settings hold."""
    import signal
    import subprocess
    import sys
    import time

    def run(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "xdrconf", "--config-dir", str(config_dir), "tenant", "add", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    started = time.monotonic()
    assert run("First").wait(120) == 0
    whole = time.monotonic() - started  # how long one run takes on this machine now
    for i in range(8):
        proc = run(f"K{i} a", f"K{i} b")
        time.sleep(whole * (0.55 + 0.1 * i))
        proc.send_signal(signal.SIGKILL)
        proc.wait(120)
        with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:  # reconciles
            verdict = ws.audit.verify(ws.audit_head)
            assert verdict.ok, (i, verdict)
            held = {ws.tree.path(t.id) for t in ws.tree.walk(ws.tree.root.id)} - {"Root tenant"}
        recorded = {e["tenant"] for e in lines(config_dir) if e["change"] == "tenant_added"}
        assert recorded == held, i
        assert not (config_dir / "audit.pending.json").exists()
