"""The diff budget: which parts of a commit's diff fit in a prompt, decided file by file.

Each patch is read through bounded slices and reading stops once the budget is spent, so a 100 MB
diff costs about the time and memory of a 100 KB one. Token counts come from `estimate_tokens`, an
offline estimate (tiktoken downloads its tables at first use, which fails on air-gapped hosts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from digest.analysis.rules import DIFF_EXCLUDED_KINDS, PathKind, classify_file, diff_priority
from digest.analysis.tokens import estimate_tokens
from digest.models import FileChange, FileStatus
from digest.redact import redact_counted


@dataclass(frozen=True)
class Budget:
    """Token limits for one user prompt (the system prompt is not counted)."""

    max_prompt_tokens: int = 24_000
    per_file_tokens: int = 6_000  # one file's diff, header and notes included
    manifest_tokens: int = 6_000  # at most 30 % of max_prompt_tokens is used
    message_tokens: int = 3_000  # at most 15 % of max_prompt_tokens is used
    max_line_chars: int = 400  # longer diff lines are cut (after redaction)

    def __post_init__(self) -> None:
        if self.max_prompt_tokens < 1_000:
            raise ValueError("max_prompt_tokens must be at least 1000")
        if min(self.per_file_tokens, self.manifest_tokens, self.message_tokens) < 100:
            raise ValueError("per-file, manifest and message budgets must be at least 100")
        if self.max_line_chars < 40:
            raise ValueError("max_line_chars must be at least 40")


class OmitReason(StrEnum):
    """Why a file's diff is not in the prompt (the file is always in the manifest)."""

    LOCKFILE = "lockfile"
    GENERATED = "generated"
    VENDORED = "vendored"
    MINIFIED = "minified"
    BINARY = "binary"
    DELETION_ONLY = "deletion-only"
    UNAVAILABLE = "unavailable"  # the source did not get a diff for this file
    UNREADABLE = "unreadable"  # the source could not read it (a missing object, GitHub's limit)
    BUDGET = "budget"


class Outcome(StrEnum):
    FULL = "full"
    CLIPPED = "clipped"
    OMITTED = "omitted"
    EMPTY = "empty"  # no content change (pure rename, mode change): nothing to send, nothing lost


@dataclass(frozen=True)
class FileDiff:
    """What one file contributes to the prompt's diff section."""

    text: str  # "" unless a diff was sent
    outcome: Outcome
    reason: OmitReason | None = None
    tokens: int = 0
    redactions: int = 0


_KIND_REASON = {
    PathKind.LOCKFILE: OmitReason.LOCKFILE,
    PathKind.GENERATED: OmitReason.GENERATED,
    PathKind.VENDORED: OmitReason.VENDORED,
    PathKind.MINIFIED: OmitReason.MINIFIED,
    PathKind.BINARY: OmitReason.BINARY,
}
_FIRST_HUNK_AT_TOP_RE = re.compile(r"@@ -\d+(?:,\d+)? \+1(?:,\d+)? @@")
_GENERATED_MARK_RE = re.compile(
    r"(?i)code generated\b.{0,80}\bdo not edit|@generated\b|\bauto-?generated\b"
    r"|\bautomatically generated\b|\bdo not edit\b"
)
_SNIFF_CHARS = 65_536
_LONG_LINE = 1_000
_CHARS_PER_TOKEN = 8  # a read window; estimate_tokens rarely gives a token per 7+ chars
_NOTE_RESERVE = 48  # tokens kept for the clip and deleted-lines notes
_SECRET_MARGIN = 256  # chars dropped where a window cuts a line
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps \t \n \r
_DELIMITER_RE = re.compile(r"(?i)commit[_-]?data")


def neutralise(text: str) -> str:
    """Untrusted text can neither spell the data-block delimiter nor carry control characters."""
    return _CONTROL_RE.sub("?", _DELIMITER_RE.sub("COMMIT-DATA(escaped)", text))


