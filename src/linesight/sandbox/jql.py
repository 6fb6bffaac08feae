"""The JQL subset the sandbox understands: a parser, and a compiler to a fast predicate.

Supported, as Jira spells it (keywords and field names are case-insensitive)::

    project = PAY            project in (PAY, OPS)         issuetype = Epic / type in (...)
    status = "In Progress"   statusCategory != Done        statusCategory in (new, indeterminate)
    labels = kr-KR1.1        labels in (a, b)              labels is EMPTY / is not EMPTY
    key = PAY-12             key in (PAY-1, PAY-2)         id > 10123   key >= PAY-100
    updated >= "2026-11-20 10:00"    created < "2026/11/20"    updated >= -5m    resolved is EMPTY
    updated >= startOfDay(-1)        updated <= now()
    parent = PAY-1           "Epic Link" = PAY-1           cf[10014] in (PAY-1, PAY-2)
    summary ~ "checkout"     <any custom field by name or cf[N]> = / != / in / is EMPTY / ~
    a AND b, a OR b, NOT a, !a, (a OR b)
    ORDER BY updated DESC, key ASC        (id, key, created, updated, resolved)

Anything else is a :class:`JqlError` whose message reads like Jira's own.

Issues are seen through :class:`IndexedIssue`, the few values JQL needs pre-extracted from the
native issue JSON once (dates parsed, names lower-cased), so evaluating a query over 100,000
issues is a tight loop of attribute reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from linesight.sandbox.chain import chain

__all__ = [
    "CompiledQuery",
    "IndexedIssue",
    "JqlError",
    "JqlSchema",
    "SortKey",
    "compile_jql",
    "parse_jira_datetime",
]

Predicate = Callable[["IndexedIssue"], bool]

_OPERATORS_HINT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)
_CATEGORY_ALIASES = {
    "to do": "new",
    "new": "new",
    "2": "new",
    "in progress": "indeterminate",
    "indeterminate": "indeterminate",
    "4": "indeterminate",
    "done": "done",
    "complete": "done",
    "3": "done",
}
_DATE_FIELDS = {
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "resolved": "resolved",
    "resolutiondate": "resolved",
    "statuscategorychangeddate": "category_changed",
}
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


class JqlError(ValueError):
    """The query is not valid JQL (or not in the sandbox's subset). ``str(e)`` is Jira-like."""


def parse_jira_datetime(value: object) -> float | None:
    """Epoch seconds of a Jira timestamp such as ``2026-11-23T09:15:02.123+0000``.

    ``None`` for anything else: a dataset may hold garbage on purpose (to test clients).
    """
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


@dataclass(slots=True)
class IndexedIssue:
    """What JQL sees of one issue, extracted once from its native JSON."""

    id: int
    key: str
    project_key: str
    project_id: str
    project_name: str  # lower-case
    key_number: int
    issuetype: str  # lower-case name
    issuetype_id: str
    status: str  # lower-case name
    status_id: str
    category: str  # new / indeterminate / done
    labels: frozenset[str]  # lower-case
    updated: float | None
    created: float | None
    resolved: float | None
    category_changed: float | None
    parent_key: str | None
    parent_id: str | None
    summary: str  # lower-case
    fields: Mapping[str, Any]  # the native fields, for custom fields

    @classmethod
    def from_issue(cls, issue: Mapping[str, Any]) -> IndexedIssue:
        fields = issue["fields"]
        project = fields["project"]
        issuetype = fields["issuetype"]
        status = fields["status"]
        parent = fields.get("parent") or {}
        key = issue["key"]
        _, _, number = key.rpartition("-")
        return cls(
            id=int(issue["id"]),
            key=key,
            project_key=project["key"].upper(),
            project_id=str(project.get("id", "")),
            project_name=str(project.get("name", "")).lower(),
            key_number=int(number) if number.isdigit() else 0,
            issuetype=issuetype["name"].lower(),
            issuetype_id=str(issuetype.get("id", "")),
            status=str(status.get("name", "")).lower(),
            status_id=str(status.get("id", "")),
            category=status["statusCategory"]["key"],
            labels=frozenset(label.lower() for label in fields.get("labels") or ()),
            updated=parse_jira_datetime(fields.get("updated")),
            created=parse_jira_datetime(fields.get("created")),
            resolved=parse_jira_datetime(fields.get("resolutiondate")),
            category_changed=parse_jira_datetime(fields.get("statuscategorychangedate")),
            parent_key=parent.get("key"),
            parent_id=str(parent["id"]) if parent.get("id") is not None else None,
            summary=str(fields.get("summary") or "").lower(),
            fields=fields,
        )


@dataclass(frozen=True, slots=True)
class JqlSchema:
    """What a query may refer to: the site's projects, types, statuses, issues, custom fields.

    ``projects`` maps a lower-cased key, id or name to the project key; ``issue_keys`` maps a
    lower-cased key or an id to the issue key; ``custom_fields`` maps a lower-cased field name or
    ``cf[N]`` to the field id (``customfield_N``).
    """

    projects: Mapping[str, str]
    issuetypes: frozenset[str]  # lower-case names and ids
    statuses: frozenset[str]  # lower-case names and ids
    issue_keys: Mapping[str, str]
    custom_fields: Mapping[str, str]
    epic_link_field: str | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str  # id, key, created, updated, resolved
    descending: bool


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A query ready to run, with what every match must satisfy to narrow the scan.

    ``projects``: the projects every match is in; ``id_low`` / ``id_high``: inclusive bounds on
    every match's id; ``updated_from``: every match was updated at or after this (epoch
    seconds). They come from the conditions ANDed at the top of the query, so an index over
    them finds a superset of the matches; ``predicate`` still decides. ``condition`` is the
    query's text without its ORDER BY: queries that differ only in order match the same issues.
    """

    predicate: Predicate
    order: tuple[SortKey, ...]
    bounded: bool
    projects: frozenset[str] | None
    condition: str = ""
    id_low: int | None = None
    id_high: int | None = None
    updated_from: float | None = None

    def sort(self, issues: list[IndexedIssue]) -> list[IndexedIssue]:
        """``issues`` in the query's order (``id`` ascending when it names none)."""
        result = sorted(issues, key=_SORTERS["id"])
        for key in reversed(self.order):
            getter = _SORTERS[key.field]
            if key.field in ("id", "key"):
                result.sort(key=getter, reverse=key.descending)
            else:
                # Empty dates sort last in either direction, as Jira shows them.
                present = [i for i in result if getter(i) is not None]
                absent = [i for i in result if getter(i) is None]
                present.sort(key=getter, reverse=key.descending)
                result = present + absent
        return result


