"""What an endpoint's error means: a parameter it does not take (try the next one), an account
out of credit (stop calling), or a failure named for its real cause, with the provider's words.

Each provider words the same cause its own way; the shapes recognised here are the documented
ones (sources in tests/fakes/providers.py, which serves them):
- out of credit: HTTP 402 (DeepSeek "Insufficient Balance"), 429 `insufficient_quota`
  (OpenAI), 429/403 `exceeded_current_quota_error` (Moonshot), code 1113 (Zhipu), 400
  `Arrearage` (DashScope), 403 `AccountOverdueError` (Volcengine Ark);
- a refused parameter: 400 with `param` naming it (OpenAI, Azure), or a message naming it
  (DeepSeek "This response_format type is unavailable now", llama.cpp, vLLM, Ark).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import openai

from digest.errors import LLMFailure
from digest.redact import redact

Refused = Literal["response_format", "max_tokens", "max_completion_tokens"]
_TOKEN_PARAMS: tuple[Refused, ...] = ("max_tokens", "max_completion_tokens")

_BILLING_CODES = frozenset(
    {
        "insufficient_quota",
        "insufficient_balance",
        "insufficient_user_quota",
        "exceeded_current_quota_error",
        "arrearage",
        "accountoverdueerror",
        "operationdenied.serviceoverdue",
        "1113",
    }
)
_BILLING_RE = re.compile(
    r"insufficient[ _](?:balance|quota|credit|funds)|exceeded your current quota"
    r"|in arrears|overdue balance|out of credit|余额不足|欠费",
    re.IGNORECASE,
)
# A parameter the endpoint does not take at all (not a value it refuses: "max_tokens is too
# large" names the parameter too, and is not this).
_UNSUPPORTED_RE = re.compile(
    r"unsupported|not supported|does not support|unrecognized|unknown (?:parameter|field|argument)"
    r"|not allowed|not permitted|extra (?:inputs|fields)|use '?max_completion_tokens",
    re.IGNORECASE,
)
# A response_format the endpoint does not serve is worded more loosely.
_FORMAT_REFUSED_RE = re.compile(
    r"unsupported|not supported|does not support|unavailable|not valid|invalid|must be one of"
    r"|unrecognized|unknown|not allowed",
    re.IGNORECASE,
)
_FORMAT_WORDS_RE = re.compile(r"response_format|json_schema|json_object|json mode", re.IGNORECASE)
_STREAM_ONLY_RE = re.compile(
    r"enable_thinking|only supports? stream|only support stream|stream mode|non-streaming",
    re.IGNORECASE,
)
_API_VERSION_RE = re.compile(r"api[- ]version", re.IGNORECASE)
_MODEL_CODES = frozenset(
    {"model_not_found", "deploymentnotfound", "invalidendpointormodel.notfound", "1211"}
)


@dataclass(frozen=True)
class Sent:
    """What a request asked for that an endpoint may refuse."""

    response_format: bool
    token_param: str


class Refusal(Exception):
    """The endpoint refused one parameter another value may satisfy: retry, do not fail (not an
    error, hence not named one)."""

    def __init__(self, param: Refused, message: str) -> None:
        super().__init__(param, message)
        self.param: Refused = param
        self.message = message


def error_object(body: object) -> Mapping[str, Any]:
    """The error object of a response body, whether it came whole or already unwrapped."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        return inner if isinstance(inner, Mapping) else body
    return {}


def provider_message(body: object, fallback: str = "") -> str:
    """The provider's own words, redacted, on one line and short."""
    error = error_object(body)
    message = error.get("message") if error else None
    if not isinstance(message, str) or not message.strip():
        message = body if isinstance(body, str) else fallback
    line = " ".join(str(message).split())
    return redact(line)[:200]


def billing_problem(status: int, body: object) -> str | None:
    """The provider's message when `status` and `body` say the account is out of credit."""
    error = error_object(body)
    words = [str(error.get(key) or "") for key in ("code", "type", "status")]
    message = provider_message(body)
    if (
        status == 402
        or any(word.lower() in _BILLING_CODES for word in words)
        or _BILLING_RE.search(message)
    ):
        return message or f"HTTP {status}"
    return None


def classify(exc: openai.APIError, *, host: str, model: str, sent: Sent) -> Exception:
    """The exception to raise for `exc`: a Refusal to retry, or the LLMFailure it means."""
    if isinstance(exc, openai.APITimeoutError):
        return LLMFailure("timeout")
    if isinstance(exc, openai.APIConnectionError):
        return LLMFailure("unreachable", host)
    if not isinstance(exc, openai.APIStatusError):
        return LLMFailure("refused", redact(type(exc).__name__))
    status = exc.status_code
    message = provider_message(exc.body, fallback=f"HTTP {status}")
    billing = billing_problem(status, exc.body)
    if billing is not None:
        return LLMFailure("billing", billing, host)
    code = str(exc.code or "").lower()
    if status == 401:
        return LLMFailure("auth", message)
    if status == 403:
        return LLMFailure("forbidden", message)
    if status == 404:
        lowered = message.lower()
        named = code in _MODEL_CODES or model.lower() in lowered or "model" in lowered
        return LLMFailure("model", model) if named else LLMFailure("path", message)
    if status in (400, 422) or (status >= 500 and _FORMAT_WORDS_RE.search(message)):
        refusal = _refusal(exc, message, sent)
        if refusal is not None:
            return refusal
        if _STREAM_ONLY_RE.search(message):
            return LLMFailure("stream_only", message)
        if _API_VERSION_RE.search(message):
            return LLMFailure("api_version", message)
        return LLMFailure("refused", f"HTTP {status}: {message}")
    if status == 429:
        return LLMFailure("rate_limited", message)
    if status >= 500:
        return LLMFailure("server", f"HTTP {status}")
    return LLMFailure("refused", f"HTTP {status}: {message}")


def _refusal(exc: openai.APIStatusError, message: str, sent: Sent) -> Refusal | None:
    param = str(exc.param or "")
    format_named = param.startswith("response_format") or (
        not param
        and _FORMAT_WORDS_RE.search(message) is not None
        and _FORMAT_REFUSED_RE.search(message) is not None
    )
    # OpenAI's "'messages' must contain the word 'json'" names response_format, refuses nothing.
    if sent.response_format and format_named and "must contain the word" not in message:
        return Refusal("response_format", message)
    unsupported = _UNSUPPORTED_RE.search(message) is not None
    for token in _TOKEN_PARAMS:
        if sent.token_param == token and unsupported and (param == token or token in message):
            return Refusal(token, message)
    return None


def outcome(exc: openai.APIError) -> str:
    """A request's failure in a word (a metric label: a short, fixed set)."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "unreachable"
    if isinstance(exc, openai.APIStatusError):
        if billing_problem(exc.status_code, exc.body) is not None:
            return "billing"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return "auth"
        if isinstance(exc, openai.RateLimitError):
            return "rate_limited"
        if isinstance(exc, openai.NotFoundError):
            return "not_found"
        return "server_error" if exc.status_code >= 500 else "refused"
    return "error"
