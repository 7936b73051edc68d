"""The Feishu bot: a checked callback -> Command / button -> Reply -> a reply to the message.

Events are the same whether they came over the HTTP callback (bot/web/app.py) or the long connection
(bot/feishu/longconn.py): each is de-duplicated in the store, by its event id and, for a message,
by its message id too (Feishu re-delivers a message under a new event id, and its docs say to
de-duplicate messages on `message_id`), then handled off the request path so Feishu gets its
answer at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from bot.chat.execute import handle
from bot.chat.replies import Context, Reply, ReplyKind, Services
from bot.delivery.poster import Post
from bot.feishu.cards import analysis_cards, reply_cards
from bot.feishu.client import FeishuClient
from bot.feishu.poster import FeishuPoster, message_uuid
from bot.ops.logs import short_error
from bot.store.records import Target

log = logging.getLogger(__name__)
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


@dataclass
class FeishuDeps:
    """What the bot needs, injected by `digest serve` or by a test."""

    services: Services
    client: FeishuClient
    poster: FeishuPoster
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class FeishuBot:
    def __init__(self, deps: FeishuDeps) -> None:
        self.deps = deps

    async def accept(
        self, event_type: str, event_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a checked event: the answer for Feishu now, the work in the background."""
        store = self.deps.services.store
        if not await store.first_delivery(f"feishu:{event_id}"):
            return {}
        tenant = str((payload.get("header") or {}).get("tenant_key") or "")
        if event_type == "im.message.receive_v1":
            event = payload.get("event") or {}
            message_id = str((event.get("message") or {}).get("message_id") or "")
            if message_id and not await store.first_delivery(f"feishu-message:{message_id}"):
                log.info(
                    "Feishu message %s re-delivered under event %s: answered once",
                    message_id,
                    event_id,
                )
                return {}
            self._spawn(self.on_message(event, tenant))
            return {}
        if event_type == "card.action.trigger":
            event = payload.get("event") or {}
            self._spawn(self.on_card_action(event, tenant))
            return {"toast": {"type": "info", "content": "⏳ …"}}
        return {}

    def _spawn(self, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                async with self.deps.services.turns.turn():  # in turn, after the answer
                    await work
            except Exception as exc:  # one log line; the user saw the ack already
                log.warning("Feishu event failed: %s", short_error(exc))

        task = asyncio.get_running_loop().create_task(guarded())
        self.deps.tasks.add(task)
        task.add_done_callback(self.deps.tasks.discard)

    def _context(self, chat_id: str, tenant: str, user: str) -> Context:
        target = Target(platform="feishu", workspace=tenant, channel=chat_id)
        return Context(target, user, self.deps.services)

    async def on_message(self, event: dict[str, Any], tenant: str) -> None:
        message = event.get("message") or {}
        if message.get("message_type") != "text":
            return
        if message.get("chat_type") == "group" and not message.get("mentions"):
            return  # in a group the bot answers only when mentioned
        try:
            text = str(json.loads(message.get("content") or "{}").get("text") or "")
        except ValueError:
            return
        sender = ((event.get("sender") or {}).get("sender_id") or {}).get("open_id") or ""
        ctx = self._context(str(message.get("chat_id") or ""), tenant, str(sender))
        reply = await handle(text, ctx)
        await self.deliver(reply, ctx.target, str(message.get("message_id") or ""))

    async def deliver(self, reply: Reply, target: Target, message_id: str) -> None:
        for card in reply_cards(reply):
            await self.deps.client.reply(message_id, "interactive", card)
        if reply.kind == ReplyKind.DIGESTS:
            for digest in reply.digests:
                key = f"now-{message_id}-{digest.repo.full_name}"
                await self.deps.poster.post_digest(target, Post(digest, key))

    async def on_card_action(self, event: dict[str, Any], tenant: str) -> None:
        """The details button of a digest card: the full analysis as a reply to the card."""
        value = (event.get("action") or {}).get("value") or {}
        context = event.get("context") or {}
        chat_id = str(context.get("open_chat_id") or "")
        card_message = str(context.get("open_message_id") or "")
        repo, sha = str(value.get("repo") or ""), str(value.get("sha") or "")
        if value.get("action") != "details" or not (_REPO.match(repo) or not repo):
            return
        if not _SHA.match(sha):
            return
        operator = str((event.get("operator") or {}).get("open_id") or "")
        ctx = self._context(chat_id, tenant, operator)
        # The same scoping as a typed lookup: the chat must follow the repository.
        reply = await handle(f"{repo}@{sha}" if repo else sha, ctx)
        if reply.kind != ReplyKind.ANALYSIS or reply.analysis is None:
            await self.deliver(reply, ctx.target, card_message)
            return
        entry = reply.analysis
        for n, card in enumerate(analysis_cards(entry, language=entry.language, lead=reply.text)):
            uuid = message_uuid(f"details-{card_message}-{sha}", str(n))
            await self.deps.client.reply(card_message, "interactive", card, uuid=uuid)
