"""What the scheduler tests share: a clock, a recording chat platform, a repository, a world.

`RecordingPoster` stands in for Slack or Feishu at the network edge: it keeps every post in
memory under its run key, as the platform's message metadata would, and can be told to fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.parts import Part, PartKind
from bot.delivery.poster import Post
from bot.delivery.retry import Backoff
from bot.delivery.scheduler import DigestScheduler
from bot.store.database import Store
from bot.store.records import Subscription, Target
from digest.analysis.base import Analyzer
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.errors import PostRefused, ServiceUnavailable
from digest.models import AnalyzedCommit, Commit, Digest, Language
from digest.sources.base import CommitSource
from digest.sources.git import GitSource
from tests.gitrepo import GitRepo

TZ = "Asia/Shanghai"
REPO = "octo/demo"
LEASE = timedelta(minutes=5)
QUICK = Backoff(first=0.01, most=0.05)  # passing failures retried at once in these tests
CHAN = Target(platform="slack", workspace="T1", channel="C1")
DEFAULTS: dict[str, Any] = {
    "at": "09:00",
    "tz": TZ,
    "language": "en",
    "min_importance": "low",
    "weekdays_only": False,
    "post_empty": False,
}


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in February 2026 in Shanghai (2026-02-05 is a Thursday)."""
    return datetime(2026, 2, day, hour, minute, tzinfo=ZoneInfo(TZ))


class Clock:
    """Tests move `now`; callers get it in UTC, as from a real clock (the store's SQLite
    columns keep a datetime's wall time and read it back as UTC)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


@dataclass
class Sent:
    """One post as the platform keeps it: its main part, then its other parts as they came."""

    run_key: str
    target: Target
    digest: Digest
    notes: tuple[str, ...]
    parts: dict[str, str] = field(default_factory=dict)  # part name -> message id, in order

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.parts.values())

    @property
    def shas(self) -> set[str]:
        return {c.sha for c in self.digest.all_commits()}

    @property
    def titles(self) -> list[str]:
        return sorted(c.title for c in self.digest.all_commits())


class Killed(BaseException):
    """The replica died here (a BaseException: nothing in the bot catches it, as with SIGKILL)."""


class Refused(PostRefused):
    """What the recording platform raises for a post it is told to fail (not passing)."""

    def __init__(self) -> None:
        super().__init__("recording", "the platform is unreachable")


@dataclass
class RecordingPoster:
    """A post is its main part and, with `replies`, one reply per commit: each part recorded
    under its run key, as the platform's message metadata would keep it."""

    platform: str = "slack"
    replies: bool = False
    sent: list[Sent] = field(default_factory=list)
    calls: int = 0  # posts begun (main parts sent or tried)
    fail_calls: set[int] = field(default_factory=set)  # 1-based posts whose main part fails
    fail_parts: dict[str, BaseException] = field(default_factory=dict)  # part name -> raise once
    lookups: list[str] = field(default_factory=list)
    fail_lookups: int = 0  # lookups that fail (passing) before they work
    messages: list[tuple[str, str]] = field(default_factory=list)  # (run key, part) as sent
    notices: list[tuple[Target, str, str]] = field(default_factory=list)
    # Die while sending this part: after the platform kept it (`arrived`), or before.
    kill_at: str | None = None
    arrived: bool = True
    before_send: Callable[[Part], Awaitable[None]] | None = None

    def parts(self, post: Post) -> list[Part]:
        parts = [Part("main-0", PartKind.MAIN, post)]
        if self.replies:
            commits = sorted(post.digest.all_commits(), key=lambda c: c.sha)
            parts += [Part(f"reply-{c.sha[:12]}-0", PartKind.REPLY, c.sha) for c in commits]
        return parts

    async def send(self, target: Target, run_key: str, part: Part, out: Mapping[str, str]) -> str:
        if self.before_send is not None:
            await self.before_send(part)
        if part.name in self.fail_parts:
            raise self.fail_parts.pop(part.name)
        if part.name == self.kill_at:
            self.kill_at = None
            if not self.arrived:
                raise Killed(part.name)
            mid = await self._keep(target, run_key, part)
            raise Killed(f"{part.name} ({mid} kept)")
        return await self._keep(target, run_key, part)

    async def _keep(self, target: Target, run_key: str, part: Part) -> str:
        if part.kind == PartKind.MAIN:
            self.calls += 1
            if self.calls in self.fail_calls:
                raise Refused()
            post: Post = part.body
            mid = f"{len(self.sent) + 1}.0001"
            self.sent.append(Sent(run_key, target, post.digest, post.notes, {"main-0": mid}))
            self.messages.append((run_key, part.name))
            return mid
        (post_sent,) = [p for p in self.sent if p.run_key == run_key and p.target == target]
        mid = f"{post_sent.parts['main-0']}-{part.name}"
        post_sent.parts[part.name] = mid
        self.messages.append((run_key, part.name))
        return mid

    async def find(
        self,
        target: Target,
        run_key: str,
        parts: Sequence[Part],
        out: Mapping[str, str],
        since: datetime | None,
    ) -> dict[str, str]:
        self.lookups.append(run_key)
        if self.fail_lookups > 0:
            self.fail_lookups -= 1
            raise ServiceUnavailable("recording", "lookup failed")
        found = [p for p in self.sent if p.run_key == run_key and p.target == target]
        return dict(found[0].parts) if found else {}

    async def notify(self, target: Target, key: str, text: str) -> str:
        self.notices.append((target, key, text))
        return f"notice-{len(self.notices)}"

    async def permalink(self, target: Target, message_id: str) -> str | None:
        return f"https://chat.example/{target.channel}/{message_id}"

    def seed(self, target: Target, run_key: str, digest: Digest) -> tuple[str, ...]:
        """A post made by a replica that died before recording it."""
        self.sent.append(Sent(run_key, target, digest, (), {"main-0": "seeded.0001"}))
        return ("seeded.0001",)

    def periods(self) -> list[str]:
        return [p.digest.window.end.astimezone(ZoneInfo(TZ)).date().isoformat() for p in self.sent]


