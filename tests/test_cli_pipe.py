"""`xdrconf … | head -1`: a reader that stops reading ends the command quietly, as other
tools end (exit status 141, as a shell reports a process that SIGPIPE ended), with nothing
on standard error: no "Broken pipe", no traceback, no "Exception ignored". The installed
command in a process of its own, with Python's output buffered (as a user runs it) and
unbuffered (PYTHONUNBUFFERED, as some environments set it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

READER_GONE = 141


def command() -> list[str]:
    script = Path(sys.executable).with_name("xdrconf")  # the installed command
    return [str(script)] if script.exists() else [sys.executable, "-m", "xdrconf"]


def environ(config: Path, unbuffered: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "XDRCONF_LANG")}
    env["XDRCONF_CONFIG_DIR"] = str(config)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="module")
def many_tenants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A settings folder with 1,500 tenants: `tenant list --json` writes some 200 KB, more
    than a pipe holds, so the writer is still writing when the reader is gone."""
    config = tmp_path_factory.mktemp("pipe") / "config"
    names = [f"Tenant {i:04d}" for i in range(1500)]
    done = subprocess.run(
        [*command(), "tenant", "add", *names],
        env=environ(config, False),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return config


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_head_one_of_a_long_listing_ends_quietly(many_tenants: Path, unbuffered: bool) -> None:
    with subprocess.Popen(
        [*command(), "tenant", "list", "--json"],
        env=environ(many_tenants, unbuffered),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().strip() == b"["  # what `head -1` reads, then it is gone
        proc.stdout.close()
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=60)
    assert err == ""
    assert status == READER_GONE


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize(
    "args",
    [("--help",), ("tip", "--help"), ("tenant", "list"), ("config", "show")],
    ids=lambda a: " ".join(a),
)
def test_a_reader_that_closed_before_anything_was_written(
    tmp_path: Path, args: tuple[str, ...], unbuffered: bool
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        done = subprocess.run(
            [*command(), *args],
            env=environ(tmp_path / "config", unbuffered),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    # argparse's --help drops a failed write itself: unbuffered, nothing is left to fail.
    assert done.returncode in ((0, READER_GONE) if "--help" in args and unbuffered else (READER_GONE,))
