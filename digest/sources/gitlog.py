"""Parse `git log -z --raw --numstat -p` output into `Commit`s, streaming, with patch budgets.

Kept apart from `git.py` so that the byte format, the one fragile part, is pure and testable:
this module runs no process and knows nothing of asyncio.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from digest.models import Commit, FileChange, FileStatus, RepoRef

# Patch text kept per file and per commit; numstat counts stay exact whatever is cut.
FILE_PATCH_LIMIT = 200_000
COMMIT_PATCH_LIMIT = 2_000_000

# One NUL-terminated field each; the record starts with \x01, a byte no patch line starts with.
_FIELDS = ("%H", "%P", "%an", "%ae", "%aI", "%at", "%cn", "%cI", "%ct", "%B")
LOG_FORMAT = "%x01" + "".join(f + "%x00" for f in _FIELDS)

# Flags that make the stream parseable whatever the user's config says.
LOG_FLAGS = (
    "-z",
    f"--format={LOG_FORMAT}",
    "--encoding=UTF-8",
    "--raw",
    "--numstat",
    "-p",
    "-M",
    "-U3",
    "--inter-hunk-context=0",
    "--root",
    "--diff-merges=first-parent",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-notes",
    "--no-abbrev",
)

_STATUS = {
    "A": FileStatus.ADDED,
    "M": FileStatus.MODIFIED,
    "D": FileStatus.REMOVED,
    "R": FileStatus.RENAMED,
    "C": FileStatus.COPIED,
    "T": FileStatus.CHANGED,
}

_GITHUB_REMOTE = re.compile(
    r"""^(?:
        (?:https?|git|ssh|git\+ssh)://(?:[^@/]+@)?(?:www\.)?github\.com(?::\d+)?/
      | (?:[^@/:]+@)?github\.com:/?
    )
    (?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$""",
    re.VERBOSE | re.IGNORECASE,
)


class LogFormatError(ValueError):
    """git printed something this parser does not understand."""


def github_full_name(url: str) -> str | None:
    """`owner/name` when a remote URL points at github.com (credentials in it are dropped)."""
    match = _GITHUB_REMOTE.match(url.strip())
    if not match or match["name"] in (".", ".."):
        return None
    return f"{match['owner']}/{match['name']}"


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _when(iso: bytes, epoch: bytes) -> datetime:
    """The date with the offset git recorded; UTC when that offset is out of range."""
    try:
        return datetime.fromisoformat(_text(iso))
    except ValueError:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError) as exc:
            raise LogFormatError(f"bad date {iso!r}") from exc


class Reader:
    """Buffered reads by delimiter over a pipe, so a 100 MB diff is never held in memory."""

    def __init__(self, stream: IO[bytes], chunk: int = 1 << 16) -> None:
        self._stream = stream
        self._chunk = chunk
        self._buf = bytearray()
        self._pos = 0
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._stream.read(self._chunk)
        if not data:
            self._eof = True
            return False
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data
        return True

    def peek(self) -> int | None:
        while self._pos >= len(self._buf):
            if not self._fill():
                return None
        return self._buf[self._pos]

    def skip(self, chars: bytes) -> None:
        while (byte := self.peek()) is not None and byte in chars:
            self._pos += 1

    def until(self, delim: int) -> bytes:
        """Up to `delim` (consumed, not returned); a field cut short by EOF is a format error."""
        searched = 0  # bytes after _pos already known to hold no delimiter
        while (end := self._buf.find(delim, self._pos + searched)) < 0:
            searched = len(self._buf) - self._pos
            if not self._fill():
                raise LogFormatError("git log output ended inside a record")
        data = bytes(self._buf[self._pos : end])
        self._pos = end + 1
        return data

    def line(self, keep: int) -> tuple[bytes, bool]:
        """One line without its newline, keeping at most `keep` bytes; True when cut."""
        kept = bytearray()
        cut = False
        while True:
            end = self._buf.find(b"\n", self._pos)
            stop = len(self._buf) if end < 0 else end
            room = keep - len(kept)
            if room > 0:
                kept += self._buf[self._pos : min(stop, self._pos + room)]
            cut = cut or stop - self._pos > max(room, 0)
            self._pos = stop if end < 0 else end + 1
            if end >= 0 or not self._fill():
                return bytes(kept), cut


@dataclass
class _File:
    status: str
    path: bytes
    previous: bytes | None
    mode_only: bool
    lines: list[str] = field(default_factory=list)
    chars: int = 0  # length of the kept lines joined by newlines
    clipped: bool = False
    in_hunks: bool = False

    @property
    def room(self) -> int:
        return FILE_PATCH_LIMIT - self.chars - (1 if self.lines else 0)


class _PatchBudget:
    """Keeps the head of each file's hunks and stops once the commit has enough text."""

    def __init__(self) -> None:
        self.used = 0

    @property
    def exhausted(self) -> bool:
        return self.used > COMMIT_PATCH_LIMIT

    def add(self, file: _File, raw: bytes, cut: bool) -> None:
        if file.clipped:
            return
        text = _text(raw)
        room = file.room
        if cut or len(text) > room:
            file.clipped = True
            text = text[: max(room, 0)]
            if not text:
                return
        cost = len(text) + (1 if file.lines else 0)
        file.lines.append(text)
        file.chars += cost
        self.used += cost


def _read_files(reader: Reader) -> tuple[list[_File], dict[tuple[bytes, bytes], tuple[str, str]]]:
    files: list[_File] = []
    while reader.peek() == ord(":"):
        meta = reader.until(0).split()
        if len(meta) < 5:
            raise LogFormatError(f"bad raw line {meta!r}")
        status = _text(meta[4])[:1]
        first = reader.until(0)
        second = reader.until(0) if status in ("R", "C") else None
        path, previous = (second, first) if second is not None else (first, None)
        mode_only = status == "M" and meta[2] == meta[3] and meta[0] != meta[1]
        files.append(_File(status, path, previous, mode_only))
    counts: dict[tuple[bytes, bytes], tuple[str, str]] = {}
    while (byte := reader.peek()) is not None and (byte == ord("-") or 48 <= byte <= 57):
        parts = reader.until(0).split(b"\t", 2)
        if len(parts) != 3:
            raise LogFormatError(f"bad numstat entry {parts!r}")
        added, deleted, path = parts
        key = (reader.until(0), reader.until(0)) if not path else (path, path)
        counts[key] = (_text(added), _text(deleted))
    return files, counts


def _read_patches(reader: Reader, files: list[_File], budget: _PatchBudget) -> bool:
    """Hunks of each file, in the order of the raw entries; False if the counts disagree."""
    index = -1
    current: _File | None = None
    while (byte := reader.peek()) is not None and byte != 1:
        keep = 16 if current is None or current.clipped else max(16, current.room * 4 + 4)
        raw, cut = reader.line(keep)
        if raw.startswith(b"diff --git "):
            index += 1
            current = files[index] if index < len(files) else None
            if current is not None and budget.exhausted:
                current.clipped = True
        elif current is None or not raw:
            continue
        elif current.in_hunks or raw.startswith(b"@@"):
            current.in_hunks = True
            budget.add(current, raw, cut)
    return index + 1 == len(files)


def _file_change(
    file: _File, counts: dict[tuple[bytes, bytes], tuple[str, str]], patches_ok: bool
) -> FileChange:
    key = (file.previous if file.previous is not None else file.path, file.path)
    added, deleted = counts.get(key, ("0", "0"))
    binary = added == "-"
    status = FileStatus.CHANGED if file.mode_only else _STATUS.get(file.status, FileStatus.MODIFIED)
    patch: str | None = None
    if not binary and patches_ok and not (file.clipped and not file.lines):
        patch = "\n".join(file.lines)
    return FileChange(
        path=_text(file.path),
        previous_path=_text(file.previous) if file.previous is not None else None,
        status=status,
        additions=0 if binary else int(added),
        deletions=0 if binary else int(deleted),
        binary=binary,
        patch=patch,
        patch_clipped=not binary and (file.clipped or not patches_ok),
    )


def parse_log(stream: IO[bytes], repo: RepoRef) -> Iterator[Commit]:
    """Commits in the order git prints them, one record at a time."""
    reader = Reader(stream)
    while (byte := reader.peek()) is not None:
        if byte != 1:
            raise LogFormatError(f"expected a commit record, got byte {byte:#x}")
        reader.skip(b"\x01")
        sha, parents, an, ae, a_iso, a_ts, cn, c_iso, c_ts, body = (
            reader.until(0) for _ in _FIELDS
        )
        reader.skip(b"\0\n")
        files, counts = _read_files(reader)
        reader.skip(b"\0\n")
        budget = _PatchBudget()
        patches_ok = _read_patches(reader, files, budget)
        message = _text(body)
        sha_text = _text(sha)
        yield Commit(
            repo=repo.full_name,
            sha=sha_text,
            author_name=_text(an),
            author_email=_text(ae) or None,
            authored_at=_when(a_iso, a_ts),
            committer_name=_text(cn) or None,
            committed_at=_when(c_iso, c_ts),
            message=message[:-1] if message.endswith("\n") else message,
            url=repo.commit_url(sha_text),
            parents=tuple(_text(parents).split()),
            files=tuple(_file_change(f, counts, patches_ok) for f in files),
        )


def collect(
    stream: IO[bytes], repo: RepoRef, total: int, progress: Callable[[int, int], None] | None
) -> list[Commit]:
    """Every commit of the stream, reporting (done, total) after each one."""
    commits: list[Commit] = []
    for commit in parse_log(stream, repo):
        commits.append(commit)
        if progress is not None:
            progress(len(commits), max(total, len(commits)))
    return commits
