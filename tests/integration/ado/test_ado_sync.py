"""Sync through the real azure-devops SDK transport against the sandbox: full, incremental,
scope, queries and errors."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from conftest import KR_FIELD, PROJECT, dataset, make_source, small_org
from linesight.connector import Watermark
from linesight.errors import AuthError, QueryError
from linesight.model import StatusCategory, WorkItem
from linesight.sandbox import FaultConfig, SandboxServer
from linesight_azure_devops.connector import AzureDevOpsConnector


def sdk_client(sandbox: SandboxServer) -> Any:
    """The plain SDK, as another user of the org would use it."""
    from azure.devops.connection import Connection
    from msrest.authentication import BasicAuthentication

    from linesight.sandbox.wire import DEFAULT_TOKEN

    connection = Connection(
        base_url=f"{sandbox.url}/ado/contoso", creds=BasicAuthentication("", DEFAULT_TOKEN)
    )
    return connection.clients_v7_1.get_work_item_tracking_client()


def by_key(items: list[WorkItem]) -> dict[str, WorkItem]:
    keys = [i.key for i in items]
    assert len(keys) == len(set(keys)), "an item was returned twice"
    return {i.key: i for i in items}


def test_full_sync_returns_every_in_scope_item_mapped(
    connector: AzureDevOpsConnector, ado_sandbox: SandboxServer
) -> None:
    seen: list[tuple[int, int | None]] = []
    items = by_key(
        list(connector.fetch(None, progress=lambda done, total: seen.append((done, total))))
    )
    # 5 is Removed and 9 lives in another project: both out of scope
    assert sorted(items, key=int) == ["1", "2", "3", "4", "6", "7", "8"]
    assert seen[0] == (0, 7) and seen[-1] == (7, 7)
    story = items["3"]
    assert story.parent == "2"
    assert story.labels == ("customer-x", "KR:KR1.2")
    assert [(link.kind, link.target) for link in story.links] == [("System.LinkTypes.Related", "4")]
    assert story.status_category is StatusCategory.IN_PROGRESS
    assert items["6"].status_category is StatusCategory.DONE
    assert items["6"].kr_refs == ("KR2.1",)
    assert items["8"].status_category is StatusCategory.IN_PROGRESS  # Resolved
    assert items["4"].title == "Guest checkout <b>now</b> & 'fast'"
    assert items["4"].url == f"{ado_sandbox.url}/ado/contoso/Fabrikam/_workitems/edit/4"
    assert items["7"].team == "Fabrikam\\Billing"
    state = ado_sandbox.state()["azure_devops"]["contoso"]
    assert "Fabrikam" in str(state)[:100_000]


def test_states_of_every_type_are_one_request_beside_the_first_batches(
    connector: AzureDevOpsConnector, ado_sandbox: SandboxServer
) -> None:
    mark = len(ado_sandbox.requests())
    items = list(connector.fetch(None))
    assert {i.type for i in items} >= {"Epic", "Feature", "User Story"}
    paths = [e["path"].lower() for e in ado_sandbox.requests(mark)]
    assert sum(p.endswith("/_apis/wit/workitemtypes") for p in paths) == 1
    assert not [p for p in paths if p.endswith("/states")]
    # a second read (the next night) asks for none of it again
    mark = len(ado_sandbox.requests())
    assert len(list(connector.fetch(None))) == len(items)
    assert not [e for e in ado_sandbox.requests(mark) if "workitemtypes" in e["path"].lower()]


def test_route_discovery_is_cached_like_the_sdk_does_and_survives_a_damaged_cache(
    ado_sandbox: SandboxServer,
) -> None:
    def discoveries() -> int:
        mark = len(ado_sandbox.requests())
        connector = AzureDevOpsConnector(make_source(ado_sandbox))
        try:
            assert len(connector.list_keys()) == 7
        finally:
            connector.close()
        return sum(e["path"].endswith("/ResourceAreas") for e in ado_sandbox.requests(mark))

    assert discoveries() == 1  # a new cache folder (tests/conftest.py): read from the service
    assert discoveries() == 0  # the next run, within the SDK's 12 hours, asks nobody
    cache = Path(os.environ["AZURE_DEVOPS_CACHE_DIR"]) / "resources.json"
    entries = json.loads(cache.read_text(encoding="utf-8"))
    assert any("/ado/contoso" in url for url in entries)
    from azure.devops import _file_cache

    _file_cache.RESOURCE_CACHE.data = {url: [{"id": "not-an-area"}] for url in entries}
    assert discoveries() == 1  # an entry without Boards is no answer: asked again


def test_a_service_that_is_down_costs_one_round_of_retries_even_with_cached_routes(
    ado_sandbox: SandboxServer,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from linesight.errors import TransientError
    from linesight.retry import RetryPolicy

    warm = AzureDevOpsConnector(make_source(ado_sandbox))
    assert len(warm.list_keys()) == 7  # the routes are in the SDK's file cache now
    warm.close()
    policy = RetryPolicy(max_attempts=3, base_wait=0.01, max_single_wait=0.05)
    connector = AzureDevOpsConnector(make_source(ado_sandbox), policy=policy)
    ado_sandbox.faults = FaultConfig(fail_rate=1.0, kinds=("503",))
    mark = len(ado_sandbox.requests())
    try:
        reads = [
            lambda: list(connector.fetch(None)),
            connector.list_keys,
            lambda: connector.match("[System.Title] <> ''"),
        ]
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(read) for read in reads]
        for future in futures:
            with pytest.raises(TransientError):
                future.result()
    finally:
        ado_sandbox.faults = FaultConfig()
        connector.close()
    # the first call made its 3 attempts; the two waiting behind it failed without a request
    assert len(ado_sandbox.requests(mark)) == 3


def test_scope_settings_narrow_the_query(ado_sandbox: SandboxServer) -> None:
    source = make_source(
        ado_sandbox,
        area_paths=("Fabrikam\\Checkout",),
        work_item_types=("User Story", "Feature"),
        wiql="[System.Title] <> 'One-click pay'",
    )
    connector = AzureDevOpsConnector(source)
    try:
        assert connector.list_keys() == {"3", "4", "8"}
        assert {i.key for i in connector.fetch(None)} == {"3", "4", "8"}
    finally:
        connector.close()


def test_incremental_sync_returns_exactly_the_changes(
    connector: AzureDevOpsConnector, ado_sandbox: SandboxServer
) -> None:
    from azure.devops.v7_1.work_item_tracking.models import JsonPatchOperation

    assert len(list(connector.fetch(None))) == 7
    mark = datetime.now(UTC) - timedelta(seconds=1)
    client = sdk_client(ado_sandbox)
    client.update_work_item(
        [JsonPatchOperation(op="replace", path="/fields/System.State", value="Active")], 4, PROJECT
    )
    client.delete_work_item(7, PROJECT)
    changed = by_key(list(connector.fetch(Watermark(since=mark))))
    assert set(changed) == {"4"}
    assert changed["4"].status == "Active"
    assert changed["4"].status_category is StatusCategory.IN_PROGRESS
    assert connector.list_keys() == {"1", "2", "3", "4", "6", "8"}


def test_match_takes_a_condition_or_a_full_query(connector: AzureDevOpsConnector) -> None:
    assert connector.match("[System.AreaPath] UNDER 'Fabrikam\\Billing'") == {"6", "7"}
    assert connector.match(f"[{KR_FIELD}] = 'KR2.1'") == {"6"}
    full = (
        "SELECT [System.Id] FROM WorkItems WHERE [System.Title] CONTAINS 'idea' OR [System.Id] = 9"
    )
    assert connector.match(full) == set()  # 5 is Removed, 9 is another project's: out of scope
    assert connector.match("SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN (1, 5, 9)") == {
        "1"
    }


def test_a_refused_wiql_is_one_query_error_quoting_the_server(
    connector: AzureDevOpsConnector,
) -> None:
    with pytest.raises(QueryError) as caught:
        connector.match("[System.NoSuchField] = 'x'")
    message = str(caught.value)
    assert message.startswith("source 'boards': Azure DevOps refused the WIQL query: TF51005")
    with pytest.raises(QueryError, match="parentheses do not balance"):
        connector.match("([System.Id] > 1")
    with pytest.raises(QueryError, match="TF51011"):
        connector.match("[System.AreaPath] UNDER 'Fabrikam\\Nowhere'")


def test_bad_credentials_are_one_auth_error_without_the_token(ado_sandbox: SandboxServer) -> None:
    secret = "not-the-sandbox-token-1234"
    connector = AzureDevOpsConnector(make_source(ado_sandbox, token=SecretStr(secret)))
    try:
        with pytest.raises(AuthError) as caught:
            connector.list_keys()
    finally:
        connector.close()
    assert caught.value.status == 401
    assert "$ADO_TOKEN" in str(caught.value)
    assert secret not in str(caught.value)
    checks = AzureDevOpsConnector(make_source(ado_sandbox, token=SecretStr(secret))).check()
    assert [(c.name, c.ok) for c in checks][-1] == ("credentials", False)
    assert "ADO_TOKEN" in checks[-1].fix


def test_doctor_checks_pass_on_a_good_source(connector: AzureDevOpsConnector) -> None:
    checks = {c.name: c for c in connector.check()}
    assert all(c.ok for c in checks.values()), checks
    assert set(checks) == {"url", "credentials", "project", "scope", "kr_field"}


def test_doctor_names_a_missing_project_and_field(ado_sandbox: SandboxServer) -> None:
    source = make_source(ado_sandbox, project="Nope")
    checks = {c.name: c for c in AzureDevOpsConnector(source).check()}
    assert not checks["project"].ok and "Nope" in checks["project"].fix
    source = make_source(ado_sandbox, kr_field="Custom.Missing")
    checks = {c.name: c for c in AzureDevOpsConnector(source).check()}
    assert not checks["kr_field"].ok and "Custom.Missing" in checks["kr_field"].detail


def test_with_ten_percent_faults_the_sync_equals_a_clean_run() -> None:
    work_items = list(small_org())
    for number in range(100, 1300):
        work_items.append(
            {
                **small_org()[2],
                "id": number,
                "fields": {
                    **small_org()[2]["fields"],
                    "System.Id": number,
                    "System.Title": f"n{number}",
                },
                "relations": [],
            }
        )
    with SandboxServer(dataset(work_items), port=0) as sandbox:
        clean = AzureDevOpsConnector(make_source(sandbox))
        expected = by_key(list(clean.fetch(None)))
        clean.close()
        sandbox.faults = FaultConfig(fail_rate=0.1, seed=1, retry_after=0)
        from linesight.retry import RetryPolicy

        faulty = AzureDevOpsConnector(
            make_source(sandbox), policy=RetryPolicy(base_wait=0.01, max_single_wait=0.05)
        )
        try:
            got = by_key(list(faulty.fetch(None)))
            keys = faulty.list_keys()
        finally:
            faulty.close()
        faults = [r for r in sandbox.requests() if r["fault"]]
    assert got == expected
    assert keys == set(expected)
    assert len(expected) == 1207
    assert faults, "the sandbox injected no faults"


def test_throttled_success_with_retry_after_pauses_the_next_call(
    connector: AzureDevOpsConnector,
) -> None:
    connector.list_keys()
    transport = connector._transport

    class Answer:
        status_code = 200
        headers = {"Retry-After": "0.3"}  # noqa: RUF012

    transport._hook(Answer())
    started = time.monotonic()
    connector.list_keys()
    assert time.monotonic() - started >= 0.25
