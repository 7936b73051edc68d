"""The HTTP server's limits (DESIGN §9): every request must arrive whole (headers and body)
within a read timeout, and only so many connections are open at once.

aiohttp bounds neither how long a client may take to send its headers (a connection that
dribbles them is held as long as it keeps dribbling) nor its body (a handler's `read()` waits
as long as it takes). So each connection gets a deadline here: a request must arrive whole
within `read_timeout` of the connection opening or of the previous response. A middleware
reads the body before the handler runs, so the deadline covers it too, and only a request
being served stops the clock. Past `max_connections`, the oldest connection that is not being
served is closed to admit the new one (a crowd of slow clients cannot lock the others out);
when every one is being served, the new one is refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# One warning a minute at most about slow or excess clients: they may come by the thousand.
_WARN_EVERY = 60.0


class _Connection:
    def __init__(self, gate: ConnectionGate, transport: asyncio.Transport) -> None:
        self.gate = gate
        self.transport = transport
        self.serving = 0
        self._timer: asyncio.TimerHandle | None = None
        self.restart()

    def restart(self) -> None:
        """A request has `read_timeout` from now to arrive whole."""
        self.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.gate.read_timeout, self._expire)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self.serving:
            return
        if self.transport.get_write_buffer_size() > 0:
            self.restart()  # a response still on its way to a slow reader: not our clock
            return
        self.gate.closed_slow += 1
        self.gate.warn("closed a connection that sent no whole request in time")
        self.transport.abort()


class ConnectionGate:
    """The deadlines and the count of one server's connections."""

    def __init__(self, read_timeout: float, max_connections: int) -> None:
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._open: OrderedDict[asyncio.BaseTransport, _Connection] = OrderedDict()
        self.closed_slow = 0
        self.evicted = 0
        self.refused = 0
        self._warned = 0.0

    @property
    def open(self) -> int:
        return len(self._open)

    def protocol_factory(self, make: Callable[[], Any]) -> Callable[[], asyncio.Protocol]:
        return lambda: _Guarded(make(), self)

    def admit(self, transport: asyncio.Transport) -> bool:
        if len(self._open) >= self.max_connections:
            idle = next((c for c in self._open.values() if not c.serving), None)
            if idle is None:
                self.refused += 1
                self.warn("refused a connection: every connection is being served")
                return False
            self.evicted += 1
            self.warn("closed the oldest idle connection to admit a new one")
            self.release(idle.transport)
            idle.transport.abort()
        self._open[transport] = _Connection(self, transport)
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        connection = self._open.pop(transport, None)
        if connection is not None:
            connection.cancel()

    def warn(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            log.warning(
                "HTTP: %s (%d open; %d closed for slowness, %d for room, %d refused so far)",
                what,
                len(self._open),
                self.closed_slow,
                self.evicted,
                self.refused,
            )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Read the body within the connection's deadline, then serve with the clock stopped."""
        connection = self._open.get(request.transport) if request.transport else None
        await request.read()  # 413 past the app's client_max_size, as before
        if connection is None:
            return await handler(request)
        connection.serving += 1
        connection.cancel()
        try:
            return await handler(request)
        finally:
            connection.serving -= 1
            if not connection.serving:
                connection.restart()


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, admitted or refused by the gate."""

    def __init__(self, inner: Any, gate: ConnectionGate) -> None:
        self.inner = inner
        self.gate = gate
        self.admitted = False
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if not isinstance(transport, asyncio.Transport) or not self.gate.admit(transport):
            transport.abort() if isinstance(transport, asyncio.Transport) else transport.close()
            return
        self.admitted = True
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.admitted:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.admitted else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.gate.release(self.transport)
        if self.admitted:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.admitted:
            self.inner.resume_writing()


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a ConnectionGate."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, gate: ConnectionGate) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._gate = gate
        self.bound_port = port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.bound_port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._gate.protocol_factory(server),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
        )
        if self._server.sockets:
            self.bound_port = int(self._server.sockets[0].getsockname()[1])
