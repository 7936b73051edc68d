"""The heuristic analyzer on real busy days of a local clone (kept outside the project).

For each day: the share of analysed commits graded high (target <= 30 %), the docs/test-only or
<= 10-line commits graded high (target 0), and the share of summaries naming a function, class,
option or file that the diff touches and the title does not (target >= 70 %). The naming check
is independent of the analyzer's own diff reader: a name counts when it looks like code (a path,
a dotted or snake_case name, a call, a flag, CamelCase) and occurs in the commit's paths or in
its changed lines or hunk headers, and not in the title.

Run: .venv/bin/python -m benchmarks.heuristic_days PATH [PATH ...] [--days 5] [--lang en]
     [--at-least N] [--date YYYY-MM-DD ...] [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from digest.analysis.heuristic import analyze_commit
from digest.analysis.noise import fold_reason
from digest.analysis.rules import is_peripheral_only
from digest.errors import DigestError
from digest.models import Analysis, Commit, Importance, Language, Window
from digest.sources.git import GitSource

HIGH_SHARE_TARGET = 0.30
NAMING_TARGET = 0.70
TINY_LINES = 10

_TOKEN_RE = re.compile(r"--?[A-Za-z][\w-]*|[A-Za-z_][\w.:/-]*(?:\(\))?")
_DEFINERS = "def|class|func|fn|function|struct|type|interface|enum|trait|impl|message|service"
_CODE_LIKE_RE = re.compile(r"[_./:]|\(\)|^--?\w|[a-z][A-Z]|^[A-Z]\w*[a-z]\w*[A-Z]")


def busy_days(path: str, n: int, at_least: int) -> list[date]:
    """The `n` UTC days with the most first-parent commits (merges count as one), or with
    `at_least` > 0, every day with at least that many."""
    out = subprocess.run(
        ["git", "-C", path, "log", "--first-parent", "--format=%cd", "--date=format-local:%F"],
        capture_output=True,
        text=True,
        check=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    counts = Counter(out)
    if at_least:
        return sorted(date.fromisoformat(d) for d, k in counts.items() if k >= at_least)
    return sorted(date.fromisoformat(d) for d, _ in counts.most_common(n))


def touched_text(commit: Commit) -> str:
    """Paths, changed lines and hunk headers: what 'the diff touches'."""
    parts = []
    for f in commit.files:
        parts += [f.path, f.previous_path or ""]
        for line in (f.patch or "").splitlines():
            if line.startswith(("+", "-", "@@")):
                parts.append(line)
    return "\n".join(parts)


def names_beyond_title(summary: str, commit: Commit) -> list[str]:
    """Code-like names in the summary that the diff touches and the title does not hold."""
    touched, title = touched_text(commit), commit.title.lower()
    found = []
    for token in _TOKEN_RE.findall(summary):
        name = token.rstrip(".:,;/-")
        if len(name) < 3:
            continue
        defined = re.search(rf"\b(?:{_DEFINERS})\s+{re.escape(name.removesuffix('()'))}\b", touched)
        if not _CODE_LIKE_RE.search(name) and not defined:
            continue
        name = name.removesuffix("()")
        if len(name) < 3:
            continue
        # A qualified name (Recv.Method, Class.method) is touched when its last part is.
        last = name.rsplit(".", 1)[-1] if "/" not in name and "." in name else name
        if name.lower() in title or last.lower() in title:
            continue
        base = name.rsplit("/", 1)[-1]
        if re.search(rf"(?<![\w-]){re.escape(last)}(?![\w])", touched) or (
            "/" in name and base in touched
        ):
            found.append(name)
    return found


def changed_lines(commit: Commit) -> int:
    return sum(f.additions + f.deletions for f in commit.files)


@dataclass
class DayResult:
    day: date
    analysed: int
    folded: int
    high: int
    violations: list[str]
    naming: int
    symbols: int  # summaries naming something beyond the title that is not a file path
    rows: list[tuple[Commit, Analysis, list[str]]]


async def run_day(source: GitSource, branch: str, day: date, lang: Language) -> DayResult | None:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    window = Window(start=start, end=start + timedelta(days=1), tz="UTC")
    try:
        commits = await source.commits_in_window(branch, window)
    except DigestError as exc:  # a snapshot may lack big blobs: that day cannot be read
        print(f"{day.isoformat():<12} skipped: {exc}")
        return None
    kept = [c for c in commits if fold_reason(c) is None]
    rows, violations, high, naming, symbols = [], [], 0, 0, 0
    for commit in kept:
        a = analyze_commit(commit, lang)
        names = names_beyond_title(a.summary, commit)
        naming += bool(names)
        paths = {p for f in commit.files for p in (f.path, f.previous_path) if p}
        symbols += any(n not in paths and "/" not in n for n in names)
        if a.importance is Importance.HIGH:
            high += 1
            if is_peripheral_only(commit) or changed_lines(commit) <= TINY_LINES:
                violations.append(
                    f"{commit.short_sha} {commit.title}\n        {a.importance_reason}"
                )
        rows.append((commit, a, names))
    folded = len(commits) - len(kept)
    return DayResult(day, len(kept), folded, high, violations, naming, symbols, rows)


async def run(args: argparse.Namespace) -> None:
    lang: Language = args.lang
    total = Counter[str]()
    for path in args.paths:
        source = GitSource(path)
        branch = await source.default_branch()
        chosen = args.date or busy_days(path, args.days, args.at_least)
        print(f"\n== {path} ({branch})")
        print(f"{'day':<12}{'commits':>8}{'high':>6}{'share':>8}{'bad high':>10}{'naming':>8}")
        for day in chosen:
            r = await run_day(source, branch, day, lang)
            if r is None or not r.analysed:
                continue
            share = r.high / r.analysed if r.analysed else 0.0
            naming = r.naming / r.analysed if r.analysed else 0.0
            total.update(
                analysed=r.analysed,
                high=r.high,
                bad=len(r.violations),
                naming=r.naming,
                symbols=r.symbols,
                days=1,
            )
            total["days_over"] += share > HIGH_SHARE_TARGET
            print(
                f"{r.day.isoformat():<12}{r.analysed:>8}{r.high:>6}{share:>8.0%}"
                f"{len(r.violations):>10}{naming:>8.0%}"
            )
            for v in r.violations:
                print(f"    high but docs/test-only or tiny: {v}")
            if args.verbose:
                for commit, a, names in r.rows:
                    mark = {"high": "H", "medium": "M", "low": "l"}[a.importance.value]
                    print(f"  {mark} {commit.short_sha} {commit.title[:70]}")
                    print(f"      {a.importance_reason}")
                    print(f"      {a.summary}")
                    print(f"      names beyond the title: {', '.join(names) or '-'}")
        await source.aclose()
    n = max(1, total["analysed"])
    print(
        f"\nall days: {total['days']} days, {total['analysed']} commits analysed\n"
        f"high share: {total['high'] / n:.1%} overall, {total['days_over']} day(s) over "
        f"{HIGH_SHARE_TARGET:.0%} (target: none)\n"
        f"docs/test-only or <= {TINY_LINES}-line commits graded high: {total['bad']} (target 0)\n"
        f"summaries naming a function/class/option/file beyond the title: "
        f"{total['naming'] / n:.1%} (target >= {NAMING_TARGET:.0%}, ratio "
        f"{total['naming'] / n / NAMING_TARGET:.2f}); naming a function, class, option or key "
        f"(a file path aside): {total['symbols'] / n:.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="+", help="local clones (bare ones too)")
    parser.add_argument("--days", type=int, default=5, help="the N busiest days of each clone")
    parser.add_argument("--at-least", type=int, default=0, help="every day with >= N commits")
    parser.add_argument("--date", type=date.fromisoformat, action="append", default=[])
    parser.add_argument("--lang", choices=("zh", "en"), default="en")
    parser.add_argument("-v", "--verbose", action="store_true", help="every commit's grade")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
