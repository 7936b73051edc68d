"""A local clone read through the git CLI: the `CommitSource` for `digest report ./checkout`.

Listing costs a constant number of git processes however many commits there are: one walk for
the shas in range, one listing of their files and one census of the blobs those need (so that a
missing object costs its file, see gitread.py), one `git log --no-walk --stdin` for metadata,
files and patches together; only commits that lack objects take a process of their own. Reports
never fetch: a partial clone's promisor remote is out of reach unless `fetch_missing`.
"""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.errors import (
    AmbiguousSha,
    BranchNotFound,
    CommitNotFound,
    GitFailed,
    InvalidSha,
    NotAGitRepository,
)
from digest.models import Commit, RepoRef, Unreadable, Window
from digest.sources.base import CommitSink, ProgressCallback
from digest.sources.gitenv import CONFIG, OFFLINE, git_env, is_plain_ref
from digest.sources.gitlisting import counter, first_error
from digest.sources.gitlog import github_full_name
from digest.sources.gitread import CommitReader, GitRunError

_MIN_GIT = (2, 31)  # --diff-merges=first-parent, rev-parse --end-of-options
# How far a commit's committer date may lie before one of its descendants' and still be found:
# the window's walk stops at commits older than its start less this margin (see README,
# "Clock skew"), so a day costs the commits of the day and the margin, not the whole history.
SKEW_MARGIN = timedelta(days=30)

