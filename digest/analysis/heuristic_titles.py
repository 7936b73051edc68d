"""What the heuristic reads in a title that declares no type.

Many projects write no conventional prefix ("Fix for x", "service_tier option", "修复登录超时"),
so a title's leading verb and a few telling nouns give candidate change types, best first
(English and Chinese). The caller checks each candidate against the files before taking it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from digest.models import ChangeType


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
    """The title says it adds a CLI option, flag, command or endpoint."""
    return any(rx.search(text) for rx in _CLI_ADDITION_RES)
