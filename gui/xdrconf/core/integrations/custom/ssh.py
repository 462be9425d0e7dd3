"""The custom integration's SSH operations: the connection check (connect to the first port
that accepts, key exchange restricted to the pinned key's type, the host key compared
before any credential, log in, the optional test command) and reading the host's public
keys (like ssh-keyscan, without logging in).

Every socket, transport and channel is guarded by the engine (ctx.guard), which closes it
when the operation is cancelled or overdue, so no blocking paramiko call outlives it."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdrconf.core.i18n import _, ngettext

from ...engine import OpContext, run_operation
from ...errors import OperationFailed, Stopped, ValidationError
from ...fields import host_port
from ...outcome import Category, Outcome
from .keys import (
    HOST_KEY_ALGORITHMS,
    PassphraseNeeded,
    PassphraseWrong,
    PublicKeyInfo,
    info_of_blob,
    load_private_key,
    parse_public_key,
)

if TYPE_CHECKING:
    from ...workspace import Workspace

# paramiko logs a traceback at ERROR for every refused negotiation (e.g. a host without a
# key of the pinned type); without a handler Python would print it on stderr. Records still
# reach the application's own handlers, if it configured any (the engine's record factory
# removes secrets from them).
logging.getLogger("paramiko").addHandler(logging.NullHandler())

DEFAULT_PORT = 22
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")


class _CommandTimeout(Exception):
    """The test command did not finish within the timeout."""


def targets_text(host: str, ports: list[int]) -> str:
    if len(ports) == 1:
        return host_port(host, ports[0])
    return _("{host} (ports {items})").format(host=host, items=", ".join(str(p) for p in ports))


def _connect_first(ctx: OpContext, host: str, ports: list[int]) -> tuple[socket.socket, int]:
    """TCP-connect to the ports in order; the socket and its port, or OperationFailed."""
    where = targets_text(host, ports)
    refused: list[int] = []
    silent: list[int] = []
    other: list[str] = []
    for port in ports:
        ctx.check_stop()
        try:
            sock = socket.create_connection((host, port), timeout=min(ctx.timeout, ctx.remaining()))
        except socket.gaierror as exc:
            raise OperationFailed(
                Category.DNS,
                _(
                    "The host name '{host}' could not be resolved ({value}); check the "
                    "spelling and the DNS settings of this computer."
                ).format(host=host, value=exc.strerror or exc),
            ) from None
        except ConnectionRefusedError:
            refused.append(port)
            continue
        except TimeoutError:
            silent.append(port)
            continue
        except OSError as exc:
            other.append(f"port {port}: {exc.strerror or exc}")
            continue
        return ctx.guard(sock), port
    ctx.check_stop()
    if silent and not refused and not other:
        raise OperationFailed(
            Category.TIMEOUT,
            _(
                "{where} did not accept a connection within {timeout:g} s on any port "
                "({items}); check that sshd runs and that no firewall drops the traffic, "
                "or raise the timeout."
            ).format(where=where, timeout=ctx.timeout, items=", ".join(map(str, silent))),
        )
    parts = []
    if refused:
        parts.append(_("refused on {ports}").format(ports=", ".join(map(str, refused))))
    if silent:
        parts.append(
            _("no answer within {timeout:g} s on {ports}").format(
                timeout=ctx.timeout, ports=", ".join(map(str, silent))
            )
        )
    parts.extend(other)
    raise OperationFailed(
        Category.UNREACHABLE,
        _(
            "No SSH server could be reached at {host} on port(s) {items} ({errors}); "
            "check the host, the Ports field and that sshd is running."
        ).format(host=host, items=", ".join(map(str, ports)), errors="; ".join(parts)),
    )


def _disabled_host_key_algorithms(pinned_type: str) -> list[str]:
    import paramiko

    allowed = set(HOST_KEY_ALGORITHMS[pinned_type])
    # Every host key algorithm this paramiko knows: private class attributes, not in its stubs.
    known = paramiko.Transport._preferred_keys, paramiko.Transport._key_info  # type: ignore[attr-defined]
    offered = set(known[0]) | set(known[1])
    return sorted(a for a in offered if a not in allowed)


def _failure(exc: BaseException, where: str, ctx: OpContext, pinned: PublicKeyInfo | None) -> Outcome:
    """One outcome for an SSH exchange that failed."""
    import paramiko
    from paramiko.ssh_exception import IncompatiblePeer

    if ctx.cancelled():
        raise Stopped
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return Outcome(
            Category.TIMEOUT,
            _(
                "{where} accepted the connection but the SSH exchange did not finish "
                "within {timeout:g} s; check that the port belongs to an SSH server, or "
                "raise the timeout."
            ).format(where=where, timeout=ctx.timeout),
            where,
        )
    text = str(exc)
    if isinstance(exc, paramiko.SSHException) and "banner" in text.lower():
        causes = [exc.__cause__, exc.__context__]
        if any(isinstance(c, (socket.timeout, TimeoutError)) for c in causes) or "timed out" in text.lower():
            return Outcome(
                Category.TIMEOUT,
                _(
                    "{where} accepted the connection but sent no SSH greeting within "
                    "{timeout:g} s; check that the port belongs to an SSH server."
                ).format(where=where, timeout=ctx.timeout),
                where,
            )
        return Outcome(
            Category.PROTOCOL_ERROR,
            _(
                "{where} does not speak SSH (no SSH greeting, the connection was "
                "closed); check the Ports field."
            ).format(where=where),
            where,
        )
    if isinstance(exc, paramiko.SSHException) and (
        "Indecipherable protocol version" in text
        or "Invalid SSH banner" in text
        or (isinstance(exc, IncompatiblePeer) and "version" in text)
    ):
        return Outcome(
            Category.PROTOCOL_ERROR,
            _("{where} answered with something that is not an SSH greeting; check the Ports field.").format(
                where=where
            ),
            where,
        )
    if isinstance(exc, IncompatiblePeer) or "Incompatible ssh" in text:
        if pinned is not None and "host key" in text:
            sha1 = (
                _(" (or signs with RSA only the obsolete SHA-1 way; then update its sshd)")
                if pinned.key_type == "ssh-rsa"
                else ""
            )
            return Outcome(
                Category.HOST_KEY_MISMATCH,
                _(
                    "{where} offers no {key_type} host key{sha1}, so it cannot prove it owns "
                    "the pinned key ({fingerprint}); nothing was sent. Paste the host's "
                    "current public key if it was replaced; otherwise treat this as an "
                    "attack."
                ).format(where=where, key_type=pinned.key_type, sha1=sha1, fingerprint=pinned.fingerprint),
                where,
                details={"pinned_fingerprint": pinned.fingerprint},
            )
        return Outcome(
            Category.PROTOCOL_ERROR,
            _(
                "{where} and xdrconf share no SSH algorithms ({text}); the server is too "
                "old or restricted to algorithms xdrconf does not use."
            ).format(where=where, text=text),
            where,
        )
    if isinstance(exc, (EOFError, ConnectionResetError, paramiko.SSHException)):
        return Outcome(
            Category.PROTOCOL_ERROR,
            _(
                "{where} closed the SSH connection unexpectedly ({name}{value}); check the server's sshd log."
            ).format(where=where, name=type(exc).__name__, value=": " + text if text else ""),
            where,
        )
    if isinstance(exc, OSError):
        return Outcome(
            Category.UNREACHABLE,
            _("The connection to {where} failed ({value}); check the network path.").format(
                where=where, value=exc.strerror or exc
            ),
            where,
        )
    return Outcome(
        Category.PROTOCOL_ERROR,
        _("The SSH exchange with {where} failed unexpectedly ({name}).").format(
            where=where, name=type(exc).__name__
        ),
        where,
    )


def _handshake(ctx: OpContext, sock: socket.socket, key_type: str | None) -> tuple[Any, Any]:
    """SSH key exchange on a connected socket, host-key types restricted to `key_type`'s
    algorithms when given. Returns (transport, server key); sends no authentication."""
    import paramiko

    disabled = {"keys": _disabled_host_key_algorithms(key_type)} if key_type else None
    transport = ctx.guard(paramiko.Transport(sock, disabled_algorithms=disabled))
    transport.banner_timeout = ctx.timeout
    transport.handshake_timeout = ctx.timeout
    transport.auth_timeout = ctx.timeout
    negotiated = threading.Event()
    transport.start_client(event=negotiated)
    while not negotiated.wait(0.05):
        ctx.check_stop()
        if not transport.is_active():
            break
    ctx.check_stop()
    if not transport.is_active():
        transport.close()
        raise transport.get_exception() or EOFError(_("the server closed the connection"))
    return transport, transport.get_remote_server_key()


def _credentials(ctx: OpContext, auth: str, where: str) -> dict[str, Any]:
    """The credentials to send, read from the keyring (a key decrypted here: a wrong
    passphrase is a local problem and needs no peer)."""
    if auth == "password":
        return {"password": ctx.require_secret("password")}
    text = ctx.require_secret("private_key")
    passphrase = ctx.secret("key_passphrase")
    try:
        return {"pkey": load_private_key(text, passphrase)}
    except PassphraseNeeded:
        raise OperationFailed(
            Category.INVALID_CONFIG,
            _(
                "Key passphrase: the private key is encrypted and no passphrase is stored; add the "
                "Key passphrase and check again."
            ),
            refused=True,
        ) from None
    except PassphraseWrong:
        raise OperationFailed(
            Category.INVALID_CONFIG,
            _(
                "Key passphrase: the stored passphrase does not decrypt the private key; replace the "
                "Key passphrase (or the key) and check again."
            ),
            refused=True,
        ) from None


def check(ctx: OpContext) -> list[Outcome]:
    s = ctx.settings
    host: str = s["host"]
    ports: list[int] = list(s.get("ports") or [DEFAULT_PORT])
    verify = bool(s.get("verify_host", True))
    auth = s.get("auth") or "password"
    username = s.get("username") or ""
    command = (s.get("test_command") or "").strip()
    where = targets_text(host, ports)
    pinned: PublicKeyInfo | None = None
    if verify:
        if not s.get("host_public_key"):
            raise ValidationError(
                _("Public key"),
                _(
                    "verification is on but no host public key is set; paste it, or turn verification "
                    "off knowingly"
                ),
            )
        pinned = parse_public_key(s["host_public_key"], _("Public key"))
    if not username:
        raise ValidationError(_("User name"), _("is required to log in; set it"))
    creds = _credentials(ctx, auth, where)
    sock, port = _connect_first(ctx, host, ports)
    where = host_port(host, port)
    started = time.monotonic()
    try:
        transport, server_key = _handshake(ctx, sock, pinned.key_type if pinned else None)
    except Stopped:
        raise
    except Exception as exc:  # noqa: BLE001 - classified into one category
        return [_failure(exc, where, ctx, pinned)]
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
            Outcome(
                Category.HOST_KEY_MISMATCH,
                _(
                    "The host key of {where} does not match the pinned public key (the host "
                    "presents {fingerprint}, the pin is {fingerprint2}); no credential was "
                    "sent. If the host's key was replaced, paste the new public key; "
                    "otherwise treat this as an attack."
                ).format(where=where, fingerprint=seen.fingerprint, fingerprint2=pinned.fingerprint),
                where,
                details={**details, "pinned_fingerprint": pinned.fingerprint},
            )
        ]
    warnings = []
    if pinned is not None:
        trust = _("host key verified ({fingerprint})").format(fingerprint=seen.fingerprint)
    else:
        trust = _(
            "host NOT verified — verification is off; the host presented {family} "
            "key {fingerprint}, pin it if the host's administrator confirms it"
        ).format(family=seen.family, fingerprint=seen.fingerprint)
        warnings.append(_("The host was not verified: {trust}.").format(trust=trust))
    try:
        refused = _authenticate(ctx, transport, username, auth, creds)
    except Stopped:
        raise
    except Exception as exc:  # noqa: BLE001 - classified into one category
        return [_failure(exc, where, ctx, pinned)]
    finally:
        creds = {}
    if refused is not None:
        category, message = refused
        return [Outcome(category, f"{message}; {trust}.", where, details=details)]
    latency = (time.monotonic() - started) * 1000
    if not command:
        return [
            Outcome(
                Category.OK,
                _("Logged in to {where} as '{username}'; {trust}.").format(
                    where=where, username=username, trust=trust
                ),
                where,
                latency,
                details=details,
                warnings=warnings,
            )
        ]
    try:
        status, last_err = _run_command(ctx, transport, command)
    except _CommandTimeout:
        return [
            Outcome(
                Category.TIMEOUT,
                _(
                    "Logged in to {where} as '{username}', but the test command did not "
                    "finish within {timeout:g} s; use a quick, harmless command such as "
                    "'true'; {trust}."
                ).format(where=where, username=username, timeout=ctx.timeout, trust=trust),
                where,
                details=details,
            )
        ]
    except Stopped:
        raise
    except Exception as exc:  # noqa: BLE001 - classified into one category
        return [_failure(exc, where, ctx, pinned)]
    latency = (time.monotonic() - started) * 1000
    details["exit_status"] = status
    if status == 0:
        return [
            Outcome(
                Category.OK,
                _(
                    "Logged in to {where} as '{username}' and ran the test command: exit status 0; {trust}."
                ).format(where=where, username=username, trust=trust),
                where,
                latency,
                details=details,
                warnings=warnings,
            )
        ]
    said = _(' (it said: "{text}")').format(text=last_err) if last_err else ""
    what = (
        _("exit status {status}").format(status=status)
        if status >= 0
        else _("no exit status (killed by a signal)")
    )
    return [
        Outcome(
            Category.SERVER_ERROR,
            _(
                "Logged in to {where} as '{username}', but the test command failed on "
                "the host: {what}{said}; the connection works — fix the command or the "
                "host; {trust}."
            ).format(where=where, username=username, what=what, said=said, trust=trust),
            where,
            latency,
            details=details,
        )
    ]


def _authenticate(
    ctx: OpContext, transport: Any, username: str, auth: str, creds: dict[str, Any]
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
        method = _("password") if auth == "password" else _("public key")
        return (
            Category.AUTH_FAILED,
            _(
                "The host does not accept {method} authentication (it allows: "
                "{allowed}); choose the other method or change the host's sshd "
                "configuration"
            ).format(method=method, allowed=allowed),
        )
    except paramiko.AuthenticationException:
        ctx.check_stop()
        if auth == "password":
            return (
                Category.AUTH_FAILED,
                _(
                    "The host rejected the user name '{username}' with this password; check "
                    "both and replace the password"
                ).format(username=username),
            )
        return (
            Category.AUTH_FAILED,
            _(
                "The host rejected the SSH key for user '{username}'; add its public key "
                "to the user's ~/.ssh/authorized_keys on the host, or replace the key"
            ).format(username=username),
        )
    ctx.check_stop()
    if remaining:
        return (
            Category.AUTH_FAILED,
            _(
                "The host accepted the first factor but requires more ({items}), which a "
                "script launch cannot provide"
            ).format(items=", ".join(remaining)),
        )
    if not transport.is_authenticated():
        return (
            Category.AUTH_FAILED,
            _("The host did not authenticate user '{username}'").format(username=username),
        )
    return None


def _run_command(ctx: OpContext, transport: Any, command: str) -> tuple[int, str]:
    channel = ctx.guard(transport.open_session(timeout=min(ctx.timeout, ctx.remaining())))
    channel.settimeout(0.05)
    channel.exec_command(command)
    channel.shutdown_write()
    deadline = time.monotonic() + ctx.timeout
    err = b""
    while not channel.exit_status_ready():
        ctx.check_stop()
        if time.monotonic() >= deadline:
            raise _CommandTimeout
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


# ---- the host's keys (ssh-keyscan) --------------------------------------------------------------
def host_keys(ctx: OpContext) -> list[Outcome]:
    """The host's public keys as it presents them over SSH (one key exchange per key type,
    no authentication). What comes over the network is only as good as the network: compare
    the fingerprint with the host's administrator before pinning."""
    from paramiko.ssh_exception import IncompatiblePeer

    host: str = ctx.params["host"]
    ports: list[int] = list(ctx.params["ports"] or [DEFAULT_PORT])
    where = targets_text(host, ports)
    found: list[PublicKeyInfo] = []
    chosen: int | None = None

    def result(outcome: Outcome | None = None) -> list[Outcome]:
        data = {
            "port": chosen,
            "rows": [
                {"type": k.key_type, "bits": k.bits, "fingerprint": k.fingerprint, "line": k.line}
                for k in found
            ],
        }
        if outcome is None:
            if not found:
                outcome = Outcome(
                    Category.PROTOCOL_ERROR,
                    _(
                        "{where} offers no host key of a type xdrconf can verify (Ed25519, "
                        "ECDSA, RSA with SHA-2)."
                    ).format(where=where),
                    where,
                )
            else:
                outcome = Outcome(
                    Category.OK,
                    ngettext(
                        "{host_port} presents {n} host key; compare a fingerprint with the "
                        "host's administrator before pinning it.",
                        "{host_port} presents {n} host keys; compare a fingerprint with the "
                        "host's administrator before pinning it.",
                        len(found),
                    ).format(host_port=host_port(host, chosen or 0), n=len(found)),
                    host_port(host, chosen or 0),
                )
        outcome.data = data
        return [outcome]

    for key_type in KEY_TYPES:
        ctx.progress()
        try:
            sock, port = _connect_first(ctx, host, [chosen] if chosen else ports)
        except OperationFailed as exc:
            return result(Outcome(exc.category, str(exc), where))
        chosen = port
        transport = None
        try:
            transport, key = _handshake(ctx, sock, key_type)
            found.append(info_of_blob(key.get_name(), key.asbytes()))
        except Stopped:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            if not (isinstance(exc, IncompatiblePeer) and "host key" in str(exc)):
                return result(_failure(exc, host_port(host, port), ctx, None))
        finally:
            if transport is not None:
                transport.close()
            sock.close()
    return result()


@dataclass
class HostKeys:
    """What reading the host's keys found: the port used and one key per type the host
    offers, or the failure (an outcome) when no SSH server could be read."""

    port: int | None
    keys: list[PublicKeyInfo]
    failure: Outcome | None = None

    @classmethod
    def of(cls, outcome: Outcome) -> HostKeys:
        data = outcome.data if isinstance(outcome.data, dict) else {}
        keys = [parse_public_key(k["line"], _("Host key")) for k in data.get("rows") or []]
        return cls(data.get("port"), keys, None if outcome.ok else outcome)


def read_host_keys(
    ws: Workspace,
    host: str,
    ports: list[int] | str,
    *,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> HostKeys:
    """The "host-keys" operation (needs no tenant) as HostKeys."""
    text = ports if isinstance(ports, str) else ",".join(str(p) for p in ports)
    [outcome] = run_operation(
        ws, None, "custom", "host-keys", {"host": host, "ports": text}, timeout=timeout, cancel=cancel
    )
    return HostKeys.of(outcome)
