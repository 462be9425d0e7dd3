"""KATA connections in the workspace: add, edit, remove, regenerate, export, bad input,
expiry flags, and the private key never in plain text on disk."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from support.gui import some
from xdrconf.core import exchange
from xdrconf.core.errors import NotFoundError, SecretsWouldFollow, ValidationError
from xdrconf.core.integrations.kata import certs as kata_certs
from xdrconf.core.integrations.kata import connections as kata
from xdrconf.core.workspace import IntegrationEdit


@pytest.fixture
def acme(ws):
    ws.add_tenant("Acme")
    return ws.tenant("Acme").id


def state_of(ws, tid):
    return ws.tenant(tid).integrations["kata"]


def test_add_generates_id_key_and_certificate(ws, acme):
    conn = kata.add_connection(ws, acme, "kata.example.invalid", "443")
    assert uuid.UUID(conn["id"]).version == 4
    assert conn["host"] == "kata.example.invalid" and conn["port"] == 443
    assert conn["key_type"] == "rsa2048"
    key = kata.private_key(ws, acme, conn["id"])
    assert kata_certs.key_matches(conn["cert_pem"], some(key))
    cert = x509.load_pem_x509_certificate(conn["cert_pem"].encode())
    assert conn["fingerprint"] == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert f"XDR {conn['id']}" in cert.subject.rfc4514_string()
    assert kata.connections(state_of(ws, acme)) == [conn]
    lines = kata.certificate_lines(conn)
    assert any(line.startswith("SHA-256: ") for line in lines)
    # The settings hold the certificate, never the key.
    text = (ws.config_dir / "settings.json").read_text()
    assert conn["cert_pem"].strip().splitlines()[1] in json.dumps(json.loads(text))
    assert "PRIVATE KEY" not in text


@pytest.mark.parametrize(
    "host,stored,target",
    [
        ("127.0.0.5", "127.0.0.5", "127.0.0.5:443"),
        ("  KATA.Example.INVALID ", "kata.example.invalid", "kata.example.invalid:443"),
        ("::1", "::1", "[::1]:443"),
        ("[0:0:0:0:0:0:0:1]", "::1", "[::1]:443"),
    ],
)
def test_host_forms(ws, acme, host, stored, target):
    conn = kata.add_connection(ws, acme, host, 443, "p256")
    assert conn["host"] == stored
    assert kata.target_of(conn) == target
    assert kata.probe_url(conn).startswith(f"https://{target}/kata/scanner/v1/sensors/{conn['id']}/")
    assert kata.find(state_of(ws, acme), target)["id"] == conn["id"]


@pytest.mark.parametrize(
    "host,port,message",
    [
        ("", 443, "IP address or host name: enter a host name or an IP address"),
        ("kata_server", 443, "IP address or host name: 'kata_server' is not a valid host name"),
        ("300.1.1.1", 443, "IP address or host name: '300.1.1.1' is not a valid IPv4 address"),
        ("2001:db8::zz", 443, "IP address or host name: '2001:db8::zz' is not a valid IPv6 address"),
        (
            "kata.acme.invalid:443",
            443,
            "IP address or host name: 'kata.acme.invalid:443' includes the port 443: enter only "
            "kata.acme.invalid here and 443 in the port field",
        ),
        ("kata.example.invalid", 0, "Port: 0 is out of range; enter 1 to 65535"),
        ("kata.example.invalid", 65536, "Port: 65536 is out of range"),
        ("kata.example.invalid", "https", "Port: 'https' is not a number"),
    ],
)
def test_bad_host_or_port(ws, acme, host, port, message):
    with pytest.raises(ValidationError, match=message):
        kata.add_connection(ws, acme, host, port, "p256")
    assert "kata" not in ws.tenant(acme).integrations


def test_default_port_and_duplicates(ws, acme):
    conn = kata.add_connection(ws, acme, "kata.example.invalid", None, "p256")
    assert conn["port"] == 443
    with pytest.raises(ValidationError, match=r"already a connection to kata\.example\.invalid:443"):
        kata.add_connection(ws, acme, "KATA.example.invalid", 443, "p256")
    other = kata.add_connection(ws, acme, "kata.example.invalid", 8443, "p256")
    with pytest.raises(ValidationError, match="already a connection"):
        kata.edit_connection(ws, acme, other["id"], port=443)


def test_edit_keeps_identity(ws, acme):
    conn = kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    ref_before = state_of(ws, acme).secrets[kata.secret_name(conn["id"])]
    # Its key would be presented to a new target: only when confirmed (core.targets).
    with pytest.raises(SecretsWouldFollow, match=r"from kata\.example\.invalid:443 to 127\.1\.2\.3:8443"):
        kata.edit_connection(ws, acme, "kata.example.invalid:443", host="127.1.2.3", port="8443")
    assert kata.connections(state_of(ws, acme))[0]["host"] == "kata.example.invalid"
    moved = kata.edit_connection(
        ws, acme, "kata.example.invalid:443", host="127.1.2.3", port="8443", keep_secrets=True
    )
    assert (moved["host"], moved["port"]) == ("127.1.2.3", 8443)
    assert moved["id"] == conn["id"] and moved["fingerprint"] == conn["fingerprint"]
    assert state_of(ws, acme).secrets[kata.secret_name(conn["id"])] == ref_before
    with pytest.raises(ValidationError, match="Port"):
        kata.edit_connection(ws, acme, conn["id"], port="99999", keep_secrets=True)


def test_regenerate_changes_fingerprint_and_deletes_old_key(ws, acme):
    conn = kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    old_ref = state_of(ws, acme).secrets[kata.secret_name(conn["id"])]
    old_key = kata.private_key(ws, acme, conn["id"])
    new = kata.regenerate(ws, acme, conn["id"], "rsa3072")
    assert new["id"] == conn["id"]
    assert new["fingerprint"] != conn["fingerprint"] and new["key_type"] == "rsa3072"
    new_key = kata.private_key(ws, acme, conn["id"])
    assert new_key != old_key and kata_certs.key_matches(new["cert_pem"], some(new_key))
    assert ws.secrets.get(old_ref) is None
    assert (
        x509.load_pem_x509_certificate(new["cert_pem"].encode()).serial_number
        != x509.load_pem_x509_certificate(conn["cert_pem"].encode()).serial_number
    )


def test_remove_deletes_key(ws, acme):
    keep = kata.add_connection(ws, acme, "a.example.invalid", 443, "p256")
    gone = kata.add_connection(ws, acme, "b.example.invalid", 443, "p256")
    ref = state_of(ws, acme).secrets[kata.secret_name(gone["id"])]
    kata.remove_connection(ws, acme, gone["id"])
    assert [c["id"] for c in kata.connections(state_of(ws, acme))] == [keep["id"]]
    assert kata.secret_name(gone["id"]) not in state_of(ws, acme).secrets
    assert ws.secrets.get(ref) is None
    with pytest.raises(NotFoundError, match=r"No KATA connection 'b\.example\.invalid:443'"):
        kata.find(state_of(ws, acme), "b.example.invalid:443")


def test_export_pem_and_der(ws, acme):
    conn = kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    pem = kata.export_certificate(conn)
    der = kata.export_certificate(conn, der=True)
    a = x509.load_pem_x509_certificate(pem)
    b = x509.load_der_x509_certificate(der)
    assert a == b
    assert a.public_bytes(serialization.Encoding.DER) == der
    assert not der.startswith(b"-----")


def test_expiry_flags(ws, acme):
    conn = kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    tenant = ws.tenant(acme)
    ws.set_enabled(acme, "kata", True)
    until = some(kata.expires(conn))
    assert ws.flags(tenant, until - dt.timedelta(days=31)) == []
    [(kind, flag)] = ws.flags(tenant, until - dt.timedelta(days=29, hours=12))
    assert kind == "kata" and flag.level == "warning"
    assert "expires on" in flag.message and "kata.example.invalid:443" in flag.message
    [(_, flag)] = ws.flags(tenant, until + dt.timedelta(seconds=1))
    assert flag.level == "error" and "expired" in flag.message


def test_export_document_holds_no_key_and_import_lists_it(ws, acme, tmp_path, keyring_backend):
    from xdrconf.core.workspace import Workspace

    conn = kata.add_connection(ws, acme, "kata.example.invalid", 443, "p256")
    doc = exchange.export_document(ws)
    text = exchange.dumps(doc)
    assert "PRIVATE KEY" not in text and conn["cert_pem"].splitlines()[1] in text
    with Workspace.open(tmp_path / "other", keyring_backend=keyring_backend) as other:
        needed = exchange.import_document(other, json.loads(text))
        assert [n.name for n in needed] == [kata.secret_name(conn["id"])]
        state = other.tenant("Acme").integrations["kata"]
        assert kata.connections(state)[0]["id"] == conn["id"]
        # The remedy after an import: a new key and certificate for the same XDR ID.
        new = kata.regenerate(other, "Acme", conn["id"])
        assert kata_certs.key_matches(new["cert_pem"], some(kata.private_key(other, "Acme", conn["id"])))


def test_malformed_connections_are_refused(ws, acme):
    with pytest.raises(ValidationError, match="lacks its 'cert_pem'"):
        ws.update_integration(
            acme,
            IntegrationEdit(
                "kata",
                structured={
                    "connections": [{"id": str(uuid.uuid4()), "host": "a.example.invalid", "port": 443}]
                },
            ),
        )


def test_private_key_never_in_plain_text_on_disk(ws, acme, tmp_path, monkeypatch):
    """Every file under the test's folder (the config folder with its encrypted key files,
    and the temporary folder mutual TLS uses) is searched for any line of the key."""
    from support.https_peer import closed_port
    from xdrconf.core.engine import run_operation

    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    conns = [
        kata.add_connection(ws, acme, "127.0.0.1", closed_port(), kt) for kt in ("rsa2048", "rsa3072", "p256")
    ]
    kata.regenerate(ws, acme, conns[0]["id"])
    run_operation(ws, acme, "kata", timeout=2)  # loads each key for mutual TLS
    keys = [kata.private_key(ws, acme, c["id"]) for c in conns]
    assert all(k and "PRIVATE KEY" in k for k in keys)
    needles = {
        line.encode() for k in keys if k for line in k.splitlines() if "-----" not in line and len(line) > 20
    }
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".bin" for p in files)  # RSA keys are sealed on disk
    for path in files:
        data = path.read_bytes()
        assert b"PRIVATE KEY" not in data, path
        assert not any(n in data for n in needles), f"a line of a private key is in {path}"
