"""Replies as Slack messages: one commit's full analysis (a thread reply, a `/digest <sha>`
answer) and the answers to commands.

Labels come from i18n, never from the analyzer; every analyzer string is escaped. The fields
mirror the Markdown report's (digest/render/markdown_commit.py), so a reply reads like the
commit's section in the report.
"""

from __future__ import annotations

from bot.chat.replies import Reply, ReplyKind
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
    Language,
)
from digest.render import detail
from digest.render.clean import clean
from digest.render.i18n import Labels, labels

DIGEST_FOLLOWS = "The digest follows as its own post."


def title(commit: Commit, lab: Labels) -> str:
    """The commit's title as escaped mrkdwn."""
    return escape_text(commit.title) or lab.no_title


def sha_ref(commit: Commit, short_sha: str) -> str:
    """The short SHA, linked to the commit when it has a web address."""
    return link(commit.url, short_sha) if safe_url(commit.url) else code(short_sha)


STYLE = detail.Style(escape_text, code, "*", "•")


def flags(analysis: Analysis, lab: Labels) -> list[str]:
    return [STYLE.bold(label) for label in detail.flag_labels(analysis, lab)]


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
        pr = lab.pull_request.format(n=commit.pr_number)
        refs.append(link(commit.pr_url, pr) if safe_url(commit.pr_url) else pr)
    blocks = contexts([lead]) if lead else []
    blocks += sections(f"{detail.marker(entry)} *{title(commit, lab)}*\n" + " · ".join(refs))
    if context := detail.context_text(commit, lab, STYLE, link):
        blocks += sections(context)
    analysis = entry.analysis
    error = escape_text(entry.error or "") or lab.unknown_error
    if analysis is None:
        blocks += sections(detail.field_text(detail.Field(lab.failed, error), STYLE))
    else:
        if entry.status is AnalysisStatus.FALLBACK:
            blocks += contexts([lab.fallback_note.format(error=error)])
        blocks += _fields(analysis, lab)
    blocks += contexts([detail.meta_line(entry, lab, escape_text)])
    fallback = f"{detail.marker(entry)} {title(commit, lab)} · {sha}"
    return as_messages(pack([b] for b in blocks), fallback, lab.continued)


def _fields(analysis: Analysis, lab: Labels) -> list[Block]:
    kind, level, *rest = detail.analysis_fields(analysis, lab, STYLE)
    blocks = sections(detail.field_text(kind, STYLE) + "\n" + detail.field_text(level, STYLE))
    for field in rest:
        blocks += sections(detail.field_text(field, STYLE))
    if marks := flags(analysis, lab):
        blocks += sections(" · ".join(marks))
    return blocks


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
