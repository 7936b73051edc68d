"""The README's provider matrix, row by row: the settings a row gives, read through Settings and
the wiring as a user's environment would be, against a fake server that behaves as that provider
documents (tests/fakes/providers.py). Every analysis, the day overview and the `ask` answer must
come from the model, and none may carry the model's thinking.

A README row without a fake profile, or a profile the README does not list, fails here: the
matrix is the promise, and this is how it is kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.ops.settings import load_settings
from bot.wiring import analyzer_for
from digest.models import AnalysisStatus
from digest.service import build_digest
from digest.sources.git import GitSource
from digest.window import parse_window
from tests.fakes.openai import FakeOpenAI
from tests.fakes.providers import PROFILES, Profile
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json

README = Path(__file__).resolve().parent.parent / "README.md"
SH = timezone(timedelta(hours=8))
KEY = "sk-matrix-" + "m" * 24
OVERVIEW = "The day added an export endpoint and its tests. Nothing breaks for callers."
ANSWER = "Yes: src/mod1.py now sets value to 1, as the diff shows."
THINKING = ("let me look", "<think", "</think>", "step by step")


@dataclass(frozen=True)
class Row:
    provider: str
    settings: dict[str, str]
    keyed: bool


def matrix() -> list[Row]:
    """The rows of the table under "### Providers" in the README."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Providers") :]
    table: list[str] = []
    for line in section.splitlines():
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    rows = []
    for line in table[2:]:  # the header and its rule
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        pairs = re.findall(r"`([A-Z_]+)=([^`]*)`", cells[1])
        rows.append(Row(cells[0], dict(pairs), cells[2] != "none"))
    return rows


ROWS = matrix()


def test_every_row_has_a_fake_and_every_fake_a_row() -> None:
    assert [row.provider for row in ROWS] == list(PROFILES)


def responder(provider: str) -> Any:
    def answer(body: dict[str, Any]) -> str:
        system = str(body["messages"][0]["content"])
        if "response_format" in body or "JSON object" in system:
            return answer_json(summary=f"{provider}: a new export endpoint.")
        if "daily digest" in system:
            return OVERVIEW
        return ANSWER

    return answer


def environment(row: Row, profile: Profile, fake: FakeOpenAI, tmp_path: Path) -> dict[str, str]:
    """The row's settings, with the provider's host replaced by the fake's."""
    env = {k: v.replace("DEPLOYMENT", "gpt-4o-mini") for k, v in row.settings.items()}
    url = urlsplit(env.get("OPENAI_BASE_URL", "https://api.openai.com/v1"))
    path = url.path.replace("gpt-4o-mini", profile.deployment or "gpt-4o-mini")
    assert path == profile.url_path, (
        f"the README's URL for {row.provider} is not the documented one"
    )
    env["OPENAI_BASE_URL"] = fake.origin + path + (f"?{url.query}" if url.query else "")
    if row.keyed:
        env["OPENAI_API_KEY"] = KEY
    env["DIGEST_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/digest.db"
    return env


def day(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "proj")
    start = datetime(2026, 2, 5, 9, 0, tzinfo=SH)
    for i in range(3):
        repo.commit(
            f"feat: change number {i}",
            {f"src/mod{i}.py": f"value = {i}\n"},
            when=start + timedelta(minutes=9 * i),
        )
    return repo


@pytest.mark.parametrize("row", ROWS, ids=[row.provider for row in ROWS])
async def test_the_row_works_with_its_settings(
    row: Row, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = PROFILES[row.provider]
    model = row.settings.get("DIGEST_LLM_MODEL", profile.deployment or "gpt-4o-mini")
    model = model.replace("DEPLOYMENT", "gpt-4o-mini")
    repo = day(tmp_path)
    async with FakeOpenAI(
        api_key=KEY if row.keyed else None,
        models=[profile.deployment or model],
        profile=profile,
        responder=responder(row.provider),
    ) as fake:
        for name, value in environment(row, profile, fake, tmp_path).items():
            monkeypatch.setenv(name, value)
        settings = load_settings(None)
        window = parse_window(tz_name="Asia/Shanghai", now=datetime.now(SH), day="2026-02-05")
        source = GitSource(repo.path)
        async with analyzer_for("auto", settings) as run:
            digest = await build_digest(
                source, run.analyzer, window=window, language="en", now=lambda: datetime.now(SH)
            )
            assert run.asker is not None and run.llm is not None
            commit = digest.entries[0].commit
            answer = await run.asker.ask(commit, "Does this change the value?", analysis=None)
            failures = [str(f) for f in run.llm.failures]
        await source.aclose()

    assert failures == []
    assert len(digest.entries) == 3
    for entry in digest.entries:
        assert entry.status == AnalysisStatus.OK, entry.error
        assert entry.analyzer == f"llm:{profile.deployment or model}"
        assert entry.analysis is not None
        assert entry.analysis.summary == f"{row.provider}: a new export endpoint."
        assert entry.tokens_out > 0
    assert digest.overview == OVERVIEW
    assert answer.text == ANSWER
    shown = " ".join(
        [digest.overview or "", answer.text, *(e.raw_output or "" for e in digest.entries)]
    )
    assert not any(word in shown.lower() for word in THINKING)
    extra = json.loads(row.settings.get("DIGEST_LLM_EXTRA_BODY", "{}"))
    served = [r for r in fake.chat_requests if r.status == 200]
    # The model thought (and it was hidden) unless the row's settings turn its thinking off.
    assert any(profile.thinks(r.body) for r in served) == profile.thinks(extra)
    assert len(fake.chat_requests) == 5 + documented_detours(profile, fake), [
        (r.status, r.finish_reason) for r in fake.chat_requests
    ]


def documented_detours(profile: Profile, fake: FakeOpenAI) -> int:
    """The requests the provider's documented quirks cost on top of 3 analyses, 1 overview and
    1 answer, each checked to have happened once and only once."""
    requests = fake.chat_requests
    refused = [r for r in requests if r.status == 400]
    cut = [r for r in requests if r.finish_reason == "length"]
    served = [r for r in requests if r.status == 200]
    detours = 0
    if profile.max_tokens_refused is not None and "max_tokens" in requests[0].body:
        # An endpoint we could not know (127.0.0.1) started with max_tokens: refused once.
        assert [r.body.get("max_tokens") for r in refused] == [2000]
        assert all("max_completion_tokens" in r.body for r in served)
        detours += 1
    else:
        assert refused == []
    if profile.thinking != "none" and profile.thinking_tokens > 1_800:
        # Thinking longer than DIGEST_LLM_MAX_OUTPUT_TOKENS: cut off once, then the larger limit.
        assert len(cut) == 1 and fake.blank_answers_served == 0
        after = served[served.index(cut[0]) + 1 :]
        assert after and all(
            max(r.body.get("max_tokens", 0), r.body.get("max_completion_tokens", 0)) == 16_000
            for r in after
        )
        detours += 1
    else:
        assert cut == []
    detours += fake.blank_answers_served
    assert fake.blank_answers_served == profile.blank_json_answers
    for name, value in profile.needs.items():
        assert all(r.body.get(name) == value for r in requests)
    return detours
