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
from digest.sources.base import CommitSource, ProgressCallback


@dataclass(frozen=True)
class Progress:
    """Where the service reports how far it got; the CLI draws bars from these."""

    fetched: ProgressCallback | None = None
    analysed: ProgressCallback | None = None


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
) -> Digest:
    """The digest of one branch of one repository over one window; each commit is analysed
    as soon as its details arrive, while the rest are fetched."""
    repo = await source.repo()
    branch = branch or await source.default_branch()
    async with AnalysisPipeline(
        analyzer,
        language,
        concurrency=concurrency,
        keep=analysable if fold else lambda _: True,
        progress=progress.analysed,
    ) as pipeline:
        # An empty repository lists no commits; asking for its head first would cost a request.
        commits = await source.commits_in_window(
            branch, window, progress.fetched, on_commit=pipeline.feed
        )
        return await assemble_digest(
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
            pipeline=pipeline,
        )


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
    pipeline: AnalysisPipeline | None = None,
) -> Digest:
    """Fold, analyse and gather commits already chosen (by a window or a landed range);
    `pipeline`: where their analyses started as they were fetched."""
    commits = sorted(commits, key=lambda c: c.committed_at, reverse=True)
    to_analyse, folded = split_noise(commits) if fold else (commits, [])
    if pipeline is not None:
        entries = await pipeline.analysed(to_analyse)
    else:
        entries = await analyse_all(
            analyzer, to_analyse, language, concurrency=concurrency, progress=progress.analysed
        )
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
    )


async def explain_commit(
    source: CommitSource, analyzer: Analyzer, ref: str, language: Language
) -> AnalyzedCommit:
    """The analysis of one commit, asked for by sha, branch or tag (folding does not apply)."""
    commit = await source.commit(ref)
    return await analyzer.analyze(commit, language)