def one_line(text: str) -> str:
    """A path or name as a single safe line."""
    return neutralise(text.replace("\n", "?").replace("\r", "?"))


def static_reason(change: FileChange, kind: PathKind) -> OmitReason | None:
    """Why this file's diff is left out whatever the budget; None when it is worth sending.

    Looks at the path, the status and at most the first 64 KB of the patch.
    """
    if change.unreadable is not None:
        return OmitReason.UNREADABLE
    if kind in DIFF_EXCLUDED_KINDS:
        return _KIND_REASON[kind]
    if change.binary:
        return OmitReason.BINARY
    patch = change.patch
    if patch is None:
        return OmitReason.UNAVAILABLE
    if change.status is FileStatus.REMOVED:
        return OmitReason.DELETION_ONLY
    sample = patch[:_SNIFF_CHARS]
    if "\x00" in sample:
        return OmitReason.BINARY
    top = "\n".join(sample.split("\n", 6)[:6])  # a header comment in the file's first lines
    if _FIRST_HUNK_AT_TOP_RE.match(sample) and _GENERATED_MARK_RE.search(top):
        return OmitReason.GENERATED
    if len(sample) >= _LONG_LINE:
        long_chars = sum(len(line) for line in sample.split("\n") if len(line) > _LONG_LINE)
        if long_chars * 2 >= len(sample):
            return OmitReason.MINIFIED
    if patch and not patch.startswith("+") and "\n+" not in patch:
        return OmitReason.DELETION_ONLY
    return None


def _hunk_start(patch: str, pos: int) -> int:
    """Where the next hunk header at or after `pos` begins (git's file preamble is skipped)."""
    if pos == 0 and patch.startswith("@@"):
        return 0
    found = patch.find("\n@@", max(pos - 1, 0))
    return len(patch) if found < 0 else found + 1


def redact_window(chunk: str, *, cut: bool, min_lines: int) -> tuple[str, int]:
    """Redact, then cut where a read window ended: back to a line end when `min_lines` whole
    lines remain, else the cut line loses its last 256 characters. Redacting first matters:
    a secret the window cut short is too short to be recognised, and is trimmed away."""
    text, n = redact_counted(chunk)
    if not cut:
        return text, n
    last = text.rfind("\n")
    if text.count("\n") >= min_lines:
        return text[: last + 1], n
    kept = text[last + 1 :][: max(0, len(text) - last - 1 - _SECRET_MARGIN)]
    return text[: last + 1] + (kept + " …[line clipped]" if kept else ""), n


def _clip_lines(text: str, max_chars: int) -> str:
    if all(len(line) <= max_chars for line in text.split("\n")):
        return text
    return "\n".join(
        line if len(line) <= max_chars else line[:max_chars] + " …[line clipped]"
        for line in text.split("\n")
    )


def file_header(change: FileChange) -> str:
    moved = f" (from {one_line(change.previous_path)})" if change.previous_path else ""
    return (
        f"=== FILE {one_line(change.path)}{moved} "
        f"({change.status.value}, +{change.additions} -{change.deletions}) ==="
    )


