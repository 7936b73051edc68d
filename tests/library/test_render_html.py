"""The report page: structure, anchors, escaping and the chart, read back with an HTML parser."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.cli import main
from digest.models import (
    AffectedArea,
    AnalysisStatus,
    Commit,
    Digest,
    FileChange,
    FileStatus,
    FoldedCommit,
    FoldReason,
    Importance,
    Insights,
    Language,
    Risk,
)
from digest.render.html import area_counts, importance_counts, render_html
from digest.render.i18n import labels
from digest.render.layout import layout
from tests.gitrepo import GitRepo
from tests.library.test_render_markdown import (
    busy_digest,
    hour,
    make_analysis,
    make_commit,
    make_digest,
    make_entry,
)

VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "source", "col", "wbr"})
HOSTILE = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "[click me](javascript:alert(3))",
    '<a href="javascript:alert(4)">link</a>',
    '<a id="pwned"></a><sub>fake meta</sub>',
    "&lt;b&gt; &amp;",
    "<!-- comment --><style>body{display:none}</style>",
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parents: tuple[str, ...]
    svg: str = ""  # the id of the svg it sits in
    text: str = ""


@dataclass
class Page:
    """What the parser saw: every element (with its ancestors), and the visible text."""

    elements: list[Element] = field(default_factory=list)
    text: str = ""
    doctype: str = ""

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def ids(self) -> list[str]:
        return [e.attrs["id"] for e in self.elements if "id" in e.attrs]

    def hrefs(self) -> list[str]:
        return [e.attrs["href"] for e in self.all("a") if "href" in e.attrs]

    def by_id(self, anchor: str) -> Element:
        (found,) = [e for e in self.elements if e.attrs.get("id") == anchor]
        return found


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[Element] = []
        self.chunks: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.page.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        svg = next((e.attrs.get("id", "") for e in self.stack if e.tag == "svg"), "")
        element = Element(
            tag, {k: v or "" for k, v in attrs}, tuple(e.tag for e in self.stack), svg
        )
        self.page.elements.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1].tag == tag, f"</{tag}> does not close its element"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(e.tag in ("style", "title") for e in self.stack):
            self.chunks.append(data)
        for element in self.stack:
            element.text += data


def parse_page(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    assert not parser.stack, f"unclosed: {[e.tag for e in parser.stack]}"
    parser.page.text = "".join(parser.chunks)
    return parser.page


def check_inert(page: Page) -> None:
    """No script, no event handler, no remote resource, no link but http(s) and #anchors."""
    tags = {e.tag for e in page.elements}
    assert not tags & {"script", "img", "iframe", "object", "embed", "form", "link", "base"}
    assert [e.tag for e in page.all("style")] == ["style"]  # ours, in <head>
    for element in page.elements:
        assert not any(name.startswith("on") for name in element.attrs), element
        assert "src" not in element.attrs and "srcset" not in element.attrs
    for href in page.hrefs():
        assert href.startswith(("#", "https://", "http://")), href


def chart_counts(page: Page, chart: str) -> dict[str, int]:
    """The bars of one chart, as drawn: {key: count}, each with its label and a rect."""
    (svg,) = [e for e in page.all("svg") if e.attrs.get("id") == f"chart-{chart}"]
    assert int(svg.attrs["width"]) > 0 and int(svg.attrs["height"]) > 0
    assert "figure" in svg.parents
    bars = [e for e in page.all("g") if e.svg == svg.attrs["id"]]
    rects = [e for e in page.all("rect") if e.svg == svg.attrs["id"]]
    assert len(rects) == len(bars)
    counts = {e.attrs["data-key"]: int(e.attrs["data-count"]) for e in bars}
    for bar in bars:
        assert bar.text.endswith(bar.attrs["data-count"])  # the number is printed too
    return counts


