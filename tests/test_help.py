"""The help matches the code: every subcommand's `--help` (its usage line and its options
list, which argparse builds from the parser itself) against the README's synopsis, both ways,
choices included; and the chat's `help` against the README's command block."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.chat.commands import USAGE, with_prefix
from bot.chat.execute import handle
from bot.chat.replies import Context, Services
from bot.cli import main
from bot.ops.settings import Settings
from bot.store.records import Target
from digest.analysis.heuristic import HeuristicAnalyzer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SUBCOMMANDS = [("report",), ("show",), ("ask",), ("chat",), ("serve",), ("db", "upgrade")]


@dataclass(frozen=True)
class Option:
    """One option: its names (`-o`, `--output`) and its choices, if it has any."""

    names: frozenset[str]
    choices: frozenset[str] | None


def code_blocks(text: str) -> list[str]:
    """The README's fenced code blocks, in order (a fence line opens or closes one)."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def help_text(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--help"], stdout=out, stderr=err, env_file=None)
    assert code == 0 and err.getvalue() == "", err.getvalue()
    return out.getvalue()


def listed_options(text: str) -> list[Option]:
    """The entries of argparse's options section: `  -o FILE, --output FILE   help`."""
    found = []
    section = text.split("\noptions:\n", 1)[1]
    for line in section.splitlines():
        if not line.startswith("  -"):
            continue
        spec = re.split(r"\s{2,}", line.strip())[0]
        names = frozenset(re.findall(r"(?:^|, )(--?[\w-]+)", spec))
        choices = re.search(r"\{([^}]*)\}", spec)
        found.append(Option(names, frozenset(choices[1].split(",")) if choices else None))
    return [option for option in found if "--help" not in option.names]


def synopsis_options(synopsis: str) -> dict[str, frozenset[str] | None]:
    """`[--lang zh|en]` -> {"--lang": {"zh", "en"}}; `[-o FILE]` -> {"-o": None}."""
    found: dict[str, frozenset[str] | None] = {}
    for name, argument in re.findall(
        r"(?<![\w-])(--?[a-z][\w-]*)(?: ([^\s\[\]|]+(?:\|[^\s\[\]|]+)*))?", synopsis
    ):
        found[name] = frozenset(argument.split("|")) if "|" in argument else None
    return found


def usage_line(text: str) -> str:
    return " ".join(text.split("\n\n", 1)[0].removeprefix("usage: ").split())


def readme_synopsis(command: str) -> str:
    """The README's code-block synopsis that starts with `digest <command>`, joined."""
    for block in code_blocks(README):
        if block.startswith(f"digest {command} ") or block.strip() == f"digest {command}":
            return " ".join(block.split())
    raise AssertionError(f"the README has no synopsis of `digest {command}`")


@pytest.mark.parametrize("argv", SUBCOMMANDS, ids=" ".join)
def test_each_help_lists_what_the_readme_and_its_usage_line_say(argv: tuple[str, ...]) -> None:
    text = help_text(*argv)
    usage = usage_line(text)
    assert usage == readme_synopsis(" ".join(argv)), "the usage line is the README's synopsis"
    listed = listed_options(text)
    mentioned = synopsis_options(usage)
    for option in listed:  # parser -> synopsis
        names = option.names & set(mentioned)
        assert names, f"{sorted(option.names)} of `{' '.join(argv)}` is not in the synopsis"
        for name in names:
            assert mentioned[name] == option.choices, (name, mentioned[name], option.choices)
    for name in mentioned:  # synopsis -> parser
        assert any(name in option.names for option in listed), f"{name} is not an option"


def test_the_top_level_lists_the_readme_commands_and_the_version() -> None:
    text = help_text()
    listed = set(re.findall(r"^    (\w+)\s", text, re.MULTILINE))
    assert listed == {argv[0] for argv in SUBCOMMANDS}
    assert {n for o in listed_options(text) for n in o.names} == {"--version"}
    assert "`digest --version`" in README
    db = help_text("db")
    assert "upgrade" in db and "apply pending migrations" in db
    assert help_text("db", "upgrade") != db  # `db upgrade --help` is its own


def test_each_subcommand_has_its_own_description() -> None:
    serve = help_text("serve")
    assert "Slack" in serve and "Feishu" in serve
    assert "REPO" in help_text("chat") and "--user NAME" in help_text("chat")


def readme_chat_commands() -> list[str]:
    """The README's chat block (the one that starts `help [command]`): each command's usage,
    continuation lines that open with `[` joined on, descriptions dropped."""
    block = next(b for b in code_blocks(README) if b.startswith("help"))
    entries: list[str] = []
    for line in block.splitlines():
        text = line.strip()
        if not line.startswith(" "):
            entries.append(re.split(r"\s{3,}", text)[0])
        elif text.startswith("["):
            entries[-1] += " " + re.split(r"\s{3,}", text)[0]
    return [" ".join(entry.split()) for entry in entries]


def test_the_chat_help_lists_every_command_as_the_readme_does(tmp_path: Path) -> None:
    services = Services(
        settings=Settings(_env_file=None),
        store=None,  # type: ignore[arg-type]  # help touches no store
        open_source=lambda name: pytest.fail("help opens no repository"),
        analyzer=HeuristicAnalyzer(),
        clock=lambda: pytest.fail("help needs no clock"),
        prefix="",
        local_paths=True,
    )
    ctx = Context(Target(platform="terminal", workspace="local", channel="me"), "me", services)
    reply = asyncio.run(handle("help", ctx))
    shown = [line.removeprefix("• ") for line in reply.text.splitlines() if line.startswith("• ")]
    assert shown == [with_prefix(USAGE[key], "") for key in shown_order()]
    assert sorted(shown) == sorted(readme_chat_commands())
    assert all(not line.startswith("/digest") for line in shown)
    assert "A local clone works wherever owner/repo does" in reply.text
    # In Slack and Feishu the same help keeps the prefix.
    slack = Context(Target(platform="slack", workspace="T", channel="C"), "U", services)
    services.prefix = "/digest "
    assert all(
        line.startswith("• /digest ")
        for line in asyncio.run(handle("help", slack)).text.splitlines()
        if line.startswith("•")
    )


def shown_order() -> list[str]:
    return [key for key in USAGE if key != "help"] + ["help"]
