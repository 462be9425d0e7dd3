"""The process holds secrets in memory while it runs (a token being sent, a key being used):
no core dump of it may be written. `harden()` is the first thing `xdrconf.__main__.main`
does, before anything is parsed or read.

- Linux: RLIMIT_CORE set to 0 (soft and hard, so no child or later code raises it again)
  and prctl(PR_SET_DUMPABLE, 0): no core file whatever the limit or core_pattern say
  (suid_dumpable aside), no ptrace attach by another process of the same user, and
  /proc/<pid>/mem, environ, maps … readable by root only. Tested here
  (tests/test_process.py: a real SIGABRT during a check writes no core; the limit and the
  dumpable flag as the kernel reports them).
- macOS and the BSDs: RLIMIT_CORE 0 (the same call; not tested on those systems here).
- Windows: SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX) so a crash shows no
  Windows Error Reporting dialog, and WerSetFlags(WER_FAULT_REPORTING_FLAG_NOHEAP) so a
  report that WER still makes leaves the heap (where secrets are) out. A machine-wide
  LocalDumps policy set by an administrator can still ask for full dumps; that is outside
  the process. Not tested here (no Windows on this machine).

A crash report that xdrconf itself prints is a Python traceback: file names, line numbers,
functions and the exception's message, never local variables; the engine redacts secrets
from messages and log records while an operation runs (core.engine). faulthandler is not
enabled; if it were, it prints the same stacks without values.

`short_slices()` asks Linux for short CPU time slices for the window's thread, and
`keep_collections_short()` keeps full garbage collections short while a run shows its
results (below)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def harden() -> list[str]:
    """Switch core dumps off for this process; returns what was done (for a log line).
    Never raises: a system that refuses one step still gets the others."""
    done: list[str] = []
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        done.append("RLIMIT_CORE=0")
    except (ImportError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
                done.append("PR_SET_DUMPABLE=0")
        except (OSError, AttributeError):
            pass
    elif sys.platform == "win32":  # pragma: no cover - not tested on this machine
        try:
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            kernel32.SetErrorMode(0x0001 | 0x0002)  # SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX
            done.append("SetErrorMode")
            wer = ctypes.windll.kernel32.WerSetFlags  # type: ignore[attr-defined]
            if wer(0x0001) == 0:  # WER_FAULT_REPORTING_FLAG_NOHEAP; S_OK
                done.append("WerSetFlags(NOHEAP)")
        except (OSError, AttributeError):
            pass
    return done


def dumpable() -> int | None:
    """prctl(PR_GET_DUMPABLE) of this process on Linux (0: no core, no ptrace), else None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return int(ctypes.CDLL(None).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))


# ---- the window's thread first in the CPU's queue ------------------------------------------------
# sched_setattr(2)'s number where Python has no os.sched_setattr (it has none in 3.11 to 3.13);
# sched_getattr(2) is the next one on each of these.
_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274, "riscv64": 274, "i686": 351, "armv7l": 380}
_SCHED_ATTR = "IIQiIQQQII"  # struct sched_attr (size 56): size, policy, flags, nice, priority,
# runtime, deadline, period, util_min, util_max
FRAME_SLICE_NS = 300_000


def _sched_call(get: bool, buf: Any) -> bool:
    """sched_setattr(2) (or sched_getattr(2) with get) of the calling thread with buf;
    whether the kernel accepted it. False where Linux or the call's number is not known."""
    if not sys.platform.startswith("linux"):
        return False
    import platform

    number = _SCHED_SETATTR.get(platform.machine())
    if number is None:
        return False
    try:
        import ctypes

        syscall = ctypes.CDLL(None, use_errno=True).syscall
        result = syscall(number + 1, 0, buf, 56, 0) if get else syscall(number, 0, buf, 0)
        return int(result) == 0
    except (OSError, AttributeError, ValueError):
        return False


def short_slices(slice_ns: int = FRAME_SLICE_NS) -> bool:
    """Ask Linux's EEVDF scheduler (6.12 and later) for short time slices for the calling
    thread: a thread that asks for a shorter slice than the one running is let onto the CPU
    as soon as it wakes, instead of waiting for the running one's slice to end (1.4 ms and
    more per wake-up on 2 CPUs; a window's frame wakes it many times). It changes neither
    the thread's share of the CPU nor its niceness, and needs no privilege. slice_ns 0 gives
    the kernel's default back. Older kernels keep the default (the call is accepted or
    refused; either way nothing else changes). Never raises; returns whether the call was
    accepted."""
    import ctypes
    import os
    import struct

    # policy SCHED_OTHER, niceness as it is now (sched_setattr sets both)
    nice = os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else 0
    attr = struct.pack(_SCHED_ATTR, 56, 0, 0, nice, 0, slice_ns, 0, 0, 0, 0)
    return _sched_call(False, ctypes.c_char_p(attr))


def time_slice() -> int | None:
    """The calling thread's time slice as sched_getattr(2) reports it (ns; 0 or the kernel's
    default when none was asked for), None where it cannot be read."""
    import ctypes
    import struct

    buf = ctypes.create_string_buffer(56)
    if not _sched_call(True, buf):
        return None
    return int(struct.unpack(_SCHED_ATTR, buf.raw)[5])


# ---- the interpreter's full garbage collections, out of a run's way --------------------------------
_held = 0
_held_lock = threading.Lock()


def keep_collections_short() -> Callable[[], None]:
    """While a run shows its results (Check all), a full garbage collection of the
    interpreter would look at every object of the process with the interpreter lock held:
    ~125 ms measured with 500 tenants, during which the window does not move. The objects
    alive now are moved out of the collector's reach (gc.freeze); collections during the run
    look at the run's own objects only. The returned function (call it once; more calls do
    nothing) gives them back (gc.unfreeze) when the last run that asked ends, so that garbage
    among them is still collected afterwards. Any thread may call both."""
    import gc

    global _held
    with _held_lock:
        _held += 1
        gc.freeze()
    released = False

    def release() -> None:
        nonlocal released
        global _held
        with _held_lock:
            if released:
                return
            released = True
            _held -= 1
            if _held == 0:
                gc.unfreeze()

    return release


def freeze_survivors() -> None:
    """During such a run (keep_collections_short), move the objects that survived so far
    out of the collector's reach too: a batch of results makes thousands of objects, and a
    young collection would otherwise look at every batch's so far (5-7 ms measured, with the
    interpreter lock held). Nothing when no run asked; any thread may call it."""
    import gc

    with _held_lock:
        if _held > 0:
            gc.freeze()
