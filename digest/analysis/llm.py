"""The LLM analyzer: any OpenAI-compatible endpoint, structured, bounded, never a half answer.

One call per commit (plus at most one repair); when it still fails the heuristic's analysis stands
in, marked FALLBACK with a short reason, so a digest always goes out on time.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from digest.analysis.heuristic import HeuristicAnalyzer
from digest.analysis.overview import Overview, clean_overview, overview_messages
from digest.analysis.post_rules import apply_post_rules
from digest.analysis.prompt import (
    PROMPT_VERSION,
    SCHEMA_VERSION,
    Budget,
    analysis_json_schema,
    build_user_prompt,
    repair_prompt,
    response_format,
    system_prompt,
)
from digest.errors import LLMFailure
from digest.models import Analysis, AnalysisStatus, AnalyzedCommit, Commit, Language
from digest.redact import redact

JsonMode = Literal["json_schema", "json_object"]

# Providers whose OpenAI-compatible API is known to accept `json_schema` response formats.
_JSON_SCHEMA_HOSTS = ("api.openai.com", "openai.azure.com")
_JSON_OBJECT_HOSTS = ("deepseek.com", "dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com")
_FENCE_RE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def default_json_mode(base_url: str | None) -> JsonMode:
    """json_schema for OpenAI, Ollama and vLLM (local ports); json_object for DeepSeek, Qwen
    (DashScope) and any endpoint we do not know, since every compatible server takes that."""
    host = (urlsplit(base_url).hostname or "").lower() if base_url else "api.openai.com"
    if host.endswith(_JSON_SCHEMA_HOSTS):
        return "json_schema"
    if host.endswith(_JSON_OBJECT_HOSTS):
        return "json_object"
    port = urlsplit(base_url).port if base_url else None
    if port in (11434, 8000):  # Ollama, vLLM defaults: both support json_schema
        return "json_schema"
    return "json_object"


@dataclass(frozen=True)
class LLMConfig:
    model: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    json_mode: JsonMode | None = None  # None: default_json_mode(base_url)
    timeout: float = 120.0  # one analysis, retries included
    request_timeout: float = 60.0  # one HTTP request
    max_retries: int = 2  # the SDK's, honouring Retry-After
    max_output_tokens: int = 2_000
    budget: Budget = field(default_factory=Budget)

    @property
    def mode(self) -> JsonMode:
        return self.json_mode or default_json_mode(self.base_url)


@dataclass(frozen=True)
class Answer:
    analysis: Analysis
    raw: str
    tokens_in: int
    tokens_out: int


@dataclass(frozen=True)
class LLMCall:
    """One chat completion request, as it went: for metrics (the bot turns these into them)."""

    model: str
    seconds: float
    outcome: str  # "ok", or why the request failed: "auth", "rate_limited", "timeout", ...
    tokens_in: int = 0
    tokens_out: int = 0


class LLMAnalyzer:
    """Implements digest.analysis.base.Analyzer over `openai.AsyncOpenAI`."""

    def __init__(
        self,
        config: LLMConfig,
        *,
        client: AsyncOpenAI | None = None,
        on_call: Callable[[LLMCall], None] | None = None,
    ) -> None:
        self.config = config
        self.name = f"llm:{config.model}"
        self._mode: JsonMode = config.mode
        self._client = client or AsyncOpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.request_timeout,
            max_retries=config.max_retries,
        )
        # Set after an error that every further call would repeat (a refused key, no such model).
        self.disabled: LLMFailure | None = None
        self.calls = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.failures: list[LLMFailure] = []
        # Told of every request once it is answered, failed or cancelled.
        self.on_call = on_call
        self._heuristic = HeuristicAnalyzer()

    @property
    def fingerprint(self) -> str:
        return f"{self.name}|prompt={PROMPT_VERSION}|schema={SCHEMA_VERSION}"

    async def aclose(self) -> None:
        await self._client.close()

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        started = time.perf_counter()
        # The heuristic's view: a hint for the model, and the stand-in if the model fails.
        hint = (await self._heuristic.analyze(commit, language)).analysis
        parts = build_user_prompt(
            commit, language=language, budget=self.config.budget, heuristic_hint=hint
        )
        try:
            if self.disabled is not None:
                raise self.disabled
            async with asyncio.timeout(self.config.timeout):
                answer = await self._ask(parts.text, language)
        except TimeoutError:
            failure = LLMFailure("timeout", f"after {self.config.timeout:g} s")
        except LLMFailure as exc:
            failure = exc
        else:
            analysis = apply_post_rules(answer.analysis, commit, language=language)
            return AnalyzedCommit(
                commit=commit,
                analysis=analysis,
                analyzer=self.name,
                prompt_version=PROMPT_VERSION,
                language=language,
                coverage=parts.coverage,
                tokens_in=answer.tokens_in,
                tokens_out=answer.tokens_out,
                latency_ms=round((time.perf_counter() - started) * 1000),
                status=AnalysisStatus.OK,
                raw_output=answer.raw,
            )
        if failure.disables_endpoint:
            self.disabled = failure
        self.failures.append(failure)
        return AnalyzedCommit(
            commit=commit,
            analysis=hint,
            analyzer="heuristic",
            language=language,
            coverage=parts.coverage,
            latency_ms=round((time.perf_counter() - started) * 1000),
            status=AnalysisStatus.FALLBACK if hint is not None else AnalysisStatus.FAILED,
            error=str(failure),
        )

    async def _ask(self, user_text: str, language: Language) -> Answer:
        """One call, and one repair call when the answer does not fit the schema."""
        messages: list[dict[str, str]] = [
            {"role": "system", "content": self._system(language)},
            {"role": "user", "content": user_text},
        ]
        tokens_in = tokens_out = 0
        for attempt in range(2):
            content, used_in, used_out = await self._complete(messages, language)
            tokens_in, tokens_out = tokens_in + used_in, tokens_out + used_out
            try:
                analysis = parse_analysis(content)
            except (ValueError, ValidationError) as exc:
                if attempt == 1:
                    raise LLMFailure("invalid") from None
                messages += [
                    {"role": "assistant", "content": content},
                    {"role": "user", "content": repair_prompt(_brief_error(exc))},
                ]
                continue
            return Answer(analysis, content, tokens_in, tokens_out)
        raise LLMFailure("invalid")  # not reached: the loop returns or raises

    def _system(self, language: Language) -> str:
        schema = analysis_json_schema() if self._mode == "json_object" else None
        return system_prompt(language, schema_in_prompt=schema)

    async def _complete(
        self, messages: list[dict[str, str]], language: Language, *, json: bool = True
    ) -> tuple[str, int, int]:
        """One chat completion: its text and token usage, or an LLMFailure."""
        self.calls += 1
        kwargs: dict[str, Any] = {"model": self.config.model, "messages": messages}
        if json:
            kwargs["response_format"] = (
                response_format() if self._mode == "json_schema" else {"type": "json_object"}
            )
        host = (urlsplit(self.config.base_url).hostname or "") if self.config.base_url else ""
        # OpenAI's newer models take only max_completion_tokens; other servers know max_tokens.
        limit_name = "max_completion_tokens" if host in ("", "api.openai.com") else "max_tokens"
        kwargs[limit_name] = self.config.max_output_tokens
        try:
            completion = await self._create(kwargs)
        except openai.AuthenticationError:
            raise LLMFailure("auth") from None
        except openai.NotFoundError:
            raise LLMFailure("model", self.config.model) from None
        except openai.RateLimitError:
            raise LLMFailure("rate_limited") from None
        except openai.BadRequestError as exc:
            if (
                json
                and self._mode == "json_schema"
                and getattr(exc, "param", None) == "response_format"
            ):
                self._mode = "json_object"  # a provider without json_schema: switch for good
                messages[0] = {"role": "system", "content": self._system(language)}
                return await self._complete(messages, language)
            raise LLMFailure("refused", _safe(exc)) from None
        except openai.APITimeoutError:
            raise LLMFailure("timeout") from None
        except openai.APIConnectionError:
            raise LLMFailure("unreachable") from None
        except openai.APIStatusError as exc:
            raise LLMFailure("server", f"HTTP {exc.status_code}") from None
        if not completion.choices:
            raise LLMFailure("empty")
        choice = completion.choices[0]
        if choice.finish_reason == "length":
            raise LLMFailure("truncated")
        content = choice.message.content or ""
        if not content.strip():
            raise LLMFailure("empty")
        usage = completion.usage
        used_in = usage.prompt_tokens if usage else 0
        used_out = usage.completion_tokens if usage else 0
        self.tokens_in += used_in
        self.tokens_out += used_out
        return content, used_in, used_out

    async def _create(self, kwargs: dict[str, Any]) -> ChatCompletion:
        """The request itself, timed and reported to `on_call` however it ends."""
        started = time.perf_counter()
        outcome = "cancelled"  # the analysis' own timeout, or a shutdown
        tokens_in = tokens_out = 0
        try:
            completion: ChatCompletion = await self._client.chat.completions.create(**kwargs)
            outcome = "ok"
            if completion.usage is not None:
                tokens_in = completion.usage.prompt_tokens
                tokens_out = completion.usage.completion_tokens
            return completion
        except openai.APIError as exc:
            outcome = _outcome(exc)
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            if self.on_call is not None:
                self.on_call(
                    LLMCall(
                        self.config.model,
                        time.perf_counter() - started,
                        outcome,
                        tokens_in,
                        tokens_out,
                    )
                )

    async def complete_text(
        self, messages: list[dict[str, str]], language: Language
    ) -> tuple[str, int, int]:
        """One plain-text completion (no JSON mode) within the analysis timeout: its text and
        token usage, or an LLMFailure. A failure every further call would repeat (a refused
        key, an unknown model) disables the endpoint, as for analyses."""
        if self.disabled is not None:
            raise self.disabled
        try:
            async with asyncio.timeout(self.config.timeout):
                return await self._complete(messages, language, json=False)
        except TimeoutError:
            raise LLMFailure("timeout", f"after {self.config.timeout:g} s") from None
        except LLMFailure as exc:
            if exc.disables_endpoint:
                self.disabled = exc
            raise

    async def overview(self, entries: list[AnalyzedCommit], language: Language) -> Overview | None:
        """Two to four sentences on what the day was about, from one call over its analyses."""
        if self.disabled is not None or not entries:
            return None
        messages = overview_messages(entries, language, self.config.budget.max_prompt_tokens)
        try:
            async with asyncio.timeout(self.config.timeout):
                content, used_in, used_out = await self._complete(messages, language, json=False)
        except TimeoutError:
            self.failures.append(LLMFailure("timeout", "overview"))
            return None
        except LLMFailure as exc:
            if exc.disables_endpoint:
                self.disabled = exc
            self.failures.append(exc)
            return None
        text = clean_overview(content)
        return Overview(text, used_in, used_out) if text else None


def parse_analysis(content: str) -> Analysis:
    """The model's text as an Analysis; tolerates a Markdown fence around the JSON."""
    text = content.strip()
    fenced = _FENCE_RE.match(text)
    if fenced:
        text = fenced.group(1)
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    return Analysis.model_validate(data)


def _brief_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:6]
        )
    return str(exc)[:300]


def _outcome(exc: openai.APIError) -> str:
    """A request's failure in a word (a metric label: a short, fixed set)."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "unreachable"
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return "auth"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.NotFoundError):
        return "not_found"
    if isinstance(exc, openai.APIStatusError):
        return "server_error" if exc.status_code >= 500 else "refused"
    return "error"


def _safe(exc: openai.APIStatusError) -> str:
    """A provider's error message, shortened and with anything secret-shaped removed."""
    message = getattr(exc, "message", "") or ""
    return redact(str(message).splitlines()[0] if message else "")[:200]
