"""Entry point: `xdrconf` with no command opens the window; with a command, the command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from .cli.main import build_parser, run

    probe = [a for a in argv if a not in ("-h", "--help", "--version")]
    if probe == argv:
        args, rest = build_parser().parse_known_args(argv)
        if getattr(args, "command", None) is None and not rest:
            from .qt.app import run_gui

            return run_gui(getattr(args, "config_dir", None))
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
