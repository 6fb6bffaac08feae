"""What the benchmark measures: timed runs against the sandbox, with request counts.

Every figure carries its request count (from the sandbox's own request log) and the lower bound
``requests x latency / concurrency``: no client can beat that on a server this slow, so the gap
between a figure and its bound is what the client itself costs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from benchlib.sandbox import TOKEN, TOKEN_ENV, USER, Sandbox, by_tracker, endpoint, is_write
from linesight.settings import AzureDevOpsSource, JiraSource, Settings, SourceSettings


@dataclass(frozen=True)
class Timing:
    """One timed read: items, wall seconds, requests, and the best any client could do."""

    items: int
    seconds: float
    requests: int
    latency_ms: float
    concurrency: int
    bound_s: float | None = None  # set when the bound is not requests x latency / concurrency
    client_cpu_s: float | None = None  # CPU of this process (every thread) during the run
    server_cpu_s: float | None = None  # CPU of the sandbox process during the run
    runs_s: tuple[float, ...] = ()  # every run's seconds when this is the median of several

    @property
    def per_1000(self) -> float:
        """Requests per 1,000 items."""
        return 1000 * self.requests / max(self.items, 1)

    @property
    def lower_bound_s(self) -> float:
        """``requests x latency / concurrency``: the wait no client can avoid."""
        if self.bound_s is not None:
            return self.bound_s
        return self.requests * self.latency_ms / 1000 / self.concurrency

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "requests_per_1000_items": round(self.per_1000, 2),
            "concurrency": self.concurrency,
            "lower_bound_s": round(self.lower_bound_s, 3),
            "client_cpu_s": _round(self.client_cpu_s),
            "sandbox_cpu_s": _round(self.server_cpu_s),
            "runs_s": [round(r, 3) for r in self.runs_s],
        }


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


@dataclass
class _Clock:
    """Wall time and the CPU of both processes over one measured run."""

    sandbox: Sandbox
    wall: float = 0.0
    client: float = 0.0
    server: float | None = None

    def __enter__(self) -> _Clock:
        self.server = self.sandbox.cpu_seconds()
        self.client = time.process_time()
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.client = time.process_time() - self.client
        server = self.sandbox.cpu_seconds()
        self.server = (
            server - self.server if server is not None and self.server is not None else None
        )


@dataclass
class Bench:
    """What every measurement shares: the running sandbox, the settings and the OKR file."""

    sandbox: Sandbox
    settings: Settings
    okrs_path: Path
    latency_ms: float
    concurrency: int

    def source(self, name: str) -> SourceSettings:
        return self.settings.source(name)

    def timed(self, run: Callable[[], int], *, concurrency: int) -> Timing:
        """Run ``run`` (it returns the item count) and count the requests it made."""
        mark = self.sandbox.mark()
        with _Clock(self.sandbox) as clock:
            items = run()
        made = len(self.sandbox.requests_since(mark))
        return Timing(
            items,
            clock.wall,
            made,
            self.latency_ms,
            concurrency,
            client_cpu_s=clock.client,
            server_cpu_s=clock.server,
        )


def load_bench_settings(config: Path, concurrency: int, state_dir: Path) -> Settings:
    """The generated ``linesight.toml`` with the sandbox token, ``concurrency`` and a state dir."""
    from linesight.settings import load_settings

    settings = load_settings(config, environ={TOKEN_ENV: TOKEN}, dotenv=None)
    sources = tuple(s.model_copy(update={"concurrency": concurrency}) for s in settings.sources)
    return settings.model_copy(update={"sources": sources, "state_dir": state_dir})


def in_flight(source: SourceSettings) -> int:
    """Requests the source's connector keeps in flight when it reads (its bound's divisor).

    ``concurrency`` for Jira; the Azure DevOps connector reads ahead, twice that.
    """
    from linesight.connector import open_connector

    connector = open_connector(source)  # touches no network until it is used
    try:
        return int(getattr(connector, "in_flight", source.concurrency))
    finally:
        connector.close()


def warm_imports() -> None:
    """Import both trackers' client libraries and connectors before anything is timed.

    Importing costs the same for linesight and for the plain loops (they use the same
    libraries), once per process; whichever row ran first would otherwise pay it alone.
    """
    import importlib

    for module in (
        "jira",
        "azure.devops.connection",
        "azure.devops.v7_1.work_item_tracking.work_item_tracking_client",
        "linesight_jira.connector",
        "linesight_azure_devops.connector",
    ):
        importlib.import_module(module)


def jira_fields(settings: Settings) -> list[list[str]]:
    """The ``fields`` every Jira source's reads ask for (the connector's and the plain loop's)."""
    from linesight_jira.mapping import IssueMapper

    return [
        list(IssueMapper.for_source(source).fields)
        for source in settings.sources
        if isinstance(source, JiraSource)
    ]


def jira_source(settings: Settings, flavour: str) -> JiraSource:
    """The first Jira source of ``flavour`` in the generated settings."""
    for source in settings.sources:
        if isinstance(source, JiraSource) and source.flavour == flavour:
            return source
    raise LookupError(f"the generated settings have no Jira {flavour} source")


