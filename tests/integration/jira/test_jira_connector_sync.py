"""Sync through the real ``jira`` client against the sandbox: full, incremental, faults, errors."""

from __future__ import annotations

import logging
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jira_sandbox import Sandbox
from pydantic import SecretStr

from linesight.connector import Connector, Watermark
from linesight.errors import AuthError, ConfigError, QueryError
from linesight.model import StatusCategory, WorkItem

CATEGORY = {
    "new": StatusCategory.TODO,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}


def expected_fields(issue: dict[str, Any], name: str) -> dict[str, Any]:
    """What a correct mapping must give, read straight from the sandbox's native issue."""
    fields = issue["fields"]
    resolved = fields.get("resolutiondate")
    parent = (fields.get("parent") or {}).get("key") or fields.get("customfield_10014")
    kr = fields.get("customfield_10100")
    if isinstance(kr, str):
        kr = [part for part in re.split(r"[\s,;]+", kr) if part]
    team = fields.get("customfield_10001")
    links = []
    for link in fields.get("issuelinks") or []:
        if "outwardIssue" in link:
            links.append((link["type"]["outward"], link["outwardIssue"]["key"]))
        else:
            links.append((link["type"]["inward"], link["inwardIssue"]["key"]))
    return {
        "key": issue["key"],
        "type": fields["issuetype"]["name"],
        "title": fields["summary"],
        "status": fields["status"]["name"],
        "status_category": CATEGORY[fields["status"]["statusCategory"]["key"]],
        "project": fields["project"]["key"],
        "team": (team or {}).get("name") or (team or {}).get("value") or fields["project"]["key"],
        "parent": parent,
        "labels": tuple(fields.get("labels") or ()),
        "links": links,
        "kr_refs": tuple(dict.fromkeys(kr or ())),
        "updated": datetime.fromisoformat(fields["updated"]),
        "resolved": datetime.fromisoformat(resolved) if resolved else None,
        "url": f"/jira/{name}/browse/{issue['key']}",
    }


def actual_fields(item: WorkItem) -> dict[str, Any]:
    return {
        "key": item.key,
        "type": item.type,
        "title": item.title,
        "status": item.status,
        "status_category": item.status_category,
        "project": item.project,
        "team": item.team,
        "parent": item.parent,
        "labels": item.labels,
        "links": [(link.kind, link.target) for link in item.links],
        "kr_refs": item.kr_refs,
        "updated": item.updated,
        "resolved": item.resolved,
        "url": item.url[item.url.index("/jira/") :],
    }


@pytest.mark.parametrize("name", ["cloud", "dc"])
def test_full_sync_returns_every_issue_with_its_fields(clean: Sandbox, name: str) -> None:
    connector = clean.connector(name)
    assert isinstance(connector, Connector)
    seen: list[tuple[int, int | None]] = []
    items = list(connector.fetch(None, progress=lambda done, total: seen.append((done, total))))
    connector.close()

    state = clean.issues(name)
    assert sorted(i.key for i in items) == sorted(state)
    for item in items:
        assert actual_fields(item) == expected_fields(state[item.key], name), item.key
    assert seen and seen[-1][0] == len(items)

    log = clean.requests(name)
    per_thousand = len(log) * 1000 / len(items)
    print(
        f"\n{name}: full sync of {len(items)} issues: {len(log)} requests, "
        f"{per_thousand:.1f} per 1,000 issues"
    )
    assert all(r["status"] == 200 for r in log)
    if name == "cloud":
        assert per_thousand <= 12
        assert not any(r["path"].endswith("/rest/api/3/search") for r in log)  # 410 on Cloud
    else:
        assert all("/rest/api/2/" in r["path"] for r in log)
        assert all((r.get("body") or {}).get("startAt", 0) == 0 for r in log)  # keyset, no offsets


