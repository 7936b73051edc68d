"""A reasoning model's thinking, taken out of what it says before anything reads the answer.

Models think aloud in different places: DeepSeek-R1 and Qwen3 served without a reasoning parser
write `<think>…</think>` before the answer (or only the closing tag, when the chat template opened
the block in the prompt), a cut-off answer leaves the block unclosed, and gpt-oss without a parser
writes its harmony channels. The `reasoning_content` / `reasoning` fields never reach us as text
to show (wire.py reads `content` only). Only thinking at the *start* of the text is removed, so an
answer that mentions `<think>` (a commit about a parser) keeps its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAGS = "think|thinking|reasoning"
# One complete leading block, after any blank space (repeated: some models think twice).
_LEADING_BLOCK_RE = re.compile(rf"\A\s*<({_TAGS})>.*?</\1>", re.DOTALL | re.IGNORECASE)
# A leading block that never closes: the answer was cut off while thinking, or never came.
_UNCLOSED_RE = re.compile(rf"\A\s*<(?:{_TAGS})>", re.IGNORECASE)
_OPEN_RE = re.compile(rf"<(?:{_TAGS})>", re.IGNORECASE)
_CLOSE_RE = re.compile(rf"</(?:{_TAGS})>", re.IGNORECASE)
# gpt-oss (harmony): the final channel is the answer; analysis channels are thinking.
_HARMONY_FINAL = "<|channel|>final<|message|>"
_HARMONY_MARK = "<|channel|>"
_HARMONY_END_RE = re.compile(r"<\|(?:end|return|call)\|>\s*\Z")


@dataclass(frozen=True)
class Cleaned:
    """The answer without its thinking, and whether there was any."""

    text: str
    thought: bool


def strip_reasoning(content: str) -> Cleaned:
    """`content` without leading thinking; `thought` is True when some was removed (or when the
    text was nothing but unfinished thinking, in which case `text` is empty)."""
    text = content
    if _HARMONY_MARK in text:
        final = text.rfind(_HARMONY_FINAL)
        if final < 0:
            return Cleaned("", True)
        answer = _HARMONY_END_RE.sub("", text[final + len(_HARMONY_FINAL) :])
        return Cleaned(answer.strip(), True)
    thought = False
    while match := _LEADING_BLOCK_RE.match(text):
        text, thought = text[match.end() :], True
    if _UNCLOSED_RE.match(text):
        return Cleaned("", True)
    closer = _CLOSE_RE.search(text)
    opener = _OPEN_RE.search(text)
    if closer is not None and (opener is None or closer.start() < opener.start()):
        # The chat template opened the block in the prompt (DeepSeek-R1's does), so the content
        # starts mid-thought and only the closing tag shows where the answer begins.
        text, thought = text[closer.end() :], True
    return Cleaned(text.strip(), thought)
