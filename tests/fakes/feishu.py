"""A fake Feishu (Lark) Open API on 127.0.0.1, in a thread of its own, for the real lark-oapi.

lark-oapi fetches its tenant token with blocking `requests`, even inside `acreate`, so the fake
serves from its own event loop in its own thread: a test's loop may block on the SDK and the fake
still answers. It speaks the wire format: `{"code": 0, "msg": "success", "data": ...}`, errors as
HTTP 400 with Feishu's code, msg and `error.log_id`, an `X-Tt-Logid` header, and rate limits as
HTTP 429 + code 99991400 + `x-ogw-ratelimit-reset` (seconds). It serves

    POST /open-apis/auth/v3/tenant_access_token/internal     "tenant_access_token"
    POST /open-apis/im/v1/messages?receive_id_type=chat_id   "im.message.create"
    POST /open-apis/im/v1/messages/:message_id/reply         "im.message.reply"
    GET  /open-apis/im/v1/messages/:message_id               "im.message.get"
    POST /open-apis/im/v1/files  (multipart)                 "im.file.create"

checks what Feishu checks cheaply (the bearer token, the chat, the request-body size per message
type, the content's JSON shape, card JSON 1.0 / 2.0 structure, `uuid` de-duplication for an hour),
records every call, and serves queued faults per endpoint name. Codes and limits: just below.

The inbound side builds callbacks as Feishu POSTs them (`im.message.receive_v1`,
`card.action.trigger`, `url_verification`), encrypted with AES-256-CBC and signed:

    with FakeFeishu(app_id="cli_test", app_secret="s", encrypt_key="k") as feishu:
        client = lark.Client.builder().app_id("cli_test").app_secret("s").domain(feishu.url).build()
        feishu.fail("im.message.create", Fault.rate_limit(reset=0))
        ...
        assert feishu.sent(CHAT)[0].card["header"]["title"]["content"] == "..."
        body, headers = feishu.callback(feishu.message_event("/digest help"))  # POST these

`async with FakeFeishu(...)` works too (start and stop run in a worker thread).

The long connection (lark's `ws.Client`), built with lark-oapi's own protobuf `Frame`:

    POST /callback/ws/endpoint  {"AppID", "AppSecret"}          "ws.endpoint"
    GET  /ws/v2?device_id=..&service_id=..&ticket=..  websocket  "ws.connect"

The endpoint hands out a single-use URL and the ClientConfig (ping interval, reconnect policy);
on the websocket the fake answers the client's pings with a pong carrying that config, pushes
events as data frames (`await feishu.push_event(event)`, type "event" or "card", in one or more
parts) and records each response frame (`feishu.ws_responses`, the handler's answer decoded:
a card action's toast).

lark-oapi caches tenant tokens per app_id for the whole process, whatever the domain: the fake's
first token is a function of (app_id, app_secret), so a token cached against an earlier fake with
the same credentials stays valid here, as a real token does for two hours.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.message
import email.parser
import email.utils
import hashlib
import json
import os
import secrets
import threading
import time
import uuid as uuid_module
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from aiohttp import WSMsgType, web
from aiohttp.typedefs import Handler
from Crypto.Cipher import AES  # pycryptodome, which lark-oapi requires
from Crypto.Util.Padding import pad, unpad
from lark_oapi.ws.pb.pbbp2_pb2 import Frame  # type: ignore[import-untyped]

from tests.cardkit import card_problems
from tests.waiting import HANG, until

# ---- limits and codes ------------------------------------------------------------------------
# From Feishu's documentation of im/v1/messages create and reply ("文本消息请求体最大不能超过
# 150 KB; 卡片及富文本消息请求体最大不能超过 30 KB" -> 230025, HTTP 400), im/v1/files (30 MB,
# 234006; empty 234010) and the 230099 sub-codes (ErrCode 200621 / 200861 / 200915 / 200380),
# unless marked otherwise. The size is measured on the HTTP request body as it arrives, JSON
# escaping of `content` included: the document says request body, and that is the strict reading.

TEXT_LIMIT = 150 * 1024  # bytes of request body for a text message (230025 past it)
CARD_LIMIT = 30 * 1024  # bytes of request body for interactive and post messages (230025)
FILE_LIMIT = 30 * 1024 * 1024  # im/v1/files: 234006 past it, 234010 when empty
UUID_WINDOW = 3600.0  # seconds a create/reply `uuid` de-duplicates
UUID_MAX = 50  # characters
TOKEN_TTL = 7200  # seconds; a new token is handed out in its last 30 minutes
TOKEN_RENEW = 1800
MAX_CARD_ELEMENTS = 200  # card JSON 2.0: elements in one card (ErrCode 11310)
MAX_CARD_TABLES = 5  # table components in a card (ErrCode 11310): measured by users, undocumented
FILE_TYPES = frozenset({"opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"})
MSG_TYPES = frozenset(
    {"text", "post", "image", "file", "audio", "media", "sticker", "interactive"}
    | {"share_chat", "share_user"}
)
V2_DROPPED_TAGS = frozenset({"action", "note"})  # JSON 2.0 refuses them (ErrCode 200861)
LIMITS = {"text": TEXT_LIMIT, "post": CARD_LIMIT, "interactive": CARD_LIMIT}  # others: TEXT_LIMIT

MESSAGES = {
    10003: "invalid param",
    10014: "app secret invalid",
    99991400: "request trigger frequency limit",
    99991661: "Missing access token for authorization. Please make a request with token attached.",
    99991663: "Invalid access token for authorization. Please make a request with token attached.",
    99992402: "field validation failed",
    230001: "Your request contains an invalid request parameter.",
    230002: "The bot can not be outside the group.",
    230020: "This operation triggers the frequency limit.",
    230025: "The length of the message content reaches its limit.",
    230055: "The type of file upload does not match the type of message being sent.",
    230099: "Failed to create card content.",
    234001: "Invalid request param.",
    234006: "The file size exceed the max value.",
    234010: "File's size can't be 0.",
}

DEFAULT_CHAT = "oc_fakedigest0000000000000000001"
USER_OPEN_ID = "ou_fakealice00000000000000000001"
USER_UNION_ID = "on_fakealice00000000000000000001"
USER_ID = "alice"
BOT_OPEN_ID = "ou_fakebot0000000000000000000001"
BOT_UNION_ID = "on_fakebot0000000000000000000001"
_TROUBLESHOOT = (
    "排查建议查看(Troubleshooting suggestions): https://open.feishu.cn/search?from=openapi"
)
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
WS_ENDPOINT_PATH = "/callback/ws/endpoint"  # lark_oapi.ws.const.GEN_ENDPOINT_URI
WS_PATH = "/ws/v2"
WS_CONTROL, WS_DATA = 0, 1  # Frame.method (lark_oapi.ws.enum.FrameType)
_MEDIA = {"opus": "audio", "mp4": "media"}  # a file of this type is sent as this msg_type


class FeishuError(Exception):
    """An answer with Feishu's error shape; `ext` is appended to the message as Feishu does."""

    def __init__(
        self,
        code: int,
        ext: str | None = None,
        *,
        status: int = 400,
        violations: Sequence[tuple[str, str]] = (),
    ) -> None:
        msg = MESSAGES.get(code, "error")
        if ext:
            msg = f"{msg.removesuffix('.')}, ext={ext}"
        super().__init__(code, msg)
        self.code, self.msg, self.status, self.violations = code, msg, status, tuple(violations)


