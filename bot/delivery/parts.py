"""A post as a sequence of parts, and the one decision of what is still to send (DESIGN §7).

A digest post is several messages: the main message(s), one thread reply per detailed item, the
report file (on Feishu: cards, then the file). Each part has a name, unique within its post, and
the platform is shown `part_key(run_key, name)` with it (Slack message metadata, Feishu `uuid`),
so that a replica taking a run over can ask the platform which parts are out. Parts go out one
after another, each only once the previous one was acknowledged; so whatever was killed when,
what is out is known parts plus at most the one part that was in flight.

Pure: values in, values out. The I/O around it is bot/delivery/delivering.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PartKind(StrEnum):
    MAIN = "main"  # a top-level message; the first one heads the thread
    REPLY = "reply"  # a message in the first main part's thread
    FILE = "file"  # the report, attached in the thread


@dataclass(frozen=True)
class Part:
    """One message of a post. `body` is what the platform sends (Block Kit, a card, bytes):
    opaque here, read only by the poster that made it."""

    name: str
    kind: PartKind
    body: Any = None


class BadParts(ValueError):
    """A poster rendered parts that cannot be delivered in order (a bug, not an outage)."""


def check_parts(parts: Sequence[Part]) -> None:
    """The first part heads the post (MAIN) and every name is unique."""
    if not parts or parts[0].kind != PartKind.MAIN:
        raise BadParts("a post starts with a main part")
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise BadParts(f"part names repeat: {sorted(n for n in names if names.count(n) > 1)}")


def part_key(run_key: str, name: str) -> str:
    """The idempotency key the platform keeps with a part."""
    return f"{run_key}/{name}"


def thread_of(parts: Sequence[Part], out: Mapping[str, str]) -> str | None:
    """The message id that heads the post's thread (the first part's), once it is out."""
    return out.get(parts[0].name) if parts else None


@dataclass(frozen=True)
class Progress:
    """Where a post stands: what is known to be out, and what still goes, in order."""

    out: Mapping[str, str]  # part name -> message id
    todo: tuple[Part, ...]

    @property
    def done(self) -> bool:
        return not self.todo

    @property
    def resumed(self) -> bool:
        """Some parts are out and some are not: a post taken up half-way."""
        return bool(self.todo) and bool(self.out)

    def message_ids(self, parts: Sequence[Part]) -> tuple[str, ...]:
        """The ids of the parts out, in the post's order (the first is the main post)."""
        return tuple(self.out[p.name] for p in parts if p.name in self.out)


def progress(parts: Sequence[Part], out: Mapping[str, str]) -> Progress:
    """What is left of `parts` when `out` (name -> id) are known to be out.

    Every part not out is sent, in the post's order, and no part that is out is sent again,
    even when a lookup shows a gap (a part out after one that is not): exactly once per part
    wins over order. Names in `out` that the parts do not have (a post rendered differently
    before a crash) are kept: they are out, whatever this rendering says.
    """
    check_parts(parts)
    known = {name: mid for name, mid in out.items() if mid}
    todo = tuple(p for p in parts if p.name not in known)
    return Progress(out=known, todo=todo)
