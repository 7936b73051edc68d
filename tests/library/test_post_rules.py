"""The importance post-rules: one table of lifts and caps every analyzer's answer goes through,
each rule's reason naming it, pull-request labels included (issue 15's item 5)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from digest.analysis.heuristic import analyze_commit
from digest.analysis.post_rules import RULES, apply_post_rules, decide, normalise_label, signals
from digest.analysis.rules import has_cjk
from digest.models import Analysis, ChangeType, Commit, FileChange, FileStatus, Importance

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HIGH, MEDIUM, LOW = Importance.HIGH, Importance.MEDIUM, Importance.LOW


def code(path: str, n: int, *, context: str = "def run(self):") -> FileChange:
    """A file whose patch adds n real lines to a function body."""
    body = "".join(f"+    step_{i}(value)\n" for i in range(n))
    patch = f"@@ -20,2 +20,{n + 2} @@ {context}\n     value = load()\n{body}     return value\n"
    return FileChange(path=path, status=FileStatus.MODIFIED, additions=n, patch=patch)


def raw(path: str, patch: str, status: FileStatus = FileStatus.MODIFIED) -> FileChange:
    lines = patch.splitlines()
    add = sum(ln.startswith("+") for ln in lines)
    dele = sum(ln.startswith("-") for ln in lines)
    return FileChange(path=path, status=status, additions=add, deletions=dele, patch=patch)


def mk(message: str, *files: FileChange) -> Commit:
    key = message + "".join(f.path + (f.patch or "") for f in files)
    return Commit(
        repo="acme/shop",
        sha=hashlib.sha1(key.encode()).hexdigest(),
        author_name="Ada",
        authored_at=T0,
        committed_at=T0,
        message=message,
        files=files,
    )


def answer(
    importance: Importance, reason: str = "The model's reason.", *, security_relevant: bool = False
) -> Analysis:
    base: dict[str, object] = {
        "change_types": (ChangeType.FEATURE,),
        "importance": importance,
        "importance_reason": reason,
        "summary": "What the model said.",
    }
    return Analysis.model_validate({**base, "security_relevant": security_relevant})


OPTION = (
    "@@ -10,2 +10,{n} @@ def build_parser():\n"
    '     parser = argparse.ArgumentParser()\n+    parser.add_argument("--dry-run", action="store_true")\n'  # noqa: E501
)


def with_option(extra: int) -> FileChange:
    body = "".join(f"+    check_{i}(parser)\n" for i in range(extra))
    return raw("shop/cli.py", OPTION.format(n=extra + 2) + body + "     return parser\n")


# --- every rule fires and says so --------------------------------------------------------------


CASES = [
    # (rule, commit, analyzer's grade, expected grade, words in the en reason)
    ("formatting_only", mk("style: black", raw("shop/a.py", "@@ -3,1 +3,4 @@ def f():\n-    g(a, b)\n+    g(\n+        a, b,\n+    )\n")),  # noqa: E501
     HIGH, LOW, "Formatting or comments only"),
    ("rename_only", mk("rename", raw("shop/a.py", "@@ -1,4 +1,4 @@\n-def _fmt(x):\n+def _money(x):\n     return x\n-y = _fmt(1)\n+y = _money(1)\n")),  # noqa: E501
     HIGH, LOW, "Only renames or moves (_fmt → _money)"),
    ("peripheral_only", mk("feat: guide", code("docs/guide.md", 30), code("tests/test_a.py", 30)),
     HIGH, MEDIUM, "Docs, test or CI-only change"),
    ("tiny", mk("feat: median", code("shop/report.py", 3)), HIGH, MEDIUM, "A tiny change of 3 lines"),  # noqa: E501
    ("breaking_marker", mk("refactor!: rename the export", code("shop/a.py", 30)), LOW, HIGH,
     "The message declares a breaking change"),
    ("security_declared", mk("fix: CVE-2026-0001 in the parser", code("shop/parse.py", 30)), LOW, HIGH,  # noqa: E501
     "Declared a security fix or names a vulnerability"),
    ("security_path", mk("fix: tokens", code("shop/auth/tokens.py", 30)), LOW, HIGH,
     "security-sensitive code (shop/auth/tokens.py)"),
    ("interface", mk("feat: dry runs", with_option(20)), LOW, HIGH,
     "A public interface changed (adds option --dry-run)"),
    ("major_dependency", mk("deps: pydantic 2", raw("pyproject.toml", '@@ -3,1 +3,1 @@\n-    "pydantic>=1.10",\n+    "pydantic>=2.5",\n'), code("shop/models.py", 20)),  # noqa: E501
     LOW, HIGH, "The dependency pydantic crosses a major version (>=1.10 → >=2.5)"),
    ("revert_of_high", mk('Revert "feat!: drop v1"\n\nThis reverts commit 1234567.', code("shop/api.py", 30)),  # noqa: E501
     LOW, HIGH, "It reverts a change declared breaking or security-relevant"),
    ("revert", mk('Revert "feat: colours"', code("shop/report.py", 30)), LOW, MEDIUM,
     "It reverts an earlier commit, so importance is at least medium"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "commit", "given", "expected", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_each_rule_moves_the_grade_and_names_itself(
    rule: str, commit: Commit, given: Importance, expected: Importance, words: str
) -> None:
    s = signals(commit)
    level, fired = decide(given, s)
    assert fired is not None and fired.key == rule and level is expected
    en = apply_post_rules(answer(given), commit, language="en")
    zh = apply_post_rules(answer(given), commit, language="zh")
    assert en.importance is expected and words in en.importance_reason
    assert zh.importance is expected and has_cjk(zh.importance_reason)
    assert en.importance_reason != zh.importance_reason


def test_the_rules_are_a_table() -> None:
    keys = [r.key for r in RULES]
    assert len(keys) == len(set(keys))
    caps = {r.key for r in RULES if not r.lift}
    assert caps == {
        "formatting_only",
        "rename_only",
        "peripheral_only",
        "documentation_label",
        "tiny",
    }
    lifts = {r.key for r in RULES if r.lift}
    assert {y for r in RULES for y in r.yields_to} <= lifts  # caps give way to lifts only


# --- which wins --------------------------------------------------------------------------------


def test_caps_and_lifts_resolve_by_the_table() -> None:
    def grade(c: Commit, given: Importance = LOW, security_relevant: bool = False) -> Importance:
        return apply_post_rules(answer(given, security_relevant=security_relevant), c).importance

    # A tiny change stays medium even in auth code or on a public interface...
    assert grade(mk("fix: tokens", code("shop/auth/tokens.py", 4))) is MEDIUM
    assert grade(mk("feat: dry runs", with_option(2))) is MEDIUM
    # ...but not when declared breaking.
    assert grade(mk("feat!: dry runs by default", with_option(2))) is HIGH
    # Docs-only: the cap beats a breaking marker, and gives way to security alone.
    docs = code("docs/guide.md", 40)
    assert grade(mk("docs!: rewrite", docs), HIGH) is MEDIUM
    assert grade(mk("docs: rewrite", docs), HIGH, security_relevant=True) is HIGH
    # Formatting-only code in an auth module is low; a declared security change is not.
    wrapped = "".join(f"+        arg_{i},\n" for i in range(10))
    flat = ", ".join(f"arg_{i}" for i in range(10))
    fmt = raw(
        "shop/auth/tokens.py",
        f"@@ -3,1 +3,12 @@ def f():\n-    g({flat})\n+    g(\n{wrapped}+    )\n",
    )
    assert grade(mk("style: black", fmt), HIGH) is LOW
    assert grade(mk("security: reformat the CVE-2026-2 fix", fmt), LOW) is HIGH
    small = raw(
        "shop/auth/tokens.py",
        "@@ -3,1 +3,4 @@ def f():\n-    g(a, b)\n+    g(\n+        a, b,\n+    )\n",
    )
    assert grade(mk("security: reformat the CVE-2026-2 fix", small), LOW) is MEDIUM  # tiny


def test_the_analyzers_reason_stands_when_nothing_moves_it() -> None:
    given = answer(MEDIUM, "The model explains its grade.", security_relevant=False)
    kept = apply_post_rules(given, mk("fix: the uploader", code("shop/upload.py", 30)))
    assert kept == given
    high = apply_post_rules(answer(HIGH), mk("feat: dry runs", with_option(20)))
    assert high.importance is HIGH and high.importance_reason == "The model's reason."


def test_flags_from_the_message_and_labels_are_kept() -> None:
    out = apply_post_rules(answer(LOW), mk("feat!: x", code("shop/a.py", 30)))
    assert out.breaking_change and out.importance is HIGH
    sec = apply_post_rules(
        answer(LOW), mk("fix: x", code("shop/a.py", 30)), labels=frozenset({"security"})
    )
    assert sec.security_relevant


# --- pull-request labels (issue 15, item 5) ------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "words"),
    [("breaking", "labelled breaking"), ("type: Breaking Change", "labelled type: Breaking Change"),
     ("security", "labelled security"), ("kind/security", "labelled kind/security")],
)  # fmt: skip
def test_breaking_and_security_labels_lift_to_high(label: str, words: str) -> None:
    commit = mk("fix: the exporter", code("shop/export.py", 30))
    out = apply_post_rules(answer(MEDIUM), commit, language="en", labels=frozenset({label}))
    assert out.importance is HIGH and words in out.importance_reason
    zh = apply_post_rules(answer(MEDIUM), commit, language="zh", labels=frozenset({label}))
    assert "标签" in zh.importance_reason and label in zh.importance_reason


def test_a_lone_documentation_label_caps_at_medium() -> None:
    commit = mk("Explain the exporter", code("shop/export.py", 30))
    capped = apply_post_rules(answer(HIGH), commit, labels=frozenset({"documentation"}))
    assert capped.importance is MEDIUM
    assert capped.importance_reason == (
        "The pull request is labelled documentation only, so at most medium."
    )
    for labels in ({"documentation", "bug"}, {"documentation", "breaking"}):
        assert apply_post_rules(answer(HIGH), commit, labels=frozenset(labels)).importance is HIGH
    docs_sec = apply_post_rules(
        answer(MEDIUM), commit, labels=frozenset({"docs", "security"}), language="en"
    )
    assert docs_sec.importance is HIGH and "labelled security" in docs_sec.importance_reason


def test_label_normalisation() -> None:
    assert normalise_label("type: Breaking Change") == "breaking change"
    assert normalise_label("kind/security") == "security"
    assert normalise_label("📖 documentation") == "documentation"
    assert normalise_label("area/auth") == "auth"


def test_the_heuristic_goes_through_the_same_rules() -> None:
    commit = mk("feat: dry runs", with_option(20))
    a = analyze_commit(commit, "en")
    assert a.importance is HIGH and a.importance_reason.startswith("A public interface changed")
    assert apply_post_rules(a, commit, language="en") == a  # idempotent
    labelled = apply_post_rules(a, commit, labels=frozenset({"documentation"}))
    assert labelled.importance is MEDIUM
