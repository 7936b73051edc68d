"""What a commit's pull request and the issues it fixes say: the *why* behind the diff.

Fetched from GitHub (digest/sources/github_context.py) or, for a local clone, parsed from the
message alone (digest/sources/links.py). Data for the model like the diff, never instructions.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

# Labels always worth a reader's eye; DIGEST_HIGHLIGHT_LABELS adds more.
NOTABLE_LABELS = ("breaking", "security", "perf")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LinkedIssue(_Frozen):
    """An issue a commit or its pull request says it fixes (`Fixes #N`)."""

    number: int
    title: str | None = None  # None: not fetched (a local clone, or the fetch failed)
    labels: tuple[str, ...] = ()
    state: str | None = None  # "open" or "closed"
    url: str | None = None


class PullRequest(_Frozen):
    """The pull request that landed a commit."""

    number: int
    title: str | None = None  # None: only the number is known (from the message)
    body: str | None = None
    labels: tuple[str, ...] = ()
    author: str | None = None
    merged_at: datetime | None = None
    base: str | None = None
    approvals: int | None = None
    url: str | None = None
    head_sha: str | None = None


class CommitContext(_Frozen):
    """A commit's pull request and linked issues; `fetched` when they came from GitHub."""

    pr: PullRequest | None = None
    fixes: tuple[LinkedIssue, ...] = ()
    fetched: bool = False
    # Labels a reader should see (the notable ones and DIGEST_HIGHLIGHT_LABELS matches).
    highlights: tuple[str, ...] = ()
    # On a story's combined commit (digest/stories.py): how many commits it tells.
    story_of: int = 0

    @property
    def labels(self) -> tuple[str, ...]:
        return self.pr.labels if self.pr is not None else ()
