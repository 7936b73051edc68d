"""What the heuristic reads in a commit, computed once: its title, its files by kind, its size,
and what its diff changes (the diff reader in changes/).

Pure: a Commit in, a Facts value out, and the change types the facts support (declared types
first, else the title's guess checked against the paths).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.analysis import rules
from digest.analysis.changes.languages import language_of
from digest.analysis.changes.model import Changes
from digest.analysis.changes.read import read_changes
from digest.analysis.heuristic_titles import Guess, title_guesses
from digest.analysis.rules import CODE_KINDS, PERIPHERAL_KINDS, PathKind, TitleInfo
from digest.models import ChangeType, Commit, FileChange, FileStatus

LARGE_LINES = 1000  # changed code lines for a "large cross-module refactor" ...
LARGE_DIRS = 3  # ... across at least this many top-level directories
_SECURITY_TITLE_RE = re.compile(r"\bCVE-\d{4}-\d+|\bvulnerab", re.IGNORECASE)
_PR_SUFFIX_RE = re.compile(r"\s*\(#\d+\)\s*$")
_CODE_GUESSES = {ChangeType.FEATURE, ChangeType.BUGFIX, ChangeType.PERF, ChangeType.REFACTOR}


def lines_of(f: FileChange) -> int:
    return f.additions + f.deletions


@dataclass(frozen=True)
class Facts:
    """Everything the rules read, computed once per commit."""

    info: TitleInfo
    subject: str  # the title as quoted in the summary: the declared subject, else the title
    files: tuple[tuple[FileChange, PathKind], ...]
    code_lines: int
    source_lines: int  # code lines in product source (not benchmarks/examples/tools)
    top_dirs: tuple[str, ...]
    core_code: bool  # product source touched
    tests_touched: bool
    tests_grew: bool  # test files gained lines alongside code
    new_test_files: tuple[str, ...]  # test files the commit adds
    security_paths: tuple[str, ...]
    migrations: tuple[str, ...]
    bumped: tuple[str, ...]  # manifests whose diff moves version pins
    path_type: ChangeType | None  # what the paths alone say, when they all agree
    guess: Guess | None  # what an undeclared title says, once the files agree with it
    security: bool
    large: bool
    changes: Changes

    def of(self, *kinds: PathKind) -> list[FileChange]:
        return [f for f, k in self.files if k in kinds]

    def biggest(self, *kinds: PathKind) -> FileChange | None:
        found = sorted(self.of(*kinds) if kinds else [f for f, _ in self.files], key=_rank)
        return found[0] if found else None


def _rank(f: FileChange) -> tuple[int, str]:
    return (-lines_of(f), f.path)


def _path_type(kinds: set[PathKind], bumped: bool) -> ChangeType | None:
    if not kinds:
        return None
    if kinds == {PathKind.DOCS}:
        return ChangeType.DOCS
    if kinds == {PathKind.TEST}:
        return ChangeType.TEST
    if kinds <= {PathKind.CI, PathKind.BUILD}:
        return ChangeType.CI_BUILD
    if kinds <= {PathKind.MANIFEST, PathKind.LOCKFILE} and bumped:
        return ChangeType.DEPS
    if kinds == {PathKind.CONFIG}:
        return ChangeType.CONFIG
    return None


def _peripheral_type(files: tuple[tuple[FileChange, PathKind], ...]) -> ChangeType | None:
    """For docs/test/CI mixes: the kind with the most changed lines."""
    if not files or any(k not in PERIPHERAL_KINDS for _, k in files):
        return None
    lines = {k: sum(lines_of(f) for f, k2 in files if k2 is k) for _, k in files}
    kind = sorted(lines, key=lambda k: (-lines[k], k.value))[0]
    return {PathKind.DOCS: ChangeType.DOCS, PathKind.TEST: ChangeType.TEST}.get(
        kind, ChangeType.CI_BUILD
    )


def _guess(
    info: TitleInfo, files: tuple[tuple[FileChange, PathKind], ...], bumped: bool
) -> Guess | None:
    """The first type an undeclared title suggests that the files allow: docs or tests only when
    no code changed, deps only when a manifest or lockfile moved, code kinds only with code."""
    if info.declared:
        return None
    kinds = {k for _, k in files}
    allowed = {"docs": not kinds & CODE_KINDS, "test": not kinds & CODE_KINDS}
    allowed["deps"] = bumped or PathKind.LOCKFILE in kinds
    substantive = bool(kinds - PERIPHERAL_KINDS)  # a "fix" touching docs and tests is no code fix
    texts = [x for x in (info.conventional_type, info.subject) if x]  # "Changelog: x", "mm: fix"
    for g in title_guesses(*texts):
        if g.key == "docs" and not allowed["docs"]:  # docs by title, code by paths: a chore
            return Guess(ChangeType.CHORE, "docs_code")
        if allowed.get(g.key, substantive if g.type in _CODE_GUESSES else True):
            return g
    return None


def facts_of(commit: Commit) -> Facts:
    info = rules.parse_message(commit.message)
    files = tuple((f, rules.classify_file(f)) for f in commit.files)
    code = [f for f, k in files if k in CODE_KINDS]
    code_lines = sum(lines_of(f) for f in code)
    source_lines = sum(lines_of(f) for f in code if not rules.is_auxiliary_path(f.path))
    top_dirs = tuple(sorted({f.path.split("/", 1)[0] for f in code if "/" in f.path}))
    sec_paths = tuple(f.path for f, k in files if k is PathKind.SECURITY)
    bumped = tuple(f.path for f, k in files if k is PathKind.MANIFEST and rules.bumps_versions(f))
    security = (
        bool(sec_paths)
        or ChangeType.SECURITY in info.declared
        or bool(_SECURITY_TITLE_RE.search(commit.title))
    )
    title = _PR_SUFFIX_RE.sub("", commit.title).strip()
    return Facts(
        info=info,
        subject=(info.subject if info.declared else title).rstrip(" .。") or commit.short_sha,
        files=files,
        code_lines=code_lines,
        source_lines=source_lines,
        top_dirs=top_dirs,
        core_code=any(not rules.is_auxiliary_path(f.path) for f in code),
        tests_touched=any(k is PathKind.TEST for _, k in files),
        tests_grew=bool(code) and any(k is PathKind.TEST and f.additions for f, k in files),
        new_test_files=tuple(
            f.path
            for f, k in files
            if k is PathKind.TEST and f.status is FileStatus.ADDED and language_of(f.path)
        ),
        security_paths=sec_paths,
        migrations=tuple(f.path for f, k in files if k is PathKind.MIGRATION),
        bumped=bumped,
        path_type=_path_type({k for _, k in files}, bool(bumped)),
        guess=_guess(info, files, bool(bumped)),
        security=security,
        large=code_lines > LARGE_LINES and len(top_dirs) >= LARGE_DIRS,
        changes=read_changes(commit),
    )


def change_types(fx: Facts) -> tuple[ChangeType, ...]:
    """Declared types first, else the title's guess checked against the paths (the paths win
    when they all agree: a 'feature' touching only docs is docs); then security, paths, deps."""
    types = list(fx.info.declared)
    if not types:
        if fx.guess and (fx.guess.type is ChangeType.REVERT or not fx.path_type):
            types.append(fx.guess.type)
        else:
            types.append(fx.path_type or _peripheral_type(fx.files) or ChangeType.CHORE)
    if fx.security:
        types.append(ChangeType.SECURITY)
    if fx.path_type:
        types.append(fx.path_type)
    if fx.bumped:
        types.append(ChangeType.DEPS)
    return tuple(dict.fromkeys(types))[:2]


def guessed(fx: Facts, types: tuple[ChangeType, ...]) -> str | None:
    """The guess's key when it decided the primary type."""
    return fx.guess.key if fx.guess and not fx.info.declared and fx.guess.type is types[0] else None


