"""Start-up: the wall of `digest --help` and of a local heuristic report of a 10-commit day, end
to end, as a user runs them (the console script, a fresh process each time; median of 7).

Targets: `--help` < 0.3 s, the report < 0.8 s. Also prints what `import bot.cli` loads: the
standard library alone (tests/test_lazy_imports.py holds it to that).

Measured twice: as an installed copy runs (pip compiles a wheel's modules when it installs it,
and a checkout's modules are compiled on their first run), and with none of our modules
compiled and none written (PYTHONDONTWRITEBYTECODE, which some machines set: every run then
compiles the source of those of our modules it loads again). The first is the headline; the
ratio of both is shown.
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


PROJECT = Path(__file__).resolve().parent.parent
OURS = ("bot", "digest")


def forget_bytecode() -> None:
    """Our modules' compiled bytecode removed (the libraries' is left as installed)."""
    for package in OURS:
        for cache in (PROJECT / package).rglob("__pycache__"):
            shutil.rmtree(cache)


def compile_bytecode() -> None:
    """Our modules compiled, as pip compiles an installed wheel's."""
    folders = [str(PROJECT / package) for package in OURS]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)


def wall(cmd: list[str], cwd: Path, *, bytecode: bool = True) -> tuple[float, float]:
    """Median (wall, CPU seconds) of `cmd`; the CPU time (user and system, git included) does
    not grow when other processes share the machine, the wall does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GITHUB_"))}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    walls, cpus = [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{cmd[:2]} failed")
        cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    digest = shutil.which("digest", path=str(Path(sys.executable).parent)) or "digest"
    repo = repository(0)  # the day's 10 commits alone
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.md"
        report = [digest, "report", str(repo), "--date", DAY.date().isoformat(), "--tz", "UTC"]
        report += ["--analyzer", "heuristic", "-o", str(out)]
        forget_bytecode()
        uncompiled = {
            "help": wall([digest, "--help"], Path(tmp), bytecode=False),
            "report": wall(report, Path(tmp), bytecode=False),
        }
        compile_bytecode()
        figures = {
            "help": wall([digest, "--help"], Path(tmp)),
            "report": wall(report, Path(tmp)),
        }
        rows = sum(1 for line in out.read_text().splitlines() if line.startswith("| 2026-"))
        assert rows == ON_DAY, rows
    bare, _ = wall([sys.executable, "-c", "pass"], Path("."))
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, bot.cli; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"start-up, median of {RUNS} (python itself {bare:.2f} s; bot.cli: {imported} modules)")
    for name, label in (("help", "digest --help"), ("report", f"report, {ON_DAY}-commit day")):
        took, cpu = figures[name]
        target = TARGETS[name]
        print(
            f"  {label:24} wall {took:.2f} s (CPU {cpu:.2f} s)  target < {target} s  "
            f"ratio {took / target:.2f} (CPU {cpu / target:.2f})"
        )
        raw, raw_cpu = uncompiled[name]
        print(
            f"  {'':24} with none of our modules compiled: wall {raw:.2f} s (CPU {raw_cpu:.2f} s)"
            f"  ratio {raw / target:.2f}"
        )


if __name__ == "__main__":
    main()
