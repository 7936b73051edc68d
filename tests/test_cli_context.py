"""`digest report owner/repo` with pull requests and issues, as a user runs it: the console
script against the fake GitHub serving them from a data file beside a real repository."""

from __future__ import annotations

import math
from pathlib import Path

from tests.fakes.github import FakeGitHub
from tests.pulls import PR_SECRET, build_repo
from tests.test_cli_github import digest

TOKEN = "ghp_" + "Cl1Context" * 4
CONTEXT = r"/pulls|/issues/"


async def test_the_report_names_pull_requests_labels_and_fixes_and_asks_once(
    tmp_path: Path,
) -> None:
    repo, _, data = build_repo(tmp_path)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path, context_file=data)
        env = {
            "GITHUB_API_URL": gh.url,
            "GITHUB_TOKEN": TOKEN,
            "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'digest.db'}",
            "DIGEST_HIGHLIGHT_LABELS": "enh*",
        }
        args = ("report", "octo/demo", "--date", "2026-02-05", "--lang", "en")
        code, md, err = await digest(*args, env=env, cwd=tmp_path)
        assert code == 0, err
        first = gh.count()
        code, again, err = await digest(*args, env=env, cwd=tmp_path)
        assert code == 0, err
    n = 7
    assert first <= 1 + math.ceil(n / 100) + n + 4 + 4 + 2 + 1  # P, R, I, the direct push
    assert gh.count(CONTEXT) == first - (1 + 1 + n)  # ... and the second run asked nothing
    assert "[#7 Fix the worker start deadlock](https://github.com/octo/demo/pull/7)" in md
    assert "🏷 `security`" in md and "✅ 2 approvals" in md
    assert "[fixes #5](https://github.com/octo/demo/issues/5) Deadlock when two workers" in md
    assert "&lt;!here&gt;" in md and "<!here>" not in md
    assert "🏷 `enhancement`" in md  # DIGEST_HIGHLIGHT_LABELS
    assert "[fixes #6](https://github.com/octo/demo/issues/6) Support nested tables" in md
    assert PR_SECRET not in md and TOKEN not in md + err
    assert again == md
