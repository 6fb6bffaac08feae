"""Sync every configured source into the state store: full or incremental, two entry points.

::

    with RunLock(settings.state_dir), Store.open(settings.state_dir) as store:
        report = sync_incremental(settings, store, objectives=okrs.objectives, cycle=okrs.cycle)
    if not report.ok:
        ...  # exit 1: report.failed says which source and why

A source's sync is one value and one commit. Incremental: every item changed since the stored
watermark (minus an overlap, for clock skew and minute-precise JQL) plus ``list_keys()`` to see
what left the scope; full: every in-scope item, and whatever is stored but was not returned is
removed. Then the KRs' ``jql:`` / ``wiql:`` entries are matched (link rule 5). Items, removals,
matches and the new watermark — the sync's *start*, not the largest ``updated`` seen — commit in
one transaction, so a failure at any point leaves the source's previous state intact.

Sources are independent: they sync in parallel, one thread each, and one that fails (tracker
down, bad token, missing connector) is reported while the others carry on. Within a source, the
reads that do not depend on each other overlap: ``list_keys()`` and every distinct KR query run
on a few side threads while the source's own thread stores what ``fetch()`` returns, so an
incremental sync waits for its longest chain of requests, not for their sum. The store is only
touched from the source's own thread. An item that enters or leaves the scope while these reads
are under way is settled by the next sync: the watermark is the sync's start.

An incremental sync does a full one instead for a source that was never synced, whose scope
settings changed since its last full sync (new projects: their old items would never show up as
"changed"), or whose items were stored by an older item model.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from linesight.connector import ConnectorFactory, Progress, Watermark, open_connector
from linesight.errors import LinesightError, QueryError, redact_url
from linesight.model import KeyResult, Objective
from linesight.settings import Settings, SourceSettings
from linesight.store import Store, SyncMode, item_format

__all__ = [
    "DEFAULT_OVERLAP",
    "SourceReport",
    "SyncMode",
    "SyncProgress",
    "SyncReport",
    "active_key_results",
    "settings_hash",
    "sync_full",
    "sync_incremental",
]

log = logging.getLogger("linesight.sync")

DEFAULT_OVERLAP = timedelta(minutes=5)

SyncProgress = Callable[[str, int, int | None], None]
"""``progress(source, done, total)``; called from the sync threads as items arrive."""

Clock = Callable[[], datetime]

# a sync that would delete more than this share of a source's items says so in its report
_MASS_REMOVAL_SHARE = 0.5
_MASS_REMOVAL_MIN = 10

# what a query entry on a KR looks like, per connector kind (link rule 5)
_QUERY_PREFIX = {"jira": "jql:", "azure-devops": "wiql:"}

# settings that do not change which items are in scope or how they are mapped
_NOT_SCOPE = {"token", "token_env", "concurrency", "timeout_s", "verify_tls"}


@dataclass(frozen=True, slots=True)
class SourceReport:
    """How the sync of one source went."""

    source: str
    mode: SyncMode
    fetched: int = 0  # items the tracker returned (duplicates included)
    changed: int = 0  # new items plus items whose stored payload changed
    removed: int = 0  # items deleted from the store (left the scope or the tracker)
    duration_s: float = 0.0
    requests: int | None = None  # HTTP requests, if the connector has an int `request_count`
    error: str | None = None  # set when the source failed; its previous data stay stored
    warnings: tuple[str, ...] = ()
    reason: str = ""  # why an incremental sync ran in full

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class SyncReport:
    """The outcome of one sync of every selected source, in settings order."""

    sources: tuple[SourceReport, ...]

    @property
    def ok(self) -> bool:
        """True when every source synced; the CLI exits 1 otherwise."""
        return all(report.ok for report in self.sources)

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(report for report in self.sources if not report.ok)


def sync_incremental(
    settings: Settings,
    store: Store,
    *,
    objectives: Iterable[Objective],
    cycle: str | None = None,
    sources: Collection[str] | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    progress: SyncProgress | None = None,
    registry: Mapping[str, ConnectorFactory] | None = None,
    clock: Clock | None = None,
) -> SyncReport:
    """Bring every source up to date by fetching only what changed since its watermark.

    ``objectives`` (with the active ``cycle``; closed objectives and other cycles are skipped)
    supply the KRs whose ``jql:`` / ``wiql:`` entries are matched; their stored matches are
    replaced, so pass every objective (``()`` clears them). ``sources`` limits the sync
    to the named sources. ``registry`` replaces the installed connectors (tests); ``clock``
    the wall clock.
    """
    return _Sync(settings, store, objectives, cycle, overlap, progress, registry, clock).run(
        SyncMode.INCREMENTAL, sources
    )


def sync_full(
    settings: Settings,
    store: Store,
    *,
    objectives: Iterable[Objective],
    cycle: str | None = None,
    sources: Collection[str] | None = None,
    progress: SyncProgress | None = None,
    registry: Mapping[str, ConnectorFactory] | None = None,
    clock: Clock | None = None,
) -> SyncReport:
    """Re-read every in-scope item of every source; whatever was not returned is removed.

    Same arguments as :func:`sync_incremental`.
    """
    return _Sync(
        settings, store, objectives, cycle, DEFAULT_OVERLAP, progress, registry, clock
    ).run(SyncMode.FULL, sources)


def settings_hash(source: SourceSettings) -> str:
    """A fingerprint of what decides a source's scope and mapping (credentials left out)."""
    data = source.model_dump_json(exclude=_NOT_SCOPE)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def active_key_results(objectives: Iterable[Objective], cycle: str | None) -> list[KeyResult]:
    """The KRs of open objectives of ``cycle`` (of every cycle when ``cycle`` is ``None``)."""
    return [
        kr
        for objective in objectives
        if not objective.closed and (cycle is None or objective.cycle == cycle)
        for kr in objective.key_results
    ]


