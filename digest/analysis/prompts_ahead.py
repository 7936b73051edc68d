"""Prompts made before their commit's turn (LLMAnalyzer.prepare), taken when the turn comes."""

from __future__ import annotations

from collections import OrderedDict

from digest.analysis.prompt import PromptParts
from digest.models import Analysis, Commit, Language

# The heuristic's view (the hint, and the stand-in if the model fails) and the prompt.
Made = tuple[Analysis | None, PromptParts]


class PromptsAhead:
    """By (sha, language); at most `size` kept (one prepared and never asked: a run given up)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._made: OrderedDict[tuple[str, Language], tuple[Commit, Made]] = OrderedDict()

    def __contains__(self, key: tuple[str, Language]) -> bool:
        return key in self._made

    def keep(self, commit: Commit, language: Language, made: Made) -> None:
        self._made[commit.sha, language] = (commit, made)
        while len(self._made) > self._size:
            self._made.popitem(last=False)

    def take(self, commit: Commit, language: Language) -> Made | None:
        """What was made for this very commit; None when it changed since (its context
        attached) or was never prepared."""
        kept = self._made.pop((commit.sha, language), None)
        if kept is None or not (kept[0] is commit or kept[0] == commit):
            return None
        return kept[1]
