"""Sending a post's parts, the same for every platform: ask the platform what is out when unsure,
send the rest in order, each part once (DESIGN §7).

The decision of what is left is pure (bot/delivery/parts.progress); here is only the I/O around it.
Unsure means: the run was taken over or is tried again after it had begun posting, or a send
failed in a passing way (a timeout may hide a message that did go out). Then the platform is
asked before anything is sent again, so a part never goes out twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.delivery.parts import Part, Progress, progress
from bot.delivery.retry import Backoff, Retrier, is_transient
from bot.store.records import Target

if TYPE_CHECKING:
    from bot.delivery.poster import Post, Poster

log = logging.getLogger(__name__)

Recorder = Callable[[str, str], Awaitable[None]]


async def _nothing(_name: str, _message_id: str) -> None:
    return None


async def deliver(
    poster: Poster,
    target: Target,
    run_key: str,
    parts: Sequence[Part],
    retrier: Retrier,
    *,
    known: Mapping[str, str] | None = None,
    unsure: bool = False,
    since: datetime | None = None,
    recorded: Recorder = _nothing,
    on_event: Callable[[str, int], None] | None = None,
) -> Progress:
    """Get every part of the post out; return what is out (name -> message id).

    `known`: parts recorded as out already (the store). `recorded(name, id)` is told of each
    part found or sent. `retrier` runs every platform call: its `before` (the lease check)
    precedes each send, and passing failures are retried with its backoff.
    """
    what = retrier.what
    out = dict(known or {})
    failed_sends = 0
    while True:
        if unsure:
            found = await retrier.run(
                "looking up the parts out", lambda: poster.find(target, run_key, parts, out, since)
            )
            new = {name: mid for name, mid in found.items() if mid and name not in out}
            for name, mid in new.items():
                log.info("%s: part %s is out already (%s)", what, name, mid)
                out[name] = mid
                await recorded(name, mid)
            if new and on_event is not None:
                on_event("part-found", len(new))
            unsure = False
        state = progress(parts, out)
        if state.done:
            return state
        if state.resumed:
            first = state.todo[0].name
            log.info(
                "%s: resuming at part %s (%d of %d out)", what, first, len(state.out), len(parts)
            )
            if on_event is not None:
                on_event("resumed", 1)
        part = state.todo[0]
        try:
            for part in state.todo:
                if retrier.before is not None:
                    await retrier.before()
                mid = await poster.send(target, run_key, part, out)
                out[part.name] = mid
                failed_sends = 0
                await recorded(part.name, mid)
                if on_event is not None:
                    on_event("part-sent", 1)
        except Exception as exc:
            failed_sends += 1
            if not is_transient(exc) or failed_sends >= retrier.backoff.tries:
                raise
            await retrier.wait(f"sending part {part.name}", exc, failed_sends)
            unsure = True  # it may be out all the same: ask before sending it again
            continue
        return progress(parts, out)


async def deliver_all(poster: Poster, target: Target, post: Post) -> tuple[str, ...]:
    """A post outside any run (`/digest now`): every part, in order; the message ids."""
    parts = poster.parts(post)
    retrier = Retrier(Backoff(tries=3), f"post {post.run_key}")
    state = await deliver(poster, target, post.run_key, parts, retrier)
    return state.message_ids(parts)
