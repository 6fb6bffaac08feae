"""JQL quoting and the source scope: every untrusted value is a quoted literal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linesight.errors import ConfigError
from linesight.settings import JiraSource
from linesight_jira.jql import Scope, id_range, keys_in, quote, strip_order_by, updated_since


def source(**overrides: object) -> JiraSource:
    values: dict[str, object] = {"kind": "jira", "name": "pay", "url": "https://x.atlassian.net"}
    values.update(overrides)
    return JiraSource.model_validate(values)


def unquote(literal: str) -> str:
    """Jira's reading of a double-quoted literal (the inverse of quote)."""
    assert literal.startswith('"') and literal.endswith('"')
    escapes = {"n": "\n", "r": "\r", "t": "\t"}
    return re.sub(
        r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), literal[1:-1], flags=re.S
    )


def test_quote_escapes_quotes_and_backslashes() -> None:
    assert quote("PAY") == '"PAY"'
    assert quote('say "hi"') == '"say \\"hi\\""'
    assert quote("C:\\temp") == '"C:\\\\temp"'
    assert quote('x" OR project = SEC OR "') == '"x\\" OR project = SEC OR \\""'


@given(st.text())
def test_quote_round_trips_and_never_ends_the_literal_early(value: str) -> None:
    literal = quote(value)
    assert unquote(literal) == value
    # the only unescaped double quotes are the two delimiters
    body = re.sub(r"\\.", "", literal[1:-1], flags=re.S)
    assert '"' not in body and "\n" not in body


def test_scope_quotes_projects_types_and_brackets_extra_jql() -> None:
    scope = Scope.from_source(
        source(projects=("PAY", "SHOP"), issue_types=("Epic", "Story"), jql="labels = x OR a = b")
    )
    assert scope.clause == (
        'project in ("PAY", "SHOP") AND issuetype in ("Epic", "Story") AND (labels = x OR a = b)'
    )
    assert scope.query("updated >= -1d") == (
        'project in ("PAY", "SHOP") AND issuetype in ("Epic", "Story") AND (labels = x OR a = b)'
        " AND (updated >= -1d) ORDER BY id ASC"
    )


def test_scope_adds_okr_types_to_a_type_restriction() -> None:
    scope = Scope.from_source(
        source(
            projects=("PAY",),
            issue_types=("Epic",),
            objective_types=("Objective",),
            key_result_types=("Key Result", "Epic"),
        )
    )
    assert scope.issue_types == ("Epic", "Objective", "Key Result")


def test_scope_without_type_restriction_does_not_invent_one() -> None:
    scope = Scope.from_source(source(projects=("PAY",), objective_types=("Objective",)))
    assert scope.clause == 'project in ("PAY")'


def test_scope_refuses_order_by_in_extra_jql_but_not_inside_a_literal() -> None:
    with pytest.raises(ConfigError, match="remove the ORDER BY"):
        Scope.from_source(source(jql="project = PAY ORDER BY key"))
    scope = Scope.from_source(source(jql='summary ~ "order by"'))
    assert scope.extra == 'summary ~ "order by"'


def test_strip_order_by_keeps_literals() -> None:
    assert strip_order_by("labels = a ORDER BY created DESC") == "labels = a"
    assert strip_order_by('summary ~ "x order by y"') == 'summary ~ "x order by y"'
    assert strip_order_by("  labels = a  ") == "labels = a"


def test_updated_since_floors_to_the_minute_in_the_accounts_zone() -> None:
    since = datetime(2026, 11, 20, 22, 59, 59, 999, tzinfo=UTC)
    assert updated_since(since) == 'updated >= "2026-11-20 22:59"'
    assert updated_since(since, ZoneInfo("Europe/Berlin")) == 'updated >= "2026-11-20 23:59"'
    assert updated_since(since, timezone(timedelta(hours=-5))) == 'updated >= "2026-11-20 17:59"'


def test_id_range_and_keys_are_numbers_and_literals() -> None:
    assert id_range(10, 20) == "id > 10 AND id <= 20"
    assert id_range(None, 20) == "id <= 20"
    assert id_range(5, None) == "id > 5"
    assert keys_in(["PAY-1", 'X"Y']) == 'key in ("PAY-1", "X\\"Y")'
