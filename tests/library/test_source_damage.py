"""GitSource on clones that cannot give every diff: damaged, partial, shallow, and odd commits.

Every repository is real and built here; the damage is real too (a loose object removed), the
partial clone is cloned with `--filter` from a local file:// remote, the shallow one with
`--depth`. One unreadable file costs its own diff, never the commit nor the day.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.analysis.heuristic import HeuristicAnalyzer
from digest.models import Commit, FileChange, FileStatus, Unreadable, Window
from digest.render.markdown import render_markdown
from digest.service import build_digest
from digest.sources.git import GitSource
from tests.gitrepo import ODD_TITLES, GitRepo, odd_history

T0 = datetime(2026, 2, 5, 2, 0, tzinfo=UTC)
WINDOW = Window(start=T0 - timedelta(days=1), end=T0 + timedelta(days=1), tz="UTC")


def by_title(commits: list[Commit]) -> dict[str, Commit]:
    return {c.title: c for c in commits}


def by_path(commit: Commit) -> dict[str, FileChange]:
    return {f.path: f for f in commit.files}


def drop_loose(repo: Path, sha: str) -> None:
    """Damage the object store: the loose object is gone, as after a bad disk or copy."""
    os.remove(repo / ".git" / "objects" / sha[:2] / sha[2:])


def clone(*args: str) -> None:
    subprocess.run(["git", "clone", "-q", *args], check=True, capture_output=True)


def packs(repo: Path) -> set[str]:
    return set(os.listdir(repo / ".git" / "objects" / "pack"))


@pytest.fixture
def history(tmp_path: Path) -> GitRepo:
    """Four commits an hour apart, each changing a.py and d/b.py; the third adds c.txt."""
    repo = GitRepo.init(tmp_path / "src")
    for i in range(4):
        files: dict[str, str | bytes | None] = {"a.py": f"x = {i}\n", "d/b.py": f"y = {i}\n"}
        if i == 2:
            files["c.txt"] = "c\n"
        repo.commit(f"c{i}", files, when=T0 + timedelta(hours=i))
    repo.git("config", "uploadpack.allowFilter", "true")
    return repo


async def read(path: Path, *, fetch_missing: bool = False) -> dict[str, Commit]:
    source = GitSource(path, fetch_missing=fetch_missing)
    return by_title(await source.commits_in_window("main", WINDOW))


async def test_a_missing_blob_costs_its_files_diff_only(history: GitRepo) -> None:
    drop_loose(history.path, history.git("rev-parse", "HEAD~2:a.py"))  # a.py as c1 wrote it

    commits = await read(history.path)

    assert sorted(commits) == ["c0", "c1", "c2", "c3"]
    for title in ("c1", "c2"):  # c1 wrote the blob, c2 changed it: both diffs need it
        files = by_path(commits[title])
        assert files["a.py"].unreadable is Unreadable.MISSING
        assert files["a.py"].status is FileStatus.MODIFIED and files["a.py"].patch is None
        assert files["d/b.py"].unreadable is None and "+y = " in (files["d/b.py"].patch or "")
    assert by_path(commits["c2"])["c.txt"].additions == 1
    assert all(f.unreadable is None for f in commits["c3"].files + commits["c0"].files)


async def test_a_missing_tree_lists_the_directory_and_reads_the_rest(history: GitRepo) -> None:
    drop_loose(history.path, history.git("rev-parse", "HEAD~1:d"))  # d/ as c2 left it

    commits = await read(history.path)

    for title in ("c2", "c3"):
        files = by_path(commits[title])
        assert files["d/"].unreadable is Unreadable.MISSING
        assert files["a.py"].unreadable is None and files["a.py"].additions == 1
        assert commits[title].files_unreadable is None and commits[title].files_incomplete
    assert by_path(commits["c2"])["c.txt"].status is FileStatus.ADDED
    assert by_path(commits["c1"])["d/b.py"].unreadable is None


async def test_a_missing_commit_tree_lists_the_commit_without_files(history: GitRepo) -> None:
    drop_loose(history.path, history.git("rev-parse", "HEAD~1^{tree}"))

    commits = await read(history.path)

    assert commits["c2"].files == () and commits["c2"].files_unreadable is Unreadable.MISSING
    assert commits["c2"].files_incomplete
    assert commits["c2"].message == "c2" and len(commits) == 4


@pytest.mark.parametrize("spec", ["blob:none", "blob:limit=100"])
async def test_a_partial_clone_reads_offline_and_marks_what_it_lacks(
    history: GitRepo, tmp_path: Path, spec: str
) -> None:
    big = "z = 0\n" * 50  # over the blob limit
    history.commit("c4", {"big.txt": big, "a.py": "x = 4\n"}, when=T0 + timedelta(hours=4))
    history.commit("c5", {"big.txt": big + "z = 1\n"}, when=T0 + timedelta(hours=5))
    part = tmp_path / "part"
    clone(f"--filter={spec}", f"file://{history.path}", str(part))
    before = packs(part)

    commits = await read(part)

    assert packs(part) == before  # nothing was fetched from the promisor remote
    big_file = by_path(commits["c5"])["big.txt"]
    assert big_file.unreadable is Unreadable.NOT_FETCHED and big_file.patch is None
    a_py = by_path(commits["c1"])["a.py"]
    if spec == "blob:none":  # old versions of every file stayed on the remote
        assert a_py.unreadable is Unreadable.NOT_FETCHED
    else:  # small blobs came with the clone
        assert a_py.unreadable is None and a_py.additions == 1

    fetched = await read(part, fetch_missing=True)  # DIGEST_GIT_FETCH_MISSING=true

    assert packs(part) != before
    assert all(f.unreadable is None for c in fetched.values() for f in c.files)
    assert by_path(fetched["c5"])["big.txt"].additions == 1


async def test_a_shallow_clone_marks_its_boundary_and_says_so(
    history: GitRepo, tmp_path: Path
) -> None:
    shallow = tmp_path / "shallow"
    clone("--depth=2", f"file://{history.path}", str(shallow))
    source = GitSource(shallow)

    commits = by_title(await source.commits_in_window("main", WINDOW))
    boundary = await source.shallow_boundary()

    assert sorted(commits) == ["c2", "c3"]
    assert commits["c2"].files_unreadable is Unreadable.SHALLOW and commits["c2"].files == ()
    assert by_path(commits["c3"])["a.py"].additions == 1
    assert boundary == T0 + timedelta(hours=2)
    assert await GitSource(history.path).shallow_boundary() is None

    digest = await build_digest(
        source, HeuristicAnalyzer(), window=WINDOW, language="en", now=lambda: T0
    )
    later = Window(start=T0 + timedelta(hours=3), end=T0 + timedelta(days=1), tz="UTC")
    inside = await build_digest(
        source, HeuristicAnalyzer(), window=later, language="en", now=lambda: T0
    )

    assert digest.shallow_before == boundary and inside.shallow_before is None
    text = render_markdown(digest)
    assert "Shallow clone: its history stops at 2026-02-05 04:00" in text
    assert "Its files could not be read: its parent is outside the shallow clone" in text


async def test_odd_commits_are_each_reported(tmp_path: Path) -> None:
    repo, second = odd_history(tmp_path, T0)

    commits = await read(repo.path)

    assert set(commits) == ODD_TITLES
    bump = by_path(commits["bump submodule"])["vendor/sub"]
    assert bump.status is FileStatus.MODIFIED and f"+Subproject commit {second}" in (
        bump.patch or ""
    )
    link = by_path(commits["add symlink"])["link"]
    assert link.status is FileStatus.ADDED and (link.patch or "").startswith(
        "@@ -0,0 +1 @@\n+README.md"
    )
    (odd,) = commits["bad utf-8"].files
    assert odd.path == "caf\ufffd-\ufffd.txt" and odd.unreadable is None
    assert odd.additions == 1 and (odd.patch or "").startswith("@@ -0,0 +1 @@\n+ol\ufffd")
    assert "café au lait" in commits and "修复中文编码" in commits
    assert commits["empty"].files == ()
    octopus = commits["octopus"]
    assert len(octopus.parents) == 3 and {f.path for f in octopus.files} == {"x.txt", "y.txt"}
    assert all(f.unreadable is None for c in commits.values() for f in c.files)


async def test_twenty_thousand_files_in_one_commit(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "wide")
    repo.commit("base", {"README.md": "hi\n"}, when=T0)
    lines = [b"commit refs/heads/main", b"committer W <w@x> %d +0000" % T0.timestamp()]
    message = b"feat: twenty thousand files\n"
    lines += [b"data %d" % len(message), message, b"from refs/heads/main^0"]
    for i in range(20_000):
        lines += [
            b"M 100644 inline gen/%03d/f%d.txt" % (i // 100, i),
            b"data 2",
            b"%d\n" % (i % 10),
        ]
    repo._run(("fast-import", "--quiet", "--done"), stdin=b"\n".join(lines) + b"\ndone\n")

    commits = await read(repo.path)

    wide = commits["feat: twenty thousand files"]
    assert len(wide.files) == 20_000 and wide.additions == 20_000
    assert all(f.status is FileStatus.ADDED and f.unreadable is None for f in wide.files)


async def test_a_huge_single_file_diff_is_cut_while_it_streams(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "huge")
    repo.commit("base", {"README.md": "hi\n"}, when=T0)
    (repo.path / "big.txt").write_bytes((b"y" * 99 + b"\n") * 200_000)  # 20 MB
    repo.git("add", "big.txt")
    repo.commit("feat: big", when=T0 + timedelta(minutes=1), allow_empty=True)

    (big,) = (await read(repo.path))["feat: big"].files

    assert big.additions == 200_000 and big.patch_clipped and big.unreadable is None
    assert big.patch is not None and len(big.patch) <= 200_000


async def test_git_that_fails_on_a_commit_costs_that_commit_its_files_only(
    history: GitRepo, tmp_path: Path
) -> None:
    """A corrupt object the census cannot see (its bytes are there) fails the one stream:
    that commit is read alone, its files listed unread, the others whole."""
    blob = history.git("rev-parse", "HEAD~2:a.py")
    path = history.path / ".git" / "objects" / blob[:2] / blob[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"not zlib at all")

    commits = await read(history.path)

    files = by_path(commits["c2"])
    assert files["a.py"].unreadable is not None and files["a.py"].patch is None
    assert files["d/b.py"].unreadable is None
    assert all(f.unreadable is None for f in commits["c3"].files)
