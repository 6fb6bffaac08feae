"""The plain library loops linesight is measured against, written the way their docs suggest.

- Jira: ``JIRA.enhanced_search_issues(jql, maxResults=False, fields=...)`` — the library pages
  ``search/jql`` with ``nextPageToken``, 100 issues per request, one request at a time, and
  builds an ``Issue`` resource per issue.
- Azure DevOps: WIQL for the ids, then ``get_work_items_batch`` 200 ids at a time with
  ``expand="Relations"``; msrest deserializes every work item into models. A WIQL query returns
  at most 20,000 ids, so even the plain loop pages by id (``[System.Id] > last``).

Both ask for the same scope as the linesight source, so both read the same items.
"""

from __future__ import annotations

from typing import Any

from linesight.settings import AzureDevOpsSource, JiraSource

WIQL_LIMIT = 20_000
ADO_BATCH = 200


def jira_plain_loop(source: JiraSource, jql: str, fields: list[str]) -> int:
    """Every issue of ``jql`` through the ``jira`` library's own pagination; the issue count."""
    from jira import JIRA

    token = source.token.get_secret_value() if source.token is not None else ""
    client: Any = JIRA(
        server=source.url,
        basic_auth=(source.user or "", token),
        options={"rest_api_version": "3"},
    )
    try:
        issues = client.enhanced_search_issues(jql, maxResults=False, fields=list(fields))
        return len(issues)
    finally:
        client.close()


def ado_plain_loop(source: AzureDevOpsSource) -> int:
    """Every work item of the source's area paths through the SDK; the work item count."""
    from azure.devops.connection import Connection
    from azure.devops.v7_1.work_item_tracking.models import (
        TeamContext,
        Wiql,
        WorkItemBatchGetRequest,
    )
    from msrest.authentication import BasicAuthentication

    from linesight_azure_devops.wiql import quote

    token = source.token.get_secret_value() if source.token is not None else ""
    connection = Connection(base_url=source.url, creds=BasicAuthentication("", token))
    client: Any = connection.clients_v7_1.get_work_item_tracking_client()
    areas = " OR ".join(f"[System.AreaPath] UNDER {quote(a)}" for a in source.area_paths)
    where = "[System.TeamProject] = @project AND [System.State] <> 'Removed'"
    if areas:
        where += f" AND ({areas})"
    team = TeamContext(project=source.project)
    ids: list[int] = []
    last = 0
    while True:
        # values in the WIQL are quote()d area paths and an int
        wiql = f"SELECT [System.Id] FROM WorkItems WHERE {where} AND [System.Id] > {last} "  # noqa: S608
        result = client.query_by_wiql(
            Wiql(query=wiql + "ORDER BY [System.Id]"), team, top=WIQL_LIMIT
        )
        page = [ref.id for ref in result.work_items]
        ids.extend(page)
        if len(page) < WIQL_LIMIT:
            break
        last = page[-1]
    count = 0
    for start in range(0, len(ids), ADO_BATCH):
        request = WorkItemBatchGetRequest(ids=ids[start : start + ADO_BATCH], expand="Relations")
        count += len(client.get_work_items_batch(request, project=source.project))
    return count
