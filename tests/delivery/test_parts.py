"""The post as parts: the pure decision of what is left to send, and the passing-failure rules.

The property test plays every crash: a post is sent part after part and cut at any point (the
part in flight may or may not have reached the platform, its record in the store may or may
not have been written), then resumed by another replica from what the store recorded and what
the platform shows; every part must end up out exactly once.
"""

from __future__ import annotations

import asyncio
import errno

import pytest
import sqlalchemy.exc
from hypothesis import given
from hypothesis import strategies as st

from bot.delivery.parts import BadParts, Part, PartKind, check_parts, part_key, progress, thread_of
from bot.delivery.retry import Backoff, Retrier, is_transient
from bot.feishu.client import FeishuFailed
from bot.ops.logs import short_error
from digest.errors import PostRefused, RepoNotFound, ServiceUnavailable

MAIN, REPLY, FILE = PartKind.MAIN, PartKind.REPLY, PartKind.FILE


def post(replies: int, file: bool = True, mains: int = 1) -> list[Part]:
    parts = [Part(f"main-{n}", MAIN) for n in range(mains)]
    parts += [Part(f"reply-{n:02d}", REPLY) for n in range(replies)]
    return [*parts, Part("file", FILE)] if file else parts


def test_nothing_out_sends_everything_in_order() -> None:
    parts = post(3)
    state = progress(parts, {})
    assert [p.name for p in state.todo] == ["main-0", "reply-00", "reply-01", "reply-02", "file"]
    assert not state.resumed and not state.done


def test_a_post_cut_after_some_parts_resumes_at_the_first_missing() -> None:
    parts = post(3)
    state = progress(parts, {"main-0": "1.1", "reply-00": "1.2"})
    assert [p.name for p in state.todo] == ["reply-01", "reply-02", "file"]
    assert state.resumed
    assert thread_of(parts, state.out) == "1.1"
    assert state.message_ids(parts) == ("1.1", "1.2")


def test_a_gap_is_filled_and_nothing_out_is_sent_again() -> None:
    # The platform shows reply-01 but not reply-00 (a lookup that missed it, a reply deleted
    # by hand): exactly once wins over order.
    parts = post(3)
    state = progress(parts, {"main-0": "1", "reply-01": "3", "file": "F1"})
    assert [p.name for p in state.todo] == ["reply-00", "reply-02"]


def test_parts_out_under_names_this_rendering_lacks_are_kept_as_out() -> None:
    parts = post(1)
    state = progress(parts, {"main-0": "1", "reply-gone": "2", "reply-00": "3", "file": "F"})
    assert state.done and state.out["reply-gone"] == "2"
    assert state.message_ids(parts) == ("1", "3", "F")


def test_empty_ids_do_not_count_as_out() -> None:
    assert [p.name for p in progress(post(0), {"main-0": ""}).todo] == ["main-0", "file"]


@pytest.mark.parametrize(
    "parts",
    [
        [],
        [Part("reply-0", REPLY), Part("main-0", MAIN)],
        [Part("main-0", MAIN), Part("main-0", REPLY)],
    ],
)
def test_parts_that_cannot_be_delivered_in_order_are_refused(parts: list[Part]) -> None:
    with pytest.raises(BadParts):
        check_parts(parts)


def test_a_part_key_names_the_run_and_the_part() -> None:
    assert part_key("digest-run-7", "reply-abc-0") == "digest-run-7/reply-abc-0"


@given(
    replies=st.integers(min_value=0, max_value=6),
    mains=st.integers(min_value=1, max_value=2),
    file=st.booleans(),
    cut=st.integers(min_value=0, max_value=10),
    in_flight_arrived=st.booleans(),
    recorded=st.integers(min_value=0, max_value=10),
    platform_shows=st.booleans(),
)
def test_any_crash_then_resume_sends_every_part_exactly_once(
    replies: int,
    mains: int,
    file: bool,
    cut: int,
    in_flight_arrived: bool,
    recorded: int,
    platform_shows: bool,
) -> None:
    parts = post(replies, file, mains)
    cut = min(cut, len(parts))
    sent: list[str] = []  # what reached the platform, in order, over both replicas
    # The first replica sends parts[0..cut) and dies with parts[cut] in flight.
    for part in parts[:cut]:
        sent.append(part.name)
    if cut < len(parts) and in_flight_arrived:
        sent.append(parts[cut].name)
    # The store recorded a prefix of what was acknowledged (records may lag).
    store = {name: f"id-{name}" for name in [p.name for p in parts[:cut]][: min(recorded, cut)]}
    # The platform shows what reached it (Slack's metadata); or nothing (Feishu), in which
    # case sending again with the same key returns the first message: it is not a new one.
    shows = {name: f"id-{name}" for name in sent} if platform_shows else {}
    state = progress(parts, {**store, **shows})
    for part in state.todo:
        if part.name in sent:
            assert not platform_shows  # only an unsearchable platform may be asked twice
            continue  # de-duplicated by its key: the platform hands back the first message
        sent.append(part.name)
    assert sorted(sent) == sorted(p.name for p in parts)
    assert len(sent) == len(set(sent))


def test_backoff_doubles_up_to_its_most() -> None:
    backoff = Backoff(first=1.0, factor=2.0, most=30.0, tries=8)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize(
    ("error", "passing"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), True),
        (TimeoutError(), True),
        (ServiceUnavailable("Slack", "internal_error"), True),
        (sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("gone")), True),
        (sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")), True),
        (FeishuFailed(99991400, "rate limited"), True),
        (FeishuFailed(-1, "ConnectionError"), True),
        (FeishuFailed(0, "bad gateway", status=502), True),
        (FeishuFailed(230002, "The bot can not be outside the group."), False),
        (PostRefused("Slack", "not_in_channel"), False),
        (RepoNotFound("octo/gone"), False),
        (ValueError("a bug"), False),
    ],
)
def test_passing_failures_are_told_from_the_runs_own(error: Exception, passing: bool) -> None:
    assert is_transient(error) is passing


def test_short_error_is_one_redacted_line() -> None:
    token = "xoxb-" + "1234567890-" * 3 + "abcdef"
    text = short_error(RuntimeError(f"posting with {token} failed\nsecond line"))
    assert text.startswith("RuntimeError: posting with ") and "second line" not in text
    assert token not in text


async def test_the_retrier_retries_passing_failures_only_and_counts_them() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retrier = Retrier(Backoff(first=0.5, tries=4), "run 1", sleep=sleep)
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionResetError("reset")
        return "ok"

    assert await retrier.run("lookup", flaky) == "ok"
    assert (calls, slept, retrier.retries) == (3, [0.5, 1.0], 2)
    assert retrier.last_error == "ConnectionResetError: reset"

    async def refused() -> str:
        raise PostRefused("Slack", "not_in_channel")

    with pytest.raises(PostRefused):
        await retrier.run("post", refused)
    assert retrier.retries == 2  # a refusal is not retried

    async def down() -> str:
        raise ServiceUnavailable("Slack", "fatal_error")

    with pytest.raises(ServiceUnavailable):
        await retrier.run("post", down)
    assert retrier.retries == 2 + 3  # tried `tries` times, then the failure stands

    checks: list[int] = []

    async def before() -> None:
        checks.append(1)
        await asyncio.sleep(0)

    guarded = Retrier(Backoff(tries=2), "run 2", before=before, sleep=sleep)
    assert await guarded.run("step", lambda: asyncio.sleep(0, "x")) == "x"
    assert await guarded.run("db", lambda: asyncio.sleep(0, "y"), guarded=False) == "y"
    assert checks == [1]  # the lease is checked before a guarded step only
