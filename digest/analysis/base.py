"""The one interface every analyzer implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from digest.models import AnalyzedCommit, Commit, Language

if TYPE_CHECKING:
    from digest.analysis.overview import Overview


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


@runtime_checkable
class Preparer(Protocol):
    """An analyzer with work that can be done ahead of a commit's turn (its prompt, a cache
    look-up), while earlier commits wait on the model: the turn then goes to the model."""

    async def prepare(self, commit: Commit, language: Language) -> None:
        """Ready what `analyze(commit, language)` will need; a failure here is left for
        `analyze` to meet and tell."""
        ...


@runtime_checkable
class Summarizer(Protocol):
    """An analyzer that can also write the day overview (the LLM can; the heuristic cannot)."""

    async def overview(self, entries: list[AnalyzedCommit], language: Language) -> Overview | None:
        """Two to four sentences on the day, or None when it cannot be had."""
        ...
