"""A KATA Central Node for tests, answering as KATA's documentation says
(shared/INTEGRATIONS.md): mutual TLS; the first request carrying an external system's ID
creates a pending request showing the client certificate's fingerprint; 401
"Authorization required" until the KATA administrator accepts that (ID, fingerprint)
pair, 200 afterwards. A new certificate is a new pair: pending again."""

from __future__ import annotations

import re
import ssl
from typing import Any

from xdrconf.core.net import TlsContext  # wrap_socket closes its socket when it fails

from .https_peer import HttpsPeer, Reply, Request

SCANNER = re.compile(r"^/kata/scanner/v1/sensors/([0-9a-fA-F-]{36})/scans/filters$")
KEDR = re.compile(r"^/kata/response_api/v1/([0-9a-fA-F-]{36})/sensors$")


class KataApi:
    def __init__(self) -> None:
        self.approved: set[tuple[str, str]] = set()  # (XDR ID, certificate SHA-256)
        self.pending: dict[str, str] = {}  # XDR ID -> fingerprint, as KATA's External systems list
        self.status_override: int | None = None

    def approve(self, xdr_id: str, fingerprint: str) -> None:
        self.approved.add((xdr_id, fingerprint))
        self.pending.pop(xdr_id, None)

    def __call__(self, req: Request) -> Reply:
        if self.status_override is not None:
            return Reply(self.status_override, {"message": "internal error"})
        m = SCANNER.match(req.path) or KEDR.match(req.path)
        if req.method != "GET" or m is None:
            return Reply(404, {"message": "Not found"})
        xdr_id = m.group(1)
        fp = req.client_cert_sha256
        if fp is None or (xdr_id, fp) not in self.approved:
            if fp is not None:
                self.pending[xdr_id] = fp
            return Reply(401, "Authorization required")
        if KEDR.match(req.path):
            return Reply(200, {"sensors": [{"sensorId": "s-1", "hostName": "ws-01"}]})
        return Reply(200, {"filters": []})


class KataPeer(HttpsPeer):
    """An HttpsPeer that asks for a client certificate and trusts exactly the self-signed
    certificates registered with `trust()` (KATA accepts any certificate in the handshake
    and decides by fingerprint; a Python TLS server must know the certificate to accept it).
    OpenSSL finds a trust anchor by subject name, so a regenerated certificate (same
    subject) replaces the earlier one: the server's context is rebuilt on each `trust()`."""

    def __init__(
        self, cert: Any, host: str = "127.0.0.1", client_certs: tuple[str, ...] = (), port: int = 0
    ) -> None:
        self.api = KataApi()
        self._server_cert = cert
        self._trusted: dict[bytes, str] = {}
        super().__init__(self.api, cert=cert, host=host, port=port, client_ca=cert.cert_pem)
        for pem in client_certs:
            self.trust(pem)

    def trust(self, cert_pem: str) -> None:
        from cryptography import x509

        subject = x509.load_pem_x509_certificate(cert_pem.encode()).subject.public_bytes()
        self._trusted[subject] = cert_pem
        ctx = TlsContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self._server_cert.cert_path, self._server_cert.key_path)
        ctx.load_verify_locations(cadata="".join(self._trusted.values()))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self.context = ctx
