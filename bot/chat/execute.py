"""Command -> Reply: what `/digest ...` does, platform-neutral, and the one place it fails in words.

Scoping rule (DESIGN §5): a channel sees only what it follows. A bare sha is looked up in the
channel's subscriptions only; `owner/repo@sha` also works for a public repository; a private
repository the channel does not follow answers exactly as a missing one does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from fnmatch import fnmatchcase

from bot.chat.commands import (
    USAGE,
    Ask,
    Command,
    Help,
    ListSubscriptions,
    Lookup,
    Now,
    Status,
    Subscribe,
    Unsubscribe,
    usage_for,
)
from bot.chat.grammar import parse_command
from bot.chat.messages import describe
from bot.chat.status import status_lines
from bot.delivery.poster import Poster
from bot.delivery.status import delivery_status
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Subscription, Target
from digest.analysis.ask import Asker
from digest.analysis.base import Analyzer
from digest.errors import (
    AmbiguousSha,
    AskNeedsLLM,
    CommandError,
    CommitNotFound,
    DigestError,
    NotFollowed,
    RepoNotFound,
    UsageError,
)
from digest.models import AnalyzedCommit, Digest, Importance, Language, RepoRef
from digest.service import build_digest
from digest.sources.base import CommitSource
from digest.window import day_window, resolve_tz


class ReplyKind(StrEnum):
    HELP = "help"
    INFO = "info"
    ERROR = "error"
    ANALYSIS = "analysis"
    SUBSCRIPTIONS = "subscriptions"
    DIGESTS = "digests"
    ANSWER = "answer"  # `ask`: `text` is the answer, `question` the question, `title` the commit
    STATUS = "status"  # `status`: where the channel's digests stand


@dataclass(frozen=True)
class Reply:
    """What the platform shows. Errors are for the asker alone (`ephemeral`)."""

    kind: ReplyKind
    text: str
    ephemeral: bool = False
    usage: str | None = None
    analysis: AnalyzedCommit | None = None
    subscriptions: tuple[Subscription, ...] = ()
    digests: tuple[Digest, ...] = ()
    question: str | None = None
    title: str | None = None


@dataclass
class Services:
    """What commands use, the same for every channel of a process: injected by the platform
    layer (`digest serve`, `digest chat`, a test)."""

    settings: Settings
    store: Store
    open_source: Callable[[str], CommitSource]
    analyzer: Analyzer
    clock: Callable[[], datetime]
    on_change: Callable[[], Awaitable[None]] | None = None
    # Told of every command (None for one that did not parse), for the metrics.
    on_command: Callable[[str, Command | None], None] | None = None
    # Answers `ask` questions; None when no LLM endpoint is configured.
    asker: Asker | None = None
    github_hosts: frozenset[str] = field(default_factory=lambda: frozenset({"github.com"}))
    # The platforms' posters, for links to posted digests in `status` (none: no links).
    posters: Mapping[str, Poster] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """One command's context: where it was typed, by whom, and the services it may touch."""

    target: Target
    user: str
    services: Services


async def handle(text: str, ctx: Context) -> Reply:
    """Parse and execute; every named error becomes one sentence and the usage line."""
    try:
        command = parse_command(text, github_hosts=ctx.services.github_hosts)
    except CommandError as exc:
        if ctx.services.on_command is not None:
            ctx.services.on_command(ctx.target.platform, None)
        return _error(exc, exc.usage or usage_for(exc.command))
    if ctx.services.on_command is not None:
        ctx.services.on_command(ctx.target.platform, command)
    try:
        return await execute(command, ctx)
    except DigestError as exc:
        # A commit that was not found is answered with the owner/repo@sha form to try next.
        wants_usage = isinstance(exc, UsageError) or isinstance(command, Lookup)
        usage = usage_for(_name(command)) if wants_usage else None
        return _error(exc, usage)


async def execute(command: Command, ctx: Context) -> Reply:
    match command:
        case Help(topic=topic):
            return _help(topic)
        case Subscribe():
            return await _subscribe(command, ctx)
        case Unsubscribe(repo=repo):
            return await _unsubscribe(repo, ctx)
        case ListSubscriptions():
            return await _list(ctx)
        case Lookup(repo=repo, sha=sha):
            return await _lookup(repo, sha, ctx)
        case Now(repo=repo, day=day):
            return await _now(repo, day, ctx)
        case Ask(repo=repo, sha=sha, question=question):
            return await _ask(repo, sha, question, ctx)
        case Status(repo=repo):
            return await _status(repo, ctx)


