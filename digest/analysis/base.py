"""The one interface every analyzer implements."""

from __future__ import annotations

from typing import Protocol

from digest.models import AnalyzedCommit, Commit, Language


class Analyzer(Protocol):
    # "heuristic" or "llm:<model>": shown in reports and kept with each analysis.
    name: str

    @property
    def fingerprint(self) -> str:
        """What makes two analyses of one commit interchangeable (the cache key's last part)."""
        ...

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        """Analyse one commit. Never raises for a bad commit: a failure is an AnalyzedCommit
        with status FAILED (or FALLBACK when another analyzer stood in)."""
        ...
