"""The Feishu cards we post, checked against the card JSON 2.0 rules we rely on: a small schema of
our own (Feishu publishes none to validate against), so that a card Feishu would refuse, or
render other than we mean, fails in a test first.

The rules (open.feishu.cn, "卡片 JSON 2.0 结构" and each component's page):

1. The card: an object with `schema` "2.0", `header` and `body`, and only `config` beside them.
   `config`: `update_multi` true (2.0 cards are shared; false is refused), `width_mode` one of
   default/compact/fill, `summary.content` a string (the chat list's preview).
2. `header`: `title` a text object (`plain_text` or `lark_md`, non-empty `content`), optional
   `subtitle` likewise, `template` one of Feishu's colour names.
3. `body.elements`: a non-empty array; every element an object with a `tag` of the components
   we use that 2.0 still supports: div, markdown, button, collapsible_panel, table, hr,
   column_set, column. The 1.0-only tags (`action`, `note`, `column_set` without columns...)
   are refused by Feishu in a 2.0 card (ErrCode 200861).
4. `div`: a `text` object as in 2; `text_size` and `text_color` from the allowed values.
   `markdown`: a non-empty `content` string.
5. `button`: a plain_text `text`, `type` and `size` from the allowed values, and `behaviors`: a
   non-empty array of `{"type": "callback", "value": {...}}` (a JSON object of strings: what the
   card action hands back to us) or `{"type": "open_url", "default_url": ...}`. A 1.0 `value` or
   `url` on the button itself is ignored by 2.0.
6. `collapsible_panel`: `expanded` a bool, `header.title` a text object, `elements` non-empty;
   no table inside a panel (tables sit at the root of `body`).
7. `table`: `page_size` 1-10, `columns` each with `name`, `display_name` and `data_type` (text,
   lark_md, options, number, persons, date), `rows` objects keyed by column names only.
8. Sizes: at most 200 tagged components (text objects count), at most 5 tables, and the message
   body within 30 KB (`content` is the card as a JSON string inside the request's JSON).
"""

from __future__ import annotations

import json
from typing import Any

CARD_KEYS = {"schema", "config", "header", "body"}
WIDTH_MODES = {"default", "compact", "fill"}
TEMPLATES = {
    "blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine", "violet",
    "purple", "indigo", "grey", "default",
}  # fmt: skip
TEXT_TAGS = {"plain_text", "lark_md"}
TAGS = {"div", "markdown", "button", "collapsible_panel", "table", "hr", "column_set", "column"}
TEXT_SIZES = {"heading-0", "heading-1", "heading-2", "heading-3", "heading-4", "heading",
              "normal", "notation", "xxxx-large", "xxx-large", "xx-large", "x-large", "large",
              "medium", "small", "x-small"}  # fmt: skip
COLORS = {"default", "grey", "red", "orange", "yellow", "green", "blue", "wathet", "turquoise",
          "carmine", "violet", "purple", "indigo", "neutral"}  # fmt: skip
BUTTON_TYPES = {"default", "primary", "danger", "text", "primary_text", "danger_text",
                "primary_filled", "danger_filled", "laser"}  # fmt: skip
BUTTON_SIZES = {"tiny", "small", "medium", "large"}
DATA_TYPES = {"text", "lark_md", "options", "number", "persons", "date"}
MAX_TAGS = 200
MAX_TABLES = 5
MAX_BODY_BYTES = 30 * 1024


def card_problems(card: Any) -> list[str]:
    """Every rule of the module docstring this card breaks (empty: it keeps them all)."""
    if not isinstance(card, dict):
        return [f"a card must be an object, not {type(card).__name__}"]
    out: list[str] = []
    if card.get("schema") != "2.0":
        out.append(f'schema is {card.get("schema")!r}, not "2.0"')
    out += [f"/{k} is no key of a 2.0 card" for k in card if k not in CARD_KEYS]
    out += _config(card.get("config"))
    out += _header(card.get("header"))
    body = card.get("body")
    elements = body.get("elements") if isinstance(body, dict) else None
    if not isinstance(elements, list) or not elements:
        out.append("/body/elements must be a non-empty array")
    else:
        out += _elements(elements, "/body/elements", in_panel=False)
    tags, tables = _count(card), _count(card, "table")
    if tags > MAX_TAGS:
        out.append(f"{tags} tagged components, more than {MAX_TAGS}")
    if tables > MAX_TABLES:
        out.append(f"{tables} tables, more than {MAX_TABLES}")
    content = json.dumps(card, ensure_ascii=False)  # as lark-oapi sends it: UTF-8, not \u escapes
    size = len(json.dumps({"content": content}, ensure_ascii=False).encode())
    if size > MAX_BODY_BYTES:
        out.append(f"the message body is {size} bytes, more than {MAX_BODY_BYTES}")
    return out


def _config(config: Any) -> list[str]:
    if config is None:
        return []
    if not isinstance(config, dict):
        return ["/config must be an object"]
    out = []
    if "update_multi" in config and config["update_multi"] is not True:
        out.append("/config/update_multi must be true in a 2.0 card")
    if "width_mode" in config and config["width_mode"] not in WIDTH_MODES:
        out.append(f"/config/width_mode {config['width_mode']!r} is not one of {WIDTH_MODES}")
    summary = config.get("summary")
    if summary is not None and not (
        isinstance(summary, dict) and isinstance(summary.get("content"), str)
    ):
        out.append("/config/summary must be {content: string}")
    return out


