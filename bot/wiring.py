"""Library objects built from Settings: which source reads a REPO argument, which analyzer runs."""

from __future__ import annotations

import asyncio
import gc
import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.chat.commands import is_local_path
from digest.analysis.later import LaterAnalyzer
from digest.errors import InvalidRepo, LocalPathRefused, UsageError
from digest.sources.base import CommitSource, ContextProvider
from digest.sources.git import GitSource
from digest.sources.github_shared import GitHubShared

# What a command does not use, it does not load: the LLM client (openai), PyGithub and the
# store (SQLAlchemy) load inside the functions that need them (tests/test_lazy_imports.py).
if TYPE_CHECKING:
    from bot.ops.settings import Settings
    from bot.store.database import Store
    from digest.analysis.ask import Asker
    from digest.analysis.base import Analyzer
    from digest.analysis.cache import CachedAnalyzer
    from digest.analysis.llm import LLMAnalyzer
    from digest.analysis.llm_config import LLMConfig
    from digest.sources.github import GitHubSource
    from digest.sources.github_context import ContextCache


class AnalyzerUnavailable(UsageError):
    """The analyzer asked for cannot run with these settings."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# GitHub's rate-limit window is an hour: waiting this long always reaches its reset.
RESET_WINDOW = 3600.0


def github_shared(settings: Settings, *, wait_for_reset: bool = False) -> GitHubShared:
    """The GitHub budget the sources of one process share (make one per process). A bot
    `wait_for_reset` of a spent rate limit; a command waits DIGEST_GITHUB_MAX_WAIT at most."""
    wait = RESET_WINDOW if wait_for_reset else settings.digest_github_max_wait
    return GitHubShared(settings.digest_github_concurrency, max_wait=wait)


def open_source(arg: str, settings: Settings) -> CommitSource:
    """The CLI's REPO: a local clone when `arg` is an existing directory, else GitHub
    (`owner/name` or a URL)."""
    text = arg.strip()
    if not text:
        raise InvalidRepo(arg, "empty")
    candidate = Path(text).expanduser()
    if candidate.is_dir():
        return GitSource(candidate, fetch_missing=settings.digest_git_fetch_missing)
    if text.startswith((".", "/", "~")):
        raise InvalidRepo(arg, "no such directory")
    from digest.sources.github import parse_repo_arg

    full_name = parse_repo_arg(text, api_url=settings.github_api_url)
    if full_name is None:
        raise InvalidRepo(arg)
    return _github(full_name, settings)


def repo_source(
    repo: str,
    settings: Settings,
    *,
    local_paths: bool,
    cache: ContextCache | None = None,
    shared: GitHubShared | None = None,
) -> CommitSource:
    """A repository the bot names (a command's, a subscription's): a local clone for a path,
    only where local paths are allowed (`digest chat`; `serve` with DIGEST_ALLOW_LOCAL_PATHS),
    else `owner/name` on GitHub. Unlike the CLI's `open_source`, nothing is guessed from the
    disk: `foo/bar` is GitHub's even where a directory foo/bar exists, so no chat user can
    make the bot read the server's files by naming them."""
    if is_local_path(repo):
        if not local_paths:
            raise LocalPathRefused(repo)
        return GitSource(repo, fetch_missing=settings.digest_git_fetch_missing)
    return _github(repo, settings, cache, shared)


def _github(
    full_name: str,
    settings: Settings,
    cache: ContextCache | None = None,
    shared: GitHubShared | None = None,
) -> GitHubSource:
    from digest.sources.github import GitHubSource

    # A configured GitHub App wins over GITHUB_TOKEN (GitHubSource ignores the token then).
    token = settings.github_token.get_secret_value() if settings.github_token else None
    return GitHubSource(
        full_name,
        token=token,
        app_auth=settings.github_app,
        api_url=settings.github_api_url,
        max_rate_wait=shared.max_wait if shared else settings.digest_github_max_wait,
        context_cache=cache,  # pull requests and issues, kept in the store
        highlight_labels=settings.highlight_labels,
        shared=shared or github_shared(settings),
    )


def context_for(source: CommitSource, cache: ContextCache | None) -> ContextProvider | None:
    """GitHub's pull requests and issues for a GitHub source (kept in `cache`); None for a
    clone, whose messages alone tell (the service's default)."""
    if isinstance(source, GitSource):
        return None
    from digest.sources.github import GitHubSource

    return source.context(cache) if isinstance(source, GitHubSource) else None


@asynccontextmanager
async def context_store(source: CommitSource, settings: Settings) -> AsyncIterator[Store | None]:
    """The store that keeps a GitHub source's context (and the analyses); None for a clone."""
    if isinstance(source, GitSource):
        yield None
        return
    from bot.store.database import Store

    store = await Store.open(settings.digest_database_url)
    try:
        yield store
    finally:
        await store.close()


