"""The sandbox server over real HTTP: control endpoints, faults, latency, keep-alive, limits."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from linesight.sandbox import DatasetError, FaultConfig, SandboxServer
from linesight.testing.plugin import SandboxFactory, small_dataset

AUTH = ("sandbox@example.com", "sandbox-token")


def myself(server: SandboxServer, session: Any = requests) -> requests.Response:
    return session.get(server.url + "/jira/cloud/rest/api/3/myself", auth=AUTH, timeout=10)


def test_request_log_state_and_reset(sandbox_factory: SandboxFactory) -> None:
    with sandbox_factory() as server:
        myself(server).raise_for_status()
        requests.put(
            server.url + "/jira/cloud/rest/api/3/issue/PAY-2",
            json={"update": {"labels": [{"add": "linesight-orphan"}]}},
            auth=AUTH,
        ).raise_for_status()
        log = requests.get(server.url + "/_sandbox/requests").json()
        assert [(e["method"], e["path"], e["status"]) for e in log] == [
            ("GET", "/jira/cloud/rest/api/3/myself", 200),
            ("PUT", "/jira/cloud/rest/api/3/issue/PAY-2", 204),
        ]
        assert log[1]["body"] == {"update": {"labels": [{"add": "linesight-orphan"}]}}
        assert requests.get(server.url + "/_sandbox/requests?since=1").json() == log[1:]
        state = requests.get(server.url + "/_sandbox/state").json()
        assert set(state) == {"jira", "azure_devops"}
        pay2 = next(i for i in state["jira"]["cloud"]["issues"] if i["key"] == "PAY-2")
        assert pay2["fields"]["labels"] == ["linesight-orphan"]
        assert requests.post(server.url + "/_sandbox/reset").status_code == 200
        state = requests.get(server.url + "/_sandbox/state").json()
        pay2 = next(i for i in state["jira"]["cloud"]["issues"] if i["key"] == "PAY-2")
        assert pay2["fields"]["labels"] == []
        assert requests.get(server.url + "/_sandbox/requests").json() == []


def test_faults_switch_at_runtime_and_spare_control_endpoints(
    sandbox_factory: SandboxFactory,
) -> None:
    with sandbox_factory() as server:
        settings = {"fail_rate": 1.0, "kinds": ["503"]}
        answer = requests.post(server.url + "/_sandbox/faults", json=settings)
        assert answer.json()["fail_rate"] == 1.0
        assert requests.get(server.url + "/_sandbox/faults").json()["kinds"] == ["503"]
        response = myself(server)
        assert response.status_code == 503
        assert response.json()["errorMessages"]
        assert requests.get(server.url + "/_sandbox/state").status_code == 200  # never faulted
        bad = requests.post(server.url + "/_sandbox/faults", json={"fail_rate": "often"})
        assert bad.status_code == 400 and "fail_rate" in bad.json()["error"]
        requests.post(
            server.url + "/_sandbox/faults",
            json={"fail_rate": 1.0, "kinds": ["429"], "retry_after": 3},
        )
        limited = myself(server)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        requests.post(server.url + "/_sandbox/faults", json={})
        assert myself(server).status_code == 200
        log = server.requests()
        assert [e["fault"] for e in log] == ["503", "429", None]


def test_dropped_connection_writes_nothing(sandbox_factory: SandboxFactory) -> None:
    with sandbox_factory(faults=FaultConfig(fail_rate=1.0, kinds=("drop",))) as server:
        with pytest.raises(requests.ConnectionError):
            requests.put(
                server.url + "/jira/cloud/rest/api/3/issue/PAY-2",
                json={"fields": {"labels": ["x"]}},
                auth=AUTH,
            )
        assert server.requests()[0]["status"] is None
        pay2 = server.state()["jira"]["cloud"]["issues"][1]
        assert pay2["fields"]["labels"] == []


def test_rate_limit_headers_on_jira_are_iso(sandbox_factory: SandboxFactory) -> None:
    with sandbox_factory(faults=FaultConfig(rate_limit=2)) as server:
        session = requests.Session()
        statuses = [myself(server, session) for _ in range(6)]
        refused = [r for r in statuses if r.status_code == 429]
        assert refused, [r.status_code for r in statuses]
        headers = refused[0].headers
        assert headers["Retry-After"] == "1" and headers["X-RateLimit-Limit"] == "2"
        assert headers["X-RateLimit-Reset"].endswith("Z") and "T" in headers["X-RateLimit-Reset"]


def test_latency_is_concurrent_not_serialised(sandbox_factory: SandboxFactory) -> None:
    with sandbox_factory(faults=FaultConfig(latency_ms=100)) as server:
        sessions = [requests.Session() for _ in range(16)]
        myself(server, sessions[0]).raise_for_status()  # warm up
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            codes = list(
                pool.map(lambda n: myself(server, sessions[n % 16]).status_code, range(64))
            )
        elapsed = time.perf_counter() - started
        assert codes == [200] * 64
        # 64 requests at 100 ms each: 6.4 s one at a time, ~0.4 s 16 at a time
        assert elapsed < 2.0, elapsed


def test_keep_alive_serves_many_requests_on_one_connection(sandbox_factory: SandboxFactory) -> None:
    with sandbox_factory() as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        for _ in range(3):
            connection.request("GET", "/jira/cloud/rest/api/3/serverInfo")
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200
            assert int(response.headers["Content-Length"]) == len(body)
        connection.close()


def test_unknown_mount_and_control_are_404(sandbox_factory: SandboxFactory) -> None:
    with sandbox_factory() as server:
        missing = requests.get(server.url + "/jira/nope/rest/api/3/myself", auth=AUTH)
        assert missing.status_code == 404 and "/jira/cloud" in missing.json()["errorMessages"][0]
        assert requests.get(server.url + "/_sandbox/nothing").status_code == 404


def test_only_loopback_and_bad_dataset_is_refused() -> None:
    with pytest.raises(ValueError, match="only listens on loopback"):
        SandboxServer(small_dataset(), host="0.0.0.0")  # noqa: S104 - the point of the test
    with pytest.raises(DatasetError, match="missing 'name'"):
        SandboxServer({"jira": [{"flavour": "cloud"}]})


def test_stop_closes_pooled_connections_and_frees_the_port(sandbox_factory: SandboxFactory) -> None:
    session = requests.Session()
    with sandbox_factory() as server:
        myself(server, session).raise_for_status()
        port = server.port
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://127.0.0.1:{port}/jira/cloud/rest/api/3/serverInfo", timeout=2)
    again = SandboxServer(small_dataset(), port=port)
    with again:
        assert requests.get(again.url + "/jira/cloud/rest/api/3/serverInfo").status_code == 200