_SORTERS: dict[str, Callable[[IndexedIssue], Any]] = {
    "id": attrgetter("id"),
    "key": attrgetter("project_key", "key_number"),
    "created": attrgetter("created"),
    "updated": attrgetter("updated"),
    "resolved": attrgetter("resolved"),
}
_SORT_ALIASES = {
    "id": "id",
    "key": "key",
    "issuekey": "key",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
    "resolved": "resolved",
    "resolutiondate": "resolved",
}


# -- tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<cf>cf\[\d+\])
  | (?P<op>!=|!~|>=|<=|=|~|>|<)
  | (?P<punct>[(),!])
  | (?P<word>[^\s(),"'=!<>~]+)
    """,
    re.VERBOSE | re.IGNORECASE,
)
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", " ": " "}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string, word, op, punct, cf, end
    text: str
    pos: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise JqlError(
                f"Error in the JQL Query: The quoted string starting at character {pos + 1} "
                "has not been completed."
                if text[pos] in "\"'"
                else f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL "
                f"character. You must enclose it in a string. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or ""
        if kind != "space":
            raw = match.group()
            value = _unescape(raw, pos) if kind == "string" else raw
            tokens.append(_Token(kind, value, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unescape(raw: str, pos: int) -> str:
    body = raw[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        nxt = body[index + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            index += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2 : index + 6]):
            out.append(chr(int(body[index + 2 : index + 6], 16)))
            index += 6
        else:
            raise JqlError(
                f"Error in the JQL Query: '\\{nxt}' is an illegal JQL escape sequence. The valid "
                "escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX. "
                f"(line 1, character {pos + index + 2})"
            )
    return "".join(out)


# -- syntax tree --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Value:
    text: str
    kind: str  # "literal", "empty", "function"
    args: tuple[str, ...] = ()
    pos: int = 0


@dataclass(frozen=True, slots=True)
class _Clause:
    field: str
    op: str  # = != > >= < <= ~ !~ in "not in" is "is not"
    values: tuple[_Value, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class _Bool:
    op: str  # and / or
    parts: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Not:
    part: _Node


_Node = _Clause | _Bool | _Not


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.order_at = len(text)  # where ORDER BY starts, if it does

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str, token: _Token | None = None) -> JqlError:
        token = token or self.token
        got = "end of query" if token.kind == "end" else f"'{token.text}'"
        return JqlError(
            f"Error in the JQL Query: Expecting {expected} but got {got}. "
            f"(line 1, character {token.pos + 1})"
        )

    def parse(self) -> tuple[_Node | None, tuple[SortKey, ...]]:
        where: _Node | None = None
        if self.token.kind != "end" and not self.token.is_word("order"):
            where = self.parse_or()
        order = self.parse_order()
        if self.token.kind != "end":
            raise self.fail("either 'OR' or 'AND'" if where is not None else "a field name")
        return where, order

    def parse_or(self) -> _Node:
        parts = [self.parse_and()]
        while self.token.is_word("or"):
            self.advance()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else _Bool("or", tuple(parts))

    def parse_and(self) -> _Node:
        parts = [self.parse_not()]
        while self.token.is_word("and"):
            self.advance()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else _Bool("and", tuple(parts))

    def parse_not(self) -> _Node:
        if self.token.is_word("not") or (self.token.kind == "punct" and self.token.text == "!"):
            self.advance()
            return _Not(self.parse_not())
        if self.token.kind == "punct" and self.token.text == "(":
            self.advance()
            node = self.parse_or()
            if not (self.token.kind == "punct" and self.token.text == ")"):
                raise self.fail("')'")
            self.advance()
            return node
        return self.parse_clause()

    def parse_clause(self) -> _Clause:
        token = self.token
        if token.kind not in ("word", "string", "cf") or (
            token.kind == "word" and token.text.lower() in _KEYWORDS
        ):
            raise self.fail("a field name")
        self.advance()
        name = token.text.lower()
        op_token = self.token
        if op_token.kind == "op":
            self.advance()
            op = op_token.text
            if self.token.is_word("empty", "null") and op in ("=", "!="):
                self.advance()
                return _Clause(name, "is" if op == "=" else "is not", (), token.pos)
            return _Clause(name, op, (self.parse_value(),), token.pos)
        if op_token.is_word("in"):
            self.advance()
            return _Clause(name, "in", self.parse_list(), token.pos)
        if op_token.is_word("not") and self.tokens[self.index + 1].is_word("in"):
            self.index += 2
            return _Clause(name, "not in", self.parse_list(), token.pos)
        if op_token.is_word("is"):
            self.advance()
            op = "is"
            if self.token.is_word("not"):
                self.advance()
                op = "is not"
            if not self.token.is_word("empty", "null"):
                raise self.fail("'EMPTY' or 'NULL'")
            self.advance()
            return _Clause(name, op, (), token.pos)
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got "
            f"{'end of query' if op_token.kind == 'end' else repr(op_token.text)}. "
            f"{_OPERATORS_HINT} (line 1, character {op_token.pos + 1})"
        )

    def parse_list(self) -> tuple[_Value, ...]:
        if not (self.token.kind == "punct" and self.token.text == "("):
            raise self.fail("'('")
        self.advance()
        values = [self.parse_value()]
        while self.token.kind == "punct" and self.token.text == ",":
            self.advance()
            values.append(self.parse_value())
        if not (self.token.kind == "punct" and self.token.text == ")"):
            raise self.fail("')' or ','")
        self.advance()
        return tuple(values)

    def parse_value(self) -> _Value:
        token = self.token
        if token.kind == "string":
            self.advance()
            return _Value(token.text, "literal", pos=token.pos)
        if token.kind != "word" or token.is_word("and", "or", "not", "order", "in", "is"):
            raise self.fail("either a value, list or function")
        self.advance()
        if token.is_word("empty", "null"):
            return _Value(token.text, "empty", pos=token.pos)
        if self.token.kind == "punct" and self.token.text == "(":
            self.advance()
            args: list[str] = []
            while not (self.token.kind == "punct" and self.token.text == ")"):
                if self.token.kind not in ("word", "string"):
                    raise self.fail("a function argument or ')'")
                args.append(self.advance().text)
                if self.token.kind == "punct" and self.token.text == ",":
                    self.advance()
            self.advance()
            return _Value(token.text, "function", tuple(args), token.pos)
        return _Value(token.text, "literal", pos=token.pos)

    def parse_order(self) -> tuple[SortKey, ...]:
        if not self.token.is_word("order"):
            return ()
        self.order_at = self.advance().pos
        if not self.token.is_word("by"):
            raise self.fail("'by'")
        self.advance()
        keys: list[SortKey] = []
        while True:
            token = self.token
            if token.kind not in ("word", "string", "cf"):
                raise self.fail("a field name")
            self.advance()
            canonical = _SORT_ALIASES.get(token.text.lower())
            if canonical is None:
                raise JqlError(f"Not able to sort using field '{token.text}'.")
            descending = False
            if self.token.is_word("asc", "desc"):
                descending = self.advance().text.lower() == "desc"
            keys.append(SortKey(canonical, descending))
            if not (self.token.kind == "punct" and self.token.text == ","):
                return tuple(keys)
            self.advance()


# -- compiling ----------------------------------------------------------------------------------


def compile_jql(text: str, schema: JqlSchema) -> CompiledQuery:
    """Parse and compile ``text``; raise :class:`JqlError` with a Jira-like message."""
    parser = _Parser(text)
    where, order = parser.parse()
    condition = text[: parser.order_at].strip()
    compiler = _Compiler(schema)
    if where is None:
        return CompiledQuery(lambda _issue: True, order, bounded=False, projects=None)
    predicate = compiler.node(where)
    id_low: int | None = None
    id_high: int | None = None
    updated_from: float | None = None
    for clause in _conjuncts(where):
        if clause.op not in ("=", ">", ">=", "<", "<=") or len(clause.values) != 1:
            continue
        value = clause.values[0]
        if clause.field == "id" and value.kind == "literal" and value.text.isdigit():
            number = int(value.text)
            low = {"=": number, ">": number + 1, ">=": number}.get(clause.op)
            high = {"=": number, "<": number - 1, "<=": number}.get(clause.op)
            if low is not None:
                id_low = low if id_low is None else max(id_low, low)
            if high is not None:
                id_high = high if id_high is None else min(id_high, high)
        elif _DATE_FIELDS.get(clause.field) == "updated" and clause.op in ("=", ">", ">="):
            # compiled above already, so the value is valid; same compiler, same "now"
            when = compiler._when(value, clause.field)
            updated_from = when if updated_from is None else max(updated_from, when)
    return CompiledQuery(
        predicate,
        order,
        bounded=True,
        projects=_projects_of(where, schema),
        condition=condition,
        id_low=id_low,
        id_high=id_high,
        updated_from=updated_from,
    )


def _conjuncts(node: _Node) -> Iterable[_Clause]:
    """The clauses every match must satisfy: those ANDed at the top, through brackets."""
    if isinstance(node, _Clause):
        yield node
    elif isinstance(node, _Bool) and node.op == "and":
        for part in node.parts:
            yield from _conjuncts(part)


def _projects_of(node: _Node, schema: JqlSchema) -> frozenset[str] | None:
    """The projects every match must be in, if the query says so (to skip the others)."""
    if isinstance(node, _Clause):
        if node.field == "project" and node.op in ("=", "in"):
            return frozenset(schema.projects[v.text.lower()] for v in node.values)
        return None
    if isinstance(node, _Not):
        return None
    found = [_projects_of(part, schema) for part in node.parts]
    known = [f for f in found if f is not None]
    if node.op == "and":
        return frozenset.intersection(*known) if known else None
    return frozenset.union(*known) if len(known) == len(found) else None


class _Compiler:
    def __init__(self, schema: JqlSchema) -> None:
        self.schema = schema
        self.now = schema.now()

    def node(self, node: _Node) -> Predicate:
        if isinstance(node, _Clause):
            return self.clause(node)
        if isinstance(node, _Not):
            inner = self.node(node.part)
            return lambda issue: not inner(issue)
        parts = [self.node(part) for part in node.parts]
        # chained closures, not all()/any() over a generator: a query runs over every issue
        return chain(parts, node.op == "and")

    def clause(self, clause: _Clause) -> Predicate:
        name = clause.field
        for value in clause.values:
            if value.kind == "function" and name not in _DATE_FIELDS:
                raise JqlError(
                    f"Unable to find JQL function '{value.text}({', '.join(value.args)})'."
                )
        if name == "project":
            return self.project(clause)
        if name in ("issuetype", "type"):
            return self.named(
                clause, "issuetype", self.schema.issuetypes, "issuetype", "issuetype_id"
            )
        if name == "status":
            return self.named(clause, "status", self.schema.statuses, "status", "status_id")
        if name == "statuscategory":
            return self.category(clause)
        if name == "labels":
            return self.labels(clause)
        if name in ("key", "issuekey", "id"):
            return self.key(clause)
        if name == "parent":
            return self.parent(clause)
        if name in _DATE_FIELDS:
            return self.date(clause, _DATE_FIELDS[name])
        if name == "summary":
            return self.text(clause)
        field_id = self.schema.custom_fields.get(name)
        if field_id is not None:
            return self.custom(clause, field_id)
        raise JqlError(
            f"Field '{clause.field}' does not exist or you do not have permission to view it."
        )

    # each family of fields ------------------------------------------------------------------

    def _literals(self, clause: _Clause) -> list[str]:
        return [v.text for v in clause.values if v.kind == "literal"]

    def _require_ops(self, clause: _Clause, allowed: Iterable[str], shown: str) -> None:
        if clause.op not in allowed:
            raise JqlError(
                f"The operator '{clause.op.upper()}' is not supported by the '{shown}' field."
            )

    def _set_ops(
        self,
        clause: _Clause,
        shown: str,
        matches: Callable[[IndexedIssue, frozenset[str]], bool],
        wanted: frozenset[str],
    ) -> Predicate:
        """= / != / in / not in / is [not] empty for a field that always holds one value."""
        self._require_ops(clause, ("=", "!=", "in", "not in", "is", "is not"), shown)
        if clause.op in ("=", "in"):
            return lambda issue: matches(issue, wanted)
        if clause.op in ("!=", "not in"):
            return lambda issue: not matches(issue, wanted)
        result = clause.op == "is not"  # project, type, status and category are never empty
        return lambda _issue: result

    def project(self, clause: _Clause) -> Predicate:
        keys = set()
        for value in self._literals(clause):
            key = self.schema.projects.get(value.lower())
            if key is None:
                raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
            keys.add(key)
        wanted = frozenset(keys)
        return self._set_ops(clause, "project", lambda issue, w: issue.project_key in w, wanted)

    def named(
        self, clause: _Clause, shown: str, known: frozenset[str], name_attr: str, id_attr: str
    ) -> Predicate:
        values = [v.lower() for v in self._literals(clause)]
        for value in values:
            if value not in known:
                raise JqlError(f"The value '{value}' does not exist for the field '{shown}'.")
        wanted = frozenset(values)

        def matches(issue: IndexedIssue, w: frozenset[str]) -> bool:
            return getattr(issue, name_attr) in w or getattr(issue, id_attr) in w

        return self._set_ops(clause, shown, matches, wanted)

    def category(self, clause: _Clause) -> Predicate:
        keys = set()
        for value in self._literals(clause):
            key = _CATEGORY_ALIASES.get(value.lower())
            if key is None:
                raise JqlError(
                    f"The value '{value}' does not exist for the field 'statusCategory'."
                )
            keys.add(key)
        return self._set_ops(
            clause,
            "statusCategory",
            lambda issue, w: issue.category in w,
            frozenset(keys),
        )

    def labels(self, clause: _Clause) -> Predicate:
        self._require_ops(clause, ("=", "!=", "in", "not in", "is", "is not"), "labels")
        wanted = frozenset(v.lower() for v in self._literals(clause))
        op = clause.op
        if op in ("=", "in"):
            return lambda issue: not issue.labels.isdisjoint(wanted)
        if op in ("!=", "not in"):
            # Jira's negative operators never match an empty field.
            return lambda issue: bool(issue.labels) and issue.labels.isdisjoint(wanted)
        if op == "is":
            return lambda issue: not issue.labels
        return lambda issue: bool(issue.labels)

    def _issue_ref(self, value: str, shown: str) -> str:
        key = self.schema.issue_keys.get(value.lower())
        if key is None:
            if value.isdigit():
                return value  # an id that does not exist just matches nothing
            raise JqlError(f"An issue with key '{value}' does not exist for field '{shown}'.")
        return key

    def key(self, clause: _Clause) -> Predicate:
        shown = "key" if clause.field != "id" else "id"
        op = clause.op
        self._require_ops(
            clause, ("=", "!=", "in", "not in", ">", ">=", "<", "<=", "is", "is not"), shown
        )
        if op in ("is", "is not"):
            result = op == "is not"
            return lambda _issue: result
        values = self._literals(clause)
        if op in ("=", "!=", "in", "not in"):
            refs = [self._issue_ref(v, shown) for v in values]
            ids = frozenset(int(r) for r in refs if r.isdigit())
            keys = frozenset(r for r in refs if not r.isdigit())
            positive = op in ("=", "in")
            return lambda issue: (issue.key in keys or issue.id in ids) == positive
        value = values[0]
        compare = _COMPARE[op]
        if value.isdigit():
            number = int(value)
            return lambda issue: compare(issue.id, number)
        project, _, digits = value.upper().rpartition("-")
        if not digits.isdigit() or project.lower() not in self.schema.projects:
            raise JqlError(f"The issue key '{value}' for field '{shown}' is invalid.")
        number = int(digits)
        return lambda issue: issue.project_key == project and compare(issue.key_number, number)

    def parent(self, clause: _Clause) -> Predicate:
        self._require_ops(clause, ("=", "!=", "in", "not in", "is", "is not"), "parent")
        refs = {v.upper() for v in self._literals(clause)}
        if clause.op in ("is", "is not"):
            want_empty = clause.op == "is"
            return lambda issue: (issue.parent_key is None) == want_empty
        positive = clause.op in ("=", "in")

        def matches(issue: IndexedIssue) -> bool:
            if issue.parent_key is None:
                return False
            return (issue.parent_key.upper() in refs or issue.parent_id in refs) == positive

        return matches

    def date(self, clause: _Clause, attr: str) -> Predicate:
        op = clause.op
        self._require_ops(clause, ("=", "!=", ">", ">=", "<", "<=", "is", "is not"), clause.field)
        if op in ("is", "is not"):
            want_empty = op == "is"
            return lambda issue: (getattr(issue, attr) is None) == want_empty
        when = self._when(clause.values[0], clause.field)
        compare = _COMPARE[op]

        def matches(issue: IndexedIssue) -> bool:
            value = getattr(issue, attr)
            return value is not None and compare(value, when)

        return matches

    def _when(self, value: _Value, shown: str) -> float:
        if value.kind == "function":
            return self._date_function(value)
        text = value.text.strip()
        for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
            except ValueError:
                continue
        offset = _relative(text)
        if offset is not None:
            return (self.now + offset).timestamp()
        if text.isdigit() and len(text) >= 10:
            return int(text) / 1000.0  # epoch milliseconds, as Jira accepts
        raise JqlError(
            f"Date value '{value.text}' for field '{shown}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )

    def _date_function(self, value: _Value) -> float:
        name = value.text.lower()
        if name == "now" and not value.args:
            return self.now.timestamp()
        if name in ("startofday", "endofday") and len(value.args) <= 1:
            day = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
            if value.args:
                arg = value.args[0]
                offset = _relative(arg if arg[-1:].isalpha() else arg + "d")
                if offset is None:
                    raise JqlError(f"Invalid increment '{arg}' for function '{value.text}'.")
                day += offset
            if name == "endofday":
                day += timedelta(days=1) - timedelta(milliseconds=1)
            return day.timestamp()
        raise JqlError(f"Unable to find JQL function '{value.text}({', '.join(value.args)})'.")

    def text(self, clause: _Clause) -> Predicate:
        self._require_ops(clause, ("~", "!~", "is", "is not"), clause.field)
        if clause.op in ("is", "is not"):
            want_empty = clause.op == "is"
            return lambda issue: (not issue.summary) == want_empty
        needle = clause.values[0].text.lower().strip("*")
        positive = clause.op == "~"
        return lambda issue: (needle in issue.summary) == positive

    def custom(self, clause: _Clause, field_id: str) -> Predicate:
        op = clause.op
        values = self._literals(clause)
        if field_id == self.schema.epic_link_field:
            # Epic Link accepts the epic's id or key; the field stores its key.
            values = [self.schema.issue_keys.get(v.lower(), v) for v in values]
        wanted = frozenset(v.lower() for v in values)
        if op in ("=", "in"):
            return lambda issue: not _custom_values(issue.fields.get(field_id)).isdisjoint(wanted)
        if op in ("!=", "not in"):

            def negative(issue: IndexedIssue) -> bool:
                present = _custom_values(issue.fields.get(field_id))
                return bool(present) and present.isdisjoint(wanted)

            return negative
        if op in ("is", "is not"):
            want_empty = op == "is"
            return lambda issue: (not _custom_values(issue.fields.get(field_id))) == want_empty
        if op in ("~", "!~"):
            needle = values[0].lower()
            positive = op == "~"
            return lambda issue: (
                any(needle in v for v in _custom_values(issue.fields.get(field_id))) == positive
            )
        try:
            number = float(values[0])
        except ValueError:
            raise JqlError(
                f"The operator '{op}' is not supported by the '{clause.field}' field."
            ) from None
        compare = _COMPARE[op]

        def ranged(issue: IndexedIssue) -> bool:
            raw = issue.fields.get(field_id)
            return (
                isinstance(raw, int | float) and not isinstance(raw, bool) and compare(raw, number)
            )

        return ranged


def _custom_values(raw: Any) -> frozenset[str]:
    """The lower-cased values a custom field holds (options, users, keys, plain values)."""
    if raw is None or raw == "" or raw == []:
        return frozenset()
    items = raw if isinstance(raw, list) else [raw]
    out: set[str] = set()
    for item in items:
        if isinstance(item, dict):
            for name in ("value", "name", "key", "accountId", "displayName", "id"):
                if item.get(name) is not None:
                    out.add(str(item[name]).lower())
        elif isinstance(item, float) and item.is_integer():
            out.add(str(int(item)))
        elif item is not None:
            out.add(str(item).lower())
    return frozenset(out)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_PERIOD = re.compile(r"([+-]?)(\d+)([wdhm])")
_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}


def _relative(text: str) -> timedelta | None:
    """``-5m``, ``4w 2d``, ``+1h`` as a signed period; ``None`` if ``text`` is not one."""
    compact = text.replace(" ", "")
    if not compact or _PERIOD.sub("", compact):
        return None
    total = timedelta()
    sign = 1
    for match in _PERIOD.finditer(compact):
        if match.group(1):
            sign = -1 if match.group(1) == "-" else 1
        total += sign * int(match.group(2)) * _UNITS[match.group(3)]
    return total
