"""A fake Slack Web API on 127.0.0.1, for the real `slack_sdk` / Bolt clients.

It speaks the wire format: form, query or JSON parameters as slack_sdk sends them, a bearer token,
HTTP 200 with `{"ok": false, "error": ...}` for API errors and 429 + Retry-After for rate limits.
It stores messages per channel (threads, metadata, blocks), reads them back as Slack does
(`conversations.history` newest first and `conversations.replies` oldest first, both paged with
cursors, metadata only with `include_all_metadata`; `chat.getPermalink`), serves the files upload
v2 flow (`files.getUploadURLExternal` -> POST to the upload URL -> `files.completeUploadExternal`)
and `response_url`s, validates what Slack validates cheaply, and records every call. A client
given `api_url_for(tag)` has its calls tagged `via=tag`; `after_call` is awaited after a call was
served and before it is answered, so a test can kill the client that made it right then.

Socket Mode too, when given an app-level token: `apps.connections.open` hands out a single-use
`ws://` URL; the websocket there says `hello`, carries envelopes to the app
(`send_slash_command`, `send_envelope`), records their acks with the time they arrived, answers
pings, and closes cleanly on stop. Socket traffic is recorded in `calls` as "socket" (the upgrade),
"socket.hello", "socket.envelope", "socket.ack", "socket.message", "socket.ping", "socket.pong",
"socket.disconnect" and "socket.closed".

    async with FakeSlack(token="xoxb-test") as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        slack.fail("chat.postMessage", Fault.rate_limit(0))
        ...
        assert slack.top_level("C0GENERAL")[0].metadata == {"event_type": ..., ...}

    async with FakeSlack(token="xoxb-test", app_token="xapp-test") as slack:
        ...  # AsyncSocketModeHandler(app, "xapp-test"), its client's base_url = slack.api_url
        await slack.wait_connected()
        envelope = await slack.wait_ack(await slack.send_slash_command("list"))
        assert envelope.ack is not None  # its latency is recorded, reported, never asserted
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler

from tests.blockkit import block_problems
from tests.waiting import HANG, until

MAX_BLOCKS = 50
MAX_TEXT = 40_000
_JSON_FIELDS = ("blocks", "attachments", "metadata", "files")
_SLASH_DEFAULTS = (
    "token=verification-token&team_id=T0FAKE&team_domain=fake&channel_id=C0GENERAL"
    "&channel_name=general&user_id=U0USER&user_name=alice&command=/digest&api_app_id=A0FAKE"
    "&is_enterprise_install=false&response_url=https://hooks.slack.com/commands/T0FAKE/1/fake"
    "&trigger_id=1.2.fake"
)
Method = Callable[[dict[str, Any]], dict[str, Any]]
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # methods that take an xapp- token


@dataclass(frozen=True)
class Fault:
    """Served before the normal answer: 429 + Retry-After, HTTP 200 `ok: false`, or a 5xx."""

    status: int
    error: str
    retry_after: int | None = None

    @classmethod
    def rate_limit(cls, retry_after: int = 0) -> Fault:
        return cls(429, "ratelimited", retry_after)

    @classmethod
    def api_error(cls, error: str) -> Fault:
        return cls(200, error)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status, "fatal_error")


@dataclass
class Call:
    """One request: `method` is the API method, or "upload" / "response" for those URLs."""

    method: str
    params: dict[str, Any]  # query + form/JSON body, JSON-valued fields decoded, no token
    headers: dict[str, str]  # Authorization's value replaced by "Bearer [redacted]"
    auth_ok: bool
    received_at: float  # time.monotonic()
    status: int = 200
    error: str | None = None  # the `error` served, if any
    via: str | None = None  # the client's tag, when it called through `api_url_for(tag)`


_CALL = web.RequestKey("call", Call)


@dataclass
class Envelope:
    """One Socket Mode envelope sent to the app, and the ack that came back for it."""

    envelope_id: str
    type: str  # "slash_commands", "events_api", "interactive"
    payload: dict[str, Any]
    accepts_response_payload: bool
    connection: str  # the connection id it went out on
    sent_at: float  # time.monotonic(), just before it was written to the socket
    acked_at: float | None = None  # time.monotonic() when the ack arrived
    ack: dict[str, Any] | None = None  # the ack's `payload`; {} for a bare ack

    @property
    def acked(self) -> bool:
        return self.acked_at is not None

    @property
    def latency(self) -> float | None:
        """Seconds from sending the envelope to its ack (Slack gives an app 3 s)."""
        return None if self.acked_at is None else self.acked_at - self.sent_at

    @property
    def response_url_id(self) -> str | None:
        """The id of the response_url it carried, to match `FakeSlack.responses`."""
        url = self.payload.get("response_url")
        return str(url).rsplit("/", 1)[-1] if url else None


@dataclass
class Message:
    """A message as stored; `params` is what the post carried (unfurl_links, mrkdwn ...)."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    thread_ts: str | None = None  # on replies, and on parents once they have replies
    metadata: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    edited_ts: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral(Message):
    user: str = ""  # the one user who sees it


