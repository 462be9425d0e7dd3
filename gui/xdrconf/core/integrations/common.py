"""Pieces shared by the integrations: the trust fields and the trust page; the pointer of the
firewalls to the script-launch host (SCRIPT_HOST); a session on a peer that is always
logged out (signed_in); and the check of a peer whose API is not public, which proves only
what a TLS handshake can (reachability_check)."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, NoReturn, TypeVar

from ..catalog import Page, SeeAlso
from ..errors import OperationFailed, Stopped
from ..fields import Field, format_fingerprint, host_port
from ..i18n import N_, _
from ..outcome import Category, Outcome

if TYPE_CHECKING:
    from ..engine import OpContext

log = logging.getLogger(__name__)
T = TypeVar("T")

TLS_CA = Field(
    "tls_ca",
    N_("CA certificate"),
    kind="pem",
    multiline=True,
    help=N_(
        "PEM certificate of the CA that issued the server's certificate (for example, the CA of the "
        "product or of your organisation). "
        "Leave empty to use the system's trusted CAs."
    ),
    placeholder=N_("-----BEGIN CERTIFICATE-----"),
)
TLS_PIN = Field(
    "tls_pin_sha256",
    N_("Pinned SHA-256 fingerprint"),
    kind="fingerprint",
    help=N_(
        "Trust exactly this server certificate. Use 'Fetch certificate' to read it from the "
        "server and compare it with what the server's administrator tells you."
    ),
    placeholder=N_("AB:CD:…  (64 hex digits)"),
)
TRUST_FIELDS = (TLS_CA, TLS_PIN)


def trust_page(what: str) -> Page:
    """The trust page of a spec (built at import: its texts stay lazy; `what` may be N_(...))."""
    return Page(
        N_("Server certificate"),
        N_(
            "How xdrconf trusts the TLS certificate of {what}: the system's CAs by "
            "default, a CA certificate you supply, and/or a pinned fingerprint. "
            "Verification is never switched off."
        ).fill(what=what),
        ("tls_ca", "tls_pin_sha256"),
    )


# A trust page with translated texts, for servers that usually present a self-signed
# certificate (the firewalls).
PIN_PAGE = Page(
    N_("Server certificate"),
    N_(
        "How xdrconf trusts the server's TLS certificate, usually self-signed: fetch and pin its "
        "fingerprint, or give the CA that issued it. Verification stays on."
    ),
    ("tls_ca", "tls_pin_sha256"),
)


# ---- the script-launch host ------------------------------------------------------------------
# XDR drives the firewalls through response scripts that run on the custom integration's
# host (shared/INTEGRATIONS.md, "How XDR Expert uses the third-party integrations").
SCRIPT_HOST = SeeAlso(
    "custom",
    N_(
        "XDR's response scripts for this integration run on the script-launch host, which XDR "
        "reaches through this tenant's {title}; the address and the account entered here go into "
        "each script's configuration there."
    ),
)


# The account of a product whose API is not public: kept for the response scripts, never sent
# by the check (reachability_check).
SCRIPT_ACCOUNT_FIELDS = (
    Field(
        "username", N_("User name"), required=True, help=N_("The account the response scripts log in with.")
    ),
    Field(
        "password",
        N_("Password"),
        kind="secret",
        required=True,
        help=N_("The account's password. Kept in the secret store only; the check does not send it."),
    ),
)


# ---- a session that is always logged out -----------------------------------------------------
@dataclass
class SignedIn(Generic[T]):
    """A peer's session opened by signed_in: its token, and why the logout failed ("" when
    it worked)."""

    token: T
    logout_error: str = ""

    def left_open(self) -> str:
        """What to tell when the logout failed, or ""."""
        if not self.logout_error:
            return ""
        return _(
            "The check could not log out ({error}); the server ends the session once it has been "
            "unused for its idle timeout."
        ).format(error=self.logout_error.rstrip("."))


def _logout(ctx: OpContext, held: SignedIn[T], logout: Callable[[T], object]) -> None:
    try:
        logout(held.token)
    except OperationFailed as exc:
        held.logout_error = str(exc)
    except Stopped:
        held.logout_error = _("the logout could not be sent")
    except Exception as exc:  # a logout that failed is reported, not raised
        log.warning("the logout of %s failed", ctx.kind, exc_info=exc)
        held.logout_error = f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def signed_in(ctx: OpContext, login: Callable[[], T], logout: Callable[[T], object]) -> Iterator[SignedIn[T]]:
    """A session on a peer that is always ended: login(), the body, then logout(token) —
    also when the body fails, and when the operation is cancelled or overruns its time
    (then as soon as the request under way has its answer). The requests go through a
    lasting request helper, `ctx.http(lasting=True)`, the logout with `final=True`.

    A failure of the body that comes with a failed logout says so in its message; after a
    body that succeeded, `left_open()` says it (add it to the outcome as a warning)."""
    held = SignedIn(login())
    try:
        ctx.check_stop()  # cancelled while logging in: log out at once
        yield held
    except OperationFailed as exc:
        _logout(ctx, held, logout)
        if held.logout_error:
            raise OperationFailed(
                exc.category, f"{exc} {held.left_open()}", details=exc.details, refused=exc.refused
            ) from exc
        raise
    except BaseException:
        _logout(ctx, held, logout)
        raise
    else:
        _logout(ctx, held, logout)


# ---- reachability only -------------------------------------------------------------------------
class _Shut:
    """Closes a socket from another thread so that a blocked call returns (ctx.guard)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def _connect(ctx: OpContext, host: str, port: int, target: str) -> tuple[socket.socket, str]:
    """TCP to the first address of the host that accepts (name resolution first)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        ctx.fail(
            Category.DNS,
            _(
                "The host name {host} could not be resolved ({reason}); check the spelling and the "
                "DNS settings of this computer."
            ).format(host=host, reason=exc.strerror or exc),
        )
    last: OSError | None = None
    for family, kind, proto, _canonical, address in addresses:
        ctx.check_stop()
        sock = socket.socket(family, kind, proto)
        ctx.guard(_Shut(sock))
        sock.settimeout(min(ctx.timeout, ctx.remaining()))
        try:
            sock.connect(address)
            return sock, str(address[0])
        except OSError as exc:
            sock.close()
            last = exc
    ctx.check_stop()
    if isinstance(last, TimeoutError):
        ctx.fail(
            Category.TIMEOUT,
            _(
                "{target} did not accept the connection within {timeout:g} s; check the address, "
                "the port and that no firewall drops the traffic, or raise the timeout."
            ).format(target=target, timeout=ctx.timeout),
        )
    if isinstance(last, ConnectionRefusedError):
        ctx.fail(
            Category.UNREACHABLE,
            _(
                "{target} refused the connection: nothing listens on that port; check the host, "
                "the port and that the service is running."
            ).format(target=target),
        )
    ctx.fail(
        Category.UNREACHABLE,
        _("{target} cannot be reached ({reason}); check the network path and any firewall on it.").format(
            target=target, reason=getattr(last, "strerror", None) or last
        ),
    )


def _handshake_failed(ctx: OpContext, exc: BaseException, target: str) -> NoReturn:
    from ..net import classify_exception

    if ctx.cancelled():
        raise Stopped from None
    if isinstance(exc, ssl.SSLCertVerificationError):
        category, message = classify_exception(exc, target, ctx.timeout)
        ctx.fail(category, message)
    if isinstance(exc, TimeoutError):
        ctx.fail(
            Category.TIMEOUT,
            _(
                "{target} accepted the connection but did not complete a TLS handshake within "
                "{timeout:g} s; check that the port is the one the {title} server speaks TLS on."
            ).format(target=target, timeout=ctx.timeout, title=ctx.spec.title),
        )
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    ctx.fail(
        Category.PROTOCOL_ERROR,
        _(
            "The TLS handshake with {target} failed ({reason}); check that the port is the one "
            "the {title} server speaks TLS on."
        ).format(target=target, reason=reason, title=ctx.spec.title),
    )


def reachability_check(ctx: OpContext) -> list[Outcome]:
    """For a product without a public API (Continent 4, SKDPU NT): the host name resolves,
    the port accepts TCP, a TLS handshake completes and the certificate is trusted (the
    system's CAs, the CA of the settings, the pinned fingerprint). Nothing but the handshake
    is sent: no credential leaves this computer. The outcome passes with verified=False and
    says that the user name and password were not checked."""
    from ..net import Trust, describe_certificate, make_ssl_context, sha256_hex

    s = ctx.settings
    host, port = str(s["host"]), int(s["port"])
    target = host_port(host, port)
    trust = Trust.from_settings(s)
    started = time.monotonic()
    raw, address = _connect(ctx, host, port, target)
    ctx.check_stop()
    try:
        tls = make_ssl_context(trust).wrap_socket(raw, server_hostname=host)
    except (OSError, ssl.SSLError) as exc:
        raw.close()
        _handshake_failed(ctx, exc, target)
    ctx.guard(_Shut(tls))
    try:
        der = tls.getpeercert(binary_form=True) or b""
        version = tls.version() or ""
    finally:
        tls.close()  # nothing was written over the encrypted channel
    latency = (time.monotonic() - started) * 1000
    ctx.check_stop()
    if not der:
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _("{target} sent no certificate in the TLS handshake.").format(target=target),
        )
    info = describe_certificate(der)
    if trust.pin_sha256:
        actual = sha256_hex(der)
        if actual != trust.pin_sha256:
            ctx.fail(
                Category.TLS_PIN_MISMATCH,
                _(
                    "The certificate of {target} does not match the pinned SHA-256 fingerprint (it "
                    "presents {actual}); nothing was sent. If the server's certificate was renewed, "
                    "fetch and pin it again; otherwise treat this as an attack."
                ).format(target=target, actual=format_fingerprint(actual)),
            )
        if info.expired:
            ctx.fail(
                Category.TLS_EXPIRED,
                _(
                    "The pinned certificate of {target} expired on {date}; renew it on the server, "
                    "then fetch and pin the new one."
                ).format(target=target, date=info.not_after),
            )
        how = _("the pinned SHA-256 fingerprint")
    elif trust.ca_pem:
        how = _("the CA certificate of the settings")
    else:
        how = _("the system's trusted CAs")
    message = _(
        "{title} at {target} is reachable: the TLS handshake completed ({version}) and the "
        "certificate is trusted through {how} — subject {subject}, issued by {issuer}, valid until "
        "{not_after}. The user name and password were NOT checked: {title} has no public API to test "
        "them with, so only XDR's response scripts will show whether the account works."
    ).format(
        title=ctx.spec.title,
        target=target,
        version=version,
        how=how,
        subject=info.subject,
        issuer=info.issuer,
        not_after=info.not_after,
    )
    return [
        Outcome(
            Category.OK,
            message,
            target,
            latency_ms=latency,
            verified=False,
            details={
                "address": address,
                "tls_version": version,
                "subject": info.subject,
                "issuer": info.issuer,
                "not_before": info.not_before,
                "not_after": info.not_after,
                "sha256": info.sha256,
                "credentials_checked": False,
            },
        )
    ]
