"""The Slack poster as parts, against the fake Slack Web API with the real slack_sdk client: each
message carries its part's key in its metadata; a takeover finds the parts out (the main post
in the channel's history, the replies and the report file in the thread, each read page after
page, among users' own messages) and sends the rest once; a lookup that fails twice still posts.

A replica is "killed" here by cancelling its run while the fake holds Slack's answer to a call
it already carried out: the message is in the channel, the replica never learnt its ts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.parts import PartKind
from bot.delivery.poster import Post
from bot.delivery.run import Outcome
from bot.delivery.scheduler import DigestScheduler
from bot.slack.poster import SlackPoster
from bot.store.records import RunState, Subscription
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.errors import PostRefused, ServiceUnavailable
from tests.fakes.slack import Call, FakeSlack, Fault, Message
from tests.scheduling import CHAN, LEASE, QUICK, World, at, kinds, sh, world

TOKEN = "xoxb-" + "1234567890-" * 3 + "poster"


@dataclass
class Setup:
    w: World
    slack: FakeSlack
    poster: SlackPoster
    sub: Subscription
    shas: list[str]

    def scheduler(self, replica: str, **options: Any) -> DigestScheduler:
        return DigestScheduler(
            self.w.store,
            self.w.open_source,
            HeuristicAnalyzer(),
            {"slack": self.poster},
            clock=self.w.clock,
            replica=replica,
            lease=LEASE,
            backoff=QUICK,
            **options,
        )

    def ours(self) -> list[Message]:
        """Every message of the channel (threads included) that carries a part's metadata."""
        return [m for m in self.slack.posts[CHAN.channel] if m.metadata]

    def parts_out(self) -> Counter[str]:
        return Counter(
            str((m.metadata or {}).get("event_payload", {}).get("part")) for m in self.ours()
        )

    def files(self) -> list[Message]:
        return [m for m in self.slack.posts[CHAN.channel] if m.files]


@pytest.fixture
async def setup(tmp_path: Path, database_url: str) -> AsyncIterator[Setup]:
    async with (
        world(tmp_path, database_url, sh(4, 10)) as w,
        FakeSlack(token=TOKEN, channels={CHAN.channel: "digest"}) as slack,
    ):
        sub = await w.subscribe()
        shas = [w.commit(f"feat: change {n}", sh(4, 11 + n)) for n in range(4)]
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
        yield Setup(w, slack, SlackPoster(client), sub, shas)


class Hold:
    """Keeps the first call that `when` picks out from ever being answered."""

    def __init__(self, when: Callable[[Call], bool]) -> None:
        self.when = when
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, call: Call, served: dict[str, Any]) -> None:
        if not self.held.is_set() and self.when(call):
            self.held.set()
            await self.release.wait()


def nth_reply(n: int) -> Callable[[Call], bool]:
    seen = [0]

    def pick(call: Call) -> bool:
        if call.method == "chat.postMessage" and call.params.get("thread_ts"):
            seen[0] += 1
            return seen[0] == n
        return False

    return pick


async def killed_while(setup: Setup, hold: Hold) -> None:
    """Run r1 until the held call, then kill it there."""
    setup.slack.after_call = hold
    running = asyncio.create_task(at(setup.scheduler("r1"), setup.w.clock, sh(5, 9)))
    await asyncio.wait_for(hold.held.wait(), 60)
    running.cancel()
    with suppress(asyncio.CancelledError):
        await running
    hold.release.set()
    setup.slack.after_call = None


async def test_every_part_carries_its_key_and_replies_and_file_go_in_the_thread(
    setup: Setup,
) -> None:
    outcomes = await at(setup.scheduler("r1"), setup.w.clock, sh(5, 9))
    assert kinds(outcomes) == [("2026-02-05", "posted")]
    (run,) = await setup.w.store.runs(setup.sub.id)
    (main,) = setup.slack.top_level(CHAN.channel)
    assert main.metadata == {
        "event_type": "commit_digest",
        "event_payload": {"run_key": f"digest-run-{run.id}", "part": "main-0"},
    }
    thread = setup.slack.thread(CHAN.channel, main.ts)[1:]
    names = [str((m.metadata or {}).get("event_payload", {}).get("part")) for m in thread]
    assert sorted(names[:-1]) == sorted(f"reply-{sha[:12]}-0" for sha in setup.shas)
    assert thread[-1].files and thread[-1].files[0]["name"].endswith(".md")  # the file, last
    assert all(m.params.get("unfurl_links") is False for m in [main, *thread[:-1]])
    assert run.message_ids[0] == main.ts and len(run.message_ids) == 6
    assert await setup.poster.permalink(CHAN, main.ts) == (
        f"https://fake.slack.com/archives/{CHAN.channel}/p{main.ts.replace('.', '')}"
    )


def main_post(call: Call) -> bool:
    return call.method == "chat.postMessage" and not call.params.get("thread_ts")


def report_file(call: Call) -> bool:
    return call.method == "files.completeUploadExternal"


