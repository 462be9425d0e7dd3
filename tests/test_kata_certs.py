"""KATA client identities: key types, certificate properties (read back with cryptography
and with the openssl command), key/certificate match, serials, validity."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from xdrconf.core.errors import ValidationError
from xdrconf.core.integrations.kata import certs as kata_certs

XDR_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture(scope="module")
def identities():
    return {kt: kata_certs.generate(XDR_ID, kt) for kt, _ in kata_certs.KEY_TYPES}


@pytest.mark.parametrize("key_type,size", [("rsa2048", 2048), ("rsa3072", 3072), ("p256", 256)])
def test_properties_read_back_with_cryptography(identities, key_type, size):
    ident = identities[key_type]
    cert = x509.load_pem_x509_certificate(ident.cert_pem.encode())
    key = cert.public_key()
    if key_type.startswith("rsa"):
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == size
        assert key.public_numbers().e == 65537
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    assert cert.subject == cert.issuer  # self-signed
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"XDR {XDR_ID}"
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_cert_sign
    cert.verify_directly_issued_by(cert)  # the self-signature is valid
    now = dt.datetime.now(dt.UTC)
    assert now - dt.timedelta(minutes=10) < cert.not_valid_before_utc < now - dt.timedelta(minutes=4)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=365, minutes=5)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert ident.sha256 == hashlib.sha256(der).hexdigest()
    assert ident.serial == cert.serial_number and cert.serial_number > 2**64
    assert "PRIVATE" not in repr(ident) and ident.key_pem[40:80] not in repr(ident)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
@pytest.mark.parametrize(
    "key_type,algo",
    [
        ("rsa2048", "Public-Key: (2048 bit)"),
        ("rsa3072", "Public-Key: (3072 bit)"),
        ("p256", "NIST CURVE: P-256"),
    ],
)
def test_properties_read_back_with_openssl(identities, tmp_path, key_type, algo):
    ident = identities[key_type]
    path = tmp_path / "client.pem"
    path.write_text(ident.cert_pem)
    text = subprocess.run(
        ["openssl", "x509", "-in", str(path), "-noout", "-text"], capture_output=True, text=True, check=True
    ).stdout
    assert algo in text
    assert re.search(r"X509v3 Basic Constraints: critical\s+CA:FALSE", text)
    assert re.search(r"X509v3 Extended Key Usage:\s+TLS Web Client Authentication", text)
    assert f"Subject: CN = XDR {XDR_ID}" in text
    fp = subprocess.run(
        ["openssl", "x509", "-in", str(path), "-noout", "-fingerprint", "-sha256"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert fp.strip().split("=", 1)[1].replace(":", "").lower() == ident.sha256
    # The key openssl reads is the key of this certificate.
    key_path = tmp_path / "client.key"
    key_path.write_text(ident.key_pem)
    mod_cert = subprocess.run(
        ["openssl", "x509", "-in", str(path), "-noout", "-pubkey"], capture_output=True, text=True, check=True
    ).stdout
    mod_key = subprocess.run(
        ["openssl", "pkey", "-in", str(key_path), "-pubout"], capture_output=True, text=True, check=True
    ).stdout
    assert mod_cert == mod_key


def test_key_matches_its_certificate_only(identities):
    a, b = identities["rsa2048"], identities["p256"]
    assert kata_certs.key_matches(a.cert_pem, a.key_pem)
    assert kata_certs.key_matches(b.cert_pem, b.key_pem)
    assert not kata_certs.key_matches(a.cert_pem, b.key_pem)
    assert "BEGIN PRIVATE KEY" in a.key_pem  # PKCS#8, unencrypted only in memory


def test_serials_and_fingerprints_are_unique():
    made = [kata_certs.generate(XDR_ID, "p256") for _ in range(20)]
    assert len({m.serial for m in made}) == 20
    assert len({m.sha256 for m in made}) == 20


def test_custom_validity_and_clock():
    now = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    ident = kata_certs.generate(XDR_ID, "p256", days=30, now=now)
    assert ident.not_before == now - dt.timedelta(minutes=5)
    assert ident.not_after == now + dt.timedelta(days=30)


@pytest.mark.parametrize(
    "text,expected", [("RSA-2048", "rsa2048"), ("rsa3072", "rsa3072"), ("p256", "p256"), ("ECDSA", "p256")]
)
def test_key_type_names(text, expected):
    assert kata_certs.parse_key_type(text) == expected


@pytest.mark.parametrize("bad", ["rsa1024", "ed25519", ""])
def test_unknown_key_type_is_refused(bad):
    with pytest.raises(ValidationError, match=r"Key type.*rsa2048, rsa3072, p256"):
        kata_certs.parse_key_type(bad)


def test_validity_out_of_range():
    with pytest.raises(ValidationError, match="Validity"):
        kata_certs.generate(XDR_ID, "p256", days=0)
