"""A command loads what it uses: `digest --help` and a local heuristic report leave the LLM
client, PyGithub, the store and both chat SDKs unloaded, and `digest serve` with Slack alone
never loads lark-oapi. Each check runs in a fresh interpreter (a real subprocess): in this one,
other tests have imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("slack_bolt", "slack_sdk", "lark_oapi")
HEAVY = ("openai", "github", "sqlalchemy", "aiohttp", "markdown_it", *PLATFORMS)


def loaded_after(code: str, cwd: Path = ROOT) -> set[str]:
    """The top-level packages of HEAVY that a fresh interpreter has loaded after `code`."""
    script = (
        "import contextlib, io, json, sys\n"
        f"{code}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_command_line_module_loads_the_standard_library_alone() -> None:
    assert loaded_after("import bot.cli") == set()


def test_help_loads_nothing_heavy() -> None:
    code = (
        "from bot.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help'], env_file=None) == 0\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['report', '--help'], env_file=None) == 0"
    )
    assert loaded_after(code) == set()


def test_a_local_heuristic_report_loads_neither_llm_github_store_nor_platforms(
    tmp_path: Path,
) -> None:
    from datetime import datetime

    repo = GitRepo.init(tmp_path / "clone")
    repo.commit("feat: one", {"a.py": "x = 1\n"}, when=datetime.fromisoformat("2026-02-05T10:00Z"))
    code = (
        "from bot.cli import main\n"
        "out = io.StringIO()\n"
        f"args = ['report', {str(repo.path)!r}, '--date', '2026-02-05', '--tz', 'UTC',"
        " '--analyzer', 'heuristic']\n"
        "with contextlib.redirect_stdout(out):\n"
        "    assert main(args, env_file=None, stdout=out) == 0\n"
        "assert 'feat: one' in out.getvalue()"
    )
    assert loaded_after(code, cwd=tmp_path) == set()


def test_serving_slack_alone_never_loads_lark() -> None:
    # The modules `digest serve` imports, and Slack's: lark-oapi only comes with Feishu's.
    code = "import bot.web.serve, bot.slack.app, bot.slack.poster, bot.web.app"
    loaded = loaded_after(code)
    assert "lark_oapi" not in loaded
    assert {"slack_bolt", "aiohttp", "sqlalchemy"} <= loaded


def test_feishu_loads_lark_messaging_alone_and_still_posts() -> None:
    # `digest serve` with Feishu: lark-oapi without its package __init__ (bot/feishu/sdk.py),
    # so its other APIs stay unloaded, and the client it builds still posts to (fake) Feishu.
    code = (
        "import asyncio\n"
        "from bot.feishu.sdk import lean\n"
        "lean()\n"
        "import bot.feishu.bot, bot.feishu.callbacks, bot.feishu.poster\n"
        "from bot.feishu.client import FeishuClient\n"
        "lark = [m for m in sys.modules if m.startswith('lark_oapi.')]\n"
        "assert not any(m.startswith('lark_oapi.api.drive') for m in lark)\n"
        "assert 'lark_oapi.client' not in lark and len(lark) < 1500, len(lark)\n"
        "from tests.fakes.feishu import DEFAULT_CHAT, FakeFeishu  # its frames: lark's ws\n"
        "with FakeFeishu() as fake:\n"
        "    client = FeishuClient(fake.app_id, fake.app_secret, domain=fake.url)\n"
        "    asyncio.run(client.send(DEFAULT_CHAT, 'text', {'text': 'hello'}))\n"
        "    assert [m.text for m in fake.sent(DEFAULT_CHAT)] == ['hello'], fake.calls"
    )
    assert "lark_oapi" in loaded_after(code)


def test_a_library_loaded_after_logging_is_set_up_is_set_up_too() -> None:
    # Commands load their SDKs lazily, after setup_logging: lark-oapi's own stdout handler must
    # go and PyGithub's import-time level must yield to ours, as for a library loaded before.
    code = (
        "import logging\n"
        "from bot.ops.logs import setup_logging\n"
        "err = io.StringIO()\n"
        "with setup_logging(err, level='debug'):\n"
        "    import github, lark_oapi.core.log\n"
        "    assert logging.getLogger('Lark').handlers == [], logging.getLogger('Lark').handlers\n"
        "    assert logging.getLogger('github').getEffectiveLevel() == logging.DEBUG\n"
        "    logging.getLogger('Lark').warning('from lark')\n"
        "assert 'from lark' in err.getvalue()"
    )
    assert {"github", "lark_oapi"} <= loaded_after(code)