class CountingAnalyzer:
    """The real heuristic, counting the commits it is asked about."""

    def __init__(self) -> None:
        self.inner = HeuristicAnalyzer()
        self.name = self.inner.name
        self.calls: Counter[str] = Counter()

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        self.calls[commit.sha] += 1
        return await self.inner.analyze(commit, language)


@dataclass
class World:
    """One repository, one database, one platform, one clock; schedulers made on demand."""

    repo: GitRepo
    url: str
    clock: Clock
    poster: RecordingPoster
    store: Store
    stores: list[Store] = field(default_factory=list)

    def open_source(self, name: str) -> CommitSource:
        assert name == REPO
        return GitSource(self.repo.path)

    def scheduler(
        self,
        *,
        store: Store | None = None,
        replica: str = "r1",
        analyzer: Analyzer | None = None,
        open_source: Callable[[str], CommitSource] | None = None,
        **options: Any,
    ) -> DigestScheduler:
        options.setdefault("lease", LEASE)
        options.setdefault("backoff", QUICK)
        return DigestScheduler(
            store or self.store,
            open_source or self.open_source,
            analyzer or HeuristicAnalyzer(),
            {"slack": self.poster},
            clock=self.clock,
            replica=replica,
            **options,
        )

    async def other_store(self) -> Store:
        store = await Store.open(self.url, clock=self.clock)
        self.stores.append(store)
        return store

    async def subscribe(
        self, target: Target = CHAN, *, at: datetime | None = None, **values: Any
    ) -> Subscription:
        if at is not None:
            self.clock.now = at
        sub, _ = await self.store.upsert_subscription(
            target, REPO, values, defaults=DEFAULTS, by="U1"
        )
        return sub

    def commit(self, title: str, when: datetime, path: str | None = None, **kw: Any) -> str:
        name = path or f"src/{title.split(':')[-1].strip().replace(' ', '_')}.py"
        return self.repo.commit(title, {name: f"{title}\n"}, when=when, **kw)


@asynccontextmanager
async def world(tmp_path: Path, url: str, start: datetime) -> AsyncIterator[World]:
    repo = GitRepo.init(tmp_path / "demo")
    repo.commit("chore: initial", {"README.md": "demo\n"}, when=sh(1, 9) - timedelta(days=31))
    clock = Clock(start)
    store = await Store.open(url, clock=clock)
    made = World(repo, url, clock, RecordingPoster(), store)
    try:
        yield made
    finally:
        for other in made.stores:
            await other.close()
        await store.close()


async def at(sched: DigestScheduler, clock: Clock, when: datetime) -> list[Any]:
    """Move the clock and run what is due then."""
    clock.now = when
    return await sched.run_once(when)


def kinds(outcomes: list[Any]) -> list[tuple[str, str]]:
    return [(o.period, o.outcome.value) for o in outcomes]
