"""One bot replica for the reliability tests, run as its own process.

    python -m tests.replica --db URL --github URL --chat URL --replica NAME --now ISO
        [--subscribe CHANNEL=owner/repo ...] [--lease-seconds N]

With --subscribe it executes `/digest subscribe` commands (as a chat message would); otherwise it
runs the scheduler once at --now (what its cron and catch-up jobs do) and prints the outcomes as
JSON lines. The clock is the only thing injected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from datetime import datetime, timedelta

from bot.chat.execute import handle
from bot.chat.replies import Context, Services
from bot.delivery.scheduler import DigestScheduler
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Target
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.sources.github import GitHubSource
from tests.fakes.chat import ChatPoster

WORKSPACE = "W1"


async def main(args: argparse.Namespace) -> None:
    now = datetime.fromisoformat(args.now)
    store = await Store.open(args.db, clock=lambda: now)
    try:

        def open_source(repo: str) -> GitHubSource:
            return GitHubSource(repo, api_url=args.github, retry_backoff=0.01)

        analyzer = HeuristicAnalyzer()
        if args.subscribe:
            settings = Settings(_env_file=None, digest_time="09:00", digest_timezone="UTC")
            for item in args.subscribe:
                channel, repo = item.split("=", 1)
                ctx = Context(
                    services=Services(
                        settings=settings,
                        store=store,
                        open_source=open_source,
                        analyzer=analyzer,
                        clock=lambda: now,
                    ),
                    target=Target(platform="chat", workspace=WORKSPACE, channel=channel),
                    user=f"U-{args.replica}",
                )
                reply = await handle(f"subscribe {repo}", ctx)
                print(json.dumps({"subscribe": item, "reply": reply.text}), flush=True)
            return
        scheduler = DigestScheduler(
            store,
            open_source,
            analyzer,
            {"chat": ChatPoster(args.chat, os.getpid())},
            clock=lambda: now,
            replica=args.replica,
            lease=timedelta(seconds=args.lease_seconds),
        )
        for outcome in await scheduler.run_once(now):
            print(
                json.dumps(
                    {
                        "subscription": outcome.subscription_id,
                        "period": outcome.period,
                        "outcome": outcome.outcome.value,
                        "messages": list(outcome.message_ids),
                    }
                ),
                flush=True,
            )
    finally:
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--github", required=True)
    parser.add_argument("--chat", default="")
    parser.add_argument("--replica", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--lease-seconds", type=float, default=60)
    parser.add_argument("--subscribe", action="append", default=[])
    asyncio.run(main(parser.parse_args()))
