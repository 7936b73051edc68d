"""The offline analyzer, its shared rules and noise folding, on real Commit values."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.analysis.heuristic import HeuristicAnalyzer, analyze_commit
from digest.analysis.heuristic_titles import title_guesses
from digest.analysis.noise import fold_reason, is_bot
from digest.analysis.post_rules import apply_post_rules
from digest.analysis.rules import (
    PathKind,
    area_of,
    classify_path,
    has_cjk,
    is_lockfile,
    parse_message,
)
from digest.models import (
    Analysis,
    AnalysisStatus,
    ChangeType,
    Commit,
    FileChange,
    FileStatus,
    FoldReason,
    Importance,
)
from tests.gitrepo import GitRepo

T0 = datetime(2026, 2, 5, 1, 0, tzinfo=UTC)
HIGH, MEDIUM, LOW = Importance.HIGH, Importance.MEDIUM, Importance.LOW


def fc(
    path: str,
    add: int = 10,
    dele: int = 2,
    *,
    status: FileStatus = FileStatus.MODIFIED,
    patch: str | None = None,
    binary: bool = False,
) -> FileChange:
    return FileChange(
        path=path, status=status, additions=add, deletions=dele, patch=patch, binary=binary
    )


def mk(
    message: str,
    files: list[FileChange] | tuple[FileChange, ...] = (),
    *,
    author: str = "Alice",
    login: str | None = None,
    email: str | None = None,
    parents: int = 1,
    incomplete: bool = False,
) -> Commit:
    key = message + "|" + ",".join(f.path for f in files)
    sha = hashlib.sha1(key.encode()).hexdigest()
    return Commit(
        repo="acme/widget",
        sha=sha,
        author_name=author,
        author_login=login,
        author_email=email,
        authored_at=T0,
        committed_at=T0,
        message=message,
        parents=tuple(hashlib.sha1(f"{sha}{i}".encode()).hexdigest() for i in range(parents)),
        files=tuple(files),
        files_incomplete=incomplete,
    )


def texts(a: Analysis) -> list[str]:
    """Every free text the analyzer wrote."""
    out = [a.importance_reason, a.summary, *a.recommendations]
    out += [x.note for x in a.affected_areas] + [r.risk for r in a.risks]
    out += [t for t in a.insights.model_dump().values() if t]
    return out


# --- rules: paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("src/widget/core.py", PathKind.SOURCE),
        ("lib/llm/src/kv_router/scheduler.rs", PathKind.SOURCE),
        ("docs/guide/index.md", PathKind.DOCS),
        ("docs/images/trace.png", PathKind.DOCS),
        ("README.md", PathKind.DOCS),
        ("LICENSE", PathKind.DOCS),
        ("tests/test_core.py", PathKind.TEST),
        ("pkg/server/handler_test.go", PathKind.TEST),
        ("web/src/app.spec.ts", PathKind.TEST),
        ("conftest.py", PathKind.TEST),
        ("src/main/java/com/acme/WidgetTest.java", PathKind.TEST),
        ("src/main/java/com/acme/Latest.java", PathKind.SOURCE),
        (".github/workflows/ci.yml", PathKind.CI),
        (".github/PULL_REQUEST_TEMPLATE.md", PathKind.DOCS),
        (".gitlab-ci.yml", PathKind.CI),
        ("Dockerfile", PathKind.BUILD),
        ("container/Dockerfile.vllm", PathKind.BUILD),
        ("CMakeLists.txt", PathKind.BUILD),
        ("Makefile", PathKind.BUILD),
        ("package-lock.json", PathKind.LOCKFILE),
        ("web/yarn.lock", PathKind.LOCKFILE),
        ("go.sum", PathKind.LOCKFILE),
        ("api/v1/widget_pb2.py", PathKind.GENERATED),
        ("api/widget.pb.go", PathKind.GENERATED),
        ("vendor/github.com/x/y.go", PathKind.VENDORED),
        ("third_party/zlib/inflate.c", PathKind.VENDORED),
        ("static/app.min.js", PathKind.MINIFIED),
        ("assets/logo.png", PathKind.BINARY),
        ("models/weights.safetensors", PathKind.BINARY),
        ("db/migrations/0042_add_owner.py", PathKind.MIGRATION),
        ("alembic/versions/abc123_init.py", PathKind.MIGRATION),
        ("sql/V3__add_index.sql", PathKind.MIGRATION),
        ("src/app/auth/session.py", PathKind.SECURITY),
        ("src/crypto/aes.rs", PathKind.SECURITY),
        ("internal/rbac/policy.go", PathKind.SECURITY),
        ("src/AuthService.java", PathKind.SECURITY),
        ("deploy/tls/server.pem", PathKind.SECURITY),
        ("src/author.py", PathKind.SOURCE),  # a word, not a substring
        ("src/tokenizer.py", PathKind.SOURCE),
        ("tests/auth/test_login.py", PathKind.TEST),
        ("config/app.yaml", PathKind.CONFIG),
        (".editorconfig", PathKind.CONFIG),
        ("pyproject.toml", PathKind.MANIFEST),
        ("web/package.json", PathKind.MANIFEST),
        ("requirements-dev.txt", PathKind.MANIFEST),
        ("container/deps/requirements.txt", PathKind.MANIFEST),
        ("go.mod", PathKind.MANIFEST),
        ("Cargo.toml", PathKind.MANIFEST),
    ],
)
def test_classify_path(path: str, kind: PathKind) -> None:
    assert classify_path(path) is kind


@pytest.mark.parametrize(
    "name",
    ["package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock", "Cargo.lock",
     "go.sum", "Gemfile.lock", "composer.lock", "Pipfile.lock", "flake.lock", "sub/dir/x.lock"],
)  # fmt: skip
def test_is_lockfile(name: str) -> None:
    assert is_lockfile(name)


@pytest.mark.parametrize("name", ["package.json", "lock.py", "src/locking.rs", "Cargo.toml"])
def test_is_not_lockfile(name: str) -> None:
    assert not is_lockfile(name)


def test_area_of_skips_generic_directories() -> None:
    assert area_of("lib/llm/src/kv_router/x.rs") == "lib/llm"
    assert area_of("components/src/dynamo/vllm/main.py") == "components/src/dynamo"
    assert area_of("src/widget/core.py") == "src/widget"
    assert area_of("docs/index.md") == "docs"
    assert area_of("README.md") == "README.md"


# --- rules: messages -----------------------------------------------------------------------


def test_conventional_prefix_with_scope_and_bang() -> None:
    info = parse_message("feat(api)!: drop the v1 endpoints (#812)\n\nlong body")
    assert info.declared == (ChangeType.FEATURE,)
    assert info.scope == "api"
    assert info.breaking
    assert info.subject == "drop the v1 endpoints"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("fix: x", ChangeType.BUGFIX), ("perf: x", ChangeType.PERF),
        ("refactor: x", ChangeType.REFACTOR), ("docs: x", ChangeType.DOCS),
        ("test: x", ChangeType.TEST), ("tests: x", ChangeType.TEST), ("ci: x", ChangeType.CI_BUILD),
        ("build: x", ChangeType.CI_BUILD), ("deps: x", ChangeType.DEPS),
        ("chore(deps): bump x", ChangeType.DEPS), ("build(deps): bump x", ChangeType.DEPS),
        ("style: x", ChangeType.CHORE), ("chore: x", ChangeType.CHORE),
        ("revert: x", ChangeType.REVERT), ("sec: x", ChangeType.SECURITY),
        ("security: x", ChangeType.SECURITY), ("config: x", ChangeType.CONFIG),
        ("Feat: x", ChangeType.FEATURE),
    ],
)  # fmt: skip
def test_conventional_type_mapping(title: str, expected: ChangeType) -> None:
    assert parse_message(title).declared[0] is expected


@pytest.mark.parametrize("footer", ["BREAKING CHANGE: config key renamed", "BREAKING-CHANGE: x"])
def test_breaking_footer(footer: str) -> None:
    info = parse_message(f"fix: rename config key\n\nBody text.\n\n{footer}\n")
    assert info.breaking and info.declared == (ChangeType.BUGFIX,)
    assert not parse_message("fix: x\n\nnot a BREAKING CHANGE: in prose").breaking


def test_bracket_tags_case_insensitive_and_stacked() -> None:
    info = parse_message("[bugFIX][Kernel] Fix fp8 scale overflow (#99)")
    assert info.declared == (ChangeType.BUGFIX,)
    assert info.tags == ("bugfix", "kernel")
    assert info.subject == "Fix fp8 scale overflow"
    for tag, kind in [("[Perf]", ChangeType.PERF), ("[Feature]", ChangeType.FEATURE),
                      ("[Security]", ChangeType.SECURITY), ("[Doc]", ChangeType.DOCS),
                      ("[CI]", ChangeType.CI_BUILD), ("[Misc]", ChangeType.CHORE)]:  # fmt: skip
        assert parse_message(f"{tag} something").declared == (kind,)
    assert parse_message("[BREAKING] remove flag").breaking


def test_revert_detection() -> None:
    info = parse_message('Revert "feat: add cache (#12)"\n\nThis reverts commit abc.')
    assert info.reverts == "feat: add cache (#12)"
    assert info.declared == (ChangeType.REVERT,)
    assert parse_message("Revert the thing").reverts is None
    assert parse_message("revert: feat: add cache").reverts == "feat: add cache"


def test_unknown_prefix_declares_nothing() -> None:
    info = parse_message("mm: fix page leak")
    assert (
        info.declared == () and info.conventional_type == "mm" and info.subject == "fix page leak"
    )


# --- post rules ---------------------------------------------------------------------------------


def _analysis(importance: Importance, **kw: object) -> Analysis:
    base: dict[str, object] = {
        "change_types": (ChangeType.FEATURE,),
        "importance": importance,
        "importance_reason": "Model said so.",
        "summary": "Something.",
    }
    return Analysis.model_validate({**base, **kw})


def test_post_rules_cap_docs_test_ci_only_at_medium() -> None:
    commit = mk(
        "feat: new guide", [fc("docs/guide.md"), fc("tests/test_x.py"), fc(".github/a.yml")]
    )
    capped = apply_post_rules(_analysis(HIGH), commit)
    assert capped.importance is MEDIUM and "at most medium" in capped.importance_reason
    secure = apply_post_rules(_analysis(HIGH, security_relevant=True), commit)
    assert secure.importance is HIGH


def test_post_rules_raise_breaking_security_revert() -> None:
    src = [fc("src/widget/core.py")]
    assert apply_post_rules(_analysis(LOW), mk("feat!: x", src)).importance is HIGH
    assert apply_post_rules(_analysis(LOW), mk("feat!: x", src)).breaking_change
    sec = _analysis(LOW, change_types=(ChangeType.SECURITY,))
    assert apply_post_rules(sec, mk("fix: x", src)).security_relevant
    raised = apply_post_rules(_analysis(LOW), mk('Revert "feat: x"', src), language="zh")
    assert raised.importance is MEDIUM and has_cjk(raised.importance_reason)
    high = apply_post_rules(_analysis(LOW), mk('Revert "feat!: drop v1"', src), language="zh")
    assert high.importance is HIGH and "回滚" in high.importance_reason
    zh = _analysis(LOW, importance_reason="模型这么说。", breaking_change=True)
    assert has_cjk(apply_post_rules(zh, mk("feat: x", src)).importance_reason)
    untouched = _analysis(MEDIUM)
    assert apply_post_rules(untouched, mk("fix: x", src)) == untouched


# --- the heuristic ------------------------------------------------------------------------------


def test_docs_only_feat_is_capped_at_medium() -> None:
    a = analyze_commit(mk("feat: document the new API", [fc("docs/api.md", 400, 0)]), "en")
    assert a.importance.rank <= MEDIUM.rank
    assert ChangeType.DOCS in a.change_types


def test_plain_fix_in_one_module_is_medium() -> None:
    a = analyze_commit(
        mk("fix: correct restart state (#5949)", [fc("operator/ctl/restart.go")]), "en"
    )
    assert a.importance is MEDIUM and a.change_types == (ChangeType.BUGFIX,)
    assert a.confidence == "medium"


def test_feature_in_product_source_is_high_and_in_tooling_medium() -> None:
    core = analyze_commit(mk("feat: add metrics", [fc("lib/router/metrics.rs", 200, 4)]), "en")
    tool = analyze_commit(mk("feat: add flag", [fc("benchmarks/profiler/cli.py", 200, 4)]), "en")
    assert core.importance is HIGH and tool.importance is MEDIUM


def test_security_paths_raise_to_high_unless_tiny() -> None:
    body = "".join(f"+    check_{i}(token)\n" for i in range(24))
    patch = (
        f"@@ -10,3 +10,27 @@ def login(token):\n     user = find(token)\n{body}     return user\n"
    )
    commit = mk("fix: harden the login check", [fc("src/app/auth/login.py", 24, 0, patch=patch)])
    a = analyze_commit(commit, "en")
    assert a.importance is HIGH and a.security_relevant
    assert "security-sensitive code (src/app/auth/login.py)" in a.importance_reason
    assert a.change_types == (ChangeType.BUGFIX, ChangeType.SECURITY)
    assert a.insights.security and "src/app/auth/login.py" in a.insights.security
    assert any("src/app/auth/login.py" in r for r in a.recommendations)
    tidy = "@@ -12,2 +12,2 @@ def login(token):\n-    log.info('x %s', user)\n+    log.info('user %s', user)\n"  # noqa: E501
    small = analyze_commit(
        mk("fix: tidy log line", [fc("src/app/auth/login.py", 1, 1, patch=tidy)]), "en"
    )
    assert small.importance is MEDIUM and "tiny change of 2 lines" in small.importance_reason
    assert small.security_relevant


def test_breaking_bang_and_footer_are_high() -> None:
    files = [fc("src/cli/main.py", 5, 5)]
    for msg in ("refactor(cli)!: rename --out", "refactor: x\n\nBREAKING CHANGE: --out is gone"):
        a = analyze_commit(mk(msg, files), "en")
        assert a.importance is HIGH and a.breaking_change
        assert a.risks[0].severity is HIGH


def test_a_revert_weighs_what_it_takes_back() -> None:
    big = analyze_commit(mk('Revert "feat: cache (#1)"', [fc("src/cache.py", 0, 280)]), "en")
    assert big.importance is HIGH and big.change_types[0] is ChangeType.REVERT
    assert big.importance_reason.startswith('It reverts "feat: cache (#1)", itself a high')
    assert "280 lines of product source" in big.importance_reason
    assert any("feat: cache (#1)" in r.risk for r in big.risks)
    small = analyze_commit(mk('Revert "feat: cache (#1)"', [fc("src/cache.py", 0, 80)]), "en")
    assert small.importance is MEDIUM and "do not grade high" in small.importance_reason
    declared = analyze_commit(mk('Revert "feat!: drop v1 (#2)"', [fc("src/api.py", 0, 30)]), "en")
    assert declared.importance is HIGH


def test_perf_tag_and_migration() -> None:
    files = [fc("db/migrations/0042_index.py", 30, 0), fc("src/store/query.py", 20, 10)]
    a = analyze_commit(mk("[Perf] index owner lookups", files), "en")
    assert a.change_types[0] is ChangeType.PERF
    assert a.insights.performance and a.insights.architecture
    assert "db/migrations/0042_index.py" in a.insights.architecture
    assert any("db/migrations/0042_index.py" in r for r in a.recommendations)
    assert any("0042_index" in r.risk for r in a.risks)


def test_large_cross_module_change_is_high() -> None:
    files = [fc(f"{d}/mod/x.py", 400, 50) for d in ("core", "api", "worker")]
    a = analyze_commit(mk("refactor: split the engine", files), "en")
    assert a.importance is HIGH and a.insights.architecture
    assert any("without tests" in r.risk for r in a.risks)


def test_dependency_bump_from_manifest_patch() -> None:
    patch = '@@ -3 +3 @@\n-    "httpx>=0.26",\n+    "httpx>=0.27",\n'
    a = analyze_commit(mk("Bump httpx", [fc("pyproject.toml", 1, 1, patch=patch)]), "en")
    assert a.change_types == (ChangeType.DEPS,) and a.importance is MEDIUM
    assert a.recommendations == ("Read the changelogs of httpx.",)
    assert a.risks[0].risk == (
        "Dependency versions change in pyproject.toml (httpx >=0.26 → >=0.27); behaviour may "
        "change with them."
    )
    own = '@@ -1 +1 @@\n-version = "0.1.0"\n+version = "0.2.0"\n'
    assert (
        ChangeType.DEPS
        not in analyze_commit(
            mk("release 0.2.0", [fc("pyproject.toml", 1, 1, patch=own)]), "en"
        ).change_types
    )


def test_low_rules_typo_timeout_rename_tests() -> None:
    src = [fc("src/util/proc.py", 6, 6)]
    for title in ("chore: Increase E2E 1-GPU Test Timeout", "fix: typo in error message",
                  "chore: rename terminate_existing to terminate_all"):  # fmt: skip
        assert analyze_commit(mk(title, src), "en").importance is LOW, title
    tests_only = analyze_commit(mk("test: router benchmarks", [fc("tests/test_r.py", 300)]), "en")
    assert tests_only.importance is LOW and tests_only.change_types == (ChangeType.TEST,)
    moved = fc("src/b.py", 0, 0, status=FileStatus.RENAMED)
    assert analyze_commit(mk("Move a to b", [moved]), "en").importance is LOW


def test_unprefixed_messages_have_low_confidence() -> None:
    a = analyze_commit(mk("Add retry to the uploader", [fc("src/upload.py", 40, 3)]), "en")
    assert a.confidence == "low" and a.change_types == (ChangeType.FEATURE,)
    assert a.importance is MEDIUM


def test_merge_and_empty_commits_do_not_crash() -> None:
    for commit in (mk("Merge branch 'dev'", parents=2), mk("chore: empty")):
        for lang in ("zh", "en"):
            a = analyze_commit(commit, lang)
            assert a.importance is LOW and a.summary and a.recommendations == ()
            assert a.affected_areas == ()


def test_cjk_message() -> None:
    commit = mk("fix: 修复登录超时后会话丢失的问题\n\n详细说明。", [fc("src/session/store.py")])
    zh, en = analyze_commit(commit, "zh"), analyze_commit(commit, "en")
    assert "修复登录超时" not in zh.summary + en.summary  # the title is shown beside it anyway
    assert zh.summary == "Bug修复：改动 src/session/store.py（+10/−2）。"
    assert en.summary == "Bug fix: edits src/session/store.py (+10/−2)."
    assert zh.change_types == (ChangeType.BUGFIX,)
    assert not has_cjk(en.importance_reason) and has_cjk(zh.importance_reason)


SAMPLES = [
    mk("feat(auth)!: switch to JWT sessions (#77)",
       [fc("src/auth/jwt.py", 220, 10), fc("src/api/routes.py", 30, 8), fc("README.md", 4, 1)]),
    mk("fix: handle empty payload", [fc("src/api/payload.py", 3, 1), fc("tests/test_p.py", 20)]),
    mk("[Perf] vectorise the scorer", [fc("lib/score/kernel.py", 500, 300)]),
    mk("docs: fix markdown", [fc("docs/a.md", 2, 2)]),
    mk("Bump lodash", [fc("package.json", 1, 1, patch='-"lodash": "4.17.20"\n+"lodash": "4.17.21"')]),  # noqa: E501
    mk("ci: cache wheels", [fc(".github/workflows/ci.yml", 12, 3)]),
    mk("Revert \"feat: x\"", [fc("db/migrations/0003_x.py", 0, 40), fc("src/m.py", 0, 9)],
       incomplete=True),
    mk("chore: regenerate", [fc("api/x_pb2.py", 900, 880), fc("vendor/lib/a.go", 10, 10)]),
]  # fmt: skip


@pytest.mark.parametrize("commit", SAMPLES, ids=lambda c: c.title[:24])
def test_every_field_filled_and_language_respected(commit: Commit) -> None:
    for lang in ("zh", "en"):
        a = analyze_commit(commit, lang)
        Analysis.model_validate(a.model_dump())  # within the model's limits
        assert 1 <= len(a.change_types) <= 2 and len(set(a.change_types)) == len(a.change_types)
        assert a.importance_reason and a.summary and a.confidence in ("medium", "low")
        assert 1 <= len(a.affected_areas) <= 6 and len(a.risks) <= 3
        assert len(a.recommendations) <= 3
        named = [f.path for f in commit.files] + ["lodash", "jwt"]
        assert all(any(n in r for n in named) for r in a.recommendations), a.recommendations
        sentences = re.split(r"(?<=[.。])(?:\s+|$)(?=[A-Z\u4e00-\u9fff]|$)", a.summary.strip())
        assert len([x for x in sentences if x]) <= 4, a.summary
        for text in texts(a):
            assert text.strip() and "`" not in text and "**" not in text and "](" not in text
            if lang == "en":
                assert not has_cjk(text), text
        if lang == "zh":
            assert has_cjk(a.importance_reason) and has_cjk(a.summary)
            assert all(has_cjk(t) for t in texts(a) if t is not a.summary)


def test_deterministic() -> None:
    for commit in SAMPLES:
        assert analyze_commit(commit, "zh") == analyze_commit(commit.model_copy(), "zh")


async def test_analyzer_protocol_result() -> None:
    analyzer = HeuristicAnalyzer()
    commit = SAMPLES[1]
    result = await analyzer.analyze(commit, "en")
    assert analyzer.name == "heuristic" and analyzer.fingerprint == "heuristic:v3"
    assert result.status is AnalysisStatus.OK and result.analyzer == "heuristic"
    assert result.analysis == analyze_commit(commit, "en") and result.language == "en"
    assert result.coverage is not None
    assert result.coverage.files_total == result.coverage.files_full == 2
    empty = await analyzer.analyze(mk("Merge pull request #3", parents=2), "zh")
    assert empty.status is AnalysisStatus.OK and empty.coverage is not None
    assert empty.coverage.files_total == 0


# --- noise folding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("author", "login", "email"),
    [
        ("dependabot[bot]", "dependabot[bot]", None),
        ("Renovate Bot", None, "bot@renovateapp.com"),
        ("someone", None, "49699333+dependabot[bot]@users.noreply.github.com"),
        ("github-actions[bot]", None, None),
        ("pre-commit-ci[bot]", None, None),
        ("Release Robot", "acme-release[bot]", None),
    ],
)
def test_bots_are_folded(author: str, login: str | None, email: str | None) -> None:
    commit = mk("chore: bump x", [fc("src/a.py")], author=author, login=login, email=email)
    assert fold_reason(commit) is FoldReason.BOT


def test_humans_whose_names_end_in_b_o_t_are_not_bots() -> None:
    for name in ("Jane Abbott", "Robot Wars Fan", "Bob"):
        assert not is_bot(mk("fix: x", [fc("src/a.py")], author=name))
    assert fold_reason(
        mk("fix: x", [fc("src/a.py")], author="x", login="mybot"), bot_patterns=["my*"]
    )


def test_merge_and_lockfile_only_are_folded() -> None:
    assert fold_reason(mk("Merge branch 'x'", [fc("src/a.py")], parents=2)) is FoldReason.MERGE
    locks = [fc("uv.lock", 300, 200), fc("web/package-lock.json", 10, 10)]
    assert fold_reason(mk("chore: lock", locks)) is FoldReason.LOCKFILE
    assert fold_reason(mk("chore: lock", locks, incomplete=True)) is None
    assert fold_reason(mk("chore: lock", [*locks, fc("pyproject.toml")])) is None
    assert fold_reason(mk("chore: empty")) is None
    assert fold_reason(mk("feat: x", [fc("src/a.py")])) is None


# --- a real repository ----------------------------------------------------------------------


def commit_from_git(repo: GitRepo, sha: str) -> Commit:
    """Our own small reader (the real one lives in digest/sources/git.py)."""
    meta = repo.git("show", "-s", "--format=%H%x00%an%x00%ae%x00%aI%x00%cI%x00%P%x00%B", sha)
    full, name, email, authored, committed, parents, message = meta.split("\x00", 6)
    statuses = {"A": FileStatus.ADDED, "M": FileStatus.MODIFIED, "D": FileStatus.REMOVED}
    # Against the first parent, as GitHub lists a merge's files.
    diff = ["diff", "--no-renames", f"{sha}^1", sha] if parents else ["show", "--format=", sha]
    status_of = {}
    for line in repo.git(*diff, "--name-status").splitlines():
        code, path = line.split("\t", 1)
        status_of[path] = statuses.get(code[0], FileStatus.CHANGED)
    files = []
    for line in repo.git(*diff, "--numstat").splitlines():
        add, dele, path = line.split("\t", 2)
        binary = add == "-"
        files.append(
            FileChange(
                path=path,
                status=status_of[path],
                additions=0 if binary else int(add),
                deletions=0 if binary else int(dele),
                binary=binary,
            )
        )
    return Commit(
        repo="acme/widget",
        sha=full,
        author_name=name,
        author_email=email,
        authored_at=datetime.fromisoformat(authored),
        committed_at=datetime.fromisoformat(committed),
        message=message,
        parents=tuple(parents.split()),
        files=tuple(files),
    )


def test_commits_read_from_a_real_git_repository(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    t = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)
    repo.commit("chore: init", {"README.md": "# widget\n", "src/app/api.py": "x = 1\n"}, when=t)
    login = "\n".join(f"def check_{i}(): return {i}" for i in range(40)) + "\n"
    feat = repo.commit(
        "feat(auth): add login endpoint (#12)\n\nBody.",
        {"src/app/auth/login.py": login, "src/app/api.py": "x = 2\n", "tests/test_login.py": "1\n"},
        when=t + timedelta(minutes=1),
    )
    lock = repo.commit("chore: refresh lock", {"uv.lock": "a\n"}, when=t + timedelta(minutes=2))
    docs = repo.commit(
        "fix: update tracing screenshot",
        {"docs/trace.png": b"\x89PNG\r\n\x1a\n\x00\x00binary", "docs/trace.md": "see image\n"},
        when=t + timedelta(minutes=3),
    )
    repo.checkout("topic", create=True)
    repo.commit("feat: topic work", {"src/app/topic.py": "y = 1\n"}, when=t + timedelta(minutes=4))
    repo.checkout("main")
    merge = repo.merge("topic", message="Merge branch 'topic'", when=t + timedelta(minutes=5))

    c = commit_from_git(repo, feat)
    assert c.pr_number == 12 and len(c.files) == 3 and c.additions == 42
    a = analyze_commit(c, "zh")
    assert a.importance is HIGH and a.security_relevant and a.change_types[0] is ChangeType.FEATURE
    assert a.affected_areas[0].path_or_module == "src/app/auth"
    assert a.affected_areas[0].note == "1 个文件，+40/−0"
    assert fold_reason(c) is None

    assert fold_reason(commit_from_git(repo, lock)) is FoldReason.LOCKFILE
    d = commit_from_git(repo, docs)
    assert any(f.binary for f in d.files)
    assert analyze_commit(d, "en").importance is LOW
    m = commit_from_git(repo, merge)
    assert m.is_merge and fold_reason(m) is FoldReason.MERGE
    assert [f.path for f in m.files] == ["src/app/topic.py"]
    assert analyze_commit(m, "en").importance is LOW


# --- a day like the seed's ------------------------------------------------------------------

SEED_DAY: list[tuple[str, list[FileChange]]] = [
    ("ci: Using Dynamo Builder (#5914)",
     [fc(".github/workflows/container-validation.yml", 60, 40), fc("container/build.sh", 30, 12)]),
    ("fix: ignore benchmarks pytest for now (#5983)",
     [fc("benchmarks/prefix_data_generator/tests/conftest.py", 3, 0),
      fc("benchmarks/prefix_data_generator/tests/test_roundtrip_hashes.py", 90, 0),
      fc("benchmarks/prefix_data_generator/mock_server.py", 4, 4),
      fc("container/deps/requirements.txt", 1, 1, patch="-aiperf @ git+x@0a1b2c3d\n+aiperf @ git+x@c3fc969e")]),  # noqa: E501
    ("fix: e2e aiperf profiling on NAT dataset (#5990)",
     [fc("benchmarks/nat_trace/convert.py", 80, 40), fc("benchmarks/router/common.py", 120, 0),
      fc("benchmarks/router/agent_benchmark.py", 210, 0), fc("benchmarks/router/README.md", 30, 5)]),  # noqa: E501
    ("fix: Add mpi arg to all srun commands (#5948)",
     [fc("examples/deployments/slurm/launch.sh", 8, 8)]),
    ("fix: update aiperf version (#5982)",
     [fc("container/deps/requirements.txt", 1, 1, patch="-aiperf==0.3.0\n+aiperf==0.4.0")]),
    ("feat: remove default model name in Profiler; validate for one of served model name and model path in Profiler (#5950)",  # noqa: E501
     [fc("benchmarks/profiler/utils/config_modifiers/protocol.py", 40, 12),
      fc("benchmarks/profiler/utils/config_modifiers/vllm.py", 6, 10),
      fc("benchmarks/profiler/utils/defaults.py", 0, 2)]),
    ("fix: fix for how vllm disseminates cached requests to kvbm (#5851)",
     [fc("lib/bindings/kvbm/src/block_manager/vllm/connector.rs", 40, 22),
      fc("tests/kvbm_integration/test_chunked_prefill.py", 120, 0)]),
    ("feat: use encoder cache in TRT-LLM EPD workflow (#5780)",
     [fc("components/src/dynamo/trtllm/encode_helper.py", 160, 20),
      fc("components/src/dynamo/common/lru_cache.py", 90, 0)]),
    ("feat: read prefill/decode worker counts from DGD status (#5934)",
     [fc("deploy/operator/internal/controller/dgd_status.go", 120, 30),
      fc("deploy/operator/internal/controller/dgd_status_test.go", 80, 0)]),
    ("docs: fix markdown formatting in Distributed_Inference README (#5947)",
     [fc("docs/kubernetes/Distributed_Inference/README.md", 12, 12)]),
    ("fix: treat `--tool-call-parser` and `--dyn-tool-call-parser` independently for SGLang (#5849)",  # noqa: E501
     [fc("components/src/dynamo/sglang/args.py", 25, 9)]),
    ("chore: use aiperf utils in prefix synthesizer (#5906)",
     [fc("benchmarks/prefix_data_generator/synthesizer.py", 60, 110)]),
    ("feat: introduce cuda_ipc for TRT-LLM PrefillHandler (#5773)",
     [fc("components/src/dynamo/trtllm/request_handlers/handlers.py", 140, 15)]),
    ("test: indexer and full router benchmarks (#5784)",
     [fc("lib/kv-router/benches/indexer.rs", 300, 0), fc("lib/kv-router/Cargo.toml", 8, 0)]),
    ("chore: Increase E2E 1-GPU Test Timeout (#5888)",
     [fc(".github/workflows/pre-merge.yml", 1, 1)]),
    ("fix: correct restart state for parallel restarts (#5949)",
     [fc("deploy/operator/internal/controller/restart.go", 45, 20)]),
    ("feat: Add per-worker Prometheus metrics for router load monitoring (#5842)",
     [fc("lib/llm/src/kv_router/metrics.rs", 180, 10), fc("lib/llm/src/kv_router.rs", 20, 4)]),
    ("fix: Wrap default_multimodal_input_loader in asyncio.to_thread (#5945)",
     [fc("components/src/dynamo/trtllm/multimodal_processor.py", 6, 3)]),
    ("fix: update disagg tracing screenshot and description (#5956)",
     [fc("docs/observability/tracing.md", 5, 3), fc("docs/images/disagg_trace.png", 0, 0, binary=True)]),  # noqa: E501
    ("chore: linux gate lib/memory (#5942)",
     [fc("lib/memory/src/lib.rs", 4, 1), fc("lib/memory/Cargo.toml", 2, 0)]),
    ("feat: basic vllm omni pipeline support (#5608)",
     [fc("components/src/dynamo/vllm/omni/pipeline.py", 420, 0),
      fc("components/src/dynamo/vllm/main.py", 35, 6), fc("examples/backends/vllm/omni.sh", 20, 0)]),  # noqa: E501
    ("feat: Various Mocker Perf improvements + fixes (#5808)",
     [fc("lib/mocker/src/scheduler.rs", 250, 180), fc("lib/mocker/src/kv_manager.rs", 60, 40)]),
    ("chore: rename terminate_existing to terminate_all_matching_processes (#5923)",
     [fc("tests/utils/managed_process.py", 10, 10), fc("tests/serve/test_vllm.py", 4, 4)]),
    ("docs: update support matrix with backend dependencies for Dynamo 0.9.0 + 1.0.0 (#5932)",
     [fc("docs/reference/support-matrix.md", 40, 12)]),
    ("feat: sccache metrics (#5177)",
     [fc(".github/workflows/container-validation.yml", 25, 2), fc("container/Dockerfile", 12, 3),
      fc("container/use-sccache.sh", 40, 0)]),
    ("fix: fuse unfold streams to prevent panics from poll after termination (#5872)",
     [fc("lib/runtime/src/pipeline/network/egress/push_router.rs", 30, 12),
      fc("lib/runtime/src/engine.rs", 8, 2)]),
]  # fmt: skip


def test_a_seed_like_day_has_a_minority_of_high_items() -> None:
    commits = [mk(title, files) for title, files in SEED_DAY]
    assert len(commits) == 26
    assert all(fold_reason(c) is None for c in commits)
    graded = {c.title: analyze_commit(c, "zh").importance for c in commits}
    split = Counter(graded.values())
    print(f"\nseed-like day: high {split[HIGH]}, medium {split[MEDIUM]}, low {split[LOW]}")
    assert split[HIGH] < len(commits) / 2
    assert split[HIGH] >= 1 and split[MEDIUM] >= 1 and split[LOW] >= 1
    assert graded["fix: correct restart state for parallel restarts (#5949)"] is MEDIUM
    assert graded["docs: fix markdown formatting in Distributed_Inference README (#5947)"] is LOW
    assert graded["feat: use encoder cache in TRT-LLM EPD workflow (#5780)"] is HIGH
    assert graded["chore: Increase E2E 1-GPU Test Timeout (#5888)"] is LOW


def test_smaller_rules() -> None:
    info = parse_message("[Core]: fix: scheduler stall")
    assert info.tags == ("core",) and info.declared == (ChangeType.BUGFIX,)
    cve = analyze_commit(mk("Patch CVE-2026-1234 in parser", [fc("src/parse.py", 3, 1)]), "en")
    assert cve.importance is HIGH and cve.security_relevant
    regen = analyze_commit(SAMPLES[7], "en")
    assert regen.insights.maintainability and "api/x_pb2.py" in regen.insights.maintainability
    assert regen.importance is LOW  # a chore with no hand-written code
    cut = analyze_commit(SAMPLES[6], "en")
    assert any("incomplete" in r.risk for r in cut.risks)


def test_docs_only_revert_weighs_what_it_takes_back() -> None:
    """Taking back a guide is as light as adding it: low, and never lifted past the cap."""
    a = analyze_commit(mk('Revert "docs: new guide"', [fc("docs/guide.md", 0, 90)]), "en")
    assert a.importance is LOW and a.change_types[0] is ChangeType.REVERT
    assert (
        a.importance_reason
        == 'It reverts "docs: new guide", a change these rules do not grade high.'
    )
    marked = apply_post_rules(
        _analysis(HIGH), mk('Revert "docs!: new guide"', [fc("docs/guide.md", 0, 90)])
    )
    assert marked.importance is MEDIUM  # the docs-only cap gives way to security alone


# --- titles without a conventional prefix ---------------------------------------------------

SRC = [fc("src/app/core.py", 30, 5)]
BIG = [fc("src/app/core.py", 120, 5)]
DOCS = [fc("docs/guide.md", 10, 2)]
F, B, P, R = ChangeType.FEATURE, ChangeType.BUGFIX, ChangeType.PERF, ChangeType.REFACTOR
D, C = ChangeType.DOCS, ChangeType.CHORE


@pytest.mark.parametrize(
    ("title", "files", "expected"),
    [
        ("Fix for response.reply() with tools", SRC, B), ("Fixed a crash-free edge", SRC, B),
        ("Fixes the parser", SRC, B), ("Bugfix for spacing", SRC, B),
        ("Correct the retry count", SRC, B), ("Handle empty payloads", SRC, B),
        ("Prevent double writes", SRC, B), ("Avoid a second query", SRC, B),
        ("Resolve #12", SRC, B), ("Don't execute fragments in !edit sessions", SRC, B),
        ("Add retry to the uploader", SRC, F), ("Added a cache key", SRC, F),
        ("Support HTTP/2", SRC, F), ("Implement streaming", SRC, F),
        ("Introduce a plugin registry", SRC, F), ("New image_detail option", SRC, F),
        ("Enable keep-alive", SRC, F), ("Allow -t with --system", SRC, F),
        ("service_tier option for OpenAI models", SRC, F), ("llm logs --tools flag", SRC, F),
        ("Follow redirects on attachment URLs", SRC, F),
        ("Better error from schema_dsl()", SRC, F), ("llm tools now shows toolboxes", SRC, F),
        ("Refactor the chat loop", SRC, R), ("Rename terminate_all", SRC, R),
        ("Move the import to a better spot", SRC, R), ("Simplify the loader", SRC, R),
        ("Clean up the loader", SRC, R), ("Extract a helper", SRC, R),
        ("Reorganize the CLI module", SRC, R),
        ("Speed up startup", SRC, P), ("Make parsing faster", SRC, P),
        ("Optimise the scorer", SRC, P), ("Cache parsed templates", SRC, P),
        ("Reduce memory use of the index", SRC, P), ("perf tweaks in the router", SRC, P),
        ("Document the plugin hooks", DOCS, D), ("Docs for service_tier", DOCS, D),
        ("Updated changelog", DOCS, D), ("Copy edit documentation", DOCS, D),
        ("Changelog: response_json moves", DOCS, D), ("Release notes for 0.31.1", DOCS, D),
        ("Ran cog", SRC, C), ("Format with black", SRC, C), ("Lint fixes", SRC, C),
        ("Fix mypy warning", SRC, C), ("style tweaks", SRC, C), ("Release 0.32", SRC, C),
        ("Revert the cache change", SRC, ChangeType.REVERT),
        # Chinese titles
        ("修复登录超时后会话丢失的问题", SRC, B), ("解决并发写入冲突", SRC, B),
        ("新增导出命令", SRC, F), ("支持 HTTP/2", SRC, F), ("添加重试机制", SRC, F),
        ("登录模块：支持扫码登录", SRC, F), ("改进日志输出", SRC, F),
        ("优化查询性能", SRC, P), ("重构存储层", SRC, R), ("重命名配置项", SRC, R),
        ("文档：补充安装说明", DOCS, D), ("更新文档", DOCS, D), ("格式化代码", SRC, C),
        ("回滚登录改动", SRC, ChangeType.REVERT),
    ],
)  # fmt: skip
def test_unprefixed_titles_by_their_leading_words(
    title: str, files: list[FileChange], expected: ChangeType
) -> None:
    a = analyze_commit(mk(title, files), "zh")
    assert a.change_types[0] is expected, a.change_types
    assert a.confidence == "low"


def test_title_guesses_reads_leading_words_before_words_anywhere() -> None:
    assert [g.key for g in title_guesses("Fix docs typo")][:3] == ["cosmetic", "docs", "bugfix"]
    assert title_guesses("Follow-up: tidy tests")[0].key != "feature"
    assert title_guesses("Release notes for 0.3")[0].key == "docs"
    assert title_guesses("Upgrade llm logs status")[0].key == "deps"  # the files decide
    assert title_guesses("Show options in logs")[0].key == "improve"
    assert title_guesses("A wholly opaque title") == ()


def test_the_files_check_the_title() -> None:
    """A title's guess stands only when the paths agree with it."""
    typed = {
        title: analyze_commit(mk(title, files), "en")
        for title, files in [
            ("Implement streaming", [fc("docs/streaming.md", 100, 0)]),  # docs only: docs
            ("Fix flaky retry test", [fc("tests/test_retry.py", 4, 2)]),  # tests only: test
            ("Add docs and tests", [fc("docs/a.md", 40, 0), fc("tests/test_a.py", 10, 0)]),
            ("Fix typo", [fc("src/app/errors.py", 1, 1)]),  # a typo in source: a low chore
            ("Add docs for the API", [fc("docs/api.md", 10, 1), fc("src/app/api.py", 3, 1)]),
            ("Upgrade llm logs status to handle turns", SRC),  # no manifest: not deps
            ("Upgrade httpx", [fc("pyproject.toml", 1, 1, patch='-"httpx>=0.26"\n+"httpx>=0.27"')]),
            ("Update click to >8.2.0",
             [*SRC, fc("setup.py", 1, 1, patch='-    "click",\n+    "click>8.2.0",')]),
            ("Bump version to 1.2",
             [fc("pyproject.toml", 1, 1, patch='-version = "1.1"\n+version = "1.2"')]),
            ("Upgrade to actions/checkout@v7", [fc(".github/workflows/ci.yml", 5, 5)]),
        ]
    }  # fmt: skip
    kinds = {title: (a.change_types[0], a.importance) for title, a in typed.items()}
    assert kinds == {
        "Implement streaming": (D, LOW),
        "Fix flaky retry test": (ChangeType.TEST, LOW),
        "Add docs and tests": (D, LOW),
        "Fix typo": (C, LOW),
        "Add docs for the API": (C, LOW),
        "Upgrade llm logs status to handle turns": (F, MEDIUM),
        "Upgrade httpx": (ChangeType.DEPS, MEDIUM),
        "Update click to >8.2.0": (ChangeType.DEPS, MEDIUM),
        "Bump version to 1.2": (C, LOW),
        "Upgrade to actions/checkout@v7": (ChangeType.CI_BUILD, MEDIUM),
    }
    assert "source files" in typed["Add docs for the API"].importance_reason
    assert "improvement" in typed["Upgrade llm logs status to handle turns"].importance_reason