def render_file(change: FileChange, cap: int, max_line_chars: int) -> FileDiff:
    """The file's diff within `cap` tokens: whole hunks while they fit, deletion-only hunks
    replaced by a count, the first hunk that does not fit cut at a line, then a clip note.

    The caller has checked `static_reason`; redaction happens before any line is cut, so a
    secret is never left half visible.
    """
    patch = change.patch or ""
    if not patch or patch.isspace():  # (strip() would copy a 100 MB patch)
        return FileDiff("", Outcome.EMPTY)
    header = file_header(change) + "\n"
    used = estimate_tokens(header)
    if used + _NOTE_RESERVE + 20 > cap:
        return FileDiff("", Outcome.OMITTED, OmitReason.BUDGET)
    parts, redactions, deleted, sent_hunks = [header], 0, 0, 0
    clipped = change.patch_clipped
    pos = _hunk_start(patch, 0)
    if pos == len(patch):  # no hunk header at all: the whole patch is one hunk
        pos = 0
    while pos < len(patch):
        room = cap - used - _NOTE_RESERVE
        window_end = min(len(patch), pos + max(room, 0) * _CHARS_PER_TOKEN)
        # The hunk's end, looked for only as far as could fit: a 100 MB hunk is not scanned.
        found = patch.find("\n@@", pos + 1, window_end)
        end = found + 1 if found >= 0 else len(patch) if window_end == len(patch) else -1
        seen = end if end >= 0 else window_end
        if not patch.startswith("+", pos) and patch.find("\n+", pos, seen) < 0:
            whole = end if end >= 0 else _hunk_start(patch, pos + 2)
            if patch.find("\n+", pos, whole) < 0:  # deletion-only: counted, not sent
                deleted += patch.count("\n-", pos, whole) + patch.startswith("-", pos)
                pos = whole
                continue
        chunk = patch[pos:end] if end >= 0 else patch[pos:window_end]
        text, n = redact_window(chunk, cut=end < 0, min_lines=2)
        text = neutralise(_clip_lines(text, max_line_chars))
        if not text.endswith("\n"):
            text += "\n"
        cost = estimate_tokens(text)
        if end >= 0 and cost <= room:
            parts.append(text)
            used, redactions, sent_hunks, pos = used + cost, redactions + n, sent_hunks + 1, end
            continue
        clipped = True
        if sent_hunks == 0 or room * 2 >= cap:
            taken = take_lines(text, room, min_lines=2)  # a hunk header needs a line under it
            if taken:
                parts.append(taken)
                used, redactions = used + estimate_tokens(taken), redactions + n
                sent_hunks += 1
        break
    if sent_hunks == 0:
        reason = OmitReason.BUDGET if clipped else OmitReason.DELETION_ONLY
        return FileDiff("", Outcome.OMITTED, reason)
    notes = f"[{deleted} deleted lines omitted (deletion-only hunks)]\n" if deleted else ""
    notes += "[clipped: the rest of this file's diff is not shown]\n" if clipped else ""
    outcome = Outcome.CLIPPED if clipped else Outcome.FULL
    # `used` adds up the pieces' costs, which is at least the whole's (they join at line ends).
    tokens = used + estimate_tokens(notes)
    return FileDiff("".join(parts) + notes, outcome, None, tokens, redactions)


def take_lines(text: str, room: int, min_lines: int = 1) -> str:
    """The longest run of whole lines from the start of `text` that fits in `room` tokens,
    or "" when fewer than `min_lines` fit."""
    used, end = 0, 0
    while end < len(text):
        nxt = text.find("\n", end)
        nxt = len(text) if nxt < 0 else nxt + 1
        cost = estimate_tokens(text[end:nxt])
        if used + cost > room:
            break
        used, end = used + cost, nxt
    return text[:end] if text.count("\n", 0, end) >= min_lines else ""


# --- the file manifest ---------------------------------------------------------------------------


class Entry(NamedTuple):
    """One file of the commit as the budget sees it."""

    position: int  # in Commit.files
    change: FileChange
    kind: PathKind
    reason: OmitReason | None  # static_reason: why its diff is never sent, if it is not


def entries_in_review_order(files: tuple[FileChange, ...]) -> list[Entry]:
    """Source, then build/config, then tests, then docs, then files whose diff is never sent."""
    entries = []
    for index, change in enumerate(files):
        kind = classify_file(change)
        entries.append(Entry(index, change, kind, static_reason(change, kind)))
    return sorted(entries, key=lambda e: (e.reason is not None, diff_priority(e.kind)))


