"""The `/digest ...` grammar: text -> Command, and every malformed input -> one named error."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.commands import (
    MAX_INPUT_CHARS,
    USAGE,
    Command,
    Help,
    ListSubscriptions,
    Lookup,
    Now,
    Status,
    Subscribe,
    SubscribeOptions,
    Unsubscribe,
    usage_for,
)
from bot.chat.grammar import format_command, parse_command
from bot.chat.messages import describe
from digest.errors import (
    BadCommitUrl,
    BadDate,
    BadOption,
    BadRepoName,
    BadSha,
    CommandError,
    DuplicateOption,
    InputTooLong,
    LocalPathRefused,
    MissingArgument,
    TooManyArguments,
    UnknownCommand,
    UnknownOption,
    UsageError,
)
from digest.models import Importance

GHE = frozenset({"github.com", "ghe.example.com"})
SHA = "0123456789abcdef0123456789abcdef01234567"
OPTIONS = SubscribeOptions
FUZZ = settings(max_examples=300, deadline=None, derandomize=True)


def parse(text: str) -> Command:
    return parse_command(text, github_hosts=GHE)


# ---- valid input ------------------------------------------------------------------------------

VALID: list[tuple[str, Command]] = [
    # help
    ("", Help()),
    ("   ", Help()),
    ("help", Help()),
    ("HELP", Help()),
    ("?", Help()),
    ("？", Help()),  # full-width question mark
    ("-h", Help()),
    ("--help", Help()),
    ("—help", Help()),  # a phone's smart dash
    ("帮助", Help()),
    ("/digest", Help()),
    ("/digest help", Help()),
    ("help subscribe", Help("subscribe")),
    ("help NOW", Help("now")),
    ("help sha", Help("lookup")),
    ("help help", Help("help")),
    ("subscribe --help", Help("subscribe")),
    ("subscribe o/r -h", Help("subscribe")),
    ("now ?", Help("now")),
    ("@_user_1", Help()),
    # one commit
    ("abc1234", Lookup(None, "abc1234")),
    ("ABCDEF1", Lookup(None, "abcdef1")),
    (SHA.upper(), Lookup(None, SHA)),
    ("deadbeef", Lookup(None, "deadbeef")),
    ("`abc1234`", Lookup(None, "abc1234")),
    ("'abc1234'", Lookup(None, "abc1234")),
    ("o/r@abc1234", Lookup("o/r", "abc1234")),
    ("ai-dynamo/dynamo@ABC1234", Lookup("ai-dynamo/dynamo", "abc1234")),
    ("org-x/some_repo.js@abc1234", Lookup("org-x/some_repo.js", "abc1234")),
    (f"https://github.com/o/r/commit/{SHA}", Lookup("o/r", SHA)),
    (f"http://github.com/o/r/commit/{SHA}/", Lookup("o/r", SHA)),
    (f"https://www.github.com/o/r/commit/{SHA}", Lookup("o/r", SHA)),
    (f"https://GitHub.com/o/r/commit/{SHA}?diff=split#diff-abc", Lookup("o/r", SHA)),
    (f"https://github.com/o/r/commit/{SHA}.diff", Lookup("o/r", SHA)),
    (f"github.com/o/r/commit/{SHA}", Lookup("o/r", SHA)),
    ("https://github.com/o/r/pull/5914/commits/abc1234", Lookup("o/r", "abc1234")),
    (f"https://ghe.example.com/team/svc/commit/{SHA}", Lookup("team/svc", SHA)),
    ("https://github.com/o/r@abc1234", Lookup("o/r", "abc1234")),
    (f"<https://github.com/o/r/commit/{SHA}>", Lookup("o/r", SHA)),  # Slack link markup
    (f"<https://github.com/o/r/commit/{SHA}|{SHA[:7]}>", Lookup("o/r", SHA)),
    ("/digest abc1234", Lookup(None, "abc1234")),
    ("@_user_1 abc1234", Lookup(None, "abc1234")),  # Feishu, without /digest
    ("@_user_1 /digest o/r@abc1234", Lookup("o/r", "abc1234")),
    ("<@U024BE7LH> abc1234", Lookup(None, "abc1234")),  # a Slack app mention
    ("abc\u200b1234", Lookup(None, "abc1234")),  # a zero-width space inside
    ("\u202eabc1234\u202c", Lookup(None, "abc1234")),  # bidi overrides
    ("\ufeffabc1234", Lookup(None, "abc1234")),  # a byte-order mark
    ("ａｂｃ１２３４", Lookup(None, "abc1234")),  # full-width letters and digits
    # subscribe
    ("subscribe o/r", Subscribe("o/r")),
    ("SUBSCRIBE o/r", Subscribe("o/r")),
    ("/digest subscribe ai-dynamo/dynamo", Subscribe("ai-dynamo/dynamo")),
    ("subscribe https://github.com/o/r", Subscribe("o/r")),
    ("subscribe https://github.com/o/r.git", Subscribe("o/r")),
    ("subscribe https://github.com/o/r/", Subscribe("o/r")),
    ("subscribe github.com/o/r", Subscribe("o/r")),
    ("subscribe https://ghe.example.com/team/svc", Subscribe("team/svc")),
    ("subscribe <https://github.com/o/r>", Subscribe("o/r")),
    ("subscribe o/r branch:main", Subscribe("o/r", OPTIONS(branch="main"))),
    ("subscribe o/r branch:release/v1.2", Subscribe("o/r", OPTIONS(branch="release/v1.2"))),
    ("subscribe o/r branch:功能/新", Subscribe("o/r", OPTIONS(branch="功能/新"))),
    ("subscribe o/r branch:a=b", Subscribe("o/r", OPTIONS(branch="a=b"))),
    ("subscribe o/r at:09:00", Subscribe("o/r", OPTIONS(at="09:00"))),
    ("subscribe o/r at:9:05", Subscribe("o/r", OPTIONS(at="09:05"))),
    ("subscribe o/r at:0:00", Subscribe("o/r", OPTIONS(at="00:00"))),
    ("subscribe o/r at:23:59", Subscribe("o/r", OPTIONS(at="23:59"))),
    ("subscribe o/r tz:Asia/Shanghai", Subscribe("o/r", OPTIONS(tz="Asia/Shanghai"))),
    ("subscribe o/r tz:asia/shanghai", Subscribe("o/r", OPTIONS(tz="Asia/Shanghai"))),
    ("subscribe o/r tz:utc", Subscribe("o/r", OPTIONS(tz="UTC"))),
    ("subscribe o/r tz:Etc/GMT+8", Subscribe("o/r", OPTIONS(tz="Etc/GMT+8"))),
    ("subscribe o/r lang:zh", Subscribe("o/r", OPTIONS(language="zh"))),
    ("subscribe o/r lang:EN", Subscribe("o/r", OPTIONS(language="en"))),
    ("subscribe o/r min:high", Subscribe("o/r", OPTIONS(min_importance=Importance.HIGH))),
    ("subscribe o/r min:Medium", Subscribe("o/r", OPTIONS(min_importance=Importance.MEDIUM))),
    ("subscribe o/r min:low", Subscribe("o/r", OPTIONS(min_importance=Importance.LOW))),
    ("subscribe o/r paths:src/**", Subscribe("o/r", OPTIONS(paths=("src/**",)))),
    (
        "subscribe o/r paths:src/**,lib/**,src/**",
        Subscribe("o/r", OPTIONS(paths=("src/**", "lib/**"))),
    ),
    ("subscribe o/r paths:none", Subscribe("o/r", OPTIONS(paths=()))),
    ("subscribe o/r exclude:bots,alice", Subscribe("o/r", OPTIONS(exclude=("bots", "alice")))),
    (
        "subscribe o/r exclude:BOTS,@alice,alice",
        Subscribe("o/r", OPTIONS(exclude=("bots", "alice"))),
    ),
    ("subscribe o/r exclude:NONE", Subscribe("o/r", OPTIONS(exclude=()))),
    (
        'subscribe o/r exclude:"Ran Rubin,alice"',
        Subscribe("o/r", OPTIONS(exclude=("Ran Rubin", "alice"))),
    ),
    (
        "subscribe o/r exclude:“Ran Rubin”",  # smart quotes, as Slack and phones type them
        Subscribe("o/r", OPTIONS(exclude=("Ran Rubin",))),
    ),
    ("subscribe o/r days:all", Subscribe("o/r", OPTIONS(weekdays_only=False))),
    ("subscribe o/r days:WEEKDAYS", Subscribe("o/r", OPTIONS(weekdays_only=True))),
    ("subscribe o/r empty:skip", Subscribe("o/r", OPTIONS(post_empty=False))),
    ("subscribe o/r empty:post", Subscribe("o/r", OPTIONS(post_empty=True))),
    (
        "subscribe o/r branch:main at:08:30 tz:Asia/Shanghai lang:zh min:medium "
        "paths:src/**,lib/** exclude:bots,alice days:weekdays empty:post",
        Subscribe(
            "o/r",
            OPTIONS(
                branch="main",
                at="08:30",
                tz="Asia/Shanghai",
                language="zh",
                min_importance=Importance.MEDIUM,
                paths=("src/**", "lib/**"),
                exclude=("bots", "alice"),
                weekdays_only=True,
                post_empty=True,
            ),
        ),
    ),
    # an update: only what is given
    ("subscribe o/r at:10:00 lang:en", Subscribe("o/r", OPTIONS(at="10:00", language="en"))),
    # name=value, names in any case, options before the repository
    ("subscribe o/r AT=7:00 Tz=UTC", Subscribe("o/r", OPTIONS(at="07:00", tz="UTC"))),
    ("subscribe at:7:00 o/r", Subscribe("o/r", OPTIONS(at="07:00"))),
    # quotes around values
    ('subscribe o/r tz:"Asia/Tokyo"', Subscribe("o/r", OPTIONS(tz="Asia/Tokyo"))),
    ("subscribe o/r tz:“Asia/Tokyo”", Subscribe("o/r", OPTIONS(tz="Asia/Tokyo"))),
    ("subscribe o/r branch:‘main’", Subscribe("o/r", OPTIONS(branch="main"))),
    ("subscribe o/r branch:'main'", Subscribe("o/r", OPTIONS(branch="main"))),
    ("subscribe o/r branch:「dev」", Subscribe("o/r", OPTIONS(branch="dev"))),
    # unicode whitespace, full-width punctuation, invisible characters
    ("subscribe\u3000o/r\u3000at：9：00", Subscribe("o/r", OPTIONS(at="09:00"))),
    ("subscribe\xa0o/r\xa0lang＝en", Subscribe("o/r", OPTIONS(language="en"))),
    ("subscribe\to/r\n  tz:UTC\r\n", Subscribe("o/r", OPTIONS(tz="UTC"))),
    ("sub\u200bscribe o/\u2060r lang:\u200den", Subscribe("o/r", OPTIONS(language="en"))),
    ("ｓｕｂｓｃｒｉｂｅ　ｏ/ｒ", Subscribe("o/r")),
    # Feishu: the mention first, with or without /digest
    ("@_user_1 subscribe o/r", Subscribe("o/r")),
    ("@_user_1 /digest subscribe o/r lang:en", Subscribe("o/r", OPTIONS(language="en"))),
    ("/digest @_user_1 subscribe o/r", Subscribe("o/r")),
    # unsubscribe, list
    ("unsubscribe o/r", Unsubscribe("o/r")),
    ("UNSUBSCRIBE https://github.com/o/r", Unsubscribe("o/r")),
    ("list", ListSubscriptions()),
    ("/digest LIST", ListSubscriptions()),
    ("@_user_1\u3000list", ListSubscriptions()),
    # now
    ("now", Now()),
    ("now o/r", Now("o/r")),
    ("now 2026-02-05", Now(None, date(2026, 2, 5))),
    ("now o/r 2026-02-05", Now("o/r", date(2026, 2, 5))),
    ("now 2026-02-05 https://github.com/o/r", Now("o/r", date(2026, 2, 5))),
    ("now 12/3.4", Now("12/3.4")),  # a repository that looks a little like a date
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_the_default_hosts_are_github_com_only() -> None:
    assert parse_command(f"github.com/o/r/commit/{SHA}") == Lookup("o/r", SHA)
    with pytest.raises(BadCommitUrl):
        parse_command(f"https://ghe.example.com/o/r/commit/{SHA}")
    with pytest.raises(BadRepoName):
        parse_command("subscribe https://ghe.example.com/o/r")


def test_enterprise_hosts_are_case_insensitive() -> None:
    hosts = frozenset({"GHE.Example.com"})
    assert parse_command(f"https://ghe.example.com/o/r/commit/{SHA}", github_hosts=hosts) == (
        Lookup("o/r", SHA)
    )


def test_the_longest_input_allowed_parses() -> None:
    text = "subscribe o/r lang:en" + " " * (MAX_INPUT_CHARS - 21)
    assert len(text) == MAX_INPUT_CHARS
    assert parse(text) == Subscribe("o/r", OPTIONS(language="en"))


# ---- invalid input ----------------------------------------------------------------------------

TOO_MANY_PATHS = ",".join(f"p{i}/**" for i in range(21))
LONG_GLOB = "a" * 201

INVALID: list[tuple[str, type[CommandError], str]] = [
    ("x" * (MAX_INPUT_CHARS + 1), InputTooLong, "2001 characters"),
    # the first word
    ("foo", UnknownCommand, "'foo' is not a command"),
    ("subscrbe o/r", UnknownCommand, "did you mean 'subscribe'?"),
    ("lst", UnknownCommand, "did you mean 'list'?"),
    ("o/r", UnknownCommand, "'o/r'"),
    ("decade", UnknownCommand, "'decade'"),  # a word of hex letters, not a sha
    ("help foo", UnknownCommand, "'foo'"),
    # shas and commit URLs
    ("abc12", BadSha, "'abc12' is not a commit sha"),
    ("123456", BadSha, "'123456'"),
    (SHA + "0", BadSha, SHA[:20]),
    ("o/r@xyz1234", BadSha, "'xyz1234'"),
    ("o/r@", BadSha, "'' is not a commit sha"),
    ("o/r@main", BadSha, "'main'"),
    ("https://github.com/o/r/commit/zzzzzzz", BadSha, "'zzzzzzz'"),
    ("https://gitlab.com/o/r/commit/abc1234", BadCommitUrl, "gitlab.com"),
    ("https://github.com/o/r", BadCommitUrl, "'https://github.com/o/r' is not a commit URL"),
    ("https://github.com/o/r/pull/12/files/abc1234", BadCommitUrl, "/files/"),
    ("https://github.com/o/r/pull/x/commits/abc1234", BadCommitUrl, "/pull/x/"),
    ("https://user@github.com/o/r/commit/abc1234", BadCommitUrl, "user@"),
    ("ftp://github.com/o/r/commit/abc1234", BadCommitUrl, "ftp://"),
    ("https://[::1/o/r/commit/abc1234", BadCommitUrl, "[::1"),
    ("abc1234 extra", TooManyArguments, "'extra'"),
    ("bad/../r@abc1234", BadRepoName, "'bad/../r'"),
    # repositories
    ("subscribe o", BadRepoName, "'o' is not a repository"),
    ("subscribe o/r/x", BadRepoName, "'o/r/x'"),
    ("subscribe -o/r", BadRepoName, "'-o/r'"),
    ("subscribe o/..", BadRepoName, "'o/..'"),
    ("subscribe o/.", BadRepoName, "'o/.'"),
    ("subscribe o/r;rm", BadRepoName, "'o/r;rm'"),
    ("subscribe o_x/r", BadRepoName, "'o_x/r'"),
    ("subscribe " + "o" * 40 + "/r", BadRepoName, "is not a repository"),
    ("subscribe o/" + "r" * 101, BadRepoName, "is not a repository"),
    ("subscribe https://gitlab.com/o/r", BadRepoName, "gitlab.com"),
    ("subscribe https://github.com/o/r/tree/main", BadRepoName, "/tree/main"),
    ("subscribe ssh://github.com/o/r", BadRepoName, "ssh://"),
    ("unsubscribe ../etc", LocalPathRefused, "'../etc' is a local path"),
    ("now ../../etc/passwd", LocalPathRefused, "'../../etc/passwd' is a local path"),
    ('subscribe "o/r x"', BadRepoName, "'o/r x'"),
    # missing and extra arguments
    ("subscribe", MissingArgument, "/digest subscribe needs a repository"),
    ("subscribe lang:en", MissingArgument, "needs a repository"),
    ("unsubscribe", MissingArgument, "/digest unsubscribe needs a repository"),
    ("subscribe o/r x", TooManyArguments, "does not take the argument 'x'"),
    ("unsubscribe o/r p/q", TooManyArguments, "'p/q'"),
    ("list all", TooManyArguments, "/digest list does not take the argument 'all'"),
    ("list a b c d e", TooManyArguments, "and 2 more"),
    ("now o/r p/q", TooManyArguments, "'p/q'"),
    ("now 2026-01-01 2026-01-02", TooManyArguments, "'2026-01-02'"),
    ("now o/r 2026-01-01 x", TooManyArguments, "'x'"),
    ("help subscribe now", TooManyArguments, "'now'"),
    # options
    ("subscribe o/r colour:red", UnknownOption, "no option 'colour'"),
    ("subscribe o/r brnch:dev", UnknownOption, "did you mean 'branch'?"),
    ("subscribe o/r timezone:UTC", UnknownOption, "'timezone'"),
    ("now o/r lang:en", UnknownOption, "/digest now has no option 'lang'"),
    ("list lang=en", UnknownOption, "'lang'"),
    ("subscribe o/r at:9:00 AT=10:00", DuplicateOption, "'at' is given more than once"),
    ("subscribe o/r branch: ", BadOption, "for branch: a value is required"),
    ("subscribe o/r tz=", BadOption, "for tz: a value is required"),
    ('subscribe o/r lang:""', BadOption, "for lang: a value is required"),
    ("subscribe o/r at:24:00", BadOption, "'24:00' for at"),
    ("subscribe o/r at:09:60", BadOption, "'09:60' for at"),
    ("subscribe o/r at:9", BadOption, "'9' for at"),
    ("subscribe o/r at:9am", BadOption, "'9am' for at"),
    ("subscribe o/r at:09:00:00", BadOption, "'09:00:00'"),
    ("subscribe o/r at:-1:00", BadOption, "'-1:00'"),
    ("subscribe o/r at:٠٩:٠٠", BadOption, "for at"),  # Arabic-Indic digits
    ("subscribe o/r at:123:00", BadOption, "'123:00'"),
    ("subscribe o/r tz:Mars/Olympus", BadOption, "'Mars/Olympus' for tz: not a known time zone"),
    ("subscribe o/r tz:../../etc/passwd", BadOption, "'../../etc/passwd' for tz"),
    ("subscribe o/r tz:America", BadOption, "'America' for tz"),
    ("subscribe o/r tz:UTC;rm", BadOption, "'UTC;rm'"),
    ("subscribe o/r lang:fr", BadOption, "'fr' for lang: use zh or en"),
    ("subscribe o/r min:critical", BadOption, "'critical' for min: use high, medium or low"),
    ("subscribe o/r days:weekends", BadOption, "'weekends' for days: use all or weekdays"),
    ("subscribe o/r empty:maybe", BadOption, "'maybe' for empty: use skip or post"),
    ("subscribe o/r branch:a..b", BadOption, "'a..b' for branch: not a valid git branch"),
    ("subscribe o/r branch:-x", BadOption, "'-x' for branch"),
    ("subscribe o/r branch:/x", BadOption, "'/x'"),
    ("subscribe o/r branch:x/", BadOption, "'x/'"),
    ("subscribe o/r branch:x.", BadOption, "'x.'"),
    ("subscribe o/r branch:x.lock", BadOption, "'x.lock'"),
    ("subscribe o/r branch:a/.hidden", BadOption, "'a/.hidden'"),
    ("subscribe o/r branch:a//b", BadOption, "'a//b'"),
    ("subscribe o/r branch:a~1", BadOption, "'a~1'"),
    ("subscribe o/r branch:a^", BadOption, "'a^'"),
    ("subscribe o/r branch:a?", BadOption, "'a?'"),
    ("subscribe o/r branch:a*", BadOption, "'a*'"),
    ("subscribe o/r branch:a[b", BadOption, "'a[b'"),
    ("subscribe o/r branch:a\\b", BadOption, "'a\\\\b'"),
    ("subscribe o/r branch:a@{1}", BadOption, "'a@{1}'"),
    ("subscribe o/r branch:@", BadOption, "'@' for branch"),
    ("subscribe o/r branch:HEAD", BadOption, "'HEAD'"),
    ('subscribe o/r branch:"a b"', BadOption, "'a b' for branch"),
    ("subscribe o/r branch:a\x07b", BadOption, "'a\\x07b'"),
    ("subscribe o/r branch:" + "b" * 256, BadOption, "for branch"),
    ("subscribe o/r paths:a,,b", BadOption, "'a,,b' for paths: an item is empty"),
    ("subscribe o/r paths:a,", BadOption, "an item is empty"),
    ('subscribe o/r paths:"src/**, docs/my file"', BadOption, "a glob contains a space"),
    ("subscribe o/r paths:" + TOO_MANY_PATHS, BadOption, "at most 20 items"),
    ("subscribe o/r paths:" + LONG_GLOB, BadOption, "longer than 200 characters"),
    ("subscribe o/r paths:src/\x01", BadOption, "control character"),
    ("subscribe o/r exclude:alice,,bob", BadOption, "'alice,,bob' for exclude"),
    ("subscribe o/r exclude:@", BadOption, "for exclude: an item is empty"),
    ("subscribe o/r exclude:" + "x" * 101, BadOption, "longer than 100 characters"),
    # dates
    ("now 2026-13-01", BadDate, "'2026-13-01' is not a date: use YYYY-MM-DD"),
    ("now 2026-02-30", BadDate, "'2026-02-30'"),
    ("now 2026/02/05", BadDate, "'2026/02/05'"),
    ("now 26-2-5", BadDate, "'26-2-5'"),
    ("now o/r 20260205", BadDate, "'20260205'"),
]


@pytest.mark.parametrize(("text", "error", "fragment"), INVALID)
def test_invalid(text: str, error: type[CommandError], fragment: str) -> None:
    with pytest.raises(error) as caught:
        parse(text)
    sentence = describe(caught.value)
    assert fragment in sentence
    assert_one_sentence(sentence)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("subscribe o/r lang:fr", "subscribe"),
        ("unsubscribe", "unsubscribe"),
        ("list x", "list"),
        ("now 2026-13-01", "now"),
        ("help a b", "help"),
        ("abc12", "lookup"),
        ("o/r@xyz", "lookup"),
        ("frobnicate", None),
        ("x" * 3000, None),
    ],
)
def test_errors_carry_the_usage_line_of_their_subcommand(text: str, command: str | None) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert caught.value.command == command
    assert caught.value.usage == usage_for(command)
    assert caught.value.usage.startswith("usage: /digest")
    assert "\n" not in caught.value.usage


def test_usage_lines() -> None:
    assert usage_for("subscribe").startswith("usage: /digest subscribe owner/repo [branch:main]")
    assert set(USAGE) == {
        "help",
        "lookup",
        "subscribe",
        "unsubscribe",
        "list",
        "now",
        "ask",
        "status",
    }
    assert "subscribe" in usage_for(None) and "list" in usage_for(None)
    assert usage_for("nonsense") == usage_for(None)


def test_a_long_value_is_clipped_in_the_sentence() -> None:
    with pytest.raises(BadOption) as caught:
        parse("subscribe o/r branch:" + "a.." * 200)
    sentence = describe(caught.value)
    assert len(sentence) < 200
    assert "…" in sentence


@pytest.mark.parametrize(
    "text",
    [
        "a" * MAX_INPUT_CHARS,
        "@" * MAX_INPUT_CHARS,
        "-" * MAX_INPUT_CHARS,
        "<@" * (MAX_INPUT_CHARS // 2),
        '"' * MAX_INPUT_CHARS,
        "“ " * (MAX_INPUT_CHARS // 2),
        "subscribe o/r paths:" + "," * (MAX_INPUT_CHARS - 20),
        "subscribe o/r branch:" + "a/" * 980,
        "subscribe o/r " + "x:" * 990,
        "now " + "1-" * 998,
        "https://github.com/" + "/" * 1900 + "commit/abc1234",
        "\ufdfa" * MAX_INPUT_CHARS,  # NFKC turns each into 18 characters
        "\u200b" * MAX_INPUT_CHARS,
    ],
)
def test_pathological_input_is_still_a_command_or_a_named_error(text: str) -> None:
    check_total(text)


def test_a_lone_surrogate_is_a_named_error() -> None:
    with pytest.raises(UnknownCommand):
        parse("\ud800")


# ---- properties -------------------------------------------------------------------------------

_TRACEBACKISH = re.compile(r"Traceback|File \"|line \d+|Error\(|Exception|<class |0x[0-9a-f]{6}")


def assert_one_sentence(sentence: str) -> None:
    assert sentence and len(sentence.splitlines()) == 1 and "\n" not in sentence
    assert not _TRACEBACKISH.search(sentence), sentence
    assert not sentence.startswith("Invalid input:"), sentence  # every error has its own words
    assert sentence[-1] in ".?", sentence


def check_total(text: str) -> Command | None:
    """The parser's contract: a Command, or a named UsageError that reads as one sentence."""
    try:
        return parse(text)
    except UsageError as exc:
        assert isinstance(exc, CommandError)
        assert_one_sentence(describe(exc))
        assert exc.usage.startswith("usage: /digest") and "\n" not in exc.usage
        return None