def code(path: str, add: int, dele: int = 0, *, context: str = "def run(self):") -> FileChange:
    """A file whose patch really holds `add` added and `dele` removed body lines."""
    body = [f"-    old_{i} = {i}" for i in range(dele)] + [
        f"+    new_{i} = {i}" for i in range(add)
    ]
    patch = f"@@ -20,{dele + 1} +20,{add + 1} @@ {context}\n     start = 0\n" + "\n".join(body)
    return fc(path, add, dele, patch=patch)


def test_unprefixed_features_are_high_only_when_substantial() -> None:
    def grade(title: str, files: list[FileChange]) -> tuple[Importance, str]:
        a = analyze_commit(mk(title, files), "en")
        return a.importance, a.importance_reason

    small = [code("llm/models.py", 4, 2), code("tests/test_attachments.py", 62, 0)]
    assert grade("Follow redirects on attachment URLs (#1579)", small)[0] is MEDIUM
    assert "modest source change (6 lines)" in grade("Add retry to the uploader", small)[1]
    big = [code("llm/default_plugins/openai_models.py", 124, 18), code("tests/test_o.py", 103)]
    level, reason = grade("service_tier option for OpenAI models", big)
    assert level is HIGH and "with 142 lines of product source" in reason
    assert grade("Add retry to the uploader", [code("src/up.py", 40, 10)])[0] is MEDIUM
    level, reason = grade("Add retry to the uploader", [code("src/up.py", 240, 10)])
    assert level is HIGH and "A new capability: 250 lines of product source." in reason
    cli = [code("llm/cli.py", 38, 1)]
    titles = ("llm install --pre option", "Allow -o option when calling tools",
              "Add a --json flag", "Add transient endpoint command",
              "新增 --format 选项")  # fmt: skip
    for title in titles:
        level, reason = grade(title, cli)
        assert level is HIGH and "CLI option" in reason, title
    for title in ("Show options in Markdown logs", "Expose endpoint model capabilities",
                  "Fix endpoint ignoring --schema", "llm -c now keeps tools"):  # fmt: skip
        assert grade(title, cli)[0] is MEDIUM, title
    # A new option on a tiny diff is at most medium, and the reason says why.
    option = (
        "@@ -300,6 +300,13 @@ def cli():\n"
        ' @click.option("--upgrade", is_flag=True, help="Upgrade packages")\n'
        '-@click.option("--editable", "-e", help="Install in editable mode")\n'
        '+@click.option("--editable", "-e", help="Install a project in editable mode")\n'
        "+@click.option(\n"
        '+    "--pre",\n'
        "+    is_flag=True,\n"
        '+    help="Include pre-release and development versions",\n'
        "+)\n"
        "+@click.argument('packages', nargs=-1)\n"
        " def install(packages, upgrade, editable, pre):\n"
        "+    pre = pre or False\n"
    )
    level, reason = grade("llm install --pre option", [fc("llm/cli.py", 8, 1, patch=option)])
    assert level is MEDIUM
    assert (
        reason == "A tiny change of 9 lines (adds option --pre), so importance is at most medium."
    )
    grown = fc("llm/cli.py", 38, 1, patch=option + "".join(f"+    step_{i}()\n" for i in range(30)))
    level, reason = grade("llm install --pre option", [grown])
    assert level is HIGH
    assert (
        reason == "A public interface changed (adds option --pre), so importance is at least high."
    )
    assert grade("Add a profiler flag", [code("benchmarks/profile.py", 300, 0)])[0] is MEDIUM
    assert grade("Improve the uploader", [code("src/up.py", 400, 10)])[0] is MEDIUM
    assert grade("Fix the uploader", [code("src/up.py", 20, 10)])[0] is MEDIUM
    assert grade("Fix a crash in the uploader", [code("src/up.py", 20, 10)])[0] is HIGH
    assert grade("Fix a crash in the uploader", [code("src/up.py", 2, 1)])[0] is MEDIUM  # tiny
    assert grade("Revert the uploader change", [code("src/up.py", 2, 1)])[0] is MEDIUM


