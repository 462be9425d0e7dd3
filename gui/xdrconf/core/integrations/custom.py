"""Custom integration: the host that launches third-party scripts, reached over SSH.

The host's key is checked against the pinned public key before any credential leaves this
computer, and the negotiated host-key type is restricted to the pinned key's type so a
server that also has keys of other types is never reported as "wrong"."""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Flag, IntegrationSpec, Page, ValidationContext
from ..checks import CheckContext, missing_secret_result
from ..errors import ValidationError
from ..fields import Field, host_port
from ..outcome import Category, CheckResult
from ..sshkeys import (
    HOST_KEY_ALGORITHMS,
    PassphraseNeeded,
    PassphraseWrong,
    PublicKeyInfo,
    info_of_blob,
    load_private_key,
    parse_private_key_field,
    parse_public_key,
    parse_public_key_field,
)
from ..tenants import IntegrationState

# paramiko logs a traceback at ERROR for every refused negotiation (e.g. a host without a
# key of the pinned type); without a handler Python would print it on stderr. Records still
# reach the application's own handlers, if it configured any. paramiko never logs secrets.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

TITLE = "Custom integration"
DEFAULT_PORT = 22

FIELDS = (
    Field(
        "host",
        "IP address or host name",
        kind="host",
        required=True,
        help="The device on which the third-party scripts are launched.",
        placeholder="scripts.example.com",
    ),
    Field(
        "ports",
        "Ports",
        kind="ports",
        required=True,
        default=[DEFAULT_PORT],
        help="SSH port(s), comma-separated; tried in order, the first that accepts is used.",
        placeholder="22",
    ),
    Field(
        "verify_host",
        "Verify the host before connecting",
        kind="bool",
        default=True,
        help="Compare the host's key with the public key below before sending any "
        "credential. Turning this off lets anyone on the network path impersonate the host.",
    ),
    Field(
        "host_public_key",
        "Public key",
        parser=parse_public_key_field,
        required=True,
        visible_when=("verify_host", True),
        multiline=True,
        help="The host's OpenSSH public key line, e.g. the contents of "
        "/etc/ssh/ssh_host_ed25519_key.pub or one line of 'ssh-keyscan HOST' without the "
        "host name.",
        placeholder="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…",
        extra={"format": lambda v: v},
    ),
    Field(
        "auth",
        "Authentication method",
        kind="choice",
        required=True,
        default="password",
        choices=(("password", "User name and password"), ("key", "SSH key")),
        help="How xdrconf logs in to the host.",
    ),
    Field("username", "User name", kind="text", required=True, help="The account the scripts run as."),
    Field(
        "password",
        "Password",
        kind="secret",
        required=True,
        visible_when=("auth", "password"),
        help="Kept in the OS keyring only.",
    ),
    Field(
        "private_key",
        "Private key",
        kind="secret_text",
        required=True,
        parser=parse_private_key_field,
        visible_when=("auth", "key"),
        multiline=True,
        help="OpenSSH or PEM format; RSA, ECDSA or Ed25519. Kept in the OS keyring only "
        "(keys longer than the keyring allows are encrypted to a file whose key stays in "
        "the keyring).",
    ),
    Field(
        "key_passphrase",
        "Key passphrase",
        kind="secret",
        visible_when=("auth", "key"),
        help="Only if the private key is encrypted.",
    ),
    Field(
        "test_command",
        "Test command",
        kind="text",
        help="Optional harmless command run after logging in (e.g. 'true'); its exit status "
        "is reported. Leave empty to only log in.",
        placeholder="true",
    ),
)


def flags(state: IntegrationState, now: _dt.datetime) -> list[Flag]:
    """Verification off is allowed, knowingly; it stays visible on the tenant."""
    if state.settings.get("verify_host", True) is False:
        return [
            Flag(
                "warning",
                "Custom integration: the SSH host is not verified (verification "
                "is off); read or ask for its public key and pin it.",
            )
        ]
    return []


def seen_host_key(state: IntegrationState) -> str | None:
    """The host key an unverified check saw last (to offer pinning it), or None."""
    for result in reversed(state.results):
        details = result.get("details") or {}
        if details.get("seen_host_key") and not details.get("verified", False):
            return str(details["seen_host_key"])
    return None


