"""Build real git repositories for tests, with exact dates, authors and file contents."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path


@dataclass
class GitRepo:
    path: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def init(cls, path: Path, branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", "-b", branch)
        repo.git("config", "user.name", "Test User")
        repo.git("config", "user.email", "test@example.com")
        repo.git("config", "commit.gpgsign", "false")
        return repo

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        return self._run(args, env=env).decode("utf-8", "replace").strip()

    def _run(
        self,
        args: tuple[str, ...],
        *,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> bytes:
        full_env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.path),
            "LC_ALL": "C",
            **self.env,
            **(env or {}),
        }
        out = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=full_env,
            input=stdin,
            check=True,
            capture_output=True,
        )
        return out.stdout

    def write(self, name: str, content: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes | None] | None = None,
        *,
        when: datetime,
        committed: datetime | None = None,
        author: str = "Test User",
        email: str = "test@example.com",
        allow_empty: bool = False,
    ) -> str:
        """Write (or, for None, delete) files, commit them at `when`, return the sha.

        `when` and `committed` must be aware datetimes: git stores the offset they carry.
        """
        for name, content in (files or {}).items():
            if content is None:
                self.git("rm", "-q", name)
            else:
                self.write(name, content)
                self.git("add", name)
        committed = committed or when
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": when.isoformat(),
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": committed.isoformat(),
        }
        args = ["commit", "-q", "--no-verify", "-m", message]
        if allow_empty or not files:
            args.append("--allow-empty")
        self.git(*args, env=env)
        return self.git("rev-parse", "HEAD")

    def rename(self, old: str, new: str, *, message: str, when: datetime) -> str:
        self.git("mv", old, new)
        env = {
            "GIT_AUTHOR_DATE": when.isoformat(),
            "GIT_COMMITTER_DATE": when.isoformat(),
        }
        self.git("commit", "-q", "--no-verify", "-m", message, env=env)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, *, message: str, when: datetime, author: str = "Test User") -> str:
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_DATE": when.isoformat(),
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_DATE": when.isoformat(),
        }
        self.git("merge", "-q", "--no-ff", "--no-edit", "-m", message, branch, env=env)
        return self.git("rev-parse", "HEAD")

    def checkout(self, branch: str, *, create: bool = False) -> None:
        if create:
            self.git("checkout", "-q", "-b", branch)
        else:
            self.git("checkout", "-q", branch)

    def log_shas(self, *args: str) -> list[str]:
        out = self.git("log", "--format=%H", *args)
        return out.split() if out else []

    def bulk_commits(
        self,
        count: int,
        *,
        start: datetime,
        step: timedelta = timedelta(minutes=1),
        message: str = "chore: bulk commit {i}",
        author: str = "Bulk Author",
        email: str = "bulk@example.com",
    ) -> list[str]:
        """Append `count` commits to the checked-out branch with one `git fast-import`.

        Commit i (from 0) adds `bulk/{i}.txt` and is authored and committed at `start + i * step`
        (aware, keeping its offset). Much faster than `count` calls of `commit()`. Returns the
        shas oldest first.
        """
        branch = self.git("symbolic-ref", "HEAD")
        has_parent = self._has_commits()
        chunks: list[bytes] = []
        for i in range(count):
            when = start + i * step
            stamp = _git_stamp(when)
            text = (message.format(i=i) + "\n").encode("utf-8")
            content = f"{i}\n".encode()
            lines = [f"commit {branch}".encode()]
            lines.append(f"author {author} <{email}> {stamp}".encode())
            lines.append(f"committer {author} <{email}> {stamp}".encode())
            lines.append(b"data %d" % len(text))
            lines.append(text)
            if i == 0 and has_parent:
                lines.append(f"from {branch}^0".encode())
            lines.append(f"M 100644 inline bulk/{i}.txt".encode())
            lines.append(b"data %d" % len(content))
            lines.append(content)
            chunks.append(b"\n".join(lines))
        stream = b"\n".join(chunks) + b"\n"
        self._run(("fast-import", "--quiet", "--done"), stdin=stream + b"done\n")
        self.git("reset", "-q", "--hard")
        return list(reversed(self.log_shas(f"-{count}")))

    def ambiguous_commits(self, prefix_len: int = 7, *, when: datetime) -> tuple[str, str]:
        """Write two children of HEAD whose shas share their first `prefix_len` hex digits.

        Found by varying a nonce in the message; each gets a branch `ambiguous-<n>`.
        """
        tree = self.git("rev-parse", "HEAD^{tree}")
        parent = self.git("rev-parse", "HEAD")
        stamp = _git_stamp(when)
        seen: dict[str, bytes] = {}
        nonce = 0
        while True:
            body = (
                f"tree {tree}\nparent {parent}\nauthor Test User <test@example.com> {stamp}\n"
                f"committer Test User <test@example.com> {stamp}\n\nfix: collide {nonce}\n"
            ).encode()
            sha = hashlib.sha1(b"commit %d\x00" % len(body) + body, usedforsecurity=False)
            prefix = sha.hexdigest()[:prefix_len]
            if prefix in seen and seen[prefix] != body:
                shas = []
                for n, data in enumerate((seen[prefix], body)):
                    out = self._run(("hash-object", "-t", "commit", "-w", "--stdin"), stdin=data)
                    shas.append(out.decode().strip())
                    self.git("update-ref", f"refs/heads/ambiguous-{n}", shas[-1])
                return shas[0], shas[1]
            seen[prefix] = body
            nonce += 1

    def _has_commits(self) -> bool:
        try:
            self.git("rev-parse", "--verify", "-q", "HEAD")
        except subprocess.CalledProcessError:
            return False
        return True


def _git_stamp(when: datetime) -> str:
    """`<epoch> <+hhmm>` as git writes dates, keeping the datetime's own offset."""
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("aware datetime required")
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{int(when.timestamp())} {sign}{minutes // 60:02d}{minutes % 60:02d}"


ODD_TITLES = {
    "base", "add submodule", "bump submodule", "add symlink", "bad utf-8", "café au lait",
    "修复中文编码", "empty", "topic x", "topic y", "octopus",
}  # fmt: skip


def odd_history(root: Path, start: datetime) -> tuple[GitRepo, str]:
    """Commits that trip readers up, a minute apart from `start`: a submodule added and bumped
    (gitlinks), a symlink, a file name and content that are not UTF-8, messages stored in
    ISO-8859-1 and GBK (`i18n.commitEncoding`), an empty commit and an octopus merge.
    Returns the repository and the submodule commit it was bumped to."""
    repo = GitRepo.init(root / "odd")
    when = iter(start + timedelta(minutes=i) for i in range(100))
    repo.commit("base", {"README.md": "hi\n"}, when=next(when))
    sub = GitRepo.init(root / "sub")
    first = sub.commit("s1", {"s.txt": "1\n"}, when=next(when))
    second = sub.commit("s2", {"s.txt": "2\n"}, when=next(when))
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{first},vendor/sub")
    repo.commit("add submodule", when=next(when), allow_empty=True)
    repo.git("update-index", "--cacheinfo", f"160000,{second},vendor/sub")
    repo.commit("bump submodule", when=next(when), allow_empty=True)
    os.symlink("README.md", repo.path / "link")
    repo.git("add", "link")
    repo.commit("add symlink", when=next(when), allow_empty=True)
    raw_name = b"caf\xe9-\xff.txt"
    (repo.path / os.fsdecode(raw_name)).write_bytes(b"ol\xe9 \xff\xfe\n")
    repo.git("add", "--", os.fsdecode(raw_name))
    repo.commit("bad utf-8", when=next(when), allow_empty=True)
    for encoding, text in (("ISO-8859-1", "café au lait"), ("GBK", "修复中文编码")):
        repo.write("enc.txt", text + "\n")
        repo.git("add", "enc.txt")
        msg = root / "msg"
        msg.write_bytes(text.encode(encoding) + b"\n")
        stamp = next(when).isoformat()
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        repo.git("-c", f"i18n.commitEncoding={encoding}", "commit", "-q", "-F", str(msg), env=env)
    repo.commit("empty", when=next(when), allow_empty=True)
    for name in ("x", "y"):
        repo.checkout("main")
        repo.checkout(f"topic-{name}", create=True)
        repo.commit(f"topic {name}", {f"{name}.txt": f"{name}\n"}, when=next(when))
    repo.checkout("main")
    stamp = next(when).isoformat()
    repo.git(
        "merge", "-q", "--no-ff", "-m", "octopus", "topic-x", "topic-y",
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
    )  # fmt: skip

    return repo, second
