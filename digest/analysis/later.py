"""An analyzer still being made: a command's first GitHub requests go out while the LLM client
loads (openai takes most of a second to import), and each call waits until it is ready."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from digest.analysis.base import Analyzer, Preparer, Summarizer
from digest.analysis.overview import Overview
from digest.models import AnalyzedCommit, Commit, Language


class LaterAnalyzer:
    """`name` is known at once; the analyzer itself is `made` in the background."""

    def __init__(self, name: str, made: Awaitable[Analyzer]) -> None:
        self.name = name
        self._made: asyncio.Future[Analyzer] = asyncio.ensure_future(made)
        self._made.add_done_callback(_retrieved)

    @property
    def fingerprint(self) -> str:
        if not self._made.done():
            raise RuntimeError(f"{self.name} is not ready yet: await ready() first")
        return self._made.result().fingerprint

    async def ready(self) -> Analyzer:
        """The analyzer, once made; raises what making it raised."""
        return await asyncio.shield(self._made)

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        return await (await self.ready()).analyze(commit, language)

    async def prepare(self, commit: Commit, language: Language) -> None:
        inner = await self.ready()
        if isinstance(inner, Preparer):
            await inner.prepare(commit, language)

    async def overview(self, entries: list[AnalyzedCommit], language: Language) -> Overview | None:
        inner = await self.ready()
        return await inner.overview(entries, language) if isinstance(inner, Summarizer) else None


def _retrieved(made: asyncio.Future[Analyzer]) -> None:
    """A failure nobody awaited (a day without commits) is not "never retrieved"."""
    if not made.cancelled():
        made.exception()
