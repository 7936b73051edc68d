"""A newcomer's first run, as the README tells it, on a clean copy of the repository, offline.

The copy is a `git clone` of this checkout, with its uncommitted changes to tracked files (a
module left out of git fails here). Installing is the one step not repeated: the copy's `.venv`
reuses the packages of the environment running the tests (a venv whose path holds the copy's
own code first, then those packages, with the `digest` script of the copy's pyproject.toml),
since pip would need the network. Everything after the install in the README's commands runs as
written, from the copy's own README; GitHub is a closed loopback port and no LLM is configured.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import sysconfig
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
CEILING = 120  # seconds: only a hang reaches it
OFFLINE_SENTENCE = "explains a commit without one."


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def clean_copy(where: Path) -> Path:
    """A clone of this checkout, with the changes to tracked (and staged) files applied: what
    `git commit -a` would commit. A file git does not know of is not there."""
    copy = where / "commit-digest"
    git(where, "clone", "--quiet", str(ROOT), str(copy))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    changes = subprocess.run(
        ["git", "diff", "HEAD", "--binary"], cwd=ROOT, env=env, capture_output=True, check=True
    ).stdout
    if changes:
        subprocess.run(["git", "apply", "-"], cwd=copy, env=env, input=changes, check=True)
    return copy


def reuse_installed_packages(copy: Path) -> None:
    """`.venv` in the copy: the copy's code, then this environment's packages; `digest` as
    pip would write it from the copy's [project.scripts]."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(copy / ".venv")], check=True)
    venv_python = copy / ".venv" / "bin" / "python"
    purelib = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    installed = sysconfig.get_paths()["purelib"]
    Path(purelib, "_first_run.pth").write_text(f"{copy}\n{installed}\n", encoding="utf-8")
    scripts = tomllib.loads((copy / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    for name, target in scripts.items():
        module, function = target.split(":")
        script = copy / ".venv" / "bin" / name
        script.write_text(
            f"#!{venv_python}\nimport sys\nfrom {module} import {function}\n"
            f"sys.exit({function}())\n",
            encoding="utf-8",
        )
        script.chmod(0o755)


def quick_start(copy: Path) -> tuple[list[str], list[str]]:
    """The README's quick-start commands (first sh block), and its chat command (the next)."""
    section = (copy / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    commands = [
        line for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")
    ]
    chat = [line for line in blocks[1].splitlines() if line.strip()]
    return commands, chat


def after_install(command: str) -> list[str]:
    """The parts of `a && b && c` that are not the venv and its install."""
    parts = [part.strip() for part in command.split("&&")]
    kept = [p for p in parts if not p.startswith("python3 -m venv") and "pip install" not in p]
    assert len(kept) < len(parts), f"no install step in {command!r}"
    return kept


def run(copy: Path, argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[str, str]:
    done = subprocess.run(
        argv,
        cwd=copy,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CEILING,
        check=False,
    )
    assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout, done.stderr


@pytest.mark.e2e  # a clone, an install and the README's commands as processes: 52 s under load
def test_the_readme_quick_start_and_chat_on_a_clean_clone_offline(tmp_path: Path) -> None:
    copy = clean_copy(tmp_path)
    reuse_installed_packages(copy)
    env = {**os.environ, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    commands, chat = quick_start(copy)
    assert len(commands) == 2, commands

    # 1. the digest of this repository since a date.
    (report,) = after_install(commands[0])
    argv = shlex.split(report)
    assert argv[:3] == [".venv/bin/digest", "report", "."], report
    out, err = run(copy, argv, env)
    assert err == ""  # no progress bar off a terminal, no warning
    since = argv[argv.index("--since") + 1]
    shas = git(copy, "log", f"--since-as-filter={since}T00:00:00+08:00", "--format=%H").split()
    assert out.startswith(f"# 每日更新报告（{since} 00:00 → ")
    assert f"本时间窗口共 {len(shas)} 个提交" in out
    assert all(f"`{sha[:7]}`" in out for sha in shas)

    # 2. the test tools: pytest runs the copy's suite (collected here; running it inside
    # itself would recurse), and nothing in the clean copy is missing for it.
    (tests,) = after_install(commands[1])
    out, _ = run(copy, [*shlex.split(tests), "--collect-only", "-p", "no:cacheprovider"], env)
    collected = re.search(r"(\d+) tests collected", out)
    assert collected and int(collected[1]) > 500, out[-500:]

    # 3. the bot's commands on the clone, at the prompt.
    (chat_command,) = chat
    head = git(copy, "rev-parse", "HEAD")
    stamp = int(git(copy, "log", "-1", "--format=%ct"))
    day = datetime.fromtimestamp(stamp, ZoneInfo("Asia/Shanghai")).date().isoformat()
    typed = ["help", "subscribe .", f"now {day}", head[:9], f"ask {head[:9]} what changed?"]
    typed += ["unsubscribe .", "list", "quit"]
    out, err = run(copy, shlex.split(chat_command), env, "\n".join(typed) + "\n")
    assert err == ""
    greeting, *answers = out.split("digest> ")
    shown = f"commit-digest ({copy.resolve()})"
    assert f"Subscribed this channel to {shown}: daily at 09:00 Asia/Shanghai" in greeting
    helped, subscribed, now, lookup, asked, unsubscribed, listed, _ = answers
    assert "• ask <sha>" in helped and "• help [command]" in helped
    assert "/digest" not in helped
    assert subscribed.startswith(f"This channel already follows {shown}")
    assert now.startswith("Digest of commit-digest.\n")
    assert f"每日更新报告（{day}）" in now and f"`{head[:7]}`" in now
    assert lookup.startswith(f"commit-digest@{head[:7]}\n") and "**SHA**" in lookup
    assert asked.splitlines()[0].endswith(f"<sha> {OFFLINE_SENTENCE}")
    assert asked.splitlines()[1].startswith("usage: ask <sha>")
    assert unsubscribed == f"This channel no longer follows {shown}.\n"
    assert listed.startswith("This channel follows no repository yet: subscribe owner/repo")
    assert "Traceback" not in out
