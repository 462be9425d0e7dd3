"""No core dump of xdrconf may hold a secret (issue 12): core dumps are off from the first
line of `main` (core/process.py). Proved without changing the machine: under
`ulimit -c unlimited` in a folder of its own, a plain Python process killed with SIGABRT
writes a core file there (the kernel's core_pattern here is a file name), while xdrconf,
killed with SIGABRT in the middle of a check that has sent the token to a peer that hangs,
writes none; the kernel reports its core limit as 0 (/proc/<pid>/limits); and
prctl(PR_GET_DUMPABLE) says 0 once main has started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.echo import CANARY
from support.https_peer import HttpsPeer
from support.kuma_peer import KumaApi

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's core dumps")


def core_pattern() -> str:
    try:
        return Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        return ""


def unlimited(command: str, cwd: Path) -> subprocess.Popen[str]:
    """`command` run by bash after `ulimit -c unlimited` (exec: the process is the command)."""
    env = dict(os.environ, XDRCONF_LANG="en", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(
        ["bash", "-c", f"ulimit -c unlimited && exec {command}"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cores(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("core"))


def test_sigabrt_during_a_check_writes_no_core(cli, config_dir, server_cert, test_ca, tmp_path):
    pattern = core_pattern()
    if not pattern or pattern.startswith("|") or "/" in pattern:
        pytest.skip(f"core files do not land in the working folder here (core_pattern {pattern!r})")
    control = tmp_path / "control"
    control.mkdir()
    plain = unlimited(
        f"{sys.executable} -c 'import os, signal; os.kill(os.getpid(), signal.SIGABRT)'", control
    )
    plain.communicate(timeout=60)
    assert plain.returncode == -signal.SIGABRT
    if not cores(control):
        pytest.skip("this machine writes no core file even for a plain process (a container's limit)")

    api = KumaApi(token=CANARY)
    api.mode = "hang"
    with HttpsPeer(api, cert=server_cert) as peer:
        ca = tmp_path / "ca.pem"
        ca.write_text(test_ca.cert_pem)
        assert cli("tenant", "add", "Acme").code == 0
        r = cli(
            "integration",
            "set",
            "Acme",
            "kuma",
            "host=127.0.0.1",
            f"port={peer.port}",
            f"tls_ca=@{ca}",
            "--secret",
            "token",
            stdin=CANARY + "\n",
        )
        assert r.code == 0, r
        assert cli("integration", "enable", "Acme", "kuma").code == 0
        work = tmp_path / "work"
        work.mkdir()
        proc = unlimited(
            f"{sys.executable} -m xdrconf --config-dir {config_dir} check Acme kuma --timeout 60", work
        )
        try:
            for _round in range(600):
                if peer.requests or proc.poll() is not None:
                    break
                time.sleep(0.05)
            assert proc.poll() is None, proc.communicate()
            assert peer.requests[0].headers["Authorization"] == f"Bearer {CANARY}"  # the token is in memory
            limits = Path(f"/proc/{proc.pid}/limits").read_text()
            [line] = [x for x in limits.splitlines() if x.startswith("Max core file size")]
            assert line.split()[4:6] == ["0", "0"], line
            proc.send_signal(signal.SIGABRT)
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == -signal.SIGABRT
    assert cores(work) == []


def test_main_switches_core_dumps_off_before_anything_else(tmp_path):
    script = (
        "import resource\n"
        "from xdrconf.core.process import dumpable\n"
        "from xdrconf.__main__ import main\n"
        "print(dumpable(), resource.getrlimit(resource.RLIMIT_CORE))\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(dumpable(), resource.getrlimit(resource.RLIMIT_CORE))\n"
    )
    (tmp_path / "probe.py").write_text(script)
    proc = unlimited(f"{sys.executable} probe.py", tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    before, version, after = out.splitlines()
    assert before.startswith("1 ") and "(0, 0)" not in before  # as the shell left it
    assert version.startswith("xdrconf ")
    assert after == "0 (0, 0)"


def test_short_time_slices_are_asked_for_and_given_back_per_thread():
    """short_slices() on a thread of its own: the kernel reports the slice asked for, the
    niceness is kept, and short_slices(0) gives the kernel's default back (longer: at least
    0.7 ms). The thread starts with its parent's slice, which is short if a window was made
    on this test's thread before."""
    import threading

    from xdrconf.core.process import FRAME_SLICE_NS, short_slices, time_slice

    seen: list[object] = []

    def probe() -> None:
        os.nice(3)  # a niceness of its own (this thread's alone on Linux) that must stay
        default = time_slice()
        seen.extend([default, short_slices(), time_slice(), os.getpriority(os.PRIO_PROCESS, 0)])
        seen.extend([short_slices(0), (time_slice() or 0) >= 700_000])

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    default = seen[0]
    if default in (None, 0):
        pytest.skip("this kernel reports no time slices (Linux 6.12 and later do)")
    assert seen[1:] == [True, FRAME_SLICE_NS, os.getpriority(os.PRIO_PROCESS, 0) + 3, True, True]


def test_full_collections_are_kept_short_until_the_last_run_ends():
    """keep_collections_short(): the objects alive are frozen (out of the collector's
    reach) until the last of overlapping runs gives them back; a second release of the same
    run changes nothing."""
    import gc

    from xdrconf.core.process import keep_collections_short

    assert gc.get_freeze_count() == 0
    first = keep_collections_short()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # this test process's modules, functions, ...
    second = keep_collections_short()
    first()
    first()  # once only: the second run still holds them
    assert gc.get_freeze_count() >= frozen
    second()
    assert gc.get_freeze_count() == 0


def test_the_survivors_of_each_batch_are_frozen_too_while_a_run_holds():
    """freeze_survivors(): during a run the objects made since (a batch of results) leave
    the young generations as well, so that a young collection looks only at what came after;
    released with the run's. Without a run it freezes nothing."""
    import gc

    from xdrconf.core.process import freeze_survivors, keep_collections_short

    assert gc.get_freeze_count() == 0
    freeze_survivors()
    assert gc.get_freeze_count() == 0  # no run: nothing frozen
    release = keep_collections_short()
    frozen = gc.get_freeze_count()
    batch = [{"tenant": f"T{i}", "outcomes": [{"category": "ok"}]} for i in range(2000)]

    def collectable() -> bool:
        return any(o is batch for generation in (0, 1, 2) for o in gc.get_objects(generation))

    assert collectable()
    freeze_survivors()
    assert gc.get_freeze_count() >= frozen + 4000  # the batch's dicts and lists
    assert not collectable()  # in no generation a collection looks at
    release()
    assert gc.get_freeze_count() == 0
