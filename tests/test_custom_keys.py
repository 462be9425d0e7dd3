"""Strict parsing of SSH keys typed by a person: every malformed public-key form is refused
with its reason; fingerprints are compared with what the real `ssh-keygen -lf` prints."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest

from support.sshd import make_key
from xdrconf.core.errors import ValidationError
from xdrconf.core.integrations.custom.keys import (
    PassphraseNeeded,
    PassphraseWrong,
    load_private_key,
    parse_private_key_field,
    parse_public_key,
    parse_public_key_field,
    private_key_encrypted,
)

SSH_KEYGEN = shutil.which("ssh-keygen")
needs_keygen = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen (openssh-client) is not installed")


def rejected(text: str) -> str:
    with pytest.raises(ValidationError) as info:
        parse_public_key(text, "Public key")
    assert info.value.label == "Public key"
    return info.value.problem


@pytest.fixture(scope="module")
def keys():
    return {k: make_key(k, comment="admin@scripts") for k in ("ed25519", "rsa", "ecdsa", "ecdsa384")}


@needs_keygen
@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa", "ecdsa384"])
def test_type_and_fingerprint_exactly_as_ssh_keygen(kind, keys, tmp_path):
    pub = tmp_path / "key.pub"
    pub.write_text(keys[kind].public_line + "\n")
    expected = subprocess.run(
        [str(SSH_KEYGEN), "-lf", str(pub)], capture_output=True, text=True, check=True
    ).stdout.strip()
    info = parse_public_key(keys[kind].public_line)
    assert info.keygen_line() == expected
    assert info.fingerprint == expected.split()[1]


@needs_keygen
def test_key_without_comment_matches_ssh_keygen(keys, tmp_path):
    pub = tmp_path / "key.pub"
    pub.write_text(keys["ed25519"].public_no_comment + "\n")
    expected = subprocess.run(
        [str(SSH_KEYGEN), "-lf", str(pub)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert parse_public_key(keys["ed25519"].public_no_comment).keygen_line() == expected
    assert expected.endswith("no comment (ED25519)")


def test_canonical_line_drops_comment_and_whitespace(keys):
    line = keys["ed25519"].public_line
    stored = parse_public_key_field(f"  \n{line}\n\n", "Public key")
    assert stored == keys["ed25519"].public_no_comment
    assert parse_public_key_field("   ", "Public key") is None


def test_comment_lines_around_the_key_are_ignored(keys):
    text = "# scripts host, ed25519\n" + keys["ed25519"].public_line + "\n"
    assert parse_public_key(text).key_type == "ssh-ed25519"


def test_empty():
    assert "is empty" in rejected("")
    assert "is empty" in rejected("   \n ")


def test_truncated(keys):
    type_, data = keys["ed25519"].public_no_comment.split()
    problem = rejected(f"{type_} {data[:-7]}")
    assert "cut off" in problem
    # Truncated at a base64 quantum boundary: the base64 is fine, the key data is not.
    problem = rejected(f"{type_} {data[:40]}")
    assert "cut off" in problem or "damaged" in problem


def test_truncated_rsa_key_at_quantum_boundary(keys):
    type_, data = keys["rsa"].public_no_comment.split()
    assert "cut off or damaged" in rejected(f"{type_} {data[:200]}")


def test_type_only():
    assert "no key data" in rejected("ssh-ed25519")


def test_mistyped_type(keys):
    _, data = keys["ed25519"].public_no_comment.split()
    problem = rejected(f"ssh-ed2519 {data}")
    assert "unknown key type 'ssh-ed2519'" in problem


def test_type_does_not_match_data(keys):
    _, data = keys["ed25519"].public_no_comment.split()
    problem = rejected(f"ssh-rsa {data}")
    assert "'ssh-rsa'" in problem and "'ssh-ed25519'" in problem


def test_bad_base64(keys):
    type_, data = keys["ed25519"].public_no_comment.split()
    broken = data[:10] + "*" + data[11:]
    assert "not valid base64" in rejected(f"{type_} {broken}")


def test_private_key_pasted(keys):
    problem = rejected(keys["ed25519"].private_openssh)
    assert "private key" in problem
    assert keys["ed25519"].private_openssh.splitlines()[1] not in problem
    pem = make_key("rsa", pem=True).private_openssh
    assert "private key" in rejected(pem)


def test_known_hosts_line(keys):
    line = keys["ed25519"].public_no_comment
    problem = rejected(f"scripts.example.invalid,127.0.0.5 {line}")
    assert "known_hosts line" in problem and "scripts.example.invalid,127.0.0.5" in problem


def test_known_hosts_bracketed_port(keys):
    problem = rejected(f"[127.0.0.5]:2222 {keys['ecdsa'].public_no_comment}")
    assert "known_hosts line" in problem and "[host]:port" in problem


def test_hashed_known_hosts(keys):
    salt = base64.b64encode(b"s" * 20).decode()
    digest = base64.b64encode(b"h" * 20).decode()
    problem = rejected(f"|1|{salt}|{digest} {keys['ed25519'].public_no_comment}")
    assert "hashed known_hosts" in problem


def test_two_keys(keys):
    problem = rejected(keys["ed25519"].public_line + "\n" + keys["rsa"].public_line)
    assert "2 lines" in problem


def test_missing_type(keys):
    _, data = keys["ed25519"].public_no_comment.split()
    assert "key type is missing" in rejected(data)


def test_pem_public_key_block():
    assert "not an OpenSSH public key line" in rejected(
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----"
    )


def test_dsa_and_certificates_are_refused(keys):
    _, data = keys["ed25519"].public_no_comment.split()
    assert "DSA" in rejected(f"ssh-dss {data}")
    assert "certificate" in rejected(f"ssh-ed25519-cert-v01@openssh.com {data}")


def test_authorized_keys_options(keys):
    assert "authorized_keys options" in rejected(f'from="127.0.0.0/8" {keys["ed25519"].public_no_comment}')


# ---- private keys --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa", "ecdsa384"])
@pytest.mark.parametrize("pem", [False, True])
def test_private_keys_load_plain_and_encrypted(kind, pem):
    plain = make_key(kind, pem=pem)
    key = load_private_key(plain.private_openssh)
    assert f"{key.get_name()} {key.get_base64()}" == plain.public_no_comment
    enc = make_key(kind, pem=pem, passphrase="correct horse")
    assert private_key_encrypted(enc.private_openssh)
    key = load_private_key(enc.private_openssh, "correct horse")
    assert f"{key.get_name()} {key.get_base64()}" == enc.public_no_comment
    with pytest.raises(PassphraseNeeded):
        load_private_key(enc.private_openssh, None)
    with pytest.raises(PassphraseWrong):
        load_private_key(enc.private_openssh, "wrong horse")


@pytest.mark.parametrize("kind", ["rsa", "ecdsa384"])
def test_every_wrong_passphrase_of_a_pem_key_is_called_wrong(kind):
    # A traditional PEM key decrypted with a wrong passphrase is random bytes whose padding
    # looks right about once in 256 tries; then the failure comes from the DER parse. 3,000
    # tries meet that case all but certainly (the chance of missing it is below 1e-5).
    enc = make_key(kind, pem=True, passphrase="correct horse")
    called = {"wrong": 0, "other": 0}
    for n in range(3000):
        try:
            load_private_key(enc.private_openssh, f"wrong horse {n}")
        except PassphraseWrong:
            called["wrong"] += 1
        except ValidationError:
            called["other"] += 1
    assert called == {"wrong": 3000, "other": 0}


def test_an_unreadable_encrypted_pem_key_is_not_called_a_wrong_passphrase():
    enc = make_key("rsa", pem=True, passphrase="correct horse").private_openssh
    lines = enc.splitlines()
    lines[6] = "%" + lines[6][1:]  # not base64 any more
    with pytest.raises(ValidationError, match="damaged"):
        load_private_key("\n".join(lines) + "\n", "correct horse")


def test_passphrase_for_an_unencrypted_key_is_ignored():
    plain = make_key("ed25519")
    assert load_private_key(plain.private_openssh, "not needed").get_name() == "ssh-ed25519"


def test_private_key_field_refuses_what_is_not_one_private_key():
    pair = make_key("ed25519")
    with pytest.raises(ValidationError, match="public key"):
        parse_private_key_field(pair.public_line, "Private key")
    with pytest.raises(ValidationError, match="more than one"):
        parse_private_key_field(pair.private_openssh + pair.private_openssh, "Private key")
    with pytest.raises(ValidationError, match="cut off"):
        parse_private_key_field(
            pair.private_openssh[:150] + "\n-----END OPENSSH PRIVATE KEY-----\n", "Private key"
        )
    with pytest.raises(ValidationError, match="PuTTY"):
        parse_private_key_field("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "Private key")
    with pytest.raises(ValidationError, match="is empty"):
        parse_private_key_field("", "Private key")
    # An encrypted key is accepted without its passphrase (it may be stored separately).
    enc = make_key("rsa", passphrase="pw-pw-pw")
    assert parse_private_key_field(enc.private_openssh, "Private key").startswith("-----BEGIN OPENSSH")


def test_rejections_never_echo_private_material():
    pair = make_key("rsa", pem=True)
    body = pair.private_openssh.splitlines()[3]
    with pytest.raises(ValidationError) as info:
        parse_private_key_field(pair.private_openssh[:400], "Private key")
    assert body not in str(info.value)
