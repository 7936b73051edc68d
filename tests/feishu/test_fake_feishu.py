"""The fake Feishu Open API driven by the real lark-oapi client; its callbacks read by lark-oapi."""

from __future__ import annotations

import io
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import lark_oapi as lark  # type: ignore[import-untyped]
import pytest
from lark_oapi.api.im.v1 import (  # type: ignore[import-untyped]
    CreateFileRequest,
    CreateFileRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    GetMessageRequest,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.cache import LocalCache  # type: ignore[import-untyped]
from lark_oapi.core.exception import ObtainAccessTokenException  # type: ignore[import-untyped]
from lark_oapi.core.model import RawRequest  # type: ignore[import-untyped]
from lark_oapi.core.token import TokenManager  # type: ignore[import-untyped]
from lark_oapi.core.utils.decryptor import AESCipher  # type: ignore[import-untyped]
from lark_oapi.event.callback.model.p2_card_action_trigger import (  # type: ignore[import-untyped]
    P2CardActionTriggerResponse,
)

from tests.fakes.feishu import (
    CARD_LIMIT,
    DEFAULT_CHAT,
    USER_OPEN_ID,
    FakeFeishu,
    Fault,
    callback_request,
    decrypt,
    encrypt,
    signature_headers,
)
from tests.waiting import HANG

SECRET = "app-secret-for-tests"
ENCRYPT_KEY = "encrypt-key-for-tests"
VERIFICATION = "verification-token-for-tests"
OTHER_CHAT = "oc_fakeother00000000000000000002"


@pytest.fixture
def app_id() -> str:
    """A fresh app per test: lark-oapi caches tenant tokens per app_id for the whole process."""
    return f"cli_{secrets.token_hex(8)}"


@pytest.fixture
def feishu(app_id: str) -> Iterator[FakeFeishu]:
    chats = {DEFAULT_CHAT: "digest", OTHER_CHAT: "other"}
    fake = FakeFeishu(
        app_id=app_id,
        app_secret=SECRET,
        verification_token=VERIFICATION,
        encrypt_key=ENCRYPT_KEY,
        chats=chats,
        check_cards=False,  # the fake's own tests post cards of every kind, ours or not
    )
    with fake:
        yield fake


def client_for(fake: FakeFeishu, secret: str = SECRET) -> Any:
    builder = lark.Client.builder().app_id(fake.app_id).app_secret(secret).domain(fake.url)
    return builder.log_level(lark.LogLevel.CRITICAL).build()


def create(chat: str, msg_type: str, content: Any, uuid: str | None = None) -> Any:
    raw = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    body = CreateMessageRequestBody.builder().receive_id(chat).msg_type(msg_type).content(raw)
    if uuid is not None:
        body = body.uuid(uuid)
    builder = CreateMessageRequest.builder().receive_id_type("chat_id")
    return builder.request_body(body.build()).build()


def reply(message_id: str, text: str, *, in_thread: bool = False) -> Any:
    content = json.dumps({"text": text}, ensure_ascii=False)
    body = ReplyMessageRequestBody.builder().msg_type("text").content(content)
    body = body.reply_in_thread(in_thread).build()
    return ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()


def upload(name: str, data: bytes, file_type: str = "stream") -> Any:
    body = CreateFileRequestBody.builder().file_type(file_type).file_name(name)
    return CreateFileRequest.builder().request_body(body.file(io.BytesIO(data)).build()).build()


def card_v2(*elements: dict[str, Any], title: str = "octo/demo · 2026-02-05") -> dict[str, Any]:
    header = {"title": {"tag": "plain_text", "content": title}, "template": "blue"}
    return {"schema": "2.0", "header": header, "body": {"elements": list(elements)}}


def table(rows: list[dict[str, str]]) -> dict[str, Any]:
    columns = [{"name": n, "display_name": n, "data_type": "text"} for n in ("time", "commit")]
    return {"tag": "table", "columns": columns, "rows": rows}


def raw_post(fake: FakeFeishu, path: str, body: bytes, token: str | None) -> tuple[int, Any]:
    """A POST without the SDK, for what it never sends (bad tokens, exact body sizes)."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(fake.url + path, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HANG) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, json.loads(
            text
        ) if e.headers.get_content_type() == "application/json" else text


def token_of(fake: FakeFeishu) -> str:
    body = json.dumps({"app_id": fake.app_id, "app_secret": SECRET}).encode()
    status, answer = raw_post(fake, "/open-apis/auth/v3/tenant_access_token/internal", body, None)
    assert status == 200 and answer["code"] == 0 and answer["msg"] == "ok"
    return str(answer["tenant_access_token"])


def dispatch(handler: Any, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """lark-oapi's own webhook dispatcher (decrypt, token, signature) on a callback."""
    request = RawRequest()
    request.uri, request.body, request.headers = "/feishu/events", body, headers
    response = handler.do(request)
    return response.status_code, json.loads(response.content)


# ---- the Open API ----------------------------------------------------------------------------


def test_the_sdk_gets_a_tenant_token_and_posts_a_text_message(feishu: FakeFeishu) -> None:
    answer = client_for(feishu).im.v1.message.create(
        create(DEFAULT_CHAT, "text", {"text": "你好, digest"})
    )
    assert (answer.code, answer.msg) == (0, "success")
    assert answer.data.sender.id == feishu.app_id and answer.data.sender.id_type == "app_id"
    assert answer.data.chat_id == DEFAULT_CHAT and answer.data.msg_type == "text"
    [token_call, post] = feishu.calls
    assert token_call.endpoint == "tenant_access_token"
    assert token_call.body == {"app_id": feishu.app_id, "app_secret": "[redacted]"}
    assert post.endpoint == "im.message.create" and post.auth_ok and post.code == 0
    assert post.query == {"receive_id_type": "chat_id"}
    assert post.headers["Authorization"] == "Bearer [redacted]"
    [message] = feishu.sent(DEFAULT_CHAT)
    assert message.message_id == answer.data.message_id and message.text == "你好, digest"
    assert message.sender_type == "app" and not message.is_reply


def test_credentials_and_tokens_are_checked(feishu: FakeFeishu) -> None:
    with pytest.raises(ObtainAccessTokenException) as refused:
        client_for(feishu, secret="wrong").im.v1.message.create(
            create(DEFAULT_CHAT, "text", {"text": "hi"})
        )
    assert refused.value.code == 10014 and feishu.calls_to("im.message.create") == []
    body = json.dumps({"receive_id": DEFAULT_CHAT, "msg_type": "text", "content": '{"text":"x"}'})
    path = "/open-apis/im/v1/messages?receive_id_type=chat_id"
    status, answer = raw_post(feishu, path, body.encode(), None)
    assert (status, answer["code"]) == (400, 99991661)
    status, answer = raw_post(feishu, path, body.encode(), "t-g-not-a-token")
    assert (status, answer["code"]) == (400, 99991663) and answer["error"]["log_id"]
    assert raw_post(feishu, path, body.encode(), token_of(feishu))[1]["code"] == 0
    assert [c.auth_ok for c in feishu.calls_to("im.message.create")] == [False, False, True]


def test_a_revoked_token_keeps_failing_until_the_sdk_cache_is_cleared(
    feishu: FakeFeishu, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(feishu)
    assert client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "1"})).code == 0
    feishu.revoke_tokens()
    for _ in range(2):  # lark-oapi never drops a cached token on 99991663
        answer = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "2"}))
        assert answer.code == 99991663
    monkeypatch.setattr(TokenManager, "cache", LocalCache())
    assert client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "3"})).code == 0
    assert len(feishu.calls_to("tenant_access_token")) == 2
    assert [m.text for m in feishu.sent(DEFAULT_CHAT)] == ["1", "3"]


