"""The Markdown report: structure, anchors, counts, labels and escaping, on Digest values."""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.models import (
    AffectedArea,
    Analysis,
    AnalysisStatus,
    AnalyzedCommit,
    ChangeType,
    Commit,
    Coverage,
    Digest,
    FoldedCommit,
    FoldReason,
    Importance,
    Insights,
    Language,
    RepoRef,
    Risk,
    Window,
)
from digest.render.escape import escape_paragraphs
from digest.render.i18n import EN, ZH, labels, stats_sentence
from digest.render.layout import unique_prefixes
from digest.render.markdown import escape_inline, escape_table_cell, render_markdown
from digest.render.markdown_commit import safe_url

SHANGHAI = "Asia/Shanghai"
REPO = RepoRef(full_name="ai-dynamo/dynamo", web_url="https://github.com/ai-dynamo/dynamo")


def commit_url(sha: str) -> str:
    return f"https://github.com/ai-dynamo/dynamo/commit/{sha}"


# --- factories -----------------------------------------------------------------------------


def sha_of(seed: object) -> str:
    return hashlib.sha1(str(seed).encode()).hexdigest()


def make_commit(
    seed: object,
    message: str = "feat: something (#1)",
    *,
    at: datetime = datetime(2026, 2, 5, 4, 0, tzinfo=UTC),
    author: str = "Alice",
    sha: str | None = None,
    url: bool = True,
) -> Commit:
    sha = sha or sha_of(seed)
    return Commit(
        repo=REPO.full_name,
        sha=sha,
        author_name=author,
        authored_at=at,
        committed_at=at,
        message=message,
        url=REPO.commit_url(sha) if url else None,
    )


def make_analysis(importance: Importance = Importance.MEDIUM, **changes: object) -> Analysis:
    fields: dict[str, object] = {
        "change_types": (ChangeType.FEATURE,),
        "importance": importance,
        "importance_reason": "a reason",
        "summary": "A summary.",
    }
    fields.update(changes)
    return Analysis.model_validate(fields)


def make_entry(
    commit: Commit,
    analysis: Analysis | None = None,
    *,
    status: AnalysisStatus = AnalysisStatus.OK,
    error: str | None = None,
    analyzer: str = "llm:test-model",
    coverage: Coverage | None = None,
) -> AnalyzedCommit:
    if status is AnalysisStatus.FAILED:
        analysis = None
    elif analysis is None:
        analysis = make_analysis()
    return AnalyzedCommit(
        commit=commit,
        analysis=analysis,
        analyzer=analyzer,
        status=status,
        error=error,
        coverage=coverage,
    )


def day_window(day: str = "2026-02-05", tz: str = SHANGHAI, days: int = 1) -> Window:
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(tz))
    end = start + timedelta(days=days)
    return Window(start=start, end=end, tz=tz, day=day if days == 1 else None)


def make_digest(
    entries: tuple[AnalyzedCommit, ...] = (),
    folded: tuple[FoldedCommit, ...] = (),
    *,
    language: Language = "zh",
    window: Window | None = None,
    analyzers: tuple[str, ...] = ("llm:test-model",),
) -> Digest:
    return Digest(
        repo=REPO,
        branch="main",
        window=window or day_window(),
        language=language,
        generated_at=datetime(2026, 2, 6, 1, 0, tzinfo=UTC),
        analyzers=analyzers,
        entries=entries,
        folded=folded,
    )


def hour(h: int, minute: int = 0) -> datetime:
    """A UTC time on 2026-02-05 (08:00 to 31:59 Shanghai time)."""
    return datetime(2026, 2, 5, tzinfo=UTC) + timedelta(hours=h, minutes=minute)


def full_analysis() -> Analysis:
    return make_analysis(
        Importance.HIGH,
        change_types=(ChangeType.FEATURE, ChangeType.BUGFIX),
        importance_reason="new user-facing capability",
        breaking_change=True,
        security_relevant=True,
        summary="Adds an encoder cache.",
        affected_areas=(AffectedArea(path_or_module="src/cache.py", note="new module"),),
        insights=Insights(architecture="decouples encoder", maintainability="smaller handler"),
        risks=(Risk(risk="stale entries", severity=Importance.MEDIUM),),
        recommendations=("add a model version to the key",),
        confidence="high",
    )


