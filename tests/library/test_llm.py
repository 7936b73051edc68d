"""The LLM analyzer against the fake OpenAI-compatible server: real SDK, real sockets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from digest.analysis.answer import parse_analysis
from digest.analysis.endpoint import parse_endpoint
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from digest.analysis.prompt import DATA_END, DATA_START, Budget, estimate_tokens
from digest.models import (
    AnalysisStatus,
    ChangeType,
    Commit,
    FileChange,
    FileStatus,
    Importance,
)
from digest.service import analyse_all
from tests.fakes.openai import Answer, FakeOpenAI, Fault

KEY = "sk-test-" + "k" * 24
WHEN = datetime(2026, 2, 5, 8, 0, tzinfo=UTC)


def commit(n: int = 1, title: str = "feat(api): add export endpoint", **kw: Any) -> Commit:
    files = kw.pop(
        "files",
        (
            FileChange(
                path="src/api/export.py",
                status=FileStatus.ADDED,
                additions=3,
                patch="@@ -0,0 +1,3 @@\n+def export():\n+    return 1\n+",
            ),
        ),
    )
    return Commit(
        repo="octo/demo",
        sha=f"{n:040x}",
        author_name="Alice",
        authored_at=WHEN,
        committed_at=WHEN,
        message=title,
        files=files,
        **kw,
    )


def answer_json(importance: str = "medium", summary: str = "新增导出接口。", **fields: Any) -> str:
    """A valid analysis as a model writes it; `fields` replace or add (e.g. `why`)."""
    return json.dumps(
        {
            "change_types": ["feature"],
            "importance": importance,
            "importance_reason": "新的用户可见能力。",
            "breaking_change": False,
            "security_relevant": False,
            "summary": summary,
            "affected_areas": [{"path_or_module": "src/api/export.py", "note": "新文件"}],
            "insights": {
                "architecture": None,
                "performance": None,
                "security": None,
                "maintainability": None,
            },
            "risks": [{"risk": "缺少测试", "severity": "low"}],
            "recommendations": ["为 src/api/export.py 的 export() 补充测试"],
            "confidence": "high",
            **fields,
        },
        ensure_ascii=False,
    )


def analyzer(fake: FakeOpenAI, **kw: Any) -> LLMAnalyzer:
    config = LLMConfig(
        model=kw.pop("model", "gpt-4o-mini"),
        api_key=kw.pop("api_key", KEY),
        base_url=fake.url,
        json_mode=kw.pop("json_mode", "json_schema"),
        max_retries=kw.pop("max_retries", 2),
        **kw,
    )
    return LLMAnalyzer(config)


async def test_json_schema_request_shape_and_a_valid_answer() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Answer(answer_json(), prompt_tokens=1234, completion_tokens=210))
        llm = analyzer(fake)
        result = await llm.analyze(commit(), "zh")
        await llm.aclose()
    assert result.status == AnalysisStatus.OK
    assert result.analyzer == "llm:gpt-4o-mini"
    assert result.analysis is not None
    assert result.analysis.summary == "新增导出接口。"
    assert (result.tokens_in, result.tokens_out) == (1234, 210)
    assert result.coverage is not None and result.coverage.files_total == 1
    (request,) = fake.chat_requests
    body = request.body
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    system, user = body["messages"]
    assert system["role"] == "system" and "简体中文" in system["content"]
    assert user["role"] == "user"
    assert DATA_START in user["content"] and DATA_END in user["content"]
    assert "src/api/export.py" in user["content"]


async def test_unknown_provider_gets_json_object_with_the_schema_in_the_prompt() -> None:
    async with FakeOpenAI(api_key=KEY, json_schema=False) as fake:
        fake.script(answer_json())
        llm = analyzer(fake, json_mode=None)  # auto: 127.0.0.1:<random> is unknown
        result = await llm.analyze(commit(), "en")
        await llm.aclose()
    assert result.status == AnalysisStatus.OK
    body = fake.chat_requests[0].body
    assert body["response_format"] == {"type": "json_object"}
    assert '"change_types"' in body["messages"][0]["content"]  # the schema, in the prompt


async def test_a_provider_refusing_json_schema_is_switched_to_json_object() -> None:
    async with FakeOpenAI(api_key=KEY, json_schema=False) as fake:
        fake.script(answer_json(), answer_json())
        llm = analyzer(fake, json_mode="json_schema")
        first = await llm.analyze(commit(1), "zh")
        second = await llm.analyze(commit(2), "zh")
        await llm.aclose()
    assert first.status == second.status == AnalysisStatus.OK
    kinds = [r.body["response_format"]["type"] for r in fake.chat_requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # switched once, for good


async def test_invalid_json_gets_one_repair_then_succeeds() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Fault.malformed(), answer_json())
        llm = analyzer(fake)
        result = await llm.analyze(commit(), "zh")
        await llm.aclose()
    assert result.status == AnalysisStatus.OK
    assert len(fake.chat_requests) == 2
    repair = fake.chat_requests[1].body["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "JSON" in repair[-1]["content"]


async def test_twice_invalid_falls_back_to_the_heuristic() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Fault.misfit(), Fault.malformed())
        llm = analyzer(fake)
        result = await llm.analyze(commit(), "zh")
        await llm.aclose()
    assert result.status == AnalysisStatus.FALLBACK
    assert result.analyzer == "heuristic"
    assert result.analysis is not None  # the heuristic stands in
    assert result.error is not None and "not valid JSON" in result.error
    assert len(fake.chat_requests) == 2


async def test_an_answer_cut_at_the_token_limit_is_never_published() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Fault.truncated())
        llm = analyzer(fake)
        result = await llm.analyze(commit(), "zh")
        await llm.aclose()
    assert result.status == AnalysisStatus.FALLBACK
    assert result.error is not None and "cut off" in result.error
    assert len(fake.chat_requests) == 1


async def test_a_wrong_key_stops_calling_and_says_which_setting() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        llm = analyzer(fake, api_key="sk-wrong-" + "w" * 20)
        results = await analyse_all(llm, [commit(n) for n in range(1, 6)], "zh", concurrency=1)
        await llm.aclose()
    assert {r.status for r in results} == {AnalysisStatus.FALLBACK}
    assert len(fake.chat_requests) == 1  # the first refusal disables the endpoint
    assert llm.disabled is not None and llm.disabled.kind == "auth"
    assert all("OPENAI_API_KEY" in (r.error or "") for r in results)


async def test_an_unknown_model_names_the_setting() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        llm = analyzer(fake, model="gpt-nope")
        result = await llm.analyze(commit(), "en")
        await llm.aclose()
    assert result.status == AnalysisStatus.FALLBACK
    assert result.error is not None and "DIGEST_LLM_MODEL" in result.error


async def test_429_with_retry_after_and_500_are_retried_by_the_sdk() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Fault.rate_limit(0.05), Fault.server_error(), answer_json())
        llm = analyzer(fake, max_retries=2)
        result = await llm.analyze(commit(), "zh")
        await llm.aclose()
    assert result.status == AnalysisStatus.OK
    assert len(fake.chat_requests) == 3


async def test_a_hanging_endpoint_times_out_into_a_fallback() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Fault.hang())
        llm = analyzer(fake, timeout=0.5, max_retries=0)
        result = await llm.analyze(commit(), "zh")
        await llm.aclose()
    assert result.status == AnalysisStatus.FALLBACK
    assert result.error is not None and "timed out" in result.error


async def test_concurrency_is_bounded() -> None:
    async with FakeOpenAI(api_key=None, latency=0.2, responder=lambda _: answer_json()) as fake:
        llm = analyzer(fake)
        first = await llm.analyze(commit(0), "zh")  # the first call goes alone
        fake.hold = 4  # then each answer waits until four are in flight: no timing decides it
        results = await analyse_all(llm, [commit(n) for n in range(1, 17)], "zh", concurrency=4)
        await llm.aclose()
    assert first.status == AnalysisStatus.OK
    assert all(r.status == AnalysisStatus.OK for r in results)
    assert fake.max_in_flight == 4
    assert [r.commit.sha for r in results] == [commit(n).sha for n in range(1, 17)]


async def test_post_rules_apply_to_the_model_answer() -> None:
    docs = commit(
        title="docs: explain the export endpoint",
        files=(FileChange(path="docs/export.md", status=FileStatus.MODIFIED, additions=10),),
    )
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(answer_json(importance="high"))
        llm = analyzer(fake)
        result = await llm.analyze(docs, "zh")
        await llm.aclose()
    assert result.analysis is not None
    assert result.analysis.importance == Importance.MEDIUM  # docs-only is capped at medium


async def test_secrets_never_leave_and_huge_diffs_stay_in_budget() -> None:
    token = "ghp_" + "A1b2C3d4" * 5
    huge = "@@ -1,1 +1,2000000 @@\n" + "".join(
        f"+line {i} of a very big file\n" for i in range(2_000_000)
    )
    files = (
        FileChange(
            path="src/config.py",
            status=FileStatus.MODIFIED,
            additions=1,
            patch=f'@@ -1 +1 @@\n+GITHUB_TOKEN = "{token}"\n',
        ),
        FileChange(path="src/big.py", status=FileStatus.MODIFIED, additions=2_000_000, patch=huge),
    )
    budget = Budget(max_prompt_tokens=8_000)
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(answer_json())
        llm = analyzer(fake, budget=budget)
        result = await llm.analyze(commit(title=f"chore: rotate {token}", files=files), "en")
        await llm.aclose()
    user = fake.chat_requests[0].body["messages"][1]["content"]
    assert token not in json.dumps(fake.chat_requests[0].body)
    assert estimate_tokens(user) <= budget.max_prompt_tokens
    assert result.coverage is not None and result.coverage.files_clipped >= 1
    assert len(user) < 100_000


def test_parse_analysis_accepts_a_fenced_answer_and_rejects_others() -> None:
    analysis = parse_analysis("```json\n" + answer_json() + "\n```")
    assert analysis.change_types == (ChangeType.FEATURE,)
    for bad in ("[]", "{}", "not json", '{"importance": "huge"}'):
        try:
            parse_analysis(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def default_json_mode(url: str | None) -> str:
    return parse_endpoint(url).default_json_mode()


def test_default_json_modes_by_provider() -> None:
    assert default_json_mode(None) == "json_schema"
    assert default_json_mode("https://api.openai.com/v1") == "json_schema"
    assert default_json_mode("https://api.deepseek.com") == "json_object"
    assert default_json_mode("https://dashscope.aliyuncs.com/compatible-mode/v1") == "json_object"
    assert default_json_mode("http://localhost:11434/v1") == "json_schema"
    assert default_json_mode("http://gpu-box:8000/v1") == "json_schema"
    assert default_json_mode("https://llm.internal.example/v1") == "json_object"


async def test_a_prompt_made_ahead_is_the_prompt_sent() -> None:
    """`prepare` makes the prompt before the commit's turn; what is sent is what `analyze`
    alone would have sent, and a commit changed since (its context attached) is made again."""
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(*(Answer(answer_json()) for _ in range(3)))
        llm = analyzer(fake)
        alone = await llm.analyze(commit(1), "zh")
        await llm.prepare(commit(2), "zh")
        ahead = await llm.analyze(commit(2), "zh")
        await llm.prepare(commit(3), "zh")
        changed = commit(3, title="fix(api): a different title")
        other = await llm.analyze(changed, "zh")
        await llm.aclose()
    assert alone.status == ahead.status == other.status == AnalysisStatus.OK
    first, second, third = (r.body["messages"][1]["content"] for r in fake.chat_requests)
    assert second == first.replace(commit(1).sha, commit(2).sha).replace(
        commit(1).short_sha, commit(2).short_sha
    )
    assert "a different title" in third
