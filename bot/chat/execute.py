"""Command -> Reply: what `/digest ...` does, platform-neutral, and the one place it fails in words.

Scoping rule (DESIGN §5): a channel sees only what it follows. A bare sha is looked up in the
channel's subscriptions only; `owner/repo@sha` also works for a public repository; a private
repository the channel does not follow answers exactly as a missing one does.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from fnmatch import fnmatchcase

from bot.chat.commands import (
    MAX_REPO_CHARS,
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
    is_local_path,
    shown_repo,
    typed_repo,
    usage_for,
    with_prefix,
)
from bot.chat.grammar import parse_command
from bot.chat.local import clone_key, key_of, open_clone
from bot.chat.messages import describe
from bot.chat.replies import Context, Reply, ReplyKind, Services
from bot.chat.status import status_lines
from bot.delivery.status import delivery_status
from bot.ops.settings import Settings
from bot.store.records import Subscription
from digest.errors import (
    AmbiguousSha,
    AskNeedsLLM,
    CommandError,
    CommitNotFound,
    DigestError,
    InvalidRepo,
    NotFollowed,
    RepoNotFound,
    UsageError,
)
from digest.models import AnalyzedCommit, Importance, Language, RepoRef
from digest.service import build_digest, commit_with_context
from digest.sources.base import CommitSource
from digest.window import day_window, resolve_tz


async def handle(text: str, ctx: Context) -> Reply:
    """Parse and execute; every named error becomes one sentence and the usage line."""
    services = ctx.services
    try:
        command = parse_command(
            text, github_hosts=services.github_hosts, local_paths=services.local_paths
        )
    except CommandError as exc:
        if services.on_command is not None:
            services.on_command(ctx.target.platform, None)
        return _error(exc, usage_for(exc.command, services.prefix), services.prefix)
    if ctx.services.on_command is not None:
        ctx.services.on_command(ctx.target.platform, command)
    try:
        return await execute(command, ctx)
    except DigestError as exc:
        # A commit that was not found is answered with the owner/repo@sha form to try next.
        wants_usage = isinstance(exc, UsageError) or isinstance(command, Lookup)
        usage = usage_for(_name(command), services.prefix) if wants_usage else None
        return _error(exc, usage, services.prefix)


async def execute(command: Command, ctx: Context) -> Reply:
    match command:
        case Help(topic=topic):
            return _help(topic, ctx.services)
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


def _error(exc: DigestError, usage: str | None, prefix: str) -> Reply:
    return Reply(ReplyKind.ERROR, describe(exc, prefix), ephemeral=True, usage=usage)


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


_PATHS_NOTE = "A local clone works wherever owner/repo does: give its path (./repo, /src/repo)."


def _help(topic: str | None, services: Services) -> Reply:
    """One command's usage, or every command's (in USAGE's order, `help` last)."""
    note = [_PATHS_NOTE] if services.local_paths else []
    if topic in USAGE:
        takes_repo = topic not in ("help", "list")
        lines = [with_prefix(USAGE[topic], services.prefix), *(note if takes_repo else [])]
        return Reply(ReplyKind.HELP, "\n".join(lines))
    keys = [key for key in USAGE if key != "help"] + ["help"]
    lines = ["Commit Digest: what landed in the repositories this channel follows."]
    lines += [f"• {with_prefix(USAGE[key], services.prefix)}" for key in keys]
    return Reply(ReplyKind.HELP, "\n".join(lines + note))


def _describe_subscription(sub: Subscription) -> str:
    days = "weekdays" if sub.weekdays_only else "daily"
    branch = f" (branch {sub.branch})" if sub.branch else ""
    extras = [f"min {sub.min_importance.value}", f"lang {sub.language}"]
    if sub.paths:
        extras.append("paths " + ",".join(sub.paths))
    if sub.exclude:
        extras.append("exclude " + ",".join(sub.exclude))
    return f"{shown_repo(sub.repo)}{branch}: {days} at {sub.at} {sub.tz} · " + " · ".join(extras)


async def _resolve(repo: str, ctx: Context) -> tuple[RepoRef, CommitSource]:
    if is_local_path(repo):
        return await open_clone(repo, ctx.services.open_source)
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
    key = clone_key(ref) if is_local_path(command.repo) else ref.full_name
    if len(key) > MAX_REPO_CHARS:
        raise InvalidRepo(command.repo, f"a path of more than {MAX_REPO_CHARS} characters")
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
        ctx.target, key, values, defaults=defaults, by=ctx.user
    )
    if ctx.services.on_change is not None:
        await ctx.services.on_change()
    verb = "Subscribed this channel to"
    if not created:
        verb = "Updated the subscription to" if values else "This channel already follows"
    return Reply(ReplyKind.INFO, f"{verb} {_describe_subscription(sub)}.", subscriptions=(sub,))


async def _followed(repo: str, ctx: Context) -> Subscription | None:
    """The channel's subscription to `repo`: GitHub names compare without case, as GitHub's
    do; a local path compares as its clone's stored key."""
    local = is_local_path(repo)
    key = await key_of(repo, ctx.services.open_source) if local else repo.lower()
    for sub in await ctx.services.store.subscriptions_for(ctx.target):
        if (sub.repo if local else sub.repo.lower()) == key:
            return sub
    return None


async def _unsubscribe(repo: str, ctx: Context) -> Reply:
    sub = await _followed(repo, ctx)
    if sub is None or not await ctx.services.store.delete_subscription(ctx.target, sub.repo):
        raise NotFollowed(repo)
    if ctx.services.on_change is not None:
        await ctx.services.on_change()
    return Reply(ReplyKind.INFO, f"This channel no longer follows {shown_repo(sub.repo)}.")


async def _list(ctx: Context) -> Reply:
    subs = tuple(await ctx.services.store.subscriptions_for(ctx.target))
    if not subs:
        return Reply(
            ReplyKind.SUBSCRIPTIONS,
            "This channel follows no repository yet: "
            + with_prefix(USAGE["subscribe"], ctx.services.prefix),
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
            commit = await commit_with_context(source, sha)
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
            commit = await commit_with_context(source, sha)
        except (CommitNotFound, RepoNotFound):
            continue
        except AmbiguousSha:
            found.append((sub, None))
            continue
        finally:
            await source.aclose()
        found.append((sub, await ctx.services.analyzer.analyze(commit, sub.language)))
    if not found:
        names = ", ".join(shown_repo(s.repo) for s in subs)
        raise CommitNotFound(names, sha)
    if len(found) == 1:
        sub, only = found[0]
        if only is not None:
            title = f"{only.commit.repo}@{only.commit.short_sha}"
            return Reply(ReplyKind.ANALYSIS, title, analysis=only)
    prefix = ctx.services.prefix
    options = " or ".join(f"{prefix}{typed_repo(s.repo)}@{sha}" for s, _ in found)
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
        raise NotFollowed(repo)
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
    if repo is not None:
        followed = await _followed(repo, ctx)
        if followed is None:
            raise NotFollowed(repo)
        subs = [followed]
    else:
        subs = list(await ctx.services.store.subscriptions_for(ctx.target))
    if not subs:
        hint = with_prefix(USAGE["subscribe"], ctx.services.prefix)
        return Reply(ReplyKind.STATUS, "This channel follows no repository yet: " + hint)
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
        lines += status_lines(sub, status, link, ctx.services.prefix)
    return Reply(ReplyKind.STATUS, "\n".join(lines), subscriptions=tuple(subs))
