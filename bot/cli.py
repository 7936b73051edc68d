"""The `digest` command: report, show, chat, serve and db."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

# The standard library alone until a command runs: `digest --help` loads nothing else, and each
# command loads what it uses (tests/test_lazy_imports.py; benchmarks/startup.py).
if TYPE_CHECKING:
    from bot.ops.settings import Settings

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
    from importlib import metadata

    try:
        return metadata.version("commit-digest")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class _Version(argparse.Action):
    """`--version`, looked up only when asked for (package metadata costs a scan of site)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        sys.stdout.write(f"digest {_version()}\n")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digest",
        description="Commit Digest: a daily digest of what landed in a git repository.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
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
    from bot.ops.logs import secrets_of, setup_logging
    from bot.ops.settings import SettingsError, load_settings
    from digest.redact import register_secrets

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
    import asyncio

    from bot.chat import oneshot
    from bot.chat.messages import describe, exit_status
    from digest.errors import DigestError, UsageError

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
            applied = asyncio.run(oneshot.db_upgrade(settings))
            out.write(f"database is up to date ({len(applied)} migrations applied now)\n")
            return 0
        if args.command == "ask":
            oneshot.write_output(asyncio.run(oneshot.ask(args, settings, err)), None, out)
            return 0
        if args.command == "report":
            text = asyncio.run(oneshot.report(args, settings, clock, err))
        else:
            text = asyncio.run(oneshot.show(args, settings, err))
        oneshot.write_output(text, args.output, out)
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
