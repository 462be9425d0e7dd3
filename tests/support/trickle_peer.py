"""An HTTPS peer that answers, but never finishes: after the status line and headers it sends
the body one byte at a time, each byte well within any read timeout, so that no socket
timeout ever fires. Only a watchdog over the whole operation can end a request to it."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from typing import Any

from xdrconf.core.net import TlsContext  # wrap_socket closes its socket when it fails


class TricklePeer:
    def __init__(self, *, cert: Any, interval: float = 0.2) -> None:
        self.interval = interval
        self.context = TlsContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert.cert_path, cert.key_path)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.closed = 0  # connections the client closed (or abandoned) while trickling
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(10)
            with self.context.wrap_socket(raw, server_side=True) as tls:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                with self._lock:
                    self.requests += 1
                tls.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n["
                )
                while not self._stop.wait(self.interval):
                    tls.sendall(b" ")
        except (OSError, ssl.SSLError):
            with self._lock:
                self.closed += 1
        finally:
            with contextlib.suppress(OSError):
                raw.close()

    def __enter__(self) -> TricklePeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