@dataclass(frozen=True)
class Fault:
    """Served instead of the answer; `applied`: after the request took effect (a lost answer)."""

    status: int
    code: int | None  # None: a non-JSON body, as a gateway in front of Feishu answers
    msg: str
    headers: tuple[tuple[str, str], ...] = ()
    applied: bool = False

    @classmethod
    def rate_limit(cls, reset: int = 1, limit: int = 50) -> Fault:
        """The gateway's frequency limit: HTTP 429, code 99991400, seconds to wait in a header."""
        headers = (("x-ogw-ratelimit-limit", str(limit)), ("x-ogw-ratelimit-reset", str(reset)))
        return cls(429, 99991400, MESSAGES[99991400], headers)

    @classmethod
    def chat_rate_limit(cls) -> Fault:
        """The IM limit of 5 messages a second per chat: HTTP 400, code 230020."""
        return cls(400, 230020, MESSAGES[230020])

    @classmethod
    def api_error(cls, code: int, msg: str | None = None, status: int = 400) -> Fault:
        return cls(status, code, msg or MESSAGES.get(code, "error"))

    @classmethod
    def server_error(
        cls, status: int = 502, *, code: int | None = None, applied: bool = False
    ) -> Fault:
        """A 5xx: an HTML page (lark-oapi raises JSONDecodeError on it), or JSON with `code`."""
        page = f"<html><body><h1>{status} Server Error</h1></body></html>"
        return cls(status, code, page if code is None else "internal error", (), applied)


@dataclass
class Call:
    """One request as it arrived; `endpoint` is the route's name ("unknown" for other paths)."""

    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # Authorization's value replaced by "Bearer [redacted]"
    body: Any  # parsed JSON (app_secret redacted); multipart: fields, files as name/size
    received_at: float  # time.monotonic()
    auth_ok: bool = False
    status: int = 200
    code: int | None = None  # the Feishu code answered; None for a non-JSON answer
    deduplicated: bool = False  # answered with an earlier message of the same uuid


@dataclass
class Message:
    """A message in a chat: the bot's (sender_type "app") or a user's (made by message_event)."""

    message_id: str
    chat_id: str
    msg_type: str
    content: Any  # the parsed JSON of `raw_content`
    raw_content: str
    create_time: int  # epoch milliseconds
    sender_id: str  # the app_id for the bot, an open_id for a user
    sender_type: str  # "app" or "user"
    uuid: str | None = None
    root_id: str | None = None
    parent_id: str | None = None
    thread_id: str | None = None
    mentions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.parent_id is not None

    @property
    def text(self) -> str | None:
        return str(self.content["text"]) if self.msg_type == "text" else None

    @property
    def card(self) -> dict[str, Any] | None:
        return self.content if self.msg_type == "interactive" else None


@dataclass
class File:
    file_key: str
    file_type: str
    file_name: str
    content: bytes
    duration: int | None = None


@dataclass
class Chat:
    chat_id: str
    name: str
    chat_type: str = "group"  # or "p2p"
    member: bool = True  # False: the bot is not in it (230002)


@dataclass
class WsResponse:
    """The client's answer to a pushed data frame: the frame's headers, the JSON payload's `code`
    (HTTP-like: 200, 500) and its `data` (base64 of the handler's JSON), decoded."""

    message_id: str
    connection: str
    kind: str  # the `type` header: "event" or "card"
    code: int | None
    data: Any  # the handler's answer (a card action's {"toast": ...}), None when absent
    headers: dict[str, str]
    received_at: float  # time.monotonic()
    latency: float  # seconds since the last part was pushed


@dataclass
class WsPush:
    """A data frame (or its parts) the fake pushed."""

    message_id: str
    connection: str
    kind: str
    payload: dict[str, Any]
    parts: int
    sent_at: float  # time.monotonic(), when the last part went out
    response: WsResponse | None = None


@dataclass
class WsPing:
    connection: str
    service: int
    received_at: float


_T = TypeVar("_T")
_CALL = web.RequestKey("call", Call)
_RAW = web.RequestKey("raw", bytes)
Route = Callable[[web.Request, Call], "dict[str, Any] | web.Response"]


