"""The Qt layer: a thin window over xdrconf.core. Nothing here talks to the network or the
keyring on the GUI thread; see workers.py."""

from __future__ import annotations

import sys


def _pin_singletons() -> None:
    """PySide6 6.12 drops one reference to None each time C++ calls a Python function that
    returns None (every slot, every model `data()` without a value) and one to True on
    each `Signal.emit()`. From Python 3.12 on these objects are immortal and nothing
    happens; on 3.11 the count reaches zero after a few thousand calls and the
    interpreter aborts ("deallocating None"). pyproject.toml keeps 6.12.0 out; should it be
    installed anyway (or a later release with the same fault), give them a reference count
    no program can exhaust, which is what 3.12 does. Harmless on releases without the fault."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import PySide6

    if tuple(PySide6.__version_info__[:2]) < (6, 12):  # before the fault (and ctypes' 3 ms)
        return
    import ctypes

    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40


_pin_singletons()
