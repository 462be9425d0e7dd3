"""The core is plain Python: importing it (and the command line) loads no Qt. Secrets never
reach logs."""

from __future__ import annotations

import logging
import pkgutil
import subprocess
import sys

import xdrconf.core


def test_core_and_cli_import_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(xdrconf.core.__path__, "xdrconf.core.")]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "import xdrconf.cli.main as c; c.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'PyQt')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"Qt imported by the core: {out.stdout}"
    assert len(modules) >= 10


def test_check_logs_no_secret(ws, caplog, server_cert, test_ca):
    from support.https_peer import HttpsPeer
    from support.kuma_peer import KumaApi
    from xdrconf.core.engine import run_operation
    from xdrconf.core.workspace import IntegrationEdit

    token = "LEAKCANARY-" + "7" * 20
    caplog.set_level(logging.DEBUG)
    with HttpsPeer(KumaApi(token), cert=server_cert) as peer:
        ws.add_tenant("T")
        ws.update_integration(
            "T",
            IntegrationEdit(
                "kuma",
                values={"host": "127.0.0.1", "port": str(peer.port), "tls_ca": test_ca.cert_pem},
                secrets={"token": token},
                enabled=True,
            ),
        )
        [ok] = run_operation(ws, ws.tenant("T").id, "kuma")
        ws.update_integration("T", IntegrationEdit("kuma", values={"tls_ca": None}))
        [bad] = run_operation(ws, ws.tenant("T").id, "kuma")
    assert ok.ok and not bad.ok
    everything = caplog.text + repr(ok.to_dict()) + repr(bad.to_dict())
    assert token not in everything
    assert "LEAKCANARY" not in everything
