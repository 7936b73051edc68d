"""The fake OpenAI server, driven by the real `openai.AsyncOpenAI` over loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from openai.types.shared_params.response_format_json_schema import JSONSchema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from digest.models import Analysis
from tests.fakes.openai import Answer, FakeOpenAI, Fault, instance_of, misfit_json
from tests.waiting import HANG, until

MODEL = "gpt-4o-mini"
JSON_MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Answer in JSON."},
    {"role": "user", "content": "Grade this commit: fix typo in README"},
]


class Area(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=3)
    note: str | None


class Review(BaseModel):
    """Strict-mode shaped: every property required, no extra keys."""

    model_config = ConfigDict(extra="forbid")
    kinds: list[Literal["feature", "bugfix", "docs"]] = Field(min_length=1, max_length=2)
    importance: Literal["high", "medium", "low"]
    score: int = Field(ge=3, le=9)
    confidence: float = Field(gt=0.5, lt=1)
    breaking: bool
    areas: list[Area] = Field(min_length=2)
    first: Area


def review_format(model: type[BaseModel] = Review, strict: bool = True) -> ResponseFormatJSONSchema:
    schema = model.model_json_schema()
    spec: JSONSchema = {"name": model.__name__, "schema": schema, "strict": strict}
    return {"type": "json_schema", "json_schema": spec}


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def client_for(fake: FakeOpenAI, *, max_retries: int = 0, **kwargs: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=fake.url, api_key=fake.api_key or "any", max_retries=max_retries, **kwargs
    )


async def ask(client: openai.AsyncOpenAI, **kwargs: Any) -> ChatCompletion:
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("messages", JSON_MESSAGES)
    completion = await client.chat.completions.create(**kwargs)
    assert isinstance(completion, ChatCompletion)
    return completion


def content_of(completion: ChatCompletion) -> str:
    content = completion.choices[0].message.content
    assert content is not None
    return content


async def test_json_schema_request_gets_a_schema_valid_answer(fake: FakeOpenAI) -> None:
    async with client_for(fake) as client:
        completion = await ask(client, response_format=review_format())
    review = Review.model_validate_json(content_of(completion))
    assert len(review.areas) == 2
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == MODEL
    body = fake.chat_requests[0].body
    assert body["response_format"]["json_schema"]["name"] == "Review"
    assert fake.completions_served == 1


async def test_sdk_parse_helper_sends_a_strict_schema_the_fake_accepts(fake: FakeOpenAI) -> None:
    async with client_for(fake) as client:
        completion = await client.chat.completions.parse(
            model=MODEL, messages=JSON_MESSAGES, response_format=Analysis
        )
    assert isinstance(completion.choices[0].message.parsed, Analysis)
    sent = fake.chat_requests[0].body["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True


class Loose(BaseModel):
    """A default leaves `note` out of the plain schema's `required`: strict mode refuses it."""

    model_config = ConfigDict(extra="forbid")
    summary: str
    note: str = ""


async def test_strict_schema_with_optional_property_is_refused(fake: FakeOpenAI) -> None:
    async with client_for(fake) as client:
        with pytest.raises(openai.BadRequestError, match="Missing 'note'"):
            await ask(client, response_format=review_format(Loose))
        completion = await ask(client, response_format=review_format(Loose, strict=False))
    assert Loose.model_validate_json(content_of(completion)).summary == "fake"


async def test_json_object_answers_the_default_dict_or_the_script() -> None:
    async with FakeOpenAI(default_json={"importance": "low"}) as fake:
        fake.script({"importance": "high"})
        async with client_for(fake) as client:
            scripted = await ask(client, response_format={"type": "json_object"})
            default = await ask(client, response_format={"type": "json_object"})
            no_word: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
            with pytest.raises(openai.BadRequestError, match="json"):
                await ask(client, messages=no_word, response_format={"type": "json_object"})
    assert json.loads(content_of(scripted)) == {"importance": "high"}
    assert json.loads(content_of(default)) == {"importance": "low"}


