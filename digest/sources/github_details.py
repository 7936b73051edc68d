"""One commit's detail from GitHub: its files and patches in one request, shared by the sources
of a process (a commit never changes), and the commit as listed when GitHub cannot make its
diff (422, "diff is taking too long to generate"): one huge commit never costs the day.
"""

from __future__ import annotations

import re

from digest.errors import CommitNotFound, DigestError, UpstreamError
from digest.models import Commit, Unreadable
from digest.sources.github_calls import GitHubCalls
from digest.sources.github_errors import ClientErrorMapper
from digest.sources.github_shared import GitHubShared
from digest.sources.github_wire import Raw, to_commit

FILES_PER_PAGE = 300  # GitHub's maximum for the files of one commit
_FULL_SHA = re.compile(r"[0-9a-f]{40}")


class _DiffTooLarge(UpstreamError):
    """GitHub would not make a commit's diff; caught in `commit_detail`, never shown."""


async def commit_detail(
    calls: GitHubCalls,
    shared: GitHubShared,
    name: str,
    ref: str,
    on_client_error: ClientErrorMapper | None = None,
    *,
    listed: Raw | None = None,
) -> Commit:
    """The commit `ref` of `name` with its files; when GitHub cannot make its diff, the commit
    as listed (`listed`, or one more request) with no files, marked so."""
    mapper = on_client_error or (
        lambda status, _: CommitNotFound(name, ref) if status in (404, 422) else None
    )

    def too_large(status: int, message: str) -> DigestError | None:
        if status == 422 and "diff" in message.lower():
            return _DiffTooLarge(name, ref)
        return mapper(status, message)

    try:
        if on_client_error is None and _FULL_SHA.fullmatch(ref):
            # A commit never changes: the sources of one process share its detail.
            key = (calls.api_url, name.lower(), ref)
            return await shared.detail(key, lambda: _full_detail(calls, name, ref, too_large))
        return await _full_detail(calls, name, ref, too_large)
    except _DiffTooLarge:
        raw = listed
        if raw is None:  # a lookup by ref: the commit as the list of commits shows it
            raw = await calls.call(
                lambda: dict(next(iter(calls.repository().get_commits(sha=ref))).raw_data),
                mapper,
            )
        return to_commit(name, {**raw, "files": []}, files_incomplete=True).model_copy(
            update={"files_unreadable": Unreadable.TOO_LARGE}
        )


async def _full_detail(
    calls: GitHubCalls, name: str, ref: str, mapper: ClientErrorMapper
) -> Commit:
    def fetch() -> Commit:  # converted in the thread: a malformed answer is classified too
        commit = calls.repository().get_commit(ref, commit_files_per_page=FILES_PER_PAGE)
        raw = commit.raw_data  # the one request: completes the lazy object
        more_files = 'rel="next"' in str(commit.raw_headers.get("link", ""))
        return to_commit(name, raw, files_incomplete=more_files)

    return await calls.call(fetch, mapper)
