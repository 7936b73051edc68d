"""Replies as Slack messages: one commit's full analysis (a thread reply, a `/digest <sha>`
answer) and the answers to commands.

Labels come from i18n, never from the analyzer; every analyzer string is escaped. The fields
mirror the Markdown report's (digest/render/markdown_commit.py), so a reply reads like the
commit's section in the report.
"""

from __future__ import annotations

from bot.execute import Reply, ReplyKind
from bot.slack.escape import (
    code,
    escape_code,
    escape_text,
    link,
    safe_url,
    split_text,
    truncate,
)
from bot.slack.kit import (
    FALLBACK_TEXT,
    MAX_TEXT,
    Block,
    Message,
    as_messages,
    contexts,
    pack,
    sections,
)
from digest.models import (
    Analysis,
    AnalysisStatus,
    AnalyzedCommit,
    Commit,
    FoldReason,
    Language,
)
from digest.render.clean import clean
from digest.render.i18n import (
    FAILED_EMOJI,
    FOLDED_EMOJI,
    IMPORTANCE_EMOJI,
    INSIGHT_NAMES,
    Labels,
    labels,
)

DIGEST_FOLLOWS = "The digest follows as its own post."


def marker(entry: AnalyzedCommit | None, fold: FoldReason | None = None) -> str:
    """The emoji of a commit: its importance, folded, or failed."""
    if fold is not None:
        return FOLDED_EMOJI
    if entry is None or entry.analysis is None:
        return FAILED_EMOJI
    return IMPORTANCE_EMOJI[entry.analysis.importance]


def title(commit: Commit, lab: Labels) -> str:
    """The commit's title as escaped mrkdwn."""
    return escape_text(commit.title) or lab.no_title


def sha_ref(commit: Commit, short_sha: str) -> str:
    """The short SHA, linked to the commit when it has a web address."""
    return link(commit.url, short_sha) if safe_url(commit.url) else code(short_sha)


def flags(analysis: Analysis, lab: Labels) -> list[str]:
    pairs = (
        (lab.breaking, analysis.breaking_change),
        (lab.security_relevant, analysis.security_relevant),
    )
    return [f"*{label}*" for label, on in pairs if on]


def _field(label: str, body: str) -> str:
    # The label on a line of its own: a bold mark next to CJK punctuation may not render.
    return f"*{label}*\n{body}"


def analysis_blocks(
    entry: AnalyzedCommit,
    *,
    language: Language,
    short_sha: str | None = None,
    lead: str | None = None,
) -> list[Message]:
    """The full analysis of one commit, in as many messages as its length needs (usually one).

    `lead` is a line of escaped mrkdwn shown above it in small print, e.g. `owner/repo@sha`.
    """
    lab = labels(language)
    commit = entry.commit
    sha = short_sha or commit.short_sha
    refs = [sha_ref(commit, sha)]
    if commit.pr_number is not None:
        refs.append(lab.pull_request.format(n=commit.pr_number))
    blocks = contexts([lead]) if lead else []
    blocks += sections(f"{marker(entry)} *{title(commit, lab)}*\n" + " · ".join(refs))
    analysis = entry.analysis
    error = escape_text(entry.error or "") or lab.unknown_error
    if analysis is None:
        blocks += sections(_field(lab.failed, error))
    else:
        if entry.status is AnalysisStatus.FALLBACK:
            blocks += contexts([lab.fallback_note.format(error=error)])
        blocks += _fields(analysis, lab)
    blocks += contexts([_meta(entry, lab)])
    fallback = f"{marker(entry)} {title(commit, lab)} · {sha}"
    return as_messages(pack([b] for b in blocks), fallback, lab.continued)


def _fields(analysis: Analysis, lab: Labels) -> list[Block]:
    reason = escape_text(analysis.importance_reason)
    level = lab.importance_label(analysis.importance) + (f" — {reason}" if reason else "")
    kinds = lab.change_type_names(analysis.change_types)
    blocks = sections(
        _field(lab.field_change_type, kinds) + "\n" + _field(lab.field_importance, level)
    )
    summary = escape_text(analysis.summary, multiline=True)
    if summary:
        blocks += sections(_field(lab.field_summary, summary))
    areas = [
        f"• {code(area.path_or_module)}" + (f" — {note}" if note else "")
        for area in analysis.affected_areas
        for note in [escape_text(area.note, multiline=True)]
    ]
    insights = [
        f"• *{lab.insights[name]}* — {escape_text(text, multiline=True)}"
        for name in INSIGHT_NAMES
        if (text := getattr(analysis.insights, name)) and text.strip()
    ]
    risks = [
        f"{n}. {escape_text(risk.risk, multiline=True)}"
        + lab.severity.format(level=lab.importance_label(risk.severity))
        for n, risk in enumerate(analysis.risks, start=1)
    ]
    advice = [f"• {escape_text(t, multiline=True)}" for t in analysis.recommendations if t.strip()]
    for label, lines in (
        (lab.field_affected, areas),
        (lab.field_insights, insights),
        (lab.field_risks, risks),
        (lab.field_recommendations, advice),
    ):
        if lines:
            blocks += sections(_field(label, "\n".join(lines)))
    if marks := flags(analysis, lab):
        blocks += sections(" · ".join(marks))
    return blocks


def _meta(entry: AnalyzedCommit, lab: Labels) -> str:
    parts = [lab.analyzer.format(analyzer=escape_text(entry.analyzer))]
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


def reply_messages(reply: Reply) -> list[Message]:
    """What Slack shows for a command's Reply. DIGESTS only announce: the poster posts them.

    Reply texts mix our words with user input (repository names, globs), so all of it is
    escaped; usage lines and help go in code, where globs and `<sha>` show as they are typed.
    """
    text = escape_text(reply.text, multiline=True)
    fallback = truncate(escape_text(reply.text), FALLBACK_TEXT)
    if reply.kind is ReplyKind.HELP:
        return [Message(fallback, _preformatted(reply.text))]
    if reply.kind is ReplyKind.ERROR:
        blocks = sections(text)
        if reply.usage:
            blocks += contexts([code(reply.usage)])
        return [Message(fallback, blocks)]
    if reply.kind is ReplyKind.ANALYSIS and reply.analysis is not None:
        entry = reply.analysis
        return analysis_blocks(entry, language=entry.language, lead=text or None)
    if reply.kind is ReplyKind.DIGESTS:
        line = f"{text} {DIGEST_FOLLOWS}" if text else DIGEST_FOLLOWS
        return [Message(truncate(line, FALLBACK_TEXT), sections(line))]
    if reply.kind is ReplyKind.ANSWER:
        # The question quoted (escaped, so it cannot ping or link), then the answer.
        asked = escape_text(reply.question or "", multiline=True).replace("\n", "\n> ")
        lead = escape_text(reply.title or "")
        blocks = contexts([f"❓ {lead}"]) + sections(f"> {asked}\n\n{text}")
        return [Message(fallback, blocks)]
    return [Message(fallback, sections(text))]


def _preformatted(text: str) -> list[Block]:
    """Text as code blocks, cut at line breaks to stay within a section."""
    lines = [escape_code(line) for line in clean(text, multiline=True).split("\n")]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{part}```", "verbatim": True}}
        for part in split_text("\n".join(lines), MAX_TEXT - 6)
    ]
