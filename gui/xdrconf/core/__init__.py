"""The plain-Python core of xdrconf. Nothing under this package may import Qt."""

import sys

# httpx imports its own command line, and with it rich, click and pygments (~70 ms, 5 MiB),
# whenever those are installed (a test tool brings them). xdrconf never runs httpx's command
# line: its import is refused, and httpx falls back to its stub (httpx/__init__.py).
if "httpx._main" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
