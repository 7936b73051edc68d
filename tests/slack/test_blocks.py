"""Slack Block Kit rendering: the post's structure, Slack's limits, escaping of untrusted text.

Blocks are serialised with json.dumps and scanned, as Slack would receive them; each block is
also parsed and validated by slack_sdk's own models, an independent reading of Slack's rules.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.replies import Reply, ReplyKind
from bot.slack.blocks import DigestPost, Message, analysis_blocks, digest_messages, reply_messages
from bot.slack.escape import (
    escape_code,
    escape_text,
    link,
    plain_text,
    safe_url,
    slack_len,
    split_text,
    truncate,
)
from bot.slack.kit import (
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_MESSAGE_TEXT,
    MAX_TABLE_ROWS,
    MAX_TEXT,
    block_text_length,
)
from digest.models import (
    AffectedArea,
    AnalysisStatus,
    AnalyzedCommit,
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
from tests.blockkit import block_kit_problems
from tests.chat_samples import huge_entry
from tests.digests import (
    BIDI_AND_ZERO_WIDTH,
    hostile_digest,
    make_digest,
    make_entry,
    make_folded,
    sketch_digest,
    unreadable_digest,
)

# Our links: a commit's page, and the pull request's beside it.
OUR_LINK = re.compile(
    r"<https://github\.com/ai-dynamo/dynamo/"
    r"(?:commit/[0-9a-f]{40}\|[0-9a-f]{7,40}|pull/[0-9]+\|PR #[0-9]+)>"
)


# --- helpers -------------------------------------------------------------------------------


def all_messages(post: DigestPost) -> list[Message]:
    return [*post.main, *post.thread]


def dump(messages: list[Message]) -> str:
    return json.dumps([{"text": m.text, "blocks": m.blocks} for m in messages], ensure_ascii=False)


def texts_of(value: Any, kind: str | None = None) -> Iterator[str]:
    """Every text string in blocks; with `kind`, only those of text objects of that type."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                if kind is None or value.get("type") == kind:
                    yield inner
            else:
                yield from texts_of(inner, kind)
    elif isinstance(value, list):
        for inner in value:
            yield from texts_of(inner, kind)


def table_rows(messages: list[Message]) -> list[list[str]]:
    """The data rows of every table (header rows dropped), in order."""
    rows: list[list[str]] = []
    for message in messages:
        for block in message.blocks:
            if block["type"] == "table":
                body = block["rows"]
                assert [c["text"] for c in body[0]][:3] in (
                    [ZH.cell_time, ZH.cell_author, ZH.cell_commit],
                    [EN.cell_time, EN.cell_author, EN.cell_commit],
                )
                rows += [[c["text"] for c in row] for row in body[1:]]
    return rows


def assert_within_limits(messages: list[Message]) -> None:
    for message in messages:
        blocks = message.blocks
        assert blocks, "a message without blocks"
        assert message.text and slack_len(message.text) <= 4000
        assert len(blocks) <= MAX_BLOCKS
        assert block_text_length(blocks) <= MAX_MESSAGE_TEXT
        assert sum(1 for b in blocks if b["type"] == "table") <= 1
        for block in blocks:
            if block["type"] == "header":
                assert slack_len(block["text"]["text"]) <= MAX_HEADER
                assert block["text"]["type"] == "plain_text"
            if block["type"] == "section":
                assert slack_len(block["text"]["text"]) <= MAX_TEXT
            if block["type"] == "context":
                assert 1 <= len(block["elements"]) <= 10
                assert all(slack_len(e["text"]) <= MAX_TEXT for e in block["elements"])
            if block["type"] == "table":
                assert 2 <= len(block["rows"]) <= MAX_TABLE_ROWS
                assert all(
                    c["text"] and slack_len(c["text"]) <= 200 for r in block["rows"] for c in r
                )
            # Every mrkdwn object is verbatim: no auto links, channel names or mentions.
            for obj in [block.get("text"), *block.get("elements", [])]:
                if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                    assert obj["verbatim"] is True
        assert block_kit_problems(blocks) == []  # slack_sdk's own models (tests/blockkit.py)


