"""The seeded organisation generator: determinism, formats, planted truths, official schemas.

The strongest check here is :func:`_derive`: an independent mini-analysis that reads only the
rendered wire payloads and ``okrs.yaml`` (never the planner's records) and must find exactly the
orphans, KR statuses and effective WIP the generator claims in ``facts``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema
import yaml

from linesight.analysis.kr_kind import classify_kr
from linesight.errors import UserError
from linesight.sandbox.dataset import load_dataset
from linesight.sandbox.generator import (
    GeneratedOrg,
    generate,
    generate_dataset,
    write_org,
)
from linesight.settings import AzureDevOpsSource, JiraSource, load_settings

NOW = datetime(2026, 11, 15, tzinfo=UTC)
SPECS = Path("/work/shared/specs")
JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
ADO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$")


@pytest.fixture(scope="module")
def org() -> GeneratedOrg:
    return generate_dataset(3000, 11, now=NOW)


def _okrs(org: GeneratedOrg) -> dict[str, Any]:
    data = yaml.safe_load(org.okrs_yaml)
    assert isinstance(data, dict)
    return data


# --- determinism and files ------------------------------------------------------------------


def test_same_seed_and_now_give_identical_files(tmp_path: Path) -> None:
    first = generate(400, 3, tmp_path / "a", now=NOW)
    second = generate(400, 3, tmp_path / "b", now=NOW)
    assert [p.name for p in first] == ["dataset.json", "okrs.yaml", "linesight.toml", "facts.json"]
    for one, two in zip(first, second, strict=True):
        left = one.read_bytes()
        right = two.read_bytes()
        if one.name == "linesight.toml":  # names its own folder
            left = left.replace(str(tmp_path / "a").encode(), b"DIR")
            right = right.replace(str(tmp_path / "b").encode(), b"DIR")
        assert left == right, one.name


def test_a_different_seed_gives_a_different_org() -> None:
    one = generate_dataset(400, 3, now=NOW)
    two = generate_dataset(400, 4, now=NOW)
    assert json.dumps(one.dataset) != json.dumps(two.dataset)
    assert one.facts["orphans"] != two.facts["orphans"]


def test_write_org_leaves_no_temporary_files_and_overwrites(tmp_path: Path) -> None:
    generate(120, 1, tmp_path, now=NOW)
    written = generate(150, 2, tmp_path, now=NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert json.loads((tmp_path / "facts.json").read_text(encoding="utf-8"))["items"] == 150


def test_dataset_file_is_what_the_sandbox_loads(tmp_path: Path, org: GeneratedOrg) -> None:
    write_org(org, tmp_path)
    loaded = load_dataset(tmp_path / "dataset.json")
    assert loaded == json.loads(json.dumps(org.dataset))
    assert [j["name"] for j in loaded["jira"]] == ["cloud", "dc"]
    assert [j["flavour"] for j in loaded["jira"]] == ["cloud", "datacenter"]
    assert loaded["azure_devops"][0]["organization"] == "contoso"


def test_default_now_is_today_at_midnight_utc() -> None:
    before = datetime.now(UTC).date()
    facts = generate_dataset(60, 1).facts
    moment = datetime.fromisoformat(facts["now"])
    assert before <= moment.date() <= datetime.now(UTC).date()
    assert (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)
    assert facts["cycle"] == f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


@pytest.mark.parametrize("items", [0, 49, -5, 2_000_001])
def test_out_of_range_sizes_are_refused_with_the_fix(items: int) -> None:
    with pytest.raises(UserError, match=r"choose between 50 and 2,000,000 \(--items\)"):
        generate_dataset(items, 1, now=NOW)


@pytest.mark.parametrize("items", [50, 51, 777, 5000])
def test_items_is_the_exact_total_split_over_three_sources(items: int) -> None:
    org = generate_dataset(items, 9, now=NOW)
    cloud, dc = (len(j["issues"]) for j in org.dataset["jira"])
    ado = len(org.dataset["azure_devops"][0]["work_items"])
    assert cloud + dc + ado == items
    assert abs(cloud / items - 0.45) < 0.02
    assert abs(dc / items - 0.20) < 0.02


# --- settings and OKRs ----------------------------------------------------------------------


def test_settings_load_and_point_at_the_written_files(tmp_path: Path) -> None:
    generate(200, 5, tmp_path / "org", now=NOW)
    settings = load_settings(tmp_path / "org" / "linesight.toml", environ={}, dotenv=None)
    assert settings.okrs == (tmp_path / "org" / "okrs.yaml").resolve()
    assert settings.okrs.is_file()
    assert settings.state_dir.parent == settings.okrs.parent
    cloud, dc, ado = settings.sources
    assert isinstance(cloud, JiraSource) and isinstance(dc, JiraSource)
    assert isinstance(ado, AzureDevOpsSource)
    assert (cloud.name, cloud.flavour, cloud.url) == (
        "cloud",
        "cloud",
        "http://127.0.0.1:8765/jira/cloud",
    )
    assert cloud.projects == ("GROW", "PAY", "PLAT", "SHOP")
    assert (cloud.kr_field, cloud.team_field) == ("customfield_10100", "customfield_10001")
    assert (dc.flavour, dc.epic_link_field, dc.projects) == (
        "datacenter",
        "customfield_10014",
        ("FIN", "OPS"),
    )
    assert (ado.name, ado.project, ado.area_paths) == ("contoso", "Fabrikam", ("Fabrikam",))
    assert ado.kr_field == "Custom.KeyResults"
    assert {s.token_env for s in settings.sources} == {"LINESIGHT_SANDBOX_TOKEN"}


def test_in_memory_settings_name_files_relative_to_the_folder(org: GeneratedOrg) -> None:
    assert 'okrs = "okrs.yaml"' in org.settings_toml
    assert "/tmp" not in org.settings_toml


def test_base_url_prefixes_every_link() -> None:
    org = generate_dataset(80, 1, now=NOW, base_url="http://127.0.0.1:9999/")
    text = json.dumps(org.dataset)
    assert "127.0.0.1:8765" not in text
    assert org.dataset["jira"][0]["issues"][0]["self"].startswith(
        "http://127.0.0.1:9999/jira/cloud/rest/api/3/issue/"
    )
    assert 'url = "http://127.0.0.1:9999/ado/contoso"' in org.settings_toml


def test_okrs_have_the_spec_shape(org: GeneratedOrg) -> None:
    okrs = _okrs(org)
    assert okrs["cycle"] == "2026-Q4"
    objectives = okrs["objectives"]
    active = [o for o in objectives if "cycle" not in o]
    previous = [o for o in objectives if "cycle" in o]
    assert 4 <= len(active) <= 40
    assert previous and {o["cycle"] for o in previous} == {"2026-Q3"}
    ids = [o["id"] for o in objectives]
    kr_ids = [kr["id"] for o in objectives for kr in o["key_results"]]
    assert len(set(ids)) == len(ids) and len(set(kr_ids)) == len(kr_ids)
    for objective in objectives:
        assert set(objective) <= {"id", "title", "cycle", "owner", "wip_limit", "key_results"}
        assert re.fullmatch(r"O\d+", objective["id"])
        assert 2 <= len(objective["key_results"]) <= 4
        for kr in objective["key_results"]:
            assert set(kr) <= {"id", "title", "baseline", "target", "current", "work"}
            assert re.fullmatch(rf"KR{objective['id'][1:]}\.\d", kr["id"])
            assert all(isinstance(kr[k], int | float) for k in ("baseline", "target", "current"))
            for entry in kr.get("work", []):
                assert (
                    isinstance(entry, str) and re.fullmatch(r"(cloud|dc|contoso):\S+", entry)
                ) or (isinstance(entry, dict) and set(entry) <= {"jql", "wiql"} and len(entry) == 1)
    works = [w for o in objectives for kr in o["key_results"] for w in kr.get("work", [])]
    assert any(isinstance(w, str) and w.startswith("cloud:") for w in works)
    assert any(isinstance(w, str) and w.startswith("contoso:") for w in works)
    assert any(isinstance(w, dict) and "jql" in w for w in works)
    assert any(isinstance(w, dict) and "wiql" in w for w in works)


def test_about_one_objective_per_3000_items() -> None:
    counts = {}
    for items in (50, 30_000):
        okrs = yaml.safe_load(generate_dataset(items, 2, now=NOW).okrs_yaml)
        counts[items] = sum("cycle" not in o for o in okrs["objectives"])
    assert counts == {50: 4, 30_000: 10}


def test_kr_kinds_match_the_classifier(org: GeneratedOrg) -> None:
    okrs = _okrs(org)
    titles = {kr["id"]: kr["title"] for o in okrs["objectives"] for kr in o["key_results"]}
    outputs = set(org.facts["output_krs"])
    assert outputs
    assert len(outputs) / len(org.facts["key_results"]) < 0.4
    for kid in org.facts["key_results"]:
        assert classify_kr(titles[kid]).kind.value == ("output" if kid in outputs else "outcome")


# --- payload shape --------------------------------------------------------------------------


def _jira(org: GeneratedOrg, name: str) -> list[dict[str, Any]]:
    instance = next(j for j in org.dataset["jira"] if j["name"] == name)
    issues: list[dict[str, Any]] = instance["issues"]
    return issues


def _ado(org: GeneratedOrg) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = org.dataset["azure_devops"][0]["work_items"]
    return items


def test_jira_issues_carry_the_native_fields(org: GeneratedOrg) -> None:
    for name, api in (("cloud", 3), ("dc", 2)):
        for issue in _jira(org, name):
            assert (
                issue["self"]
                == f"http://127.0.0.1:8765/jira/{name}/rest/api/{api}/issue/{issue['id']}"
            )
            assert issue["expand"].startswith("renderedFields,names,schema")
            fields = issue["fields"]
            for key in (
                "summary",
                "issuetype",
                "status",
                "project",
                "labels",
                "issuelinks",
                "created",
                "updated",
                "resolutiondate",
                "statuscategorychangedate",
                "customfield_10100",
                "customfield_10001",
            ):
                assert key in fields, (issue["key"], key)
            assert issue["key"].startswith(fields["project"]["key"] + "-")
            category = fields["status"]["statusCategory"]
            assert (category["key"], category["name"]) in {
                ("new", "To Do"),
                ("indeterminate", "In Progress"),
                ("done", "Done"),
            }
            assert (fields["resolutiondate"] is None) == (category["key"] != "done")
            for key in ("created", "updated", "statuscategorychangedate"):
                assert JIRA_TIME.match(fields[key])
            team = fields["customfield_10001"]
            krs = fields["customfield_10100"]
            if name == "cloud":
                assert set(team) >= {"id", "name"}
                assert krs is None or (
                    isinstance(krs, list) and all(isinstance(k, str) for k in krs)
                )
                assert "hierarchyLevel" in fields["issuetype"]
                assert "customfield_10014" not in fields
            else:
                assert set(team) >= {"value", "id"}
                assert krs is None or isinstance(krs, str)
                assert "hierarchyLevel" not in fields["issuetype"]  # a Cloud-only attribute
                assert "customfield_10014" in fields


def test_ado_work_items_carry_the_native_fields(org: GeneratedOrg) -> None:
    states = {"New", "Active", "Resolved", "Closed", "Removed"}
    for item in _ado(org):
        fields = item["fields"]
        assert item["url"] == f"http://127.0.0.1:8765/ado/contoso/_apis/wit/workItems/{item['id']}"
        assert item["_links"]["self"]["href"] == item["url"]
        assert isinstance(item["rev"], int) and item["rev"] >= 1
        assert fields["System.TeamProject"] == "Fabrikam"
        assert fields["System.AreaPath"].startswith("Fabrikam\\")
        assert fields["System.IterationPath"].startswith("Fabrikam")
        assert fields["System.WorkItemType"] in {"Epic", "Feature", "User Story", "Task"}
        assert fields["System.State"] in states
        assert fields["System.Reason"]
        assert set(fields["System.CreatedBy"]) >= {"displayName", "id", "uniqueName", "descriptor"}
        assert None not in fields.values()  # absent, never null, as the real API
        if fields["System.WorkItemType"] == "Task":
            assert fields["System.State"] != "Resolved"
        for key, value in fields.items():
            if key.endswith("Date"):
                assert ADO_TIME.match(value), (key, value)
        if "System.Tags" in fields:
            tags = fields["System.Tags"].split("; ")
            assert tags == sorted(tags, key=str.lower)


def test_custom_field_entries_describe_the_fields_used(org: GeneratedOrg) -> None:
    cloud, dc = org.dataset["jira"]
    assert {f["id"]: f["name"] for f in cloud["fields"]} == {
        "customfield_10100": "Key Results",
        "customfield_10001": "Team",
    }
    assert {f["id"]: f["name"] for f in dc["fields"]} == {
        "customfield_10100": "Key Results",
        "customfield_10001": "Team",
        "customfield_10014": "Epic Link",
    }


# --- hierarchy and dates --------------------------------------------------------------------


def _parse_jira_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _parse_ado_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_jira_hierarchy_is_a_forest_of_epics_stories_and_subtasks(org: GeneratedOrg) -> None:
    for name in ("cloud", "dc"):
        issues = {i["key"]: i for i in _jira(org, name)}
        for key, issue in issues.items():
            fields = issue["fields"]
            kind = fields["issuetype"]["name"]
            parent_key = (fields.get("parent") or {}).get("key") or fields.get("customfield_10014")
            if kind == "Epic":
                assert parent_key is None
                continue
            if fields["issuetype"]["subtask"]:
                assert fields["parent"]["key"] in issues
                parent = issues[fields["parent"]["key"]]
                assert parent["fields"]["issuetype"]["name"] in {"Story", "Task", "Bug"}
                assert key in {s["key"] for s in parent["fields"]["subtasks"]}
            elif parent_key is not None:
                assert issues[parent_key]["fields"]["issuetype"]["name"] == "Epic"
                if name == "dc":
                    assert "parent" not in fields  # DC: stories reach epics by Epic Link only
            if parent_key is not None:
                parent = issues[parent_key]
                assert int(parent["id"]) < int(issue["id"])
                assert _parse_jira_time(parent["fields"]["created"]) <= _parse_jira_time(
                    fields["created"]
                )
                stub = fields.get("parent")
                if stub is not None:
                    assert stub["fields"]["summary"] == parent["fields"]["summary"]
                    assert stub["fields"]["status"] == parent["fields"]["status"]


def test_jira_issue_links_are_mirrored(org: GeneratedOrg) -> None:
    issues = {i["key"]: i for i in _jira(org, "cloud")}
    links = [(k, link) for k, i in issues.items() for link in i["fields"]["issuelinks"]]
    assert links
    for key, link in links:
        if "outwardIssue" in link:
            other = issues[link["outwardIssue"]["key"]]
            mirror = [x for x in other["fields"]["issuelinks"] if x["id"] == link["id"]]
            assert mirror and mirror[0]["inwardIssue"]["key"] == key


def test_ado_hierarchy_relations_agree_with_system_parent(org: GeneratedOrg) -> None:
    items = {i["id"]: i for i in _ado(org)}
    levels = {"Epic": 0, "Feature": 1, "User Story": 2, "Task": 3}
    for number, item in items.items():
        relations = item.get("relations", [])
        assert relations or "relations" not in item
        parents = [r for r in relations if r["rel"] == "System.LinkTypes.Hierarchy-Reverse"]
        parent_id = item["fields"].get("System.Parent")
        if parent_id is None:
            assert not parents
            continue
        assert [r["url"].rsplit("/", 1)[1] for r in parents] == [str(parent_id)]
        assert parents[0]["attributes"] == {"isLocked": False, "name": "Parent"}
        parent = items[parent_id]
        assert parent_id < number
        assert (
            levels[parent["fields"]["System.WorkItemType"]]
            < levels[item["fields"]["System.WorkItemType"]]
        )
        children = {
            int(r["url"].rsplit("/", 1)[1])
            for r in parent["relations"]
            if r["rel"] == "System.LinkTypes.Hierarchy-Forward"
        }
        assert number in children


def test_jira_dates_are_ordered_and_in_the_past(org: GeneratedOrg) -> None:
    earliest = NOW.timestamp() - 300 * 86400
    for name in ("cloud", "dc"):
        for issue in _jira(org, name):
            fields = issue["fields"]
            created = _parse_jira_time(fields["created"]).timestamp()
            changed = _parse_jira_time(fields["statuscategorychangedate"]).timestamp()
            updated = _parse_jira_time(fields["updated"]).timestamp()
            assert earliest < created <= changed <= NOW.timestamp()
            assert created <= updated <= NOW.timestamp()
            if fields["resolutiondate"] is not None:
                assert fields["resolutiondate"] == fields["statuscategorychangedate"]
                assert created < changed <= updated


def test_ado_dates_are_ordered_and_in_the_past(org: GeneratedOrg) -> None:
    order = (
        "System.CreatedDate",
        "Microsoft.VSTS.Common.ActivatedDate",
        "Microsoft.VSTS.Common.ResolvedDate",
        "Microsoft.VSTS.Common.ClosedDate",
    )
    for item in _ado(org):
        fields = item["fields"]
        stamps = [_parse_ado_time(fields[k]) for k in order if k in fields]
        assert stamps == sorted(stamps)
        assert stamps[-1] <= NOW
        state_change = _parse_ado_time(fields["Microsoft.VSTS.Common.StateChangeDate"])
        assert stamps[0] <= state_change <= _parse_ado_time(fields["System.ChangedDate"]) <= NOW
        state = fields["System.State"]
        assert ("Microsoft.VSTS.Common.ActivatedDate" in fields) == (
            state in {"Active", "Resolved", "Closed"}
        )
        assert ("Microsoft.VSTS.Common.ClosedDate" in fields) == (state == "Closed")


def test_status_mix_and_flow_are_plausible() -> None:
    facts = generate_dataset(20_000, 4, now=NOW).facts
    mix = facts["status_mix"]
    total = sum(mix.values())
    assert 0.5 < mix["done"] / total < 0.8
    assert 0.07 < mix["in_progress"] / total < 0.2
    assert 0.1 < mix["todo"] / total < 0.35
    assert 0.05 < facts["summary"]["orphan_share"] < 0.35


# --- planted truths -------------------------------------------------------------------------


def test_facts_agree_with_an_independent_reading_of_the_payloads(org: GeneratedOrg) -> None:
    derived = _derive(org)
    facts = org.facts
    assert derived["orphans"] == {k: sorted(v) for k, v in facts["orphans"].items()}
    assert derived["kr_status"] == {k: v["status"] for k, v in facts["key_results"].items()}
    assert derived["effective_wip"] == pytest.approx(
        {k: v["effective_wip"] for k, v in facts["objectives"].items()}
    )
    assert derived["shared"] == facts["shared_items"]
    assert derived["cross_tracker"] == sorted(facts["cross_tracker_krs"])


@pytest.mark.parametrize(("items", "seed"), [(50, s) for s in range(6)] + [(137, 1), (2500, 8)])
def test_every_planted_case_exists_at_every_size(items: int, seed: int) -> None:
    org = generate_dataset(items, seed, now=NOW)
    facts = org.facts
    derived = _derive(org)
    for reason in ("no_link", "unknown_kr", "inactive_kr"):
        assert derived["orphans"][reason], reason
        assert sorted(facts["orphans"][reason]) == derived["orphans"][reason]
    assert facts["unsupported_krs"] and facts["stalled_krs"]
    assert set(facts["unsupported_krs"]) == {
        k for k, s in derived["kr_status"].items() if s == "unsupported"
    }
    assert facts["over_limit_objectives"] == ["O1"]
    assert facts["output_krs"]
    assert "KR1.1" in derived["cross_tracker"]
    assert derived["shared"], "an item serving two objectives"
    assert facts["achieved_krs"] and all(
        derived["kr_status"][k] == "supported" for k in facts["achieved_krs"]
    )


def test_unknown_kr_is_named_by_a_label_and_a_tag_on_unfinished_items(org: GeneratedOrg) -> None:
    jira = [
        i
        for name in ("cloud", "dc")
        for i in _jira(org, name)
        if "kr-KR99.9" in i["fields"]["labels"]
    ]
    ado = [i for i in _ado(org) if "KR:KR99.9" in i["fields"].get("System.Tags", "")]
    assert jira and ado
    assert all(i["fields"]["status"]["statusCategory"]["key"] != "done" for i in jira)
    assert all(i["fields"]["System.State"] in {"New", "Active", "Resolved"} for i in ado)


def test_over_limit_objective_is_over_and_the_others_are_not(org: GeneratedOrg) -> None:
    okrs = _okrs(org)
    limits = {o["id"]: o.get("wip_limit") for o in okrs["objectives"] if "cycle" not in o}
    derived = _derive(org)
    over = sorted(
        o for o, lim in limits.items() if lim is not None and derived["effective_wip"][o] > lim
    )
    assert over == ["O1"]
    assert sum(lim is not None for lim in limits.values()) >= 2


def test_stalled_krs_have_only_todo_work_and_no_progress(org: GeneratedOrg) -> None:
    derived = _derive(org)
    okrs = _okrs(org)
    krs = {kr["id"]: kr for o in okrs["objectives"] for kr in o["key_results"]}
    for kid in org.facts["stalled_krs"]:
        assert derived["categories"][kid] == {"todo"}
        assert krs[kid]["current"] == krs[kid]["baseline"]
    for kid in org.facts["unsupported_krs"]:
        assert kid not in derived["categories"]
        assert "work" not in krs[kid]


def test_hostile_titles_are_planted_on_orphans(org: GeneratedOrg) -> None:
    refs = org.facts["planted"]["hostile_titles"]
    assert len(refs) == 3
    titles = _titles(org)
    orphans = {r for refs_ in org.facts["orphans"].values() for r in refs_}
    assert all(r in orphans for r in refs)
    assert any("<script>" in titles[r] for r in refs)


# --- official schemas -----------------------------------------------------------------------


@cache
def _jira_registry() -> referencing.Registry[Any]:
    spec = json.loads((SPECS / "jira-cloud-platform/swagger-v3.v3.json").read_text("utf-8"))
    schemas = spec["components"]["schemas"]
    # The spec's IssueLink is the *create* request shape: it requires both ends, while a read
    # returns only the other end (inwardIssue or outwardIssue). Checked without `required`.
    schemas["IssueLink"] = {k: v for k, v in schemas["IssueLink"].items() if k != "required"}
    resource = referencing.jsonschema.DRAFT202012.create_resource(spec)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource("urn:jira", resource)
    return registry


@cache
def _ado_registry() -> referencing.Registry[Any]:
    text = (SPECS / "azure-devops/wit-7.1/workItemTracking.json").read_text("utf-8-sig")
    # The swagger types every field value and link attribute as `{"type": "object"}` — .NET's
    # `object`, i.e. any JSON value (the spec's own examples hold strings and numbers there).
    spec = json.loads(text)
    _any_values(spec)
    resource = referencing.jsonschema.DRAFT4.create_resource(spec)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource("urn:ado", resource)
    return registry


def _any_values(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("additionalProperties") == {"type": "object"}:
            node["additionalProperties"] = {}
        for value in node.values():
            _any_values(value)
    elif isinstance(node, list):
        for value in node:
            _any_values(value)


def _validate(registry: referencing.Registry[Any], ref: str, instance: Any) -> None:
    validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{ref}: {errors[0].message} at {list(errors[0].path)}"


def _sample(values: list[Any], count: int) -> Iterator[Any]:
    yield from random.Random(0).sample(values, min(count, len(values)))


@pytest.mark.parametrize("name", ["cloud", "dc"])
def test_jira_issues_conform_to_the_official_schemas(org: GeneratedOrg, name: str) -> None:
    registry = _jira_registry()
    schema = "urn:jira#/components/schemas/"
    issues = _jira(org, name)
    linked = [i for i in issues if i["fields"]["issuelinks"]]
    for issue in [*_sample(issues, 150), *linked[:10]]:
        _validate(registry, schema + "IssueBean", issue)
        fields = issue["fields"]
        _validate(registry, schema + "StatusDetails", fields["status"])
        _validate(registry, schema + "IssueTypeDetails", fields["issuetype"])
        _validate(registry, schema + "ProjectDetails", fields["project"])
        _validate(registry, schema + "Priority", fields["priority"])
        _validate(registry, schema + "UserDetails", fields["reporter"])
        if fields["assignee"] is not None:
            _validate(registry, schema + "UserDetails", fields["assignee"])
        if fields["resolution"] is not None:
            _validate(registry, schema + "Resolution", fields["resolution"])
        for link in fields["issuelinks"]:
            _validate(registry, schema + "IssueLink", link)
        for stub in [fields.get("parent"), *fields["subtasks"]]:
            if stub is not None:
                _validate(registry, schema + "LinkedIssue", stub)
    instance = next(j for j in org.dataset["jira"] if j["name"] == name)
    for entry in instance["fields"]:
        _validate(registry, schema + "FieldDetails", entry)


def test_ado_work_items_conform_to_the_official_schema(org: GeneratedOrg) -> None:
    registry = _ado_registry()
    items = _ado(org)
    for item in [*_sample(items, 200), *(i for i in items if "relations" in i)][:260]:
        _validate(registry, "urn:ado#/definitions/WorkItem", item)
        for key in ("System.CreatedBy", "System.ChangedBy", "System.AssignedTo"):
            if key in item["fields"]:
                _validate(registry, "urn:ado#/definitions/IdentityRef", item["fields"][key])


# --- an independent reading of the payloads ---------------------------------------------------


def _titles(org: GeneratedOrg) -> dict[str, str]:
    titles = {
        f"{name}:{i['key']}": i["fields"]["summary"]
        for name in ("cloud", "dc")
        for i in _jira(org, name)
    }
    titles.update({f"contoso:{i['id']}": i["fields"]["System.Title"] for i in _ado(org)})
    return titles


def _derive(org: GeneratedOrg) -> dict[str, Any]:
    """Orphans, KR status and effective WIP from the wire payloads and okrs.yaml alone."""
    okrs = _okrs(org)
    cycle = okrs["cycle"]
    objective_of = {kr["id"]: o["id"] for o in okrs["objectives"] for kr in o["key_results"]}
    active = {
        kr["id"]: kr
        for o in okrs["objectives"]
        if o.get("cycle", cycle) == cycle
        for kr in o["key_results"]
    }
    # one record per in-scope item: ref -> (parent ref, category, project/area, labels, KR ids)
    items: dict[str, dict[str, Any]] = {}
    categories = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
    for name in ("cloud", "dc"):
        for issue in _jira(org, name):
            f = issue["fields"]
            parent = (f.get("parent") or {}).get("key") or f.get("customfield_10014")
            field = f["customfield_10100"] or []
            if isinstance(field, str):
                field = [k.strip() for k in field.split(",")]
            labels = f["labels"]
            items[f"{name}:{issue['key']}"] = {
                "parent": f"{name}:{parent}" if parent else None,
                "category": categories[f["status"]["statusCategory"]["key"]],
                "scope": f["project"]["key"],
                "labels": set(labels),
                "krs": {lab[3:] for lab in labels if lab.startswith("kr-")} | set(field),
            }
    ado_category = {
        "New": "todo",
        "Active": "in_progress",
        "Resolved": "in_progress",
        "Closed": "done",
    }
    for item in _ado(org):
        f = item["fields"]
        if f["System.State"] == "Removed":
            continue
        tags = set(f["System.Tags"].split("; ")) if "System.Tags" in f else set()
        field = {k.strip() for k in f.get("Custom.KeyResults", "").split(",") if k.strip()}
        parent = f.get("System.Parent")
        items[f"contoso:{item['id']}"] = {
            "parent": f"contoso:{parent}" if parent else None,
            "category": ado_category[f["System.State"]],
            "scope": f["System.AreaPath"],
            "labels": tags,
            "krs": {t[3:] for t in tags if t.startswith("KR:")} | field,
        }
    for objective in okrs["objectives"]:
        for kr in objective["key_results"]:
            for entry in kr.get("work", []):
                if isinstance(entry, str):
                    items[entry]["krs"].add(kr["id"])
                    continue
                if "jql" in entry:
                    match = re.fullmatch(r"project = (\w+) AND labels = ([\w-]+)", entry["jql"])
                else:
                    match = re.fullmatch(
                        r"\[System\.AreaPath\] UNDER '(.+)' AND \[System\.Tags\] CONTAINS '(.+)'",
                        entry["wiql"],
                    )
                assert match, entry
                scope, label = match.groups()
                for record in items.values():
                    if record["scope"] == scope and label in record["labels"]:
                        record["krs"].add(kr["id"])

    @cache
    def reach(ref: str) -> frozenset[str]:
        record = items[ref]
        inherited = reach(record["parent"]) if record["parent"] else frozenset()
        return inherited | frozenset(record["krs"])

    has_active_child = {r["parent"] for r in items.values() if r["category"] == "in_progress"}
    orphans: dict[str, list[str]] = {"no_link": [], "unknown_kr": [], "inactive_kr": []}
    cats: dict[str, set[str]] = {}
    sources: dict[str, set[str]] = {}
    effective = {o["id"]: 0.0 for o in okrs["objectives"] if o.get("cycle", cycle) == cycle}
    shared = {}
    for ref, record in items.items():
        krs = reach(ref)
        live = {k for k in krs if k in active}
        for kid in live:
            cats.setdefault(kid, set()).add(record["category"])
            sources.setdefault(kid, set()).add("ado" if ref.startswith("contoso:") else "jira")
        if record["category"] != "done" and not live:
            if not krs:
                orphans["no_link"].append(ref)
            elif all(k in objective_of for k in krs):
                orphans["inactive_kr"].append(ref)
            else:
                orphans["unknown_kr"].append(ref)
        if record["category"] == "in_progress" and ref not in has_active_child:
            served = sorted({objective_of[k] for k in live})
            for objective in served:
                effective[objective] += 1 / len(served)
            if len(served) > 1:
                shared[ref] = served
    status = {}
    for kid, kr in active.items():
        rising = kr["target"] >= kr["baseline"]
        below = kr["current"] < kr["target"] if rising else kr["current"] > kr["target"]
        if kid not in cats:
            status[kid] = "unsupported"
        elif below and cats[kid] in ({"todo"}, {"done"}):
            status[kid] = "stalled"
        else:
            status[kid] = "supported"
    return {
        "orphans": {k: sorted(v) for k, v in orphans.items()},
        "kr_status": status,
        "effective_wip": effective,
        "shared": shared,
        "cross_tracker": sorted(k for k, s in sources.items() if len(s) == 2),
        "categories": cats,
    }
