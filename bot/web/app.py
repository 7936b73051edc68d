"""The HTTP side of the bot (aiohttp): /slack/events, /feishu/events, /healthz, /readyz, /metrics.

Slack requests are verified twice over: Bolt checks the signature and its 5-minute window, and in
front of it a replay guard refuses a correctly signed request it has already seen, so a captured
request cannot be played again within the window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.feishu.bot import FeishuBot
from bot.feishu.callbacks import CallbackRejected, parse_callback
from bot.ops.metrics import CONTENT_TYPE, Metrics
from bot.store.database import Store
from bot.web.reports import ReportDeps, report_routes

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60 * 5
READY_TIMEOUT = 5.0

# Whether the process can do its work, and if not, why (a short reason, no secret in it).
Readiness = Callable[[], Awaitable[tuple[bool, str]]]


class ReplayGuard:
    """Signatures seen in the last five minutes (a signature covers timestamp and body)."""

    def __init__(self, clock: Callable[[], float] = time.time, limit: int = 100_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._clock = clock
        self._limit = limit

    def first_time(self, signature: str) -> bool:
        now = self._clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= WINDOW_SECONDS and len(self._seen) < self._limit:
                break
            del self._seen[oldest]
        if signature in self._seen:
            return False
        self._seen[signature] = now
        return True


def slack_handler(
    app: AsyncApp, signing_secret: str, guard: ReplayGuard
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not verifier.is_valid_request(body, headers):
            return web.json_response({"error": "invalid request"}, status=401)
        if not guard.first_time(headers.get("x-slack-signature", "")):
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
) -> web.Application:
    app = web.Application()
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
        app.router.add_post(
            "/slack/events", slack_handler(slack, slack_signing_secret, ReplayGuard())
        )
    return app
