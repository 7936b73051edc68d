"""What an endpoint accepts for one model, learnt from its answers and kept: by the process, and
in the store (bot/store implements CapabilityStore) so that the next run starts with it.

Three things are learnt: the JSON mode (json_schema, else json_object, else none: the schema in
the prompt only), the name of the token limit (max_tokens or max_completion_tokens), and whether
the model thinks before it answers (then it gets the larger limit from the start). Learning only
ever moves one way per request: the mode a refused request was sent with decides the next one,
so requests in flight when the first refusal comes back are retried, not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import Literal, Protocol

JsonMode = Literal["json_schema", "json_object", "none"]
TokenParam = Literal["max_tokens", "max_completion_tokens"]
JSON_MODES: tuple[JsonMode, ...] = ("json_schema", "json_object", "none")
TOKEN_PARAMS: tuple[TokenParam, ...] = ("max_tokens", "max_completion_tokens")


@dataclass(frozen=True)
class Capabilities:
    json_mode: JsonMode
    token_param: TokenParam
    reasoning: bool = False  # the model thinks first: give every request the larger limit


class CapabilityStore(Protocol):
    async def get_capabilities(self, endpoint: str, model: str) -> Capabilities | None:
        """What was learnt about `model` at `endpoint`, or None."""
        ...

    async def put_capabilities(self, endpoint: str, model: str, learnt: Capabilities) -> None: ...


def weaker(mode: JsonMode) -> JsonMode | None:
    """The JSON mode to try after `mode` was refused, or None after the last one."""
    index = JSON_MODES.index(mode)
    return JSON_MODES[index + 1] if index + 1 < len(JSON_MODES) else None


def other(param: TokenParam) -> TokenParam:
    return "max_completion_tokens" if param == "max_tokens" else "max_tokens"


class Learnt:
    """The capabilities of one endpoint and model, as this process knows them.

    `json_mode` / `token_param` given (a setting) are where requests start whatever the store
    says; None means "auto": the store's value, else the endpoint's documented default.
    """

    def __init__(
        self,
        endpoint: str,
        model: str,
        defaults: Capabilities,
        *,
        json_mode: JsonMode | None = None,
        token_param: TokenParam | None = None,
        store: CapabilityStore | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.model = model
        self._defaults = defaults
        self._json_fixed = json_mode
        self._token_fixed = token_param
        self._store = store
        self._now: Capabilities | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Capabilities:
        """What requests start with; read from the store once."""
        if self._now is None:
            async with self._lock:
                if self._now is None:
                    self._now = self._start(await self._load())
        return self._now

    def _start(self, stored: Capabilities | None) -> Capabilities:
        base = stored or self._defaults
        return Capabilities(
            json_mode=self._json_fixed or base.json_mode,
            token_param=self._token_fixed or base.token_param,
            reasoning=base.reasoning,
        )

    async def json_refused(self, sent: JsonMode) -> JsonMode | None:
        """`sent` was refused: the mode to retry with (None: nothing weaker is left)."""
        nxt = weaker(sent)
        if nxt is not None:
            now = await self.current()
            if JSON_MODES.index(nxt) > JSON_MODES.index(now.json_mode):
                await self._save(replace(now, json_mode=nxt))
        return nxt

    async def token_refused(self, sent: TokenParam) -> TokenParam:
        """`sent` was refused: the other name, kept unless another request learnt it already."""
        nxt = other(sent)
        now = await self.current()
        if now.token_param == sent:
            await self._save(replace(now, token_param=nxt))
        return nxt

    async def thinks(self) -> None:
        """The model thought before answering and ran out of room: start larger from now on."""
        now = await self.current()
        if not now.reasoning:
            await self._save(replace(now, reasoning=True))

    async def _load(self) -> Capabilities | None:
        if self._store is None:
            return None
        try:
            return await self._store.get_capabilities(self.endpoint, self.model)
        except Exception:
            return None  # an unreadable store costs a re-learning, never an analysis

    async def _save(self, learnt: Capabilities) -> None:
        self._now = learnt
        if self._store is None:
            return
        # What another process stored meanwhile still holds: a mode it saw refused stays
        # refused (this one may have started from a setting, to try it again).
        stored = await self._load()
        kept = learnt
        if stored is not None:
            weakest = max(learnt.json_mode, stored.json_mode, key=JSON_MODES.index)
            kept = replace(
                learnt, json_mode=weakest, reasoning=learnt.reasoning or stored.reasoning
            )
        # A store that cannot write costs a re-learning on the next run, never an analysis.
        with contextlib.suppress(Exception):
            await self._store.put_capabilities(self.endpoint, self.model, kept)
