"""The offline analyzer: every Analysis field from the message, the paths and the diff.

It needs no network and invents nothing: the grade is the heuristic's own reading of the kind
and size of the change, moved by the shared post-rules (public interfaces, security, breaking
markers, tiny or formatting-only diffs); the summary names the functions, options, keys and
files the diff changes; each risk and suggestion names the symbol or file that raised it.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections import defaultdict
from typing import Any

from digest.analysis import rules
from digest.analysis.heuristic_facts import (
    Facts,
    change_types,
    facts_of,
    guessed,
    inverted,
    lines_of,
)
from digest.analysis.heuristic_summary import (
    REVERT_WORD_RE,
    area_names,
    interface_insight,
    risks_and_recommendations,
    summary,
)
from digest.analysis.heuristic_text import TEXT, t
from digest.analysis.heuristic_titles import names_cli_addition
from digest.analysis.post_rules import Signals, apply_post_rules, decide, signals
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
)

VERSION = "v3"
CHORE_MEDIUM_LINES = 100  # a chore this big is an internal refactor in disguise
FEATURE_CLI_LINES = 30  # product source lines behind a title that adds an option or command
FEATURE_BIG_LINES = 200  # product source lines that make a new capability on their own
CHANGE_BIG_LINES = 50  # an unlabelled change this big in product source is a behaviour change

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
_GUESS_KINDS = {"cosmetic": "chore", "release": "chore", "remove": "chore", "docs_code": "chore"}

Grade = tuple[Importance, str, dict[str, Any]]  # level, the rule's key, its values
_SHAPE_CAPS = frozenset({"formatting_only", "rename_only"})


def _feature(fx: Facts, key: str | None) -> Grade:
    """A new user-facing capability needs evidence beyond the word "feat": a public interface
    (the shared lifts see those), a title that adds an option or command to sizeable product
    source, or a large amount of new product source."""
    high, medium = Importance.HIGH, Importance.MEDIUM
    src = {"src": fx.source_lines}
    if key == "improve":
        return medium, "improve", {}
    if not fx.core_code:
        return medium, "feature_aux", {}
    if names_cli_addition(fx.info.subject) and fx.source_lines >= FEATURE_CLI_LINES:
        return high, "feature_cli", src
    if fx.source_lines >= FEATURE_BIG_LINES:
        return high, "feature_big", src
    return medium, "feature_small", src


def _base(commit: Commit, fx: Facts, types: tuple[ChangeType, ...], lang: Language) -> Grade:
    """The heuristic's own rubric, first match wins; the shared lifts and caps come after."""
    high, medium, low = Importance.HIGH, Importance.MEDIUM, Importance.LOW
    key = guessed(fx, types)
    if not commit.files:
        return low, "empty", {}
    if fx.large:
        return high, "large", {"lines": fx.code_lines, "dirs": len(fx.top_dirs)}
    if fx.path_type in (ChangeType.DOCS, ChangeType.TEST):
        return low, "docs_only" if fx.path_type is ChangeType.DOCS else "test_only", {}
    renames_only = all(f.status is FileStatus.RENAMED and not lines_of(f) for f, _ in fx.files)
    if _LOW_RE.search(fx.info.subject) or renames_only or key == "cosmetic":
        return low, "low_kw", {}
    if ChangeType.CHORE in types and fx.code_lines == 0:
        return low, "chore", {}
    primary = types[0]
    src = {"src": fx.source_lines}
    if primary is ChangeType.FEATURE:
        return _feature(fx, key)
    if primary is ChangeType.BUGFIX:
        defect = fx.core_code and _DEFECT_RE.search(fx.info.subject)
        return (high, "defect", {}) if defect else (medium, "bugfix", {})
    if primary in (ChangeType.DOCS, ChangeType.TEST):
        return low, "docs_only" if primary is ChangeType.DOCS else "test_only", {}
    if primary is ChangeType.CHORE and not fx.info.declared and fx.core_code and key is None:
        if fx.tests_grew:
            return medium, "chore_tested", {}
        big = fx.source_lines >= CHANGE_BIG_LINES
        return (medium, "change_big", src) if big else (low, "change_small", src)
    if primary is ChangeType.CHORE:
        if fx.code_lines >= CHORE_MEDIUM_LINES:
            return medium, "chore_big", {}
        return low, "docs_code" if key == "docs_code" else "chore", {}
    return medium, primary.value if primary.value in TEXT else "chore_big", {}