_SWAP_STATUS = {FileStatus.ADDED: FileStatus.REMOVED, FileStatus.REMOVED: FileStatus.ADDED}
_HUNK_HEAD_RE = re.compile(r"^@@ -(\S+) \+(\S+) @@")


def _invert_patch(patch: str | None) -> str | None:
    if patch is None:
        return None
    out = []
    for line in patch.split("\n"):
        if line.startswith("@@"):
            line = _HUNK_HEAD_RE.sub(r"@@ -\2 +\1 @@", line)
        elif line.startswith(("+", "-")):
            line = ("-" if line[0] == "+" else "+") + line[1:]
        out.append(line)
    return "\n".join(out)


def inverted(commit: Commit, message: str) -> Commit:
    """The change a revert undoes, as a commit: its files with the diff turned around, under
    the reverted message, so a revert can be graded as what it takes back."""
    files = tuple(
        f.model_copy(
            update={
                "path": f.previous_path or f.path if f.status is FileStatus.RENAMED else f.path,
                "previous_path": f.path if f.status is FileStatus.RENAMED else None,
                "status": _SWAP_STATUS.get(f.status, f.status),
                "additions": f.deletions,
                "deletions": f.additions,
                "patch": _invert_patch(f.patch),
            }
        )
        for f in commit.files
    )
    return commit.model_copy(update={"message": message, "files": files})
