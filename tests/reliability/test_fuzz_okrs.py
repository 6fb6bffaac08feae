"""Bad OKR files: whatever is in the file, linesight either reads it or says what is wrong and
where (``<file>:<line>: ...``) — never another exception, never a traceback.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linesight.errors import OkrFileError
from linesight.okrs import OkrFile, load_okrs, parse_okrs
from tests.reliability.conftest import cli, cli_env, fuzz_examples

VALID = """\
cycle: 2026-Q4
objectives:
  - id: O1
    title: Make checkout effortless
    owner: Payments
    wip_limit: 12
    key_results:
      - id: KR1.1
        title: Raise checkout conversion from 2.1% to 3.0%
        baseline: 2.1
        target: 3.0
        current: 2.4
        work:
          - jira:PAY-12
          - jql: project = PAY AND labels = checkout
          - wiql: "[System.AreaPath] UNDER 'Fabrikam'"
  - id: O2
    title: Win on mobile
    cycle: 2026-Q3
    status: closed
    key_results: []
key_results:
  - id: KR2.1
    objective: O2
    title: Grow weekly active users
"""

FUZZ = settings(
    max_examples=fuzz_examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# anything YAML can hold, including what OKR files never should
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.dates()
    | st.just("x" * 20_000)
    | st.just("🚀 ∑ ‮ \u200b \x85 ok")
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

# fragments of YAML syntax, glued at random: the broken files people and editors make
fragments = st.sampled_from(
    [
        "cycle: 2026-Q4\n",
        "objectives:\n",
        "  - id: O1\n",
        "    title: x\n",
        "    key_results:\n",
        "      - id: KR1.1\n",
        "        work: [jira:PAY-1, {jql: a}]\n",
        "        baseline: 1\n        target: 1\n",
        "  - ",
        "- ",
        ": ",
        "? [a, b]\n: c\n",
        "&a [1, 2]\n",
        "*a\n",
        "*missing\n",
        "!!python/object:os.system {}\n",
        "!!binary aGVsbG8=\n",
        "!custom x\n",
        "'unterminated\n",
        '"\\x"\n',
        "{a: [}\n",
        "\t",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "\x00",
        "\ufeff",
        "\x85",
        "\u2028",
        "key: 1\nkey: 2\n",
        "~: null\n",
        "1: 2\n",
        ".nan: .inf\n",
        "2026-01-01: x\n",
        "<<: {id: O9}\n",
        "wip_limit: -3\n",
        "wip_limit: 1.5\n",
        "title: " + "é" * 500 + "\n",
    ]
)
yamlish = st.lists(fragments | st.text(max_size=20), max_size=25).map("".join)


def _mutations() -> st.SearchStrategy[str]:
    """The valid file with one value somewhere replaced by something of the wrong kind."""
    base = yaml.safe_load(VALID)

    def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [prefix]
        if isinstance(node, dict):
            for key, value in node.items():
                found += paths(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found += paths(value, (*prefix, index))
        return found

    every = paths(base)

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        data = yaml.safe_load(VALID)
        path = draw(st.sampled_from(every))
        replacement = draw(values)
        if not path:
            data = replacement
        else:
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = replacement
        return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)

    return mutate()


def _check(name: str, text: str) -> OkrFile | None:
    try:
        return parse_okrs(text, name=name)
    except OkrFileError as exc:
        _assert_located(name, str(exc))
        return None


def _assert_located(name: str, message: str) -> None:
    assert message, "an empty error message"
    located = re.compile(re.escape(name) + r":[0-9]+: \S")
    for line in message.splitlines():
        assert located.match(line), f"not '<file>:<line>: ...': {line[:200]!r}"


def test_the_valid_file_is_valid() -> None:
    okrs = parse_okrs(VALID)
    assert [o.id for o in okrs.objectives] == ["O1", "O2"]
    assert [kr.id for kr in okrs.objectives[1].key_results] == ["KR2.1"]


@FUZZ
@given(text=st.text(max_size=300))
@example(text="\x00")
@example(text="cycle: 2026-Q4\nobjectives: []\n\x07")
@example(text="\ufeffcycle: x\n")
def test_random_text(text: str) -> None:
    _check("okrs.yaml", text)


@FUZZ
@given(text=yamlish)
@example(text="? [a, b]\n: c\n")
@example(text="cycle: !!python/object:os.system {}\nobjectives: []\n")
@example(text="objectives: *missing\n")
@example(text="cycle: 2026-Q4\nobjectives:\n  - {id: O1, title: x, ? [1]: 2}\n")
def test_yamlish_text(text: str) -> None:
    _check("okrs.yaml", text)


@FUZZ
@given(data=values)
def test_random_structures(data: Any) -> None:
    _check("okrs.yaml", yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(text=_mutations())
def test_a_valid_file_with_one_wrong_value(text: str) -> None:
    _check("okrs.yaml", text)


@FUZZ
@given(raw=st.binary(max_size=200) | yamlish.map(lambda t: t.encode("utf-8", "surrogatepass")))
@example(raw=b"cycle: 2026-Q4\n\xff\xfeobjectives: []\n")
@example(raw=b"\xef\xbb\xbfcycle: 2026-Q4\nobjectives: []\n")
def test_load_okrs_reads_any_bytes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "okrs.yaml"
        path.write_bytes(raw)
        try:
            load_okrs(path)
        except OkrFileError as exc:
            _assert_located(str(path), str(exc))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,  # deeper than Python's recursion limit
        "a: &a [x]\n"
        + "".join(f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}]\n" for i in range(50)),
        "lol: &l0 [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)),
    ],
    ids=["deep-nesting", "alias-chain", "billion-laughs"],
)
def test_hostile_yaml(text: str) -> None:
    assert _check("okrs.yaml", text) is None


@pytest.mark.parametrize(
    "text",
    [
        "cycle: 2026-Q4\nobjectives:\n  - id: O1\n    title: x\n    wip_limit: many\n",
        "cycle: [2026]\nobjectives: {}\n",
        "cycle: 2026-Q4\nobjectives:\n  - id: O1\n    title: x\n    key_results:\n"
        "      - {id: KR1, title: y, baseline: 1, target: 1}\n",
        "cycle: !!python/object:os.system {}\nobjectives: []\n",
        "objectives: [\n",
        "\x00",
    ],
)
def test_the_cli_says_what_is_wrong_without_a_traceback(tmp_path: Path, text: str) -> None:
    okrs = tmp_path / "okrs.yaml"
    okrs.write_text(text, encoding="utf-8")
    (tmp_path / "linesight.toml").write_text(
        f'okrs = "{okrs}"\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8"
    )
    result = cli("analyze", "--config", tmp_path / "linesight.toml", cwd=tmp_path, env=cli_env())
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{okrs}:" in result.stderr
