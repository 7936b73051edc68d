"""An analyzer made in the background: named at once, each call waits for it, its failure told."""

from __future__ import annotations

import asyncio

import pytest

from digest.analysis.base import Analyzer
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.analysis.later import LaterAnalyzer
from tests.commits import commit


async def test_calls_wait_until_it_is_made_and_the_name_is_known_at_once() -> None:
    gate = asyncio.Event()

    async def make() -> Analyzer:
        await gate.wait()
        return HeuristicAnalyzer()

    later = LaterAnalyzer("heuristic", make())
    assert later.name == "heuristic"
    with pytest.raises(RuntimeError):
        later.fingerprint  # noqa: B018 (not made yet)
    asked = asyncio.ensure_future(later.analyze(commit(1), "en"))
    await asyncio.sleep(0)
    assert not asked.done()
    gate.set()
    entry = await asked
    assert entry.commit.sha == commit(1).sha and entry.analyzer == "heuristic"
    assert later.fingerprint == HeuristicAnalyzer().fingerprint
    # The heuristic writes no overview: none, rather than an error.
    assert await later.overview([entry], "en") is None


async def test_a_failure_to_make_it_is_raised_by_every_call() -> None:
    async def make() -> Analyzer:
        raise ValueError("no client")

    later = LaterAnalyzer("llm:m", make())
    for _ in range(2):
        with pytest.raises(ValueError, match="no client"):
            await later.analyze(commit(1), "en")
    with pytest.raises(ValueError, match="no client"):
        await later.ready()
