"""`digest report` on clones that lack objects: the report is written, exit 0, the files named."""

from __future__ import annotations

import io
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from tests.gitrepo import GitRepo

T0 = datetime(2026, 2, 5, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), now=lambda: NOW, stdout=out, stderr=err, env_file=None)
    return code, out.getvalue(), err.getvalue()


def report(path: Path, *extra: str) -> tuple[int, str, str]:
    return run("report", str(path), "--date", "2026-02-05", "--tz", "UTC", "--lang", "en", *extra)


@pytest.fixture
def history(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "src")
    repo.commit("feat: start", {"src/app.py": "def run():\n    return 1\n"}, when=T0)
    repo.commit(
        "fix(app): return two",
        {"src/app.py": "def run():\n    return 2\n", "docs/app.md": "Returns two.\n"},
        when=T0 + timedelta(hours=1),
    )
    repo.git("config", "uploadpack.allowFilter", "true")
    return repo


def test_report_on_a_damaged_clone_names_the_unreadable_file(history: GitRepo) -> None:
    lost = history.git("rev-parse", "HEAD~1:src/app.py")
    os.remove(history.path / ".git" / "objects" / lost[:2] / lost[2:])

    code, out, err = report(history.path)

    assert code == 0, err
    assert "Diff unreadable (1): `src/app.py` (object missing from the clone)" in out
    assert "| ⚠️ Unreadable files 2" in out  # the stats line: each commit whose diff needs it
    assert "(1 unreadable)" in out  # the commit's coverage line
    assert "fix(app): return two" in out and "feat: start" in out

    code, out, err = report(history.path, "--format", "json")

    assert code == 0, err
    data = json.loads(out)
    assert data["stats"]["unreadable_files"] == 2
    fix = next(e for e in data["entries"] if e["commit"]["message"] == "fix(app): return two")
    files = {f["path"]: f for f in fix["commit"]["files"]}
    assert files["src/app.py"]["unreadable"] == "missing"
    assert files["docs/app.md"]["unreadable"] is None and files["docs/app.md"]["patch"]
    assert fix["coverage"]["files_unreadable"] == 1


def partial_clone(history: GitRepo, tmp_path: Path) -> tuple[Path, set[str]]:
    """A `--filter=blob:none` clone of `history`, and the packs it holds."""
    part = tmp_path / "part"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{history.path}", str(part)],
        check=True,
        capture_output=True,
    )
    return part, set(os.listdir(part / ".git" / "objects" / "pack"))


def test_report_on_a_partial_clone_stays_offline(history: GitRepo, tmp_path: Path) -> None:
    part, before = partial_clone(history, tmp_path)

    code, out, err = report(part)

    assert code == 0, err
    assert set(os.listdir(part / ".git" / "objects" / "pack")) == before
    assert "`src/app.py` (not fetched by the partial clone (offline))" in out
    assert "| ⚠️ Unreadable files 2" in out  # the blob both commits' diffs need stayed behind


def test_a_partial_clone_fetches_what_it_lacks_when_allowed(
    history: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part, before = partial_clone(history, tmp_path)
    monkeypatch.setenv("DIGEST_GIT_FETCH_MISSING", "true")

    code, out, err = report(part)

    assert code == 0, err
    assert set(os.listdir(part / ".git" / "objects" / "pack")) != before  # fetched
    assert "unreadable" not in out.lower() and "+    return 2" not in out


def test_report_on_a_shallow_clone_says_the_history_is_shallow(
    history: GitRepo, tmp_path: Path
) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", f"file://{history.path}", str(shallow)],
        check=True,
        capture_output=True,
    )

    code, out, err = report(shallow)

    assert code == 0, err
    assert "> ⚠️ Shallow clone: its history stops at 2026-02-05 03:00" in out
    assert "Its files could not be read: its parent is outside the shallow clone" in out
    assert "feat: start" not in out  # past the boundary: not in the clone
