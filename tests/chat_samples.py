"""A varied set of digests and command replies for the chat layout checks (Slack Block Kit,
Feishu card JSON 2.0): long texts, many commits, CJK, hostile strings, empty days, huge analyses.
Each renderer must turn every one of them into messages its platform takes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.chat.replies import Reply, ReplyKind
from digest.models import (
    AffectedArea,
    AnalyzedCommit,
    Digest,
    Importance,
    Insights,
    RepoRef,
)
from tests.digests import (
    BIDI_AND_ZERO_WIDTH,
    hostile_digest,
    make_digest,
    make_entry,
    make_folded,
    sketch_digest,
)

HOSTILE = " ".join(
    [
        "<!channel> <!here> <@U123> <#C123> <!subteam^S1> <https://evil.example|click>",
        '@channel @所有人 <at id=all></at> <at user_id="ou_x">x</at> <font color=red>r</font>',
        '<link url="https://evil">l</link> [click](https://evil) <a href="https://evil">a</a>',
        "*bold* _italic_ ~strike~ `code` ```block``` > quoted &lt;!channel&gt; & < > \" '",
        "{{template}} ${var} \\n \\u0000 %s %(x)s",
        "".join(BIDI_AND_ZERO_WIDTH),
    ]
)
CJK = "这是一次很长的提交说明，涉及调度器、存储层和对外接口的修改；" * 60
LONG = "\n".join(["第一段很长的摘要，" * 200, "", "word " * 900, "x" * 7000, "&<>" * 500, "完。"])


def _many(n: int, summary: str | None = None) -> Digest:
    levels = [Importance.HIGH, Importance.MEDIUM, Importance.LOW, Importance.LOW, None]
    extra: dict[str, Any] = {"summary": summary} if summary else {}
    entries = [
        make_entry(
            i,
            levels[i % len(levels)],
            message=f"feat(area{i % 17}): change {i} " + "with a long title " * (i % 9) + f"(#{i})",
            minutes=i,
            author=f"Author Number {i % 23}",
            **extra,
        )
        for i in range(n - n // 10)
    ]
    folded = [make_folded(f"dep{i}", minutes=2 * i) for i in range(n // 10)]
    return make_digest(entries, folded)


def _hostile() -> Digest:
    return hostile_digest(HOSTILE, security_insight=True)


def huge_entry() -> AnalyzedCommit:
    """A high item whose every field nearly fills a Slack section: its analysis takes several
    messages or cards."""
    areas = tuple(AffectedArea(path_or_module=f"src/m{i}.py", note="n " * 1400) for i in range(6))
    return make_entry(
        1,
        Importance.HIGH,
        summary="s " * 1490,
        affected_areas=areas,
        insights=Insights(architecture="a " * 1400, security="b " * 1400),
        recommendations=("r " * 1400,) * 3,
    )


def _huge_analysis() -> Digest:
    return make_digest([huge_entry(), make_entry(2, Importance.LOW)])


def _cjk() -> Digest:
    entries = [
        make_entry(
            i,
            Importance.HIGH,
            message=f"功能：{CJK[: 40 + i]}（#{i}）",
            author="张三",
            summary=CJK,
            importance_reason=CJK[:500],
        )
        for i in range(12)
    ]
    return make_digest(entries).model_copy(update={"overview": CJK})


def _no_urls() -> Digest:
    entry = make_entry(1, Importance.HIGH)
    entry = entry.model_copy(update={"commit": entry.commit.model_copy(update={"url": None})})
    repo = RepoRef(full_name="o" * 39 + "/" + "r" * 100, web_url=None)
    return make_digest([entry, make_entry(2, Importance.MEDIUM)], repo=repo)


def digests() -> list[tuple[str, Digest]]:
    """(name, digest): each a shape of day the renderers have to lay out."""
    week = make_digest([make_entry(i, Importance.MEDIUM, minutes=600 * i) for i in range(9)],
                       days=7)  # fmt: skip
    return [
        ("sketch-zh", sketch_digest("zh")),
        ("sketch-en", sketch_digest("en")),
        ("empty", make_digest([])),
        ("folded-only", make_digest([], [make_folded(f"d{i}") for i in range(30)])),
        ("500-commits", _many(500)),
        ("long-summaries", _many(30, summary=LONG)),
        ("cjk", _cjk()),
        ("hostile-zh", _hostile()),
        ("hostile-en", _hostile().model_copy(update={"language": "en"})),
        ("huge-analysis", _huge_analysis()),
        ("no-urls-long-repo", _no_urls()),
        ("a-week", week.model_copy(update={"generated_at": week.window.end + timedelta(hours=1)})),
    ]


NOTES = ("Some files could not be read: " + HOSTILE, "历史记录很浅。" * 30)


def replies() -> list[tuple[str, Reply]]:
    """(name, reply): one of each kind, with long, CJK and hostile text."""
    entry = _hostile().entries[0]
    return [
        ("help", Reply(ReplyKind.HELP, "Commit Digest\n• /digest subscribe owner/repo\n" * 40)),
        ("info", Reply(ReplyKind.INFO, f"Subscribed this channel to {HOSTILE}.")),
        ("error", Reply(ReplyKind.ERROR, HOSTILE, ephemeral=True, usage="usage: /digest <sha>")),
        ("analysis", Reply(ReplyKind.ANALYSIS, "evil/<!channel>@abc1234", analysis=entry)),
        (
            "subscriptions",
            Reply(ReplyKind.SUBSCRIPTIONS, "\n".join([f"• o/r{i}" for i in range(300)])),
        ),
        ("digests", Reply(ReplyKind.DIGESTS, "Digest of a/b.")),
        ("answer", Reply(ReplyKind.ANSWER, CJK + LONG, question=HOSTILE, title=HOSTILE)),
        ("status", Reply(ReplyKind.STATUS, CJK)),
        ("long-info", Reply(ReplyKind.INFO, "x" * 50_000)),
    ]
