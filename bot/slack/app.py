"""The Slack app: one Bolt AsyncApp whose `/digest` listener turns a slash command into a Command
(through bot.chat.execute) and the Reply back into Slack messages. Transports live in
bot/web/app.py (HTTP) and bot/web/serve.py (Socket Mode); nothing below sees a Slack payload.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.commands import (
    Ask,
    Help,
    ListSubscriptions,
    Lookup,
    Now,
    Status,
    Subscribe,
    Unsubscribe,
)
from bot.chat.execute import handle
from bot.chat.grammar import parse_command as parse
from bot.chat.replies import Context, Reply, ReplyKind, Services
from bot.delivery.poster import Post
from bot.ops.logs import short_error
from bot.ops.settings import Settings
from bot.slack.blocks import Message, reply_messages
from bot.slack.poster import SlackPoster
from bot.store.records import Target
from digest.errors import CommandError

log = logging.getLogger(__name__)


@dataclass
class SlackDeps:
    """What the listener needs, injected by `digest serve` or by a test."""

    services: Services
    poster: SlackPoster


def make_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL for tests and proxies, 429 and 5xx retried. With a
    `session` its connections are kept and reused (without, each call opens and closes one);
    whoever gave it closes it."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base = settings.slack_api_url
    client = AsyncWebClient(
        token=token,
        base_url=(base.rstrip("/") + "/") if base else AsyncWebClient.BASE_URL,
        session=session,
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=2))
    return client


def ack_text(text: str) -> str:
    """What the ack says is being done (Slack wants it within 3 s; the answer follows)."""
    try:
        command = parse(text)
    except CommandError:
        return "⏳ Reading your command…"
    match command:
        case Lookup(repo=repo, sha=sha):
            where = f" in {repo}" if repo else ""
            return f"🔎 Looking up {sha[:12]}{where}…"
        case Subscribe(repo=repo):
            return f"⏳ Subscribing this channel to {repo}…"
        case Unsubscribe(repo=repo):
            return f"⏳ Unsubscribing this channel from {repo}…"
        case ListSubscriptions():
            return "⏳ Listing this channel's subscriptions…"
        case Now():
            return "⏳ Building the digest; it will be posted here in a moment…"
        case Help():
            return "📖 Commit Digest help follows."
        case Ask(sha=sha):
            return f"🤔 Reading {sha[:12]} to answer your question…"
        case Status():
            return "⏳ Checking this channel's digests…"
    return "⏳ Working on it…"


def build_app(deps: SlackDeps, client: AsyncWebClient) -> AsyncApp:
    secret = deps.services.settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        # Signatures and their 5-minute window are checked by Bolt; keep it on.
        request_verification_enabled=True,
        process_before_response=False,
    )

    @app.command("/digest")
    async def on_digest(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = str(command.get("text") or "")
        await ack(text=ack_text(text), response_type="ephemeral")
        target = Target(
            platform="slack",
            workspace=str(command.get("team_id") or ""),
            channel=str(command.get("channel_id") or ""),
        )
        ctx = Context(target, str(command.get("user_id") or ""), deps.services)
        try:
            async with deps.services.turns.turn():  # a burst waits its turn here, after the ack
                reply = await handle(text, ctx)
                await deliver(reply, target, respond, deps.poster)
        except Exception as exc:  # one line for the user; the details in our log only
            log.warning("/digest failed: %s", short_error(exc))
            await respond(
                text="Sorry, that failed on our side; please try again.",
                response_type="ephemeral",
            )

    return app


async def deliver(reply: Reply, target: Target, respond: AsyncRespond, poster: SlackPoster) -> None:
    """Errors, help and lists to the asker alone; lookups and changes to the channel."""
    if reply.kind == ReplyKind.DIGESTS:
        for digest in reply.digests:
            await poster.post_digest(target, Post(digest, f"now-{uuid.uuid4().hex}"))
        return
    public = reply.kind in (ReplyKind.ANALYSIS, ReplyKind.INFO, ReplyKind.ANSWER)
    for message in reply_messages(reply):
        await _respond(respond, message, "in_channel" if public else "ephemeral")


async def _respond(respond: AsyncRespond, message: Message, response_type: str) -> None:
    await respond(
        text=message.text,
        blocks=message.blocks,
        response_type=response_type,
        replace_original=False,
        unfurl_links=False,
        unfurl_media=False,
    )
