"""Build a Digest for (repo, window): fetch -> fold noise -> analyse (concurrently) -> Digest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from digest.analysis.base import Analyzer, Summarizer
from digest.analysis.noise import fold_reason
from digest.models import (
    AnalyzedCommit,
    Commit,
    Digest,
    FoldedCommit,
    Language,
    RepoRef,
    Window,
)
from digest.sources.base import CommitSource, ContextProvider, ProgressCallback
from digest.sources.links import MessageContext
from digest.stories import tell_stories


@dataclass(frozen=True)
class Progress:
    """Where the service reports how far it got; the CLI draws bars from these."""

    fetched: ProgressCallback | None = None
    analysed: ProgressCallback | None = None


def context_of(source: CommitSource) -> ContextProvider | None:
    """The source's own context provider (GitHub's pull requests and issues), if it has one."""
    make = getattr(source, "context", None)
    return make() if callable(make) else None


def split_noise(commits: list[Commit]) -> tuple[list[Commit], list[FoldedCommit]]:
    """Commits worth analysing, and the noise folded into one line (§4)."""
    keep: list[Commit] = []
    folded: list[FoldedCommit] = []
    for commit in commits:
        reason = fold_reason(commit)
        if reason is None:
            keep.append(commit)
        else:
            folded.append(FoldedCommit(commit=commit, reason=reason))
    return keep, folded


async def analyse_all(
    analyzer: Analyzer,
    commits: list[Commit],
    language: Language,
    *,
    concurrency: int = 8,
    progress: ProgressCallback | None = None,
) -> list[AnalyzedCommit]:
    """Analyse every commit with at most `concurrency` in flight; results keep input order."""
    semaphore = asyncio.Semaphore(max(1, concurrency))
    done = 0

    async def one(commit: Commit) -> AnalyzedCommit:
        nonlocal done
        async with semaphore:
            result = await analyzer.analyze(commit, language)
        done += 1
        if progress is not None:
            progress(done, len(commits))
        return result

    return list(await asyncio.gather(*(one(c) for c in commits)))


async def build_digest(
    source: CommitSource,
    analyzer: Analyzer,
    *,
    window: Window,
    language: Language,
    now: Callable[[], datetime],
    branch: str | None = None,
    fold: bool = True,
    concurrency: int = 8,
    progress: Progress = Progress(),
    context: ContextProvider | None = None,
) -> Digest:
    """The digest of one branch of one repository over one window."""
    repo = await source.repo()
    branch = branch or await source.default_branch()
    # An empty repository lists no commits; asking for its head first would cost a request.
    commits = await source.commits_in_window(branch, window, progress.fetched)
    cut = await source.shallow_boundary()
    digest = await assemble_digest(
        repo,
        branch,
        window,
        commits,
        analyzer,
        language=language,
        now=now,
        fold=fold,
        concurrency=concurrency,
        progress=progress,
        context=context or context_of(source),
    )
    if cut is not None and window.start < cut:
        digest = digest.model_copy(update={"shallow_before": cut})
    return digest


async def assemble_digest(
    repo: RepoRef,
    branch: str,
    window: Window,
    commits: list[Commit],
    analyzer: Analyzer,
    *,
    language: Language,
    now: Callable[[], datetime],
    fold: bool = True,
    concurrency: int = 8,
    progress: Progress = Progress(),
    context: ContextProvider | None = None,
) -> Digest:
    """Fold, analyse and gather commits already chosen (by a window or a landed range).
    `context` fetches pull requests and issues (GitHub); without it the messages tell."""
    commits = sorted(commits, key=lambda c: c.committed_at, reverse=True)
    to_analyse, folded = split_noise(commits) if fold else (commits, [])
    to_analyse, context_failures = await (context or MessageContext()).attach(
        to_analyse, [f.commit for f in folded]
    )
    entries = await analyse_all(
        analyzer, to_analyse, language, concurrency=concurrency, progress=progress.analysed
    )
    stories = await tell_stories(analyzer, entries, language)
    overview = None
    if isinstance(analyzer, Summarizer) and entries:
        made = await analyzer.overview(entries, language)
        overview = made.text if made is not None else None
    analyzers = tuple(dict.fromkeys(e.analyzer for e in entries)) or (analyzer.name,)
    return Digest(
        repo=repo,
        branch=branch,
        window=window,
        language=language,
        generated_at=now(),
        analyzers=analyzers,
        overview=overview,
        entries=tuple(entries),
        folded=tuple(folded),
        context_failures=context_failures,
        stories=tuple(stories),
    )


async def explain_commit(
    source: CommitSource,
    analyzer: Analyzer,
    ref: str,
    language: Language,
    context: ContextProvider | None = None,
) -> AnalyzedCommit:
    """The analysis of one commit, asked for by sha, branch or tag (folding does not apply)."""
    commit = await commit_with_context(source, ref, context)
    return await analyzer.analyze(commit, language)


async def commit_with_context(
    source: CommitSource, ref: str, context: ContextProvider | None = None
) -> Commit:
    """One commit with its pull request and fixed issues (a commit of a story names it)."""
    commit = await source.commit(ref)
    provider = context or context_of(source) or MessageContext()
    (commit,), _ = await provider.attach([commit])
    return commit