def validate(settings: dict[str, Any], vctx: ValidationContext) -> None:
    """Completeness of what turning the integration on needs; while it is off, settings can
    be given step by step (e.g. the host first, the credentials in a later command)."""
    if not vctx.enabled:
        return
    if settings.get("verify_host", True) and not settings.get("host_public_key"):
        raise ValidationError(
            "Public key",
            "is required while 'Verify the host before connecting' is on; paste the host's "
            "public key, or turn verification off knowingly (verify_host=false)",
            field="host_public_key",
        )
    auth = settings.get("auth")
    if auth is None:
        return
    if not settings.get("username"):
        raise ValidationError("User name", "is required to log in to the host", field="username")
    if auth == "password" and "password" not in vctx.secrets_present:
        raise ValidationError(
            "Password", "is required for 'User name and password' authentication; add it", field="password"
        )
    if auth == "key" and "private_key" not in vctx.secrets_present:
        raise ValidationError(
            "Private key", "is required for 'SSH key' authentication; add it", field="private_key"
        )


# ---- the check ---------------------------------------------------------------------------------
class _Stopped(Exception):
    """The check was cancelled or ran out of time; the watcher closed the connection."""


@dataclass
class _Limits:
    """The part of a CheckContext the SSH steps need (also used outside a check)."""

    timeout: float
    cancel: threading.Event = field(default_factory=threading.Event)

    def cancelled(self) -> bool:
        return self.cancel.is_set()


class _Watch:
    """Closes the connection when the check is cancelled or its time is up, so that no
    blocking paramiko call outlives the check."""

    def __init__(self, ctx: CheckContext | _Limits, budget: float) -> None:
        self.ctx = ctx
        self.deadline = time.monotonic() + budget
        self.finished = threading.Event()
        self.reason = ""
        self._closers: list[Any] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="xdrconf-ssh-watch", daemon=True)
        self._thread.start()

    def guard(self, closer: Any) -> None:
        with self._lock:
            self._closers.append(closer)
            stopped = bool(self.reason)
        if stopped:
            self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            closers, self._closers = self._closers, []
        for c in closers:
            with contextlib.suppress(Exception):  # closing a dead connection may fail; nothing to do
                c.close()

    def _run(self) -> None:
        while not self.finished.wait(0.05):
            if self.ctx.cancelled():
                self.reason = "cancelled"
            elif time.monotonic() >= self.deadline:
                self.reason = "timeout"
            if self.reason:
                self._close_all()
                return

    def check(self) -> None:
        if self.ctx.cancelled():
            self.reason = self.reason or "cancelled"
        if self.reason:
            raise _Stopped(self.reason)

    def remaining(self) -> float:
        return max(0.05, self.deadline - time.monotonic())

    def stop(self) -> None:
        self.finished.set()
        self._close_all()
        self._thread.join(1.0)


def _targets(host: str, ports: list[int]) -> str:
    if len(ports) == 1:
        return host_port(host, ports[0])
    return f"{host} (ports {', '.join(str(p) for p in ports)})"


def _connect_first(
    host: str, ports: list[int], ctx: CheckContext | _Limits, watch: _Watch
) -> tuple[socket.socket | None, int | None, CheckResult | None]:
    """TCP-connect to the ports in order; (socket, port, None) or (None, None, failure)."""
    where = _targets(host, ports)
    refused: list[int] = []
    silent: list[int] = []
    other: list[str] = []
    for port in ports:
        watch.check()
        try:
            sock = socket.create_connection((host, port), timeout=min(ctx.timeout, watch.remaining()))
        except socket.gaierror as exc:
            return (
                None,
                None,
                CheckResult(
                    Category.DNS,
                    f"The host name '{host}' could not be resolved ({exc.strerror or exc}); check the "
                    "spelling and the DNS settings of this computer.",
                    where,
                ),
            )
        except ConnectionRefusedError:
            refused.append(port)
            continue
        except TimeoutError:
            silent.append(port)
            continue
        except OSError as exc:
            other.append(f"port {port}: {exc.strerror or exc}")
            continue
        return sock, port, None
    watch.check()
    if silent and not refused and not other:
        return (
            None,
            None,
            CheckResult(
                Category.TIMEOUT,
                f"{where} did not accept a connection within {ctx.timeout:g} s on any port "
                f"({', '.join(map(str, silent))}); check that sshd runs and that no firewall drops "
                "the traffic, or raise the timeout.",
                where,
            ),
        )
    parts = []
    if refused:
        parts.append(f"refused on {', '.join(map(str, refused))}")
    if silent:
        parts.append(f"no answer within {ctx.timeout:g} s on {', '.join(map(str, silent))}")
    parts.extend(other)
    return (
        None,
        None,
        CheckResult(
            Category.UNREACHABLE,
            f"No SSH server could be reached at {host} on port(s) {', '.join(map(str, ports))} "
            f"({'; '.join(parts)}); check the host, the Ports field and that sshd is running.",
            where,
        ),
    )


