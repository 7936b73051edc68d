"""The daily report as Markdown: the seed's structure and labels, without its defects.

Pure: a Digest in, a string out. Headings nest (repo H2, groups H3, commits H4), every contents
link points at an explicit `<a id>` anchor of this document, every count adds up, nothing is cut,
and no commit message or analyzer text can add structure or HTML.
"""

from __future__ import annotations

from digest.models import AnalyzedCommit, Digest, Language
from digest.render.context import WORDS
from digest.render.detail import shallow_note
from digest.render.escape import code_span, escape_inline, escape_table_cell
from digest.render.i18n import FOLDED_EMOJI, Labels, labels, stats_sentence
from digest.render.layout import (
    Item,
    Layout,
    Section,
    SectionKind,
    format_minute,
    format_time,
    layout,
    period,
)
from digest.render.markdown_commit import render_commit, safe_url

__all__ = ["escape_inline", "escape_table_cell", "render_commit_markdown", "render_markdown"]

STATS_ANCHOR = "stats"


def render_markdown(digest: Digest) -> str:
    lab = labels(digest.language)
    lay = layout(digest)
    lines = _header(digest, lab, lay)
    if not lay.rows:
        lines += [lab.empty]
    else:
        lines += _table(digest, lab, lay)
        lines += _stats(digest, lab, lay)
        lines += _contents(digest, lab, lay)
        for section in lay.sections:
            lines += _section(section, lab)
    return _tidy(lines)


def render_commit_markdown(entry: AnalyzedCommit, language: Language) -> str:
    """One commit's analysis as a document of its own (`digest show`), as in the report."""
    lab = labels(language)
    lines = [f"> {escape_inline(entry.commit.repo)}", ""]
    lines += render_commit(entry, lab, short_sha=entry.commit.short_sha, level=2)
    return _tidy(lines)


def anchor(anchor_id: str) -> str:
    return f'<a id="{anchor_id}"></a>'


def _header(digest: Digest, lab: Labels, lay: Layout) -> list[str]:
    window = digest.window
    where = [
        lab.window.format(
            start=format_minute(window.start, window.tz),
            end=format_minute(window.end, window.tz),
            tz=escape_inline(window.tz),
        ),
        lab.branch.format(branch=escape_inline(digest.branch)),
    ]
    analyzers = digest.analyzers or tuple(sorted({e.analyzer for e in digest.entries}))
    if analyzers:
        where.append(lab.analyzer.format(analyzer=escape_inline(", ".join(analyzers))))
    overview = []
    if digest.overview:
        overview = [f"> **{lab.overview}**：{escape_inline(digest.overview)}", ""]
        if digest.language == "en":
            overview = [f"> **{lab.overview}**: {escape_inline(digest.overview)}", ""]
    shallow = [line for note in shallow_note(digest, lab) for line in (f"> {note}", "")]
    return [
        f"# {lab.title.format(period=escape_inline(period(window)))}",
        "",
        "> " + " · ".join(where),
        "",
        *shallow,
        *overview,
        anchor(lay.repo_anchor),
        f"## {escape_inline(digest.repo.full_name)}",
        "",
    ]


def _marker(item: Item, lab: Labels) -> str:
    """The importance column: emoji and level, or why the commit has none."""
    if item.fold_reason is not None:
        return f"{FOLDED_EMOJI} {lab.fold_reasons[item.fold_reason]}"
    if item.importance is None:
        return lab.failed
    return lab.importance_label(item.importance)


def _table(digest: Digest, lab: Labels, lay: Layout) -> list[str]:
    header = (lab.col_time, lab.col_author, lab.col_message, lab.col_importance)
    lines = [_row(header), _row(tuple("-" * max(4, len(h)) for h in header))]
    for item in lay.rows:
        commit = item.commit
        cells = (
            format_time(commit.committed_at, digest.window.tz),
            escape_table_cell(commit.author_name),
            escape_table_cell(commit.title) or lab.no_title,
            _marker(item, lab),
        )
        lines.append(_row(cells))
    return [*lines, ""]


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


def _stats(digest: Digest, lab: Labels, lay: Layout) -> list[str]:
    sentence = stats_sentence(
        lab,
        digest.stats,
        (f.reason for f in digest.folded),
        day=digest.window.day,
    )
    return [anchor(STATS_ANCHOR), f"### {lab.stats}", "", f"> {sentence}", ""]


def _section_title(section: Section, lab: Labels) -> str:
    n = len(section.items)
    importance = section.kind.importance
    if importance is not None:
        return lab.group_heading(importance, n)
    if section.kind is SectionKind.FAILED:
        return lab.failed_group.format(n=n)
    return lab.folded_group.format(n=n)


def _contents(digest: Digest, lab: Labels, lay: Layout) -> list[str]:
    lines = [
        f"### {lab.contents}",
        "",
        f"- [{escape_inline(digest.repo.full_name)}](#{lay.repo_anchor})",
        f"  - [{lab.stats}](#{STATS_ANCHOR})",
    ]
    for section in lay.sections:
        lines.append(f"  - [{_section_title(section, lab)}](#{section.anchor})")
        for item in section.items:
            title = escape_inline(item.commit.title) or lab.no_title
            lines.append(f"    - [{title}](#{item.anchor})")
    return [*lines, ""]


def _section(section: Section, lab: Labels) -> list[str]:
    lines = [anchor(section.anchor), f"### {_section_title(section, lab)}", ""]
    if section.kind is SectionKind.FOLDED:
        lines += [_folded_line(item, lab) for item in section.items]
        return [*lines, ""]
    for item in section.items:
        assert item.entry is not None  # analysed sections hold entries only
        lines += [anchor(item.anchor)]
        lines += render_commit(item.entry, lab, short_sha=item.short_sha)
        lines += _members(item, lab)
        lines += ["", "---", ""]
    return lines


def _members(item: Item, lab: Labels) -> list[str]:
    """A story's commits under its one analysis: each one's level, short SHA (linked), title."""
    if not item.members:
        return []
    words = WORDS[lab.language]
    lines = ["", f"**{words.story_commits.format(n=len(item.members))}**{lab.colon}", ""]
    for member in item.members:
        sha = code_span(member.short_sha)
        url = safe_url(member.commit.url)
        title = escape_inline(member.commit.title) or lab.no_title
        lines.append(f"- {_marker_of(member, lab)} {f'[{sha}]({url})' if url else sha} {title}")
    return lines


def _marker_of(item: Item, lab: Labels) -> str:
    return lab.importance_label(item.importance) if item.importance else lab.failed


def _folded_line(item: Item, lab: Labels) -> str:
    """A folded commit in one line: title, short SHA, why it was folded, link."""
    assert item.fold_reason is not None
    title = escape_inline(item.commit.title) or lab.no_title
    parts = [title, code_span(item.short_sha), lab.fold_reasons[item.fold_reason]]
    url = safe_url(item.commit.url)
    if url:
        parts.append(f"[{lab.view_commit}]({url})")
    return f"- {anchor(item.anchor)}" + " · ".join(parts)


def _tidy(lines: list[str]) -> str:
    """Join lines: no runs of blank lines, no trailing blank, one final newline."""
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
