"""Classify a key result as an *outcome* or an *output*, and say why.

A key result should describe an outcome — a change in a measurable result for customers or the
business ("Raise checkout conversion from 2.1% to 3.0%", "Reach 500,000 DAU") — rather than an
output, the activity or deliverable meant to cause it ("Launch new product", "Develop 3 new landing
pages"). The ``output_krs`` diagnostic counts the outputs, so every verdict carries a short reason
naming the evidence that decided it.

There is no model: a fixed list of readable rules is tried in order and the first that fires
decides.

1. no text                                     -> output
2. an internal engineering metric              -> output  ("test coverage", "linting errors")
3. an explicit metric change                   -> outcome ("from 2% to 3%", "by 20%", "in half")
4. keeping a metric at a level                 -> outcome ("keep churn below 2%")
5. a leading activity verb                     -> output  ("launch ...", "we finalize ...")
6. a directional verb on a metric or a target  -> outcome ("increase retention", "grow x to $4m")
7. a threshold on a number                     -> outcome ("at least 55%", "4.5/5 or higher")
8. a count of deliverables                     -> output  ("3 new landing pages")
9. a quantified result                         -> outcome ("25% of users", "65,000 votes")
10. an attainment verb on a metric             -> outcome ("achieve a higher nps")
11. the KR's numeric baseline/target pair      -> outcome
12. nothing measurable                         -> output

The order is the precedence. A stated metric change beats the verb that introduces it ("hire sales
staff from 2 to 5"); a leading activity verb beats a number that merely counts the work ("conduct
20 user interviews", "schedule 95% of calls"); internal engineering metrics count work, not
results, even when they move ("raise test coverage to 80%"). The baseline/target pair only settles
titles the text leaves undecided. Only the first ``_MAX_CHARS`` characters are read and every
pattern is compiled at import, so a call stays fast on any input.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["KrClassification", "KrKind", "classify_kr"]

_MAX_CHARS = 1000
_EVIDENCE_CHARS = 48
_METRIC_WINDOW = 80  # how far after a verb its metric noun may appear


class KrKind(StrEnum):
    """Whether a key result names a result (outcome) or a piece of work (output)."""

    OUTCOME = "outcome"
    OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class KrClassification:
    """A verdict and the short, lower-case reason naming the evidence that decided it."""

    kind: KrKind
    reason: str


def _words(spec: str) -> tuple[str, ...]:
    """Split a ``|``-separated vocabulary list (entries may contain spaces)."""
    return tuple(word.strip() for word in spec.split("|") if word.strip())


# --- vocabulary --------------------------------------------------------------------------------

# Verbs that describe doing work or producing an artefact.
_ACTIVITY_VERBS = _words(
    "analyse|analyze|assess|audit|begin|build|collect|complete|conduct|create|define|deliver|"
    "deploy|design|develop|document|draft|establish|evaluate|execute|finalise|finalize|finish|hire|"
    "hold|host|implement|install|integrate|introduce|investigate|launch|make|migrate|organise|"
    "organize|perform|plan|prepare|produce|prototype|publish|redesign|refactor|release|research|"
    "rewrite|run|schedule|send|ship|start|submit|test|train|update|upgrade|write|"
    "roll out|set up|kick off|put in place|stand up|spin up"
)
# Verbs and comparatives that move a quantity; they need a metric noun or a numeric target.
_DIRECTIONAL_VERBS = _words(
    "increase|raise|grow|boost|improve|reduce|decrease|lower|cut|lift|double|triple|halve|"
    "maximise|maximize|minimise|minimize|shorten|accelerate|slash|expand|eliminate|drive"
)
_COMPARATIVES = _words("higher|lower|fewer|more|less|better|faster|speed up")
# Verbs that reach a level; they need a metric noun.
_ATTAINMENT_VERBS = _words("achieve|reach|hit|attain|exceed|surpass|gain|earn|win|get")
_IRREGULAR = {
    "begin": ("began", "begun", "beginning"),
    "build": ("built",),
    "drive": ("drove", "driven"),
    "get": ("got", "getting"),
    "grow": ("grew", "grown"),
    "hold": ("held",),
    "make": ("made",),
    "run": ("ran", "running"),
    "send": ("sent",),
    "win": ("won", "winning"),
    "write": ("wrote", "written"),
}
_DOUBLING = frozenset(_words("ship|plan|cut|hit|set|spin"))

# Things people measure about customers and the business.
_METRIC_NOUNS = _words(
    "response time|resolution time|lead time|cycle time|wait time|load time|time-to-value|"
    "time to value|time to market|market share|error rate|bounce rate|order value|conversion|"
    "conversions|retention|churn|attrition|turnover|engagement|adoption|activation|usage|revenue|"
    "sales|profit|profitability|margin|margins|cost|costs|cac|ltv|arr|mrr|roi|aov|nps|enps|"
    "net promoter score|csat|satisfaction|approval|happiness|morale|users|customers|buyers|"
    "shoppers|accounts|subscribers|members|signups|sign-ups|registrations|downloads|installs|leads|"
    "mqls|sqls|pipeline|traffic|visits|visitors|views|clicks|ctr|purchases|orders|bookings|"
    "transactions|renewals|referrals|rating|ratings|score|scores|latency|uptime|availability|"
    "incidents|outages|errors|defects|bugs|complaints|escalations|drop-off|abandonment|awareness|"
    "mentions|followers|participation|votes|rate|rates|time|share|growth|spend"
)
# Internal work metrics: they count engineering activity, not a customer or business result.
_INTERNAL_METRICS = (
    r"(?:test|code|unit[- ]test|branch|line) coverage|lint(?:ing|er)? (?:errors|warnings|issues)|"
    r"(?:compiler|build|static[- ]analysis) warnings|story points|velocity|lines of code|"
    r"pull requests|prs merged|commits|tickets (?:closed|completed)|tech(?:nical)? debt items"
)
# Nouns that name a piece of work; counting them counts output.
_DELIVERABLES = _words(
    "features|pages|landing pages|posts|blog posts|articles|videos|episodes|webinars|workshops|"
    "events|campaigns|releases|prototypes|mockups|designs|reports|documents|docs|guides|tutorials|"
    "courses|trainings|interviews|surveys|meetings|demos|presentations|integrations|apps|tools|"
    "templates|dashboards|playbooks|policies|hires|microservices|endpoints|apis|modules|components|"
    "user stories|stories|epics|newsletters|experiments|a/b tests|tests|plans|processes"
)
_NUMBER_WORDS = _words("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a dozen")
_TIME_UNITS = frozenset(
    _words(
        "ms|second|seconds|minute|minutes|hour|hours|day|days|week|weeks|month|months|quarter|"
        "quarters|year|years|sprint|sprints"
    )
)
# A number right after these words is a date or a version, not a measurement.
_DATE_WORDS = frozenset(
    _words(
        "january|february|march|april|may|june|july|august|september|october|november|december|"
        "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|q|fy|h|v|version|release|sprint"
    )
)
# A four-digit number after these words is a year ("by 2026").
_DEADLINE_WORDS = frozenset(_words("by|in|before|until|till|since|during|end|through|of|for"))
# Words that end the noun phrase a quantity measures ("25 positive reviews | in app store").
_PHRASE_STOPS = frozenset(
    _words("in|on|of|for|to|by|from|before|after|the|a|an|with|within|per|and|or|at|as|via")
)


def _forms(verb: str) -> list[str]:
    """Return a verb's base, -s, -ed and -ing forms (also for phrasal verbs like 'roll out')."""
    head, _, tail = verb.partition(" ")
    tail = f" {tail}" if tail else ""
    if head.endswith("e"):
        stems = [head, head + "s", head + "d", head[:-1] + "ing"]
    elif head.endswith(("s", "sh", "ch", "x", "z")):
        stems = [head, head + "es", head + "ed", head + "ing"]
    else:
        stems = [head, head + "s", head + "ed", head + "ing"]
    if head in _DOUBLING:
        stems += [head + head[-1] + "ed", head + head[-1] + "ing"]
    stems += _IRREGULAR.get(head, ())
    return [stem + tail for stem in stems]


