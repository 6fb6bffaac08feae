"""A Jira site for the sandbox: Cloud (REST v2 + v3) or Data Center (REST v2), from native issues.

What it serves, relative to its mount (``/jira/{name}``), under ``/rest/api/{2|3}/``::

    serverInfo, myself, field, issueLinkType                       GET
    search/jql (Cloud; GET/POST, nextPageToken, bounded JQL)        search/approximate-count (Cloud)
    search (Data Center: startAt/maxResults/total; Cloud: 410 Gone, as the real one since 2025)
    issue/bulkfetch (Cloud, POST, <= 100)                           issue/{idOrKey} GET/PUT/DELETE
    issue/{idOrKey}/comment GET/POST     issue/{idOrKey}/comment/{id} GET/PUT/DELETE
    issueLink POST

Issues are kept exactly as the dataset holds them (copy-on-write per issue, so ``reset`` is cheap
and the dataset is never changed) and served filtered by ``fields``. On Cloud, rich text
(descriptions, comment bodies) is stored as Atlassian Document Format and shown as plain text
on REST v2; on Data Center it is stored as wiki text.

Auth: HTTP Basic ``user:token`` (the configured user) everywhere; Bearer PAT on Data Center.
Projects named in ``forbidden_projects`` answer 403 to every write.

The modules, one noun each: :mod:`.app` (:class:`JiraApp`: routing, auth, state and reset),
:mod:`.site` (the issues, their indexes and caches), :mod:`.search`, :mod:`.issues`,
:mod:`.comments`, :mod:`.links`, :mod:`.fields` (the ``/field`` catalogue), :mod:`.identity`
(``serverInfo``, ``myself``), :mod:`.payloads` (``fields`` filtering, pre-rendered issues),
:mod:`.adf` (ADF <-> text) and :mod:`.errors`. The JQL evaluator is :mod:`linesight.sandbox.jql`.
"""

from __future__ import annotations

from linesight.sandbox.jira.adf import adf_to_text, text_to_adf
from linesight.sandbox.jira.app import JiraApp
from linesight.sandbox.jira.site import jira_now as jira_now

__all__ = ["JiraApp", "adf_to_text", "text_to_adf"]
