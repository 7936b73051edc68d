"""A fake OpenAI-compatible chat completions server, on 127.0.0.1 with a random port.

The real `openai.AsyncOpenAI` talks to it through `base_url=fake.url`, so tests exercise the SDK's
own retries, timeouts and error classes. It answers `POST /v1/chat/completions` (scripted, or a
minimal instance of the request's JSON Schema), `GET /v1/models`, injects faults on demand and
records what it received.

    async with FakeOpenAI(latency=0.2) as fake:
        fake.script(Fault.rate_limit(0.05), {"summary": "ok"})
        client = openai.AsyncOpenAI(base_url=fake.url, api_key=fake.api_key)

Per request, in order: authentication (401), request shape (400), model (404), response_format
support (400), then one scripted item (`script()`); when the script is empty, a random fault
(`random_faults`, seeded) or else the `responder` or else a generated answer. Base `latency`
applies to answered requests only; 429 and 500 come back at once.

With a `profile` (tests/fakes/providers.py) the server behaves as that provider documents: its
URL shape and key header, its refusals, where its thinking goes, its out-of-credit answer
(`out_of_credit = True`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.providers import AZURE_NO_DEPLOYMENT, AZURE_NOT_FOUND, ErrorShape, Profile

FinishReason = Literal["stop", "length", "content_filter"]
FaultKind = Literal[
    "slow", "rate_limit", "server_error", "malformed", "misfit", "truncated", "hang"
]
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_CURRENT: contextvars.ContextVar[RecordedRequest] = contextvars.ContextVar("fake_openai_record")
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "email": "fake@example.invalid",
    "uri": "https://example.invalid/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


@dataclass(frozen=True)
class Answer:
    """One completion to serve; `content=None` means generate it (schema instance or default)."""

    content: str | None = None
    finish_reason: FinishReason = "stop"
    prompt_tokens: int | None = None  # None: len(message text) // 4
    completion_tokens: int | None = None  # None: ceil(len(content) / 4)
    delay: float = 0.0  # seconds, on top of the server's base latency


@dataclass(frozen=True)
class Fault:
    """A failure to inject. `seconds`: Retry-After for rate_limit, the wait for slow and hang."""

    kind: FaultKind
    seconds: float = 0.0
    status: int = 500

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", seconds)

    @classmethod
    def rate_limit(cls, retry_after: float = 1.0) -> Fault:
        return cls("rate_limit", retry_after, 429)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls("server_error", 0.0, status)

    @classmethod
    def malformed(cls) -> Fault:
        """A 200 whose content is not JSON."""
        return cls("malformed")

    @classmethod
    def misfit(cls) -> Fault:
        """A 200 whose content is JSON that does not fit the requested schema."""
        return cls("misfit")

    @classmethod
    def truncated(cls) -> Fault:
        """A 200 with half of the answer and finish_reason "length"."""
        return cls("truncated")

    @classmethod
    def hang(cls, seconds: float = 3600.0) -> Fault:
        """No answer for `seconds` (cut short when the client disconnects or the server stops)."""
        return cls("hang", seconds)


Scripted = Answer | Fault | str | dict[str, Any] | list[Any]
Responder = Callable[[dict[str, Any]], Scripted]


@dataclass
class RecordedRequest:
    """What arrived (the Authorization value is never kept) and what the fake did with it."""

    method: str
    path: str
    headers: dict[str, str]
    auth_ok: bool  # the Authorization header carried the expected key
    body: Any  # the parsed JSON body; None when absent or not JSON
    body_bytes: int
    received_at: float  # time.monotonic()
    status: int | None = None  # 499: the client went away before the answer
    finished_at: float | None = None
    fault: Fault | None = None
    query: dict[str, str] = field(default_factory=dict)
    content: str | None = None  # the message content served
    finish_reason: str | None = None


class FakeOpenAI:
    """An async context manager serving the OpenAI chat completions wire format."""

    def __init__(
        self,
        *,
        api_key: str | None = "sk-fake-key",
        models: Collection[str] | None = ("gpt-4o-mini",),
        json_schema: bool = True,
        json_object: bool = True,
        strict_schema_check: bool = True,
        require_json_word: bool = True,
        latency: float = 0.0,
        random_faults: Mapping[Fault, float] | None = None,
        seed: int = 0,
        responder: Responder | None = None,
        default_json: Mapping[str, Any] | None = None,
        default_text: str = "OK",
        context_window: int | None = None,
        max_body_bytes: int = 64 * 1024**2,
        profile: Profile | None = None,
        hold: int = 0,
    ) -> None:
        """`api_key=None` accepts any key and `models=None` any model (as Ollama does);
        `json_schema=False` (and `json_object=False`) answer such requests with a 400 as
        providers without that mode do; `strict_schema_check` rejects strict schemas that
        OpenAI rejects; `require_json_word` is OpenAI's rule for json_object mode."""
        self.api_key = api_key
        self.models = set(models) if models is not None else None
        self.profile = profile
        self.json_schema = json_schema and (profile is None or profile.json_schema)
        self.json_object = json_object and (profile is None or profile.json_object)
        self.out_of_credit = False  # a profile's billing error for every chat request
        self.blank_answers_served = 0
        self.strict_schema_check = strict_schema_check
        self.require_json_word = require_json_word
        self.latency = latency
        self.random_faults: dict[Fault, float] = dict(random_faults or {})
        self.responder = responder
        self.default_json: dict[str, Any] = dict(default_json or {"answer": "fake"})
        self.default_text = default_text
        self.context_window = context_window
        self.requests: list[RecordedRequest] = []
        self.completions_served = 0
        self.prompt_tokens_served = 0
        self.completion_tokens_served = 0
        self.in_flight = 0
        self.max_in_flight = 0
        # Every request waits, before it is answered, until `hold` requests have been in flight
        # at once: a test of concurrency waits for the event, never on the answers' latency.
        self.hold = hold
        self._flight = asyncio.Condition()
        self._rng = random.Random(seed)
        self._script: deque[Scripted] = deque()
        self._ids = itertools.count(1)
        self._max_body_bytes = max_body_bytes
        self._stopping = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeOpenAI is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def url(self) -> str:
        """The SDK's base_url (the profile's documented one, on this host)."""
        return self.origin + (self.profile.url_path if self.profile else "/v1")

    async def start(self) -> None:
        self._stopping.clear()
        app = web.Application(middlewares=[self._middleware], client_max_size=self._max_body_bytes)
        for route in self.profile.routes if self.profile else ("/v1/chat/completions",):
            app.router.add_post(route, self._chat)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model}", self._get_model)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        # handler_cancellation: a client that times out ends its request here too.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._stopping.set()  # ends every latency, slow, hang and hold wait
        async with self._flight:
            self._flight.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- controls and records ----------------------------------------------------------------

    def script(self, *items: Scripted) -> None:
        """Queue answers and faults, one consumed per valid chat request (str/dict: content)."""
        self._script.extend(items)

    async def wait_for_requests(self, count: int = 1) -> None:
        """Return once `count` requests (of any kind) have arrived."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)

    @property
    def pending(self) -> int:
        return len(self._script)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- HTTP --------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        received_at = time.monotonic()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        record: RecordedRequest | None = None
        try:
            async with self._flight:
                self._flight.notify_all()
                await self._flight.wait_for(
                    lambda: self.max_in_flight >= self.hold or self._stopping.is_set()
                )
            record, too_large = await self._record(request, received_at)
            _CURRENT.set(record)  # the handler runs in this task
            if too_large:
                response: web.StreamResponse = _error(
                    413, "The request body is too large.", "invalid_request_error"
                )
            elif not record.auth_ok:
                response = self._auth_error(request)
            else:
                response = await handler(request)
            record.status = response.status
            return response
        except asyncio.CancelledError:
            if record is not None:
                record.status = 499
            raise
        finally:
            self.in_flight -= 1
            if record is not None:
                record.finished_at = time.monotonic()

    async def _record(
        self, request: web.Request, received_at: float
    ) -> tuple[RecordedRequest, bool]:
        too_large = False
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raw, too_large = b"", True
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = request.headers
        secret = ("authorization", "api-key")
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in headers.items() if k.lower() not in secret},
            auth_ok=self._key_ok(request),
            body=body,
            body_bytes=request.content_length or len(raw),
            received_at=received_at,
            query=dict(request.query),
        )
        self.requests.append(record)
        async with self._arrived:
            self._arrived.notify_all()
        return record, too_large

    def _key_ok(self, request: web.Request) -> bool:
        """The key in the header the provider reads it from (Azure: `api-key`)."""
        if self.api_key is None:
            return True
        bearer = request.headers.get("Authorization") == f"Bearer {self.api_key}"
        header = request.headers.get("api-key") == self.api_key
        style = self.profile.auth if self.profile else "bearer"
        return {"bearer": bearer, "api-key": header, "either": bearer or header}[style]

    def _auth_error(self, request: web.Request) -> web.Response:
        if self.profile is not None:
            return _shaped(self.profile.bad_key)
        if "Authorization" not in request.headers:
            return _error(401, "You didn't provide an API key.", "invalid_request_error")
        return _error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )

    async def _unknown(self, request: web.Request) -> web.Response:
        message = f"Invalid URL ({request.method} {request.path})"
        return _error(404, message, "invalid_request_error")

    async def _list_models(self, request: web.Request) -> web.Response:
        data = [_model_json(name) for name in sorted(self.models or ())]
        return web.json_response({"object": "list", "data": data})

    async def _get_model(self, request: web.Request) -> web.Response:
        name = request.match_info["model"]
        if self.models is not None and name not in self.models:
            return _model_not_found(name)
        return web.json_response(_model_json(name))

    async def _chat(self, request: web.Request) -> web.Response:
        record = _CURRENT.get()
        body = record.body
        if not isinstance(body, dict):
            return _error(
                400, "We could not parse the JSON body of your request.", "invalid_request_error"
            )
        problem = self._check(body, request.match_info.get("deployment"))
        if problem is not None:
            return problem
        item = self._next_item(body)
        while isinstance(item, Fault) and item.kind in ("slow", "hang"):
            record.fault = item
            await self._pause(item.seconds)
            if self._stopping.is_set():
                return _error(503, "The server is shutting down.", "server_error")
            item = self._answer_source(body)
        if isinstance(item, Fault):
            record.fault = item
            if item.kind == "rate_limit":
                return _rate_limited(item.seconds)
            if item.kind == "server_error":
                message = "The server had an error while processing your request. Sorry about that!"
                return _error(item.status, message, "server_error")
        answer = item if isinstance(item, Answer) else Answer()
        await self._pause(self.latency + answer.delay)
        if self._stopping.is_set():
            return _error(503, "The server is shutting down.", "server_error")
        return self._complete(record, body, answer)

    # -- decisions -----------------------------------------------------------------------------

    def _check(self, body: dict[str, Any], deployment: str | None = None) -> web.Response | None:
        """The 400s and 404s a real endpoint gives before it runs the model."""
        if self.profile is not None:
            refused = self._profile_check(body, deployment)
            if refused is not None:
                return refused
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            return _error(400, "You must provide a model parameter.", "invalid_request_error")
        if not isinstance(messages, list) or not messages:
            return _error(
                400,
                "Missing required parameter: 'messages'.",
                "invalid_request_error",
                param="messages",
            )
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in _ROLES:
                return _error(
                    400,
                    f"Invalid value for 'messages[{i}].role'.",
                    "invalid_request_error",
                    param=f"messages[{i}].role",
                )
        if body.get("stream"):
            return _error(400, "The fake does not stream.", "invalid_request_error", param="stream")
        if deployment is None and self.models is not None and model not in self.models:
            return _model_not_found(model)
        fmt = body.get("response_format")
        if fmt is not None:
            problem = self._check_format(fmt, messages)
            if problem is not None:
                return _error(400, problem, "invalid_request_error", param="response_format")
        if self.context_window is not None:
            wanted = _prompt_tokens(messages) + (_max_tokens(body) or 0)
            if wanted > self.context_window:
                message = f"This model's maximum context length is {self.context_window} tokens."
                return _error(
                    400,
                    message,
                    "invalid_request_error",
                    "context_length_exceeded",
                    param="messages",
                )
        return None

    def _profile_check(self, body: dict[str, Any], deployment: str | None) -> web.Response | None:
        """The provider's own refusals, in the order it documents them."""
        assert self.profile is not None
        query = _CURRENT.get().query
        if self.profile.min_api_version is not None and not query.get("api-version"):
            return _shaped(AZURE_NOT_FOUND)
        if deployment is not None and self.models is not None and deployment not in self.models:
            return _shaped(AZURE_NO_DEPLOYMENT)
        if self.out_of_credit:
            return _shaped(self.profile.out_of_credit)
        refused = self.profile.refusal(body, query)
        return _shaped(refused) if refused is not None else None

    def _check_format(self, fmt: Any, messages: list[Any]) -> str | None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind == "text":
            return None
        if kind == "json_object":
            if not self.json_object:
                return "This response_format type is unavailable now."
            if self.require_json_word and "json" not in _message_text(messages).lower():
                return (
                    "'messages' must contain the word 'json' in some form, to use "
                    "'response_format' of type 'json_object'."
                )
            return None
        if kind != "json_schema":
            return f"Invalid value for 'response_format.type': {kind!r}."
        if not self.json_schema:
            return "Invalid parameter: 'response_format' of type 'json_schema' is not supported."
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            return "Missing required parameter: 'response_format.json_schema.name'."
        if not _NAME_RE.match(spec["name"]):
            return "Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$."
        schema = spec.get("schema")
        if not isinstance(schema, dict):
            return "Missing required parameter: 'response_format.json_schema.schema'."
        if spec.get("strict") and self.strict_schema_check:
            problem = strict_schema_problem(schema)
            if problem is not None:
                return f"Invalid schema for response_format '{spec['name']}': {problem}"
        return None

    def _next_item(self, body: dict[str, Any]) -> Answer | Fault:
        if self._script:
            return _as_item(self._script.popleft())
        draw = self._rng.random()
        total = 0.0
        for fault, probability in self.random_faults.items():
            total += probability
            if draw < total:
                return fault
        return self._answer_source(body)

    def _answer_source(self, body: dict[str, Any]) -> Answer | Fault:
        return _as_item(self.responder(body)) if self.responder is not None else Answer()

    def _complete(
        self, record: RecordedRequest, body: dict[str, Any], answer: Answer
    ) -> web.Response:
        fault = record.fault
        schema = _requested_schema(body)
        content = answer.content
        if content is None:
            content = self._generated(body, schema)
        finish_reason: str = answer.finish_reason
        if fault is not None and fault.kind == "malformed":
            content = "{not json"
        elif fault is not None and fault.kind == "misfit":
            content = misfit_json(schema)
        elif fault is not None and fault.kind == "truncated":
            content, finish_reason = content[: len(content) // 2], "length"
        limit = _max_tokens(body)
        message: dict[str, Any] = {"role": "assistant", "content": content}
        reasoning_tokens = 0
        if self.profile is not None:
            if "response_format" in body and (
                self.blank_answers_served < self.profile.blank_json_answers
            ):
                self.blank_answers_served += 1
                content = ""
            rendered = self.profile.render(content, body, limit)
            message, reasoning_tokens = rendered.message, rendered.reasoning_tokens
            if rendered.finish_reason == "length":
                finish_reason = "length"
            content = str(message.get("content") or "")
            counted = rendered.completion_tokens
        else:
            if limit is not None and math.ceil(len(content) / 4) > limit:
                content, finish_reason = content[: limit * 4], "length"
            message["content"] = content
            counted = math.ceil(len(content) / 4)
        prompt = answer.prompt_tokens
        prompt = _prompt_tokens(body["messages"]) if prompt is None else prompt
        completion = answer.completion_tokens
        completion = counted if completion is None else completion
        self.completions_served += 1
        self.prompt_tokens_served += prompt
        self.completion_tokens_served += completion
        record.content, record.finish_reason = content, finish_reason
        payload = {
            "id": f"chatcmpl-fake{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
            "choices": [
                {
                    "index": 0,
                    "message": {**message, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": reasoning_tokens,
                    "audio_tokens": 0,
                },
            },
        }
        headers = {"x-request-id": payload["id"].replace("chatcmpl", "req"), **_rate_headers(1)}
        return web.json_response(payload, headers=headers)

    def _generated(self, body: dict[str, Any], schema: dict[str, Any] | None) -> str:
        if schema is not None:
            return json.dumps(instance_of(schema), ensure_ascii=False)
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_object":
            return json.dumps(self.default_json, ensure_ascii=False)
        return self.default_text

    async def _pause(self, seconds: float) -> None:
        """Sleep, but never past the server's stop."""
        if seconds > 0 and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)


# -- wire helpers --------------------------------------------------------------------------------


def _error(
    status: int, message: str, type_: str, code: str | None = None, *, param: str | None = None
) -> web.Response:
    error = {"message": message, "type": type_, "param": param, "code": code}
    return web.json_response({"error": error}, status=status)


def _shaped(shape: ErrorShape) -> web.Response:
    status, body = shape
    return web.json_response(body, status=status)


def _model_not_found(model: str) -> web.Response:
    message = f"The model `{model}` does not exist or you do not have access to it."
    return _error(404, message, "invalid_request_error", "model_not_found")


def _model_json(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1700000000, "owned_by": "fake"}


def _rate_headers(remaining: int, reset: float = 0.0) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": str(remaining),
        "x-ratelimit-reset-requests": f"{reset:g}s",
        "x-ratelimit-limit-tokens": "1000000",
        "x-ratelimit-remaining-tokens": str(remaining * 1000),
        "x-ratelimit-reset-tokens": f"{reset:g}s",
    }


