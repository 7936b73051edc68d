"""Where the model lives, decided once from the URL: an OpenAI-compatible server, or Azure OpenAI
in either of its URL shapes, and the client that speaks to it.

Azure serves chat completions under two shapes. The classic one,
`https://RESOURCE.openai.azure.com/openai/deployments/NAME` with an `api-version` query and the
key in an `api-key` header, needs the SDK's Azure client: sent a Bearer key it answers 401 in
words that read like a wrong key. The v1 one, `https://RESOURCE.openai.azure.com/openai/v1`, is
OpenAI's own shape (learn.microsoft.com, "Azure OpenAI in Microsoft Foundry Models v1 API").
The shape is recognised by the path as well as the host, so an API gateway in front of Azure
works too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from digest.analysis.capabilities import JsonMode, TokenParam

if TYPE_CHECKING:  # the SDK loads with the client: settings read URLs without it (0.4 s)
    import httpx2
    import openai

OPENAI_URL = "https://api.openai.com/v1"
# The newest generally available data-plane version when this was written; reasoning
# deployments (o1, o3, o4-mini) need 2024-12-01-preview or later, or the v1 URL.
DEFAULT_AZURE_API_VERSION = "2024-10-21"
_AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
_CLASSIC_RE = re.compile(r"(?P<prefix>.*?)/openai/deployments(?:/(?P<name>[^/]*))?(?P<rest>/.*)?")
_V1_RE = re.compile(r".*/openai/v1")
_OPERATION = "/chat/completions"
_SHAPES = (
    "https://RESOURCE.openai.azure.com/openai/deployments/DEPLOYMENT (with OPENAI_API_VERSION), "
    "https://RESOURCE.openai.azure.com/openai/v1, or https://RESOURCE.openai.azure.com"
)

# Hosts whose OpenAI-compatible API is documented to take json_schema response formats, and
# hosts documented to take json_object only (their pages are named in the README's matrix).
_JSON_SCHEMA_HOSTS = ("api.openai.com", *_AZURE_HOSTS)
_JSON_OBJECT_HOSTS = (
    "deepseek.com",
    "dashscope.aliyuncs.com",
    "dashscope-intl.aliyuncs.com",
    "moonshot.cn",
    "moonshot.ai",
    "bigmodel.cn",
    "z.ai",
    "volces.com",
)
# Ollama's and vLLM's default ports: both constrain decoding to a json_schema.
_JSON_SCHEMA_PORTS = (11434, 8000)


class EndpointShapeError(ValueError):
    """OPENAI_BASE_URL has a shape no endpoint serves; the message is one sentence."""


@dataclass(frozen=True)
class Endpoint:
    """The URL the client is given, and how Azure (if it is Azure) wants to be spoken to."""

    url: str  # the SDK's base_url; for classic Azure, the origin (`azure_endpoint`)
    azure: Literal["", "classic", "v1"] = ""
    deployment: str | None = None  # classic Azure: named by the URL, else the model names it
    api_version: str | None = None

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    def key(self, model: str) -> str:
        """Who answers for `model`, without credentials: what learnt capabilities are kept by."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port is not None:
            netloc += f":{parts.port}"
        base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        if self.azure == "classic":
            return f"{base}/openai/deployments/{self.deployment or model}"
        return base

    def default_json_mode(self) -> JsonMode:
        """json_schema where the provider documents it, json_object elsewhere (every compatible
        server takes that); what the endpoint refuses is learnt from its answers."""
        host = self.host
        if self.azure or host.endswith(_JSON_SCHEMA_HOSTS):
            return "json_schema"
        if host.endswith(_JSON_OBJECT_HOSTS):
            return "json_object"
        if urlsplit(self.url).port in _JSON_SCHEMA_PORTS:
            return "json_schema"
        return "json_object"

    def default_token_param(self) -> TokenParam:
        """OpenAI and Azure document max_completion_tokens (their reasoning models refuse
        max_tokens); every other compatible server documents max_tokens."""
        if self.azure or self.host == "api.openai.com":
            return "max_completion_tokens"
        return "max_tokens"


def parse_endpoint(base_url: str | None, api_version: str | None = None) -> Endpoint:
    """The endpoint OPENAI_BASE_URL names; EndpointShapeError for a shape nothing serves.

    A trailing `/chat/completions` (the operation, pasted with the URL) is dropped; for classic
    Azure an `api-version` in the URL wins over OPENAI_API_VERSION.
    """
    if not base_url:
        return Endpoint(OPENAI_URL)
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    if path.endswith(_OPERATION):
        path = path[: -len(_OPERATION)]
    query = parse_qs(parts.query)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    azure_host = (parts.hostname or "").lower().endswith(_AZURE_HOSTS)
    classic = _CLASSIC_RE.fullmatch(path)
    if classic is not None:
        name = classic.group("name")
        if not name or classic.group("rest"):
            raise EndpointShapeError(
                f"OPENAI_BASE_URL {_shown(base_url)} is not an Azure OpenAI URL: use {_SHAPES}."
            )
        version = next(iter(query.get("api-version", [])), None) or api_version
        return Endpoint(
            origin + classic.group("prefix"),
            azure="classic",
            deployment=name,
            api_version=version or DEFAULT_AZURE_API_VERSION,
        )
    if _V1_RE.fullmatch(path):
        return Endpoint(urlunsplit((parts.scheme, parts.netloc, path, "", "")), azure="v1")
    if azure_host:
        if path not in ("", "/openai"):
            raise EndpointShapeError(
                f"OPENAI_BASE_URL {_shown(base_url)} is not an Azure OpenAI URL: use {_SHAPES}."
            )
        return Endpoint(
            origin, azure="classic", api_version=api_version or DEFAULT_AZURE_API_VERSION
        )
    rebuilt = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return Endpoint(rebuilt)


def open_client(
    endpoint: Endpoint, api_key: str, *, timeout: float, max_retries: int
) -> openai.AsyncOpenAI:
    """The SDK client for `endpoint`; its retries (honouring Retry-After) skip billing errors."""
    import openai

    http_client = openai.DefaultAsyncHttpxClient(
        event_hooks={"response": [_final_when_out_of_credit]}
    )
    common: dict[str, Any] = {
        "api_key": api_key,
        "timeout": timeout,
        "max_retries": max_retries,
        "http_client": http_client,
    }
    if endpoint.azure == "classic":
        return openai.AsyncAzureOpenAI(
            azure_endpoint=endpoint.url,
            azure_deployment=endpoint.deployment,
            api_version=endpoint.api_version,
            **common,
        )
    if endpoint.azure == "v1":
        # Azure's v1 API takes the key as a Bearer token (its Python samples) or in `api-key`
        # (its REST samples): send both.
        return openai.AsyncOpenAI(
            base_url=endpoint.url, default_headers={"api-key": api_key}, **common
        )
    return openai.AsyncOpenAI(base_url=endpoint.url, **common)


async def _final_when_out_of_credit(response: httpx2.Response) -> None:
    """An account out of credit answers 429 at some providers (OpenAI's insufficient_quota,
    Moonshot, Zhipu): a rate limit to the SDK, which would retry it. `x-should-retry: false`
    is the SDK's own signal to stop."""
    from digest.analysis.llm_errors import billing_problem

    if response.status_code != 429:
        return
    await response.aread()
    try:
        body = response.json()
    except ValueError:
        return
    if billing_problem(429, body) is not None:
        response.headers["x-should-retry"] = "false"


def _shown(url: str) -> str:
    """The URL for a message: credentials and query left out, clipped."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc += f":{parts.port}"
    text = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return repr(text if len(text) <= 120 else text[:119] + "…")
