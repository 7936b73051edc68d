"""GitHubSource against the fake GitHub: real PyGithub, real sockets, real git repositories."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digest.errors import (
    AmbiguousSha,
    AuthenticationFailed,
    BranchNotFound,
    CommitNotFound,
    InvalidRepo,
    InvalidSha,
    InvalidWindow,
    RateLimited,
    RepoNotFound,
    ServiceUnavailable,
)
from digest.models import FileStatus, Window
from digest.sources.github import MAX_PATCH_CHARS, GitHubSource, parse_repo_arg
from tests.fakes.github import (
    FakeGitHub,
    FakeResponse,
    rate_limited,
    secondary_rate_limited,
    server_error,
    too_many_requests,
)
from tests.gitrepo import GitRepo

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 2, 5, tzinfo=TZ)
TOKEN = "ghp_" + "T0k3n" * 7 + "x"
REPO = "octo/demo"


def day_window(day: datetime = DAY) -> Window:
    return Window(
        start=day, end=day + timedelta(days=1), tz="Asia/Shanghai", day=day.date().isoformat()
    )


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(days=day_offset, hours=hour, minutes=minute)


@dataclass
class Demo:
    repo: GitRepo
    shas: dict[str, str]


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    """A day with every kind of file change, and commits on both sides of the window's edges."""
    repo = GitRepo.init(tmp_path / "demo")
    s: dict[str, str] = {}
    s["root"] = repo.commit(
        "init",
        {
            "README.md": "# demo\n",
            "src/app.py": "print('a')\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x01",
            "old_name.py": "x = 1\n" * 20,
        },
        when=at(-1, 10),
    )
    s["start"] = repo.commit(
        "fix(app): print b (#12)\n\nLonger body.",
        {"src/app.py": "print('b')\nprint('c')\n"},
        when=at(0, 0),
        author="Alice",
        email="alice@example.com",
    )
    s["rename"] = repo.rename(
        "old_name.py", "new_name.py", message="refactor: rename", when=at(0, 9, 30)
    )
    s["binary"] = repo.commit(
        "chore: new logo, drop readme",
        {"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x02", "README.md": None},
        when=at(0, 12),
    )
    repo.git("tag", "v1.0")
    # Authored the day before, committed (landed) inside the window: in.
    s["landed"] = repo.commit(
        "feat: landed today", {"b.py": "b\n"}, when=at(-1, 3), committed=at(0, 15)
    )
    # Authored inside, committed exactly at the window's end: out (half-open).
    s["at_end"] = repo.commit("docs: at end", {"c.md": "c\n"}, when=at(0, 16), committed=at(1, 0))
    s["after"] = repo.commit("docs: after", {"d.md": "d\n"}, when=at(1, 8))
    repo.checkout("feature/x", create=True)
    s["feature"] = repo.commit("feat: on a branch", {"f.py": "f\n"}, when=at(0, 13))
    repo.checkout("main")
    return Demo(repo, s)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(token=TOKEN, users={"alice@example.com": "alice"}) as gh:
        yield gh


