"""The current schema, for queries. bot/store/migrations.py is what creates and changes it."""

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

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("workspace", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("repo", sa.String(1024), nullable=False),  # owner/name, or a clone's path
    sa.Column("branch", sa.String(255)),
    sa.Column("at", sa.String(5), nullable=False),
    sa.Column("tz", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("min_importance", sa.String(8), nullable=False),
    sa.Column("paths", sa.Text, nullable=False),
    sa.Column("exclude", sa.Text, nullable=False),
    sa.Column("weekdays_only", sa.Boolean, nullable=False),
    sa.Column("post_empty", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("platform", "workspace", "channel", "repo", name="uq_subscription"),
)

digest_runs = sa.Table(
    "digest_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
    sa.Column("period", sa.String(10), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("message_ids", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("base_sha", sa.String(40)),
    sa.Column("head_sha", sa.String(40)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("takeovers", sa.Integer, nullable=False),
    sa.Column("retries", sa.Integer, nullable=False),
    sa.Column("posted_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("subscription_id", "period", name="uq_run_period"),
)

digest_parts = sa.Table(
    "digest_parts",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("digest_runs.id"), primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), primary_key=True),
    sa.Column("branch", sa.String(255), nullable=False),
    sa.Column("head_sha", sa.String(40), nullable=False),
    sa.Column("period", sa.String(10), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

analysis_claims = sa.Table(
    "analysis_claims",
    metadata,
    sa.Column("repo", sa.String(200), primary_key=True),
    sa.Column("sha", sa.String(40), primary_key=True),
    sa.Column("cache_key", sa.String(300), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
)

inbound_events = sa.Table(
    "inbound_events",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)

answers = sa.Table(
    "answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("repo", sa.String(200), nullable=False),
    sa.Column("sha", sa.String(40), nullable=False),
    sa.Column("cache_key", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("tokens_in", sa.Integer, nullable=False),
    sa.Column("tokens_out", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("repo", "sha", "cache_key", name="uq_answers_key"),
)

llm_capabilities = sa.Table(
    "llm_capabilities",
    metadata,
    sa.Column("endpoint", sa.String(500), primary_key=True),
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("json_mode", sa.String(32), nullable=False),
    sa.Column("token_param", sa.String(32), nullable=False),
    sa.Column("reasoning", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

contexts = sa.Table(
    "contexts",
    metadata,
    sa.Column("repo", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
)
