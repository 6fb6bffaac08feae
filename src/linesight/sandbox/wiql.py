"""The WIQL the sandbox understands: a parser and an evaluator for flat work item queries.

Supported: ``SELECT <fields> FROM WorkItems [WHERE <condition>] [ORDER BY <field> [ASC|DESC],
...]`` where a condition combines, with ``AND`` / ``OR`` / ``NOT`` and parentheses::

    [Field] = | <> | != | > | >= | < | <= <value>
    [Field] [NOT] IN (<value>, ...)
    [Field] [NOT] UNDER <path>                      (area / iteration paths)
    [Field] [NOT] CONTAINS [WORDS] <text>           (System.Tags: whole-tag match)
    [Field] IS [NOT] EMPTY

Values are strings in single or double quotes (a doubled quote escapes it), numbers, and the
macros ``@project``, ``@Me`` and ``@Today`` (``@Today - 7``). Fields are written as reference
names or friendly names, bracketed or not. Like Azure DevOps, string comparisons ignore case,
and date comparisons use *date precision* unless the request says ``timePrecision=true`` — a
literal with a time of day is then refused with the service's own message.

Anything else (link queries, ``ASOF``, ``EVER``, field-to-field comparisons, other macros) is
refused with a :class:`WiqlError` whose message says what is not supported, in the shape Azure
DevOps uses (``TF51005`` for an unknown field, ``TF51006`` for syntax).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

__all__ = [
    "KNOWN_FIELDS",
    "MAX_QUERY_LENGTH",
    "Context",
    "Field",
    "FieldRegistry",
    "Plan",
    "Query",
    "WiqlError",
    "compile_query",
    "parse",
    "parse_datetime",
]

MAX_QUERY_LENGTH = 32768  # Azure DevOps refuses longer WIQL text


class WiqlError(ValueError):
    """A query the service would refuse. ``str(e)`` is the message Azure DevOps would send."""

    def __init__(self, message: str, *, type_key: str = "VssPropertyValidationException") -> None:
        super().__init__(message)
        self.message = message
        self.type_key = type_key


# -- fields ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """A work item field: reference name, friendly name and Azure DevOps field type."""

    ref: str
    name: str
    # integer | double | dateTime | string | treePath | identity | html | plainText | boolean
    kind: str


def _fields(*spec: tuple[str, str, str]) -> dict[str, Field]:
    return {ref: Field(ref, name, kind) for ref, name, kind in spec}


KNOWN_FIELDS: Mapping[str, Field] = _fields(
    ("System.Id", "ID", "integer"),
    ("System.Rev", "Rev", "integer"),
    ("System.Title", "Title", "string"),
    ("System.State", "State", "string"),
    ("System.Reason", "Reason", "string"),
    ("System.WorkItemType", "Work Item Type", "string"),
    ("System.TeamProject", "Team Project", "string"),
    ("System.AreaPath", "Area Path", "treePath"),
    ("System.IterationPath", "Iteration Path", "treePath"),
    ("System.AreaId", "Area ID", "integer"),
    ("System.IterationId", "Iteration ID", "integer"),
    ("System.Tags", "Tags", "plainText"),
    ("System.CreatedDate", "Created Date", "dateTime"),
    ("System.ChangedDate", "Changed Date", "dateTime"),
    ("System.AuthorizedDate", "Authorized Date", "dateTime"),
    ("System.RevisedDate", "Revised Date", "dateTime"),
    ("System.CreatedBy", "Created By", "identity"),
    ("System.ChangedBy", "Changed By", "identity"),
    ("System.AuthorizedAs", "Authorized As", "identity"),
    ("System.AssignedTo", "Assigned To", "identity"),
    ("System.Parent", "Parent", "integer"),
    ("System.Description", "Description", "html"),
    ("System.History", "History", "html"),
    ("System.CommentCount", "Comment Count", "integer"),
    ("System.BoardColumn", "Board Column", "string"),
    ("System.BoardColumnDone", "Board Column Done", "boolean"),
    ("System.BoardLane", "Board Lane", "string"),
    ("Microsoft.VSTS.Common.ActivatedDate", "Activated Date", "dateTime"),
    ("Microsoft.VSTS.Common.ActivatedBy", "Activated By", "identity"),
    ("Microsoft.VSTS.Common.ResolvedDate", "Resolved Date", "dateTime"),
    ("Microsoft.VSTS.Common.ResolvedBy", "Resolved By", "identity"),
    ("Microsoft.VSTS.Common.ResolvedReason", "Resolved Reason", "string"),
    ("Microsoft.VSTS.Common.ClosedDate", "Closed Date", "dateTime"),
    ("Microsoft.VSTS.Common.ClosedBy", "Closed By", "identity"),
    ("Microsoft.VSTS.Common.StateChangeDate", "State Change Date", "dateTime"),
    ("Microsoft.VSTS.Common.Priority", "Priority", "integer"),
    ("Microsoft.VSTS.Common.Severity", "Severity", "string"),
    ("Microsoft.VSTS.Common.ValueArea", "Value Area", "string"),
    ("Microsoft.VSTS.Common.Risk", "Risk", "string"),
    ("Microsoft.VSTS.Common.BusinessValue", "Business Value", "integer"),
    ("Microsoft.VSTS.Common.TimeCriticality", "Time Criticality", "double"),
    ("Microsoft.VSTS.Common.BacklogPriority", "Backlog Priority", "double"),
    ("Microsoft.VSTS.Common.StackRank", "Stack Rank", "double"),
    ("Microsoft.VSTS.Common.AcceptanceCriteria", "Acceptance Criteria", "html"),
    ("Microsoft.VSTS.Scheduling.StoryPoints", "Story Points", "double"),
    ("Microsoft.VSTS.Scheduling.Effort", "Effort", "double"),
    ("Microsoft.VSTS.Scheduling.Size", "Size", "double"),
    ("Microsoft.VSTS.Scheduling.OriginalEstimate", "Original Estimate", "double"),
    ("Microsoft.VSTS.Scheduling.RemainingWork", "Remaining Work", "double"),
    ("Microsoft.VSTS.Scheduling.CompletedWork", "Completed Work", "double"),
    ("Microsoft.VSTS.Scheduling.StartDate", "Start Date", "dateTime"),
    ("Microsoft.VSTS.Scheduling.TargetDate", "Target Date", "dateTime"),
    ("Microsoft.VSTS.Scheduling.FinishDate", "Finish Date", "dateTime"),
    ("Microsoft.VSTS.Scheduling.DueDate", "Due Date", "dateTime"),
)

_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


class FieldRegistry:
    """The fields a query may name: :data:`KNOWN_FIELDS` plus every field seen in the data.

    Lookups accept reference names and friendly names, ignoring case, as WIQL does.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, Field] = {}
        for known in KNOWN_FIELDS.values():
            self._add(known)

    def _add(self, entry: Field) -> None:
        self._by_key.setdefault(entry.ref.casefold(), entry)
        self._by_key.setdefault(entry.name.casefold(), entry)

    def observe(self, fields: Mapping[str, Any]) -> None:
        """Learn the custom fields of one work item (their type is inferred from the value)."""
        by_key = self._by_key
        for ref, value in fields.items():
            if ref.casefold() not in by_key:
                self._add(Field(ref, ref.rsplit(".", 1)[-1], _infer_kind(ref, value)))

    def resolve(self, name: str) -> Field | None:
        return self._by_key.get(name.strip().casefold())

    def all(self) -> list[Field]:
        """Every distinct field, by reference name."""
        unique = {f.ref: f for f in self._by_key.values()}
        return [unique[ref] for ref in sorted(unique)]


