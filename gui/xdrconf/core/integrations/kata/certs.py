"""Client identity for KATA/KEDR: a private key and a self-signed client certificate.

KATA identifies an external system by the ID it sends and the SHA-256 fingerprint of the
client certificate it presents; the KATA administrator approves that pair. Nothing
documents which key types KATA accepts; public scripts use self-signed RSA-2048 for
365 days, which is the default here (shared/INTEGRATIONS.md).

RSA key generation takes up to a second (RSA-3072): callers in the GUI run it in a worker."""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xdrconf.core.i18n import N_, _

from ...errors import ValidationError

if TYPE_CHECKING:  # cryptography is imported when a key is made
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

KEY_TYPES: tuple[tuple[str, str], ...] = (
    ("rsa2048", N_("RSA 2048 (what KATA deployments are known to accept)")),
    ("rsa3072", "RSA 3072"),
    ("p256", "ECDSA P-256"),
)
DEFAULT_KEY_TYPE = "rsa2048"
DEFAULT_DAYS = 365
BACKDATE = _dt.timedelta(minutes=5)  # clock skew between here and the KATA server


@dataclass(frozen=True)
class Identity:
    """A freshly generated key and certificate. key_pem is a secret: it goes to the
    keyring and nowhere else."""

    key_type: str
    cert_pem: str
    key_pem: str
    sha256: str
    not_before: _dt.datetime
    not_after: _dt.datetime
    serial: int

    def __repr__(self) -> str:  # never print the key
        return f"Identity({self.key_type}, sha256={self.sha256}, until={self.not_after:%Y-%m-%d})"


def parse_key_type(text: str, label: str = N_("Key type")) -> str:
    value = str(text).strip().lower().replace("-", "").replace("_", "")
    aliases = {
        "rsa": "rsa2048",
        "ecdsa": "p256",
        "ec": "p256",
        "ecdsap256": "p256",
        "prime256v1": "p256",
        "secp256r1": "p256",
    }
    value = aliases.get(value, value)
    allowed = [k for k, _unused in KEY_TYPES]
    if value not in allowed:
        raise ValidationError(
            label, _("'{text}' is not one of: {items}").format(text=text, items=", ".join(allowed))
        )
    return value


def _new_key(key_type: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if key_type == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "rsa3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if key_type == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValidationError(
        _("Key type"),
        _("'{key_type}' is not one of: {items}").format(
            key_type=key_type, items=", ".join(k for k, _unused in KEY_TYPES)
        ),
    )


def generate(
    xdr_id: str,
    key_type: str = DEFAULT_KEY_TYPE,
    *,
    days: int = DEFAULT_DAYS,
    now: _dt.datetime | None = None,
) -> Identity:
    """A new key and a self-signed client certificate naming the XDR ID."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key_type = parse_key_type(key_type)
    if not 1 <= days <= 3650:
        raise ValidationError(_("Validity"), _("give 1 to 3650 days"))
    key = _new_key(key_type)
    now = now or _dt.datetime.now(_dt.UTC)
    start = (now - BACKDATE).replace(microsecond=0)
    end = (now + _dt.timedelta(days=days)).replace(microsecond=0)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"XDR {xdr_id}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kaspersky Next XDR Expert"),
        ]
    )
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=is_rsa,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return Identity(
        key_type=key_type,
        cert_pem=cert_pem,
        key_pem=key_pem,
        sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        serial=serial,
    )


def certificate_der(cert_pem: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)


def key_matches(cert_pem: str, key_pem: str) -> bool:
    """Whether the private key belongs to the certificate (same public key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return cert.public_key().public_bytes(enc, fmt) == key.public_key().public_bytes(enc, fmt)
