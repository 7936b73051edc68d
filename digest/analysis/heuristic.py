"""The offline analyzer: every Analysis field from the message, the paths and the size.

It needs no network and invents nothing: each sentence states which rule fired and which
files made it fire, so a reader can check it against the commit.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from digest.analysis import rules
from digest.analysis.rules import CODE_KINDS, PathKind, TitleInfo
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

VERSION = "v1"
LARGE_LINES = 1000  # changed code lines for a "large cross-module refactor" ...
LARGE_DIRS = 3  # ... across at least this many top-level directories
UNTESTED_LINES = 300  # code lines changed with no test file touched: worth a risk
CHORE_MEDIUM_LINES = 100  # a chore this big is an internal refactor in disguise

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
_SECURITY_TITLE_RE = re.compile(r"\bCVE-\d{4}-\d+|\bvulnerab", re.IGNORECASE)
_KEYWORDS: tuple[tuple[re.Pattern[str], ChangeType], ...] = (
    (re.compile(r"^(fix|bug|hotfix|resolve|correct)\w*\b", re.I), ChangeType.BUGFIX),
    (re.compile(r"^(add|implement|introduce|support|enable|new)\w*\b", re.I), ChangeType.FEATURE),
    (re.compile(r"^(refactor|rename|move|clean\s*up|simplify|extract)\w*\b", re.I),
     ChangeType.REFACTOR),
    (re.compile(r"^(bump|upgrade|update deps)\b", re.I), ChangeType.DEPS),
    (re.compile(r"\b(perf|speed\s*up|faster|optimi[sz]\w*)\b", re.I), ChangeType.PERF),
)  # fmt: skip

_T: dict[str, tuple[str, str]] = {
    # importance reasons: one sentence naming the rule
    "empty": ("提交不含文件改动。", "The commit changes no files."),
    "breaking": ("提交信息声明了破坏性变更。", "The message declares a breaking change."),
    "security": ("改动涉及安全敏感代码或声明为安全修复。",
                 "It touches security-sensitive code or is declared a security change."),
    "revert": ("该提交回滚了此前的提交。", "It reverts an earlier commit."),
    "large": ("跨 {dirs} 个顶层目录、共 {lines} 行代码的大规模跨模块改动。",
              "A large cross-module change: {lines} code lines across {dirs} top-level dirs."),
    "docs_only": ("仅改动文档。", "Documentation-only change."),
    "test_only": ("仅改动测试。", "Test-only change."),
    "low_kw": ("标题表明是错别字、格式、超时或重命名类改动。",
               "The title marks a typo, formatting, timeout or rename change."),
    "feature": ("声明为新功能（feat）且改动了产品源码，属于面向用户的新能力。",
                "A declared feature (feat) that changes product source: a new capability."),
    "feature_aux": ("新功能仅涉及工具、示例、基准或构建文件，不在产品源码中。",
                    "The feature touches only tooling, examples, benchmarks or build files."),
    "feature_guess": ("看起来是新功能，但提交信息未声明类型。",
                      "Looks like a new capability, but the message does not declare it."),
    "defect": ("修复标题指出运行时代码中的崩溃、数据丢失或并发类缺陷。",
               "A fix whose title names a crash, data-loss or concurrency defect in runtime code."),
    "bugfix": ("普通缺陷修复，未命中高重要度规则。", "A bug fix that meets no high rule."),
    "ci_build": ("CI 或构建流水线改动。", "A CI or build pipeline change."),
    "deps": ("依赖版本更新。", "A dependency update."),
    "refactor": ("内部重构。", "An internal refactor."),
    "perf": ("性能相关改动。", "A performance change."),
    "config": ("配置改动。", "A configuration change."),
    "chore_big": ("较大的维护性改动，按内部重构对待。",
                  "A large chore, graded as an internal refactor."),
    "chore": ("小型维护性改动。", "A small maintenance change."),
    # summary
    "sum_files": ("{subject}。共改动 {n} 个文件（+{add}/−{dele}），主要在 {areas}。",
                  "{subject}. {n} files changed (+{add}/−{dele}), mainly in {areas}."),
    "sum_one": ("{subject}。改动 1 个文件 {path}（+{add}/−{dele}）。",
                "{subject}. 1 file changed: {path} (+{add}/−{dele})."),
    "sum_empty": ("{subject}。该提交不含文件改动。", "{subject}. The commit changes no files."),
    "area_note": ("{n} 个文件，+{add}/−{dele}", "{n} files, +{add}/−{dele}"),
    "area_note_one": ("1 个文件，+{add}/−{dele}", "1 file, +{add}/−{dele}"),
    # insights
    "in_migration": ("通过迁移 {path} 改变持久化数据模型。",
                     "Changes the persisted data model through the migration {path}."),
    "in_large": ("跨 {dirs} 个顶层目录（{names}）同时改动，模块边界一起变化。",
                 "Spans {dirs} top-level directories ({names}): module boundaries move together."),
    "in_perf": ("声明为性能改动；本分析未测量实际效果。",
                "Declared as a performance change; this analysis does not measure the effect."),
    "in_sec_paths": ("涉及安全敏感路径：{paths}。", "Touches security-sensitive paths: {paths}."),
    "in_sec_declared": ("提交信息声明为安全相关改动。", "The message declares a security change."),
    "in_generated": ("包含生成或第三方代码（{paths}），应审查其来源而非产物。",
                     "Includes generated or vendored files ({paths}); review their sources."),
    # risks
    "rk_breaking": ("声明为破坏性变更：依赖被改接口的使用方需要同步调整。",
                    "Declared breaking: users of the changed interface must adapt."),
    "rk_migration": ("迁移 {path} 修改存储结构，需确认执行顺序与回滚方案。",
                     "The migration {path} changes stored data; check its order and rollback."),
    "rk_security": ("安全敏感代码 {path} 被修改。", "Security-sensitive code changed in {path}."),
    "rk_revert": ("回滚了「{inner}」，依赖它的代码可能失效。",
                  "Reverts \"{inner}\"; code built on it may break."),
    "rk_untested": ("改动 {lines} 行代码却未改动测试。",
                    "{lines} code lines changed without tests."),
    "rk_deps": ("{path} 中的依赖版本变化，行为可能随之改变。",
                "Dependency versions changed in {path}; behaviour may change with them."),
    "rk_incomplete": ("文件列表不完整，本分析只覆盖已列出的文件。",
                      "The file list is incomplete; this analysis covers only the listed files."),
    # recommendations: each names a file of the commit
    "rc_migration": ("审查迁移 {path} 及其回滚。",
                     "Review the migration in {path} and its rollback."),
    "rc_security": ("请熟悉安全的同事审查 {path} 的改动。",
                    "Have someone who owns security review the changes in {path}."),
    "rc_breaking": ("为 {path} 中的破坏性变更写明升级说明。",
                    "Document the upgrade path for the breaking change in {path}."),
    "rc_revert": ("确认基于被回滚改动的代码仍可工作，从 {path} 查起。",
                  "Check that code built on the reverted change still works, starting at {path}."),
    "rc_untested": ("为 {path} 补充测试。", "Add tests covering {path}."),
    "rc_deps": ("阅读 {path} 中被升级依赖的变更日志。",
                "Read the changelogs of the dependencies bumped in {path}."),
    "rc_ci": ("关注 {path} 接下来几次运行的结果。", "Watch the next runs of {path}."),
    "rc_default": ("从改动最大的文件 {path}（+{add}/−{dele}）开始审查。",
                   "Start the review with {path} (+{add}/−{dele}), the largest change."),
}  # fmt: skip


def _t(lang: Language, key: str, **values: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**values)


def _lines(f: FileChange) -> int:
    return f.additions + f.deletions


@dataclass(frozen=True)
class _Facts:
    """Everything the rules read, computed once per commit."""

    info: TitleInfo
    files: tuple[tuple[FileChange, PathKind], ...]
    code_lines: int
    top_dirs: tuple[str, ...]
    core_code: bool  # product source touched (not benchmarks/examples/tools)
    tests_touched: bool
    security_paths: tuple[str, ...]
    migrations: tuple[str, ...]
    bumped: tuple[str, ...]  # manifests whose diff moves version pins
    path_type: ChangeType | None  # what the paths alone say, when they all agree
    security: bool
    large: bool

    def of(self, *kinds: PathKind) -> list[FileChange]:
        return [f for f, k in self.files if k in kinds]

    def biggest(self, *kinds: PathKind) -> FileChange | None:
        found = sorted(self.of(*kinds) if kinds else [f for f, _ in self.files], key=_rank)
        return found[0] if found else None


def _rank(f: FileChange) -> tuple[int, str]:
    return (-_lines(f), f.path)


def _path_type(kinds: set[PathKind], bumped: bool) -> ChangeType | None:
    if not kinds:
        return None
    if kinds == {PathKind.DOCS}:
        return ChangeType.DOCS
    if kinds == {PathKind.TEST}:
        return ChangeType.TEST
    if kinds <= {PathKind.CI, PathKind.BUILD}:
        return ChangeType.CI_BUILD
    if kinds <= {PathKind.MANIFEST, PathKind.LOCKFILE} and bumped:
        return ChangeType.DEPS
    if kinds == {PathKind.CONFIG}:
        return ChangeType.CONFIG
    return None


def _facts(commit: Commit) -> _Facts:
    info = rules.parse_message(commit.message)
    files = tuple((f, rules.classify_file(f)) for f in commit.files)
    code = [f for f, k in files if k in CODE_KINDS]
    code_lines = sum(_lines(f) for f in code)
    top_dirs = tuple(sorted({f.path.split("/", 1)[0] for f in code if "/" in f.path}))
    sec_paths = tuple(f.path for f, k in files if k is PathKind.SECURITY)
    bumped = tuple(f.path for f, k in files if k is PathKind.MANIFEST and rules.bumps_versions(f))
    security = (
        bool(sec_paths)
        or ChangeType.SECURITY in info.declared
        or bool(_SECURITY_TITLE_RE.search(commit.title))
    )
    return _Facts(
        info=info,
        files=files,
        code_lines=code_lines,
        top_dirs=top_dirs,
        core_code=any(not rules.is_auxiliary_path(f.path) for f in code),
        tests_touched=any(k is PathKind.TEST for _, k in files),
        security_paths=sec_paths,
        migrations=tuple(f.path for f, k in files if k is PathKind.MIGRATION),
        bumped=bumped,
        path_type=_path_type({k for _, k in files}, bool(bumped)),
        security=security,
        large=code_lines > LARGE_LINES and len(top_dirs) >= LARGE_DIRS,
    )


def _change_types(fx: _Facts) -> tuple[ChangeType, ...]:
    """Declared types first; then security, then what the paths say; 1-2 in all."""
    types = list(fx.info.declared)
    if not types:
        guess = next((t for rx, t in _KEYWORDS if rx.search(fx.info.subject)), None)
        types.append(fx.path_type or guess or ChangeType.CHORE)
    if fx.security:
        types.append(ChangeType.SECURITY)
    if fx.path_type:
        types.append(fx.path_type)
    if fx.bumped:
        types.append(ChangeType.DEPS)
    return tuple(dict.fromkeys(types))[:2]


def _importance(
    commit: Commit, fx: _Facts, types: tuple[ChangeType, ...]
) -> tuple[Importance, str]:
    """DESIGN §4's rubric, first match wins; returns the level and the rule's key."""
    high, medium, low = Importance.HIGH, Importance.MEDIUM, Importance.LOW
    if not commit.files:
        return low, "empty"
    for fired, key in (
        (fx.info.breaking, "breaking"),
        (fx.security, "security"),
        (fx.info.reverts is not None, "revert"),
        (fx.large, "large"),
    ):
        if fired:
            return high, key
    if fx.path_type in (ChangeType.DOCS, ChangeType.TEST):
        return low, "docs_only" if fx.path_type is ChangeType.DOCS else "test_only"
    renames_only = all(f.status is FileStatus.RENAMED and not _lines(f) for f, _ in fx.files)
    if _LOW_RE.search(fx.info.subject) or renames_only:
        return low, "low_kw"
    if ChangeType.CHORE in types and fx.code_lines == 0:
        return low, "chore"
    primary = types[0]
    if primary is ChangeType.FEATURE:
        if ChangeType.FEATURE not in fx.info.declared:
            return medium, "feature_guess"
        return (high, "feature") if fx.core_code else (medium, "feature_aux")
    if primary is ChangeType.BUGFIX:
        defect = fx.core_code and _DEFECT_RE.search(fx.info.subject)
        return (high, "defect") if defect else (medium, "bugfix")
    if primary in (ChangeType.DOCS, ChangeType.TEST):
        return low, "docs_only" if primary is ChangeType.DOCS else "test_only"
    if primary is ChangeType.CHORE:
        big = fx.code_lines >= CHORE_MEDIUM_LINES
        return (medium, "chore_big") if big else (low, "chore")
    return medium, primary.value if primary.value in _T else "chore_big"


def _summary(commit: Commit, fx: _Facts, lang: Language, areas: list[str]) -> str:
    subject = fx.info.subject.rstrip(" .。") or commit.short_sha
    add, dele = commit.additions, commit.deletions
    if not commit.files:
        return _t(lang, "sum_empty", subject=subject)
    if len(commit.files) == 1:
        return _t(lang, "sum_one", subject=subject, path=commit.files[0].path, add=add, dele=dele)
    sep = "、" if lang == "zh" else ", "
    names = sep.join(areas[:3])
    return _t(
        lang, "sum_files", subject=subject, n=len(commit.files), add=add, dele=dele, areas=names
    )


def _areas(fx: _Facts, lang: Language) -> tuple[AffectedArea, ...]:
    """Modules by changed lines, each named by its files' common directory (as deep as true)."""
    groups: dict[str, list[FileChange]] = defaultdict(list)
    for f, _ in fx.files:
        groups[rules.area_of(f.path)].append(f)
    ranked = sorted(groups.items(), key=lambda kv: (-sum(_lines(f) for f in kv[1]), kv[0]))
    areas = []
    for key, fs in ranked[:6]:
        common = posixpath.commonpath([posixpath.dirname(f.path) for f in fs])
        n, add, dele = len(fs), sum(f.additions for f in fs), sum(f.deletions for f in fs)
        note = _t(lang, "area_note" if n > 1 else "area_note_one", n=n, add=add, dele=dele)
        areas.append(AffectedArea(path_or_module=common or key, note=note))
    return tuple(areas)


