"""The settings file: nothing lost, nothing crashes (issue 12). Each test goes through the
real stack: real files in a real folder, the real command line (in-process, or as its own
process where the start-up or the terminal matters), real file systems for the disk errors.

- A file kept aside never costs the last good settings: the backup is kept, not rotated,
  until it is restored or the notice dismissed, and every start says so.
- Whatever the file holds (deep nesting, NaN, wrong types, bad dates), the commands run
  without a traceback, or the file is kept aside with one message naming its JSON path.
- A file changed by another program since it was read is never overwritten.
- A full disk, a read-only folder, no permission: one sentence, exit 2, nothing lost;
  temporary files of interrupted saves are removed when the folder is next opened."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from support.gui import click, close_window, expect_dialog, some
from xdrconf.core.workspace import Workspace

NOTICE = re.compile(r"kept as (settings\.corrupt-[0-9-]+\.json)")


def corrupt_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("settings.corrupt-"))


def names(cli) -> list[str]:
    return [t["name"] for t in json.loads(cli("tenant", "list", "--json").out)]


def xdrconf(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess[str]:
    """The real command line in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "xdrconf", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env or dict(os.environ),
        **kw,
    )


# ---- the backup after a file was kept aside -------------------------------------------------------
def test_a_file_kept_aside_never_costs_the_good_backup(cli, config_dir):
    """Today: after a corrupt file was kept aside and the backup offered once, the next two
    ordinary saves overwrote settings.json.bak and the good settings were gone."""
    assert cli("tenant", "add", "Precious").code == 0
    assert cli("tenant", "add", "Second").code == 0  # the backup now holds Precious
    good_backup = (config_dir / "settings.json.bak").read_bytes()
    (config_dir / "settings.json").write_text("{ not json")
    first = cli("tenant", "list")
    assert first.code == 0
    aside = NOTICE.search(first.err)
    assert aside and (config_dir / aside.group(1)).read_text() == "{ not json"
    assert "line 1, column 3: is not valid JSON" in first.err
    # Every start says so, and ordinary saves keep the backup as it is.
    for name in ("A", "B", "C"):
        r = cli("tenant", "add", name)
        assert r.code == 0
        assert len(r.err.strip().splitlines()) == 1
        assert "kept as " + aside.group(1) in r.err and "xdrconf config restore-backup" in r.err
        assert (config_dir / "settings.json.bak").read_bytes() == good_backup
    assert names(cli) == ["Root tenant", "A", "B", "C", "Shared"]
    r = cli("config", "restore-backup")
    assert r.code == 0 and r.err == ""
    after = cli("tenant", "list")
    assert after.err == ""  # the notice is over
    assert names(cli) == ["Root tenant", "Precious", "Shared"]
    replaced = [p for p in config_dir.iterdir() if p.name.startswith("settings.replaced-")]
    assert len(replaced) == 1 and '"A"' in replaced[0].read_text()  # what was done meanwhile is kept
    # From now on saves keep a backup of the previous version again.
    cli("tenant", "add", "Third")
    assert "Precious" in (config_dir / "settings.json.bak").read_text()
    assert "Third" not in (config_dir / "settings.json.bak").read_text()


def test_dismissing_the_notice_keeps_the_current_settings(cli, config_dir):
    cli("tenant", "add", "Old")
    cli("tenant", "add", "Older")
    (config_dir / "settings.json").write_text("[]")
    r = cli("tenant", "add", "New")
    assert r.code == 0 and "the document: is not an xdrconf settings document" in r.err
    r = cli("config", "dismiss-notice")
    assert r.code == 0 and "Dismissed" in r.out and "settings.corrupt-" in r.out
    assert not (config_dir / "quarantine.json").exists()
    assert cli("tenant", "list").err == ""
    cli("tenant", "add", "Newer")
    assert "New" in names(cli) and "Old" not in names(cli)
    assert '"New"' in (config_dir / "settings.json.bak").read_text()  # rotated again
    assert cli("config", "dismiss-notice").out.startswith("There is no notice")
    assert len(corrupt_files(config_dir)) == 1  # the file kept aside stays


def test_a_second_bad_file_while_the_notice_is_pending_keeps_the_first_backup(cli, config_dir):
    cli("tenant", "add", "Precious")
    cli("tenant", "add", "Second")
    good_backup = (config_dir / "settings.json.bak").read_bytes()
    (config_dir / "settings.json").write_text("{")
    cli("tenant", "add", "Interim")
    (config_dir / "settings.json").write_text("{{")
    r = cli("tenant", "list")
    assert r.code == 0 and len(corrupt_files(config_dir)) == 2
    assert (config_dir / "settings.json.bak").read_bytes() == good_backup
    assert cli("config", "restore-backup").code == 0
    assert names(cli) == ["Root tenant", "Precious", "Shared"]


