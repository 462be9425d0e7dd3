"""Peers that echo a credential back (as careless servers do in error messages): the forms in
which it comes back, so tests can prove that none of them reaches an outcome, a stored
result, the command line's output or a log."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

# A canary secret that looks different in each encoding (quote, slash, plus, backslash,
# equals), yet is plain printable ASCII and so may go into an HTTP header.
CANARY = 'CANARY-7f3a/b+c=d"e\\f'


def forms(secret: str) -> list[str]:
    """The secret raw, percent-encoded, JSON-escaped, repr-escaped and in base64."""
    return [
        secret,
        quote(secret, safe=""),
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        base64.b64encode(secret.encode()).decode(),
    ]


def echoed(secret: str) -> str:
    """One error message that carries every form of the secret."""
    return "you sent " + " | ".join(forms(secret))


def leaks(text: str, secret: str = CANARY) -> list[str]:
    """The forms of the secret found in text (and the canary's distinctive core)."""
    found = [f for f in forms(secret) if f in text]
    # Its distinctive core, whatever escaping happened around it. Letters a hex digest never
    # holds ("7f3a" alone turned up in a random audit hash now and then).
    if "NARY-7f3a" in text:
        found.append("NARY-7f3a")
    return found
