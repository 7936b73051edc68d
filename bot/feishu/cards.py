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

from bot.execute import Reply, ReplyKind
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
    Analysis,
    AnalysisStatus,
    AnalyzedCommit,
    Commit,
    Digest,
    FoldReason,
    Importance,
    Language,
)
from digest.render.i18n import (
    FAILED_EMOJI,
    FOLDED_EMOJI,
    IMPORTANCE_EMOJI,
    INSIGHT_NAMES,
    Labels,
    labels,
    stats_sentence,
)
from digest.render.layout import Item, footer_lines, format_minute, layout, local

__all__ = ["Card", "analysis_cards", "card_json", "digest_cards", "reply_cards"]

HEADER_TITLE = 150  # characters of a card header's title
PANEL_TITLE = 200  # characters of a panel's title; a longer commit title is repeated inside
REPO_IN_TITLE = 100
TITLE_CELL = 150  # the full title is in the panel, the analysis reply and the report
AUTHOR_CELL = 60
SUMMARY = 100  # characters of a reply's preview in the chat list
DIGEST_FOLLOWS = "The digest follows as its own post."
BOT_TITLE = "Commit Digest"

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
    detailed = [
        item
        for section in lay.sections
        if (level := section.kind.importance) is not None and level.rank >= min_importance.rank
        for item in section.items
    ]
    title = _title(digest, lab)
    subtitle = plain(lab.branch.format(branch=truncate(digest.branch, REPO_IN_TITLE)))
    template = "grey" if not lay.rows else "orange" if digest.stats.failed else "blue"
    packer = Packer(base=base_size(title, template, subtitle, lab.continued))
    stats = stats_sentence(
        lab,
        digest.stats,
        (f.reason for f in digest.folded),
        single_day=digest.window.day is not None,
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
        unit = _item_panels(item, digest.repo.full_name, run_key, lab)
        if len(levels) > 1 and item.importance is not None and item.importance != previous:
            previous = item.importance
            heading = lab.group_heading(item.importance, levels[item.importance])
            unit = [*markdowns(f"**{heading}**"), *unit]  # a heading never ends a card
        packer.add(unit)
    packer.add(markdowns(_tail(digest, bool(detailed), min_importance, lab, report_url)))
    return framed_cards(packer.finish(), title, template, subtitle, lab.continued)


def _window(digest: Digest, lab: Labels) -> str:
    window = digest.window
    return lab.post_window.format(
        start=format_minute(window.start, window.tz),
        end=format_minute(window.end, window.tz),
        tz=window.tz,
    )


def _title(digest: Digest, lab: Labels) -> str:
    """`📰 owner/repo · 每日更新 · start → end (tz)`, the repository name shortened first."""
    window = plain(_window(digest, lab))
    repo = plain(digest.repo.full_name)
    line = lab.post_title.format(repo=repo, window=window)
    over = len(line) - HEADER_TITLE
    if over > 0:
        repo = truncate(repo, max(len(repo) - over, 8))
        line = lab.post_title.format(repo=repo, window=window)
    return truncate(line, HEADER_TITLE)


def marker(entry: AnalyzedCommit | None, fold: FoldReason | None = None) -> str:
    """The emoji of a commit: its importance, folded, or failed."""
    if fold is not None:
        return FOLDED_EMOJI
    if entry is None or entry.analysis is None:
        return FAILED_EMOJI
    return IMPORTANCE_EMOJI[entry.analysis.importance]


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


def _item_panels(item: Item, repo: str, run_key: str, lab: Labels) -> list[Element]:
    """An item's folded panel(s): its analysis, then the button that posts it as a reply."""
    entry = item.entry
    if entry is None:
        return []
    inner, heading = _headed(entry, lab, item.short_sha, PANEL_TITLE)
    inner += analysis_elements(entry, lab, item.short_sha)
    value = {"action": "details", "repo": repo, "sha": entry.commit.sha, "run_key": run_key}
    inner.append(button(lab.details_button, value))
    return panels(heading, inner, lab.continued)


def _headed(
    entry: AnalyzedCommit, lab: Labels, short_sha: str, limit: int
) -> tuple[list[Element], str]:
    """A title line for a header (`🔴 title · abc1234`) and, when it had to be shortened to fit
    there, the full title as the first element below it."""
    title = plain(entry.commit.title) or lab.no_title
    line = f"{marker(entry)} {title} · {short_sha}"
    if len(line) <= limit:
        return [], line
    short = f"{marker(entry)} {truncate(title, limit - len(short_sha) - 6)} · {short_sha}"
    return plain_divs(title), short


def analysis_elements(entry: AnalyzedCommit, lab: Labels, short_sha: str) -> list[Element]:
    """One commit's analysis, as the Markdown report has it (digest/render/markdown_commit.py):
    link and flags, fallback or failure notice, the fields; then analyzer, confidence, coverage."""
    commit = entry.commit
    refs = [sha_ref(commit, short_sha)]
    if commit.pr_number is not None:
        refs.append(lab.pull_request.format(n=commit.pr_number))
    analysis = entry.analysis
    if analysis is not None:
        refs += [f"**{flag}**" for flag in flags(analysis, lab)]
    blocks = [" · ".join(refs)]
    error = markdown(entry.error or "") or lab.unknown_error
    if analysis is None:
        blocks.append(f"**{lab.failed}**\n{error}")
    else:
        if entry.status is AnalysisStatus.FALLBACK:
            blocks.append(lab.fallback_note.format(error=error))
        blocks += _fields(analysis, lab)
    elements = markdowns("\n\n".join(blocks))
    elements += plain_divs(_meta(entry, lab), small=True, color="grey")
    return elements


def flags(analysis: Analysis, lab: Labels) -> list[str]:
    pairs = (
        (lab.breaking, analysis.breaking_change),
        (lab.security_relevant, analysis.security_relevant),
    )
    return [label for label, on in pairs if on]


def _field(label: str, body: str) -> str:
    # The label on a line of its own: a bold mark next to CJK punctuation may not render.
    return f"**{label}**\n{body}"


def _fields(analysis: Analysis, lab: Labels) -> list[str]:
    reason = markdown(analysis.importance_reason)
    level = lab.importance_label(analysis.importance) + (f" — {reason}" if reason else "")
    blocks = [
        _field(lab.field_change_type, lab.change_type_names(analysis.change_types)),
        _field(lab.field_importance, level),
    ]
    summary = markdown(analysis.summary, multiline=True)
    if summary:
        blocks.append(_field(lab.field_summary, summary))
    areas = [
        f"- {code(area.path_or_module)}" + (f" — {note}" if note else "")
        for area in analysis.affected_areas
        for note in [markdown(area.note, multiline=True)]
    ]
    insights = [
        f"- **{lab.insights[name]}** — {markdown(text, multiline=True)}"
        for name in INSIGHT_NAMES
        if (text := getattr(analysis.insights, name)) and text.strip()
    ]
    risks = [
        f"{n}. {markdown(risk.risk, multiline=True)}"
        + lab.severity.format(level=lab.importance_label(risk.severity))
        for n, risk in enumerate(analysis.risks, start=1)
    ]
    advice = [f"- {markdown(t, multiline=True)}" for t in analysis.recommendations if t.strip()]
    for label, lines in (
        (lab.field_affected, areas),
        (lab.field_insights, insights),
        (lab.field_risks, risks),
        (lab.field_recommendations, advice),
    ):
        if lines:
            blocks.append(_field(label, "\n".join(lines)))
    return blocks


def _meta(entry: AnalyzedCommit, lab: Labels) -> str:
    """Analyzer, confidence, coverage: plain text (the analyzer name is not ours)."""
    parts = [lab.analyzer.format(analyzer=plain(entry.analyzer))]
    if entry.analysis is not None:
        parts.append(lab.confidence.format(level=lab.confidence_levels[entry.analysis.confidence]))
    coverage = entry.coverage
    if coverage is not None and coverage.files_total:
        parts.append(
            lab.coverage.format(
                full=coverage.files_full,
                total=coverage.files_total,
                clipped=coverage.files_clipped,
                omitted=coverage.files_omitted,
            )
        )
    return " · ".join(parts)


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
    entry: AnalyzedCommit,
    *,
    language: Language,
    lead: str | None = None,
    short_sha: str | None = None,
) -> list[Card]:
    """The full analysis of one commit (a `/digest <sha>` answer, the details button's reply):
    one card unless the analysis is longer than a card may be.

    `lead` (untrusted, e.g. `owner/repo@abc1234`) is the header's subtitle.
    """
    lab = labels(language)
    sha = short_sha or entry.commit.short_sha
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
