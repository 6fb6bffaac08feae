from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from linesight.cli import app

runner = CliRunner()
COMMANDS = [
    ["sync"],
    ["analyze"],
    ["report"],
    ["export"],
    ["plan"],
    ["apply"],
    ["run"],
    ["demo"],
    ["schema"],
    ["doctor"],
    ["config", "show"],
    ["sandbox", "serve"],
    ["sandbox", "generate"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_schema_okrs_prints_a_valid_schema_the_example_validates(repo: Path) -> None:
    result = runner.invoke(app, ["schema", "okrs"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load((repo / "config/okrs.yaml").read_text()), schema)


def test_bad_okr_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    okrs = tmp_path / "okrs.yaml"
    okrs.write_text("cycle: Q4\nobjectives:\n  - id: O1\n    title: x\n    wip_limit: many\n")
    settings = tmp_path / "linesight.toml"
    settings.write_text(f'okrs = "{okrs}"\n')
    # a real process: the console script, no traceback, exit 2
    proc = subprocess.run(
        [sys.executable, "-m", "linesight", "analyze", "-c", str(settings)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"{okrs}:5: objectives[0].wip_limit: must be a whole number" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_settings_file_exit_2(tmp_path: Path) -> None:
    settings = tmp_path / "linesight.toml"
    settings.write_text("[writeback]\nmax_writs = 1\n")
    result = runner.invoke(app, ["config", "show", "-c", str(settings)])
    assert result.exit_code == 2
    assert "writeback.max_writs: unknown setting" in result.output


def test_usage_error_exit_2() -> None:
    result = runner.invoke(app, ["analyze", "--format", "yaml"])
    assert result.exit_code == 2


def test_config_show_masks_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAY_TOKEN", "canary-config-show-token")
    settings = tmp_path / "linesight.toml"
    settings.write_text(
        '[[sources]]\nname = "pay"\nkind = "jira"\nurl = "https://x.atlassian.net"\n'
        'token_env = "PAY_TOKEN"\nprojects = ["PAY"]\n'
    )
    result = runner.invoke(app, ["config", "show", "-c", str(settings)])
    assert result.exit_code == 0, result.output
    assert "canary-config-show-token" not in result.output
    assert json.loads(result.output)["sources"][0]["token"] == "**********"


from tests.unit.test_okrs import VALID  # noqa: E402 - the shared valid OKR file

BAD_OKRS = [
    ("target: 3.0", "target: lots", ":11: objectives[0].key_results[0].target: must be a number"),
    ("baseline: 2.1", "baseline: 3.0", ":11: objectives[0].key_results[0].target: equals the"),
    ("owner: Payments", "ownr: Payments", ":5: objectives[0].ownr: unknown field"),
    ("id: O0", "id: O1", ":18: objectives[1].id: duplicate objective id 'O1'"),
    ("id: KR1.2", "id: KR1.1", ":23: key_results[0].id: duplicate key result id 'KR1.1'"),
    ("objective: O1", "objective: O7", ":24: key_results[0].objective: unknown objective 'O7'"),
    ("- jira:PAY-12", "- PAY12", ":13: objectives[0].key_results[0].work: 'PAY12' is not"),
    ("wip_limit: 12", "wip_limit: -1", ":6: objectives[0].wip_limit: must be 0 or more"),
    ("cycle: 2026-Q4", "cycle: [2026", ":2: invalid YAML"),
]
BAD_SETTINGS = [
    ("[writeback]\nmax_writs = 1\n", "writeback.max_writs: unknown setting"),
    ('[analysis]\nwip_level = "team"\n', "analysis.wip_level"),
    ('[[sources]]\nname = "x"\nkind = "gitlab"\nurl = "https://x"\n', "Input tag 'gitlab'"),
    ('[[sources]]\nname = "x"\nkind = "jira"\nurl = "https://x"\n', "needs 'projects' or 'jql'"),
    ("okrs = [", "invalid TOML"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD_OKRS, ids=[b[2] for b in BAD_OKRS])
def test_every_bad_okr_file_is_one_clear_line_and_exit_2(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    okrs = tmp_path / "okrs.yaml"
    okrs.write_text(VALID.replace(old, new, 1))
    settings = tmp_path / "linesight.toml"
    settings.write_text(f'okrs = "{okrs}"\nstate_dir = "{tmp_path / "state"}"\n')
    result = runner.invoke(app, ["analyze", "-c", str(settings)], terminal_width=300)
    assert result.exit_code == 2, result.output
    assert f"{okrs}{expected}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("text", "expected"), BAD_SETTINGS, ids=[b[1] for b in BAD_SETTINGS])
def test_every_bad_settings_file_is_a_clear_line_and_exit_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    settings = tmp_path / "linesight.toml"
    settings.write_text(text)
    result = runner.invoke(app, ["run", "-c", str(settings)], terminal_width=300)
    assert result.exit_code == 2, result.output
    assert f"{settings}: " in result.output and expected in result.output
    assert "Traceback" not in result.output
