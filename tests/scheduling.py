"""What the scheduler tests share: a clock, a recording chat platform, a repository, a world.

`RecordingPoster` stands in for Slack or Feishu at the network edge: it keeps every post in
memory under its run key, as the platform's message metadata would, and can be told to fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.poster import Post
from bot.delivery.scheduler import DigestScheduler
from bot.store.database import Store
from bot.store.records import Subscription, Target
from digest.analysis.base import Analyzer
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.models import AnalyzedCommit, Commit, Digest, Language
from digest.sources.base import CommitSource
from digest.sources.git import GitSource
from tests.gitrepo import GitRepo

TZ = "Asia/Shanghai"
REPO = "octo/demo"
LEASE = timedelta(minutes=5)
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
    run_key: str
    target: Target
    digest: Digest
    notes: tuple[str, ...]
    ids: tuple[str, ...]

    @property
    def shas(self) -> set[str]:
        return {c.sha for c in self.digest.all_commits()}

    @property
    def titles(self) -> list[str]:
        return sorted(c.title for c in self.digest.all_commits())


@dataclass
class RecordingPoster:
    platform: str = "slack"
    sent: list[Sent] = field(default_factory=list)
    calls: int = 0
    fail_calls: set[int] = field(default_factory=set)  # 1-based post_digest calls that fail
    lookups: list[str] = field(default_factory=list)

    async def post_digest(self, target: Target, post: Post) -> tuple[str, ...]:
        digest, run_key, notes = post.digest, post.run_key, post.notes
        self.calls += 1
        if self.calls in self.fail_calls:
            raise ConnectionError("the platform is unreachable")
        ids = (f"{len(self.sent) + 1}.0001", f"{len(self.sent) + 1}.0002")
        self.sent.append(Sent(run_key, target, digest, notes, ids))
        return ids

    async def find_digest(self, target: Target, run_key: str) -> tuple[str, ...] | None:
        self.lookups.append(run_key)
        found = [p for p in self.sent if p.run_key == run_key and p.target == target]
        return found[0].ids if found else None

    def seed(self, target: Target, run_key: str, digest: Digest) -> tuple[str, ...]:
        """A post made by a replica that died before recording it."""
        ids = ("seeded.0001",)
        self.sent.append(Sent(run_key, target, digest, (), ids))
        return ids

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
