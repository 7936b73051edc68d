"""`/digest status`: the words for each subscription of a channel (the last digest with its link,
the next one due, the last failure and what was retried), from real run rows in the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.chat.commands import Help, Status
from bot.chat.execute import handle
from bot.chat.grammar import parse_command
from bot.chat.replies import Context, ReplyKind, Services
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import RunState, Target
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.errors import TooManyArguments
from digest.sources.git import GitSource
from tests.scheduling import DEFAULTS, RecordingPoster

HERE = Target(platform="slack", workspace="T1", channel="C-here")
NOW = datetime(2026, 2, 6, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
LEASE = timedelta(minutes=1)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, clock=lambda: NOW)
    yield opened
    await opened.close()


def ctx(store: Store, tmp_path: Path, target: Target = HERE) -> Context:
    services = Services(
        settings=Settings(_env_file=None),
        store=store,
        open_source=lambda repo: GitSource(tmp_path),
        analyzer=HeuristicAnalyzer(),
        clock=lambda: NOW,
        posters={"slack": RecordingPoster()},
    )
    return Context(target, "U1", services)


def test_the_grammar() -> None:
    assert parse_command("status") == Status()
    assert parse_command("/digest status octo/demo") == Status("octo/demo")
    assert parse_command("status https://github.com/octo/demo") == Status("octo/demo")
    assert parse_command("status --help") == Help("status")
    with pytest.raises(TooManyArguments):
        parse_command("status octo/a octo/b")


async def test_status_shows_the_last_digest_the_next_and_the_last_failure(
    store: Store, tmp_path: Path
) -> None:
    posted, _ = await store.upsert_subscription(HERE, "octo/posted", {}, defaults=DEFAULTS, by="U1")
    failing, _ = await store.upsert_subscription(
        HERE, "octo/failing", {"tz": "UTC", "at": "07:30"}, defaults=DEFAULTS, by="U1"
    )
    await store.upsert_subscription(
        Target(platform="slack", workspace="T1", channel="C-elsewhere"),
        "octo/elsewhere",
        {},
        defaults=DEFAULTS,
        by="U1",
    )
    # octo/posted: 2026-02-05 posted after a takeover and two passing retries.
    first = await store.claim_run(posted.id, "2026-02-05", "r1", LEASE)
    assert first is not None
    assert await store.finish_run(
        first.run.id, "r1", RunState.POSTED, message_ids=("1.0001", "1.0002"), retries=2
    )
    # octo/failing: the 4th gave up after three failed attempts; the 5th is being retried.
    gave_up = await store.claim_run(failing.id, "2026-02-04", "r1", LEASE)
    assert gave_up is not None
    for n in range(3):
        assert await store.fail_run(
            gave_up.run.id,
            "r1" if n == 0 else f"r{n + 1}",
            error="PostRefused: Slack refused the post: not_in_channel",
            retries=0,
            give_up=n == 2,
            retry_at=NOW - timedelta(hours=30),
        )
        if n < 2:
            assert await store.claim_run(failing.id, "2026-02-04", f"r{n + 2}", LEASE)
    retrying = await store.claim_run(failing.id, "2026-02-05", "r1", LEASE)
    assert retrying is not None
    assert await store.fail_run(
        retrying.run.id,
        "r1",
        error="ServiceUnavailable: Slack is down",
        retries=3,
        give_up=False,
        retry_at=NOW + timedelta(minutes=2),
    )

    reply = await handle("status", ctx(store, tmp_path))
    assert reply.kind == ReplyKind.STATUS and not reply.ephemeral
    text = reply.text
    assert "octo/elsewhere" not in text  # another channel's subscription
    lines = text.splitlines()
    assert lines[0] == "Digests of this channel:"
    block = text[text.index("• octo/posted") :]
    assert "last digest: 2026-02-05, posted 2026-02-06 11:00, 2 messages" in block
    assert "https://chat.example/C-here/1.0001" in block  # the poster's permalink
    assert "2 passing errors retried" in block
    assert "next: 2026-02-06 09:00" not in block and "next: 2026-02-07 09:00" in block
    failing_block = text[text.index("• octo/failing") : text.index("• octo/posted")]
    assert "last digest: none posted yet" in failing_block
    assert "now: the digest of 2026-02-05 is tried again from 2026-02-06 03:02" in failing_block
    assert "next: 2026-02-06 07:30" in failing_block
    assert (
        "last failure: 2026-02-05; 1 failed attempt, 3 passing errors retried: "
        "ServiceUnavailable: Slack is down"
    ) in failing_block

    only = await handle("status octo/failing", ctx(store, tmp_path))
    assert "octo/posted" not in only.text and "octo/failing" in only.text
    unknown = await handle("status octo/unknown", ctx(store, tmp_path))
    assert unknown.kind == ReplyKind.ERROR and "does not follow octo/unknown" in unknown.text


async def test_a_digest_given_up_says_so_and_how_to_get_it(store: Store, tmp_path: Path) -> None:
    sub, _ = await store.upsert_subscription(HERE, "octo/demo", {}, defaults=DEFAULTS, by="U1")
    claim = await store.claim_run(sub.id, "2026-02-05", "r1", LEASE)
    assert claim is not None
    assert await store.fail_run(
        claim.run.id,
        "r1",
        error="RepoNotFound: octo/demo",
        retries=1,
        give_up=True,
        retry_at=NOW,
    )
    text = (await handle("status", ctx(store, tmp_path))).text
    assert (
        "last failure: 2026-02-05, given up at 2026-02-06 11:00: RepoNotFound: octo/demo; "
        "1 failed attempt, 1 passing error retried. /digest now octo/demo makes it again."
    ) in text


async def test_status_without_subscriptions_and_in_help(store: Store, tmp_path: Path) -> None:
    reply = await handle("status", ctx(store, tmp_path))
    assert reply.kind == ReplyKind.STATUS and "follows no repository yet" in reply.text
    assert "/digest status" in (await handle("help", ctx(store, tmp_path))).text
