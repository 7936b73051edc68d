"""`is_ancestor` on both sources: how a scheduled digest tells a landed range from a force-push."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from digest.errors import CommitNotFound, InvalidSha
from digest.sources.base import CommitSource
from digest.sources.git import GitSource
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo

T = datetime.fromisoformat("2026-02-05T10:00:00+08:00")
TOKEN = "ghp_" + "A1b2C3" * 6


class History:
    """main: root - kept - dropped; then force-pushed back to kept - new. side: kept - aside."""

    def __init__(self, path: Path) -> None:
        self.repo = GitRepo.init(path)
        self.root = self.repo.commit("root", {"a.txt": "1\n"}, when=T)
        self.kept = self.repo.commit("kept", {"a.txt": "2\n"}, when=T + timedelta(hours=1))
        self.repo.checkout("side", create=True)
        self.aside = self.repo.commit("aside", {"b.txt": "b\n"}, when=T + timedelta(hours=2))
        self.repo.checkout("main")
        self.dropped = self.repo.commit("dropped", {"a.txt": "3\n"}, when=T + timedelta(hours=3))
        self.repo.git("reset", "-q", "--hard", self.kept)
        self.new = self.repo.commit("new", {"a.txt": "4\n"}, when=T + timedelta(hours=4))


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "demo")


@pytest.fixture(params=["git", "github"])
async def source(request: pytest.FixtureRequest, history: History) -> AsyncIterator[CommitSource]:
    if request.param == "git":
        yield GitSource(history.repo.path)
        return
    async with FakeGitHub(token=TOKEN) as fake:
        fake.add_repo("octo/demo", history.repo.path)
        github = GitHubSource("octo/demo", token=TOKEN, api_url=fake.url, retry_backoff=0.01)
        try:
            yield github
        finally:
            await github.aclose()


async def test_ancestry(source: CommitSource, history: History) -> None:
    h = history
    assert await source.is_ancestor(h.root, h.new)
    assert await source.is_ancestor(h.kept, "main")
    assert await source.is_ancestor(h.new, h.new)  # identical
    assert not await source.is_ancestor(h.dropped, h.new)  # force-pushed away
    assert not await source.is_ancestor(h.new, h.kept)  # behind
    assert not await source.is_ancestor(h.aside, "main")  # diverged
    assert not await source.is_ancestor("0" * 40, "main")  # unknown base: not an ancestor


async def test_unknown_or_malformed_refs(source: CommitSource, history: History) -> None:
    if isinstance(source, GitSource):
        with pytest.raises(CommitNotFound):
            await source.is_ancestor(history.root, "no-such-branch")
        assert not await source.is_ancestor("--output=/tmp/x", "main")
    else:
        with pytest.raises(InvalidSha):
            await source.is_ancestor("../../etc", "main")
