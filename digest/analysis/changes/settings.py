"""Configuration that lives in code: fields of settings classes, default constants, and the
keys of Go config structs. A changed value is a new default, named with its old and new value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from digest.analysis.changes.hunks import Hunk, Line, Side, strip_comment
from digest.analysis.changes.languages import python_private_module
from digest.analysis.changes.model import Action, Kind, Symbol

_MAX_VALUE = 40
_CONSTANT_RE = re.compile(
    r"^(?P<indent>\s*)(?:export\s+)?(?:pub(?:\([^)]*\))?\s+)?(?:(?:const|let|var|static|final|"
    r"constexpr|inline|readonly|private|public|protected)\s+)*(?:[\w:<>\[\]*&]+\s+)??"
    r"(?P<name>[A-Z][A-Z0-9_]{2,}|_?[A-Z][A-Z0-9_]*DEFAULT[A-Z0-9_]*|_?[Dd]efault[A-Z]\w*)\s*"
    r"(?::\s*[^=]+?)?\s*=\s*(?P<value>[^=].*?)\s*[;,]?\s*$"
)
_DEFINE_RE = re.compile(r"^#\s*define\s+(?P<name>[A-Z][A-Z0-9_]{2,})\s+(?P<value>\S.*?)\s*$")
_FIELD_RE = re.compile(
    r"^(?P<indent>\s+)(?P<name>[a-z_]\w*)\s*(?::\s*(?P<type>[^=]+?))?\s*(?:=\s*(?P<value>.+?))?\s*$"
)
_CLASS_RE = re.compile(r"^(?P<indent>\s*)class\s+(?P<name>\w+)\s*(?:\((?P<bases>.*)\))?\s*:")
# What users set: settings, options and arguments by name; a "Config" or "Params" class only
# when it derives from a settings or config base (a bare ModelConfig describes a model).
_CONFIG_CLASS_RE = re.compile(r"(?:Settings|Options|Args|Arguments|Flags|Preferences)$")
_CONFIG_BASES_RE = re.compile(r"\b(?:Base)?Settings\b|\bBaseConfig\b|\bConfigModel\b|Options\b")
_GO_TAG_RE = re.compile(
    r"^\s*(?P<field>[A-Z]\w*)\s+[^`]+`[^`]*\b(?:json|yaml|toml|mapstructure|koanf):"
    r"\"(?P<key>[\w.-]+)"
)
_IGNORED_VALUES = re.compile(r"^(?:\(|\[|\{|\"\"\"|'''|\\)$")


@dataclass(frozen=True)
class _Value:
    kind: Kind
    name: str
    value: str | None
    changed: bool


def _short(value: str | None) -> str | None:
    if value is None:
        return None
    value = strip_comment(value)
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"


def _settings_class(lines: tuple[Line, ...], i: int, hunk: Hunk) -> str | None:
    """The config-like class whose body line i sits in directly, if any."""
    indent = lines[i].indent
    for j in range(i - 1, -1, -1):
        ln = lines[j]
        if ln.blank or ln.indent >= indent:
            continue
        m = _CLASS_RE.match(ln.text)  # a top-level class: a nested `class Config` is a
        return m["name"] if m and not m["indent"] and _is_config(m) else None  # model's own
    m = _CLASS_RE.match(hunk.header)
    if m and _is_config(m) and indent == 4:
        return m["name"]
    return None


def _is_config(m: re.Match[str]) -> bool:
    return bool(_CONFIG_CLASS_RE.search(m["name"]) or _CONFIG_BASES_RE.search(m["bases"] or ""))


def _values(hunk: Hunk, which: Side, python: bool, go_config: bool) -> Iterator[_Value]:
    lines = hunk.side(which)
    for i, ln in enumerate(lines):
        text = ln.text.rstrip()
        m = _DEFINE_RE.match(text) or _CONSTANT_RE.match(text)
        if m and (
            not m.groupdict().get("indent") or "efault" in m["name"] or "EFAULT" in m["name"]
        ):
            value = m["value"]
            if not _IGNORED_VALUES.match(value):
                yield _Value(Kind.CONSTANT, m["name"], _short(value), ln.changed)
            continue
        if python and ln.indent:
            f = _FIELD_RE.match(text)
            if f and (f["type"] or f["value"]) and not text.lstrip().startswith(("return", "def")):
                owner = _settings_class(lines, i, hunk)
                if owner:
                    yield _Value(
                        Kind.CONFIG, f"{owner}.{f['name']}", _short(f["value"]), ln.changed
                    )
        elif go_config:
            g = _GO_TAG_RE.match(text)
            if g and g["key"] != "-":
                yield _Value(Kind.CONFIG, g["key"], None, ln.changed)


def read_settings(
    path: str, hunks: tuple[Hunk, ...], *, python: bool, go: bool, public: bool
) -> list[Symbol]:
    public = public and not (python and python_private_module(path))
    go_config = go and bool(re.search(r"config|settings|options", path, re.I))
    old = [v for h in hunks for v in _values(h, "old", python, go_config)]
    new = [v for h in hunks for v in _values(h, "new", python, go_config)]
    old_by = {(v.kind, v.name): v for v in old}
    new_by = {(v.kind, v.name): v for v in new}
    out: list[Symbol] = []
    for key in dict.fromkeys((v.kind, v.name) for v in new + old if v.changed):
        a, b = old_by.get(key), new_by.get(key)
        visible = public and not any(part.startswith("_") for part in key[1].split("."))
        if a is None or b is None:
            action = Action.ADDED if a is None else Action.REMOVED
            out.append(Symbol(key[0], key[1], action, path, visible))
        elif a.value != b.value:
            out.append(
                Symbol(key[0], key[1], Action.DEFAULT, path, visible, a.value, b.value, True)
            )
    return out
