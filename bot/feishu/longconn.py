"""Feishu over the long connection: lark-oapi's websocket client in a thread of its own.

`lark_oapi.ws.Client` cannot run inside a running asyncio loop: it keeps a module-level loop, taken
at import, and `start()` blocks in `loop.run_until_complete` for as long as it lives. So it runs
in a daemon thread with a new loop, put in the SDK's module before the client is built (its
frame cache starts a task on the current loop in its constructor). Its handlers turn lark's
event objects back into the schema 2.0 dict our HTTP callback produces and hand them to
`FeishuBot.accept` on the main loop, which de-duplicates by event id: Feishu re-delivers over
the long connection as it does over HTTP.

The websocket itself is authenticated (the app secret opened it), so there is no signature or
verification token to check. A card action must be answered within 3 seconds: the handler waits
for `accept` (a row in the store) at most CARD_WAIT seconds and answers with its toast.

lark-oapi 1.7.5 answers `card.action.trigger` callbacks that arrive in "event" frames (the path
Feishu documents for callbacks over the long connection), but silently drops frames of type
"card" (larksuite/oapi-sdk-python#126), which Feishu has been seen to use for the same callback;
the client here answers those too, through the same dispatcher.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import http
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import lark_oapi.ws.client as ws_client  # type: ignore[import-untyped]
from lark_oapi.core.const import FEISHU_DOMAIN  # type: ignore[import-untyped]
from lark_oapi.core.enum import LogLevel  # type: ignore[import-untyped]
from lark_oapi.core.json import JSON  # type: ignore[import-untyped]
from lark_oapi.event.callback.model.p2_card_action_trigger import (  # type: ignore[import-untyped]
    P2CardActionTriggerResponse,
)
from lark_oapi.event.dispatcher_handler import (  # type: ignore[import-untyped]
    EventDispatcherHandler,
)
from lark_oapi.ws.const import (  # type: ignore[import-untyped]
    HEADER_BIZ_RT,
    HEADER_MESSAGE_ID,
    HEADER_SEQ,
    HEADER_SUM,
    HEADER_TYPE,
)
from lark_oapi.ws.exception import ClientException  # type: ignore[import-untyped]
from lark_oapi.ws.model import Response  # type: ignore[import-untyped]

from bot.feishu.bot import FeishuBot
from bot.feishu.client import FeishuFailed
from bot.ops.logs import short_error
from bot.ops.settings import Settings

log = logging.getLogger(__name__)

CARD_WAIT = 2.0  # seconds a card action waits for accept's toast (Feishu gives 3)
EVENT_WAIT = 2.5  # seconds a message event waits for accept before Feishu is told to retry
WORKING_TOAST = {"type": "info", "content": "⏳ …"}
FAILED_TOAST = {"type": "error", "content": "⚠️"}
_STOPPED = "Event loop stopped before Future completed"


class LongConnection:
    """`start()` opens the long connection in its own thread; `stop()` closes it."""

    def __init__(
        self,
        settings: Settings,
        bot: FeishuBot,
        main_loop: asyncio.AbstractEventLoop,
        *,
        card_wait: float = CARD_WAIT,
        event_wait: float = EVENT_WAIT,
    ) -> None:
        secret = settings.feishu_app_secret
        self._app_id = settings.feishu_app_id or ""
        self._app_secret = secret.get_secret_value() if secret is not None else ""
        self._domain = settings.feishu_api_url or FEISHU_DOMAIN
        self._bot = bot
        self._main = main_loop
        self._card_wait = card_wait
        self._event_wait = event_wait
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: _WsClient | None = None
        self._connected = threading.Event()  # the first connection is open
        self._settled = threading.Event()  # connected, or the client gave up
        self._failure: FeishuFailed | None = None
        self._stopping = False
        self._in_start = False  # the SDK's start() runs the loop: only then may it be stopped

    @property
    def connected(self) -> bool:
        client = self._client
        return client is not None and client.is_open()

    def start(self) -> None:
        """Start the thread; `wait_connected` tells when (and whether) Feishu let us in."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="feishu-longconn", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        """Block until the first connection is open (True) or `timeout` passed (False: the client
        keeps retrying); FeishuFailed when Feishu refused the app (no retry will help)."""
        self._settled.wait(timeout)
        if self._failure is not None:
            raise self._failure
        return self._connected.is_set()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and end the thread; blocks up to `timeout` seconds."""
        self._stopping = True
        client, loop, thread = self._client, self._loop, self._thread
        if client is not None:
            client.closing()
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed in between: it is ending anyway
                loop.call_soon_threadsafe(self._halt, loop)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("The Feishu long connection did not stop within %.0f s", timeout)
        self._thread = None

    # ---- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(_quiet)
        ws_client.loop = loop  # the SDK's module-level loop: ours, in this thread
        self._loop = loop
        try:
            if self._stopping:
                return
            handler = (
                EventDispatcherHandler.builder("", "")
                .register_p2_im_message_receive_v1(self._on_message)
                .register_p2_card_action_trigger(self._on_card_action)
                .build()
            )
            self._client = _WsClient(
                self._app_id,
                self._app_secret,
                log_level=LogLevel.ERROR,
                event_handler=handler,
                domain=self._domain,
                on_open=self._opened,
            )
            if self._stopping:  # stop() came while the client was being built
                self._client.closing()
            self._in_start = True
            try:
                self._client.start()  # returns only by an exception
            finally:
                self._in_start = False
        except ClientException as exc:  # Feishu refused the app: the SDK does not retry
            self._failure = FeishuFailed(int(exc.code), str(exc.args[0] if exc.args else exc))
            if self._connected.is_set():  # on a reconnect: nobody waits for it, so say it here
                log.error("Feishu refused the long connection (code %s)", exc.code)
        except RuntimeError as exc:
            if _STOPPED not in str(exc):
                log.error("The Feishu long connection failed: %s", short_error(exc))
        except Exception as exc:
            if not self._stopping:
                log.error("The Feishu long connection failed: %s", short_error(exc))
        finally:
            self._settled.set()
            try:
                self._close(loop)
            except Exception as exc:  # never a traceback from this thread on shutdown
                log.debug("closing the Feishu long connection: %s", short_error(exc))

    def _close(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel what the SDK left running, close the websocket cleanly, close the loop."""
        client = self._client
        if client is not None:
            client.closing()
        for _ in range(3):  # a task cancelled inside a `finally: await sleep` needs a second
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            if not tasks:
                break
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.wait(tasks, timeout=1.0))
        if client is not None:
            try:
                loop.run_until_complete(asyncio.wait_for(client.close(), 2.0))
            except Exception as exc:
                log.debug("closing the Feishu websocket: %s", short_error(exc))
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def _halt(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop's thread: end the SDK's start(); not our own cleanup after it."""
        if self._in_start:
            loop.stop()

    def _opened(self) -> None:
        self._connected.set()
        self._settled.set()

    # ---- events, in the long connection's thread -------------------------------------------

    def _hand_over(self, payload: dict[str, Any], wait: float) -> dict[str, Any]:
        """`accept` on the main loop; its answer within `wait` seconds."""
        header = payload.get("header") or {}
        event_type = str(header.get("event_type") or "")
        event_id = str(header.get("event_id") or "")
        if not event_id:
            log.info("Feishu event without an event id, dropped")
            return {}
        if self._main.is_closed():
            raise RuntimeError("the main loop is closed")
        future = asyncio.run_coroutine_threadsafe(
            self._bot.accept(event_type, event_id, payload), self._main
        )
        return future.result(timeout=wait)

    def _on_message(self, data: Any) -> None:
        """im.message.receive_v1; raising makes the SDK answer 500, and Feishu delivers again."""
        try:
            self._hand_over(_as_dict(data), self._event_wait)
        except concurrent.futures.TimeoutError:
            log.warning("A Feishu message event took over %.0f s to accept", self._event_wait)
            raise
        except Exception as exc:
            log.warning("A Feishu message event was not accepted: %s", short_error(exc))
            raise

    def _on_card_action(self, data: Any) -> Any:
        """card.action.trigger: a toast within Feishu's 3 seconds, the work on the main loop."""
        try:
            answer = self._hand_over(_as_dict(data), self._card_wait)
        except concurrent.futures.TimeoutError:  # accept goes on: say it is under way
            answer = {"toast": dict(WORKING_TOAST)}
        except Exception as exc:
            log.warning("A Feishu card action was not accepted: %s", short_error(exc))
            answer = {"toast": dict(FAILED_TOAST)}
        return P2CardActionTriggerResponse(answer)


class _WsClient(ws_client.Client):  # type: ignore[misc]
    """lark's client, telling when it is connected, and answering "card" frames as events."""

    def __init__(self, *args: Any, on_open: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_open = on_open

    def is_open(self) -> bool:
        return self._conn is not None

    def closing(self) -> None:
        """No reconnecting from now on (a plain attribute: safe from another thread)."""
        self._auto_reconnect = False

    async def close(self) -> None:
        await self._disconnect()

    async def _connect(self) -> None:
        await super()._connect()
        if self._conn is not None:
            self._on_open()

    async def _handle_data_frame(self, frame: Any) -> None:
        if _header(frame, HEADER_TYPE) != "card":
            await super()._handle_data_frame(frame)
            return
        message_id = _header(frame, HEADER_MESSAGE_ID)
        payload: bytes | None = frame.payload
        parts = int(_header(frame, HEADER_SUM) or "1")
        if parts > 1:
            payload = self._combine(
                message_id, parts, int(_header(frame, HEADER_SEQ) or "0"), payload
            )
            if payload is None:
                return
        response = Response(code=http.HTTPStatus.OK)
        started = time.monotonic()
        try:
            result = self._event_handler._do_without_validation(payload)
            if result is not None:
                response.data = base64.b64encode(JSON.marshal(result).encode())
        except Exception as exc:
            log.warning("A Feishu card frame failed: %s", short_error(exc))
            response = Response(code=http.HTTPStatus.INTERNAL_SERVER_ERROR)
        header = frame.headers.add()
        header.key, header.value = HEADER_BIZ_RT, str(int((time.monotonic() - started) * 1000))
        frame.payload = JSON.marshal(response).encode()
        await self._write_message(frame.SerializeToString())


def _header(frame: Any, key: str) -> str:
    return next((str(h.value) for h in frame.headers if h.key == key), "")


def _as_dict(data: Any) -> dict[str, Any]:
    """A lark event object as the schema 2.0 JSON Feishu sent (fields lark does not model are
    lost; the bot reads none of them)."""
    out = json.loads(JSON.marshal(data) or "{}")
    return out if isinstance(out, dict) else {}


def _quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The SDK's own tasks end with exceptions it has logged already: one debug line each."""
    error = context.get("exception")
    log.debug("Feishu long connection: %s", type(error).__name__ if error else context["message"])