COMMAND_TYPES = (Help, Lookup, Subscribe, Unsubscribe, ListSubscriptions, Now)


@FUZZ
@given(st.text(max_size=300))
def test_any_text_is_a_command_or_a_named_error(text: str) -> None:
    result = check_total(text)
    assert result is None or isinstance(result, COMMAND_TYPES)


_SEPARATORS = st.sampled_from([" ", "  ", "\u3000", "\xa0", "\t", "\n", " \u200b", "\u202e "])
_WIDE_SPACES = st.sampled_from([" ", "\u3000", "\xa0", "\t", "\n", "\u2003"])


def words(text: str) -> list[str]:
    return text.split()


_WORDS = st.sampled_from(
    words(
        "/digest @_user_1 <@U1> help ? --help subscribe SUBSCRIBE unsubscribe list now sha"
        " none bots “ ” \" ' ` : ="
    )
)
_REPOS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}", fullmatch=True)
_HEXES = st.from_regex(r"[0-9a-fA-F]{1,45}", fullmatch=True)
_NAMES = st.sampled_from(
    words("branch at tz lang min paths exclude days empty AT Tz LANG colour https x")
)
_VALUES = st.one_of(
    st.just(""),
    st.sampled_from(
        words(
            "main a..b 09:00 9:00 24:00 Asia/Shanghai utc Mars/Base zh EN fr high low src/**,lib/**"
            " a,,b bots,alice @ weekdays post none “x_y” //host/x America leapseconds posixrules"
        )
    ),
    st.text(max_size=30),
)
_OPTION_TOKENS = st.builds(
    lambda name, sep, value: f"{name}{sep}{value}",
    _NAMES,
    st.sampled_from([":", "=", "："]),
    _VALUES,
)
_URLS = st.builds(
    lambda scheme, host, repo, middle, sha: f"{scheme}{host}/{repo}/{middle}/{sha}",
    st.sampled_from(["https://", "http://", "", "ftp://", "https://user@"]),
    st.sampled_from(["github.com", "GITHUB.COM", "ghe.example.com", "gitlab.com", "[::1"]),
    _REPOS,
    st.sampled_from(["commit", "pull/12/commits", "pull/x/commits", "tree", "commits"]),
    _HEXES,
)
_SUBCOMMANDS = st.sampled_from(
    [*words("subscribe subscribe subscribe unsubscribe now list help"), ""]
)
_TOKENS = st.one_of(
    _WORDS,
    _REPOS,
    _HEXES,
    _OPTION_TOKENS,
    _URLS,
    st.builds(lambda repo, sha: f"{repo}@{sha}", _REPOS, _HEXES),
    st.dates().map(date.isoformat),
    st.from_regex(r"[0-9]{1,4}[-./][0-9]{1,3}[-./][0-9]{1,4}", fullmatch=True),
    st.text(max_size=12),
)


