"""The HTML report and the interactive graph in a real headless Chromium.

Run with ``pytest -m browser``. Without Chromium these tests fail and say how to install it.
They also refresh the screenshots in ``docs/`` (report.png, graph.png).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from linesight.outputs.graph_export import export_graph
from linesight.outputs.pmo_report import render_report
from tests.browser.cdp import Browser, Page, chromium
from tests.unit.outputs import sample

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"

# window.open is replaced before any page script runs: the test sees what a click would open
# and no tab ever goes to the network
RECORD_WINDOW_OPEN = """
window.__opened = [];
window.open = function (url) { window.__opened.push(String(url)); return null; };
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def _open(browser: Browser, html: str, path: Path, *, width: int = 1280, height: int = 900) -> Page:
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(width, height)
    page.send("Network.enable")
    page.send("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_WINDOW_OPEN})
    page.goto(path.as_uri())
    return page


def _requests(page: Page) -> list[str]:
    return [e["request"]["url"] for e in page.events("Network.requestWillBeSent")]


def _full_page_screenshot(page: Page, target: Path) -> None:
    metrics = page.send("Page.getLayoutMetrics")["cssContentSize"]
    shot = page.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": metrics["width"],
                "height": metrics["height"],
                "scale": 1,
            },
        },
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(base64.b64decode(shot["data"]))


def _tame(graph: nx.DiGraph) -> nx.DiGraph:
    """The sample graph with ordinary titles, for the screenshot in the docs."""
    tamed = graph.copy()
    tamed.nodes["item:jira:PAY-7"].update(title="Spike: new fraud provider", label="")
    tamed.nodes["item:ado:4711"].update(title="Migrate build agents")
    return tamed


# --- the report ----------------------------------------------------------------------------------
def test_report_renders_its_charts_runs_nothing_and_loads_nothing(
    browser: Browser, tmp_path: Path
) -> None:
    html = render_report(
        sample.result(), "html", history=sample.history(), source_errors={"ado-main": "HTTP 401"}
    )
    page = _open(browser, html, tmp_path / "report.html")
    assert page.console_errors() == []
    sizes = page.evaluate(
        "Array.from(document.querySelectorAll('figure svg')).map(s => {"
        " const r = s.getBoundingClientRect(); return [r.width, r.height,"
        " s.querySelectorAll('path, rect, line, polyline').length]; })"
    )
    assert len(sizes) == 3
    for width, height, shapes in sizes:
        assert width > 200 and height > 80 and shapes > 5
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img, script').length") == 0
    assert sample.HOSTILE.split("\n")[0] in page.evaluate("document.body.innerText")
    assert _requests(page) == [(tmp_path / "report.html").as_uri()]  # nothing from the network


def test_report_screenshot(browser: Browser, tmp_path: Path) -> None:
    tame = sample.result()
    tame = tame.model_copy(
        update={
            "orphans": [
                o.model_copy(update={"title": "Spike: new fraud provider"})
                if o.key == "PAY-7"
                else o.model_copy(update={"title": "Migrate build agents"})
                if o.key == "4711"
                else o
                for o in tame.orphans
            ]
        }
    )
    html = render_report(tame, "html", history=sample.history(), source_errors={})
    page = _open(browser, html, tmp_path / "report.html")
    assert page.console_errors() == []
    _full_page_screenshot(page, DOCS / "report.png")
    assert (DOCS / "report.png").stat().st_size > 20_000


# --- the interactive graph -----------------------------------------------------------------------
def _node_point(page: Page, key: str) -> tuple[float, float]:
    point: dict[str, Any] = page.evaluate(
        "(() => { const ls = window.linesight;"
        f" const n = ls.data.nodes.find(n => n.key === {key!r});"
        " const p = ls.network.canvasToDOM(ls.network.getPosition(n.id));"
        " const r = document.getElementById('graph').getBoundingClientRect();"
        " return {x: p.x + r.left, y: p.y + r.top}; })()"
    )
    return point["x"], point["y"]


def test_graph_page_draws_opens_links_and_runs_no_title(browser: Browser, tmp_path: Path) -> None:
    page = _open(browser, export_graph(sample.graph(), "html"), tmp_path / "graph.html")
    page.wait_for("window.linesight && window.linesight.state.ready")
    assert page.console_errors() == []
    canvas = page.evaluate(
        "(() => { const c = document.querySelector('#graph canvas');"
        " return c ? [c.width, c.height] : null; })()"
    )
    assert canvas and canvas[0] > 500 and canvas[1] > 300

    x, y = _node_point(page, "PAY-2")
    page.click(x, y)
    page.wait_for("window.__opened.length > 0")
    assert page.evaluate("window.__opened") == [sample.BASE + "PAY-2"]

    x, y = _node_point(page, "PAY-7")
    page.click(x, y)
    page.wait_for("!document.getElementById('details').hidden")
    heading = page.evaluate("document.querySelector('#details h2').textContent")
    assert heading == "PAY-7 — " + sample.HOSTILE
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0

    # the item with a javascript: URL opens nothing
    opened = len(page.evaluate("window.__opened"))
    x, y = _node_point(page, "4711")
    page.click(x, y)
    time.sleep(0.2)
    assert len(page.evaluate("window.__opened")) == opened
    assert page.evaluate("typeof window.__pwned") == "undefined"

    page.evaluate(
        "(() => { const s = document.getElementById('objective-filter');"
        " s.value = String(window.linesight.data.objectives.find(o => o.key === 'O2').id);"
        " s.dispatchEvent(new Event('change')); })()"
    )
    visible = page.evaluate(
        "window.linesight.data.nodes.filter(n =>"
        " !window.linesight.network.body.data.nodes.get(n.id).hidden).map(n => n.key).sort()"
    )
    assert visible == ["KR2.1", "O2"]
    assert page.console_errors() == []
    assert _requests(page) == [(tmp_path / "graph.html").as_uri()]


def test_graph_screenshot(browser: Browser, tmp_path: Path) -> None:
    html = export_graph(_tame(sample.graph()), "html")
    page = _open(browser, html, tmp_path / "graph.html", width=1280, height=720)
    page.wait_for("window.linesight && window.linesight.state.ready")
    x, y = _node_point(page, "PAY-1")
    page.click(x, y)  # show the details panel in the picture
    page.wait_for("!document.getElementById('details').hidden")
    time.sleep(0.3)
    assert page.console_errors() == []
    page.screenshot(DOCS / "graph.png")
    assert (DOCS / "graph.png").stat().st_size > 20_000
