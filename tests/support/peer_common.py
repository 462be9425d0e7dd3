"""What the firewall test peers share: sessions with an idle timeout read from a clock the test
may replace, a count of what is still open and an optional limit per account (UserGate, Ideco
and Check Point differ only in how a session travels: an XML-RPC token, two cookies, an
X-chkp-sid header); and an allow list of caller addresses (UserGate zones, Sophos API)."""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Clock = Callable[[], float]


class ManualClock:
    """A clock a test moves by hand, so a session can expire without anyone sleeping."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Session:
    token: str
    user: str
    timeout: float
    last_used: float
    info: dict[str, Any] = field(default_factory=dict)


class Sessions:
    """Thread-safe: peers answer each connection in its own thread."""

    def __init__(
        self, timeout: float, clock: Clock = time.monotonic, max_per_user: int | None = None
    ) -> None:
        self.timeout = timeout
        self.clock = clock
        self.max_per_user = max_per_user
        self._live: dict[str, Session] = {}
        self._expired: set[str] = set()
        self._closed: set[str] = set()
        self._lock = threading.Lock()
        self.logins = 0  # sessions ever opened
        self.logouts = 0  # sessions closed by their owner

    def _sweep(self) -> None:
        now = self.clock()
        for token, s in list(self._live.items()):
            if now - s.last_used > s.timeout:
                del self._live[token]
                self._expired.add(token)

    def can_open(self, user: str) -> bool:
        with self._lock:
            self._sweep()
            if self.max_per_user is None:
                return True
            return sum(s.user == user for s in self._live.values()) < self.max_per_user

    def open(
        self, user: str, *, timeout: float | None = None, token: str | None = None, **info: Any
    ) -> Session:
        with self._lock:
            s = Session(
                token or secrets.token_urlsafe(32),
                user,
                self.timeout if timeout is None else timeout,
                self.clock(),
                dict(info),
            )
            self._live[s.token] = s
            self.logins += 1
            return s

    def lookup(self, token: str | None) -> Session | Literal["expired", "closed", "unknown"]:
        """The live session for `token` (its idle timer restarts), or why there is none."""
        with self._lock:
            self._sweep()
            if token is None:
                return "unknown"
            s = self._live.get(token)
            if s is not None:
                s.last_used = self.clock()
                return s
            if token in self._expired:
                return "expired"
            return "closed" if token in self._closed else "unknown"

    def close(self, token: str) -> bool:
        with self._lock:
            if self._live.pop(token, None) is None:
                return False
            self._closed.add(token)
            self.logouts += 1
            return True

    def expire_all(self) -> None:
        """What the box does when its idle timeout passes for every session at once."""
        with self._lock:
            self._expired.update(self._live)
            self._live.clear()

    @property
    def open_count(self) -> int:
        """Sessions logged in and neither logged out nor expired: what the box still holds."""
        with self._lock:
            self._sweep()
            return len(self._live)


class SessionCounts:
    """What a test asks a peer with sessions: how many are still open (a check that always logs
    out leaves 0), how many were opened and how many were logged out."""

    sessions: Sessions

    @property
    def open_sessions(self) -> int:
        return self.sessions.open_count

    @property
    def logins(self) -> int:
        return self.sessions.logins

    @property
    def logouts(self) -> int:
        return self.sessions.logouts


class AllowList:
    """Caller addresses a peer lets in: single addresses or networks ("127.0.0.0/30"), IPv4 or
    IPv6. `None` lets everyone in. On loopback the kernel picks 127.0.0.1 as the source of a
    connection to any 127.x.y.z (and ::1 for ::1) unless the client binds another one."""

    def __init__(self, entries: Iterable[str] | None) -> None:
        self.networks = None if entries is None else [ipaddress.ip_network(e, strict=False) for e in entries]

    def allows(self, address: str) -> bool:
        if self.networks is None:
            return True
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == n.version and ip in n for n in self.networks)