def _disabled_host_key_algorithms(pinned_type: str) -> list[str]:
    import paramiko

    allowed = set(HOST_KEY_ALGORITHMS[pinned_type])
    # Every host key algorithm this paramiko knows: private class attributes, not in its stubs.
    known = paramiko.Transport._preferred_keys, paramiko.Transport._key_info  # type: ignore[attr-defined]
    offered = set(known[0]) | set(known[1])
    return sorted(a for a in offered if a not in allowed)


def _classify_ssh_failure(
    exc: BaseException, where: str, ctx: CheckContext | _Limits, watch: _Watch, pinned: PublicKeyInfo | None
) -> CheckResult:
    import paramiko
    from paramiko.ssh_exception import IncompatiblePeer

    if watch.reason == "cancelled" or ctx.cancelled():
        return CheckResult(Category.CANCELLED, "The check was cancelled; nothing was concluded.", where)
    if watch.reason == "timeout" or isinstance(exc, (socket.timeout, TimeoutError)):
        return CheckResult(
            Category.TIMEOUT,
            f"{where} accepted the connection but the SSH exchange did not finish within "
            f"{ctx.timeout:g} s; check that the port belongs to an SSH server, or raise the timeout.",
            where,
        )
    text = str(exc)
    if isinstance(exc, paramiko.SSHException) and "banner" in text.lower():
        causes = [exc.__cause__, exc.__context__]
        if any(isinstance(c, (socket.timeout, TimeoutError)) for c in causes) or "timed out" in text.lower():
            return CheckResult(
                Category.TIMEOUT,
                f"{where} accepted the connection but sent no SSH greeting within {ctx.timeout:g} s; "
                "check that the port belongs to an SSH server.",
                where,
            )
        return CheckResult(
            Category.PROTOCOL_ERROR,
            f"{where} does not speak SSH (no SSH greeting, the connection was closed); check the "
            "Ports field.",
            where,
        )
    if isinstance(exc, paramiko.SSHException) and (
        "Indecipherable protocol version" in text
        or "Invalid SSH banner" in text
        or (isinstance(exc, IncompatiblePeer) and "version" in text)
    ):
        return CheckResult(
            Category.PROTOCOL_ERROR,
            f"{where} answered with something that is not an SSH greeting; check the Ports field.",
            where,
        )
    if isinstance(exc, IncompatiblePeer) or "Incompatible ssh" in text:
        if pinned is not None and "host key" in text:
            sha1 = (
                " (or signs with RSA only the obsolete SHA-1 way; then update its sshd)"
                if pinned.key_type == "ssh-rsa"
                else ""
            )
            return CheckResult(
                Category.HOST_KEY_MISMATCH,
                f"{where} offers no {pinned.key_type} host key{sha1}, so it cannot prove it owns "
                f"the pinned key ({pinned.fingerprint}); nothing was sent. Paste the host's current "
                "public key if it was replaced; otherwise treat this as an attack.",
                where,
                details={"pinned_fingerprint": pinned.fingerprint},
            )
        return CheckResult(
            Category.PROTOCOL_ERROR,
            f"{where} and xdrconf share no SSH algorithms ({text}); the server is too old or "
            "restricted to algorithms xdrconf does not use.",
            where,
        )
    if isinstance(exc, (EOFError, ConnectionResetError, paramiko.SSHException)):
        return CheckResult(
            Category.PROTOCOL_ERROR,
            f"{where} closed the SSH connection unexpectedly ({type(exc).__name__}"
            f"{': ' + text if text else ''}); check the server's sshd log.",
            where,
        )
    if isinstance(exc, OSError):
        return CheckResult(
            Category.UNREACHABLE,
            f"The connection to {where} failed ({exc.strerror or exc}); check the network path.",
            where,
        )
    return CheckResult(
        Category.PROTOCOL_ERROR,
        f"The SSH exchange with {where} failed unexpectedly ({type(exc).__name__}).",
        where,
    )


