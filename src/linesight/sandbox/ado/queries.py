"""``POST {project}/_apis/wit/wiql``: a flat WIQL query over the store, capped like the service.

Parsing and evaluation live in :mod:`linesight.sandbox.wiql`; this module narrows the scan by
id and project, enforces the 20,000-result cap and writes the answer.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Hashable, Mapping
from datetime import UTC
from typing import Any

from linesight.sandbox.ado.errors import AdoError, bad_request
from linesight.sandbox.ado.params import int_arg
from linesight.sandbox.ado.responses import JSON
from linesight.sandbox.ado.store import Project, Store, iso
from linesight.sandbox.wiql import Context, Plan, WiqlError, compile_query, parse
from linesight.sandbox.wire import Request, Response

__all__ = ["MAX_WIQL_RESULTS", "wiql"]


MAX_WIQL_RESULTS = 20000


def _matching_ids(store: Store, plan: Plan, scope: Hashable) -> list[int]:
    """Ids of the items matching ``plan``'s condition, ascending, id bounds not yet applied.

    Each top-level ``AND`` condition is answered from the store's query indexes (kept per
    condition and ``scope``: what a condition's meaning depends on besides the items); the
    ``ChangedDate >= ...`` of an incremental read starts from the items changed since.
    """
    if not plan.conjuncts:
        return store.ids
    indexes = store.indexes
    sets = [
        indexes.matching(store, (part, scope), predicate)
        for part, predicate, role in plan.conjuncts
        if not role
    ]
    if plan.changed_from is not None:
        recent = [predicate for _part, predicate, role in plan.conjuncts if role == "changed"]
        candidates = indexes.changed_since(store, plan.changed_from)
        items = store.items
        return [
            item_id
            for item_id in candidates
            if all(item_id in ids for ids in sets)
            and all(test(items[item_id].fields) for test in recent)
        ]
    if not sets:
        return store.ids
    sets.sort(key=len)
    smallest, rest = sets[0], sets[1:]
    return sorted(item_id for item_id in smallest if all(item_id in ids for ids in rest))


def _in_id_order(plan: Plan) -> bool:
    """Whether the answer is in ascending id order (the order the matches come in)."""
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
    scope = (context.project, context.time_precision, context.me, now.date())
    with store.lock:
        ids = _matching_ids(store, plan, scope)
        low = bisect.bisect_left(ids, plan.id_low) if plan.id_low is not None else 0
        high = bisect.bisect_right(ids, plan.id_high) if plan.id_high is not None else len(ids)
        if high - low > limit and (top is None or top > MAX_WIQL_RESULTS):
            raise bad_request(
                f"VS402337: The number of work items returned exceeds the size limit of "
                f"{MAX_WIQL_RESULTS}. Change the query to return fewer items.",
                "WorkItemTrackingQueryResultSizeLimitExceededException",
            )
        if _in_id_order(plan):
            answer = ids[low : min(high, low + limit)]  # already in the answer's order
        else:
            items = store.items
            rows: list[Mapping[str, Any]] = [items[i].fields for i in ids[low:high]]
            answer = [f["System.Id"] for f in plan.sort(rows)[:limit]]
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
    refs = ",".join(f'{{"id":{i},"url":"{item_base}{i}"}}' for i in answer)
    return Response(200, prefix + b',"workItems":[' + refs.encode() + b"]}", {"Content-Type": JSON})
