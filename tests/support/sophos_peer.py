"""A Sophos Firewall XML API for tests: HTTPS (a certificate the test gives),
`POST /webconsole/APIController` with the form field `reqxml`, answering as the official SDK
and public clients show it (shared/INTEGRATIONS.md "Sophos Firewall"; sophos/sophos-firewall-sdk).
The API has no sessions: every request carries `<Login>` and is authenticated on its own.

- `<Request><Login><Username>…</Username><Password>…</Password></Login>…</Request>` →
  `<Response APIVersion=…><Login><status>Authentication Successful</status></Login>…` or, with
  nothing else answered, `Authentication Failure` [doc].
- API access off (`api_enabled=False`) → top-level `<Status code="532">` [doc], checked first
  [inferred]; a caller outside `allowed_clients` → `<Status code="534">API operations are not
  allowed from the requester IP address.</Status>` [doc]. Both come with HTTP 200 [doc].
  The allow list takes addresses and networks (SFOS 22 allows IP hosts, ranges, networks).
- `<Get><IPHostGroup>` / `<Get><IPHost>`, optionally with `<Filter><key name="Name"
  criteria="=|!=|like">value</key></Filter>` [doc] → one element per match, or
  `<IPHostGroup transactionid=""><Status>Number of records Zero.</Status></IPHostGroup>` [doc].
  "like" matches a case-insensitive substring; several keys must all match [inferred].
- Values are XML; a client that does not escape `&`, `<` in a password sends malformed XML →
  `MALFORMED_STATUS` [inferred: code and text].
- `reqxml` in a URL query (a GET, as some public clients do, or a POST) is refused with HTTP
  405 and recorded in `reqxml_in_url`. This is the peer's policy so that a test can prove the
  password never went into a URL; a real firewall answers such requests.
- `<Set>` and `<Remove>` change nothing here: recorded in `writes`, answered `WRITE_REFUSED`.

Knobs: `cert`, `users` {username: password}, `api_enabled`, `allowed_clients` (default
127.0.0.1: the source the kernel picks for any 127.x.y.z), `groups` {name: [host names]},
`hosts` {name: ip}, `api_version`, `host`.
Recorded: `requests` (HttpsPeer), `xml_requests` (each parsed `reqxml`, an ElementTree
element), `reqxml_in_url`, `writes`, `logins` (successful authentications), `failed_logins`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from .https_peer import HttpsPeer, Reply, Request
from .peer_common import AllowList

PATH = "/webconsole/APIController"
API_VERSION = "2000.1"
NOT_ALLOWED = ("534", "API operations are not allowed from the requester IP address.")  # [doc]
NOT_ENABLED = ("532", "You need to enable the API Configuration.")  # [doc: code; text: a client]
ZERO_RECORDS = "Number of records Zero."  # [doc]
# ---- [inferred] behaviour: no public source confirms these; change them here ---------------
MALFORMED_STATUS = ("529", "Input request file is Invalid")
NO_REQXML_STATUS = ("500", "Input request is empty")
UNKNOWN_ENTITY = ("500", "Operation failed. Entity not supported.")
WRITE_REFUSED = ("500", "Operation failed. This test peer is read-only.")

USER = "xdr-api"
PASSWORD = "S0phos&<pa$$>\"'"
_ENTITIES = ("IPHostGroup", "IPHost")


class SophosPeer(HttpsPeer):
    """Start with `with SophosPeer(cert) as fw:`; `fw.port`, `fw.xml_requests`."""

    def __init__(
        self,
        cert: Any,
        *,
        users: Mapping[str, str] | None = None,
        api_enabled: bool = True,
        allowed_clients: Iterable[str] | None = ("127.0.0.1",),
        groups: Mapping[str, list[str]] | None = None,
        hosts: Mapping[str, str] | None = None,
        api_version: str = API_VERSION,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(self._route, cert=cert, host=host)
        self.users = dict(users if users is not None else {USER: PASSWORD})
        self.api_enabled = api_enabled
        self.allowed = AllowList(allowed_clients)
        self.groups = {k: list(v) for k, v in (groups or {}).items()}
        self.hosts = dict(hosts or {})
        self.api_version = api_version
        self.xml_requests: list[ET.Element] = []
        self.reqxml_in_url: list[str] = []
        self.writes: list[ET.Element] = []
        self.logins = 0
        self.failed_logins = 0

    def set_allowed_clients(self, entries: Iterable[str] | None) -> None:
        self.allowed = AllowList(entries)

    # ---- HTTP --------------------------------------------------------------------------------
    def _route(self, req: Request) -> Reply:
        if req.path != PATH:
            return Reply(404, "Not Found")
        if "reqxml" in req.query:
            with self.lock:
                self.reqxml_in_url.extend(req.query["reqxml"])
            return Reply(405, "reqxml must be sent in the body of a POST, not in the URL")
        if req.method != "POST":
            return Reply(405, "Method Not Allowed")
        form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        reqxml = (form.get("reqxml") or [""])[0]
        if not reqxml:
            return self._reply([self._status(*NO_REQXML_STATUS)])
        if not self.api_enabled:
            return self._reply([self._status(*NOT_ENABLED)])
        if not self.allowed.allows(req.client):
            return self._reply([self._status(*NOT_ALLOWED)])
        try:
            request = ET.fromstring(reqxml)
        except ET.ParseError:
            return self._reply([self._status(*MALFORMED_STATUS)])
        with self.lock:
            self.xml_requests.append(request)
        if request.tag != "Request":
            return self._reply([self._status(*MALFORMED_STATUS)])
        return self._reply(self._answer(request))

    def _reply(self, children: list[ET.Element]) -> Reply:
        root = ET.Element("Response", {"APIVersion": self.api_version, "IPS_CAT_VER": "1"})
        root.extend(children)
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
        return Reply(200, body, {"Content-Type": "text/xml; charset=UTF-8"})

    @staticmethod
    def _status(code: str | None, text: str) -> ET.Element:
        el = ET.Element("Status", {"code": code} if code else {})
        el.text = text
        return el

    # ---- the XML API -------------------------------------------------------------------------
    def _answer(self, request: ET.Element) -> list[ET.Element]:
        login = ET.Element("Login")
        status = ET.SubElement(login, "status")
        user = request.findtext("Login/Username")
        password = request.findtext("Login/Password")
        if user is None or password is None or self.users.get(user) != password:
            with self.lock:
                self.failed_logins += 1
            status.text = "Authentication Failure"
            return [login]
        with self.lock:
            self.logins += 1
        status.text = "Authentication Successful"
        out = [login]
        for op in request:
            if op.tag == "Get":
                for entity in op:
                    out.extend(self._get(entity))
            elif op.tag in ("Set", "Remove"):
                for entity in op:
                    with self.lock:
                        self.writes.append(entity)
                    out.append(self._entity(entity.tag, [self._status(*WRITE_REFUSED)]))
        return out

    @staticmethod
    def _entity(tag: str, children: list[ET.Element]) -> ET.Element:
        el = ET.Element(tag, {"transactionid": ""})
        el.extend(children)
        return el

    def _objects(self, tag: str) -> list[dict[str, Any]]:
        if tag == "IPHostGroup":
            return [
                {"Name": n, "Description": "", "HostList": hosts, "IPFamily": "IPv4"}
                for n, hosts in self.groups.items()
            ]
        return [
            {"Name": n, "IPFamily": "IPv4", "HostType": "IP", "IPAddress": ip} for n, ip in self.hosts.items()
        ]

    def _get(self, entity: ET.Element) -> list[ET.Element]:
        if entity.tag not in _ENTITIES:
            return [self._entity(entity.tag, [self._status(*UNKNOWN_ENTITY)])]
        keys = entity.findall("Filter/key")
        found = [o for o in self._objects(entity.tag) if all(_matches(o, k) for k in keys)]
        if not found:
            return [self._entity(entity.tag, [self._status(None, ZERO_RECORDS)])]
        return [self._entity(entity.tag, [_field(k, v) for k, v in o.items()]) for o in found]


def _matches(obj: dict[str, Any], key: ET.Element) -> bool:
    value = str(obj.get(key.get("name", ""), ""))
    wanted = key.text or ""
    criteria = key.get("criteria", "=")
    if criteria == "like":
        return wanted.lower() in value.lower()
    if criteria == "!=":
        return value != wanted
    return value == wanted


def _field(name: str, value: Any) -> ET.Element:
    el = ET.Element(name)
    if isinstance(value, list):
        for item in value:
            ET.SubElement(el, "Host").text = item
    else:
        el.text = value
    return el