# --- the post's structure ------------------------------------------------------------------


def test_post_has_header_stats_table_items_and_footer_in_zh() -> None:
    digest = sketch_digest("zh")
    post = digest_messages(digest, report_url=None)
    assert len(post.main) == 1
    blocks = post.main[0].blocks
    types = [b["type"] for b in blocks]
    assert types[0] == "header"
    assert blocks[0]["text"]["text"] == (
        "📰 ai-dynamo/dynamo · 每日更新 · 2026-02-05 09:00 → 2026-02-06 09:00 (Asia/Shanghai)"
    )
    stats = stats_sentence(
        ZH, digest.stats, (f.reason for f in digest.folded), day=digest.window.day
    )
    assert blocks[1] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": stats, "verbatim": True},
    }
    assert "🔴高 3" in stats and "分析失败 1" in stats and "已折叠 4" in stats
    assert types.count("table") == 1
    table = next(b for b in blocks if b["type"] == "table")
    assert [c["text"] for c in table["rows"][0]] == ["时间", "作者", "提交", "级别"]
    rows = table_rows(post.main)
    commits = digest.all_commits()
    assert len(rows) == len(commits) == 15
    assert [r[2] for r in rows] == [c.title for c in commits]  # newest first
    assert rows[0][0] == commits[0].committed_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime(
        "%H:%M"
    )
    assert rows[-1][0] == "09:00"
    assert {r[3] for r in rows} == {"🔴", "🟡", "🟢", "⚠️", "🧹"}
    assert [r[3] for r in rows].count("🧹") == 4
    footer = blocks[-1]
    assert footer["type"] == "context"
    footer_text = " ".join(e["text"] for e in footer["elements"])
    assert "🧹 另有 4 个依赖更新已折叠" in footer_text
    assert "🧵 每个展开条目的完整分析见本帖回复" in footer_text
    assert "📄 完整报告见回复中的附件" in footer_text
    assert_within_limits(all_messages(post))


def test_detailed_items_are_in_the_main_post_and_each_has_a_thread_reply() -> None:
    digest = sketch_digest()
    post = digest_messages(digest, report_url=None)
    analysed = [e for e in digest.entries if e.analysis is not None]
    assert len(post.thread) == len(analysed) == 10  # min LOW: every analysed commit
    main = dump(post.main)
    for entry in analysed:
        assert f"|{entry.commit.short_sha}>" in main
        assert f"Summary of a {entry.analysis.importance.value} change." in main  # type: ignore[union-attr]
    # Highs first, then mediums, then lows: the thread follows the order of the post.
    levels = [m.text[0] for m in post.thread]
    assert levels == ["🔴"] * 3 + ["🟡"] * 4 + ["🟢"] * 3
    for reply, entry in zip(post.thread, [e for e in _ordered(digest)], strict=True):
        assert entry.commit.short_sha in reply.text
    # The failed analysis is in the table and the stats, not detailed.
    failed = next(e for e in digest.entries if e.analysis is None)
    assert failed.commit.short_sha not in main


def _ordered(digest: Digest) -> list[AnalyzedCommit]:
    rank = {Importance.HIGH: 0, Importance.MEDIUM: 1, Importance.LOW: 2}
    analysed = [e for e in digest.entries if e.analysis is not None]
    return sorted(analysed, key=lambda e: rank[e.analysis.importance])  # type: ignore[union-attr]


def test_min_importance_details_only_items_at_or_above_it() -> None:
    digest = sketch_digest()
    post = digest_messages(digest, report_url=None, min_importance=Importance.HIGH)
    assert len(post.thread) == 3
    assert all(m.text.startswith("🔴") for m in post.thread)
    main = dump(post.main)
    assert "另有 7 个较低重要度的提交未展开（见上表）" in main
    assert "Summary of a medium change." not in main
    assert len(table_rows(post.main)) == 15  # the table still lists every commit
    medium = digest_messages(digest, report_url=None, min_importance=Importance.MEDIUM)
    assert len(medium.thread) == 7
    assert "另有 3 个较低重要度的提交未展开" in dump(medium.main)


