"""A minimal chat platform for the replica tests: the parts of posts, keyed by run and part,
and looked up by run key.

It stands where Slack or Feishu stand (Slack finds a part by its metadata, Feishu by the message
uuid), so the scheduler's exactly-once path can be driven from several processes. A post is its
main message, one reply per commit and a file. `ChatPoster` is the client side, implementing
bot.delivery.poster.Poster.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.delivery.parts import Part, PartKind
from bot.delivery.poster import Post as DigestPost
from bot.store.records import Target
from tests.waiting import HANG


@dataclass(frozen=True)
class Post:
    """One part as the platform keeps it; `part` is "main-0", "reply-<sha>" or "file"."""

    id: str
    channel: str
    run_key: str
    part: str
    repo: str
    shas: tuple[str, ...]
    pid: int


class FakeChat:
    def __init__(self, answer_delay: float = 0.0) -> None:
        self.posts: list[Post] = []  # every part received, in order
        # The post is kept at once and answered after this: a client killed meanwhile has
        # posted without learning it (the case exactly-once must survive).
        self.answer_delay = answer_delay
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeChat:
        app = web.Application()
        app.router.add_post("/api/post", self._post)
        app.router.add_get("/api/find", self._find)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        post = Post(
            id=f"m-{len(self.posts) + 1}",
            channel=body["channel"],
            run_key=body["run_key"],
            part=body["part"],
            repo=body["repo"],
            shas=tuple(body["shas"]),
            pid=int(body["pid"]),
        )
        self.posts.append(post)
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return web.json_response({"ok": True, "id": post.id})

    async def _find(self, request: web.Request) -> web.Response:
        channel, key = request.query["channel"], request.query["run_key"]
        parts = {p.part: p.id for p in self.posts if p.channel == channel and p.run_key == key}
        return web.json_response({"ok": True, "parts": parts})

    def mains(self) -> list[Post]:
        return [p for p in self.posts if p.part == "main-0"]


class ChatPoster:
    """Posts to FakeChat over HTTP (blocking calls in a thread, as a simple SDK would)."""

    platform = "chat"

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=HANG) as response:
            return json.loads(response.read())

    def parts(self, post: DigestPost) -> list[Part]:
        digest = post.digest
        payload = {"repo": digest.repo.full_name, "shas": [c.sha for c in digest.all_commits()]}
        parts = [Part("main-0", PartKind.MAIN, payload)]
        parts += [Part(f"reply-{sha[:12]}", PartKind.REPLY, payload) for sha in payload["shas"]]
        return [*parts, Part("file", PartKind.FILE, payload)]

    async def send(self, target: Target, run_key: str, part: Part, out: Mapping[str, str]) -> str:
        payload = {
            **part.body,
            "channel": target.channel,
            "run_key": run_key,
            "part": part.name,
            "pid": self.pid,
        }
        answer = await asyncio.to_thread(self._call, "POST", "/api/post", payload)
        return str(answer["id"])

    async def find(
        self,
        target: Target,
        run_key: str,
        parts: Sequence[Part],
        out: Mapping[str, str],
        since: datetime | None,
    ) -> dict[str, str]:
        query = urllib.parse.urlencode({"channel": target.channel, "run_key": run_key})
        answer = await asyncio.to_thread(self._call, "GET", f"/api/find?{query}")
        return {str(k): str(v) for k, v in answer["parts"].items()}

    async def notify(self, target: Target, key: str, text: str) -> str:
        raise AssertionError(f"no digest should give up here: {text}")

    async def permalink(self, target: Target, message_id: str) -> str | None:
        return None
