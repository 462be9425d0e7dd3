"""A KUMA-like REST API peer, answering as KUMA's documentation says (shared/INTEGRATIONS.md)."""

from __future__ import annotations

from typing import Any

from .https_peer import HANG, Reply, Request

GOOD_TOKEN = "kuma-token-0123456789abcdef"


class KumaApi:
    """State of the fake KUMA: tokens, alerts, and switches for failure modes."""

    def __init__(self, token: str = GOOD_TOKEN) -> None:
        self.tokens = {token: {"id": "u-1", "name": "SOAR connector", "login": "soar",
                               "email": "soar@example.com",
                               "tenants": [{"id": "t-1", "name": "Main", "role": "tenant admin"},
                                           {"id": "t-2", "name": "Branch", "role": "analyst"}]}}
        self.mode = "normal"  # normal | error500 | notjson | hang
        self.alerts: list[dict[str, Any]] = []

    def __call__(self, req: Request) -> Reply | object:
        if self.mode == "hang":
            return HANG
        if self.mode == "error500":
            return Reply(500, {"message": "internal error"})
        auth = req.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return Reply(400, {"message": "invalid authorization header"})
        user = self.tokens.get(auth[len("Bearer "):])
        if user is None:
            return Reply(403, {"message": "access denied"})
        parts = req.path.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "api" and parts[2:] == ["users", "whoami"]:
            if self.mode == "notjson":
                return Reply(200, "<html>hello</html>", {"Content-Type": "text/html"})
            return Reply(200, user)
        return self.other(req, parts)

    def other(self, req: Request, parts: list[str]) -> Reply | object:
        return Reply(404, {"message": "not found"})
