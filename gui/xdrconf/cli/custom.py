"""`xdrconf custom …`: SSH key helpers for the custom integration.

- `custom key-info FILE`: type and SHA256 fingerprint of a public key (as `ssh-keygen -lf`),
  or the reason it is refused.
- `custom pin TENANT`: pin the host key that the last check saw with verification off,
  after showing its fingerprint (compare it with what the host's administrator says)."""

from __future__ import annotations

import argparse
from typing import Any

from ..core.errors import ValidationError
from ..core.workspace import IntegrationEdit
from .main import fail, open_ws, print_json, read_value_file


def cmd_key_info(args: argparse.Namespace) -> int:
    from ..core.sshkeys import parse_public_key

    text = read_value_file("Public key", args.file)
    try:
        info = parse_public_key(text, "Public key")
    except ValidationError as exc:
        fail(str(exc))
    if args.json:
        print_json({"type": info.key_type, "bits": info.bits, "fingerprint": info.fingerprint,
                    "line": info.line, "comment": info.comment})
    else:
        print(info.keygen_line())
    return 0


def cmd_pin(args: argparse.Namespace) -> int:
    from ..core.sshkeys import parse_public_key

    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        state = ws.integration(tenant, "custom")
        seen = next((r.get("details", {}).get("seen_host_key") for r in reversed(state.results)
                     if r.get("details", {}).get("seen_host_key")), None)
        if not seen:
            fail("no host key has been seen yet; run 'xdrconf check TENANT custom' with "
                 "verify_host=false first, or set host_public_key=@FILE")
        info = parse_public_key(seen, "Seen host key")
        print(f"Host key seen by the last check: {info.describe()}")
        if not args.yes:
            fail("compare this fingerprint with the one the host's administrator reads with "
                 "'ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub', then run again with --yes to pin it")
        ws.update_integration(tenant.id, IntegrationEdit(
            "custom", values={"verify_host": "true", "host_public_key": info.line}))
        print(f"Pinned; host verification is on for '{ws.tree.path(tenant.id)}'.")
    return 0


def register(sub: Any, common: argparse.ArgumentParser, add: Any) -> None:
    custom = sub.add_parser("custom", help="custom integration: SSH host key helpers", parents=[common])
    csub = custom.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add(csub, "key-info", cmd_key_info,
            "show the type and SHA256 fingerprint of an OpenSSH public key file (as ssh-keygen -lf), "
            "or why it is refused")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p = add(csub, "pin", cmd_pin,
            "pin the host key seen by the last check (made with verification off)")
    p.add_argument("tenant")
    p.add_argument("--yes", action="store_true", help="pin without asking again")
