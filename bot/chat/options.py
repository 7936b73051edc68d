"""The options of `subscribe` (`branch:`, `at:`, `tz:` ...): each checked, as pure functions.

A value is parsed into the field of SubscribeOptions it sets, or refused with a BadOption that
says what a good value looks like; `format_options` writes them back as the grammar reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from bot.chat.commands import SubscribeOptions
from digest.errors import BadOption, DuplicateOption, UnknownOption, UnknownTimeZone
from digest.models import LANGUAGES, Importance
from digest.window import resolve_tz

_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
OPTIONS = ("branch", "at", "tz", "lang", "min", "paths", "exclude", "days", "empty")
_CLEAR = "none"  # `paths:none` / `exclude:none` empty the list


def parse_options(
    options: list[tuple[str, str]], suggest: Callable[[str, tuple[str, ...]], str | None]
) -> SubscribeOptions:
    """`name:value` pairs -> SubscribeOptions; unknown, repeated or empty options refused."""
    values: dict[str, Any] = {}
    seen: set[str] = set()
    for name, value in options:
        if name not in OPTIONS:
            raise UnknownOption(name, suggest(name, OPTIONS))
        if name in seen:
            raise DuplicateOption(name)
        seen.add(name)
        if not value:
            raise BadOption(name, value, "a value is required")
        field, parsed = _option(name, value)
        values[field] = parsed
    return SubscribeOptions(**values)


def _option(name: str, value: str) -> tuple[str, object]:
    """One subscribe option -> (its SubscribeOptions field, its value), or BadOption."""
    match name:
        case "branch":
            if not _is_branch(value):
                raise BadOption(name, value, "not a valid git branch name")
            return "branch", value
        case "at":
            hhmm = _TIME.fullmatch(value)
            if hhmm is None or int(hhmm[1]) > 23 or int(hhmm[2]) > 59:
                raise BadOption(name, value, "use HH:MM between 00:00 and 23:59")
            return "at", f"{int(hhmm[1]):02d}:{hhmm[2]}"
        case "tz":
            return "tz", _zone(name, value)
        case "lang":
            return "language", _choice(name, value, LANGUAGES)
        case "min":
            return "min_importance", Importance(_choice(name, value, tuple(Importance)))
        case "paths":
            paths = _items(name, value, most=20, longest=200)
            if any(" " in path for path in paths):
                raise BadOption(name, value, "a glob contains a space")
            return "paths", paths
        case "exclude":
            names = _items(name, value, most=50, longest=100)
            logins = ("bots" if n.lower() == "bots" else n.removeprefix("@") for n in names)
            if "" in (kept := tuple(dict.fromkeys(logins))):
                raise BadOption(name, value, "an item is empty")
            return "exclude", kept
        case "days":
            return "weekdays_only", _choice(name, value, ("all", "weekdays")) == "weekdays"
        case _:
            return "post_empty", _choice(name, value, ("skip", "post")) == "post"


def _is_branch(name: str) -> bool:
    """`git check-ref-format --branch`'s rules, without a regex."""
    return (
        len(name) <= 255
        and name not in ("@", "HEAD")
        and not name.startswith(("-", "/"))
        and not name.endswith(("/", ".", ".lock"))
        and not any(bad in name for bad in ("..", "@{", "//"))
        and not any(c in "~^:?*[\\" or c.isspace() or not c.isprintable() for c in name)
        and not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))
    )


@cache
def _zones_by_lower() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def _zone(name: str, value: str) -> str:
    """An IANA zone that resolves, by its name in any letter case."""
    for candidate in (value, _zones_by_lower().get(value.lower())):
        try:
            if candidate is not None:
                return resolve_tz(candidate).key
        except UnknownTimeZone:
            pass
    raise BadOption(name, value, "not a known time zone; use an IANA name such as Asia/Shanghai")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value.lower() not in choices:
        raise BadOption(name, value, f"use {', '.join(choices[:-1])} or {choices[-1]}")
    return value.lower()


def _items(name: str, value: str, *, most: int, longest: int) -> tuple[str, ...]:
    """A comma-separated list without empty, over-long or control-character items; `none` = ()."""
    if value.lower() == _CLEAR:
        return ()
    items = [item.strip() for item in value.split(",")]
    if len(items) > most:
        raise BadOption(name, value, f"give at most {most} items")
    for item in items:
        if not item:
            raise BadOption(name, value, "an item is empty")
        if len(item) > longest:
            raise BadOption(name, value, f"an item is longer than {longest} characters")
        if not item.isprintable():
            raise BadOption(name, value, "an item contains a control character")
    return tuple(dict.fromkeys(items))


def format_options(options: SubscribeOptions) -> list[str]:
    def listed(items: tuple[str, ...] | None) -> str | None:
        text = None if items is None else ",".join(items) or _CLEAR
        return f'"{text}"' if text and " " in text else text

    def flag(value: bool | None, yes: str, no: str) -> str | None:
        return None if value is None else yes if value else no

    given = {
        "branch": options.branch,
        "at": options.at,
        "tz": options.tz,
        "lang": options.language,
        "min": options.min_importance.value if options.min_importance else None,
        "paths": listed(options.paths),
        "exclude": listed(options.exclude),
        "days": flag(options.weekdays_only, "weekdays", "all"),
        "empty": flag(options.post_empty, "post", "skip"),
    }
    return [f"{name}:{value}" for name, value in given.items() if value is not None]
