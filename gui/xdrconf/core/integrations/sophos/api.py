"""The Sophos Firewall XML API as the check uses it: one `POST /webconsole/APIController` whose
form field `reqxml` carries `<Request><Login>…</Login><Get>…</Get></Request>`, the values
XML-escaped, in the body (never in the URL). The API has no sessions: every request logs in
on its own. Wire facts: shared/INTEGRATIONS.md "Sophos Firewall"."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from ...errors import ValidationError
from ...fields import host_port
from ...i18n import _, ngettext
from ...outcome import Category, Outcome

if TYPE_CHECKING:
    from ...engine import OpContext

PATH = "/webconsole/APIController"
# [doc: the SDK and public clients] top-level <Status code=…> of a refused request.
API_OFF = "532"
NOT_ALLOWED = "534"
AUTH_OK = "Authentication Successful"
AUTH_FAILED = "Authentication Failure"
ZERO_RECORDS = "Number of records Zero."
# Where API access is set: SFOS up to 21.5, and since SFOS 22 (moved to the Administration menu).
API_PATH = "System → Backup & firmware → API"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def url_of(settings: dict[str, Any]) -> str:
    return f"https://{host_port(str(settings['host']), int(settings['port']))}{PATH}"


def xml_text(value: str, label: str, name: str) -> str:
    """A value as the text of an XML element; characters XML cannot carry are refused."""
    if _NOT_XML.search(value):
        raise ValidationError(
            label, _("contains control characters, which the XML API cannot carry"), field=name
        )
    return escape(value)


def request_xml(username: str, password: str, group: str = "") -> str:
    login = (
        f"<Login><Username>{xml_text(username, _('User name'), 'username')}</Username>"
        f"<Password>{xml_text(password, _('Password'), 'password')}</Password></Login>"
    )
    get = ""
    if group:
        get = (
            "<Get><IPHostGroup><Filter>"
            f'<key name="Name" criteria="=">{xml_text(group, _("Block group"), "block_group")}</key>'
            "</Filter></IPHostGroup></Get>"
        )
    return f"<Request>{login}{get}</Request>"


def parse(ctx: OpContext, target: str, content: bytes) -> ET.Element:
    """The <Response> element; a refusal of the whole request ends the check."""
    not_api = _(
        "{target} answered, but not as the Sophos Firewall XML API does; check the host and port "
        "(the web admin console's, 4444 by default)."
    ).format(target=target)
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        ctx.fail(Category.PROTOCOL_ERROR, not_api)
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        ctx.fail(Category.PROTOCOL_ERROR, not_api)
    if root.tag != "Response":
        ctx.fail(Category.PROTOCOL_ERROR, not_api)
    status = root.find("Status")
    if status is not None:
        code, said = status.get("code") or "", (status.text or "").strip()[:300]
        details = {"code": code}
        if code == API_OFF:
            ctx.fail(
                Category.FORBIDDEN,
                _(
                    'Sophos Firewall refused the request: API access is off (code 532: "{said}"). Turn '
                    "on API configuration and allow this computer's address: {path}; since SFOS 22 the "
                    "API settings are in the Administration menu."
                ).format(said=said, path=API_PATH),
                **details,
            )
        if code == NOT_ALLOWED:
            ctx.fail(
                Category.FORBIDDEN,
                _(
                    "Sophos Firewall refused the request: this computer's address is not in the API allow "
                    'list (code 534: "{said}"). Add it, and the script-launch host\'s address, to the '
                    "allowed IP addresses: {path}; since SFOS 22 the API settings are in the "
                    "Administration menu, where the allowed sources are IP host objects."
                ).format(said=said, path=API_PATH),
                **details,
            )
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _('Sophos Firewall refused the request (code {code}: "{said}").').format(
                code=code or "?", said=said
            ),
            **details,
        )
    return root


def check(ctx: OpContext) -> list[Outcome]:
    """One request: log in and, when a block group is set, get that IP host group."""
    s = ctx.settings
    username = str(s.get("username") or "")
    password = ctx.require_secret("password")
    group = str(s.get("block_group") or "")
    session = ctx.http()
    target = ctx.target
    r = session.post(
        url_of(s),
        data={"reqxml": request_xml(username, password, group)},
        headers={"Accept": "application/xml, text/xml"},
        meaning={
            404: (
                Category.PROTOCOL_ERROR,
                _(
                    "{target} has no Sophos Firewall XML API at {path} (HTTP 404); check the host and port "
                    "(the web admin console's, 4444 by default)."
                ).replace("{path}", PATH),
            )
        },
    )
    root = parse(ctx, session.target or target, r.content)
    login = root.findtext("Login/status")
    if login is None:
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _(
                "Sophos Firewall answered without the result of the login; is this the XML API of "
                "Sophos Firewall?"
            ),
        )
    if login.strip() != AUTH_OK:
        ctx.fail(
            Category.AUTH_FAILED,
            _(
                "Sophos Firewall did not accept the user name '{user}' and the password (\"{said}\"). Check "
                "them, and that the account is an administrator (Authentication → Users, user type "
                "Administrator) whose profile allows what the response scripts do."
            ).format(user=username, said=login.strip()),
        )
    parts = [
        _("Connected: Sophos Firewall at {target} (API {version}) accepted the login of '{user}'.").format(
            target=session.target or target, version=root.get("APIVersion") or "?", user=username
        )
    ]
    details: dict[str, Any] = {"api_version": root.get("APIVersion") or ""}
    if group:
        details["group_members"] = members = _group_members(ctx, root, group)
        parts.append(
            ngettext(
                "The IP host group '{group}' exists ({n} host).",
                "The IP host group '{group}' exists ({n} hosts).",
                members,
            ).format(group=group, n=members)
        )
    parts.append(_("The XML API keeps no session, so there is nothing to log out of."))
    return [Outcome(Category.OK, " ".join(parts), details=details)]


def _group_members(ctx: OpContext, root: ET.Element, group: str) -> int:
    answers = root.findall("IPHostGroup")
    for el in answers:
        if (el.findtext("Name") or "") == group:
            return len(el.findall("HostList/Host"))
    statuses = [(el.find("Status"), el) for el in answers]
    said = next((st.text or "" for st, _el in statuses if st is not None), "").strip()
    if not answers or said == ZERO_RECORDS:
        ctx.fail(
            Category.INVALID_CONFIG,
            _(
                "The login works, but the IP host group '{group}' that the response scripts fill does not "
                "exist on the firewall; create it (System → Hosts and services → IP host group) or correct "
                "the name in the settings."
            ).format(group=group),
        )
    ctx.fail(
        Category.PROTOCOL_ERROR,
        _("Sophos Firewall did not say whether the IP host group '{group}' exists (\"{said}\").").format(
            group=group, said=said[:300]
        ),
    )
