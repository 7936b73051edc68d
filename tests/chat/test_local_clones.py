"""Local clones as a channel's repositories: `digest chat` follows `./repo` exactly as it follows
owner/name (subscribe, list, lookups, ask, now, unsubscribe, the schedule), offline; the bot
refuses paths unless its operator allows them. Real git, a real store, GitHub at a closed port.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.chat.commands import Ask, Lookup, Now, Subscribe, Unsubscribe, shown_repo
from bot.chat.execute import handle
from bot.chat.grammar import format_command, parse_command
from bot.chat.messages import describe
from bot.chat.replies import Context, ReplyKind, Services
from bot.delivery.scheduler import DigestScheduler
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Target
from bot.wiring import repo_source
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.errors import BadRepoName, LocalPathRefused
from digest.sources.git import GitSource
from tests.gitrepo import GitRepo
from tests.scheduling import DEFAULTS, LEASE, Clock, RecordingPoster, sh

ME = Target(platform="terminal", workspace="local", channel="alice")


def closed_port() -> int:
    """A loopback port nothing listens on: GitHub "offline", without leaving the machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the grammar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("subscribe ./proj", Subscribe("./proj")),
        ("subscribe /src/proj", Subscribe("/src/proj")),
        ("unsubscribe ~/proj", Unsubscribe("~/proj")),
        ("unsubscribe .", Unsubscribe(".")),
        ("now ../proj 2026-02-05", Now("../proj", date(2026, 2, 5))),
        ("./proj@ABC1234", Lookup("./proj", "abc1234")),
        ('"/src/my proj"@abc1234', Lookup("/src/my proj", "abc1234")),
        ("ask /src/proj@abc1234 why so slow?", Ask("/src/proj", "abc1234", "why so slow?")),
        ("subscribe octo/demo", Subscribe("octo/demo")),  # owner/name stays GitHub's
    ],
)
def test_paths_parse_where_allowed_and_read_back(text: str, command: object) -> None:
    parsed = parse_command(text, local_paths=True)
    assert parsed == command
    assert parse_command(format_command(parsed), local_paths=True) == parsed


@pytest.mark.parametrize(
    "text", ["subscribe ./proj", "now /etc 2026-02-05", "/srv/x@abc1234", "ask ~/x@abc1234 why?"]
)
def test_paths_are_refused_by_name_where_not_allowed(text: str) -> None:
    with pytest.raises(LocalPathRefused) as caught:
        parse_command(text)
    sentence = describe(caught.value)
    assert "is a local path, and this bot follows GitHub repositories only" in sentence
    assert sentence.endswith(".") and "\n" not in sentence


def test_a_bare_name_says_that_a_path_would_do() -> None:
    with pytest.raises(BadRepoName) as caught:
        parse_command("subscribe proj", local_paths=True)
    assert "or the path of a local clone (./repo)" in describe(caught.value, "")


# ---- execution, as `digest chat` wires it ----------------------------------------------------


@dataclass
class Chat:
    ctx: Context
    store: Store
    repo: GitRepo
    clock: Clock

    async def say(self, text: str) -> tuple[ReplyKind, str, str | None]:
        reply = await handle(text, self.ctx)
        return reply.kind, reply.text, reply.usage


@pytest.fixture
async def chat(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Chat]:
    repo = GitRepo.init(tmp_path / "work" / "proj")
    repo.commit("feat: add the parser (#12)", {"src/parse.py": "x = 1\n"}, when=sh(5, 10))
    repo.commit("fix: the parser's edge", {"src/parse.py": "x = 2\n"}, when=sh(5, 11))
    monkeypatch.chdir(tmp_path / "work")  # paths are typed relative to the working directory
    clock = Clock(sh(5, 12))
    store = await Store.open(database_url, clock=clock)
    settings = Settings(_env_file=None, github_api_url=f"http://127.0.0.1:{closed_port()}")
    services = Services(
        settings=settings,
        store=store,
        open_source=lambda name: repo_source(name, settings, local_paths=True),
        analyzer=HeuristicAnalyzer(),
        clock=clock,
        prefix="",
        local_paths=True,
    )
    yield Chat(Context(ME, "alice", services), store, repo, clock)
    await store.close()


async def test_a_clone_is_followed_by_its_resolved_top_level(chat: Chat, tmp_path: Path) -> None:
    top = str((tmp_path / "work" / "proj").resolve())
    kind, text, _ = await chat.say("subscribe ./proj/src at:08:00")  # a directory inside it
    assert kind == ReplyKind.INFO
    assert text.startswith(f"Subscribed this channel to proj ({top}): daily at 08:00")
    (sub,) = await chat.store.subscriptions_for(ME)
    assert sub.repo == top  # absolute and resolved: the scheduler reads it from anywhere
    (tmp_path / "link").symlink_to(tmp_path / "work" / "proj")
    _, again, _ = await chat.say(f"subscribe {tmp_path}/link")  # the same clone
    assert again.startswith(f"This channel already follows proj ({top})")
    _, listed, _ = await chat.say("list")
    assert f"• proj ({top}): daily at 08:00" in listed
    assert len(await chat.store.subscriptions_for(ME)) == 1


