"""The settings document as it is read: every value checked before anything uses it.

A document that passes is safe for every command and screen: its types, ranges, enums,
dates and sizes are those xdrconf itself writes; every integration's settings went through
its spec's fields (Field.parse of the formatted value, as an import does) and its validate;
the stored check results have their shape; the application settings went through
document.check_app_settings. A document that does not pass is described by ONE message that
names the JSON path of the first problem, e.g.
``tenants[3].integrations.kasap.settings.token_issued: '2025-13-01' is not a date in the
form YYYY-MM-DD``; the caller keeps the file aside as a corrupt one.

Reading is bounded: at most MAX_FILE_BYTES; nesting at most MAX_DEPTH levels, checked on
the text before it is parsed, so no recursion limit is ever reached; no NaN or Infinity,
no number longer than MAX_DIGITS digits, no duplicate keys (each reported at its path), no
string longer than MAX_STRING characters and none that could not be written back as UTF-8.

No Qt here. The document never holds a secret, so a message quoting a value from it never
shows one."""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import ValidationError
from .i18n import _, pgettext
from .jsonread import MAX_DEPTH, MAX_DIGITS, MAX_FILE_BYTES, Duplicated, Refused, depth_exceeded, loads

if TYPE_CHECKING:
    from .tenants import TenantTree

MAX_STRING = 1024 * 1024  # characters; a CA bundle in PEM is far smaller
MAX_ITEMS = 100_000  # entries of any one list or object
MAX_TENANTS = 100_000
MAX_RESULTS = 1_000  # stored check results of one integration (one per connection)
MAX_KEY = 200  # characters of a key, a secret's name or a reference

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TENANT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A keyring reference: 32 hex digits, optionally behind a scheme ("blob:"); never a path.
_REF = re.compile(r"(?:[a-z]{1,16}:)?[A-Za-z0-9_-]{1,128}")

Path = tuple[str | int, ...]


class DocumentProblem(Exception):
    """What is wrong with a settings document, and where: a JSON path, a line and column for
    text that is not JSON, or "the document" for the file as a whole."""

    def __init__(self, where: str, problem: str) -> None:
        # TRANSLATORS: names the settings file as a whole where a message names a JSON path.
        self.where = escape_controls(where) or _("the document")
        # A check of another module may quote a value from the file: the message stays one
        # line, and no terminal control sequence from the file reaches the screen.
        self.problem = escape_controls(problem)
        super().__init__(f"{self.where}: {self.problem}")


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def json_reason(exc: json.JSONDecodeError) -> str:
    """What the JSON parser found wrong, in the user's language (its own words are English)."""
    msg = exc.msg
    reasons = (
        ("Expecting value", _("a value was expected")),
        ("Expecting property name enclosed in double quotes", _("a key in double quotes was expected")),
        ("Expecting ':' delimiter", _("':' was expected")),
        ("Expecting ',' delimiter", _("',' was expected")),
        ("Unterminated string", _("a string is not closed")),
        ("Invalid control character", _("a string holds a control character")),
        ("Invalid \\uXXXX escape", _("a \\uXXXX escape is not valid")),
        ("Invalid \\escape", _("a backslash escape is not valid")),
        ("Extra data", _("more data follows the end of the JSON")),
    )
    return next((reason for prefix, reason in reasons if msg.startswith(prefix)), msg)


def escape_controls(text: str) -> str:
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text)


def parse_bytes(raw: bytes) -> Any:
    """The JSON value of a settings file's bytes, bounded as the module says; raises
    DocumentProblem (with a line and column where the text is not JSON)."""
    if len(raw) > MAX_FILE_BYTES:
        raise DocumentProblem(
            "",
            _("is larger than {limit} MiB, far more than any settings xdrconf writes").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            ),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentProblem(
            "", _("is not UTF-8 text (an invalid byte at offset {offset})").format(offset=exc.start)
        ) from None
    if depth_exceeded(text):
        raise DocumentProblem(
            "", _("nests lists and objects more than {limit} levels deep").format(limit=MAX_DEPTH)
        )
    try:
        value, odd = loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentProblem(
            _("line {line}, column {column}").format(line=exc.lineno, column=exc.colno),
            _("is not valid JSON ({reason})").format(reason=json_reason(exc)),
        ) from None
    except (ValueError, RecursionError) as exc:  # the parser's own limits; never reached above
        raise DocumentProblem(
            "", _("is not valid JSON ({reason})").format(reason=type(exc).__name__)
        ) from None
    # NaN, an over-long number, a duplicate key or an escaped lone surrogate: reported at its
    # path by one walk (a usual file has none, and is not walked twice).
    if odd:
        free(value, (), encodable=True)
    return value