def _alternation(words: Iterable[str]) -> str:
    """A non-capturing regex alternation, longest first, with spaces matching any whitespace."""
    escaped = sorted({re.escape(w).replace(r"\ ", r"\s+") for w in words}, key=len, reverse=True)
    return "(?:" + "|".join(escaped) + ")"


def _verb_alternation(verbs: Iterable[str]) -> str:
    return _alternation(form for verb in verbs for form in _forms(verb))


# --- patterns (all compiled at import) ---------------------------------------------------------

_NUM = r"[+-]?[$€£¥]?(?<![\d.,])\d+(?:[.,]\d+)*"  # starts only at a number's first digit
_UNIT = r"(?:\s?(?:%|percent\b|pp\b|bps\b)|(?:k|m|mm|bn|b|x)\b|\s(?:thousand|million|billion)\b)?"
_PLACEHOLDER = r"(?<![\w/-])[xyn](?![\w/-])"  # "from X to Y", "generate X leads"
_QTY = rf"(?:{_NUM}{_UNIT}|{_PLACEHOLDER}|\bzero\b)"
_QTY_TAIL = rf"(?:/[a-z]+|\s+{_alternation(_TIME_UNITS)}\b)?"  # "8/quarter", "30 minutes"
_BOUND = (
    r"(?:at\s+least|at\s+most|no\s+more\s+than|more\s+than|less\s+than|fewer\s+than|over|under|"
    r"above|below|beyond|>=|<=|≥|≤|>|<)"
)
_SUBJECT = (
    r"^(?:(?:we|i|they|the\s+team|our\s+team|my\s+team|team)\s+"
    r"(?:will\s+|shall\s+|must\s+|should\s+|can\s+|are\s+going\s+to\s+|plan\s+to\s+)?)?"
    r"(?:to\s+|will\s+)?(?:[a-z]+ly\s+)?"
)

