"""linesight's sandbox: a local Jira (Cloud v3, Data Center v2) and Azure DevOps on loopback.

It serves a dataset of native tracker payloads over the real REST wire format, so the real
``jira`` and ``azure-devops`` client libraries talk to it exactly as they would to Atlassian or
Microsoft; it can inject latency, 429s, 5xx and dropped connections, and records every request.

    from linesight.sandbox import SandboxServer, FaultConfig

    with SandboxServer("dataset.json", port=0, faults=FaultConfig(latency_ms=100)) as sandbox:
        print(sandbox.url + "/jira/cloud")
"""

from linesight.sandbox.dataset import DatasetError, load_dataset
from linesight.sandbox.faults import FaultConfig
from linesight.sandbox.server import SandboxServer

__all__ = ["DatasetError", "FaultConfig", "SandboxServer", "load_dataset"]
