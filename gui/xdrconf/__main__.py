"""Entry point: `xdrconf` with no command opens the window; with a command, the command line."""

from __future__ import annotations

import os
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


# Qt platforms that need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "minimalegl", "vkkhrdisplay")


def display_problem(env: dict[str, str] | None = None) -> str | None:
    """Why the window cannot open here, in one line, or None. Checked before QApplication,
    which would abort the process (exit 134) with a message about a platform plugin."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    env = dict(os.environ if env is None else env)
    platform = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if platform in HEADLESS_PLATFORMS:
        return None
    display, wayland = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    hint = (
        "run it under xvfb-run (or `bash packaging/bootstrap.sh app`), set QT_QPA_PLATFORM=offscreen, "
        "or give a command (xdrconf --help)"
    )
    if platform.startswith("wayland"):
        return (
            None if wayland else f"xdrconf: no display for the window (WAYLAND_DISPLAY is not set); {hint}."
        )
    if not display:
        if wayland and not platform:
            return None
        return f"xdrconf: no display for the window (DISPLAY and WAYLAND_DISPLAY are not set); {hint}."
    return _xcb_problem(display, hint)


def _xcb_problem(display: str, hint: str) -> str | None:
    """Whether Qt's X11 plugin can load and reach the X server (what it would abort on)."""
    import ctypes
    import importlib.util

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return f"xdrconf: the X11 library libxcb.so.1 is missing (apt-get install libxcb1); {hint}."
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    failed = xcb.xcb_connection_has_error(conn)
    xcb.xcb_disconnect(conn)
    if failed:
        return f"xdrconf: cannot connect to the X display {display!r}; {hint}."
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = next(iter(spec.submodule_search_locations))
    plugin = os.path.join(package, "Qt", "plugins", "platforms", "libqxcb.so")
    if not os.path.exists(plugin):
        return None
    try:
        ctypes.CDLL(plugin)
    except OSError as exc:
        missing = str(exc).split(":", 1)[0].strip() or "a library"
        return (
            f"xdrconf: Qt's X11 platform plugin cannot be loaded ({missing} is missing); install Qt's "
            f"X11 libraries (bash packaging/bootstrap.sh app does) or set QT_QPA_PLATFORM=offscreen."
        )
    return None


def main(argv: list[str] | None = None) -> int:
    from .core.process import harden

    harden()  # first: no core dump may hold a secret of this process (core/process.py)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--xdrconf-check-worker"]:  # a worker process of many checks (core/checkproc.py)
        from .core.checkproc import worker_main

        return worker_main()
    gui, config_dir = _gui_config_dir(argv)
    if gui:
        problem = display_problem()
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        from .qt.app import run_gui

        return run_gui(config_dir)
    from .cli.main import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
