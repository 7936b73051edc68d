"""Library objects built from Settings: which source reads a REPO argument, which analyzer runs."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from digest.analysis.base import Analyzer
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.errors import InvalidRepo, UsageError
from digest.sources.base import CommitSource
from digest.sources.git import GitSource
from digest.sources.github import GitHubSource, parse_repo_arg


class AnalyzerUnavailable(UsageError):
    """The analyzer asked for cannot run with these settings."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def open_source(arg: str, settings: Settings) -> CommitSource:
    """A local clone when `arg` is an existing directory, else GitHub (`owner/name` or a URL)."""
    text = arg.strip()
    if not text:
        raise InvalidRepo(arg, "empty")
    candidate = Path(text).expanduser()
    if candidate.is_dir():
        return GitSource(candidate)
    if text.startswith((".", "/", "~")):
        raise InvalidRepo(arg, "no such directory")
    full_name = parse_repo_arg(text, api_url=settings.github_api_url)
    if full_name is None:
        raise InvalidRepo(arg)
    token = settings.github_token.get_secret_value() if settings.github_token else None
    return GitHubSource(
        full_name,
        token=token,
        api_url=settings.github_api_url,
        max_rate_wait=settings.digest_github_max_wait,
    )


def make_analyzer(choice: str, settings: Settings) -> Analyzer:
    """`auto` = llm when an endpoint is configured, else heuristic."""
    if choice == "llm":
        raise AnalyzerUnavailable("the llm analyzer is not available in this version")
    return HeuristicAnalyzer()
