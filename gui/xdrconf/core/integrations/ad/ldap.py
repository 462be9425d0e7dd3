"""One LDAP connection to one domain controller, as an operation uses it: TCP, TLS (LDAPS
from the first byte, or StartTLS), a simple bind, searches; closed on every path.

xdrconf owns the socket and the TLS session; ldap3 (2.9.1) only speaks LDAP over them.
That keeps what ldap3 would otherwise do to a client (measured, tests/support/ldap_client.py)
out of the product: its Server skips an address that failed for 5 s; a failed open leaves
its socket unclosed; its own host-name check after the handshake drops the TLS socket
unclosed; a receive timeout must be whole seconds; and every failure is re-raised as a new
exception that has lost the original's type details (errno, verify code). Here the TCP
connect, the handshake (Python's own host-name check, the CA given or the system's, the
SHA-256 pin checked before anything is sent) and every socket timeout are xdrconf's, each
failure keeps its original exception, and every socket is registered with the operation
(ctx.guard) so that a cancelled or abandoned operation leaves nothing open.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from ...errors import OperationFailed, Stopped
from ...fields import host_port
from ...i18n import _
from ...net import (
    PinMismatch,
    PinnedCertExpired,
    Trust,
    check_pin,
    classify_exception,
    client_context,
    make_ssl_context,
)
from ...outcome import Category
from .names import PLAIN_PORTS, TLS_PORTS

if TYPE_CHECKING:
    from ...engine import OpContext

# Steps after which trying the next server makes sense: the server could not be reached or
# its TLS failed. Once a server answered LDAP, the domain has spoken (another DC of the
# same domain gives the same answer).
FAILOVER_STEPS = ("connect", "tls")

STARTTLS_OID = "1.3.6.1.4.1.1466.20037"


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class Entry:
    """A search result entry: its DN and its values as bytes, by lower-case attribute name."""

    dn: str
    attrs: dict[str, list[bytes]] = field(default_factory=dict)

    def raw(self, name: str) -> list[bytes]:
        return self.attrs.get(name.lower(), [])

    def text(self, name: str) -> str:
        values = self.raw(name)
        return values[0].decode("utf-8", "replace") if values else ""

    def texts(self, name: str) -> list[str]:
        return [v.decode("utf-8", "replace") for v in self.raw(name)]

    def number(self, name: str) -> int | None:
        try:
            return int(self.text(name))
        except ValueError:
            return None


@dataclass
class Result:
    """An LDAP operation's result: code, description, diagnostic message, matched DN."""

    code: int
    description: str = ""
    message: str = ""
    matched: str = ""
    referrals: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, result: dict[str, Any] | None) -> Result:
        result = result or {}
        return cls(
            int(result.get("result", 80)),
            str(result.get("description") or ""),
            str(result.get("message") or ""),
            str(result.get("dn") or ""),
            [str(r) for r in result.get("referrals") or []],
        )

    @property
    def said(self) -> str:
        text = f"{self.description} {self.code}"
        if self.message:
            text += f': "{self.message[:200]}"'
        return text


def _ldap3_classes() -> tuple[Any, Any, Any]:
    """ldap3's Connection, SyncStrategy and Tls, imported when first needed (start-up time)."""
    import ldap3  # type: ignore[import-untyped]
    from ldap3.strategy.sync import SyncStrategy  # type: ignore[import-untyped]

    return ldap3.Connection, SyncStrategy, ldap3.Tls


_classes: dict[str, Any] = {}
_classes_lock = threading.Lock()


