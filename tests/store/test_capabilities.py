"""What each LLM endpoint accepts, kept in the store on real SQLite and real PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from bot.store.database import Store
from bot.store.tables import llm_capabilities
from digest.analysis.capabilities import Capabilities, Learnt

ENDPOINT = "https://api.deepseek.com"


async def test_capabilities_round_trip_and_update_in_place(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        assert await store.get_capabilities(ENDPOINT, "deepseek-chat") is None
        first = Capabilities("json_object", "max_tokens")
        await store.put_capabilities(ENDPOINT, "deepseek-chat", first)
        assert await store.get_capabilities(ENDPOINT, "deepseek-chat") == first
        learnt = Capabilities("none", "max_completion_tokens", reasoning=True)
        await store.put_capabilities(ENDPOINT, "deepseek-chat", learnt)
        assert await store.get_capabilities(ENDPOINT, "deepseek-chat") == learnt
        # Per model: another model at the same endpoint knows nothing yet.
        assert await store.get_capabilities(ENDPOINT, "deepseek-reasoner") is None
        async with store.engine.connect() as conn:
            rows = await conn.scalar(sa.select(sa.func.count()).select_from(llm_capabilities))
        assert rows == 1
    finally:
        await store.close()


async def test_a_value_this_version_does_not_know_is_learnt_again(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        await store.put_capabilities(ENDPOINT, "m", Capabilities("json_object", "max_tokens"))
        async with store.engine.begin() as conn:
            await conn.execute(sa.update(llm_capabilities).values(json_mode="grammar"))
        assert await store.get_capabilities(ENDPOINT, "m") is None
    finally:
        await store.close()


async def test_what_one_process_learns_the_next_one_starts_with(database_url: str) -> None:
    defaults = Capabilities("json_schema", "max_tokens")
    stores = [await Store.open(database_url) for _ in range(2)]
    try:
        first = Learnt(ENDPOINT, "m", defaults, store=stores[0])
        assert await first.current() == defaults
        assert await first.json_refused("json_schema") == "json_object"
        assert await first.token_refused("max_tokens") == "max_completion_tokens"
        await first.thinks()
        second = Learnt(ENDPOINT, "m", defaults, store=stores[1])
        assert await second.current() == Capabilities(
            "json_object", "max_completion_tokens", reasoning=True
        )
        # A setting is where requests start, whatever was learnt.
        fixed = Learnt(ENDPOINT, "m", defaults, json_mode="json_schema", store=stores[1])
        assert (await fixed.current()).json_mode == "json_schema"
        # A refusal of a mode weaker than what is known does not make it stronger again.
        assert await second.json_refused("json_object") == "none"
        assert await fixed.json_refused("json_schema") == "json_object"
        assert (
            await Learnt(ENDPOINT, "m", defaults, store=stores[0]).current()
        ).json_mode == "none"
    finally:
        for store in stores:
            await store.close()