async def test_an_interactive_card_from_the_async_client(app_id: str) -> None:
    async with FakeFeishu(app_id=app_id, app_secret=SECRET, check_cards=False) as fake:
        card = card_v2(
            {"tag": "markdown", "content": "**26** 个提交 · 🔴 高 5"},
            table([{"time": "17:22", "commit": "ci: Using Dynamo Builder (#5914)"}]),
            {"tag": "button", "text": {"tag": "plain_text", "content": "完整分析"}}
            | {"behaviors": [{"type": "callback", "value": {"sha": "a78a426"}}]},
        )
        answer = await client_for(fake).im.v1.message.acreate(
            create(DEFAULT_CHAT, "interactive", card)
        )
        assert answer.code == 0 and answer.data.msg_type == "interactive"
        [posted] = fake.sent(DEFAULT_CHAT)
        assert posted.card == card and json.loads(answer.data.body.content) == card


def test_replies_plain_and_in_a_thread(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    event = feishu.message_event("/digest help")
    asked = event["event"]["message"]["message_id"]
    first = client.im.v1.message.reply(reply(asked, "usage: /digest ..."))
    assert first.code == 0 and first.data.root_id == asked and first.data.parent_id == asked
    assert first.data.thread_id is None
    root = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "digest"}))
    topic = client.im.v1.message.reply(reply(root.data.message_id, "detail 1", in_thread=True))
    assert topic.data.thread_id.startswith("omt_") and topic.data.root_id == root.data.message_id
    again = client.im.v1.message.reply(reply(topic.data.message_id, "detail 2"))  # stays in topic
    assert again.data.thread_id == topic.data.thread_id
    assert again.data.parent_id == root.data.message_id  # in a topic the parent is the root
    got = client.im.v1.message.get(
        GetMessageRequest.builder().message_id(root.data.message_id).build()
    )
    assert got.code == 0 and got.data.items[0].thread_id == topic.data.thread_id
    assert [m.text for m in feishu.replies(root.data.message_id)] == ["detail 1", "detail 2"]
    assert [m.sender_type for m in feishu.messages[DEFAULT_CHAT]] == ["user"] + ["app"] * 4
    unknown = client.im.v1.message.reply(reply("om_" + "0" * 32, "x"))
    assert unknown.code == 230001 and "invalid message_id" in unknown.msg


