"""What a report shows and in which order, whatever the output format.

Grouping, anchors, short SHAs and local times are decided once here so that the Markdown, HTML
and chat renderers never disagree (and a contents link always finds its anchor).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from digest.models import (
    AnalyzedCommit,
    Commit,
    Digest,
    FoldedCommit,
    FoldReason,
    Importance,
    Window,
)
from digest.render.i18n import Labels

SHORT_SHA = 7
_T = TypeVar("_T", AnalyzedCommit, FoldedCommit)


class SectionKind(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    FAILED = "failed"
    FOLDED = "folded"

    @property
    def importance(self) -> Importance | None:
        return Importance(self.value) if self.value in Importance._value2member_map_ else None


@dataclass(frozen=True)
class Item:
    """One commit as placed in the report: an analysed entry or a folded one."""

    commit: Commit
    anchor: str  # unique in the document, e.g. "commit-abc1234"
    short_sha: str  # 7 chars, more when two commits of the report share a prefix
    entry: AnalyzedCommit | None = None
    fold_reason: FoldReason | None = None
    # A story of several commits: `entry` is its combined analysis, these its commits.
    members: tuple[Item, ...] = ()

    @property
    def failed(self) -> bool:
        return self.entry is not None and self.entry.analysis is None

    @property
    def importance(self) -> Importance | None:
        if self.entry is None or self.entry.analysis is None:
            return None
        return self.entry.analysis.importance


@dataclass(frozen=True)
class Section:
    kind: SectionKind
    anchor: str  # "group-high", ...
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Layout:
    repo_anchor: str
    rows: tuple[Item, ...]  # every commit, newest first: the table
    sections: tuple[Section, ...]  # non-empty only: high, medium, low, failed, folded

    def detailed(self, min_importance: Importance) -> list[Item]:
        """The analysed items a chat post details: at or above `min_importance`, high first,
        newest first within a level."""
        return [
            item
            for section in self.sections
            if (level := section.kind.importance) is not None and level.rank >= min_importance.rank
            for item in section.items
        ]


def layout(digest: Digest) -> Layout:
    entries = _newest_first(digest.entries)
    folded = _newest_first(digest.folded)
    shorts = unique_prefixes([e.commit.sha for e in entries] + [f.commit.sha for f in folded])
    used: set[str] = set()

    def anchor_for(sha: str) -> str:
        # The same commit listed twice still gets two distinct anchors (a story: "story-pr9").
        base = f"commit-{shorts[sha]}" if sha in shorts else f"story-{sha}"
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        return anchor

    entry_items = [
        Item(e.commit, anchor_for(e.commit.sha), shorts[e.commit.sha], entry=e) for e in entries
    ]
    folded_items = [
        Item(f.commit, anchor_for(f.commit.sha), shorts[f.commit.sha], fold_reason=f.reason)
        for f in folded
    ]
    told = _stories(digest, entry_items, anchor_for)
    sections: list[Section] = []
    for kind in SectionKind:
        if kind is SectionKind.FOLDED:
            items = folded_items
        elif kind is SectionKind.FAILED:
            items = [i for i in told if i.failed]
        else:
            items = [i for i in told if i.importance == kind.importance]
        if items:
            sections.append(Section(kind, f"group-{kind.value}", tuple(items)))
    rows = sorted(entry_items + folded_items, key=lambda i: i.commit.committed_at, reverse=True)
    return Layout(repo_anchor(digest.repo.full_name), tuple(rows), tuple(sections))


def _stories(digest: Digest, items: list[Item], anchor_for: Callable[[str], str]) -> list[Item]:
    """The analysed items as stories, newest first: each story of several commits in place of
    its commits (which it holds as members); any other commit as itself."""
    by_sha = {i.commit.sha: i for i in items}
    members = {sha for story in digest.stories for sha in story.shas}
    told = [i for i in items if i.commit.sha not in members]
    for story in digest.stories:
        commit = story.analysis.commit
        held = tuple(by_sha[sha] for sha in story.shas if sha in by_sha)
        short = held[0].short_sha if held else commit.short_sha
        told.append(
            Item(commit, anchor_for(f"pr{story.pr_number}"), short, story.analysis, members=held)
        )
    return sorted(told, key=lambda i: i.commit.committed_at, reverse=True)


def _newest_first(items: tuple[_T, ...]) -> list[_T]:
    # sorted() is stable, also with reverse=True: ties keep the digest's order.
    return sorted(items, key=lambda x: x.commit.committed_at, reverse=True)


def unique_prefixes(shas: list[str], minimum: int = SHORT_SHA) -> dict[str, str]:
    """The shortest prefix (at least `minimum`) of each SHA that no other SHA in the list shares."""
    ordered = sorted(set(shas))
    result: dict[str, str] = {}
    for i, sha in enumerate(ordered):
        shared = 0
        for neighbour in ordered[max(i - 1, 0) : i] + ordered[i + 1 : i + 2]:
            shared = max(shared, _common_prefix(sha, neighbour))
        result[sha] = sha[: max(minimum, shared + 1)]
    return result


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def repo_anchor(full_name: str) -> str:
    slug = re.sub(r"[^a-z0-9_.-]+", "-", full_name.lower()).strip("-")
    return f"repo-{slug}" if slug else "repo"


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def format_time(dt: datetime, tz: str) -> str:
    """A commit time in the window's zone, to the second."""
    return local(dt, tz).strftime("%Y-%m-%d %H:%M:%S")


def format_minute(dt: datetime, tz: str) -> str:
    return local(dt, tz).strftime("%Y-%m-%d %H:%M")


def period(window: Window) -> str:
    """`2026-02-05` for a calendar day, else `start → end` in the window's zone."""
    if window.day:
        return window.day
    return f"{format_minute(window.start, window.tz)} → {format_minute(window.end, window.tz)}"


def footer_lines(digest: Digest, min_importance: Importance, lab: Labels) -> list[str]:
    """A chat post's closing lines in our own words: how many analysed commits are not
    detailed (below the subscription's `min:`), and the folded noise as one line."""
    lines: list[str] = []
    hidden = sum(
        1
        for e in digest.entries
        if e.analysis is not None and e.analysis.importance.rank < min_importance.rank
    )
    if hidden:
        lines.append(lab.not_shown.format(n=hidden))
    reasons = Counter(f.reason for f in digest.folded)
    if len(reasons) == 1 and FoldReason.BOT not in reasons:
        ((reason, n),) = reasons.items()
        lines.append(lab.folded_one.format(n=n, reason=lab.fold_reasons[reason]))
    elif reasons:
        detail = lab.list_sep.join(
            f"{lab.fold_reasons[r]} {reasons[r]}" for r in FoldReason if reasons[r]
        )
        lines.append(lab.folded_many.format(n=sum(reasons.values()), detail=detail))
    return lines
