"""`digest report` of a 10-commit day on top of 500,000 commits of history, against the same day
with no history at all: the history may cost at most 0.5 s more, end to end.

Both repositories are built once with `git fast-import` and kept under /tmp, keyed by size (the
500,000-commit one takes some 15 s to write). The history is one commit every 6 minutes up to the
day before (about 5.7 years); the day's 10 commits change real files. Each report runs the
`digest` command as a user would (heuristic analyzer, no LLM), 5 times; the median counts.
Run: .venv/bin/python -m benchmarks.report_history [HISTORY]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.models import Window
from digest.sources.git import GitSource

HISTORY, ON_DAY, RUNS, BOUND = 500_000, 10, 5, 0.5
DAY = datetime(2026, 2, 5, tzinfo=UTC)
STEP = timedelta(minutes=6)
LAYOUT = 1  # bump when the repositories' content changes: the cache is keyed by it


def _stream(history: int) -> Iterator[bytes]:
    """fast-import commands: `history` small commits, then the day's ON_DAY real ones."""
    yield b"blob\nmark :1\ndata 6\nhello\n\n"
    first = DAY - STEP * history
    for i in range(history):
        msg = f"chore: history {i}\n".encode()
        stamp = int((first + STEP * i).timestamp())
        yield f"commit refs/heads/main\nauthor Old <old@example.com> {stamp} +0000\n".encode()
        yield f"committer Old <old@example.com> {stamp} +0000\ndata {len(msg)}\n".encode() + msg
        yield f"M 100644 :1 history/{i % 100}.txt\n\n".encode()
    for k in range(ON_DAY):
        stamp = int((DAY + timedelta(hours=1, minutes=37 * k)).timestamp())
        msg = f"feat(core): step {k} of the parser (#{100 + k})\n\nWhy step {k}.\n".encode()
        body = "".join(f"def f{k}_{n}(x):\n    return x + {n}\n\n" for n in range(20)).encode()
        yield f"commit refs/heads/main\nauthor Dev <dev@example.com> {stamp} +0000\n".encode()
        yield f"committer Dev <dev@example.com> {stamp} +0000\ndata {len(msg)}\n".encode() + msg
        yield f"M 100644 inline src/core/part_{k % 4}.py\ndata {len(body)}\n".encode() + body
        yield b"\n"


def repository(history: int) -> Path:
    """The cached repository with `history` commits before the day, built when missing."""
    path = Path(tempfile.gettempdir()) / f"digest-bench-history-{history}-v{LAYOUT}"
    if (path / ".git" / "digest-bench-complete").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    batch: list[bytes] = []
    for chunk in _stream(history):
        batch.append(chunk)
        if len(batch) >= 20_000:
            proc.stdin.write(b"".join(batch))
            batch = []
    proc.stdin.write(b"".join(batch))
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)
    (path / ".git" / "digest-bench-complete").touch()
    print(f"built {history + ON_DAY} commits in {time.perf_counter() - t0:.1f} s: {path}")
    return path


def report_walls(repos: list[Path], tmp: Path) -> list[float]:
    """Median wall of `digest report` of the day in each repository, as a user runs it; the
    runs alternate between the repositories, so a busy machine slows them alike."""
    digest = shutil.which("digest", path=str(Path(sys.executable).parent)) or "digest"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GITHUB_"))}
    walls: list[list[float]] = [[] for _ in repos]
    for _ in range(RUNS):
        for n, repo in enumerate(repos):
            out = tmp / f"report-{n}.md"
            cmd = [digest, "report", str(repo), "--date", DAY.date().isoformat(), "--tz", "UTC"]
            cmd += ["--analyzer", "heuristic", "-o", str(out)]
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, cwd=tmp)
            walls[n].append(time.perf_counter() - t0)
            rows = sum(1 for line in out.read_text().splitlines() if line.startswith("| 2026-"))
            if rows != ON_DAY:
                raise SystemExit(f"{repo}: {rows} commits in the report, expected {ON_DAY}")
    return [statistics.median(each) for each in walls]


def selection_walls(repos: list[Path]) -> list[float]:
    """Median seconds of the commit selection alone (GitSource.commits_in_window), in-process."""
    window = Window(start=DAY, end=DAY + timedelta(days=1), tz="UTC", day=DAY.date().isoformat())

    async def once(repo: Path) -> float:
        t0 = time.perf_counter()
        found = await GitSource(repo).commits_in_window("main", window)
        assert len(found) == ON_DAY, len(found)
        return time.perf_counter() - t0

    walls: list[list[float]] = [[] for _ in repos]
    for _ in range(RUNS):
        for n, repo in enumerate(repos):
            walls[n].append(asyncio.run(once(repo)))
    return [statistics.median(each) for each in walls]


def main() -> None:
    history = int(sys.argv[1]) if len(sys.argv) > 1 else HISTORY
    bare, deep = repository(0), repository(history)
    with tempfile.TemporaryDirectory() as tmp:
        alone, behind = report_walls([bare, deep], Path(tmp))
    walk_alone, walk_behind = selection_walls([bare, deep])
    extra = behind - alone
    print(f"a {ON_DAY}-commit day, digest report end to end (median of {RUNS}):")
    print(f"  no history:             {alone:.2f} s")
    print(f"  {history:,} commits before: {behind:.2f} s")
    print(f"  the history costs {extra:+.2f} s (bound {BOUND} s, ratio {extra / BOUND:.2f})")
    print(f"the selection alone (GitSource.commits_in_window, median of {RUNS}):")
    print(f"  no history {walk_alone:.3f} s, {history:,} before {walk_behind:.3f} s")


if __name__ == "__main__":
    main()
