"""Provider profiles for the fake OpenAI-compatible server: each behaves as its provider documents.

A profile is where a provider differs from OpenAI's own API: the URL shape, how the key travels,
which JSON modes and token parameters it takes (and the exact 400 it gives for the others), where
a model's thinking goes and whether it counts against the token limit, which request fields it
insists on, and how it says that the account is out of credit. Every quirk names its source
(a documentation page; "issue:" where the behaviour is a reported one).

    async with FakeOpenAI(profile=DEEPSEEK_REASONER, models=["deepseek-reasoner"]) as fake:
        ...  # fake.url is the base URL the provider documents, on 127.0.0.1
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorShape = tuple[int, dict[str, Any]]  # HTTP status, the JSON body
Thinking = Literal["none", "tags", "closing_tag", "reasoning_content", "reasoning", "hidden"]
_THOUGHT = "Okay, let me look at this commit step by step before I answer. "


def error(
    status: int,
    message: str,
    type_: str | None = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> ErrorShape:
    """OpenAI's error body, which the compatible providers copy (with their own codes)."""
    return status, {"error": {"message": message, "type": type_, "param": param, "code": code}}


OPENAI_BAD_KEY = error(401, "Incorrect API key provided.", code="invalid_api_key")
OPENAI_NO_SCHEMA = error(
    400,
    "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
    param="response_format",
)
OPENAI_NO_OBJECT = error(
    400,
    "Invalid parameter: 'response_format' of type 'json_object' is not supported with this model.",
    param="response_format",
)
AZURE_BAD_KEY: ErrorShape = (
    401,
    {
        "error": {
            "code": "401",
            "message": "Access denied due to invalid subscription key or wrong API endpoint. "
            "Make sure to provide a valid key for an active subscription and use a correct "
            "regional API endpoint for your resource.",
        }
    },
)
_PAYMENT_REQUIRED = error(402, "Insufficient Balance")
AZURE_NOT_FOUND: ErrorShape = (404, {"error": {"code": "404", "message": "Resource not found"}})
AZURE_NO_DEPLOYMENT: ErrorShape = (
    404,
    {
        "error": {
            "code": "DeploymentNotFound",
            "message": "The API deployment for this resource does not exist. If you created the "
            "deployment within the last 5 minutes, please wait a moment and try again.",
        }
    },
)


@dataclass(frozen=True)
class Rendered:
    """The assistant message as the provider sends it, and what it billed."""

    message: dict[str, Any]
    finish_reason: str
    completion_tokens: int
    reasoning_tokens: int


