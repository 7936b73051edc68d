"""A commit's files as git lists them from trees alone, and the words for what it cannot read.

Pure: parsing `git log --raw --no-renames` output, the pathspec lines that leave files out of
(or keep them in) a `git log --stdin`, and the `FileChange` of an unreadable file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from digest.models import Commit, FileChange, FileStatus, Unreadable
from digest.sources.gitlog import LogFormatError, Reader

ZERO = "0" * 40
GITLINK = b"160000"
TREE = b"040000"
STATUS = {
    "A": FileStatus.ADDED,
    "D": FileStatus.REMOVED,
    "M": FileStatus.MODIFIED,
    "T": FileStatus.CHANGED,
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RawEntry:
    """One file of a commit's listing (no rename detection): what its diff needs to read."""

    status: str
    old_mode: bytes
    new_mode: bytes
    old_sha: str
    new_sha: str
    path: bytes

    def blobs(self) -> list[str]:
        """The objects its diff reads: blobs only (a submodule's commit is not ours)."""
        pairs = ((self.old_mode, self.old_sha), (self.new_mode, self.new_sha))
        return [sha for mode, sha in pairs if sha != ZERO and mode != GITLINK]


def parse_listing(stream: IO[bytes]) -> dict[str, list[RawEntry]]:
    """`git log -z --raw --no-renames --format=%x01%H%x00` -> each commit's entries."""
    reader = Reader(stream)
    listing: dict[str, list[RawEntry]] = {}
    while (byte := reader.peek()) is not None:
        if byte != 1:
            raise LogFormatError(f"expected a commit record, got byte {byte:#x}")
        reader.skip(b"\x01")
        entries = listing.setdefault(reader.until(0).decode(), [])
        reader.skip(b"\0\n")
        while reader.peek() == ord(":"):
            meta = reader.until(0)[1:].split()
            if len(meta) < 5:
                raise LogFormatError(f"bad raw line {meta!r}")
            old_mode, new_mode, old_sha, new_sha, status = meta[:5]
            entries.append(
                RawEntry(
                    status.decode()[:1],
                    old_mode,
                    new_mode,
                    old_sha.decode(),
                    new_sha.decode(),
                    reader.until(0),
                )
            )
            reader.skip(b"\0\n")
    return listing


def unreadable_change(entry: RawEntry, reason: Unreadable) -> FileChange:
    """A file whose diff cannot be read: its path and status, no counts, no patch."""
    return FileChange(
        path=entry.path.decode("utf-8", "replace"),
        status=STATUS.get(entry.status, FileStatus.MODIFIED),
        unreadable=reason,
    )


def pathspec_lines(entries: Sequence[RawEntry], magic: bytes) -> bytes | None:
    """stdin lines for `git log --stdin` after the commit: `--`, then one pathspec per path
    (`magic` before it); None when a path cannot be written on one line."""
    if any(b"\n" in e.path or b"\r" in e.path for e in entries):
        return None
    return b"--\n" + b"".join(magic + e.path + b"\n" for e in entries)


def unlisted(commit: Commit, reason: Unreadable) -> Commit:
    return commit.model_copy(update={"files_incomplete": True, "files_unreadable": reason})


def first_error(stderr: bytes, fallback: str | int) -> str:
    """The line that says what went wrong: the first error, else the first line at all."""
    if isinstance(fallback, int):
        fallback = f"git exited with {fallback}"
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return next(iter(errors + [line for line in lines if line]), fallback)


def counter(progress: Progress | None, total: int) -> Callable[[Commit], None]:
    """A per-commit callback that reports (done, total)."""
    done = 0

    def each(_: Commit) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    return each
