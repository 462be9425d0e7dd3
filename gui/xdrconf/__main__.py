"""Entry point: `xdrconf` with no command opens the window; with a command, the command line."""

from __future__ import annotations

import sys


def _gui_config_dir(argv: list[str]) -> tuple[bool, str | None]:
    """(True, DIR or None) when argv asks for the window: nothing, or only --config-dir DIR.
    Decided without building the command line's parser, which imports every integration
    and would cost the window's start-up about 150 ms."""
    if not argv:
        return True, None
    if len(argv) == 2 and argv[0] == "--config-dir" and not argv[1].startswith("-"):
        return True, argv[1]
    if len(argv) == 1 and argv[0].startswith("--config-dir="):
        return True, argv[0].split("=", 1)[1]
    return False, None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    gui, config_dir = _gui_config_dir(argv)
    if gui:
        from .qt.app import run_gui

        return run_gui(config_dir)
    from .cli.main import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
