"""Every word a report prints, in zh and en.

Labels live here, typed, so that no renderer ever prints a label the analyzer made up (the seed
report's "变换摘要" and its drifting field names came from the model).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from digest.models import ChangeType, FoldReason, Importance, Language, Stats, Unreadable
from digest.render.context import WORDS

InsightName = Literal["architecture", "performance", "security", "maintainability"]
INSIGHT_NAMES: tuple[InsightName, ...] = (
    "architecture",
    "performance",
    "security",
    "maintainability",
)

IMPORTANCE_EMOJI: Mapping[Importance, str] = MappingProxyType(
    {Importance.HIGH: "🔴", Importance.MEDIUM: "🟡", Importance.LOW: "🟢"}
)
IMPORTANCE_ORDER: tuple[Importance, ...] = (Importance.HIGH, Importance.MEDIUM, Importance.LOW)
FAILED_EMOJI = "⚠️"
FOLDED_EMOJI = "🧹"


@dataclass(frozen=True)
class Labels:
    """The words of one language; `{name}` fields are filled with str.format."""

    language: Language
    title: str  # {period}
    window: str  # {start} {end} {tz}
    branch: str  # {branch}
    analyzer: str  # {analyzer}
    overview: str  # the heading word of the day overview
    col_time: str
    col_author: str
    col_message: str
    col_importance: str
    change_types: Mapping[ChangeType, str]
    importance: Mapping[Importance, str]
    group: str  # {level} {n}
    failed_group: str  # {n}
    folded_group: str  # {n}
    fold_reasons: Mapping[FoldReason, str]
    stats: str
    contents: str
    sha: str
    view_commit: str
    pull_request: str  # {n}
    field_change_type: str
    field_importance: str
    field_summary: str
    field_affected: str
    field_insights: str
    insights: Mapping[InsightName, str]
    field_risks: str
    severity: str  # {level}, with its brackets: appended to a risk
    field_recommendations: str
    breaking: str
    security_relevant: str
    confidence: str  # {level}
    confidence_levels: Mapping[str, str]
    coverage: str  # {full} {total} {clipped} {omitted}
    coverage_unreadable: str  # {n}: appended to the coverage when the source missed files
    unreadable: Mapping[Unreadable, str]  # why, in one phrase
    unreadable_files: str  # {n} {files}
    unlisted: str  # {reason}: the commit's files could not be listed at all
    files_incomplete: str  # the source could not list every file
    shallow: str  # {date}
    fallback_note: str  # {error}
    failed: str
    unknown_error: str
    no_title: str
    empty: str
    total_day: str  # {n}, {day}
    total_window: str  # {n}
    stats_failed: str
    stats_folded: str
    stats_fallback: str  # {n}
    stats_unreadable: str  # {n}
    stats_unlisted: str  # {n}
    list_sep: str  # between localized names: change types, fold reasons
    colon: str  # after a bold field label
    # Chat posts (the Slack message; labels a card may share).
    post_title: str  # {repo} {window}
    post_window: str  # {start} {end} {tz}
    cell_time: str
    cell_author: str
    cell_commit: str
    cell_level: str
    table_part: str  # {first} {last} {total}
    not_shown: str  # {n}
    folded_one: str  # {n} {reason}
    folded_many: str  # {n} {detail}
    thread_hint: str
    report_attached: str
    report_link: str
    continued: str  # {n} {total}
    # Feishu cards.
    details_button: str  # posts an item's full analysis as a reply
    card_hint: str

    def importance_label(self, level: Importance) -> str:
        """`🔴 高` / `🔴 High`: the emoji and the name, as the table and the fields show them."""
        return f"{IMPORTANCE_EMOJI[level]} {self.importance[level]}"

    def group_heading(self, level: Importance, n: int) -> str:
        return self.group.format(level=self.importance_label(level), n=n)

    def change_type_names(self, types: Iterable[ChangeType]) -> str:
        return self.list_sep.join(self.change_types[t] for t in types)


_CHANGE_TYPES_ZH = {
    ChangeType.FEATURE: "新功能",
    ChangeType.BUGFIX: "Bug修复",
    ChangeType.PERF: "性能优化",
    ChangeType.REFACTOR: "重构",
    ChangeType.DOCS: "文档",
    ChangeType.TEST: "测试",
    ChangeType.CI_BUILD: "CI/构建",
    ChangeType.DEPS: "依赖更新",
    ChangeType.CONFIG: "配置",
    ChangeType.SECURITY: "安全",
    ChangeType.REVERT: "回滚",
    ChangeType.CHORE: "杂项",
}

_CHANGE_TYPES_EN = {
    ChangeType.FEATURE: "Feature",
    ChangeType.BUGFIX: "Bug fix",
    ChangeType.PERF: "Performance",
    ChangeType.REFACTOR: "Refactor",
    ChangeType.DOCS: "Docs",
    ChangeType.TEST: "Tests",
    ChangeType.CI_BUILD: "CI/build",
    ChangeType.DEPS: "Dependencies",
    ChangeType.CONFIG: "Config",
    ChangeType.SECURITY: "Security",
    ChangeType.REVERT: "Revert",
    ChangeType.CHORE: "Chore",
}

ZH = Labels(
    language="zh",
    title="每日更新报告（{period}）",
    window="时间窗口：{start} → {end}（{tz}）",
    branch="分支 {branch}",
    analyzer="分析器 {analyzer}",
    overview="📝 今日概览",
    col_time="提交时间",
    col_author="作者",
    col_message="提交信息",
    col_importance="重要程度",
    change_types=MappingProxyType(_CHANGE_TYPES_ZH),
    importance=MappingProxyType(
        {Importance.HIGH: "高", Importance.MEDIUM: "中", Importance.LOW: "低"}
    ),
    group="{level}重要度变更 ({n})",
    failed_group=FAILED_EMOJI + " 分析失败 ({n})",
    folded_group=FOLDED_EMOJI + " 已折叠 ({n})",
    fold_reasons=MappingProxyType(
        {FoldReason.LOCKFILE: "依赖更新", FoldReason.MERGE: "合并", FoldReason.BOT: "机器人"}
    ),
    stats="📊 统计摘要",
    contents="📋 目录",
    sha="SHA",
    view_commit="查看提交",
    pull_request="PR #{n}",
    field_change_type="🎯 变更类型",
    field_importance="⚡ 重要程度",
    field_summary="📋 变更摘要",
    field_affected="🎯 影响范围",
    field_insights="🔍 技术洞察",
    insights=MappingProxyType(
        {
            "architecture": "架构影响",
            "performance": "性能影响",
            "security": "安全考虑",
            "maintainability": "可维护性",
        }
    ),
    field_risks="⚠️ 潜在风险",
    severity="（严重度：{level}）",
    field_recommendations="💡 关注建议",
    breaking="💥 破坏性变更",
    security_relevant="🔒 涉及安全",
    confidence="置信度 {level}",
    confidence_levels=MappingProxyType({"high": "高", "medium": "中", "low": "低"}),
    coverage="差异覆盖 {full}/{total} 个文件完整，{clipped} 个截断，{omitted} 个省略",
    coverage_unreadable="（其中 {n} 个无法读取）",
    unreadable=MappingProxyType(
        {
            Unreadable.MISSING: "对象在克隆中缺失",
            Unreadable.NOT_FETCHED: "部分克隆未下载该对象（离线）",
            Unreadable.GIT_ERROR: "git 无法读取",
            Unreadable.SHALLOW: "父提交在浅克隆的历史之外",
            Unreadable.TOO_LARGE: "GitHub 未提供差异（过大）",
        }
    ),
    unreadable_files="⚠️ 差异无法读取（{n} 个文件）：{files}",
    unlisted="⚠️ 无法读取本提交的文件：{reason}",
    files_incomplete="⚠️ 文件列表不完整：来源未能列出全部文件",
    shallow="⚠️ 浅克隆：历史只到 {date}，更早的提交不在本报告中",
    fallback_note="⚠️ 大模型分析失败，本条由启发式分析器生成（原因：{error}）",
    failed="⚠️ 分析失败",
    unknown_error="未知错误",
    no_title="（无标题）",
    empty="本时间窗口内没有提交。",
    total_day="本日共 {n} 个提交",
    total_window="本时间窗口共 {n} 个提交",
    stats_failed=FAILED_EMOJI + "分析失败",
    stats_folded="已折叠",
    stats_fallback="其中 {n} 个由启发式分析器代写（大模型分析失败）",
    stats_unreadable=FAILED_EMOJI + "无法读取的文件 {n}",
    stats_unlisted=FAILED_EMOJI + "文件无法读取的提交 {n}",
    list_sep=" / ",
    colon="：",
    post_title="📰 {repo} · 每日更新 · {window}",
    post_window="{start} → {end} ({tz})",
    cell_time="时间",
    cell_author="作者",
    cell_commit="提交",
    cell_level="级别",
    table_part="📋 提交 {first}–{last} / {total}",
    not_shown="另有 {n} 个较低重要度的提交未展开（见上表）",
    folded_one=FOLDED_EMOJI + " 另有 {n} 个{reason}已折叠",
    folded_many=FOLDED_EMOJI + " 另有 {n} 个提交已折叠（{detail}）",
    thread_hint="🧵 每个展开条目的完整分析见本帖回复",
    report_attached="📄 完整报告见回复中的附件",
    report_link="📄 完整报告",
    continued="（续 {n}/{total}）",
    details_button="📨 发送完整分析到回复",
    card_hint="🔽 展开条目查看完整分析；条目中的按钮会把它发到回复中",
)

EN = Labels(
    language="en",
    title="Daily update report ({period})",
    window="Window: {start} → {end} ({tz})",
    branch="branch {branch}",
    analyzer="analyzer {analyzer}",
    overview="📝 Overview",
    col_time="Committed at",
    col_author="Author",
    col_message="Message",
    col_importance="Importance",
    change_types=MappingProxyType(_CHANGE_TYPES_EN),
    importance=MappingProxyType(
        {Importance.HIGH: "High", Importance.MEDIUM: "Medium", Importance.LOW: "Low"}
    ),
    group="{level} importance ({n})",
    failed_group=FAILED_EMOJI + " Analysis failed ({n})",
    folded_group=FOLDED_EMOJI + " Folded ({n})",
    fold_reasons=MappingProxyType(
        {
            FoldReason.LOCKFILE: "dependency update",
            FoldReason.MERGE: "merge",
            FoldReason.BOT: "bot",
        }
    ),
    stats="📊 Statistics",
    contents="📋 Contents",
    sha="SHA",
    view_commit="View commit",
    pull_request="PR #{n}",
    field_change_type="🎯 Change type",
    field_importance="⚡ Importance",
    field_summary="📋 Summary",
    field_affected="🎯 Affected areas",
    field_insights="🔍 Technical insights",
    insights=MappingProxyType(
        {
            "architecture": "Architecture",
            "performance": "Performance",
            "security": "Security",
            "maintainability": "Maintainability",
        }
    ),
    field_risks="⚠️ Risks",
    severity=" (severity: {level})",
    field_recommendations="💡 Recommendations",
    breaking="💥 Breaking change",
    security_relevant="🔒 Security relevant",
    confidence="confidence {level}",
    confidence_levels=MappingProxyType({"high": "high", "medium": "medium", "low": "low"}),
    coverage="diff coverage {full}/{total} files in full, {clipped} clipped, {omitted} omitted",
    coverage_unreadable=" ({n} unreadable)",
    unreadable=MappingProxyType(
        {
            Unreadable.MISSING: "object missing from the clone",
            Unreadable.NOT_FETCHED: "not fetched by the partial clone (offline)",
            Unreadable.GIT_ERROR: "git could not read it",
            Unreadable.SHALLOW: "its parent is outside the shallow clone",
            Unreadable.TOO_LARGE: "GitHub sent no diff (too large)",
        }
    ),
    unreadable_files="⚠️ Diff unreadable ({n}): {files}",
    unlisted="⚠️ Its files could not be read: {reason}",
    files_incomplete="⚠️ File list incomplete: the source could not list every file",
    shallow="⚠️ Shallow clone: its history stops at {date}; earlier commits are not in this report",
    fallback_note=(
        "⚠️ The LLM analysis failed; this one was written by the heuristic analyzer "
        "(reason: {error})"
    ),
    failed="⚠️ Analysis failed",
    unknown_error="unknown error",
    no_title="(no title)",
    empty="No commits in this window.",
    total_day="{n} commits on {day}",
    total_window="{n} commits in this window",
    stats_failed=FAILED_EMOJI + " Failed",
    stats_folded="Folded",
    stats_fallback="{n} written by the heuristic because the LLM failed",
    stats_unreadable=FAILED_EMOJI + " Unreadable files {n}",
    stats_unlisted=FAILED_EMOJI + " Commits with unreadable files {n}",
    list_sep=" / ",
    colon=": ",
    post_title="📰 {repo} · Daily update · {window}",
    post_window="{start} → {end} ({tz})",
    cell_time="Time",
    cell_author="Author",
    cell_commit="Commit",
    cell_level="Level",
    table_part="📋 Commits {first}–{last} of {total}",
    not_shown="Lower-importance commits not shown here: {n} (see the table)",
    folded_one=FOLDED_EMOJI + " {n} more folded: {reason}",
    folded_many=FOLDED_EMOJI + " {n} more folded ({detail})",
    thread_hint="🧵 The full analysis of each item is in the replies",
    report_attached="📄 Full report: attached in the replies",
    report_link="📄 Full report",
    continued="(continued {n}/{total})",
    details_button="📨 Post the full analysis as a reply",
    card_hint="🔽 Expand an item for its full analysis; its button posts it as a reply",
)

_BY_LANGUAGE: Mapping[Language, Labels] = MappingProxyType({"zh": ZH, "en": EN})


def labels(language: Language) -> Labels:
    return _BY_LANGUAGE[language]


def stats_sentence(
    lab: Labels, stats: Stats, fold_reasons: Iterable[FoldReason], *, day: str | None
) -> str:
    """The stats line, whose parts add up to the total (high+medium+low+failed+folded).

    `fold_reasons` is the reason of every folded commit, so each reason is shown with its count.
    `day` is the window's calendar day, YYYY-MM-DD (None for another window): named, never
    "today", which a renderer cannot know and a report read tomorrow would get wrong.
    """
    template = lab.total_day if day is not None else lab.total_window
    total = template.format(n=stats.total, day=day or "")
    if lab.language == "en" and stats.total == 1:
        total = total.replace("1 commits", "1 commit")
    counts = (stats.high, stats.medium, stats.low)
    space = "" if lab.language == "zh" else " "
    parts = [total]
    if stats.stories is not None:
        told = stats.total - stats.folded
        parts.append(WORDS[lab.language].stories.format(s=stats.stories, c=told))
    parts += [
        f"{IMPORTANCE_EMOJI[level]}{space}{lab.importance[level]} {n}"
        for level, n in zip(IMPORTANCE_ORDER, counts, strict=True)
    ]
    parts.append(f"{lab.stats_failed} {stats.failed}")
    folded = f"{lab.stats_folded} {stats.folded}"
    by_reason = Counter(fold_reasons)
    if by_reason:
        detail = lab.list_sep.join(
            f"{lab.fold_reasons[reason]} {by_reason[reason]}"
            for reason in FoldReason
            if by_reason[reason]
        )
        folded += f"（{detail}）" if lab.language == "zh" else f" ({detail})"
    parts.append(folded)
    if stats.fallback:
        parts.append(lab.stats_fallback.format(n=stats.fallback))
    if stats.unreadable_files:
        parts.append(lab.stats_unreadable.format(n=stats.unreadable_files))
    if stats.unlisted_commits:
        parts.append(lab.stats_unlisted.format(n=stats.unlisted_commits))
    if stats.context_failed:
        parts.append(WORDS[lab.language].failures.format(n=stats.context_failed))
    return " | ".join(parts)
