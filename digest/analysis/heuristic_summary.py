"""What the heuristic writes from the diff: the summary (what changed, where, which tests), the
symbols named in each area, and the risks and suggestions each grounded in one symbol or file.

Every claim comes from the diff reader's symbols or the file list: "tests were added" only for
a test file the commit adds, "callers" only for files whose diff names the symbol, and no
suggestion unless a trigger of this commit asks for it.
"""

from __future__ import annotations

import re

from digest.analysis import rules
from digest.analysis.changes.model import CODE, USER_FACING, Action, Kind, Symbol
from digest.analysis.describe import grouped, name_of, noun, phrase
from digest.analysis.heuristic_facts import Facts, lines_of
from digest.analysis.heuristic_text import join, label, t
from digest.analysis.post_rules import INTERFACE_ORDER, Signals
from digest.analysis.rules import CODE_KINDS, PathKind
from digest.models import ChangeType, Commit, FileChange, Importance, Language, Risk

SUMMARY_SYMBOLS = 4
REVERT_WORD_RE = re.compile(r"^\W*(?:revert\w*|回滚|回退|撤销|还原)\s*", re.IGNORECASE)
UNTESTED_LINES = 100  # more code lines than this changed with no test file touched: a risk
LARGEST_FIRST_LINES = 50  # "start with the largest file" only helps in a change this big
_NAMED_PATHS = 2


def _priority(s: Symbol) -> int:
    """Lower first: what a reader most needs to hear about (interfaces by INTERFACE_ORDER)."""
    if s.interface_change:
        return -len(INTERFACE_ORDER) + INTERFACE_ORDER.index(s.kind)
    if s.kind is Kind.DEPENDENCY:
        return 2
    if s.action is Action.MOVED:
        return 6
    changed = s.action is Action.CHANGED
    if s.kind in CODE:
        if s.public:
            return 5 if changed else 1
        return 6 if changed else 4
    if s.kind in USER_FACING:
        return 7 if changed else 3
    return 8  # sections


def ranked(fx: Facts) -> list[Symbol]:
    """The commit's symbols (tests aside), most telling first, without echoes: a class added
    speaks for its methods, a method changed speaks for its class."""
    weight = {f.path: lines_of(f) for f, _ in fx.files}
    symbols = [s for s in fx.changes.symbols if s.kind is not Kind.TEST]
    names = {(s.path, s.name): s.action for s in symbols}
    kept = []
    for s in symbols:
        owner = s.name.rsplit(".", 1)[0] if "." in s.name and s.kind in CODE else None
        if owner and names.get((s.path, owner)) in (Action.ADDED, Action.REMOVED):
            continue
        if s.action is Action.CHANGED and any(
            p == s.path and n.startswith(s.name + ".") for p, n in names
        ):
            continue
        kept.append(s)
    order = {id(s): i for i, s in enumerate(kept)}
    return sorted(kept, key=lambda s: (_priority(s), -weight.get(s.path, 0), order[id(s)]))


def _counted(f: FileChange, lang: Language) -> str:
    counts = f"+{f.additions}/−{f.deletions}"
    if f.unreadable is not None and not f.additions + f.deletions:
        counts = "差异无法读取" if lang == "zh" else "diff unreadable"
    return f"{f.path}（{counts}）" if lang == "zh" else f"{f.path} ({counts})"


def _tests_sentence(fx: Facts, lang: Language) -> str:
    if fx.new_test_files:
        paths = fx.new_test_files[:_NAMED_PATHS]
        more = len(fx.new_test_files) - len(paths)
        text = join(lang, list(paths)) + (" " + t(lang, "sum_more", n=more) if more else "")
        return t(lang, "sum_tests_new_many" if len(fx.new_test_files) > 1 else "sum_tests_new",
                 paths=text)  # fmt: skip
    cases = [s for s in fx.changes.of(Kind.TEST) if s.action is Action.ADDED]
    if cases:
        path = max({s.path for s in cases}, key=lambda p: sum(s.path == p for s in cases))
        names = [name_of(s).removesuffix("()") for s in cases if s.path == path][:_NAMED_PATHS]
        return t(lang, "sum_tests_cases", path=path, names=join(lang, names))
    edited = [f.path for f in fx.of(PathKind.TEST)]
    if edited:
        more = len(edited) - _NAMED_PATHS
        text = join(lang, edited[:_NAMED_PATHS]) + (
            " " + t(lang, "sum_more", n=more) if more > 0 else ""
        )
        return t(lang, "sum_tests_changed", paths=text)
    return ""


