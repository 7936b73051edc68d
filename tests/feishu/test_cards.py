"""Feishu card rendering (JSON 2.0): the post's structure, Feishu's limits, escaping.

Cards are serialised as Feishu receives them (`card_json`, then as the `content` string of a
request) and scanned; sizes are measured independently of bot.feishu.card_parts.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.replies import Reply, ReplyKind
from bot.feishu.card_parts import MAX_CARD_BYTES
from bot.feishu.cards import analysis_cards, card_json, digest_cards, reply_cards
from bot.feishu.escape import (
    code,
    link,
    markdown,
    plain,
    safe_url,
    split_markdown,
    truncate,
    wire_len,
)
from digest.models import (
    AffectedArea,
    AnalysisStatus,
    ChangeType,
    Coverage,
    Digest,
    FoldReason,
    Importance,
    Insights,
    Language,
    RepoRef,
    Risk,
)
from digest.render.clean import clean
from digest.render.i18n import EN, ZH, labels, stats_sentence
from tests.digests import (
    BIDI_AND_ZERO_WIDTH,
    hostile_digest,
    make_digest,
    make_entry,
    make_folded,
    sketch_digest,
    unreadable_digest,
)

Card = dict[str, Any]

REPORT_URL = "https://digest.example.com/reports/ai-dynamo/dynamo/2026-02-05"
OUR_LINK = re.compile(
    r"\[[0-9a-f]{7,40}\]\(https://github\.com/ai-dynamo/dynamo/commit/[0-9a-f]{40}\)"
    r"|\[PR #[0-9]+\]\(https://github\.com/ai-dynamo/dynamo/pull/[0-9]+\)"
    r"|\[📄 (?:完整报告|Full report)\]\(https://digest\.example\.com/reports/[^)\s]*\)"
)


def big_digest(n: int = 500, *, summary: str | None = None) -> Digest:
    levels = [Importance.HIGH, Importance.MEDIUM, Importance.LOW, Importance.LOW, None]
    entries = []
    for i in range(n - n // 10):
        title = f"feat(area{i % 17}): change number {i} " + "with a rather long title " * (i % 9)
        extra = {"summary": summary} if summary else {}
        entries.append(
            make_entry(
                i,
                levels[i % len(levels)],
                message=title.strip() + f" (#{1000 + i})",
                minutes=i,
                author=f"Author Number {i % 23}",
                **extra,
            )
        )
    folded = [make_folded(f"dep{i}", minutes=i * 2) for i in range(n // 10)]
    return make_digest(entries, folded)


def post(digest: Digest, **options: Any) -> list[Card]:
    options.setdefault("report_url", None)
    options.setdefault("run_key", "run-1")
    return digest_cards(digest, **options)


# --- reading cards -------------------------------------------------------------------------


def elements(cards: list[Card]) -> Iterator[dict[str, Any]]:
    """Every component of the cards' bodies, panels' contents included, in order."""
    for card in cards:
        stack = list(reversed(card["body"]["elements"]))
        while stack:
            element = stack.pop()
            yield element
            stack += reversed(element.get("elements", []))


def of_tag(cards: list[Card], tag: str) -> list[dict[str, Any]]:
    return [e for e in elements(cards) if e["tag"] == tag]


def shown(value: Any) -> Iterator[tuple[str, str]]:
    """Every string Feishu renders, with how: (`plain` | `markdown` | `cell` | `md_cell`, text).
    Callback values are data sent back to us, never shown: they are left out."""
    if isinstance(value, list):
        for inner in value:
            yield from shown(inner)
    elif isinstance(value, dict):
        if value.get("tag") == "table":
            kinds = {c["name"]: c["data_type"] for c in value["columns"]}
            for column in value["columns"]:
                yield "plain", column["display_name"]
            for row in value["rows"]:
                for key, cell in row.items():
                    yield ("md_cell" if kinds[key] == "lark_md" else "cell"), cell
            return
        for key, inner in value.items():
            if key == "behaviors":
                continue
            if key == "content" and isinstance(inner, str):
                yield ("markdown" if value.get("tag") == "markdown" else "plain"), inner
            else:
                yield from shown(inner)


def texts(cards: list[Card], *kinds: str) -> list[str]:
    return [text for kind, text in shown(cards) if not kinds or kind in kinds]


def table_rows(cards: list[Card]) -> list[dict[str, str]]:
    return [row for table in of_tag(cards, "table") for row in table["rows"]]


def wire(card: Card) -> bytes:
    """The card as the `content` string of an im/v1/messages request carries it (the card JSON
    with default separators, the larger of the two forms a poster may send)."""
    content = json.dumps(card, ensure_ascii=False)
    assert len(card_json(card)) <= len(content)
    return json.dumps(content, ensure_ascii=False).encode("utf-8")


def tagged(value: Any) -> int:
    if isinstance(value, dict):
        return ("tag" in value) + sum(tagged(v) for v in value.values())
    if isinstance(value, list):
        return sum(tagged(v) for v in value)
    return 0


def assert_within_limits(cards: list[Card]) -> None:
    for card in cards:
        assert set(card) == {"schema", "config", "header", "body"}
        assert card["schema"] == "2.0"
        assert card["config"]["update_multi"] is True
        assert card["header"]["title"]["tag"] == "plain_text"
        assert len(card["header"]["title"]["content"]) <= 150
        assert card["body"]["elements"], "an empty card"
        assert len(wire(card)) <= MAX_CARD_BYTES
        assert len(json.dumps(card, ensure_ascii=False).encode("utf-8")) <= MAX_CARD_BYTES
        assert tagged(card) <= 200
        tables = [e for e in card["body"]["elements"] if e["tag"] == "table"]
        assert len(tables) <= 5
        assert len(of_tag([card], "table")) == len(tables)  # tables only at the root
        for table in tables:
            assert 1 <= table["page_size"] <= 10
            names = {c["name"] for c in table["columns"]}
            assert all(set(row) == names for row in table["rows"])
        for panel in of_tag([card], "collapsible_panel"):
            assert panel["header"]["title"]["tag"] == "plain_text"
            assert panel["expanded"] is False
            assert all(e["tag"] not in ("table", "form") for e in panel["elements"])


def buttons(cards: list[Card]) -> list[dict[str, str]]:
    values = []
    for element in of_tag(cards, "button"):
        [behavior] = element["behaviors"]
        assert behavior["type"] == "callback"
        values.append(behavior["value"])
    return values


def panel_titles(cards: list[Card]) -> list[str]:
    return [p["header"]["title"]["content"] for p in of_tag(cards, "collapsible_panel")]


# --- the post's structure ------------------------------------------------------------------


def test_post_has_header_stats_table_panels_and_footer_in_zh() -> None:
    digest = sketch_digest("zh")
    cards = post(digest)
    assert len(cards) == 1
    [card] = cards
    assert card["header"]["title"]["content"] == (
        "📰 ai-dynamo/dynamo · 每日更新 · 2026-02-05 09:00 → 2026-02-06 09:00 (Asia/Shanghai)"
    )
    assert card["header"]["subtitle"] == {"tag": "plain_text", "content": "分支 main"}
    assert card["header"]["template"] == "orange"  # a failed analysis
    assert card["config"]["summary"]["content"] == card["header"]["title"]["content"]
    body = card["body"]["elements"]
    stats = stats_sentence(
        ZH, digest.stats, (f.reason for f in digest.folded), day=digest.window.day
    )
    assert body[0] == {"tag": "div", "text": {"tag": "plain_text", "content": stats}}
    assert "🔴高 3" in stats and "分析失败 1" in stats and "已折叠 4" in stats
    [table] = of_tag(cards, "table")
    assert body[1] is table  # one table: no caption
    assert [c["display_name"] for c in table["columns"]] == ["时间", "作者", "提交", "级别", "SHA"]
    assert [c["data_type"] for c in table["columns"]] == ["text"] * 4 + ["lark_md"]
    rows = table_rows(cards)
    commits = digest.all_commits()
    assert len(rows) == len(commits) == 15
    assert [r["c"] for r in rows] == [c.title for c in commits]  # newest first
    assert [r["s"] for r in rows] == [f"[{c.short_sha}]({c.url})" for c in commits]
    tz = ZoneInfo("Asia/Shanghai")
    assert rows[0]["t"] == commits[0].committed_at.astimezone(tz).strftime("%H:%M")
    assert rows[-1]["t"] == "09:00"
    levels = [r["l"] for r in rows]
    assert {*levels} == {"🔴 高", "🟡 中", "🟢 低", "⚠️ 分析失败", "🧹 依赖更新"}
    assert levels.count("🧹 依赖更新") == 4
    # The high items, newest first, each a folded panel with its analysis and a button.
    highs = [e for e in digest.entries if e.analysis and e.analysis.importance is Importance.HIGH]
    assert panel_titles(cards) == [f"🔴 {e.commit.title} · {e.commit.short_sha}" for e in highs]
    assert [b["sha"] for b in buttons(cards)] == [e.commit.sha for e in highs]
    footer = body[-1]
    assert footer["tag"] == "markdown"
    assert footer["content"].split("\n") == [
        "另有 7 个较低重要度的提交未展开（见上表）",
        "🧹 另有 4 个依赖更新已折叠",
        ZH.card_hint,
        "📄 完整报告见回复中的附件",
    ]
    assert_within_limits(cards)


def test_a_panel_holds_the_full_analysis_and_the_details_button() -> None:
    entry = make_entry(
        5,
        Importance.HIGH,
        change_types=(ChangeType.FEATURE, ChangeType.PERF),
        importance_reason="new capability in the core path",
        summary="Adds an LRU cache.\nSecond line.",
        affected_areas=(AffectedArea(path_or_module="src/__init__.py", note="the cache"),),
        insights=Insights(performance="fewer remote calls"),
        risks=(Risk(risk="stale entries", severity=Importance.MEDIUM),),
        recommendations=("watch the hit rate",),
        breaking_change=True,
        confidence="high",
    )
    entry = entry.model_copy(
        update={"coverage": Coverage(files_total=4, files_full=3, files_clipped=1)}
    )
    cards = post(make_digest([entry]), run_key="sub-7:2026-02-05")
    [panel] = of_tag(cards, "collapsible_panel")
    kinds = [e["tag"] for e in panel["elements"]]
    assert kinds == ["markdown", "div", "button"]
    text = panel["elements"][0]["content"]
    commit = entry.commit
    assert text == (
        f"[{commit.short_sha}]({commit.url}) · [PR #5]({commit.pr_url}) · **💥 破坏性变更**\n\n"
        "**🎯 变更类型**\n新功能 / 性能优化\n\n"
        "**⚡ 重要程度**\n🔴 高 — new capability in the core path\n\n"
        "**📋 变更摘要**\nAdds an LRU cache.\nSecond line.\n\n"
        "**🎯 影响范围**\n- `src/__init__.py` — the cache\n\n"
        "**🔍 技术洞察**\n- **性能影响** — fewer remote calls\n\n"
        "**⚠️ 潜在风险**\n1. stale entries（严重度：🟡 中）\n\n"
        "**💡 关注建议**\n- watch the hit rate"
    )
    meta = panel["elements"][1]["text"]
    assert meta == {
        "tag": "plain_text",
        "content": "分析器 llm:test · 置信度 高 · 差异覆盖 3/4 个文件完整，1 个截断，0 个省略",
        "text_size": "notation",
        "text_color": "grey",
    }
    button = panel["elements"][2]
    assert button["text"] == {"tag": "plain_text", "content": ZH.details_button}
    assert buttons(cards) == [
        {
            "action": "details",
            "repo": "ai-dynamo/dynamo",
            "sha": commit.sha,
            "run_key": "sub-7:2026-02-05",
        }
    ]
    # The same fields as the /digest <sha> answer.
    [answer] = analysis_cards(entry, language="zh")
    assert answer["body"]["elements"][0]["content"] == text
    assert answer["header"]["template"] == "red"
    assert answer["header"]["title"]["content"] == f"🔴 {commit.title} · {commit.short_sha}"


def test_min_importance_decides_which_items_get_a_panel() -> None:
    digest = sketch_digest()
    high = post(digest)  # the default: high only
    assert len(of_tag(high, "collapsible_panel")) == 3
    assert all(t.startswith("🔴") for t in panel_titles(high))
    assert "Summary of a medium change." not in card_json(high[0])
    medium = post(digest, min_importance=Importance.MEDIUM)
    assert [t[0] for t in panel_titles(medium)] == ["🔴"] * 3 + ["🟡"] * 4
    assert "另有 3 个较低重要度的提交未展开（见上表）" in card_json(medium[0])
    # Several levels: a heading before each, kept with its first panel.
    headings = [t for t in texts(medium, "markdown") if t.startswith("**🔴 高重要度变更")]
    assert headings == ["**🔴 高重要度变更 (3)**"]
    assert "**🟡 中重要度变更 (4)**" in texts(medium, "markdown")
    low = post(digest, min_importance=Importance.LOW)
    assert len(buttons(low)) == 10  # every analysed commit; never the failed one
    failed = next(e for e in digest.entries if e.analysis is None)
    assert failed.commit.sha not in {b["sha"] for b in buttons(low)}
    assert "未展开" not in card_json(low[0])
    for cards in (high, medium, low):
        assert len(table_rows(cards)) == 15  # the table always lists every commit
        assert_within_limits(cards)


def test_english_labels_and_a_report_link() -> None:
    digest = sketch_digest("en")
    cards = post(digest, report_url=REPORT_URL)
    [card] = cards
    assert card["header"]["title"]["content"].startswith("📰 ai-dynamo/dynamo · Daily update · ")
    assert card["header"]["subtitle"]["content"] == "branch main"
    [table] = of_tag(cards, "table")
    assert [c["display_name"] for c in table["columns"]] == [
        "Time",
        "Author",
        "Commit",
        "Level",
        "SHA",
    ]
    serialised = card_json(card)
    assert "15 commits on 2026-02-05" in serialised
    assert "Lower-importance commits not shown here: 7 (see the table)" in serialised
    assert "🧹 4 more folded: dependency update" in serialised
    assert f"[📄 Full report]({REPORT_URL})" in serialised
    assert "attached" not in serialised
    assert EN.details_button in serialised and EN.card_hint in serialised
    assert {r["l"] for r in table_rows(cards)} >= {"🔴 High", "⚠️ Analysis failed"}
    assert not re.search(r"[\u4e00-\u9fff]", serialised)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_label_of_the_post_comes_from_i18n(language: Language) -> None:
    lab = labels(language)
    serialised = card_json(post(sketch_digest(language), min_importance=Importance.MEDIUM)[0])
    for text in (lab.card_hint, lab.details_button, lab.report_attached, lab.cell_level):
        assert text in serialised
    for field in (lab.field_change_type, lab.field_importance, lab.field_summary):
        assert f"**{field}**" in serialised


def test_several_fold_reasons_are_one_line() -> None:
    folded = [
        make_folded("a", FoldReason.LOCKFILE),
        make_folded("b", FoldReason.BOT),
        make_folded("c", FoldReason.BOT),
        make_folded("d", FoldReason.MERGE),
    ]
    cards = post(make_digest([make_entry(1)], folded))
    assert "🧹 另有 4 个提交已折叠（机器人 2 / 合并 1 / 依赖更新 1）" in card_json(cards[0])
    assert len(table_rows(cards)) == 5
    assert {r["l"] for r in table_rows(cards)} == {"🟡 中", "🧹 机器人", "🧹 合并", "🧹 依赖更新"}


def test_notes_are_small_plain_text_and_escaped() -> None:
    notes = ("首次摘要：使用 2026-02-04 以来的日期窗口", "force-push <at id=all></at> on *main*")
    cards = post(sketch_digest(), notes=notes)
    body = cards[0]["body"]["elements"]
    assert [e["text"]["content"] for e in body[1:3]] == [
        notes[0],
        "force-push ˂at id=all˃˂/at˃ on *main*",  # plain text: `*` shows as typed
    ]
    assert all(e["text"]["text_size"] == "notation" for e in body[1:3])


def test_the_overview_is_markdown_and_escaped() -> None:
    digest = sketch_digest().model_copy(update={"overview": "A day of **fixes**.\n# Not a heading"})
    texts_md = texts(post(digest), "markdown")
    assert "**📝 今日概览**\nA day of ∗∗fixes∗∗.\n＃ Not a heading" in texts_md


def test_a_long_window_shows_dates_in_the_time_column() -> None:
    entries = [make_entry(1, minutes=0), make_entry(2, minutes=60 * 30)]
    cards = post(make_digest(entries, days=3))
    assert [r["t"] for r in table_rows(cards)] == ["02-06 15:00", "02-05 09:00"]
    assert "本时间窗口共 2 个提交" in card_json(cards[0])


def test_an_empty_digest_says_so_without_a_table() -> None:
    cards = post(make_digest([]))
    assert len(cards) == 1 and not of_tag(cards, "table")
    assert cards[0]["header"]["template"] == "grey"
    assert ZH.empty in texts(cards)
    assert_within_limits(cards)


def test_a_long_repository_name_keeps_the_header_within_150() -> None:
    repo = RepoRef(full_name="o" * 39 + "/" + "r" * 100, web_url=None)
    cards = post(make_digest([make_entry(1)], repo=repo))
    title = cards[0]["header"]["title"]["content"]
    assert len(title) <= 150 and "…" in title
    assert title.endswith("2026-02-05 09:00 → 2026-02-06 09:00 (Asia/Shanghai)")


def test_a_long_commit_title_is_cut_in_the_table_and_the_panel_header_only() -> None:
    long_title = "fix: " + "a very long commit title " * 20
    entry = make_entry(1, Importance.HIGH, message=long_title)
    cards = post(make_digest([entry]))
    [row] = table_rows(cards)
    assert len(row["c"]) <= 150 and row["c"].endswith("…")
    [title] = panel_titles(cards)
    assert len(title) <= 200 and title.endswith(f"… · {entry.commit.short_sha}")
    [panel] = of_tag(cards, "collapsible_panel")
    assert panel["elements"][0]["text"]["content"] == entry.commit.title  # in full, inside


def test_a_commit_without_url_shows_its_sha_as_code() -> None:
    entry = make_entry(1, Importance.HIGH)
    entry = entry.model_copy(update={"commit": entry.commit.model_copy(update={"url": None})})
    cards = post(make_digest([entry]))
    short = entry.commit.short_sha
    assert table_rows(cards)[0]["s"] == f"`{short}`"
    assert f"`{short}` · PR #1" in texts(cards, "markdown")[0]
    assert "](http" not in card_json(cards[0])


def test_hostile_commit_and_report_urls_cannot_plant_a_link() -> None:
    entry = make_entry(1, Importance.HIGH)
    for url, expected in (
        ("https://github.com/a/b/commit/1) [x](https://evil", "https://github.com/a/b/commit/1%29"),
        ("javascript:alert(1)", None),
        ('https://h/a b"<c>', "https://h/a%20b%22%3Cc%3E"),
    ):
        commit = entry.commit.model_copy(update={"url": url})
        cards = analysis_cards(entry.model_copy(update={"commit": commit}), language="en")
        first = cards[0]["body"]["elements"][0]["content"]
        if expected is None:
            assert "javascript" not in card_json(cards[0])
            assert first.startswith(f"`{commit.short_sha}` · PR #1")
        else:
            assert first.startswith(f"[{commit.short_sha}]({expected}")
            assert first.count("](") == 1 and "(https://evil" not in first
    for bad in ("javascript:alert(1)", "ftp://x/y", "/reports/x"):
        footer = post(sketch_digest(), report_url=bad)[0]["body"]["elements"][-1]["content"]
        assert footer.endswith(ZH.report_attached) and "](" not in footer


# --- limits --------------------------------------------------------------------------------


def check_complete(digest: Digest, cards: list[Card], min_importance: Importance) -> None:
    """Every commit in a table row, in order; every item at or above the minimum in a panel."""
    rows = table_rows(cards)
    commits = digest.all_commits()
    assert [r["s"] for r in rows] == [f"[{c.short_sha}]({c.url})" for c in commits]
    assert [r["c"] for r in rows] == [truncate(plain(c.title), 150) for c in commits]
    wanted = [
        e.commit.sha
        for e in digest.entries
        if e.analysis is not None and e.analysis.importance.rank >= min_importance.rank
    ]
    assert sorted(b["sha"] for b in buttons(cards)) == sorted(wanted)


@pytest.mark.parametrize("min_importance", [Importance.HIGH, Importance.LOW])
def test_a_500_commit_digest_stays_within_feishu_limits(min_importance: Importance) -> None:
    digest = big_digest(500)
    cards = post(digest, min_importance=min_importance, report_url=REPORT_URL)
    assert_within_limits(cards)
    check_complete(digest, cards, min_importance)
    assert len(cards) > 1
    # Captions say which rows each table holds; together they cover 1-500 without a gap.
    captions = [t for t in texts(cards, "plain") if t.startswith("📋 提交 ")]
    spans = [tuple(map(int, re.findall(r"\d+", c)[:2])) for c in captions]
    assert spans[0][0] == 1 and spans[-1][1] == 500
    assert all(b[0] == a[1] + 1 for a, b in pairwise(spans))
    assert all(c.endswith(" / 500") for c in captions)
    # Every card has the header; the later ones say they continue.
    total = len(cards)
    for n, card in enumerate(cards, start=1):
        subtitle = card["header"]["subtitle"]["content"]
        assert subtitle == ("分支 main" if n == 1 else f"分支 main · （续 {n}/{total}）")
    assert cards[0]["body"]["elements"][0]["text"]["content"].startswith("本日共 500 个提交")
    assert f"[📄 完整报告]({REPORT_URL})" in card_json(cards[-1])


def test_many_small_items_keep_the_component_count_under_200() -> None:
    entries = [make_entry(i, Importance.HIGH, minutes=i, summary="s") for i in range(300)]
    digest = make_digest(entries)
    cards = post(digest)
    assert_within_limits(cards)
    check_complete(digest, cards, Importance.HIGH)
    assert max(tagged(c) for c in cards) > 150  # the component count, not the size, binds


LONG_SUMMARY = "\n".join(
    ["第一段很长的摘要，" * 200, "", "word " * 900, "x" * 7000, '&<>"\\' * 500, "最后一行。"]
)


def test_very_long_summaries_are_split_not_cut() -> None:
    digest = big_digest(30, summary=LONG_SUMMARY)
    cards = post(digest, min_importance=Importance.LOW)
    assert_within_limits(cards)
    check_complete(digest, cards, Importance.LOW)
    escaped = re.sub(r"\s+", "", markdown(LONG_SUMMARY, multiline=True))
    # The whole summary, in order, across the markdown of each item's panel(s).
    for entry in digest.entries:
        if entry.analysis is None:
            continue
        mark = f" · {entry.commit.short_sha}"
        parts = [
            p for p in of_tag(cards, "collapsible_panel") if mark in p["header"]["title"]["content"]
        ]
        assert len(parts) > 1  # one analysis, several panels; the button in the last
        assert parts[1]["header"]["title"]["content"].endswith(f"（续 2/{len(parts)}）")
        assert [e["tag"] for e in parts[-1]["elements"]][-1] == "button"
        joined = "".join(e.get("content", "") for p in parts for e in p["elements"])
        assert escaped in re.sub(r"\s+", "", joined)


def test_a_huge_analysis_is_split_into_several_cards() -> None:
    areas = tuple(AffectedArea(path_or_module=f"src/m{i}.py", note="n " * 3000) for i in range(6))
    entry = make_entry(
        1,
        Importance.HIGH,
        summary='"quoted" ' * 3000,
        affected_areas=areas,
        insights=Insights(architecture="a " * 3000, security="b\\ " * 3000),
        recommendations=("r " * 3000,) * 3,
    )
    cards = analysis_cards(entry, language="en", lead="ai-dynamo/dynamo@abc1234")
    assert len(cards) > 2
    assert_within_limits(cards)
    assert cards[0]["header"]["subtitle"]["content"] == "ai-dynamo/dynamo@abc1234"
    total = len(cards)
    assert cards[1]["header"]["subtitle"]["content"] == (
        f"ai-dynamo/dynamo@abc1234 · (continued 2/{total})"
    )
    joined = re.sub(r"\s+", "", "".join(texts(cards, "markdown")))
    assert re.sub(r"\s+", "", '"quoted" ' * 3000) in joined


# --- escaping ------------------------------------------------------------------------------

ATTACKS = [
    "<at id=all></at>",
    '<at user_id="ou_x">x</at>',
    "<at id='ou_123'></at>",
    "@所有人",
    "@all",
    "@everyone",
    "<font color=red>red</font>",
    '<link url="https://evil.example">click</link>',
    "[click](https://evil.example)",
    "![img](img_v2_evil)",
    '<a href="https://evil.example">a</a>',
    "<https://evil.example>",
    "<person id='ou_1'></person>",
    "<text_tag color='red'>tag</text_tag>",
    "<raw>raw</raw>",
    "&#60;at id=all&#62;&#60;/at&#62;",
    "&lt;at id=all&gt;",
    "https://evil.example/path",
    "www.evil.example",
    "\u202eevil\u202c",
    "a\u2066b\u2069c",
    "zero\u200bwidth\u2060join\ufeff",
    "*bold* **strong**",
    "_italic_",
    "~~strike~~",
    "`code`",
    "```block```",
    "| a | b |",
    "> quoted",
    "${secret}",
]
ATTACK = " ".join(ATTACKS)
ATTACK_BLOCKS = ["# heading", "- item", "1. one", "---", "> quote", "+ plus"]
ATTACK_LINES = "\n".join([*ATTACK_BLOCKS, *ATTACKS])


def attack_digest(language: Language = "zh") -> Digest:
    return hostile_digest(
        ATTACK, lines=ATTACK_LINES, repo_name="evil/<at id=all></at>", language=language
    )


def assert_inert(cards: list[Card]) -> None:
    """Scan what Feishu renders: no tag, mention, planted link, format or invisible character."""
    serialised = "\n".join(card_json(c) for c in cards)
    for ch in BIDI_AND_ZERO_WIDTH:
        assert ch not in serialised, hex(ord(ch))
    displayed = [(kind, text) for kind, text in shown(cards)]
    for kind, text in displayed:
        assert not re.search(r"<\s*[a-zA-Z/!@#]", text), (kind, text)
        assert "<" not in text and ">" not in text, (kind, text)
        for mention in ("@所有人", "@all", "@everyone", "@here"):
            assert mention not in text.lower(), (kind, text)
        assert not re.search(r"&#?\w+;", text), (kind, text)
        if kind in ("markdown", "md_cell"):
            ours = OUR_LINK.findall(text)
            rest = OUR_LINK.sub("", text)
            assert text.count("](") == len(ours), text
            assert "[" not in rest and "]" not in rest, text
            assert "://" not in rest and "www." not in rest.lower(), text
            # Formatting marks of the attack show as look-alikes; ours are balanced labels.
            rest = re.sub(r"\*\*[^*\n]+\*\*", "", rest)
            rest = re.sub(r"`[^`\n]*`", "", rest)  # nothing formats inside our code spans
            for mark in ("*", "_italic_", "~~", "`", "|"):
                assert mark not in rest, (mark, text)
            for line in rest.split("\n"):
                assert line.strip() not in ATTACK_BLOCKS, line
                inner = re.sub(r"^(- |\d+\. )", "", line)  # our list items
                assert not re.match(r"\s*(#|>|[-+=] |\d+[.)]\s)", inner), line
    # Markdown text is never a link we did not build: every `](http` is one of ours.
    assert serialised.count("](http") == len(OUR_LINK.findall(serialised))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_attack_strings_are_inert_everywhere_in_the_post(language: Language) -> None:
    digest = attack_digest(language)
    cards = post(digest, min_importance=Importance.LOW, notes=(ATTACK,), report_url=REPORT_URL)
    assert_within_limits(cards)
    assert_inert(cards)
    assert len(of_tag(cards, "collapsible_panel")) == 2  # the high and the fallback item
    # The callback value is data that comes back to us, exactly as given, never shown.
    assert {b["repo"] for b in buttons(cards)} == {"evil/<at id=all></at>"}


def test_attack_strings_in_plain_text_show_as_written_but_cannot_act() -> None:
    entry = make_entry(
        1,
        message="fix *bold* <at id=all></at> in Vec<u8> & [x](https://e) @所有人",
        author='<at user_id="ou_x">x</at> \u202eevil',
    )
    [row] = table_rows(post(make_digest([entry])))
    # Look-alikes of < and > (not entities, which plain text would show as typed); plain
    # text is never formatted, so `*bold*` shows as written; a link's `](` is broken.
    assert row["a"] == '˂at user_id="ou_x"˃x˂/at˃ evil'
    assert row["c"] == "fix *bold* ˂at id=all˃˂/at˃ in Vec˂u8˃ & [x］(https://e) ＠所有人"


def test_attack_strings_are_inert_in_command_replies() -> None:
    entry = attack_digest().entries[0]
    replies = [
        Reply(ReplyKind.ERROR, f"Unknown command {ATTACK}.", ephemeral=True, usage=ATTACK),
        Reply(ReplyKind.INFO, f"Subscribed this channel to {ATTACK}."),
        Reply(ReplyKind.SUBSCRIPTIONS, f"This channel follows 1 repository:\n• {ATTACK_LINES}"),
        Reply(ReplyKind.HELP, ATTACK_LINES),
        Reply(ReplyKind.ANALYSIS, f"{ATTACK}@abc1234", analysis=entry),
        Reply(ReplyKind.DIGESTS, f"Digest of {ATTACK}."),
    ]
    for reply in replies:
        cards = reply_cards(reply)
        assert_within_limits(cards)
        assert_inert(cards)


# --- the analysis reply and command replies --------------------------------------------------


def test_fallback_and_failed_analyses_say_so() -> None:
    fallback = make_entry(1, Importance.LOW).model_copy(
        update={"status": AnalysisStatus.FALLBACK, "error": "rate limited", "analyzer": "heuristic"}
    )
    [card] = analysis_cards(fallback, language="en")
    first = card["body"]["elements"][0]["content"]
    assert (
        "\n\n⚠️ The LLM analysis failed; this one was written by the heuristic analyzer "
        "(reason: rate limited)\n\n**🎯 Change type**" in first
    )
    assert card["header"]["template"] == "green"
    failed = make_entry(2, None)
    [card] = analysis_cards(failed, language="zh")
    assert card["header"]["title"]["content"].startswith("⚠️ feat: change 2 (#2)")
    assert card["header"]["template"] == "grey"
    assert "**⚠️ 分析失败**\nthe model timed out" in card["body"]["elements"][0]["content"]
    no_error = failed.model_copy(update={"error": None})
    assert "未知错误" in card_json(analysis_cards(no_error, language="zh")[0])


def test_reply_kinds() -> None:
    [help_card] = reply_cards(
        Reply(ReplyKind.HELP, "Commit Digest\n• /digest subscribe owner/repo [paths:src/**]")
    )
    assert help_card["header"]["title"]["content"] == "Commit Digest"
    assert help_card["body"]["elements"] == [
        {
            "tag": "div",
            "text": {
                "tag": "plain_text",
                "content": "Commit Digest\n• /digest subscribe owner/repo [paths:src/**]",
            },
        }
    ]
    [error] = reply_cards(
        Reply(
            ReplyKind.ERROR,
            "No commit abc1234 in a/b.",
            ephemeral=True,
            usage="usage: /digest <sha>",
        )
    )
    assert error["header"]["template"] == "red"
    body = error["body"]["elements"]
    assert [e["text"]["content"] for e in body] == [
        "No commit abc1234 in a/b.",
        "usage: /digest ˂sha˃",
    ]
    assert body[1]["text"]["text_size"] == "notation"
    [info] = reply_cards(Reply(ReplyKind.INFO, "Subscribed this channel to my_org/my_repo."))
    assert info["body"]["elements"][0]["text"]["content"] == (
        "Subscribed this channel to my_org/my_repo."
    )
    entry = make_entry(3, Importance.MEDIUM)
    [analysis] = reply_cards(Reply(ReplyKind.ANALYSIS, "ai-dynamo/dynamo@abc1234", analysis=entry))
    assert analysis["header"]["subtitle"]["content"] == "ai-dynamo/dynamo@abc1234"
    assert analysis["body"] == analysis_cards(entry, language="zh")[0]["body"]
    [digests] = reply_cards(Reply(ReplyKind.DIGESTS, "Digest of a/b."))
    assert digests["body"]["elements"][0]["text"]["content"] == (
        "Digest of a/b. The digest follows as its own post."
    )
    many = "\n".join(f"• sub{i}/repo: daily at 09:00 Asia/Shanghai" for i in range(2000))
    cards = reply_cards(Reply(ReplyKind.SUBSCRIPTIONS, many))
    assert len(cards) > 1
    assert_within_limits(cards)
    body = "\n".join(e["text"]["content"] for c in cards for e in c["body"]["elements"])
    assert body.count("• sub") == 2000
    assert cards[0]["config"]["summary"]["content"].startswith("• sub0/repo: daily at 09:00")


# --- escape functions ----------------------------------------------------------------------


def test_markdown_escape() -> None:
    assert markdown("<at id=all></at> & <font>") == "˂at id=all˃˂/at˃ & ˂font˃"
    assert markdown("[click](https://evil) ![i](k)") == "［click］(https꞉//evil) !［i］(k)"
    assert markdown("see www.evil.com or http://x") == "see www․evil.com or http꞉//x"
    assert markdown("*a* **b** _c_ ~~d~~ `e` |f|") == "∗a∗ ∗∗b∗∗ ˍcˍ ∼∼d∼∼ ˋeˋ ｜f｜"
    assert markdown("max_tokens a~b 2*3") == "max_tokens a~b 2∗3"  # `*` emphasises inside words
    assert markdown("@所有人 @all @All @everyone a@b.c") == "＠所有人 ＠all ＠All ＠everyone a@b.c"
    assert markdown("&#60;at&#62; &lt; AT&T") == "＆#60;at＆#62; ＆lt; AT&T"
    lines = "# h\n- i\n+ p\n= s\n1. o\n2) t\n> q\n---"
    assert markdown(lines, multiline=True) == "＃ h\n－ i\n＋ p\n＝ s\n1． o\n2） t\n˃ q\n－--"
    assert markdown("a\u202eb\u200bc\u2066d\ufeff") == "abcd"
    assert markdown("one\ntwo\r\n\n\n three  ") == "one two three"
    assert markdown("one\ntwo\r\n\n\n three  ", multiline=True) == "one\ntwo\n\nthree"
    assert markdown("lone \udcff surrogate\x00") == "lone surrogate"


def test_plain_and_code() -> None:
    assert (
        plain("Vec<u8> & <at id=all> &lt; *x* [a](b)") == "Vec˂u8˃ & ˂at id=all˃ ＆lt; *x* [a］(b)"
    )
    assert plain("[Bugfix] fix https://x/y") == "[Bugfix] fix https://x/y"
    assert plain("@所有人\u202e @ALL") == "＠所有人 ＠ALL"
    assert plain("a\nb", multiline=True) == "a\nb"
    assert code("src/__init__.py") == "`src/__init__.py`"
    assert code("a`b <c> [d](https://e)") == "`aˋb ˂c˃ ［d］(https꞉//e)`"
    assert code("") == ""
    assert clean("\u2028x\u2029y") == "x y"


def test_safe_url_and_link() -> None:
    assert safe_url("https://github.com/a/b/commit/abc") == "https://github.com/a/b/commit/abc"
    assert safe_url("http://h/p?a=1&b=2") == "http://h/p?a=1&b=2"
    assert safe_url("https://h/x)y(z[w]") == "https://h/x%29y%28z%5Bw%5D"
    assert safe_url("https://h/a b<c>") == "https://h/a%20b%3Cc%3E"
    for bad in ("javascript:alert(1)", "ftp://h/x", "https:///nohost", "", None, "/relative"):
        assert safe_url(bad) is None
    assert link("https://h/x", "[label]") == "[［label］](https://h/x)"
    assert link("javascript:x", "label") == "label"


def test_truncate_and_split() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("word " * 50, 30)
    assert cut.endswith("word…") and len(cut) <= 30
    assert truncate("e\u0301" * 20, 6) in ("e\u0301e\u0301…", "e\u0301e\u0301e…")
    assert split_markdown("a" * 10 + "\n" + "b" * 10, 15) == ["a" * 10, "b" * 10]
    # A continuation of a cut line starts a new line: it cannot open a block either.
    pieces = split_markdown("x " * 10 + "# not a heading", 24)
    assert all(wire_len(p) <= 24 for p in pieces)
    assert not any(p.startswith("#") for p in pieces)
    assert wire_len('a"\\\n中') == 1 + 4 + 4 + 3 + 3


@given(st.text(max_size=400))
def test_markdown_never_leaves_a_tag_a_link_or_an_invisible_character(text: str) -> None:
    for multiline in (False, True):
        out = markdown(text, multiline=multiline)
        assert not set(out) & set("<>[]`|")
        assert not any(unicodedata.category(ch) in ("Cf", "Cs") for ch in out)
        assert "://" not in out and "@所有人" not in out and "@all" not in out.lower()
        for line in out.split("\n"):
            assert not re.match(r"(#|[-+=]|\d+[.)])", line), line
    out = plain(text)
    assert "<" not in out and ">" not in out and "\n" not in out


@given(st.text(alphabet=st.sampled_from('ab "\\<>\n😀中#-'), max_size=600), st.integers(8, 80))
def test_split_markdown_keeps_everything_within_the_limit(text: str, limit: int) -> None:
    escaped = markdown(text, multiline=True)
    pieces = split_markdown(escaped, limit)
    assert all(wire_len(p) <= limit for p in pieces)
    # Nothing lost: the same characters, up to spacing and the line-start forms.
    normal = str.maketrans({"＃": "#", "－": "-"})
    assert re.sub(r"\s", "", "".join(pieces)).translate(normal) == re.sub(
        r"\s", "", escaped
    ).translate(normal)


def test_unreadable_files_and_a_shallow_history_are_said_in_the_card_and_the_panel() -> None:
    cards = post(unreadable_digest("en"))
    shown_text = "\n".join(texts(cards))
    assert "⚠️ Unreadable files 1" in shown_text
    assert "Shallow clone: its history stops at 2026-02-05 08:00" in shown_text
    assert "(1 unreadable)" in shown_text
    assert (
        "Diff unreadable (1): src/" in shown_text
        and "(object missing from the clone)" in shown_text
    )
