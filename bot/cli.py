"""The `digest` command: report, show, chat, serve and db."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TextIO

from bot.chat.commands import MAX_QUESTION_CHARS
from bot.chat.messages import describe, exit_status
from bot.ops.logs import secrets_of, setup_logging
from bot.ops.progress import ProgressBars
from bot.ops.settings import Settings, SettingsError, load_settings
from bot.store.database import Store
from bot.wiring import AnalyzerRun, analyzer_and_store, analyzer_for, context_for, open_source
from digest.errors import (
    AskNeedsLLM,
    DigestError,
    InvalidSha,
    MissingArgument,
    QuestionTooLong,
    UsageError,
)
from digest.models import Language
from digest.redact import register_secrets
from digest.render.html import render_html
from digest.render.markdown import render_commit_markdown, render_markdown
from digest.service import build_digest, explain_commit
from digest.window import parse_window, resolve_tz

Clock = Callable[[], datetime]

LOG = "[--log-level debug|info|warning|error]"
REPORT_USAGE = (
    "digest report REPO [--date D | --since S [--until U]] [--tz TZ] [--branch B] "
    "[--lang zh|en] [--analyzer auto|heuristic|llm] [--format md|json|html] [--no-fold] "
    f"[-o FILE] {LOG}"
)
SHOW_USAGE = (
    "digest show REPO SHA [--lang zh|en] [--analyzer auto|heuristic|llm] [--format md|json] "
    f"[-o FILE] {LOG}"
)
ASK_USAGE = f"digest ask REPO SHA QUESTION... {LOG}"
CHAT_USAGE = f"digest chat [REPO] [--user NAME] {LOG}"
SERVE_USAGE = f"digest serve {LOG}"
DB_USAGE = f"digest db upgrade {LOG}"


def _version() -> str:
    try:
        return metadata.version("commit-digest")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digest",
        description="Commit Digest: a daily digest of what landed in a git repository.",
    )
    parser.add_argument("--version", action="version", version=f"digest {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    logs = argparse.ArgumentParser(add_help=False)
    logs.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="what is logged on stderr (default: info for serve, else warning)",
    )

    def common(p: argparse.ArgumentParser, formats: tuple[str, ...] = ("md", "json")) -> None:
        p.add_argument("--lang", choices=["zh", "en"], help="report language (DIGEST_LANGUAGE)")
        p.add_argument(
            "--analyzer",
            choices=["auto", "heuristic", "llm"],
            default="auto",
            help="auto = llm when an endpoint is configured, else heuristic",
        )
        p.add_argument("--format", choices=list(formats), default="md")
        p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    report = sub.add_parser(
        "report",
        parents=[logs],
        usage=REPORT_USAGE,
        help="the digest of one day (or range) of a repository",
        description="REPO is a local clone, owner/name or a GitHub URL. Without a date: today.",
    )
    report.add_argument("repo", metavar="REPO")
    report.add_argument("--date", metavar="D", help="a calendar day, YYYY-MM-DD")
    report.add_argument("--since", metavar="S", help="ISO date or date-time (inclusive)")
    report.add_argument("--until", metavar="U", help="ISO date (whole day) or date-time")
    report.add_argument("--tz", metavar="TZ", help="IANA time zone (DIGEST_TIMEZONE)")
    report.add_argument("--branch", metavar="B", help="default: the repository's default branch")
    report.add_argument(
        "--no-fold", action="store_true", help="analyse bot, merge and lockfile-only commits too"
    )
    common(report, formats=("md", "json", "html"))

    show = sub.add_parser(
        "show",
        parents=[logs],
        usage=SHOW_USAGE,
        help="the analysis of one commit",
        description="SHA is 7-40 hex characters, a branch or a tag.",
    )
    show.add_argument("repo", metavar="REPO")
    show.add_argument("sha", metavar="SHA")
    common(show)

    ask = sub.add_parser(
        "ask",
        parents=[logs],
        usage=ASK_USAGE,
        help="ask the LLM a question about one commit, answered from its diff",
        description="SHA is 7-40 hex characters, a branch or a tag; needs an LLM endpoint.",
    )
    ask.add_argument("repo", metavar="REPO")
    ask.add_argument("sha", metavar="SHA")
    ask.add_argument("question", metavar="QUESTION", nargs="+")

    chat = sub.add_parser(
        "chat",
        parents=[logs],
        usage=CHAT_USAGE,
        help="the bot's commands at a local prompt, with the daily schedule",
        description=(
            "Type the bot's commands without /digest (help lists them); digests print here. "
            "REPO, a local clone or owner/name, is followed from the start."
        ),
    )
    chat.add_argument("repo", metavar="REPO", nargs="?", help="follow it at once")
    chat.add_argument("--user", metavar="NAME", help="who is typing (default: your login)")

    sub.add_parser(
        "serve",
        parents=[logs],
        usage=SERVE_USAGE,
        help="run the bot: Slack and Feishu, the web pages and the daily schedule",
        description=(
            "Slack over HTTP or Socket Mode, Feishu over its HTTP callback or the long "
            "connection, as configured; settings come from the environment and .env (see README)."
        ),
    )

    db = sub.add_parser("db", usage="digest db upgrade", help="the database (DIGEST_DATABASE_URL)")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "upgrade",
        parents=[logs],
        usage=DB_USAGE,
        help="apply pending migrations",
        description="Apply the pending migrations to DIGEST_DATABASE_URL (they also run at start).",
    )
    return parser


def _write(text: str, output: str | None, stdout: TextIO) -> None:
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


async def _report(args: argparse.Namespace, settings: Settings, now: Clock, err: TextIO) -> str:
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
        return render_html(digest)
    return render_markdown(digest)


async def _show(args: argparse.Namespace, settings: Settings, err: TextIO) -> str:
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


async def _ask(args: argparse.Namespace, settings: Settings, err: TextIO) -> str:
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


async def _db_upgrade(settings: Settings) -> list[str]:
    """Open the store without migrating, then migrate, to report what was applied."""
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


def main(
    argv: Sequence[str] | None = None,
    *,
    now: Clock | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env_file: str | None = ".env",
) -> int:
    """Run the command; return the exit status (0 ok, 1 upstream failure, 2 usage error)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    clock: Clock = now or (lambda: datetime.now(UTC))
    parser = _parser()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the error (or the help)
        return int(exc.code or 0)
    usage = {
        "report": REPORT_USAGE,
        "show": SHOW_USAGE,
        "chat": CHAT_USAGE,
        "serve": SERVE_USAGE,
        "ask": ASK_USAGE,
    }.get(args.command, DB_USAGE)
    try:
        settings = load_settings(env_file)
    except SettingsError as exc:
        err.write("digest: error: settings are invalid: " + "; ".join(exc.problems) + "\n")
        return 2
    # Once, before anything can log: every record redacted, every configured secret named.
    # The terminal is the interface of every command but serve: only warnings reach it.
    level = args.log_level or ("info" if args.command == "serve" else "warning")
    secrets = secrets_of(settings)
    register_secrets(secrets)  # also out of every prompt sent to an LLM
    with setup_logging(err, secrets=secrets, level=level):
        return _run(args, settings, clock, out, err, usage)


