"""Fixtures for the Jira connector's integration tests: the real ``jira`` client vs the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jira_sandbox import NOW, Sandbox

from linesight.sandbox import SandboxServer
from linesight.sandbox.generator import GeneratedOrg, generate_dataset


@pytest.fixture(scope="module")
def org() -> GeneratedOrg:
    # 6,000 items: 2,700 on Cloud and 1,200 on Data Center, enough for parallel id ranges.
    return generate_dataset(6000, 11, now=NOW)


@pytest.fixture(scope="module")
def sandbox(org: GeneratedOrg) -> Iterator[Sandbox]:
    with SandboxServer(org.dataset, port=0) as server:
        yield Sandbox(server, org)


@pytest.fixture
def clean(sandbox: Sandbox) -> Sandbox:
    """The module's sandbox, reset to its dataset with no faults and an empty request log."""
    sandbox.reset()
    return sandbox