def ado_source(settings: Settings) -> AzureDevOpsSource:
    """The first Azure DevOps source in the generated settings."""
    for source in settings.sources:
        if isinstance(source, AzureDevOpsSource):
            return source
    raise LookupError("the generated settings have no Azure DevOps source")


# -- reads: connectors vs the plain library loops ---------------------------------------------


def connector_fetch(bench: Bench, source: SourceSettings, repeat: int = 1) -> Timing:
    """A full fetch through the installed linesight connector (items mapped, nothing stored);
    with ``repeat`` > 1, the median of that many runs (a new connector each time)."""
    from linesight.connector import open_connector

    def run() -> int:
        connector = open_connector(source)
        try:
            return sum(1 for _ in connector.fetch(None))
        finally:
            connector.close()

    flight = in_flight(source)
    timings = sorted(
        (bench.timed(run, concurrency=flight) for _ in range(max(1, repeat))),
        key=lambda t: t.seconds,
    )
    median = timings[len(timings) // 2]
    if len(timings) == 1:
        return median
    return replace(median, runs_s=tuple(t.seconds for t in timings))


def jira_baseline(bench: Bench, source: JiraSource) -> Timing:
    """``enhanced_search_issues(jql, maxResults=False)`` over the source's scope and fields."""
    from benchlib.baselines import jira_plain_loop
    from linesight_jira.jql import Scope
    from linesight_jira.mapping import IssueMapper

    jql = Scope.from_source(source).query()
    fields = IssueMapper.for_source(source).fields
    return bench.timed(lambda: jira_plain_loop(source, jql, fields), concurrency=1)


def ado_baseline(bench: Bench, source: AzureDevOpsSource) -> Timing:
    """WIQL (paged by id) + ``get_work_items_batch`` of 200 with ``expand="Relations"``."""
    from benchlib.baselines import ado_plain_loop

    return bench.timed(lambda: ado_plain_loop(source), concurrency=1)


# -- the sync engine: full, 1% churn, incremental ---------------------------------------------


@dataclass(frozen=True)
class SyncRun:
    """One run of the sync engine over every source, into the state store."""

    timing: Timing
    per_source: Mapping[str, Timing]
    errors: tuple[str, ...] = ()
    endpoints: Mapping[str, int] = field(default_factory=dict)  # requests per route

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.timing.as_dict(),
            "sources": {name: t.as_dict() for name, t in self.per_source.items()},
            "errors": list(self.errors),
            "requests_by_endpoint": dict(self.endpoints),
        }


def _mount(source: SourceSettings) -> str:
    return "/" + source.url.split("//", 1)[-1].split("/", 1)[-1].lower()


def run_sync(bench: Bench, *, incremental: bool) -> SyncRun:
    """``sync_full`` or ``sync_incremental`` of every source (they sync side by side)."""
    from linesight.okrs import load_okrs
    from linesight.store import Store
    from linesight.sync import sync_full, sync_incremental

    okrs = load_okrs(bench.okrs_path)
    settings = bench.settings
    mark = bench.sandbox.mark()
    with _Clock(bench.sandbox) as clock, Store.open(settings.state_dir) as store:
        sync = sync_incremental if incremental else sync_full
        report = sync(settings, store, objectives=okrs.objectives, cycle=okrs.cycle)
    entries = bench.sandbox.requests_since(mark)
    counts = by_tracker(entries)
    per_source: dict[str, Timing] = {}
    for entry in report.sources:
        source = settings.source(entry.source)
        per_source[entry.source] = Timing(
            entry.fetched,
            entry.duration_s,
            counts.get(_mount(source), 0),
            bench.latency_ms,
            in_flight(source),
        )
    # sources sync side by side: the bound is the slowest source's, not the sum
    bound = max((t.lower_bound_s for t in per_source.values()), default=0.0)
    total = Timing(
        sum(t.items for t in per_source.values()),
        clock.wall,
        sum(counts.values()),
        bench.latency_ms,
        bench.concurrency,
        bound_s=bound,
        client_cpu_s=clock.client,
        server_cpu_s=clock.server,
    )
    errors = tuple(f"{r.source}: {r.error}" for r in report.failed)
    routes = Counter(map(endpoint, entries))
    return SyncRun(total, per_source, errors, dict(routes.most_common()))


def stored_keys(settings: Settings) -> dict[str, list[str]]:
    """Every stored key per source, sorted."""
    from linesight.store import Store

    with Store.open(settings.state_dir) as store:
        return {s.name: sorted(store.item_keys(s.name)) for s in settings.sources}


