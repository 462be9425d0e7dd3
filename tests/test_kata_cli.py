"""`xdrconf kata …`, `integration set … kata` and `check TENANT kata` end to end."""

from __future__ import annotations

import json

import pytest
from cryptography import x509

from support.kata_peer import KataPeer
from xdrconf.core.fields import format_fingerprint


@pytest.fixture
def acme(cli):
    assert cli("tenant", "add", "Acme").code == 0
    return cli


def listed(cli, tenant="Acme"):
    r = cli("kata", "list", tenant, "--json")
    assert r.code == 0, r
    return json.loads(r.out)


def test_add_list_remove(acme):
    r = acme("kata", "add", "Acme", "::1", "--key", "p256")
    assert r.code == 0, r
    [conn] = listed(acme)
    assert conn["target"] == "[::1]:443" and conn["key_type"] == "p256"
    assert conn["id"] in r.out and format_fingerprint(conn["fingerprint_sha256"]) in r.out
    assert "PRIVATE" not in r.out
    r = acme("kata", "add", "Acme", "kata.example.invalid", "--port", "8443")
    assert r.code == 0, r
    assert [c["key_type"] for c in listed(acme)] == ["p256", "rsa2048"]
    text = acme("kata", "list", "Acme")
    assert "[::1]:443" in text.out and "kata.example.invalid:8443" in text.out
    r = acme("kata", "remove", "Acme", "[::1]:443")
    assert r.code == 0, r
    assert [c["target"] for c in listed(acme)] == ["kata.example.invalid:8443"]
    r = acme("kata", "remove", "Acme", listed(acme)[0]["id"])
    assert r.code == 0 and listed(acme) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (("kata.example.invalid", "--port", "0"), "Port: 0 is out of range"),
        (("kata.example.invalid", "--port", "x"), "Port: 'x' is not a number"),
        (("bad_host",), "IP address or host name: 'bad_host' is not a valid host name"),
        (("1.2.3.999",), "IP address or host name: '1.2.3.999' is not a valid IPv4 address"),
    ],
)
def test_add_bad_input(acme, args, message):
    r = acme("kata", "add", "Acme", *args)
    assert r.code == 2 and message in r.err, r
    assert listed(acme) == []


def test_unknown_connection(acme):
    acme("kata", "add", "Acme", "kata.example.invalid", "--key", "p256")
    r = acme("kata", "regenerate", "Acme", "other.example.invalid:443")
    assert r.code == 2 and "No KATA connection 'other.example.invalid:443'" in r.err


def test_regenerate_and_export(acme, tmp_path):
    acme("kata", "add", "Acme", "kata.example.invalid", "--key", "p256")
    [before] = listed(acme)
    r = acme("kata", "regenerate", "Acme", "kata.example.invalid:443")
    assert r.code == 0 and "must accept the connection again" in r.out, r
    [after] = listed(acme)
    assert after["id"] == before["id"] and after["fingerprint_sha256"] != before["fingerprint_sha256"]
    pem = acme("kata", "export-cert", "Acme", before["id"])
    assert pem.code == 0 and pem.out.startswith("-----BEGIN CERTIFICATE-----")
    cert = x509.load_pem_x509_certificate(pem.out.encode())
    out = tmp_path / "kata.der"
    r = acme("kata", "export-cert", "Acme", before["id"], "-o", str(out), "--der")
    assert r.code == 0, r
    assert x509.load_der_x509_certificate(out.read_bytes()) == cert
    out_pem = tmp_path / "kata.pem"
    assert acme("kata", "export-cert", "Acme", before["id"], "-o", str(out_pem)).code == 0
    assert x509.load_pem_x509_certificate(out_pem.read_bytes()) == cert
    r = acme("kata", "export-cert", "Acme", before["id"], "--der")
    assert r.code == 2 and "give -o FILE" in r.err


def test_trust_settings_and_check_per_connection(acme, server_cert, test_ca, tmp_path):
    ca_file = tmp_path / "kata-ca.pem"
    ca_file.write_text(test_ca.cert_pem)
    with KataPeer(server_cert) as v4, KataPeer(server_cert, host="::1") as v6:
        assert acme("kata", "add", "Acme", "127.0.0.1", "--port", str(v4.port), "--key", "p256").code == 0
        assert acme("kata", "add", "Acme", "::1", "--port", str(v6.port), "--key", "p256").code == 0
        c4, c6 = listed(acme)
        v4.trust(acme("kata", "export-cert", "Acme", c4["id"]).out)
        v6.trust(acme("kata", "export-cert", "Acme", c6["id"]).out)
        r = acme("integration", "set", "Acme", "kata", f"tls_ca=@{ca_file}")
        assert r.code == 0, r
        assert acme("integration", "enable", "Acme", "kata").code == 0
        v4.api.approve(c4["id"], c4["fingerprint_sha256"])
        r = acme("check", "Acme", "kata", "--json")
        assert r.code == 1, r
        results = json.loads(r.out)
        assert [(x["target"], x["category"]) for x in results] == [
            (f"127.0.0.1:{v4.port}", "ok"),
            (f"[::1]:{v6.port}", "pending_approval"),
        ]
        assert format_fingerprint(c6["fingerprint_sha256"]) in results[1]["message"]
        # The status is kept per connection.
        assert [c["status"]["category"] for c in listed(acme)] == ["ok", "pending_approval"]
        v6.api.approve(c6["id"], c6["fingerprint_sha256"])
        r = acme("check", "Acme", "kata")
        assert r.code == 0 and [line.split()[0] for line in r.out.splitlines()] == ["ok", "ok"], r
        # A pin instead of the CA file: generic field, same effect on every connection.
        r = acme("integration", "set", "Acme", "kata", "tls_ca=", f"tls_pin_sha256={'00' * 32}")
        assert r.code == 0, r
        r = acme("check", "Acme", "kata", "--json")
        assert [x["category"] for x in json.loads(r.out)] == ["tls_pin_mismatch"] * 2


def test_expiring_certificate_flags_the_tenant(acme, config_dir, keyring_backend):
    from xdrconf.core.integrations.kata import connections as kata
    from xdrconf.core.workspace import Workspace

    with Workspace.open(config_dir, keyring_backend=keyring_backend) as ws:
        kata.add_connection(ws, "Acme", "kata.example.invalid", 443, "p256", days=10)
        ws.set_enabled("Acme", "kata", True)
    r = acme("tenant", "list", "--json")
    [row] = [t for t in json.loads(r.out) if t["name"] == "Acme"]
    assert len(row["flags"]) == 1 and "kata: the client certificate" in row["flags"][0]
    assert "(!)" in acme("tenant", "list").out
