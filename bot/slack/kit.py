"""Block Kit primitives and Slack's limits: the few block shapes we post, and how they split.

A text over 3,000 units becomes several sections; a message over 50 blocks, ~10k units of text,
or with a second table (Slack allows one per message) continues in the next message. Nothing is
ever dropped or cut to fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.slack.escape import slack_len, split_text, truncate

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_TEXT = 3_000  # a section's text, a context element's text
MAX_HEADER = 150
MAX_MESSAGE_TEXT = 10_000  # our budget for all the text of one message's blocks
MAX_TABLE_ROWS = 100  # the header row included
MAX_CONTEXT_ELEMENTS = 10
FALLBACK_TEXT = 300


@dataclass(frozen=True)
class Message:
    """One chat.postMessage: `text` is the notification fallback (escaped mrkdwn)."""

    text: str
    blocks: list[Block]


def _mrkdwn(text: str) -> Block:
    # verbatim: Slack neither links bare URLs and #channels nor parses mentions in our text.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def sections(text: str) -> list[Block]:
    """mrkdwn text (already escaped) as as many sections as its length needs."""
    return [{"type": "section", "text": _mrkdwn(part)} for part in split_text(text, MAX_TEXT)]


def contexts(texts: Iterable[str]) -> list[Block]:
    """Small print: each text (already escaped) an element, ten elements a block."""
    elements = [_mrkdwn(part) for text in texts for part in split_text(text, MAX_TEXT)]
    return [
        {"type": "context", "elements": elements[i : i + MAX_CONTEXT_ELEMENTS]}
        for i in range(0, len(elements), MAX_CONTEXT_ELEMENTS)
    ]


def header(text: str) -> Block:
    """A header of our own text; untrusted parts must have gone through plain_text."""
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER)}}


def table(rows: Sequence[Sequence[str]]) -> Block:
    """A table of raw_text cells (already through plain_text); the first row is the header."""
    return {
        "type": "table",
        "column_settings": [{"is_wrapped": False}, {"is_wrapped": False}, {"is_wrapped": True}],
        "rows": [[{"type": "raw_text", "text": cell or " "} for cell in row] for row in rows],
    }


def block_text_length(blocks: Iterable[Any]) -> int:
    """All the text of some blocks (every `text` string at any depth), in UTF-16 units."""
    total = 0
    for value in blocks:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "text" and isinstance(inner, str):
                    total += slack_len(inner)
                else:
                    total += block_text_length([inner])
        elif isinstance(value, list):
            total += block_text_length(value)
    return total


def pack(units: Iterable[list[Block]]) -> list[list[Block]]:
    """Blocks into messages, in order; a unit stays whole unless it alone breaks a limit."""
    packed: list[list[Block]] = []
    current: list[Block] = []
    for unit in units:
        pieces = [unit] if fits([], unit) else [[block] for block in unit]
        for piece in pieces:
            if current and not fits(current, piece):
                packed.append(current)
                current = []
            current = current + piece
    if current:
        packed.append(current)
    return packed


def fits(current: list[Block], unit: list[Block]) -> bool:
    """Whether `unit` can join a message that holds `current`."""
    blocks = current + unit
    tables = sum(1 for b in blocks if b.get("type") == "table")
    return (
        len(blocks) <= MAX_BLOCKS and block_text_length(blocks) <= MAX_MESSAGE_TEXT and tables <= 1
    )


def as_messages(packed: list[list[Block]], fallback: str, continued: str) -> list[Message]:
    """Packed blocks as messages; `continued` ({n} {total}) marks the fallback of the later ones."""
    first = truncate(fallback, FALLBACK_TEXT)
    total = len(packed)
    return [
        Message(first if n == 1 else f"{first} {continued.format(n=n, total=total)}", blocks)
        for n, blocks in enumerate(packed, start=1)
    ]
