"""Helpers for the reliability suite: generated organisations, sandboxes, the CLI as a process.

Everything here drives linesight the way a user does — the real CLI in a subprocess, or the
pipeline functions the CLI is made of — against the sandbox on 127.0.0.1, and reads back what
it left behind: the tracker state (``/_sandbox/state``), the SQLite store and the output folder.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from linesight.model import MANAGED_COMMENT_MARKER
from linesight.sandbox import FaultConfig, SandboxServer
from linesight.sandbox.generator import TOKEN_ENV, GeneratedOrg, generate_dataset, write_org
from linesight.sandbox.wire import DEFAULT_TOKEN

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
NOW = datetime(2026, 11, 23, tzinfo=UTC)
ORPHAN_LABEL = "linesight-orphan"
RUN_TIMEOUT_S = 180


def fuzz_examples(default: int) -> int:
    """Hypothesis examples per fuzz test: ``default`` in CI, more with RELIABILITY_FUZZ_EXAMPLES."""
    return int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", default))


def free_port() -> int:
    """A port nobody listens on right now (the dataset's links must know it before start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class OrgDir:
    """A generated organisation written to a folder: dataset, okrs.yaml, linesight.toml."""

    root: Path
    org: GeneratedOrg
    port: int

    @property
    def config(self) -> Path:
        return self.root / "linesight.toml"

    @property
    def okrs(self) -> Path:
        return self.root / "okrs.yaml"

    @property
    def state_dir(self) -> Path:
        return self.root / ".linesight"

    @property
    def output_dir(self) -> Path:
        return self.root / "linesight-out"

    def sandbox(
        self, faults: FaultConfig | None = None, *, token: str = DEFAULT_TOKEN
    ) -> SandboxServer:
        """A fresh sandbox of this organisation on its port (not started)."""
        return SandboxServer(self.org.dataset, port=self.port, faults=faults, token=token)

    def copy_to(self, root: Path) -> OrgDir:
        """The same organisation (same port, same files) in another folder, with fresh state."""
        write_org(self.org, root)
        return OrgDir(root=root, org=self.org, port=self.port)


def okr_variants(org: OrgDir) -> list[str]:
    """The organisation's OKR file, and the same file with its first active objective gone.

    Switching between them turns many items into orphans and back: labels to add and remove,
    comments to create, rewrite and delete.
    """
    full = org.okrs.read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(full)
    active = [o for o in data["objectives"] if str(o.get("cycle", data["cycle"])) == data["cycle"]]
    data["objectives"] = [o for o in data["objectives"] if o is not active[0]]
    return [full, yaml.safe_dump(data, sort_keys=False)]


def make_org(root: Path, items: int, seed: int) -> OrgDir:
    port = free_port()
    org = generate_dataset(items, seed, now=NOW, base_url=f"http://127.0.0.1:{port}")
    write_org(org, root)
    return OrgDir(root=root, org=org, port=port)


@pytest.fixture(scope="package")
def small_org(tmp_path_factory: pytest.TempPathFactory) -> OrgDir:
    """A 300-item organisation over the three trackers (shared; copy it before writing state)."""
    return make_org(tmp_path_factory.mktemp("small-org"), 300, 5)


@pytest.fixture
def org_dir(small_org: OrgDir, tmp_path: Path) -> OrgDir:
    """The small organisation in this test's own folder, with no state yet."""
    return small_org.copy_to(tmp_path / "org")


# --- the CLI as a process --------------------------------------------------------------------


def cli_env(token: str | None = DEFAULT_TOKEN, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: no developer LINESIGHT_* variables, the sandbox token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINESIGHT_")}
    env.pop("CI", None)
    # the CLI keeps the azure-devops SDK's cache in the state folder unless told otherwise
    env.pop("AZURE_DEVOPS_CACHE_DIR", None)
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    if token is not None:
        env[TOKEN_ENV] = token
    env.update(extra)
    return env


def cli(
    *args: str | Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = RUN_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """``python -m linesight ARGS`` in ``cwd``, output captured."""
    return subprocess.run(
        [PYTHON, "-m", "linesight", *map(str, args)],
        cwd=cwd,
        env=dict(env) if env is not None else cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """``python -m linesight ARGS`` started in the background, output captured."""
    return subprocess.Popen(
        [PYTHON, "-m", "linesight", *map(str, args)],
        cwd=cwd,
        env=dict(env) if env is not None else cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


# --- what a run left behind -------------------------------------------------------------------


@dataclass(frozen=True)
class TrackerItem:
    """One item of the tracker state, reduced to what must converge: everything a user sees.

    ``fields`` are the item's fields without the bookkeeping that differs between two runs
    making the same writes (revision numbers, change dates); ``managed`` and ``other`` are the
    comment texts carrying linesight's marker and every other comment, sorted.
    """

    labels: tuple[str, ...]
    managed: tuple[str, ...]
    other: tuple[str, ...]
    fields: str


# Bookkeeping the tracker updates on every write: two runs making the same writes at other
# times (or in another order) differ only here.
_VOLATILE_JIRA = frozenset({"updated", "comment", "lastViewed", "statuscategorychangedate"})
_VOLATILE_ADO = frozenset(
    {
        "System.Rev",
        "System.ChangedDate",
        "System.AuthorizedDate",
        "System.RevisedDate",
        "System.Watermark",
        "System.ChangedBy",
        "System.AuthorizedAs",
        "System.CommentCount",
        "System.PersonId",
        "System.History",
    }
)


def _comment_text(body: Any) -> str:
    return json.dumps(body, sort_keys=True) if not isinstance(body, str) else body


def tracker_items(state: Mapping[str, Any]) -> dict[str, TrackerItem]:
    """``{"<instance>:<key>": TrackerItem}`` for every item of ``/_sandbox/state``."""
    items: dict[str, TrackerItem] = {}
    for name, site in state["jira"].items():
        for issue in site["issues"]:
            fields = issue["fields"]
            container = fields.get("comment")
            comments = container.get("comments", []) if isinstance(container, dict) else []
            texts = [_comment_text(c.get("body")) for c in comments]
            items[f"{name}:{issue['key']}"] = TrackerItem(
                labels=tuple(sorted(fields.get("labels") or [])),
                managed=tuple(sorted(t for t in texts if MANAGED_COMMENT_MARKER in t)),
                other=tuple(sorted(t for t in texts if MANAGED_COMMENT_MARKER not in t)),
                fields=json.dumps(
                    {k: v for k, v in fields.items() if k not in _VOLATILE_JIRA}, sort_keys=True
                ),
            )
    for org, projects in state["azure_devops"].items():
        for payloads in projects.values():
            for payload in payloads:
                fields = payload["fields"]
                texts = [_comment_text(c.get("text")) for c in payload.get("comments", [])]
                tags = fields.get("System.Tags") or ""
                items[f"{org}:{payload['id']}"] = TrackerItem(
                    labels=tuple(sorted(t.strip() for t in tags.split(";") if t.strip())),
                    managed=tuple(sorted(t for t in texts if MANAGED_COMMENT_MARKER in t)),
                    other=tuple(sorted(t for t in texts if MANAGED_COMMENT_MARKER not in t)),
                    fields=json.dumps(
                        {k: v for k, v in fields.items() if k not in _VOLATILE_ADO},
                        sort_keys=True,
                    ),
                )
    return items


def has_label(item: TrackerItem, label: str = ORPHAN_LABEL) -> bool:
    return label.casefold() in {x.casefold() for x in item.labels}


def stored_items(state_dir: Path) -> dict[tuple[str, str], Any]:
    """Every stored item, decoded, read straight from the SQLite file (not through Store).

    Each helper opens its own connection and closes it: a connection left open across another
    process's crash would read through a stale view of the WAL.
    """
    with closing(sqlite3.connect(state_dir / "linesight.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT source, key, payload FROM items").fetchall()
    return {(source, key): json.loads(payload) for source, key, payload in rows}


def latest_analysis(state_dir: Path) -> dict[str, Any] | None:
    """The newest snapshot's result, validated as an AnalysisResult (None without snapshots)."""
    from linesight.analysis.result import AnalysisResult

    with closing(sqlite3.connect(state_dir / "linesight.db")) as conn:
        row = conn.execute("SELECT result FROM snapshots ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    data: dict[str, Any] = json.loads(row[0])
    AnalysisResult.model_validate(data)
    return data


def orphan_refs(result: Mapping[str, Any]) -> set[str]:
    return {f"{o['source']}:{o['key']}" for o in result["orphans"]}
