"""The daily post on Feishu: interactive cards, then the Markdown report as a file in reply.

Feishu de-duplicates message creation by `uuid` for an hour, so every card carries one derived
from the run key: a replica that takes over a run within its lease posts the same messages again
and Feishu hands back the first ones instead of posting twice.
"""

from __future__ import annotations

import hashlib

from bot.delivery.links import report_name
from bot.delivery.poster import ChatPoster, Post
from bot.feishu.cards import digest_cards
from bot.feishu.client import FeishuClient
from bot.store.records import Target
from digest.render.markdown import render_markdown


def message_uuid(run_key: str, part: str) -> str:
    """≤ 50 characters, stable for (run, part)."""
    return hashlib.sha256(f"{run_key}/{part}".encode()).hexdigest()[:40]


class FeishuPoster(ChatPoster[FeishuClient]):
    platform = "feishu"

    async def post_digest(self, target: Target, post: Post) -> tuple[str, ...]:
        digest, run_key = post.digest, post.run_key
        url = self.links.report_url(digest)
        cards = digest_cards(
            digest,
            report_url=url,
            min_importance=post.min_importance,
            notes=post.notes,
            run_key=run_key,
        )
        ids: list[str] = []
        for n, card in enumerate(cards):
            uuid = message_uuid(run_key, f"card-{n}")
            ids.append(await self.client.send(target.channel, "interactive", card, uuid=uuid))
        if url is None:
            markdown = render_markdown(digest).encode("utf-8")
            key = await self.client.upload_file(report_name(digest), markdown)
            ids.append(
                await self.client.reply(
                    ids[0], "file", {"file_key": key}, uuid=message_uuid(run_key, "file")
                )
            )
        return tuple(ids)

    async def find_digest(self, target: Target, run_key: str) -> tuple[str, ...] | None:
        # Nothing to search: posting again with the same uuids returns the first messages.
        return None
