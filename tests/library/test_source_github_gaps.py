"""GitHub's gaps, on the fake GitHub: a file list cut at 300 (and at 3,000), a commit whose diff
GitHub will not make (422), a file without a `patch`. Each is marked and reported; none costs
the day."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.analysis.heuristic import HeuristicAnalyzer
from digest.models import Commit, Unreadable, Window
from digest.render.markdown import render_markdown
from digest.service import build_digest
from digest.sources.github import FILES_PER_PAGE, GitHubSource
from tests.fakes.github import MAX_COMMIT_FILES, FakeGitHub, diff_too_large
from tests.gitrepo import ODD_TITLES, GitRepo, odd_history

T0 = datetime(2026, 2, 5, 2, 0, tzinfo=UTC)
WINDOW = Window(start=T0 - timedelta(hours=2), end=T0 + timedelta(days=1), tz="UTC")
REPO = "octo/demo"


def by_title(commits: list[Commit]) -> dict[str, Commit]:
    return {c.title: c for c in commits}


def wide_commit(repo: GitRepo, n: int, when: datetime) -> str:
    """One commit adding `n` files, by fast-import."""
    message = b"feat: %d files\n" % n
    lines = [b"commit refs/heads/main", b"committer W <w@x> %d +0000" % when.timestamp()]
    lines += [b"data %d" % len(message), message, b"from refs/heads/main^0"]
    for i in range(n):
        lines += [b"M 100644 inline gen/f%05d.txt" % i, b"data 2", b"x\n"]
    repo._run(("fast-import", "--quiet", "--done"), stdin=b"\n".join(lines) + b"\ndone\n")
    repo.git("reset", "-q", "--hard")
    return repo.git("rev-parse", "HEAD")


def build(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo.init(tmp_path / "demo")
    shas = {"base": repo.commit("chore: base", {"README.md": "hi\n"}, when=T0 - timedelta(hours=1))}
    shas["wide"] = wide_commit(repo, MAX_COMMIT_FILES + 500, T0)
    big = "".join(f"line {i}\n" for i in range(3_000))
    shas["big"] = repo.commit(
        "fix: regenerate the table",
        {"table.txt": big, "src/app.py": "x = 1\n"},
        when=T0 + timedelta(hours=1),
    )
    shas["huge"] = repo.commit(
        "feat: vendor everything", {"vendor.txt": "v\n"}, when=T0 + timedelta(hours=2)
    )
    return repo, shas


async def test_each_gap_is_marked_and_reported(tmp_path: Path) -> None:
    repo, shas = build(tmp_path)
    async with FakeGitHub(patch_limit=20_000) as gh:
        gh.add_repo(REPO, repo.path)
        gh.inject(f"/commits/{shas['huge']}$", diff_too_large(), diff_too_large())  # two reads
        async with GitHubSource(REPO, api_url=gh.url) as source:
            commits = by_title(await source.commits_in_window("main", WINDOW))
            digest = await build_digest(
                source, HeuristicAnalyzer(), window=WINDOW, language="en", now=lambda: T0
            )
        wide_requests = gh.count(rf"/commits/{shas['wide']}$")

    wide = commits[f"feat: {MAX_COMMIT_FILES + 500} files"]
    assert len(wide.files) == FILES_PER_PAGE and wide.files_incomplete
    # One request for both reads (a commit never changes: the second read shares the first's
    # detail): the first page only, marked incomplete, not paged through to GitHub's 3,000.
    assert wide.files_unreadable is None and wide_requests == 1

    table = {f.path: f for f in commits["fix: regenerate the table"].files}
    assert table["table.txt"].unreadable is Unreadable.TOO_LARGE
    assert table["table.txt"].patch is None and table["table.txt"].additions == 3_000
    assert table["src/app.py"].unreadable is None and table["src/app.py"].patch

    huge = commits["feat: vendor everything"]
    assert huge.files == () and huge.files_unreadable is Unreadable.TOO_LARGE
    assert huge.files_incomplete and huge.sha == shas["huge"] and huge.author_name

    text = render_markdown(digest)
    assert "File list incomplete: the source could not list every file" in text
    assert "`table.txt` (GitHub sent no diff (too large))" in text
    assert "Its files could not be read: GitHub sent no diff (too large)" in text
    assert "| ⚠️ Unreadable files 1 | ⚠️ Commits with unreadable files 1" in text


async def test_a_commit_looked_up_by_sha_whose_diff_github_will_not_make(tmp_path: Path) -> None:
    repo, shas = build(tmp_path)
    async with FakeGitHub() as gh:
        gh.add_repo(REPO, repo.path)
        gh.inject(f"/commits/{shas['huge'][:10]}$", diff_too_large())
        async with GitHubSource(REPO, api_url=gh.url) as source:
            commit = await source.commit(shas["huge"][:10])

    assert commit.sha == shas["huge"] and commit.title == "feat: vendor everything"
    assert commit.files_unreadable is Unreadable.TOO_LARGE


async def test_report_command_through_a_422_exits_0(tmp_path: Path) -> None:
    repo, shas = build(tmp_path)
    async with FakeGitHub() as gh:
        gh.add_repo(REPO, repo.path)
        gh.inject(f"/commits/{shas['huge']}$", diff_too_large())
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "digest"),
            *("report", REPO, "--date", "2026-02-05", "--tz", "UTC", "--format", "json"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "GITHUB_API_URL": gh.url},
            cwd=tmp_path,
        )
        out, err = await proc.communicate()

    assert proc.returncode == 0, err.decode()
    data = json.loads(out)
    listed = [e["commit"] for e in data["entries"]] + [f["commit"] for f in data["folded"]]
    huge = next(c for c in listed if c["sha"] == shas["huge"])
    assert huge["files_unreadable"] == "too-large"
    assert data["stats"]["unlisted_commits"] == 1 and data["stats"]["total"] == 4


async def test_odd_commits_through_github_are_each_reported(tmp_path: Path) -> None:
    repo, second = odd_history(tmp_path, T0)
    async with FakeGitHub() as gh:
        gh.add_repo(REPO, repo.path)
        async with GitHubSource(REPO, api_url=gh.url) as source:
            commits = by_title(await source.commits_in_window("main", WINDOW))
            digest = await build_digest(
                source, HeuristicAnalyzer(), window=WINDOW, language="en", now=lambda: T0
            )

    assert set(commits) == ODD_TITLES and digest.stats.total == len(ODD_TITLES)
    bump = {f.path: f for f in commits["bump submodule"].files}["vendor/sub"]
    assert f"+Subproject commit {second}" in (bump.patch or "")
    assert [f.path for f in commits["add symlink"].files] == ["link"]
    assert [f.path for f in commits["bad utf-8"].files] == ["caf\ufffd-\ufffd.txt"]
    assert commits["empty"].files == () and len(commits["octopus"].parents) == 3
    assert digest.stats.unreadable_files == 0
