"""`digest serve`: the bot. The store, the analyzer, the schedule, and every configured platform:
Slack over HTTP (/slack/events) or Socket Mode (SLACK_APP_TOKEN); Feishu over its HTTP callback
(/feishu/events) or the long connection (FEISHU_LONG_CONNECTION)."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.chat.messages import explain_failure
from bot.chat.replies import Services
from bot.chat.turns import Turns
from bot.delivery.links import ReportLinks
from bot.delivery.poster import Poster
from bot.delivery.scheduler import DigestScheduler
from bot.ops.metrics import Metrics
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.web.app import make_web_app, readiness
from bot.web.limits import ConnectionGate, GuardedSite
from bot.web.reports import ReportDeps
from bot.wiring import analyzer_for, github_shared, repo_source
from digest.errors import FeishuNeedsKey, NothingToServe, ServiceUnavailable, SlackRefused

# Each platform's modules, and its SDK, load only when it is configured: lark-oapi alone is
# 170 MB and seconds of imports that a Slack-only bot never uses (benchmarks/idle_rss.py).
if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.feishu.bot import FeishuBot
    from bot.feishu.longconn import LongConnection
    from bot.feishu.poster import FeishuPoster

log = logging.getLogger(__name__)
STOP_STEP = 15.0  # seconds each step of stopping may take before the next goes on


async def serve(
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    out: TextIO,
    stop: asyncio.Event | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or `stop`); return the exit status."""
    if not (settings.slack_configured or settings.feishu_configured):
        raise NothingToServe()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    store = await Store.open(settings.digest_database_url)
    platforms = (("slack", settings.slack_configured), ("feishu", settings.feishu_configured))
    metrics = Metrics(platforms=tuple(name for name, on in platforms if on))
    slack_http: aiohttp.ClientSession | None = None
    try:
        async with analyzer_for("auto", settings, store) as run:
            if run.llm is not None:
                metrics.watch_llm(run.llm)
            analyzer = metrics.analyzer(run.analyzer)
            local = settings.digest_allow_local_paths  # chat users read the server's disk
            shared = github_shared(
                settings, wait_for_reset=True
            )  # one GitHub budget for every digest at once
            source_for = metrics.open_source(
                lambda repo: repo_source(
                    repo, settings, local_paths=local, cache=store, shared=shared
                )
            )
            posters: dict[str, Poster] = {}
            scheduler = DigestScheduler(
                store,
                source_for,
                analyzer,
                posters,  # filled below, before the scheduler starts
                clock=clock,
                replica=f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}",
                concurrency=settings.digest_llm_concurrency,
                lease=timedelta(seconds=settings.digest_lease_seconds),
                max_claims=settings.digest_max_claims,
                explain=explain_failure,
            )

            async def changed() -> None:
                scheduler.notify_changed()

            services = Services(
                settings=settings,
                store=store,
                open_source=source_for,
                analyzer=analyzer,
                clock=clock,
                on_change=changed,
                on_command=metrics.command,
                asker=run.asker,
                local_paths=local,
                posters=posters,
                turns=Turns(settings.digest_command_concurrency),
            )
            metrics.watch_turns(services.turns)
            modes: list[str] = []
            web_options: dict[str, Any] = {}
            handler: AsyncSocketModeHandler | None = None
            slack_app = None
            if settings.slack_configured:
                from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

                from bot.slack.app import SlackDeps, build_app, make_client
                from bot.slack.poster import SlackPoster

                # One session for every Web API call: connections kept, not one per post.
                slack_http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
                client = make_client(settings, slack_http)
                wss_url = await check_slack(client, settings)
                slack_poster = SlackPoster(client, _links(settings))
                posters["slack"] = slack_poster
                slack_app = build_app(SlackDeps(services, slack_poster), client)
                if settings.slack_app_token is not None:
                    handler = AsyncSocketModeHandler(
                        slack_app, settings.slack_app_token.get_secret_value()
                    )
                    handler.client.wss_uri = wss_url  # the URL just opened: no second call
                    modes.append("Slack over Socket Mode")
                else:
                    secret = settings.slack_signing_secret
                    web_options["slack"] = slack_app
                    web_options["slack_signing_secret"] = (
                        secret.get_secret_value() if secret else None
                    )
                    modes.append("Slack over HTTP /slack/events")
            longconn: LongConnection | None = None
            if settings.feishu_configured:
                feishu_bot, feishu_poster = make_feishu(services)
                posters["feishu"] = feishu_poster
                if settings.feishu_long_connection:
                    from bot.feishu.longconn import LongConnection

                    longconn = LongConnection(settings, feishu_bot, loop)
                    modes.append("Feishu over the long connection")
                # The HTTP callback only when it can be checked: signed and encrypted.
                if not settings.feishu_long_connection and settings.feishu_encrypt_key is None:
                    raise FeishuNeedsKey()
                if settings.feishu_encrypt_key is not None:
                    web_options["feishu"] = feishu_bot
                    web_options["feishu_encrypt_key"] = _secret(settings.feishu_encrypt_key)
                    web_options["feishu_verification_token"] = _secret(
                        settings.feishu_verification_token
                    )
                    modes.append("Feishu over HTTP /feishu/events")
            key = _secret(settings.digest_report_key)
            web_options["reports"] = ReportDeps(
                open_source=source_for,
                analyzer=analyzer,  # the cached one: a page view makes no new LLM call
                subscriptions=store.all_subscriptions,
                clock=clock,
                default_tz=settings.digest_timezone,
                default_language=settings.digest_language,
                signing_key=key.encode() if key else None,
                concurrency=settings.digest_llm_concurrency,
            )
            scheduler.runner.observer = metrics
            web_options["metrics"] = metrics
            web_options["ready"] = readiness(store, lambda: scheduler.running)
            web_options["first_time"] = store.first_delivery
            gate = ConnectionGate(
                settings.digest_http_read_timeout, settings.digest_http_max_connections
            )
            runner = web.AppRunner(
                make_web_app(**web_options, gate=gate),
                access_log=None,
                keepalive_timeout=settings.digest_http_read_timeout,
                shutdown_timeout=5.0,  # requests in flight at a stop (aiohttp's default: 60 s)
            )
            await runner.setup()
            await GuardedSite(runner, settings.digest_host, settings.digest_port, gate).start()
            if handler is not None:
                await handler.connect_async()  # type: ignore[no-untyped-call]
            try:
                if longconn is not None:
                    await open_long_connection(longconn)
                await scheduler.start()
                out.write(
                    f"digest serve: {'; '.join(modes)}; listening on "
                    f"{_address(settings.digest_host, settings.digest_port)}\n"
                )
                out.flush()
                await stop.wait()
            finally:
                if longconn is not None:
                    await _within("the Feishu long connection", asyncio.to_thread(longconn.stop))
                await _within("the scheduler", scheduler.shutdown())
                if handler is not None:
                    await _within("Socket Mode", handler.close_async())  # type: ignore[no-untyped-call]
                await _within("the HTTP server", runner.cleanup())
    finally:
        if slack_http is not None:
            await _within("the Slack client's connections", slack_http.close())
        await _within("the database", store.close())
    return 0


