"""'Fetch certificate' for a domain controller: the certificate it presents where the
check would meet it — at once on an LDAPS port, after StartTLS on a plain one. Nothing
but the StartTLS request is sent, and reading a certificate trusts nothing."""

from __future__ import annotations

from typing import Any

from ...errors import OperationFailed
from ...i18n import _
from ...net import CertInfo, Trust, describe_certificate
from ...outcome import Category
from .ldap import Session


def fetch_certificate(settings: dict[str, Any], host: str, port: int, timeout: float) -> CertInfo:
    """Raises OperationFailed (category and message) when no certificate could be read."""
    security = "ldaps" if (settings.get("security") or "ldaps") == "ldaps" else "starttls"
    session = Session(None, host, port, security, Trust(), timeout, verify=False)
    try:
        session.open()
    finally:
        session.close()
    if not session.peer_der:
        raise OperationFailed(
            Category.PROTOCOL_ERROR, _("{target} sent no certificate.").format(target=session.target)
        )
    return describe_certificate(session.peer_der)
