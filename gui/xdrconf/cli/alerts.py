"""`xdrconf alerts`: the KUMA connector's "Receive incidents" and "Close incident" (seed 000).

    xdrconf alerts TENANT [--status new|assigned|closed|escalated] [--json]
    xdrconf alerts close TENANT ALERT_ID --reason "responded"|"incorrect data"|"incorrect correlation rule"

Both forms share one parser: the first word is either a tenant or `close` followed by a
tenant and an alert ID (a tenant really called "close" still works in the first form).
Exit status: 0 success; 1 the request failed or KUMA refused it (the message says which;
with --json the error object is printed too); 2 usage or configuration error (unknown
tenant, KUMA not set up, no token stored, keyring unavailable)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from xdrconf.core.i18n import N_, _

from ..core.integrations.kuma.api import ALERT_STATUSES
from ..core.integrations.kuma.commands import CLOSE_REASONS
from ..core.integrations.kuma.incidents import alert_row
from ..core.outcome import Outcome
from .common import CheckFailed, fail, print_json
from .operations import print_table, run_one

EXIT_CODES = N_(
    "Exit status: 0 success; 1 the request failed or KUMA refused it; 2 usage or configuration error"
)


def run_kuma(
    args: argparse.Namespace, op: str, tenant: str, params: dict[str, str], *, confirmed: bool = False
) -> Outcome:
    """Run one KUMA operation; a configuration problem (nothing sent) exits 2, a failed
    request prints its message (and its JSON form with --json) and exits 1."""
    [outcome] = run_one(args, "kuma", op, tenant, params, confirmed=confirmed)
    if outcome.ok:
        return outcome
    if outcome.refused:
        fail(outcome.message)
    if args.json:
        print_json(error_json(outcome))
    print(f"xdrconf: {outcome.message}", file=sys.stderr)
    raise CheckFailed


def error_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "ok": False,
        "category": outcome.category.value,
        "code": outcome.details.get("code") or outcome.category.value,
        "http_status": outcome.details.get("http_status"),
        "message": outcome.message,
    }


def cmd_alerts(args: argparse.Namespace) -> int:
    words = args.words
    if words[0] == "close" and len(words) > 1:
        if len(words) != 3:
            fail(
                _(
                    "alerts close: give TENANT and ALERT_ID: xdrconf alerts close TENANT ALERT_ID "
                    "--reason REASON"
                )
            )
        if args.status is not None:
            fail(_("--status belongs to 'xdrconf alerts TENANT', not to 'alerts close'"))
        if args.reason is None:
            fail(
                _("alerts close: --reason is required, one of: {reasons}").format(
                    reasons=", ".join(f'"{r}"' for r in CLOSE_REASONS)
                )
            )
        return close(args, words[1], words[2])
    if len(words) != 1:
        fail(
            _(
                "give one TENANT (xdrconf alerts TENANT), "
                "or: xdrconf alerts close TENANT ALERT_ID --reason REASON"
            )
        )
    if args.reason is not None:
        fail(_("--reason belongs to 'xdrconf alerts close TENANT ALERT_ID'"))
    return receive(args, words[0])


def receive(args: argparse.Namespace, tenant_ref: str) -> int:
    outcome = run_kuma(args, "receive", tenant_ref, {"status": args.status or "new"})
    data = outcome.data
    if args.json:
        print_json({"ok": True, "tenant": outcome.tenant, "summary": data["summary"], "alerts": data["rows"]})
        return 0
    print(outcome.message)
    rows = [alert_row(a) for a in data["rows"]]
    if rows:
        print_table(
            rows,
            (
                ("id", _("ID")),
                ("severity", _("Severity")),
                ("status", _("Status")),
                ("first_seen", _("First seen")),
                ("last_seen", _("Last seen")),
                ("events", _("Events")),
                ("name", _("Name")),
            ),
        )
    return 0


def close(args: argparse.Namespace, tenant_ref: str, alert_id: str) -> int:
    # The command itself is the explicit request to close: no --yes as well.
    outcome = run_kuma(args, "close", tenant_ref, {"id": alert_id, "reason": args.reason}, confirmed=True)
    if args.json:
        print_json(
            {
                "ok": True,
                "tenant": outcome.tenant,
                "id": outcome.data["id"],
                "reason": outcome.data["reason"],
                "message": outcome.message,
            }
        )
    else:
        print(outcome.message)
    return 0


def register(sub: Any, common: argparse.ArgumentParser, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        sub,
        "alerts",
        cmd_alerts,
        _(
            "KUMA incidents: receive the alerts of a tenant with their events (all pages), "
            "or close one with a reason"
        ),
    )
    p.usage = (
        _("xdrconf alerts {tenant} [--status {statuses}] [--json]").format(
            tenant=_("TENANT"), statuses="{" + ",".join(ALERT_STATUSES) + "}"
        )
        + "\n       "
        + _("xdrconf alerts close {tenant} {alert_id} --reason {reason} [--json]").format(
            tenant=_("TENANT"), alert_id=_("ALERT_ID"), reason=_("REASON")
        )
    )
    p.epilog = (
        _(
            "REASON is one of: {reasons}. Receiving again says how many alerts are new and how many "
            "changed since the last time."
        ).format(reasons=", ".join(f'"{r}"' for r in CLOSE_REASONS))
        + " "
        + EXIT_CODES
        + "."
    )
    p.add_argument(
        "words",
        nargs="+",
        metavar=_("{tenant} | close {tenant} {alert_id}").format(tenant=_("TENANT"), alert_id=_("ALERT_ID")),
    )
    p.add_argument("--status", choices=ALERT_STATUSES, help=_("alerts with this status (default: new)"))
    p.add_argument("--reason", choices=CLOSE_REASONS, metavar=_("REASON"), help=_("why the alert is closed"))
    p.add_argument("--json", action="store_true", help=_("print JSON (alerts with their events)"))
    p.add_argument("--timeout", metavar=_("SECONDS"), help=_("per request (default: the app's)"))
