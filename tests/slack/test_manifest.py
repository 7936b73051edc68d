"""manifest.yml: the /digest command, Socket Mode, interactivity, and exactly the scopes we use."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Web API methods the bot calls, and the bot scope each one needs.
SCOPE_OF = {
    "chat_postMessage": "chat:write",
    "files_upload_v2": "files:write",
    "conversations_history": "channels:history",
    "conversations_replies": "channels:history",  # a takeover reads the post's thread
    "chat_getPermalink": None,  # /digest status links the last digest; no scope needed
}


def manifest() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_command_and_modes() -> None:
    data = manifest()
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/digest"
    for word in ("<sha>", "subscribe", "list", "now", "status", "help"):
        assert word in command["usage_hint"]
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True


def test_scopes_are_what_the_code_uses_and_no_more() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "slack").glob("*.py"))
    used = {
        scope
        for method, scope in SCOPE_OF.items()
        if scope is not None and re.search(rf"\.{method}\b", code)
    }
    assert used == {"chat:write", "files:write", "channels:history"}
    # Plus: the command itself, posting in public channels without an invitation, and the
    # same history lookup in private channels.
    assert scopes == used | {"commands", "chat:write.public", "groups:history"}
