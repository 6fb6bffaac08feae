"""The six link rules: how work reaches a key result. One function per rule, all pure.

Each rule reads the synced items (addressed by their position in one list) and yields the links it
finds as ``(item index, KR id)`` pairs; the builder records which rules made each link, so every
edge of the graph can say why it exists. Rules never see settings objects directly: the builder
hands them a :class:`SourceProfile` per source, with names already case-folded.

1. :func:`explicit_links` — ``work:`` entries on the KR (``jira:PAY-12``, ``ado:4711``).
2. :func:`label_links` — a label/tag made of the source's prefix and a KR id (``kr-KR1.1``).
3. :func:`field_links` — the KR custom field (``WorkItem.kr_refs``), several ids allowed.
4. :func:`tracker_links` — an issue link / relation (or the parent) pointing at a KR item.
5. :func:`query_links` — the items the sync step found for the KR's ``jql:``/``wiql:`` entries.
6. :func:`inherit` — a child inherits its ancestors' KRs along ``WorkItem.parent``.

Matching rules, chosen to match what Jira and Azure DevOps users type:

- label/tag **prefixes** match case-insensitively (Azure DevOps tags are case-insensitive; Jira
  users write ``KR-`` and ``kr-`` alike) and whitespace after the prefix is ignored (``KR: KR1.1``);
- a **KR id** named by a label or the field matches exactly first, then case-insensitively when
  that is unambiguous, then as ``<source>:<id>`` so ``kr-PAY-7`` names the tracker KR
  ``jira:PAY-7`` of the item's own source;
- item **types** and **link kinds** in the settings match case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from linesight.model import ItemRef, KeyResult, WorkItem
from linesight.settings import JiraSource, Settings

__all__ = [
    "KIND_ALIASES",
    "RULE_NAMES",
    "KrResolver",
    "Lookup",
    "NamedHit",
    "QueryMatches",
    "SourceProfile",
    "explicit_links",
    "field_links",
    "inherit",
    "label_links",
    "parse_kr_refs",
    "profiles_from_settings",
    "query_links",
    "tracker_links",
]

RULE_NAMES = ("explicit", "label", "field", "tracker_link", "query", "hierarchy")
"""Rule names, in SPEC order; the same names as the switches in ``settings.links``."""

KIND_ALIASES: Mapping[str, str] = {
    "jira": "jira",
    "ado": "azure-devops",
    "azure-devops": "azure-devops",
    "azuredevops": "azure-devops",
    "azure": "azure-devops",
}
"""Source kinds a ``work:`` entry may name instead of a source name."""

Lookup = Mapping[str, Mapping[str, int]]
"""``source name -> item key -> index`` of the synced items."""

_DEFAULT_PREFIXES = ("kr-", "kr:")  # both defaults, for items of a source not in the settings
_REF_SPLIT = re.compile(r"[\s,;]+")
_QUERY_PREFIXES = ("jql:", "wiql:")


@dataclass(frozen=True, slots=True)
class SourceProfile:
    """What the rules need to know about one source, names case-folded once."""

    name: str
    kind: str | None  # "jira" | "azure-devops"; None for a source the settings do not name
    label_prefixes: tuple[str, ...]
    objective_types: frozenset[str] = frozenset()
    key_result_types: frozenset[str] = frozenset()
    kr_link_types: frozenset[str] = frozenset()  # empty: any link kind

    @classmethod
    def default(cls, name: str) -> SourceProfile:
        """A source that is not configured: both default prefixes, no tracker OKRs."""
        return cls(name=name, kind=None, label_prefixes=_DEFAULT_PREFIXES)


def _fold(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v.strip())


def profiles_from_settings(settings: Settings) -> dict[str, SourceProfile]:
    """One :class:`SourceProfile` per configured source, by source name."""
    profiles: dict[str, SourceProfile] = {}
    for source in settings.sources:
        prefix = source.kr_label_prefix if isinstance(source, JiraSource) else source.kr_tag_prefix
        profiles[source.name] = SourceProfile(
            name=source.name,
            kind=source.kind,
            label_prefixes=(prefix.casefold(),) if prefix else (),
            objective_types=_fold(source.objective_types),
            key_result_types=_fold(source.key_result_types),
            kr_link_types=_fold(source.kr_link_types),
        )
    return profiles


class KrResolver:
    """Turns a KR id as a person typed it into the id of a known KR, or ``None``."""

    def __init__(self, kr_ids: Iterable[str]) -> None:
        self._exact: set[str] = set()
        self._folded: dict[str, str | None] = {}
        for kr_id in kr_ids:
            self._exact.add(kr_id)
            folded = kr_id.casefold()
            # two KRs differing only in case: a case-insensitive match would be a guess
            self._folded[folded] = None if folded in self._folded else kr_id

    def resolve(self, name: str, source: str) -> str | None:
        """Exact id, then a unique case-insensitive match, then ``<source>:<name>``."""
        for candidate in (name, f"{source}:{name}"):
            if candidate in self._exact:
                return candidate
            folded = self._folded.get(candidate.casefold())
            if folded is not None:
                return folded
        return None


NamedHit = tuple[int, str | None, str]
"""``(item index, resolved KR id or None, the id as written)`` from rules 2 and 3."""


def label_links(
    items: Sequence[WorkItem],
    work: Iterable[int],
    profiles: Mapping[str, SourceProfile],
    resolver: KrResolver,
) -> Iterator[NamedHit]:
    """Rule 2: labels/tags that start with the source's KR prefix name a KR.

    ``kr-KR1.1`` (Jira, prefix ``kr-``) and ``KR:KR1.1`` / ``kr: KR1.1`` (Azure DevOps, prefix
    ``KR:``) both name ``KR1.1``. A prefixed label whose id matches no KR is yielded with ``None``
    so the orphan report can say ``unknown_kr``.
    """
    for index in work:
        item = items[index]
        if not item.labels:
            continue
        profile = profiles.get(item.source) or SourceProfile.default(item.source)
        for label in item.labels:
            folded = label.casefold()
            for prefix in profile.label_prefixes:
                if folded.startswith(prefix):
                    name = label[len(prefix) :].strip()
                    if name:
                        yield index, resolver.resolve(name, item.source), name
                    break


def parse_kr_refs(values: Iterable[str]) -> list[str]:
    """Split KR field values on commas, semicolons and whitespace: ``"KR1.1, KR2.3"``."""
    names: list[str] = []
    for value in values:
        names.extend(part for part in _REF_SPLIT.split(value) if part)
    return names


def field_links(
    items: Sequence[WorkItem], work: Iterable[int], resolver: KrResolver
) -> Iterator[NamedHit]:
    """Rule 3: the KR custom field (``WorkItem.kr_refs``) names one or more KRs."""
    for index in work:
        item = items[index]
        if item.kr_refs:
            for name in parse_kr_refs(item.kr_refs):
                yield index, resolver.resolve(name, item.source), name


def _entry_sources(name: str, lookup: Lookup, profiles: Mapping[str, SourceProfile]) -> list[str]:
    """A source NAME first; otherwise every source of that KIND (``jira``, ``ado``)."""
    if name in lookup or name in profiles:
        return [name]
    kind = KIND_ALIASES.get(name.casefold())
    if kind is None:
        return []
    return sorted(
        {p.name for p in profiles.values() if p.kind == kind}
        # an unconfigured source named like the kind ("jira") still answers to the kind
        | {s for s in lookup if s not in profiles and KIND_ALIASES.get(s.casefold()) == kind}
    )


def explicit_links(
    key_results: Iterable[KeyResult],
    lookup: Lookup,
    profiles: Mapping[str, SourceProfile],
) -> tuple[list[tuple[str, ItemRef]], list[str]]:
    """Rule 1: ``work:`` entries ``<source-name-or-kind>:<key>`` on each KR.

    Returns ``(kr id, item ref)`` pairs and warnings for entries naming no source. A ref may
    point at an item that was not synced (an epic outside the sync scope); the builder still
    lets the synced children of such an item inherit the link. Jira keys also match upper-cased
    (``jira:pay-12`` finds ``PAY-12``).
    """
    links: list[tuple[str, ItemRef]] = []
    warnings: list[str] = []
    for kr in key_results:
        for entry in kr.work:
            text = entry.strip()
            if text.casefold().startswith(_QUERY_PREFIXES):
                continue  # rule 5: resolved by the sync step into query_matches
            name, sep, key = text.partition(":")
            key = key.strip()
            if not sep or not key:
                warnings.append(
                    f"key result {kr.id}: work entry '{entry}' is not '<source>:<key>' "
                    "(e.g. jira:PAY-12, ado:4711, jql: ..., wiql: ...)"
                )
                continue
            sources = _entry_sources(name.strip(), lookup, profiles)
            if not sources:
                known = ", ".join(sorted(set(lookup) | set(profiles))) or "none"
                warnings.append(
                    f"key result {kr.id}: work entry '{entry}' names no source "
                    f"(sources: {known}; kinds: jira, ado)"
                )
                continue
            for source in sources:
                keys = lookup.get(source, {})
                if key not in keys and key.upper() in keys:
                    key = key.upper()
                links.append((kr.id, ItemRef(source=source, key=key)))
    return links, warnings


def tracker_links(
    items: Sequence[WorkItem],
    work: Collection[int],
    lookup: Lookup,
    kr_items: Mapping[int, str],
    profiles: Mapping[str, SourceProfile],
) -> Iterator[tuple[int, str]]:
    """Rule 4: a link between a work item and a KR living in the tracker.

    A work item links to a KR item through an issue link / relation (in either direction, as
    either side may hold it), or by having the KR item as its parent (an epic under a KR
    issue). ``kr_link_types`` of the source, when not empty, limits which link kinds count;
    the parent always counts.
    """
    for index in work:
        item = items[index]
        keys = lookup.get(item.source, {})
        if item.parent is not None:
            parent = keys.get(item.parent)
            if parent is not None and parent in kr_items:
                yield index, kr_items[parent]
        if item.links:
            allowed = (
                profiles.get(item.source) or SourceProfile.default(item.source)
            ).kr_link_types
            for link in item.links:
                target = keys.get(link.target)
                if (
                    target is not None
                    and target in kr_items
                    and (not allowed or link.kind.casefold() in allowed)
                ):
                    yield index, kr_items[target]
    for kr_index, kr_id in kr_items.items():
        kr_item = items[kr_index]
        keys = lookup.get(kr_item.source, {})
        allowed = (
            profiles.get(kr_item.source) or SourceProfile.default(kr_item.source)
        ).kr_link_types
        for link in kr_item.links:
            target = keys.get(link.target)
            if (
                target is not None
                and target in work
                and (not allowed or link.kind.casefold() in allowed)
            ):
                yield target, kr_id


QueryMatches = Mapping[str, Collection[ItemRef] | Mapping[str, Collection[ItemRef]]]
"""Rule 5 input: ``{kr_id: refs}``, or ``{kr_id: {query: refs}}`` as the store keeps them."""


def query_links(
    query_matches: QueryMatches, known_krs: Collection[str]
) -> tuple[list[tuple[str, ItemRef]], list[str]]:
    """Rule 5: the items the sync step found for each KR's ``jql:`` / ``wiql:`` entries."""
    links: list[tuple[str, ItemRef]] = []
    warnings: list[str] = []
    for kr_id in sorted(query_matches):
        if kr_id not in known_krs:
            warnings.append(f"query results given for unknown key result '{kr_id}'; ignored")
            continue
        found = query_matches[kr_id]
        if isinstance(found, Mapping):  # per query: the union of what every query found
            links.extend((kr_id, ref) for refs in found.values() for ref in refs)
        else:
            links.extend((kr_id, ref) for ref in found)
    return links, warnings


def inherit(
    direct: Mapping[int, frozenset[str]],
    parents: Sequence[int],
    roots: Mapping[int, frozenset[str]] | None = None,
) -> list[frozenset[str]]:
    """Rule 6: each item's KRs are its own plus every ancestor's (``parents`` is cycle-free).

    ``roots`` gives extra KRs for items whose parent was not synced (an explicitly linked epic
    outside the sync scope). Items that add nothing share their parent's set object, so a
    million items under a thousand epics cost a million references, not a million sets.
    """
    empty: frozenset[str] = frozenset()
    extra = roots or {}
    effective: list[frozenset[str] | None] = [None] * len(parents)
    for start in range(len(parents)):
        if effective[start] is not None:
            continue
        stack: list[int] = []
        node = start
        while node >= 0 and effective[node] is None:
            stack.append(node)
            node = parents[node]
        base = effective[node] if node >= 0 else extra.get(stack[-1], empty)
        assert base is not None
        while stack:
            node = stack.pop()
            own = direct.get(node)
            if own and not own <= base:
                base = base | own
            effective[node] = base
    return effective  # type: ignore[return-value]  # every slot is filled above
