"""The offline analyzer: every Analysis field from the message, the paths and the size.

It needs no network and invents nothing: each sentence states which rule fired and which
files made it fire, so a reader can check it against the commit. Titles without a declared
type are read by their leading words (heuristic_text), and the files must agree.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections import defaultdict
from typing import Any

from digest.analysis import rules
from digest.analysis.heuristic_facts import Facts, change_types, facts_of, guessed, lines_of
from digest.analysis.heuristic_text import (
    TEXT,
    names_cli_addition,
    summary,
    t,
)
from digest.analysis.rules import CODE_KINDS, PathKind
from digest.models import (
    AffectedArea,
    Analysis,
    AnalysisStatus,
    AnalyzedCommit,
    ChangeType,
    Commit,
    Coverage,
    FileChange,
    FileStatus,
    Importance,
    Insights,
    Language,
    Risk,
)

VERSION = "v2"
UNTESTED_LINES = 100  # more code lines than this changed with no test file touched: a risk
CHORE_MEDIUM_LINES = 100  # a chore this big is an internal refactor in disguise
FEATURE_HIGH_LINES = 50  # product source lines that make an undeclared feature substantial

_LOW_RE = re.compile(
    r"\btypos?\b|\bformatting\b|\breformat\w*|\blint(ing)?\b|\bwhitespace\b|^rename\b"
    r"|\brename\s+\w+\s+to\b|\b(increase|bump|raise|extend|adjust)\w*\b.*\btimeouts?\b",
    re.IGNORECASE,
)
_DEFECT_RE = re.compile(
    r"\b(panics?|crash\w*|data[ -]loss|corrupt\w*|deadlocks?|segfaults?|memory leaks?"
    r"|race conditions?|use[ -]after[ -]free)\b",
    re.IGNORECASE,
)
_REVERT_WORD_RE = re.compile(r"^\W*(?:revert\w*|回滚|回退|撤销|还原)\s*", re.IGNORECASE)
_GUESS_KINDS = {"cosmetic": "chore", "release": "chore", "remove": "chore", "docs_code": "chore"}


def _importance(commit: Commit, fx: Facts, types: tuple[ChangeType, ...]) -> tuple[Importance, str]:
    """DESIGN §4's rubric, first match wins; returns the level and the rule's key."""
    high, medium, low = Importance.HIGH, Importance.MEDIUM, Importance.LOW
    key = guessed(fx, types)
    if not commit.files:
        return low, "empty"
    for fired, rule in (
        (fx.info.breaking, "breaking"),
        (fx.security, "security"),
        (fx.info.reverts is not None or types[0] is ChangeType.REVERT, "revert"),
        (fx.large, "large"),
    ):
        if fired:
            return high, rule
    if fx.path_type in (ChangeType.DOCS, ChangeType.TEST):
        return low, "docs_only" if fx.path_type is ChangeType.DOCS else "test_only"
    renames_only = all(f.status is FileStatus.RENAMED and not lines_of(f) for f, _ in fx.files)
    if _LOW_RE.search(fx.info.subject) or renames_only or key == "cosmetic":
        return low, "low_kw"
    if ChangeType.CHORE in types and fx.code_lines == 0:
        return low, "chore"
    primary = types[0]
    if primary is ChangeType.FEATURE:
        if key is None:  # declared
            return (high, "feature") if fx.core_code else (medium, "feature_aux")
        if key == "improve" or not fx.core_code:
            return medium, "improve" if key == "improve" else "feature_aux"
        if fx.source_lines >= FEATURE_HIGH_LINES:
            return high, "feature_big"
        if names_cli_addition(fx.info.subject):
            return high, "feature_cli"
        return medium, "feature_small"
    if primary is ChangeType.BUGFIX:
        defect = fx.core_code and _DEFECT_RE.search(fx.info.subject)
        return (high, "defect") if defect else (medium, "bugfix")
    if primary in (ChangeType.DOCS, ChangeType.TEST):
        return low, "docs_only" if primary is ChangeType.DOCS else "test_only"
    if primary is ChangeType.CHORE and not fx.info.declared and fx.core_code and key is None:
        if fx.tests_added:
            return medium, "chore_tested"
        big = fx.source_lines >= FEATURE_HIGH_LINES
        return (medium, "change_big") if big else (low, "change_small")
    if primary is ChangeType.CHORE:
        big = fx.code_lines >= CHORE_MEDIUM_LINES
        return (
            (medium, "chore_big") if big else (low, "docs_code" if key == "docs_code" else "chore")
        )
    return medium, primary.value if primary.value in TEXT else "chore_big"


def _kind(fx: Facts, types: tuple[ChangeType, ...]) -> str:
    """The summary's opening label: the guess's own kind when it decided, else the type's."""
    key = guessed(fx, types)
    if key:
        return _GUESS_KINDS.get(key, key)
    if types[0] is ChangeType.CHORE:
        if ChangeType.SECURITY in types:
            return "security"
        return "chore" if fx.info.declared else "change"
    return types[0].value


