"""Secrets out of text: tokens, keys and PEM blocks, before text leaves for a log, a chat or an LLM.

Errs on the side of redacting: a false positive costs a reader one value, a miss leaks a key.
Every quantifier is bounded or stops at a delimiter, so text of any size redacts in linear time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

REDACTED = "[REDACTED]"

# Names that mark an assigned literal as a secret (`password = "..."`, `api_key: ...`).
_KEY_WORDS = (
    r"(?:password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|auth[_-]?token|access[_-]?token|refresh[_-]?token"
    r"|token|credentials?)"
)
_ENV_KEY_WORDS = (
    r"(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)"
)

# Whole-match secrets: the match is replaced.
# Each pattern runs only when one of its literals is in the lower-cased text: a cheap test that
# spares most text most of the regular expressions.
_TOKENS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
        ("private key",),
    ),
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{8,}"), ("xox",)),  # Slack bot/user tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), ("xapp-",)),  # Slack app-level tokens
    (re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{8,}"), ("hooks.slack",)),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), ("github_pat_",)),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), ("glpat-",)),  # GitLab
    (re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}"), ("sk-",)),  # OpenAI, Anthropic
    (re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"), ("_live_", "_test_")),  # Stripe
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), ("npm_",)),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), ("hf_",)),  # Hugging Face
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), ("akia", "asia")),  # AWS access key ids
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), ("aiza",)),  # Google API keys
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), ("eyj",)),  # JWT
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"), ("bearer",)),
    (re.compile(r"(?i)\bBasic\s+[A-Za-z0-9+/]{16,}={0,2}"), ("basic",)),
)
_NAME_HINTS = ("pass", "pwd", "secret", "key", "token", "credential")

# Secrets with a visible name: group "keep" stays, group "value" is replaced.
_URL_CREDENTIALS = re.compile(r"(?i)(?P<keep>https?://)(?P<value>[^/\s:@]+:[^/\s@]+)@")
_AWS_SECRET = re.compile(
    r"(?i)(?P<keep>aws_?secret(?:_?access)?_?key[\"']?\s*[:=]\s*[\"']?)(?P<value>[A-Za-z0-9/+=]{40})"
)
# name = "literal", "name": 'literal', name := "...", name => "..." (quoted literal values).
_QUOTED_ASSIGNMENT = re.compile(
    rf"(?i)(?P<keep>\b[\w.-]{{0,40}}{_KEY_WORDS}[\w.-]{{0,40}}[\"']?[ \t]*"
    rf"(?::=|=>|==|!=|[:=])[ \t]*)(?P<q>[\"'])(?P<value>[^\"'\n]{{3,}})(?P=q)"
)
# SOME_PASSWORD=value (environment files, shell): unquoted values of upper-case names.
_ENV_ASSIGNMENT = re.compile(
    rf"(?P<keep>\b[A-Z][A-Z0-9_]{{0,40}}{_ENV_KEY_WORDS}[A-Z0-9_]{{0,40}}[ \t]*=[ \t]*)"
    r"(?P<value>(?>[^\s\"'$#{}()\[\]<>,;`]{3,}))(?![(\[])"
)
# password: value / password=value on a line of its own (YAML, INI, properties).
_CONFIG_ASSIGNMENT = re.compile(
    rf"(?im)^(?P<keep>[+\- ]?[ \t]*[\w.-]{{0,40}}{_KEY_WORDS}[\w.-]{{0,40}}(?:[ \t]*:[ \t]*|=))"
    r"(?P<value>[^\s\"'#&*!|>{}\[\]$%@`][^\s#]{2,})[ \t]*$"
)
_NAMED: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (_URL_CREDENTIALS, ("://",)),
    (_AWS_SECRET, ("aws",)),
    (_QUOTED_ASSIGNMENT, _NAME_HINTS),
    (_ENV_ASSIGNMENT, _NAME_HINTS),
    (_CONFIG_ASSIGNMENT, _NAME_HINTS),
)

# Values that are code or placeholders, not secrets: `password: str`, `TOKEN = None`.
_NOT_SECRET = frozenset(
    {"str", "bytes", "int", "bool", "float", "none", "null", "nil", "true", "false", "undefined",
     "secretstr", "string", "optional", "any", "object", "dict", "list", "required", "changeme",
     "xxx"}
)  # fmt: skip
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|[A-Z][A-Z0-9_]*")


def _is_placeholder(value: str) -> bool:
    low = value.lower().rstrip(",;")
    return (
        REDACTED in value
        or low in _NOT_SECRET
        or "(" in value
        or low.startswith(("optional[", "str |", "list[", "dict["))
        or _DOTTED_NAME.fullmatch(value.rstrip(",;")) is not None
    )


def _named_replacer(pattern: re.Pattern[str], counter: list[int]) -> Callable[[re.Match[str]], str]:
    """Replace the value, keep the name; placeholders stay and are not counted."""

    def replace(match: re.Match[str]) -> str:
        if pattern is not _URL_CREDENTIALS and _is_placeholder(match.group("value")):
            return match.group(0)
        counter[0] += 1
        quote = match.groupdict().get("q") or ""
        tail = "@" if pattern is _URL_CREDENTIALS else ""
        return f"{match.group('keep')}{quote}{REDACTED}{quote}{tail}"

    return replace


_CONFIGURED: tuple[str, ...] = ()


def register_secrets(values: tuple[str, ...]) -> None:
    """The process's own configured secrets (tokens, keys), redacted everywhere from now on —
    in prompts sent to an LLM as in logs — whatever their shape. Called once at start."""
    global _CONFIGURED
    _CONFIGURED = tuple(sorted({v for v in values if len(v) >= 6}, key=len, reverse=True))


def redact_counted(text: str, extra: tuple[str, ...] = ()) -> tuple[str, int]:
    """`text` with every known secret replaced, and how many secrets were replaced."""
    extra = (*extra, *_CONFIGURED)
    counter = [0]
    low = text.lower()  # redaction only removes literals, so testing the original is safe
    for token, hints in _TOKENS:
        if any(hint in low for hint in hints):
            text, n = token.subn(REDACTED, text)
            counter[0] += n
    for pattern, hints in _NAMED:
        if any(hint in low for hint in hints):
            text = pattern.sub(_named_replacer(pattern, counter), text)
    for secret in extra:
        if len(secret) >= 6 and secret in text:
            counter[0] += text.count(secret)
            text = text.replace(secret, REDACTED)
    return text, counter[0]


def redact(text: str, extra: tuple[str, ...] = ()) -> str:
    """`text` with every known secret shape, and each of `extra` (configured secrets), replaced."""
    return redact_counted(text, extra)[0]
