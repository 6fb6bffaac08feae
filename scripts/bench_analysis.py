"""Benchmark the analyser: ``python scripts/bench_analysis.py --items 1000000 --krs 5000``.

Generates a seeded organisation in memory — two sources (Jira and Azure DevOps), epics with
stories, links by every rule (labels, KR field, ``work:`` entries, queries, tracker KRs are not
used), some unknown and inactive KR ids, a parent cycle — then times :func:`analyze` and reports
peak memory (the process's maximum resident set, which includes the generated items). The SPEC bar:
1,000,000 items and 5,000 KRs in under 60 s and under 6 GiB on 2 cores.

``--graph`` also times building the networkx graph (what an export does).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from linesight.analysis import analyze
from linesight.model import ItemRef, KeyResult, Objective, StatusCategory, WorkItem
from linesight.settings import Settings

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
CATEGORIES = (StatusCategory.TODO, StatusCategory.IN_PROGRESS, StatusCategory.DONE)
STATUS_NAMES = {
    StatusCategory.TODO: "To Do",
    StatusCategory.IN_PROGRESS: "In Progress",
    StatusCategory.DONE: "Done",
}


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def generate(
    n_items: int, n_krs: int, seed: int = 7
) -> tuple[list[Objective], list[WorkItem], dict[str, list[ItemRef]]]:
    """A seeded organisation: ~1 epic per 20 items, KRs spread over objectives of 4 KRs."""
    rng = random.Random(seed)
    n_objectives = max(1, n_krs // 4)
    kr_ids = [f"KR{k // 4 + 1}.{k % 4 + 1}" for k in range(n_krs)]
    n_epics = max(1, n_items // 20)
    epic_keys: list[tuple[str, str]] = []
    items: list[WorkItem] = []
    explicit: dict[str, list[str]] = {}
    queries: dict[str, list[ItemRef]] = {}
    construct = WorkItem.model_construct
    for e in range(n_epics):
        source = "pay" if e % 2 == 0 else "fabrikam"
        key = f"PAY-{e + 1}" if source == "pay" else str(100000 + e)
        epic_keys.append((source, key))
        roll = rng.random()
        labels: tuple[str, ...] = ()
        kr_refs: tuple[str, ...] = ()
        kr = kr_ids[rng.randrange(n_krs)]
        if roll < 0.45:
            labels = (f"kr-{kr}" if source == "pay" else f"KR:{kr}", "team-a")
        elif roll < 0.65:
            kr_refs = (f"{kr}, {kr_ids[rng.randrange(n_krs)]}",)
        elif roll < 0.72:
            explicit.setdefault(kr, []).append(f"{'jira' if source == 'pay' else 'ado'}:{key}")
        elif roll < 0.78:
            queries.setdefault(kr, []).append(ItemRef(source=source, key=key))
        elif roll < 0.80:
            labels = ("kr-KR9999.9" if source == "pay" else "KR:KR9999.9",)  # unknown
        elif roll < 0.82:
            labels = ("kr-OLD1.1" if source == "pay" else "KR:OLD1.1",)  # inactive
        category = rng.choice(CATEGORIES)
        created = NOW - timedelta(days=rng.uniform(5, 400))
        items.append(
            construct(
                source=source,
                key=key,
                type="Epic",
                title=f"Epic {e}",
                status=STATUS_NAMES[category],
                status_category=category,
                project="PAY" if source == "pay" else "Fabrikam",
                team=f"team-{e % 37}",
                parent=None,
                labels=labels,
                links=(),
                kr_refs=kr_refs,
                created=created,
                updated=created + timedelta(days=3),
                started=created + timedelta(days=1),
                resolved=created + timedelta(days=4) if category is StatusCategory.DONE else None,
                url="",
                rev=1,
            )
        )
    for i in range(n_items - n_epics):
        source, parent = epic_keys[rng.randrange(n_epics)]
        key = f"PAY-{n_epics + i + 1}" if source == "pay" else str(100000 + n_epics + i)
        labels = ()
        if rng.random() < 0.05:
            kr = kr_ids[rng.randrange(n_krs)]
            labels = (f"kr-{kr}" if source == "pay" else f"KR:{kr}",)
        category = rng.choice(CATEGORIES)
        created = NOW - timedelta(days=rng.uniform(1, 200))
        items.append(
            construct(
                source=source,
                key=key,
                type="Story",
                title=f"Story {i}",
                status=STATUS_NAMES[category],
                status_category=category,
                project="PAY" if source == "pay" else "Fabrikam",
                team=f"team-{i % 37}",
                parent=parent if rng.random() < 0.9 else None,
                labels=labels,
                links=(),
                kr_refs=(),
                created=created,
                updated=created + timedelta(days=2),
                started=created + timedelta(days=1),
                resolved=created + timedelta(days=5) if category is StatusCategory.DONE else None,
                url="",
                rev=1,
            )
        )
    if len(items) >= 3:  # one parent cycle, as real data has
        a, b = items[-1], items[-2]
        items[-1] = a.model_copy(update={"parent": b.key, "source": b.source})
        items[-2] = b.model_copy(update={"parent": a.key})
    objectives = []
    for o in range(n_objectives):
        krs = tuple(
            KeyResult(
                id=kr_id,
                objective=f"O{o + 1}",
                title=f"Raise metric {kr_id} from 10% to 20%",
                baseline=10.0,
                target=20.0,
                current=rng.uniform(10, 20),
                work=tuple(explicit.get(kr_id, ())),
            )
            for kr_id in kr_ids[o * 4 : o * 4 + 4]
        )
        objectives.append(
            Objective(
                id=f"O{o + 1}",
                title=f"Objective {o + 1}",
                cycle="2026-Q4",
                wip_limit=50,
                key_results=krs,
            )
        )
    objectives.append(
        Objective(
            id="OLD",
            title="Last quarter",
            cycle="2026-Q3",
            key_results=(KeyResult(id="OLD1.1", objective="OLD", title="Old"),),
        )
    )
    return objectives, items, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--krs", type=int, default=1_000)
    parser.add_argument("--level", choices=("leaf", "epic"), default="leaf")
    parser.add_argument("--graph", action="store_true", help="also build the networkx graph")
    args = parser.parse_args()

    started = time.perf_counter()
    objectives, items, queries = generate(args.items, args.krs)
    generated = time.perf_counter() - started
    rss_items = _peak_rss_mib()
    settings = Settings(
        sources=(
            {"name": "pay", "kind": "jira", "url": "https://pay.example", "projects": ("PAY",)},
            {
                "name": "fabrikam",
                "kind": "azure-devops",
                "url": "https://dev.azure.com/fabrikam",
                "project": "Fabrikam",
            },
        ),
        analysis={"wip_level": args.level},
    )
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    analysis = analyze(
        objectives, items, cycle="2026-Q4", settings=settings, query_matches=queries, now=NOW
    )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    summary = analysis.result.summary
    print(
        f"items={args.items:,} krs={args.krs:,} level={args.level}: generate {generated:.1f} s, "
        f"analyze {elapsed:.2f} s wall / {cpu:.2f} s CPU, peak RSS {_peak_rss_mib():,.0f} MiB "
        f"(items alone {rss_items:,.0f} MiB)"
    )
    print(
        f"  in_scope={summary.in_scope:,} wip={summary.wip:,} aligned_wip={summary.aligned_wip:,} "
        f"orphans={summary.orphan_count:,} unsupported_krs={summary.unsupported_kr_count:,} "
        f"warnings={len(analysis.result.graph_warnings)}"
    )
    if args.graph:
        started = time.perf_counter()
        graph = analysis.graph.nx
        print(
            f"  networkx graph: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} "
            f"edges in {time.perf_counter() - started:.1f} s, peak RSS {_peak_rss_mib():,.0f} MiB"
        )


if __name__ == "__main__":
    main()
