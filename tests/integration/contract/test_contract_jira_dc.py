"""The Jira connector, Data Center flavour (REST v2), against the connector contract suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract.harnesses import JiraHarness, serve
from linesight.testing.contract import ConnectorContract, ConnectorHarness


@pytest.fixture(scope="module")
def harness() -> Iterator[ConnectorHarness]:
    with serve() as server:
        yield JiraHarness(server, "dc")


class TestJiraDataCenterContract(ConnectorContract):
    """Every contract of the suite; the ``harness`` fixture above plugs the connector in."""
