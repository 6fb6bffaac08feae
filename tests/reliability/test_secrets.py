"""Secrets: a canary token set as the sources' token never shows up anywhere linesight writes —
stdout, stderr (``-vv``, text and JSON logs), the output folder, the state folder (SQLite bytes,
WAL, the azure-devops SDK cache) or exception text — whether the run succeeds or fails.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path

import pytest

from linesight.errors import LinesightError
from linesight.okrs import load_okrs
from linesight.pipeline import run_job
from linesight.retry import RetryPolicy
from linesight.sandbox.generator import TOKEN_ENV
from linesight.sandbox.wire import DEFAULT_USER
from linesight.settings import load_settings
from tests.reliability.conftest import OrgDir, cli, cli_env, explain, free_port

CANARY = "canary-5e1f0c9a7d3b4e21a8f6"


def _forms(secret: str) -> list[bytes]:
    """The secret as it could leak: raw, and inside the Basic auth headers both clients send."""
    forms = [secret.encode()]
    for userinfo in (f"{DEFAULT_USER}:{secret}", f":{secret}", f"{secret}:"):
        encoded = base64.b64encode(userinfo.encode())
        forms += [encoded, encoded.rstrip(b"=")]
    return forms


def _assert_clean(where: str, data: bytes) -> None:
    for form in _forms(CANARY):
        assert form not in data, f"the token leaked into {where} (as {form[:12]!r}...)"


def _assert_tree_clean(*folders: Path) -> int:
    files = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                _assert_clean(str(path), path.read_bytes())
                files += 1
    return files


def _run(org: OrgDir, *args: str | Path, token: str = CANARY) -> tuple[int, str]:
    result = cli(*args, cwd=org.root, env=cli_env(token=token))
    _assert_clean(f"the output of {args}", (result.stdout + result.stderr).encode())
    return result.returncode, explain(result)


def _outcome_text(lines: Iterable[str]) -> bytes:
    return "\n".join(lines).encode()


def test_a_successful_run_with_write_back_never_shows_the_token(org_dir: OrgDir) -> None:
    with org_dir.sandbox(token=CANARY):
        code, text = _run(org_dir, "-vv", "run", "--apply", "--force", "--config", org_dir.config)
        assert code == 0, text
        assert "write-back:" in text
        code, text = _run(
            org_dir, "-vv", "--log-format", "json", "run", "--full", "--config", org_dir.config
        )
        assert code == 0, text
        assert '"level": "debug"' in text or '"level": "info"' in text
        for command in (("report",), ("export", "--format", "dot"), ("plan",), ("doctor",)):
            _run(org_dir, "-vv", *command, "--config", org_dir.config)
    assert (org_dir.state_dir / "azure-devops-cache").is_dir()
    assert _assert_tree_clean(org_dir.output_dir, org_dir.state_dir) >= 5


def test_failing_runs_never_show_the_token(org_dir: OrgDir, tmp_path: Path) -> None:
    # 1. the tracker refuses the token (401 on every source)
    with org_dir.sandbox(token="the-right-token"):
        code, text = _run(org_dir, "-vv", "run", "--apply", "--config", org_dir.config)
        assert code == 1, text
        assert "401" in text or "credentials" in text.lower() or "auth" in text.lower(), text
        code, text = _run(
            org_dir, "-vv", "--log-format", "json", "sync", "--config", org_dir.config
        )
        assert code == 1, text

    # 2. a source is gone (the server answers 404 for the site); the others answer. A refused
    # connection is retried for half a minute, so that case runs in-process below, without
    # the waits.
    down = org_dir.config.read_text(encoding="utf-8").replace("/jira/dc", "/jira/gone")
    down_config = tmp_path / "down.toml"
    down_config.write_text(down, encoding="utf-8")
    with org_dir.sandbox(token=CANARY):
        code, text = _run(org_dir, "-vv", "run", "--apply", "--force", "--config", down_config)
        assert code == 1, text
        assert "dc" in text

    # 3. a bad OKR file
    bad_okrs = tmp_path / "bad-okrs.yaml"
    bad_okrs.write_text(
        f"cycle: 2026-Q4\nobjectives:\n  - id: O1\n    title: {CANARY[:3]}\n    wip_limit: x\n"
    )
    code, text = _run(org_dir, "-vv", "run", "--config", org_dir.config, "--okrs", bad_okrs)
    assert code == 2, text

    _assert_tree_clean(org_dir.output_dir, org_dir.state_dir)


@pytest.mark.parametrize("failure", ["wrong-token", "source-down"])
def test_exception_and_report_text_never_holds_the_token(
    org_dir: OrgDir, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    # the retries' waits are not what this test is about: a refused connection retries at once
    monkeypatch.setattr(RetryPolicy, "wait_for", lambda self, state: 0.0)
    monkeypatch.setenv(TOKEN_ENV, CANARY)
    monkeypatch.setenv("AZURE_DEVOPS_CACHE_DIR", str(org_dir.state_dir / "azure-devops-cache"))
    config = org_dir.config
    if failure == "source-down":
        text = config.read_text(encoding="utf-8").replace(
            f"127.0.0.1:{org_dir.port}/", f"127.0.0.1:{free_port()}/"
        )
        config = org_dir.root / "down.toml"
        config.write_text(text, encoding="utf-8")
    settings = load_settings(config, environ={TOKEN_ENV: CANARY}, dotenv=None)
    _assert_clean("repr(settings)", repr(settings).encode())
    _assert_clean("settings.masked()", str(settings.masked()).encode())
    okrs = load_okrs(settings.okrs)
    token = "the-right-token" if failure == "wrong-token" else CANARY
    with org_dir.sandbox(token=token):
        try:
            outcome = run_job(settings, okrs, apply=True, force=True)
        except LinesightError as exc:  # pragma: no cover - the job reports, it should not raise
            _assert_clean("the exception", f"{exc!r} {exc}".encode())
            raise
    assert len(outcome.sync.failed) == 3
    _assert_clean("the job's failures", _outcome_text(outcome.failures))
    _assert_clean("the sync report", repr(outcome.sync).encode())
    _assert_tree_clean(org_dir.output_dir, org_dir.state_dir)
