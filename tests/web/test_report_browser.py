"""The report page in a real browser: Debian's headless Chromium, driven over the DevTools
protocol (a websocket, with aiohttp), against the page served on 127.0.0.1.

The page renders, its chart has a size, a contents link clicked with the mouse scrolls to its
section, the `<script>` in a commit message never ran, and nothing was fetched from elsewhere.
Screenshots are kept in artifacts/ (gitignored). Without /usr/bin/chromium the test skips, but
not under CI, whose .ci/run installs it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.delivery.links import sign_report_path
from tests.waiting import HANG
from tests.web.test_report_page import HOSTILE_TITLE, KEY, PAGE, SECRET, report_site

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1280,900",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = "no /usr/bin/chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the browser test")
        pytest.skip(reason)
    return CHROMIUM


class DevTools:
    """One page target over its websocket: commands by id, events kept in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._next = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            else:
                self.events.append(data)
                self._arrived.set()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        future = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        await self.ws.send_str(json.dumps({"id": self._next, "method": method, "params": params}))
        answer = await asyncio.wait_for(future, HANG)
        assert "error" not in answer, answer
        result: dict[str, Any] = answer["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    async def wait_for(self, method: str) -> dict[str, Any]:
        """The first event `method` not yet waited for (a hang fails at the ceiling)."""
        async with asyncio.timeout(HANG):
            while True:
                for event in self.events:
                    if event.get("method") == method and not event.get("seen"):
                        event["seen"] = True
                        return event
                self._arrived.clear()
                await self._arrived.wait()

    async def close(self) -> None:
        self._reader.cancel()
        with suppress(asyncio.CancelledError):
            await self._reader
        await self.ws.close()


@asynccontextmanager
async def browser(binary: Path, profile: Path) -> AsyncIterator[str]:
    """Start Chromium with a fresh profile; yield its DevTools HTTP root; stop it after."""
    log_path = profile.parent / "chromium.log"
    process = await asyncio.create_subprocess_exec(
        str(binary),
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its helpers share its process group, ended with it
    )
    assert process.stdout is not None
    lines: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/<id>"
        async with asyncio.timeout(HANG):
            while True:
                line = (await process.stdout.readline()).decode("utf-8", "replace")
                assert line, "chromium exited:\n" + "".join(lines)
                lines.append(line)
                if line.startswith("DevTools listening on ws://"):
                    break
        port = line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
        drain = asyncio.create_task(_drain(process.stdout, lines))
        yield f"http://127.0.0.1:{port}"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        if drain is not None:
            await drain
        log_path.write_text("".join(lines), encoding="utf-8")


async def _drain(stream: asyncio.StreamReader, lines: list[str]) -> None:
    """Keep reading Chromium's output (a full pipe would stall it)."""
    while line := await stream.readline():
        lines.append(line.decode("utf-8", "replace"))


@asynccontextmanager
async def page_target(root: str, session: aiohttp.ClientSession) -> AsyncIterator[DevTools]:
    async with session.get(f"{root}/json/list") as response:
        targets = await response.json()
    (page,) = [t for t in targets if t["type"] == "page"]
    ws = await session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
    tools = DevTools(ws)
    try:
        yield tools
    finally:
        await tools.close()


async def screenshot(
    tools: DevTools, name: str, *, full: bool = False, selector: str | None = None
) -> Path:
    """The viewport, the whole page (`full`) or one element, as artifacts/<name>."""
    params: dict[str, Any] = {"format": "png"}
    if full:
        size = (await tools.send("Page.getLayoutMetrics"))["cssContentSize"]
        params["captureBeyondViewport"] = True
        params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
    elif selector is not None:
        params["clip"] = await tools.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return {x: r.x + scrollX - 8, y: r.y + scrollY - 8,"
            " width: r.width + 16, height: r.height + 16}; })()"
        )
        params["captureBeyondViewport"] = True
    if "clip" in params:
        params["clip"]["scale"] = 1
    data = (await tools.send("Page.captureScreenshot", **params))["data"]
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    target.write_bytes(base64.b64decode(data))
    return target


async def click(tools: DevTools, selector: str) -> None:
    """A real mouse click at the middle of the element (scrolled into view first)."""
    box = await tools.evaluate(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
        " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
        " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
    )
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        await tools.send(
            "Input.dispatchMouseEvent",
            type=kind,
            x=box["x"],
            y=box["y"],
            button="left" if kind != "mouseMoved" else "none",
            clickCount=1,
        )


async def test_the_report_page_in_chromium(chromium: Path, tmp_path: Path) -> None:
    async with (
        report_site(tmp_path / "site") as site,
        browser(chromium, tmp_path / "profile") as root,
        aiohttp.ClientSession() as session,
        page_target(root, session) as tools,
    ):
        await tools.send("Page.enable")
        await tools.send("Network.enable")
        await tools.send(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        url = site.url + PAGE
        await tools.send("Page.navigate", url=url)
        await tools.wait_for("Page.loadEventFired")

        # It rendered: the report's title, its table, and the commit message shown as text.
        title = await tools.evaluate("document.title")
        assert title == "Daily update report (2026-02-05) · octo/demo"
        assert await tools.evaluate("document.querySelector('h1').innerText") == (
            "Daily update report (2026-02-05)"
        )
        assert await tools.evaluate("document.querySelectorAll('tbody tr').length") == 5
        text = await tools.evaluate("document.body.innerText")
        assert HOSTILE_TITLE in text
        # Nothing the message carried ran or became an element.
        assert await tools.evaluate("typeof window.pwned") == "undefined"
        assert await tools.evaluate("document.querySelectorAll('script, img, iframe').length") == 0
        hrefs = await tools.evaluate("[...document.links].map(a => a.getAttribute('href'))")
        assert not [h for h in hrefs if h.lower().startswith("javascript")]

        # The chart is drawn with a size, and says what the stats say.
        for chart in ("chart-importance", "chart-area"):
            box = await tools.evaluate(
                f"(() => {{ const r = document.getElementById('{chart}')"
                ".getBoundingClientRect(); return [r.width, r.height]; })()"
            )
            assert box[0] > 100 and box[1] > 20, (chart, box)
        bars = await tools.evaluate(
            "[...document.querySelectorAll('#chart-importance g.bar')].map(g =>"
            " [g.dataset.key, +g.dataset.count, g.querySelector('rect').getBBox().width])"
        )
        assert sum(count for _, count, _ in bars) == 5
        assert all((width > 0) == (count > 0) for _, count, width in bars), bars
        await screenshot(tools, "report-page.png", full=True)
        await screenshot(tools, "report-chart.png", selector=".charts")

        # Every contents link has its target; one clicked with the mouse scrolls to it.
        missing = await tools.evaluate(
            "[...document.querySelectorAll('a[href^=\"#\"]')]"
            ".map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id))"
        )
        assert missing == []
        link = await tools.evaluate(
            "document.querySelector('a[href^=\"#commit-\"]').getAttribute('href')"
        )
        await click(tools, f'a[href="{link}"]')
        await tools.wait_for("Page.navigatedWithinDocument")
        assert await tools.evaluate("location.hash") == link
        landed = await tools.evaluate(
            f"(() => {{ const r = document.getElementById('{link[1:]}')"
            ".getBoundingClientRect(); return [r.top, window.scrollY, innerHeight]; })()"
        )
        top, scrolled, height = landed
        assert scrolled > 0 and 0 <= top < height / 2, landed
        await screenshot(tools, "report-page-jump.png")

        # The page fetched nothing but itself (no font, image or script from anywhere).
        fetched = [
            e["params"]["request"]["url"]
            for e in tools.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        assert fetched and all(u.startswith(site.url) for u in fetched), fetched
        assert await tools.evaluate("document.title") == title  # still not 'pwned'

        # The private repository's page, through a signed link, in its channel's Chinese.
        await tools.send("Page.navigate", url=site.url + sign_report_path(SECRET, KEY))
        await tools.wait_for("Page.loadEventFired")
        assert await tools.evaluate("document.documentElement.lang") == "zh-CN"
        assert await tools.evaluate("document.title") == "每日更新报告（2026-02-05） · octo/secret"
        assert await tools.evaluate("typeof window.pwned") == "undefined"
        await screenshot(tools, "report-page-zh.png")
