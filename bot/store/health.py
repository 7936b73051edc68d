"""Whether the database answers, as every statement sees it: one warning when it goes away, one
info line when it answers again, with how long it was gone (an operator's first question).

Engine events, so every query of the process counts (a run, the scheduler's tick, a command),
not only those that think to report it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from digest.redact import redact

log = logging.getLogger(__name__)


class DatabaseHealth:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.down_since: float | None = None
        self.outages = 0

    @property
    def up(self) -> bool:
        return self.down_since is None

    def attach(self, engine: AsyncEngine) -> None:
        sa.event.listen(engine.sync_engine, "handle_error", self._failed)
        sa.event.listen(engine.sync_engine, "after_cursor_execute", self._answered)

    def _failed(self, context: Any) -> None:
        """A statement or a connect failed; only a lost or refused connection means "away".
        A statement cancelled by its caller (a run given up, a stop) is not: SQLAlchemy counts
        it as a disconnect and drops that connection, but the database did answer."""
        original = context.original_exception
        if isinstance(original, asyncio.CancelledError):
            return
        gone = bool(context.is_disconnect) or isinstance(original, OSError)
        if not gone or self.down_since is not None:
            return
        self.down_since = self.clock()
        self.outages += 1
        lines = str(original).strip().splitlines()
        detail = f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__
        log.warning("the database cannot be reached (%s)", redact(detail)[:200])

    def _answered(self, *_args: Any) -> None:
        if self.down_since is None:
            return
        gone = self.clock() - self.down_since
        self.down_since = None
        log.info("the database answers again, after %.0f s", gone)
