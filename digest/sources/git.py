"""A local clone read through the git CLI: the `CommitSource` for `digest report ./checkout`.

Listing costs a constant number of git processes however many commits there are: one walk for
the shas in range, one `git log --no-walk --stdin` for metadata, files and patches together.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from digest.errors import (
    AmbiguousSha,
    BranchNotFound,
    CommitNotFound,
    GitFailed,
    InvalidSha,
    NotAGitRepository,
)
from digest.models import Commit, RepoRef, Window
from digest.sources.base import CommitSink, ProgressCallback
from digest.sources.gitlog import LOG_FLAGS, collect, github_full_name

# Config that could change what git prints, pinned whatever ~/.gitconfig says.
_CONFIG = (
    "core.quotepath=false",
    "color.ui=false",
    "log.showSignature=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.suppressBlankEmpty=false",
)
# Environment that would point git at another repository or change its output.
_KEEP_GIT_ENV = {
    "GIT_EXEC_PATH",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CEILING_DIRECTORIES",
}
_MIN_GIT = (2, 31)  # --diff-merges=first-parent, rev-parse --end-of-options
_SINCE_AS_FILTER = (2, 37)  # older git only has --since, which stops at the first old commit

_HEX = re.compile(r"[0-9a-fA-F]+")
# Revision syntax, option-looking and whitespace refs never reach git: we only take plain names.
_UNSAFE_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{")


def _is_plain_ref(ref: str) -> bool:
    """A branch, tag or sha that git cannot read as an option or a revision expression."""
    return (
        0 < len(ref) <= 255
        and not ref.startswith("-")
        and not _UNSAFE_REF.search(ref)
        and not any(ch.isspace() for ch in ref)
    )


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP_GIT_ENV}
    env.update(LC_ALL="C", LANG="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    return env


def _first_line(stderr: bytes, fallback: str) -> str:
    """The line that says what went wrong: the first error, else the first line at all."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return next(iter(errors + [line for line in lines if line]), fallback)


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

    def __init__(self, path: str | Path, *, git: str = "git") -> None:
        self._path = Path(path).expanduser().absolute()
        self._git = git
        self._env = _git_env()
        self._repo: RepoRef | None = None
        self._version: tuple[int, ...] | None = None

    # -- process plumbing -------------------------------------------------------------------

    def _argv(self, args: Sequence[str]) -> list[str]:
        config = [item for pair in _CONFIG for item in ("-c", pair)]
        return [self._git, *config, *args]

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
            raise GitFailed(_first_line(result.err, f"git {args[0]} exited with {result.code}"))
        return result

    def _log_sync(
        self, repo: RepoRef, shas: Sequence[str], progress: ProgressCallback | None
    ) -> list[Commit]:
        """Stream `git log --no-walk --stdin` into the parser, so memory follows the budgets."""
        args = ["log", "--no-walk=unsorted", "--stdin", *LOG_FLAGS]
        with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stderr:
            stdin.write("".join(f"{sha}\n" for sha in shas).encode())
            stdin.seek(0)
            try:
                proc = subprocess.Popen(
                    self._argv(args),
                    cwd=self._path,
                    env=self._env,
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                )
            except OSError as exc:
                raise GitFailed(f"cannot run {self._git}: {exc.strerror or exc}") from None
            assert proc.stdout is not None
            try:
                commits = collect(proc.stdout, repo, len(shas), progress)
            except ValueError as exc:
                proc.kill()
                raise GitFailed(f"unexpected git log output: {exc}") from None
            finally:
                proc.stdout.close()
                code = proc.wait()
            if code != 0:
                stderr.seek(0)
                raise GitFailed(_first_line(stderr.read(), f"git log exited with {code}"))
        return commits

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

        commits = await asyncio.to_thread(self._log_sync, repo, shas, report)
        commits.sort(key=lambda c: c.committed_at, reverse=True)
        if on_commit is not None:
            for commit in commits:
                await on_commit(commit)
        return commits

    async def _resolve(self, ref: str) -> str | None:
        """The commit a plain ref names, or None; callers have checked `_is_plain_ref`."""
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
            detail = _first_line(found.err, "")
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
        if not _is_plain_ref(branch):
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
        args = ["log", "--format=%H %ct", f"--until=@{math.ceil(end)} +0000"]
        if start > 0 and await self._git_version() >= _SINCE_AS_FILTER:
            args.append(f"--since-as-filter=@{math.floor(start)} +0000")
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
        if not _is_plain_ref(ref):
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
            sha = await self._resolve(ref) if _is_plain_ref(ref) else None
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
        head_sha = await self._resolve(head) if _is_plain_ref(head) else None
        if head_sha is None:
            raise CommitNotFound(repo.full_name, head)
        base_sha = await self._resolve(base) if _is_plain_ref(base) else None
        if base_sha is None:
            return False
        found = await self._run("merge-base", "--is-ancestor", base_sha, head_sha, ok=(0, 1))
        return found.code == 0

    async def aclose(self) -> None:
        """Nothing to release: each call's git process is finished when the call returns."""
