"""The seeded organisation behind the sandbox generator: teams, OKRs and work.

Everything here is tracker-neutral and pure: :func:`build_org` turns ``(items, seed, now)`` into an
:class:`Org` of plain records. ``gen_truth.py`` works out what a correct analysis must find in it,
``gen_jira.py`` and ``gen_ado.py`` render the wire formats, ``generator.py`` writes the files.

How the organisation is drawn:

- three sources (``cloud`` ~45 %, ``dc`` ~20 %, ``contoso`` ~35 % of the items), each with its
  projects / area paths and teams;
- epics carry the link to a key result (a ``kr-`` label / ``KR:`` tag, the KR custom field, an
  explicit ``work:`` entry or a query label) and their children inherit it, as in real trackers;
- an epic's *phase* (done / active / todo) drives its children's status mix and dates, so WIP
  age, throughput and lead time come out plausible;
- planted cases (unsupported, stalled and achieved KRs, a cross-tracker KR, shared items,
  orphans of every reason, hostile titles) are drawn first, so they exist at every size.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from linesight.errors import UserError
from linesight.sandbox import gen_text as text

__all__ = [
    "MIN_ITEMS",
    "UNKNOWN_KR",
    "Container",
    "Item",
    "KeyResultPlan",
    "ObjectivePlan",
    "Org",
    "Timestamps",
    "build_org",
    "cycle_of",
]

MIN_ITEMS = 50
MAX_ITEMS = 2_000_000  # about 3 GiB of memory per million items
UNKNOWN_KR = "KR99.9"  # named by planted labels; no objective ever gets 99 KRs

TODO, IN_PROGRESS, DONE = "todo", "in_progress", "done"
EPIC, FEATURE, STORY, TASK = 0, 1, 2, 3  # hierarchy levels (Jira has no FEATURE level)
DAY = 86_400.0
HOUR = 3_600.0

SOURCE_SHARES = (("cloud", 0.45), ("dc", 0.20), ("contoso", 0.35))
# median cycle time (days) and mean WIP age (days) per level: epics are long, tasks short
_CYCLE_DAYS = {EPIC: 40.0, FEATURE: 18.0, STORY: 4.0, TASK: 1.2}
_AGE_DAYS = {EPIC: 30.0, FEATURE: 14.0, STORY: 6.0, TASK: 2.5}


@dataclass(frozen=True, slots=True)
class Container:
    """A Jira project or an Azure DevOps area path, and the teams working in it."""

    source: str  # "cloud" | "dc" | "contoso"
    key: str  # "PAY" or "Fabrikam\\Checkout"
    name: str  # project name or area leaf
    teams: tuple[str, ...]
    index: int  # position in CONTAINERS, a stable small id for rendering caches


CONTAINERS: tuple[Container, ...] = tuple(
    Container(source, key, name, teams, index)
    for index, (source, key, name, teams) in enumerate(
        [
            ("cloud", "PAY", "Payments", ("Checkout Squad", "Payments Core")),
            ("cloud", "SHOP", "Storefront", ("Storefront Squad", "Search & Discovery")),
            ("cloud", "PLAT", "Platform", ("Platform Infra", "Developer Experience")),
            ("cloud", "GROW", "Growth", ("Growth Squad", "Lifecycle Marketing")),
            ("dc", "OPS", "Operations", ("SRE", "Service Desk")),
            ("dc", "FIN", "Finance Systems", ("Billing Ops", "Ledger")),
            ("contoso", "Fabrikam\\Checkout", "Checkout", ("Checkout",)),
            ("contoso", "Fabrikam\\Mobile", "Mobile", ("Mobile",)),
            ("contoso", "Fabrikam\\Loyalty", "Loyalty", ("Loyalty",)),
            ("contoso", "Fabrikam\\Data", "Data", ("Data",)),
        ]
    )
)
_BY_KEY = {c.key: c for c in CONTAINERS}


@dataclass(slots=True, eq=False)
class KeyResultPlan:
    """A key result and how work reaches it (``style``) and what it is planted as (``role``)."""

    id: str
    objective: str
    title: str
    kind: str  # "outcome" | "output"
    baseline: float
    target: float
    current: float
    home: Container
    active: bool
    theme: str  # the theme slug, which a jql/wiql KR selects on as a label / tag
    role: str = "normal"  # normal|cross|unsupported|stalled|achieved|jql|wiql|explicit|inactive
    query_label: str | None = None  # the label / tag a jql/wiql KR selects on
    explicit: list[Item] = field(default_factory=list)  # items named in `work:`


@dataclass(slots=True, eq=False)
class ObjectivePlan:
    """An objective of the active or the previous cycle."""

    id: str
    title: str
    owner: str
    cycle: str
    key_results: list[KeyResultPlan]
    wip_limit: int | None = None


@dataclass(slots=True, eq=False)
class Item:
    """One planned work item; ``key``/``num`` are assigned once every item exists."""

    source: str
    container: Container
    team: str
    level: int
    type: str
    parent: Item | None
    title: str
    category: str = TODO
    created: float = 0.0
    started: float | None = None
    resolved: float | None = None
    updated: float = 0.0
    kr_labels: tuple[str, ...] = ()  # KR ids rendered as `kr-<id>` labels / `KR:<id>` tags
    kr_field: tuple[str, ...] = ()  # KR ids in the KR custom field
    labels: tuple[str, ...] = ()  # plain labels / tags
    children: list[Item] | None = None
    removed: bool = False  # ADO state Removed: out of scope
    resolved_state: bool = False  # ADO state Resolved (still in progress for linesight)
    blocks: Item | None = None  # a "Blocks" issue link / ADO Related link to this item
    variant: int = 0  # a random number the renderers use for status names, people, ...
    key: str = ""
    num: int = 0

    def ref(self) -> str:
        return f"{self.source}:{self.key}"


@dataclass(slots=True)
class Org:
    """The whole planned organisation."""

    now: float
    cycle: str
    previous_cycle: str
    objectives: list[ObjectivePlan]
    items: list[Item]  # parents before children
    by_source: dict[str, list[Item]]  # in id order
    planted: dict[str, list[Item]]


def cycle_of(moment: datetime) -> str:
    """The quarter ``moment`` falls in, as ``2026-Q4``."""
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _previous_cycle(moment: datetime) -> str:
    quarter = (moment.month - 1) // 3
    return f"{moment.year}-Q{quarter}" if quarter else f"{moment.year - 1}-Q4"


def build_org(items: int, seed: int, now: datetime) -> Org:
    """Plan an organisation of exactly ``items`` work items, deterministic in its arguments."""
    if not MIN_ITEMS <= items <= MAX_ITEMS:
        raise UserError(
            f"cannot generate {items:,} items: choose between {MIN_ITEMS} and {MAX_ITEMS:,} "
            "(--items)"
        )
    rng = random.Random(seed)
    planner = _Planner(rng, items, now)
    return planner.run()


class _Planner:
    def __init__(self, rng: random.Random, total: int, now: datetime) -> None:
        self.rng = rng
        self.total = total
        self.now = now.timestamp()
        self.cycle = cycle_of(now)
        self.previous = _previous_cycle(now)
        self.items: list[Item] = []
        self.planted: dict[str, list[Item]] = {}
        budgets = {name: round(total * share) for name, share in SOURCE_SHARES[:-1]}
        budgets["contoso"] = total - sum(budgets.values())
        self.budgets = budgets

    # --- OKRs ----------------------------------------------------------------------------

    def objectives(self) -> list[ObjectivePlan]:
        rng = self.rng
        n_active = min(40, max(4, round(self.total / 3000)))
        n_previous = min(6, max(2, n_active // 4))
        objectives = []
        for index in range(n_active + n_previous):
            theme = text.THEMES[index % len(text.THEMES)]
            qualifier = text.QUALIFIERS[index // len(text.THEMES)]
            oid = f"O{index + 1}"
            active = index < n_active
            n_krs = 3 if index == 0 else rng.randint(2, 4)
            krs = []
            for j, template in enumerate(theme.key_results[:n_krs]):
                baseline, target = template.baseline, template.target
                if qualifier and template.kind == "outcome":
                    # another region: same metric, different numbers
                    factor = rng.uniform(0.85, 1.15)
                    baseline = round(baseline * factor, template.decimals)
                    target = round(target * factor, template.decimals)
                    if baseline == target:
                        target = baseline + (1 if template.target > template.baseline else -1)
                progress = rng.choice((0.0, 0.15, 0.3, 0.45, 0.55, 0.65, 0.8, 0.9))
                current = round(baseline + (target - baseline) * progress, template.decimals)
                home = _BY_KEY[theme.homes[j % len(theme.homes)]]
                krs.append(
                    KeyResultPlan(
                        id=f"KR{index + 1}.{j + 1}",
                        objective=oid,
                        title=template.render(baseline, target) + qualifier,
                        kind=template.kind,
                        baseline=float(baseline),
                        target=float(target),
                        current=float(current),
                        home=home,
                        active=active,
                        theme=theme.slug,
                        role="normal" if active else "inactive",
                    )
                )
            objectives.append(
                ObjectivePlan(
                    id=oid,
                    title=theme.objective + qualifier,
                    owner=theme.owner,
                    cycle=self.cycle if active else self.previous,
                    key_results=krs,
                )
            )
        self._assign_roles([kr for o in objectives for kr in o.key_results if kr.active])
        return objectives

    def _assign_roles(self, active: list[KeyResultPlan]) -> None:
        # KR1.1 (checkout conversion) is served from Jira Cloud *and* Azure DevOps.
        active[0].role = "cross"
        pool = active[1:]
        self.rng.shuffle(pool)
        share = max(1, len(active) // 30)

        def take(role: str, source: str | None = None) -> None:
            for kr in pool:
                if kr.role == "normal" and (source is None or kr.home.source == source):
                    kr.role = role
                    return

        take("jql", "cloud")
        take("wiql", "contoso")
        take("explicit", "cloud")
        take("explicit", "contoso")
        take("achieved")
        for _ in range(share):
            take("unsupported")
            take("stalled")
        for kr in active:
            if kr.role == "stalled":
                kr.current = kr.baseline  # no progress: a stalled KR scores 0
            elif kr.role == "achieved":
                kr.current = kr.target
            elif kr.role in ("jql", "wiql"):
                kr.query_label = kr.theme

    # --- work ----------------------------------------------------------------------------

    def run(self) -> Org:
        objectives = self.objectives()
        active = [kr for o in objectives for kr in o.key_results if kr.active]
        inactive = [kr for o in objectives for kr in o.key_results if not kr.active]
        linkable = [kr for kr in active if kr.role not in ("unsupported", "stalled", "achieved")]
        specs = self._required_epics(active, objectives)
        for source, budget in self.budgets.items():
            self._build_source(source, budget, specs[source], linkable, inactive)
        self._plant_shared(linkable)
        by_source = self._number()
        return Org(
            now=self.now,
            cycle=self.cycle,
            previous_cycle=self.previous,
            objectives=objectives,
            items=self.items,
            by_source=by_source,
            planted=self.planted,
        )

    def _required_epics(
        self,
        active: list[KeyResultPlan],
        objectives: list[ObjectivePlan],
    ) -> dict[str, list[_EpicSpec]]:
        specs: dict[str, list[_EpicSpec]] = {name: [] for name in self.budgets}
        for kr in active:
            if kr.role == "unsupported":
                continue
            phase = {"stalled": TODO, "achieved": DONE}.get(kr.role, "active")
            in_flight = 1 if phase == "active" else 0
            if kr.id == "KR1.1":
                in_flight = 3  # O1 is the objective planted over its WIP limit
            specs[kr.home.source].append(_EpicSpec(kr.home, kr, phase, in_flight, ""))
            if kr.role == "cross":
                ado = _BY_KEY["Fabrikam\\Checkout"]
                specs["contoso"].append(_EpicSpec(ado, kr, "active", 1, "cross"))
        for objective in objectives:
            if objective.cycle != self.cycle:
                kr = objective.key_results[0]
                specs[kr.home.source].append(_EpicSpec(kr.home, kr, "active", 1, "inactive_kr"))
        no_link = self.rng.choice(CONTAINERS)
        specs[no_link.source].append(_EpicSpec(no_link, None, "active", 1, "no_link"))
        return specs

    def _build_source(
        self,
        source: str,
        budget: int,
        required: list[_EpicSpec],
        linkable: list[KeyResultPlan],
        inactive: list[KeyResultPlan],
    ) -> None:
        rng = self.rng
        containers = [c for c in CONTAINERS if c.source == source]
        loose = max(2, round(budget * 0.04))
        n_epics = max(len(required), round(budget / 11))
        n_children = budget - n_epics - loose
        if n_children < sum(s.in_flight for s in required):
            raise UserError(f"cannot plant every case in {budget} {source} items; use more --items")
        specs = list(required)
        by_home: dict[Container, list[KeyResultPlan]] = {}
        for plan in linkable:
            by_home.setdefault(plan.home, []).append(plan)
        inactive_home = {c: [kr for kr in inactive if kr.home is c] for c in containers}
        local = [kr for kr in linkable if kr.home.source == source]
        while len(specs) < n_epics:
            container = rng.choice(containers)
            roll = rng.random()
            kr: KeyResultPlan | None
            if roll < 0.10:
                kr = None
            elif roll < 0.16 and inactive:
                kr = rng.choice(inactive_home[container] or inactive)
            else:
                kr = rng.choice(by_home.get(container) or local or linkable)
            phase = rng.choices(("done", "active", "todo"), (55, 30, 15))[0]
            specs.append(_EpicSpec(container, kr, phase, 0, ""))
        # spread the children over the epics: required in-flight ones first, the rest at random
        counts = [s.in_flight for s in specs]
        for index in rng.choices(range(len(specs)), k=n_children - sum(counts)):
            counts[index] += 1
        for spec, count in zip(specs, counts, strict=True):
            epic = self._epic(spec, count)
            if spec.plant:
                self.planted.setdefault(spec.plant, []).append(epic)
        self._loose(source, containers, loose, linkable)

    def _epic(self, spec: _EpicSpec, n_children: int) -> Item:
        rng = self.rng
        container = spec.container
        team = rng.choice(container.teams)
        epic = Item(
            container.source,
            container,
            team,
            EPIC,
            "Epic",
            None,
            text.epic_title(rng, container.name),
            variant=rng.getrandbits(30),
        )
        self._link(epic, spec.kr)
        self.items.append(epic)
        mix = _PHASE_MIX[spec.phase]
        ado = container.source == "contoso"
        n_tasks = _round(rng, n_children * 0.18)
        n_features = _round(rng, n_children * 0.18) if ado else 0
        if ado and n_children > spec.in_flight:
            n_features = min(max(1, n_features), n_children - spec.in_flight)
        n_stories = n_children - n_tasks - n_features
        if n_stories < max(1, spec.in_flight):
            n_stories, n_tasks = n_children - n_features, 0
        features = [self._child(epic, FEATURE, epic, TODO) for _ in range(n_features)]
        stories = []
        for index in range(n_stories):
            category = IN_PROGRESS if index < spec.in_flight else _pick(rng, mix)
            parent = features[rng.randrange(n_features)] if features else epic
            stories.append(self._child(parent, STORY, epic, category))
        for _ in range(n_tasks):
            story = stories[rng.randrange(n_stories)]
            category = story.category if story.category != IN_PROGRESS else _pick(rng, _TASK_MIX)
            self._child(story, TASK, epic, category)
        if ado:
            for item in stories:
                if item.category == TODO and not item.children and rng.random() < 0.02:
                    item.removed = True  # cut from the backlog: ADO keeps it as "Removed"
            for feature in features:
                feature.category = _derived(feature, rng, mix)
        epic.category = _derived(epic, rng, mix)
        self._time_tree(epic)
        if len(stories) > 1 and rng.random() < 0.3:
            stories[0].blocks = stories[1]
        return epic

    def _child(self, parent: Item, level: int, epic: Item, category: str) -> Item:
        rng = self.rng
        container = epic.container
        source = container.source
        item = Item(
            source,
            container,
            parent.team if rng.random() < 0.9 else rng.choice(container.teams),
            level,
            text.item_type(source, level, rng),
            parent,
            text.item_title(rng, level),
            category,
            variant=rng.getrandbits(30),
        )
        if level == STORY and rng.random() < 0.06 and (epic.kr_labels or epic.kr_field):
            # some teams label the stories too; it changes nothing (they inherit the same KR)
            item.kr_labels = epic.kr_labels or epic.kr_field
        if rng.random() < 0.15:
            item.labels = (rng.choice(text.PLAIN_LABELS),)
        if parent.children is None:
            parent.children = []
        parent.children.append(item)
        self.items.append(item)
        return item

    def _link(self, item: Item, kr: KeyResultPlan | None) -> None:
        """Tie ``item`` to ``kr`` through one of the link rules the KR's style allows."""
        if kr is None:
            return
        rng = self.rng
        plain = (rng.choice(text.PLAIN_LABELS),) if rng.random() < 0.3 else ()
        if kr.role == "explicit" and len(kr.explicit) < 3 and item.container is kr.home:
            kr.explicit.append(item)
            item.labels = plain
        elif kr.query_label and item.container is kr.home:
            item.labels = (kr.query_label, *plain)
        elif rng.random() < 0.35:
            item.kr_field = (kr.id,)
            item.labels = plain
        else:
            item.kr_labels = (kr.id,)
            item.labels = plain

    def _loose(
        self, source: str, containers: list[Container], count: int, linkable: list[KeyResultPlan]
    ) -> None:
        """Stories and tasks with no epic: most link nothing, some carry a KR label."""
        rng = self.rng
        local = [kr for kr in linkable if kr.home.source == source]
        for index in range(count):
            container = containers[0] if index < 2 else rng.choice(containers)
            item = Item(
                source,
                container,
                rng.choice(container.teams),
                STORY,
                text.item_type(source, STORY, rng),
                None,
                text.item_title(rng, STORY),
                _pick(rng, _LOOSE_MIX),
                variant=rng.getrandbits(30),
            )
            if index == 0:
                # planted: names a KR that no objective has
                item.category = IN_PROGRESS
                item.kr_labels = (UNKNOWN_KR,)
                item.title = text.HOSTILE_TITLES[len(self.planted.get("hostile_title", ()))]
                self.planted.setdefault("unknown_kr", []).append(item)
                self.planted.setdefault("hostile_title", []).append(item)
            elif index == 1:
                item.category = TODO  # planted: a no_link orphan without any parent
                self.planted.setdefault("no_link", []).append(item)
            elif rng.random() < 0.25:
                self._link(item, rng.choice(local or linkable))
            self.items.append(item)
            self._time_tree(item)

    def _plant_shared(self, linkable: list[KeyResultPlan]) -> None:
        """Give a few in-flight stories a second KR of another objective (shared WIP)."""
        rng = self.rng
        want = max(2, self.total // 400)
        objective_of = {kr.id: kr.objective for kr in linkable}
        candidates = [
            item
            for item in self.items
            if item.level == STORY
            and item.category == IN_PROGRESS
            and not item.children
            and item.parent is not None
            and _epic_of(item).kr_labels
            and _epic_of(item).kr_labels[0] in objective_of
        ]
        shared = []
        for item in rng.sample(candidates, min(want, len(candidates))):
            objective = objective_of[_epic_of(item).kr_labels[0]]
            others = [
                kr for kr in linkable if kr.objective != objective and kr.home.source == item.source
            ] or [kr for kr in linkable if kr.objective != objective]
            if others:
                item.kr_labels = (*item.kr_labels, rng.choice(others).id)
                shared.append(item)
        self.planted["shared"] = shared

    # --- dates ---------------------------------------------------------------------------

    def _time_tree(self, root: Item) -> None:
        rng = self.rng
        now = self.now
        if root.level == EPIC:
            age = {DONE: (110, 270), IN_PROGRESS: (20, 160), TODO: (2, 60)}[root.category]
            created = now - rng.uniform(*age) * DAY
        else:
            created = now - rng.uniform(1, 270) * DAY
        self._time(root, created, now)

    def _time(self, item: Item, created: float, horizon: float) -> None:
        """Dates for ``item`` created at ``created``, finished (if at all) before ``horizon``."""
        rng = self.rng
        now = self.now
        item.created = created
        span = horizon - created
        category = item.category
        if category == DONE:
            typical = math.log(_CYCLE_DAYS[item.level] * DAY)
            cycle = min(rng.lognormvariate(typical, 0.8), 0.9 * span)
            started = created + (0.01 + rng.random() * 0.49) * (span - cycle)
            item.started = started
            item.resolved = started + cycle
            item.updated = min(now, item.resolved + rng.random() * 2 * DAY)
            end = item.resolved
        elif category == IN_PROGRESS:
            typical = _AGE_DAYS[item.level] * DAY
            if rng.random() < 0.3:
                # stale work nobody moved on: it is what makes real WIP (and Little's law lead
                # time) so much larger than the cycle time of the items that do get done
                age = rng.uniform(2, 12) * typical
            else:
                age = rng.expovariate(1 / typical)
            age = min(age + HOUR, 0.95 * span)
            item.started = now - age
            item.updated = item.started + rng.random() * age
            end = now
        else:
            item.updated = created + rng.random() * 0.5 * (now - created)
            end = now
        if item.children:
            room = end - created
            for child in item.children:
                share = 0.6 if child.category == DONE else 0.95
                self._time(child, created + rng.random() * share * room, end)
            starts = [c.started for c in item.children if c.started is not None]
            if starts and item.started is not None:
                item.started = min(item.started, *starts)

    # --- ids -----------------------------------------------------------------------------

    def _number(self) -> dict[str, list[Item]]:
        """Give ids and keys in creation order, as the trackers do."""
        by_source: dict[str, list[Item]] = {name: [] for name in self.budgets}
        for item in self.items:
            by_source[item.source].append(item)
        for source, items in by_source.items():
            items.sort(key=_created)  # stable: a parent created in the same instant stays first
            if source == "contoso":
                for number, item in enumerate(items, start=1):
                    item.num = number
                    item.key = str(number)
                continue
            counters: dict[str, int] = {}
            for number, item in enumerate(items, start=10001):
                project = item.container.key
                counters[project] = counters.get(project, 0) + 1
                item.num = number
                item.key = f"{project}-{counters[project]}"
        return by_source


@dataclass(slots=True)
class _EpicSpec:
    container: Container
    kr: KeyResultPlan | None
    phase: str  # done | active | todo
    in_flight: int  # children forced in progress
    plant: str  # the planted case it realises, or ""


_PHASE_MIX = {
    "done": ((DONE,), (1,)),
    "todo": ((TODO,), (1,)),
    "active": ((DONE, IN_PROGRESS, TODO), (50, 22, 28)),
}
_TASK_MIX = ((DONE, IN_PROGRESS, TODO), (40, 35, 25))
_LOOSE_MIX = ((DONE, IN_PROGRESS, TODO), (50, 20, 30))


def _pick(rng: random.Random, mix: tuple[tuple[str, ...], tuple[int, ...]]) -> str:
    values, weights = mix
    if len(values) == 1:
        return values[0]
    return rng.choices(values, weights)[0]


def _round(rng: random.Random, value: float) -> int:
    """Round at random so that small epics still get a task now and then."""
    whole = int(value)
    return whole + (rng.random() < value - whole)


def _derived(item: Item, rng: random.Random, mix: tuple[tuple[str, ...], tuple[int, ...]]) -> str:
    """A container's category follows its children; with none it follows the epic's phase."""
    kids = [c.category for c in item.children or () if not c.removed]
    if not kids:
        return _pick(rng, mix)
    if all(k == DONE for k in kids):
        return DONE
    if all(k == TODO for k in kids):
        return TODO
    return IN_PROGRESS


def _epic_of(item: Item) -> Item:
    while item.parent is not None:
        item = item.parent
    return item


def _created(item: Item) -> float:
    return item.created


class Timestamps:
    """Format epoch seconds as tracker timestamps, fast (one date computation per day).

    Jira: ``2026-10-01T09:00:00.000+0000``. Azure DevOps: ``2026-10-01T09:00:00.12Z`` — .NET
    drops trailing zeros of the fraction, and the whole fraction on a full second.
    """

    __slots__ = ("_days", "_jira")

    def __init__(self, *, jira_format: bool) -> None:
        self._jira = jira_format
        self._days: dict[int, str] = {}

    def format(self, moment: float) -> str:
        millis = int(moment * 1000)
        day, rest = divmod(millis, 86_400_000)
        date = self._days.get(day)
        if date is None:
            date = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
            self._days[day] = date
        seconds, ms = divmod(rest, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        if self._jira:
            return f"{date}T{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}+0000"
        fraction = f".{ms:03d}".rstrip("0") if ms else ""
        return f"{date}T{hour:02d}:{minute:02d}:{second:02d}{fraction}Z"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
