"""The HTTP server's limits, over real sockets: a request must arrive whole within the read
timeout (headers and body) or its connection is closed, while correct requests are answered;
past the connection cap the oldest idle connection makes room; a big body gets 413; and a
signed Slack request is accepted once, by whichever of two replicas (two apps, one store) gets
it first, and not again after a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.store.database import Store
from bot.web.app import make_web_app
from bot.web.limits import ConnectionGate, GuardedSite
from tests.fakes.slack import FakeSlack, sign, slash_command_body
from tests.waiting import HANG

SECRET = "limits-signing-secret"


@asynccontextmanager
async def serving(app: web.Application, gate: ConnectionGate) -> AsyncIterator[tuple[str, int]]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0, gate)
    await site.start()
    try:
        yield "127.0.0.1", site.bound_port
    finally:
        await runner.cleanup()


def counting_app(gate: ConnectionGate, seen: list[bytes], pause: float = 0.0) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(body)
        await asyncio.sleep(pause)  # a handler that takes its time (the clock is stopped)
        return web.Response(text=f"got {len(body)}")

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app = web.Application(middlewares=[gate.middleware])
    app.router.add_post("/echo", echo)
    app.router.add_get("/healthz", healthz)
    return app


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True once the server closed the connection (EOF or reset)."""
    try:
        async with asyncio.timeout(HANG):
            return await reader.read(65536) == b""
    except ConnectionResetError:
        return True


async def test_200_half_sent_requests_are_closed_while_a_correct_one_is_answered() -> None:
    gate = ConnectionGate(read_timeout=1.0, max_connections=1000)
    seen: list[bytes] = []
    async with serving(counting_app(gate, seen), gate) as (host, port):
        slow = []
        for n in range(200):
            reader, writer = await asyncio.open_connection(host, port)
            if n % 2:  # half the headers
                writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le")
            else:  # whole headers, half the body
                writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
            await writer.drain()
            slow.append((reader, writer))
        started = time.monotonic()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://{host}:{port}/healthz") as answer,
        ):
            assert answer.status == 200 and await answer.text() == "ok\n"
        closed = await asyncio.gather(*(closed_by_server(reader) for reader, _ in slow))
        took = time.monotonic() - started
        assert all(closed)
        assert seen == []  # no handler ever saw a half-sent request
        assert gate.closed_slow == 200 and gate.open == 0
        for _, writer in slow:
            writer.close()
    print(f"\n200 half-sent requests closed {took:.1f} s after the last was opened (timeout 1 s)")


async def test_a_slow_but_whole_request_is_served_and_a_long_handler_is_not_cut() -> None:
    gate = ConnectionGate(read_timeout=1.0, max_connections=100)
    seen: list[bytes] = []
    async with serving(counting_app(gate, seen, pause=1.5), gate) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        for byte in request:  # dribbled, but whole well within the timeout
            writer.write(bytes([byte]))
            await writer.drain()
        async with asyncio.timeout(HANG):
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            assert await reader.readexactly(len(b"got 5")) == b"got 5"
            # Idle afterwards (keep-alive): closed after the read timeout.
            assert await closed_by_server(reader)
        writer.close()
    assert seen == [b"hello"] and gate.closed_slow == 1


async def test_past_the_cap_the_oldest_idle_connection_makes_room() -> None:
    gate = ConnectionGate(read_timeout=30.0, max_connections=10)
    seen: list[bytes] = []
    async with serving(counting_app(gate, seen), gate) as (host, port):
        idle = [await asyncio.open_connection(host, port) for _ in range(10)]
        for _, writer in idle:
            writer.write(b"GET /healthz HTTP/1.1\r\n")  # never finished
            await writer.drain()
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://{host}:{port}/echo", data=b"x" * 10) as answer,
        ):
            assert answer.status == 200
        assert await closed_by_server(idle[0][0])  # the oldest went
        assert gate.evicted == 1 and seen == [b"x" * 10]
        for _, writer in idle:
            writer.close()


async def test_a_body_past_the_limit_gets_413() -> None:
    gate = ConnectionGate(read_timeout=30.0, max_connections=10)
    seen: list[bytes] = []
    async with (
        serving(counting_app(gate, seen), gate) as (host, port),
        aiohttp.ClientSession() as http,
        http.post(f"http://{host}:{port}/echo", data=b"x" * (2 * 1024 * 1024)) as answer,
    ):
        assert answer.status == 413
    assert seen == []


def slack_app(slack: FakeSlack, ran: list[str]) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=slack.token, base_url=slack.api_url),
        signing_secret=SECRET,
        request_verification_enabled=True,
    )

    @app.command("/digest")
    async def digest(ack: AsyncAck, command: dict[str, Any]) -> None:
        ran.append(str(command.get("text")))
        await ack(text="ok")

    return app


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def test_a_signed_request_runs_once_across_replicas_and_restarts(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/replay.db"
    ran: list[str] = []
    async with FakeSlack() as slack:
        urls: list[str] = []
        cleanups: list[Callable[[], Awaitable[None]]] = []
        for _ in range(2):  # two replicas: each its own process state, one database
            store = await Store.open(db)
            gate = ConnectionGate(read_timeout=30.0, max_connections=100)
            app = make_web_app(
                slack=slack_app(slack, ran),
                slack_signing_secret=SECRET,
                first_time=store.first_delivery,
                gate=gate,
            )
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = GuardedSite(runner, "127.0.0.1", 0, gate)
            await site.start()
            urls.append(f"http://127.0.0.1:{site.bound_port}/slack/events")
            cleanups += [runner.cleanup, store.close]
        try:
            body = slash_command_body("list")
            headers = {"Content-Type": "application/x-www-form-urlencoded"} | sign(body, SECRET)
            statuses = await asyncio.gather(*(post(u, body, headers) for u in urls))
            assert sorted(statuses) == [200, 401]
            assert ran == ["list"]
            # A replica that restarts (a new store object, the same database) refuses it too.
            fresh = await Store.open(db)
            assert not await fresh.first_delivery(f"slack:{headers['X-Slack-Signature']}")
            await fresh.close()
            assert await post(urls[1], body, headers) == 401
            assert ran == ["list"]
        finally:
            for cleanup in cleanups:
                await cleanup()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_the_site_listens_where_it_is_told(host: str) -> None:
    gate = ConnectionGate(read_timeout=HANG, max_connections=10)
    seen: list[bytes] = []
    runner = web.AppRunner(counting_app(gate, seen), access_log=None)
    await runner.setup()
    site = GuardedSite(runner, host, 0, gate)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        pytest.skip(f"{host} is not available on this machine")
    try:
        url = f"http://{'[::1]' if ':' in host else host}:{site.bound_port}/healthz"
        async with aiohttp.ClientSession() as http, http.get(url) as answer:
            assert answer.status == 200
        assert site.name.endswith(f":{site.bound_port}")
    finally:
        await runner.cleanup()
