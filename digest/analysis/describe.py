"""What a diff changes, in words (zh and en): the phrases both the importance reasons and the
heuristic's summaries use, so a symbol reads the same wherever it is named.

Plain text only (no backticks or markdown): renderers escape and format what we write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from digest.analysis.changes.model import Action, Kind, Symbol
from digest.models import Language

MAX_NAME = 60

_NOUNS: dict[Kind, tuple[str, str]] = {
    Kind.FUNCTION: ("函数", "function"), Kind.METHOD: ("方法", "method"),
    Kind.CLASS: ("类", "class"), Kind.TYPE: ("类型", "type"), Kind.CONSTANT: ("常量", "constant"),
    Kind.OPTION: ("命令行选项", "option"), Kind.COMMAND: ("命令", "command"),
    Kind.ROUTE: ("接口", "route"), Kind.CONFIG: ("配置项", "config key"),
    Kind.ENV: ("环境变量", "environment variable"), Kind.SCHEMA: ("数据结构", "schema"),
    Kind.WIRE: ("协议字段", "wire field"), Kind.DEPENDENCY: ("依赖", "dependency"),
    Kind.SECTION: ("章节", "section"), Kind.TEST: ("测试", "test"),
}  # fmt: skip
_VERBS: dict[Action, tuple[str, str]] = {
    Action.ADDED: ("新增", "adds"), Action.REMOVED: ("移除", "removes"),
    Action.CHANGED: ("修改", "changes"), Action.BUMPED: ("升级", "bumps"),
}  # fmt: skip
_CALLABLE = frozenset({Kind.FUNCTION, Kind.METHOD})


def _pick(lang: Language, pair: tuple[str, str]) -> str:
    return pair[0] if lang == "zh" else pair[1]


def name_of(symbol: Symbol) -> str:
    """The name as a reader searches for it: `to_dict()`, `--flag`, "Section title"."""
    name = symbol.name
    if len(name) > MAX_NAME:
        name = name[: MAX_NAME - 1] + "…"
    if symbol.kind in _CALLABLE:
        return f"{name}()"
    if symbol.kind is Kind.SECTION:
        return f"“{name}”"
    return name


def noun(symbol: Symbol, lang: Language) -> str:
    if symbol.kind is Kind.SCHEMA and symbol.name.startswith("migration "):
        return "迁移" if lang == "zh" else "migration"
    return _pick(lang, _NOUNS[symbol.kind])


def _shown_name(symbol: Symbol) -> str:
    if symbol.kind is Kind.SCHEMA and symbol.name.startswith("migration "):
        return symbol.name.removeprefix("migration ")
    return name_of(symbol)


def _detail(symbol: Symbol, lang: Language) -> str:
    """What moved: old -> new values, or the parameters added and removed."""
    old, new = symbol.old, symbol.new
    if symbol.action is Action.SIGNATURE and "(" not in f"{old}{new}":
        parts = []
        if new:
            parts.append(("新增参数 " if lang == "zh" else "adds parameter ") + new)
        if old:
            parts.append(("移除参数 " if lang == "zh" else "removes parameter ") + old)
        return ("，" if lang == "zh" else ", ").join(parts)
    if symbol.action is Action.SIGNATURE and old and new:
        return f"{old} → {new}"
    if symbol.action is Action.BUMPED and not old:
        return f"未固定 → {new}" if lang == "zh" else f"unpinned → {new}"
    if symbol.action is Action.BUMPED and not new:
        return f"{old} → 未固定" if lang == "zh" else f"{old} → unpinned"
    if symbol.action in (Action.DEFAULT, Action.BUMPED) and (old or new):
        return f"{old or '?'} → {new or '?'}"
    return ""


def phrase(symbol: Symbol, lang: Language) -> str:
    """One change, e.g. "adds option --service-tier", "修改 to_dict() 的签名（…）"."""
    name = _shown_name(symbol)
    detail = _detail(symbol, lang)
    tail = (f"（{detail}）" if lang == "zh" else f" ({detail})") if detail else ""
    if symbol.action is Action.SIGNATURE:
        return (
            f"修改 {name} 的签名{tail}"
            if lang == "zh"
            else f"changes the signature of {name}{tail}"
        )
    if symbol.action is Action.MOVED:
        if lang == "zh":
            return f"将{noun(symbol, lang)} {name} 从 {symbol.old} 移至 {symbol.new}"
        return f"moves {noun(symbol, lang)} {name} from {symbol.old} to {symbol.new}"
    if symbol.action is Action.DEFAULT:
        old, new = symbol.old or "?", symbol.new or "?"
        if symbol.kind is Kind.CONFIG and not symbol.public:  # a value, not a shipped default
            return (
                f"{name} 由 {old} 改为 {new}"
                if lang == "zh"
                else f"changes {name} from {old} to {new}"
            )
        if lang == "zh":
            return f"{name} 的默认值由 {old} 改为 {new}"
        return f"changes the default of {name} from {old} to {new}"
    verb = _pick(lang, _VERBS[symbol.action])
    if symbol.action is Action.CHANGED:
        return f"{verb} {name}"
    thing = f"{noun(symbol, lang)} {name}"
    return f"{verb}{thing}{tail}" if lang == "zh" else f"{verb} {thing}{tail}"


def grouped(symbols: Sequence[Symbol], lang: Language) -> str:
    """Several changes in one clause, grouped by verb in first-seen order:
    "adds option --x, function f(); changes g()" / "新增选项 --x、函数 f()；修改 g()"."""
    groups: dict[Action, list[Symbol]] = {}
    for s in symbols:
        groups.setdefault(s.action, []).append(s)
    clauses: list[str] = []
    for action, items in groups.items():
        if action is Action.MOVED and len(items) > 1:
            clauses.extend(_moves(items, lang))
            continue
        if action in (Action.SIGNATURE, Action.DEFAULT, Action.MOVED) or len(items) == 1:
            clauses.extend(p for p in (phrase(s, lang) for s in items) if p not in clauses)
            continue
        verb = _pick(lang, _VERBS[action])
        if action is Action.CHANGED:
            names = list(dict.fromkeys(_shown_name(s) for s in items))
        else:
            names = list(dict.fromkeys(_with_nouns(items, lang)))
        sep = "、" if lang == "zh" else ", "
        joined = sep.join(names)
        space = " " if lang == "en" or joined[:1].isascii() else ""
        clauses.append(f"{verb}{space}{joined}")
    return ("；" if lang == "zh" else "; ").join(clauses)


def _moves(items: Sequence[Symbol], lang: Language) -> list[str]:
    """Moves between the same two files in one clause."""
    by_route: dict[tuple[str | None, str | None], list[Symbol]] = {}
    for s in items:
        by_route.setdefault((s.old, s.new), []).append(s)
    out = []
    for (old, new), moved in by_route.items():
        names = ("、" if lang == "zh" else ", ").join(dict.fromkeys(_with_nouns(moved, lang)))
        out.append(
            f"将{names} 从 {old} 移至 {new}"
            if lang == "zh"
            else f"moves {names} from {old} to {new}"
        )
    return out


def _with_nouns(items: Iterable[Symbol], lang: Language) -> list[str]:
    """Names with their noun said once per run of one kind: "option --a, --b, function f()"."""
    out: list[str] = []
    last: str | None = None
    for s in items:
        n = noun(s, lang)
        out.append(_shown_name(s) if n == last else f"{n} {_shown_name(s)}")
        last = n
    return out
