"""KUMA REST API: the SOAR connector's peer. Wire facts: shared/INTEGRATIONS.md."""

from __future__ import annotations

from typing import Any

from ...catalog import IntegrationSpec, Page
from ...engine import Operation, check_operation
from ...fields import Field
from ..common import TRUST_FIELDS, trust_page
from . import api, tenants
from .api import ALERT_STATUSES
from .commands import CLOSE_REASONS, parse_commands

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
        header=True,
        required=True,
        help="The token created in KUMA (Settings → Users → API token). It is shown once by "
        "KUMA and is kept here in the OS keyring only.",
    ),
    *TRUST_FIELDS,
)


def validate_commands(settings: dict[str, Any], _ctx: Any) -> None:
    """The connector commands (receive, close per reason, custom) kept under "commands";
    their model and rules live in kuma.commands."""
    if "commands" in settings:
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
    operations=(
        check_operation(api.check),
        Operation(
            "receive",
            "Receive incidents",
            api.receive,
            params=(
                Field(
                    "status",
                    "Status",
                    kind="choice",
                    default="new",
                    choices=tuple((s, s) for s in ALERT_STATUSES),
                    help="Which alerts to receive (the connector receives 'new').",
                ),
            ),
            description="Receive the alerts with their events, every page, as the SOAR connector "
            "does; receiving again says how many are new and how many changed.",
            columns=(("id", "ID"), ("status", "Status"), ("name", "Name")),
        ),
        Operation(
            "close",
            "Close incident",
            api.close,
            params=(
                Field(
                    "id", "Alert ID", required=True, parser=api.parse_alert_id, help="The ID of the alert."
                ),
                Field(
                    "reason",
                    "Reason",
                    kind="choice",
                    required=True,
                    choices=tuple((r, r) for r in CLOSE_REASONS),
                    parser=api.parse_reason,
                    help="Why the alert is closed.",
                ),
            ),
            description="Close an alert in KUMA with a reason (for everyone).",
            changes_peer=True,
        ),
        Operation(
            "command",
            "Run a connector command",
            api.run_command,
            params=(
                Field("name", "Command", required=True, help="The name of one of the tenant's commands."),
            ),
            extra_params="a value for each placeholder of the command, e.g. 'Alert ID=…'",
            description="Send one of the tenant's KUMA connector commands and show KUMA's answer.",
            changes_peer=True,
            offer=api.command_offer,
            columns=(
                ("method", "Method"),
                ("url", "URL"),
                ("http_status", "HTTP status"),
                ("reason", "Reason"),
                ("content_type", "Content type"),
                ("elapsed_ms", "Time (ms)"),
                ("truncated", "Answer cut short"),
            ),
        ),
        tenants.OPERATION,
    ),
    validate=validate_commands,
    target_fields=("host", "port"),
    structured_keys=("commands",),
    structured_resets_check=False,
)
