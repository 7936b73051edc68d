"""Analysis while fetching, and one LLM budget per process: fake GitHub and fake OpenAI, real
sockets; the order of events is read from what the fakes recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digest.analysis.heuristic import HeuristicAnalyzer
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from digest.analysis.llm_limits import Charge, LLMLimiter, tpm_wait
from digest.models import AnalysisStatus, Window
from digest.service import Progress, analyse_all, build_digest
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.fakes.openai import FakeOpenAI
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json, commit
from tests.waiting import HANG

DAY = datetime(2026, 2, 5, tzinfo=UTC)
WINDOW = Window(start=DAY, end=DAY + timedelta(days=1), tz="UTC", day="2026-02-05")
DETAIL = r"/commits/[0-9a-f]{40}$"


def day_repo(tmp_path: Path, count: int) -> tuple[GitRepo, list[str]]:
    repo = GitRepo.init(tmp_path / "repo")
    shas = [
        repo.commit(
            f"feat: change {i}",
            {f"src/m{i}.py": f"def f{i}():\n    return {i}\n"},
            when=DAY + timedelta(hours=1, minutes=i),
        )
        for i in range(count)
    ]
    return repo, shas


def llm(fake: FakeOpenAI, **kw: Any) -> LLMAnalyzer:
    config = LLMConfig(model="gpt-4o-mini", api_key="sk-x", base_url=fake.url, **kw)
    return LLMAnalyzer(config)


async def test_the_first_analysis_goes_out_before_the_last_detail_is_served(
    tmp_path: Path,
) -> None:
    """Every detail but the newest is held until the model has been asked: a digest that
    analysed only after fetching everything would never finish (and fail at the ceiling)."""
    repo, shas = day_repo(tmp_path, 6)
    asked = asyncio.Event()

    def respond(body: dict[str, Any]) -> str:
        asked.set()
        return answer_json() if "response_format" in body else "The day in two sentences."

    async with (
        FakeGitHub() as gh,
        FakeOpenAI(api_key=None, responder=respond) as ai,
    ):
        gh.add_repo("octo/demo", repo.path)
        for sha in shas[:-1]:  # the newest is listed first and answered at once
            gh.hold(f"/commits/{sha}$", asked)
        analyzer = llm(ai, json_mode="json_schema")
        async with GitHubSource("octo/demo", api_url=gh.url, max_in_flight=2) as source:
            digest = await asyncio.wait_for(
                build_digest(
                    source, analyzer, window=WINDOW, language="en", now=lambda: DAY, concurrency=4
                ),
                timeout=60,
            )
        await analyzer.aclose()
    details = [r for r in gh.requests if r.path.endswith(tuple(shas))]
    analyses = [r for r in ai.chat_requests if "response_format" in r.body]
    last_detail = max(r.finished_at or 0.0 for r in details)
    assert min(r.received_at for r in analyses) < last_detail
    assert [e.commit.sha for e in digest.entries] == list(reversed(shas))  # the report's order
    assert len(analyses) == 6 and all(e.status == AnalysisStatus.OK for e in digest.entries)


async def test_progress_shows_both_stages_while_streaming(tmp_path: Path) -> None:
    repo, _ = day_repo(tmp_path, 5)
    fetched: list[tuple[int, int]] = []
    analysed: list[tuple[int, int]] = []
    async with FakeGitHub() as gh:
        gh.add_repo("octo/demo", repo.path)
        async with GitHubSource("octo/demo", api_url=gh.url) as source:
            await build_digest(
                source,
                HeuristicAnalyzer(),
                window=WINDOW,
                language="en",
                now=lambda: DAY,
                progress=Progress(
                    fetched=lambda d, t: fetched.append((d, t)),
                    analysed=lambda d, t: analysed.append((d, t)),
                ),
            )
    assert fetched[-1] == (5, 5) and analysed[-1] == (5, 5)
    assert [d for d, _ in analysed] == [1, 2, 3, 4, 5]


async def test_one_llm_budget_bounds_two_digests_running_at_once() -> None:
    """Each digest may run 8 analyses; the process's analyzer lets 3 reach the provider."""
    async with FakeOpenAI(api_key=None, latency=0.1, responder=lambda _: answer_json()) as fake:
        analyzer = llm(fake, json_mode="json_schema", concurrency=3)
        first, second = await asyncio.gather(
            analyse_all(analyzer, [commit(n) for n in range(1, 11)], "zh", concurrency=8),
            analyse_all(analyzer, [commit(n) for n in range(11, 21)], "zh", concurrency=8),
        )
        await analyzer.aclose()
    assert fake.max_in_flight == 3
    assert len(fake.chat_requests) == 20
    assert all(r.status == AnalysisStatus.OK for r in [*first, *second])


