"""The sandbox's WIQL answers come from indexes kept current across writes: they must equal a
plain evaluation of the query over every item, whatever was written or deleted before."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linesight.sandbox.ado.app import AdoApp
from linesight.sandbox.wiql import Context, compile_query, parse
from linesight.sandbox.wire import Request

TOKEN = "sandbox-token"
AREAS = ("Fabrikam\\Checkout", "Fabrikam\\Billing", "Fabrikam\\Checkout\\Cards")
STATES = ("New", "Active", "Resolved", "Closed", "Removed")
TAGS = ("checkout", "KR:KR1.1", "urgent", "")
START = datetime(2026, 11, 1, tzinfo=UTC)
CONDITIONS = (
    "[System.AreaPath] UNDER 'Fabrikam\\Checkout'",
    "[System.State] <> 'Removed'",
    "[System.Tags] CONTAINS 'checkout'",
    "[System.TeamProject] = @project",
    "[System.Title] CONTAINS 'story'",
    "NOT [System.Tags] CONTAINS 'urgent'",
    "([System.State] = 'Active' OR [System.AreaPath] = 'Fabrikam\\Billing')",
)


def item(number: int, area: str, state: str, tags: str, day: int) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "System.AreaPath": area,
        "System.TeamProject": "Fabrikam",
        "System.IterationPath": "Fabrikam",
        "System.WorkItemType": "User Story",
        "System.State": state,
        "System.CreatedDate": "2026-10-01T09:00:00.000Z",
        "System.ChangedDate": (START + timedelta(days=day)).isoformat().replace("+00:00", "Z"),
        "System.Title": f"story {number}",
    }
    if tags:
        fields["System.Tags"] = tags
    return {"id": number, "rev": 1, "fields": fields}


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(days=40)

    def __call__(self) -> datetime:
        return self.now


def send(app: AdoApp, method: str, path: str, body: Any, content_type: str) -> Any:
    auth = "Basic " + base64.b64encode(b":" + TOKEN.encode()).decode()
    request = Request(
        method=method,
        path=path,
        query={"api-version": ["7.1"], "timePrecision": ["true"]},
        headers={"authorization": auth, "content-type": content_type},
        body=json.dumps(body).encode(),
        mount="/ado/contoso",
        base_url="http://127.0.0.1:9",
    )
    response = app.handle(request)
    return response.status, json.loads(response.body) if response.body else None


ITEMS = st.lists(
    st.tuples(
        st.sampled_from(AREAS),
        st.sampled_from(STATES[:4]),
        st.sampled_from(TAGS),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=25,
)
WRITES = st.lists(
    st.one_of(
        st.tuples(st.just("title"), st.integers(1, 25), st.sampled_from(("story x", "bug"))),
        st.tuples(st.just("state"), st.integers(1, 25), st.sampled_from(STATES)),
        st.tuples(st.just("area"), st.integers(1, 25), st.sampled_from(AREAS)),
        st.tuples(st.just("tags"), st.integers(1, 25), st.sampled_from(TAGS[:3])),
        st.tuples(st.just("delete"), st.integers(1, 25), st.just("")),
    ),
    max_size=12,
)
QUERY = st.tuples(
    st.lists(st.sampled_from(CONDITIONS), max_size=3, unique=True),
    # ChangedDate >= START + days: writes happen on day 40, the dataset's dates are days 0-30
    st.one_of(st.none(), st.integers(0, 45), st.integers(31, 40)),
    st.one_of(st.none(), st.integers(0, 25)),  # Id > n
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ITEMS, st.lists(st.tuples(WRITES, QUERY), min_size=1, max_size=4))
def test_indexed_answers_equal_a_plain_scan(
    rows: list[tuple[str, str, str, int]], rounds: list[tuple[list[Any], Any]]
) -> None:
    clock = Clock()
    entries = [
        {
            "organization": "contoso",
            "project": "Fabrikam",
            "process": "Agile",
            "area_paths": list(AREAS),
            "work_items": [item(n, *row) for n, row in enumerate(rows, start=1)],
        }
    ]
    app = AdoApp("contoso", entries, token=TOKEN, user="sandbox@example.com", clock=clock)
    for writes, (conditions, since_day, after_id) in rounds:
        for kind, number, value in writes:
            clock.now += timedelta(hours=1)
            path = f"/Fabrikam/_apis/wit/workitems/{number}"
            if kind == "delete":
                send(app, "DELETE", path, None, "application/json")
                continue
            field = {
                "title": "System.Title",
                "state": "System.State",
                "area": "System.AreaPath",
                "tags": "System.Tags",
            }[kind]
            op = [{"op": "add", "path": f"/fields/{field}", "value": value}]
            send(app, "PATCH", path, op, "application/json-patch+json")
        where = list(conditions)
        if since_day is not None:
            moment = (START + timedelta(days=since_day)).isoformat().replace("+00:00", "Z")
            where.append(f"[System.ChangedDate] >= '{moment}'")
        if after_id is not None:
            where.append(f"[System.Id] > {after_id}")
        text = "SELECT [System.Id] FROM WorkItems"
        if where:
            text += " WHERE " + " AND ".join(where)
        status, body = send(
            app, "POST", "/Fabrikam/_apis/wit/wiql", {"query": text}, "application/json"
        )
        assert status == 200, body
        answered = [ref["id"] for ref in body["workItems"]]

        store = app._store
        context = Context(
            project="Fabrikam",
            now=clock.now,
            time_precision=True,
            me=("sandbox@example.com", "Sandbox"),
            path_exists=store.path_exists,
        )
        plan = compile_query(parse(text), store.registry, context)
        expected = [i for i in sorted(store.items) if plan.predicate(store.items[i].fields)]
        assert answered == expected, text
