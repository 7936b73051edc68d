"""`digest serve` replicas as real processes, for the end-to-end tests: started with their own
environment, read as they write (no pipe ever fills), waited on by the lines they log, killed
with SIGKILL like a machine that dies, and restarted under the same name."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

DIGEST = str(Path(sys.executable).parent / "digest")
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Replica:
    """One `digest serve` process (restartable); its output across restarts is kept."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        cwd: Path,
        changed: asyncio.Condition | None = None,
    ) -> None:
        self.name = name
        # Notified at every line any replica sharing it writes (see `logged`).
        self.changed = changed or asyncio.Condition()
        self.env = env
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.out: list[str] = []
        self.err: list[str] = []
        self.starts = 0
        self.kills = 0
        self._ready = asyncio.Event()
        self._pumps: list[asyncio.Task[None]] = []

    @property
    def port(self) -> int:
        return int(self.env["DIGEST_PORT"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    async def start(self) -> Replica:
        self._ready = asyncio.Event()
        self.proc = await asyncio.create_subprocess_exec(
            DIGEST, "serve", "--log-level", "info",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env={**os.environ, **self.env}, cwd=self.cwd,
        )  # fmt: skip
        self.starts += 1
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._pumps = [
            asyncio.create_task(self._pump(self.proc.stdout, self.out, ready=True)),
            asyncio.create_task(self._pump(self.proc.stderr, self.err)),
        ]
        return self

    async def ready(self, within: float = 120.0) -> None:
        """Wait for its "digest serve: ... listening on" line (or its death)."""
        try:
            async with asyncio.timeout(within):
                await self._ready.wait()
        except TimeoutError:
            raise AssertionError(f"{self.name} not ready: {self.stderr[-3000:]}") from None
        if self.proc is not None and self.proc.returncode not in (None, 0):
            raise AssertionError(f"{self.name} exited: {self.stderr[-3000:]}")

    async def kill(self) -> None:
        """SIGKILL: nothing runs after it, no claim is released, no answer is read."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            self.kills += 1
        await self._reap()

    async def stop(self) -> int | None:
        """SIGTERM, then the exit status (a hang fails the test after a minute)."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(60):
                await self._reap()
        except TimeoutError:
            await self.kill()
        return self.proc.returncode

    async def _reap(self) -> None:
        if self.proc is not None:
            await self.proc.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _pump(
        self, stream: asyncio.StreamReader, lines: list[str], *, ready: bool = False
    ) -> None:
        async for raw in stream:
            line = raw.decode(errors="replace")
            lines.append(line)
            if ready and line.startswith("digest serve:"):
                self._ready.set()
            async with self.changed:
                self.changed.notify_all()
        self._ready.set()  # it ended: whoever waits is told (and checks why)


async def logged(
    replicas: list[Replica], predicate: Callable[[str], bool], within: float = 300.0
) -> None:
    """Wait until `predicate` holds of everything the replicas (sharing one condition) logged."""
    changed = replicas[0].changed

    def holds() -> bool:
        return predicate("".join(r.stderr for r in replicas))

    try:
        async with asyncio.timeout(within), changed:
            await changed.wait_for(holds)
    except TimeoutError:
        raise AssertionError(f"not logged within {within} s") from None
