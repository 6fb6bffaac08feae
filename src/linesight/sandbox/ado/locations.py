"""Where the SDK finds things: location data, resource areas, connection data, projects.

The SDK reads the location data to build URLs and negotiate api-versions; every resource area
points back at the organization URL, so nothing makes it look beyond loopback.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from linesight.sandbox.ado.errors import VSS, AdoError
from linesight.sandbox.ado.responses import ok
from linesight.sandbox.ado.store import Project, Store
from linesight.sandbox.wire import Request, Response

__all__ = ["LOCATIONS_BODY", "connection_data", "projects_json", "resource_areas"]


# Every resource area the v7.1 SDK knows, all served from the organization URL. Real Azure
# DevOps hosts some elsewhere (vssps, vsrm); here nothing may make the SDK look beyond loopback
# (an unknown area sends it to app.vssps.visualstudio.com).
_RESOURCE_AREAS: tuple[tuple[str, str], ...] = (
    ("wit", "5264459e-e5e0-4bd8-b118-0985e68a4ec5"),
    ("core", "79134c72-4a58-4b42-976c-04e7115f32bf"),
    ("work", "1d4f49f9-02b9-4e26-b826-2cdb6195f2a9"),
    ("account", "0d55247a-1c47-4462-9b1f-5e2125590ee6"),
    ("serviceendpoint", "1814ab31-2f4f-4a9f-8761-f4d77dc5a5d7"),
    ("sbom", "2e504d18-2c0c-46f8-af8f-322d2af0068a"),
    ("dashboard", "31c84e0a-3ece-48fd-a29d-100849af99ba"),
    ("pipelineschecks", "4a933897-0488-45af-bd82-6fd3ad33f46a"),
    ("npm", "4c83cfc1-f33a-477e-a789-29d38ffca52e"),
    ("MemberEntitlementManagement", "68ddce18-2501-45f1-a17b-7931a9922690"),
    ("gallery", "69d21c00-f135-441b-b5ce-3626378e0819"),
    ("ExtensionManagement", "6c2b0933-3600-42ae-bf8b-93d4f7e83594"),
    ("maven", "6f7f8c07-ff36-473c-bcf3-bd6cc9b6c066"),
    ("projectanalysis", "7658fa33-b1bf-4580-990f-fac5896773d3"),
    ("Packaging", "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5"),
    ("Contribution", "8477aec9-a4c7-4bd4-a456-ba4c53c989cb"),
    ("IMS", "8a3d49b8-91f0-46ef-b33d-dda338c25db3"),
    ("tfvc", "8aa40520-446d-40e6-89f6-9c9f9ce44c48"),
    ("Profile", "8ccfef3d-2b87-4e99-8ccb-66e343d2daa8"),
    ("pypi", "92f0314b-06c5-46e0-abe7-15fd9d13276a"),
    ("audit", "94ff054d-5ee1-413d-9341-3f4a7827de2e"),
    ("build", "965220d5-5bb9-42cf-8d67-9b146df2a5a4"),
    ("pipelinePermissions", "a81a0441-de52-4000-aa15-ff0e07bfbbaa"),
    ("distributedtask", "a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd"),
    ("symbol", "af607f94-69ba-4821-8159-f04e37b66350"),
    ("tokenadmin", "af68438b-ed04-4407-9eb6-f1dbae3f922e"),
    ("nuget", "b3be7473-68ea-4a81-bfc7-9530baaa19ad"),
    ("provenance", "b40c1171-807a-493a-8f3f-5c26d5e2f5aa"),
    ("Graph", "bb1e7ec9-e901-4b68-999a-de7012b920f8"),
    ("wiki", "bf7d82a0-8aa5-4613-94ef-6172a5ea01f3"),
    ("Test", "c2aa639c-3ccc-4740-b3b6-ce2a1e1d984e"),
    ("testresults", "c83eaf52-edf3-4034-ae11-17d38f25404c"),
    ("upack", "d397749b-f115-4027-b6dd-77a65dd10d21"),
    ("search", "ea48a0a1-269c-42d8-b8ad-ddc8fcdcf578"),
    ("Release", "efc2f575-36ef-48e9-b672-0c6fb4a48ac5"),
    ("policy", "fb13a388-40dd-4a04-b530-013a739c72ef"),
)


def _location(
    location_id: str, area: str, resource: str, template: str, version: int, *, released: bool
) -> dict[str, Any]:
    return {
        "id": location_id,
        "area": area,
        "resourceName": resource,
        "routeTemplate": template,
        "resourceVersion": version,
        "minVersion": 1.0,
        "maxVersion": 7.2,
        "releasedVersion": "7.1" if released else "0.0",
    }


# What OPTIONS {org}/_apis answers: one entry per resource served here. The SDK reads it to
# build URLs (routeTemplate; optional {segments} it has no value for are dropped) and to
# negotiate the api-version (min/max/released/resourceVersion).
_LOCATIONS: tuple[dict[str, Any], ...] = (
    _location(
        "1a9c53f7-f243-4447-b110-35ef023636e4",
        "wit",
        "wiql",
        "{project}/{team}/_apis/{area}/{resource}/{id}",
        2,
        released=True,
    ),
    _location(
        "72c7ddf8-2cdc-4f60-90cd-ab71c14a399b",
        "wit",
        "workItems",
        "{project}/_apis/{area}/{resource}/{id}",
        3,
        released=True,
    ),
    _location(
        "908509b6-4248-4475-a1cd-829139ba419f",
        "wit",
        "workItemsBatch",
        "{project}/_apis/{area}/{resource}",
        1,
        released=True,
    ),
    _location(
        "608aac0a-32e1-4493-a863-b9cf4566d257",
        "wit",
        "comments",
        "{project}/_apis/{area}/workItems/{workItemId}/{resource}/{commentId}",
        4,
        released=False,
    ),
    _location(
        "7c9d7a76-4a09-43e8-b5df-bd792f4ac6aa",
        "wit",
        "workItemTypeStates",
        "{project}/_apis/{area}/workitemtypes/{type}/states",
        1,
        released=True,
    ),
    _location(
        "7c8d7a76-4a09-43e8-b5df-bd792f4ac6aa",
        "wit",
        "workItemTypes",
        "{project}/_apis/{area}/{resource}/{type}",
        2,
        released=True,
    ),
    _location(
        "f5d33bc9-5b49-4a3c-a9bd-f3cd46dd2165",
        "wit",
        "workItemRelationTypes",
        "_apis/{area}/{resource}/{relation}",
        2,
        released=True,
    ),
    _location(
        "b51fd764-e5c2-4b9b-aaf7-3395cf4bdd94",
        "wit",
        "fields",
        "{project}/_apis/{area}/{resource}/{fieldNameOrRefName}",
        3,
        released=True,
    ),
    _location(
        "603fe2ac-9723-48b9-88ad-09305aa6c6e1",
        "core",
        "projects",
        "_apis/{resource}/{*projectId}",
        4,
        released=True,
    ),
    _location(
        "e81700f7-3be2-46de-8624-2eb35882fcaa",
        "Location",
        "ResourceAreas",
        "_apis/{resource}/{areaId}",
        1,
        released=False,
    ),
    _location(
        "00d9565f-ed9c-4a06-9a50-00e7896ccab4",
        "Location",
        "ConnectionData",
        "_apis/{resource}",
        1,
        released=False,
    ),
)
LOCATIONS_BODY = json.dumps(
    {"count": len(_LOCATIONS), "value": list(_LOCATIONS)}, separators=(",", ":")
).encode()


def resource_areas(store: Store, area_id: str | None) -> Response:
    """``GET _apis/resourceAreas[/{id}]``: every area, at this organization."""
    areas = [
        {"id": ident, "name": name, "locationUrl": f"{store.app_url}/"}
        for name, ident in _RESOURCE_AREAS
    ]
    if area_id is None:
        return ok({"count": len(areas), "value": areas})
    found = next((a for a in areas if a["id"] == area_id.casefold()), None)
    if found is None:
        raise AdoError(
            404,
            f"Resource area {area_id} was not found.",
            "ResourceAreaNotFoundException",
            namespace=VSS,
        )
    return ok(found)


def connection_data(store: Store, request: Request) -> Response:
    """``GET _apis/connectionData``: the caller and the instance."""
    who = store.caller(request)
    instance = str(uuid.uuid5(uuid.NAMESPACE_URL, f"linesight-sandbox/{store.mount}"))
    return ok(
        {
            "authenticatedUser": who,
            "authorizedUser": who,
            "instanceId": instance,
            "deploymentId": instance,
            "deploymentType": "hosted",
            "locationServiceData": {
                "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
                "defaultAccessMappingMoniker": "PublicAccessMapping",
                "lastChangeId": 1,
                "lastChangeId64": 1,
            },
        }
    )


def projects_json(store: Store, name_or_id: str | None) -> Response:
    """``GET _apis/projects[/{name or id}]``."""

    def reference(project: Project) -> dict[str, Any]:
        return {
            "id": project.id,
            "name": project.name,
            "url": f"{store.app_url}/_apis/projects/{project.id}",
            "state": "wellFormed",
            "revision": 1,
            "visibility": "private",
            "lastUpdateTime": "2026-01-01T00:00:00.000Z",
        }

    if name_or_id is None:
        values = [reference(p) for p in store.projects.values()]
        return ok({"count": len(values), "value": values})
    project = store.project(name_or_id)
    return ok(
        {
            **reference(project),
            "capabilities": {
                "processTemplate": {"templateName": project.process},
                "versioncontrol": {"sourceControlType": "Git"},
            },
            "_links": {"self": {"href": f"{store.app_url}/_apis/projects/{project.id}"}},
        }
    )
