"""One commit's analysis as the chat platforms show it: which fields, in which order, in words.

The Markdown report has its own richer layout (markdown_commit.py); Slack and Feishu show the
same fields of a commit, and this module decides them once. A platform only supplies a `Style`
(how it escapes untrusted text, writes code and bold, marks a list item) and places the result
in its blocks or card elements. Labels come from i18n, never from the analyzer; everything the
analyzer wrote goes through the style's escaping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from digest.models import (
    Analysis,
    AnalyzedCommit,
    Commit,
    Coverage,
    Digest,
    FoldReason,
    Unreadable,
    Window,
)
from digest.render.clean import clip
from digest.render.context import WORDS, context_view, issue_url
from digest.render.i18n import (
    FAILED_EMOJI,
    FOLDED_EMOJI,
    IMPORTANCE_EMOJI,
    INSIGHT_NAMES,
    Labels,
)
from digest.render.layout import format_minute


@dataclass(frozen=True)
class Style:
    """How a platform writes text: its escaping of untrusted text (`escape(text, multiline=)`),
    code spans, the bold mark and the list bullet."""

    escape: Callable[..., str]
    code: Callable[[str], str]
    bold_mark: str
    bullet: str

    def inline(self, text: str) -> str:
        return self.escape(text)

    def block(self, text: str) -> str:
        return self.escape(text, multiline=True)

    def bold(self, text: str) -> str:
        return f"{self.bold_mark}{text}{self.bold_mark}"


@dataclass(frozen=True)
class Field:
    """A labelled part of an analysis: the label on its own line, then its body."""

    label: str
    body: str


def marker(entry: AnalyzedCommit | None, fold: FoldReason | None = None) -> str:
    """The emoji of a commit: its importance, folded, or failed."""
    if fold is not None:
        return FOLDED_EMOJI
    if entry is None or entry.analysis is None:
        return FAILED_EMOJI
    return IMPORTANCE_EMOJI[entry.analysis.importance]


def window_text(window: Window, lab: Labels) -> str:
    """`2026-02-05 09:00 → 2026-02-06 09:00 (Asia/Shanghai)`, as a post's header shows it."""
    return lab.post_window.format(
        start=format_minute(window.start, window.tz),
        end=format_minute(window.end, window.tz),
        tz=window.tz,
    )


def post_title(
    digest: Digest,
    lab: Labels,
    *,
    limit: int,
    plain: Callable[[str], str],
    measure: Callable[[str], int] = len,
) -> str:
    """`📰 owner/repo · 每日更新 · start → end (tz)` within `limit` (as `measure` counts), the
    repository name shortened first; `plain` makes untrusted text safe for the header."""
    window = plain(window_text(digest.window, lab))
    repo = plain(digest.repo.full_name)
    line = lab.post_title.format(repo=repo, window=window)
    over = measure(line) - limit
    if over > 0:
        repo = clip(repo, max(measure(repo) - over, 8), measure)
        line = lab.post_title.format(repo=repo, window=window)
    return clip(line, limit, measure)


def flag_labels(analysis: Analysis, lab: Labels) -> list[str]:
    """Our words for the flags an analysis raises (breaking, security-relevant)."""
    pairs = (
        (lab.breaking, analysis.breaking_change),
        (lab.security_relevant, analysis.security_relevant),
    )
    return [label for label, on in pairs if on]


def field_text(field: Field, style: Style) -> str:
    # The label on a line of its own: a bold mark next to CJK punctuation may not render.
    return f"{style.bold(field.label)}\n{field.body}"


def analysis_fields(analysis: Analysis, lab: Labels, style: Style) -> list[Field]:
    """Change type, importance (with its reason), summary, affected areas, insights, risks and
    recommendations, in the report's order; empty fields are left out."""
    esc = style.block
    reason = style.inline(analysis.importance_reason)
    level = lab.importance_label(analysis.importance) + (f" — {reason}" if reason else "")
    fields = [
        Field(lab.field_change_type, lab.change_type_names(analysis.change_types)),
        Field(lab.field_importance, level),
    ]
    if summary := esc(analysis.summary):
        fields.append(Field(lab.field_summary, summary))
    if analysis.why and (why := esc(analysis.why)):
        fields.append(Field(WORDS[lab.language].why, why))
    areas = [
        f"{style.bullet} {style.code(area.path_or_module)}" + (f" — {note}" if note else "")
        for area in analysis.affected_areas
        for note in [esc(area.note)]
    ]
    insights = [
        f"{style.bullet} {style.bold(lab.insights[name])} — {esc(text)}"
        for name in INSIGHT_NAMES
        if (text := getattr(analysis.insights, name)) and text.strip()
    ]
    risks = [
        f"{n}. {esc(risk.risk)}" + lab.severity.format(level=lab.importance_label(risk.severity))
        for n, risk in enumerate(analysis.risks, start=1)
    ]
    advice = [f"{style.bullet} {esc(text)}" for text in analysis.recommendations if text.strip()]
    for label, lines in (
        (lab.field_affected, areas),
        (lab.field_insights, insights),
        (lab.field_risks, risks),
        (lab.field_recommendations, advice),
    ):
        if lines:
            fields.append(Field(label, "\n".join(lines)))
    return fields


