"""Definitions a diff adds, removes or changes, in any language `languages` knows.

Per file: every definition header visible on each side of each hunk (qualified by the class,
impl or receiver it sits in, found by indentation or in git's hunk header), paired by name
across the file; the enclosing definition of each changed line in a body. Python headers are
read by `ast` (python.py); a whole Python blob, when the patch holds one, is compared by
`ast` outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from digest.analysis.changes import python
from digest.analysis.changes.hunks import Hunk, Line, Side, whole_side
from digest.analysis.changes.languages import (
    PYTHON,
    DefPattern,
    Language,
    python_private_module,
)
from digest.analysis.changes.model import Action, Kind, Symbol
from digest.models import FileChange

_MAX_HEADER_LINES = 12
_TEST_NAME_RE = re.compile(r"^(test_?\w*|Test\w+|\w+_test|it|describe)$")


@dataclass(frozen=True)
class _Def:
    name: str  # qualified: Class.method, Recv.Method
    kind: Kind
    header: str  # the header's text, joined up to its closing parenthesis
    public: bool
    changed: bool  # the header's own line is a changed line
    nested: bool  # inside a function: an implementation detail, not a symbol


def _container(
    lines: tuple[Line, ...], i: int, hunk: Hunk, lang: Language, path: str
) -> tuple[str, bool, Kind] | None:
    """The scope of line i: (qualified name, public, kind) of the nearest definition above it
    with less indentation, else git's hunk header when it names one."""
    indent = lines[i].indent
    if indent == 0:  # nothing is less indented: no scan (a long flat hunk stays linear)
        return None
    for j in range(i - 1, -1, -1):
        ln = lines[j]
        if ln.blank or ln.indent >= indent:
            continue
        found = lang.match(ln.text)
        if found:
            pattern, m = found
            recv = m.groupdict().get("recv")
            outer = _container(lines, j, hunk, lang, path) if ln.indent and not recv else None
            member = outer is not None and outer[2] not in _FUNCTIONS
            name = f"{recv}.{m['name']}" if recv else m["name"]
            name = f"{outer[0]}.{name}" if outer is not None and member else name
            public = (
                outer[1] and lang.member_public(m) if member and outer else lang.public(m, path)
            )
            return name, public, _kind(pattern, member or bool(recv))
        if lang.indent_scoped and ln.indent < indent and not lang.comment.match(ln.text):
            indent = ln.indent  # a statement block (if/for/with) of an outer scope
    if hunk.header and indent > 0:
        found = lang.match(hunk.header)
        if found:
            pattern, m = found
            recv = m.groupdict().get("recv")
            name = f"{recv}.{m['name']}" if recv else m["name"]
            return name, lang.public(m, path), _kind(pattern, bool(recv))
    return None


_FUNCTIONS = frozenset({Kind.FUNCTION, Kind.METHOD})
_CLOSER_RE = re.compile(r"^\s*[)}\]]+[;,)]*\s*$")
_SHAPES = frozenset({Kind.CLASS, Kind.TYPE})


def _kind(pattern: DefPattern, member: bool) -> Kind:
    return Kind.METHOD if pattern.kind is Kind.FUNCTION and member else pattern.kind


def _header(lines: tuple[Line, ...], i: int) -> str:
    """The definition starting at line i, joined until its parentheses close (or a colon)."""
    parts: list[str] = []
    depth = 0
    for ln in lines[i : i + _MAX_HEADER_LINES]:
        parts.append(ln.text.strip())
        depth += ln.text.count("(") + ln.text.count("[") - ln.text.count(")") - ln.text.count("]")
        if depth <= 0 and (ln.text.rstrip().endswith((":", "{", ";", ")")) or "(" not in parts[0]):
            break
    return " ".join(parts)


def _defs(hunks: tuple[Hunk, ...], which: Side, lang: Language, path: str) -> list[_Def]:
    out: list[_Def] = []
    for hunk in hunks:
        lines = hunk.side(which)
        for i, ln in enumerate(lines):
            found = lang.match(ln.text)
            if not found or not found[0].report:
                continue
            pattern, m = found
            recv = m.groupdict().get("recv")
            outer = _container(lines, i, hunk, lang, path) if ln.indent and not recv else None
            member = outer is not None and outer[2] not in _FUNCTIONS
            if recv:
                name, public = f"{recv}.{m['name']}", lang.public(m, path)
            elif outer is not None and member:
                name, public = f"{outer[0]}.{m['name']}", outer[1] and lang.member_public(m)
            else:
                name, public = m["name"], lang.public(m, path) if not ln.indent else False
            nested = outer is not None and not member
            kind = _kind(pattern, member or bool(recv))
            out.append(_Def(name, kind, _header(lines, i), public, ln.changed, nested))
    return out