def busy_digest(language: Language = "zh") -> Digest:
    """2 high, 1 medium, 1 low (a fallback), 1 failed, 3 folded."""
    entries = (
        make_entry(make_commit(1, "feat: a (#101)", at=hour(9)), full_analysis()),
        make_entry(make_commit(2, "fix: b", at=hour(8)), make_analysis(Importance.HIGH)),
        make_entry(make_commit(3, "ci: c", at=hour(7)), make_analysis(Importance.MEDIUM)),
        make_entry(
            make_commit(4, "docs: d", at=hour(6)),
            make_analysis(Importance.LOW, change_types=(ChangeType.DOCS,)),
            status=AnalysisStatus.FALLBACK,
            error="LLM timed out after 60 s",
            analyzer="heuristic",
        ),
        make_entry(
            make_commit(5, "perf: e", at=hour(5)),
            status=AnalysisStatus.FAILED,
            error="LLM answer failed validation",
        ),
    )
    folded = (
        FoldedCommit(
            commit=make_commit(6, "chore(deps): bump x", at=hour(8, 30), author="dependabot[bot]"),
            reason=FoldReason.BOT,
        ),
        FoldedCommit(
            commit=make_commit(7, "Merge branch 'a'", at=hour(4)), reason=FoldReason.MERGE
        ),
        FoldedCommit(
            commit=make_commit(8, "update uv.lock", at=hour(3)), reason=FoldReason.LOCKFILE
        ),
    )
    return make_digest(entries, folded, language=language)


# --- structural helpers ----------------------------------------------------------------------

HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*)|$)")
LINK = re.compile(r"\]\(#([^)\s]+)\)")
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
ALLOWED_TAGS = re.compile(r'^(<a id="[a-z0-9._-]+">|</a>|<sub>|</sub>)$')


def headings(md: str) -> list[tuple[int, str]]:
    return [
        (len(m.group(1)), m.group(2) or "")
        for line in md.splitlines()
        if (m := HEADING.match(line))
    ]


def unescaped_pipes(line: str) -> int:
    count, i = 0, 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        count += line[i] == "|"
        i += 1
    return count


def table_rows(md: str) -> list[str]:
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def section_of(md: str, heading: str) -> str:
    """The text under an H3, up to the next H3."""
    after = md.split(f"\n### {heading}\n", 1)[1]
    return re.split(r"\n### ", after, maxsplit=1)[0]


def assert_well_formed(md: str) -> None:
    """The invariants every report keeps, whatever the input."""
    levels = [level for level, _ in headings(md)]
    assert levels[0] == 1 and levels.count(1) == 1
    for previous, current in itertools.pairwise(levels):
        assert current <= previous + 1, f"heading jumps from H{previous} to H{current}"
    anchors = ANCHOR.findall(md)
    assert len(anchors) == len(set(anchors)), "duplicate anchors"
    for target in LINK.findall(md):
        assert anchors.count(target) == 1, f"link #{target} has no single anchor"
    for tag in re.findall(r"<[^<>\n]*>", md):
        assert ALLOWED_TAGS.match(tag), f"raw HTML {tag!r}"
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if re.fullmatch(r" {0,3}(-{2,}|={2,})\s*", line):  # a setext underline would make H1/H2
            assert i > 0 and lines[i - 1] == "", f"line {i} turns the previous one into a heading"
    rows = table_rows(md) if "| " in md else []
    assert len({unescaped_pipes(row) for row in rows}) <= 1, rows


