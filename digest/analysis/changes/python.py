"""Python read with `ast`: whole blobs when the patch holds them, else each `def` header alone.

A header parsed alone still gives the real signature (parameters, defaults, kinds), which is
what tells a compatible change (a new optional parameter) from a breaking one (a parameter
removed, renamed or made required).
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from digest.analysis.changes.model import Action, Kind

_SELF = frozenset({"self", "cls"})


@dataclass(frozen=True)
class Signature:
    shown: str  # "name(a, b=1, *, c)"
    positional: tuple[str, ...]  # in order, without self/cls
    keyword_only: tuple[str, ...]
    defaults: tuple[tuple[str, str], ...]  # (parameter, default as written)
    star: bool  # *args
    double_star: bool  # **kwargs

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.positional + self.keyword_only)


def _signature(name: str, args: ast.arguments) -> Signature:
    pos = [a.arg for a in (*args.posonlyargs, *args.args)]
    defaults: list[tuple[str, str]] = []
    for a, d in zip(reversed(pos), reversed(args.defaults), strict=False):
        defaults.append((a, ast.unparse(d)))
    for a2, d2 in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if d2 is not None:
            defaults.append((a2.arg, ast.unparse(d2)))
    shown = f"{name}({ast.unparse(args)})"
    if len(shown) > 120:
        shown = shown[:117] + "…)"
    return Signature(
        shown=shown,
        positional=tuple(a for a in pos if a not in _SELF),
        keyword_only=tuple(a.arg for a in args.kwonlyargs),
        defaults=tuple(sorted(defaults)),
        star=args.vararg is not None,
        double_star=args.kwarg is not None,
    )


def header_signature(header: str) -> Signature | None:
    """The signature of one `def` header (its lines up to the colon), or None if unreadable."""
    text = textwrap.dedent(header).strip()
    if not text.endswith(":"):
        cut = text.rfind(":")
        if cut < 0:
            return None
        text = text[: cut + 1]
    try:
        tree = ast.parse(text + "\n    pass\n")
    except (SyntaxError, ValueError, RecursionError):
        return None
    node = tree.body[0] if tree.body else None
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return _signature(node.name, node.args)
    return None


def compare(old: Signature, new: Signature) -> tuple[Action, bool, str | None, str | None]:
    """(action, breaking, old, new) for two signatures of one function; CHANGED if equal.

    Breaking: a parameter removed or renamed, positional order changed, a new parameter
    without a default, *args/**kwargs dropped. A default changed is DEFAULT with the values.
    """
    if old == new:
        return Action.CHANGED, False, None, None
    if old.names == new.names and old.positional == new.positional and old.defaults != new.defaults:
        before, after = dict(old.defaults), dict(new.defaults)
        moved = [k for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)]
        if all(k in before and k in after for k in moved):
            key = moved[0]
            return Action.DEFAULT, True, f"{key}={before[key]}", f"{key}={after[key]}"
    required_new = new.names - old.names - {k for k, _ in new.defaults}
    before, after = dict(old.defaults), dict(new.defaults)
    redefaulted = any(before[k] != after[k] for k in before.keys() & after.keys())
    breaking = (
        redefaulted
        or bool(old.names - new.names)
        or new.positional[: len(old.positional)] != old.positional
        or bool(required_new)
        or (old.star and not new.star)
        or (old.double_star and not new.double_star)
        or bool(before.keys() - after.keys() - (old.names - new.names))
    )
    return Action.SIGNATURE, breaking, old.shown, new.shown


@dataclass(frozen=True)
class Definition:
    qualname: str
    kind: Kind
    signature: Signature | None
    body: str  # ast.dump of the body: equal bodies mean an unchanged implementation
    public: bool


def definitions(source: str) -> dict[str, Definition] | None:
    """Module-level functions and classes and their methods, from a whole blob; None if the
    blob does not parse (another Python version, a template, a fragment)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    found: dict[str, Definition] = {}

    def visible(name: str) -> bool:
        return not name.startswith("_") or name in ("__init__", "__call__")

    def visit(nodes: list[ast.stmt], prefix: str, public: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                qual = prefix + node.name
                kind = Kind.METHOD if prefix else Kind.FUNCTION
                body = ast.dump(ast.Module(body=node.body, type_ignores=[]))
                sig = _signature(node.name, node.args)
                found[qual] = Definition(qual, kind, sig, body, public and visible(node.name))
            elif isinstance(node, ast.ClassDef):
                qual = prefix + node.name
                bases = ",".join(ast.unparse(b) for b in node.bases)
                body = ast.dump(ast.Module(body=node.body, type_ignores=[]))
                pub = public and visible(node.name)
                found[qual] = Definition(qual, Kind.CLASS, None, bases + body, pub)
                visit(node.body, qual + ".", pub)

    visit(tree.body, "", True)
    return found
