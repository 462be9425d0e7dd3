"""KUMA REST API: the SOAR connector's peer. Wire facts: shared/INTEGRATIONS.md."""

from __future__ import annotations

from typing import Any

from ...catalog import IntegrationSpec, Page
from ...engine import Operation, check_operation
from ...fields import Field
from ...i18n import N_
from ..common import TRUST_FIELDS, trust_page
from . import api, tenants
from .api import ALERT_STATUSES
from .commands import CLOSE_REASONS, parse_commands

DEFAULT_PORT = 7223
API_VERSIONS = ("v1", "v2", "v2.1", "v3")

FIELDS = (
    Field(
        "host",
        N_("KUMA Core host"),
        kind="host",
        required=True,
        help=N_("Host name or IP address of the KUMA Core server, e.g. kuma.example.invalid."),
        placeholder="kuma.example.invalid",
    ),
    Field(
        "port",
        N_("Port"),
        kind="port",
        required=True,
        default=DEFAULT_PORT,
        help=N_("Port of the KUMA REST API (7223 by default)."),
    ),
    Field(
        "api_version",
        N_("API version"),
        kind="choice",
        required=True,
        default="v1",
        choices=tuple((v, v) for v in API_VERSIONS),
        help=N_("v1 is available on every KUMA release; v2, v2.1 and v3 on newer ones."),
    ),
    Field(
        "token",
        N_("API token"),
        kind="secret",
        header=True,
        required=True,
        help=N_(
            "The token created in KUMA (Settings → Users → API token). It is shown once by "
            "KUMA and is kept here in the secret store only."
        ),
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
    title=N_("KUMA REST API"),
    description=N_(
        "The KUMA REST API, used by the SOAR connector to receive new alerts with "
        "their events and to close alerts with a reason."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("KUMA REST API — connection"),
            N_("Where the KUMA Core server's REST API listens (kuma.example.invalid:7223)."),
            ("host", "port", "api_version"),
        ),
        Page(
            N_("KUMA REST API — token"),
            N_("The API token is kept in the secret store, never in the settings file."),
            ("token",),
        ),
        trust_page(N_("the KUMA Core server (KUMA signs it with its own CA)")),
    ),
    operations=(
        check_operation(api.check),
        Operation(
            "receive",
            N_("Receive incidents"),
            api.receive,
            params=(
                Field(
                    "status",
                    N_("Status"),
                    kind="choice",
                    default="new",
                    choices=tuple((s, s) for s in ALERT_STATUSES),
                    help=N_("Which alerts to receive (the connector receives 'new')."),
                ),
            ),
            description=N_(
                "Receive the alerts with their events, every page, as the SOAR connector "
                "does; receiving again says how many are new and how many changed."
            ),
            columns=(("id", N_("ID")), ("status", N_("Status")), ("name", N_("Name"))),
        ),
        Operation(
            "close",
            N_("Close incident"),
            api.close,
            params=(
                Field(
                    "id",
                    N_("Alert ID"),
                    required=True,
                    parser=api.parse_alert_id,
                    help=N_("The ID of the alert."),
                ),
                Field(
                    "reason",
                    N_("Reason"),
                    kind="choice",
                    required=True,
                    choices=tuple((r, r) for r in CLOSE_REASONS),
                    parser=api.parse_reason,
                    help=N_("Why the alert is closed."),
                ),
            ),
            description=N_("Close an alert in KUMA with a reason (for everyone)."),
            changes_peer=True,
        ),
        Operation(
            "command",
            N_("Run a connector command"),
            api.run_command,
            params=(
                Field(
                    "name", N_("Command"), required=True, help=N_("The name of one of the tenant's commands.")
                ),
            ),
            extra_params=N_("a value for each placeholder of the command, e.g. 'Alert ID=…'"),
            description=N_("Send one of the tenant's KUMA connector commands and show KUMA's answer."),
            changes_peer=True,
            offer=api.command_offer,
            columns=(
                ("method", N_("Method")),
                ("url", N_("URL")),
                ("http_status", N_("HTTP status")),
                ("reason", N_("Reason")),
                ("content_type", N_("Content type")),
                ("elapsed_ms", N_("Time (ms)")),
                ("truncated", N_("Answer cut short")),
            ),
        ),
        tenants.OPERATION,
    ),
    validate=validate_commands,
    target_fields=("host", "port"),
    structured_keys=("commands",),
    structured_resets_check=False,
)
