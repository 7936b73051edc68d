"""How git is run for a local clone: config pinned whatever ~/.gitconfig says, every transport
refused unless fetching is allowed, an environment that cannot point git elsewhere, and the
refs git may see (plain names only, never options or revision expressions).
"""

from __future__ import annotations

import os
import re

# Config that could change what git prints, pinned whatever ~/.gitconfig says.
CONFIG = (
    "core.quotepath=false",
    "color.ui=false",
    "log.showSignature=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.suppressBlankEmpty=false",
)
# A lazy fetch from a partial clone's promisor remote fails at once: every transport refused.
OFFLINE = tuple(
    f"protocol.{name}allow=never"
    for name in ("", "file.", "git.", "ssh.", "http.", "https.", "ext.")
)
# Environment that would point git at another repository or change its output.
_KEEP_GIT_ENV = {
    "GIT_EXEC_PATH",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CEILING_DIRECTORIES",
}
# Revision syntax, option-looking and whitespace refs never reach git: we only take plain names.
_UNSAFE_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{")


def is_plain_ref(ref: str) -> bool:
    """A branch, tag or sha that git cannot read as an option or a revision expression."""
    return (
        0 < len(ref) <= 255
        and not ref.startswith("-")
        and not _UNSAFE_REF.search(ref)
        and not any(ch.isspace() for ch in ref)
    )


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP_GIT_ENV}
    env.update(LC_ALL="C", LANG="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    return env