def test_unclassified_source_changes() -> None:
    """No keyword: product source with new tests, or a sizeable change, is medium."""
    tested = [fc("llm/models.py", 1, 0), fc("tests/test_serialization.py", 10, 0)]
    a = analyze_commit(mk("Response.to_dict() forces unconsumed response", tested), "en")
    assert (a.change_types, a.importance) == ((C,), MEDIUM)
    assert "with its tests" in a.importance_reason
    assert a.summary == (
        "Change: edits llm/models.py (+1/−0). Tests changed in tests/test_serialization.py."
    )
    sized = analyze_commit(mk("Persist tool configuration", [fc("llm/tools.py", 45, 5)]), "en")
    assert sized.importance is MEDIUM and "50 lines" in sized.importance_reason
    tiny = analyze_commit(mk("Persist tool configuration", [fc("llm/tools.py", 4, 1)]), "en")
    assert tiny.importance is LOW
    assert (
        analyze_commit(mk("chore: persist config", [fc("llm/t.py", 45, 5)]), "en").importance is LOW
    )


MODELS_PATCH = """\
@@ -118,9 +118,13 @@ class Attachment:
     def resolve_type(self):
         if self.type:
             return self.type
-        response = httpx.head(self.url)
-        response.raise_for_status()
+        response = httpx.head(
+            self.url, follow_redirects=True, max_redirects=MAX_REDIRECTS
+        )
+        response.raise_for_status()
+        self._check_redirects(response)
         return response.headers.get("content-type")

     def content_bytes(self):"""
