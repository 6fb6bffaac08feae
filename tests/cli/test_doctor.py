from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from linesight.cli import app
from linesight.sandbox.generator import generate_dataset, render_settings, write_org
from linesight.testing.plugin import SandboxFactory

runner = CliRunner()


@pytest.fixture
def org(tmp_path: Path, sandbox_factory: SandboxFactory):  # type: ignore[no-untyped-def]
    generated = generate_dataset(120, 3)
    write_org(generated, tmp_path)
    with sandbox_factory(generated.dataset) as server:
        facts = generated.facts | {"base_url": server.url}
        settings = tmp_path / "linesight.toml"
        settings.write_text(render_settings(facts, tmp_path))
        yield settings, server


def test_doctor_passes_on_a_healthy_sandbox(org, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    settings, _ = org
    monkeypatch.setenv("LINESIGHT_SANDBOX_TOKEN", "sandbox-token")
    result = runner.invoke(app, ["doctor", "-c", str(settings)], terminal_width=200)
    assert result.exit_code == 0, result.output
    for expected in ("cloud", "dc", "contoso", "credentials", "permissions:PAY", "kr_field"):
        assert expected in result.output
    assert "FAIL" not in result.output


def test_doctor_names_the_bad_token_and_exits_1(org, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    settings, _ = org
    monkeypatch.setenv("LINESIGHT_SANDBOX_TOKEN", "canary-doctor-wrong-token")
    result = runner.invoke(app, ["doctor", "-c", str(settings)], terminal_width=200)
    assert result.exit_code == 1
    assert result.output.count("FAIL") == 3  # each of the three sources says so
    assert "rejected the credentials (401)" in result.output
    assert "LINESIGHT_SANDBOX_TOKEN" in result.output
    assert "canary-doctor-wrong-token" not in result.output


def test_doctor_without_token_says_which_variable(org, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    settings, _ = org
    monkeypatch.delenv("LINESIGHT_SANDBOX_TOKEN", raising=False)
    result = runner.invoke(app, ["doctor", "-c", str(settings)], terminal_width=200)
    assert result.exit_code == 1
    assert "LINESIGHT_SANDBOX_TOKEN is not set" in result.output
