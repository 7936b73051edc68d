"""The daily post, one commit's analysis and command replies as Feishu cards (JSON 2.0), the
Feishu twin of bot/slack/blocks.py and reply_blocks.py (DESIGN §6).

The post: a header (repo, window), the stats line, notes, the overview, a table of every commit,
then every item at or above `min_importance` as a folded panel holding its full analysis and a
button that posts that analysis as a reply, folded noise as one line, and where the full report
is. Pure: values in, JSON-ready dicts out. Limits are kept by splitting into more cards, more
tables, more panels (bot.feishu.card_parts), never by dropping content.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from bot.chat.replies import Reply, ReplyKind
from bot.feishu.card_parts import (
    Card,
    Column,
    Element,
    Packer,
    base_size,
    button,
    card_json,
    framed_cards,
    markdowns,
    pack_cards,
    panels,
    plain_div,
    plain_divs,
)
from bot.feishu.escape import code, link, markdown, plain, safe_url, truncate
from digest.models import (
    AnalysisStatus,
    AnalyzedCommit,
    Commit,
    Digest,
    Importance,
    Language,
)
from digest.render import detail
from digest.render.i18n import FOLDED_EMOJI, Labels, labels, stats_sentence
from digest.render.layout import Item, footer_lines, layout, local

__all__ = ["Card", "analysis_cards", "card_json", "digest_cards", "notice_card", "reply_cards"]

HEADER_TITLE = 150  # characters of a card header's title
PANEL_TITLE = 200  # characters of a panel's title; a longer commit title is repeated inside
REPO_IN_TITLE = 100
TITLE_CELL = 150  # the full title is in the panel, the analysis reply and the report
AUTHOR_CELL = 60
SUMMARY = 100  # characters of a reply's preview in the chat list
DIGEST_FOLLOWS = "The digest follows as its own post."
BOT_TITLE = "Commit Digest"

STYLE = detail.Style(markdown, code, "**", "-")
LEVEL_TEMPLATE = {Importance.HIGH: "red", Importance.MEDIUM: "orange", Importance.LOW: "green"}


def digest_cards(
    digest: Digest,
    *,
    report_url: str | None,
    min_importance: Importance = Importance.HIGH,
    notes: tuple[str, ...] = (),
    run_key: str,
) -> list[Card]:
    """The channel post of a digest, in as many cards as it needs (usually one or two).

    Every commit, folded ones included, is a row of the table; every analysed commit at or
    above `min_importance` is a panel (high first, newest first within a level) whose button
    asks for its analysis as a reply: `{"action": "details", "repo", "sha", "run_key"}`.
    """
    lab = labels(digest.language)
    lay = layout(digest)
    detailed = lay.detailed(min_importance)
    notes = (*detail.shallow_note(digest, lab), *notes)
    title = _title(digest, lab)
    subtitle = plain(lab.branch.format(branch=truncate(digest.branch, REPO_IN_TITLE)))
    template = "grey" if not lay.rows else "orange" if digest.stats.failed else "blue"
    packer = Packer(base=base_size(title, template, subtitle, lab.continued))
    stats = stats_sentence(
        lab,
        digest.stats,
        (f.reason for f in digest.folded),
        day=digest.window.day,
    )
    packer.add([plain_div(stats)])
    if digest.overview and digest.overview.strip():
        packer.add(markdowns(f"**{lab.overview}**\n" + markdown(digest.overview, multiline=True)))
    for note in notes:
        packer.add(plain_divs(plain(note, multiline=True), small=True, color="grey"))
    if lay.rows:
        long_window = digest.window.end - digest.window.start > timedelta(days=1)
        rows = [_row(item, digest.window.tz, long_window, lab) for item in lay.rows]
        packer.add_table(_columns(lab), rows, lab.table_part)
    else:
        packer.add([plain_div(lab.empty)])
    levels = Counter(item.importance for item in detailed)
    previous: Importance | None = None
    for item in detailed:
        # A local clone's button looks the sha up in the chat's subscriptions (no owner/name).
        repo = "" if digest.repo.local_path else digest.repo.full_name
        unit = _item_panels(item, repo, run_key, lab)
        if len(levels) > 1 and item.importance is not None and item.importance != previous:
            previous = item.importance
            heading = lab.group_heading(item.importance, levels[item.importance])
            unit = [*markdowns(f"**{heading}**"), *unit]  # a heading never ends a card
        packer.add(unit)
    packer.add(markdowns(_tail(digest, bool(detailed), min_importance, lab, report_url)))
    return framed_cards(packer.finish(), title, template, subtitle, lab.continued)


def _title(digest: Digest, lab: Labels) -> str:
    return detail.post_title(digest, lab, limit=HEADER_TITLE, plain=plain)


def _level_cell(item: Item, lab: Labels) -> str:
    if item.fold_reason is not None:
        return f"{FOLDED_EMOJI} {lab.fold_reasons[item.fold_reason]}"
    if item.importance is None:
        return lab.failed
    return lab.importance_label(item.importance)


def _columns(lab: Labels) -> list[Column]:
    # Short row keys: they are repeated in every row of a 500-commit table.
    names = (lab.cell_time, lab.cell_author, lab.cell_commit, lab.cell_level)
    columns = [Column(key, name) for key, name in zip("talc", names, strict=True)]
    return [*columns, Column("s", lab.sha, "lark_md")]


def _row(item: Item, tz: str, long_window: bool, lab: Labels) -> dict[str, str]:
    commit = item.commit
    when = local(commit.committed_at, tz).strftime("%m-%d %H:%M" if long_window else "%H:%M")
    return {
        "t": when,
        "a": truncate(plain(commit.author_name), AUTHOR_CELL) or "-",
        "c": truncate(plain(commit.title), TITLE_CELL) or lab.no_title,
        "l": _level_cell(item, lab),
        "s": sha_ref(commit, item.short_sha),
    }


def sha_ref(commit: Commit, short_sha: str) -> str:
    """The short SHA as markdown, linked to the commit when it has a web address."""
    return link(commit.url, short_sha) if safe_url(commit.url) else code(short_sha)


def _entry_ref(entry: AnalyzedCommit, short_sha: str) -> str:
    return sha_ref(entry.commit, short_sha)


def _item_panels(item: Item, repo: str, run_key: str, lab: Labels) -> list[Element]:
    """An item's folded panel(s): its analysis, then the button that posts it as a reply."""
    entry = item.entry
    if entry is None:
        return []
    inner, heading = _headed(entry, lab, item.short_sha, PANEL_TITLE)
    inner += analysis_elements(entry, lab, item.short_sha)
    if item.members:
        told = [(m.entry, m.short_sha) for m in item.members]
        inner += markdowns(detail.member_lines(told, lab, STYLE, _entry_ref))
    value = {"action": "details", "repo": repo, "sha": entry.commit.sha, "run_key": run_key}
    inner.append(button(lab.details_button, value))
    return panels(heading, inner, lab.continued)