TESTS_PATCH = """\
@@ -40,3 +40,11 @@ def test_attachment_type():
     attachment = Attachment(url="https://example.com/a.png")
     assert attachment.resolve_type() == "image/png"
+
+
+def test_attachment_follows_redirects(httpx_mock):
+    httpx_mock.add_response(status_code=302, headers={"location": "/b.png"})
+    httpx_mock.add_response(headers={"content-type": "image/png"})
+    attachment = Attachment(url="https://example.com/a.png")
+    assert attachment.resolve_type() == "image/png"
+    assert len(httpx_mock.get_requests()) == 2"""


def test_summaries_say_what_changed_not_the_title() -> None:
    files = [fc("llm/models.py", 6, 2, patch=MODELS_PATCH),
             fc("tests/test_attachments.py", 8, 0, patch=TESTS_PATCH)]  # fmt: skip
    commit = mk("Follow redirects (up to 3 times) on attachment URLs (#1579)", files)
    zh, en = analyze_commit(commit, "zh"), analyze_commit(commit, "en")
    assert en.summary == (
        "Feature: changes Attachment.resolve_type(). Mostly in llm/models.py (+6/−2), 2 files "
        "in all. Tests changed in tests/test_attachments.py, with new cases "
        "test_attachment_follows_redirects."
    )
    assert zh.summary == (
        "新功能：修改 Attachment.resolve_type()。主要改动在 llm/models.py（+6/−2），共 2 个文件。"
        "测试改动：tests/test_attachments.py 中新增用例 test_attachment_follows_redirects。"
    )
    assert "Follow redirects" not in en.summary and "Follow redirects" not in zh.summary
    assert en.affected_areas[0].note == "1 file, +6/−2: Attachment.resolve_type()"
    fix = analyze_commit(mk("fix: handle empty payload", [fc("src/api/payload.py", 3, 1)]), "zh")
    assert fix.summary == "Bug修复：改动 src/api/payload.py（+3/−1）。"
    kept = analyze_commit(mk("Changelog: x moves to Unreleased", DOCS), "zh")
    assert kept.summary.startswith("文档：改动 docs/guide.md")
    empty = analyze_commit(mk("Merge branch 'dev'", parents=2), "zh")
    assert empty.summary == "代码改动：提交不含文件改动。"