async def test_files_upload_sync_and_async_then_a_file_message(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    report = "# 每日更新\r\n\x00 binary-safe\r\n".encode()
    first = client.im.v1.file.create(upload("report.md", report))
    second = await client.im.v1.file.acreate(upload("clip.mp4", b"\x00\x01", "mp4"))
    assert first.code == 0 and second.code == 0
    assert [(f.file_name, f.file_type, f.content) for f in feishu.files] == [
        ("report.md", "stream", report),
        ("clip.mp4", "mp4", b"\x00\x01"),
    ]
    assert feishu.calls_to("im.file.create")[0].body["file"] == {"size": len(report)}
    sent = client.im.v1.message.create(
        create(DEFAULT_CHAT, "file", {"file_key": first.data.file_key})
    )
    assert sent.code == 0
    as_file = create(DEFAULT_CHAT, "file", {"file_key": second.data.file_key})
    assert client.im.v1.message.create(as_file).code == 230055  # an mp4 goes as media
    unknown = create(DEFAULT_CHAT, "file", {"file_key": "file_v3_nope"})
    assert client.im.v1.message.create(unknown).code == 230001
    assert client.im.v1.file.create(upload("empty.md", b"")).code == 234010
    assert client.im.v1.file.create(upload("x.exe", b"x", "exe")).code == 234001


def test_a_uuid_posts_once_within_the_hour(app_id: str) -> None:
    now = [1_770_000_000.0]
    with FakeFeishu(
        app_id=app_id, app_secret=SECRET, clock=lambda: now[0], check_cards=False
    ) as fake:
        client = client_for(fake)
        first = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "a"}, "run-1"))
        again = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "b"}, "run-1"))
        assert first.code == again.code == 0
        assert again.data.message_id == first.data.message_id
        assert json.loads(again.data.body.content) == {"text": "a"}  # the first one, unchanged
        assert [c.deduplicated for c in fake.calls_to("im.message.create")] == [False, True]
        now[0] += 3600
        later = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "c"}, "run-1"))
        assert later.data.message_id != first.data.message_id
        assert [m.text for m in fake.sent(DEFAULT_CHAT)] == ["a", "c"]
        too_long = client.im.v1.message.create(
            create(DEFAULT_CHAT, "text", {"text": "d"}, "u" * 51)
        )
        assert too_long.code == 99992402