def test_english_labels_and_a_report_link() -> None:
    digest = sketch_digest("en")
    url = "https://digest.example.com/reports/ai-dynamo/dynamo/2026-02-05"
    post = digest_messages(digest, report_url=url, min_importance=Importance.HIGH)
    blocks = post.main[0].blocks
    assert blocks[0]["text"]["text"].startswith("📰 ai-dynamo/dynamo · Daily update · ")
    table = next(b for b in blocks if b["type"] == "table")
    assert [c["text"] for c in table["rows"][0]] == ["Time", "Author", "Commit", "Level"]
    main = dump(post.main)
    assert "15 commits on 2026-02-05" in main
    assert "Lower-importance commits not shown here: 7 (see the table)" in main
    assert "🧹 4 more folded: dependency update" in main
    assert f"<{url}|📄 Full report>" in main
    assert "attached" not in main
    reply = dump(post.thread[:1])
    for label in (EN.field_change_type, EN.field_importance, EN.field_summary):
        assert f"*{label}*" in reply
    assert "分析" not in main + reply


def test_several_fold_reasons_and_a_bot_are_one_line() -> None:
    folded = [
        make_folded("a", FoldReason.LOCKFILE),
        make_folded("b", FoldReason.BOT),
        make_folded("c", FoldReason.BOT),
        make_folded("d", FoldReason.MERGE),
    ]
    post = digest_messages(make_digest([make_entry(1)], folded), report_url=None)
    main = dump(post.main)
    assert "🧹 另有 4 个提交已折叠（机器人 2 / 合并 1 / 依赖更新 1）" in main
    assert len(table_rows(post.main)) == 5


def test_notes_are_small_print_and_escaped() -> None:
    notes = ("首次摘要：使用 2026-02-04 以来的日期窗口", "force-push <!channel> on *main*")
    post = digest_messages(sketch_digest(), report_url=None, notes=notes)
    blocks = post.main[0].blocks
    context = blocks[2]
    assert context["type"] == "context"
    assert [e["text"] for e in context["elements"]] == [
        notes[0],
        "force-push &lt;!channel&gt; on \u2217main\u2217",
    ]


def test_a_long_window_shows_dates_in_the_time_column() -> None:
    entries = [make_entry(1, minutes=0), make_entry(2, minutes=60 * 30)]
    post = digest_messages(make_digest(entries, days=3), report_url=None)
    rows = table_rows(post.main)
    assert [r[0] for r in rows] == ["02-06 15:00", "02-05 09:00"]
    assert "本时间窗口共 2 个提交" in dump(post.main)


def test_an_empty_digest_says_so_without_a_table() -> None:
    post = digest_messages(make_digest([]), report_url=None)
    assert len(post.main) == 1 and post.thread == []
    assert all(b["type"] != "table" for b in post.main[0].blocks)
    assert ZH.empty in dump(post.main)
    assert_within_limits(post.main)


def test_a_long_repository_name_keeps_the_header_within_150() -> None:
    repo = RepoRef(full_name="o" * 39 + "/" + "r" * 100, web_url=None)
    post = digest_messages(make_digest([make_entry(1)], repo=repo), report_url=None)
    text = post.main[0].blocks[0]["text"]["text"]
    assert slack_len(text) <= MAX_HEADER
    assert text.endswith("2026-02-05 09:00 → 2026-02-06 09:00 (Asia/Shanghai)")
    assert "…" in text


def test_a_commit_without_url_shows_its_sha_as_code() -> None:
    entry = make_entry(1, Importance.HIGH)
    commit = entry.commit.model_copy(update={"url": None})
    entry = entry.model_copy(update={"commit": commit})
    post = digest_messages(make_digest([entry]), report_url=None)
    assert f"`{commit.short_sha}`" in dump(post.main)
    assert "<http" not in dump(all_messages(post))


# --- limits --------------------------------------------------------------------------------


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
    return make_digest(entries, folded, days=1)


