"""The heuristic's grades and summaries against a labelled history it builds in real git.

Builds the repository of quality_repo.py (one commit per labelled case of quality_cases.py),
reads every commit back through the git source (real patches), analyses it with the heuristic
in English and Chinese, and prints: the confusion matrix of expected against given grades,
the precision and recall of "high", the share of summaries naming one of the case's symbols,
keys or files (cases with nothing to name are left out), each beside its target, then every
case the heuristic got wrong.

Run: .venv/bin/python -m benchmarks.heuristic_quality [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.quality_cases import CASES
from benchmarks.quality_repo import Case, build
from digest.analysis.heuristic import analyze_commit
from digest.models import Analysis, Commit, Importance
from digest.sources.git import GitSource

PRECISION_TARGET = RECALL_TARGET = NAMING_TARGET = 0.8
LEVELS = (Importance.HIGH, Importance.MEDIUM, Importance.LOW)


@dataclass(frozen=True)
class Row:
    case: Case
    commit: Commit
    en: Analysis
    zh: Analysis

    @property
    def named(self) -> bool:
        """Both summaries name one of the case's names (true when there is none to name)."""
        names = self.case.names
        return not names or all(any(n in a.summary for n in names) for a in (self.en, self.zh))


async def analyse(path: Path) -> list[Row]:
    built = build(path, CASES)
    source = GitSource(path)
    rows = []
    try:
        for case, sha in zip(CASES, built.shas, strict=True):
            commit = await source.commit(sha)
            rows.append(
                Row(case, commit, analyze_commit(commit, "en"), analyze_commit(commit, "zh"))
            )
    finally:
        await source.aclose()
    return rows


def _ratio(value: float, target: float) -> str:
    return f"{value:.2f} (target >= {target:.2f}, ratio {value / target:.2f})"


def report(rows: list[Row], verbose: bool) -> None:
    matrix = Counter((r.case.expected, r.en.importance) for r in rows)
    print(f"{len(rows)} labelled commits, {len({r.case.kind for r in rows})} kinds\n")
    print("expected \\ given   " + "".join(f"{lv.value:>8}" for lv in LEVELS))
    for exp in LEVELS:
        print(f"{exp.value:<18}" + "".join(f"{matrix[(exp, got)]:>8}" for got in LEVELS))
    high = Importance.HIGH
    tp = matrix[(high, high)]
    given = sum(matrix[(e, high)] for e in LEVELS)
    expected = sum(matrix[(high, g)] for g in LEVELS)
    precision = tp / given if given else 0.0
    recall = tp / expected if expected else 0.0
    agree = sum(matrix[(lv, lv)] for lv in LEVELS) / len(rows)
    nameable = [r for r in rows if r.case.names]
    named = sum(r.named for r in nameable) / len(nameable)
    zh_same = sum(r.en.importance is r.zh.importance for r in rows) / len(rows)
    print(f"\nhigh precision: {_ratio(precision, PRECISION_TARGET)}")
    print(f"high recall:    {_ratio(recall, RECALL_TARGET)}")
    print(f"summaries naming a symbol, key or file of the diff (en and zh, {len(nameable)} "
          f"cases with something to name): {_ratio(named, NAMING_TARGET)}")  # fmt: skip
    print(f"exact grade agreement: {agree:.2f}; zh and en grades equal: {zh_same:.2f}")
    by_kind: dict[str, list[Row]] = {}
    for r in rows:
        by_kind.setdefault(r.case.kind, []).append(r)
    print("\nper kind: right grade / cases, summaries naming / nameable")
    for kind, rs in by_kind.items():
        right = sum(r.case.expected is r.en.importance for r in rs)
        can = [r for r in rs if r.case.names]
        print(f"  {kind:<15}{right:>3}/{len(rs):<3}{sum(r.named for r in can):>5}/{len(can)}")
    misses = [r for r in rows if r.case.expected is not r.en.importance or not r.named]
    print(f"\n{len(misses)} case(s) off their label:" if misses else "\nevery case on its label")
    for r in misses if not verbose else rows:
        mark = "  " if r.case.expected is r.en.importance and r.named else "✗ "
        print(f"{mark}{r.commit.short_sha} {r.case.message.splitlines()[0][:70]}")
        print(f"    expected {r.case.expected.value}, given {r.en.importance.value}: "
              f"{r.en.importance_reason}")  # fmt: skip
        print(f"    {r.en.summary}")
        if r.case.names and not r.named:
            print(f"    should name one of: {', '.join(r.case.names)}")
            print(f"    zh: {r.zh.summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="every case, not misses")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(analyse(Path(tmp) / "shop"))
    report(rows, args.verbose)


if __name__ == "__main__":
    main()