def summary(commit: Commit, fx: Facts, kind: str, lang: Language) -> str:
    """What changed (the symbols), where (the main file), and the tests; never the title."""
    head = label(lang, kind)
    if not commit.files:
        return t(lang, "sum_empty", kind=head)
    if fx.changes.rename_only and fx.changes.renames:
        pairs = join(lang, [f"{a} → {b}" for a, b in fx.changes.renames[:SUMMARY_SYMBOLS]])
        return t(lang, "sum_renames", kind=head, pairs=pairs)
    if fx.changes.formatting_only:
        where = join(lang, [name_of(x) for x in ranked(fx)[:SUMMARY_SYMBOLS]]) or join(
            lang, [f.path for f, _ in fx.files[:_NAMED_PATHS]]
        )
        return t(lang, "sum_format", kind=head, where=where)
    top = ranked(fx)[:SUMMARY_SYMBOLS]
    tests = fx.changes.of(Kind.TEST)
    peripheral_tests = not top and tests and fx.path_type is ChangeType.TEST
    parts: list[str] = []
    if top or peripheral_tests:
        what = grouped(top or [s for s in tests if s.action is Action.ADDED][:SUMMARY_SYMBOLS]
                       or list(tests[:SUMMARY_SYMBOLS]), lang)  # fmt: skip
        parts.append(t(lang, "sum_what", kind=head, what=what))
        main = fx.biggest(*CODE_KINDS) or fx.biggest()
        if main is not None and not peripheral_tests:
            n, add, dele = len(commit.files), main.additions, main.deletions
            key = "sum_where_one" if n == 1 else "sum_where"
            parts.append(t(lang, key, path=main.path, add=add, dele=dele, n=n))
    else:
        # Code first, then the rest; test files are the tests sentence's to name.
        files = sorted(
            (f for f, k in fx.files if k is not PathKind.TEST or fx.path_type is ChangeType.TEST),
            key=lambda f: (rules.classify_file(f) not in CODE_KINDS, -lines_of(f), f.path),
        ) or [f for f, _ in fx.files]
        named = join(lang, [_counted(f, lang) for f in files[:_NAMED_PATHS]])
        if len(files) > _NAMED_PATHS:
            named += " " + t(lang, "sum_more", n=len(files) - _NAMED_PATHS)
        parts.append(t(lang, "sum_files", kind=head, files=named))
    if not peripheral_tests and fx.path_type is not ChangeType.TEST:
        tests_text = _tests_sentence(fx, lang)
        if tests_text:
            parts.append(tests_text)
    return ("" if lang == "zh" else " ").join(parts)


def area_names(fx: Facts, paths: set[str], lang: Language) -> str:
    """ ": a(), b" naming the area's most telling symbols, or "" when none is known."""
    names = [name_of(s) for s in ranked(fx) if s.path in paths][:3]
    if not names:
        return ""
    return ("：" if lang == "zh" else ": ") + join(lang, list(dict.fromkeys(names)))


def _callers(sym: Symbol, fx: Facts, lang: Language) -> tuple[str, str | None]:
    """The callers clause of a risk, and the paths that still name the symbol (if any)."""
    refs = [r for r in fx.changes.references.get(sym.name, ()) if r.path != sym.path or r.kept]
    kept = [r.path for r in refs if r.kept and r.path != sym.path] or [
        r.path for r in refs if r.kept
    ]
    updated = [r.path for r in refs if r.removed and not r.kept]
    if kept:
        return t(lang, "rk_callers_kept", paths=join(lang, kept[:_NAMED_PATHS])), join(
            lang, kept[:_NAMED_PATHS]
        )
    if updated:
        return t(lang, "rk_callers_updated", paths=join(lang, updated[:_NAMED_PATHS])), None
    return t(lang, "rk_callers_none"), None


Trigger = tuple[Risk | None, str | None]


def _interface_triggers(fx: Facts, lang: Language) -> list[Trigger]:
    out: list[Trigger] = []
    for sym in fx.changes.symbols:
        if not sym.public or sym.kind is Kind.TEST:
            continue
        name = name_of(sym)
        if sym.action is Action.REMOVED and sym.kind in CODE and sym.kind is not Kind.CONSTANT:
            callers, kept = _callers(sym, fx, lang)
            risk = t(lang, "rk_removed", noun=noun(sym, lang), name=name, callers=callers)
            rec = (t(lang, "rc_removed_kept", name=name, paths=kept) if kept
                   else t(lang, "rc_removed", name=name))  # fmt: skip
            out.append((Risk(risk=risk, severity=Importance.HIGH if kept else Importance.MEDIUM),
                        rec))  # fmt: skip
        elif sym.action is Action.REMOVED and sym.kind in USER_FACING - {Kind.SCHEMA}:
            risk = t(lang, "rk_iface_removed", noun=noun(sym, lang), name=name, path=sym.path)
            out.append((Risk(risk=risk, severity=Importance.HIGH), None))
        elif sym.action is Action.SIGNATURE and sym.breaking and sym.kind in CODE:
            callers, _ = _callers(sym, fx, lang)
            old, new = sym.old or "?", sym.new or "?"
            if "(" not in f"{old}{new}":  # parameters seen, not the whole signature
                old, new = f"−{sym.old or '∅'}", f"+{sym.new or '∅'}"
            risk = t(lang, "rk_signature", name=name, old=old, new=new, callers=callers)
            out.append((Risk(risk=risk, severity=Importance.MEDIUM),
                        t(lang, "rc_signature", name=name)))  # fmt: skip
        elif sym.action is Action.DEFAULT and sym.interface_change:
            risk = t(lang, "rk_default", name=name, old=sym.old, new=sym.new, path=sym.path)
            out.append((Risk(risk=risk, severity=Importance.MEDIUM),
                        t(lang, "rc_default", name=name, new=sym.new)))  # fmt: skip
    return out


