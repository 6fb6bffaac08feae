"""``linesight doctor`` for a Jira source: each finding says what is wrong and how to fix it.

In order, stopping where later checks cannot run: the site answers (``serverInfo``) and is the
configured flavour; the credentials work (``myself``); each project can be browsed and the
scope's JQL is accepted (a one-issue search each); the configured custom fields exist
(``/field``), with the likeliest intended field named when one does not.
"""

from __future__ import annotations

import difflib
from typing import Any

from linesight.connector import Check
from linesight.errors import (
    AuthError,
    ConfigError,
    LinesightError,
    QueryError,
    TransientError,
    redact_url,
)
from linesight.retry import RetryPolicy
from linesight_jira.client import JiraHttp
from linesight_jira.jql import Scope, quote

__all__ = ["run_checks"]

QUICK = RetryPolicy(max_attempts=2, max_total_wait=5.0)


def _token_fix(http: JiraHttp) -> str:
    var = http.source.token_env or "the variable named by token_env"
    if http.cloud:
        return (
            f"create an API token at https://id.atlassian.com/manage-profile/security/api-tokens, "
            f"put it in {var} and set user to the account's email"
        )
    return f"create a personal access token (Profile > Personal Access Tokens) and put it in {var}"


def _search_one(http: JiraHttp, jql: str) -> None:
    def refused(detail: str) -> QueryError:
        return QueryError(detail)

    if http.cloud:
        body: dict[str, Any] = {"jql": jql, "maxResults": 1, "fields": ["key"]}
        http.post("search/jql", body, what="search", bad_request=refused)
    else:
        body = {"jql": jql, "startAt": 0, "maxResults": 1, "fields": ["key"]}
        http.post("search", body, what="search", bad_request=refused)


def _connection(http: JiraHttp) -> list[Check]:
    url = redact_url(http.source.url)
    try:
        # An unreachable site is a finding, not a reason to sit through the sync's retry budget.
        http.connect(QUICK)
    except AuthError as exc:
        return [Check("credentials", False, str(exc), _token_fix(http))]
    except ConfigError as exc:
        name = "flavour" if "flavour" in str(exc) else "url"
        return [Check(name, False, str(exc), "fix the source settings as the message says")]
    except TransientError as exc:
        return [
            Check(
                "url",
                False,
                f"cannot reach {url}: {exc}",
                "check the url, the network / proxy, and verify_tls",
            )
        ]
    except LinesightError as exc:
        return [Check("url", False, f"{url} does not answer like Jira: {exc}", "check the url")]
    found = [Check("url", True, f"{url} answers (Jira {http.deployment})")]
    problem = http.flavour_problem()
    if problem:
        found.append(Check("flavour", False, problem, "fix 'flavour' in the source settings"))
    else:
        found.append(Check("flavour", True, f"flavour '{http.source.flavour}' matches"))
    return found


def _credentials(http: JiraHttp) -> Check:
    try:
        me = http.get("myself", what="read the account")
    except AuthError as exc:
        return Check("credentials", False, str(exc), _token_fix(http))
    who = me.get("displayName") or me.get("emailAddress") or me.get("name") or "?"
    return Check("credentials", True, f"authenticated as {who}")


def _projects(http: JiraHttp, scope: Scope) -> list[Check]:
    found = []
    for project in scope.projects:
        try:
            _search_one(http, f"project = {quote(project)}")
        except (QueryError, AuthError) as exc:
            found.append(
                Check(
                    f"permissions:{project}",
                    False,
                    f"cannot browse project {project}: {exc}",
                    "check the project key, or ask a Jira admin for Browse projects on it",
                )
            )
        else:
            found.append(Check(f"permissions:{project}", True, f"can browse project {project}"))
    try:
        _search_one(http, scope.query())
    except QueryError as exc:
        found.append(
            Check(
                "scope",
                False,
                f"Jira refused the scope query {scope.query()!r}: {exc}",
                "fix 'projects', 'issue_types' or 'jql' in the source settings",
            )
        )
    else:
        found.append(Check("scope", True, f"scope query accepted: {scope.query()}"))
    return found


def _fields(http: JiraHttp) -> list[Check]:
    source = http.source
    configured = {
        "kr_field": source.kr_field,
        "team_field": source.team_field,
        "epic_link_field": source.epic_link_field,
    }
    wanted = {k: v for k, v in configured.items() if v}
    if not wanted:
        return []
    raw = http.get("field", what="list fields")
    fields = [f for f in raw if isinstance(f, dict) and isinstance(f.get("id"), str)]
    names = {f["id"]: str(f.get("name") or "") for f in fields}
    found = []
    for setting, value in wanted.items():
        if value in names:
            found.append(Check(f"field:{setting}", True, f"{setting} {value} ({names[value]})"))
            continue
        by_name = [fid for fid, name in names.items() if name.casefold() == value.casefold()]
        if by_name:
            fix = f'use the field id: {setting} = "{by_name[0]}" (named {value!r})'
        else:
            labels = {f"{name} ({fid})": fid for fid, name in names.items()}
            close = difflib.get_close_matches(value, list(labels) + list(names), n=4, cutoff=0.4)
            shown = ", ".join(close) if close else "none"
            fix = f"set {setting} to a field id from /rest/api/{http.api}/field; similar: {shown}"
        found.append(Check(f"field:{setting}", False, f"{setting} {value!r} is not a field", fix))
    return found


def run_checks(http: JiraHttp, scope: Scope) -> list[Check]:
    """Every doctor finding for one source; never raises for a tracker problem."""
    found = _connection(http)
    if not all(c.ok for c in found):
        return found
    try:
        credentials = _credentials(http)
        found.append(credentials)
        if not credentials.ok:
            return found
        found.extend(_projects(http, scope))
        found.extend(_fields(http))
    except LinesightError as exc:
        found.append(Check("jira", False, str(exc), "see the message"))
    return found
