"""Untrusted text made safe to lay out: invisible and control characters out, whitespace tidy.

Shared by every renderer that posts commit text or LLM output (Slack, Feishu), before each
applies its own escaping.
"""

from __future__ import annotations

import re
import unicodedata

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
