"""Every Feishu card we post (the daily post, a commit's analysis, command replies, notices),
across a varied set of digests, checked against the card JSON 2.0 rules we rely on
(tests/cardkit.py lists them: schema "2.0", header title and template, the components allowed in
body.elements, markdown content, button behaviors and their value, panels, tables, counts and
sizes). A card Feishu would refuse, or show other than we mean, fails here first; and the check
itself fails on a bad card."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.chat.replies import Reply
from bot.feishu.cards import analysis_cards, digest_cards, notice_card, reply_cards
from digest.models import Digest, Importance
from tests.cardkit import card_problems
from tests.chat_samples import HOSTILE, NOTES, digests, replies
from tests.fakes.feishu import DEFAULT_CHAT, FakeFeishu
from tests.feishu.test_fake_feishu import client_for, create

DIGESTS = digests()
REPORT = "https://digest.example/r/octo%2Fdemo/2026-02-05?sig=x&y=1"


@pytest.mark.parametrize("min_importance", [Importance.LOW, Importance.HIGH])
@pytest.mark.parametrize(("name", "digest"), DIGESTS, ids=[n for n, _ in DIGESTS])
def test_every_digest_card_keeps_the_rules(
    name: str, digest: Digest, min_importance: Importance
) -> None:
    cards = digest_cards(
        digest, report_url=REPORT, min_importance=min_importance, notes=NOTES, run_key="run-7"
    )
    assert cards
    for n, card in enumerate(cards):
        assert card_problems(card) == [], (name, n)


@pytest.mark.parametrize(("name", "digest"), DIGESTS, ids=[n for n, _ in DIGESTS])
def test_every_analysis_card_keeps_the_rules(name: str, digest: Digest) -> None:
    for entry in digest.entries:
        for language in ("zh", "en"):
            for card in analysis_cards(entry, language=language, lead=f"{HOSTILE}@abc1234"):
                assert card_problems(card) == [], (name, entry.commit.short_sha)


@pytest.mark.parametrize(("name", "reply"), replies(), ids=[n for n, _ in replies()])
def test_every_reply_card_keeps_the_rules(name: str, reply: Reply) -> None:
    cards = reply_cards(reply)
    assert cards
    for card in cards:
        assert card_problems(card) == [], name


def test_a_notice_card_keeps_the_rules() -> None:
    assert card_problems(notice_card(HOSTILE * 40)) == []


def good() -> dict[str, Any]:
    """A card of ours that keeps every rule, to break one rule at a time."""
    (card,) = reply_cards(replies()[3][1])[:1]  # an analysis: panels, markdown, divs
    assert card_problems(card) == []
    return copy.deepcopy(card)


def broken(change: str) -> dict[str, Any]:
    card = good()
    elements = card["body"]["elements"]
    button = {"tag": "button", "text": {"tag": "plain_text", "content": "详情"}}
    table = {"tag": "table", "columns": [{"name": "a", "display_name": "A"}], "rows": [{"a": "1"}]}
    if change == "schema":
        card["schema"] = "1.0"
    elif change == "v1-root-elements":
        card["elements"] = elements
    elif change == "no-title":
        del card["header"]["title"]
    elif change == "template":
        card["header"]["template"] = "pink"
    elif change == "v1-tag":
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": "x"}]})
    elif change == "empty-markdown":
        elements.append({"tag": "markdown", "content": " "})
    elif change == "button-without-behaviors":
        elements.append(button | {"value": {"sha": "abc"}})
    elif change == "callback-value-not-strings":
        behaviors = [{"type": "callback", "value": {"sha": "abc", "n": 1}}]
        elements.append(button | {"behaviors": behaviors})
    elif change == "table-in-panel":
        header = {"title": {"tag": "plain_text", "content": "p"}}
        elements.append({"tag": "collapsible_panel", "header": header, "elements": [table]})
    elif change == "page-size":
        elements.append(table | {"page_size": 20})
    elif change == "row-key":
        elements.append(table | {"rows": [{"b": "1"}]})
    elif change == "six-tables":
        elements.extend([table] * 6)
    elif change == "components":
        elements.extend([{"tag": "markdown", "content": "x"}] * 200)
    elif change == "size":
        elements.append({"tag": "markdown", "content": "提交" * 6000})
    elif change == "update_multi":
        card["config"]["update_multi"] = False
    return card


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ("schema", 'not "2.0"'),
        ("v1-root-elements", "/elements is no key"),
        ("no-title", "/header/title"),
        ("template", "not a Feishu colour"),
        ("v1-tag", "'note' is no component"),
        ("empty-markdown", "content must be a non-empty string"),
        ("button-without-behaviors", "behaviors must be a non-empty array"),
        ("callback-value-not-strings", "must hold strings"),
        ("table-in-panel", "never in a panel"),
        ("page-size", "page_size must be 1-10"),
        ("row-key", "keys no column names"),
        ("six-tables", "6 tables"),
        ("components", "tagged components"),
        ("size", "bytes, more than"),
        ("update_multi", "update_multi must be true"),
    ],
)
def test_a_card_breaking_a_rule_fails_the_check(change: str, says: str) -> None:
    problems = card_problems(broken(change))
    assert problems and says in " ".join(problems), problems


def test_the_fake_feishu_refuses_such_a_card_and_fails_the_test_at_exit() -> None:
    app_id = "cli_cardkit0000000001"
    with (
        pytest.raises(AssertionError, match=r"cards breaking tests/cardkit\.py"),
        FakeFeishu(app_id=app_id, app_secret="s") as fake,
    ):
        client = client_for(fake, "s")
        ok = client.im.v1.message.create(create(DEFAULT_CHAT, "interactive", good()))
        assert ok.code == 0
        bad = broken("callback-value-not-strings")
        refused = client.im.v1.message.create(create(DEFAULT_CHAT, "interactive", bad))
        assert refused.code == 230099 and "must hold strings" in refused.msg
        assert len(fake.sent(DEFAULT_CHAT)) == 1
