"""`/digest ...` text -> Command: the chat grammar of DESIGN.md §5, platform-neutral.

Parsing is pure and strict: every value is checked here, before anything goes out, and every
failure is a named `CommandError` (digest/errors.py) carrying the usage line of its subcommand.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date
from urllib.parse import urlsplit

from bot.chat.commands import (
    MAX_INPUT_CHARS,
    MAX_QUESTION_CHARS,
    USAGE,
    Ask,
    Command,
    Help,
    ListSubscriptions,
    Lookup,
    Now,
    Status,
    Subscribe,
    Unsubscribe,
    is_local_path,
    typed_repo,
    usage_for,
)
from bot.chat.options import OPTIONS, format_options, parse_options
from digest.errors import (
    BadCommitUrl,
    BadDate,
    BadRepoName,
    BadSha,
    CommandError,
    InputTooLong,
    LocalPathRefused,
    MissingArgument,
    QuestionTooLong,
    TooManyArguments,
    UnknownCommand,
    UnknownOption,
)

DEFAULT_HOSTS = frozenset({"github.com"})

# Every pattern is used with fullmatch and has no nested or overlapping quantifiers: linear time.
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATEISH = re.compile(r"[0-9]{1,4}[./][0-9]{1,2}[./][0-9]{1,4}|[0-9-]+")
_OPTION = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)[:=](.*)", re.DOTALL)
_MENTION = re.compile(r"@\S+|<[@!][^>]*>")
_QUOTES = frozenset('"“”„‟«»「」『』`')  # group words (keeping their spaces) and are removed
_SINGLE_QUOTES = "'‘’‚‛"  # removed only when they wrap a whole token or value
_HELP_WORDS = frozenset({"help", "?", "-h", "--help", "—help", "–help", "帮助"})
_TOPICS = {**{name: name for name in USAGE}, "sha": "lookup", "commit": "lookup"}
_COMMANDS = ("help", "subscribe", "unsubscribe", "list", "now", "ask", "status")


def parse_command(
    text: str, *, github_hosts: frozenset[str] = DEFAULT_HOSTS, local_paths: bool = False
) -> Command:
    """The command in `text`, after any leading `/digest` and @-mentions; else a CommandError.

    With `local_paths`, a repository may also be a local clone written as a path (`./repo`,
    `/src/repo`, `~/repo`); it is kept as typed (the executor resolves it). Without, a path is
    refused by name (LocalPathRefused), so a chat user never makes the bot read its own disk.
    """
    command: str | None = None
    try:
        if len(text) > MAX_INPUT_CHARS:
            raise InputTooLong(len(text), MAX_INPUT_CHARS)
        tokens = _skip_preamble(_tokens(_clean(text)))
        if not tokens or tokens[0].lower() in _HELP_WORDS:
            command = "help"
            return _help(tokens[1:])
        head, args = tokens[0], tokens[1:]
        command = head.lower() if head.lower() in _COMMANDS else "lookup"
        hosts = _hosts(github_hosts)
        if command == "ask":  # a question may well contain "?": only `ask --help` is help
            if len(args) == 1 and args[0].lower() in ("--help", "-h", "help"):
                return Help(command)
            return _ask(args, hosts, paths=local_paths)
        if command != "lookup" and any(arg.lower() in _HELP_WORDS for arg in args):
            return Help(command)  # `subscribe --help`
        if command == "subscribe":
            return _subscribe(args, hosts, paths=local_paths)
        if command == "unsubscribe":
            positional = _positional(args, most=1)
            if not positional:
                raise MissingArgument("a repository (owner/name)")
            return Unsubscribe(_repo(positional[0], hosts, paths=local_paths))
        if command == "list":
            _positional(args, most=0)
            return ListSubscriptions()
        if command == "now":
            return _now(args, hosts, paths=local_paths)
        if command == "status":
            positional = _positional(args, most=1)
            repo = _repo(positional[0], hosts, paths=local_paths) if positional else None
            return Status(repo)
        return _lookup(head, args, hosts, paths=local_paths)
    except CommandError as exc:
        if not exc.usage:
            exc.command = None if isinstance(exc, UnknownCommand) else command
            exc.usage = usage_for(exc.command)
        raise


def format_command(command: Command) -> str:
    """The canonical text of `command`; `parse_command` reads it back to an equal value."""
    match command:
        case Help(topic=topic):
            words = ["help", topic or ""]
        case Lookup(repo=repo, sha=sha):
            words = [f"{typed_repo(repo)}@{sha}" if repo else sha]
        case Subscribe(repo=repo, options=options):
            words = ["subscribe", typed_repo(repo), *format_options(options)]
        case Unsubscribe(repo=repo):
            words = ["unsubscribe", typed_repo(repo)]
        case ListSubscriptions():
            words = ["list"]
        case Now(repo=repo, day=day):
            words = ["now", typed_repo(repo or ""), day.isoformat() if day else ""]
        case Ask(repo=repo, sha=sha, question=question):
            words = ["ask", f"{typed_repo(repo)}@{sha}" if repo else sha, question]
        case Status(repo=repo):
            words = ["status", typed_repo(repo or "")]
    return " ".join(["/digest", *(word for word in words if word)])


# ---- text -> tokens ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Full-width forms folded (NFKC: `：`, `＝`, U+3000); zero-width and bidi controls dropped."""
    visible = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFKC", visible)


