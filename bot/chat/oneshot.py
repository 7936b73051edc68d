"""The one-shot commands of `digest`: report, show, ask and db upgrade, each with what it uses.

Apart from bot/cli.py, which parses the command line with the standard library alone, so that
`digest --help` loads none of this (tests/test_lazy_imports.py).
"""

from __future__ import annotations

import argparse
import os
import stat
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.chat.commands import MAX_QUESTION_CHARS
from bot.chat.messages import describe
from bot.ops.progress import ProgressBars
from bot.ops.settings import Settings
from bot.wiring import AnalyzerRun, analyzer_and_store, analyzer_for, context_for, open_source
from digest.errors import AskNeedsLLM, InvalidSha, MissingArgument, QuestionTooLong
from digest.models import Language
from digest.render.markdown import render_commit_markdown, render_markdown
from digest.service import build_digest, explain_commit
from digest.window import parse_window, resolve_tz

Clock = Callable[[], datetime]


def write_output(text: str, output: str | None, stdout: TextIO) -> None:
    """Write to stdout, or atomically to `output` (nothing appears there on failure)."""
    if output is None:
        stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = Path(output)
    fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
    try:
        os.fchmod(fd, _mode_for(target))  # mkstemp makes 0600: be what `>` would have made
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    """An existing file's mode, kept; else 0666 less the umask (0644 by default)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


async def report(args: argparse.Namespace, settings: Settings, now: Clock, err: TextIO) -> str:
    tz_name = args.tz or settings.digest_timezone
    resolve_tz(tz_name)
    window = parse_window(
        tz_name=tz_name, now=now(), day=args.date, since=args.since, until=args.until
    )
    language: Language = args.lang or settings.digest_language
    source = open_source(args.repo, settings)
    try:
        async with analyzer_and_store(args.analyzer, settings, source) as (run, store):
            with ProgressBars(err) as bars:
                digest = await build_digest(
                    source,
                    run.analyzer,
                    window=window,
                    language=language,
                    now=now,
                    branch=args.branch,
                    fold=not args.no_fold,
                    concurrency=settings.digest_llm_concurrency,
                    progress=bars.progress,
                    context=context_for(source, store),
                )
            _tell(run, err)
    finally:
        await source.aclose()
    if args.format == "json":
        return digest.model_dump_json(indent=2)
    if args.format == "html":
        from digest.render.html import render_html  # markdown-it, for this format alone

        return render_html(digest)
    return render_markdown(digest)


async def show(args: argparse.Namespace, settings: Settings, err: TextIO) -> str:
    ref = args.sha.strip()
    if not ref or ref.startswith("-") or any(ch.isspace() for ch in ref):
        raise InvalidSha(args.sha)
    if all(ch in "0123456789abcdefABCDEF" for ch in ref) and not 7 <= len(ref) <= 40:
        raise InvalidSha(args.sha)
    language: Language = args.lang or settings.digest_language
    source = open_source(args.repo, settings)
    try:
        async with analyzer_and_store(args.analyzer, settings, source) as (run, store):
            wanted = ref.lower() if _is_hex(ref) else ref
            entry = await explain_commit(
                source, run.analyzer, wanted, language, context_for(source, store)
            )
            _tell(run, err)
    finally:
        await source.aclose()
    if args.format == "json":
        return entry.model_dump_json(indent=2)
    return render_commit_markdown(entry, language)


async def ask(args: argparse.Namespace, settings: Settings, err: TextIO) -> str:
    question = " ".join(args.question).strip()
    if not question:
        raise MissingArgument("a question")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(len(question), MAX_QUESTION_CHARS)
    ref = args.sha.strip()
    if not ref or ref.startswith("-") or any(ch.isspace() for ch in ref):
        raise InvalidSha(args.sha)
    if not settings.llm_configured:
        raise AskNeedsLLM()
    source = open_source(args.repo, settings)
    try:
        async with analyzer_for("llm", settings) as run:
            assert run.asker is not None  # an LLM run always has one
            commit = await source.commit(ref.lower() if _is_hex(ref) else ref)
            entry = await run.analyzer.analyze(commit, settings.digest_language)
            answer = await run.asker.ask(commit, question, analysis=entry.analysis)
            _tell(run, err)
    finally:
        await source.aclose()
    return f"{commit.repo}@{commit.short_sha} · {commit.title}\n> {question}\n\n{answer.text}"


async def db_upgrade(settings: Settings) -> list[str]:
    """Open the store without migrating, then migrate, to report what was applied."""
    from bot.store.database import Store

    store = await Store.open(settings.digest_database_url, upgrade=False)
    try:
        return await store.upgrade()
    finally:
        await store.close()


def _tell(run: AnalyzerRun, err: TextIO) -> None:
    """Which analyzer and model wrote the output, on stderr (stdout is the report alone)."""
    summary = run.summary()
    if summary is not None:
        err.write(f"digest: analyzer {summary}\n")
    if run.llm is not None and run.llm.disabled is not None:
        err.write(f"digest: warning: {describe(run.llm.disabled, None)}\n")


def _is_hex(text: str) -> bool:
    return all(ch in "0123456789abcdefABCDEF" for ch in text)
