"""Prometheus metrics of one bot process, in a registry of its own (served at /metrics).

The library knows nothing of Prometheus: it tells of its work through callbacks (LLMAnalyzer's
`on_call`, GitHubSource's `on_response` and `on_rate_limit`, Runner's `observer`) and through
what it returns (an AnalyzedCommit's status and analyzer). This module turns those into figures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.chat.commands import (
    Command,
    Help,
    ListSubscriptions,
    Lookup,
    Now,
    Status,
    Subscribe,
    Unsubscribe,
)
from bot.delivery.run import Outcome, RunOutcome
from bot.store.records import Subscription
from digest.analysis.base import Analyzer, Preparer, Summarizer
from digest.analysis.overview import Overview
from digest.models import AnalyzedCommit, Commit, Language
from digest.sources.base import CommitSource

if TYPE_CHECKING:  # PyGithub and the LLM client load with a source or an analyzer that uses them
    from bot.chat.turns import Turns
    from digest.analysis.llm import LLMAnalyzer, LLMCall
    from digest.sources.github import RateLimit

__all__ = ["CONTENT_TYPE", "MeteredAnalyzer", "Metrics", "command_kind"]

CONTENT_TYPE = CONTENT_TYPE_LATEST  # the text exposition format


@runtime_checkable
class _Counted(Protocol):
    """A source that tells of its HTTP responses and rate limit (GitHubSource)."""

    on_response: Callable[[int], None] | None
    on_rate_limit: Callable[[RateLimit], None] | None


LLM_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
# From on time to a catch-up after a day or three down (DESIGN §7: a bounded number of days).
LAG_BUCKETS = (
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0,
    3 * 3600.0, 6 * 3600.0, 12 * 3600.0, 86400.0, 2 * 86400.0, 3 * 86400.0, 7 * 86400.0,
)  # fmt: skip
_KINDS: dict[type, str] = {
    Help: "help",
    Subscribe: "subscribe",
    Unsubscribe: "unsubscribe",
    ListSubscriptions: "list",
    Lookup: "lookup",
    Now: "now",
    Status: "status",
}
COMMAND_KINDS = (*_KINDS.values(), "invalid")
DELIVERY_EVENTS = ("takeover", "part-found", "resumed", "part-sent", "retry", "notice")


def command_kind(command: Command | None) -> str:
    """A command's kind as a label; None (text that did not parse) is "invalid"."""
    return "invalid" if command is None else _KINDS.get(type(command), "other")


