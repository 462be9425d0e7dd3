"""The built artefacts of packaging/build.sh, for the smoke test (tests/test_frozen.py) and
the cold-start benchmark (tests/benchmarks/bench_frozen.py).

- `build()` runs `packaging/build.sh --if-changed` (nothing to do when dist/ holds a build of
  exactly these sources) and returns the .deb.
- `Package(deb, folder)` unpacks it with `dpkg-deb -x` and runs its files with an environment
  that cannot reach any Python of this machine: PATH=/usr/bin:/bin, a fresh HOME, no
  PYTHON* or LD_LIBRARY_PATH, no SSL_CERT_FILE/SSL_CERT_DIR (so the system's CA store is what
  OpenSSL finds by its default paths).
- As root, each command runs as installed: in a private mount namespace (unshare) where
  /opt/xdrconf is the unpacked folder and /usr/bin/xdrconf's link leads to it; the system's
  CA bundle can be swapped or hidden there, and certifi's bundle swapped, without touching
  the machine's own files.
- `FirstPaint` starts the window and notes when Qt first flushes it to the screen (Qt's
  qt.widgets.painting log, which a frozen program writes as any other does)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = "xdrconf"
OPT = f"/opt/{APP}"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

# In the namespace: /opt becomes an empty tmpfs holding only the unpacked folder; then the
# optional swaps. Arguments: folder, CA bundle or "", "hide" or "", certifi bundle or "", cmd...
_NAMESPACE = r"""
set -e
mount -t tmpfs -o mode=0755 xdrconf-opt /opt
mkdir /opt/xdrconf
mount --bind "$1/opt/xdrconf" /opt/xdrconf
[ -z "$2" ] || mount --bind "$2" /etc/ssl/certs/ca-certificates.crt
[ -z "$3" ] || mount -t tmpfs -o mode=0755 xdrconf-no-ca /etc/ssl/certs
[ -z "$4" ] || mount --bind "$4" /opt/xdrconf/_internal/certifi/cacert.pem
shift 4
exec "$@"
"""


def build(timeout: float = 1200) -> Path:
    """The .deb of these sources, built now unless dist/ already has it."""
    proc = subprocess.run(
        ["bash", "packaging/build.sh", "--if-changed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"packaging/build.sh failed (exit {proc.returncode}):\n{proc.stderr[-6000:]}")
    debs = sorted((ROOT / "dist").glob(f"{APP}_*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"expected one package in dist/, found {[d.name for d in debs]}")
    return debs[0]


def can_namespace() -> bool:
    """A private mount namespace needs root (and unshare, from util-linux)."""
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@dataclass
class Package:
    deb: Path
    root: Path  # where it was unpacked

    @classmethod
    def unpack(cls, deb: Path, folder: Path) -> Package:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder)], check=True, timeout=300)
        return cls(deb, folder)

    @property
    def folder(self) -> Path:
        """The frozen application's folder, as unpacked (installed: /opt/xdrconf)."""
        return self.root / OPT.lstrip("/")

    @property
    def executable(self) -> Path:
        return self.folder / APP

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """An environment with nothing of this machine's Pythons in it."""
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "LANG": "C.UTF-8",
            "XDRCONF_LANG": "en",
        }
        # The test session's D-Bus (the real Secret Service) and X server, when there are.
        for name in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "DISPLAY", "XAUTHORITY"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        env.update(extra)
        return env

    def command(
        self,
        *args: str,
        installed: bool = True,
        ca_bundle: Path | None = None,
        hide_system_ca: bool = False,
        certifi_bundle: Path | None = None,
    ) -> list[str]:
        """`xdrconf ARGS`: as installed (/usr/bin/xdrconf -> /opt/xdrconf, in a private mount
        namespace) when the machine allows it, else the unpacked executable itself."""
        swaps = ca_bundle is not None or hide_system_ca or certifi_bundle is not None
        if not installed or not can_namespace():
            if swaps:
                raise RuntimeError("swapping the CA stores needs a private mount namespace (root)")
            return [str(self.executable), *args]
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            _NAMESPACE,
            "sh",
            str(self.root),
            str(ca_bundle or ""),
            "hide" if hide_system_ca else "",
            str(certifi_bundle or ""),
            str(self.root / "usr" / "bin" / APP),
            *args,
        ]

    def run(
        self,
        home: Path,
        *args: str,
        stdin: str = "",
        env: dict[str, str] | None = None,
        timeout: float = 60,
        **where: object,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args, **where),  # type: ignore[arg-type]
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env or self.env(home),
            cwd=home,
        )


# Qt writes this category's lines to standard error: the first "Flushing" of a top-level
# window is the end of its first paint (bench_gui.py's probe, seen from outside the process).
PAINT_RULES = "qt.widgets.painting.debug=true"


def is_first_flush(line: str) -> bool:
    return line.startswith("qt.widgets.painting: Flushing QRegion(") and " to QWidgetWindow(" in line


class FirstPaint:
    """A window process whose first paint is noted: `painted_at` (time.time()) once seen."""

    def __init__(self, command: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.started_at = time.time()
        self.painted_at: float | None = None
        self.painted = threading.Event()
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            list(command),
            env={**env, "QT_LOGGING_RULES": PAINT_RULES},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, name="first-paint", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:  # drained to the end, so the window never blocks on it
            if self.painted_at is None and is_first_flush(line):
                self.painted_at = time.time()
                self.painted.set()
            elif not line.startswith("qt.widgets.painting:") and len(self.lines) < 200:
                self.lines.append(line.rstrip("\n"))
        self.painted.set()  # the process ended: wake the waiter either way

    def wait(self, timeout: float = 60) -> float:
        """Seconds from before the start to the end of the first paint."""
        self.painted.wait(timeout)
        if self.painted_at is None:
            self.stop()
            raise RuntimeError(
                f"no first paint within {timeout:g} s (exit {self.proc.returncode}):\n"
                + "\n".join(self.lines)
            )
        return self.painted_at - self.started_at

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> FirstPaint:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.stop()
