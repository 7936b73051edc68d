"""What each LLM endpoint accepts for each model (digest.analysis.capabilities.CapabilityStore):
learnt by one run or replica, read by the next, so nobody pays for the same refusal twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, get_args

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import llm_capabilities
from digest.analysis.capabilities import Capabilities, JsonMode, TokenParam

_ENDPOINT_CHARS = 500


class CapabilityRecords:
    """Mixed into bot.store.Store, which provides the engine, the clock and the dialect."""

    engine: AsyncEngine
    _now: Callable[[], datetime]
    _insert: Callable[[sa.Table], Any]  # the dialect's INSERT with ON CONFLICT

    async def get_capabilities(self, endpoint: str, model: str) -> Capabilities | None:
        query = sa.select(llm_capabilities).where(
            llm_capabilities.c.endpoint == endpoint[:_ENDPOINT_CHARS],
            llm_capabilities.c.model == model,
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        mode, param = row["json_mode"], row["token_param"]
        if mode not in get_args(JsonMode) or param not in get_args(TokenParam):
            return None  # written by a newer version that knows more modes: learn again
        return Capabilities(json_mode=mode, token_param=param, reasoning=bool(row["reasoning"]))

    async def put_capabilities(self, endpoint: str, model: str, learnt: Capabilities) -> None:
        values = {
            "json_mode": learnt.json_mode,
            "token_param": learnt.token_param,
            "reasoning": learnt.reasoning,
            "updated_at": self._now(),
        }
        statement = self._insert(llm_capabilities).values(
            endpoint=endpoint[:_ENDPOINT_CHARS], model=model, **values
        )
        statement = statement.on_conflict_do_update(
            index_elements=["endpoint", "model"], set_=values
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)
