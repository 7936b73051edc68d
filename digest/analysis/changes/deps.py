"""Dependencies a manifest's diff adds, removes or moves to another version.

Read from requirement lines (`httpx>=0.27`, `"httpx>=0.27",` in pyproject or setup.py),
`package.json` entries, `go.mod` requires, `Cargo.toml` and Poetry tables, and Gemfiles. A move
across a major version (1.x -> 2.x, or 0.x -> 1.0) is breaking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from digest.analysis.changes.hunks import Hunk
from digest.analysis.changes.model import Action, Kind, Symbol

_REQUIREMENT_RE = re.compile(
    r"^\s*[\"']?(?P<name>[A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?\s*(?P<spec>(?:[<>=!~^]=?|===)\s*v?"
    r"(?P<ver>\d[\w.*+-]*)[^\"';#]*)?[\"']?\s*,?\s*(?:#.*)?$"
)
_PIN_AT_RE = re.compile(r"^\s*[\"']?(?P<name>[A-Za-z0-9][\w.-]*)\s*@\s*\S+?@(?P<ver>[0-9a-f]{7,})")
_JSON_DEP_RE = re.compile(
    r"^\s*\"(?P<name>(?:@[\w.-]+/)?[\w.-]+)\"\s*:\s*\"(?P<spec>[\^~<>=]*\s*v?(?P<ver>\d[\w.+-]*)"
    r"|(?:workspace|npm|file|link|git\+?\w*):[^\"]*|\*|latest)\",?\s*$"
)
_GO_RE = re.compile(
    r"^\s*(?:require\s+)?(?P<name>[\w.-]+\.[\w.-]+/[\w./-]+)\s+v(?P<ver>\d[\w.+-]*)"
)
_TOML_DEP_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][\w.-]*)\s*=\s*(?:\"(?P<spec>[\^~<>=]*\s*(?P<ver>\d[\w.*+-]*)[^\"]*)\""
    r"|\{[^}]*\bversion\s*=\s*\"(?P<spec2>[\^~<>=]*\s*(?P<ver2>\d[\w.*+-]*)[^\"]*)\")"
)
_GEM_RE = re.compile(r"^\s*gem\s+['\"](?P<name>[\w.-]+)['\"](?:\s*,\s*['\"](?P<spec>[^'\"]*?)"
                     r"(?P<ver>\d[\w.]*)['\"])?")  # fmt: skip
_NOT_DEPS = frozenset(
    {"version", "name", "description", "main", "module", "types", "license", "edition",
     "rust-version", "python", "requires-python", "python_requires", "go", "toolchain",
     "packagemanager", "node", "npm", "readme", "homepage", "repository", "authors"}
)  # fmt: skip


@dataclass(frozen=True)
class _Dep:
    name: str
    version: str | None  # as written in the spec, for the reader
    number: str | None  # the first version number, for the major check
    dev: bool = False  # a development, test, lint or docs dependency: not shipped


# Sections and tools that serve development, not the product.
_DEV_SECTION_RE = re.compile(
    r"^\s*(?:\[[^\]]*(?:dev|test|lint|doc|typing|ci)[^\]]*\]|\"(?:devDependencies|"
    r"peerDependencies)\"\s*:|(?:dev|test|lint|docs?|typing)\w*\s*=\s*\[)",
    re.IGNORECASE,
)
_ANY_SECTION_RE = re.compile(r"^\s*(?:\[[^\]]+\]\s*$|\"\w*[Dd]ependencies\"\s*:|\w+\s*=\s*\[)")
_DEV_TOOLS_RE = re.compile(
    r"^(?:pytest\S*|mypy|ruff|black|isort|flake8\S*|pylint|coverage|pre-commit|tox|nox|"
    r"sphinx\S*|mkdocs\S*|types-\S+|@types/\S+|eslint\S*|prettier|jest|vitest|ts-jest|"
    r"typescript|hypothesis|freezegun|responses|respx|pytest-\S+|codespell|bandit|pyright)$",
    re.IGNORECASE,
)
_DEV_FILE_RE = re.compile(r"(?:^|[-_.])(?:dev|test|tests|lint|docs?|ci|typing)(?:[-_.]|$)", re.I)


def _in_dev_section(lines: list[str], header: str) -> bool:
    """Whether the last section opened above (in the hunk, else git's header) is a dev one."""
    for text in [*reversed(lines), header]:
        if _ANY_SECTION_RE.match(text) or _DEV_SECTION_RE.match(text):
            return bool(_DEV_SECTION_RE.match(text))
    return False


def _parse(line: str, manifest: str) -> _Dep | None:
    if manifest == "package.json":
        m = _JSON_DEP_RE.match(line)
        return _Dep(m["name"], m["spec"].strip(), m["ver"]) if m else None
    if manifest in ("go.mod",):
        m = _GO_RE.match(line)
        return _Dep(m["name"], "v" + m["ver"], m["ver"]) if m else None
    if manifest == "gemfile":
        m = _GEM_RE.match(line)
        if m:
            spec = f"{m['spec'] or ''}{m['ver']}".strip() if m["ver"] else None
            return _Dep(m["name"], spec, m["ver"])
        return None
    if manifest.endswith(".toml"):
        t = _TOML_DEP_RE.match(line)
        if t:
            spec, ver = (t["spec"], t["ver"]) if t["spec"] else (t["spec2"], t["ver2"])
            return _Dep(t["name"], spec.strip(), ver)
    m = _PIN_AT_RE.match(line)
    if m:
        return _Dep(m["name"], m["ver"][:12], None)
    m = _REQUIREMENT_RE.match(line)
    if m and (m["spec"] or line.strip().startswith(('"', "'")) or manifest.endswith(".txt")):
        spec = re.sub(r"\s+", "", m["spec"]) if m["spec"] else None
        return _Dep(m["name"], spec, m["ver"])
    return None


def _major(number: str | None) -> int | None:
    """The major version; 0.x minors are not majors here (ecosystems bump them routinely)."""
    found = re.match(r"\d+", number or "")
    return int(found.group()) if found else None


def read_dependencies(path: str, hunks: tuple[Hunk, ...], *, public: bool) -> list[Symbol]:
    name = path.rsplit("/", 1)[-1].lower()
    manifest = "gemfile" if name == "gemfile" else name
    dev_file = bool(_DEV_FILE_RE.search(name.rsplit(".", 1)[0]))
    sides: list[dict[str, _Dep]] = []
    for which in ("old", "new"):
        found: dict[str, _Dep] = {}
        for hunk in hunks:
            seen: list[str] = []
            for ln in hunk.side(which):
                dep = _parse(ln.text, manifest) if ln.changed else None
                if dep is not None and dep.name.lower() not in _NOT_DEPS:
                    dev = (
                        dev_file
                        or bool(_DEV_TOOLS_RE.match(dep.name))
                        or _in_dev_section(seen, hunk.header)
                    )
                    found.setdefault(dep.name.lower(), replace(dep, dev=dev))
                seen.append(ln.text)
        sides.append(found)
    old, new = sides
    out: list[Symbol] = []
    for key in dict.fromkeys([*new, *old]):
        a, b = old.get(key), new.get(key)
        shipped = public and not (a or b or _Dep("", None, None)).dev
        if a is None or b is None:
            ref = b or a
            assert ref is not None
            action = Action.ADDED if a is None else Action.REMOVED
            out.append(Symbol(Kind.DEPENDENCY, ref.name, action, path, shipped, None, ref.version))
        elif a.version != b.version:
            before, after = _major(a.number), _major(b.number)
            major = before is not None and after is not None and before != after
            bump = Symbol(
                Kind.DEPENDENCY, b.name, Action.BUMPED, path, shipped, a.version, b.version
            )
            out.append(replace(bump, breaking=major))
    return out