def test_tests_added_only_when_a_test_file_is_added() -> None:
    new_file = fc("tests/test_core.py", 80, 0, status=FileStatus.ADDED)
    a = analyze_commit(mk("Handle retries", [fc("src/app/core.py", 150, 20), new_file]), "en")
    assert a.summary.endswith("Adds the test file tests/test_core.py.")
    assert not any("without tests" in r.risk for r in a.risks)
    edited = analyze_commit(
        mk("Handle retries", [fc("src/app/core.py", 150, 20), fc("tests/test_core.py", 80, 0)]),
        "en",
    )
    assert edited.summary.endswith("Tests changed in tests/test_core.py.")
    assert "Adds the test" not in edited.summary and "added" not in edited.summary
    zh = analyze_commit(mk("Handle retries", [fc("src/app/core.py", 15, 2), new_file]), "zh")
    assert zh.summary.endswith("新增测试文件 tests/test_core.py。")
    removed = [fc("src/app/core.py", 150, 20), fc("tests/test_core.py", 0, 80)]
    assert "Adds" not in analyze_commit(mk("Handle retries", removed), "en").summary
    bare = analyze_commit(mk("Handle retries", [fc("src/app/core.py", 90, 11)]), "en")
    assert [(r.risk, r.severity) for r in bare.risks] == [
        ("101 code lines changed without tests.", MEDIUM)
    ]
    assert bare.recommendations == ("Add tests covering src/app/core.py.",)
    edge = analyze_commit(mk("Handle retries", [fc("src/app/core.py", 90, 10)]), "en")
    assert edge.risks == ()  # 100 lines: not more than 100
    black = analyze_commit(mk("Ran black", [fc("src/app/core.py", 300, 300)]), "en")
    assert black.importance is LOW and black.risks == ()
    docs_only = analyze_commit(mk("Docs", [fc("docs/a.md", 500, 0), fc("README.md", 9)]), "zh")
    assert "测试" not in docs_only.summary