def may_subscribe(user: str, repo: RepoRef, settings: Settings) -> bool:
    """Public repositories: anyone. Private ones: admins, or a match of DIGEST_ALLOWED_REPOS."""
    if not repo.private or user in settings.admins:
        return True
    name = repo.full_name.lower()
    return any(fnmatchcase(name, glob.lower()) for glob in settings.allowed_repos)


def _error(exc: DigestError, usage: str | None) -> Reply:
    return Reply(ReplyKind.ERROR, describe(exc), ephemeral=True, usage=usage)


def _name(command: Command) -> str:
    return {
        Help: "help",
        Subscribe: "subscribe",
        Unsubscribe: "unsubscribe",
        ListSubscriptions: "list",
        Lookup: "lookup",
        Now: "now",
        Ask: "ask",
        Status: "status",
    }[type(command)]


def _help(topic: str | None) -> Reply:
    if topic in USAGE:
        return Reply(ReplyKind.HELP, USAGE[topic])
    lines = ["Commit Digest: what landed in the repositories this channel follows."]
    keys = ("lookup", "subscribe", "unsubscribe", "list", "now", "status")
    lines += [f"• {USAGE[key]}" for key in keys]
    return Reply(ReplyKind.HELP, "\n".join(lines))


def _describe_subscription(sub: Subscription) -> str:
    days = "weekdays" if sub.weekdays_only else "daily"
    branch = f" ({sub.branch})" if sub.branch else ""
    extras = [f"min {sub.min_importance.value}", f"lang {sub.language}"]
    if sub.paths:
        extras.append("paths " + ",".join(sub.paths))
    if sub.exclude:
        extras.append("exclude " + ",".join(sub.exclude))
    return f"{sub.repo}{branch}: {days} at {sub.at} {sub.tz} · " + " · ".join(extras)


async def _resolve(repo: str, ctx: Context) -> tuple[RepoRef, CommitSource]:
    source = ctx.services.open_source(repo)
    try:
        return await source.repo(), source
    except BaseException:
        await source.aclose()
        raise


async def _subscribe(command: Subscribe, ctx: Context) -> Reply:
    ref, source = await _resolve(command.repo, ctx)
    try:
        if not may_subscribe(ctx.user, ref, ctx.services.settings):
            # Said as a missing repository would be, so nothing about it leaks to the channel.
            raise RepoNotFound(command.repo)
        if command.options.branch is not None:
            await source.head(command.options.branch)  # BranchNotFound, before anything is saved
    finally:
        await source.aclose()
    values = {k: v for k, v in dataclasses.asdict(command.options).items() if v is not None}
    defaults = {
        "branch": None,
        "at": ctx.services.settings.digest_time,
        "tz": ctx.services.settings.digest_timezone,
        "language": ctx.services.settings.digest_language,
        "min_importance": Importance.HIGH,  # the post details high items; min:medium shows more
        "paths": (),
        "exclude": (),
        "weekdays_only": False,
        "post_empty": False,
    }
    sub, created = await ctx.services.store.upsert_subscription(
        ctx.target, ref.full_name, values, defaults=defaults, by=ctx.user
    )
    if ctx.services.on_change is not None:
        await ctx.services.on_change()
    verb = "Subscribed this channel to" if created else "Updated the subscription to"
    return Reply(ReplyKind.INFO, f"{verb} {_describe_subscription(sub)}.", subscriptions=(sub,))


async def _followed(repo: str, ctx: Context) -> Subscription | None:
    """The channel's subscription to `repo` (names compare without case, as GitHub's do)."""
    for sub in await ctx.services.store.subscriptions_for(ctx.target):
        if sub.repo.lower() == repo.lower():
            return sub
    return None


async def _unsubscribe(repo: str, ctx: Context) -> Reply:
    sub = await _followed(repo, ctx)
    if sub is None or not await ctx.services.store.delete_subscription(ctx.target, sub.repo):
        raise NotFollowed(repo)
    if ctx.services.on_change is not None:
        await ctx.services.on_change()
    return Reply(ReplyKind.INFO, f"This channel no longer follows {sub.repo}.")


async def _list(ctx: Context) -> Reply:
    subs = tuple(await ctx.services.store.subscriptions_for(ctx.target))
    if not subs:
        return Reply(
            ReplyKind.SUBSCRIPTIONS,
            "This channel follows no repository yet: " + USAGE["subscribe"],
        )
    lines = [f"This channel follows {len(subs)} repositor{'y' if len(subs) == 1 else 'ies'}:"]
    lines += [f"• {_describe_subscription(s)}" for s in subs]
    return Reply(ReplyKind.SUBSCRIPTIONS, "\n".join(lines), subscriptions=subs)


def _language(sub: Subscription | None, ctx: Context) -> Language:
    return sub.language if sub is not None else ctx.services.settings.digest_language


