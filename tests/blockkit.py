"""The Slack blocks we post, checked against slack_sdk's own Block Kit models, so that a layout
Slack would refuse fails in a test first.

Each block is read with `slack_sdk.models.blocks.Block.parse` (a type slack_sdk does not know is a
problem), written back with `to_dict()`, which runs every `validate_json()` of the block and of the
objects inside it (text lengths: a section's text 3,000, a header's 150, a context's 10 elements;
required fields; allowed values), and must come back as it went in: a key slack_sdk drops is one
Slack does not read either (a typo, a field of another block type). Then the message's own rules,
which no single block knows: at most 50 blocks, one table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_TABLES = 1


@contextmanager
def _quiet_sdk() -> Iterator[None]:
    """Block.parse logs a warning for an unknown type; we report it as a problem instead."""
    logger = logging.getLogger("slack_sdk.models.blocks.blocks")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def block_kit_problems(blocks: Any) -> list[str]:
    """What Slack's Block Kit, as slack_sdk models it, refuses in a message's `blocks`."""
    if not isinstance(blocks, list):
        return [f"blocks must be an array, not {type(blocks).__name__}"]
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks in one message, more than {MAX_BLOCKS}")
    tables = sum(1 for b in blocks if isinstance(b, dict) and b.get("type") == "table")
    if tables > MAX_TABLES:
        problems.append(f"{tables} tables in one message, more than {MAX_TABLES}")
    for i, raw in enumerate(blocks):
        problems += [f"blocks[{i}]: {p}" for p in block_problems(raw)]
    return problems


def block_problems(raw: Any) -> list[str]:
    """What slack_sdk's model of this one block refuses, or does not read back."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return ["a block must be an object with a type"]
    kind = raw["type"]
    try:
        with _quiet_sdk():
            block = Block.parse(raw)
        if block is None:
            return [f"{kind!r} is no block type slack_sdk knows"]
        block.validate_json()
        back = block.to_dict()  # validates every object inside it too
    except (SlackObjectFormationError, ValueError, TypeError, KeyError) as e:
        return [f"{kind}: {e}"]
    return [f"{kind}: {d}" for d in _differences(raw, back, "")]


def _differences(sent: Any, read: Any, at: str) -> list[str]:
    """Where what slack_sdk read back differs from what we sent (a dropped key, a changed value)."""
    if isinstance(sent, dict) and isinstance(read, dict):
        out = [f"{at}/{k} is not read by slack_sdk" for k in sent if k not in read]
        out += [f"{at}/{k} was added by slack_sdk" for k in read if k not in sent]
        for k in sent.keys() & read.keys():
            out += _differences(sent[k], read[k], f"{at}/{k}")
        return out
    if isinstance(sent, list) and isinstance(read, list) and len(sent) == len(read):
        return [d for n, (a, b) in enumerate(zip(sent, read, strict=True)) for d in
                _differences(a, b, f"{at}/{n}")]  # fmt: skip
    return [] if sent == read else [f"{at} is {read!r} once read, not {sent!r}"]