def _tokens(text: str) -> list[str]:
    """Split on any whitespace; a quoted span (straight or smart quotes) keeps its spaces."""
    tokens: list[str] = []
    current: list[str] = []
    started = quoted = False
    for char in text:
        if char in _QUOTES:
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                tokens.append("".join(current))
            current, started = [], False
        else:
            current.append(" " if char.isspace() else char)
            started = True
    if started:
        tokens.append("".join(current))
    return [_unquote(_unlink(token)) for token in tokens]


def _unlink(token: str) -> str:
    """Slack's link markup `<url|label>` -> url."""
    if token.startswith("<") and token.endswith(">") and "://" in token:
        return token[1:-1].split("|", 1)[0]
    return token


def _unquote(text: str) -> str:
    wrapped = len(text) >= 2 and text[0] in _SINGLE_QUOTES and text[-1] in _SINGLE_QUOTES
    return text[1:-1] if wrapped else text


def _skip_preamble(tokens: list[str]) -> list[str]:
    """Drop a leading `/digest` and mentions of the bot (Feishu `@_user_1`, Slack `<@U1>`)."""
    start = 0
    while start < len(tokens) and (
        tokens[start].lower() == "/digest" or _MENTION.fullmatch(tokens[start])
    ):
        start += 1
    return tokens[start:]