def _handshake(sock: socket.socket, timeout: float, watch: _Watch, key_type: str | None) -> tuple[Any, Any]:
    """SSH key exchange on a connected socket, host-key types restricted to `key_type`'s
    algorithms when given. Returns (transport, server key); sends no authentication."""
    import paramiko

    disabled = {"keys": _disabled_host_key_algorithms(key_type)} if key_type else None
    transport = paramiko.Transport(sock, disabled_algorithms=disabled)
    watch.guard(transport)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    transport.auth_timeout = timeout
    negotiated = threading.Event()
    transport.start_client(event=negotiated)
    _wait(negotiated, transport, watch)
    if not transport.is_active():
        transport.close()
        raise transport.get_exception() or EOFError("the server closed the connection")
    return transport, transport.get_remote_server_key()


def _wait(event: threading.Event, transport: Any, watch: _Watch) -> None:
    while not event.wait(0.05):
        watch.check()
        if not transport.is_active():
            break
    watch.check()


def _credentials(
    ctx: CheckContext, auth: str, where: str
) -> tuple[dict[str, Any] | None, CheckResult | None]:
    """The credentials to send, read from the keyring; or a result saying what is wrong."""
    if auth == "password":
        password = ctx.secret("password")
        if not password:
            return None, missing_secret_result("Password", TITLE)
        return {"password": password}, None
    text = ctx.secret("private_key")
    if not text:
        return None, missing_secret_result("Private key", TITLE)
    passphrase = ctx.secret("key_passphrase")
    try:
        pkey = load_private_key(text, passphrase)
    except PassphraseNeeded:
        return None, CheckResult(
            Category.INVALID_CONFIG,
            "Key passphrase: the private key is encrypted and no passphrase is stored; add the "
            "Key passphrase and check again.",
            where,
        )
    except PassphraseWrong:
        return None, CheckResult(
            Category.INVALID_CONFIG,
            "Key passphrase: the stored passphrase does not decrypt the private key; replace the "
            "Key passphrase (or the key) and check again.",
            where,
        )
    except ValidationError as exc:
        return None, CheckResult(Category.INVALID_CONFIG, f"{exc}.", where)
    return {"pkey": pkey}, None


