"""The built-in connectors plugged into the contract suite, each against the sandbox.

A generated organisation (:func:`~linesight.sandbox.generator.generate_dataset`) is served on a
free loopback port. Each harness reads what the tracker holds from the sandbox's state (the
``GET /_sandbox/state`` data), never through the connector under test, and edits items through
the tracker's real REST API with plain HTTP, the way a person's browser would. Scopes are
narrower than the organisation, so items outside the scope are there to be left out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import SecretStr

from linesight.connector import Connector, open_connector
from linesight.sandbox import SandboxServer
from linesight.sandbox.gen_ado import KR_FIELD as ADO_KR_FIELD
from linesight.sandbox.gen_jira import EPIC_LINK_FIELD, KR_FIELD, TEAM_FIELD
from linesight.sandbox.generator import TOKEN_ENV, generate_dataset
from linesight.sandbox.wire import DEFAULT_TOKEN, DEFAULT_USER
from linesight.settings import AzureDevOpsSource, JiraSource
from linesight.testing.contract import ConnectorHarness
from linesight_azure_devops.wiql import quote as wiql_quote
from linesight_jira.jql import quote as jql_quote

ITEMS = 200  # generated: 90 Jira Cloud, 40 Jira Data Center, 70 Azure DevOps items
SEED = 20261123
NOW = datetime(2026, 11, 1, tzinfo=UTC)  # every generated date is before it: before any edit
ADO_ORG = "contoso"
ADO_PROJECT = "Fabrikam"
# Leave one project / area path of each tracker out of scope.
JIRA_PROJECTS = {"cloud": ("PAY", "PLAT", "SHOP"), "dc": ("OPS",)}
ADO_REMOVED = "Removed"  # the Agile process's Removed-category state


def dataset() -> dict[str, Any]:
    """A private copy of the generated organisation (a round trip: its descriptors are shared).

    A few Azure DevOps items are moved to the Removed state, which is out of any scope.
    """
    # The sandbox serves its own URL in every link, whatever base_url the dataset was made with.
    generated = generate_dataset(ITEMS, SEED, now=NOW)
    data: dict[str, Any] = json.loads(json.dumps(generated.dataset))
    for item in data["azure_devops"][0]["work_items"][-9::4]:
        item["fields"]["System.State"] = ADO_REMOVED
    return data


@contextmanager
def serve() -> Iterator[SandboxServer]:
    with SandboxServer(dataset(), port=0) as server:
        yield server


class SandboxHarness(ConnectorHarness):
    """What the Jira and Azure DevOps harnesses share: the sandbox and an HTTP session."""

    def __init__(self, server: SandboxServer, name: str) -> None:
        self.server = server
        self.source_name = name
        self.http = requests.Session()

    def reset(self) -> None:
        self.server.reset()

    def send(self, method: str, url: str, **kwargs: Any) -> None:
        answer = self.http.request(method, url, timeout=30, **kwargs)
        assert answer.status_code < 300, f"{method} {url}: {answer.status_code} {answer.text}"


class JiraHarness(SandboxHarness):
    """A Jira site of the sandbox (``cloud``: Cloud v3, ``dc``: Data Center v2)."""

    def __init__(self, server: SandboxServer, name: str) -> None:
        super().__init__(server, name)
        self.cloud = name == "cloud"
        self.projects = JIRA_PROJECTS[name]
        self.site = f"{server.url}/jira/{name}"
        self.api = f"{self.site}/rest/api/{3 if self.cloud else 2}"

    def connector(self, *, token: str | None = None) -> Connector:
        source = JiraSource(
            kind="jira",
            name=self.source_name,
            url=self.site,
            flavour="cloud" if self.cloud else "datacenter",
            user=DEFAULT_USER if self.cloud else None,
            token_env=TOKEN_ENV,
            token=SecretStr(token or DEFAULT_TOKEN),
            projects=self.projects,
            kr_field=KR_FIELD,
            team_field=TEAM_FIELD,
            epic_link_field=None if self.cloud else EPIC_LINK_FIELD,
        )
        return open_connector(source)  # through the entry point, as the core does

    def _issues(self) -> dict[str, dict[str, Any]]:
        state = self.server.state()["jira"][self.source_name]
        return {issue["key"]: issue for issue in state["issues"]}

    def expected_keys(self) -> set[str]:
        return {
            key
            for key, issue in self._issues().items()
            if issue["fields"]["project"]["key"] in self.projects
        }

    def all_keys(self) -> set[str]:
        return set(self._issues())

    def valid_query(self) -> tuple[str, set[str]]:
        scope = self.expected_keys()
        issues = self._issues()
        counts = Counter(label for k in scope for label in issues[k]["fields"]["labels"])
        label = counts.most_common(1)[0][0]
        matching = {k for k in scope if label in issues[k]["fields"]["labels"]}
        return f"labels = {jql_quote(label)} ORDER BY key", matching

    def invalid_query(self) -> str:
        return "labels = = oops"

    def _rest(self, method: str, path: str, body: Any = None) -> None:
        self.send(method, f"{self.api}/{path}", json=body, auth=(DEFAULT_USER, DEFAULT_TOKEN))

    def rename(self, key: str, title: str) -> None:
        self._rest("PUT", f"issue/{key}", {"fields": {"summary": title}})

    def delete(self, key: str) -> None:
        self._rest("DELETE", f"issue/{key}")

    def add_label(self, key: str, label: str) -> None:
        self._rest("PUT", f"issue/{key}", {"update": {"labels": [{"add": label}]}})

    def labels(self, key: str) -> list[str]:
        return list(self._issues()[key]["fields"]["labels"])

    def comments(self, key: str) -> list[str]:
        container = self._issues()[key]["fields"].get("comment") or {}
        bodies = [c["body"] for c in container.get("comments", [])]
        return [b if isinstance(b, str) else json.dumps(b, sort_keys=True) for b in bodies]


class AzureDevOpsHarness(SandboxHarness):
    """The sandbox's Azure DevOps organization ``contoso``, project ``Fabrikam``."""

    def __init__(self, server: SandboxServer) -> None:
        super().__init__(server, ADO_ORG)
        self.org_url = f"{server.url}/ado/{ADO_ORG}"
        used = sorted({p["fields"]["System.AreaPath"] for p in self._items().values()})
        assert len(used) >= 2, f"the generated project has one area path only: {used}"
        self.areas: tuple[str, ...] = tuple(used[:-1])  # the last one is out of scope

    def connector(self, *, token: str | None = None) -> Connector:
        source = AzureDevOpsSource(
            kind="azure-devops",
            name=self.source_name,
            url=self.org_url,
            project=ADO_PROJECT,
            area_paths=self.areas,
            token_env=TOKEN_ENV,
            token=SecretStr(token or DEFAULT_TOKEN),
            kr_field=ADO_KR_FIELD,
        )
        return open_connector(source)

    def _items(self) -> dict[str, dict[str, Any]]:
        state = self.server.state()["azure_devops"][ADO_ORG]
        return {str(p["id"]): p for payloads in state.values() for p in payloads}

    def _in_scope(self, payload: dict[str, Any], areas: tuple[str, ...] | None = None) -> bool:
        fields = payload["fields"]
        areas = self.areas if areas is None else areas
        area = str(fields["System.AreaPath"]).casefold()
        return (
            fields["System.TeamProject"] == ADO_PROJECT
            and fields["System.State"] != ADO_REMOVED
            and any(area == a.casefold() or area.startswith(a.casefold() + "\\") for a in areas)
        )

    def expected_keys(self) -> set[str]:
        return {key for key, payload in self._items().items() if self._in_scope(payload)}

    def all_keys(self) -> set[str]:
        return set(self._items())

    def valid_query(self) -> tuple[str, set[str]]:
        area = self.areas[-1]
        matching = {k for k, p in self._items().items() if self._in_scope(p, (area,))}
        return f"[System.AreaPath] UNDER {wiql_quote(area)}", matching

    def invalid_query(self) -> str:
        return "[System.NoSuchField] = 'x'"

    def _rest(self, method: str, key: str, patch: Any = None) -> None:
        url = f"{self.org_url}/{ADO_PROJECT}/_apis/wit/workitems/{key}?api-version=7.1"
        headers = {"Content-Type": "application/json-patch+json"}
        self.send(method, url, json=patch, headers=headers, auth=("", DEFAULT_TOKEN))

    def rename(self, key: str, title: str) -> None:
        self._rest(
            "PATCH", key, [{"op": "replace", "path": "/fields/System.Title", "value": title}]
        )

    def delete(self, key: str) -> None:
        self._rest("DELETE", key)

    def add_label(self, key: str, label: str) -> None:
        # "add" on System.Tags appends to the item's tags, as the web UI's tag box does
        self._rest("PATCH", key, [{"op": "add", "path": "/fields/System.Tags", "value": label}])

    def labels(self, key: str) -> list[str]:
        tags = self._items()[key]["fields"].get("System.Tags") or ""
        return [tag.strip() for tag in str(tags).split(";") if tag.strip()]

    def comments(self, key: str) -> list[str]:
        return [str(c.get("text")) for c in self._items()[key].get("comments", [])]
