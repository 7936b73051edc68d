"""Keys of config files (YAML, TOML, JSON, INI, .env, properties) a diff adds, removes or
gives a new value, each named by its dotted path as far as the hunk shows the nesting.

A key is part of the public interface when its file is a shipped default (`config.yaml`,
`settings.toml`, `defaults.json`, a Helm `values.yaml`, `.env.example`, ...) in product
files; other config files (tool settings, CI, deploy recipes) are still named, not lifted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from digest.analysis.changes.hunks import Hunk, Line, Side, strip_comment
from digest.analysis.changes.model import Action, Kind, Symbol

_MAX_VALUE = 40
_YAML_KEY_RE = re.compile(
    r"^(?P<indent>\s*)(?P<key>[\w.-]+|\"[^\"]+\"|'[^']+')\s*:(?:\s+(?P<v>.*))?$"
)
_TOML_KEY_RE = re.compile(r"^\s*(?P<key>[\w.-]+|\"[^\"]+\")\s*=\s*(?P<v>.*)$")
_TOML_TABLE_RE = re.compile(r"^\s*\[\[?(?P<key>[^\]]+)\]\]?\s*$")
_JSON_KEY_RE = re.compile(r"^(?P<indent>\s*)\"(?P<key>[^\"]+)\"\s*:\s*(?P<v>.*?),?\s*$")
_ENV_KEY_RE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][\w.-]*)\s*[=:]\s*(?P<v>.*)$")
_DEFAULTS_NAME_RE = re.compile(
    r"^(?:\.env\.(?:example|sample|template|dist)|env\.(?:example|sample)|values(?:\.schema)?\.(?:ya?ml|json)"
    r"|(?:default|defaults|settings|config|configuration|app|application)(?:[._-][\w.-]*)?"
    r"\.(?:ya?ml|toml|json|jsonc|ini|cfg|conf|properties))$",
    re.IGNORECASE,
)
_FORMATS = {
    "yaml": "yaml", "yml": "yaml", "toml": "toml", "json": "json", "jsonc": "json",
    "json5": "json", "ini": "ini", "cfg": "ini", "conf": "ini", "properties": "ini", "env": "ini",
}  # fmt: skip


@dataclass(frozen=True)
class _Key:
    name: str
    value: str | None
    changed: bool


def config_format(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1].lower()
    if name.startswith(".env") or name.startswith("env."):
        return "ini"
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return _FORMATS.get(ext)


def is_defaults_file(path: str) -> bool:
    return bool(_DEFAULTS_NAME_RE.match(path.rsplit("/", 1)[-1]))


def _short(value: str | None) -> str | None:
    if value is None:
        return None
    value = strip_comment(value)
    if not value or value in ("{", "[", "|", ">", "|-", ">-"):
        return None
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"


def _parents(lines: tuple[Line, ...], i: int, key_re: re.Pattern[str], header: str) -> list[str]:
    """Keys of the mappings line i nests in (by indentation), outermost first."""
    parents: list[str] = []
    indent = lines[i].indent
    for j in range(i - 1, -1, -1):
        ln = lines[j]
        if ln.blank or ln.indent >= indent or ln.text.lstrip().startswith(("#", "-", "//")):
            continue
        m = key_re.match(ln.text)
        if m:
            parents.insert(0, m["key"].strip("\"'"))
            indent = ln.indent
            if indent == 0:
                return parents
    if indent > 0 and header:
        m = key_re.match(header)
        if m and m.group("indent") == "":
            parents.insert(0, m["key"].strip("\"'"))
    return parents


def _keys(hunk: Hunk, which: Side, fmt: str) -> Iterator[_Key]:
    lines = hunk.side(which)
    table = ""
    if fmt in ("toml", "ini"):
        t = _TOML_TABLE_RE.match(hunk.header)
        table = t["key"].strip() if t else ""
    for i, ln in enumerate(lines):
        text = ln.text
        if fmt in ("toml", "ini"):
            t = _TOML_TABLE_RE.match(text)
            if t:
                table = t["key"].strip()
                continue
            m = (_TOML_KEY_RE if fmt == "toml" else _ENV_KEY_RE).match(text)
            if m and not text.lstrip().startswith(("#", ";")):
                key = m["key"].strip('"')
                yield _Key(f"{table}.{key}" if table else key, _short(m["v"]), ln.changed)
        else:
            key_re = _YAML_KEY_RE if fmt == "yaml" else _JSON_KEY_RE
            m = key_re.match(text)
            if m and not text.lstrip().startswith(("#", "-", "//")):
                path = [*_parents(lines, i, key_re, hunk.header), m["key"].strip("\"'")]
                yield _Key(".".join(path), _short(m["v"]), ln.changed)


def read_config_keys(path: str, hunks: tuple[Hunk, ...], *, public: bool) -> list[Symbol]:
    fmt = config_format(path)
    if fmt is None:
        return []
    old = [k for h in hunks for k in _keys(h, "old", fmt)]
    new = [k for h in hunks for k in _keys(h, "new", fmt)]
    old_by, new_by = {k.name: k for k in old}, {k.name: k for k in new}
    out: list[Symbol] = []
    for name in dict.fromkeys(k.name for k in new + old if k.changed):
        a, b = old_by.get(name), new_by.get(name)
        if a is None or b is None:
            action = Action.ADDED if a is None else Action.REMOVED
            out.append(Symbol(Kind.CONFIG, name, action, path, public))
        elif a.value != b.value and (a.value is not None or b.value is not None):
            out.append(
                Symbol(Kind.CONFIG, name, Action.DEFAULT, path, public, a.value, b.value, True)
            )
    return out
