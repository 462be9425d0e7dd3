"""A KUMA-like HTTPS peer for the benchmarks (a script, not a test module), built to serve
hundreds of TLS connections at once: asyncio in each of `procs` processes, which share one
listening socket (the kernel hands each connection to one of them). It answers as the
tests' KumaApi does (support.kuma_peer), after `delay` seconds.

    python _async_kuma_peer.py TESTS_DIR CERT KEY DELAY PROCS
    -> prints the port; serves until its standard input is closed

HTTP/1.1 with keep-alive, Content-Length bodies only (what httpx and the reference client
send)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import sys
import threading
from urllib.parse import parse_qs, urlsplit


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    from support.https_peer import HANG, Reply, Request
    from support.kuma_peer import KumaApi

    cert, key, delay, procs = sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    api = KumaApi()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
    listener.setblocking(False)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), 0))
                body = await reader.readexactly(length) if length else b""
                parts = urlsplit(target)
                request = Request(
                    method,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    headers,
                    body,
                    None,
                    "127.0.0.1",
                )
                reply = api(request)
                if reply is HANG:
                    await asyncio.sleep(3600)
                    return
                assert isinstance(reply, Reply)
                await asyncio.sleep(delay)
                data, extra = reply.encoded()
                out = [f"HTTP/1.1 {reply.status} X"]
                for k, v in extra.items():
                    out.extend(f"{k}: {one}" for one in (v if isinstance(v, list) else [v]))
                out.append(f"Content-Length: {len(data)}")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + data)
                await writer.drain()
                if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers.items()):
                    return
        except (ConnectionError, ssl.SSLError):
            return
        finally:
            writer.close()

    parent = os.getpid()

    async def run() -> None:
        server = await asyncio.start_server(serve, sock=listener, ssl=context, backlog=4096)
        async with server:
            while os.getpid() == parent or os.getppid() == parent:  # a child ends with its parent
                await asyncio.sleep(1)

    children = []
    for _n in range(procs - 1):
        pid = os.fork()
        if pid == 0:
            asyncio.run(run())
            os._exit(0)
        children.append(pid)
    print(listener.getsockname()[1], flush=True)

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        os._exit(0)

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    asyncio.run(run())


if __name__ == "__main__":
    main()