def test_keyword_revert_names_what_it_reverts() -> None:
    a = analyze_commit(mk("Revert the cache change", [fc("src/cache.py", 0, 40)]), "en")
    assert a.importance is MEDIUM and a.change_types[0] is ChangeType.REVERT
    assert a.risks[0].risk == 'Reverts "the cache change"; code built on it may break.'
    zh = analyze_commit(mk("回滚会话改动", [fc("src/session.py", 0, 40)]), "zh")
    assert zh.importance is MEDIUM and "回滚了「会话改动」" in zh.risks[0].risk
    assert "回滚了「会话改动」" in zh.importance_reason


SIMONW_DAY: list[tuple[str, list[FileChange]]] = [
    ("Fix for response.reply() with tools returning attachments",
     [fc("llm/models.py", 10, 32), fc("tests/test_parts.py", 78, 0)]),
    ("Rebuild response._tool_calls from parts",
     [fc("llm/models.py", 32, 6), fc("tests/test_serialization.py", 51, 0)]),
    ("Response.to_dict() forces unconsumed response",
     [fc("llm/models.py", 1, 0), fc("tests/test_serialization.py", 10, 0)]),
    ("Upgrade llm logs status to handle turns as well",
     [fc("docs/logging.md", 2, 2), fc("llm/cli.py", 7, 2), fc("tests/test_llm_logs.py", 17, 0)]),
    ("Fix condensed typo", [fc("docs/changelog.md", 1, 1)]),
    ("Updated changelog, refs #1588, #1579, #1585", [fc("docs/changelog.md", 3, 0)]),
    ("Fixed Anthropic example in intro", [fc("README.md", 1, 1), fc("docs/index.md", 1, 1)]),
    ("Project news section of README and docs index",
     [fc("README.md", 18, 11), fc("docs/index.md", 18, 11)]),
    ("Follow redirects (up to 3 times) on attachment URLs (#1579)",
     [fc("llm/models.py", 4, 2), fc("tests/test_attachments.py", 62, 0)]),
    ("Fix llm openai endpoint ignoring --schema when template also defines schema_object",
     [fc("llm/default_plugins/openai_models.py", 1, 1), fc("tests/test_openai_endpoint.py", 50, 5)]),  # noqa: E501
    ("Simplified docs for service_tier, refs #1585", [fc("docs/openai-models.md", 1, 12)]),
    ("service_tier option for OpenAI models",
     [fc("README.md", 1, 0), fc("docs/openai-models.md", 31, 0), fc("docs/usage.md", 41, 0),
      fc("llm/default_plugins/openai_models.py", 124, 18),
      fc("tests/test_openai_responses.py", 103, 0)]),
    ("Trimmed some long comments", [fc("llm/default_plugins/openai_models.py", 3, 19)]),
    ("Copy edit documentation and changelog",
     [fc("docs/changelog.md", 3, 3), fc("docs/logging.md", 4, 4),
      fc("docs/plugins/advanced-model-plugins.md", 5, 10)]),
    ("Ran cog", [fc("README.md", 1, 0)]),
    ("Document json_replacements for plugin authors",
     [fc("docs/changelog.md", 1, 1), fc("docs/logging.md", 1, 1),
      fc("docs/plugins/advanced-model-plugins.md", 36, 0)]),
    ("Changelog: response_json work moves to the Unreleased section",
     [fc("docs/changelog.md", 4, 1)]),
    ("OpenAI boilerplate dictionaries for payload condensing",
     [fc("docs/changelog.md", 1, 1), fc("llm/default_plugins/openai_models.py", 96, 1)]),
    ("Structural payload condensing via condense-json 1.1",
     [fc("docs/logging.md", 2, 0), fc("llm/logs.py", 107, 16),
      fc("pyproject.toml", 1, 1, patch='-    "condense-json>=1.0",\n+    "condense-json>=1.1",'),
      fc("tests/test_logs_store.py", 150, 0)]),
    # and a few Chinese titles, as a team writing in Chinese would
    ("修复登录超时后会话丢失的问题", [fc("src/session/store.py", 12, 4), fc("tests/test_store.py", 30)]),  # noqa: E501
    ("新增导出命令 --format 选项", [fc("src/cli/export.py", 80, 0)]),
    ("更新安装文档", [fc("docs/install.md", 20, 8)]),
    ("优化查询缓存", [fc("src/store/query.py", 40, 22)]),
]  # fmt: skip