def _run(
    args: argparse.Namespace,
    settings: Settings,
    clock: Clock,
    out: TextIO,
    err: TextIO,
    usage: str,
) -> int:
    try:
        if args.command == "chat":
            from bot.chat.terminal import chat  # the bot's modules load only when the bot runs

            return asyncio.run(
                chat(
                    settings,
                    stdin=sys.stdin,
                    stdout=out,
                    clock=clock,
                    user=args.user,
                    repo=args.repo,
                )
            )
        if args.command == "serve":
            from bot.web.serve import serve  # lark-oapi alone takes seconds to import

            return asyncio.run(serve(settings, clock=clock, out=out))
        if args.command == "db":
            applied = asyncio.run(_db_upgrade(settings))
            out.write(f"database is up to date ({len(applied)} migrations applied now)\n")
            return 0
        if args.command == "ask":
            _write(asyncio.run(_ask(args, settings, err)), None, out)
            return 0
        if args.command == "report":
            text = asyncio.run(_report(args, settings, clock, err))
        else:
            text = asyncio.run(_show(args, settings, err))
        _write(text, args.output, out)
    except DigestError as exc:
        err.write(f"digest: error: {describe(exc, None)}\n")
        if isinstance(exc, UsageError):
            err.write(f"usage: {usage}\n")
        return exit_status(exc)
    except KeyboardInterrupt:
        err.write("digest: interrupted\n")
        return 130
    except OSError as exc:
        target = getattr(args, "output", None) or "the output"
        err.write(f"digest: error: cannot write {target}: {exc.strerror}.\n")
        return 1
    except Exception as exc:  # a bug of ours: one line, and the details only on request
        if os.environ.get("DIGEST_DEBUG"):
            raise
        err.write(
            f"digest: internal error ({type(exc).__name__}); run again with DIGEST_DEBUG=1 "
            "for details, and please report it.\n"
        )
        return 1
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