_SPACE_RE = re.compile(r"\s+")
_BULLET_RE = re.compile(r"^(?:[-*•·>]+|\(?\d{1,2}[.)]|kr\s*[\d.]*\s*[:.)-])\s+")
_INTERNAL_RE = re.compile(rf"\b(?:{_INTERNAL_METRICS})\b")
_FROM_TO_RE = re.compile(
    rf"\bfrom\s+(?:{_BOUND}\s+)?{_QTY}(?:/[a-z]+)?(?:\s+[a-z]+){{0,2}}?\s+(?:to|->|→)\s+"
    rf"(?:{_BOUND}\s+)?{_QTY}{_QTY_TAIL}"
)
_RELATIVE_RE = re.compile(
    rf"\bby\s+(?:{_BOUND}\s+)?(?:{_NUM}\s?(?:%|percent\b|pp\b|bps\b|(?:percentage\s+)?points?\b)"
    rf"|{_NUM}x\b|half\b|an?\s+(?:third|quarter|fifth|half)\b)|\bin\s+half\b"
    rf"|{_NUM}\s?(?:%|percent|x)\s+(?:increase|decrease|reduction|growth|improvement|uplift|lift|"
    r"drop|decline|rise|gain|cut|fewer|more|less|lower|higher|faster)\b"
)
_MAINTAIN_RE = re.compile(
    rf"^(?:keep|maintain|sustain|hold)(?:s|ed|ing)?\s+(?:\S+\s+){{0,5}}?(?:at|{_BOUND})\s+{_QTY}"
)
_ACTIVITY_RE = re.compile(rf"{_SUBJECT}(?P<verb>{_verb_alternation(_ACTIVITY_VERBS)})(?![\w-])")
_DIRECTIONAL_RE = re.compile(
    rf"\b(?P<verb>{_verb_alternation(_DIRECTIONAL_VERBS)}|{_alternation(_COMPARATIVES)})\b"
)
_ATTAINMENT_RE = re.compile(rf"\b(?P<verb>{_verb_alternation(_ATTAINMENT_VERBS)})\b")
_METRIC_RE = re.compile(rf"\b(?P<metric>{_alternation(_METRIC_NOUNS)})\b")
_TARGET_RE = re.compile(rf"\bto\s+(?:{_BOUND}\s+)?{_QTY}{_QTY_TAIL}")
_THRESHOLD_RE = re.compile(
    rf"(?<!\w){_BOUND}\s*{_QTY}(?:\s+[a-z][a-z-]*)?"
    rf"|{_QTY}(?:/\d+)?\s+or\s+(?:higher|more|better|above|over|lower|less|fewer|below|under)\b"
)
_DELIVERABLE_RE = re.compile(
    rf"(?<![\w.,])(?:{_NUM}|{_PLACEHOLDER}|\b{_alternation(_NUMBER_WORDS)})\s+"
    rf"(?:(?:new|more|additional|major|key)\s+)?(?:[a-z-]+\s+){{0,2}}?"
    rf"{_alternation(_DELIVERABLES)}\b"
)
_QUANTITY_RE = re.compile(rf"(?<![\w.,])(?P<qty>{_QTY})(?P<rest>(?:\s+[a-z][a-z-]*){{0,3}})")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
# Quantities that measure something on their own: percentages, money, large units, placeholders.
_MEASURE_RE = re.compile(
    r"%|percent|[$€£¥]|\d(?:k|m|mm|bn|b)$|(?:thousand|million|billion)$|^[xyn]$"
)


def _normalise(title: str) -> str:
    # NFKC can lengthen text (one ligature may become 18 letters), so cut again after it.
    text = unicodedata.normalize("NFKC", title[:_MAX_CHARS]).casefold()[:_MAX_CHARS]
    text = text.translate({0x2018: "'", 0x2019: "'", 0x2013: "-", 0x2014: "-", 0x2212: "-"})
    text = _SPACE_RE.sub(" ", text).strip(" \"'.,;:!?()[]")
    return _BULLET_RE.sub("", text, count=1).replace("we'll", "we will")