class FakeFeishu:
    """`with FakeFeishu(...) as feishu`: `feishu.url` is lark-oapi's `domain`."""

    def __init__(
        self,
        *,
        app_id: str = "cli_fake0000000001",
        app_secret: str = "fake-app-secret",
        tenant_key: str = "fake0tenant0key",
        verification_token: str = "fake-verification-token",
        encrypt_key: str | None = "fake-encrypt-key",
        chats: Mapping[str, str] | None = None,  # chat_id -> name; default DEFAULT_CHAT "digest"
        bot_name: str = "Commit Digest",
        bot_open_id: str = BOT_OPEN_ID,
        card_limit: int = CARD_LIMIT,
        text_limit: int = TEXT_LIMIT,
        max_card_tables: int = MAX_CARD_TABLES,
        clock: Callable[[], float] = time.time,  # create_time, token expiry, the uuid window
        ws_ping_interval: int = 120,  # seconds: the long connection's ClientConfig
        ws_reconnect_count: int = -1,  # -1: forever
        ws_reconnect_interval: int = 120,
        ws_reconnect_nonce: int = 30,  # the first reconnect waits a random 0..nonce seconds
        check_cards: bool = True,  # refuse (and fail the test at exit) a card breaking cardkit
    ) -> None:
        self.app_id, self.app_secret, self.tenant_key = app_id, app_secret, tenant_key
        self.verification_token, self.encrypt_key = verification_token, encrypt_key
        self.bot_name, self.bot_open_id = bot_name, bot_open_id
        self.limits = {**LIMITS, "post": card_limit, "interactive": card_limit, "text": text_limit}
        self.max_card_tables, self.clock = max_card_tables, clock
        # Every card posted is held to the card JSON 2.0 rules we rely on (tests/cardkit.py); the
        # fake's own tests post other cards on purpose and turn this off.
        self.check_cards = check_cards
        self.card_rule_breaks: list[list[str]] = []
        self._lock = threading.RLock()  # the server thread and the test's thread share the records
        self.chats: dict[str, Chat] = {}
        for chat_id, name in (chats or {DEFAULT_CHAT: "digest"}).items():
            self.add_chat(chat_id, name)
        self.calls: list[Call] = []
        self.messages: defaultdict[str, list[Message]] = defaultdict(list)  # oldest first
        self.files: list[File] = []
        self._by_id: dict[str, Message] = {}
        self._uuids: dict[tuple[str, str], tuple[Message, float]] = {}
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._generation = 0
        self._tokens: dict[str, float] = {self._token_for(0): clock() + TOKEN_TTL}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._root = ""
        self.ws_config = {
            "ReconnectCount": ws_reconnect_count,
            "ReconnectInterval": ws_reconnect_interval,
            "ReconnectNonce": ws_reconnect_nonce,
            "PingInterval": ws_ping_interval,
        }
        self._ws_tickets: dict[str, tuple[str, int]] = {}  # ticket -> (device_id, service_id)
        self._ws: dict[str, tuple[web.WebSocketResponse, int]] = {}  # device_id -> (ws, service)
        self._ws_seq = 0
        self.ws_pushes: list[WsPush] = []
        self.ws_responses: list[WsResponse] = []
        self.ws_pings: list[WsPing] = []
        self.ws_closed: list[tuple[str, int | None]] = []  # (device_id, close code)
        self.ws_errors: list[str] = []  # frames the fake could not place: should stay empty
        self.ws_opened = 0

    # ---- control and records ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT, the `domain` for lark.Client.builder()."""
        return self._root

    def add_chat(
        self, chat_id: str, name: str, *, chat_type: str = "group", member: bool = True
    ) -> None:
        with self._lock:
            self.chats[chat_id] = Chat(chat_id, name, chat_type, member)

    def fail(self, endpoint: str, *faults: Fault) -> None:
        """Queue faults for an endpoint: "tenant_access_token", "im.message.create", ..."""
        with self._lock:
            self._faults[endpoint].extend(faults)

    def revoke_tokens(self) -> None:
        """Every token issued so far answers 99991663 (lark-oapi keeps using its cached one)."""
        with self._lock:
            self._tokens.clear()
            self._generation += 1

    def calls_to(self, endpoint: str) -> list[Call]:
        return [c for c in self.calls if c.endpoint == endpoint]

    def message(self, message_id: str) -> Message:
        return self._by_id[message_id]

    def sent(self, chat_id: str) -> list[Message]:
        """The bot's messages in a chat, replies included, oldest first."""
        return [m for m in self.messages[chat_id] if m.sender_type == "app"]

    def top_level(self, chat_id: str) -> list[Message]:
        return [m for m in self.messages[chat_id] if not m.is_reply]

    def replies(self, message_id: str) -> list[Message]:
        """The replies under a message's root (its thread or reply tree), oldest first."""
        root = self._by_id[message_id]
        root_id = root.root_id or root.message_id
        return [m for m in self.messages[root.chat_id] if m.root_id == root_id]

    # ---- the inbound side: callbacks as Feishu sends them --------------------------------

    def message_event(
        self,
        text: str,
        *,
        chat_id: str | None = None,
        sender_open_id: str = USER_OPEN_ID,
        sender_user_id: str = USER_ID,
        mention: bool | None = None,  # @ the bot; default: in a group, not in a p2p chat
        parent_id: str | None = None,
        event_id: str | None = None,
        token: str | None = None,  # the header's verification token; default the app's
    ) -> dict[str, Any]:
        """An `im.message.receive_v1` callback; the user's message is stored, to be replied to."""
        with self._lock:
            chat = self.chats[chat_id or next(iter(self.chats))]
            at = chat.chat_type == "group" if mention is None else mention
            parent = self._by_id[parent_id] if parent_id else None
            event = message_event(
                text,
                app_id=self.app_id,
                tenant_key=self.tenant_key,
                verification_token=self.verification_token if token is None else token,
                chat_id=chat.chat_id,
                chat_type=chat.chat_type,
                sender_open_id=sender_open_id,
                sender_user_id=sender_user_id,
                mention=self.bot_name if at else None,
                bot_open_id=self.bot_open_id,
                root_id=(parent.root_id or parent.message_id) if parent else None,
                parent_id=parent.message_id if parent else None,
                event_id=event_id,
                now=self.clock(),
            )
            message = event["event"]["message"]
            stored = Message(
                message["message_id"],
                chat.chat_id,
                "text",
                json.loads(message["content"]),
                message["content"],
                int(message["create_time"]),
                sender_open_id,
                "user",
                root_id=message.get("root_id"),
                parent_id=message.get("parent_id"),
                mentions=list(message.get("mentions", [])),
            )
            self._add(stored)
            return event

    def card_action_event(
        self,
        value: Mapping[str, Any],
        *,
        message_id: str,
        operator_open_id: str = USER_OPEN_ID,
        operator_user_id: str = USER_ID,
        tag: str = "button",
        name: str | None = None,
        form_value: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """A `card.action.trigger` callback: a click on the card `message_id` (one the bot sent)."""
        card = self._by_id[message_id]
        return card_action_event(
            value,
            app_id=self.app_id,
            tenant_key=self.tenant_key,
            verification_token=self.verification_token if token is None else token,
            open_message_id=card.message_id,
            open_chat_id=card.chat_id,
            operator_open_id=operator_open_id,
            operator_user_id=operator_user_id,
            tag=tag,
            name=name,
            form_value=form_value,
            event_id=event_id,
            now=self.clock(),
        )

    def url_verification(self, challenge: str | None = None) -> dict[str, Any]:
        return url_verification(self.verification_token, challenge)

    def callback(
        self,
        payload: Mapping[str, Any],
        *,
        encrypt_key: str | None = None,  # default the app's; "" sends it in plain text
        timestamp: int | str | None = None,
        nonce: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Body and headers as Feishu POSTs `payload`: encrypted and signed with the app key."""
        key = self.encrypt_key if encrypt_key is None else encrypt_key
        return callback_request(payload, encrypt_key=key, timestamp=timestamp, nonce=nonce)

    # ---- lifecycle: a thread with its own loop ------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._assert_cards_kept_the_rules()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)
        self._assert_cards_kept_the_rules()

    def _assert_cards_kept_the_rules(self) -> None:
        """A card refused for breaking our rules fails the test even where the bot went on."""
        if self.card_rule_breaks:
            raise AssertionError(f"cards breaking tests/cardkit.py: {self.card_rule_breaks}")

    def start(self) -> None:
        if self._thread is not None:
            return
        ready, failed = threading.Event(), list[Exception]()
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failed), name="fake-feishu", daemon=True
        )
        self._thread.start()
        if not ready.wait(HANG) or failed:
            self._thread = None
            raise RuntimeError("the fake Feishu did not start") from (failed[0] if failed else None)

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if self._ws:  # close the long connections first (1001), as Feishu does when it moves
            closing = asyncio.run_coroutine_threadsafe(self._ws_close_all(), loop)
            with contextlib.suppress(TimeoutError, OSError):
                closing.result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = self._loop = None

    def _serve(self, ready: threading.Event, failed: list[Exception]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        im = "/open-apis/im/v1"
        routes: dict[str, tuple[str, str, Route]] = {
            "tenant_access_token": ("POST", TOKEN_PATH, self._token),
            "im.message.create": ("POST", f"{im}/messages", self._create),
            "im.message.reply": ("POST", f"{im}/messages/{{message_id}}/reply", self._reply),
            "im.message.get": ("GET", f"{im}/messages/{{message_id}}", self._get),
            "im.file.create": ("POST", f"{im}/files", self._upload),
        }
        for name, (method, path, route) in routes.items():
            handler = self._route(route, auth=name != "tenant_access_token")
            app.router.add_route(method, path, handler, name=name)
        endpoint = self._route(self._ws_endpoint, auth=False)
        app.router.add_route("POST", WS_ENDPOINT_PATH, endpoint, name="ws.endpoint")
        app.router.add_route("GET", WS_PATH, self._ws_connect, name="ws.connect")
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            self._root = f"http://127.0.0.1:{runner.addresses[0][1]}"
        except Exception as e:
            failed.append(e)
            ready.set()
            loop.close()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    # ---- HTTP ----------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record the call, then serve a queued fault, or the answer (and then an applied fault)."""
        raw = await request.read()
        route = request.match_info.route
        endpoint = route.name if route.name else "unknown"
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        if "Authorization" in request.headers:
            headers["Authorization"] = "Bearer [redacted]"
        body = _recorded_body(request.headers.get("Content-Type", ""), raw)
        query, now = dict(request.query), time.monotonic()
        call = Call(endpoint, request.method, request.path, query, headers, body, now)
        with self._lock:
            self.calls.append(call)
            queue = self._faults.get(endpoint)
            fault = queue.popleft() if queue else None
        request[_CALL], request[_RAW] = call, raw
        if fault is not None and not fault.applied:
            return _fault(call, fault)
        try:
            answer = await handler(request)
        except web.HTTPException as e:  # unknown path or method: the gateway's plain text
            call.status, call.code = e.status, None
            text = "404 page not found" if e.status == 404 else e.reason
            return web.Response(status=e.status, text=text)
        return answer if fault is None else _fault(call, fault)

    def _route(self, route: Route, *, auth: bool = True) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = request[_CALL]
            try:
                with self._lock:
                    if auth:
                        self._authorize(request, call)
                    out = route(request, call)
            except FeishuError as e:
                return _error(call, e)
            if isinstance(out, web.Response):
                return out
            call.status, call.code = 200, 0
            body = {"code": 0, "msg": "success", "data": out}
            return web.json_response(body, headers={"X-Tt-Logid": _log_id()})

        return handle

    def _authorize(self, request: web.Request, call: Call) -> None:
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not token:
            raise FeishuError(99991661)
        expires = self._tokens.get(token)
        if expires is None or expires <= self.clock():
            raise FeishuError(99991663)
        call.auth_ok = True

    def _token(self, request: web.Request, call: Call) -> web.Response:
        """tenant_access_token/internal: top-level token and expire, `msg: ok`, as Feishu does."""
        body = _json_object(request[_RAW])
        app_id, secret = body.get("app_id"), body.get("app_secret")
        if not isinstance(app_id, str) or not isinstance(secret, str) or not app_id or not secret:
            raise FeishuError(10003)
        if app_id != self.app_id:
            raise FeishuError(10003)
        if not secrets.compare_digest(secret, self.app_secret):
            raise FeishuError(10014)
        now = self.clock()
        token = self._token_for(self._generation)
        expires = self._tokens.get(token)
        if expires is None or expires - now < TOKEN_RENEW:
            if expires is not None:
                self._generation += 1
                token = self._token_for(self._generation)
            expires = self._tokens[token] = now + TOKEN_TTL
        call.auth_ok, call.status, call.code = True, 200, 0
        answer = {
            "code": 0,
            "msg": "ok",
            "tenant_access_token": token,
            "expire": int(expires - now),
        }
        return web.json_response(answer, headers={"X-Tt-Logid": _log_id()})

    def _create(self, request: web.Request, call: Call) -> dict[str, Any]:
        body = _json_object(request[_RAW], validation=True)
        kind = request.query.get("receive_id_type")
        if kind is None:
            raise FeishuError(99992402, violations=[("receive_id_type", "required")])
        if kind != "chat_id":  # the real one also takes open_id, user_id, union_id and email
            raise FeishuError(99992402, violations=[("receive_id_type", "fake serves chat_id")])
        receive_id = body.get("receive_id")
        if not isinstance(receive_id, str) or not receive_id:
            raise FeishuError(99992402, violations=[("receive_id", "required")])
        msg_type, content, uuid = _fields(body)
        earlier = self._earlier("create", uuid)
        if earlier is not None:
            call.deduplicated = True
            return self._json(earlier)
        chat = self._chat(receive_id)
        parsed = self._content(msg_type, content, len(request[_RAW]))
        message = self._new(chat.chat_id, msg_type, parsed, content, uuid)
        self._remember("create", uuid, message)
        return self._json(message)

    def _reply(self, request: web.Request, call: Call) -> dict[str, Any]:
        body = _json_object(request[_RAW], validation=True)
        msg_type, content, uuid = _fields(body)
        in_thread = body.get("reply_in_thread", False)
        if not isinstance(in_thread, bool):
            raise FeishuError(99992402, violations=[("reply_in_thread", "must be a boolean")])
        earlier = self._earlier("reply", uuid)
        if earlier is not None:
            call.deduplicated = True
            return self._json(earlier)
        parent = self._by_id.get(request.match_info["message_id"])
        if parent is None:
            raise FeishuError(230001, "invalid message_id")
        self._chat(parent.chat_id)
        parsed = self._content(msg_type, content, len(request[_RAW]))
        root = self._by_id[parent.root_id] if parent.root_id else parent
        message = self._new(parent.chat_id, msg_type, parsed, content, uuid)
        message.root_id = root.message_id
        message.parent_id = parent.message_id
        if in_thread or root.thread_id is not None:  # a reply in a topic is a topic reply
            root.thread_id = root.thread_id or f"omt_{secrets.token_hex(6)}"
            message.thread_id, message.parent_id = root.thread_id, root.message_id
        self._remember("reply", uuid, message)
        return self._json(message)

    def _get(self, request: web.Request, call: Call) -> dict[str, Any]:
        message = self._by_id.get(request.match_info["message_id"])
        if message is None:
            raise FeishuError(230001, "invalid message_id")
        self._chat(message.chat_id)
        return {"items": [self._json(message)]}

    def _upload(self, request: web.Request, call: Call) -> dict[str, Any]:
        fields, parts = _multipart(request.headers.get("Content-Type", ""), request[_RAW])
        file_type, file_name = fields.get("file_type"), fields.get("file_name")
        part = parts.get("file")
        if file_type not in FILE_TYPES or not file_name or part is None:
            raise FeishuError(234001)
        if not part:
            raise FeishuError(234010)
        if len(part) > FILE_LIMIT:
            raise FeishuError(234006)
        duration = fields.get("duration") or None  # lark-oapi sends an empty field when unset
        if duration is not None and not duration.isdigit():
            raise FeishuError(234001)
        key = f"file_v3_00{secrets.token_hex(2)}_{uuid_module.uuid4()}"
        dur = int(duration) if duration else None
        self.files.append(File(key, file_type, file_name, part, dur))
        return {"file_key": key}

    # ---- the long connection: control and records ----------------------------------------

    @property
    def ws_connections(self) -> list[str]:
        """The device ids of the open long connections, oldest first."""
        with self._lock:
            return list(self._ws)

    async def wait_ws_connected(self, count: int = 1, *, within: float = HANG) -> str:
        """Wait until `count` websockets have been opened in all; the newest open one's id."""
        await until(
            lambda: self.ws_opened >= count and bool(self._ws),
            what=f"{count} long connections opened",
            within=within,
        )
        return self.ws_connections[-1]

    async def wait_ws_disconnected(self, *, within: float = HANG) -> None:
        await until(lambda: not self._ws, what="every long connection closed", within=within)

    async def wait_ws_ping(self, count: int = 1, *, within: float = HANG) -> WsPing:
        await until(lambda: len(self.ws_pings) >= count, what=f"{count} pings", within=within)
        return self.ws_pings[count - 1]

    async def wait_for(
        self, predicate: Callable[[], object], *, within: float = HANG, what: str = "it"
    ) -> None:
        """Wait until `predicate()` holds of what this fake recorded (it serves on a thread of
        its own, so this checks every 10 ms); TimeoutError after `within` seconds."""
        await until(predicate, what=what, within=within)

    async def push_event(
        self,
        event: Mapping[str, Any],
        *,
        kind: str = "event",
        parts: int = 1,
        connection: str | None = None,
    ) -> str:
        """Push an event (a schema 2.0 dict, as `message_event` builds it) as Feishu does over
        the long connection: the JSON, unencrypted, in `parts` data frames of type `kind`
        ("event"; "card" for card callbacks as some deployments get them). The message id."""
        return await self._on_loop(self._ws_push(dict(event), kind, parts, connection))

    async def push_card_action(
        self, event: Mapping[str, Any], *, kind: str = "event", connection: str | None = None
    ) -> str:
        """A `card.action.trigger` callback (`card_action_event`); Feishu sends these in "event"
        frames (the documented way); kind="card" sends the frame type lark-oapi 1.7.5 drops."""
        return await self.push_event(event, kind=kind, connection=connection)

    async def wait_ws_response(self, message_id: str, *, within: float = HANG) -> WsResponse:
        """The client's response frame to a push; TimeoutError after `within` seconds."""

        def found() -> WsResponse | None:
            with self._lock:
                return next((r for r in self.ws_responses if r.message_id == message_id), None)

        what = f"the response frame to {message_id}"
        await until(lambda: found() is not None, what=what, within=within, every=0.005)
        response = found()
        assert response is not None
        return response

    async def disconnect_ws(self, connection: str | None = None, code: int = 1001) -> None:
        """Close a long connection from Feishu's side; lark's client reconnects by itself."""
        await self._on_loop(self._ws_close(connection, code))

    async def _on_loop(self, work: Coroutine[Any, Any, _T]) -> _T:
        loop = self._loop
        if loop is None:
            work.close()
            raise RuntimeError("the fake Feishu is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    def _ws_endpoint(self, request: web.Request, call: Call) -> web.Response:
        """A single-use websocket URL and the ClientConfig, as lark's client reads them: the
        `device_id` and `service_id` query parameters (service_id an integer) and the four
        config fields. A refusal is `{"code": .., "msg": ..}` with HTTP 200, which lark raises
        as ClientException (no retry); an HTTP error status it retries (see `fail`)."""
        try:
            body = _json_object(request[_RAW])
        except FeishuError as e:
            return self._ws_refusal(call, e.code)
        app_id, secret = body.get("AppID"), body.get("AppSecret")
        if not isinstance(app_id, str) or not isinstance(secret, str) or not app_id or not secret:
            return self._ws_refusal(call, 10003)
        if app_id != self.app_id:
            return self._ws_refusal(call, 10003)
        if not secrets.compare_digest(secret, self.app_secret):
            return self._ws_refusal(call, 10014)
        call.auth_ok, call.status, call.code = True, 200, 0
        device_id = str(7_000_000_000_000_000_000 + secrets.randbelow(10**18))
        service_id = 30_000_000 + secrets.randbelow(10**6)
        ticket = secrets.token_hex(16)
        self._ws_tickets[ticket] = (device_id, service_id)
        query = f"fpid=493&aid=552564&device_id={device_id}&access_key={secrets.token_hex(16)}"
        query += f"&service_id={service_id}&ticket={ticket}"
        url = f"ws{self._root.removeprefix('http')}{WS_PATH}?{query}"
        data = {"URL": url, "ClientConfig": dict(self.ws_config)}
        answer = {"code": 0, "msg": "ok", "data": data}
        return web.json_response(answer, headers={"X-Tt-Logid": _log_id()})

    @staticmethod
    def _ws_refusal(call: Call, code: int) -> web.Response:
        call.status, call.code = 200, code
        answer = {"code": code, "msg": MESSAGES.get(code, "error"), "data": None}
        return web.json_response(answer, headers={"X-Tt-Logid": _log_id()})

    async def _ws_connect(self, request: web.Request) -> web.StreamResponse:
        """The websocket: the ticket from the endpoint, once; then frames until it closes."""
        call = request[_CALL]
        query = request.query
        with self._lock:
            granted = self._ws_tickets.pop(query.get("ticket", ""), None)
        ws = web.WebSocketResponse(max_msg_size=0)
        fits = granted is not None and (
            query.get("device_id"),
            query.get("service_id"),
        ) == (granted[0], str(granted[1]))
        if granted is None or not fits or not ws.can_prepare(request).ok:
            # lark reads these headers of a refused handshake; 514 (auth failed) without the
            # connection-limit code is a server error to it: it asks for a new URL and retries
            call.status = 403
            headers = {"handshake-status": "514", "handshake-msg": "invalid ticket"}
            headers["handshake-autherrcode"] = "1000040351"
            return web.Response(status=403, text="invalid ticket", headers=headers)
        device_id, service_id = granted
        await ws.prepare(request)
        call.status, call.auth_ok = 101, True
        with self._lock:
            self._ws[device_id] = (ws, service_id)
            self.ws_opened += 1
        try:
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    await self._ws_frame(device_id, service_id, ws, msg.data)
                else:
                    with self._lock:
                        self.ws_errors.append(f"{device_id}: a {msg.type.name} message")
        finally:
            with self._lock:
                self._ws.pop(device_id, None)
                code = ws.close_code
                self.ws_closed.append((device_id, None if code is None else int(code)))
        return ws

    async def _ws_frame(
        self, device_id: str, service_id: int, ws: web.WebSocketResponse, raw: bytes
    ) -> None:
        now = time.monotonic()
        frame = Frame()
        try:
            frame.ParseFromString(raw)
        except Exception:
            with self._lock:
                self.ws_errors.append(f"{device_id}: not a Frame ({len(raw)} bytes)")
            return
        headers = {h.key: h.value for h in frame.headers}
        kind = headers.get("type", "")
        if frame.method == WS_CONTROL and kind == "ping":
            with self._lock:
                self.ws_pings.append(WsPing(device_id, frame.service, now))
                if frame.service != service_id:
                    self.ws_errors.append(f"{device_id}: ping for service {frame.service}")
            pong = _ws_frame(service_id, WS_CONTROL, {"type": "pong"})
            pong.payload = json.dumps(self.ws_config).encode()
            await ws.send_bytes(pong.SerializeToString())
            return
        if frame.method != WS_DATA:
            with self._lock:
                self.ws_errors.append(f"{device_id}: control frame {kind!r}")
            return
        message_id = headers.get("message_id", "")
        try:
            answer = json.loads(frame.payload)
            code = answer.get("code")
            data = answer.get("data")
            data = json.loads(base64.b64decode(data)) if data else None
        except (ValueError, AttributeError, TypeError):
            with self._lock:
                self.ws_errors.append(f"{device_id}: response {message_id} not JSON")
            return
        with self._lock:
            push = next((p for p in self.ws_pushes if p.message_id == message_id), None)
            if push is None or push.response is not None:
                what = "unknown" if push is None else "a second"
                self.ws_errors.append(f"{device_id}: {what} response to {message_id}")
                return
            response = WsResponse(
                message_id, device_id, kind, code, data, headers, now, now - push.sent_at
            )
            push.response = response
            self.ws_responses.append(response)

    async def _ws_push(
        self, event: dict[str, Any], kind: str, parts: int, connection: str | None
    ) -> str:
        with self._lock:
            device_id = connection or (list(self._ws)[-1] if self._ws else "")
            if device_id not in self._ws:
                raise RuntimeError(f"no open long connection {device_id}".rstrip())
            ws, service_id = self._ws[device_id]
        message_id = str(uuid_module.uuid4())
        trace_id = secrets.token_hex(8)
        body = json.dumps(event, ensure_ascii=False).encode()
        size = -(-len(body) // parts)
        frames = []
        for seq in range(parts):
            headers = {"type": kind, "message_id": message_id, "trace_id": trace_id}
            headers.update(sum=str(parts), seq=str(seq))
            frame = _ws_frame(service_id, WS_DATA, headers)
            with self._lock:
                self._ws_seq += 1
                frame.SeqID = self._ws_seq
            frame.payload = body[seq * size : (seq + 1) * size]
            frames.append(frame)
        push = WsPush(message_id, device_id, kind, event, parts, 0.0)
        with self._lock:
            self.ws_pushes.append(push)  # before sending: the response may come back at once
        for n, frame in enumerate(frames):
            if n == len(frames) - 1:
                push.sent_at = time.monotonic()
            await ws.send_bytes(frame.SerializeToString())
        return message_id

    async def _ws_close(self, connection: str | None, code: int) -> None:
        with self._lock:
            device_id = connection or (list(self._ws)[-1] if self._ws else "")
            found = self._ws.get(device_id)
        if found is not None:
            await found[0].close(code=code, message=b"fake feishu closed the connection")

    async def _ws_close_all(self) -> None:
        for device_id in self.ws_connections:
            await self._ws_close(device_id, 1001)

    # ---- helpers -------------------------------------------------------------------------------

    def _token_for(self, generation: int) -> str:
        """Stable per app and generation, so the SDK's process-wide token cache stays usable."""
        seed = f"{self.app_id}\0{self.app_secret}\0{generation}".encode()
        return "t-g" + base64.b32encode(hashlib.sha256(seed).digest()).decode()[:40]

    def _chat(self, chat_id: str) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None or not chat.member:
            raise FeishuError(230002)
        return chat

    def _earlier(self, kind: str, uuid: str | None) -> Message | None:
        if uuid is None:
            return None
        found = self._uuids.get((kind, uuid))
        if found is None or self.clock() - found[1] >= UUID_WINDOW:
            return None
        return found[0]

    def _remember(self, kind: str, uuid: str | None, message: Message) -> None:
        if uuid is not None:
            self._uuids[(kind, uuid)] = (message, self.clock())

    def _content(self, msg_type: str, content: str, size: int) -> Any:
        """The parsed content, or Feishu's refusal: size, then JSON, then shape."""
        if size > self.limits.get(msg_type, TEXT_LIMIT):
            raise FeishuError(230025)
        try:
            parsed = json.loads(content)
        except ValueError:
            if msg_type == "interactive":
                raise FeishuError(230099, _card_ext(200621, PARSE_ERR, "invalid JSON")) from None
            raise FeishuError(230001, "invalid message content") from None
        if msg_type == "interactive":
            problem = card_problem(parsed, self.max_card_tables)
            if problem is not None:
                raise FeishuError(230099, problem)
            broken = card_problems(parsed) if self.check_cards else []
            if broken:
                with self._lock:
                    self.card_rule_breaks.append(broken)
                raise FeishuError(230099, _card_ext(200621, PARSE_ERR, "; ".join(broken)[:1000]))
        elif not _shaped(msg_type, parsed):
            raise FeishuError(230001, "invalid message content")
        elif msg_type in ("file", "audio", "media"):
            uploaded = next((f for f in self.files if f.file_key == parsed["file_key"]), None)
            if uploaded is None:
                raise FeishuError(230001, "invalid file_key")
            if _MEDIA.get(uploaded.file_type, "file") != msg_type:
                raise FeishuError(230055)
        return parsed

    def _new(self, chat_id: str, msg_type: str, parsed: Any, raw: str, uuid: str | None) -> Message:
        ms = int(self.clock() * 1000)
        message_id = f"om_{uuid_module.uuid4().hex}"
        message = Message(message_id, chat_id, msg_type, parsed, raw, ms, self.app_id, "app", uuid)
        self._add(message)
        return message

    def _add(self, message: Message) -> None:
        self.messages[message.chat_id].append(message)
        self._by_id[message.message_id] = message

    def _json(self, m: Message) -> dict[str, Any]:
        sender = {
            "id": m.sender_id,
            "id_type": "app_id" if m.sender_type == "app" else "open_id",
            "sender_type": m.sender_type,
            "tenant_key": self.tenant_key,
        }
        out: dict[str, Any] = {"message_id": m.message_id}
        out.update({k: v for k in ("root_id", "parent_id", "thread_id") if (v := getattr(m, k))})
        out.update(msg_type=m.msg_type, create_time=str(m.create_time))
        out.update(update_time=str(m.create_time), deleted=False, updated=False)
        out.update(chat_id=m.chat_id, sender=sender, body={"content": m.raw_content})
        if m.mentions:
            out["mentions"] = [
                {"key": x["key"], "id": x["id"]["open_id"], "id_type": "open_id", "name": x["name"]}
                | {"tenant_key": self.tenant_key}
                for x in m.mentions
            ]
        return out


def _ws_frame(service_id: int, method: int, headers: Mapping[str, str]) -> Any:
    """A lark `Frame` (proto2: SeqID, LogID, service and method are required)."""
    frame = Frame()
    frame.SeqID, frame.LogID = 0, secrets.randbelow(2**63)
    frame.service, frame.method = service_id, method
    for key, value in headers.items():
        header = frame.headers.add()
        header.key, header.value = key, value
    return frame


# ---- validation ------------------------------------------------------------------------------

PARSE_ERR = "parse card json err, please check whether the card json is correct"


def _fields(body: Mapping[str, Any]) -> tuple[str, str, str | None]:
    msg_type, content, uuid = body.get("msg_type"), body.get("content"), body.get("uuid")
    if not isinstance(msg_type, str) or not msg_type:
        raise FeishuError(99992402, violations=[("msg_type", "required")])
    if not isinstance(content, str) or not content:
        raise FeishuError(99992402, violations=[("content", "required, a JSON string")])
    if uuid is not None and (not isinstance(uuid, str) or len(uuid) > UUID_MAX):
        raise FeishuError(99992402, violations=[("uuid", f"the max len is {UUID_MAX}")])
    if msg_type not in MSG_TYPES:
        raise FeishuError(230001, "invalid msg_type")
    return msg_type, content, uuid or None


def _shaped(msg_type: str, content: Any) -> bool:
    """Content's JSON shape for its msg_type, as far as Feishu checks it before rendering."""
    if not isinstance(content, dict):
        return False
    if msg_type == "text":
        return isinstance(content.get("text"), str) and bool(content["text"])
    if msg_type == "post":  # {"zh_cn": {"title", "content": [[{"tag": ...}]]}}, maybe in "post"
        locales = content.get("post", content)
        bodies = list(locales.values()) if isinstance(locales, dict) else []
        return bool(bodies) and all(_post_body(body) for body in bodies)
    if msg_type in ("file", "audio", "media"):
        return isinstance(content.get("file_key"), str)
    if msg_type == "image":
        return isinstance(content.get("image_key"), str)
    return True


def _post_body(body: Any) -> bool:
    lines = body.get("content") if isinstance(body, dict) else None
    return isinstance(lines, list) and all(
        isinstance(line, list)
        and all(isinstance(x, dict) and isinstance(x.get("tag"), str) for x in line)
        for line in lines
    )


def _card_ext(code: int, msg: str, value: str, path: str | None = None) -> str:
    where = f"ErrPath: {path}; " if path else ""
    return f"ErrCode: {code}; {where}ErrMsg: {msg}; ErrorValue: {value}; "


def card_problem(card: Any, max_tables: int = MAX_CARD_TABLES) -> str | None:
    """The `ext` of Feishu's 230099 for a card it would refuse, or None; JSON 1.0 and 2.0."""
    if not isinstance(card, dict):
        return _card_ext(200621, PARSE_ERR, "card must be a JSON object")
    if card.get("type") == "template":  # the fake knows no templates
        data = card.get("data")
        tid = data.get("template_id") if isinstance(data, dict) else None
        msg = "template does not exist, please confirm whether this template has been released"
        return _card_ext(200380, msg, f"templateID: {tid}")
    header = card.get("header")
    if header is not None:
        title = header.get("title") if isinstance(header, dict) else None
        shaped = isinstance(title, dict) and title.get("tag") in ("plain_text", "lark_md")
        if title is not None and not (shaped and isinstance(title.get("content"), str)):
            return _card_ext(200621, PARSE_ERR, "header.title", "ROOT -> header -> title")
    v2 = str(card.get("schema", "")) == "2.0"
    body = card.get("body") if v2 else card
    elements = body.get("elements") if isinstance(body, dict) else None
    root = "ROOT -> body -> elements" if v2 else "ROOT -> elements"
    if not v2 and elements is None and isinstance(card.get("i18n_elements"), dict):
        elements = [e for v in card["i18n_elements"].values() if isinstance(v, list) for e in v]
    if not isinstance(elements, list) or not elements:
        return _card_ext(200621, PARSE_ERR, "elements must be a non-empty array", root)
    count = tables = 0
    for path, element in _walk(elements, root):
        count += 1
        if element is None:
            return _card_ext(200621, PARSE_ERR, "element without tag", path)
        tag = element["tag"]
        if v2 and tag in V2_DROPPED_TAGS:
            msg = "cards of schema V2 no longer support this capability"
            return _card_ext(200861, msg, f"unsupported tag {tag}", path)
        if tag == "table":
            tables += 1
            problem = _table_problem(element, path)
            if problem is not None:
                return problem
    if count > MAX_CARD_ELEMENTS:
        return _card_ext(11310, "element exceeds the limit", f"{count} elements")
    if tables > max_tables:
        return _card_ext(11310, "card table number over limit", "table")
    return None


def _walk(elements: list[Any], path: str) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Every element with its ErrPath, containers' children included; None for a tagless one."""
    for i, element in enumerate(elements):
        if not isinstance(element, dict) or not isinstance(element.get("tag"), str):
            yield f"{path} -> [{i}]", None
            continue
        here = f"{path} -> [{i}](tag: {element['tag']})"
        yield here, element
        keys = ("elements", "actions", "columns" if element["tag"] == "column_set" else "")
        for key in filter(None, keys):
            if isinstance(element.get(key), list):
                yield from _walk(element[key], f"{here} -> {key}")


def _table_problem(table: Mapping[str, Any], path: str) -> str | None:
    columns, rows = table.get("columns"), table.get("rows", [])
    if not isinstance(columns, list) or not isinstance(rows, list):
        return _card_ext(200914, "table rows is invalid", "columns and rows", path)
    names = {c.get("name") for c in columns if isinstance(c, dict)}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            return _card_ext(200914, "table rows is invalid", f"row {i}", path)
        unknown = sorted(str(k) for k in row if k not in names)
        if unknown:
            return _card_ext(200915, "table rows name is invalid", ", ".join(unknown), path)
    return None


# ---- wire helpers ----------------------------------------------------------------------------


def _log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def _error(call: Call, e: FeishuError) -> web.Response:
    log_id = _log_id()
    detail: dict[str, Any] = {"log_id": log_id}
    detail["troubleshooter"] = f"{_TROUBLESHOOT}&log_id={log_id}&code={e.code}"
    if e.violations:
        detail["field_violations"] = [{"field": f, "description": d} for f, d in e.violations]
    call.status, call.code = e.status, e.code
    body = {"code": e.code, "msg": e.msg, "error": detail}
    return web.json_response(body, status=e.status, headers={"X-Tt-Logid": log_id})


def _fault(call: Call, fault: Fault) -> web.Response:
    call.status, call.code = fault.status, fault.code
    headers = dict(fault.headers)
    if fault.code is None:
        return web.Response(status=fault.status, text=fault.msg, content_type="text/html")
    headers["X-Tt-Logid"] = _log_id()
    body = {"code": fault.code, "msg": fault.msg, "error": {"log_id": headers["X-Tt-Logid"]}}
    return web.json_response(body, status=fault.status, headers=headers)


def _json_object(raw: bytes, *, validation: bool = False) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if validation:
            raise FeishuError(99992402, violations=[("body", "must be a JSON object")])
        raise FeishuError(10003)
    return body


def _param(value: Any) -> str | None:
    return None if value is None else email.utils.collapse_rfc2231_value(value)


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Fields and file parts of a multipart/form-data body, byte-exact."""
    header = email.message.Message()
    header["Content-Type"] = content_type
    boundary = _param(header.get_param("boundary"))
    if header.get_content_type() != "multipart/form-data" or not boundary:
        raise FeishuError(234001)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for chunk in raw.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        part = email.parser.BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = _param(part.get_param("name", header="content-disposition"))
        data = data.removesuffix(b"\r\n")
        if name is None:
            continue
        if name == "file" or part.get_filename() is not None:  # lark-oapi sends no filename
            files[name] = data
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _recorded_body(content_type: str, raw: bytes) -> Any:
    """The body for `Call.body`: JSON parsed, multipart summarised, app_secret redacted."""
    if content_type.startswith("multipart/"):
        try:
            fields, files = _multipart(content_type, raw)
        except FeishuError:
            return {"bytes": len(raw)}
        return {**fields, **{k: {"size": len(v)} for k, v in files.items()}}
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")
    if isinstance(body, dict) and "app_secret" in body:
        body["app_secret"] = "[redacted]"
    if isinstance(body, dict) and "AppSecret" in body:  # the long connection's endpoint
        body["AppSecret"] = "[redacted]"
    return body


# ---- the inbound side: callbacks, encryption, signatures ---------------------------------


def _event_header(
    event_type: str, app_id: str, tenant_key: str, token: str, event_id: str | None, created: str
) -> dict[str, str]:
    return {
        "event_id": event_id or uuid_module.uuid4().hex,
        "event_type": event_type,
        "create_time": created,
        "token": token,
        "app_id": app_id,
        "tenant_key": tenant_key,
    }


def message_event(
    text: str,
    *,
    app_id: str,
    tenant_key: str,
    verification_token: str,
    chat_id: str = DEFAULT_CHAT,
    chat_type: str = "group",
    sender_open_id: str = USER_OPEN_ID,
    sender_user_id: str = USER_ID,
    sender_union_id: str = USER_UNION_ID,
    mention: str | None = None,  # the bot's name: the text starts with "@_user_1 "
    bot_open_id: str = BOT_OPEN_ID,
    message_id: str | None = None,
    root_id: str | None = None,
    parent_id: str | None = None,
    event_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """An `im.message.receive_v1` callback (schema 2.0), a text message from a user."""
    ms = str(int((time.time() if now is None else now) * 1000))
    message: dict[str, Any] = {"message_id": message_id or f"om_{uuid_module.uuid4().hex}"}
    if root_id:
        message.update(root_id=root_id, parent_id=parent_id or root_id)
    message.update(create_time=ms, update_time=ms, chat_id=chat_id, chat_type=chat_type)
    content = f"@_user_1 {text}" if mention else text
    message.update(message_type="text", content=json.dumps({"text": content}, ensure_ascii=False))
    if mention:
        ids = {"union_id": BOT_UNION_ID, "user_id": "", "open_id": bot_open_id}
        mentioned = {"key": "@_user_1", "id": ids, "name": mention, "tenant_key": tenant_key}
        message["mentions"] = [mentioned]
    sender_ids = {"union_id": sender_union_id, "user_id": sender_user_id, "open_id": sender_open_id}
    sender = {"sender_id": sender_ids, "sender_type": "user", "tenant_key": tenant_key}
    header = _event_header(
        "im.message.receive_v1", app_id, tenant_key, verification_token, event_id, ms
    )
    return {"schema": "2.0", "header": header, "event": {"sender": sender, "message": message}}


def card_action_event(
    value: Mapping[str, Any],
    *,
    app_id: str,
    tenant_key: str,
    verification_token: str,
    open_message_id: str,
    open_chat_id: str,
    operator_open_id: str = USER_OPEN_ID,
    operator_user_id: str = USER_ID,
    operator_union_id: str = USER_UNION_ID,
    tag: str = "button",
    name: str | None = None,
    form_value: Mapping[str, Any] | None = None,
    event_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """A `card.action.trigger` callback (schema 2.0): `action.value` is the button's value."""
    us = str(int((time.time() if now is None else now) * 1_000_000))  # microseconds, as documented
    operator = {"tenant_key": tenant_key, "user_id": operator_user_id}
    operator.update(open_id=operator_open_id, union_id=operator_union_id)
    action: dict[str, Any] = {"value": dict(value), "tag": tag}
    if name is not None:
        action["name"] = name
    if form_value is not None:
        action["form_value"] = dict(form_value)
    event = {
        "operator": operator,
        "token": f"c-{secrets.token_hex(20)}",  # the card's update token
        "action": action,
        "host": "im_message",
        "context": {"open_message_id": open_message_id, "open_chat_id": open_chat_id},
    }
    header = _event_header(
        "card.action.trigger", app_id, tenant_key, verification_token, event_id, us
    )
    return {"schema": "2.0", "header": header, "event": event}


def url_verification(verification_token: str, challenge: str | None = None) -> dict[str, Any]:
    """The challenge Feishu sends when the callback URL is saved; answer {"challenge": ...}."""
    challenge = challenge or secrets.token_urlsafe(16)
    return {"challenge": challenge, "token": verification_token, "type": "url_verification"}


def _aes_key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode()).digest()


def encrypt(body: Mapping[str, Any] | str | bytes, encrypt_key: str) -> dict[str, str]:
    """Feishu's `{"encrypt": ...}`: base64(IV + AES-256-CBC(PKCS#7(body))), key sha256(key)."""
    if isinstance(body, Mapping):
        raw = json.dumps(body, ensure_ascii=False).encode()
    else:
        raw = body.encode() if isinstance(body, str) else body
    iv = os.urandom(AES.block_size)
    sealed = AES.new(_aes_key(encrypt_key), AES.MODE_CBC, iv).encrypt(pad(raw, AES.block_size))
    return {"encrypt": base64.b64encode(iv + sealed).decode()}


def decrypt(encrypted: str, encrypt_key: str) -> str:
    """The inverse of `encrypt` (the `encrypt` field's value in, the JSON text out)."""
    sealed = base64.b64decode(encrypted)
    cipher = AES.new(_aes_key(encrypt_key), AES.MODE_CBC, sealed[: AES.block_size])
    return unpad(cipher.decrypt(sealed[AES.block_size :]), AES.block_size).decode()


def signature_headers(
    body: bytes | str,
    encrypt_key: str,
    timestamp: int | str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Feishu's request signature: sha256 hex of timestamp + nonce + encrypt_key + body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = str(secrets.randbelow(10**10)) if nonce is None else nonce
    raw = body.encode() if isinstance(body, str) else body
    signature = hashlib.sha256((ts + nonce + encrypt_key).encode() + raw).hexdigest()
    return {
        "X-Lark-Request-Timestamp": ts,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": signature,
    }


def callback_request(
    payload: Mapping[str, Any],
    *,
    encrypt_key: str | None = None,
    timestamp: int | str | None = None,
    nonce: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a callback POST: with a key, encrypted and signed; else plain JSON."""
    sealed = encrypt(payload, encrypt_key) if encrypt_key else payload
    body = json.dumps(sealed, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers["X-Request-Id"] = str(uuid_module.uuid4())
    if encrypt_key:
        headers.update(signature_headers(body, encrypt_key, timestamp, nonce))
    return body, headers
