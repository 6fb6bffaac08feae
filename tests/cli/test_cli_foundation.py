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
