from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from linesight.errors import ConfigError
from linesight.settings import JiraSource, load_settings

CANARY = "canary-7f3e9b2a-secret-token"

BASE = """\
okrs = "okrs.yaml"

[[sources]]
name = "pay"
kind = "jira"
url = "https://example.atlassian.net"
user = "me@example.com"
token_env = "PAY_TOKEN"
projects = ["PAY"]

[[sources]]
name = "fab"
kind = "azure-devops"
url = "https://dev.azure.com/contoso"
project = "Fabrikam"
token_env = "ADO_TOKEN"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "linesight.toml"
    path.write_text(text)
    return path


def test_file_env_and_overrides_precedence(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "\n[writeback]\nmax_writes = 10\n")
    dotenv = tmp_path / ".env"
    dotenv.write_text("PAY_TOKEN=from-dotenv\nLINESIGHT_WRITEBACK__MAX_WRITES=20\n")
    settings = load_settings(path, environ={}, dotenv=dotenv)
    assert settings.writeback.max_writes == 20  # .env beats the file
    pay = settings.source("pay")
    assert isinstance(pay, JiraSource)
    assert pay.token is not None and pay.token.get_secret_value() == "from-dotenv"
    settings = load_settings(
        path,
        environ={"PAY_TOKEN": "from-env", "LINESIGHT_WRITEBACK__MAX_WRITES": "30"},
        dotenv=dotenv,
    )
    assert settings.writeback.max_writes == 30  # the environment beats .env
    assert settings.source("pay").token.get_secret_value() == "from-env"  # type: ignore[union-attr]
    assert settings.source("fab").token is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BASE + "\n[writeback]\nmax_writs = 3\n", "writeback.max_writs: unknown setting"),
        (BASE.replace('kind = "jira"', 'kind = "gitlab"'), "sources.0: Input tag 'gitlab'"),
        (BASE.replace('projects = ["PAY"]', ""), "needs 'projects' or 'jql'"),
        (BASE.replace("https://example.atlassian.net", "https://me:pw@x.net"), "credentials in"),
        (BASE + '\n[analysis]\nwip_level = "team"\n', "analysis.wip_level"),
        (BASE.replace('name = "fab"', 'name = "pay"'), "two sources are named 'pay'"),
        (BASE.replace('token_env = "PAY_TOKEN"', 'token = "abc"'), "tokens do not belong"),
        ("okrs = [", "invalid TOML"),
    ],
)
def test_bad_settings_name_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={}, dotenv=None)
    assert str(info.value).startswith(str(path)), info.value
    assert expected in str(info.value)


def test_named_settings_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such settings file"):
        load_settings(tmp_path / "missing.toml", environ={}, dotenv=None)


def test_token_never_shown_logged_or_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path, BASE)
    caplog.set_level(logging.DEBUG)
    settings = load_settings(path, environ={"PAY_TOKEN": CANARY}, dotenv=None)
    assert CANARY not in json.dumps(settings.masked())
    assert CANARY not in repr(settings) and CANARY not in str(settings)
    assert settings.masked()["sources"][0]["token"] == "**********"
    assert CANARY not in settings.model_dump_json()
    bad = _write(tmp_path, BASE + "\n[writeback]\nmax_writes = -1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(bad, environ={"PAY_TOKEN": CANARY}, dotenv=None)
    assert CANARY not in str(info.value)
    assert CANARY not in caplog.text
