"""What the frozen application carries, read from the metadata of the Python environment that
builds it (packaging/xdrconf.spec and packaging/linux/debfiles.py)."""

from __future__ import annotations

import importlib.metadata as md

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def requirement_closure(name: str) -> list[md.Distribution]:
    """The installed distributions that `name` needs at run time (markers evaluated here, no
    extras), followed through their own requirements; `name` itself included."""
    env = default_environment()
    found: dict[str, md.Distribution] = {}
    todo = [name]
    while todo:
        key = canonicalize_name(todo.pop())
        if key in found:
            continue
        try:
            dist = md.distribution(key)
        except md.PackageNotFoundError:
            continue  # an optional dependency that this platform does not install
        found[key] = dist
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
                todo.append(req.name)
    return [found[k] for k in sorted(found)]


def keyring_backends() -> list[tuple[str, str]]:
    """(module, distribution name) of every backend registered as a `keyring.backends` entry
    point: keyring's own and those of any other installed distribution."""
    return sorted(
        {(ep.module, ep.dist.metadata["Name"]) for ep in md.entry_points(group="keyring.backends") if ep.dist}
    )


def packages_of(dist: md.Distribution) -> list[str]:
    """The top-level import packages that a distribution installs (folders with __init__.py)."""
    return sorted(
        {
            str(f).split("/")[0]
            for f in dist.files or ()
            if str(f).count("/") == 1 and f.name == "__init__.py" and not str(f).startswith("..")
        }
    )
