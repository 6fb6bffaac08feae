"""scripts/bench at toy sizes: every row of the table is there and holds a measured value.

No timing is asserted anywhere: the numbers belong to the machine, the rows to the script.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"
ROWS = (
    "jira",
    "jira_requests",
    "ado",
    "ado_requests",
    "full_sync",
    "incremental",
    "analysis_4000",
    "analysis_8000",
    "analysis_linearity",
    "writeback",
    "writeback_rerun",
    "writeback_foreign",
)


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("linesight_bench_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


def test_flags_pick_the_sizes(bench: ModuleType) -> None:
    quick, json_path = bench.parse_args(["--quick", "--json", "out.json"])
    assert (quick.items, quick.latency_ms, quick.analysis_sizes) == (5000, 20.0, (10000, 50000))
    assert json_path == Path("out.json")
    full, _ = bench.parse_args(["--concurrency", "16", "--analysis-sizes", "10000,1_000_000"])
    assert (full.items, full.latency_ms, full.concurrency) == (100000, 100.0, 16)
    assert full.analysis_sizes == (10000, 1000000)
    own, _ = bench.parse_args(["--quick", "--items", "700", "--analysis-sizes", ""])
    assert (own.items, own.analysis_sizes) == (700, ())
    assert (own.repeat, bench.parse_args(["--repeat", "1"])[0].repeat) == (3, 1)


@pytest.mark.parametrize(
    "flags",
    [["--items", "5"], ["--analysis-sizes", "10k"], ["--concurrency", "0"], ["--repeat", "0"]],
)
def test_bad_flags_are_refused(bench: ModuleType, flags: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(flags)
    assert exit_info.value.code == 2


def test_toy_run_fills_every_row(bench: ModuleType, tmp_path: Path) -> None:
    from benchlib.report import render, rows
    from rich.console import Console

    config = bench.Config(items=300, latency_ms=0.0, analysis_sizes=(4000, 8000))
    said: list[str] = []
    results, info = bench.run(config, tmp_path, said.append)

    table = rows(results, config.analysis_sizes)
    assert [row.key for row in table] == list(ROWS)
    for row in table:
        assert "n/a" not in row.linesight, (row.key, row.linesight)
    assert results.jira.value.items > 0
    assert results.jira_baseline.value.items == results.jira.value.items
    assert results.ado.value.items > 0
    # linesight's reads: the median of three runs, each of them counted alike
    for read in (results.jira.value, results.ado.value):
        assert len(read.runs_s) == 3 and read.seconds == sorted(read.runs_s)[1]
    assert info["sandbox_prerender_s"] >= 0 and info["ado_in_flight"] == 2 * config.concurrency
    assert results.full_sync.value.timing.items == sum(info["trackers"].values())
    assert results.writeback.value.second_write_calls == 0

    console = Console(record=True, width=200)
    title, caption = bench.title_of(config, info)
    console.print(render(table, title, caption))
    text = console.export_text()
    assert all(row.what in text for row in table)
    assert "300 items" in text
    assert "median of 3" in text

    document = json.loads(json.dumps(results.as_dict()))
    assert set(document["analysis"]) == {"4000", "8000"}
    assert document["jira_cloud"]["linesight"]["requests"] > 0
    assert any("sync_full" in line for line in said)
