"""linesight's benchmark: numbers for the SPEC's quality bars, measured side by side in one run.

    scripts/bench --quick                      # everything in under two minutes
    scripts/bench                              # 100,000 items, 100 ms per request
    scripts/bench --items 20000 --latency-ms 50 --analysis-sizes 10000,100000 --json out.json

One run generates a seeded organisation (Jira Cloud, Jira Data Center and Azure DevOps items),
serves it from the sandbox in a separate process with a fixed latency per request, and measures:

1. a full read of the Jira Cloud source by linesight's connector vs the ``jira`` library's plain
   ``enhanced_search_issues(jql, maxResults=False)`` loop (same scope, same fields);
2. a full read of the Azure DevOps source by linesight's connector vs the ``azure-devops`` SDK's
   plain WIQL + ``get_work_items_batch(200 ids, expand="Relations")`` loop;
3. ``sync_full`` of every source into the state store, then 1% of the items edited through the
   trackers' write APIs and ``sync_incremental``;
4. write-back: plan + apply, write calls counted in the sandbox's request log vs the label and
   comment changes the trackers show afterwards; then a sync and a second apply (0 writes);
5. analysis time and peak memory per size, each in a fresh process (``bench_analysis.py``).

Every time comes with its request count and the lower bound ``requests x latency / requests in
flight``. Before anything is timed the client libraries are imported and the sandbox renders every
payload the reads will ask for (``POST /_sandbox/prerender``), so that no row pays for work another
row then reuses. linesight's full reads run ``--repeat`` times (3) and show the median; the plain
loops, many times longer, run once. A piece that is not in the tree yet shows ``n/a (not built)``;
nothing is estimated.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

# benchlib lives next to this script
from benchlib import sandbox as sandbox_process
from benchlib.analysis import run_analysis
from benchlib.report import Outcome, Results, Row, attempt, render, rows

T = TypeVar("T")

FULL = {"items": 100_000, "latency_ms": 100.0, "analysis_sizes": (10_000, 100_000, 1_000_000)}
QUICK = {"items": 5_000, "latency_ms": 20.0, "analysis_sizes": (10_000, 50_000)}


@dataclass(frozen=True)
class Config:
    """What one run measures."""

    items: int
    latency_ms: float
    concurrency: int = 8
    analysis_sizes: tuple[int, ...] = ()
    churn: float = 0.01
    seed: int = 1
    repeat: int = 3


def parse_args(argv: Sequence[str] | None = None) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure linesight's sync, incremental sync, write-back and analysis.",
    )
    parser.add_argument("--items", type=int, help="work items across all trackers (100000)")
    parser.add_argument("--latency-ms", type=float, help="sandbox latency per request (100)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (8)")
    parser.add_argument(
        "--analysis-sizes",
        help="comma-separated item counts for the analysis ('10000,100000,1000000'; '' skips)",
    )
    parser.add_argument("--churn", type=float, default=0.01, help="share of items edited (0.01)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the organisation (1)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="linesight's full reads are run this many times and the median shown (3)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="5,000 items, 20 ms, analysis 10k/50k: < 2 minutes"
    )
    parser.add_argument("--json", type=Path, help="also save every number to this file")
    args = parser.parse_args(argv)
    preset: dict[str, Any] = QUICK if args.quick else FULL
    sizes: tuple[int, ...] = preset["analysis_sizes"]
    if args.analysis_sizes is not None:
        try:
            sizes = tuple(int(s.replace("_", "")) for s in args.analysis_sizes.split(",") if s)
        except ValueError:
            parser.error(
                f"--analysis-sizes: expected numbers like 10000,100000, got {args.analysis_sizes!r}"
            )
    config = Config(
        items=args.items if args.items is not None else preset["items"],
        latency_ms=args.latency_ms if args.latency_ms is not None else preset["latency_ms"],
        concurrency=args.concurrency,
        analysis_sizes=sizes,
        churn=args.churn,
        seed=args.seed,
        repeat=args.repeat,
    )
    problems = []
    if config.items < 100:
        problems.append("--items must be at least 100")
    if config.latency_ms < 0:
        problems.append("--latency-ms must be >= 0")
    if not 1 <= config.concurrency <= 64:
        problems.append("--concurrency must be between 1 and 64")
    if not 1 <= config.repeat <= 9:
        problems.append("--repeat must be between 1 and 9")
    if not 0 <= config.churn <= 1:
        problems.append("--churn must be between 0 and 1")
    if any(size < 100 for size in sizes):
        problems.append("--analysis-sizes must be at least 100 each")
    if problems:
        parser.error("; ".join(problems))
    return config, args.json


def machine() -> str:
    """Cores, CPU model, memory and Python, for the table's header."""
    model = platform.processor() or platform.machine()
    memory = ""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")),
                model,
            )
        with Path("/proc/meminfo").open(encoding="utf-8") as meminfo:
            kib = int(next(ln for ln in meminfo if ln.startswith("MemTotal")).split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        # other work on the machine slows every figure; say how busy it was
        load = f", load average {os.getloadavg()[0]:.1f}"
    return (
        f"{os.cpu_count()} cores ({model}){memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}{load}"
    )


def run(
    config: Config, workdir: Path, say: Callable[[str], None]
) -> tuple[Results, dict[str, Any]]:
    """Measure everything; returns the results and facts about the run (sizes, timings)."""
    from benchlib import measure

    results = Results()
    info: dict[str, Any] = {
        "machine": machine(),  # at the start: the load average before our own work
        "config": config.__dict__ | {"analysis_sizes": config.analysis_sizes},
    }
    os.environ.setdefault("AZURE_DEVOPS_CACHE_DIR", str(workdir / "ado-sdk-cache"))

    def phase(name: str, work: Callable[[], T]) -> Outcome:
        say(f"{name} ...")
        gc.collect()  # the previous phase's garbage must not be collected on this one's clock
        started = time.perf_counter()
        outcome = attempt(work)
        note = outcome.problem or "done"
        say(f"{name}: {note} in {time.perf_counter() - started:.1f} s")
        return outcome

    port = sandbox_process.free_port()
    org = workdir / "org"
    say(f"generating {config.items:,} items (seed {config.seed}) ...")
    info["generate_s"] = round(sandbox_process.generate(config.items, config.seed, org, port), 2)
    facts = json.loads((org / "facts.json").read_text(encoding="utf-8"))
    info["trackers"] = {name: s["items"] for name, s in facts["sources"].items()}
    say("starting the sandbox ...")
    started = time.perf_counter()
    server = sandbox_process.start(
        org / "dataset.json", port, config.latency_ms, workdir / "sandbox.log"
    )
    info["sandbox_start_s"] = round(time.perf_counter() - started, 2)
    try:
        settings = measure.load_bench_settings(
            org / "linesight.toml", config.concurrency, workdir / "state"
        )
        bench = measure.Bench(
            server, settings, org / "okrs.yaml", config.latency_ms, config.concurrency
        )
        measure.warm_imports()
        say("pre-rendering the payloads in the sandbox ...")
        info["sandbox_prerender_s"] = round(server.prerender(measure.jira_fields(settings)), 2)
        jira = measure.jira_source(settings, "cloud")
        ado = measure.ado_source(settings)
        info["sources"] = {"jira": jira.name, "azure_devops": ado.name}
        info["ado_in_flight"] = measure.in_flight(ado)
        # linesight first: if the server warms up at all, the plain loops get the benefit
        results.jira = phase(
            "Jira Cloud: linesight connector",
            lambda: measure.connector_fetch(bench, jira, config.repeat),
        )
        results.jira_baseline = phase(
            "Jira Cloud: jira library loop",
            lambda: measure.jira_baseline(bench, jira),
        )
        results.ado = phase(
            "Azure DevOps: linesight connector",
            lambda: measure.connector_fetch(bench, ado, config.repeat),
        )
        results.ado_baseline = phase(
            "Azure DevOps: SDK loop",
            lambda: measure.ado_baseline(bench, ado),
        )
        results.full_sync = phase("sync_full", lambda: measure.run_sync(bench, incremental=False))
        if results.full_sync.value is not None:
            results.churn_edits = phase(
                f"editing {config.churn:.0%} of the items",
                lambda: measure.churn(bench, config.churn),
            )
            results.incremental = phase(
                "sync_incremental", lambda: measure.run_sync(bench, incremental=True)
            )
            results.writeback = phase("write-back plan + apply", lambda: measure.writeback(bench))
    finally:
        server.stop()
    for size in config.analysis_sizes:
        results.analysis[size] = phase(f"analysis of {size:,} items", partial(run_analysis, size))
    return results, info


def title_of(config: Config, info: dict[str, Any]) -> tuple[str, str]:
    trackers = ", ".join(f"{name} {count:,}" for name, count in info.get("trackers", {}).items())
    sizes = ", ".join(f"{n:,}" for n in config.analysis_sizes) or "none"
    title = (
        f"linesight benchmark — {info.get('machine') or machine()}\n"
        f"{config.items:,} items ({trackers}), sandbox in its own process at "
        f"{config.latency_ms:g} ms per request\n"
        f"linesight: concurrency {config.concurrency} per source (Azure DevOps reads keep "
        f"{info.get('ado_in_flight', '?')} in flight); plain loops: 1; "
        f"analysis sizes: {sizes}"
    )
    caption = (
        "bound = requests x latency / requests in flight (sync_full: the slowest source's, "
        "sources run side by side). Write-back runs at 0 ms latency (it counts calls, not "
        "time); its truth column is read back from the trackers."
    )
    return title, caption


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    config, json_path = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="  %(name)s: %(message)s")
    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 170)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="linesight-bench-") as tmp:
        results, info = run(config, Path(tmp), lambda text: err.print(f"[dim]· {text}[/]"))
    table_rows: list[Row] = rows(results, config.analysis_sizes)
    title, caption = title_of(config, info)
    out.print(render(table_rows, title, caption))
    info["wall_s"] = round(time.perf_counter() - began, 1)
    out.print(f"whole run: {info['wall_s']:,.1f} s")
    if json_path is not None:
        document = {
            **info,
            "results": results.as_dict(),
            "table": [row.__dict__ for row in table_rows],
        }
        json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        out.print(f"numbers saved to {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
