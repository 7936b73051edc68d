"""Every Slack message we post (the daily post, its thread replies, command replies), across a
varied set of digests, checked against slack_sdk's own Block Kit models (tests/blockkit.py): a
layout Slack would refuse fails here first. And the check itself fails on a bad block."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.replies import Reply
from bot.slack.blocks import analysis_blocks, digest_messages, reply_messages
from digest.models import Digest, Importance
from tests.blockkit import block_kit_problems
from tests.chat_samples import NOTES, digests, replies
from tests.fakes.slack import FakeSlack

DIGESTS = digests()
REPORT = "https://digest.example/r/octo%2Fdemo/2026-02-05?sig=<x>&y=1"


def section(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}, **more}


@pytest.mark.parametrize("min_importance", [Importance.LOW, Importance.HIGH])
@pytest.mark.parametrize(("name", "digest"), DIGESTS, ids=[n for n, _ in DIGESTS])
def test_every_digest_post_and_thread_reply_is_block_kit(
    name: str, digest: Digest, min_importance: Importance
) -> None:
    post = digest_messages(digest, report_url=REPORT, min_importance=min_importance, notes=NOTES)
    assert post.main
    for n, message in enumerate([*post.main, *post.thread]):
        assert message.blocks and message.text
        assert block_kit_problems(message.blocks) == [], (name, n)


@pytest.mark.parametrize(("name", "digest"), DIGESTS, ids=[n for n, _ in DIGESTS])
def test_every_analysis_reply_is_block_kit(name: str, digest: Digest) -> None:
    for entry in digest.entries:
        for language in ("zh", "en"):
            for message in analysis_blocks(entry, language=language):
                assert block_kit_problems(message.blocks) == [], (name, entry.commit.short_sha)


@pytest.mark.parametrize(("name", "reply"), replies(), ids=[n for n, _ in replies()])
def test_every_command_reply_is_block_kit(name: str, reply: Reply) -> None:
    messages = reply_messages(reply)
    assert messages
    for message in messages:
        assert block_kit_problems(message.blocks) == [], name


@pytest.mark.parametrize(
    ("blocks", "says"),
    [
        ([section("x" * 3001)], "cannot exceed 3000"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "150"),
        ([{"type": "sektion", "text": {"type": "mrkdwn", "text": "x"}}], "no block type"),
        ([section("x", accesory={"type": "button"})], "/accesory is not read"),
        ([section("x", rows=[])], "/rows is not read"),  # a field of another block type
        ([{"type": "context", "elements": [section("e")["text"]] * 11}], "10"),
        ([{"type": "context", "elements": [{"type": "image", "image_url": "u"}]}], "context:"),
        ([{"type": "actions", "elements": [{"type": "button", "action_id": "a"}]}], "text"),
        ([section("x", block_id="b" * 256)], "block_id"),
        ([section("x")] * 51, "51 blocks"),
        ([{"type": "table", "rows": [[{"type": "raw_text", "text": "a"}]]}] * 2, "2 tables"),
        ("not a list", "must be an array"),
    ],
)
def test_a_block_slack_would_refuse_fails_the_check(blocks: Any, says: str) -> None:
    problems = block_kit_problems(blocks)
    assert problems and says in " ".join(problems), problems


async def test_the_fake_slack_refuses_what_block_kit_refuses_so_every_post_is_checked() -> None:
    async with FakeSlack(token="xoxb-t") as slack:
        client = AsyncWebClient(token="xoxb-t", base_url=slack.api_url)
        for blocks in (
            [{"type": "sektion", "text": {"type": "mrkdwn", "text": "x"}}],
            [section("x", accesory={"type": "button"})],
        ):
            with pytest.raises(SlackApiError) as refused:
                await client.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks)
            assert refused.value.response["error"] == "invalid_blocks"
            assert (
                "[json-pointer:/blocks/0]"
                in refused.value.response["response_metadata"]["messages"][0]
            )
        fine = await client.chat_postMessage(channel="C0GENERAL", text="t", blocks=[section("x")])
        assert fine["ok"]