def _signature_change(old: _Def, new: _Def, lang: Language) -> tuple[Action, bool, str, str] | None:
    """How a definition's header changed, or None when only its body may have (a class's
    bases or a type's shape are not a signature)."""
    if old.kind in _SHAPES:
        return None
    if lang is PYTHON and old.kind is not Kind.CLASS:
        a, b = python.header_signature(old.header), python.header_signature(new.header)
        if a is not None and b is not None:
            action, breaking, before, after = python.compare(a, b)
            if action is Action.CHANGED:
                return None
            return action, breaking, before or a.shown, after or b.shown
    norm = [re.sub(r"\s+|[{:]\s*$", "", d.header) for d in (old, new)]
    if norm[0] == norm[1] or "(" not in old.header or "(" not in new.header:
        return None
    params = [_params(d.header, d.name.rsplit(".", 1)[-1]) for d in (old, new)]
    if params[0] == params[1]:
        return None
    added = params[1][len(params[0]) :]
    breaking = params[1][: len(params[0])] != params[0] or any("=" not in p for p in added)
    return Action.SIGNATURE, breaking, _shown(old), _shown(new)


def _params(header: str, name: str = "") -> list[str]:
    """The parameters in a header, split at top-level commas (after the name: a Go receiver
    or a C return type in parentheses is not the parameter list)."""
    at = header.find(name + "(") if name else -1
    start = at + len(name) if at >= 0 else header.find("(")
    inner = header[start + 1 :]
    depth, cur, out = 0, "", []
    for ch in inner:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return [re.sub(r"\s+", " ", p) for p in out]


def _shown(d: _Def) -> str:
    short = d.name.rsplit(".", 1)[-1]
    text = f"{short}({', '.join(_params(d.header, short))})"
    return text if len(text) <= 120 else text[:117] + "…)"


def _enclosing_changes(
    hunks: tuple[Hunk, ...], which: Side, lang: Language, path: str
) -> dict[str, tuple[bool, Kind]]:
    """Definitions whose bodies hold changed lines: {qualified name: (public, kind)}."""
    out: dict[str, tuple[bool, Kind]] = {}
    for hunk in hunks:
        lines = hunk.side(which)
        for i, ln in enumerate(lines):
            if not ln.changed or ln.blank or lang.comment.match(ln.text) or lang.match(ln.text):
                continue
            if _CLOSER_RE.match(ln.text):
                continue  # a closing brace says nothing about where it sits
            scope = _container(lines, i, hunk, lang, path)
            if scope is not None:
                out.setdefault(scope[0], (scope[1], scope[2]))
    return out


_CLOSING_RE = re.compile(r"^\s*\)\s*(?:->.*)?:\s*(?:#.*)?$")
_PARAM_RE = re.compile(r"^\s*\*{0,2}(?P<name>[A-Za-z_]\w*)\s*(?P<rest>[:=,)]|$)")


def _parameters_above(hunk: Hunk, lang: Language, path: str) -> Symbol | None:
    """A hunk that starts inside a function's parameter list (git's hunk header shows the
    `def f(` line, unclosed): the parameters it adds or removes there."""
    found = lang.match(hunk.header) if hunk.header else None
    if found is None or found[0].kind is not Kind.FUNCTION or lang is not PYTHON:
        return None
    header = hunk.header.rstrip()
    if header.endswith(":") or header.count("(") <= header.count(")"):
        return None
    names: dict[str, list[tuple[str, bool]]] = {"old": [], "new": []}
    for which in ("old", "new"):
        closed = False
        for ln in hunk.side(which):
            if _CLOSING_RE.match(ln.text):
                closed = True
                break
            m = _PARAM_RE.match(ln.text)
            if m is None or not ln.text.rstrip().endswith(","):
                return None  # a body line: the hunk does not start in the parameters
            names[which].append((m["name"], "=" in ln.text))
        if not closed:
            return None
    changed = [ln for ln in (*hunk.old, *hunk.new) if ln.changed]
    before = {n for n, _ in names["old"]}
    after = {n for n, _ in names["new"]}
    added = [n for n, _ in names["new"] if n not in before]
    removed = [n for n, _ in names["old"] if n not in after]
    if not changed or not (added or removed):
        return None
    m = found[1]
    required = any(not has_default for n, has_default in names["new"] if n in added)
    return Symbol(
        Kind.FUNCTION, m["name"], Action.SIGNATURE, path, lang.public(m, path),
        ", ".join(removed) or None, ", ".join(added) or None, bool(removed) or required,
    )  # fmt: skip


