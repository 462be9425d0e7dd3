"""A KUMA-like REST API peer, answering as KUMA's documentation says (shared/INTEGRATIONS.md)."""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any

from .echo import echoed
from .https_peer import HANG, Reply, Request

GOOD_TOKEN = "kuma-token-0123456789abcdef"
PAGE_SIZE = 250  # KUMA's page size for GET alerts and GET tenants [doc]
CLOSE_REASONS = ("responded", "incorrect data", "incorrect correlation rule")
_EPOCH = _dt.datetime(2026, 11, 20, 8, 0, tzinfo=_dt.UTC)


def rfc3339(minutes: int) -> str:
    return (_EPOCH + _dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_tenant(
    n: int, *, name: str | None = None, main: bool = False, shared: bool = False
) -> dict[str, Any]:
    """A tenant as KUMA's GET tenants returns it [doc: KUMA 3.x REST API, "Tenant search"]."""
    return {
        "id": f"7e1a0000-0000-4000-9000-{n:012d}",
        "name": name if name is not None else f"Customer {n:04d}",
        "main": main,
        "shared": shared,
        "description": f"KUMA tenant number {n}",
        "eps": 10 * n,
        "epsLimit": 100000,
        "created": 1763625600000 + n,
        "updated": 1763625600000 + n,
    }


def make_alert(
    n: int, *, events: int = 2, status: str = "new", tenant: str = "t-1", priority: str = "high"
) -> dict[str, Any]:
    """An alert as KUMA's GET alerts returns it, with its normalized events attached."""
    alert_id = f"00000000-0000-4000-8000-{n:012d}"
    return {
        "id": alert_id,
        "tenantID": tenant,
        "tenantName": "Main" if tenant == "t-1" else "Branch",
        "name": f"Brute force on host-{n}",
        "correlationRuleID": "r-1",
        "correlationRuleName": "Brute force",
        "priority": priority,
        "status": status,
        "firstSeen": rfc3339(n),
        "lastSeen": rfc3339(n + 5),
        "assignee": "",
        "closingReason": "",
        "overflow": False,
        "events": [
            {
                "event": {
                    "ID": f"{alert_id}-e{k}",
                    "Timestamp": int((_EPOCH.timestamp() + n * 60 + k) * 1000),
                    "Name": f"Logon failure {k}",
                    "SourceAddress": f"10.0.{n % 250}.{k + 1}",
                    "DestinationAddress": "127.1.0.5",
                    "DeviceVendor": "Microsoft",
                    "DeviceProduct": "Windows",
                    "TenantID": tenant,
                },
                "comment": "",
                "linkedAt": rfc3339(n + k),
            }
            for k in range(events)
        ],
    }


class KumaApi:
    """State of the fake KUMA: tokens, alerts, and switches for failure modes."""

    def __init__(self, token: str = GOOD_TOKEN) -> None:
        self.tokens = {
            token: {
                "id": "u-1",
                "name": "SOAR connector",
                "login": "soar",
                "email": "soar@example.invalid",
                "tenants": [
                    {"id": "t-1", "name": "Main", "role": "tenant admin"},
                    {"id": "t-2", "name": "Branch", "role": "analyst"},
                ],
            }
        }
        # normal | error500 | notjson | hang | ignore_page | echo (refuses, echoing the
        # token) | echo200 (answers with the token inside the user description)
        self.mode = "normal"
        self.alerts: list[dict[str, Any]] = []
        self.can_close = True  # False: the token's user has no right to close (403)
        self.disabled_tenants: set[str] = set()  # alerts of these tenants answer 406
        self.close_reasons = CLOSE_REASONS  # what this KUMA accepts; others answer 400
        # GET tenants: KUMA's main and shared tenants, then those added by add_tenants.
        self.tenants: list[dict[str, Any]] = [
            make_tenant(0, name="Main", main=True),
            make_tenant(1, name="Shared", shared=True),
        ]
        self.tenant_pages: list[int] = []  # the page numbers asked for, in order
        self.delays: dict[str, float] = {}  # token -> seconds this KUMA waits before answering it

    def __call__(self, req: Request) -> Reply | object:
        if self.mode == "hang":
            return HANG
        if self.mode == "error500":
            return Reply(500, {"message": "internal error"})
        auth = req.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return Reply(400, {"message": "invalid authorization header"})
        token = auth[len("Bearer ") :]
        time.sleep(self.delays.get(token, 0.0))
        if self.mode == "echo":
            return Reply(403, {"message": f"access denied: {echoed(token)}"})
        user = self.tokens.get(token)
        if user is None:
            return Reply(403, {"message": "access denied"})
        if self.mode == "echo200":
            user = {**user, "name": echoed(token), "tenants": [{"id": "t-1", "name": token}]}
        parts = req.path.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "api" and parts[2:] == ["users", "whoami"]:
            if self.mode == "notjson":
                return Reply(200, "<html>hello</html>", {"Content-Type": "text/html"})
            return Reply(200, user)
        return self.other(req, parts)

    def other(self, req: Request, parts: list[str]) -> Reply | object:
        route = parts[2:] if len(parts) >= 3 and parts[0] == "api" else []
        if route == ["alerts"] and req.method == "GET":
            return self.list_alerts(req)
        if route == ["alerts", "close"] and req.method == "POST":
            return self.close(req)
        if route == ["tenants"] and req.method == "GET":
            return self.list_tenants(req)
        return Reply(404, {"message": "not found"})

    def add_tenants(self, count: int, *, start: int = 2, **kw: Any) -> list[dict[str, Any]]:
        made = [make_tenant(n, **kw) for n in range(start, start + count)]
        self.tenants.extend(made)
        return made

    def list_tenants(self, req: Request) -> Reply:
        """GET /api/<v>/tenants: 250 a page (page from 1; 400 for a bad one); filters id
        (repeatable), name (case-insensitive regular expression), main (present = true) [doc]."""
        import re

        try:
            page = int(req.query.get("page", ["1"])[0])
        except ValueError:
            return Reply(400, {"message": "invalid page"})
        if page < 1:
            return Reply(400, {"message": "invalid page"})
        self.tenant_pages.append(page)
        if self.mode == "ignore_page":
            page = 1
        ids = set(req.query.get("id", []))
        names = req.query.get("name", [])
        found = [
            t
            for t in self.tenants
            if (not ids or t["id"] in ids)
            and (not names or re.search(names[0], t["name"], re.IGNORECASE))
            and ("main" not in req.query or t["main"])
        ]
        return Reply(200, found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])

    def add_alerts(self, count: int, *, start: int = 1, **kw: Any) -> list[dict[str, Any]]:
        made = [make_alert(n, **kw) for n in range(start, start + count)]
        self.alerts.extend(made)
        return made

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        return next((a for a in self.alerts if a["id"] == alert_id), None)

    def list_alerts(self, req: Request) -> Reply:
        """GET /api/<v>/alerts: 250 a page (page from 1), status and id filters (repeatable,
        OR), events only with the bare withEvents flag [doc]."""
        try:
            page = int(req.query.get("page", ["1"])[0])
        except ValueError:
            return Reply(400, {"message": "invalid page"})
        if self.mode == "ignore_page":
            page = 1
        statuses = set(req.query.get("status", []))
        ids = set(req.query.get("id", []))
        found = [
            a
            for a in self.alerts
            if (not statuses or a["status"] in statuses) and (not ids or a["id"] in ids)
        ]
        chunk = found[(max(page, 1) - 1) * PAGE_SIZE : max(page, 1) * PAGE_SIZE]
        with_events = "withEvents" in req.query
        return Reply(
            200, [a if with_events else {k: v for k, v in a.items() if k != "events"} for a in chunk]
        )

    def close(self, req: Request) -> Reply:
        """POST /api/<v>/alerts/close {"id", "reason"}: 204; 400 id/reason missing or invalid
        reason; 403; 404 alert not found; 406 tenant disabled or alert already closed [doc]."""
        try:
            body = req.json()
        except ValueError:
            return Reply(400, {"message": "invalid request body"})
        if not isinstance(body, dict) or not body.get("id") or not body.get("reason"):
            return Reply(400, {"message": "id and reason are required"})
        if body["reason"] not in self.close_reasons:
            return Reply(400, {"message": "invalid reason"})
        if not self.can_close:
            return Reply(403, {"message": "access denied"})
        alert = self.alert(str(body["id"]))
        if alert is None:
            return Reply(404, {"message": "alert not found"})
        if alert["tenantID"] in self.disabled_tenants:
            return Reply(406, {"message": "tenant disabled"})
        if alert["status"] == "closed":
            return Reply(406, {"message": "alert already closed"})
        alert["status"] = "closed"
        alert["closingReason"] = body["reason"]
        return Reply(204, b"")


