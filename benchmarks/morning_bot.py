"""The bot's side of benchmarks/morning.py: one replica, wired as `digest serve` wires it.

    python -m benchmarks.morning_bot --now ISO --chat URL [--subscribe FILE]

With --subscribe (a JSON list of [channel, owner/name]) it creates the subscriptions at --now;
otherwise it runs every digest due at --now at once (what the 09:00 cron does) and prints one
JSON line: posts, outcomes, seconds. Settings come from the environment, as for `digest serve`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bot.delivery.scheduler import DigestScheduler
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Target
from bot.wiring import analyzer_for, github_shared, repo_source
from digest.sources.base import CommitSource
from tests.fakes.chat import ChatPoster

DEFAULTS = {
    "at": "09:00",
    "tz": "UTC",
    "language": "en",
    "min_importance": "high",
    "weekdays_only": False,
    "post_empty": False,
}


async def main(args: argparse.Namespace) -> None:
    now = datetime.fromisoformat(args.now)
    wanted = json.loads(Path(args.subscribe).read_text()) if args.subscribe else []  # noqa: ASYNC240
    settings = Settings(_env_file=None)
    store = await Store.open(settings.digest_database_url, clock=lambda: now)
    try:
        if args.subscribe:
            for channel, repo in wanted:
                target = Target(platform="chat", workspace="W1", channel=channel)
                await store.upsert_subscription(target, repo, {}, defaults=DEFAULTS, by="U1")
            return
        shared = github_shared(settings, wait_for_reset=True)

        def open_source(repo: str) -> CommitSource:
            return repo_source(repo, settings, local_paths=False, shared=shared)

        async with analyzer_for("auto", settings, store) as run:
            scheduler = DigestScheduler(
                store,
                open_source,
                run.analyzer,
                {"chat": ChatPoster(args.chat, os.getpid())},
                clock=lambda: now,
                replica="morning",
                concurrency=settings.digest_llm_concurrency,
                max_claims=settings.digest_max_claims,
                lease=timedelta(seconds=settings.digest_lease_seconds),
            )
            started = time.perf_counter()
            outcomes = await scheduler.run_once(now)
            seconds = time.perf_counter() - started
            summary = {
                "seconds": seconds,
                "outcomes": Counter(o.outcome.value for o in outcomes),
                "details_shared": shared.detail_hits,
                "github_paced_seconds": shared.waited,
                "llm": run.summary(),
            }
            print(json.dumps(summary), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--now", required=True)
    parser.add_argument("--chat", default="")
    parser.add_argument("--subscribe", default="")
    asyncio.run(main(parser.parse_args()))