class Metrics:
    """Every figure the bot publishes; one instance per process (tests make their own)."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, platforms: tuple[str, ...] = ()
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.posted = Counter(
            "digest_posted", "Digests posted, by chat platform.", ["platform"], registry=r
        )
        self.failed = Counter(
            "digest_failed",
            "Digests given up after their last attempt failed, by chat platform.",
            ["platform"],
            registry=r,
        )
        self.runs = Counter(
            "digest_runs",
            "Scheduled digest runs by outcome (posted, skipped, found-existing, not-claimed, "
            "retry-later, failed).",
            ["outcome"],
            registry=r,
        )
        self.analyses = Counter(
            "digest_analyses",
            "Commit analyses made (not served from the cache), by analyzer and status.",
            ["analyzer", "status"],
            registry=r,
        )
        self.cache_hits = Counter(
            "digest_analysis_cache_hits",
            "Commit analyses served from the analyses cache, by analyzer.",
            ["analyzer"],
            registry=r,
        )
        self.llm_seconds = Histogram(
            "digest_llm_request_seconds",
            "LLM chat completion requests: latency (the SDK's retries included), by outcome.",
            ["model", "outcome"],
            buckets=LLM_BUCKETS,
            registry=r,
        )
        self.llm_tokens = Counter(
            "digest_llm_tokens",
            "LLM tokens as the endpoint counted them: direction in (prompt) or out.",
            ["model", "direction"],
            registry=r,
        )
        self.github_requests = Counter(
            "digest_github_requests",
            "HTTP requests made to the GitHub API, by status class (2xx, 4xx, ...).",
            ["code"],
            registry=r,
        )
        self.commands_working = Gauge(
            "digest_commands_working",
            "Chat commands being worked on now (after their ack), Slack and Feishu together.",
            registry=r,
        )
        self.commands_waiting = Gauge(
            "digest_commands_waiting",
            "Chat commands acknowledged and waiting for a turn (DIGEST_COMMAND_CONCURRENCY).",
            registry=r,
        )
        self.github_remaining = Gauge(
            "digest_github_rate_limit_remaining",
            "GitHub API requests left in the current rate-limit window (last seen).",
            registry=r,
        )
        self.github_limit = Gauge(
            "digest_github_rate_limit",
            "GitHub API requests allowed per rate-limit window (last seen).",
            registry=r,
        )
        self.github_reset = Gauge(
            "digest_github_rate_limit_reset_timestamp_seconds",
            "When the GitHub rate-limit window resets (Unix time; last seen).",
            registry=r,
        )
        self._rate_key = (-1, 0)
        self._lock = threading.Lock()
        self.scheduler_lag = Histogram(
            "digest_scheduler_lag_seconds",
            "Seconds from a digest's scheduled time to the start of its run on this replica.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.commands = Counter(
            "digest_commands",
            "Commands received from users, by platform and kind.",
            ["platform", "kind"],
            registry=r,
        )
        self.delivery = Counter(
            "digest_delivery_events",
            "What delivery met on the way: takeover (a dead replica's run taken over), "
            "part-found (a part found out already), resumed (a post taken up half-way), "
            "part-sent, retry (a passing failure retried), notice (a run gave up and said so).",
            ["event"],
            registry=r,
        )
        for event in DELIVERY_EVENTS:
            self.delivery.labels(event)
        for outcome in Outcome:
            self.runs.labels(outcome.value)
        for platform in platforms:
            self.posted.labels(platform)
            self.failed.labels(platform)
            for kind in COMMAND_KINDS:
                self.commands.labels(platform, kind)

    def exposition(self) -> bytes:
        """The text exposition format, for GET /metrics."""
        return generate_latest(self.registry)

    # ---- digest runs (bot.run.RunObserver) -----------------------------------------------------

    def run_started(self, sub: Subscription, fire: datetime, started: datetime) -> None:
        self.scheduler_lag.observe(max(0.0, (started - fire).total_seconds()))

    def delivery_event(self, sub: Subscription, event: str, count: int = 1) -> None:
        self.delivery.labels(event).inc(count)

    def run_finished(self, sub: Subscription, outcome: RunOutcome) -> None:
        self.runs.labels(outcome.outcome.value).inc()
        if outcome.outcome == Outcome.POSTED:
            self.posted.labels(sub.target.platform).inc()
        elif outcome.outcome == Outcome.FAILED:
            self.failed.labels(sub.target.platform).inc()

    # ---- analyses and the LLM ------------------------------------------------------------------

    def analyzer(self, inner: Analyzer) -> MeteredAnalyzer:
        """`inner`, counting what it hands out."""
        return MeteredAnalyzer(inner, self)

    def analysed(self, entry: AnalyzedCommit) -> None:
        if entry.cached:
            self.cache_hits.labels(entry.analyzer).inc()
        else:
            self.analyses.labels(entry.analyzer, entry.status.value).inc()

    def watch_llm(self, llm: LLMAnalyzer | None) -> None:
        """Time and count every request `llm` makes from now on."""
        if llm is not None:
            llm.on_call = self.llm_call

    def llm_call(self, call: LLMCall) -> None:
        self.llm_seconds.labels(call.model, call.outcome).observe(call.seconds)
        if call.tokens_in:
            self.llm_tokens.labels(call.model, "in").inc(call.tokens_in)
        if call.tokens_out:
            self.llm_tokens.labels(call.model, "out").inc(call.tokens_out)

    # ---- GitHub --------------------------------------------------------------------------------

    def source(self, source: CommitSource) -> CommitSource:
        """`source`, its GitHub requests counted (a local clone makes none)."""
        if isinstance(source, _Counted):
            source.on_response = self.github_response
            source.on_rate_limit = self.github_rate_limit
        return source

    def open_source(self, factory: Callable[[str], CommitSource]) -> Callable[[str], CommitSource]:
        """`factory` (repo -> source) whose sources are counted."""
        return lambda repo: self.source(factory(repo))

    def github_response(self, status: int) -> None:
        self.github_requests.labels(f"{status // 100}xx").inc()

    def github_rate_limit(self, seen: RateLimit) -> None:
        """The latest figures win: a later window, or fewer left in the same one (threads
        report in any order)."""
        with self._lock:
            if (seen.reset, -seen.remaining) < self._rate_key:
                return
            self._rate_key = (seen.reset, -seen.remaining)
            self.github_remaining.set(seen.remaining)
            self.github_limit.set(seen.limit)
            self.github_reset.set(seen.reset)

    # ---- inbound commands ----------------------------------------------------------------------

    def command(self, platform: str, command: Command | None) -> None:
        """A user's command arrived (None: text that is not a command)."""
        self.commands.labels(platform, command_kind(command)).inc()

    def watch_turns(self, turns: Turns) -> None:
        """Commands worked on now, and acknowledged but waiting for a turn, read at each scrape."""
        self.commands_working.set_function(lambda: turns.working)
        self.commands_waiting.set_function(lambda: turns.waiting)


class MeteredAnalyzer:
    """An Analyzer (and Summarizer) that counts each analysis by analyzer and status."""

    def __init__(self, inner: Analyzer, metrics: Metrics) -> None:
        self.inner = inner
        self.name = inner.name
        self._metrics = metrics

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        entry = await self.inner.analyze(commit, language)
        self._metrics.analysed(entry)
        return entry

    async def prepare(self, commit: Commit, language: Language) -> None:
        if isinstance(self.inner, Preparer):
            await self.inner.prepare(commit, language)

    async def overview(self, entries: list[AnalyzedCommit], language: Language) -> Overview | None:
        if isinstance(self.inner, Summarizer):
            return await self.inner.overview(entries, language)
        return None
