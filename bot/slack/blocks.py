"""The daily post as Slack Block Kit messages (DESIGN §6), and the public face of bot/slack's
rendering: Message, digest_messages, analysis_blocks, reply_messages.

The main post: a header (repo, window), the stats line, notes, the table of every commit, the
detailed items with their summary and link, folded noise as one line, then where the rest is.
Each detailed item also gets a thread reply with its full analysis. Pure: values in, JSON-ready
dicts out; limits are kept by splitting (bot.slack.kit), never by dropping.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bot.slack.escape import escape_text, link, plain_text, slack_len, truncate
from bot.slack.kit import (
    MAX_HEADER,
    MAX_TABLE_ROWS,
    Block,
    Message,
    as_messages,
    contexts,
    header,
    pack,
    sections,
    table,
)
from bot.slack.reply_blocks import (
    STYLE,
    analysis_blocks,
    flags,
    reply_messages,
    sha_ref,
    title,
)
from digest.models import AnalyzedCommit, Digest, Importance
from digest.render import detail
from digest.render.i18n import Labels, labels, stats_sentence
from digest.render.layout import Item, footer_lines, layout, local

__all__ = [
    "DigestPost",
    "Message",
    "analysis_blocks",
    "digest_messages",
    "reply_messages",
]

TABLE_TEXT = 8_000  # a table's cells: room is left for the header and stats beside it
TITLE_CELL = 150  # the full title is in the thread and the report
AUTHOR_CELL = 60


@dataclass(frozen=True)
class DigestPost:
    """The main post (several messages only when it does not fit one) and its thread replies.

    `thread_names[i]` names `thread[i]` by its commit, `reply-<sha>-<n>`: stable whatever else
    the digest holds, so a post resumed after a crash knows which replies are out.
    """

    main: list[Message]
    thread: list[Message]
    thread_names: list[str] = field(default_factory=list)


def digest_messages(
    digest: Digest,
    *,
    report_url: str | None,
    min_importance: Importance = Importance.LOW,
    notes: tuple[str, ...] = (),
) -> DigestPost:
    """The channel post of a digest and one thread reply per detailed item.

    Detailed: the analysed commits at or above `min_importance`, high first, newest first within
    a level. Every commit, folded ones included, is a row of the table.
    """
    lab = labels(digest.language)
    lay = layout(digest)
    detailed = lay.detailed(min_importance)
    notes = (*detail.shallow_note(digest, lab), *notes)
    stats = stats_sentence(
        lab,
        digest.stats,
        (f.reason for f in digest.folded),
        day=digest.window.day,
    )
    units: list[list[Block]] = [[header(_header_text(digest, lab))], sections(stats)]
    if digest.overview and digest.overview.strip():
        overview = escape_text(digest.overview, multiline=True)
        units.append(sections(f"*{lab.overview}*\n{overview}"))
    if notes:
        units.append(contexts(escape_text(note) for note in notes))
    if not lay.rows:
        units.append(sections(lab.empty))
    units += _table_units(digest, lay.rows, lab)
    units += _detail_units(detailed, lab)
    units.append(contexts(_tail(digest, detailed, min_importance, lab, report_url)))
    fallback = escape_text(f"{_title_line(digest, lab)}: {stats}")
    main = as_messages(pack(units), fallback, lab.continued)
    thread: list[Message] = []
    names: list[str] = []
    for item in detailed:
        if item.entry is None:
            continue
        replies = analysis_blocks(item.entry, language=digest.language, short_sha=item.short_sha)
        thread += replies
        names += [f"reply-{item.commit.sha[:12]}-{n}" for n in range(len(replies))]
    return DigestPost(main=main, thread=thread, thread_names=names)


def _title_line(digest: Digest, lab: Labels) -> str:
    """`📰 owner/repo · 每日更新 · start → end (tz)`, unescaped."""
    return lab.post_title.format(
        repo=digest.repo.full_name, window=detail.window_text(digest.window, lab)
    )


def _header_text(digest: Digest, lab: Labels) -> str:
    return detail.post_title(digest, lab, limit=MAX_HEADER, plain=plain_text, measure=slack_len)


def _table_units(digest: Digest, rows: Sequence[Item], lab: Labels) -> list[list[Block]]:
    """The commit table, in tables of at most 100 rows (one per message), each with a caption
    saying which rows it holds when there are several."""
    head = [lab.cell_time, lab.cell_author, lab.cell_commit, lab.cell_level]
    # A window longer than a day (a catch-up, a first digest) needs the date as well.
    long_window = digest.window.end - digest.window.start > timedelta(days=1)
    cells = [_row(item, digest.window.tz, long_window, lab) for item in rows]
    chunks = list(_table_chunks(cells, head))
    units: list[list[Block]] = []
    first = 1
    for chunk in chunks:
        caption: list[Block] = []
        if len(chunks) > 1:
            last = first + len(chunk) - 1
            caption = contexts([lab.table_part.format(first=first, last=last, total=len(rows))])
        units.append([*caption, table([head, *chunk])])
        first += len(chunk)
    return units


def _row(item: Item, tz: str, long_window: bool, lab: Labels) -> list[str]:
    commit = item.commit
    when = local(commit.committed_at, tz).strftime("%m-%d %H:%M" if long_window else "%H:%M")
    return [
        when,
        truncate(plain_text(commit.author_name), AUTHOR_CELL),
        truncate(plain_text(commit.title) or lab.no_title, TITLE_CELL),
        detail.marker(item.entry, item.fold_reason),
    ]


def _table_chunks(cells: list[list[str]], head: list[str]) -> Iterator[list[list[str]]]:
    """Rows in chunks that stay under the row limit and the text budget of a table."""
    head_size = sum(slack_len(c) for c in head)
    chunk: list[list[str]] = []
    size = head_size
    for row in cells:
        row_size = sum(slack_len(c) for c in row)
        if chunk and (len(chunk) + 2 > MAX_TABLE_ROWS or size + row_size > TABLE_TEXT):
            yield chunk
            chunk, size = [], head_size
        chunk.append(row)
        size += row_size
    if chunk:
        yield chunk


def _detail_units(items: list[Item], lab: Labels) -> list[list[Block]]:
    """Each detailed item: detail.marker, title, link and flags, then its summary; a heading per
    importance level when more than one level is shown."""
    levels = Counter(item.importance for item in items)
    units: list[list[Block]] = []
    previous: Importance | None = None
    for item in items:
        entry, level = item.entry, item.importance
        if entry is None or entry.analysis is None or level is None:
            continue
        if len(levels) > 1 and level != previous:
            units.append(contexts([f"*{lab.group_heading(level, levels[level])}*"]))
            previous = level
        commit = item.commit
        head = f"{detail.marker(entry)} *{title(commit, lab)}* · {sha_ref(commit, item.short_sha)}"
        head = " · ".join([head, *flags(entry.analysis, lab)])
        context = detail.context_text(commit, lab, STYLE, link)
        head = f"{head}\n{context}" if context else head
        summary = escape_text(entry.analysis.summary, multiline=True)
        units.append(sections(f"{head}\n{summary}" if summary else head))
        if item.members:
            told = [(m.entry, m.short_sha) for m in item.members]
            units.append(contexts([detail.member_lines(told, lab, STYLE, _ref)]))
    return units


def _ref(entry: AnalyzedCommit, short_sha: str) -> str:
    return sha_ref(entry.commit, short_sha)


def _tail(
    digest: Digest,
    detailed: list[Item],
    min_importance: Importance,
    lab: Labels,
    report_url: str | None,
) -> list[str]:
    """The closing lines: what is not detailed, what was folded, where the rest is."""
    lines = footer_lines(digest, min_importance, lab)
    where = [lab.thread_hint] if detailed else []
    where.append(link(report_url, lab.report_link) if report_url else lab.report_attached)
    lines.append(" · ".join(where))
    return lines
