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
from typing import Any, NoReturn

from ..core.kuma_api import (
    ALERT_STATUSES,
    CLOSE_REASONS,
    IncidentStore,
    KumaConnection,
    KumaError,
    KumaNotReady,
    alert_row,
    close_alert,
    receive_alerts,
)
from .main import CheckFailed, fail, open_ws, print_json

EXIT_CODES = "Exit status: 0 success; 1 the request failed or KUMA refused it; 2 usage or configuration error"


def request_failed(exc: KumaError, as_json: bool) -> NoReturn:
    """A configuration problem exits 2 (through main); a failed request prints its message
    (and its JSON form with --json) and exits 1."""
    if isinstance(exc, KumaNotReady):
        raise exc
    if as_json:
        print_json(exc.public())
    print(f"xdrconf: {exc}", file=sys.stderr)
    raise CheckFailed


def check_timeout(value: float | None) -> None:
    if value is not None and not 0 < value <= 600:
        fail("--timeout: give seconds between 0 and 600")


def cmd_alerts(args: argparse.Namespace) -> int:
    words = args.words
    if words[0] == "close" and len(words) > 1:
        if len(words) != 3:
            fail(
                "alerts close: give TENANT and ALERT_ID: xdrconf alerts close TENANT ALERT_ID --reason REASON"
            )
        if args.status is not None:
            fail("--status belongs to 'xdrconf alerts TENANT', not to 'alerts close'")
        if args.reason is None:
            fail("alerts close: --reason is required, one of: " + ", ".join(f'"{r}"' for r in CLOSE_REASONS))
        return close(args, words[1], words[2])
    if len(words) != 1:
        fail(
            "give one TENANT (xdrconf alerts TENANT), "
            "or: xdrconf alerts close TENANT ALERT_ID --reason REASON"
        )
    if args.reason is not None:
        fail("--reason belongs to 'xdrconf alerts close TENANT ALERT_ID'")
    return receive(args, words[0])


def receive(args: argparse.Namespace, tenant_ref: str) -> int:
    check_timeout(args.timeout)
    status = args.status or "new"
    with open_ws(args, write=False) as ws:
        conn = KumaConnection.open(ws, tenant_ref, timeout=args.timeout)
        store = IncidentStore.for_tenant(ws, conn.tenant_id)
    try:
        result = receive_alerts(conn, status)
    except KumaError as exc:
        request_failed(exc, args.json)
    summary = store.merge(result)
    if args.json:
        print_json(
            {"ok": True, "tenant": conn.tenant_path, "summary": summary.public(), "alerts": result.alerts}
        )
        return 0
    print(summary.message())
    rows = [alert_row(a) for a in result.alerts]
    if rows:
        print_table(rows)
    return 0


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = (
        ("id", "ID"),
        ("severity", "SEVERITY"),
        ("status", "STATUS"),
        ("first_seen", "FIRST SEEN"),
        ("last_seen", "LAST SEEN"),
        ("events", "EVENTS"),
        ("name", "NAME"),
    )
    widths = {k: max(len(title), *(len(str(r[k])) for r in rows)) for k, title in cols}
    print("  ".join(title.ljust(widths[k]) for k, title in cols).rstrip())
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k, _ in cols).rstrip())


def close(args: argparse.Namespace, tenant_ref: str, alert_id: str) -> int:
    check_timeout(args.timeout)
    with open_ws(args, write=False) as ws:
        conn = KumaConnection.open(ws, tenant_ref, timeout=args.timeout)
        store = IncidentStore.for_tenant(ws, conn.tenant_id)
    try:
        message = close_alert(conn, alert_id, args.reason)
    except KumaError as exc:
        request_failed(exc, args.json)
    store.mark_closed(alert_id.strip(), args.reason)
    if args.json:
        print_json(
            {
                "ok": True,
                "tenant": conn.tenant_path,
                "id": alert_id.strip(),
                "reason": args.reason,
                "message": message,
            }
        )
    else:
        print(message)
    return 0


def register(sub: Any, common: argparse.ArgumentParser, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        sub,
        "alerts",
        cmd_alerts,
        "KUMA incidents: receive the alerts of a tenant with their events (all pages), "
        "or close one with a reason",
    )
    p.usage = (
        "xdrconf alerts TENANT [--status {new,assigned,closed,escalated}] [--json]\n"
        "       xdrconf alerts close TENANT ALERT_ID --reason REASON [--json]"
    )
    p.epilog = (
        "REASON is one of: "
        + ", ".join(f'"{r}"' for r in CLOSE_REASONS)
        + ". Receiving again says how many alerts are new and how many changed since "
        "the last time. " + EXIT_CODES + "."
    )
    p.add_argument("words", nargs="+", metavar="TENANT | close TENANT ALERT_ID")
    p.add_argument("--status", choices=ALERT_STATUSES, help="alerts with this status (default: new)")
    p.add_argument("--reason", choices=CLOSE_REASONS, metavar="REASON", help="why the alert is closed")
    p.add_argument("--json", action="store_true", help="print JSON (alerts with their events)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per request (default: the app's)")