def check(ctx: CheckContext) -> list[CheckResult]:
    s = ctx.settings
    host: str = s["host"]
    ports: list[int] = list(s.get("ports") or [DEFAULT_PORT])
    verify = bool(s.get("verify_host", True))
    auth = s.get("auth") or "password"
    username = s.get("username") or ""
    command = (s.get("test_command") or "").strip()
    where = _targets(host, ports)
    pinned: PublicKeyInfo | None = None
    if verify:
        if not s.get("host_public_key"):
            return [
                CheckResult(
                    Category.INVALID_CONFIG,
                    "Public key: verification is on but no host public key is set; paste it, or "
                    "turn verification off knowingly.",
                    where,
                )
            ]
        try:
            pinned = parse_public_key(s["host_public_key"], "Public key")
        except ValidationError as exc:
            return [CheckResult(Category.INVALID_CONFIG, f"{exc}.", where)]
    if not username:
        return [CheckResult(Category.INVALID_CONFIG, "User name: is required to log in; set it.", where)]
    # Decrypt the key before connecting: a wrong passphrase is a local problem and needs no peer.
    creds, problem = _credentials(ctx, auth, where)
    if problem is not None:
        return [problem]
    assert creds is not None

    steps = 4 if command else 3
    watch = _Watch(ctx, ctx.timeout * steps)
    transport: Any = None
    try:
        try:
            sock, port, failed = _connect_first(host, ports, ctx, watch)
        except _Stopped:
            if watch.reason == "cancelled":
                return [
                    CheckResult(Category.CANCELLED, "The check was cancelled; nothing was concluded.", where)
                ]
            return [
                CheckResult(
                    Category.TIMEOUT,
                    f"No port of {where} accepted a connection within the check's time limit; check "
                    "that sshd runs and that no firewall drops the traffic, or raise the timeout.",
                    where,
                )
            ]
        if failed is not None:
            return [failed]
        assert sock is not None and port is not None
        watch.guard(sock)
        where = host_port(host, port)
        started = time.monotonic()
        try:
            transport, server_key = _handshake(sock, ctx.timeout, watch, pinned.key_type if pinned else None)
        except _Stopped:
            return [_classify_ssh_failure(TimeoutError(), where, ctx, watch, pinned)]
        except Exception as exc:  # noqa: BLE001 - classified into one category
            return [_classify_ssh_failure(exc, where, ctx, watch, pinned)]
        seen = info_of_blob(server_key.get_name(), server_key.asbytes())
        details: dict[str, Any] = {
            "port": port,
            "seen_host_key": seen.line,
            "seen_fingerprint": seen.fingerprint,
            "seen_key_type": seen.key_type,
            "verified": bool(pinned),
        }
        if pinned is not None and seen.blob != pinned.blob:
            # Stop here: not a single authentication request is sent to this server.
            return [
                CheckResult(
                    Category.HOST_KEY_MISMATCH,
                    f"The host key of {where} does not match the pinned public key (the host "
                    f"presents {seen.fingerprint}, the pin is {pinned.fingerprint}); no credential "
                    "was sent. If the host's key was replaced, paste the new public key; otherwise "
                    "treat this as an attack.",
                    where,
                    details={**details, "pinned_fingerprint": pinned.fingerprint},
                )
            ]
        if pinned is not None:
            trust = f"host key verified ({seen.fingerprint})"
        else:
            trust = (
                f"host NOT verified — verification is off; the host presented {seen.family} "
                f"key {seen.fingerprint}, pin it if the host's administrator confirms it"
            )
        try:
            result = _authenticate(transport, username, auth, creds, watch)
        except _Stopped:
            return [_classify_ssh_failure(TimeoutError(), where, ctx, watch, pinned)]
        except Exception as exc:  # noqa: BLE001 - classified into one category
            return [_classify_ssh_failure(exc, where, ctx, watch, pinned)]
        finally:
            creds = None
        if result is not None:
            category, message = result
            return [CheckResult(category, f"{message}; {trust}.", where, details=details)]
        latency = (time.monotonic() - started) * 1000
        if not command:
            return [
                CheckResult(
                    Category.OK,
                    f"Logged in to {where} as '{username}'; {trust}.",
                    where,
                    latency,
                    details=details,
                )
            ]
        try:
            status, last_err = _run_command(transport, command, ctx, watch)
        except _Stopped:
            if watch.reason == "timeout" and not ctx.cancelled():
                return [
                    CheckResult(
                        Category.TIMEOUT,
                        f"Logged in to {where} as '{username}', but the test command did not finish "
                        f"within {ctx.timeout:g} s; use a quick, harmless command such as 'true'; {trust}.",
                        where,
                        details=details,
                    )
                ]
            return [_classify_ssh_failure(TimeoutError(), where, ctx, watch, pinned)]
        except Exception as exc:  # noqa: BLE001 - classified into one category
            return [_classify_ssh_failure(exc, where, ctx, watch, pinned)]
        latency = (time.monotonic() - started) * 1000
        details["exit_status"] = status
        if status == 0:
            return [
                CheckResult(
                    Category.OK,
                    f"Logged in to {where} as '{username}' and ran the test command: exit status 0; {trust}.",
                    where,
                    latency,
                    details=details,
                )
            ]
        said = f' (it said: "{last_err}")' if last_err else ""
        what = f"exit status {status}" if status >= 0 else "no exit status (killed by a signal)"
        return [
            CheckResult(
                Category.SERVER_ERROR,
                f"Logged in to {where} as '{username}', but the test command failed on the host: "
                f"{what}{said}; the connection works — fix the command or the host; {trust}.",
                where,
                latency,
                details=details,
            )
        ]
    finally:
        watch.stop()
        if transport is not None:
            transport.close()


def _authenticate(
    transport: Any, username: str, auth: str, creds: dict[str, Any], watch: _Watch
) -> tuple[Category, str] | None:
    """None when logged in; otherwise (category, message) without the trailing trust note."""
    import paramiko

    try:
        if auth == "password":
            remaining = transport.auth_password(username, creds["password"])
        else:
            remaining = transport.auth_publickey(username, creds["pkey"])
    except paramiko.BadAuthenticationType as exc:
        allowed = ", ".join(exc.allowed_types) or "none"
        method = "password" if auth == "password" else "public key"
        return (
            Category.AUTH_FAILED,
            f"The host does not accept {method} authentication (it allows: {allowed}); choose "
            "the other method or change the host's sshd configuration",
        )
    except paramiko.AuthenticationException:
        watch.check()
        if auth == "password":
            return (
                Category.AUTH_FAILED,
                f"The host rejected the user name '{username}' with this password; check both "
                "and replace the password",
            )
        return (
            Category.AUTH_FAILED,
            f"The host rejected the SSH key for user '{username}'; add its public key to the "
            "user's ~/.ssh/authorized_keys on the host, or replace the key",
        )
    watch.check()
    if remaining:
        return (
            Category.AUTH_FAILED,
            f"The host accepted the first factor but requires more ({', '.join(remaining)}), "
            "which a script launch cannot provide",
        )
    if not transport.is_authenticated():
        return (Category.AUTH_FAILED, f"The host did not authenticate user '{username}'")
    return None


