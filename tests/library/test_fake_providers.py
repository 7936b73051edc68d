"""The fake's provider profiles, driven by the real SDK clients: each behaves as documented
(the sources are named in tests/fakes/providers.py)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from tests.fakes.openai import FakeOpenAI
from tests.fakes.providers import (
    ARK,
    AZURE,
    AZURE_REASONING,
    AZURE_V1,
    DEEPSEEK,
    DEEPSEEK_REASONER,
    LLAMA_CPP,
    MOONSHOT,
    OLLAMA,
    OPENAI,
    OPENAI_REASONING,
    QWEN,
    QWEN3_THINKING,
    VLLM,
    VLLM_NO_PARSER,
    ZHIPU,
    Profile,
)

KEY = "sk-prof-" + "p" * 24
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Answer in JSON."},
    {"role": "user", "content": "Grade this commit."},
]
JSON = {"type": "json_object"}


def client(fake: FakeOpenAI, **kw: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.url, api_key=KEY, max_retries=0, **kw)


async def ask(c: openai.AsyncOpenAI, model: str = "m", **kw: Any) -> ChatCompletion:
    completion = await c.chat.completions.create(model=model, messages=MESSAGES, **kw)
    assert isinstance(completion, ChatCompletion)
    return completion


async def test_azure_classic_takes_the_key_in_api_key_and_needs_an_api_version() -> None:
    async with FakeOpenAI(api_key=KEY, models=["gpt-4o-mini"], profile=AZURE) as fake:
        assert fake.url.endswith("/openai/deployments/gpt-4o-mini")
        azure = openai.AsyncAzureOpenAI(
            azure_endpoint=fake.origin,
            azure_deployment="gpt-4o-mini",
            api_version="2024-10-21",
            api_key=KEY,
            max_retries=0,
        )
        ok = await azure.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert ok.choices[0].message.content == "OK"
        # The plain client sends a Bearer key and no api-version: Azure says "key or endpoint".
        async with client(fake) as plain:
            with pytest.raises(openai.AuthenticationError) as caught:
                await ask(plain)
        assert "invalid subscription key or wrong API endpoint" in str(caught.value)
        headers = {"api-key": KEY}
        async with client(fake, default_headers=headers) as keyed:
            with pytest.raises(openai.NotFoundError, match="Resource not found"):
                await ask(keyed)
        other = openai.AsyncAzureOpenAI(
            azure_endpoint=fake.origin, api_version="2024-10-21", api_key=KEY, max_retries=0
        )
        with pytest.raises(openai.NotFoundError) as missing:
            await other.chat.completions.create(model="nope", messages=MESSAGES)
        assert missing.value.code == "DeploymentNotFound"
        await azure.close()
        await other.close()
    assert all("api-key" not in r.headers for r in fake.requests)  # never recorded


async def test_azure_reasoning_deployments_need_a_recent_api_version() -> None:
    async with FakeOpenAI(api_key=KEY, models=["o4-mini"], profile=AZURE_REASONING) as fake:
        old = openai.AsyncAzureOpenAI(
            azure_endpoint=fake.origin,
            azure_deployment="o4-mini",
            api_version="2024-10-21",
            api_key=KEY,
            max_retries=0,
        )
        with pytest.raises(openai.BadRequestError, match="enabled only for api versions"):
            await old.chat.completions.create(
                model="o4-mini", messages=MESSAGES, max_completion_tokens=100
            )
        await old.close()


async def test_azure_v1_takes_either_header() -> None:
    async with FakeOpenAI(api_key=KEY, models=["dep"], profile=AZURE_V1) as fake:
        assert fake.url.endswith("/openai/v1")
        async with client(fake) as bearer:
            assert (await ask(bearer, "dep")).choices[0].message.content == "OK"
        header = openai.AsyncOpenAI(
            base_url=fake.url, api_key="wrong", default_headers={"api-key": KEY}
        )
        async with header:
            assert (await ask(header, "dep")).choices[0].message.content == "OK"


@pytest.mark.parametrize("profile", [OPENAI_REASONING, AZURE_V1, OPENAI])
async def test_o_series_refuse_max_tokens_and_think_within_the_limit(profile: Profile) -> None:
    async with (
        FakeOpenAI(api_key=KEY, models=["o4-mini"], profile=profile) as fake,
        client(fake) as c,
    ):
        if profile.max_tokens_refused is not None:
            with pytest.raises(openai.BadRequestError) as caught:
                await ask(c, "o4-mini", max_tokens=100)
            assert caught.value.param == "max_tokens"
            assert caught.value.code == "unsupported_parameter"
        small = await ask(c, "o4-mini", max_completion_tokens=2000)
        large = await ask(c, "o4-mini", max_completion_tokens=16000)
    if profile.thinking == "hidden":
        assert (small.choices[0].finish_reason, small.choices[0].message.content) == ("length", "")
        assert small.usage is not None and small.usage.completion_tokens == 2000
        details = small.usage.completion_tokens_details
        assert details is not None and details.reasoning_tokens == 2000
        assert large.choices[0].message.content == "OK"
        assert large.usage is not None and large.usage.completion_tokens == 2500 + 1
    else:
        assert small.choices[0].message.content == large.choices[0].message.content == "OK"


async def test_deepseek_reasoner_thinks_in_reasoning_content_within_max_tokens() -> None:
    async with FakeOpenAI(api_key=KEY, profile=DEEPSEEK_REASONER, models=None) as fake:
        assert fake.url == fake.origin  # https://api.deepseek.com, no /v1 needed
        async with client(fake) as c:
            cut = await ask(c, "deepseek-reasoner", max_tokens=2000)
            whole = await ask(c, "deepseek-reasoner", max_tokens=16000)
            with pytest.raises(openai.BadRequestError, match="unavailable now"):
                await ask(c, response_format={"type": "json_schema", "json_schema": {"name": "x"}})
        v1 = openai.AsyncOpenAI(base_url=fake.origin + "/v1", api_key=KEY)
        async with v1:
            assert (await ask(v1, "deepseek-reasoner")).choices[0].message.content == "OK"
    assert cut.choices[0].finish_reason == "length" and cut.choices[0].message.content == ""
    assert "let me look" in str((cut.choices[0].message.model_extra or {})["reasoning_content"])
    assert whole.choices[0].message.content == "OK"
    assert whole.usage is not None and whole.usage.completion_tokens == 3000 + 1


async def test_deepseek_answers_blank_once_in_json_mode() -> None:
    async with FakeOpenAI(api_key=KEY, profile=DEEPSEEK, models=None) as fake, client(fake) as c:
        first = await ask(c, response_format=JSON)
        second = await ask(c, response_format=JSON)
        text = await ask(c)
    assert first.choices[0].message.content == ""
    assert second.choices[0].message.content == '{"answer": "fake"}'
    assert text.choices[0].message.content == "OK"


async def test_qwen3_on_dashscope_needs_thinking_off_for_a_whole_answer() -> None:
    async with FakeOpenAI(api_key=KEY, profile=QWEN3_THINKING, models=None) as fake:
        assert fake.url.endswith("/compatible-mode/v1")
        async with client(fake) as c:
            with pytest.raises(openai.BadRequestError, match="enable_thinking must be set"):
                await ask(c, "qwen3-32b")
            off = await ask(c, "qwen3-32b", extra_body={"enable_thinking": False})
    assert off.choices[0].message.content == "OK"
    assert "reasoning_content" not in (off.choices[0].message.model_extra or {})


@pytest.mark.parametrize(
    ("profile", "field"), [(OLLAMA, "reasoning"), (VLLM, "reasoning"), (ZHIPU, "reasoning_content")]
)
async def test_thinking_goes_to_its_field(profile: Profile, field: str) -> None:
    async with FakeOpenAI(api_key=None, profile=profile, models=None) as fake, client(fake) as c:
        done = await ask(c, max_tokens=2000)
    message = done.choices[0].message
    assert message.content == "OK" and "let me look" in str((message.model_extra or {})[field])


async def test_thinking_in_the_content_unless_decoding_is_constrained() -> None:
    async with (
        FakeOpenAI(api_key=None, profile=VLLM_NO_PARSER, models=None) as fake,
        client(fake) as c,
    ):
        text = await ask(c, max_tokens=2000)
        json_answer = await ask(c, max_tokens=2000, response_format=JSON)
    content = str(text.choices[0].message.content)
    assert "<think>" not in content and content.endswith("</think>\n\nOK")
    assert json_answer.choices[0].message.content == '{"answer": "fake"}'
    async with FakeOpenAI(api_key=None, profile=LLAMA_CPP, models=None) as fake, client(fake) as c:
        tagged = await ask(c, max_tokens=2000)
        cut = await ask(c, max_tokens=100)
    assert str(tagged.choices[0].message.content).startswith("<think>\nOkay, let me look")
    assert str(tagged.choices[0].message.content).endswith("</think>\n\nOK")
    assert "</think>" not in str(cut.choices[0].message.content)  # cut off while thinking
    assert cut.choices[0].finish_reason == "length"


@pytest.mark.parametrize(
    ("profile", "status", "words"),
    [
        (OPENAI, 429, "exceeded your current quota"),
        (DEEPSEEK, 402, "Insufficient Balance"),
        (QWEN, 400, "good standing"),
        (MOONSHOT, 429, "suspended"),
        (ZHIPU, 429, "余额不足"),
        (ARK, 403, "overdue balance"),
    ],
)
async def test_out_of_credit_as_each_provider_says_it(
    profile: Profile, status: int, words: str
) -> None:
    async with FakeOpenAI(api_key=KEY, profile=profile, models=None) as fake:
        fake.out_of_credit = True
        async with client(fake) as c:
            with pytest.raises(openai.APIStatusError) as caught:
                await ask(c)
    assert caught.value.status_code == status
    assert words in str(caught.value)
    assert [r.status for r in fake.chat_requests] == [status]


async def test_refused_json_modes_carry_the_providers_words() -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    for profile, words in ((MOONSHOT, "json_schema is not supported"), (ARK, "not valid")):
        async with FakeOpenAI(api_key=KEY, profile=profile, models=None) as fake, client(fake) as c:
            with pytest.raises(openai.BadRequestError, match=words):
                await ask(c, response_format=schema)
            assert (await ask(c, response_format=JSON)).choices[0].message.content
