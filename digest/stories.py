"""Stories: the commits that landed through one pull request, told as one change.

In a merge-commit workflow one pull request lands as several commits; readers think in pull
requests. Each pull request of two or more analysed commits becomes a `Story` with one combined
analysis: one analyzer call over a commit that stands for the whole pull request (its title and
description, every commit's title, the files of all its commits with their diffs, within the
same budget), cached per pull request and head sha like any analysis. A squash-merged pull
request is a story of one commit and is shown exactly as before.
"""

from __future__ import annotations

import asyncio

from digest.analysis.base import Analyzer
from digest.models import AnalyzedCommit, Commit, FileChange, Language, Story


def story_groups(entries: list[AnalyzedCommit]) -> dict[int, list[AnalyzedCommit]]:
    """Analysed commits by the pull request that landed them, where it landed two or more."""
    groups: dict[int, list[AnalyzedCommit]] = {}
    for entry in entries:
        context = entry.commit.context
        if context is not None and context.pr is not None:
            groups.setdefault(context.pr.number, []).append(entry)
    return {n: group for n, group in groups.items() if len(group) > 1}


def story_commit(number: int, commits: list[Commit]) -> Commit:
    """One commit that stands for the pull request: the analyzers' input for its story."""
    newest = max(commits, key=lambda c: c.committed_at)
    oldest_first = sorted(commits, key=lambda c: c.committed_at)
    context = newest.context
    assert context is not None and context.pr is not None
    pr = context.pr
    head = next((c for c in commits if c.sha == pr.head_sha), newest)
    title = pr.title or oldest_first[0].title
    listed = "\n".join(f"- {c.short_sha} {c.title}" for c in oldest_first)
    return newest.model_copy(
        update={
            "sha": head.sha,
            "message": f"{title} (#{number})\n\n{len(commits)} commits:\n{listed}",
            "files": _combined_files(oldest_first),
            "files_incomplete": any(c.files_incomplete for c in commits),
            "context": context.model_copy(update={"story_of": len(commits)}),
            "url": head.url,
            "parents": head.parents,
        }
    )


def _combined_files(commits: list[Commit]) -> tuple[FileChange, ...]:
    """Every file the commits touched, once: counts added up, patches one after another."""
    by_path: dict[str, FileChange] = {}
    for commit in commits:
        for change in commit.files:
            seen = by_path.get(change.path)
            if seen is None:
                by_path[change.path] = change
                continue
            patches = (seen.patch, change.patch)
            by_path[change.path] = seen.model_copy(
                update={
                    "additions": seen.additions + change.additions,
                    "deletions": seen.deletions + change.deletions,
                    "binary": seen.binary or change.binary,
                    "patch": "\n".join(patches) if None not in patches else None,  # type: ignore[arg-type]
                    "patch_clipped": seen.patch_clipped or change.patch_clipped,
                }
            )
    return tuple(by_path.values())


async def tell_stories(
    analyzer: Analyzer, entries: list[AnalyzedCommit], language: Language
) -> list[Story]:
    """The stories of several commits among `entries`, each with its one combined analysis."""
    groups = story_groups(entries)

    async def one(number: int, group: list[AnalyzedCommit]) -> Story:
        commits = [e.commit for e in group]
        analysis = await analyzer.analyze(story_commit(number, commits), language)
        newest_first = sorted(commits, key=lambda c: c.committed_at, reverse=True)
        return Story(pr_number=number, shas=tuple(c.sha for c in newest_first), analysis=analysis)

    stories = await asyncio.gather(*(one(n, g) for n, g in groups.items()))
    return sorted(stories, key=lambda s: s.analysis.commit.committed_at, reverse=True)