async def _within(what: str, step: Awaitable[object], seconds: float = STOP_STEP) -> None:
    """One step of stopping, bounded: a process told to stop stops, and names what hung."""
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("stopping: %s did not finish within %.0f s; going on", what, seconds)


async def open_long_connection(longconn: LongConnection, within: float = 15.0) -> None:
    """Start it; FeishuFailed when Feishu refuses the app. Not connected in time: it goes on
    trying in the background (Feishu may be briefly unreachable), and says so once."""
    longconn.start()
    if not await asyncio.to_thread(longconn.wait_connected, within):
        log.warning("The Feishu long connection is not open yet; it keeps trying")


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _links(settings: Settings) -> ReportLinks:
    return ReportLinks(settings.digest_public_url, _secret(settings.digest_report_key))


def make_feishu(services: Services) -> tuple[FeishuBot, FeishuPoster]:
    from bot.feishu.sdk import lean

    lean()  # lark-oapi's messaging API, not the whole SDK (bot/feishu/sdk.py)
    from bot.feishu.bot import FeishuBot, FeishuDeps
    from bot.feishu.client import FeishuClient
    from bot.feishu.poster import FeishuPoster

    settings = services.settings
    secret = _secret(settings.feishu_app_secret) or ""
    client = FeishuClient(settings.feishu_app_id or "", secret, domain=settings.feishu_api_url)
    poster = FeishuPoster(client, _links(settings))
    return FeishuBot(FeishuDeps(services, client, poster)), poster


async def check_slack(client: AsyncWebClient, settings: Settings) -> str | None:
    """Check the tokens once at start (slack_sdk would retry a refused app token forever);
    return the Socket Mode URL when an app token is set."""
    from slack_sdk.errors import SlackApiError

    try:
        await client.auth_test()
    except SlackApiError as exc:
        raise SlackRefused("SLACK_BOT_TOKEN", str(exc.response.get("error") or "refused")) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ServiceUnavailable("Slack", type(exc).__name__) from None
    if settings.slack_app_token is None:
        return None
    try:
        opened = await client.apps_connections_open(
            app_token=settings.slack_app_token.get_secret_value()
        )
    except SlackApiError as exc:
        raise SlackRefused("SLACK_APP_TOKEN", str(exc.response.get("error") or "refused")) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ServiceUnavailable("Slack", type(exc).__name__) from None
    return str(opened["url"])
