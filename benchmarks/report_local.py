"""`digest report` on a 5,000-commit local repository with a 500-commit day.

Prints wall seconds and peak RSS of the `digest` process, pinned to one core.
Target: under 10 s and 200 MB. Run: .venv/bin/python -m benchmarks.report_local
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic_repo import DAY, build

TOTAL, ON_DAY = 5_000, 500


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        t0 = time.perf_counter()
        build(repo, total=TOTAL, day=DAY, on_day=ON_DAY)
        print(f"built {TOTAL} commits in {time.perf_counter() - t0:.1f} s")
        out = Path(tmp) / "report.md"
        digest = shutil.which("digest", path=str(Path(sys.executable).parent)) or "digest"
        cmd = [digest, "report", str(repo), "--date", DAY.date().isoformat(), "--tz", "UTC"]
        cmd += ["--analyzer", "heuristic", "-o", str(out)]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "0", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GITHUB_"))}
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=tmp)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("digest failed")
        peak_mb = usage.ru_maxrss / 1024  # the digest process itself (git runs beside it)
        rows = sum(1 for line in out.read_text().splitlines() if line.startswith("| 2026-"))
        print(f"commits in the day's table: {rows} (expected {ON_DAY})")
        print(f"wall: {wall:.2f} s (target < 10 s, one core)")
        print(f"peak RSS: {peak_mb:.0f} MB (target < 200 MB)")


if __name__ == "__main__":
    main()
