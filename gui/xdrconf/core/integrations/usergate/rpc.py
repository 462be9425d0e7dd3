"""UserGate's management API: XML-RPC over plain HTTP at http://<host>:<port>/rpc, sent
through the engine's request helper (its timeout on every step, cancel, the app's proxy, no
redirects, a capped body, redaction) with the XML made and read by xmlrpc.client.

Wire facts (shared/INTEGRATIONS.md "UserGate NGFW"): [doc] the methods and their answers,
Faults 104 (session timed out), 5/102 (no permission or licence), 7/404 (not found);
[inferred] the Fault of a wrong login or password (WRONG_PASSWORD_FAULTS), that a token the
box does not know gives 104 too, and that a caller the zone's access control does not allow
has its connection reset (or closed unanswered)."""

from __future__ import annotations

import xmlrpc.client
from typing import TYPE_CHECKING, Any
from xml.parsers.expat import ExpatError

from ...errors import OperationFailed
from ...fields import host_port
from ...i18n import _
from ...outcome import Category

if TYPE_CHECKING:
    from ...engine import OpContext
    from ...http import HttpSession

# ---- Fault codes ---------------------------------------------------------------------------------
# [inferred] No public source names the Fault of a wrong login or password; change it here.
WRONG_PASSWORD_FAULTS = frozenset({2})
SESSION_FAULTS = frozenset({104})  # [doc] the session timed out
NO_PERMISSION_FAULTS = frozenset({5, 102})  # [doc] no permission, or no licence
NOT_FOUND_FAULTS = frozenset({7, 404})  # [doc]
PATH = "/rpc"
ORIGIN = "xdrconf"  # the "origin" UserGate records for the session


class Fault(Exception):
    """An XML-RPC Fault from UserGate (its code and text, redacted)."""

    def __init__(self, method: str, code: int, text: str) -> None:
        self.method, self.code, self.text = method, code, text
        super().__init__(f"{method}: Fault {code} ({text})")

    def said(self) -> str:
        """How a message quotes it: Fault 104 "Session timed out"."""
        return f'Fault {self.code} "{self.text}"' if self.text else f"Fault {self.code}"


def url_of(settings: dict[str, Any]) -> str:
    return f"http://{host_port(str(settings['host']), int(settings['port']))}{PATH}"


def zone_message(target: str, dropped: str) -> str:
    """What a connection the box resets (or closes unanswered) most likely means."""
    if dropped == "reset":
        text = _(
            "{target} resets the connection: XML-RPC management may not be allowed from this "
            "computer's address in the zone's access control. On UserGate, open Network → Zones, "
            "the zone of the interface this computer reaches, Access control, and allow "
            "'XML-RPC for management' (restricted to this computer's and the script-launch "
            "host's addresses); then check again. A port that is not the XML-RPC API's (4040 by "
            "default), e.g. one that speaks HTTPS, resets it too."
        )
    else:
        text = _(
            "{target} closes the connection without an answer: XML-RPC management may not be "
            "allowed from this computer's address in the zone's access control. On UserGate, "
            "open Network → Zones, the zone of the interface this computer reaches, Access "
            "control, and allow 'XML-RPC for management' (restricted to this computer's and the "
            "script-launch host's addresses); then check again. A port that is not the XML-RPC "
            "API's (4040 by default) may do the same."
        )
    return text.format(target=target)


class Rpc:
    """Calls of one operation to one UserGate."""

    def __init__(self, ctx: OpContext) -> None:
        self.ctx = ctx
        self.url = url_of(ctx.settings)
        # lasting: a login's answer is read and its session logged out even after a cancel
        # (integrations.common.signed_in).
        self.http: HttpSession = ctx.http(lasting=True)

    @property
    def target(self) -> str:
        return self.http.target or host_port(str(self.ctx.settings["host"]), int(self.ctx.settings["port"]))

    def call(self, method: str, *params: Any, final: bool = False) -> Any:
        """The result of one call; a Fault is raised as Fault, anything else that goes wrong
        ends the operation (OperationFailed) with its category. final: the logout, sent also
        after a cancel (HttpSession.request)."""
        body = xmlrpc.client.dumps(tuple(params), methodname=method, encoding="utf-8").encode()
        try:
            r = self.http.post(
                self.url,
                data=body,
                headers={"Content-Type": "text/xml", "Accept": "text/xml"},
                final=final,
                meaning={
                    404: (
                        Category.PROTOCOL_ERROR,
                        _(
                            "{target} has no XML-RPC API at /rpc (HTTP 404); check that the port "
                            "is UserGate's management API port (4040)."
                        ),
                    ),
                },
            )
        except OperationFailed as exc:
            dropped = exc.details.get("dropped")
            if dropped:
                raise OperationFailed(
                    Category.UNREACHABLE,
                    zone_message(self.target, str(dropped)),
                    details={**exc.details, "code": f"connection_{dropped}"},
                ) from None
            raise
        try:
            result, _method = xmlrpc.client.loads(r.content, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            code = fault.faultCode if isinstance(fault.faultCode, int) else -1
            raise Fault(method, code, self.ctx.redactor.text(str(fault.faultString))[:200]) from None
        except (ExpatError, ValueError, TypeError, xmlrpc.client.ResponseError):
            self.ctx.fail(
                Category.PROTOCOL_ERROR,
                _(
                    "{target} did not answer {method} in XML-RPC; check that the host and port are "
                    "UserGate's management API (port 4040)."
                ).format(target=self.target, method=method),
            )
        if len(result) != 1:
            self.ctx.fail(
                Category.PROTOCOL_ERROR,
                _("{target} answered {method} with {n} values instead of one.").format(
                    target=self.target, method=method, n=len(result)
                ),
            )
        return result[0]