def check_complete(digest: Digest, post: DigestPost) -> None:
    """Every commit in a table row; every detailed item in the main post and the thread."""
    rows = table_rows(post.main)
    assert len(rows) == len(digest.all_commits())
    titles = [truncate(plain_text(c.title), 150) for c in digest.all_commits()]
    assert [r[2] for r in rows] == titles
    main, thread = dump(post.main), dump(post.thread)
    for entry in digest.entries:
        if entry.analysis is not None:
            sha_link = f"commit/{entry.commit.sha}|"
            assert sha_link in main
            assert sha_link in thread


def test_a_500_commit_digest_stays_within_slack_limits() -> None:
    digest = big_digest(500)
    post = digest_messages(digest, report_url=None)
    assert_within_limits(all_messages(post))
    check_complete(digest, post)
    assert len(post.main) > 1
    # Only the first message carries the header; later ones say they continue it.
    assert post.main[0].blocks[0]["type"] == "header"
    assert all(b["type"] != "header" for m in post.main[1:] for b in m.blocks)
    assert all("（续 " in m.text for m in post.main[1:])
    analysed = sum(1 for e in digest.entries if e.analysis is not None)
    assert len(post.thread) == analysed


def test_a_500_commit_digest_with_only_high_items_detailed() -> None:
    digest = big_digest(500)
    post = digest_messages(digest, report_url=None, min_importance=Importance.HIGH)
    assert_within_limits(all_messages(post))
    assert len(table_rows(post.main)) == 500
    highs = [e for e in digest.entries if e.analysis and e.analysis.importance is Importance.HIGH]
    assert len(post.thread) == len(highs)
    main = dump(post.main)
    assert all(f"commit/{e.commit.sha}|" in main for e in highs)


LONG_SUMMARY = "\n".join(
    ["第一段很长的摘要，" * 200, "", "word " * 900, "x" * 7000, "&<>" * 500, "最后一行。"]
)


def test_very_long_summaries_are_split_not_cut() -> None:
    digest = big_digest(30, summary=LONG_SUMMARY)
    post = digest_messages(digest, report_url=None)
    assert_within_limits(all_messages(post))
    check_complete(digest, post)
    escaped = re.sub(r"\s+", "", escape_text(LONG_SUMMARY, multiline=True))
    # The whole summary, in order, across the sections of one thread reply...
    first_reply = "".join(
        t for m in analysis_blocks(digest.entries[0], language="zh") for t in texts_of(m.blocks)
    )
    assert escaped in re.sub(r"\s+", "", first_reply)
    # ... and of the main post (the item's sections are consecutive).
    main_text = "".join(t for m in post.main for t in texts_of(m.blocks, "mrkdwn"))
    assert escaped in re.sub(r"\s+", "", main_text)
    # An entity is never cut in two by a split.
    for message in all_messages(post):
        for text in texts_of(message.blocks, "mrkdwn"):
            assert not re.search(r"&(a|am|l|g|amp|lt|gt)?$", text)
            assert not re.match(r"^(mp|p|t)?;", text)


def test_a_huge_analysis_is_split_into_several_replies() -> None:
    messages = analysis_blocks(huge_entry(), language="en")
    assert len(messages) > 1
    assert_within_limits(messages)
    assert messages[1].text.endswith("(continued 2/" + str(len(messages)) + ")")


# --- escaping ------------------------------------------------------------------------------

ATTACKS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<!subteam^S1>",
    "<#C123>",
    "<https://evil.example|click>",
    "<mailto:a@b.c|mail>",
    "<!date^1392734382^{date}|x>",
    "@channel",
    "@here",
    "@everyone",
    "\u202eevil\u202c",
    "a\u2066b\u2069c",
    "zero\u200bwidth\u2060join\ufeff",
    "*bold*",
    "_italic_",
    "~strike~",
    "`code`",
    "```block```",
    "> quoted",
    "&lt;!channel&gt;",
]
ATTACK = " ".join(ATTACKS)


def attack_digest() -> Digest:
    return hostile_digest(ATTACK)


