"""The daily post on Feishu, as parts: the interactive cards, then the Markdown report as a file
in reply to the first card.

Feishu has no search by a key we choose, but it de-duplicates message creation by `uuid` for an
hour: every part carries one derived from its key, so a replica that takes over a run sends the
parts it does not know to be out, and for those that were out Feishu hands back the first
message instead of posting again. The store records each part as it goes out, so only the one
part in flight at a crash depends on that hour.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.delivery.parts import Part, PartKind
from bot.delivery.poster import ChatPoster, Post, ReportFile
from bot.feishu.cards import digest_cards, notice_card
from bot.feishu.client import FeishuClient
from bot.store.records import Target


def message_uuid(run_key: str, part: str) -> str:
    """≤ 50 characters, stable for (run, part)."""
    return hashlib.sha256(f"{run_key}/{part}".encode()).hexdigest()[:40]


class FeishuPoster(ChatPoster[FeishuClient]):
    platform = "feishu"

    def parts(self, post: Post) -> list[Part]:
        digest = post.digest
        url = self.links.report_url(digest)
        cards = digest_cards(
            digest,
            report_url=url,
            min_importance=post.min_importance,
            notes=post.notes,
            run_key=post.run_key,
        )
        parts = [Part(f"card-{n}", PartKind.MAIN, card) for n, card in enumerate(cards)]
        return parts + self.report_part(digest, url)

    async def send(self, target: Target, run_key: str, part: Part, out: Mapping[str, str]) -> str:
        uuid = message_uuid(run_key, part.name)
        if part.kind == PartKind.MAIN:
            return await self.client.send(target.channel, "interactive", part.body, uuid=uuid)
        first = out.get("card-0")
        if first is None:
            raise ValueError(f"part {part.name} replies to the first card")
        report: ReportFile = part.body
        key = await self.client.upload_file(report.name, report.text.encode("utf-8"))
        return await self.client.reply(first, "file", {"file_key": key}, uuid=uuid)

    async def find(
        self,
        target: Target,
        run_key: str,
        parts: Sequence[Part],
        out: Mapping[str, str],
        since: datetime | None,
    ) -> dict[str, str]:
        # Nothing to search: a part sent again with its uuid returns the first message.
        return {}

    async def notify(self, target: Target, key: str, text: str) -> str:
        uuid = message_uuid(key, "notice")
        return await self.client.send(target.channel, "interactive", notice_card(text), uuid=uuid)
