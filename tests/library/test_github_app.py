"""GitHub App authentication: the App's JWT finds the installation, installation tokens read."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.ops.settings import SettingsError, load_settings
from bot.wiring import open_source
from digest.errors import AuthenticationFailed, RepoNotFound
from digest.models import Window
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 2, 5, tzinfo=TZ)
APP_ID = 424242
INSTALLATION = 77
REPO = "octo/demo"


def make_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


KEY, PUBLIC = make_key()
OTHER_KEY, _ = make_key()
KEY_BODY = KEY.splitlines()[5]  # a line from the middle of the key: must never be shown


def day_window() -> Window:
    return Window(start=DAY, end=DAY + timedelta(days=1), tz="Asia/Shanghai", day="2026-02-05")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "demo")
    repo.commit("init", {"README.md": "# demo\n"}, when=DAY - timedelta(hours=5))
    repo.commit("feat: one", {"a.py": "a = 1\n"}, when=DAY + timedelta(hours=9))
    repo.commit("fix: two", {"a.py": "a = 2\n"}, when=DAY + timedelta(hours=15))
    repo.commit("docs: later", {"b.md": "b\n"}, when=DAY + timedelta(days=1, hours=1))
    return repo


def in_window(repo: GitRepo) -> set[str]:
    return set(
        repo.log_shas(
            "--since-as-filter=2026-02-05T00:00:00+08:00", "--until=2026-02-05T23:59:59+08:00"
        )
    )


def source(gh: FakeGitHub, name: str = REPO, key: str = KEY, **kw: object) -> GitHubSource:
    return GitHubSource(name, app_auth=(APP_ID, key), api_url=gh.url, **kw)  # type: ignore[arg-type]


def auth_kind(header: str | None) -> str:
    if header is None:
        return "none"
    if header.startswith("Bearer ") and header.count(".") == 2:
        return "jwt"
    if header.startswith("token ghs_"):
        return "installation"
    return "other"


async def test_window_and_commit_through_the_app(repo: GitRepo) -> None:
    async with FakeGitHub(app=(APP_ID, PUBLIC)) as gh:
        gh.add_repo(REPO, repo.path, private=True, installation_id=INSTALLATION)
        async with source(gh, max_in_flight=3) as src:
            commits = await src.commits_in_window("main", day_window())
            assert {c.sha for c in commits} == in_window(repo)
            assert [c.title for c in commits] == ["fix: two", "feat: one"]
            one = await src.commit(commits[1].sha[:10])
            assert one.sha == commits[1].sha
            assert (await src.repo()).private

        log = [(r.method, r.path, auth_kind(r.headers.get("Authorization"))) for r in gh.requests]
        assert log[0] == ("GET", f"/repos/{REPO}/installation", "jwt")
        assert log[1] == ("POST", f"/app/installations/{INSTALLATION}/access_tokens", "jwt")
        assert log[2] == ("GET", f"/repos/{REPO}", "installation")
        assert gh.count(r"/installation$") == 1  # looked up once per source
        token_posts = gh.count(r"/access_tokens$", method="POST")
        assert 1 <= token_posts <= 3  # one token per worker thread's client, at most
        repo_requests = [entry for entry in log if entry[1].startswith(f"/repos/{REPO}/commits")]
        assert repo_requests and all(kind == "installation" for *_, kind in repo_requests)
        assert all(r.headers.get("Authorization") for r in gh.requests)
        assert all(KEY_BODY not in str(r.headers) for r in gh.requests)


async def test_an_expiring_installation_token_is_refreshed(repo: GitRepo) -> None:
    # PyGithub renews a token 20 s before it expires: a 10 s token is renewed before each use.
    async with FakeGitHub(app=(APP_ID, PUBLIC), installation_token_ttl=10) as gh:
        gh.add_repo(REPO, repo.path, private=True, installation_id=INSTALLATION)
        async with source(gh, max_in_flight=1) as src:
            commits = await src.commits_in_window("main", day_window())
        assert len(commits) == 2
        repo_gets = gh.count(rf"^/repos/{REPO}(/|$)") - gh.count(r"/installation$")
        assert gh.count(r"/access_tokens$", method="POST") == repo_gets >= 4


async def test_a_repository_the_app_is_not_installed_on_is_not_found(
    repo: GitRepo, tmp_path: Path
) -> None:
    async with FakeGitHub(app=(APP_ID, PUBLIC)) as gh:
        gh.add_repo(REPO, repo.path, private=True, installation_id=INSTALLATION)
        gh.add_repo("octo/elsewhere", repo.path, private=False)  # public, but not installed
        for name in ("octo/elsewhere", "octo/missing"):
            async with source(gh, name) as src:
                with pytest.raises(RepoNotFound):
                    await src.commits_in_window("main", day_window())
        assert gh.count(r"/access_tokens$", method="POST") == 0
        assert gh.count(r"^/repos/octo/elsewhere$") == 0


async def test_a_wrong_key_or_app_id_is_refused(repo: GitRepo) -> None:
    async with FakeGitHub(app=(APP_ID, PUBLIC)) as gh:
        gh.add_repo(REPO, repo.path, private=True, installation_id=INSTALLATION)
        async with source(gh, key=OTHER_KEY) as src:
            with pytest.raises(AuthenticationFailed) as info:
                await src.repo()
        assert KEY_BODY not in repr(info.value) and OTHER_KEY.splitlines()[5] not in str(info.value)
        wrong_id = GitHubSource(REPO, app_auth=(APP_ID + 1, KEY), api_url=gh.url)
        async with wrong_id:
            with pytest.raises(AuthenticationFailed):
                await wrong_id.head("main")
        assert gh.count(r"/access_tokens$", method="POST") == 0


def test_a_malformed_key_fails_without_quoting_it() -> None:
    broken = KEY.replace(KEY_BODY, "A" * len(KEY_BODY))
    for bad in (broken, "not a key"):
        with pytest.raises(ValueError) as info:
            GitHubSource(REPO, app_auth=(APP_ID, bad))
        assert "AAAA" not in str(info.value) and "not a key" not in str(info.value)


# ---- settings and wiring ------------------------------------------------------------------------


def test_settings_take_the_key_as_text_a_file_or_one_escaped_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", KEY)
    assert load_settings(None).github_app == (APP_ID, KEY.strip() + "\n")
    pem = tmp_path / "app.pem"
    pem.write_text(KEY)
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", str(pem))
    assert load_settings(None).github_app == (APP_ID, KEY.strip() + "\n")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", KEY.strip().replace("\n", "\\n"))
    settings = load_settings(None)
    assert settings.github_app == (APP_ID, KEY.strip() + "\n")
    assert KEY_BODY not in repr(settings) and KEY_BODY not in str(settings.model_dump())


def test_settings_want_both_or_neither_and_a_readable_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(None).github_app is None
    monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    assert len(info.value.problems) == 1
    assert "GITHUB_APP_PRIVATE_KEY is not set" in info.value.problems[0]

    monkeypatch.delenv("GITHUB_APP_ID")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", KEY)
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    assert "GITHUB_APP_ID is not set" in str(info.value)
    assert KEY_BODY not in str(info.value)

    monkeypatch.setenv("GITHUB_APP_ID", "abc")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", str(tmp_path / "nowhere.pem"))
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    names = " ".join(info.value.problems)
    assert "GITHUB_APP_ID" in names and "GITHUB_APP_PRIVATE_KEY" in names

    garbled = tmp_path / "garbled.pem"
    garbled.write_text(KEY.replace(KEY_BODY, "B" * len(KEY_BODY)))
    monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", str(garbled))
    with pytest.raises(SettingsError) as info:
        load_settings(None)
    assert "GITHUB_APP_PRIVATE_KEY" in str(info.value) and "BBBB" not in str(info.value)


async def test_open_source_prefers_the_app_over_a_token(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeGitHub(app=(APP_ID, PUBLIC), token="ghp_" + "R" * 36) as gh:
        gh.add_repo(REPO, repo.path, private=True, installation_id=INSTALLATION)
        monkeypatch.setenv("GITHUB_API_URL", gh.url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "W" * 36)  # wrong: unused with an App
        monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
        monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", KEY)
        src = open_source(REPO, load_settings(None))
        assert isinstance(src, GitHubSource)
        async with src:
            assert (await src.repo()).full_name == REPO
        assert gh.count(r"/access_tokens$", method="POST") == 1


async def test_report_command_with_an_app_key_file(repo: GitRepo, tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text(KEY)
    async with FakeGitHub(app=(APP_ID, PUBLIC)) as gh:
        gh.add_repo(REPO, repo.path, private=True, installation_id=INSTALLATION)
        env = {
            **os.environ,
            "GITHUB_API_URL": gh.url,
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_APP_PRIVATE_KEY": str(pem),
        }
        env.pop("GITHUB_TOKEN", None)
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "digest"),
            "report", REPO, "--date", "2026-02-05", "--lang", "en",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
        )  # fmt: skip
        out_b, err_b = await proc.communicate()
        out, err = out_b.decode(), err_b.decode()
        assert proc.returncode == 0, err
        assert "fix: two" in out and "feat: one" in out and "docs: later" not in out
        assert KEY_BODY not in err and KEY_BODY not in out and "PRIVATE KEY" not in err
        assert gh.count(r"/installation$") == 1
