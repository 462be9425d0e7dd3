"""A byte-for-byte TCP relay on loopback: listens on 127.0.0.1 (and ::1, same port, when the
machine has IPv6) and copies each connection to a fixed target and back, unchanged.

Used to give a peer that can only listen on fixed ports (Samba's LDAP server: 389, 636, 3268,
3269, no setting to change them) per-session ports on `localhost`, so that two test sessions
can run at once. TLS, LDAP and every answer stay the real server's; the relay only moves bytes
and passes on half-closes. `open_connections` counts the client connections still open, which
lets a test prove that a check left no session behind; with `record`, `sent` holds what the
clients sent (a plain-HTTP request as it went over the wire)."""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import threading
import time

CONNECT_TIMEOUT = 5.0


def _listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        s.listen(64)
    except OSError:
        s.close()
        raise
    return s


class TcpRelay:
    """`with TcpRelay(("127.0.0.2", 636)) as r:` → clients connect to localhost:r.port."""

    def __init__(self, target: tuple[str, int], *, ipv6: bool = True, record: bool = False) -> None:
        """record: keep every byte the clients send in `sent` (to read a plain-HTTP request)."""
        self.target = target
        self.record = record
        self.sent = bytearray()
        self.listeners: list[socket.socket] = []
        for _ in range(50):
            v4 = _listener("127.0.0.1", 0)
            port = v4.getsockname()[1]
            if not ipv6 or not socket.has_ipv6:
                self.listeners = [v4]
                break
            try:
                v6 = _listener("::1", port)
            except OSError as exc:
                v4.close()
                if exc.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):  # no IPv6 / no ::1
                    self.listeners = [_listener("127.0.0.1", port)]
                    break
                continue  # that port is taken on ::1: try another pair
            self.listeners = [v4, v6]
            break
        if not self.listeners:
            raise RuntimeError("no port free on both 127.0.0.1 and ::1")
        self.port: int = self.listeners[0].getsockname()[1]
        self.ipv6 = len(self.listeners) == 2
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.accepted = 0
        self._threads = [
            threading.Thread(target=self._accept, args=(s,), daemon=True) for s in self.listeners
        ]

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once no client connection is open any more (the relay sees closes at once,
        but on its own threads)."""
        deadline = time.monotonic() + timeout
        while self.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open_connections == 0

    def start(self) -> TcpRelay:
        for t in self._threads:
            t.start()
        return self

    def __enter__(self) -> TcpRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for s in self.listeners:
            s.close()
        with self._lock:
            for c in self._open:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
        for t in self._threads:
            t.join(2)

    def _accept(self, listener: socket.socket) -> None:
        listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            client.settimeout(None)
            with self._lock:
                self._open.add(client)
                self.accepted += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=CONNECT_TIMEOUT)
        except OSError:
            self._forget(client)
            client.close()  # the target is down: the client sees the connection end
            return
        upstream.settimeout(None)
        peer = {client: upstream, upstream: client}
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ)
        sel.register(upstream, selectors.EVENT_READ)
        reading = 2
        try:
            while reading and not self._stop.is_set():
                for key, _ in sel.select(0.2):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = src.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        if self.record and src is client:
                            with self._lock:
                                self.sent += data
                        try:
                            peer[src].sendall(data)
                        except OSError:
                            reading = 0
                            break
                        continue
                    # End of data from one side: pass the half-close on.
                    sel.unregister(src)
                    reading -= 1
                    with contextlib.suppress(OSError):
                        peer[src].shutdown(socket.SHUT_WR)
        finally:
            sel.close()
            self._forget(client)
            for s in (client, upstream):
                s.close()

    def _forget(self, client: socket.socket) -> None:
        with self._lock:
            self._open.discard(client)
