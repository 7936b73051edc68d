"""Turn untrusted text (commit messages, names, paths, analyzer output) into inert Markdown.

Everything that is not ours is escaped before it is placed in a document: it may show as text,
never as structure (headings, tables, lists, links) and never as HTML.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that start emphasis, code, links, strikethrough or table cells.
_BACKSLASHED = frozenset("\\`*_[]~|")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# A line that starts with one of these would become a list item or a setext underline.
_BLOCK_START = frozenset("-+=")
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])")


def collapse(text: str) -> str:
    """One line: control characters, tabs, CR/LF and runs of whitespace become one space."""
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(cleaned.split())


def escape_inline(text: str) -> str:
    """Text on one line that renders exactly as written, wherever it is placed in a line.

    Backslash-escapes Markdown punctuation, turns `<`, `>`, `&` into entities (so no raw HTML and
    no `<!channel>`), escapes `#` that could open or close a heading, and a leading list or
    setext marker, so that the result is safe at the start of a line too.
    """
    line = collapse(text)
    out: list[str] = []
    for i, ch in enumerate(line):
        if ch in _BACKSLASHED:
            out.append("\\" + ch)
        elif ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch == "#" and (i == 0 or line[i - 1] == " "):
            out.append("\\#")
        else:
            out.append(ch)
    result = "".join(out)
    if result[:1] in _BLOCK_START:
        result = "\\" + result
    return _ORDERED_ITEM.sub(r"\1\\\2", result, count=1)


def escape_table_cell(text: str) -> str:
    """A GFM table cell: one line, `|` escaped, nothing that can open HTML or markup.

    Kept apart from escape_inline so that table-only rules have one home; today they coincide.
    """
    return escape_inline(text)


def escape_paragraphs(text: str) -> list[list[str]]:
    """Multi-line text as paragraphs of escaped lines; blank lines separate paragraphs.

    Lines are kept (a summary written as steps stays readable), but each is escaped on its own,
    so a line that starts with `#`, `>`, `-` or `1.` stays text.
    """
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = escape_inline(raw)
        if line:
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def code_span(text: str) -> str:
    """Inline code for trusted, plain values (hex SHAs, analyzer names we built)."""
    return f"`{collapse(text).replace('`', '')}`"