def _clip(snippet: str) -> str:
    """Tidy a piece of evidence for the reason: one line, no dangling preposition, short."""
    words = snippet.split()
    while len(words) > 1 and words[-1] in _PHRASE_STOPS:
        words.pop()
    snippet = " ".join(words).strip(" .,;:!?()\"'")
    return snippet if len(snippet) <= _EVIDENCE_CHARS else snippet[: _EVIDENCE_CHARS - 3] + "..."


def _quantified_result(text: str) -> str | None:
    """The first number in the text that measures something (not a date, duration or version)."""
    for match in _QUANTITY_RE.finditer(text):
        qty = match.group("qty")
        before = text[max(0, match.start() - 16) : match.start()].split()[-1:]
        if before and (
            before[0] in _DATE_WORDS or (before[0] in _DEADLINE_WORDS and _YEAR_RE.fullmatch(qty))
        ):
            continue
        words: list[str] = []
        for word in match.group("rest").split():
            if word in _PHRASE_STOPS:
                break
            words.append(word)
        if _MEASURE_RE.search(qty) or (words and words[0] not in _TIME_UNITS):
            return " ".join([qty, *words])
    return None


def _metric_after(match: re.Match[str], text: str) -> str | None:
    """The metric noun that a verb acts on, if one follows it closely."""
    metric = _METRIC_RE.search(text, match.end(), match.end() + _METRIC_WINDOW)
    return " ".join(metric.group("metric").split()) if metric else None


def _outcome(reason: str) -> KrClassification:
    return KrClassification(KrKind.OUTCOME, reason)


def _output(reason: str) -> KrClassification:
    return KrClassification(KrKind.OUTPUT, reason)


def classify_kr(
    title: str, *, baseline: float | None = None, target: float | None = None
) -> KrClassification:
    """Classify a key result as an outcome or an output, with the evidence that decided it.

    Args:
        title: The key result's text, as written in the OKR file or tracker.
        baseline: The KR's numeric starting value, if the OKR file gives one.
        target: The KR's numeric target value, if the OKR file gives one. A finite
            baseline/target pair makes a title with no other evidence an outcome.

    Returns:
        The kind and a short, lower-case reason naming the evidence, e.g.
        ``activity verb 'launch' and no metric change`` or ``metric change 'from 2.1% to 3.0%'``.
        The rules and their precedence are listed in the module docstring. Never raises on
        any string; an empty or punctuation-only title is an output with reason ``no text``.
    """
    text = _normalise(title)
    if not text:
        return _output("no text")
    if m := _INTERNAL_RE.search(text):
        return _output(f"internal engineering metric '{_clip(m.group(0))}', not a customer result")
    if m := _FROM_TO_RE.search(text):
        return _outcome(f"metric change '{_clip(m.group(0))}'")
    if m := _RELATIVE_RE.search(text):
        return _outcome(f"relative metric change '{_clip(m.group(0))}'")
    if m := _MAINTAIN_RE.search(text):
        return _outcome(f"keeps a metric at a level '{_clip(m.group(0))}'")
    if m := _ACTIVITY_RE.search(text):
        verb = " ".join(m.group("verb").split())
        if count := _DELIVERABLE_RE.search(text, m.end()):
            counted = _clip(count.group(0))
            return _output(f"activity verb '{verb}' counting deliverables '{counted}'")
        return _output(f"activity verb '{verb}' and no metric change")
    for m in _DIRECTIONAL_RE.finditer(text):
        verb = " ".join(m.group("verb").split())
        if metric := _metric_after(m, text):
            return _outcome(f"'{verb}' on metric '{metric}'")
        if goal := _TARGET_RE.search(text, m.end()):
            return _outcome(f"'{verb}' to target '{_clip(goal.group(0))}'")
    if m := _THRESHOLD_RE.search(text):
        return _outcome(f"threshold '{_clip(m.group(0))}'")
    if m := _DELIVERABLE_RE.search(text):
        return _output(f"counts deliverables '{_clip(m.group(0))}'")
    if quantity := _quantified_result(text):
        return _outcome(f"quantified result '{_clip(quantity)}'")
    for m in _ATTAINMENT_RE.finditer(text):
        if metric := _metric_after(m, text):
            return _outcome(f"'{m.group('verb')}' on metric '{metric}'")
    if baseline is not None and target is not None and all(map(math.isfinite, (baseline, target))):
        return _outcome(f"baseline/target pair {baseline:g} -> {target:g}")
    if m := _DIRECTIONAL_RE.search(text):
        return _output(f"'{m.group('verb')}' without a metric or numeric target")
    return _output("no metric or measurable result found")
