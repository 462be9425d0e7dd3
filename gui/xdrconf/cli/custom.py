"""`xdrconf custom …`: SSH key helpers for the custom integration.

- `custom key-info FILE`: type and SHA256 fingerprint of a public key (as `ssh-keygen -lf`),
  or the reason it is refused.
- `custom pin TENANT`: pin the host key that the last check saw with verification off,
  after showing its fingerprint (compare it with what the host's administrator says).
- `custom host-keys HOST [--ports 22,2222]`: the host's public keys read over SSH without
  logging in (like ssh-keyscan), with their fingerprints."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xdrconf.core.i18n import _
from xdrconf.core.outcome import category_words

from ..core.errors import ValidationError
from ..core.workspace import IntegrationEdit
from .common import CheckFailed, fail, open_ws, print_json, read_value_file
from .operations import run_one


def cmd_key_info(args: argparse.Namespace) -> int:
    from ..core.integrations.custom.keys import parse_public_key

    text = read_value_file(_("Public key"), args.file)
    try:
        info = parse_public_key(text, _("Public key"))
    except ValidationError as exc:
        fail(str(exc))
    if args.json:
        print_json(
            {
                "type": info.key_type,
                "bits": info.bits,
                "fingerprint": info.fingerprint,
                "line": info.line,
                "comment": info.comment,
            }
        )
    else:
        print(info.keygen_line())
    return 0


def cmd_pin(args: argparse.Namespace) -> int:
    from ..core.integrations.custom import seen_host_key
    from ..core.integrations.custom.keys import parse_public_key

    with open_ws(args, write=True) as ws:
        tenant = ws.tenant(args.tenant)
        seen = seen_host_key(ws.integration(tenant, "custom"))
        if not seen:
            fail(
                _(
                    "no host key has been seen yet; run 'xdrconf check TENANT custom' with "
                    "verify_host=false first, or set host_public_key=@FILE"
                )
            )
        info = parse_public_key(seen, _("Seen host key"))
        print(_("Host key seen by the last check: {key}").format(key=info.describe()))
        if not args.yes:
            fail(
                _(
                    "compare this fingerprint with the one the host's administrator reads with "
                    "'ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub', then run again with --yes to pin it"
                )
            )
        ws.update_integration(
            tenant.id, IntegrationEdit("custom", values={"verify_host": "true", "host_public_key": info.line})
        )
        print(_("Pinned; host verification is on for '{path}'.").format(path=ws.tree.path(tenant.id)))
    return 0


def cmd_host_keys(args: argparse.Namespace) -> int:
    from ..core.integrations.custom.ssh import HostKeys

    [outcome] = run_one(args, "custom", "host-keys", None, {"host": args.host, "ports": args.ports})
    if outcome.refused:
        fail(outcome.message)
    found = HostKeys.of(outcome)
    if args.json:
        print_json(
            {
                "port": found.port,
                "keys": [
                    {"type": k.key_type, "bits": k.bits, "fingerprint": k.fingerprint, "line": k.line}
                    for k in found.keys
                ],
                "error": None if found.failure is None else found.failure.public(),
            }
        )
    else:
        for k in found.keys:
            print(
                _("{bits} {fingerprint} port {port} ({family})").format(
                    bits=k.bits, fingerprint=k.fingerprint, port=found.port, family=k.family
                )
            )
            print(f"  {k.line}")
        if found.keys:
            print(
                _(
                    "Read over the network: compare a fingerprint with the host's administrator "
                    "before pinning its key (host_public_key=@FILE)."
                ),
                file=sys.stderr,
            )
    if found.failure is not None:
        if not args.json:
            print(f"FAIL {category_words(found.failure.category)}: {found.failure.message}", file=sys.stderr)
        raise CheckFailed
    return 0


def actions(csub: Any, common: argparse.ArgumentParser, add: Any) -> set[str]:
    p = add(
        csub,
        "key-info",
        cmd_key_info,
        _(
            "show the type and SHA256 fingerprint of an OpenSSH public key file (as ssh-keygen -lf), "
            "or why it is refused"
        ),
    )
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p = add(csub, "pin", cmd_pin, _("pin the host key seen by the last check (made with verification off)"))
    p.add_argument("tenant")
    p.add_argument("--yes", action="store_true", help=_("pin without asking again"))
    p = add(
        csub,
        "host-keys",
        cmd_host_keys,
        _("read a host's SSH public keys, one per type, without logging in (like ssh-keyscan)"),
    )
    p.add_argument("host")
    p.add_argument("--ports", default="22", help=_("comma-separated, tried in order (default 22)"))
    p.add_argument("--timeout", metavar=_("SECONDS"))
    p.add_argument("--json", action="store_true")
    return {"key-info", "pin", "host-keys"}
