"""The Azure DevOps sandbox app, called directly through its ``handle`` seam."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linesight.sandbox.ado import AdoApp
from linesight.sandbox.dataset import DatasetError
from linesight.sandbox.wire import Request, Response

TOKEN = "sandbox-token"
BASE = "http://127.0.0.1:9"
V71 = "application/json;api-version=7.1-preview.3"
PREVIEW4 = "application/json;api-version=7.1-preview.4"
PATCH = "application/json-patch+json"


def work_item(
    item_id: int, kind: str = "User Story", state: str = "Active", **fields: Any
) -> dict[str, Any]:
    parent = fields.pop("parent", None)
    payload: dict[str, Any] = {
        "id": item_id,
        "rev": 3,
        "fields": {
            "System.AreaPath": "Fabrikam\\Checkout",
            "System.TeamProject": "Fabrikam",
            "System.IterationPath": "Fabrikam\\Sprint 1",
            "System.WorkItemType": kind,
            "System.State": state,
            "System.CreatedDate": "2026-10-01T09:00:00.123Z",
            "System.ChangedDate": "2026-11-20T10:00:00.000Z",
            "System.Title": f"{kind} {item_id}",
            **fields,
        },
    }
    if parent is not None:
        payload["relations"] = [
            {
                "rel": "System.LinkTypes.Hierarchy-Reverse",
                "url": f"https://dev.azure.com/contoso/_apis/wit/workItems/{parent}",
                "attributes": {"isLocked": False, "name": "Parent"},
            }
        ]
    return payload


def entries(**extra: Any) -> list[dict[str, Any]]:
    items = [
        work_item(4700, "Epic", **{"System.Tags": "KR:KR1.1"}),
        work_item(4711, parent=4700, **{"System.Tags": "checkout; KR:KR1.1"}),
        work_item(4712, state="New", parent=4700),
        work_item(4713, "Task", "Closed", **{"System.AreaPath": "Fabrikam\\Security"}),
    ]
    return [
        {
            "organization": "contoso",
            "project": "Fabrikam",
            "process": "Agile",
            "work_items": items,
            "forbidden_area_paths": ["Fabrikam\\Security"],
            **extra,
        }
    ]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> AdoApp:
    return AdoApp("contoso", entries(), token=TOKEN, user="sandbox@example.com", clock=clock)


def call(
    app: AdoApp,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: Mapping[str, str] | None = None,
    accept: str = V71,
    content_type: str = "application/json",
    auth: str | None = "Basic " + base64.b64encode(b":" + TOKEN.encode()).decode(),
) -> tuple[int, Any, Response]:
    headers = {"accept": accept, "content-type": content_type}
    if auth is not None:
        headers["authorization"] = auth
    request = Request(
        method=method,
        path=path,
        query={k: [v] for k, v in (query or {}).items()},
        headers=headers,
        body=json.dumps(body).encode() if body is not None else b"",
        mount="/ado/contoso",
        base_url=BASE,
    )
    response = app.handle(request)
    parsed = None
    if response.body and response.headers.get("Content-Type", "").startswith("application/json"):
        parsed = json.loads(response.body)
    return response.status, parsed, response


def patch(app: AdoApp, item_id: int, *ops: dict[str, Any], **query: str) -> tuple[int, Any]:
    status, body, _ = call(
        app,
        "PATCH",
        f"/Fabrikam/_apis/wit/workitems/{item_id}",
        list(ops),
        content_type=PATCH,
        query=query,
    )
    return status, body


def get(app: AdoApp, item_id: int, expand: str = "Relations") -> dict[str, Any]:
    status, body, _ = call(
        app, "GET", f"/Fabrikam/_apis/wit/workitems/{item_id}", query={"$expand": expand}
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def wiql(app: AdoApp, query: str, **params: str) -> tuple[int, Any]:
    status, body, _ = call(app, "POST", "/Fabrikam/_apis/wit/wiql", {"query": query}, query=params)
    return status, body


# -- dataset ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["work_items"][1].pop("fields"), r"work_items\[1\]: missing 'fields'"),
        (lambda e: e["work_items"][2].update(id="7"), r"work_items\[2\]: missing 'id'"),
        (
            lambda e: e["work_items"][0]["fields"].update({"System.State": "Doing"}),
            r"'Doing' is not a state of 'Epic'.*New, Active",
        ),
        (
            lambda e: e["work_items"][0]["fields"].update({"System.WorkItemType": "Objective"}),
            "custom_work_item_types",
        ),
        (lambda e: e["work_items"][3].update(id=4700), "duplicate id 4700"),
        (
            lambda e: e["work_items"][0]["fields"].update({"System.AreaPath": "Elsewhere"}),
            "must start with the project name",
        ),
        (lambda e: e.update(process="Waterfall"), "unknown process 'Waterfall'"),
        (
            lambda e: e["work_items"][0]["fields"].update({"System.ChangedDate": "yesterday"}),
            "not an ISO 8601",
        ),
        (
            lambda e: e["work_items"][1]["relations"][0].update(url="https://x/nope"),
            r"relations\[0\].url: a System.LinkTypes.Hierarchy-Reverse link must end in",
        ),
    ],
)
def test_a_bad_dataset_names_the_place(mutate: Any, message: str) -> None:
    data = entries()
    mutate(data[0])
    with pytest.raises(DatasetError, match=message) as error:
        AdoApp("contoso", data, token=TOKEN, user="u")
    assert str(error.value).startswith("azure_devops[contoso/Fabrikam]")


def test_custom_types_and_extra_paths_are_declared_per_entry() -> None:
    data = entries(custom_work_item_types={"Key Result": "Feature"}, area_paths=["Fabrikam\\New"])
    data[0]["work_items"].append(work_item(4800, "Key Result", "Resolved"))
    app = AdoApp("contoso", data, token=TOKEN, user="u")
    status, body, _ = call(app, "GET", "/Fabrikam/_apis/wit/workitemtypes/key result/states")
    assert status == 200
    assert [s["name"] for s in body["value"]] == ["New", "Active", "Resolved", "Closed", "Removed"]
    assert (
        wiql(
            app, "SELECT [System.Id] FROM WorkItems WHERE [System.AreaPath] UNDER 'Fabrikam\\New'"
        )[0]
        == 200
    )


def test_links_point_at_the_sandbox_and_exist_at_both_ends(app: AdoApp) -> None:
    child = get(app, 4711)
    assert child["relations"][0]["url"] == f"{BASE}/ado/contoso/_apis/wit/workItems/4700"
    assert child["fields"]["System.Parent"] == 4700
    epic = get(app, 4700)
    children = {r["url"].rsplit("/", 1)[1] for r in epic["relations"]}
    assert children == {"4711", "4712"}
    assert {r["rel"] for r in epic["relations"]} == {"System.LinkTypes.Hierarchy-Forward"}
    assert epic["_links"]["html"]["href"] == f"{BASE}/ado/contoso/Fabrikam/_workitems/edit/4700"


# -- auth and versions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [None, "Basic " + base64.b64encode(b":wrong").decode(), "Bearer nope", "Digest x"],
)
def test_a_missing_or_wrong_credential_is_401(app: AdoApp, auth: str | None) -> None:
    status, _, response = call(app, "GET", "/Fabrikam/_apis/wit/workitems/4711", auth=auth)
    assert status == 401
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert TOKEN.encode() not in response.body


def test_bearer_and_any_basic_user_are_accepted(app: AdoApp) -> None:
    assert call(app, "GET", "/_apis/resourceAreas", auth=f"Bearer {TOKEN}")[0] == 200
    basic = "Basic " + base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    assert call(app, "GET", "/_apis/resourceAreas", auth=basic)[0] == 200


def test_api_versions_are_checked_like_the_service(app: AdoApp) -> None:
    status, body, _ = call(
        app,
        "POST",
        "/Fabrikam/_apis/wit/workitemsbatch",
        {"ids": [4711]},
        accept="application/json",
    )
    assert (status, body["typeKey"]) == (400, "VssVersionNotSpecifiedException")
    status, body, _ = call(
        app,
        "GET",
        "/Fabrikam/_apis/wit/workItems/4711/comments",
        accept="application/json;api-version=7.1",
    )
    assert (status, body["typeKey"]) == (400, "VssInvalidPreviewVersionException")
    status, body, _ = call(app, "GET", "/_apis/resourceAreas", query={"api-version": "9.0"})
    assert (status, body["typeKey"]) == (400, "VssVersionOutOfRangeException")
    assert call(app, "GET", "/_apis/resourceAreas", query={"api-version": "7.1"})[0] == 200


def test_options_lists_every_served_resource_location(app: AdoApp) -> None:
    status, body, _ = call(app, "OPTIONS", "/_apis")
    assert status == 200
    by_id = {loc["id"]: loc for loc in body["value"]}
    assert by_id["1a9c53f7-f243-4447-b110-35ef023636e4"]["resourceName"] == "wiql"
    assert by_id["608aac0a-32e1-4493-a863-b9cf4566d257"]["resourceVersion"] == 4
    for loc in body["value"]:
        assert set(loc) == {
            "id",
            "area",
            "resourceName",
            "routeTemplate",
            "resourceVersion",
            "minVersion",
            "maxVersion",
            "releasedVersion",
        }


def test_unknown_routes_projects_and_methods(app: AdoApp) -> None:
    assert call(app, "GET", "/Fabrikam/_apis/wit/nothing")[0] == 404
    status, body, _ = call(app, "GET", "/Nope/_apis/wit/workitems/4711")
    assert status == 404 and body["message"].startswith("TF200016")
    status, _, response = call(app, "PUT", "/Fabrikam/_apis/wit/workitems/4711", [])
    assert status == 405 and response.headers["Allow"] == "GET, PATCH, DELETE"


# -- WIQL --------------------------------------------------------------------------------------


def test_wiql_returns_ids_in_the_service_shape(app: AdoApp) -> None:
    status, body = wiql(
        app,
        "SELECT [System.Id], [System.Title] FROM WorkItems WHERE [System.TeamProject] = @project "
        "AND [System.Tags] CONTAINS 'KR:KR1.1' ORDER BY [System.Id] DESC",
    )
    assert status == 200
    assert body["queryType"] == "flat" and body["queryResultType"] == "workItem"
    assert [w["id"] for w in body["workItems"]] == [4711, 4700]
    assert body["workItems"][0]["url"] == f"{BASE}/ado/contoso/_apis/wit/workItems/4711"
    assert [c["name"] for c in body["columns"]] == ["ID", "Title"]
    assert body["sortColumns"][0]["descending"] is True
    assert body["asOf"] == "2026-11-23T09:00:00.000Z"


def test_wiql_errors_have_the_service_shape(app: AdoApp) -> None:
    status, body = wiql(app, "SELECT [System.Id] FROM WorkItems WHERE [Bogus.Field] = 1")
    assert status == 400
    assert set(body) == {
        "$id",
        "innerException",
        "message",
        "typeName",
        "typeKey",
        "errorCode",
        "eventId",
    }
    assert body["message"].startswith("TF51005: The query references a field that does not exist")
    status, body, _ = call(app, "POST", "/Fabrikam/_apis/wit/wiql", {"nope": 1})
    assert status == 400 and "Parameter name: wiql" in body["message"]


def test_time_precision_is_a_query_string_switch(app: AdoApp) -> None:
    query = "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= '2026-11-20T10:00:00Z'"
    assert wiql(app, query)[0] == 400
    status, body = wiql(app, query, timePrecision="true")
    assert status == 200 and len(body["workItems"]) == 4


def test_more_than_20000_results_is_refused_unless_capped_with_top() -> None:
    items = [work_item(i) for i in range(1, 20_003)]
    data = [{"organization": "contoso", "project": "Fabrikam", "work_items": items}]
    app = AdoApp("contoso", data, token=TOKEN, user="u")
    status, body = wiql(app, "SELECT [System.Id] FROM WorkItems")
    assert status == 400
    assert body["message"] == (
        "VS402337: The number of work items returned exceeds the size limit of 20000. "
        "Change the query to return fewer items."
    )
    status, body = wiql(app, "SELECT [System.Id] FROM WorkItems WHERE [System.Id] > 2")
    assert status == 200 and len(body["workItems"]) == 20_000
    status, body = wiql(app, "SELECT [System.Id] FROM WorkItems", **{"$top": "5"})
    assert status == 200 and [w["id"] for w in body["workItems"]] == [1, 2, 3, 4, 5]
    # $top takes the first rows of the whole ordered answer, not the first ones scanned
    newest = "SELECT [System.Id] FROM WorkItems ORDER BY [System.Id] DESC"
    status, body = wiql(app, newest, **{"$top": "3"})
    assert status == 200 and [w["id"] for w in body["workItems"]] == [20_002, 20_001, 20_000]
    keyset = "SELECT [System.Id] FROM WorkItems WHERE [System.Id] > 19_998 ORDER BY [System.Id]"
    status, body = wiql(app, keyset.replace("_", ""), **{"$top": "20000"})
    assert status == 200 and [w["id"] for w in body["workItems"]] == [
        19_999,
        20_000,
        20_001,
        20_002,
    ]


# -- reading ---------------------------------------------------------------------------------


def batch(app: AdoApp, body: dict[str, Any]) -> tuple[int, Any]:
    status, parsed, _ = call(app, "POST", "/Fabrikam/_apis/wit/workitemsbatch", body)
    return status, parsed


def test_batch_returns_the_items_in_request_order(app: AdoApp) -> None:
    status, body = batch(app, {"ids": [4712, 4700], "$expand": "relations"})
    assert status == 200 and body["count"] == 2
    assert [v["id"] for v in body["value"]] == [4712, 4700]
    assert "relations" in body["value"][0] and "_links" not in body["value"][0]
    status, body = batch(app, {"ids": [4711], "fields": ["System.Title", "System.State"]})
    assert body["value"][0]["fields"] == {
        "System.Title": "User Story 4711",
        "System.State": "Active",
    }


@pytest.mark.parametrize(
    ("request_body", "status", "message"),
    [
        (
            {"ids": list(range(1, 202))},
            400,
            "VS403474: You requested 201 work items which exceeds the limit of 200",
        ),
        (
            {"ids": [4711], "fields": ["System.Title"], "$expand": "Relations"},
            400,
            "can not be used with the fields",
        ),
        ({"ids": [4711, 1]}, 404, "TF401232: Work item 1 does not exist"),
        (
            {"ids": [4711], "fields": ["Bogus.Field"]},
            400,
            "TF51535: Cannot find field Bogus.Field.",
        ),
        ({"ids": []}, 400, "ids parameter is required"),
        ({"ids": [4711], "$expand": "everything"}, 400, "is not valid"),
    ],
)
def test_batch_refusals(
    app: AdoApp, request_body: dict[str, Any], status: int, message: str
) -> None:
    got_status, body = batch(app, request_body)
    assert got_status == status
    assert message in body["message"]


def test_error_policy_omit_returns_null_for_missing_items(app: AdoApp) -> None:
    status, body = batch(app, {"ids": [1, 4711], "errorPolicy": "Omit"})
    assert status == 200 and body["value"][0] is None and body["value"][1]["id"] == 4711


def test_get_by_ids_and_by_id(app: AdoApp) -> None:
    status, body, _ = call(
        app,
        "GET",
        "/Fabrikam/_apis/wit/workitems",
        query={"ids": "4700,4711", "fields": "System.Title"},
    )
    assert status == 200 and [v["fields"] for v in body["value"]] == [
        {"System.Title": "Epic 4700"},
        {"System.Title": "User Story 4711"},
    ]
    status, body, _ = call(app, "GET", "/_apis/wit/workitems/4711")
    assert status == 200 and "relations" not in body and "_links" in body


def test_rendered_json_is_cached_until_the_item_changes(app: AdoApp) -> None:
    first = call(app, "POST", "/Fabrikam/_apis/wit/workitemsbatch", {"ids": [4711]})[2].body
    second = call(app, "POST", "/Fabrikam/_apis/wit/workitemsbatch", {"ids": [4711]})[2].body
    assert first == second
    patch(app, 4711, {"op": "replace", "path": "/fields/System.Title", "value": "Renamed"})
    third = call(app, "POST", "/Fabrikam/_apis/wit/workitemsbatch", {"ids": [4711]})[2].body
    assert b"Renamed" in third


def test_a_batch_of_200_is_cheap() -> None:
    data = [
        {
            "organization": "contoso",
            "project": "Fabrikam",
            "work_items": [work_item(i, parent=1 if i > 1 else None) for i in range(1, 1001)],
        }
    ]
    app = AdoApp("contoso", data, token=TOKEN, user="u")
    ids = list(range(401, 601))
    call(app, "POST", "/Fabrikam/_apis/wit/workitemsbatch", {"ids": ids, "$expand": "Relations"})
    started = time.process_time()
    for _ in range(20):
        status, _, _ = call(
            app, "POST", "/Fabrikam/_apis/wit/workitemsbatch", {"ids": ids, "$expand": "Relations"}
        )
        assert status == 200
    per_batch = (time.process_time() - started) / 20
    assert per_batch < 0.02, f"{per_batch * 1000:.1f} ms CPU per 200-item batch"


# -- writing -----------------------------------------------------------------------------------


def test_tags_add_appends_without_duplicates_and_replace_sets(app: AdoApp, clock: Clock) -> None:
    status, body = patch(
        app,
        4711,
        {"op": "test", "path": "/rev", "value": 3},
        {"op": "add", "path": "/fields/System.Tags", "value": "kr:kr1.1; linesight-orphan"},
    )
    assert status == 200
    assert body["fields"]["System.Tags"] == "checkout; KR:KR1.1; linesight-orphan"
    assert body["rev"] == 4 and body["fields"]["System.Rev"] == 4
    assert body["fields"]["System.ChangedDate"] == "2026-11-23T09:00:00.000Z"
    assert body["fields"]["System.ChangedBy"]["uniqueName"] == "sandbox@example.com"
    status, body = patch(
        app, 4711, {"op": "replace", "path": "/fields/System.Tags", "value": "checkout"}
    )
    assert body["fields"]["System.Tags"] == "checkout" and body["rev"] == 5
    # Same clock: the next revision's ChangedDate still moves forward.
    assert body["fields"]["System.ChangedDate"] == "2026-11-23T09:00:00.001Z"
    status, body = patch(app, 4711, {"op": "remove", "path": "/fields/System.Tags"})
    assert "System.Tags" not in body["fields"]


def test_a_stale_rev_is_412_and_changes_nothing(app: AdoApp) -> None:
    status, body = patch(
        app,
        4711,
        {"op": "test", "path": "/rev", "value": 2},
        {"op": "replace", "path": "/fields/System.Title", "value": "lost"},
    )
    assert status == 412
    assert body["typeKey"] == "WorkItemRevisionMismatchException"
    assert body["message"].startswith("TF26071")
    assert get(app, 4711)["fields"]["System.Title"] == "User Story 4711"


def test_a_patch_that_changes_nothing_makes_no_revision(app: AdoApp) -> None:
    status, body = patch(
        app, 4711, {"op": "replace", "path": "/fields/System.Title", "value": "User Story 4711"}
    )
    assert status == 200 and body["rev"] == 3


@pytest.mark.parametrize(
    ("op", "status", "message"),
    [
        ({"op": "replace", "path": "/fields/System.State", "value": "Doing"}, 400, "TF401320"),
        ({"op": "replace", "path": "/fields/System.Id", "value": 1}, 400, "TF401326"),
        (
            {
                "op": "replace",
                "path": "/fields/System.ChangedDate",
                "value": "2026-01-01T00:00:00Z",
            },
            400,
            "ReadOnly",
        ),
        ({"op": "add", "path": "/fields/Bogus.Field", "value": 1}, 400, "TF51535"),
        (
            {"op": "replace", "path": "/fields/System.AreaPath", "value": "Fabrikam\\Nope"},
            400,
            "TF401347",
        ),
        (
            {"op": "replace", "path": "/fields/System.AreaPath", "value": "Fabrikam\\Security"},
            403,
            "TF237111",
        ),
        (
            {"op": "move", "path": "/fields/System.Title", "from": "/x"},
            400,
            "add, replace, remove and test",
        ),
        ({"op": "add", "path": "/id", "value": 1}, 400, "invalid path"),
        (
            {
                "op": "add",
                "path": "/relations/-",
                "value": {"rel": "System.LinkTypes.Hierarchy-Reverse", "url": "x/workItems/4712"},
            },
            400,
            "only one Parent",
        ),
        (
            {
                "op": "add",
                "path": "/relations/-",
                "value": {"rel": "System.LinkTypes.Related", "url": "x/workItems/999"},
            },
            400,
            "TF201063",
        ),
    ],
)
def test_patch_refusals(app: AdoApp, op: dict[str, Any], status: int, message: str) -> None:
    got, body = patch(app, 4711, op)
    assert got == status, body
    assert message in body["message"]


def test_patch_needs_the_json_patch_content_type(app: AdoApp) -> None:
    status, body, _ = call(
        app,
        "PATCH",
        "/Fabrikam/_apis/wit/workitems/4711",
        [{"op": "add", "path": "/fields/System.Title", "value": "x"}],
    )
    assert status == 415 and "application/json-patch+json" in body["message"]


def test_writes_under_a_forbidden_area_path_are_403(app: AdoApp) -> None:
    status, body = patch(app, 4713, {"op": "add", "path": "/fields/System.Tags", "value": "x"})
    assert status == 403 and body["message"].startswith("TF237111")
    status, body, _ = call(
        app, "POST", "/Fabrikam/_apis/wit/workItems/4713/comments", {"text": "hi"}, accept=PREVIEW4
    )
    assert status == 403


def test_state_changes_stamp_the_process_dates(app: AdoApp, clock: Clock) -> None:
    _, body = patch(app, 4712, {"op": "replace", "path": "/fields/System.State", "value": "closed"})
    fields = body["fields"]
    assert fields["System.State"] == "Closed"
    stamp = "2026-11-23T09:00:00.000Z"
    assert fields["Microsoft.VSTS.Common.ClosedDate"] == stamp
    assert fields["Microsoft.VSTS.Common.ActivatedDate"] == stamp
    assert fields["Microsoft.VSTS.Common.StateChangeDate"] == stamp
    clock.now += timedelta(hours=1)
    _, body = patch(app, 4712, {"op": "replace", "path": "/fields/System.State", "value": "New"})
    assert "Microsoft.VSTS.Common.ClosedDate" not in body["fields"]
    assert "Microsoft.VSTS.Common.ActivatedDate" not in body["fields"]


def test_links_are_kept_at_both_ends(app: AdoApp) -> None:
    status, body = patch(
        app,
        4713,
        {
            "op": "add",
            "path": "/relations/-",
            "value": {
                "rel": "System.LinkTypes.Related",
                "url": "https://anything/_apis/wit/workItems/4712",
            },
        },
    )
    assert status == 403  # 4713 lives under the forbidden area path
    status, body = patch(
        app,
        4712,
        {
            "op": "add",
            "path": "/relations/-",
            "value": {
                "rel": "System.LinkTypes.Related",
                "url": "https://anything/_apis/wit/workItems/4711",
            },
        },
    )
    assert status == 200
    other = get(app, 4711)
    assert other["rev"] == 4  # the other end got a new revision
    assert any(
        r["rel"] == "System.LinkTypes.Related" and r["url"].endswith("/4712")
        for r in other["relations"]
    )
    index = next(i for i, r in enumerate(body["relations"]) if r["rel"].endswith("Related"))
    status, body = patch(app, 4712, {"op": "remove", "path": f"/relations/{index}"})
    assert status == 200
    assert not any(r["rel"].endswith("Related") for r in get(app, 4711)["relations"])


def test_reparenting_moves_the_child_link(app: AdoApp) -> None:
    child = get(app, 4712)
    parent_index = next(i for i, r in enumerate(child["relations"]) if r["rel"].endswith("Reverse"))
    status, body = patch(
        app,
        4712,
        {"op": "remove", "path": f"/relations/{parent_index}"},
        {
            "op": "add",
            "path": "/relations/-",
            "value": {
                "rel": "System.LinkTypes.Hierarchy-Reverse",
                "url": "x/_apis/wit/workItems/4711",
            },
        },
    )
    assert status == 200 and body["fields"]["System.Parent"] == 4711
    assert [r["url"][-4:] for r in get(app, 4700)["relations"]] == ["4711"]
    assert [r["rel"] for r in get(app, 4711)["relations"]] == [
        "System.LinkTypes.Hierarchy-Reverse",
        "System.LinkTypes.Hierarchy-Forward",
    ]


def test_deleted_items_are_gone_and_unlinked(app: AdoApp) -> None:
    status, body, _ = call(app, "DELETE", "/Fabrikam/_apis/wit/workitems/4712")
    assert status == 200 and body["id"] == 4712 and body["code"] == 200
    status, body, _ = call(app, "GET", "/Fabrikam/_apis/wit/workitems/4712")
    assert status == 404 and body["message"].startswith("TF401232")
    assert [r["url"][-4:] for r in get(app, 4700)["relations"]] == ["4711"]
    assert [w["id"] for w in wiql(app, "SELECT [System.Id] FROM WorkItems")[1]["workItems"]] == [
        4700,
        4711,
        4713,
    ]


# -- comments --------------------------------------------------------------------------------


def comments(app: AdoApp, item_id: int, **query: str) -> Any:
    status, body, _ = call(
        app,
        "GET",
        f"/Fabrikam/_apis/wit/workItems/{item_id}/comments",
        query=query,
        accept=PREVIEW4,
    )
    assert status == 200, body
    return body


def add_comment(app: AdoApp, item_id: int, text: str, **query: str) -> Any:
    status, body, _ = call(
        app,
        "POST",
        f"/Fabrikam/_apis/wit/workItems/{item_id}/comments",
        {"text": text},
        query=query,
        accept=PREVIEW4,
    )
    assert status == 200, body
    return body


def test_comments_page_with_a_continuation_token(app: AdoApp) -> None:
    for n in range(5):
        add_comment(app, 4711, f"comment {n}")
    page = comments(app, 4711, **{"$top": "2", "order": "asc"})
    assert (page["totalCount"], page["count"]) == (5, 2)
    texts = [c["text"] for c in page["comments"]]
    while "continuationToken" in page:
        assert page["nextPage"].endswith(f"continuationToken={page['continuationToken']}")
        page = comments(
            app,
            4711,
            **{"$top": "2", "order": "asc", "continuationToken": page["continuationToken"]},
        )
        texts += [c["text"] for c in page["comments"]]
    assert texts == [f"comment {n}" for n in range(5)]
    newest_first = comments(app, 4711)
    assert newest_first["comments"][0]["text"] == "comment 4"


def test_a_comment_is_a_revision_of_the_work_item(app: AdoApp) -> None:
    comment = add_comment(app, 4711, "**Orphan**: no key result", format="markdown")
    assert comment["format"] == "markdown"
    assert comment["renderedText"] == "<p><strong>Orphan</strong>: no key result</p>"
    item = get(app, 4711)
    assert item["rev"] == 4 and item["fields"]["System.CommentCount"] == 1


def test_comment_update_and_delete(app: AdoApp) -> None:
    comment = add_comment(app, 4711, "v1")
    path = f"/Fabrikam/_apis/wit/workItems/4711/comments/{comment['id']}"
    status, body, _ = call(app, "PATCH", path, {"text": "v2"}, accept=PREVIEW4)
    assert status == 200 and body["version"] == 2 and body["text"] == "v2"
    status, _, _ = call(app, "DELETE", path, accept=PREVIEW4)
    assert status == 200
    assert comments(app, 4711)["comments"] == []
    deleted = comments(app, 4711, includeDeleted="true")["comments"]
    assert [c["isDeleted"] for c in deleted] == [True]
    assert call(app, "GET", path, accept=PREVIEW4)[0] == 404
    assert get(app, 4711)["fields"]["System.CommentCount"] == 0


def test_dataset_comments_are_served() -> None:
    data = entries(comments={"4711": [{"text": "<!-- linesight --> hello"}]})
    app = AdoApp("contoso", data, token=TOKEN, user="u")
    assert [c["text"] for c in comments(app, 4711)["comments"]] == ["<!-- linesight --> hello"]
    assert app.state()["Fabrikam"][1]["comments"][0]["text"] == "<!-- linesight --> hello"


# -- metadata ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("process", "kind", "states"),
    [
        (
            "Agile",
            "User Story",
            [
                ("New", "Proposed"),
                ("Active", "InProgress"),
                ("Resolved", "Resolved"),
                ("Closed", "Completed"),
                ("Removed", "Removed"),
            ],
        ),
        (
            "Scrum",
            "Product Backlog Item",
            [
                ("New", "Proposed"),
                ("Approved", "Proposed"),
                ("Committed", "InProgress"),
                ("Done", "Completed"),
                ("Removed", "Removed"),
            ],
        ),
        (
            "CMMI",
            "Requirement",
            [
                ("Proposed", "Proposed"),
                ("Active", "InProgress"),
                ("Resolved", "Resolved"),
                ("Closed", "Completed"),
            ],
        ),
        ("Basic", "Issue", [("To Do", "Proposed"), ("Doing", "InProgress"), ("Done", "Completed")]),
    ],
)
def test_states_per_process(process: str, kind: str, states: list[tuple[str, str]]) -> None:
    data = [{"organization": "contoso", "project": "Fabrikam", "process": process}]
    app = AdoApp("contoso", data, token=TOKEN, user="u")
    status, body, _ = call(app, "GET", f"/Fabrikam/_apis/wit/workitemtypes/{kind}/states")
    assert status == 200 and body["count"] == len(states)
    assert [(s["name"], s["category"]) for s in body["value"]] == states
    assert call(app, "GET", "/Fabrikam/_apis/wit/workitemtypes/Nope/states")[0] == 404


def test_projects_resource_areas_and_relation_types(app: AdoApp) -> None:
    status, body, _ = call(app, "GET", "/_apis/projects/Fabrikam")
    assert status == 200 and body["capabilities"]["processTemplate"]["templateName"] == "Agile"
    status, body, _ = call(app, "GET", "/_apis/resourceAreas")
    wit = next(a for a in body["value"] if a["name"] == "wit")
    assert wit["locationUrl"] == f"{BASE}/ado/contoso/"
    status, body, _ = call(app, "GET", "/_apis/wit/workitemrelationtypes")
    names = {t["referenceName"]: t["name"] for t in body["value"]}
    assert names["System.LinkTypes.Hierarchy-Reverse"] == "Parent"


# -- state, reset, threads -------------------------------------------------------------------


def test_reset_restores_the_dataset(app: AdoApp) -> None:
    patch(app, 4711, {"op": "add", "path": "/fields/System.Tags", "value": "linesight-orphan"})
    add_comment(app, 4711, "hello")
    call(app, "DELETE", "/Fabrikam/_apis/wit/workitems/4712")
    app.reset()
    state = app.state()["Fabrikam"]
    assert [w["id"] for w in state] == [4700, 4711, 4712, 4713]
    assert state[1]["fields"]["System.Tags"] == "checkout; KR:KR1.1"
    assert "comments" not in state[1] and state[1]["rev"] == 3


def test_concurrent_writes_are_serialized(app: AdoApp) -> None:
    errors: list[int] = []

    def writer(n: int) -> None:
        for i in range(10):
            status, _ = patch(
                app, 4711, {"op": "add", "path": "/fields/System.Tags", "value": f"t{n}-{i}"}
            )
            if status != 200:
                errors.append(status)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    item = get(app, 4711)
    assert errors == []
    assert item["rev"] == 3 + 40
    assert len(item["fields"]["System.Tags"].split("; ")) == 2 + 40


def test_past_the_soft_limit_answers_stay_200_with_retry_after(app: AdoApp) -> None:
    assert "Retry-After" not in call(app, "GET", "/_apis/resourceAreas")[2].headers
    app.soft_rate_limit = 2
    statuses = []
    for _ in range(3):
        status, _, response = call(app, "GET", "/_apis/resourceAreas")
        statuses.append((status, response.headers.get("Retry-After")))
    assert statuses == [(200, None), (200, None), (200, "1")]
    assert response.headers["X-RateLimit-Remaining"] == "0"


def _changed(app: AdoApp, moment: str, op: str = ">=", precise: bool = True) -> list[int]:
    query = f"SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] {op} '{moment}'"  # noqa: S608
    params = {"timePrecision": "true"} if precise else {}
    status, body = wiql(app, query + " ORDER BY [System.Id]", **params)
    assert status == 200, body
    return [w["id"] for w in body["workItems"]]


def test_changed_date_queries_see_every_write_and_the_exact_bounds(
    app: AdoApp, clock: Clock
) -> None:
    assert _changed(app, "2026-11-20T10:00:00Z") == [4700, 4711, 4712, 4713]
    assert _changed(app, "2026-11-20T10:00:00Z", ">") == []
    assert _changed(app, "2026-11-21T00:00:00Z") == []
    clock.now = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    assert patch(app, 4712, {"op": "add", "path": "/fields/System.Title", "value": "x"})[0] == 200
    assert _changed(app, "2026-11-21T00:00:00Z") == [4712]  # the index follows the write
    assert _changed(app, "2026-11-22T08:30:00Z") == [4712]
    assert _changed(app, "2026-11-22T08:30:00.001Z") == []
    # day precision compares dates, not moments: the whole day counts
    assert _changed(app, "2026-11-22", precise=False) == [4712]
    assert _changed(app, "2026-11-20", precise=False) == [4700, 4711, 4712, 4713]
    status, _, _ = call(app, "DELETE", "/Fabrikam/_apis/wit/workitems/4712")
    assert status == 200
    # 4712 is gone; its parent lost the link to it, a new revision of the parent
    assert _changed(app, "2026-11-21T00:00:00Z") == [4700]
