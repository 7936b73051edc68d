"""The daily report as one self-contained HTML page: the Markdown report, plus a chart of the day.

Pure: a Digest in, a string out. The body is render_markdown's output rendered by markdown-it-py
(CommonMark + tables) with raw HTML turned off, so nothing a commit message or an analyzer wrote
can become markup. The two bits of HTML our own Markdown carries are recognised by their exact
syntax and rebuilt as tokens: `<a id="...">` anchors (their ids move onto the heading or list
item they mark, so every contents link lands on its section) and the `<sub>` meta line. The page
needs no script, no font and no image from anywhere: CSS is inline, the chart is inline SVG, and
a Content-Security-Policy says so to the browser.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from types import MappingProxyType

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from digest.models import Digest, Language
from digest.render.escape import collapse
from digest.render.i18n import FOLDED_EMOJI, IMPORTANCE_EMOJI, IMPORTANCE_ORDER, labels
from digest.render.layout import period
from digest.render.markdown import STATS_ANCHOR, render_markdown

__all__ = ["CSP", "ChartRow", "area_counts", "importance_counts", "render_html"]

# The page loads nothing: no script, no font, no remote image; styles are inline.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
TOP_AREAS = 8
_AREA_LABEL_MAX = 22
_ANCHOR = re.compile(r'<a id="([A-Za-z0-9_.-]{1,200})"></a>')
_SUB_OPEN, _SUB_CLOSE = "<sub>", "</sub>"
_HTML_LANG: Mapping[Language, str] = MappingProxyType({"zh": "zh-CN", "en": "en"})


@dataclass(frozen=True)
class _ChartWords:
    by_importance: str
    by_area: str
    root: str


_CHART_WORDS: Mapping[Language, _ChartWords] = MappingProxyType(
    {
        "zh": _ChartWords(
            "📈 按重要度", "📁 按目录（前 {n} 个，涉及该目录的提交数）", "（根目录）"
        ),
        "en": _ChartWords(
            "📈 By importance", "📁 By area (top {n} directories, commits touching each)", "(root)"
        ),
    }
)


@dataclass(frozen=True)
class ChartRow:
    key: str  # "high" ... "folded", or the directory
    label: str  # what the chart prints (plain text; escaped when drawn)
    count: int
    color: str


def render_html(digest: Digest) -> str:
    lab = labels(digest.language)
    tokens = _MD.parse(render_markdown(digest))
    tokens = _lift_anchors(tokens)
    if digest.stats.total:
        tokens = _insert_chart(tokens, _chart(digest))
    body = _MD.renderer.render(tokens, _MD.options, {})
    title = f"{lab.title.format(period=period(digest.window))} · {digest.repo.full_name}"
    return _page(_HTML_LANG[digest.language], collapse(title), body)


def importance_counts(digest: Digest) -> list[ChartRow]:
    """The stats as chart rows: high, medium, low, failed, folded (they add up to the total)."""
    lab = labels(digest.language)
    stats = digest.stats
    counts = {"high": stats.high, "medium": stats.medium, "low": stats.low}
    rows = [
        ChartRow(
            level.value,
            f"{IMPORTANCE_EMOJI[level]} {lab.importance[level]}",
            counts[level.value],
            _COLORS[level.value],
        )
        for level in IMPORTANCE_ORDER
    ]
    rows.append(ChartRow("failed", lab.stats_failed, stats.failed, _COLORS["failed"]))
    rows.append(
        ChartRow("folded", f"{FOLDED_EMOJI} {lab.stats_folded}", stats.folded, _COLORS["folded"])
    )
    return rows


def area_counts(digest: Digest, top: int = TOP_AREAS) -> list[ChartRow]:
    """Commits per top-level directory (a commit counts once per directory it touches)."""
    root = _CHART_WORDS[digest.language].root
    counter: Counter[str] = Counter()
    for commit in digest.all_commits():
        areas = {f.path.split("/", 1)[0] + "/" if "/" in f.path else root for f in commit.files}
        counter.update(areas)
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [ChartRow(name, _clip(name), n, _COLORS["area"]) for name, n in ranked]


# ---- Markdown -> tokens -------------------------------------------------------------------


def _own_html(state: StateInline, silent: bool) -> bool:
    """Our anchors and `<sub>…</sub>`, matched on the source: escaped text reaches the parser
    as `&lt;`, never as `<`, so only render_markdown's own markup can match here."""
    src, pos = state.src, state.pos
    if src[pos] != "<":
        return False
    match = _ANCHOR.match(src, pos, state.posMax)
    if match:
        if not silent:
            state.push("digest_anchor", "a", 0).attrSet("id", match.group(1))
        state.pos = match.end()
        return True
    if not src.startswith(_SUB_OPEN, pos):
        return False
    close = src.find(_SUB_CLOSE, pos + len(_SUB_OPEN), state.posMax)
    if close < 0:
        return False
    if not silent:
        state.push("sub_open", "sub", 1)
        old_max = state.posMax
        state.pos, state.posMax = pos + len(_SUB_OPEN), close
        state.md.inline.tokenize(state)
        state.posMax = old_max
        state.push("sub_close", "sub", -1)
    state.pos = close + len(_SUB_CLOSE)
    return True


