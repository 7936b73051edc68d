"""Logging: one line per event (JSON lines for machines, text for a terminal), secrets redacted.

Every record is redacted before any handler sees it: the message with its arguments, the
exception and stack text, and the extra fields, with digest/redact.py's patterns and the
literal value (and the URL- and base64-encoded forms) of every configured secret. Three layers,
so a record cannot go round them: a record factory (every record, from any logger, at creation),
a filter on the root logger and on every handler (extras, and records made before setup), and
third-party loggers' own console handlers removed so that their records reach ours.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Any, Self, TextIO
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretStr

from bot.ops.libraries import AfterImport, tame
from digest.redact import REDACTED, redact

__all__ = [
    "JsonFormatter",
    "LoggingSetup",
    "RedactingFilter",
    "TextFormatter",
    "secret_forms",
    "secrets_of",
    "setup_logging",
]

# Libraries whose records we want, whose levels we set and whose own console handlers we drop.
THIRD_PARTY = (
    "slack_bolt",
    "slack_sdk",
    "urllib3",
    "github",
    "openai",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "Lark",
    "lark_oapi",
    "aiohttp",
    "apscheduler",
    "sqlalchemy",
    "aiosqlite",
    "asyncio",
    "websockets",
)
THIRD_PARTY_PACKAGES = tuple(name for name in THIRD_PARTY if name != "Lark")  # lark's logger
# Chatty at INFO (a line per HTTP request or per scheduler tick): WARNING unless DEBUG is asked.
# (aiohttp's access log is off: `digest serve` runs its AppRunner with access_log=None.)
QUIET = (
    "httpx",
    "httpx2",  # the openai SDK's HTTP client
    "httpcore",
    "httpcore2",
    "urllib3",
    "github",
    "apscheduler",
)
# Every SQL statement and row, every websocket frame: WARNING even at DEBUG.
NEVER_DEBUG = ("sqlalchemy", "aiosqlite", "websockets")
# The HTTP stack's own words (urllib3's "Retrying ..." for each retry, PyGithub's, httpx's, the
# openai SDK's) and Python warnings: our code says in one sentence what failed, so theirs are
# kept for whoever asks for DEBUG, and never reach the terminal otherwise.
DEMOTED = (
    "urllib3",
    "requests",
    "github",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "openai",
    "py.warnings",
)

# Secrets in URLs that the library patterns do not name: `?ticket=...` (Slack's Socket Mode
# URL), `&access_key=...` (Feishu's long connection), `?token=`, `&sig=` ...
_QUERY_SECRET = re.compile(
    r"(?i)(?P<keep>[?&;](?:[\w-]*(?:token|secret|key|ticket|password|passwd|signature|sig"
    r"|credential|auth|code)[\w-]*)=)(?P<value>[^&#\s\"'<>]{3,})"
)
# Attributes every LogRecord has: anything else on a record is an `extra` field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_MARK = "_digest_redacted"


def short_error(exc: BaseException) -> str:
    """`Type: first line`, redacted and bounded: an error as a log line (and a run row) tells
    it, never a bare class name, never a secret."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return redact(text)[:300]


def secret_forms(secret: str) -> tuple[str, ...]:
    """`secret` as it may appear in text: itself, URL-encoded, JSON-escaped, and base64 (the
    stretch of each base64 alignment that depends on the secret alone)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    raw = secret.encode()
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * pad + raw).decode()
            middle = encoded[4:-4]
            if len(middle) >= 8:
                forms.add(middle)
    # Longest first, so a form that contains another is replaced whole.
    return tuple(sorted((f for f in forms if len(f) >= 6), key=len, reverse=True))


def secrets_of(settings: BaseModel) -> tuple[str, ...]:
    """Every secret value configured in `settings` (a pydantic model): its SecretStr fields and
    the password of the database URL."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
    url = getattr(settings, "digest_database_url", None)
    if isinstance(url, str) and "@" in url:  # no credentials, no SQLAlchemy to load (0.3 s)
        import sqlalchemy as sa

        with contextlib.suppress(Exception):
            password = sa.make_url(url).password
            if password:
                found.append(str(password))
    return tuple(dict.fromkeys(s for s in found if s))


