"""Words for the sandbox generator: objective themes, key results, titles, labels and people.

Kept apart from the planner so the vocabulary can grow without touching the logic. Everything is
chosen with the planner's seeded ``random.Random``; nothing here keeps state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "HOSTILE_TITLES",
    "PEOPLE",
    "PLAIN_LABELS",
    "QUALIFIERS",
    "THEMES",
    "epic_title",
    "item_title",
    "item_type",
]


@dataclass(frozen=True, slots=True)
class KrTemplate:
    """A key result; ``{b}`` and ``{t}`` in ``title`` take the baseline and target."""

    title: str
    baseline: float = 0
    target: float = 1
    decimals: int = 0
    kind: str = "outcome"

    def render(self, baseline: float, target: float) -> str:
        if self.kind == "output":
            return self.title
        return self.title.format(
            b=_number(baseline, self.decimals), t=_number(target, self.decimals)
        )


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _output(title: str) -> KrTemplate:
    # an output KR is done or not: 0 -> 1, so a score still exists
    return KrTemplate(title, 0, 1, 0, "output")


@dataclass(frozen=True, slots=True)
class Theme:
    """An objective template: what it is about, who owns it, where its work happens."""

    slug: str  # also the label / tag a query KR selects on
    objective: str
    owner: str
    homes: tuple[str, ...]  # container keys its key results are worked in, in turn
    key_results: tuple[KrTemplate, ...]


K = KrTemplate
THEMES: tuple[Theme, ...] = (
    Theme(
        "checkout",
        "Make checkout effortless for returning customers",
        "Payments",
        ("PAY", "Fabrikam\\Checkout"),
        (
            K("Raise checkout conversion from {b}% to {t}%", 2.1, 3.0, 1),
            K("Reduce payment failures from {b}% to {t}%", 4.5, 2.0, 1),
            _output("Launch one-click checkout for returning customers"),
            K("Cut median checkout time from {b}s to {t}s", 95, 60),
        ),
    ),
    Theme(
        "mobile",
        "Win on mobile",
        "Mobile",
        ("Fabrikam\\Mobile", "Fabrikam\\Loyalty"),
        (
            K("Grow mobile weekly active users from {b}k to {t}k", 310, 400),
            K("Raise the app store rating from {b} to {t}", 3.9, 4.5, 1),
            _output("Launch the new loyalty app"),
            K("Raise crash-free sessions from {b}% to {t}%", 98.2, 99.5, 1),
        ),
    ),
    Theme(
        "reliability",
        "Be the most reliable shop in the market",
        "Operations",
        ("OPS", "PLAT"),
        (
            K("Reduce monthly downtime from {b} to {t} minutes", 180, 30),
            K("Cut mean time to restore from {b} to {t} minutes", 95, 30),
            _output("Migrate all services to the new Kubernetes platform"),
            K("Reduce P1 incidents from {b} to {t} per month", 12, 4),
        ),
    ),
    Theme(
        "storefront",
        "Help customers find what they want",
        "Storefront",
        ("SHOP", "GROW"),
        (
            K("Raise search click-through rate from {b}% to {t}%", 31, 40),
            K("Increase average order value from €{b} to €{t}", 54, 62),
            _output("Redesign the product detail page"),
            K("Reduce zero-result searches from {b}% to {t}%", 8.5, 4.0, 1),
        ),
    ),
    Theme(
        "billing",
        "Close the books faster",
        "Finance Systems",
        ("FIN", "Fabrikam\\Data"),
        (
            K("Cut month-end close from {b} to {t} days", 9, 4),
            K("Reduce invoice disputes from {b}% to {t}%", 3.2, 1.5, 1),
            _output("Roll out automated dunning in all markets"),
        ),
    ),
    Theme(
        "loyalty",
        "Turn buyers into regulars",
        "Loyalty",
        ("Fabrikam\\Loyalty", "GROW"),
        (
            K("Raise 90-day repeat purchase rate from {b}% to {t}%", 22, 30),
            K("Grow loyalty members from {b}k to {t}k", 120, 200),
            K("Reduce churn among members from {b}% to {t}%", 6.5, 4.0, 1),
        ),
    ),
    Theme(
        "devex",
        "Ship safely many times a day",
        "Platform",
        ("PLAT", "Fabrikam\\Data"),
        (
            K("Raise deployment frequency from {b} to {t} per day", 3, 12),
            K("Cut lead time for changes from {b} to {t} hours", 52, 12),
            K("Reduce change failure rate from {b}% to {t}%", 18, 8),
            _output("Build a self-service preview environment"),
        ),
    ),
    Theme(
        "support",
        "Resolve customer problems on first contact",
        "Operations",
        ("OPS", "SHOP"),
        (
            K("Raise first-contact resolution from {b}% to {t}%", 61, 75),
            K("Reduce support tickets per 1,000 orders from {b} to {t}", 14, 9),
            K("Raise CSAT from {b} to {t}", 4.1, 4.5, 1),
        ),
    ),
    Theme(
        "insight",
        "Make every decision data-informed",
        "Data",
        ("Fabrikam\\Data", "PLAT"),
        (
            K("Raise weekly dashboard users from {b} to {t}", 140, 400),
            K("Reduce data freshness lag from {b} to {t} hours", 26, 4),
            _output("Migrate reporting to the new warehouse"),
        ),
    ),
    Theme(
        "acquisition",
        "Grow new customer acquisition profitably",
        "Growth",
        ("GROW", "SHOP"),
        (
            K("Increase new customers per month from {b}k to {t}k", 42, 55),
            K("Reduce customer acquisition cost from €{b} to €{t}", 38, 30),
            K("Raise signup completion from {b}% to {t}%", 47, 60),
        ),
    ),
    Theme(
        "trust",
        "Earn customers' trust with their data",
        "Platform",
        ("PLAT", "OPS"),
        (
            K("Reduce critical vulnerabilities open over 30 days from {b} to {t}", 23, 0),
            _output("Roll out SSO for all internal tools"),
            K("Raise the phishing-test pass rate from {b}% to {t}%", 78, 95),
        ),
    ),
    Theme(
        "wallet",
        "Make mobile checkout as good as desktop",
        "Mobile",
        ("Fabrikam\\Mobile", "PAY"),
        (
            K("Raise mobile checkout conversion from {b}% to {t}%", 1.4, 2.2, 1),
            _output("Ship Apple Pay and Google Pay in the app"),
            K("Cut mobile checkout abandonment from {b}% to {t}%", 71, 60),
        ),
    ),
)
QUALIFIERS = ("", " in EMEA", " in the Americas", " for business customers", " in APAC")

# Labels with no OKR meaning. None contains a theme slug, so a WIQL `Tags CONTAINS` on a query
# label cannot match them whichever way a server reads CONTAINS.
PLAIN_LABELS = (
    "tech-debt",
    "customer-request",
    "a11y",
    "quick-win",
    "perf",
    "ux",
    "backend",
    "frontend",
    "needs-design",
    "spike",
)

# Titles that break naive HTML / Markdown / Mermaid / DOT output; planted on orphans.
HOSTILE_TITLES = (
    'Fix <script>alert("xss")</script> in search & filters',
    'Price shows 1 < 2 & 3 > 2 in the "Compare" view | [link](javascript:alert(1))',
    "Handle O'Brien's `code` --> {braces} ; DROP TABLE issues; -- \\ backslash",
    "# Heading *not* _meant_ [x] ]] ` | a | b |",
)

_EPIC_TOPICS = (
    "one-click payments",
    "saved cards vault",
    "guest checkout revamp",
    "3-D Secure 2 rollout",
    "fraud scoring v2",
    "search relevance tuning",
    "product detail page refresh",
    "recommendations carousel",
    "price alerts",
    "wishlist sync",
    "Kubernetes migration",
    "observability stack",
    "on-call tooling",
    "CI pipeline speed-up",
    "feature flag service",
    "invoice automation",
    "dunning flows",
    "ledger reconciliation",
    "loyalty points engine",
    "member tiers",
    "push notification centre",
    "offline mode",
    "app start-up time",
    "data warehouse migration",
    "event tracking plan",
    "self-service dashboards",
    "GDPR data export",
    "SSO for internal tools",
    "incident postmortem process",
    "onboarding emails",
)
_VERBS = (
    "Add",
    "Fix",
    "Improve",
    "Remove",
    "Refactor",
    "Support",
    "Validate",
    "Migrate",
    "Show",
    "Track",
    "Cache",
    "Retry",
    "Log",
    "Split",
    "Document",
)
_OBJECTS = (
    "card expiry date",
    "address autocomplete",
    "order confirmation email",
    "payment webhook",
    "basket totals",
    "promo code field",
    "search suggestions",
    "category filters",
    "product images",
    "login rate limit",
    "session timeout",
    "deploy pipeline",
    "alert thresholds",
    "feature flags",
    "invoice PDF",
    "VAT rounding",
    "points balance",
    "push opt-in prompt",
    "offline cart",
    "crash reporting",
    "nightly export job",
    "dashboard filters",
    "audit log",
    "API pagination",
    "error messages",
)
_TASK_PREFIXES = ("Write tests for", "Review", "Update docs for", "Pair on", "QA", "Spike:")

_FIRST = [
    "Amara",
    "Okafor",
    "Jonas",
    "Weber",
    "Priya",
    "Raman",
    "Lucas",
    "Silva",
    "Mei",
    "Chen",
    "Noah",
    "Fischer",
    "Sofia",
    "Rossi",
    "Omar",
    "Haddad",
    "Elena",
    "Petrova",
    "Kenji",
    "Sato",
    "Fatima",
    "Zahra",
    "Liam",
    "Murphy",
    "Ana",
    "Souza",
    "Yusuf",
    "Demir",
    "Ingrid",
    "Larsen",
    "Mateo",
    "Garcia",
    "Chloe",
    "Martin",
    "Arjun",
    "Mehta",
    "Zoe",
    "Novak",
    "Tomasz",
    "Kowalski",
    "Hannah",
    "Becker",
    "Diego",
    "Torres",
    "Aisha",
    "Bello",
    "Felix",
    "Wagner",
]
PEOPLE: tuple[str, ...] = tuple(f"{_FIRST[i]} {_FIRST[i + 1]}" for i in range(0, len(_FIRST), 2))

_TYPES = {
    ("jira", 0): ("Epic",),
    ("jira", 2): ("Story", "Story", "Story", "Story", "Task", "Bug"),
    ("jira", 3): ("Subtask",),
    ("dc", 3): ("Sub-task",),
    ("ado", 0): ("Epic",),
    ("ado", 1): ("Feature",),
    ("ado", 2): ("User Story",),
    ("ado", 3): ("Task",),
}


def item_type(source: str, level: int, rng: random.Random) -> str:
    """The native type name of a new item at hierarchy ``level`` in ``source``."""
    if source == "contoso":
        return _TYPES["ado", level][0]
    if source == "dc" and level == 3:
        return "Sub-task"  # Data Center's (and company-managed Cloud's) spelling
    choices = _TYPES["jira", level]
    return choices[0] if len(choices) == 1 else rng.choice(choices)


def epic_title(rng: random.Random, area: str) -> str:
    return f"{area}: {rng.choice(_EPIC_TOPICS)}"


def item_title(rng: random.Random, level: int) -> str:
    title = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    if level == 3:
        return f"{rng.choice(_TASK_PREFIXES)} {title[0].lower()}{title[1:]}"
    if level == 1:
        return f"{rng.choice(_EPIC_TOPICS).capitalize()}: {rng.choice(_OBJECTS)}"
    return title
