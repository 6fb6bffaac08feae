"""The sandbox's Azure DevOps organization: Work Item Tracking REST 7.1 on loopback.

One :class:`AdoApp` serves one organization (mounted at ``/ado/{organization}``) with any number
of projects, each loaded from a dataset entry of native work item payloads::

    {"organization": "contoso", "project": "Fabrikam", "process": "Agile",
     "work_items": [{"id": 4711, "rev": 3, "fields": {...}, "relations": [...]}, ...],
     # optional:
     "area_paths": ["Fabrikam\\\\Checkout\\\\Mobile"],      # paths that exist but hold no item yet
     "iteration_paths": ["Fabrikam\\\\Sprint 9"],
     "custom_work_item_types": {"Key Result": "Feature"},  # an inherited process's extra types
     "comments": {"4711": [{"text": "...", "createdDate": "..."}]},
     "forbidden_area_paths": ["Fabrikam\\\\Security"]}      # writes under these answer 403

The real ``azure-devops`` SDK talks to it unchanged: ``OPTIONS _apis`` location data, resource
areas, WIQL (flat queries, 20,000-result cap, date vs time precision), work items by id and in
batches of 200, JSON Patch updates with ``test /rev`` (412 on a stale revision), tags, links
kept at both ends, deletions, comments 7.1-preview.4 (paged, markdown), work item types and their
states per process, relation types, fields and projects. Errors have the service's shape
(``$id``, ``message``, ``typeKey``, ...) and, where known, its message and TF/VS code.

Relation URLs in the dataset may point anywhere (dev.azure.com exports); they are rewritten to
the sandbox from the target id. Work item JSON is rendered once per variant and cached until the
item changes, so a 200-item batch costs a join of cached bytes.

The package: :mod:`.app` (authentication, rate limit, routing), :mod:`.store` (the state and the
rendered JSON cache), :mod:`.loading` (dataset -> store), one module per resource
(:mod:`.workitems`, :mod:`.patch` and :mod:`.commit`, :mod:`.comments`, :mod:`.queries`,
:mod:`.metadata`, :mod:`.locations`), :mod:`.processes` (the process templates), and
:mod:`.errors`, :mod:`.params` and :mod:`.responses` for the answers' shapes.
"""

from __future__ import annotations

from linesight.sandbox.ado.app import AdoApp
from linesight.sandbox.ado.queries import MAX_WIQL_RESULTS
from linesight.sandbox.ado.workitems import MAX_BATCH_SIZE

__all__ = ["MAX_BATCH_SIZE", "MAX_WIQL_RESULTS", "AdoApp"]