@dataclass
class File:
    id: str
    filename: str
    length: int  # as declared to files.getUploadURLExternal
    content: bytes | None = None  # None until the upload URL received it
    title: str | None = None
    completed: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass
class Response:
    """What arrived at a `response_url` (see FakeSlack.response_url)."""

    url_id: str
    channel: str | None
    body: dict[str, Any]
    text: str | None
    blocks: list[Any] | None
    response_type: str  # "ephemeral" unless the body says "in_channel"
    replace_original: bool
    at: float = field(default_factory=time.monotonic)  # when it arrived


class SlackError(Exception):
    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error, *messages)
        self.error, self.messages = error, list(messages)


class FakeSlack:
    """Start with `async with FakeSlack(...) as slack`; `slack.api_url` is the SDK's base_url."""

    def __init__(
        self,
        *,
        token: str = "xoxb-fake-token",
        team_id: str = "T0FAKE",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0FAKE",
        app_token: str | None = None,  # xapp-...: enables Socket Mode (apps.connections.open)
        channels: Mapping[str, str] | None = None,  # id -> name; default C0GENERAL "general"
        max_block_text: int | None = None,  # msg_blocks_too_long past this many chars of blocks
        clock: Callable[[], float] = time.time,  # for message ts and history's default latest
    ) -> None:
        self.token, self.team_id, self.app_id = token, team_id, app_id
        self.app_token = app_token
        self.bot_user_id, self.bot_id = bot_user_id, bot_id
        self.max_block_text, self.clock = max_block_text, clock
        self.channels: dict[str, dict[str, Any]] = {}
        for cid, name in (channels or {"C0GENERAL": "general"}).items():
            self.add_channel(cid, name)
        self.calls: list[Call] = []
        self.posts: defaultdict[str, list[Message]] = defaultdict(list)
        self.ephemerals: list[Ephemeral] = []
        self.files: list[File] = []
        self.responses: list[Response] = []
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._uploads: dict[str, File] = {}  # upload URL key -> file
        self._response_urls: dict[str, str | None] = {}  # id -> channel
        self._last_us = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._root = ""
        self.envelopes: list[Envelope] = []
        self._tickets: set[str] = set()  # socket URLs handed out and not yet used
        self._sockets: dict[str, web.WebSocketResponse] = {}  # open connections, oldest first
        self._pongs: dict[str, asyncio.Future[bytes]] = {}
        self.sockets_opened = 0
        self._changed: asyncio.Condition | None = None  # notified after every request
        # Awaited after a Web API call was served and before it is answered: what the call did
        # is kept, and a client killed meanwhile never learns it (the crash exactly-once is for).
        self.after_call: Callable[[Call, dict[str, Any]], Awaitable[None]] | None = None

    # ---- control and records -------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self._root}/api/"

    def api_url_for(self, tag: str) -> str:
        """The Web API base for one client: its calls carry `via=tag` (which replica made it)."""
        return f"{self._root}/via/{tag}/api/"

    def add_channel(
        self, channel_id: str, name: str, *, private: bool = False, member: bool = True
    ) -> None:
        """`member=False`: the bot is not in it (posting answers not_in_channel)."""
        flags = {"is_channel": True, "is_private": private, "is_member": member}
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_archived": False, **flags}

    def fail(self, method: str, *faults: Fault) -> None:
        """Queue faults for `method` ("chat.postMessage", ..., "upload", "response")."""
        self._faults[method].extend(faults)

    def response_url(self, channel: str | None = None) -> str:
        """A fresh response_url; in_channel responses to it are also stored in `channel`."""
        url_id = f"{next(self._ids)}{secrets.token_hex(4)}"
        self._response_urls[url_id] = channel
        return f"{self._root}/response/{url_id}"

    def slash_command(self, text: str = "", **fields: str) -> bytes:
        """A slash-command body for this team whose response_url points here."""
        channel = fields.pop("channel_id", next(iter(self.channels), "C0GENERAL"))
        fields.setdefault("response_url", self.response_url(channel))
        return slash_command_body(text, channel_id=channel, team_id=self.team_id, **fields)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def top_level(self, channel: str) -> list[Message]:
        """The channel's messages as its history shows them (no thread replies), oldest first."""
        return [m for m in self.posts[channel] if not m.is_reply]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent, then its replies, oldest first."""
        return [m for m in self.posts[channel] if ts in (m.ts, m.thread_ts)]

    # ---- Socket Mode: control and records ------------------------------------------------

    @property
    def connections(self) -> list[str]:
        """The ids of the open Socket Mode connections, oldest first."""
        return list(self._sockets)

    async def wait_connected(self, count: int = 1, *, within: float = HANG) -> str:
        """Wait until `count` connections are open (each has had its hello); the newest id."""
        what = f"{count} Socket Mode connections (open: {len(self._sockets)})"
        await until(lambda: len(self._sockets) >= count, what=what, within=within)
        return self.connections[-1]

    async def wait_disconnected(self, *, within: float = HANG) -> None:
        what = "every Socket Mode connection closed"
        await until(lambda: not self._sockets, what=what, within=within)

    async def send_slash_command(
        self, text: str = "", *, connection: str | None = None, **fields: str
    ) -> str:
        """Send a `slash_commands` envelope: the fields of the HTTP form (`slash_command`), its
        response_url pointing here. Returns the envelope id (see `wait_ack`)."""
        channel = fields.pop("channel_id", next(iter(self.channels), "C0GENERAL"))
        if channel in self.channels:
            fields.setdefault("channel_name", str(self.channels[channel]["name"]))
        fields.setdefault("api_app_id", self.app_id)
        payload = dict(parse_qsl(_SLASH_DEFAULTS))
        payload.update(team_id=self.team_id, channel_id=channel, text=text)
        payload.update(response_url=self.response_url(channel), **fields)
        return await self.send_envelope(
            "slash_commands", payload, accepts_response_payload=True, connection=connection
        )

    async def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        connection: str | None = None,
    ) -> str:
        """Send any envelope on `connection` (default: the newest open one)."""
        conn_id = connection or (self.connections[-1] if self._sockets else None)
        ws = self._sockets.get(conn_id or "")
        if conn_id is None or ws is None or ws.closed:
            raise RuntimeError(f"no open Socket Mode connection {conn_id or ''}".rstrip())
        message: dict[str, Any] = {"envelope_id": str(uuid.uuid4()), "type": type}
        message.update(accepts_response_payload=accepts_response_payload, payload=payload)
        if type == "events_api":
            message.update(retry_attempt=0, retry_reason="")
        envelope = Envelope(
            message["envelope_id"], type, payload, accepts_response_payload, conn_id, 0.0
        )
        self.envelopes.append(envelope)  # before sending: the ack may come back at once
        self._record_socket("socket.envelope", conn_id, message)
        envelope.sent_at = time.monotonic()
        await ws.send_str(json.dumps(message))
        return envelope.envelope_id

    def envelope(self, envelope_id: str) -> Envelope:
        return next(e for e in self.envelopes if e.envelope_id == envelope_id)

    async def wait_ack(self, envelope_id: str, *, within: float = HANG) -> Envelope:
        """The envelope once its ack arrived; TimeoutError after `within` seconds."""
        envelope = self.envelope(envelope_id)
        what = f"the ack of envelope {envelope_id}"
        await until(lambda: envelope.acked_at is not None, what=what, within=within, every=0.005)
        return envelope

    async def ping_socket(self, connection: str | None = None, *, within: float = HANG) -> float:
        """Ping the app as Slack does; the seconds until its pong."""
        conn_id = connection or self.connections[-1]
        ws, data = self._sockets[conn_id], f"fake-slack:{time.time()}".encode()
        waiter = self._pongs[conn_id] = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        await ws.ping(data)
        try:
            async with asyncio.timeout(within):
                got = await waiter
        finally:
            self._pongs.pop(conn_id, None)
        if got != data:
            raise AssertionError(f"pong carried {got!r}, not {data!r}")
        return time.monotonic() - started

    async def disconnect_socket(
        self, connection: str | None = None, reason: str = "refresh_requested"
    ) -> None:
        """Slack's way to move an app: a `disconnect` message; the app opens a new URL,
        connects there and closes this connection itself (Slack would close it ~10 s later)."""
        conn_id = connection or self.connections[-1]
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        self._record_socket("socket.disconnect", conn_id, message)
        await self._sockets[conn_id].send_str(json.dumps(message))

    # ---- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_route("*", "/via/{via}/api/{method}", self._api)
        app.router.add_post("/upload/v1/{key}", self._upload)
        app.router.add_post("/response/{url_id}", self._response)
        app.router.add_get("/socket/{conn_id}", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._root = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Close every Socket Mode connection (close handshake, 1001), then the server."""
        for ws in list(self._sockets.values()):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- HTTP ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Serve the request, then wake whoever waits for what it changed (`wait_for`)."""
        try:
            return await self._serve(request, handler)
        finally:
            async with self._condition():
                self._condition().notify_all()

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def wait_for(
        self, predicate: Callable[[], bool], *, within: float = HANG, what: str = "it"
    ) -> None:
        """Wait until `predicate()` holds, checked after every request this fake serves;
        TimeoutError after `within` seconds (a ceiling only a real hang reaches)."""
        condition = self._condition()
        try:
            async with asyncio.timeout(within), condition:
                await condition.wait_for(predicate)
        except TimeoutError:
            raise TimeoutError(f"waited {within} s for {what}") from None

    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record the call, then serve a queued fault or the handler's answer."""
        via = request.match_info.get("via")
        kind = request.path.split("/")[3 if via else 1]
        method = request.match_info.get("method", kind)
        params = {} if kind == "upload" else await _params(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else params.pop("token", None)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        if auth:
            headers["Authorization"] = "Bearer [redacted]"
        # the upload, response and socket URLs are credentials in themselves
        app_method = method in APP_TOKEN_METHODS
        wanted = self.app_token if app_method else self.token
        other = self.token if app_method else self.app_token
        auth_ok = kind != "api" or (wanted is not None and token == wanted)
        call = Call(method, params, headers, auth_ok, time.monotonic(), via=via)
        self.calls.append(call)
        request[_CALL] = call
        if self._faults.get(method):
            fault = self._faults[method].popleft()
            retry = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return _answer(call, {"ok": False, "error": fault.error}, fault.status, retry)
        if not auth_ok:
            error = "invalid_auth" if token else "not_authed"
            if token is not None and token == other:  # a bot token for an app method, or back
                error = "not_allowed_token_type"
            return _answer(call, {"ok": False, "error": error})
        return await handler(request)

    async def _api(self, request: web.Request) -> web.Response:
        call = request[_CALL]
        handler: Method | None = getattr(self, "_api_" + call.method.replace(".", "_"), None)
        try:
            if handler is None:
                raise SlackError("unknown_method")
            served = handler(call.params)
            if self.after_call is not None:  # done, not answered yet: a client may die now
                await self.after_call(call, served)
            return _answer(call, {"ok": True, **served})
        except SlackError as e:
            body: dict[str, Any] = {"ok": False, "error": e.error}
            if e.messages:
                body["response_metadata"] = {"messages": e.messages}
            return _answer(call, body)

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: raw bytes (as slack_sdk sends them) or a multipart `file` part."""
        call, upload = request[_CALL], self._uploads.get(request.match_info["key"])
        if request.content_type.startswith("multipart/"):
            part = (await request.post()).get("file")
            data = part.file.read() if isinstance(part, web.FileField) else str(part).encode()
        else:
            data = await request.read()
        call.params = {"bytes": len(data)}
        if upload is None:
            call.status, call.error = 404, "not_found"
            return web.Response(status=404, text="not_found")
        upload.content = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _response(self, request: web.Request) -> web.Response:
        """Checked like a message; in_channel answers also land in the command's channel."""
        call, url_id = request[_CALL], request.match_info["url_id"]
        if url_id not in self._response_urls:
            return _answer(call, {"ok": False, "error": "expired_url"}, 404)
        body, channel = call.params, self._response_urls[url_id]
        kind, replace = str(body.get("response_type") or "ephemeral"), body.get("replace_original")
        try:
            _check_message(body, self.max_block_text, need_content=not body.get("delete_original"))
            if channel is not None and kind == "in_channel":
                self._store(channel, body, self._thread_root(channel, body.get("thread_ts")))
        except SlackError as e:
            return _answer(call, {"ok": False, "error": e.error, "messages": e.messages}, 400)
        text, blocks = body.get("text"), body.get("blocks")
        self.responses.append(Response(url_id, channel, body, text, blocks, kind, bool(replace)))
        return _answer(call, {"ok": True})

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        """A Socket Mode connection: hello, then acks and pings from the app until it closes."""
        call, conn_id = request[_CALL], request.match_info["conn_id"]
        ws = web.WebSocketResponse(autoping=False, timeout=5.0, max_msg_size=0)
        if conn_id not in self._tickets or not ws.can_prepare(request).ok:
            error = "invalid_ticket" if conn_id not in self._tickets else "not_a_websocket"
            call.status, call.error = (404 if error == "invalid_ticket" else 400), error
            return web.Response(status=call.status, text=error)
        self._tickets.discard(conn_id)  # a URL serves one connection
        await ws.prepare(request)
        call.status = 101
        self.sockets_opened += 1
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets) + 1,
            "debug_info": {
                "host": "fake-slack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        self._record_socket("socket.hello", conn_id, hello)
        await ws.send_str(json.dumps(hello))
        self._sockets[conn_id] = ws
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._socket_text(conn_id, msg.data)
                elif msg.type == WSMsgType.PING:
                    self._record_socket("socket.ping", conn_id, {"data": msg.data.decode()})
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    self._record_socket("socket.pong", conn_id, {"data": msg.data.decode()})
                    waiter = self._pongs.get(conn_id)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(msg.data)
                else:  # binary frames: Slack speaks JSON text only
                    self._record_socket("socket.message", conn_id, {}, "invalid_frame")
        finally:
            self._sockets.pop(conn_id, None)
            self._record_socket("socket.closed", conn_id, {"code": ws.close_code})
        return ws

    def _socket_text(self, conn_id: str, data: str) -> None:
        """An ack `{"envelope_id": ..., "payload": {...}}`, checked and matched to its envelope."""
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
            self._record_socket("socket.message", conn_id, {"raw": data}, "invalid_message")
            return
        now, error = time.monotonic(), None
        envelope = next(
            (e for e in self.envelopes if e.envelope_id == message["envelope_id"]), None
        )
        payload = message.get("payload")
        if envelope is None:
            error = "unknown_envelope"
        elif envelope.acked_at is not None:
            error = "duplicate_ack"
        elif payload is not None and not isinstance(payload, dict):
            error = "invalid_payload"
        elif payload and not envelope.accepts_response_payload:
            error = "response_payload_not_accepted"
        elif payload:
            try:
                _check_message(payload, self.max_block_text, need_content=False)
            except SlackError as e:
                error = e.error
        if envelope is not None and envelope.acked_at is None:
            envelope.acked_at, envelope.ack = now, payload if isinstance(payload, dict) else {}
        self._record_socket("socket.ack", conn_id, message, error, at=now)

    def _record_socket(
        self,
        method: str,
        conn_id: str,
        params: dict[str, Any],
        error: str | None = None,
        *,
        at: float | None = None,
    ) -> None:
        call = Call(method, {"connection": conn_id, **params}, {}, True, at or time.monotonic())
        call.status, call.error = (400 if error else 200), error
        self.calls.append(call)

    # ---- methods -------------------------------------------------------------------------

    def _api_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        """A single-use websocket URL (the token was checked: an app-level one)."""
        conn_id = f"{next(self._ids)}{secrets.token_hex(6)}"
        self._tickets.add(conn_id)
        return {"url": f"ws{self._root.removeprefix('http')}/socket/{conn_id}"}

    def _api_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = {"team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id}
        return {"url": "https://fake.slack.com/", "team": "Fake", "user": "digest", **ids}

    def _api_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(p.get("channel"), post=True)
        thread_ts = self._thread_root(channel, p.get("thread_ts"))
        _check_message(p, self.max_block_text)
        message = self._store(channel, p, thread_ts)
        return {"channel": channel, "ts": message.ts, "message": self._json(message, True)}

    def _api_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(p.get("channel"), post=True)
        if not p.get("user"):
            raise SlackError("user_not_in_channel")
        _check_message(p, self.max_block_text)
        text, blocks, ts = str(p.get("text") or ""), p.get("blocks"), self._next_ts()
        ephemeral = Ephemeral(channel, ts, text, blocks, thread_ts=p.get("thread_ts"))
        ephemeral.params, ephemeral.user = dict(p), str(p["user"])
        self.ephemerals.append(ephemeral)
        return {"message_ts": ts}

    def _api_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(p.get("channel"))
        message = next((m for m in self.posts[channel] if m.ts == p.get("ts")), None)
        if message is None:
            raise SlackError("message_not_found")
        _check_message(p, self.max_block_text)
        message.text = str(p.get("text") or "")
        for name in ("blocks", "attachments", "metadata"):
            if name in p:
                setattr(message, name, p[name])
        message.edited_ts, out = self._next_ts(), self._json(message, True)
        return {"channel": channel, "ts": message.ts, "text": message.text, "message": out}

    def _api_conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self.channels[self._channel(p.get("channel"))]}

    def _api_conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        """Newest first, no thread replies; `metadata` only with include_all_metadata."""
        channel, meta = self._channel(p.get("channel")), _flag(p.get("include_all_metadata"))
        edge = 0 if _flag(p.get("inclusive")) else 1
        low, high = _us(p.get("oldest", 0)) + edge, _us(p.get("latest", self.clock() + 1)) - edge
        if p.get("cursor"):  # base64 "next_ts:<ts>": the newest message of the next page
            high = _us(base64.b64decode(p["cursor"]).decode().split(":")[1])
        found = [m for m in reversed(self.top_level(channel)) if low <= _us(m.ts) <= high]
        limit = max(1, min(int(p.get("limit") or 100), 999))
        page = [self._json(m, meta) for m in found[:limit]]
        out: dict[str, Any] = {"messages": page, "has_more": len(found) > limit, "pin_count": 0}
        if len(found) > limit:
            cursor = base64.b64encode(f"next_ts:{found[limit].ts}".encode()).decode()
            out["response_metadata"] = {"next_cursor": cursor}
        return out

    def _api_conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        """The parent, then its replies, oldest first, `limit` a page (Slack's default and
        most: 1000) with a cursor to the next; `metadata` only with include_all_metadata."""
        channel, meta = self._channel(p.get("channel")), _flag(p.get("include_all_metadata"))
        root = self._thread_root(channel, p.get("ts") or "?")
        thread = self.thread(channel, root or "")
        start = 0
        if p.get("cursor"):  # base64 "next_ts:<ts>": the first message of the next page
            first = base64.b64decode(p["cursor"]).decode().split(":")[1]
            start = next((i for i, m in enumerate(thread) if m.ts == first), len(thread))
        limit = max(1, min(int(p.get("limit") or 1000), 1000))
        page = thread[start : start + limit]
        out: dict[str, Any] = {
            "messages": [self._json(m, meta) for m in page],
            "has_more": start + limit < len(thread),
        }
        if start + limit < len(thread):
            cursor = base64.b64encode(f"next_ts:{thread[start + limit].ts}".encode()).decode()
            out["response_metadata"] = {"next_cursor": cursor}
        return out

    def _api_chat_getPermalink(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(p.get("channel"))
        ts = str(p.get("message_ts") or "")
        if not any(m.ts == ts for m in self.posts[channel]):
            raise SlackError("message_not_found")
        link = f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"channel": channel, "permalink": link}

    def _api_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("filename") or not str(p.get("length", "")).isdigit():
            raise SlackError("invalid_arguments", "[ERROR] filename and length are required")
        upload = File(f"F{next(self._ids):08d}", str(p["filename"]), int(p["length"]))
        key = secrets.token_urlsafe(12)
        self._uploads[key] = upload
        self.files.append(upload)
        return {"upload_url": f"{self._root}/upload/v1/{key}", "file_id": upload.id}

    def _api_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        """Completes the uploads and shares them in one message (in the thread, if given)."""
        items, uploaded = p.get("files"), {f.id: f for f in self.files if f.content is not None}
        if not isinstance(items, list) or not items:
            raise SlackError("invalid_arguments", "[ERROR] files must be a non-empty JSON array")
        if any(not isinstance(item, dict) or item.get("id") not in uploaded for item in items):
            raise SlackError("file_not_found")
        channel = self._channel(p["channel_id"], post=True) if p.get("channel_id") else None
        thread_ts = self._thread_root(channel, p.get("thread_ts")) if channel else None
        files = [uploaded[item["id"]] for item in items]
        for f, item in zip(files, items, strict=True):
            f.title, f.completed = item.get("title") or f.filename, True
            f.channel, f.thread_ts, f.initial_comment = channel, thread_ts, p.get("initial_comment")
        if channel is not None:
            share = {"text": p.get("initial_comment"), "files": [_file_json(f) for f in files]}
            self._store(channel, share, thread_ts)
        return {"files": [_file_json(f) for f in files]}

    def _api_files_upload(self, p: dict[str, Any]) -> dict[str, Any]:
        raise SlackError("method_deprecated")  # files.upload is sunset: files upload v2 instead

    # ---- helpers -------------------------------------------------------------------------

    def _channel(self, given: Any, *, post: bool = False) -> str:
        """A channel id for an id or a (#)name, as chat.postMessage accepts both."""
        name = str(given or "").lstrip("#")
        found = self.channels.get(name)
        found = found or next((c for c in self.channels.values() if c["name"] == name), None)
        if found is None:
            raise SlackError("channel_not_found")
        if post and not found["is_member"]:
            raise SlackError("not_in_channel")
        return str(found["id"])

    def _thread_root(self, channel: str, ts: Any) -> str | None:
        """The parent's ts for the ts of a message in `channel` (a reply answers its parent)."""
        if ts is None or ts == "":
            return None
        message = next((m for m in self.posts[channel] if m.ts == str(ts)), None)
        if message is None:
            raise SlackError("thread_not_found")
        return message.thread_ts or message.ts

    def _next_ts(self) -> str:
        """Unique and increasing: the clock's microseconds, bumped when they repeat."""
        self._last_us = max(int(self.clock() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def _store(self, channel: str, p: Mapping[str, Any], thread_ts: str | None) -> Message:
        text, blocks, attachments = str(p.get("text") or ""), p.get("blocks"), p.get("attachments")
        message = Message(channel, self._next_ts(), text, blocks, attachments, thread_ts)
        message.metadata = p.get("metadata")
        message.files, message.params = list(p.get("files") or []), dict(p)
        for parent in self.posts[channel]:
            if parent.ts == thread_ts:
                parent.thread_ts = thread_ts
        self.posts[channel].append(message)
        return message

    def _json(self, m: Message, metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id}
        out.update(app_id=self.app_id, team=self.team_id, text=m.text, ts=m.ts)
        out.update({k: v for k in ("blocks", "attachments", "thread_ts") if (v := getattr(m, k))})
        if m.files:
            out.update(files=m.files, upload=True, display_as_bot=False)
        if metadata and m.metadata is not None:
            out["metadata"] = m.metadata
        if m.edited_ts is not None:
            out["edited"] = {"user": self.bot_user_id, "ts": m.edited_ts}
        if m.is_reply:
            out["parent_user_id"] = self.bot_user_id
        elif m.thread_ts is not None:
            replies = [r for r in self.thread(m.channel, m.ts) if r.is_reply]
            out.update(reply_count=len(replies), reply_users=[self.bot_user_id])
            out["latest_reply"] = replies[-1].ts if replies else m.ts
        return out


# ---- validation --------------------------------------------------------------------------


def _check_message(p: Mapping[str, Any], max_text: int | None, need_content: bool = True) -> None:
    """Slack's cheap checks, in its order; raises SlackError with its error name."""
    text, blocks, attachments = p.get("text"), p.get("blocks"), p.get("attachments")
    if blocks is not None and not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format", "[ERROR] blocks must be a JSON array")
    if attachments is not None and not isinstance(attachments, list):
        raise SlackError("invalid_attachments")
    groups = [("/blocks", blocks)] if blocks is not None else []
    for i, attachment in enumerate(attachments or []):
        if isinstance(attachment, dict) and "blocks" in attachment:
            groups.append((f"/attachments/{i}/blocks", attachment["blocks"]))
    problems = [msg for where, bs in groups for msg in _block_problems(bs, where)]
    if problems:
        raise SlackError("invalid_blocks", *problems)
    if sum(1 for _, bs in groups for b in bs if b["type"] == "table") > 1:
        raise SlackError("only_one_table_allowed")
    if max_text is not None and sum(_text_len(bs) for _, bs in groups) > max_text:
        raise SlackError("msg_blocks_too_long")
    if p.get("markdown_text") and (text or blocks):
        raise SlackError("markdown_text_conflict")
    if need_content and not (text or blocks or attachments or p.get("markdown_text")):
        raise SlackError("no_text")
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    meta = p.get("metadata")
    shaped = isinstance(meta, dict) and isinstance(meta.get("event_type"), str)
    if meta is not None and not (shaped and isinstance(meta.get("event_payload"), dict)):
        raise SlackError("invalid_metadata_format")


def _block_problems(blocks: Any, where: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{where}]"]
    problems, ids = [], set()
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:{where}]")
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"[ERROR] missing required field: type [json-pointer:{where}/{i}]")
            continue
        bid = block.get("block_id")
        if bid is not None and (bid in ids or len(str(bid)) > 255):
            problems.append(f"[ERROR] duplicate or long block_id [json-pointer:{where}/{i}]")
        ids.add(bid)
        own = [f"[ERROR] {m} [json-pointer:{where}/{i}{at}]" for at, m in _check(block)]
        # Past Slack's cheap checks: slack_sdk's own Block Kit models (tests/blockkit.py).
        sdk = [f"[ERROR] {m} [json-pointer:{where}/{i}]" for m in block_problems(block)]
        problems += own or sdk
    return problems


def _check(block: dict[str, Any]) -> list[tuple[str, str]]:
    kind, out = block["type"], []
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            out.append(("", "must provide either text or fields"))
        out += _text_problems(text, "/text", 3000) if text is not None else []
        for j, f in enumerate(fields or []):
            out += _text_problems(f, f"/fields/{j}", 2000)
        if fields is not None and len(fields) > 10:
            out.append(("/fields", "no more than 10 items allowed"))
    elif kind == "header":
        out += _text_problems(block.get("text"), "/text", 150, plain=True)
    elif kind == "context" and not 1 <= len(block.get("elements") or []) <= 10:
        out.append(("/elements", "must have between 1 and 10 items"))
    elif kind == "markdown" and len(str(block.get("text", ""))) > 12_000:
        out.append(("/text", "must be less than 12001 characters"))
    elif kind == "table":
        rows = block.get("rows")
        if not isinstance(rows, list) or not 1 <= len(rows) <= 100:
            out.append(("/rows", "must have between 1 and 100 items"))
        elif any(not isinstance(r, list) or not 1 <= len(r) <= 20 for r in rows):
            out.append(("/rows", "each row must have between 1 and 20 cells"))
        elif len({len(r) for r in rows}) != 1:
            out.append(("/rows", "every row must have the same number of cells"))
    return out


def _text_problems(obj: Any, at: str, limit: int, plain: bool = False) -> list[tuple[str, str]]:
    allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        return [(f"{at}/type", f"must be one of {', '.join(allowed)}")]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [(f"{at}/text", "must be more than 0 characters")]
    if len(text) > limit:
        return [(f"{at}/text", f"must be less than {limit + 1} characters")]
    return []


def _text_len(node: Any) -> int:
    """The characters of every `text` string in a block tree."""
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(_text_len(v) for v in node.values())
    return sum(_text_len(v) for v in node) if isinstance(node, list) else 0


# ---- wire helpers ------------------------------------------------------------------------


async def _params(request: web.Request) -> dict[str, Any]:
    """Query, then the JSON or form body, as Slack merges them; JSON-valued fields decoded."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = json.loads(await request.read() or b"{}")
            params.update(body if isinstance(body, dict) else {})
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for name in _JSON_FIELDS:
        if isinstance(params.get(name), str):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(params[name])
    return params


def _answer(
    call: Call, body: dict[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    call.status, call.error = status, None if body.get("ok") else body.get("error")
    return web.json_response(body, status=status, headers=headers)


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true")


def _us(ts: Any) -> int:
    try:
        return int(Decimal(str(ts)) * 1_000_000)
    except InvalidOperation as e:
        raise SlackError("invalid_ts_oldest") from e


def _file_json(f: File) -> dict[str, Any]:
    name, size = f.filename, len(f.content or b"")
    kind = name.rsplit(".", 1)[-1] if "." in name else "text"
    out = {"id": f.id, "name": name, "title": f.title, "filetype": kind, "size": size}
    return {**out, "permalink": f"https://fake.slack.com/files/{f.id}"}


# ---- the inbound side: signed requests ---------------------------------------------------


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature headers: `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    ts = int(time.time()) if timestamp is None else timestamp
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:%d:" % ts + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(ts)}


def slash_command_body(text: str = "", **fields: str) -> bytes:
    """A slash-command form body as Slack POSTs it; `fields` override the defaults."""
    return urlencode({**dict(parse_qsl(_SLASH_DEFAULTS)), "text": text, **fields}).encode()
