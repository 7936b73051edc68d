"""Importance post-rules (DESIGN §4): one table of lifts and caps that every analyzer's answer
goes through, so the heuristic and the LLM grade on one scale, by what a change does.

Each rule reads `Signals` (facts of the commit's diff, its message, its pull request's labels
and the analyzer's own flags), fires or not, and says why in words that name it. Lifts raise
the grade to at least their level; caps lower it to at most theirs. A cap gives way to the
lifts it names (a two-line fix in auth code is still high); otherwise the cap wins (a docs-only
commit marked `!:` stays medium). The grade an analyzer gave stands when no rule moves it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from digest.analysis import rules
from digest.analysis.changes.model import Changes, Kind, Symbol
from digest.analysis.changes.read import read_changes
from digest.analysis.describe import phrase
from digest.analysis.rules import PathKind, has_cjk, is_peripheral_only, parse_message
from digest.models import Analysis, ChangeType, Commit, Importance, Language

TINY_LINES = 10  # changed lines at most: a tiny change (medium at most unless declared breaking)
_SECURITY_TITLE_RE = re.compile(r"\bCVE-\d{4}-\d+|\bvulnerab|\bsecurity (?:fix|issue)", re.I)
_LABEL_PREFIX_RE = re.compile(r"^[^\w]*(?:(?:type|kind|area|topic|category|pr|semver)\s*[:/]\s*)?")
_BREAKING_LABELS = frozenset(
    {"breaking", "breaking change", "breaking-change", "breaking changes", "breaking-changes",
     "major", "semver-major", "api break", "api-break"}
)  # fmt: skip
_SECURITY_LABELS = frozenset({"security", "vulnerability", "cve", "security fix", "security-fix"})
_DOC_LABELS = frozenset({"documentation", "docs", "doc"})
# Interface kinds in the order a reader cares about them (the reason names the first).
INTERFACE_ORDER = (
    Kind.OPTION, Kind.COMMAND, Kind.ROUTE, Kind.SCHEMA, Kind.WIRE, Kind.CONFIG, Kind.ENV,
    Kind.CLASS, Kind.TYPE, Kind.FUNCTION, Kind.METHOD, Kind.CONSTANT, Kind.DEPENDENCY,
)  # fmt: skip


def normalise_label(label: str) -> str:
    """`type: Breaking Change` -> `breaking change`; `kind/security` -> `security`."""
    return _LABEL_PREFIX_RE.sub("", label.strip().lower()).strip()


def _label_in(labels: Iterable[str], names: frozenset[str]) -> str | None:
    return next((label for label in labels if normalise_label(label) in names), None)


@dataclass(frozen=True)
class Signals:
    """What the rules read, computed once per commit."""

    lines: int
    complete: bool  # every file listed and every patch whole
    peripheral_only: bool
    formatting_only: bool
    rename_only: bool
    renames: tuple[tuple[str, str], ...]
    interface: Symbol | None  # the public interface change a reader should hear of first
    major_dependency: Symbol | None
    security_paths: tuple[str, ...]
    security_declared: bool  # a declared type or tag, or CVE / vulnerability in the title
    security_flag: bool  # the analyzer's own judgement
    breaking_marker: bool  # `!:`, a BREAKING CHANGE footer, a [BREAKING] tag
    breaking_flag: bool
    revert: bool
    reverted_high: bool  # the reverted title itself declares breaking or security
    breaking_label: str | None
    security_label: str | None
    documentation_label: str | None  # set only when every label is a documentation label

    @property
    def security(self) -> bool:
        return bool(self.security_paths or self.security_declared or self.security_flag) or bool(
            self.security_label
        )


def signals(
    commit: Commit,
    *,
    changes: Changes | None = None,
    labels: Iterable[str] = (),
    breaking_flag: bool = False,
    security_flag: bool = False,
    revert_flag: bool = False,
) -> Signals:
    changes = changes if changes is not None else read_changes(commit)
    info = parse_message(commit.message)
    labels = tuple(labels)
    interface = sorted(
        changes.interface, key=lambda s: (INTERFACE_ORDER.index(s.kind), s.action != "removed")
    )
    reverted = parse_message(info.reverts) if info.reverts else None
    docs = [label for label in labels if normalise_label(label) in _DOC_LABELS]
    return Signals(
        lines=commit.additions + commit.deletions,
        complete=changes.complete,
        peripheral_only=is_peripheral_only(commit),
        formatting_only=changes.formatting_only,
        rename_only=changes.rename_only,
        renames=changes.renames,
        interface=next((s for s in interface if s.kind is not Kind.DEPENDENCY), None),
        major_dependency=next((s for s in interface if s.kind is Kind.DEPENDENCY), None),
        security_paths=tuple(
            f.path for f in commit.files if rules.classify_file(f) is PathKind.SECURITY
        ),
        security_declared=ChangeType.SECURITY in info.declared
        or bool(_SECURITY_TITLE_RE.search(commit.title)),
        security_flag=security_flag,
        breaking_marker=info.breaking,
        breaking_flag=breaking_flag,
        revert=info.reverts is not None or revert_flag,
        reverted_high=reverted is not None
        and (reverted.breaking or ChangeType.SECURITY in reverted.declared),
        breaking_label=_label_in(labels, _BREAKING_LABELS),
        security_label=_label_in(labels, _SECURITY_LABELS),
        documentation_label=docs[0] if docs and len(docs) == len(labels) else None,
    )


@dataclass(frozen=True)
class Rule:
    key: str
    lift: bool  # True: at least `level`; False: at most `level`
    level: Importance
    fires: Callable[[Signals], bool]
    reason: Callable[[Signals, Language], str]
    yields_to: frozenset[str] = frozenset()  # for caps: the lifts that beat them
    says: str = ""  # the rule in the LLM's rubric (prompt.py lists every rule's words)


def _say(zh: str, en: str) -> Callable[[Signals, Language], str]:
    return lambda s, lang: zh if lang == "zh" else en


def _interface_reason(s: Signals, lang: Language) -> str:
    assert s.interface is not None
    what = phrase(s.interface, lang)
    if lang == "zh":
        return f"公共接口发生变化（{what}），重要程度至少为高。"
    return f"A public interface changed ({what}), so importance is at least high."


def _dependency_reason(s: Signals, lang: Language) -> str:
    assert s.major_dependency is not None
    dep = s.major_dependency
    span = f"{dep.old} → {dep.new}"
    if lang == "zh":
        return f"依赖 {dep.name} 跨主版本升级（{span}），重要程度至少为高。"
    return f"The dependency {dep.name} crosses a major version ({span}), so at least high."


def _label_reason(kind: str) -> Callable[[Signals, Language], str]:
    def reason(s: Signals, lang: Language) -> str:
        label = s.breaking_label if kind == "breaking" else s.security_label
        if lang == "zh":
            return f"拉取请求带有 {label} 标签，重要程度至少为高。"
        return f"The pull request is labelled {label}, so importance is at least high."

    return reason


def _tiny_reason(s: Signals, lang: Language) -> str:
    touched = s.interface or s.major_dependency
    if lang == "zh":
        what = f"（{phrase(touched, lang)}）" if touched else ""
        return f"仅改动 {s.lines} 行的小改动{what}，重要程度至多为中。"
    what = f" ({phrase(touched, lang)})" if touched else ""
    return f"A tiny change of {s.lines} lines{what}, so importance is at most medium."


def _rename_reason(s: Signals, lang: Language) -> str:
    pairs = ", ".join(f"{a} → {b}" for a, b in s.renames[:3])
    if lang == "zh":
        return f"仅为重命名或移动（{pairs}），行为不变，重要程度为低。"
    return f"Only renames or moves ({pairs}); behaviour is unchanged, so importance is low."


_SECURITY_LIFTS = frozenset({"security_label", "security_declared", "security_path", "security"})
_DECLARED_LIFTS = frozenset(
    {"breaking_marker", "breaking_label", "security_label", "security_declared"}
)
_LOW, _MEDIUM, _HIGH = Importance.LOW, Importance.MEDIUM, Importance.HIGH

RULES: tuple[Rule, ...] = (
    # Caps: what the change cannot be, whatever it claims.
    Rule("formatting_only", False, _LOW, lambda s: s.formatting_only and s.complete, _say(
        "仅调整格式或注释（空白、引号、尾随逗号、注释或导入顺序），行为不变，重要程度为低。",
        "Formatting or comments only (whitespace, quotes, commas, comments, import order): low."),
        _DECLARED_LIFTS,
         says="a formatting- or comment-only diff is low"),
    Rule("rename_only", False, _LOW, lambda s: s.rename_only and s.complete, _rename_reason,
         _DECLARED_LIFTS,
         says="a diff that only renames or moves is low"),
    Rule("peripheral_only", False, _MEDIUM, lambda s: s.peripheral_only, _say(
        "仅涉及文档、测试或 CI 的变更，重要程度至多为中。",
        "Docs, test or CI-only change, so importance is at most medium."), _SECURITY_LIFTS,
         says="a docs-, test- or CI-only commit is at most medium unless security-relevant"),
    Rule("documentation_label", False, _MEDIUM, lambda s: s.documentation_label is not None, _say(
        "拉取请求只带有文档标签，重要程度至多为中。",
        "The pull request is labelled documentation only, so at most medium."), _SECURITY_LIFTS,
         says="a pull request labelled only documentation is at most medium unless "
              "security-relevant"),
    Rule("tiny", False, _MEDIUM, lambda s: s.complete and s.lines <= TINY_LINES, _tiny_reason,
         frozenset({"breaking_marker", "breaking_label", "security_label"}),
         says="a change of 10 lines or fewer is at most medium unless declared breaking or "
              "its pull request is labelled security"),
    # Lifts: what makes a change worth a lead's attention, most specific first.
    Rule("breaking_marker", True, _HIGH, lambda s: s.breaking_marker, _say(
        "提交信息声明了破坏性变更，重要程度至少为高。",
        "The message declares a breaking change, so importance is at least high."),
         says="a breaking change declared in the message (`!:`, BREAKING CHANGE) is at least high"),
    Rule("breaking_label", True, _HIGH, lambda s: s.breaking_label is not None,
         _label_reason("breaking"),
         says="a pull request labelled breaking is at least high"),
    Rule("security_label", True, _HIGH, lambda s: s.security_label is not None,
         _label_reason("security"),
         says="a pull request labelled security is at least high"),
    Rule("security_declared", True, _HIGH, lambda s: s.security_declared, _say(
        "提交声明为安全修复或涉及漏洞，重要程度至少为高。",
        "Declared a security fix or names a vulnerability, so at least high."),
         says="a declared security fix or a named vulnerability (CVE) is at least high"),
    Rule("security_path", True, _HIGH, lambda s: bool(s.security_paths), lambda s, lang: (
        f"改动了安全敏感代码 {s.security_paths[0]}，重要程度至少为高。" if lang == "zh" else
        f"It changes security-sensitive code ({s.security_paths[0]}), so at least high."),
         says="a change to security-sensitive code (authentication, cryptography, secrets, "
              "permissions) is at least high"),
    Rule("interface", True, _HIGH, lambda s: s.interface is not None, _interface_reason,
         says="a changed public interface (an exported function or class removed or its "
              "signature broken, a CLI option or command, a config key or its default, an HTTP "
              "route, a database schema or migration, a wire format) is at least high"),
    Rule("major_dependency", True, _HIGH, lambda s: s.major_dependency is not None,
         _dependency_reason,
         says="a dependency moved across a major version is at least high"),
    Rule("revert_of_high", True, _HIGH, lambda s: s.reverted_high, _say(
        "回滚了一个声明为破坏性或安全相关的提交，重要程度至少为高。",
        "It reverts a change declared breaking or security-relevant, so at least high."),
         says="a revert of a change declared breaking or security-relevant is at least high"),
    Rule("breaking", True, _HIGH, lambda s: s.breaking_flag, _say(
        "分析判定为破坏性变更，重要程度至少为高。",
        "Judged a breaking change, so importance is at least high."),
         says="breaking_change = true is at least high"),
    Rule("security", True, _HIGH, lambda s: s.security_flag, _say(
        "分析判定与安全相关，重要程度至少为高。",
        "Judged security-relevant, so importance is at least high."),
         says="security_relevant = true is at least high"),
    Rule("revert", True, _MEDIUM, lambda s: s.revert and not s.peripheral_only, _say(
        "回滚了此前的提交，重要程度至少为中。",
        "It reverts an earlier commit, so importance is at least medium."),
         says="any other revert of code is at least medium"),
)  # fmt: skip
RULE_KEYS = frozenset(r.key for r in RULES)


def decide(importance: Importance, s: Signals) -> tuple[Importance, Rule | None]:
    """The grade after the rules, and the rule that set it (None: the analyzer's stands)."""
    fired = [r for r in RULES if r.fires(s)]
    lifted = {r.key for r in fired if r.lift}
    caps = [r for r in fired if not r.lift and not r.yields_to & lifted]
    lifts = [r for r in fired if r.lift]
    level, rule = importance, None
    if lifts:
        top = max(lifts, key=lambda r: r.level.rank)  # the first of the highest level
        if top.level.rank > level.rank:
            level, rule = top.level, top
    if caps:
        low = min(caps, key=lambda r: r.level.rank)
        if low.level.rank < level.rank:
            level, rule = low.level, low
    return level, rule


def apply_post_rules(
    analysis: Analysis,
    commit: Commit,
    *,
    language: Language | None = None,
    labels: frozenset[str] = frozenset(),
    changes: Changes | None = None,
) -> Analysis:
    """Any analyzer's answer, graded by the table: facts of the commit beat a model's mood.

    `labels` are the commit's pull request labels (default: its context's; `breaking` and
    `security` lift to high, a lone `documentation` caps at medium); `changes` is the diff
    reader's result when the caller has it already. `language` is guessed from the analysis
    text when not given.
    """
    lang = language or ("zh" if has_cjk(analysis.importance_reason + analysis.summary) else "en")
    if not labels and commit.context is not None:  # the pull request's, when it was fetched
        labels = frozenset(commit.context.labels)
    s = signals(
        commit,
        changes=changes,
        labels=labels,
        breaking_flag=analysis.breaking_change,
        security_flag=analysis.security_relevant or ChangeType.SECURITY in analysis.change_types,
    )
    importance, rule = decide(analysis.importance, s)
    return analysis.model_copy(
        update={
            "importance": importance,
            "importance_reason": rule.reason(s, lang) if rule else analysis.importance_reason,
            "breaking_change": analysis.breaking_change
            or s.breaking_marker
            or s.breaking_label is not None,
            "security_relevant": s.security_flag or s.security_label is not None,
        }
    )
