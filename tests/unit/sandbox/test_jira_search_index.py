"""The sandbox's indexed search answers exactly what a scan of every issue answers.

Queries bounded by id or ``updated`` are evaluated over a slice of a sorted index; wrapping the
same condition in ``NOT (NOT (...))`` hides its bounds and forces the plain scan, so the two
answers must agree, before and after writes.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from linesight.sandbox.jira import JiraApp
from linesight.sandbox.wire import DEFAULT_TOKEN, DEFAULT_USER, Request
from linesight.testing.plugin import jira_issue

PROJECTS = ("PAY", "OPS", "SEC")
START = datetime(2026, 11, 1, tzinfo=UTC)
AUTH = "Basic " + base64.b64encode(f"{DEFAULT_USER}:{DEFAULT_TOKEN}".encode()).decode()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _issues() -> list[dict[str, Any]]:
    issues = []
    for n in range(300):
        project = PROJECTS[n % 3]
        # ids with gaps and updates spread over three weeks, in an order unrelated to the ids
        updated = _stamp(START + timedelta(minutes=(n * 7919) % 30_000))
        issues.append(
            jira_issue(
                10_000 + 3 * n,
                f"{project}-{n + 1}",
                category=("new", "indeterminate", "done")[n % 3],
                labels=("checkout",) if n % 5 == 0 else (),
                updated=updated if n % 50 else "",  # a few without a readable date
            )
        )
    return issues


def _app() -> JiraApp:
    return JiraApp("cloud", "cloud", _issues(), token=DEFAULT_TOKEN, user=DEFAULT_USER)


APP = _app()


def _call(app: JiraApp, method: str, path: str, body: Any) -> Any:
    request = Request(
        method=method,
        path=f"/rest/api/3/{path}",
        query={},
        headers={"authorization": AUTH, "content-type": "application/json"},
        body=json.dumps(body).encode(),
        mount="/jira/cloud",
        base_url="http://127.0.0.1:9",
    )
    answer = app.handle(request)
    assert answer.status < 300, answer.body
    return json.loads(answer.body) if answer.body else None


def search(app: JiraApp, jql: str) -> list[str]:
    body = {"jql": jql, "maxResults": 5000, "fields": ["key"]}
    return [issue["key"] for issue in _call(app, "POST", "search/jql", body)["issues"]]


def agree(app: JiraApp, condition: str, order: str = "ORDER BY id ASC") -> list[str]:
    indexed = search(app, f"{condition} {order}")
    assert indexed == search(app, f"NOT (NOT ({condition})) {order}")
    return indexed


ids = st.integers(min_value=9_990, max_value=10_910)
minutes = st.integers(min_value=-60, max_value=30_100)


@st.composite
def conditions(draw: st.DrawFn) -> str:
    parts = []
    projects = draw(st.lists(st.sampled_from(PROJECTS), max_size=3, unique=True))
    if projects:
        parts.append(f"project in ({', '.join(projects)})")
    if draw(st.booleans()):
        parts.append(f"id {draw(st.sampled_from(['>', '>=', '=']))} {draw(ids)}")
    if draw(st.booleans()):
        parts.append(f"id {draw(st.sampled_from(['<', '<=']))} {draw(ids)}")
    if draw(st.booleans()):
        moment = START + timedelta(minutes=draw(minutes))
        op = draw(st.sampled_from([">=", ">", "="]))
        parts.append(f'updated {op} "{moment:%Y-%m-%d %H:%M}"')
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["labels = checkout", "statusCategory != Done"])))
    if not parts:
        parts.append("project = PAY")
    if len(parts) > 2 and draw(st.booleans()):  # brackets do not hide a bound
        parts = [parts[0], f"({' AND '.join(parts[1:])})"]
    return " AND ".join(parts)


@settings(max_examples=150, deadline=None)
@given(condition=conditions(), order=st.sampled_from(["ORDER BY id ASC", "ORDER BY updated DESC"]))
def test_bounded_queries_answer_what_a_full_scan_answers(condition: str, order: str) -> None:
    agree(APP, condition, order)


def test_a_bound_narrows_only_when_every_match_must_satisfy_it() -> None:
    app = _app()
    either = agree(app, "project = PAY AND (id < 10010 OR labels = checkout)")
    assert either[:4] == ["PAY-1", "PAY-4", "PAY-16", "PAY-31"]
    assert len(agree(app, "id > 10600 AND id <= 10700")) == 33
    # the same condition in another order: the same issues, reordered
    ascending = agree(app, "project in (PAY, SEC) AND id > 10600")
    assert agree(app, "project in (PAY, SEC) AND id > 10600", "ORDER BY id DESC") == list(
        reversed(ascending)
    )
    assert agree(app, 'updated >= "2026-12-31 00:00"') == []


def test_writes_refresh_the_index() -> None:
    app = _app()
    recent = f'updated >= "{datetime.now(UTC) - timedelta(minutes=5):%Y-%m-%d %H:%M}"'
    assert agree(app, f"project = OPS AND {recent}") == []
    assert agree(app, "id > 10003 AND id <= 10012") == ["SEC-3", "PAY-4", "OPS-5"]

    _call(app, "PUT", "issue/OPS-5", {"fields": {"summary": "edited"}})
    _call(app, "DELETE", "issue/PAY-4", None)

    assert agree(app, f"project = OPS AND {recent}") == ["OPS-5"]
    assert agree(app, recent, "ORDER BY updated DESC") == ["OPS-5"]
    assert agree(app, "id > 10003 AND id <= 10012") == ["SEC-3", "OPS-5"]
