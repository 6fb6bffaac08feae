"""The JSON answers every handler sends: the content type and a 200 with a body."""

from __future__ import annotations

import json
from typing import Any

from linesight.sandbox.wire import Response

__all__ = ["JSON", "ok"]


JSON = "application/json; charset=utf-8"


def ok(payload: Any) -> Response:
    """A 200 with ``payload`` as compact JSON."""
    return Response(
        200, json.dumps(payload, separators=(",", ":")).encode(), {"Content-Type": JSON}
    )
