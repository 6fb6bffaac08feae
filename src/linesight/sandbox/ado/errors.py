"""Azure DevOps' error answers, in the service's shape (``$id``, ``message``, ``typeKey``, ...).

Handlers raise :class:`AdoError`; :meth:`AdoApp.handle <linesight.sandbox.ado.app.AdoApp.handle>`
turns it into the response, with the service's message and TF/VS code where known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from linesight.sandbox.ado.responses import JSON
from linesight.sandbox.wire import Request, Response

__all__ = [
    "VSS",
    "AdoError",
    "PlainAdoError",
    "bad_request",
    "no_route",
    "not_found_item",
]


VSS = "Microsoft.VisualStudio.Services.WebApi"


class AdoError(Exception):
    """Raised inside a handler to answer with an Azure DevOps error body."""

    def __init__(
        self,
        status: int,
        message: str,
        type_key: str,
        *,
        namespace: str = "Microsoft.TeamFoundation.WorkItemTracking.Server",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type_key = type_key
        self.namespace = namespace
        self.headers = dict(headers or {})

    def response(self) -> Response:
        assembly = "mscorlib" if self.namespace == "System" else self.namespace
        body = {
            "$id": "1",
            "innerException": None,
            "message": self.message,
            "typeName": f"{self.namespace}.{self.type_key}, {assembly}",
            "typeKey": self.type_key,
            "errorCode": 0,
            "eventId": 3000,
        }
        return Response(
            self.status,
            json.dumps(body, separators=(",", ":")).encode(),
            {"Content-Type": JSON, **self.headers},
        )


class PlainAdoError(AdoError):
    """An error answered as text/plain (what Azure DevOps does for a refused credential)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(status, message, "UnauthorizedRequestException", headers=headers)

    def response(self) -> Response:
        return Response(
            self.status,
            self.message.encode(),
            {"Content-Type": "text/plain; charset=utf-8", **self.headers},
        )


def not_found_item(item_id: int) -> AdoError:
    """The 404 (TF401232) for a work item that does not exist."""
    return AdoError(
        404,
        f"TF401232: Work item {item_id} does not exist, or you do not have permissions to read it.",
        "WorkItemUnauthorizedAccessException",
    )


def bad_request(message: str, type_key: str = "VssPropertyValidationException") -> AdoError:
    """A 400 with the service's message and type key."""
    return AdoError(400, message, type_key)


def no_route(request: Request) -> AdoError:
    """The 404 the service answers for a path no controller serves."""
    return AdoError(
        404,
        f"The controller for path '{request.mount}{request.path}' was not found or does not "
        "implement IController.",
        "HttpException",
        namespace="System.Web",
    )
