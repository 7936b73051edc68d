"""Pure pieces of the LLM side: thinking removed, answers found and repaired within the schema,
endpoint URL shapes, billing errors recognised in each provider's words."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from digest.analysis.answer import find_json_object, parse_analysis, within_schema
from digest.analysis.endpoint import (
    DEFAULT_AZURE_API_VERSION,
    EndpointShapeError,
    parse_endpoint,
)
from digest.analysis.llm_errors import billing_problem, provider_message
from digest.analysis.reasoning import strip_reasoning
from digest.models import ChangeType, Importance
from tests.fakes.providers import PROFILES
from tests.library.test_llm import answer_json

THOUGHT = "Okay, let me look at this commit. The diff adds export()."


@pytest.mark.parametrize(
    ("content", "text", "thought"),
    [
        ("plain answer", "plain answer", False),
        (f"<think>\n{THOUGHT}\n</think>\n\nThe answer.", "The answer.", True),
        (f"  <THINK>{THOUGHT}</THINK><think>more</think> The answer.", "The answer.", True),
        (f"<thinking>{THOUGHT}</thinking>The answer.", "The answer.", True),
        (f"<think>\n{THOUGHT} and then the limit came", "", True),  # cut off while thinking
        (f"{THOUGHT}\n</think>\n\nThe answer.", "The answer.", True),  # R1's template opened it
        (
            "The parser strips <think>…</think> blocks.",
            "The parser strips <think>…</think> blocks.",
            False,
        ),
        (
            "<|channel|>analysis<|message|>thinking<|end|><|start|>assistant<|channel|>final"
            "<|message|>The answer.<|return|>",
            "The answer.",
            True,
        ),
        ("<|channel|>analysis<|message|>thinking, cut off", "", True),
    ],
)
def test_thinking_is_taken_out(content: str, text: str, thought: bool) -> None:
    cleaned = strip_reasoning(content)
    assert (cleaned.text, cleaned.thought) == (text, thought)


@given(st.text().filter(lambda t: "<" not in t and ">" not in t))
def test_text_without_tags_is_left_alone(text: str) -> None:
    assert strip_reasoning(text).text == text.strip()


@pytest.mark.parametrize(
    "content",
    [
        answer_json(),
        "```json\n" + answer_json() + "\n```",
        "Here is the analysis you asked for:\n\n```json\n"
        + answer_json()
        + "\n```\nHope it helps!",
        "Sure. " + answer_json() + " Let me know if you need more.",
        f"<think>{THOUGHT} {{not json}}</think>\n" + answer_json(),
        f'{THOUGHT} {{"draft": 1\n</think>\n```\n' + answer_json() + "\n```",
    ],
)
def test_the_answer_is_found_wherever_it_is(content: str) -> None:
    analysis = parse_analysis(content)
    assert analysis.summary == "新增导出接口。"


def test_an_answer_mentioning_think_tags_keeps_its_words() -> None:
    data = json.loads(answer_json())
    data["summary"] = "Strips </think> and <think> tags from model output."
    analysis = parse_analysis(json.dumps(data))
    assert analysis.summary == data["summary"]


def test_repairs_stay_within_the_schema() -> None:
    data: dict[str, Any] = json.loads(answer_json())
    data.update(
        change_types=["Bug Fix", "feat", "bugfix", "made-up"],
        importance="High",
        confidence=" LOW ",
        risks=[{"risk": f"r{i}", "severity": "Medium", "why": "extra"} for i in range(5)],
        recommendations=[f"do {i} in src/api/export.py" for i in range(4)],
        affected_areas=[{"path_or_module": f"m{i}", "note": "n", "score": 1} for i in range(8)],
        insights=None,
        mood="cheerful",
    )
    analysis = parse_analysis(json.dumps(data))
    assert analysis.change_types == (ChangeType.BUGFIX, ChangeType.FEATURE)
    assert analysis.importance == Importance.HIGH and analysis.confidence == "low"
    assert [r.risk for r in analysis.risks] == ["r0", "r1", "r2"]
    assert {r.severity for r in analysis.risks} == {Importance.MEDIUM}
    assert len(analysis.recommendations) == 3 and len(analysis.affected_areas) == 6
    assert analysis.insights.architecture is None


@pytest.mark.parametrize("missing", ["change_types", "importance", "importance_reason", "summary"])
def test_nothing_required_is_invented(missing: str) -> None:
    data = json.loads(answer_json())
    del data[missing]
    with pytest.raises(ValidationError):
        parse_analysis(json.dumps(data))
    assert missing not in within_schema(data)


@pytest.mark.parametrize("bad", ["", "no json here", "[1, 2]", '{"change_types": ["mystery"]}'])
def test_what_is_not_an_analysis_is_refused(bad: str) -> None:
    with pytest.raises((ValueError, ValidationError)):
        parse_analysis(bad)


def test_find_json_object_takes_the_first_object_that_parses() -> None:
    assert find_json_object('noise {broken {"a": 1} tail {"b": 2}') == {"a": 1}
    assert find_json_object("{}") == {}
    assert find_json_object("[]") is None


@pytest.mark.parametrize(
    ("url", "azure", "base", "deployment", "version"),
    [
        (None, "", "https://api.openai.com/v1", None, None),
        ("https://api.deepseek.com/chat/completions", "", "https://api.deepseek.com", None, None),
        (
            "https://r.openai.azure.com/openai/deployments/gpt4o",
            "classic",
            "https://r.openai.azure.com",
            "gpt4o",
            DEFAULT_AZURE_API_VERSION,
        ),
        (
            "https://r.openai.azure.com/openai/deployments/o3/chat/completions?api-version=2025-04-01-preview",
            "classic",
            "https://r.openai.azure.com",
            "o3",
            "2025-04-01-preview",
        ),
        (
            "https://r.openai.azure.com/",
            "classic",
            "https://r.openai.azure.com",
            None,
            DEFAULT_AZURE_API_VERSION,
        ),
        (
            "https://r.openai.azure.com/openai",
            "classic",
            "https://r.openai.azure.com",
            None,
            DEFAULT_AZURE_API_VERSION,
        ),
        (
            "https://r.cognitiveservices.azure.com/openai/v1/",
            "v1",
            "https://r.cognitiveservices.azure.com/openai/v1",
            None,
            None,
        ),
        (
            "https://gw.corp.example/aoai/openai/deployments/dep",
            "classic",
            "https://gw.corp.example/aoai",
            "dep",
            DEFAULT_AZURE_API_VERSION,
        ),
    ],
)
def test_endpoint_shapes(
    url: str | None, azure: str, base: str, deployment: str | None, version: str | None
) -> None:
    endpoint = parse_endpoint(url)
    assert (endpoint.azure, endpoint.url, endpoint.deployment, endpoint.api_version) == (
        azure,
        base,
        deployment,
        version,
    )


def test_an_api_version_setting_fills_in_what_the_url_leaves_out() -> None:
    assert parse_endpoint("https://r.openai.azure.com", "2024-12-01-preview").api_version == (
        "2024-12-01-preview"
    )
    pasted = "https://r.openai.azure.com/openai/deployments/d?api-version=2025-01-01-preview"
    assert parse_endpoint(pasted, "2024-12-01-preview").api_version == "2025-01-01-preview"


@pytest.mark.parametrize(
    "url",
    [
        "https://r.openai.azure.com/openai/deployments",
        "https://r.openai.azure.com/openai/deployments/d/completions",
        "https://r.openai.azure.com/v1",
        "https://r.openai.azure.com/openai/chat",
    ],
)
def test_a_wrong_azure_shape_is_named(url: str) -> None:
    with pytest.raises(EndpointShapeError) as caught:
        parse_endpoint(url)
    message = str(caught.value)
    assert "is not an Azure OpenAI URL" in message and "/openai/v1" in message
    assert message.count(".") >= 1 and "\n" not in message


def test_endpoint_keys_carry_no_credentials() -> None:
    endpoint = parse_endpoint("https://user:secret@llm.example:8443/v1/")
    assert endpoint.key("m") == "https://llm.example:8443/v1"
    classic = parse_endpoint("https://r.openai.azure.com")
    assert classic.key("dep") == "https://r.openai.azure.com/openai/deployments/dep"


def test_defaults_by_endpoint() -> None:
    assert parse_endpoint(None).default_token_param() == "max_completion_tokens"
    assert parse_endpoint("https://r.openai.azure.com/openai/v1").default_token_param() == (
        "max_completion_tokens"
    )
    assert parse_endpoint("https://api.deepseek.com").default_token_param() == "max_tokens"
    assert parse_endpoint("https://api.moonshot.cn/v1").default_json_mode() == "json_object"
    assert parse_endpoint("https://r.openai.azure.com").default_json_mode() == "json_schema"


@pytest.mark.parametrize("name", [n for n, p in PROFILES.items() if p.out_of_credit[0] != 402])
def test_every_providers_out_of_credit_answer_is_recognised(name: str) -> None:
    status, body = PROFILES[name].out_of_credit
    assert billing_problem(status, body) is not None
    assert billing_problem(status, body["error"]) is not None  # as the SDK unwraps it


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            429,
            {
                "error": {
                    "message": "Rate limit reached for requests",
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        (400, {"error": {"message": "max_tokens is too large: 100000."}}),
        (403, {"error": {"message": "Forbidden", "code": "AccessDenied"}}),
        (401, {"statusCode": 401, "message": "Access denied due to invalid subscription key"}),
    ],
)
def test_other_errors_are_not_billing(status: int, body: dict[str, Any]) -> None:
    assert billing_problem(status, body) is None


def test_provider_messages_are_one_redacted_line() -> None:
    key = "sk-" + "a" * 30
    said = provider_message({"error": {"message": f"bad key {key}\n  second line"}})
    assert said == "bad key [REDACTED] second line"
    assert provider_message({"statusCode": 401, "message": "Access denied"}) == "Access denied"
    assert provider_message("plain text body") == "plain text body"
