"""Logs: one line per event, JSON off a terminal, and no secret in them or in a chat message.

The end-to-end tests run the console script as an operator would, at DEBUG with every
third-party logger on (PyGithub logs each response body, slack_sdk each request and response),
with the secrets set in the environment and also planted in a commit's diff, so that they
really pass through the loggers; then they search stderr, stdout and everything the fake Slack
received for each secret, URL-encoded, JSON-escaped and base64-encoded.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import re
import signal
import sys
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from pydantic import SecretStr

from bot.ops.logs import RedactingFilter, secrets_of, setup_logging
from bot.ops.settings import Settings
from digest.redact import REDACTED
from tests.fakes.github import FakeGitHub
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json
from tests.slack.test_socket_mode import Digest, free_port
from tests.waiting import HANG

SH = timezone(timedelta(hours=8))
# Shapes the patterns know (Slack) and shapes they do not (a GitHub Enterprise token, a key of a
# self-hosted OpenAI-compatible server, a signing secret): those only the literal values catch.
GH_TOKEN = "corp-gh-" + "Qx7Lm2" * 6
LLM_KEY = "vllm-key-" + "Zw9Tp4" * 6
SLACK_BOT = "xoxb-" + "4321987650-" * 3 + "Sl4ckB0t"
SLACK_APP = "xapp-1-A0FAKE-9876543210-" + "cd" * 32
SIGNING = "5e1f0a" * 6
SECRETS = {
    "GITHUB_TOKEN": GH_TOKEN,
    "OPENAI_API_KEY": LLM_KEY,
    "SLACK_BOT_TOKEN": SLACK_BOT,
    "SLACK_APP_TOKEN": SLACK_APP,
    "SLACK_SIGNING_SECRET": SIGNING,
}
CHANNEL = "C0GENERAL"


# ---- the filter, on records -------------------------------------------------------------------


@pytest.fixture
def logged() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    """setup_logging into a buffer (not a terminal: JSON lines), undone afterwards."""
    buffer = io.StringIO()
    with setup_logging(buffer, secrets=(GH_TOKEN, LLM_KEY), level="DEBUG"):
        yield buffer, logging.getLogger("tests.logs")


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_message_and_arguments_are_redacted(logged: tuple[io.StringIO, logging.Logger]) -> None:
    buffer, log = logged
    log.info("calling with %s and %r", GH_TOKEN, {"api_key": LLM_KEY, "n": 3})
    log.warning("%(who)s used %(token)s", {"who": "alice", "token": f"Bearer {LLM_KEY}"})
    log.debug("shapes: %s %s %s %s", SLACK_BOT, SLACK_APP, "ghp_" + "a1" * 15, "sk-" + "b2" * 12)
    first, second, third = lines(buffer)
    assert first["message"] == f"calling with {REDACTED} and {{'api_key': '{REDACTED}', 'n': 3}}"
    assert first["level"] == "info" and first["logger"] == "tests.logs"
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["message"] == f"alice used {REDACTED}"
    assert third["message"] == f"shapes: {REDACTED} {REDACTED} {REDACTED} {REDACTED}"


def test_exceptions_stacks_and_extras_are_redacted(
    logged: tuple[io.StringIO, logging.Logger],
) -> None:
    buffer, log = logged
    try:
        raise ConnectionError(f"refused https://user:{GH_TOKEN}@example.invalid/x")
    except ConnectionError:
        log.exception("upstream failed", extra={"token_hint": LLM_KEY, "attempt": 2})
    log.error(
        "with extras",
        extra={"headers": {"Authorization": f"token {GH_TOKEN}"}, "ids": [LLM_KEY, 7], "ok": True},
        stack_info=True,
    )
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    log.info("key file:\n%s", pem, extra={"url": "wss://h/link?ticket=abc123&app_id=A1"})
    failed, extras, key = lines(buffer)
    assert "ConnectionError" in failed["exception"] and GH_TOKEN not in failed["exception"]
    assert failed["token_hint"] == REDACTED and failed["attempt"] == 2
    assert extras["headers"] == {"Authorization": f"token {REDACTED}"}
    assert extras["ids"] == [REDACTED, 7] and extras["ok"] is True
    assert "test_exceptions_stacks_and_extras_are_redacted" in extras["stack"]
    assert key["message"] == f"key file:\n{REDACTED}"
    assert key["url"] == f"wss://h/link?ticket={REDACTED}&app_id=A1"
    assert LLM_KEY not in buffer.getvalue() and GH_TOKEN not in buffer.getvalue()


def test_encoded_forms_of_a_configured_secret_are_redacted(
    logged: tuple[io.StringIO, logging.Logger],
) -> None:
    buffer, log = logged
    weird = "p@ss/w0rd+with spaces&more"
    with setup_logging(buffer, secrets=(weird,), level="DEBUG"):
        log.info("url %s", f"https://h/?q={quote_plus(weird)}")
        log.info("path %s", f"https://h/{quote(weird, safe='')}")
        log.info("basic %s", base64.b64encode(f"x:{weird}".encode()).decode())
        log.info("json %s", json.dumps({"p": weird + '"'}))
    text = buffer.getvalue()
    assert text.count(REDACTED) >= 4
    for form in (weird, quote_plus(weird), quote(weird, safe="")):
        assert form not in text


def test_third_party_loggers_and_their_own_handlers(capsys: pytest.CaptureFixture[str]) -> None:
    """PyGithub's and lark's console handlers give way to ours; a handler a library adds
    later still gets records redacted where they were made."""
    buffer = io.StringIO()
    own = logging.StreamHandler(sys.stdout)
    lark = logging.getLogger("Lark")
    lark.addHandler(own)
    try:
        with setup_logging(buffer, secrets=(GH_TOKEN,), level="DEBUG"):
            assert own not in lark.handlers
            late_buffer = io.StringIO()
            late = logging.StreamHandler(late_buffer)
            logging.getLogger("somelib").addHandler(late)
            logging.getLogger("github.Requester").debug("GET %s", {"Authorization": GH_TOKEN})
            lark.info("connected to wss://x/ws?device_id=1&access_key=zz99yy88&ticket=t1t2t3")
            logging.getLogger("somelib.deep").warning("token=%s", GH_TOKEN)
            warnings.warn(f"careful with {GH_TOKEN}", UserWarning, stacklevel=1)
            logging.getLogger("somelib").removeHandler(late)
        assert own in lark.handlers  # put back
    finally:
        lark.removeHandler(own)
    records = lines(buffer)
    assert [r["logger"] for r in records] == [
        "github.Requester",
        "Lark",
        "somelib.deep",
        "py.warnings",
    ]
    assert (
        "access_key=[REDACTED]" in records[1]["message"]
        and "ticket=[REDACTED]" in records[1]["message"]
    )
    assert GH_TOKEN not in buffer.getvalue() and GH_TOKEN not in late_buffer.getvalue()
    assert late_buffer.getvalue() == f"token={REDACTED}\n"
    assert "zz99yy88" not in capsys.readouterr().out


def test_library_warnings_are_debug_records_and_never_reach_the_terminal() -> None:
    """urllib3's retries, PyGithub's, httpx's and the openai SDK's words, and Python warnings:
    kept at DEBUG for whoever asks, never shown at the default level; ours still are."""

    def emit() -> None:
        logging.getLogger("urllib3.connectionpool").warning(
            "Retrying (Retry(total=2)) after connection broken by 'NewConnectionError(...)'"
        )
        logging.getLogger("github.Requester").warning("Request GET failed")
        logging.getLogger("httpx").error("HTTP Request failed")
        logging.getLogger("openai._base_client").info("Retrying request in 0.4 seconds")
        warnings.warn("some library is deprecated", DeprecationWarning, stacklevel=1)
        logging.getLogger("bot.run").warning("the digest of octo/demo failed")

    for level in ("WARNING", "INFO"):
        shown = io.StringIO()
        with warnings.catch_warnings(), setup_logging(shown, level=level):
            warnings.simplefilter("always")
            emit()
        assert [r["logger"] for r in lines(shown)] == ["bot.run"], level
    kept = io.StringIO()
    with warnings.catch_warnings(), setup_logging(kept, level="DEBUG"):
        warnings.simplefilter("always")
        emit()
    records = {r["logger"]: r["level"] for r in lines(kept)}
    assert records == {
        "urllib3.connectionpool": "debug",
        "github.Requester": "debug",
        "httpx": "debug",
        "openai._base_client": "debug",
        "py.warnings": "debug",
        "bot.run": "warning",
    }


def test_one_line_per_event_and_text_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, pipe = Terminal(), io.StringIO()
    attack = 'feat: x\n{"level": "error", "message": "forged"}'
    for stream in (screen, pipe):
        with setup_logging(stream, level="INFO"):
            logging.getLogger("bot.run").warning("digest of %s failed", attack, extra={"sub": 3})
            logging.getLogger("bot.run").debug("not at INFO")
    (line,) = screen.getvalue().splitlines()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d WARNING bot\.run: digest of feat: x\\n\{\"level\": \"error\", "
        r"\"message\": \"forged\"\} failed sub=3",
        line,
    ), line
    (entry,) = lines(pipe)
    assert entry["message"] == f"digest of {attack} failed" and entry["sub"] == 3


def test_setup_is_replaced_and_undone() -> None:
    root = logging.getLogger()
    handlers, factory, level = list(root.handlers), logging.getLogRecordFactory(), root.level
    first = setup_logging(io.StringIO(), level="WARNING")
    second_buffer = io.StringIO()
    second = setup_logging(second_buffer, secrets=(GH_TOKEN,), level="INFO")
    assert first.handler not in root.handlers and second.handler in root.handlers
    logging.getLogger("x").info("only in the second: %s", GH_TOKEN)
    second.close()
    assert root.handlers == handlers and root.level == level
    assert logging.getLogRecordFactory() is factory
    assert lines(second_buffer)[0]["message"] == f"only in the second: {REDACTED}"


def test_secrets_of_settings_are_every_secret_field_and_the_database_password() -> None:
    settings = Settings(
        _env_file=None,
        github_token=SecretStr(GH_TOKEN),
        openai_api_key=SecretStr(LLM_KEY),
        slack_signing_secret=SecretStr(SIGNING),
        feishu_app_secret=SecretStr("feishu-app-secret-1"),
        digest_database_url="postgresql+asyncpg://bot:db-pass-Xy12@db:5432/digest",
    )
    found = set(secrets_of(settings))
    assert {GH_TOKEN, LLM_KEY, SIGNING, "feishu-app-secret-1", "db-pass-Xy12"} <= found
    assert "bot" not in found and settings.digest_llm_model not in found
    assert RedactingFilter(found).redact(f"x {SIGNING} y") == f"x {REDACTED} y"


# ---- end to end: the console script, its log, its chat messages ----------------------------


def forms(secret: str) -> set[str]:
    """How a secret could appear in text: as is, URL-encoded, JSON-escaped, base64 (at each
    alignment, the stretch that depends on the secret alone)."""
    found = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            found.add(encode(b"\0" * pad + secret.encode()).decode()[4:-4])
    return found


def assert_no_secret(text: str, where: str) -> None:
    for name, secret in SECRETS.items():
        for form in forms(secret):
            assert form not in text, f"{name} ({form[:12]}...) found in {where}"


def build_repo(tmp_path: Path) -> GitRepo:
    """A day with an ordinary commit and one that committed the bot's own secrets: the fake
    GitHub serves them in the diff, PyGithub logs that body at DEBUG, the LLM is shown it."""
    repo = GitRepo.init(tmp_path / "demo")
    repo.commit(
        "feat: add the export API",
        {"src/export.py": "def export():\n    return 1\n" * 10},
        when=datetime(2026, 2, 5, 9, tzinfo=SH),
    )
    env_file = "".join(f"{name}={value}\n" for name, value in SECRETS.items())
    repo.commit(
        "chore: local settings for the bot",
        {
            "deploy/bot.env": env_file,
            "src/settings.py": f'API_KEY = "{LLM_KEY}"\nTOKEN = "{GH_TOKEN}"\n',
            # Unnamed: no pattern knows these; only the literal values configured do.
            "NOTES.md": f"rotated yesterday: {GH_TOKEN} {LLM_KEY} {SIGNING}\n",
        },
        when=datetime(2026, 2, 5, 10, tzinfo=SH),
    )
    return repo


def echo(body: dict[str, Any]) -> str:
    """An LLM that repeats what it was shown of the secrets: a leak into the prompt would
    come back in the analysis, and so into the chat."""
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    shown = [ln.strip() for ln in prompt.splitlines() if re.search(r"TOKEN|KEY|SECRET", ln)]
    echoed = " / ".join(shown)[:400] or "nothing secret"
    if "response_format" not in body:
        return f"The day: {echoed}"
    return answer_json(summary=f"Shown: {echoed}")


async def run_digest(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    exe = str(Path(sys.executable).parent / "digest")
    proc = await asyncio.create_subprocess_exec(
        exe, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **env}, cwd=cwd,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=HANG)
    return proc.returncode or 0, out.decode(), err.decode()


def answered(slack: FakeSlack, count: int) -> bool:
    return len(slack.responses) >= count


def loggers_in(stderr: str) -> set[str]:
    found = set()
    for line in stderr.splitlines():
        if line.startswith("{"):
            found.add(json.loads(line)["logger"].split(".")[0])
    return found


async def test_report_at_debug_logs_no_secret(tmp_path: Path) -> None:
    repo = build_repo(tmp_path)
    async with (
        FakeGitHub(token=GH_TOKEN) as gh,
        FakeOpenAI(api_key=LLM_KEY, responder=echo) as llm,
    ):
        gh.add_repo("octo/demo", repo.path, private=True)
        env = {
            **SECRETS,
            "GITHUB_API_URL": gh.url,
            "OPENAI_BASE_URL": llm.url,
            "DIGEST_LLM_JSON_MODE": "json_schema",
            "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/digest.db",
        }
        args = ["report", "octo/demo", "--date", "2026-02-05", "--tz", "Asia/Shanghai"]
        code, out, err = await run_digest([*args, "--log-level", "debug"], env, tmp_path)
    assert code == 0, err[-3000:]
    assert all(r.auth_ok for r in llm.chat_requests) and len(llm.chat_requests) == 3
    # The secrets did pass through: PyGithub logged the diff, the LLM echoed what it saw.
    assert {"github", "openai", "urllib3"} <= loggers_in(err)
    assert err.count(REDACTED) >= len(SECRETS)
    assert 'Shown: +API\\_KEY = "\\[REDACTED\\]"' in out  # Markdown-escaped
    assert all(line.startswith("{") or line.startswith("digest: ") for line in err.splitlines())
    assert_no_secret(err, "the log")
    assert_no_secret(out, "the report")


async def answers(slack: FakeSlack, count: int) -> None:
    await slack.wait_for(lambda: len(slack.responses) >= count, what=f"{count} answers")


@pytest.mark.e2e  # `digest serve` at debug: 44 s under load
async def test_serve_at_debug_keeps_secrets_out_of_the_log_and_the_chat(tmp_path: Path) -> None:
    repo = build_repo(tmp_path)
    async with (
        FakeSlack(token=SLACK_BOT, app_token=SLACK_APP) as slack,
        FakeGitHub(token=GH_TOKEN) as gh,
        FakeOpenAI(api_key=LLM_KEY, responder=echo) as llm,
    ):
        gh.add_repo("octo/demo", repo.path)
        env = {
            **SECRETS,
            "SLACK_API_URL": slack.api_url,
            "GITHUB_API_URL": gh.url,
            "OPENAI_BASE_URL": llm.url,
            "DIGEST_LLM_JSON_MODE": "json_schema",
            "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/digest.db",
            "DIGEST_PORT": str(free_port()),
            "DIGEST_LANGUAGE": "en",
        }
        digest = await Digest.start(env, tmp_path, "serve", "--log-level", "debug")
        try:
            await digest.line_starting("digest serve:", within=HANG)
            await slack.wait_connected()
            secret_commit = repo.git("rev-parse", "HEAD")
            # Each command answered before the next is sent: they run concurrently once acked,
            # and the lookup and `now` need the subscription.
            for answers, text in (
                (1, "subscribe octo/demo tz:Asia/Shanghai"),
                (2, secret_commit[:10]),
                (2, "now 2026-02-05"),
            ):
                envelope = await slack.wait_ack(
                    await slack.send_slash_command(text, channel_id=CHANNEL, user_id="U0ALICE")
                )
                assert envelope.ack is not None
                await slack.wait_for(partial(answered, slack, answers), what=text)
            await slack.wait_for(
                lambda: any(f.completed for f in slack.files) and len(slack.responses) >= 2,
                what="the digest and its report file",
            )
            digest.proc.send_signal(signal.SIGTERM)
            code = await digest.finish(within=HANG)
        finally:
            await digest.kill()
        chat = json.dumps(
            {
                "calls": [asdict(c) for c in slack.calls],
                "posts": [asdict(m) for ms in slack.posts.values() for m in ms],
                "responses": [asdict(r) for r in slack.responses],
                "acks": [e.ack for e in slack.envelopes],
                "files": [(f.content or b"").decode("utf-8", "replace") for f in slack.files],
            },
            ensure_ascii=False,
            default=str,
        )
    assert code == 0, digest.stderr[-3000:]
    assert [m for m in slack.top_level(CHANNEL) if m.metadata], "no digest was posted"
    assert any(f.completed for f in slack.files), "no report file was uploaded"
    assert "Shown: +API_KEY" in chat and "REDACTED" in chat  # the LLM saw the diff, redacted
    assert {"github", "openai", "slack_sdk", "slack_bolt"} <= loggers_in(digest.stderr)
    assert digest.stderr.count(REDACTED) >= len(SECRETS)
    assert_no_secret(digest.stderr, "the log")
    assert_no_secret(digest.stdout, "stdout")
    assert_no_secret(chat, "what Slack received")