def _areas(fx: Facts, lang: Language) -> tuple[tuple[AffectedArea, bool], ...]:
    """Modules by changed lines, each named by its files' common directory (as deep as true),
    and whether it holds code (the summary names code areas first)."""
    groups: dict[str, list[tuple[FileChange, PathKind]]] = defaultdict(list)
    for f, k in fx.files:
        groups[rules.area_of(f.path)].append((f, k))
    ranked = sorted(groups.items(), key=lambda kv: (-sum(lines_of(f) for f, _ in kv[1]), kv[0]))
    areas = []
    for key, fks in ranked[:6]:
        fs = [f for f, _ in fks]
        common = posixpath.commonpath([posixpath.dirname(f.path) for f in fs])
        n, add, dele = len(fs), sum(f.additions for f in fs), sum(f.deletions for f in fs)
        note = t(lang, "area_note" if n > 1 else "area_note_one", n=n, add=add, dele=dele)
        code = any(k in CODE_KINDS for _, k in fks)
        areas.append((AffectedArea(path_or_module=common or key, note=note), code))
    return tuple(areas)


def _insights(fx: Facts, types: tuple[ChangeType, ...], lang: Language) -> Insights:
    sep = "、" if lang == "zh" else ", "
    arch = maint = sec = None
    if fx.migrations:
        arch = t(lang, "in_migration", path=fx.migrations[0])
    elif fx.large:
        arch = t(lang, "in_large", dirs=len(fx.top_dirs), names=sep.join(fx.top_dirs[:5]))
    if fx.security_paths:
        sec = t(lang, "in_sec_paths", paths=sep.join(fx.security_paths[:3]))
    elif fx.security:
        sec = t(lang, "in_sec_declared")
    generated = fx.of(PathKind.GENERATED, PathKind.VENDORED, PathKind.MINIFIED)
    if generated:  # (untested code is a risk, not repeated here)
        maint = t(lang, "in_generated", paths=sep.join(f.path for f in generated[:3]))
    perf = None
    if ChangeType.PERF in types:
        perf = t(lang, "in_perf" if fx.info.declared else "in_perf_title")
    return Insights(architecture=arch, performance=perf, security=sec, maintainability=maint)