def _headed(
    entry: AnalyzedCommit, lab: Labels, short_sha: str, limit: int
) -> tuple[list[Element], str]:
    """A title line for a header (`🔴 title · abc1234`) and, when it had to be shortened to fit
    there, the full title as the first element below it."""
    title = plain(entry.commit.title) or lab.no_title
    line = f"{detail.marker(entry)} {title} · {short_sha}"
    if len(line) <= limit:
        return [], line
    short = f"{detail.marker(entry)} {truncate(title, limit - len(short_sha) - 6)} · {short_sha}"
    return plain_divs(title), short


def analysis_elements(entry: AnalyzedCommit, lab: Labels, short_sha: str) -> list[Element]:
    """One commit's analysis, as the Markdown report has it (digest/render/markdown_commit.py):
    link and flags, fallback or failure notice, the fields; then analyzer, confidence, coverage."""
    commit = entry.commit
    refs = [sha_ref(commit, short_sha)]
    if commit.pr_number is not None:
        pr = lab.pull_request.format(n=commit.pr_number)
        refs.append(link(commit.pr_url, pr) if safe_url(commit.pr_url) else pr)
    analysis = entry.analysis
    if analysis is not None:
        refs += [STYLE.bold(flag) for flag in detail.flag_labels(analysis, lab)]
    blocks = [" · ".join(refs)]
    if context := detail.context_text(commit, lab, STYLE, link):
        blocks.append(context)
    error = markdown(entry.error or "") or lab.unknown_error
    if analysis is None:
        blocks.append(detail.field_text(detail.Field(lab.failed, error), STYLE))
    else:
        if entry.status is AnalysisStatus.FALLBACK:
            blocks.append(lab.fallback_note.format(error=error))
        blocks += [
            detail.field_text(f, STYLE) for f in detail.analysis_fields(analysis, lab, STYLE)
        ]
    elements = markdowns("\n\n".join(blocks))
    elements += plain_divs(detail.meta_line(entry, lab, plain), small=True, color="grey")
    return elements


