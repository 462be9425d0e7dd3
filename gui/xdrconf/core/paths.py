"""Where a settings folder is and what its settings file is called. Imports nothing of
xdrconf: the language is read from the settings file (core.i18n) before anything else."""

from __future__ import annotations

import os
from pathlib import Path

SETTINGS_FILE = "settings.json"
ENV_CONFIG_DIR = "XDRCONF_CONFIG_DIR"


def default_config_dir() -> Path:
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("xdrconf", appauthor=False))


def resolve_config_dir(explicit: str | os.PathLike[str] | None) -> Path:
    path = Path(explicit).expanduser() if explicit else default_config_dir()
    return path.absolute()