class RedactingFilter(logging.Filter):
    """Redacts a record in place and lets it through; safe to meet the same record twice."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        forms: list[str] = []
        for secret in secrets:
            forms.extend(secret_forms(secret))
        self.extra = tuple(sorted(dict.fromkeys(forms), key=len, reverse=True))
        self._exceptions = logging.Formatter()

    def redact(self, text: str) -> str:
        text = redact(text, self.extra)
        if "=" in text:
            text = _QUERY_SECRET.sub(lambda m: f"{m.group('keep')}{REDACTED}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, _MARK, False):
            self.redact_core(record)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and key != _MARK:
                record.__dict__[key] = self._value(value)
        return True

    def redact_core(self, record: logging.LogRecord) -> None:
        """The message (arguments merged in), the exception and the stack: once per record."""
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, as text
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self._exceptions.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None  # the traceback object is not kept: only the redacted text
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        setattr(record, _MARK, True)

    def _value(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {str(k): self._value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(v) for v in value]
        return self.redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage().rstrip("\n"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key != _MARK and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`12:00:01 WARNING bot.run: message key=value`; newlines in the message shown as \\n, so
    a commit message cannot forge a line; a traceback follows, indented."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        message = _one_line(record.getMessage().rstrip("\n"))
        extras = " ".join(
            f"{key}={_one_line(str(value))}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD and key != _MARK
        )
        line = f"{stamp} {record.levelname:<7} {record.name}: {message}"
        if extras:
            line += f" {extras}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        for block in (record.exc_text, record.stack_info):
            if block:
                line += "\n" + "\n".join("    " + part for part in block.splitlines())
        return line


def _one_line(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


@dataclass
class LoggingSetup:
    """What setup_logging changed, so that `close()` can put it back (tests, repeated CLI runs)."""

    handler: logging.Handler
    filter: RedactingFilter
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Restore the logging configuration found at setup."""
        while self._undo:
            self._undo.pop()()
        with contextlib.suppress(Exception):
            self.handler.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_current: LoggingSetup | None = None


def setup_logging(
    stream: TextIO | None = None,
    *,
    secrets: tuple[str, ...] = (),
    level: int | str = logging.INFO,
    json_lines: bool | None = None,
) -> LoggingSetup:
    """Send every log record, redacted, to `stream` (stderr): JSON lines unless `stream` is a
    terminal (or as `json_lines` says). A second call replaces the first."""
    global _current
    if _current is not None:
        _current.close()
    out = stream if stream is not None else sys.stderr
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    if json_lines is None:
        json_lines = not _is_terminal(out)
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler(out)
    handler.setLevel(numeric)  # also for records demoted after their logger let them through
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(redactor)
    setup = LoggingSetup(handler, redactor)
    undo = setup._undo
    root = logging.getLogger()

    # Records are redacted where they are made, whoever handles them later.
    previous_factory = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous_factory(*args, **kwargs)
        redactor.redact_core(record)
        demote(record)
        return record

    logging.setLogRecordFactory(factory)
    undo.append(lambda: logging.setLogRecordFactory(previous_factory))

    # Third-party console handlers (PyGithub's, lark's on stdout) go: their records reach ours.
    # Again after a library loads later (commands import their SDKs lazily): PyGithub sets its
    # level at import, lark-oapi adds its stdout handler.
    def tame_all() -> None:
        for name in THIRD_PARTY:
            tame(logging.getLogger(name), _level_for(name, numeric), redactor, undo)

    tame_all()
    watch = AfterImport(THIRD_PARTY_PACKAGES, tame_all)
    sys.meta_path.insert(0, watch)
    undo.append(partial(sys.meta_path.remove, watch))

    # The filter on every logger's handlers and on the root logger itself.
    _add_filter(root, redactor, undo)
    for logger in [root, *_loggers()]:
        for other in logger.handlers:
            _add_filter(other, redactor, undo)

    before_level = root.level
    root.setLevel(numeric)
    undo.append(lambda: root.setLevel(before_level))
    root.addHandler(handler)
    undo.append(lambda: root.removeHandler(handler))
    logging.captureWarnings(True)
    undo.append(lambda: logging.captureWarnings(False))

    def forget() -> None:
        global _current
        if _current is setup:
            _current = None

    undo.insert(0, forget)
    _current = setup
    return setup


def demote(record: logging.LogRecord) -> None:
    """A DEMOTED library's record becomes DEBUG, whatever level the library gave it."""
    name = record.name
    if record.levelno > logging.DEBUG and any(
        name == prefix or name.startswith(prefix + ".") for prefix in DEMOTED
    ):
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"


def _level_for(name: str, level: int) -> int:
    if name in NEVER_DEBUG:
        return max(level, logging.WARNING)
    if level <= logging.DEBUG:
        return logging.DEBUG  # explicit: PyGithub and lark set levels of their own at import
    return max(level, logging.WARNING) if name in QUIET else logging.NOTSET


def _add_filter(
    target: logging.Logger | logging.Handler,
    redactor: RedactingFilter,
    undo: list[Callable[[], None]],
) -> None:
    if redactor not in target.filters:
        target.addFilter(redactor)
        undo.append(partial(target.removeFilter, redactor))


def _loggers() -> list[logging.Logger]:
    manager = logging.Logger.manager
    return [lg for lg in list(manager.loggerDict.values()) if isinstance(lg, logging.Logger)]


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