async def _lookup(repo: str | None, sha: str, ctx: Context) -> Reply:
    if repo is not None:
        sub = await _followed(repo, ctx)
        ref, source = await _resolve(repo, ctx)
        try:
            if sub is None and ref.private:
                raise RepoNotFound(repo)  # a private repository this channel does not follow
            commit = await source.commit(sha)
        finally:
            await source.aclose()
        entry = await ctx.services.analyzer.analyze(commit, _language(sub, ctx))
        return Reply(ReplyKind.ANALYSIS, f"{ref.full_name}@{commit.short_sha}", analysis=entry)
    subs = await ctx.services.store.subscriptions_for(ctx.target)
    if not subs:
        raise CommitNotFound("this channel's repositories", sha)
    found: list[tuple[Subscription, AnalyzedCommit | None]] = []
    for sub in subs:
        source = ctx.services.open_source(sub.repo)
        try:
            commit = await source.commit(sha)
        except (CommitNotFound, RepoNotFound):
            continue
        except AmbiguousSha:
            found.append((sub, None))
            continue
        finally:
            await source.aclose()
        found.append((sub, await ctx.services.analyzer.analyze(commit, sub.language)))
    if not found:
        names = ", ".join(s.repo for s in subs)
        raise CommitNotFound(names, sha)
    if len(found) == 1:
        sub, only = found[0]
        if only is not None:
            title = f"{sub.repo}@{only.commit.short_sha}"
            return Reply(ReplyKind.ANALYSIS, title, analysis=only)
    options = " or ".join(f"/digest {s.repo}@{sha}" for s, _ in found)
    return Reply(ReplyKind.INFO, f"{sha} matches commits in several repositories: {options}?")


async def _ask(repo: str | None, sha: str, question: str, ctx: Context) -> Reply:
    """The commit is found as for `/digest <sha>` (same scoping, same errors), then asked about."""
    if ctx.services.asker is None:
        raise AskNeedsLLM()
    found = await _lookup(repo, sha, ctx)
    if found.kind != ReplyKind.ANALYSIS or found.analysis is None:
        return found  # several repositories matched: the same question back to the asker
    entry = found.analysis
    answer = await ctx.services.asker.ask(entry.commit, question, analysis=entry.analysis)
    return Reply(ReplyKind.ANSWER, answer.text, question=question, title=found.text)


async def _now(repo: str | None, day: date | None, ctx: Context) -> Reply:
    subs = await ctx.services.store.subscriptions_for(ctx.target)
    if repo is not None:
        sub = await _followed(repo, ctx)
        if sub is None:
            raise NotFollowed(repo)
        subs = [sub]
    if not subs:
        raise NotFollowed(repo or "any repository")
    digests = []
    for sub in subs:
        resolve_tz(sub.tz)
        local_day = day or ctx.services.clock().astimezone(resolve_tz(sub.tz)).date()
        source = ctx.services.open_source(sub.repo)
        try:
            digests.append(
                await build_digest(
                    source,
                    ctx.services.analyzer,
                    window=day_window(local_day, sub.tz),
                    language=sub.language,
                    now=ctx.services.clock,
                    branch=sub.branch,
                    concurrency=ctx.services.settings.digest_llm_concurrency,
                )
            )
        finally:
            await source.aclose()
    names = ", ".join(d.repo.full_name for d in digests)
    return Reply(ReplyKind.DIGESTS, f"Digest of {names}.", digests=tuple(digests))


async def _status(repo: str | None, ctx: Context) -> Reply:
    """Each subscription's last digest (with a link where the platform has one), the next one
    due, and the last failure with what was retried."""
    subs = await ctx.services.store.subscriptions_for(ctx.target)
    if repo is not None:
        subs = [s for s in subs if s.repo.lower() == repo.lower()]
        if not subs:
            raise NotFollowed(repo)
    if not subs:
        return Reply(
            ReplyKind.STATUS, "This channel follows no repository yet: " + USAGE["subscribe"]
        )
    recent = await ctx.services.store.recent_runs([s.id for s in subs])
    now = ctx.services.clock()
    poster = ctx.services.posters.get(ctx.target.platform)
    lines = ["Digests of this channel:"]
    for sub in subs:
        status = delivery_status(sub, recent.get(sub.id, []), now)
        link = None
        posted = status.last_posted
        if poster is not None and posted is not None and posted.message_ids:
            link = await poster.permalink(ctx.target, posted.message_ids[0])
        lines += status_lines(sub, status, link)
    return Reply(ReplyKind.STATUS, "\n".join(lines), subscriptions=tuple(subs))
