"""Unified-diff hunks, as git and GitHub write them, read into lines of an old and a new side.

Each side of a hunk is the text a reader sees there: context lines plus the removed lines (old)
or the added lines (new), each marked changed or not, with its indentation. Where a patch holds
a whole file (an added or removed file, or one hunk from line 1 to the end), that side is the
whole blob, so a real parser can read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from digest.models import FileChange, FileStatus

# Work per file stays bounded whatever the patch: a reader learns little from line 20,000.
MAX_PATCH_LINES = 20_000
CONTEXT = 3  # the sources ask git for -U3; GitHub sends the same

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")

Side = Literal["old", "new"]


@dataclass(frozen=True)
class Line:
    text: str
    changed: bool  # removed (old side) or added (new side)

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip(" \t"))

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@dataclass(frozen=True)
class Hunk:
    old_start: int
    new_start: int
    header: str  # git's function context after the second @@ ("def f(x):", "class A:")
    old: tuple[Line, ...]
    new: tuple[Line, ...]

    def side(self, which: Side) -> tuple[Line, ...]:
        return self.old if which == "old" else self.new

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(ln.text for ln in self.old if ln.changed)

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(ln.text for ln in self.new if ln.changed)


def parse_hunks(patch: str | None) -> tuple[Hunk, ...]:
    """The hunks of one file's patch; lines before the first `@@` (headers) are skipped."""
    if not patch:
        return ()
    hunks: list[Hunk] = []
    head: tuple[int, int, str] | None = None
    old: list[Line] = []
    new: list[Line] = []
    lines = patch.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line starts no line
    for n, raw in enumerate(lines):
        if n >= MAX_PATCH_LINES:
            break
        match = _HUNK_RE.match(raw) if raw.startswith("@@") else None
        if match:
            if head is not None:
                hunks.append(Hunk(head[0], head[1], head[2], tuple(old), tuple(new)))
            head = (int(match[1]), int(match[3]), match[5].strip())
            old, new = [], []
        elif head is None or raw.startswith("\\"):  # "\ No newline at end of file"
            continue
        elif raw.startswith("-"):
            old.append(Line(raw[1:], True))
        elif raw.startswith("+"):
            new.append(Line(raw[1:], True))
        else:  # context (" x", or "" where a tool stripped the blank's space)
            text = raw[1:] if raw.startswith(" ") else raw
            old.append(Line(text, False))
            new.append(Line(text, False))
    if head is not None:
        hunks.append(Hunk(head[0], head[1], head[2], tuple(old), tuple(new)))
    elif patch.startswith(("+", "-", " ")) and not patch.startswith(("+++", "---")):
        # Lines with no hunk header (a hand-made or trimmed patch): one hunk of unknown place.
        return parse_hunks("@@ -0,0 +0,0 @@\n" + patch)
    return tuple(hunks)


def whole_side(change: FileChange, hunks: tuple[Hunk, ...], which: Side) -> str | None:
    """The whole old or new blob when the patch holds all of it, else None.

    Added files hold their new side, removed files their old side; a modified file holds both
    when its single hunk starts at line 1 and ends with fewer context lines than git gives
    (so it reached the end of the file).
    """
    if change.patch_clipped or change.binary or not hunks:
        return None
    if change.status is FileStatus.ADDED:
        return "\n".join(ln.text for ln in hunks[0].new) if which == "new" else ""
    if change.status is FileStatus.REMOVED:
        return "\n".join(ln.text for ln in hunks[0].old) if which == "old" else ""
    if len(hunks) != 1:
        return None
    hunk = hunks[0]
    start = hunk.old_start if which == "old" else hunk.new_start
    lines = hunk.side(which)
    trailing = 0
    for ln in reversed(hunk.new):  # context lines are on both sides alike
        if ln.changed:
            break
        trailing += 1
    if start > 1 or trailing >= CONTEXT:
        return None
    return "\n".join(ln.text for ln in lines)


_TRAILING_COMMENT_RE = re.compile(r"\s+(?:#|//)\s.*$|\s+/\*.*\*/\s*$")


def strip_comment(value: str) -> str:
    """A value as written, without the comment after it: `False  # why` -> `False`."""
    return _TRAILING_COMMENT_RE.sub("", value).strip().rstrip(",;").strip()


def changed_text(hunks: tuple[Hunk, ...], which: Side) -> list[str]:
    return [ln.text for h in hunks for ln in h.side(which) if ln.changed]