def assert_inert(serialised: str) -> None:
    for token in ("<!", "<@", "<#", "<mailto", "<https://evil", "|click>"):
        assert token not in serialised, token
    assert len(re.findall(r"<http", serialised)) == len(OUR_LINK.findall(serialised))
    for word in ("@channel", "@here", "@everyone"):
        assert word not in serialised.lower()
    for ch in BIDI_AND_ZERO_WIDTH:
        assert ch not in serialised, hex(ord(ch))


def assert_no_untrusted_formatting(messages: list[Message]) -> None:
    """In mrkdwn, the attack's formatting marks show as look-alikes (ours are balanced pairs)."""
    for message in messages:
        for text in [message.text, *texts_of(message.blocks, "mrkdwn")]:
            text = re.sub(r"`[^`\n]*`", "", text)  # nothing formats inside our code spans
            for mark in ("*bold*", "_italic_", "~strike~", "`code`", "```"):
                assert mark not in text, (mark, text)
            assert not any(line.startswith(("&gt;", ">")) for line in text.split("\n"))


def test_attack_strings_are_inert_everywhere_in_the_post() -> None:
    digest = attack_digest()
    notes = (ATTACK,)
    for language in ("zh", "en"):
        post = digest_messages(
            digest.model_copy(update={"language": language}), report_url=None, notes=notes
        )
        messages = all_messages(post)
        assert_within_limits(messages)
        assert_inert(dump(messages))
        assert_no_untrusted_formatting(messages)
        assert len(post.thread) == 2  # the high and the fallback item


def test_attack_strings_in_the_raw_text_table_show_as_written_but_cannot_act() -> None:
    entry = make_entry(
        1, message="fix *bold* <!here> in Vec<u8> & more", author="<@U123> \u202eevil"
    )
    rows = table_rows(digest_messages(make_digest([entry]), report_url=None).main)
    # Look-alikes of < and >, not entities (raw_text shows entities as typed); raw_text is
    # never formatted, so `*bold*` shows as written.
    assert rows[0][1:3] == ["˂@U123˃ evil", "fix *bold* ˂!here˃ in Vec˂u8˃ & more"]


def test_attack_strings_are_inert_in_command_replies() -> None:
    entry = attack_digest().entries[0]
    replies = [
        Reply(ReplyKind.ERROR, f"Unknown command {ATTACK}.", ephemeral=True, usage=ATTACK),
        Reply(ReplyKind.INFO, f"Subscribed this channel to {ATTACK}."),
        Reply(ReplyKind.SUBSCRIPTIONS, f"This channel follows 1 repository:\n• {ATTACK}"),
        Reply(ReplyKind.HELP, ATTACK),
        Reply(ReplyKind.ANALYSIS, f"{ATTACK}@abc1234", analysis=entry),
        Reply(ReplyKind.DIGESTS, f"Digest of {ATTACK}."),
    ]
    for reply in replies:
        messages = reply_messages(reply)
        assert_within_limits(messages)
        assert_inert(dump(messages))


def test_a_hostile_commit_url_cannot_plant_a_link() -> None:
    entry = make_entry(1, Importance.HIGH)
    for url, expected in (
        (
            "https://github.com/a/b/commit/1|click here>",
            "https://github.com/a/b/commit/1%7Cclick%20here%3E|",
        ),
        ("javascript:alert(1)", None),
        ("https://github.com/a/b?x=1&y=<2>", "https://github.com/a/b?x=1&amp;y=%3C2%3E|"),
    ):
        commit = entry.commit.model_copy(update={"url": url})
        messages = analysis_blocks(entry.model_copy(update={"commit": commit}), language="en")
        serialised = dump(messages)
        if expected is None:
            assert "javascript" not in serialised
            assert f"`{commit.short_sha}` · PR #1" in serialised  # the sha as code, no link
        else:
            assert f"<{expected}" in serialised


# --- the analysis reply ----------------------------------------------------------------------