def _rate_limited(retry_after: float) -> web.Response:
    response = _error(
        429,
        f"Rate limit reached for requests. Please try again in {retry_after:g}s.",
        "requests",
        "rate_limit_exceeded",
    )
    response.headers["Retry-After"] = f"{retry_after:g}"
    response.headers.update(_rate_headers(0, retry_after))
    return response


def _as_item(item: Scripted) -> Answer | Fault:
    if isinstance(item, Answer | Fault):
        return item
    if isinstance(item, str):
        return Answer(content=item)
    return Answer(content=json.dumps(item, ensure_ascii=False))


def _message_text(messages: Sequence[Any]) -> str:
    parts: list[str] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p["text"] for p in content if isinstance(p, dict) and "text" in p)
    return "".join(parts)


def _prompt_tokens(messages: Sequence[Any]) -> int:
    return len(_message_text(messages)) // 4


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    return value if isinstance(value, int) else None


def _requested_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("json_schema", {}).get("schema")
        return schema if isinstance(schema, dict) else None
    return None


# -- JSON Schema -----------------------------------------------------------------------------------


def instance_of(
    schema: Mapping[str, Any],
    root: Mapping[str, Any] | None = None,
    *,
    variant: int = 0,
    depth: int = 0,
) -> Any:
    """A minimal instance of `schema` (required properties only, minItems items, first enum).

    Covers what pydantic emits: $ref/$defs, anyOf/oneOf/allOf, const, enum, type lists, object,
    array (items, prefixItems, min/maxItems, uniqueItems), string (min/maxLength, common
    formats; not `pattern`), integer/number bounds and multipleOf, boolean, null.
    """
    root = schema if root is None else root
    if depth > 64:
        raise ValueError("schema recursion has no finite instance")
    if "$ref" in schema:
        target = _resolve(root, schema["$ref"])
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return instance_of(merged, root, variant=variant, depth=depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][variant % len(schema["enum"])]
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(root, part["$ref"]) if "$ref" in part else part
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return instance_of(merged, root, variant=variant, depth=depth + 1)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            real = [o for o in options if o.get("type") != "null"]
            choice = real[0] if real and (depth < 16 or len(real) == len(options)) else options[-1]
            return instance_of(choice, root, variant=variant, depth=depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else None
    if kind == "object":
        props = schema.get("properties", {})
        return {
            name: instance_of(props.get(name, {}), root, depth=depth + 1)
            for name in schema.get("required", [])
        }
    if kind == "array":
        prefix = schema.get("prefixItems", [])
        items = schema.get("items")
        items = items if isinstance(items, dict) else {}
        count = schema.get("minItems", 0)
        return [
            instance_of(prefix[i] if i < len(prefix) else items, root, variant=i, depth=depth + 1)
            for i in range(count)
        ]
    if kind == "string":
        text = _FORMATS.get(schema.get("format", ""), "fake" + (str(variant) if variant else ""))
        text = text[: schema.get("maxLength", len(text))]
        return text + "x" * max(0, schema.get("minLength", 0) - len(text))
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer", variant)
    if kind == "boolean":
        return variant % 2 == 1
    return None


def _number(schema: Mapping[str, Any], integer: bool, variant: int) -> float | int:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")

    def fits(v: float) -> bool:
        return (
            (lo is None or v >= lo)
            and (hi is None or v <= hi)
            and (xlo is None or v > xlo)
            and (xhi is None or v < xhi)
            and (not integer or float(v).is_integer())
            and (step is None or math.isclose(v / step, round(v / step)))
        )

    bottom = lo if lo is not None else xlo
    top = hi if hi is not None else xhi
    candidates: list[float] = [variant, 0]
    for edge in (bottom, top):
        if edge is not None:
            candidates += [edge, edge + 1, edge - 1, math.ceil(edge), math.floor(edge)]
    if bottom is not None and top is not None:
        candidates += [(bottom + top) / 2, math.ceil((bottom + top) / 2)]
    if step is not None:
        candidates = [math.ceil(c / step) * step for c in candidates] + candidates
    for value in candidates:
        if fits(value):
            return int(value) if integer else float(value)
    raise ValueError(f"no number fits {dict(schema)}")


def misfit_json(schema: Mapping[str, Any] | None) -> str:
    """Valid JSON that does not fit `schema` (a required property missing, or the wrong type)."""
    if schema is None:
        return json.dumps({"unexpected": "field"})
    value = instance_of(schema)
    if isinstance(value, dict) and value:
        value.pop(next(iter(value)))
        return json.dumps(value)
    return json.dumps(12345 if isinstance(value, str) else "misfit")


def strict_schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why OpenAI would refuse `schema` with strict=true, or None (its documented rules)."""
    if schema.get("type") != "object" or "anyOf" in schema:
        return "schema must be a JSON Schema of 'type: \"object\"', got a different root."
    return _strict_walk(schema, ())


def _strict_walk(node: Any, context: tuple[str, ...]) -> str | None:
    if not isinstance(node, dict):
        return None
    where = f"In context={context}, "
    if "$ref" in node and len(node) > 1:
        extra = sorted(k for k in node if k != "$ref")
        return f"{where}$ref cannot have keywords {set(extra)}."
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            return f"{where}'additionalProperties' is required to be supplied and to be false."
        props = node.get("properties", {})
        missing = [name for name in props if name not in node.get("required", [])]
        if missing:
            return (
                f"{where}'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
    children: list[tuple[tuple[str, ...], Any]] = []
    for key in ("properties", "$defs", "definitions"):
        children += [((*context, key, k), v) for k, v in node.get(key, {}).items()]
    for key in ("anyOf", "allOf", "oneOf", "prefixItems"):
        children += [((*context, key, str(i)), v) for i, v in enumerate(node.get(key, []))]
    if "items" in node:
        children.append(((*context, "items"), node["items"]))
    for path, child in children:
        problem = _strict_walk(child, path)
        if problem is not None:
            return problem
    return None


def _resolve(root: Mapping[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = root
    for key in ref[2:].split("/"):
        node = node[key.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not point at a schema")
    return node


__all__ = [
    "Answer",
    "FakeOpenAI",
    "Fault",
    "RecordedRequest",
    "instance_of",
    "misfit_json",
    "strict_schema_problem",
]
