"""The `digest` command end to end, on real git repositories built by the tests."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.cli import main
from tests.gitrepo import GitRepo

SH = timezone(timedelta(hours=8))
NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)


def run(*argv: str, cwd: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), now=lambda: NOW, stdout=out, stderr=err, env_file=None)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo.init(tmp_path / "proj")
    r.commit("chore: initial", {"README.md": "hello\n"}, when=datetime(2026, 2, 4, 10, tzinfo=SH))
    r.commit(
        "feat(api): add the export endpoint (#12)",
        {"src/api/export.py": "def export():\n    return 1\n"},
        when=datetime(2026, 2, 5, 0, 0, 0, tzinfo=SH),
    )
    r.commit(
        "fix: a | pipe <!channel> and <script>alert(1)</script> 修复 🚀",
        {"src/core/run.py": "x = 1\n"},
        when=datetime(2026, 2, 5, 12, 0, tzinfo=SH),
    )
    r.commit(
        "docs: update the guide",
        {"docs/guide.md": "# Guide\n"},
        when=datetime(2026, 2, 5, 23, 59, 59, tzinfo=SH),
    )
    r.commit(
        "chore(deps): bump lock",
        {"package-lock.json": "{}\n"},
        when=datetime(2026, 2, 5, 18, 0, tzinfo=SH),
    )
    r.commit("test: next day", {"tests/t.py": "pass\n"}, when=datetime(2026, 2, 6, 0, 0, tzinfo=SH))
    return r


def day_shas(repo: GitRepo) -> set[str]:
    return set(
        repo.log_shas(
            "--since-as-filter=2026-02-05T00:00:00+08:00", "--until=2026-02-05T23:59:59+08:00"
        )
    )


def test_report_markdown_covers_exactly_the_day(repo: GitRepo) -> None:
    code, out, err = run("report", str(repo.path), "--date", "2026-02-05", "--tz", "Asia/Shanghai")
    assert code == 0, err
    assert out.startswith("# 每日更新报告（2026-02-05）")
    assert "Asia/Shanghai" in out
    expected = day_shas(repo)
    assert len(expected) == 4
    short = set(re.findall(r"`([0-9a-f]{7})`", out))
    assert {s[:7] for s in expected} <= short
    assert "<!channel>" not in out and "<script>" not in out
    assert err == ""  # stderr is not a terminal: no progress bar


def test_report_json_is_the_whole_digest(repo: GitRepo) -> None:
    code, out, _ = run(
        "report",
        str(repo.path),
        "--date",
        "2026-02-05",
        "--tz",
        "Asia/Shanghai",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    shas = {e["commit"]["sha"] for e in data["entries"]} | {
        f["commit"]["sha"] for f in data["folded"]
    }
    assert shas == day_shas(repo)
    assert data["stats"]["total"] == 4
    assert data["stats"]["folded"] == 1  # the lockfile-only commit
    assert data["window"]["tz"] == "Asia/Shanghai"
    assert data["language"] == "zh"
    assert {e["analyzer"] for e in data["entries"]} == {"heuristic"}


def test_report_in_another_zone_moves_the_day(repo: GitRepo) -> None:
    code, out, _ = run(
        "report", str(repo.path), "--date", "2026-02-05", "--tz", "UTC", "--format", "json"
    )
    assert code == 0
    titles = {e["commit"]["message"].split("\n")[0] for e in json.loads(out)["entries"]}
    # 2026-02-05 00:00 +08:00 is 2026-02-04 16:00 UTC: out of the UTC day.
    assert "feat(api): add the export endpoint (#12)" not in titles
    assert "test: next day" in titles


def test_report_english_and_output_file(repo: GitRepo, tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    code, out, _ = run(
        "report", str(repo.path), "--since", "2026-02-05", "--until", "2026-02-05",
        "--tz", "Asia/Shanghai", "--lang", "en", "-o", str(target),
    )  # fmt: skip
    assert code == 0
    assert out == ""
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Daily update report (2026-02-05)")


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_file_mode_follows_the_umask_as_a_redirect_would(
    repo: GitRepo, tmp_path: Path, umask: int, mode: int
) -> None:
    target = tmp_path / "out.md"
    before = os.umask(umask)
    try:
        code, _, err = run("show", str(repo.path), "HEAD", "-o", str(target))
    finally:
        os.umask(before)
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_output_file_keeps_the_mode_of_the_file_it_replaces(repo: GitRepo, tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_text("old\n")
    target.chmod(0o640)
    code, _, err = run("report", str(repo.path), "--date", "2026-02-05", "-o", str(target))
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text(encoding="utf-8").startswith("# 每日更新报告（2026-02-05）")


def test_ask_without_an_llm_points_to_show(repo: GitRepo) -> None:
    code, out, err = run("ask", str(repo.path), "HEAD", "what", "changed?")
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == (
        "digest: error: Questions need an LLM endpoint: set OPENAI_API_KEY (or OPENAI_BASE_URL); "
        "digest show REPO SHA explains a commit without one."
    )


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert re.fullmatch(r"digest \d+\.\d+\.\d+\S*\n", out)


def test_report_branch(repo: GitRepo) -> None:
    repo.checkout("side", create=True)
    repo.commit(
        "feat: side work", {"src/side.py": "y = 2\n"}, when=datetime(2026, 2, 5, 9, tzinfo=SH)
    )
    repo.checkout("main")
    code, out, _ = run(
        "report", str(repo.path), "--date", "2026-02-05", "--branch", "side", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["branch"] == "side"
    assert any(e["commit"]["message"].startswith("feat: side work") for e in data["entries"])
    code, out, _ = run("report", str(repo.path), "--date", "2026-02-05", "--format", "json")
    assert json.loads(out)["branch"] == "main"


def test_empty_repository_gives_an_empty_report(tmp_path: Path) -> None:
    empty = GitRepo.init(tmp_path / "empty")
    code, out, err = run("report", str(empty.path), "--date", "2026-02-05")
    assert code == 0, err
    assert "本时间窗口内没有提交" in out


@pytest.mark.parametrize(
    ("argv", "status", "needle"),
    [
        (["report", "{repo}", "--date", "2026-02-30"], 2, "Invalid date"),
        (["report", "{repo}", "--date", "2026-02-05", "--tz", "Mars/Base"], 2, "Unknown time zone"),
        (["report", "{repo}", "--date", "2026-02-05", "--since", "2026-02-01"], 2, "window"),
        (["report", "./no/such/dir"], 2, "not a local git repository"),
        (["report", "not a repo!"], 2, "not a local git repository"),
        (["report", "{plain}"], 1, "is not a git repository"),
        (["show", "{repo}", "deadbeefdeadbeef"], 1, "was not found"),
        (["show", "{repo}", "xyz!"], 1, "was not found"),
        (["show", "{repo}", "abc12"], 2, "is not a commit"),
        (["show", "{repo}", "--", "--output=/tmp/x"], 2, "is not a commit"),
        (["report", "{repo}", "--branch", "nope"], 1, "does not exist"),
        (["report", "{repo}", "--format", "xml"], 2, "invalid choice"),
    ],
)
def test_bad_input_is_one_sentence_and_nothing_is_written(
    repo: GitRepo, tmp_path: Path, argv: list[str], status: int, needle: str
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    target = tmp_path / "never.md"
    args = [a.format(repo=repo.path, plain=plain) for a in argv]
    code, out, err = run(*args, "-o", str(target)) if args[0] == "report" else run(*args)
    assert code == status
    assert needle in err
    assert "Traceback" not in err
    assert out == ""
    assert not target.exists()
    assert len([line for line in err.splitlines() if "error:" in line]) == 1


def test_show_by_short_sha_branch_and_tag(repo: GitRepo) -> None:
    sha = repo.git("rev-parse", "HEAD~2")
    repo.git("tag", "v1.0", sha)
    for ref in (sha[:7], sha, "v1.0"):
        code, out, err = run("show", str(repo.path), ref, "--lang", "en")
        assert code == 0, err
        assert sha[:7] in out
    code, out, _ = run("show", str(repo.path), "main", "--format", "json")
    assert code == 0
    assert json.loads(out)["commit"]["sha"] == repo.git("rev-parse", "HEAD")


def test_console_script_runs_without_traceback(repo: GitRepo, tmp_path: Path) -> None:
    digest = Path(sys.executable).parent / "digest"
    done = subprocess.run(
        [str(digest), "report", str(tmp_path / "missing"), "--date", "2026-02-05"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    done = subprocess.run(
        [str(digest), "report", str(repo.path), "--date", "2026-02-05", "--tz", "Asia/Shanghai"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "每日更新报告（2026-02-05）" in done.stdout


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminal_stderr_only(repo: GitRepo) -> None:
    out, err = io.StringIO(), _Tty()
    code = main(
        ["report", str(repo.path), "--date", "2026-02-05", "--format", "json"],
        now=lambda: NOW,
        stdout=out,
        stderr=err,
        env_file=None,
    )
    assert code == 0
    json.loads(out.getvalue())  # stdout is the JSON alone
    assert "analysing" in err.getvalue()