class Sleeps:
    """An injected sleep that records what it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def make_source(fake: FakeGitHub) -> AsyncIterator[Callable[..., GitHubSource]]:
    sources: list[GitHubSource] = []

    def make(full_name: str = REPO, **kwargs: Any) -> GitHubSource:
        kwargs.setdefault("api_url", fake.url)
        kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("retry_backoff", 0.01)
        source = GitHubSource(full_name, **kwargs)
        sources.append(source)
        return source

    yield make
    for source in sources:
        await source.aclose()


# ---- listing a day ---------------------------------------------------------------------------


async def test_window_newest_first_by_committer_date_half_open(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    commits = await make_source().commits_in_window("main", day_window())

    s = demo.shas
    assert [c.sha for c in commits] == [s["landed"], s["binary"], s["rename"], s["start"]]
    # GitHub's `until` is inclusive, so it listed the commit at the window's end; we dropped it
    # before asking for its detail.
    assert fake.count(f"/commits/{s['at_end']}$") == 0
    assert all(c.committed_at.tzinfo is not None for c in commits)
    assert commits[0].authored_at == at(-1, 3)
    assert commits[0].committed_at == at(0, 15)


async def test_window_since_until_are_sent_in_utc(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    await make_source().commits_in_window("main", day_window())

    (listing,) = [r for r in fake.requests if r.path == f"/repos/{REPO}/commits"]
    assert listing.query["since"] == "2026-02-04T16:00:00Z"  # 00:00 in Asia/Shanghai
    assert listing.query["until"] == "2026-02-05T16:00:00Z"
    assert listing.query["sha"] == "main"
    assert listing.query["per_page"] == "100"


async def test_commit_fields_and_files(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    by_sha = {c.sha: c for c in await make_source().commits_in_window("main", day_window())}
    s = demo.shas

    start = by_sha[s["start"]]
    assert start.repo == REPO
    assert start.title == "fix(app): print b (#12)"
    assert start.body == "Longer body."
    assert start.pr_number == 12
    assert (start.author_name, start.author_email, start.author_login) == (
        "Alice",
        "alice@example.com",
        "alice",
    )
    assert start.url == f"https://github.com/{REPO}/commit/{s['start']}"
    assert start.parents == (s["root"],)
    (app,) = start.files
    assert (app.path, app.status, app.additions, app.deletions) == (
        "src/app.py",
        FileStatus.MODIFIED,
        2,
        1,
    )
    assert app.patch is not None
    assert "-print('a')" in app.patch and "+print('c')" in app.patch
    assert app.patch.startswith("@@ ")

    (renamed,) = by_sha[s["rename"]].files
    assert (renamed.path, renamed.previous_path, renamed.status) == (
        "new_name.py",
        "old_name.py",
        FileStatus.RENAMED,
    )
    assert not renamed.binary

    files = {f.path: f for f in by_sha[s["binary"]].files}
    assert files["logo.png"].binary and files["logo.png"].patch is None
    assert files["logo.png"].status == FileStatus.MODIFIED
    assert files["README.md"].status == FileStatus.REMOVED
    assert files["README.md"].deletions == 1 and not files["README.md"].binary
    assert by_sha[s["landed"]].author_login is None  # an email GitHub cannot map to a user


async def test_250_commits_take_one_repo_three_pages_and_one_detail_each(
    tmp_path: Path, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    repo = GitRepo.init(tmp_path / "big")
    repo.commit("before", {"a.txt": "a\n"}, when=at(-1, 12))
    shas = repo.bulk_commits(250, start=at(0, 0, 1), step=timedelta(minutes=5))
    fake.add_repo(REPO, repo.path)
    seen: list[tuple[int, int]] = []

    commits = await make_source(per_page=100).commits_in_window(
        "main", day_window(), progress=lambda done, total: seen.append((done, total))
    )

    assert [c.sha for c in commits] == list(reversed(shas))
    pages = [r for r in fake.requests if r.path == f"/repos/{REPO}/commits"]
    assert [r.query.get("page", "1") for r in pages] == ["1", "2", "3"]
    assert fake.count(r"/commits/[0-9a-f]{40}$") == 250
    assert len(fake.requests) == 1 + math.ceil(250 / 100) + 250
    assert seen[-1] == (250, 250)


async def test_default_branch_comes_from_the_repository(
    tmp_path: Path, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    repo = GitRepo.init(tmp_path / "trunk", branch="trunk")
    sha = repo.commit("feat: one", {"a.py": "a\n"}, when=at(0, 10))
    fake.add_repo(REPO, repo.path)
    source = make_source()

    branch = await source.default_branch()
    commits = await source.commits_in_window(branch, day_window())

    assert branch == "trunk"
    assert [c.sha for c in commits] == [sha]
    (listing,) = [r for r in fake.requests if r.path.endswith("/commits")]
    assert listing.query["sha"] == "trunk"
    assert fake.count(f"/repos/{REPO}$") == 1  # the repository is read once per source


async def test_named_branch(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    source = make_source()

    feature = await source.commits_in_window("feature/x", day_window())
    main = await source.commits_in_window("main", day_window())

    assert demo.shas["feature"] in {c.sha for c in feature}
    assert demo.shas["feature"] not in {c.sha for c in main}
    with pytest.raises(BranchNotFound):
        await source.commits_in_window("no-such-branch", day_window())


async def test_head(
    tmp_path: Path, demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    GitRepo.init(tmp_path / "empty")
    fake.add_repo("octo/empty", tmp_path / "empty")
    source = make_source()
    empty = make_source("octo/empty")

    assert await source.head("main") == demo.shas["after"]
    assert await source.head("feature/x") == demo.shas["feature"]
    with pytest.raises(BranchNotFound):
        await source.head("nope")
    assert await empty.head("main") is None
    assert await empty.commits_in_window("main", day_window()) == []


# ---- one commit, compare ---------------------------------------------------------------------


async def test_commit_by_short_sha_branch_and_tag(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    source = make_source()
    s = demo.shas

    assert (await source.commit(s["rename"][:7])).sha == s["rename"]
    assert (await source.commit(s["rename"])).sha == s["rename"]
    assert (await source.commit("feature/x")).sha == s["feature"]
    assert (await source.commit("v1.0")).sha == s["binary"]


async def test_ambiguous_unknown_and_invalid_sha(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    first, second = demo.repo.ambiguous_commits(7, when=at(0, 20))
    assert first[:7] == second[:7]
    fake.add_repo(REPO, demo.repo.path)
    source = make_source()

    with pytest.raises(AmbiguousSha) as ambiguous:
        await source.commit(first[:7])
    assert ambiguous.value.prefix == first[:7]
    assert (await source.commit(first[:8] if first[:8] != second[:8] else first)).sha == first
    with pytest.raises(CommitNotFound):
        await source.commit("deadbeefdeadbeef")
    with pytest.raises(InvalidSha):
        await source.commit("../../etc")


async def test_compare(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    s = demo.shas
    source = make_source(per_page=2)  # four commits: two pages of the comparison

    commits = await source.compare(s["rename"], "main")

    assert [c.sha for c in commits] == [s["after"], s["at_end"], s["landed"], s["binary"]]
    assert commits[-1].files  # details, not list items
    assert fake.count(r"/compare/") == 2
    assert await source.compare("main", "main") == []
    with pytest.raises(CommitNotFound):
        await source.compare("0000000", "main")


# ---- access --------------------------------------------------------------------------------


async def test_private_repo_needs_the_token(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo("octo/secret", demo.repo.path, private=True)

    with pytest.raises(RepoNotFound) as missing:
        await make_source("octo/secret", token=None).repo()
    ref = await make_source("octo/secret").repo()

    assert missing.value.repo == "octo/secret"
    assert ref.full_name == "octo/secret"
    assert ref.web_url == "https://github.com/octo/secret"
    assert ref.private
    fake.add_repo("octo/open", demo.repo.path)
    assert not (await make_source("octo/open").repo()).private


async def test_bad_token_fails_without_revealing_it(
    demo: Demo,
    fake: FakeGitHub,
    make_source: Callable[..., GitHubSource],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    wrong = "ghp_" + "W" * 36
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthenticationFailed) as failed:
        await make_source(token=wrong).commit("main")
    await make_source().commit("main")

    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    for text in (str(failed.value), repr(failed.value), caplog.text):
        assert wrong not in text and TOKEN not in text
    assert fake.requests[-1].headers["Authorization"] == f"token {TOKEN}"


async def test_unknown_and_malformed_repo(
    fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    with pytest.raises(RepoNotFound):
        await make_source("octo/missing").commits_in_window("main", day_window())
    requests_before = len(fake.requests)
    for bad in ("octo", "octo/demo/extra", "oc to/demo", "octo/..", "https://github.com/octo/demo"):
        with pytest.raises(InvalidRepo):
            make_source(bad)
    assert len(fake.requests) == requests_before


async def test_enterprise_api_prefix(demo: Demo) -> None:
    async with FakeGitHub(api_prefix="/api/v3", web_url="https://ghe.example.com") as ghe:
        ghe.add_repo(REPO, demo.repo.path)
        async with GitHubSource(REPO, api_url=ghe.url) as source:
            ref = await source.repo()
            commits = await source.commits_in_window("main", day_window())
    assert ref.web_url == "https://ghe.example.com/octo/demo"
    assert len(commits) == 4
    assert ghe.requests[0].path == f"/repos/{REPO}"


async def test_in_flight_calls_are_bounded(
    tmp_path: Path, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    repo = GitRepo.init(tmp_path / "many")
    repo.bulk_commits(30, start=at(0, 1), step=timedelta(minutes=10))
    fake.add_repo(REPO, repo.path)

    commits = await make_source(max_in_flight=3).commits_in_window("main", day_window())

    assert len(commits) == 30
    assert 1 <= fake.peak_in_flight <= 3


# ---- rate limits and failures ----------------------------------------------------------------


async def test_primary_rate_limit_waits_for_reset_then_succeeds(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    fake.inject(f"^/repos/{REPO}$", rate_limited(reset_in=1))

    ref = await make_source(sleep=sleep).repo()

    assert ref.full_name == REPO
    assert len(waits) == 1 and 0 <= waits[0] <= 1.0
    assert fake.count(f"^/repos/{REPO}$") == 2


async def test_primary_rate_limit_far_away_fails_at_once(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    sleeps = Sleeps()
    fake.inject(f"^/repos/{REPO}$", rate_limited(reset_in=3600))

    with pytest.raises(RateLimited) as limited:
        await make_source(sleep=sleeps, max_rate_wait=60).repo()

    assert sleeps.calls == []
    assert limited.value.reset_in_seconds is not None
    assert 3500 < limited.value.reset_in_seconds <= 3600
    assert fake.count(f"^/repos/{REPO}$") == 1


async def test_429_retry_after_is_honoured(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    sleeps = Sleeps()
    sha = demo.shas["start"]
    fake.inject(f"/commits/{sha}$", too_many_requests(retry_after=2))

    commit = await make_source(sleep=sleeps).commit(sha)

    assert commit.sha == sha
    assert sleeps.calls == [pytest.approx(2.0, abs=0.5)]
    assert fake.count(f"/commits/{sha}$") == 2


async def test_429_retry_after_beyond_the_budget_is_rate_limited(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    sleeps = Sleeps()
    fake.inject("/commits$", too_many_requests(retry_after=600))

    with pytest.raises(RateLimited) as limited:
        await make_source(sleep=sleeps, max_rate_wait=60).commits_in_window("main", day_window())

    assert limited.value.reset_in_seconds == 600
    assert sleeps.calls == []


async def test_rate_limit_during_details_waits_once_and_completes(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    sleeps = Sleeps()
    fake.inject(f"/commits/{demo.shas['rename']}$", secondary_rate_limited(retry_after=3))

    commits = await make_source(sleep=sleeps).commits_in_window("main", day_window())

    assert len(commits) == 4
    assert sleeps.calls == [pytest.approx(3.0, abs=0.5)]


async def test_server_error_is_retried(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    sha = demo.shas["start"]
    fake.inject(f"/commits/{sha}$", server_error(500), server_error(502))

    assert (await make_source().commit(sha)).sha == sha
    assert fake.count(f"/commits/{sha}$") == 3


async def test_persistent_503_is_service_unavailable(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    fake.inject("/commits$", *[server_error(503)] * 10)

    with pytest.raises(ServiceUnavailable) as unavailable:
        await make_source().commits_in_window("main", day_window())

    assert unavailable.value.service == "GitHub"
    assert unavailable.value.detail == "HTTP 503"
    assert fake.count("/commits$") == 4  # the first try and three retries


async def test_malformed_answer_is_service_unavailable(
    demo: Demo, fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    fake.add_repo(REPO, demo.repo.path)
    sha = demo.shas["start"]
    fake.inject(f"/commits/{sha}$", FakeResponse(200, {"sha": "not-a-sha", "commit": {}}))

    with pytest.raises(ServiceUnavailable) as unavailable:
        await make_source().commit(sha)

    assert unavailable.value.detail.startswith("unexpected ")
    assert unavailable.value.__cause__ is None


async def test_connection_refused_is_service_unavailable(fake: FakeGitHub) -> None:
    await fake.stop()
    async with GitHubSource(REPO, api_url=fake.url, retry_backoff=0.01) as source:
        with pytest.raises(ServiceUnavailable) as unavailable:
            await source.repo()
    assert unavailable.value.detail == "connection failed"


async def test_patches_are_clipped_and_huge_diffs_omitted(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "huge")
    line = "x" * 69 + "\n"
    sha = repo.commit("feat: big", {"big.txt": line * 5000, "small.txt": "s\n"}, when=at(0, 10))
    async with FakeGitHub() as gh:
        gh.add_repo(REPO, repo.path)
        async with GitHubSource(REPO, api_url=gh.url) as source:
            full = {f.path: f for f in (await source.commit(sha)).files}
    async with FakeGitHub(patch_limit=10_000) as gh:
        gh.add_repo(REPO, repo.path)
        async with GitHubSource(REPO, api_url=gh.url) as source:
            omitted = {f.path: f for f in (await source.commit(sha)).files}

    big = full["big.txt"]
    assert big.patch_clipped and big.patch is not None
    assert len(big.patch) <= MAX_PATCH_CHARS and big.patch.endswith("x")
    assert not full["small.txt"].patch_clipped
    assert omitted["big.txt"].patch is None and not omitted["big.txt"].binary
    assert omitted["big.txt"].additions == 5000
    assert omitted["small.txt"].patch == "@@ -0,0 +1 @@\n+s"


# ---- parse_repo_arg --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "api_url", "expected"),
    [
        ("octo/demo", None, "octo/demo"),
        ("  octo/demo.js ", None, "octo/demo.js"),
        ("octo/demo.git", None, "octo/demo"),
        ("https://github.com/octo/demo", None, "octo/demo"),
        ("https://github.com/octo/demo.git", None, "octo/demo"),
        ("https://www.github.com/octo/demo/", None, "octo/demo"),
        ("https://github.com/octo/demo/commit/abc1234", None, "octo/demo"),
        ("github.com/octo/demo/tree/main/src", None, "octo/demo"),
        ("git@github.com:octo/demo.git", None, "octo/demo"),
        ("https://gitlab.com/octo/demo", None, None),
        ("https://github.com/octo", None, None),
        ("octo", None, None),
        ("octo/demo/extra", None, None),
        ("./octo/demo", None, None),
        ("oc to/demo", None, None),
        ("octo/..", None, None),
        ("ftp://github.com/octo/demo", None, None),
        ("https://ghe.example.com/octo/demo", "https://ghe.example.com/api/v3", "octo/demo"),
        ("ghe.example.com/octo/demo/pull/3", "https://ghe.example.com/api/v3", "octo/demo"),
        ("https://ghe.example.com/octo/demo", "https://api.ghe.example.com", "octo/demo"),
        ("https://github.com/octo/demo", "https://ghe.example.com/api/v3", None),
        ("https://ghe.example.com/octo/demo", None, None),
    ],
)
def test_parse_repo_arg(text: str, api_url: str | None, expected: str | None) -> None:
    if api_url is None:
        assert parse_repo_arg(text) == expected
    else:
        assert parse_repo_arg(text, api_url) == expected


async def test_window_bounds_must_be_aware(
    fake: FakeGitHub, make_source: Callable[..., GitHubSource]
) -> None:
    naive = Window(start=datetime(2026, 2, 5), end=datetime(2026, 2, 6), tz="UTC")
    with pytest.raises(InvalidWindow):
        await make_source().commits_in_window("main", naive)
    assert fake.requests == []


def test_a_trailing_newline_never_passes_for_a_valid_name() -> None:
    with pytest.raises(InvalidRepo):
        GitHubSource("octo/demo\n")
