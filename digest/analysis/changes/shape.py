"""The shape of a whole diff: does it only reformat, or only rename? And where does it still
name the public code it removes or re-signs (its old callers)?

Formatting-only: every file's removed lines say the same as its added lines once whitespace,
quote style, trailing commas and comments are set aside (or, for import lines, in another
order).
Rename-only: files moved without edits, and edits that swap identifiers one for one, each
swap backed by a definition, a moved file, or two uses.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Sequence

from digest.analysis.changes.hunks import Hunk, changed_text
from digest.analysis.changes.model import Action, Kind, Reference, Symbol
from digest.analysis.rules import CODE_KINDS, PathKind, classify_file
from digest.models import FileChange, FileStatus

MAX_RENAMES = 4
_RENAMEABLE = CODE_KINDS | {PathKind.TEST, PathKind.DOCS}
_TOKEN_RE = re.compile(r"[A-Za-z_$][\w$]*|\d[\w.]*|\S")
_IDENT_RE = re.compile(r"^[A-Za-z_$][\w$]*$")
_IMPORT_RE = re.compile(r"^\s*(?:from\s+\S+\s+import\b|import\b|#\s*include\b|use\s|require\b)")
_TRAILING_COMMA_RE = re.compile(r",(?=[)\]}])")
_COMMENT_LINE_RE = re.compile(r"^\s*(?:#(?!!|include|define|if|endif|else|pragma)|//|/\*|\*|--\s)")
_TRAILING_COMMENT_RE = re.compile(r"\s+(?:#|//)\s.*$")
_DEFINES_RE = re.compile(
    r"(?:^|\s)(?:def|class|fn|func|function|const|let|var|struct|type|interface|enum|trait|impl"
    r"|mod|module|import|from|use)\s"
)
_COMMON_NAMES = frozenset(
    {"get", "set", "run", "main", "init", "__init__", "new", "call", "__call__", "close", "open",
     "read", "write", "start", "stop", "load", "save", "update", "create", "delete", "list"}
)  # fmt: skip


def _normal(text: str) -> str:
    squeezed = re.sub(r"\s+", "", text.replace("'", '"'))
    return _TRAILING_COMMA_RE.sub("", squeezed.replace("\\", ""))


def _code(line: str) -> str:
    """The line without a trailing comment ("x = 1  # why" -> "x = 1"); "" for a comment."""
    if _COMMENT_LINE_RE.match(line):
        return ""
    return _TRAILING_COMMENT_RE.sub("", line)


def formatting_only(files: Sequence[tuple[FileChange, tuple[Hunk, ...]]]) -> bool:
    """True when some lines changed and none of them changed what the code says."""
    touched = False
    for change, hunks in files:
        if change.binary or change.patch is None or change.patch_clipped:
            return False
        if change.status in (FileStatus.ADDED, FileStatus.REMOVED):
            return False
        removed = [c for t in changed_text(hunks, "old") if (c := _code(t)).strip()]
        added = [c for t in changed_text(hunks, "new") if (c := _code(t)).strip()]
        if not removed and not added:
            if any(ln.changed for h in hunks for ln in (*h.old, *h.new)):
                touched = True  # blank lines only
                continue
            if change.additions or change.deletions:
                return False  # lines changed that the patch does not show
            continue
        touched = True
        if _normal("".join(removed)) == _normal("".join(added)):
            continue
        imports = all(_IMPORT_RE.match(t) for t in removed + added)
        if imports and sorted(map(_normal, removed)) == sorted(map(_normal, added)):
            continue
        return False
    return touched


def _stem(path: str | None) -> str:
    return posixpath.splitext(posixpath.basename(path or ""))[0]


def renames(
    files: Sequence[tuple[FileChange, tuple[Hunk, ...]]],
) -> tuple[tuple[str, str], ...] | None:
    """The identifier swaps (old, new) that explain every edit, or None when some edit is more
    than a rename. Pure file moves explain themselves and add their stems as a swap."""
    pairs: Counter[tuple[str, str]] = Counter()
    defined: set[str] = set()
    moved: set[tuple[str, str]] = set()
    for change, hunks in files:
        if change.status is FileStatus.RENAMED and change.previous_path:
            moved.add((_stem(change.previous_path), _stem(change.path)))
        elif change.status is not FileStatus.MODIFIED:
            return None
        if not change.additions and not change.deletions:
            continue
        if change.patch is None or change.patch_clipped:
            return None
        if classify_file(change) not in _RENAMEABLE:
            return None  # a renamed key in a config or build file changes what runs
        old = [tok for line in changed_text(hunks, "old") for tok in _tokens(line)]
        new = [tok for line in changed_text(hunks, "new") for tok in _tokens(line)]
        if len(old) != len(new):
            return None
        for (a, a_quoted, a_defines), (b, b_quoted, _) in zip(old, new, strict=True):
            if a == b:
                continue
            if a_quoted or b_quoted or not (_IDENT_RE.match(a) and _IDENT_RE.match(b)):
                return None  # a changed string or value is behaviour, not a name
            pairs[(a, b)] += 1
            if a_defines:
                defined.add(a)
    mapping: dict[str, str] = {}
    for a, b in pairs:
        if mapping.setdefault(a, b) != b:
            return None  # one old name turned into two different ones: not a rename
    # A rename renames a definition (or a moved file): swapping one existing name for another
    # at its uses, however often, is a change of behaviour.
    backed = all(a in defined or (a, b) in moved for a, b in pairs)
    swaps = tuple(sorted(set(pairs) | {m for m in moved if m[0] != m[1]}))
    if not backed or not swaps or len(pairs) > MAX_RENAMES:
        return None
    return swaps


def _tokens(line: str) -> list[tuple[str, bool, bool]]:
    """(token, inside a string literal, names what the line defines or assigns)."""
    out = []
    defining = bool(_DEFINES_RE.search(line))
    for n, m in enumerate(_TOKEN_RE.finditer(line)):
        after = line[m.end() :].lstrip()
        # `name = ...` / `name: T = ...` at the start of a statement defines `name`.
        assigned = n == 0 and after.startswith(("=", ":")) and not after.startswith("==")
        out.append((m.group(), _quoted(line, m.start()), defining or assigned))
    return out


def _quoted(line: str, at: int) -> bool:
    """Whether position `at` sits inside a string literal (a message naming it is no use)."""
    before = line[:at]
    return any(before.count(q) % 2 == 1 for q in ('"', "'", "`"))


def references(
    symbols: Sequence[Symbol], files: Sequence[tuple[FileChange, tuple[Hunk, ...]]]
) -> dict[str, tuple[Reference, ...]]:
    """For each removed or breakingly re-signed public function, class or method: the files
    whose diff names it outside its own definition."""
    wanted = {
        s.name: s.name.rsplit(".", 1)[-1]
        for s in symbols
        if s.public
        and s.kind in (Kind.FUNCTION, Kind.METHOD, Kind.CLASS, Kind.TYPE)
        and (s.action is Action.REMOVED or (s.action is Action.SIGNATURE and s.breaking))
    }
    out: dict[str, tuple[Reference, ...]] = {}
    for qual, short in wanted.items():
        if len(short) < 4 or short.lower() in _COMMON_NAMES:
            continue
        use = re.compile(rf"(?<![\w$]){re.escape(short)}(?![\w$])")
        header = re.compile(
            rf"\b(?:def|class|fn|func|function|struct|type|interface)\s+{re.escape(short)}\b"
        )
        found: dict[str, list[bool]] = {}
        for change, hunks in files:
            for hunk in hunks:
                for side in ("old", "new"):
                    for ln in hunk.side(side):
                        if side == "new" and not ln.changed:
                            continue  # context lines are on both sides: count them once
                        hit = use.search(ln.text)
                        if hit is None or header.search(ln.text) or _quoted(ln.text, hit.start()):
                            continue
                        marks = found.setdefault(change.path, [False, False])
                        if side == "new" or not ln.changed:
                            marks[1] = True
                        elif not _IMPORT_RE.match(ln.text) and "__all__" not in ln.text:
                            marks[0] = True  # an import dropped is no caller updated
        if found:
            out[qual] = tuple(Reference(p, removed=m[0], kept=m[1]) for p, m in found.items())
    return out