@pytest.mark.parametrize("name", ["cloud", "dc"])
def test_incremental_sync_returns_exactly_the_changes(clean: Sandbox, name: str) -> None:
    before = clean.connector(name)
    everything = {i.key: i for i in before.fetch(None)}
    started = datetime.now(UTC)
    # Deleting an issue also edits the issues it links to or parents; pick plain leaves.
    tied = {i.parent for i in everything.values()} | {
        link.target for i in everything.values() for link in i.links
    }
    leaves = sorted(k for k, i in everything.items() if k not in tied and not i.links)
    edited, deleted = leaves[5:8], leaves[10:12]
    for key in edited:
        clean.rest(name, "PUT", f"issue/{key}", {"fields": {"summary": f"Renamed {key}"}})
    for key in deleted:
        clean.rest(name, "DELETE", f"issue/{key}")

    connector = clean.connector(name)
    changed = {i.key: i for i in connector.fetch(Watermark(since=started - timedelta(minutes=2)))}
    keys = connector.list_keys()
    connector.close()
    assert sorted(changed) == sorted(edited)
    assert all(changed[k].title == f"Renamed {k}" for k in edited)
    assert keys == set(everything) - set(deleted)

    queries = [r["body"]["jql"] for r in clean.requests(name) if "jql" in (r.get("body") or {})]
    floor = (started - timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M")
    assert any(f'updated >= "{floor}"' in q for q in queries)


def test_okr_types_are_fetched_even_when_issue_types_restrict(clean: Sandbox) -> None:
    stories = clean.connector("cloud", issue_types=("Story",), objective_types=("Epic",))
    types = {i.type for i in stories.fetch(None)}
    assert types == {"Story", "Epic"}


@pytest.mark.parametrize("name", ["cloud", "dc"])
def test_faults_do_not_change_what_is_synced(clean: Sandbox, name: str) -> None:
    expected = sorted(clean.connector(name).fetch(None), key=lambda i: i.key)
    clean.faults(fail_rate=0.1, retry_after=0, seed=2)
    connector = clean.connector(name)
    faulty = sorted(connector.fetch(None), key=lambda i: i.key)
    keys = connector.list_keys()
    clean.faults()
    assert faulty == expected
    assert keys == {i.key for i in expected}
    faults = [r for r in clean.requests(name) if r["fault"]]
    assert faults, "the sandbox injected no faults"


def test_match_is_scoped_and_bad_jql_is_one_clear_error(clean: Sandbox) -> None:
    connector = clean.connector("cloud")
    everything = {i.key: i for i in connector.fetch(None)}
    label = next(label for i in everything.values() for label in i.labels)
    matched = connector.match(f'labels = "{label}" ORDER BY created DESC')
    assert matched == {k for k, i in everything.items() if label in i.labels}

    with pytest.raises(QueryError) as info:
        connector.match("labels = = oops")
    message = str(info.value)
    assert message.startswith("Jira 'cloud' refused the query 'labels = = oops': ")
    assert len(message.splitlines()) == 1


def test_a_bad_scope_names_the_scope(clean: Sandbox) -> None:
    connector = clean.connector("dc", jql="nosuchfield = 1")
    with pytest.raises(QueryError, match="refused the query \"the source's scope"):
        list(connector.fetch(None))


@pytest.mark.parametrize("name", ["cloud", "dc"])
def test_wrong_token_is_one_clear_auth_error_without_the_token(
    clean: Sandbox, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-t0ken-that-must-not-leak"
    connector = clean.connector(name, token=SecretStr(secret))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as info:
        list(connector.fetch(None))
    assert str(info.value).startswith(f"Jira '{name}' rejected the credentials (401): check ")
    assert "LINESIGHT_JIRA_TOKEN" in str(info.value)
    assert secret not in str(info.value) and secret not in caplog.text
    assert "Authorization" not in str(info.value) and "Basic " not in caplog.text
    assert len(clean.requests(name)) == 1  # a 401 is not retried


def test_wrong_flavour_is_a_config_error(clean: Sandbox) -> None:
    connector = clean.connector("dc", flavour="cloud", user="sandbox@example.com")
    with pytest.raises(ConfigError, match='set flavour = "datacenter"'):
        connector.list_keys()


def test_doctor_checks(clean: Sandbox) -> None:
    healthy = clean.connector("cloud").check()
    assert [c.name for c in healthy if not c.ok] == []
    assert {"url", "flavour", "credentials", "scope", "field:kr_field"} <= {c.name for c in healthy}

    misnamed = clean.connector("cloud", kr_field="Key results", team_field="customfield_10002")
    found = {c.name: c for c in misnamed.check()}
    assert not found["field:kr_field"].ok
    assert "customfield_10100" in found["field:kr_field"].fix
    assert not found["field:team_field"].ok and "similar" in found["field:team_field"].fix

    wrong = {c.name: c for c in clean.connector("dc", flavour="cloud", user="x@y.z").check()}
    assert not wrong["flavour"].ok and 'flavour = "datacenter"' in wrong["flavour"].detail

    bad = {c.name: c for c in clean.connector("cloud", token=SecretStr("nope")).check()}
    assert not bad["credentials"].ok and "api-tokens" in bad["credentials"].fix

    missing = {c.name: c for c in clean.connector("cloud", projects=("NOPE",)).check()}
    assert not missing["permissions:NOPE"].ok


def test_doctor_reports_an_unreachable_site(clean: Sandbox) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connector = clean.connector("cloud", url=f"http://127.0.0.1:{port}/jira/cloud")
    checks = connector.check()
    assert [c.name for c in checks] == ["url"]
    assert not checks[0].ok and "cannot reach" in checks[0].detail