def _run_command(transport: Any, command: str, ctx: CheckContext, watch: _Watch) -> tuple[int, str]:
    channel = transport.open_session(timeout=min(ctx.timeout, watch.remaining()))
    watch.guard(channel)
    channel.settimeout(0.05)
    channel.exec_command(command)
    channel.shutdown_write()
    deadline = time.monotonic() + ctx.timeout
    err = b""
    while not channel.exit_status_ready():
        watch.check()
        if time.monotonic() >= deadline:
            watch.reason = "timeout"
            raise _Stopped("timeout")
        for is_err, recv in ((False, channel.recv), (True, channel.recv_stderr)):
            try:
                chunk = recv(4096)
            except TimeoutError:
                continue
            if is_err and len(err) < 4096:
                err += chunk
        if not channel.recv_stderr_ready() and not channel.recv_ready():
            time.sleep(0.02)
    while channel.recv_stderr_ready() and len(err) < 4096:
        err += channel.recv_stderr(4096)
    status = channel.recv_exit_status()
    channel.close()
    # The last line of standard error usually carries the reason a command failed.
    last = next(
        (ln.strip() for ln in reversed(err.decode("utf-8", "replace").splitlines()) if ln.strip()), ""
    )
    return status, last[:200]


@dataclass
class HostKeys:
    """What `read_host_keys` found: the port used and one key per type the host offers,
    or the failure (a CheckResult) when no SSH server could be read."""

    port: int | None
    keys: list[PublicKeyInfo]
    failure: CheckResult | None = None


def read_host_keys(
    host: str, ports: list[int], *, timeout: float = 10.0, cancel: threading.Event | None = None
) -> HostKeys:
    """The host's public keys as it presents them over SSH (one key exchange per key type,
    no authentication) — like `ssh-keyscan`. What comes over the network is only as good as
    the network: compare the fingerprint with the host's administrator before pinning."""
    limits = _Limits(timeout, cancel or threading.Event())
    where = _targets(host, ports)
    found: list[PublicKeyInfo] = []
    chosen: int | None = None
    types = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")
    watch = _Watch(limits, timeout * (len(types) + len(ports)))
    try:
        for key_type in types:
            try:
                sock, port, failed = _connect_first(host, [chosen] if chosen else ports, limits, watch)
            except _Stopped:
                failed = _classify_ssh_failure(TimeoutError(), where, limits, watch, None)
            if failed is not None:
                return HostKeys(chosen, found, failed)
            assert sock is not None and port is not None
            chosen = port
            watch.guard(sock)
            transport = None
            try:
                transport, key = _handshake(sock, timeout, watch, key_type)
                found.append(info_of_blob(key.get_name(), key.asbytes()))
            except _Stopped:
                return HostKeys(
                    chosen,
                    found,
                    _classify_ssh_failure(TimeoutError(), host_port(host, port), limits, watch, None),
                )
            except Exception as exc:  # noqa: BLE001 - classified below
                from paramiko.ssh_exception import IncompatiblePeer

                if not (isinstance(exc, IncompatiblePeer) and "host key" in str(exc)):
                    return HostKeys(
                        chosen, found, _classify_ssh_failure(exc, host_port(host, port), limits, watch, None)
                    )
            finally:
                if transport is not None:
                    transport.close()
                sock.close()
    finally:
        watch.stop()
    if not found:
        return HostKeys(
            chosen,
            found,
            CheckResult(
                Category.PROTOCOL_ERROR,
                f"{where} offers no host key of a type xdrconf can verify (Ed25519, ECDSA, RSA with SHA-2).",
                where,
            ),
        )
    return HostKeys(chosen, found)


SPEC = IntegrationSpec(
    kind="custom",
    title=TITLE,
    description="The script-launch host: Kaspersky Next XDR Expert runs third-party scripts "
    "on it over SSH when a playbook responds to an alert or incident.",
    fields=FIELDS,
    pages=(
        Page(
            "Remote host verification",
            "The host's public key is compared with the key the host presents before any credential is sent.",
            ("verify_host", "host_public_key"),
        ),
        Page("Remote host connection", "Where the script-launch host listens for SSH.", ("host", "ports")),
        Page(
            "Authentication",
            "Password, private key and passphrase are kept in the OS keyring only.",
            ("auth", "username", "password", "private_key", "key_passphrase", "test_command"),
        ),
    ),
    check=check,
    validate=validate,
    flags=flags,
    extra={"timeout_steps": 5},
)
