"""The frozen application's entry point: the same `main` as the `xdrconf` console script, so
`xdrconf` with no command opens the window and with a command is the command line."""

import sys

from xdrconf.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