def _dependency_triggers(fx: Facts, lang: Language) -> list[Trigger]:
    deps = [s for s in fx.changes.of(Kind.DEPENDENCY) if s.public]
    out: list[Trigger] = []
    for dep in deps:
        if dep.action is Action.BUMPED and dep.breaking:
            values = {"name": dep.name, "old": dep.old, "new": dep.new, "path": dep.path}
            out.append((Risk(risk=t(lang, "rk_dep_major", **values), severity=Importance.MEDIUM),
                        t(lang, "rc_dep_major", **values)))  # fmt: skip
        elif dep.action is Action.ADDED:
            risk = t(lang, "rk_dep_new", name=dep.name, path=dep.path)
            out.append((Risk(risk=risk, severity=Importance.LOW),
                        t(lang, "rc_dep_new", name=dep.name)))  # fmt: skip
    minor = [d for d in deps if d.action is Action.BUMPED and not d.breaking]
    if minor or (fx.bumped and not deps):
        path = minor[0].path if minor else fx.bumped[0]
        moves = join(lang, [f"{d.name} {d.old} → {d.new}" for d in minor[:3]]) or path
        names = join(lang, [d.name for d in minor[:3]]) or path
        moved = Risk(risk=t(lang, "rk_deps", path=path, names=moves), severity=Importance.LOW)
        out.append((moved, t(lang, "rc_deps", names=names)))
    return out


def risks_and_recommendations(
    commit: Commit, fx: Facts, s: Signals, rule: str, lang: Language
) -> tuple[tuple[Risk, ...], tuple[str, ...]]:
    """Triggers in order of weight; each may raise a risk, suggest a step, or both."""
    main = fx.biggest(*CODE_KINDS) or fx.biggest()
    top = main.path if main else ""
    triggers: list[Trigger] = []
    if fx.info.breaking:
        what = name_of(s.interface) if s.interface else top
        triggers.append((Risk(risk=t(lang, "rk_breaking", what=what), severity=Importance.HIGH),
                         t(lang, "rc_breaking", what=what)))  # fmt: skip
    triggers += _interface_triggers(fx, lang)
    if fx.migrations:
        path = fx.migrations[0]
        triggers.append((Risk(risk=t(lang, "rk_migration", path=path), severity=Importance.HIGH),
                         t(lang, "rc_migration", path=path)))  # fmt: skip
    if fx.security_paths:
        path = fx.security_paths[0]
        triggers.append((Risk(risk=t(lang, "rk_security", path=path), severity=Importance.MEDIUM),
                         t(lang, "rc_security", path=path)))  # fmt: skip
    if s.revert:
        inner = fx.info.reverts or REVERT_WORD_RE.sub("", fx.subject) or fx.subject
        triggers.append((Risk(risk=t(lang, "rk_revert", inner=inner), severity=Importance.MEDIUM),
                         t(lang, "rc_revert", path=top) if top else None))  # fmt: skip
    triggers += _dependency_triggers(fx, lang)
    # Formatting, typo and rename commits change lines, not behaviour: no "untested" risk.
    if fx.code_lines > UNTESTED_LINES and not fx.tests_touched and rule != "low_kw":
        target = next((s2 for s2 in ranked(fx) if s2.kind in CODE and s2.path == top), None)
        where = f"{name_of(target)} ({top})" if target and lang == "en" else (
            f"{top} 中的 {name_of(target)}" if target else top)  # fmt: skip
        risk = t(lang, "rk_untested", lines=fx.code_lines)
        triggers.append((Risk(risk=risk, severity=Importance.MEDIUM),
                         t(lang, "rc_untested", target=where)))  # fmt: skip
    if commit.files_incomplete:
        triggers.append((Risk(risk=t(lang, "rk_incomplete"), severity=Importance.LOW), None))
    if unread := sum(1 for f in commit.files if f.unreadable is not None):
        lost = Risk(risk=t(lang, "rk_unreadable", n=unread), severity=Importance.LOW)
        triggers.append((lost, None))
    ci = fx.biggest(PathKind.CI)
    if ci is not None and ci.path.startswith(".github/workflows/"):
        triggers.append((None, t(lang, "rc_ci", path=ci.path)))
    risks = [r for r, _ in triggers if r is not None]
    risks.sort(key=lambda r: -r.severity.rank)
    recs = list(dict.fromkeys(rec for _, rec in triggers if rec))
    big = commit.additions + commit.deletions >= LARGEST_FIRST_LINES
    if not recs and main is not None and len(commit.files) >= 3 and big:
        recs.append(t(lang, "rc_largest", path=main.path, add=main.additions, dele=main.deletions))
    return tuple(risks[:3]), tuple(recs[:3])


def interface_insight(s: Signals, lang: Language) -> str | None:
    return t(lang, "in_interface", what=phrase(s.interface, lang)) if s.interface else None
