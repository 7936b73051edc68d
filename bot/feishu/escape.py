"""Untrusted text (commit messages, names, paths, branch names, LLM output) made inert for Feishu.

A Feishu card reads text in three ways, so there are three escapes:

- `plain` for `plain_text` objects (the header, panel titles, notes, button labels) and the
  `text` cells of a table. Shown as written and never formatted, so the text keeps its `*`,
  `_`, `[`, `]` and URLs. Still, nothing documents that plain_text can never carry a tag, so
  `<` and `>` become look-alikes (`˂`, `˃`) here too, and the `](` that makes a markdown link
  becomes `］(`: no `<at id=all>` and no `[text](url)` can reach Feishu whatever a client does
  with plain text. `[Bugfix]`-style tags and bare URLs show as typed (plain text is not
  auto-linked).
- `markdown` for the `markdown` component (the analysis fields, the overview): the text must
  show as written and neither ping, link nor format:
  * `<` and `>` become `˂` and `˃`: every tag is inert — `<at>` (a user, `id=all`), `<font>`,
    `<link>`, `<a>`, `<person>`, `<text_tag>`, `<raw>`, `<br>` — as are autolinks `<https://…>`
    and a line-leading `>` (a quote). Look-alikes rather than entities: the docs do not say
    whether or when card markdown decodes entities (and an entity decoded after parsing is
    exactly the bug to avoid); a look-alike renders the same everywhere.
  * `[` and `]` become fullwidth `［` `］`: no `[text](url)` link and no `![x](img_key)` image.
  * `*`, `` ` `` always, `_` and `~` unless inside a word (`max_tokens`, `a~b`) become
    `∗`, `ˋ`, `ˍ`, `∼`: no emphasis, strike-through or code; `|` becomes `｜`: no table.
  * At the start of a line: `#` (heading), `-`, `+`, `=` (list, rule, setext), `1.`/`1)`
    (ordered list) get fullwidth forms, so a line cannot open a block.
  * `://` becomes `꞉//` and a word-leading `www.` becomes `www․`: a bare URL stays readable
    but is not auto-linked (a link we did not build is a planted link, even a visible one).
  * An `&` that starts an entity becomes `＆`: `&#60;at id=all&#62;` is text, not a tag.
- `code` for inline code spans (paths of affected areas): markdown is off inside, so only
  the backtick (which would close the span), tags, brackets and URLs are treated.

Everywhere: `@所有人`, `@all`, `@everyone`, `@here` get a fullwidth `＠` — Feishu mentions need
an `<at>` tag, which cannot occur, but a bare `@所有人` must not even look like one. Format
characters (Unicode Cf: bidi overrides and isolates, zero-width characters, BOM, tags; also
lone surrogates) are removed, control characters become spaces, whitespace is collapsed.
Look-alikes rather than inserted zero-width characters: what is shown is what is copied, and
no invisible character is posted. Card variables (`${name}`) are only read in template cards,
which we never send. The same choices as bot/slack/escape.py, for Feishu's syntax.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from digest.render.clean import clean, clip, http_url, prefix_within

LT, GT = "\u02c2", "\u02c3"  # ˂ ˃
# Markdown characters and their look-alikes; `_` and `~` stay as typed inside a word.
_LOOKALIKE = {
    "*": "\u2217",  # ∗
    "`": "\u02cb",  # ˋ
    "_": "\u02cd",  # ˍ
    "~": "\u223c",  # ∼
    "[": "\uff3b",  # ［
    "]": "\uff3d",  # ］
    "|": "\uff5c",  # ｜
    "<": LT,
    ">": GT,
}
_INSIDE_WORD_OK = frozenset("_~")
# Line-leading characters that would open a block, and what is shown instead.
_LINE_START = {"#": "\uff03", "-": "\uff0d", "+": "\uff0b", "=": "\uff1d"}
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])")
_FULLWIDTH_STOP = {".": "\uff0e", ")": "\uff09"}
_MENTION = re.compile(r"@(?=所有人|all\b|everyone\b|here\b)", re.IGNORECASE)
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_SCHEME = re.compile(r"://")
_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)
_NEWLINES = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def _common(line: str) -> str:
    """What every escape does to a cleaned line: entities, mentions."""
    return _MENTION.sub("\uff20", _ENTITY_LIKE.sub("\uff06", line))


def plain(text: str, *, multiline: bool = False) -> str:
    """Untrusted text for plain_text objects and table text cells: shown as written."""
    lines = clean(text, multiline=multiline).split("\n")
    return "\n".join(
        _common(line).replace("<", LT).replace(">", GT).replace("](", "\uff3d(") for line in lines
    )


def neutral_line_start(line: str) -> str:
    """A line (already escaped) that cannot open a heading, list, rule or quote."""
    if line[:1] in _LINE_START:
        return _LINE_START[line[0]] + line[1:]
    return _ORDERED_ITEM.sub(lambda m: m.group(1) + _FULLWIDTH_STOP[m.group(2)], line, count=1)


def _markdown_line(line: str) -> str:
    line = _common(line)
    out: list[str] = []
    for i, ch in enumerate(line):
        if ch in _LOOKALIKE:
            before = line[i - 1] if i else ""
            after = line[i + 1] if i + 1 < len(line) else ""
            inside_word = ch in _INSIDE_WORD_OK and _ascii_alnum(before) and _ascii_alnum(after)
            out.append(ch if inside_word else _LOOKALIKE[ch])
        else:
            out.append(ch)
    result = _WWW.sub("\\1\u2024", _SCHEME.sub("\ua789//", "".join(out)))
    return neutral_line_start(result)


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def markdown(text: str, *, multiline: bool = False) -> str:
    """Untrusted text as card markdown that shows as written: no tag, link, mention or format."""
    lines = clean(text, multiline=multiline).split("\n")
    return "\n".join(_markdown_line(line) for line in lines)


def code(text: str) -> str:
    """An inline code span of untrusted text (one line); empty text gives an empty string."""
    inner = _common(clean(text))
    for ch in "`<>[]":
        inner = inner.replace(ch, _LOOKALIKE[ch])
    inner = _WWW.sub("\\1\u2024", _SCHEME.sub("\ua789//", inner))
    return f"`{inner}`" if inner else ""


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that cannot end the `[label](url)` around it, or None.

    Spaces, quotes, brackets, parentheses, `<`, `>` and non-ASCII are percent-encoded.
    """
    href = http_url(url)
    return quote(href, safe=":/?#@!$&*+,;=%~-._") if href else None