def test_an_unprefixed_day_has_a_minority_of_high_items() -> None:
    """A day from a project without conventional prefixes (simonw/llm, 2026-08-03)."""
    commits = [mk(title, files) for title, files in SIMONW_DAY]
    graded = {c.title: analyze_commit(c, "zh") for c in commits}
    split = Counter(a.importance for a in graded.values())
    print(f"\nunprefixed day: high {split[HIGH]}, medium {split[MEDIUM]}, low {split[LOW]}")
    assert split[HIGH] < len(commits) / 2
    assert (split[HIGH], split[MEDIUM], split[LOW]) == (2, 10, 11)
    level = {title: (a.change_types[0], a.importance) for title, a in graded.items()}
    assert level["service_tier option for OpenAI models"] == (F, HIGH)
    assert level["Follow redirects (up to 3 times) on attachment URLs (#1579)"] == (F, MEDIUM)
    assert level["Fix for response.reply() with tools returning attachments"] == (B, MEDIUM)
    assert level["Upgrade llm logs status to handle turns as well"] == (F, MEDIUM)
    assert level["Trimmed some long comments"] == (C, LOW)
    assert level["Ran cog"] == (D, LOW)
    assert level["新增导出命令 --format 选项"] == (F, HIGH)
    assert level["优化查询缓存"] == (P, MEDIUM)
    # No prefix and no diff to read: low confidence; a diff the reader understood: medium.
    read = "Structural payload condensing via condense-json 1.1"
    assert all(a.confidence == "low" for title, a in graded.items() if title != read)
    assert graded[read].confidence == "medium"
    for commit in commits:
        a = graded[commit.title]
        assert has_cjk(a.summary) and commit.title not in a.summary
