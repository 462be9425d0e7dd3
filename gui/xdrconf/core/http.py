"""The request helper of the engine: one HttpSession per peer an operation talks to, made
by `OpContext.http()`, built on the network layer (core.net: trust, pinning, client
certificates, proxy, timeouts, no redirects).

    r = ctx.http().get(url, headers={...}, meaning={403: (Category.AUTH_FAILED, "...")})

A request that cannot be made ends the operation with the category of what went wrong
(dns, unreachable, timeout, tls_*); an answer whose status is not expected ends it with
the integration's own meaning of that status, or the generic one (core.net.classify_status),
the server's message appended, redacted. Each request renews the watchdog's budget and is
recorded as the operation's latency; every body is capped (MAX_BODY)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import OperationFailed, Stopped
from .i18n import _
from .net import (
    ClientCert,
    Trust,
    classify_exception,
    classify_status,
    connection_dropped,
    error_message_of,
    make_client,
    shut_down,
)
from .outcome import Category

if TYPE_CHECKING:
    import httpx

    from .engine import OpContext

MAX_BODY = 16 * 1024 * 1024

# (category, message template) or (category, template, code). In the template {target},
# {status}, {what} and {quote} are replaced (plain text replacement, so other braces stay):
# {quote} is the server's message as ' ("…")' (see said_prefix), or "" without one.
Meaning = tuple[Category, str] | tuple[Category, str, str]


class HttpSession:
    def __init__(
        self,
        ctx: OpContext,
        host: str,
        trust: Trust,
        *,
        client_cert: ClientCert | None = None,
        use_proxy: bool = True,
        lasting: bool = False,
    ) -> None:
        self.ctx = ctx
        # A lasting session carries a login the peer keeps (a session id): its requests are
        # never cut off when the operation is abandoned, so that a login's answer is read and
        # the session can still be ended (see OpContext.http).
        self.lasting = lasting
        self.host = host
        self.trust = trust
        self.client_cert = client_cert
        self.use_proxy = use_proxy
        self.target = ""
        self.latency_ms: float | None = None
        # How {quote} introduces the server's message, e.g. "KUMA said: ".
        self.said_prefix = ""
        self._client: Any = None
        self._streams: list[Any] = []

    def _client_for(self, url: str) -> Any:
        """The client of this session's peer. Its host is the one the trust (the pin) and
        the credentials are for: a request to any other host is refused."""
        hostname = (urlsplit(url).hostname or "").strip("[]").lower()
        if not self.host:
            self.host = hostname
        if hostname != self.host.strip("[]").lower():
            raise OperationFailed(
                Category.PROTOCOL_ERROR,
                _("A request of {title} to {host} was refused: this connection is for {peer} only.").format(
                    title=self.ctx.spec.title, host=hostname, peer=self.host
                ),
            )
        if self._client is None:
            self._client = make_client(
                self.host,
                self.trust,
                self.ctx.net,
                client_cert=self.client_cert,
                use_proxy=self.use_proxy,
                streams=self._streams,
            )
        return self._client

    def interrupt(self) -> None:
        """Fail a request under way in another thread at once (its sockets shut down, not
        closed: the thread that owns them closes them)."""
        shut_down(self._streams)

    def close(self) -> None:
        """Close the client; a request still under way in another thread (an abandoned
        operation) fails at once, as its sockets are shut down first."""
        shut_down(self._streams)
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a dead connection may fail; nothing to do
                client.close()

    def said(self, response: httpx.Response) -> str:
        """The server's message in a JSON error body, redacted."""
        return self.ctx.redactor.text(error_message_of(response))

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        expect: tuple[int, ...] = (200,),
        meaning: Mapping[int, Meaning] | None = None,
        what: str = "",
        final: bool = False,
    ) -> httpx.Response:
        """final: on a lasting session, sent even after the operation was cancelled or
        overran its time (the logout that ends the peer's session)."""
        ctx = self.ctx
        if not (self.lasting and final):
            ctx.check_stop()
        ctx.renew()
        parts = urlsplit(url)
        self.target = parts.netloc or self.host
        started = time.monotonic()
        try:
            response = self._send(method, url, headers=headers, params=params, json=json, data=data)
        except OperationFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - classified into one category
            if ctx.cancelled() and not self.lasting:
                raise Stopped from None
            category, message = classify_exception(
                exc, self.target, ctx.timeout, client_cert=self.client_cert is not None
            )
            details: dict[str, object] = {"http_status": None, "code": category.value}
            dropped = connection_dropped(exc)
            if dropped:
                details["dropped"] = dropped  # "reset" or "closed": the peer ended it unanswered
            raise OperationFailed(category, message, details=details) from None
        self.latency_ms = ctx.last_latency_ms = (time.monotonic() - started) * 1000
        if not self.lasting:
            ctx.check_stop()
        if response.status_code in expect:
            return response
        raise self.refusal(response, meaning, what)

    def refusal(
        self, response: httpx.Response, meaning: Mapping[int, Meaning] | None = None, what: str = ""
    ) -> OperationFailed:
        """The failure an answer means: the integration's own meaning of its status, or the
        generic one; details carry the HTTP status and a short code."""
        status = response.status_code
        said = self.said(response)
        entry = (meaning or {}).get(status)
        if entry is None:
            category, message = classify_status(status, self.target, said)
            return OperationFailed(
                category, message, details={"http_status": status, "code": f"http_{status}"}
            )
        quoted = f' ({self.said_prefix}"{said}")' if said else ""
        message = (
            entry[1]
            .replace("{quote}", quoted)
            .replace("{target}", self.target)
            .replace("{status}", str(status))
            .replace("{what}", what)
        )
        code = entry[2] if len(entry) == 3 else f"http_{status}"
        return OperationFailed(entry[0], message, details={"http_status": status, "code": code})

    def _send(self, method: str, url: str, *, data: Any = None, **kw: Any) -> httpx.Response:
        import httpx

        if isinstance(data, (bytes, str)):
            kw["content"] = data
        elif data is not None:
            kw["data"] = data
        with self._client_for(url).stream(method, url, **kw) as streamed:
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY:
                    raise OperationFailed(
                        Category.PROTOCOL_ERROR,
                        _(
                            "{target} answered with more than {size} MiB; that is not the API this "
                            "integration talks to (check the address)."
                        ).format(target=self.target, size=MAX_BODY // (1024 * 1024)),
                        details={"http_status": streamed.status_code, "code": "too_large"},
                    )
                chunks.append(chunk)
            # The body is decoded already: a new response without the transfer headers.
            headers = [
                (k, v)
                for k, v in streamed.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx.Response(
                streamed.status_code,
                headers=headers,
                content=b"".join(chunks),
                request=streamed.request,
                extensions={
                    k: v for k, v in streamed.extensions.items() if k in ("reason_phrase", "http_version")
                },
            )

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)