def churn(bench: Bench, share: float) -> int:
    """Edit ``share`` of every source's items through the trackers' write APIs; the edits made.

    Jira: ``PUT /rest/api/{3|2}/issue/{key}`` with a new summary. Azure DevOps:
    ``PATCH {project}/_apis/wit/workitems/{id}`` with a new title. Made at zero latency: this is
    setup, not something being measured.
    """
    jobs: list[tuple[str, str, Any]] = []
    step = max(1, round(1 / share)) if share > 0 else 0
    for name, keys in stored_keys(bench.settings).items():
        if not step:
            break
        source = bench.source(name)
        for number, key in enumerate(keys[::step]):
            title = f"Benchmark edit {number}"
            if isinstance(source, JiraSource):
                api = "3" if source.flavour == "cloud" else "2"
                url = f"{source.url}/rest/api/{api}/issue/{key}"
                jobs.append(("PUT", url, {"fields": {"summary": title}}))
            else:
                url = f"{source.url}/{source.project}/_apis/wit/workitems/{key}?api-version=7.1"
                patch = [{"op": "add", "path": "/fields/System.Title", "value": title}]
                jobs.append(("PATCH", url, patch))
    local = threading.local()

    def edit(job: tuple[str, str, Any]) -> None:
        method, url, body = job
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        if "/jira/" in url:
            headers = {"Content-Type": "application/json"}
            auth: tuple[str, str] = (USER, TOKEN)
        else:
            headers = {"Content-Type": "application/json-patch+json"}
            auth = ("", TOKEN)
        answer = session.request(method, url, json=body, headers=headers, auth=auth, timeout=60)
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:200]}")

    with bench.sandbox.latency(0), ThreadPoolExecutor(8) as pool:
        list(pool.map(edit, jobs))
    return len(jobs)


# -- write-back -------------------------------------------------------------------------------


@dataclass
class WritebackRun:
    """Write calls made vs changes the trackers actually show, and the idempotent rerun."""

    operations: int = 0
    write_calls: int = 0
    label_changes: int = 0  # items whose labels differ after the apply
    comment_changes: int = 0  # items whose managed comment differs after the apply
    foreign_label_changes: int = 0  # items where a label linesight does not own changed
    failed: int = 0
    seconds: float = 0.0
    second_operations: int = 0
    second_write_calls: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.label_changes + self.comment_changes

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "write_calls": self.write_calls,
            "label_changes": self.label_changes,
            "comment_changes": self.comment_changes,
            "changes": self.changes,
            "foreign_label_changes": self.foreign_label_changes,
            "failed_operations": self.failed,
            "seconds_at_zero_latency": round(self.seconds, 3),
            "second_apply_operations": self.second_operations,
            "second_apply_write_calls": self.second_write_calls,
        }


def _states(settings: Settings, keys: Mapping[str, Iterable[str]]) -> dict[tuple[str, str], Any]:
    """Labels and managed comment of each item, read from the trackers through the connectors."""
    from linesight.connector import open_connector

    found: dict[tuple[str, str], Any] = {}
    for name, wanted in keys.items():
        connector = open_connector(settings.source(name))
        try:
            for key, state in connector.current_state(wanted).items():
                found[(name, key)] = state
        finally:
            connector.close()
    return found


def writeback(bench: Bench) -> WritebackRun:
    """Plan + apply against the synced store; then sync, plan and apply again (expect 0 writes).

    Runs at zero latency: what is measured here is calls, not time.
    """
    from linesight.okrs import load_okrs
    from linesight.pipeline import analyze_store, apply_operations, plan_from_store
    from linesight.store import Store
    from linesight.sync import sync_incremental

    settings = bench.settings
    okrs = load_okrs(bench.okrs_path)
    owned = settings.writeback.orphan_label.casefold()
    outcome = WritebackRun()
    with bench.sandbox.latency(0), Store.open(settings.state_dir) as store:
        run = analyze_store(settings, okrs, store)
        operations = plan_from_store(run, settings, store)
        keys: dict[str, set[str]] = {}
        for op in operations:
            keys.setdefault(op.source, set()).add(op.key)
        before = _states(settings, keys)
        mark = bench.sandbox.mark()
        started = time.perf_counter()
        report = apply_operations(operations, settings, store, force=True)
        outcome.seconds = time.perf_counter() - started
        outcome.write_calls = sum(map(is_write, bench.sandbox.requests_since(mark)))
        after = _states(settings, keys)
        outcome.operations = len(operations)
        outcome.failed = len(report.failed)
        for ref in set(before) | set(after):
            old, new = before.get(ref), after.get(ref)
            old_labels = set(old.labels) if old is not None else set()
            new_labels = set(new.labels) if new is not None else set()
            if old_labels != new_labels:
                outcome.label_changes += 1
            if {x for x in old_labels if x.casefold() != owned} != {
                x for x in new_labels if x.casefold() != owned
            }:
                outcome.foreign_label_changes += 1
            old_comment = old.managed_comment if old is not None else None
            new_comment = new.managed_comment if new is not None else None
            if old_comment != new_comment:
                outcome.comment_changes += 1

        # the next night: nothing changed in the trackers but linesight's own writes
        sync_incremental(settings, store, objectives=okrs.objectives, cycle=okrs.cycle)
        rerun = analyze_store(settings, okrs, store)
        again = plan_from_store(rerun, settings, store)
        mark = bench.sandbox.mark()
        apply_operations(again, settings, store, force=True)
        outcome.second_operations = len(again)
        outcome.second_write_calls = sum(map(is_write, bench.sandbox.requests_since(mark)))
    return outcome