# --- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_headings_nest_repo_h2_groups_h3_commits_h4(language: Language) -> None:
    md = render_markdown(busy_digest(language))
    assert_well_formed(md)
    hs = headings(md)
    assert hs[0][0] == 1
    assert hs[1] == (2, "ai-dynamo/dynamo")
    lab = labels(language)
    h3 = [text for level, text in hs if level == 3]
    assert h3 == [
        lab.stats,
        lab.contents,
        lab.group_heading(Importance.HIGH, 2),
        lab.group_heading(Importance.MEDIUM, 1),
        lab.group_heading(Importance.LOW, 1),
        lab.failed_group.format(n=1),
        lab.folded_group.format(n=3),
    ]
    h4 = [text for level, text in hs if level == 4]
    assert h4 == ["feat: a (#101)", "fix: b", "ci: c", "docs: d", "perf: e"]


def test_every_link_resolves_and_every_commit_has_an_anchor() -> None:
    digest = busy_digest()
    md = render_markdown(digest)
    anchors = ANCHOR.findall(md)
    links = LINK.findall(md)
    for commit in digest.all_commits():
        anchor = f"commit-{commit.sha[:7]}"
        assert anchors.count(anchor) == 1
        assert anchor in links
    for group in ("high", "medium", "low", "failed", "folded"):
        assert f"group-{group}" in links
        assert anchors.count(f"group-{group}") == 1
    assert "stats" in links and "repo-ai-dynamo-dynamo" in links
    # the anchor is on the line just before its commit's heading
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith('<a id="commit-') and line.endswith("</a>"):
            assert lines[i + 1].startswith("#### ")


def test_commits_sharing_a_short_sha_get_distinct_anchors() -> None:
    base = sha_of("x")
    twin = base[:9] + ("0" if base[9] != "0" else "1") + base[10:]
    entries = (
        make_entry(make_commit("a", "feat: one", sha=base, at=hour(3))),
        make_entry(make_commit("b", "feat: two", sha=twin, at=hour(2))),
    )
    md = render_markdown(make_digest(entries))
    assert_well_formed(md)
    assert f'<a id="commit-{base[:10]}"></a>' in md
    assert f'<a id="commit-{twin[:10]}"></a>' in md
    assert f"`{base[:10]}`" in md


def test_unique_prefixes_are_minimal() -> None:
    shas = ["a" * 40, "a" * 12 + "b" * 28, "c" * 40]
    assert unique_prefixes(shas) == {
        "a" * 40: "a" * 13,
        "a" * 12 + "b" * 28: "a" * 12 + "b",
        "c" * 40: "c" * 7,
    }


def test_the_same_commit_twice_still_gets_unique_anchors() -> None:
    commit = make_commit(1, "feat: twice")
    md = render_markdown(
        make_digest((make_entry(commit),), (FoldedCommit(commit=commit, reason=FoldReason.MERGE),))
    )
    assert_well_formed(md)
    assert len(ANCHOR.findall(md)) == 1 + 1 + 2 + 2  # repo, stats, two groups, two items


# --- counts ----------------------------------------------------------------------------------


def test_stats_line_adds_up_and_names_fold_reasons_and_fallbacks() -> None:
    md = render_markdown(busy_digest())
    line = next(line for line in md.splitlines() if line.startswith("> 本日共"))
    assert line == (
        "> 本日共 8 个提交 | 🔴高 2 | 🟡中 1 | 🟢低 1 | ⚠️分析失败 1 | "
        "已折叠 3（机器人 1 / 合并 1 / 依赖更新 1） | 其中 1 个由启发式分析器代写（大模型分析失败）"
    )
    total = re.search(r"本日共 (\d+) 个提交", line)
    parts = re.findall(r"(?:🔴高|🟡中|🟢低|⚠️分析失败|已折叠) (\d+)", line)
    assert total is not None and len(parts) == 5
    assert int(total.group(1)) == sum(int(n) for n in parts)


def test_stats_sentence_in_english_over_a_window() -> None:
    stats = busy_digest("en").stats
    reasons = [FoldReason.BOT, FoldReason.BOT]
    sentence = stats_sentence(EN, stats, reasons, day=None)
    assert sentence.startswith("8 commits in this window | 🔴 High 2 | 🟡 Medium 1 | 🟢 Low 1 | ")
    assert "⚠️ Failed 1 | Folded 3 (bot 2)" in sentence
    assert sentence.endswith("1 written by the heuristic because the LLM failed")


