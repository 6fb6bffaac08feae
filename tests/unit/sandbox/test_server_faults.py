"""Fault settings and decisions, and dataset checking: pure, no sockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linesight.sandbox import DatasetError, FaultConfig, load_dataset
from linesight.sandbox.faults import FaultInjector
from linesight.testing.plugin import jira_issue, small_dataset


def test_same_seed_same_faults_and_rate_is_respected() -> None:
    config = FaultConfig(fail_rate=0.3, seed=7)
    first = [FaultInjector(config).decide() for _ in range(1)]
    one, two = FaultInjector(config), FaultInjector(config)
    run_one = [one.decide() for _ in range(2000)]
    run_two = [two.decide() for _ in range(2000)]
    assert run_one == run_two
    assert first[0] == run_one[0]
    failures = [f for f in run_one if f is not None]
    assert 0.25 < len(failures) / 2000 < 0.35
    assert {f.kind for f in failures} == {"429", "500", "503", "drop"}
    retry = next(f for f in failures if f.kind == "429")
    assert retry.status == 429 and retry.headers == {"Retry-After": "1"}
    assert next(f for f in failures if f.kind == "drop").status is None


def test_no_faults_by_default_and_kinds_restrict() -> None:
    assert all(FaultInjector().decide() is None for _ in range(100))
    only = FaultInjector(FaultConfig(fail_rate=1.0, kinds=("503",), retry_after=4))
    assert {only.decide().status for _ in range(20)} == {503}  # type: ignore[union-attr]


def test_rate_limit_answers_429_with_headers_beyond_the_limit() -> None:
    injector = FaultInjector(FaultConfig(rate_limit=3, retry_after=2))
    decisions = [injector.decide() for _ in range(5)]
    # the window is one wall-clock second; 5 calls take microseconds, but a second boundary
    # may fall between them, so only the shape of the first refusal is asserted
    refused = [d for d in decisions if d is not None]
    assert 1 <= len(refused) <= 2
    headers = refused[0].headers
    assert headers["Retry-After"] == "2"
    assert headers["X-RateLimit-Limit"] == "3"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert int(headers["X-RateLimit-Reset"]) > 1_700_000_000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fail_rate": 2}, "fail_rate must be between 0 and 1"),
        ({"latency": 5}, "unknown fault setting(s) ['latency']"),
        ({"rate_limit": 0}, "rate_limit must be >= 1"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"kinds": ["418"]}, "kinds must be a non-empty subset"),
    ],
)
def test_bad_fault_settings_say_what_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        FaultConfig.from_mapping(data)
    assert message in str(caught.value)


def test_fault_settings_round_trip() -> None:
    config = FaultConfig(
        latency_ms=100, fail_rate=0.1, rate_limit=50, seed=3, kinds=("429", "drop")
    )
    assert FaultConfig.from_mapping(config.to_dict()) == config


def _broken(mutate: str) -> dict[str, object]:
    data = small_dataset()
    issues = data["jira"][0]["issues"]
    if mutate == "key":
        del issues[3]["key"]
    elif mutate == "category":
        issues[1]["fields"]["status"]["statusCategory"]["key"] = "todo"
    elif mutate == "duplicate":
        issues[2]["id"] = issues[1]["id"]
    elif mutate == "flavour":
        data["jira"][1]["flavour"] = "server"
    elif mutate == "typo":
        data["azure-devops"] = []
    elif mutate == "name":
        data["jira"][0]["name"] = "my site"
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        ("key", "dataset: jira[0].issues[3]: missing 'key'"),
        ("category", "dataset: jira[0].issues[1].fields.status.statusCategory: missing 'key'"),
        ("duplicate", "dataset: jira[0].issues[2]: duplicate id '10002'"),
        (
            "flavour",
            "dataset: jira[1].flavour: expected one of ['cloud', 'datacenter'], got 'server'",
        ),
        ("typo", "unknown top-level key 'azure-devops' (did you mean 'azure_devops'?)"),
        ("name", "jira[0].name: 'my site' may only use letters"),
    ],
)
def test_bad_dataset_names_the_place(mutate: str, message: str) -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset(_broken(mutate))
    assert message in str(caught.value)


def test_dataset_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dataset.json"
    data = {
        "jira": [{"name": "c", "flavour": "cloud", "issues": [jira_issue(1, "A-1"), {"id": "2"}]}]
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"^dataset.json: jira\[0\].issues\[1\]: missing 'key'"):
        load_dataset(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"^dataset.json:1:2: not valid JSON"):
        load_dataset(path)
    with pytest.raises(DatasetError, match="cannot read dataset"):
        load_dataset(tmp_path / "missing.json")
    path.write_text(json.dumps(small_dataset()), encoding="utf-8")
    assert [site["name"] for site in load_dataset(path)["jira"]] == ["cloud", "dc"]