@dataclass(frozen=True)
class Profile:
    name: str
    base_path: str = "/v1"  # the documented base URL's path; "{deployment}" is filled in
    aliases: tuple[str, ...] = ()  # other base paths serving the same API
    deployment: str | None = None  # classic Azure: the deployment in the URL path
    auth: Literal["bearer", "api-key", "either"] = "bearer"
    bad_key: ErrorShape = OPENAI_BAD_KEY
    min_api_version: str | None = None  # classic Azure: api-version required, at least this
    json_schema: bool = True
    json_object: bool = True
    schema_refused: ErrorShape = OPENAI_NO_SCHEMA
    object_refused: ErrorShape = OPENAI_NO_OBJECT
    max_tokens_refused: ErrorShape | None = None  # the documented 400 for `max_tokens`
    max_completion_tokens_refused: ErrorShape | None = None  # ... for `max_completion_tokens`
    thinking: Thinking = "none"
    thinking_tokens: int = 0  # how long the model thinks (it counts against the token limit)
    thinking_off: Mapping[str, Any] = field(default_factory=dict)  # the documented switch
    # Decoding constrained to the JSON schema from the first token: no thinking in JSON answers.
    json_constrained: bool = False
    blank_json_answers: int = 0  # the first N answers in a JSON mode come back blank
    needs: Mapping[str, Any] = field(default_factory=dict)  # fields the call is refused without
    needs_refused: ErrorShape | None = None
    out_of_credit: ErrorShape = _PAYMENT_REQUIRED
    sources: tuple[str, ...] = ()

    @property
    def routes(self) -> tuple[str, ...]:
        """The aiohttp routes of chat completions ("{deployment}" is a path variable)."""
        return tuple(f"{base}/chat/completions" for base in (self.base_path, *self.aliases))

    @property
    def url_path(self) -> str:
        """The path of the base URL the provider documents."""
        return self.base_path.replace("{deployment}", self.deployment or "")

    def refusal(self, body: Mapping[str, Any], query: Mapping[str, str]) -> ErrorShape | None:
        """The documented refusal this request gets before any model runs, or None."""
        if self.min_api_version is not None:
            version = query.get("api-version")
            if not version:
                return AZURE_NOT_FOUND
            if version < self.min_api_version:
                message = (
                    "Model {modelName} is enabled only for api versions "
                    f"{self.min_api_version} and later"
                )
                return 400, {"error": {"code": "BadRequest", "message": message}}
        for name, value in self.needs.items():
            if body.get(name) != value and self.needs_refused is not None:
                return self.needs_refused
        if self.max_tokens_refused is not None and "max_tokens" in body:
            return self.max_tokens_refused
        if self.max_completion_tokens_refused is not None and "max_completion_tokens" in body:
            return self.max_completion_tokens_refused
        fmt = body.get("response_format")
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind == "json_schema" and not self.json_schema:
            return self.schema_refused
        if kind == "json_object" and not self.json_object:
            return self.object_refused
        return None

    def thinks(self, body: Mapping[str, Any]) -> bool:
        if self.thinking == "none":
            return False
        if self.json_constrained and "response_format" in body:
            return False
        return not (
            self.thinking_off and all(body.get(k) == v for k, v in self.thinking_off.items())
        )

    def render(self, content: str, body: Mapping[str, Any], limit: int | None) -> Rendered:
        """The answer as this provider puts it: thinking first, and both within the limit."""
        budget = math.inf if limit is None else limit
        thought = self.thinking_tokens if self.thinks(body) else 0
        used = int(min(thought, budget))
        room = budget - thought
        finish = "stop"
        if math.ceil(len(content) / 4) > room:
            content = content[: int(max(0, room)) * 4]
            finish = "length"
        done = used == thought  # the thinking ended, so the answer (or part of it) follows
        text = (_THOUGHT * (used // 14 + 1))[: used * 4]
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if thought and self.thinking == "tags":
            message["content"] = f"<think>\n{text}\n" + (f"</think>\n\n{content}" if done else "")
        elif thought and self.thinking == "closing_tag":
            message["content"] = text + (f"\n</think>\n\n{content}" if done else "")
        elif thought and self.thinking in ("reasoning_content", "reasoning"):
            message[self.thinking] = text
        tokens = used + math.ceil(len(content) / 4)
        return Rendered(message, finish, tokens, used)


_OPENAI_DOCS = (
    "https://platform.openai.com/docs/api-reference/chat/create (max_tokens is deprecated and "
    "not compatible with o-series models; max_completion_tokens bounds visible and reasoning "
    "tokens)",
    "https://platform.openai.com/docs/guides/reasoning (reasoning tokens are billed as output "
    "and count against max_completion_tokens: an answer can be cut off before it starts)",
    "https://platform.openai.com/docs/guides/error-codes (429 'You exceeded your current quota, "
    "please check your plan and billing details', insufficient_quota)",
    "issue: openai/openai-python#2046 (400 \"Unsupported parameter: 'max_tokens' is not "
    "supported with this model. Use 'max_completion_tokens' instead.\", param max_tokens)",
)
_OPENAI_QUOTA = error(
    429,
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors.",
    type_="insufficient_quota",
    code="insufficient_quota",
)
_NO_MAX_TOKENS = error(
    400,
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    code="unsupported_parameter",
    param="max_tokens",
)

OPENAI = Profile("OpenAI", out_of_credit=_OPENAI_QUOTA, sources=_OPENAI_DOCS)
OPENAI_REASONING = Profile(
    "OpenAI reasoning (o-series)",
    max_tokens_refused=_NO_MAX_TOKENS,
    thinking="hidden",
    thinking_tokens=2_500,
    out_of_credit=_OPENAI_QUOTA,
    sources=_OPENAI_DOCS,
)

_AZURE_DOCS = (
    "https://learn.microsoft.com/azure/ai-foundry/openai/reference (POST "
    "{endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version=..., key in the "
    "api-key header)",
    "https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle (the v1 API at "
    "{endpoint}/openai/v1: no api-version; the OpenAI client with the key)",
    "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/reasoning (reasoning models take "
    "max_completion_tokens, not max_tokens; api-version 2024-12-01-preview or later)",
    "issue: microsoft/semantic-kernel#12268 (400 'Model {modelName} is enabled only for api "
    "versions 2024-12-01-preview and later')",
)
# Some deployments and API versions predate max_completion_tokens (issue: openai/openai-python#1724,
# BerriAI/litellm#8855): replace(AZURE, max_completion_tokens_refused=AZURE_NO_MAX_COMPLETION).
AZURE_NO_MAX_COMPLETION = error(
    400, "Unrecognized request argument supplied: max_completion_tokens", code=None
)
AZURE = Profile(
    "Azure OpenAI (classic URL)",
    base_path="/openai/deployments/{deployment}",
    deployment="gpt-4o-mini",
    auth="api-key",
    bad_key=AZURE_BAD_KEY,
    min_api_version="2024-06-01",
    sources=_AZURE_DOCS,
)
AZURE_REASONING = Profile(
    "Azure OpenAI reasoning deployment (classic URL)",
    base_path="/openai/deployments/{deployment}",
    deployment="o4-mini",
    auth="api-key",
    bad_key=AZURE_BAD_KEY,
    min_api_version="2024-12-01-preview",
    max_tokens_refused=_NO_MAX_TOKENS,
    thinking="hidden",
    thinking_tokens=2_500,
    sources=_AZURE_DOCS,
)
AZURE_V1 = Profile(
    "Azure OpenAI (v1 URL)",
    base_path="/openai/v1",
    auth="either",
    bad_key=AZURE_BAD_KEY,
    sources=_AZURE_DOCS,
)

_DEEPSEEK_DOCS = (
    "https://api-docs.deepseek.com/ (base_url https://api.deepseek.com; /v1 also works)",
    "https://api-docs.deepseek.com/guides/json_mode (response_format json_object only; the API "
    "may occasionally return empty content)",
    "https://api-docs.deepseek.com/guides/reasoning_model (reasoning_content beside content; "
    "max_tokens includes the chain of thought)",
    "https://api-docs.deepseek.com/quick_start/error_codes (402 Insufficient Balance)",
    "issue: bytedance/deer-flow#545 (400 'This response_format type is unavailable now')",
)
_DEEPSEEK_NO_SCHEMA = error(400, "This response_format type is unavailable now")
DEEPSEEK = Profile(
    "DeepSeek (chat)",
    base_path="",
    aliases=("/v1",),
    json_schema=False,
    schema_refused=_DEEPSEEK_NO_SCHEMA,
    blank_json_answers=1,
    out_of_credit=error(402, "Insufficient Balance", type_="unknown_error"),
    sources=_DEEPSEEK_DOCS,
)
DEEPSEEK_REASONER = Profile(
    "DeepSeek (reasoner)",
    base_path="",
    aliases=("/v1",),
    json_schema=False,
    schema_refused=_DEEPSEEK_NO_SCHEMA,
    thinking="reasoning_content",
    thinking_tokens=3_000,
    out_of_credit=error(402, "Insufficient Balance", type_="unknown_error"),
    sources=_DEEPSEEK_DOCS,
)

_DASHSCOPE_DOCS = (
    "https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope "
    "(base URL https://dashscope.aliyuncs.com/compatible-mode/v1)",
    "https://www.alibabacloud.com/help/en/model-studio/deep-thinking (enable_thinking through "
    "extra_body; the thinking goes to reasoning_content)",
    "https://www.alibabacloud.com/help/en/model-studio/error-code (400 InvalidParameter "
    "'parameter.enable_thinking must be set to false for non-streaming calls'; 400 Arrearage "
    "'Access denied, please make sure your account is in good standing.')",
)
_ARREARAGE: ErrorShape = (
    400,
    {
        "error": {
            "code": "Arrearage",
            "param": None,
            "message": "Access denied, please make sure your account is in good standing.",
            "type": "Arrearage",
        }
    },
)
QWEN = Profile(
    "Qwen (DashScope)",
    base_path="/compatible-mode/v1",
    out_of_credit=_ARREARAGE,
    sources=_DASHSCOPE_DOCS,
)
QWEN3_THINKING = Profile(
    "Qwen3 thinking models (DashScope)",
    base_path="/compatible-mode/v1",
    thinking="reasoning_content",
    thinking_tokens=1_500,
    thinking_off={"enable_thinking": False},
    needs={"enable_thinking": False},
    needs_refused=error(
        400,
        "parameter.enable_thinking must be set to false for non-streaming calls",
        code="invalid_parameter_error",
    ),
    out_of_credit=_ARREARAGE,
    sources=_DASHSCOPE_DOCS,
)

MOONSHOT = Profile(
    "Moonshot (Kimi)",
    json_schema=False,
    schema_refused=error(400, "Invalid request: response_format.type json_schema is not supported"),
    out_of_credit=(
        429,
        {
            "error": {
                "message": "Your account org-fake<ak-fake> is suspended, please check your plan "
                "and billing details",
                "type": "exceeded_current_quota_error",
            }
        },
    ),
    sources=(
        "https://platform.moonshot.cn/docs/guide/use-json-mode-feature-of-kimi-api "
        "(response_format json_object)",
        "https://platform.moonshot.cn/docs/api/chat (errors: 429 exceeded_current_quota_error "
        "'Your account ... is suspended, please check your plan and billing details')",
    ),
)

ZHIPU = Profile(
    "Zhipu (GLM)",
    base_path="/api/paas/v4",
    thinking="reasoning_content",
    thinking_tokens=1_200,
    thinking_off={"thinking": {"type": "disabled"}},
    out_of_credit=(429, {"error": {"code": "1113", "message": "余额不足或无可用资源包,请充值。"}}),
    sources=(
        "https://docs.bigmodel.cn/cn/api/introduction (base URL "
        "https://open.bigmodel.cn/api/paas/v4, OpenAI-compatible)",
        "https://docs.bigmodel.cn/cn/guide/capabilities/thinking (GLM-4.5 and later think by "
        "default; thinking.type disabled turns it off; reasoning_content)",
        "https://docs.z.ai/api-reference/api-code (1113: the account is in arrears)",
    ),
)

ARK = Profile(
    "Volcengine Ark (Doubao)",
    base_path="/api/v3",
    json_schema=False,
    schema_refused=error(
        400,
        "The parameter `response_format.type` specified in the request are not valid: "
        "json_schema is not supported by this model. Request id: fake",
        type_="BadRequest",
        code="InvalidParameter",
        param="response_format.type",
    ),
    thinking="reasoning_content",
    thinking_tokens=1_000,
    thinking_off={"thinking": {"type": "disabled"}},
    out_of_credit=error(
        403,
        "The request failed because your account has an overdue balance. Request ID: fake",
        type_="Forbidden",
        code="AccountOverdueError",
    ),
    sources=(
        "https://www.volcengine.com/docs/82379/1330626 (base URL "
        "https://ark.cn-beijing.volces.com/api/v3, OpenAI SDK compatible)",
        "https://www.volcengine.com/docs/82379/1449737 (deep thinking: thinking.type "
        "enabled/disabled/auto; reasoning_content)",
        "https://www.volcengine.com/docs/82379/1299023 (403 AccountOverdueError)",
    ),
)

OLLAMA = Profile(
    "Ollama",
    thinking="reasoning",
    thinking_tokens=800,
    sources=(
        "https://docs.ollama.com/api/openai-compatibility (base URL http://localhost:11434/v1; "
        "the key is required by clients but ignored; response_format json_schema; reasoning for "
        "thinking models)",
    ),
)
VLLM = Profile(
    "vLLM (with a reasoning parser)",
    thinking="reasoning",
    thinking_tokens=1_000,
    sources=(
        "https://docs.vllm.ai/en/latest/features/reasoning_outputs.html (--reasoning-parser puts "
        "the thinking in `reasoning`, formerly `reasoning_content`)",
    ),
)
VLLM_NO_PARSER = Profile(
    "vLLM (no reasoning parser, DeepSeek-R1)",
    thinking="closing_tag",
    thinking_tokens=1_200,
    json_constrained=True,
    sources=(
        "https://docs.vllm.ai/en/latest/features/reasoning_outputs.html (without "
        "--reasoning-parser the thinking stays in content)",
        "https://docs.vllm.ai/en/latest/features/structured_outputs.html (guided decoding "
        "constrains the whole output unless a reasoning parser separates the thinking)",
        "https://huggingface.co/deepseek-ai/DeepSeek-R1 (usage recommendations: the chat template "
        "starts the answer with '<think>\\n', so only '</think>' shows in the output)",
    ),
)
LLAMA_CPP = Profile(
    "llama.cpp server",
    thinking="tags",
    thinking_tokens=900,
    sources=(
        "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md "
        "(/v1/chat/completions; response_format json_object and json_schema; "
        "--reasoning-format none leaves <think>…</think> in content)",
    ),
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        OPENAI,
        OPENAI_REASONING,
        AZURE,
        AZURE_REASONING,
        AZURE_V1,
        DEEPSEEK,
        DEEPSEEK_REASONER,
        QWEN,
        QWEN3_THINKING,
        MOONSHOT,
        ZHIPU,
        ARK,
        OLLAMA,
        VLLM,
        VLLM_NO_PARSER,
        LLAMA_CPP,
    )
}
