"""Memory at rest: the RSS of an idle `digest serve` process, per set of configured platforms.

Each configuration starts `digest serve` as a real process against the fake Slack and Feishu on
loopback, with an LLM endpoint configured (the fake OpenAI, not called while idle) and SQLite;
once it answers /readyz (store open, scheduler running, platforms checked), its VmRSS is read
from /proc twice a second for 3 s and the largest reading counts. Targets: Slack alone < 120 MB,
Slack and Feishu < 220 MB. Run: .venv/bin/python -m benchmarks.idle_rss
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import aiohttp

from tests.fakes.feishu import FakeFeishu
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.serving import Replica, free_port

TOKEN = "xoxb-" + "1234567890-" * 3 + "idle"
SECRET = "idle-rss-signing-secret"
TARGETS = {"slack": 120.0, "slack+feishu": 220.0, "slack+feishu-ws": 220.0, "feishu": 220.0}


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


async def until_ready(url: str, within: float = 120.0) -> None:
    async with asyncio.timeout(within), aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{url}/readyz") as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.2)


async def measure(name: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(idle RSS, peak RSS so far) in MB of one `digest serve` with `env`."""
    replica = Replica(name, {**env, "DIGEST_PORT": str(free_port())}, cwd)
    await replica.start()
    try:
        await replica.ready()
        await until_ready(replica.url)
        assert replica.proc is not None
        readings = []
        for _ in range(6):
            readings.append(rss_mb(replica.proc.pid))
            await asyncio.sleep(0.5)
        return max(readings), rss_mb(replica.proc.pid, "VmHWM")
    finally:
        code = await replica.stop()
        if code != 0:
            raise SystemExit(f"{name}: digest serve exited with {code}: {replica.stderr[-2000:]}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            FakeSlack(token=TOKEN) as slack,
            FakeFeishu() as feishu,
            FakeOpenAI(api_key=None) as llm,
        ):
            base = {
                "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/idle.db",
                "OPENAI_BASE_URL": llm.url,
                "OPENAI_API_KEY": "sk-idle",
                "GITHUB_API_URL": "http://127.0.0.1:9",  # never called while idle
            }
            slack_env = {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url,
            }
            feishu_env = {
                "FEISHU_APP_ID": feishu.app_id,
                "FEISHU_APP_SECRET": feishu.app_secret,
                "FEISHU_API_URL": feishu.url,
                "FEISHU_ENCRYPT_KEY": feishu.encrypt_key or "",
                "FEISHU_VERIFICATION_TOKEN": feishu.verification_token,
            }
            configurations = {
                "slack": {**base, **slack_env},
                "slack+feishu": {**base, **slack_env, **feishu_env},
                "slack+feishu-ws": {
                    **base,
                    **slack_env,
                    **feishu_env,
                    "FEISHU_LONG_CONNECTION": "true",
                },
            }
            print("idle `digest serve` (LLM endpoint configured, SQLite), RSS of the process:")
            for name, env in configurations.items():
                idle, peak = await measure(name, env, Path(tmp))
                target = TARGETS[name]
                print(
                    f"  {name:16} idle {idle:6.1f} MB (peak {peak:6.1f} MB)  "
                    f"target < {target:.0f} MB  ratio {idle / target:.2f}"
                )


if __name__ == "__main__":
    asyncio.run(main())
