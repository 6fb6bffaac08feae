"""Fixtures of the nightly-job acceptance tests: a generated organisation behind a sandbox."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from job.orgs import SandboxOrg, serve_org
from linesight.sandbox.generator import TOKEN_ENV
from linesight.sandbox.wire import DEFAULT_TOKEN

OrgFactory = Callable[..., SandboxOrg]


@pytest.fixture
def org_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OrgFactory]:
    """``org_factory(items=600, seed=3)``: a fresh organisation in its own folder, served on a
    free loopback port; every sandbox is stopped when the test ends."""
    monkeypatch.setenv(TOKEN_ENV, DEFAULT_TOKEN)
    monkeypatch.setenv("AZURE_DEVOPS_CACHE_DIR", str(tmp_path / "ado-cache"))
    started: list[SandboxOrg] = []

    def factory(items: int = 600, seed: int = 3) -> SandboxOrg:
        org = serve_org(tmp_path / f"org-{len(started)}", items, seed)
        started.append(org)
        return org

    yield factory
    for org in started:
        with contextlib.suppress(Exception):
            org.http.close()
        org.server.stop()


@pytest.fixture
def org(org_factory: OrgFactory) -> SandboxOrg:
    """A 600-item organisation over Jira Cloud, Jira Data Center and Azure DevOps."""
    return org_factory()
