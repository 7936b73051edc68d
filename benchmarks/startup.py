"""Start-up: the wall of `digest --help` and of a local heuristic report of a 10-commit day, end
to end, as a user runs them (the console script, a fresh process each time; median of 7).

Targets: `--help` < 0.3 s, the report < 0.8 s. Also prints what `import bot.cli` loads: the
standard library alone (tests/test_lazy_imports.py holds it to that).
Run: .venv/bin/python -m benchmarks.startup
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report_history import DAY, ON_DAY, repository

RUNS = 7
TARGETS = {"help": 0.3, "report": 0.8}


def wall(cmd: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GITHUB_"))}
    walls = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def main() -> None:
    digest = shutil.which("digest", path=str(Path(sys.executable).parent)) or "digest"
    repo = repository(0)  # the day's 10 commits alone
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.md"
        report = [digest, "report", str(repo), "--date", DAY.date().isoformat(), "--tz", "UTC"]
        report += ["--analyzer", "heuristic", "-o", str(out)]
        figures = {
            "help": wall([digest, "--help"], Path(tmp)),
            "report": wall(report, Path(tmp)),
        }
        rows = sum(1 for line in out.read_text().splitlines() if line.startswith("| 2026-"))
        assert rows == ON_DAY, rows
    bare = wall([sys.executable, "-c", "pass"], Path("."))
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, bot.cli; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"start-up, median of {RUNS} (python itself {bare:.2f} s; bot.cli: {imported} modules)")
    print(
        f"  digest --help:                      {figures['help']:.2f} s  "
        f"target < {TARGETS['help']} s  ratio {figures['help'] / TARGETS['help']:.2f}"
    )
    print(
        f"  report of a {ON_DAY}-commit day (heuristic): {figures['report']:.2f} s  "
        f"target < {TARGETS['report']} s  ratio {figures['report'] / TARGETS['report']:.2f}"
    )


if __name__ == "__main__":
    main()
