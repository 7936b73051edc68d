"""The values that flow between layers: source -> analysis -> Digest -> renderer.

Every model is frozen; layers exchange these and nothing else (no SDK objects, no dicts).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from digest.models_context import CommitContext

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

_PR_RE = re.compile(r"\(#(\d+)\)\s*$")
# A commit page on GitHub (or GitHub Enterprise): https://HOST/owner/name/commit/<sha>.
_COMMIT_PAGE = re.compile(r"(https?://[^/\s]+/[^/\s]+/[^/\s]+)/commit/[0-9a-f]{40}")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RepoRef(Frozen):
    """Which repository a digest is about.

    `full_name` is `owner/name` for GitHub (and for a local clone whose origin is on GitHub),
    otherwise the clone's directory name. `web_url` is the repository's page when known, used
    to build commit links.
    """

    full_name: str
    local_path: str | None = None
    web_url: str | None = None
    # Private on GitHub: only admins or DIGEST_ALLOWED_REPOS may subscribe a channel to it.
    private: bool = False

    def commit_url(self, sha: str) -> str | None:
        return f"{self.web_url}/commit/{sha}" if self.web_url else None


class FileStatus(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    RENAMED = "renamed"
    COPIED = "copied"
    CHANGED = "changed"  # type change (file <-> symlink) or mode-only


class Unreadable(StrEnum):
    """Why the source could not read a diff (a file's, or a whole commit's file list)."""

    MISSING = "missing"  # an object it needs is not in the clone (damaged, or corrupt)
    NOT_FETCHED = "not-fetched"  # a partial clone left it on the promisor remote (offline)
    GIT_ERROR = "git-error"  # git failed on it for another reason
    SHALLOW = "shallow"  # the commit's parent is past the shallow clone's history
    TOO_LARGE = "too-large"  # GitHub sent no diff: too large for it to show


class FileChange(Frozen):
    path: str
    previous_path: str | None = None
    status: FileStatus
    additions: int = 0
    deletions: int = 0
    binary: bool = False
    # None for binary files and for files whose diff the source did not get (too large).
    patch: str | None = None
    # True when the source kept only the head of a very large patch.
    patch_clipped: bool = False
    # Set when the source could not read this file's diff (patch None; counts 0 unless the
    # source knew them): the file is still listed with its path and status.
    unreadable: Unreadable | None = None


class Commit(Frozen):
    repo: str  # RepoRef.full_name
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    author_name: str
    author_email: str | None = None
    author_login: str | None = None
    authored_at: datetime
    committer_name: str | None = None
    committed_at: datetime
    message: str
    url: str | None = None
    parents: tuple[str, ...] = ()
    files: tuple[FileChange, ...] = ()
    # True when the source could not list every file of the commit (GitHub caps the list).
    files_incomplete: bool = False
    # Set when the source could not list the commit's files at all (files_incomplete too).
    files_unreadable: Unreadable | None = None
    # Its pull request and the issues it fixes (models_context.py); None: not looked at.
    context: CommitContext | None = None

    @property
    def title(self) -> str:
        return self.message.strip().split("\n", 1)[0].strip()

    @property
    def body(self) -> str:
        parts = self.message.strip().split("\n", 1)
        return parts[1].strip() if len(parts) == 2 else ""

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pr_number(self) -> int | None:
        if self.context is not None and self.context.pr is not None:
            return self.context.pr.number
        match = _PR_RE.search(self.title)
        return int(match.group(1)) if match else None

    @property
    def pr_url(self) -> str | None:
        """The pull request's page, when the commit has a page on GitHub (a GitHub source, or
        a clone whose origin is on github.com): beside its commit page."""
        page = _COMMIT_PAGE.fullmatch(self.url or "")
        if page is None or self.pr_number is None:
            return None
        return f"{page.group(1)}/pull/{self.pr_number}"


class ChangeType(StrEnum):
    FEATURE = "feature"
    BUGFIX = "bugfix"
    PERF = "perf"
    REFACTOR = "refactor"
    DOCS = "docs"
    TEST = "test"
    CI_BUILD = "ci_build"
    DEPS = "deps"
    CONFIG = "config"
    SECURITY = "security"
    REVERT = "revert"
    CHORE = "chore"


class Importance(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 3, "medium": 2, "low": 1}[self.value]


class AffectedArea(Frozen):
    path_or_module: str
    note: str


class Insights(Frozen):
    architecture: str | None = None
    performance: str | None = None
    security: str | None = None
    maintainability: str | None = None


class Risk(Frozen):
    risk: str
    severity: Importance


class Analysis(Frozen):
    """What an analyzer writes about one commit; the LLM's answer is validated against this."""

    change_types: tuple[ChangeType, ...] = Field(min_length=1, max_length=2)
    importance: Importance
    importance_reason: str
    breaking_change: bool = False
    security_relevant: bool = False
    summary: str
    affected_areas: tuple[AffectedArea, ...] = Field(default=(), max_length=6)
    insights: Insights = Insights()
    risks: tuple[Risk, ...] = Field(default=(), max_length=3)
    recommendations: tuple[str, ...] = Field(default=(), max_length=3)
    confidence: Literal["high", "medium", "low"] = "medium"
    # The motivation, from the pull request and the issue it fixes; None when they give none.
    why: str | None = None


