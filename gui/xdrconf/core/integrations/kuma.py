"""KUMA REST API: the SOAR connector's peer. Wire facts: shared/INTEGRATIONS.md."""

from __future__ import annotations

import time
from typing import Any

from ..catalog import IntegrationSpec, Page
from ..checks import CheckContext, failure, missing_secret_result
from ..fields import Field, host_for_url, host_port
from ..net import classify_status, error_message_of
from ..outcome import Category, CheckResult
from .common import TRUST_FIELDS, trust_page

DEFAULT_PORT = 7223
API_VERSIONS = ("v1", "v2", "v2.1", "v3")

FIELDS = (
    Field(
        "host",
        "KUMA Core host",
        kind="host",
        required=True,
        help="Host name or IP address of the KUMA Core server, e.g. kuma.example.com.",
        placeholder="kuma.example.com",
    ),
    Field(
        "port",
        "Port",
        kind="port",
        required=True,
        default=DEFAULT_PORT,
        help="Port of the KUMA REST API (7223 by default).",
    ),
    Field(
        "api_version",
        "API version",
        kind="choice",
        required=True,
        default="v1",
        choices=tuple((v, v) for v in API_VERSIONS),
        help="v1 is available on every KUMA release; v2, v2.1 and v3 on newer ones.",
    ),
    Field(
        "token",
        "API token",
        kind="secret",
        required=True,
        help="The token created in KUMA (Settings → Users → API token). It is shown once by "
        "KUMA and is kept here in the OS keyring only.",
    ),
    *TRUST_FIELDS,
)


def base_url(settings: dict[str, Any]) -> str:
    return (
        f"https://{host_for_url(settings['host'])}:{settings['port']}/api/{settings.get('api_version', 'v1')}"
    )


def target(settings: dict[str, Any]) -> str:
    return host_port(settings["host"], settings["port"])


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def check(ctx: CheckContext) -> list[CheckResult]:
    s = ctx.settings
    where = target(s)
    token = ctx.secret("token")
    if not token:
        return [missing_secret_result("API token", "KUMA REST API")]
    if not token.isascii():
        return [
            CheckResult(
                Category.INVALID_CONFIG,
                "API token: contains characters that cannot be sent in an HTTP header; "
                "paste the token exactly as KUMA showed it.",
                where,
            )
        ]
    started = time.monotonic()
    try:
        with ctx.client(s["host"]) as client:
            response = client.get(f"{base_url(s)}/users/whoami", headers=auth_headers(token))
    except Exception as exc:  # noqa: BLE001 - classified into one category
        return [failure(exc, where, ctx)]
    latency = (time.monotonic() - started) * 1000
    said = error_message_of(response)
    if response.status_code == 200:
        try:
            data = response.json()
            login = str(data["login"])
            tenants = [str(t.get("name", t.get("id", "?"))) for t in data.get("tenants") or []]
        except (ValueError, KeyError, TypeError, AttributeError):
            return [
                CheckResult(
                    Category.PROTOCOL_ERROR,
                    f"{where} answered 200 but not with KUMA's user description (JSON with a login); "
                    "check that host and port point to the KUMA REST API.",
                    where,
                    latency,
                )
            ]
        reach = ", ".join(tenants) if tenants else "no tenants"
        return [
            CheckResult(
                Category.OK,
                f"Connected: the token belongs to '{login}' and reaches {len(tenants)} KUMA tenant(s): "
                f"{reach}.",
                where,
                latency,
                details={"login": login, "name": data.get("name", ""), "tenants": tenants},
            )
        ]
    if response.status_code == 403:
        return [
            CheckResult(
                Category.AUTH_FAILED,
                "KUMA refused the token (403 access denied): it is unknown, expired, or its user is "
                "disabled; create a new token in KUMA and replace it here.",
                where,
                latency,
            )
        ]
    if response.status_code == 400:
        return [
            CheckResult(
                Category.AUTH_FAILED,
                f"KUMA could not read the Authorization header (400){': ' + said if said else ''}; "
                "paste the token again exactly as KUMA showed it.",
                where,
                latency,
            )
        ]
    category, message = classify_status(response.status_code, where, said)
    return [CheckResult(category, message, where, latency)]


def validate_commands(settings: dict[str, Any], _ctx: Any) -> None:
    """The connector commands (receive, close per reason, custom) kept under "commands";
    their model and rules live in core.kuma_api."""
    if "commands" in settings:
        from ..kuma_api import parse_commands

        parse_commands(settings["commands"])


SPEC = IntegrationSpec(
    kind="kuma",
    title="KUMA REST API",
    description="The KUMA REST API, used by the SOAR connector to receive new alerts with "
    "their events and to close alerts with a reason.",
    fields=FIELDS,
    pages=(
        Page(
            "KUMA REST API — connection",
            "Where the KUMA Core server's REST API listens (kuma.example.com:7223).",
            ("host", "port", "api_version"),
        ),
        Page(
            "KUMA REST API — token",
            "The API token is kept in the OS keyring, never in the settings file.",
            ("token",),
        ),
        trust_page("the KUMA Core server (KUMA signs it with its own CA)"),
    ),
    check=check,
    validate=validate_commands,
    structured_keys=("commands",),
    structured_resets_check=False,
)
