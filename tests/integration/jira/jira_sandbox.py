"""The sandbox as the Jira connector's integration tests drive it (control calls, REST edits)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import SecretStr

from linesight.sandbox import SandboxServer
from linesight.sandbox.generator import GeneratedOrg
from linesight.sandbox.wire import DEFAULT_TOKEN, DEFAULT_USER
from linesight.settings import JiraSource
from linesight_jira.connector import JiraConnector

KR_FIELD = "customfield_10100"
TEAM_FIELD = "customfield_10001"
EPIC_LINK_FIELD = "customfield_10014"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
FLAVOURS = {"cloud": "cloud", "dc": "datacenter"}


class Sandbox:
    """A running sandbox and the control calls the tests need."""

    def __init__(self, server: SandboxServer, org: GeneratedOrg | None = None) -> None:
        self.server = server
        self.url = server.url
        self.org = org
        self.http = requests.Session()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=60)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def requests(self, name: str | None = None) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = self.control("GET", "requests")
        return [r for r in log if name is None or r["path"].startswith(f"/jira/{name}/")]

    def issues(self, name: str) -> dict[str, dict[str, Any]]:
        state = self.control("GET", "state")["jira"][name]
        return {issue["key"]: issue for issue in state["issues"]}

    def faults(self, **config: Any) -> None:
        self.control("POST", "faults", config)

    def reset(self) -> None:
        self.control("POST", "faults", {})
        self.control("POST", "reset")

    def rest(self, name: str, method: str, path: str, body: Any = None) -> requests.Response:
        """A direct REST call (a person editing Jira), bypassing the connector."""
        version = "3" if FLAVOURS.get(name, "cloud") == "cloud" else "2"
        answer = self.http.request(
            method,
            f"{self.url}/jira/{name}/rest/api/{version}/{path}",
            json=body,
            auth=(DEFAULT_USER, DEFAULT_TOKEN),
            timeout=60,
        )
        assert answer.status_code < 300, answer.text
        return answer

    def source(self, name: str, **overrides: Any) -> JiraSource:
        flavour = FLAVOURS.get(name, "cloud")
        values: dict[str, Any] = {
            "kind": "jira",
            "name": name,
            "url": f"{self.url}/jira/{name}",
            "flavour": flavour,
            "user": DEFAULT_USER if flavour == "cloud" else None,
            "token_env": "LINESIGHT_JIRA_TOKEN",
            "token": SecretStr(DEFAULT_TOKEN),
            "kr_field": KR_FIELD,
            "team_field": TEAM_FIELD,
            "epic_link_field": EPIC_LINK_FIELD if flavour != "cloud" else None,
        }
        if self.org is not None:
            values["projects"] = tuple(self.org.facts["sources"][name]["projects"])
        values.update(overrides)
        return JiraSource.model_validate(values)

    def connector(self, name: str, **overrides: Any) -> JiraConnector:
        return JiraConnector(self.source(name, **overrides))
