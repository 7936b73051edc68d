"""A cache in front of any analyzer: one analysis per (repo, sha, fingerprint + language).

The library defines what a cache must do; bot/store/database.py keeps the rows. Only successful
analyses are kept, so a fallback or a failure is tried again on the next run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from datetime import timedelta
from typing import Protocol

from digest.analysis.base import Analyzer, Preparer, Summarizer
from digest.analysis.overview import Overview, digest_key
from digest.analysis.prompt_context import context_key
from digest.models import AnalysisStatus, AnalyzedCommit, Commit, Language


class AnalysisCache(Protocol):
    async def get_analysis(self, commit: Commit, key: str) -> AnalyzedCommit | None:
        """The stored analysis of `commit` under `key`, joined to the commit given."""
        ...

    async def put_analysis(
        self, entry: AnalyzedCommit, key: str, *, owner: str | None = None
    ) -> None:
        """Keep `entry`; with `owner`, give back its claim at the same time."""
        ...

    async def claim_analysis(
        self, repo: str, sha: str, key: str, owner: str, lease: timedelta
    ) -> bool:
        """True when this process may analyse the commit now: nothing is stored and no other
        holds a live claim. False while another one does, or once its analysis is stored."""
        ...

    async def release_analysis(self, repo: str, sha: str, key: str, owner: str) -> None: ...

    async def get_overview(self, digest_key: str, key: str) -> str | None: ...

    async def put_overview(
        self, digest_key: str, key: str, text: str, tokens_in: int = 0, tokens_out: int = 0
    ) -> None: ...


# Look-ups kept made ahead at most (a pipeline prepares twice its concurrency ahead).
LOOKED_AHEAD = 256


def cache_key(fingerprint: str, language: Language) -> str:
    return f"{fingerprint}|lang={language}"


class CachedAnalyzer:
    """Serves cached analyses; concurrent requests for one commit share one call."""

    def __init__(
        self,
        inner: Analyzer,
        cache: AnalysisCache,
        *,
        lease: timedelta = timedelta(minutes=5),
        poll: float = 0.5,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.hits = 0
        self.lease = lease
        self.poll = poll
        # Who we are to other replicas sharing the cache.
        self.owner = f"analyzer-{uuid.uuid4().hex[:12]}"
        self._in_flight: dict[tuple[str, str, str], asyncio.Future[AnalyzedCommit]] = {}
        self._overviews: dict[tuple[str, str], asyncio.Future[Overview | None]] = {}
        # What `prepare` found in the cache, by slot, for `analyze` to start from.
        self._looked: OrderedDict[tuple[str, str, str], AnalyzedCommit | None] = OrderedDict()

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def _key(self, commit: Commit, language: Language) -> str:
        key = cache_key(self.inner.fingerprint, language) + context_key(commit)
        if commit.files_unreadable or any(f.unreadable for f in commit.files):
            # Made from part of the diff (a damaged or partial clone): kept apart, so the
            # whole commit, once readable, gets an analysis of its own.
            key += "|partial"
        return key

    async def prepare(self, commit: Commit, language: Language) -> None:
        """The cache looked up ahead of the commit's turn; on a miss, the inner analyzer
        prepares too. Nothing is claimed: the claim itself tells whether an analysis was
        stored since."""
        key = self._key(commit, language)
        slot = (commit.repo, commit.sha, key)
        if slot in self._in_flight or slot in self._looked:
            return
        found = await self.cache.get_analysis(commit, key)
        self._looked[slot] = found
        while len(self._looked) > LOOKED_AHEAD:  # looked up, never asked (a run given up)
            self._looked.popitem(last=False)
        if found is None and isinstance(self.inner, Preparer):
            await self.inner.prepare(commit, language)

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        key = self._key(commit, language)
        slot = (commit.repo, commit.sha, key)
        pending = self._in_flight.get(slot)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[AnalyzedCommit] = asyncio.get_running_loop().create_future()
        self._in_flight[slot] = future
        try:
            result = await self._analyze(commit, language, key)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a waiter-less failure is not "never retrieved"
            raise
        finally:
            del self._in_flight[slot]

    async def _analyze(self, commit: Commit, language: Language, key: str) -> AnalyzedCommit:
        cached = await self._claim_or_wait(commit, key)
        if cached is not None:
            self.hits += 1
            return cached
        released = False
        try:
            result = await self.inner.analyze(commit, language)
            if result.status == AnalysisStatus.OK and result.analysis is not None:
                await self.cache.put_analysis(result, key, owner=self.owner)
                released = True  # in the same transaction
        finally:
            if not released:
                await self.cache.release_analysis(commit.repo, commit.sha, key, self.owner)
        return result

    async def _claim_or_wait(self, commit: Commit, key: str) -> AnalyzedCommit | None:
        """The cached analysis, or None once this process holds the claim to make it.

        Another replica analysing the same commit (two channels following one repository)
        is waited for, so the commit costs one call; a claim whose holder died expires.
        """
        slot = (commit.repo, commit.sha, key)
        looked = slot in self._looked
        while True:
            if looked:  # by `prepare`: a hit stands; a miss is checked again by the claim
                cached, looked = self._looked.pop(slot), False
                if cached is not None and cached.commit is not commit:
                    cached = await self.cache.get_analysis(commit, key)  # joined to this one
            else:
                cached = await self.cache.get_analysis(commit, key)
            if cached is not None:
                return cached
            if await self.cache.claim_analysis(
                commit.repo, commit.sha, key, self.owner, self.lease
            ):
                return None  # nothing was stored as the claim was made
            await asyncio.sleep(self.poll)

    async def overview(self, entries: list[AnalyzedCommit], language: Language) -> Overview | None:
        """The inner analyzer's overview, cached per (commits and levels, language, model)."""
        if not isinstance(self.inner, Summarizer) or not entries:
            return None
        day = digest_key(entries, language)
        key = cache_key(self.inner.fingerprint, language)
        slot = (day, key)
        pending = self._overviews.get(slot)
        if pending is None:  # channels following one repository ask at once: one call
            pending = asyncio.ensure_future(self._overview(entries, language, day, key))
            self._overviews[slot] = pending

            def forget(done: asyncio.Future[Overview | None]) -> None:
                self._overviews.pop(slot, None)
                if not done.cancelled():
                    done.exception()  # retrieved: its callers may all be gone

            pending.add_done_callback(forget)
        return await asyncio.shield(pending)

    async def _overview(
        self, entries: list[AnalyzedCommit], language: Language, day: str, key: str
    ) -> Overview | None:
        assert isinstance(self.inner, Summarizer)
        text = await self.cache.get_overview(day, key)
        if text is not None:
            return Overview(text)
        made = await self.inner.overview(entries, language)
        if made is not None:
            await self.cache.put_overview(day, key, made.text, made.tokens_in, made.tokens_out)
        return made
