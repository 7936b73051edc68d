"""The fake Slack Web API, driven by the real slack_sdk clients over loopback sockets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack import FakeSlack, Fault, sign, slash_command_body

TOKEN = "xoxb-1-test-token"
CHANNEL = "C0DIGEST"
METADATA = {"event_type": "digest_posted", "event_payload": {"run": "octo/demo:2026-02-05"}}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, channels={CHANNEL: "digest", "C0OTHER": "other"}) as fake:
        yield fake


def client_for(fake: FakeSlack, token: str = TOKEN, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.api_url, **kwargs)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def table(rows: list[list[str]]) -> dict[str, Any]:
    cells = [[{"type": "raw_text", "text": cell} for cell in row] for row in rows]
    return {"type": "table", "rows": cells}


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_auth_checks_the_bearer_token_and_never_records_it(slack: FakeSlack) -> None:
    answer = await client_for(slack).auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T0FAKE", "U0BOT", "B0BOT")
    wrong = await api_error(client_for(slack, token="xoxb-wrong").auth_test())
    assert wrong.response["error"] == "invalid_auth"
    assert wrong.response.status_code == 200
    none = await api_error(AsyncWebClient(base_url=slack.api_url).auth_test())
    assert none.response["error"] == "not_authed"
    assert [c.auth_ok for c in slack.calls] == [True, False, False]
    assert slack.calls[0].headers["Authorization"] == "Bearer [redacted]"
    assert all(TOKEN not in str(c.headers) for c in slack.calls)


async def test_post_with_blocks_and_metadata_is_found_in_history(slack: FakeSlack) -> None:
    client = client_for(slack)
    first = await client.chat_postMessage(
        channel="#digest",  # a name works too; the answer carries the id
        text="octo/demo digest",
        blocks=[{"type": "header", "text": plain("octo/demo")}],
        metadata=METADATA,
        unfurl_links=False,
        unfurl_media=False,
    )
    second = await client.chat_postMessage(channel=CHANNEL, text="plain")
    assert first["channel"] == CHANNEL
    assert first["message"]["metadata"] == METADATA
    assert float(second["ts"]) > float(first["ts"])

    call = slack.calls_to("chat.postMessage")[0]
    assert call.headers["Content-Type"].startswith("application/json")
    assert call.params["unfurl_links"] is False and "link_names" not in call.params
    stored = slack.top_level(CHANNEL)
    assert [m.text for m in stored] == ["octo/demo digest", "plain"]
    assert stored[0].metadata == METADATA and stored[0].blocks is not None

    history = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [second["ts"], first["ts"]]
    assert history["messages"][1]["metadata"] == METADATA
    assert history["messages"][1]["blocks"][0]["type"] == "header"
    bare = await client.conversations_history(channel=CHANNEL)
    assert all("metadata" not in m for m in bare["messages"])
    window = await client.conversations_history(channel=CHANNEL, oldest=first["ts"], limit=5)
    assert [m["ts"] for m in window["messages"]] == [second["ts"]]  # oldest is exclusive
    info = await client.conversations_info(channel=CHANNEL)
    assert info["channel"]["name"] == "digest"


async def test_history_pages_with_a_cursor() -> None:
    now = [1_770_000_000.0]
    async with FakeSlack(token=TOKEN, channels={CHANNEL: "digest"}, clock=lambda: now[0]) as slack:
        client = client_for(slack)
        for i in range(5):
            await client.chat_postMessage(channel=CHANNEL, text=f"m{i}")
        assert [m.ts for m in slack.top_level(CHANNEL)][:2] == [
            "1770000000.000000",
            "1770000000.000001",
        ]
        seen: list[str] = []
        cursor = None
        while True:
            page = await client.conversations_history(channel=CHANNEL, limit=2, cursor=cursor)
            seen += [m["text"] for m in page["messages"]]
            if not page["has_more"]:
                break
            cursor = page["response_metadata"]["next_cursor"]
        assert seen == ["m4", "m3", "m2", "m1", "m0"]


async def test_thread_replies_stay_out_of_history(slack: FakeSlack) -> None:
    client = client_for(slack)
    parent = await client.chat_postMessage(channel=CHANNEL, text="digest")
    reply = await client.chat_postMessage(channel=CHANNEL, text="r1", thread_ts=parent["ts"])
    # a reply to a reply lands in the same thread, as in Slack
    await client.chat_postMessage(channel=CHANNEL, text="r2", thread_ts=reply["ts"])

    history = await client.conversations_history(channel=CHANNEL)
    assert [m["text"] for m in history["messages"]] == ["digest"]
    assert history["messages"][0]["reply_count"] == 2
    replies = await client.conversations_replies(channel=CHANNEL, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["digest", "r1", "r2"]
    assert {m["thread_ts"] for m in replies["messages"]} == {parent["ts"]}
    assert [m.text for m in slack.thread(CHANNEL, parent["ts"])] == ["digest", "r1", "r2"]
    lost = await api_error(client.chat_postMessage(channel=CHANNEL, text="x", thread_ts="1.2"))
    assert lost.response["error"] == "thread_not_found"


async def test_replies_page_oldest_first_with_metadata_on_request(slack: FakeSlack) -> None:
    client = client_for(slack)
    parent = await client.chat_postMessage(channel=CHANNEL, text="digest", metadata=METADATA)
    for i in range(4):
        meta = {"event_type": "part", "event_payload": {"n": i}}
        await client.chat_postMessage(
            channel=CHANNEL, text=f"r{i}", thread_ts=parent["ts"], metadata=meta
        )
    seen: list[Any] = []
    cursor = None
    while True:
        page = await client.conversations_replies(
            channel=CHANNEL, ts=parent["ts"], limit=2, cursor=cursor, include_all_metadata=True
        )
        seen += [(m["text"], m.get("metadata")) for m in page["messages"]]
        if not page["has_more"]:
            assert "response_metadata" not in page
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert [text for text, _ in seen] == ["digest", "r0", "r1", "r2", "r3"]
    assert seen[0][1] == METADATA and seen[3][1] == {
        "event_type": "part",
        "event_payload": {"n": 2},
    }
    plain_page = await client.conversations_replies(channel=CHANNEL, ts=parent["ts"])
    assert all("metadata" not in m for m in plain_page["messages"])


async def test_permalink_and_calls_tagged_by_client(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url_for("replica-2"))
    posted = await client.chat_postMessage(channel=CHANNEL, text="digest")
    link = await client.chat_getPermalink(channel=CHANNEL, message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/{CHANNEL}/p{posted['ts'].replace('.', '')}")
    missing = await api_error(client.chat_getPermalink(channel=CHANNEL, message_ts="1.000001"))
    assert missing.response["error"] == "message_not_found"
    assert {c.via for c in slack.calls} == {"replica-2"}


async def test_after_call_runs_once_the_call_is_done_and_before_its_answer(
    slack: FakeSlack,
) -> None:
    seen: list[tuple[str, int]] = []

    async def after(call: Any, served: dict[str, Any]) -> None:
        seen.append((call.method, len(slack.top_level(CHANNEL))))

    slack.after_call = after
    await client_for(slack).chat_postMessage(channel=CHANNEL, text="digest")
    assert seen == [("chat.postMessage", 1)]  # the message was kept before the hook ran


async def test_ephemeral_and_update(slack: FakeSlack) -> None:
    client = client_for(slack)
    answer = await client.chat_postEphemeral(channel=CHANNEL, user="U0ALICE", text="only you")
    assert answer["message_ts"]
    assert [(e.user, e.text) for e in slack.ephemerals] == [("U0ALICE", "only you")]
    assert slack.posts[CHANNEL] == []

    posted = await client.chat_postMessage(channel=CHANNEL, text="working…")
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="done", blocks=[section("ok")])
    history = await client.conversations_history(channel=CHANNEL)
    assert history["messages"][0]["text"] == "done" and "edited" in history["messages"][0]
    gone = await api_error(client.chat_update(channel=CHANNEL, ts="1.000001", text="x"))
    assert gone.response["error"] == "message_not_found"


async def test_files_upload_v2_end_to_end(slack: FakeSlack) -> None:
    client = client_for(slack)
    parent = await client.chat_postMessage(channel=CHANNEL, text="digest")
    report = "# octo/demo 每日更新\n\n| 时间 | 作者 |\n"
    answer = await client.files_upload_v2(
        content=report,
        filename="octo-demo-2026-02-05.md",
        title="完整报告",
        channel=CHANNEL,
        thread_ts=parent["ts"],
        initial_comment="📄 完整报告",
    )
    methods = [c.method for c in slack.calls]
    assert methods[-3:] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (uploaded,) = slack.files
    assert uploaded.content == report.encode()
    assert uploaded.length == len(report.encode())
    assert (uploaded.title, uploaded.channel, uploaded.thread_ts) == (
        "完整报告",
        CHANNEL,
        parent["ts"],
    )
    assert answer["file"]["id"] == uploaded.id
    thread = slack.thread(CHANNEL, parent["ts"])
    assert [m.text for m in thread] == ["digest", "📄 完整报告"]
    assert thread[1].files[0]["name"] == "octo-demo-2026-02-05.md"
    assert len(slack.top_level(CHANNEL)) == 1  # shared in the thread, not in the channel

    # without a channel the file is uploaded but shared nowhere
    await client.files_upload_v2(content=b"\x00bin", filename="a.bin")
    assert slack.files[1].completed and slack.files[1].channel is None
    legacy = await api_error(client.api_call("files.upload", data={"content": "x"}))
    assert legacy.response["error"] == "method_deprecated"


async def test_upload_url_takes_multipart_too(slack: FakeSlack) -> None:
    client = client_for(slack)
    ticket = await client.files_getUploadURLExternal(filename="r.md", length=5)
    form = aiohttp.FormData()
    form.add_field("file", b"hello", filename="r.md")
    async with (
        aiohttp.ClientSession() as session,
        session.post(ticket["upload_url"], data=form) as response,
    ):
        assert response.status == 200
        assert await response.text() == "OK - 5"
    assert slack.files[0].content == b"hello"
    done = await client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}])
    assert done["files"][0]["title"] == "r.md"
    missing = await api_error(client.files_completeUploadExternal(files=[{"id": "F404"}]))
    assert missing.response["error"] == "file_not_found"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "t", "blocks": [section("x")] * 51}, "invalid_blocks"),
        ({"text": "t", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        ({"text": "t", "blocks": [section("")]}, "invalid_blocks"),
        ({"text": "t", "blocks": [{"type": "header", "text": plain("h" * 151)}]}, "invalid_blocks"),
        ({"text": "t", "blocks": [table([["a", "b"], ["c"]])]}, "invalid_blocks"),
        ({"text": "t", "blocks": [table([["a"]] * 101)]}, "invalid_blocks"),
        ({"text": "t", "blocks": [table([["a"]]), table([["b"]])]}, "only_one_table_allowed"),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "t", "metadata": {"event_type": "x"}}, "invalid_metadata_format"),
        ({"channel": "C0NOPE", "text": "t"}, "channel_not_found"),
        ({"channel": "#nope", "text": "t"}, "channel_not_found"),
    ],
)
async def test_validation_errors(slack: FakeSlack, kwargs: dict[str, Any], error: str) -> None:
    params = {"channel": CHANNEL, **kwargs}
    failed = await api_error(client_for(slack).api_call("chat.postMessage", json=params))
    assert failed.response["error"] == error
    assert failed.response.status_code == 200
    assert slack.calls[-1].error == error
    assert slack.posts[CHANNEL] == []


async def test_validation_details_and_limits_that_pass(slack: FakeSlack) -> None:
    client = client_for(slack)
    blocks = [section("x")] * 51
    too_many = await api_error(client.chat_postMessage(channel=CHANNEL, text="t", blocks=blocks))
    assert too_many.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    blocks = [section("x" * 3001)]
    long = await api_error(client.chat_postMessage(channel=CHANNEL, text="t", blocks=blocks))
    assert "[json-pointer:/blocks/0/text/text]" in long.response["response_metadata"]["messages"][0]
    empty = await api_error(client.api_call("chat.postMessage", json={"channel": CHANNEL}))
    assert empty.response["error"] == "no_text"
    ok = [section("x" * 3000)] * 49 + [table([["a", "b"]] * 100)]
    await client.chat_postMessage(channel=CHANNEL, text="t" * 40_000, blocks=ok)
    attached = [{"blocks": [table([["a"]])]}]  # Slack documents tables inside attachments
    await client.chat_postMessage(channel=CHANNEL, text="t", attachments=attached)
    assert len(slack.posts[CHANNEL]) == 2

    slack.add_channel("C0AWAY", "away", member=False)
    away = await api_error(client.chat_postMessage(channel="C0AWAY", text="t"))
    assert away.response["error"] == "not_in_channel"


async def test_block_text_budget_is_optional() -> None:
    async with FakeSlack(token=TOKEN, channels={CHANNEL: "d"}, max_block_text=5000) as slack:
        client = client_for(slack)
        await client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section("x" * 2500)] * 2)
        big = client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section("x" * 2501)] * 2)
        assert (await api_error(big)).response["error"] == "msg_blocks_too_long"


async def test_rate_limit_is_retried_after_retry_after(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", Fault.rate_limit(retry_after=0))
    handler = AsyncRateLimitErrorRetryHandler(max_retry_count=1)
    client = client_for(slack, retry_handlers=[handler])
    await client.chat_postMessage(channel=CHANNEL, text="once")
    calls = slack.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in calls] == [(429, "ratelimited"), (200, None)]
    assert [m.text for m in slack.posts[CHANNEL]] == ["once"]

    slack.fail("chat.postMessage", Fault.rate_limit(retry_after=7))
    limited = await api_error(client_for(slack).chat_postMessage(channel=CHANNEL, text="x"))
    assert limited.response.status_code == 429
    assert limited.response.headers["Retry-After"] == "7"
    assert limited.response["error"] == "ratelimited"


async def test_server_errors_and_api_errors_on_demand(slack: FakeSlack) -> None:
    slack.fail("auth.test", Fault.server_error(503), Fault.api_error("account_inactive"))
    client = client_for(slack, retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)])
    inactive = await api_error(client.auth_test())  # 503 retried, then the API error
    assert inactive.response["error"] == "account_inactive"
    assert [c.status for c in slack.calls_to("auth.test")] == [503, 200]
    assert (await client.auth_test())["ok"] is True


async def test_response_url(slack: FakeSlack) -> None:
    url = slack.response_url(channel=CHANNEL)
    assert url.startswith(slack.api_url.removesuffix("api/") + "response/")
    hook = AsyncWebhookClient(url)
    sent = await hook.send(text="looking up abc1234…", response_type="ephemeral")
    assert sent.status_code == 200
    await hook.send(text="the analysis", blocks=[section("*abc1234*")], response_type="in_channel")
    assert [(r.response_type, r.text) for r in slack.responses] == [
        ("ephemeral", "looking up abc1234…"),
        ("in_channel", "the analysis"),
    ]
    assert slack.responses[1].blocks == [section("*abc1234*")]
    assert [m.text for m in slack.posts[CHANNEL]] == ["the analysis"]  # in_channel only

    bad = await hook.send(text="t", blocks=[section("x" * 3001)])
    assert bad.status_code == 400 and len(slack.responses) == 2
    expired = await AsyncWebhookClient(url + "x").send(text="t")
    assert expired.status_code == 404
    slack.fail("response", Fault.server_error(500))
    assert (await hook.send(text="t")).status_code == 500


async def test_sign_matches_slack_sdk_verifier() -> None:
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = slash_command_body("abc1234", channel_id=CHANNEL, user_id="U0ALICE")
    fields = parse_qs(body.decode())
    assert fields["command"] == ["/digest"] and fields["text"] == ["abc1234"]
    assert fields["channel_id"] == [CHANNEL] and "trigger_id" in fields

    verifier = SignatureVerifier(secret)
    headers = sign(body, secret)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"&x=1", headers)
    assert not verifier.is_valid_request(body, sign(body, "another-secret"))
    assert not verifier.is_valid_request(body, sign(body, secret, int(time.time()) - 301))
    fixed = sign("a=b", secret, 1_531_420_618)
    assert fixed["X-Slack-Request-Timestamp"] == "1531420618"
    assert fixed == sign(b"a=b", secret, 1_531_420_618)


async def test_fake_slash_command_points_at_its_response_url(slack: FakeSlack) -> None:
    body = slack.slash_command("now octo/demo", channel_id=CHANNEL)
    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert (fields["team_id"], fields["channel_id"], fields["text"]) == (
        "T0FAKE",
        CHANNEL,
        "now octo/demo",
    )
    await AsyncWebhookClient(fields["response_url"]).send(text="hi", response_type="in_channel")
    assert slack.responses[0].channel == CHANNEL
    assert slack.posts[CHANNEL][0].text == "hi"