@dataclass(slots=True)
class _Refusal:
    """A KR query one source refused (link rule 5)."""

    kind: str
    query: str
    message: str
    krs: list[str] = field(default_factory=list)


class _Sync:
    """One sync run over the selected sources; holds what every source's sync shares."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        objectives: Iterable[Objective],
        cycle: str | None,
        overlap: timedelta,
        progress: SyncProgress | None,
        registry: Mapping[str, ConnectorFactory] | None,
        clock: Clock | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.key_results = active_key_results(objectives, cycle)
        self.overlap = overlap
        self.progress = progress
        self.registry = registry
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        # link rule 5 bookkeeping across the source threads
        self._lock = threading.Lock()
        self._accepted: set[tuple[str, str]] = set()  # (connector kind, query) answered
        self._refused: dict[str, list[_Refusal]] = {}  # source -> queries it refused

    def run(self, mode: SyncMode, names: Collection[str] | None) -> SyncReport:
        if names is None:
            selected = list(self.settings.sources)
        else:
            selected = [self.settings.source(name) for name in names]  # ConfigError if unknown
        if not selected:
            return SyncReport(sources=())
        with ThreadPoolExecutor(max_workers=len(selected), thread_name_prefix="sync") as pool:
            reports = list(pool.map(lambda source: self._guarded(source, mode), selected))
        reports = [self._with_refusals(report) for report in reports]
        for report in reports:
            for warning in report.warnings:
                log.warning("%s: %s", report.source, warning)
        return SyncReport(sources=tuple(reports))

    def _guarded(self, source: SourceSettings, mode: SyncMode) -> SourceReport:
        """Sync one source; any failure becomes its report's error, never the others' problem."""
        began = time.monotonic()
        try:
            return self._sync(source, mode, began)
        except Exception as exc:  # a failing source must not stop the others
            if isinstance(exc, LinesightError):
                message = str(exc)
            else:
                log.debug("sync of %s failed", source.name, exc_info=True)
                message = redact_url(f"{type(exc).__name__}: {exc}")
            log.error("%s: sync failed: %s", source.name, message)
            try:
                self.store.record_failure(source.name, message, self.clock())
            except LinesightError as store_exc:
                message = f"{message} (and recording the failure failed: {store_exc})"
            return SourceReport(
                source=source.name,
                mode=mode,
                duration_s=time.monotonic() - began,
                error=message,
            )

    def _sync(self, source: SourceSettings, mode: SyncMode, began: float) -> SourceReport:
        name = source.name
        started = self.clock()
        state = self.store.source_state(name)
        since: Watermark | None = None
        reason = ""
        if mode is SyncMode.INCREMENTAL:
            if state is None or state.watermark is None:
                reason = "first sync of this source"
            elif state.item_format != item_format():
                reason = "items were stored by another version of linesight"
            elif state.settings_hash != settings_hash(source):
                reason = "the source's settings changed since its last full sync"
            else:
                since = Watermark(since=state.watermark - self.overlap)
        used = SyncMode.INCREMENTAL if since is not None else SyncMode.FULL
        if reason:
            log.info("%s: full sync instead of incremental: %s", name, reason)

        warnings: list[str] = []
        queries = self._queries_for(source)
        connector = open_connector(source, self.registry)
        # list_keys() and the KR queries do not depend on the fetch: they run beside it
        side = ThreadPoolExecutor(
            max_workers=max(1, min(source.concurrency, len(queries) + 1)),
            thread_name_prefix=f"sync-{name}",
        )
        try:
            listing = side.submit(connector.list_keys) if since is not None else None
            answers = {query: side.submit(connector.match, query) for query in queries}
            with self.store.begin_sync(name) as batch:
                batch.add(connector.fetch(since, progress=self._progress_for(name)))
                stored = self.store.item_keys(name)
                if listing is None:
                    removed = stored - batch.keys
                else:
                    in_scope = listing.result()
                    removed = (stored | batch.keys) - in_scope
                    missing = in_scope - stored - batch.keys
                    if missing:
                        warnings.append(
                            f"{len(missing)} in-scope item(s) are not in the store yet; they "
                            "arrive when they next change, or run a full sync"
                        )
                if len(removed) > max(_MASS_REMOVAL_MIN, _MASS_REMOVAL_SHARE * len(stored)):
                    # a lost permission looks like an empty project; say so instead of silently
                    # dropping the items (the next good sync brings them back)
                    warnings.append(
                        f"{len(removed)} of {len(stored)} stored items left the scope; "
                        "check the source's settings if that is unexpected"
                    )
                matches = self._matches(source, answers)
                result = batch.commit(
                    removed=removed,
                    watermark=started,
                    mode=used,
                    query_matches=matches,
                    settings_hash=settings_hash(source),
                )
            requests = getattr(connector, "request_count", None)
        finally:
            # after a failure: drop the reads not yet started, wait for the running ones, and
            # only then close the connector they use
            side.shutdown(wait=True, cancel_futures=True)
            connector.close()

        report = SourceReport(
            source=name,
            mode=used,
            fetched=batch.received,
            changed=result.changed,
            removed=result.removed,
            duration_s=time.monotonic() - began,
            requests=requests if isinstance(requests, int) else None,
            warnings=tuple(warnings),
            reason=reason,
        )
        log.info(
            "%s: %s sync: %d fetched, %d changed, %d removed in %.1f s",
            name,
            used.value,
            report.fetched,
            report.changed,
            report.removed,
            report.duration_s,
        )
        return report

    def _progress_for(self, name: str) -> Progress | None:
        progress = self.progress
        if progress is None:
            return None

        def report(done: int, total: int | None) -> None:
            progress(name, done, total)

        return report

    def _queries_for(self, source: SourceSettings) -> list[str]:
        """The distinct KR queries meant for this kind of source (link rule 5), in KR order."""
        prefix = _QUERY_PREFIX.get(source.kind)
        if prefix is None or not self.settings.links.query:
            return []
        found: dict[str, None] = {}
        for kr in self.key_results:
            for entry in kr.work:
                if entry.startswith(prefix):
                    found.setdefault(entry[len(prefix) :].strip(), None)
        return list(found)

    def _matches(
        self, source: SourceSettings, answers: Mapping[str, Future[set[str]]]
    ) -> dict[tuple[str, str], set[str]]:
        """Each KR's matches, from the answers to :meth:`_queries_for` (link rule 5).

        A query the tracker refuses is the OKR file's problem, not the tracker's: the source
        still syncs and its previous matches for that query are kept. Whether the refusal is
        worth a warning is decided once every source is done (see :meth:`_with_refusals`).
        Any other failure of a query fails the source.
        """
        prefix = _QUERY_PREFIX.get(source.kind)
        if prefix is None or not answers:
            return {}
        results: dict[str, set[str] | None] = {}
        refusals: dict[str, _Refusal] = {}
        for query, answer in answers.items():
            try:
                results[query] = answer.result()
            except QueryError as exc:
                results[query] = None
                refusals[query] = _Refusal(source.kind, query, str(exc))
        previous: dict[tuple[str, str], set[str]] | None = None
        matches: dict[tuple[str, str], set[str]] = {}
        for kr in self.key_results:
            for entry in kr.work:
                if not entry.startswith(prefix):
                    continue
                query = entry[len(prefix) :].strip()
                keys = results[query]
                if keys is None:
                    refusals[query].krs.append(kr.id)
                    if previous is None:
                        previous = self.store.source_query_matches(source.name)
                    keys = previous.get((kr.id, query), set())
                matches[(kr.id, query)] = keys
        with self._lock:
            self._accepted.update(
                (source.kind, q) for q, keys in results.items() if keys is not None
            )
            self._refused[source.name] = list(refusals.values())
        return matches

    def _with_refusals(self, report: SourceReport) -> SourceReport:
        """Add a warning for each query this source refused that no source of its kind took.

        With two Jira sites, a KR's ``project = SHOP`` is refused by the site without SHOP;
        that is expected and not worth a nightly warning, as long as some site answered it.
        """
        extra = tuple(
            f"KR {', '.join(refusal.krs)}: {refusal.message}"
            for refusal in self._refused.get(report.source, ())
            if (refusal.kind, refusal.query) not in self._accepted
        )
        return replace(report, warnings=report.warnings + extra) if extra else report
