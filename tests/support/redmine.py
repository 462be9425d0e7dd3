"""A real Redmine on 127.0.0.1 for tests (Debian's redmine + redmine-sqlite + ruby-webrick).

One Redmine per test session (fixture `redmine`, session scope). What it is made of:

- A private copy of /usr/share/redmine (15 MB, < 1 s) as Rails.root, whose instance
  directory ``instances/default`` holds its own database.yml, SQLite database, secret, tmp and
  log, and whose Gemfile.local adds webrick. Nothing of the system's Redmine is written to, so
  two test sessions can run at once.
- The database is a copy (SQLite backup API) of the one the package migrated and filled with
  the default data; when that is not readable, the copy is migrated and filled here (slower).
- ``redmine_peer.rb`` boots Rails once, seeds the data below in the same process (no separate
  `rails runner`: that would cost a second Rails boot) and serves the application on three
  listeners of one process: ``https_url`` (TLS, certificate from the tests' CA),
  ``http_url`` (plain HTTP) and ``prefix_url`` (TLS, Redmine only under ``/redmine``; the
  root of that port answers 404, as behind a reverse proxy that maps /redmine).
- Settings are changed through Redmine's own Setting model in the running process
  (`setting()`, `rest_api()`, `rest_api_off()`); the next request sees the change.

Seeded data (keys of `users` / `projects`):
- users: ``admin`` (Debian's admin; must change the password at first login, the API key works
  nonetheless), ``member`` (role xdr-reporter: view_issues, add_issues, add_issue_notes in
  alerts, notrack and restricted), ``viewer`` (role xdr-viewer: view_issues only, in alerts),
  ``outsider`` (no membership), ``limited`` (role xdr-bug-reporter in alerts: view_issues, and
  add_issues for the tracker Bug only, which /roles/<id>.json does not show). All but admin
  have the password
  `Redmine.password`.
- projects (private unless said): ``alerts`` = soc-alerts (issue tracking, trackers Bug and
  Feature), ``notrack`` = soc-notrack (no issue_tracking module), ``restricted`` =
  soc-restricted (only tracker Support), ``public`` = soc-public (public, tracker Bug; the
  built-in Non member role may add issues there).
- REST API on, login not required.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import sqlite3
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .pki import TestCA

if TYPE_CHECKING:
    from xdrconf.core.workspace import Workspace

SHARE = Path("/usr/share/redmine")
SYSTEM_DB = Path("/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default")
SYSTEM_LOCK = Path("/var/lib/redmine/Gemfile.lock")
PEER_SCRIPT = Path(__file__).with_name("redmine_peer.rb")
START_TIMEOUT = 180.0  # two shared cores: a Rails boot can be slow when the machine is busy
COMMAND_TIMEOUT = 30.0
PREFIX = "/redmine"
# Links into the system's instance, and files this module writes itself.
NOT_COPIED = {SHARE: {"instances", "Gemfile.lock", "Gemfile.local"}, SHARE / "config": {"database.yml"}}

GEMFILE_LOCAL = """\
# Written by tests/support/redmine.py: the test Redmine is served by WEBrick.
gem "webrick" unless dependencies.any? { |d| d.name == "webrick" }
gem "sqlite3" unless dependencies.any? { |d| d.name == "sqlite3" }
"""


def available() -> str | None:
    """None when a Redmine can run here, else why not."""
    if not (SHARE / "config" / "application.rb").exists():
        return f"{SHARE} is missing (apt-get install redmine redmine-sqlite ruby-webrick)"
    if not shutil.which("ruby"):
        return "ruby is missing (apt-get install redmine)"
    if not any(Path("/usr/share/rubygems-integration/all/specifications").glob("webrick-*")):
        return "webrick is missing (apt-get install ruby-webrick)"
    return None


@dataclass(frozen=True)
class RedmineUser:
    login: str
    id: int
    api_key: str
    admin: bool


@dataclass(frozen=True)
class RedmineProject:
    identifier: str
    id: int
    name: str
    trackers: tuple[str, ...]
    modules: tuple[str, ...]
    public: bool


class Redmine:
    """A real Redmine served from `directory`, with TLS from `ca`."""

    def __init__(self, directory: Path, ca: TestCA) -> None:
        self.dir = Path(directory)
        self.ca = ca
        self.root = self.dir / "root"
        self.instance = self.root / "instances" / "default"
        self.db_path = self.instance / "db" / "redmine.sqlite3"
        self.stderr_path = self.dir / "redmine.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._lock = threading.Lock()
        self.facts: dict[str, Any] = {}
        self.users: dict[str, RedmineUser] = {}
        self.projects: dict[str, RedmineProject] = {}
        self.roles: dict[str, int] = {}
        self.trackers: dict[str, int] = {}
        self.password = ""
        self.version = ""
        self.ports: dict[str, int] = {}
        self.migrated_here = False
        self.timings: dict[str, float] = {}

    # -- addresses -------------------------------------------------------------------------
    host = "127.0.0.1"

    @property
    def https_url(self) -> str:
        return f"https://{self.host}:{self.ports['https']}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.ports['http']}"

    @property
    def prefix_url(self) -> str:
        return f"https://{self.host}:{self.ports['prefix']}{PREFIX}"

    @property
    def ca_path(self) -> Path:
        return self.ca.cert_path

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the server with the tests' CA only (as a user-supplied CA would)."""
        return ssl.create_default_context(cafile=str(self.ca.cert_path))

    # -- life cycle --------------------------------------------------------------------------
    def _prepare(self) -> None:
        t0 = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(SHARE, self.root, symlinks=True, ignore=lambda d, _: NOT_COPIED.get(Path(d), set()))
        for sub in ("config", "tmp", "log", "files", "db"):
            (self.instance / sub).mkdir(parents=True, exist_ok=True)
        (self.instance / "config" / "database.yml").write_text(
            "production:\n"
            "  adapter: sqlite3\n"
            f"  database: {json.dumps(str(self.db_path))}\n"
            "  encoding: utf8\n"
            "  timeout: 10000\n"
        )
        secret = self.instance / "config" / "secret_key.txt"
        secret.write_text(secrets.token_hex(32) + "\n")
        secret.chmod(0o600)
        (self.root / "Gemfile.local").write_text(GEMFILE_LOCAL)
        if os.access(SYSTEM_LOCK, os.R_OK):
            shutil.copyfile(SYSTEM_LOCK, self.root / "Gemfile.lock")
        self.timings["copy"] = time.monotonic() - t0
        t0 = time.monotonic()
        if not self._copy_system_db():
            self._migrate()
        self.timings["database"] = time.monotonic() - t0

    def _copy_system_db(self) -> bool:
        """Copies the package's migrated database; False when it is absent or unreadable."""
        if not os.access(SYSTEM_DB, os.R_OK):
            return False
        src = sqlite3.connect(f"file:{SYSTEM_DB}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"schema_migrations", "trackers", "users"} <= tables:
                return False
            if src.execute("SELECT COUNT(*) FROM trackers").fetchone()[0] == 0:
                return False
            dst = sqlite3.connect(self.db_path)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        return True

    def _ruby_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BUNDLE_", "GEM_", "RUBY"))}
        env.update(
            RAILS_ENV="production",
            BUNDLE_GEMFILE=str(self.root / "Gemfile"),
            REDMINE_LANG="en",
            HOME=str(self.dir),
        )
        env.pop("REDMINE_INSTANCE", None)
        env.pop("X_DEBIAN_SITEID", None)
        env.pop("RAILS_RELATIVE_URL_ROOT", None)
        return env

    def _migrate(self) -> None:
        """Migrates an empty database and loads the default data, as the package's postinst
        does (two rake runs: in one, the models would not see the columns just added)."""
        self.migrated_here = True
        self.db_path.unlink(missing_ok=True)
        for task, done in (
            ("db:migrate", ""),
            ("redmine:load_default_data", "Default configuration data loaded."),
        ):
            r = subprocess.run(
                ["ruby", "bin/rake", task],
                cwd=self.root,
                env=self._ruby_env() | {"SCHEMA": "/dev/null"},
                capture_output=True,
                text=True,
                timeout=600,
            )
            if r.returncode != 0 or done not in r.stdout:
                raise RuntimeError(
                    f"rake {task} failed in the test Redmine:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
                )

    def start(self) -> Redmine:
        t_start = time.monotonic()
        self._prepare()
        leaf = self.ca.issue()
        config = self.dir / "peer.json"
        config.write_text(
            json.dumps(
                {
                    "root": str(self.root),
                    "cert": str(leaf.cert_path),
                    "key": str(leaf.key_path),
                    "log": str(self.dir / "webrick.log"),
                }
            )
        )
        t0 = time.monotonic()
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                ["ruby", str(PEER_SCRIPT), str(config)],
                cwd=self.root,
                env=self._ruby_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        try:
            kind, payload = self._reply(time.monotonic() + START_TIMEOUT)
            if kind != "READY":
                raise RuntimeError(f"unexpected first line from Redmine: {kind} {payload}")
        except Exception:
            self.stop()
            raise
        self.timings["boot"] = time.monotonic() - t0
        self.timings["total"] = time.monotonic() - t_start
        self._load_facts(json.loads(payload))
        return self

    def _load_facts(self, facts: dict[str, Any]) -> None:
        self.facts = facts
        self.password = facts["password"]
        self.version = facts["version"]
        self.ports = {k: int(v) for k, v in facts["ports"].items()}
        self.roles = dict(facts["roles"])
        self.trackers = dict(facts["trackers"])
        self.users = {k: RedmineUser(**v) for k, v in facts["users"].items()}
        self.projects = {
            k: RedmineProject(
                v["identifier"],
                v["id"],
                v["name"],
                tuple(v["trackers"]),
                tuple(v["modules"]),
                v["public"],
            )
            for k, v in facts["projects"].items()
        }

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def _reply(self, deadline: float) -> tuple[str, str]:
        """The next line Redmine writes on stdout, split into its word and payload."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"Redmine did not answer in time; its stderr:\n{self._stderr_tail()}")
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    code = self.proc.wait(5)
                    raise RuntimeError(f"Redmine exited ({code}); its stderr:\n{self._stderr_tail()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        kind, _, payload = line.decode().strip().partition(" ")
        return kind, payload

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # end of stdin: the peer shuts its servers down
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def rss_kb(self) -> int:
        """Resident memory of the Redmine process in kB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    # -- settings ----------------------------------------------------------------------------
    def setting(self, name: str, value: str) -> str:
        """Sets a Redmine setting in the running Redmine; returns the value it now has."""
        with self._lock:
            if self.proc is None or self.proc.stdin is None:
                raise RuntimeError("Redmine is not running")
            line = json.dumps({"cmd": "setting", "name": name, "value": value}) + "\n"
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
            kind, payload = self._reply(time.monotonic() + COMMAND_TIMEOUT)
        if kind != "OK":
            raise RuntimeError(f"setting {name} failed: {payload}")
        return str(json.loads(payload)["value"])

    def rest_api(self, enabled: bool) -> None:
        """Administration → Settings → API → "Enable REST web service", on or off."""
        self.setting("rest_api_enabled", "1" if enabled else "0")

    @contextlib.contextmanager
    def rest_api_off(self) -> Iterator[Redmine]:
        """The REST API off for the block; on again afterwards, whatever happens."""
        self.rest_api(False)
        try:
            yield self
        finally:
            self.rest_api(True)

    def _admin_get(self, path: str, **params: Any) -> dict[str, Any]:
        """A REST answer read with the admin key, to see what the tests made Redmine do."""
        import httpx

        with httpx.Client(base_url=self.https_url, verify=self.ssl_context(), timeout=30) as c:
            r = c.get(path, params=params, headers={"X-Redmine-API-Key": self.users["admin"].api_key})
            r.raise_for_status()
            answer: dict[str, Any] = r.json()
            return answer

    def issues_in(self, project: str) -> int:
        """How many issues the project holds (every status)."""
        return int(self._admin_get("/issues.json", project_id=project, status_id="*", limit=1)["total_count"])

    def read_issue(self, number: int) -> dict[str, Any]:
        issue: dict[str, Any] = self._admin_get(f"/issues/{number}.json")["issue"]
        return issue

    def __enter__(self) -> Redmine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def redmine(test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redmine]:
    """One real Redmine for the whole session (REST API on); skipped where none can run."""
    why = available()
    if why:
        pytest.skip(why)
    server = Redmine(tmp_path_factory.mktemp("redmine"), test_ca)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redmine_rest_off(redmine: Redmine) -> Iterator[Redmine]:
    """The session's Redmine with its REST API switched off for one test (restored after)."""
    with redmine.rest_api_off():
        yield redmine


def configure(
    ws: Workspace,
    redmine: Redmine,
    url: str,
    who: str = "member",
    *,
    tenant: str = "Acme",
    key: str | None = None,
    ca: bool = True,
    **values: Any,
) -> str:
    """Turns Redmine on for `tenant` (added when missing) with `who`'s key (or `key`) and
    project soc-alerts unless `values` says otherwise; the tenant's id."""
    from xdrconf.core.workspace import IntegrationEdit  # as kuma_peer: xdrconf when used

    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    settings: dict[str, Any] = {"url": url, "project": "soc-alerts", **values}
    if ca:
        settings["tls_ca"] = redmine.ca.cert_pem
    ws.update_integration(
        tenant,
        IntegrationEdit(
            "redmine", values=settings, secrets={"api_key": key or redmine.users[who].api_key}, enabled=True
        ),
    )
    return ws.tenant(tenant).id
