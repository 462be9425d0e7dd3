"""UserGate NGFW: the management API (XML-RPC over plain HTTP, port 4040) that the response
scripts on the script-launch host use to block addresses. The check, read-only: the node's
status (no login), the login, the IP list the scripts fill (when named), and the log-out —
always, also when a step fails or the check is cancelled. Wire facts: shared/INTEGRATIONS.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...catalog import IntegrationSpec, Page
from ...engine import check_operation
from ...errors import OperationFailed
from ...fields import Field
from ...i18n import N_, _
from ...outcome import Category, Outcome
from ..common import SCRIPT_HOST, signed_in
from .rpc import (
    NO_PERMISSION_FAULTS,
    NOT_FOUND_FAULTS,
    ORIGIN,
    SESSION_FAULTS,
    WRONG_PASSWORD_FAULTS,
    Fault,
    Rpc,
)

if TYPE_CHECKING:
    from ...engine import OpContext

SPEC_TITLE = "UserGate"
DEFAULT_PORT = 4040
LIST_TYPE = "network"  # [doc] the type of IP lists in v2.nlists.list
PAGE_SIZE = 100

FIELDS = (
    Field(
        "host",
        N_("UserGate host"),
        kind="host",
        required=True,
        help=N_(
            "Host name or IP address of the UserGate interface the scripts reach, e.g. ngfw.example.invalid."
        ),
        placeholder="ngfw.example.invalid",
    ),
    Field(
        "port",
        N_("Port"),
        kind="port",
        required=True,
        default=DEFAULT_PORT,
        help=N_("Port of the XML-RPC management API (4040 by default)."),
    ),
    Field(
        "username",
        N_("User name"),
        required=True,
        help=N_(
            "The administrator account the response scripts use; its administrator profile needs API "
            "rights on core, nlists, firewall and content."
        ),
    ),
    Field(
        "password",
        N_("Password"),
        kind="secret",
        required=True,
        help=N_("The account's password. Kept in the secret store only."),
    ),
    Field(
        "block_list",
        N_("IP list"),
        help=N_(
            "Optional: the name of the IP list the scripts add addresses to (Libraries → IP "
            "addresses), exactly as UserGate shows it. The check makes sure it exists."
        ),
        placeholder=N_("XDR block list"),
    ),
)

PLAIN_HTTP_WARNING = N_(
    "UserGate's XML-RPC API is plain HTTP: the password crosses the network in clear. Allow "
    "'XML-RPC for management' only from this computer's and the script-launch host's addresses "
    "(UserGate: Network → Zones → the zone's access control), over a management network."
)


def _fault(rpc: Rpc, fault: Fault, step: str) -> tuple[Category, str]:
    """The category and words of a Fault answered to one step (login, lists, …)."""
    said, target, user = fault.said(), rpc.target, str(rpc.ctx.settings.get("username", ""))
    if fault.code in SESSION_FAULTS:
        return (
            Category.AUTH_FAILED,
            _(
                "UserGate ended the session at once ({said} to {method}): it timed out or the box "
                "does not know it; check the box's clock and its administrator session settings, "
                "then check again."
            ).format(said=said, method=fault.method),
        )
    if fault.code in NO_PERMISSION_FAULTS:
        if step == "login":
            text = _(
                "UserGate let '{user}' in but refused the API ({said}): the account's administrator "
                "profile has no API access, or the API is not licensed. Give the profile API rights "
                "on core, nlists, firewall and content (Administrators → Administrator profiles)."
            )
        else:
            text = _(
                "UserGate refused '{user}' the list of IP lists ({said}): the account's administrator "
                "profile has no API right on named lists (nlists), which the scripts need. Add it "
                "(Administrators → Administrator profiles)."
            )
        return Category.FORBIDDEN, text.format(user=user, said=said)
    if step == "login":
        if fault.code in WRONG_PASSWORD_FAULTS:
            text = _(
                "UserGate refused the login of '{user}' ({said}): the user name or the password is "
                "wrong, or the account is not a UserGate administrator. Correct them and check again."
            )
        else:
            text = _(
                "UserGate refused the login of '{user}' ({said}); check the user name, the password "
                "and the account's administrator profile."
            )
        return Category.AUTH_FAILED, text.format(user=user, said=said)
    if fault.code in NOT_FOUND_FAULTS or fault.method == "v2.core.node.status":
        return (
            Category.PROTOCOL_ERROR,
            _(
                "{target} does not know {method} ({said}): this is not a UserGate NGFW with API "
                "version 2 (a UserGate Management Center listens on port 4041 with another API)."
            ).format(target=target, method=fault.method, said=said),
        )
    return (
        Category.PROTOCOL_ERROR,
        _("{target} answered {method} with {said}, which was not expected.").format(
            target=target, method=fault.method, said=said
        ),
    )


def _call(rpc: Rpc, step: str, method: str, *params: Any) -> Any:
    try:
        return rpc.call(method, *params)
    except Fault as fault:
        category, message = _fault(rpc, fault, step)
        rpc.ctx.fail(category, message, fault=fault.code, method=method)


def _find_list(rpc: Rpc, token: str, name: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The IP list named exactly `name` and the names of the others the search found (the
    box's search matches names that contain the text, in any case [inferred])."""
    found: list[dict[str, Any]] = []
    start = 0
    while True:
        answer = _call(rpc, "lists", "v2.nlists.list", token, LIST_TYPE, start, PAGE_SIZE, {"search": name})
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            rpc.ctx.fail(
                Category.PROTOCOL_ERROR,
                _("{target} answered v2.nlists.list without a list of items.").format(target=rpc.target),
            )
        found.extend(i for i in items if isinstance(i, dict))
        start += len(items)
        count = answer.get("count")
        if not items or not isinstance(count, int) or start >= count:
            break
        rpc.ctx.progress()
    exact = next((i for i in found if i.get("name") == name), None)
    return exact, [str(i.get("name")) for i in found if i is not exact]