def _text(obj: Any, at: str, tags: set[str] = TEXT_TAGS) -> list[str]:
    if not isinstance(obj, dict) or obj.get("tag") not in tags:
        return [f"{at} must be a text object ({', '.join(sorted(tags))})"]
    content = obj.get("content")
    if not isinstance(content, str) or not content.strip():
        return [f"{at}/content must be a non-empty string"]
    out = []
    if "text_size" in obj and obj["text_size"] not in TEXT_SIZES:
        out.append(f"{at}/text_size {obj['text_size']!r} is not allowed")
    if "text_color" in obj and obj["text_color"] not in COLORS:
        out.append(f"{at}/text_color {obj['text_color']!r} is not allowed")
    return out


def _header(header: Any) -> list[str]:
    if not isinstance(header, dict):
        return ["/header must be an object"]
    out = _text(header.get("title"), "/header/title")
    if "subtitle" in header:
        out += _text(header["subtitle"], "/header/subtitle")
    if header.get("template") not in TEMPLATES:
        out.append(f"/header/template {header.get('template')!r} is not a Feishu colour")
    return out


def _elements(elements: list[Any], at: str, *, in_panel: bool) -> list[str]:
    out: list[str] = []
    for i, element in enumerate(elements):
        here = f"{at}/{i}"
        if not isinstance(element, dict) or not isinstance(element.get("tag"), str):
            out.append(f"{here} must be an object with a tag")
            continue
        tag = element["tag"]
        if tag not in TAGS:
            out.append(f"{here}: {tag!r} is no component of a 2.0 card we use")
        elif tag == "div":
            out += _text(element.get("text"), f"{here}/text")
        elif tag == "markdown":
            content = element.get("content")
            if not isinstance(content, str) or not content.strip():
                out.append(f"{here}/content must be a non-empty string")
        elif tag == "button":
            out += _button(element, here)
        elif tag == "collapsible_panel":
            out += _panel(element, here, in_panel=in_panel)
        elif tag == "table":
            if in_panel:
                out.append(f"{here}: a table sits at the root of body, never in a panel")
            out += _table(element, here)
        elif tag in ("column_set", "column"):
            key = "columns" if tag == "column_set" else "elements"
            inner = element.get(key)
            if not isinstance(inner, list):
                out.append(f"{here}/{key} must be an array")
            else:
                out += _elements(inner, f"{here}/{key}", in_panel=in_panel)
    return out


def _button(button: dict[str, Any], at: str) -> list[str]:
    out = _text(button.get("text"), f"{at}/text", {"plain_text"})
    if button.get("type", "default") not in BUTTON_TYPES:
        out.append(f"{at}/type {button.get('type')!r} is not a button type")
    if button.get("size", "medium") not in BUTTON_SIZES:
        out.append(f"{at}/size {button.get('size')!r} is not a button size")
    out += [f"{at}/{k}: a 1.0 field 2.0 ignores (use behaviors)" for k in ("value", "url")
            if k in button]  # fmt: skip
    behaviors = button.get("behaviors")
    if not isinstance(behaviors, list) or not behaviors:
        return [*out, f"{at}/behaviors must be a non-empty array"]
    for j, behavior in enumerate(behaviors):
        where = f"{at}/behaviors/{j}"
        kind = behavior.get("type") if isinstance(behavior, dict) else None
        if kind == "callback":
            value = behavior.get("value")
            if not isinstance(value, dict) or not value:
                out.append(f"{where}/value must be a non-empty object")
            elif not all(isinstance(v, str) for v in value.values()):
                out.append(f"{where}/value must hold strings (what the callback hands back)")
        elif kind == "open_url":
            if not isinstance(behavior.get("default_url"), str):
                out.append(f"{where}/default_url must be a string")
        else:
            out.append(f"{where}/type {kind!r} is not callback or open_url")
    return out


def _panel(panel: dict[str, Any], at: str, *, in_panel: bool) -> list[str]:
    out = []
    if not isinstance(panel.get("expanded", False), bool):
        out.append(f"{at}/expanded must be a bool")
    header = panel.get("header")
    title = header.get("title") if isinstance(header, dict) else None
    out += _text(title, f"{at}/header/title", {"plain_text", "markdown"})
    elements = panel.get("elements")
    if not isinstance(elements, list) or not elements:
        return [*out, f"{at}/elements must be a non-empty array"]
    return out + _elements(elements, f"{at}/elements", in_panel=True)


def _table(table: dict[str, Any], at: str) -> list[str]:
    out = []
    page = table.get("page_size", 5)
    if not isinstance(page, int) or not 1 <= page <= 10:
        out.append(f"{at}/page_size must be 1-10, not {page!r}")
    columns = table.get("columns")
    if not isinstance(columns, list) or not columns:
        return [*out, f"{at}/columns must be a non-empty array"]
    names = set()
    for j, column in enumerate(columns):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            out.append(f"{at}/columns/{j} must have a name")
            continue
        names.add(column["name"])
        if not isinstance(column.get("display_name"), str):
            out.append(f"{at}/columns/{j}/display_name must be a string")
        if column.get("data_type", "text") not in DATA_TYPES:
            out.append(f"{at}/columns/{j}/data_type {column.get('data_type')!r} is not allowed")
    rows = table.get("rows", [])
    if not isinstance(rows, list):
        return [*out, f"{at}/rows must be an array"]
    for j, row in enumerate(rows):
        if not isinstance(row, dict):
            out.append(f"{at}/rows/{j} must be an object")
        elif unknown := sorted(set(row) - names):
            out.append(f"{at}/rows/{j} has keys no column names: {unknown}")
    return out


def _count(value: Any, tag: str | None = None) -> int:
    if isinstance(value, dict):
        own = value.get("tag")
        mine = 1 if isinstance(own, str) and (tag is None or own == tag) else 0
        return mine + sum(_count(v, tag) for v in value.values())
    if isinstance(value, list):
        return sum(_count(v, tag) for v in value)
    return 0