# --- structure -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_readable_self_contained_page(language: Language) -> None:
    digest = busy_digest(language)
    html = render_html(digest)
    page = parse_page(html)
    lab = labels(language)
    assert page.doctype.lower() == "doctype html"
    (root,) = page.all("html")
    assert root.attrs["lang"] == ("zh-CN" if language == "zh" else "en")
    metas = {e.attrs.get("http-equiv", e.attrs.get("name", "")): e.attrs for e in page.all("meta")}
    csp = metas["Content-Security-Policy"]["content"]
    assert csp.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    assert metas["referrer"]["content"] == "no-referrer"
    (title,) = [e for e in page.all("title") if "head" in e.parents]
    assert "2026-02-05" in title.text and "ai-dynamo/dynamo" in title.text
    check_inert(page)
    # Headings nest as in the Markdown: one title, the repo, groups, commits.
    assert [h.text for h in page.all("h1")] == [lab.title.format(period="2026-02-05")]
    assert [h.text for h in page.all("h2")] == ["ai-dynamo/dynamo"]
    h3 = [h.text for h in page.all("h3")]
    assert h3[:2] == [lab.stats, lab.contents]
    assert lab.group_heading(Importance.HIGH, 2) in h3
    assert len(page.all("h4")) == 5  # the analysed commits, failed one included
    # The table: one row per commit, newest first.
    rows = [e for e in page.all("tr") if "tbody" in e.parents]
    assert len(rows) == digest.stats.total == 8
    assert rows[0].text.strip().startswith("2026-02-05 17:00:00")
    # The meta line is a real <sub>, the commit link goes to GitHub and says nothing back.
    assert len(page.all("sub")) == 5
    external = [e for e in page.all("a") if e.attrs.get("href", "").startswith("https://")]
    assert external and all(e.attrs["rel"] == "noopener noreferrer nofollow" for e in external)


def test_every_contents_link_lands_on_its_section() -> None:
    digest = busy_digest("en")
    page = parse_page(render_html(digest))
    ids = page.ids()
    assert len(ids) == len(set(ids)), "ids are unique"
    links = [h[1:] for h in page.hrefs() if h.startswith("#")]
    assert links and set(links) <= set(ids)
    lay = layout(digest)
    # Sections and commits are the headings (or folded list items) themselves.
    for section in lay.sections:
        assert page.by_id(section.anchor).tag == "h3"
        for item in section.items:
            target = page.by_id(item.anchor)
            assert target.tag == ("li" if item.fold_reason else "h4")
            assert item.commit.title in target.text
            assert f"#{item.anchor}" in page.hrefs()
    assert page.by_id(lay.repo_anchor).tag == "h2"
    assert page.by_id("stats").tag == "h3"
    # No anchor survives as an empty <a id> or as visible markup.
    assert not [e for e in page.all("a") if "href" not in e.attrs]
    assert '<a id="' not in page.text


def hostile_digest(language: Language = "en") -> Digest:
    text = " ".join(HOSTILE)
    analysis = make_analysis(
        Importance.HIGH,
        importance_reason=text,
        summary=f"{text}\n# not a heading\n| not | a table |",
        affected_areas=(AffectedArea(path_or_module=HOSTILE[0], note=HOSTILE[1]),),
        insights=Insights(security=HOSTILE[2]),
        risks=(Risk(risk=HOSTILE[3], severity=Importance.HIGH),),
        recommendations=(HOSTILE[4],),
    )
    commit = make_commit(1, f"feat: {text}\n\n{text}", author=HOSTILE[1], at=hour(9))
    commit = commit.model_copy(
        update={"files": (FileChange(path="<b onclick=alert(5)>/x.py", status=FileStatus.ADDED),)}
    )
    folded = FoldedCommit(
        commit=make_commit(2, f"Merge {HOSTILE[0]}", at=hour(8)), reason=FoldReason.MERGE
    )
    failed = make_entry(
        make_commit(3, HOSTILE[3], at=hour(7)), status=AnalysisStatus.FAILED, error=HOSTILE[0]
    )
    return make_digest((make_entry(commit, analysis), failed), (folded,), language=language)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_hostile_commit_text_stays_text(language: Language) -> None:
    html = render_html(hostile_digest(language))
    page = parse_page(html)
    check_inert(page)
    assert "pwned" not in page.ids()
    assert page.all("sub") == [e for e in page.all("sub") if "fake meta" not in e.text]
    assert "<script>alert(1)</script>" in page.text
    assert '<img src=x onerror="alert(2)">' in page.text
    assert "[click me](javascript:alert(3))" in page.text
    assert "&lt;b&gt; &amp;" in page.text  # entities in a message are shown as typed
    assert "<b onclick=alert(5)>/" in page.text  # the area chart's label, as text
    assert "javascript:" not in " ".join(page.hrefs())
    # The markup a message tried to open is not there: one h1, no table beyond ours.
    assert len(page.all("h1")) == 1 and len(page.all("table")) == 1


# --- the chart -----------------------------------------------------------------------------


def files(*paths: str) -> tuple[FileChange, ...]:
    return tuple(FileChange(path=p, status=FileStatus.MODIFIED, additions=1) for p in paths)


