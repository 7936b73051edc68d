"""`digest chat`: the bot's commands typed at a local prompt, digests printed to the terminal.

The same Command/Reply path and the same store as Slack and Feishu, so a new user can try
subscribing and the daily schedule without a chat workspace.
"""

from __future__ import annotations

import asyncio
import getpass
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.chat.commands import is_local_path, typed_repo
from bot.chat.execute import execute, handle
from bot.chat.grammar import parse_command
from bot.chat.replies import Context, Reply, ReplyKind, Services
from bot.delivery.parts import Part, PartKind, part_key
from bot.delivery.poster import Post
from bot.delivery.scheduler import DigestScheduler
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Target
from bot.wiring import analyzer_for, github_shared, repo_source
from digest.render.markdown import render_commit_markdown, render_markdown
from digest.sources.base import CommitSource

PROMPT = "digest> "
GREETING = (
    "Commit Digest chat: the bot's commands without the /digest prefix (help, subscribe "
    "owner/repo or ./path, list, now, status, <sha>, ask <sha> <question>); quit or Ctrl-D "
    "to leave."
)


class TerminalPoster:
    """Scheduled digests go to the terminal, as one part; a terminal cannot be searched, so a
    post after a crash between printing and recording is printed again."""

    platform = "terminal"

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def parts(self, post: Post) -> list[Part]:
        lines = [f"\n📰 scheduled digest · {post.digest.repo.full_name} · {post.run_key}"]
        lines += [f"   {note}" for note in post.notes]
        return [
            Part("main-0", PartKind.MAIN, "\n".join(lines) + "\n" + render_markdown(post.digest))
        ]

    async def send(self, target: Target, run_key: str, part: Part, out: Mapping[str, str]) -> str:
        self._write(str(part.body))
        return part_key(run_key, part.name)

    async def find(
        self,
        target: Target,
        run_key: str,
        parts: Sequence[Part],
        out: Mapping[str, str],
        since: datetime | None,
    ) -> dict[str, str]:
        return {}

    async def notify(self, target: Target, key: str, text: str) -> str:
        self._write(f"\n{text}")
        return key

    async def permalink(self, target: Target, message_id: str) -> str | None:
        return None

    def _write(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()


def render_reply(reply: Reply) -> str:
    """A Reply as terminal text: the sentence, then the usage or the analysis or the digests."""
    parts = [reply.text]
    if reply.kind == ReplyKind.ANSWER:
        parts = [f"{reply.title}", f"> {reply.question}", "", reply.text]
    if reply.kind == ReplyKind.ERROR and reply.usage:
        parts.append(reply.usage)
    if reply.analysis is not None:
        parts.append(render_commit_markdown(reply.analysis, reply.analysis.language))
    parts += [render_markdown(digest) for digest in reply.digests]
    return "\n".join(parts).rstrip() + "\n"


async def chat(
    settings: Settings,
    *,
    stdin: TextIO,
    stdout: TextIO,
    clock: Callable[[], datetime],
    user: str | None = None,
    repo: str | None = None,
) -> int:
    """Read commands until EOF or `quit`; run the schedule meanwhile. With `repo` (the CLI's
    REPO: a local clone or owner/name), the session's channel follows it from the start; a
    failure to do so is raised, for the CLI to say in one sentence."""
    user = user or getpass.getuser()
    target = Target(platform="terminal", workspace="local", channel=user)

    shared = github_shared(
        settings, wait_for_reset=True
    )  # one GitHub budget for every digest of the session
    store = await Store.open(settings.digest_database_url)

    def source_for(name: str) -> CommitSource:
        # The user's disk; GitHub's pull requests and issues kept in the store.
        return repo_source(name, settings, local_paths=True, cache=store, shared=shared)

    try:
        async with analyzer_for("auto", settings, store) as run:
            scheduler = DigestScheduler(
                store,
                source_for,
                run.analyzer,
                {"terminal": TerminalPoster(stdout)},
                clock=clock,
                replica=f"chat-{uuid.uuid4().hex[:8]}",
                concurrency=settings.digest_llm_concurrency,
            )

            async def changed() -> None:
                scheduler.notify_changed()

            services = Services(
                settings=settings,
                store=store,
                open_source=source_for,
                analyzer=run.analyzer,
                clock=clock,
                on_change=changed,
                asker=run.asker,
                prefix="",
                local_paths=True,
            )
            ctx = Context(target, user, services)
            first = None
            if repo is not None:  # as if typed: checked by the grammar, then subscribed
                words = f"subscribe {typed_repo(as_typed(repo))}"
                first = await execute(parse_command(words, local_paths=True), ctx)
            await scheduler.start()
            try:
                await _loop(ctx, stdin, stdout, first)
            finally:
                await scheduler.shutdown()
    finally:
        await store.close()
    return 0


def as_typed(repo: str) -> str:
    """The CLI's REPO as the chat grammar takes it: an existing directory is a path (as for
    `digest report`), even when written `name` or `owner/name`."""
    text = repo.strip()
    return f"./{text}" if not is_local_path(text) and Path(text).is_dir() else text


async def _loop(ctx: Context, stdin: TextIO, stdout: TextIO, first: Reply | None) -> None:
    stdout.write(GREETING + "\n")
    if first is not None:
        stdout.write(render_reply(first))
    while True:
        stdout.write(PROMPT)
        stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip().lower() in ("quit", "exit", ":q"):
            stdout.write("\n")
            return
        if not line.strip():
            continue
        reply = await handle(line.strip(), ctx)
        stdout.write(render_reply(reply))
        stdout.flush()
