"""Build a large synthetic git repository fast (git fast-import), for the benchmarks."""

from __future__ import annotations

import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

PREFIXES = ["feat", "fix", "docs", "test", "chore", "refactor", "perf", "ci", "build"]
AREAS = ["src/core", "src/api", "src/cli", "docs", "tests", "lib/memory", ".github/workflows"]


def build(path: Path, *, total: int, day: datetime, on_day: int, seed: int = 7) -> None:
    """`total` commits on `main`; the last `on_day` of them fall on the UTC day starting at `day`.

    Each commit rewrites one or two files of ~40 lines, so every commit has a real patch.
    """
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    before = total - on_day
    start = day - timedelta(days=30)
    contents: dict[str, list[str]] = {}
    chunks: list[bytes] = []
    for i in range(total):
        if i < before:
            when = start + timedelta(seconds=int(i * (30 * 86400 - 60) / max(1, before)))
        else:
            when = day + timedelta(seconds=int((i - before) * 86000 / max(1, on_day)))
        area = rng.choice(AREAS)
        names = [f"{area}/file_{rng.randrange(40)}.py" for _ in range(rng.choice([1, 1, 2]))]
        msg = f"{rng.choice(PREFIXES)}: change {i} in {area} (#{1000 + i})\n\nBody of commit {i}.\n"
        stamp = f"{int(when.timestamp())} +0000"
        data = msg.encode()
        chunks.append(b"commit refs/heads/main\n")
        chunks.append(f"author Dev {i % 17} <dev{i % 17}@example.com> {stamp}\n".encode())
        chunks.append(f"committer Dev {i % 17} <dev{i % 17}@example.com> {stamp}\n".encode())
        chunks.append(f"data {len(data)}\n".encode() + data)
        for name in names:
            lines = contents.setdefault(name, [f"line {n}" for n in range(40)])
            for _ in range(rng.randrange(1, 6)):
                lines[rng.randrange(len(lines))] = f"value = {rng.randrange(10**6)}  # {i}"
            body = ("\n".join(lines) + "\n").encode()
            chunks.append(f"M 100644 inline {name}\ndata {len(body)}\n".encode() + body)
        chunks.append(b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(chunks), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)


DAY = datetime(2026, 2, 5, tzinfo=UTC)
