"""Noise folding (DESIGN §4): bot, merge and lockfile-only commits become one line, not analyses."""

from __future__ import annotations

import re
from collections.abc import Iterable

from digest.analysis.rules import is_lockfile
from digest.models import Commit, FoldReason

# Matched against the author's name, login and e-mail local part, case-insensitively.
# Only `*` is a wildcard: fnmatch would read `[bot]` as a character class ("Abbott" would match).
DEFAULT_BOTS: tuple[str, ...] = (
    "dependabot*",
    "renovate*",
    "*[bot]",
    "github-actions*",
    "pre-commit-ci*",
)


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in pattern.lower().split("*")))


def _identities(commit: Commit) -> list[str]:
    names = [commit.author_name, commit.author_login or ""]
    if commit.author_email:
        # GitHub's no-reply form: 49699333+dependabot[bot]@users.noreply.github.com
        names.append(commit.author_email.split("@", 1)[0].split("+", 1)[-1])
    return [n.strip().lower() for n in names if n and n.strip()]


def is_bot(commit: Commit, patterns: Iterable[str] = DEFAULT_BOTS) -> bool:
    globs = [_glob(p) for p in patterns]
    return any(g.fullmatch(name) for name in _identities(commit) for g in globs)


def is_lockfile_only(commit: Commit) -> bool:
    """Every file a lockfile; unknown (False) when the source could not list every file."""
    return (
        bool(commit.files)
        and not commit.files_incomplete
        and all(is_lockfile(f.path) for f in commit.files)
    )


def fold_reason(commit: Commit, *, bot_patterns: Iterable[str] = DEFAULT_BOTS) -> FoldReason | None:
    """Why this commit is noise, or None when it deserves an analysis."""
    if is_bot(commit, bot_patterns):
        return FoldReason.BOT
    if commit.is_merge:
        return FoldReason.MERGE
    if is_lockfile_only(commit):
        return FoldReason.LOCKFILE
    return None
