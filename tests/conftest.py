"""Shared fixtures: a clean environment and a guard that keeps every test on loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

_PREFIXES = ("GITHUB_", "OPENAI_", "DIGEST_", "SLACK_", "FEISHU_")


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False
    return True  # AF_UNIX paths and the like never leave the machine


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test that tries to reach an address other than loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach {address!r}: loopback only")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach {address!r}: loopback only")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer token or setting leaks into a test; each test sets what it needs."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)


PG_URL = os.environ.get("DIGEST_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _reset_postgres(url: str) -> str | None:
    """Empty the test database; return why it cannot be used, or None."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
    except Exception as exc:  # unreachable server, missing database
        return f"PostgreSQL at {url} is not usable: {type(exc).__name__}"
    finally:
        await engine.dispose()
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty database of each kind. Without PostgreSQL the test skips, but not in CI."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/digest.db"
    problem = await _reset_postgres(PG_URL)
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI must run the PostgreSQL tests)")
        pytest.skip(problem)
    return PG_URL


@pytest.fixture
async def postgres_url() -> str:
    """A fresh, empty PostgreSQL database; skips without one, but never in CI."""
    problem = await _reset_postgres(PG_URL)
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI must run the PostgreSQL tests)")
        pytest.skip(problem)
    return PG_URL
