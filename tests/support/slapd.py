"""A real OpenLDAP slapd on loopback for tests (recipe: shared/RUNTIME.md): a plain LDAP
directory whose accounts bind by DN, with LDAPS and StartTLS on a certificate from the
tests' CA. One per test session, ~0.2 s, a few MB.

    base DN    dc=example,dc=org
    admin      cn=admin,dc=example,dc=org / ADMIN_PASSWORD (rootdn)
    users      uid=jdoe,ou=people,dc=example,dc=org    John Doe   (in cn=responders)
               uid=asmith,ou=people,dc=example,dc=org  Ann Smith
    group      cn=responders,ou=groups,dc=example,dc=org (groupOfNames)
Ports on 127.0.0.1 (free ones, per session): `ldap_port` (plain and StartTLS), `ldaps_port`.
The certificate names localhost, 127.0.0.1 and ::1.

Observed with ldap3 (simple binds): right password 0 over plain LDAP, StartTLS or LDAPS (no
encryption required); wrong password 49 invalidCredentials, empty message; a DN that does not
exist 49 as well; a search of a base DN that does not exist 32 noSuchObject; an anonymous bind
may read the rootDSE (namingContexts) but nothing under the base (users read everything but
userPassword). Unlike AD, there is no `data XXX` in the diagnostic, no UPN and no
DOMAIN\\user form: a UPN gives 34 invalidDNSyntax.
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ldap3  # type: ignore[import-untyped]

from .ldap_client import end_process, root_dse_ok
from .pki import Issued, TestCA
from .sshd import free_port

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
BASE_DN = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "Slapd-Admin-Passw0rd!"
GROUP_DN = f"cn=responders,ou=groups,{BASE_DN}"


@dataclass(frozen=True)
class LdapUser:
    uid: str
    cn: str
    sn: str
    password: str

    @property
    def dn(self) -> str:
        return f"uid={self.uid},ou=people,{BASE_DN}"


USERS = {
    u.uid: u
    for u in (
        LdapUser("jdoe", "John Doe", "Doe", "Jdoe-Passw0rd!"),
        LdapUser("asmith", "Ann Smith", "Smith", "Asmith-Passw0rd!"),
    )
}


def available() -> str | None:
    for path in (SLAPD, SLAPADD):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install slapd)"
    return None


def ssha(password: str) -> str:
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _ldif() -> str:
    entries = [
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
        f"dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{BASE_DN}\nobjectClass: organizationalUnit\nou: groups\n",
        *(
            f"dn: {u.dn}\nobjectClass: inetOrgPerson\nuid: {u.uid}\ncn: {u.cn}\nsn: {u.sn}\n"
            f"mail: {u.uid}@example.invalid\nuserPassword: {ssha(u.password)}\n"
            for u in USERS.values()
        ),
        f"dn: {GROUP_DN}\nobjectClass: groupOfNames\ncn: responders\nmember: {USERS['jdoe'].dn}\n",
    ]
    return "\n".join(entries)


@dataclass
class Slapd:
    dir: Path
    cert: Issued
    ca_path: Path
    host: str = "127.0.0.1"
    base_dn: str = BASE_DN
    admin_dn: str = ADMIN_DN
    admin_password: str = ADMIN_PASSWORD
    group_dn: str = GROUP_DN
    users: dict[str, LdapUser] = field(default_factory=lambda: dict(USERS))
    ldap_port: int = 0
    ldaps_port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def _config(self) -> Path:
        schemas = "".join(
            f"include {SCHEMA_DIR / n}.schema\n" for n in ("core", "cosine", "inetorgperson", "nis")
        )
        conf = self.dir / "slapd.conf"
        conf.write_text(
            f"{schemas}"
            f"pidfile {self.dir / 'slapd.pid'}\n"
            f"argsfile {self.dir / 'slapd.args'}\n"
            "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            f"TLSCACertificateFile {self.ca_path}\n"
            f"TLSCertificateFile {self.cert.cert_path}\n"
            f"TLSCertificateKeyFile {self.cert.key_path}\n"
            'access to dn.base="" by * read\n'
            'access to dn.base="cn=Subschema" by * read\n'
            "access to attrs=userPassword by self write by anonymous auth by * none\n"
            "access to * by self write by users read by * none\n"
            "database mdb\nmaxsize 104857600\n"
            f'suffix "{BASE_DN}"\nrootdn "{ADMIN_DN}"\nrootpw {ssha(ADMIN_PASSWORD)}\n'
            f"directory {self.dir / 'data'}\n"
        )
        return conf

    def start(self) -> Slapd:
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        conf = self._config()
        ldif = self.dir / "data.ldif"
        ldif.write_text(_ldif())
        r = subprocess.run(
            [SLAPADD, "-q", "-f", str(conf), "-l", str(ldif)], capture_output=True, text=True, timeout=60
        )
        if r.returncode != 0:
            raise RuntimeError(f"slapadd failed: {r.stderr}")
        log_path = self.dir / "slapd.log"
        for _ in range(5):
            self.ldap_port, self.ldaps_port = free_port(), free_port()
            urls = f"ldap://{self.host}:{self.ldap_port}/ ldaps://{self.host}:{self.ldaps_port}/"
            with open(log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [SLAPD, "-d", "0", "-h", urls, "-f", str(conf)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            if self._wait_ready():
                return self
            self.stop()
            if "Address already in use" not in log_path.read_text(errors="replace"):
                break
        raise RuntimeError(f"slapd did not start; its log:\n{log_path.read_text(errors='replace')}")

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if root_dse_ok(self.host, self.ldap_port):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        end_process(self.proc)
        self.proc = None

    def tls(self) -> ldap3.Tls:
        return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_path))

    def server(self, *, ldaps: bool = False, host: str | None = None) -> ldap3.Server:
        """ldap3 Server for the plain port (StartTLS possible) or the LDAPS port."""
        return ldap3.Server(
            host or self.host,
            port=self.ldaps_port if ldaps else self.ldap_port,
            use_ssl=ldaps,
            tls=self.tls(),
            get_info=ldap3.NONE,
            connect_timeout=5,
        )


# ---- fixture (registered in tests/conftest.py through pytest_plugins) ----------------------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def slapd(test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """OpenLDAP slapd on 127.0.0.1 (see the module docstring)."""
    reason = available()
    if reason is not None:
        pytest.skip(reason)
    peer = Slapd(tmp_path_factory.mktemp("slapd"), test_ca.issue(), test_ca.cert_path)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
