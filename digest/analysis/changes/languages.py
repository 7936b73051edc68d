"""The common shapes of definitions per language, as one-line regexes.

Each pattern names the defined thing (`name`), and where the language says so, its visibility
(`vis`: export, pub, public, ...), its parameters as far as the line shows them (`params`) and
a receiver or container (`recv`). They are deliberately the common shapes, not grammars: a
definition written in an unusual way is missed, never invented.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from digest.analysis.changes.model import Kind

_NOT_NAMES = frozenset(
    {"if", "for", "while", "switch", "catch", "return", "function", "else", "new", "delete",
     "sizeof", "case", "do", "try", "throw", "typeof", "await", "yield", "match", "using",
     "elif", "with", "assert", "print", "super", "this", "self", "defined", "decltype",
     "static_assert", "alignof", "foreach", "lock", "fixed", "goto", "when", "not", "and", "or"}
)  # fmt: skip


@dataclass(frozen=True)
class DefPattern:
    regex: re.Pattern[str]
    kind: Kind
    container: bool = False  # a class-like scope whose members are qualified by its name
    report: bool = True  # False for scopes that are not things of their own (a Rust impl)


@dataclass(frozen=True)
class Language:
    name: str
    patterns: tuple[DefPattern, ...]
    # Whether a top-level definition is exported, given its match and the file's path.
    public: Callable[[re.Match[str], str], bool]
    comment: re.Pattern[str]
    indent_scoped: bool = False  # Python: scope ends where indentation does
    # Whether a member of a public container is public too (by its own modifiers and name).
    member_public: Callable[[re.Match[str]], bool] = lambda m: _member_public(m)

    def match(self, text: str) -> tuple[DefPattern, re.Match[str]] | None:
        for pattern in self.patterns:
            found = pattern.regex.match(text)
            if found and found["name"] not in _NOT_NAMES:
                return pattern, found
        return None


def _member_public(m: re.Match[str]) -> bool:
    vis = set((m.groupdict().get("vis") or "").replace("(", " ").split())
    name = m["name"]
    dunder = name.startswith("__") and name.endswith("__")
    hidden = name.startswith(("_", "#")) and not dunder
    return not hidden and not {"private", "protected", "internal", "pub(crate)"} & vis


def _p(regex: str, kind: Kind, *, container: bool = False, report: bool = True) -> DefPattern:
    return DefPattern(re.compile(regex), kind, container, report)


def _dirs(path: str) -> list[str]:
    return [d.lower() for d in path.split("/")[:-1]]


def python_private_module(path: str) -> bool:
    """`pkg/_impl.py`, `_private/x.py`: not importable by contract."""
    return any(
        part.startswith("_") and part not in ("__init__.py", "__main__.py")
        for part in path.split("/")
    )


def _py_public(m: re.Match[str], path: str) -> bool:
    name = m["name"]
    visible = not name.startswith("_") or name in ("__init__", "__call__")
    return visible and not python_private_module(path)


def _go_public(m: re.Match[str], path: str) -> bool:
    recv = m.groupdict().get("recv")
    exported = m["name"][:1].isupper() and (recv is None or recv[:1].isupper())
    return exported and "internal" not in _dirs(path)


def _vis_public(word: str) -> Callable[[re.Match[str], str], bool]:
    def public(m: re.Match[str], path: str) -> bool:
        vis = (m.groupdict().get("vis") or "").split()
        return word in vis and not m["name"].startswith("_")

    return public


def _rust_public(m: re.Match[str], path: str) -> bool:
    return (m.groupdict().get("vis") or "").strip() == "pub"


def _kotlin_public(m: re.Match[str], path: str) -> bool:
    vis = (m.groupdict().get("vis") or "").split()
    return not {"private", "internal", "protected"} & set(vis)


_HEADER_EXTS = frozenset({"h", "hh", "hpp", "hxx", "cuh", "inl"})


def _c_public(m: re.Match[str], path: str) -> bool:
    ext = path.rsplit(".", 1)[-1].lower()
    vis = (m.groupdict().get("vis") or "").split()
    hidden = {"detail", "internal", "impl", "src"} & set(_dirs(path))
    return ext in _HEADER_EXTS and "static" not in vis and not hidden


def _never(m: re.Match[str], path: str) -> bool:
    return False


_HASH = re.compile(r"^\s*(#(?!\[)|$)")
_SLASH = re.compile(r"^\s*(//|/\*|\*|$)")

PYTHON = Language(
    "python",
    (
        _p(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)\s*(?:\[[^\]]*\])?\((?P<params>.*)",
           Kind.FUNCTION),
        _p(r"^(?P<indent>\s*)class\s+(?P<name>\w+)(?P<params>.*)", Kind.CLASS, container=True),
    ),
    _py_public,
    _HASH,
    indent_scoped=True,
)  # fmt: skip
JS = Language(
    "javascript",
    (
        _p(r"^(?P<indent>\s*)(?P<vis>export\s+(?:default\s+)?)?(?:declare\s+)?(?:async\s+)?"
           r"function\s*\*?\s*(?P<name>[\w$]+)\s*(?:<[^>]*>)?\s*\((?P<params>.*)", Kind.FUNCTION),
        _p(r"^(?P<indent>\s*)(?P<vis>export\s+(?:default\s+)?)?(?:declare\s+)?(?:abstract\s+)?"
           r"class\s+(?P<name>[\w$]+)(?P<params>.*)", Kind.CLASS, container=True),
        _p(r"^(?P<indent>\s*)(?P<vis>export\s+)?(?:declare\s+)?(?:interface|type|enum)\s+"
           r"(?P<name>[\w$]+)", Kind.TYPE),
        _p(r"^(?P<indent>\s*)(?P<vis>export\s+)?(?:const|let|var)\s+(?P<name>[\w$]+)\s*"
           r"(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|(?:\((?P<params>[^)]*)\)|[\w$]+)\s*"
           r"(?::\s*[^=]+)?=>)", Kind.FUNCTION),
        _p(r"^(?P<indent>\s+)(?P<vis>(?:(?:public|private|protected|static|async|readonly|"
           r"override|get|set)\s+)*)(?P<name>#?[\w$]+)\s*(?:<[^>]*>)?\((?P<params>[^)]*)\)\s*"
           r"(?::\s*[^{=]+)?\{\s*$", Kind.METHOD),
    ),
    lambda m, path: "export" in (m.groupdict().get("vis") or ""),
    _SLASH,
)  # fmt: skip
GO = Language(
    "go",
    (
        _p(r"^(?P<indent>)func\s+(?:\(\s*\w*\s*\*?\s*(?P<recv>\w+)(?:\[[^\]]*\])?\s*\)\s*)?"
           r"(?P<name>\w+)\s*(?:\[[^\]]*\])?\((?P<params>.*)", Kind.FUNCTION),
        _p(r"^(?P<indent>\s*)type\s+(?P<name>\w+)(?:\[[^\]]*\])?\s+(?:struct|interface)\b",
           Kind.TYPE, container=True),
        _p(r"^(?P<indent>\s*)type\s+(?P<name>\w+)\s+\S", Kind.TYPE),
    ),
    _go_public,
    _SLASH,
)  # fmt: skip
RUST = Language(
    "rust",
    (
        _p(r"^(?P<indent>\s*)(?P<vis>pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?"
           r"(?:unsafe\s+)?(?:extern\s+\"[^\"]*\"\s+)?fn\s+(?P<name>\w+)\s*(?:<.*?>)?\s*"
           r"\((?P<params>.*)", Kind.FUNCTION),
        _p(r"^(?P<indent>\s*)(?P<vis>pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait|union|type)\s+"
           r"(?P<name>\w+)", Kind.TYPE),
        _p(r"^(?P<indent>\s*)impl(?:<[^>]*>)?\s+(?:[\w:<>, ]+\s+for\s+)?(?P<name>\w+)",
           Kind.CLASS, container=True, report=False),
    ),
    _rust_public,
    _SLASH,
    member_public=lambda m: _rust_public(m, ""),
)  # fmt: skip
_JAVA_MODS = (
    r"(?:public|protected|private|internal|static|final|abstract|synchronized|native|default"
    r"|override|virtual|async|sealed|partial|open|data|readonly|extern|unsafe)"
)
JAVA = Language(
    "java",
    (
        _p(rf"^(?P<indent>\s*)(?P<vis>(?:{_JAVA_MODS}\s+)*)(?:class|interface|enum|record)\s+"
           r"(?P<name>\w+)(?P<params>.*)", Kind.CLASS, container=True),
        _p(rf"^(?P<indent>\s+)(?P<vis>(?:{_JAVA_MODS}\s+)*)(?:<[^>]+>\s+)?"
           r"[\w<>\[\],.? ]*?[\w>\]]\s+(?P<name>\w+)\s*\((?P<params>[^;]*)$", Kind.METHOD),
    ),
    _vis_public("public"),
    _SLASH,
    member_public=lambda m: _vis_public("public")(m, ""),
)  # fmt: skip
KOTLIN = Language(
    "kotlin",
    (
        _p(r"^(?P<indent>\s*)(?P<vis>(?:(?:public|private|internal|protected|open|data|sealed|"
           r"abstract|enum|inner|value)\s+)*)(?:class|interface|object)\s+(?P<name>\w+)"
           r"(?P<params>.*)", Kind.CLASS, container=True),
        _p(r"^(?P<indent>\s*)(?P<vis>(?:(?:public|private|internal|protected|override|open|"
           r"suspend|inline|operator|abstract)\s+)*)fun\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?"
           r"(?P<name>\w+)\s*\((?P<params>.*)", Kind.FUNCTION),
    ),
    _kotlin_public,
    _SLASH,
)  # fmt: skip
C = Language(
    "c",
    (
        _p(r"^(?P<indent>\s*)(?:template\s*<[^>]*>\s*)?(?:class|struct)\s+(?:[A-Z_]+_API\s+)?"
           r"(?P<name>\w+)\s*(?:final\s*)?(?P<params>[:{].*|$)", Kind.CLASS, container=True),
        _p(r"^(?P<indent>\s*)(?!(?:return|throw|else|case|new|delete|co_return|co_await|goto|"
           r"using|typedef|if|while|for|switch|do|sizeof|operator)\b)"
           r"(?P<vis>(?:(?:static|inline|extern|virtual|constexpr|explicit|"
           r"__device__|__global__|__host__|__forceinline__|[A-Z_]+_API)\s+)*)"
           r"(?:const\s+)?(?:unsigned\s+|signed\s+)?[A-Za-z_][\w:<>,]*(?:\s*[*&]+\s*|\s+)"
           r"[*&]*(?P<name>~?[A-Za-z_][\w:]*)\s*\((?P<params>[^;{]*?)(?:\)\s*(?:const\s*)?"
           r"(?:override\s*)?(?:noexcept\s*)?(?:[{;]|=\s*(?:0|default|delete)\s*;)?\s*)?$",
           Kind.FUNCTION),
    ),
    _c_public,
    _SLASH,
)  # fmt: skip
SHELL = Language(
    "shell",
    (_p(r"^(?P<indent>\s*)(?:function\s+)?(?P<name>[\w-]+)\s*\(\)\s*\{?\s*$", Kind.FUNCTION),),
    _never,
    _HASH,
)

_BY_EXT: dict[str, Language] = {
    "py": PYTHON, "pyi": PYTHON,
    **{e: JS for e in ("js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts")},
    "go": GO, "rs": RUST,
    **{e: JAVA for e in ("java", "cs", "scala", "groovy")},
    "kt": KOTLIN, "kts": KOTLIN,
    **{e: C for e in ("c", "h", "cc", "cpp", "cxx", "hh", "hpp", "hxx", "cu", "cuh", "inl",
                      "m", "mm")},
    **{e: SHELL for e in ("sh", "bash", "zsh", "ksh")},
}  # fmt: skip


def language_of(path: str) -> Language | None:
    name = path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _BY_EXT.get(ext)