# ---- fixtures for the connector tests (registered by tests/conftest.py) -------------------------
import pytest  # noqa: E402


def configure(
    ws: Any,
    port: int,
    *,
    ca: str | None = None,
    pin: str | None = None,
    token: str | None = GOOD_TOKEN,
    tenant: str = "Acme",
    host: str = "127.0.0.1",
    enabled: bool = True,
) -> str:
    """Set up the tenant's KUMA integration against a peer on loopback (turned on when a
    token is given and `enabled`); returns the tenant id."""
    from xdrconf.core.workspace import IntegrationEdit

    if tenant not in [t.name for t in ws.tree.walk_all()]:
        ws.add_tenant(tenant)
    values = {"host": host, "port": str(port)}
    if ca is not None:
        values["tls_ca"] = ca
    if pin is not None:
        values["tls_pin_sha256"] = pin
    ws.update_integration(
        tenant,
        IntegrationEdit(
            "kuma", values=values, secrets={"token": token} if token else {}, enabled=enabled and bool(token)
        ),
    )
    return ws.tenant(tenant).id


@pytest.fixture
def kuma(server_cert):
    """A KUMA-like HTTPS peer; its state is `kuma.api` (a KumaApi)."""
    from .https_peer import HttpsPeer

    api = KumaApi()
    with HttpsPeer(api, cert=server_cert) as peer:
        peer.api = api
        yield peer


@pytest.fixture
def kuma_cli(cli, kuma, test_ca, tmp_path):
    """Tenant 'Acme' set up through the command line against the `kuma` peer."""
    ca = tmp_path / "kuma-ca.pem"
    ca.write_text(test_ca.cert_pem)
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "integration",
        "set",
        "Acme",
        "kuma",
        "host=127.0.0.1",
        f"port={kuma.port}",
        f"tls_ca=@{ca}",
        "--secret",
        "token",
        stdin=GOOD_TOKEN + "\n",
    )
    assert r.code == 0, r
    return kuma


def configure_fast_and_slow(
    ws: Any, kuma: Any, ca: str, prefix: str, *, fast: int = 20, slow: int = 10, slow_delay: float = 1.0
) -> None:
    """fast + slow tenants ({prefix}00, {prefix}01, ...), each with a token of its own that the
    peer accepts; the peer answers the last `slow` of them after slow_delay seconds."""
    for i in range(fast + slow):
        token = f"{prefix.lower()}-{i:02d}"
        kuma.api.tokens[token] = kuma.api.tokens[GOOD_TOKEN]
        kuma.api.delays[token] = 0.0 if i < fast else slow_delay
        configure(ws, kuma.port, tenant=f"{prefix}{i:02d}", token=token, ca=ca)
