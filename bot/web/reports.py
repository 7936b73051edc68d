"""GET /reports/{owner}/{repo}/{date}: the day's full report as a web page, built on demand.

The page is public, so it shows only what the bot already follows: a repository no subscription
follows is answered 404 before anything is fetched, and a private one needs a link signed with
the report key (HMAC-SHA256, `?sig=`), or it is answered exactly as a missing one is. The window,
language and branch are the earliest subscription's. Pages are built once per key and kept a
while (concurrent views of one page wait for the same build), through the cached analyzer, so a
page view makes no LLM call for a commit already analysed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Generic, TypeVar

from aiohttp import web

from bot.delivery.links import parse_report_path, verify_report_path
from bot.ops.logs import short_error
from bot.store.records import Subscription
from digest.analysis.base import Analyzer
from digest.errors import (
    BranchNotFound,
    DigestError,
    InvalidRepo,
    RateLimited,
    RepoNotFound,
    UnknownTimeZone,
)
from digest.models import Language, RepoRef
from digest.render.html import CSP, render_html
from digest.service import build_digest
from digest.sources.base import CommitSource
from digest.window import day_window, resolve_tz

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_EARLIEST = date(1970, 1, 1)


# ---- the handler --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportDeps:
    """What the page needs, injected by `digest serve` or by a test."""

    open_source: Callable[[str], CommitSource]  # "owner/name" -> GitHub
    analyzer: Analyzer  # the cached one
    subscriptions: Callable[[], Awaitable[Sequence[Subscription]]]  # store.all_subscriptions
    clock: Callable[[], datetime]
    default_tz: str
    default_language: Language = "zh"
    signing_key: bytes | None = None  # None: private repositories are never shown
    concurrency: int = 8  # analyses in flight for one page
    max_builds: int = 2  # pages built at once (each costs GitHub requests)
    max_days_back: int = 92  # older dates are answered 404: bounds what a visitor can cost
    repo_ttl: float = 300.0  # seconds a repository's visibility is kept
    page_ttl_today: float = 60.0  # seconds a page of a day not over yet is kept
    page_ttl_past: float = 3600.0


@dataclass(frozen=True)
class _Page:
    html: str
    complete: bool  # the day is over


def report_routes(deps: ReportDeps) -> list[web.RouteDef]:
    """The page, and 400 for any other path under /reports/."""
    return [
        web.get("/reports/{owner}/{repo}/{date}", report_handler(deps)),
        web.get("/reports/{tail:.*}", _malformed(deps.default_language)),
    ]


def report_handler(deps: ReportDeps) -> Handler:
    repos: _Cache[str, RepoRef] = _Cache(limit=512)
    pages: _Cache[tuple[str, str | None, date, str, Language], _Page] = _Cache(limit=128)
    builds = asyncio.Semaphore(max(1, deps.max_builds))

    async def resolve(full_name: str) -> tuple[RepoRef, float]:
        source = deps.open_source(full_name)
        try:
            return await source.repo(), deps.repo_ttl
        finally:
            await source.aclose()

    async def build(sub: Subscription, day: date, tz: str) -> tuple[_Page, float]:
        window = day_window(day, tz)
        complete = window.end <= deps.clock()
        async with builds:
            source = deps.open_source(sub.repo)
            try:
                digest = await build_digest(
                    source,
                    deps.analyzer,
                    window=window,
                    language=sub.language,
                    now=deps.clock,
                    branch=sub.branch,
                    concurrency=deps.concurrency,
                )
            finally:
                await source.aclose()
        log.info("report page built: %s %s (%d commits)", sub.repo, day, digest.stats.total)
        ttl = deps.page_ttl_past if complete else deps.page_ttl_today
        return _Page(render_html(digest), complete), ttl

    async def handle(request: web.Request) -> web.StreamResponse:
        info = request.match_info
        parsed = parse_report_path(info["owner"], info["repo"], info["date"])
        if parsed is None:
            return _error_page(400, deps.default_language)
        full_name, day = parsed
        followed = [s for s in await deps.subscriptions() if s.repo.lower() == full_name.lower()]
        if not followed:
            return _not_found(deps)
        sub = min(followed, key=lambda s: s.id)
        tz = _zone(sub.tz, deps.default_tz)
        clock = deps.clock()
        today = clock.astimezone(resolve_tz(tz)).date()
        if not max(_EARLIEST, today - timedelta(days=deps.max_days_back)) <= day <= today:
            return _not_found(deps)
        now = clock.timestamp()
        try:
            repo = await repos.get(sub.repo.lower(), now, lambda: resolve(sub.repo))
            if repo.private and not verify_report_path(
                request.path, request.query.get("sig"), deps.signing_key
            ):
                return _not_found(deps)
            key = (sub.repo.lower(), sub.branch, day, tz, sub.language)
            page = await pages.get(key, now, lambda: build(sub, day, tz))
        except (RepoNotFound, BranchNotFound, InvalidRepo):
            return _not_found(deps)
        except RateLimited as exc:
            retry = exc.reset_in_seconds
            return _error_page(503, deps.default_language, retry_after=retry)
        except DigestError as exc:
            log.warning("report page of %s %s failed: %s", sub.repo, day, short_error(exc))
            return _error_page(503, deps.default_language)
        max_age = round(deps.page_ttl_past if page.complete else deps.page_ttl_today)
        visibility = "private" if repo.private else "public"
        return _html(200, page.html, f"{visibility}, max-age={max_age}")

    return handle


def _malformed(language: Language) -> Handler:
    async def handle(_request: web.Request) -> web.StreamResponse:
        return _error_page(400, language)

    return handle


def _zone(name: str, default: str) -> str:
    try:
        resolve_tz(name)
    except UnknownTimeZone:
        return default
    return name


# ---- responses ----------------------------------------------------------------------------

_ERRORS: dict[tuple[int, str], tuple[str, str]] = {
    (400, "zh"): ("400 请求有误", "报告地址的格式是 /reports/OWNER/REPO/YYYY-MM-DD。"),
    (400, "en"): ("400 Bad request", "A report address is /reports/OWNER/REPO/YYYY-MM-DD."),
    (404, "zh"): ("404 没有这份报告", "没有这个仓库在这一天的报告。"),
    (404, "en"): ("404 Not found", "There is no report for this repository and date."),
    (503, "zh"): ("503 暂时无法生成报告", "现在无法生成这份报告，请稍后再试。"),
    (503, "en"): ("503 Unavailable", "The report cannot be built right now; try again later."),
}


def _not_found(deps: ReportDeps) -> web.Response:
    """One answer for unknown, unfollowed and unsigned private: nothing tells them apart."""
    return _error_page(404, deps.default_language)


def _error_page(status: int, language: Language, retry_after: float | None = None) -> web.Response:
    title, text = _ERRORS[(status, language)]
    lang = "zh-CN" if language == "zh" else "en"
    body = (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">\n'
        f"<title>{escape(title)}</title>\n"
        "<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em;"
        "color:#1f2328}</style>\n"
        f"</head>\n<body>\n<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>\n</body>\n</html>\n"
    )
    response = _html(status, body, "no-store")
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def _html(status: int, body: str, cache_control: str) -> web.Response:
    response = web.Response(status=status, text=body, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = cache_control
    response.headers["Content-Security-Policy"] = CSP + "; frame-ancestors 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# ---- a small cache whose misses are built once --------------------------------------------

K = TypeVar("K")
V = TypeVar("V")


class _Cache(Generic[K, V]):
    """Values kept until they expire (least recently used dropped past `limit`); concurrent
    misses of one key share one build, which a caller's disconnect does not cancel."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._done: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._running: dict[K, asyncio.Task[V]] = {}

    async def get(self, key: K, now: float, make: Callable[[], Awaitable[tuple[V, float]]]) -> V:
        hit = self._done.get(key)
        if hit is not None and hit[0] > now:
            self._done.move_to_end(key)
            return hit[1]
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fill(key, now, make))
            self._running[key] = task
            task.add_done_callback(lambda _: self._running.pop(key, None))
        return await asyncio.shield(task)

    async def _fill(self, key: K, now: float, make: Callable[[], Awaitable[tuple[V, float]]]) -> V:
        value, ttl = await make()
        self._done[key] = (now + ttl, value)
        self._done.move_to_end(key)
        while len(self._done) > self._limit:
            self._done.popitem(last=False)
        return value