def test_the_card_body_limit_is_30_kb_of_request_body(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    big = card_v2({"tag": "markdown", "content": "提交" * 6000})  # ~36 KB as UTF-8
    refused = client.im.v1.message.create(create(DEFAULT_CHAT, "interactive", big))
    assert refused.code == 230025 and feishu.sent(DEFAULT_CHAT) == []
    as_text = create(DEFAULT_CHAT, "text", {"text": "提交" * 6000})
    assert client.im.v1.message.create(as_text).code == 0  # text may carry 150 KB
    token, path = token_of(feishu), "/open-apis/im/v1/messages?receive_id_type=chat_id"

    def body(pad: int) -> bytes:
        content = json.dumps(card_v2({"tag": "markdown", "content": "x" * pad}))
        fields = {"receive_id": DEFAULT_CHAT, "msg_type": "interactive", "content": content}
        return json.dumps(fields).encode()

    pad = CARD_LIMIT - len(body(0))
    assert len(body(pad)) == CARD_LIMIT
    assert raw_post(feishu, path, body(pad), token)[1]["code"] == 0
    assert raw_post(feishu, path, body(pad + 1), token)[1]["code"] == 230025


@pytest.mark.parametrize(
    ("card", "sub_code"),
    [
        ({"schema": "2.0", "body": {"elements": []}}, "ErrCode: 200621"),
        (card_v2({"tag": "action", "actions": []}), "ErrCode: 200861"),
        (card_v2({"tag": "markdown"}, {"content": "no tag"}), "ErrCode: 200621"),
        (card_v2(table([{"time": "1", "author": "x"}])), "ErrCode: 200915"),
        (card_v2(*[table([]) for _ in range(6)]), "card table number over limit"),
        (card_v2(*[{"tag": "hr"}] * 201), "element exceeds the limit"),
        (card_v2({"tag": "markdown"}, title=None), "ROOT -> header -> title"),  # type: ignore[arg-type]
        ({"type": "template", "data": {"template_id": "AAq1"}}, "ErrCode: 200380"),
        ("{not json", "ErrCode: 200621"),
    ],
)
def test_cards_feishu_would_refuse(feishu: FakeFeishu, card: Any, sub_code: str) -> None:
    answer = client_for(feishu).im.v1.message.create(create(DEFAULT_CHAT, "interactive", card))
    assert answer.code == 230099 and answer.msg.startswith("Failed to create card content, ext=")
    assert sub_code in answer.msg


def test_cards_feishu_takes(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    v1 = {"elements": [{"tag": "action", "actions": [{"tag": "button"}]}, {"tag": "note"}]}
    panel = {"tag": "collapsible_panel", "elements": [{"tag": "markdown", "content": "risk"}]}
    columns = {"tag": "column_set", "columns": [{"tag": "column", "elements": [table([])]}]}
    for card in (v1, card_v2(panel, columns, *[table([])] * 4)):
        assert client.im.v1.message.create(create(DEFAULT_CHAT, "interactive", card)).code == 0


def test_content_chat_and_field_checks(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    feishu.add_chat("oc_left", "left", member=False)
    cases = [
        (create(DEFAULT_CHAT, "text", "not json"), 230001),
        (create(DEFAULT_CHAT, "text", {"content": "no text key"}), 230001),
        (create(DEFAULT_CHAT, "post", {"zh_cn": {"title": "t", "content": "flat"}}), 230001),
        (create(DEFAULT_CHAT, "gif", {"text": "x"}), 230001),
        (create("oc_unknown", "text", {"text": "x"}), 230002),
        (create("oc_left", "text", {"text": "x"}), 230002),
    ]
    for request, code in cases:
        assert client.im.v1.message.create(request).code == code
    post = {"zh_cn": {"title": "t", "content": [[{"tag": "text", "text": "ok"}]]}}
    assert client.im.v1.message.create(create(OTHER_CHAT, "post", post)).code == 0
    bare = CreateMessageRequest.builder().request_body(
        CreateMessageRequestBody.builder().receive_id(DEFAULT_CHAT).msg_type("text").build()
    )
    missing = client.im.v1.message.create(bare.build())
    assert missing.code == 99992402
    fields = {v["field"] for v in missing.error["field_violations"]}  # a dict: not modelled
    assert fields == {"receive_id_type"}


# ---- faults ------------------------------------------------------------------------------------


def test_a_rate_limit_then_success(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    feishu.fail("im.message.create", Fault.rate_limit(reset=2), Fault.chat_rate_limit())
    limited = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "x"}))
    assert (limited.code, limited.raw.status_code) == (99991400, 429)
    assert limited.raw.headers["x-ogw-ratelimit-reset"] == "2"
    chat_limited = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "x"}))
    assert (chat_limited.code, chat_limited.raw.status_code) == (230020, 400)
    assert client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "x"})).code == 0
    assert [c.code for c in feishu.calls_to("im.message.create")] == [99991400, 230020, 0]
    assert len(feishu.sent(DEFAULT_CHAT)) == 1