def with_files(commit: Commit, *paths: str) -> Commit:
    return commit.model_copy(update={"files": files(*paths)})


def test_the_chart_counts_what_the_stats_count() -> None:
    digest = busy_digest("en")
    page = parse_page(render_html(digest))
    stats = digest.stats
    counts = chart_counts(page, "importance")
    assert counts == {
        "high": stats.high,
        "medium": stats.medium,
        "low": stats.low,
        "failed": stats.failed,
        "folded": stats.folded,
    }
    assert sum(counts.values()) == stats.total
    assert [r.count for r in importance_counts(digest)] == list(counts.values())
    # The chart is drawn right after the stats line, and its labels are the report's.
    charts = page.all("figure")
    assert charts and "⚠️ Failed" in page.text
    assert not [f for f in page.all("figure") if f.attrs.get("data-chart") == "area"]


def test_the_area_chart_counts_commits_per_top_directory() -> None:
    a = make_entry(with_files(make_commit(1, at=hour(9)), "src/a.py", "src/b.py", "docs/x.md"))
    b = make_entry(with_files(make_commit(2, at=hour(8)), "src/c.py", "README.md"))
    c = make_entry(with_files(make_commit(3, at=hour(7)), "tests/t.py"))
    d = FoldedCommit(
        commit=with_files(make_commit(4, at=hour(6)), "uv.lock"), reason=FoldReason.LOCKFILE
    )
    digest = make_digest((a, b, c), (d,), language="zh")
    page = parse_page(render_html(digest))
    expected = {"src/": 2, "（根目录）": 2, "docs/": 1, "tests/": 1}
    assert chart_counts(page, "area") == expected
    assert [(r.key, r.count) for r in area_counts(digest)] == [
        ("src/", 2),
        ("（根目录）", 2),
        ("docs/", 1),
        ("tests/", 1),
    ]
    many = make_digest(
        tuple(
            make_entry(with_files(make_commit(i, at=hour(9, i)), f"d{i:02}/f.py"))
            for i in range(12)
        )
    )
    assert len(area_counts(many)) == 8
    assert len(chart_counts(parse_page(render_html(many)), "area")) == 8


def test_an_empty_day_says_so_without_a_chart() -> None:
    page = parse_page(render_html(make_digest(language="en")))
    assert "No commits in this window." in page.text
    assert not page.all("svg") and not page.all("table")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_chart_words_follow_the_language(language: Language) -> None:
    a = make_entry(with_files(make_commit(1, at=hour(9)), "src/a.py"))
    page = parse_page(render_html(make_digest((a,), language=language)))
    captions = [e.text for e in page.all("figcaption")]
    if language == "zh":
        assert captions[0] == "📈 按重要度" and captions[1].startswith("📁 按目录")
        assert "🔴 高" in page.text
    else:
        assert captions[0] == "📈 By importance" and captions[1].startswith("📁 By area")
        assert "🔴 High" in page.text
    assert len(page.all("svg")) == 2


# --- digest report --format html -----------------------------------------------------------


def test_report_format_html_writes_the_page(tmp_path: Path) -> None:
    sh = timezone(timedelta(hours=8))
    repo = GitRepo.init(tmp_path / "proj")
    repo.commit(
        "fix: <script>document.title='pwned'</script>",
        {"src/core/run.py": "x = 1\n"},
        when=datetime(2026, 2, 5, 12, 0, tzinfo=sh),
    )
    repo.commit("docs: guide", {"docs/guide.md": "# G\n"}, when=datetime(2026, 2, 5, 13, tzinfo=sh))
    target = tmp_path / "report.html"
    out, err = io.StringIO(), io.StringIO()
    argv = ["report", str(repo.path), "--date", "2026-02-05", "--tz", "Asia/Shanghai"]
    code = main(
        [*argv, "--format", "html", "--lang", "en", "-o", str(target)],
        now=lambda: datetime(2026, 2, 6, 12, tzinfo=UTC),
        stdout=out,
        stderr=err,
        env_file=None,
    )
    assert code == 0, err.getvalue()
    page = parse_page(target.read_text(encoding="utf-8"))
    check_inert(page)
    assert "<script>document.title='pwned'</script>" in page.text
    counts = chart_counts(page, "importance")
    assert counts["high"] + counts["medium"] + counts["low"] == 2
    assert chart_counts(page, "area") == {"src/": 1, "docs/": 1}
    # `show` has no html format: argparse refuses it with the usage.
    code = main(
        ["show", str(repo.path), "HEAD", "--format", "html"],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        env_file=None,
    )
    assert code == 2
