"""`read_changes(commit)`: every reader over every file, by the file's kind and language."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from digest.analysis import rules
from digest.analysis.changes.code import read_definitions
from digest.analysis.changes.config_files import is_defaults_file, read_config_keys
from digest.analysis.changes.deps import read_dependencies
from digest.analysis.changes.hunks import Hunk, parse_hunks
from digest.analysis.changes.interfaces import read_interfaces
from digest.analysis.changes.languages import GO, PYTHON, language_of
from digest.analysis.changes.model import Action, Changes, Kind, Symbol
from digest.analysis.changes.settings import read_settings
from digest.analysis.changes.shape import formatting_only, references, renames
from digest.analysis.rules import CODE_KINDS, DIFF_EXCLUDED_KINDS, PathKind
from digest.models import Commit, FileChange, FileStatus

_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>\S.*?)\s*#*\s*$")
_WIRE_RE = re.compile(r"\.proto$|(?:^|/)(?:openapi|swagger)[^/]*\.(?:ya?ml|json)$", re.I)


def _sections(path: str, hunks: tuple[Hunk, ...]) -> list[Symbol]:
    """Markdown headings added or removed, and the headings over changed lines."""
    found: dict[str, Action] = {}
    seen = {"old": set[str](), "new": set[str]()}
    for hunk in hunks:
        for side in ("old", "new"):
            current: str | None = None
            fenced = False
            for ln in hunk.side(side):
                if ln.text.lstrip().startswith(("```", "~~~")):
                    fenced = not fenced
                    continue
                m = None if fenced else _HEADING_RE.match(ln.text)
                if m:
                    current = m["title"].strip("*_ ")
                    seen[side].add(current)
                    if ln.changed:
                        found.setdefault(current, Action.ADDED if side == "new" else Action.REMOVED)
                elif ln.changed and current and ln.text.strip():
                    found.setdefault(current, Action.CHANGED)
    out = []
    for title, action in found.items():
        if (action is Action.ADDED and title in seen["old"]) or (
            action is Action.REMOVED and title in seen["new"]
        ):
            action = Action.CHANGED
        out.append(Symbol(Kind.SECTION, title, action, path))
    return out


def _read_file(change: FileChange, kind: PathKind, hunks: tuple[Hunk, ...]) -> list[Symbol]:
    path = change.path
    lang = language_of(path)
    aux = rules.is_auxiliary_path(path)
    product = kind in CODE_KINDS and not aux
    out: list[Symbol] = []
    if kind is PathKind.MIGRATION:
        out += read_interfaces(path, hunks, code=lang is not None, public=not aux)
        if not out:
            action = Action.ADDED if change.status is FileStatus.ADDED else Action.CHANGED
            name = posixpath.basename(path)
            out.append(Symbol(Kind.SCHEMA, f"migration {name}", action, path, not aux))
        return out
    if lang is not None and kind in (*CODE_KINDS, PathKind.TEST):
        test = kind is PathKind.TEST
        out += read_definitions(change, hunks, lang, product=product, test=test)
        if not test:
            out += read_interfaces(path, hunks, code=True, public=product)
            out += read_settings(path, hunks, python=lang is PYTHON, go=lang is GO, public=product)
    elif _WIRE_RE.search(path) or path.lower().endswith(".sql"):
        public = kind not in (PathKind.TEST, PathKind.DOCS) and not aux
        out += read_interfaces(path, hunks, code=False, public=public)
    if kind is PathKind.CONFIG:
        out += read_config_keys(path, hunks, public=is_defaults_file(path) and not aux)
    elif kind is PathKind.CI:
        out += read_config_keys(path, hunks, public=False)
    elif kind is PathKind.MANIFEST:
        out += read_dependencies(path, hunks, public=not aux)
    elif kind is PathKind.DOCS and path.lower().endswith((".md", ".markdown", ".mdx")):
        out += _sections(path, hunks)
    return out


def _moves(symbols: tuple[Symbol, ...]) -> tuple[Symbol, ...]:
    """A definition (or a settings field, a section, a dependency) removed from one file and
    added to another is moved, not gone."""
    added = {(s.kind, s.name): s for s in symbols if s.action is Action.ADDED}
    out: list[Symbol] = []
    moved: set[tuple[Kind, str]] = set()
    for s in symbols:
        twin = added.get((s.kind, s.name)) if s.action is Action.REMOVED else None
        if twin is not None and twin.path != s.path:
            out.append(replace(twin, action=Action.MOVED, old=s.path, new=twin.path))
            moved.add((s.kind, s.name))
        else:
            out.append(s)
    return tuple(s for s in out if not (s.action is Action.ADDED and (s.kind, s.name) in moved))


def read_changes(commit: Commit) -> Changes:
    """What the commit's diff changes: pure, bounded by the patch sizes the sources allow."""
    files: list[tuple[FileChange, tuple[Hunk, ...]]] = []
    symbols: list[Symbol] = []
    complete = not commit.files_incomplete
    for change in commit.files:
        kind = rules.classify_file(change)
        lined = bool(change.additions or change.deletions)
        if lined and (change.patch is None or change.patch_clipped):
            complete = False
        hunks = parse_hunks(change.patch)
        files.append((change, hunks))
        if kind in DIFF_EXCLUDED_KINDS or not hunks:
            continue
        symbols += _read_file(change, kind, hunks)
    unique = _moves(tuple(dict.fromkeys(symbols)))
    refs = references(unique, files)
    unique = tuple(
        replace(s, callers_updated=True) if any(r.removed for r in refs.get(s.name, ())) else s
        for s in unique
    )
    swaps = renames(files) if files else None
    return Changes(
        symbols=unique,
        formatting_only=complete and formatting_only(files),
        rename_only=complete and swaps is not None,
        renames=swaps or (),
        references=refs,
        complete=complete,
    )
