"""A Check Point Management API server for tests: HTTPS (a certificate the test gives), JSON
commands at `POST /web_api/<command>` and `POST /web_api/v<version>/<command>`, answering as
the public API reference, the official SDK and public clients show it (shared/INTEGRATIONS.md
"Check Point Management API"; CheckPointSW/cp_mgmt_api_python_sdk).

- `login` with `{"user", "password"}` or `{"api-key"}`, optional `domain`, `read-only`,
  `session-timeout` (seconds) → `{"sid", "uid", "url", "session-timeout", "api-server-version",
  "read-only", "last-login-was-at"}` [doc]. Later commands send the sid as `X-chkp-sid` [doc].
- `logout` → `{"message": "OK"}` [doc]; `show-session`, `show-hosts`, `show-group {"name"}`
  (found, or `generic_err_object_not_found`), `show-api-versions` [doc: the commands; inferred:
  the exact fields beyond name/uid/type/members/objects/total].
- Errors are `{"code", "message"}` with the codes of the public schema [doc]. Login failures
  answer 400 [doc: `err_login_failed` "Authentication to server failed."]; the status of the
  other codes is in `STATUS` [inferred: the schema lists 400/401/403/404/409/500/501 for every
  command without saying which code goes with which; 429 for `err_too_many_requests` is not
  in that list].
- A wrong password answers `wrong_password_code`: "err_login_failed" by default [doc: public
  clients show it], or "err_login_failed_wrong_username_or_password" [doc: in the schema].
- Multi-Domain: `domains` names the domains; a login to any other → `UNKNOWN_DOMAIN` [doc:
  a public client saw err_login_failed "Authentication to server failed." for a wrong domain,
  i.e. indistinguishable from a wrong password].
- `max_sessions` per account; one more login → err_login_failed_more_than_one_opened_session
  [doc: the code; inferred: what triggers it].
- A session unused for its session-timeout (read from `clock`) → `EXPIRED_SESSION_CODE`; no
  X-chkp-sid → generic_err_missing_session_id; an sid never issued or logged out →
  generic_err_wrong_session_id [doc: the codes; inferred: which one an expired sid gets].
- `no_permission`: commands this account may not run → generic_err_no_permissions [doc].
- `rate_limit=(n, seconds)`: more than n requests within that window → err_too_many_requests
  [doc: the code; inferred: the window].

Knobs: `cert`, `users` {user: password}, `api_keys` {key: user}, `domains`, `groups`
{name: [member host names]}, `hosts` {name: ipv4}, `wrong_password_code`, `max_sessions`,
`no_permission`, `rate_limit`, `api_version`, `session_timeout` (default when the login asks
none), `clock`, `host`.
Recorded: `requests` (HttpsPeer), `read_only_requested` (the `read-only` value of each login,
None when absent), `login_bodies`, `commands` ((command, sid or None)), `open_sessions`,
`logins`, `logouts`.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from .https_peer import HttpsPeer, Reply, Request
from .peer_common import Clock, Session, SessionCounts, Sessions

API_VERSION = "1.9"
SUPPORTED_VERSIONS = ("1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9")
DEFAULT_SESSION_TIMEOUT = 600  # seconds [doc: what a login without session-timeout shows]
LOGIN_FAILED = "Authentication to server failed."  # [doc]
# ---- [inferred] behaviour: no public source confirms these; change them here ---------------
STATUS = {
    "err_login_failed": 400,  # [doc]
    "err_login_failed_wrong_username_or_password": 400,
    "err_login_failed_more_than_one_opened_session": 400,
    "generic_err_missing_session_id": 401,
    "generic_err_wrong_session_id": 401,
    "generic_err_session_expired": 401,
    "generic_err_no_permissions": 403,
    "generic_err_object_not_found": 404,
    "generic_err_command_not_found": 404,
    "err_unknown_api_version": 404,
    "generic_err_missing_required_parameters": 400,
    "generic_err_invalid_syntax": 400,
    "generic_err_invalid_parameter": 400,
    "err_too_many_requests": 429,
}
UNKNOWN_DOMAIN = ("err_login_failed", LOGIN_FAILED)  # [doc: one public client's observation]
EXPIRED_SESSION_CODE = "generic_err_session_expired"
SESSION_TIMEOUT_RANGE = (10, 3600)  # seconds a login may ask for

USER = "xdr-api"
PASSWORD = "Chkp-pa$$ 'w0rd'"
API_KEY = "cp-api-key-QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
_VERSIONED = re.compile(r"^/web_api/v([0-9][0-9.]*)/([a-z0-9-]+)$")
_PLAIN = re.compile(r"^/web_api/([a-z0-9-]+)$")


def error(code: str, message: str) -> Reply:
    return Reply(STATUS.get(code, 400), {"code": code, "message": message})


class CheckPointPeer(SessionCounts, HttpsPeer):
    """Start with `with CheckPointPeer(cert) as mgmt:`; `mgmt.port`, `mgmt.open_sessions`."""

    def __init__(
        self,
        cert: Any,
        *,
        users: Mapping[str, str] | None = None,
        api_keys: Mapping[str, str] | None = None,
        domains: Iterable[str] | None = None,
        groups: Mapping[str, list[str]] | None = None,
        hosts: Mapping[str, str] | None = None,
        wrong_password_code: str = "err_login_failed",
        max_sessions: int | None = None,
        no_permission: Iterable[str] = (),
        rate_limit: tuple[int, float] | None = None,
        api_version: str = API_VERSION,
        session_timeout: int = DEFAULT_SESSION_TIMEOUT,
        clock: Clock = time.monotonic,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(self._route, cert=cert, host=host)
        self.users = dict(users if users is not None else {USER: PASSWORD})
        self.api_keys = dict(api_keys if api_keys is not None else {API_KEY: USER})
        self.domains = set(domains or ())
        self.groups = {k: list(v) for k, v in (groups or {}).items()}
        self.hosts = dict(hosts or {})
        self.wrong_password_code = wrong_password_code
        self.no_permission = set(no_permission)
        self.rate_limit = rate_limit
        self.api_version = api_version
        self.clock = clock
        self.sessions = Sessions(float(session_timeout), clock, max_per_user=max_sessions)
        self.read_only_requested: list[Any] = []
        self.login_bodies: list[Any] = []
        self.commands: list[tuple[str, str | None]] = []
        self._recent: collections.deque[float] = collections.deque()

    def _uid(self, kind: str, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"checkpoint-peer/{kind}/{name}"))

    def _route(self, req: Request) -> Reply:
        m = _VERSIONED.match(req.path)
        plain = _PLAIN.match(req.path)
        command = m.group(2) if m else plain.group(1) if plain else None
        if command is None:
            return Reply(404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"})
        if self._rate_limited():
            return error("err_too_many_requests", "Too many requests, try again later")
        if req.method != "POST":
            return error("generic_err_command_not_found", f'Unknown command "{command}"')
        if m and m.group(1) not in SUPPORTED_VERSIONS:
            return error("err_unknown_api_version", f"Unknown API version: {m.group(1)}")
        try:
            body = req.json() if req.body else {}
        except ValueError:
            return error("generic_err_invalid_syntax", "Invalid JSON in the request body")
        if not isinstance(body, dict):
            return error("generic_err_invalid_syntax", "The request body must be a JSON object")
        sid = req.header("X-chkp-sid")
        self.commands.append((command, sid))
        if command == "login":
            return self._login(req, body)
        if sid is None:
            return error("generic_err_missing_session_id", "Missing header: [X-chkp-sid]")
        found = self.sessions.lookup(sid)
        if found == "expired":
            return error(EXPIRED_SESSION_CODE, "Session expired, please log in again")
        if not isinstance(found, Session):
            return error(
                "generic_err_wrong_session_id",
                "Wrong session id. Session may be expired. Please check session id and resend the request.",
            )
        if command in self.no_permission:
            return error(
                "generic_err_no_permissions", f"Administrator does not have permission to run {command}"
            )
        return self._command(command, body, found)

    def _rate_limited(self) -> bool:
        if self.rate_limit is None:
            return False
        limit, window = self.rate_limit
        now = self.clock()
        while self._recent and now - self._recent[0] >= window:
            self._recent.popleft()
        self._recent.append(now)
        return len(self._recent) > limit

    def _login(self, req: Request, body: dict[str, Any]) -> Reply:
        self.login_bodies.append(body)
        self.read_only_requested.append(body.get("read-only"))
        if "api-key" in body:
            user = self.api_keys.get(str(body["api-key"]))
        elif "user" in body and "password" in body:
            user = body["user"] if self.users.get(body["user"]) == body["password"] else None
        else:
            return error(
                "generic_err_missing_required_parameters",
                "Missing parameter: [user and password, or api-key]",
            )
        if "domain" in body and body["domain"] not in self.domains:
            return error(*UNKNOWN_DOMAIN)
        if user is None:
            return error(self.wrong_password_code, LOGIN_FAILED)
        if not self.sessions.can_open(user):
            return error(
                "err_login_failed_more_than_one_opened_session",
                "Login failed: the administrator already has an open session",
            )
        timeout = body.get("session-timeout", int(self.sessions.timeout))
        if (
            not isinstance(timeout, int)
            or isinstance(timeout, bool)
            or not (SESSION_TIMEOUT_RANGE[0] <= timeout <= SESSION_TIMEOUT_RANGE[1])
        ):
            return error(
                "generic_err_invalid_parameter",
                f"session-timeout must be {SESSION_TIMEOUT_RANGE[0]}-{SESSION_TIMEOUT_RANGE[1]} seconds",
            )
        read_only = body.get("read-only") is True
        s = self.sessions.open(
            user,
            timeout=float(timeout),
            read_only=read_only,
            domain=body.get("domain"),
            uid=str(uuid.uuid4()),
        )
        now = dt.datetime.now(dt.UTC)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return Reply(
            200,
            {
                "sid": s.token,
                "uid": s.info["uid"],
                "url": f"https://{host}:{self.port}/web_api",
                "session-timeout": int(timeout),
                "api-server-version": self.api_version,
                "read-only": read_only,
                "last-login-was-at": {
                    "posix": int(now.timestamp() * 1000),
                    "iso-8601": now.strftime("%Y-%m-%dT%H:%M%z"),
                },
            },
        )

    def _command(self, command: str, body: dict[str, Any], s: Session) -> Reply:
        if command == "logout":
            self.sessions.close(s.token)
            return Reply(200, {"message": "OK"})
        if command == "show-session":
            out: dict[str, Any] = {
                "uid": s.info["uid"],
                "type": "session",
                "state": "open",
                "user-name": s.user,
                "read-only": s.info["read_only"],
            }
            if s.info["domain"]:
                out["domain"] = {"name": s.info["domain"], "domain-type": "domain"}
            return Reply(200, out)
        if command == "show-api-versions":
            return Reply(
                200, {"current-version": self.api_version, "supported-versions": list(SUPPORTED_VERSIONS)}
            )
        if command == "show-hosts":
            objects = [self._host(name) for name in sorted(self.hosts)]
            offset, limit = int(body.get("offset", 0)), int(body.get("limit", 50))
            page = objects[offset : offset + limit]
            return Reply(
                200,
                {
                    "objects": page,
                    "from": offset + 1 if page else 0,
                    "to": offset + len(page),
                    "total": len(objects),
                },
            )
        if command == "show-group":
            name = body.get("name")
            if not isinstance(name, str):
                return error("generic_err_missing_required_parameters", "Missing parameter: [name or uid]")
            if name not in self.groups:
                return error("generic_err_object_not_found", f"Requested object [{name}] not found")
            return Reply(
                200,
                {
                    "uid": self._uid("group", name),
                    "name": name,
                    "type": "group",
                    "members": [self._host(h) for h in self.groups[name]],
                },
            )
        return error("generic_err_command_not_found", f'Unknown command "{command}"')

    def _host(self, name: str) -> dict[str, Any]:
        return {
            "uid": self._uid("host", name),
            "name": name,
            "type": "host",
            "ipv4-address": self.hosts.get(name, ""),
        }
