"""The daily post on Slack: the main message(s), one thread reply per high item, the report file.

The main message carries the run key in its metadata, so a replica that takes over a run after a
crash finds the post in the channel's history instead of posting it twice.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.links import report_name
from bot.delivery.poster import ChatPoster, Post
from bot.slack.blocks import Message, digest_messages
from bot.store.records import Target
from digest.render.markdown import render_markdown

EVENT_TYPE = "commit_digest"
# How far back a lookup reads the channel: a run is taken over within hours, not weeks.
HISTORY_PAGES = 5


class SlackPoster(ChatPoster[AsyncWebClient]):
    platform = "slack"

    async def post_digest(self, target: Target, post: Post) -> tuple[str, ...]:
        digest = post.digest
        url = self.links.report_url(digest)
        messages = digest_messages(
            digest, report_url=url, min_importance=post.min_importance, notes=post.notes
        )
        ids: list[str] = []
        for n, message in enumerate(messages.main):
            metadata = (
                {"event_type": EVENT_TYPE, "event_payload": {"run_key": post.run_key}}
                if n == 0
                else None
            )
            ids.append(await self._post(target.channel, message, metadata=metadata))
        thread = ids[0]
        for message in messages.thread:
            ids.append(await self._post(target.channel, message, thread_ts=thread))
        if url is None:
            await self.client.files_upload_v2(
                channel=target.channel,
                thread_ts=thread,
                filename=report_name(digest),
                title=report_name(digest),
                content=render_markdown(digest),
            )
        return tuple(ids)

    async def find_digest(self, target: Target, run_key: str) -> tuple[str, ...] | None:
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            page = await self.client.conversations_history(
                channel=target.channel, include_all_metadata=True, limit=200, cursor=cursor
            )
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == EVENT_TYPE and payload.get("run_key") == run_key:
                    return (str(message["ts"]),)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None
        return None

    async def _post(
        self,
        channel: str,
        message: Message,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        # No link_names, no unfurling: a commit message can neither ping nor preview a link.
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
        if metadata is not None:
            kwargs["metadata"] = metadata
        response = await self.client.chat_postMessage(**kwargs)
        return str(response["ts"])
