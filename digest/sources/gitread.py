"""Reading commits' files from a clone that may lack objects, one file at a time if need be.

A damaged clone (a lost loose object), a partial clone (`--filter=blob:none`, read offline) or a
shallow one cannot give every diff; one unreadable blob must cost its file's diff, never the
day. Before the diffs are read, one listing of every commit's files (trees only) and one census
of the blobs they name (`git rev-list --missing=print`, which never fetches) say which files
git cannot read. Commits that can be read whole go through one streamed `git log` as before;
each damaged commit is read without its unreadable files (excluded by pathspec), which are then
listed with their path, their status and the reason. A commit whose trees cannot be read is
walked tree by tree (an unreadable subtree is one entry, `dir/`); one whose parent is past a
shallow boundary is listed with its message and no files, marked so.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from typing import IO

from digest.models import Commit, RepoRef, Unreadable
from digest.sources.gitlisting import (
    TREE,
    ZERO,
    Progress,
    RawEntry,
    first_error,
    parse_listing,
    pathspec_lines,
    unlisted,
    unreadable_change,
)
from digest.sources.gitlog import LOG_FLAGS, LOG_FORMAT, LogFormatError, parse_log

_LISTING_FLAGS = (
    "-z",
    "--format=%x01%H%x00",
    "--raw",
    "--no-renames",
    "--root",
    "--diff-merges=first-parent",
    "--no-abbrev",
    "--no-ext-diff",
    "--no-textconv",
    "--no-notes",
)
_META_FLAGS = ("-z", f"--format={LOG_FORMAT}", "--encoding=UTF-8", "--no-notes", "-s")


class GitRunError(Exception):
    """A git process ended badly; `message` is its first error line, `stderr` all it said."""

    def __init__(self, message: str, stderr: bytes = b"") -> None:
        super().__init__(message)
        self.message = message
        self.stderr = stderr


_SHA = re.compile(rb"\b[0-9a-f]{40}\b")
_CORRUPT_ROUNDS = 20  # corrupt objects named and set aside before every blob counts as lost


class CommitReader:
    """Reads commits through `git log`; `argv` builds a git command line, run in `cwd`."""

    def __init__(
        self,
        argv: Callable[[Sequence[str]], list[str]],
        cwd: str,
        env: dict[str, str],
        repo: RepoRef,
        reason: Unreadable,
    ) -> None:
        self._argv = argv
        self._cwd = cwd
        self._env = env
        self._repo = repo
        self._reason = reason  # why a missing blob is missing: a partial clone or damage

    # -- processes --------------------------------------------------------------------------

    def _stream(
        self, args: Sequence[str], stdin: bytes, parse: Callable[[IO[bytes]], object]
    ) -> object:
        with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as err:
            inp.write(stdin)
            inp.seek(0)
            try:
                proc = subprocess.Popen(
                    self._argv(args),
                    cwd=self._cwd,
                    env=self._env,
                    stdin=inp,
                    stdout=subprocess.PIPE,
                    stderr=err,
                )
            except OSError as exc:
                raise GitRunError(f"cannot run git: {exc.strerror or exc}") from None
            assert proc.stdout is not None
            failure: str | None = None
            try:
                result = parse(proc.stdout)
            except LogFormatError as exc:
                failure = f"unexpected git output: {exc}"
                result = None
            finally:
                if failure is not None:
                    proc.kill()
                proc.stdout.close()
                code = proc.wait()
            if code != 0 or failure is not None:
                err.seek(0)
                said = err.read(1 << 16)
                raise GitRunError(failure or first_error(said, code), said)
            return result

    def listing(self, shas: Sequence[str]) -> tuple[dict[str, list[RawEntry]], set[str]]:
        """Every commit's files (trees only), and the commits whose trees cannot be read."""
        if not shas:
            return {}, set()
        args = ["log", "--no-walk=unsorted", "--stdin", *_LISTING_FLAGS]
        try:
            found = self._stream(args, _lines(shas), parse_listing)
            assert isinstance(found, dict)
            return found, set()
        except GitRunError:
            if len(shas) == 1:
                return {}, set(shas)
        listing: dict[str, list[RawEntry]] = {}
        broken: set[str] = set()
        for sha in shas:  # one bad tree: find which commits it spoils
            part, bad = self.listing([sha])
            listing.update(part)
            broken |= bad
        return listing, broken

    def missing(self, blobs: set[str]) -> set[str]:
        """The blobs git cannot read; `--missing=print` never fetches from a promisor remote,
        and a present blob is hashed as it is listed, so a corrupt one counts as missing."""
        if not blobs:
            return set()
        args = ["rev-list", "--objects", "--missing=print", "--ignore-missing", "--stdin"]
        present: set[str] = set()

        def parse(stream: IO[bytes]) -> None:
            for line in stream:
                word = line.split(b" ", 1)[0].strip()
                if word and not word.startswith(b"?"):
                    present.add(word.decode())

        asked = set(blobs)
        for _ in range(_CORRUPT_ROUNDS):
            try:
                self._stream(args, _lines(sorted(asked)), parse)
                return blobs - present
            except GitRunError as exc:  # a corrupt object stops rev-list: it names the object
                named = {m.decode() for m in _SHA.findall(exc.stderr)} & asked
                if not named:
                    break
                asked -= named
                present.clear()
        return set(blobs)  # cannot tell: every one counts as unreadable

    def log(
        self, shas: Sequence[str], each: Callable[[Commit], None], tail: bytes = b""
    ) -> list[Commit]:
        """`git log --no-walk` of `shas` (and pathspecs in `tail`), streamed into the parser.
        On failure, the error carries the commits read whole before it in `.done`."""
        if not shas:
            return []
        args = ["log", "--no-walk=unsorted", "--stdin", *LOG_FLAGS]
        commits: list[Commit] = []

        def parse(stream: IO[bytes]) -> None:
            for commit in parse_log(stream, self._repo):
                if commits:
                    each(commits[-1])  # a commit is whole once the next one starts
                commits.append(commit)

        try:
            self._stream(args, _lines(shas) + tail, parse)
        except GitRunError as exc:
            raise _Partial(exc.message, commits[:-1]) from None  # the last may be cut short
        if commits:
            each(commits[-1])
        return commits

    def metadata(self, shas: Sequence[str]) -> dict[str, Commit]:
        """Commits with their message and no files (commit objects only)."""
        if not shas:
            return {}
        args = ["log", "--no-walk=unsorted", "--stdin", *_META_FLAGS]
        found: list[Commit] = []
        self._stream(args, _lines(shas), lambda s: found.extend(parse_log(s, self._repo)))
        return {c.sha: c for c in found}

    # -- the plan ---------------------------------------------------------------------------

    def read(
        self, shas: Sequence[str], shallow: set[str], progress: Progress | None
    ) -> list[Commit]:
        """Every commit of `shas`, each with every file git can read and the rest marked."""
        done: dict[str, Commit] = {}

        def keep(commit: Commit) -> None:
            done[commit.sha] = commit
            if progress is not None:
                progress(len(done), len(shas))

        cut = [s for s in shas if s in shallow]
        listing, broken = self.listing([s for s in shas if s not in shallow])
        blobs = {b for entries in listing.values() for e in entries for b in e.blobs()}
        missing = self.missing(blobs)
        damaged = {s for s, es in listing.items() if any(set(e.blobs()) & missing for e in es)}
        whole = [s for s in shas if s in listing and s not in damaged]
        try:
            self.log(whole, keep)
        except _Partial:  # an object the census took for whole: the rest one by one
            damaged |= {s for s in whole if s not in done}
        # A commit none of whose files can be read (most of a blob:none clone's) needs only its
        # message: all of them in one process; the others one process each, less their losses.
        lost = {s for s in damaged if all(set(e.blobs()) & missing for e in listing[s])}
        for sha in [s for s in shas if s in damaged - lost]:
            keep(self._damaged(sha, listing[sha], missing))
        for sha, commit in self.metadata([s for s in shas if s in lost]).items():
            files = tuple(unreadable_change(e, self._reason) for e in listing[sha])
            keep(commit.model_copy(update={"files": files}))
        for sha, commit in self.metadata([*cut, *broken]).items():
            if sha in shallow:
                keep(unlisted(commit, Unreadable.SHALLOW))
            else:
                keep(self._broken(commit))
        return [done[s] for s in shas if s in done]

    def _capture(self, args: Sequence[str]) -> bytes | None:
        """A small git answer, or None when git fails."""
        out: list[bytes] = []
        try:
            self._stream(args, b"", lambda stream: out.append(stream.read()))
        except GitRunError:
            return None
        return b"".join(out)

    def _tree(self, sha: str) -> dict[bytes, tuple[bytes, str]] | None:
        """A tree's entries (name -> mode, sha), or None when it cannot be read."""
        out = self._capture(["ls-tree", "-z", "--end-of-options", sha])
        if out is None:
            return None
        entries = {}
        for item in out.split(b"\0"):
            head, tab, name = item.partition(b"\t")
            words = head.split()
            if tab and len(words) == 3:
                entries[name] = (words[0], words[2].decode())
        return entries

    def _walk(self, old: str, new: str, prefix: bytes, out: list[RawEntry]) -> None:
        """The files that differ between two trees, as the listing gives them; a subtree
        that cannot be read is one entry, its path ending in `/`, with no blob."""
        a = self._tree(old) if old != ZERO else {}
        b = self._tree(new) if new != ZERO else {}
        if a is None or b is None:
            status = "A" if old == ZERO else "D" if new == ZERO else "M"
            out.append(RawEntry(status, TREE, TREE, old, new, prefix))
            return
        none = (b"000000", ZERO)
        for name in sorted(a.keys() | b.keys()):
            (mode_a, sha_a), (mode_b, sha_b) = a.get(name, none), b.get(name, none)
            if (mode_a, sha_a) == (mode_b, sha_b):
                continue
            path = prefix + name
            tree_a, tree_b = mode_a == TREE, mode_b == TREE
            if tree_a or tree_b:
                self._walk(sha_a if tree_a else ZERO, sha_b if tree_b else ZERO, path + b"/", out)
                if tree_a and tree_b:
                    continue
                # A file became a directory, or back: the file side is added or removed.
                (mode_a, sha_a), (mode_b, sha_b) = (
                    (none, (mode_b, sha_b)) if tree_a else ((mode_a, sha_a), none)
                )
            status = "A" if sha_a == ZERO else "D" if sha_b == ZERO else "M"
            if status == "M" and mode_a[:2] != mode_b[:2]:
                status = "T"
            out.append(RawEntry(status, mode_a, mode_b, sha_a, sha_b, path))

    def _broken(self, meta: Commit) -> Commit:
        """A commit whose trees git cannot list: walked tree by tree, the unreadable subtrees
        listed as such, the readable files read (by pathspec)."""
        sha = meta.sha
        new = self._capture(["rev-parse", "--verify", "-q", f"{sha}^{{tree}}"])
        old: bytes | None = b""
        if meta.parents:
            old = self._capture(["rev-parse", "--verify", "-q", f"{meta.parents[0]}^{{tree}}"])
        if new is None or old is None:
            return unlisted(meta, self._reason)
        entries: list[RawEntry] = []
        self._walk(old.decode().strip() or ZERO, new.decode().strip(), b"", entries)
        missing = self.missing({b for e in entries for b in e.blobs()})
        lost = [e for e in entries if e.new_mode == TREE or set(e.blobs()) & missing]
        kept = [e for e in entries if e not in lost]
        commit = meta
        spec = pathspec_lines(kept, b":(top,literal)")
        if kept and spec is not None:
            try:
                found = self.log([sha], lambda _: None, spec)
                commit = found[0] if found else meta
            except _Partial:
                lost = entries
        elif kept:
            lost = entries
        files = commit.files + tuple(unreadable_change(e, self._reason) for e in lost)
        # Under an unreadable directory the changed files are unknown: the list is incomplete.
        incomplete = any(e.new_mode == TREE for e in lost)
        return commit.model_copy(update={"files": files, "files_incomplete": incomplete})

    def _damaged(self, sha: str, entries: list[RawEntry], missing: set[str]) -> Commit:
        """One commit without the files whose blobs are missing, which are listed as such;
        if git fails even so, every file is listed unread."""
        lost = [e for e in entries if set(e.blobs()) & missing]
        tail = pathspec_lines(lost, b":(top,exclude,literal)")
        commit: Commit | None = None
        if tail is not None:
            try:
                found = self.log([sha], lambda _: None, tail if lost else b"")
            except _Partial:
                found = None
            if found is not None:  # no commit printed: every file was excluded
                commit = found[0] if found else self.metadata([sha])[sha]
        if commit is None:
            lost = entries
            commit = self.metadata([sha])[sha]
        files = commit.files + tuple(
            unreadable_change(e, self._reason if set(e.blobs()) & missing else Unreadable.GIT_ERROR)
            for e in lost
        )
        return commit.model_copy(update={"files": files})


class _Partial(GitRunError):
    def __init__(self, message: str, done: list[Commit]) -> None:
        super().__init__(message)
        self.done = done


def _lines(shas: Sequence[str]) -> bytes:
    return "".join(f"{sha}\n" for sha in shas).encode()
