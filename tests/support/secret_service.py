"""The real Secret Service for tests: gnome-keyring in a private D-Bus session, unlocked.

packaging/run-tests.sh starts one for the whole run (XDRCONF_TEST_KEYRING is then set);
when pytest is run directly, `ensure_session()` starts its own and `stop()` ends it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

_started: list[int] = []


def ensure_session() -> None:
    if os.environ.get("XDRCONF_TEST_KEYRING") == "secret-service" and os.environ.get(
        "DBUS_SESSION_BUS_ADDRESS"
    ):
        return
    if not shutil.which("dbus-daemon") or not shutil.which("gnome-keyring-daemon"):
        raise RuntimeError(
            "dbus-daemon and gnome-keyring-daemon are needed (apt-get install dbus gnome-keyring)"
        )
    data = tempfile.mkdtemp(prefix="xdrconf-keyring-")
    os.environ["XDG_DATA_HOME"] = data
    runtime = tempfile.mkdtemp(prefix="xdrconf-run-")
    os.chmod(runtime, 0o700)
    os.environ["XDG_RUNTIME_DIR"] = runtime
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1", "--nosyslog"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    address, pid = out[0], int(out[1])
    _started.append(pid)
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    proc = subprocess.run(
        ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
        input="xdrconf-test-keyring",
        capture_output=True,
        text=True,
        check=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("GNOME_KEYRING_PID="):
            _started.append(int(line.split("=", 1)[1]))
    os.environ["XDRCONF_TEST_KEYRING"] = "secret-service"
    time.sleep(0.1)


def stop() -> None:
    for pid in reversed(_started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    _started.clear()


def backend():
    from keyring.backends import SecretService

    kr = SecretService.Keyring()
    return kr


@contextlib.contextmanager
def locked_session(keep_display: bool = False):
    """The environment of a second D-Bus session whose gnome-keyring was started without
    being unlocked (it stays locked). With keep_display, DISPLAY is kept, so the keyring may
    put up a password prompt on it."""
    home = tempfile.mkdtemp(prefix="xdrconf-locked-")
    env = {k: v for k, v in os.environ.items() if keep_display or k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_RUNTIME_DIR=f"{home}/run")
    os.makedirs(f"{home}/run", mode=0o700)
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1", "--nosyslog"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    env["DBUS_SESSION_BUS_ADDRESS"], pid = out[0], int(out[1])
    try:
        subprocess.run(
            ["gnome-keyring-daemon", "--start", "--components=secrets", "--daemonize"],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            check=True,
        )
        yield env
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        shutil.rmtree(home, ignore_errors=True)


def entries_of(service: str) -> list[str]:
    """User names of the Secret Service items filed under a keyring service (the real
    collection, read through secretstorage)."""
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        return [
            item.get_attributes().get("username", "")
            for item in collection.search_items({"service": service})
        ]
    finally:
        conn.close()
