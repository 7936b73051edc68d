"""A repository in three workflows (squash, merge commit, rebase) and a direct push, with the
data file of its pull requests, reviews and issues that FakeGitHub serves beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.gitrepo import GitRepo

SH = timezone(timedelta(hours=8))
DAY = "2026-02-05"
PR_SECRET = "ghp_" + "Pr0Body5ecret" * 3  # pasted into a PR body: must never reach the model


@dataclass(frozen=True)
class Shas:
    squash: str  # "fix: ... (#7)": security label, 2 approvals, fixes #5
    branch_a: str  # two commits of PR #9, landed by a merge commit
    branch_b: str
    merge: str
    rebased: str  # no number in its title: PR #11 through commits/{sha}/pulls
    direct: str  # pushed directly: no pull request
    docs: str  # "docs: ... (#12)": documentation label only


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 2, 5, hour, minute, tzinfo=SH)


def build_repo(tmp_path: Path) -> tuple[GitRepo, Shas, Path]:
    repo = GitRepo.init(tmp_path / "src")
    repo.commit("chore: start", {"src/app.py": "x = 0\n"}, when=at(0, 1) - timedelta(days=1))
    squash = repo.commit(
        "fix: take the lock before the worker starts (#7)",
        {"src/worker.py": "import threading\nLOCK = threading.Lock()\n" * 3},
        when=at(9),
    )
    repo.checkout("topic", create=True)
    branch_a = repo.commit(
        "parser: read nested tables", {"src/parser.py": "def parse(x):\n    return x\n"},
        when=at(10),
    )  # fmt: skip
    branch_b = repo.commit(
        "parser: tests for nested tables",
        {"tests/test_parser.py": "def test_parse():\n    assert True\n"},
        when=at(10, 30),
    )
    repo.checkout("main")
    merge = repo.merge("topic", message="Merge pull request #9 from octo/topic", when=at(11))
    rebased = repo.commit(
        "perf: cache compiled patterns",
        {"src/patterns.py": "import re\nCACHE = {}\n\ndef get(p):\n    return re.compile(p)\n"},
        when=at(12),
    )
    direct = repo.commit("chore: bump the year", {"NOTICE": "2026\n"}, when=at(13))
    docs = repo.commit(
        "docs: explain the worker lock (#12)", {"docs/worker.md": "# Worker\n\nLock first.\n"},
        when=at(14),
    )  # fmt: skip
    shas = Shas(squash, branch_a, branch_b, merge, rebased, direct, docs)
    data = {
        "pulls": [
            {
                "number": 7,
                "title": "Fix the worker start deadlock",
                "body": "Two workers starting together deadlock on the queue: this fixes the "
                f"deadlock seen in #5.\n\nFixes #5\n\nCI token for reproducing: {PR_SECRET}",
                "labels": ["security", "bug"],
                "user": "alice",
                "merged_at": "2026-02-05T01:00:00Z",
                "head_sha": squash,
                "merge_commit_sha": squash,
                "commits": [squash],
                "reviews": [
                    {"user": "bob", "state": "COMMENTED"},
                    {"user": "bob", "state": "APPROVED"},
                    {"user": "carol", "state": "APPROVED"},
                    {"user": "dave", "state": "CHANGES_REQUESTED"},
                ],
            },
            {
                "number": 9,
                "title": "Nested tables in the parser",
                "body": "Users asked for nested tables.\n\nCloses octo/demo#6",
                "labels": ["enhancement"],
                "user": "erin",
                "merged_at": "2026-02-05T03:00:00Z",
                "head_sha": branch_b,
                "merge_commit_sha": merge,
                "commits": [branch_a, branch_b],
                "reviews": [{"user": "bob", "state": "APPROVED"}],
            },
            {
                "number": 11,
                "title": "Cache compiled patterns",
                "body": "Compiling on every call showed up in profiles.",
                "labels": ["perf"],
                "user": "frank",
                "merged_at": "2026-02-05T04:00:00Z",
                "head_sha": rebased,
                "merge_commit_sha": rebased,
                "commits": [rebased],
                "reviews": [],
            },
            {
                "number": 12,
                "title": "Explain the worker lock",
                "body": "Docs for #7.",
                "labels": ["documentation"],
                "user": "alice",
                "merged_at": "2026-02-05T06:00:00Z",
                "head_sha": docs,
                "merge_commit_sha": docs,
                "commits": [docs],
                "reviews": [{"user": "carol", "state": "APPROVED"}],
            },
        ],
        "issues": [
            {"number": 5, "title": "Deadlock when two workers start | <!here>", "state": "closed",
             "labels": ["bug"]},
            {"number": 6, "title": "Support nested tables", "state": "closed", "labels": []},
        ],
    }  # fmt: skip
    data_file = tmp_path / "src.github.json"
    data_file.write_text(json.dumps(data), encoding="utf-8")
    return repo, shas, data_file
