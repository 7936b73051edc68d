"""GitHub's wire format -> our models; pure.

Names and references as GitHub accepts them, its timestamps, and the JSON of a commit's detail
(`GET /repos/{owner}/{name}/commits/{ref}`) and of its files, converted to `Commit` and
`FileChange`. No I/O: github.py makes the requests and hands the decoded JSON here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from digest.errors import InvalidSha, InvalidWindow
from digest.models import Commit, FileChange, FileStatus, Unreadable

DEFAULT_API_URL = "https://api.github.com"
MAX_PATCH_CHARS = 200_000

_FULL_NAME = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
# A plausible git branch or tag name (the rules of `git check-ref-format`, roughly).
_REF = re.compile(
    r"^(?![-/.])(?!.*(?:\.\.|//|@\{|\.lock$|/$|\.$))[^\x00-\x20~^:?*\[\\\x7f]{1,255}$"
)
_STATUSES = {status.value: status for status in FileStatus}

Raw = dict[str, Any]  # one decoded JSON object of GitHub's


# ---- names and references ---------------------------------------------------------------------


def parse_repo_arg(text: str, api_url: str = DEFAULT_API_URL) -> str | None:
    """`owner/name` from `owner/name` or a web or clone URL of the GitHub behind `api_url`."""
    value = text.strip()
    api_host = (urlsplit(api_url).hostname or "").lower()
    if api_host == "api.github.com":
        hosts = {"github.com", "www.github.com"}
    else:
        hosts = {api_host, api_host.removeprefix("api.")}
    host: str | None = None
    if match := re.match(r"^[\w.-]+@([^:/]+):(.+)$", value):  # git@github.com:owner/name.git
        host, path = match.group(1), match.group(2)
    elif "://" in value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https", "ssh", "git"):
            return None
        host, path = parts.hostname or "", parts.path
    else:
        first, _, rest = value.partition("/")
        if first.lower() in hosts:
            host, path = first, rest
        else:
            path = value
    segments = [s for s in path.split("/") if s]
    if host is None and len(segments) != 2:
        return None
    if (host is not None and host.lower() not in hosts) or len(segments) < 2:
        return None
    full_name = f"{segments[0]}/{segments[1].removesuffix('.git')}"
    return full_name if is_full_name(full_name) else None


def is_full_name(text: str) -> bool:
    """Whether `text` is a repository's `owner/name` as GitHub allows it."""
    return bool(_FULL_NAME.fullmatch(text)) and text.split("/")[1] not in (".", "..")


def is_branch_name(text: str) -> bool:
    """Whether `text` could name a branch or tag (checked before any request)."""
    return bool(_REF.fullmatch(text))


def check_ref(ref: str) -> None:
    """Raise `InvalidSha` unless `ref` could be a commit SHA (abbreviated or not) or a ref name."""
    if not (_SHA.fullmatch(ref) or _REF.fullmatch(ref)):
        raise InvalidSha(ref)


# ---- time -------------------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    """A window bound in UTC, as GitHub's `since`/`until` need (PyGithub does not convert)."""
    if moment.tzinfo is None:
        raise InvalidWindow("window bounds must carry a time zone")
    return moment.astimezone(UTC)


def parse_time(value: str) -> datetime:
    """One of GitHub's ISO 8601 timestamps (`2024-05-01T12:00:00Z`), in UTC."""
    return datetime.fromisoformat(value).astimezone(UTC)


# ---- commits and files ------------------------------------------------------------------------


def to_commit(repo: str, raw: Raw, *, files_incomplete: bool) -> Commit:
    """A commit's detail; `files_incomplete` when GitHub paged its files past the first page."""
    info = raw["commit"]
    author = info.get("author") or {}
    committer = info.get("committer") or {}
    user = raw.get("author") or {}
    return Commit(
        repo=repo,
        sha=raw["sha"],
        author_name=author.get("name") or "",
        author_email=author.get("email") or None,
        author_login=user.get("login"),
        authored_at=parse_time(author["date"]),
        committer_name=committer.get("name"),
        committed_at=parse_time(committer["date"]),
        message=info.get("message") or "",
        url=raw.get("html_url"),
        parents=tuple(p["sha"] for p in raw.get("parents") or ()),
        files=tuple(to_file(f) for f in raw.get("files") or ()),
        files_incomplete=files_incomplete,
    )


def to_file(raw: Raw) -> FileChange:
    """One entry of a commit's `files`; a patch longer than `MAX_PATCH_CHARS` keeps its head."""
    status = _STATUSES.get(raw.get("status", ""), FileStatus.MODIFIED)
    if raw.get("status") == "unchanged":
        status = FileStatus.CHANGED
    additions, deletions = int(raw.get("additions") or 0), int(raw.get("deletions") or 0)
    patch: str | None = raw.get("patch")
    clipped = False
    if patch is not None and len(patch) > MAX_PATCH_CHARS:
        cut = patch.rfind("\n", 0, MAX_PATCH_CHARS)
        patch, clipped = patch[: cut if cut > 0 else MAX_PATCH_CHARS], True
    # GitHub omits `patch` for binary files (with zero counts) and for diffs too large to show.
    binary = patch is None and additions == deletions == 0 and status is not FileStatus.RENAMED
    too_large = patch is None and not binary and additions + deletions > 0
    return FileChange(
        path=raw["filename"],
        previous_path=raw.get("previous_filename"),
        status=status,
        additions=additions,
        deletions=deletions,
        binary=binary,
        patch=patch,
        patch_clipped=clipped,
        unreadable=Unreadable.TOO_LARGE if too_large else None,
    )
