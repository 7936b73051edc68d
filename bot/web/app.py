"""The HTTP side of the bot (aiohttp): /slack/events, /feishu/events, /healthz, /readyz, /metrics.

Slack requests are verified twice over: the signature and its 5-minute window, and a replay check
in the store, shared by every replica and kept across restarts, that refuses a correctly signed
request already seen: a captured request cannot be played again, to this replica or another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from aiohttp import web

from bot.ops.logs import short_error
from bot.ops.metrics import CONTENT_TYPE, Metrics
from bot.store.database import Store
from bot.web.limits import ConnectionGate
from bot.web.reports import ReportDeps, report_routes

# A platform's SDK loads with its route, when that platform is configured (idle memory: Bolt
# and lark-oapi are most of it; benchmarks/idle_rss.py).
if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.feishu.bot import FeishuBot

log = logging.getLogger(__name__)

READY_TIMEOUT = 5.0

# Whether the process can do its work, and if not, why (a short reason, no secret in it).
Readiness = Callable[[], Awaitable[tuple[bool, str]]]
FirstTime = Callable[[str], Awaitable[bool]]


def slack_handler(
    app: AsyncApp, signing_secret: str, first_time: FirstTime
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """`first_time(key)` is the store's `first_delivery`: True once per key, across replicas."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not verifier.is_valid_request(body, headers):
            return web.json_response({"error": "invalid request"}, status=401)
        # A signature covers the timestamp and the body: the same one twice is a replay.
        signature = headers.get("x-slack-signature", "")
        try:
            fresh = await first_time(f"slack:{signature}")
        except Exception as exc:  # no database, no way to tell a replay: refuse, Slack shows it
            log.warning("Slack request refused: the replay check failed (%s)", short_error(exc))
            return web.json_response({"error": "try again"}, status=503)
        if not fresh:
            log.info("Slack request refused: replayed")
            return web.json_response({"error": "replayed request"}, status=401)
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    return handle


def feishu_handler(
    bot: FeishuBot,
    *,
    encrypt_key: str | None,
    verification_token: str | None,
    clock: Callable[[], float] = time.time,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Feishu's event callback: checked (bot/feishu/callbacks.py), de-duplicated, answered now."""
    from bot.feishu.callbacks import CallbackRejected, parse_callback

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            callback = parse_callback(
                body,
                dict(request.headers),
                encrypt_key=encrypt_key,
                verification_token=verification_token,
                now=clock(),
            )
        except CallbackRejected as exc:
            log.info("Feishu callback refused: %s", exc.reason)
            return web.json_response({"error": "invalid request"}, status=401)
        if callback.kind == "url_verification":
            return web.json_response({"challenge": callback.payload.get("challenge", "")})
        answer = await bot.accept(callback.event_type, callback.event_id, callback.payload)
        return web.json_response(answer)

    return handle


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def readiness(
    store: Store, scheduler_running: Callable[[], bool], *, timeout: float = READY_TIMEOUT
) -> Readiness:
    """Ready when the database answers `SELECT 1` (within `timeout`) and the scheduler runs."""

    async def check() -> tuple[bool, str]:
        try:
            async with asyncio.timeout(timeout):
                async with store.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
        except TimeoutError:
            return False, f"the database did not answer within {timeout:g} s"
        except Exception as exc:  # the reason names the error's kind, never its text or URL
            return False, f"the database cannot be reached ({type(exc).__name__})"
        if not scheduler_running():
            return False, "the scheduler is not running"
        return True, "ready"

    return check


def readyz_handler(ready: Readiness) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(_request: web.Request) -> web.StreamResponse:
        ok, reason = await ready()
        body = {"status": "ready" if ok else "not ready", "reason": reason}
        return web.json_response(body, status=200 if ok else 503)

    return handle


def metrics_handler(metrics: Metrics) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    return handle


def make_web_app(
    *,
    slack: AsyncApp | None = None,
    slack_signing_secret: str | None = None,
    feishu: FeishuBot | None = None,
    feishu_encrypt_key: str | None = None,
    feishu_verification_token: str | None = None,
    metrics: Metrics | None = None,
    ready: Readiness | None = None,
    reports: ReportDeps | None = None,
    first_time: FirstTime | None = None,
    gate: ConnectionGate | None = None,
) -> web.Application:
    """`first_time` (the store's first_delivery) is needed for Slack; `gate` bounds the read
    time of every request (bot/web/limits.py)."""
    app = web.Application(middlewares=[gate.middleware] if gate is not None else [])
    app.router.add_get("/healthz", healthz)
    if reports is not None:
        app.add_routes(report_routes(reports))
    if ready is not None:
        app.router.add_get("/readyz", readyz_handler(ready))
    if metrics is not None:
        app.router.add_get("/metrics", metrics_handler(metrics))
    if feishu is not None:
        app.router.add_post(
            "/feishu/events",
            feishu_handler(
                feishu,
                encrypt_key=feishu_encrypt_key,
                verification_token=feishu_verification_token,
            ),
        )
    if slack is not None and slack_signing_secret:
        if first_time is None:
            raise ValueError("Slack's replay check needs the store (first_time)")
        app.router.add_post("/slack/events", slack_handler(slack, slack_signing_secret, first_time))
    return app