def _split(args: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Positional arguments, and `name:value` / `name=value` options (names lowercased)."""
    positional: list[str] = []
    options: list[tuple[str, str]] = []
    for arg in args:
        match = _OPTION.fullmatch(arg)
        is_url = match and match[1].lower() not in OPTIONS and match[2].startswith("//")
        if match and not is_url:
            options.append((match[1].lower(), _unquote(match[2].strip())))
        else:
            positional.append(arg)
    return positional, options


def _positional(args: list[str], *, most: int) -> list[str]:
    """The arguments of a command that takes no options: at most `most` of them."""
    positional, options = _split(args)
    if options:
        raise UnknownOption(options[0][0])
    if len(positional) > most:
        raise TooManyArguments(tuple(positional[most:]))
    return positional


def _suggest(word: str, choices: tuple[str, ...]) -> str | None:
    matches = difflib.get_close_matches(word.lower()[:40], choices, n=1, cutoff=0.6)
    return matches[0] if matches else None


# ---- subcommands ------------------------------------------------------------------------------


def _help(args: list[str]) -> Help:
    topics = _positional(args, most=1)
    if not topics:
        return Help(None)
    word = topics[0].lower()
    topic = "help" if word in _HELP_WORDS else _TOPICS.get(word)
    if topic is None:
        raise UnknownCommand(topics[0], _suggest(word, tuple(_TOPICS)))
    return Help(topic)


def _lookup(head: str, args: list[str], hosts: frozenset[str], *, paths: bool = False) -> Lookup:
    repo_text, at, sha_text = head.rpartition("@")
    if at and repo_text and "/" not in sha_text:  # owner/repo@sha (or ./path@sha)
        lookup = Lookup(_repo(repo_text, hosts, paths=paths), _sha(sha_text))
    elif _is_url(head, hosts):
        lookup = _commit_url(head, hosts)
    elif _SHA.fullmatch(head):
        lookup = Lookup(None, head.lower())
    elif _HEX.fullmatch(head) and (len(head) > 40 or any(c.isdigit() for c in head)):
        raise BadSha(head)  # a sha of the wrong length, not a misspelt word
    else:
        raise UnknownCommand(head, _suggest(head, _COMMANDS))
    if args:
        raise TooManyArguments(tuple(args))
    return lookup


def _ask(args: list[str], hosts: frozenset[str], *, paths: bool = False) -> Ask:
    if not args:
        raise MissingArgument("a commit (sha, owner/repo@sha or URL) and a question")
    target = _lookup(args[0], [], hosts, paths=paths)
    question = " ".join(args[1:]).strip()
    if not question:
        raise MissingArgument("a question")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(len(question), MAX_QUESTION_CHARS)
    return Ask(target.repo, target.sha, question)


def _now(args: list[str], hosts: frozenset[str], *, paths: bool = False) -> Now:
    repo: str | None = None
    day: date | None = None
    for arg in _positional(args, most=2):
        if _DATEISH.fullmatch(arg) and not _REPO.fullmatch(arg):
            if day is not None:
                raise TooManyArguments((arg,))
            day = _date(arg)
        elif repo is None:
            repo = _repo(arg, hosts, paths=paths)
        else:
            raise TooManyArguments((arg,))
    return Now(repo, day)


def _subscribe(args: list[str], hosts: frozenset[str], *, paths: bool = False) -> Subscribe:
    positional, options = _split(args)
    if not positional:
        raise MissingArgument("a repository (owner/name)")
    if len(positional) > 1:
        raise TooManyArguments(tuple(positional[1:]))
    return Subscribe(_repo(positional[0], hosts, paths=paths), parse_options(options, _suggest))


# ---- values -----------------------------------------------------------------------------------


def _hosts(github_hosts: frozenset[str]) -> frozenset[str]:
    hosts = {host.lower() for host in github_hosts}
    return frozenset(hosts | ({"www.github.com"} if "github.com" in hosts else set()))


def _is_url(text: str, hosts: frozenset[str]) -> bool:
    return "://" in text or text.split("/", 1)[0].lower() in hosts


def _url_path(text: str, hosts: frozenset[str]) -> list[str]:
    """The path segments of an http(s) URL on one of `hosts` (scheme optional); [] if not one."""
    try:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        host = (parts.hostname or "").lower()
        if parts.scheme.lower() not in ("http", "https") or parts.username is not None:
            return []
    except ValueError:
        return []
    return [segment for segment in parts.path.split("/") if segment] if host in hosts else []


def _repo(text: str, hosts: frozenset[str], *, paths: bool = False) -> str:
    """`owner/name`, from itself or from a repository URL on one of `hosts`; or, with `paths`,
    a local clone's path as typed."""
    if is_local_path(text):
        if not paths:
            raise LocalPathRefused(text)
        return text
    name = text
    if _is_url(text, hosts):
        path = _url_path(text, hosts)
        if len(path) != 2:
            raise BadRepoName(text, paths)
        name = f"{path[0]}/{path[1].removesuffix('.git')}"
    if not _REPO.fullmatch(name) or name.split("/")[1] in (".", ".."):
        raise BadRepoName(text, paths)
    return name


def _sha(text: str) -> str:
    if not _SHA.fullmatch(text):
        raise BadSha(text)
    return text.lower()


def _commit_url(text: str, hosts: frozenset[str]) -> Lookup:
    """`/o/r/commit/<sha>` or `/o/r/pull/<n>/commits/<sha>` on one of `hosts`."""
    path = _url_path(text, hosts)
    commit = len(path) == 4 and path[2] == "commit"
    in_pull = (
        len(path) == 6
        and path[2] == "pull"
        and path[3].isascii()
        and path[3].isdigit()
        and path[4] == "commits"
    )
    if not (commit or in_pull):
        raise BadCommitUrl(text)
    sha = path[-1].removesuffix(".diff").removesuffix(".patch")
    return Lookup(_repo(f"{path[0]}/{path[1]}", hosts), _sha(sha))


def _date(text: str) -> date:
    try:
        if match := _DATE.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise BadDate(text)
