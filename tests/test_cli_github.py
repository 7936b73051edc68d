"""`digest report owner/repo` as a user runs it: the console script against the fake GitHub."""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub, rate_limited
from tests.gitrepo import GitRepo

SH = timezone(timedelta(hours=8))
TOKEN = "ghp_" + "Z9y8X7w6" * 4


async def digest(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    exe = str(Path(sys.executable).parent / "digest")
    proc = await asyncio.create_subprocess_exec(
        exe,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
        cwd=cwd,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


def build(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "src")
    repo.commit("chore: before", {"a.txt": "0\n"}, when=datetime(2026, 2, 4, 23, 59, 59, tzinfo=SH))
    repo.bulk_commits(130, start=datetime(2026, 2, 5, 0, 0, tzinfo=SH), step=timedelta(minutes=10))
    repo.commit(
        "fix: pipes | and <!here> in a title",
        {"src/x.py": "y = 1\n"},
        when=datetime(2026, 2, 5, 23, 59, 59, tzinfo=SH),
    )
    repo.commit("docs: after", {"docs/a.md": "a\n"}, when=datetime(2026, 2, 6, 0, 0, tzinfo=SH))
    return repo


async def test_report_through_github_matches_git_log_and_the_request_bound(
    tmp_path: Path,
) -> None:
    repo = build(tmp_path)
    expected = set(
        repo.log_shas(
            "--since-as-filter=2026-02-05T00:00:00+08:00", "--until=2026-02-05T23:59:59+08:00"
        )
    )
    n = len(expected)
    assert n == 131
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path, private=True)
        env = {"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN}
        code, out, err = await digest(
            "report", "octo/demo", "--date", "2026-02-05", "--format", "json",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        data = json.loads(out)
        got = {e["commit"]["sha"] for e in data["entries"]} | {
            f["commit"]["sha"] for f in data["folded"]
        }
        assert got == expected
        assert data["repo"]["full_name"] == "octo/demo"
        assert data["branch"] == "main"
        assert data["stats"]["total"] == n
        # The commits' own requests, and one pull-request look-up (commits/{sha}/pulls) for
        # each analysed commit whose title names none: pushed directly, GitHub knows none.
        lookups = len(data["entries"])
        assert gh.count(r"/commits/[0-9a-f]{40}/pulls$") == lookups
        assert gh.count() <= 1 + math.ceil(n / 100) + n + lookups
        assert TOKEN not in out and TOKEN not in err

        code, md, err = await digest(
            "report", f"{gh.url}/octo/demo.git", "--date", "2026-02-05", env=env, cwd=tmp_path
        )  # a web URL of the GitHub (here: Enterprise-like) behind GITHUB_API_URL
        assert code == 0, err
        assert "## octo/demo" in md
        assert "https://github.com/octo/demo/commit/" in md
        assert "<!here>" not in md


@pytest.mark.e2e  # four `digest report` processes: 42 s under load
async def test_private_repo_bad_token_and_rate_limit_are_one_sentence(tmp_path: Path) -> None:
    repo = build(tmp_path)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/secret", repo.path, private=True)
        out_file = tmp_path / "r.md"
        base = ["report", "octo/secret", "--date", "2026-02-05", "-o", str(out_file)]

        code, out, err = await digest(*base, env={"GITHUB_API_URL": gh.url}, cwd=tmp_path)
        assert code == 1
        assert "was not found on GitHub, or it is private" in err

        bad = "ghp_" + "B" * 36
        code, out, err = await digest(
            *base, env={"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": bad}, cwd=tmp_path
        )
        assert code == 1
        assert "refused the credentials" in err
        assert bad not in err

        gh.inject(r"/repos/octo/secret$", rate_limited(reset_in=3600))
        code, out, err = await digest(
            *base, env={"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN}, cwd=tmp_path
        )
        assert code == 1
        assert "rate limit is exhausted" in err
        assert out == ""
        assert "minutes" in err

        code, _, err = await digest(
            "show", "octo/secret", "0000000", env={"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN},
            cwd=tmp_path,
        )  # fmt: skip
        assert code == 1
        assert "was not found in octo/secret" in err
        for text in (err,):
            assert "Traceback" not in text
        assert not out_file.exists()


async def test_unreachable_github_is_one_sentence(tmp_path: Path) -> None:
    """Offline: one sentence that names what failed and what to try; urllib3's retry warnings
    and PyGithub's words stay out of the terminal (the log has them at DEBUG)."""
    offline = {"GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    sentence = (
        "GitHub did not answer (no network?): check the connection and GITHUB_API_URL, "
        "or give the path of a local clone instead."
    )
    for args in (
        ("report", "octo/demo", "--date", "2026-02-05"),
        ("show", "octo/demo", "abc1234"),
    ):
        code, out, err = await digest(*args, env=offline, cwd=tmp_path)
        assert (code, out) == (1, ""), err
        assert err == f"digest: error: {sentence}\n", args  # that line, and nothing else
    code, out, err = await digest(
        "report", "octo/demo", "--log-level", "debug", env=offline, cwd=tmp_path
    )
    assert code == 1 and err.endswith(f"digest: error: {sentence}\n")
    assert '"logger": "urllib3.connectionpool", "message": "Retrying' in err  # kept, at debug
    assert '"level": "warning"' not in err


async def test_chat_offline_answers_in_one_sentence(tmp_path: Path) -> None:
    """`digest chat`: the same sentence, at the prompt, and nothing on stderr."""
    env = {
        "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}",
        "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/chat.db",
    }
    exe = str(Path(sys.executable).parent / "digest")
    proc = await asyncio.create_subprocess_exec(
        exe, "chat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **env}, cwd=tmp_path,
    )  # fmt: skip
    typed = b"subscribe octo/demo\nocto/demo@abc1234\nquit\n"
    out, err = await asyncio.wait_for(proc.communicate(typed), timeout=120)
    assert proc.returncode == 0 and err == b""
    assert out.decode().count("digest> GitHub did not answer (no network?)") == 2


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