def test_gateway_errors_and_a_lost_answer_with_a_uuid(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    feishu.fail("tenant_access_token", Fault.server_error(503))
    with pytest.raises(json.JSONDecodeError):  # lark-oapi parses every answer as JSON
        client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "x"}))
    feishu.fail("im.message.create", Fault.server_error(504, applied=True))
    with pytest.raises(json.JSONDecodeError):
        client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "x"}, "digest-1"))
    assert len(feishu.sent(DEFAULT_CHAT)) == 1  # it was posted; the answer was lost
    retried = client.im.v1.message.create(create(DEFAULT_CHAT, "text", {"text": "x"}, "digest-1"))
    assert retried.code == 0 and retried.data.message_id == feishu.sent(DEFAULT_CHAT)[0].message_id
    feishu.fail("im.message.reply", Fault.api_error(230099, "Failed to create card content"))
    assert client.im.v1.message.reply(reply(retried.data.message_id, "x")).code == 230099
    assert [c.status for c in feishu.calls_to("im.message.create")] == [504, 200]


def test_unknown_paths_answer_404(feishu: FakeFeishu) -> None:
    status, text = raw_post(feishu, "/open-apis/im/v2/nothing", b"{}", None)
    assert (status, text) == (404, b"404 page not found")
    assert feishu.calls[-1].endpoint == "unknown"


# ---- the inbound side, read by lark-oapi -------------------------------------------------------


def test_encrypt_is_decrypted_by_lark_and_by_ourselves() -> None:
    body = {"schema": "2.0", "text": '中文 and "quotes"', "n": 1}
    sealed = encrypt(body, ENCRYPT_KEY)["encrypt"]
    assert json.loads(AESCipher(ENCRYPT_KEY).decrypt_str(sealed)) == body
    assert json.loads(decrypt(sealed, ENCRYPT_KEY)) == body
    assert encrypt(body, ENCRYPT_KEY)["encrypt"] != sealed  # a fresh IV each time
    with pytest.raises(ValueError):
        AESCipher("another key").decrypt_str(sealed)


def test_a_signed_encrypted_message_event_passes_lark_checks(feishu: FakeFeishu) -> None:
    received: list[Any] = []
    handler = (
        lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION)
        .register_p2_im_message_receive_v1(received.append)
        .build()
    )
    event = feishu.message_event("/digest subscribe octo/demo")
    body, headers = feishu.callback(event)
    assert set(json.loads(body)) == {"encrypt"}
    assert dispatch(handler, body, headers) == (200, {"msg": "success"})
    [got] = received
    assert got.header.event_type == "im.message.receive_v1" and got.header.token == VERIFICATION
    message = got.event.message
    assert json.loads(message.content) == {"text": "@_user_1 /digest subscribe octo/demo"}
    assert message.chat_type == "group" and message.chat_id == DEFAULT_CHAT
    assert message.mentions[0].key == "@_user_1" and message.mentions[0].name == "Commit Digest"
    assert got.event.sender.sender_id.open_id == USER_OPEN_ID
    assert feishu.message(message.message_id).sender_type == "user"  # stored, can be replied to
    feishu.add_chat("oc_p2p", "alice", chat_type="p2p")
    direct = feishu.message_event("/digest list", chat_id="oc_p2p")["event"]["message"]
    assert direct["chat_type"] == "p2p" and "mentions" not in direct
    assert json.loads(direct["content"]) == {"text": "/digest list"}


