"""One chat completion on the wire: the request as this endpoint takes it, and the reply as read.

Pure: the request is a function of the messages, what the endpoint accepts and the settings;
the reply is read from the SDK's object once, here, so nothing else touches `choices[0]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openai.types.chat import ChatCompletion

from digest.analysis.capabilities import JsonMode, TokenParam
from digest.analysis.prompt import response_format
from digest.analysis.reasoning import strip_reasoning

# Fields some servers use for the chain of thought next to `content` (DeepSeek, vLLM before
# 0.11 and llama.cpp: reasoning_content; Ollama and newer vLLM: reasoning). Never shown.
_REASONING_FIELDS = ("reasoning_content", "reasoning")


def request_body(
    model: str,
    messages: list[dict[str, str]],
    *,
    json_mode: JsonMode | None,
    token_param: TokenParam,
    limit: int,
    extra_body: Mapping[str, Any],
) -> dict[str, Any]:
    """The keyword arguments of `chat.completions.create`. `json_mode` None: plain text."""
    kwargs: dict[str, Any] = {"model": model, "messages": messages, token_param: limit}
    if json_mode == "json_schema":
        kwargs["response_format"] = response_format()
    elif json_mode == "json_object":
        kwargs["response_format"] = {"type": "json_object"}
    if extra_body:
        kwargs["extra_body"] = dict(extra_body)
    return kwargs


@dataclass(frozen=True)
class Reply:
    """What one completion said, its thinking removed, and what it cost."""

    text: str
    raw: str  # the content as received (answer.py looks there too when the text holds no JSON)
    finish_reason: str | None
    thought: bool  # the model reasoned first (a reasoning field, <think>, reasoning tokens)
    tokens_in: int
    tokens_out: int  # billed output: the reasoning tokens are in it

    @property
    def cut_off(self) -> bool:
        return self.finish_reason == "length"


def read_reply(completion: ChatCompletion) -> Reply:
    usage = completion.usage
    tokens_in = usage.prompt_tokens if usage else 0
    tokens_out = usage.completion_tokens if usage else 0
    details = usage.completion_tokens_details if usage else None
    hidden = bool(details and details.reasoning_tokens)
    if not completion.choices:
        return Reply("", "", None, hidden, tokens_in, tokens_out)
    choice = completion.choices[0]
    message = choice.message
    extra = message.model_extra or {}
    field = any(isinstance(extra.get(name), str) and extra[name] for name in _REASONING_FIELDS)
    raw = message.content or ""
    cleaned = strip_reasoning(raw)
    return Reply(
        cleaned.text,
        raw,
        choice.finish_reason,
        hidden or field or cleaned.thought,
        tokens_in,
        tokens_out,
    )