@pytest.mark.parametrize(
    ("what", "picker"),
    [
        ("the main post", lambda: main_post),
        ("a middle reply", lambda: nth_reply(2)),
        ("the report file", lambda: report_file),
    ],
)
async def test_a_takeover_finds_what_is_out_and_sends_the_rest_once(
    setup: Setup, what: str, picker: Callable[[], Callable[[Call], bool]]
) -> None:
    await killed_while(setup, Hold(picker()))
    (run,) = await setup.w.store.runs(setup.sub.id)
    assert run.state == RunState.POSTING, what
    before = sum(setup.parts_out().values()) + len(setup.files())

    outcomes = await at(setup.scheduler("r2"), setup.w.clock, sh(5, 9) + LEASE * 2)
    expected = {"main-0", *(f"reply-{sha[:12]}-0" for sha in setup.shas)}
    assert setup.parts_out() == Counter({name: 1 for name in expected}), what
    assert len(setup.files()) == 1, what
    if what == "the report file":  # everything was out: recorded, nothing sent
        assert kinds(outcomes) == [("2026-02-05", "found-existing")]
        assert sum(setup.parts_out().values()) + len(setup.files()) == before
    else:
        assert kinds(outcomes) == [("2026-02-05", "posted")]
    (done,) = await setup.w.store.runs(setup.sub.id)
    assert (done.state, done.takeovers, done.failures) == (RunState.POSTED, 1, 0)
    recorded = await setup.w.store.parts_of(run.id)
    assert set(recorded) == expected | {"file"}
    (main,) = setup.slack.top_level(CHAN.channel)
    assert recorded["main-0"] == main.ts


async def test_the_lookup_reads_page_after_page_among_other_messages(setup: Setup) -> None:
    await killed_while(setup, Hold(nth_reply(3)))
    (main,) = setup.slack.top_level(CHAN.channel)
    client = AsyncWebClient(token=TOKEN, base_url=setup.slack.api_url)
    for n in range(230):  # the team talks in the channel and in the digest's thread
        await client.chat_postMessage(channel=CHAN.channel, text=f"chat {n}")
        await client.chat_postMessage(channel=CHAN.channel, text=f"re {n}", thread_ts=main.ts)
    # and an old digest of another run, with the same part names
    other = {"event_type": "commit_digest", "event_payload": {"run_key": "digest-run-999"}}
    await client.chat_postMessage(channel=CHAN.channel, text="old", metadata=other)

    outcomes = await at(setup.scheduler("r2"), setup.w.clock, sh(5, 9) + LEASE * 2)
    assert kinds(outcomes) == [("2026-02-05", "posted")]
    expected = {"main-0", *(f"reply-{sha[:12]}-0" for sha in setup.shas)}
    assert setup.parts_out() == Counter({name: 1 for name in expected} | {"None": 1})
    pages = [c for c in setup.slack.calls_to("conversations.replies") if c.status == 200]
    assert len(pages) >= 2  # the thread took more than one page


async def test_a_takeover_whose_history_lookup_fails_twice_still_posts(setup: Setup) -> None:
    await killed_while(setup, Hold(main_post))  # out, but not known: only history can tell
    setup.slack.fail(
        "conversations.history", Fault.api_error("internal_error"), Fault.api_error("fatal_error")
    )
    setup.w.clock.now = sh(5, 9) + LEASE * 2
    outcomes = await setup.scheduler("r2").run_once(setup.w.clock.now)
    assert [o.outcome for o in outcomes] == [Outcome.POSTED]
    errors = [c.error for c in setup.slack.calls_to("conversations.history")]
    assert errors == ["internal_error", "fatal_error", None]
    expected = {"main-0", *(f"reply-{sha[:12]}-0" for sha in setup.shas)}
    assert setup.parts_out() == Counter({name: 1 for name in expected})
    (run,) = await setup.w.store.runs(setup.sub.id)
    assert (run.failures, run.retries) == (0, 2)


async def test_slack_refusals_are_passing_or_for_good(setup: Setup) -> None:
    (part, *_) = setup.poster.parts(
        Post(await _empty_digest(setup), "digest-run-1", min_importance=setup.sub.min_importance)
    )
    assert part.kind == PartKind.MAIN
    setup.slack.fail("chat.postMessage", Fault.api_error("not_in_channel"))
    with pytest.raises(PostRefused) as refused:
        await setup.poster.send(CHAN, "digest-run-1", part, {})
    assert refused.value.error == "not_in_channel"
    setup.slack.fail("chat.postMessage", Fault.api_error("internal_error"))
    with pytest.raises(ServiceUnavailable):
        await setup.poster.send(CHAN, "digest-run-1", part, {})
    key = await setup.poster.notify(CHAN, "digest-run-1/notice", "⚠️ <!channel> gave up")
    (notice,) = [m for m in setup.slack.top_level(CHAN.channel) if m.ts == key]
    assert "<!channel>" not in notice.text  # escaped: a notice cannot ping either
    assert notice.metadata is not None
    assert notice.metadata["event_payload"] == {"run_key": "digest-run-1/notice", "part": "notice"}


async def _empty_digest(setup: Setup) -> Any:
    from digest.service import assemble_digest
    from digest.window import window_between

    source = setup.w.open_source("octo/demo")
    return await assemble_digest(
        await source.repo(),
        "main",
        window_between(sh(4, 9), sh(5, 9), "Asia/Shanghai"),
        [],
        HeuristicAnalyzer(),
        language="en",
        now=setup.w.clock,
    )


async def test_a_post_outside_any_run_goes_out_whole(setup: Setup) -> None:
    ids = await setup.poster.post_digest(CHAN, Post(await _empty_digest(setup), "now-1"))
    assert len(ids) == 2  # the main post and the report file (an empty day has no replies)
    assert [m.ts for m in setup.slack.top_level(CHAN.channel)] == [ids[0]]
