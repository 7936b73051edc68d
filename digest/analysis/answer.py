"""The model's answer as an Analysis: found wherever the JSON is, repaired only where the schema
allows, never invented.

Models wrap JSON in a ```json fence, put a sentence before or after it, or think first; some
answer "High" where the schema says "high", or list five risks where it allows three. Those are
repaired here (the first items kept, a known synonym mapped, unknown keys dropped); a missing
field is never filled in: the answer goes back to the model for one repair instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from digest.analysis.reasoning import strip_reasoning
from digest.models import Analysis, ChangeType

__all__ = ["brief_error", "find_json_object", "parse_analysis", "within_schema"]

_FENCE_RE = re.compile(r"```[ \t]*(?:json|JSON|json5)?[ \t]*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
_MAX_SCAN = 64  # object starts tried in a long answer before giving up

_FIELDS = frozenset(Analysis.model_fields)
_LIST_LIMITS = {"affected_areas": 6, "risks": 3, "recommendations": 3}
_LEVELS = frozenset({"high", "medium", "low"})
_INSIGHTS = frozenset({"architecture", "performance", "security", "maintainability"})
_TYPE_SYNONYMS = {
    "feat": "feature",
    "features": "feature",
    "fix": "bugfix",
    "bug": "bugfix",
    "bug_fix": "bugfix",
    "performance": "perf",
    "refactoring": "refactor",
    "documentation": "docs",
    "doc": "docs",
    "tests": "test",
    "testing": "test",
    "ci": "ci_build",
    "build": "ci_build",
    "ci/build": "ci_build",
    "dependencies": "deps",
    "dependency": "deps",
    "configuration": "config",
}
_TYPES = frozenset(c.value for c in ChangeType)


def parse_analysis(content: str) -> Analysis:
    """The model's text as an Analysis; ValueError or ValidationError when it is not one."""
    data = find_json_object(content)
    if data is None:
        raise ValueError("the answer holds no JSON object")
    return Analysis.model_validate(within_schema(data))


def find_json_object(content: str) -> dict[str, Any] | None:
    """The answer's JSON object: the whole text once thinking is removed, a fenced block, the
    whole text as received, else the first `{…}` in the text that parses as an object (one with
    the analysis' fields first, so an object nested in a cut answer is not taken for it)."""
    cleaned = strip_reasoning(content).text
    for candidate in _candidates(cleaned, content):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    texts = tuple(dict.fromkeys((cleaned, content)))
    for wanted in (_FIELDS, None):
        for text in texts:
            found = _first_object(text, wanted)
            if found is not None:
                return found
    return None


def _candidates(cleaned: str, raw: str) -> Iterator[str]:
    yield cleaned
    for text in dict.fromkeys((cleaned, raw)):
        for match in _FENCE_RE.finditer(text):
            yield match.group(1).strip()
    yield raw


def _first_object(text: str, wanted: frozenset[str] | None) -> dict[str, Any] | None:
    """The first JSON object in `text` (prose around it ignored) with a key in `wanted`."""
    start = text.find("{")
    tried = 0
    while start >= 0 and tried < _MAX_SCAN:
        tried += 1
        try:
            value, _end = _DECODER.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict) and (wanted is None or wanted & value.keys()):
            return value
        start = text.find("{", start + 1)
    return None


def within_schema(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with what the schema allows repaired: unknown keys dropped, closed values
    normalised (case, known synonyms), lists cut to their limits. Nothing is added."""
    out = {key: value for key, value in data.items() if key in _FIELDS}
    if "change_types" in out:
        out["change_types"] = _change_types(out["change_types"])
    for key in ("importance", "confidence"):
        if isinstance(out.get(key), str):
            out[key] = out[key].strip().lower()
    for key, limit in _LIST_LIMITS.items():
        value = out.get(key)
        if isinstance(value, list):
            out[key] = value[:limit]
    if isinstance(out.get("affected_areas"), list):
        out["affected_areas"] = [
            _only(item, {"path_or_module", "note"}) for item in out["affected_areas"]
        ]
    if isinstance(out.get("risks"), list):
        out["risks"] = [_risk(item) for item in out["risks"]]
    insights = out.get("insights")
    if insights is None and "insights" in out:
        del out["insights"]  # null where an object is expected: the default (all null) stands
    elif isinstance(insights, dict):
        out["insights"] = _only(insights, _INSIGHTS)
    return out


def _change_types(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return value
    normal = []
    for item in value:
        if not isinstance(item, str):
            return value  # not ours to guess: validation names it
        word = item.strip().lower().replace(" ", "_").replace("-", "_")
        normal.append(_TYPE_SYNONYMS.get(word, word))
    known = list(dict.fromkeys(t for t in normal if t in _TYPES))
    return known[:2] if known else normal


def _risk(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    risk = _only(item, {"risk", "severity"})
    severity = risk.get("severity")
    if isinstance(severity, str) and severity.strip().lower() in _LEVELS:
        risk["severity"] = severity.strip().lower()
    return risk


def _only(item: Any, keys: frozenset[str] | set[str]) -> Any:
    return {k: v for k, v in item.items() if k in keys} if isinstance(item, dict) else item


def brief_error(exc: Exception) -> str:
    """What was wrong with an answer, briefly, for the repair prompt."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:6]
        )
    return str(exc)[:300]
