"""The heuristic's words, in zh and en: what it reads in a title and what it writes back.

Reading: many projects write no conventional prefix ("Fix for x", "service_tier option",
"修复登录超时"), so a title's leading verb and a few telling nouns give candidate change types,
best first. The caller checks each candidate against the files before taking it.
Writing: every sentence the heuristic analyzer produces, one (zh, en) pair per key.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from digest.analysis.rules import has_cjk
from digest.models import ChangeType, Commit, Language


class Guess(NamedTuple):
    """A change type a title suggests, and which rule suggested it (the reason and label key)."""

    type: ChangeType
    key: str  # feature, improve, bugfix, perf, refactor, docs, test, deps, revert, cosmetic, ...


def _lead(words: str) -> re.Pattern[str]:
    """The title starts with one of `words` (English: a whole word)."""
    return re.compile(rf"^[\W_]*(?:{words})(?![\w-])", re.IGNORECASE)


def _near_start(words: str) -> re.Pattern[str]:
    """One of `words` among the first three words ("Add docs for x", "Fixed outdated test")."""
    return re.compile(rf"^[\W_]*(?:\S+\s+){{0,2}}?(?:{words})(?![\w-])", re.IGNORECASE)


_F, _B, _P, _R = ChangeType.FEATURE, ChangeType.BUGFIX, ChangeType.PERF, ChangeType.REFACTOR
_D, _TS, _C = ChangeType.DOCS, ChangeType.TEST, ChangeType.CHORE
_TOOLS = r"cog|black|ruff|isort|prettier|pre-commit|mypy|pyright|flake8|pylint|eslint|clippy|gofmt|rustfmt|clang-format|linters?|formatters?"  # noqa: E501
_CLI_NOUNS = r"options?|flags?|commands?|subcommands?|endpoints?"
_API_NOUNS = rf"{_CLI_NOUNS}|settings?|parameters?|params|methods?|hooks?"
# A head noun: the title (or a clause of it) ends there ("-o option when ...", "x command").
_HEAD = r"(?=\s*$|\s*[,(;:]|\s+(?:for|to|in|on|with|that|which|when|and|so)\b)"
_ADD_VERBS = r"add(?:s|ed|ing)?|new|introduc\w*|support(?:s|ed|ing)?|implement\w*|allow(?:s|ed|ing)?|enabl(?:e|es|ed|ing)|expos(?:e|es|ed|ing)"  # noqa: E501

# The leading word decides first; these rules are tried in order, English then Chinese.
_LEADING: tuple[tuple[re.Pattern[str], Guess], ...] = (
    (_lead(r"revert(?:s|ed|ing)?"), Guess(ChangeType.REVERT, "revert")),
    (re.compile(r"^\s*(回滚|回退|撤销|还原)"), Guess(ChangeType.REVERT, "revert")),
    # Typos, comments, formatters and linters: a low chore wherever they are.
    (re.compile(r"\b(typos?|misspell\w*|spelling|grammar|whitespace|(?<!review )comments?"
                r"|docstrings?)\b", re.I), Guess(_C, "cosmetic")),
    (_lead(rf"(?:ran|run|re-?run|apply|applied)\s+(?:\S+\s+)?(?:{_TOOLS})"), Guess(_C, "cosmetic")),
    (_lead(rf"{_TOOLS}|lint(?:ing)?|format(?:ting)?|reformat\w*|style|code style"),
     Guess(_C, "cosmetic")),
    (re.compile(rf"\bfix\w*\s+(?:for\s+|the\s+|some\s+)?(?:{_TOOLS}|lint)\b|\b(?:{_TOOLS}|lint)\s+(?:fix\w*|warnings?|errors?)\b", re.I),  # noqa: E501
     Guess(_C, "cosmetic")),
    (re.compile(r"错别字|拼写|格式化|代码格式|代码风格|注释|排版"), Guess(_C, "cosmetic")),
    (_near_start(r"docs?|documentation|document(?:s|ed|ing)?|readme|changelog|release[- ]notes?"
                 r"|copy[- ]?edit\w*"), Guess(_D, "docs")),
    (re.compile(r"^\s*\S{0,6}(文档|说明|变更日志|更新日志|README)"), Guess(_D, "docs")),
    (_lead(r"releas(?:e|es|ed|ing)|relase|bump(?:s|ed)?\s+(?:the\s+)?version"
           r"|v?\d+\.\d+(?:\.\d+)?\w*(?:\s+release)?\s*$"), Guess(_C, "release")),
    (re.compile(r"^\s*(发布|发版)"), Guess(_C, "release")),
    (_near_start(r"tests?|testing|unit[- ]tests?|test suite"), Guess(_TS, "test")),
    (re.compile(r"^\s*\S{0,6}(测试|单测|用例)"), Guess(_TS, "test")),
    (_lead(r"bump\w*|upgrad\w*|updat\w*|pin(?:s|ned)?|unpin\w*|requir\w*|drop\w*|downgrad\w*"),
     Guess(ChangeType.DEPS, "deps")),
    (re.compile(r"^\s*(升级|降级|更新依赖|依赖)"), Guess(ChangeType.DEPS, "deps")),
    (_lead(r"speed(?:s|ed)?[- ]?up|optimi[sz]\w*|cach(?:e|es|ed|ing)|memoi[sz]\w*|perf"),
     Guess(_P, "perf")),
    (re.compile(r"^\s*(优化|加速|提速|性能|缓存)"), Guess(_P, "perf")),
    (_lead(r"refactor\w*|renam\w*|mov(?:e|es|ed|ing)|simplif\w*|clean(?:s|ed|ing)?[- ]?up|cleanup"
           r"|extract\w*|reorgani[sz]\w*|restructur\w*|split(?:s|ting)?|consolidat\w*|tid(?:y|ied)"
           r"|dedup\w*|decoupl\w*|rework\w*|rewr[io]t\w*|unif(?:y|ied|ies)|replac(?:e|es|ed|ing)"),
     Guess(_R, "refactor")),
    (re.compile(r"^\s*(重构|重命名|移动|简化|清理|提取|整理|拆分|替换)"), Guess(_R, "refactor")),
    (_lead(r"fix(?:e[sd])?|fixing|bug-?fix\w*|hot-?fix\w*|correct(?:s|ed|ing)?|handl(?:e|es|ed|ing)"
           r"|prevent\w*|avoid\w*|resolv(?:e|es|ed|ing)|ensur(?:e|es|ed|ing)|don'?t|do\s+not"
           r"|no\s+longer|stop(?:s|ped)?|never|respect\w*|hono(?:u)?r\w*|preserv\w*|restor\w*"
           r"|guard\w*|catch(?:es)?|repair\w*|work[- ]?around\w*"), Guess(_B, "bugfix")),
    (re.compile(r"^\s*(修复|修正|修改错误|解决|处理|避免|防止|纠正|规避)"), Guess(_B, "bugfix")),
    (_lead(rf"{_ADD_VERBS}|register(?:s|ed|ing)?|provid(?:e|es|ed|ing)|creat(?:e|es|ed|ing)"
           r"|follow(?:s|ed|ing)?(?!\s*-?\s*ups?\b)"), Guess(_F, "feature")),
    (re.compile(r"^\s*(新增|添加|增加|支持|实现|引入|加入|提供|允许|启用|开放|创建)"),
     Guess(_F, "feature")),
    (_lead(r"improv\w*|better|enhanc\w*|extend\w*|expand\w*|upgrad\w*|updat\w*|polish\w*|more"
           r"|show(?:s|n|ed|ing)?|display\w*|render\w*|list(?:s|ed|ing)?|print\w*|includ\w*"),
     Guess(_F, "improve")),
    (re.compile(r"^\s*(改进|完善|增强|改善|提升|升级|更新|调整)"), Guess(_F, "improve")),
    (_lead(r"remov\w*|drop\w*|delet\w*|deprecat\w*|disabl\w*|get\s+rid\s+of"),
     Guess(_C, "remove")),
    (re.compile(r"^\s*(移除|删除|去掉|去除|废弃|禁用)"), Guess(_C, "remove")),
)  # fmt: skip
# Then words anywhere in the title, when no leading word matched (or the files refused it).
_ANYWHERE: tuple[tuple[re.Pattern[str], Guess], ...] = (
    (re.compile(r"\bdependenc(?:y|ies)\b|\bdeps\b|^[\w.\[\]-]+\s*(?:>=|==|~=|<=|<|>)\s*v?\d", re.I),
     Guess(ChangeType.DEPS, "deps")),
    (re.compile(r"\b(?:bugs?|regressions?|crash\w*|broken|incorrect\w*|wrong(?:ly)?|leaks?|hangs?"
                r"|deadlocks?|flaky)\b", re.I), Guess(_B, "bugfix")),
    (re.compile(r"修复|修正|缺陷|故障|崩溃"), Guess(_B, "bugfix")),
    (re.compile(r"\b(?:faster|speed[- ]?up|perf|performance|latency|throughput"
                r"|reduc(?:e|es|ed|ing)\s+(?:\w+\s+)?(?:memory|allocations?|latency|cpu))\b", re.I),
     Guess(_P, "perf")),
    (re.compile(r"性能|提速|加速"), Guess(_P, "perf")),
    # A noun-phrase title: "service_tier option for OpenAI models", "llm prompt --json option".
    (re.compile(rf"^[\W_]*(?:\S+\s+){{0,5}}?(?:{_API_NOUNS}){_HEAD}", re.I), Guess(_F, "feature")),
    (re.compile(r"新增|支持|选项|参数|子命令|命令|接口|配置项|开关"), Guess(_F, "feature")),
    (re.compile(r"\bnow\b", re.I), Guess(_F, "improve")),  # "llm tools now displays ..."
    (re.compile(r"改进|完善|增强|优化"), Guess(_F, "improve")),
)  # fmt: skip
# The title adds something a user types: a CLI option, flag, command or endpoint.
_CLI_ADDITION_RES = (
    re.compile(
        rf"^[\W_]*(?:{_ADD_VERBS})\s+(?:\S+\s+){{0,3}}?(?:{_CLI_NOUNS}|--?[a-z][\w-]*){_HEAD}", re.I
    ),
    re.compile(rf"^[\W_]*(?:\S+\s+){{0,5}}?(?:{_CLI_NOUNS}){_HEAD}", re.I),
    re.compile(r"^\s*(新增|添加|增加|支持|引入|提供).*(选项|参数|子命令|命令|接口)"),
)


def title_guesses(*texts: str) -> tuple[Guess, ...]:
    """Candidate types for titles with no declared type, best first (leading words, then any)."""
    found = [g for text in texts for rx, g in _LEADING if rx.search(text)]
    found += [g for text in texts for rx, g in _ANYWHERE if rx.search(text)]
    return tuple(dict.fromkeys(found))


def names_cli_addition(text: str) -> bool:
    return any(rx.search(text) for rx in _CLI_ADDITION_RES)


# --- what the analyzer writes -----------------------------------------------------------------

# The kind of change, opening the summary (the names the report uses for change types).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "feature": ("新功能", "Feature"), "improve": ("功能改进", "Improvement"),
    "bugfix": ("Bug修复", "Bug fix"), "perf": ("性能优化", "Performance"),
    "refactor": ("重构", "Refactor"), "docs": ("文档", "Docs"), "test": ("测试", "Tests"),
    "ci_build": ("CI/构建", "CI/build"), "deps": ("依赖更新", "Dependency update"),
    "config": ("配置", "Config"), "security": ("安全", "Security"), "revert": ("回滚", "Revert"),
    "chore": ("杂项", "Chore"), "change": ("代码改动", "Change"),
}  # fmt: skip

TEXT: dict[str, tuple[str, str]] = {
    # importance reasons: one sentence naming the rule
    "empty": ("提交不含文件改动。", "The commit changes no files."),
    "breaking": ("提交信息声明了破坏性变更。", "The message declares a breaking change."),
    "security": ("改动涉及安全敏感代码或声明为安全修复。",
                 "It touches security-sensitive code or is declared a security change."),
    "revert": ("该提交回滚了此前的提交。", "It reverts an earlier commit."),
    "large": ("跨 {dirs} 个顶层目录、共 {lines} 行代码的大规模跨模块改动。",
              "A large cross-module change: {lines} code lines across {dirs} top-level dirs."),
    "docs_only": ("仅改动文档。", "Documentation-only change."),
    "test_only": ("仅改动测试。", "Test-only change."),
    "low_kw": ("标题表明是错别字、注释、格式、lint、超时或重命名类改动。",
               "The title marks a typo, comment, formatting, lint, timeout or rename change."),
    "docs_code": ("标题表明是文档改动，但也改动了源码文件，按小型维护改动对待。",
                  "The title says documentation, but source files change too: a small chore."),
    "feature": ("声明为新功能（feat）且改动了产品源码，属于面向用户的新能力。",
                "A declared feature (feat) that changes product source: a new capability."),
    "feature_aux": ("新功能仅涉及工具、示例、基准或构建文件，不在产品源码中。",
                    "The feature touches only tooling, examples, benchmarks or build files."),
    "feature_big": ("标题表明是新功能，且改动了 {src} 行产品源码，属于面向用户的新能力。",
                    "The title reads as a new capability and changes {src} lines of product "
                    "source."),
    "feature_cli": ("标题表明新增了命令行选项、命令或接口，且改动了产品源码。",
                    "The title adds a CLI option, flag, command or endpoint in product source."),
    "feature_small": ("标题表明是新功能，但产品源码改动较小（{src} 行）。",
                      "The title reads as a new capability, but the source change is small "
                      "({src} lines)."),
    "improve": ("标题表明是对已有功能的改进。", "The title reads as an improvement to existing "
                "behaviour."),
    "defect": ("修复标题指出运行时代码中的崩溃、数据丢失或并发类缺陷。",
               "A fix whose title names a crash, data-loss or concurrency defect in runtime code."),
    "bugfix": ("普通缺陷修复，未命中高重要度规则。", "A bug fix that meets no high rule."),
    "ci_build": ("CI 或构建流水线改动。", "A CI or build pipeline change."),
    "deps": ("依赖版本更新。", "A dependency update."),
    "refactor": ("内部重构。", "An internal refactor."),
    "perf": ("性能相关改动。", "A performance change."),
    "config": ("配置改动。", "A configuration change."),
    "chore_big": ("较大的维护性改动，按内部重构对待。",
                  "A large chore, graded as an internal refactor."),
    "chore_tested": ("标题未说明改动类型，但产品源码与测试一同改动，按行为变更对待。",
                     "The title does not say what kind of change this is, but product source "
                     "changes together with its tests: graded as a behaviour change."),
    "change_big": ("标题未说明改动类型，改动了 {src} 行产品源码，按行为变更对待。",
                   "The title does not say what kind of change this is; it changes {src} lines "
                   "of product source, graded as a behaviour change."),
    "change_small": ("标题未说明改动类型，产品源码改动较小（{src} 行）。",
                     "The title does not say what kind of change this is; the product source "
                     "change is small ({src} lines)."),
    "chore": ("小型维护性改动。", "A small maintenance change."),
    # summary: the kind of change, the subject quoted, the counts
    "sum_files": ("{kind}：提交「{subject}」共改动 {n} 个文件（+{add}/−{dele}），"
                  "主要在 {areas}{tests}。",
                  "{kind}: {subject}. {n} files changed (+{add}/−{dele}), "
                  "mainly in {areas}{tests}."),
    "sum_one": ("{kind}：提交「{subject}」改动 1 个文件 {path}（+{add}/−{dele}）。",
                "{kind}: {subject}. 1 file changed: {path} (+{add}/−{dele})."),
    "sum_empty": ("{kind}：提交「{subject}」不含文件改动。",
                  "{kind}: {subject}. The commit changes no files."),
    "sum_tests": ("，并同步新增了测试", "; tests were added alongside the source"),
    "area_note": ("{n} 个文件，+{add}/−{dele}", "{n} files, +{add}/−{dele}"),
    "area_note_one": ("1 个文件，+{add}/−{dele}", "1 file, +{add}/−{dele}"),
    # insights
    "in_migration": ("通过迁移 {path} 改变持久化数据模型。",
                     "Changes the persisted data model through the migration {path}."),
    "in_large": ("跨 {dirs} 个顶层目录（{names}）同时改动，模块边界一起变化。",
                 "Spans {dirs} top-level directories ({names}): module boundaries move together."),
    "in_perf": ("声明为性能改动；本分析未测量实际效果。",
                "Declared as a performance change; this analysis does not measure the effect."),
    "in_perf_title": ("标题表明是性能改动；本分析未测量实际效果。",
                      "The title reads as a performance change; this analysis does not measure "
                      "the effect."),
    "in_sec_paths": ("涉及安全敏感路径：{paths}。", "Touches security-sensitive paths: {paths}."),
    "in_sec_declared": ("提交信息声明为安全相关改动。", "The message declares a security change."),
    "in_generated": ("包含生成或第三方代码（{paths}），应审查其来源而非产物。",
                     "Includes generated or vendored files ({paths}); review their sources."),
    # risks
    "rk_breaking": ("声明为破坏性变更：依赖被改接口的使用方需要同步调整。",
                    "Declared breaking: users of the changed interface must adapt."),
    "rk_migration": ("迁移 {path} 修改存储结构，需确认执行顺序与回滚方案。",
                     "The migration {path} changes stored data; check its order and rollback."),
    "rk_security": ("安全敏感代码 {path} 被修改。", "Security-sensitive code changed in {path}."),
    "rk_revert": ("回滚了「{inner}」，依赖它的代码可能失效。",
                  "Reverts \"{inner}\"; code built on it may break."),
    "rk_untested": ("改动 {lines} 行代码却未改动测试。",
                    "{lines} code lines changed without tests."),
    "rk_deps": ("{path} 中的依赖版本变化，行为可能随之改变。",
                "Dependency versions changed in {path}; behaviour may change with them."),
    "rk_incomplete": ("文件列表不完整，本分析只覆盖已列出的文件。",
                      "The file list is incomplete; this analysis covers only the listed files."),
    # recommendations: each names a file of the commit
    "rc_migration": ("审查迁移 {path} 及其回滚。",
                     "Review the migration in {path} and its rollback."),
    "rc_security": ("请熟悉安全的同事审查 {path} 的改动。",
                    "Have someone who owns security review the changes in {path}."),
    "rc_breaking": ("为 {path} 中的破坏性变更写明升级说明。",
                    "Document the upgrade path for the breaking change in {path}."),
    "rc_revert": ("确认基于被回滚改动的代码仍可工作，从 {path} 查起。",
                  "Check that code built on the reverted change still works, starting at {path}."),
    "rc_untested": ("为 {path} 补充测试。", "Add tests covering {path}."),
    "rc_deps": ("阅读 {path} 中被升级依赖的变更日志。",
                "Read the changelogs of the dependencies bumped in {path}."),
    "rc_ci": ("关注 {path} 接下来几次运行的结果。", "Watch the next runs of {path}."),
    "rc_default": ("从改动最大的文件 {path}（+{add}/−{dele}）开始审查。",
                   "Start the review with {path} (+{add}/−{dele}), the largest change."),
}  # fmt: skip


def t(lang: Language, key: str, **values: Any) -> str:
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**values)


def summary(
    lang: Language, kind: str, subject: str, commit: Commit, areas: list[str], *, tests: bool
) -> str:
    """The kind of change, the subject quoted (「…」 in zh), the counts, and whether tests came
    along with the code (`tests`)."""
    zh, en = KIND_LABELS[kind]
    label = zh if lang == "zh" else en
    if lang == "en" and has_cjk(subject):
        subject = f'"{subject}"'
    add, dele, n = commit.additions, commit.deletions, len(commit.files)
    if not n:
        return t(lang, "sum_empty", kind=label, subject=subject)
    if n == 1:
        path = commit.files[0].path
        return t(lang, "sum_one", kind=label, subject=subject, path=path, add=add, dele=dele)
    return t(
        lang, "sum_files", kind=label, subject=subject, n=n, add=add, dele=dele,
        areas=("、" if lang == "zh" else ", ").join(areas[:3]),
        tests=t(lang, "sum_tests") if tests else "",
    )  # fmt: skip
