"""GitSource against real repositories built in tmp_path: dates, diffs, refs and failures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest.errors import (
    AmbiguousSha,
    BranchNotFound,
    CommitNotFound,
    GitFailed,
    InvalidSha,
    NotAGitRepository,
)
from digest.models import Commit, FileChange, FileStatus, Window
from digest.sources.base import CommitSource
from digest.sources.git import SKEW_MARGIN, GitSource
from digest.sources.gitlog import COMMIT_PATCH_LIMIT, FILE_PATCH_LIMIT, github_full_name
from tests.gitrepo import GitRepo

DAY = date(2026, 2, 5)
OLD = datetime.fromisoformat("2026-01-01T10:00:00+08:00")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def day_window(day: date = DAY, tz: str = "Asia/Shanghai") -> Window:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return Window(start=start, end=end, tz=tz, day=day.isoformat())


def titles(commits: list[Commit]) -> list[str]:
    return [c.title for c in commits]


def by_path(commit: Commit) -> dict[str, FileChange]:
    return {f.path: f for f in commit.files}


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    made = GitRepo.init(tmp_path / "proj")
    made.commit("base", {"README.md": "hello\n"}, when=OLD)
    return made


@pytest.fixture
def source(repo: GitRepo) -> GitSource:
    return GitSource(repo.path)


def wrapper(tmp_path: Path, body: str) -> str:
    """A real `git` executable that runs `body` first: to record or to fail, without mocks."""
    script = tmp_path / "git-wrapper"
    script.write_text(f'#!/bin/sh\n{body}\nexec git "$@"\n')
    script.chmod(0o755)
    return str(script)


def test_gitsource_is_a_commit_source(source: GitSource) -> None:
    checked: CommitSource = source
    assert checked is source


# -- the window ---------------------------------------------------------------------------------


async def test_window_is_half_open_on_committer_date_across_time_zones(
    repo: GitRepo, source: GitSource
) -> None:
    # Window: 2026-02-05 in Shanghai = [2026-02-04T16:00Z, 2026-02-05T16:00Z).
    dates = {
        "sh-before": ("2026-02-04T23:59:59+08:00", False),
        "sh-start": ("2026-02-05T00:00:00+08:00", True),
        "sh-last": ("2026-02-05T23:59:59+08:00", True),
        "sh-end": ("2026-02-06T00:00:00+08:00", False),
        "la-before": ("2026-02-04T08:59:59-07:00", False),
        "la-start": ("2026-02-04T09:00:00-07:00", True),
        "la-midnight": ("2026-02-05T00:00:00-07:00", True),
        "la-last": ("2026-02-05T08:59:59-07:00", True),
        "la-end": ("2026-02-05T09:00:00-07:00", False),
        "utc-midnight": ("2026-02-05T00:00:00+00:00", True),
        "utc-1559": ("2026-02-05T15:59:59+00:00", True),
        "utc-2359": ("2026-02-05T23:59:59+00:00", False),
        "utc-prev-2359": ("2026-02-04T23:59:59+00:00", True),
    }
    for name, (when, _) in dates.items():
        repo.commit(name, when=at(when))

    commits = await source.commits_in_window("main", day_window())

    assert set(titles(commits)) == {name for name, (_, inside) in dates.items() if inside}
    stamps = [c.committed_at for c in commits]
    assert stamps == sorted(stamps, reverse=True)
    for commit in commits:
        assert commit.committed_at == at(dates[commit.title][0])
        assert commit.committed_at.utcoffset() == at(dates[commit.title][0]).utcoffset()
        assert commit.authored_at == commit.committed_at

    utc_day = await source.commits_in_window("main", day_window(tz="UTC"))
    assert set(titles(utc_day)) == {
        "sh-last",
        "sh-end",
        "la-midnight",
        "la-last",
        "la-end",
        "utc-midnight",
        "utc-1559",
        "utc-2359",
    }


async def test_committer_date_decides_not_author_date(repo: GitRepo, source: GitSource) -> None:
    repo.commit(
        "authored in, committed after",
        when=at("2026-02-05T10:00:00+08:00"),
        committed=at("2026-02-06T10:00:00+08:00"),
    )
    repo.commit(
        "authored long before, committed in",
        when=at("2025-12-01T10:00:00+08:00"),
        committed=at("2026-02-05T12:00:00+08:00"),
    )

    commits = await source.commits_in_window("main", day_window())

    assert titles(commits) == ["authored long before, committed in"]
    assert commits[0].authored_at == at("2025-12-01T10:00:00+08:00")


async def test_clock_skew_within_the_margin_does_not_stop_the_walk(
    repo: GitRepo, source: GitSource
) -> None:
    repo.commit("in window, early", when=at("2026-02-05T09:00:00+08:00"))
    skewed = at("2026-02-05T00:00:00+08:00") - SKEW_MARGIN + timedelta(hours=1)
    repo.commit("skewed: weeks old", when=skewed)
    repo.commit("skewed: after window", when=at("2026-02-07T09:00:00+08:00"))
    repo.commit("in window, on top of newer", when=at("2026-02-05T08:00:00+08:00"))

    commits = await source.commits_in_window("main", day_window())

    assert titles(commits) == ["in window, early", "in window, on top of newer"]


async def test_skew_beyond_the_margin_hides_what_lies_behind_it(repo: GitRepo) -> None:
    # The trade-off of the bounded walk (README, "Clock skew"): a commit dated months before its
    # parent ends the walk there; a wider margin finds the parent again.
    repo.commit("in window, behind a stopped clock", when=at("2026-02-05T09:00:00+08:00"))
    repo.commit("stopped clock: months old", when=at("2025-06-01T09:00:00+08:00"))
    repo.commit("in window, on top", when=at("2026-02-05T10:00:00+08:00"))

    bounded = await GitSource(repo.path).commits_in_window("main", day_window())
    wide = GitSource(repo.path, skew_margin=timedelta(days=365))
    unbounded = await wide.commits_in_window("main", day_window())

    assert titles(bounded) == ["in window, on top"]
    assert titles(unbounded) == ["in window, on top", "in window, behind a stopped clock"]


async def test_the_bounded_walk_selects_what_the_whole_history_holds(
    repo: GitRepo, source: GitSource
) -> None:
    # Two weeks of work on main and two branches, merged back, with committer dates up to 25
    # days behind their parents' (within the margin) and merges of old and new work.
    zone = ZoneInfo("Asia/Shanghai")
    first = datetime(2026, 2, 1, 9, tzinfo=zone)
    for n in range(6):
        repo.commit(f"main {n}", {"main.txt": f"{n}\n"}, when=first + timedelta(hours=7 * n))
    repo.checkout("topic", create=True)
    for n in range(5):
        when = first + timedelta(days=2, hours=5 * n)
        if n == 2:
            when -= timedelta(days=25)  # a stopped clock on the topic branch
        repo.commit(f"topic {n}", {"topic.txt": f"{n}\n"}, when=when)
    repo.checkout("main")
    repo.commit("main skewed", {"main.txt": "s\n"}, when=first - timedelta(days=20))
    repo.commit("main after skew", {"main.txt": "t\n"}, when=first + timedelta(days=3))
    repo.merge("topic", message="Merge topic", when=first + timedelta(days=4))
    repo.checkout("old", create=True)
    repo.commit("old work", {"old.txt": "o\n"}, when=first - timedelta(days=10))
    repo.checkout("main")
    repo.merge("old", message="Merge old work", when=first + timedelta(days=5, hours=3))
    repo.commit("future clock", {"main.txt": "f\n"}, when=first + timedelta(days=30))
    repo.commit("last", {"main.txt": "l\n"}, when=first + timedelta(days=6))
    listed = repo.git("log", "--format=%H %ct", "main").splitlines()
    every = [(sha, int(stamp)) for sha, stamp in (line.split() for line in listed)]

    for offset in range(-30, 45):
        window = day_window(DAY + timedelta(days=offset - 4))
        start, end = window.start.timestamp(), window.end.timestamp()
        expected = {sha for sha, stamp in every if start <= stamp < end}
        commits = await source.commits_in_window("main", window)
        assert {c.sha for c in commits} == expected, window.day


async def test_progress_counts_every_commit(repo: GitRepo, source: GitSource) -> None:
    for hour in range(5):
        repo.commit(f"c{hour}", when=at(f"2026-02-05T1{hour}:00:00+08:00"))
    calls: list[tuple[int, int]] = []

    commits = await source.commits_in_window(
        "main", day_window(), lambda d, t: calls.append((d, t))
    )

    assert len(commits) == 5
    assert calls == [(n, 5) for n in range(1, 6)]


# -- what each commit carries -------------------------------------------------------------------


async def test_merge_commit_is_listed_with_its_first_parent_diff(
    repo: GitRepo, source: GitSource
) -> None:
    repo.checkout("feature", create=True)
    side = repo.commit(
        "feat: side", {"feature.txt": "a\nb\n"}, when=at("2026-02-05T09:00:00+08:00")
    )
    repo.checkout("main")
    mainline = repo.commit("docs: main", {"README.md": "hello\nworld\n"}, when=OLD)
    merge = repo.merge("feature", message="Merge feature", when=at("2026-02-05T11:00:00+08:00"))

    commits = await source.commits_in_window("main", day_window())

    assert [c.sha for c in commits] == [merge, side]
    merged = commits[0]
    assert merged.parents == (mainline, side)
    assert merged.is_merge
    assert [(f.path, f.status, f.additions) for f in merged.files] == [
        ("feature.txt", FileStatus.ADDED, 2)
    ]
    assert merged.files[0].patch == "@@ -0,0 +1,2 @@\n+a\n+b"
    root = await source.commit(repo.log_shas("--reverse")[0])
    assert root.parents == ()
    assert [(f.path, f.status, f.patch) for f in root.files] == [
        ("README.md", FileStatus.ADDED, "@@ -0,0 +1 @@\n+hello")
    ]


async def test_renames_odd_paths_modes_and_deletions(repo: GitRepo, source: GitSource) -> None:
    old, new = "docs/old name.txt", 'docs/新 "名" it\'s.txt'
    body = "".join(f"line {i}\n" for i in range(20))
    repo.commit("add", {old: body, "run.sh": "echo hi\n", "gone.txt": "x\n"}, when=OLD)
    repo.write(old, body + "one more\n")
    repo.git("add", old)
    renamed = repo.rename(old, new, message="rename", when=at("2026-02-05T10:00:00+08:00"))
    repo.git("update-index", "--chmod=+x", "run.sh")
    repo.commit("chmod", {"gone.txt": None, "tab\there.txt": "t\n"}, when=OLD)

    commit = await source.commit(renamed)
    (change,) = commit.files
    assert change.status == FileStatus.RENAMED
    assert (change.path, change.previous_path) == (new, old)
    assert (change.additions, change.deletions) == (1, 0)
    assert change.patch is not None and change.patch.endswith("+one more")

    files = by_path(await source.commit("HEAD"))
    assert files["run.sh"].status == FileStatus.CHANGED
    assert files["run.sh"].patch == ""
    assert files["gone.txt"].status == FileStatus.REMOVED
    assert files["gone.txt"].deletions == 1
    assert files["tab\there.txt"].status == FileStatus.ADDED


async def test_control_bytes_in_paths_and_content(repo: GitRepo, source: GitSource) -> None:
    # \x01 opens a record in our stream and NUL ends a field: neither may confuse the parser.
    files: dict[str, str | bytes | None] = {
        "line\nbreak.txt": "\x01not a record\n",
        "\x01lead.txt": "diff --git a/x b/x\n@@ -1 +1 @@\n",
        "after.txt": "z\n",
    }
    sha = repo.commit("control bytes", files, when=OLD)

    changes = by_path(await source.commit(sha))

    assert changes["line\nbreak.txt"].patch == "@@ -0,0 +1 @@\n+\x01not a record"
    assert changes["\x01lead.txt"].patch == "@@ -0,0 +1,2 @@\n+diff --git a/x b/x\n+@@ -1 +1 @@"
    assert changes["after.txt"].patch == "@@ -0,0 +1 @@\n+z"


async def test_binary_files_have_no_patch(repo: GitRepo, source: GitSource) -> None:
    repo.commit("bin", {"logo.png": b"\x89PNG\r\n\x00\x01\x02" * 50, "a.txt": "a\n"}, when=OLD)
    repo.commit("bin again", {"logo.png": b"\x89PNG\r\n\x00\xff" * 60}, when=OLD)

    first = by_path(await source.commit(repo.log_shas()[1]))
    second = (await source.commit("main")).files[0]

    assert first["logo.png"].binary and first["logo.png"].patch is None
    assert first["a.txt"].patch == "@@ -0,0 +1 @@\n+a"
    assert (second.binary, second.patch, second.status) == (True, None, FileStatus.MODIFIED)
    assert (second.additions, second.deletions, second.patch_clipped) == (0, 0, False)


async def test_large_diffs_keep_exact_counts_and_clip_patches(
    repo: GitRepo, source: GitSource
) -> None:
    lines = "".join(f"line {i:05d}\n" for i in range(10_000))
    big = repo.commit("10k lines", {"big.txt": lines}, when=OLD)
    wide = "".join(f"row {i:06d} {'x' * 40}\n" for i in range(30_000))
    huge = repo.commit("30k wide lines", {"big.txt": None, "huge.txt": wide}, when=OLD)
    many: dict[str, str | bytes | None] = {
        f"f{n:02d}.txt": "".join(f"{n} {i:07d}\n" for i in range(25_000)) for n in range(12)
    }
    flood = repo.commit("a flood", many, when=OLD)

    (file,) = (await source.commit(big)).files
    assert (file.additions, file.deletions, file.patch_clipped) == (10_000, 0, False)
    assert file.patch is not None
    assert file.patch.startswith("@@ -0,0 +1,10000 @@\n+line 00000\n")
    assert file.patch.endswith("+line 09999")

    files = by_path(await source.commit(huge))
    assert files["big.txt"].deletions == 10_000
    assert files["huge.txt"].additions == 30_000
    assert files["huge.txt"].patch_clipped
    assert files["huge.txt"].patch is not None
    assert len(files["huge.txt"].patch) == FILE_PATCH_LIMIT

    changes = (await source.commit(flood)).files
    assert [f.additions for f in changes] == [25_000] * 12
    kept = [f.patch for f in changes if f.patch is not None]
    assert COMMIT_PATCH_LIMIT < sum(len(p) for p in kept) <= COMMIT_PATCH_LIMIT + FILE_PATCH_LIMIT
    assert all(f.patch_clipped for f in changes)
    assert changes[-1].patch is None


async def test_messages_and_names_come_back_exactly(repo: GitRepo, source: GitSource) -> None:
    message = (
        "fix(api): a | b <c> & d <!channel> @here (#42)\n"
        "\n"
        "修复了一个问题：空指针 🎉🚀\n"
        "  indented line with `code` and <https://evil.example|click>\n"
        "\n"
        "Signed-off-by: 张三 <zhang@example.com>"
    )
    repo.commit(message, when=OLD, author="张三 🐉", email="zhang@example.com")

    commit = await source.commit("main")

    assert commit.message == message
    assert (commit.author_name, commit.author_email) == ("张三 🐉", "zhang@example.com")
    assert commit.title == "fix(api): a | b <c> & d <!channel> @here (#42)"
    assert commit.pr_number == 42


# -- refs and repositories ----------------------------------------------------------------------


async def test_branches_remote_tracking_names_and_tags(repo: GitRepo, source: GitSource) -> None:
    main_sha = repo.commit("on main", when=at("2026-02-05T10:00:00+08:00"))
    repo.git("update-ref", "refs/remotes/origin/main", main_sha)
    repo.git("tag", "light")
    repo.git("tag", "-a", "-m", "release", "v1.0")
    repo.checkout("feature", create=True)
    feature_sha = repo.commit("on feature", when=at("2026-02-05T11:00:00+08:00"))

    assert await source.head("main") == main_sha
    assert await source.head("origin/main") == main_sha
    assert await source.head("v1.0") == main_sha
    assert await source.head("feature") == feature_sha
    assert await source.default_branch() == "feature"
    assert titles(await source.commits_in_window("main", day_window())) == ["on main"]
    assert titles(await source.commits_in_window("feature", day_window())) == [
        "on feature",
        "on main",
    ]
    with pytest.raises(BranchNotFound):
        await source.head("nope")
    with pytest.raises(BranchNotFound):
        await source.commits_in_window("nope", day_window())


async def test_commit_by_sha_prefix_tag_and_branch(repo: GitRepo, source: GitSource) -> None:
    sha = repo.commit("feat: one", {"a.txt": "a\n"}, when=OLD)
    repo.git("tag", "-a", "-m", "release", "v2")

    for ref in (sha, sha[:7], sha[:12].upper(), "v2", "main", "HEAD"):
        commit = await source.commit(ref)
        assert commit.sha == sha, ref
    assert commit.files[0].path == "a.txt"
    with pytest.raises(CommitNotFound) as missing:
        await source.commit("deadbeef")
    assert (missing.value.ref, missing.value.repo) == ("deadbeef", "proj")
    with pytest.raises(CommitNotFound):
        await source.commit("no-such-branch")
    with pytest.raises(CommitNotFound):  # a tree is not a commit
        await source.commit(repo.git("rev-parse", "HEAD^{tree}"))
    with pytest.raises(InvalidSha):
        await source.commit("a" * 41)


async def test_ambiguous_short_sha(repo: GitRepo, source: GitSource) -> None:
    first, second = repo.ambiguous_commits(7, when=OLD)

    with pytest.raises(AmbiguousSha) as raised:
        await source.commit(first[:7])

    assert raised.value.prefix == first[:7]
    assert set(raised.value.candidates) == {first, second}
    common = next(i for i in range(40) if first[i] != second[i])
    assert (await source.commit(first[: common + 1])).sha == first


async def test_option_like_refs_never_reach_git(tmp_path: Path, repo: GitRepo) -> None:
    calls = tmp_path / "calls.log"
    source = GitSource(repo.path, git=wrapper(tmp_path, f'printf "%s\\n" "$*" >> {calls}'))
    target = tmp_path / "owned"
    bad = [f"--output={target}", "-n1", "a b", "main..HEAD", "HEAD~1", "main^", "", "main\n"]

    for ref in bad:
        with pytest.raises(CommitNotFound):
            await source.commit(ref)
        with pytest.raises(BranchNotFound):
            await source.head(ref)
        with pytest.raises(CommitNotFound):
            await source.compare(ref, "main")
        with pytest.raises(CommitNotFound):
            await source.compare("main", ref)

    assert not target.exists()
    logged = calls.read_text()
    assert "rev-parse" in logged  # the wrapper did run: the refs were stopped before it
    assert "--output" not in logged and "-n1" not in logged and "main.." not in logged


async def test_compare_lists_what_landed(repo: GitRepo, source: GitSource) -> None:
    base = repo.log_shas()[0]
    repo.checkout("feature", create=True)
    old_side = repo.commit("side, dated long ago", when=at("2020-01-01T00:00:00+00:00"))
    repo.checkout("main")
    first = repo.commit("first", when=at("2026-02-05T10:00:00+08:00"))
    merge = repo.merge("feature", message="Merge side", when=at("2026-02-05T11:00:00+08:00"))
    calls: list[tuple[int, int]] = []

    commits = await source.compare(base, "main", lambda d, t: calls.append((d, t)))

    assert [c.sha for c in commits] == [merge, first, old_side]
    assert calls[-1] == (3, 3)
    assert await source.compare("main", "main") == []
    with pytest.raises(CommitNotFound) as missing:
        await source.compare("0" * 40, "main")
    assert missing.value.ref == "0" * 40


async def test_empty_repository(tmp_path: Path) -> None:
    GitRepo.init(tmp_path / "empty", branch="trunk")
    source = GitSource(tmp_path / "empty")

    assert await source.default_branch() == "trunk"
    assert await source.head("trunk") is None
    assert await source.head("anything") is None
    assert await source.commits_in_window("trunk", day_window()) == []
    with pytest.raises(CommitNotFound):
        await source.commit("HEAD")
    await source.aclose()


async def test_detached_head_default_branch(repo: GitRepo, source: GitSource) -> None:
    repo.git("checkout", "-q", "--detach")
    assert await source.default_branch() == "HEAD"

    repo.git("update-ref", "refs/remotes/origin/main", "HEAD")
    repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    assert await source.default_branch() == "origin/main"
    assert await source.head(await source.default_branch()) == repo.log_shas()[0]


async def test_not_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # wherever tmp_path lives
    plain = tmp_path / "plain"
    plain.mkdir()
    for path in (plain, tmp_path / "missing", plain / "file.txt"):
        source = GitSource(path)
        with pytest.raises(NotAGitRepository):
            await source.repo()
        with pytest.raises(NotAGitRepository):
            await source.commits_in_window("main", day_window())


async def test_git_failures_are_named(tmp_path: Path, repo: GitRepo) -> None:
    with pytest.raises(GitFailed):
        await GitSource(repo.path, git=str(tmp_path / "no-git-here")).repo()

    failing = wrapper(
        tmp_path, 'case "$*" in *" log "*) echo "fatal: disk on fire" >&2; exit 128;; esac'
    )
    with pytest.raises(GitFailed) as raised:
        await GitSource(repo.path, git=failing).commit("main")
    assert raised.value.detail == "fatal: disk on fire"


@pytest.mark.parametrize(
    ("url", "full_name"),
    [
        ("https://github.com/ai-dynamo/dynamo.git", "ai-dynamo/dynamo"),
        ("https://github.com/ai-dynamo/dynamo", "ai-dynamo/dynamo"),
        ("https://github.com/o/n.js/", "o/n.js"),
        ("git@github.com:ai-dynamo/dynamo.git", "ai-dynamo/dynamo"),
        ("ssh://git@github.com/ai-dynamo/dynamo", "ai-dynamo/dynamo"),
        ("ssh://git@github.com:22/o/n.git", "o/n"),
        ("https://x-access-token:ghp_secret@github.com/o/n.git", "o/n"),
        ("https://gitlab.com/o/n.git", None),
        ("https://github.com.evil.example/o/n", None),
        ("https://github.com/o/n/tree/main", None),
        ("/srv/mirrors/n.git", None),
    ],
)
def test_github_remote_detection(url: str, full_name: str | None) -> None:
    assert github_full_name(url) == full_name


async def test_repo_ref_from_origin(tmp_path: Path, repo: GitRepo) -> None:
    (repo.path / "sub").mkdir()
    local = await GitSource(repo.path / "sub").repo()
    assert (local.full_name, local.web_url) == ("proj", None)
    assert local.local_path == str(repo.path.resolve())

    repo.git("remote", "add", "origin", "git@github.com:ai-dynamo/dynamo.git")
    source = GitSource(repo.path)
    ref = await source.repo()
    assert (ref.full_name, ref.web_url) == (
        "ai-dynamo/dynamo",
        "https://github.com/ai-dynamo/dynamo",
    )
    commit = await source.commit("main")
    assert commit.repo == "ai-dynamo/dynamo"
    assert commit.url == f"https://github.com/ai-dynamo/dynamo/commit/{commit.sha}"

    repo.git("clone", "-q", "--bare", str(repo.path), str(tmp_path / "mirror.git"))
    bare = await GitSource(tmp_path / "mirror.git").repo()
    assert bare.local_path == str((tmp_path / "mirror.git").resolve())
    assert (await GitSource(tmp_path / "mirror.git").commit("main")).sha == commit.sha