def _infer_kind(ref: str, value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        return "identity" if "displayName" in value or "uniqueName" in value else "string"
    if isinstance(value, str) and _ISO_DATE.match(value) and "T" in value:
        return "dateTime"
    return "string"


# -- syntax ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<field>\[[^\]]*\])
    |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<op><>|!=|>=|<=|=|<|>)
    |(?P<punct>[(),+\-*])
    |(?P<macro>@[A-Za-z_]\w*)
    |(?P<word>[A-Za-z_][\w.]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset(
    {
        "select",
        "from",
        "where",
        "order",
        "by",
        "asc",
        "desc",
        "and",
        "or",
        "not",
        "in",
        "under",
        "contains",
        "words",
        "ever",
        "is",
        "empty",
        "asof",
        "mode",
    }
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # field | string | number | op | punct | macro | word | end
    text: str

    @property
    def keyword(self) -> str | None:
        folded = self.text.casefold()
        return folded if self.kind == "word" and folded in _KEYWORDS else None


@dataclass(frozen=True, slots=True)
class Value:
    """A literal or macro on the right of a condition."""

    kind: str  # string | number | macro
    text: str  # the string's content, the number, or the macro name without '@'
    offset: int = 0  # @Today - 7 -> -7
    source: str = ""  # as written, for error messages


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str  # = <> > >= < <= in notin under notunder contains notcontains
    # containswords notcontainswords isempty isnotempty
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and | or
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    inner: Expr


Expr = Condition | BoolOp | Not


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed flat query."""

    select: tuple[str, ...]
    where: Expr | None
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)


def _syntax(expected: str, token: _Token) -> WiqlError:
    if token.kind == "end":
        return WiqlError(f"TF51006: Expecting {expected}. The query ends too early.")
    return WiqlError(f"TF51006: Expecting {expected}. The error is caused by «{token.text}».")


def _unsupported(what: str, token_text: str) -> WiqlError:
    return WiqlError(
        f"TF51006: {what} is not supported by the linesight sandbox, which evaluates flat "
        f"WorkItems queries only. The error is caused by «{token_text}»."
    )


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            snippet = text[pos : pos + 20]
            if text[pos] in "'\"":
                raise WiqlError(
                    f"TF51006: Expecting a closing quote. The error is caused by «{snippet}»."
                )
            raise WiqlError(f"TF51006: Unexpected character. The error is caused by «{snippet}».")
        kind = match.lastgroup or "ws"
        if kind != "ws":
            tokens.append(_Token(kind, match.group()))
        pos = match.end()
    tokens.append(_Token("end", ""))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._pos = 0

    def _peek(self, ahead: int = 0) -> _Token:
        return self._tokens[min(self._pos + ahead, len(self._tokens) - 1)]

    def _next(self) -> _Token:
        token = self._peek()
        self._pos += 1
        return token

    def _accept(self, keyword: str) -> bool:
        if self._peek().keyword == keyword:
            self._pos += 1
            return True
        return False

    def _expect(self, keyword: str) -> None:
        if not self._accept(keyword):
            raise _syntax(keyword.upper(), self._peek())

    def _punct(self, char: str) -> bool:
        token = self._peek()
        if token.kind == "punct" and token.text == char:
            self._pos += 1
            return True
        return False

    def query(self) -> Query:
        self._expect("select")
        select = [self._field()]
        while self._punct(","):
            select.append(self._field())
        self._expect("from")
        source = self._next()
        if source.kind != "word" or source.text.casefold() != "workitems":
            if source.kind == "word" and source.text.casefold() == "workitemlinks":
                raise _unsupported("FROM WorkItemLinks (a tree or one-hop query)", source.text)
            raise _syntax("WorkItems after FROM", source)
        where = self._expr() if self._accept("where") else None
        order: list[tuple[str, bool]] = []
        if self._accept("order"):
            self._expect("by")
            while True:
                name = self._field()
                descending = False
                if self._accept("desc"):
                    descending = True
                else:
                    self._accept("asc")
                order.append((name, descending))
                if not self._punct(","):
                    break
        token = self._peek()
        if token.keyword in ("asof", "mode"):
            raise _unsupported(token.text.upper(), token.text)
        if token.kind != "end":
            raise _syntax("end of query", token)
        return Query(tuple(select), where, tuple(order))

    def _field(self) -> str:
        token = self._next()
        if token.kind == "field":
            name = token.text[1:-1].strip()
            if name:
                return name
        elif token.kind == "word" and token.keyword is None:
            return token.text
        elif token.kind == "punct" and token.text == "*":
            raise _unsupported("SELECT *", token.text)
        raise _syntax("a field name", token)

    def _expr(self) -> Expr:
        parts = [self._and()]
        while self._accept("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def _and(self) -> Expr:
        parts = [self._unary()]
        while self._accept("and"):
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def _unary(self) -> Expr:
        if self._accept("not"):
            return Not(self._unary())
        if self._punct("("):
            inner = self._expr()
            if not self._punct(")"):
                raise _syntax("a closing parenthesis", self._peek())
            return inner
        return self._condition()

    def _condition(self) -> Condition:
        name = self._field()
        token = self._next()
        if token.kind == "op":
            op = "<>" if token.text == "!=" else token.text
            return Condition(name, op, (self._value(),))
        negate = False
        if token.keyword == "not":
            negate = True
            token = self._next()
        keyword = token.keyword
        if keyword == "in":
            if not self._punct("("):
                raise _syntax("a parenthesized list of values after IN", self._peek())
            values = [self._value()]
            while self._punct(","):
                values.append(self._value())
            if not self._punct(")"):
                raise _syntax("a closing parenthesis", self._peek())
            return Condition(name, "notin" if negate else "in", tuple(values))
        if keyword == "under":
            return Condition(name, "notunder" if negate else "under", (self._value(),))
        if keyword == "contains":
            op = "containswords" if self._accept("words") else "contains"
            return Condition(name, ("not" if negate else "") + op, (self._value(),))
        if keyword == "is" and not negate:
            empty_negate = self._accept("not")
            self._expect("empty")
            return Condition(name, "isnotempty" if empty_negate else "isempty", ())
        if keyword == "ever":
            raise _unsupported("EVER (a historical query)", token.text)
        raise _syntax("a comparison operator", token)

    def _value(self) -> Value:
        token = self._next()
        if token.kind == "string":
            quote = token.text[0]
            return Value("string", token.text[1:-1].replace(quote * 2, quote), source=token.text)
        if token.kind == "punct" and token.text == "-" and self._peek().kind == "number":
            number = self._next()
            return Value("number", "-" + number.text, source="-" + number.text)
        if token.kind == "number":
            return Value("number", token.text, source=token.text)
        if token.kind == "macro":
            name = token.text[1:].casefold()
            offset = 0
            source = token.text
            sign = self._peek()
            if sign.kind == "punct" and sign.text in "+-" and self._peek(1).kind == "number":
                self._pos += 1
                amount = self._next()
                try:
                    offset = int(amount.text) * (-1 if sign.text == "-" else 1)
                except ValueError:
                    raise _syntax("a whole number of days", amount) from None
                source = f"{token.text} {sign.text} {amount.text}"
            return Value("macro", name, offset, source)
        if token.kind == "field" or (token.kind == "word" and token.keyword is None):
            raise _unsupported("Comparing a field with another field", token.text)
        raise _syntax("a value", token)


def parse(text: str) -> Query:
    """Parse WIQL text; raise :class:`WiqlError` for anything outside the supported subset."""
    if len(text) > MAX_QUERY_LENGTH:
        raise WiqlError(
            f"VS402334: The WIQL query text is {len(text)} characters long, over the limit of "
            f"{MAX_QUERY_LENGTH} characters. Change the query to use fewer clauses."
        )
    if not text.strip():
        raise WiqlError("TF51006: Expecting SELECT. The query is empty.")
    return _Parser(text).query()


# -- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Context:
    """What a query is evaluated against: the route's project, today, precision, the caller."""

    project: str | None
    now: datetime
    time_precision: bool = False
    me: tuple[str, ...] = ()
    # (field ref, path) -> does this area / iteration path exist?
    path_exists: Callable[[str, str], bool] | None = None


Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(slots=True)
class Plan:
    """A compiled query: the filter, hints to narrow the scan, and the output columns."""

    predicate: Predicate
    select: list[Field]
    order_by: list[tuple[Field, bool]]
    id_low: int | None = None  # inclusive bounds on System.Id implied by top-level ANDs
    id_high: int | None = None
    projects: frozenset[str] | None = None  # casefolded project names implied by top-level ANDs
    _keys: dict[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)

    def sort(self, rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``rows`` (work item field dicts) in the query's order; by id when it names none."""
        rows = sorted(rows, key=lambda f: f.get("System.Id", 0))
        for entry, descending in reversed(self.order_by):
            if entry.ref == "System.Id":
                rows.sort(key=lambda f: f.get("System.Id", 0), reverse=descending)
                continue
            key = _sort_key(entry)
            present = [r for r in rows if r.get(entry.ref) is not None]
            missing = [r for r in rows if r.get(entry.ref) is None]
            present.sort(key=key, reverse=descending)
            # Empty values sort first ascending and last descending, as in Azure DevOps.
            rows = present + missing if descending else missing + present
        return rows


def compile_query(query: Query, fields: FieldRegistry, context: Context) -> Plan:
    """Resolve fields and values of ``query``; raise :class:`WiqlError` like the service."""
    select = [_resolve(fields, name) for name in query.select]
    order = [(_resolve(fields, name), desc) for name, desc in query.order_by]
    if query.where is None:
        return Plan(lambda _f: True, select, order)
    predicate = _compile(query.where, fields, context)
    plan = Plan(predicate, select, order)
    conjuncts = (
        query.where.parts
        if isinstance(query.where, BoolOp) and query.where.op == "and"
        else (query.where,)
    )
    for part in conjuncts:
        if isinstance(part, Condition):
            _narrow(plan, part, fields, context)
    return plan


def _resolve(fields: FieldRegistry, name: str) -> Field:
    found = fields.resolve(name)
    if found is None:
        raise WiqlError(
            f"TF51005: The query references a field that does not exist. "
            f"The error is caused by «[{name}]»."
        )
    return found


def _narrow(plan: Plan, cond: Condition, fields: FieldRegistry, context: Context) -> None:
    target = _resolve(fields, cond.field)
    if target.ref == "System.Id" and cond.op in ("=", ">", ">=", "<", "<="):
        number = int(_number(cond.values[0], target))
        low = {"=": number, ">": number + 1, ">=": number}.get(cond.op)
        high = {"=": number, "<": number - 1, "<=": number}.get(cond.op)
        if low is not None:
            plan.id_low = low if plan.id_low is None else max(plan.id_low, low)
        if high is not None:
            plan.id_high = high if plan.id_high is None else min(plan.id_high, high)
    elif target.ref == "System.TeamProject" and cond.op in ("=", "in"):
        names = frozenset(_text(v, target, context).casefold() for v in cond.values)
        plan.projects = names if plan.projects is None else plan.projects & names


def _compile(expr: Expr, fields: FieldRegistry, context: Context) -> Predicate:
    if isinstance(expr, BoolOp):
        parts = [_compile(p, fields, context) for p in expr.parts]
        if expr.op == "and":
            return lambda f: all(p(f) for p in parts)
        return lambda f: any(p(f) for p in parts)
    if isinstance(expr, Not):
        inner = _compile(expr.inner, fields, context)
        return lambda f: not inner(f)
    return _condition(expr, _resolve(fields, expr.field), context)


def _condition(cond: Condition, target: Field, context: Context) -> Predicate:
    op, ref, kind = cond.op, target.ref, target.kind
    if op in ("isempty", "isnotempty"):
        want_empty = op == "isempty"
        return lambda f: (f.get(ref) in (None, "")) is want_empty
    if op in ("under", "notunder"):
        if kind != "treePath":
            raise WiqlError(
                f"TF51006: The UNDER operator works on area and iteration paths only, not on "
                f"[{ref}]. The error is caused by «{cond.values[0].source}»."
            )
        path = _path(cond.values[0], target, context)
        prefix = path + "\\"
        under: Predicate = lambda f: _under(f.get(ref), path, prefix)  # noqa: E731
        return under if op == "under" else lambda f: not under(f)
    if op.startswith("contains") or op.startswith("notcontains"):
        return _contains(cond, target, context)
    if kind in ("integer", "double"):
        return _compare_numbers(op, ref, [_number(v, target) for v in cond.values])
    if kind == "dateTime":
        return _compare_dates(cond, target, context)
    if kind == "identity":
        wanted = {_text(v, target, context).casefold() for v in cond.values}
        if any(v.kind == "macro" and v.text == "me" for v in cond.values):
            wanted |= {m.casefold() for m in context.me}
        return _compare_identity(op, ref, wanted, cond)
    if kind == "treePath":
        for value in cond.values:
            _path(value, target, context)
    values = [_text(v, target, context).casefold() for v in cond.values]
    return _compare_strings(op, ref, values)


def _under(value: Any, path: str, prefix: str) -> bool:
    if not isinstance(value, str):
        return False
    folded = value.casefold()
    return folded == path or folded.startswith(prefix)


def _contains(cond: Condition, target: Field, context: Context) -> Predicate:
    negate = cond.op.startswith("not")
    needle = _text(cond.values[0], target, context).casefold()
    ref = target.ref
    if target.kind not in ("string", "plainText", "html", "treePath"):
        raise WiqlError(
            f"TF51006: The CONTAINS operator works on text fields only, not on [{ref}]. "
            f"The error is caused by «{cond.values[0].source}»."
        )
    if ref == "System.Tags":
        # Tags match whole tags, not substrings: CONTAINS 'KR1' does not match 'KR1.1'.
        def test(f: Mapping[str, Any]) -> bool:
            return needle in _tag_set(f.get(ref))

    elif cond.op.endswith("words"):
        pattern = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")

        def test(f: Mapping[str, Any]) -> bool:
            value = f.get(ref)
            return isinstance(value, str) and pattern.search(value.casefold()) is not None

    else:

        def test(f: Mapping[str, Any]) -> bool:
            value = f.get(ref)
            return isinstance(value, str) and needle in value.casefold()

    return (lambda f: not test(f)) if negate else test


@lru_cache(maxsize=65536)
def _tag_set(value: Any) -> frozenset[str]:
    if not isinstance(value, str) or not value:
        return frozenset()
    return frozenset(t.strip().casefold() for t in value.split(";") if t.strip())


def _compare_strings(op: str, ref: str, values: list[str]) -> Predicate:
    if op in ("in", "notin"):
        wanted = frozenset(values)
        inside: Predicate = lambda f: _folded(f.get(ref)) in wanted  # noqa: E731
        return inside if op == "in" else lambda f: not inside(f)
    value = values[0]
    if op == "=":
        return lambda f: _folded(f.get(ref)) == value
    if op == "<>":
        return lambda f: _folded(f.get(ref)) != value
    compare = _ORDERING[op]
    return lambda f: f.get(ref) is not None and compare(_folded(f.get(ref)), value)


def _folded(value: Any) -> str:
    if value is None:
        return ""
    return value.casefold() if isinstance(value, str) else str(value).casefold()


_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _compare_numbers(op: str, ref: str, values: list[float]) -> Predicate:
    if op in ("in", "notin"):
        wanted = frozenset(values)
        inside: Predicate = lambda f: f.get(ref) in wanted  # noqa: E731
        return inside if op == "in" else lambda f: not inside(f)
    value = values[0]
    if op == "=":
        return lambda f: f.get(ref) == value
    if op == "<>":
        return lambda f: f.get(ref) != value
    compare = _ORDERING[op]
    return lambda f: isinstance(f.get(ref), int | float) and compare(f[ref], value)


def _compare_identity(op: str, ref: str, wanted: set[str], cond: Condition) -> Predicate:
    if op not in ("=", "<>", "in", "notin"):
        raise WiqlError(
            f"TF51006: The operator {op!r} cannot be used with the identity field [{ref}]. "
            f"The error is caused by «{cond.values[0].source}»."
        )

    def matches(f: Mapping[str, Any]) -> bool:
        return not wanted.isdisjoint(_identity_names(f.get(ref)))

    return matches if op in ("=", "in") else lambda f: not matches(f)


def _identity_names(value: Any) -> set[str]:
    if isinstance(value, dict):
        display, unique = value.get("displayName"), value.get("uniqueName")
        names = {str(n).casefold() for n in (display, unique) if n}
        if display and unique:
            names.add(f"{display} <{unique}>".casefold())
        return names
    if isinstance(value, str) and value:
        names = {value.casefold()}
        match = re.match(r"^(.*?)\s*<([^>]+)>$", value)
        if match:
            names |= {match.group(1).casefold(), match.group(2).casefold()}
        return names
    return {""}


def _compare_dates(cond: Condition, target: Field, context: Context) -> Predicate:
    ref, op = target.ref, cond.op
    bounds = [_date_value(v, target, context) for v in cond.values]
    if not context.time_precision:
        days = [b.date() for b in bounds]

        def day_of(f: Mapping[str, Any]) -> date | None:
            parsed = parse_datetime(f.get(ref))
            return parsed.date() if parsed is not None else None

        return _ordered(op, day_of, days)

    def moment_of(f: Mapping[str, Any]) -> datetime | None:
        return parse_datetime(f.get(ref))

    return _ordered(op, moment_of, bounds)


def _ordered(op: str, get: Callable[[Mapping[str, Any]], Any], values: Sequence[Any]) -> Predicate:
    if op in ("in", "notin"):
        wanted = frozenset(values)
        inside: Predicate = lambda f: get(f) in wanted  # noqa: E731
        return inside if op == "in" else lambda f: not inside(f)
    value = values[0]
    if op == "=":
        return lambda f: get(f) == value
    if op == "<>":
        return lambda f: get(f) != value
    compare = _ORDERING[op]

    def test(f: Mapping[str, Any]) -> bool:
        current = get(f)
        return current is not None and compare(current, value)

    return test


@lru_cache(maxsize=262144)
def _parse_cached(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string, or ``None`` if it is not one."""
    return _parse_cached(value) if isinstance(value, str) else None


def _date_value(value: Value, target: Field, context: Context) -> datetime:
    if value.kind == "macro":
        if value.text != "today":
            raise _bad_macro(value, target)
        midnight = context.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + timedelta(days=value.offset)
    if value.kind != "string":
        raise WiqlError(
            f"TF51006: Expecting a date for field [{target.ref}]. "
            f"The error is caused by «{value.source}»."
        )
    parsed = parse_datetime(value.text) if _ISO_DATE.match(value.text.strip()) else None
    if parsed is None:
        raise WiqlError(
            f"TF51006: The value is not a valid date for field [{target.ref}]. "
            f"The error is caused by «{value.source}»."
        )
    has_time = (parsed.hour, parsed.minute, parsed.second, parsed.microsecond) != (0, 0, 0, 0)
    if has_time and not context.time_precision:
        # The service's own (code-less) message; the fix is timePrecision=true on the request.
        raise WiqlError(
            "You cannot supply a time with the date when running a query using date precision. "
            f"The error is caused by «{value.source}».",
            type_key="WorkItemTrackingQueryException",
        )
    return parsed


def _number(value: Value, target: Field) -> float:
    if value.kind in ("number", "string"):
        try:
            number = float(value.text)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    raise WiqlError(
        f"TF51006: Expecting a number for field [{target.ref}]. "
        f"The error is caused by «{value.source}»."
    )


def _text(value: Value, target: Field, context: Context) -> str:
    if value.kind == "macro":
        if value.text == "project":
            if context.project is None:
                raise WiqlError(
                    "TF51011: The @project macro needs a project: post the query to "
                    "{project}/_apis/wit/wiql. The error is caused by «@project»."
                )
            return context.project
        if value.text == "me" and target.kind == "identity":
            return context.me[0] if context.me else ""
        raise _bad_macro(value, target)
    return value.text


def _path(value: Value, target: Field, context: Context) -> str:
    path = _text(value, target, context).strip().strip("\\")
    if context.path_exists is not None and not context.path_exists(target.ref, path):
        noun = "area" if target.ref == "System.AreaPath" else "iteration"
        raise WiqlError(
            f"TF51011: The specified {noun} path does not exist. "
            f"The error is caused by «{value.source}»."
        )
    return path.casefold()


def _bad_macro(value: Value, target: Field) -> WiqlError:
    known = "@project, @Me, @Today"
    return WiqlError(
        f"TF51006: The macro @{value.text} cannot be used with field [{target.ref}] in the "
        f"linesight sandbox (supported: {known}). The error is caused by «{value.source}»."
    )


def _sort_key(entry: Field) -> Callable[[Mapping[str, Any]], Any]:
    ref = entry.ref
    if entry.kind in ("integer", "double"):
        return lambda f: f[ref]
    if entry.kind == "dateTime":
        return lambda f: parse_datetime(f[ref]) or datetime.min.replace(tzinfo=UTC)
    if entry.kind == "identity":
        return lambda f: sorted(_identity_names(f[ref]))[:1]
    return lambda f: _folded(f[ref])
