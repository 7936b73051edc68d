"""The importance rubric in the LLM's words: the scale the post-rules enforce, with one
example per grade, and every rule of the post-rules table in its own words (Rule.says), so
the model is told exactly what the rules will do to its answer."""

from __future__ import annotations

from digest.analysis.post_rules import RULES


def rubric() -> str:
    """The rubric paragraph of the system prompt (English, whatever the output language)."""
    rules = "; ".join(rule.says for rule in RULES)
    return f"""\
Importance rubric: grade by what the change does, not by its type prefix (a "feat:" is not \
high by itself).
- high: a public interface changes (an exported function or class removed or its signature \
broken, a CLI option or command, a config key or its default, an HTTP route, a database schema \
or migration, a wire format); security-sensitive code or a security fix; a declared breaking \
change; data loss or a correctness bug in a core runtime path; a substantial new user-facing \
capability; a large cross-module refactor; a dependency moved across a major version.
  Example: "feat(cli): add --dry-run to shop import", adding the option and its code path in \
shop/cli.py -> high (a new CLI option).
- medium: fixes outside core paths; features that add no interface; internal refactors; \
dependency bumps with behaviour risk; CI or release pipeline changes; any change of 10 lines \
or fewer that is not declared breaking.
  Example: "fix: handle an empty cart at checkout", 15 lines in shop/cart.py and a test -> \
medium.
- low: docs, typos, comments, formatting, renames and moves, test-only changes, timeouts, \
version bumps.
  Example: "docs: fix a typo in the README" -> low.
Most commits are medium or low; on an ordinary day only a few are high.
These rules are applied to your answer afterwards, and the reason then names the rule, so set \
the flags honestly: {rules}.
"""
