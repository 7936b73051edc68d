"""Where a post links the full report: signed web-page links (HMAC-SHA256) or an attached file.

The poster signs, the report page (bot/web/reports.py) verifies: one module, so the two can never
disagree on what a signature covers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date

from digest.models import Digest, RepoRef

_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PATH = re.compile(r"/reports/([^/?#]+)/([^/?#]+)/([^/?#]+)")
_SIG_CONTEXT = b"commit-digest report v1\n"


def report_path(repo: str, day: str) -> str:
    """`/reports/owner/name/YYYY-MM-DD`."""
    return f"/reports/{repo}/{day}"


def _canonical(path: str) -> str:
    """The signed form: owner and name without case (GitHub ignores it); ValueError if `path`
    is not a report path."""
    match = _PATH.fullmatch(path)
    if match is None or parse_report_path(*match.groups()) is None:
        raise ValueError(f"not a report path: {path!r}")
    owner, name, day = match.groups()
    return f"/reports/{owner.lower()}/{name.lower()}/{day}"


def _signature(canonical: str, key: bytes) -> str:
    mac = hmac.new(key, _SIG_CONTEXT + canonical.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _key_bytes(key: bytes | str) -> bytes:
    return key.encode() if isinstance(key, str) else key


def sign_report_path(path: str, key: bytes | str) -> str:
    """`path?sig=…`: the link that opens the page of a followed private repository."""
    return f"{path}?sig={_signature(_canonical(path), _key_bytes(key))}"


def verify_report_path(path: str, sig: str | None, key: bytes | str | None) -> bool:
    """Whether `sig` is the signature of `path` under `key` (no key: nothing verifies)."""
    if not sig or not key:
        return False
    try:
        expected = _signature(_canonical(path), _key_bytes(key))
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace"))


def report_url(
    public_url: str, repo: RepoRef, day: str, key: bytes | str | None = None
) -> str | None:
    """The link a post carries: signed for a private repository, None when it cannot be
    opened (private and no key, or a local clone: the pages serve GitHub repositories)."""
    if repo.local_path is not None:
        return None
    path = report_path(repo.full_name, day)
    if repo.private:
        if not key:
            return None
        path = sign_report_path(path, key)
    return public_url.rstrip("/") + path


def parse_report_path(owner: str, name: str, day_text: str) -> tuple[str, date] | None:
    """`(owner/name, day)` from the path's parts, or None when any is malformed."""
    if not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name) or name in (".", ".."):
        return None
    if not _DATE.fullmatch(day_text):
        return None
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return None
    return f"{owner}/{name}", day


def report_name(digest: Digest) -> str:
    """The file name of a digest's Markdown report, as attached to a post."""
    period = digest.window.day or digest.window.start.strftime("%Y-%m-%d")
    return f"digest-{digest.repo.full_name.replace('/', '-')}-{period}.md"


class ReportLinks:
    """Where a post links the full report: the signed web page, or None to attach the file."""

    def __init__(self, public_url: str | None = None, report_key: str | None = None) -> None:
        self.public_url = public_url
        self.report_key = report_key

    def report_url(self, digest: Digest) -> str | None:
        if not self.public_url or digest.window.day is None:
            return None
        return report_url(self.public_url, digest.repo, digest.window.day, self.report_key)