def link(url: str | None, label: str) -> str:
    """`[label](url)` for a URL we build (a commit, our report); the escaped label without one."""
    shown = markdown(label)
    href = safe_url(url)
    return f"[{shown}]({href})" if href and shown else shown


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut before a word where one is near, marked with `…`."""
    return clip(text, limit)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _wire_cost(ch: str) -> int:
    if ch in ('"', "\\"):
        return 4  # \" in the card JSON, \\\" in the request
    if ch in "\n\t\r\b\f":
        return 3
    if ord(ch) < 0x20:
        return 7  # \u001f, then \\u001f
    return utf8_len(ch)


def wire_len(text: str) -> int:
    """The bytes `text` takes in a message request: as a string in the card JSON, and that JSON
    again as the `content` string of the request (a quote costs 4 bytes, a newline 3)."""
    return sum(_wire_cost(ch) for ch in text)


def split_markdown(text: str, limit: int) -> list[str]:
    """Escaped markdown in pieces of at most `limit` bytes (`wire_len`), cut at line breaks.

    A line longer than the limit is cut between words (between characters for a longer word);
    the continuation starts a new line, so it is made line-start neutral again. Our own markup
    (a bold label, a link) never spans lines, so it is never cut.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for part in _split_line(line, limit):
            part_size = wire_len(part)
            if current and size + 3 + part_size > limit:  # 3: the newline between
                pieces.append("\n".join(current))
                current, size = [], 0
            size += part_size + (3 if current else 0)
            current.append(part)
    pieces.append("\n".join(current))
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def _split_line(line: str, limit: int) -> list[str]:
    if wire_len(line) <= limit:
        return [line]
    limit -= 2  # room for a fullwidth form at the start of a continuation
    parts: list[str] = []
    current, size = "", 0
    for word in re.findall(r"\S+\s*", line):
        word_size = wire_len(word)
        if size + word_size <= limit:
            current, size = current + word, size + word_size
            continue
        if current.strip():
            parts.append(current.rstrip())
        current, size = word, word_size
        while size > limit:
            head = prefix_within(current, limit, _wire_cost)
            parts.append(head)
            current = current[len(head) :]
            size = wire_len(current)
    if current.strip():
        parts.append(current.rstrip())
    return [parts[0], *(neutral_line_start(p.lstrip()) for p in parts[1:])] if parts else []
