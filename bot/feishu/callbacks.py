"""Feishu callbacks, checked: signature, a timestamp window, decryption and the verification token.

lark-oapi decrypts and checks signatures, but accepts any timestamp and a plain body even when an
encrypt key is set, and never de-duplicates; Feishu re-delivers events. So the checks live here
(pure, the clock passed in), and de-duplication by event id lives in the store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lark_oapi.core.utils.decryptor import AESCipher  # type: ignore[import-untyped]

WINDOW_SECONDS = 5 * 60


class CallbackRejected(Exception):
    """Refuse the request (401); `reason` is for our log, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Callback:
    kind: str  # "url_verification" | "event"
    event_type: str  # e.g. im.message.receive_v1, card.action.trigger
    event_id: str
    payload: dict[str, Any]


def parse_callback(
    body: bytes,
    headers: Mapping[str, str],
    *,
    encrypt_key: str | None,
    verification_token: str | None,
    now: float,
) -> Callback:
    lower = {k.lower(): v for k, v in headers.items()}
    if encrypt_key:
        _check_signature(body, lower, encrypt_key, now)
    try:
        outer = json.loads(body)
    except ValueError:
        raise CallbackRejected("not JSON") from None
    if not isinstance(outer, dict):
        raise CallbackRejected("not a JSON object")
    if encrypt_key:
        if "encrypt" not in outer:
            raise CallbackRejected("plain body while an encrypt key is configured")
        try:
            outer = json.loads(AESCipher(encrypt_key).decrypt_str(str(outer["encrypt"])))
        except Exception:
            raise CallbackRejected("cannot decrypt") from None
        if not isinstance(outer, dict):
            raise CallbackRejected("decrypted body is not an object")
    if outer.get("type") == "url_verification":
        _check_token(str(outer.get("token", "")), verification_token)
        return Callback("url_verification", "", "", outer)
    header = outer.get("header")
    if not isinstance(header, dict):
        raise CallbackRejected("no schema 2.0 header")
    _check_token(str(header.get("token", "")), verification_token)
    event_id = str(header.get("event_id") or "")
    if not event_id:
        raise CallbackRejected("no event id")
    return Callback("event", str(header.get("event_type") or ""), event_id, outer)


def _check_signature(body: bytes, headers: Mapping[str, str], key: str, now: float) -> None:
    timestamp = headers.get("x-lark-request-timestamp", "")
    nonce = headers.get("x-lark-request-nonce", "")
    signature = headers.get("x-lark-signature", "")
    if not (timestamp and nonce and signature):
        raise CallbackRejected("missing signature headers")
    try:
        sent = float(timestamp)
    except ValueError:
        raise CallbackRejected("bad timestamp") from None
    if abs(now - sent) > WINDOW_SECONDS:
        raise CallbackRejected("timestamp outside the window")
    expected = hashlib.sha256((timestamp + nonce + key).encode() + body).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise CallbackRejected("bad signature")


def _check_token(token: str, expected: str | None) -> None:
    if expected and not hmac.compare_digest(token.encode(), expected.encode()):
        raise CallbackRejected("wrong verification token")
