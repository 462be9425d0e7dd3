"""A UserGate NGFW management API for tests: XML-RPC over plain HTTP at `/rpc` on a random
loopback port, answering as the public clients of the API show it (shared/INTEGRATIONS.md,
"UserGate NGFW"; KUMA-Community/usergate_response ug.py; usergate/Migrations utm.py).

Methods:
- `v2.core.node.status()` needs no login → `{"status": node_status}` [doc].
- `v2.core.login(login, password, {"origin": …})` → `{"auth_token", "node", "version"}` [doc];
  a wrong login or password → Fault `WRONG_PASSWORD_FAULT` [inferred: no source names it].
- `v2.core.session.ping(token)` → True [doc]; `v2.core.logout(token)` → True [doc: the call;
  inferred: its result].
- `v2.nlists.list(token, type, start, limit, filters)` → `{"count", "items": [{"id", "name",
  "type", "editable", …}]}` [doc]. `filters={"search": text}` [doc: ug.py] matches names that
  *contain* the text, case-insensitively [inferred], so a client must compare names itself.
  IP lists have type "network" [doc]; other types are empty here.
- `v2.nlists.list.list(token, list_id, start, limit, filters)` → the list's items [doc];
  an unknown id → Fault `NOT_FOUND_FAULT` (404) [doc: 7 and 404 are both seen].
- A session unused for `session_timeout` seconds (read from `clock`) → Fault 104 "session
  timed out" on its next call [doc: the code; inferred: the timeout is an idle one]. A token
  the box never issued or already logged out → Fault `BAD_TOKEN_FAULT` [inferred].
- A call outside the account's `permissions` → Fault `no_permission_code` (5 by default;
  102 is the other documented one) [doc].

Knobs (constructor): `users` {login: password}; `permissions` {login: API areas such as
"core", "nlists"} (an account missing there has every area); `ip_lists` {name: [addresses]};
`session_timeout`; `clock` (e.g. support.peer_common.ManualClock); `node_status` ("work");
`version`, `node`; `no_permission_code`; `allowed_clients` — the zone's "XML-RPC for
management" access restricted to these addresses (None: allowed from everywhere), a caller
outside it is treated as `denied_as` says [inferred, see DENIED_AS]; `host` ("127.0.0.1" or
"::1").

Recorded: `calls` (RpcCall: method, params, client address; params include the password as
sent), `denied_connections` (caller addresses), `open_sessions`, `logins`, `logouts`.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any, Literal
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from .peer_common import AllowList, Clock, Session, SessionCounts, Sessions

# ---- [inferred] behaviour: no public source confirms these; change them here ---------------
WRONG_PASSWORD_FAULT = (2, "Authentication failed: wrong login or password")
BAD_TOKEN_FAULT = (104, "Session is not found or has timed out")
# How a caller is treated when the zone's access control does not allow XML-RPC management
# from its address (undocumented): "reset" accepts the TCP connection and resets it (RST)
# before reading a byte — what a client sees as "connection reset by peer"; "close" closes it
# cleanly without an answer. A per-address "connection refused" cannot be made with a
# listening socket, so it is not offered.
DENIED_AS: Literal["reset", "close"] = "reset"
DEFAULT_SESSION_TIMEOUT = 1800.0  # seconds of idleness before Fault 104
# ---- [doc] ----------------------------------------------------------------------------------
SESSION_TIMED_OUT_FAULT = (104, "Session timed out")
NOT_FOUND_FAULT = (404, "Not found")
NO_PERMISSION_CODE = 5  # 5 and 102: no permission or no license
DEFAULT_VERSION = "7.1.1.12345R"  # four dot-separated parts, as utm.py parses it

USER = "xdr-api"
PASSWORD = "Ug-pa$$ <&> word"


@dataclass
class RpcCall:
    method: str
    params: tuple[Any, ...]
    client: str


class _Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/rpc",)
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> Any:
        return self.server.peer._call(self.client_address[0], method, params)


class _Server(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr: tuple[str, int], family: int, peer: UserGatePeer) -> None:
        self.address_family = family
        self.peer = peer
        super().__init__(addr, requestHandler=_Handler, logRequests=False, allow_none=True)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return self.peer._admit(request, client_address[0])

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class UserGatePeer(SessionCounts):
    """Start with `with UserGatePeer() as ug:`; `ug.url`, `ug.port`, `ug.open_sessions`."""

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        ip_lists: Mapping[str, list[str]] | None = None,
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        clock: Clock = time.monotonic,
        node_status: str = "work",
        version: str = DEFAULT_VERSION,
        node: str = "utmcore@ngfw-test",
        no_permission_code: int = NO_PERMISSION_CODE,
        allowed_clients: Iterable[str] | None = None,
        denied_as: Literal["reset", "close"] = DENIED_AS,
        host: str = "127.0.0.1",
    ) -> None:
        self.users = dict(users if users is not None else {USER: PASSWORD})
        self.permissions = {k: set(v) for k, v in (permissions or {}).items()}
        self.ip_lists = {name: list(items) for name, items in (ip_lists or {}).items()}
        self.sessions = Sessions(session_timeout, clock)
        self.node_status = node_status
        self.version = version
        self.node = node
        self.no_permission_code = no_permission_code
        self.allowed = AllowList(allowed_clients)
        self.denied_as = denied_as
        self.host = host
        self.calls: list[RpcCall] = []
        self.denied_connections: list[str] = []
        self._lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.server = _Server((host, 0), family, self)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._methods: dict[str, Callable[..., Any]] = {
            "v2.core.node.status": self._node_status,
            "v2.core.login": self._login,
            "v2.core.session.ping": self._ping,
            "v2.core.logout": self._logout,
            "v2.nlists.list": self._nlists_list,
            "v2.nlists.list.list": self._nlist_items,
        }

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/rpc"

    def methods_called(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def __enter__(self) -> UserGatePeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- connection admission (zone access control) ------------------------------------------
    def _admit(self, conn: socket.socket, client: str) -> bool:
        if self.allowed.allows(client):
            return True
        with self._lock:
            self.denied_connections.append(client)
        if self.denied_as == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()  # with linger 0: RST, not FIN
        return False

    # ---- dispatch --------------------------------------------------------------------------------
    def _call(self, client: str, method: str, params: tuple[Any, ...]) -> Any:
        with self._lock:
            self.calls.append(RpcCall(method, tuple(params), client))
        fn = self._methods.get(method)
        if fn is None:
            raise xmlrpc.client.Fault(1, f'method "{method}" is not supported')
        try:
            return fn(*params)
        except TypeError as exc:
            raise xmlrpc.client.Fault(1, f"invalid parameters: {exc}") from None

    def _session(self, token: Any, area: str) -> Session:
        found = self.sessions.lookup(token if isinstance(token, str) else None)
        if found == "expired":
            raise xmlrpc.client.Fault(*SESSION_TIMED_OUT_FAULT)
        if not isinstance(found, Session):
            raise xmlrpc.client.Fault(*BAD_TOKEN_FAULT)
        allowed = self.permissions.get(found.user)
        if allowed is not None and area not in allowed:
            raise xmlrpc.client.Fault(self.no_permission_code, "Access denied: no permission")
        return found

    # ---- methods ---------------------------------------------------------------------------------
    def _node_status(self) -> dict[str, Any]:
        return {"status": self.node_status}

    def _login(self, login: str, password: str, params: Any = None) -> dict[str, Any]:
        if self.users.get(login) != password:
            raise xmlrpc.client.Fault(*WRONG_PASSWORD_FAULT)
        origin = params.get("origin") if isinstance(params, dict) else None
        s = self.sessions.open(login, origin=origin)
        return {"auth_token": s.token, "node": self.node, "version": self.version}

    def _ping(self, token: Any) -> bool:
        self._session(token, "core")
        return True

    def _logout(self, token: Any) -> bool:
        self._session(token, "core")
        self.sessions.close(token)
        return True

    def _named_lists(self, list_type: str) -> list[dict[str, Any]]:
        if list_type != "network":
            return []
        return [
            {
                "id": n,
                "name": name,
                "description": "",
                "type": "network",
                "editable": True,
                "url": "",
                "list_type_update": "static",
            }
            for n, name in enumerate(self.ip_lists, start=1)
        ]

    def _nlists_list(
        self, token: Any, list_type: str, start: int, limit: int, filters: Any = None
    ) -> dict[str, Any]:
        self._session(token, "nlists")
        found = self._named_lists(list_type)
        search = filters.get("search") if isinstance(filters, dict) else None
        if search:
            found = [x for x in found if str(search).lower() in x["name"].lower()]
        return {"count": len(found), "items": found[start : start + limit]}

    def _nlist_items(
        self, token: Any, list_id: Any, start: int, limit: int, filters: Any = None, sort: Any = None
    ) -> dict[str, Any]:
        self._session(token, "nlists")
        by_id = {x["id"]: x["name"] for x in self._named_lists("network")}
        if list_id not in by_id:
            raise xmlrpc.client.Fault(*NOT_FOUND_FAULT)
        items = [
            {"id": f"{list_id}.{k}", "value": v} for k, v in enumerate(self.ip_lists[by_id[list_id]], start=1)
        ]
        return {"count": len(items), "items": items[start : start + limit]}
