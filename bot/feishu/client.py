"""The one Feishu Open API client: lark-oapi's synchronous calls in worker threads, with retries.

lark-oapi raises nothing for an error code, retries nothing, and fetches its tenant token with
blocking I/O even from its async methods; so every call runs in a thread, answers are checked
here, rate limits and 5xx are retried with the reset Feishu announces, and a rejected token is
dropped from lark's process-wide cache before one more try.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable
from typing import Any

from lark_oapi.api.im.v1 import (  # type: ignore[import-untyped]
    CreateFileRequest,
    CreateFileRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.api.im.v1.resource import File, Message  # type: ignore[import-untyped]
from lark_oapi.core.enum import LogLevel  # type: ignore[import-untyped]
from lark_oapi.core.log import logger as lark_logger  # type: ignore[import-untyped]
from lark_oapi.core.model import Config  # type: ignore[import-untyped]
from lark_oapi.core.token.manager import TokenManager  # type: ignore[import-untyped]

from digest.errors import ServiceUnavailable

log = logging.getLogger(__name__)

RATE_LIMITED = {99991400, 230020}
BAD_TOKEN = {99991661, 99991663}
UUID_MAX = 50


class FeishuFailed(ServiceUnavailable):
    """Feishu kept answering with an error code; `code` is Feishu's (-1: no answer at all)."""

    def __init__(self, code: int, msg: str, status: int = 0) -> None:
        super().__init__("Feishu", f"code {code}")
        self.code = code
        self.msg = msg
        self.status = status

    @property
    def transient(self) -> bool:
        """Worth trying again later: no answer, a rate limit or a server error. A refusal
        (the bot left the chat, a bad card) is not."""
        return (
            self.code == -1
            or self.code in RATE_LIMITED
            or self.status in (429,)
            or (self.status >= 500)
        )


class FeishuClient:
    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        domain: str | None = None,
        attempts: int = 4,
        max_wait: float = 10.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        # What `lark.Client.builder()...build()` makes, from the messaging API alone: the
        # builder imports every service of the SDK (bot/feishu/sdk.py).
        config = Config()
        config.app_id, config.app_secret = app_id, app_secret
        if domain:
            config.domain = domain.rstrip("/")
        config.log_level = LogLevel.ERROR
        lark_logger.setLevel(int(LogLevel.ERROR.value))
        self._messages, self._files = Message(config), File(config)
        self._app_id = app_id
        self._attempts = attempts
        self._max_wait = max_wait
        self._sleep = sleep

    async def send(
        self, chat_id: str, msg_type: str, content: dict[str, Any], *, uuid: str | None = None
    ) -> str:
        """A new message in a chat; `uuid` makes a repeat within an hour return the first."""

        def request() -> Any:
            body = (
                CreateMessageRequestBody.builder()
                .receive_id(chat_id)
                .msg_type(msg_type)
                .content(json.dumps(content, ensure_ascii=False))
            )
            if uuid:
                body = body.uuid(uuid[:UUID_MAX])
            return (
                CreateMessageRequest.builder()
                .receive_id_type("chat_id")
                .request_body(body.build())
                .build()
            )

        data = await self._call(lambda: self._messages.create(request()))
        return str(data.message_id)

    async def reply(
        self,
        message_id: str,
        msg_type: str,
        content: dict[str, Any],
        *,
        uuid: str | None = None,
        in_thread: bool = False,
    ) -> str:
        def request() -> Any:
            body = (
                ReplyMessageRequestBody.builder()
                .msg_type(msg_type)
                .content(json.dumps(content, ensure_ascii=False))
                .reply_in_thread(in_thread)
            )
            if uuid:
                body = body.uuid(uuid[:UUID_MAX])
            return (
                ReplyMessageRequest.builder()
                .message_id(message_id)
                .request_body(body.build())
                .build()
            )

        data = await self._call(lambda: self._messages.reply(request()))
        return str(data.message_id)

    async def upload_file(self, name: str, content: bytes) -> str:
        def request() -> Any:  # request objects are single-use: the upload consumes the body
            body = (
                CreateFileRequestBody.builder()
                .file_type("stream")
                .file_name(name)
                .file(io.BytesIO(content))
                .build()
            )
            return CreateFileRequest.builder().request_body(body).build()

        data = await self._call(lambda: self._files.create(request()))
        return str(data.file_key)

    async def _call(self, call: Callable[[], Any]) -> Any:
        delay = 0.5
        last: tuple[int, str, int] = (0, "", 0)
        for attempt in range(self._attempts):
            try:
                response = await asyncio.to_thread(call)
            except Exception as exc:  # a non-JSON 5xx page, a connection error
                last = (-1, type(exc).__name__, 0)
                await self._sleep(min(delay, self._max_wait))
                delay *= 2
                continue
            code = int(getattr(response, "code", -1) or 0)
            if code == 0:
                return response.data
            status = _status(response)
            last = (code, str(getattr(response, "msg", "")), status)
            if code in BAD_TOKEN and attempt == 0:
                TokenManager.cache.set(f"self_tenant_token:{self._app_id}", "", 0)
                continue
            if code in RATE_LIMITED or status == 429:
                await self._sleep(min(_reset(response) or delay, self._max_wait))
                delay *= 2
                continue
            if status >= 500:
                await self._sleep(min(delay, self._max_wait))
                delay *= 2
                continue
            break
        log.warning("Feishu call failed: code %s", last[0])
        raise FeishuFailed(*last)


def _status(response: Any) -> int:
    raw = getattr(response, "raw", None)
    return int(getattr(raw, "status_code", 0) or 0)


def _reset(response: Any) -> float | None:
    raw = getattr(response, "raw", None)
    headers = {str(k).lower(): v for k, v in (getattr(raw, "headers", None) or {}).items()}
    try:
        return float(headers["x-ogw-ratelimit-reset"])
    except (KeyError, TypeError, ValueError):
        return None
