"""How the LLM analyzer is set up, and what it tells of each request it makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from digest.analysis.budget import Budget
from digest.analysis.capabilities import JsonMode, TokenParam


@dataclass(frozen=True)
class LLMConfig:
    model: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    json_mode: JsonMode | None = None  # None: learnt (the store's, else the endpoint's default)
    timeout: float = 120.0  # one analysis, retries included; also one request's limit
    max_retries: int = 2  # the SDK's, honouring Retry-After
    max_output_tokens: int = 2_000
    # The limit for models that think before they answer: their thinking counts against it.
    reasoning_output_tokens: int = 16_000
    token_param: TokenParam | None = None  # None: learnt (the store's, else the endpoint's)
    api_version: str | None = None  # classic Azure URLs only
    extra_body: Mapping[str, Any] = field(default_factory=dict)  # merged into every request
    budget: Budget = field(default_factory=Budget)
    concurrency: int = 8  # analyses at the provider at once, across every digest of the process
    tokens_per_minute: int | None = None  # None: no limit of ours (the provider's 429s only)


@dataclass(frozen=True)
class LLMCall:
    """One chat completion request, as it went: for metrics (the bot turns these into them)."""

    model: str
    seconds: float
    outcome: str  # "ok", or why the request failed: "auth", "billing", "rate_limited", ...
    tokens_in: int = 0
    tokens_out: int = 0