def test_without_a_backup_the_notice_says_so_until_dismissed(cli, config_dir):
    (config_dir / "settings.json").write_text("garbage")
    r = cli("tenant", "list")
    assert "No backup is available" in r.err and "dismiss-notice" in r.err and "restore-backup" not in r.err
    r = cli("config", "restore-backup")
    assert r.code == 2 and "There is no backup of the settings to restore." in r.err
    assert "No backup is available" in cli("tenant", "list").err
    assert cli("config", "dismiss-notice").code == 0
    assert cli("tenant", "list").err == ""


# ---- whatever the file holds -------------------------------------------------------------------------
def test_deeply_nested_brackets_are_kept_aside_without_a_traceback(cli, config_dir, tmp_path):
    """Today: 100,000 nested brackets gave a RecursionError traceback on every start and
    the file was not kept aside."""
    nested = "[" * 100_000 + "]" * 100_000
    (config_dir / "settings.json").write_text(nested)
    r = cli("tenant", "list")
    assert r.code == 0, r
    assert "the document: nests lists and objects more than 64 levels deep" in r.err
    assert [p.read_text() for p in corrupt_files(config_dir)] == [nested]
    # The same in a new process: the start-up (which reads the language setting first).
    other = tmp_path / "other"
    other.mkdir()
    (other / "settings.json").write_text('{"schema": "xdrconf-settings", "app": ' + "{" * 100_000)
    out = xdrconf("--config-dir", str(other), "tenant", "list")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "nests lists and objects more than 64 levels" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert len(corrupt_files(other)) == 1


def _valid_folder(cli) -> None:
    assert cli("config", "set", "timeout=10").code == 0
    assert cli("tenant", "add", "Acme").code == 0
    r = cli("integration", "set", "Acme", "kasap", "url=https://127.0.0.1:9", "token_issued=2025-01-01")
    assert r.code == 0, r


def _edit(config_dir: Path, old: str, new: str) -> None:
    path = config_dir / "settings.json"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "old,new,message",
    [
        ('"timeout": 10.0', '"timeout": null', "app.timeout: must be a number, not null"),
        ('"timeout": 10.0', '"timeout": "abc"', "app.timeout: must be a number, not text"),
        (
            '"timeout": 10.0',
            '"timeout": NaN',
            "app.timeout: NaN is not a number the settings file may hold (no NaN, no Infinity",
        ),
        ('"timeout": 10.0', '"timeout": Infinity', "app.timeout: Infinity is not a number the settings file"),
        ('"timeout": 10.0', '"timeout": -5', "app.timeout: give seconds between 0 and 600"),
        (
            '"token_issued": "2025-01-01"',
            '"token_issued": "2025-13-01"',
            "tenants[1].integrations.kasap.settings.token_issued: '2025-13-01' is not a date in the "
            "form YYYY-MM-DD",
        ),
        (
            '"token_issued": "2025-01-01"',
            '"token_issued": 20250101',
            "tenants[1].integrations.kasap.settings.token_issued: must be text, not a number",
        ),
        (
            '"enabled": false',
            '"enabled": "no"',
            "tenants[1].integrations.kasap.enabled: must be true or false",
        ),
        (
            '"name": "Acme"',
            '"name": "Acme", "name": "Evil"',
            "tenants[1]: the key 'name' appears more than once",
        ),
    ],
)
def test_bad_values_are_kept_aside_with_their_path(cli, config_dir, old, new, message):
    """Today: app.timeout null, "abc", NaN or Infinity and a KASAP token_issued of
    2025-13-01 passed the load and crashed check, tenant list or integration list."""
    _valid_folder(cli)
    _edit(config_dir, old, new)
    bad = (config_dir / "settings.json").read_text()
    for args in (("tenant", "list"), ("integration", "list", "Root"), ("check",)):
        r = cli(*args)
        assert r.code in (0, 2), r  # no traceback: run() returned
    first = [p.read_text() for p in corrupt_files(config_dir)]
    assert first == [bad]
    notice = cli("tenant", "list").err
    assert message in notice, notice
    assert "settings.json.bak" in notice  # the good version is there to restore
    assert cli("config", "restore-backup").code == 0
    assert "Acme" in names(cli)


def test_the_window_starts_on_a_bad_file_and_shows_the_banner(
    qtbot: QtBot, config_dir: Path, keyring_backend: Any
) -> None:
    from xdrconf.qt.app import start_gui

    (config_dir / "settings.json").write_text("{" * 100_000)
    with expect_dialog(qtbot, QMessageBox, click(QMessageBox.StandardButton.Ok), name="infoBox") as told:
        window = start_gui(str(config_dir), keyring_backend=keyring_backend)
        assert window is not None
        qtbot.addWidget(window)
    try:
        assert "nests lists and objects more than 64 levels deep" in told.text
        assert some(window.notice_banner).isVisible()
        assert "nests lists and objects more than 64 levels deep" in window.notice_label.text()
        assert len(corrupt_files(config_dir)) == 1
    finally:
        close_window(qtbot, window)
        window.ws.close()