_ARGS = st.sampled_from(["option", "option", "option", "any"]).flatmap(
    lambda kind: _OPTION_TOKENS if kind == "option" else _TOKENS
)


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """A mention or `/digest`, a subcommand (mostly), then repositories, options and debris."""
    preamble = draw(st.sampled_from(["", "/digest", "@_user_1", "@_user_1 /digest", "<@U1>"]))
    head = draw(_SUBCOMMANDS) or draw(_TOKENS)
    args = draw(st.lists(_ARGS, max_size=7))
    if draw(st.sampled_from([True, True, True, False])):
        args.insert(0, draw(_REPOS))
    tokens = [preamble, head, *args]
    separators = draw(st.lists(_SEPARATORS, min_size=len(tokens), max_size=len(tokens)))
    return "".join(sep + token for sep, token in zip(separators, tokens, strict=True))


@FUZZ
@given(near_valid())
def test_near_valid_commands_are_a_command_or_a_named_error(text: str) -> None:
    result = check_total(text)
    assert result is None or isinstance(result, COMMAND_TYPES)


def _branch_ok(name: str) -> bool:
    parts = name.split("/")
    return name not in ("HEAD", "@") and not any(p.endswith((".", ".lock")) for p in parts)


_BRANCHES = st.one_of(
    st.sampled_from(["main", "release/v1.2", "功能/新", "feat@x", "a=b", "it's", "v1.0-rc"]),
    st.lists(
        st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_=@+-]{0,12}(\.[a-z]{1,4})?", fullmatch=True),
        min_size=1,
        max_size=3,
    )
    .map("/".join)
    .filter(_branch_ok),
)
_GLOBS = st.from_regex(r"[A-Za-z0-9_*?./\[\]{}!-]{1,30}", fullmatch=True)
_PEOPLE = st.one_of(
    st.just("bots"),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}", fullmatch=True),
    st.from_regex(r"[A-Z][a-z]{1,8} [A-Z][a-z]{1,8}", fullmatch=True),
    st.sampled_from(["张三", "José", "O'Brien", "alice@example.com"]),
).filter(lambda p: p == "bots" or p.lower() not in ("bots", "none"))


