"""Untrusted text made safe to lay out: invisible and control characters out, whitespace tidy.

Shared by every renderer that posts commit text or LLM output (Slack, Feishu), before each
applies its own escaping; so are cutting text to a length and checking a link's address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

_NEWLINES = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def clean(text: str, *, multiline: bool = False) -> str:
    """Format characters (bidi, zero-width) removed, controls as spaces, whitespace collapsed.

    One line unless `multiline`: then lines are kept (each collapsed), runs of blank lines
    become one, and leading/trailing blank lines go.
    """
    text = _NEWLINES.sub("\n", text)
    kept: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cf", "Cs"):  # format characters; lone surrogates from bad decoding
            continue
        kept.append(" " if category == "Cc" and ch != "\n" else ch)
    lines = [" ".join(line.split()) for line in "".join(kept).split("\n")]
    if not multiline:
        return " ".join(line for line in lines if line)
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def clip(text: str, limit: int, measure: Callable[[str], int] = len) -> str:
    """At most `limit` units (as `measure` counts them: characters, UTF-16 units...), cut before
    a word where one is near, marked with `…`; never a combining mark without its base."""
    if measure(text) <= limit:
        return text
    cut = used = 0
    for i, ch in enumerate(text):
        used += measure(ch)
        if used > limit - 1:
            break
        cut = i + 1
    cut = max(cut, 1)
    while cut > 1 and unicodedata.category(text[cut]) in ("Mn", "Me", "Mc"):
        cut -= 1
    space = text.rfind(" ", 0, cut)
    if space > cut - 20 and space > 0:
        cut = space
    return text[:cut].rstrip() + "…"


def prefix_within(text: str, limit: int, measure: Callable[[str], int] = len) -> str:
    """The longest prefix of `text` of at most `limit` units (at least one character)."""
    used = 0
    for i, ch in enumerate(text):
        used += measure(ch)
        if used > limit:
            return text[: max(i, 1)]
    return text


def http_url(url: str | None) -> str | None:
    """`url`, cleaned, when it is an http(s) URL with a host; else None (never a `javascript:`
    or relative link). Each platform then quotes it for its own link syntax."""
    if not url:
        return None
    url = clean(url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
