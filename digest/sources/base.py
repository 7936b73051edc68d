"""The one interface every commit source implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol

from digest.models import Commit, RepoRef, Window

# Called as (done, total) while commit details are fetched; total may grow as pages arrive.
ProgressCallback = Callable[[int, int], None]
# Awaited with each commit as soon as its details are read, in the order they arrive: analysis
# starts on it while the rest are fetched. Awaiting it may wait for room (a bounded queue).
CommitSink = Callable[[Commit], Awaitable[None]]


class CommitSource(Protocol):
    """A repository we can read commits from.

    Every method is async; sources that wrap blocking I/O run it in worker threads.
    Commits come back newest first (by committer date), each with its files.
    """

    async def repo(self) -> RepoRef:
        """The repository, resolved (raises RepoNotFound / NotAGitRepository)."""
        ...

    async def default_branch(self) -> str:
        """The branch used when none is given: GitHub's default, or a clone's checked-out one."""
        ...

    async def head(self, branch: str) -> str | None:
        """The sha the branch points at, or None for a repository with no commits."""
        ...

    async def commits_in_window(
        self,
        branch: str,
        window: Window,
        progress: ProgressCallback | None = None,
        on_commit: CommitSink | None = None,
    ) -> list[Commit]:
        """Every commit reachable from `branch` whose committer date is in [start, end), each
        also handed to `on_commit` (when given) as it is read."""
        ...

    async def commit(self, ref: str) -> Commit:
        """One commit by sha (7-40 hex), branch or tag: CommitNotFound / AmbiguousSha."""
        ...

    async def compare(
        self,
        base: str,
        head: str,
        progress: ProgressCallback | None = None,
        on_commit: CommitSink | None = None,
    ) -> list[Commit]:
        """Commits reachable from `head` and not from `base` (`git log base..head`), each also
        handed to `on_commit` (when given) as it is read."""
        ...

    async def is_ancestor(self, base: str, head: str) -> bool:
        """Whether `base` is reachable from `head`: False after a force-push, or when `base`
        is unknown (a rewritten history may have dropped it). Callers pass a `head` they just
        read; GitHub cannot say which side is unknown and answers False for either."""
        ...

    async def shallow_boundary(self) -> datetime | None:
        """The newest committer date at which a shallow clone's history is cut, else None:
        commits older than it may be missing."""
        ...

    async def aclose(self) -> None:
        """Release threads and connections."""
        ...


class ContextProvider(Protocol):
    """Where a commit's pull request and linked issues come from (GitHub, or the message)."""

    async def attach(
        self, commits: list[Commit], others: Iterable[Commit] = ()
    ) -> tuple[list[Commit], int]:
        """`commits` with their context, and how many could not get it (never raises for a
        failed fetch); `others` are the range's folded commits, read only for merges."""
        ...