def _render_anchor(
    _self: RendererHTML, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    return f'<a id="{escape(str(tokens[idx].attrGet("id") or ""))}"></a>'


def _render_chart(
    _self: RendererHTML, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    return tokens[idx].content  # built by _chart from escaped parts


def _render_link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    if not str(token.attrGet("href") or "").startswith("#"):
        token.attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


def _markdown() -> MarkdownIt:
    options = {"html": False, "linkify": False, "typographer": False, "xhtmlOut": False}
    md = MarkdownIt("commonmark", options)
    md.enable("table")
    md.inline.ruler.before("autolink", "digest_own_html", _own_html)
    md.add_render_rule("digest_anchor", _render_anchor)
    md.add_render_rule("digest_chart", _render_chart)
    md.add_render_rule("link_open", _render_link_open)
    return md


_MD = _markdown()


def _lift_anchors(tokens: list[Token]) -> list[Token]:
    """Give the anchor's id to the heading after it (a paragraph holding only an anchor) or to
    the list item that starts with it, so a contents link lands on the heading itself."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        lone = _lone_anchor(tokens, i)
        if lone is not None and i + 3 < len(tokens) and tokens[i + 3].type == "heading_open":
            tokens[i + 3].attrSet("id", lone)
            i += 3
            continue
        if token.type == "list_item_open" and i + 2 < len(tokens):
            children = tokens[i + 2].children or []
            if tokens[i + 2].type == "inline" and children and children[0].type == "digest_anchor":
                token.attrSet("id", children[0].attrGet("id") or "")
                tokens[i + 2].children = children[1:]
        out.append(token)
        i += 1
    return out


def _lone_anchor(tokens: list[Token], i: int) -> str | None:
    if i + 2 >= len(tokens) or tokens[i].type != "paragraph_open":
        return None
    inline, close = tokens[i + 1], tokens[i + 2]
    children = inline.children or []
    if close.type != "paragraph_close" or len(children) != 1:
        return None
    if children[0].type != "digest_anchor":
        return None
    return str(children[0].attrGet("id") or "")


def _insert_chart(tokens: list[Token], chart: str) -> list[Token]:
    """Put the chart after the stats line (the blockquote that follows the stats heading)."""
    token = Token("digest_chart", "", 0, content=chart, block=True)
    seen_stats = False
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.attrGet("id") == STATS_ANCHOR:
            seen_stats = True
        elif seen_stats and tok.type == "blockquote_close":
            return [*tokens[: i + 1], token, *tokens[i + 1 :]]
    return [token, *tokens]


# ---- chart --------------------------------------------------------------------------------

_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "high": "#d1242f",
        "medium": "#bf8700",
        "low": "#1a7f37",
        "failed": "#8250df",
        "folded": "#8c959f",
        "area": "#0969da",
    }
)
_ROW_H, _BAR_H, _LABEL_W, _BAR_W, _COUNT_W, _PAD = 26, 16, 170, 200, 40, 6


def _clip(text: str) -> str:
    text = collapse(text)
    return text if len(text) <= _AREA_LABEL_MAX else text[: _AREA_LABEL_MAX - 1] + "…"


def _chart(digest: Digest) -> str:
    words = _CHART_WORDS[digest.language]
    parts = ['<div class="charts">']
    parts.append(_figure("importance", words.by_importance, importance_counts(digest)))
    areas = area_counts(digest)
    if areas:
        parts.append(_figure("area", words.by_area.format(n=TOP_AREAS), areas))
    parts.append("</div>")
    return "\n".join(parts) + "\n"


def _figure(name: str, caption: str, rows: list[ChartRow]) -> str:
    width = _LABEL_W + _BAR_W + _COUNT_W
    height = _PAD * 2 + _ROW_H * len(rows)
    biggest = max((r.count for r in rows), default=0) or 1
    title_id = f"chart-{name}-title"
    svg = [
        f'<svg class="chart-svg" id="chart-{name}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id}">',
        f'<title id="{title_id}">{escape(caption)}</title>',
    ]
    for n, row in enumerate(rows):
        y = _PAD + n * _ROW_H
        bar = round(_BAR_W * row.count / biggest) if row.count else 0
        mid = y + _ROW_H / 2
        svg.append(
            f'<g class="bar" data-key="{escape(row.key)}" data-count="{row.count}">'
            f'<text x="{_LABEL_W - 8}" y="{mid:.0f}" text-anchor="end" '
            f'dominant-baseline="central">{escape(row.label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + (_ROW_H - _BAR_H) / 2:.0f}" width="{bar}" '
            f'height="{_BAR_H}" rx="3" fill="{row.color}"></rect>'
            f'<text x="{_LABEL_W + bar + 6}" y="{mid:.0f}" dominant-baseline="central" '
            f'class="count">{row.count}</text></g>'
        )
    svg.append("</svg>")
    return (
        f'<figure class="chart" data-chart="{name}">'
        f"<figcaption>{escape(caption)}</figcaption>{''.join(svg)}</figure>"
    )


# ---- page ---------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #fff;
  --soft: #f6f8fa; --link: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.6;
  font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, "Liberation Sans",
  "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif,
  "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 1.8em; border-bottom: 1px solid var(--line); padding-bottom: .3em; }
h2 { font-size: 1.45em; border-bottom: 1px solid var(--line); padding-bottom: .3em;
  margin-top: 1.6em; }
h3 { font-size: 1.2em; margin-top: 1.6em; }
h4 { font-size: 1.05em; margin: 1.4em 0 .4em; }
h1, h2, h3, h4, li[id] { scroll-margin-top: 12px; }
:target { background: #fff8c5; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
blockquote { margin: 0 0 1em; padding: .2em 1em; color: var(--muted);
  border-left: .25em solid var(--line); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em;
  background: var(--soft); padding: .15em .35em; border-radius: 4px; }
table { display: block; overflow-x: auto; border-collapse: collapse; margin: 0 0 1em;
  max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 5px 10px; text-align: left;
  vertical-align: top; }
th { background: var(--soft); }
tr:nth-child(2n) td { background: #fbfcfd; }
td:first-child { white-space: nowrap; font-variant-numeric: tabular-nums; }
th:last-child, td:last-child { white-space: nowrap; }
hr { border: 0; border-top: 1px solid var(--line); margin: 1.5em 0; }
sub { color: var(--muted); font-size: .8em; vertical-align: baseline; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 28px; margin: .5em 0 1.5em; }
.chart { margin: 0; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px;
  background: var(--soft); max-width: 100%; }
.chart figcaption { font-weight: 600; margin-bottom: 4px; }
.chart-svg { display: block; max-width: 100%; height: auto; font-size: 13px; fill: var(--fg); }
.chart-svg .count { fill: var(--muted); font-variant-numeric: tabular-nums; }
"""


def _page(lang: str, title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f'<body>\n<main class="report">\n{body}</main>\n</body>\n</html>\n'
    )
