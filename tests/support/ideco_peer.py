"""An Ideco NGFW / Ideco UTM web API for tests: HTTPS with a certificate the test gives (one
from the test CA, or a self-signed one to pin), JSON, session cookies, answering as Ideco's
public documentation says (shared/INTEGRATIONS.md "Ideco NGFW / Ideco UTM"; ideco-team/docsUTM
api/README.md and api/description-of-handlers.md).

- `POST <login path>` `{"login", "password", "rest_path"}` → 200 and two cookies,
  `insecure-ideco-session=<uuid>` and `__Secure-ideco-<uuid>=<uuid>:<unix time>`, with
  `Path=<rest_path>` [doc]. `variant="utm"` also requires `"recaptcha"` (the v13 docs send
  `""`) [doc]; without it → `MISSING_FIELD_STATUS` [inferred]. A wrong login or password →
  401 [doc: the status list] with `WRONG_PASSWORD_BODY` [inferred: the body is undocumented].
- `login_path`: `LOGIN_PATH` ("/web/auth/login", the UTM and current docs) or `LOGIN_PATH_2024`
  ("/web/admin/auth/login", the NGFW docs for a while in 2024) [doc]; the other one answers 404
  [inferred]. `DELETE <login path>` logs out and expires both cookies [doc].
- Every other call needs both cookies [doc]; without them, or after logout or the idle
  `session_timeout`, → 401 `NOT_AUTHENTICATED_BODY` [doc: 401; inferred: body, that both
  cookies are checked, and that the timeout is an idle one].
- `GET /firewall/status` → `[{"name", "status", "msg": [..]}]` [doc]; `firewall_status` sets it.
- `max_sessions` logins at once per account; one more → `TOO_MANY_SESSIONS` [inferred: Ideco
  documents no such limit or answer].

Knobs: `cert` (support.pki Issued), `variant` ("ngfw" | "utm"), `login_path`, `users`
{login: password} (logins such as "admin@ad_domain" are plain names here), `session_timeout`,
`clock`, `max_sessions`, `firewall_status`, `host`.
Recorded: `requests` (every HTTP request, as HttpsPeer), `login_bodies` (parsed JSON of each
login attempt), `open_sessions`, `logins`, `logouts`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from .https_peer import HttpsPeer, Reply, Request
from .peer_common import Clock, Session, SessionCounts, Sessions

LOGIN_PATH = "/web/auth/login"  # [doc]
LOGIN_PATH_2024 = "/web/admin/auth/login"  # [doc: docsUTM history, 2024]
SESSION_COOKIE = "insecure-ideco-session"  # [doc]
SECURE_COOKIE_PREFIX = "__Secure-ideco-"  # [doc]
# ---- [inferred] behaviour: no public source confirms these; change them here ---------------
WRONG_PASSWORD_BODY = {"message": "Invalid login or password"}
NOT_AUTHENTICATED_BODY = {"message": "Authentication required"}
MISSING_FIELD_STATUS = 542  # the documented "validation rejected the body" status
TOO_MANY_SESSIONS = Reply(400, {"message": "Too many active sessions for this administrator"})
DEFAULT_SESSION_TIMEOUT = 1800.0

USER = "xdr-api"
PASSWORD = 'Id3co-pa$$ "quoted"'
DEFAULT_STATUS = [
    {"name": "rules-in-kernel", "status": "active", "msg": []},
    {"name": "auto-snat", "status": "active", "msg": []},
]


class IdecoPeer(SessionCounts, HttpsPeer):
    """Start with `with IdecoPeer(cert) as box:`; `box.port`, `box.open_sessions`."""

    def __init__(
        self,
        cert: Any,
        *,
        variant: Literal["ngfw", "utm"] = "ngfw",
        login_path: str = LOGIN_PATH,
        users: Mapping[str, str] | None = None,
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        clock: Clock = time.monotonic,
        max_sessions: int | None = None,
        firewall_status: list[dict[str, Any]] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(self._route, cert=cert, host=host)
        self.variant = variant
        self.login_path = login_path
        self.users = dict(users if users is not None else {USER: PASSWORD})
        self.sessions = Sessions(session_timeout, clock, max_per_user=max_sessions)
        self.firewall_status = list(firewall_status if firewall_status is not None else DEFAULT_STATUS)
        self.login_bodies: list[Any] = []

    def _route(self, req: Request) -> Reply:
        if req.path in (LOGIN_PATH, LOGIN_PATH_2024) and req.path != self.login_path:
            return Reply(404, {"message": "Not Found"})
        if req.path == self.login_path and req.method == "POST":
            return self._login(req)
        session = self._session(req)
        if session is None:
            return Reply(401, NOT_AUTHENTICATED_BODY)
        if req.path == self.login_path and req.method == "DELETE":
            self.sessions.close(session.token)
            return Reply(
                200,
                b"",
                {
                    "Set-Cookie": [
                        f'{SESSION_COOKIE}=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; '
                        f"Path={session.info['path']}",
                        f'{session.info["secure_name"]}=""; HttpOnly; Max-Age=0; Path=/; '
                        "SameSite=Strict; Secure",
                    ]
                },
            )
        if req.path == "/firewall/status" and req.method == "GET":
            return Reply(200, self.firewall_status)
        if req.path in (self.login_path, "/firewall/status"):
            return Reply(405, {"message": "Method Not Allowed"})
        return Reply(404, {"message": "Not Found"})

    def _login(self, req: Request) -> Reply:
        try:
            body = req.json()
        except ValueError:
            body = None
        self.login_bodies.append(body)
        if not isinstance(body, dict):
            return Reply(400, {"message": "Bad Request"})
        required = ["login", "password", "rest_path"] + (["recaptcha"] if self.variant == "utm" else [])
        missing = [k for k in required if not isinstance(body.get(k), str)]
        if missing:
            return Reply(MISSING_FIELD_STATUS, {"message": f"Missing fields: {', '.join(missing)}"})
        if self.users.get(body["login"]) != body["password"]:
            return Reply(401, WRONG_PASSWORD_BODY)
        if not self.sessions.can_open(body["login"]):
            return TOO_MANY_SESSIONS
        secure_name = f"{SECURE_COOKIE_PREFIX}{uuid.uuid4()}"
        secure_value = f"{uuid.uuid4()}:{int(time.time())}"
        s = self.sessions.open(
            body["login"],
            token=str(uuid.uuid4()),
            path=body["rest_path"],
            secure_name=secure_name,
            secure_value=secure_value,
        )
        return Reply(
            200,
            b"",
            {
                "Set-Cookie": [
                    f"{SESSION_COOKIE}={s.token}; Path={body['rest_path']}",
                    f"{secure_name}={secure_value}; HttpOnly; Path=/; SameSite=Strict; Secure",
                ]
            },
        )

    def _session(self, req: Request) -> Session | None:
        jar = dict(
            part.strip().partition("=")[::2]
            for part in (req.header("Cookie") or "").split(";")
            if "=" in part
        )
        token = jar.get(SESSION_COOKIE)
        if token is None:
            return None
        found = self.sessions.lookup(token)
        if not isinstance(found, Session):
            return None
        if jar.get(found.info["secure_name"]) != found.info["secure_value"]:
            return None
        return found