def _from_blobs(path: str, old: str, new: str, product: bool) -> list[Symbol] | None:
    """Python with both whole blobs: ast decides everything."""
    before, after = python.definitions(old), python.definitions(new)
    if before is None or after is None:
        return None
    private_module = python_private_module(path)
    out: list[Symbol] = []
    for name in sorted(before.keys() | after.keys(), key=lambda n: (n.count("."), n)):
        a, b = before.get(name), after.get(name)
        ref = b or a
        assert ref is not None
        public = product and ref.public and not private_module
        if a is None or b is None:
            action = Action.ADDED if a is None else Action.REMOVED
            out.append(Symbol(ref.kind, name, action, path, public))
            continue
        if a.signature and b.signature and a.signature != b.signature:
            action, breaking, s_old, s_new = python.compare(a.signature, b.signature)
            if action is not Action.CHANGED:
                out.append(Symbol(b.kind, name, action, path, public, s_old, s_new, breaking))
                continue
        if a.body != b.body and b.kind is not Kind.CLASS:
            out.append(Symbol(b.kind, name, Action.CHANGED, path, public))
    return out


def read_definitions(
    change: FileChange, hunks: tuple[Hunk, ...], lang: Language, *, product: bool, test: bool
) -> list[Symbol]:
    """The definitions this file's diff adds, removes or changes."""
    path = change.path
    symbols: list[Symbol] | None = None
    if lang is PYTHON and not test:
        old, new = whole_side(change, hunks, "old"), whole_side(change, hunks, "new")
        if old is not None and new is not None:
            symbols = _from_blobs(path, old, new, product)
    if symbols is None:
        symbols = _from_hunks(path, hunks, lang, product)
    if test:
        return [
            Symbol(Kind.TEST, s.name, s.action, path)
            for s in symbols
            if _TEST_NAME_RE.match(s.name.rsplit(".", 1)[-1])
            and s.action in (Action.ADDED, Action.REMOVED)
        ]
    return symbols


def _from_hunks(path: str, hunks: tuple[Hunk, ...], lang: Language, product: bool) -> list[Symbol]:
    old_defs = [d for d in _defs(hunks, "old", lang, path) if not d.nested]
    new_defs = [d for d in _defs(hunks, "new", lang, path) if not d.nested]
    old_by, new_by = {d.name: d for d in old_defs}, {d.name: d for d in new_defs}
    touched = [d.name for d in old_defs + new_defs if d.changed]
    out: dict[str, Symbol] = {}
    for name in dict.fromkeys(touched):
        a, b = old_by.get(name), new_by.get(name)
        ref = b or a
        assert ref is not None
        public = product and ref.public
        if a is None or b is None:
            action = Action.ADDED if a is None else Action.REMOVED
            out[name] = Symbol(ref.kind, name, action, path, public)
        elif (sig := _signature_change(a, b, lang)) is not None:
            action, breaking, s_old, s_new = sig
            out[name] = Symbol(b.kind, name, action, path, public, s_old, s_new, breaking)
    for hunk in hunks:
        params = _parameters_above(hunk, lang, path)
        if params is not None and params.name not in out:
            out[params.name] = replace(params, public=product and params.public)
    for which in ("new", "old"):
        for name, (public, kind) in _enclosing_changes(hunks, which, lang, path).items():
            if name not in out:
                ref = new_by.get(name) or old_by.get(name)
                out[name] = Symbol(ref.kind if ref else kind, name, Action.CHANGED, path,
                                   product and public)  # fmt: skip
    return list(out.values())
