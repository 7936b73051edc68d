"""What the heuristic writes: summaries that say what changed, and risks and suggestions that
stand on a symbol or file of the commit, never boilerplate (issue 16, items 2 to 4)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import UTC, datetime

from digest.analysis.heuristic import analyze_commit
from digest.analysis.rules import has_cjk
from digest.models import Commit, FileChange, FileStatus, Importance

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def raw(path: str, patch: str, status: FileStatus = FileStatus.MODIFIED) -> FileChange:
    lines = patch.splitlines()
    add = sum(ln.startswith("+") for ln in lines)
    dele = sum(ln.startswith("-") for ln in lines)
    return FileChange(path=path, status=status, additions=add, deletions=dele, patch=patch)


def body(n: int, indent: str = "    ") -> str:
    return "".join(f"+{indent}step_{i}(value)\n" for i in range(n))


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


REMOVED = (
    "@@ -10,12 +10,3 @@ def compute_tax(amount, region):\n     return 0\n \n \n"
    "-def legacy_price(item):\n"
    + "".join(f"-    part_{i} = item.get('p{i}')\n" for i in range(8))
    + "-    return item['price']\n"
)
STILL_USED = "@@ -1,3 +1,3 @@\n from shop.pricing import legacy_price\n-x = 1\n+x = 2\n"


def test_a_removed_public_symbol_names_its_old_callers() -> None:
    commit = mk(
        "Remove legacy_price", raw("shop/pricing.py", REMOVED), raw("shop/report.py", STILL_USED)
    )
    a = analyze_commit(commit, "en")
    assert a.importance is Importance.HIGH
    assert a.risks[0].risk == (
        "Removes the public function legacy_price(); this commit still names it in shop/report.py."
    )
    assert a.risks[0].severity is Importance.HIGH
    assert "Update the remaining uses of legacy_price() in shop/report.py." in a.recommendations
    zh = analyze_commit(commit, "zh")
    assert "legacy_price()" in zh.risks[0].risk and "shop/report.py" in zh.risks[0].risk
    alone = analyze_commit(mk("Remove legacy_price", raw("shop/pricing.py", REMOVED)), "en")
    assert alone.risks[0].risk.endswith(
        "no caller in this commit, so callers elsewhere will break."
    )
    assert "Search for callers of legacy_price() outside this commit before release." in (
        alone.recommendations
    )


def test_a_changed_default_names_the_key_and_the_values() -> None:
    yaml = "@@ -1,4 +1,4 @@\n server:\n-  port: 8080\n+  port: 9090\n   workers: 4\n" + "".join(
        f"+  note_{i}: x\n" for i in range(10)
    )
    a = analyze_commit(mk("Move the default port", raw("config/default.yaml", yaml)), "en")
    assert a.importance is Importance.HIGH
    assert any(
        r.risk == "The default of server.port changes from 8080 to 9090 (config/default.yaml); "
        "users relying on it get new behaviour."
        for r in a.risks
    )
    assert "Note the new default of server.port (9090) in the release notes." in a.recommendations
    assert "server.port" in a.summary and "8080" in a.summary


def test_new_and_major_dependencies_are_named() -> None:
    deps = (
        '@@ -3,2 +3,3 @@ dependencies = [\n-    "pydantic>=1.10",\n+    "pydantic>=2.5",\n'
        '+    "rich>=13.7",\n ]\n'
    )
    commit = mk(
        "deps",
        raw("pyproject.toml", deps),
        raw("shop/models.py", "@@ -1,1 +1,11 @@ class M:\n" + body(10)),
    )
    a = analyze_commit(commit, "en")
    risks = [r.risk for r in a.risks]
    assert (
        "pydantic crosses a major version (>=1.10 → >=2.5) in pyproject.toml; expect breaking changes."  # noqa: E501
        in risks
    )
    assert "Adds the dependency rich in pyproject.toml." in risks
    assert "Read the changelog of pydantic from >=1.10 to >=2.5." in a.recommendations
    assert "Check the licence and upkeep of the new dependency rich." in a.recommendations


def test_largest_change_advice_only_for_three_files_of_a_sizeable_change() -> None:
    a = raw("shop/a.py", "@@ -1,1 +1,41 @@ def a():\n" + body(40))
    b = raw("shop/b.py", "@@ -1,1 +1,11 @@ def b():\n" + body(10))
    c = raw("shop/c.py", "@@ -1,1 +1,6 @@ def c():\n" + body(5))
    assert analyze_commit(mk("Tidy", a, b), "en").recommendations == ()
    assert analyze_commit(mk("Tidy", a, b, c), "en").recommendations == (
        "Start the review with shop/a.py (+40/−0), the largest change.",
    )
    small = [raw(f"shop/{n}.py", f"@@ -1,1 +1,2 @@ def {n}():\n" + body(1)) for n in "xyz"]
    assert analyze_commit(mk("Tidy", *small), "en").recommendations == ()  # 3 lines in all


DAY = [
    mk(
        "feat: dry runs",
        raw(
            "shop/cli.py",
            '@@ -10,1 +10,3 @@ def build_parser():\n+    parser.add_argument("--dry-run", action="store_true")\n'  # noqa: E501
            + body(12),
        ),
    ),
    mk(
        "fix: empty carts",
        raw("shop/cart.py", "@@ -20,1 +20,16 @@ def checkout(cart):\n" + body(15)),
    ),
    mk(
        "perf: cache prices",
        raw("shop/pricing.py", "@@ -5,1 +5,31 @@ def lookup(sku):\n" + body(30)),
    ),
    mk(
        "docs: usage",
        raw("docs/usage.md", "@@ -1,1 +1,5 @@\n # Usage\n+## Dry runs\n+\n+Run it.\n+\n"),
    ),
    mk(
        "test: carts",
        raw(
            "tests/test_cart.py",
            "@@ -1,1 +1,4 @@\n+def test_empty():\n+    assert True\n+\n",
            FileStatus.MODIFIED,
        ),
    ),
    mk(
        "ci: 3.13",
        raw(
            ".github/workflows/ci.yml",
            "@@ -3,1 +3,1 @@ jobs:\n-      python: ['3.12']\n+      python: ['3.12', '3.13']\n",
        ),
    ),
    mk(
        "refactor: split report",
        raw("shop/report.py", "@@ -1,1 +1,41 @@ def report():\n" + body(40)),
        raw("shop/rows.py", "@@ -1,1 +1,11 @@ def rows():\n" + body(10)),
    ),
    mk(
        "fix(auth): expiry",
        raw("shop/auth/tokens.py", "@@ -9,1 +9,21 @@ def verify(token):\n" + body(20)),
    ),
]


def _template(text: str, commit: Commit) -> str:
    """The sentence with the commit's own names taken out: what would repeat as boilerplate."""
    for f in commit.files:
        text = text.replace(f.path, "<path>")
    return re.sub(r"[\w.]+\(\)", "<symbol>", text)


def test_no_advice_repeats_on_every_commit_of_a_day() -> None:
    for lang in ("en", "zh"):
        analyses = [(c, analyze_commit(c, lang)) for c in DAY]
        templates = Counter(
            _template(rec, c) for c, a in analyses for rec in dict.fromkeys(a.recommendations)
        )
        assert all(n <= len(DAY) // 2 for n in templates.values()), templates
        for c, a in analyses:
            assert a.summary != c.title and c.title not in a.summary
            assert has_cjk(a.summary) == (lang == "zh")


def test_summaries_name_what_changed_in_both_languages() -> None:
    dry = DAY[0]
    en, zh = analyze_commit(dry, "en"), analyze_commit(dry, "zh")
    assert en.summary.startswith("Feature: adds option --dry-run; changes build_parser().")
    assert zh.summary.startswith("新功能：新增命令行选项 --dry-run；修改 build_parser()。")
    assert en.importance_reason == (
        "A public interface changed (adds option --dry-run), so importance is at least high."
    )
    assert (
        zh.importance_reason == "公共接口发生变化（新增命令行选项 --dry-run），重要程度至少为高。"
    )
    assert en.affected_areas[0].note.endswith(": --dry-run, build_parser()")
