"""A real Samba Active Directory domain controller on loopback for tests (Samba 4.17, recipe in
shared/RUNTIME.md), provisioned once per test session, with accounts in every state a bind
can meet.

How it runs
-----------
`samba-tool domain provision` into the session's temp folder (realm XDRTEST.LOCAL, NetBIOS
domain XDRTEST, DC `dc1`, no DNS), then `samba_offline.py` (under Samba's own Python) adds
the accounts below straight into the database, and `samba -i -M single` runs in the
foreground with `server services = ldap` and its own smb.conf: every path (pid, sockets, logs,
state) inside that folder, nothing in /etc, /run or /var touched. Samba ends when the session
does (its stdin is a pipe: interactive Samba exits on EOF, so it also goes when pytest dies).

Samba's LDAP ports cannot be changed (4.17 has no `ldap port` setting; 389, 636, 3268, 3269
are fixed in the code). So each DC listens on a loopback address of its own, 127.0.0.N
(N >= 2, claimed with an flock on /tmp/xdrconf-samba-127.0.0.N.lock and a free-port check;
`interfaces = 127.0.0.N/8`, `bind interfaces only`): two test sessions on one machine get two
addresses. In front of it, `TcpRelay`s give per-session ports on localhost (127.0.0.1 and
::1): `dc.ports.ldap/.ldaps/.gc/.gcs` relay byte for byte to 389/636/3268/3269 on
127.0.0.N. The relays are how tests reach the DC by host name.

TLS: the DC's certificate is issued by the tests' CA (`test_ca`) for `localhost`, 127.0.0.1
and ::1 (`tls enabled/keyfile/certfile/cafile`). Through the relays (`localhost` or
127.0.0.1) it verifies with the test CA; at `dc.direct_ip` (127.0.0.N, standard ports) the
certificate does NOT name the address, on purpose: that is the "DC reached by an address
its certificate does not name" case (hostname verification fails; a SHA-256 pin of
`dc.cert.sha256` passes).

Accounts (domain XDRTEST, DNS domain xdrtest.local, base DN DC=xdrtest,DC=local; targets in
OU=Staff, service accounts in CN=Users; CN = "<given> <surname>", so a CN is never the
sAMAccountName). Each binds as UPN `sam@xdrtest.local`, DN or `XDRTEST\\sam`:

    sam       CN                  state                       simple bind (ldap3, LDAPS)
    alice     Alice Good          good; member of Quarantine  0 success
    (alice)   with a wrong password                           49 data 52e
    (nobody)  no such account                                 49 data 52e (not 525)
    (alice)   bare `alice` (sAMAccountName)                   49 data 52e
    dave      Dave Disabled       disabled; in Quarantine     49 data 533
    lena      Lena Locked         locked out (below)          49 data 775, right password too
    eric      Eric Expired        accountExpires yesterday    49 data 701; in Finance
    mia       Mia Mustchange      pwdLastSet = 0              49 data 773
    pete      Pete Pwexpired      password set 61 days ago    49 data 532
    hank      Hank Hours          logonHours all zero         49 data 530
    wendy     Wendy Workstation   userWorkstations=NOSUCHPC   49 data 531
    reader    Xdr Reader          unprivileged (CN=Users)     0; any write → 50
    helpdesk  Xdr Helpdesk        privileged (delegated)      0
    pwreset   Xdr Pwreset         may only reset passwords    0
    Administrator                 Domain Admin                0
The diagnostic reads `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext
error, data 52e, v1db1` (the code varies). Plain LDAP (389 or 3268) simple bind, strong auth
required (the default): 8 strongerAuthRequired "BindSimple: Transport encryption required."
for every account, even a wrong password. Search of a base DN that does not exist: 32
noSuchObject.

Lockout: the domain has no lockout threshold (wrong passwords never lock anyone), only the
password settings object `xdr-lockout` (threshold 3, window and duration 2 h) applies to
lena; the fixture makes 3 binds with a wrong password after start. The maximum password age
is the domain's 42 days (pete's pwdLastSet is back-dated offline: AD lets LDAP write only 0 or
-1 there). A PSO cannot expire a password sooner: Samba treats a maximum age under one day as
"never". Password complexity is on (as in AD): new passwords need three character classes and
must not contain the account name.

Rights for the response actions (lock = write userAccountControl, also lockoutTime to
unlock; reset password = the extended right User-Force-Change-Password; add to group = write
`member` of the group). Delegated, inherited on user objects under OU=Staff:
  helpdesk: reset password, write userAccountControl, lockoutTime, pwdLastSet; write `member`
            on CN=Quarantine only (not on Finance).
  pwreset:  reset password only.
Observed `allowedAttributesEffective` (constructed attribute; Samba computes it from the DACL
for the bound account) on CN=Alice Good / CN=Quarantine / CN=Finance:
  helpdesk      {lockoutTime, pwdLastSet, userAccountControl} / {member} / {}
  pwreset       {} / {} / {}   ← the reset-password right does NOT show: it is an extended
                right (control access), not a property write; unicodePwd is listed only for
                accounts with write access to it (Administrator: 279 attributes on a user,
                unicodePwd among them, 78 on a group)
  reader        {} / {} / {}
  alice (self)  71 attributes of her own object (personal information), not
                userAccountControl / lockoutTime / pwdLastSet / unicodePwd
So Samba does report effective write rights for "lock" and "add to group"; for "reset
password" only the security descriptor tells (any account may read the DACL of these
objects with the SD-flags control 0x4; the ACE with object type
00299570-246d-11d0-a768-00aa006e0529 is there for helpdesk and pwreset), or trying.
`sDRightsEffective` is 0 for every account but Administrator (15).

Writes, as observed: helpdesk may disable an account (userAccountControl 514), reset its
password (unicodePwd replace, ldap3 `extend.microsoft.modify_password(dn, new)`) and add it
to Quarantine; adding to Finance gives 50 insufficientAccessRights; reader gets 50 for all
three, pwreset for all but the reset. After a reset the previous password still binds for an
hour (Samba's `old password allowed period`, 60 min, as Windows allows for network logons):
only the new password proves a reset, not the old one failing.

Plain LDAP: `samba_dc_plain` is a second DC from the same provisioned database with
`ldap server require strong auth = no` (own address, own relays; started only when a test
asks for it, ~0.8 s and ~54 MB more): simple binds over 389/3268 then give the same results
as over TLS (0, 49 data 52e, 533, ...).

Tests that change accounts (the response actions) make their own with `dc.new_user()`, so the
accounts above keep their states for the whole session.

Cost, measured on the 2-core test machine: provisioning 4.5-5.5 s + filling 0.7 s (once per
session), start 0.3-1.2 s to the first rootDSE answer, lockout binds 0.25-0.4 s; samba ~54 MB
RSS (`dc.rss_kb()`), the database 33 MB on disk per copy. `dc.timings` has the figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ldap3  # type: ignore[import-untyped]

from .ldap_client import bind_result, discard, end_process, root_dse_ok
from .pki import Issued, TestCA
from .tcp_relay import TcpRelay

SAMBA = "/usr/sbin/samba"
SAMBA_TOOL = "/usr/bin/samba-tool"
SAMBA_PYTHON = "/usr/bin/python3"  # the interpreter Samba's bindings (python3-samba) are for

REALM = "XDRTEST.LOCAL"
DOMAIN = "XDRTEST"  # NetBIOS name, as in XDRTEST\alice
DNS_DOMAIN = "xdrtest.local"
BASE_DN = "DC=xdrtest,DC=local"
STAFF_OU = f"OU=Staff,{BASE_DN}"
USERS_CN = f"CN=Users,{BASE_DN}"
DC_NAME = "dc1"
ADMIN_PASSWORD = "Adm1n-Xdr-Passw0rd!"


@dataclass(frozen=True)
class Ports:
    ldap: int  # plain LDAP, StartTLS
    ldaps: int
    gc: int  # Global Catalog, plain / StartTLS
    gcs: int  # Global Catalog over TLS


STANDARD_PORTS = Ports(389, 636, 3268, 3269)

# Access mask GUIDs (schemaIDGUID / rightsGuid, read from the provisioned schema).
RESET_PASSWORD_RIGHT = "00299570-246d-11d0-a768-00aa006e0529"  # User-Force-Change-Password
ATTR_GUID = {
    "userAccountControl": "bf967a68-0de6-11d0-a285-00aa003049e2",
    "lockoutTime": "28630ebf-41d5-11d1-a9c1-0000f80367c1",
    "pwdLastSet": "bf967a0a-0de6-11d0-a285-00aa003049e2",
    "member": "bf9679c0-0de6-11d0-a285-00aa003049e2",
}
USER_CLASS_GUID = "bf967aba-0de6-11d0-a285-00aa003049e2"


@dataclass(frozen=True)
class AdAccount:
    sam: str
    given: str
    sn: str
    password: str
    state: str  # what it is for: good, disabled, locked, ...
    bind_data: str | None  # the `data XXX` code its bind gives with the right password
    container: str = STAFF_OU

    @property
    def cn(self) -> str:
        return f"{self.given} {self.sn}"

    @property
    def dn(self) -> str:
        return f"CN={self.cn},{self.container}"

    @property
    def upn(self) -> str:
        return f"{self.sam}@{DNS_DOMAIN}"

    @property
    def nt_name(self) -> str:
        return f"{DOMAIN}\\{self.sam}"


def _u(
    sam: str, given: str, sn: str, password: str, state: str, data: str | None, container: str = STAFF_OU
) -> AdAccount:
    return AdAccount(sam, given, sn, password, state, data, container)


USERS: dict[str, AdAccount] = {
    a.sam: a
    for a in (
        _u("alice", "Alice", "Good", "Sunny-Meadow-42!", "good", None),
        _u("dave", "Dave", "Disabled", "Quiet-River-17!", "disabled", "533"),
        _u("lena", "Lena", "Locked", "Amber-Forest-88!", "locked", "775"),
        _u("eric", "Eric", "Expired", "Cold-Harbor-31!", "account_expired", "701"),
        _u("mia", "Mia", "Mustchange", "Green-Valley-64!", "must_change", "773"),
        _u("pete", "Pete", "Pwexpired", "Stone-Bridge-29!", "password_expired", "532"),
        _u("hank", "Hank", "Hours", "Night-Owl-Ridge-5!", "logon_hours", "530"),
        _u("wendy", "Wendy", "Workstation", "Far-Desk-Lamp-9!", "workstation", "531"),
        _u("reader", "Xdr", "Reader", "Plain-View-Glass-3!", "unprivileged", None, USERS_CN),
        _u("helpdesk", "Xdr", "Helpdesk", "Strong-Key-Ring-7!", "privileged", None, USERS_CN),
        _u("pwreset", "Xdr", "Pwreset", "Half-Open-Door-6!", "reset_only", None, USERS_CN),
    )
}
ADMIN = AdAccount("Administrator", "", "", ADMIN_PASSWORD, "domain_admin", None, USERS_CN)
WRONG_PASSWORD = "Not-The-Passw0rd!"
LOCKOUT_THRESHOLD = 3


@dataclass(frozen=True)
class AdGroup:
    cn: str
    members: tuple[str, ...]  # sAMAccountNames

    @property
    def dn(self) -> str:
        return f"CN={self.cn},{STAFF_OU}"


GROUPS: dict[str, AdGroup] = {
    "Quarantine": AdGroup("Quarantine", ("alice", "dave")),  # helpdesk may write `member`
    "Finance": AdGroup("Finance", ("eric",)),  # nobody but the admins may
}


def _spec() -> dict[str, Any]:
    def ace(trustee: str, right: str, guid: str, inherit_to_users: bool) -> str:
        if inherit_to_users:
            return f"(OA;CIIO;{right};{guid};{USER_CLASS_GUID};{{sid:{trustee}}})"
        return f"(OA;;{right};{guid};;{{sid:{trustee}}})"

    staff = "OU=Staff,{base}"
    aces = [
        {"dn": staff, "sddl": ace("helpdesk", "CR", RESET_PASSWORD_RIGHT, True)},
        *(
            {"dn": staff, "sddl": ace("helpdesk", "WP", ATTR_GUID[a], True)}
            for a in ("userAccountControl", "lockoutTime", "pwdLastSet")
        ),
        {"dn": staff, "sddl": ace("pwreset", "CR", RESET_PASSWORD_RIGHT, True)},
        {
            "dn": "CN=Quarantine,OU=Staff,{base}",
            "sddl": ace("helpdesk", "WP", ATTR_GUID["member"], False),
        },
    ]
    users = [
        {
            "sam": a.sam,
            "given": a.given,
            "sn": a.sn,
            "password": a.password,
            "ou": a.container == STAFF_OU,
            "must_change": a.state == "must_change",
            "disabled": a.state == "disabled",
            "expired": a.state == "account_expired",
            "no_logon_hours": a.state == "logon_hours",
            "workstations": "NOSUCHPC" if a.state == "workstation" else None,
            "password_age_days": 61 if a.state == "password_expired" else 0,
        }
        for a in USERS.values()
    ]
    return {
        "admin_password": ADMIN_PASSWORD,
        "ou": "Staff",
        "users": users,
        "groups": [{"name": g.cn, "members": list(g.members)} for g in GROUPS.values()],
        "psos": [
            {
                "name": "xdr-lockout",
                "precedence": 20,
                "lockout_threshold": LOCKOUT_THRESHOLD,
                "applies_to": ["lena"],
            }
        ],
        "aces": aces,
    }


def available() -> str | None:
    """None when a Samba DC can run here, else why not."""
    for path in (SAMBA, SAMBA_TOOL, SAMBA_PYTHON):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install samba samba-ad-dc samba-ad-provision)"
    if os.geteuid() != 0:
        return "a Samba domain controller runs only as root"
    return None


def _run(cmd: list[str], *, stdin: str | None = None, what: str) -> str:
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def provision(template: Path) -> None:
    """A new domain in `template` (about 4-5 s), filled with USERS and GROUPS (about 0.7 s)."""
    _run(
        [
            SAMBA_TOOL, "domain", "provision", f"--realm={REALM}", f"--domain={DOMAIN}",
            "--server-role=dc", "--dns-backend=NONE", f"--host-name={DC_NAME}",
            "--host-ip=127.0.0.1", f"--targetdir={template}",
            "--option=interfaces=127.0.0.1/8", "--option=bind interfaces only=yes",
        ],
        what="samba-tool domain provision",
    )  # fmt: skip
    here = Path(__file__).with_name("samba_offline.py")
    _run(
        [SAMBA_PYTHON, str(here), str(template / "etc" / "smb.conf")],
        stdin=json.dumps(_spec()),
        what="filling the test domain",
    )


def _ports_free(ip: str) -> bool:
    for port in dataclasses.astuple(STANDARD_PORTS):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((ip, port))
            except OSError:
                return False
    return True


def claim_address() -> tuple[str, IO[str]]:
    """A loopback address 127.0.0.N (N >= 2) no other test session holds and where the LDAP
    ports are free; the lock is held as long as the returned file is open."""
    lock_dir = Path(tempfile.gettempdir())
    for n in range(2, 255):
        ip = f"127.0.0.{n}"
        f = open(lock_dir / f"xdrconf-samba-{ip}.lock", "a")  # noqa: SIM115 (held open)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        if _ports_free(ip):
            return ip, f
        f.close()
    raise RuntimeError("ports 389/636/3268/3269 are busy on every address 127.0.0.2-254")


def _smb_conf(d: Path, ip: str, cert: Issued, ca: Path, strong_auth: bool) -> str:
    lines = {
        "netbios name": DC_NAME.upper(),
        "realm": REALM,
        "workgroup": DOMAIN,
        "server role": "active directory domain controller",
        "server services": "ldap",
        "interfaces": f"{ip}/8",
        "bind interfaces only": "yes",
        "private dir": d / "private",
        "lock directory": d,
        "state directory": d / "state",
        "cache directory": d / "cache",
        "binddns dir": d / "bind-dns",
        "pid directory": d / "run",
        "ncalrpc dir": d / "run" / "ncalrpc",
        "winbindd socket directory": d / "run" / "winbindd",
        "logging": "file",
        "log file": d / "log" / "samba.log",
        "log level": 1,
        "tls enabled": "yes",
        "tls keyfile": cert.key_path,
        "tls certfile": cert.cert_path,
        "tls cafile": ca,
        "ldap server require strong auth": "yes" if strong_auth else "no",
    }
    return "[global]\n" + "".join(f"\t{k} = {v}\n" for k, v in lines.items())


@dataclass
class SambaDC:
    """One running DC. Tests connect to `host` (localhost) or `ip` (127.0.0.1) on `ports`."""

    dir: Path
    direct_ip: str
    cert: Issued
    ca_path: Path
    strong_auth: bool = True
    host: str = "localhost"
    ip: str = "127.0.0.1"
    ports: Ports = STANDARD_PORTS
    realm: str = REALM
    domain: str = DOMAIN
    dns_domain: str = DNS_DOMAIN
    base_dn: str = BASE_DN
    staff_ou: str = STAFF_OU
    dns_host_name: str = f"{DC_NAME}.{DNS_DOMAIN}"
    users: dict[str, AdAccount] = field(default_factory=lambda: dict(USERS))
    groups: dict[str, AdGroup] = field(default_factory=lambda: dict(GROUPS))
    admin: AdAccount = ADMIN
    timings: dict[str, float] = field(default_factory=dict)
    relays: dict[str, TcpRelay] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    _lock: IO[str] | None = None

    direct_ports = STANDARD_PORTS

    @property
    def ca_pem(self) -> str:
        return self.ca_path.read_text()

    @property
    def ipv6(self) -> bool:
        """True when the relays listen on ::1 too (then [::1]:port reaches the DC)."""
        return all(r.ipv6 for r in self.relays.values())

    @property
    def log_path(self) -> Path:
        return self.dir / "log" / "samba.log"

    def relay(self, kind: str) -> TcpRelay:
        """The relay behind `ports.<kind>` (ldap, ldaps, gc, gcs), e.g. for open_connections."""
        return self.relays[kind]

    # ---- life cycle ---------------------------------------------------------------------
    def start(self, template: Path, lock: IO[str]) -> SambaDC:
        self._lock = lock
        t0 = time.monotonic()
        shutil.copytree(template, self.dir, symlinks=True)
        for sub in ("run", "log"):
            (self.dir / sub).mkdir(exist_ok=True)
        conf = self.dir / "etc" / "smb.conf"
        conf.write_text(_smb_conf(self.dir, self.direct_ip, self.cert, self.ca_path, self.strong_auth))
        out = open(self.dir / "log" / "samba.stdout", "wb")  # noqa: SIM115 (given to samba)
        self.proc = subprocess.Popen(
            [SAMBA, "-s", str(conf), "-i", "-M", "single"],
            stdin=subprocess.PIPE,  # interactive Samba exits when this closes
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a ^C in the terminal reaches pytest, which stops it
        )
        out.close()
        self._wait_ready()
        self.timings["start"] = time.monotonic() - t0
        for kind, port in dataclasses.asdict(STANDARD_PORTS).items():
            self.relays[kind] = TcpRelay((self.direct_ip, port)).start()
        self.ports = Ports(**{k: r.port for k, r in self.relays.items()})
        t1 = time.monotonic()
        self._lock_out(self.users["lena"])
        self.timings["lockout"] = time.monotonic() - t1
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if root_dse_ok(self.direct_ip, 389):
                return
            time.sleep(0.05)
        log = (self.dir / "log" / "samba.stdout").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"samba did not start on {self.direct_ip}; its output:\n{log}")

    def _lock_out(self, account: AdAccount) -> None:
        for _ in range(LOCKOUT_THRESHOLD):
            self.bind_result(account.upn, WRONG_PASSWORD)
        r = self.bind_result(account.upn, account.password)
        if r["result"] != 49 or "data 775" not in r["message"]:
            raise RuntimeError(f"{account.sam} was not locked out: {r}")

    def stop(self) -> None:
        for r in self.relays.values():
            r.stop()
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()  # interactive samba terminates itself on EOF
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        end_process(self.proc)
        self.proc = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        # The database copy (33 MB) goes; the logs in dir/log stay with pytest's temp folder.
        for sub in ("private", "state", "cache", "bind-dns"):
            shutil.rmtree(self.dir / sub, ignore_errors=True)

    def rss_kb(self) -> int:
        """Resident memory of the samba process, kB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    # ---- ldap3 helpers for tests and set-up -----------------------------------------------
    def tls(self) -> ldap3.Tls:
        """TLS that verifies the DC's certificate with the test CA (and the host name)."""
        return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_path))

    def server(
        self,
        kind: str = "ldaps",
        *,
        host: str | None = None,
        direct: bool = False,
        tls: ldap3.Tls | None = None,
        typed: bool = True,
    ) -> ldap3.Server:
        """An ldap3 Server for ports.<kind> on localhost (or `host`), or on the standard
        port at direct_ip. ldaps/gcs use TLS from the start; ldap/gc carry the TLS settings
        for StartTLS. typed: values are typed by ldap3's built-in copy of the AD schema (its
        default would fetch the whole schema from the DC on every bind); with it ldap3 also
        refuses to ask for attributes outside that schema (rootDSE ones): typed=False then."""
        port = getattr(STANDARD_PORTS if direct else self.ports, kind)
        return ldap3.Server(
            self.direct_ip if direct else (host or self.host),
            port=port,
            use_ssl=kind in ("ldaps", "gcs"),
            tls=tls or self.tls(),
            connect_timeout=5,
            get_info=ldap3.OFFLINE_AD_2012_R2 if typed else ldap3.NONE,
        )

    def bind_result(
        self, user: str, password: str, kind: str = "ldaps", *, starttls: bool = False, **server: Any
    ) -> dict[str, Any]:
        """ldap3's result of one simple bind on ports.<kind> (StartTLS first if asked)."""
        return bind_result(self.server(kind, **server), user, password, starttls=starttls)

    @contextlib.contextmanager
    def connection(self, account: AdAccount, *, typed: bool = True) -> Iterator[ldap3.Connection]:
        """Bound as `account` (e.g. dc.admin, the domain's Administrator: for set-up and for
        checking what a test's action changed) over LDAPS, verified; raises on any error."""
        c = ldap3.Connection(
            self.server("ldaps", typed=typed),
            account.upn,
            account.password,
            receive_timeout=10,
            raise_exceptions=True,
        )
        try:
            c.bind()
            yield c
        finally:
            discard(c)

    def new_user(
        self,
        sam: str,
        password: str = "Fresh-Start-Passw0rd!",
        *,
        given: str = "Test",
        groups: tuple[str, ...] = (),
    ) -> AdAccount:
        """A new enabled account in OU=Staff for a test to change (lock, reset, add to a
        group), so the documented accounts keep their states. `sam` must be unused."""
        a = AdAccount(sam, given, sam.capitalize(), password, "good", None)
        with self.connection(self.admin) as c:
            c.add(
                a.dn,
                ["top", "person", "organizationalPerson", "user"],
                {
                    "sAMAccountName": sam,
                    "userPrincipalName": a.upn,
                    "givenName": a.given,
                    "sn": a.sn,
                    "displayName": a.cn,
                    "unicodePwd": f'"{password}"'.encode("utf-16-le"),
                    "userAccountControl": 512,
                },
            )
            for g in groups:
                c.modify(self.groups[g].dn, {"member": [(ldap3.MODIFY_ADD, [a.dn])]})
        return a

    def read(self, dn: str, attributes: list[str]) -> dict[str, Any]:
        """Attributes of one entry, read as Administrator."""
        with self.connection(self.admin) as c:
            c.search(dn, "(objectClass=*)", ldap3.BASE, attributes=attributes)
            return dict(c.response[0]["attributes"])


