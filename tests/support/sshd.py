"""A real OpenSSH sshd on 127.0.0.1 for tests (recipe: shared/RUNTIME.md).

Host keys and client keys are made with cryptography in OpenSSH format. sshd runs in the
foreground with -e, its log goes to a file; `log_since(mark)` returns what it logged after
a point, so a test can prove that no authentication was attempted on a connection."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

SSHD = "/usr/sbin/sshd"
# An OS user of its own per checkout: suites of two clones running at once on one machine
# would otherwise set each other's password and delete the user under each other.
TEST_USER = "xdrct" + hashlib.sha256(str(Path(__file__).resolve().parents[2]).encode()).hexdigest()[:8]


def available() -> str | None:
    """None when sshd can run here, else why not."""
    if not os.path.exists(SSHD):
        return f"{SSHD} is not installed (apt-get install openssh-server)"
    return None


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class KeyPair:
    private_openssh: str
    public_line: str  # "type base64 comment"

    @property
    def public_no_comment(self) -> str:
        return " ".join(self.public_line.split()[:2])


def make_key(
    kind: str, *, passphrase: str | None = None, comment: str = "xdrconf-test", pem: bool = False
) -> KeyPair:
    """kind: ed25519 | rsa | ecdsa | ecdsa384. pem=True writes a traditional/PKCS#8 PEM key."""
    key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kind == "ecdsa384":
        key = ec.generate_private_key(ec.SECP384R1())
    else:
        raise ValueError(kind)
    enc = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    if pem:
        fmt = (
            serialization.PrivateFormat.TraditionalOpenSSL
            if kind != "ed25519"
            else serialization.PrivateFormat.PKCS8
        )
        private = key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()
    else:
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, enc
        ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return KeyPair(private, f"{public} {comment}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Sshd:
    """sshd on 127.0.0.1:port (or `listen`, e.g. ::1) with the given host key types.
    authorized: public key lines allowed to log in (as any user: AuthorizedKeysFile is the
    fixture's own file)."""

    def __init__(
        self,
        directory: Path,
        *,
        host_keys: tuple[str, ...] = ("ed25519",),
        authorized: tuple[str, ...] = (),
        password_auth: bool = False,
        listen: str = "127.0.0.1",
    ) -> None:
        self.listen = listen
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host_keys: dict[str, KeyPair] = {k: make_key(k, comment="host") for k in host_keys}
        self.authorized = list(authorized)
        self.password_auth = password_auth
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "sshd.log"

    def public_line(self, kind: str) -> str:
        return self.host_keys[kind].public_no_comment

    def _write_config(self) -> Path:
        lines = [f"Port {self.port}", f"ListenAddress {self.listen}"]
        for kind, pair in self.host_keys.items():
            path = self.dir / f"host_{kind}"
            path.write_text(pair.private_openssh)
            path.chmod(0o600)
            lines.append(f"HostKey {path}")
        auth_keys = self.dir / "authorized_keys"
        auth_keys.write_text("".join(line + "\n" for line in self.authorized))
        auth_keys.chmod(0o644)
        root = running_as_root()
        lines += [
            f"PidFile {self.dir / 'sshd.pid'}",
            f"AuthorizedKeysFile {auth_keys}",
            "PubkeyAuthentication yes",
            f"PasswordAuthentication {'yes' if self.password_auth else 'no'}",
            "KbdInteractiveAuthentication no",
            f"UsePAM {'yes' if root else 'no'}",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "LogLevel DEBUG1",
            "MaxAuthTries 6",
            "PerSourcePenalties no",
        ]
        cfg = self.dir / "sshd_config"
        cfg.write_text("\n".join(lines) + "\n")
        return cfg

    def _supports(self, option: str) -> bool:
        probe = self.dir / "probe_config"
        probe.write_text(option + "\n")
        r = subprocess.run([SSHD, "-t", "-f", str(probe)], capture_output=True, text=True)
        return "Bad configuration option" not in r.stderr and "Unsupported option" not in r.stderr

    def start(self) -> Sshd:
        if running_as_root():
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        for _attempt in range(5):
            self.port = free_port(self.listen)
            cfg = self._write_config()
            if not self._supports("PerSourcePenalties no"):
                cfg.write_text(cfg.read_text().replace("PerSourcePenalties no\n", ""))
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [SSHD, "-D", "-e", "-f", str(cfg)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with socket.create_connection((self.listen, self.port), timeout=0.2) as s:
                        s.recv(64)  # the banner: sshd is really serving
                    self._ready_mark = self.mark()
                    return self
                except OSError:
                    time.sleep(0.02)
            self.stop()
            if "Address already in use" not in self.log_path.read_text(errors="replace"):
                break
        raise RuntimeError(f"sshd did not start; its log:\n{self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def mark(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, mark: int, *, until: str = "debug1: do_cleanup", timeout: float = 5.0) -> str:
        """Log written after `mark`, once sshd has logged `until` (by default: the end of the
        connection's clean-up in the privileged monitor), so that every line about the connection is there."""
        deadline = time.monotonic() + timeout
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                text = f.read().decode(errors="replace")
            if until in (ln.strip() for ln in text.splitlines()) or time.monotonic() >= deadline:
                return text
            time.sleep(0.02)

    def log_when(self, mark: int, ready: Callable[[str], bool], timeout: float = 5.0) -> str:
        """Log written after `mark`, as soon as `ready(log)` holds (or at the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_since(mark, until="", timeout=0)
            if ready(text) or time.monotonic() >= deadline:
                return text
            time.sleep(0.02)

    def __enter__(self) -> Sshd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


AUTH_LOG_WORDS = ("Accepted", "Failed", "Postponed", "userauth", "authentication", "auth-request")


def auth_lines(log: str) -> list[str]:
    """Lines of an sshd log that show an authentication attempt of any kind."""
    return [ln for ln in log.splitlines() if any(w.lower() in ln.lower() for w in AUTH_LOG_WORDS)]


def ensure_test_user(password: str) -> str:
    """Create (or reset) a local user with this password; root only."""
    if not running_as_root():
        raise PermissionError("creating a test user needs root")
    if subprocess.run(["id", TEST_USER], capture_output=True).returncode != 0:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [useradd, "-M", "-d", "/nonexistent", "-s", "/bin/sh", TEST_USER], check=True, capture_output=True
        )
    chpasswd = shutil.which("chpasswd") or "/usr/sbin/chpasswd"
    subprocess.run([chpasswd], input=f"{TEST_USER}:{password}\n", text=True, check=True, capture_output=True)
    return TEST_USER


def remove_test_user() -> None:
    if running_as_root():
        userdel = shutil.which("userdel") or "/usr/sbin/userdel"
        subprocess.run([userdel, TEST_USER], capture_output=True)
