"""The store: SQLAlchemy 2 async over SQLite (default, one file, WAL) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store import migrations
from bot.store.capabilities import CapabilityRecords
from bot.store.channels import ChannelStore
from bot.store.contexts import ContextRecords
from bot.store.errors import StoreError
from bot.store.health import DatabaseHealth
from bot.store.inbound import InboundKeys
from bot.store.runs import RunStore
from bot.store.tables import analyses, analysis_claims, answers, overviews
from digest.models import Analysis, AnalysisStatus, AnalyzedCommit, Commit, Coverage

# Serialises migrations between replicas sharing one PostgreSQL.
_PG_MIGRATION_LOCK = 0x6469_6765  # "dige"


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


class Store(ChannelStore, RunStore, CapabilityRecords, ContextRecords):
    """One engine per process; every method is a short transaction."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.health = DatabaseHealth()
        self.health.attach(engine)
        source = clock or (lambda: datetime.now(UTC))
        # Stored in UTC always: SQLite keeps a datetime's wall time and drops its offset.
        self._now = lambda: source().astimezone(UTC)
        self._inbound = InboundKeys(engine, self._now, self._insert)

    @classmethod
    async def open(
        cls, url: str, *, clock: Callable[[], datetime] | None = None, upgrade: bool = True
    ) -> Store:
        """Connect and bring the schema up to date (migrations run at every start)."""
        try:
            engine = create_async_engine(url, **_engine_options(sa.make_url(url)))
        except Exception as exc:  # a malformed URL or a missing driver
            raise StoreError(safe_url(url), type(exc).__name__) from None
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        store = cls(engine, clock)
        try:
            if upgrade:
                await store.upgrade()
            else:
                async with engine.connect() as conn:  # reachable?
                    await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            await engine.dispose()
            raise StoreError(safe_url(url), f"{type(exc).__name__}: {_first_line(exc)}") from None
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def upgrade(self) -> list[str]:
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                await conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
            return await conn.run_sync(migrations.apply)

    async def close(self) -> None:
        await self.engine.dispose()

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- analyses cache (digest.analysis.cache.AnalysisCache) --

    async def get_analysis(self, commit: Commit, key: str) -> AnalyzedCommit | None:
        query = sa.select(analyses).where(
            analyses.c.repo == commit.repo,
            analyses.c.sha == commit.sha,
            analyses.c.cache_key == key,
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        coverage = row["coverage_json"]
        return AnalyzedCommit(
            commit=commit,
            analysis=Analysis.model_validate_json(row["analysis_json"]),
            analyzer=row["analyzer"],
            prompt_version=row["prompt_version"],
            language=row["language"],
            coverage=Coverage.model_validate_json(coverage) if coverage else None,
            tokens_in=row["tokens_in"],
            tokens_out=row["tokens_out"],
            latency_ms=row["latency_ms"],
            status=AnalysisStatus(row["status"]),
            raw_output=row["raw_output"],
            cached=True,
        )

    async def put_analysis(
        self, entry: AnalyzedCommit, key: str, *, owner: str | None = None
    ) -> None:
        """Keep `entry`; with `owner`, its claim is released in the same transaction."""
        if entry.analysis is None:
            raise ValueError("only a written analysis can be cached")
        values = {
            "repo": entry.commit.repo,
            "sha": entry.commit.sha,
            "cache_key": key,
            "analyzer": entry.analyzer,
            "prompt_version": entry.prompt_version,
            "language": entry.language,
            "status": entry.status.value,
            "analysis_json": entry.analysis.model_dump_json(),
            "coverage_json": entry.coverage.model_dump_json() if entry.coverage else None,
            "raw_output": entry.raw_output,
            "tokens_in": entry.tokens_in,
            "tokens_out": entry.tokens_out,
            "latency_ms": entry.latency_ms,
            "created_at": self._now(),
        }
        statement = self._insert(analyses).values(**values)
        statement = statement.on_conflict_do_nothing(index_elements=["repo", "sha", "cache_key"])
        async with self.engine.begin() as conn:
            await conn.execute(statement)
            if owner is not None:
                await conn.execute(_release(entry.commit.repo, entry.commit.sha, key, owner))

    async def count_analyses(self) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.count()).select_from(analyses))
        return int(value or 0)

    async def claim_analysis(
        self, repo: str, sha: str, key: str, owner: str, lease: timedelta
    ) -> bool:
        """Become the one replica analysing (repo, sha, key), or learn that another is or that
        its analysis is stored already (made while we asked: the claim is given back at once,
        in the same transaction, so a claim held means nothing is stored)."""
        now = self._now()
        where = [
            analysis_claims.c.repo == repo,
            analysis_claims.c.sha == sha,
            analysis_claims.c.cache_key == key,
        ]
        statement = (
            self._insert(analysis_claims)
            .values(repo=repo, sha=sha, cache_key=key, owner=owner, lease_until=now + lease)
            .on_conflict_do_nothing(index_elements=["repo", "sha", "cache_key"])
        )
        stored = sa.select(analyses.c.id).where(
            analyses.c.repo == repo, analyses.c.sha == sha, analyses.c.cache_key == key
        )
        async with self.engine.begin() as conn:
            if (await conn.execute(statement)).rowcount != 1:
                taken = await conn.execute(
                    analysis_claims.update()
                    .where(*where, analysis_claims.c.lease_until < now)
                    .values(owner=owner, lease_until=now + lease)
                )
                if taken.rowcount != 1:
                    return False
            # The claim is ours from here (held under this transaction's write): an analysis
            # stored before it was made while we asked.
            if (await conn.execute(stored.limit(1))).first() is not None:
                await conn.execute(_release(repo, sha, key, owner))
                return False
        return True

    async def release_analysis(self, repo: str, sha: str, key: str, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_release(repo, sha, key, owner))

    # -- inbound de-duplication --

    async def first_delivery(self, key: str) -> bool:
        """True the first time `key` (an event id, a message id, a request signature) is seen
        by any replica (bot/store/inbound.py: written in batches)."""
        return await self._inbound.first(key)

    # -- day overviews --

    async def get_overview(self, digest_key: str, key: str) -> str | None:
        query = sa.select(overviews.c.text).where(
            overviews.c.digest_key == digest_key, overviews.c.cache_key == key
        )
        async with self.engine.connect() as conn:
            value = await conn.scalar(query)
        return str(value) if value is not None else None

    async def put_overview(
        self, digest_key: str, key: str, text: str, tokens_in: int = 0, tokens_out: int = 0
    ) -> None:
        statement = self._insert(overviews).values(
            digest_key=digest_key,
            cache_key=key,
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            created_at=self._now(),
        )
        statement = statement.on_conflict_do_nothing(index_elements=["digest_key", "cache_key"])
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    # -- answers to questions about one commit (digest.analysis.ask.AnswerCache) --

    async def get_answer(self, repo: str, sha: str, key: str) -> str | None:
        query = sa.select(answers.c.text).where(
            answers.c.repo == repo, answers.c.sha == sha, answers.c.cache_key == _hashed(key)
        )
        async with self.engine.connect() as conn:
            value = await conn.scalar(query)
        return str(value) if value is not None else None

    async def put_answer(
        self, repo: str, sha: str, key: str, text: str, tokens_in: int = 0, tokens_out: int = 0
    ) -> None:
        statement = self._insert(answers).values(
            repo=repo,
            sha=sha,
            cache_key=_hashed(key),
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            created_at=self._now(),
        )
        statement = statement.on_conflict_do_nothing(index_elements=["repo", "sha", "cache_key"])
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def count_answers(self) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.count()).select_from(answers))
        return int(value or 0)


def _release(repo: str, sha: str, key: str, owner: str) -> sa.Delete:
    """`owner`'s claim on (repo, sha, key) given back (another's is left alone)."""
    return analysis_claims.delete().where(
        analysis_claims.c.repo == repo,
        analysis_claims.c.sha == sha,
        analysis_claims.c.cache_key == key,
        analysis_claims.c.owner == owner,
    )


def _hashed(key: str) -> str:
    """A cache key of any length (it holds the question) as 64 hex characters."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _engine_options(url: sa.URL) -> dict[str, Any]:
    """A server's connection may have been dropped while pooled: it is pinged before use. A
    SQLite file's cannot, so it is not (a ping is a round trip through aiosqlite's thread)."""
    return {} if url.get_backend_name() == "sqlite" else {"pool_pre_ping": True}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once; a busy timeout rides out short locks;
    synchronous=NORMAL (the WAL setting SQLite recommends) commits without waiting for the disk:
    a killed process loses nothing, a power cut may take back the last commits."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