def test_table_lists_every_commit_newest_first_with_its_marker() -> None:
    md = render_markdown(busy_digest())
    rows = table_rows(md)
    assert rows[0] == "| 提交时间 | 作者 | 提交信息 | 重要程度 |"
    body = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]
    assert [cells[2] for cells in body] == [
        "feat: a (#101)",
        "chore(deps): bump x",
        "fix: b",
        "ci: c",
        "docs: d",
        "perf: e",
        "Merge branch 'a'",
        "update uv.lock",
    ]
    assert [cells[3] for cells in body] == [
        "🔴 高",
        "🧹 机器人",
        "🔴 高",
        "🟡 中",
        "🟢 低",
        "⚠️ 分析失败",
        "🧹 合并",
        "🧹 依赖更新",
    ]
    assert body[1][1] == "dependabot\\[bot\\]"
    times = [cells[0] for cells in body]
    assert times == sorted(times, reverse=True)


def test_table_order_does_not_depend_on_input_order() -> None:
    digest = busy_digest()
    shuffled = digest.model_copy(
        update={"entries": digest.entries[::-1], "folded": digest.folded[::-1]}
    )
    assert render_markdown(shuffled) == render_markdown(digest)


# --- labels ----------------------------------------------------------------------------------


def test_zh_labels_are_ours() -> None:
    md = render_markdown(busy_digest())
    for expected in (
        "# 每日更新报告（2026-02-05）",
        "> 时间窗口：2026-02-05 00:00 → 2026-02-06 00:00（Asia/Shanghai） · 分支 main · "
        "分析器 llm:test-model",
        "### 📊 统计摘要",
        "### 📋 目录",
        "### 🔴 高重要度变更 (2)",
        "### 🟡 中重要度变更 (1)",
        "### 🟢 低重要度变更 (1)",
        "### ⚠️ 分析失败 (1)",
        "### 🧹 已折叠 (3)",
        "**🎯 变更类型**：新功能 / Bug修复  ",
        "**⚡ 重要程度**：🔴 高 — new user-facing capability",
        "**📋 变更摘要**：Adds an encoder cache.",
        "**🎯 影响范围**：",
        "- src/cache.py — new module",
        "**🔍 技术洞察**：",
        "- **架构影响**：decouples encoder",
        "- **可维护性**：smaller handler",
        "**⚠️ 潜在风险**：",
        "1. stale entries（严重度：🟡 中）",
        "**💡 关注建议**：",
        "- add a model version to the key",
        "**💥 破坏性变更** · **🔒 涉及安全**",
        "**SHA**: `" + sha_of(1)[:7] + "` | 🔗 [查看提交](" + commit_url(sha_of(1)) + ") | "
        "[PR #101](https://github.com/ai-dynamo/dynamo/pull/101)",
        "<sub>分析器 llm:test-model · 置信度 高</sub>",
    ):
        assert expected in md.splitlines(), expected
    assert "变换摘要" not in md
    assert "暂无分析" not in md
    assert "性能影响" not in md and "安全考虑" not in md  # null insights are left out


def test_en_labels() -> None:
    md = render_markdown(busy_digest("en"))
    assert_well_formed(md)
    lines = md.splitlines()
    for expected in (
        "# Daily update report (2026-02-05)",
        "| Committed at | Author | Message | Importance |",
        "### 📊 Statistics",
        "### 📋 Contents",
        "### 🔴 High importance (2)",
        "### ⚠️ Analysis failed (1)",
        "### 🧹 Folded (3)",
        "**🎯 Change type**: Feature / Bug fix  ",
        "**⚡ Importance**: 🔴 High — new user-facing capability",
        "- **Architecture**: decouples encoder",
        "1. stale entries (severity: 🟡 Medium)",
        "**💥 Breaking change** · **🔒 Security relevant**",
        "> 8 commits on 2026-02-05 | 🔴 High 2 | 🟡 Medium 1 | 🟢 Low 1 | ⚠️ Failed 1 | "
        "Folded 3 (bot 1 / merge 1 / dependency update 1) | "
        "1 written by the heuristic because the LLM failed",
    ):
        assert expected in lines, expected
    assert not re.search(r"[\u4e00-\u9fff]", md), "Chinese text in an English report"


