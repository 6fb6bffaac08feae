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

The package, by stage: :mod:`.lexer` (text -> tokens), :mod:`.parser` (tokens -> a
:class:`.query.Query`), :mod:`.fields` (the field registry), :mod:`.values` (literals and macros
against a :class:`Context`), :mod:`.predicates` (one condition -> a filter) and :mod:`.plan`
(a whole query -> a :class:`Plan`).
"""

from __future__ import annotations

from linesight.sandbox.wiql.errors import WiqlError
from linesight.sandbox.wiql.fields import KNOWN_FIELDS, Field, FieldRegistry
from linesight.sandbox.wiql.parser import MAX_QUERY_LENGTH, parse
from linesight.sandbox.wiql.plan import Plan, compile_query
from linesight.sandbox.wiql.query import Query
from linesight.sandbox.wiql.values import Context, parse_datetime

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
