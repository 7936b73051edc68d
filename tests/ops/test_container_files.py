"""The container files hold what the README promises (no Docker engine runs here to build them)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_is_multi_stage_pinned_non_root_with_a_health_check() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) == 2 and all(":3.11.11-slim-bookworm" in f for f in froms)
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("/healthz" in line for line in lines)
    assert lines[-1] == 'CMD ["digest", "serve"]'


def test_compose_runs_the_bot_on_postgresql() -> None:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    bot = data["services"]["bot"]
    assert bot["environment"]["DIGEST_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert data["services"]["db"]["image"].startswith("postgres:")
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".env", ".git", ".venv", "*.db"):
        assert entry in ignored