def _tail(
    digest: Digest,
    detailed: bool,
    min_importance: Importance,
    lab: Labels,
    report_url: str | None,
) -> str:
    """The closing lines (markdown of our own words): what is not detailed, what was folded,
    where the rest is."""
    lines = footer_lines(digest, min_importance, lab)
    if detailed:
        lines.append(lab.card_hint)
    lines.append(link(report_url, lab.report_link) if safe_url(report_url) else lab.report_attached)
    return "\n".join(lines)


# --- one commit, and command replies -------------------------------------------------------


def analysis_cards(
    entry: AnalyzedCommit, *, language: Language, lead: str | None = None
) -> list[Card]:
    """The full analysis of one commit (a `/digest <sha>` answer, the details button's reply):
    one card unless the analysis is longer than a card may be.

    `lead` (untrusted, e.g. `owner/repo@abc1234`) is the header's subtitle.
    """
    lab = labels(language)
    sha = entry.commit.short_sha
    body, title = _headed(entry, lab, sha, HEADER_TITLE)
    body += analysis_elements(entry, lab, sha)
    analysis = entry.analysis
    template = LEVEL_TEMPLATE[analysis.importance] if analysis is not None else "grey"
    subtitle = plain(truncate(lead, HEADER_TITLE)) if lead else None
    return pack_cards(
        [[element] for element in body],
        title=title,
        template=template,
        subtitle=subtitle,
        continued=lab.continued,
    )


_REPLY_TEMPLATE = {
    ReplyKind.HELP: "wathet",
    ReplyKind.INFO: "blue",
    ReplyKind.ERROR: "red",
    ReplyKind.SUBSCRIPTIONS: "blue",
    ReplyKind.DIGESTS: "blue",
    ReplyKind.ANALYSIS: "blue",
    ReplyKind.ANSWER: "blue",
    ReplyKind.STATUS: "blue",
}


def reply_cards(reply: Reply) -> list[Card]:
    """What Feishu shows for a command's Reply. DIGESTS only announce: the poster posts them.

    Reply texts mix our words with user input (repository names, globs), so all of it is
    plain text; the usage line goes in small grey print below an error.
    """
    if reply.kind is ReplyKind.ANALYSIS and reply.analysis is not None:
        entry = reply.analysis
        return analysis_cards(entry, language=entry.language, lead=reply.text or None)
    text = reply.text
    if reply.kind is ReplyKind.DIGESTS:
        text = f"{text} {DIGEST_FOLLOWS}" if text else DIGEST_FOLLOWS
    units = [[element] for element in plain_divs(plain(text, multiline=True) or "-")]
    if reply.kind is ReplyKind.ANSWER:  # the question quoted in grey above the answer
        asked = plain_divs(
            plain(f"❓ {reply.question or ''}", multiline=True), small=True, color="grey"
        )
        units = [asked, *units]
    if reply.kind is ReplyKind.ERROR and reply.usage:
        units.append(plain_divs(plain(reply.usage), small=True, color="grey"))
    return pack_cards(
        units,
        title=BOT_TITLE,
        template=_REPLY_TEMPLATE[reply.kind],
        subtitle=plain(reply.title) if reply.kind is ReplyKind.ANSWER and reply.title else None,
        continued=labels("en").continued,
        summary=truncate(plain(text), SUMMARY),
    )


def notice_card(text: str) -> Card:
    """A short notice in the chat (a digest that could not be posted), as plain text."""
    units = [[element] for element in plain_divs(plain(text, multiline=True) or "-")]
    (card,) = pack_cards(
        units,
        title=BOT_TITLE,
        template="red",
        subtitle=None,
        continued=labels("en").continued,
        summary=truncate(plain(text), SUMMARY),
    )
    return card