_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True)
class _Result:
    code: int
    out: str
    err: bytes

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class GitSource:
    """Commits of a local clone; every git call runs in a worker thread."""

    def __init__(
        self,
        path: str | Path,
        *,
        git: str = "git",
        fetch_missing: bool = False,
        skew_margin: timedelta = SKEW_MARGIN,
    ) -> None:
        """`fetch_missing`: a partial clone may fetch what it lacks from its promisor remote
        (the network); by default nothing is fetched and missing files are marked.
        `skew_margin`: how far before the window the walk goes (see commits_in_window)."""
        self._path = Path(path).expanduser().absolute()
        self._git = git
        self._fetch_missing = fetch_missing
        self._skew_margin = skew_margin
        self._env = git_env()
        self._offline_env = {**self._env, "GIT_NO_LAZY_FETCH": "1"}
        if not fetch_missing:
            self._env = self._offline_env
        self._repo: RepoRef | None = None
        self._version: tuple[int, ...] | None = None
        self._shallow: set[str] = set()
        self._gap = Unreadable.MISSING  # why a missing object is missing
        self._kind_known = False

    # -- process plumbing -------------------------------------------------------------------

    def _argv(self, args: Sequence[str]) -> list[str]:
        """Offline unless fetching is allowed: git older than 2.44 ignores GIT_NO_LAZY_FETCH,
        so every transport is refused too and a lazy fetch fails at once, without the network."""
        config = [item for pair in CONFIG + OFFLINE for item in ("-c", pair)]
        return [self._git, *config, *args]

    def _argv_online(self, args: Sequence[str]) -> list[str]:
        config = [item for pair in CONFIG for item in ("-c", pair)]
        return [self._git, *config, *args]

    async def _clone_kind(self) -> None:
        """Once: the shallow boundary commits, and whether missing objects are a partial
        clone's (left on the promisor remote) or damage."""
        if self._kind_known:
            return
        found = await self._run("rev-parse", "--git-path", "shallow")
        path = self._path / found.out.strip()
        try:
            text = await asyncio.to_thread(path.read_text, "ascii")
        except (OSError, UnicodeDecodeError):
            text = ""
        self._shallow = {line.strip() for line in text.splitlines() if _HEX.fullmatch(line.strip())}
        promisors = await self._run(
            "config",
            "--get-regexp",
            r"^(remote\..*\.promisor|extensions\.partialclone)$",
            ok=(0, 1),
        )
        if any(line.split()[-1:] != ["false"] for line in promisors.lines):
            self._gap = Unreadable.NOT_FETCHED
        self._kind_known = True

    async def shallow_boundary(self) -> datetime | None:
        await self.repo()
        await self._clone_kind()
        if not self._shallow:
            return None
        dates = await self._run("show", "-s", "--format=%ct", *sorted(self._shallow), "--")
        stamps = [int(line) for line in dates.lines if line.strip().isdigit()]
        return datetime.fromtimestamp(max(stamps), UTC) if stamps else None

    def _run_sync(self, args: Sequence[str]) -> _Result:
        try:
            done = subprocess.run(
                self._argv(args),
                cwd=self._path,
                env=self._env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise GitFailed(f"cannot run {self._git}: {exc.strerror or exc}") from None
        return _Result(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr)

    async def _run(self, *args: str, ok: tuple[int, ...] = (0,)) -> _Result:
        """Run git; exit codes outside `ok` are unexpected and become GitFailed."""
        result = await asyncio.to_thread(self._run_sync, args)
        if result.code not in ok:
            raise GitFailed(first_error(result.err, f"git {args[0]} exited with {result.code}"))
        return result

    def _read_sync(
        self, repo: RepoRef, shas: Sequence[str], progress: ProgressCallback | None
    ) -> list[Commit]:
        """Every commit of `shas`, each file read if git can read it (gitread.py)."""
        if self._fetch_missing and not self._shallow.intersection(shas):
            # The promisor remote may fill the gaps: the one stream first, fetching as it goes.
            online = CommitReader(self._argv_online, str(self._path), self._env, repo, self._gap)
            try:
                return online.log(shas, counter(progress, len(shas)))
            except GitRunError:
                pass  # offline after all: read what the clone holds
        reader = CommitReader(self._argv, str(self._path), self._offline_env, repo, self._gap)
        try:
            return reader.read(shas, self._shallow, progress)
        except GitRunError as exc:
            raise GitFailed(exc.message) from None

    async def _details(
        self,
        shas: list[str],
        progress: ProgressCallback | None,
        on_commit: CommitSink | None = None,
    ) -> list[Commit]:
        """Full commits for `shas`, newest first by committer date; one `git log` reads them
        all, so `on_commit` hears of each once it is done."""
        if not shas:
            if progress is not None:
                progress(0, 0)
            return []
        repo = await self.repo()
        report: ProgressCallback | None = None
        if progress is not None:
            loop = asyncio.get_running_loop()
            callback = progress  # the caller's callback runs on its own loop, not in our thread

            def report(done: int, total: int) -> None:
                loop.call_soon_threadsafe(callback, done, total)

        await self._clone_kind()
        commits = await asyncio.to_thread(self._read_sync, repo, shas, report)
        commits.sort(key=lambda c: c.committed_at, reverse=True)
        if on_commit is not None:
            for commit in commits:
                await on_commit(commit)
        return commits

    async def _resolve(self, ref: str) -> str | None:
        """The commit a plain ref names, or None; callers have checked `is_plain_ref`."""
        result = await self._run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", ok=(0, 1)
        )
        lines = result.lines
        return lines[0].strip() if result.code == 0 and lines else None

    async def _git_version(self) -> tuple[int, ...]:
        if self._version is None:
            words = (await self._run("version")).out.split()
            numbers = re.findall(r"\d+", words[2]) if len(words) > 2 else []
            self._version = tuple(int(n) for n in numbers[:3]) or (0,)
        return self._version

    # -- CommitSource ---------------------------------------------------------------------------

    async def repo(self) -> RepoRef:
        if self._repo is not None:
            return self._repo
        if not self._path.is_dir():
            raise NotAGitRepository(str(self._path))
        found = await self._run(
            "rev-parse", "--is-bare-repository", "--absolute-git-dir", ok=(0, 128)
        )
        if found.code != 0:
            detail = first_error(found.err, "")
            if "not a git repository" in detail.lower():
                raise NotAGitRepository(str(self._path))
            raise GitFailed(detail or "git rev-parse failed")
        version = await self._git_version()
        if version < _MIN_GIT:
            wanted = ".".join(map(str, _MIN_GIT))
            raise GitFailed(f"git {'.'.join(map(str, version))} is too old: {wanted}+ needed")
        bare, git_dir = [*found.lines, "", ""][:2]
        top = Path(git_dir)
        if bare.strip() != "true":
            toplevel = await self._run("rev-parse", "--show-toplevel", ok=(0, 128))
            if toplevel.code == 0 and toplevel.lines:
                top = Path(toplevel.lines[0])
            elif top.name == ".git":  # called from inside the .git directory
                top = top.parent
        origin = await self._run("config", "--get", "remote.origin.url", ok=(0, 1))
        full_name = github_full_name(origin.out) if origin.code == 0 else None
        if full_name is not None:
            self._repo = RepoRef(
                full_name=full_name, local_path=str(top), web_url=f"https://github.com/{full_name}"
            )
        else:
            name = top.name.removesuffix(".git") or top.name
            self._repo = RepoRef(full_name=name, local_path=str(top))
        return self._repo

    async def default_branch(self) -> str:
        await self.repo()
        current = await self._run("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1))
        if current.code == 0 and current.out.strip():
            return current.out.strip()
        origin = await self._run(
            "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", ok=(0, 1, 128)
        )
        if origin.code == 0 and origin.out.strip():
            return origin.out.strip()
        return "HEAD"

    async def head(self, branch: str) -> str | None:
        repo = await self.repo()
        if not is_plain_ref(branch):
            raise BranchNotFound(repo.full_name, branch)
        sha = await self._resolve(branch)
        if sha is not None:
            return sha
        if await self._is_unborn(branch):
            return None
        raise BranchNotFound(repo.full_name, branch)

    async def _is_unborn(self, branch: str) -> bool:
        """No commit at all, or `branch` is the checked-out branch that has none yet."""
        if await self._resolve("HEAD") is not None:
            return False
        current = await self._run("symbolic-ref", "--quiet", "HEAD", ok=(0, 1))
        name = current.out.strip()
        if branch in ("HEAD", name, name.removeprefix("refs/heads/")):
            return True
        refs = await self._run("for-each-ref", "--count=1", "--format=%(objectname)")
        return not refs.out.strip()

    async def commits_in_window(
        self,
        branch: str,
        window: Window,
        progress: ProgressCallback | None = None,
        on_commit: CommitSink | None = None,
    ) -> list[Commit]:
        tip = await self.head(branch)
        start, end = window.start.timestamp(), window.end.timestamp()
        if tip is None or end <= start:
            return await self._details([], progress)
        # git's bounds are inclusive, whole seconds: ask for a little more, cut exactly here.
        # `--since` ends each line of the walk at its first commit older than the bound (a
        # filter would read the whole history); the margin keeps commits behind a skewed one.
        args = ["log", "--format=%H %ct", f"--until=@{math.ceil(end)} +0000"]
        bound = math.floor(start - self._skew_margin.total_seconds())
        if bound > 0:
            args.append(f"--since=@{bound} +0000")
        listed = await self._run(*args, "--end-of-options", tip, "--")
        shas = []
        for line in listed.lines:
            sha, _, stamp = line.partition(" ")
            if stamp and start <= int(stamp) < end:
                shas.append(sha)
        return await self._details(shas, progress, on_commit)

    async def commit(self, ref: str) -> Commit:
        repo = await self.repo()
        is_hex = bool(_HEX.fullmatch(ref))
        if is_hex and len(ref) > 40:
            raise InvalidSha(ref)
        if not is_plain_ref(ref):
            raise CommitNotFound(repo.full_name, ref)
        sha = await self._resolve(ref)
        if sha is None:
            if is_hex and len(ref) >= 4:
                candidates = await self._candidates(ref.lower())
                if len(candidates) > 1:
                    raise AmbiguousSha(repo.full_name, ref, candidates)
            raise CommitNotFound(repo.full_name, ref)
        commits = await self._details([sha], None)
        if not commits:
            raise CommitNotFound(repo.full_name, ref)
        return commits[0]

    async def _candidates(self, prefix: str) -> tuple[str, ...]:
        """The commits (and tags) whose sha starts with `prefix`, for the "which one?" answer."""
        found = await self._run("rev-parse", f"--disambiguate={prefix}", ok=(0, 1, 128))
        objects = [line.strip() for line in found.lines if _HEX.fullmatch(line.strip())]
        if len(objects) < 2:
            return tuple(objects)
        kinds = await asyncio.to_thread(self._object_types, objects)
        return tuple(sha for sha in objects if kinds.get(sha) in ("commit", "tag"))

    def _object_types(self, shas: list[str]) -> dict[str, str]:
        done = subprocess.run(
            self._argv(["cat-file", "--batch-check=%(objectname) %(objecttype)"]),
            cwd=self._path,
            env=self._env,
            input="".join(f"{sha}\n" for sha in shas).encode(),
            capture_output=True,
            check=False,
        )
        pairs = (line.split() for line in done.stdout.decode("utf-8", "replace").splitlines())
        return {p[0]: p[1] for p in pairs if len(p) == 2}

    async def compare(
        self,
        base: str,
        head: str,
        progress: ProgressCallback | None = None,
        on_commit: CommitSink | None = None,
    ) -> list[Commit]:
        repo = await self.repo()
        resolved: list[str] = []
        for ref in (base, head):
            sha = await self._resolve(ref) if is_plain_ref(ref) else None
            if sha is None:
                raise CommitNotFound(repo.full_name, ref)
            resolved.append(sha)
        listed = await self._run(
            "log", "--format=%H", "--end-of-options", resolved[1], f"^{resolved[0]}", "--"
        )
        shas = [line.strip() for line in listed.lines if line.strip()]
        return await self._details(shas, progress, on_commit)

    async def is_ancestor(self, base: str, head: str) -> bool:
        repo = await self.repo()
        head_sha = await self._resolve(head) if is_plain_ref(head) else None
        if head_sha is None:
            raise CommitNotFound(repo.full_name, head)
        base_sha = await self._resolve(base) if is_plain_ref(base) else None
        if base_sha is None:
            return False
        found = await self._run("merge-base", "--is-ancestor", base_sha, head_sha, ok=(0, 1))
        return found.code == 0

    async def aclose(self) -> None:
        """Nothing to release: each call's git process is finished when the call returns."""