def _given_socket_classes() -> tuple[Any, Any]:
    """A Connection that speaks over a socket xdrconf opened, and a Tls whose wrap_socket is
    xdrconf's (for StartTLS), made once."""
    with _classes_lock:
        if not _classes:
            connection_class, strategy_class, tls_class = _ldap3_classes()

            class GivenSocket(strategy_class):  # type: ignore[misc, valid-type]
                """ldap3's synchronous strategy with the socket already open (and, for LDAPS,
                already TLS): `open` installs it instead of connecting."""

                def __init__(self, connection: Any, sock: socket.socket) -> None:
                    super().__init__(connection)
                    self._given: socket.socket | None = sock

                def _open_socket(
                    self, address: Any, use_ssl: bool = False, unix_socket: bool = False
                ) -> None:
                    if self._given is None:
                        raise OSError(errno.EBADF, "the connection was closed")
                    self.connection.socket, self._given = self._given, None
                    self.connection.closed = False

            class Connection(connection_class):  # type: ignore[misc, valid-type]
                def __init__(self, server: Any, sock: socket.socket, **kw: Any) -> None:
                    super().__init__(server, **kw)
                    strategy = GivenSocket(self, sock)
                    self.strategy = strategy
                    self.send = strategy.send
                    self.open = strategy.open
                    self.get_response = strategy.get_response
                    self.post_send_single_response = strategy.post_send_single_response
                    self.post_send_search = strategy.post_send_search

            class StartTls(tls_class):  # type: ignore[misc, valid-type]
                """The TLS upgrade after the StartTLS answer, done by `wrap` (xdrconf's); the
                original failure is kept in `error` (ldap3 re-raises a copy without it)."""

                def __init__(self, wrap: Any) -> None:
                    super().__init__(validate=ssl.CERT_NONE)  # `wrap` verifies
                    self._wrap = wrap
                    self.error: BaseException | None = None

                def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
                    try:
                        connection.socket = self._wrap(connection.socket)
                    except BaseException as exc:
                        self.error = exc
                        raise

            _classes.update(connection=Connection, starttls=StartTls)
        return _classes["connection"], _classes["starttls"]