# ---- changed by another program ------------------------------------------------------------------------
def test_a_file_changed_by_another_program_is_not_overwritten(ws, config_dir):
    ws.add_tenant("Mine")
    text = (config_dir / "settings.json").read_text()
    theirs = text.replace('"Mine"', '"Theirs"')
    (config_dir / "settings.json").write_text(theirs)
    from xdrconf.core.errors import SettingsChanged

    with pytest.raises(SettingsChanged, match="was changed by another program after xdrconf read it"):
        ws.add_tenant("Lost?")
    assert (config_dir / "settings.json").read_text() == theirs
    assert "Lost?" not in [t.name for t in ws.tree.walk_all()]  # the change was not applied
    ws.reload()
    assert [t.name for t in ws.tree.walk_all()] == ["Root tenant", "Theirs", "Shared"]
    ws.add_tenant("After reload")
    assert "After reload" in (config_dir / "settings.json").read_text()
    # A touch (same bytes, new time) is no change.
    os.utime(config_dir / "settings.json", ns=(1, 1))
    ws.add_tenant("After touch")


def _read_until(fd: int, needle: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"waited for {needle!r}, got {seen!r}"
        ready, _w, _x = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"the process ended before {needle!r}; got {seen!r}"
            seen += chunk
    return seen


def test_the_command_line_refuses_to_overwrite_another_programs_edit(cli, config_dir):
    """Today: another program's edit of settings.json between load and save was silently
    overwritten. Here `tenant remove` waits at its terminal prompt while the file changes."""
    cli("tenant", "add", "Acme")
    cli("tenant", "add", "Globex")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xdrconf", "--config-dir", str(config_dir), "tenant", "remove", "Acme"],
        stdin=slave,
        stdout=slave,
        stderr=slave,  # the prompt of input() on a terminal goes to standard error
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    os.close(slave)
    try:
        _read_until(master, b"Remove? [y/N]")
        path = config_dir / "settings.json"
        theirs = path.read_text().replace('"Globex"', '"Globex (edited elsewhere)"')
        path.write_text(theirs)
        os.write(master, b"y\n")
        rest = _read_until(master, b"\n", timeout=60)
        with contextlib.suppress(OSError):  # the terminal closes with the process
            while select.select([master], [], [], 5)[0] and (chunk := os.read(master, 4096)):
                rest += chunk
        assert proc.wait(60) == 2
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    said = [line for line in rest.decode().splitlines() if line.strip() and line.strip() != "y"]
    assert said == [
        f"xdrconf: The settings file {path} was changed by another program after xdrconf read it; "
        "nothing was saved and the other program's version was left as it is."
    ], rest
    assert path.read_text() == theirs
    assert names(cli) == ["Root tenant", "Acme", "Globex (edited elsewhere)", "Shared"]


# ---- the disk refuses ---------------------------------------------------------------------------------
@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str):
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path) -> None:
    """Write until the file system says it is full (unbuffered: nothing is left to flush)."""
    with (folder / "filler").open("wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)


def test_a_full_disk_is_one_sentence_and_nothing_is_lost(tmp_path, keyring_backend):
    """Today: with a full disk, `tenant list` and every other command ended in a raw
    OSError [Errno 28] traceback (nothing was lost then either)."""
    with mounted_tmpfs(tmp_path / "small", "size=256k,mode=0700") as disk:
        folder = disk / "config"
        assert xdrconf("--config-dir", str(folder), "tenant", "add", "Acme").returncode == 0
        before = (folder / "settings.json").read_bytes()
        _fill(disk)
        listed = xdrconf("--config-dir", str(folder), "tenant", "list")
        assert listed.returncode == 0, listed.stderr
        assert "Acme" in listed.stdout and listed.stderr == ""
        for args in (
            ("tenant", "add", "Globex"),
            ("config", "set", "timeout=5"),
            ("tenant", "rename", "Acme", "B"),
        ):
            out = xdrconf("--config-dir", str(folder), *args)
            assert out.returncode == 2, out
            assert out.stderr.splitlines() == [
                f"xdrconf: Could not save the settings to {folder / 'settings.json.bak'}: the disk is full. "
                "Nothing was changed: the previous settings are in force."
            ]
        assert (folder / "settings.json").read_bytes() == before
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
        (disk / "filler").unlink()
        assert xdrconf("--config-dir", str(folder), "tenant", "add", "Globex").returncode == 0


def test_a_read_only_folder_is_one_sentence_and_nothing_is_lost(tmp_path, keyring_backend):
    with mounted_tmpfs(tmp_path / "ro", "size=1m,mode=0700") as disk:
        folder = disk / "config"
        assert xdrconf("--config-dir", str(folder), "tenant", "add", "Acme").returncode == 0
        (folder / ".settings.json.abcd1234.tmp").write_bytes(b"left by a crash")
        before = (folder / "settings.json").read_bytes()
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0
        listed = xdrconf("--config-dir", str(folder), "tenant", "list")
        assert listed.returncode == 0 and "Acme" in listed.stdout, listed
        out = xdrconf("--config-dir", str(folder), "tenant", "add", "Globex")
        assert out.returncode == 2
        assert out.stderr.splitlines() == [
            f"xdrconf: The settings in {folder} cannot be changed: the folder is on a read-only file system."
        ]
        assert (folder / "settings.json").read_bytes() == before


def _without_dac(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line as root without the capabilities that bypass file permissions and
    ownership (as root, chmod alone denies nothing): setpriv drops them from the bounding set."""
    drop = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner,-chown"]
    return subprocess.run(
        [*drop, sys.executable, "-m", "xdrconf", "--config-dir", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_permission_denied_is_one_sentence_and_nothing_is_lost(cli, config_dir):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux) to drop the permission-bypassing capabilities")
    cli("tenant", "add", "Acme")
    path = config_dir / "settings.json"
    before = path.read_bytes()
    path.chmod(0o000)
    try:
        out = _without_dac(config_dir, "tenant", "list")
        assert out.returncode == 2, out
        assert out.stderr.splitlines() == [
            f"xdrconf: Cannot read the settings file {path}: permission denied."
        ]
        # Readable, but the folder is another user's and not writable for others (nor can its
        # mode be changed): listing works read-only, a change is one sentence.
        path.chmod(0o644)
        os.chown(config_dir, 65534, 65534)
        config_dir.chmod(0o755)
        listed = _without_dac(config_dir, "tenant", "list")
        assert listed.returncode == 0 and "Acme" in listed.stdout and listed.stderr == "", listed
        out = _without_dac(config_dir, "tenant", "add", "Globex")
        assert out.returncode == 2
        assert out.stderr.splitlines() == [
            f"xdrconf: Could not save the settings to {config_dir / 'settings.json.bak'}: permission "
            "denied. Nothing was changed: the previous settings are in force."
        ]
        # Without the lock file the folder opens read-only, and a change says why it cannot.
        (config_dir / "xdrconf.lock").unlink()
        out = _without_dac(config_dir, "tenant", "add", "Globex")
        assert out.returncode == 2
        assert out.stderr.splitlines() == [
            f"xdrconf: The settings in {config_dir} cannot be changed: permission denied."
        ]
        assert _without_dac(config_dir, "tenant", "list").returncode == 0
    finally:
        os.chown(config_dir, 0, 0)
        config_dir.chmod(0o700)
        path.chmod(0o600)
    assert path.read_bytes() == before


# ---- leftovers of interrupted saves ------------------------------------------------------------------
def test_leftover_temporary_files_are_removed_when_the_folder_is_next_opened(config_dir, keyring_backend):
    """Today: temporary files of interrupted saves stayed behind."""
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        ws.add_tenant("Acme")
    ours = [".settings.json.k2j4_9xa.tmp", ".settings.json.bak.0000aaaa.tmp", ".quarantine.json.zzzzzzzz.tmp"]
    theirs = [".settings.json.tmp", "notes.tmp", ".other.json.abcdefgh.tmp", ".settings.json.ABCDEFGH.tmp"]
    for name in ours + theirs:
        (config_dir / name).write_text("x")
    (config_dir / ".settings.json.dir00000.tmp").mkdir()  # not a file: not ours to remove
    # Another xdrconf holds the folder: a read-only opener removes nothing.
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as holder:
        assert not any((config_dir / n).exists() for n in ours)
        with Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend) as other:
            assert other.readonly
        assert "Acme" in [t.name for t in holder.tree.walk_all()]
    for name in theirs:
        assert (config_dir / name).exists(), name
    assert (config_dir / ".settings.json.dir00000.tmp").is_dir()


def test_leftovers_stay_while_another_instance_holds_the_folder(config_dir, keyring_backend):
    with Workspace.open(config_dir, keyring_backend=keyring_backend) as holder:
        holder.add_tenant("Acme")
        (config_dir / ".settings.json.abcdefgh.tmp").write_text("being written by the holder")
        with Workspace.open(config_dir, readonly_if_locked=True, keyring_backend=keyring_backend) as other:
            assert other.readonly
        assert (config_dir / ".settings.json.abcdefgh.tmp").exists()
