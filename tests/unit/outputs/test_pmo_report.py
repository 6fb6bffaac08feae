"""outputs.pmo_report: content, order, escaping and the four formats."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from linesight.errors import UserError
from linesight.outputs.pmo_report import (
    CSV_COLUMNS,
    DIAGNOSTIC_ADVICE,
    SnapshotPoint,
    build_report,
    reason_text,
    render_report,
)
from tests.unit.analysis import org
from tests.unit.outputs import sample
from tests.unit.outputs.sample import FORMULA, HOSTILE

SPEC_ORPHAN_COLUMNS = [
    "source",
    "key",
    "type",
    "title",
    "status",
    "reason",
    "age_days",
    "team",
    "url",
]
ERRORS = {"ado-main": "HTTP 401 from the server: check the personal access token"}


def _render(fmt: str, *, trend: bool = True) -> str:
    return render_report(
        sample.result(trend=trend),
        fmt,
        history=sample.history(),
        source_errors=ERRORS,  # type: ignore[arg-type]
    )


# --- content -------------------------------------------------------------------------------------
def test_groups_by_team_largest_first_and_oldest_first_within() -> None:
    report = build_report(sample.result())
    assert [g.name for g in report.groups] == ["Checkout", "Platform", "Fabrikam (no team)"]
    assert [r.orphan.key for r in report.groups[0].rows] == ["PAY-3", "PAY-7", "PAY-9"]
    assert report.groups[0].oldest_days == 120.0
    assert report.groups[2].project == "Fabrikam" and report.groups[2].team is None


def test_reasons_in_words() -> None:
    by_key = {r.orphan.key: r.reason for g in build_report(sample.result()).groups for r in g.rows}
    assert by_key["PAY-3"] == "no link to any key result"
    assert by_key["PAY-9"] == "names a key result that does not exist: KR9.9"
    assert by_key["4711"] == "linked only to inactive key results: KR0.1"
    two = sample.result().orphans[2].model_copy(update={"named_krs": ["KR9.8", "KR9.9"]})
    assert reason_text(two) == "names key results that do not exist: KR9.8, KR9.9"


def test_unsupported_before_stalled_and_diagnostics_by_severity() -> None:
    report = build_report(sample.result())
    assert [(kr.id, kr.status) for kr in report.unsupported] == [
        ("KR2.2", "unsupported"),
        ("KR1.2", "stalled"),
    ]
    assert [d.diagnostic.code for d in report.diagnostics] == ["wip_over_limit", "low_alignment"]
    assert all(d.advice and d.meaning for d in report.diagnostics)


def test_every_diagnostic_code_has_advice() -> None:
    from typing import get_args

    from linesight.analysis.result import Diagnostic

    codes = get_args(Diagnostic.model_fields["code"].annotation)
    assert set(codes) == set(DIAGNOSTIC_ADVICE)


def test_history_is_sorted_and_ends_with_this_run() -> None:
    past = sample.history(5)
    report = build_report(sample.result(), history=list(reversed(past)))
    assert [p.at for p in report.history] == [*(p.at for p in past), sample.NOW]
    assert report.history[-1] == SnapshotPoint.of(sample.result())


def test_unreadable_trend_is_reported_not_raised() -> None:
    broken = sample.result().model_copy(update={"trend": {"orphan_count_delta": "lots"}})
    report = build_report(broken)
    assert report.trend is None
    assert report.trend_problem is not None and "could not be read" in report.trend_problem
    assert "could not be read" in render_report(broken, "html")


# --- Markdown ------------------------------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _markdown_html(source: str) -> _Tags:
    parsed = _Tags()
    parsed.feed(MarkdownIt("commonmark", {"html": True}).enable("table").render(source))
    return parsed


def test_markdown_report_reads_in_order_and_escapes_titles() -> None:
    text = _render("md")
    headings = re.findall(r"^#+ (.*)$", text, re.MULTILINE)
    assert headings[:4] == [
        "Orphan-work report — 2026-Q4",
        "Totals",
        "Since the last run",
        "Orphaned work (5)",
    ]
    assert (
        headings.index("Unsupported and stalled key results (2)")
        < headings.index("WIP per objective")
        < headings.index("Diagnostics (2)")
    )
    assert "| Orphaned items | 5 | \\+2 |" in text
    assert "| Orphan share of open work | 12% | \\+2.5 pts |" in text
    rendered = _markdown_html(text)
    tags = {tag for tag, _ in rendered.tags}
    assert not tags & {"script", "img", "iframe"}
    plain = "".join(rendered.text)
    assert HOSTILE.replace("\n", " ") in plain
    assert "49" not in plain  # {{7*7}} stays text
    links = [attrs["href"] for tag, attrs in rendered.tags if tag == "a"]
    assert sample.BASE + "PAY-7" in links
    assert not [href for href in links if not href or not href.startswith("http://127.0.0.1")]


def test_markdown_tables_keep_their_columns() -> None:
    rendered = _markdown_html(_render("md"))
    rows: list[int] = []
    count = 0
    for tag, _ in rendered.tags:
        if tag == "tr":
            rows.append(count)
            count = 0
        elif tag in ("td", "th"):
            count += 1
    rows.append(count)
    # every orphan row has 6 cells even though one title contains `|` and a newline:
    # 3 group headers + 5 orphans, and the key-result table's header + 2 rows
    assert rows.count(6) == 3 + 5 + 3


def test_markdown_trend_diagnostics_and_source_errors() -> None:
    text = _render("md")
    assert "**New orphans (2):** jira:PAY-7, jira:PAY-9" in text
    assert "**No longer orphans (1):** jira:PAY-1" in text
    assert "| O1 Make checkout effortless for returning customers | 14.5 | 12 | \\+2.5 |" in text
    assert "What to do: Stop starting, start finishing" in text
    assert "source ado-main could not be synced" in text
    assert "Since the last run" not in _render("md", trend=False)


# --- CSV -----------------------------------------------------------------------------------------
def test_csv_opens_with_the_csv_module_and_has_the_spec_columns() -> None:
    text = _render("csv")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.DictReader(io.StringIO(text.encode("utf-8").decode("utf-8-sig"))))
    assert list(rows[0])[: len(SPEC_ORPHAN_COLUMNS)] == SPEC_ORPHAN_COLUMNS
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["key"] for r in rows] == ["PAY-3", "PAY-7", "PAY-9", "OPS-1", "4711"]
    by_key = {r["key"]: r for r in rows}
    assert by_key["PAY-7"]["title"] == HOSTILE  # the newline survives inside the quoted cell
    assert by_key["4711"]["title"] == "'" + FORMULA  # never a formula
    assert by_key["4711"]["team"] == ""
    assert by_key["PAY-9"]["named_krs"] == "KR9.9"
    assert float(by_key["PAY-3"]["age_days"]) == 120.0
    assert by_key["PAY-9"]["reason_text"] == "names a key result that does not exist: KR9.9"


# --- JSON ----------------------------------------------------------------------------------------
def test_json_is_the_report_as_data() -> None:
    data = json.loads(_render("json"))
    assert data["summary"]["orphan_count"] == 5
    assert [g["name"] for g in data["groups"]] == ["Checkout", "Platform", "Fabrikam (no team)"]
    assert [o["key"] for o in data["orphans"]][:3] == ["PAY-3", "PAY-7", "PAY-9"]
    assert data["orphans"][1]["title"] == HOSTILE
    assert data["orphans"][1]["group"] == "Checkout"
    assert data["trend"]["new_orphans"] == ["jira:PAY-7", "jira:PAY-9"]
    assert data["diagnostics"][0]["advice"].startswith("Stop starting")
    assert data["source_errors"] == ERRORS
    assert len(data["history"]) == 15 and data["history"][-1]["orphan_share"] == 0.125


# --- HTML ----------------------------------------------------------------------------------------
def test_html_is_self_contained_and_runs_nothing() -> None:
    page = _render("html")
    parsed = _Tags()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    assert not [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]
    assert not [t for t, attrs in parsed.tags if t == "link" or attrs.get("src")]
    # the only links are the items' own (http), never javascript:
    hrefs = [attrs.get("href") for tag, attrs in parsed.tags if tag == "a"]
    assert hrefs and all(h and h.startswith("http://127.0.0.1:9/browse/") for h in hrefs)
    assert "javascript:" not in page
    assert "default-src 'none'" in page  # and a policy that would block it anyway
    assert not re.search(
        r"(?:href|src)=\"(?!http://127\.0\.0\.1)[a-z]+:",
        page.replace('xmlns="http://www.w3.org/2000/svg"', ""),
    )
    text = "".join(parsed.text)
    assert HOSTILE in text
    assert "{{7*7}}" in text and "49" not in text


def test_html_has_three_inline_svg_charts_without_scripts_or_links() -> None:
    page = _render("html")
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert len(svgs) == 3
    for svg in svgs:
        assert "<script" not in svg
        assert not re.search(r'(?:href|src)="(?!#)', svg)  # internal references only
        assert "url(http" not in svg and "@import" not in svg
        assert re.search(r'viewBox="0 0 [\d.]+ [\d.]+"', svg)
        assert "<text" in svg  # text stays text
    assert 'id="chart-wip"' in page and 'id="chart-orphan-share"' in page
    assert 'id="chart-kr-status"' in page


def test_html_shows_totals_trend_groups_and_notes() -> None:
    page = _render("html")
    sections = [
        "Orphaned items",
        "<h2>Since the last run",
        "<h2>Orphaned work",
        "<h2>Unsupported and stalled key results",
        "<h2>WIP per objective",
        "<h2>Diagnostics",
    ]
    positions = [page.index(marker) for marker in sections]
    assert positions == sorted(positions)
    assert (
        page.index(">Checkout <") < page.index(">Platform <") < page.index(">Fabrikam (no team) <")
    )
    assert page.index(">PAY-3<") < page.index(">PAY-7<") < page.index(">PAY-9<")
    assert "Source “ado-main” could not be synced" in page
    assert "What to do:" in page
    assert '<span class="tag over">over</span>' in page
    assert "jira:PAY-7" in page  # a new orphan chip


# --- edges ---------------------------------------------------------------------------------------
def test_unknown_format() -> None:
    with pytest.raises(UserError, match="choose one of: html, md, csv, json"):
        render_report(sample.result(), "pdf")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["html", "md", "csv", "json"])
def test_every_format_from_a_real_analysis(fmt: str) -> None:
    objectives = [org.objective("O1", org.kr("KR1.1"), org.kr("KR1.2"), wip_limit=1)]
    items = [
        org.item("PAY-1", "in_progress", labels=["kr-KR1.1"], created=org.days_ago(9)),
        org.item("PAY-2", "in_progress", created=org.days_ago(30), team="Payments"),
        org.item("PAY-3", "todo", labels=["kr-KR9.9"], created=org.days_ago(2)),
    ]
    result = org.run(objectives, items).result
    text = render_report(result, fmt)  # type: ignore[arg-type]
    assert "PAY-2" in text and "PAY-3" in text
    if fmt == "json":
        assert [o["key"] for o in json.loads(text)["orphans"]] == ["PAY-2", "PAY-3"]


@pytest.mark.parametrize("fmt", ["html", "md", "csv", "json"])
def test_an_empty_organisation_renders(fmt: str) -> None:
    result = org.run([], []).result
    text = render_report(result, fmt)  # type: ignore[arg-type]
    assert text
    if fmt in ("html", "md"):
        assert "No orphans" in text