def test_analysis_reply_mirrors_the_report_fields() -> None:
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
    messages = analysis_blocks(entry, language="zh")
    assert len(messages) == 1
    text = "\n".join(texts_of(messages[0].blocks))
    lab = labels("zh")
    assert (
        f"🔴 *feat: change 5 (#5)*\n<{entry.commit.url}|{entry.commit.short_sha}> · "
        f"<{entry.commit.pr_url}|PR #5>" in text
    )
    assert "*🎯 变更类型*\n新功能 / 性能优化" in text
    assert "*⚡ 重要程度*\n🔴 高 — new capability in the core path" in text
    assert "*📋 变更摘要*\nAdds an LRU cache.\nSecond line." in text
    assert "• `src/__init__.py` — the cache" in text  # a path in code keeps its underscores
    assert "• *性能影响* — fewer remote calls" in text
    assert "1. stale entries（严重度：🟡 中）" in text
    assert "• watch the hit rate" in text
    assert f"*{lab.breaking}*" in text
    assert "分析器 llm:test · 置信度 高 · 差异覆盖 3/4 个文件完整，1 个截断，0 个省略" in text
    assert messages[0].text == f"🔴 feat: change 5 (#5) · {entry.commit.short_sha}"
    assert_within_limits(messages)


def test_fallback_and_failed_analyses_say_so() -> None:
    fallback = make_entry(1, Importance.LOW).model_copy(
        update={"status": AnalysisStatus.FALLBACK, "error": "rate limited", "analyzer": "heuristic"}
    )
    text = dump(analysis_blocks(fallback, language="en"))
    assert (
        "⚠️ The LLM analysis failed; this one was written by the heuristic analyzer "
        "(reason: rate limited)" in text
    )
    failed = make_entry(2, None)
    text = dump(analysis_blocks(failed, language="zh"))
    assert "*⚠️ 分析失败*\\nthe model timed out" in text
    assert "⚠️ *feat: change 2 (#2)*" in text
    no_error = failed.model_copy(update={"error": None})
    assert "未知错误" in dump(analysis_blocks(no_error, language="zh"))


# --- command replies -----------------------------------------------------------------------


def test_reply_kinds() -> None:
    help_reply = reply_messages(
        Reply(ReplyKind.HELP, "Commit Digest\n• /digest subscribe owner/repo [paths:src/**]")
    )
    [message] = help_reply
    assert message.blocks[0]["text"]["text"] == (
        "```Commit Digest\n• /digest subscribe owner/repo [paths:src/**]```"
    )
    error = reply_messages(
        Reply(
            ReplyKind.ERROR,
            "No commit abc1234 in a/b.",
            ephemeral=True,
            usage="usage: /digest <sha>",
        )
    )
    assert [b["type"] for b in error[0].blocks] == ["section", "context"]
    assert error[0].blocks[0]["text"]["text"] == "No commit abc1234 in a/b."
    assert error[0].blocks[1]["elements"][0]["text"] == "`usage: /digest &lt;sha&gt;`"
    info = reply_messages(Reply(ReplyKind.INFO, "Subscribed this channel to my_org/my_repo."))
    assert info[0].blocks[0]["text"]["text"] == "Subscribed this channel to my_org/my_repo."
    entry = make_entry(3, Importance.MEDIUM)
    analysis = reply_messages(Reply(ReplyKind.ANALYSIS, "ai-dynamo/dynamo@abc1234", analysis=entry))
    assert analysis[0].blocks[0]["elements"][0]["text"] == "ai-dynamo/dynamo@abc1234"
    assert analysis[0].blocks[1:] == analysis_blocks(entry, language="zh")[0].blocks
    digests = reply_messages(Reply(ReplyKind.DIGESTS, "Digest of a/b."))
    assert digests[0].text == "Digest of a/b. The digest follows as its own post."


# --- escape functions ----------------------------------------------------------------------


def test_escape_text() -> None:
    assert escape_text("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert escape_text("ping @channel and @Here, not @channels") == (
        "ping ＠channel and ＠Here, not @channels"
    )
    assert escape_text("*a* _b_ ~c~ `d`") == "∗a∗ ˍbˍ ∼c∼ ˋdˋ"
    assert escape_text("max_tokens 2*3 a~b") == "max_tokens 2*3 a~b"  # inside words: as typed
    assert escape_text("> quote") == "˃ quote"
    assert escape_text("a\u202eb\u200bc\u2066d\ufeff") == "abcd"
    assert escape_text("one\ntwo\r\n\n\n three  ") == "one two three"
    assert escape_text("one\ntwo\r\n\n\n three  ", multiline=True) == "one\ntwo\n\nthree"
    assert escape_text("a\tb\x00c") == "a b c"
    assert escape_text("lone \udcff surrogate") == "lone surrogate"


