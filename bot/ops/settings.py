"""Settings: the only reader of the environment (and of `.env`). Read once, typed, validated."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from digest.analysis.endpoint import EndpointShapeError, parse_endpoint
from digest.errors import UnknownTimeZone
from digest.window import resolve_tz

_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?")

# A SQLite file in the working directory; postgresql+asyncpg://... for several replicas.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///digest.db"


class SettingsError(Exception):
    """Malformed settings; `problems` names every one of them, by environment variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
        frozen=True,
    )

    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    # A GitHub App instead of (or besides) a token: both or neither. The key is the PEM text
    # (`\n` escapes allowed) or the path of a PEM file. With both an App and a token, the App
    # wins: its installation tokens are short-lived and scoped to the repositories it is on.
    github_app_id: int | None = Field(default=None, ge=1)
    github_app_private_key: SecretStr | None = None
    # How long a command's GitHub call may wait for a rate limit to reset before failing
    # (seconds); the bot's scheduled digests wait for the reset, however far (an hour at most).
    digest_github_max_wait: float = Field(default=60.0, ge=0, le=3600)
    # A partial clone may fetch the objects it lacks from its promisor remote (the network);
    # by default reports stay offline and mark those files unreadable.
    digest_git_fetch_missing: bool = False
    # GitHub requests in flight at once, across every digest of the process.
    digest_github_concurrency: int = Field(default=8, ge=1, le=64)

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_api_version: str | None = None  # classic Azure URLs (…/openai/deployments/NAME)
    digest_llm_model: str = "gpt-4o-mini"
    # Analyses at the LLM at once, across every digest of the process (not per digest).
    digest_llm_concurrency: int = Field(default=8, ge=1, le=256)
    # Tokens per minute sent to the LLM (the offline estimate of each prompt plus its output
    # limit, settled at the usage answered): unset, no limit of ours.
    digest_llm_tpm: int | None = Field(default=None, ge=1_000)
    # auto: what the endpoint was seen to accept, else json_schema for OpenAI, Azure, Ollama,
    # vLLM and json_object for the others; none: no response_format, the schema in the prompt.
    digest_llm_json_mode: Literal["auto", "json_schema", "json_object", "none"] = "auto"
    # auto: what the endpoint was seen to accept, else max_completion_tokens for OpenAI and
    # Azure and max_tokens for the others.
    digest_llm_token_param: Literal["auto", "max_tokens", "max_completion_tokens"] = "auto"  # noqa: S105 - a parameter's name, not a password
    digest_llm_timeout: float = Field(default=120.0, gt=0, le=3600)
    digest_llm_max_prompt_tokens: int = Field(default=24_000, ge=1_000, le=1_000_000)
    digest_llm_max_output_tokens: int = Field(default=2_000, ge=256, le=100_000)
    # The limit of a model seen to think before it answers (its thinking counts against it).
    digest_llm_reasoning_max_output_tokens: int = Field(default=16_000, ge=256, le=1_000_000)
    # A JSON object merged into every request: provider switches such as enable_thinking.
    digest_llm_extra_body: str | None = None

    digest_database_url: str = DEFAULT_DATABASE_URL
    # Chat commands worked on at once (after their ack), Slack and Feishu together; the rest
    # wait their turn in order, so a burst never delays the next ack or starves the database.
    digest_command_concurrency: int = Field(default=4, ge=1, le=64)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # Socket Mode when set
    slack_api_url: str | None = None  # another Web API base (tests, proxies)
    feishu_app_id: str | None = None
    feishu_app_secret: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    feishu_encrypt_key: SecretStr | None = None
    feishu_api_url: str | None = None  # Lark international, tests: an origin like https://host
    feishu_long_connection: bool = False  # events over lark's websocket instead of HTTP callbacks
    digest_public_url: str | None = None  # where /reports/... is served, for links in posts
    # Signs /reports links of private repositories (without it they are not linked at all).
    digest_report_key: SecretStr | None = None
    digest_port: int = Field(default=3000, ge=1, le=65535)
    # The address `digest serve` listens on: loopback unless told (the Docker image says
    # 0.0.0.0), so a bot on a laptop or behind a proxy on the same host is not exposed.
    digest_host: str = "127.0.0.1"
    # Seconds a client has to send a request's headers and body, each request; then closed.
    digest_http_read_timeout: float = Field(default=30.0, gt=0, le=600)
    # Connections open at once; past it the oldest idle one is closed to admit the new one.
    digest_http_max_connections: int = Field(default=1000, ge=10, le=100_000)
    # A digest run's claim: renewed every third of it while the run works; a dead replica's
    # runs move to another within about this long.
    digest_lease_seconds: float = Field(default=60.0, ge=3, le=3600)
    # Runs one replica holds at once, so that replicas share a busy minute.
    digest_max_claims: int = Field(default=3, ge=1, le=100)

    digest_language: Literal["zh", "en"] = "zh"
    digest_timezone: str = "Asia/Shanghai"
    digest_time: str = "09:00"  # when a new subscription posts, in its time zone
    # Comma-separated user ids who may subscribe channels to private repositories.
    digest_admins: str = ""
    # Comma-separated globs (my-org/*) of private repositories anyone may subscribe to.
    digest_allowed_repos: str = ""
    # Comma-separated pull request labels (globs: area/*) shown beside breaking, security, perf.
    digest_highlight_labels: str = ""
    # `digest serve` only: let chat users name local clones by path (they read the server's
    # disk). `digest chat` always may: the disk is the user's own.
    digest_allow_local_paths: bool = False

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            resolve_tz(value)
        except UnknownTimeZone:
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError("must be HH:MM")
        if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
            raise ValueError("must be a time between 00:00 and 23:59")
        return f"{int(hours):02d}:{minutes}"

    @field_validator(
        "github_api_url", "openai_base_url", "slack_api_url", "digest_public_url", "feishu_api_url"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("openai_base_url")
    @classmethod
    def _llm_endpoint(cls, value: str | None) -> str | None:
        try:
            parse_endpoint(value)
        except EndpointShapeError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("digest_llm_extra_body")
    @classmethod
    def _extra_body(cls, value: str | None) -> str | None:
        if value is not None:
            extra_body(value)
        return value

    @property
    def llm_extra_body(self) -> dict[str, Any]:
        return extra_body(self.digest_llm_extra_body) if self.digest_llm_extra_body else {}

    @field_validator("github_app_private_key", mode="before")
    @classmethod
    def _pem_key(cls, value: object) -> object:
        """The PEM text, read from a file when the value is not one; never quoted in errors."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str):
            return value
        text = raw.strip()
        if not text.startswith("-----BEGIN"):
            try:
                text = Path(text).expanduser().read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError, ValueError):
                raise ValueError("neither PEM text nor a readable PEM file") from None
            if not text.startswith("-----BEGIN"):
                raise ValueError("the file is not a PEM private key") from None
        text = text.replace("\\n", "\n")  # a one-line value from .env or a secret store
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError):
            raise ValueError("not an unencrypted PEM private key") from None
        return SecretStr(text + "\n")

    @model_validator(mode="after")
    def _app_pair(self) -> Self:
        has_id, has_key = self.github_app_id is not None, self.github_app_private_key is not None
        if has_id != has_key:
            missing = "GITHUB_APP_PRIVATE_KEY" if has_id else "GITHUB_APP_ID"
            raise ValueError(
                "a GitHub App needs both GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY: "
                f"{missing} is not set"
            )
        return self

    @property
    def github_app(self) -> tuple[int, str] | None:
        """(app id, PEM private key) when a GitHub App is configured."""
        if self.github_app_id is None or self.github_app_private_key is None:
            return None
        return self.github_app_id, self.github_app_private_key.get_secret_value()

    @field_validator("digest_host")
    @classmethod
    def _host(cls, value: str) -> str:
        text = value.strip()
        try:
            return str(ipaddress.ip_address(text.strip("[]")))
        except ValueError:
            pass
        if not _HOSTNAME.fullmatch(text):
            raise ValueError("must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name")
        return text

    @field_validator("digest_database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.digest_admins.split(",") if a.strip())

    @property
    def allowed_repos(self) -> tuple[str, ...]:
        return tuple(g.strip() for g in self.digest_allowed_repos.split(",") if g.strip())

    @property
    def highlight_labels(self) -> tuple[str, ...]:
        return tuple(g.strip() for g in self.digest_highlight_labels.split(",") if g.strip())

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def feishu_configured(self) -> bool:
        return self.feishu_app_id is not None and self.feishu_app_secret is not None

    @property
    def llm_configured(self) -> bool:
        return self.openai_base_url is not None or self.openai_api_key is not None


# Request fields Commit Digest sets itself, and what sets each.
_RESERVED = {
    "model": "DIGEST_LLM_MODEL",
    "messages": "Commit Digest's prompt",
    "stream": "Commit Digest, which reads whole answers",
    "response_format": "DIGEST_LLM_JSON_MODE",
    "max_tokens": "DIGEST_LLM_MAX_OUTPUT_TOKENS",
    "max_completion_tokens": "DIGEST_LLM_MAX_OUTPUT_TOKENS",
}


def extra_body(text: str) -> dict[str, Any]:
    """DIGEST_LLM_EXTRA_BODY as a dict; ValueError with one sentence when it is not usable."""
    example = 'such as {"enable_thinking": false}'
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"must be a JSON object {example}") from None
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object {example}")
    taken = [name for name in value if name in _RESERVED]
    if taken:
        name = taken[0]
        raise ValueError(f"must not set {name!r}, which {_RESERVED[name]} sets")
    return value


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read the settings once; every problem is named in one SettingsError."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError(problems) from None