@pytest.mark.parametrize(
    ("change_type", "zh", "en"),
    [
        (ChangeType.FEATURE, "新功能", "Feature"),
        (ChangeType.BUGFIX, "Bug修复", "Bug fix"),
        (ChangeType.PERF, "性能优化", "Performance"),
        (ChangeType.REFACTOR, "重构", "Refactor"),
        (ChangeType.DOCS, "文档", "Docs"),
        (ChangeType.TEST, "测试", "Tests"),
        (ChangeType.CI_BUILD, "CI/构建", "CI/build"),
        (ChangeType.DEPS, "依赖更新", "Dependencies"),
        (ChangeType.CONFIG, "配置", "Config"),
        (ChangeType.SECURITY, "安全", "Security"),
        (ChangeType.REVERT, "回滚", "Revert"),
        (ChangeType.CHORE, "杂项", "Chore"),
    ],
)
def test_change_type_names(change_type: ChangeType, zh: str, en: str) -> None:
    assert ZH.change_types[change_type] == zh
    assert EN.change_types[change_type] == en
    entry = make_entry(make_commit(1), make_analysis(change_types=(change_type,)))
    assert f"**🎯 变更类型**：{zh}  " in render_markdown(make_digest((entry,))).splitlines()


def test_every_language_labels_every_enum_value() -> None:
    for lab in (labels("zh"), labels("en")):
        assert set(lab.change_types) == set(ChangeType)
        assert set(lab.importance) == set(Importance)
        assert set(lab.fold_reasons) == set(FoldReason)
    assert [ZH.importance_label(i) for i in Importance] == ["🔴 高", "🟡 中", "🟢 低"]
    assert [EN.importance_label(i) for i in Importance] == ["🔴 High", "🟡 Medium", "🟢 Low"]


def test_analyzer_text_never_becomes_a_label_or_structure() -> None:
    sneaky = (
        "**📋 变换摘要**：fake label\n# Injected heading\n> quoted\n- bullet\n1. step\n"
        "---\n<script>alert(1)</script>\n## another"
    )
    analysis = make_analysis(
        Importance.HIGH,
        importance_reason="**🎯 变更类型**：安全修复",
        summary=sneaky,
        affected_areas=(AffectedArea(path_or_module="# path", note=sneaky),),
        insights=Insights(security=sneaky),
        risks=(Risk(risk=sneaky, severity=Importance.HIGH),),
        recommendations=(sneaky,),
    )
    md = render_markdown(make_digest((make_entry(make_commit(1), analysis),)))
    assert_well_formed(md)
    assert [level for level, _ in headings(md)] == [1, 2, 3, 3, 3, 4]
    for label in ("**🎯 变更类型**", "**⚡ 重要程度**", "**📋 变更摘要**", "**🔍 技术洞察**"):
        assert md.count(label) == 1, label
    assert "**📋 变换摘要**" not in md
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert [line for line in md.splitlines() if line.startswith(">")] == [
        line for line in md.splitlines() if line.startswith(("> 时间窗口", "> 本日共"))
    ]
    assert "\\- bullet" in md and "1\\. step" in md and "\\# Injected heading" in md


# --- hostile commit messages -----------------------------------------------------------------

