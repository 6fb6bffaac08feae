"""linesight: line of sight from OKRs to the work in Jira and Azure DevOps."""

from linesight.model import (
    ItemRef,
    KeyResult,
    Link,
    Objective,
    Operation,
    OperationResult,
    StatusCategory,
    WorkItem,
)

__version__ = "0.1.0"

__all__ = [
    "ItemRef",
    "KeyResult",
    "Link",
    "Objective",
    "Operation",
    "OperationResult",
    "StatusCategory",
    "WorkItem",
    "__version__",
]
