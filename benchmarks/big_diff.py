"""`digest report` on a 100 MB single-file diff and on a commit touching 20,000 files.

Prints, for each, the wall seconds and the peak RSS of the process that runs the report
(RUSAGE_SELF, measured inside it: git's own processes are not ours and are shown apart),
against the bound of 300 MB, with the ratio. The report streams `git log` and cuts each patch
at its budget while reading, so neither case should cost much more than an ordinary day.
Run: .venv/bin/python -m benchmarks.big_diff
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BOUND_MB = 300
DAY = datetime(2026, 2, 5, 12, 0, tzinfo=UTC)
BIG_MB = 100
WIDE_FILES = 20_000


def git(repo: Path, *args: str, stdin: bytes | None = None) -> None:
    stamp = DAY.isoformat()
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo),
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, check=True, capture_output=True)


def init(repo: Path) -> None:
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("bench\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "chore: base")


def big_file_repo(repo: Path) -> None:
    """A commit adding one 100 MB text file (a million 100-byte lines), written in chunks."""
    init(repo)
    line = b"".join(b"%02d" % (i % 100) for i in range(49)) + b"x\n"  # 100 bytes
    with (repo / "big.txt").open("wb") as out:
        for _ in range(BIG_MB * 10):
            out.write(line * 1_000)
    git(repo, "add", "big.txt")
    git(repo, "commit", "-q", "-m", "feat: one huge generated file")


def wide_repo(repo: Path) -> None:
    """A commit adding 20,000 small files, by fast-import."""
    init(repo)
    message = b"feat: twenty thousand files\n"
    stamp = int(DAY.timestamp())
    lines = [b"commit refs/heads/main", b"committer Bench <bench@example.com> %d +0000" % stamp]
    lines += [b"data %d" % len(message), message, b"from refs/heads/main^0"]
    for i in range(WIDE_FILES):
        body = b"value = %d\n" % i
        lines += [b"M 100644 inline src/m%03d/f%05d.py" % (i // 100, i), b"data %d" % len(body)]
        lines.append(body)
    git(repo, "fast-import", "--quiet", "--done", stdin=b"\n".join(lines) + b"\ndone\n")
    git(repo, "reset", "-q", "--hard")


def child(repo: str) -> None:
    """Run the report in this process and print what it cost, as JSON on the last line."""
    from bot.cli import main  # imported here: the parent builds repositories only

    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    code = main(
        ["report", repo, "--date", DAY.date().isoformat(), "--tz", "UTC", "--format", "json"],
        stdout=out,
        stderr=err,
        env_file=None,
    )
    wall = time.perf_counter() - t0
    data = json.loads(out.getvalue()) if code == 0 else {}
    files = [f for e in data.get("entries", []) for f in e["commit"]["files"]]
    result = {
        "code": code,
        "wall": wall,
        "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "git_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "files": len(files),
        "clipped": sum(1 for f in files if f["patch_clipped"]),
        "error": err.getvalue().strip()[-300:],
    }
    print(json.dumps(result))


def measure(name: str, repo: Path) -> bool:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GITHUB_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    env["DIGEST_DATABASE_URL"] = f"sqlite+aiosqlite:///{repo.parent}/digest.db"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.big_diff", "--child", str(repo)],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo.parent,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(f"{name}: the run failed: {done.stderr.strip()[-500:]}")
        return False
    r = json.loads(lines[-1])
    ok = bool(r["code"] == 0 and r["self_mb"] < BOUND_MB)
    print(f"{name}:")
    print(f"  exit {r['code']}, {r['files']} files reported, {r['clipped']} clipped {r['error']}")
    print(f"  wall: {r['wall']:.2f} s")
    print(
        f"  peak RSS of the report process: {r['self_mb']:.0f} MB "
        f"(bound {BOUND_MB} MB, ratio {r['self_mb'] / BOUND_MB:.2f})"
    )
    print(f"  peak RSS of git beside it (not ours): {r['git_mb']:.0f} MB")
    return ok


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in (
            (f"a {BIG_MB} MB single-file diff", big_file_repo),
            (f"a commit touching {WIDE_FILES:,} files", wide_repo),
        ):
            repo = Path(tmp) / build.__name__
            t0 = time.perf_counter()
            build(repo)
            print(f"built {name} in {time.perf_counter() - t0:.1f} s")
            results.append(measure(name, repo))
    if not all(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
