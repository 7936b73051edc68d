"""Digest values for the chat renderers' tests (Slack blocks, Feishu cards): one sketch-like day,
built the same way for both, so the two renderers are checked against the same input."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from digest.models import (
    AffectedArea,
    Analysis,
    AnalysisStatus,
    AnalyzedCommit,
    ChangeType,
    Commit,
    Coverage,
    Digest,
    FileChange,
    FileStatus,
    FoldedCommit,
    FoldReason,
    Importance,
    Insights,
    Language,
    RepoRef,
    Risk,
    Unreadable,
    Window,
)

REPO = RepoRef(full_name="ai-dynamo/dynamo", web_url="https://github.com/ai-dynamo/dynamo")
START = datetime(2026, 2, 5, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai

BIDI_AND_ZERO_WIDTH = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))] + [
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
]

# --- factories -----------------------------------------------------------------------------


def sha_of(seed: object) -> str:
    return hashlib.sha1(str(seed).encode()).hexdigest()


def make_commit(
    seed: object, message: str = "feat: something (#1)", *, minutes: int = 0, author: str = "Alice"
) -> Commit:
    sha = sha_of(seed)
    at = START + timedelta(minutes=minutes)
    return Commit(
        repo=REPO.full_name,
        sha=sha,
        author_name=author,
        authored_at=at,
        committed_at=at,
        message=message,
        url=REPO.commit_url(sha),
    )


def make_analysis(importance: Importance, **changes: Any) -> Analysis:
    fields: dict[str, Any] = {
        "change_types": (ChangeType.FEATURE,),
        "importance": importance,
        "importance_reason": "a reason",
        "summary": f"Summary of a {importance.value} change.",
    }
    fields.update(changes)
    return Analysis(**fields)


def make_entry(
    seed: object,
    importance: Importance | None = Importance.MEDIUM,
    *,
    message: str | None = None,
    minutes: int = 0,
    author: str = "Alice",
    **analysis: Any,
) -> AnalyzedCommit:
    commit = make_commit(
        seed, message or f"feat: change {seed} (#{seed})", minutes=minutes, author=author
    )
    if importance is None:
        return AnalyzedCommit(
            commit=commit,
            analysis=None,
            analyzer="llm:test",
            status=AnalysisStatus.FAILED,
            error="the model timed out",
        )
    return AnalyzedCommit(
        commit=commit, analysis=make_analysis(importance, **analysis), analyzer="llm:test"
    )


def make_folded(
    seed: object, reason: FoldReason = FoldReason.LOCKFILE, minutes: int = 0
) -> FoldedCommit:
    commit = make_commit(
        seed, f"chore(deps): bump lib{seed}", minutes=minutes, author="dependabot[bot]"
    )
    return FoldedCommit(commit=commit, reason=reason)


def make_digest(
    entries: list[AnalyzedCommit],
    folded: list[FoldedCommit] | None = None,
    *,
    language: Language = "zh",
    repo: RepoRef = REPO,
    days: int = 1,
) -> Digest:
    window = Window(
        start=START,
        end=START + timedelta(days=days),
        tz="Asia/Shanghai",
        day="2026-02-05" if days == 1 else None,
    )
    return Digest(
        repo=repo,
        branch="main",
        window=window,
        language=language,
        generated_at=START + timedelta(days=days),
        entries=tuple(sorted(entries, key=lambda e: e.commit.committed_at, reverse=True)),
        folded=tuple(folded or ()),
    )


def sketch_digest(language: Language = "zh") -> Digest:
    """A day like the DESIGN sketch: highs, mediums, lows, a failure, folded dependency bumps."""
    levels = [Importance.HIGH] * 3 + [Importance.MEDIUM] * 4 + [Importance.LOW] * 3 + [None]
    entries = [make_entry(i, level, minutes=30 * i) for i, level in enumerate(levels)]
    folded = [make_folded(f"dep{i}", minutes=15 + 60 * i) for i in range(4)]
    return make_digest(entries, folded, language=language)


def unreadable_digest(language: Language) -> Digest:
    """One high item whose commit has a file the source could not read (its name needs
    escaping), in a shallow clone's history that stops an hour before the window."""
    entry = make_entry(7, Importance.HIGH)
    files = (
        FileChange(path="src/app.py", status=FileStatus.MODIFIED, additions=3, patch="@@"),
        FileChange(path="src/<b>.py", status=FileStatus.MODIFIED, unreadable=Unreadable.MISSING),
    )
    coverage = Coverage(files_total=2, files_full=1, files_omitted=1, files_unreadable=1)
    entry = entry.model_copy(
        update={"commit": entry.commit.model_copy(update={"files": files}), "coverage": coverage}
    )
    digest = make_digest([entry], language=language)
    return digest.model_copy(update={"shallow_before": START - timedelta(hours=1)})


def hostile_digest(
    text: str,
    *,
    lines: str | None = None,
    repo_name: str = "evil/<!channel>",
    language: Language = "zh",
    security_insight: bool = False,
) -> Digest:
    """A day whose every text field is `text` (commit titles, authors, analyses, errors, the
    analyzer, the repository's name, the overview): a high entry, a fallback, a failure and a
    folded bot commit. `lines` (default `text`) stands in the multi-line fields."""
    many = text if lines is None else lines
    insights = Insights(architecture=many, performance=text)
    if security_insight:
        insights = insights.model_copy(update={"security": text})
    analysis: dict[str, Any] = {
        "importance_reason": text,
        "summary": text + "\n" + many,
        "affected_areas": (AffectedArea(path_or_module=text, note=many),),
        "insights": insights,
        "risks": (Risk(risk=many, severity=Importance.HIGH),),
        "recommendations": (many,),
        "breaking_change": True,
        "security_relevant": True,
    }
    message = f"fix: {text} (#77)\n\nbody {text}"
    high = make_entry("h", Importance.HIGH, message=message, author=text, **analysis)
    fallback = make_entry("f", Importance.MEDIUM, message=message, author=text, **analysis)
    fallback = fallback.model_copy(
        update={"status": AnalysisStatus.FALLBACK, "error": text, "analyzer": text}
    )
    failed = make_entry("x", None, message=message, author=text)
    failed = failed.model_copy(update={"error": text})
    folded = FoldedCommit(
        commit=make_commit("d", f"chore: {text}", author=text), reason=FoldReason.BOT
    )
    repo = RepoRef(full_name=repo_name, web_url=REPO.web_url)
    digest = make_digest([high, fallback, failed], [folded], language=language)
    return digest.model_copy(update={"repo": repo, "overview": many})