def _revert(commit: Commit, fx: Facts, lang: Language) -> Grade:
    """A revert weighs what it takes back: the reverted change, graded by the same rules."""
    inner = fx.info.reverts or REVERT_WORD_RE.sub("", fx.subject) or fx.subject
    back = inverted(commit, inner)
    bfx = facts_of(back)
    btypes = change_types(bfx)
    if btypes[0] is ChangeType.REVERT:  # a revert of a revert: judge it as its own change
        return Importance.MEDIUM, "revert", {"inner": inner}
    level, reason, _ = _graded(back, bfx, btypes, _signals(back, bfx, btypes), lang)
    if level is Importance.HIGH:
        return Importance.HIGH, "revert_high", {"inner": inner, "why": reason}
    if bfx.core_code or bfx.code_lines:
        return Importance.MEDIUM, "revert", {"inner": inner}
    return level, "revert", {"inner": inner}  # taking back docs or tests weighs what they did


def _signals(commit: Commit, fx: Facts, types: tuple[ChangeType, ...]) -> Signals:
    revert = types[0] is ChangeType.REVERT
    return signals(commit, changes=fx.changes, security_flag=fx.security, revert_flag=revert)


def _graded(
    commit: Commit, fx: Facts, types: tuple[ChangeType, ...], s: Signals, lang: Language
) -> tuple[Importance, str, str]:
    """(level, reason in words, rule key): the base rubric, then the shared post-rules."""
    if s.revert:
        level, key, values = _revert(commit, fx, lang)
    else:
        level, key, values = _base(commit, fx, types, lang)
    final, rule = decide(level, s)
    if rule is None:  # a formatting or rename cap says more than "a small chore"
        _, cap = decide(Importance.HIGH, s)
        if cap is not None and cap.level is final and cap.key in _SHAPE_CAPS:
            rule = cap
    if rule is not None:
        return final, rule.reason(s, lang), rule.key
    _, lift = decide(Importance.LOW, s)
    if final is Importance.HIGH and lift is not None and lift.lift and key != "revert_high":
        return final, lift.reason(s, lang), lift.key  # the lift says more than "feature"
    return final, t(lang, key, **values), key


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


def _areas(fx: Facts, lang: Language) -> tuple[AffectedArea, ...]:
    """Modules by changed lines, each named by its files' common directory (as deep as true),
    with the symbols the diff changes there."""
    groups: dict[str, list[FileChange]] = defaultdict(list)
    for f, _ in fx.files:
        groups[rules.area_of(f.path)].append(f)
    ranked = sorted(groups.items(), key=lambda kv: (-sum(lines_of(f) for f in kv[1]), kv[0]))
    areas = []
    for key, fs in ranked[:6]:
        common = posixpath.commonpath([posixpath.dirname(f.path) for f in fs])
        n, add, dele = len(fs), sum(f.additions for f in fs), sum(f.deletions for f in fs)
        names = area_names(fx, {f.path for f in fs}, lang)
        note = t(lang, "area_note" if n > 1 else "area_note_one", n=n, add=add, dele=dele,
                 names=names)  # fmt: skip
        areas.append(AffectedArea(path_or_module=common or key, note=note))
    return tuple(areas)


def _insights(fx: Facts, types: tuple[ChangeType, ...], s: Signals, lang: Language) -> Insights:
    sep = "、" if lang == "zh" else ", "
    arch = maint = sec = None
    if fx.migrations:
        arch = t(lang, "in_migration", path=fx.migrations[0])
    elif s.interface is not None:
        arch = interface_insight(s, lang)
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


def analyze_commit(commit: Commit, language: Language) -> Analysis:
    """The whole heuristic analysis of one commit: pure, deterministic, post-rules applied."""
    fx = facts_of(commit)
    types = change_types(fx)
    s = _signals(commit, fx, types)
    importance, reason, rule = _graded(commit, fx, types, s, language)
    risks, recommendations = risks_and_recommendations(commit, fx, s, rule, language)
    has_code = any(k in CODE_KINDS for _, k in fx.files)
    analysis = Analysis(
        change_types=types,
        importance=importance,
        importance_reason=reason,
        breaking_change=fx.info.breaking,
        security_relevant=fx.security,
        summary=summary(commit, fx, _kind(fx, types), language),
        affected_areas=_areas(fx, language),
        insights=_insights(fx, types, s, language),
        risks=risks,
        recommendations=recommendations,
        confidence="medium" if fx.info.declared or (has_code and fx.changes.symbols) else "low",
    )
    return apply_post_rules(analysis, commit, language=language, changes=fx.changes)


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
        unreadable = sum(1 for f in commit.files if f.unreadable is not None)
        return AnalyzedCommit(
            commit=commit,
            analysis=analysis,
            analyzer=self.name,
            language=language,
            # It reads every file's path and size and every patch the source could read.
            coverage=Coverage(
                files_total=n,
                files_full=n - unreadable,
                files_omitted=unreadable,
                files_unreadable=unreadable,
            ),
            latency_ms=int((time.perf_counter() - started) * 1000),
            status=AnalysisStatus.OK,
        )
