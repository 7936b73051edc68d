"""The LLM analyzer: any OpenAI-compatible endpoint, structured, bounded, never a half answer.

One call per commit (plus at most one repair); when it still fails the heuristic's analysis stands
in, marked FALLBACK with a short reason, so a digest always goes out on time. Around each call:
what the endpoint accepts is learnt and kept (capabilities.py), the request is shaped for it
(wire.py), thinking is taken out of what the model says (reasoning.py), the answer is found and
repaired within the schema (answer.py), and errors are named for their real cause
(llm_errors.py). The first call to an endpoint goes alone, so a refused key, an empty account or
a refused JSON mode costs one request, not one per commit in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from digest.analysis.answer import brief_error, parse_analysis
from digest.analysis.capabilities import (
    Capabilities,
    CapabilityStore,
    JsonMode,
    Learnt,
    TokenParam,
)
from digest.analysis.endpoint import open_client, parse_endpoint
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.analysis.llm_config import LLMCall, LLMConfig
from digest.analysis.llm_errors import Refusal, Sent, classify, outcome
from digest.analysis.llm_limits import LLMLimiter
from digest.analysis.overview import Overview, clean_overview, overview_messages
from digest.analysis.post_rules import apply_post_rules
from digest.analysis.prompt import (
    PROMPT_VERSION,
    SCHEMA_VERSION,
    analysis_json_schema,
    build_user_prompt,
    repair_prompt,
    system_prompt,
)
from digest.analysis.prompts_ahead import Made, PromptsAhead
from digest.analysis.tokens import estimate_tokens
from digest.analysis.wire import Reply, read_reply, request_body
from digest.errors import LLMFailure
from digest.models import Analysis, AnalysisStatus, AnalyzedCommit, Commit, Language

__all__ = ["DISABLED_FOR", "LLMAnalyzer", "LLMCall", "LLMConfig"]

T = TypeVar("T")
Messages = list[dict[str, str]]
# How long a failure that every call would repeat (a refused key, an empty account) stops all
# calls; then one call goes out alone to see whether it still holds (a topped-up account).
DISABLED_FOR = 600.0


@dataclass(frozen=True)
class Answer:
    analysis: Analysis
    raw: str
    tokens_in: int
    tokens_out: int


@dataclass
class Spent:
    """The tokens one analysis or answer cost, over all its requests (failed ones included)."""

    tokens_in: int = 0
    tokens_out: int = 0


class LLMAnalyzer:
    """Implements digest.analysis.base.Analyzer over the OpenAI SDK's async client."""

    def __init__(
        self,
        config: LLMConfig,
        *,
        client: AsyncOpenAI | None = None,
        on_call: Callable[[LLMCall], None] | None = None,
        capabilities: CapabilityStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        limiter: LLMLimiter | None = None,
    ) -> None:
        """`limiter`: the process's LLM budget; by default one of the config's concurrency and
        tokens per minute, which every digest this analyzer serves shares."""
        self.config = config
        self.limiter = limiter or LLMLimiter(config.concurrency, config.tokens_per_minute)
        self.name = f"llm:{config.model}"
        self.endpoint = parse_endpoint(config.base_url, config.api_version)
        self._client = client or open_client(
            self.endpoint,
            config.api_key,
            timeout=config.timeout,
            max_retries=config.max_retries,
        )
        defaults = Capabilities(
            self.endpoint.default_json_mode(), self.endpoint.default_token_param()
        )
        self.learnt = Learnt(
            self.endpoint.key(config.model),
            config.model,
            defaults,
            json_mode=config.json_mode,
            token_param=config.token_param,
            store=capabilities,
        )
        self.calls = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.failures: list[LLMFailure] = []
        # Told of every request once it is answered, failed or cancelled.
        self.on_call = on_call
        self._heuristic = HeuristicAnalyzer()
        self._clock = clock
        self._disabled: tuple[LLMFailure, float] | None = None
        self._first = asyncio.Lock()  # held by the first call, until it is answered
        self._contacted = False
        self._ahead = PromptsAhead()  # made by `prepare`, taken by `analyze`

    @property
    def fingerprint(self) -> str:
        return f"{self.name}|prompt={PROMPT_VERSION}|schema={SCHEMA_VERSION}"

    @property
    def disabled(self) -> LLMFailure | None:
        """The failure every call would repeat (a refused key, no such model, no credit), while
        it holds; calls are not made meanwhile."""
        if self._disabled is None:
            return None
        failure, until = self._disabled
        if self._clock() >= until:
            self._disabled = None
            return None
        return failure

    async def aclose(self) -> None:
        await self._client.close()

    # -- the three things asked of a model ------------------------------------------------------

    async def prepare(self, commit: Commit, language: Language) -> None:
        """The heuristic's view and the prompt, made ahead of the commit's turn."""
        if (commit.sha, language) not in self._ahead:
            self._ahead.keep(commit, language, await self._prompt(commit, language))

    async def _prompt(self, commit: Commit, language: Language) -> Made:
        # The heuristic's view: a hint for the model, and the stand-in if the model fails.
        hint = (await self._heuristic.analyze(commit, language)).analysis
        parts = build_user_prompt(
            commit, language=language, budget=self.config.budget, heuristic_hint=hint
        )
        return hint, parts

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        started = time.perf_counter()
        hint, parts = self._ahead.take(commit, language) or await self._prompt(commit, language)
        spent = Spent()
        try:
            async with self.limiter.slot():  # waiting for a turn is not part of the timeout
                answer = await self._guarded(lambda: self._analysis(parts.text, language, spent))
        except LLMFailure as failure:
            self.failures.append(failure)
            return AnalyzedCommit(
                commit=commit,
                analysis=hint,
                analyzer="heuristic",
                language=language,
                coverage=parts.coverage,
                tokens_in=spent.tokens_in,
                tokens_out=spent.tokens_out,
                latency_ms=round((time.perf_counter() - started) * 1000),
                status=AnalysisStatus.FALLBACK if hint is not None else AnalysisStatus.FAILED,
                error=str(failure),
            )
        return AnalyzedCommit(
            commit=commit,
            analysis=apply_post_rules(
                _grounded_why(answer.analysis, commit), commit, language=language
            ),
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

    async def overview(self, entries: list[AnalyzedCommit], language: Language) -> Overview | None:
        """Two to four sentences on what the day was about, from one call over its analyses."""
        if self.disabled is not None or not entries:
            return None
        messages = overview_messages(entries, language, self.config.budget.max_prompt_tokens)
        spent = Spent()
        try:
            async with self.limiter.slot():
                reply = await self._guarded(
                    lambda: self._complete(lambda _: messages, spent, json=False)
                )
        except LLMFailure as exc:
            self.failures.append(exc)
            return None
        text = clean_overview(reply.text)
        return Overview(text, spent.tokens_in, spent.tokens_out) if text else None

    async def complete_text(self, messages: Messages, language: Language) -> tuple[str, int, int]:
        """One plain-text answer (no JSON mode, thinking removed) within the analysis timeout:
        its text and token usage, or an LLMFailure. A failure every further call would repeat
        disables the endpoint, as for analyses."""
        spent = Spent()
        async with self.limiter.slot():
            reply = await self._guarded(
                lambda: self._complete(lambda _: messages, spent, json=False)
            )
        return reply.text, spent.tokens_in, spent.tokens_out

    # -- around every call: the first goes alone, a disabled endpoint is not called ------------

    async def _guarded(self, work: Callable[[], Awaitable[T]]) -> T:
        if not self._contacted:
            async with self._first:
                if not self._contacted:
                    try:
                        return await self._timed(work)
                    finally:
                        self._contacted = self.disabled is None
        return await self._timed(work)

    async def _timed(self, work: Callable[[], Awaitable[T]]) -> T:
        failure = self.disabled
        if failure is not None:
            raise failure
        try:
            async with asyncio.timeout(self.config.timeout):
                return await work()
        except TimeoutError:
            raise LLMFailure("timeout", f"after {self.config.timeout:g} s") from None
        except LLMFailure as exc:
            if exc.disables_endpoint:
                self._disabled = (exc, self._clock() + DISABLED_FOR)
                self._contacted = False  # when it lapses, one call goes alone again
            raise

    # -- one answer, through refusals, thinking and blanks ---------------------------------------

    async def _analysis(self, user_text: str, language: Language, spent: Spent) -> Answer:
        """One answer that fits the schema, with one repair call when it does not."""
        turns: Messages = []

        def messages_for(mode: JsonMode | None) -> Messages:
            schema = analysis_json_schema() if mode != "json_schema" else None
            system = system_prompt(language, schema_in_prompt=schema)
            return [
                {"role": "system", "content": system},
                {"role": "user", "content": user_text},
                *turns,
            ]

        for attempt in range(2):
            reply = await self._complete(messages_for, spent, json=True)
            try:
                analysis = parse_analysis(reply.raw)
            except (ValueError, ValidationError) as exc:
                if attempt == 1:
                    raise LLMFailure("invalid") from None
                turns += [
                    {"role": "assistant", "content": reply.text},
                    {"role": "user", "content": repair_prompt(brief_error(exc))},
                ]
                continue
            return Answer(analysis, reply.text, spent.tokens_in, spent.tokens_out)
        raise LLMFailure("invalid")  # not reached: the loop returns or raises

    async def _complete(
        self, messages_for: Callable[[JsonMode | None], Messages], spent: Spent, *, json: bool
    ) -> Reply:
        """A reply that is neither blank nor cut off. A refused JSON mode or token parameter
        is retried with the next one (and learnt); a thinking model cut off is retried once
        with the reasoning limit; a blank reply is asked again once."""
        now = await self.learnt.current()
        mode: JsonMode | None = now.json_mode if json else None
        token = now.token_param
        limit = self._limit(now.reasoning)
        switched = widened = asked_again = False
        while True:
            try:
                reply = await self._exchange(messages_for(mode), mode, token, limit)
            except Refusal as refusal:
                if refusal.param == "response_format" and mode is not None:
                    mode = await self.learnt.json_refused(mode)
                    if mode is not None:
                        continue
                elif refusal.param == token and not switched:
                    token, switched = await self.learnt.token_refused(token), True
                    continue
                raise LLMFailure("refused", refusal.message) from None
            spent.tokens_in += reply.tokens_in
            spent.tokens_out += reply.tokens_out
            if reply.cut_off:
                roomier = self._limit(True)
                if not widened and (reply.thought or not reply.text) and limit < roomier:
                    await self.learnt.thinks()
                    limit, widened = roomier, True
                    continue
                why = "; the model thought first" if reply.thought else ""
                raise LLMFailure("truncated", f"{limit} tokens{why}")
            if not reply.text:
                if not asked_again:
                    asked_again = True
                    continue
                raise LLMFailure("empty", "twice")
            return reply

    def _limit(self, reasoning: bool) -> int:
        normal = self.config.max_output_tokens
        return max(normal, self.config.reasoning_output_tokens) if reasoning else normal

    async def _exchange(
        self, messages: Messages, mode: JsonMode | None, token: TokenParam, limit: int
    ) -> Reply:
        """One request: its reply, or the Refusal / LLMFailure its error means."""
        failure = self.disabled
        if failure is not None:
            raise failure
        body = request_body(
            self.config.model,
            messages,
            json_mode=mode,
            token_param=token,
            limit=limit,
            extra_body=self.config.extra_body,
        )
        # Charged before it goes (with a tokens-per-minute limit): the prompt's offline
        # estimate and the output limit.
        estimate = 0
        if self.limiter.tokens_per_minute is not None:
            estimate = sum(estimate_tokens(m["content"]) for m in messages) + limit
        charge = await self.limiter.charge(estimate)
        self.calls += 1
        try:
            completion = await self._create(body)
        except openai.APIError as exc:
            sent = Sent(response_format=mode in ("json_schema", "json_object"), token_param=token)
            raise classify(
                exc, host=self.endpoint.host, model=self.config.model, sent=sent
            ) from None
        reply = read_reply(completion)
        if reply.tokens_in or reply.tokens_out:
            self.limiter.settle(charge, reply.tokens_in + reply.tokens_out)
        self.tokens_in += reply.tokens_in
        self.tokens_out += reply.tokens_out
        return reply

    async def _create(self, kwargs: dict[str, Any]) -> ChatCompletion:
        """The request itself, timed and reported to `on_call` however it ends."""
        started = time.perf_counter()
        result = "cancelled"  # the analysis' own timeout, or a shutdown
        tokens_in = tokens_out = 0
        try:
            completion: ChatCompletion = await self._client.chat.completions.create(**kwargs)
            result = "ok"
            if completion.usage is not None:
                tokens_in = completion.usage.prompt_tokens
                tokens_out = completion.usage.completion_tokens
            return completion
        except openai.APIError as exc:
            result = outcome(exc)
            raise
        except Exception:
            result = "error"
            raise
        finally:
            if self.on_call is not None:
                self.on_call(
                    LLMCall(
                        self.config.model,
                        time.perf_counter() - started,
                        result,
                        tokens_in,
                        tokens_out,
                    )
                )


def _grounded_why(analysis: Analysis, commit: Commit) -> Analysis:
    """A motivation only where the pull request or an issue was in the prompt to give one."""
    fetched = commit.context is not None and commit.context.fetched
    return (
        analysis if fetched or analysis.why is None else analysis.model_copy(update={"why": None})
    )
