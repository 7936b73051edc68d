"""`digest serve` from outside, two replicas on one PostgreSQL (Slack over HTTP): one signed
request sent to both runs once, and again after a restart is refused; 200 requests that stop
half-way (through their headers, or their body) are closed within the read timeout while a
correct request is answered. A documented end-to-end test (over 30 s with the start-ups).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.slack import FakeSlack, sign
from tests.serving import Replica, free_port, logged

pytestmark = pytest.mark.e2e

BOT = "xoxb-" + "1234567890-" * 3 + "web"
SECRET = "web-e2e-signing-secret"
READ_TIMEOUT = 3


@pytest.fixture
async def two(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, list[Replica]]]:
    async with FakeSlack(token=BOT) as slack:
        changed = asyncio.Condition()
        replicas = [
            Replica(
                f"r{n}",
                {
                    "SLACK_BOT_TOKEN": BOT,
                    "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": slack.api_url_for(f"r{n}"),
                    "DIGEST_DATABASE_URL": postgres_url,
                    "DIGEST_PORT": str(free_port()),
                    "DIGEST_HTTP_READ_TIMEOUT": str(READ_TIMEOUT),
                    "GITHUB_API_URL": "http://127.0.0.1:9",  # never called here
                },
                tmp_path,
                changed,
            )
            for n in range(2)
        ]
        await asyncio.gather(*(r.start() for r in replicas))
        try:
            await asyncio.gather(*(r.ready() for r in replicas))
            yield slack, replicas
        finally:
            codes = await asyncio.gather(*(r.stop() for r in replicas))
        assert list(codes) == [0, 0], [r.stderr[-2000:] for r in replicas]


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def test_one_signed_request_to_two_replicas_runs_once(
    two: tuple[FakeSlack, list[Replica]],
) -> None:
    slack, replicas = two
    body = slack.slash_command("help")
    headers = {"Content-Type": "application/x-www-form-urlencoded"} | sign(body, SECRET)
    statuses = await asyncio.gather(
        *(post(f"{r.url}/slack/events", body, headers) for r in replicas)
    )
    assert sorted(statuses) == [200, 401]
    await slack.wait_for(lambda: len(slack.responses) >= 1, what="the help answer")
    await logged(replicas, lambda text: "Slack request refused: replayed" in text)
    assert len(slack.responses) == 1

    # A restarted replica remembers it too (the store does), within the signature's window.
    await replicas[0].stop()
    await replicas[0].start()
    await replicas[0].ready()
    assert await post(f"{replicas[0].url}/slack/events", body, headers) == 401
    fresh = slack.slash_command("help")
    fresh_headers = {"Content-Type": "application/x-www-form-urlencoded"} | sign(fresh, SECRET)
    assert await post(f"{replicas[0].url}/slack/events", fresh, fresh_headers) == 200
    await slack.wait_for(lambda: len(slack.responses) >= 2, what="the second help answer")


async def closed(reader: asyncio.StreamReader) -> float:
    """When the server closed the connection (EOF or reset); a hang fails after a minute."""
    try:
        async with asyncio.timeout(60):
            while await reader.read(65536):
                pass
    except ConnectionResetError:
        pass
    return time.monotonic()


async def test_200_half_sent_requests_are_closed_while_a_correct_one_is_answered(
    two: tuple[FakeSlack, list[Replica]],
) -> None:
    _, replicas = two
    target = replicas[0]
    half = []
    opened = time.monotonic()
    for n in range(200):
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        if n % 2:
            writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Slack-Sig")
        else:
            writer.write(
                b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 500\r\n\r\ntoken="
            )
        await writer.drain()
        half.append((reader, writer))
    sent = time.monotonic()
    async with aiohttp.ClientSession() as http, http.get(f"{target.url}/healthz") as answer:
        assert answer.status == 200 and await answer.text() == "ok\n"
    ends = await asyncio.gather(*(closed(reader) for reader, _ in half))
    for _, writer in half:
        writer.close()
    latest = max(ends) - opened
    print(
        f"\n200 half-sent requests (opened in {sent - opened:.1f} s) all closed by "
        f"{latest:.1f} s; read timeout {READ_TIMEOUT} s"
    )
    await logged([target], lambda text: "closed a connection that sent no whole request" in text)
