"""The tree tells the story: the import rules between packages, module sizes, bot/'s top level.

Every `import` and `from ... import` is read with `ast`, also those inside functions (the lazy
imports that keep the CLI fast), so a rule cannot be broken by moving an import into a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400

# package -> the packages it must never import (prefixes of dotted module names).
PLATFORMS = ("bot.slack", "bot.feishu")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "digest": ("bot",),
    "bot.store": ("bot.chat", "bot.delivery", "bot.ops", "bot.web", "bot.wiring", *PLATFORMS),
    "bot.delivery": ("bot.chat", "bot.web", "bot.wiring", *PLATFORMS),
    "bot.ops": ("bot.web", "bot.wiring", *PLATFORMS),
    "bot.chat": ("bot.web", *PLATFORMS),
    "bot.slack": ("bot.feishu", "bot.web"),
    "bot.feishu": ("bot.slack", "bot.web"),
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of everything `path` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from bot import web` imports bot.web: name each imported member as well.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path, rules: dict[str, tuple[str, ...]] = FORBIDDEN) -> list[str]:
    """Every import under `root` that its package's rule forbids, as `file:line imports name`."""
    found: list[str] = []
    for top in ("digest", "bot"):
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(path, root)
            for package, banned in rules.items():
                if not _within(module, package):
                    continue
                for line, name in imported(path, module):
                    if any(_within(name, prefix) for prefix in banned):
                        where = path.relative_to(root)
                        found.append(f"{where}:{line} imports {name} ({package} must not)")
    return found


def test_no_package_imports_what_its_rule_forbids() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("where", "line", "rule"),
    [
        ("digest/models_extra.py", "from bot.store.records import Target", "digest"),
        ("bot/slack/extra.py", "def f():\n    from bot.feishu import cards", "bot.slack"),
        ("bot/feishu/extra.py", "import bot.slack.blocks", "bot.feishu"),
        ("bot/store/extra.py", "from bot.slack import poster", "bot.store"),
        ("bot/store/extra.py", "from ..feishu.cards import digest_cards", "bot.store"),
        ("bot/delivery/extra.py", "from bot import web", "bot.delivery"),
    ],
)
def test_the_check_fails_on_a_forbidden_import(
    tmp_path: Path, where: str, line: str, rule: str
) -> None:
    # A copy of the tree's shape with one file that breaks a rule.
    for package in ("digest", "bot", "bot/slack", "bot/feishu", "bot/store", "bot/delivery"):
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text('"""x"""\n')
    (tmp_path / where).write_text(line + "\n")
    found = violations(tmp_path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{where}:") and f"({rule} must not)" in found[0]


def test_no_module_is_longer_than_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for top in ("digest", "bot")
        for path in (ROOT / top).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_bot_top_level_holds_the_entry_point_and_subpackages() -> None:
    modules = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    assert len(modules) <= 3, modules
    for package in (p for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists()):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"{package.name}/__init__.py says what lives there"
