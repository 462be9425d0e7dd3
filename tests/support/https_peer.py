"""A real HTTPS server on loopback for tests: real TLS (own test CA), optional client
certificates (mutual TLS), IPv4 or IPv6, and a routing function that answers like the
vendor's documented API. Every request is recorded so tests can prove what was sent."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from xdrconf.core.net import TlsContext  # wrap_socket closes its socket when it fails

HANG = object()  # a route result: accept the request and never answer


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client_cert_sha256: str | None
    client: str = ""  # the caller's address as the server saw it (kernel-chosen source)

    def header(self, name: str) -> str | None:
        """A request header looked up case-insensitively."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str | list[str]] = field(default_factory=dict)  # a list: repeated header
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, dict[str, str | list[str]]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            data = json.dumps(self.body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(self.body, str):
            data = self.body.encode()
            headers.setdefault("Content-Type", "text/plain")
        else:
            data = self.body
        return data, headers


Route = Callable[[Request], "Reply | object"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr: tuple[str, int], family: int, peer: HttpsPeer) -> None:
        self.address_family = family
        self.peer = peer
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: TLS failures are expected
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        peer = self.server.peer
        self.request.settimeout(30)
        if peer.context is not None:
            try:
                self.request = peer.context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                peer.handshake_errors.append(exc)
                self.request.close()
                raise
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.request.close()  # the TLS socket that setup() made in place of the raw one

    def _serve(self) -> None:
        peer = self.server.peer
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        cert = None
        if isinstance(self.connection, ssl.SSLSocket):
            der = self.connection.getpeercert(binary_form=True)
            cert = hashlib.sha256(der).hexdigest() if der else None
        parts = urlsplit(self.path)
        req = Request(
            self.command,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            {k: v for k, v in self.headers.items()},
            body,
            cert,
            self.client_address[0],
        )
        with peer.lock:
            peer.requests.append(req)
        result = peer.route(req)
        if result is HANG:
            peer.stopped.wait(120)
            self.close_connection = True  # hang up: the client's wait ends with the peer
            return
        assert isinstance(result, Reply)
        if result.delay:
            time.sleep(result.delay)
        data, headers = result.encoded()
        self.send_response(result.status)
        for k, v in headers.items():
            for one in v if isinstance(v, list) else [v]:
                self.send_header(k, one)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class HttpsPeer:
    """Start with `with HttpsPeer(route, cert=...) as peer:`; `peer.port`, `peer.requests`."""

    # Set at run time by the fixtures and peers built on it: the fake API's state (KumaApi,
    # TipApi, ...) that a test changes to make the peer answer otherwise.
    api: Any

    def __init__(
        self,
        route: Route,
        *,
        cert: Any | None,
        host: str = "127.0.0.1",
        port: int = 0,
        client_ca: str | None = None,
        require_client_cert: bool = False,
        tls13: bool = True,
    ) -> None:
        self.route = route
        self.host = host
        self.requests: list[Request] = []
        self.handshake_errors: list[BaseException] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.context: ssl.SSLContext | None = None
        if cert is not None:
            ctx = TlsContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert.cert_path, cert.key_path)
            if not tls13:
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            if client_ca is not None:
                ctx.load_verify_locations(cadata=client_ca)
                ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
            self.context = ctx
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.server = _Server((host, port), family, self)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


class SilentPeer:
    """Accepts TCP connections and never says a word (not even TLS): a hung service."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                continue

    def __enter__(self) -> SilentPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        for c in self.held:
            c.close()
        self.sock.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on which nothing listens (bound, then released)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port