def start_dc(folder: Path, template: Path, test_ca: TestCA, *, strong_auth: bool) -> SambaDC:
    ip, lock = claim_address()
    cert = test_ca.issue(("localhost", "127.0.0.1", "::1"))
    dc = SambaDC(folder, ip, cert, test_ca.cert_path, strong_auth=strong_auth)
    try:
        return dc.start(template, lock)
    except BaseException:
        dc._lock = lock
        dc.stop()
        raise


# ---- fixtures (registered in tests/conftest.py through pytest_plugins) ---------------------
import pytest  # noqa: E402


@dataclass(frozen=True)
class SambaTemplate:
    path: Path  # a provisioned, filled domain database, never run: DCs start from copies
    seconds: float  # what provisioning and filling took


@pytest.fixture(scope="session")
def samba_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaTemplate]:
    reason = available()
    if reason is not None:
        pytest.skip(reason)
    t0 = time.monotonic()
    path = tmp_path_factory.mktemp("samba") / "template"
    provision(path)
    yield SambaTemplate(path, time.monotonic() - t0)
    shutil.rmtree(path, ignore_errors=True)  # 33 MB; pytest keeps its last 3 temp folders


@pytest.fixture(scope="session")
def samba_dc(
    samba_template: SambaTemplate, test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SambaDC]:
    """The Samba AD DC (strong auth required: the default), see the module docstring."""
    dc = start_dc(tmp_path_factory.mktemp("samba-dc") / "dc", samba_template.path, test_ca, strong_auth=True)
    dc.timings["provision"] = samba_template.seconds
    try:
        yield dc
    finally:
        dc.stop()


@pytest.fixture(scope="session")
def samba_dc_plain(
    samba_template: SambaTemplate, test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SambaDC]:
    """A second DC, same accounts, `ldap server require strong auth = no`: simple binds
    over plain LDAP (389, 3268) are accepted."""
    dc = start_dc(
        tmp_path_factory.mktemp("samba-plain") / "dc", samba_template.path, test_ca, strong_auth=False
    )
    try:
        yield dc
    finally:
        dc.stop()