def test_plain_text_and_code() -> None:
    assert plain_text("Vec<u8> & <!here> &lt;") == "Vec˂u8˃ & ˂!here˃ ＆lt;"
    assert plain_text("@everyone\u202e") == "＠everyone"
    assert escape_code("a`b <c> *d*") == "aˋb &lt;c&gt; *d*"
    assert clean("\u2028x\u2029y") == "x y"


def test_safe_url_and_link() -> None:
    assert safe_url("https://github.com/a/b/commit/abc") == "https://github.com/a/b/commit/abc"
    assert safe_url("http://h/p?a=1&b=2") == "http://h/p?a=1&amp;b=2"
    assert safe_url("https://h/x|y>z<w") == "https://h/x%7Cy%3Ez%3Cw"
    assert safe_url("https://h/a b") == "https://h/a%20b"
    for bad in ("javascript:alert(1)", "ftp://h/x", "https:///nohost", "", None, "/relative"):
        assert safe_url(bad) is None
    assert link("https://h/x", "<label>") == "<https://h/x|&lt;label&gt;>"
    assert link("javascript:x", "label") == "label"


def test_truncate_and_split() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("word " * 50, 30)
    assert cut.endswith("word…") and slack_len(cut) <= 30
    assert slack_len(truncate("😀" * 100, 11)) <= 11
    assert truncate("e\u0301" * 20, 6) in ("e\u0301e\u0301…", "e\u0301e\u0301e…")
    pieces = split_text("a" * 10 + "\n" + "b" * 10, 15)
    assert pieces == ["a" * 10, "b" * 10]
    link_text = "x " * 5 + "<https://h/c|View commit>" + " y" * 5
    for limit in range(26, 40):  # a link longer than the limit is cut
        for piece in split_text(link_text, limit):
            assert slack_len(piece) <= limit
            assert piece.count("<") == piece.count(">")


@given(st.text(max_size=400))
def test_escape_text_never_leaves_an_angle_bracket_or_a_format_character(text: str) -> None:
    for multiline in (False, True):
        out = escape_text(text, multiline=multiline)
        assert "<" not in out and ">" not in out
        assert not any(unicodedata.category(ch) == "Cf" for ch in out)
        assert "@channel" not in out.lower() and "@here" not in out.lower()
    out = plain_text(text)
    assert "<" not in out and ">" not in out and "\n" not in out


@given(st.text(alphabet=st.sampled_from("ab &<>\n😀中"), max_size=600), st.integers(5, 80))
def test_split_text_keeps_everything_within_the_limit(text: str, limit: int) -> None:
    escaped = escape_text(text, multiline=True)
    pieces = split_text(escaped, limit)
    assert all(slack_len(p) <= limit for p in pieces)
    assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", escaped)
    for piece in pieces:
        assert not re.search(r"&[a-z]*$", piece)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_label_of_the_post_comes_from_i18n(language: Language) -> None:
    lab = labels(language)
    post = digest_messages(
        sketch_digest(language), report_url=None, min_importance=Importance.MEDIUM
    )
    main = dump(post.main)
    for text in (lab.thread_hint, lab.report_attached, lab.cell_level):
        assert text in main


def test_unreadable_files_and_a_shallow_history_are_said_in_the_post_and_the_reply() -> None:
    post = digest_messages(unreadable_digest("en"), report_url=None)
    main = dump(post.main)
    assert "⚠️ Unreadable files 1" in main
    assert "Shallow clone: its history stops at 2026-02-05 08:00" in main
    (reply,) = post.thread
    text = dump([reply])
    assert "(1 unreadable)" in text
    assert "Diff unreadable (1): src/&lt;b&gt;.py (object missing from the clone)" in text
