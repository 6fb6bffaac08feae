"""``POST {project}/_apis/wit/wiql``: a flat WIQL query over the store, capped like the service.

Parsing and evaluation live in :mod:`linesight.sandbox.wiql`; this module narrows the scan by
id and project, enforces the 20,000-result cap and writes the answer.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator, Mapping
from datetime import UTC
from itertools import islice
from typing import Any

from linesight.sandbox.ado.errors import AdoError, bad_request
from linesight.sandbox.ado.params import int_arg
from linesight.sandbox.ado.responses import JSON
from linesight.sandbox.ado.store import Project, Store, iso
from linesight.sandbox.wiql import Context, Plan, WiqlError, compile_query, parse
from linesight.sandbox.wire import Request, Response

__all__ = ["MAX_WIQL_RESULTS", "wiql"]


MAX_WIQL_RESULTS = 20000


def _in_id_order(plan: Plan) -> bool:
    """Whether the answer is in ascending id order (what the scan yields)."""
    return all(entry.ref == "System.Id" and not desc for entry, desc in plan.order_by)


def wiql(store: Store, request: Request, project: Project | None) -> Response:
    """Run the posted WIQL query; a 400 with the service's message if it is refused."""
    body = request.json()
    text = body.get("query") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise AdoError(
            400,
            "Value cannot be null.\r\nParameter name: wiql",
            "ArgumentNullException",
            namespace="System",
        )
    top = int_arg(request, "$top")
    time_precision = (request.arg("timePrecision") or "").casefold() == "true"
    caller = store.caller(request)
    now = store.clock().astimezone(UTC)
    try:
        query = parse(text)
        context = Context(
            project=project.name if project is not None else None,
            now=now,
            time_precision=time_precision,
            me=(caller["uniqueName"], caller["displayName"]),
            path_exists=store.path_exists,
        )
        plan = compile_query(query, store.registry, context)
    except WiqlError as exc:
        raise bad_request(exc.message, exc.type_key) from None
    limit = MAX_WIQL_RESULTS if top is None else min(top, MAX_WIQL_RESULTS)
    # Rows come in id order: a query in id order with a $top within the cap (which is then no
    # error) is done once it has $top rows. A keyset scan's pages each read only their part.
    stop_at = limit if top is not None and top <= MAX_WIQL_RESULTS and _in_id_order(plan) else None
    with store.lock:
        # the candidates, in id order: every item, or those changed lately (what an
        # incremental read asks for), narrowed by the query's id bounds
        ids = store.ids if plan.changed_from is None else store.changed_since(plan.changed_from)
        low = bisect.bisect_left(ids, plan.id_low) if plan.id_low is not None else 0
        high = bisect.bisect_right(ids, plan.id_high) if plan.id_high is not None else len(ids)
        items, predicate = store.items, plan.predicate
        matching: Iterator[Mapping[str, Any]]
        if plan.projects is None:
            matching = (
                item.fields
                for item_id in ids[low:high]
                if (item := items[item_id]) and predicate(item.fields)
            )
        else:
            # the projects' names as the items hold them: no casefolding per item
            names = {p.name for p in store.projects.values() if p.name.casefold() in plan.projects}
            matching = (
                item.fields
                for item_id in ids[low:high]
                if (item := items[item_id])
                and item.project.name in names
                and predicate(item.fields)
            )
        rows: list[Mapping[str, Any]] = list(islice(matching, stop_at))
    if len(rows) > limit and (top is None or top > MAX_WIQL_RESULTS):
        raise bad_request(
            f"VS402337: The number of work items returned exceeds the size limit of "
            f"{MAX_WIQL_RESULTS}. Change the query to return fewer items.",
            "WorkItemTrackingQueryResultSizeLimitExceededException",
        )
    if plan.order_by:
        rows = plan.sort(rows)
    rows = rows[:limit]
    fields_url = f"{store.app_url}/_apis/wit/fields/"
    columns = [
        {"referenceName": f.ref, "name": f.name, "url": fields_url + f.ref} for f in plan.select
    ]
    head: dict[str, Any] = {
        "queryType": "flat",
        "queryResultType": "workItem",
        "asOf": iso(now),
        "columns": columns,
    }
    if plan.order_by:
        head["sortColumns"] = [
            {
                "field": {"referenceName": f.ref, "name": f.name, "url": fields_url + f.ref},
                "descending": d,
            }
            for f, d in plan.order_by
        ]
    prefix = json.dumps(head, separators=(",", ":"))[:-1].encode()
    item_base = f"{store.app_url}/_apis/wit/workItems/"
    refs = ",".join(f'{{"id":{f["System.Id"]},"url":"{item_base}{f["System.Id"]}"}}' for f in rows)
    return Response(200, prefix + b',"workItems":[' + refs.encode() + b"]}", {"Content-Type": JSON})
