"""Property-based tests of the settings document (hypothesis; derandomized on CI through the
"ci" profile of conftest.py). Valid documents made by the product itself are mutated —
types, values, structure, deep nesting, huge numbers, NaN and Infinity, duplicate keys,
unicode, truncated and flipped bytes — and each result is written as settings.json and used
by the real command line (in-process): `tenant list`, `integration list` of every tenant,
`integration show`, `export` and `check` (no network: the stored keyring reference names no
secret, so every check ends before a peer would be asked; `check` also reads the app
settings, timeout and proxy).

The property: the commands never end in a traceback, and either the file was usable (it is
not kept aside and the commands say nothing about it), or it was kept aside, byte for byte,
with one message naming where the problem is (a JSON path, a line and column, or the
document)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xdrconf.core.storage import SettingsFile
from xdrconf.core.workspace import IntegrationEdit, Workspace

FAKE_REF = "0123456789abcdef0123456789abcdef"
_KEY = r"(?:[A-Za-z_][\w-]*|\[(?:\d+|'(?:[^'\\]|\\.)*'…?|\"(?:[^\"\\]|\\.)*\"…?)\])"
WHERE = re.compile(
    rf"cannot be used: (?P<where>the document|line \d+, column \d+|{_KEY}(?:\.{_KEY}|{_KEY})*): \S"
)


def _document(folder: Path, keyring_backend: Any) -> dict[str, Any]:
    """A document with every integration xdrconf supports, made through the workspace."""
    from xdrconf.core.integrations.kata import connections as kata
    from xdrconf.core.integrations.kuma import commands as kuma_api
    from xdrconf.core.outcome import Category, CheckResult

    with Workspace.open(folder, keyring_backend=keyring_backend) as ws:
        ws.set_app(
            timeout=7.5,
            proxy={"mode": "manual", "url": "http://127.0.0.1:3128", "no_proxy": ["localhost", ".corp"]},
            language="en",
        )
        acme = ws.add_tenant("Acme")
        eu = ws.add_tenant("EU")
        beta = ws.add_tenant("Beta ünïcode", eu.id)
        ws.update_integrations(
            acme.id,
            [
                IntegrationEdit(
                    "kuma",
                    values={
                        "host": "127.0.0.1",
                        "port": "9",
                        "api_version": "v2",
                        "tls_pin_sha256": "ab" * 32,
                    },
                    structured={"commands": [c.to_dict() for c in kuma_api.default_commands()]},
                ),
                IntegrationEdit(
                    "kasap",
                    values={
                        "url": "https://127.0.0.1:9",
                        "token_issued": "2025-01-01",
                        "rights_confirmed": "all",
                    },
                ),
            ],
        )
        ws.update_integration(
            ws.tree.root_id,
            IntegrationEdit("tip", values={"access": "premium", "proxy": "true", "cache_ttl": "12h"}),
        )
        ws.update_integration(
            beta.id,
            IntegrationEdit(
                "custom",
                values={
                    "host": "::1",
                    "ports": "9,10",
                    "verify_host": "false",
                    "auth": "password",
                    "username": "u",
                },
            ),
        )
        conn, _key = kata.new_connection([], "127.0.0.1", 9, "ecdsa")
        ws.update_integration(eu.id, IntegrationEdit("kata", structured={kata.CONNECTIONS: [conn]}))
        result = CheckResult(Category.AUTH_FAILED, "KUMA refused the token.", "127.0.0.1:9", 41.5)
        result.tenant, result.integration = "Root tenant/Acme", "kuma"
        ws.record_results({(acme.id, "kuma"): [result.to_dict()]})
    doc = json.loads((folder / "settings.json").read_text())
    # Turned on; KUMA with a reference to a secret the keyring does not have: its check runs
    # to the keyring and stops at the missing secret, the others stop before it. (One lookup
    # per example: the keyring's Secret Service backend leaves a D-Bus connection per call.)
    for tenant in doc["tenants"]:
        for kind, state in tenant["integrations"].items():
            state["enabled"] = True
            if kind == "kuma":
                state["secrets"] = {"token": FAKE_REF}
    SettingsFile.check(json.dumps(doc).encode())  # the starting point is valid
    return doc


@pytest.fixture(scope="module")
def base(tmp_path_factory, keyring_backend) -> dict[str, Any]:
    return _document(tmp_path_factory.mktemp("base") / "config", keyring_backend)


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(paths_of(value, (*prefix, key)))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.extend(paths_of(value, (*prefix, i)))
    return out


def get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


RAW = "@@raw@@"
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        ["", " ", "2025-13-01", "127.0.0.1", "https://127.0.0.1:9", "v1", "none", "ok", "x" * 300]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
raw_tokens = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1e400",
        "1" * 25,
        "9" * 5000,
        "0.1e-99999",
        '"\\ud800"',
        '"\\u0000"',
    ]
)


@st.composite
def mutated(draw: Any, doc: dict[str, Any]) -> bytes:
    doc = copy.deepcopy(doc)
    paths = paths_of(doc)
    path = draw(st.sampled_from(paths))
    kind = draw(
        st.sampled_from(
            ["replace", "replace", "delete", "add_key", "nest", "swap", "raw", "duplicate", "bytes"]
        )
    )
    raw: str | None = None
    if kind == "replace" and path:
        get(doc, path[:-1])[path[-1]] = draw(json_values)
    elif kind == "delete" and path:
        parent = get(doc, path[:-1])
        del parent[path[-1]]
    elif kind == "add_key":
        target = get(doc, path)
        if isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
        elif isinstance(target, list):
            target.insert(draw(st.integers(0, len(target))), draw(json_values))
    elif kind == "nest" and path:
        depth = draw(st.integers(1, 300))
        value: Any = get(doc, path)
        for _level in range(depth):
            value = [value] if draw(st.booleans()) else {"k": value}
        get(doc, path[:-1])[path[-1]] = value
    elif kind == "swap" and path:
        other = draw(st.sampled_from(paths))
        if other and other[: len(path)] != path and path[: len(other)] != other:
            a, b = get(doc, path), get(doc, other)
            get(doc, path[:-1])[path[-1]] = copy.deepcopy(b)
            get(doc, other[:-1])[other[-1]] = copy.deepcopy(a)
    elif kind == "raw" and path:
        get(doc, path[:-1])[path[-1]] = RAW
        raw = draw(raw_tokens)
    elif kind == "duplicate":
        target = get(doc, path)
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            target[RAW] = 0
            raw = json.dumps(key) + ": " + json.dumps(draw(json_values))
    text = json.dumps(doc, indent=1, ensure_ascii=draw(st.booleans()))
    if raw is not None:
        text = text.replace(json.dumps(RAW) + ": 0", raw, 1).replace(json.dumps(RAW), raw, 1)
    data = text.encode()
    if kind == "bytes":
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["truncate", "flip", "insert"]))
        if how == "truncate":
            data = data[:at]
        elif how == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        else:
            data = (
                data[:at] + draw(st.text(min_size=1, max_size=3)).encode("utf-8", "surrogatepass") + data[at:]
            )
    return data


def run_cli(folder: Path, *args: str) -> tuple[int, str, str]:
    from xdrconf.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(["--config-dir", str(folder), *args])
    finally:
        sys.stdin = stdin
    assert code in (0, 1, 2), (args, code, err.getvalue())
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


def use_everything(folder: Path) -> str:
    """Every command of the property; returns what the first one said on standard error."""
    _code, _out, first = run_cli(folder, "tenant", "list")
    code, out, _err = run_cli(folder, "tenant", "list", "--json")
    ids = [t["id"] for t in json.loads(out)] if code == 0 else ["Root"]
    for tid in ids:
        run_cli(folder, "integration", "list", tid)
        run_cli(folder, "integration", "list", tid, "--json")
    run_cli(folder, "integration", "show", "Root", "tip")
    run_cli(folder, "check", "--timeout", "2")
    run_cli(folder, "export")
    return first


def test_the_base_document_is_usable(base, keyring_backend):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "config"
        folder.mkdir()
        (folder / "settings.json").write_text(json.dumps(base))
        assert use_everything(folder) == ""
        assert not [p for p in folder.iterdir() if p.name.startswith("settings.corrupt-")]


@given(data=st.data())
def test_any_mutation_is_either_usable_or_kept_aside_with_its_path(base, keyring_backend, data):
    blob = data.draw(mutated(base))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "config"
        folder.mkdir()
        (folder / "settings.json").write_bytes(blob)
        said = use_everything(folder)
        aside = [p for p in folder.iterdir() if p.name.startswith("settings.corrupt-")]
        if aside:
            assert [p.read_bytes() for p in aside] == [blob]
            lines = said.strip().splitlines()
            assert len(lines) == 1, said
            assert WHERE.search(lines[0]), lines[0]
            assert "could not be checked" not in lines[0]  # a gap in the checks, not a finding
        else:
            assert said == "", said
