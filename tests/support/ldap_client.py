"""ldap3 helpers shared by the LDAP test peers (samba_dc, slapd) and their self-tests.

What ldap3 2.9.1 does that a client of these peers must know (observed here):
- a Server object whose address failed once is skipped for 5 s (RESET_AVAILABILITY_TIMEOUT):
  retrying with the same Server fails at once, without connecting;
- after a failed open (refused, TLS handshake failed) the socket stays, unclosed, in
  `conn.socket` (`discard` closes it);
- when its own host-name check fails after a good handshake (tls.py, wrap_socket), the TLS
  socket is dropped unclosed where nobody can reach it: a ResourceWarning;
- the default get_info=SCHEMA reads the whole AD schema on every bind (25 ms a bind on this Samba);
  get_info=OFFLINE_AD_2012_R2 types AD values without asking, but then ldap3 refuses to
  request attributes outside that schema (the rootDSE's): get_info=NONE for those;
- receive_timeout must be a whole number of seconds (a float fails in struct.pack).
"""

from __future__ import annotations

import contextlib
import subprocess
from typing import Any

import ldap3  # type: ignore[import-untyped]


def discard(c: ldap3.Connection) -> None:
    """Closes a connection in whatever state it is. ldap3 2.9.1 keeps the socket of a failed
    open (refused, TLS handshake failed) in `c.socket`, unclosed: left to the garbage
    collector, it becomes a ResourceWarning (an error under pytest's filterwarnings) in
    whichever test happens to run then."""
    with contextlib.suppress(Exception):
        c.unbind()
    if c.socket is not None:
        c.socket.close()


def bind_result(
    server: ldap3.Server, user: str | None, password: str | None, *, starttls: bool = False
) -> dict[str, Any]:
    """ldap3's result dict of one simple bind (after StartTLS if asked)."""
    c = ldap3.Connection(server, user, password, receive_timeout=10)
    try:
        c.open()
        if starttls:
            c.start_tls()
        c.bind()
        return dict(c.result)
    finally:
        discard(c)


def root_dse_ok(host: str, port: int) -> bool:
    """True when an anonymous read of the rootDSE works on plain LDAP (the server is up).
    A new Server each time: ldap3 skips an address that failed for 5 s
    (RESET_AVAILABILITY_TIMEOUT), which would make every start-up wait 5 s."""
    server = ldap3.Server(host, port=port, connect_timeout=1, get_info=ldap3.NONE)
    c = ldap3.Connection(server, receive_timeout=2)
    try:
        c.open()
        return bool(c.search("", "(objectClass=*)", ldap3.BASE, attributes=["namingContexts"]))
    except ldap3.core.exceptions.LDAPException:
        return False
    finally:
        discard(c)


def open_error(server: ldap3.Server, *, starttls: bool = False) -> Exception:
    """The exception that opening a connection (then StartTLS, if asked) raises; the
    connection is closed either way. Raises AssertionError if both succeed."""
    c = ldap3.Connection(server, receive_timeout=5)
    try:
        c.open()
        if starttls:
            c.start_tls()
    except ldap3.core.exceptions.LDAPException as exc:
        return exc
    finally:
        discard(c)
    raise AssertionError(f"connecting to {server} did not fail")


def end_process(proc: subprocess.Popen[bytes] | None, *, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)
