"""Schema migrations: an ordered list of functions, each applied once and recorded.

Each migration declares the tables it creates with its own MetaData, so that later changes to
bot/store/tables.py never rewrite history. Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

Migration = Callable[[Connection], None]


def m001_analyses(conn: Connection) -> None:
    """The analyses cache: one row per (repo, sha, analyzer key)."""
    meta = sa.MetaData()
    sa.Table(
        "analyses",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("sha", sa.String(40), nullable=False),
        sa.Column("cache_key", sa.String(300), nullable=False),
        sa.Column("analyzer", sa.String(200), nullable=False),
        sa.Column("prompt_version", sa.String(50)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("analysis_json", sa.Text, nullable=False),
        sa.Column("coverage_json", sa.Text),
        sa.Column("raw_output", sa.Text),
        sa.Column("tokens_in", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tokens_out", sa.Integer, nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("repo", "sha", "cache_key", name="uq_analyses_commit_key"),
    )
    sa.Table(
        "overviews",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest_key", sa.String(64), nullable=False),
        sa.Column("cache_key", sa.String(300), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tokens_in", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tokens_out", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("digest_key", "cache_key", name="uq_overviews_key"),
    )
    meta.create_all(conn)


def m002_subscriptions(conn: Connection) -> None:
    """Subscriptions, digest runs (the exactly-once claims) and cursors (the heads covered)."""
    meta = sa.MetaData()
    sa.Table(
        "subscriptions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("workspace", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("branch", sa.String(255)),
        sa.Column("at", sa.String(5), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("min_importance", sa.String(8), nullable=False),
        sa.Column("paths", sa.Text, nullable=False, server_default="[]"),
        sa.Column("exclude", sa.Text, nullable=False, server_default="[]"),
        sa.Column("weekdays_only", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("post_empty", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "workspace", "channel", "repo", name="uq_subscription"),
    )
    sa.Table(
        "digest_runs",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("message_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("error", sa.Text),
        sa.Column("base_sha", sa.String(40)),
        sa.Column("head_sha", sa.String(40)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subscription_id", "period", name="uq_run_period"),
    )
    sa.Table(
        "cursors",
        meta,
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("branch", sa.String(255), nullable=False),
        sa.Column("head_sha", sa.String(40), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn)


def m003_analysis_claims(conn: Connection) -> None:
    """Who is analysing a commit right now, so replicas wait for one call instead of making two."""
    meta = sa.MetaData()
    sa.Table(
        "analysis_claims",
        meta,
        sa.Column("repo", sa.String(200), primary_key=True),
        sa.Column("sha", sa.String(40), primary_key=True),
        sa.Column("cache_key", sa.String(300), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn)


def m004_inbound_events(conn: Connection) -> None:
    """Inbound deliveries already handled (Feishu event ids), shared by every replica."""
    meta = sa.MetaData()
    sa.Table(
        "inbound_events",
        meta,
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn)


def m005_answers(conn: Connection) -> None:
    """The answers cache: one answer per (repo, sha, hashed model|prompt version|question)."""
    meta = sa.MetaData()
    sa.Table(
        "answers",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("sha", sa.String(40), nullable=False),
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tokens_in", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tokens_out", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("repo", "sha", "cache_key", name="uq_answers_key"),
    )
    meta.create_all(conn)


def m006_llm_capabilities(conn: Connection) -> None:
    """What each LLM endpoint accepts per model (JSON mode, token parameter, thinking first)."""
    meta = sa.MetaData()
    sa.Table(
        "llm_capabilities",
        meta,
        sa.Column("endpoint", sa.String(500), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("json_mode", sa.String(32), nullable=False),
        sa.Column("token_param", sa.String(32), nullable=False),
        sa.Column("reasoning", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn)


def m007_delivery_parts(conn: Connection) -> None:
    """Delivery a post at a time: the parts of each run that are out (so a takeover resumes
    at the first missing one), and per run its failed attempts (which alone lead to giving
    up), takeovers (crashes, which never do), passing retries and when it was posted."""
    timestamp = sa.DateTime(timezone=True).compile(dialect=conn.dialect)
    for column, kind in (
        ("failures", "INTEGER NOT NULL DEFAULT 0"),
        ("takeovers", "INTEGER NOT NULL DEFAULT 0"),
        ("retries", "INTEGER NOT NULL DEFAULT 0"),
        ("posted_at", timestamp),
    ):
        conn.execute(sa.text(f"ALTER TABLE digest_runs ADD COLUMN {column} {kind}"))
    meta = sa.MetaData()
    sa.Table("digest_runs", meta, sa.Column("id", sa.Integer, primary_key=True))
    parts = sa.Table(
        "digest_parts",
        meta,
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("digest_runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    parts.create(conn)


def m008_subscription_paths(conn: Connection) -> None:
    """A subscription's repository may be a local clone's absolute path (`digest chat`, or
    `serve` with DIGEST_ALLOW_LOCAL_PATHS): room for 1,024 characters instead of owner/name's
    200. SQLite does not enforce lengths, so only PostgreSQL's column changes."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE subscriptions ALTER COLUMN repo TYPE VARCHAR(1024)"))


def m009_contexts(conn: Connection) -> None:
    """The context cache: a repository's pull requests, issues and commit -> pull request
    answers from GitHub, each kept until `expires_at` (NULL: for good, a merged pull request)."""
    meta = sa.MetaData()
    sa.Table(
        "contexts",
        meta,
        sa.Column("repo", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
    )
    meta.create_all(conn)


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_analyses", m001_analyses),
    ("002_subscriptions", m002_subscriptions),
    ("003_analysis_claims", m003_analysis_claims),
    ("004_inbound_events", m004_inbound_events),
    ("005_answers", m005_answers),
    ("006_llm_capabilities", m006_llm_capabilities),
    ("007_delivery_parts", m007_delivery_parts),
    ("008_subscription_paths", m008_subscription_paths),
    ("009_contexts", m009_contexts),
]


def apply(conn: Connection) -> list[str]:
    """Apply the migrations not yet recorded, in order; return their names."""
    meta = sa.MetaData()
    record = sa.Table(
        "_migrations",
        meta,
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn)
    done = {row[0] for row in conn.execute(sa.select(record.c.name))}
    applied: list[str] = []
    for name, migration in MIGRATIONS:
        if name in done:
            continue
        migration(conn)
        conn.execute(record.insert().values(name=name, applied_at=sa.func.now()))
        applied.append(name)
    return applied