class Coverage(Frozen):
    """How much of the diff the analyzer saw."""

    files_total: int = 0
    files_full: int = 0
    files_clipped: int = 0
    files_omitted: int = 0
    files_unreadable: int = 0  # the source could not read their diff (among the omitted)


class AnalysisStatus(StrEnum):
    OK = "ok"
    FALLBACK = "fallback"  # the configured analyzer failed; the heuristic wrote this one
    FAILED = "failed"  # nothing could be written


class AnalyzedCommit(Frozen):
    """A commit with its analysis and how the analysis was made."""

    commit: Commit
    analysis: Analysis | None
    analyzer: str  # "heuristic" or "llm:<model>"
    prompt_version: str | None = None
    language: Language = "zh"
    coverage: Coverage | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    status: AnalysisStatus = AnalysisStatus.OK
    error: str | None = None  # sanitised, one sentence
    # The model's answer as received, kept in the cache so reports re-render without a call.
    raw_output: str | None = Field(default=None, exclude=True, repr=False)
    cached: bool = False  # served from the analyses cache


class FoldReason(StrEnum):
    BOT = "bot"
    MERGE = "merge"
    LOCKFILE = "lockfile"


class FoldedCommit(Frozen):
    """A noise commit: listed, counted, never sent to an analyzer."""

    commit: Commit
    reason: FoldReason


class Story(Frozen):
    """The commits that landed through one pull request, told once: one combined analysis (of
    `analysis.commit`, the pull request as one change). Only stories of two or more commits
    are kept; any other analysed commit is a story of one and shows as it always did."""

    pr_number: int
    shas: tuple[str, ...]  # its commits, newest first
    analysis: AnalyzedCommit


class Window(Frozen):
    """A half-open interval [start, end) of committer dates, shown in `tz`."""

    start: datetime
    end: datetime
    tz: str
    # The calendar day when the window is exactly one day, for titles and file names.
    day: str | None = None


class Stats(Frozen):
    total: int
    high: int
    medium: int
    low: int
    failed: int
    fallback: int
    folded: int
    # Files whose diff the source could not read, and commits whose files it could not list.
    unreadable_files: int = 0
    unlisted_commits: int = 0
    context_failed: int = 0  # commits analysed without their pull request (fetch failed)
    stories: int | None = None  # analysed commits told as stories; None: no story of several


class Digest(Frozen):
    repo: RepoRef
    branch: str
    window: Window
    language: Language
    generated_at: datetime
    analyzers: tuple[str, ...] = ()
    # Two to four sentences on what the day was about (an LLM's), or None.
    overview: str | None = None
    entries: tuple[AnalyzedCommit, ...] = ()  # newest first
    folded: tuple[FoldedCommit, ...] = ()  # newest first
    # A shallow clone whose history stops inside or after the window: commits before this
    # committer date may be missing from the digest.
    shallow_before: datetime | None = None
    # Commits whose pull request or issues could not be fetched (analysed without them).
    context_failures: int = 0
    stories: tuple[Story, ...] = ()  # pull requests of several commits, newest first

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stats(self) -> Stats:
        def count(level: Importance) -> int:
            return sum(
                1 for e in self.entries if e.analysis is not None and e.analysis.importance == level
            )

        return Stats(
            total=len(self.entries) + len(self.folded),
            high=count(Importance.HIGH),
            medium=count(Importance.MEDIUM),
            low=count(Importance.LOW),
            failed=sum(1 for e in self.entries if e.analysis is None),
            fallback=sum(1 for e in self.entries if e.status == AnalysisStatus.FALLBACK),
            folded=len(self.folded),
            unreadable_files=sum(
                1 for c in self.all_commits() for f in c.files if f.unreadable is not None
            ),
            unlisted_commits=sum(1 for c in self.all_commits() if c.files_unreadable),
            context_failed=self.context_failures,
            stories=len(self.entries) - sum(len(s.shas) - 1 for s in self.stories)
            if self.stories
            else None,
        )

    def all_commits(self) -> list[Commit]:
        """Every commit of the window, analysed or folded, newest first."""
        commits = [e.commit for e in self.entries] + [f.commit for f in self.folded]
        return sorted(commits, key=lambda c: c.committed_at, reverse=True)
