"""The network layer every HTTP integration goes through: timeouts, TLS trust (system CAs,
a CA the user supplied, a pinned SHA-256 fingerprint of the server certificate), client
certificates, the application-wide proxy, no redirects, and the translation of whatever
went wrong into one outcome category with a message an analyst can act on."""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import logging
import os
import socket
import ssl
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xdrconf.core.i18n import _

from .appsettings import DEFAULT_TIMEOUT, timeout_of
from .fields import format_fingerprint, host_port
from .outcome import Category

if TYPE_CHECKING:
    from httpcore import NetworkBackend as _NetworkBackend
    from httpcore import NetworkStream as _NetworkStream
else:  # httpcore is imported with httpx, when the first client is made (start-up time)
    _NetworkBackend = _NetworkStream = object

# httpx logs every request line (with its full URL) at INFO: keep it out of our logs.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

USER_AGENT = "xdrconf/0.1"


class PinMismatch(Exception):
    def __init__(self, expected: str, actual: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__("server certificate fingerprint does not match the pin")


class PinnedCertExpired(Exception):
    def __init__(self, not_after: _dt.datetime) -> None:
        self.not_after = not_after
        super().__init__(f"pinned certificate expired on {not_after:%Y-%m-%d}")


@dataclass(frozen=True)
class Trust:
    """How the peer's TLS certificate is trusted."""

    ca_pem: str = ""
    pin_sha256: str = ""  # 64 lower-case hex digits

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Trust:
        return cls(settings.get("tls_ca") or "", settings.get("tls_pin_sha256") or "")


@dataclass(frozen=True)
class ProxyConfig:
    mode: str = "none"  # none | manual | system
    url: str = ""
    no_proxy: tuple[str, ...] = ()

    @classmethod
    def from_app(cls, app: dict[str, Any]) -> ProxyConfig:
        p = app.get("proxy") or {}
        return cls(p.get("mode", "none"), p.get("url", ""), tuple(p.get("no_proxy", ())))

    def for_host(self, host: str) -> str | None:
        """The proxy URL to use for a host, or None to connect directly."""
        if self.mode == "manual" and self.url:
            if _bypassed(host, self.no_proxy):
                return None
            return self.url
        if self.mode == "system":
            proxies = urllib.request.getproxies()
            if urllib.request.proxy_bypass(host):
                return None
            return proxies.get("https") or proxies.get("all")
        return None


def _bypassed(host: str, no_proxy: tuple[str, ...]) -> bool:
    host = host.lower().strip("[]")
    for entry in no_proxy:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry = entry.lstrip("*")
        if host == entry.lstrip(".") or (entry.startswith(".") and host.endswith(entry)):
            return True
        if not entry.startswith(".") and host.endswith("." + entry):
            return True
    return False


@dataclass(frozen=True)
class NetConfig:
    timeout: float = DEFAULT_TIMEOUT
    proxy: ProxyConfig = field(default_factory=ProxyConfig)

    @classmethod
    def from_app(cls, app: dict[str, Any], timeout: float | None = None) -> NetConfig:
        t = timeout if timeout is not None else timeout_of(app)
        return cls(t, ProxyConfig.from_app(app))


def sha256_hex(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


_CONTEXTS: dict[tuple[str, bool, str, str], ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()
_CONTEXTS_KEPT = 64


def make_ssl_context(trust: Trust, client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """System trust, or the user's CA; with a pin only, the chain is not verified by CAs
    but the leaf's fingerprint must match before anything is sent (see _PinningBackend).

    Without a client certificate the context depends only on what it trusts, so one is
    made per trust and shared (SSLContext is safe to share between threads): making one
    (OpenSSL 3's SSL_CTX_new, parsing the CA, or loading the system store) costs a
    millisecond up to tens of them holding the GIL, which hundreds of checks at once
    would otherwise pay each. The pin itself is checked by _PinningBackend, not here."""
    if client_cert is not None:
        return _new_ssl_context(trust, client_cert)
    key = (
        trust.ca_pem,
        bool(trust.pin_sha256),
        os.environ.get("SSL_CERT_FILE", ""),
        os.environ.get("SSL_CERT_DIR", ""),
    )
    with _CONTEXTS_LOCK:
        ctx = _CONTEXTS.get(key)
    if ctx is None:
        ctx = _new_ssl_context(trust, None)
        with _CONTEXTS_LOCK:
            if len(_CONTEXTS) >= _CONTEXTS_KEPT:
                _CONTEXTS.pop(next(iter(_CONTEXTS)))
            ctx = _CONTEXTS.setdefault(key, ctx)
    return ctx


# The TLS sockets made by the wrap_socket under way in this thread (see TlsContext).
_WRAPPING: ContextVar[list[ssl.SSLSocket] | None] = ContextVar("xdrconf_tls_wrapping", default=None)


class _TlsSocket(ssl.SSLSocket):
    """An SSLSocket that its TlsContext can find when wrap_socket fails."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _TlsSocket:
        self = super().__new__(cls, *args, **kwargs)
        made = _WRAPPING.get()
        if made is not None:
            made.append(self)
        return self


class TlsContext(ssl.SSLContext):
    """An SSLContext whose wrap_socket leaves no descriptor open when it fails.

    CPython's wrap_socket (3.11) moves the descriptor into the new TLS socket first. It then
    raises without closing that socket when the TCP connection is no longer there and
    reading from it fails, for example when the peer reset it or the watchdog shut it
    down. The socket stays open until the garbage collector finds it, and the caller cannot
    reach it. Here the sockets made inside a failed wrap_socket are closed before the error
    goes on; all of them belong to the calling thread."""

    sslsocket_class = _TlsSocket

    def wrap_socket(self, sock: socket.socket, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        made: list[ssl.SSLSocket] = []
        token = _WRAPPING.set(made)
        try:
            return super().wrap_socket(sock, *args, **kwargs)
        except BaseException:
            for tls in made:
                with contextlib.suppress(OSError):
                    tls.close()
            raise
        finally:
            _WRAPPING.reset(token)


def client_context(cadata: str | None = None, *, verify: bool = True) -> TlsContext:
    """A client context: the system's CAs (or `cadata` only) with the host name checked;
    verify=False checks neither (a pin or a look at the certificate is checked after)."""
    ctx = TlsContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif cadata:
        ctx.load_verify_locations(cadata=cadata)
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    return ctx


def _new_ssl_context(trust: Trust, client_cert: ClientCert | None) -> ssl.SSLContext:
    if trust.ca_pem:
        ctx = client_context(trust.ca_pem)
    elif trust.pin_sha256:
        ctx = client_context(verify=False)
    else:
        ctx = client_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert is not None:
        client_cert.load_into(ctx)
    return ctx


class ClientCert:
    """A client certificate and key for mutual TLS. OpenSSL loads keys only from files, so
    the key is written to a private temporary file encrypted with a one-time passphrase
    that never leaves memory; the file is removed right after loading."""

    def __init__(self, cert_pem: str, key_pem: str) -> None:
        self.cert_pem = cert_pem
        self._key_pem = key_pem

    def load_into(self, ctx: ssl.SSLContext) -> None:
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(self._key_pem.encode(), password=None)
        passphrase = os.urandom(24).hex().encode()
        sealed = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        with tempfile.TemporaryDirectory(prefix="xdrconf-mtls-") as tmp:
            cert_path = os.path.join(tmp, "cert.pem")
            key_path = os.path.join(tmp, "key.pem")
            for path, data in ((cert_path, self.cert_pem.encode()), (key_path, sealed)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            ctx.load_cert_chain(cert_path, key_path, password=passphrase)


def check_pin(der: bytes | None, pin: str) -> None:
    """The server certificate (DER, from the handshake) is the pinned one and has not
    expired; else PinMismatch / PinnedCertExpired (the caller closes the connection before
    sending anything)."""
    if not der:
        raise PinMismatch(pin, "")
    actual = sha256_hex(der)
    if actual != pin:
        raise PinMismatch(pin, actual)
    from cryptography import x509

    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    if not_after < _dt.datetime.now(_dt.UTC):
        raise PinnedCertExpired(not_after)


class _PinnedStream(_NetworkStream):
    """Wraps httpcore's network stream so that the TLS upgrade to the target host checks
    the pinned fingerprint before a single request byte is written."""

    def __init__(self, inner: Any, backend: _PinningBackend) -> None:
        self._inner = inner
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        upgraded = self._inner.start_tls(ssl_context, server_hostname, timeout)
        if server_hostname is not None and server_hostname.strip("[]") == self._backend.host:
            self._backend.verify(upgraded)
        return upgraded


class _PinningBackend(_NetworkBackend):
    def __init__(self, inner: Any, host: str, pin: str) -> None:
        self._inner = inner
        self.host = host.strip("[]")
        self.pin = pin
        self.seen_fingerprint = ""

    def verify(self, stream: Any) -> None:
        ssl_object = stream.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(True) if ssl_object is not None else None
        if der:
            self.seen_fingerprint = sha256_hex(der)
        try:
            check_pin(der, self.pin)
        except (PinMismatch, PinnedCertExpired):
            stream.close()
            raise

    def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
        return _PinnedStream(self._inner.connect_tcp(*args, **kwargs), self)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        return _PinnedStream(self._inner.connect_unix_socket(*args, **kwargs), self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _TrackedStream(_NetworkStream):
    """Remembers the stream (the TLS one after the upgrade) so that its socket can be shut
    down from another thread: closing a client does not wake a thread blocked reading."""

    def __init__(self, inner: Any, streams: list[Any]) -> None:
        self._inner = inner
        self._streams = streams
        streams.append(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        upgraded = self._inner.start_tls(ssl_context, server_hostname, timeout)
        self._streams.append(upgraded)
        return upgraded


class _TrackingBackend(_NetworkBackend):
    def __init__(self, inner: Any, streams: list[Any]) -> None:
        self._inner = inner
        self.streams = streams

    def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
        return _TrackedStream(self._inner.connect_tcp(*args, **kwargs), self.streams)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        return _TrackedStream(self._inner.connect_unix_socket(*args, **kwargs), self.streams)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def shut_down(streams: list[Any]) -> None:
    """Shut the sockets of the streams down (both directions): a read blocked on one of them
    in another thread returns at once."""
    for stream in list(streams):
        try:
            sock = stream.get_extra_info("socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError, ValueError):
            continue  # closed already


def make_client(
    host: str,
    trust: Trust,
    net: NetConfig,
    *,
    client_cert: ClientCert | None = None,
    timeout: float | None = None,
    use_proxy: bool = True,
    streams: list[Any] | None = None,
) -> Any:
    """An httpx.Client for one peer: verification on, redirects off, proxy applied. With
    `streams`, its connections are recorded there (for shut_down)."""
    import httpx

    t = timeout if timeout is not None else net.timeout
    ctx = make_ssl_context(trust, client_cert)
    proxy = net.proxy.for_host(host) if use_proxy else None
    transport = httpx.HTTPTransport(verify=ctx, proxy=proxy, retries=0)
    pool = transport._pool  # httpcore pool: our backends wrap its network backend
    if trust.pin_sha256:
        # The pin is checked after the handshake, before a request byte is written.
        pool._network_backend = _PinningBackend(pool._network_backend, host, trust.pin_sha256)
    if streams is not None:
        pool._network_backend = _TrackingBackend(pool._network_backend, streams)
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(t),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


# ---- certificate inspection ------------------------------------------------------------------
@dataclass
class CertInfo:
    subject: str
    issuer: str
    not_before: str
    not_after: str
    sha256: str
    pem: str
    self_signed: bool
    expired: bool

    @property
    def fingerprint_display(self) -> str:
        return format_fingerprint(self.sha256)

    def lines(self) -> list[str]:
        issuer = (_("Issuer: {issuer} (self-signed)") if self.self_signed else _("Issuer: {issuer}")).format(
            issuer=self.issuer
        )
        valid = (
            _("Valid: {start} to {end} — EXPIRED") if self.expired else _("Valid: {start} to {end}")
        ).format(start=self.not_before, end=self.not_after)
        return [
            _("Subject: {subject}").format(subject=self.subject),
            issuer,
            valid,
            f"SHA-256: {self.fingerprint_display}",  # read by the wizard as it is (qt.wizard)
        ]


def describe_certificate(der: bytes) -> CertInfo:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_der_x509_certificate(der)
    now = _dt.datetime.now(_dt.UTC)
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC"),
        not_after=cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC"),
        sha256=sha256_hex(der),
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        self_signed=cert.subject == cert.issuer,
        expired=cert.not_valid_after_utc < now,
    )


def fetch_certificate(host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> CertInfo:
    """Handshake only: connect, complete TLS without verifying, read the server certificate
    and close. Nothing is sent over the encrypted channel."""
    ctx = client_context(verify=False)
    sni = None if _is_ip(host) else host
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        ctx.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return describe_certificate(der)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


# ---- classification ----------------------------------------------------------------------------
def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                stack.append(nxt)
        for arg in getattr(e, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)


_CLIENT_CERT_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "BAD_CERTIFICATE",
    "UNKNOWN_CA",
    "CERTIFICATE_UNKNOWN",
    "UNSUPPORTED_CERTIFICATE",
    "ACCESS_DENIED",
    "HANDSHAKE_FAILURE",
    "CERTIFICATE_REVOKED",
    "CERTIFICATE_EXPIRED",
)


def classify_exception(
    exc: BaseException, target: str, timeout: float, *, client_cert: bool = False
) -> tuple[Category, str]:
    """One category and one actionable sentence for a failed request."""
    import httpx

    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, PinMismatch):
            got = format_fingerprint(e.actual) if e.actual else _("none")
            return (
                Category.TLS_PIN_MISMATCH,
                _(
                    "The certificate of {target} does not match the pinned SHA-256 "
                    "fingerprint (it presents {got}); nothing was sent. If the server's "
                    "certificate was renewed, fetch and pin it again; otherwise treat this "
                    "as an attack."
                ).format(target=target, got=got),
            )
        if isinstance(e, PinnedCertExpired):
            return (
                Category.TLS_EXPIRED,
                _(
                    "The pinned certificate of {target} expired on {not_after:%Y-%m-%d}; "
                    "renew it on the server, then fetch and pin the new one."
                ).format(target=target, not_after=e.not_after),
            )
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            code = getattr(e, "verify_code", None)
            reason = getattr(e, "verify_message", "") or str(e)
            if code == 10 or "expired" in reason.lower():
                return (
                    Category.TLS_EXPIRED,
                    _(
                        "The certificate of {target} has expired ({reason}); renew it on the "
                        "server or ask its administrator to."
                    ).format(target=target, reason=reason),
                )
            if code == 62 or "hostname mismatch" in reason.lower() or "ip address mismatch" in reason.lower():
                return (
                    Category.TLS_HOSTNAME,
                    _(
                        "The certificate of {target} is not issued for this host name "
                        "({reason}); connect by the name the certificate was issued for, or pin "
                        "its fingerprint."
                    ).format(target=target, reason=reason),
                )
            return (
                Category.TLS_UNTRUSTED,
                _(
                    "The certificate of {target} is not trusted ({reason}); add the CA "
                    "certificate that issued it (for example, the CA of the product or of your "
                    "organisation) or fetch and pin its "
                    "SHA-256 fingerprint."
                ).format(target=target, reason=reason),
            )
    for e in chain:
        if isinstance(e, socket.gaierror):
            return (
                Category.DNS,
                _(
                    "The host name in {target} could not be resolved ({value}); check the "
                    "spelling and the DNS settings of this computer."
                ).format(target=target, value=e.strerror or e),
            )
    for e in chain:
        if isinstance(e, ssl.SSLError) and not isinstance(e, ssl.SSLCertVerificationError):
            text = f"{getattr(e, 'reason', '') or ''} {e}".upper()
            if client_cert and any(a in text for a in _CLIENT_CERT_ALERTS):
                return (
                    Category.CLIENT_CERT_REJECTED,
                    _(
                        "{target} refused this client certificate during the TLS handshake "
                        "({value}); make sure the server accepts it, or generate a new one and "
                        "have it approved."
                    ).format(target=target, value=getattr(e, "reason", None) or e),
                )
            if not client_cert and "CERTIFICATE_REQUIRED" in text:
                return (
                    Category.CLIENT_CERT_REJECTED,
                    _("{target} requires a client certificate, and this integration has none.").format(
                        target=target
                    ),
                )
    for e in chain:
        if isinstance(e, (httpx.TimeoutException, TimeoutError)):
            if isinstance(e, httpx.ConnectTimeout):
                # TRANSLATORS: {timeout} is a number of seconds
                text = _(
                    "{target} did not accept the connection (or the TLS handshake) within "
                    "{timeout} s; check that the service runs and that no firewall drops the "
                    "traffic, or raise the timeout."
                )
            elif isinstance(e, httpx.PoolTimeout):
                text = _(
                    "{target} could not be reached within {timeout} s; check that the "
                    "service runs and that no firewall drops the traffic, or raise the timeout."
                )
            else:
                text = _(
                    "{target} accepted the connection but did not answer within {timeout} s; "
                    "check that the service runs and that no firewall drops the traffic, or "
                    "raise the timeout."
                )
            return (Category.TIMEOUT, text.format(target=target, timeout=f"{timeout:g}"))
    for e in chain:
        if isinstance(e, httpx.ProxyError):
            return (
                Category.UNREACHABLE,
                _(
                    "The proxy refused or failed to reach {target} ({e}); check the proxy "
                    "settings or add the host to the no-proxy list."
                ).format(target=target, e=e),
            )
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return (
                Category.UNREACHABLE,
                _(
                    "{target} refused the connection: nothing listens on that port; check "
                    "the host, the port and that the service is running."
                ).format(target=target),
            )
        if isinstance(e, OSError) and e.errno in (
            errno.EHOSTUNREACH,
            errno.ENETUNREACH,
            errno.EADDRNOTAVAIL,
            errno.ECONNRESET,
            errno.ECONNABORTED,
        ):
            return (
                Category.UNREACHABLE,
                _(
                    "{target} cannot be reached ({value}); check the network path and any "
                    "firewall between here and the host."
                ).format(target=target, value=e.strerror or e),
            )
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return (
                Category.PROTOCOL_ERROR,
                _(
                    "The TLS handshake with {target} failed ({value}); check that the port speaks HTTPS."
                ).format(target=target, value=getattr(e, "reason", None) or e),
            )
    for e in chain:
        if isinstance(e, (httpx.RemoteProtocolError, httpx.LocalProtocolError, httpx.DecodingError)):
            return (
                Category.PROTOCOL_ERROR,
                _(
                    "{target} did not answer with valid HTTP ({e}); check the port and that "
                    "it is the right service."
                ).format(target=target, e=e),
            )
        if isinstance(e, httpx.ReadError | httpx.WriteError | httpx.ConnectError):
            return (
                Category.UNREACHABLE,
                _("The connection to {target} failed ({value}); check the host, port and network.").format(
                    target=target, value=e or type(e).__name__
                ),
            )
    return (
        Category.PROTOCOL_ERROR,
        _("The request to {target} failed unexpectedly ({name}: {exc}).").format(
            target=target, name=type(exc).__name__, exc=exc
        ),
    )


def connection_dropped(exc: BaseException) -> str:
    """How a peer ended a connection without answering: "reset" (it reset the connection:
    ECONNRESET, EPIPE), "closed" (it closed it before sending any answer), or "" for any
    other failure. Firewalls treat a caller their access control does not allow this way."""
    import httpx

    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, ConnectionResetError | BrokenPipeError) or (
            isinstance(e, OSError) and e.errno in (errno.ECONNRESET, errno.EPIPE)
        ):
            return "reset"
    for e in chain:
        if isinstance(e, httpx.RemoteProtocolError) and "without sending a response" in str(e):
            return "closed"
    return ""


def classify_status(status: int, target: str, body_message: str = "") -> tuple[Category, str]:
    """A category for an HTTP answer that was not success. Probes handle their own
    documented special cases first (e.g. KUMA's 403 for an unknown token)."""
    said = _(' The server said: "{message}".').format(message=body_message) if body_message else ""
    if status == 401:
        return (
            Category.AUTH_FAILED,
            _("{target} rejected the credentials (HTTP 401); enter a valid token or password.{said}").format(
                target=target, said=said
            ),
        )
    if status == 403:
        return Category.FORBIDDEN, _(
            "{target} refused access (HTTP 403); check the account's rights.{said}"
        ).format(target=target, said=said)
    if status == 429:
        return (
            Category.RATE_LIMITED,
            _("{target} is limiting the request rate (HTTP 429); wait and try again later.{said}").format(
                target=target, said=said
            ),
        )
    if status >= 500:
        return (
            Category.SERVER_ERROR,
            _(
                "{target} had an internal error (HTTP {status}); check the service's logs or try later.{said}"
            ).format(target=target, status=status, said=said),
        )
    if 300 <= status < 400:
        return (
            Category.PROTOCOL_ERROR,
            _(
                "{target} answered with a redirect (HTTP {status}), which is not "
                "followed; check the address and port.{said}"
            ).format(target=target, status=status, said=said),
        )
    if status == 404:
        return (
            Category.PROTOCOL_ERROR,
            _(
                "{target} has no such API path (HTTP 404); check the address, port and API version.{said}"
            ).format(target=target, said=said),
        )
    return Category.PROTOCOL_ERROR, _(
        "{target} answered HTTP {status}, which was not expected.{said}"
    ).format(target=target, status=status, said=said)


def error_message_of(response: Any) -> str:
    """The 'message' a JSON error body carries, shortened; never echoes request headers."""
    try:
        data = response.json()
    except Exception:  # noqa: BLE001
        return ""
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "details"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value[:200]
    return ""


__all__ = [
    "CertInfo",
    "ClientCert",
    "NetConfig",
    "ProxyConfig",
    "Trust",
    "classify_exception",
    "classify_status",
    "connection_dropped",
    "describe_certificate",
    "error_message_of",
    "fetch_certificate",
    "host_port",
    "make_client",
]
