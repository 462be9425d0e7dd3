"""What the command's modules share: errors that end a command with an exit status, opening
the settings, JSON output, reading secrets and value files."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any, NoReturn

from ..core import appsettings
from ..core.errors import XdrconfError
from ..core.files import MAX_VALUE_FILE, read_user_file
from ..core.i18n import _
from ..core.workspace import Workspace


class UsageError(XdrconfError):
    """Bad arguments: exit status 2."""


class CheckFailed(Exception):
    """What was run did not pass: exit status 1, or 2 for a configuration error found before
    anything ran (the output already said why)."""

    def __init__(self, code: int = 1) -> None:
        self.code = code
        super().__init__(code)


def timeout_of(args: argparse.Namespace) -> float | None:
    """The --timeout option, checked (the one parser of timeouts: core.appsettings)."""
    value = getattr(args, "timeout", None)
    return None if value is None else appsettings.parse_timeout(value, "--timeout")


def fail(message: str) -> NoReturn:
    raise UsageError(message)


# The command being run, as the audit trail records what made a change (set by cli.main.run).
ACTION = {"text": "xdrconf"}


def action_of(argv: list[str]) -> str:
    """The command line as the audit trail records it: without --config-dir DIR."""
    import shlex

    words: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--config-dir":
            skip = True
            continue
        if arg.startswith("--config-dir="):
            continue
        words.append(arg)
    return shlex.join(["xdrconf", *words])


def open_ws(args: argparse.Namespace, *, write: bool, notice: bool = True) -> Workspace:
    """Open the settings; changes refuse when another instance holds the folder. A settings
    file kept aside (now or at an earlier start, until restored or dismissed) is said in one
    line on standard error at every start."""
    from . import vault_passphrase

    ws = Workspace.open(getattr(args, "config_dir", None), readonly_if_locked=not write)
    ws.action = ACTION["text"]
    ws.secrets.vault.unlocker = vault_passphrase.unlocker(ws.secrets)
    if notice and ws.notice is not None:
        print(notice_line(ws), file=sys.stderr)
    return ws


def notice_line(ws: Workspace) -> str:
    assert ws.notice is not None
    if ws.notice.backup:
        hint = _(
            "'xdrconf config restore-backup' brings the last good settings back; "
            "'xdrconf config dismiss-notice' keeps the current ones."
        )
    else:
        hint = _("'xdrconf config dismiss-notice' stops this notice.")
    # TRANSLATORS: the line said at every start while a settings file kept aside is pending.
    return _("xdrconf: {notice} {hint}").format(notice=ws.notice.message, hint=hint)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


class SecretReader:
    """Reads the values of `--secret FIELD` options: one line per secret from standard
    input in the order given, or a prompt without echo on a terminal."""

    def __init__(self, stdin: Any = None) -> None:
        self.stdin = stdin or sys.stdin

    def read(self, label: str) -> str:
        if self.stdin.isatty():
            value = getpass.getpass(f"{label}: ")
        else:
            line = self.stdin.readline()
            if not line:
                fail(
                    _(
                        "{label}: expected its value on standard input (one line per --secret), got nothing"
                    ).format(label=label)
                )
            value = line.rstrip("\r\n")
        if not value.strip():
            fail(_("{label}: the value read is empty").format(label=label))
        return value


def read_value_file(field_label: str, path_text: str, *, limit: int = MAX_VALUE_FILE) -> str:
    """The text of a file named for a value (FIELD=@FILE …): a regular file of at most
    `limit` bytes; the error (exit 2) names the file and the problem, never its content."""
    return read_user_file(field_label, path_text, limit=limit)
