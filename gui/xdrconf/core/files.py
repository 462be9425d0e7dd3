"""Reading a file the user names for a value (``FIELD=@path`` on the command line, "From
file…" in the window, an import file): regular files only, a size limit, UTF-8 text, and an
error that names the file and the problem, never its content.

A device (/dev/zero), a FIFO, a socket or a directory is refused before anything is read,
and so is a file of /proc or /sys (their size says nothing of what a read returns). The
file is opened without blocking (a FIFO would wait for a writer otherwise), checked with
fstat on the open descriptor (not the path, which could be swapped meanwhile) and read to
at most the limit plus one byte."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ValidationError
from .i18n import _

MAX_VALUE_FILE = 1024 * 1024  # FIELD=@path: 1 MiB (a CA bundle is a few hundred kB)
_PSEUDO = ("/proc/", "/sys/")  # their files claim to be regular; what a read returns is not a file


def read_user_file(label: str, path_text: str, *, limit: int = MAX_VALUE_FILE) -> str:
    """The text of the file `path_text` (UTF-8; a BOM is dropped), or ValidationError(label,
    problem) naming the file and what is wrong with it (never what it holds)."""
    path = Path(os.path.expanduser(path_text))
    shown = str(path)

    def bad(problem: str) -> ValidationError:
        return ValidationError(label, problem)

    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        real = str(path)
    if (real + "/").startswith(_PSEUDO):
        raise bad(_("'{file}' is a system file, not a regular file; give a text file").format(file=shown))
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise bad(_("file '{file}' does not exist").format(file=shown)) from None
    except IsADirectoryError:
        raise bad(_("'{file}' is a folder, not a file").format(file=shown)) from None
    except PermissionError:
        raise bad(_("cannot read '{file}' (permission denied)").format(file=shown)) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise bad(_("cannot read '{file}' ({reason})").format(file=shown, reason=reason)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise bad(_("'{file}' is a folder, not a file").format(file=shown))
        if not stat.S_ISREG(info.st_mode):
            raise bad(
                _("'{file}' is not a regular file (a device, a pipe or a socket); give a text file").format(
                    file=shown
                )
            )
        if info.st_size > limit:
            raise bad(_("'{file}' is larger than {size}").format(file=shown, size=_size(limit)))
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            try:
                chunk = os.read(fd, min(65536, limit + 1 - total))
            except OSError as exc:
                raise bad(
                    _("cannot read '{file}' ({reason})").format(
                        file=shown, reason=exc.strerror or _("I/O error")
                    )
                ) from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise bad(_("'{file}' is larger than {size}").format(file=shown, size=_size(limit)))
    finally:
        os.close(fd)
    data = b"".join(chunks)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad(_("file '{file}' is not UTF-8 text").format(file=shown)) from None
    return text.removeprefix("\ufeff")


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return _("{n} MiB").format(n=limit // (1024 * 1024))
    return _("{n} bytes").format(n=limit)
