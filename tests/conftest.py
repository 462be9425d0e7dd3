"""Shared fixtures: real Secret Service, a settings folder, the test PKI, the CLI."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The tests read English, whatever the machine's locale (LANG=ru_RU... would otherwise turn
# every message Russian); tests/test_i18n.py sets the language it tests.
os.environ["XDRCONF_LANG"] = "en"

import pytest

from support import secret_service
from support.pki import TestCA

# Support modules that define fixtures, registered once for every test module.
pytest_plugins = [
    "support.gui",
    "support.kuma_peer",
    "support.redmine",
    "support.samba_dc",
    "support.slapd",
]


@pytest.fixture(autouse=True)
def _english_again():
    """A test that switched the language (and Qt's translations) leaves English behind."""
    yield
    from xdrconf.core import i18n

    if i18n.language() != i18n.DEFAULT:
        if "xdrconf.qt.app" in sys.modules:
            sys.modules["xdrconf.qt.app"].apply_language(i18n.DEFAULT)
        i18n.set_language(i18n.DEFAULT)


@pytest.fixture(scope="session")
def keyring_backend():
    """The real Secret Service backend (gnome-keyring, unlocked)."""
    secret_service.ensure_session()
    yield secret_service.backend()
    secret_service.stop()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    return d


@pytest.fixture
def ws(config_dir, keyring_backend):
    from xdrconf.core.workspace import Workspace

    w = Workspace.open(config_dir, keyring_backend=keyring_backend)
    yield w
    w.close()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def server_cert(test_ca):
    return test_ca.issue()


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def cli(config_dir, keyring_backend, monkeypatch):
    """Run `xdrconf ARGS` in this process against config_dir; stdin feeds --secret values."""
    from xdrconf.cli.main import run

    def invoke(*args: str, stdin: str = "", config: Path | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        argv = ["--config-dir", str(config or config_dir), *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(argv)
        return CliResult(code, out.getvalue(), err.getvalue())

    return invoke