def context_text(
    commit: Commit, lab: Labels, style: Style, link: Callable[[str | None, str], str]
) -> str | None:
    """`🔀 PR #7 title · 🏷 security · ✅ 2 approvals · fixes #5 title`: the pull request and
    the issue it fixes, linked; `link(url, raw_label)` escapes the label itself."""
    view = context_view(commit)
    if view is None:
        return None
    words = WORDS[lab.language]
    parts: list[str] = []
    if view.pr_number is not None:
        label = f"#{view.pr_number}" + (f" {view.pr_title}" if view.pr_title else "")
        parts.append(link(view.pr_url, label))
    if view.labels:
        parts.append(words.labels + " " + " ".join(style.code(x) for x in view.labels))
    if view.approvals:
        parts.append(words.approvals.format(n=view.approvals))
    for issue in view.fixes:
        title = f" {style.inline(issue.title)}" if issue.title else ""
        parts.append(link(issue_url(commit, issue), words.fixes.format(n=issue.number)) + title)
    return f"{style.bold(words.pr)} " + " · ".join(parts)


def member_lines(
    members: list[tuple[AnalyzedCommit | None, str]],
    lab: Labels,
    style: Style,
    sha_ref: Callable[[AnalyzedCommit, str], str],
) -> str:
    """A story's commits, one line each (marker, linked short SHA, title), under a heading."""
    heading = style.bold(WORDS[lab.language].story_commits.format(n=len(members)))
    lines = [
        f"{style.bullet} {marker(entry)} {sha_ref(entry, short)} {style.inline(entry.commit.title)}"
        for entry, short in members
        if entry is not None
    ]
    return "\n".join([heading, *lines])


def meta_line(entry: AnalyzedCommit, lab: Labels, escape: Callable[[str], str]) -> str:
    """Analyzer, confidence and how much of the diff it saw (the analyzer's name is escaped)."""
    parts = [lab.analyzer.format(analyzer=escape(entry.analyzer))]
    if entry.analysis is not None:
        parts.append(lab.confidence.format(level=lab.confidence_levels[entry.analysis.confidence]))
    if entry.coverage is not None and entry.coverage.files_total:
        parts.append(coverage_text(entry.coverage, lab))
    return "\n".join([" · ".join(parts), *source_notes(entry.commit, lab, escape)])


def shallow_note(digest: Digest, lab: Labels) -> list[str]:
    """The line that says the clone's history stops inside the window (none otherwise)."""
    if digest.shallow_before is None:
        return []
    return [lab.shallow.format(date=format_minute(digest.shallow_before, digest.window.tz))]


def coverage_text(coverage: Coverage, lab: Labels) -> str:
    """How much of the diff the analyzer saw, with the files the source could not read."""
    text = lab.coverage.format(
        full=coverage.files_full,
        total=coverage.files_total,
        clipped=coverage.files_clipped,
        omitted=coverage.files_omitted,
    )
    if coverage.files_unreadable:
        text += lab.coverage_unreadable.format(n=coverage.files_unreadable)
    return text


UNREADABLE_NAMED = 10  # files named in a commit's note; the rest are counted


def source_notes(commit: Commit, lab: Labels, name: Callable[[str], str]) -> list[str]:
    """What the source could not read: the commit's file list, or files named (the first ten)
    with the reason; `name` makes a path safe (and shows it as code) for the platform."""
    notes = []
    if commit.files_unreadable is not None:
        notes.append(lab.unlisted.format(reason=lab.unreadable[commit.files_unreadable]))
    elif commit.files_incomplete:
        notes.append(lab.files_incomplete)
    by_reason: dict[Unreadable, list[str]] = {}
    for change in commit.files:
        if change.unreadable is not None:
            by_reason.setdefault(change.unreadable, []).append(change.path)
    shown, groups = 0, []
    for reason, paths in by_reason.items():
        named = paths[: max(UNREADABLE_NAMED - shown, 0)]
        shown += len(named)
        more = [f"+{len(paths) - len(named)}"] if len(paths) > len(named) else []
        why = lab.unreadable[reason]
        why = f"（{why}）" if lab.language == "zh" else f" ({why})"
        groups.append(", ".join([*map(name, named), *more]) + why)
    if groups:
        total = sum(len(paths) for paths in by_reason.values())
        notes.append(lab.unreadable_files.format(n=total, files="; ".join(groups)))
    return notes
