"""A fake GitHub REST v3 API on 127.0.0.1, serving real git repositories built by the tests.

It reads the repositories with the git CLI (never with our own code) and answers with the field
names, status codes, messages, pagination `Link` headers and rate-limit headers of api.github.com,
so that the real PyGithub talks to it through `base_url`. Tests control it with a token, private
repositories, a queue of injected faults per path pattern, and read the log of every request.

    async with FakeGitHub(token="ghp_x") as gh:
        gh.add_repo("octo/demo", repo.path, private=True)
        ...  # GitHubSource("octo/demo", api_url=gh.url, token="ghp_x")
        assert gh.count(r"/commits/[0-9a-f]{40}$") == 3

Every 200 carries an ETag (a hash of its body); a request whose If-None-Match names it gets a
304 with no body, which, as on GitHub, does not count against the rate limit (`not_modified`
counts them). `latency` delays every answer; `rate_limit` and `reset_every` shape the window
(on the injected `clock`, time.time by default), which starts afresh at its reset.

As a GitHub App: `FakeGitHub(app=(app_id, public_key_pem))` checks the App's RS256 JWTs on
`GET /app`, `GET /repos/{o}/{r}/installation` and `POST /app/installations/{id}/access_tokens`;
the installation tokens it hands out (`ghs_...`) authorize the repositories added with that
`installation_id=`, and no others (404, as GitHub answers).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import re
import secrets
import subprocess
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web

from tests.fakes.github_pulls import PullEndpoints

DOCS = "https://docs.github.com/rest"
ZERO_SHA = "0" * 40
MAX_COMMIT_FILES = 3000  # GitHub lists at most this many files of a commit, over all pages
_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied"}
_FIELD_SEP = "\x1f"
_RECORD_SEP = "\x1e"
_AUTHED = web.RequestKey("authed", bool)
# What authenticated the request: "" (nobody), "token", "jwt" (the App) or "installation".
_CREDENTIAL = web.RequestKey("credential", str)
_INSTALLATION = web.RequestKey("installation", int)  # the installation of an installation token
_APP_PATHS = re.compile(r"^/app(/|$)|^/repos/[^/]+/[^/]+/installation$")
_LOG_FORMAT = _FIELD_SEP.join(["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"])


@dataclass
class RecordedRequest:
    method: str
    path: str  # relative to the API root, e.g. /repos/o/r/commits
    query: dict[str, str]
    headers: dict[str, str]
    received_at: float = 0.0  # time.monotonic()
    finished_at: float | None = None  # when the answer was ready (after the latency)
    status: int = 0


@dataclass(frozen=True)
class FakeResponse:
    """A canned response served instead of the real one (see FakeGitHub.inject)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited(reset_in: float = 60.0) -> FakeResponse:
    """GitHub's primary rate limit: 403, X-RateLimit-Remaining 0, reset at an epoch second."""
    reset = int(time.time() + reset_in)
    return FakeResponse(
        403,
        {
            "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support "
            "for help, please include the request ID ABCD:1234.",
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
            "status": "403",
        },
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )


def secondary_rate_limited(retry_after: int = 60) -> FakeResponse:
    return FakeResponse(
        403,
        {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
            "status": "403",
        },
        {"Retry-After": str(retry_after)},
    )


def too_many_requests(retry_after: int = 1) -> FakeResponse:
    return FakeResponse(
        429, {"message": "Too Many Requests", "status": "429"}, {"Retry-After": str(retry_after)}
    )


