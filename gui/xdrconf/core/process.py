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
enabled; if it were, it prints the same stacks without values."""

from __future__ import annotations

import sys

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
