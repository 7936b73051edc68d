"""Commands executed end to end: the fake GitHub, a real store, the real heuristic analyzer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.chat.execute import handle
from bot.chat.replies import Context, ReplyKind, Services
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Target
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo

SH = timezone(timedelta(hours=8))
TOKEN = "ghp_" + "E5x3c" * 7 + "u"
NOW = datetime(2026, 2, 5, 12, 0, tzinfo=UTC)
ALPHA = Target(platform="slack", workspace="T1", channel="C-alpha")
BETA = Target(platform="slack", workspace="T1", channel="C-beta")


@dataclass
class World:
    gh: FakeGitHub
    store: Store
    public: GitRepo
    secret: GitRepo
    changes: list[str]

    def ctx(self, target: Target, user: str = "U-user", **settings: str) -> Context:
        async def changed() -> None:
            self.changes.append(target.channel)

        return Context(
            services=Services(
                settings=Settings(
                    _env_file=None,
                    digest_admins="U-admin",
                    **settings,  # type: ignore[arg-type]
                ),
                store=self.store,
                open_source=lambda repo: GitHubSource(repo, token=TOKEN, api_url=self.gh.url),
                analyzer=HeuristicAnalyzer(),
                clock=lambda: NOW,
                on_change=changed,
            ),
            target=target,
            user=user,
        )


@pytest.fixture
async def world(tmp_path: Path, database_url: str) -> AsyncIterator[World]:
    public = GitRepo.init(tmp_path / "public")
    public.commit(
        "feat: public thing", {"src/a.py": "a = 1\n"}, when=datetime(2026, 2, 5, 9, tzinfo=SH)
    )
    public.commit(
        "fix: public fix", {"src/a.py": "a = 2\n"}, when=datetime(2026, 2, 5, 10, tzinfo=SH)
    )
    secret = GitRepo.init(tmp_path / "secret")
    secret.commit(
        "feat: secret plan", {"src/s.py": "s = 1\n"}, when=datetime(2026, 2, 5, 9, tzinfo=SH)
    )
    store = await Store.open(database_url, clock=lambda: NOW)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/public", public.path)
        gh.add_repo("octo/secret", secret.path, private=True)
        yield World(gh, store, public, secret, [])
    await store.close()


async def test_subscribe_list_update_unsubscribe(world: World) -> None:
    ctx = world.ctx(ALPHA)
    reply = await handle("subscribe octo/public at:10:30 tz:UTC min:medium", ctx)
    assert reply.kind == ReplyKind.INFO and "Subscribed this channel to octo/public" in reply.text
    assert "10:30 UTC" in reply.text and world.changes == ["C-alpha"]
    reply = await handle("subscribe https://github.com/OCTO/public lang:en", ctx)
    assert "Updated the subscription" in reply.text
    (sub,) = await world.store.subscriptions_for(ALPHA)
    assert (sub.repo, sub.at, sub.tz, sub.language, sub.min_importance.value) == (
        "octo/public", "10:30", "UTC", "en", "medium",
    )  # fmt: skip
    listed = await handle("list", ctx)
    assert listed.kind == ReplyKind.SUBSCRIPTIONS and "octo/public" in listed.text
    assert (await handle("list", world.ctx(BETA))).subscriptions == ()
    gone = await handle("unsubscribe octo/public", ctx)
    assert "no longer follows octo/public" in gone.text
    again = await handle("unsubscribe octo/public", ctx)
    assert again.kind == ReplyKind.ERROR and again.ephemeral
    assert "does not follow octo/public" in again.text and again.usage


async def test_private_repositories_need_an_admin_or_an_allowed_glob(world: World) -> None:
    refused = await handle("subscribe octo/secret", world.ctx(ALPHA, user="U-user"))
    assert refused.kind == ReplyKind.ERROR
    assert "was not found on GitHub, or it is private" in refused.text
    assert await world.store.subscriptions_for(ALPHA) == []
    ok = await handle("subscribe octo/secret", world.ctx(ALPHA, user="U-admin"))
    assert ok.kind == ReplyKind.INFO
    allowed = world.ctx(BETA, user="U-user", digest_allowed_repos="octo/*")
    assert (await handle("subscribe octo/secret", allowed)).kind == ReplyKind.INFO


async def test_a_channel_never_sees_a_private_repository_it_does_not_follow(world: World) -> None:
    secret_sha = world.secret.git("rev-parse", "HEAD")
    await handle("subscribe octo/secret", world.ctx(ALPHA, user="U-admin"))
    await handle("subscribe octo/public", world.ctx(BETA))
    seen = await handle(secret_sha[:8], world.ctx(ALPHA))
    assert seen.kind == ReplyKind.ANALYSIS and seen.analysis is not None
    assert seen.analysis.commit.sha == secret_sha
    for text in (secret_sha[:8], f"octo/secret@{secret_sha[:8]}",
                 f"https://github.com/octo/secret/commit/{secret_sha}"):  # fmt: skip
        hidden = await handle(text, world.ctx(BETA))
        assert hidden.kind == ReplyKind.ERROR, text
        assert "secret plan" not in hidden.text
    public_sha = world.public.git("rev-parse", "HEAD")
    named = await handle(f"octo/public@{public_sha[:7]}", world.ctx(ALPHA))  # public: allowed
    assert named.kind == ReplyKind.ANALYSIS


async def test_bare_sha_found_nowhere_or_in_several_repositories(world: World) -> None:
    nobody = await handle("deadbeef", world.ctx(ALPHA))
    assert nobody.kind == ReplyKind.ERROR and nobody.usage and "@<sha>" in nobody.usage
    world.gh.add_repo("octo/fork", world.public.path)  # the same commits in two repositories
    await handle("subscribe octo/public", world.ctx(ALPHA))
    await handle("subscribe octo/fork", world.ctx(ALPHA))
    sha = world.public.git("rev-parse", "HEAD")
    both = await handle(sha[:10], world.ctx(ALPHA))
    assert both.kind == ReplyKind.INFO
    assert f"/digest octo/fork@{sha[:10]}" in both.text
    assert f"/digest octo/public@{sha[:10]}" in both.text
    missing = await handle("abcdef0", world.ctx(ALPHA))
    assert missing.kind == ReplyKind.ERROR and "octo/fork, octo/public" in missing.text


async def test_now_builds_the_day_of_each_followed_repository(world: World) -> None:
    ctx = world.ctx(ALPHA)
    assert (await handle("now", ctx)).kind == ReplyKind.ERROR
    await handle("subscribe octo/public tz:Asia/Shanghai", ctx)
    reply = await handle("now 2026-02-05", ctx)
    assert reply.kind == ReplyKind.DIGESTS
    (digest,) = reply.digests
    assert digest.window.day == "2026-02-05" and digest.stats.total == 2
    assert (await handle("now octo/secret", ctx)).kind == ReplyKind.ERROR


@pytest.mark.parametrize(
    "text",
    ["frobnicate", "subscribe", "subscribe octo", "subscribe octo/public at:25:00",
     "subscribe octo/public tz:Mars/Base", "abc12", "unsubscribe", "now 2026-13-01"],
)  # fmt: skip
async def test_bad_commands_get_one_sentence_and_the_usage(world: World, text: str) -> None:
    reply = await handle(text, world.ctx(ALPHA))
    assert reply.kind == ReplyKind.ERROR and reply.ephemeral
    assert "\n" not in reply.text and reply.usage and reply.usage.startswith("usage: ")
    assert world.gh.count() == 0  # validated before any call went out


async def test_ask_never_reveals_a_private_repository_the_channel_does_not_follow(
    world: World,
) -> None:
    from digest.analysis.ask import Asker
    from digest.analysis.llm import LLMAnalyzer, LLMConfig
    from tests.fakes.openai import FakeOpenAI

    secret_sha = world.secret.git("rev-parse", "HEAD")
    await handle("subscribe octo/secret", world.ctx(ALPHA, user="U-admin"))
    async with FakeOpenAI(api_key=None, responder=lambda body: "It adds s.py.") as fake:
        llm = LLMAnalyzer(LLMConfig(model="gpt-4o-mini", api_key="k", base_url=fake.url))
        beta = world.ctx(BETA)
        beta.services.asker = Asker(llm, world.store)
        for ref in (secret_sha[:8], f"octo/secret@{secret_sha[:8]}"):
            reply = await handle(f"ask {ref} what does it do?", beta)
            assert reply.kind == ReplyKind.ERROR and "secret plan" not in reply.text
        assert fake.chat_requests == []  # nothing about it went to the model either
        alpha = world.ctx(ALPHA)
        alpha.services.asker = Asker(llm, world.store)
        answered = await handle(f"ask {secret_sha[:8]} what does it do?", alpha)
        assert answered.kind == ReplyKind.ANSWER, answered.text
        assert answered.text == "It adds s.py."
        assert answered.question == "what does it do?"
        await llm.aclose()