def _not_clear(items: tuple[str, ...]) -> bool:
    return [i.lower() for i in items] != ["none"]


SUBSCRIBE_OPTIONS = st.builds(
    SubscribeOptions,
    branch=st.none() | _BRANCHES,
    at=st.none()
    | st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    tz=st.none() | st.timezone_keys(),
    language=st.none() | st.sampled_from(["zh", "en"]),
    min_importance=st.none() | st.sampled_from(list(Importance)),
    paths=st.none() | st.lists(_GLOBS, max_size=20, unique=True).map(tuple).filter(_not_clear),
    exclude=st.none() | st.lists(_PEOPLE, max_size=6, unique=True).map(tuple),
    weekdays_only=st.none() | st.booleans(),
    post_empty=st.none() | st.booleans(),
)
_SHAS = st.from_regex(r"[0-9a-f]{7,40}", fullmatch=True)
COMMANDS = st.one_of(
    st.builds(Help, st.none() | st.sampled_from(sorted(USAGE))),
    st.builds(Lookup, st.none() | _REPOS, _SHAS),
    st.builds(Subscribe, _REPOS, SUBSCRIBE_OPTIONS),
    st.builds(Unsubscribe, _REPOS),
    st.just(ListSubscriptions()),
    st.builds(Now, st.none() | _REPOS, st.none() | st.dates()),
    st.builds(Status, st.none() | _REPOS),
)