# ---- paths and what was found ----------------------------------------------------------------------
def show(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it: short, control characters escaped."""
    if isinstance(value, str):
        return repr(value[:limit]) + ("…" if len(value) > limit else "")
    if isinstance(value, Refused):
        return value.text
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)[:limit]
    return found(value)


def render(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.fullmatch(part) and len(part) <= MAX_KEY:
            out += ("." if out else "") + part
        else:
            out += f"[{show(part, 40)}]"
    return out


def found(value: Any) -> str:
    """What kind of JSON value this is, as a message names it."""
    if value is None:
        return pgettext("kind of JSON value", "null")
    if isinstance(value, bool):
        return pgettext("kind of JSON value", "true or false")
    if isinstance(value, (int, float)):
        return pgettext("kind of JSON value", "a number")
    if isinstance(value, str):
        return pgettext("kind of JSON value", "text")
    if isinstance(value, list):
        return pgettext("kind of JSON value", "a list")
    if isinstance(value, dict):
        return pgettext("kind of JSON value", "an object")
    return pgettext("kind of JSON value", "a value xdrconf does not accept")


def reject(path: Path, problem: str) -> NoReturn:
    raise DocumentProblem(render(path), problem)


def _refused(value: Refused, path: Path) -> NoReturn:
    reject(
        path,
        _(
            "{value} is not a number the settings file may hold (no NaN, no Infinity, at most {n} digits)"
        ).format(value=value.text, n=MAX_DIGITS),
    )


def wrong_type(value: Any, path: Path, expected: str) -> NoReturn:
    if isinstance(value, Refused):
        _refused(value, path)
    reject(path, _("must be {expected}, not {found}").format(expected=expected, found=found(value)))


# ---- typed checks (each returns the value, or raises naming the path) -------------------------
def obj(
    value: Any, path: Path, allowed: Iterable[str] | None = None, required: Iterable[str] = ()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        wrong_type(value, path, pgettext("kind of JSON value", "an object"))
    if isinstance(value, Duplicated):
        reject(path, _("the key {key} appears more than once").format(key=show(value.duplicate)))
    if len(value) > MAX_ITEMS:
        reject(path, _("has more than {n} entries").format(n=MAX_ITEMS))
    if allowed is not None:
        known = allowed if isinstance(allowed, frozenset) else frozenset(allowed)
        for key in value:
            if key not in known:
                reject(
                    (*path, key),
                    _("is not a key of this part of the settings file (known: {keys})").format(
                        keys=", ".join(sorted(known))
                    ),
                )
    for key in required:
        if key not in value:
            reject((*path, key), _("is missing"))
    return value


def array(value: Any, path: Path, limit: int = MAX_ITEMS) -> list[Any]:
    if not isinstance(value, list):
        wrong_type(value, path, pgettext("kind of JSON value", "a list"))
    if len(value) > limit:
        reject(path, _("has more than {n} entries").format(n=limit))
    return value


def text(value: Any, path: Path, limit: int = MAX_STRING) -> str:
    if not isinstance(value, str):
        wrong_type(value, path, pgettext("kind of JSON value", "text"))
    _text_ok(value, path, limit)
    return value


def _text_ok(value: str, path: Path, limit: int = MAX_STRING, *, encodable: bool = False) -> None:
    if len(value) > limit:
        reject(path, _("is longer than {n} characters").format(n=limit))
    if encodable:  # only escapes can make a string that is not UTF-8 (parse_bytes looks)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            reject(path, _("contains an escape (\\ud800-\\udfff) that is not a character"))


def boolean(value: Any, path: Path) -> bool:
    if not isinstance(value, bool):
        wrong_type(value, path, pgettext("kind of JSON value", "true or false"))
    return value


def number(value: Any, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        wrong_type(value, path, pgettext("kind of JSON value", "a number"))
    return value


def free(value: Any, path: Path, *, encodable: bool = False) -> Any:
    """A part the schema leaves open (a result's details, an unsupported integration's
    settings), or the whole document once when the parser met something odd: any JSON,
    within the bounds. Iterative: the depth is bounded already."""
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        kind = type(item)
        if kind is str:
            _text_ok(item, where, encodable=encodable)
        elif kind is dict or kind is Duplicated:
            obj(item, where)
            for key, sub in item.items():
                _text_ok(key, (*where, key), MAX_KEY, encodable=encodable)
                if type(sub) in _CONTAINERS:
                    stack.append((sub, (*where, key)))
                elif type(sub) is str:
                    _text_ok(sub, (*where, key), encodable=encodable)
                elif type(sub) is Refused:
                    _refused(sub, (*where, key))
        elif kind is list:
            array(item, where)
            stack.extend((sub, (*where, i)) for i, sub in enumerate(item) if type(sub) not in _SCALARS)
        elif kind is Refused:
            _refused(item, where)
    return value


_CONTAINERS = (dict, list, Duplicated)
_SCALARS = (int, float, bool, type(None))


def iso_datetime(value: Any, path: Path) -> str:
    value = text(value, path, 64)
    try:
        _dt.datetime.fromisoformat(value)
    except ValueError:
        reject(path, _("{value} is not a date and time (ISO 8601)").format(value=show(value)))
    return value


# ---- the application settings -----------------------------------------------------------------------
# What each holds is said by core.appsettings (the one place that parses them: `config set`,
# the Settings dialog, Workspace.set_app); check_app_settings applies it to a document read.
APP_KEYS = frozenset(("timeout", "proxy", "language", "secret_store"))
MAX_NO_PROXY = 1000


def check_app_settings(app: Any) -> dict[str, Any]:
    """The application settings of a document as stored (canonical), or DocumentProblem
    naming app.<key>. The JSON types are checked here; the values by core.appsettings (as
    `config set`, the Settings dialog and Workspace.set_app check them)."""
    from . import appsettings
    from .secret_types import STORE_KINDS

    path: Path = ("app",)
    data = obj(app, path, APP_KEYS)
    out: dict[str, Any] = {}
    try:
        if "timeout" in data:
            where: Path = (*path, "timeout")
            out["timeout"] = appsettings.parse_timeout(number(data["timeout"], where))
        if "proxy" in data:
            where = (*path, "proxy")
            proxy = obj(data["proxy"], where, ("mode", "url", "no_proxy"))
            mode = text(proxy.get("mode", "none"), (*where, "mode"), 16)
            url = text(proxy.get("url", ""), (*where, "url"), 2048)
            hosts = array(proxy.get("no_proxy", []), (*where, "no_proxy"), MAX_NO_PROXY)
            no_proxy = [text(h, (*where, "no_proxy", i), 255) for i, h in enumerate(hosts)]
            out["proxy"] = appsettings.parse_proxy({"mode": mode, "url": url, "no_proxy": no_proxy})
        if "language" in data:
            where = (*path, "language")
            language = appsettings.validate({"language": text(data["language"], where, 16)})["language"]
            if language is not None:
                out["language"] = language
    except ValidationError as exc:
        reject(where, exc.problem)
    if "secret_store" in data:
        store = data["secret_store"]
        if store not in STORE_KINDS:
            reject(
                (*path, "secret_store"),
                _("{value} is not one of {choices}").format(
                    value=show(store), choices=", ".join(STORE_KINDS)
                ),
            )
        out["secret_store"] = store
    return out


# ---- the document -----------------------------------------------------------------------------------
DOCUMENT_KEYS = frozenset(("schema", "version", "namespace", "app", "tenants", "audit"))
TENANT_KEYS = frozenset(("id", "name", "parent", "role", "integrations", "kuma_tenant_id"))
AUDIT_KEYS = frozenset(("head", "seq"))
_SHA256 = re.compile(r"[0-9a-f]{64}")
STATE_KEYS = frozenset(("enabled", "settings", "secrets", "results"))
RESULT_TEXTS = ("message", "target", "tenant", "integration", "connection", "operation")


def check_document(doc: Any, *, schema: str, version: int) -> tuple[dict[str, Any], TenantTree]:
    """The canonical document (values as xdrconf writes them) and its tenant tree, or
    DocumentProblem naming the first problem's path."""
    from .tenants import TenantTree

    if not isinstance(doc, dict) or doc.get("schema") != schema:
        reject(
            (),
            _("is not an xdrconf settings document (its 'schema' is not '{schema}')").format(schema=schema),
        )
    root = obj(doc, ())
    got = root.get("version")
    if got != version or isinstance(got, bool):
        reject(
            ("version",),
            _("{found} is a schema version this xdrconf (version {version}) cannot read").format(
                found=show(got), version=version
            ),
        )
    obj(root, (), DOCUMENT_KEYS, ("namespace", "tenants"))
    namespace = text(root["namespace"], ("namespace",), 64)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", namespace):
        reject(
            ("namespace",), _("must be letters, digits, '-' or '_' (it names this folder's keyring entries)")
        )
    app = check_app_settings(root.get("app", {}))
    tenants = _tenants(root["tenants"])
    try:
        tree = TenantTree.from_list(tenants)
    except (ValueError, ValidationError, KeyError, TypeError) as exc:  # the checks above cover them all
        reject(("tenants",), str(exc))
    canonical = {"schema": schema, "version": version, "namespace": namespace, "app": app, "tenants": tenants}
    if "audit" in root:
        canonical["audit"] = check_audit_head(root["audit"])
    return canonical, tree


def check_audit_head(value: Any) -> dict[str, Any]:
    """Where the audit trail (audit.jsonl) ended when the settings were saved: the SHA-256
    of its last line and that line's number (core.audit)."""
    path: Path = ("audit",)
    head = obj(value, path, AUDIT_KEYS, AUDIT_KEYS)
    digest = text(head["head"], (*path, "head"), 64)
    if not _SHA256.fullmatch(digest):
        reject((*path, "head"), _("must be a SHA-256 in 64 lower-case hex digits"))
    seq = head["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        reject((*path, "seq"), _("must be a whole number, 0 or more"))
    return {"head": digest, "seq": seq}


def _tenants(value: Any) -> list[dict[str, Any]]:
    from .tenants import KUMA_ID, ROOT, SHARED, TENANT, validate_kuma_id, validate_name

    items = array(value, ("tenants",), MAX_TENANTS)
    out: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    roles: dict[str, int] = {}
    kuma_ids: dict[str, int] = {}
    for i, item in enumerate(items):
        path: Path = ("tenants", i)
        t = obj(item, path, TENANT_KEYS, ("id", "name"))
        tid = text(t["id"], (*path, "id"), 64)
        if not _TENANT_ID.fullmatch(tid):
            reject((*path, "id"), _("{value} is not a tenant id").format(value=show(tid)))
        if tid in index:
            reject(
                (*path, "id"),
                _("{value} is also the id of tenants[{other}]").format(value=show(tid), other=index[tid]),
            )
        index[tid] = i
        try:
            # stored=True: names older versions let in (e.g. with a zero-width character) do
            # not make the whole file unusable; new names get every rule (tenants.validate_name).
            name = validate_name(text(t["name"], (*path, "name"), 4096), stored=True)
        except ValidationError as exc:
            reject((*path, "name"), exc.problem)
        role = t.get("role", TENANT)
        if role not in (ROOT, SHARED, TENANT):
            reject((*path, "role"), _("{value} is not one of root, shared, tenant").format(value=show(role)))
        if role in roles and role != TENANT:
            reject(
                (*path, "role"),
                _("a second {role} tenant (the first is tenants[{other}])").format(
                    role=role, other=roles[role]
                ),
            )
        roles.setdefault(role, i)
        parent = t.get("parent")
        if parent is not None:
            parent = text(parent, (*path, "parent"), 64)
        if role != TENANT and parent is not None:
            reject((*path, "parent"), _("the Root and the Shared tenant have no parent"))
        integrations = obj(t.get("integrations", {}), (*path, "integrations"))
        if role == SHARED and integrations:
            reject((*path, "integrations"), _("the Shared tenant has no integration settings"))
        states = {
            kind: _state(kind, state, (*path, "integrations", kind), role == ROOT)
            for kind, state in integrations.items()
        }
        entry = {"id": tid, "name": name, "parent": parent, "role": role, "integrations": states}
        if KUMA_ID in t:
            where = (*path, KUMA_ID)
            try:
                kuma_id = validate_kuma_id(text(t[KUMA_ID], where, 256))
            except ValidationError as exc:
                reject(where, exc.problem)
            if kuma_id in kuma_ids:
                reject(
                    where,
                    _("{value} is also the KUMA tenant of tenants[{other}]").format(
                        value=show(kuma_id), other=kuma_ids[kuma_id]
                    ),
                )
            kuma_ids[kuma_id] = i
            entry[KUMA_ID] = kuma_id
        out.append(entry)
    for role in (ROOT, SHARED):
        if role not in roles:
            reject(("tenants",), _("there is no {role} tenant").format(role=role))
    # Parents exist, are not Shared, and lead to Root; sibling names differ.
    children: dict[str, list[int]] = {}
    for i, t in enumerate(out):
        if t["role"] != TENANT:
            continue
        parent = t["parent"]
        if parent is None or parent not in index:
            reject(
                ("tenants", i, "parent"), _("{value} is not the id of a tenant").format(value=show(parent))
            )
        if out[index[parent]]["role"] == SHARED:
            reject(("tenants", i, "parent"), _("the Shared tenant cannot have child tenants"))
        children.setdefault(parent, []).append(i)
    reached = {out[roles[ROOT]]["id"]}
    stack = [out[roles[ROOT]]["id"]]
    while stack:
        names: dict[str, int] = {}
        for i in children.get(stack.pop(), []):
            key = out[i]["name"].lower()
            if key in names:
                reject(
                    ("tenants", i, "name"),
                    _("{value} is also the name of a sibling (tenants[{other}])").format(
                        value=show(out[i]["name"]), other=names[key]
                    ),
                )
            names[key] = i
            reached.add(out[i]["id"])
            stack.append(out[i]["id"])
    for i, t in enumerate(out):
        if t["role"] == TENANT and t["id"] not in reached:
            reject(("tenants", i, "parent"), _("does not lead to the Root tenant (the parents form a cycle)"))
    return out


def _state(kind: str, value: Any, path: Path, is_root: bool) -> dict[str, Any]:
    from . import catalog
    from .tenants import IntegrationState

    if kind not in catalog.KINDS:
        reject(path, _("is not an integration this xdrconf knows"))
    state = obj(value, path, STATE_KEYS)
    enabled = boolean(state.get("enabled", False), (*path, "enabled"))
    settings = obj(state.get("settings", {}), (*path, "settings"))
    secrets: dict[str, str] = {}
    for name, ref in obj(state.get("secrets", {}), (*path, "secrets")).items():
        where = (*path, "secrets", name)
        _text_ok(name, where, MAX_KEY)
        if not name or not _REF.fullmatch(text(ref, where, MAX_KEY)):
            reject(where, _("{value} is not a keyring reference").format(value=show(ref)))
        secrets[name] = ref
    results = [
        _result(r, (*path, "results", i))
        for i, r in enumerate(array(state.get("results", []), (*path, "results"), MAX_RESULTS))
    ]
    spec = catalog.spec_for(kind)
    if spec.supported:
        settings = _settings(spec, settings, secrets, (*path, "settings"), is_root)
    else:
        free(settings, (*path, "settings"))
    if spec.flags is not None:
        # The last gate: what every listing computes from a stored state must not fail on it.
        try:
            spec.flags(IntegrationState(kind, enabled, settings, secrets, results), _dt.datetime.now(_dt.UTC))
        except Exception as exc:  # noqa: BLE001 - any failure means the stored settings are unusable
            reject((*path, "settings"), _cannot_read(spec.title, exc))
    return {"enabled": enabled, "settings": settings, "secrets": secrets, "results": results}


def _cannot_read(title: str, exc: BaseException) -> str:
    return _("the stored settings of {title} cannot be used ({error})").format(
        title=title, error=type(exc).__name__
    )


def _json_type(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, (int, float)):
        return float
    return type(value)


def _settings(
    spec: Any, settings: dict[str, Any], secrets: dict[str, str], path: Path, is_root: bool
) -> dict[str, Any]:
    from .catalog import ValidationContext

    fields = {f.name: f for f in spec.fields}
    out: dict[str, Any] = {}
    for key, value in settings.items():
        where = (*path, key)
        if key in spec.structured_keys:
            out[key] = free(value, where)
            continue
        f = fields.get(key)
        if f is None:
            reject(where, _("is not a setting of {title}").format(title=spec.title))
        if f.secret:
            reject(where, _("is a secret: secrets are kept in the keyring, never in the settings file"))
        if value is None:
            continue  # an absent value, written as null
        free(value, where)
        try:
            canon = f.parse(f.format(value))
        except ValidationError as exc:
            reject(where, exc.problem)
        except Exception as exc:  # noqa: BLE001 - a value of a type the field's format cannot show
            reject(
                where,
                _("cannot be read as {label} ({error})").format(label=f.label, error=type(exc).__name__),
            )
        if canon is None or canon == "":
            continue
        if _json_type(canon) is not _json_type(value):
            wrong_type(value, where, found(canon))
        out[key] = canon
    if spec.validate is not None:
        # Rules of what an edit may turn on (completeness) and of today's date are for edits;
        # a file is read as it was saved.
        vctx = ValidationContext(is_root, frozenset(secrets), today=_dt.date.max, enabled=False)
        try:
            spec.validate(out, vctx)
        except ValidationError as exc:
            named = exc.field if exc.field in out else None
            reject((*path, named) if named else path, exc.problem if named else str(exc))
        except Exception as exc:  # noqa: BLE001 - a structured setting of the wrong shape
            reject(path, _cannot_read(spec.title, exc))
    return out


_CATEGORIES: frozenset[str] = frozenset()


def _result(value: Any, path: Path) -> dict[str, Any]:
    global _CATEGORIES
    if not _CATEGORIES:
        from .outcome import Category

        _CATEGORIES = frozenset(c.value for c in Category)
    r = obj(value, path, None, ("category", "message", "checked_at"))
    category = r["category"]
    if not isinstance(category, str) or category not in _CATEGORIES:
        reject((*path, "category"), _("{value} is not an outcome category").format(value=show(category)))
    for key in RESULT_TEXTS:
        if key in r:
            text(r[key], (*path, key))
    iso_datetime(r["checked_at"], (*path, "checked_at"))
    latency = r.get("latency_ms")
    if latency is not None and number(latency, (*path, "latency_ms")) < 0:
        reject((*path, "latency_ms"), _("must not be negative"))
    if "warnings" in r:
        for i, item in enumerate(array(r["warnings"], (*path, "warnings"), 100)):
            text(item, (*path, "warnings", i))
    for key in ("verified", "refused"):
        if key in r:
            boolean(r[key], (*path, key))
    for key, item in r.items():
        if key not in _RESULT_KEYS:
            _text_ok(key, (*path, key), MAX_KEY)
            free(item, (*path, key))
    free(obj(r.get("details", {}), (*path, "details")), (*path, "details"))
    return r


_RESULT_KEYS = frozenset(
    ("category", "latency_ms", "checked_at", "warnings", "verified", "refused", *RESULT_TEXTS)
)