async def test_scripted_answers_come_in_order_with_their_usage(fake: FakeOpenAI) -> None:
    fake.script("one", Answer("two", prompt_tokens=100, completion_tokens=7), "three")
    async with client_for(fake) as client:
        answers = [await ask(client) for _ in range(3)]
        fallback = await ask(client)
    assert [content_of(a) for a in answers] == ["one", "two", "three"]
    assert content_of(fallback) == "OK"
    usage = answers[1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (100, 7, 107)
    estimated = answers[0].usage
    text = "".join(str(m["content"]) for m in JSON_MESSAGES)
    assert estimated is not None and estimated.prompt_tokens == len(text) // 4
    assert fake.prompt_tokens_served == 3 * (len(text) // 4) + 100
    assert fake.pending == 0


async def test_responder_sees_the_request_json(fake: FakeOpenAI) -> None:
    fake.responder = lambda body: Answer(f"model={body['model']} n={len(body['messages'])}")
    async with client_for(fake) as client:
        assert content_of(await ask(client)) == f"model={MODEL} n=2"


async def test_rate_limit_with_retry_after_is_retried_by_the_sdk(fake: FakeOpenAI) -> None:
    fake.script(Fault.rate_limit(retry_after=0.05), "after the wait")
    async with client_for(fake, max_retries=2) as client:
        completion = await ask(client)
    assert content_of(completion) == "after the wait"
    first, second = fake.chat_requests
    assert (first.status, second.status) == (429, 200)
    assert first.fault == Fault.rate_limit(0.05)
    assert second.headers["x-stainless-retry-count"] == "1"


async def test_rate_limit_headers_and_error_shape(fake: FakeOpenAI) -> None:
    fake.script(Fault.rate_limit(retry_after=2))
    async with client_for(fake) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            await ask(client)
    headers = caught.value.response.headers
    assert headers["retry-after"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert caught.value.code == "rate_limit_exceeded"


async def test_server_error_then_success_is_retried(fake: FakeOpenAI) -> None:
    fake.script(Fault.server_error(), "fine now")
    async with client_for(fake, max_retries=1) as client:
        assert content_of(await ask(client)) == "fine now"
    assert [r.status for r in fake.chat_requests] == [500, 200]


async def test_wrong_key_is_an_authentication_error(fake: FakeOpenAI) -> None:
    async with openai.AsyncOpenAI(base_url=fake.url, api_key="sk-wrong", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await ask(client)
    assert caught.value.code == "invalid_api_key"
    record = fake.requests[0]
    assert record.auth_ok is False and record.status == 401
    assert "authorization" not in record.headers
    assert "sk-wrong" not in repr(record)
    assert fake.completions_served == 0


async def test_unknown_model_is_not_found(fake: FakeOpenAI) -> None:
    async with client_for(fake) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            await ask(client, model="gpt-nope")
        models = [m.id async for m in client.models.list()]
    assert caught.value.code == "model_not_found"
    assert models == [MODEL]


async def test_provider_without_json_schema_refuses_it() -> None:
    async with FakeOpenAI(json_schema=False) as fake, client_for(fake) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await ask(client, response_format=review_format())
        completion = await ask(client, response_format={"type": "json_object"})
    assert caught.value.param == "response_format"
    assert json.loads(content_of(completion)) == {"answer": "fake"}


async def test_provider_without_any_json_mode_refuses_json_object() -> None:
    async with FakeOpenAI(json_schema=False, json_object=False) as fake, client_for(fake) as client:
        with pytest.raises(openai.BadRequestError):
            await ask(client, response_format={"type": "json_object"})
        assert content_of(await ask(client)) == "OK"


async def test_finish_reason_length_is_passed_through(fake: FakeOpenAI) -> None:
    fake.script(Answer('{"summary": "cut', finish_reason="length"), Fault.truncated())
    async with client_for(fake) as client:
        scripted = await ask(client)
        truncated = await ask(client, response_format=review_format())
        capped = await ask(client, response_format=review_format(), max_completion_tokens=5)
    assert scripted.choices[0].finish_reason == "length"
    assert content_of(scripted) == '{"summary": "cut'
    assert truncated.choices[0].finish_reason == "length"
    with pytest.raises(ValidationError):
        Review.model_validate_json(content_of(truncated))
    assert capped.choices[0].finish_reason == "length" and len(content_of(capped)) == 20


async def test_malformed_and_misfit_answers(fake: FakeOpenAI) -> None:
    fake.script(Fault.malformed(), Fault.misfit())
    async with client_for(fake) as client:
        malformed = await ask(client, response_format=review_format())
        misfit = await ask(client, response_format=review_format())
    assert content_of(malformed) == "{not json"
    json.loads(content_of(misfit))
    with pytest.raises(ValidationError):
        Review.model_validate_json(content_of(misfit))
    assert [r.fault for r in fake.chat_requests] == [Fault.malformed(), Fault.misfit()]


async def test_hang_ends_in_a_client_timeout(fake: FakeOpenAI) -> None:
    fake.script(Fault.hang())
    async with client_for(fake, timeout=0.5) as client:
        with pytest.raises(openai.APITimeoutError):
            await asyncio.wait_for(ask(client), HANG)
    await until(lambda: fake.in_flight == 0, what="the server to see the client go away")
    assert fake.chat_requests[0].status == 499


async def test_stopping_the_server_ends_a_hang() -> None:
    fake = FakeOpenAI()
    await fake.start()
    fake.script(Fault.hang())
    async with client_for(fake) as client:
        request = asyncio.create_task(ask(client))
        await asyncio.wait_for(fake.wait_for_requests(1), HANG)
        await asyncio.wait_for(fake.stop(), HANG)
        with pytest.raises(openai.APIError):
            await asyncio.wait_for(request, HANG)


async def test_max_in_flight_counts_concurrent_requests() -> None:
    async with FakeOpenAI(latency=0.2, hold=8) as fake, client_for(fake) as client:
        await asyncio.gather(*(ask(client) for _ in range(8)))
        assert fake.max_in_flight == 8
        await ask(client)
    assert fake.max_in_flight == 8 and fake.in_flight == 0
    assert fake.completions_served == 9


async def test_random_faults_repeat_with_the_same_seed() -> None:
    statuses: list[list[int | None]] = []
    for _ in range(2):
        faults = {Fault.server_error(): 0.3, Fault.rate_limit(0.01): 0.2}
        async with FakeOpenAI(random_faults=faults, seed=7) as fake:
            async with client_for(fake) as client:
                for _ in range(20):
                    with contextlib.suppress(openai.APIStatusError):
                        await ask(client)
            statuses.append([r.status for r in fake.chat_requests])
    assert statuses[0] == statuses[1]
    assert {200, 429, 500} <= set(statuses[0])


class Node(BaseModel):
    name: str = Field(max_length=2)
    children: list[Node]
    parent: Node | None
    pair: tuple[int, Literal["a", "b"]]
    tags: set[Literal["x", "y", "z"]] = Field(min_length=2)
    ratio: float = Field(multiple_of=0.25, gt=1)
    when: str = Field(json_schema_extra={"format": "date-time"})


@pytest.mark.parametrize("model", [Review, Analysis, Node])
def test_instance_of_pydantic_schemas_validates(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    model.model_validate(instance_of(schema))
    with pytest.raises(ValidationError):
        model.model_validate_json(misfit_json(schema))
