"""Generate a realistic, seeded organisation for the sandbox: trackers, OKRs and settings.

``linesight sandbox generate --items N --seed S --out DIR`` writes

- ``dataset.json`` — native Jira Cloud, Jira Data Center and Azure DevOps payloads, the format
  :func:`linesight.sandbox.dataset.load_dataset` reads (one issue / work item per line);
- ``okrs.yaml`` — the objectives and key results of the current quarter and a few of the previous
  one, linked to the work by every link rule;
- ``linesight.toml`` — settings with three sources pointing at the sandbox;
- ``facts.json`` — the planted truths: what a correct analysis must find.

The same ``(items, seed, now)`` always gives byte-identical files. Generation is linear in
``items``; see :mod:`linesight.sandbox.gen_org` for how the organisation is drawn.
"""

from __future__ import annotations

import gc
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import yaml

from linesight.sandbox import gen_ado, gen_jira
from linesight.sandbox.gen_org import CONTAINERS, UNKNOWN_KR, Org, build_org
from linesight.sandbox.gen_truth import Truth, truth

__all__ = [
    "DEFAULT_BASE_URL",
    "TOKEN_ENV",
    "GeneratedOrg",
    "generate",
    "generate_dataset",
    "render_settings",
    "write_org",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8765"
TOKEN_ENV = "LINESIGHT_SANDBOX_TOKEN"  # noqa: S105 - the name of a variable, not a secret
_JIRA_INSTANCES = (("cloud", "cloud"), ("dc", "datacenter"))
_BATCH = 2000  # issues per write() when streaming dataset.json


@dataclass(frozen=True)
class GeneratedOrg:
    """A generated organisation, in memory.

    ``dataset`` is what the sandbox server loads. Its descriptor objects (statuses, issue types,
    users, ``parent`` stubs, ...) are shared between items: treat it as read-only, or round-trip
    it through JSON for a private copy. ``settings_toml`` names its files relative to the output
    folder (``okrs = "okrs.yaml"``); :func:`write_org` writes them as absolute paths. ``facts``
    holds the planted truths (see :func:`generate_dataset`).
    """

    dataset: dict[str, Any]
    okrs_yaml: str
    settings_toml: str
    facts: dict[str, Any]


def generate_dataset(
    items: int,
    seed: int,
    *,
    now: datetime | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> GeneratedOrg:
    """Generate an organisation of exactly ``items`` work items, in memory; no I/O.

    ``now`` (default: today, 00:00 UTC) fixes the active cycle (its quarter) and every date;
    ``base_url`` prefixes every ``self`` / ``url`` link. ``facts`` holds, among others:
    ``orphans`` (every orphan by reason: ``no_link`` / ``unknown_kr`` / ``inactive_kr``),
    ``key_results`` (status, kind, role and linked-item counts of every active KR),
    ``unsupported_krs``, ``stalled_krs``, ``output_krs``, ``over_limit_objectives``,
    ``objectives`` (effective WIP, WIP count and limit), ``shared_items`` (item ref -> the
    objectives it serves), ``cross_tracker_krs`` and ``planted`` (the hand-placed cases).
    Raises :class:`~linesight.errors.UserError` when ``items`` is out of range.
    """
    moment = _day(now)
    base_url = base_url.rstrip("/")
    with _no_gc():
        org = build_org(items, seed, moment)
        found = truth(org)
        _set_wip_limits(org, found)
        dataset = {
            "jira": [
                gen_jira.render_jira(org, name, flavour, base_url)
                for name, flavour in _JIRA_INSTANCES
            ],
            "azure_devops": [gen_ado.render_ado(org, base_url)],
        }
        facts = _facts(org, found, items, seed, moment, base_url)
    return GeneratedOrg(
        dataset=dataset,
        okrs_yaml=_okrs_yaml(org, items, seed),
        settings_toml=render_settings(facts, None),
        facts=facts,
    )


def write_org(org: GeneratedOrg, out: Path) -> list[Path]:
    """Write ``dataset.json``, ``okrs.yaml``, ``linesight.toml`` and ``facts.json`` into ``out``.

    Each file is written to a temporary name and renamed into place, so a reader never sees a
    half-written file. Returns the paths written.
    """
    out.mkdir(parents=True, exist_ok=True)
    root = out.resolve()
    with _no_gc():
        return [
            _atomic(root / "dataset.json", lambda fh: _dump_dataset(org.dataset, fh)),
            _atomic(root / "okrs.yaml", lambda fh: fh.write(org.okrs_yaml)),
            _atomic(root / "linesight.toml", lambda fh: fh.write(render_settings(org.facts, root))),
            _atomic(
                root / "facts.json",
                lambda fh: fh.write(json.dumps(org.facts, indent=1, sort_keys=True) + "\n"),
            ),
        ]


def generate(
    items: int,
    seed: int,
    out: Path,
    *,
    now: datetime | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> list[Path]:
    """:func:`generate_dataset` then :func:`write_org`; returns the paths written."""
    return write_org(generate_dataset(items, seed, now=now, base_url=base_url), out)


def render_settings(facts: dict[str, Any], root: Path | None) -> str:
    """``linesight.toml`` for a generated org; paths are absolute under ``root`` if given.

    Settings paths are read relative to the process's working directory, so a file meant to be
    used from anywhere must name them absolutely.
    """
    sources = facts["sources"]
    base_url = facts["base_url"]

    def path(name: str) -> str:
        return _toml(str(root / name) if root is not None else name)

    cloud, dc, ado = sources["cloud"], sources["dc"], sources["contoso"]
    lines = [
        f"# linesight settings for a sandbox organisation ({facts['items']:,} items, "
        f"seed {facts['seed']}).",
        "# Start the sandbox, then run with the sandbox token:",
        f"#   {TOKEN_ENV}=sandbox-token linesight run --config linesight.toml",
        f"okrs = {path('okrs.yaml')}",
        f"state_dir = {path('.linesight')}",
        f"output_dir = {path('linesight-out')}",
        "",
        "[[sources]]",
        'name = "cloud"',
        'kind = "jira"',
        'flavour = "cloud"',
        f"url = {_toml(base_url + '/jira/cloud')}",
        'user = "sandbox@example.com"',
        f"token_env = {_toml(TOKEN_ENV)}",
        f"projects = {_toml_list(cloud['projects'])}",
        f"kr_field = {_toml(gen_jira.KR_FIELD)}",
        f"team_field = {_toml(gen_jira.TEAM_FIELD)}",
        "",
        "[[sources]]",
        'name = "dc"',
        'kind = "jira"',
        'flavour = "datacenter"',
        f"url = {_toml(base_url + '/jira/dc')}",
        f"token_env = {_toml(TOKEN_ENV)}",
        f"projects = {_toml_list(dc['projects'])}",
        f"epic_link_field = {_toml(gen_jira.EPIC_LINK_FIELD)}",
        f"kr_field = {_toml(gen_jira.KR_FIELD)}",
        f"team_field = {_toml(gen_jira.TEAM_FIELD)}",
        "",
        "[[sources]]",
        f"name = {_toml(gen_ado.ORGANIZATION)}",
        'kind = "azure-devops"',
        f"url = {_toml(base_url + '/ado/' + gen_ado.ORGANIZATION)}",
        f"project = {_toml(ado['project'])}",
        f"token_env = {_toml(TOKEN_ENV)}",
        f"area_paths = {_toml_list([ado['project']])}",
        f"kr_field = {_toml(gen_ado.KR_FIELD)}",
    ]
    return "\n".join(lines) + "\n"


# --- helpers ------------------------------------------------------------------------------------


@contextmanager
def _no_gc() -> Iterator[None]:
    # Millions of new, long-lived objects make the cyclic GC rescan the heap over and over (half
    # the run time at 100k items); nothing here creates garbage cycles worth collecting early.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _day(now: datetime | None) -> datetime:
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if now is None:
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment


def _set_wip_limits(org: Org, found: Truth) -> None:
    """O1 is planted over its limit; every other second objective has a limit it keeps."""
    for index, objective in enumerate(o for o in org.objectives if o.cycle == org.cycle):
        effective = found.effective_wip[objective.id]
        if index == 0:
            objective.wip_limit = max(1, math.floor(effective * 0.6))
            if effective <= objective.wip_limit:  # pragma: no cover - the planner prevents it
                raise AssertionError(f"{objective.id}: effective WIP {effective} not over limit")
        elif index % 2 == 0:
            objective.wip_limit = math.ceil(effective * 1.25) + 2


def _facts(
    org: Org, found: Truth, items: int, seed: int, now: datetime, base_url: str
) -> dict[str, Any]:
    krs = {kr.id: kr for o in org.objectives for kr in o.key_results}
    active = [o for o in org.objectives if o.cycle == org.cycle]
    by_source = org.by_source
    status_mix: dict[str, int] = {"todo": 0, "in_progress": 0, "done": 0, "removed": 0}
    for item in org.items:
        status_mix["removed" if item.removed else item.category] += 1
    not_done = status_mix["todo"] + status_mix["in_progress"]
    orphan_count = sum(len(refs) for refs in found.orphans.values())
    key_results = {}
    for kid, status in found.kr_status.items():
        kr = krs[kid]
        key_results[kid] = {
            "objective": kr.objective,
            "status": status,
            "kind": kr.kind,
            "role": kr.role,
            "score": round((kr.current - kr.baseline) / (kr.target - kr.baseline), 6),
            "items": found.kr_items[kid],
            "in_progress_items": found.kr_in_progress[kid],
        }
    objectives = {
        o.id: {
            "effective_wip": found.effective_wip[o.id],
            "wip_count": found.wip_count[o.id],
            "wip_limit": o.wip_limit,
            "over_limit": o.wip_limit is not None and found.effective_wip[o.id] > o.wip_limit,
        }
        for o in active
    }

    def refs(key: str) -> list[str]:
        return [item.ref() for item in org.planted.get(key, ())]

    return {
        "items": items,
        "seed": seed,
        "now": now.isoformat(),
        "cycle": org.cycle,
        "previous_cycle": org.previous_cycle,
        "base_url": base_url,
        "sources": {
            "cloud": _jira_source(org, "cloud", "cloud"),
            "dc": _jira_source(org, "dc", "datacenter"),
            "contoso": {
                "kind": "azure-devops",
                "organization": gen_ado.ORGANIZATION,
                "project": gen_ado.PROJECT,
                "area_paths": sorted(c.key for c in CONTAINERS if c.source == "contoso"),
                "items": len(by_source["contoso"]),
            },
        },
        "status_mix": status_mix,
        "summary": {
            "work_items": items,
            "in_scope": found.in_scope,
            "in_progress": found.in_progress,
            "wip_items": found.wip_items,
            "aligned_wip": found.aligned_wip,
            "orphan_count": orphan_count,
            "orphan_share": round(orphan_count / not_done, 6) if not_done else 0.0,
            "unsupported_kr_count": sum(s != "supported" for s in found.kr_status.values()),
        },
        "orphans": found.orphans,
        "unknown_kr": UNKNOWN_KR,
        "key_results": key_results,
        "unsupported_krs": [k for k, s in found.kr_status.items() if s == "unsupported"],
        "stalled_krs": [k for k, s in found.kr_status.items() if s == "stalled"],
        "achieved_krs": [k for k, v in key_results.items() if v["role"] == "achieved"],
        "output_krs": [k for k, v in key_results.items() if v["kind"] == "output"],
        "inactive_krs": [kr.id for kr in krs.values() if not kr.active],
        "objectives": objectives,
        "over_limit_objectives": [oid for oid, o in objectives.items() if o["over_limit"]],
        "shared_items": found.shared,
        "cross_tracker_krs": found.cross_tracker,
        "query_krs": {kr.id: _query(kr.home.key, kr) for kr in krs.values() if kr.query_label},
        "explicit_krs": {
            kr.id: [item.ref() for item in kr.explicit] for kr in krs.values() if kr.explicit
        },
        "planted": {
            "cross_tracker_kr": "KR1.1",
            "cross_tracker_epics": refs("cross"),
            "no_link": refs("no_link"),
            "unknown_kr": refs("unknown_kr"),
            "inactive_kr_epics": refs("inactive_kr"),
            "shared": refs("shared"),
            "hostile_titles": refs("hostile_title"),
        },
    }


def _jira_source(org: Org, name: str, flavour: str) -> dict[str, Any]:
    return {
        "kind": "jira",
        "flavour": flavour,
        "projects": sorted(c.key for c in CONTAINERS if c.source == name),
        "items": len(org.by_source[name]),
    }


def _query(container: str, kr: Any) -> dict[str, str]:
    if kr.home.source == "contoso":
        return {
            "wiql": f"[System.AreaPath] UNDER '{container}' "
            f"AND [System.Tags] CONTAINS '{kr.query_label}'"
        }
    return {"jql": f"project = {container} AND labels = {kr.query_label}"}


def _okrs_yaml(org: Org, items: int, seed: int) -> str:
    objectives = []
    for objective in org.objectives:
        entry: dict[str, Any] = {"id": objective.id, "title": objective.title}
        if objective.cycle != org.cycle:
            entry["cycle"] = objective.cycle
        entry["owner"] = objective.owner
        if objective.wip_limit is not None:
            entry["wip_limit"] = objective.wip_limit
        key_results = []
        for kr in objective.key_results:
            value: dict[str, Any] = {
                "id": kr.id,
                "title": kr.title,
                "baseline": _num(kr.baseline),
                "target": _num(kr.target),
                "current": _num(kr.current),
            }
            work: list[Any] = [item.ref() for item in kr.explicit]
            if kr.query_label:
                work.append(_query(kr.home.key, kr))
            if work:
                value["work"] = work
            key_results.append(value)
        entry["key_results"] = key_results
        objectives.append(entry)
    header = (
        f"# OKRs of a generated sandbox organisation ({items:,} items, seed {seed}).\n"
        f"# Objectives of {org.previous_cycle} are inactive: work linked only to them is an "
        "orphan (inactive_kr).\n"
    )
    body = yaml.safe_dump(
        {"cycle": org.cycle, "objectives": objectives},
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )
    return header + body


def _num(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _toml(value: str) -> str:
    # a JSON string is a valid TOML basic string (same escapes, \uXXXX included)
    return json.dumps(value)


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml(v) for v in values) + "]"


def _dump_dataset(dataset: dict[str, Any], fh: IO[str]) -> None:
    """Stream the dataset as JSON, one issue / work item per line, in bounded memory."""
    # Key order is the construction order, deterministic and the APIs' own; sorting would only
    # cost time.
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    fh.write("{")
    for index, (kind, big) in enumerate((("azure_devops", "work_items"), ("jira", "issues"))):
        fh.write(("," if index else "") + f'\n"{kind}":[')
        for number, entry in enumerate(dataset.get(kind, ())):
            head = encode({k: v for k, v in entry.items() if k != big})
            fh.write(("," if number else "") + "\n" + head[:-1] + f',"{big}":[\n')
            records = entry.get(big, [])
            for start in range(0, len(records), _BATCH):
                chunk = records[start : start + _BATCH]
                fh.write((",\n" if start else "") + ",\n".join(map(encode, chunk)))
            fh.write("\n]}")
        fh.write("]")
    fh.write("\n}\n")


def _atomic(path: Path, write: Callable[[IO[str]], object]) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            write(fh)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
