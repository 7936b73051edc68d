"""Settings: read once from the environment (and .env), every problem named in one message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ops.settings import SettingsError, load_settings


def test_defaults_without_any_setting() -> None:
    s = load_settings(None)
    assert (s.digest_language, s.digest_timezone, s.digest_time) == ("zh", "Asia/Shanghai", "09:00")
    assert s.github_api_url == "https://api.github.com"
    assert s.digest_database_url == "sqlite+aiosqlite:///digest.db"
    assert not s.llm_configured and s.admins == frozenset() and s.allowed_repos == ()


def test_every_problem_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_TIMEZONE", "Mars/Base")
    monkeypatch.setenv("DIGEST_LANGUAGE", "fr")
    monkeypatch.setenv("DIGEST_TIME", "25:00")
    monkeypatch.setenv("GITHUB_API_URL", "ftp://example")
    monkeypatch.setenv("DIGEST_DATABASE_URL", "mysql://u:hunter2secret@h/db")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + "s" * 30)
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    names = " ".join(info.value.problems)
    for name in ("DIGEST_TIMEZONE", "DIGEST_LANGUAGE", "DIGEST_TIME", "GITHUB_API_URL"):
        assert name in names
    assert "DIGEST_DATABASE_URL" in names
    assert "hunter2secret" not in str(info.value) and "sk-sss" not in str(info.value)


def test_lists_and_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("DIGEST_ADMINS=U1, U2 ,\nDIGEST_ALLOWED_REPOS=my-org/*,other/one\n")
    monkeypatch.setenv("DIGEST_TIME", "7:30")
    s = load_settings(str(env))
    assert s.admins == frozenset({"U1", "U2"})
    assert s.allowed_repos == ("my-org/*", "other/one")
    assert s.digest_time == "07:30"
    assert s.openai_api_key is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("enable_thinking=false", "must be a JSON object such as"),
        ('["enable_thinking"]', "must be a JSON object such as"),
        ('{"response_format": {"type": "text"}}', "'response_format', which DIGEST_LLM_JSON_MODE"),
        ('{"max_tokens": 9}', "DIGEST_LLM_MAX_OUTPUT_TOKENS"),
        ('{"model": "x"}', "'model', which DIGEST_LLM_MODEL sets"),
    ],
)
def test_a_bad_extra_body_is_one_sentence(
    value: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_LLM_EXTRA_BODY", value)
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    (problem,) = info.value.problems
    assert problem.startswith("DIGEST_LLM_EXTRA_BODY: ") and words in problem
    assert "Value error" not in problem


def test_llm_settings_a_user_would_write(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.wiring import llm_config

    monkeypatch.setenv("OPENAI_BASE_URL", "https://r.openai.azure.com/openai/deployments/my-o4/")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    monkeypatch.setenv("OPENAI_API_KEY", "azure-key-" + "k" * 20)
    monkeypatch.setenv("DIGEST_LLM_EXTRA_BODY", '{"reasoning_effort": "low"}')
    monkeypatch.setenv("DIGEST_LLM_TOKEN_PARAM", "max_completion_tokens")
    monkeypatch.setenv("DIGEST_LLM_JSON_MODE", "none")
    config = llm_config(load_settings(None))
    assert config.model == "my-o4"  # the classic URL names the deployment
    assert config.extra_body == {"reasoning_effort": "low"}
    assert (config.token_param, config.json_mode) == ("max_completion_tokens", "none")
    assert config.api_version == "2025-04-01-preview"
    monkeypatch.setenv("DIGEST_LLM_MODEL", "o4-mini")
    assert llm_config(load_settings(None)).model == "o4-mini"  # a set model wins


def test_a_wrong_azure_url_is_named_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://r.openai.azure.com/openai/deployments")
    monkeypatch.setenv("OPENAI_API_KEY", "azure-key-" + "k" * 20)
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    (problem,) = info.value.problems
    assert problem.startswith("OPENAI_BASE_URL: ") and "/openai/v1" in problem
    assert "is not an Azure OpenAI URL" in problem and "OPENAI_API_KEY" not in problem


def test_delivery_and_http_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(None)
    assert (s.digest_lease_seconds, s.digest_max_claims) == (60.0, 3)
    assert s.digest_host == "127.0.0.1"  # loopback unless told; the Docker image says 0.0.0.0
    assert (s.digest_http_read_timeout, s.digest_http_max_connections) == (30.0, 1000)
    monkeypatch.setenv("DIGEST_HOST", "::")
    monkeypatch.setenv("DIGEST_LEASE_SECONDS", "20")
    monkeypatch.setenv("DIGEST_HTTP_READ_TIMEOUT", "5")
    s = load_settings(None)
    assert (s.digest_host, s.digest_lease_seconds, s.digest_http_read_timeout) == ("::", 20, 5)
    monkeypatch.setenv("DIGEST_HOST", "0.0.0.0; rm -rf /")
    monkeypatch.setenv("DIGEST_LEASE_SECONDS", "1")
    monkeypatch.setenv("DIGEST_MAX_CLAIMS", "0")
    monkeypatch.setenv("DIGEST_HTTP_READ_TIMEOUT", "0")
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    names = " ".join(info.value.problems)
    for name in (
        "DIGEST_HOST",
        "DIGEST_LEASE_SECONDS",
        "DIGEST_MAX_CLAIMS",
        "DIGEST_HTTP_READ_TIMEOUT",
    ):
        assert name in names
