"""`digest chat` and `digest db upgrade` as a user runs them: the console script, real stdin."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo

SH = timezone(timedelta(hours=8))


async def run(args: list[str], stdin: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    exe = str(Path(sys.executable).parent / "digest")
    proc = await asyncio.create_subprocess_exec(
        exe, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **env}, cwd=cwd,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_chat_subscribes_lists_and_explains_a_commit(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "src")
    sha = repo.commit(
        "feat: <!channel> add the export | endpoint",
        {"src/export.py": "x = 1\n"},
        when=datetime(2026, 2, 5, 9, tzinfo=SH),
    )
    db = tmp_path / "chat.db"
    async with FakeGitHub() as gh:
        gh.add_repo("octo/demo", repo.path)
        env = {"GITHUB_API_URL": gh.url, "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
        commands = "\n".join(
            [
                "help",
                "subscribe octo/demo at:08:15 tz:UTC",
                "list",
                sha[:9],
                "subscribe octo/demo at:99:00",
                "frobnicate",
                "now octo/demo 2026-02-05",
                "quit",
            ]
        )
        code, out, err = await run(["chat", "--user", "alice"], commands + "\n", env, tmp_path)
    assert code == 0, err
    assert "Commit Digest chat" in out
    assert "Subscribed this channel to octo/demo: daily at 08:15 UTC" in out
    assert "This channel follows 1 repository" in out
    assert f"`{sha[:7]}`" in out  # the analysis of the commit
    assert "Invalid value '99:00' for at" in out and "usage: /digest subscribe" in out
    assert "'frobnicate' is not a command or a commit sha." in out
    assert "每日更新报告（2026-02-05）" in out
    assert "<!channel>" not in out
    rows = (
        sqlite3.connect(db)
        .execute("SELECT platform, workspace, channel, repo, at, tz FROM subscriptions")
        .fetchall()
    )
    assert rows == [("terminal", "local", "alice", "octo/demo", "08:15", "UTC")]


async def test_db_upgrade_creates_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    env = {"DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    code, out, err = await run(["db", "upgrade"], "", env, tmp_path)
    assert code == 0, err
    assert "6 migrations applied now" in out
    code, out, err = await run(["db", "upgrade"], "", env, tmp_path)
    assert code == 0 and "0 migrations applied now" in out
    names = [r[0] for r in sqlite3.connect(db).execute("SELECT name FROM _migrations")]
    assert names == [
        "001_analyses",
        "002_subscriptions",
        "003_analysis_claims",
        "004_inbound_events",
        "005_answers",
        "007_delivery_parts",
    ]
    bad = {"DIGEST_DATABASE_URL": "postgresql+asyncpg://u:topsecret@127.0.0.1:1/x"}
    code, out, err = await run(["db", "upgrade"], "", bad, tmp_path)
    assert code == 1 and "DIGEST_DATABASE_URL" in err and "topsecret" not in err