def test_tpm_goes_at_once_while_the_minute_has_room() -> None:
    charges = [Charge(0.0, 4_000), Charge(10.0, 3_000)]
    assert tpm_wait(charges, 20.0, 2_000, 10_000) == 0.0


def test_tpm_waits_until_enough_of_the_minute_has_expired() -> None:
    charges = [Charge(0.0, 4_000), Charge(10.0, 3_000), Charge(15.0, 2_000)]
    # 9,000 charged; 4,000 more need 3,000 freed: the first charge leaves the minute at 60 s.
    assert tpm_wait(charges, 20.0, 4_000, 10_000) == 40.0
    # 6,000 more need 5,000 freed: the second charge too, at 70 s.
    assert tpm_wait(charges, 20.0, 6_000, 10_000) == 50.0


def test_tpm_forgets_charges_older_than_a_minute() -> None:
    charges = [Charge(0.0, 9_000), Charge(50.0, 1_000)]
    assert tpm_wait(charges, 61.0, 8_000, 10_000) == 0.0


def test_tpm_a_request_larger_than_the_limit_goes_alone_in_its_minute() -> None:
    assert tpm_wait([], 5.0, 50_000, 10_000) == 0.0
    assert tpm_wait([Charge(1.0, 100)], 5.0, 50_000, 10_000) == 56.0


async def test_the_limiter_paces_by_the_charges_settled() -> None:
    """The waits the limiter asks for follow from tpm_wait; a settled charge frees tokens."""
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = LLMLimiter(4, 10_000, clock=lambda: now[0], sleep=sleep)
    first = await limiter.charge(6_000)
    limiter.settle(first, 1_000)  # it cost less than its estimate
    await limiter.charge(6_000)
    assert slept == []
    await limiter.charge(6_000)  # 7,000 in the minute: waits for the first to expire
    assert slept == [60.0]


class Recording:
    """The heuristic, with a `prepare` that notes what was prepared and when."""

    name = "heuristic"
    fingerprint = "heuristic|recording"

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.gate = asyncio.Event()
        self.seven = asyncio.Event()  # two analysing and five prepared
        self._inner = HeuristicAnalyzer()

    async def prepare(self, c: Any, language: Any) -> None:
        self.events.append(("prepared", c.sha))
        if len(self.events) >= 7:
            self.seven.set()

    async def analyze(self, c: Any, language: Any) -> Any:
        self.events.append(("analysing", c.sha))
        if len(self.events) >= 7:
            self.seven.set()
        await self.gate.wait()
        return await self._inner.analyze(c, language)


async def test_commits_queued_behind_busy_workers_are_prepared_before_their_turn() -> None:
    from digest.pipeline import AnalysisPipeline

    analyzer = Recording()
    commits = [commit(n) for n in range(1, 6)]
    async with AnalysisPipeline(analyzer, "en", concurrency=2) as pipeline:
        for c in commits:
            await pipeline.feed(c)
        await asyncio.wait_for(analyzer.seven.wait(), timeout=HANG)
        assert {sha for kind, sha in analyzer.events if kind == "prepared"} == {
            c.sha for c in commits
        }
        for kind, sha in analyzer.events:
            if kind == "analysing":
                assert analyzer.events.index(("prepared", sha)) < analyzer.events.index(
                    ("analysing", sha)
                )
        analyzer.gate.set()
        done = await pipeline.analysed(commits)
    assert [e.commit.sha for e in done] == [c.sha for c in commits]