def manifest_tag(outcome: Outcome, reason: OmitReason | None) -> str:
    if outcome is Outcome.OMITTED:
        return f"diff omitted: {reason.value if reason else OmitReason.BUDGET.value}"
    if outcome is Outcome.EMPTY:
        return "diff: none (no content change)"
    return f"diff: {outcome.value}"


_OPEN_TAGS = [
    manifest_tag(Outcome.FULL, None),
    manifest_tag(Outcome.CLIPPED, None),
    manifest_tag(Outcome.EMPTY, None),
    manifest_tag(Outcome.OMITTED, OmitReason.BUDGET),
]


def manifest_line(change: FileChange, tag: str) -> str:
    moved = f" (from {one_line(change.previous_path)})" if change.previous_path else ""
    return (
        f"- {change.status.value} {one_line(change.path)}{moved} "
        f"+{change.additions} -{change.deletions} · {tag}\n"
    )


@dataclass(frozen=True)
class ManifestPlan:
    """Which files the manifest lists one by one, and the summary lines for the rest."""

    listed: tuple[Entry, ...]
    tail: tuple[Entry, ...]
    tail_lines: tuple[str, ...]
    cost: int  # an upper bound of the tokens of every line, whatever the diffs turn out to be


def plan_manifest(entries: list[Entry], cap: int) -> ManifestPlan:
    """List files in review order while they fit in `cap`; summarise the rest by directory."""
    costs: list[int] = []
    total = 0
    for entry in entries:
        tags = [manifest_tag(Outcome.OMITTED, entry.reason)] if entry.reason else _OPEN_TAGS
        cost = max(estimate_tokens(manifest_line(entry.change, tag)) for tag in tags)
        costs.append(cost)
        total += cost
        if total > cap:
            break
    listed, used = len(costs), total
    if total > cap:  # make room for the directory summary of the tail
        limit, listed, used = cap - min(cap // 4, 1_500), 0, 0
        while listed < len(costs) and used + costs[listed] <= limit:
            used, listed = used + costs[listed], listed + 1
    tail = entries[listed:]
    lines = _summarise(tail, cap - used) if tail else []
    cost = used + sum(estimate_tokens(line) for line in lines)
    return ManifestPlan(tuple(entries[:listed]), tuple(tail), tuple(lines), cost)


def _summarise(tail: list[Entry], cap: int) -> list[str]:
    """Directory lines with counts, the biggest first: by two levels, else by one, else cut."""
    lines: list[str] = []
    for depth in (2, 1):
        groups: dict[str, list[Entry]] = {}
        for entry in tail:
            parts = entry.change.path.split("/")[:-1][:depth]
            groups.setdefault("/".join(parts) + "/" if parts else "(top level)", []).append(entry)
        ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        lines = [_group_line(name, members) for name, members in ranked]
        if sum(estimate_tokens(line) for line in lines) <= cap:
            return [_tail_intro(tail), *lines]
    kept, used, shown = [_tail_intro(tail)], 0, 0
    budget = cap - estimate_tokens(kept[0]) - 40
    for (_, members), line in zip(ranked, lines, strict=True):
        cost = estimate_tokens(line)
        if used + cost > budget:
            break
        kept.append(line)
        used, shown = used + cost, shown + len(members)
    rest = len(ranked) - len(kept) + 1
    kept.append(f"- … and {len(tail) - shown} more files in {rest} more directories\n")
    return kept


def _tail_intro(tail: list[Entry]) -> str:
    return f"- ({len(tail)} more files, listed by directory; their diffs are not included)\n"


def _group_line(name: str, members: list[Entry]) -> str:
    adds = sum(e.change.additions for e in members)
    dels = sum(e.change.deletions for e in members)
    kinds: dict[str, int] = {}
    for e in members:
        kinds[e.kind.value] = kinds.get(e.kind.value, 0) + 1
    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:3]
    mix = ", ".join(f"{kind} {n}" for kind, n in top)
    return f"- {one_line(name)} {len(members)} files +{adds} -{dels} ({mix})\n"
