"""Smoke test of the built artefacts (issue 18): the Debian package of packaging/build.sh,
unpacked into a clean folder and run from there with an environment that reaches no Python
of this machine (support.frozen). As root each command runs as installed: in a private
mount namespace where /opt/xdrconf is the unpacked folder and /usr/bin/xdrconf leads to it.

The package is built once per run and only when the sources changed (build.sh
--if-changed; packaging/run-tests.sh builds it before the tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import xdrconf
from support import frozen, secret_service
from support.kuma_peer import GOOD_TOKEN


@pytest.fixture(scope="session")
def package(tmp_path_factory) -> frozen.Package:
    deb = frozen.build()
    return frozen.Package.unpack(deb, tmp_path_factory.mktemp("deb"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def ca_file(test_ca, tmp_path: Path) -> Path:
    path = tmp_path / "kuma-ca.pem"
    path.write_text(test_ca.cert_pem)
    return path


def ok(proc) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc.stdout


needs_namespace = pytest.mark.skipif(
    not frozen.can_namespace(), reason="needs root and unshare (a private mount namespace)"
)


def test_package_layout(package):
    root = package.root
    link = root / "usr/bin/xdrconf"
    assert link.is_symlink() and os.readlink(link) == "/opt/xdrconf/xdrconf"
    assert package.executable.is_file() and os.access(package.executable, os.X_OK)
    assert (root / "usr/share/applications/xdrconf.desktop").is_file()
    assert (root / "usr/share/icons/hicolor/scalable/apps/xdrconf.svg").is_file()
    for size in (16, 32, 48, 128, 256, 512):
        assert (root / f"usr/share/icons/hicolor/{size}x{size}/apps/xdrconf.png").stat().st_size > 0
    [metainfo] = (root / "usr/share/metainfo").glob("*.metainfo.xml")
    assert "<screenshot" in metainfo.read_text()
    internal = package.folder / "_internal"
    assert (internal / "xdrconf/locale/ru/LC_MESSAGES/xdrconf.mo").stat().st_size > 0
    assert (internal / "PySide6/Qt/translations/qtbase_ru.qm").stat().st_size > 0
    # what keyring finds its backends through: the entry points in keyring's metadata
    [keyring_info] = internal.glob("keyring-*.dist-info")
    assert "SecretService = keyring.backends.SecretService" in (keyring_info / "entry_points.txt").read_text()
    assert (internal / "certifi/cacert.pem").stat().st_size > 0
    # Qt's data is what PyInstaller's PySide6 hooks chose: no QML, no Qt tools, no .pyi stubs.
    assert not [p.name for p in (internal / "PySide6").iterdir() if p.name in ("qml", "qmlls", "qmlformat")]
    assert not (internal / "PySide6/Qt/qml").exists()
    assert not list(internal.glob("**/*.pyi"))


def test_version_and_no_python_of_this_machine(package, home):
    out = ok(package.run(home, "--version"))
    assert out.strip() == f"xdrconf {xdrconf.__version__}"
    # The environment holds no path to a Python or a virtual environment.
    env = package.env(home)
    assert not any(k.startswith("PYTHON") or k in ("VIRTUAL_ENV", "LD_LIBRARY_PATH") for k in env)
    assert env["PATH"] == "/usr/bin:/bin"


def test_tenant_list_in_the_default_config_folder(package, home):
    ok(package.run(home, "tenant", "add", "Acme"))
    ok(package.run(home, "tenant", "add", "EU", "--parent", "Acme"))
    paths = [t["path"] for t in json.loads(ok(package.run(home, "tenant", "list", "--json")))]
    assert paths == ["Root tenant", "Root tenant/Acme", "Root tenant/Acme/EU", "Shared"]
    assert (home / ".config/xdrconf/settings.json").is_file()


def test_russian(package, home):
    env = package.env(home, XDRCONF_LANG="ru")
    help_text = ok(package.run(home, "--help", env=env))
    assert help_text.startswith("использование: xdrconf")
    bad = package.run(home, "tenant", "add", "", env=env)
    assert bad.returncode == 2
    assert "тенант" in bad.stderr.lower() and "Tenant" not in bad.stderr
    # and English when asked
    assert ok(package.run(home, "--help")).startswith("usage: xdrconf")


def stored_secret(home: Path, tenant: str, kind: str, field: str, keyring_backend) -> str | None:
    """The secret as the Secret Service holds it, read from this process."""
    doc = json.loads((home / ".config/xdrconf/settings.json").read_text())
    [t] = [t for t in doc["tenants"] if t["name"] == tenant]
    ref = t["integrations"][kind]["secrets"][field]
    return secret_service.held(keyring_backend, f"xdrconf/{doc['namespace']}", ref)


def test_secret_service_and_kuma_check_over_tls(package, home, kuma, ca_file, keyring_backend):
    config = json.loads(ok(package.run(home, "config", "show", "--json")))
    assert (config["secret_store"], config["secret_store_status"]) == (
        "keyring",
        "OS keyring: Secret Service",
    )
    ok(package.run(home, "tenant", "add", "Acme"))
    ok(
        package.run(
            home,
            *("integration", "set", "Acme", "kuma", "host=127.0.0.1", f"port={kuma.port}"),
            *(f"tls_ca=@{ca_file}", "--secret", "token"),
            stdin=GOOD_TOKEN + "\n",
        )
    )
    assert GOOD_TOKEN not in (home / ".config/xdrconf/settings.json").read_text()
    assert stored_secret(home, "Acme", "kuma", "token", keyring_backend) == GOOD_TOKEN
    ok(package.run(home, "integration", "enable", "Acme", "kuma"))
    [result] = json.loads(ok(package.run(home, "check", "Acme", "kuma", "--json")))
    assert result["category"] == "ok", result
    # The token read back from the Secret Service is what KUMA saw.
    assert [r.header("Authorization") for r in kuma.requests] == [f"Bearer {GOOD_TOKEN}"]


def test_vault_where_there_is_no_keyring(package, home, kuma, ca_file, tmp_path):
    """No D-Bus at all: the frozen application keeps the token in its KeePass vault (pykeepass,
    Argon2id) and reads it back for the check."""
    from pykeepass import PyKeePass

    passphrase = tmp_path / "vault-passphrase"
    passphrase.write_text("correct horse battery staple 42\n")
    passphrase.chmod(0o600)
    env = package.env(
        home,
        DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-such-bus",
        XDRCONF_VAULT_PASSPHRASE_FILE=str(passphrase),
    )
    ok(package.run(home, "tenant", "add", "Acme", env=env))
    ok(
        package.run(
            home,
            *("integration", "set", "Acme", "kuma", "host=127.0.0.1", f"port={kuma.port}"),
            *(f"tls_ca=@{ca_file}", "--secret", "token"),
            stdin=GOOD_TOKEN + "\n",
            env=env,
        )
    )
    config = json.loads(ok(package.run(home, "config", "show", "--json", env=env)))
    assert config["secret_store"] == "vault", config
    vault = PyKeePass(str(home / ".config/xdrconf/secrets.kdbx"), password="correct horse battery staple 42")
    assert [(e.path[-1], e.password) for e in vault.entries] == [("KUMA REST API / API token", GOOD_TOKEN)]
    ok(package.run(home, "integration", "enable", "Acme", "kuma", env=env))
    [result] = json.loads(ok(package.run(home, "check", "Acme", "kuma", "--json", env=env)))
    assert result["category"] == "ok", result
    assert [r.header("Authorization") for r in kuma.requests] == [f"Bearer {GOOD_TOKEN}"]
    # Many checks at once run in the package's own worker processes (from two on, here): the
    # vault's secrets reach them from the process that unlocked it; none runs on a fallback.
    ok(package.run(home, "tenant", "add", "Acme EU", "--parent", "Acme", env=env))
    many = dict(env, XDRCONF_CHECK_PROCESS_MIN="2", XDRCONF_CHECK_PROCESSES="2")
    proc = package.run(home, "check", "--json", env=many)
    assert proc.returncode == 0, proc
    assert [(r["tenant"], r["category"]) for r in json.loads(proc.stdout)] == [
        ("Root tenant/Acme", "ok"),
        ("Root tenant/Acme/Acme EU", "ok"),
    ]
    assert "check worker" not in proc.stderr, proc.stderr
    assert len(kuma.requests) == 3


def kuma_without_ca(package, home, kuma) -> None:
    """Acme's KUMA integration with no CA of its own: the system's trust decides."""
    ok(package.run(home, "tenant", "add", "Acme"))
    ok(
        package.run(
            home,
            *("integration", "set", "Acme", "kuma", "host=127.0.0.1", f"port={kuma.port}"),
            *("--secret", "token"),
            stdin=GOOD_TOKEN + "\n",
        )
    )
    ok(package.run(home, "integration", "enable", "Acme", "kuma"))


def check(package, home, **where) -> str:
    proc = package.run(home, "check", "Acme", "kuma", "--json", **where)
    assert proc.returncode in (0, 1), proc
    [result] = json.loads(proc.stdout)
    return result["category"]


@needs_namespace
def test_system_ca_store_by_openssl_default_paths(package, home, kuma, test_ca, tmp_path):
    kuma_without_ca(package, home, kuma)
    assert check(package, home) == "tls_untrusted"  # the test CA is no system CA
    bundle = tmp_path / "ca-certificates.crt"
    bundle.write_text(Path(frozen.SYSTEM_CA_BUNDLE).read_text() + test_ca.cert_pem)
    assert check(package, home, ca_bundle=bundle) == "ok"  # ... until the system trusts it


@needs_namespace
def test_certifi_when_the_system_has_no_ca_store(package, home, kuma, test_ca, tmp_path):
    kuma_without_ca(package, home, kuma)
    bundle = tmp_path / "cacert.pem"
    bundle.write_text((package.folder / "_internal/certifi/cacert.pem").read_text() + test_ca.cert_pem)
    # No /etc/ssl/certs: the frozen certifi bundle is trusted instead, and only it.
    assert check(package, home, hide_system_ca=True, certifi_bundle=bundle) == "ok"
    assert check(package, home, hide_system_ca=True) == "tls_untrusted"


def mapped_files(pid: int) -> set[str]:
    files = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            files.add(parts[5])
    return files


@pytest.mark.xvfb
@pytest.mark.skipif(
    os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"),
    reason="needs an X server (run under xvfb-run with QT_QPA_PLATFORM=xcb)",
)
def test_window_first_paint_under_xvfb(package, home, qapp, tmp_path):
    from PySide6.QtGui import QImage

    screen = qapp.primaryScreen()
    before = screen.grabWindow(0).toImage()
    env = package.env(home, QT_QPA_PLATFORM="xcb")
    with frozen.FirstPaint(package.command(), env, cwd=home) as window:
        seconds = window.wait(60)
        assert seconds > 0
        # It runs on its own Python: libpython is mapped from its folder only, and nothing
        # of this machine's Pythons or of the virtual environment is.
        maps = mapped_files(window.proc.pid)
        own = (frozen.OPT + "/", str(package.folder) + "/")
        libpython = [p for p in maps if "/libpython" in p]
        assert libpython and all(p.startswith(own) for p in libpython), sorted(maps)
        foreign = ("/.venv/", "/.pyenv/", "/usr/lib/python3", "/usr/local/lib/python3", str(frozen.ROOT))
        assert not [p for p in maps if not p.startswith(own) and any(f in p for f in foreign)]
        qapp.processEvents()
        shot = tmp_path / "frozen-window.png"
        assert screen.grabWindow(0).save(str(shot))
    assert shot.stat().st_size > 0
    image = QImage(str(shot))
    changed = {
        image.pixel(x, y)
        for x in range(0, min(image.width(), 800), 5)
        for y in range(0, min(image.height(), 600), 5)
        if image.pixel(x, y) != before.pixel(x, y)
    }
    assert len(changed) > 10, "the screen did not change: nothing was painted"


def test_every_integration_runs_in_the_package(package, home, keyring_backend, test_ca):
    """Each integration's code (ldap3 for Active Directory, XML-RPC for UserGate, httpx for
    the others, paramiko for the custom one) is in the package: every kind, configured as the
    action sweep configures it (loopback port 1, names under .invalid), is checked by the
    frozen xdrconf and ends in a network outcome, never in a missing module."""
    from test_gui_sweep import CONFIGURED
    from xdrconf.core import catalog
    from xdrconf.core.workspace import Workspace

    assert set(CONFIGURED) == {s.kind for s in catalog.all_specs()}  # every integration
    with Workspace.open(home / ".config/xdrconf", keyring_backend=keyring_backend) as ws:
        ws.add_tenant("Acme")
        for recipe in CONFIGURED.values():
            recipe(ws, "Acme", test_ca)
    proc = package.run(home, "check", "Acme", "--json", timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    results = json.loads(proc.stdout)
    seen = {r["integration"] for r in results}
    assert seen == set(CONFIGURED), sorted(set(CONFIGURED) - seen)
    for r in results:
        assert "No module named" not in r["message"] and "ImportError" not in r["message"], r
        assert r["category"] in {"unreachable", "dns", "timeout", "invalid_config"}, r
