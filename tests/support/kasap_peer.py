"""A KASAP OpenAPI-like peer: GET /openapi/v1/groups with a Bearer token (shared/INTEGRATIONS.md)."""

from __future__ import annotations

from .echo import echoed
from .https_peer import HANG, Reply, Request

GOOD_TOKEN = "kasap-token-6a1f0c29b7e84d7f"


class KasapApi:
    """prefix: the path part of the OpenAPI URL KASAP shows (e.g. '/company/42').
    mode: normal | expired | ratelimit | notjson | hang | echo (refuses, echoing the token) |
    echo200 (lists a group named after the token)."""

    def __init__(self, token: str = GOOD_TOKEN, prefix: str = "") -> None:
        self.token = token
        self.prefix = prefix.rstrip("/")
        self.mode = "normal"
        self.groups = [
            {"id": "g-1", "name": "Accounting"},
            {"id": "g-2", "name": "Sales"},
            {"id": "g-3", "name": "IT department"},
        ]

    def __call__(self, req: Request) -> Reply | object:
        if self.mode == "hang":
            return HANG
        auth = req.headers.get("Authorization", "")
        if self.mode == "echo":
            return Reply(401, {"message": f"Unauthorized: {echoed(auth[7:])}"})
        if self.mode == "echo200" and auth[7:] == self.token:
            return Reply(200, [*self.groups, {"id": auth[7:], "name": echoed(auth[7:])}])
        if not auth.startswith("Bearer ") or auth[7:] != self.token:
            return Reply(401, {"message": "Unauthorized"})
        if self.mode == "expired":
            return Reply(403, {"message": "Token expired"})
        if self.mode == "ratelimit":
            return Reply(429, {"message": "Too Many Requests"})
        if req.method == "GET" and req.path == f"{self.prefix}/openapi/v1/groups":
            if self.mode == "notjson":
                return Reply(200, "<html>login</html>", {"Content-Type": "text/html"})
            return Reply(200, self.groups)
        return Reply(404, {"message": "Not found"})