class _Killer:
    """What the operation's guard closes when it is abandoned: the sockets, at once (a read
    blocked on one of them in the operation's thread returns)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def close(self) -> None:
        self.session.kill()


class Session:
    """One connection to one server. Methods raise OperationFailed (category, a message
    naming the server and the step, details {"step": …}); the caller closes it."""

    def __init__(
        self,
        ctx: OpContext | None,
        host: str,
        port: int,
        security: str,
        trust: Trust,
        timeout: float,
        *,
        verify: bool = True,
    ) -> None:
        self.ctx = ctx
        self.host, self.port, self.security = host, port, security
        self.trust = trust
        self.timeout = timeout
        self.verify = verify  # False only to read a certificate ("Fetch certificate")
        self.target = host_port(host, port)
        self.conn: Any = None
        self.tls_version = ""
        self.peer_der: bytes | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.closed = False
        if ctx is not None:
            ctx.guard(_Killer(self))

    def _progress(self) -> None:
        """A step is done: the watchdog's budget starts again (and a cancel stops here)."""
        if self.ctx is not None:
            self.ctx.progress()

    # ---- failures ----------------------------------------------------------------------------
    def fail(self, category: Category, message: str, step: str, **details: Any) -> NoReturn:
        raise OperationFailed(category, message, details={"step": step, "server": self.target, **details})

    def _broken(self, exc: BaseException, step: str, what: str) -> NoReturn:
        """A socket error while talking LDAP (after the connection and TLS were set up)."""
        if self.closed:
            raise Stopped from exc
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            self.fail(
                Category.TIMEOUT,
                _(
                    "{target} accepted the connection but did not answer {what} within {timeout:g} s; "
                    "check that this is an LDAP port of a domain controller and that it is not "
                    "overloaded, or raise the timeout."
                ).format(target=self.target, what=what, timeout=self.timeout),
                step,
            )
        self.fail(
            Category.UNREACHABLE,
            _(
                "The connection to {target} broke during {what} ({error}); check the network and the server."
            ).format(target=self.target, what=what, error=str(exc) or type(exc).__name__),
            step,
        )

    # ---- connecting --------------------------------------------------------------------------
    def _tcp(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            self.fail(
                Category.DNS,
                _(
                    "The host name {host} could not be resolved ({error}); check the spelling and "
                    "the DNS settings of this computer."
                ).format(host=self.host, error=exc.strerror or exc),
                "connect",
            )
        last: OSError | None = None
        for family, kind, proto, _canon, address in infos:
            sock = self._add(socket.socket(family, kind, proto))
            sock.settimeout(self.timeout)
            try:
                sock.connect(address)
                return sock
            except OSError as exc:
                last = exc
                sock.close()
                if self.closed:
                    raise Stopped from exc
        assert last is not None
        if isinstance(last, TimeoutError):
            self.fail(
                Category.TIMEOUT,
                _(
                    "{target} did not accept the connection within {timeout:g} s; check that the "
                    "domain controller runs and that no firewall drops LDAP, or raise the timeout."
                ).format(target=self.target, timeout=self.timeout),
                "connect",
            )
        if isinstance(last, ConnectionRefusedError):
            self.fail(
                Category.UNREACHABLE,
                _(
                    "{target} refused the connection: nothing listens on port {port}; check the "
                    "port (636 LDAPS, 389 LDAP and StartTLS, 3269 and 3268 the Global Catalog) "
                    "and that the domain controller's LDAP service runs."
                ).format(target=self.target, port=self.port),
                "connect",
            )
        self.fail(
            Category.UNREACHABLE,
            _("{target} cannot be reached ({error}); check the network path and any firewall.").format(
                target=self.target, error=last.strerror or last
            ),
            "connect",
        )

    def _add(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            if self.closed:
                sock.close()
                raise Stopped
            self._sockets.append(sock)
        return sock

    def _wrap(self, raw: socket.socket) -> ssl.SSLSocket:
        """The TLS handshake on `raw`, verified (the CA, the host name, the pin) before
        anything is sent over it."""
        context = make_ssl_context(self.trust) if self.verify else client_context(verify=False)
        # The handshake after the TLS socket is registered: `raw` is detached into it, so a
        # cancel during the handshake must find the TLS socket to shut it down.
        tls = context.wrap_socket(raw, server_hostname=self.host, do_handshake_on_connect=False)
        self._add(tls)
        try:
            tls.do_handshake()
        except BaseException:
            tls.close()
            raise
        self.peer_der = tls.getpeercert(binary_form=True)
        self.tls_version = tls.version() or ""
        if self.verify and self.trust.pin_sha256:
            try:
                check_pin(self.peer_der, self.trust.pin_sha256)
            except (PinMismatch, PinnedCertExpired):
                tls.close()
                raise
        return tls

    def _tls_failed(self, exc: BaseException, starttls: bool) -> NoReturn:
        if self.closed:
            raise Stopped from exc
        category, message = classify_exception(exc, self.target, self.timeout)
        reason = getattr(exc, "verify_message", "") or getattr(exc, "reason", "") or str(exc)
        if category is Category.TLS_UNTRUSTED:
            message = _(
                "The certificate of {target} is not trusted ({reason}); add the certificate of the "
                "CA that issued it (usually the domain's own CA) as the CA certificate, or pin the "
                "server certificate's SHA-256 fingerprint."
            ).format(target=self.target, reason=reason)
        elif category is Category.TLS_HOSTNAME:
            message = _(
                "The certificate of {target} is not issued for {host} ({reason}); connect by a "
                "name the certificate names (usually the DC's DNS name), or pin its SHA-256 fingerprint."
            ).format(target=self.target, host=self.host, reason=reason)
            if is_ip(self.host):
                message += " " + _(
                    "A domain controller reached by its IP address fails this check unless its "
                    "certificate names that address (KUMA does not accept an IP address with "
                    "encryption either)."
                )
        elif isinstance(exc, TimeoutError):
            category = Category.TIMEOUT
            message = (
                _("{target} answered StartTLS but did not complete the TLS handshake within {timeout:g} s.")
                if starttls
                else _(
                    "{target} accepted the connection but did not complete the TLS handshake within "
                    "{timeout:g} s; check that the port speaks LDAPS (636, or 3269 for the Global "
                    "Catalog); on 389 or 3268 choose StartTLS."
                )
            ).format(target=self.target, timeout=self.timeout)
        elif category not in (Category.TLS_EXPIRED, Category.TLS_PIN_MISMATCH, Category.DNS):
            category = Category.PROTOCOL_ERROR
            hint = (
                _(
                    "check that the port speaks LDAPS (636, or 3269 for the Global Catalog); "
                    "on 389 or 3268 choose StartTLS"
                )
                if not starttls
                else _("the domain controller may have no usable certificate for LDAP")
            )
            message = _("The TLS handshake with {target} failed ({reason}); {hint}.").format(
                target=self.target, reason=reason or type(exc).__name__, hint=hint
            )
        self.fail(category, message, "tls")

    def open(self) -> None:
        """Connect, then TLS as the setting `security` says (ldaps, starttls or none)."""
        connection_class, starttls_class = _given_socket_classes()
        import ldap3

        raw = self._tcp()
        sock: socket.socket = raw
        if self.security == "ldaps":
            try:
                sock = self._wrap(raw)
            except (OSError, ValueError, PinMismatch, PinnedCertExpired) as exc:
                self._tls_failed(exc, starttls=False)
        self._progress()
        peer = sock.getpeername()
        starttls = starttls_class(self._wrap)
        server = ldap3.Server(
            peer[0], port=peer[1], get_info=ldap3.NONE, tls=starttls, connect_timeout=self.timeout
        )
        self.conn = connection_class(
            server,
            sock,
            auto_bind=ldap3.AUTO_BIND_NONE,
            raise_exceptions=False,
            read_only=True,  # a check never modifies anything
            auto_referrals=False,
            return_empty_attributes=False,
        )
        try:
            self.conn.open(read_server_info=False)
        except Exception as exc:  # noqa: BLE001 - ldap3's failures become this step's outcome
            self._broken(exc, "connect", _("the connection"))
        if self.security != "starttls":
            return
        try:
            self.conn.start_tls(read_server_info=False)
        except Exception as exc:  # noqa: BLE001
            if starttls.error is not None:
                self._tls_failed(starttls.error, starttls=True)
            result = Result.of(self.conn.result)
            if self.conn.result and result.code:
                self.fail(
                    Category.PROTOCOL_ERROR,
                    _(
                        "{target} refused StartTLS ({said}); the connection was dropped before the "
                        "credentials were sent. Enable TLS on the domain controller (it needs a "
                        "certificate), or choose LDAPS."
                    ).format(target=self.target, said=result.said),
                    "tls",
                )
            if not isinstance(exc, TimeoutError) and not self.closed:
                self.fail(
                    Category.PROTOCOL_ERROR,
                    _(
                        "{target} ended the connection when asked for StartTLS ({error}); check that "
                        "the port is plain LDAP (389, or 3268 for the Global Catalog); on 636 or 3269 "
                        "choose LDAPS."
                    ).format(target=self.target, error=str(exc) or type(exc).__name__),
                    "tls",
                )
            self._broken(exc, "tls", _("the StartTLS request"))
        self._progress()

    # ---- LDAP ---------------------------------------------------------------------------------
    def bind(self, user: str, password: str) -> Result:
        import ldap3

        self.conn.user, self.conn.password, self.conn.authentication = user, password, ldap3.SIMPLE
        try:
            self.conn.bind(read_server_info=False)
        except Exception as exc:  # noqa: BLE001
            self._broken(exc, "bind", _("the bind"))
        finally:
            self.conn.password = None  # not kept in ldap3's object longer than needed
        self._progress()
        return Result.of(self.conn.result)

    def search(
        self,
        base: str,
        ldap_filter: str,
        *,
        scope: str = "BASE",
        attributes: list[str] | None = None,
        controls: list[Any] | None = None,
        size_limit: int = 0,
        page: int = 0,
        what: str = "",
    ) -> tuple[Result, list[Entry]]:
        """Entries of one search (with `page`, the first page of a paged search only)."""
        import ldap3

        scopes = {"BASE": ldap3.BASE, "LEVEL": ldap3.LEVEL, "SUBTREE": ldap3.SUBTREE}
        try:
            self.conn.search(
                base,
                ldap_filter,
                scopes[scope],
                attributes=attributes or ["1.1"],
                controls=controls,
                size_limit=size_limit,
                time_limit=max(1, int(self.timeout)),
                paged_size=page or None,
            )
        except Exception as exc:  # noqa: BLE001
            self._broken(exc, "search", what or _("a search"))
        self._progress()
        entries = []
        for item in self.conn.response or []:
            if item.get("type") != "searchResEntry":
                continue
            raw = item.get("raw_attributes") or {}
            entries.append(
                Entry(str(item.get("dn") or ""), {str(k).lower(): list(v) for k, v in raw.items()})
            )
        return Result.of(self.conn.result), entries

    # ---- closing -------------------------------------------------------------------------------
    def close(self) -> None:
        """Unbind (when bound) and close every socket; never raises."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            sockets = list(self._sockets)
        conn = self.conn
        if conn is not None:
            with contextlib.suppress(Exception):  # the connection may be gone already
                conn.unbind()
            if conn.socket is not None:
                _shut(conn.socket)
        for s in sockets:
            _shut(s)

    def kill(self) -> None:
        """From another thread (the operation was abandoned): the sockets shut down at once."""
        with self._lock:
            self.closed = True
            sockets = list(self._sockets)
        for s in sockets:
            _shut(s)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected (any more)
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def port_hint(security: str, port: int) -> str:
    """Why a port does not go with the security chosen, or ''."""
    if security == "ldaps" and port in PLAIN_PORTS:
        return _(
            "port {port} is plain LDAP: with LDAPS use 636 (or 3269 for the Global Catalog), "
            "or choose StartTLS"
        ).format(port=port)
    if security in ("starttls", "none") and port in TLS_PORTS:
        return _(
            "port {port} is LDAPS (TLS from the first byte): choose LDAPS, or use 389 (or 3268 "
            "for the Global Catalog)"
        ).format(port=port)
    return ""