@dataclass
class AnalyzerRun:
    """The analyzer of one command, and what it did (for the one-line summary on stderr)."""

    analyzer: Analyzer
    llm: LLMAnalyzer | None = None
    cache: CachedAnalyzer | None = None
    asker: Asker | None = None  # answers `ask` questions, with the LLM and the same store

    def summary(self) -> str | None:
        """`llm:model · N calls · M from cache · K fell back (why)`, or None for the heuristic."""
        if self.llm is None and isinstance(self.analyzer, LaterAnalyzer):
            # Still loading when the command ended: it was asked nothing.
            return f"{self.analyzer.name} · 0 calls · 0 tokens in, 0 out · 0 from cache"
        if self.llm is None:
            return None
        parts = [
            self.llm.name,
            f"{self.llm.calls} calls",
            f"{self.llm.tokens_in} tokens in, {self.llm.tokens_out} out",
        ]
        if self.cache is not None:
            parts.append(f"{self.cache.hits} from cache")
        if self.llm.failures:
            reasons = ", ".join(dict.fromkeys(str(f) for f in self.llm.failures))
            parts.append(f"{len(self.llm.failures)} failed ({reasons})")
        return " · ".join(parts)


def llm_config(settings: Settings) -> LLMConfig:
    from digest.analysis.endpoint import parse_endpoint
    from digest.analysis.llm_config import LLMConfig
    from digest.analysis.prompt import Budget

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    mode = settings.digest_llm_json_mode
    param = settings.digest_llm_token_param
    endpoint = parse_endpoint(settings.openai_base_url, settings.openai_api_version)
    model = settings.digest_llm_model
    if endpoint.deployment and "digest_llm_model" not in settings.model_fields_set:
        model = endpoint.deployment  # a classic Azure URL names the deployment: that is the model
    return LLMConfig(
        model=model,
        # Ollama and vLLM take any key; the SDK insists on one.
        api_key=key or "not-needed",
        base_url=settings.openai_base_url,
        json_mode=None if mode == "auto" else mode,
        timeout=settings.digest_llm_timeout,
        max_output_tokens=settings.digest_llm_max_output_tokens,
        reasoning_output_tokens=settings.digest_llm_reasoning_max_output_tokens,
        token_param=None if param == "auto" else param,
        api_version=settings.openai_api_version,
        extra_body=settings.llm_extra_body,
        budget=Budget(max_prompt_tokens=settings.digest_llm_max_prompt_tokens),
        concurrency=settings.digest_llm_concurrency,
        tokens_per_minute=settings.digest_llm_tpm,
    )


@asynccontextmanager
async def analyzer_for(
    choice: str, settings: Settings, store: Store | None = None
) -> AsyncIterator[AnalyzerRun]:
    """`auto` = llm when an endpoint is configured, else heuristic. The llm analyzer comes with
    the analyses cache of the store (the one given, or one opened here), so running a report
    twice makes no second call."""
    use_llm = choice == "llm" or (choice == "auto" and settings.llm_configured)
    if not use_llm:
        from digest.analysis.heuristic import HeuristicAnalyzer

        yield AnalyzerRun(HeuristicAnalyzer())
        return
    if not settings.llm_configured:
        raise AnalyzerUnavailable("the llm analyzer needs OPENAI_API_KEY or OPENAI_BASE_URL")
    from bot.store.database import Store
    from digest.analysis.ask import Asker
    from digest.analysis.cache import CachedAnalyzer
    from digest.analysis.llm import LLMAnalyzer

    own = store is None
    cache = store or await Store.open(settings.digest_database_url)
    try:
        # What the endpoint accepts is kept in the same store as the analyses.
        llm = LLMAnalyzer(llm_config(settings), capabilities=cache)
        try:
            cached = CachedAnalyzer(llm, cache)
            yield AnalyzerRun(cached, llm=llm, cache=cached, asker=Asker(llm, cache))
        finally:
            await llm.aclose()
    finally:
        if own:
            await cache.close()


@asynccontextmanager
async def analyzer_and_store(
    choice: str, settings: Settings, source: CommitSource
) -> AsyncIterator[tuple[AnalyzerRun, Store | None]]:
    """The analyzer of a CLI command, and the store of a GitHub source's context (shared).

    The LLM analyzer is made in the background (its client library loads in a thread from the
    start, beside the store's opening), so the command's first GitHub requests do not wait for
    it; its first call does."""
    if not (choice == "llm" or (choice == "auto" and settings.llm_configured)):
        async with (
            context_store(source, settings) as store,
            analyzer_for(choice, settings, store) as run,
        ):
            yield run, store
        return
    if not settings.llm_configured:
        raise AnalyzerUnavailable("the llm analyzer needs OPENAI_API_KEY or OPENAI_BASE_URL")
    name = f"llm:{llm_config(settings).model}"  # a malformed endpoint is told at once
    loading = asyncio.ensure_future(asyncio.to_thread(importlib.import_module, LLM_MODULES))
    try:
        async with context_store(source, settings) as store, AsyncExitStack() as stack:

            async def make() -> Analyzer:
                await loading
                made = await stack.enter_async_context(analyzer_for("llm", settings, store))
                run.llm, run.cache, run.asker = made.llm, made.cache, made.asker
                # What is loaded by now (openai's types, SQLAlchemy's) lives as long as the
                # process: the collector need not walk it again, in a full collection or at
                # exit (where walking it took ~0.4 s after a 200-commit digest was written).
                gc.freeze()
                return made.analyzer

            later = LaterAnalyzer(name, make())
            run = AnalyzerRun(later)
            try:
                yield run, store
            except BaseException:
                await asyncio.gather(later.ready(), return_exceptions=True)
                raise
            await later.ready()  # made or not, it is closed (a day without commits)
    finally:
        await asyncio.gather(loading, return_exceptions=True)  # a store that would not open


# What the LLM analyzer loads (openai above all), loaded in a thread while GitHub is asked.
LLM_MODULES = "digest.analysis.ask"