async def test_lookups_ask_now_and_unsubscribe_work_on_a_clone(chat: Chat) -> None:
    head = chat.repo.git("rev-parse", "HEAD")
    first = chat.repo.git("rev-parse", "HEAD~1")
    await chat.say("subscribe ./proj")
    kind, text, _ = await chat.say(head[:8])  # a bare sha, found in the channel's clone
    assert (kind, text) == (ReplyKind.ANALYSIS, f"proj@{head[:7]}")
    kind, text, _ = await chat.say(f"./proj@{first[:9]}")
    assert (kind, text) == (ReplyKind.ANALYSIS, f"proj@{first[:7]}")
    reply = await handle("now 2026-02-05", chat.ctx)
    assert reply.kind == ReplyKind.DIGESTS
    (digest,) = reply.digests
    assert {c.sha for c in digest.all_commits()} == {head, first}
    kind, text, usage = await chat.say(f"ask {head[:8]} what changed?")  # no LLM configured
    assert kind == ReplyKind.ERROR
    assert text.endswith("<sha> explains a commit without one.")  # the chat's own syntax
    assert usage is not None and usage.startswith("usage: ask <sha>")
    kind, text, _ = await chat.say("unsubscribe ./proj/src/..")
    top = str(chat.repo.path.resolve())
    assert (kind, text) == (ReplyKind.INFO, f"This channel no longer follows proj ({top}).")
    kind, text, usage = await chat.say("now")
    assert text == "This channel follows no repository yet: subscribe owner/repo first."
    assert usage == "usage: now [owner/repo] [YYYY-MM-DD]"


async def test_a_missing_directory_or_a_plain_one_is_one_sentence(
    chat: Chat, tmp_path: Path
) -> None:
    kind, text, _ = await chat.say("subscribe ./nowhere")
    assert kind == ReplyKind.ERROR and "(no such directory)" in text
    (tmp_path / "work" / "plain").mkdir()
    _, text, _ = await chat.say("subscribe ./plain")
    assert text == f"{(tmp_path / 'work' / 'plain').resolve()} is not a git repository."
    _, text, _ = await chat.say("unsubscribe ./nowhere")
    assert text.startswith("This channel does not follow ./nowhere: subscribe ./nowhere first")
    assert await chat.store.subscriptions_for(ME) == []


async def test_owner_name_is_github_even_where_such_a_directory_exists(chat: Chat) -> None:
    """`work/proj` exists here; as owner/name it is still GitHub's, which is offline."""
    kind, text, usage = await chat.say("subscribe work/proj")
    assert kind == ReplyKind.ERROR
    assert text == (
        "GitHub did not answer (no network?): check the connection and GITHUB_API_URL, "
        "or give the path of a local clone instead."
    )
    assert usage is None  # nothing was typed wrong
    assert await chat.store.subscriptions_for(ME) == []


async def test_the_schedule_posts_what_landed_in_a_clone(chat: Chat) -> None:
    """The scheduled path of GitHub subscriptions, on a clone: a first window by date, then
    exactly the landed range (git log previous..head), merges of old commits included."""
    await chat.say("subscribe ./proj")
    slack = Target(platform="slack", workspace="T1", channel="C1")
    other, _ = await chat.store.upsert_subscription(
        slack, "octo/demo", {}, defaults=DEFAULTS, by="U"
    )
    terminal = RecordingPoster(platform="terminal")
    scheduler = DigestScheduler(
        chat.store,
        chat.ctx.services.open_source,
        HeuristicAnalyzer(),
        {"terminal": terminal},
        clock=chat.clock,
        replica="chat-1",
        lease=LEASE,
    )
    chat.clock.now = sh(6, 9)
    outcomes = await scheduler.run_once(sh(6, 9))
    assert [(o.period, o.outcome.value) for o in outcomes] == [("2026-02-06", "posted")]
    first = terminal.sent[0]
    assert first.titles == ["feat: add the parser (#12)", "fix: the parser's edge"]
    assert first.digest.repo.local_path == str(chat.repo.path.resolve())
    # The Slack channel's subscription in the same database is not this process's to run.
    assert await chat.store.runs(other.id) == []

    chat.repo.checkout("side", create=True)
    old = chat.repo.commit(
        "docs: written a month ago", {"docs/a.md": "a\n"}, when=sh(6, 10) - timedelta(days=30)
    )
    chat.repo.checkout("main")
    late = chat.repo.commit("feat: the next thing", {"src/next.py": "n = 1\n"}, when=sh(6, 15))
    merge = chat.repo.merge("side", message="Merge branch 'side'", when=sh(6, 16))
    chat.clock.now = sh(7, 9)
    outcomes = await scheduler.run_once(sh(7, 9))
    assert [(o.period, o.outcome.value) for o in outcomes] == [("2026-02-07", "posted")]
    assert terminal.sent[1].shas == {old, late, merge}
    assert terminal.sent[1].notes == ()  # a landed range, not a date window
    await scheduler.shutdown()


async def test_the_bot_never_reads_a_stored_path_unless_allowed(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "proj")
    settings = Settings(_env_file=None)
    with pytest.raises(LocalPathRefused):
        repo_source(str(repo.path), settings, local_paths=False)
    assert isinstance(repo_source(str(repo.path), settings, local_paths=True), GitSource)
    assert shown_repo(str(repo.path)) == f"proj ({repo.path})"
    assert shown_repo("octo/demo") == "octo/demo"