def check(ctx: OpContext) -> list[Outcome]:
    s = ctx.settings
    user = str(s["username"])
    password = ctx.require_secret("password")
    rpc = Rpc(ctx)
    status = _call(rpc, "status", "v2.core.node.status")
    node_status = status.get("status") if isinstance(status, dict) else None
    if not isinstance(node_status, str):
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _(
                "{target} answered v2.core.node.status without a node status; check that it is "
                "UserGate's management API (port 4040)."
            ).format(target=rpc.target),
        )
    if node_status != "work":
        ctx.fail(
            Category.SERVER_ERROR,
            _(
                "UserGate at {target} answers, but its node is '{status}', not 'work' (starting, "
                "updating or failed); the scripts cannot block anything until it works again."
            ).format(target=rpc.target, status=node_status),
        )

    def login() -> dict[str, Any]:
        session = _call(rpc, "login", "v2.core.login", user, password, {"origin": ORIGIN})
        token = session.get("auth_token") if isinstance(session, dict) else None
        if not isinstance(token, str) or not token:
            ctx.fail(
                Category.PROTOCOL_ERROR,
                _("{target} answered v2.core.login without a session token.").format(target=rpc.target),
            )
        ctx.redactor.add(token)  # the session token is as good as the password until it ends
        return session

    def logout(session: dict[str, Any]) -> None:
        try:
            rpc.call("v2.core.logout", session["auth_token"], final=True)
        except Fault as fault:
            raise OperationFailed(Category.PROTOCOL_ERROR, fault.said()) from None

    block_list = s.get("block_list")
    with signed_in(ctx, login, logout) as held:
        session, token = held.token, str(held.token["auth_token"])
        version = str(session.get("version") or "")
        node = str(session.get("node") or "")
        details: dict[str, Any] = {"version": version, "node": node}
        if block_list:
            exact, others = _find_list(rpc, token, str(block_list))
            if exact is None:
                similar = ", ".join(f"'{n}'" for n in others[:5])
                if similar:
                    text = _(
                        "UserGate has no IP list named exactly '{name}' (similar names: {similar}); "
                        "correct the name (it is compared exactly, case included) or create the list "
                        "(Libraries → IP addresses)."
                    )
                else:
                    text = _(
                        "UserGate has no IP list named '{name}'; create it (Libraries → IP addresses) or "
                        "correct the name the scripts use."
                    )
                ctx.fail(Category.INVALID_CONFIG, text.format(name=block_list, similar=similar))
            details["block_list_id"] = exact.get("id")
            found = _("the IP list '{name}' exists.").format(name=block_list)
        else:
            found = _("no IP list is named in the settings, so none was looked for.")
    left_open = held.left_open()
    warnings = [_(PLAIN_HTTP_WARNING), *([left_open] if left_open else [])]
    message = _("Connected: UserGate {version} ({node}) accepted the login of '{user}'; {found}").format(
        version=version or "?", node=node or "?", user=user, found=found
    )
    return [Outcome(Category.OK, message, details=details, warnings=warnings)]


SPEC = IntegrationSpec(
    kind="usergate",
    title=SPEC_TITLE,
    description=N_(
        "UserGate NGFW's XML-RPC management API: Kaspersky Next XDR Expert blocks IP addresses, "
        "hosts and URLs on UserGate through response scripts that run on the script-launch host "
        "(the custom integration) and log in with this account."
    ),
    see_also=(SCRIPT_HOST,),
    fields=FIELDS,
    pages=(
        Page(
            N_("UserGate — management API"),
            N_("Where UserGate's XML-RPC management API listens (plain HTTP, port 4040)."),
            ("host", "port", "block_list"),
            about=N_(
                "Kaspersky Next XDR Expert blocks IP addresses, hosts and URLs on UserGate through "
                "response scripts that run on the script-launch host (the tenant's custom "
                "integration): they log in to this API and add addresses to an IP list. The check "
                "proves that the API answers, the account logs in and the IP list exists, and logs "
                "out again; it changes nothing."
            ),
        ),
        Page(
            N_("UserGate — API account"),
            N_(
                "The administrator account the scripts log in with. The password is kept in the "
                "secret store and crosses the network in clear (the API is plain HTTP)."
            ),
            ("username", "password"),
        ),
    ),
    operations=(
        check_operation(
            check,
            description=N_(
                "Read the node's status, log in, look for the IP list and log out again (read-only; "
                "the password crosses the network in clear)."
            ),
        ),
    ),
    target_fields=("host", "port"),
)