HOSTILE_TITLES = [
    "fix: a | b \\| c || d",
    "<script>alert(1)</script> <!channel> <@U123> @here @channel",
    "feat: `code` and ``` fence and [x](http://evil) ![img](http://evil/i.png)",
    "# heading",
    "> quote | still",
    "1. not a list",
    "- not a bullet",
    "--- ===",
    "trailing hashes ##",
    "emphasis *a* _b_ ~~c~~ **d** \\*e\\*",
    "中文标题：修复 | 缓存 🚀🔥 emoji 👨‍👩‍👧",
    "tab\tseparated\x00control\x1bchars\x7f",
    "&lt;script&gt; entity &amp; <b>bold</b>",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_cannot_break_the_report(title: str) -> None:
    message = title + "\r\n\r\n# body heading\n| a | b |"
    entries = (
        make_entry(make_commit(1, message, author=title, at=hour(5)), make_analysis()),
        make_entry(make_commit(2, "fix: plain", at=hour(4))),
    )
    folded = (FoldedCommit(commit=make_commit(3, message, at=hour(3)), reason=FoldReason.BOT),)
    md = render_markdown(make_digest(entries, folded))
    assert_well_formed(md)
    rows = table_rows(md)
    assert len(rows) == 2 + 3
    assert {unescaped_pipes(row) for row in rows} == {5}
    assert [level for level, _ in headings(md)] == [1, 2, 3, 3, 3, 4, 4, 3]
    assert "<script" not in md and "<!channel>" not in md and "<@U123>" not in md
    assert not re.search(r"(?<!\\)\]\(http://evil", md)
    assert "body heading" not in md  # the title only
    assert escape_inline(title) in rows[2]


def test_multi_line_message_shows_its_title_only_and_keeps_one_table_row() -> None:
    commit = make_commit(1, "fix: one\nsecond line\r\nthird | line")
    md = render_markdown(make_digest((make_entry(commit),)))
    assert table_rows(md)[2].count("fix: one") == 1
    assert "second line" not in md


def test_long_titles_are_never_cut() -> None:
    title = "feat: " + " ".join(f"word{i}" for i in range(120)) + " (#5950)"
    md = render_markdown(make_digest((make_entry(make_commit(1, title)),)))
    assert md.count(title) == 3  # table, contents, heading
    assert "..." not in md and "…" not in md


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<!here> & co", "&lt;!here&gt; &amp; co"),
        ("# h", "\\# h"),
        ("fix #12 (#34)", "fix \\#12 (#34)"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("12. item", "12\\. item"),
        ("3) item", "3\\) item"),
        ("a\nb\r\nc\td", "a b c d"),
        ("`x` *y* _z_ [l](u) ~s~", "\\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) \\~s\\~"),
        ("back\\slash", "back\\\\slash"),
        ("  spaced   out  ", "spaced out"),
        ("中文 🚀", "中文 🚀"),
    ],
)
def test_escape_inline(raw: str, escaped: str) -> None:
    assert escape_inline(raw) == escaped
    assert escape_table_cell(raw) == escaped


def test_escape_paragraphs_keeps_lines_and_paragraphs() -> None:
    assert escape_paragraphs("one\n# two\n\n\n- three\n") == [["one", "\\# two"], ["\\- three"]]
    assert escape_paragraphs("") == []


def test_multi_line_summary_keeps_its_lines() -> None:
    analysis = make_analysis(summary="line one\n# line two\n\nparagraph two")
    md = render_markdown(make_digest((make_entry(make_commit(1), analysis),)))
    assert "**📋 变更摘要**：line one  \n\\# line two\n\nparagraph two\n" in md


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://github.com/o/r/commit/abc", "https://github.com/o/r/commit/abc"),
        ("https://x.test/a b)(c", "https://x.test/a%20b%29%28c"),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, safe: str | None) -> None:
    assert safe_url(url) == safe


# --- failures, fallbacks, folded, empty --------------------------------------------------------


def test_failed_analysis_is_shown_as_failed_and_counted() -> None:
    md = render_markdown(busy_digest())
    section = section_of(md, "⚠️ 分析失败 (1)")
    assert "#### perf: e" in section
    assert f"`{sha_of(5)[:7]}`" in section
    assert "**⚠️ 分析失败**：LLM answer failed validation" in section
    assert "[查看提交](" in section
    assert "⚠️分析失败 1" in md
    assert "暂无分析" not in md


