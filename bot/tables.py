"""The current schema, for queries. bot/migrations.py is what creates and changes it."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

analyses = sa.Table(
    "analyses",
    metadata,
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
    sa.Column("tokens_in", sa.Integer, nullable=False),
    sa.Column("tokens_out", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("repo", "sha", "cache_key", name="uq_analyses_commit_key"),
)

overviews = sa.Table(
    "overviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("digest_key", sa.String(64), nullable=False),
    sa.Column("cache_key", sa.String(300), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("tokens_in", sa.Integer, nullable=False),
    sa.Column("tokens_out", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("digest_key", "cache_key", name="uq_overviews_key"),
)
