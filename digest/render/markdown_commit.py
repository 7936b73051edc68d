"""One analysed commit as Markdown: the heading, SHA line and fields of the seed, fixed.

Kept apart from the document so that a single-commit reply (`/digest <sha>`) renders exactly like
the commit's section in the daily report. Every label comes from i18n; every analyzer string is
escaped, line by line.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from digest.models import Analysis, AnalysisStatus, AnalyzedCommit, Commit
from digest.render.context import WORDS, context_view, issue_url
from digest.render.detail import coverage_text, source_notes
from digest.render.escape import code_span, escape_inline, escape_paragraphs
from digest.render.i18n import INSIGHT_NAMES, Labels

HARD_BREAK = "  "


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that cannot close the Markdown link around it, or None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%~-._[]")


def commit_heading(commit: Commit, lab: Labels, level: int = 4) -> str:
    title = escape_inline(commit.title) or lab.no_title
    return f"{'#' * level} {title}"


def sha_line(commit: Commit, short_sha: str, lab: Labels) -> str:
    """`**SHA**: `abc1234` | 🔗 [查看提交](url) | PR #123`."""
    parts = [f"**{lab.sha}**: {code_span(short_sha)}"]
    url = safe_url(commit.url)
    if url:
        parts.append(f"🔗 [{lab.view_commit}]({url})")
    if commit.pr_number is not None and context_view(commit) is None:  # else its own line
        pr = lab.pull_request.format(n=commit.pr_number)
        pr_url = safe_url(commit.pr_url)
        parts.append(f"[{pr}]({pr_url})" if pr_url else pr)
    return " | ".join(parts)


def context_line(commit: Commit, lab: Labels) -> str | None:
    """`**🔀 PR**: [#7 title](url) · 🏷 `security` · ✅ 2 approvals · fixes [#5](url) title`."""
    view = context_view(commit)
    if view is None:
        return None
    words = WORDS[lab.language]
    parts: list[str] = []
    if view.pr_number is not None:
        title = f" {escape_inline(view.pr_title)}" if view.pr_title else ""
        url = safe_url(view.pr_url)
        parts.append(f"[#{view.pr_number}{title}]({url})" if url else f"#{view.pr_number}{title}")
    if view.labels:
        parts.append(words.labels + " " + " ".join(code_span(x) for x in view.labels))
    if view.approvals:
        parts.append(words.approvals.format(n=view.approvals))
    for issue in view.fixes:
        label = words.fixes.format(n=issue.number)
        url = safe_url(issue_url(commit, issue))
        linked = f"[{label}]({url})" if url else label
        parts.append(linked + (f" {escape_inline(issue.title)}" if issue.title else ""))
    return _field(words.pr, lab) + " · ".join(parts)


def render_commit(
    entry: AnalyzedCommit, lab: Labels, *, short_sha: str | None = None, level: int = 4
) -> list[str]:
    """The block of one commit (no anchor, no trailing rule), as lines."""
    commit = entry.commit
    lines = [
        commit_heading(commit, lab, level),
        "",
        sha_line(commit, short_sha or commit.short_sha, lab),
        "",
    ]
    context = context_line(commit, lab)
    if context:
        lines += [context, ""]
    if entry.analysis is None:
        error = escape_inline(entry.error or "") or lab.unknown_error
        lines += [f"**{lab.failed}**{lab.colon}{error}", ""]
    else:
        if entry.status is AnalysisStatus.FALLBACK:
            error = escape_inline(entry.error or "") or lab.unknown_error
            lines += [lab.fallback_note.format(error=error), ""]
        lines += _fields(entry.analysis, lab)
    notes = source_notes(commit, lab, code_span)
    if notes:
        lines += [note + HARD_BREAK for note in notes[:-1]] + [notes[-1], ""]
    lines.append(_meta_line(entry, lab))
    return lines


def _field(label: str, lab: Labels) -> str:
    return f"**{label}**{lab.colon}"


def _fields(analysis: Analysis, lab: Labels) -> list[str]:
    level = lab.importance_label(analysis.importance)
    reason = escape_inline(analysis.importance_reason)
    lines = [
        _field(lab.field_change_type, lab)
        + lab.change_type_names(analysis.change_types)
        + HARD_BREAK,
        _field(lab.field_importance, lab) + level + (f" — {reason}" if reason else ""),
        "",
    ]
    lines += _paragraphs(_field(lab.field_summary, lab), escape_paragraphs(analysis.summary))
    if analysis.why and analysis.why.strip():
        why = WORDS[lab.language].why
        lines += _paragraphs(_field(why, lab), escape_paragraphs(analysis.why))
    if analysis.affected_areas:
        lines += [_field(lab.field_affected, lab), ""]
        for area in analysis.affected_areas:
            note = escape_paragraphs(area.note)
            path = escape_inline(area.path_or_module) + (" — " if note else "")
            lines += _item("- ", note, head=path)
        lines.append("")
    insights = [
        (lab.insights[name], text)
        for name in INSIGHT_NAMES
        if (text := getattr(analysis.insights, name)) and text.strip()
    ]
    if insights:
        lines += [_field(lab.field_insights, lab), ""]
        for label, text in insights:
            lines += _item("- ", escape_paragraphs(text), head=_field(label, lab))
        lines.append("")
    if analysis.risks:
        lines += [_field(lab.field_risks, lab), ""]
        for n, risk in enumerate(analysis.risks, start=1):
            severity = lab.severity.format(level=lab.importance_label(risk.severity))
            lines += _item(f"{n}. ", escape_paragraphs(risk.risk), tail=severity)
        lines.append("")
    recommendations = [r for r in analysis.recommendations if r.strip()]
    if recommendations:
        lines += [_field(lab.field_recommendations, lab), ""]
        for text in recommendations:
            lines += _item("- ", escape_paragraphs(text))
        lines.append("")
    flags = [
        label
        for label, on in (
            (lab.breaking, analysis.breaking_change),
            (lab.security_relevant, analysis.security_relevant),
        )
        if on
    ]
    if flags:
        lines += [" · ".join(f"**{flag}**" for flag in flags), ""]
    return lines


def _paragraphs(label: str, paragraphs: list[list[str]]) -> list[str]:
    """A label followed by multi-paragraph text; the first line sits next to the label."""
    if not paragraphs:
        return [label, ""]
    lines: list[str] = []
    for i, paragraph in enumerate(paragraphs):
        body = [label + paragraph[0], *paragraph[1:]] if i == 0 else paragraph
        lines += [line + HARD_BREAK for line in body[:-1]] + [body[-1], ""]
    return lines


def _item(marker: str, paragraphs: list[list[str]], *, head: str = "", tail: str = "") -> list[str]:
    """One list item: `head` + text + `tail`, extra lines hard-broken and indented under it."""
    flat = [line for paragraph in paragraphs for line in paragraph] or [""]
    flat[0] = head + flat[0]
    flat[-1] = flat[-1] + tail
    indent = " " * len(marker)
    out = [marker + flat[0]] + [indent + line for line in flat[1:]]
    return [line + HARD_BREAK for line in out[:-1]] + [out[-1]]


def _meta_line(entry: AnalyzedCommit, lab: Labels) -> str:
    parts = [lab.analyzer.format(analyzer=escape_inline(entry.analyzer))]
    if entry.analysis is not None:
        level = lab.confidence_levels[entry.analysis.confidence]
        parts.append(lab.confidence.format(level=level))
    if entry.coverage is not None and entry.coverage.files_total:
        parts.append(coverage_text(entry.coverage, lab))
    return f"<sub>{' · '.join(parts)}</sub>"