def test_failed_analysis_without_error_says_unknown() -> None:
    entry = make_entry(make_commit(1), status=AnalysisStatus.FAILED)
    md = render_markdown(make_digest((entry,), language="en"))
    assert "**⚠️ Analysis failed**: unknown error" in md.splitlines()


def test_fallback_analysis_says_the_heuristic_wrote_it() -> None:
    md = render_markdown(busy_digest())
    section = section_of(md, "🟢 低重要度变更 (1)")
    assert "⚠️ 大模型分析失败，本条由启发式分析器生成（原因：LLM timed out after 60 s）" in section
    assert "<sub>分析器 heuristic · 置信度 中</sub>" in section


def test_folded_commits_are_listed_in_one_line_each() -> None:
    md = render_markdown(busy_digest())
    section = section_of(md, "🧹 已折叠 (3)")
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert items == [
        f'- <a id="commit-{sha_of(6)[:7]}"></a>chore(deps): bump x · `{sha_of(6)[:7]}` · 机器人'
        f" · [查看提交]({commit_url(sha_of(6))})",
        f"- <a id=\"commit-{sha_of(7)[:7]}\"></a>Merge branch 'a' · `{sha_of(7)[:7]}` · 合并"
        f" · [查看提交]({commit_url(sha_of(7))})",
        f'- <a id="commit-{sha_of(8)[:7]}"></a>update uv.lock · `{sha_of(8)[:7]}` · 依赖更新'
        f" · [查看提交]({commit_url(sha_of(8))})",
    ]


def test_only_folded_commits() -> None:
    folded = (
        FoldedCommit(commit=make_commit(1, "Merge pull request #1"), reason=FoldReason.MERGE),
    )
    md = render_markdown(make_digest((), folded))
    assert_well_formed(md)
    assert "> 本日共 1 个提交 | 🔴高 0 | 🟡中 0 | 🟢低 0 | ⚠️分析失败 0 | 已折叠 1（合并 1）" in md
    assert [text for level, text in headings(md) if level == 3][-1] == "🧹 已折叠 (1)"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh",
            "# 每日更新报告（2026-02-05）\n\n"
            "> 时间窗口：2026-02-05 00:00 → 2026-02-06 00:00（Asia/Shanghai） · 分支 main\n\n"
            '<a id="repo-ai-dynamo-dynamo"></a>\n## ai-dynamo/dynamo\n\n本时间窗口内没有提交。\n',
        ),
        (
            "en",
            "# Daily update report (2026-02-05)\n\n"
            "> Window: 2026-02-05 00:00 → 2026-02-06 00:00 (Asia/Shanghai) · branch main\n\n"
            '<a id="repo-ai-dynamo-dynamo"></a>\n## ai-dynamo/dynamo\n\n'
            "No commits in this window.\n",
        ),
    ],
)
def test_empty_day(language: Language, expected: str) -> None:
    assert render_markdown(make_digest(language=language, analyzers=())) == expected


def test_commit_without_url_has_no_link_but_keeps_sha_and_pr() -> None:
    commit = make_commit(1, "ci: Using Dynamo Builder (#5914)", url=False)
    md = render_markdown(make_digest((make_entry(commit),)))
    assert f"**SHA**: `{sha_of(1)[:7]}` | PR #5914" in md.splitlines()
    assert "查看提交" not in md


