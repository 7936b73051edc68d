"""Pull requests, reviews and issues for FakeGitHub, served from a JSON data file that a test
writes beside its real git repository (`gh.add_repo(name, path, context_file=file)`):

    {"pulls": [{"number": 7, "title": "...", "body": "...", "labels": ["security"],
                "user": "alice", "merged_at": "2026-02-05T03:00:00Z", "base": "main",
                "head_sha": "<sha>", "merge_commit_sha": "<sha>", "commits": ["<sha>", ...],
                "reviews": [{"user": "bob", "state": "APPROVED"}]}],
     "issues": [{"number": 5, "title": "...", "labels": ["bug"], "state": "closed"}]}

Endpoints, with GitHub's field names: `GET /repos/{o}/{r}/pulls/{n}`, `.../pulls/{n}/reviews`
(paginated), `.../commits/{sha}/pulls` (the pull requests whose commits or merge commit include
the sha) and `.../issues/{n}`; a number the file does not have is a 404, as on GitHub.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.github import FakeGitHub, _Repo

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def load(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {"pulls": [], "issues": []}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"pulls": list(data.get("pulls", [])), "issues": list(data.get("issues", []))}


class PullEndpoints:
    """The routes, bound to one FakeGitHub (its repositories, URLs and errors)."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake

    def routes(self) -> list[tuple[str, Handler]]:
        """More specific than `commits/{ref:.+}`: registered before it."""
        return [
            ("/repos/{owner}/{name}/commits/{sha:[0-9a-fA-F]{7,40}}/pulls", self._commit_pulls),
            ("/repos/{owner}/{name}/pulls/{number:[0-9]+}", self._pull),
            ("/repos/{owner}/{name}/pulls/{number:[0-9]+}/reviews", self._reviews),
            ("/repos/{owner}/{name}/issues/{number:[0-9]+}", self._issue),
        ]

    def _data(self, repo: _Repo) -> dict[str, Any]:
        return load(repo.context_file)

    def _find_pull(self, request: web.Request) -> tuple[_Repo, dict[str, Any]]:
        repo = self.fake._find(request)
        number = int(request.match_info["number"])
        for pull in self._data(repo)["pulls"]:
            if int(pull["number"]) == number:
                return repo, pull
        raise web.HTTPNotFound()

    def _user(self, login: str | None) -> dict[str, Any] | None:
        if not login:
            return None
        return {
            "login": login,
            "id": zlib.crc32(login.encode()),
            "type": "Bot" if login.endswith("[bot]") else "User",
            "html_url": f"{self.fake.web_url}/{login}",
            "url": f"{self.fake.url}/users/{login}",
        }

    def _labels(self, names: list[str]) -> list[dict[str, Any]]:
        return [
            {"id": zlib.crc32(n.encode()), "name": n, "color": "ededed", "default": False}
            for n in names
        ]

    def _pull_json(self, repo: _Repo, pull: dict[str, Any]) -> dict[str, Any]:
        n = int(pull["number"])
        merged = pull.get("merged_at")
        base = pull.get("base", "main")
        return {
            "url": self.fake._api(repo, f"/pulls/{n}"),
            "id": 500000 + n,
            "node_id": f"PR_{n}",
            "html_url": self.fake._html(repo, f"/pull/{n}"),
            "number": n,
            "state": pull.get("state", "closed" if merged else "open"),
            "locked": False,
            "title": pull.get("title", ""),
            "user": self._user(pull.get("user")),
            "body": pull.get("body"),
            "labels": self._labels(list(pull.get("labels", []))),
            "created_at": pull.get("created_at", "2026-01-01T00:00:00Z"),
            "updated_at": merged or "2026-01-01T00:00:00Z",
            "closed_at": merged,
            "merged_at": merged,
            "merge_commit_sha": pull.get("merge_commit_sha"),
            "draft": False,
            "head": {"ref": f"topic-{n}", "sha": pull.get("head_sha")},
            "base": {"ref": base, "sha": None},
            "author_association": "MEMBER",
        }

    async def _commit_pulls(self, request: web.Request) -> web.Response:
        repo = self.fake._find(request)
        sha = request.match_info["sha"].lower()
        found = [
            self._pull_json(repo, p)
            for p in self._data(repo)["pulls"]
            if any(str(c).lower().startswith(sha) for c in p.get("commits", []))
            or str(p.get("merge_commit_sha") or "").lower().startswith(sha)
        ]
        return web.json_response(found)

    async def _pull(self, request: web.Request) -> web.Response:
        repo, pull = self._find_pull(request)
        return web.json_response(self._pull_json(repo, pull))

    async def _reviews(self, request: web.Request) -> web.Response:
        repo, pull = self._find_pull(request)
        n = int(pull["number"])
        reviews = [
            {
                "id": 900000 + i,
                "node_id": f"PRR_{n}_{i}",
                "user": self._user(r.get("user")),
                "body": r.get("body", ""),
                "state": r.get("state", "COMMENTED"),
                "html_url": self.fake._html(repo, f"/pull/{n}#pullrequestreview-{i}"),
                "pull_request_url": self.fake._api(repo, f"/pulls/{n}"),
                "submitted_at": "2026-01-01T00:00:00Z",
                "commit_id": pull.get("head_sha"),
                "author_association": "MEMBER",
            }
            for i, r in enumerate(pull.get("reviews", []), start=1)
        ]
        per_page = max(1, min(int(request.query.get("per_page", 30)), 100))
        page = max(1, int(request.query.get("page", 1)))
        last = max(1, math.ceil(len(reviews) / per_page))
        chunk = reviews[(page - 1) * per_page : page * per_page]
        return web.json_response(chunk, headers=self.fake._links(request, page, last))

    async def _issue(self, request: web.Request) -> web.Response:
        repo = self.fake._find(request)
        number = int(request.match_info["number"])
        for issue in self._data(repo)["issues"]:
            if int(issue["number"]) == number:
                return web.json_response(
                    {
                        "url": self.fake._api(repo, f"/issues/{number}"),
                        "id": 700000 + number,
                        "node_id": f"I_{number}",
                        "html_url": self.fake._html(repo, f"/issues/{number}"),
                        "number": number,
                        "state": issue.get("state", "open"),
                        "title": issue.get("title", ""),
                        "body": issue.get("body"),
                        "user": self._user(issue.get("user", "reporter")),
                        "labels": self._labels(list(issue.get("labels", []))),
                        "comments": 0,
                        "created_at": "2026-01-01T00:00:00Z",
                        "updated_at": "2026-01-01T00:00:00Z",
                        "closed_at": None,
                    }
                )
        raise web.HTTPNotFound()
