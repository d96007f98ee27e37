"""A small HTTP/1.1 endpoint on the event loop: /metrics, /healthz, /status, POST /reload.

Handlers run on the event loop, so they read the stages' state between two steps of the
pipeline, never in the middle of one. Each request is answered and the connection closed
(``Connection: close``): probes and scrapers open one connection per request anyway.
Off unless ``ops.http_listen`` is set; meant for loopback, a pod network or a probe, not for
the open internet (no TLS, no authentication: it tells only counters and file names, and
/reload re-reads a file only the agent's owner can change).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("sealtail.admin")

MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT_SECS = 5.0


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


Handler = Callable[[], Awaitable[Response]]
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request",
            409: "Conflict", 500: "Internal Server Error", 503: "Service Unavailable"}


class AdminServer:
    """Serve `routes` ({(method, path): handler}) on `address` (HOST:PORT; port 0 = any)."""

    def __init__(self, address: str, routes: dict[tuple[str, str], Handler]) -> None:
        self._address = address
        self._routes = routes
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        host, _, port = self._address.rpartition(":")
        self._server = await asyncio.start_server(self._serve, host.strip("[]"), int(port))
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECS):
                head = await reader.readuntil(b"\r\n\r\n")
            response = await self._dispatch(head)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            writer.close()
            return
        reason = _REASONS.get(response.status, "")
        writer.write(f"HTTP/1.1 {response.status} {reason}\r\nContent-Type: "
                     f"{response.content_type}\r\nContent-Length: {len(response.body)}\r\n"
                     "Connection: close\r\n\r\n".encode() + response.body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _dispatch(self, head: bytes) -> Response:
        if len(head) > MAX_REQUEST_BYTES:
            return Response(400, b"request too large\n")
        try:
            method, target, _ = head.split(b"\r\n", 1)[0].decode("ascii").split(" ", 2)
        except (UnicodeDecodeError, ValueError):
            return Response(400, b"bad request line\n")
        path = target.split("?", 1)[0]
        handler = self._routes.get((method, path))
        if handler is None:
            if any(p == path for _, p in self._routes):
                return Response(405, b"method not allowed\n")
            known = ", ".join(f"{m} {p}" for m, p in sorted(self._routes, key=lambda r: r[1]))
            return Response(404, f"not found; try {known}\n".encode())
        try:
            return await handler()
        except Exception:
            log.exception("%s %s failed", method, path)
            return Response(500, b"internal error (see the agent's log)\n")
