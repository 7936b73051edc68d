"""Analysis while fetching: commits flow from the source into analysis through a bounded queue.

On GitHub a digest's details arrive one request at a time; analysing only after the last one
made the wall time fetch plus analysis where the limit is the larger of the two. The source
hands each commit to `feed` as its details arrive (`CommitSink`); `concurrency` workers take
them from a queue of at most twice that many, so a fast source waits for room instead of
piling commits up. Results are asked for by the caller's list, in its order (the report's).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType

from digest.analysis.base import Analyzer, Preparer
from digest.models import AnalyzedCommit, Commit, Language
from digest.sources.base import ContextProvider, ProgressCallback


class AnalysisPipeline:
    """`async with AnalysisPipeline(...) as p`: feed commits, then ask for `analysed(commits)`."""

    def __init__(
        self,
        analyzer: Analyzer,
        language: Language,
        *,
        concurrency: int = 8,
        keep: Callable[[Commit], bool] = lambda _: True,
        progress: ProgressCallback | None = None,
        context: ContextProvider | None = None,
    ) -> None:
        """`context`: each commit's pull request and issues are attached, one commit at a time,
        before it is analysed (set later, once the source is known, by a run that streams);
        `context_failures` counts the commits that could not get theirs."""
        self.analyzer = analyzer
        self.context = context
        self.context_failures = 0
        self.language = language
        self._keep = keep
        self._progress = progress
        self._concurrency = max(1, concurrency)
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[Commit]]] = asyncio.Queue(
            maxsize=2 * self._concurrency
        )
        self._results: dict[str, asyncio.Future[AnalyzedCommit]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._prepared: set[asyncio.Future[Commit]] = set()  # context look-ups under way
        self._done = 0

    async def __aenter__(self) -> AnalysisPipeline:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._concurrency)]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for worker in self._workers:
            worker.cancel()
        for prepared in self._prepared:
            prepared.cancel()
        await asyncio.gather(*self._workers, *self._prepared, return_exceptions=True)
        for future in self._results.values():
            if not future.done():
                future.cancel()

    async def feed(self, commit: Commit) -> None:
        """A commit whose details just arrived: queued for analysis unless `keep` refuses it
        (noise folded into one line) or it is queued already. Waits while the queue is full."""
        if self._keep(commit):
            await self._enqueue(commit)

    async def analysed(self, commits: list[Commit]) -> list[AnalyzedCommit]:
        """The analyses of `commits`, in their order; those not fed yet (or whose analysis
        failed, on a retry) are queued now."""
        for commit in commits:
            await self._enqueue(commit)
        return [await asyncio.shield(self._results[c.sha]) for c in commits]

    async def _enqueue(self, commit: Commit) -> None:
        held = self._results.get(commit.sha)
        if held is not None and not (held.done() and (held.cancelled() or held.exception())):
            return
        self._results[commit.sha] = asyncio.get_running_loop().create_future()
        # Its pull request is looked up at once, beside the analyses under way, so that a
        # worker's turn goes to the model, not to waiting on GitHub.
        prepared = asyncio.ensure_future(self._prepare(commit))
        self._prepared.add(prepared)
        prepared.add_done_callback(self._prepared.discard)
        await self._queue.put((commit.sha, prepared))

    async def _prepare(self, commit: Commit) -> Commit:
        if self.context is not None:
            (commit,), failed = await self.context.attach([commit])
            self.context_failures += failed
        if isinstance(self.analyzer, Preparer):
            # Its prompt and cache look-up, made before its turn (an error is met and told
            # again by its analysis).
            with contextlib.suppress(Exception):
                await self.analyzer.prepare(commit, self.language)
        return commit

    async def _work(self) -> None:
        while True:
            sha, prepared = await self._queue.get()
            future = self._results[sha]
            try:
                commit = await prepared
                future.set_result(await self.analyzer.analyze(commit, self.language))
            except Exception as exc:  # handed to whoever asks for this commit
                future.set_exception(exc)
                future.exception()  # retrieved: nobody may ask (a run given up)
            self._done += 1
            if self._progress is not None:
                self._progress(self._done, len(self._results))
