"""A bare TLS service for the products whose API is not public (Continent 4, SKDPU NT;
shared/INTEGRATIONS.md): it completes the TLS handshake with the certificate the test gives,
records who connected and what they sent, and speaks no application protocol. What such a
check can prove — name, TCP, handshake, certificate — is exactly what this peer offers, and
`received` lets a test prove that no credential was sent.

HttpsPeer would answer the handshake too, but records nothing until an HTTP request arrives;
here every completed handshake is recorded (`handshakes`), and so is every failed one
(`handshake_errors`, e.g. a client that rejected the certificate)."""

from __future__ import annotations

import socket
import ssl
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from xdrconf.core.net import TlsContext  # wrap_socket closes its socket when it fails


@dataclass
class Handshake:
    client: str
    server_name: str | None  # SNI as the client sent it
    version: str | None
    received: bytes = b""  # application data before the client closed


class TlsPeer:
    """`with TlsPeer(cert) as peer:`; `peer.port`, `peer.handshakes`. `close_after_handshake`
    closes at once (a service waiting for its own protocol's first word would instead wait:
    the default waits up to `idle` seconds for the client to close)."""

    def __init__(
        self, cert: Any, *, host: str = "127.0.0.1", close_after_handshake: bool = False, idle: float = 5.0
    ) -> None:
        self.context = TlsContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert.cert_path, cert.key_path)
        self._sni_seen: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()
        self.context.sni_callback = self._sni
        self.close_after_handshake = close_after_handshake
        self.idle = idle
        self.handshakes: list[Handshake] = []
        self.handshake_errors: list[BaseException] = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _sni(self, conn: ssl.SSLObject | ssl.SSLSocket, name: str | None, ctx: Any) -> None:
        self._sni_seen[conn] = name

    @property
    def received(self) -> bytes:
        with self.lock:
            return b"".join(h.received for h in self.handshakes)

    def _accept(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn, addr[0]), daemon=True).start()

    def _serve(self, raw: socket.socket, client: str) -> None:
        raw.settimeout(self.idle)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            with self.lock:
                self.handshake_errors.append(exc)
            raw.close()
            return
        shake = Handshake(client, self._sni_seen.get(tls), tls.version())
        with self.lock:
            self.handshakes.append(shake)
        try:
            while not self.close_after_handshake:
                data = tls.recv(4096)
                if not data:
                    break
                with self.lock:
                    shake.received += data
        except OSError:
            pass
        finally:
            tls.close()

    def __enter__(self) -> TlsPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
