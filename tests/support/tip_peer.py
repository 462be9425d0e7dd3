"""A Kaspersky TIP / OpenTIP-like portal: answers lookups as the documentation and public
clients describe them (shared/INTEGRATIONS.md): 200 with a Zone and *GeneralInfo, 404 for
"no data", 400 bad parameters, 401 bad token, 403 quota or request limit exceeded."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from xdrconf.core.integrations.tip.lookup import OPENTIP_TOKEN_HEADER, PREMIUM_TOKEN_HEADER

from .echo import echoed
from .https_peer import HANG, Reply, Request

GOOD_TOKEN = "tip-token-Zm9vYmFy0123456789=="

SHA256_RED = "a5085e571857ec54cf9625050dfc29a195dad4d52bea9b69d3f22e33ed636525"
MD5_GREEN = "44d88612fea8a8f36de82e1278abb02f"

KNOWN: dict[tuple[str, str], dict[str, Any]] = {
    ("domain", "example.com"): {
        "Zone": "Green",
        "DomainGeneralInfo": {
            "Domain": "example.com",
            "FilesCount": 0,
            "UrlsCount": 3,
            "HitsCount": 1000,
            "Ipv4Count": 2,
            "Categories": [],
        },
    },
    # A good domain for lookups (example.com above is the product's own check value).
    ("domain", "good.example.invalid"): {
        "Zone": "Green",
        "DomainGeneralInfo": {
            "Domain": "good.example.invalid",
            "FilesCount": 0,
            "UrlsCount": 3,
            "HitsCount": 1000,
            "Ipv4Count": 2,
            "Categories": [],
        },
    },
    ("domain", "bad.example.invalid"): {
        "Zone": "Red",
        "DomainGeneralInfo": {
            "Domain": "bad.example.invalid",
            "HitsCount": 10,
            "Ipv4Count": 1,
            "CategoriesWithZone": [{"Name": "Phishing", "Zone": "Red"}],
        },
    },
    ("url", "https://bad.example.invalid/login.php"): {
        "Zone": "Red",
        "UrlGeneralInfo": {
            "Url": "https://bad.example.invalid/login.php",
            "Host": "bad.example.invalid",
            "Categories": ["Phishing"],
            "Ipv4Count": 1,
            "FilesCount": 0,
        },
    },
    ("ip", "8.8.8.8"): {
        "Zone": "Green",
        "IpGeneralInfo": {
            "Status": "known",
            "CountryCode": "US",
            "HitsCount": 100000,
            "FirstSeen": "2013-01-01T00:00:00Z",
            "Ip": "8.8.8.8",
            "Categories": ["Public DNS"],
        },
    },
    ("ip", "2001:4860:4860::8888"): {
        "Zone": "Green",
        "IpGeneralInfo": {"Status": "known", "CountryCode": "US", "Ip": "2001:4860:4860::8888"},
    },
    ("hash", SHA256_RED): {
        "Zone": "Red",
        "FileGeneralInfo": {
            "FileStatus": "Malware",
            "Sha256": SHA256_RED,
            "Size": 68,
            "Type": "com",
            "HitsCount": 5000,
        },
        "DetectionsInfo": [{"DetectionName": "EICAR-Test-File", "Zone": "Red"}],
    },
    ("hash", MD5_GREEN): {
        "Zone": "Green",
        "FileGeneralInfo": {"FileStatus": "Clean", "Md5": MD5_GREEN, "Size": 1024, "Type": "pe"},
    },
}


class TipPortal:
    """premium=False answers /api/v1/search/<type>?request=…, premium=True /api/<type>/<value>.
    mode: normal | quota | forbidden | ratelimit | badrequest | error500 | hang | slow | echo
    (refuses, echoing the token) | echo200 (answers with the token inside the verdict)."""

    def __init__(self, *, premium: bool = False, token: str = GOOD_TOKEN) -> None:
        self.premium = premium
        self.token = token
        self.mode = "normal"
        self.lookups: list[tuple[str, str]] = []

    def __call__(self, req: Request) -> Reply | object:
        if self.mode == "hang":
            return HANG
        if self.mode == "slow":
            return Reply(200, {"Zone": "Grey"}, delay=3.0)
        header = PREMIUM_TOKEN_HEADER if self.premium else OPENTIP_TOKEN_HEADER
        given = {k.lower(): v for k, v in req.headers.items()}.get(header.lower())
        if self.mode == "echo":
            return Reply(401, {"message": f"Authentication failed: {echoed(given or '')}"})
        if self.mode == "echo200" and given == self.token:
            return Reply(
                200, {"Zone": "Red", "DomainGeneralInfo": {"Domain": echoed(given), "Categories": [given]}}
            )
        if given != self.token:
            return Reply(401, {"message": "Authentication failed"})
        if self.mode == "quota":
            return Reply(403, "Quota exceeded for this API key", {"Content-Type": "text/plain"})
        if self.mode == "forbidden":
            return Reply(403, {"message": "Access denied"})
        if self.mode == "ratelimit":
            return Reply(429, {"message": "Too many requests"})
        if self.mode == "badrequest":
            return Reply(400, {"message": "Invalid request parameters"})
        if self.mode == "error500":
            return Reply(500, {"message": "Internal error"})
        parsed = self._parse(req)
        if parsed is None:
            return Reply(404, {"message": "Not found"})
        kind, value = parsed
        if not value:
            return Reply(400, {"message": "request parameter is missing"})
        self.lookups.append((kind, value))
        data = KNOWN.get((kind, value.lower() if kind != "url" else value))
        if data is None:
            return Reply(404, {"message": "No data"})
        return Reply(200, data)

    def _parse(self, req: Request) -> tuple[str, str] | None:
        parts = req.path.strip("/").split("/", 2)
        if self.premium:
            if len(parts) == 3 and parts[0] == "api" and parts[1] in ("hash", "ip", "domain", "url"):
                return parts[1], unquote(parts[2])
            return None
        if len(parts) == 3 and parts[:2] == ["api", "v1"] and parts[2].startswith("search/"):
            kind = parts[2].split("/", 1)[1]
            if kind in ("hash", "ip", "domain", "url"):
                return kind, (req.query.get("request") or [""])[0]
        return None
