"""SSH keys typed or pasted by a person: strict parsing of a host's OpenSSH public key line
(with the type and `SHA256:` fingerprint exactly as `ssh-keygen -lf` prints them) and of
the private key used to log in (OpenSSH or PEM; RSA, ECDSA, Ed25519; optionally encrypted).

Why strict: paramiko accepts a truncated public key line silently, and a key pasted from
known_hosts carries host names in front of the type. Both would make a pin that never
matches — or worse, look like it matches something else. Every rejection says why, and no
message ever repeats key material."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xdrconf.core.i18n import N_, _, ngettext

from ...errors import ValidationError

# OpenSSH key format name -> (name ssh-keygen prints in brackets).
PUBLIC_KEY_TYPES: dict[str, str] = {
    "ssh-ed25519": "ED25519",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
    "ssh-rsa": "RSA",
}

# Host key signature algorithms a server may negotiate for a key of each type.
HOST_KEY_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "ssh-ed25519": ("ssh-ed25519",),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256",),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384",),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521",),
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}

_KNOWN_OTHER_TYPES = {
    "ssh-dss": N_("DSA keys are no longer supported by OpenSSH; use the host's Ed25519, ECDSA or RSA key"),
    "sk-ssh-ed25519@openssh.com": N_("a security-key (FIDO) key cannot be a host key"),
    "sk-ecdsa-sha2-nistp256@openssh.com": N_("a security-key (FIDO) key cannot be a host key"),
}

_EXAMPLE = N_("e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub on the host")


@dataclass(frozen=True)
class PublicKeyInfo:
    """A parsed OpenSSH public key. `line` is the canonical "type base64" form stored."""

    key_type: str  # ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 ...
    blob: bytes
    bits: int
    comment: str = ""

    @property
    def line(self) -> str:
        return f"{self.key_type} {base64.b64encode(self.blob).decode()}"

    @property
    def fingerprint(self) -> str:
        """`SHA256:` + unpadded base64 of the SHA-256 of the key blob, as ssh-keygen prints it."""
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    @property
    def family(self) -> str:
        return PUBLIC_KEY_TYPES[self.key_type]

    def keygen_line(self) -> str:
        """What `ssh-keygen -lf FILE` prints for this key."""
        return f"{self.bits} {self.fingerprint} {self.comment or 'no comment'} ({self.family})"

    def describe(self) -> str:
        """Short human form: 'ED25519 (256 bits) SHA256:…'."""
        return ngettext(
            "{family} ({bits} bit) {fingerprint}", "{family} ({bits} bits) {fingerprint}", self.bits
        ).format(family=self.family, bits=self.bits, fingerprint=self.fingerprint)


def _bits_of(key: Any) -> int:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return 256
    raise TypeError(type(key).__name__)


def _first_string(blob: bytes) -> str | None:
    if len(blob) < 4:
        return None
    (n,) = struct.unpack(">I", blob[:4])
    if n > 64 or len(blob) < 4 + n:
        return None
    try:
        return blob[4 : 4 + n].decode("ascii")
    except UnicodeDecodeError:
        return None


def _looks_like_base64_blob(token: str) -> bool:
    return token.startswith("AAAA") and len(token) > 20


def parse_public_key(text: str, label: str = N_("Host public key")) -> PublicKeyInfo:
    """One OpenSSH public key line ("type base64 [comment]") or a ValidationError saying
    exactly what is wrong with it."""
    value = (text or "").strip()
    if not value:
        raise ValidationError(
            label, _("is empty; paste the host's OpenSSH public key ({example})").format(example=_EXAMPLE)
        )
    if "PRIVATE KEY" in value or "PuTTY-User-Key-File" in value:
        raise ValidationError(
            label,
            _(
                "this is a private key, which must never leave its host; paste the "
                "PUBLIC key instead ({example})"
            ).format(example=_EXAMPLE),
        )
    if "-----BEGIN" in value or "---- BEGIN SSH2" in value:
        raise ValidationError(
            label,
            _(
                "this is a PEM/RFC 4716 block, not an OpenSSH public key line; convert it with "
                "'ssh-keygen -i -f FILE' or paste the .pub file"
            ),
        )
    lines = [ln.strip() for ln in value.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        raise ValidationError(
            label,
            _("contains only comments; paste the host's public key ({example})").format(example=_EXAMPLE),
        )
    if len(lines) > 1:
        raise ValidationError(
            label,
            ngettext(
                "contains {n} line (keys); paste exactly one public key — the one of the type you "
                "want to pin",
                "contains {n} lines (keys); paste exactly one public key — the one of the type you "
                "want to pin",
                len(lines),
            ).format(n=len(lines)),
        )
    tokens = lines[0].split()
    first = tokens[0]
    if first.startswith("@cert-authority") or first.startswith("@revoked"):
        raise ValidationError(
            label,
            _("this is a known_hosts marker line ({first}); paste the host's own public key").format(
                first=first
            ),
        )
    if first.startswith("|1|"):
        raise ValidationError(
            label,
            _(
                "this is a hashed known_hosts entry (|1|…) with the host name in front of the key; "
                "paste only the key type and the key (e.g. 'ssh-ed25519 AAAA…')"
            ),
        )
    if first not in PUBLIC_KEY_TYPES and first not in _KNOWN_OTHER_TYPES:
        if "=" in first or '"' in first:
            raise ValidationError(
                label,
                _("this line starts with authorized_keys options; paste only the key type and the key"),
            )
        if len(tokens) >= 3 and (tokens[1] in PUBLIC_KEY_TYPES or tokens[1] in _KNOWN_OTHER_TYPES):
            what = (
                "'[host]:port'"
                if first.startswith("[")
                else _("the host name(s) '{names}'").format(names=first)
            )
            raise ValidationError(
                label,
                _(
                    "this is a known_hosts line: remove {what} in front of '{value}' and "
                    "paste only the key type and the key"
                ).format(what=what, value=tokens[1]),
            )
        if _looks_like_base64_blob(first):
            raise ValidationError(
                label,
                _(
                    "the key type is missing in front of the key data; the line must start with "
                    "e.g. 'ssh-ed25519' or 'ssh-rsa'"
                ),
            )
        if first.endswith("-cert-v01@openssh.com"):
            raise ValidationError(label, _("this is an SSH certificate; paste the host's plain public key"))
        known = ", ".join(PUBLIC_KEY_TYPES)
        raise ValidationError(
            label,
            _("unknown key type '{value}'; expected one of: {known}").format(value=first[:40], known=known),
        )
    if first in _KNOWN_OTHER_TYPES:
        raise ValidationError(label, _KNOWN_OTHER_TYPES[first])
    if len(tokens) < 2:
        raise ValidationError(
            label,
            _("has the type '{first}' but no key data after it; the line is cut off").format(first=first),
        )
    data = tokens[1]
    comment = " ".join(tokens[2:])
    if len(data) % 4:
        raise ValidationError(
            label,
            _(
                "the key data is cut off (its base64 length is not a multiple of 4); copy the whole "
                "line again"
            ),
        )
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            label,
            _("the key data is not valid base64 (stray or missing characters); copy the whole line again"),
        ) from None
    inner = _first_string(blob)
    if inner is None:
        raise ValidationError(label, _("the key data is cut off or damaged; copy the whole line again"))
    if inner != first:
        raise ValidationError(
            label,
            _(
                "the line says '{first}' but the key data is a '{inner}' key; the type "
                "was mistyped or the line was assembled from two keys"
            ).format(first=first, inner=inner),
        )
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_ssh_public_key(f"{first} {data}".encode())
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationError(
            label, _("the key data is cut off or damaged; copy the whole line again")
        ) from None
    bits = _bits_of(key)
    if first == "ssh-rsa" and bits < 1024:
        raise ValidationError(
            label,
            _("an RSA key of {bits} bits is too short; OpenSSH refuses RSA keys under 1024 bits").format(
                bits=bits
            ),
        )
    return PublicKeyInfo(first, blob, bits, comment)


def parse_public_key_field(text: str, label: str) -> str | None:
    """Field parser: the canonical "type base64" line, or None when left empty."""
    if not (text or "").strip():
        return None
    return parse_public_key(text, label).line


def info_of_blob(key_type: str, blob: bytes) -> PublicKeyInfo:
    """Describe a key received from a server (already verified by the SSH handshake)."""
    return parse_public_key(f"{key_type} {base64.b64encode(blob).decode()}")


# ---- private keys ---------------------------------------------------------------------------
class PassphraseNeeded(Exception):
    """The private key is encrypted and no passphrase was given."""


class PassphraseWrong(Exception):
    """The passphrase given does not decrypt the private key."""


_PRIVATE_MARKERS = (
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
)


def _screen_private_text(text: str, label: str) -> str:
    value = (text or "").strip()
    if not value:
        raise ValidationError(label, _("is empty; paste the private key or load it from a file"))
    if "PuTTY-User-Key-File" in value:
        raise ValidationError(
            label,
            _("this is a PuTTY key (.ppk); export it in PuTTYgen with Conversions → Export OpenSSH key"),
        )
    if "-----BEGIN DSA PRIVATE KEY-----" in value:
        raise ValidationError(
            label, _("DSA keys are no longer supported by OpenSSH; use an Ed25519, ECDSA or RSA key")
        )
    if not any(m in value for m in _PRIVATE_MARKERS):
        if value.split(None, 1)[0] in PUBLIC_KEY_TYPES or "PUBLIC KEY" in value:
            raise ValidationError(label, _("this is a public key; the private key is the file without .pub"))
        if "CERTIFICATE" in value:
            raise ValidationError(label, _("this is a certificate, not a private key"))
        raise ValidationError(
            label,
            _(
                "expected a private key in OpenSSH format (its first line names an OPENSSH "
                "PRIVATE KEY) or in PEM format"
            ),
        )
    if sum(value.count(m) for m in _PRIVATE_MARKERS) > 1:
        raise ValidationError(label, _("contains more than one private key; paste exactly one"))
    return value + "\n"


def _needs_passphrase(load: Callable[[bytes | None], Any]) -> bool:
    try:
        load(None)
    except TypeError:
        return True
    except Exception:  # noqa: BLE001 - unreadable without one as well: not this case
        return False
    return False


def _load_crypto_key(value: str, passphrase: str | None, label: str) -> Any:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    data = value.encode()
    password = passphrase.encode() if passphrase else None
    openssh = "OPENSSH PRIVATE KEY" in value

    def load(pw: bytes | None) -> Any:
        if openssh:
            return serialization.load_ssh_private_key(data, password=pw)
        return serialization.load_pem_private_key(data, password=pw)

    try:
        try:
            key = load(password)
        except TypeError as exc:
            text = str(exc).lower()
            if password is not None and "not encrypted" in text:
                key = load(None)  # a passphrase stored for a key that has none: harmless
            elif password is None:
                raise PassphraseNeeded() from None
            else:
                raise
    except (PassphraseNeeded, PassphraseWrong):
        raise
    except ValueError as exc:
        text = str(exc).lower()
        if password is not None and ("decrypt" in text or "checksum" in text or "password" in text):
            raise PassphraseWrong() from None
        if password is not None and _needs_passphrase(load):
            # A PEM key decrypted with the wrong passphrase is random bytes; about once in
            # 256 tries their padding happens to look right and the failure is the DER
            # parse's ("could not deserialize"), not the decryption's. The key text itself
            # asks for a passphrase, so it is the passphrase that is wrong.
            raise PassphraseWrong() from None
        if "bcrypt" in text:
            raise ValidationError(
                label, _("the key is encrypted with bcrypt and the bcrypt module is missing")
            ) from None
        raise ValidationError(
            label, _("could not be read: the key is cut off, damaged or in an unsupported format")
        ) from None
    except UnsupportedAlgorithm:
        raise ValidationError(
            label, _("uses a key type or cipher that is not supported (use Ed25519, ECDSA or RSA)")
        ) from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        raise ValidationError(
            label, _("is a {name} key; use an Ed25519, ECDSA or RSA key").format(name=type(key).__name__)
        )
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in (
        "secp256r1",
        "secp384r1",
        "secp521r1",
    ):
        raise ValidationError(
            label, _("uses the curve {name}; SSH accepts P-256, P-384 and P-521").format(name=key.curve.name)
        )
    return key


def parse_private_key_field(text: str, label: str) -> str:
    """Field parser for the stored private key: refuses anything that is not one private
    key in a readable format. An encrypted key is accepted here (its passphrase may be set
    separately) and decrypted only when used."""
    value = _screen_private_text(text, label)
    with contextlib.suppress(PassphraseNeeded):
        _load_crypto_key(value, None, label)
    return value


def private_key_encrypted(text: str) -> bool:
    try:
        _load_crypto_key(_screen_private_text(text, _("Private key")), None, _("Private key"))
    except PassphraseNeeded:
        return True
    return False


def load_private_key(text: str, passphrase: str | None = None, *, label: str = N_("Private key")) -> Any:
    """A paramiko PKey for authentication. Raises ValidationError (unreadable key),
    PassphraseNeeded or PassphraseWrong. Nothing is written to disk."""
    import paramiko
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key = _load_crypto_key(_screen_private_text(text, label), passphrase, label)
    if isinstance(key, rsa.RSAPrivateKey):
        return paramiko.RSAKey(key=key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return paramiko.ECDSAKey(vals=(key, key.public_key()))
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    plain = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    return paramiko.Ed25519Key(file_obj=io.StringIO(plain))


__all__ = [
    "HOST_KEY_ALGORITHMS",
    "PUBLIC_KEY_TYPES",
    "PassphraseNeeded",
    "PassphraseWrong",
    "PublicKeyInfo",
    "info_of_blob",
    "load_private_key",
    "parse_private_key_field",
    "parse_public_key",
    "parse_public_key_field",
    "private_key_encrypted",
]
