"""`/digest ask <sha> <question>`: the grammar, and the one-sentence errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.commands import Ask, Help
from bot.chat.grammar import format_command, parse_command
from bot.chat.messages import describe
from digest.errors import BadSha, CommandError, MissingArgument, QuestionTooLong, UsageError

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ask abc1234 does this change the default timeout?",
         Ask(None, "abc1234", "does this change the default timeout?")),
        ("/digest ask octo/demo@ABC1234 which callers are affected ?",
         Ask("octo/demo", "abc1234", "which callers are affected ?")),
        (f"ask https://github.com/octo/demo/commit/{SHA} 能否安全地 cherry-pick 到 1.2？",
         Ask("octo/demo", SHA, "能否安全地 cherry-pick 到 1.2?")),
        ("@_user_1 /digest ask abc1234 help", Ask(None, "abc1234", "help")),
        ("ask --help", Help("ask")),
    ],
)  # fmt: skip
def test_valid_questions(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("ask", MissingArgument, "a question"),
        ("ask abc1234", MissingArgument, "a question"),
        ("ask abc1234    ", MissingArgument, "a question"),
        ("ask abc12 why?", BadSha, "abc12"),
        ("ask abc1234 " + "why " * 130, QuestionTooLong, "at most 500"),
    ],
)
def test_bad_questions_are_one_sentence_with_the_usage(
    text: str, error: type[CommandError], fragment: str
) -> None:
    with pytest.raises(error) as caught:
        parse_command(text)
    sentence = describe(caught.value)
    assert fragment in sentence and "\n" not in sentence
    assert caught.value.usage.startswith("usage: /digest ask")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=600))
def test_any_question_text_parses_or_fails_with_our_errors(question: str) -> None:
    try:
        command = parse_command(f"ask abc1234 {question}")
    except UsageError:
        return
    assert isinstance(command, Ask) and 0 < len(command.question) <= 500
    assert parse_command(format_command(command)) == command
