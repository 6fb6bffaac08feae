"""WIQL: quoting, the scope query, and reading past the 20,000-result limit.

Every untrusted value reaches a query only through :func:`quote`. The scope of a source is
always bounded by its project::

    SELECT [System.Id] FROM WorkItems
    WHERE [System.TeamProject] = @project
      AND ([System.AreaPath] UNDER 'Fabrikam\\Checkout' OR ...)
      AND [System.WorkItemType] IN ('Epic', 'Feature')
      AND [System.State] <> 'Removed'
      AND (<the source's extra wiql>)
      AND [System.Id] > 4711
    ORDER BY [System.Id]

A WIQL query returns ids only and is refused with ``VS402337`` when it would return more than
20,000 of them. :func:`collect_ids` reads any number: keyset pages of ``$top=20000`` ordered by
id, and — should a server refuse even those — adaptive windows of ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "MAX_RESULTS",
    "Scope",
    "TooManyResultsError",
    "check_condition",
    "collect_ids",
    "date_literal",
    "id_pages",
    "is_full_query",
    "quote",
]

MAX_RESULTS = 20_000
"""The most ids one WIQL query may return (Azure DevOps refuses more with VS402337)."""


class TooManyResultsError(Exception):
    """The server refused a query for returning more than :data:`MAX_RESULTS` ids."""


def quote(value: str) -> str:
    """A WIQL string literal: single-quoted, embedded quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def date_literal(moment: datetime) -> str:
    """A quoted UTC timestamp for ``[System.ChangedDate] >= ...`` (needs ``timePrecision``).

    Rounded *down* to the second, so the condition never misses an item.
    """
    if moment.tzinfo is None:
        raise ValueError("a watermark must be timezone-aware")
    return quote(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"


def is_full_query(text: str) -> bool:
    """``True`` for a complete ``SELECT ...`` statement, ``False`` for a WHERE condition."""
    return text.lstrip().lower().startswith("select")


def check_condition(condition: str) -> str:
    """A WHERE condition that cannot break out of the parentheses it is put in.

    Returns the stripped condition; raises ``ValueError`` saying what is wrong. Parentheses must
    balance outside string literals and the condition may not carry its own ``ORDER BY`` /
    ``ASOF``: it is ANDed with the scope, never able to widen it.
    """
    text = condition.strip()
    if not text:
        raise ValueError("the condition is empty")
    depth = 0
    in_string = False
    outside: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "'":
                if index + 1 < len(text) and text[index + 1] == "'":
                    index += 1  # a doubled quote inside a literal
                else:
                    in_string = False
        elif char == "'":
            in_string = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("it closes a parenthesis it never opened")
        if not in_string:
            outside.append(char)
        index += 1
    if in_string:
        raise ValueError("a string literal is not closed (quote ' as '')")
    if depth != 0:
        raise ValueError("its parentheses do not balance")
    bare = " ".join("".join(outside).lower().split())
    for keyword in ("order by", "asof ", "mode ("):
        if keyword in bare:
            raise ValueError(f"a condition may not contain {keyword.strip().upper()}")
    return text


@dataclass(frozen=True, slots=True)
class Scope:
    """What a source covers. Builds the WIQL for it and for narrower questions about it."""

    area_paths: tuple[str, ...] = ()
    work_item_types: tuple[str, ...] = ()
    excluded_states: tuple[str, ...] = ("Removed",)
    extra: str | None = None  # the source's own condition (checked with check_condition)

    def conditions(self) -> list[str]:
        """The scope's WHERE conditions, each safe to AND with others."""
        parts = ["[System.TeamProject] = @project"]
        if self.area_paths:
            parts.append(
                "("
                + " OR ".join(f"[System.AreaPath] UNDER {quote(p)}" for p in self.area_paths)
                + ")"
            )
        if self.work_item_types:
            parts.append(f"[System.WorkItemType] IN {_in_list(self.work_item_types)}")
        parts.extend(f"[System.State] <> {quote(state)}" for state in self.excluded_states)
        if self.extra:
            parts.append(f"({check_condition(self.extra)})")
        return parts

    def query(
        self,
        *,
        changed_since: datetime | None = None,
        condition: str | None = None,
        after_id: int | None = None,
        up_to_id: int | None = None,
        descending: bool = False,
    ) -> str:
        """``SELECT [System.Id] ...`` for the scope, narrowed by the given bounds."""
        parts = self.conditions()
        if condition is not None:
            parts.append(f"({check_condition(condition)})")
        if changed_since is not None:
            parts.append(f"[System.ChangedDate] >= {date_literal(changed_since)}")
        if after_id is not None:
            parts.append(f"[System.Id] > {int(after_id)}")
        if up_to_id is not None:
            parts.append(f"[System.Id] <= {int(up_to_id)}")
        order = " DESC" if descending else ""
        # Every value in `parts` went through quote() or int(): safe to join.
        where = " AND ".join(parts)
        return "SELECT [System.Id] FROM WorkItems WHERE " + where + f" ORDER BY [System.Id]{order}"  # noqa: S608


Runner = Callable[[str, "int | None"], list[int]]
"""``run(wiql, top)`` -> ids; raises :class:`TooManyResultsError` on VS402337."""

QueryFor = Callable[..., str]
"""``query_for(after_id=..., up_to_id=..., descending=...)`` -> WIQL (e.g. ``Scope.query``)."""


def collect_ids(run: Runner, query_for: QueryFor) -> list[int]:
    """Every id the query matches, in ascending order, however many there are.

    Pages by id with ``$top`` (``N / 20,000 + 1`` queries); if the server refuses a page as too
    large anyway, the rest is read in id windows that grow while they fit and shrink when not.
    """
    return sorted(i for page, _ in id_pages(run, query_for) for i in page)


def id_pages(run: Runner, query_for: QueryFor) -> Iterator[tuple[list[int], bool]]:
    """The pages :func:`collect_ids` reads, as they arrive: ``(ids, last)``.

    Each id comes once. ``last`` is known without reading further, so a caller can start on
    a page's items while the next page is read.
    """
    seen: set[int] = set()
    after = 0
    while True:
        try:
            page = run(query_for(after_id=after), MAX_RESULTS)
            last = len(page) < MAX_RESULTS
        except TooManyResultsError:
            page, last = _windows(run, query_for, after), True
        fresh: list[int] = []
        for item_id in page:
            if item_id not in seen:
                seen.add(item_id)
                fresh.append(item_id)
        yield fresh, last
        if last:
            return
        after = max(page)


def _windows(run: Runner, query_for: QueryFor, after: int) -> list[int]:
    # A window of MAX_RESULTS consecutive ids always fits; wider ones are tried while they do,
    # and "everything after here" is retried after each window to notice the end.
    found: list[int] = []
    low = after
    width = MAX_RESULTS
    while True:
        try:
            found.extend(run(query_for(after_id=low), None))
            return found
        except TooManyResultsError:
            pass
        while True:
            try:
                page = run(query_for(after_id=low, up_to_id=low + width), None)
            except TooManyResultsError:
                if width <= MAX_RESULTS:
                    raise  # cannot be the size: the server refuses for another reason
                width = max(MAX_RESULTS, width // 2)
                continue
            found.extend(page)
            low += width
            if len(page) < MAX_RESULTS // 2:
                width *= 2
            break
