"""Card JSON 2.0 primitives and Feishu's limits: the few components we post, how big they are on
the wire, and how a stream of them is packed into cards without losing any.

Limits kept (open.feishu.cn card docs; tests/test_feishu_cards.py checks them):
- a card of at most ~30 KB: we keep 28,000 bytes, measured as the request carries it: the card
  as `json.dumps(card, ensure_ascii=False)` makes it (default separators; `card_json`, compact,
  is smaller), that string again as the `content` of im/v1/messages, so quotes and newlines
  are escaped twice. Never send a card with `ensure_ascii=True`: it triples Chinese text;
- at most 200 tagged components per card (every object with a `tag`, text objects included);
- at most 5 `table` components per card, tables at the root of `body` only (not in panels).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.feishu.escape import split_markdown

Element = dict[str, Any]
Card = dict[str, Any]

MAX_CARD_BYTES = 28_000
MAX_TAGS = 200
MAX_TABLES = 5
MARKDOWN_PIECE = 6_000  # wire bytes of one markdown/plain text: long texts are several elements
PANEL_BYTES = 20_000  # one collapsible panel; a longer analysis continues in a second panel
TABLE_PAGE = 10  # rows per page in the client (Feishu allows 1-10)

TEMPLATES = frozenset(
    {"blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine", "violet"}
    | {"purple", "indigo", "grey", "default"}
)


def card_json(card: Card) -> str:
    """The card as the `content` of a message: compact, UTF-8 (within the limits with room)."""
    return json.dumps(card, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Size:
    """What a card, or a part of one, costs against the limits."""

    wire: int = 0  # bytes inside the request's `content` string
    spaced: int = 0  # bytes of json.dumps(..., ensure_ascii=False), the card JSON itself
    tags: int = 0
    tables: int = 0

    def __add__(self, other: Size) -> Size:
        return Size(
            self.wire + other.wire,
            self.spaced + other.spaced,
            self.tags + other.tags,
            self.tables + other.tables,
        )

    def within_limits(self) -> bool:
        return (
            self.wire <= MAX_CARD_BYTES
            and self.spaced <= MAX_CARD_BYTES
            and self.tags <= MAX_TAGS
            and self.tables <= MAX_TABLES
        )


def measure(obj: Any) -> Size:
    """The size of one JSON value (an element, a row, an empty card)."""
    spaced = json.dumps(obj, ensure_ascii=False)
    wire = len(json.dumps(spaced, ensure_ascii=False).encode("utf-8")) - 2
    return Size(wire, len(spaced.encode("utf-8")), count_tags(obj), count_tags(obj, "table"))


def _joined(items: Sequence[Size]) -> Size:
    """Items of one JSON array: their sizes plus the separators (`, `)."""
    total = sum(items, Size())
    n = max(len(items) - 1, 0)
    return total + Size(wire=2 * n, spaced=2 * n)


def card_size(card: Card) -> Size:
    """The whole card, as posted: the wire size includes the quotes around the content string."""
    return measure(card) + Size(wire=2)


def count_tags(value: Any, tag: str | None = None) -> int:
    """Every object with a `tag` (or with this `tag`) at any depth: what Feishu counts against
    its 200 components (or its 5 tables)."""
    if isinstance(value, dict):
        own = value.get("tag")
        mine = 1 if isinstance(own, str) and (tag is None or own == tag) else 0
        return mine + sum(count_tags(v, tag) for v in value.values())
    if isinstance(value, list):
        return sum(count_tags(v, tag) for v in value)
    return 0


# --- components ----------------------------------------------------------------------------


def card(header: Element, elements: list[Element], summary: str) -> Card:
    """A JSON 2.0 card; `summary` (plain text) is what the chat list shows for it."""
    return {
        "schema": "2.0",
        "config": {"update_multi": True, "width_mode": "fill", "summary": {"content": summary}},
        "header": header,
        "body": {"elements": elements},
    }


def header(title: str, template: str, subtitle: str | None = None) -> Element:
    """A card header of plain text (untrusted parts already through `plain`)."""
    head: Element = {"title": {"tag": "plain_text", "content": title}}
    if subtitle:
        head["subtitle"] = {"tag": "plain_text", "content": subtitle}
    head["template"] = template if template in TEMPLATES else "default"
    return head


def plain_div(text: str, *, small: bool = False, color: str | None = None) -> Element:
    """Plain text (already through `plain`): never parsed as markdown."""
    obj: Element = {"tag": "plain_text", "content": text}
    if small:
        obj["text_size"] = "notation"
    if color:
        obj["text_color"] = color
    return {"tag": "div", "text": obj}


def plain_divs(text: str, *, small: bool = False, color: str | None = None) -> list[Element]:
    """Plain text as as many divs as its length needs (cut at line breaks, as markdown is)."""
    return [
        plain_div(piece, small=small, color=color) for piece in split_markdown(text, MARKDOWN_PIECE)
    ]


def markdowns(content: str) -> list[Element]:
    """Markdown (untrusted parts already through `markdown`) in elements of a bounded size."""
    return [
        {"tag": "markdown", "content": piece} for piece in split_markdown(content, MARKDOWN_PIECE)
    ]


def button(label: str, value: dict[str, str]) -> Element:
    """A button whose click comes back to us as a card action callback carrying `value`."""
    return {
        "tag": "button",
        "text": {"tag": "plain_text", "content": label},
        "type": "default",
        "size": "small",
        "behaviors": [{"type": "callback", "value": value}],
    }


def panel(title: str, elements: list[Element]) -> Element:
    """A collapsible panel, folded, with a plain-text title (already through `plain`)."""
    return {
        "tag": "collapsible_panel",
        "expanded": False,
        "header": {
            "title": {"tag": "plain_text", "content": title},
            "icon": {"tag": "standard_icon", "token": "down-small-ccm_outlined", "color": "grey"},
            "icon_position": "right",
            "icon_expanded_angle": -180,
        },
        "border": {"color": "grey", "corner_radius": "5px"},
        "vertical_spacing": "8px",
        "padding": "8px 8px 8px 8px",
        "elements": elements,
    }


def panels(title: str, elements: list[Element], continued: str) -> list[Element]:
    """One panel, or several when the content is longer than a panel may be; the later ones
    say so in their titles (`continued` has {n} and {total})."""
    overhead = measure(panel(title + " " + continued.format(n=99, total=99), []))
    groups: list[list[Element]] = []
    sizes: list[Size] = []
    for element in elements:
        size = measure(element)
        if groups and (overhead + _joined([*sizes, size])).wire <= PANEL_BYTES:
            groups[-1].append(element)
            sizes.append(size)
        else:
            groups.append([element])
            sizes = [size]
    if len(groups) <= 1:
        return [panel(title, elements)]
    total = len(groups)
    return [
        panel(title if n == 1 else f"{title} {continued.format(n=n, total=total)}", group)
        for n, group in enumerate(groups, start=1)
    ]


@dataclass(frozen=True)
class Column:
    name: str  # the key of the rows
    title: str  # shown
    data_type: str = "text"  # text: shown as written; lark_md: our own links only


def table(columns: Sequence[Column], rows: list[dict[str, str]]) -> Element:
    return {
        "tag": "table",
        "page_size": TABLE_PAGE,
        "row_height": "low",
        "header_style": {"bold": True, "background_style": "grey"},
        "columns": [
            {"name": c.name, "display_name": c.title, "data_type": c.data_type} for c in columns
        ],
        "rows": rows,
    }


# --- packing -------------------------------------------------------------------------------


@dataclass
class Packer:
    """Elements into cards, in order. A unit (a heading and its first panel, a caption and its
    table) stays in one card; a unit too big for any card is spread over several by element."""

    base: Size  # an empty card with the largest header any of the cards will have
    cards: list[list[Element]] = field(default_factory=list)
    current: list[Element] = field(default_factory=list)
    sizes: list[Size] = field(default_factory=list)

    def _fits(self, more: Iterable[Size]) -> bool:
        return (self.base + _joined([*self.sizes, *more])).within_limits()

    def _flush(self) -> None:
        if self.current:
            self.cards.append(self.current)
        self.current, self.sizes = [], []

    def add(self, unit: list[Element]) -> None:
        sizes = [measure(e) for e in unit]
        if not self._fits(sizes) and self.current:
            self._flush()
        if self._fits(sizes):
            self.current += unit
            self.sizes += sizes
            return
        for element, size in zip(unit, sizes, strict=True):  # alone, it does not fit a card
            if not self._fits([size]):
                self._flush()
            self.current.append(element)
            self.sizes.append(size)

    def add_table(
        self, columns: Sequence[Column], rows: list[dict[str, str]], caption: str
    ) -> None:
        """Rows as tables that fill each card's remaining room, each after a caption saying
        which rows it holds (`caption` has {first} {last} {total}); one table needs none."""
        total = len(rows)
        widest = plain_div(
            caption.format(first=total, last=total, total=total), small=True, color="grey"
        )
        caption_size = measure(widest)
        empty = measure(table(columns, []))
        row_sizes = [measure(row) for row in rows]
        placed: list[tuple[Element, int, int]] = []
        start = 0
        while start < total:
            count = 0
            while start + count < total and self._fits(
                [caption_size, empty + _joined(row_sizes[start : start + count + 1])]
            ):
                count += 1
            if count == 0 and self.current:
                self._flush()
                continue
            count = max(count, 1)
            chunk = rows[start : start + count]
            caption_el = plain_div("", small=True, color="grey")
            self.current += [caption_el, table(columns, chunk)]
            self.sizes += [caption_size, empty + _joined(row_sizes[start : start + count])]
            placed.append((caption_el, start + 1, start + count))
            start += count
        if len(placed) == 1:  # one table: no caption (it is in the current card)
            index = next(i for i, e in enumerate(self.current) if e is placed[0][0])
            del self.current[index], self.sizes[index]
            return
        for caption_el, first, last in placed:
            caption_el["text"]["content"] = caption.format(first=first, last=last, total=total)

    def finish(self) -> list[list[Element]]:
        self._flush()
        return self.cards or [[]]


def pack_cards(
    elements_units: Iterable[list[Element]],
    *,
    title: str,
    template: str,
    subtitle: str | None,
    continued: str,
    summary: str | None = None,
) -> list[Card]:
    """Units into as many cards as they need, each with the same header; the later ones say
    they continue (`continued` has {n} and {total}) in the subtitle and the summary."""
    packer = Packer(base=base_size(title, template, subtitle, continued, summary))
    for unit in elements_units:
        packer.add(unit)
    return framed_cards(packer.finish(), title, template, subtitle, continued, summary)


def framed_cards(
    bodies: list[list[Element]],
    title: str,
    template: str,
    subtitle: str | None,
    continued: str,
    summary: str | None = None,
) -> list[Card]:
    """Each card's elements under the shared header; `summary` (the chat list's preview,
    plain text) defaults to the title."""
    total = len(bodies)
    return [
        _framed(title, template, subtitle, continued, summary, n, total, body)
        for n, body in enumerate(bodies, start=1)
    ]


def base_size(
    title: str, template: str, subtitle: str | None, continued: str, summary: str | None = None
) -> Size:
    """An empty card whose header is as long as any of a post's cards can have."""
    empty = _framed(title, template, subtitle, continued, summary, 999, 999, [])
    return measure(empty) + Size(wire=2)


def _framed(
    title: str,
    template: str,
    subtitle: str | None,
    continued: str,
    summary: str | None,
    n: int,
    total: int,
    elements: list[Element],
) -> Card:
    mark = continued.format(n=n, total=total) if n > 1 else ""
    sub = " · ".join(part for part in (subtitle, mark) if part) or None
    preview = f"{summary or title} {mark}".strip()
    return card(header(title, template, sub), elements, preview)
