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
from collections.abc import Iterator
from typing import Any

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


def keyring_reads(backend: Any, service: str, ref: str, *, named: bool = False) -> str | None:
    """An entry as keyring's own path reads it, without the first line xdrconf writes
    before the secret (``xdrconf-ref:<ref>``) when that line names this very entry; a value
    another program wrote has none (named=True: it must be there). None: no such entry."""
    stored = backend.get_password(service, ref)
    mark = f"xdrconf-ref:{ref}\n"
    if stored is not None and stored.startswith(mark):
        return str(stored[len(mark) :])
    assert stored is None or not named, stored[:60]
    return stored


def held(backend: Any, service: str, ref: str) -> str | None:
    """The secret of an entry xdrconf wrote, as keyring's own path reads it (its first line
    checked: it names this very entry)."""
    return keyring_reads(backend, service, ref, named=True)


# ---- looking at the Secret Service from outside -------------------------------------------------
SS = "org.freedesktop.secrets"
SS_PATH = "/org/freedesktop/secrets"


def _connection() -> Any:
    from jeepney.io.blocking import open_dbus_connection

    return open_dbus_connection("SESSION")


def _call(conn: Any, path: str, interface: str, member: str, signature: str = "", *body: Any) -> tuple:
    from jeepney import DBusAddress, DBusErrorResponse, MessageType, new_method_call

    reply = conn.send_and_get_reply(
        new_method_call(DBusAddress(path, SS, interface), member, signature, body), timeout=10
    )
    if reply.header.message_type == MessageType.error:
        raise DBusErrorResponse(reply)
    return tuple(reply.body)


class CallLog:
    """The method calls sent to the Secret Service while it is open, as a D-Bus monitor
    (org.freedesktop.DBus.Monitoring) sees them: (interface, member) pairs."""

    def __init__(self) -> None:
        from jeepney import DBusAddress, new_method_call

        self._monitor = _connection()
        bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus.Monitoring")
        self._monitor.send_and_get_reply(
            new_method_call(bus, "BecomeMonitor", "asu", ([f"type='method_call',destination='{SS}'"], 0)),
            timeout=10,
        )
        self._seen: list[tuple[str, str]] = []
        self._senders: list[str] = []  # the unique bus name that sent each call of _seen

    def calls(self) -> list[tuple[str, str]]:
        """Every call so far: a marker call (Peer.Ping) is sent and read back, so that
        nothing sent before is still on its way."""
        from jeepney import HeaderFields

        with _connection() as conn:
            _call(conn, SS_PATH, "org.freedesktop.DBus.Peer", "Ping")
        while True:
            msg = self._monitor.receive(timeout=10)
            fields = msg.header.fields
            call = (str(fields.get(HeaderFields.interface, "")), str(fields.get(HeaderFields.member, "")))
            if call == ("org.freedesktop.DBus.Peer", "Ping"):
                return list(self._seen)
            self._seen.append(call)
            self._senders.append(str(fields.get(HeaderFields.sender, "")))

    def senders(self) -> list[str]:
        """The connections (unique bus names) that sent the calls so far, in order of their
        first call."""
        self.calls()
        return [s for s in dict.fromkeys(self._senders) if s.startswith(":")]  # not the bus itself

    def count(self, member: str) -> int:
        return sum(1 for _interface, m in self.calls() if m == member)

    def close(self) -> None:
        self._monitor.close()


@contextlib.contextmanager
def call_log() -> Iterator[CallLog]:
    log = CallLog()
    try:
        yield log
    finally:
        log.close()


class OwnCollection:
    """A collection of its own in the test session's gnome-keyring, made, locked and
    unlocked with a master password through gnome-keyring's own interface for that (no
    prompt): the locked collection a test needs without locking everyone's."""

    INTERNAL = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"

    def __init__(self, label: str, password: str = "own-collection-password") -> None:
        self.conn = _connection()
        _algorithm, session = _call(
            self.conn, SS_PATH, "org.freedesktop.Secret.Service", "OpenSession", "sv", "plain", ("s", "")
        )
        self._secret = (session, b"", password.encode(), "text/plain")
        (self.path,) = _call(
            self.conn,
            SS_PATH,
            self.INTERNAL,
            "CreateWithMasterPassword",
            "a{sv}(oayays)",
            {"org.freedesktop.Secret.Collection.Label": ("s", label)},
            self._secret,
        )

    def lock(self) -> None:
        _call(self.conn, SS_PATH, "org.freedesktop.Secret.Service", "Lock", "ao", [self.path])

    def unlock(self) -> None:
        _call(
            self.conn,
            SS_PATH,
            self.INTERNAL,
            "UnlockWithMasterPassword",
            "o(oayays)",
            self.path,
            self._secret,
        )

    def delete(self) -> None:
        try:
            self.unlock()
            _call(self.conn, self.path, "org.freedesktop.Secret.Collection", "Delete")
        finally:
            self.conn.close()


@contextlib.contextmanager
def own_collection(label: str) -> Iterator[OwnCollection]:
    collection = OwnCollection(label)
    try:
        yield collection
    finally:
        collection.delete()
