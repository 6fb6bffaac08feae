"""Who the site is and who is logged in: ``serverInfo``, ``myself``, and the user in comments."""

from __future__ import annotations

from typing import Any

from linesight.sandbox.jira.site import Site, jira_now
from linesight.sandbox.wire import Request, Response, json_response

__all__ = ["myself", "server_info", "user_json"]


def user_json(site: Site, request: Request, version: str) -> dict[str, Any]:
    """The logged-in user as this flavour shows one (Cloud: accountId; Data Center: name)."""
    if site.cloud:
        return {
            "self": f"{request.app_url}/rest/api/{version}/user?accountId={site.account_id}",
            "accountId": site.account_id,
            "accountType": "atlassian",
            "emailAddress": site.user,
            "displayName": "Sandbox User",
            "active": True,
            "timeZone": "UTC",
        }
    return {
        "self": f"{request.app_url}/rest/api/2/user?username={site.user}",
        "name": site.user,
        "key": site.user,
        "emailAddress": site.user,
        "displayName": "Sandbox User",
        "active": True,
        "timeZone": "UTC",
    }


def server_info(site: Site, request: Request, version: str) -> Response:
    """``GET serverInfo`` (the one endpoint that also answers without a login)."""
    numbers = [1001, 0, 0] if site.cloud else [9, 12, 15]
    return json_response(
        200,
        {
            "baseUrl": request.app_url,
            "version": "1001.0.0-SNAPSHOT" if site.cloud else "9.12.15",
            "versionNumbers": numbers,
            "deploymentType": "Cloud" if site.cloud else "Server",
            "buildNumber": 100283 if site.cloud else 9120015,
            "buildDate": "2026-11-01T00:00:00.000+0000",
            "serverTime": jira_now(),
            "scmInfo": "0000000000000000000000000000000000000000",
            "serverTitle": f"linesight sandbox ({site.name})",
            "serverTimeZone": "UTC",
        },
    )


def myself(site: Site, request: Request, version: str) -> Response:
    """``GET myself``: the logged-in user, with the extras this endpoint adds."""
    payload = user_json(site, request, version)
    payload.update(
        {
            "locale": "en_US",
            "groups": {"size": 1, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }
    )
    return json_response(200, payload)
