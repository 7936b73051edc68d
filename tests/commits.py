"""A bare commit, for tests that need one but no repository behind it."""

from __future__ import annotations

from datetime import UTC, datetime

from digest.models import Commit

WHEN = datetime(2026, 2, 5, tzinfo=UTC)


def commit(n: int) -> Commit:
    """Commit number `n` of octo/demo: its sha is `n` in hex, its title "fix: thing n"."""
    return Commit(
        repo="octo/demo",
        sha=f"{n:040x}",
        author_name="A",
        authored_at=WHEN,
        committed_at=WHEN,
        message=f"fix: thing {n}",
    )