def server_error(status: int = 500) -> FakeResponse:
    messages = {500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    return FakeResponse(
        status, {"message": messages.get(status, "Server Error"), "status": str(status)}
    )


def unprocessable(message: str) -> FakeResponse:
    return FakeResponse(422, {"message": message, "documentation_url": DOCS, "status": "422"})


def diff_too_large(resource: str = "Commit") -> FakeResponse:
    """GitHub's answer for a diff it will not make (a commit touching too much)."""
    return FakeResponse(
        422,
        {
            "message": "Server Error: Sorry, this diff is taking too long to generate.",
            "errors": [{"resource": resource, "field": "diff", "code": "not_available"}],
            "documentation_url": DOCS,
            "status": "422",
        },
    )


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


class _RefError(Exception):
    def __init__(self, ambiguous: bool) -> None:
        super().__init__(ambiguous)
        self.ambiguous = ambiguous


@dataclass
class _Repo:
    full_name: str
    path: Path
    private: bool
    default_branch: str | None
    id: int
    installation_id: int | None = None  # the App is installed on this repository
    context_file: Path | None = None  # pull requests, reviews, issues (github_pulls.py)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> detail body sans URLs

    @property
    def owner(self) -> str:
        return self.full_name.split("/")[0]

    async def git(self, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[int, str, str]:
        def run() -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(
                ["git", *args],
                cwd=self.path,
                capture_output=True,
                env={
                    **os.environ,
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "HOME": str(self.path),
                    "LC_ALL": "C",
                },
            )

        out = await asyncio.to_thread(run)
        stdout = out.stdout.decode("utf-8", "replace")
        stderr = out.stderr.decode("utf-8", "replace")
        if out.returncode not in ok:
            raise RuntimeError(f"git {' '.join(args)} failed: {stderr}")
        return out.returncode, stdout, stderr

    async def branch(self) -> str:
        if self.default_branch:
            return self.default_branch
        _, out, _ = await self.git("symbolic-ref", "--short", "HEAD")
        return out.strip()

    async def is_empty(self) -> bool:
        code, _, _ = await self.git("rev-parse", "--verify", "-q", "HEAD", ok=(0, 1, 128))
        return code != 0

    async def resolve(self, ref: str) -> str:
        """A commit sha for a sha prefix, branch or tag, as GitHub resolves `{ref}`."""
        code, out, err = await self.git(
            "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}", ok=(0, 1, 128)
        )
        if code != 0:
            raise _RefError(ambiguous="is ambiguous" in err)
        return out.strip()

    async def log(self, *revs: str) -> list[dict[str, Any]]:
        _, out, _ = await self.git("log", f"--format={_LOG_FORMAT}{_RECORD_SEP}", *revs, "--")
        entries = []
        for record in out.split(_RECORD_SEP):
            record = record.lstrip("\n")
            if not record:
                continue
            sha, tree, parents, an, ae, ad, cn, ce, cd, message = record.split(_FIELD_SEP)
            entries.append(
                {
                    "sha": sha,
                    "tree": tree,
                    "parents": parents.split(),
                    "author": {"name": an, "email": ae, "date": _utc(ad)},
                    "committer": {"name": cn, "email": ce, "date": _utc(cd)},
                    "message": message.rstrip("\n"),
                }
            )
        return entries

    async def diff(
        self, base: str | None, head: str, patch_limit: int | None
    ) -> list[dict[str, Any]]:
        """GitHub's `files` for the diff base..head (base None: a root commit)."""
        revs = [base, head] if base else ["--root", head]
        _, raw, _ = await self.git(
            "diff-tree", "-r", "-z", "-M", "--no-commit-id", "--raw", "--numstat", *revs
        )
        _, patch_text, _ = await self.git("diff-tree", "-r", "-M", "--no-commit-id", "-p", *revs)
        files = _parse_raw_numstat(raw)
        patches = _split_patches(patch_text)
        for entry, patch in zip(files, patches, strict=True):
            if patch and (patch_limit is None or len(patch) <= patch_limit):
                entry["patch"] = patch
        return files


def _utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_raw_numstat(out: str) -> list[dict[str, Any]]:
    tokens = out.split("\0")
    files: list[dict[str, Any]] = []
    counts: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token:
            i += 1
            continue
        if token.startswith(":"):
            old_mode, new_mode, _old_sha, new_sha, status = token[1:].split(" ")
            kind = status[0]
            entry: dict[str, Any] = {"sha": new_sha if kind != "D" else _old_sha}
            if kind in "RC":
                entry["previous_filename"], entry["filename"] = tokens[i + 1], tokens[i + 2]
                i += 3
            else:
                entry["filename"] = tokens[i + 1]
                i += 2
            name = _STATUS.get(kind, "changed")
            if kind == "M" and old_mode != new_mode:
                entry["_mode_change"] = True
            entry["status"] = name
            files.append(entry)
        else:
            added, deleted, path = token.split("\t", 2)
            counts.append((added, deleted))
            i += 3 if path == "" else 1
    for entry, (added, deleted) in zip(files, counts, strict=True):
        entry["additions"] = int(added) if added != "-" else 0
        entry["deletions"] = int(deleted) if deleted != "-" else 0
        entry["changes"] = entry["additions"] + entry["deletions"]
        if entry.pop("_mode_change", False) and entry["changes"] == 0:
            entry["status"] = "changed"
    return files


def _split_patches(text: str) -> list[str | None]:
    """One patch per `diff --git` section: the hunks only, as GitHub's `patch` field."""
    sections = re.split(r"^diff --git .*$\n?", text, flags=re.MULTILINE)[1:]
    patches: list[str | None] = []
    for section in sections:
        hunk = re.search(r"^@@", section, flags=re.MULTILINE)
        patches.append(section[hunk.start() :].rstrip("\n") if hunk else None)
    return patches


def _query_int(request: web.Request, name: str, default: int, maximum: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        value = default
    return max(1, min(value, maximum))


class FakeGitHub:
    """Start with `async with FakeGitHub(...) as gh`; `gh.url` is the API base URL."""

    def __init__(
        self,
        *,
        token: str | None = None,
        api_prefix: str = "",
        web_url: str = "https://github.com",
        users: dict[str, str] | None = None,
        enforce_rate_limit: bool = False,
        patch_limit: int | None = None,
        app: tuple[int, str] | None = None,
        installation_token_ttl: float = 3600.0,
        latency: float = 0.0,
        rate_limit: int | None = None,
        reset_every: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.app = app  # (app id, RSA public key PEM) of the one GitHub App it knows
        self.installation_token_ttl = installation_token_ttl
        self.installation_tokens: dict[str, tuple[int, float]] = {}  # token -> (id, expires at)
        self.api_prefix = api_prefix.rstrip("/")
        self.web_url = web_url.rstrip("/")
        self.users = dict(users or {})  # email -> login
        self.enforce_rate_limit = enforce_rate_limit
        self.patch_limit = patch_limit  # omit `patch` for longer diffs, as GitHub does
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._repos: dict[str, _Repo] = {}
        self._faults: list[tuple[re.Pattern[str], deque[FakeResponse]]] = []
        self._holds: list[tuple[re.Pattern[str], asyncio.Event]] = []
        self.latency = latency
        self.rate_limit = rate_limit  # the window's size (else GitHub's 5000, or 60 anonymous)
        self.reset_every = reset_every
        self.clock = clock
        self.not_modified = 0  # 304s served (not counted against the rate limit)
        self._used: dict[bool, int] = {True: 0, False: 0}
        self._reset = int(clock() + reset_every)
        self._runner: web.AppRunner | None = None
        self._root = ""

    # ---- control -------------------------------------------------------------------------

    def add_repo(
        self,
        full_name: str,
        path: Path | str,
        *,
        private: bool = False,
        default_branch: str | None = None,
        installation_id: int | None = None,
        context_file: Path | str | None = None,
    ) -> None:
        self._repos[full_name.lower()] = _Repo(
            full_name,
            Path(path),
            private,
            default_branch,
            id=1000 + len(self._repos),
            installation_id=installation_id,
            context_file=Path(context_file) if context_file is not None else None,
        )

    def inject(self, path_pattern: str, *responses: FakeResponse) -> None:
        """Serve `responses`, one per request, to requests whose path matches (re.search)."""
        self._faults.append((re.compile(path_pattern), deque(responses)))

    def hold(self, path_pattern: str, until: asyncio.Event) -> None:
        """Answer requests whose path matches (re.search) only once `until` is set."""
        self._holds.append((re.compile(path_pattern), until))

    def count(self, path_pattern: str | None = None, method: str = "GET") -> int:
        return sum(
            1
            for r in self.requests
            if r.method == method and (path_pattern is None or re.search(path_pattern, r.path))
        )

    def spend(self, count: int, *, authed: bool = True) -> None:
        """Count `count` requests against the window, as other clients of the account would."""
        self._used[authed] += count

    def new_window(self) -> None:
        """Start a fresh rate-limit window now (as the next hour would)."""
        self._used = {True: 0, False: 0}
        self._reset = int(self.clock() + self.reset_every)

    def used(self) -> int:
        """Requests counted against the rate limit in the current window."""
        return sum(self._used.values())

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    @property
    def url(self) -> str:
        return self._root + self.api_prefix

    # ---- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> FakeGitHub:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        p = self.api_prefix
        routes = [
            *PullEndpoints(self).routes(),  # before commits/{ref:.+}, which would take them
            ("/rate_limit", self._rate_limit),
            ("/repos/{owner}/{name}", self._repo),
            ("/repos/{owner}/{name}/commits", self._commits),
            ("/repos/{owner}/{name}/commits/{ref:.+}", self._commit),
            ("/repos/{owner}/{name}/compare/{basehead:.+}", self._compare),
            ("/repos/{owner}/{name}/branches/{branch:.+}", self._branch),
        ]
        for path, handler in routes:
            app.router.add_get(p + path, handler)
        app.router.add_get(p + "/app", self._app)
        app.router.add_get(p + "/repos/{owner}/{name}/installation", self._installation)
        app.router.add_post(p + "/app/installations/{id}/access_tokens", self._access_token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._root = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- plumbing ------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path = request.path.removeprefix(self.api_prefix) or "/"
        record = RecordedRequest(
            request.method,
            path,
            dict(request.query),
            dict(request.headers),
            received_at=time.monotonic(),
        )
        self.requests.append(record)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            for pattern, until in self._holds:
                if pattern.search(path):
                    await until.wait()
            response = await self._respond(request, path, handler)
            record.status = response.status
        finally:
            self.in_flight -= 1
            record.finished_at = time.monotonic()
        return response

    async def _respond(
        self,
        request: web.Request,
        path: str,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        credential = ""
        header = request.headers.get("Authorization")
        if header:
            scheme, _, value = header.partition(" ")
            installation = self.installation_tokens.get(value)
            if scheme.lower() not in ("token", "bearer"):
                credential = ""
            elif self.token is not None and value == self.token:
                credential = "token"
            elif installation is not None and installation[1] > time.time():
                credential = "installation"
                request[_INSTALLATION] = installation[0]
            elif self.app is not None and value.count(".") == 2:
                problem = self._jwt_problem(value)
                if problem is not None:
                    return self._json(401, {"message": problem, "documentation_url": DOCS}, False)
                credential = "jwt"
            if not credential:
                return self._json(
                    401,
                    {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"},
                    False,
                )
        app_path = bool(_APP_PATHS.search(path))
        if app_path and credential != "jwt":  # the App's own endpoints take only its JWT
            body = {"message": "A JSON web token could not be decoded", "documentation_url": DOCS}
            return self._json(401, body, False)
        if credential == "jwt" and not app_path:
            body = {"message": "Resource not accessible by integration", "documentation_url": DOCS}
            return self._json(403, body, False)
        authed = bool(credential)
        request[_AUTHED] = authed
        request[_CREDENTIAL] = credential
        for pattern, queue in self._faults:
            if queue and pattern.search(path):
                fault = queue.popleft()
                return self._json(fault.status, fault.body, authed, fault.headers, count=True)
        counted = path != "/rate_limit"
        if counted and self.enforce_rate_limit and self._remaining(authed) <= 0:
            return self._json(403, rate_limited().body, authed, count=False)
        try:
            response = await handler(request)
            if isinstance(response, web.Response) and response.status == 200:
                response, counted = self._conditional(request, response, counted)
        except _HttpError as err:
            body = {"message": err.message, "documentation_url": DOCS, "status": str(err.status)}
            return self._json(err.status, body, authed, count=counted)
        except web.HTTPNotFound:
            return self._json(
                404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, authed
            )
        self._used[authed] += counted
        self._rate_headers(response, authed)
        return response

    def _conditional(
        self, request: web.Request, response: web.Response, counted: bool
    ) -> tuple[web.Response, bool]:
        """The ETag of a 200; a 304 (not counted) when the client already holds that body."""
        body = response.body if isinstance(response.body, bytes) else b""
        etag = f'W/"{hashlib.sha1(body).hexdigest()}"'
        response.headers["ETag"] = etag
        if request.headers.get("If-None-Match") != etag:
            return response, counted
        self.not_modified += 1
        return web.Response(status=304, headers={"ETag": etag}), False

    def _limit(self, authed: bool) -> int:
        if self.rate_limit is not None:
            return self.rate_limit
        return 5000 if authed else 60

    def _remaining(self, authed: bool) -> int:
        now = self.clock()
        if now >= self._reset:  # a new window
            self._used = {True: 0, False: 0}
            self._reset = int(now + self.reset_every)
        return max(0, self._limit(authed) - self._used[authed])

    def _rate_headers(
        self, response: web.StreamResponse, authed: bool, extra: dict[str, str] | None = None
    ) -> None:
        headers = {
            "X-RateLimit-Limit": str(self._limit(authed)),
            "X-RateLimit-Remaining": str(self._remaining(authed)),
            "X-RateLimit-Reset": str(self._reset),
            "X-RateLimit-Used": str(self._used[authed]),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Media-Type": "github.v3; format=json",
            **(extra or {}),
        }
        for key, value in headers.items():
            response.headers[key] = value

    def _json(
        self,
        status: int,
        body: Any,
        authed: bool,
        headers: dict[str, str] | None = None,
        *,
        count: bool = True,
    ) -> web.Response:
        self._used[authed] += count
        response = (
            web.json_response(body, status=status)
            if body is not None
            else web.Response(status=status)
        )
        self._rate_headers(response, authed, headers)
        return response

    def _find(self, request: web.Request) -> _Repo:
        repo = self._repos.get(
            f"{request.match_info['owner']}/{request.match_info['name']}".lower()
        )
        if repo is None or (repo.private and not request[_AUTHED]):
            raise _HttpError(404, "Not Found")
        if request[_CREDENTIAL] == "installation" and (
            repo.installation_id != request[_INSTALLATION]
        ):
            raise _HttpError(404, "Not Found")  # not a repository of this installation
        return repo

    def _jwt_problem(self, token: str) -> str | None:
        """Why GitHub would refuse this App JWT (None: it is the App's, and current)."""
        assert self.app is not None
        app_id, public_key = self.app
        try:
            claims = jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"], "verify_iss": False},
                leeway=60,
            )
        except jwt.InvalidTokenError:
            return "A JSON web token could not be decoded"
        if str(claims["iss"]) != str(app_id):
            return "Integration not found"
        if int(claims["exp"]) - int(claims["iat"]) > 11 * 60:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None

    def _api(self, repo: _Repo, rest: str = "") -> str:
        return f"{self.url}/repos/{repo.full_name}{rest}"

    def _html(self, repo: _Repo, rest: str = "") -> str:
        return f"{self.web_url}/{repo.full_name}{rest}"

    def _user(self, email: str) -> dict[str, Any] | None:
        login = self.users.get(email)
        if login is None:
            return None
        return {
            "login": login,
            "id": zlib.crc32(login.encode()),
            "node_id": f"U_{login}",
            "avatar_url": f"https://avatars.githubusercontent.com/{login}",
            "url": f"{self.url}/users/{login}",
            "html_url": f"{self.web_url}/{login}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
        }

    def _commit_json(self, repo: _Repo, entry: dict[str, Any]) -> dict[str, Any]:
        sha = entry["sha"]
        return {
            "sha": sha,
            "node_id": f"C_{sha[:20]}",
            "commit": {
                "author": dict(entry["author"]),
                "committer": dict(entry["committer"]),
                "message": entry["message"],
                "tree": {
                    "sha": entry["tree"],
                    "url": self._api(repo, f"/git/trees/{entry['tree']}"),
                },
                "url": self._api(repo, f"/git/commits/{sha}"),
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "url": self._api(repo, f"/commits/{sha}"),
            "html_url": self._html(repo, f"/commit/{sha}"),
            "comments_url": self._api(repo, f"/commits/{sha}/comments"),
            "author": self._user(entry["author"]["email"]),
            "committer": self._user(entry["committer"]["email"]),
            "parents": [
                {
                    "sha": p,
                    "url": self._api(repo, f"/commits/{p}"),
                    "html_url": self._html(repo, f"/commit/{p}"),
                }
                for p in entry["parents"]
            ],
        }

    def _file_json(self, repo: _Repo, head: str, entry: dict[str, Any]) -> dict[str, Any]:
        name = entry["filename"]
        out = {
            "sha": entry["sha"],
            "filename": name,
            "status": entry["status"],
            "additions": entry["additions"],
            "deletions": entry["deletions"],
            "changes": entry["changes"],
            "blob_url": self._html(repo, f"/blob/{head}/{name}"),
            "raw_url": self._html(repo, f"/raw/{head}/{name}"),
            "contents_url": self._api(repo, f"/contents/{name}?ref={head}"),
        }
        if "patch" in entry:
            out["patch"] = entry["patch"]
        if "previous_filename" in entry:
            out["previous_filename"] = entry["previous_filename"]
        return out

    def _links(self, request: web.Request, page: int, last: int) -> dict[str, str]:
        if last <= 1:
            return {}

        def link(n: int) -> str:
            query = {**request.query, "page": str(n)}
            return f"{self._root}{request.rel_url.raw_path}?{urlencode(query)}"

        rels = []
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels += [f'<{link(page - 1)}>; rel="prev"', f'<{link(1)}>; rel="first"']
        return {"Link": ", ".join(rels)} if rels else {}

    # ---- endpoints -----------------------------------------------------------------------

    async def _rate_limit(self, request: web.Request) -> web.Response:
        authed = bool(request[_AUTHED])
        core = {
            "limit": self._limit(authed),
            "remaining": self._remaining(authed),
            "reset": self._reset,
            "used": self._used[authed],
            "resource": "core",
        }
        return web.json_response({"resources": {"core": core}, "rate": core})

    def _app_json(self) -> dict[str, Any]:
        assert self.app is not None
        return {
            "id": self.app[0],
            "slug": "commit-digest",
            "node_id": f"A_{self.app[0]}",
            "name": "Commit Digest",
            "description": "",
            "external_url": "https://example.com",
            "html_url": f"{self.web_url}/apps/commit-digest",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": {"contents": "read", "metadata": "read"},
            "events": [],
        }

    async def _app(self, request: web.Request) -> web.Response:
        return web.json_response(self._app_json())

    async def _installation(self, request: web.Request) -> web.Response:
        repo = self._repos.get(
            f"{request.match_info['owner']}/{request.match_info['name']}".lower()
        )
        if repo is None or repo.installation_id is None:
            raise _HttpError(404, "Not Found")
        assert self.app is not None
        iid = repo.installation_id
        return web.json_response(
            {
                "id": iid,
                "app_id": self.app[0],
                "app_slug": "commit-digest",
                "target_id": zlib.crc32(repo.owner.encode()),
                "target_type": "Organization",
                "account": {"login": repo.owner, "id": zlib.crc32(repo.owner.encode())},
                "repository_selection": "selected",
                "access_tokens_url": f"{self.url}/app/installations/{iid}/access_tokens",
                "repositories_url": f"{self.url}/installation/repositories",
                "html_url": f"{self.web_url}/settings/installations/{iid}",
                "permissions": {"contents": "read", "metadata": "read"},
                "events": [],
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "single_file_name": None,
            }
        )

    async def _access_token(self, request: web.Request) -> web.Response:
        try:
            iid = int(request.match_info["id"])
        except ValueError:
            raise _HttpError(404, "Not Found") from None
        if not any(r.installation_id == iid for r in self._repos.values()):
            raise _HttpError(404, "Not Found")
        token = "ghs_" + secrets.token_urlsafe(27)
        expires = time.time() + self.installation_token_ttl
        self.installation_tokens[token] = (iid, expires)
        body = {
            "token": token,
            "expires_at": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": {"contents": "read", "metadata": "read"},
            "repository_selection": "selected",
        }
        return web.json_response(body, status=201)

    async def _repo(self, request: web.Request) -> web.Response:
        repo = self._find(request)
        owner = repo.owner
        now = "2024-01-01T00:00:00Z"
        body = {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.full_name.split("/")[1],
            "full_name": repo.full_name,
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "owner": {
                "login": owner,
                "id": zlib.crc32(owner.encode()),
                "url": f"{self.url}/users/{owner}",
                "html_url": f"{self.web_url}/{owner}",
                "type": "Organization",
                "site_admin": False,
            },
            "html_url": self._html(repo),
            "description": None,
            "fork": False,
            "url": self._api(repo),
            "commits_url": self._api(repo, "/commits{/sha}"),
            "compare_url": self._api(repo, "/compare/{base}...{head}"),
            "branches_url": self._api(repo, "/branches{/branch}"),
            "clone_url": f"{self._html(repo)}.git",
            "default_branch": await repo.branch(),
            "size": 0 if await repo.is_empty() else 1,
            "archived": False,
            "disabled": False,
            "created_at": now,
            "updated_at": now,
            "pushed_at": now,
        }
        return web.json_response(body)

    async def _commits(self, request: web.Request) -> web.Response:
        repo = self._find(request)
        if await repo.is_empty():
            raise _HttpError(409, "Git Repository is empty.")
        ref = request.query.get("sha") or await repo.branch()
        try:
            head = await repo.resolve(ref)
        except _RefError:
            raise _HttpError(422, f"No commit found for SHA: {ref}") from None
        since = _parse_time(request.query.get("since")) or datetime.min.replace(tzinfo=UTC)
        until = _parse_time(request.query.get("until")) or datetime.max.replace(tzinfo=UTC)
        # GitHub filters on the committer date, both bounds inclusive.
        entries = [
            e
            for e in await repo.log(head)
            if since <= datetime.fromisoformat(e["committer"]["date"]) <= until
        ]
        per_page = _query_int(request, "per_page", 30, 100)
        page = _query_int(request, "page", 1, 10**6)
        last = max(1, math.ceil(len(entries) / per_page))
        chunk = entries[(page - 1) * per_page : page * per_page]
        body = [self._commit_json(repo, e) for e in chunk]
        return web.json_response(body, headers=self._links(request, page, last))

    async def _detail(self, repo: _Repo, sha: str) -> dict[str, Any]:
        cached = repo.details.get(sha)
        if cached is None:
            (entry,) = await repo.log("-1", sha)
            base = entry["parents"][0] if entry["parents"] else None
            files = await repo.diff(base, sha, self.patch_limit)
            cached = {"entry": entry, "files": files}
            repo.details[sha] = cached
        return cached

    async def _commit(self, request: web.Request) -> web.Response:
        repo = self._find(request)
        ref = request.match_info["ref"]
        try:
            sha = await repo.resolve(ref)
        except _RefError as err:
            if err.ambiguous:
                raise _HttpError(
                    422, f"The SHA {ref} is ambiguous. Provide a longer SHA."
                ) from None
            raise _HttpError(422, f"No commit found for SHA: {ref}") from None
        detail = await self._detail(repo, sha)
        files = detail["files"][:MAX_COMMIT_FILES]
        per_page = _query_int(request, "per_page", 300, 300)
        page = _query_int(request, "page", 1, 10**6)
        last = max(1, math.ceil(len(files) / per_page))
        body = self._commit_json(repo, detail["entry"])
        additions = sum(f["additions"] for f in files)
        deletions = sum(f["deletions"] for f in files)
        body["stats"] = {
            "total": additions + deletions,
            "additions": additions,
            "deletions": deletions,
        }
        body["files"] = [
            self._file_json(repo, sha, f) for f in files[(page - 1) * per_page : page * per_page]
        ]
        return web.json_response(body, headers=self._links(request, page, last))

    async def _compare(self, request: web.Request) -> web.Response:
        repo = self._find(request)
        base_ref, sep, head_ref = request.match_info["basehead"].partition("...")
        if not sep:
            raise _HttpError(404, "Not Found")
        try:
            base = await repo.resolve(base_ref)
            head = await repo.resolve(head_ref)
        except _RefError:
            raise _HttpError(404, "Not Found") from None
        code, out, _ = await repo.git("merge-base", base, head, ok=(0, 1))
        if code != 0:
            raise _HttpError(404, f"No common ancestor between {base_ref} and {head_ref}.")
        merge_base = out.strip()
        ahead = list(reversed(await repo.log(f"{base}..{head}")))
        _, behind, _ = await repo.git("rev-list", "--count", f"{head}..{base}")
        behind_by = int(behind.strip())
        status = (
            "identical"
            if not ahead and not behind_by
            else "ahead"
            if not behind_by
            else "behind"
            if not ahead
            else "diverged"
        )
        per_page = _query_int(request, "per_page", 250, 1000)
        page = _query_int(request, "page", 1, 10**6)
        last = max(1, math.ceil(len(ahead) / per_page))
        files = await repo.diff(merge_base, head, self.patch_limit)
        (base_entry,) = await repo.log("-1", base)
        (mb_entry,) = await repo.log("-1", merge_base)
        basehead = f"{base_ref}...{head_ref}"
        body = {
            "url": self._api(repo, f"/compare/{basehead}"),
            "html_url": self._html(repo, f"/compare/{basehead}"),
            "permalink_url": self._html(
                repo, f"/compare/{repo.owner}:{base}...{repo.owner}:{head}"
            ),
            "diff_url": self._html(repo, f"/compare/{basehead}.diff"),
            "patch_url": self._html(repo, f"/compare/{basehead}.patch"),
            "base_commit": self._commit_json(repo, base_entry),
            "merge_base_commit": self._commit_json(repo, mb_entry),
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": behind_by,
            "total_commits": len(ahead),
            "commits": [
                self._commit_json(repo, e) for e in ahead[(page - 1) * per_page : page * per_page]
            ],
            "files": [self._file_json(repo, head, f) for f in files[:300]],
        }
        return web.json_response(body, headers=self._links(request, page, last))

    async def _branch(self, request: web.Request) -> web.Response:
        repo = self._find(request)
        name = request.match_info["branch"]
        code, out, _ = await repo.git(
            "rev-parse", "--verify", "-q", f"refs/heads/{name}", ok=(0, 1, 128)
        )
        if code != 0:
            raise _HttpError(404, "Branch not found")
        (entry,) = await repo.log("-1", out.strip())
        body = {
            "name": name,
            "commit": self._commit_json(repo, entry),
            "_links": {
                "self": self._api(repo, f"/branches/{name}"),
                "html": self._html(repo, f"/tree/{name}"),
            },
            "protected": False,
            "protection": {
                "enabled": False,
                "required_status_checks": {
                    "enforcement_level": "off",
                    "contexts": [],
                    "checks": [],
                },
            },
            "protection_url": self._api(repo, f"/branches/{name}/protection"),
        }
        return web.json_response(body)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _HttpError(422, f"Invalid time: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