def _no_dot_names(command: Command) -> bool:
    repo = getattr(command, "repo", None)
    return repo is None or repo.split("/")[1] not in (".", "..")


@FUZZ
@given(_REPOS.filter(lambda r: r.split("/")[1] not in (".", "..")), SUBSCRIBE_OPTIONS)
def test_subscribe_round_trips_through_its_text(repo: str, options: SubscribeOptions) -> None:
    command = Subscribe(repo, options)
    assert parse(format_command(command)) == command


@FUZZ
@given(COMMANDS.filter(_no_dot_names))
def test_every_command_round_trips_through_its_text(command: Command) -> None:
    assert parse(format_command(command)) == command


_INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066"])


@FUZZ
@given(COMMANDS.filter(_no_dot_names), st.data())
def test_invisible_characters_and_wide_spaces_change_nothing(
    command: Command, data: st.DataObject
) -> None:
    text = format_command(command)
    spaced = "".join(data.draw(_WIDE_SPACES) if char == " " else char for char in text)
    inserts = data.draw(st.lists(st.tuples(st.integers(0, len(spaced)), _INVISIBLE), max_size=6))
    for position, char in sorted(inserts, reverse=True):
        spaced = spaced[:position] + char + spaced[position:]
    assert parse("@_user_1 " + spaced) == command


@FUZZ
@given(
    st.sampled_from(words("branch at tz lang min paths exclude days empty")), st.text(max_size=40)
)
def test_any_option_value_is_an_option_or_a_named_error(name: str, value: str) -> None:
    result = check_total(f"subscribe o/r {name}:{value}")
    assert result is None or isinstance(result, Subscribe | Help)
