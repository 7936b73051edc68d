"""The daily post on Slack, as parts: the main message(s), one thread reply per detailed item,
the report file in the thread.

Every message carries its part's key in its metadata (`event_payload`: run key and part name),
which Slack shows again to `conversations.history` (main messages) and `conversations.replies`
(the thread) with `include_all_metadata`. The report upload (files upload v2) takes no metadata;
its share lands in the thread as a message holding the file, so a takeover reads the thread and
knows the file is out when a file of the report's name is there. A file of that name in our own
post's thread can only be ours; an upload that died before `files.completeUploadExternal` was
never shared, and is uploaded again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.parts import Part, PartKind, thread_of
from bot.delivery.poster import ChatPoster, Post, ReportFile
from bot.slack.blocks import Message, digest_messages
from bot.slack.escape import escape_text
from bot.store.records import Target
from digest.errors import PostRefused, ServiceUnavailable

EVENT_TYPE = "commit_digest"
# Slack errors that say "not now" rather than "never" (the client retried 429 and 5xx already).
PASSING = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# How far back a lookup reads the channel, and how much earlier than the run's start: clocks
# of replicas and of Slack may differ a little.
HISTORY_PAGES = 10
PAGE = 200
SKEW = timedelta(minutes=10)


class SlackPoster(ChatPoster[AsyncWebClient]):
    platform = "slack"

    def parts(self, post: Post) -> list[Part]:
        digest = post.digest
        url = self.links.report_url(digest)
        messages = digest_messages(
            digest, report_url=url, min_importance=post.min_importance, notes=post.notes
        )
        parts = [Part(f"main-{n}", PartKind.MAIN, m) for n, m in enumerate(messages.main)]
        parts += [
            Part(name, PartKind.REPLY, m)
            for name, m in zip(messages.thread_names, messages.thread, strict=True)
        ]
        return parts + self.report_part(digest, url)

    async def send(self, target: Target, run_key: str, part: Part, out: Mapping[str, str]) -> str:
        if part.kind == PartKind.MAIN:
            return await self._post(target.channel, part.body, _metadata(run_key, part.name))
        thread = out.get("main-0")
        if thread is None:
            raise ValueError(f"part {part.name} needs the main post's thread")
        if part.kind == PartKind.REPLY:
            meta = _metadata(run_key, part.name)
            return await self._post(target.channel, part.body, meta, thread_ts=thread)
        report: ReportFile = part.body
        response = await _slack(
            self.client.files_upload_v2(
                channel=target.channel,
                thread_ts=thread,
                filename=report.name,
                title=report.name,
                content=report.text,
            )
        )
        files = response.get("files") or [response.get("file") or {}]
        return str(files[0].get("id") or "file")

    async def find(
        self,
        target: Target,
        run_key: str,
        parts: Sequence[Part],
        out: Mapping[str, str],
        since: datetime | None,
    ) -> dict[str, str]:
        wanted = {p.name for p in parts if p.name not in out}
        mains = {p.name for p in parts if p.kind == PartKind.MAIN}
        found: dict[str, str] = {}
        if wanted & mains:
            oldest = f"{(since - SKEW).timestamp():.6f}" if since is not None else None
            history = partial(
                self.client.conversations_history, channel=target.channel, oldest=oldest
            )
            async for message in self._pages(history):
                name = _part_of(message, run_key)
                if name in wanted:
                    found[name] = str(message["ts"])
        thread = thread_of(parts, {**found, **out})
        if thread is None or not wanted - mains:
            return found
        file = next((p for p in parts if p.kind == PartKind.FILE), None)
        filename = file.body.name if file is not None else None
        replies = partial(self.client.conversations_replies, channel=target.channel, ts=thread)
        async for message in self._pages(replies):
            name = _part_of(message, run_key)
            if name in wanted:
                found[name] = str(message["ts"])
            for shared in message.get("files") or []:
                if file is not None and filename and shared.get("name") == filename:
                    found[file.name] = str(shared.get("id") or message["ts"])
        return {name: mid for name, mid in found.items() if name in wanted}

    async def notify(self, target: Target, key: str, text: str) -> str:
        message = Message(escape_text(text), [])
        return await self._post(target.channel, message, _metadata(key, "notice"))

    async def permalink(self, target: Target, message_id: str) -> str | None:
        try:
            answer = await self.client.chat_getPermalink(
                channel=target.channel, message_ts=message_id
            )
        except SlackApiError:
            return None
        return str(answer.get("permalink") or "") or None

    async def _pages(self, read: Callable[..., Any]) -> AsyncIterator[dict[str, Any]]:
        """The messages of a paginated read (with their metadata), page after page, at most
        HISTORY_PAGES of them."""
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            page = await _slack(read(include_all_metadata=True, limit=PAGE, cursor=cursor))
            for message in page.get("messages") or []:
                yield message
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return

    async def _post(
        self,
        channel: str,
        message: Message,
        metadata: dict[str, Any],
        *,
        thread_ts: str | None = None,
    ) -> str:
        # No link_names, no unfurling: a commit message can neither ping nor preview a link.
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": metadata,
        }
        if message.blocks:
            kwargs["blocks"] = message.blocks
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
        response = await _slack(self.client.chat_postMessage(**kwargs))
        return str(response["ts"])


def _metadata(run_key: str, part: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"run_key": run_key, "part": part}}


def _part_of(message: Mapping[str, Any], run_key: str) -> str | None:
    """The part name a message of ours carries for `run_key`, or None."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") != EVENT_TYPE or payload.get("run_key") != run_key:
        return None
    return str(payload.get("part") or "main-0")  # posts made before parts had names: the main


async def _slack(call: Any) -> Any:
    """Await a Web API call; Slack's refusals as our errors: passing, or for good."""
    try:
        return await call
    except SlackApiError as exc:
        response = exc.response
        code = str(response.get("error") or "") if response is not None else ""
        status = int(getattr(response, "status_code", 200) or 200)
        if code in PASSING or status == 429 or status >= 500:
            raise ServiceUnavailable("Slack", code or f"HTTP {status}") from None
        raise PostRefused("Slack", code or f"HTTP {status}") from None
