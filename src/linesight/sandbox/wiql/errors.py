"""The error a WIQL query the service would refuse raises."""

from __future__ import annotations

__all__ = ["WiqlError"]


class WiqlError(ValueError):
    """A query the service would refuse. ``str(e)`` is the message Azure DevOps would send."""

    def __init__(self, message: str, *, type_key: str = "VssPropertyValidationException") -> None:
        super().__init__(message)
        self.message = message
        self.type_key = type_key
