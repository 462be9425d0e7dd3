"""Reading a settings file's JSON within bounds, before anything checks what it means:
at most MAX_FILE_BYTES of a regular file, nesting at most MAX_DEPTH levels (checked on the
text, so the parser never reaches a recursion limit), NaN, Infinity and over-long numbers
kept as markers (Refused), objects with a repeated key marked (Duplicated). Imports nothing
of xdrconf: core.i18n reads the language through it before anything else, and
core.document turns what it finds into messages."""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64  # xdrconf writes at most about 10 levels
MAX_DIGITS = 20  # an integer xdrconf writes has at most 10

_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class NotARegularFile(OSError):
    """The path is a device, a FIFO, a folder…: not read."""


class Refused:
    """Stands where the parser met NaN, Infinity, an overflowing or over-long number."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Duplicated(dict[str, Any]):
    """An object in which a key appeared more than once (the last value is kept here)."""

    duplicate: str = ""


def _duplicated(pairs: list[tuple[str, Any]]) -> Duplicated:
    seen: set[str] = set()
    out = Duplicated(pairs)
    for key, _value in pairs:
        if key in seen:
            out.duplicate = key
            break
        seen.add(key)
    return out


def depth_exceeded(text: str) -> bool:
    """Whether brackets outside strings may nest deeper than MAX_DEPTH. No recursion: each
    pass removes the innermost pairs (C-speed string operations), MAX_DEPTH passes at most.
    A chain of open brackets is at most the passes (matched pairs nested in each other)
    plus the openers never closed, so that sum bounds what the parser will recurse into."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    brackets = brackets.replace("{", "[").replace("}", "]")
    passes = 0
    while passes <= MAX_DEPTH:
        shorter = brackets.replace("[]", "")
        if shorter == brackets:
            return passes + brackets.count("[") > MAX_DEPTH
        brackets = shorter
        passes += 1
    return True


def loads(text: str) -> tuple[Any, bool]:
    """The value of JSON text whose depth was checked, and whether it holds a marker
    (Refused, Duplicated) or an escaped surrogate that a walk must place. Raises
    json.JSONDecodeError (or ValueError) as json.loads does."""
    odd: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            odd.append(True)
            return _duplicated(items)
        return obj

    def refused(token: str) -> Any:
        odd.append(True)
        return Refused(token[:24] + ("…" if len(token) > 24 else ""))

    def integer(token: str) -> Any:
        if len(token.lstrip("-")) <= MAX_DIGITS:
            return int(token)
        return refused(token)

    def real(token: str) -> Any:
        value = float(token)
        return value if math.isfinite(value) else refused(token)

    value = json.loads(
        text, object_pairs_hook=pairs, parse_constant=refused, parse_int=integer, parse_float=real
    )
    return value, bool(odd) or bool(_SURROGATE.search(text))


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> tuple[bytes, os.stat_result]:
    """A regular file's bytes (at most limit + 1 are read) and its stat; OSError as raised,
    NotARegularFile for anything else."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(f"{path} is not a regular file")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def peek(path: Path) -> Any:
    """The JSON value of a file, read within the bounds, or None when it cannot be read
    (a look before the settings are opened, e.g. their language; opening them says why)."""
    try:
        raw, _st = read_bounded(path)
        if len(raw) > MAX_FILE_BYTES:
            return None
        text = raw.decode("utf-8")
        if depth_exceeded(text):
            return None
        return loads(text)[0]
    except (OSError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
