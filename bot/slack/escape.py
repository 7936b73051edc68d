"""Untrusted text (commit messages, names, paths, LLM output) made inert for Slack.

Slack reads three kinds of text, so there are three escapes:

- mrkdwn (sections, context, a message's fallback `text`): `escape_text`. `&`, `<`, `>` become
  entities, which alone makes `<!channel>`, `<@U1>`, `<!subteam^S1>` and `<https://x|y>` inert.
  Formatting characters get look-alikes where Slack could format with them (`*`, `_`, `~` unless
  inside a word such as `max_tokens`; every backtick); a line-leading `>` (a quote) too. Bare
  `@channel`, `@here` and `@everyone` get a fullwidth `＠`: inert even if someone turns on
  `link_names`, which we never do. The blocks also set `verbatim: true`, so Slack neither
  links bare URLs and `#channel` names nor parses mentions in our text.
- code spans: `escape_code`. Formatting is off inside code; only entities and backticks matter.
- plain_text (the header) and raw_text (table cells): `plain_text`. Slack shows these as they
  are, so entities would show as `&lt;`; `<` and `>` get look-alikes instead (`˂`, `˃`), and an
  `&` that starts an entity gets a fullwidth `＆`, so the text reads right whether or not Slack
  decodes entities there, and no `<!` ever reaches Slack.

All three first strip format characters (Unicode Cf: bidi overrides and isolates, zero-width
characters, BOM, tags; also lone surrogates) and turn control characters into spaces.
Look-alikes rather than inserted zero-width characters: what is shown is what is copied, and no
invisible character is posted.

Lengths are counted in UTF-16 code units (`slack_len`), the larger of the counts Slack might use.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from digest.render.clean import clean, clip, http_url, prefix_within

# mrkdwn control characters and the look-alikes shown instead.
_LOOKALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_NEWLINES = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")
# Atoms a split never cuts: our links, entities, runs of spaces, words, any other character.
_ATOM = re.compile(r"<[^<>\n]*>|&(?:amp|lt|gt);|\s+|[^\s<&]+|.", re.DOTALL)


def slack_len(text: str) -> int:
    """Length in UTF-16 code units: an emoji outside the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inert_marks(line: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(line):
        if ch in _LOOKALIKE:
            before = line[i - 1] if i else ""
            after = line[i + 1] if i + 1 < len(line) else ""
            inside_word = ch != "`" and _ascii_alnum(before) and _ascii_alnum(after)
            out.append(ch if inside_word else _LOOKALIKE[ch])
        else:
            out.append(ch)
    result = "".join(out)
    if result.startswith(">"):
        result = "\u02c3" + result[1:]
    return result


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def escape_text(text: str, *, multiline: bool = False) -> str:
    """Untrusted text as mrkdwn that shows as written and can neither ping, link nor format."""
    lines = clean(text, multiline=multiline).split("\n")
    return "\n".join(_entities(_MENTION.sub("\uff20\\1", _inert_marks(line))) for line in lines)


def escape_code(text: str) -> str:
    """Untrusted text for inside a code span (one line): entities, and no backtick to close it."""
    return _entities(_MENTION.sub("\uff20\\1", clean(text).replace("`", _LOOKALIKE["`"])))


def code(text: str) -> str:
    """An inline code span of untrusted text; empty text gives an empty string."""
    inner = escape_code(text)
    return f"`{inner}`" if inner else ""


def plain_text(text: str) -> str:
    """Untrusted text for plain_text and raw_text objects, shown as written, one line."""
    line = _ENTITY_LIKE.sub("\uff06", clean(text))
    return _MENTION.sub("\uff20\\1", line.replace("<", "\u02c2").replace(">", "\u02c3"))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that cannot end the `<url|label>` around it, or None."""
    href = http_url(url)
    # `|`, `<`, `>`, spaces and non-ASCII are percent-encoded; `&` is an entity, as Slack sends.
    return quote(href, safe=":/?#@!$&'()*+,;=%~-._[]").replace("&", "&amp;") if href else None


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a URL we build from a commit; the escaped label alone without one."""
    shown = escape_text(label)
    href = safe_url(url)
    return f"<{href}|{shown}>" if href and shown else shown


def truncate(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units, cut before a word where one is near, marked with `…`."""
    return clip(text, limit, slack_len)


def split_text(text: str, limit: int) -> list[str]:
    """Text in pieces of at most `limit` units, cut at line breaks, else between words.

    An entity or one of our `<url|label>` links is never cut; a single word longer than the
    limit is, between characters.
    """
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        for part in _split_line(line, limit):
            joined = f"{current}\n{part}" if current else part
            if current and slack_len(joined) > limit:
                pieces.append(current)
                current = part
            else:
                current = joined
    if current.strip():
        pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def _split_line(line: str, limit: int) -> list[str]:
    if slack_len(line) <= limit:
        return [line]
    parts: list[str] = []
    current = ""
    for atom in _ATOM.findall(line):
        if slack_len(current + atom) <= limit:
            current += atom
            continue
        if current.strip():
            parts.append(current.rstrip())
        current = "" if atom.isspace() else atom
        while slack_len(current) > limit:
            head = prefix_within(current, limit, slack_len)
            parts.append(head)
            current = current[len(head) :]
    if current.strip():
        parts.append(current.rstrip())
    return parts