@pytest.mark.parametrize(
    ("url", "pr_url"),
    [
        # GitHub, and a clone whose origin is github.com (GitSource builds the same URL).
        ("https://github.com/o/r/commit/{sha}", "https://github.com/o/r/pull/7"),
        ("https://ghe.example.com/o/r/commit/{sha}", "https://ghe.example.com/o/r/pull/7"),
        (None, None),  # a clone without a GitHub origin: the number, unlinked
        ("https://example.com/o/r/-/commit/{sha}", None),  # not GitHub's shape
    ],
)
def test_the_pull_request_is_linked_when_the_commit_is_on_github(
    url: str | None, pr_url: str | None
) -> None:
    sha = sha_of(3)
    commit = make_commit(3, "feat: the thing (#7)", url=False).model_copy(
        update={"url": url.format(sha=sha) if url else None}
    )
    assert commit.pr_url == pr_url
    line = next(
        line
        for line in render_markdown(make_digest((make_entry(commit),))).splitlines()
        if line.startswith("**SHA**")
    )
    assert line.endswith(f"[PR #7]({pr_url})" if pr_url else "| PR #7")
    without_number = make_commit(4, "feat: no number").model_copy(
        update={"url": f"https://github.com/o/r/commit/{sha_of(4)}"}
    )
    assert without_number.pr_url is None


def test_all_null_insights_leave_out_the_block() -> None:
    analysis = make_analysis(insights=Insights(architecture="  "))
    md = render_markdown(make_digest((make_entry(make_commit(1), analysis),)))
    assert "技术洞察" not in md


def test_meta_line_shows_analyzer_confidence_and_coverage() -> None:
    coverage = Coverage(files_total=14, files_full=12, files_clipped=1, files_omitted=1)
    entry = make_entry(make_commit(1), coverage=coverage, analyzer="llm:qwen<2>")
    lines = render_markdown(make_digest((entry,), language="en")).splitlines()
    assert (
        "<sub>analyzer llm:qwen&lt;2&gt; · confidence medium · "
        "diff coverage 12/14 files in full, 1 clipped, 1 omitted</sub>"
    ) in lines


# --- windows and time zones ------------------------------------------------------------------


def test_times_are_shown_in_the_window_time_zone() -> None:
    at = datetime(2026, 2, 5, 16, 30, tzinfo=UTC)
    md = render_markdown(make_digest((make_entry(make_commit(1, at=at)),)))
    assert "| 2026-02-06 00:30:00 | Alice |" in md
    utc = render_markdown(
        make_digest((make_entry(make_commit(1, at=at)),), window=day_window(tz="UTC"))
    )
    assert "| 2026-02-05 16:30:00 | Alice |" in utc
    assert "> 时间窗口：2026-02-05 00:00 → 2026-02-06 00:00（UTC）" in utc


def test_a_window_longer_than_a_day_shows_both_ends_in_the_title() -> None:
    window = day_window("2026-02-01", days=3)
    md = render_markdown(make_digest((make_entry(make_commit(1)),), window=window))
    assert md.startswith("# 每日更新报告（2026-02-01 00:00 → 2026-02-04 00:00）\n")
    assert "> 本时间窗口共 1 个提交 |" in md
    en = render_markdown(make_digest((make_entry(make_commit(1)),), window=window, language="en"))
    assert en.startswith("# Daily update report (2026-02-01 00:00 → 2026-02-04 00:00)\n")
    assert "> 1 commit in this window |" in en


def test_a_scheduled_window_between_posts() -> None:
    tz = ZoneInfo(SHANGHAI)
    window = Window(
        start=datetime(2026, 2, 5, 9, tzinfo=tz),
        end=datetime(2026, 2, 6, 9, tzinfo=tz),
        tz=SHANGHAI,
    )
    md = render_markdown(make_digest((make_entry(make_commit(1)),), window=window))
    assert md.startswith("# 每日更新报告（2026-02-05 09:00 → 2026-02-06 09:00）\n")


def test_rendering_is_deterministic() -> None:
    first = render_markdown(busy_digest())
    again = render_markdown(busy_digest())
    assert first == again
    assert first.endswith("\n") and not first.endswith("\n\n")


def test_the_day_overview_is_shown_escaped_under_the_window_line() -> None:
    digest = make_digest(entries=(make_entry(make_commit(1)),)).model_copy(
        update={"overview": "今天的主题是 <script>alert(1)</script> 与 [链接](http://evil)。"}
    )
    text = render_markdown(digest)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "📝 今日概览" in line)
    assert lines[at - 2].startswith("> 时间窗口")
    assert "<script>" not in text and "[链接](http" not in text