def _insights(fx: _Facts, types: tuple[ChangeType, ...], lang: Language) -> Insights:
    sep = "、" if lang == "zh" else ", "
    arch = maint = sec = None
    if fx.migrations:
        arch = _t(lang, "in_migration", path=fx.migrations[0])
    elif fx.large:
        arch = _t(lang, "in_large", dirs=len(fx.top_dirs), names=sep.join(fx.top_dirs[:5]))
    if fx.security_paths:
        sec = _t(lang, "in_sec_paths", paths=sep.join(fx.security_paths[:3]))
    elif fx.security:
        sec = _t(lang, "in_sec_declared")
    generated = fx.of(PathKind.GENERATED, PathKind.VENDORED, PathKind.MINIFIED)
    if generated:  # (untested code is a risk, not repeated here)
        maint = _t(lang, "in_generated", paths=sep.join(f.path for f in generated[:3]))
    perf = _t(lang, "in_perf") if ChangeType.PERF in types else None
    return Insights(architecture=arch, performance=perf, security=sec, maintainability=maint)


def _risks_and_recommendations(
    commit: Commit, fx: _Facts, lang: Language
) -> tuple[tuple[Risk, ...], tuple[str, ...]]:
    """One list of triggers: each may raise a risk, suggest a step naming a file, or both."""
    high, medium, low = Importance.HIGH, Importance.MEDIUM, Importance.LOW
    main = fx.biggest(*CODE_KINDS) or fx.biggest()
    top = main.path if main else ""
    ci = fx.biggest(PathKind.CI)
    untested = fx.code_lines >= UNTESTED_LINES and not fx.tests_touched
    revert, inner = fx.info.reverts is not None, fx.info.reverts or fx.info.subject
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
    fired = [t for t in triggers if t[0]]
    risks = tuple(Risk(risk=_t(lang, rk, **v), severity=sev) for _, rk, sev, _, v in fired if rk)
    recs = [_t(lang, rc, **v) for _, _, _, rc, v in fired if rc] if main else []
    if main and not recs:
        recs.append(_t(lang, "rc_default", path=top, add=main.additions, dele=main.deletions))
    return risks[:3], tuple(recs[:3])


def analyze_commit(commit: Commit, language: Language) -> Analysis:
    """The whole heuristic analysis of one commit: pure, deterministic, post-rules applied."""
    fx = _facts(commit)
    types = _change_types(fx)
    importance, rule = _importance(commit, fx, types)
    areas = _areas(fx, language)
    risks, recommendations = _risks_and_recommendations(commit, fx, language)
    analysis = Analysis(
        change_types=types,
        importance=importance,
        importance_reason=_t(language, rule, lines=fx.code_lines, dirs=len(fx.top_dirs)),
        breaking_change=fx.info.breaking,
        security_relevant=fx.security,
        summary=_summary(commit, fx, language, [a.path_or_module for a in areas]),
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
