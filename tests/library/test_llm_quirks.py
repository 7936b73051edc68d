"""The LLM analyzer against models as they really answer: thinking aloud, refusing a JSON mode or
a token parameter, answering blank or in a fence, running out of credit. Real SDK, real sockets,
the fake's provider profiles (tests/fakes/providers.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.chat.messages import describe
from bot.store.database import Store
from digest.analysis.ask import Asker
from digest.analysis.capabilities import Capabilities
from digest.analysis.llm import DISABLED_FOR, LLMAnalyzer, LLMCall, LLMConfig
from digest.errors import LLMFailure
from digest.models import AnalysisStatus, AnalyzedCommit
from digest.service import analyse_all
from tests.fakes.openai import FakeOpenAI, Fault
from tests.fakes.providers import (
    ARK,
    AZURE,
    AZURE_NO_MAX_COMPLETION,
    AZURE_REASONING,
    AZURE_V1,
    DEEPSEEK,
    DEEPSEEK_REASONER,
    MOONSHOT,
    OPENAI,
    OPENAI_REASONING,
    QWEN,
    QWEN3_THINKING,
    ZHIPU,
    Profile,
)
from tests.library.test_llm import KEY, answer_json, commit

THOUGHT = "Okay, let me look at this commit step by step."


def llm(url: str, **kw: Any) -> LLMAnalyzer:
    options = {"max_retries": 2, "json_mode": None, **kw}
    store = options.pop("capabilities", None)
    clock = options.pop("clock", None)
    config = LLMConfig(
        model=options.pop("model", "gpt-4o-mini"),
        api_key=options.pop("api_key", KEY),
        base_url=url,
        **options,
    )
    extra: dict[str, Any] = {"capabilities": store}
    if clock is not None:
        extra["clock"] = clock
    return LLMAnalyzer(config, **extra)


def is_json(body: dict[str, Any]) -> bool:
    return "response_format" in body or "JSON object" in str(body["messages"][0]["content"])


def responder(text: str = "A quiet day.") -> Any:
    return lambda body: answer_json() if is_json(body) else text


async def test_a_refused_json_schema_retries_every_request_in_flight() -> None:
    async with FakeOpenAI(
        api_key=KEY, json_schema=False, latency=0.2, responder=responder()
    ) as fake:
        model = llm(fake.url, json_mode="json_schema")
        # The first contact is a question (no JSON mode): the analyses then go out together.
        await model.complete_text([{"role": "user", "content": "Hi?"}], "en")
        fake.hold = 6  # each refused only once all six are in flight: no answer overtakes one
        results = await analyse_all(model, [commit(n) for n in range(1, 7)], "en", concurrency=6)
        later = await model.analyze(commit(7), "en")
        await model.aclose()
    assert [r.status for r in results] == [AnalysisStatus.OK] * 6
    assert later.status == AnalysisStatus.OK
    kinds = [
        (r.status, (r.body.get("response_format") or {}).get("type")) for r in fake.chat_requests
    ]
    assert kinds.count((400, "json_schema")) == 6  # all six were in flight when refused
    assert kinds.count((200, "json_object")) == 7
    assert kinds[-1] == (200, "json_object")  # learnt: the next one starts there
    assert fake.max_in_flight >= 6


async def test_the_first_call_goes_alone() -> None:
    async with FakeOpenAI(api_key=KEY, latency=0.1, responder=responder()) as fake:
        model = llm(fake.url, api_key="sk-wrong-" + "w" * 20)
        results = await analyse_all(model, [commit(n) for n in range(1, 9)], "en", concurrency=8)
        await model.aclose()
    assert {r.status for r in results} == {AnalysisStatus.FALLBACK}
    assert len(fake.chat_requests) == 1  # a refused key costs one request, not eight


async def test_learnt_json_mode_is_kept_in_the_store(database_url: str) -> None:
    refusing = dataclasses.replace(AZURE_V1, json_schema=False)
    store = await Store.open(database_url)
    try:
        async with FakeOpenAI(api_key=KEY, profile=refusing, responder=responder()) as fake:
            first = llm(fake.url, capabilities=store)  # Azure v1 starts with json_schema
            assert (await first.analyze(commit(1), "en")).status == AnalysisStatus.OK
            await first.aclose()
            endpoint = first.endpoint.key("gpt-4o-mini")
            kept = await store.get_capabilities(endpoint, "gpt-4o-mini")
            assert kept == Capabilities("json_object", "max_completion_tokens")
            second = llm(fake.url, capabilities=store)
            assert (await second.analyze(commit(2), "en")).status == AnalysisStatus.OK
            await second.aclose()
            again = llm(fake.url, capabilities=store, json_mode="json_schema")  # the setting wins
            assert (await again.analyze(commit(3), "en")).status == AnalysisStatus.OK
            await again.aclose()
    finally:
        await store.close()
    kinds = [(r.status, r.body["response_format"]["type"]) for r in fake.chat_requests]
    assert kinds == [
        (400, "json_schema"),
        (200, "json_object"),
        (200, "json_object"),  # the next run starts with what worked
        (400, "json_schema"),
        (200, "json_object"),
    ]


async def test_the_token_parameter_and_thinking_are_learnt_once(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/d.db")
    try:
        async with FakeOpenAI(
            api_key=KEY, models=["o4-mini"], profile=OPENAI_REASONING, responder=responder()
        ) as fake:
            first = llm(fake.url, model="o4-mini", capabilities=store)
            result = await first.analyze(commit(1), "en")
            await first.aclose()
            second = llm(fake.url, model="o4-mini", capabilities=store)
            again = await second.analyze(commit(2), "en")
            await second.aclose()
    finally:
        await store.close()
    assert result.status == again.status == AnalysisStatus.OK
    sent = [
        (r.status, {k: v for k, v in r.body.items() if "tokens" in k}) for r in fake.chat_requests
    ]
    assert sent == [
        (400, {"max_tokens": 2000}),  # 127.0.0.1 is not known to want max_completion_tokens
        (200, {"max_completion_tokens": 2000}),  # cut off while thinking, unseen
        (200, {"max_completion_tokens": 16000}),
        (200, {"max_completion_tokens": 16000}),  # the next run: one request
    ]
    assert result.tokens_out == 2000 + again.tokens_out  # the cut-off attempt is billed too


async def test_a_reasoner_cut_off_is_asked_again_with_room_and_every_token_is_counted() -> None:
    async with FakeOpenAI(
        api_key=KEY, models=None, profile=DEEPSEEK_REASONER, responder=responder()
    ) as fake:
        model = llm(fake.url, model="deepseek-reasoner")
        results = await analyse_all(model, [commit(n) for n in range(1, 4)], "zh", concurrency=3)
        await model.aclose()
    assert [r.status for r in results] == [AnalysisStatus.OK] * 3
    limits = [r.body["max_tokens"] for r in fake.chat_requests]
    assert limits == [2000, 16000, 16000, 16000]
    assert model.tokens_out == fake.completion_tokens_served
    assert sum(r.tokens_out for r in results) == fake.completion_tokens_served  # 2000 included
    assert not any("let me look" in (r.raw_output or "") for r in results)


async def test_still_cut_off_with_the_larger_limit_says_why() -> None:
    async with FakeOpenAI(
        api_key=KEY, models=None, profile=DEEPSEEK_REASONER, responder=responder()
    ) as fake:
        model = llm(fake.url, model="deepseek-reasoner", reasoning_output_tokens=2500)
        result = await model.analyze(commit(1), "en")
        await model.aclose()
    assert result.status == AnalysisStatus.FALLBACK
    assert (
        result.error
        == "the answer was cut off at the token limit (2500 tokens; the model thought first)"
    )
    assert result.tokens_out == 2000 + 2500  # what the failed attempts were billed


async def test_thinking_in_the_content_never_reaches_an_analysis_overview_or_answer() -> None:
    def answer(body: dict[str, Any]) -> str:
        if is_json(body):
            return f'<think>\n{THOUGHT} {{"draft": true}}\n</think>\n\n' + answer_json()
        if "daily digest" in str(body["messages"][0]["content"]):
            return f"{THOUGHT}\n</think>\n\nThe day added an export endpoint."
        return f"<think>{THOUGHT}</think>The diff adds export() in src/api/export.py."

    async with FakeOpenAI(api_key=KEY, responder=answer) as fake:
        model = llm(fake.url)
        entry = await model.analyze(commit(1), "en")
        overview = await model.overview([entry], "en")
        reply = await Asker(model).ask(commit(1), "What does it add?", analysis=None)
        await model.aclose()
    assert entry.status == AnalysisStatus.OK and len(fake.chat_requests) == 3
    assert entry.raw_output is not None and "think" not in entry.raw_output
    assert overview is not None and overview.text == "The day added an export endpoint."
    assert reply.text == "The diff adds export() in src/api/export.py."


async def test_a_blank_answer_is_asked_for_once_more() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script("", answer_json(), "  ", "")
        model = llm(fake.url)
        once = await model.analyze(commit(1), "en")
        twice = await model.analyze(commit(2), "en")
        await model.aclose()
    assert once.status == AnalysisStatus.OK
    assert twice.status == AnalysisStatus.FALLBACK and twice.error == "the answer was empty (twice)"
    assert len(fake.chat_requests) == 4


async def test_a_fenced_answer_with_prose_needs_no_repair() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script("Here is my analysis:\n\n```json\n" + answer_json() + "\n```\n\nHope it helps.")
        model = llm(fake.url)
        result = await model.analyze(commit(1), "en")
        await model.aclose()
    assert result.status == AnalysisStatus.OK and len(fake.chat_requests) == 1


async def test_only_a_missing_field_costs_a_repair() -> None:
    loose = json.loads(answer_json())
    loose.update(importance="High", risks=[{"risk": "r", "severity": "Low"}] * 4, mood="ok")
    missing = dict(loose)
    del missing["summary"]
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(json.dumps(loose), json.dumps(missing), json.dumps(loose))
        model = llm(fake.url)
        repaired = await model.analyze(commit(1), "en")
        asked = await model.analyze(commit(2), "en")
        await model.aclose()
    assert repaired.status == asked.status == AnalysisStatus.OK
    assert repaired.analysis is not None and len(repaired.analysis.risks) == 3
    assert len(fake.chat_requests) == 3  # one answer, then one answer and its repair
    assert "summary" in fake.chat_requests[2].body["messages"][-1]["content"]


@pytest.mark.parametrize("profile", [OPENAI, DEEPSEEK, QWEN, MOONSHOT, ZHIPU, ARK])
async def test_out_of_credit_stops_at_once_and_says_so(profile: Profile) -> None:
    calls: list[LLMCall] = []
    async with FakeOpenAI(api_key=KEY, models=None, profile=profile, responder=responder()) as fake:
        fake.out_of_credit = True
        model = llm(fake.url, max_retries=2)
        model.on_call = calls.append
        results = await analyse_all(model, [commit(n) for n in range(1, 7)], "en", concurrency=6)
        overview = await model.overview(list(results), "en")
        with pytest.raises(LLMFailure) as asked:
            await Asker(model).ask(commit(1), "Why?", analysis=None)
        await model.aclose()
    assert len(fake.chat_requests) == 1  # the SDK did not retry it, nothing else went out
    assert {r.status for r in results} == {AnalysisStatus.FALLBACK} and overview is None
    assert all(r.error and r.error.startswith("out of credit at 127.0.0.1") for r in results)
    assert asked.value.kind == "billing" and [c.outcome for c in calls] == ["billing"]
    words = describe(asked.value)
    assert "out of credit at 127.0.0.1" in words and "5xx" not in words and "429" not in words
    said = fake.chat_requests[0]
    assert said.status == profile.out_of_credit[0]


async def test_calls_resume_after_the_pause_once_credit_is_back() -> None:
    now = [1000.0]
    async with FakeOpenAI(
        api_key=KEY, models=None, profile=DEEPSEEK, responder=responder()
    ) as fake:
        fake.out_of_credit = True
        model = llm(fake.url, clock=lambda: now[0])
        assert (await model.analyze(commit(1), "en")).status == AnalysisStatus.FALLBACK
        fake.out_of_credit = False
        assert (await model.analyze(commit(2), "en")).status == AnalysisStatus.FALLBACK
        assert len(fake.chat_requests) == 1
        now[0] += DISABLED_FOR
        assert model.disabled is None
        assert (await model.analyze(commit(3), "en")).status == AnalysisStatus.OK
        await model.aclose()
    assert len(fake.chat_requests) == 2 + fake.blank_answers_served


@pytest.mark.parametrize("status", [413, 422])
async def test_other_4xx_are_named_as_refusals_not_server_failures(status: int) -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Fault.server_error(status))
        model = llm(fake.url)
        result = await model.analyze(commit(1), "en")
        await model.aclose()
    assert result.error is not None and result.error.startswith(
        f"the endpoint refused the request (HTTP {status}:"
    )
    assert "5xx" not in result.error and len(fake.chat_requests) == 1


async def test_a_stream_only_model_is_named_with_the_setting_that_fixes_it() -> None:
    async with FakeOpenAI(
        api_key=KEY, models=None, profile=QWEN3_THINKING, responder=responder()
    ) as fake:
        model = llm(fake.url, model="qwen3-32b")
        results = await analyse_all(model, [commit(n) for n in range(1, 4)], "en", concurrency=3)
        await model.aclose()
        fixed = llm(fake.url, model="qwen3-32b", extra_body={"enable_thinking": False})
        ok = await fixed.analyze(commit(4), "en")
        text = await fixed.complete_text([{"role": "user", "content": "Hi?"}], "en")
        await fixed.aclose()
    assert {r.status for r in results} == {AnalysisStatus.FALLBACK}
    assert model.disabled is not None and model.disabled.kind == "stream_only"
    assert 'DIGEST_LLM_EXTRA_BODY={"enable_thinking": false}' in describe(model.disabled)
    assert ok.status == AnalysisStatus.OK and text[0] == "A quiet day."
    assert [r.body.get("enable_thinking") for r in fake.chat_requests] == [None, False, False]


async def test_azure_classic_url_works_and_a_wrong_key_is_called_a_key() -> None:
    async with FakeOpenAI(
        api_key=KEY, models=["gpt-4o-mini"], profile=AZURE, responder=responder()
    ) as fake:
        good = llm(fake.url, api_version="2024-10-21")
        ok = await good.analyze(commit(1), "en")
        await good.aclose()
        bad = llm(fake.url, api_key="wrong-key-" + "k" * 20)
        refused = await bad.analyze(commit(2), "en")
        await bad.aclose()
    assert ok.status == AnalysisStatus.OK
    first = fake.chat_requests[0]
    assert first.path == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert first.query == {"api-version": "2024-10-21"}
    assert bad.disabled is not None and bad.disabled.kind == "auth"
    assert refused.error is not None and "OPENAI_API_KEY" in refused.error
    assert "invalid subscription key" in describe(bad.disabled)


async def test_an_old_api_version_for_a_reasoning_deployment_is_named() -> None:
    async with FakeOpenAI(
        api_key=KEY, models=["o4-mini"], profile=AZURE_REASONING, responder=responder()
    ) as fake:
        model = llm(fake.url)
        results = await analyse_all(model, [commit(n) for n in range(1, 4)], "en", concurrency=3)
        await model.aclose()
    assert {r.status for r in results} == {AnalysisStatus.FALLBACK}
    assert len(fake.chat_requests) == 1
    assert model.disabled is not None and "OPENAI_API_VERSION" in describe(model.disabled)


async def test_a_wrong_path_is_not_called_an_unknown_model() -> None:
    async with FakeOpenAI(api_key=KEY, responder=responder()) as fake:
        model = llm(fake.origin + "/api")
        result = await model.analyze(commit(1), "en")
        await model.aclose()
    assert model.disabled is not None and model.disabled.kind == "path"
    assert result.error is not None and "OPENAI_BASE_URL" in result.error
    assert "DIGEST_LLM_MODEL" not in describe(model.disabled)


async def test_a_broken_capability_store_costs_no_analysis(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/d.db")
    async with store.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE llm_capabilities"))
    try:
        async with FakeOpenAI(api_key=KEY, json_schema=False, responder=responder()) as fake:
            model = llm(fake.url, json_mode="json_schema", capabilities=store)
            results: list[AnalyzedCommit] = [await model.analyze(commit(n), "en") for n in (1, 2)]
            await model.aclose()
    finally:
        await store.close()
    assert [r.status for r in results] == [AnalysisStatus.OK] * 2
    assert [r.status for r in fake.chat_requests] == [400, 200, 200]  # learnt for the process


async def test_an_azure_deployment_without_max_completion_tokens_is_switched_to_max_tokens() -> (
    None
):
    old = dataclasses.replace(AZURE, max_completion_tokens_refused=AZURE_NO_MAX_COMPLETION)
    async with FakeOpenAI(
        api_key=KEY, models=["gpt-4o-mini"], profile=old, responder=responder()
    ) as fake:
        model = llm(fake.url, api_version="2024-06-01")
        results = await analyse_all(model, [commit(n) for n in range(1, 4)], "en", concurrency=3)
        await model.aclose()
    assert [r.status for r in results] == [AnalysisStatus.OK] * 3
    sent = [(r.status, "max_tokens" in r.body) for r in fake.chat_requests]
    assert sent == [(400, False), (200, True), (200, True), (200, True)]