def test_lark_rejects_forgeries_but_not_replays_or_old_timestamps(feishu: FakeFeishu) -> None:
    handler = (
        lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION)
        .register_p2_im_message_receive_v1(lambda event: None)
        .build()
    )
    body, headers = feishu.callback(feishu.message_event("/digest list"))
    tampered = dict(headers, **{"X-Lark-Signature": "0" * 64})
    assert dispatch(handler, body, tampered)[0] == 500
    other_key = callback_request(feishu.message_event("x"), encrypt_key="not-the-key")
    assert dispatch(handler, *other_key)[0] == 500
    wrong_token = feishu.callback(feishu.message_event("x", token="forged"))
    assert dispatch(handler, *wrong_token)[0] == 500
    assert dispatch(handler, body, headers)[0] == 200
    assert dispatch(handler, body, headers)[0] == 200  # a replay: lark-oapi has no event-id check
    stale = feishu.callback(feishu.message_event("x"), timestamp=946684800)  # the year 2000
    assert dispatch(handler, *stale)[0] == 200  # nor a timestamp window
    lowered = {k.lower(): v for k, v in headers.items()}
    assert dispatch(handler, body, lowered)[0] == 500  # its header lookup is case-sensitive


def test_signature_headers_match_lark_recipe() -> None:
    body = b'{"encrypt":"abc"}'
    headers = signature_headers(body, ENCRYPT_KEY, timestamp=1700000000, nonce="42")
    assert headers["X-Lark-Request-Timestamp"] == "1700000000"
    assert headers["X-Lark-Request-Nonce"] == "42"
    handler = lark.EventDispatcherHandler.builder(ENCRYPT_KEY, "").build()
    request = RawRequest()
    request.body, request.headers = body, headers
    handler._verify_sign(request, ENCRYPT_KEY)  # raises AccessDeniedException on a mismatch


def test_url_verification_plain_and_encrypted(feishu: FakeFeishu) -> None:
    challenge = feishu.url_verification("ajls384kdjx98XX")
    assert challenge == {
        "challenge": "ajls384kdjx98XX",
        "token": VERIFICATION,
        "type": "url_verification",
    }
    handler = lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION).build()
    for key in (None, ""):  # the app's key, then in plain text
        body, headers = feishu.callback(challenge, encrypt_key=key)
        assert dispatch(handler, body, headers) == (200, {"challenge": "ajls384kdjx98XX"})
        assert ("X-Lark-Signature" in headers) is (key is None)


def test_a_card_button_click_reaches_lark(feishu: FakeFeishu) -> None:
    client = client_for(feishu)
    card = card_v2({"tag": "button", "text": {"tag": "plain_text", "content": "完整分析"}})
    posted = client.im.v1.message.create(create(DEFAULT_CHAT, "interactive", card))
    clicks: list[Any] = []

    def on_click(event: Any) -> Any:
        clicks.append(event)
        return P2CardActionTriggerResponse({"toast": {"type": "info", "content": "稍候"}})

    handler = (
        lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION)
        .register_p2_card_action_trigger(on_click)
        .build()
    )
    event = feishu.card_action_event(
        {"action": "details", "sha": "a78a426"}, message_id=posted.data.message_id
    )
    status, answer = dispatch(handler, *feishu.callback(event))
    assert (status, answer) == (200, {"toast": {"type": "info", "content": "稍候"}})
    [click] = clicks
    assert click.header.event_type == "card.action.trigger"
    assert click.event.action.value == {"action": "details", "sha": "a78a426"}
    assert click.event.action.tag == "button" and click.event.operator.open_id == USER_OPEN_ID
    context = click.event.context
    assert (context.open_message_id, context.open_chat_id) == (posted.data.message_id, DEFAULT_CHAT)
