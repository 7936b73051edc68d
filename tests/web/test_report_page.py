"""GET /reports/{owner}/{repo}/{date} on a real aiohttp server, reading real git repositories
through the fake GitHub, analysing through the fake OpenAI with the real analyses cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bot.delivery.links import report_url, sign_report_path, verify_report_path
from bot.store.database import Store
from bot.store.records import Target
from bot.web.reports import ReportDeps, report_routes
from digest.analysis.base import Analyzer
from digest.analysis.cache import CachedAnalyzer
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from digest.models import RepoRef
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub, rate_limited
from tests.fakes.openai import FakeOpenAI
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json
from tests.library.test_render_html import chart_counts, check_inert, parse_page

TOKEN = "ghp_reportpagetoken"
KEY = b"report-key-for-tests"
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 2, 6, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, the day after
CHANNEL = Target(platform="slack", workspace="T1", channel="C1")
HOSTILE_TITLE = (
    "fix: <script>document.title='pwned';window.pwned=1</script> "
    '<img src=x onerror="window.pwned=2"> [go](javascript:window.pwned=3) & <b>bold</b>'
)
PAGE = "/reports/octo/demo/2026-02-05"
SECRET = "/reports/octo/secret/2026-02-05"


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 2, day, hour, minute, tzinfo=SH)


def build_repo(path: Path) -> GitRepo:
    """2026-02-05 in Shanghai: five commits (one at 00:30, which is 02-04 in UTC), one folded."""
    repo = GitRepo.init(path)
    repo.commit("chore: initial", {"README.md": "hi\n"}, when=sh(4, 10))
    repo.commit("feat(api): add export (#12)", {"src/api/export.py": "x = 1\n"}, when=sh(5, 0, 30))
    repo.commit(HOSTILE_TITLE, {"src/core/run.py": "y = 2\n"}, when=sh(5, 11))
    repo.commit("docs: the guide", {"docs/guide.md": "# Guide\n"}, when=sh(5, 15))
    repo.commit("test: cover export", {"tests/test_export.py": "pass\n"}, when=sh(5, 18))
    repo.commit("chore(deps): bump lock", {"uv.lock": "v2\n"}, when=sh(5, 20))
    repo.commit("feat: the next day", {"src/next.py": "z\n"}, when=sh(6, 9))
    return repo


@dataclass
class Site:
    url: str
    gh: FakeGitHub
    llm: FakeOpenAI
    store: Store
    deps: ReportDeps
    session: aiohttp.ClientSession

    async def get(self, path: str, **kw: Any) -> tuple[int, str, dict[str, str]]:
        async with self.session.get(self.url + path, allow_redirects=False, **kw) as response:
            return response.status, await response.text(), dict(response.headers)


async def subscribe(store: Store, repo: str, **values: Any) -> None:
    defaults = {
        "at": "09:00",
        "tz": "Asia/Shanghai",
        "language": "en",
        "min_importance": "low",
        "weekdays_only": False,
        "post_empty": False,
    }
    await store.upsert_subscription(CHANNEL, repo, values, defaults=defaults, by="U1")


@asynccontextmanager
async def serve_reports(deps: ReportDeps) -> AsyncIterator[str]:
    app = web.Application()
    app.add_routes(report_routes(deps))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def make_deps(
    gh: FakeGitHub, store: Store, analyzer: Analyzer, clock: Callable[[], datetime] = lambda: NOW
) -> ReportDeps:
    return ReportDeps(
        open_source=lambda repo: GitHubSource(
            repo, token=TOKEN, api_url=gh.url, max_rate_wait=0, retry_backoff=0
        ),
        analyzer=analyzer,
        subscriptions=store.all_subscriptions,
        clock=clock,
        default_tz="UTC",
        default_language="en",
        signing_key=KEY,
    )


def answer(body: dict[str, Any]) -> str:
    """An analysis for an analysis request, a sentence for the day overview."""
    if "response_format" in body:
        return answer_json()
    return "An export endpoint landed with its tests and guide; one fix escapes a title."


@asynccontextmanager
async def report_site(tmp_path: Path) -> AsyncIterator[Site]:
    """The page served on 127.0.0.1: octo/demo (public) and octo/secret (private) followed,
    octo/unfollowed public and followed by nobody, octo/gone followed but not on GitHub."""
    repo = build_repo(tmp_path / "demo")
    async with (
        FakeGitHub(token=TOKEN) as gh,
        FakeOpenAI(api_key=None, responder=answer) as llm,
    ):
        gh.add_repo("octo/demo", repo.path)
        gh.add_repo("octo/secret", repo.path, private=True)
        gh.add_repo("octo/unfollowed", repo.path)
        store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/digest.db")
        analyzer = LLMAnalyzer(LLMConfig(model="gpt-4o-mini", api_key="k", base_url=llm.url))
        try:
            await subscribe(store, "octo/demo")
            await subscribe(store, "octo/secret", language="zh")
            await subscribe(store, "octo/gone")
            deps = make_deps(gh, store, CachedAnalyzer(analyzer, store, poll=0.02))
            async with serve_reports(deps) as url, aiohttp.ClientSession() as session:
                yield Site(url, gh, llm, store, deps, session)
        finally:
            await analyzer.aclose()
            await store.close()


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with report_site(tmp_path) as s:
        yield s


async def test_the_page_of_a_followed_repository(site: Site) -> None:
    status, body, headers = await site.get(PAGE)
    assert status == 200, body
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=3600"  # the day is over
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    page = parse_page(body)
    check_inert(page)
    assert page.all("html")[0].attrs["lang"] == "en"  # the subscription's language
    # The subscription's day in Shanghai: 00:30 counts, the next day's commit does not.
    assert "feat(api): add export (#12)" in page.text
    assert "feat: the next day" not in page.text
    assert HOSTILE_TITLE in page.text  # as text
    counts = chart_counts(page, "importance")
    assert sum(counts.values()) == 5 and counts["folded"] == 1
    assert chart_counts(page, "area") == {"src/": 2, "docs/": 1, "tests/": 1, "(root)": 1}
    calls = len(site.llm.chat_requests)
    assert calls >= 4  # one per analysed commit (and the overview)
    # A second view is served from the page cache: no GitHub request, no LLM call.
    requests = len(site.gh.requests)
    status, again, _ = await site.get(PAGE)
    assert (status, again) == (200, body)
    assert len(site.gh.requests) == requests and len(site.llm.chat_requests) == calls
    async with site.session.head(site.url + PAGE) as head:
        assert head.status == 200


async def test_a_new_server_reuses_the_cached_analyses(site: Site) -> None:
    assert (await site.get(PAGE))[0] == 200
    calls = len(site.llm.chat_requests)
    # A fresh process (no page cache), the same database: GitHub again, the LLM never.
    fresh = LLMAnalyzer(LLMConfig(model="gpt-4o-mini", api_key="k", base_url=site.llm.url))
    try:
        deps = make_deps(site.gh, site.store, CachedAnalyzer(fresh, site.store))
        async with serve_reports(deps) as url, site.session.get(url + PAGE) as response:
            assert response.status == 200
            assert HOSTILE_TITLE in parse_page(await response.text()).text
    finally:
        await fresh.aclose()
    assert len(site.llm.chat_requests) == calls


async def test_concurrent_views_build_the_page_once(site: Site) -> None:
    results = await asyncio.gather(*(site.get(PAGE) for _ in range(6)))
    assert {status for status, _, _ in results} == {200}
    assert len({body for _, body, _ in results}) == 1
    assert site.gh.count(r"/repos/octo/demo/commits$") == 1


async def test_today_is_cached_briefly_and_the_future_is_not_found(site: Site) -> None:
    status, _, headers = await site.get("/reports/octo/demo/2026-02-06")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    for day in ("2026-02-07", "2030-01-01", "2025-01-01", "1969-12-31"):
        status, _, headers = await site.get(f"/reports/octo/demo/{day}")
        assert status == 404, day
        assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/reports/octo/demo/2026-13-01",
        "/reports/octo/demo/2026-02-30",
        "/reports/octo/demo/2026-2-5",
        "/reports/octo/demo/yesterday",
        "/reports/octo/demo/2026-02-05x",
        "/reports/-octo/demo/2026-02-05",
        "/reports/oc_to/demo/2026-02-05",
        "/reports/octo/de%20mo/2026-02-05",
        "/reports/octo/de%3Cb%3Emo/2026-02-05",
        "/reports/" + "o" * 40 + "/demo/2026-02-05",
        "/reports/octo/" + "d" * 101 + "/2026-02-05",
        "/reports/octo/demo",
        "/reports/octo/demo/2026-02-05/extra",
        "/reports/",
    ],
)
async def test_a_malformed_path_is_400_without_any_request(site: Site, path: str) -> None:
    status, body, headers = await site.get(path)
    assert status == 400, path
    assert "/reports/OWNER/REPO/YYYY-MM-DD" in body
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    check_inert(parse_page(body))
    assert site.gh.requests == []


async def test_unknown_unfollowed_and_unsigned_private_look_the_same(site: Site) -> None:
    answers = {}
    for name in ("octo/unfollowed", "nobody/nothing", "octo/gone", "octo/secret"):
        status, body, headers = await site.get(f"/reports/{name}/2026-02-05")
        assert status == 404, name
        answers[name] = (body, headers["Cache-Control"])
        check_inert(parse_page(body))
    assert len(set(answers.values())) == 1  # nothing tells them apart
    # Repositories nobody follows cost no GitHub request at all.
    assert not [p for p in site.gh.paths() if "unfollowed" in p or "nobody" in p]
    assert site.llm.chat_requests == []


async def test_a_private_repository_needs_a_signed_link(site: Site) -> None:
    signed = sign_report_path(SECRET, KEY)
    assert signed.startswith(SECRET + "?sig=")
    status, body, headers = await site.get(signed)
    assert status == 200, body
    assert headers["Cache-Control"] == "private, max-age=3600"
    page = parse_page(body)
    assert "feat(api): add export (#12)" in page.text
    assert page.all("html")[0].attrs["lang"] == "zh-CN"  # that subscription's language
    sig = signed.split("?sig=")[1]
    # GitHub ignores case in names, and so does the signature.
    assert (await site.get(f"/reports/Octo/Secret/2026-02-05?sig={sig}"))[0] == 200
    refused = [
        SECRET,
        f"{SECRET}?sig=",
        f"{SECRET}?sig={sig[:-2]}",
        f"{SECRET}?sig={sig}x",
        sign_report_path(SECRET, b"another key"),
        f"/reports/octo/secret/2026-02-04?sig={sig}",  # another day's page
    ]
    for path in refused:
        assert (await site.get(path))[0] == 404, path
    # A signed link does not open a repository nobody follows.
    assert (await site.get(sign_report_path("/reports/octo/unfollowed/2026-02-05", KEY)))[0] == 404


async def test_a_rate_limited_github_is_503_with_retry_after(site: Site) -> None:
    site.gh.inject(r"^/repos/octo/demo$", rate_limited(reset_in=120))
    status, body, headers = await site.get(PAGE)
    assert status == 503
    assert headers["Cache-Control"] == "no-store"
    assert 60 <= int(headers["Retry-After"]) <= 121
    assert "try again later" in body
    # Nothing was cached: once GitHub answers, the page is there.
    assert (await site.get(PAGE))[0] == 200


def test_signatures() -> None:
    signed = sign_report_path(PAGE, KEY)
    path, sig = signed.split("?sig=")
    assert path == PAGE and len(sig) == 43  # 32 bytes, base64url without padding
    assert verify_report_path(PAGE, sig, KEY)
    assert verify_report_path(PAGE.upper().replace("/REPORTS/", "/reports/"), sig, KEY)
    assert verify_report_path(PAGE, sig, KEY.decode())  # str keys are the same key
    assert not verify_report_path(PAGE, sig, None)
    assert not verify_report_path(PAGE, None, KEY)
    assert not verify_report_path(PAGE + "/x", sig, KEY)
    assert not verify_report_path("/reports/octo/demo/2026-02-06", sig, KEY)
    assert not verify_report_path(PAGE, "é" * 43, KEY)
    with pytest.raises(ValueError):
        sign_report_path("/elsewhere/octo/demo/2026-02-05", KEY)


def test_report_urls_for_posts() -> None:
    public = RepoRef(full_name="octo/demo")
    private = RepoRef(full_name="octo/secret", private=True)
    base = "https://digest.example.com/"
    assert report_url(base, public, "2026-02-05") == "https://digest.example.com" + PAGE
    assert report_url(base, private, "2026-02-05") is None  # no key: no link that 404s
    url = report_url(base, private, "2026-02-05", KEY)
    assert url is not None and url.startswith("https://digest.example.com" + SECRET + "?sig=")
    assert verify_report_path(SECRET, url.split("?sig=")[1], KEY)
    # A local clone (its origin on GitHub or not): the pages serve GitHub repositories only,
    # so its post attaches the report instead of linking a page that would answer 404.
    for clone in (
        RepoRef(full_name="proj", local_path="/src/proj"),
        RepoRef(
            full_name="octo/demo", local_path="/src/demo", web_url="https://github.com/octo/demo"
        ),
    ):
        assert report_url(base, clone, "2026-02-05", KEY) is None
