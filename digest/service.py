"""Build a Digest for (repo, window): fetch and analyse at once (pipeline.py), fold noise,
then the Digest in the report's order."""

from __future__ import annotations

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
from digest.pipeline import AnalysisPipeline
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
    async with AnalysisPipeline(
        analyzer, language, concurrency=concurrency, progress=progress
    ) as pipeline:
        return await pipeline.analysed(commits)


def analysable(commit: Commit) -> bool:
    """Whether a commit is analysed rather than folded into the noise line."""
    return fold_reason(commit) is None


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
    """The digest of one branch of one repository over one window; each commit is analysed
    as soon as its details arrive, while the rest are fetched."""
    repo = await source.repo()
    branch = branch or await source.default_branch()
    # A provider that asks GitHub streams: each commit gets its pull request and is analysed
    # as soon as its details arrive. A clone's messages are read together once all are listed
    # (a merge names the pull request of the commits it brought in), with no fetch to overlap.
    provider = context or context_of(source) or MessageContext()
    stream = not isinstance(provider, MessageContext)
    async with AnalysisPipeline(
        analyzer,
        language,
        concurrency=concurrency,
        keep=analysable if fold else lambda _: True,
        progress=progress.analysed,
        context=provider if stream else None,
    ) as pipeline:
        # An empty repository lists no commits; asking for its head first would cost a request.
        commits = await source.commits_in_window(
            branch, window, progress.fetched, on_commit=pipeline.feed if stream else None
        )
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
            context=provider,
            pipeline=pipeline,
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
    pipeline: AnalysisPipeline | None = None,
) -> Digest:
    """Fold, analyse and gather commits already chosen (by a window or a landed range).
    `context` fetches pull requests and issues (GitHub); without it the messages tell.
    `pipeline`: where analyses started as the commits were read; when it attaches context
    itself (it streams), `context` is not asked again."""
    commits = sorted(commits, key=lambda c: c.committed_at, reverse=True)
    to_analyse, folded = split_noise(commits) if fold else (commits, [])
    if pipeline is not None and pipeline.context is not None:
        entries = await pipeline.analysed(to_analyse)
        context_failures = pipeline.context_failures
    else:
        to_analyse, context_failures = await (context or MessageContext()).attach(
            to_analyse, [f.commit for f in folded]
        )
        if pipeline is not None:
            entries = await pipeline.analysed(to_analyse)
        else:
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
