"""Local clones as a channel's repositories: one canonical name per clone, whatever was typed.

A path is stored resolved (absolute, `~` expanded, symlinks and `..` gone) and at the clone's
top level, so `./repo`, `/src/repo/lib` and a symlink to the clone are one subscription, and a
scheduled run reads the same directory whatever the working directory of the process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from digest.errors import DigestError, InvalidRepo
from digest.models import RepoRef
from digest.sources.base import CommitSource


def resolved(text: str) -> Path:
    """A typed path made absolute, with `~` expanded and symlinks resolved."""
    return Path(text).expanduser().resolve()


async def open_clone(
    text: str, open_source: Callable[[str], CommitSource]
) -> tuple[RepoRef, CommitSource]:
    """The clone at `text`, opened; InvalidRepo when the directory does not exist,
    NotAGitRepository when it is no clone. The caller closes the source."""
    path = resolved(text)
    if not path.is_dir():
        raise InvalidRepo(text, "no such directory")
    source = open_source(str(path))
    try:
        return await source.repo(), source
    except BaseException:
        await source.aclose()
        raise


def clone_key(ref: RepoRef) -> str:
    """What a subscription to the opened clone `ref` is stored under: its top level, resolved."""
    assert ref.local_path is not None, "a clone's RepoRef has its path"
    return str(Path(ref.local_path).resolve())


async def key_of(text: str, open_source: Callable[[str], CommitSource]) -> str:
    """The stored name to look a typed path up by: the clone's key when it still is one, else
    the resolved path (a clone deleted since it was subscribed can still be unsubscribed)."""
    try:
        ref, source = await open_clone(text, open_source)
    except DigestError:
        return str(resolved(text))
    await source.aclose()
    return clone_key(ref)