def _risks_and_recommendations(
    commit: Commit, fx: Facts, types: tuple[ChangeType, ...], rule: str, lang: Language
) -> tuple[tuple[Risk, ...], tuple[str, ...]]:
    """One list of triggers: each may raise a risk, suggest a step naming a file, or both."""
    high, medium, low = Importance.HIGH, Importance.MEDIUM, Importance.LOW
    main = fx.biggest(*CODE_KINDS) or fx.biggest()
    top = main.path if main else ""
    ci = fx.biggest(PathKind.CI)
    # Formatting, typo and rename commits change lines, not behaviour: no "untested" risk.
    untested = fx.code_lines > UNTESTED_LINES and not fx.tests_touched and rule != "low_kw"
    revert = fx.info.reverts is not None or types[0] is ChangeType.REVERT
    inner = fx.info.reverts or _REVERT_WORD_RE.sub("", fx.subject) or fx.subject
    mig, sec, dep = (xs[0] if xs else "" for xs in (fx.migrations, fx.security_paths, fx.bumped))
    workflow = ci.path if ci is not None and ci.path.startswith(".github/workflows/") else ""
    triggers: list[tuple[bool, str | None, Importance, str | None, dict[str, Any]]] = [
        (fx.info.breaking, "rk_breaking", high, "rc_breaking", {"path": top}),
        (bool(mig), "rk_migration", high, "rc_migration", {"path": mig}),
        (bool(sec), "rk_security", medium, "rc_security", {"path": sec}),
        (revert, "rk_revert", medium, "rc_revert", {"path": top, "inner": inner}),
        (untested, "rk_untested", medium, "rc_untested", {"path": top, "lines": fx.code_lines}),
        (bool(dep), "rk_deps", low, "rc_deps", {"path": dep}),
        (commit.files_incomplete, "rk_incomplete", low, None, {}),
        (bool(workflow), None, low, "rc_ci", {"path": workflow}),
    ]
    fired = [trigger for trigger in triggers if trigger[0]]
    risks = tuple(Risk(risk=t(lang, rk, **v), severity=sev) for _, rk, sev, _, v in fired if rk)
    recs = [t(lang, rc, **v) for _, _, _, rc, v in fired if rc] if main else []
    if main and not recs:
        recs.append(t(lang, "rc_default", path=top, add=main.additions, dele=main.deletions))
    return risks[:3], tuple(recs[:3])


def analyze_commit(commit: Commit, language: Language) -> Analysis:
    """The whole heuristic analysis of one commit: pure, deterministic, post-rules applied."""
    fx = facts_of(commit)
    types = change_types(fx)
    importance, rule = _importance(commit, fx, types)
    ranked = _areas(fx, language)
    areas = tuple(a for a, _ in ranked)
    code_first = [a.path_or_module for a, code in sorted(ranked, key=lambda ac: not ac[1])]
    risks, recommendations = _risks_and_recommendations(commit, fx, types, rule, language)
    analysis = Analysis(
        change_types=types,
        importance=importance,
        importance_reason=t(
            language, rule, lines=fx.code_lines, dirs=len(fx.top_dirs), src=fx.source_lines
        ),
        breaking_change=fx.info.breaking,
        security_relevant=fx.security,
        summary=summary(
            language, _kind(fx, types), fx.subject, commit, code_first, tests=fx.tests_added
        ),
        affected_areas=areas,
        insights=_insights(fx, types, language),
        risks=risks,
        recommendations=recommendations,
        confidence="medium" if fx.info.declared else "low",
    )
    return rules.apply_post_rules(analysis, commit, language=language)


class HeuristicAnalyzer:
    """The offline default analyzer, and the stand-in when the LLM fails."""

    name = "heuristic"

    @property
    def fingerprint(self) -> str:
        return f"heuristic:{VERSION}"

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        started = time.perf_counter()
        try:
            analysis = analyze_commit(commit, language)
        except Exception as exc:  # the Analyzer contract: a bad commit is a FAILED result
            return AnalyzedCommit(
                commit=commit,
                analysis=None,
                analyzer=self.name,
                language=language,
                status=AnalysisStatus.FAILED,
                error=f"The heuristic analysis failed ({type(exc).__name__}).",
            )
        n = len(commit.files)
        return AnalyzedCommit(
            commit=commit,
            analysis=analysis,
            analyzer=self.name,
            language=language,
            # It reads every file's path and size (and manifests' diffs); nothing is clipped.
            coverage=Coverage(files_total=n, files_full=n),
            latency_ms=int((time.perf_counter() - started) * 1000),
            status=AnalysisStatus.OK,
        )
