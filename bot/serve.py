"""`digest serve`: the bot. The store, the analyzer, the schedule, and every configured platform:
Slack over HTTP (/slack/events, signature-checked) or Socket Mode (SLACK_APP_TOKEN)."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.poster import Poster
from bot.scheduler import DigestScheduler
from bot.slack.app import SlackDeps, build_app, make_client
from bot.slack.poster import SlackPoster
from bot.store import Store
from bot.web import make_web_app
from bot.wiring import analyzer_for, open_source
from digest.errors import NothingToServe, ServiceUnavailable, SlackRefused

log = logging.getLogger(__name__)


async def serve(
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    out: TextIO,
    stop: asyncio.Event | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or `stop`); return the exit status."""
    if not settings.slack_configured:
        raise NothingToServe()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    store = await Store.open(settings.digest_database_url)
    try:
        async with analyzer_for("auto", settings, store) as run:
            client = make_client(settings)
            wss_url = await check_slack(client, settings)
            poster = SlackPoster(client, public_url=settings.digest_public_url)
            posters: dict[str, Poster] = {"slack": poster}
            scheduler = DigestScheduler(
                store,
                lambda repo: open_source(repo, settings),
                run.analyzer,
                posters,
                clock=clock,
                replica=f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}",
                concurrency=settings.digest_llm_concurrency,
            )

            async def changed() -> None:
                scheduler.notify_changed()

            deps = SlackDeps(
                settings=settings,
                store=store,
                open_source=lambda repo: open_source(repo, settings),
                analyzer=run.analyzer,
                poster=poster,
                clock=clock,
                on_change=changed,
            )
            slack_app = build_app(deps, client)
            socket_mode = settings.slack_app_token is not None
            secret = settings.slack_signing_secret
            web_app = make_web_app(
                slack=None if socket_mode else slack_app,
                slack_signing_secret=secret.get_secret_value() if secret else None,
            )
            runner = web.AppRunner(web_app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "0.0.0.0", settings.digest_port).start()  # noqa: S104
            handler: AsyncSocketModeHandler | None = None
            if socket_mode and settings.slack_app_token is not None:
                handler = AsyncSocketModeHandler(
                    slack_app, settings.slack_app_token.get_secret_value()
                )
                handler.client.wss_uri = wss_url  # the URL just opened: no second call
                await handler.connect_async()  # type: ignore[no-untyped-call]
            await scheduler.start()
            mode = "Socket Mode" if socket_mode else "HTTP /slack/events"
            out.write(f"digest serve: Slack over {mode}; listening on :{settings.digest_port}\n")
            out.flush()
            try:
                await stop.wait()
            finally:
                await scheduler.shutdown()
                if handler is not None:
                    await handler.close_async()  # type: ignore[no-untyped-call]
                await runner.cleanup()
    finally:
        await store.close()
    return 0


async def check_slack(client: AsyncWebClient, settings: Settings) -> str | None:
    """Check the tokens once at start (slack_sdk would retry a refused app token forever);
    return the Socket Mode URL when an app token is set."""
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
