"""Bad settings: whatever is in ``linesight.toml``, ``.env`` or the ``LINESIGHT_*`` environment,
``load_settings`` either builds the settings or raises :class:`ConfigError` — never another
exception — and the CLI turns that into exit 2 without a traceback.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linesight.errors import ConfigError
from linesight.settings import Settings, load_settings
from tests.reliability.conftest import cli, cli_env, fuzz_examples

FUZZ = settings(
    max_examples=fuzz_examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

VALID: dict[str, Any] = {
    "okrs": "okrs.yaml",
    "state_dir": ".linesight",
    "sources": [
        {
            "name": "pay",
            "kind": "jira",
            "url": "https://example.atlassian.net",
            "user": "me@example.com",
            "token_env": "JIRA_TOKEN",
            "projects": ["PAY"],
            "kr_field": "customfield_10100",
        },
        {
            "name": "fabrikam",
            "kind": "azure-devops",
            "url": "https://dev.azure.com/fabrikam",
            "project": "Fabrikam",
            "token_env": "ADO_TOKEN",
            "area_paths": ["Fabrikam\\Checkout"],
        },
    ],
    "links": {"query": False},
    "analysis": {"wip_level": "leaf", "thresholds": {"low_alignment": 0.5}},
    "writeback": {"orphan_label": "linesight-orphan", "max_writes": 100},
    "output": {"report_formats": ["html"], "export_formats": ["graphml"]},
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
        )
    return json.dumps(str(value))


def to_toml(data: dict[str, Any]) -> str:
    """A tiny TOML writer: top-level keys, then ``[[sources]]`` tables (enough for settings)."""
    lines = []
    for key, value in data.items():
        if key == "sources" and isinstance(value, list) and all(isinstance(v, dict) for v in value):
            continue
        lines.append(f"{json.dumps(key)} = {_toml_value(value)}")
    sources = data.get("sources")
    if isinstance(sources, list) and all(isinstance(v, dict) for v in sources):
        for source in sources:
            lines.append("\n[[sources]]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in source.items()]
    return "\n".join(lines) + "\n"


scalars = (
    st.none().map(lambda _: "")
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.just("y" * 50_000)
    | st.just("https://user:pw@example.com")
    | st.just("ftp://x")
    | st.just("‮🚀\x7f")
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The valid settings with one value replaced, removed, or a key added."""
    data = json.loads(json.dumps(VALID))
    targets: list[tuple[Any, Any]] = [(data, k) for k in data]
    targets += [(s, k) for s in data["sources"] for k in s]
    targets += [
        (data[sec], k) for sec in ("links", "analysis", "writeback", "output") for k in data[sec]
    ]
    parent, key = draw(st.sampled_from(targets))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[key] = draw(values)
    elif action == "remove":
        del parent[key]
    else:
        parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
    return to_toml(data)


fragments = st.sampled_from(
    [
        "[[sources]]\n",
        "[writeback]\n",
        "[writeback\n",
        'name = "x"\n',
        'kind = "jira"\n',
        'kind = "gitlab"\n',
        'url = "http://127.0.0.1"\n',
        'token = "secret"\n',
        "projects = [1, 2]\n",
        "max_writes = -1\n",
        "concurrency = 1000\n",
        "a = \n",
        'b = """\n',
        "c = 1979-05-27T07:32:00Z\n",
        "d = 0x7fffffffffffffffff\n",
        "= 1\n",
        "\x00",
        "\ufeff",
        "e.f.g = 1\n",
        'sources = "none"\n',
    ]
)
tomlish = st.lists(fragments | st.text(max_size=15), max_size=20).map("".join)


def _load(raw: bytes, environ: dict[str, str] | None = None) -> Settings | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "linesight.toml"
        path.write_bytes(raw)
        try:
            return load_settings(path, environ=environ or {}, dotenv=None)
        except ConfigError as exc:
            message = str(exc)
            assert message
            assert "Traceback" not in message
            return None


def test_the_valid_settings_are_valid() -> None:
    loaded = _load(to_toml(VALID).encode(), {"JIRA_TOKEN": "t"})
    assert loaded is not None
    assert [s.name for s in loaded.sources] == ["pay", "fabrikam"]


@FUZZ
@given(text=mutated())
def test_a_valid_file_with_one_thing_wrong(text: str) -> None:
    _load(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(text=tomlish)
@example(text='[[sources]]\nname = "x"\nkind = "jira"\ntoken = "secret"\n')
@example(text="d = 0x7fffffffffffffffff\n")
@example(text="sources = true\n")
def test_tomlish_text(text: str) -> None:
    _load(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(raw=st.binary(max_size=100))
@example(raw=b'okrs = "\xff\xfe"\n')
def test_any_bytes(raw: bytes) -> None:
    _load(raw)


@FUZZ
@given(
    name=st.sampled_from(
        [
            "LINESIGHT_SOURCES",
            "LINESIGHT_WRITEBACK__MAX_WRITES",
            "LINESIGHT_WRITEBACK",
            "LINESIGHT_OUTPUT__REPORT_FORMATS",
            "LINESIGHT_ANALYSIS__THRESHOLDS",
            "LINESIGHT_STATE_DIR",
            "LINESIGHT_LOG_FORMAT",
            "LINESIGHT_NOPE",
        ]
    ),
    value=st.text(max_size=30) | st.sampled_from(["[", "{", "[1]", '{"a": 1}', "null", "1e999"]),
)
@example(name="LINESIGHT_SOURCES", value="[not json")
@example(name="LINESIGHT_WRITEBACK", value="{")
def test_the_environment(name: str, value: str) -> None:
    _load(to_toml(VALID).encode(), {name: value.replace("\x00", "")})


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        ('[[sources]]\nname = "x"\nkind = "gitlab"\nurl = "http://h"\n', {}),
        ("[writeback\n", {}),
        ("okrs = 1\n", {}),
        ("", {"LINESIGHT_SOURCES": "[not json"}),
        ("", {"LINESIGHT_WRITEBACK__MAX_WRITES": "lots"}),
    ],
)
def test_the_cli_says_what_is_wrong_without_a_traceback(
    tmp_path: Path, text: str, environ: dict[str, str]
) -> None:
    config = tmp_path / "linesight.toml"
    config.write_text(text, encoding="utf-8")
    result = cli("analyze", "--config", config, cwd=tmp_path, env=cli_env(**environ))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr
